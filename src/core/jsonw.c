#include "core/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/str.h"
#include "core/utf8.h"

void jw_init(struct jsonw *w, struct buf *b)
{
    *w = (struct jsonw){.b = b};
}

bool jw_ok(const struct jsonw *w)
{
    return w->err == BUF_OK;
}

int jw_error(const struct jsonw *w)
{
    return w->err;
}

/* Records a failure (the first one's code is kept); rc is a buf error, never BUF_OK. */
static void fail(struct jsonw *w, int rc)
{
    if (w->err == BUF_OK)
        w->err = rc;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    int rc;
    if (jw_ok(w) && (rc = buf_append(w->b, s, n)) != BUF_OK)
        fail(w, rc);
}

/* Before a value: a comma when the container has members, unless it follows a key. */
static void before_value(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        uint64_t bit = 1ULL << (w->depth - 1);
        if (w->need_comma & bit)
            put(w, ",", 1);
        w->need_comma |= bit;
    }
}

static void open_container(struct jsonw *w, char c)
{
    before_value(w);
    if (w->depth >= JSONW_MAX_DEPTH) {
        fail(w, BUF_ETOOBIG);
        return;
    }
    put(w, &c, 1);
    w->depth++;
    w->need_comma &= ~(1ULL << (w->depth - 1));
}

static void close_container(struct jsonw *w, char c)
{
    if (w->depth == 0) {
        fail(w, BUF_ETOOBIG);
        return;
    }
    w->depth--;
    put(w, &c, 1);
}

void jw_obj(struct jsonw *w)
{
    open_container(w, '{');
}

void jw_obj_end(struct jsonw *w)
{
    close_container(w, '}');
}

void jw_arr(struct jsonw *w)
{
    open_container(w, '[');
}

void jw_arr_end(struct jsonw *w)
{
    close_container(w, ']');
}

/* A string that needs no escape, quoted (and a colon after a key), in one append. */
static int put_plain(struct buf *b, const char *s, size_t len, bool key)
{
    size_t n = len + 2 + key;
    int rc = buf_reserve(b, n);
    if (rc != BUF_OK)
        return rc;
    char *d = b->data + b->len;
    d[0] = '"';
    if (len > 0)
        memcpy(d + 1, s, len);
    d[len + 1] = '"';
    d[len + 2] = ':'; /* overwritten by the NUL when not a key */
    b->len += n;
    b->data[b->len] = '\0';
    return BUF_OK;
}

int jw_escape(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = str_json_plain(s, len);
    if (i == len) /* the common case */
        return put_plain(b, s, len, false);
    int rc = buf_append(b, "\"", 1);
    while (i < len && rc == BUF_OK) {
        i += str_json_plain(s + i, len - i); /* the common case: plain ASCII */
        if (i == len)
            break;
        unsigned char ch = u[i];
        char esc[8];
        const char *e = NULL;
        size_t elen = 2, adv = 1;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            e = esc;
        } else if (ch < 0x20) {
            switch (ch) {
            case '\n':
                e = "\\n";
                break;
            case '\r':
                e = "\\r";
                break;
            case '\t':
                e = "\\t";
                break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[ch >> 4];
                esc[5] = hex[ch & 15];
                e = esc;
                elen = 6;
            }
        } else if (ch >= 0x80) {
            adv = utf8_seq_len(u + i, len - i);
            if (adv == 0) {
                e = "\xEF\xBF\xBD";
                elen = 3;
                adv = 1;
            }
        }
        if (e == NULL) {
            i += adv;
            continue;
        }
        rc = buf_append(b, s + run, i - run);
        if (rc == BUF_OK)
            rc = buf_append(b, e, elen);
        i += adv;
        run = i;
    }
    if (rc == BUF_OK)
        rc = buf_append(b, s + run, len - run);
    if (rc == BUF_OK)
        rc = buf_append(b, "\"", 1);
    return rc;
}

void jw_keyn(struct jsonw *w, const char *key, size_t len)
{
    int rc;
    before_value(w);
    if (jw_ok(w)) {
        if (str_json_plain(key, len) == len)
            rc = put_plain(w->b, key, len, true);
        else if ((rc = jw_escape(w->b, key, len)) == BUF_OK)
            rc = buf_append(w->b, ":", 1);
        if (rc != BUF_OK)
            fail(w, rc);
    }
    w->after_key = true;
}

void jw_key(struct jsonw *w, const char *key)
{
    jw_keyn(w, key, strlen(key));
}

void jw_strn(struct jsonw *w, const char *s, size_t len)
{
    int rc;
    before_value(w);
    if (jw_ok(w) && (rc = jw_escape(w->b, s, len)) != BUF_OK)
        fail(w, rc);
}

void jw_str(struct jsonw *w, const char *s)
{
    if (s == NULL)
        jw_null(w);
    else
        jw_strn(w, s, strlen(s));
}

void jw_int(struct jsonw *w, int64_t v)
{
    char n[STR_I64_MAX];
    size_t len = str_i64(v, n);
    before_value(w);
    put(w, n, len);
}

void jw_bool(struct jsonw *w, bool v)
{
    before_value(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jsonw *w)
{
    before_value(w);
    put(w, "null", 4);
}

void jw_raw(struct jsonw *w, const char *json, size_t len)
{
    before_value(w);
    put(w, json, len);
}

void jw_json(struct jsonw *w, const json_t *v)
{
    int rc;
    before_value(w);
    if (jw_ok(w) && (rc = jsonh_dump_buf(v, JSON_COMPACT | JSON_ENCODE_ANY, w->b)) != BUF_OK)
        fail(w, rc < 0 ? rc : BUF_ENOMEM);
}

void jw_kstr(struct jsonw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

void jw_kstrn(struct jsonw *w, const char *key, const char *s, size_t len)
{
    jw_key(w, key);
    jw_strn(w, s, len);
}

void jw_kint(struct jsonw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

void jw_kbool(struct jsonw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}
