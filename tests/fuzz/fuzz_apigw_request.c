/*
 * fuzz_apigw_request.c — a client's request through the gateway engine (serve.c) and the
 * event builders (event.c): addressing by Host and by /_aws/execute-api/<id>/ path, stage
 * selection, CORS preflight, route matching, throttling, identity sources of Lambda and JWT
 * authorizers, and the payload 2.0 / 1.0 / authorizer events.
 *
 * Input: "METHOD\nPATH[?QUERY]\nName: value\n...\n\nBODY" (missing parts are empty). Every
 * event that builds must be valid JSON (jansson parses it back); every request is answered
 * exactly once, with a status from 200 to 599 and apigw-requestid. The engine serves one
 * API (the environment's: routes with a JWT and a Lambda authorizer, CORS) whose function does
 * not exist, so nothing is invoked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/apigw/apigw.h"
#include "cloud/apigw/event.h"
#include "cloud/lambda/lambda.h"
#include "core/timer.h"

static struct apigw *gw;
static struct lambda *lm;

static int no_listen(void *a, struct lambda_env *e, uint16_t *p, void **l)
{
    (void)a, (void)e, (void)p, (void)l;
    return -1;
}
static void no_unlisten(void *a, void *l)
{
    (void)a, (void)l;
}
static void *no_watch(void *a, int fd, void (*cb)(void *, const char *, size_t), void *c)
{
    (void)a, (void)fd, (void)cb, (void)c;
    return NULL;
}
static void no_unwatch(void *w)
{
    (void)w;
}

static void done(void *arg, enum err e, const char *msg, const json_t *doc)
{
    (void)msg, (void)doc;
    if (e != ERR_OK)
        abort();
    *(int *)arg = 1;
}

static void settle(int *flag)
{
    for (int i = 0; i < 100 && !*flag; i++)
        timer_run_due();
    if (!*flag)
        abort();
}

static void make(enum apigw_kind kind, const char *api, const char *spec)
{
    int flag = 0;
    json_t *j = json_loads(spec, 0, NULL);
    apigw_create(gw, kind, api, j, done, &flag);
    json_decref(j);
    settle(&flag);
}

static void init(void)
{
    char msg[256];
    struct lambda_options lo = {.region = "eu-west-1", .state_dir = "/tmp", .aws_port = 1};
    struct lambda_host host = {NULL, no_listen, no_unlisten, no_watch, no_unwatch};
    lm = lambda_new(&lo, &host, NULL, NULL, msg, sizeof msg);
    struct apigw_options o = {.region = "eu-west-1", .account = "000000000000", .api_port = 80};
    gw = apigw_new(&o, NULL, lm, NULL, NULL, msg, sizeof msg);
    static const char *const routes[] = {"GET /pets/{id}", "ANY /files/{p+}", "$default"};
    static const char *const origins[] = {"*"};
    struct apigw_env_spec es = {.name = "fz-api",
                                .function = "absent",
                                .timeout_ms = 1000,
                                .route_keys = routes,
                                .nroute_keys = 3,
                                .rate_limit = 1e9,
                                .burst_limit = 1000000000,
                                .cors_origins = origins,
                                .ncors_origins = 1};
    if (gw == NULL || apigw_provision_env(gw, &es, msg, sizeof msg) != ERR_OK)
        abort();
    const char *id = apigw_env_api_id(gw);
    make(APIGW_KIND_AUTHORIZER, id,
         "{\"authorizerType\":\"JWT\",\"name\":\"j\",\"identitySource\":[\"$request.header."
         "Authorization\"],\"jwtConfiguration\":{\"issuer\":\"https://i\",\"audience\":[\"a\"]}}");
    make(APIGW_KIND_AUTHORIZER, id,
         "{\"authorizerType\":\"REQUEST\",\"name\":\"l\",\"identitySource\":[\"$request.header."
         "x-k\",\"$request.querystring.k\",\"$context.routeKey\"],\"authorizerUri\":\"arn:aws:"
         "lambda:eu-west-1:000000000000:function:absent\",\"authorizerPayloadFormatVersion\":"
         "\"2.0\",\"enableSimpleResponses\":true,\"authorizerResultTtlInSeconds\":0}");
    json_t *items;
    apigw_list(gw, APIGW_KIND_AUTHORIZER, id, &items, msg, sizeof msg);
    const char *types[] = {"JWT", "CUSTOM"};
    const char *keys[] = {"GET /jwt", "GET /lam/{x}"};
    for (size_t i = 0; i < 2 && i < json_array_size(items); i++) {
        char spec[256];
        json_t *a = json_array_get(items, i);
        const char *t = strcmp(json_string_value(json_object_get(a, "authorizerType")), "JWT") == 0
                            ? types[0]
                            : types[1];
        snprintf(spec, sizeof spec,
                 "{\"routeKey\":\"%s\",\"authorizationType\":\"%s\",\"authorizerId\":\"%s\"}",
                 t == types[0] ? keys[0] : keys[1], t,
                 json_string_value(json_object_get(a, "authorizerId")));
        make(APIGW_KIND_ROUTE, id, spec);
    }
    json_decref(items);
}

struct answer {
    int n;
};

static void on_answer(void *arg, const struct apigw_response *r)
{
    struct answer *a = arg;
    a->n++;
    if (r->status < 200 || r->status > 599 || apigw_response_find(r, "apigw-requestid") == NULL)
        abort();
}

/* The event must be valid JSON. jansson takes no NUL in object keys (a query key may decode
 * to one, escaped as \u0000), so those escapes become \u0001 before it parses the text. */
static void check_json(struct buf *b)
{
    for (size_t i = 0; i + 6 <= b->len; i++)
        if (memcmp(b->data + i, "\\u0000", 6) == 0)
            b->data[i + 5] = '1';
    json_t *j = json_loadb(b->data, b->len, JSON_ALLOW_NUL, NULL);
    if (j == NULL)
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (gw == NULL)
        init();
    const char *p = (const char *)data, *end = p + size;
    struct apigw_kv hdrs[64];
    size_t nh = 0;
    const char *line[2] = {"", ""};
    size_t ll[2] = {0, 0};
    for (int i = 0; i < 2 && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        line[i] = p;
        ll[i] = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p = nl ? nl + 1 : end;
    }
    while (p < end && nh < 64) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (l == 0) {
            p = nl ? nl + 1 : end;
            break;
        }
        const char *colon = memchr(p, ':', l);
        size_t kl = colon ? (size_t)(colon - p) : l;
        const char *v = colon ? colon + 1 : p + l;
        while (v < p + l && *v == ' ')
            v++;
        hdrs[nh++] = (struct apigw_kv){p, kl, v, (size_t)(p + l - v)};
        p = nl ? nl + 1 : end;
    }
    const char *q = memchr(line[1], '?', ll[1]);
    struct apigw_request req = {.method = line[0],
                                .method_len = ll[0],
                                .path = line[1],
                                .path_len = q ? (size_t)(q - line[1]) : ll[1],
                                .query = q ? q + 1 : NULL,
                                .query_len = q ? ll[1] - (size_t)(q + 1 - line[1]) : 0,
                                .headers = hdrs,
                                .nheaders = nh,
                                .body = p,
                                .body_len = (size_t)(end - p),
                                .source_ip = "10.0.0.1",
                                .protocol = "HTTP/1.1",
                                .time_ms = 1767225600000LL};
    const struct apigw_kv *host = NULL;
    for (size_t i = 0; i < nh; i++)
        if (apigw_ieq(hdrs[i].name, hdrs[i].name_len, "host", 4))
            host = &hdrs[i];
    if (host != NULL) {
        req.host = host->value;
        req.host_len = host->value_len;
    }
    /* the events */
    struct apigw_kv params[1] = {{"id", 2, "7", 1}};
    struct apigw_event_ctx c = {.account_id = "000000000000",
                                .api_id = "a",
                                .stage = "$default",
                                .route_key = "$default",
                                .resource = "$default",
                                .request_id = "r",
                                .path_params = params,
                                .npath_params = 1};
    struct buf b;
    buf_init(&b, 64u << 20);
    if (apigw_event_v2(&req, &c, &b) == APIGW_OK)
        check_json(&b);
    buf_reset(&b);
    if (apigw_event_v1(&req, &c, &b) == APIGW_OK)
        check_json(&b);
    buf_reset(&b);
    if (apigw_event_authorizer_v2(&req, &c, "arn:x", hdrs, nh < 3 ? nh : 3, &b) == APIGW_OK)
        check_json(&b);
    buf_reset(&b);
    if (apigw_event_authorizer_v1(&req, &c, "arn:x", hdrs, nh < 3 ? nh : 3, &b) == APIGW_OK)
        check_json(&b);
    buf_destroy(&b);
    /* the gateway */
    struct answer a = {0};
    struct apigw_exchange *x = apigw_serve(gw, &req, on_answer, &a);
    if (x == NULL)
        abort();
    for (int i = 0; i < 100 && a.n == 0; i++)
        timer_run_due();
    if (a.n == 0) /* waiting on something (a JWKS fetch that cannot happen): let it go */
        apigw_cancel(x);
    if (a.n > 1)
        abort();
    return 0;
}
