/*
 * legacy.c — pre-expression parameters (see legacy.h): validation with DynamoDB's
 * messages, translation of conditions into expressions, AttributesToGet, KeyConditions and
 * AttributeUpdates.
 */
#include "cloud/dynamodb/legacy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/dynamodb/expr_int.h"

/* ---- operations and their parameter sets ---- */

struct op_params {
    const char *name;
    enum ddb_legacy_op op;
    const char *expr[3];    /* expression parameters, in DynamoDB's order */
    const char *nonexpr[4]; /* non-expression parameters */
};

static const struct op_params op_table[] = {
    {"GetItem", DDB_LOP_GET_ITEM, {"ProjectionExpression"}, {"AttributesToGet"}},
    {"PutItem", DDB_LOP_PUT_ITEM, {"ConditionExpression"}, {"Expected"}},
    {"UpdateItem",
     DDB_LOP_UPDATE_ITEM,
     {"UpdateExpression", "ConditionExpression"},
     {"AttributeUpdates", "Expected"}},
    {"DeleteItem", DDB_LOP_DELETE_ITEM, {"ConditionExpression"}, {"Expected"}},
    {"Query",
     DDB_LOP_QUERY,
     {"ProjectionExpression", "FilterExpression", "KeyConditionExpression"},
     {"AttributesToGet", "QueryFilter", "ConditionalOperator", "KeyConditions"}},
    {"Scan",
     DDB_LOP_SCAN,
     {"ProjectionExpression", "FilterExpression"},
     {"AttributesToGet", "ScanFilter", "ConditionalOperator"}},
    {"KeysAndAttributes", DDB_LOP_KEYS_AND_ATTRIBUTES, {"ProjectionExpression"},
     {"AttributesToGet"}},
};

static const struct op_params *params_of(enum ddb_legacy_op op)
{
    for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
        if (op_table[i].op == op)
            return &op_table[i];
    return NULL;
}

enum ddb_legacy_op ddb_legacy_op_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
        if (strcmp(op_table[i].name, name) == 0)
            return op_table[i].op;
    return DDB_LOP_UNKNOWN;
}

static bool present(const json_t *req, const char *k)
{
    const json_t *v = json_object_get(req, k);
    return v != NULL && !json_is_null(v);
}

static int invalid(struct ddb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(struct ddb_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ddb_err_vset(err, ERR_DDB_VALIDATION, 1024, fmt, ap);
    va_end(ap);
    return -1;
}

int ddb_legacy_check_mixing(enum ddb_legacy_op op, const json_t *req, struct ddb_err *err)
{
    const struct op_params *p = params_of(op);
    if (p == NULL)
        return 0;
    struct buf exprs, nonexprs;
    buf_init(&exprs, 4096);
    buf_init(&nonexprs, 4096);
    int rc = 0;
    for (int i = 0; i < 3 && p->expr[i]; i++) {
        if (!present(req, p->expr[i]))
            continue;
        buf_printf(&exprs, "%s%s", exprs.len ? ", " : "", p->expr[i]);
    }
    if (exprs.len > 0) {
        bool key_only = present(req, "KeyConditions") && !present(req, "KeyConditionExpression");
        for (int i = 0; i < 4 && p->nonexpr[i]; i++) {
            if (!present(req, p->nonexpr[i]))
                continue;
            if (key_only && strcmp(p->nonexpr[i], "KeyConditions") == 0)
                continue; /* KeyConditions may go with FilterExpression / projections */
            buf_printf(&nonexprs, "%s%s", nonexprs.len ? ", " : "", p->nonexpr[i]);
        }
        if (nonexprs.len > 0) {
            rc = invalid(err,
                         "Can not use both expression and non-expression parameters in the same "
                         "request: Non-expression parameters: {%s} Expression parameters: {%s}",
                         nonexprs.data, exprs.data);
            goto out;
        }
    }
    if (present(req, "ExpressionAttributeNames") && exprs.len == 0) {
        rc = invalid(err, "ExpressionAttributeNames can only be specified when using expressions");
        goto out;
    }
    if (present(req, "ExpressionAttributeValues")) {
        /* every expression but ProjectionExpression takes values */
        struct buf names;
        buf_init(&names, 4096);
        int n = 0;
        bool any = false;
        for (int i = 0; i < 3 && p->expr[i]; i++) {
            if (strcmp(p->expr[i], "ProjectionExpression") == 0)
                continue;
            buf_printf(&names, "%s%s", n ? " and " : "", p->expr[i]);
            n++;
            any = any || present(req, p->expr[i]);
        }
        if (n > 0 && !any)
            rc = invalid(err,
                         "ExpressionAttributeValues can only be specified when using expressions: "
                         "%s %s null",
                         names.data, n > 1 ? "are" : "is");
        buf_destroy(&names);
    }
out:
    buf_destroy(&exprs);
    buf_destroy(&nonexprs);
    return rc;
}

/* ---- comparison operators ---- */

enum cmp_op {
    OP_EQ,
    OP_NE,
    OP_LE,
    OP_LT,
    OP_GE,
    OP_GT,
    OP_NOT_NULL,
    OP_NULL,
    OP_CONTAINS,
    OP_NOT_CONTAINS,
    OP_BEGINS_WITH,
    OP_IN,
    OP_BETWEEN,
    OP__COUNT,
};

static const struct {
    const char *name;
    int min, max;   /* AttributeValueList length */
    unsigned types; /* bit per enum ddb_type allowed in the list; 0: any */
} ops[OP__COUNT] = {
#define SNB ((1u << DDB_S) | (1u << DDB_N) | (1u << DDB_B))
    [OP_EQ] = {"EQ", 1, 1, 0},
    [OP_NE] = {"NE", 1, 1, 0},
    [OP_LE] = {"LE", 1, 1, SNB},
    [OP_LT] = {"LT", 1, 1, SNB},
    [OP_GE] = {"GE", 1, 1, SNB},
    [OP_GT] = {"GT", 1, 1, SNB},
    [OP_NOT_NULL] = {"NOT_NULL", 0, 0, 0},
    [OP_NULL] = {"NULL", 0, 0, 0},
    [OP_CONTAINS] = {"CONTAINS", 1, 1, SNB},
    [OP_NOT_CONTAINS] = {"NOT_CONTAINS", 1, 1, SNB},
    [OP_BEGINS_WITH] = {"BEGINS_WITH", 1, 1, (1u << DDB_S) | (1u << DDB_B)},
    [OP_IN] = {"IN", 1, 1 << 30, SNB},
    [OP_BETWEEN] = {"BETWEEN", 2, 2, SNB},
#undef SNB
};

/* The enum as DynamoDB lists it in its constraint message. */
#define OP_ENUM_SET                                                                                \
    "[IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]"

static int op_from(const json_t *j)
{
    const char *s = json_string_value(j);
    for (int i = 0; s && i < OP__COUNT; i++)
        if (strcmp(ops[i].name, s) == 0)
            return i;
    return -1;
}

/* ---- building the expression text ---- */

struct builder {
    struct buf text;
    json_t *names, *values;
    int nvalues;
};

/* Adds value v (borrowed JSON) as a fresh :v placeholder and appends its name. */
static int add_value(struct builder *b, const json_t *v)
{
    char key[32];
    snprintf(key, sizeof key, ":v%d", b->nvalues++);
    if (json_object_set(b->values, key, (json_t *)v) != 0)
        return -1;
    return buf_puts(&b->text, key);
}

/* One condition on attribute #nI with operator op and its list of values. */
static int add_condition(struct builder *b, const char *name_key, int op, const json_t *list)
{
    static const char *const infix[] = {[OP_EQ] = " = ", [OP_NE] = " <> ", [OP_LE] = " <= ",
                                        [OP_LT] = " < ", [OP_GE] = " >= ", [OP_GT] = " > "};
    struct buf *t = &b->text;
    int rc = BUF_OK;
    switch (op) {
    case OP_EQ:
    case OP_NE:
    case OP_LE:
    case OP_LT:
    case OP_GE:
    case OP_GT:
        rc = buf_printf(t, "%s%s", name_key, infix[op]);
        return rc == BUF_OK ? add_value(b, json_array_get(list, 0)) : rc;
    case OP_NOT_NULL:
        return buf_printf(t, "attribute_exists(%s)", name_key);
    case OP_NULL:
        return buf_printf(t, "attribute_not_exists(%s)", name_key);
    case OP_CONTAINS:
    case OP_NOT_CONTAINS:
    case OP_BEGINS_WITH:
        rc = buf_printf(t, "%s%s(%s, ", op == OP_NOT_CONTAINS ? "NOT " : "",
                        op == OP_BEGINS_WITH ? "begins_with" : "contains", name_key);
        if (rc == BUF_OK)
            rc = add_value(b, json_array_get(list, 0));
        return rc == BUF_OK ? buf_puts(t, ")") : rc;
    case OP_IN:
        rc = buf_printf(t, "%s IN (", name_key);
        for (size_t i = 0; rc == BUF_OK && i < json_array_size(list); i++) {
            if (i > 0)
                rc = buf_puts(t, ", ");
            if (rc == BUF_OK)
                rc = add_value(b, json_array_get(list, i));
        }
        return rc == BUF_OK ? buf_puts(t, ")") : rc;
    case OP_BETWEEN:
        rc = buf_printf(t, "%s BETWEEN ", name_key);
        if (rc == BUF_OK)
            rc = add_value(b, json_array_get(list, 0));
        if (rc == BUF_OK)
            rc = buf_puts(t, " AND ");
        return rc == BUF_OK ? add_value(b, json_array_get(list, 1)) : rc;
    default:
        return -1;
    }
}

static void builder_free(struct builder *b)
{
    buf_destroy(&b->text);
    json_decref(b->names);
    json_decref(b->values);
}

/* Compiles the built text as a condition (legacy translations are not size-limited). */
static struct ddb_expr *builder_compile(struct builder *b, struct ddb_err *err)
{
    struct ddb_expr_params *p =
        ddb_expr_params_new(b->names, json_object_size(b->values) ? b->values : NULL, err);
    if (p == NULL)
        return NULL;
    struct ddb_expr *e = ddb__expr_compile(DDB_EXPR_CONDITION, b->text.data, b->text.len, p,
                                           true, err);
    ddb_expr_params_free(p);
    return e;
}

/* ---- validating conditions ---- */

/* Decodes (validating) the values of list into vals (at most nvals). */
static int decode_list(const json_t *list, struct ddb_value *vals, size_t nvals,
                       struct ddb_err *err)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        struct ddb_value tmp;
        if (ddb_value_from_json(json_array_get(list, i), &tmp, err) != 0)
            return -1;
        if (i < nvals)
            ddb_value_move(&vals[i], &tmp);
        else
            ddb_value_destroy(&tmp);
    }
    return 0;
}

static int between_order(const json_t *list, struct ddb_err *err)
{
    struct ddb_value v[2];
    memset(v, 0, sizeof v);
    int rc = decode_list(list, v, 2, err);
    if (rc == 0 && ddb_type_is_scalar(v[0].type) && v[0].type == v[1].type &&
        ddb_scalar_cmp(&v[0], &v[1]) > 0)
        rc = invalid(err, "The BETWEEN condition was provided a range where the lower bound is "
                          "greater than the upper bound");
    ddb_value_destroy(&v[0]);
    ddb_value_destroy(&v[1]);
    return rc;
}

/* The first member name of an AttributeValue object (its type as sent). */
static enum ddb_type av_type(const json_t *av)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)av, k, v)
    {
        if (!json_is_null(v))
            return ddb_type_from_name(k, strlen(k));
    }
    return DDB_NONE;
}

/* The checks of one condition's AttributeValueList (Expected, QueryFilter, ScanFilter,
 * KeyConditions). */
static int check_filter_entry(const json_t *list, int op, struct ddb_err *err)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        struct ddb_value tmp;
        if (ddb_value_from_json(json_array_get(list, i), &tmp, err) != 0)
            return -1;
        ddb_value_destroy(&tmp);
    }
    int n = (int)json_array_size(list);
    if (n < ops[op].min || n > ops[op].max)
        return invalid(err,
                       "One or more parameter values were invalid: Invalid number of argument(s) "
                       "for the %s ComparisonOperator",
                       ops[op].name);
    enum ddb_type first = n ? av_type(json_array_get(list, 0)) : DDB_NONE;
    for (int i = 1; i < n; i++)
        if (av_type(json_array_get(list, (size_t)i)) != first)
            return invalid(err, "One or more parameter values were invalid: AttributeValues "
                                "inside AttributeValueList must be of same type");
    for (int i = 0; i < n; i++) {
        enum ddb_type t = av_type(json_array_get(list, (size_t)i));
        /* EQ and NE take every type, lists and maps included (AWS API reference) */
        if (ops[op].types != 0 && !(ops[op].types & (1u << t)))
            return invalid(err,
                           "One or more parameter values were invalid: ComparisonOperator %s is "
                           "not valid for %s AttributeValue type",
                           ops[op].name, ddb_type_name(t));
    }
    if (op == OP_BETWEEN)
        return between_order(list, err);
    return 0;
}

/* Coral's enum check on every ComparisonOperator of a map of conditions. */
static int check_op_enums(const json_t *map, const char *member, bool required,
                          struct ddb_err *err)
{
    const char *k;
    const json_t *c;
    json_object_foreach((json_t *)map, k, c)
    {
        const json_t *o = json_object_get(c, "ComparisonOperator");
        if (o == NULL || json_is_null(o)) {
            if (required)
                return invalid(err,
                               "1 validation error detected: Value null at '%s.%s.member."
                               "comparisonOperator' failed to satisfy constraint: Member must not "
                               "be null",
                               member, k);
            continue;
        }
        if (op_from(o) < 0)
            return invalid(err,
                           "1 validation error detected: Value '%s' at '%s.%s.member."
                           "comparisonOperator' failed to satisfy constraint: Member must "
                           "satisfy enum value set: " OP_ENUM_SET,
                           json_string_value(o) ? json_string_value(o) : "", member, k);
    }
    return 0;
}

static int check_conditional_operator(const json_t *req, bool *or_op, struct ddb_err *err)
{
    const json_t *c = json_object_get(req, "ConditionalOperator");
    *or_op = false;
    if (c == NULL || json_is_null(c))
        return 0;
    const char *s = json_string_value(c);
    if (s != NULL && strcmp(s, "OR") == 0) {
        *or_op = true;
        return 0;
    }
    if (s != NULL && strcmp(s, "AND") == 0)
        return 0;
    return invalid(err,
                   "1 validation error detected: Value '%s' at 'conditionalOperator' failed to "
                   "satisfy constraint: Member must satisfy enum value set: [OR, AND]",
                   s ? s : "");
}

/* The translation of one Expected entry c on attribute #nI. */
static int add_expected(struct builder *b, const char *name_key, const json_t *c)
{
    int rc;
    if (present(c, "ComparisonOperator")) {
        int op = op_from(json_object_get(c, "ComparisonOperator"));
        json_t *list = present(c, "Value") ? json_pack("[O]", json_object_get(c, "Value"))
                                           : json_incref(json_object_get(c, "AttributeValueList"));
        rc = add_condition(b, name_key, op, list);
        json_decref(list);
    } else if (present(c, "Value")) {
        json_t *list = json_pack("[O]", json_object_get(c, "Value"));
        rc = add_condition(b, name_key, OP_EQ, list);
        json_decref(list);
    } else {
        rc = add_condition(b, name_key, OP_NULL, NULL);
    }
    return rc;
}

/* A validated map of conditions (Expected when expected, else QueryFilter or ScanFilter)
 * compiled as one condition expression into *out (left NULL when the map is empty): each
 * attribute a #nI name, the conditions joined by AND (OR when or_op). */
static int translate(const json_t *map, bool expected, bool or_op, struct ddb_expr **out,
                     struct ddb_err *err)
{
    struct builder b = {.names = json_object(), .values = json_object()};
    buf_init(&b.text, (size_t)1 << 26);
    int i = 0, rc = 0;
    const char *k;
    const json_t *c;
    json_object_foreach((json_t *)map, k, c)
    {
        char nk[32];
        snprintf(nk, sizeof nk, "#n%d", i);
        json_object_set_new(b.names, nk, json_string(k));
        if (i++ > 0)
            buf_puts(&b.text, or_op ? " OR " : " AND ");
        rc = expected ? add_expected(&b, nk, c)
                      : add_condition(&b, nk, op_from(json_object_get(c, "ComparisonOperator")),
                                      json_object_get(c, "AttributeValueList"));
        if (rc != 0)
            break;
    }
    if (rc == 0 && i > 0) {
        *out = builder_compile(&b, err);
        rc = *out ? 0 : -1;
    }
    builder_free(&b);
    return rc;
}

/* The enum check, then each condition's AttributeValueList: QueryFilter, ScanFilter and
 * KeyConditions (member: its name in Coral's messages). */
static int check_conditions(const json_t *map, const char *member, struct ddb_err *err)
{
    if (check_op_enums(map, member, true, err) != 0)
        return -1;
    const char *k;
    const json_t *c;
    json_object_foreach((json_t *)map, k, c)
    {
        int op = op_from(json_object_get(c, "ComparisonOperator"));
        const json_t *list = json_object_get(c, "AttributeValueList");
        json_t *empty = list ? NULL : json_array();
        int rc = check_filter_entry(list ? list : empty, op, err);
        json_decref(empty);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Expected: validation (dynalite's order, tested against DynamoDB) and translation. */
static int compile_expected(const json_t *expected, bool or_op, struct ddb_expr **out,
                            struct ddb_err *err)
{
    if (check_op_enums(expected, "expected", false, err) != 0)
        return -1;
    const char *k;
    const json_t *c;
    json_object_foreach((json_t *)expected, k, c)
    {
        bool has_list = json_object_get(c, "AttributeValueList") != NULL;
        bool has_value = present(c, "Value");
        bool has_op = present(c, "ComparisonOperator");
        const json_t *exists = json_object_get(c, "Exists");
        if (has_list && has_value)
            return invalid(err,
                           "One or more parameter values were invalid: Value and "
                           "AttributeValueList cannot be used together for Attribute: %s",
                           k);
        if (has_op) {
            int op = op_from(json_object_get(c, "ComparisonOperator"));
            if (exists != NULL && !json_is_null(exists))
                return invalid(err,
                               "One or more parameter values were invalid: Exists and "
                               "ComparisonOperator cannot be used together for Attribute: %s",
                               k);
            if (op != OP_NULL && op != OP_NOT_NULL && !has_list && !has_value)
                return invalid(err,
                               "One or more parameter values were invalid: Value or "
                               "AttributeValueList must be used with ComparisonOperator: %s for "
                               "Attribute: %s",
                               ops[op].name, k);
            json_t *list = has_value ? json_pack("[O]", json_object_get(c, "Value"))
                                     : json_incref(json_object_get(c, "AttributeValueList"));
            if (list == NULL)
                list = json_array();
            int rc = check_filter_entry(list, op, err);
            json_decref(list);
            if (rc != 0)
                return -1;
        } else if (has_list) {
            return invalid(err,
                           "One or more parameter values were invalid: AttributeValueList can "
                           "only be used with a ComparisonOperator for Attribute: %s",
                           k);
        } else {
            bool ex = exists == NULL || json_is_null(exists) || json_is_true(exists);
            if (ex && !has_value)
                return invalid(err,
                               "One or more parameter values were invalid: Value must be "
                               "provided when Exists is %s for Attribute: %s",
                               exists == NULL || json_is_null(exists) ? "null" : "true", k);
            if (!ex && has_value)
                return invalid(err,
                               "One or more parameter values were invalid: Value cannot be used "
                               "when Exists is false for Attribute: %s",
                               k);
            if (has_value) {
                struct ddb_value tmp;
                if (ddb_value_from_json(json_object_get(c, "Value"), &tmp, err) != 0)
                    return -1;
                ddb_value_destroy(&tmp);
            }
        }
    }
    return translate(expected, true, or_op, out, err);
}

/* QueryFilter / ScanFilter: validation and translation. */
static int compile_filter(const json_t *filter, const char *member, bool or_op,
                          struct ddb_expr **out, struct ddb_err *err)
{
    if (check_conditions(filter, member, err) != 0)
        return -1;
    return translate(filter, false, or_op, out, err);
}

/* ---- compiling ---- */

void ddb_legacy_destroy(struct ddb_legacy *l)
{
    if (l == NULL)
        return;
    ddb_expr_free(l->cond);
    for (size_t i = 0; i < l->nattrs; i++)
        free(l->attrs[i]);
    free(l->attrs);
    for (size_t i = 0; i < l->nkeys; i++) {
        free(l->keys[i].name);
        for (unsigned j = 0; j < 2; j++)
            ddb_value_destroy(&l->keys[i].v[j]);
    }
    free(l->keys);
    for (size_t i = 0; i < l->nupdates; i++) {
        free(l->updates[i].name);
        ddb_value_destroy(&l->updates[i].value);
    }
    free(l->updates);
    memset(l, 0, sizeof *l);
}

static int compile_attrs(const json_t *attrs, struct ddb_legacy *l, struct ddb_err *err)
{
    size_t n = json_array_size(attrs);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(attrs, i), json_array_get(attrs, j)))
                return invalid(err,
                               "One or more parameter values were invalid: Duplicate value in "
                               "attribute name: %s",
                               json_string_value(json_array_get(attrs, i)));
    l->attrs = calloc(n ? n : 1, sizeof *l->attrs);
    if (l->attrs == NULL)
        return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(attrs, i));
        l->attrs[l->nattrs] = strdup(s ? s : "");
        if (l->attrs[l->nattrs] == NULL)
            return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
        l->nattrs++;
    }
    return 0;
}

static int compile_keys(const json_t *keys, struct ddb_legacy *l, struct ddb_err *err)
{
    if (check_conditions(keys, "keyConditions", err) != 0)
        return -1;
    const char *k;
    const json_t *c;
    size_t n = json_object_size(keys);
    if (n != 1 && n != 2)
        return invalid(err, "Conditions can be of length 1 or 2 only");
    l->keys = calloc(n, sizeof *l->keys);
    if (l->keys == NULL)
        return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
    l->has_keys = true;
    json_object_foreach((json_t *)keys, k, c)
    {
        struct ddb_legacy_key *key = &l->keys[l->nkeys++];
        key->name = strdup(k);
        key->op = op_from(json_object_get(c, "ComparisonOperator"));
        const json_t *list = json_object_get(c, "AttributeValueList");
        key->nv = (unsigned)(json_array_size(list) < 2 ? json_array_size(list) : 2);
        if (key->name == NULL || decode_list(list, key->v, 2, err) != 0)
            return key->name ? -1 : ddb_err_set(err, ERR_INTERNAL, "out of memory");
    }
    return 0;
}

static int compile_updates(const json_t *updates, struct ddb_legacy *l, struct ddb_err *err)
{
    static const char *const actions[] = {"PUT", "ADD", "DELETE"};
    const char *k;
    const json_t *c;
    json_object_foreach((json_t *)updates, k, c)
    {
        const json_t *a = json_object_get(c, "Action");
        if (a != NULL && !json_is_null(a)) {
            const char *s = json_string_value(a);
            bool ok = false;
            for (int i = 0; s && i < 3; i++)
                ok = ok || strcmp(s, actions[i]) == 0;
            if (!ok)
                return invalid(err,
                               "1 validation error detected: Value '%s' at "
                               "'attributeUpdates.%s.member.action' failed to satisfy constraint: "
                               "Member must satisfy enum value set: [ADD, DELETE, PUT]",
                               s ? s : "", k);
        }
    }
    size_t n = json_object_size(updates);
    l->updates = calloc(n ? n : 1, sizeof *l->updates);
    if (l->updates == NULL)
        return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
    l->has_updates = true;
    json_object_foreach((json_t *)updates, k, c)
    {
        struct ddb_legacy_update *u = &l->updates[l->nupdates++];
        u->name = strdup(k);
        if (u->name == NULL)
            return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
        const char *s = json_string_value(json_object_get(c, "Action"));
        u->action = s == NULL || strcmp(s, "PUT") == 0 ? 0 : strcmp(s, "ADD") == 0 ? 1 : 2;
        const json_t *v = json_object_get(c, "Value");
        bool has = v != NULL && !json_is_null(v);
        if (has && ddb_value_from_json(v, &u->value, err) != 0)
            return -1;
        if (!has && u->action != 2)
            return invalid(err, "One or more parameter values were invalid: Only DELETE action "
                                "is allowed when no attribute value is specified");
        enum ddb_type t = has ? (enum ddb_type)u->value.type : DDB_NONE;
        if (has && u->action == 2 && !ddb_type_is_set(t))
            return invalid(err,
                           "One or more parameter values were invalid: DELETE action with value "
                           "is not supported for the type %s",
                           ddb_type_name(t));
        if (has && u->action == 1 && t != DDB_L && t != DDB_N && !ddb_type_is_set(t))
            return invalid(err,
                           "One or more parameter values were invalid: ADD action is not "
                           "supported for the type %s",
                           ddb_type_name(t));
    }
    return 0;
}

int ddb_legacy_compile(enum ddb_legacy_op op, const json_t *req, struct ddb_legacy *out,
                       struct ddb_err *err)
{
    memset(out, 0, sizeof *out);
    bool or_op = false;
    if ((op == DDB_LOP_PUT_ITEM || op == DDB_LOP_UPDATE_ITEM || op == DDB_LOP_DELETE_ITEM ||
         op == DDB_LOP_QUERY || op == DDB_LOP_SCAN) &&
        check_conditional_operator(req, &or_op, err) != 0)
        goto fail;
    if (op == DDB_LOP_UPDATE_ITEM && present(req, "AttributeUpdates") &&
        compile_updates(json_object_get(req, "AttributeUpdates"), out, err) != 0)
        goto fail;
    if ((op == DDB_LOP_PUT_ITEM || op == DDB_LOP_UPDATE_ITEM || op == DDB_LOP_DELETE_ITEM) &&
        present(req, "Expected") &&
        compile_expected(json_object_get(req, "Expected"), or_op, &out->cond, err) != 0)
        goto fail;
    if (op == DDB_LOP_QUERY && present(req, "KeyConditions") &&
        compile_keys(json_object_get(req, "KeyConditions"), out, err) != 0)
        goto fail;
    if (op == DDB_LOP_QUERY && present(req, "QueryFilter") &&
        compile_filter(json_object_get(req, "QueryFilter"), "queryFilter", or_op, &out->cond,
                       err) != 0)
        goto fail;
    if (op == DDB_LOP_SCAN && present(req, "ScanFilter") &&
        compile_filter(json_object_get(req, "ScanFilter"), "scanFilter", or_op, &out->cond,
                       err) != 0)
        goto fail;
    if (present(req, "AttributesToGet") &&
        compile_attrs(json_object_get(req, "AttributesToGet"), out, err) != 0)
        goto fail;
    return 0;
fail:
    ddb_legacy_destroy(out);
    return -1;
}

/* ---- using them ---- */

bool ddb_legacy_cond_eval(const struct ddb_legacy *l, const struct ddb_value *item)
{
    return l->cond == NULL || ddb_cond_eval(l->cond, item);
}

int ddb_legacy_project(const struct ddb_legacy *l, const struct ddb_value *item,
                       struct ddb_value *out)
{
    if (l->attrs == NULL) {
        if (item == NULL) {
            ddb_value_set_map(out);
            return 0;
        }
        return ddb_value_copy(out, item);
    }
    ddb_value_set_map(out);
    for (size_t i = 0; item != NULL && i < l->nattrs; i++) {
        const struct ddb_value *v = ddb_map_get(item, l->attrs[i], strlen(l->attrs[i]));
        if (v == NULL)
            continue;
        struct ddb_value copy;
        if (ddb_value_copy(&copy, v) != 0 ||
            ddb_map_put(out, l->attrs[i], strlen(l->attrs[i]), &copy) != 0) {
            ddb_value_destroy(&copy);
            ddb_value_destroy(out);
            return -1;
        }
    }
    return 0;
}

bool ddb_legacy_updates_attr(const struct ddb_legacy *l, const char *name)
{
    for (size_t i = 0; i < l->nupdates; i++)
        if (strcmp(l->updates[i].name, name) == 0)
            return true;
    return false;
}

static int mismatch(struct ddb_err *err)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION, "Type mismatch for attribute to update");
}

int ddb_legacy_update_apply(const struct ddb_legacy *l, const struct ddb_value *old_item,
                            struct ddb_value *new_item, struct ddb_err *err)
{
    if (old_item != NULL) {
        if (ddb_value_copy(new_item, old_item) != 0)
            return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
    } else {
        ddb_value_set_map(new_item);
    }
    for (size_t i = 0; i < l->nupdates; i++) {
        const struct ddb_legacy_update *u = &l->updates[i];
        size_t len = strlen(u->name);
        struct ddb_value *cur = ddb_map_get(new_item, u->name, len);
        struct ddb_value copy;
        if (u->action == 2) { /* DELETE */
            if (u->value.type == DDB_NONE) {
                ddb_map_remove(new_item, u->name, len);
                continue;
            }
            if (cur == NULL)
                continue;
            if (cur->type != u->value.type)
                goto mismatch;
            for (uint32_t j = 0; j < u->value.n; j++)
                ddb_set_remove(cur, &u->value.u.elems[j]);
            if (cur->n == 0)
                ddb_map_remove(new_item, u->name, len);
            continue;
        }
        if (u->action == 1 && cur != NULL) { /* ADD to an existing attribute */
            if (cur->type != u->value.type)
                goto mismatch;
            if (cur->type == DDB_N) {
                struct ddb_num r;
                enum ddb_num_status st = ddb_num_add(&cur->u.num, &u->value.u.num, &r);
                if (st != DDB_NUM_OK) {
                    ddb_num_error(st, "", 0, err);
                    goto fail;
                }
                cur->u.num = r;
            } else if (cur->type == DDB_L) {
                for (uint32_t j = 0; j < u->value.n; j++) {
                    if (ddb_value_copy(&copy, &u->value.u.elems[j]) != 0 ||
                        ddb_list_append(cur, &copy) != 0) {
                        ddb_value_destroy(&copy);
                        goto oom;
                    }
                }
            } else {
                for (uint32_t j = 0; j < u->value.n; j++)
                    if (ddb_set_add(cur, &u->value.u.elems[j]) != 0)
                        goto oom;
            }
            continue;
        }
        /* PUT, or ADD creating the attribute */
        if (ddb_value_copy(&copy, &u->value) != 0)
            goto oom;
        if (ddb_map_put(new_item, u->name, len, &copy) != 0) {
            ddb_value_destroy(&copy);
            goto oom;
        }
    }
    return 0;
mismatch:
    mismatch(err);
    goto fail;
oom:
    ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
fail:
    ddb_value_destroy(new_item);
    return -1;
}

int ddb_legacy_keycond_bind(const struct ddb_legacy *l, const struct ddb_key_schema *schema,
                            struct ddb_key_cond *out, struct ddb_err *err)
{
    /* the key operator of each ComparisonOperator; -1 where there is none */
    static const int key_ops[OP__COUNT] = {
        [OP_EQ] = DDB_KEY_EQ,
        [OP_NE] = -1,
        [OP_LE] = DDB_KEY_LE,
        [OP_LT] = DDB_KEY_LT,
        [OP_GE] = DDB_KEY_GE,
        [OP_GT] = DDB_KEY_GT,
        [OP_NOT_NULL] = -1,
        [OP_NULL] = -1,
        [OP_CONTAINS] = -1,
        [OP_NOT_CONTAINS] = -1,
        [OP_BEGINS_WITH] = DDB_KEY_BEGINS_WITH,
        [OP_IN] = -1,
        [OP_BETWEEN] = DDB_KEY_BETWEEN,
    };
    struct ddb_key_term terms[2];
    size_t n = l->nkeys < 2 ? l->nkeys : 2; /* KeyConditions has one or two (compile_keys) */
    for (size_t i = 0; i < n; i++) {
        const struct ddb_legacy_key *key = &l->keys[i];
        terms[i] = (struct ddb_key_term){
            key->name, strlen(key->name), key_ops[key->op], {&key->v[0], &key->v[1]}, key->nv};
    }
    return ddb__key_bind(terms, n, schema, out, err);
}
