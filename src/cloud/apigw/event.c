/* event.c — see event.h. */
#include "cloud/apigw/event.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/jsonw.h"
#include "core/codec.h"

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

static int parse(const struct apigw_request *req, struct parsed *p)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->qdec, req->query_len + 16);
    buf_init(&p->scratch, (size_t)1 << 30);
    snprintf(p->clen, sizeof p->clen, "%zu", req->body_len);
    if (req->nheaders > 0) {
        p->hdr = malloc(req->nheaders * sizeof *p->hdr);
        if (p->hdr == NULL)
            return APIGW_ENOMEM;
        for (size_t i = 0; i < req->nheaders; i++) {
            const struct apigw_kv *h = &req->headers[i];
            p->hdr[i] = (struct item){h->name, h->name_len, h->value, h->value_len, i};
        }
        p->nh = req->nheaders;
        p->hg = group_items(p->hdr, p->nh, true, &p->nhg);
        if (p->hg == NULL)
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
            int rc = apigw_pct_decode(q + i, kend - i, true, &p->qdec);
            size_t voff = p->qdec.len;
            if (rc == APIGW_OK && eq != NULL)
                rc = apigw_pct_decode(eq + 1, end - kend - 1, true, &p->qdec);
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

/* Writes a group's values joined with ',' as one JSON string (through scratch). */
static int write_joined(struct parsed *p, const struct item *it, const struct group *g,
                        const char *extra, struct buf *out)
{
    buf_reset(&p->scratch);
    int rc = APIGW_OK;
    for (size_t i = g->start; rc == APIGW_OK && i < g->end; i++) {
        if (i > g->start)
            rc = buf_append(&p->scratch, ",", 1);
        if (rc == APIGW_OK)
            rc = buf_append(&p->scratch, it[i].v, it[i].vl);
    }
    if (rc == APIGW_OK && extra != NULL)
        rc = buf_puts(&p->scratch, extra);
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, p->scratch.data ? p->scratch.data : "", p->scratch.len);
    return rc;
}

/* Writes the lowercase form of k as a JSON key. */
static int write_lower_key(struct parsed *p, const char *k, size_t kl, bool *first,
                           struct buf *out)
{
    buf_reset(&p->scratch);
    int rc = buf_reserve(&p->scratch, kl);
    if (rc != APIGW_OK)
        return rc;
    for (size_t i = 0; i < kl; i++)
        p->scratch.data[i] = lower(k[i]);
    p->scratch.len = kl;
    p->scratch.data[kl] = '\0';
    return apigw_jw_keyn(out, first, p->scratch.data, kl);
}

/* The joined user-agent value (into scratch); "" when absent. */
static int user_agent(struct parsed *p, const struct buf **ua)
{
    buf_reset(&p->scratch);
    int rc = buf_append(&p->scratch, "", 0);
    for (size_t g = 0; rc == APIGW_OK && g < p->nhg; g++) {
        const struct item *it = &p->hdr[p->hg[g].start];
        if (!apigw_ieq(it->k, it->kl, "user-agent", 10))
            continue;
        for (size_t i = p->hg[g].start; rc == APIGW_OK && i < p->hg[g].end; i++) {
            if (i > p->hg[g].start)
                rc = buf_append(&p->scratch, ",", 1);
            if (rc == APIGW_OK)
                rc = buf_append(&p->scratch, p->hdr[i].v, p->hdr[i].vl);
        }
    }
    *ua = &p->scratch;
    return rc;
}

/* The value the gateway sets for an added header, or NULL when it adds none. */
static const char *added_value(const struct apigw_request *req, const struct apigw_event_ctx *c,
                               const struct parsed *p, enum hdr_special kind)
{
    switch (kind) {
    case H_XFF: return req->source_ip;
    case H_XFPORT: return c->forwarded_port;
    case H_XFPROTO: return c->forwarded_proto;
    case H_CLEN: return p->clen;
    case H_TRACE: return c->trace_id;
    default: return NULL;
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
    static const char *const suffixes[] = {"/json", "+json", "/xml", "+xml", "/javascript",
                                           "/ecmascript", "/x-javascript"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (tl > sl && apigw_ieq(t + tl - sl, sl, suffixes[i], sl))
            return true;
    }
    return false;
}

/* "body" (omitted when empty, or null for 1.0) and "isBase64Encoded". */
static int write_body(const struct apigw_request *req, bool v1, bool *first, struct buf *out)
{
    int rc = APIGW_OK;
    bool b64 = false;
    if (req->body_len > 0) {
        const struct apigw_kv *ct = apigw_request_header(req, "content-type");
        b64 = !apigw_event_text_type(ct ? ct->value : NULL, ct ? ct->value_len : 0) ||
              !apigw_utf8_valid(req->body, req->body_len);
        rc = apigw_jw_key(out, first, "body");
        if (rc == APIGW_OK && b64) {
            rc = buf_append(out, "\"", 1);
            if (rc == APIGW_OK)
                rc = codec_b64_encode(req->body, req->body_len, out);
            if (rc == APIGW_OK)
                rc = buf_append(out, "\"", 1);
        } else if (rc == APIGW_OK) {
            rc = apigw_jw_str(out, req->body, req->body_len);
        }
    } else if (v1) {
        rc = apigw_jw_key(out, first, "body");
        if (rc == APIGW_OK)
            rc = apigw_jw_raw(out, "null");
    }
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, first, "isBase64Encoded");
    if (rc == APIGW_OK)
        rc = apigw_jw_raw(out, b64 ? "true" : "false");
    return rc;
}

/* An object of kv pairs; with null_empty writes null for none, else nothing at all. */
static int write_kv_map(const char *key, const struct apigw_kv *kv, size_t n, bool null_empty,
                        bool *first, struct buf *out)
{
    if (n == 0 && !null_empty)
        return APIGW_OK;
    int rc = apigw_jw_key(out, first, key);
    if (rc == APIGW_OK && n == 0)
        return apigw_jw_raw(out, "null");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    for (size_t i = 0; rc == APIGW_OK && i < n; i++) {
        rc = apigw_jw_keyn(out, &f, kv[i].name, kv[i].name_len);
        if (rc == APIGW_OK)
            rc = apigw_jw_str(out, kv[i].value, kv[i].value_len);
    }
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

static int str_field(struct buf *out, bool *first, const char *key, const char *val)
{
    int rc = apigw_jw_key(out, first, key);
    if (rc == APIGW_OK)
        rc = apigw_jw_cstr(out, val ? val : "");
    return rc;
}

/* ---- payload 2.0 ---- */

static int v2_headers(const struct apigw_request *req, const struct apigw_event_ctx *c,
                      struct parsed *p, bool *first, struct buf *out)
{
    bool seen[H_TRACE + 1] = {false};
    int rc = apigw_jw_key(out, first, "headers");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    for (size_t g = 0; rc == APIGW_OK && g < p->nhg; g++) {
        const struct item *it = &p->hdr[p->hg[g].start];
        enum hdr_special kind = special_of(it->k, it->kl);
        seen[kind] = true;
        if (kind == H_COOKIE)
            continue;
        rc = write_lower_key(p, it->k, it->kl, &f, out);
        if (rc != APIGW_OK)
            break;
        const char *set = added_value(req, c, p, kind);
        if (kind == H_XFF) {
            char suffix[80];
            snprintf(suffix, sizeof suffix, ", %s", req->source_ip ? req->source_ip : "");
            rc = write_joined(p, p->hdr, &p->hg[g], suffix, out);
        } else if ((kind == H_XFPORT || kind == H_XFPROTO) && set != NULL) {
            rc = apigw_jw_cstr(out, set);
        } else {
            rc = write_joined(p, p->hdr, &p->hg[g], NULL, out);
        }
    }
    if (rc == APIGW_OK && !seen[H_HOST] && req->host != NULL) {
        rc = apigw_jw_key(out, &f, "host");
        if (rc == APIGW_OK)
            rc = apigw_jw_str(out, req->host, req->host_len);
    }
    static const enum hdr_special added[] = {H_CLEN, H_TRACE, H_XFF, H_XFPORT, H_XFPROTO};
    for (size_t i = 0; rc == APIGW_OK && i < sizeof added / sizeof added[0]; i++) {
        const char *v = added_value(req, c, p, added[i]);
        if (seen[added[i]] || v == NULL)
            continue;
        for (size_t k = 0; k < NSPECIAL; k++)
            if (specials[k].kind == added[i])
                rc = apigw_jw_key(out, &f, specials[k].lower);
        if (rc == APIGW_OK)
            rc = apigw_jw_cstr(out, v);
    }
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

static int v2_cookies(struct parsed *p, bool *first, struct buf *out)
{
    int rc = APIGW_OK;
    bool any = false;
    for (size_t i = 0; rc == APIGW_OK && i < p->nh; i++) {
        const struct item *it = &p->hdr[i];
        if (!apigw_ieq(it->k, it->kl, "cookie", 6))
            continue;
        size_t j = 0;
        while (rc == APIGW_OK && j < it->vl) {
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
                rc = apigw_jw_key(out, first, "cookies");
                if (rc == APIGW_OK)
                    rc = buf_append(out, "[", 1);
            } else {
                rc = buf_append(out, ",", 1);
            }
            any = true;
            if (rc == APIGW_OK)
                rc = apigw_jw_str(out, it->v + s, e - s);
        }
    }
    if (rc == APIGW_OK && any)
        rc = buf_append(out, "]", 1);
    return rc;
}

static int v2_query(struct parsed *p, bool *first, struct buf *out)
{
    if (p->nqg == 0)
        return APIGW_OK;
    int rc = apigw_jw_key(out, first, "queryStringParameters");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    for (size_t g = 0; rc == APIGW_OK && g < p->nqg; g++) {
        const struct item *it = &p->qry[p->qg[g].start];
        rc = apigw_jw_keyn(out, &f, it->k, it->kl);
        if (rc == APIGW_OK)
            rc = write_joined(p, p->qry, &p->qg[g], NULL, out);
    }
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

static int v2_context(const struct apigw_request *req, const struct apigw_event_ctx *c,
                      struct parsed *p, bool *first, struct buf *out)
{
    char tbuf[32];
    if (apigw_clf_time(req->time_ms, tbuf, sizeof tbuf) < 0)
        tbuf[0] = '\0';
    int rc = apigw_jw_key(out, first, "requestContext");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "accountId", c->account_id);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "apiId", c->api_id);
    if (rc == APIGW_OK && c->authorizer_json != NULL) {
        rc = apigw_jw_key(out, &f, "authorizer");
        if (rc == APIGW_OK)
            rc = apigw_jw_raw(out, c->authorizer_json);
    }
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "domainName", c->domain_name);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "domainPrefix", c->domain_prefix);
    if (rc == APIGW_OK)
        rc = apigw_jw_raw(out, ",\"http\":{\"method\":");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->method, req->method_len);
    if (rc == APIGW_OK)
        rc = apigw_jw_raw(out, ",\"path\":");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->path, req->path_len);
    bool hf = false;
    if (rc == APIGW_OK)
        rc = str_field(out, &hf, "protocol", req->protocol);
    if (rc == APIGW_OK)
        rc = str_field(out, &hf, "sourceIp", req->source_ip);
    const struct buf *ua = NULL;
    if (rc == APIGW_OK)
        rc = user_agent(p, &ua);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &hf, "userAgent");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, ua->data, ua->len);
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "requestId", c->request_id);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "routeKey", c->route_key);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "stage", c->stage);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "time", tbuf);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &f, "timeEpoch");
    if (rc == APIGW_OK)
        rc = apigw_jw_int(out, req->time_ms);
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

static int event2(const struct apigw_request *req, const struct apigw_event_ctx *c,
                  const char *route_arn, const struct apigw_kv *ident, size_t nident,
                  bool authorizer, struct buf *out)
{
    struct parsed p;
    int rc = parse(req, &p);
    bool first = true;
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    if (rc == APIGW_OK)
        rc = str_field(out, &first, "version", "2.0");
    if (rc == APIGW_OK && authorizer) {
        rc = str_field(out, &first, "type", "REQUEST");
        if (rc == APIGW_OK)
            rc = str_field(out, &first, "routeArn", route_arn);
        if (rc == APIGW_OK)
            rc = apigw_jw_key(out, &first, "identitySource");
        if (rc == APIGW_OK)
            rc = buf_append(out, "[", 1);
        for (size_t i = 0; rc == APIGW_OK && i < nident; i++) {
            if (i > 0)
                rc = buf_append(out, ",", 1);
            if (rc == APIGW_OK)
                rc = apigw_jw_str(out, ident[i].value, ident[i].value_len);
        }
        if (rc == APIGW_OK)
            rc = buf_append(out, "]", 1);
    }
    if (rc == APIGW_OK)
        rc = str_field(out, &first, "routeKey", c->route_key);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &first, "rawPath");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->path, req->path_len);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &first, "rawQueryString");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->query ? req->query : "", req->query ? req->query_len : 0);
    if (rc == APIGW_OK)
        rc = v2_cookies(&p, &first, out);
    if (rc == APIGW_OK)
        rc = v2_headers(req, c, &p, &first, out);
    if (rc == APIGW_OK)
        rc = v2_query(&p, &first, out);
    if (rc == APIGW_OK)
        rc = v2_context(req, c, &p, &first, out);
    if (rc == APIGW_OK && !authorizer)
        rc = write_body(req, false, &first, out);
    if (rc == APIGW_OK)
        rc = write_kv_map("pathParameters", c->path_params, c->npath_params, false, &first, out);
    if (rc == APIGW_OK)
        rc = write_kv_map("stageVariables", c->stage_vars, c->nstage_vars, false, &first, out);
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    parsed_free(&p);
    return rc;
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
static int v1_headers(const struct apigw_request *req, const struct apigw_event_ctx *c,
                      struct parsed *p, bool multi, bool *first, struct buf *out)
{
    bool seen[H_TRACE + 1] = {false};
    int rc = apigw_jw_key(out, first, multi ? "multiValueHeaders" : "headers");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    char suffix[80];
    snprintf(suffix, sizeof suffix, ", %s", req->source_ip ? req->source_ip : "");
    for (size_t g = 0; rc == APIGW_OK && g < p->nhg; g++) {
        const struct group *gr = &p->hg[g];
        const struct item *it = &p->hdr[gr->start];
        enum hdr_special kind = special_of(it->k, it->kl);
        seen[kind] = true;
        /* the name as first sent: the group's member with the smallest pos is its start */
        rc = apigw_jw_keyn(out, &f, it->k, it->kl);
        const char *set = added_value(req, c, p, kind);
        bool replace = (kind == H_XFPORT || kind == H_XFPROTO) && set != NULL;
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "[", 1);
        size_t from = multi ? gr->start : gr->end - 1;
        for (size_t i = from; rc == APIGW_OK && i < gr->end; i++) {
            if (i > from)
                rc = buf_append(out, ",", 1);
            if (rc != APIGW_OK)
                break;
            if (replace) {
                rc = apigw_jw_cstr(out, set);
                break;
            }
            if (kind == H_XFF && i + 1 == gr->end) {
                buf_reset(&p->scratch);
                rc = buf_append(&p->scratch, p->hdr[i].v, p->hdr[i].vl);
                if (rc == APIGW_OK)
                    rc = buf_puts(&p->scratch, suffix);
                if (rc == APIGW_OK)
                    rc = apigw_jw_str(out, p->scratch.data, p->scratch.len);
            } else {
                rc = apigw_jw_str(out, p->hdr[i].v, p->hdr[i].vl);
            }
        }
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "]", 1);
    }
    if (rc == APIGW_OK && !seen[H_HOST] && req->host != NULL) {
        rc = apigw_jw_key(out, &f, "Host");
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "[", 1);
        if (rc == APIGW_OK)
            rc = apigw_jw_str(out, req->host, req->host_len);
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "]", 1);
    }
    static const enum hdr_special added[] = {H_CLEN, H_TRACE, H_XFF, H_XFPORT, H_XFPROTO};
    for (size_t i = 0; rc == APIGW_OK && i < sizeof added / sizeof added[0]; i++) {
        const char *v = added_value(req, c, p, added[i]);
        if (seen[added[i]] || v == NULL)
            continue;
        for (size_t k = 0; k < NSPECIAL; k++)
            if (specials[k].kind == added[i])
                rc = apigw_jw_key(out, &f, specials[k].canon);
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "[", 1);
        if (rc == APIGW_OK)
            rc = apigw_jw_cstr(out, v);
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "]", 1);
    }
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

static int v1_query(struct parsed *p, bool multi, bool *first, struct buf *out)
{
    int rc = apigw_jw_key(out, first,
                          multi ? "multiValueQueryStringParameters" : "queryStringParameters");
    if (rc == APIGW_OK && p->nqg == 0)
        return apigw_jw_raw(out, "null");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    for (size_t g = 0; rc == APIGW_OK && g < p->nqg; g++) {
        const struct group *gr = &p->qg[g];
        rc = apigw_jw_keyn(out, &f, p->qry[gr->start].k, p->qry[gr->start].kl);
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "[", 1);
        size_t from = multi ? gr->start : gr->end - 1;
        for (size_t i = from; rc == APIGW_OK && i < gr->end; i++) {
            if (i > from)
                rc = buf_append(out, ",", 1);
            if (rc == APIGW_OK)
                rc = apigw_jw_str(out, p->qry[i].v, p->qry[i].vl);
        }
        if (rc == APIGW_OK && multi)
            rc = buf_append(out, "]", 1);
    }
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

static int v1_context(const struct apigw_request *req, const struct apigw_event_ctx *c,
                      struct parsed *p, bool *first, struct buf *out)
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
    int rc = apigw_jw_key(out, first, "requestContext");
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    bool f = true;
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "accountId", c->account_id);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "apiId", c->api_id);
    if (rc == APIGW_OK && c->authorizer_json != NULL) {
        rc = apigw_jw_key(out, &f, "authorizer");
        if (rc == APIGW_OK)
            rc = apigw_jw_raw(out, c->authorizer_json);
    }
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "domainName", c->domain_name);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "domainPrefix", c->domain_prefix);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "extendedRequestId", c->request_id);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &f, "httpMethod");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->method, req->method_len);
    if (rc == APIGW_OK)
        rc = apigw_jw_raw(out, ",\"identity\":{");
    bool idf = true;
    for (size_t i = 0; rc == APIGW_OK && i < sizeof nulls / sizeof nulls[0]; i++) {
        rc = apigw_jw_key(out, &idf, nulls[i]);
        if (rc == APIGW_OK)
            rc = apigw_jw_raw(out, "null");
    }
    if (rc == APIGW_OK)
        rc = str_field(out, &idf, "sourceIp", req->source_ip);
    if (rc == APIGW_OK)
        rc = apigw_jw_raw(out, ",\"user\":null");
    const struct buf *ua = NULL;
    if (rc == APIGW_OK)
        rc = user_agent(p, &ua);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &idf, "userAgent");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, ua->data, ua->len);
    if (rc == APIGW_OK)
        rc = apigw_jw_raw(out, ",\"userArn\":null}");
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &f, "path");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->path, req->path_len);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "protocol", req->protocol);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "requestId", c->request_id);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "requestTime", tbuf);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &f, "requestTimeEpoch");
    if (rc == APIGW_OK)
        rc = apigw_jw_int(out, req->time_ms);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "resourceId", c->route_key);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "resourcePath", c->resource);
    if (rc == APIGW_OK)
        rc = str_field(out, &f, "stage", c->stage);
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    return rc;
}

int apigw_event_v1(const struct apigw_request *req, const struct apigw_event_ctx *c,
                   struct buf *out)
{
    struct parsed p;
    int rc = parse(req, &p);
    bool first = true;
    if (rc == APIGW_OK)
        rc = buf_append(out, "{", 1);
    if (rc == APIGW_OK)
        rc = str_field(out, &first, "version", "1.0");
    if (rc == APIGW_OK)
        rc = str_field(out, &first, "resource", c->resource);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &first, "path");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->path, req->path_len);
    if (rc == APIGW_OK)
        rc = apigw_jw_key(out, &first, "httpMethod");
    if (rc == APIGW_OK)
        rc = apigw_jw_str(out, req->method, req->method_len);
    if (rc == APIGW_OK)
        rc = v1_headers(req, c, &p, false, &first, out);
    if (rc == APIGW_OK)
        rc = v1_headers(req, c, &p, true, &first, out);
    if (rc == APIGW_OK)
        rc = v1_query(&p, false, &first, out);
    if (rc == APIGW_OK)
        rc = v1_query(&p, true, &first, out);
    if (rc == APIGW_OK)
        rc = v1_context(req, c, &p, &first, out);
    if (rc == APIGW_OK)
        rc = write_kv_map("pathParameters", c->path_params, c->npath_params, true, &first, out);
    if (rc == APIGW_OK)
        rc = write_kv_map("stageVariables", c->stage_vars, c->nstage_vars, true, &first, out);
    if (rc == APIGW_OK)
        rc = write_body(req, true, &first, out);
    if (rc == APIGW_OK)
        rc = buf_append(out, "}", 1);
    parsed_free(&p);
    return rc;
}
