/*
 * proto_rest.c — the Lambda REST-JSON adapter (API 2015-03-31 and the paths of later API
 * dates): routes as data, the wire JSON of functions (FunctionConfiguration, GetFunction,
 * EventInvokeConfig), and AWS's error shapes (X-Amzn-ErrorType plus {"Type","message"}).
 * Commands that change state answer from the engine's completion, once durable.
 */
#include "cloud/lambda/proto_rest.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/sigv4.h"
#include "core/url.h"
#include "core/work.h"

enum op {
    OP_CREATE,
    OP_LIST,
    OP_GET,
    OP_DELETE,
    OP_GET_CONFIG,
    OP_UPDATE_CONFIG,
    OP_UPDATE_CODE,
    OP_INVOKE,
    OP_PUT_CONCURRENCY,
    OP_GET_CONCURRENCY,
    OP_DELETE_CONCURRENCY,
    OP_LIST_VERSIONS,
    OP_PUBLISH_VERSION,
    OP_GET_CODE_SIGNING,
    OP_PUT_EVENT_CONFIG,
    OP_UPDATE_EVENT_CONFIG,
    OP_GET_EVENT_CONFIG,
    OP_DELETE_EVENT_CONFIG,
    OP_LIST_EVENT_CONFIGS,
    OP_ADD_PERMISSION,
    OP_GET_POLICY,
    OP_REMOVE_PERMISSION,
    OP_CREATE_ALIAS,
    OP_LIST_ALIASES,
    OP_GET_ALIAS,
    OP_UPDATE_ALIAS,
    OP_DELETE_ALIAS,
    OP_PUT_PC,
    OP_GET_PC,
    OP_DELETE_PC,
    OP_LIST_PC,
    OP_CREATE_URL,
    OP_GET_URL,
    OP_UPDATE_URL,
    OP_DELETE_URL,
    OP_LIST_URLS,
    OP_PUBLISH_LAYER,
    OP_LIST_LAYER_VERSIONS,
    OP_GET_LAYER,
    OP_DELETE_LAYER,
    OP_LIST_LAYERS,
    OP_ADD_LAYER_PERMISSION,
    OP_GET_LAYER_POLICY,
    OP_REMOVE_LAYER_PERMISSION,
};

/* What a route's path names: a function (its first segment), a layer, or nothing. */
enum subject { ON_NONE, ON_FUNCTION, ON_LAYER };

/* Which qualifier a function route takes: none (a qualified name is not found), any (the
 * name's or the Qualifier query's), or none but refused with AWS's "functions only" text. */
enum quals { Q_NONE, Q_ANY, Q_FUNCTION_ONLY };

/* The route table: method, path pattern ("{}" is one segment), operation, subject. */
struct route {
    const char *method;
    const char *pattern;
    enum op op;
    enum subject on;
    enum quals quals;
};

#define F "/2015-03-31/functions/{}"
#define L "/2018-10-31/layers/{}/versions"
static const struct route routes[] = {
    {"POST", "/2015-03-31/functions", OP_CREATE, ON_NONE, Q_NONE},
    {"POST", "/2015-03-31/functions/", OP_CREATE, ON_NONE, Q_NONE},
    {"GET", "/2015-03-31/functions/", OP_LIST, ON_NONE, Q_NONE},
    {"GET", "/2015-03-31/functions", OP_LIST, ON_NONE, Q_NONE},
    {"GET", F, OP_GET, ON_FUNCTION, Q_ANY},
    {"DELETE", F, OP_DELETE, ON_FUNCTION, Q_ANY},
    {"GET", F "/configuration", OP_GET_CONFIG, ON_FUNCTION, Q_ANY},
    {"PUT", F "/configuration", OP_UPDATE_CONFIG, ON_FUNCTION, Q_NONE},
    {"PUT", F "/code", OP_UPDATE_CODE, ON_FUNCTION, Q_NONE},
    {"POST", F "/invocations", OP_INVOKE, ON_FUNCTION, Q_ANY},
    {"PUT", "/2017-10-31/functions/{}/concurrency", OP_PUT_CONCURRENCY, ON_FUNCTION,
     Q_FUNCTION_ONLY},
    {"GET", "/2019-09-30/functions/{}/concurrency", OP_GET_CONCURRENCY, ON_FUNCTION,
     Q_FUNCTION_ONLY},
    {"DELETE", "/2017-10-31/functions/{}/concurrency", OP_DELETE_CONCURRENCY, ON_FUNCTION,
     Q_FUNCTION_ONLY},
    {"GET", F "/versions", OP_LIST_VERSIONS, ON_FUNCTION, Q_NONE},
    {"POST", F "/versions", OP_PUBLISH_VERSION, ON_FUNCTION, Q_NONE},
    {"GET", "/2020-06-30/functions/{}/code-signing-config", OP_GET_CODE_SIGNING, ON_FUNCTION,
     Q_NONE},
    {"PUT", "/2019-09-25/functions/{}/event-invoke-config", OP_PUT_EVENT_CONFIG, ON_FUNCTION,
     Q_ANY},
    {"POST", "/2019-09-25/functions/{}/event-invoke-config", OP_UPDATE_EVENT_CONFIG, ON_FUNCTION,
     Q_ANY},
    {"GET", "/2019-09-25/functions/{}/event-invoke-config", OP_GET_EVENT_CONFIG, ON_FUNCTION,
     Q_ANY},
    {"DELETE", "/2019-09-25/functions/{}/event-invoke-config", OP_DELETE_EVENT_CONFIG, ON_FUNCTION,
     Q_ANY},
    {"GET", "/2019-09-25/functions/{}/event-invoke-config/list", OP_LIST_EVENT_CONFIGS, ON_FUNCTION,
     Q_NONE},
    {"POST", F "/policy", OP_ADD_PERMISSION, ON_FUNCTION, Q_ANY},
    {"GET", F "/policy", OP_GET_POLICY, ON_FUNCTION, Q_ANY},
    {"DELETE", F "/policy/{}", OP_REMOVE_PERMISSION, ON_FUNCTION, Q_ANY},
    {"POST", F "/aliases", OP_CREATE_ALIAS, ON_FUNCTION, Q_NONE},
    {"GET", F "/aliases", OP_LIST_ALIASES, ON_FUNCTION, Q_NONE},
    {"GET", F "/aliases/{}", OP_GET_ALIAS, ON_FUNCTION, Q_NONE},
    {"PUT", F "/aliases/{}", OP_UPDATE_ALIAS, ON_FUNCTION, Q_NONE},
    {"DELETE", F "/aliases/{}", OP_DELETE_ALIAS, ON_FUNCTION, Q_NONE},
    {"PUT", "/2019-09-30/functions/{}/provisioned-concurrency", OP_PUT_PC, ON_FUNCTION, Q_ANY},
    {"GET", "/2019-09-30/functions/{}/provisioned-concurrency", OP_GET_PC, ON_FUNCTION, Q_ANY},
    {"DELETE", "/2019-09-30/functions/{}/provisioned-concurrency", OP_DELETE_PC, ON_FUNCTION,
     Q_ANY},
    {"POST", "/2021-10-31/functions/{}/url", OP_CREATE_URL, ON_FUNCTION, Q_ANY},
    {"GET", "/2021-10-31/functions/{}/url", OP_GET_URL, ON_FUNCTION, Q_ANY},
    {"PUT", "/2021-10-31/functions/{}/url", OP_UPDATE_URL, ON_FUNCTION, Q_ANY},
    {"DELETE", "/2021-10-31/functions/{}/url", OP_DELETE_URL, ON_FUNCTION, Q_ANY},
    {"GET", "/2021-10-31/functions/{}/urls", OP_LIST_URLS, ON_FUNCTION, Q_NONE},
    {"POST", L, OP_PUBLISH_LAYER, ON_LAYER, Q_NONE},
    {"GET", L, OP_LIST_LAYER_VERSIONS, ON_LAYER, Q_NONE},
    {"GET", L "/{}", OP_GET_LAYER, ON_LAYER, Q_NONE},
    {"DELETE", L "/{}", OP_DELETE_LAYER, ON_LAYER, Q_NONE},
    {"GET", "/2018-10-31/layers", OP_LIST_LAYERS, ON_NONE, Q_NONE},
    {"POST", L "/{}/policy", OP_ADD_LAYER_PERMISSION, ON_LAYER, Q_NONE},
    {"GET", L "/{}/policy", OP_GET_LAYER_POLICY, ON_LAYER, Q_NONE},
    {"DELETE", L "/{}/policy/{}", OP_REMOVE_LAYER_PERMISSION, ON_LAYER, Q_NONE},
};
#undef F
#undef L

#define TAGS_PREFIX "/2017-03-31/tags/"

static const struct proto_hdr ct_json = {"content-type", "application/json", 0};

static void send_json(struct proto_req *req, int status, json_t *j)
{
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    struct proto_hdr h[2] = {ct_json, {"x-amzn-requestid", req->request_id, 0}};
    proto_respond(req, status, h, 2, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

static void send_empty(struct proto_req *req, int status)
{
    struct proto_hdr h[1] = {{"x-amzn-requestid", req->request_id, 0}};
    proto_respond(req, status, h, 1, NULL, 0);
}

void lambda_rest__json(struct proto_req *req, int status, json_t *j)
{
    send_json(req, status, j);
}

void lambda_rest__empty(struct proto_req *req, int status)
{
    send_empty(req, status);
}

/* A throttle carries its Reason, as AWS sends it: {"Reason","Type","message"}. */
static void send_throttle(struct proto_req *req, const char *msg, const char *reason)
{
    struct buf b;
    buf_init(&b, 8192);
    json_t *j = json_pack("{s:s, s:s, s:s}", "Reason", reason, "Type", "User", "message",
                          msg ? msg : err_message(ERR_LAMBDA_TOO_MANY_REQUESTS));
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    struct proto_hdr h[4] = {ct_json,
                             {"x-amzn-errortype", err_code(ERR_LAMBDA_TOO_MANY_REQUESTS), 0},
                             {"retry-after", "1", 0},
                             {"x-amzn-requestid", req->request_id, 0}};
    proto_respond(req, 429, h, 4, b.data, b.len);
    buf_destroy(&b);
}

/* ---- wire JSON ---- */

json_t *lambda_rest__config(const struct lambda_rest *rs, struct lambda_fn *fn, bool qualified)
{
    struct lambda_fn *shown = lambda_fn_target(fn); /* an alias shows its version */
    struct lambda_fn_info i, own;
    lambda_fn_info(shown ? shown : fn, &i);
    lambda_fn_info(fn, &own);
    char lm_s[40], group[96], arn[600];
    clock_format_lambda(i.last_modified, lm_s, sizeof lm_s);
    snprintf(group, sizeof group, "/aws/lambda/%s", i.name);
    /* a version's and an alias's ARN carry their qualifier; $LATEST's only when asked so */
    if (qualified && !own.is_alias && strcmp(own.qualifier, "$LATEST") == 0)
        snprintf(arn, sizeof arn, "%s:$LATEST", own.arn);
    else
        snprintf(arn, sizeof arn, "%s", own.arn);
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:[s],"
        " s:{s:s}, s:{s:s, s:s}, s:{s:i}, s:s}",
        "FunctionName", i.name, "FunctionArn", arn, "Runtime", i.runtime, "Role", i.role, "Handler",
        i.handler, "CodeSize", (json_int_t)i.code_size, "Description", i.description, "CodeSha256",
        i.code_sha256, "Timeout", i.timeout, "MemorySize", i.memory, "LastModified", lm_s,
        "Version", i.version ? i.version : "$LATEST", "State", "Active", "LastUpdateStatus",
        "Successful", "PackageType", "Zip", "Architectures", i.arch, "TracingConfig", "Mode",
        "PassThrough", "LoggingConfig", "LogFormat", "Text", "LogGroup", group, "EphemeralStorage",
        "Size", 512, "RevisionId", i.revision);
    if (i.env_vars != NULL)
        json_object_set_new(j, "Environment", json_pack("{s:O}", "Variables", i.env_vars));
    if (i.layers != NULL && rs != NULL)
        json_object_set_new(j, "Layers", lambda_rest__layers_json(rs->lm, i.layers));
    return j;
}

static json_t *config_json(const struct lambda_rest *rs, struct lambda_fn *fn)
{
    return lambda_rest__config(rs, fn, false);
}

#define CODE_PATH       "/_haar/lambda/code/"
#define CODE_URL_EXPIRY 600

void lambda_rest__code_url(const struct lambda_rest *rs, const char *what, char *out, size_t outlen)
{
    char host[32], path[600];
    snprintf(host, sizeof host, "127.0.0.1:%u", rs->aws_port);
    snprintf(path, sizeof path, CODE_PATH "%s", what);
    struct buf q;
    buf_init(&q, 1024);
    out[0] = '\0';
    if (sigv4_presign("GET", host, path, rs->presign_key, rs->presign_secret, rs->region, "lambda",
                      clock_real_now_ms(), CODE_URL_EXPIRY, &q) == 0)
        snprintf(out, outlen, "http://%s%s?%s", host, path, q.data);
    buf_destroy(&q);
}

/* GetFunction: Code.Location is a presigned URL that expires, as AWS's. */
static json_t *get_function_json(const struct lambda_rest *rs, struct lambda_fn *fn, bool qualified)
{
    struct lambda_fn *shown = lambda_fn_target(fn);
    struct lambda_fn_info i;
    lambda_fn_info(shown ? shown : fn, &i);
    json_t *cfg = lambda_rest__config(rs, fn, qualified);
    char loc[2048] = "", what[300];
    if (i.code_zip != NULL) {
        if (strcmp(i.qualifier, "$LATEST") == 0)
            snprintf(what, sizeof what, "%s", i.name);
        else
            snprintf(what, sizeof what, "%s:%s", i.name, i.qualifier);
        lambda_rest__code_url(rs, what, loc, sizeof loc);
    }
    json_t *j =
        json_pack("{s:o, s:{s:s, s:s}, s:o}", "Configuration", cfg, "Code", "RepositoryType", "S3",
                  "Location", loc, "Tags", i.tags ? json_copy(i.tags) : json_object());
    if (i.reserved >= 0)
        json_object_set_new(j, "Concurrency",
                            json_pack("{s:i}", "ReservedConcurrentExecutions", i.reserved));
    return j;
}

static json_t *event_config_json(const struct lambda_fn *fn)
{
    const struct lambda_event_config *c = lambda_fn_event_config(fn);
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    char arn[600];
    if (strcmp(i.qualifier, "$LATEST") == 0)
        snprintf(arn, sizeof arn, "%s:$LATEST", i.arn);
    else
        snprintf(arn, sizeof arn, "%s", i.arn);
    json_t *dest = c->destinations ? json_deep_copy(c->destinations)
                                   : json_pack("{s:{}, s:{}}", "OnSuccess", "OnFailure");
    return json_pack("{s:f, s:s, s:i, s:i, s:o}", "LastModified", (double)c->last_modified / 1000.0,
                     "FunctionArn", arn, "MaximumRetryAttempts", c->max_retries,
                     "MaximumEventAgeInSeconds", c->max_age_seconds, "DestinationConfig", dest);
}

/* ---- query strings and path segments ---- */

/* A path segment percent-decoded once, and again when an SDK double-encoded it (a '%' is
 * left): its length, or -1 when it does not decode into out (512 bytes). */
static long decode_segment(const char *seg, size_t len, char out[512])
{
    char twice[512];
    long n = url_decode(seg, len, 0, out, 512);
    if (n >= 0 && memchr(out, '%', (size_t)n) != NULL &&
        (n = url_decode(out, (size_t)n, 0, twice, sizeof twice)) >= 0)
        memcpy(out, twice, (size_t)n + 1);
    return n;
}

long lambda_rest__segment(const char *seg, size_t len, char out[512])
{
    return decode_segment(seg, len, out);
}

/* The function's ARN at a qualifier, as AWS's messages show it. */
static void qualified_arn(const struct rest_ctx *x, char *out, size_t len)
{
    snprintf(out, len, "arn:aws:lambda:%s:000000000000:function:%s%s%s", lambda_region(x->lm),
             x->name, x->qual[0] ? ":" : "", x->qual);
}

struct lambda_fn *lambda_rest__target(struct rest_ctx *x, bool alias_msg)
{
    struct lambda_fn *fn = lambda_fn_find_qualified(x->lm, x->name, x->qual);
    if (fn != NULL)
        return fn;
    char arn[400];
    qualified_arn(x, arn, sizeof arn);
    bool alias = x->qual[0] != '\0' && strspn(x->qual, "0123456789") != strlen(x->qual) &&
                 strcmp(x->qual, "$LATEST") != 0;
    if (alias_msg && alias && lambda_fn_find(x->lm, x->name) != NULL)
        proto_errorf(x->req, ERR_LAMBDA_NOT_FOUND, "Cannot find alias arn: %s", arn);
    else
        proto_errorf(x->req, ERR_LAMBDA_NOT_FOUND, "Function not found: %s", arn);
    return NULL;
}

/* ---- the model's constraints on what travels outside the body ---- */

/*
 * Each route's operation in AWS's model, as lambda_validate_request knows it (NULL: none).
 * Operations the table does not hold are checked as one that has the same members:
 * Get/DeleteFunctionEventInvokeConfig, GetPolicy, RemovePermission take FunctionName +
 * Qualifier like DeleteFunction; GetFunctionCodeSigningConfig, ListFunctionEventInvokeConfigs
 * and ListVersionsByFunction's paging aside FunctionName only; Update/DeleteAlias as GetAlias
 * (UpdateAlias's body is checked on its own); the layer operations as GetLayerVersion.
 */
static const char *const model_ops[] = {
    [OP_LIST] = "ListFunctions",
    [OP_GET] = "GetFunction",
    [OP_DELETE] = "DeleteFunction",
    [OP_GET_CONFIG] = "GetFunctionConfiguration",
    [OP_UPDATE_CONFIG] = "UpdateFunctionConfiguration",
    [OP_UPDATE_CODE] = "UpdateFunctionCode",
    [OP_INVOKE] = "Invoke",
    [OP_PUT_CONCURRENCY] = "PutFunctionConcurrency",
    [OP_GET_CONCURRENCY] = "GetFunctionConcurrency",
    [OP_DELETE_CONCURRENCY] = "DeleteFunctionConcurrency",
    [OP_LIST_VERSIONS] = "ListVersionsByFunction",
    [OP_PUBLISH_VERSION] = "PublishVersion",
    [OP_GET_CODE_SIGNING] = "GetFunctionConcurrency",
    [OP_PUT_EVENT_CONFIG] = "PutFunctionEventInvokeConfig",
    [OP_UPDATE_EVENT_CONFIG] = "UpdateFunctionEventInvokeConfig",
    [OP_GET_EVENT_CONFIG] = "DeleteFunction",
    [OP_DELETE_EVENT_CONFIG] = "DeleteFunction",
    [OP_LIST_EVENT_CONFIGS] = "GetFunctionConcurrency",
    [OP_GET_POLICY] = "GetFunction",
    [OP_REMOVE_PERMISSION] = "DeleteFunction",
    [OP_CREATE_ALIAS] = "CreateAlias",
    [OP_LIST_ALIASES] = "ListAliases",
    [OP_GET_ALIAS] = "GetAlias",
    [OP_UPDATE_ALIAS] = "GetAlias",
    [OP_DELETE_ALIAS] = "GetAlias",
    [OP_PUT_PC] = "PutProvisionedConcurrencyConfig",
    [OP_GET_PC] = "GetProvisionedConcurrencyConfig",
    [OP_DELETE_PC] = "GetProvisionedConcurrencyConfig",
    [OP_LIST_PC] = "ListFunctionUrlConfigs", /* FunctionName, MaxItems 1..50, Marker */
    [OP_CREATE_URL] = "CreateFunctionUrlConfig",
    [OP_GET_URL] = "GetFunctionUrlConfig",
    [OP_UPDATE_URL] = "UpdateFunctionUrlConfig",
    [OP_DELETE_URL] = "GetFunctionUrlConfig",
    [OP_LIST_URLS] = "ListFunctionUrlConfigs",
    [OP_PUBLISH_LAYER] = "PublishLayerVersion",
    [OP_LIST_LAYER_VERSIONS] = "GetLayerVersion",
    [OP_GET_LAYER] = "GetLayerVersion",
    [OP_DELETE_LAYER] = "GetLayerVersion",
    [OP_LIST_LAYERS] = "ListLayers",
    [OP_ADD_LAYER_PERMISSION] = "AddLayerVersionPermission",
    [OP_GET_LAYER_POLICY] = "GetLayerVersion",
    [OP_REMOVE_LAYER_PERMISSION] = "GetLayerVersion",
};

/* Routes whose JSON body the model checks too (the others' bodies are ignored). */
static bool model_checks_body(enum op op)
{
    return op == OP_UPDATE_CODE || op == OP_PUT_CONCURRENCY || op == OP_PUT_EVENT_CONFIG ||
           op == OP_UPDATE_EVENT_CONFIG || op == OP_PUBLISH_VERSION || op == OP_CREATE_ALIAS ||
           op == OP_PUT_PC || op == OP_CREATE_URL || op == OP_UPDATE_URL ||
           op == OP_PUBLISH_LAYER || op == OP_ADD_LAYER_PERMISSION;
}

static const char *model_op(enum op op)
{
    return (size_t)op < sizeof model_ops / sizeof model_ops[0] ? model_ops[op] : NULL;
}

/* Messages echo what was sent (AWS shows whole values): room for the longest a path, query
 * and headers can carry, plus, when the body is checked too, its size up to a bound (longer
 * values are cut, "..."). */
static size_t message_room(const struct proto_req *req, bool with_body)
{
    size_t body = req->body_len < (8u << 20) ? req->body_len : (8u << 20);
    return 64 * 1024 + (with_body ? body : 0);
}

/* The members a request carries outside its body, decoded: FunctionName (the path segment
 * seg, or NULL), Resource (a tags path), Qualifier and the list query members, Invoke's
 * headers. Unknown members are ignored by the checker, so every route gives them all. */
struct model_params {
    struct lambda_param p[16];
    size_t n;
    char name[8192], qual[512], marker[1024], max[64], region[64], version[64], runtime[64],
        arch[64];
};

/* A path segment decoded as decode_segment does, into the larger buffer a request line
 * allows (h2o takes at most 8 KB), NULs kept for the checker to refuse. Length or -1. */
static long decode_param(const char *seg, size_t len, char *out, size_t outlen)
{
    long n = url_decode(seg, len, URL_ALLOW_NUL, out, outlen);
    if (n >= 0 && memchr(out, '%', (size_t)n) != NULL) {
        char *twice = malloc((size_t)n + 1);
        long t = twice ? url_decode(out, (size_t)n, URL_ALLOW_NUL, twice, (size_t)n + 1) : -1;
        if (t >= 0)
            memcpy(out, twice, (size_t)t + 1);
        n = t >= 0 ? t : n;
        free(twice);
    }
    return n;
}

static void add_param(struct model_params *m, const char *member, const char *v, long len)
{
    if (len >= 0 && m->n < sizeof m->p / sizeof m->p[0])
        m->p[m->n++] = (struct lambda_param){member, v, (size_t)len};
}

static void gather_params(const struct proto_req *req, const char *seg, size_t segl,
                          const char *seg_member, struct model_params *m)
{
    static const struct {
        const char *member, *key;
        size_t off, cap;
    } queries[] = {
        {"Qualifier", "Qualifier", offsetof(struct model_params, qual), 512},
        {"Marker", "Marker", offsetof(struct model_params, marker), 1024},
        {"MaxItems", "MaxItems", offsetof(struct model_params, max), 64},
        {"MasterRegion", "MasterRegion", offsetof(struct model_params, region), 64},
        {"FunctionVersion", "FunctionVersion", offsetof(struct model_params, version), 64},
        {"CompatibleRuntime", "CompatibleRuntime", offsetof(struct model_params, runtime), 64},
        {"CompatibleArchitecture", "CompatibleArchitecture", offsetof(struct model_params, arch),
         64},
    };
    static const struct {
        const char *member, *header;
    } headers[] = {
        {"InvocationType", "x-amz-invocation-type"},
        {"LogType", "x-amz-log-type"},
        {"ClientContext", "x-amz-client-context"},
    };
    m->n = 0;
    if (seg != NULL)
        add_param(m, seg_member, m->name, decode_param(seg, segl, m->name, sizeof m->name));
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char *out = (char *)m + queries[i].off;
        add_param(m, queries[i].member, out, proto_query(req, queries[i].key, out, queries[i].cap));
    }
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        size_t vl;
        const char *v = proto_header(req, headers[i].header, &vl);
        if (v != NULL)
            add_param(m, headers[i].member, v, (long)vl);
    }
}

/* Checks the request against op's model (body: the parsed JSON body or NULL; extra: more
 * params, e.g. UntagResource's TagKeys). Returns true, or false after answering AWS's error. */
static bool model_ok(const char *op, struct proto_req *req, const char *seg, size_t segl,
                     const char *seg_member, const json_t *body, const struct lambda_param *extra,
                     size_t nextra)
{
    struct model_params *m = calloc(1, sizeof *m);
    size_t room = message_room(req, body != NULL);
    char *msg = malloc(room);
    struct lambda_param *all = NULL;
    bool ok = false;
    if (m == NULL || msg == NULL ||
        (all = calloc(sizeof m->p / sizeof m->p[0] + nextra, sizeof *all)) == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        goto out;
    }
    gather_params(req, seg, segl, seg_member, m);
    memcpy(all, m->p, m->n * sizeof *all);
    if (nextra > 0)
        memcpy(all + m->n, extra, nextra * sizeof *all);
    enum err e = lambda_validate_request(op, body, all, m->n + nextra, msg, room);
    if (e != ERR_OK)
        proto_error(req, e, msg);
    ok = e == ERR_OK;
out:
    free(all);
    free(msg);
    free(m);
    return ok;
}

/* ---- commands answered from their completion ---- */

static void call_gone(void *arg)
{
    struct rest_call *c = arg;
    c->req = NULL;
}

struct rest_call *lambda_rest__call(struct rest_ctx *x, void (*ok)(struct rest_call *c), int status)
{
    struct rest_call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        proto_error(x->req, ERR_LAMBDA_SERVICE, "out of memory");
        return NULL;
    }
    c->req = x->req;
    c->rs = x->rs;
    c->lm = x->lm;
    c->ok = ok;
    c->status = status;
    snprintf(c->name, sizeof c->name, "%s", x->name);
    snprintf(c->qual, sizeof c->qual, "%s", x->qual);
    proto_on_gone(x->req, call_gone, c);
    return c;
}

void lambda_rest__done(void *arg, enum err e, const char *msg)
{
    struct rest_call *c = arg;
    struct proto_req *req = c->req;
    if (req != NULL) {
        proto_on_gone(req, NULL, NULL);
        if (e != ERR_OK)
            proto_error(req, e, msg);
        else
            c->ok(c);
    }
    free(c->text);
    free(c);
}

static void ok_empty(struct rest_call *c)
{
    send_empty(c->req, c->status);
}

/* The function (at the call's qualifier) as it is now, or a 404 when it went meanwhile. */
static struct lambda_fn *call_fn(struct rest_call *c)
{
    struct lambda_fn *fn = lambda_fn_find_qualified(c->lm, c->name, c->qual);
    if (fn == NULL) {
        char m[512];
        lambda_not_found_msg(c->lm, c->name, m, sizeof m);
        proto_error(c->req, ERR_LAMBDA_NOT_FOUND, m);
    }
    return fn;
}

static void ok_config(struct rest_call *c)
{
    struct lambda_fn *fn = call_fn(c);
    if (fn != NULL)
        send_json(c->req, c->status, config_json(c->rs, fn));
}

/* A command that published a version with its change: that version's configuration. */
static void ok_config_or_version(struct rest_call *c)
{
    if (c->version[0] != '\0')
        snprintf(c->qual, sizeof c->qual, "%s", c->version);
    struct lambda_fn *fn = call_fn(c);
    if (fn != NULL)
        send_json(c->req, c->status, lambda_rest__config(c->rs, fn, c->version[0] != '\0'));
}

static void ok_concurrency(struct rest_call *c)
{
    send_json(c->req, 200, json_pack("{s:i}", "ReservedConcurrentExecutions", c->value));
}

static void ok_event_config(struct rest_call *c)
{
    struct lambda_fn *fn = call_fn(c);
    if (fn != NULL)
        send_json(c->req, 200, event_config_json(fn));
}

static void ok_statement(struct rest_call *c)
{
    send_json(c->req, 201, json_pack("{s:s}", "Statement", c->text));
}

/* ---- paged lists ---- */

void lambda_rest__page_init(struct rest_page *p, const struct rest_ctx *x, long max_default,
                            bool sorted)
{
    char m[32];
    *p = (struct rest_page){.x = x, .items = json_array(), .max = max_default, .sorted = sorted};
    if (proto_query(x->req, "Marker", p->marker, sizeof p->marker) < 0)
        p->marker[0] = '\0';
    p->past = p->marker[0] == '\0';
    if (proto_query(x->req, "MaxItems", m, sizeof m) >= 0 && strtol(m, NULL, 10) > 0)
        p->max = strtol(m, NULL, 10);
}

/* ListFunctions' keys "name:qualifier" in the order it walks them: by name (strcmp, as
 * lambda_fn_each sorts), then $LATEST (an empty qualifier) before versions in numeric order.
 * Comparing the whole keys with strcmp would put "fn1:" before "fn:" and "fn:10" before
 * "fn:9", and a page would resume past functions and versions it never showed. */
static int fn_key_cmp(const char *a, const char *b)
{
    const char *ca = strrchr(a, ':'), *cb = strrchr(b, ':');
    size_t na = ca ? (size_t)(ca - a) : strlen(a), nb = cb ? (size_t)(cb - b) : strlen(b);
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c != 0 || na != nb)
        return c != 0 ? c : na < nb ? -1 : 1;
    const char *qa = ca ? ca + 1 : "", *qb = cb ? cb + 1 : "";
    size_t la = strlen(qa), lb = strlen(qb);
    if (la != lb && qa[strspn(qa, "0123456789")] == '\0' && qb[strspn(qb, "0123456789")] == '\0')
        return la < lb ? -1 : 1; /* numbers without leading zeros: the shorter is smaller */
    return strcmp(qa, qb);
}

bool lambda_rest__page_wants(struct rest_page *p, const char *key)
{
    if (p->sorted && !p->past && fn_key_cmp(key, p->marker) <= 0)
        return false;
    if (!p->sorted && !p->past) {
        p->past = strcmp(key, p->marker) == 0;
        return false;
    }
    if ((long)json_array_size(p->items) >= p->max) {
        p->more = true;
        return false;
    }
    snprintf(p->next, sizeof p->next, "%s", key);
    return true;
}

void lambda_rest__page_send(struct rest_page *p, const char *list_name)
{
    json_t *j = json_pack("{s:o}", list_name, p->items);
    if (p->more)
        json_object_set_new(j, "NextMarker", json_string(p->next));
    send_json(p->x->req, 200, j);
}

/* ---- ListFunctions ---- */

struct list_ctx {
    struct rest_page page;
    bool all;
};

/* Lists fn; false once the page is full. */
static bool list_one(struct list_ctx *c, struct lambda_fn *fn, bool qualified)
{
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    char key[200];
    snprintf(key, sizeof key, "%s:%s", i.name,
             strcmp(i.qualifier, "$LATEST") == 0 ? "" : i.qualifier);
    if (lambda_rest__page_wants(&c->page, key))
        json_array_append_new(c->page.items, lambda_rest__config(c->page.x->rs, fn, qualified));
    return !c->page.more;
}

static bool list_version_cb(void *arg, struct lambda_fn *q)
{
    struct lambda_fn_info i;
    lambda_fn_info(q, &i);
    return i.is_alias || list_one(arg, q, true);
}

static bool list_cb(void *arg, struct lambda_fn *fn)
{
    struct list_ctx *c = arg;
    if (!list_one(c, fn, c->all))
        return false;
    if (c->all) /* FunctionVersion=ALL: each published version after its function */
        lambda_fn_each_qualified(fn, list_version_cb, c);
    return !c->page.more;
}

/* ListFunctions: the model has checked MaxItems (1..10000). Keys "name:qualifier" come sorted
 * by name, so a page resumes after its marker even when that function went. */
static void op_list(struct rest_ctx *x)
{
    char fv[16];
    struct list_ctx c;
    lambda_rest__page_init(&c.page, x, 50, true);
    c.all = proto_query(x->req, "FunctionVersion", fv, sizeof fv) >= 0 && strcmp(fv, "ALL") == 0;
    lambda_fn_each(x->lm, list_cb, &c);
    lambda_rest__page_send(&c.page, "Functions");
}

/* ---- Invoke ---- */

struct invoke_ctx {
    struct proto_req *req;
    struct lambda_inv *inv;
};

static void invoke_done(void *arg, const struct lambda_result *r)
{
    struct invoke_ctx *c = arg;
    struct proto_req *req = c->req;
    free(c);
    proto_on_gone(req, NULL, NULL);
    if (r->err != ERR_OK) {
        if (r->throttle_reason)
            send_throttle(req, r->err_msg, r->throttle_reason);
        else
            proto_error(req, r->err, r->err_msg);
        return;
    }
    struct proto_hdr h[6];
    size_t n = 0;
    h[n++] = ct_json;
    h[n++] = (struct proto_hdr){"x-amzn-requestid", r->request_id, 0};
    h[n++] = (struct proto_hdr){"x-amz-executed-version",
                                r->executed_version ? r->executed_version : "$LATEST", 0};
    if (r->function_error)
        h[n++] = (struct proto_hdr){"x-amz-function-error", "Unhandled", 0};
    struct buf tail;
    buf_init(&tail, 8192);
    if (r->log_tail != NULL && r->log_tail_len > 0) {
        codec_b64_encode(r->log_tail, r->log_tail_len, &tail);
        h[n++] = (struct proto_hdr){"x-amz-log-result", tail.data ? tail.data : "", tail.len};
    }
    proto_respond(req, 200, h, n, r->body, r->len);
    buf_destroy(&tail);
}

static void invoke_gone(void *arg)
{
    struct invoke_ctx *c = arg;
    lambda_inv_detach(c->inv);
    free(c);
}

struct event_ctx {
    struct proto_req *req; /* NULL once the client went away */
};

static void event_acked(void *arg, const struct lambda_result *r)
{
    struct event_ctx *e = arg;
    if (e->req != NULL) {
        proto_on_gone(e->req, NULL, NULL);
        if (r->err != ERR_OK) {
            proto_error(e->req, r->err, r->err_msg);
        } else {
            struct proto_hdr h[1] = {{"x-amzn-requestid", r->request_id, 0}};
            proto_respond(e->req, 202, h, 1, NULL, 0);
        }
    }
    free(e);
}

static void event_gone(void *arg)
{
    struct event_ctx *e = arg;
    e->req = NULL; /* freed by event_acked, which always runs */
}

static void op_invoke(struct lambda *lm, struct proto_req *req, struct lambda_fn *fn)
{
    size_t tl = 0, ll = 0, ccl = 0;
    const char *type = proto_header(req, "x-amz-invocation-type", &tl);
    const char *logt = proto_header(req, "x-amz-log-type", &ll);
    const char *cc = proto_header(req, "x-amz-client-context", &ccl);
    const char *body = req->body;
    size_t bl = req->body_len;
    enum lambda_inv_type it = LAMBDA_INV_SYNC;
    bool dry = false;
    if (type == NULL || (tl == 15 && memcmp(type, "RequestResponse", 15) == 0)) {
        it = LAMBDA_INV_SYNC;
    } else if (tl == 5 && memcmp(type, "Event", 5) == 0) {
        it = LAMBDA_INV_EVENT;
    } else if (tl == 6 && memcmp(type, "DryRun", 6) == 0) {
        dry = true;
    } else {
        proto_error(req, ERR_LAMBDA_VALIDATION,
                    "1 validation error detected: Value at 'invocationType' failed to satisfy "
                    "constraint: Member must satisfy enum value set: [Event, RequestResponse, "
                    "DryRun]");
        return;
    }
    if (it == LAMBDA_INV_EVENT && bl > LAMBDA_MAX_EVENT_PAYLOAD) {
        proto_errorf(req, ERR_LAMBDA_ENTITY_TOO_LARGE,
                     "%zu byte payload is too large for the Event invocation type (limit %d "
                     "bytes)",
                     bl, LAMBDA_MAX_EVENT_PAYLOAD);
        return;
    }
    if (bl > LAMBDA_MAX_SYNC_PAYLOAD) {
        proto_error(req, ERR_LAMBDA_ENTITY_TOO_LARGE, NULL);
        return;
    }
    if (bl == 0) {
        body = "{}";
        bl = 2;
    }
    char perr[200];
    json_t *parsed = jsonh_parse(body, bl, perr, sizeof perr);
    if (parsed == NULL) {
        proto_errorf(req, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json: %s",
                     perr);
        return;
    }
    json_decref(parsed);
    struct buf ccbuf;
    buf_init(&ccbuf, 8192);
    if (cc != NULL && lambda_decode_client_context(cc, ccl, &ccbuf) != ERR_OK) {
        buf_destroy(&ccbuf);
        proto_error(req, ERR_LAMBDA_INVALID_CONTENT,
                    "Client context must be a valid Base64-encoded JSON object.");
        return;
    }
    if (dry) {
        buf_destroy(&ccbuf);
        send_empty(req, 204);
        return;
    }
    bool want_tail = logt != NULL && ll == 4 && memcmp(logt, "Tail", 4) == 0;
    if (it == LAMBDA_INV_EVENT) {
        /* answered 202 once the event is durable (group commit) */
        struct event_ctx *e = calloc(1, sizeof *e);
        if (e == NULL) {
            buf_destroy(&ccbuf);
            proto_error(req, ERR_LAMBDA_SERVICE, NULL);
            return;
        }
        e->req = req;
        proto_on_gone(req, event_gone, e);
        if (lambda_invoke(lm, fn, it, body, bl, cc ? ccbuf.data : NULL, false, event_acked, e,
                          NULL) == NULL) {
            free(e);
            proto_on_gone(req, NULL, NULL);
            proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        }
        buf_destroy(&ccbuf);
        return;
    }
    struct invoke_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        buf_destroy(&ccbuf);
        proto_error(req, ERR_LAMBDA_SERVICE, NULL);
        return;
    }
    c->req = req;
    c->inv = lambda_invoke(lm, fn, it, body, bl, cc ? ccbuf.data : NULL, want_tail, invoke_done, c,
                           NULL);
    buf_destroy(&ccbuf);
    if (c->inv == NULL) {
        free(c);
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    proto_on_gone(req, invoke_gone, c);
}

/* ---- commands ---- */

static void op_create(struct rest_ctx *x)
{
    struct lambda *lm = x->lm;
    struct proto_req *req = x->req;
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    size_t room = message_room(req, true);
    char *msg = malloc(room);
    if (msg == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    enum err e =
        lambda_parse_fn_spec(req->body, req->body_len, false, &doc, &spec, &zip, msg, room);
    if (e == ERR_OK)
        e = lambda_resolve_name(spec.name, strlen(spec.name), x->name, sizeof x->name, msg, room);
    if (e != ERR_OK) {
        proto_error(req, e == ERR_LAMBDA_NOT_FOUND ? ERR_LAMBDA_VALIDATION : e, msg);
    } else {
        struct rest_call *c = lambda_rest__call(x, ok_config_or_version, 201);
        if (c != NULL) {
            spec.version_out = c->version;
            lambda_fn_create(lm, &spec, lambda_rest__done, c);
        }
    }
    free(msg);
    json_decref(doc);
    buf_destroy(&zip);
}

/* doc: the body, parsed once by the dispatcher (NULL: empty or not JSON). */
static void op_update_code(struct rest_ctx *x, const json_t *doc)
{
    struct proto_req *req = x->req;
    const json_t *zf = json_object_get(doc, "ZipFile");
    if (!json_is_string(zf)) {
        proto_error(req, ERR_LAMBDA_INVALID_PARAMETER,
                    doc ? "Only ZipFile code updates are supported by this endpoint"
                        : "Could not parse request body into json");
        return;
    }
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    /* the JSON string's own length: a decoded \u0000 must not end it early */
    if (codec_b64_decode(json_string_value(zf), json_string_length(zf), &zip) != BUF_OK) {
        proto_error(req, ERR_LAMBDA_INVALID_PARAMETER,
                    "Could not unzip uploaded file. Please check your file, then try to upload "
                    "again.");
    } else {
        struct rest_call *c = lambda_rest__call(x, ok_config_or_version, 200);
        if (c != NULL) {
            struct lambda_code_update u = {.zip = zip.data ? zip.data : "",
                                           .len = zip.len,
                                           .publish = json_is_true(json_object_get(doc, "Publish")),
                                           .revision_id = jsonh_str(doc, "RevisionId", NULL),
                                           .version_out = c->version};
            lambda_fn_update_code_ex(x->lm, x->name, &u, lambda_rest__done, c);
        }
    }
    buf_destroy(&zip);
}

static void op_update_config(struct rest_ctx *x)
{
    struct proto_req *req = x->req;
    json_t *doc = NULL;
    struct lambda_fn_spec spec;
    size_t room = message_room(req, true);
    char *msg = malloc(room);
    if (msg == NULL) {
        proto_error(req, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    enum err e = lambda_parse_fn_spec(req->body, req->body_len, true, &doc, &spec, NULL, msg, room);
    spec.name = x->name;
    if (e != ERR_OK) {
        proto_error(req, e, msg);
    } else {
        struct rest_call *c = lambda_rest__call(x, ok_config, 200);
        if (c != NULL)
            lambda_fn_update_config(x->lm, &spec, lambda_rest__done, c);
    }
    free(msg);
    json_decref(doc);
}

static void op_put_concurrency(struct rest_ctx *x)
{
    struct proto_req *req = x->req;
    json_t *doc = jsonh_parse(req->body, req->body_len, NULL, 0);
    long long n;
    int rc = jsonh_int(doc, "ReservedConcurrentExecutions", &n);
    json_decref(doc);
    if (rc != 1 || n < 0 || n > 1000000) {
        proto_error(req, ERR_LAMBDA_VALIDATION,
                    "1 validation error detected: Value at 'reservedConcurrentExecutions' failed "
                    "to satisfy constraint: Member must have value greater than or equal to 0");
        return;
    }
    struct rest_call *c = lambda_rest__call(x, ok_concurrency, 200);
    if (c == NULL)
        return;
    c->value = (int)n;
    lambda_fn_set_concurrency(x->lm, x->name, (int)n, lambda_rest__done, c);
}

/* Put/UpdateFunctionEventInvokeConfig bodies, checked as AWS checks them. */
static void op_event_config(struct rest_ctx *x, struct lambda_fn *fn, bool merge)
{
    struct proto_req *req = x->req;
    char perr[200];
    json_t *doc =
        req->body_len ? jsonh_parse(req->body, req->body_len, perr, sizeof perr) : json_object();
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_errorf(req, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json");
        return;
    }
    long long retries = -1, age = -1;
    int r1 = jsonh_int(doc, "MaximumRetryAttempts", &retries);
    int r2 = jsonh_int(doc, "MaximumEventAgeInSeconds", &age);
    json_t *dest = json_object_get(doc, "DestinationConfig");
    const char *err = NULL;
    char msg[512];
    if (r1 < 0 || (r1 == 1 && (retries < 0 || retries > 2))) {
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%lld' at 'maximumRetryAttempts' failed to "
                 "satisfy constraint: Member must have value %s",
                 retries, retries < 0 ? "greater than or equal to 0" : "less than or equal to 2");
        err = msg;
    } else if (r2 < 0 || (r2 == 1 && (age < 60 || age > 21600))) {
        snprintf(msg, sizeof msg,
                 "1 validation error detected: Value '%lld' at 'maximumEventAgeInSeconds' failed "
                 "to satisfy constraint: Member must have value %s",
                 age, age < 60 ? "greater than or equal to 60" : "less than or equal to 21600");
        err = msg;
    } else if (dest != NULL && !json_is_null(dest) && !json_is_object(dest)) {
        err = "DestinationConfig must be an object";
    }
    if (err != NULL) {
        json_decref(doc);
        proto_error(req, ERR_LAMBDA_VALIDATION, err);
        return;
    }
    struct rest_call *c = lambda_rest__call(x, ok_event_config, 200);
    if (c != NULL)
        lambda_fn_put_event_config(x->lm, fn, merge, r1 == 1 ? (int)retries : -1,
                                   r2 == 1 ? (int)age : -1, json_is_object(dest) ? dest : NULL,
                                   lambda_rest__done, c);
    json_decref(doc);
}

static void no_event_config(struct proto_req *req, struct lambda_fn *fn)
{
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    if (strcmp(i.qualifier, "$LATEST") == 0)
        proto_errorf(req, ERR_LAMBDA_NOT_FOUND,
                     "The function %s:$LATEST doesn't have an EventInvokeConfig", i.arn);
    else
        proto_errorf(req, ERR_LAMBDA_NOT_FOUND, "The function %s doesn't have an EventInvokeConfig",
                     i.arn);
}

static bool list_event_config_cb(void *arg, struct lambda_fn *q)
{
    if (lambda_fn_event_config(q)->set)
        json_array_append_new(arg, event_config_json(q));
    return true;
}

/* ---- tags: /2017-03-31/tags/{ARN} ----------------------------------------------------- */

/* The function a tags path names: its ARN, percent-encoded once or twice by SDKs. Only
 * function ARNs carry tags here. */
static struct lambda_fn *tags_target(struct lambda *lm, struct proto_req *req, const char *seg,
                                     size_t len)
{
    char arn[512], name[80], msg[512];
    long n = decode_segment(seg, len, arn);
    if (n < 0 || strncmp(arn, "arn:", 4) != 0 || strstr(arn, ":function:") == NULL) {
        proto_errorf(req, ERR_LAMBDA_VALIDATION,
                     "1 validation error detected: Value '%.200s' at 'resource' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:"
                     "\\d{12}:function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
                     n < 0 ? "" : arn);
        return NULL;
    }
    enum err e = lambda_resolve_name(arn, (size_t)n, name, sizeof name, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(req, e, msg);
        return NULL;
    }
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL) {
        lambda_not_found_msg(lm, name, msg, sizeof msg);
        proto_error(req, ERR_LAMBDA_NOT_FOUND, msg);
    }
    return fn;
}

/* The TagKeys of an UntagResource as model params (borrowed from keys). NULL when none. */
static struct lambda_param *tag_key_params(const json_t *keys, size_t *n)
{
    *n = json_array_size(keys);
    struct lambda_param *p = *n ? calloc(*n, sizeof *p) : NULL;
    for (size_t i = 0; p != NULL && i < *n; i++) {
        const json_t *k = json_array_get(keys, i);
        p[i] = (struct lambda_param){"TagKeys", json_string_value(k), json_string_length(k)};
    }
    if (p == NULL)
        *n = 0;
    return p;
}

static void op_tags(struct rest_ctx *x, const char *seg, size_t segl)
{
    struct lambda *lm = x->lm;
    struct proto_req *req = x->req;
    bool get = proto_method_is(req, "GET"), post = proto_method_is(req, "POST"),
         del = proto_method_is(req, "DELETE");
    if (!get && !post && !del) {
        proto_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
        return;
    }
    char perr[200], msg[512];
    json_t *doc = NULL, *keys = NULL;
    struct lambda_param *kp = NULL;
    size_t nk = 0;
    if (post) {
        doc = jsonh_parse(req->body, req->body_len, perr, sizeof perr);
        if (doc == NULL) {
            proto_errorf(req, ERR_LAMBDA_INVALID_CONTENT,
                         "Could not parse request body into json: %s", perr);
            return;
        }
    }
    if (del) {
        keys = proto_query_all(req, "tagKeys");
        kp = tag_key_params(keys, &nk);
    }
    /* the model first: the resource ARN, the tags or tag keys */
    const char *op = get ? "ListTags" : post ? "TagResource" : "UntagResource";
    struct lambda_fn *fn = NULL;
    if (model_ok(op, req, seg, segl, "Resource", doc, kp, nk))
        fn = tags_target(lm, req, seg, segl);
    free(kp);
    if (fn == NULL)
        goto out;
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    if (get) {
        send_json(req, 200, json_pack("{s:o}", "Tags", i.tags ? json_copy(i.tags) : json_object()));
        goto out;
    }
    if (del) {
        if (keys == NULL || json_array_size(keys) == 0) {
            proto_error(req, ERR_LAMBDA_VALIDATION,
                        "1 validation error detected: Value null at 'tagKeys' failed to satisfy "
                        "constraint: Member must not be null");
            goto out;
        }
        struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
        if (c != NULL)
            lambda_fn_untag(lm, fn, keys, lambda_rest__done, c);
        goto out;
    }
    json_t *tags = json_object_get(doc, "Tags");
    enum err e = lambda_check_tags(tags, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(req, e, msg);
    } else {
        struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
        if (c != NULL)
            lambda_fn_tag(lm, fn, tags, lambda_rest__done, c);
    }
out:
    json_decref(keys);
    json_decref(doc);
}

/* ---- AddPermission / RemovePermission / GetPolicy ---- */

/* AddPermission's Principal as a policy's: a service, an account's root, an ARN, or "*". */
static json_t *principal_json(const char *p)
{
    size_t n = strlen(p);
    char root[64];
    if (strcmp(p, "*") == 0)
        return json_string("*");
    if (n == 12 && strspn(p, "0123456789") == 12) {
        snprintf(root, sizeof root, "arn:aws:iam::%s:root", p);
        return json_pack("{s:s}", "AWS", root);
    }
    return json_pack("{s:s}", strncmp(p, "arn:", 4) == 0 ? "AWS" : "Service", p);
}

/* The statement AWS stores for an AddPermission body. */
static json_t *statement_json(const json_t *doc, const char *fn_arn)
{
    static const struct {
        const char *member, *key;
    } equals[] = {{"SourceAccount", "AWS:SourceAccount"},
                  {"EventSourceToken", "lambda:EventSourceToken"},
                  {"PrincipalOrgID", "aws:PrincipalOrgID"},
                  {"FunctionUrlAuthType", "lambda:FunctionUrlAuthType"}};
    json_t *st =
        json_pack("{s:s, s:s, s:o, s:s, s:s}", "Sid", jsonh_str(doc, "StatementId", ""), "Effect",
                  "Allow", "Principal", principal_json(jsonh_str(doc, "Principal", "")), "Action",
                  jsonh_str(doc, "Action", ""), "Resource", fn_arn);
    json_t *cond = json_object(), *eq = json_object();
    for (size_t i = 0; i < sizeof equals / sizeof equals[0]; i++)
        if (jsonh_str(doc, equals[i].member, NULL) != NULL)
            json_object_set_new(eq, equals[i].key,
                                json_string(jsonh_str(doc, equals[i].member, "")));
    if (json_object_size(eq) > 0)
        json_object_set(cond, "StringEquals", eq);
    if (jsonh_str(doc, "SourceArn", NULL) != NULL)
        json_object_set_new(cond, "ArnLike",
                            json_pack("{s:s}", "AWS:SourceArn", jsonh_str(doc, "SourceArn", "")));
    if (json_object_size(cond) > 0)
        json_object_set(st, "Condition", cond);
    json_decref(cond);
    json_decref(eq);
    return st;
}

static void op_add_permission(struct rest_ctx *x)
{
    struct proto_req *req = x->req;
    char msg[1024];
    json_t *doc = jsonh_parse(req->body, req->body_len, NULL, 0);
    struct lambda_param p[2] = {{"FunctionName", x->name, strlen(x->name)},
                                {"Qualifier", x->qual, strlen(x->qual)}};
    enum err e = json_is_object(doc) ? lambda_validate_request("AddPermission", doc, p,
                                                               x->qual[0] ? 2 : 1, msg, sizeof msg)
                                     : ERR_LAMBDA_INVALID_CONTENT;
    if (e == ERR_OK && strcmp(x->qual, "$LATEST") == 0) {
        e = ERR_LAMBDA_INVALID_PARAMETER;
        snprintf(msg, sizeof msg, "We currently do not support adding policies for $LATEST.");
    }
    if (e != ERR_OK) {
        proto_error(req, e, e == ERR_LAMBDA_INVALID_CONTENT ? NULL : msg);
        json_decref(doc);
        return;
    }
    struct lambda_fn *fn = lambda_rest__target(x, true);
    struct lambda_fn_info i;
    if (fn != NULL)
        lambda_fn_info(fn, &i);
    json_t *st = fn != NULL ? statement_json(doc, i.arn) : NULL;
    struct rest_call *c = NULL;
    if (st == NULL || (c = lambda_rest__call(x, ok_statement, 201)) == NULL)
        ;
    else if ((c->text = json_dumps(st, JSON_COMPACT)) == NULL)
        lambda_rest__done(c, ERR_LAMBDA_SERVICE, "out of memory");
    else
        lambda_fn_add_permission(x->lm, fn, st, jsonh_str(doc, "RevisionId", NULL),
                                 lambda_rest__done, c);
    json_decref(st);
    json_decref(doc);
}

static void op_get_policy(struct proto_req *req, struct lambda_fn *fn)
{
    const char *rev;
    const json_t *pol = lambda_fn_policy(fn, &rev);
    char *text = pol ? json_dumps(pol, JSON_COMPACT) : NULL;
    if (text == NULL)
        proto_error(req, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
    else
        send_json(req, 200, json_pack("{s:s, s:s}", "Policy", text, "RevisionId", rev));
    free(text);
}

/* DELETE /2015-03-31/functions/{name}/policy/{sid} */
static void op_remove_permission(struct rest_ctx *x, struct lambda_fn *fn)
{
    char sid[512], msg[1024], rev[128];
    long sl = decode_segment(x->seg[1], x->segl[1], sid);
    enum err e = ERR_OK;
    if (sl < 0) {
        e = ERR_LAMBDA_VALIDATION;
        snprintf(msg, sizeof msg, "Invalid statement id encoding");
    } else {
        e = lambda_validate_value("NamespacedStatementId", "statementId", sid, (size_t)sl, msg,
                                  sizeof msg);
    }
    if (e == ERR_LAMBDA_SERVICE) /* no such shape in the table: the pattern AWS documents */
        e = ERR_OK;
    if (e != ERR_OK) {
        proto_error(x->req, e, msg);
        return;
    }
    struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
    bool has_rev = proto_query(x->req, "RevisionId", rev, sizeof rev) >= 0;
    if (c != NULL)
        lambda_fn_remove_permission(x->lm, fn, sid, has_rev ? rev : NULL, lambda_rest__done, c);
}

/* ---- the dispatcher ----------------------------------------------------------------- */

/* Does the path fit the pattern? Captures the "{}" segments (at most 3). */
static bool fits(const char *pattern, const char *p, size_t pl, const char **seg, size_t *segl)
{
    size_t i = 0, k = 0;
    int n = 0;
    while (pattern[k] != '\0') {
        if (pattern[k] == '{' && pattern[k + 1] == '}') {
            size_t start = i;
            while (i < pl && p[i] != '/')
                i++;
            if (i == start || n == 3)
                return false;
            seg[n] = p + start;
            segl[n++] = i - start;
            k += 2;
            continue;
        }
        if (i >= pl || p[i] != pattern[k])
            return false;
        i++;
        k++;
    }
    return i == pl;
}

static const struct route *match(const struct proto_req *req, const char **seg, size_t *segl,
                                 bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const char *s[3] = {NULL, NULL, NULL};
        size_t sl[3] = {0, 0, 0};
        if (!fits(routes[i].pattern, req->path, req->path_len, s, sl))
            continue;
        *path_known = true;
        if (proto_method_is(req, routes[i].method)) {
            memcpy(seg, s, sizeof s);
            memcpy(segl, sl, sizeof sl);
            return &routes[i];
        }
    }
    return NULL;
}

bool lambda_rest__model(struct rest_ctx *x, const char *op, const char *seg_member,
                        const json_t *body)
{
    return model_ok(op, x->req, x->seg[0], x->segl[0], seg_member, body, NULL, 0);
}

/* The function a route names: its name and the qualifier (from the name or the Qualifier
 * query; both must agree). false after answering. */
static bool resolve_function(struct rest_ctx *x, const struct route *r)
{
    char a[512], q[512], msg[1024];
    long n = decode_segment(x->seg[0], x->segl[0], a);
    if (n < 0) {
        proto_error(x->req, ERR_LAMBDA_VALIDATION, "Invalid function name encoding");
        return false;
    }
    enum err e = lambda_resolve_ref(a, (size_t)n, x->name, sizeof x->name, x->qual, sizeof x->qual,
                                    msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(x->req, e, msg);
        return false;
    }
    long ql = proto_query(x->req, "Qualifier", q, sizeof q);
    if (ql >= 0 && x->qual[0] != '\0' && strcmp(q, x->qual) != 0) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER,
                    "The derived qualifier from the function name does not match the specified "
                    "qualifier.");
        return false;
    }
    if (ql >= 0 && x->qual[0] == '\0')
        snprintf(x->qual, sizeof x->qual, "%.*s", (int)(ql < 139 ? ql : 139), q);
    bool qualified = x->qual[0] != '\0' && strcmp(x->qual, "$LATEST") != 0;
    if (qualified && r->quals == Q_FUNCTION_ONLY) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER,
                    "This operation is permitted on Lambda functions only. Aliases and versions "
                    "do not support this operation. Please specify either a function name or an "
                    "unqualified function ARN.");
        return false;
    }
    if (qualified && r->quals == Q_NONE) {
        char arn[400];
        qualified_arn(x, arn, sizeof arn);
        proto_errorf(x->req, ERR_LAMBDA_NOT_FOUND, "Function not found: %s", arn);
        return false;
    }
    if (r->quals != Q_ANY)
        x->qual[0] = '\0';
    return true;
}

/* The operations on one function (its name resolved; fn is at x->qual). */
static void function_op(struct rest_ctx *x, const struct route *r, struct lambda_fn *fn,
                        json_t *doc)
{
    struct lambda *lm = x->lm;
    struct proto_req *req = x->req;
    struct rest_call *c = NULL;
    bool qualified = x->qual[0] != '\0';
    switch (r->op) {
    case OP_GET:
        send_json(req, 200, get_function_json(x->rs, fn, qualified));
        break;
    case OP_GET_CONFIG:
        send_json(req, 200, lambda_rest__config(x->rs, fn, qualified));
        break;
    case OP_DELETE: {
        struct lambda_fn_info i;
        lambda_fn_info(fn, &i);
        if (strcmp(x->qual, "$LATEST") == 0)
            proto_error(req, ERR_LAMBDA_INVALID_PARAMETER,
                        "$LATEST version cannot be deleted without deleting the function.");
        else if (i.is_alias)
            proto_errorf(req, ERR_LAMBDA_NOT_FOUND, "Function not found: %s", i.arn);
        else if ((c = lambda_rest__call(x, ok_empty, 204)) == NULL)
            ;
        else if (qualified)
            lambda_fn_delete_version(lm, fn, lambda_rest__done, c);
        else
            lambda_fn_delete(lm, x->name, lambda_rest__done, c);
        break;
    }
    case OP_UPDATE_CONFIG:
        op_update_config(x);
        break;
    case OP_UPDATE_CODE:
        op_update_code(x, doc);
        break;
    case OP_INVOKE:
        op_invoke(lm, req, fn);
        break;
    case OP_PUT_CONCURRENCY:
        op_put_concurrency(x);
        break;
    case OP_GET_CONCURRENCY: {
        struct lambda_fn_info i;
        lambda_fn_info(fn, &i);
        send_json(req, 200,
                  i.reserved >= 0 ? json_pack("{s:i}", "ReservedConcurrentExecutions", i.reserved)
                                  : json_object());
        break;
    }
    case OP_DELETE_CONCURRENCY:
        if ((c = lambda_rest__call(x, ok_empty, 204)) != NULL)
            lambda_fn_set_concurrency(lm, x->name, -1, lambda_rest__done, c);
        break;
    case OP_LIST_VERSIONS:
        lambda_rest__list_versions(x);
        break;
    case OP_PUBLISH_VERSION:
        lambda_rest__publish_version(x);
        break;
    case OP_GET_CODE_SIGNING:
        send_json(req, 200,
                  json_pack("{s:s, s:s}", "CodeSigningConfigArn", "", "FunctionName", x->name));
        break;
    case OP_PUT_EVENT_CONFIG:
    case OP_UPDATE_EVENT_CONFIG:
        if (r->op == OP_UPDATE_EVENT_CONFIG && !lambda_fn_event_config(fn)->set)
            no_event_config(req, fn);
        else
            op_event_config(x, fn, r->op == OP_UPDATE_EVENT_CONFIG);
        break;
    case OP_GET_EVENT_CONFIG:
        if (!lambda_fn_event_config(fn)->set)
            no_event_config(req, fn);
        else
            send_json(req, 200, event_config_json(fn));
        break;
    case OP_DELETE_EVENT_CONFIG:
        if (!lambda_fn_event_config(fn)->set)
            no_event_config(req, fn);
        else if ((c = lambda_rest__call(x, ok_empty, 204)) != NULL)
            lambda_fn_delete_event_config(lm, fn, lambda_rest__done, c);
        break;
    case OP_LIST_EVENT_CONFIGS: {
        json_t *arr = json_array();
        if (lambda_fn_event_config(fn)->set)
            json_array_append_new(arr, event_config_json(fn));
        lambda_fn_each_qualified(fn, list_event_config_cb, arr);
        send_json(req, 200, json_pack("{s:o}", "FunctionEventInvokeConfigs", arr));
        break;
    }
    case OP_GET_POLICY:
        op_get_policy(req, fn);
        break;
    case OP_REMOVE_PERMISSION:
        op_remove_permission(x, fn);
        break;
    case OP_CREATE_ALIAS:
        lambda_rest__create_alias(x);
        break;
    case OP_LIST_ALIASES:
        lambda_rest__list_aliases(x);
        break;
    case OP_GET_ALIAS:
        lambda_rest__get_alias(x);
        break;
    case OP_UPDATE_ALIAS:
        lambda_rest__update_alias(x);
        break;
    case OP_DELETE_ALIAS:
        lambda_rest__delete_alias(x);
        break;
    case OP_GET_PC:
        lambda_rest__get_pc(x);
        break;
    case OP_DELETE_PC:
        lambda_rest__delete_pc(x);
        break;
    case OP_PUT_PC:
        lambda_rest__put_pc(x);
        break;
    case OP_CREATE_URL:
        lambda_rest__url(x, "POST");
        break;
    case OP_GET_URL:
        lambda_rest__url(x, "GET");
        break;
    case OP_UPDATE_URL:
        lambda_rest__url(x, "PUT");
        break;
    case OP_DELETE_URL:
        lambda_rest__url(x, "DELETE");
        break;
    case OP_LIST_URLS:
        lambda_rest__list_urls(x);
        break;
    case OP_LIST_PC:
        lambda_rest__list_pc(x);
        break;
    default:
        break;
    }
}

/* Routes that find their object themselves (a missing alias, a qualifier that must be an
 * alias or version) rather than through the function at the qualifier. */
static bool finds_own_target(enum op op)
{
    return op == OP_PUT_PC || op == OP_GET_PC || op == OP_DELETE_PC || op == OP_CREATE_URL ||
           op == OP_GET_URL || op == OP_UPDATE_URL || op == OP_DELETE_URL ||
           op == OP_ADD_PERMISSION;
}

static void handle(struct lambda_rest *rs, struct proto_req *req)
{
    struct rest_ctx x = {.rs = rs, .lm = rs->lm, .req = req};
    size_t tpl = strlen(TAGS_PREFIX);
    if (req->path_len > tpl && memcmp(req->path, TAGS_PREFIX, tpl) == 0 &&
        memchr(req->path + tpl, '/', req->path_len - tpl) == NULL) {
        op_tags(&x, req->path + tpl, req->path_len - tpl);
        return;
    }
    bool path_known;
    const struct route *r = match(req, x.seg, x.segl, &path_known);
    if (r == NULL) {
        if (path_known)
            proto_respond(req, 405, &ct_json, 1, "{\"message\":\"Method Not Allowed\"}", 32);
        else
            proto_error(req, ERR_UNKNOWN_PATH,
                        "Unknown operation: no Lambda API answers this path");
        return;
    }
    if (r->op == OP_CREATE) {
        op_create(&x);
        return;
    }
    /* ListProvisionedConcurrencyConfigs is GetProvisionedConcurrencyConfig's path with List */
    static const struct route list_pc = {"GET", "", OP_LIST_PC, ON_FUNCTION, Q_NONE};
    char list[16];
    if (r->op == OP_GET_PC && proto_query(req, "List", list, sizeof list) >= 0)
        r = &list_pc;
    /* the model first (every member, one message), then the service's own checks */
    const char *model = model_op(r->op);
    const char *member = r->on == ON_LAYER ? "LayerName" : "FunctionName";
    json_t *doc = NULL;
    if (model != NULL && model_checks_body(r->op) && req->body_len > 0)
        doc = jsonh_parse(req->body, req->body_len, NULL, 0); /* not JSON: the op says so */
    /* an alias route's second segment is the model's Name */
    bool named = r->op == OP_GET_ALIAS || r->op == OP_UPDATE_ALIAS || r->op == OP_DELETE_ALIAS;
    char second[512];
    long sl = named ? decode_param(x.seg[1], x.segl[1], second, sizeof second) : -1;
    struct lambda_param extra = {"Name", second, sl > 0 ? (size_t)sl : 0};
    if (model != NULL && (req->body_len == 0 || !model_checks_body(r->op) || doc != NULL) &&
        !model_ok(model, req, x.seg[0], x.segl[0], member, doc, &extra, sl >= 0 ? 1 : 0))
        goto out;
    switch (r->on) {
    case ON_NONE:
        if (r->op == OP_LIST)
            op_list(&x);
        else
            lambda_rest__list_layers(&x);
        goto out;
    case ON_LAYER:
        switch (r->op) {
        case OP_PUBLISH_LAYER:
            lambda_rest__publish_layer(&x);
            break;
        case OP_LIST_LAYER_VERSIONS:
            lambda_rest__list_layer_versions(&x);
            break;
        case OP_GET_LAYER:
            lambda_rest__get_layer(&x);
            break;
        case OP_DELETE_LAYER:
            lambda_rest__delete_layer(&x);
            break;
        case OP_ADD_LAYER_PERMISSION:
            lambda_rest__layer_policy(&x, "POST");
            break;
        case OP_GET_LAYER_POLICY:
            lambda_rest__layer_policy(&x, "GET");
            break;
        default:
            lambda_rest__layer_policy(&x, "DELETE");
            break;
        }
        goto out;
    case ON_FUNCTION:
        break;
    }
    if (!resolve_function(&x, r))
        goto out;
    if (r->op == OP_ADD_PERMISSION) {
        op_add_permission(&x);
        goto out;
    }
    if (finds_own_target(r->op)) {
        function_op(&x, r, NULL, doc);
        goto out;
    }
    struct lambda_fn *fn = lambda_rest__target(&x, false);
    if (fn != NULL)
        function_op(&x, r, fn, doc);
out:
    json_decref(doc);
}

static void rest_handle(void *engine, struct proto_req *req)
{
    handle(engine, req);
}

static void rest_error_body(enum err e, const char *msg, struct buf *out)
{
    err_rest_json_body(e, msg, out);
}

void lambda_rest_init(struct lambda_rest *rs, struct lambda *lm, const char *region,
                      uint16_t aws_port, uint16_t api_port)
{
    memset(rs, 0, sizeof *rs);
    rs->lm = lm;
    rs->region = region;
    rs->aws_port = aws_port;
    rs->api_port = api_port;
    memcpy(rs->presign_key, "HAARCODE", 8);
    ids_alnum_upper(rs->presign_key + 8, 12);
    ids_secret(rs->presign_secret, 40);
}

/* ---- the presigned package download ---- */

struct download {
    struct work w;
    struct proto_req *req; /* NULL once the client went away */
    char path[4200];
    struct buf data;
    int rc;
};

static void download_gone(void *arg)
{
    struct download *d = arg;
    d->req = NULL;
}

static void download_run(struct work *w)
{
    struct download *d = w->data;
    FILE *f = fopen(d->path, "rb");
    d->rc = -1;
    if (f == NULL)
        return;
    char chunk[65536];
    size_t got;
    d->rc = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&d->data, chunk, got) != BUF_OK) {
            d->rc = -1;
            break;
        }
    fclose(f);
}

static void download_done(struct work *w)
{
    struct download *d = w->data;
    if (d->req != NULL) {
        proto_on_gone(d->req, NULL, NULL);
        if (d->rc != 0) {
            proto_error(d->req, ERR_LAMBDA_NOT_FOUND, "No deployment package for this function");
        } else {
            struct proto_hdr h[1] = {{"content-type", "application/zip", 0}};
            proto_respond(d->req, 200, h, 1, d->data.data ? d->data.data : "", d->data.len);
        }
    }
    buf_destroy(&d->data);
    free(d);
}

static const char *presign_secret(void *arg, const char *key, const char *token)
{
    const struct lambda_rest *rs = arg;
    return strcmp(key, rs->presign_key) == 0 && token[0] == '\0' ? rs->presign_secret : NULL;
}

void lambda_rest_code_download(void *arg, struct proto_req *req)
{
    struct lambda_rest *rs = arg;
    static const struct proto_service plain = {.name = "lambda", .protocol = PROTO_PLAIN};
    req->service = &plain;
    struct sigv4_header h = {"host", 4, req->authority, req->authority_len};
    struct sigv4_request sr = {.method = req->method,
                               .method_len = req->method_len,
                               .path = req->path,
                               .path_len = req->path_len,
                               .query = req->query,
                               .query_len = req->query_len,
                               .headers = &h,
                               .nheaders = 1};
    char msg[4096];
    if (!proto_method_is(req, "GET") ||
        sigv4_verify(&sr, rs->region, "lambda", true, clock_real_now_ms(), presign_secret, rs, msg,
                     sizeof msg) != SIGV4_OK) {
        struct proto_hdr ct = {"content-type", "application/xml", 0};
        static const char denied[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>"
                                     "AccessDenied</Code><Message>Request has expired or its "
                                     "signature does not match</Message></Error>";
        proto_respond(req, 403, &ct, 1, denied, sizeof denied - 1);
        return;
    }
    /* <name>[:<qualifier>] for a function's package, layer/<name>/<version> for a layer's */
    char what[400];
    size_t pl = strlen(CODE_PATH);
    const char *zip = NULL;
    if (req->path_len > pl && req->path_len - pl < sizeof what) {
        memcpy(what, req->path + pl, req->path_len - pl);
        what[req->path_len - pl] = '\0';
        char lname[160];
        int lver = 0, used = 0;
        struct lambda_layer *l = NULL;
        if (sscanf(what, "layer/%159[^/]/%d%n", lname, &lver, &used) == 2 && what[used] == '\0')
            l = lambda_layer_find(rs->lm, lname, lver);
        struct lambda_layer_info li;
        if (l != NULL) {
            lambda_layer_info(l, &li);
            zip = li.zip;
        }
        struct lambda_fn *fn = l == NULL ? lambda_fn_find_arn(rs->lm, what) : NULL;
        struct lambda_fn_info i;
        if (fn != NULL) {
            lambda_fn_info(fn, &i);
            zip = i.code_zip;
        }
    }
    struct download *d = zip ? calloc(1, sizeof *d) : NULL;
    if (d == NULL) {
        proto_error(req, ERR_LAMBDA_NOT_FOUND, "No deployment package for this function");
        return;
    }
    snprintf(d->path, sizeof d->path, "%s", zip);
    buf_init(&d->data, 80u << 20);
    d->req = req;
    d->w = (struct work){.run = download_run, .done = download_done, .data = d};
    proto_on_gone(req, download_gone, d);
    work_submit(&d->w); /* reading up to 70 MB stays off the loop */
}

static const char *const paths[] = {
    "/2015-03-31/functions",  "/2017-03-31/tags/",      "/2017-10-31/functions/",
    "/2019-09-30/functions/", "/2020-06-30/functions/", "/2019-09-25/functions/",
    "/2021-10-31/functions/", "/2018-10-31/layers",     NULL};

void lambda_rest_service(struct lambda_rest *rs, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "lambda",
        .protocol = PROTO_REST_JSON,
        .paths = paths,
        .max_body = 72 * 1024 * 1024,
        .handle = rest_handle,
        .engine = rs,
        .rest_error_body = rest_error_body,
    };
}
