/* response.c — see response.h. */
#include "cloud/apigw/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/codec.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/status.h"

static const char *const remapped[] = {
    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
    "proxy-"};

void apigw_response_init(struct apigw_response *r)
{
    r->status = 200;
    r->nheaders = 0;
    r->error = NULL;
    buf_init(&r->body, APIGW_RESP_MAX_BODY);
    buf_init(&r->store, APIGW_RESP_MAX_HEADER_BYTES * 2);
}

void apigw_response_destroy(struct apigw_response *r)
{
    if (r == NULL)
        return;
    buf_destroy(&r->body);
    buf_destroy(&r->store);
    r->nheaders = 0;
}

void apigw_response_reset(struct apigw_response *r)
{
    r->status = 200;
    r->nheaders = 0;
    r->error = NULL;
    buf_reset(&r->body);
    buf_reset(&r->store);
}

bool apigw_header_valid(const char *name, size_t name_len, const char *value, size_t value_len)
{
    if (!apigw_token(name, name_len))
        return false;
    for (size_t i = 0; i < value_len; i++) {
        unsigned char c = (unsigned char)value[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* Points headers[] at the store after it may have moved. */
static void repoint(struct apigw_response *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        r->headers[i].name = r->store.data + r->off[i][0];
        r->headers[i].value = r->store.data + r->off[i][1];
    }
}

/* Appends a header already known valid. */
static int push(struct apigw_response *r, const char *n, size_t nl, const char *v, size_t vl)
{
    if (r->nheaders >= APIGW_RESP_SLOTS)
        return APIGW_RESP_EFULL;
    size_t no = r->store.len;
    int rc = buf_reserve(&r->store, nl + vl + 2);
    if (rc == BUF_OK)
        rc = buf_append(&r->store, n, nl);
    if (rc == BUF_OK)
        rc = buf_append(&r->store, "", 1);
    size_t vo = r->store.len;
    if (rc == BUF_OK)
        rc = buf_append(&r->store, v, vl);
    if (rc == BUF_OK)
        rc = buf_append(&r->store, "", 1);
    if (rc != BUF_OK) {
        r->store.len = no;
        return rc;
    }
    size_t i = r->nheaders++;
    r->off[i][0] = no;
    r->off[i][1] = vo;
    r->headers[i].name_len = nl;
    r->headers[i].value_len = vl;
    repoint(r);
    return APIGW_OK;
}

/* Trims optional whitespace around a field value. */
static void trim(const char **v, size_t *vl)
{
    while (*vl > 0 && ((*v)[0] == ' ' || (*v)[0] == '\t')) {
        (*v)++;
        (*vl)--;
    }
    while (*vl > 0 && ((*v)[*vl - 1] == ' ' || (*v)[*vl - 1] == '\t'))
        (*vl)--;
}

int apigw_response_add_header(struct apigw_response *r, const char *name, size_t name_len,
                              const char *value, size_t value_len)
{
    trim(&value, &value_len);
    if (!apigw_header_valid(name, name_len, value, value_len))
        return APIGW_RESP_EBADHEADER;
    return push(r, name, name_len, value, value_len);
}

size_t apigw_response_remove_headers(struct apigw_response *r, const char *prefix)
{
    size_t pl = strlen(prefix), kept = 0, gone = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct apigw_kv *h = &r->headers[i];
        if (h->name_len >= pl && apigw_ieq(h->name, pl, prefix, pl)) {
            gone++;
            continue;
        }
        r->headers[kept] = r->headers[i];
        r->off[kept][0] = r->off[i][0];
        r->off[kept][1] = r->off[i][1];
        kept++;
    }
    r->nheaders = kept;
    return gone;
}

const struct apigw_kv *apigw_response_find(const struct apigw_response *r, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (apigw_ieq(r->headers[i].name, r->headers[i].name_len, name, nl))
            return &r->headers[i];
    return NULL;
}

int apigw_response_message(struct apigw_response *r, int status, const char *message)
{
    apigw_response_reset(r);
    r->status = status;
    struct jsonw w;
    jw_init(&w, &r->body);
    jw_obj(&w);
    jw_kstr(&w, "message", message);
    jw_obj_end(&w);
    int rc = jw_error(&w);
    if (rc == APIGW_OK)
        rc = push(r, "content-type", 12, "application/json", 16);
    return rc;
}

int apigw_response_function_error(struct apigw_response *r, enum apigw_payload fmt)
{
    if (fmt != APIGW_PAYLOAD_URL)
        return apigw_response_message(r, 500, "Internal Server Error");
    apigw_response_reset(r);
    r->status = 502;
    int rc = buf_puts(&r->body, "Internal Server Error");
    if (rc == APIGW_OK)
        rc = push(r, "content-type", 12, "text/plain; charset=utf-8", 25);
    return rc;
}

/* ---- mapping ---- */

struct mapper {
    struct apigw_response *r;
    enum apigw_payload fmt;
    size_t count, bytes; /* from the function */
    const char *why;
};

static bool is_remapped(const char *n, size_t nl)
{
    for (size_t i = 0; i < sizeof remapped / sizeof remapped[0]; i++) {
        size_t rl = strlen(remapped[i]);
        bool prefix = remapped[i][rl - 1] == '-';
        if ((prefix ? nl > rl : nl == rl) && apigw_ieq(n, rl, remapped[i], rl))
            return true;
    }
    return false;
}

/* Adds one header from the function: validated, counted, framing names remapped. */
static int fn_header(struct mapper *m, const char *n, size_t nl, const char *v, size_t vl)
{
    trim(&v, &vl);
    if (!apigw_header_valid(n, nl, v, vl)) {
        m->why = "a header name is not an HTTP token or a value holds a control character";
        return APIGW_RESP_MALFORMED;
    }
    if (++m->count > APIGW_RESP_MAX_HEADERS ||
        (m->bytes += nl + vl) > APIGW_RESP_MAX_HEADER_BYTES) {
        m->why = "too many response headers";
        return APIGW_RESP_MALFORMED;
    }
    if (!is_remapped(n, nl))
        return push(m->r, n, nl, v, vl);
    char name[300];
    if (nl > sizeof name - 17) {
        m->why = "a header name is too long";
        return APIGW_RESP_MALFORMED;
    }
    memcpy(name, "x-amzn-remapped-", 16);
    for (size_t i = 0; i < nl; i++)
        name[16 + i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] + 32 : n[i]);
    return push(m->r, name, 16 + nl, v, vl);
}

/* A header value from JSON as text; *skip for null. Returns 0, or -1 for object/array. */
static int value_text(json_t *v, char *tmp, size_t tmplen, const char **s, size_t *sl, bool *skip)
{
    *skip = false;
    if (json_is_string(v)) {
        *s = json_string_value(v);
        *sl = json_string_length(v);
    } else if (json_is_integer(v)) {
        int n = snprintf(tmp, tmplen, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *s = tmp;
        *sl = (size_t)n;
    } else if (json_is_real(v)) {
        char *d = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        size_t n = d ? strlen(d) : 0;
        if (n >= tmplen)
            n = 0;
        if (d != NULL)
            memcpy(tmp, d, n);
        free(d);
        *s = tmp;
        *sl = n;
    } else if (json_is_boolean(v)) {
        *s = json_is_true(v) ? "true" : "false";
        *sl = strlen(*s);
    } else if (json_is_null(v)) {
        *skip = true;
    } else {
        return -1;
    }
    return 0;
}

/* One header value of the function's answer: a string, number or boolean as its text; null is
 * left out (*added false); an object or array is malformed (why). */
static int map_value(struct mapper *m, const char *k, json_t *v, const char *why, bool *added)
{
    char tmp[64];
    const char *s = NULL;
    size_t sl = 0;
    bool skip;
    if (value_text(v, tmp, sizeof tmp, &s, &sl, &skip) != 0) {
        m->why = why;
        return APIGW_RESP_MALFORMED;
    }
    if (skip)
        return APIGW_OK;
    if (added != NULL)
        *added = true;
    return fn_header(m, k, strlen(k), s, sl);
}

static int map_headers(struct mapper *m, json_t *headers)
{
    if (headers == NULL || json_is_null(headers))
        return APIGW_OK;
    if (!json_is_object(headers)) {
        m->why = "headers is not an object";
        return APIGW_RESP_MALFORMED;
    }
    const char *k;
    json_t *v;
    json_object_foreach(headers, k, v)
    {
        int rc = map_value(m, k, v, "a header value is an object or an array", NULL);
        if (rc != APIGW_OK)
            return rc;
    }
    return APIGW_OK;
}

static int map_multi(struct mapper *m, json_t *multi, json_t *headers)
{
    if (multi == NULL || json_is_null(multi))
        return APIGW_OK;
    if (!json_is_object(multi)) {
        m->why = "multiValueHeaders is not an object";
        return APIGW_RESP_MALFORMED;
    }
    const char *k;
    json_t *arr;
    json_object_foreach(multi, k, arr)
    {
        if (json_is_null(arr))
            continue;
        if (!json_is_array(arr)) {
            m->why = "a multiValueHeaders value is not an array";
            return APIGW_RESP_MALFORMED;
        }
        /* content-type has one value: the single-value headers' one wins */
        bool single = apigw_ieq(k, strlen(k), "content-type", 12);
        if (single && json_is_object(headers)) {
            const char *hk;
            json_t *hv;
            bool dup = false;
            json_object_foreach(headers, hk, hv) dup |= apigw_ieq(hk, strlen(hk), k, strlen(k));
            if (dup)
                continue;
        }
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            bool added = false;
            int rc = map_value(m, k, v, "a multiValueHeaders value is an object or an array",
                               &added);
            if (rc != APIGW_OK)
                return rc;
            if (single && added)
                break;
        }
    }
    return APIGW_OK;
}

static int map_cookies(struct mapper *m, json_t *cookies)
{
    if (cookies == NULL || json_is_null(cookies))
        return APIGW_OK;
    if (!json_is_array(cookies)) {
        m->why = "cookies is not an array";
        return APIGW_RESP_MALFORMED;
    }
    size_t i;
    json_t *c;
    json_array_foreach(cookies, i, c)
    {
        if (!json_is_string(c)) {
            m->why = "a cookie is not a string";
            return APIGW_RESP_MALFORMED;
        }
        int rc = fn_header(m, "set-cookie", 10, json_string_value(c), json_string_length(c));
        if (rc != APIGW_OK)
            return rc;
    }
    return APIGW_OK;
}

/* statusCode as a number or numeric string; -1 when not acceptable. */
static int status_of(json_t *sc)
{
    long long v = -1;
    if (json_is_integer(sc)) {
        v = json_integer_value(sc);
    } else if (json_is_real(sc)) {
        double d = json_real_value(sc);
        if (d >= 0 && d < 1000 && d == (double)(long long)d)
            v = (long long)d;
    } else if (json_is_string(sc)) {
        const char *s = json_string_value(sc);
        size_t n = json_string_length(sc);
        if (n >= 1 && n <= 3 && strspn(s, "0123456789") == n)
            v = strtol(s, NULL, 10);
    }
    return v >= 200 && v <= 599 ? (int)v : -1;
}

static int map_body(struct mapper *m, json_t *body, json_t *b64)
{
    if (body == NULL || json_is_null(body))
        return APIGW_OK;
    if (!json_is_string(body)) {
        m->why = "body is not a string";
        return APIGW_RESP_MALFORMED;
    }
    int rc;
    if (json_is_true(b64)) {
        rc = codec_b64_decode(json_string_value(body), json_string_length(body), &m->r->body);
        if (rc == CODEC_EBADB64) {
            m->why = "body is not valid base64";
            return APIGW_RESP_MALFORMED;
        }
    } else {
        rc = buf_append(&m->r->body, json_string_value(body), json_string_length(body));
    }
    if (rc == BUF_ETOOBIG) {
        m->why = "body is too large";
        return APIGW_RESP_MALFORMED;
    }
    return rc;
}

static int structured(struct mapper *m, json_t *o)
{
    struct apigw_response *r = m->r;
    r->status = status_of(json_object_get(o, "statusCode"));
    if (r->status < 0) {
        m->why = "statusCode is not a number from 200 to 599";
        return APIGW_RESP_MALFORMED;
    }
    json_t *headers = json_object_get(o, "headers");
    int rc = map_headers(m, headers);
    if (rc == APIGW_OK && m->fmt == APIGW_PAYLOAD_V1)
        rc = map_multi(m, json_object_get(o, "multiValueHeaders"), headers);
    if (rc == APIGW_OK && m->fmt != APIGW_PAYLOAD_V1)
        rc = map_cookies(m, json_object_get(o, "cookies"));
    if (rc == APIGW_OK)
        rc = map_body(m, json_object_get(o, "body"), json_object_get(o, "isBase64Encoded"));
    if (rc == APIGW_OK && apigw_response_find(r, "content-type") == NULL)
        rc = push(r, "content-type", 12, "application/json", 16);
    if (rc == APIGW_OK && (r->status == 204 || r->status == 304))
        buf_reset(&r->body);
    return rc;
}

static int inferred(struct mapper *m, json_t *v, const char *out, size_t len)
{
    struct apigw_response *r = m->r;
    r->status = 200;
    int rc;
    if (json_is_string(v))
        rc = buf_append(&r->body, json_string_value(v), json_string_length(v));
    else if (m->fmt == APIGW_PAYLOAD_URL)
        rc = jsonh_dump_buf(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15), &r->body);
    else
        rc = buf_append(&r->body, out, len);
    if (rc == BUF_ETOOBIG) {
        m->why = "body is too large";
        return APIGW_RESP_MALFORMED;
    }
    if (rc == APIGW_OK)
        rc = push(r, "content-type", 12, "application/json", 16);
    return rc;
}

int apigw_response_map(struct apigw_response *r, enum apigw_payload fmt, const char *out,
                       size_t len)
{
    apigw_response_reset(r);
    struct mapper m = {r, fmt, 0, 0, NULL};
    json_t *v = jsonh_parse(out, len, NULL, 0);
    int rc;
    if (v == NULL) {
        m.why = "the function's output is not JSON";
        rc = APIGW_RESP_MALFORMED;
    } else if (json_is_object(v) && json_object_get(v, "statusCode") != NULL) {
        rc = structured(&m, v);
    } else if (fmt == APIGW_PAYLOAD_V1) {
        m.why = "payload 1.0 needs statusCode";
        rc = APIGW_RESP_MALFORMED;
    } else {
        rc = inferred(&m, v, out, len);
    }
    json_decref(v);
    if (rc == APIGW_RESP_MALFORMED || rc == APIGW_RESP_EFULL) {
        int erc = apigw_response_function_error(r, fmt);
        r->error = m.why ? m.why : "too many response headers";
        return erc == APIGW_OK ? APIGW_RESP_MALFORMED : erc;
    }
    return rc;
}

/* ---- the wire form ---- */


int apigw_response_to_http1(const struct apigw_response *r, struct buf *out)
{
    int rc = buf_printf(out, "HTTP/1.1 %d %s\r\n", r->status, status_reason(r->status));
    for (size_t i = 0; rc == APIGW_OK && i < r->nheaders; i++) {
        const struct apigw_kv *h = &r->headers[i];
        rc = buf_append(out, h->name, h->name_len);
        if (rc == APIGW_OK)
            rc = buf_append(out, ": ", 2);
        if (rc == APIGW_OK)
            rc = buf_append(out, h->value, h->value_len);
        if (rc == APIGW_OK)
            rc = buf_append(out, "\r\n", 2);
    }
    if (rc == APIGW_OK)
        rc = buf_printf(out, "content-length: %zu\r\n\r\n", r->body.len);
    if (rc == APIGW_OK && r->body.len > 0)
        rc = buf_append(out, r->body.data, r->body.len);
    return rc;
}
