/*
 * proto_rest.c — the apigatewayv2 management API (see proto_rest.h): the route table, the
 * member tables bodies are checked against, and the answers.
 */
#include "cloud/apigw/proto_rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/apigw/apigw.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/url.h"

/* ---- members, as the model types them ---- */

enum mtype {
    T_STR,     /* string */
    T_BOOL,    /* boolean */
    T_INT,     /* integer */
    T_NUM,     /* double */
    T_STRLIST, /* list of strings */
    T_STRMAP,  /* map of string to string */
    T_OBJ,     /* structure (sub) */
    T_OBJMAP,  /* map of string to structure (sub) */
    T_MAPMAP,  /* map of string to map of string to string */
};

struct member {
    const char *name;
    enum mtype type;
    bool required; /* on create */
    const struct member *sub;
};

#define END                                                                                        \
    {                                                                                              \
        NULL, T_STR, false, NULL                                                                   \
    }

static const struct member cors_m[] = {{"allowCredentials", T_BOOL, false, NULL},
                                       {"allowHeaders", T_STRLIST, false, NULL},
                                       {"allowMethods", T_STRLIST, false, NULL},
                                       {"allowOrigins", T_STRLIST, false, NULL},
                                       {"exposeHeaders", T_STRLIST, false, NULL},
                                       {"maxAge", T_INT, false, NULL},
                                       END};
static const struct member api_m[] = {{"name", T_STR, true, NULL},
                                      {"protocolType", T_STR, true, NULL},
                                      {"description", T_STR, false, NULL},
                                      {"version", T_STR, false, NULL},
                                      {"routeSelectionExpression", T_STR, false, NULL},
                                      {"apiKeySelectionExpression", T_STR, false, NULL},
                                      {"disableSchemaValidation", T_BOOL, false, NULL},
                                      {"disableExecuteApiEndpoint", T_BOOL, false, NULL},
                                      {"corsConfiguration", T_OBJ, false, cors_m},
                                      {"tags", T_STRMAP, false, NULL},
                                      {"target", T_STR, false, NULL},
                                      {"routeKey", T_STR, false, NULL},
                                      {"credentialsArn", T_STR, false, NULL},
                                      END};
static const struct member param_m[] = {{"required", T_BOOL, false, NULL}, END};
static const struct member route_m[] = {{"routeKey", T_STR, true, NULL},
                                        {"target", T_STR, false, NULL},
                                        {"authorizationType", T_STR, false, NULL},
                                        {"authorizerId", T_STR, false, NULL},
                                        {"authorizationScopes", T_STRLIST, false, NULL},
                                        {"apiKeyRequired", T_BOOL, false, NULL},
                                        {"operationName", T_STR, false, NULL},
                                        {"requestModels", T_STRMAP, false, NULL},
                                        {"requestParameters", T_OBJMAP, false, param_m},
                                        {"modelSelectionExpression", T_STR, false, NULL},
                                        {"routeResponseSelectionExpression", T_STR, false, NULL},
                                        END};
static const struct member tls_m[] = {{"serverNameToVerify", T_STR, false, NULL}, END};
static const struct member integ_m[] = {{"integrationType", T_STR, true, NULL},
                                        {"integrationUri", T_STR, false, NULL},
                                        {"integrationMethod", T_STR, false, NULL},
                                        {"integrationSubtype", T_STR, false, NULL},
                                        {"payloadFormatVersion", T_STR, false, NULL},
                                        {"timeoutInMillis", T_INT, false, NULL},
                                        {"connectionType", T_STR, false, NULL},
                                        {"connectionId", T_STR, false, NULL},
                                        {"credentialsArn", T_STR, false, NULL},
                                        {"description", T_STR, false, NULL},
                                        {"requestParameters", T_STRMAP, false, NULL},
                                        {"responseParameters", T_MAPMAP, false, NULL},
                                        {"requestTemplates", T_STRMAP, false, NULL},
                                        {"templateSelectionExpression", T_STR, false, NULL},
                                        {"passthroughBehavior", T_STR, false, NULL},
                                        {"contentHandlingStrategy", T_STR, false, NULL},
                                        {"tlsConfig", T_OBJ, false, tls_m},
                                        END};
static const struct member rs_m[] = {
    {"dataTraceEnabled", T_BOOL, false, NULL},   {"detailedMetricsEnabled", T_BOOL, false, NULL},
    {"loggingLevel", T_STR, false, NULL},        {"throttlingBurstLimit", T_INT, false, NULL},
    {"throttlingRateLimit", T_NUM, false, NULL}, END};
static const struct member als_m[] = {
    {"destinationArn", T_STR, false, NULL}, {"format", T_STR, false, NULL}, END};
static const struct member stage_m[] = {{"stageName", T_STR, true, NULL},
                                        {"autoDeploy", T_BOOL, false, NULL},
                                        {"deploymentId", T_STR, false, NULL},
                                        {"description", T_STR, false, NULL},
                                        {"stageVariables", T_STRMAP, false, NULL},
                                        {"defaultRouteSettings", T_OBJ, false, rs_m},
                                        {"routeSettings", T_OBJMAP, false, rs_m},
                                        {"accessLogSettings", T_OBJ, false, als_m},
                                        {"clientCertificateId", T_STR, false, NULL},
                                        {"tags", T_STRMAP, false, NULL},
                                        END};
static const struct member jwt_m[] = {
    {"audience", T_STRLIST, false, NULL}, {"issuer", T_STR, false, NULL}, END};
static const struct member auth_m[] = {{"authorizerType", T_STR, true, NULL},
                                       {"name", T_STR, true, NULL},
                                       {"identitySource", T_STRLIST, true, NULL},
                                       {"jwtConfiguration", T_OBJ, false, jwt_m},
                                       {"authorizerUri", T_STR, false, NULL},
                                       {"authorizerPayloadFormatVersion", T_STR, false, NULL},
                                       {"authorizerResultTtlInSeconds", T_INT, false, NULL},
                                       {"enableSimpleResponses", T_BOOL, false, NULL},
                                       {"authorizerCredentialsArn", T_STR, false, NULL},
                                       {"identityValidationExpression", T_STR, false, NULL},
                                       END};
static const struct member deploy_m[] = {
    {"description", T_STR, false, NULL}, {"stageName", T_STR, false, NULL}, END};

static const struct member *const members_of[APIGW_KIND_COUNT] = {api_m,   route_m, integ_m,
                                                                  stage_m, auth_m,  deploy_m};

static bool type_ok(const json_t *v, enum mtype t, const struct member *sub, char *why,
                    size_t whylen, const char *path);

static bool all_of(const json_t *v, bool (*pred)(const json_t *))
{
    size_t i;
    const char *k;
    json_t *e;
    if (json_is_array(v)) {
        json_array_foreach((json_t *)v, i, e) if (!pred(e)) return false;
        return true;
    }
    json_object_foreach((json_t *)v, k, e) if (!pred(e)) return false;
    return true;
}

static bool is_string(const json_t *v)
{
    return json_is_string(v);
}

static bool is_string_map(const json_t *v)
{
    return json_is_object(v) && all_of(v, is_string);
}

/* Copies the known members of in into a new object, checking their types; NULL with why. */
static json_t *clean(const json_t *in, const struct member *m, bool create, char *why,
                     size_t whylen, const char *path)
{
    if (!json_is_object(in)) {
        snprintf(why, whylen, "Invalid request body: %s must be an object", path);
        return NULL;
    }
    json_t *out = json_object();
    for (; m->name != NULL; m++) {
        json_t *v = json_object_get(in, m->name);
        if (v == NULL || json_is_null(v)) {
            if (create && m->required) {
                snprintf(why, whylen, "%c%s is required", m->name[0] - 32, m->name + 1);
                json_decref(out);
                return NULL;
            }
            continue;
        }
        char sub[160];
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", m->name);
        if (!type_ok(v, m->type, m->sub, why, whylen, sub)) {
            json_decref(out);
            return NULL;
        }
        json_t *copy = NULL;
        if (m->type == T_OBJ) {
            copy = clean(v, m->sub, false, why, whylen, sub);
        } else if (m->type == T_OBJMAP) {
            copy = json_object();
            const char *k;
            json_t *e;
            json_object_foreach(v, k, e)
            {
                json_t *c = clean(e, m->sub, false, why, whylen, sub);
                if (c == NULL) {
                    json_decref(copy);
                    copy = NULL;
                    break;
                }
                json_object_set_new(copy, k, c);
            }
        } else {
            copy = json_deep_copy(v);
        }
        if (copy == NULL) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, m->name, copy);
    }
    return out;
}

static bool type_ok(const json_t *v, enum mtype t, const struct member *sub, char *why,
                    size_t whylen, const char *path)
{
    (void)sub;
    static const char *const names[] = {"a string",  "a boolean",         "an integer",
                                        "a number",  "a list of strings", "a map of strings",
                                        "an object", "a map of objects",  "a map of string maps"};
    bool ok;
    switch (t) {
    case T_STR:
        ok = json_is_string(v);
        break;
    case T_BOOL:
        ok = json_is_boolean(v);
        break;
    case T_INT:
        ok = json_is_integer(v);
        break;
    case T_NUM:
        ok = json_is_number(v);
        break;
    case T_STRLIST:
        ok = json_is_array(v) && all_of(v, is_string);
        break;
    case T_STRMAP:
        ok = is_string_map(v);
        break;
    case T_OBJ:
        ok = json_is_object(v);
        break;
    case T_OBJMAP:
        ok = json_is_object(v);
        break;
    case T_MAPMAP:
        ok = json_is_object(v) && all_of(v, is_string_map);
        break;
    default:
        ok = false;
    }
    if (!ok)
        snprintf(why, whylen, "Invalid request body: %s must be %s", path, names[t]);
    return ok;
}

/* ---- the route table ---- */

enum op {
    OP_CREATE,
    OP_LIST,
    OP_GET,
    OP_UPDATE,
    OP_DELETE,
    OP_DELETE_CORS,
    OP_DELETE_ACCESS_LOG,
    OP_DELETE_ROUTE_SETTINGS,
    OP_RESET_AUTH_CACHE,
    OP_GET_TAGS,
    OP_TAG,
    OP_UNTAG,
};

/* A path shape: segments after /v2/, '*' captures one (decoded). */
struct mroute {
    const char *method;
    const char *shape;
    enum op op;
    enum apigw_kind kind;
};

static const struct mroute mroutes[] = {
    {"POST", "apis", OP_CREATE, APIGW_KIND_API},
    {"GET", "apis", OP_LIST, APIGW_KIND_API},
    {"GET", "apis/*", OP_GET, APIGW_KIND_API},
    {"PATCH", "apis/*", OP_UPDATE, APIGW_KIND_API},
    {"DELETE", "apis/*", OP_DELETE, APIGW_KIND_API},
    {"DELETE", "apis/*/cors", OP_DELETE_CORS, APIGW_KIND_API},
    {"POST", "apis/*/routes", OP_CREATE, APIGW_KIND_ROUTE},
    {"GET", "apis/*/routes", OP_LIST, APIGW_KIND_ROUTE},
    {"GET", "apis/*/routes/*", OP_GET, APIGW_KIND_ROUTE},
    {"PATCH", "apis/*/routes/*", OP_UPDATE, APIGW_KIND_ROUTE},
    {"DELETE", "apis/*/routes/*", OP_DELETE, APIGW_KIND_ROUTE},
    {"POST", "apis/*/integrations", OP_CREATE, APIGW_KIND_INTEGRATION},
    {"GET", "apis/*/integrations", OP_LIST, APIGW_KIND_INTEGRATION},
    {"GET", "apis/*/integrations/*", OP_GET, APIGW_KIND_INTEGRATION},
    {"PATCH", "apis/*/integrations/*", OP_UPDATE, APIGW_KIND_INTEGRATION},
    {"DELETE", "apis/*/integrations/*", OP_DELETE, APIGW_KIND_INTEGRATION},
    {"POST", "apis/*/stages", OP_CREATE, APIGW_KIND_STAGE},
    {"GET", "apis/*/stages", OP_LIST, APIGW_KIND_STAGE},
    {"GET", "apis/*/stages/*", OP_GET, APIGW_KIND_STAGE},
    {"PATCH", "apis/*/stages/*", OP_UPDATE, APIGW_KIND_STAGE},
    {"DELETE", "apis/*/stages/*", OP_DELETE, APIGW_KIND_STAGE},
    {"DELETE", "apis/*/stages/*/accesslogsettings", OP_DELETE_ACCESS_LOG, APIGW_KIND_STAGE},
    {"DELETE", "apis/*/stages/*/routesettings/*", OP_DELETE_ROUTE_SETTINGS, APIGW_KIND_STAGE},
    {"DELETE", "apis/*/stages/*/cache/authorizers", OP_RESET_AUTH_CACHE, APIGW_KIND_STAGE},
    {"POST", "apis/*/authorizers", OP_CREATE, APIGW_KIND_AUTHORIZER},
    {"GET", "apis/*/authorizers", OP_LIST, APIGW_KIND_AUTHORIZER},
    {"GET", "apis/*/authorizers/*", OP_GET, APIGW_KIND_AUTHORIZER},
    {"PATCH", "apis/*/authorizers/*", OP_UPDATE, APIGW_KIND_AUTHORIZER},
    {"DELETE", "apis/*/authorizers/*", OP_DELETE, APIGW_KIND_AUTHORIZER},
    {"POST", "apis/*/deployments", OP_CREATE, APIGW_KIND_DEPLOYMENT},
    {"GET", "apis/*/deployments", OP_LIST, APIGW_KIND_DEPLOYMENT},
    {"GET", "apis/*/deployments/*", OP_GET, APIGW_KIND_DEPLOYMENT},
    {"DELETE", "apis/*/deployments/*", OP_DELETE, APIGW_KIND_DEPLOYMENT},
    {"GET", "tags/*", OP_GET_TAGS, APIGW_KIND_API},
    {"POST", "tags/*", OP_TAG, APIGW_KIND_API},
    {"DELETE", "tags/*", OP_UNTAG, APIGW_KIND_API},
};

enum { MAX_SEGS = 8, SEG_MAX = 1024 };

struct segs {
    size_t n;
    char v[MAX_SEGS][SEG_MAX]; /* decoded */
};

/* Splits the path after /v2/ into decoded segments; a tags ARN is one segment however many
 * '/' it holds. false when it does not decode or has too many segments. */
static bool split(const char *p, size_t len, struct segs *s)
{
    s->n = 0;
    size_t i = 4; /* "/v2/" */
    bool tags = len >= 9 && memcmp(p, "/v2/tags/", 9) == 0;
    while (i <= len && s->n < MAX_SEGS) {
        size_t end = i;
        while (end < len && (p[end] != '/' || (tags && s->n == 1)))
            end++;
        if (url_decode(p + i, end - i, 0, s->v[s->n], SEG_MAX) < 0)
            return false;
        s->n++;
        if (end >= len)
            return true;
        i = end + 1;
    }
    return false;
}

/* Matches shape against the segments, copying the captures into caps. */
static bool shape_match(const char *shape, const struct segs *s, const char *caps[3])
{
    size_t k = 0, nc = 0;
    const char *p = shape;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (k >= s->n)
            return false;
        if (l == 1 && p[0] == '*') {
            if (s->v[k][0] == '\0' || nc >= 3)
                return false;
            caps[nc++] = s->v[k];
        } else if (strlen(s->v[k]) != l || memcmp(s->v[k], p, l) != 0) {
            return false;
        }
        k++;
        p += l + (slash ? 1 : 0);
    }
    return k == s->n;
}

/* ---- answers ---- */

static void send_doc(struct proto_req *r, int status, const json_t *doc)
{
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    if (doc != NULL)
        jsonh_dump_buf(doc, JSON_COMPACT, &b);
    else
        buf_puts(&b, "{}");
    proto_ok(r, status, b.data, b.len);
    buf_destroy(&b);
}

/* A command in flight: the request (NULL once the client went away) and how it answers. */
struct call {
    struct proto_req *r;
    int status; /* of success */
    bool empty; /* answered without a body */
};

static void call_gone(void *arg)
{
    ((struct call *)arg)->r = NULL;
}

static void call_done(void *arg, enum err e, const char *msg, const json_t *doc)
{
    struct call *c = arg;
    if (c->r != NULL) {
        proto_on_gone(c->r, NULL, NULL);
        if (e != ERR_OK)
            proto_error(c->r, e, msg);
        else if (c->empty) /* 204, or TagResource's 201 with an empty structure */
            proto_ok(c->r, c->status, c->status == 204 ? "" : "{}", c->status == 204 ? 0 : 2);
        else
            send_doc(c->r, c->status, doc);
    }
    free(c);
}

static struct call *call_new(struct proto_req *r, int status, bool empty)
{
    struct call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        proto_error(r, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->r = r;
    c->status = status;
    c->empty = empty;
    proto_on_gone(r, call_gone, c);
    return c;
}

/* The body, parsed and cleaned for a kind; NULL after answering 400. */
static json_t *body_of(struct proto_req *r, enum apigw_kind kind, bool create)
{
    char why[512], perr[200];
    json_t *doc =
        r->body_len ? jsonh_parse(r->body, r->body_len, perr, sizeof perr) : json_object();
    if (doc == NULL) {
        proto_errorf(r, ERR_APIGW_BAD_REQUEST, "Invalid request body: %s", perr);
        return NULL;
    }
    json_t *c = clean(doc, members_of[kind], create, why, sizeof why, "");
    json_decref(doc);
    if (c == NULL)
        proto_error(r, ERR_APIGW_BAD_REQUEST, why);
    return c;
}

static void handle(void *engine, struct proto_req *r)
{
    struct apigw *gw = engine;
    static struct segs s; /* loop thread only: one request at a time is parsed */
    const char *caps[3] = {NULL, NULL, NULL};
    const struct mroute *hit = NULL;
    bool path_known = false;
    if (r->path_len >= 4 && memcmp(r->path, "/v2/", 4) == 0 && split(r->path, r->path_len, &s)) {
        for (size_t i = 0; i < sizeof mroutes / sizeof mroutes[0]; i++) {
            if (!shape_match(mroutes[i].shape, &s, caps))
                continue;
            path_known = true;
            if (proto_method_is(r, mroutes[i].method)) {
                hit = &mroutes[i];
                break;
            }
        }
    }
    if (hit == NULL) {
        if (path_known)
            proto_error_status(r, ERR_APIGW_BAD_REQUEST, 405, "Method Not Allowed");
        else
            proto_error(r, ERR_APIGW_NOT_FOUND, "Invalid resource path");
        return;
    }
    enum apigw_kind kind = hit->kind;
    const char *api = caps[0], *id = caps[1];
    char msg[1024];
    json_t *doc = NULL, *t = NULL;
    struct call *c;
    enum err e;
    switch (hit->op) {
    case OP_CREATE:
        if ((doc = body_of(r, kind, true)) != NULL && (c = call_new(r, 201, false)) != NULL)
            apigw_create(gw, kind, api, doc, call_done, c);
        break;
    case OP_UPDATE:
        if ((doc = body_of(r, kind, false)) != NULL && (c = call_new(r, 200, false)) != NULL)
            apigw_update(gw, kind, api, kind == APIGW_KIND_API ? api : id, doc, call_done, c);
        break;
    case OP_DELETE:
        if ((c = call_new(r, 204, true)) != NULL)
            apigw_delete(gw, kind, api, kind == APIGW_KIND_API ? api : id, call_done, c);
        break;
    case OP_GET:
        e = apigw_get(gw, kind, api, kind == APIGW_KIND_API ? api : id, &doc, msg, sizeof msg);
        if (e != ERR_OK)
            proto_error(r, e, msg);
        else
            send_doc(r, 200, doc);
        break;
    case OP_LIST:
        e = apigw_list(gw, kind, api, &t, msg, sizeof msg);
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            doc = json_pack("{s:O}", "items", t);
            send_doc(r, 200, doc);
        }
        break;
    case OP_DELETE_CORS:
    case OP_DELETE_ACCESS_LOG:
    case OP_DELETE_ROUTE_SETTINGS:
    case OP_RESET_AUTH_CACHE: {
        static const enum apigw_part parts[] = {
            [OP_DELETE_CORS] = APIGW_PART_CORS,
            [OP_DELETE_ACCESS_LOG] = APIGW_PART_ACCESS_LOG,
            [OP_DELETE_ROUTE_SETTINGS] = APIGW_PART_ROUTE_SETTINGS,
            [OP_RESET_AUTH_CACHE] = APIGW_PART_AUTH_CACHE,
        };
        if ((c = call_new(r, 204, true)) != NULL)
            apigw_delete_part(gw, parts[hit->op], api, id, caps[2], call_done, c);
        break;
    }
    case OP_GET_TAGS:
        e = apigw_tags_get(gw, caps[0], &t, msg, sizeof msg);
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            doc = json_pack("{s:O}", "tags", t);
            send_doc(r, 200, doc);
        }
        break;
    case OP_TAG: {
        char perr[200];
        json_t *body = jsonh_parse(r->body, r->body_len, perr, sizeof perr);
        json_t *tags = json_object_get(body, "tags");
        if (tags != NULL && !is_string_map(tags))
            proto_error(r, ERR_APIGW_BAD_REQUEST,
                        "Invalid request body: tags must be a map of "
                        "strings");
        else if ((c = call_new(r, 201, true)) != NULL)
            apigw_tags_change(gw, caps[0], tags, NULL, call_done, c);
        json_decref(body);
        break;
    }
    case OP_UNTAG:
        t = proto_query_all(r, "tagKeys");
        if ((c = call_new(r, 204, true)) != NULL)
            apigw_tags_change(gw, caps[0], NULL, t, call_done, c);
        break;
    }
    json_decref(doc);
    json_decref(t);
}

static const char *const paths[] = {"/v2/apis", "/v2/tags/", NULL};

void apigw_rest_service(struct apigw *gw, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "apigatewayv2",
        .sign_as = "apigateway",
        .protocol = PROTO_REST_JSON,
        .paths = paths,
        .max_body = 6 * 1024 * 1024,
        .handle = handle,
        .engine = gw,
    };
}
