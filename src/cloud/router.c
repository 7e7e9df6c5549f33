#include "cloud/router.h"

#include <stdio.h>
#include <string.h>

#include "cloud/http.h"
#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "cloud/logs/logs.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/json.h"
#include "core/sigv4.h"

typedef void (*target_fn)(struct router *rt, struct http_req *req, const char *op, size_t opl);

static void logs_target(struct router *rt, struct http_req *req, const char *op, size_t opl)
{
    char opname[128];
    snprintf(opname, sizeof(opname), "%.*s", (int)(opl < 100 ? opl : 100), op);
    size_t bl;
    const char *body = http_req_body(req, &bl);
    struct buf out;
    buf_init(&out, 64 * 1024 * 1024);
    int status = 500;
    if (logs_api_handle(rt->logs, opname, body, bl, &status, &out) != 0) {
        buf_reset(&out);
        status = 500;
        err_json_body(ERR_INTERNAL, "", NULL, &out);
    }
    struct http_hdr h[1] = {{"content-type", "application/x-amz-json-1.1", 0}};
    http_respond(req, status, h, 1, out.data ? out.data : "", out.len);
    buf_destroy(&out);
}

/* X-Amz-Target prefixes → adapters (more services add rows here). */
static const struct {
    const char *prefix;
    target_fn fn;
} targets[] = {
    {"Logs_20140328.", logs_target},
};

json_t *router_health_json(const struct router *rt)
{
    json_t *fns = lambda_health_json(rt->lambda);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:{s:o, s:i}}", "status", "ok", "project",
                     rt->project, "environment", rt->environment, "region", rt->region, "account",
                     "000000000000", "uptime_ms", (json_int_t)(clock_now_ms() - rt->started_ms),
                     "lambda", "functions", fns, "function_count", (int)json_array_size(fns));
}

static void respond_json(struct http_req *req, int status, json_t *j)
{
    struct buf b;
    buf_init(&b, 16 * 1024 * 1024);
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    struct http_hdr h[1] = {{"content-type", "application/json", 0}};
    http_respond(req, status, h, 1, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

/* GetFunction's Code.Location: the deployment package as uploaded. */
static void serve_code(struct router *rt, struct http_req *req, const char *name, size_t len)
{
    char n[80], path[4200];
    struct lambda_fn *fn = NULL;
    if (len < sizeof(n)) {
        memcpy(n, name, len);
        n[len] = '\0';
        fn = lambda_fn_find(rt->lambda, n);
    }
    struct buf b;
    buf_init(&b, 80 * 1024 * 1024);
    FILE *f = fn && lambda_fn_code_zip(fn, path, sizeof(path)) == 0 ? fopen(path, "rb") : NULL;
    if (f == NULL) {
        static const char nf[] = "{\"message\":\"No deployment package for this function\"}";
        struct http_hdr h[1] = {{"content-type", "application/json", 0}};
        http_respond(req, 404, h, 1, nf, sizeof(nf) - 1);
        buf_destroy(&b);
        return;
    }
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(&b, chunk, got) != BUF_OK)
            break;
    fclose(f);
    struct http_hdr h[1] = {{"content-type", "application/zip", 0}};
    http_respond(req, 200, h, 1, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

int router_set_keys(struct router *rt, const char *spec, char *err, size_t errlen)
{
    rt->nkeys = 0;
    if (spec == NULL || spec[0] == '\0')
        spec = "test:test";
    while (*spec) {
        const char *end = strchr(spec, ',');
        size_t n = end ? (size_t)(end - spec) : strlen(spec);
        const char *colon = memchr(spec, ':', n);
        size_t il = colon ? (size_t)(colon - spec) : 0, sl = colon ? n - il - 1 : 0;
        if (colon == NULL || il == 0 || sl == 0 || il >= sizeof rt->keys[0].id ||
            sl >= sizeof rt->keys[0].secret || memchr(spec, '/', il) != NULL) {
            snprintf(err, errlen, "HAAR_ACCESS_KEYS: \"%.*s\" is not ID:SECRET (ID without '/')",
                     (int)(n > 60 ? 60 : n), spec);
            return -1;
        }
        if (rt->nkeys == ROUTER_MAX_KEYS) {
            snprintf(err, errlen, "HAAR_ACCESS_KEYS: more than %d keys", ROUTER_MAX_KEYS);
            return -1;
        }
        struct router_key *k = &rt->keys[rt->nkeys++];
        memcpy(k->id, spec, il);
        k->id[il] = '\0';
        memcpy(k->secret, colon + 1, sl);
        k->secret[sl] = '\0';
        spec += n + (end != NULL);
    }
    return 0;
}

static const char *secret_of(void *arg, const char *access_key, const char *token)
{
    const struct router *rt = arg;
    for (int i = 0; i < rt->nkeys; i++)
        if (strcmp(rt->keys[i].id, access_key) == 0)
            return rt->keys[i].secret;
    return lambda_secret_for_key(rt->lambda, access_key, token);
}

#define MAX_HEADERS 128

struct hdr_list {
    struct sigv4_header h[MAX_HEADERS];
    size_t n;
};

static void add_header(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
    struct hdr_list *l = arg;
    if (l->n < MAX_HEADERS)
        l->h[l->n++] = (struct sigv4_header){n, nl, v, vl};
}

/*
 * Checks the request's SigV4 signature (AWS-CONTRACTS.md §7). On failure answers as the
 * service would — REST (Lambda): 403 with X-Amzn-ErrorType; JSON 1.1: 400 with __type —
 * and returns false. service is the signing name expected in the scope, or NULL.
 */
static bool authorized(struct router *rt, struct http_req *req, const char *service, bool json)
{
    size_t pl, ml, bl;
    const char *path = http_req_path(req, &pl);
    const char *q = memchr(path, '?', pl);
    struct hdr_list l = {.n = 0};
    http_req_each_header_as_sent(req, add_header, &l);
    const char *body = http_req_body(req, &bl);
    struct sigv4_request sr = {.method = http_req_method(req, &ml),
                               .path = path,
                               .path_len = q ? (size_t)(q - path) : pl,
                               .query = q ? q + 1 : NULL,
                               .query_len = q ? pl - (size_t)(q - path) - 1 : 0,
                               .headers = l.h,
                               .nheaders = l.n};
    sr.method_len = ml;
    sr.body = body;
    sr.body_len = bl;
    char msg[8192];
    enum sigv4_status st = sigv4_verify(&sr, rt->region, service, true, clock_now_ms(), secret_of,
                                        rt, msg, sizeof msg);
    if (st == SIGV4_OK)
        return true;
    enum err e = st == SIGV4_MISSING       ? ERR_MISSING_AUTH
                 : st == SIGV4_MALFORMED   ? ERR_INCOMPLETE_SIGNATURE
                 : st == SIGV4_UNKNOWN_KEY ? ERR_UNRECOGNIZED_CLIENT
                                           : ERR_INVALID_SIGNATURE;
    struct buf b;
    buf_init(&b, 32768);
    if (json) {
        err_json_body(e, "", msg, &b);
        struct http_hdr h[1] = {{"content-type", "application/x-amz-json-1.1", 0}};
        http_respond(req, 400, h, 1, b.data, b.len);
    } else {
        err_rest_json_body(e, msg, &b);
        struct http_hdr h[2] = {{"content-type", "application/json", 0},
                                {"x-amzn-errortype", err_code(e), 0}};
        http_respond(req, err_status(e), h, 2, b.data, b.len);
    }
    buf_destroy(&b);
    return false;
}

void router_handle(void *arg, struct http_req *req)
{
    struct router *rt = arg;
    size_t tl, pl, ml;
    const char *target = http_req_header(req, "x-amz-target", &tl);
    if (target != NULL) {
        const char *service = tl > 14 && memcmp(target, "Logs_20140328.", 14) == 0 ? "logs" : NULL;
        if (!authorized(rt, req, service, true))
            return;
        for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
            size_t n = strlen(targets[i].prefix);
            if (tl > n && memcmp(target, targets[i].prefix, n) == 0) {
                targets[i].fn(rt, req, target + n, tl - n);
                return;
            }
        }
        struct buf b;
        buf_init(&b, 4096);
        err_json_body(ERR_UNKNOWN_OPERATION, "", NULL, &b);
        struct http_hdr h[1] = {{"content-type", "application/x-amz-json-1.1", 0}};
        http_respond(req, 400, h, 1, b.data, b.len);
        buf_destroy(&b);
        return;
    }
    const char *path = http_req_path(req, &pl);
    const char *m = http_req_method(req, &ml);
    if (pl >= 13 && memcmp(path, "/_haar/health", 13) == 0 && (pl == 13 || path[13] == '?') &&
        ml == 3 && memcmp(m, "GET", 3) == 0) {
        respond_json(req, 200, router_health_json(rt));
        return;
    }
    if (pl > 19 && memcmp(path, "/_haar/lambda/code/", 19) == 0 && ml == 3 &&
        memcmp(m, "GET", 3) == 0) {
        serve_code(rt, req, path + 19, pl - 19);
        return;
    }
    if (!authorized(rt, req, "lambda", false))
        return;
    if (lambda_rest_handle(rt->lambda, rt->aws_port, req))
        return;
    struct http_hdr h[2] = {{"content-type", "application/json", 0},
                            {"x-amzn-errortype", "UnknownOperationException", 0}};
    static const char nf[] = "{\"message\":\"Unknown operation: no AWS service answers this "
                             "request at this endpoint\"}";
    http_respond(req, 404, h, 2, nf, sizeof(nf) - 1);
}
