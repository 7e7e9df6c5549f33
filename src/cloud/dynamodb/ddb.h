/*
 * ddb.h — the DynamoDB table engine: tables, items, indexes, TTL and transactions on the
 * store (src/cloud/store), behind one call per operation. No HTTP types: the JSON 1.0
 * adapter (proto_json.c) parses the wire, hands the request object here and writes the
 * answer this module produces.
 *
 * A call takes DynamoDB's request object (the JSON body, already parsed) and completes
 * later, never from inside ddb_call: reads from a deferred timer, writes once their store
 * batch is durable (a 200 to a write means it survives kill -9). The reply is the answer's
 * JSON body, or an error row of core/err.h with DynamoDB's message and, where DynamoDB adds
 * members to an error (Item, CancellationReasons), those members as JSON text.
 *
 * Storage (see storage.c): items live in SQLite, not in memory, keyed so that the B-tree's
 * order is DynamoDB's order (partition hash, then the order-preserving key bytes of
 * value.h); index entries likewise; writes still being committed are kept in an in-memory
 * overlay that every read and condition consults first, so two conditional writes of one
 * key never both pass. Table metadata is in memory (and in the store).
 *
 * Loop thread only; not thread-safe.
 */
#ifndef HAAR_CLOUD_DYNAMODB_DDB_H
#define HAAR_CLOUD_DYNAMODB_DDB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cloud/dynamodb/shape.h"
#include "core/err.h"

struct ddb;
struct store;

struct ddb_options {
    const char *region;  /* "eu-west-1" (ARNs) */
    const char *account; /* "000000000000" */
};

/*
 * Opens the engine on st (borrowed; it must outlive the engine): applies its schema and
 * loads every table's metadata (items stay on disk). Returns a new engine, or NULL with a
 * message in err.
 */
struct ddb *ddb_new(struct store *st, const struct ddb_options *o, char *err, size_t errlen);

/* Starts the background work of restored tables (TTL sweeps, index backfills, purges of
 * deleted tables). Call once after provisioning. */
void ddb_restore(struct ddb *db);

/* Frees the engine; calls in flight must have completed (store_flush first). Accepts NULL. */
void ddb_free(struct ddb *db);

/* The answer to a call. Everything is borrowed for the duration of the callback. */
struct ddb_reply {
    enum err err;        /* ERR_OK, or the error's row */
    const char *message; /* the error's message; NULL when the error has none */
    const char *body;    /* ERR_OK: the answer's JSON object. An error: extra members of the
                          * error object as ",\"Item\":{…}" text, or NULL */
    size_t len;
};

typedef void (*ddb_reply_fn)(void *arg, const struct ddb_reply *rep);

/*
 * Runs operation op on request req (a JSON object; the reference is taken). done(arg, rep)
 * runs exactly once, later, on the loop. Validation follows DynamoDB's order: Coral's type
 * checks (SerializationException), the constraint checks (ValidationException), the
 * operation's own checks, then existence (ResourceNotFoundException), then conditions.
 */
void ddb_call(struct ddb *db, enum ddb_op op, json_t *req, ddb_reply_fn done, void *arg);

/*
 * The tasks table of an environment, created when absent (existing items are kept): hash
 * key hash_key (S), the GSI index on index_hash + index_range (both S, projection ALL),
 * PAY_PER_REQUEST; then TTL on ttl_attribute (NULL: none) and point-in-time recovery as
 * given, deletion protection as given, and the tags (a JSON object of key -> value, may be
 * NULL). Runs synchronously (at start, before the listeners open). Returns 0, or -1 with a
 * message in err.
 */
struct ddb_table_spec {
    const char *name;
    const char *hash_key;
    const char *index_name;
    const char *index_hash, *index_range;
    const char *ttl_attribute;
    bool pitr;
    bool deletion_protection;
    const json_t *tags;
};
int ddb_provision(struct ddb *db, const struct ddb_table_spec *spec, char *err, size_t errlen);

/* A summary for /_haar/health: {"tables": n, "pending_writes": n}. New reference. */
json_t *ddb_health_json(const struct ddb *db);

#endif
