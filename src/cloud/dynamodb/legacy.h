/*
 * legacy.h — the parameters DynamoDB had before expressions, which older clients still
 * send: Expected (with Exists / Value / ComparisonOperator / AttributeValueList),
 * ConditionalOperator, AttributesToGet, KeyConditions, QueryFilter, ScanFilter and
 * AttributeUpdates (PUT / ADD / DELETE); and the rules for mixing them with expressions.
 *
 * Conditions (Expected, QueryFilter, ScanFilter) are translated into the expression form
 * of expr.h (EQ is "=", NE "<>", NULL "attribute_not_exists", NOT_CONTAINS
 * "NOT contains", …; AND unless ConditionalOperator is OR), so they evaluate exactly as
 * expressions do. Validation messages are DynamoDB's for the legacy parameters, e.g.
 * "One or more parameter values were invalid: Invalid number of argument(s) for the EQ
 * ComparisonOperator", "One or more parameter values were invalid: Value must be provided
 * when Exists is null for Attribute: a", "Query condition missed key schema element: pk".
 * Not thread-safe per object.
 */
#ifndef HAAR_CLOUD_DYNAMODB_LEGACY_H
#define HAAR_CLOUD_DYNAMODB_LEGACY_H

#include <stdbool.h>

#include <jansson.h>

#include "cloud/dynamodb/error.h"
#include "cloud/dynamodb/expr.h"
#include "cloud/dynamodb/value.h"

/* The operations that take legacy parameters (each takes a different set). */
enum ddb_legacy_op {
    DDB_LOP_UNKNOWN,
    DDB_LOP_GET_ITEM,
    DDB_LOP_PUT_ITEM,
    DDB_LOP_UPDATE_ITEM,
    DDB_LOP_DELETE_ITEM,
    DDB_LOP_QUERY,
    DDB_LOP_SCAN,
    DDB_LOP_KEYS_AND_ATTRIBUTES, /* a BatchGetItem table entry */
};

/* "GetItem", "PutItem", … (or "KeysAndAttributes"); DDB_LOP_UNKNOWN for anything else. */
enum ddb_legacy_op ddb_legacy_op_from_name(const char *name);

/*
 * The mixing rules, checked before any expression is parsed (req is the request object):
 *   "Can not use both expression and non-expression parameters in the same request:
 *    Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
 *   "ExpressionAttributeNames can only be specified when using expressions",
 *   "ExpressionAttributeValues can only be specified when using expressions:
 *    ConditionExpression is null".
 * Returns 0 or -1 with err set (DDB_VALIDATION, not prefixed).
 */
int ddb_legacy_check_mixing(enum ddb_legacy_op op, const json_t *req, struct ddb_err *err);

/* One KeyConditions entry. */
struct ddb_legacy_key {
    char *name;             /* owned */
    int op;                 /* the ComparisonOperator (internal code) */
    struct ddb_value v[2];  /* AttributeValueList */
    unsigned nv;
};

/* One AttributeUpdates entry. */
struct ddb_legacy_update {
    char *name; /* owned */
    int action; /* 0 PUT, 1 ADD, 2 DELETE */
    struct ddb_value value; /* DDB_NONE when absent */
};

/* The legacy parameters of one request, validated and compiled. */
struct ddb_legacy {
    struct ddb_expr *cond;      /* Expected, QueryFilter or ScanFilter; NULL when none */
    char **attrs;               /* AttributesToGet (owned); NULL when none */
    size_t nattrs;
    struct ddb_legacy_key *keys; /* KeyConditions */
    size_t nkeys;
    bool has_keys;
    struct ddb_legacy_update *updates; /* AttributeUpdates */
    size_t nupdates;
    bool has_updates;
};

/*
 * Validates and compiles the legacy parameters op takes from req into *out (zeroed
 * first). Returns 0, or -1 with err set (and *out empty).
 */
int ddb_legacy_compile(enum ddb_legacy_op op, const json_t *req, struct ddb_legacy *out,
                       struct ddb_err *err);

/* Frees what l owns and zeroes it; accepts NULL. */
void ddb_legacy_destroy(struct ddb_legacy *l);

/* Expected / QueryFilter / ScanFilter on item (NULL: no item); true when there is none. */
bool ddb_legacy_cond_eval(const struct ddb_legacy *l, const struct ddb_value *item);

/* AttributesToGet: the listed top-level attributes of item into *out (a new M). With no
 * AttributesToGet, a copy of the whole item. Returns 0 or -1 (out of memory). */
int ddb_legacy_project(const struct ddb_legacy *l, const struct ddb_value *item,
                       struct ddb_value *out);

/*
 * AttributeUpdates applied to a copy of old_item (NULL: none yet) into *new_item: PUT
 * replaces, DELETE without a value removes, DELETE with a set removes its elements
 * (an emptied set is removed), ADD adds a number, unions a set or appends to a list (or
 * creates the attribute). "Type mismatch for attribute to update" otherwise.
 * Returns 0 or -1 with err set.
 */
int ddb_legacy_update_apply(const struct ddb_legacy *l, const struct ddb_value *old_item,
                            struct ddb_value *new_item, struct ddb_err *err);

/* True when AttributeUpdates names attribute name (for "Cannot update attribute pk"). */
bool ddb_legacy_updates_attr(const struct ddb_legacy *l, const char *name);

/*
 * KeyConditions bound to a key schema, with DynamoDB's messages ("Query condition missed
 * key schema element: <a>", "Attempted conditional constraint is not an indexable
 * operation", "Query key condition not supported", "One or more parameter values were
 * invalid: Condition parameter type does not match schema type"). *out borrows values
 * from l. Returns 0 or -1 with err set.
 */
int ddb_legacy_keycond_bind(const struct ddb_legacy *l, const struct ddb_key_schema *schema,
                            struct ddb_key_cond *out, struct ddb_err *err);

#endif
