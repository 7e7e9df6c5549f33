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

void router_handle(void *arg, struct http_req *req)
{
    struct router *rt = arg;
    size_t tl, pl, ml;
    const char *target = http_req_header(req, "x-amz-target", &tl);
    if (target != NULL) {
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
    if (lambda_rest_handle(rt->lambda, rt->aws_port, req))
        return;
    struct http_hdr h[2] = {{"content-type", "application/json", 0},
                            {"x-amzn-errortype", "UnknownOperationException", 0}};
    static const char nf[] = "{\"message\":\"Unknown operation: no AWS service answers this "
                             "request at this endpoint\"}";
    http_respond(req, 404, h, 2, nf, sizeof(nf) - 1);
}
