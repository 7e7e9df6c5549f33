/*
 * expr_int.h — the compiled form of an expression, shared by expr.c (lexing, parsing,
 * checks), expr_eval.c (evaluation, updates, projections, key conditions) and the unit
 * tests. Not for other modules.
 */
#ifndef HAAR_CLOUD_DYNAMODB_EXPR_INT_H
#define HAAR_CLOUD_DYNAMODB_EXPR_INT_H

#include <stdint.h>

#include "cloud/dynamodb/expr.h"

/* One element of a document path: an attribute name (resolved from #name when needed) or
 * a list index. */
struct ddb_path_elem {
    char *name; /* owned; NULL for an index */
    uint32_t len;
    uint32_t index;
};

struct ddb_path {
    uint32_t first; /* into ddb_expr.elems */
    uint32_t n;
    bool target;   /* an update writes here (SET/REMOVE/ADD/DELETE left-hand side) */
    bool resolved; /* every #name was defined (else overlap checks skip it) */
};

enum ddb_node_kind {
    DDB_N_PATH,    /* ref: path index */
    DDB_N_VALUE,   /* ref: value index */
    DDB_N_FUNC,    /* op: enum ddb_func; args */
    DDB_N_CMP,     /* op: enum ddb_cmp; args[0], args[1] */
    DDB_N_BETWEEN, /* args: x, lo, hi */
    DDB_N_IN,      /* args: x, candidates… */
    DDB_N_AND,
    DDB_N_OR,
    DDB_N_NOT,
    DDB_N_PLUS, /* update: a + b */
    DDB_N_MINUS,
};

enum ddb_cmp { DDB_EQ, DDB_NE, DDB_LT, DDB_LE, DDB_GT, DDB_GE };

enum ddb_func {
    DDB_F_UNKNOWN,
    DDB_F_ATTRIBUTE_EXISTS,
    DDB_F_ATTRIBUTE_NOT_EXISTS,
    DDB_F_ATTRIBUTE_TYPE,
    DDB_F_BEGINS_WITH,
    DDB_F_CONTAINS,
    DDB_F_SIZE,
    DDB_F_IF_NOT_EXISTS,
    DDB_F_LIST_APPEND,
};

struct ddb_node {
    uint8_t kind;   /* enum ddb_node_kind */
    uint8_t op;     /* enum ddb_cmp or enum ddb_func */
    uint8_t parens; /* times wrapped in parentheses */
    uint16_t nargs;
    int32_t tok;    /* token naming it (function name, operator, first token) */
    uint32_t args;  /* into ddb_expr.args */
    int32_t ref;    /* path or value index */
};

enum ddb_action_kind { DDB_A_SET, DDB_A_REMOVE, DDB_A_ADD, DDB_A_DELETE };

struct ddb_action {
    uint8_t kind;    /* enum ddb_action_kind */
    uint32_t path;   /* target path index */
    int32_t operand; /* SET: node; ADD/DELETE: value index; REMOVE: -1 */
};

/* One condition of a key condition: attribute, operator, operands (value indexes). */
struct ddb_key_part {
    uint32_t path;
    uint8_t op; /* enum ddb_key_op */
    int32_t v1, v2;
};

struct ddb_expr {
    enum ddb_expr_kind kind;
    struct ddb_node *nodes;
    uint32_t nnodes, cnodes;
    uint32_t *args;
    uint32_t nargs, cargs;
    struct ddb_path *paths;
    uint32_t npaths, cpaths;
    struct ddb_path_elem *elems;
    uint32_t nelems, celems;
    struct ddb_value *values; /* owned copies of the :values used */
    uint32_t nvalues, cvalues;
    int32_t root; /* condition/filter/key condition: the root node */
    struct ddb_action *actions;
    uint32_t nactions, cactions;
    struct ddb_key_part key[2];
    uint32_t nkey;
};

/* The path p's element i. */
static inline const struct ddb_path_elem *ddb__elem(const struct ddb_expr *e,
                                                    const struct ddb_path *p, uint32_t i)
{
    return &e->elems[p->first + i];
}

/* ddb_expr_compile, optionally without the size, operator and IN limits (for expressions
 * translated from legacy parameters, which DynamoDB does not limit that way). */
struct ddb_expr *ddb__expr_compile(enum ddb_expr_kind kind, const char *text, size_t len,
                                   struct ddb_expr_params *params, bool no_limits,
                                   struct ddb_err *err);

/* The value at path in item (an M value, may be NULL), or NULL. */
const struct ddb_value *ddb__path_get(const struct ddb_expr *e, const struct ddb_path *p,
                                      const struct ddb_value *item);

/* Order of two paths element by element (names bytewise before indexes numerically). */
int ddb__path_cmp(const struct ddb_expr *e, const struct ddb_path *a, const struct ddb_path *b);

/* Appends "[a, b, [1]]" for path p to out. */
void ddb__path_render(const struct ddb_expr *e, const struct ddb_path *p, struct buf *out);

/* One condition of a Query's key condition, from an expression or from KeyConditions. */
struct ddb_key_term {
    const char *name; /* the attribute (len bytes, borrowed) */
    size_t len;
    int op;                       /* enum ddb_key_op; -1: not indexable (NE, IN, NULL, …) */
    const struct ddb_value *v[2]; /* the operands (borrowed), nv of them */
    unsigned nv;
};

/* Binds terms[0..n) (n <= 2) to schema, with the messages of ddb_keycond_bind and "Attempted
 * conditional constraint is not an indexable operation". *out borrows the operands. Returns
 * 0 or -1 with err set. */
int ddb__key_bind(const struct ddb_key_term *terms, size_t n, const struct ddb_key_schema *schema,
                  struct ddb_key_cond *out, struct ddb_err *err);

#endif
