/*
 * ddb_int.h — the engine's internals, shared by its files and not for other modules:
 *   ddb.c       the call path (validation entry, deferred replies), lifecycle, provisioning
 *   table.c     table metadata and the control plane (CreateTable … UpdateTimeToLive, tags)
 *   storage.c   SQLite tables, storage keys, the overlay of pending writes, cursors, batches
 *   items.c     PutItem, GetItem, UpdateItem, DeleteItem, BatchGetItem, BatchWriteItem
 *   query.c     Query and Scan
 *   transact.c  TransactWriteItems, TransactGetItems (idempotency tokens)
 *   ttl.c       expiry of items on a CLOCK timer
 *   partiql.c   the PartiQL subset: lexer, parser, rendering as expressions (partiql.h)
 *   partiql_ops.c  ExecuteStatement / BatchExecuteStatement through the operations above
 *   shape.c     every operation's request members and Coral's type/constraint passes
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_DYNAMODB_DDB_INT_H
#define HAAR_CLOUD_DYNAMODB_DDB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/dynamodb/capacity.h"
#include "cloud/dynamodb/ddb.h"
#include "cloud/dynamodb/error.h"
#include "cloud/dynamodb/expr.h"
#include "cloud/dynamodb/legacy.h"
#include "cloud/dynamodb/value.h"
#include "core/buf.h"
#include "core/timer.h"

#define DDB_PAGE_BYTES  (1024 * 1024) /* Query/Scan pages */
#define DDB_MAX_INDEXES 20            /* GSIs per table (AWS's default quota) */
#define DDB_MAX_LSI     5
#define DDB_OUT_MAX     (64 * 1024 * 1024) /* an answer's bytes */
#define DDB_KEY_BYTES   2048               /* a key part's encoded bytes at most */

enum ddb_proj { DDB_PROJ_ALL, DDB_PROJ_KEYS_ONLY, DDB_PROJ_INCLUDE };
enum ddb_status { DDB_ACTIVE, DDB_CREATING, DDB_DELETING, DDB_UPDATING };

/* ---- metadata ---- */

struct ddb_index {
    char *name;
    bool global;
    int64_t xid; /* storage id of its entries */
    char *hash_name, *range_name;
    struct ddb_key_schema ks; /* names point at hash_name / range_name */
    enum ddb_proj proj;
    char **nonkey; /* INCLUDE's NonKeyAttributes */
    size_t nnonkey;
    int64_t rcu, wcu;
    enum ddb_status status;
    int64_t items, bytes;
    /* backfill of a new GSI over existing items: the next base key to read */
    bool backfill_started;
    uint32_t bf_h;
    struct buf bf_pk, bf_sk;
};

struct ddb_pend;

struct ddb_table {
    char *name;
    int64_t tid; /* storage id of its items */
    char id[40]; /* TableId (a UUID) */
    int64_t created_ms;
    char *hash_name, *range_name;
    struct ddb_key_schema ks;
    json_t *attr_defs; /* [{"AttributeName","AttributeType"}] as given */
    struct ddb_index *idx;
    size_t nidx;
    bool ppr; /* BillingMode PAY_PER_REQUEST */
    int64_t rcu, wcu;
    int64_t ppr_since_ms; /* LastUpdateToPayPerRequestDateTime */
    json_t *stream;       /* StreamSpecification as given, or NULL */
    char stream_label[32];
    json_t *sse;       /* SSESpecification as given, or NULL */
    char *table_class; /* NULL: STANDARD */
    bool deletion_protection;
    bool ttl_enabled;
    char *ttl_attr;
    bool pitr;
    int64_t pitr_since_ms;
    json_t *tags; /* [{"Key","Value"}] */
    int64_t items, bytes;
    enum ddb_status status;
    /* writes in flight on this table (overlay entries) */
    struct ddb_pend *pend;
    size_t npend;
    int busy_ops; /* control-plane changes being committed */
};

/* ---- storage keys ---- */

/* Where an item or index entry sits: partition hash, then the key parts' bytes. */
struct ddb_skey {
    uint32_t h;
    uint16_t pklen, sklen;
    uint8_t pk[DDB_KEY_BYTES];
    uint8_t sk[DDB_KEY_BYTES];
};

/* The storage key of map m (an item or a Key; its key attributes already checked) under
 * schema ks. Returns 0, or -1 when an attribute is missing or not S, N or B. */
int ddb__skey(const struct ddb_key_schema *ks, const struct ddb_value *m, struct ddb_skey *out);

/* The partition hash of a hash key's bytes. Stable forever (it orders stored rows). */
uint32_t ddb__hash(const uint8_t *p, size_t n);

/* True when a and b are the same storage key. */
static inline bool ddb__skey_equal(const struct ddb_skey *a, const struct ddb_skey *b)
{
    return a->h == b->h && a->pklen == b->pklen && a->sklen == b->sklen &&
           memcmp(a->pk, b->pk, a->pklen) == 0 && memcmp(a->sk, b->sk, a->sklen) == 0;
}

/* A pending (not yet committed) version of an item. */
struct ddb_pend {
    struct ddb_pend *hnext;         /* overlay hash chain */
    struct ddb_pend *tnext, *tprev; /* the table's list */
    struct ddb_table *t;
    uint32_t h;
    uint16_t pklen, sklen;
    uint8_t *key;          /* pk bytes then sk bytes */
    struct ddb_value item; /* DDB_NONE: deleted */
    uint32_t inflight;     /* batches still committing that wrote it */
};

/* ---- the engine ---- */

struct ddb_call;
struct store_batch;

struct ddb {
    struct store *store;
    char region[64], account[16];
    struct ddb_table **tables; /* sorted by name */
    size_t ntables, ctables;
    int64_t next_id;
    struct ddb_pend **overlay; /* hash table */
    size_t overlay_cap, npend;
    struct timer ttl_timer; /* TIMER_CLOCK */
    int64_t ttl_due_ms;     /* when ttl_timer is due; -1 none */
    bool ttl_sweeping;
    struct timer bg_timer; /* TIMER_REAL: backfills and purges */
    bool restored;
    struct ddb_token *tokens; /* TransactWriteItems ClientRequestTokens */
    struct timer token_timer; /* TIMER_CLOCK */
    struct buf scratch;       /* reused for packing items */
    struct ddb_sql *sql;
};

/* One call in flight. */
struct ddb_call {
    struct ddb *db;
    enum ddb_op op;
    json_t *req;
    ddb_reply_fn done;
    void *arg;
    struct ddb_err err;
    struct buf out;           /* the answer, or an error's extra members */
    struct timer_defer ready; /* its answer, waiting for the loop's next turn (owner: db) */
    void *state;              /* an operation's own state */
    void (*state_free)(void *state);
};

/* Records an error (printf) on the call; returns -1. */
int ddb__fail(struct ddb_call *c, enum err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Moves err into the call's error, with DynamoDB's "1 validation error detected: " prefix
 * when prefix is true and the message does not already carry it. Returns -1. */
int ddb__fail_err(struct ddb_call *c, struct ddb_err *err, bool prefix);

/* Answers the call on the loop's next turn (timer_defer) and frees it. */
void ddb__finish(struct ddb_call *c);

/* Answers the call now (from a completion) and frees it. */
void ddb__reply(struct ddb_call *c);

/* A write batch's completion for call arg (a struct ddb_call): InternalServerError (the
 * answer written so far dropped) when the batch failed; then the answer. */
void ddb__write_done(void *arg, int rc);

/* ResourceNotFoundException "Requested resource not found" (with ": Table: x not found"
 * when table_msg). Returns -1. */
int ddb__not_found(struct ddb_call *c, const char *name, bool table_msg);

/* ---- tables (table.c) ---- */

struct ddb_table *ddb__table(const struct ddb *db, const char *name);
/* The table an item operation names, or NULL with c failed (ResourceNotFoundException
 * "Requested resource not found"). */
struct ddb_table *ddb__table_of(struct ddb_call *c, const char *name);
struct ddb_index *ddb__index(const struct ddb_table *t, const char *name);
void ddb__table_free(struct ddb_table *t);
int ddb__tables_load(struct ddb *db, char *err, size_t errlen);
/* The table's ARN into out. */
void ddb__table_arn(const struct ddb *db, const struct ddb_table *t, char *out, size_t cap);
/* True when attribute name/len is one of t's key attributes or an index key attribute. */
bool ddb__is_key_attr(const struct ddb_table *t, const char *name, size_t len);
void ddb__op_table(struct ddb_call *c); /* the control-plane operations */

/* ---- storage (storage.c) ---- */

int ddb__storage_open(struct ddb *db, char *err, size_t errlen);
void ddb__storage_close(struct ddb *db);

/* Persists a table's metadata (and counters rows) in batch b. */
int ddb__meta_put(struct ddb *db, struct store_batch *b, const struct ddb_table *t);
int ddb__meta_del(struct ddb *db, struct store_batch *b, const struct ddb_table *t);
/* Queues the removal of every row of storage id id (a table's items or an index's entries)
 * in b; the rows go in the background. */
int ddb__purge_add(struct ddb *db, struct store_batch *b, int64_t id, bool index);
void ddb__bg_kick(struct ddb *db);

/* The current version of the item at k in t: the overlay's, else the committed one. *found
 * false when there is none (out then DDB_NONE). Returns 0, or -1 on a storage error. */
int ddb__get(struct ddb *db, struct ddb_table *t, const struct ddb_skey *k, struct ddb_value *out,
             bool *found);

/* The overlay's entry for k in t, or NULL. */
struct ddb_pend *ddb__pend_find(struct ddb *db, const struct ddb_table *t,
                                const struct ddb_skey *k);

/* The storage key of overlay entry p into *k. */
void ddb__pend_key(const struct ddb_pend *p, struct ddb_skey *k);

/* A write batch: any number of item writes, committed all or nothing. */
struct ddb_wb;
struct ddb_wb *ddb__wb_new(struct ddb *db);
void ddb__wb_free(struct ddb_wb *wb); /* an unsubmitted batch */
/*
 * Writes the new version newv (consumed; NULL deletes) of the item at k in t, whose
 * current version is old (NULL when none): the item row, index entries, TTL entries and
 * counters, and the overlay. Charges write capacity to cap when not NULL. Returns 0 or -1
 * (out of memory: the batch then fails).
 */
int ddb__wb_write(struct ddb_wb *wb, struct ddb_table *t, const struct ddb_skey *k,
                  const struct ddb_value *old, struct ddb_value *newv, struct ddb_capacity *cap,
                  bool transactional);
/* Submits (and takes) the batch; done(arg, rc) runs once it is durable (rc 0) or failed. */
void ddb__wb_submit(struct ddb_wb *wb, void (*done)(void *arg, int rc), void *arg);
/* The batch's store batch, for extra statements (metadata). */
struct store_batch *ddb__wb_batch(struct ddb_wb *wb);

/* ---- cursors (storage.c) ---- */

struct ddb_cursor {
    struct ddb_table *t;
    struct ddb_index *x; /* NULL: the base table */
    bool scan;
    uint32_t h_lo, h_hi; /* scan: the segment's partition hashes, inclusive */
    /* query: the partition */
    uint32_t h;
    const uint8_t *pk;
    size_t pklen;
    /* query: bounds on the range key bytes */
    bool has_lo, lo_incl, has_hi, hi_incl;
    const struct buf *lo, *hi;
    bool forward;
    /* exclusive start: the full position (index: index keys then base keys) */
    bool has_start;
    struct ddb_skey start_base; /* the base key of the start item */
    struct ddb_skey start_idx;  /* index: the index key of the start item */
};

/* Called for each item in order; item is borrowed (copy what is kept). base is the item's
 * storage key. Return false to stop. */
typedef bool (*ddb_cursor_fn)(void *arg, const struct ddb_skey *base, const struct ddb_value *item);

/* Walks the cursor's rows, committed and pending merged. Returns 0 or -1 (storage error). */
int ddb__cursor_run(struct ddb *db, const struct ddb_cursor *cur, ddb_cursor_fn fn, void *arg);

/* The index key of item under index x (false when the item is not in the index). */
bool ddb__index_key(const struct ddb_index *x, const struct ddb_value *item, struct ddb_skey *out);

/* The item's projection into index x (a new M value in *out). Returns 0 or -1 (OOM). */
int ddb__index_project(const struct ddb_table *t, const struct ddb_index *x,
                       const struct ddb_value *item, struct ddb_value *out);

/* The background steps: backfill a creating index, purge deleted rows. */
void ddb__backfill_step(struct ddb *db, struct ddb_table *t, struct ddb_index *x);

/* ---- items (items.c), query (query.c), transactions (transact.c), ttl (ttl.c) ---- */

void ddb__op_item(struct ddb_call *c);
void ddb__op_batch(struct ddb_call *c);
void ddb__op_query(struct ddb_call *c);
void ddb__op_transact(struct ddb_call *c);
void ddb__op_partiql(struct ddb_call *c);

/* The expression members an operation takes, for ddb__compile_exprs. */
enum {
    DDB_X_UPDATE = 1 << 0,     /* UpdateExpression */
    DDB_X_CONDITION = 1 << 1,  /* ConditionExpression */
    DDB_X_KEY = 1 << 2,        /* KeyConditionExpression */
    DDB_X_FILTER = 1 << 3,     /* FilterExpression */
    DDB_X_PROJECTION = 1 << 4, /* ProjectionExpression */
    DDB_X_VALUES = 1 << 5,     /* ExpressionAttributeValues (names are always taken) */
};

/* Compiles the expressions of request (or request element) req that members (DDB_X_* bits)
 * name, with its ExpressionAttributeNames, into *out. Returns 0 or -1 (c failed, its message
 * prefixed with "1 validation error detected: " when prefix). */
int ddb__compile_exprs(struct ddb_call *c, const json_t *req, unsigned members,
                       struct ddb_expr_set *out, bool prefix);

/* Shared by the item operations: a decoded Key parameter checked against t's schema ("The
 * provided key element does not match the schema", …) and its storage key into *sk.
 * Returns 0 or -1 (c failed). */
int ddb__decode_key(struct ddb_call *c, struct ddb_table *t, const struct ddb_value *key,
                    struct ddb_skey *sk);

/* Checks an item about to be written: key attributes, index key attributes, size, depth.
 * update: the UpdateItem wording. Returns 0 or -1 (c failed). */
int ddb__check_item(struct ddb_call *c, struct ddb_table *t, const struct ddb_value *item,
                    bool update);

/* The request's condition or filter on item (NULL: none): the legacy one (Expected,
 * QueryFilter, ScanFilter) when given, else expression e; true when neither is. */
bool ddb__cond_holds(const struct ddb_expr *e, const struct ddb_legacy *legacy,
                     const struct ddb_value *item);

/* item (not NULL) projected into *out by projection when compiled, else by AttributesToGet
 * (a copy of the whole item without). Returns 0 or -1 (out of memory). */
int ddb__project(const struct ddb_expr *projection, const struct ddb_legacy *legacy,
                 const struct ddb_value *item, struct ddb_value *out);

/* Writes an item as DynamoDB's JSON into out (an M value, unwrapped). */
int ddb__write_item(struct buf *out, const struct ddb_value *item);

/* Appends ,"ConsumedCapacity":{…} (or the bare object when bare) to out for rcc
 * ("TOTAL"/"INDEXES"/NULL: nothing). */
void ddb__write_capacity(struct buf *out, const struct ddb_capacity *cap, const char *rcc,
                         bool bare);

/* Room for one more element in the array arr of n elements of size bytes and capacity *cap:
 * arr itself while n < *cap, else arr reallocated to twice *cap (first when *cap is 0) with
 * *cap updated. NULL when out of memory (arr is then unchanged, still the caller's). */
static inline void *ddb__grow(void *arr, size_t n, size_t *cap, size_t size, size_t first)
{
    if (n < *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : first;
    void *p = realloc(arr, ncap * size);
    if (p != NULL)
        *cap = ncap;
    return p;
}

/* Appends "ConsumedCapacity":[…], one object per account of caps[0..n), after a ',' when
 * comma, when the request's ReturnConsumedCapacity asks for it. Returns whether it did. */
bool ddb__write_capacity_list(struct buf *out, const json_t *req, const struct ddb_capacity *caps,
                              size_t n, bool comma);

/* Appends "ItemCollectionMetrics":{} (after a ',' when comma) when the request's
 * ReturnItemCollectionMetrics is SIZE: what BatchWriteItem and TransactWriteItems answer. */
void ddb__write_no_metrics(struct buf *out, const json_t *req, bool comma);

/* ReturnConsumedCapacity of a request: NULL for NONE/absent. */
const char *ddb__rcc(const json_t *req);

/* The string member o[name], or NULL (absent, null, not a string). Borrowed. */
static inline const char *ddb__str(const json_t *o, const char *name)
{
    return json_string_value(ddb_member(o, name));
}

/* A Boolean member as Coral reads it (true/false, or "true"/"yes"/"1"…). */
bool ddb__bool(const json_t *req, const char *name, bool dflt);

/* An integer member (floored); dflt when absent. */
long long ddb__int(const json_t *req, const char *name, long long dflt);

/* TTL: the epoch seconds an item expires at under t's TTL, or -1. */
int64_t ddb__ttl_of(const struct ddb_table *t, const struct ddb_value *item);
/* A written TTL entry commits: make sure the sweep runs by then. */
void ddb__ttl_schedule(struct ddb *db, int64_t at_s);
void ddb__ttl_start(struct ddb *db);

/* ClientRequestTokens (transact.c) */
void ddb__tokens_free(struct ddb *db);

#endif
