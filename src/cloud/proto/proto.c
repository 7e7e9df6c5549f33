/*
 * proto.c — the answer path and error rendering per protocol (see proto.h).
 */
#include "cloud/proto/proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/jsonw.h"
#include "core/str.h"
#include "core/url.h"

#include <jansson.h>

#include <zlib.h>

void proto_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                   const void *body, size_t len)
{
    r->ops->respond(r, status, hdrs, n, body, len);
}

void proto_respond_lazy(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                        const void *body, size_t len)
{
    if (r->ops->respond_lazy != NULL)
        r->ops->respond_lazy(r, status, hdrs, n, body, len);
    else
        r->ops->respond(r, status, hdrs, n, body, len);
}

void proto_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg)
{
    r->ops->on_gone(r, fn, arg);
}

const char *proto_header(const struct proto_req *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct proto_hdr *h = &r->headers[i];
        if (strlen(h->name) == nl && strncasecmp(h->name, name, nl) == 0) {
            *len = h->value_len;
            return h->value;
        }
    }
    *len = 0;
    return NULL;
}

/* The next query member named key from *pos (kl bytes), raw; false at the end. */
static bool next_named(const struct proto_req *r, size_t *pos, const char *key, size_t kl,
                       struct url_member *m)
{
    while (url_query_next(r->query, r->query_len, pos, m))
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            return true;
    return false;
}

long proto_query(const struct proto_req *r, const char *key, char *out, size_t outlen)
{
    size_t pos = 0;
    struct url_member m;
    if (!next_named(r, &pos, key, strlen(key), &m))
        return -1;
    return url_decode(m.value, m.value_len, URL_PLUS_SPACE, out, outlen);
}

struct json_t *proto_query_all(const struct proto_req *r, const char *key)
{
    json_t *all = json_array();
    size_t pos = 0, kl = strlen(key);
    struct url_member m;
    while (all != NULL && next_named(r, &pos, key, kl, &m)) {
        char *v = malloc(m.value_len + 1); /* decoding never lengthens */
        long n = v ? url_decode(m.value, m.value_len, URL_PLUS_SPACE, v, m.value_len + 1) : -1;
        if (v == NULL) {
            json_decref(all);
            all = NULL;
        } else if (n > 0) {
            json_array_append_new(all, json_stringn(v, (size_t)n));
        }
        free(v);
    }
    return all;
}

bool proto_method_is(const struct proto_req *r, const char *m)
{
    size_t n = strlen(m);
    return r->method_len == n && memcmp(r->method, m, n) == 0;
}

static enum proto_kind kind_of(const struct proto_req *r)
{
    return r->service ? r->service->protocol : PROTO_PLAIN;
}

/* Adds x-amz-crc32 (the body's CRC-32, its value written into crc) to h[*n] when r's service
 * signs its JSON answers with one, as DynamoDB does. */
static void add_crc32(const struct proto_req *r, const void *body, size_t len, struct proto_hdr *h,
                      size_t *n, char crc[STR_I64_MAX])
{
    enum proto_kind k = kind_of(r);
    if ((k == PROTO_JSON10 || k == PROTO_JSON11) && r->service->json_crc32) {
        str_i64((int64_t)crc32(0L, (const Bytef *)body, (uInt)len), crc);
        h[(*n)++] = (struct proto_hdr){"x-amz-crc32", crc, 0};
    }
}

static const char *content_type(const struct proto_req *r)
{
    switch (kind_of(r)) {
    case PROTO_JSON10:
    case PROTO_JSON11:
        return r->service->json_content_type ? r->service->json_content_type
                                             : "application/x-amz-json-1.1";
    case PROTO_QUERY:
        return "text/xml";
    default:
        return "application/json";
    }
}

void proto_error_body(const struct proto_req *r, enum err e, const char *msg, struct buf *out)
{
    if (msg == NULL)
        msg = err_message(e);
    switch (kind_of(r)) {
    case PROTO_JSON10:
    case PROTO_JSON11: {
        const char *ns = r->service->json_type_ns_of ? r->service->json_type_ns_of(e) : NULL;
        err_json_body(e, ns ? ns : r->service->json_type_ns, msg, out);
        break;
    }
    case PROTO_QUERY:
        err_xml_body(e, msg, r->request_id, out);
        break;
    case PROTO_REST_JSON:
        if (r->service->rest_error_body) {
            r->service->rest_error_body(e, msg, out);
            break;
        }
        /* fall through */
    default:
        buf_puts(out, "{\"message\":");
        jw_escape(out, msg, strlen(msg));
        buf_puts(out, "}");
    }
}

void proto_error(struct proto_req *r, enum err e, const char *msg)
{
    proto_error_status(r, e, err_status(e), msg);
}

void proto_error_status(struct proto_req *r, enum err e, int status, const char *msg)
{
    struct buf b;
    /* room for the message escaped (at most 6 bytes a byte: \u00XX) around the fixed text:
     * a body cut short would not be JSON */
    buf_init(&b, 64 * 1024 + (msg ? 6 * strlen(msg) : 0));
    proto_error_body(r, e, msg, &b);
    char qerr[160], crc[STR_I64_MAX];
    struct proto_hdr h[5];
    size_t n = 0;
    h[n++] = (struct proto_hdr){"content-type", content_type(r), 0};
    h[n++] = (struct proto_hdr){"x-amzn-requestid", r->request_id, 0};
    enum proto_kind k = kind_of(r);
    if (k == PROTO_REST_JSON)
        h[n++] = (struct proto_hdr){"x-amzn-errortype", err_code(e), 0};
    if ((k == PROTO_JSON10 || k == PROTO_JSON11) && r->service->query_error_header) {
        snprintf(qerr, sizeof qerr, "%s;%s", err_query_code(e), err_fault(e));
        h[n++] = (struct proto_hdr){"x-amzn-query-error", qerr, 0};
    }
    add_crc32(r, b.data ? b.data : "", b.len, h, &n, crc);
    proto_respond(r, status, h, n, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

void proto_errorf(struct proto_req *r, enum err e, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    proto_error(r, e, msg);
}

void proto_ok(struct proto_req *r, int status, const void *body, size_t len)
{
    proto_answer(r, status, content_type(r), body, len);
}

void proto_answer(struct proto_req *r, int status, const char *ctype, const void *body, size_t len)
{
    char crc[STR_I64_MAX];
    struct proto_hdr h[3];
    size_t n = 0;
    if (body == NULL)
        body = "";
    if (ctype != NULL)
        h[n++] = (struct proto_hdr){"content-type", ctype, 0};
    h[n++] = (struct proto_hdr){"x-amzn-requestid", r->request_id, 0};
    add_crc32(r, body, len, h, &n, crc);
    proto_respond(r, status, h, n, body, len);
}
