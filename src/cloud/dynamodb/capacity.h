/*
 * capacity.h — ConsumedCapacity as DynamoDB computes and reports it.
 *
 * Rules (AWS developer guide, "Read/write capacity mode" and the item-size page):
 *   - a read costs 1 unit per 4 KB (4096 bytes) of item data, rounded up, at least 1 —
 *     also when no item is found; an eventually consistent read costs half that; a read in
 *     a transaction costs twice that. Query and Scan add up the sizes of every item they
 *     read (before any filter) and round the sum once; BatchGetItem and TransactGetItems
 *     round each item on its own.
 *   - a write costs 1 unit per 1 KB (1024 bytes), rounded up, at least 1; twice that in a
 *     transaction. PutItem and UpdateItem charge the larger of the item before and after,
 *     DeleteItem the deleted item; a write to an index charges the index entry (a change
 *     of index key value is a delete plus a put).
 *   - ReturnConsumedCapacity=TOTAL reports {"TableName", "CapacityUnits"};
 *     INDEXES adds "Table" and "GlobalSecondaryIndexes" / "LocalSecondaryIndexes" maps of
 *     {"CapacityUnits"}. Only transactional operations also split the units into
 *     ReadCapacityUnits / WriteCapacityUnits (ddb_capacity.split).
 * Pure functions; a struct ddb_capacity belongs to one request.
 */
#ifndef HAAR_CLOUD_DYNAMODB_CAPACITY_H
#define HAAR_CLOUD_DYNAMODB_CAPACITY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum ddb_read_mode {
    DDB_READ_EVENTUAL,      /* ConsistentRead false (the default) */
    DDB_READ_STRONG,        /* ConsistentRead true */
    DDB_READ_TRANSACTIONAL, /* TransactGetItems, or a ConditionCheck in a transaction */
};

/* Read units for bytes of item data read in one unit of rounding (see above). */
double ddb_read_units(size_t bytes, enum ddb_read_mode mode);

/* Write units for an item (or index entry) of bytes. */
double ddb_write_units(size_t bytes, bool transactional);

enum ddb_cap_kind { DDB_CAP_READ, DDB_CAP_WRITE };

struct ddb_cap_index {
    char *name; /* owned */
    bool global;
    double read, write;
};

/* The capacity one request consumed on one table and its indexes. */
struct ddb_capacity {
    char *table; /* owned */
    double read, write;
    struct ddb_cap_index *indexes; /* owned, in the order first charged */
    size_t nindexes;
    bool split; /* report ReadCapacityUnits / WriteCapacityUnits too (transactions) */
};

/* Starts an empty account for table (copied). Cannot fail but for memory: table NULL then. */
void ddb_capacity_init(struct ddb_capacity *c, const char *table);

/* Frees what c owns; accepts NULL. */
void ddb_capacity_destroy(struct ddb_capacity *c);

/* Charges units to the table. */
void ddb_capacity_add_table(struct ddb_capacity *c, enum ddb_cap_kind kind, double units);

/* Charges units to an index (created on first use). Returns 0 or -1 (out of memory). */
int ddb_capacity_add_index(struct ddb_capacity *c, const char *index, bool global,
                           enum ddb_cap_kind kind, double units);

/* The ConsumedCapacity object (TOTAL, or INDEXES when indexes is true). New reference, or
 * NULL when out of memory. */
json_t *ddb_capacity_to_json(const struct ddb_capacity *c, bool indexes);

#endif
