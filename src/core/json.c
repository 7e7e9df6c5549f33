#include "core/json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/str.h"
#include "core/utf8.h"

const char *jsonh_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

int jsonh_int(const json_t *obj, const char *key, long long *out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return 1;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return buf_append(data, buffer, size) == BUF_OK ? 0 : -1;
}

int jsonh_dump_buf(const json_t *j, size_t flags, struct buf *out)
{
    size_t before = out->len;
    if (json_dump_callback(j, dump_cb, out, flags | JSON_ENCODE_ANY) != 0) {
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
        return BUF_ETOOBIG;
    }
    return BUF_OK;
}

json_t *jsonh_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = jsonh_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL && err != NULL && errlen > 0)
        snprintf(err, errlen, "%s at line %d column %d", je.text, je.line, je.column);
    return j;
}

/* ---- jsonh_loadb's reader ---------------------------------------------------------------- */

enum { FAST_MAX_DEPTH = 512 };

struct reader {
    const unsigned char *p, *end;
    size_t flags;
    int depth;
    struct buf tmp; /* decoded strings with escapes */
};

static void skip_ws(struct reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = codec_hexval((char)p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The string at r->p (after its opening quote): *s and *n are its decoded bytes, in the input
 * when it has no escape, else in r->tmp. false: declined. */
static bool read_string(struct reader *r, const char **s, size_t *n)
{
    const unsigned char *start = r->p;
    const unsigned char *q = start + str_json_plain((const char *)start, (size_t)(r->end - start));
    if (q < r->end && *q == '"') { /* plain ASCII, the common case */
        *s = (const char *)start;
        *n = (size_t)(q - start);
        r->p = q + 1;
        return true;
    }
    struct buf *t = &r->tmp;
    buf_reset(t);
    q = start;
    while (q < r->end) {
        unsigned char c = *q;
        if (c == '"') {
            *s = t->len ? t->data : "";
            *n = t->len;
            r->p = q + 1;
            return true;
        }
        if (c < 0x20)
            return false; /* a control character: jansson's error */
        if (c >= 0x80) {
            size_t k = utf8_seq_len(q, (size_t)(r->end - q));
            if (k == 0 || buf_append(t, q, k) != BUF_OK)
                return false;
            q += k;
            continue;
        }
        if (c != '\\') { /* a run of plain ASCII */
            size_t k = 1 + str_json_plain((const char *)q + 1, (size_t)(r->end - q - 1));
            if (buf_append(t, q, k) != BUF_OK)
                return false;
            q += k;
            continue;
        }
        if (r->end - q < 2)
            return false;
        char e = (char)q[1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && e != 'u' && simple != NULL) {
            static const char out[] = "\"\\/\b\f\n\r\t";
            if (buf_append(t, &out[simple - "\"\\/bfnrt"], 1) != BUF_OK)
                return false;
            q += 2;
            continue;
        }
        if (e != 'u' || r->end - q < 6)
            return false;
        int cp = hex4(q + 2);
        q += 6;
        if (cp <= 0)
            return false; /* bad hex, or \u0000 */
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return false; /* a lone low surrogate */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (r->end - q < 6 || q[0] != '\\' || q[1] != 'u')
                return false;
            int lo = hex4(q + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            q += 6;
        }
        char u[4];
        size_t un;
        if (cp < 0x80) {
            u[0] = (char)cp;
            un = 1;
        } else if (cp < 0x800) {
            u[0] = (char)(0xC0 | cp >> 6);
            u[1] = (char)(0x80 | (cp & 0x3F));
            un = 2;
        } else if (cp < 0x10000) {
            u[0] = (char)(0xE0 | cp >> 12);
            u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
            u[2] = (char)(0x80 | (cp & 0x3F));
            un = 3;
        } else {
            u[0] = (char)(0xF0 | cp >> 18);
            u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
            u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
            u[3] = (char)(0x80 | (cp & 0x3F));
            un = 4;
        }
        if (buf_append(t, u, un) != BUF_OK)
            return false;
    }
    return false; /* unterminated */
}

/* An integer (no fraction, no exponent: those are left to jansson, as are leading zeros and
 * values past json_int_t) into *out. false: declined. */
static bool scan_int(struct reader *r, json_int_t *out)
{
    const unsigned char *q = r->p;
    bool neg = q < r->end && *q == '-';
    if (neg)
        q++;
    const unsigned char *digits = q;
    uint64_t v = 0;
    while (q < r->end && *q >= '0' && *q <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*q - '0');
        q++;
    }
    size_t nd = (size_t)(q - digits);
    if (nd == 0 || (nd > 1 && *digits == '0'))
        return false;
    if (q < r->end && (*q == '.' || *q == 'e' || *q == 'E'))
        return false;
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    r->p = q;
    *out = neg ? (json_int_t)(0 - v) : (json_int_t)v;
    return true;
}

static json_t *read_number(struct reader *r)
{
    json_int_t i;
    return scan_int(r, &i) ? json_integer(i) : NULL;
}

static bool literal(struct reader *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return false;
    r->p += n;
    return true;
}

static json_t *read_value(struct reader *r);

enum { KEY_SMALL = 128 };

/* An object member's key and the ':' after it. The key is copied (the value's decoding
 * reuses tmp) into small (KEY_SMALL bytes) or, longer, the heap: the caller frees it when it
 * is not small. NULL: declined. */
static char *read_key(struct reader *r, char *small, size_t *klen)
{
    const char *key;
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"')
        return NULL;
    r->p++;
    if (!read_string(r, &key, klen))
        return NULL;
    char *k = *klen < KEY_SMALL ? small : malloc(*klen + 1);
    if (k == NULL)
        return NULL;
    memcpy(k, key, *klen);
    k[*klen] = '\0';
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':') {
        if (k != small)
            free(k);
        return NULL;
    }
    r->p++;
    return k;
}

/* Whether the container closes here (the closer consumed): an empty one. */
static bool at_close(struct reader *r, char close)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return true;
    }
    return false;
}

/* After a member or an element: 1 when a comma says another follows, 0 when the container
 * closes (either consumed), -1 for anything else. */
static int after_item(struct reader *r, char close)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        return 1;
    }
    return at_close(r, close) ? 0 : -1;
}

/* Reads a value without building it: true when read_value would have built it (the same
 * acceptance, number by number and string by string), false when it would have declined.
 * Duplicate keys cannot be seen without building: callers with JSON_REJECT_DUPLICATES do not
 * skip. */
static bool skip_value(struct reader *r)
{
    skip_ws(r);
    if (r->p >= r->end)
        return false;
    unsigned char c = *r->p;
    if (c == '"') {
        const char *s;
        size_t n;
        r->p++;
        return read_string(r, &s, &n);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        json_int_t i;
        return scan_int(r, &i);
    }
    if (c == 't')
        return literal(r, "true", 4);
    if (c == 'f')
        return literal(r, "false", 5);
    if (c == 'n')
        return literal(r, "null", 4);
    if (c != '{' && c != '[')
        return false;
    if (++r->depth > FAST_MAX_DEPTH)
        return false;
    r->p++;
    char close = c == '{' ? '}' : ']';
    int more = at_close(r, close) ? 0 : 1;
    while (more > 0) {
        if (c == '{') {
            const char *key;
            size_t klen;
            skip_ws(r);
            if (r->p >= r->end || *r->p != '"')
                break;
            r->p++;
            if (!read_string(r, &key, &klen))
                break;
            skip_ws(r);
            if (r->p >= r->end || *r->p != ':')
                break;
            r->p++;
        }
        more = skip_value(r) ? after_item(r, close) : -1;
    }
    r->depth--;
    return more == 0;
}

/* What of a member named key (klen bytes) the paths want: 2 all of it, 1 some members of it
 * (the paths' next level, in *sub), 0 none. */
static int wanted(const char *const *paths, const char *key, size_t klen)
{
    int w = 0;
    for (size_t i = 0; paths[i] != NULL; i++) {
        const char *p = paths[i];
        if (strncmp(p, key, klen) != 0 || memchr(key, '\0', klen) != NULL)
            continue;
        if (p[klen] == '\0')
            return 2;
        if (p[klen] == '.')
            w = 1;
    }
    return w;
}

/* An object of which only the members on paths are built (paths: the suffixes below this
 * object); the rest is skipped. NULL: declined. */
static json_t *pick_object(struct reader *r, const char *const *paths)
{
    skip_ws(r);
    if (r->p >= r->end || *r->p != '{')
        return NULL;
    if (++r->depth > FAST_MAX_DEPTH)
        return NULL;
    r->p++;
    json_t *obj = json_object();
    int more = obj == NULL ? -1 : at_close(r, '}') ? 0 : 1;
    while (more > 0) {
        char small[KEY_SMALL];
        size_t klen;
        char *k = read_key(r, small, &klen);
        if (k == NULL)
            break;
        bool got = false;
        int w = wanted(paths, k, klen);
        json_t *v = NULL;
        if (w == 1) { /* the next level of the paths that go through k */
            const char *sub[16];
            size_t n = 0;
            for (size_t i = 0; paths[i] != NULL && n + 1 < sizeof sub / sizeof sub[0]; i++)
                if (strncmp(paths[i], k, klen) == 0 && paths[i][klen] == '.')
                    sub[n++] = paths[i] + klen + 1;
            sub[n] = NULL;
            skip_ws(r);
            v = r->p < r->end && *r->p == '{' ? pick_object(r, sub) : read_value(r);
        } else if (w == 2) {
            v = read_value(r);
        } else {
            got = skip_value(r);
        }
        if (v != NULL) {
            /* a repeated key: the last one wins, as jansson has it */
            got = json_object_setn_new_nocheck(obj, k, klen, v) == 0;
        }
        if (k != small)
            free(k);
        more = got ? after_item(r, '}') : -1;
    }
    r->depth--;
    if (more != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* What json_loadb leaves in err when it succeeds. */
static void no_error(json_error_t *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof *err);
        err->line = err->column = -1;
        memcpy(err->source, "<buffer>", sizeof "<buffer>");
    }
}

json_t *jsonh_loadb_pick(const char *text, size_t len, size_t flags, const char *const *paths,
                         json_error_t *err)
{
    const size_t known = JSON_DECODE_ANY | JSON_ALLOW_NUL; /* duplicates need every key built */
    if (text == NULL || (flags & ~known) != 0)
        return jsonh_loadb(text, len, flags, err);
    struct reader r = {
        .p = (const unsigned char *)text, .end = (const unsigned char *)text + len, .flags = flags};
    buf_init(&r.tmp, len);
    json_t *v = pick_object(&r, paths);
    buf_destroy(&r.tmp);
    skip_ws(&r);
    if (v == NULL || r.p != r.end) {
        json_decref(v);
        return jsonh_loadb(text, len, flags, err); /* the whole, or the verdict */
    }
    no_error(err);
    return v;
}

static json_t *read_object(struct reader *r)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return NULL;
    int more = at_close(r, '}') ? 0 : 1;
    while (more > 0) {
        char small[KEY_SMALL];
        size_t klen;
        char *k = read_key(r, small, &klen);
        if (k == NULL)
            break;
        json_t *v = read_value(r);
        bool ok = v != NULL;
        if (ok && (r->flags & JSON_REJECT_DUPLICATES) && json_object_getn(obj, k, klen) != NULL)
            ok = false;
        if (ok && json_object_setn_new_nocheck(obj, k, klen, v) != 0) {
            ok = false;
            v = NULL; /* setn_new consumed it */
        }
        if (!ok)
            json_decref(v);
        if (k != small)
            free(k);
        more = ok ? after_item(r, '}') : -1;
    }
    if (more == 0)
        return obj;
    json_decref(obj);
    return NULL;
}

static json_t *read_array(struct reader *r)
{
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    int more = at_close(r, ']') ? 0 : 1;
    while (more > 0) {
        json_t *v = read_value(r);
        more = v != NULL && json_array_append_new(arr, v) == 0 ? after_item(r, ']') : -1;
    }
    if (more == 0)
        return arr;
    json_decref(arr);
    return NULL;
}

static json_t *read_value(struct reader *r)
{
    skip_ws(r);
    if (r->p >= r->end)
        return NULL;
    unsigned char c = *r->p;
    json_t *v = NULL;
    if (c == '{' || c == '[') {
        if (++r->depth > FAST_MAX_DEPTH)
            return NULL;
        r->p++;
        v = c == '{' ? read_object(r) : read_array(r);
        r->depth--;
    } else if (c == '"') {
        const char *s;
        size_t n;
        r->p++;
        if (read_string(r, &s, &n))
            v = json_stringn_nocheck(s, n);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        v = read_number(r);
    } else if (c == 't') {
        v = literal(r, "true", 4) ? json_true() : NULL;
    } else if (c == 'f') {
        v = literal(r, "false", 5) ? json_false() : NULL;
    } else if (c == 'n') {
        v = literal(r, "null", 4) ? json_null() : NULL;
    }
    return v;
}

json_t *jsonh_loadb_fast(const char *text, size_t len, size_t flags)
{
    const size_t known = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL;
    if (text == NULL || (flags & ~known) != 0)
        return NULL;
    struct reader r = {
        .p = (const unsigned char *)text, .end = (const unsigned char *)text + len, .flags = flags};
    buf_init(&r.tmp, len);
    json_t *v = read_value(&r);
    buf_destroy(&r.tmp);
    if (v == NULL)
        return NULL;
    skip_ws(&r);
    if (r.p != r.end || (!(flags & JSON_DECODE_ANY) && !json_is_object(v) && !json_is_array(v))) {
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *jsonh_loadb(const char *text, size_t len, size_t flags, json_error_t *err)
{
    json_t *v = jsonh_loadb_fast(text, len, flags);
    if (v == NULL)
        return json_loadb(text, len, flags, err);
    no_error(err);
    return v;
}
