/* event.c — see event.h. */
#include "cloud/apigw/event.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/codec.h"
#include "core/jsonw.h"
#include "core/url.h"
#include "core/str.h"
#include "core/utf8.h"

/* A header or query member; grouped by key (case-insensitively for headers). */
struct item {
    const char *k;
    size_t kl;
    const char *v;
    size_t vl;
    size_t pos; /* arrival order */
};

/* A run [start, end) of sorted items with one key; first = arrival of its first member. */
struct group {
    size_t first, start, end;
};

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl, bool icase)
{
    size_t n = al < bl ? al : bl;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)(icase ? lower(a[i]) : a[i]);
        unsigned char y = (unsigned char)(icase ? lower(b[i]) : b[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return al == bl ? 0 : (al < bl ? -1 : 1);
}

static int cmp_item(const struct item *a, const struct item *b, bool icase)
{
    int c = cmp_bytes(a->k, a->kl, b->k, b->kl, icase);
    if (c != 0)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int cmp_item_i(const void *a, const void *b)
{
    return cmp_item(a, b, true);
}

static int cmp_item_b(const void *a, const void *b)
{
    return cmp_item(a, b, false);
}

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Sorts items and returns their groups in arrival order (malloc'd; NULL when n == 0). */
static struct group *group_items(struct item *it, size_t n, bool icase, size_t *ng)
{
    *ng = 0;
    if (n == 0)
        return NULL;
    qsort(it, n, sizeof *it, icase ? cmp_item_i : cmp_item_b);
    struct group *g = malloc(n * sizeof *g);
    if (g == NULL)
        return NULL;
    size_t s = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || cmp_bytes(it[s].k, it[s].kl, it[i].k, it[i].kl, icase) != 0) {
            g[*ng] = (struct group){it[s].pos, s, i};
            (*ng)++;
            s = i;
        }
    }
    qsort(g, *ng, sizeof *g, cmp_group);
    return g;
}

/* ---- the parts of the request both payloads share ---- */

enum hdr_special { H_NONE, H_COOKIE, H_XFF, H_XFPORT, H_XFPROTO, H_HOST, H_CLEN, H_TRACE };

static const struct {
    const char *lower, *canon;
    enum hdr_special kind;
} specials[] = {
    {"cookie", "Cookie", H_COOKIE},
    {"x-forwarded-for", "X-Forwarded-For", H_XFF},
    {"x-forwarded-port", "X-Forwarded-Port", H_XFPORT},
    {"x-forwarded-proto", "X-Forwarded-Proto", H_XFPROTO},
    {"host", "Host", H_HOST},
    {"content-length", "Content-Length", H_CLEN},
    {"x-amzn-trace-id", "X-Amzn-Trace-Id", H_TRACE},
};
enum { NSPECIAL = sizeof specials / sizeof specials[0] };

static enum hdr_special special_of(const char *k, size_t kl)
{
    for (size_t i = 0; i < NSPECIAL; i++)
        if (apigw_ieq(k, kl, specials[i].lower, strlen(specials[i].lower)))
            return specials[i].kind;
    return H_NONE;
}

struct parsed {
    struct item *hdr;
    struct group *hg;
    size_t nh, nhg;
    struct item *qry;
    struct group *qg;
    size_t nq, nqg;
    struct buf qdec;    /* decoded query keys and values */
    struct buf scratch; /* one joined value at a time */
    char clen[24];
    int err; /* a failure outside the writer (scratch, base64), else APIGW_OK */
};

static void parsed_free(struct parsed *p)
{
    free(p->hdr);
    free(p->hg);
    free(p->qry);
    free(p->qg);
    buf_destroy(&p->qdec);
    buf_destroy(&p->scratch);
}

/* Percent-decodes a query key or value ('+' is a space; %00 is kept as a NUL byte). */
static int decode(const char *s, size_t len, struct buf *out)
{
    int rc = url_decode_buf(s, len, URL_PLUS_SPACE | URL_ALLOW_NUL, out);
    return rc == URL_EBADESCAPE ? APIGW_EBADESCAPE : rc;
}

static int parse(const struct apigw_request *req, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->qdec, req->query_len + 16);
    buf_init(&p->scratch, (size_t)1 << 30);
    str_i64((int64_t)req->body_len, p->clen);
    if (req->nheaders > 0) {
        p->hdr = malloc(req->nheaders * sizeof *p->hdr);
        if (p->hdr == NULL)
            return APIGW_ENOMEM;
        for (size_t i = 0; i < req->nheaders; i++) { /* names that are no token: not HTTP */
            const struct apigw_kv *h = &req->headers[i];
            if (apigw_token(h->name, h->name_len))
                p->hdr[p->nh++] = (struct item){h->name, h->name_len, h->value, h->value_len, i};
        }
        if (p->nh > 0 && (p->hg = group_items(p->hdr, p->nh, true, &p->nhg)) == NULL)
            return APIGW_ENOMEM;
    }
    /* query: decode everything first (offsets), then point into the final buffer */
    const char *q = req->query ? req->query : "";
    size_t ql = req->query ? req->query_len : 0;
    size_t pieces = 1;
    for (size_t i = 0; i < ql; i++)
        pieces += q[i] == '&';
    if (ql > 0) {
        p->qry = malloc(pieces * sizeof *p->qry);
        if (p->qry == NULL)
            return APIGW_ENOMEM;
        if (buf_reserve(&p->qdec, ql) != BUF_OK)
            return APIGW_ENOMEM;
    }
    size_t i = 0;
    while (i < ql) {
        const char *amp = memchr(q + i, '&', ql - i);
        size_t end = amp ? (size_t)(amp - q) : ql;
        const char *eq = memchr(q + i, '=', end - i);
        size_t kend = eq ? (size_t)(eq - q) : end;
        if (kend > i) {
            size_t koff = p->qdec.len;
            int rc = decode(q + i, kend - i, &p->qdec);
            size_t voff = p->qdec.len;
            if (rc == APIGW_OK && eq != NULL)
                rc = decode(eq + 1, end - kend - 1, &p->qdec);
            if (rc != APIGW_OK)
                return rc;
            p->qry[p->nq] = (struct item){(const char *)koff, voff - koff, (const char *)voff,
                                          p->qdec.len - voff, p->nq};
            p->nq++;
        }
        i = end + 1;
    }
    for (size_t k = 0; k < p->nq; k++) {
        p->qry[k].k = p->qdec.data + (size_t)p->qry[k].k;
        p->qry[k].v = p->qdec.data + (size_t)p->qry[k].v;
    }
    if (p->nq > 0 && (p->qg = group_items(p->qry, p->nq, false, &p->nqg)) == NULL)
        return APIGW_ENOMEM;
    return APIGW_OK;
}

/* Writes a group's values joined with ',' (and extra after them) as one JSON string. */
static void write_joined(struct parsed *p, const struct item *it, const struct group *g,
                         const char *extra, struct jsonw *w)
{
    buf_reset(&p->scratch);
    int rc = buf_append(&p->scratch, "", 0);
    for (size_t i = g->start; rc == BUF_OK && i < g->end; i++) {
        if (i > g->start)
            rc = buf_append(&p->scratch, ",", 1);
        if (rc == BUF_OK)
            rc = buf_append(&p->scratch, it[i].v, it[i].vl);
    }
    if (rc == BUF_OK && extra != NULL)
        rc = buf_puts(&p->scratch, extra);
    if (rc != BUF_OK)
        p->err = rc;
    jw_strn(w, p->scratch.data ? p->scratch.data : "", p->scratch.len);
}

/* Writes the lowercase form of k as a member name. */
static void write_lower_key(struct parsed *p, const char *k, size_t kl, struct jsonw *w)
{
    buf_reset(&p->scratch);
    int rc = buf_reserve(&p->scratch, kl);
    if (rc != BUF_OK) {
        p->err = rc;
        jw_keyn(w, "", 0);
        return;
    }
    for (size_t i = 0; i < kl; i++)
        p->scratch.data[i] = lower(k[i]);
    p->scratch.len = kl;
    p->scratch.data[kl] = '\0';
    jw_keyn(w, p->scratch.data, kl);
}

/* Writes the joined user-agent value ("" when absent) as a JSON string. */
static void write_user_agent(struct parsed *p, struct jsonw *w)
{
    for (size_t g = 0; g < p->nhg; g++) {
        const struct item *it = &p->hdr[p->hg[g].start];
        if (apigw_ieq(it->k, it->kl, "user-agent", 10)) {
            write_joined(p, p->hdr, &p->hg[g], NULL, w);
            return;
        }
    }
    jw_strn(w, "", 0);
}

/* The value the gateway sets for an added header, or NULL when it adds none. */
static const char *added_value(const struct apigw_request *req, const struct apigw_event_ctx *c,
                               const struct parsed *p, enum hdr_special kind)
{
    switch (kind) {
    case H_XFF:
        return req->source_ip;
    case H_XFPORT:
        return c->forwarded_port;
    case H_XFPROTO:
        return c->forwarded_proto;
    case H_CLEN:
        return p->clen;
    case H_TRACE:
        return c->trace_id;
    default:
        return NULL;
    }
}

bool apigw_event_text_type(const char *ct, size_t len)
{
    if (ct == NULL)
        return true;
    size_t end = 0;
    while (end < len && ct[end] != ';')
        end++;
    while (end > 0 && (ct[end - 1] == ' ' || ct[end - 1] == '\t'))
        end--;
    size_t s = 0;
    while (s < end && (ct[s] == ' ' || ct[s] == '\t'))
        s++;
    const char *t = ct + s;
    size_t tl = end - s;
    if (tl >= 5 && apigw_ieq(t, 5, "text/", 5))
        return true;
    static const char *const suffixes[] = {"/json",       "+json",       "/xml",         "+xml",
                                           "/javascript", "/ecmascript", "/x-javascript"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (tl > sl && apigw_ieq(t + tl - sl, sl, suffixes[i], sl))
            return true;
    }
    return false;
}

/* "body" (omitted when empty, or null for 1.0) and "isBase64Encoded". */
static void write_body(const struct apigw_request *req, bool v1, struct parsed *p, struct jsonw *w)
{
    bool b64 = false;
    if (req->body_len > 0) {
        const struct apigw_kv *ct = apigw_request_header(req, "content-type");
        b64 = !apigw_event_text_type(ct ? ct->value : NULL, ct ? ct->value_len : 0) ||
              !utf8_valid(req->body, req->body_len);
        jw_key(w, "body");
        if (b64) {
            /* base64 needs no escaping: straight into the output */
            jw_raw(w, "\"", 1);
            int rc = jw_ok(w) ? codec_b64_encode(req->body, req->body_len, w->b) : BUF_OK;
            if (rc != BUF_OK)
                p->err = rc;
            if (jw_ok(w) && rc == BUF_OK && buf_append(w->b, "\"", 1) != BUF_OK)
                p->err = BUF_ETOOBIG;
        } else {
            jw_strn(w, req->body, req->body_len);
        }
    } else if (v1) {
        jw_key(w, "body");
        jw_null(w);
    }
    jw_kbool(w, "isBase64Encoded", b64);
}

/* An object of kv pairs; with null_empty writes null for none, else nothing at all. */
static void write_kv_map(const char *key, const struct apigw_kv *kv, size_t n, bool null_empty,
                         struct jsonw *w)
{
    if (n == 0 && !null_empty)
        return;
    jw_key(w, key);
    if (n == 0) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    for (size_t i = 0; i < n; i++) {
        jw_keyn(w, kv[i].name, kv[i].name_len);
        jw_strn(w, kv[i].value, kv[i].value_len);
    }
    jw_obj_end(w);
}

/* A string member; NULL is written as "". */
static void str_field(struct jsonw *w, const char *key, const char *val)
{
    jw_kstr(w, key, val ? val : "");
}

/* Parses req into p and opens, in w writing into out, the event object of that payload
 * version. APIGW_OK, or the parse's error (p then freed). */
static int start(const struct apigw_request *req, struct parsed *p, struct jsonw *w,
                 struct buf *out, const char *version)
{
    int rc = parse(req, p);
    if (rc != APIGW_OK) {
        parsed_free(p);
        return rc;
    }
    jw_init(w, out);
    jw_obj(w);
    str_field(w, "version", version);
    return APIGW_OK;
}

/* The outcome of a whole event that start began: our own errors first, then the writer's; p is
 * freed. */
static int finish(struct parsed *p, const struct jsonw *w)
{
    int rc = p->err != APIGW_OK ? p->err : jw_error(w);
    parsed_free(p);
    return rc;
}

/* ---- payload 2.0 ---- */

static void v2_headers(const struct apigw_request *req, const struct apigw_event_ctx *c,
                       struct parsed *p, struct jsonw *w)
{
    bool seen[H_TRACE + 1] = {false};
    jw_key(w, "headers");
    jw_obj(w);
    for (size_t g = 0; g < p->nhg; g++) {
        const struct item *it = &p->hdr[p->hg[g].start];
        enum hdr_special kind = special_of(it->k, it->kl);
        seen[kind] = true;
        if (kind == H_COOKIE)
            continue;
        write_lower_key(p, it->k, it->kl, w);
        const char *set = added_value(req, c, p, kind);
        if (kind == H_XFF) {
            char suffix[80];
            snprintf(suffix, sizeof suffix, ", %s", req->source_ip ? req->source_ip : "");
            write_joined(p, p->hdr, &p->hg[g], suffix, w);
        } else if ((kind == H_XFPORT || kind == H_XFPROTO) && set != NULL) {
            jw_str(w, set);
        } else {
            write_joined(p, p->hdr, &p->hg[g], NULL, w);
        }
    }
    if (!seen[H_HOST] && req->host != NULL) {
        jw_key(w, "host");
        jw_strn(w, req->host, req->host_len);
    }
    static const enum hdr_special added[] = {H_CLEN, H_TRACE, H_XFF, H_XFPORT, H_XFPROTO};
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        const char *v = added_value(req, c, p, added[i]);
        if (seen[added[i]] || v == NULL)
            continue;
        for (size_t k = 0; k < NSPECIAL; k++)
            if (specials[k].kind == added[i])
                jw_kstr(w, specials[k].lower, v);
    }
    jw_obj_end(w);
}

static void v2_cookies(struct parsed *p, struct jsonw *w)
{
    bool any = false;
    for (size_t i = 0; i < p->nh; i++) {
        const struct item *it = &p->hdr[i];
        if (!apigw_ieq(it->k, it->kl, "cookie", 6))
            continue;
        size_t j = 0;
        while (j < it->vl) {
            while (j < it->vl && (it->v[j] == ' ' || it->v[j] == '\t' || it->v[j] == ';'))
                j++;
            size_t s = j;
            while (j < it->vl && it->v[j] != ';')
                j++;
            size_t e = j;
            while (e > s && (it->v[e - 1] == ' ' || it->v[e - 1] == '\t'))
                e--;
            if (e == s)
                continue;
            if (!any) {
                jw_key(w, "cookies");
                jw_arr(w);
            }
            any = true;
            jw_strn(w, it->v + s, e - s);
        }
    }
    if (any)
        jw_arr_end(w);
}

static void v2_query(struct parsed *p, struct jsonw *w)
{
    if (p->nqg == 0)
        return;
    jw_key(w, "queryStringParameters");
    jw_obj(w);
    for (size_t g = 0; g < p->nqg; g++) {
        const struct item *it = &p->qry[p->qg[g].start];
        jw_keyn(w, it->k, it->kl);
        write_joined(p, p->qry, &p->qg[g], NULL, w);
    }
    jw_obj_end(w);
}

/* Opens requestContext with the members both payload versions start with, in their order. */
static void context_open(const struct apigw_event_ctx *c, struct jsonw *w)
{
    jw_key(w, "requestContext");
    jw_obj(w);
    str_field(w, "accountId", c->account_id);
    str_field(w, "apiId", c->api_id);
    if (c->authorizer_json != NULL) {
        jw_key(w, "authorizer");
        jw_raw(w, c->authorizer_json, strlen(c->authorizer_json));
    }
    str_field(w, "domainName", c->domain_name);
    str_field(w, "domainPrefix", c->domain_prefix);
}

static void v2_context(const struct apigw_request *req, const struct apigw_event_ctx *c,
                       struct parsed *p, struct jsonw *w)
{
    char tbuf[32];
    if (apigw_clf_time(req->time_ms, tbuf, sizeof tbuf) < 0)
        tbuf[0] = '\0';
    context_open(c, w);
    jw_key(w, "http");
    jw_obj(w);
    jw_kstrn(w, "method", req->method, req->method_len);
    jw_kstrn(w, "path", req->path, req->path_len);
    str_field(w, "protocol", req->protocol);
    str_field(w, "sourceIp", req->source_ip);
    jw_key(w, "userAgent");
    write_user_agent(p, w);
    jw_obj_end(w);
    str_field(w, "requestId", c->request_id);
    str_field(w, "routeKey", c->route_key);
    str_field(w, "stage", c->stage);
    str_field(w, "time", tbuf);
    jw_kint(w, "timeEpoch", req->time_ms);
    jw_obj_end(w);
}

static int event2(const struct apigw_request *req, const struct apigw_event_ctx *c,
                  const char *route_arn, const struct apigw_kv *ident, size_t nident,
                  bool authorizer, struct buf *out)
{
    struct parsed p;
    struct jsonw w;
    int rc = start(req, &p, &w, out, "2.0");
    if (rc != APIGW_OK)
        return rc;
    if (authorizer) {
        str_field(&w, "type", "REQUEST");
        str_field(&w, "routeArn", route_arn);
        jw_key(&w, "identitySource");
        jw_arr(&w);
        for (size_t i = 0; i < nident; i++)
            jw_strn(&w, ident[i].value, ident[i].value_len);
        jw_arr_end(&w);
    }
    str_field(&w, "routeKey", c->route_key);
    jw_kstrn(&w, "rawPath", req->path, req->path_len);
    jw_kstrn(&w, "rawQueryString", req->query ? req->query : "", req->query ? req->query_len : 0);
    v2_cookies(&p, &w);
    v2_headers(req, c, &p, &w);
    v2_query(&p, &w);
    v2_context(req, c, &p, &w);
    if (!authorizer)
        write_body(req, false, &p, &w);
    write_kv_map("pathParameters", c->path_params, c->npath_params, false, &w);
    write_kv_map("stageVariables", c->stage_vars, c->nstage_vars, false, &w);
    jw_obj_end(&w);
    return finish(&p, &w);
}

int apigw_event_v2(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                   struct buf *out)
{
    return event2(req, ctx, NULL, NULL, 0, false, out);
}

int apigw_event_authorizer_v2(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                              const char *route_arn, const struct apigw_kv *identity,
                              size_t nidentity, struct buf *out)
{
    return event2(req, ctx, route_arn, identity, nidentity, true, out);
}

/* ---- payload 1.0 ---- */

/* headers (last value) or multiValueHeaders (every value), names as first sent. */
static void v1_headers(const struct apigw_request *req, const struct apigw_event_ctx *c,
                       struct parsed *p, bool multi, struct jsonw *w)
{
    bool seen[H_TRACE + 1] = {false};
    jw_key(w, multi ? "multiValueHeaders" : "headers");
    jw_obj(w);
    char suffix[80];
    snprintf(suffix, sizeof suffix, ", %s", req->source_ip ? req->source_ip : "");
    for (size_t g = 0; g < p->nhg; g++) {
        const struct group *gr = &p->hg[g];
        const struct item *it = &p->hdr[gr->start];
        enum hdr_special kind = special_of(it->k, it->kl);
        seen[kind] = true;
        /* the name as first sent: the group's member with the smallest pos is its start */
        jw_keyn(w, it->k, it->kl);
        const char *set = added_value(req, c, p, kind);
        bool replace = (kind == H_XFPORT || kind == H_XFPROTO) && set != NULL;
        if (multi)
            jw_arr(w);
        size_t from = multi ? gr->start : gr->end - 1;
        for (size_t i = from; i < gr->end; i++) {
            if (replace) {
                jw_str(w, set);
                break;
            }
            if (kind == H_XFF && i + 1 == gr->end) {
                buf_reset(&p->scratch);
                int rc = buf_append(&p->scratch, p->hdr[i].v, p->hdr[i].vl);
                if (rc == BUF_OK)
                    rc = buf_puts(&p->scratch, suffix);
                if (rc != BUF_OK)
                    p->err = rc;
                jw_strn(w, p->scratch.data ? p->scratch.data : "", p->scratch.len);
            } else {
                jw_strn(w, p->hdr[i].v, p->hdr[i].vl);
            }
        }
        if (multi)
            jw_arr_end(w);
    }
    if (!seen[H_HOST] && req->host != NULL) {
        jw_key(w, "Host");
        if (multi)
            jw_arr(w);
        jw_strn(w, req->host, req->host_len);
        if (multi)
            jw_arr_end(w);
    }
    static const enum hdr_special added[] = {H_CLEN, H_TRACE, H_XFF, H_XFPORT, H_XFPROTO};
    for (size_t i = 0; i < sizeof added / sizeof added[0]; i++) {
        const char *v = added_value(req, c, p, added[i]);
        if (seen[added[i]] || v == NULL)
            continue;
        for (size_t k = 0; k < NSPECIAL; k++)
            if (specials[k].kind == added[i])
                jw_key(w, specials[k].canon);
        if (multi)
            jw_arr(w);
        jw_str(w, v);
        if (multi)
            jw_arr_end(w);
    }
    jw_obj_end(w);
}

static void v1_query(struct parsed *p, bool multi, struct jsonw *w)
{
    jw_key(w, multi ? "multiValueQueryStringParameters" : "queryStringParameters");
    if (p->nqg == 0) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    for (size_t g = 0; g < p->nqg; g++) {
        const struct group *gr = &p->qg[g];
        jw_keyn(w, p->qry[gr->start].k, p->qry[gr->start].kl);
        if (multi)
            jw_arr(w);
        size_t from = multi ? gr->start : gr->end - 1;
        for (size_t i = from; i < gr->end; i++)
            jw_strn(w, p->qry[i].v, p->qry[i].vl);
        if (multi)
            jw_arr_end(w);
    }
    jw_obj_end(w);
}

static void v1_context(const struct apigw_request *req, const struct apigw_event_ctx *c,
                       struct parsed *p, struct jsonw *w)
{
    static const char *const nulls[] = {"accessKey",
                                        "accountId",
                                        "caller",
                                        "cognitoAuthenticationProvider",
                                        "cognitoAuthenticationType",
                                        "cognitoIdentityId",
                                        "cognitoIdentityPoolId",
                                        "principalOrgId"};
    char tbuf[32];
    if (apigw_clf_time(req->time_ms, tbuf, sizeof tbuf) < 0)
        tbuf[0] = '\0';
    context_open(c, w);
    str_field(w, "extendedRequestId", c->request_id);
    jw_kstrn(w, "httpMethod", req->method, req->method_len);
    jw_key(w, "identity");
    jw_obj(w);
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
        jw_key(w, nulls[i]);
        jw_null(w);
    }
    str_field(w, "sourceIp", req->source_ip);
    jw_key(w, "user");
    jw_null(w);
    jw_key(w, "userAgent");
    write_user_agent(p, w);
    jw_key(w, "userArn");
    jw_null(w);
    jw_obj_end(w);
    jw_kstrn(w, "path", req->path, req->path_len);
    str_field(w, "protocol", req->protocol);
    str_field(w, "requestId", c->request_id);
    str_field(w, "requestTime", tbuf);
    jw_kint(w, "requestTimeEpoch", req->time_ms);
    str_field(w, "resourceId", c->route_key);
    str_field(w, "resourcePath", c->resource);
    str_field(w, "stage", c->stage);
    jw_obj_end(w);
}

/* The 1.0 authorizer's identitySource: the values comma-joined, as one string (at most 64 KiB
 * of them). */
static void v1_identity(struct parsed *p, const struct apigw_kv *ident, size_t nident,
                        struct jsonw *w)
{
    struct buf joined;
    buf_init(&joined, 64 * 1024);
    int rc = BUF_OK;
    for (size_t i = 0; rc == BUF_OK && i < nident; i++) {
        if (i > 0)
            rc = buf_append(&joined, ",", 1);
        if (rc == BUF_OK)
            rc = buf_append(&joined, ident[i].value, ident[i].value_len);
    }
    if (rc != BUF_OK)
        p->err = rc;
    jw_kstrn(w, "identitySource", joined.data ? joined.data : "", joined.len);
    buf_destroy(&joined);
}

static int event1(const struct apigw_request *req, const struct apigw_event_ctx *c,
                  const char *method_arn, const struct apigw_kv *ident, size_t nident,
                  bool authorizer, struct buf *out)
{
    struct parsed p;
    struct jsonw w;
    int rc = start(req, &p, &w, out, "1.0");
    if (rc != APIGW_OK)
        return rc;
    if (authorizer) {
        str_field(&w, "type", "REQUEST");
        str_field(&w, "methodArn", method_arn);
        v1_identity(&p, ident, nident, &w);
    }
    str_field(&w, "resource", c->resource);
    jw_kstrn(&w, "path", req->path, req->path_len);
    jw_kstrn(&w, "httpMethod", req->method, req->method_len);
    v1_headers(req, c, &p, false, &w);
    v1_headers(req, c, &p, true, &w);
    v1_query(&p, false, &w);
    v1_query(&p, true, &w);
    v1_context(req, c, &p, &w);
    write_kv_map("pathParameters", c->path_params, c->npath_params, true, &w);
    write_kv_map("stageVariables", c->stage_vars, c->nstage_vars, true, &w);
    write_body(req, true, &p, &w);
    jw_obj_end(&w);
    return finish(&p, &w);
}

int apigw_event_v1(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                   struct buf *out)
{
    return event1(req, ctx, NULL, NULL, 0, false, out);
}

int apigw_event_authorizer_v1(const struct apigw_request *req, const struct apigw_event_ctx *ctx,
                              const char *method_arn, const struct apigw_kv *identity,
                              size_t nidentity, struct buf *out)
{
    return event1(req, ctx, method_arn, identity, nidentity, true, out);
}
