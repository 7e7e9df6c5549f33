/*
 * expr_eval.c — expressions, back half: evaluating conditions on items, projections,
 * applying updates, and key conditions for Query (see expr.h).
 */
#include "cloud/dynamodb/expr_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

/* ---- paths ---- */

/* What one path element names inside cur: a map's attribute or a list's element; NULL when
 * cur has none (or is of the other kind). */
static const struct ddb_value *step(const struct ddb_value *cur, const struct ddb_path_elem *el)
{
    if (el->name != NULL)
        return cur->type == DDB_M ? ddb_map_get(cur, el->name, el->len) : NULL;
    return cur->type == DDB_L && el->index < cur->n ? &cur->u.elems[el->index] : NULL;
}

const struct ddb_value *ddb__path_get(const struct ddb_expr *e, const struct ddb_path *p,
                                      const struct ddb_value *item)
{
    const struct ddb_value *cur = item;
    for (uint32_t i = 0; cur != NULL && i < p->n; i++)
        cur = step(cur, ddb__elem(e, p, i));
    return cur;
}

static int elem_cmp(const struct ddb_path_elem *x, const struct ddb_path_elem *y)
{
    if ((x->name == NULL) != (y->name == NULL))
        return x->name != NULL ? -1 : 1;
    if (x->name == NULL)
        return (x->index > y->index) - (x->index < y->index);
    size_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->name, y->name, n) : 0;
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

int ddb__path_cmp(const struct ddb_expr *e, const struct ddb_path *a, const struct ddb_path *b)
{
    uint32_t n = a->n < b->n ? a->n : b->n;
    for (uint32_t i = 0; i < n; i++) {
        int c = elem_cmp(ddb__elem(e, a, i), ddb__elem(e, b, i));
        if (c != 0)
            return c;
    }
    return (a->n > b->n) - (a->n < b->n);
}

void ddb__path_render(const struct ddb_expr *e, const struct ddb_path *p, struct buf *out)
{
    buf_puts(out, "[");
    for (uint32_t i = 0; i < p->n; i++) {
        const struct ddb_path_elem *el = ddb__elem(e, p, i);
        if (i > 0)
            buf_puts(out, ", ");
        if (el->name != NULL)
            buf_append(out, el->name, el->len);
        else
            buf_printf(out, "[%u]", el->index);
    }
    buf_puts(out, "]");
}

/* ---- conditions ---- */

static uint32_t arg(const struct ddb_expr *e, const struct ddb_node *n, uint16_t i)
{
    return e->args[n->args + i];
}

/* UTF-16 code units of a UTF-8 string (what size() reports for S). */
static uint32_t utf16_units(const char *s, uint32_t n)
{
    uint32_t units = 0;
    for (uint32_t i = 0; i < n;) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (k == 0)
            k = 1;
        units += k == 4 ? 2 : 1;
        i += (uint32_t)k;
    }
    return units;
}

/* The value of an operand node, or NULL when it has none (a missing attribute, size() of a
 * type that has no size). tmp holds computed numbers. */
static const struct ddb_value *operand(const struct ddb_expr *e, uint32_t node,
                                       const struct ddb_value *item, struct ddb_value *tmp)
{
    const struct ddb_node *n = &e->nodes[node];
    switch (n->kind) {
    case DDB_N_PATH:
        return ddb__path_get(e, &e->paths[n->ref], item);
    case DDB_N_VALUE:
        return n->ref >= 0 ? &e->values[n->ref] : NULL;
    case DDB_N_FUNC: {
        if (n->op != DDB_F_SIZE)
            return NULL;
        struct ddb_value inner;
        const struct ddb_value *v = operand(e, arg(e, n, 0), item, &inner);
        if (v == NULL)
            return NULL;
        long long size;
        switch (v->type) {
        case DDB_S:
            size = utf16_units(v->u.bytes, v->n);
            break;
        case DDB_B:
        case DDB_SS:
        case DDB_NS:
        case DDB_BS:
        case DDB_L:
        case DDB_M:
            size = v->n;
            break;
        default:
            return NULL;
        }
        struct ddb_num num;
        ddb_num_from_ll(&num, size);
        ddb_value_set_n(tmp, &num);
        return tmp;
    }
    default:
        return NULL;
    }
}

static bool ordered(const struct ddb_value *a, const struct ddb_value *b)
{
    return a != NULL && b != NULL && a->type == b->type && ddb_type_is_scalar(a->type);
}

static bool bytes_prefix(const struct ddb_value *s, const struct ddb_value *p)
{
    return p->n <= s->n && (p->n == 0 || memcmp(s->u.bytes, p->u.bytes, p->n) == 0);
}

static bool bytes_contain(const struct ddb_value *s, const struct ddb_value *p)
{
    if (p->n == 0)
        return true;
    if (p->n > s->n)
        return false;
    return memmem(s->u.bytes, s->n, p->u.bytes, p->n) != NULL;
}

static bool contains(const struct ddb_value *a, const struct ddb_value *b)
{
    if (a == NULL || b == NULL)
        return false;
    switch (a->type) {
    case DDB_S:
    case DDB_B:
        return b->type == a->type && bytes_contain(a, b);
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
        return ddb_set_contains(a, b);
    case DDB_L:
        for (uint32_t i = 0; i < a->n; i++)
            if (ddb_value_equal(&a->u.elems[i], b))
                return true;
        return false;
    default:
        return false;
    }
}

static bool eval(const struct ddb_expr *e, uint32_t node, const struct ddb_value *item)
{
    const struct ddb_node *n = &e->nodes[node];
    struct ddb_value t1, t2, t3;
    const struct ddb_value *a, *b, *c;
    switch (n->kind) {
    case DDB_N_AND:
        return eval(e, arg(e, n, 0), item) && eval(e, arg(e, n, 1), item);
    case DDB_N_OR:
        return eval(e, arg(e, n, 0), item) || eval(e, arg(e, n, 1), item);
    case DDB_N_NOT:
        return !eval(e, arg(e, n, 0), item);
    case DDB_N_CMP:
        a = operand(e, arg(e, n, 0), item, &t1);
        b = operand(e, arg(e, n, 1), item, &t2);
        switch (n->op) {
        case DDB_EQ:
            return a != NULL && b != NULL && ddb_value_equal(a, b);
        case DDB_NE:
            return !(a != NULL && b != NULL && ddb_value_equal(a, b));
        case DDB_LT:
            return ordered(a, b) && ddb_scalar_cmp(a, b) < 0;
        case DDB_LE:
            return ordered(a, b) && ddb_scalar_cmp(a, b) <= 0;
        case DDB_GT:
            return ordered(a, b) && ddb_scalar_cmp(a, b) > 0;
        case DDB_GE:
            return ordered(a, b) && ddb_scalar_cmp(a, b) >= 0;
        }
        return false;
    case DDB_N_BETWEEN:
        a = operand(e, arg(e, n, 0), item, &t1);
        b = operand(e, arg(e, n, 1), item, &t2);
        c = operand(e, arg(e, n, 2), item, &t3);
        return ordered(a, b) && ordered(a, c) && ddb_scalar_cmp(a, b) >= 0 &&
               ddb_scalar_cmp(a, c) <= 0;
    case DDB_N_IN:
        a = operand(e, arg(e, n, 0), item, &t1);
        if (a == NULL)
            return false;
        for (uint16_t i = 1; i < n->nargs; i++) {
            b = operand(e, arg(e, n, i), item, &t2);
            if (b != NULL && ddb_value_equal(a, b))
                return true;
        }
        return false;
    case DDB_N_FUNC:
        switch (n->op) {
        case DDB_F_ATTRIBUTE_EXISTS:
            return operand(e, arg(e, n, 0), item, &t1) != NULL;
        case DDB_F_ATTRIBUTE_NOT_EXISTS:
            return operand(e, arg(e, n, 0), item, &t1) == NULL;
        case DDB_F_ATTRIBUTE_TYPE:
            a = operand(e, arg(e, n, 0), item, &t1);
            b = operand(e, arg(e, n, 1), item, &t2);
            return a != NULL && b != NULL && b->type == DDB_S &&
                   ddb_type_from_name(b->u.bytes, b->n) == a->type;
        case DDB_F_BEGINS_WITH:
            a = operand(e, arg(e, n, 0), item, &t1);
            b = operand(e, arg(e, n, 1), item, &t2);
            return a != NULL && b != NULL && a->type == b->type &&
                   (a->type == DDB_S || a->type == DDB_B) && bytes_prefix(a, b);
        case DDB_F_CONTAINS:
            a = operand(e, arg(e, n, 0), item, &t1);
            b = operand(e, arg(e, n, 1), item, &t2);
            return contains(a, b);
        default:
            return false;
        }
    default:
        return false;
    }
}

bool ddb_cond_eval(const struct ddb_expr *e, const struct ddb_value *item)
{
    if (e == NULL || e->root < 0)
        return true;
    return eval(e, (uint32_t)e->root, item);
}

/* ---- projections ---- */

struct path_ref {
    const struct ddb_expr *e;
    const struct ddb_path *p;
};

static int path_ref_cmp(const void *a, const void *b)
{
    const struct path_ref *x = a, *y = b;
    return ddb__path_cmp(x->e, x->p, y->p);
}

static bool value_empty(const struct ddb_value *v)
{
    return (v->type == DDB_M || v->type == DDB_L) && v->n == 0;
}

/* Copies into out (an empty M or L, by the kind of element at depth) what paths[0..n) —
 * sorted, sharing their first depth elements — select from src. */
static int extract(const struct path_ref *paths, size_t n, uint32_t depth,
                   const struct ddb_value *src, struct ddb_value *out)
{
    size_t i = 0;
    while (i < n) {
        const struct ddb_expr *e = paths[i].e;
        const struct ddb_path_elem *el = ddb__elem(e, paths[i].p, depth);
        size_t j = i + 1;
        while (j < n && paths[j].p->n > depth &&
               elem_cmp(ddb__elem(paths[j].e, paths[j].p, depth), el) == 0)
            j++;
        const struct ddb_value *child = step(src, el);
        if (child != NULL) {
            struct ddb_value got;
            bool leaf = false;
            for (size_t k = i; k < j; k++)
                if (paths[k].p->n == depth + 1)
                    leaf = true;
            if (leaf) {
                if (ddb_value_copy(&got, child) != 0)
                    return -1;
            } else {
                const struct ddb_path_elem *next = ddb__elem(e, paths[i].p, depth + 1);
                if (next->name != NULL)
                    ddb_value_set_map(&got);
                else
                    ddb_value_set_list(&got);
                if (extract(paths + i, j - i, depth + 1, child, &got) != 0) {
                    ddb_value_destroy(&got);
                    return -1;
                }
                if (value_empty(&got)) {
                    ddb_value_destroy(&got);
                    i = j;
                    continue;
                }
            }
            int rc = out->type == DDB_M ? ddb_map_put(out, el->name, el->len, &got)
                                        : ddb_list_append(out, &got);
            if (rc != 0) {
                ddb_value_destroy(&got);
                return -1;
            }
        }
        i = j;
    }
    return 0;
}

/* Projects item onto the paths of e that pass the filter (all, or the update targets). */
static int project_paths(const struct ddb_expr *e, bool targets_only,
                         const struct ddb_value *item, struct ddb_value *out)
{
    ddb_value_set_map(out);
    if (item == NULL || item->type != DDB_M || e->npaths == 0)
        return 0;
    struct path_ref *refs = calloc(e->npaths, sizeof *refs);
    if (refs == NULL)
        return -1;
    size_t n = 0;
    for (uint32_t i = 0; i < e->npaths; i++)
        if (!targets_only || e->paths[i].target)
            refs[n++] = (struct path_ref){e, &e->paths[i]};
    qsort(refs, n, sizeof *refs, path_ref_cmp);
    int rc = extract(refs, n, 0, item, out);
    free(refs);
    if (rc != 0)
        ddb_value_destroy(out);
    return rc;
}

int ddb_project(const struct ddb_expr *e, const struct ddb_value *item, struct ddb_value *out)
{
    return project_paths(e, false, item, out);
}

int ddb_update_updated(const struct ddb_expr *e, const struct ddb_value *item,
                       struct ddb_value *out)
{
    return project_paths(e, true, item, out);
}

/* ---- updates ---- */

static int refers_missing(struct ddb_err *err)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION,
                       "The provided expression refers to an attribute that does not exist in "
                       "the item");
}

static int wrong_type(struct ddb_err *err)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION,
                       "An operand in the update expression has an incorrect data type");
}

static int bad_path(struct ddb_err *err)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION,
                       "The document path provided in the update expression is invalid for "
                       "update");
}

static int oom(struct ddb_err *err)
{
    return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
}

static int set_value(const struct ddb_expr *e, uint32_t node, const struct ddb_value *old,
                     struct ddb_value *out, struct ddb_err *err);

/* The two operands of n (a + b, list_append) evaluated into *a and *b (new values). */
static int set_operands(const struct ddb_expr *e, const struct ddb_node *n,
                        const struct ddb_value *old, struct ddb_value *a, struct ddb_value *b,
                        struct ddb_err *err)
{
    if (set_value(e, arg(e, n, 0), old, a, err) != 0)
        return -1;
    if (set_value(e, arg(e, n, 1), old, b, err) != 0) {
        ddb_value_destroy(a);
        return -1;
    }
    return 0;
}

/* Evaluates a SET operand against the old item into *out (a new value). */
static int set_value(const struct ddb_expr *e, uint32_t node, const struct ddb_value *old,
                     struct ddb_value *out, struct ddb_err *err)
{
    const struct ddb_node *n = &e->nodes[node];
    memset(out, 0, sizeof *out);
    switch (n->kind) {
    case DDB_N_VALUE:
        return ddb_value_copy(out, &e->values[n->ref]) == 0 ? 0 : oom(err);
    case DDB_N_PATH: {
        const struct ddb_value *v = ddb__path_get(e, &e->paths[n->ref], old);
        if (v == NULL)
            return refers_missing(err);
        return ddb_value_copy(out, v) == 0 ? 0 : oom(err);
    }
    case DDB_N_PLUS:
    case DDB_N_MINUS: {
        struct ddb_value a, b;
        if (set_operands(e, n, old, &a, &b, err) != 0)
            return -1;
        int rc = 0;
        if (a.type != DDB_N || b.type != DDB_N) {
            rc = wrong_type(err);
        } else {
            struct ddb_num r;
            enum ddb_num_status st = n->kind == DDB_N_PLUS ? ddb_num_add(&a.u.num, &b.u.num, &r)
                                                           : ddb_num_sub(&a.u.num, &b.u.num, &r);
            if (st != DDB_NUM_OK)
                rc = ddb_num_error(st, "", 0, err);
            else
                ddb_value_set_n(out, &r);
        }
        ddb_value_destroy(&a);
        ddb_value_destroy(&b);
        return rc;
    }
    case DDB_N_FUNC:
        if (n->op == DDB_F_IF_NOT_EXISTS) {
            const struct ddb_node *p = &e->nodes[arg(e, n, 0)];
            const struct ddb_value *v = ddb__path_get(e, &e->paths[p->ref], old);
            if (v != NULL)
                return ddb_value_copy(out, v) == 0 ? 0 : oom(err);
            return set_value(e, arg(e, n, 1), old, out, err);
        }
        if (n->op == DDB_F_LIST_APPEND) {
            struct ddb_value a, b;
            if (set_operands(e, n, old, &a, &b, err) != 0)
                return -1;
            if (a.type != DDB_L || b.type != DDB_L) {
                ddb_value_destroy(&a);
                ddb_value_destroy(&b);
                return wrong_type(err);
            }
            for (uint32_t i = 0; i < b.n; i++) {
                if (ddb_list_append(&a, &b.u.elems[i]) != 0) {
                    ddb_value_destroy(&a);
                    ddb_value_destroy(&b);
                    return oom(err);
                }
            }
            free(b.u.elems); /* its elements moved into a */
            ddb_value_move(out, &a);
            return 0;
        }
        return wrong_type(err);
    default:
        return wrong_type(err);
    }
}

/* The container holding the path's last element, in item; NULL (with err set) when a step
 * is missing or of the wrong kind. */
static struct ddb_value *parent_of(const struct ddb_expr *e, const struct ddb_path *p,
                                   struct ddb_value *item, struct ddb_err *err)
{
    struct ddb_value *cur = item;
    for (uint32_t i = 0; i + 1 < p->n; i++) {
        /* inside item, which the caller may change */
        struct ddb_value *next = (struct ddb_value *)step(cur, ddb__elem(e, p, i));
        if (next == NULL) {
            bad_path(err);
            return NULL;
        }
        cur = next;
    }
    const struct ddb_path_elem *last = ddb__elem(e, p, p->n - 1);
    if ((last->name != NULL && cur->type != DDB_M) || (last->name == NULL && cur->type != DDB_L)) {
        bad_path(err);
        return NULL;
    }
    return cur;
}

/* The element the path's last step names inside parent (from parent_of), or NULL. */
static struct ddb_value *child_of(struct ddb_value *parent, const struct ddb_path_elem *last)
{
    return (struct ddb_value *)step(parent, last);
}

/* Puts *v (consumed) at last inside parent: replaces, or adds (a list index past the end
 * appends). */
static int put_child(struct ddb_value *parent, const struct ddb_path_elem *last,
                     struct ddb_value *v, struct ddb_err *err)
{
    if (last->name != NULL)
        return ddb_map_put(parent, last->name, last->len, v) == 0 ? 0 : oom(err);
    if (last->index < parent->n) {
        ddb_value_destroy(&parent->u.elems[last->index]);
        ddb_value_move(&parent->u.elems[last->index], v);
        return 0;
    }
    return ddb_list_append(parent, v) == 0 ? 0 : oom(err);
}

struct ordered_action {
    const struct ddb_expr *e;
    const struct ddb_action *a;
    struct ddb_value value; /* SET: the computed value */
};

/* SETs, in path order (list appends by ascending index); REMOVEs, in reverse path order so
 * indexes keep meaning the original positions; then ADDs and DELETEs. */
static int action_cmp(const void *x, const void *y)
{
    const struct ordered_action *a = x, *b = y;
    int ka = a->a->kind, kb = b->a->kind;
    if (ka != kb)
        return ka < kb ? -1 : 1;
    int c = ddb__path_cmp(a->e, &a->e->paths[a->a->path], &b->e->paths[b->a->path]);
    return ka == DDB_A_REMOVE ? -c : c;
}

static int apply_add(const struct ddb_value *val, struct ddb_value *parent,
                     const struct ddb_path_elem *last, struct ddb_err *err)
{
    struct ddb_value *cur = child_of(parent, last);
    if (cur == NULL) {
        struct ddb_value copy;
        if (ddb_value_copy(&copy, val) != 0)
            return oom(err);
        if (put_child(parent, last, &copy, err) != 0) {
            ddb_value_destroy(&copy);
            return -1;
        }
        return 0;
    }
    if (cur->type != val->type)
        return wrong_type(err);
    if (cur->type == DDB_N) {
        struct ddb_num r;
        enum ddb_num_status st = ddb_num_add(&cur->u.num, &val->u.num, &r);
        if (st != DDB_NUM_OK)
            return ddb_num_error(st, "", 0, err);
        cur->u.num = r;
        return 0;
    }
    for (uint32_t i = 0; i < val->n; i++)
        if (ddb_set_add(cur, &val->u.elems[i]) != 0)
            return oom(err);
    return 0;
}

static int apply_delete(const struct ddb_value *val, struct ddb_value *parent,
                        const struct ddb_path_elem *last, struct ddb_err *err)
{
    struct ddb_value *cur = child_of(parent, last);
    if (cur == NULL)
        return 0;
    if (cur->type != val->type)
        return wrong_type(err);
    for (uint32_t i = 0; i < val->n; i++)
        ddb_set_remove(cur, &val->u.elems[i]);
    if (cur->n == 0) {
        if (last->name != NULL)
            ddb_map_remove(parent, last->name, last->len);
        else
            ddb_list_remove(parent, last->index);
    }
    return 0;
}

int ddb_update_apply(const struct ddb_expr *e, const struct ddb_value *old_item,
                     struct ddb_value *new_item, struct ddb_err *err)
{
    memset(new_item, 0, sizeof *new_item);
    struct ordered_action *acts = calloc(e->nactions ? e->nactions : 1, sizeof *acts);
    if (acts == NULL)
        return oom(err);
    int rc = -1;
    uint32_t n = 0;
    /* every operand is read from the item as it was */
    for (; n < e->nactions; n++) {
        acts[n].e = e;
        acts[n].a = &e->actions[n];
        if (acts[n].a->kind == DDB_A_SET &&
            set_value(e, (uint32_t)acts[n].a->operand, old_item, &acts[n].value, err) != 0)
            goto out;
    }
    qsort(acts, n, sizeof *acts, action_cmp);
    if (old_item != NULL) {
        if (ddb_value_copy(new_item, old_item) != 0) {
            oom(err);
            goto out;
        }
    } else {
        ddb_value_set_map(new_item);
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct ddb_action *a = acts[i].a;
        const struct ddb_path *p = &e->paths[a->path];
        if (a->kind == DDB_A_REMOVE && old_item == NULL)
            continue; /* DynamoDB ignores REMOVE of any path when there is no item */
        struct ddb_value *parent = parent_of(e, p, new_item, err);
        if (parent == NULL)
            goto out;
        const struct ddb_path_elem *last = ddb__elem(e, p, p->n - 1);
        switch (a->kind) {
        case DDB_A_SET:
            if (put_child(parent, last, &acts[i].value, err) != 0)
                goto out;
            break;
        case DDB_A_REMOVE:
            if (last->name != NULL)
                ddb_map_remove(parent, last->name, last->len);
            else
                ddb_list_remove(parent, last->index);
            break;
        case DDB_A_ADD:
            if (apply_add(&e->values[a->operand], parent, last, err) != 0)
                goto out;
            break;
        case DDB_A_DELETE:
            if (apply_delete(&e->values[a->operand], parent, last, err) != 0)
                goto out;
            break;
        }
    }
    rc = 0;
out:
    for (uint32_t i = 0; i < n; i++)
        ddb_value_destroy(&acts[i].value);
    free(acts);
    if (rc != 0)
        ddb_value_destroy(new_item);
    return rc;
}

/* ---- key conditions ---- */

int ddb__key_bind(const struct ddb_key_term *terms, size_t n, const struct ddb_key_schema *schema,
                  struct ddb_key_cond *out, struct ddb_err *err)
{
    assert(n <= 2);
    memset(out, 0, sizeof *out);
    const char *names[2] = {schema->hash_name, schema->range_name};
    enum ddb_type types[2] = {schema->hash_type, schema->range_type};
    bool matched[2] = {false, false};
    for (int k = 0; k < 2; k++) {
        if (names[k] == NULL)
            continue;
        if (k == 0 && schema->range_name == NULL && n > 1)
            return ddb_err_set(err, ERR_DDB_VALIDATION, "Query key condition not supported");
        const struct ddb_key_term *term = NULL;
        size_t len = strlen(names[k]);
        for (size_t i = 0; i < n; i++) {
            if (terms[i].len == len && memcmp(terms[i].name, names[k], len) == 0) {
                term = &terms[i];
                matched[i] = true;
            }
        }
        if (term == NULL) {
            if (k == 0 || n > 1)
                return ddb_err_set(err, ERR_DDB_VALIDATION,
                                   "Query condition missed key schema element: %s", names[k]);
            continue;
        }
        if (term->op < 0)
            return ddb_err_set(err, ERR_DDB_VALIDATION,
                               "Attempted conditional constraint is not an indexable operation");
        for (unsigned j = 0; j < term->nv; j++)
            if (term->v[j]->type != types[k])
                return ddb_err_set(err, ERR_DDB_VALIDATION,
                                   "One or more parameter values were invalid: Condition "
                                   "parameter type does not match schema type");
        if (k == 0) {
            if (term->op != DDB_KEY_EQ)
                return ddb_err_set(err, ERR_DDB_VALIDATION, "Query key condition not supported");
            out->hash = term->v[0];
        } else {
            out->op = (enum ddb_key_op)term->op;
            out->lo = term->v[0];
            out->hi = term->nv > 1 ? term->v[1] : NULL;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!matched[i])
            return ddb_err_set(err, ERR_DDB_VALIDATION, "Query key condition not supported");
    return 0;
}

int ddb_keycond_bind(const struct ddb_expr *e, const struct ddb_key_schema *schema,
                     struct ddb_key_cond *out, struct ddb_err *err)
{
    struct ddb_key_term terms[2];
    for (uint32_t i = 0; i < e->nkey; i++) {
        const struct ddb_key_part *p = &e->key[i];
        const struct ddb_path_elem *el = ddb__elem(e, &e->paths[p->path], 0);
        bool two = p->v2 >= 0;
        terms[i] = (struct ddb_key_term){el->name,
                                         el->len,
                                         p->op,
                                         {&e->values[p->v1], two ? &e->values[p->v2] : NULL},
                                         two ? 2 : 1};
    }
    return ddb__key_bind(terms, e->nkey, schema, out, err);
}

bool ddb_key_cond_match(const struct ddb_key_cond *kc, const struct ddb_value *range)
{
    if (kc->op == DDB_KEY_NONE)
        return true;
    if (range == NULL || kc->lo == NULL || range->type != kc->lo->type)
        return false;
    int c = ddb_scalar_cmp(range, kc->lo);
    switch (kc->op) {
    case DDB_KEY_EQ:
        return c == 0;
    case DDB_KEY_LT:
        return c < 0;
    case DDB_KEY_LE:
        return c <= 0;
    case DDB_KEY_GT:
        return c > 0;
    case DDB_KEY_GE:
        return c >= 0;
    case DDB_KEY_BETWEEN:
        return c >= 0 && kc->hi != NULL && ddb_scalar_cmp(range, kc->hi) <= 0;
    case DDB_KEY_BEGINS_WITH:
        return (range->type == DDB_S || range->type == DDB_B) && bytes_prefix(range, kc->lo);
    default:
        return false;
    }
}

int ddb_key_cond_bounds(const struct ddb_key_cond *kc, bool prefix_free, struct buf *lo,
                        bool *has_lo, bool *lo_incl, struct buf *hi, bool *has_hi,
                        bool *hi_incl)
{
    *has_lo = *has_hi = false;
    *lo_incl = *hi_incl = true;
    int rc = BUF_OK;
    switch (kc->op) {
    case DDB_KEY_NONE:
        return BUF_OK;
    case DDB_KEY_EQ:
        *has_lo = *has_hi = true;
        rc = ddb_key_encode(kc->lo, prefix_free, lo);
        return rc == BUF_OK ? ddb_key_encode(kc->lo, prefix_free, hi) : rc;
    case DDB_KEY_LT:
    case DDB_KEY_LE:
        *has_hi = true;
        *hi_incl = kc->op == DDB_KEY_LE;
        return ddb_key_encode(kc->lo, prefix_free, hi);
    case DDB_KEY_GT:
    case DDB_KEY_GE:
        *has_lo = true;
        *lo_incl = kc->op == DDB_KEY_GE;
        return ddb_key_encode(kc->lo, prefix_free, lo);
    case DDB_KEY_BETWEEN:
        *has_lo = *has_hi = true;
        rc = ddb_key_encode(kc->lo, prefix_free, lo);
        return rc == BUF_OK ? ddb_key_encode(kc->hi, prefix_free, hi) : rc;
    case DDB_KEY_BEGINS_WITH: {
        /* [prefix, successor(prefix)): the encoding without its end mark, then the same
         * bytes with trailing 0xff dropped and the last byte raised by one */
        rc = ddb_key_encode(kc->lo, prefix_free, lo);
        if (rc != BUF_OK)
            return rc;
        if (prefix_free && lo->len >= 2)
            lo->len -= 2; /* the 0x00 0x00 end */
        if (lo->data != NULL)
            lo->data[lo->len] = '\0';
        *has_lo = true;
        size_t n = lo->len;
        while (n > 0 && (unsigned char)lo->data[n - 1] == 0xff)
            n--;
        if (n == 0)
            return BUF_OK; /* every key with this prefix sorts last: no upper bound */
        rc = buf_append(hi, lo->data, n);
        if (rc != BUF_OK)
            return rc;
        hi->data[n - 1] = (char)((unsigned char)hi->data[n - 1] + 1);
        *has_hi = true;
        *hi_incl = false;
        return BUF_OK;
    }
    }
    return BUF_OK;
}
