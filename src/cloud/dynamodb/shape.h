/*
 * shape.h — the members every DynamoDB operation takes, as tables, and the two generic
 * passes DynamoDB's front end (Coral) runs over a request before the operation sees it:
 *
 *   1. types (ddb_shape_check_types): a member of the wrong JSON type is a
 *      com.amazon.coral.service#SerializationException, worded as Coral words it ("class
 *      java.lang.Boolean can not be converted to an String", "Expected list or null",
 *      "Start of structure or map found where not expected." …). The first one found, in
 *      the order the members are declared, wins. AttributeValues are checked by value.h.
 *   2. constraints (ddb_shape_validate): "The parameter 'TableName' is required but was not
 *      present in the request" and "TableName must be at least 3 characters long and at
 *      most 255 characters long" (table-name members of the control plane) first, alone;
 *      then every failed constraint of every member (at most 10), joined as DynamoDB joins
 *      them: "2 validation errors detected: Value null at 'tableName' failed to satisfy
 *      constraint: Member must not be null; Value '0' at 'limit' failed to satisfy
 *      constraint: Member must have value greater than or equal to 1".
 *
 * The member order and the order of the checks of one member follow dynalite's tables,
 * which were written against DynamoDB; members dynalite does not know follow the service
 * model's constraints. Members the table does not name are ignored, as Coral ignores them.
 * Constant data and pure functions: thread-safe.
 */
#ifndef HAAR_CLOUD_DYNAMODB_SHAPE_H
#define HAAR_CLOUD_DYNAMODB_SHAPE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/dynamodb/error.h"

enum ddb_shape_kind {
    DDB_SH_END = 0, /* ends a member list */
    DDB_SH_STRING,
    DDB_SH_BOOL,
    DDB_SH_INT,    /* java.lang.Integer */
    DDB_SH_LONG,   /* java.lang.Long */
    DDB_SH_LIST,   /* elem: the element's shape */
    DDB_SH_MAP,    /* elem: the values' shape (keys are strings) */
    DDB_SH_STRUCT, /* elem: the member list */
    DDB_SH_ATTR,   /* one AttributeValue */
    DDB_SH_ITEM,   /* a map of name -> AttributeValue (Item, Key, ExpressionAttributeValues) */
};

/* Constraint flags of a member. */
enum {
    DDB_SH_NOTNULL = 1 << 0,   /* "Member must not be null" */
    DDB_SH_REQUIRED = 1 << 1,  /* "The parameter 'X' is required but was not present…" */
    DDB_SH_TABLENAME = 1 << 2, /* "X must be at least 3 characters long and at most 255…" */
    DDB_SH_NAMEPAT = 1 << 3, /* "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" */
    DDB_SH_MIN = 1 << 4,     /* value >= min */
    DDB_SH_MAX = 1 << 5,     /* value <= max */
    DDB_SH_MINLEN = 1 << 6,  /* length >= minlen (strings: characters; lists, maps: members) */
    DDB_SH_MAXLEN = 1 << 7,  /* length <= maxlen */
    DDB_SH_TABLEKEYS = 1 << 8, /* map keys are table names (3..255, the name pattern) */
    DDB_SH_VALLEN = 1 << 9,    /* map values are lists of minlen..maxlen of the element shape */
    DDB_SH_ARNPAT = 1 << 10,   /* ResourceArn-like strings: length only */
};

struct ddb_shape {
    const char *name; /* the member's name as sent ("TableName"); NULL ends a list */
    uint8_t kind;     /* enum ddb_shape_kind */
    uint16_t flags;
    int64_t min, max;
    int32_t minlen, maxlen;
    const char *const *enums;     /* NULL-terminated enum value set, in DynamoDB's order */
    const struct ddb_shape *elem; /* LIST / MAP: one element shape; STRUCT: member list */
};

/* ---- the operations ---- */

#define DDB_OPS(X)                                                                                 \
    X(BATCH_EXECUTE_STATEMENT, "BatchExecuteStatement")                                            \
    X(BATCH_GET_ITEM, "BatchGetItem")                                                              \
    X(BATCH_WRITE_ITEM, "BatchWriteItem")                                                          \
    X(CREATE_TABLE, "CreateTable")                                                                 \
    X(DELETE_ITEM, "DeleteItem")                                                                   \
    X(DELETE_TABLE, "DeleteTable")                                                                 \
    X(DESCRIBE_CONTINUOUS_BACKUPS, "DescribeContinuousBackups")                                    \
    X(DESCRIBE_ENDPOINTS, "DescribeEndpoints")                                                     \
    X(DESCRIBE_LIMITS, "DescribeLimits")                                                           \
    X(DESCRIBE_TABLE, "DescribeTable")                                                             \
    X(DESCRIBE_TIME_TO_LIVE, "DescribeTimeToLive")                                                 \
    X(EXECUTE_STATEMENT, "ExecuteStatement")                                                       \
    X(GET_ITEM, "GetItem")                                                                         \
    X(LIST_TABLES, "ListTables")                                                                   \
    X(LIST_TAGS_OF_RESOURCE, "ListTagsOfResource")                                                 \
    X(PUT_ITEM, "PutItem")                                                                         \
    X(QUERY, "Query")                                                                              \
    X(SCAN, "Scan")                                                                                \
    X(TAG_RESOURCE, "TagResource")                                                                 \
    X(TRANSACT_GET_ITEMS, "TransactGetItems")                                                      \
    X(TRANSACT_WRITE_ITEMS, "TransactWriteItems")                                                  \
    X(UNTAG_RESOURCE, "UntagResource")                                                             \
    X(UPDATE_CONTINUOUS_BACKUPS, "UpdateContinuousBackups")                                        \
    X(UPDATE_ITEM, "UpdateItem")                                                                   \
    X(UPDATE_TABLE, "UpdateTable")                                                                 \
    X(UPDATE_TIME_TO_LIVE, "UpdateTimeToLive")

enum ddb_op {
    DDB_OP_UNKNOWN = 0,
#define DDB_OP_ENUM(e, s) DDB_OP_##e,
    DDB_OPS(DDB_OP_ENUM)
#undef DDB_OP_ENUM
        DDB_OP__COUNT
};

/* The operation named by len bytes of name (exact case), or DDB_OP_UNKNOWN. */
enum ddb_op ddb_op_from_name(const char *name, size_t len);

/* The operation's name ("PutItem"); "" for DDB_OP_UNKNOWN. */
const char *ddb_op_name(enum ddb_op op);

/* True when name/len is an operation of DynamoDB's API that haar does not implement
 * (CreateBackup, …): answered UnknownOperationException with a message saying so. */
bool ddb_op_known_unimplemented(const char *name, size_t len);

/* The member list of an operation's request (never NULL for a known operation). */
const struct ddb_shape *ddb_op_shape(enum ddb_op op);

/* ---- the passes ---- */

/*
 * Pass 1 over a request object (members) : Coral's type checks, members in declaration
 * order, nested structures, lists and maps included. Returns 0, or -1 with a
 * DDB_SERIALIZATION error in err. A top-level JSON array is refused ("Start of list found
 * where not expected"); any other non-object is treated as an empty request.
 */
int ddb_shape_check_types(const struct ddb_shape *members, const json_t *req, struct ddb_err *err);

/*
 * Pass 2: the constraint checks described above. Returns 0, or -1 with a DDB_VALIDATION
 * error in err (already prefixed "N validation error(s) detected: " where DynamoDB does).
 */
int ddb_shape_validate(const struct ddb_shape *members, const json_t *req, struct ddb_err *err);

/* Both passes for an operation (types first). Returns 0 or -1 with err set. */
int ddb_shape_check(enum ddb_op op, const json_t *req, struct ddb_err *err);

/* The JSON member req[name] unless absent or null. Borrowed. */
const json_t *ddb_member(const json_t *req, const char *name);

/* A JSON number as Coral reads an integer member: floored, clamped to ±9e18; dflt when v
 * is not a number (absent, null, another type). */
long long ddb_json_int(const json_t *v, long long dflt);

#endif
