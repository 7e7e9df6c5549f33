/*
 * test_ddb_expr.c — the DynamoDB core (numbers, values, expressions, legacy parameters,
 * capacity) against the conformance cases in tests/data/dynamodb (every .json file), one cmocka test
 * per file; plus randomised number checks against an independent reference.
 *
 * A case file is {"kind": K, "cases": [case, …]}; a case may override "kind". Kinds and
 * their fields are documented in tests/data/dynamodb/README.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/dynamodb/capacity.h"
#include "cloud/dynamodb/expr.h"
#include "cloud/dynamodb/legacy.h"
#include "cloud/dynamodb/num.h"
#include "cloud/dynamodb/value.h"

/* ---- helpers ---- */

static int failures;

static void fail_case(const char *file, size_t i, const json_t *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_case(const char *file, size_t i, const json_t *c, const char *fmt, ...)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    fprintf(stderr, "FAIL %s case %zu%s%s%s: ", file, i, name ? " (" : "", name ? name : "",
            name ? ")" : "");
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failures++;
}

static const char *str(const json_t *c, const char *k)
{
    return json_string_value(json_object_get(c, k));
}

static char *dump(const json_t *j)
{
    return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : strdup("null");
}

/* Compares an error (or its absence) with the case's "error" / "error_type". */
static bool check_error(const char *file, size_t i, const json_t *c, int rc,
                        const struct ddb_err *err)
{
    const char *want = str(c, "error");
    if (want == NULL) {
        if (rc != 0) {
            fail_case(file, i, c, "unexpected error: %s", ddb_err_msg(err));
            return false;
        }
        return true;
    }
    if (rc == 0) {
        fail_case(file, i, c, "expected error \"%s\", got success", want);
        return false;
    }
    if (strcmp(want, ddb_err_msg(err)) != 0) {
        fail_case(file, i, c, "error\n   want: %s\n    got: %s", want, ddb_err_msg(err));
        return false;
    }
    const char *type = str(c, "error_type");
    if (type != NULL && strcmp(type, err_code(err->code)) != 0)
        fail_case(file, i, c, "error type want %s got %s", type, err_code(err->code));
    return false;
}

/* The case's "item" decoded into *item (zeroed first): item, or NULL when the case has none.
 * *ok is false (the case failed) when it does not decode. */
static struct ddb_value *case_item(const char *file, size_t i, const json_t *c,
                                   struct ddb_value *item, bool *ok)
{
    memset(item, 0, sizeof *item);
    *ok = true;
    const json_t *ij = json_object_get(c, "item");
    if (ij == NULL || json_is_null(ij))
        return NULL;
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_item_from_json(ij, item, &err) != 0) {
        fail_case(file, i, c, "bad item: %s", ddb_err_msg(&err));
        ddb_err_clear(&err);
        *ok = false;
        return NULL;
    }
    return item;
}

/* The case's number operands "a" and "b"; false (the case failed) when one does not parse. */
static bool case_operands(const char *file, size_t i, const json_t *c, struct ddb_num *a,
                          struct ddb_num *b)
{
    const char *as = str(c, "a"), *bs = str(c, "b");
    if (ddb_num_parse(as, strlen(as), a) || ddb_num_parse(bs, strlen(bs), b)) {
        fail_case(file, i, c, "bad operands");
        return false;
    }
    return true;
}

/* Byte strings in key order (memcmp, then the shorter first), as -1, 0 or 1. */
static int key_order(const void *a, size_t alen, const void *b, size_t blen)
{
    int m = memcmp(a, b, alen < blen ? alen : blen);
    if (m == 0)
        m = (alen > blen) - (alen < blen);
    return (m > 0) - (m < 0);
}

/* Expected item vs actual: decoded and compared as values (sets regardless of order). */
static void check_item(const char *file, size_t i, const json_t *c, const char *field,
                       const struct ddb_value *got)
{
    const json_t *want = json_object_get(c, field);
    if (want == NULL)
        return;
    struct ddb_value w;
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_item_from_json(want, &w, &err) != 0) {
        fail_case(file, i, c, "bad expected %s: %s", field, ddb_err_msg(&err));
        ddb_err_clear(&err);
        return;
    }
    if (!ddb_value_equal(&w, got)) {
        json_t *g = ddb_item_to_json(got);
        char *gs = dump(g), *ws = dump(want);
        fail_case(file, i, c, "%s\n   want: %s\n    got: %s", field, ws, gs);
        free(gs);
        free(ws);
        json_decref(g);
    }
    ddb_value_destroy(&w);
}

/* ---- kinds ---- */

static void run_num(const char *file, size_t i, const json_t *c)
{
    const char *in = str(c, "in");
    struct ddb_num n;
    enum ddb_num_status st = ddb_num_parse(in, strlen(in), &n);
    struct ddb_err err;
    ddb_err_init(&err);
    int rc = st == DDB_NUM_OK ? 0 : ddb_num_error(st, in, strlen(in), &err);
    if (check_error(file, i, c, rc, &err)) {
        char out[DDB_NUM_STR_MAX];
        ddb_num_format(&n, out);
        const char *want = str(c, "out");
        if (want && strcmp(want, out) != 0)
            fail_case(file, i, c, "format want %s got %s", want, out);
        json_t *sz = json_object_get(c, "size");
        if (sz && (size_t)json_integer_value(sz) != ddb_num_size(&n))
            fail_case(file, i, c, "size want %lld got %zu", json_integer_value(sz),
                      ddb_num_size(&n));
        /* the key encoding round-trips */
        uint8_t k[DDB_NUM_KEY_MAX];
        size_t kl = ddb_num_key_encode(&n, k), used = 0;
        struct ddb_num back;
        if (ddb_num_key_decode(k, kl, &back, &used) != 0 || used != kl ||
            ddb_num_cmp(&back, &n) != 0 || memcmp(&back, &n, sizeof n) != 0)
            fail_case(file, i, c, "key encoding does not round-trip");
    }
    ddb_err_clear(&err);
}

static void run_num_add(const char *file, size_t i, const json_t *c)
{
    struct ddb_num a, b, r;
    if (!case_operands(file, i, c, &a, &b))
        return;
    const char *op = str(c, "op");
    enum ddb_num_status st =
        (op && strcmp(op, "-") == 0) ? ddb_num_sub(&a, &b, &r) : ddb_num_add(&a, &b, &r);
    struct ddb_err err;
    ddb_err_init(&err);
    int rc = st == DDB_NUM_OK ? 0 : ddb_num_error(st, "", 0, &err);
    if (check_error(file, i, c, rc, &err)) {
        char out[DDB_NUM_STR_MAX];
        ddb_num_format(&r, out);
        if (strcmp(str(c, "out"), out) != 0)
            fail_case(file, i, c, "want %s got %s", str(c, "out"), out);
    }
    ddb_err_clear(&err);
}

static void run_num_cmp(const char *file, size_t i, const json_t *c)
{
    struct ddb_num a, b;
    if (!case_operands(file, i, c, &a, &b))
        return;
    int want = (int)json_integer_value(json_object_get(c, "cmp"));
    int got = ddb_num_cmp(&a, &b);
    got = (got > 0) - (got < 0);
    if (want != got)
        fail_case(file, i, c, "cmp want %d got %d", want, got);
}

static void run_value(const char *file, size_t i, const json_t *c)
{
    struct ddb_value v;
    struct ddb_err err;
    ddb_err_init(&err);
    const json_t *item = json_object_get(c, "item");
    int rc = item ? ddb_item_from_json(item, &v, &err)
                  : ddb_value_from_json(json_object_get(c, "value"), &v, &err);
    if (check_error(file, i, c, rc, &err)) {
        const json_t *want = json_object_get(c, "out");
        if (want != NULL) {
            json_t *got = item ? ddb_item_to_json(&v) : ddb_value_to_json(&v);
            if (!json_equal(got, (json_t *)want)) {
                char *g = dump(got), *w = dump(want);
                fail_case(file, i, c, "out\n   want: %s\n    got: %s", w, g);
                free(g);
                free(w);
            }
            /* the direct writer says the same */
            struct buf b;
            buf_init(&b, 1 << 24);
            item ? ddb_item_write_json(&v, &b) : ddb_value_write_json(&v, &b);
            json_t *again = json_loadb(b.data, b.len, JSON_ALLOW_NUL, NULL);
            if (!json_equal(again, got))
                fail_case(file, i, c, "writer output differs: %s", b.data);
            json_decref(again);
            json_decref(got);
            buf_destroy(&b);
        }
        json_t *sz = json_object_get(c, "size");
        if (sz != NULL) {
            size_t got = item ? ddb_item_size(&v) : ddb_value_size(&v);
            if ((size_t)json_integer_value(sz) != got)
                fail_case(file, i, c, "size want %lld got %zu", json_integer_value(sz), got);
        }
        /* the packed form round-trips */
        struct buf b;
        buf_init(&b, 1 << 24);
        struct ddb_value back;
        size_t used = 0;
        if (ddb_value_pack(&v, &b) != BUF_OK ||
            ddb_value_unpack((const uint8_t *)b.data, b.len, &back, &used) != 0 ||
            used != b.len || !ddb_value_equal(&back, &v))
            fail_case(file, i, c, "pack does not round-trip");
        ddb_value_destroy(&back);
        buf_destroy(&b);
        ddb_value_destroy(&v);
    }
    ddb_err_clear(&err);
}

static enum ddb_type type_of(const char *s)
{
    return s ? ddb_type_from_name(s, strlen(s)) : DDB_NONE;
}

/* "schema": {"hash": ["id", "S"], "range": ["sk", "N"]} */
static void read_schema(const json_t *c, struct ddb_key_schema *ks)
{
    const json_t *s = json_object_get(c, "schema");
    const json_t *h = json_object_get(s, "hash"), *r = json_object_get(s, "range");
    ks->hash_name = json_string_value(json_array_get(h, 0));
    ks->hash_type = type_of(json_string_value(json_array_get(h, 1)));
    ks->range_name = r ? json_string_value(json_array_get(r, 0)) : NULL;
    ks->range_type = r ? type_of(json_string_value(json_array_get(r, 1))) : DDB_NONE;
}

static void run_key(const char *file, size_t i, const json_t *c)
{
    struct ddb_key_schema ks;
    read_schema(c, &ks);
    struct ddb_value item;
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_item_from_json(json_object_get(c, "item"), &item, &err) != 0) {
        fail_case(file, i, c, "bad item: %s", ddb_err_msg(&err));
        ddb_err_clear(&err);
        return;
    }
    const char *mode = str(c, "mode");
    int rc = ddb_key_check(&ks, &item,
                           mode && strcmp(mode, "key") == 0 ? DDB_KEY_ONLY : DDB_KEY_ITEM, &err);
    check_error(file, i, c, rc, &err);
    ddb_err_clear(&err);
    ddb_value_destroy(&item);
}

static const char *op_names[] = {
    [DDB_KEY_NONE] = "NONE", [DDB_KEY_EQ] = "EQ",           [DDB_KEY_LT] = "LT",
    [DDB_KEY_LE] = "LE",     [DDB_KEY_GT] = "GT",           [DDB_KEY_GE] = "GE",
    [DDB_KEY_BETWEEN] = "BETWEEN", [DDB_KEY_BEGINS_WITH] = "BEGINS_WITH",
};

static void check_av(const char *file, size_t i, const json_t *c, const char *what,
                     const json_t *want, const struct ddb_value *got)
{
    if (want == NULL)
        return;
    json_t *g = got ? ddb_value_to_json(got) : json_null();
    if (!json_equal(g, (json_t *)want)) {
        char *gs = dump(g), *ws = dump(want);
        fail_case(file, i, c, "%s want %s got %s", what, ws, gs);
        free(gs);
        free(ws);
    }
    json_decref(g);
}

/* Checks a bound key condition against "key": {"hash":…, "op":…, "lo":…, "hi":…} and the
 * "matches" table of [range AttributeValue, bool]. */
static void check_key_cond(const char *file, size_t i, const json_t *c,
                           const struct ddb_key_cond *kc)
{
    const json_t *k = json_object_get(c, "key");
    if (k != NULL) {
        check_av(file, i, c, "hash", json_object_get(k, "hash"), kc->hash);
        const char *op = str(k, "op");
        if (op && strcmp(op, op_names[kc->op]) != 0)
            fail_case(file, i, c, "op want %s got %s", op, op_names[kc->op]);
        check_av(file, i, c, "lo", json_object_get(k, "lo"), kc->lo);
        check_av(file, i, c, "hi", json_object_get(k, "hi"), kc->hi);
    }
    const json_t *m = json_object_get(c, "matches");
    size_t j;
    const json_t *pair;
    json_array_foreach(m, j, pair)
    {
        struct ddb_value v;
        struct ddb_err err;
        ddb_err_init(&err);
        if (ddb_value_from_json(json_array_get(pair, 0), &v, &err) != 0) {
            fail_case(file, i, c, "bad match value");
            ddb_err_clear(&err);
            continue;
        }
        bool want = json_is_true(json_array_get(pair, 1));
        bool got = ddb_key_cond_match(kc, &v);
        /* the byte bounds agree with the predicate */
        for (int pf = 0; pf < 2; pf++) {
            struct buf lo, hi, key;
            buf_init(&lo, 1 << 16);
            buf_init(&hi, 1 << 16);
            buf_init(&key, 1 << 16);
            bool has_lo, lo_incl, has_hi, hi_incl;
            ddb_key_cond_bounds(kc, pf, &lo, &has_lo, &lo_incl, &hi, &has_hi, &hi_incl);
            ddb_key_encode(&v, pf, &key);
            bool in = true;
            if (has_lo) {
                int cmp = key_order(key.data, key.len, lo.data, lo.len);
                in = in && (lo_incl ? cmp >= 0 : cmp > 0);
            }
            if (has_hi) {
                int cmp = key_order(key.data, key.len, hi.data, hi.len);
                in = in && (hi_incl ? cmp <= 0 : cmp < 0);
            }
            if (in != want)
                fail_case(file, i, c, "byte bounds (prefix_free=%d) disagree for match %zu", pf,
                          j);
            buf_destroy(&lo);
            buf_destroy(&hi);
            buf_destroy(&key);
        }
        if (got != want)
            fail_case(file, i, c, "match %zu want %d got %d", j, want, got);
        ddb_value_destroy(&v);
    }
}

static void run_expr(const char *file, size_t i, const json_t *c)
{
    struct ddb_expr_request req = {
        .update = str(c, "update"),
        .condition = str(c, "condition"),
        .key_condition = str(c, "key_condition"),
        .filter = str(c, "filter"),
        .projection = str(c, "projection"),
        .names = json_object_get(c, "names"),
        .values = json_object_get(c, "values"),
    };
    struct ddb_expr_set set;
    struct ddb_err err;
    ddb_err_init(&err);
    bool item_ok;
    struct ddb_value item, *itemp = case_item(file, i, c, &item, &item_ok);
    if (!item_ok)
        goto out;
    int rc = ddb_expr_compile_request(&req, &set, &err);
    if (rc != 0) {
        check_error(file, i, c, rc, &err);
        goto out;
    }
    rc = 0;
    const json_t *result = json_object_get(c, "result");
    struct ddb_expr *cond = set.condition ? set.condition : set.filter;
    if (result != NULL && cond != NULL) {
        bool got = ddb_cond_eval(cond, itemp);
        if (got != json_is_true(result))
            fail_case(file, i, c, "result want %d got %d", json_is_true(result), got);
    }
    if (set.projection != NULL && json_object_get(c, "projected") != NULL) {
        struct ddb_value out;
        if (ddb_project(set.projection, itemp, &out) != 0)
            fail_case(file, i, c, "projection failed");
        else
            check_item(file, i, c, "projected", &out);
        ddb_value_destroy(&out);
    }
    if (set.key_condition != NULL && json_object_get(c, "schema") != NULL) {
        struct ddb_key_schema ks;
        read_schema(c, &ks);
        struct ddb_key_cond kc;
        rc = ddb_keycond_bind(set.key_condition, &ks, &kc, &err);
        if (check_error(file, i, c, rc, &err))
            check_key_cond(file, i, c, &kc);
    } else if (set.update != NULL) {
        struct ddb_value out;
        rc = ddb_update_apply(set.update, itemp, &out, &err);
        if (check_error(file, i, c, rc, &err)) {
            check_item(file, i, c, "new_item", &out);
            struct ddb_value u;
            if (json_object_get(c, "updated_old") && ddb_update_updated(set.update, itemp, &u) == 0) {
                check_item(file, i, c, "updated_old", &u);
                ddb_value_destroy(&u);
            }
            if (json_object_get(c, "updated_new") && ddb_update_updated(set.update, &out, &u) == 0) {
                check_item(file, i, c, "updated_new", &u);
                ddb_value_destroy(&u);
            }
            const json_t *uses = json_object_get(c, "uses");
            const char *k;
            const json_t *v;
            json_object_foreach((json_t *)uses, k, v)
            {
                int got = ddb_expr_uses(set.update, k, strlen(k));
                if (got != (int)json_integer_value(v))
                    fail_case(file, i, c, "uses %s want %lld got %d", k, json_integer_value(v),
                              got);
            }
        }
        ddb_value_destroy(&out);
    } else if (str(c, "error") != NULL) {
        check_error(file, i, c, 0, &err);
    }
    ddb_expr_set_free(&set);
out:
    ddb_err_clear(&err);
    ddb_value_destroy(&item);
}

static void run_legacy(const char *file, size_t i, const json_t *c);
static void run_capacity(const char *file, size_t i, const json_t *c);

static const struct {
    const char *kind;
    void (*run)(const char *, size_t, const json_t *);
} kinds[] = {
    {"num", run_num},       {"num_add", run_num_add}, {"num_cmp", run_num_cmp},
    {"value", run_value},   {"key", run_key},         {"expr", run_expr},
    {"legacy", run_legacy}, {"capacity", run_capacity},
};

/* ---- legacy parameters ---- */

static void run_legacy(const char *file, size_t i, const json_t *c)
{
    struct ddb_err err;
    ddb_err_init(&err);
    bool item_ok;
    struct ddb_value item, *itemp = case_item(file, i, c, &item, &item_ok);
    if (!item_ok)
        goto out;
    const char *op = str(c, "op");
    const json_t *req = json_object_get(c, "request");
    enum ddb_legacy_op lop = ddb_legacy_op_from_name(op ? op : "");
    int rc = ddb_legacy_check_mixing(lop, req, &err);
    if (rc != 0) {
        check_error(file, i, c, rc, &err);
        goto out;
    }
    struct ddb_legacy lg;
    rc = ddb_legacy_compile(lop, req, &lg, &err);
    if (!check_error(file, i, c, rc, &err))
        goto out;
    const json_t *result = json_object_get(c, "result");
    if (result != NULL) {
        bool got = ddb_legacy_cond_eval(&lg, itemp);
        if (got != json_is_true(result))
            fail_case(file, i, c, "result want %d got %d", json_is_true(result), got);
    }
    if (json_object_get(c, "new_item") != NULL) {
        struct ddb_value out;
        struct ddb_err e2;
        ddb_err_init(&e2);
        const char *werr = str(c, "apply_error");
        int arc = ddb_legacy_update_apply(&lg, itemp, &out, &e2);
        if (werr != NULL) {
            if (arc == 0 || strcmp(werr, ddb_err_msg(&e2)) != 0)
                fail_case(file, i, c, "apply error want %s got %s", werr, ddb_err_msg(&e2));
        } else if (arc != 0) {
            fail_case(file, i, c, "apply failed: %s", ddb_err_msg(&e2));
        } else {
            check_item(file, i, c, "new_item", &out);
        }
        ddb_value_destroy(&out);
        ddb_err_clear(&e2);
    }
    if (json_object_get(c, "projected") != NULL) {
        struct ddb_value out;
        if (ddb_legacy_project(&lg, itemp, &out) != 0)
            fail_case(file, i, c, "projection failed");
        else
            check_item(file, i, c, "projected", &out);
        ddb_value_destroy(&out);
    }
    if (json_object_get(c, "schema") != NULL) {
        struct ddb_key_schema ks;
        read_schema(c, &ks);
        struct ddb_key_cond kc;
        struct ddb_err e3;
        ddb_err_init(&e3);
        const char *berr = str(c, "bind_error");
        int brc = ddb_legacy_keycond_bind(&lg, &ks, &kc, &e3);
        if (berr != NULL) {
            if (brc == 0 || strcmp(berr, ddb_err_msg(&e3)) != 0)
                fail_case(file, i, c, "bind error\n   want: %s\n    got: %s", berr,
                          ddb_err_msg(&e3));
        } else if (brc != 0) {
            fail_case(file, i, c, "bind failed: %s", ddb_err_msg(&e3));
        } else {
            check_key_cond(file, i, c, &kc);
        }
        ddb_err_clear(&e3);
    }
    ddb_legacy_destroy(&lg);
out:
    ddb_err_clear(&err);
    ddb_value_destroy(&item);
}

/* ---- capacity ---- */

static void run_capacity(const char *file, size_t i, const json_t *c)
{
    const char *what = str(c, "what");
    long long bytes = json_integer_value(json_object_get(c, "bytes"));
    double want = json_number_value(json_object_get(c, "units"));
    double got = 0;
    if (strcmp(what, "read") == 0) {
        const char *mode = str(c, "mode");
        enum ddb_read_mode m = DDB_READ_EVENTUAL;
        if (mode && strcmp(mode, "strong") == 0)
            m = DDB_READ_STRONG;
        if (mode && strcmp(mode, "transactional") == 0)
            m = DDB_READ_TRANSACTIONAL;
        got = ddb_read_units((size_t)bytes, m);
    } else if (strcmp(what, "write") == 0) {
        got = ddb_write_units((size_t)bytes, json_is_true(json_object_get(c, "transactional")));
    } else if (strcmp(what, "json") == 0) {
        struct ddb_capacity cap;
        ddb_capacity_init(&cap, str(c, "table"));
        const json_t *adds = json_object_get(c, "adds");
        size_t j;
        const json_t *a;
        json_array_foreach(adds, j, a)
        {
            const char *idx = str(a, "index");
            const char *kind = str(a, "kind");
            double u = json_number_value(json_object_get(a, "units"));
            enum ddb_cap_kind k = strcmp(kind, "read") == 0 ? DDB_CAP_READ : DDB_CAP_WRITE;
            bool global = json_is_true(json_object_get(a, "global"));
            if (idx == NULL)
                ddb_capacity_add_table(&cap, k, u);
            else
                ddb_capacity_add_index(&cap, idx, global, k, u);
        }
        const char *rc = str(c, "return");
        json_t *out = ddb_capacity_to_json(&cap, rc && strcmp(rc, "INDEXES") == 0);
        if (!json_equal(out, json_object_get(c, "out"))) {
            char *g = dump(out), *w = dump(json_object_get(c, "out"));
            fail_case(file, i, c, "json\n   want: %s\n    got: %s", w, g);
            free(g);
            free(w);
        }
        json_decref(out);
        ddb_capacity_destroy(&cap);
        return;
    }
    if (got != want)
        fail_case(file, i, c, "units want %g got %g", want, got);
}

/* ---- driver ---- */

static void run_file(void **state)
{
    const char *path = *state;
    json_error_t jerr;
    json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
        fail();
    }
    const char *file = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dflt = str(doc, "kind");
    failures = 0;
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *kind = str(c, "kind") ? str(c, "kind") : dflt;
        bool found = false;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            if (kind && strcmp(kinds[k].kind, kind) == 0) {
                kinds[k].run(file, i, c);
                found = true;
            }
        }
        if (!found)
            fail_case(file, i, c, "unknown kind %s", kind ? kind : "(none)");
    }
    printf("%s: %zu cases, %d failures\n", file, json_array_size(json_object_get(doc, "cases")),
           failures);
    json_decref(doc);
    assert_int_equal(failures, 0);
}

/* ---- numbers against a reference ---- */

/* Reference: a number as sign + a fixed-point digit string (200 integer and 200 fraction
 * digits), compared as text. Independent of num.c's representation. */
#define REF_INT  200
#define REF_FRAC 200
struct ref {
    int sign;
    char d[REF_INT + REF_FRAC + 1];
};

static void ref_from(const char *s, struct ref *r)
{
    memset(r->d, '0', REF_INT + REF_FRAC);
    r->d[REF_INT + REF_FRAC] = '\0';
    r->sign = 1;
    if (*s == '-' || *s == '+')
        r->sign = *s++ == '-' ? -1 : 1;
    const char *dot = strchr(s, '.');
    const char *e = strpbrk(s, "eE");
    long exp = e ? strtol(e + 1, NULL, 10) : 0;
    const char *end = e ? e : s + strlen(s);
    long intlen = dot ? dot - s : end - s;
    long k = 0;
    for (const char *p = s; p < end; p++) {
        if (*p == '.')
            continue;
        long pos = REF_INT - intlen + k - exp; /* index of this digit */
        if (pos >= 0 && pos < REF_INT + REF_FRAC)
            r->d[pos] = *p;
        k++;
    }
    if (strspn(r->d, "0") == REF_INT + REF_FRAC)
        r->sign = 0;
}

static int ref_cmp(const struct ref *a, const struct ref *b)
{
    if (a->sign != b->sign)
        return a->sign < b->sign ? -1 : 1;
    int c = strcmp(a->d, b->d);
    c = (c > 0) - (c < 0);
    return a->sign >= 0 ? c : -c;
}

static void random_number(char *out, size_t cap, unsigned *seed)
{
    int nd = 1 + rand_r(seed) % 38;
    int e = -130 + rand_r(seed) % 256; /* -130 .. 125 */
    if (rand_r(seed) % 4 == 0)
        e = -3 + rand_r(seed) % 7; /* crowd near 1 so equal exponents happen */
    char digits[40];
    digits[0] = (char)('1' + rand_r(seed) % 9);
    for (int k = 1; k < nd; k++)
        digits[k] = (char)('0' + rand_r(seed) % (rand_r(seed) % 3 ? 10 : 2));
    digits[nd] = '\0';
    if (rand_r(seed) % 10 == 0)
        snprintf(out, cap, "0");
    else
        snprintf(out, cap, "%s%c.%sE%d", rand_r(seed) % 2 ? "-" : "", digits[0], digits + 1, e);
}

static void test_number_order(void **state)
{
    (void)state;
    unsigned seed = 20261201;
    for (int i = 0; i < 200000; i++) {
        char as[64], bs[64];
        random_number(as, sizeof as, &seed);
        if (i % 7 == 0)
            snprintf(bs, sizeof bs, "%s", as); /* equal pairs too */
        else
            random_number(bs, sizeof bs, &seed);
        struct ddb_num a, b;
        assert_int_equal(ddb_num_parse(as, strlen(as), &a), DDB_NUM_OK);
        assert_int_equal(ddb_num_parse(bs, strlen(bs), &b), DDB_NUM_OK);
        struct ref ra, rb;
        ref_from(as, &ra);
        ref_from(bs, &rb);
        int want = ref_cmp(&ra, &rb);
        int got = ddb_num_cmp(&a, &b);
        got = (got > 0) - (got < 0);
        if (want != got)
            fail_msg("%s vs %s: want %d got %d", as, bs, want, got);
        uint8_t ka[DDB_NUM_KEY_MAX], kb[DDB_NUM_KEY_MAX];
        size_t la = ddb_num_key_encode(&a, ka), lb = ddb_num_key_encode(&b, kb);
        int m = key_order(ka, la, kb, lb);
        if (m != want)
            fail_msg("key order %s vs %s: want %d got %d", as, bs, want, m);
        /* rendering parses back to the same number */
        char txt[DDB_NUM_STR_MAX];
        ddb_num_format(&a, txt);
        struct ddb_num back;
        assert_int_equal(ddb_num_parse(txt, strlen(txt), &back), DDB_NUM_OK);
        assert_int_equal(ddb_num_cmp(&a, &back), 0);
    }
}

/* a + b - b == a whenever both steps fit; a - a == 0; a + b == b + a. */
static void test_number_arith(void **state)
{
    (void)state;
    unsigned seed = 77;
    for (int i = 0; i < 100000; i++) {
        char as[64], bs[64];
        random_number(as, sizeof as, &seed);
        random_number(bs, sizeof bs, &seed);
        struct ddb_num a, b, s1, s2, back, z;
        ddb_num_parse(as, strlen(as), &a);
        ddb_num_parse(bs, strlen(bs), &b);
        enum ddb_num_status st1 = ddb_num_add(&a, &b, &s1);
        enum ddb_num_status st2 = ddb_num_add(&b, &a, &s2);
        assert_int_equal(st1, st2);
        if (st1 == DDB_NUM_OK) {
            assert_int_equal(ddb_num_cmp(&s1, &s2), 0);
            if (ddb_num_sub(&s1, &b, &back) == DDB_NUM_OK)
                if (ddb_num_cmp(&back, &a) != 0)
                    fail_msg("(%s + %s) - %s != %s", as, bs, bs, as);
        }
        assert_int_equal(ddb_num_sub(&a, &a, &z), DDB_NUM_OK);
        assert_true(ddb_num_is_zero(&z));
    }
}

int main(void)
{
    const char *src = getenv("HAAR_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/dynamodb", src ? src : ".");
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "cannot open %s\n", dir);
        return 1;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL && n < 256) {
        size_t l = strlen(de->d_name);
        /* ops_*.json are whole operations: test_ddb_engine replays them */
        if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0 &&
            strncmp(de->d_name, "ops_", 4) != 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* sorted, for a stable order */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    struct CMUnitTest *tests = calloc(n + 2, sizeof *tests);
    char **paths = calloc(n, sizeof *paths);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(dir) + strlen(names[i]) + 2;
        paths[i] = malloc(l);
        snprintf(paths[i], l, "%s/%s", dir, names[i]);
        tests[i].name = names[i];
        tests[i].test_func = run_file;
        tests[i].initial_state = paths[i];
    }
    tests[n].name = "number_order";
    tests[n].test_func = test_number_order;
    tests[n + 1].name = "number_arith";
    tests[n + 1].test_func = test_number_arith;
    int rc = _cmocka_run_group_tests("ddb_expr", tests, n + 2, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(paths[i]);
        free(names[i]);
    }
    free(paths);
    free(tests);
    return rc;
}
