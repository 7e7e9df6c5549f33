/*
 * serve.c — the data path (see apigw_serve in apigw.h): one struct apigw_exchange per
 * request, from the API's address to the answer.
 *
 *   address → API → limits → stage → CORS preflight → route → throttle → authorizer
 *   (JWT: JWKS fetched once per location; Lambda: cached by identity for the TTL) →
 *   integration (a SYNC Lambda invoke guarded by a TIMER_REAL timer) → response mapping →
 *   CORS headers, apigw-requestid → access-log line → answer.
 *
 * Answers decided at once go out from the exchange's timer at 0 ms, as every completion
 * does; the others from the invocation's completion or the timer's expiry. The exchange
 * holds a reference to the stage's compiled form, so it keeps what it started with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/accesslog.h"
#include "cloud/apigw/apigw_int.h"
#include "cloud/apigw/event.h"
#include "cloud/lambda/lambda.h"
#include "cloud/logs/logs.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"
#include "core/timer.h"

#define EXEC_PREFIX      "/_aws/execute-api/"
#define HOST_MARK        ".execute-api."
#define INVOKE_PRINCIPAL "apigateway.amazonaws.com"
#define NO_PERMISSION                                                                              \
    "The IAM role configured on the integration or API Gateway doesn't have permissions to "       \
    "call the integration. Check the permissions and try again."

enum { JWKS_MAX = 1 << 20, JWKS_TTL_MS = 3600 * 1000, JWKS_RETRY_MS = 30 * 1000 };

enum phase {
    PH_ANSWER,      /* the timer gives the gateway's own answer */
    PH_PREFLIGHT,   /* the timer answers a CORS preflight */
    PH_AUTHORIZER,  /* a Lambda authorizer runs (the timer is its deadline) */
    PH_JWKS,        /* waiting for a JWKS document */
    PH_INTEGRATION, /* the function runs (the timer is the integration timeout) */
};

struct jwks_waiter {
    struct jwks_waiter *next;
    struct apigw_exchange *x;
};

struct apigw_exchange {
    struct apigw *gw;
    apigw_answer_fn answer;
    void *arg;
    struct apigw_request req; /* path: the API's view (without /_aws/execute-api/<id>) */
    struct stage_rt *st;
    const struct route_rt *route;
    const char *route_key;
    const char *resource;
    const char *rest; /* the path after the stage */
    size_t rest_len;
    struct apigw_match m;
    enum apigw_addr how; /* how the request named its API */
    enum phase phase;
    struct timer t;
    struct lambda_inv *inv;
    struct jwks_ent *jwks;
    struct jwks_waiter jw;
    /* the gateway's answer when phase is PH_ANSWER */
    int status;
    const char *message;
    char www_auth[256];
    /* what the integration gets from the authorizer */
    char *authorizer_json;
    json_t *auth_vars; /* claims or the Lambda authorizer's context, for the access log */
    char *principal;
    char auth_cache_key[65];
    /* the access log */
    char request_id[24];
    char method[16];
    char domain[256];
    char prefix[64];
    int64_t start_ns;
    int64_t integ_ns;
    int integ_latency;
    int integ_status;
    int fn_status;
    const char *integ_error;
    const char *auth_error;
    char integ_rid[37];
};

/* ---- small helpers ---- */

static void make_request_id(char out[24])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[12];
    ids_random(r, sizeof r);
    for (int i = 0; i < 15; i++) /* one symbol per 6-bit slice of the random bytes */
        out[i] = b64[(r[(i * 6) / 8] << 8 | r[(i * 6) / 8 + 1]) >> (10 - (i * 6) % 8) & 63];
    out[15] = '=';
    out[16] = '\0';
}

/* ---- finishing ---- */

static void release(struct apigw_exchange *x)
{
    timer_destroy(&x->t);
    apigw__stage_release(x->st);
    apigw_match_destroy(&x->m);
    free(x->authorizer_json);
    free(x->principal);
    json_decref(x->auth_vars);
    free(x);
}

/* Values of a JSON object as text (the access log's authorizer.* variables). */
static size_t kv_of(const json_t *o, struct apigw_kv *kv, size_t max, struct buf *store)
{
    size_t n = 0, offs[64];
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        if (n >= max || n >= 64)
            break;
        offs[n] = store->len;
        if (json_is_string(v)) {
            if (buf_append(store, json_string_value(v), json_string_length(v)) != BUF_OK)
                break;
        } else if (jsonh_dump_buf(v, JSON_COMPACT | JSON_ENCODE_ANY, store) != BUF_OK) {
            break;
        }
        kv[n].name = k;
        kv[n].name_len = strlen(k);
        kv[n].value_len = store->len - offs[n];
        n++;
    }
    for (size_t i = 0; i < n; i++)
        kv[i].value = store->data ? store->data + offs[i] : "";
    return n;
}

static void access_log(struct apigw_exchange *x, const struct apigw_response *r)
{
    struct apigw *gw = x->gw;
    if (x->st == NULL || x->st->log_group == NULL || gw->logs == NULL)
        return;
    struct apigw_log_vars v;
    apigw_log_vars_init(&v);
    char path[2048], proto[16];
    str_copyn(path, sizeof path, x->req.path, x->req.path_len);
    const char *pr = x->req.protocol ? x->req.protocol : "HTTP/1.1";
    str_copyn(proto, sizeof proto, pr, strlen(pr));
    const struct apigw_kv *ua = apigw_request_header(&x->req, "user-agent");
    char uab[512];
    str_copyn(uab, sizeof uab, ua ? ua->value : "", ua ? ua->value_len : 0);
    v.account_id = gw->account;
    v.api_id = x->st->api_id;
    v.domain_name = x->domain;
    v.domain_prefix = x->prefix;
    v.stage = x->st->name;
    v.request_id = x->request_id;
    v.extended_request_id = x->request_id;
    v.http_method = x->method;
    v.path = path;
    v.protocol = proto;
    v.route_key = x->route_key;
    v.source_ip = x->req.source_ip;
    v.user_agent = ua ? uab : NULL;
    v.authorizer_error = x->auth_error;
    v.authorizer_principal_id = x->principal;
    v.error_message = x->message;
    v.integration_error_message = x->integ_error;
    v.integration_request_id = x->integ_rid[0] ? x->integ_rid : NULL;
    v.request_time_ms = x->req.time_ms;
    v.status = r->status;
    v.integration_status = x->integ_status;
    v.function_status = x->fn_status;
    v.integration_latency = x->integ_ns ? x->integ_latency : -1;
    v.response_latency = (clock_mono_ns() - x->start_ns) / 1000000;
    v.response_length = (int64_t)r->body.len;
    v.data_processed = (int64_t)(x->req.body_len + r->body.len);
    struct apigw_kv kv[64];
    struct buf store;
    buf_init(&store, 1u << 20);
    size_t n = x->auth_vars ? kv_of(x->auth_vars, kv, 64, &store) : 0;
    bool jwt = x->route && x->route->auth_type == AUTH_JWT;
    v.claims = jwt ? kv : NULL;
    v.nclaims = jwt ? n : 0;
    v.authorizer = jwt ? NULL : kv;
    v.nauthorizer = jwt ? 0 : n;
    struct buf line;
    buf_init(&line, 64 * 1024);
    if (apigw_accesslog_format(x->st->log_format, strlen(x->st->log_format), &v, &line) ==
        APIGW_OK) {
        char stream[200];
        struct strb sb;
        strb_init(&sb, stream, sizeof stream);
        strb_puts(&sb, x->st->api_id);
        strb_puts(&sb, "_");
        strb_puts(&sb, strcmp(x->st->name, "$default") == 0 ? "default" : x->st->name);
        logs_put(gw->logs, x->st->log_group, stream, clock_now_ms(), line.data, line.len);
    }
    buf_destroy(&line);
    buf_destroy(&store);
}

/* The response in gw->resp is complete: the gateway's headers, the access log, the answer. */
static void finish(struct apigw_exchange *x)
{
    struct apigw *gw = x->gw;
    struct apigw_response *r = &gw->resp;
    if (x->st != NULL && x->st->cors_on && x->phase != PH_PREFLIGHT)
        apigw_cors_apply(&x->st->cors, &x->req, r);
    apigw_response_add_header(r, "apigw-requestid", 15, x->request_id, strlen(x->request_id));
    access_log(x, r);
    gw->served++;
    x->answer(x->arg, r);
    release(x);
}

/* The gateway's own answer, {"message": ...}. */
static void finish_message(struct apigw_exchange *x, int status, const char *message)
{
    struct apigw_response *r = &x->gw->resp;
    x->status = status;
    x->message = message;
    if (apigw_response_message(r, status, message) != APIGW_OK)
        apigw_response_message(r, 500, "Internal Server Error");
    if (x->www_auth[0])
        apigw_response_add_header(r, "www-authenticate", 16, x->www_auth, strlen(x->www_auth));
    finish(x);
}

/* Decided now, answered later (from the timer). */
static void later(struct apigw_exchange *x, int status, const char *message)
{
    x->phase = PH_ANSWER;
    x->status = status;
    x->message = message;
    timer_start(&x->t, 0);
}

static void integration_failed(struct apigw_exchange *x, const char *why, bool now)
{
    x->integ_error = why;
    if (now)
        finish_message(x, 500, "Internal Server Error");
    else
        later(x, 500, "Internal Server Error");
}

static void on_timer(struct timer *t)
{
    struct apigw_exchange *x = t->data;
    switch (x->phase) {
    case PH_ANSWER:
        finish_message(x, x->status, x->message);
        return;
    case PH_PREFLIGHT: {
        struct apigw_response *r = &x->gw->resp;
        if (apigw_cors_preflight(&x->st->cors, &x->req, r) != APIGW_OK)
            apigw_response_message(r, 500, "Internal Server Error");
        finish(x);
        return;
    }
    case PH_INTEGRATION:
        lambda_inv_detach(x->inv);
        x->inv = NULL;
        x->integ_latency = (int)((clock_mono_ns() - x->integ_ns) / 1000000);
        x->integ_error = "The integration timed out";
        finish_message(x, 503, "Service Unavailable");
        return;
    case PH_AUTHORIZER:
        lambda_inv_detach(x->inv);
        x->inv = NULL;
        x->auth_error = "The authorizer timed out";
        finish_message(x, 500, "Internal Server Error");
        return;
    case PH_JWKS:
        return;
    }
}

/* ---- the integration ---- */

static void source_arn(const struct apigw_exchange *x, struct buf *out)
{
    const char *sp = strchr(x->route_key, ' ');
    if (sp == NULL) { /* $default */
        buf_printf(out, "arn:aws:execute-api:%s:%s:%s/%s/%s", x->gw->region, x->gw->account,
                   x->st->api_id, x->st->name, x->route_key);
        return;
    }
    apigw_route_arn(x->gw->region, x->gw->account, x->st->api_id, x->st->name, x->route_key,
                    (size_t)(sp - x->route_key), sp + 1, strlen(sp + 1), out);
}

/* May the API invoke fn? The environment's API, and integrations with a role, need no
 * resource policy; the others need one for apigateway.amazonaws.com and this source ARN. */
static bool permitted(const struct apigw_exchange *x, const struct lambda_fn *fn, bool has_role)
{
    if (x->st->managed || has_role)
        return true;
    struct buf arn;
    buf_init(&arn, 4096);
    source_arn(x, &arn);
    bool ok = arn.data && lambda_fn_permits(fn, INVOKE_PRINCIPAL, arn.data, x->gw->account);
    buf_destroy(&arn);
    return ok;
}

static void event_ctx(const struct apigw_exchange *x, struct apigw_event_ctx *c,
                      char trace[IDS_TRACE_ROOT_LEN + 1], char *port, size_t portlen)
{
    ids_trace_root(trace);
    struct strb pb;
    strb_init(&pb, port, portlen);
    strb_i64(&pb, x->gw->opt.api_port);
    *c = (struct apigw_event_ctx){
        .account_id = x->gw->account,
        .api_id = x->st->api_id,
        .domain_name = x->domain,
        .domain_prefix = x->prefix,
        .stage = x->st->name,
        .route_key = x->route_key,
        .resource = x->resource,
        .request_id = x->request_id,
        .trace_id = trace,
        .forwarded_port = port,
        .forwarded_proto = "http",
        .path_params = x->m.params,
        .npath_params = x->m.nparams,
        .stage_vars = x->st->vars,
        .nstage_vars = x->st->nvars,
        .authorizer_json = x->authorizer_json,
    };
}

static void on_invoked(void *arg, const struct lambda_result *res)
{
    struct apigw_exchange *x = arg;
    struct apigw_response *r = &x->gw->resp;
    x->inv = NULL;
    timer_stop(&x->t);
    x->integ_latency = (int)((clock_mono_ns() - x->integ_ns) / 1000000);
    if (res->request_id != NULL)
        str_copyn(x->integ_rid, sizeof x->integ_rid, res->request_id, strlen(res->request_id));
    if (res->err != ERR_OK) { /* throttled, or the service failed: no answer of the function */
        x->integ_status = err_status(res->err);
        integration_failed(x, res->err_msg ? res->err_msg : err_message(res->err), true);
        return;
    }
    x->integ_status = 200;
    enum apigw_payload fmt = x->route->integ->v1 ? APIGW_PAYLOAD_V1 : APIGW_PAYLOAD_V2;
    if (res->function_error) {
        apigw_response_function_error(r, fmt);
        x->integ_error = "The function returned an error";
    } else if (apigw_response_map(r, fmt, res->body, res->len) != APIGW_OK) {
        x->integ_error = r->error ? r->error : "The function's response could not be mapped";
        if (r->status != 500)
            apigw_response_message(r, 500, "Internal Server Error");
    }
    x->fn_status = x->integ_error ? -1 : r->status;
    finish(x);
}

/* Builds the event and invokes the route's function; the answer comes from on_invoked or
 * the timeout. `now` says whether a failure may be answered at once (we are in a callback)
 * or must wait for the timer (we are inside apigw_serve). */
static void integrate(struct apigw_exchange *x, bool now)
{
    struct apigw *gw = x->gw;
    const struct integ_rt *ig = x->route->integ;
    if (ig == NULL || ig->type != INTEG_LAMBDA) {
        integration_failed(x,
                           ig ? "haar serves Lambda proxy (AWS_PROXY) integrations only"
                              : "The route has no integration",
                           now);
        return;
    }
    struct lambda_fn *fn = lambda_fn_find_arn(gw->lambda, ig->function);
    if (fn == NULL) {
        x->integ_status = 404;
        integration_failed(x, "The integration's function does not exist", now);
        return;
    }
    if (!permitted(x, fn, ig->has_role)) {
        x->integ_status = 403;
        integration_failed(x, NO_PERMISSION, now);
        return;
    }
    struct apigw_event_ctx c;
    char trace[IDS_TRACE_ROOT_LEN + 1], port[8];
    event_ctx(x, &c, trace, port, sizeof port);
    buf_reset(&gw->ev);
    int rc = ig->v1 ? apigw_event_v1(&x->req, &c, &gw->ev) : apigw_event_v2(&x->req, &c, &gw->ev);
    if (rc == APIGW_OK && gw->ev.len > LAMBDA_MAX_SYNC_PAYLOAD)
        rc = APIGW_ETOOBIG;
    if (rc != APIGW_OK) {
        int status = rc == APIGW_EBADESCAPE ? 400 : rc == APIGW_ETOOBIG ? 413 : 500;
        const char *msg = rc == APIGW_EBADESCAPE ? "Bad Request"
                          : rc == APIGW_ETOOBIG  ? "Request Entity Too Large"
                                                 : "Internal Server Error";
        if (now)
            finish_message(x, status, msg);
        else
            later(x, status, msg);
        return;
    }
    x->integ_ns = clock_mono_ns();
    x->phase = PH_INTEGRATION;
    x->inv = lambda_invoke(gw->lambda, fn, LAMBDA_INV_SYNC, gw->ev.data, gw->ev.len, NULL, false,
                           on_invoked, x, x->integ_rid);
    if (x->inv == NULL) {
        integration_failed(x, "out of memory", now);
        return;
    }
    timer_start(&x->t, ig->timeout_ms);
}

/* ---- authorizers ---- */

static void authorized(struct apigw_exchange *x, bool now)
{
    integrate(x, now);
}

static void refuse(struct apigw_exchange *x, enum apigw_auth_status st, const char *why, bool now)
{
    x->auth_error = why;
    int status = apigw_auth_http_status(st);
    const char *msg = apigw_auth_message(st);
    if (now)
        finish_message(x, status, msg);
    else
        later(x, status, msg);
}

/* The request's $context values an identity source may name. */
static size_t context_vars(const struct apigw_exchange *x, struct apigw_kv *kv)
{
    const char *pairs[][2] = {{"apiId", x->st->api_id},     {"domainName", x->domain},
                              {"domainPrefix", x->prefix},  {"httpMethod", x->method},
                              {"requestId", x->request_id}, {"routeKey", x->route_key},
                              {"stage", x->st->name},       {"identity.sourceIp", x->req.source_ip},
                              {"accountId", x->gw->account}};
    size_t n = sizeof pairs / sizeof pairs[0];
    for (size_t i = 0; i < n; i++)
        kv[i] =
            (struct apigw_kv){pairs[i][0], strlen(pairs[i][0]), pairs[i][1], strlen(pairs[i][1])};
    return n;
}

/* A Lambda authorizer's answer (fresh or cached) decides. */
static void lambda_decide(struct apigw_exchange *x, const char *out, size_t len, bool fresh,
                          bool now)
{
    struct apigw *gw = x->gw;
    const struct auth_rt *au = x->route->auth;
    struct buf arn;
    buf_init(&arn, 4096);
    apigw_route_arn(gw->region, gw->account, x->st->api_id, x->st->name, x->req.method,
                    x->req.method_len, x->rest, x->rest_len, &arn);
    struct apigw_lambda_auth_result res;
    enum apigw_auth_status st =
        apigw_lambda_auth_parse(out, len, au->simple, arn.data ? arn.data : "", &res);
    buf_destroy(&arn);
    if (st != APIGW_AUTH_ERROR && fresh && au->ttl_s > 0 && x->auth_cache_key[0])
        apigw_auth_cache_put(gw->auth_cache, x->auth_cache_key, out, len, au->ttl_s,
                             clock_now_ms());
    if (res.principal_id != NULL)
        x->principal = strdup(res.principal_id);
    if (st != APIGW_AUTH_ALLOW) {
        apigw_lambda_auth_result_destroy(&res);
        refuse(x, st,
               st == APIGW_AUTH_ERROR ? "The authorizer's response is not valid"
                                      : "The authorizer denied the request",
               now);
        return;
    }
    struct buf j;
    buf_init(&j, 1u << 20);
    if (apigw_lambda_authorizer_json(&res, x->route->integ && x->route->integ->v1, &j) == APIGW_OK)
        x->authorizer_json = buf_take(&j, NULL);
    buf_destroy(&j);
    x->auth_vars = json_incref(res.context);
    apigw_lambda_auth_result_destroy(&res);
    authorized(x, now);
}

static void on_authorizer(void *arg, const struct lambda_result *res)
{
    struct apigw_exchange *x = arg;
    x->inv = NULL;
    timer_stop(&x->t);
    if (res->err != ERR_OK || res->function_error) {
        refuse(x, APIGW_AUTH_ERROR, "The authorizer failed", true);
        return;
    }
    lambda_decide(x, res->body, res->len, true, true);
}

static void authorize_lambda(struct apigw_exchange *x)
{
    struct apigw *gw = x->gw;
    const struct auth_rt *au = x->route->auth;
    struct apigw_kv ctx[16], ident[64];
    struct apigw_auth_vars vars = {ctx, context_vars(x, ctx), x->st->vars, x->st->nvars};
    struct buf store;
    buf_init(&store, 64 * 1024);
    size_t n = au->nsources > 64 ? 64 : au->nsources;
    int rc =
        apigw_identity_resolve((const char *const *)au->sources, n, &x->req, &vars, ident, &store);
    if (rc == APIGW_AUTH_MISSING || (rc != APIGW_OK)) {
        buf_destroy(&store);
        refuse(x, rc == APIGW_AUTH_MISSING ? APIGW_AUTH_UNAUTHORIZED : APIGW_AUTH_ERROR,
               "The identity source is missing", false);
        return;
    }
    if (au->ttl_s > 0) {
        apigw_auth_cache_key(au->key, ident, n, x->auth_cache_key);
        size_t len;
        const char *hit =
            apigw_auth_cache_get(gw->auth_cache, x->auth_cache_key, clock_now_ms(), &len);
        if (hit != NULL) {
            char *copy = strndup(hit, len);
            buf_destroy(&store);
            if (copy == NULL) {
                refuse(x, APIGW_AUTH_ERROR, "out of memory", false);
                return;
            }
            x->phase = PH_ANSWER; /* decided below, before any answer */
            lambda_decide(x, copy, len, false, false);
            free(copy);
            return;
        }
    }
    struct lambda_fn *fn = au->function[0] ? lambda_fn_find_arn(gw->lambda, au->function) : NULL;
    if (fn == NULL || !permitted(x, fn, au->has_role)) {
        buf_destroy(&store);
        refuse(x, APIGW_AUTH_ERROR, fn ? NO_PERMISSION : "The authorizer's function does not exist",
               false);
        return;
    }
    struct buf arn;
    buf_init(&arn, 4096);
    apigw_route_arn(gw->region, gw->account, x->st->api_id, x->st->name, x->req.method,
                    x->req.method_len, x->rest, x->rest_len, &arn);
    struct apigw_event_ctx c;
    char trace[IDS_TRACE_ROOT_LEN + 1], port[8];
    event_ctx(x, &c, trace, port, sizeof port);
    c.authorizer_json = NULL;
    buf_reset(&gw->ev);
    if (au->v1)
        rc = apigw_event_authorizer_v1(&x->req, &c, arn.data ? arn.data : "", ident, n, &gw->ev);
    else
        rc = apigw_event_authorizer_v2(&x->req, &c, arn.data ? arn.data : "", ident, n, &gw->ev);
    buf_destroy(&arn);
    buf_destroy(&store);
    if (rc != APIGW_OK) {
        refuse(x, APIGW_AUTH_ERROR, "The authorizer's event could not be built", false);
        return;
    }
    x->phase = PH_AUTHORIZER;
    x->inv = lambda_invoke(gw->lambda, fn, LAMBDA_INV_SYNC, gw->ev.data, gw->ev.len, NULL, false,
                           on_authorizer, x, NULL);
    if (x->inv == NULL) {
        refuse(x, APIGW_AUTH_ERROR, "out of memory", false);
        return;
    }
    timer_start(&x->t, APIGW_AUTHORIZER_TIMEOUT_MS);
}

/* ---- JWT ---- */

static struct jwks_ent *jwks_find(struct apigw *gw, const char *url)
{
    for (struct jwks_ent *e = gw->jwks; e; e = e->next)
        if (strcmp(e->url, url) == 0)
            return e;
    struct jwks_ent *e = calloc(1, sizeof *e);
    if (e == NULL || (e->url = strdup(url)) == NULL) {
        free(e);
        return NULL;
    }
    e->next = gw->jwks;
    gw->jwks = e;
    return e;
}

void apigw__jwks_free_all(struct apigw *gw)
{
    while (gw->jwks) {
        struct jwks_ent *e = gw->jwks;
        gw->jwks = e->next;
        apigw_jwks_free(e->keys);
        free(e->url);
        free(e);
    }
}

static void jwt_verify(struct apigw_exchange *x, bool now);

/* A fetch of a JWKS location (or of the OIDC discovery document naming it). */
struct jwks_fetch {
    struct apigw *gw;
    char *url;      /* the entry's key */
    bool discovery; /* this fetch reads {issuer}/.well-known/openid-configuration */
};

static void jwks_start(struct apigw *gw, struct jwks_ent *e);

static void jwks_fetched(void *arg, int rc, const char *body, size_t len)
{
    struct jwks_fetch *f = arg;
    struct apigw *gw = f->gw;
    struct jwks_ent *e = NULL;
    for (e = gw->jwks; e && strcmp(e->url, f->url) != 0; e = e->next)
        ;
    if (e == NULL) {
        free(f->url);
        free(f);
        return;
    }
    if (rc == 0 && f->discovery) { /* the discovery document names the keys */
        json_t *d = jsonh_parse(body, len, NULL, 0);
        const char *uri = jsonh_str(d, "jwks_uri", NULL);
        if (uri != NULL && gw->host.fetch != NULL) {
            f->discovery = false;
            gw->host.fetch(gw->host.arg, uri, JWKS_MAX, jwks_fetched, f);
            json_decref(d);
            return;
        }
        json_decref(d);
        rc = -1;
    }
    char err[256];
    struct apigw_jwks *k = rc == 0 ? apigw_jwks_parse(body, len, err, sizeof err) : NULL;
    if (k == NULL)
        LOG_WARN("apigw", NULL, "JWKS %s could not be loaded", e->url);
    if (k != NULL) {
        apigw_jwks_free(e->keys);
        e->keys = k;
    }
    e->fetched_ms = clock_real_now_ms();
    e->fetching = false;
    struct jwks_waiter *w = e->waiters;
    e->waiters = NULL;
    while (w) {
        struct jwks_waiter *n = w->next;
        struct apigw_exchange *x = w->x;
        x->jwks = NULL;
        jwt_verify(x, true);
        w = n;
    }
    free(f->url);
    free(f);
}

static void jwks_start(struct apigw *gw, struct jwks_ent *e)
{
    struct jwks_fetch *f = calloc(1, sizeof *f);
    if (f == NULL || gw->host.fetch == NULL || (f->url = strdup(e->url)) == NULL) {
        free(f);
        e->fetched_ms = clock_real_now_ms();
        return;
    }
    f->gw = gw;
    const char *url = e->url;
    char disc[2300];
    if (strncmp(url, "oidc:", 5) == 0) {
        size_t n = strlen(url + 5);
        snprintf(disc, sizeof disc, "%.*s/.well-known/openid-configuration",
                 (int)(n > 0 && url[5 + n - 1] == '/' ? n - 1 : n), url + 5);
        url = disc;
        f->discovery = true;
    }
    e->fetching = true;
    gw->host.fetch(gw->host.arg, url, JWKS_MAX, jwks_fetched, f);
}

static void jwt_verify(struct apigw_exchange *x, bool now)
{
    struct apigw *gw = x->gw;
    const struct auth_rt *au = x->route->auth;
    char url[2300];
    if (x->st->jwks != NULL)
        snprintf(url, sizeof url, "%s", x->st->jwks);
    else
        snprintf(url, sizeof url, "oidc:%s", au->issuer);
    struct jwks_ent *e = jwks_find(gw, url);
    if (e == NULL) {
        refuse(x, APIGW_AUTH_ERROR, "out of memory", now);
        return;
    }
    int64_t t = clock_real_now_ms();
    bool stale = e->keys != NULL && t - e->fetched_ms > JWKS_TTL_MS;
    bool retry = e->keys == NULL && (e->fetched_ms == 0 || t - e->fetched_ms > JWKS_RETRY_MS);
    if (!e->fetching && (stale || retry))
        jwks_start(gw, e);
    if (e->fetching) {
        x->phase = PH_JWKS;
        x->jwks = e;
        x->jw = (struct jwks_waiter){e->waiters, x};
        e->waiters = &x->jw;
        return;
    }
    struct apigw_kv ctx[16], ident[1];
    struct apigw_auth_vars vars = {ctx, context_vars(x, ctx), x->st->vars, x->st->nvars};
    struct buf store;
    buf_init(&store, 64 * 1024);
    int rc = au->nsources > 0 ? apigw_identity_resolve((const char *const *)au->sources, 1, &x->req,
                                                       &vars, ident, &store)
                              : APIGW_AUTH_MISSING;
    struct apigw_jwt_config cfg = {au->issuer,        (const char *const *)au->audiences,
                                   au->naudiences,    (const char *const *)x->route->scopes,
                                   x->route->nscopes, APIGW_JWT_SKEW_S};
    struct apigw_jwt_result res;
    enum apigw_auth_status st =
        apigw_jwt_verify(e->keys, &cfg, rc == APIGW_OK ? ident[0].value : NULL,
                         rc == APIGW_OK ? ident[0].value_len : 0, clock_now_ms(), &res);
    buf_destroy(&store);
    if (e->keys == NULL && st != APIGW_AUTH_ALLOW && rc == APIGW_OK)
        snprintf(res.www_authenticate, sizeof res.www_authenticate,
                 "Bearer error=\"invalid_token\" error_description=\"the signing keys could "
                 "not be loaded\"");
    if (st != APIGW_AUTH_ALLOW) {
        snprintf(x->www_auth, sizeof x->www_auth, "%s", res.www_authenticate);
        apigw_jwt_result_destroy(&res);
        refuse(x, st, "The token was refused", now);
        return;
    }
    struct buf j;
    buf_init(&j, 1u << 20);
    if (apigw_jwt_authorizer_json(res.claims, x->route->integ && x->route->integ->v1, &j) ==
        APIGW_OK)
        x->authorizer_json = buf_take(&j, NULL);
    buf_destroy(&j);
    x->auth_vars = json_incref(res.claims);
    apigw_jwt_result_destroy(&res);
    authorized(x, now);
}

/* ---- addressing ---- */

/* Splits the address: the API a request names, and the path it sees. NULL: not found. */
static struct api *address(struct apigw *gw, struct apigw_exchange *x)
{
    const struct apigw_request *rq = &x->req;
    size_t pl = sizeof EXEC_PREFIX - 1;
    const char *host = rq->host;
    size_t hl = host ? rq->host_len : 0;
    const char *colon = hl ? memchr(host, ':', hl) : NULL;
    size_t hn = colon ? (size_t)(colon - host) : hl; /* the host without its port */
    if (rq->path_len > pl && memcmp(rq->path, EXEC_PREFIX, pl) == 0) {
        const char *id = rq->path + pl;
        const char *slash = memchr(id, '/', rq->path_len - pl);
        size_t idl = slash ? (size_t)(slash - id) : rq->path_len - pl;
        struct api *a = apigw__api_find(gw, id, idl);
        if (a == NULL)
            return NULL;
        x->how = APIGW_ADDR_PATH;
        x->req.path = slash ? slash : "/";
        x->req.path_len = slash ? rq->path_len - pl - idl : 1;
        snprintf(x->domain, sizeof x->domain, "%.*s.execute-api.localhost", (int)idl, id);
        return a;
    }
    const char *mark = hn ? memmem(host, hn, HOST_MARK, sizeof HOST_MARK - 1) : NULL;
    if (mark != NULL && mark > host) {
        x->how = APIGW_ADDR_HOST;
        snprintf(x->domain, sizeof x->domain, "%.*s", (int)hn, host);
        return apigw__api_find(gw, host, (size_t)(mark - host));
    }
    if (gw->env == NULL)
        return NULL;
    if (hn > 0)
        str_copyn(x->domain, sizeof x->domain, host, hn);
    else
        snprintf(x->domain, sizeof x->domain, "%s.execute-api.localhost", gw->env->id);
    return gw->env;
}

/* AWS's measure: the request line and the header values ("Total combined size of request
 * line and header values", 10240 bytes). */
static size_t head_size(const struct apigw_request *r)
{
    size_t n = r->method_len + 1 + r->path_len + (r->query_len ? r->query_len + 1 : 0) + 9;
    for (size_t i = 0; i < r->nheaders; i++)
        n += r->headers[i].value_len;
    return n + r->host_len;
}

struct apigw_exchange *apigw_serve(struct apigw *gw, const struct apigw_request *req,
                                   apigw_answer_fn answer, void *arg)
{
    struct apigw_exchange *x = calloc(1, sizeof *x);
    if (x == NULL || timer_init(&x->t, TIMER_REAL, on_timer, x) != 0) {
        free(x);
        return NULL;
    }
    x->gw = gw;
    x->answer = answer;
    x->arg = arg;
    x->req = *req;
    x->start_ns = clock_mono_ns();
    x->route_key = "-";
    apigw_match_init(&x->m);
    make_request_id(x->request_id);
    str_copyn(x->method, sizeof x->method, req->method,
              req->method_len < 15 ? req->method_len : 15);
    struct api *a = address(gw, x);
    size_t dl = strcspn(x->domain, ".");
    str_copyn(x->prefix, sizeof x->prefix, x->domain, dl < 63 ? dl : 63);
    if (a == NULL) {
        later(x, 404, "Not Found");
        return x;
    }
    if (req->body_len > APIGW_MAX_PAYLOAD) {
        later(x, 413, "Request Entity Too Large");
        return x;
    }
    if (head_size(req) > APIGW_MAX_HEAD) {
        later(x, 431, "Request Header Fields Too Large");
        return x;
    }
    const char *rest;
    size_t rest_len;
    int si = apigw_stage_select(a->stage_names, a->nstages, a->dflt != NULL, x->req.path,
                                x->req.path_len, &rest, &rest_len);
    struct res *stage = si >= 0 ? a->stages[si] : si == -1 ? a->dflt : NULL;
    if (stage == NULL || stage->rt == NULL) {
        later(x, 404, "Not Found");
        return x;
    }
    x->st = stage->rt;
    x->st->refs++;
    x->rest = rest;
    x->rest_len = rest_len;
    if (x->st->disabled && x->how != APIGW_ADDR_ROOT) {
        later(x, 403, "Forbidden"); /* the default endpoint is turned off */
        return x;
    }
    if (x->st->cors_on && apigw_cors_is_preflight(&x->req)) {
        x->phase = PH_PREFLIGHT;
        timer_start(&x->t, 0);
        return x;
    }
    if (x->st->d == NULL) {
        later(x, 404, "Not Found");
        return x;
    }
    enum apigw_route_status rs =
        apigw_routes_match(x->st->d->routes, req->method, req->method_len, rest, rest_len, &x->m);
    if (rs != APIGW_ROUTE_FOUND) {
        later(x,
              rs == APIGW_ROUTE_BAD_PATH ? 400
              : rs == APIGW_ROUTE_NOMEM  ? 500
                                         : 404,
              rs == APIGW_ROUTE_BAD_PATH ? "Bad Request"
              : rs == APIGW_ROUTE_NOMEM  ? "Internal Server Error"
                                         : "Not Found");
        return x;
    }
    x->route = x->m.target;
    x->route_key = x->m.route_key;
    x->resource = x->m.resource;
    if (stage->thr != NULL &&
        !apigw_throttle_admit(stage->thr, x->route_key, clock_real_mono_ms())) {
        later(x, 429, "Too Many Requests");
        return x;
    }
    switch (x->route->auth_type) {
    case AUTH_JWT:
        if (x->route->auth == NULL)
            refuse(x, APIGW_AUTH_ERROR, "The route's authorizer does not exist", false);
        else
            jwt_verify(x, false);
        break;
    case AUTH_LAMBDA:
        if (x->route->auth == NULL)
            refuse(x, APIGW_AUTH_ERROR, "The route's authorizer does not exist", false);
        else
            authorize_lambda(x);
        break;
    case AUTH_IAM: /* SigV4 is the AWS port's; here a signed request is trusted as signed */
        if (apigw_request_header(&x->req, "authorization") == NULL)
            refuse(x, APIGW_AUTH_FORBIDDEN, "Missing Authentication Token", false);
        else
            integrate(x, false);
        break;
    default:
        integrate(x, false);
        break;
    }
    return x;
}

void apigw_cancel(struct apigw_exchange *x)
{
    if (x == NULL)
        return;
    if (x->inv != NULL)
        lambda_inv_detach(x->inv);
    if (x->jwks != NULL) {
        struct jwks_waiter **pp = &x->jwks->waiters;
        while (*pp && *pp != &x->jw)
            pp = &(*pp)->next;
        if (*pp)
            *pp = x->jw.next;
    }
    release(x);
}
