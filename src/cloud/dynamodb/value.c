/*
 * value.c — the AttributeValue tree (see value.h): building, comparing, JSON in and out
 * with DynamoDB's serialization and validation wording, sizes, key bytes and the packed
 * storage form.
 */
#include "cloud/dynamodb/value.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/str.h"
#include "core/utf8.h"

/* ---- types ---- */

static const char *const type_names[] = {
    [DDB_NONE] = "", [DDB_S] = "S",   [DDB_N] = "N",   [DDB_B] = "B",       [DDB_SS] = "SS",
    [DDB_NS] = "NS", [DDB_BS] = "BS", [DDB_M] = "M",   [DDB_L] = "L",       [DDB_NULL] = "NULL",
    [DDB_BOOL] = "BOOL",
};

const char *ddb_type_name(enum ddb_type t)
{
    return (unsigned)t <= DDB_BOOL ? type_names[t] : "";
}

enum ddb_type ddb_type_from_name(const char *s, size_t len)
{
    for (int t = DDB_S; t <= DDB_BOOL; t++)
        if (strlen(type_names[t]) == len && memcmp(type_names[t], s, len) == 0)
            return (enum ddb_type)t;
    return DDB_NONE;
}

bool ddb_type_is_scalar(enum ddb_type t)
{
    return t == DDB_S || t == DDB_N || t == DDB_B;
}

bool ddb_type_is_set(enum ddb_type t)
{
    return t == DDB_SS || t == DDB_NS || t == DDB_BS;
}

enum ddb_type ddb_set_elem_type(enum ddb_type set)
{
    switch (set) {
    case DDB_SS:
        return DDB_S;
    case DDB_NS:
        return DDB_N;
    case DDB_BS:
        return DDB_B;
    default:
        return DDB_NONE;
    }
}

/* ---- building and freeing ---- */

void ddb_value_destroy(struct ddb_value *v)
{
    if (v == NULL)
        return;
    switch (v->type) {
    case DDB_S:
    case DDB_B:
        free(v->u.bytes);
        break;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        for (uint32_t i = 0; i < v->n; i++)
            ddb_value_destroy(&v->u.elems[i]);
        free(v->u.elems);
        break;
    case DDB_M:
        for (uint32_t i = 0; i < v->n; i++) {
            free(v->u.attrs[i].name);
            ddb_value_destroy(&v->u.attrs[i].value);
        }
        free(v->u.attrs);
        break;
    default:
        break;
    }
    memset(v, 0, sizeof *v);
}

static char *dup_bytes(const void *p, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    if (len > 0)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

int ddb_value_copy(struct ddb_value *dst, const struct ddb_value *src)
{
    struct ddb_value v = *src;
    switch (src->type) {
    case DDB_S:
    case DDB_B:
        v.u.bytes = dup_bytes(src->u.bytes, src->n);
        if (v.u.bytes == NULL)
            goto fail;
        break;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        v.u.elems = NULL;
        if (src->n > 0) {
            v.u.elems = calloc(src->n, sizeof *v.u.elems);
            if (v.u.elems == NULL)
                goto fail;
            for (uint32_t i = 0; i < src->n; i++) {
                if (ddb_value_copy(&v.u.elems[i], &src->u.elems[i]) != 0) {
                    v.n = i;
                    ddb_value_destroy(&v);
                    goto fail;
                }
            }
        }
        break;
    case DDB_M:
        v.u.attrs = NULL;
        if (src->n > 0) {
            v.u.attrs = calloc(src->n, sizeof *v.u.attrs);
            if (v.u.attrs == NULL)
                goto fail;
            for (uint32_t i = 0; i < src->n; i++) {
                const struct ddb_attr *a = &src->u.attrs[i];
                v.u.attrs[i].name = dup_bytes(a->name, a->name_len);
                v.u.attrs[i].name_len = a->name_len;
                if (v.u.attrs[i].name == NULL ||
                    ddb_value_copy(&v.u.attrs[i].value, &a->value) != 0) {
                    v.n = i + 1;
                    ddb_value_destroy(&v);
                    goto fail;
                }
            }
        }
        break;
    default:
        break;
    }
    *dst = v;
    return 0;
fail:
    memset(dst, 0, sizeof *dst);
    return -1;
}

void ddb_value_move(struct ddb_value *dst, struct ddb_value *src)
{
    *dst = *src;
    memset(src, 0, sizeof *src);
}

static int set_bytes(struct ddb_value *v, enum ddb_type t, const void *p, size_t len)
{
    memset(v, 0, sizeof *v);
    if (len > UINT32_MAX)
        return -1;
    char *s = dup_bytes(p, len);
    if (s == NULL)
        return -1;
    v->type = (uint8_t)t;
    v->n = (uint32_t)len;
    v->u.bytes = s;
    return 0;
}

int ddb_value_set_s(struct ddb_value *v, const char *s, size_t len)
{
    return set_bytes(v, DDB_S, s, len);
}

int ddb_value_set_b(struct ddb_value *v, const void *p, size_t len)
{
    return set_bytes(v, DDB_B, p, len);
}

void ddb_value_set_n(struct ddb_value *v, const struct ddb_num *n)
{
    memset(v, 0, sizeof *v);
    v->type = DDB_N;
    v->u.num = *n;
}

void ddb_value_set_bool(struct ddb_value *v, bool b)
{
    memset(v, 0, sizeof *v);
    v->type = DDB_BOOL;
    v->boolean = b ? 1 : 0;
}

void ddb_value_set_null(struct ddb_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = DDB_NULL;
}

void ddb_value_set_map(struct ddb_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = DDB_M;
}

void ddb_value_set_list(struct ddb_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = DDB_L;
}

void ddb_value_set_set(struct ddb_value *v, enum ddb_type set_type)
{
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)set_type;
}

/* Index of name in m, or -(insertion point) - 1. */
static long map_find(const struct ddb_value *m, const char *name, size_t len)
{
    long lo = 0, hi = (long)m->n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        const struct ddb_attr *a = &m->u.attrs[mid];
        int c = ddb_bytes_cmp(a->name, a->name_len, name, len);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

struct ddb_value *ddb_map_get(const struct ddb_value *m, const char *name, size_t len)
{
    if (m == NULL || m->type != DDB_M)
        return NULL;
    long i = map_find(m, name, len);
    return i >= 0 ? &m->u.attrs[i].value : NULL;
}

int ddb_map_put(struct ddb_value *m, const char *name, size_t len, struct ddb_value *val)
{
    long i = map_find(m, name, len);
    if (i >= 0) {
        ddb_value_destroy(&m->u.attrs[i].value);
        ddb_value_move(&m->u.attrs[i].value, val);
        return 0;
    }
    if (len > UINT32_MAX || m->n == UINT32_MAX)
        return -1;
    size_t at = (size_t)(-i - 1);
    char *copy = dup_bytes(name, len);
    if (copy == NULL)
        return -1;
    struct ddb_attr *grown = realloc(m->u.attrs, ((size_t)m->n + 1) * sizeof *grown);
    if (grown == NULL) {
        free(copy);
        return -1;
    }
    m->u.attrs = grown;
    memmove(&grown[at + 1], &grown[at], (m->n - at) * sizeof *grown);
    grown[at].name = copy;
    grown[at].name_len = (uint32_t)len;
    ddb_value_move(&grown[at].value, val);
    m->n++;
    return 0;
}

bool ddb_map_remove(struct ddb_value *m, const char *name, size_t len)
{
    if (m == NULL || m->type != DDB_M)
        return false;
    long i = map_find(m, name, len);
    if (i < 0)
        return false;
    free(m->u.attrs[i].name);
    ddb_value_destroy(&m->u.attrs[i].value);
    memmove(&m->u.attrs[i], &m->u.attrs[i + 1], (m->n - (size_t)i - 1) * sizeof *m->u.attrs);
    m->n--;
    return true;
}

int ddb_list_append(struct ddb_value *l, struct ddb_value *val)
{
    if (l->n == UINT32_MAX)
        return -1;
    struct ddb_value *grown = realloc(l->u.elems, ((size_t)l->n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    l->u.elems = grown;
    ddb_value_move(&grown[l->n++], val);
    return 0;
}

void ddb_list_remove(struct ddb_value *l, uint32_t i)
{
    if (i >= l->n)
        return;
    ddb_value_destroy(&l->u.elems[i]);
    memmove(&l->u.elems[i], &l->u.elems[i + 1], (l->n - i - 1) * sizeof *l->u.elems);
    l->n--;
}

/* Index of e in sorted set s, or -(insertion point) - 1. */
static long set_find(const struct ddb_value *s, const struct ddb_value *e)
{
    long lo = 0, hi = (long)s->n - 1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        int c = ddb_scalar_cmp(&s->u.elems[mid], e);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -lo - 1;
}

bool ddb_set_contains(const struct ddb_value *s, const struct ddb_value *e)
{
    if (!ddb_type_is_set(s->type) || e->type != ddb_set_elem_type(s->type))
        return false;
    return set_find(s, e) >= 0;
}

int ddb_set_add(struct ddb_value *s, const struct ddb_value *e)
{
    long i = set_find(s, e);
    if (i >= 0)
        return 0;
    if (s->n == UINT32_MAX)
        return -1;
    size_t at = (size_t)(-i - 1);
    struct ddb_value copy;
    if (ddb_value_copy(&copy, e) != 0)
        return -1;
    struct ddb_value *grown = realloc(s->u.elems, ((size_t)s->n + 1) * sizeof *grown);
    if (grown == NULL) {
        ddb_value_destroy(&copy);
        return -1;
    }
    s->u.elems = grown;
    memmove(&grown[at + 1], &grown[at], (s->n - at) * sizeof *grown);
    grown[at] = copy;
    s->n++;
    return 0;
}

void ddb_set_remove(struct ddb_value *s, const struct ddb_value *e)
{
    long i = set_find(s, e);
    if (i >= 0)
        ddb_list_remove(s, (uint32_t)i);
}

/* ---- comparing ---- */

int ddb_scalar_cmp(const struct ddb_value *a, const struct ddb_value *b)
{
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    switch (a->type) {
    case DDB_S:
    case DDB_B:
        return ddb_bytes_cmp(a->u.bytes, a->n, b->u.bytes, b->n);
    case DDB_N:
        return ddb_num_cmp(&a->u.num, &b->u.num);
    default:
        return a < b ? -1 : (a > b); /* not ordered: never equal unless the same object */
    }
}

bool ddb_value_equal(const struct ddb_value *a, const struct ddb_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case DDB_S:
    case DDB_B:
        return a->n == b->n && (a->n == 0 || memcmp(a->u.bytes, b->u.bytes, a->n) == 0);
    case DDB_N:
        return ddb_num_cmp(&a->u.num, &b->u.num) == 0;
    case DDB_BOOL:
        return a->boolean == b->boolean;
    case DDB_NULL:
        return true;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        if (a->n != b->n)
            return false;
        for (uint32_t i = 0; i < a->n; i++) /* sets are sorted, so order-free equality */
            if (!ddb_value_equal(&a->u.elems[i], &b->u.elems[i]))
                return false;
        return true;
    case DDB_M:
        if (a->n != b->n)
            return false;
        for (uint32_t i = 0; i < a->n; i++) {
            const struct ddb_attr *x = &a->u.attrs[i], *y = &b->u.attrs[i];
            if (ddb_bytes_cmp(x->name, x->name_len, y->name, y->name_len) != 0 ||
                !ddb_value_equal(&x->value, &y->value))
                return false;
        }
        return true;
    default:
        return false;
    }
}

/* ---- JSON: the serialization pass ---- */

#define SHAPE_DEPTH_MAX 64 /* below this the decode pass reports the nesting error */

enum coral { CORAL_STRING, CORAL_BLOB, CORAL_BOOLEAN };

static int type_error(struct ddb_err *err, const char *msg)
{
    return ddb_err_set(err, ERR_DDB_SERIALIZATION, "%s", msg);
}

/* What Coral says when it finds a JSON value of the wrong kind. */
static int wrong_kind(const json_t *j, enum coral want, struct ddb_err *err)
{
    static const char *const target[] = {"an String", "a Blob", "an Boolean"};
    if (json_is_array(j))
        return type_error(err, "Start of list found where not expected");
    if (json_is_object(j))
        return type_error(err, "Start of structure or map found where not expected.");
    if (json_is_boolean(j))
        return ddb_err_set(err, ERR_DDB_SERIALIZATION,
                           "class java.lang.Boolean can not be converted to %s", target[want]);
    return ddb_err_set(err, ERR_DDB_SERIALIZATION,
                       "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not "
                       "be converted to %s",
                       target[want]);
}

/* Coral's base64 checks, in its order. Returns 0 or -1 with err set. */
static int check_blob(const char *s, size_t len, struct ddb_err *err)
{
    if (len % 4 != 0)
        return ddb_err_set(err, ERR_DDB_SERIALIZATION,
                           "'%.*s' can not be converted to a Blob: Base64 encoded length is "
                           "expected a multiple of 4 bytes but found: %zu",
                           (int)len, s, len);
    for (size_t i = 0; i < len; i++) {
        bool bad = s[i] == '=' ? (i + 1 < len && s[i + 1] != '=') : codec_b64val(s[i]) < 0;
        if (!bad)
            continue;
        size_t clen = 1; /* a non-ASCII character is named whole */
        if ((unsigned char)s[i] >= 0x80) {
            clen = utf8_seq_len((const unsigned char *)s + i, len - i);
            if (clen == 0)
                clen = 1;
        }
        return ddb_err_set(err, ERR_DDB_SERIALIZATION,
                           "'%.*s' can not be converted to a Blob: Invalid Base64 "
                           "character: '%.*s'",
                           (int)len, s, (int)clen, s + i);
    }
    size_t pad = 0;
    while (pad < len && s[len - 1 - pad] == '=')
        pad++;
    size_t data = len - pad;
    bool ok = true;
    if (pad > 2 || (pad > 0 && data % 4 != 4 - pad))
        ok = false;
    else if (pad == 1)
        ok = (codec_b64val(s[data - 1]) & 3) == 0;
    else if (pad == 2)
        ok = (codec_b64val(s[data - 1]) & 15) == 0;
    if (!ok)
        return ddb_err_set(err, ERR_DDB_SERIALIZATION,
                           "'%.*s' can not be converted to a Blob: Invalid last non-pad Base64 "
                           "character dectected",
                           (int)len, s);
    return 0;
}

static int check_scalar(const json_t *j, enum coral want, struct ddb_err *err)
{
    if (j == NULL || json_is_null(j))
        return 0;
    switch (want) {
    case CORAL_STRING:
        return json_is_string(j) ? 0 : wrong_kind(j, want, err);
    case CORAL_BLOB:
        if (!json_is_string(j))
            return wrong_kind(j, want, err);
        return check_blob(json_string_value(j), json_string_length(j), err);
    case CORAL_BOOLEAN:
        if (json_is_boolean(j))
            return 0;
        if (json_is_string(j)) {
            char up[8];
            size_t n = json_string_length(j);
            const char *s = json_string_value(j);
            if (n < sizeof up) {
                for (size_t i = 0; i < n; i++)
                    up[i] = (char)toupper((unsigned char)s[i]);
                up[n] = '\0';
                static const char *const ok[] = {"TRUE", "1", "YES", "FALSE", "0", "NO"};
                for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                    if (strcmp(up, ok[i]) == 0)
                        return 0;
            }
            struct buf b;
            buf_init(&b, (size_t)1 << 30);
            for (size_t i = 0; i < n; i++) {
                char c = (char)toupper((unsigned char)s[i]);
                if (buf_append(&b, &c, 1) != BUF_OK)
                    break;
            }
            ddb_err_set(err, ERR_DDB_SERIALIZATION, "'%s' can not be converted to an Boolean",
                        b.data ? b.data : "");
            buf_destroy(&b);
            return -1;
        }
        return wrong_kind(j, want, err);
    }
    return 0;
}

static int check_attr(const json_t *j, int depth, struct ddb_err *err);

int ddb_json_container_error(const json_t *j, enum ddb_json_container want, struct ddb_err *err)
{
    static const char *const expected[] = {[DDB_JSON_LIST] = "Expected list or null",
                                           [DDB_JSON_MAP] = "Expected map or null",
                                           [DDB_JSON_STRUCT] = "Expected null"};
    bool list = want == DDB_JSON_LIST;
    if (list && json_is_object(j))
        return type_error(err, "Start of structure or map found where not expected.");
    if (!list && json_is_array(j))
        return type_error(err, "Start of list found where not expected");
    return type_error(err, expected[want]);
}

static int check_list(const json_t *j, enum coral elem, bool attrs, int depth,
                      struct ddb_err *err)
{
    if (j == NULL || json_is_null(j))
        return 0;
    if (ddb_json_check_container(j, DDB_JSON_LIST, err) != 0)
        return -1;
    size_t i;
    const json_t *e;
    json_array_foreach(j, i, e)
    {
        if (attrs ? check_attr(e, depth + 1, err) : check_scalar(e, elem, err))
            return -1;
    }
    return 0;
}

static int check_map(const json_t *j, int depth, struct ddb_err *err)
{
    if (j == NULL || json_is_null(j))
        return 0;
    if (ddb_json_check_container(j, DDB_JSON_MAP, err) != 0)
        return -1;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        if (check_attr(v, depth + 1, err))
            return -1;
    }
    return 0;
}

static int check_attr(const json_t *j, int depth, struct ddb_err *err)
{
    if (j == NULL || json_is_null(j))
        return 0;
    if (ddb_json_check_container(j, DDB_JSON_STRUCT, err) != 0)
        return -1;
    if (depth > SHAPE_DEPTH_MAX)
        return 0; /* the decode pass refuses it as too deep */
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        enum ddb_type t = ddb_type_from_name(k, strlen(k));
        int rc = 0;
        switch (t) {
        case DDB_S:
        case DDB_N:
            rc = check_scalar(v, CORAL_STRING, err);
            break;
        case DDB_B:
            rc = check_scalar(v, CORAL_BLOB, err);
            break;
        case DDB_BOOL:
        case DDB_NULL:
            rc = check_scalar(v, CORAL_BOOLEAN, err);
            break;
        case DDB_SS:
        case DDB_NS:
            rc = check_list(v, CORAL_STRING, false, depth, err);
            break;
        case DDB_BS:
            rc = check_list(v, CORAL_BLOB, false, depth, err);
            break;
        case DDB_L:
            rc = check_list(v, CORAL_STRING, true, depth, err);
            break;
        case DDB_M:
            rc = check_map(v, depth, err);
            break;
        default: /* members Coral does not know are ignored */
            break;
        }
        if (rc)
            return -1;
    }
    return 0;
}

int ddb_value_check_json(const json_t *j, struct ddb_err *err)
{
    return check_attr(j, 1, err);
}

int ddb_json_check_string(const json_t *j, struct ddb_err *err)
{
    return check_scalar(j, CORAL_STRING, err);
}

int ddb_item_check_json(const json_t *j, struct ddb_err *err)
{
    return check_map(j, 0, err);
}

/* ---- JSON: validation and decoding ---- */

static int invalid(struct ddb_err *err, const char *msg)
{
    return ddb_err_set(err, ERR_DDB_VALIDATION, "%s", msg);
}

static bool json_boolean_of(const json_t *j)
{
    if (json_is_boolean(j))
        return json_is_true(j);
    const char *s = json_string_value(j);
    return s != NULL && (strcasecmp(s, "TRUE") == 0 || strcmp(s, "1") == 0 ||
                         strcasecmp(s, "YES") == 0);
}

static int decode_blob(const json_t *j, struct ddb_value *out)
{
    struct buf b;
    buf_init(&b, (size_t)UINT32_MAX);
    int rc = -1;
    size_t len = json_string_length(j);
    if (len > 0 && codec_b64_decode(json_string_value(j), len, &b) != BUF_OK)
        goto out;
    rc = ddb_value_set_b(out, b.data ? b.data : "", b.len);
out:
    buf_destroy(&b);
    return rc;
}

static int oom(struct ddb_err *err)
{
    return ddb_err_set(err, ERR_INTERNAL, "The request processing has failed.");
}

/* "[a, b]": the set as it was sent, for the duplicates message. */
static void render_list(const json_t *list, struct buf *b)
{
    buf_puts(b, "[");
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        if (i > 0)
            buf_puts(b, ", ");
        if (json_is_string(e))
            buf_append(b, json_string_value(e), json_string_length(e));
        else
            buf_puts(b, "null");
    }
    buf_puts(b, "]");
}

static int decode_attr(const json_t *j, int level, struct ddb_value *out, struct ddb_err *err);

/* SS, NS, BS: members validated in order, then sorted and checked for duplicates. */
static int decode_set(const json_t *list, enum ddb_type t, struct ddb_value *out,
                      struct ddb_err *err)
{
    ddb_value_set_set(out, t);
    size_t n = json_array_size(list);
    if (n == 0) {
        static const char *const empty[] = {
            [DDB_SS] = "One or more parameter values were invalid: An string set  may not be empty",
            [DDB_NS] = "One or more parameter values were invalid: An number set  may not be empty",
            [DDB_BS] = "One or more parameter values were invalid: Binary sets should not be empty",
        };
        return invalid(err, empty[t]);
    }
    if (n > UINT32_MAX)
        return invalid(err, "Too many elements");
    if (t != DDB_NS) {
        for (size_t i = 0; i < n; i++) {
            const json_t *e = json_array_get(list, i);
            if (json_is_string(e) && json_string_length(e) > 0)
                continue;
            return invalid(err, t == DDB_SS ? "One or more parameter values were invalid: An "
                                              "string set may not have a empty string as a member"
                                            : "One or more parameter values were invalid: Binary "
                                              "sets may not contain null or empty values");
        }
    }
    struct ddb_value *elems = calloc(n, sizeof *elems);
    if (elems == NULL)
        return oom(err);
    out->u.elems = elems;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(list, i);
        int rc;
        if (t == DDB_NS) {
            const char *s = json_string_value(e);
            size_t len = s ? json_string_length(e) : 0;
            struct ddb_num num;
            enum ddb_num_status st = ddb_num_parse(s ? s : "", len, &num);
            if (st != DDB_NUM_OK) {
                ddb_num_error(st, s ? s : "", len, err);
                goto fail;
            }
            ddb_value_set_n(&elems[i], &num);
            rc = 0;
        } else if (t == DDB_SS) {
            rc = ddb_value_set_s(&elems[i], json_string_value(e), json_string_length(e));
        } else {
            rc = decode_blob(e, &elems[i]);
        }
        out->n = (uint32_t)(i + 1);
        if (rc != 0) {
            oom(err);
            goto fail;
        }
    }
    qsort(elems, n, sizeof *elems,
          (int (*)(const void *, const void *))ddb_scalar_cmp);
    for (size_t i = 1; i < n; i++) {
        if (ddb_scalar_cmp(&elems[i - 1], &elems[i]) != 0)
            continue;
        if (t == DDB_NS) {
            invalid(err, "Input collection contains duplicates");
        } else {
            struct buf b;
            buf_init(&b, (size_t)1 << 30);
            render_list(list, &b);
            ddb_err_set(err, ERR_DDB_VALIDATION,
                        t == DDB_SS ? "One or more parameter values were invalid: Input "
                                      "collection %s contains duplicates."
                                    : "One or more parameter values were invalid: Input "
                                      "collection %sof type BS contains duplicates.",
                        b.data ? b.data : "[]");
            buf_destroy(&b);
        }
        goto fail;
    }
    return 0;
fail:
    ddb_value_destroy(out);
    return -1;
}

static int nesting_error(struct ddb_err *err)
{
    return invalid(err, "Nesting Levels have exceeded supported limits: Attributes in the item "
                        "have nested levels beyond supported limit");
}

static int decode_list(const json_t *list, int level, struct ddb_value *out, struct ddb_err *err)
{
    ddb_value_set_list(out);
    size_t n = json_array_size(list);
    if (n == 0)
        return 0;
    if (n > UINT32_MAX)
        return invalid(err, "Too many elements");
    out->u.elems = calloc(n, sizeof *out->u.elems);
    if (out->u.elems == NULL)
        return oom(err);
    for (size_t i = 0; i < n; i++) {
        out->n = (uint32_t)(i + 1);
        if (decode_attr(json_array_get(list, i), level + 1, &out->u.elems[i], err) != 0) {
            ddb_value_destroy(out);
            return -1;
        }
    }
    return 0;
}

static int attr_cmp(const void *a, const void *b)
{
    const struct ddb_attr *x = a, *y = b;
    return ddb_bytes_cmp(x->name, x->name_len, y->name, y->name_len);
}

/* A JSON object of name -> AttributeValue into an M value. item: names are attribute names
 * (checked); level: the level of the values. */
static int decode_map(const json_t *obj, int level, bool item, struct ddb_value *out,
                      struct ddb_err *err)
{
    ddb_value_set_map(out);
    size_t n = json_object_size(obj);
    if (n == 0)
        return 0;
    if (n > UINT32_MAX)
        return invalid(err, "Too many attributes");
    out->u.attrs = calloc(n, sizeof *out->u.attrs);
    if (out->u.attrs == NULL)
        return oom(err);
    const char *k;
    size_t klen;
    const json_t *v;
    size_t i = 0;
    json_object_keylen_foreach((json_t *)obj, k, klen, v)
    {
        if (item && klen == 0) {
            invalid(err, "Empty attribute name");
            goto fail;
        }
        if (item && klen > DDB_NAME_MAX) {
            invalid(err, "Attribute name is too large, must be less than 65536 bytes");
            goto fail;
        }
        struct ddb_attr *a = &out->u.attrs[i];
        a->name = dup_bytes(k, klen);
        a->name_len = (uint32_t)klen;
        out->n = (uint32_t)++i;
        if (a->name == NULL) {
            oom(err);
            goto fail;
        }
        if (decode_attr(v, level, &a->value, err) != 0)
            goto fail;
    }
    qsort(out->u.attrs, out->n, sizeof *out->u.attrs, attr_cmp);
    return 0;
fail:
    ddb_value_destroy(out);
    return -1;
}

static int decode_attr(const json_t *j, int level, struct ddb_value *out, struct ddb_err *err)
{
    memset(out, 0, sizeof *out);
    if (level > DDB_DEPTH_MAX)
        return nesting_error(err);
    if (j == NULL || !json_is_object(j))
        return invalid(err, "Supplied AttributeValue is empty, must contain exactly one of the "
                            "supported datatypes");
    int count = 0;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)j, k, v)
    {
        if (!json_is_null(v) && ddb_type_from_name(k, strlen(k)) != DDB_NONE)
            count++;
    }
    if (count == 0)
        return invalid(err, "Supplied AttributeValue is empty, must contain exactly one of the "
                            "supported datatypes");
    bool have = false;
    json_object_foreach((json_t *)j, k, v)
    {
        enum ddb_type t = ddb_type_from_name(k, strlen(k));
        if (json_is_null(v) || t == DDB_NONE)
            continue;
        struct ddb_value tmp;
        memset(&tmp, 0, sizeof tmp);
        int rc = 0;
        switch (t) {
        case DDB_S:
            rc = ddb_value_set_s(&tmp, json_string_value(v), json_string_length(v));
            if (rc)
                oom(err);
            break;
        case DDB_N: {
            const char *s = json_string_value(v);
            size_t len = json_string_length(v);
            struct ddb_num num;
            enum ddb_num_status st = ddb_num_parse(s, len, &num);
            if (st != DDB_NUM_OK)
                rc = ddb_num_error(st, s, len, err);
            else
                ddb_value_set_n(&tmp, &num);
            break;
        }
        case DDB_B:
            rc = decode_blob(v, &tmp);
            if (rc)
                oom(err);
            break;
        case DDB_BOOL:
            ddb_value_set_bool(&tmp, json_boolean_of(v));
            break;
        case DDB_NULL:
            if (!json_boolean_of(v))
                rc = invalid(err, "One or more parameter values were invalid: Null attribute "
                                  "value types must have the value of true");
            else
                ddb_value_set_null(&tmp);
            break;
        case DDB_SS:
        case DDB_NS:
        case DDB_BS:
            rc = decode_set(v, t, &tmp, err);
            break;
        case DDB_L:
            rc = decode_list(v, level, &tmp, err);
            break;
        case DDB_M:
            rc = decode_map(v, level + 1, false, &tmp, err);
            break;
        default:
            break;
        }
        if (rc != 0) {
            ddb_value_destroy(out);
            return -1;
        }
        if (!have) {
            ddb_value_move(out, &tmp);
            have = true;
        } else {
            ddb_value_destroy(&tmp);
        }
    }
    if (count > 1) {
        ddb_value_destroy(out);
        return invalid(err, "Supplied AttributeValue has more than one datatypes set, must "
                            "contain exactly one of the supported datatypes");
    }
    return 0;
}

int ddb_value_from_json(const json_t *j, struct ddb_value *out, struct ddb_err *err)
{
    memset(out, 0, sizeof *out);
    if (ddb_value_check_json(j, err) != 0)
        return -1;
    return decode_attr(j, 1, out, err);
}

int ddb_item_from_json(const json_t *j, struct ddb_value *out, struct ddb_err *err)
{
    memset(out, 0, sizeof *out);
    if (ddb_item_check_json(j, err) != 0)
        return -1;
    if (j == NULL || json_is_null(j)) {
        ddb_value_set_map(out);
        return 0;
    }
    return decode_map(j, 1, true, out, err);
}

/* ---- JSON out ---- */

static json_t *b64_json(const char *p, size_t len)
{
    struct buf b;
    buf_init(&b, (size_t)1 << 31);
    json_t *s = NULL;
    if (len == 0 || codec_b64_encode(p, len, &b) == BUF_OK)
        s = json_stringn(b.data ? b.data : "", b.len);
    buf_destroy(&b);
    return s;
}

static json_t *scalar_json(const struct ddb_value *v)
{
    char num[DDB_NUM_STR_MAX];
    switch (v->type) {
    case DDB_S:
        return json_stringn(v->u.bytes, v->n);
    case DDB_N:
        ddb_num_format(&v->u.num, num);
        return json_string(num);
    case DDB_B:
        return b64_json(v->u.bytes, v->n);
    default:
        return NULL;
    }
}

json_t *ddb_item_to_json(const struct ddb_value *item)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    for (uint32_t i = 0; i < item->n; i++) {
        const struct ddb_attr *a = &item->u.attrs[i];
        json_t *v = ddb_value_to_json(&a->value);
        if (v == NULL || json_object_setn_new(o, a->name, a->name_len, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *ddb_value_to_json(const struct ddb_value *v)
{
    json_t *inner = NULL;
    switch (v->type) {
    case DDB_S:
    case DDB_N:
    case DDB_B:
        inner = scalar_json(v);
        break;
    case DDB_BOOL:
        inner = json_boolean(v->boolean);
        break;
    case DDB_NULL:
        inner = json_true();
        break;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        inner = json_array();
        for (uint32_t i = 0; inner != NULL && i < v->n; i++) {
            json_t *e = v->type == DDB_L ? ddb_value_to_json(&v->u.elems[i])
                                         : scalar_json(&v->u.elems[i]);
            if (e == NULL || json_array_append_new(inner, e) != 0) {
                json_decref(inner);
                inner = NULL;
            }
        }
        break;
    case DDB_M:
        inner = ddb_item_to_json(v);
        break;
    default:
        return NULL;
    }
    if (inner == NULL)
        return NULL;
    json_t *o = json_object();
    if (o == NULL || json_object_set_new(o, ddb_type_name(v->type), inner) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int write_string(struct buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    int rc = buf_reserve(out, len + 2);
    if (rc != BUF_OK)
        return rc;
    rc = buf_append(out, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; rc == BUF_OK && i < len; i++) {
        i += str_json_plain(s + i, len - i); /* printable ASCII, sixteen bytes a step */
        if (i == len)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue; /* UTF-8 and DEL go out as they are */
        rc = buf_append(out, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        if (rc == BUF_OK)
            rc = buf_append(out, esc, n);
    }
    if (rc == BUF_OK)
        rc = buf_append(out, s + run, len - run);
    if (rc == BUF_OK)
        rc = buf_append(out, "\"", 1);
    return rc;
}

static int write_scalar(const struct ddb_value *v, struct buf *out)
{
    char num[DDB_NUM_STR_MAX];
    switch (v->type) {
    case DDB_S:
        return write_string(out, v->u.bytes, v->n);
    case DDB_N: {
        size_t n = ddb_num_format(&v->u.num, num);
        int rc = buf_append(out, "\"", 1);
        if (rc == BUF_OK)
            rc = buf_append(out, num, n);
        return rc == BUF_OK ? buf_append(out, "\"", 1) : rc;
    }
    case DDB_B: {
        int rc = buf_append(out, "\"", 1);
        if (rc == BUF_OK && v->n > 0)
            rc = codec_b64_encode(v->u.bytes, v->n, out);
        return rc == BUF_OK ? buf_append(out, "\"", 1) : rc;
    }
    default:
        return BUF_OK;
    }
}

int ddb_item_write_json(const struct ddb_value *item, struct buf *out)
{
    int rc = buf_append(out, "{", 1);
    for (uint32_t i = 0; rc == BUF_OK && i < item->n; i++) {
        const struct ddb_attr *a = &item->u.attrs[i];
        if (i > 0)
            rc = buf_append(out, ",", 1);
        if (rc == BUF_OK)
            rc = write_string(out, a->name, a->name_len);
        if (rc == BUF_OK)
            rc = buf_append(out, ":", 1);
        if (rc == BUF_OK)
            rc = ddb_value_write_json(&a->value, out);
    }
    return rc == BUF_OK ? buf_append(out, "}", 1) : rc;
}

int ddb_value_write_json(const struct ddb_value *v, struct buf *out)
{
    int rc = buf_append(out, "{\"", 2);
    if (rc == BUF_OK)
        rc = buf_puts(out, ddb_type_name(v->type));
    if (rc == BUF_OK)
        rc = buf_append(out, "\":", 2);
    if (rc != BUF_OK)
        return rc;
    switch (v->type) {
    case DDB_S:
    case DDB_N:
    case DDB_B:
        rc = write_scalar(v, out);
        break;
    case DDB_BOOL:
        rc = buf_puts(out, v->boolean ? "true" : "false");
        break;
    case DDB_NULL:
        rc = buf_puts(out, "true");
        break;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        rc = buf_append(out, "[", 1);
        for (uint32_t i = 0; rc == BUF_OK && i < v->n; i++) {
            if (i > 0)
                rc = buf_append(out, ",", 1);
            if (rc == BUF_OK)
                rc = v->type == DDB_L ? ddb_value_write_json(&v->u.elems[i], out)
                                      : write_scalar(&v->u.elems[i], out);
        }
        if (rc == BUF_OK)
            rc = buf_append(out, "]", 1);
        break;
    case DDB_M:
        rc = ddb_item_write_json(v, out);
        break;
    default:
        break;
    }
    return rc == BUF_OK ? buf_append(out, "}", 1) : rc;
}

/* ---- sizes ---- */

size_t ddb_value_size(const struct ddb_value *v)
{
    size_t sz = 0;
    switch (v->type) {
    case DDB_S:
    case DDB_B:
        return v->n;
    case DDB_N:
        return ddb_num_size(&v->u.num);
    case DDB_BOOL:
    case DDB_NULL:
        return 1;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
        for (uint32_t i = 0; i < v->n; i++)
            sz += ddb_value_size(&v->u.elems[i]);
        return sz;
    case DDB_L:
        sz = 3;
        for (uint32_t i = 0; i < v->n; i++)
            sz += 1 + ddb_value_size(&v->u.elems[i]);
        return sz;
    case DDB_M:
        sz = 3;
        for (uint32_t i = 0; i < v->n; i++)
            sz += 1 + v->u.attrs[i].name_len + ddb_value_size(&v->u.attrs[i].value);
        return sz;
    default:
        return 0;
    }
}

size_t ddb_item_size(const struct ddb_value *item)
{
    size_t sz = 0;
    for (uint32_t i = 0; i < item->n; i++)
        sz += item->u.attrs[i].name_len + ddb_value_size(&item->u.attrs[i].value);
    return sz;
}

static int value_depth(const struct ddb_value *v)
{
    int d = 0;
    if (v->type == DDB_L)
        for (uint32_t i = 0; i < v->n; i++) {
            int c = value_depth(&v->u.elems[i]);
            d = c > d ? c : d;
        }
    if (v->type == DDB_M)
        for (uint32_t i = 0; i < v->n; i++) {
            int c = value_depth(&v->u.attrs[i].value);
            d = c > d ? c : d;
        }
    return d + 1;
}

int ddb_item_depth(const struct ddb_value *item)
{
    int d = 0;
    for (uint32_t i = 0; i < item->n; i++) {
        int c = value_depth(&item->u.attrs[i].value);
        d = c > d ? c : d;
    }
    return d;
}

/* ---- keys ---- */

int ddb_key_encode(const struct ddb_value *v, bool prefix_free, struct buf *out)
{
    if (v->type == DDB_N) {
        uint8_t k[DDB_NUM_KEY_MAX];
        size_t n = ddb_num_key_encode(&v->u.num, k);
        return buf_append(out, k, n);
    }
    if (v->type != DDB_S && v->type != DDB_B)
        return -1;
    if (!prefix_free)
        return buf_append(out, v->u.bytes, v->n);
    int rc = buf_reserve(out, v->n + 2);
    size_t run = 0;
    for (size_t i = 0; rc == BUF_OK && i < v->n; i++) {
        if (v->u.bytes[i] != '\0')
            continue;
        rc = buf_append(out, v->u.bytes + run, i + 1 - run); /* through the NUL */
        if (rc == BUF_OK)
            rc = buf_append(out, "\xff", 1);
        run = i + 1;
    }
    if (rc == BUF_OK)
        rc = buf_append(out, v->u.bytes + run, v->n - run);
    if (rc == BUF_OK)
        rc = buf_append(out, "\0\0", 2);
    return rc;
}

int ddb_key_decode(enum ddb_type type, const uint8_t *p, size_t len, bool prefix_free,
                   struct ddb_value *out, size_t *used)
{
    memset(out, 0, sizeof *out);
    if (type == DDB_N) {
        struct ddb_num n;
        if (ddb_num_key_decode(p, len, &n, used) != 0)
            return -1;
        ddb_value_set_n(out, &n);
        return 0;
    }
    if (type != DDB_S && type != DDB_B)
        return -1;
    if (!prefix_free) {
        *used = len;
        return set_bytes(out, type, p, len);
    }
    struct buf b;
    buf_init(&b, len + 1);
    size_t i = 0;
    int rc = -1;
    for (;;) {
        if (i >= len)
            goto done;
        if (p[i] != 0) {
            if (buf_append(&b, &p[i], 1) != BUF_OK)
                goto done;
            i++;
            continue;
        }
        if (i + 1 >= len)
            goto done;
        if (p[i + 1] == 0xff) {
            if (buf_append(&b, "", 1) != BUF_OK)
                goto done;
            i += 2;
            continue;
        }
        if (p[i + 1] != 0)
            goto done;
        i += 2;
        break;
    }
    *used = i;
    rc = set_bytes(out, type, b.data ? b.data : "", b.len);
done:
    buf_destroy(&b);
    return rc;
}

static size_t key_size(const struct ddb_value *v)
{
    return v->type == DDB_N ? ddb_num_size(&v->u.num) : v->n;
}

static int check_one_key(const char *name, enum ddb_type want, bool hash,
                         const struct ddb_value *v, enum ddb_key_mode mode, struct ddb_err *err)
{
    if (v == NULL) {
        if (mode == DDB_KEY_ONLY)
            return invalid(err, "The provided key element does not match the schema");
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "One or more parameter values were invalid: Missing the key %s in "
                           "the item",
                           name);
    }
    if (v->type != want) {
        if (mode == DDB_KEY_ONLY)
            return invalid(err, "The provided key element does not match the schema");
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "One or more parameter values were invalid: Type mismatch for key %s "
                           "expected: %s actual: %s",
                           name, ddb_type_name(want), ddb_type_name(v->type));
    }
    if ((v->type == DDB_S || v->type == DDB_B) && v->n == 0)
        return ddb_err_set(err, ERR_DDB_VALIDATION,
                           "One or more parameter values are not valid. The AttributeValue for a "
                           "key attribute cannot contain an empty %s value. Key: %s",
                           v->type == DDB_S ? "string" : "binary", name);
    if (hash && key_size(v) > DDB_HASH_KEY_MAX)
        return invalid(err, "One or more parameter values were invalid: Size of hashkey has "
                            "exceeded the maximum size limit of2048 bytes");
    if (!hash && key_size(v) > DDB_RANGE_KEY_MAX)
        return invalid(err, "One or more parameter values were invalid: Aggregated size of all "
                            "range keys has exceeded the size limit of 1024 bytes");
    return 0;
}

bool ddb_key_match(const struct ddb_key_schema *schema, const struct ddb_value *m)
{
    const struct ddb_value *h = ddb_map_get(m, schema->hash_name, strlen(schema->hash_name));
    const struct ddb_value *r =
        schema->range_name ? ddb_map_get(m, schema->range_name, strlen(schema->range_name)) : NULL;
    return h != NULL && h->type == schema->hash_type &&
           (schema->range_name == NULL || (r != NULL && r->type == schema->range_type));
}

int ddb_key_check(const struct ddb_key_schema *schema, const struct ddb_value *m,
                  enum ddb_key_mode mode, struct ddb_err *err)
{
    if (m == NULL || m->type != DDB_M)
        return invalid(err, "The provided key element does not match the schema");
    if (mode == DDB_KEY_ONLY && m->n != (schema->range_name ? 2u : 1u))
        return invalid(err, "The provided key element does not match the schema");
    /* every attribute of a Key must be a key attribute of the right type first */
    if (mode == DDB_KEY_ONLY && !ddb_key_match(schema, m))
        return invalid(err, "The provided key element does not match the schema");
    const struct ddb_value *h = ddb_map_get(m, schema->hash_name, strlen(schema->hash_name));
    if (check_one_key(schema->hash_name, schema->hash_type, true, h, mode, err) != 0)
        return -1;
    if (schema->range_name) {
        const struct ddb_value *r =
            ddb_map_get(m, schema->range_name, strlen(schema->range_name));
        if (check_one_key(schema->range_name, schema->range_type, false, r, mode, err) != 0)
            return -1;
    }
    return 0;
}

/* ---- storage form ---- */

#define PACK_DEPTH_MAX 64

static int put_varint(struct buf *out, uint32_t v)
{
    uint8_t b[5];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    return buf_append(out, b, n);
}

int ddb_value_pack(const struct ddb_value *v, struct buf *out)
{
    uint8_t t = v->type;
    int rc = buf_append(out, &t, 1);
    if (rc != BUF_OK)
        return rc;
    switch (v->type) {
    case DDB_S:
    case DDB_B:
        rc = put_varint(out, v->n);
        return rc == BUF_OK ? buf_append(out, v->u.bytes, v->n) : rc;
    case DDB_N: {
        uint8_t k[DDB_NUM_KEY_MAX];
        size_t n = ddb_num_key_encode(&v->u.num, k);
        return buf_append(out, k, n);
    }
    case DDB_BOOL:
        return buf_append(out, &v->boolean, 1);
    case DDB_NULL:
        return BUF_OK;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        rc = put_varint(out, v->n);
        for (uint32_t i = 0; rc == BUF_OK && i < v->n; i++)
            rc = ddb_value_pack(&v->u.elems[i], out);
        return rc;
    case DDB_M:
        rc = put_varint(out, v->n);
        for (uint32_t i = 0; rc == BUF_OK && i < v->n; i++) {
            rc = put_varint(out, v->u.attrs[i].name_len);
            if (rc == BUF_OK)
                rc = buf_append(out, v->u.attrs[i].name, v->u.attrs[i].name_len);
            if (rc == BUF_OK)
                rc = ddb_value_pack(&v->u.attrs[i].value, out);
        }
        return rc;
    default:
        return -1;
    }
}

struct reader {
    const uint8_t *p;
    size_t len, at;
};

static int get_varint(struct reader *r, uint32_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (r->at >= r->len)
            return -1;
        uint8_t b = r->p[r->at++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (x > UINT32_MAX)
                return -1;
            *v = (uint32_t)x;
            return 0;
        }
    }
    return -1;
}

static bool valid_utf8(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq_len(s + i, n - i);
        if (k == 0)
            return false;
        i += k;
    }
    return true;
}

static int unpack(struct reader *r, int depth, struct ddb_value *out)
{
    memset(out, 0, sizeof *out);
    if (depth > PACK_DEPTH_MAX || r->at >= r->len)
        return -1;
    uint8_t t = r->p[r->at++];
    uint32_t n;
    switch (t) {
    case DDB_S:
    case DDB_B:
        if (get_varint(r, &n) != 0 || n > r->len - r->at)
            return -1;
        if (t == DDB_S && !valid_utf8(r->p + r->at, n))
            return -1;
        if (set_bytes(out, t, r->p + r->at, n) != 0)
            return -1;
        r->at += n;
        return 0;
    case DDB_N: {
        struct ddb_num num;
        size_t used;
        if (ddb_num_key_decode(r->p + r->at, r->len - r->at, &num, &used) != 0)
            return -1;
        r->at += used;
        ddb_value_set_n(out, &num);
        return 0;
    }
    case DDB_BOOL:
        if (r->at >= r->len || r->p[r->at] > 1)
            return -1;
        ddb_value_set_bool(out, r->p[r->at++]);
        return 0;
    case DDB_NULL:
        ddb_value_set_null(out);
        return 0;
    case DDB_SS:
    case DDB_NS:
    case DDB_BS:
    case DDB_L:
        if (get_varint(r, &n) != 0 || n > r->len - r->at) /* each element takes a byte */
            return -1;
        if (t != DDB_L && n == 0)
            return -1;
        out->type = t;
        if (n == 0)
            return 0;
        out->u.elems = calloc(n, sizeof *out->u.elems);
        if (out->u.elems == NULL)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            out->n = i + 1;
            struct ddb_value *e = &out->u.elems[i];
            if (unpack(r, depth + 1, e) != 0)
                goto fail;
            if (t != DDB_L && (e->type != ddb_set_elem_type(t) ||
                               (i > 0 && ddb_scalar_cmp(&out->u.elems[i - 1], e) >= 0)))
                goto fail;
        }
        return 0;
    case DDB_M:
        if (get_varint(r, &n) != 0 || n > r->len - r->at)
            return -1;
        out->type = DDB_M;
        if (n == 0)
            return 0;
        out->u.attrs = calloc(n, sizeof *out->u.attrs);
        if (out->u.attrs == NULL)
            return -1;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t nl;
            struct ddb_attr *a = &out->u.attrs[i];
            if (get_varint(r, &nl) != 0 || nl > r->len - r->at ||
                !valid_utf8(r->p + r->at, nl))
                goto fail;
            a->name = dup_bytes(r->p + r->at, nl);
            a->name_len = nl;
            out->n = i + 1;
            if (a->name == NULL)
                goto fail;
            r->at += nl;
            if (i > 0 && attr_cmp(&out->u.attrs[i - 1], a) >= 0)
                goto fail;
            if (unpack(r, depth + 1, &a->value) != 0)
                goto fail;
        }
        return 0;
    default:
        return -1;
    }
fail:
    ddb_value_destroy(out);
    return -1;
}

int ddb_value_unpack(const uint8_t *p, size_t len, struct ddb_value *out, size_t *used)
{
    struct reader r = {p, len, 0};
    if (unpack(&r, 0, out) != 0) {
        ddb_value_destroy(out);
        return -1;
    }
    *used = r.at;
    return 0;
}
