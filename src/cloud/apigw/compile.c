/*
 * compile.c — what a stage serves, compiled from the documents: a deployment's snapshot
 * (routes into a trie, integrations, authorizers) and a stage's settings (variables, access
 * logs, throttling, the API's CORS). Compiled forms are reference-counted: a request in flight
 * holds the stage_rt it started with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/apigw_int.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"

/* ---- helpers ---- */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* A copy of a JSON array of strings (non-strings skipped); NULL with *n 0 when empty. */
static char **strv(const json_t *arr, size_t *n)
{
    *n = 0;
    size_t cap = json_array_size(arr);
    if (cap == 0)
        return NULL;
    char **v = calloc(cap, sizeof *v);
    if (v == NULL)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_is_string(e) && (v[*n] = strdup(json_string_value(e))) != NULL)
            (*n)++;
    }
    return v;
}

bool apigw__lambda_name(const char *uri, char *name, size_t namelen, char *arn, size_t arnlen)
{
    static const char inv[] = "/invocations";
    const char *s = uri, *end = uri + strlen(uri);
    const char *fns = strstr(uri, ":lambda:path/");
    if (fns !=
        NULL) { /* arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations */
        const char *f = strstr(fns, "/functions/");
        size_t il = sizeof inv - 1;
        if (f == NULL || (size_t)(end - f) <= il + 11 || strcmp(end - il, inv) != 0)
            return false;
        s = f + 11;
        end -= il;
    }
    if ((size_t)(end - s) < 16 || strncmp(s, "arn:aws:lambda:", 15) != 0)
        return false;
    const char *fn = strstr(s, ":function:");
    if (fn == NULL || fn >= end)
        return false;
    const char *n = fn + 10;
    const char *q = memchr(n, ':', (size_t)(end - n));
    size_t nl = q ? (size_t)(q - n) : (size_t)(end - n);
    /* the name, and its qualifier when the ARN has one (a version or an alias: "name:live") */
    size_t all = (size_t)(end - n);
    if (nl == 0 || all >= namelen || (size_t)(end - s) >= arnlen || (q && all == nl + 1))
        return false;
    for (size_t i = 0; i < all; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || (i > nl && c == '$') || (i == nl && c == ':')))
            return false;
    }
    memcpy(name, n, all);
    name[all] = '\0';
    size_t al = (size_t)((q ? q : end) - s);
    memcpy(arn, s, al);
    arn[al] = '\0';
    return true;
}

/* ---- deployments ---- */

void apigw__deploy_release(struct deploy_rt *d)
{
    if (d == NULL || --d->refs > 0)
        return;
    apigw_routes_free(d->routes);
    for (size_t i = 0; i < d->nr; i++)
        free_strv(d->r[i].scopes, d->r[i].nscopes);
    for (size_t i = 0; i < d->na; i++) {
        free_strv(d->au[i].sources, d->au[i].nsources);
        free(d->au[i].issuer);
        free_strv(d->au[i].audiences, d->au[i].naudiences);
    }
    free(d->r);
    free(d->ig);
    free(d->au);
    free(d);
}

static void compile_integ(struct integ_rt *ig, const json_t *doc)
{
    snprintf(ig->id, sizeof ig->id, "%s", jsonh_str(doc, "integrationId", ""));
    const char *type = jsonh_str(doc, "integrationType", "");
    ig->type = strcmp(type, "AWS_PROXY") == 0 &&
                       apigw__lambda_name(jsonh_str(doc, "integrationUri", ""), ig->function,
                                          sizeof ig->function, ig->fn_arn, sizeof ig->fn_arn)
                   ? INTEG_LAMBDA
                   : INTEG_UNSUPPORTED;
    ig->v1 = strcmp(jsonh_str(doc, "payloadFormatVersion", "1.0"), "1.0") == 0;
    long long t = APIGW_MAX_TIMEOUT_MS;
    jsonh_int(doc, "timeoutInMillis", &t);
    ig->timeout_ms = t < 50 || t > APIGW_MAX_TIMEOUT_MS ? APIGW_MAX_TIMEOUT_MS : (int)t;
    ig->has_role = jsonh_str(doc, "credentialsArn", NULL) != NULL;
}

static int compile_auth(struct auth_rt *au, const json_t *doc, const char *api_id)
{
    snprintf(au->id, sizeof au->id, "%s", jsonh_str(doc, "authorizerId", ""));
    snprintf(au->key, sizeof au->key, "%s/%s", api_id, au->id);
    au->sources = strv(json_object_get(doc, "identitySource"), &au->nsources);
    if (strcmp(jsonh_str(doc, "authorizerType", ""), "JWT") == 0) {
        json_t *jc = json_object_get(doc, "jwtConfiguration");
        au->type = AUTH_JWT;
        au->issuer = xstrdup(jsonh_str(jc, "issuer", ""));
        au->audiences = strv(json_object_get(jc, "audience"), &au->naudiences);
        return au->issuer ? 0 : -1;
    }
    char arn[256];
    au->type = AUTH_LAMBDA;
    if (!apigw__lambda_name(jsonh_str(doc, "authorizerUri", ""), au->function, sizeof au->function,
                            arn, sizeof arn))
        au->function[0] = '\0';
    au->v1 = strcmp(jsonh_str(doc, "authorizerPayloadFormatVersion", "2.0"), "1.0") == 0;
    au->simple = json_is_true(json_object_get(doc, "enableSimpleResponses"));
    long long ttl = 0;
    jsonh_int(doc, "authorizerResultTtlInSeconds", &ttl);
    au->ttl_s = ttl < 0 ? 0 : ttl > 3600 ? 3600 : (int)ttl;
    au->has_role = jsonh_str(doc, "authorizerCredentialsArn", NULL) != NULL;
    return 0;
}

struct deploy_rt *apigw__deploy_compile(const json_t *snap, const char *api_id, const char *region,
                                        char *msg, size_t msglen)
{
    (void)region;
    json_t *routes = json_object_get(snap, "routes");
    json_t *integs = json_object_get(snap, "integrations");
    json_t *auths = json_object_get(snap, "authorizers");
    struct deploy_rt *d = calloc(1, sizeof *d);
    if (d == NULL)
        goto nomem;
    d->refs = 1;
    size_t nr = json_array_size(routes), ni = json_array_size(integs), na = json_array_size(auths);
    d->routes = apigw_routes_new();
    d->r = calloc(nr ? nr : 1, sizeof *d->r);
    d->ig = calloc(ni ? ni : 1, sizeof *d->ig);
    d->au = calloc(na ? na : 1, sizeof *d->au);
    if (d->routes == NULL || d->r == NULL || d->ig == NULL || d->au == NULL)
        goto nomem;
    size_t i;
    json_t *doc;
    json_array_foreach(integs, i, doc) compile_integ(&d->ig[d->ni++], doc);
    json_array_foreach(auths, i, doc)
    {
        d->na++;
        if (compile_auth(&d->au[d->na - 1], doc, api_id) != 0)
            goto nomem;
    }
    json_array_foreach(routes, i, doc)
    {
        struct route_rt *r = &d->r[d->nr];
        const char *key = jsonh_str(doc, "routeKey", "");
        const char *type = jsonh_str(doc, "authorizationType", "NONE");
        const char *aid = jsonh_str(doc, "authorizerId", "");
        const char *target = jsonh_str(doc, "target", "");
        r->auth_type = strcmp(type, "JWT") == 0       ? AUTH_JWT
                       : strcmp(type, "CUSTOM") == 0  ? AUTH_LAMBDA
                       : strcmp(type, "AWS_IAM") == 0 ? AUTH_IAM
                                                      : AUTH_NONE;
        for (size_t k = 0; k < d->na && r->auth_type != AUTH_NONE; k++)
            if (strcmp(d->au[k].id, aid) == 0)
                r->auth = &d->au[k];
        if (strncmp(target, "integrations/", 13) == 0)
            for (size_t k = 0; k < d->ni; k++)
                if (strcmp(d->ig[k].id, target + 13) == 0)
                    r->integ = &d->ig[k];
        r->scopes = strv(json_object_get(doc, "authorizationScopes"), &r->nscopes);
        char why[256];
        int rc = apigw_routes_add(d->routes, key, strlen(key), r, why, sizeof why);
        if (rc == APIGW_ENOMEM)
            goto nomem;
        if (rc != APIGW_OK) { /* checked when created: an old record at most */
            LOG_WARN("apigw", NULL, "api %s: route %s skipped: %s", api_id, key, why);
            free_strv(r->scopes, r->nscopes);
            memset(r, 0, sizeof *r);
            continue;
        }
        d->nr++;
    }
    return d;
nomem:
    snprintf(msg, msglen, "out of memory");
    apigw__deploy_release(d);
    return NULL;
}

/* ---- stages ---- */

void apigw__stage_release(struct stage_rt *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    apigw__deploy_release(s->d);
    free(s->vars);
    buf_destroy(&s->vars_store);
    free(s->log_group);
    free(s->log_format);
    free(s->jwks);
    free_strv(s->cors_store, s->ncors_store);
    free(s);
}

/* The group of a log-group ARN ("arn:aws:logs:<region>:<account>:log-group:<name>[:*]"). */
static char *log_group_of(const char *arn)
{
    const char *g = arn ? strstr(arn, ":log-group:") : NULL;
    if (g == NULL)
        return NULL;
    g += 11;
    size_t n = strlen(g);
    if (n >= 2 && strcmp(g + n - 2, ":*") == 0)
        n -= 2;
    return n > 0 ? strndup(g, n) : NULL;
}

/* The CORS lists: every string copied into s->cors_store, the arrays pointing at them. */
static int compile_cors(struct stage_rt *s, const json_t *cors)
{
    static const char *const members[] = {"allowOrigins", "allowMethods", "allowHeaders",
                                          "exposeHeaders"};
    size_t total = 0;
    for (size_t m = 0; m < 4; m++)
        total += json_array_size(json_object_get(cors, members[m]));
    s->cors_store = calloc(total ? total : 1, sizeof *s->cors_store);
    if (s->cors_store == NULL)
        return -1;
    const char *const **lists[] = {&s->cors.allow_origins, &s->cors.allow_methods,
                                   &s->cors.allow_headers, &s->cors.expose_headers};
    size_t *counts[] = {&s->cors.nallow_origins, &s->cors.nallow_methods, &s->cors.nallow_headers,
                        &s->cors.nexpose_headers};
    for (size_t m = 0; m < 4; m++) {
        *lists[m] = (const char *const *)s->cors_store + s->ncors_store;
        *counts[m] = 0;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(cors, members[m]), i, e)
        {
            if (!json_is_string(e))
                continue;
            if ((s->cors_store[s->ncors_store] = strdup(json_string_value(e))) == NULL)
                return -1;
            s->ncors_store++;
            (*counts[m])++;
        }
    }
    long long age = -1;
    jsonh_int(cors, "maxAge", &age);
    s->cors.max_age = (int)age;
    s->cors.allow_credentials = json_is_true(json_object_get(cors, "allowCredentials"));
    s->cors_on = true;
    return 0;
}

static int compile_vars(struct stage_rt *s, const json_t *vars)
{
    size_t n = json_object_size(vars);
    if (n == 0)
        return 0;
    s->vars = calloc(n, sizeof *s->vars);
    buf_init(&s->vars_store, 1u << 20);
    if (s->vars == NULL)
        return -1;
    size_t offs[2 * 128];
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vars, k, v)
    {
        if (!json_is_string(v) || s->nvars >= 128)
            continue;
        offs[2 * s->nvars] = s->vars_store.len;
        if (buf_append(&s->vars_store, k, strlen(k) + 1) != BUF_OK)
            return -1;
        offs[2 * s->nvars + 1] = s->vars_store.len;
        if (buf_append(&s->vars_store, json_string_value(v), json_string_length(v) + 1) != BUF_OK)
            return -1;
        s->vars[s->nvars].name_len = strlen(k);
        s->vars[s->nvars].value_len = json_string_length(v);
        s->nvars++;
    }
    for (size_t i = 0; i < s->nvars; i++) {
        s->vars[i].name = s->vars_store.data + offs[2 * i];
        s->vars[i].value = s->vars_store.data + offs[2 * i + 1];
    }
    return 0;
}

/* Throttling limits of a RouteSettings object (rate < 0: not set). */
static struct apigw_limits limits_of(const json_t *rs)
{
    struct apigw_limits l = {-1, -1};
    json_t *rate = json_object_get(rs, "throttlingRateLimit");
    json_t *burst = json_object_get(rs, "throttlingBurstLimit");
    if (json_is_number(rate))
        l.rate = json_number_value(rate);
    if (json_is_number(burst))
        l.burst = json_number_value(burst);
    if (l.rate >= 0 && l.burst < 0)
        l.burst = l.rate < 1 ? 1 : l.rate;
    if (l.rate < 0 && l.burst >= 0)
        l.rate = 1e9; /* a burst alone limits bursts only */
    return l;
}

static struct apigw_throttle *compile_throttle(const json_t *doc)
{
    struct apigw_limits none = {-1, -1};
    int64_t now = clock_real_mono_ms();
    struct apigw_throttle *t =
        apigw_throttle_new(limits_of(json_object_get(doc, "defaultRouteSettings")), none, now);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(doc, "routeSettings"), k, v)
    {
        struct apigw_limits l = limits_of(v);
        if (t != NULL && l.rate >= 0 && apigw_throttle_set_route(t, k, l, now) != 0) {
            apigw_throttle_free(t);
            return NULL;
        }
    }
    return t;
}

int apigw__stage_rebuild(struct apigw *gw, struct api *a, struct res *st)
{
    struct stage_rt *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    s->refs = 1;
    snprintf(s->api_id, sizeof s->api_id, "%s", a->id);
    snprintf(s->name, sizeof s->name, "%s", st->id);
    s->managed = a->managed;
    s->disabled = json_is_true(json_object_get(a->doc, "disableExecuteApiEndpoint"));
    char msg[128];
    const char *dep = jsonh_str(st->doc, "deploymentId", NULL);
    for (struct res *r = a->kids; dep && r; r = r->next) {
        if (r->kind != APIGW_KIND_DEPLOYMENT || strcmp(r->id, dep) != 0)
            continue;
        if (r->drt == NULL)
            r->drt = apigw__deploy_compile(json_object_get(r->doc, "_snapshot"), a->id, gw->region,
                                           msg, sizeof msg);
        if (r->drt != NULL) {
            r->drt->refs++;
            s->d = r->drt;
        }
    }
    json_t *als = json_object_get(st->doc, "accessLogSettings");
    s->log_group = log_group_of(jsonh_str(als, "destinationArn", NULL));
    s->log_format = xstrdup(jsonh_str(als, "format", NULL));
    s->jwks = xstrdup(jsonh_str(json_object_get(a->doc, "tags"), "haar:jwks", NULL));
    json_t *cors = json_object_get(a->doc, "corsConfiguration");
    struct apigw_throttle *t = compile_throttle(st->doc);
    if ((dep && s->d == NULL) || compile_vars(s, json_object_get(st->doc, "stageVariables")) != 0 ||
        (json_is_object(cors) && compile_cors(s, cors) != 0) || t == NULL) {
        apigw_throttle_free(t);
        apigw__stage_release(s);
        return -1;
    }
    apigw__stage_release(st->rt);
    st->rt = s;
    apigw_throttle_free(st->thr);
    st->thr = t;
    return 0;
}

int apigw__stages_index(struct api *a)
{
    size_t n = 0;
    for (struct res *r = a->kids; r; r = r->next)
        n += r->kind == APIGW_KIND_STAGE;
    free(a->stage_names);
    free(a->stages);
    a->stage_names = calloc(n ? n : 1, sizeof *a->stage_names);
    a->stages = calloc(n ? n : 1, sizeof *a->stages);
    a->nstages = 0;
    a->dflt = NULL;
    if (a->stage_names == NULL || a->stages == NULL)
        return -1;
    for (struct res *r = a->kids; r; r = r->next) {
        if (r->kind != APIGW_KIND_STAGE)
            continue;
        if (strcmp(r->id, "$default") == 0) {
            a->dflt = r;
            continue;
        }
        a->stage_names[a->nstages] = r->id;
        a->stages[a->nstages++] = r;
    }
    return 0;
}
