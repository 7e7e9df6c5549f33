/*
 * expr.h — DynamoDB's expressions: one parser and evaluator for ConditionExpression,
 * FilterExpression, KeyConditionExpression, UpdateExpression and ProjectionExpression.
 *
 * Grammar (keywords AND OR NOT BETWEEN IN SET REMOVE ADD DELETE in any case; function
 * names exactly as written; whitespace is space, tab, CR, LF):
 *
 *   condition   := or
 *   or          := and ( OR and )*
 *   and         := not ( AND not )*
 *   not         := NOT not | compare
 *   compare     := operand comparator operand
 *                | operand BETWEEN operand AND operand
 *                | operand IN '(' operand ( ',' operand )* ')'          -- at most 100
 *                | function                                             -- a boolean one
 *                | '(' condition ')'
 *   comparator  := '=' | '<>' | '<' | '<=' | '>' | '>='
 *   operand     := path | value | function | '(' operand ')'
 *   function    := name '(' operand ( ',' operand )* ')'
 *                  condition functions: attribute_exists(path) attribute_not_exists(path)
 *                  attribute_type(path, value) begins_with(a, b) contains(a, b) size(path)
 *   path        := element ( '.' element | '[' digits ']' )*            -- at most 32 deep
 *   element     := identifier | '#' [A-Za-z0-9_]+                       -- #name from the names
 *   identifier  := [A-Za-z] [A-Za-z0-9_]*                               -- not a reserved word
 *   value       := ':' [A-Za-z0-9_]+                                    -- from the values
 *
 *   update      := clause+                    -- each of SET/REMOVE/ADD/DELETE at most once
 *   clause      := SET set-action ( ',' set-action )*
 *                | REMOVE path ( ',' path )*
 *                | ADD path value ( ',' path value )*
 *                | DELETE path value ( ',' path value )*
 *   set-action  := path '=' set-value
 *   set-value   := set-operand | set-operand '+' set-operand | set-operand '-' set-operand
 *                | '(' set-value ')'
 *   set-operand := path | value | if_not_exists(path, set-operand)
 *                | list_append(set-operand, set-operand) | '(' set-operand ')'
 *
 *   key-condition := hash-condition [ AND range-condition ]   (either order, any parens)
 *                    hash: key = value; range: key (= < <= > >=) value, key BETWEEN value AND
 *                    value, begins_with(key, value)
 *   projection  := path ( ',' path )*
 *
 * Limits and checks, with DynamoDB's messages (all ValidationException, prefixed by
 * "Invalid <Kind>Expression: "): the empty expression ("The expression can not be empty;"),
 * 4 KB of text, 300 operators, 100 IN operands, 32 path levels, syntax errors as
 * `Syntax error; token: "<tok>", near: "<prev tok next>"` (token "<EOF>" at the end),
 * reserved words, undefined #names / :values, redundant parentheses, unknown or misused
 * functions, operand counts and constant operand types, BETWEEN bounds, overlapping and
 * conflicting document paths, repeated update clauses. Errors found after a successful
 * parse are reported in DynamoDB's order of categories (as dynalite, tested against
 * DynamoDB, orders them). Unused ExpressionAttributeNames/Values are refused after every
 * expression of the request has been parsed (ddb_expr_params_check_unused).
 *
 * Evaluation follows DynamoDB's type rules: a missing attribute or a comparison of
 * different types is false ('<>' is then true), only S, N and B are ordered, sets compare
 * regardless of order, size() counts UTF-16 code units of a string, bytes of a binary,
 * elements of a set, list or map.
 *
 * A compiled expression is immutable: evaluate it from as many places as needed (it is
 * thread-safe to share once compiled). Evaluating a condition does not allocate.
 */
#ifndef HAAR_CLOUD_DYNAMODB_EXPR_H
#define HAAR_CLOUD_DYNAMODB_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cloud/dynamodb/error.h"
#include "cloud/dynamodb/value.h"

#define DDB_EXPR_TEXT_MAX     4096
#define DDB_EXPR_OPERATORS    300
#define DDB_EXPR_IN_MAX       100
#define DDB_EXPR_PATH_DEPTH   32

enum ddb_expr_kind {
    DDB_EXPR_CONDITION,     /* ConditionExpression */
    DDB_EXPR_FILTER,        /* FilterExpression (same language) */
    DDB_EXPR_KEY_CONDITION, /* KeyConditionExpression */
    DDB_EXPR_UPDATE,        /* UpdateExpression */
    DDB_EXPR_PROJECTION,    /* ProjectionExpression */
};

/* "ConditionExpression", "FilterExpression", … (the name DynamoDB puts in messages). */
const char *ddb_expr_kind_name(enum ddb_expr_kind kind);

/* True when len bytes of s are a DynamoDB reserved word (any case). */
bool ddb_reserved_word(const char *s, size_t len);

/* ---- a request's substitutions ---- */

struct ddb_expr_params;

/*
 * Validates ExpressionAttributeNames (a JSON object of "#x": "name", or NULL) and
 * ExpressionAttributeValues (a JSON object of ":x": AttributeValue, or NULL) and keeps
 * them for the request's expressions. Messages: "ExpressionAttributeNames must not be
 * empty", "ExpressionAttributeNames contains invalid key: Syntax error; key: \"x\"",
 * "ExpressionAttributeValues contains invalid value: <value error> for key :x", … The
 * adapter runs ddb_item_check_json over the values first (serialization errors win).
 * Returns a new object (free with ddb_expr_params_free), or NULL with err set.
 */
struct ddb_expr_params *ddb_expr_params_new(const json_t *names, const json_t *values,
                                            struct ddb_err *err);

/* Frees p; accepts NULL. Compiled expressions do not refer to p. */
void ddb_expr_params_free(struct ddb_expr_params *p);

/*
 * After every expression of a request has been compiled with p: refuses names, then
 * values, that no expression used: "Value provided in ExpressionAttributeNames unused in
 * expressions: keys: {#a, #b}". Returns 0 or -1 with err set.
 */
int ddb_expr_params_check_unused(const struct ddb_expr_params *p, struct ddb_err *err);

/* ---- compiling ---- */

struct ddb_expr;

/*
 * Compiles len bytes of text (no NUL needed) as an expression of the given kind, resolving
 * #names and :values from p (which may be NULL when the request has none) and marking
 * them used. Returns a new expression (free with ddb_expr_free), or NULL with err set to
 * "Invalid <Kind>Expression: <message>".
 */
struct ddb_expr *ddb_expr_compile(enum ddb_expr_kind kind, const char *text, size_t len,
                                  struct ddb_expr_params *p, struct ddb_err *err);

/* Frees e; accepts NULL. */
void ddb_expr_free(struct ddb_expr *e);

enum ddb_expr_kind ddb_expr_kind_of(const struct ddb_expr *e);

/* The expressions a request may carry; NULL fields are absent. */
struct ddb_expr_request {
    const char *update, *condition, *key_condition, *filter, *projection; /* NUL-terminated */
    const json_t *names, *values; /* ExpressionAttributeNames / Values, or NULL */
};

struct ddb_expr_set {
    struct ddb_expr *update, *condition, *key_condition, *filter, *projection;
};

/*
 * Compiles every expression of a request in DynamoDB's order — the substitution maps,
 * then UpdateExpression, ConditionExpression, KeyConditionExpression, FilterExpression,
 * ProjectionExpression, then unused names and values — into *out (zeroed first).
 * Returns 0, or -1 with err set and nothing allocated in *out.
 */
int ddb_expr_compile_request(const struct ddb_expr_request *req, struct ddb_expr_set *out,
                             struct ddb_err *err);

/* Frees the expressions of s and zeroes it; accepts NULL. */
void ddb_expr_set_free(struct ddb_expr_set *s);

/*
 * How an expression refers to top-level attribute name/len: 0 not at all, else a mix of
 * DDB_USE_TOP (a path that is exactly the attribute) and DDB_USE_NESTED (a longer path
 * starting at it). For an update, only the paths it writes count (SET/REMOVE/ADD/DELETE
 * targets), so "Cannot update attribute pk" can be decided; for other kinds every path.
 */
enum { DDB_USE_TOP = 1, DDB_USE_NESTED = 2 };
int ddb_expr_uses(const struct ddb_expr *e, const char *name, size_t len);

/* ---- conditions and filters ---- */

/* Evaluates a condition or filter on item (an M value; NULL means no item). No allocation. */
bool ddb_cond_eval(const struct ddb_expr *e, const struct ddb_value *item);

/* ---- projections ---- */

/*
 * Writes into *out (overwritten) a new M value holding what projection e selects from item
 * (nested maps and list elements as DynamoDB returns them: selected list elements keep
 * their order and lose their indexes). Returns 0 or -1 (out of memory).
 */
int ddb_project(const struct ddb_expr *e, const struct ddb_value *item, struct ddb_value *out);

/* ---- updates ---- */

/*
 * Applies update e to a copy of old_item (an M value; NULL when there is no item yet) and
 * writes the result into *new_item (overwritten). Operands are read from old_item, as
 * DynamoDB reads them. Runtime errors are DynamoDB's: "The provided expression refers to
 * an attribute that does not exist in the item", "An operand in the update expression has
 * an incorrect data type", "The document path provided in the update expression is invalid
 * for update", number overflow/underflow. Key attributes, item size and nesting are the
 * caller's checks. Returns 0, or -1 with err set (new_item then DDB_NONE).
 */
int ddb_update_apply(const struct ddb_expr *e, const struct ddb_value *old_item,
                     struct ddb_value *new_item, struct ddb_err *err);

/*
 * ReturnValues UPDATED_OLD / UPDATED_NEW: the parts of item (the old or the new one) at
 * the paths the update wrote, shaped like a projection. *out is overwritten with an M
 * value. Returns 0 or -1 (out of memory).
 */
int ddb_update_updated(const struct ddb_expr *e, const struct ddb_value *item,
                       struct ddb_value *out);

/* ---- key conditions ---- */

enum ddb_key_op {
    DDB_KEY_NONE,        /* no condition on the range key */
    DDB_KEY_EQ,
    DDB_KEY_LT,
    DDB_KEY_LE,
    DDB_KEY_GT,
    DDB_KEY_GE,
    DDB_KEY_BETWEEN,
    DDB_KEY_BEGINS_WITH,
};

/* A Query's key condition bound to a key schema. Values are borrowed from the expression
 * (or legacy condition) that produced it and live as long as it does. */
struct ddb_key_cond {
    const struct ddb_value *hash; /* the hash key's value */
    enum ddb_key_op op;           /* on the range key */
    const struct ddb_value *lo;   /* the operand (lower bound for BETWEEN) */
    const struct ddb_value *hi;   /* BETWEEN's upper bound */
};

/*
 * Binds a compiled KeyConditionExpression to the schema of the table or index queried,
 * with DynamoDB's messages: "Query condition missed key schema element: <a>", "Query key
 * condition not supported", "One or more parameter values were invalid: Condition
 * parameter type does not match schema type". Returns 0 or -1 with err set (not prefixed).
 */
int ddb_keycond_bind(const struct ddb_expr *e, const struct ddb_key_schema *schema,
                     struct ddb_key_cond *out, struct ddb_err *err);

/* True when a range key value satisfies the range part of kc (true when there is none). */
bool ddb_key_cond_match(const struct ddb_key_cond *kc, const struct ddb_value *range);

/*
 * The range part of kc as bounds on ddb_key_encode bytes of the range key (encoded with
 * the same prefix_free): has_lo and has_hi tell whether a bound exists, lo_incl and hi_incl
 * whether it is inclusive; lo/hi (empty on entry) receive the bytes. begins_with becomes
 * [prefix, successor(prefix)). Returns BUF_OK or a buf error.
 */
int ddb_key_cond_bounds(const struct ddb_key_cond *kc, bool prefix_free, struct buf *lo,
                        bool *has_lo, bool *lo_incl, struct buf *hi, bool *has_hi,
                        bool *hi_incl);

#endif
