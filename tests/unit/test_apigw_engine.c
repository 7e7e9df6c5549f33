/*
 * Unit tests: the API Gateway engine without HTTP — the management commands' semantics
 * (defaults, references, conflicts, AutoDeploy and pinned deployments, tags), durability
 * (restore from the store; a failed commit undoes the change), and the data path's own
 * answers (404, 413, 431, 429, CORS preflight, a missing resource policy: 500 with an
 * access-log line), driven with apigw_serve and the loop's timers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/apigw/apigw.h"
#include "cloud/lambda/lambda.h"
#include "cloud/logs/logs.h"
#include "cloud/store/store.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/timer.h"

static char dir[128];
static struct store *st;
static struct logs *lg;
static struct lambda *lm;
static struct apigw *gw;

static int no_listen(void *arg, struct lambda_env *env, uint16_t *port, void **l)
{
    (void)arg;
    (void)env;
    (void)port;
    (void)l;
    return -1;
}
static void no_unlisten(void *arg, void *l)
{
    (void)arg;
    (void)l;
}
static void *no_watch(void *arg, int fd, void (*cb)(void *, const char *, size_t), void *cbarg)
{
    (void)arg;
    (void)fd;
    (void)cb;
    (void)cbarg;
    return NULL;
}
static void no_unwatch(void *w)
{
    (void)w;
}

static struct apigw *open_gw(void)
{
    char msg[256];
    struct apigw_options o = {.region = "eu-west-1", .account = "000000000000", .api_port = 8080};
    struct apigw *g = apigw_new(&o, NULL, lm, lg, st, msg, sizeof msg);
    assert_non_null(g);
    apigw_restore(g);
    return g;
}

static int setup(void **state)
{
    (void)state;
    char msg[256], fdir[192];
    snprintf(dir, sizeof dir, "/tmp/haar-test-apigw-engine-%d", (int)getpid());
    mkdir(dir, 0700);
    st = store_open(dir, msg, sizeof msg);
    assert_non_null(st);
    lg = logs_new(dir, 0, msg, sizeof msg);
    assert_non_null(lg);
    struct lambda_options lo = {.region = "eu-west-1",
                                .state_dir = dir,
                                .aws_port = 1,
                                .account_concurrency = 10,
                                .idle_seconds = 60};
    struct lambda_host host = {NULL, no_listen, no_unlisten, no_watch, no_unwatch};
    lm = lambda_new(&lo, &host, lg, NULL, msg, sizeof msg);
    assert_non_null(lm);
    snprintf(fdir, sizeof fdir, "%s/fn", dir);
    mkdir(fdir, 0755);
    struct lambda_fn_spec spec = {
        .name = "fn", .runtime = "provided.al2023", .timeout = 3, .memory = 128, .dir = fdir};
    assert_int_equal(lambda_fn_provision(lm, &spec, msg, sizeof msg), ERR_OK);
    gw = open_gw();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apigw_free(gw);
    lambda_free(lm);
    logs_free(lg);
    store_close(st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- commands, run to their completion ---- */

struct result {
    bool done;
    enum err e;
    char msg[512];
    json_t *doc;
};

static void on_done(void *arg, enum err e, const char *msg, const json_t *doc)
{
    struct result *r = arg;
    r->done = true;
    r->e = e;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
    r->doc = doc ? json_deep_copy(doc) : NULL;
}

static void pump(struct result *r)
{
    for (int i = 0; i < 1000 && !r->done; i++) {
        store_poll(st);
        timer_run_due();
        if (!r->done)
            usleep(1000);
    }
    assert_true(r->done);
}

/* Runs a create; returns the resource (the caller releases) or NULL with *e set. */
static json_t *create(enum apigw_kind kind, const char *api, const char *spec, enum err want)
{
    json_t *j = json_loads(spec, 0, NULL);
    assert_non_null(j);
    struct result r = {0};
    apigw_create(gw, kind, api, j, on_done, &r);
    json_decref(j);
    assert_false(r.done); /* never from inside the call */
    pump(&r);
    if (r.e != want)
        printf("create %s: %s (%s)\n", spec, err_name(r.e), r.msg);
    assert_int_equal(r.e, want);
    return r.doc;
}

static enum err update(enum apigw_kind kind, const char *api, const char *id, const char *patch,
                       char *msg)
{
    json_t *j = json_loads(patch, 0, NULL);
    struct result r = {0};
    apigw_update(gw, kind, api, id, j, on_done, &r);
    json_decref(j);
    pump(&r);
    json_decref(r.doc);
    if (msg != NULL)
        snprintf(msg, 512, "%s", r.msg);
    return r.e;
}

static enum err delete (enum apigw_kind kind, const char *api, const char *id, char *msg) {
    struct result r = {0}; apigw_delete(gw, kind, api, id, on_done, &r); pump(&r);
    if (msg != NULL) snprintf(msg, 512, "%s", r.msg);
    return r.e;
}

static size_t count(enum apigw_kind kind, const char *api)
{
    json_t *items;
    char msg[256];
    assert_int_equal(apigw_list(gw, kind, api, &items, msg, sizeof msg), ERR_OK);
    size_t n = json_array_size(items);
    json_decref(items);
    return n;
}

static const char *s(const json_t *doc, const char *key)
{
    return jsonh_str(doc, key, "");
}

/* An API with one integration to "fn"; its id into id. */
static void make_api(char id[16], char iid[16])
{
    json_t *api =
        create(APIGW_KIND_API, NULL, "{\"name\":\"t\",\"protocolType\":\"HTTP\"}", ERR_OK);
    snprintf(id, 16, "%s", s(api, "apiId"));
    json_decref(api);
    json_t *ig = create(APIGW_KIND_INTEGRATION, id,
                        "{\"integrationType\":\"AWS_PROXY\",\"integrationUri\":"
                        "\"arn:aws:lambda:eu-west-1:000000000000:function:fn\","
                        "\"payloadFormatVersion\":\"2.0\"}",
                        ERR_OK);
    snprintf(iid, 16, "%s", s(ig, "integrationId"));
    assert_string_equal(s(ig, "connectionType"), "INTERNET");
    assert_int_equal(json_integer_value(json_object_get(ig, "timeoutInMillis")), 30000);
    json_decref(ig);
}

static void route(const char *api, const char *iid, const char *key)
{
    char spec[256];
    snprintf(spec, sizeof spec, "{\"routeKey\":\"%s\",\"target\":\"integrations/%s\"}", key, iid);
    json_decref(create(APIGW_KIND_ROUTE, api, spec, ERR_OK));
}

/* ---- the data path, answered by the gateway itself ---- */

struct answer {
    bool done;
    int status;
    char body[512];
    char hdrs[2048];
};

static void on_answer(void *arg, const struct apigw_response *r)
{
    struct answer *a = arg;
    a->done = true;
    a->status = r->status;
    snprintf(a->body, sizeof a->body, "%.*s", (int)r->body.len, r->body.data ? r->body.data : "");
    size_t used = 0;
    for (size_t i = 0; i < r->nheaders && used < sizeof a->hdrs; i++) {
        int n = snprintf(a->hdrs + used, sizeof a->hdrs - used, "%s: %s\n", r->headers[i].name,
                         r->headers[i].value);
        used += n > 0 ? (size_t)n : 0;
    }
}

static struct answer serve(const char *method, const char *path, const char *host,
                           const struct apigw_kv *hdrs, size_t nh, size_t body_len)
{
    static char big[APIGW_MAX_PAYLOAD + 2];
    struct apigw_request req = {.method = method,
                                .method_len = strlen(method),
                                .path = path,
                                .path_len = strlen(path),
                                .headers = hdrs,
                                .nheaders = nh,
                                .body = big,
                                .body_len = body_len,
                                .source_ip = "127.0.0.1",
                                .host = host,
                                .host_len = host ? strlen(host) : 0,
                                .protocol = "HTTP/1.1",
                                .time_ms = 1767225600000LL};
    struct answer a = {0};
    struct apigw_exchange *x = apigw_serve(gw, &req, on_answer, &a);
    assert_non_null(x);
    assert_false(a.done); /* never from inside the call */
    for (int i = 0; i < 100 && !a.done; i++)
        timer_run_due();
    assert_true(a.done);
    assert_non_null(strstr(a.hdrs, "apigw-requestid: "));
    return a;
}

/* ---- tests ---- */

static void test_defaults_autodeploy_and_pinned_stages(void **state)
{
    (void)state;
    char id[16], iid[16], host[64], spec[256], msg[512], path[128];
    make_api(id, iid);
    snprintf(host, sizeof host, "%s.execute-api.localhost:8080", id);
    json_t *api = NULL;
    assert_int_equal(apigw_get(gw, APIGW_KIND_API, NULL, id, &api, msg, sizeof msg), ERR_OK);
    snprintf(spec, sizeof spec, "http://%s.execute-api.localhost:8080", id);
    assert_string_equal(s(api, "apiEndpoint"), spec);
    assert_string_equal(s(api, "routeSelectionExpression"), "$request.method $request.path");
    assert_string_equal(s(api, "apiKeySelectionExpression"), "$request.header.x-api-key");
    assert_false(json_is_true(json_object_get(api, "disableExecuteApiEndpoint")));
    json_decref(api);
    route(id, iid, "GET /a");
    /* an AutoDeploy stage gets the API as it is, at once */
    json_t *dflt =
        create(APIGW_KIND_STAGE, id, "{\"stageName\":\"$default\",\"autoDeploy\":true}", ERR_OK);
    const char *d1 = s(dflt, "deploymentId");
    assert_true(strlen(d1) == 6);
    assert_non_null(strstr(s(dflt, "lastDeploymentStatusMessage"), d1));
    /* a pinned stage: an explicit deployment */
    json_decref(create(APIGW_KIND_STAGE, id, "{\"stageName\":\"pinned\"}", ERR_OK));
    json_t *dep = create(APIGW_KIND_DEPLOYMENT, id,
                         "{\"stageName\":\"pinned\",\"description\":\"v1\"}", ERR_OK);
    assert_string_equal(s(dep, "deploymentStatus"), "DEPLOYED");
    assert_false(json_is_true(json_object_get(dep, "autoDeployed")));
    assert_null(json_object_get(dep, "_snapshot")); /* private members are not shown */
    assert_int_equal(count(APIGW_KIND_DEPLOYMENT, id), 2);
    /* a new route: the AutoDeploy stage moves (its old automatic deployment goes), the
     * pinned one keeps serving what it was deployed with */
    route(id, iid, "GET /b");
    json_t *now;
    assert_int_equal(apigw_get(gw, APIGW_KIND_STAGE, id, "$default", &now, msg, sizeof msg),
                     ERR_OK);
    assert_string_not_equal(s(now, "deploymentId"), d1);
    assert_int_equal(count(APIGW_KIND_DEPLOYMENT, id), 2);
    json_decref(now);
    struct answer a = serve("GET", "/pinned/b", host, NULL, 0, 0);
    assert_int_equal(a.status, 404); /* not deployed there */
    assert_string_equal(a.body, "{\"message\":\"Not Found\"}");
    a = serve("GET", "/b", host, NULL, 0, 0);
    assert_int_equal(a.status, 500); /* routed, but no resource policy: see below */
    /* redeploy the pinned stage: now it has /b */
    snprintf(spec, sizeof spec, "{\"stageName\":\"pinned\"}");
    json_decref(create(APIGW_KIND_DEPLOYMENT, id, spec, ERR_OK));
    a = serve("GET", "/pinned/b", host, NULL, 0, 0);
    assert_int_equal(a.status, 500);
    /* the deployment a stage uses cannot go */
    json_t *pinned;
    assert_int_equal(apigw_get(gw, APIGW_KIND_STAGE, id, "pinned", &pinned, msg, sizeof msg),
                     ERR_OK);
    assert_int_equal(delete (APIGW_KIND_DEPLOYMENT, id, s(pinned, "deploymentId"), msg),
                     ERR_APIGW_BAD_REQUEST);
    /* the first explicit deployment is unused now: it may */
    assert_int_equal(delete (APIGW_KIND_DEPLOYMENT, id, s(dep, "deploymentId"), msg), ERR_OK);
    json_decref(pinned);
    json_decref(dep);
    json_decref(dflt);
    snprintf(path, sizeof path, "%s", id);
    assert_int_equal(delete (APIGW_KIND_API, NULL, path, msg), ERR_OK);
}

static void test_references_and_conflicts(void **state)
{
    (void)state;
    char id[16], iid[16], msg[512], spec[256];
    make_api(id, iid);
    route(id, iid, "ANY /pets/{id}");
    json_decref(
        create(APIGW_KIND_ROUTE, id, "{\"routeKey\":\"ANY /pets/{id}\"}", ERR_APIGW_CONFLICT));
    json_decref(create(APIGW_KIND_ROUTE, id, "{\"routeKey\":\"GET /pets/{a}/{a}\"}",
                       ERR_APIGW_BAD_REQUEST));
    json_decref(create(APIGW_KIND_ROUTE, id,
                       "{\"routeKey\":\"GET /x\",\"target\":\"integrations/nope\"}",
                       ERR_APIGW_BAD_REQUEST));
    json_decref(create(APIGW_KIND_ROUTE, id,
                       "{\"routeKey\":\"GET /y\",\"authorizationType\":\"JWT\"}",
                       ERR_APIGW_BAD_REQUEST)); /* JWT needs an authorizer */
    json_decref(create(APIGW_KIND_INTEGRATION, id,
                       "{\"integrationType\":\"AWS_PROXY\",\"integrationUri\":\"not-an-arn\"}",
                       ERR_APIGW_BAD_REQUEST));
    json_decref(create(APIGW_KIND_INTEGRATION, id, "{\"integrationType\":\"MOCK\"}",
                       ERR_APIGW_BAD_REQUEST));
    json_decref(create(APIGW_KIND_INTEGRATION, id,
                       "{\"integrationType\":\"AWS_PROXY\",\"integrationUri\":\"arn:aws:lambda:"
                       "eu-west-1:000000000000:function:fn\",\"timeoutInMillis\":40000}",
                       ERR_APIGW_BAD_REQUEST));
    json_decref(
        create(APIGW_KIND_STAGE, id, "{\"stageName\":\"bad name\"}", ERR_APIGW_BAD_REQUEST));
    json_decref(create(APIGW_KIND_AUTHORIZER, id,
                       "{\"authorizerType\":\"JWT\",\"name\":\"j\",\"identitySource\":"
                       "[\"$request.header.Authorization\"]}",
                       ERR_APIGW_BAD_REQUEST)); /* no issuer / audience */
    json_t *au = create(APIGW_KIND_AUTHORIZER, id,
                        "{\"authorizerType\":\"REQUEST\",\"name\":\"l\",\"identitySource\":"
                        "[\"$request.header.x\"],\"authorizerUri\":\"arn:aws:lambda:eu-west-1:"
                        "000000000000:function:fn\",\"authorizerPayloadFormatVersion\":\"2.0\"}",
                        ERR_OK);
    assert_int_equal(json_integer_value(json_object_get(au, "authorizerResultTtlInSeconds")), 300);
    snprintf(spec, sizeof spec,
             "{\"routeKey\":\"GET /guarded\",\"authorizationType\":\"CUSTOM\",\"authorizerId\":"
             "\"%s\",\"target\":\"integrations/%s\"}",
             s(au, "authorizerId"), iid);
    json_t *r = create(APIGW_KIND_ROUTE, id, spec, ERR_OK);
    /* what is used cannot go */
    assert_int_equal(delete (APIGW_KIND_INTEGRATION, id, iid, msg), ERR_APIGW_CONFLICT);
    assert_int_equal(delete (APIGW_KIND_AUTHORIZER, id, s(au, "authorizerId"), msg),
                     ERR_APIGW_CONFLICT);
    /* a route key may not move onto another's */
    assert_int_equal(
        update(APIGW_KIND_ROUTE, id, s(r, "routeId"), "{\"routeKey\":\"ANY /pets/{id}\"}", msg),
        ERR_APIGW_CONFLICT);
    assert_int_equal(
        update(APIGW_KIND_ROUTE, id, s(r, "routeId"), "{\"authorizationType\":\"NONE\"}", msg),
        ERR_OK);
    json_t *now;
    assert_int_equal(apigw_get(gw, APIGW_KIND_ROUTE, id, s(r, "routeId"), &now, msg, sizeof msg),
                     ERR_OK);
    assert_null(json_object_get(now, "authorizerId")); /* NONE keeps no authorizer */
    json_decref(now);
    assert_int_equal(delete (APIGW_KIND_AUTHORIZER, id, s(au, "authorizerId"), msg), ERR_OK);
    assert_int_equal(delete (APIGW_KIND_ROUTE, id, "nope123", msg), ERR_APIGW_NOT_FOUND);
    assert_string_equal(msg, "Invalid Route identifier specified 000000000000:nope123");
    assert_int_equal(update(APIGW_KIND_STAGE, id, "nope", "{}", msg), ERR_APIGW_NOT_FOUND);
    json_decref(create(APIGW_KIND_API, NULL, "{\"name\":\"w\",\"protocolType\":\"WEBSOCKET\"}",
                       ERR_APIGW_BAD_REQUEST));
    json_decref(au);
    json_decref(r);
    assert_int_equal(delete (APIGW_KIND_API, NULL, id, msg), ERR_OK);
    assert_int_equal(delete (APIGW_KIND_API, NULL, id, msg), ERR_APIGW_NOT_FOUND);
}

static void test_restore_and_failed_commits(void **state)
{
    (void)state;
    char id[16], iid[16], msg[512];
    make_api(id, iid);
    route(id, iid, "GET /kept");
    json_decref(create(APIGW_KIND_STAGE, id,
                       "{\"stageName\":\"$default\",\"autoDeploy\":true,\"stageVariables\":"
                       "{\"k\":\"v\"},\"tags\":{\"t\":\"1\"}}",
                       ERR_OK));
    json_t *before;
    assert_int_equal(apigw_list(gw, APIGW_KIND_ROUTE, id, &before, msg, sizeof msg), ERR_OK);
    /* a commit that fails: nothing of the change stays */
    store_fail_commits(st, 1);
    json_decref(create(APIGW_KIND_ROUTE, id, "{\"routeKey\":\"GET /lost\"}", ERR_INTERNAL));
    json_t *after;
    assert_int_equal(apigw_list(gw, APIGW_KIND_ROUTE, id, &after, msg, sizeof msg), ERR_OK);
    assert_true(json_equal(before, after));
    json_decref(after);
    store_fail_commits(st, 1);
    assert_int_equal(delete (APIGW_KIND_API, NULL, id, msg), ERR_INTERNAL);
    json_t *doc;
    assert_int_equal(apigw_get(gw, APIGW_KIND_API, NULL, id, &doc, msg, sizeof msg), ERR_OK);
    json_decref(doc);
    /* a new engine over the same store sees what was committed, and serves it */
    json_t *stage;
    assert_int_equal(apigw_get(gw, APIGW_KIND_STAGE, id, "$default", &stage, msg, sizeof msg),
                     ERR_OK);
    apigw_free(gw);
    gw = open_gw();
    assert_int_equal(apigw_list(gw, APIGW_KIND_ROUTE, id, &after, msg, sizeof msg), ERR_OK);
    assert_true(json_equal(before, after));
    json_t *stage2;
    assert_int_equal(apigw_get(gw, APIGW_KIND_STAGE, id, "$default", &stage2, msg, sizeof msg),
                     ERR_OK);
    assert_true(json_equal(stage, stage2));
    char host[64];
    snprintf(host, sizeof host, "%s.execute-api.localhost", id);
    struct answer a = serve("GET", "/kept", host, NULL, 0, 0);
    assert_int_equal(a.status, 500); /* routed (no policy yet); an unknown path is 404: */
    a = serve("GET", "/lost", host, NULL, 0, 0);
    assert_int_equal(a.status, 404);
    json_decref(before);
    json_decref(after);
    json_decref(stage);
    json_decref(stage2);
    assert_int_equal(delete (APIGW_KIND_API, NULL, id, msg), ERR_OK);
}

static void test_gateway_answers(void **state)
{
    (void)state;
    char id[16], iid[16], host[64], msg[512];
    make_api(id, iid);
    snprintf(host, sizeof host, "%s.execute-api.localhost", id);
    route(id, iid, "GET /t");
    assert_int_equal(update(APIGW_KIND_API, NULL, id,
                            "{\"corsConfiguration\":{\"allowOrigins\":[\"https://*\"],"
                            "\"allowMethods\":[\"GET\"],\"maxAge\":60}}",
                            msg),
                     ERR_OK);
    json_decref(create(APIGW_KIND_STAGE, id,
                       "{\"stageName\":\"$default\",\"autoDeploy\":true,\"defaultRouteSettings\":"
                       "{\"throttlingRateLimit\":1,\"throttlingBurstLimit\":1},"
                       "\"accessLogSettings\":{\"destinationArn\":\"arn:aws:logs:eu-west-1:"
                       "000000000000:log-group:/gw/engine\",\"format\":\"$context.status "
                       "$context.routeKey $context.integrationErrorMessage\"}}",
                       ERR_OK));
    /* unknown API, by Host and by path */
    struct answer a = serve("GET", "/t", "zzzzzzzzzz.execute-api.localhost", NULL, 0, 0);
    assert_int_equal(a.status, 404);
    a = serve("GET", "/_aws/execute-api/zzzzzzzzzz/$default/t", NULL, NULL, 0, 0);
    assert_int_equal(a.status, 404);
    /* a preflight, whatever the routes; an allowed https origin */
    struct apigw_kv pre[] = {{"origin", 6, "https://app.example", 19},
                             {"access-control-request-method", 29, "GET", 3}};
    a = serve("OPTIONS", "/nowhere", host, pre, 2, 0);
    assert_int_equal(a.status, 204);
    assert_non_null(strstr(a.hdrs, "access-control-allow-origin: https://app.example"));
    assert_non_null(strstr(a.hdrs, "access-control-max-age: 60"));
    /* no route, body and head limits */
    a = serve("GET", "/other", host, NULL, 0, 0);
    assert_int_equal(a.status, 404);
    a = serve("POST", "/t", host, NULL, 0, APIGW_MAX_PAYLOAD + 1);
    assert_int_equal(a.status, 413);
    assert_string_equal(a.body, "{\"message\":\"Request Entity Too Large\"}");
    static char pad[APIGW_MAX_HEAD];
    memset(pad, 'a', sizeof pad);
    struct apigw_kv big = {"x-pad", 5, pad, sizeof pad};
    a = serve("GET", "/t", host, &big, 1, 0);
    assert_int_equal(a.status, 431);
    /* routed, but the function's policy does not let this API in: 500, and the access log
     * says why; the burst of 1 is spent, so the next request is throttled */
    a = serve("GET", "/t", host, NULL, 0, 0);
    assert_int_equal(a.status, 500);
    assert_string_equal(a.body, "{\"message\":\"Internal Server Error\"}");
    a = serve("GET", "/t", host, NULL, 0, 0);
    assert_int_equal(a.status, 429);
    assert_string_equal(a.body, "{\"message\":\"Too Many Requests\"}");
    /* the default endpoint turned off: not served by Host or by path */
    assert_int_equal(update(APIGW_KIND_API, NULL, id, "{\"disableExecuteApiEndpoint\":true}", msg),
                     ERR_OK);
    a = serve("GET", "/t", host, NULL, 0, 0);
    assert_int_equal(a.status, 403);
    char path[64];
    snprintf(path, sizeof path, "/_aws/execute-api/%s/t", id);
    a = serve("GET", path, NULL, NULL, 0, 0);
    assert_int_equal(a.status, 403);
    logs_flush(lg);
    struct buf out;
    buf_init(&out, 1 << 20);
    int status = 0;
    const char *q = "{\"logGroupName\":\"/gw/engine\"}";
    assert_int_equal(logs_api_handle(lg, "FilterLogEvents", q, strlen(q), &status, &out), 0);
    assert_non_null(strstr(out.data, "500 GET /t The IAM role configured on the integration"));
    assert_non_null(strstr(out.data, "429 GET /t -"));
    buf_destroy(&out);
    assert_int_equal(delete (APIGW_KIND_API, NULL, id, msg), ERR_OK);
}

static void test_tags(void **state)
{
    (void)state;
    char id[16], iid[16], arn[128], msg[512];
    make_api(id, iid);
    json_decref(
        create(APIGW_KIND_STAGE, id, "{\"stageName\":\"dev\",\"tags\":{\"a\":\"1\"}}", ERR_OK));
    snprintf(arn, sizeof arn, "arn:aws:apigateway:eu-west-1::/apis/%s/stages/dev", id);
    json_t *add = json_pack("{s:s}", "b", "2"), *rm = json_pack("[s]", "a"), *tags;
    struct result r = {0};
    apigw_tags_change(gw, arn, add, rm, on_done, &r);
    pump(&r);
    assert_int_equal(r.e, ERR_OK);
    json_decref(r.doc);
    assert_int_equal(apigw_tags_get(gw, arn, &tags, msg, sizeof msg), ERR_OK);
    assert_string_equal(jsonh_str(tags, "b", ""), "2");
    assert_null(json_object_get(tags, "a"));
    json_decref(tags);
    assert_int_equal(
        apigw_tags_get(gw, "arn:aws:apigateway:eu-west-1::/apis/nope", &tags, msg, sizeof msg),
        ERR_APIGW_NOT_FOUND);
    json_decref(add);
    json_decref(rm);
    assert_int_equal(delete (APIGW_KIND_API, NULL, id, msg), ERR_OK);
}

static void test_unknown_ids_are_not_found(void **state)
{
    (void)state;
    json_t *doc;
    char msg[512];
    assert_int_equal(apigw_get(gw, APIGW_KIND_API, NULL, "nope", &doc, msg, sizeof msg),
                     ERR_APIGW_NOT_FOUND);
    assert_string_equal(msg, "Invalid API identifier specified 000000000000:nope");
    assert_null(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_ids_are_not_found),
        cmocka_unit_test(test_defaults_autodeploy_and_pinned_stages),
        cmocka_unit_test(test_references_and_conflicts),
        cmocka_unit_test(test_restore_and_failed_commits),
        cmocka_unit_test(test_gateway_answers),
        cmocka_unit_test(test_tags),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
