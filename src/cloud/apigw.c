#include "cloud/apigw.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/url.h"
#include "cloud/lambda/lambda.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/json.h"

static const struct proto_hdr ct_json = {"content-type", "application/json", 0};

static void respond_msg(struct proto_req *req, int status, const char *msg)
{
    char body[128];
    int n = snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
    proto_respond(req, status, &ct_json, 1, body, (size_t)n);
}

struct hdr_ctx {
    json_t *headers;
    json_t *cookies;
};

static void add_header(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
    struct hdr_ctx *c = arg;
    char name[256];
    if (nl >= sizeof(name))
        return;
    for (size_t i = 0; i < nl; i++)
        name[i] = (char)tolower((unsigned char)n[i]);
    name[nl] = '\0';
    if (strcmp(name, "cookie") == 0) {
        /* split "a=1; b=2" into cookies[] */
        size_t i = 0;
        while (i < vl) {
            while (i < vl && (v[i] == ' ' || v[i] == ';'))
                i++;
            size_t s = i;
            while (i < vl && v[i] != ';')
                i++;
            if (i > s)
                json_array_append_new(c->cookies, json_stringn(v + s, i - s));
        }
        return;
    }
    json_t *val = json_stringn(v, vl);
    if (val == NULL)
        return;
    json_t *old = json_object_get(c->headers, name);
    if (old != NULL) {
        struct buf b;
        buf_init(&b, 65536);
        buf_puts(&b, json_string_value(old));
        buf_puts(&b, ",");
        buf_append(&b, v, vl);
        json_object_set_new(c->headers, name, json_stringn(b.data, b.len));
        buf_destroy(&b);
        json_decref(val);
        return;
    }
    json_object_set_new(c->headers, name, val);
}

static json_t *query_params(const char *q, size_t ql)
{
    json_t *o = json_object();
    size_t i = 0;
    while (i < ql) {
        const char *amp = memchr(q + i, '&', ql - i);
        size_t end = amp ? (size_t)(amp - q) : ql;
        const char *eq = memchr(q + i, '=', end - i);
        size_t kl = eq ? (size_t)(eq - (q + i)) : end - i;
        char k[512], v[4096];
        const char *vs = eq ? eq + 1 : q + end;
        if (kl > 0 && url_decode(q + i, kl, 0, k, sizeof(k)) >= 0 &&
            url_decode(vs, (size_t)(q + end - vs), 0, v, sizeof(v)) >= 0) {
            for (char *p = k; *p; p++)
                if (*p == '+')
                    *p = ' ';
            for (char *p = v; *p; p++)
                if (*p == '+')
                    *p = ' ';
            json_t *old = json_object_get(o, k);
            if (old) {
                struct buf b;
                buf_init(&b, 65536);
                buf_printf(&b, "%s,%s", json_string_value(old), v);
                json_object_set_new(o, k, json_string(b.data));
                buf_destroy(&b);
            } else {
                json_object_set_new(o, k, json_string(v));
            }
        }
        i = end + 1;
    }
    if (json_object_size(o) == 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void gw_done(void *arg, const struct lambda_result *r)
{
    struct proto_req *req = arg;
    if (r->err == ERR_LAMBDA_TOO_MANY_REQUESTS) {
        respond_msg(req, 429, "Too Many Requests");
        return;
    }
    if (r->err != ERR_OK || r->function_error) {
        respond_msg(req, 500, "Internal Server Error");
        return;
    }
    json_t *out = jsonh_parse(r->body, r->len, NULL, 0);
    if (out == NULL) {
        respond_msg(req, 500, "Internal Server Error");
        return;
    }
    if (!json_is_object(out) || json_object_get(out, "statusCode") == NULL) {
        /* valid JSON without statusCode: sent as the body, 200 */
        proto_respond(req, 200, &ct_json, 1, r->body, r->len);
        json_decref(out);
        return;
    }
    long long status = 200;
    if (jsonh_int(out, "statusCode", &status) != 1 || status < 100 || status > 599) {
        json_decref(out);
        respond_msg(req, 500, "Internal Server Error");
        return;
    }
    struct proto_hdr hs[64];
    size_t n = 0;
    json_t *headers = json_object_get(out, "headers");
    const char *k;
    json_t *v;
    char numbuf[64][32];
    json_object_foreach(headers, k, v)
    {
        if (n >= 60)
            break;
        if (json_is_string(v)) {
            hs[n++] = (struct proto_hdr){k, json_string_value(v), json_string_length(v)};
        } else if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v)) {
            if (json_is_integer(v))
                snprintf(numbuf[n], sizeof(numbuf[n]), "%lld", (long long)json_integer_value(v));
            else if (json_is_real(v))
                snprintf(numbuf[n], sizeof(numbuf[n]), "%g", json_real_value(v));
            else
                snprintf(numbuf[n], sizeof(numbuf[n]), "%s", json_is_true(v) ? "true" : "false");
            hs[n] = (struct proto_hdr){k, numbuf[n], 0};
            n++;
        }
        if (hs[n - 1].value_len == 0 && hs[n - 1].value[0] == '\0')
            n--; /* h2o copies; empty values are dropped */
    }
    size_t ci;
    json_t *cv;
    json_array_foreach(json_object_get(out, "cookies"), ci, cv)
    {
        if (n < 64 && json_is_string(cv))
            hs[n++] =
                (struct proto_hdr){"set-cookie", json_string_value(cv), json_string_length(cv)};
    }
    bool has_ct = false;
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(hs[i].name, "content-type") == 0)
            has_ct = true;
    if (!has_ct && n < 64)
        hs[n++] = ct_json;
    json_t *body = json_object_get(out, "body");
    struct buf b;
    buf_init(&b, 16 * 1024 * 1024);
    if (json_is_string(body)) {
        if (json_is_true(json_object_get(out, "isBase64Encoded")))
            codec_b64_decode(json_string_value(body), json_string_length(body), &b);
        else
            buf_append(&b, json_string_value(body), json_string_length(body));
    } else if (body != NULL && !json_is_null(body)) {
        jsonh_dump_buf(body, JSON_COMPACT, &b);
    }
    proto_respond(req, (int)status, hs, n, b.data ? b.data : "", b.len);
    buf_destroy(&b);
    json_decref(out);
}

struct gw_call {
    struct proto_req *req;
    struct lambda_inv *inv;
};

static void call_done(void *arg, const struct lambda_result *r)
{
    struct gw_call *c = arg;
    proto_on_gone(c->req, NULL, NULL);
    gw_done(c->req, r);
    free(c);
}

static void call_gone(void *arg)
{
    struct gw_call *c = arg;
    lambda_inv_detach(c->inv);
    free(c);
}

void apigw_handle(void *arg, struct proto_req *req)
{
    struct apigw *gw = arg;
    struct lambda_fn *fn = lambda_fn_find(gw->lambda, gw->function);
    if (fn == NULL) {
        respond_msg(req, 404, "Not Found");
        return;
    }
    size_t ml = req->method_len, bl = req->body_len, ual;
    const char *m = req->method, *p = req->path, *body = req->body;
    const char *q = req->query_len ? req->query - 1 : NULL;
    size_t path_len = req->path_len, ql = req->query_len;
    if (bl > LAMBDA_MAX_SYNC_PAYLOAD) {
        respond_msg(req, 413, "Request Entity Too Large");
        return;
    }
    struct hdr_ctx hc = {json_object(), json_array()};
    for (size_t i = 0; i < req->nheaders; i++)
        add_header(&hc, req->headers[i].name, strlen(req->headers[i].name),
                   req->headers[i].value, req->headers[i].value_len);
    const char *peer = req->source_ip;
    char port[8];
    snprintf(port, sizeof(port), "%u", gw->api_port);
    json_object_set_new(hc.headers, "x-forwarded-for", json_string(peer));
    json_object_set_new(hc.headers, "x-forwarded-port", json_string(port));
    json_object_set_new(hc.headers, "x-forwarded-proto", json_string("http"));
    const char *ua = proto_header(req, "user-agent", &ual);
    char rid[40], tbuf[64];
    ids_hex(rid, 8);
    int64_t now = clock_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    json_t *ev = json_pack(
        "{s:s, s:s, s:s%, s:s%, s:o, s:{s:s, s:s, s:s, s:s, s:{s:s%, s:s%, s:s, s:s, s:s%},"
        " s:s, s:s, s:s, s:s, s:I}, s:b}",
        "version", "2.0", "routeKey", "$default", "rawPath", p, path_len, "rawQueryString",
        q ? q + 1 : "", ql, "headers", hc.headers, "requestContext", "accountId", "000000000000",
        "apiId", "local", "domainName", "127.0.0.1", "domainPrefix", "127", "http", "method", m, ml,
        "path", p, path_len, "protocol", "HTTP/1.1", "sourceIp", peer, "userAgent", ua ? ua : "",
        ua ? ual : 0, "requestId", rid, "routeKey", "$default", "stage", "$default", "time", tbuf,
        "timeEpoch", (json_int_t)now, "isBase64Encoded", 0);
    if (json_array_size(hc.cookies) > 0)
        json_object_set_new(ev, "cookies", hc.cookies);
    else
        json_decref(hc.cookies);
    json_t *qp = query_params(q ? q + 1 : "", ql);
    if (qp)
        json_object_set_new(ev, "queryStringParameters", qp);
    if (bl > 0) {
        json_t *s = json_stringn(body, bl);
        if (s == NULL) {
            struct buf b64;
            buf_init(&b64, 16 * 1024 * 1024);
            codec_b64_encode(body, bl, &b64);
            s = json_stringn(b64.data, b64.len);
            json_object_set_new(ev, "isBase64Encoded", json_true());
            buf_destroy(&b64);
        }
        json_object_set_new(ev, "body", s);
    }
    struct buf payload;
    buf_init(&payload, 16 * 1024 * 1024);
    jsonh_dump_buf(ev, JSON_COMPACT, &payload);
    json_decref(ev);
    struct gw_call *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        buf_destroy(&payload);
        respond_msg(req, 500, "Internal Server Error");
        return;
    }
    c->req = req;
    proto_on_gone(req, call_gone, c);
    /* a NULL result means call_done already ran (and freed c) */
    struct gw_call *keep = c;
    struct lambda_inv *inv = lambda_invoke(gw->lambda, fn, LAMBDA_INV_SYNC, payload.data,
                                           payload.len, NULL, false, call_done, c, NULL);
    if (inv != NULL)
        keep->inv = inv;
    buf_destroy(&payload);
}
