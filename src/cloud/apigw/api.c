/*
 * api.c — the HTTP API resources (see apigw.h): the commands of the management API, their
 * semantic checks, AutoDeploy, and persistence.
 *
 * Every resource is one row of apigw_resources (api, kind, id, doc) holding its wire document.
 * A command snapshots the API, applies its change in memory (validated first, so applying
 * cannot fail but for memory), redeploys AutoDeploy stages, and commits the rows that differ
 * from the snapshot in one batch; a failed commit puts the snapshot back. Commands complete
 * through a struct mop whose callback always runs later (a timer or the store's completion).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/apigw/accesslog.h"
#include "cloud/apigw/apigw_int.h"
#include "cloud/lambda/lambda.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timer.h"

static const char *const kind_names[APIGW_KIND_COUNT] = {"API",   "Route",      "Integration",
                                                         "Stage", "Authorizer", "Deployment"};
/* The member holding a resource's id in its document. */
static const char *const id_members[APIGW_KIND_COUNT] = {
    "apiId", "routeId", "integrationId", "stageName", "authorizerId", "deploymentId"};
/* Length of generated ids (AWS: 10 for APIs, 7 for routes and integrations, 6 others). */
static const int id_lengths[APIGW_KIND_COUNT] = {10, 7, 7, 0, 6, 6};

/* ---- schema ---- */

static const char *const schema_steps[] = {
    "CREATE TABLE IF NOT EXISTS apigw_resources (api TEXT NOT NULL, kind INTEGER NOT NULL,"
    " id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (api, kind, id)) WITHOUT ROWID;",
};
static const struct store_schema schema = {"apigw", schema_steps, 1};

/* ---- small helpers ---- */

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

static void random_id(char *out, int n)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char r[16];
    ids_random(r, (size_t)n);
    for (int i = 0; i < n; i++)
        out[i] = alnum[r[i] % 36];
    out[n] = '\0';
}

static void now_iso(char out[32])
{
    if (clock_format_iso(clock_now_ms(), false, out, 32) < 0)
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static const char *doc_str(const json_t *doc, const char *key)
{
    return jsonh_str(doc, key, NULL);
}

struct api *apigw__api_find(struct apigw *gw, const char *id, size_t len)
{
    for (struct api *a = gw->apis; a; a = a->next)
        if (strlen(a->id) == len && memcmp(a->id, id, len) == 0)
            return a;
    return NULL;
}

static struct res *kid_find(const struct api *a, enum apigw_kind kind, const char *id)
{
    for (struct res *r = a->kids; r; r = r->next)
        if (r->kind == kind && strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

static void res_free(struct res *r)
{
    if (r == NULL)
        return;
    json_decref(r->doc);
    apigw_throttle_free(r->thr);
    apigw__stage_release(r->rt);
    apigw__deploy_release(r->drt);
    free(r);
}

static struct res *res_new(enum apigw_kind kind, const char *id, json_t *doc)
{
    struct res *r = calloc(1, sizeof *r);
    if (r == NULL) {
        json_decref(doc);
        return NULL;
    }
    r->kind = kind;
    snprintf(r->id, sizeof r->id, "%s", id);
    r->doc = doc;
    return r;
}

/* Appends r to the API's resources (creation order). */
static void kid_add(struct api *a, struct res *r)
{
    struct res **pp = &a->kids;
    while (*pp)
        pp = &(*pp)->next;
    r->next = NULL;
    *pp = r;
}

static void kid_remove(struct api *a, struct res *r)
{
    struct res **pp = &a->kids;
    while (*pp && *pp != r)
        pp = &(*pp)->next;
    if (*pp)
        *pp = r->next;
    res_free(r);
}

static void api_clear(struct api *a)
{
    while (a->kids) {
        struct res *r = a->kids;
        a->kids = r->next;
        res_free(r);
    }
    free(a->stage_names);
    free(a->stages);
    a->stage_names = NULL;
    a->stages = NULL;
    a->nstages = 0;
    a->dflt = NULL;
}

static void api_free(struct api *a)
{
    if (a == NULL)
        return;
    api_clear(a);
    json_decref(a->doc);
    free(a);
}

static void api_unlink(struct apigw *gw, struct api *a)
{
    struct api **pp = &gw->apis;
    while (*pp && *pp != a)
        pp = &(*pp)->next;
    if (*pp)
        *pp = a->next;
    if (gw->env == a)
        gw->env = NULL;
}

/* A copy of a document without its private ('_') members: what the API shows. */
static json_t *public_doc(const json_t *doc)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)doc, k, v) if (k[0] != '_') json_object_set(out, k, v);
    return out;
}

static void api_endpoint(const struct apigw *gw, const char *id, char *out, size_t len);

/* An API's public document; its endpoint is this run's (the API port may change between
 * runs). */
static json_t *public_api(const struct apigw *gw, const struct api *a)
{
    char ep[128];
    json_t *doc = public_doc(a->doc);
    api_endpoint(gw, a->id, ep, sizeof ep);
    json_object_set_new(doc, "apiEndpoint", json_string(ep));
    return doc;
}

static void not_found_msg(struct apigw *gw, enum apigw_kind kind, const char *id, char *msg,
                          size_t msglen)
{
    if (kind == APIGW_KIND_STAGE)
        set_msg(msg, msglen, "Invalid stage identifier specified");
    else
        set_msg(msg, msglen, "Invalid %s identifier specified %s:%s", kind_names[kind], gw->account,
                id);
}

/* ---- snapshots: the undo of a command ---- */

/* {"api": doc, "kids": [[kind, id, doc], ...]} with every document copied. */
static json_t *snapshot(const struct api *a)
{
    json_t *kids = json_array();
    for (const struct res *r = a->kids; r; r = r->next)
        json_array_append_new(kids,
                              json_pack("[i, s, o]", (int)r->kind, r->id, json_deep_copy(r->doc)));
    return json_pack("{s:o, s:o}", "api", json_deep_copy(a->doc), "kids", kids);
}

static int rebuild_all(struct apigw *gw, struct api *a)
{
    int rc = 0;
    for (struct res *r = a->kids; r; r = r->next)
        if (r->kind == APIGW_KIND_STAGE && apigw__stage_rebuild(gw, a, r) != 0)
            rc = -1;
    if (apigw__stages_index(a) != 0)
        rc = -1;
    return rc;
}

/* Puts the API back as the snapshot holds it. */
static void restore_snapshot(struct apigw *gw, struct api *a, const json_t *snap)
{
    api_clear(a);
    json_decref(a->doc);
    a->doc = json_deep_copy(json_object_get(snap, "api"));
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(snap, "kids"), i, k)
    {
        struct res *r =
            res_new((enum apigw_kind)json_integer_value(json_array_get(k, 0)),
                    json_string_value(json_array_get(k, 1)), json_deep_copy(json_array_get(k, 2)));
        if (r != NULL)
            kid_add(a, r);
    }
    rebuild_all(gw, a);
}

/* ---- commands ---- */

struct mop {
    struct apigw *gw;
    apigw_done_fn done;
    void *arg;
    enum err err;
    char msg[1024];
    json_t *result; /* what done shows (public form) */
    json_t *before; /* the API before the change; NULL when the command created it */
    char api_id[16];
    struct api *gone; /* a deleted API, kept until its deletion is committed */
    struct timer t;
};

static void mop_finish(struct mop *op)
{
    if (op->done)
        op->done(op->arg, op->err, op->err == ERR_OK ? NULL : op->msg,
                 op->err == ERR_OK ? op->result : NULL);
    json_decref(op->result);
    json_decref(op->before);
    api_free(op->gone);
    timer_destroy(&op->t);
    free(op);
}

static void mop_timer(struct timer *t)
{
    mop_finish(t->data);
}

/* The caller's answer when not even an op can be allocated. */
struct nomem {
    struct timer t;
    apigw_done_fn done;
    void *arg;
};

static void nomem_timer(struct timer *t)
{
    struct nomem *n = t->data;
    n->done(n->arg, ERR_INTERNAL, "out of memory", NULL);
    timer_destroy(&n->t);
    free(n);
}

static struct mop *mop_new(struct apigw *gw, apigw_done_fn done, void *arg)
{
    struct mop *op = calloc(1, sizeof *op);
    if (op == NULL || timer_init(&op->t, TIMER_REAL, mop_timer, op) != 0) {
        free(op);
        struct nomem *n = calloc(1, sizeof *n);
        if (n == NULL || timer_init(&n->t, TIMER_REAL, nomem_timer, n) != 0) {
            free(n);
            LOG_ERROR("apigw", NULL, "out of memory: a command is lost");
            return NULL;
        }
        n->done = done;
        n->arg = arg;
        timer_start(&n->t, 0);
        return NULL;
    }
    op->gw = gw;
    op->done = done;
    op->arg = arg;
    return op;
}

/* Completes now-decided commands later, as every completion is. */
static void mop_complete(struct mop *op, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void mop_complete(struct mop *op, enum err e, const char *fmt, ...)
{
    op->err = e;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(op->msg, sizeof op->msg, fmt, ap);
        va_end(ap);
    }
    timer_start(&op->t, 0);
}

static void mop_committed(void *arg, int rc)
{
    struct mop *op = arg;
    if (rc != 0) {
        LOG_ERROR("store", NULL, "apigw: cannot commit a change of API %s; undone", op->api_id);
        struct apigw *gw = op->gw;
        if (op->gone != NULL) { /* the deletion: the API comes back */
            op->gone->next = gw->apis;
            gw->apis = op->gone;
            op->gone = NULL;
        } else {
            struct api *a = apigw__api_find(gw, op->api_id, strlen(op->api_id));
            if (a != NULL && op->before != NULL) {
                restore_snapshot(gw, a, op->before);
            } else if (a != NULL) { /* a creation: it goes */
                api_unlink(gw, a);
                api_free(a);
            }
        }
        op->err = ERR_INTERNAL;
        snprintf(op->msg, sizeof op->msg, "The change could not be stored");
    }
    mop_finish(op);
}

static json_t *find_snap_kid(const json_t *snap, int kind, const char *id)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(snap, "kids"), i, k)
    {
        if (json_integer_value(json_array_get(k, 0)) == kind &&
            strcmp(json_string_value(json_array_get(k, 1)), id) == 0)
            return json_array_get(k, 2);
    }
    return NULL;
}

static int batch_put(struct apigw *gw, struct store_batch *b, const char *api, int kind,
                     const char *id, const json_t *doc)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    if (s == NULL)
        return -1;
    struct store_val v[4] = {store_text(api), store_int(kind), store_text(id), store_text(s)};
    int rc = store_batch_add(b, gw->st_put, v, 4);
    free(s);
    return rc;
}

/* Commits what differs between op->before and the API as it now is (the whole API when
 * op->before is NULL; its deletion when op->gone is set). */
static void mop_commit(struct mop *op, struct api *a)
{
    struct apigw *gw = op->gw;
    if (gw->store == NULL || (a != NULL && a->managed) || (op->gone && op->gone->managed)) {
        mop_complete(op, ERR_OK, NULL);
        return;
    }
    struct store_batch *b = store_batch_new(gw->store);
    int rc = b ? 0 : -1;
    if (op->gone != NULL) {
        struct store_val v = store_text(op->gone->id);
        rc = store_batch_add(b, gw->st_del_api, &v, 1);
    } else {
        const json_t *snap = op->before;
        if (snap == NULL || !json_equal(json_object_get(snap, "api"), a->doc))
            rc |= batch_put(gw, b, a->id, APIGW_KIND_API, a->id, a->doc);
        for (struct res *r = a->kids; r && rc == 0; r = r->next) {
            json_t *old = snap ? find_snap_kid(snap, (int)r->kind, r->id) : NULL;
            if (old == NULL || !json_equal(old, r->doc))
                rc |= batch_put(gw, b, a->id, (int)r->kind, r->id, r->doc);
        }
        size_t i;
        json_t *k;
        json_array_foreach(json_object_get(snap, "kids"), i, k)
        {
            int kind = (int)json_integer_value(json_array_get(k, 0));
            const char *id = json_string_value(json_array_get(k, 1));
            if (kid_find(a, (enum apigw_kind)kind, id) != NULL)
                continue;
            struct store_val v[3] = {store_text(a->id), store_int(kind), store_text(id)};
            rc |= store_batch_add(b, gw->st_del, v, 3);
        }
    }
    if (rc != 0) {
        store_batch_discard(b);
        b = NULL;
    }
    store_batch_submit(gw->store, b, mop_committed, op);
}

/* ---- deployments ---- */

static json_t *deployment_snapshot(const struct api *a)
{
    json_t *routes = json_array(), *integs = json_array(), *auths = json_array();
    for (const struct res *r = a->kids; r; r = r->next) {
        json_t *dst = r->kind == APIGW_KIND_ROUTE         ? routes
                      : r->kind == APIGW_KIND_INTEGRATION ? integs
                      : r->kind == APIGW_KIND_AUTHORIZER  ? auths
                                                          : NULL;
        if (dst != NULL)
            json_array_append_new(dst, json_deep_copy(r->doc));
    }
    return json_pack("{s:o, s:o, s:o}", "routes", routes, "integrations", integs, "authorizers",
                     auths);
}

static char *unique_id(const struct api *a, enum apigw_kind kind, char *out)
{
    do
        random_id(out, id_lengths[kind]);
    while (kid_find(a, kind, out) != NULL);
    return out;
}

/* A new deployment of the API as it is now. NULL when out of memory. */
static struct res *deploy_new(struct api *a, const char *description, bool automatic)
{
    char id[16], when[32];
    unique_id(a, APIGW_KIND_DEPLOYMENT, id);
    now_iso(when);
    json_t *doc = json_pack("{s:b, s:s, s:s, s:s, s:o}", "autoDeployed", automatic, "createdDate",
                            when, "deploymentId", id, "deploymentStatus", "DEPLOYED", "_snapshot",
                            deployment_snapshot(a));
    if (doc != NULL && description != NULL)
        json_object_set_new(doc, "description", json_string(description));
    struct res *r = doc ? res_new(APIGW_KIND_DEPLOYMENT, id, doc) : NULL;
    if (r != NULL)
        kid_add(a, r);
    return r;
}

static bool deployment_used(const struct api *a, const char *id)
{
    for (const struct res *r = a->kids; r; r = r->next)
        if (r->kind == APIGW_KIND_STAGE && strcmp(jsonh_str(r->doc, "deploymentId", ""), id) == 0)
            return true;
    return false;
}

/* Points stage at deployment d. */
static void stage_point(struct res *stage, const struct res *d)
{
    char when[32], m[256];
    now_iso(when);
    json_object_set_new(stage->doc, "deploymentId", json_string(d->id));
    json_object_set_new(stage->doc, "lastUpdatedDate", json_string(when));
    if (json_is_true(json_object_get(stage->doc, "autoDeploy"))) {
        snprintf(m, sizeof m, "Successfully deployed stage with deployment ID '%s'", d->id);
        json_object_set_new(stage->doc, "lastDeploymentStatusMessage", json_string(m));
    }
}

/* Drops the automatic deployments no stage uses any more. */
static void prune_deployments(struct api *a)
{
    struct res *r = a->kids;
    while (r) {
        struct res *n = r->next;
        if (r->kind == APIGW_KIND_DEPLOYMENT &&
            json_is_true(json_object_get(r->doc, "autoDeployed")) && !deployment_used(a, r->id))
            kid_remove(a, r);
        r = n;
    }
}

/* After a change of routes, integrations or authorizers: a new deployment for the AutoDeploy
 * stages (or only for `only`, a stage that just turned AutoDeploy on). */
static void auto_deploy(struct api *a, struct res *only)
{
    struct res *d = NULL;
    for (struct res *r = a->kids; r; r = r->next) {
        if (r->kind != APIGW_KIND_STAGE || !json_is_true(json_object_get(r->doc, "autoDeploy")))
            continue;
        if (only != NULL && r != only)
            continue;
        if (d == NULL && (d = deploy_new(a, NULL, true)) == NULL)
            return;
        stage_point(r, d);
    }
    prune_deployments(a);
}

/* ---- semantic checks per kind ---- */

static bool valid_stage_name(const char *s)
{
    if (strcmp(s, "$default") == 0)
        return true;
    size_t n = strlen(s);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool is_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

/* A route's target "integrations/<id>" names an integration of the API. */
static enum err check_target(const struct api *a, const json_t *doc, char *msg, size_t msglen)
{
    const char *t = doc_str(doc, "target");
    if (t == NULL)
        return ERR_OK;
    if (strncmp(t, "integrations/", 13) != 0 ||
        kid_find(a, APIGW_KIND_INTEGRATION, t + 13) == NULL) {
        set_msg(msg, msglen,
                "Invalid target: %s. Target must be of the form "
                "integrations/<IntegrationId> naming an integration of this API",
                t);
        return ERR_APIGW_BAD_REQUEST;
    }
    return ERR_OK;
}

static enum err check_route(const struct api *a, const struct res *self, json_t *doc, char *msg,
                            size_t msglen)
{
    const char *key = doc_str(doc, "routeKey");
    if (key == NULL) {
        set_msg(msg, msglen, "RouteKey is required");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (apigw_route_key_validate(key, strlen(key), msg, msglen) != APIGW_OK)
        return ERR_APIGW_BAD_REQUEST;
    for (const struct res *r = a->kids; r; r = r->next)
        if (r != self && r->kind == APIGW_KIND_ROUTE &&
            strcmp(jsonh_str(r->doc, "routeKey", ""), key) == 0) {
            set_msg(msg, msglen, "Route with key %s already exists for this API", key);
            return ERR_APIGW_CONFLICT;
        }
    enum err e = check_target(a, doc, msg, msglen);
    if (e != ERR_OK)
        return e;
    static const char *const types[] = {"NONE", "JWT", "AWS_IAM", "CUSTOM", NULL};
    const char *type = jsonh_str(doc, "authorizationType", "NONE");
    if (!is_one_of(type, types)) {
        set_msg(msg, msglen,
                "Invalid authorization type: %s. Valid values are NONE, JWT, "
                "AWS_IAM and CUSTOM",
                type);
        return ERR_APIGW_BAD_REQUEST;
    }
    const char *aid = doc_str(doc, "authorizerId");
    bool needs = strcmp(type, "JWT") == 0 || strcmp(type, "CUSTOM") == 0;
    const struct res *au = aid ? kid_find(a, APIGW_KIND_AUTHORIZER, aid) : NULL;
    if (needs && au == NULL) {
        set_msg(msg, msglen,
                aid ? "Invalid authorizer identifier specified %s"
                    : "AuthorizerId is required for authorization type %s",
                aid ? aid : type);
        return ERR_APIGW_BAD_REQUEST;
    }
    if (needs && strcmp(jsonh_str(au->doc, "authorizerType", ""),
                        strcmp(type, "JWT") == 0 ? "JWT" : "REQUEST") != 0) {
        set_msg(msg, msglen, "Authorizer %s is not of a type authorization type %s can use", aid,
                type);
        return ERR_APIGW_BAD_REQUEST;
    }
    if (!needs && aid != NULL) {
        /* AWS keeps no authorizer on a route without one */
        json_object_del(doc, "authorizerId");
    }
    if (json_array_size(json_object_get(doc, "authorizationScopes")) > 0 &&
        strcmp(type, "JWT") != 0) {
        set_msg(msg, msglen, "AuthorizationScopes are supported only for JWT authorizers");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (json_object_get(doc, "authorizationType") == NULL)
        json_object_set_new(doc, "authorizationType", json_string("NONE"));
    if (json_object_get(doc, "apiKeyRequired") == NULL)
        json_object_set_new(doc, "apiKeyRequired", json_false());
    return ERR_OK;
}

static enum err check_integration(json_t *doc, char *msg, size_t msglen)
{
    static const char *const types[] = {"AWS_PROXY", "HTTP_PROXY", NULL};
    const char *type = doc_str(doc, "integrationType");
    if (!is_one_of(type, types)) {
        set_msg(msg, msglen,
                "Unsupported integration type %s for HTTP APIs: use AWS_PROXY or "
                "HTTP_PROXY",
                type ? type : "(none)");
        return ERR_APIGW_BAD_REQUEST;
    }
    const char *uri = doc_str(doc, "integrationUri");
    if (uri == NULL) {
        set_msg(msg, msglen, "IntegrationUri is required for %s integrations", type);
        return ERR_APIGW_BAD_REQUEST;
    }
    char name[72], arn[256];
    if (strcmp(type, "AWS_PROXY") == 0 &&
        !apigw__lambda_name(uri, name, sizeof name, arn, sizeof arn)) {
        set_msg(msg, msglen,
                "Invalid integration URI specified: %s. A Lambda function ARN or "
                "invocation URI is expected",
                uri);
        return ERR_APIGW_BAD_REQUEST;
    }
    const char *pfv = jsonh_str(doc, "payloadFormatVersion", "1.0");
    if (strcmp(pfv, "1.0") != 0 && strcmp(pfv, "2.0") != 0) {
        set_msg(msg, msglen,
                "Invalid payload format version specified: %s. Valid values are "
                "1.0 and 2.0",
                pfv);
        return ERR_APIGW_BAD_REQUEST;
    }
    long long t = 30000;
    if (jsonh_int(doc, "timeoutInMillis", &t) == 1 && (t < 50 || t > APIGW_MAX_TIMEOUT_MS)) {
        set_msg(msg, msglen, "Timeout must be between 50 milliseconds and 30 seconds.");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (json_object_get(doc, "payloadFormatVersion") == NULL)
        json_object_set_new(doc, "payloadFormatVersion", json_string("1.0"));
    if (json_object_get(doc, "timeoutInMillis") == NULL)
        json_object_set_new(doc, "timeoutInMillis", json_integer(30000));
    if (json_object_get(doc, "connectionType") == NULL)
        json_object_set_new(doc, "connectionType", json_string("INTERNET"));
    if (json_object_get(doc, "integrationMethod") == NULL && strcmp(type, "AWS_PROXY") == 0)
        json_object_set_new(doc, "integrationMethod", json_string("POST"));
    return ERR_OK;
}

static enum err check_authorizer(json_t *doc, char *msg, size_t msglen)
{
    const char *type = doc_str(doc, "authorizerType");
    bool jwt = type && strcmp(type, "JWT") == 0;
    if (!jwt && !(type && strcmp(type, "REQUEST") == 0)) {
        set_msg(msg, msglen, "Invalid authorizer type %s for HTTP APIs: use JWT or REQUEST",
                type ? type : "(none)");
        return ERR_APIGW_BAD_REQUEST;
    }
    json_t *src = json_object_get(doc, "identitySource");
    size_t i;
    json_t *s;
    json_array_foreach(src, i, s)
    {
        const char *v = json_string_value(s);
        static const char *const prefixes[] = {"$request.header.", "$request.querystring.",
                                               "$context.", "$stageVariables."};
        bool ok = false;
        for (size_t p = 0; p < 4; p++)
            ok |= strncmp(v, prefixes[p], strlen(prefixes[p])) == 0 &&
                  strlen(v) > strlen(prefixes[p]);
        if (!ok || (jwt && strncmp(v, "$request.", 9) != 0)) {
            set_msg(msg, msglen, "Invalid identity source specified: %s", v);
            return ERR_APIGW_BAD_REQUEST;
        }
    }
    if (jwt) {
        json_t *jc = json_object_get(doc, "jwtConfiguration");
        if (json_array_size(src) != 1) {
            set_msg(msg, msglen, "A JWT authorizer takes exactly one identity source");
            return ERR_APIGW_BAD_REQUEST;
        }
        if (doc_str(jc, "issuer") == NULL ||
            json_array_size(json_object_get(jc, "audience")) == 0) {
            set_msg(msg, msglen, "JwtConfiguration must have an issuer and at least one audience");
            return ERR_APIGW_BAD_REQUEST;
        }
        return ERR_OK;
    }
    char name[72], arn[256];
    const char *uri = doc_str(doc, "authorizerUri");
    if (uri == NULL || !apigw__lambda_name(uri, name, sizeof name, arn, sizeof arn)) {
        set_msg(msg, msglen, "Invalid authorizer URI specified: %s", uri ? uri : "(none)");
        return ERR_APIGW_BAD_REQUEST;
    }
    const char *pfv = doc_str(doc, "authorizerPayloadFormatVersion");
    if (pfv == NULL || (strcmp(pfv, "1.0") != 0 && strcmp(pfv, "2.0") != 0)) {
        set_msg(msg, msglen,
                "AuthorizerPayloadFormatVersion must be 1.0 or 2.0 for REQUEST "
                "authorizers");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (json_is_true(json_object_get(doc, "enableSimpleResponses")) && strcmp(pfv, "2.0") != 0) {
        set_msg(msg, msglen,
                "EnableSimpleResponses is only supported for payload format "
                "version 2.0");
        return ERR_APIGW_BAD_REQUEST;
    }
    long long ttl = 0;
    if (jsonh_int(doc, "authorizerResultTtlInSeconds", &ttl) == 0) {
        ttl = 300;
        json_object_set_new(doc, "authorizerResultTtlInSeconds", json_integer(ttl));
    }
    if (ttl > 0 && json_array_size(src) == 0) {
        set_msg(msg, msglen, "Identity source is required when caching is enabled");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (json_object_get(doc, "enableSimpleResponses") == NULL)
        json_object_set_new(doc, "enableSimpleResponses", json_false());
    return ERR_OK;
}

static enum err check_stage(const struct api *a, const struct res *self, json_t *doc, char *msg,
                            size_t msglen)
{
    const char *name = doc_str(doc, "stageName");
    if (name == NULL || !valid_stage_name(name)) {
        set_msg(msg, msglen, "Stage name only allows a-zA-Z0-9_- or $default: %s",
                name ? name : "(none)");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (self == NULL && kid_find(a, APIGW_KIND_STAGE, name) != NULL) {
        set_msg(msg, msglen, "Stage %s already exists", name);
        return ERR_APIGW_CONFLICT;
    }
    const char *dep = doc_str(doc, "deploymentId");
    if (dep != NULL && kid_find(a, APIGW_KIND_DEPLOYMENT, dep) == NULL) {
        set_msg(msg, msglen, "Deployment %s does not exist", dep);
        return ERR_APIGW_BAD_REQUEST;
    }
    const char *dest = doc_str(json_object_get(doc, "accessLogSettings"), "destinationArn");
    if (dest != NULL && strncmp(dest, "arn:aws:logs:", 13) != 0) {
        set_msg(msg, msglen,
                "Invalid destination ARN specified: %s. A CloudWatch Logs log "
                "group ARN is expected",
                dest);
        return ERR_APIGW_BAD_REQUEST;
    }
    if (json_object_get(doc, "accessLogSettings") != NULL &&
        doc_str(json_object_get(doc, "accessLogSettings"), "format") == NULL) {
        set_msg(msg, msglen, "Access log format must be specified with a destination");
        return ERR_APIGW_BAD_REQUEST;
    }
    if (json_object_get(doc, "autoDeploy") == NULL)
        json_object_set_new(doc, "autoDeploy", json_false());
    if (json_object_get(doc, "defaultRouteSettings") == NULL)
        json_object_set_new(doc, "defaultRouteSettings",
                            json_pack("{s:b}", "detailedMetricsEnabled", false));
    if (json_object_get(doc, "routeSettings") == NULL)
        json_object_set_new(doc, "routeSettings", json_object());
    if (json_object_get(doc, "stageVariables") == NULL)
        json_object_set_new(doc, "stageVariables", json_object());
    if (json_object_get(doc, "tags") == NULL)
        json_object_set_new(doc, "tags", json_object());
    return ERR_OK;
}

/* Checks (and completes with defaults) a resource's document, for a create (self NULL) or an
 * update. Returns ERR_OK or an error with msg. */
static enum err check_doc(const struct api *a, enum apigw_kind kind, const struct res *self,
                          json_t *doc, char *msg, size_t msglen)
{
    switch (kind) {
    case APIGW_KIND_ROUTE:
        return check_route(a, self, doc, msg, msglen);
    case APIGW_KIND_INTEGRATION:
        return check_integration(doc, msg, msglen);
    case APIGW_KIND_AUTHORIZER:
        return check_authorizer(doc, msg, msglen);
    case APIGW_KIND_STAGE:
        return check_stage(a, self, doc, msg, msglen);
    default:
        return ERR_OK;
    }
}

/* True when a change of this kind changes what a deployment captures. */
static bool deployable(enum apigw_kind kind)
{
    return kind == APIGW_KIND_ROUTE || kind == APIGW_KIND_INTEGRATION ||
           kind == APIGW_KIND_AUTHORIZER;
}

/* ---- APIs ---- */

static enum err check_api(json_t *doc, char *msg, size_t msglen)
{
    const char *pt = doc_str(doc, "protocolType");
    if (pt != NULL && strcmp(pt, "HTTP") != 0) {
        set_msg(msg, msglen,
                "Unsupported protocol type %s: haar serves HTTP APIs (WEBSOCKET "
                "APIs are not available)",
                pt);
        return ERR_APIGW_BAD_REQUEST;
    }
    json_t *cors = json_object_get(doc, "corsConfiguration");
    long long age;
    if (jsonh_int(cors, "maxAge", &age) == 1 && (age < -1 || age > 86400)) {
        set_msg(msg, msglen, "MaxAge must be between -1 and 86400");
        return ERR_APIGW_BAD_REQUEST;
    }
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(cors, "allowOrigins"), i, o)
    {
        if (strcmp(json_string_value(o), "*") == 0 &&
            json_is_true(json_object_get(cors, "allowCredentials"))) {
            set_msg(msg, msglen, "AllowCredentials cannot be true when AllowOrigins is *");
            return ERR_APIGW_BAD_REQUEST;
        }
    }
    return ERR_OK;
}

static struct api *api_alloc(struct apigw *gw, const char *id)
{
    struct api *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    if (id != NULL) {
        snprintf(a->id, sizeof a->id, "%s", id);
    } else {
        do
            random_id(a->id, id_lengths[APIGW_KIND_API]);
        while (apigw__api_find(gw, a->id, strlen(a->id)) != NULL);
    }
    return a;
}

static void api_endpoint(const struct apigw *gw, const char *id, char *out, size_t len)
{
    snprintf(out, len, "http://%s.execute-api.localhost:%u", id, gw->opt.api_port);
}

/* A new API from spec (checked): defaults, id, and quick create. Linked into gw. */
static enum err api_create(struct apigw *gw, const json_t *spec, bool managed, const char *id,
                           struct api **out, char *msg, size_t msglen)
{
    json_t *doc = json_deep_copy(spec);
    enum err e = doc ? check_api(doc, msg, msglen) : ERR_INTERNAL;
    if (e != ERR_OK) {
        json_decref(doc);
        return e;
    }
    struct api *a = api_alloc(gw, id);
    if (a == NULL) {
        json_decref(doc);
        return ERR_INTERNAL;
    }
    char when[32], ep[128];
    now_iso(when);
    api_endpoint(gw, a->id, ep, sizeof ep);
    json_t *target = json_incref(json_object_get(doc, "target"));
    json_t *rkey = json_incref(json_object_get(doc, "routeKey"));
    json_t *cred = json_incref(json_object_get(doc, "credentialsArn"));
    json_object_del(doc, "target");
    json_object_del(doc, "routeKey");
    json_object_del(doc, "credentialsArn");
    json_object_set_new(doc, "apiId", json_string(a->id));
    json_object_set_new(doc, "apiEndpoint", json_string(ep));
    json_object_set_new(doc, "createdDate", json_string(when));
    if (json_object_get(doc, "apiKeySelectionExpression") == NULL)
        json_object_set_new(doc, "apiKeySelectionExpression",
                            json_string("$request.header.x-api-key"));
    if (json_object_get(doc, "routeSelectionExpression") == NULL)
        json_object_set_new(doc, "routeSelectionExpression",
                            json_string("$request.method $request.path"));
    if (json_object_get(doc, "disableExecuteApiEndpoint") == NULL)
        json_object_set_new(doc, "disableExecuteApiEndpoint", json_false());
    if (json_object_get(doc, "tags") == NULL)
        json_object_set_new(doc, "tags", json_object());
    a->doc = doc;
    a->managed = managed;
    if (target != NULL) { /* quick create: integration, route, $default stage */
        char iid[16], rid[16], tgt[40];
        const char *uri = json_string_value(target);
        json_t *ig =
            json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:b}", "integrationId",
                      unique_id(a, APIGW_KIND_INTEGRATION, iid), "integrationType", "AWS_PROXY",
                      "integrationUri", uri, "payloadFormatVersion", "2.0", "timeoutInMillis",
                      30000, "connectionType", "INTERNET", "apiGatewayManaged", true);
        if (cred != NULL)
            json_object_set(ig, "credentialsArn", cred);
        e = check_integration(ig, msg, msglen);
        snprintf(tgt, sizeof tgt, "integrations/%s", iid);
        json_t *rt = json_pack(
            "{s:s, s:s, s:s, s:b}", "routeId", unique_id(a, APIGW_KIND_ROUTE, rid), "routeKey",
            rkey ? json_string_value(rkey) : "$default", "target", tgt, "apiGatewayManaged", true);
        struct res *ri = e == ERR_OK ? res_new(APIGW_KIND_INTEGRATION, iid, ig) : NULL;
        if (ri != NULL)
            kid_add(a, ri);
        if (e == ERR_OK && ri != NULL)
            e = check_route(a, NULL, rt, msg, msglen);
        struct res *rr = e == ERR_OK ? res_new(APIGW_KIND_ROUTE, rid, rt) : NULL;
        if (rr != NULL)
            kid_add(a, rr);
        json_t *st =
            json_pack("{s:s, s:s, s:s, s:b, s:b}", "stageName", "$default", "createdDate", when,
                      "lastUpdatedDate", when, "autoDeploy", true, "apiGatewayManaged", true);
        if (e == ERR_OK && rr != NULL)
            e = check_stage(a, NULL, st, msg, msglen);
        struct res *rs = e == ERR_OK && rr ? res_new(APIGW_KIND_STAGE, "$default", st) : NULL;
        if (rs != NULL)
            kid_add(a, rs);
        if (e == ERR_OK && rs == NULL)
            e = ERR_INTERNAL;
        if (e != ERR_OK) {
            if (ri == NULL)
                json_decref(ig);
            if (rr == NULL)
                json_decref(rt);
            if (rs == NULL)
                json_decref(st);
        }
        if (e == ERR_OK)
            auto_deploy(a, NULL);
    }
    json_decref(target);
    json_decref(rkey);
    json_decref(cred);
    if (e != ERR_OK) {
        api_free(a);
        return e;
    }
    a->next = gw->apis;
    gw->apis = a;
    rebuild_all(gw, a);
    *out = a;
    return ERR_OK;
}

/* ---- the generic commands ---- */

static struct api *api_or_fail(struct mop *op, const char *api_id)
{
    struct api *a = api_id ? apigw__api_find(op->gw, api_id, strlen(api_id)) : NULL;
    if (a == NULL) {
        not_found_msg(op->gw, APIGW_KIND_API, api_id ? api_id : "", op->msg, sizeof op->msg);
        mop_complete(op, ERR_APIGW_NOT_FOUND, NULL);
        return NULL;
    }
    snprintf(op->api_id, sizeof op->api_id, "%s", a->id);
    return a;
}

/* a's part of that kind and id, or NULL after completing op with NotFoundException. */
static struct res *kid_or_fail(struct mop *op, struct api *a, enum apigw_kind kind,
                               const char *id)
{
    struct res *r = kid_find(a, kind, id);
    if (r == NULL) {
        not_found_msg(op->gw, kind, id, op->msg, sizeof op->msg);
        mop_complete(op, ERR_APIGW_NOT_FOUND, NULL);
    }
    return r;
}

/* Begins a change of a: the snapshot to undo it. false (after completing) when out of
 * memory. */
static bool begin(struct mop *op, struct api *a)
{
    op->before = snapshot(a);
    if (op->before == NULL) {
        mop_complete(op, ERR_INTERNAL, "out of memory");
        return false;
    }
    return true;
}

void apigw_create(struct apigw *gw, enum apigw_kind kind, const char *api_id, const json_t *spec,
                  apigw_done_fn done, void *arg)
{
    struct mop *op = mop_new(gw, done, arg);
    if (op == NULL)
        return;
    if (kind == APIGW_KIND_API) {
        struct api *a = NULL;
        enum err e = api_create(gw, spec, false, NULL, &a, op->msg, sizeof op->msg);
        if (e != ERR_OK) {
            mop_complete(op, e, NULL);
            return;
        }
        snprintf(op->api_id, sizeof op->api_id, "%s", a->id);
        op->result = public_api(gw, a);
        mop_commit(op, a);
        return;
    }
    struct api *a = api_or_fail(op, api_id);
    if (a == NULL || !begin(op, a))
        return;
    json_t *doc = json_deep_copy(spec);
    char id[136];
    if (kind == APIGW_KIND_STAGE)
        snprintf(id, sizeof id, "%s", jsonh_str(spec, "stageName", ""));
    else
        unique_id(a, kind, id);
    enum err e = doc ? ERR_OK : ERR_INTERNAL;
    if (e == ERR_OK)
        e = check_doc(a, kind, NULL, doc, op->msg, sizeof op->msg);
    if (e == ERR_OK && kind == APIGW_KIND_DEPLOYMENT) {
        const char *stage = doc_str(doc, "stageName");
        struct res *st = stage ? kid_find(a, APIGW_KIND_STAGE, stage) : NULL;
        if (stage != NULL && st == NULL) {
            not_found_msg(gw, APIGW_KIND_STAGE, stage, op->msg, sizeof op->msg);
            e = ERR_APIGW_BAD_REQUEST;
        } else {
            struct res *d = deploy_new(a, doc_str(doc, "description"), false);
            if (d == NULL) {
                e = ERR_INTERNAL;
            } else {
                if (st != NULL)
                    stage_point(st, d);
                snprintf(id, sizeof id, "%s", d->id);
            }
        }
        json_decref(doc);
        doc = NULL;
    }
    if (e != ERR_OK) {
        json_decref(doc);
        mop_complete(op, e, NULL);
        return;
    }
    struct res *r = NULL;
    if (doc != NULL) {
        char when[32];
        now_iso(when);
        json_object_set_new(doc, id_members[kind], json_string(id));
        if (kind == APIGW_KIND_STAGE) {
            json_object_set_new(doc, "createdDate", json_string(when));
            json_object_set_new(doc, "lastUpdatedDate", json_string(when));
        }
        r = res_new(kind, id, doc);
        if (r == NULL) {
            mop_complete(op, ERR_INTERNAL, "out of memory");
            return;
        }
        kid_add(a, r);
    }
    if (deployable(kind))
        auto_deploy(a, NULL);
    else if (kind == APIGW_KIND_STAGE && json_is_true(json_object_get(r->doc, "autoDeploy")))
        auto_deploy(a, r);
    rebuild_all(gw, a);
    r = kid_find(a, kind, id);
    op->result = r ? public_doc(r->doc) : NULL;
    mop_commit(op, a);
}

/* Merges patch into doc: members replaced whole, but a stage's routeSettings by key. */
static void merge(enum apigw_kind kind, json_t *doc, const json_t *patch)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)patch, k, v)
    {
        json_t *cur = json_object_get(doc, k);
        if (kind == APIGW_KIND_STAGE && strcmp(k, "routeSettings") == 0 && json_is_object(cur))
            json_object_update(cur, v);
        else
            json_object_set(doc, k, v);
    }
}

void apigw_update(struct apigw *gw, enum apigw_kind kind, const char *api_id, const char *id,
                  const json_t *patch, apigw_done_fn done, void *arg)
{
    struct mop *op = mop_new(gw, done, arg);
    if (op == NULL)
        return;
    struct api *a = api_or_fail(op, kind == APIGW_KIND_API ? id : api_id);
    if (a == NULL || !begin(op, a))
        return;
    enum err e = ERR_OK;
    if (kind == APIGW_KIND_API) {
        json_t *doc = json_deep_copy(a->doc);
        json_t *p = json_deep_copy(patch);
        json_object_del(p, "target");
        json_object_del(p, "routeKey");
        json_object_del(p, "credentialsArn");
        json_object_del(p, "protocolType");
        merge(kind, doc, p);
        json_decref(p);
        e = check_api(doc, op->msg, sizeof op->msg);
        if (e != ERR_OK) {
            json_decref(doc);
            mop_complete(op, e, NULL);
            return;
        }
        json_decref(a->doc);
        a->doc = doc;
        rebuild_all(gw, a); /* CORS lives in the stages' compiled form */
        op->result = public_api(gw, a);
        mop_commit(op, a);
        return;
    }
    struct res *r = kid_or_fail(op, a, kind, id);
    if (r == NULL)
        return;
    json_t *doc = json_deep_copy(r->doc);
    json_t *p = json_deep_copy(patch);
    json_object_del(p, id_members[kind]); /* ids and stage names do not change */
    merge(kind, doc, p);
    json_decref(p);
    e = check_doc(a, kind, r, doc, op->msg, sizeof op->msg);
    if (e != ERR_OK) {
        json_decref(doc);
        mop_complete(op, e, NULL);
        return;
    }
    bool was_auto = json_is_true(json_object_get(r->doc, "autoDeploy"));
    const char *old_dep = jsonh_str(r->doc, "deploymentId", "");
    bool moved =
        kind == APIGW_KIND_STAGE && strcmp(old_dep, jsonh_str(doc, "deploymentId", "")) != 0;
    json_decref(r->doc);
    r->doc = doc;
    if (kind == APIGW_KIND_STAGE) {
        char when[32];
        now_iso(when);
        json_object_set_new(doc, "lastUpdatedDate", json_string(when));
        if (!was_auto && json_is_true(json_object_get(doc, "autoDeploy")) && !moved)
            auto_deploy(a, r);
    }
    if (deployable(kind))
        auto_deploy(a, NULL);
    rebuild_all(gw, a);
    op->result = public_doc(r->doc);
    mop_commit(op, a);
}

/* What refers to r, which then may not go: a route's target or authorizer, a stage's
 * deployment. Writes the message and returns the error, or ERR_OK. */
static enum err still_used(const struct api *a, const struct res *r, char *msg, size_t msglen)
{
    char target[160];
    snprintf(target, sizeof target, "integrations/%s", r->id);
    for (const struct res *k = a->kids; k; k = k->next) {
        if (r->kind == APIGW_KIND_INTEGRATION && k->kind == APIGW_KIND_ROUTE &&
            strcmp(jsonh_str(k->doc, "target", ""), target) == 0) {
            set_msg(msg, msglen, "Cannot delete integration %s: it is the target of route %s",
                    r->id, k->id);
            return ERR_APIGW_CONFLICT;
        }
        if (r->kind == APIGW_KIND_AUTHORIZER && k->kind == APIGW_KIND_ROUTE &&
            strcmp(jsonh_str(k->doc, "authorizerId", ""), r->id) == 0) {
            set_msg(msg, msglen, "Cannot delete authorizer %s: route %s uses it", r->id, k->id);
            return ERR_APIGW_CONFLICT;
        }
        if (r->kind == APIGW_KIND_DEPLOYMENT && k->kind == APIGW_KIND_STAGE &&
            strcmp(jsonh_str(k->doc, "deploymentId", ""), r->id) == 0) {
            set_msg(msg, msglen,
                    "Active stages pointing to this deployment must be moved or "
                    "deleted");
            return ERR_APIGW_BAD_REQUEST;
        }
    }
    return ERR_OK;
}

void apigw_delete(struct apigw *gw, enum apigw_kind kind, const char *api_id, const char *id,
                  apigw_done_fn done, void *arg)
{
    struct mop *op = mop_new(gw, done, arg);
    if (op == NULL)
        return;
    struct api *a = api_or_fail(op, kind == APIGW_KIND_API ? id : api_id);
    if (a == NULL)
        return;
    if (kind == APIGW_KIND_API) {
        api_unlink(gw, a);
        op->gone = a;
        mop_commit(op, NULL);
        return;
    }
    if (!begin(op, a))
        return;
    struct res *r = kid_or_fail(op, a, kind, id);
    if (r == NULL)
        return;
    enum err e = still_used(a, r, op->msg, sizeof op->msg);
    if (e != ERR_OK) {
        mop_complete(op, e, NULL);
        return;
    }
    kid_remove(a, r);
    if (deployable(kind))
        auto_deploy(a, NULL);
    else if (kind == APIGW_KIND_STAGE)
        prune_deployments(a);
    rebuild_all(gw, a);
    mop_commit(op, a);
}

void apigw_delete_part(struct apigw *gw, enum apigw_part part, const char *api_id, const char *id,
                       const char *key, apigw_done_fn done, void *arg)
{
    struct mop *op = mop_new(gw, done, arg);
    if (op == NULL)
        return;
    struct api *a = api_or_fail(op, api_id);
    if (a == NULL || !begin(op, a))
        return;
    if (part == APIGW_PART_CORS) {
        json_object_del(a->doc, "corsConfiguration");
        rebuild_all(gw, a);
        mop_commit(op, a);
        return;
    }
    struct res *st = kid_find(a, APIGW_KIND_STAGE, id);
    if (st == NULL) {
        not_found_msg(gw, APIGW_KIND_STAGE, id, op->msg, sizeof op->msg);
        mop_complete(op, ERR_APIGW_NOT_FOUND, NULL);
        return;
    }
    if (part == APIGW_PART_ACCESS_LOG) {
        json_object_del(st->doc, "accessLogSettings");
    } else if (part == APIGW_PART_ROUTE_SETTINGS) {
        json_t *rs = json_object_get(st->doc, "routeSettings");
        if (json_object_get(rs, key) == NULL) {
            mop_complete(op, ERR_APIGW_NOT_FOUND, "Invalid route settings for route key %s",
                         key ? key : "");
            return;
        }
        json_object_del(rs, key);
    } else if (part == APIGW_PART_AUTH_CACHE) {
        /* results are cached per authorizer; a new cache forgets them all */
        struct apigw_auth_cache *c = apigw_auth_cache_new(4096);
        if (c != NULL) {
            apigw_auth_cache_free(gw->auth_cache);
            gw->auth_cache = c;
        }
        mop_complete(op, ERR_OK, NULL);
        return;
    }
    rebuild_all(gw, a);
    mop_commit(op, a);
}

enum err apigw_get(struct apigw *gw, enum apigw_kind kind, const char *api_id, const char *id,
                   json_t **doc, char *msg, size_t msglen)
{
    *doc = NULL;
    const char *aid = kind == APIGW_KIND_API ? id : api_id;
    struct api *a = aid ? apigw__api_find(gw, aid, strlen(aid)) : NULL;
    if (a == NULL) {
        not_found_msg(gw, APIGW_KIND_API, aid ? aid : "", msg, msglen);
        return ERR_APIGW_NOT_FOUND;
    }
    if (kind == APIGW_KIND_API) {
        *doc = public_api(gw, a);
        return ERR_OK;
    }
    struct res *r = kid_find(a, kind, id);
    if (r == NULL) {
        not_found_msg(gw, kind, id, msg, msglen);
        return ERR_APIGW_NOT_FOUND;
    }
    *doc = public_doc(r->doc);
    return ERR_OK;
}

static int cmp_by_id(const void *x, const void *y)
{
    const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
    const char *ka = json_string_value(json_object_get(a, "_sort"));
    const char *kb = json_string_value(json_object_get(b, "_sort"));
    return strcmp(ka ? ka : "", kb ? kb : "");
}

enum err apigw_list(struct apigw *gw, enum apigw_kind kind, const char *api_id, json_t **items,
                    char *msg, size_t msglen)
{
    *items = NULL;
    json_t *arr[4096];
    size_t n = 0;
    if (kind == APIGW_KIND_API) {
        for (struct api *a = gw->apis; a && n < 4096; a = a->next) {
            arr[n] = public_api(gw, a);
            json_object_set_new(arr[n], "_sort", json_string(a->id));
            n++;
        }
    } else {
        struct api *a = api_id ? apigw__api_find(gw, api_id, strlen(api_id)) : NULL;
        if (a == NULL) {
            not_found_msg(gw, APIGW_KIND_API, api_id ? api_id : "", msg, msglen);
            return ERR_APIGW_NOT_FOUND;
        }
        for (struct res *r = a->kids; r && n < 4096; r = r->next) {
            if (r->kind != kind)
                continue;
            arr[n] = public_doc(r->doc);
            json_object_set_new(arr[n], "_sort", json_string(r->id));
            n++;
        }
    }
    qsort(arr, n, sizeof arr[0], cmp_by_id);
    *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_del(arr[i], "_sort");
        json_array_append_new(*items, arr[i]);
    }
    return ERR_OK;
}

/* ---- tags ---- */

/* The document holding the tags of the resource an ARN names (NULL after msg). */
static json_t *tagged(struct apigw *gw, const char *arn, struct api **api, char *msg, size_t msglen)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix, "arn:aws:apigateway:%s::/apis/", gw->region);
    size_t pl = strlen(prefix);
    *api = NULL;
    if (strncmp(arn, prefix, pl) != 0) {
        set_msg(msg, msglen, "Invalid resource ARN specified: %s", arn);
        return NULL;
    }
    const char *id = arn + pl, *slash = strchr(id, '/');
    size_t idl = slash ? (size_t)(slash - id) : strlen(id);
    struct api *a = apigw__api_find(gw, id, idl);
    if (a == NULL) {
        set_msg(msg, msglen, "Invalid API identifier specified %s:%.*s", gw->account, (int)idl, id);
        return NULL;
    }
    *api = a;
    if (slash == NULL)
        return a->doc;
    if (strncmp(slash, "/stages/", 8) == 0) {
        struct res *st = kid_find(a, APIGW_KIND_STAGE, slash + 8);
        if (st != NULL)
            return st->doc;
    }
    set_msg(msg, msglen, "Invalid resource identifier specified %s", arn);
    return NULL;
}

enum err apigw_tags_get(struct apigw *gw, const char *arn, json_t **tags, char *msg, size_t msglen)
{
    struct api *a;
    json_t *doc = tagged(gw, arn, &a, msg, msglen);
    *tags = NULL;
    if (doc == NULL)
        return ERR_APIGW_NOT_FOUND;
    json_t *t = json_object_get(doc, "tags");
    *tags = t ? json_deep_copy(t) : json_object();
    return ERR_OK;
}

void apigw_tags_change(struct apigw *gw, const char *arn, const json_t *add, const json_t *remove,
                       apigw_done_fn done, void *arg)
{
    struct mop *op = mop_new(gw, done, arg);
    if (op == NULL)
        return;
    struct api *a;
    json_t *doc = tagged(gw, arn, &a, op->msg, sizeof op->msg);
    if (doc == NULL) {
        mop_complete(op, ERR_APIGW_NOT_FOUND, NULL);
        return;
    }
    snprintf(op->api_id, sizeof op->api_id, "%s", a->id);
    if (!begin(op, a))
        return;
    doc = tagged(gw, arn, &a, op->msg, sizeof op->msg);
    json_t *t = json_object_get(doc, "tags");
    if (t == NULL) {
        t = json_object();
        json_object_set_new(doc, "tags", t);
    }
    if (add != NULL)
        json_object_update(t, (json_t *)add);
    size_t i;
    json_t *k;
    json_array_foreach(remove, i, k) json_object_del(t, json_string_value(k));
    if (json_object_size(t) > 50) {
        restore_snapshot(gw, a, op->before);
        mop_complete(op, ERR_APIGW_BAD_REQUEST, "A resource can have at most 50 tags");
        return;
    }
    mop_commit(op, a);
}

/* ---- the environment's API ---- */

static json_t *str_array(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* A stable id for the environment's API: 10 characters of the name's hash. */
static void env_id(const char *name, char out[16])
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char h[32];
    codec_sha256(name, strlen(name), h);
    for (int i = 0; i < 10; i++)
        out[i] = alnum[h[i] % 36];
    out[10] = '\0';
}

/* What infra/layers/20_infra and 30_app give the environment's API (see apigw.h). */
static const char *const env_routes[] = {
    "GET /health", "POST /tasks", "GET /tasks", "GET /tasks/{id}", "POST /tasks/{id}/retry",
    "$default"};
static const char *const env_open_routes[] = {"GET /health"}; /* no token asked */
static const char *const env_methods[] = {"GET", "POST", "OPTIONS"};
static const char *const env_headers[] = {"content-type", "idempotency-key", "authorization"};
static const char *const env_expose[] = {"location"};
static const char env_log_format[] = /* jsonencode() sorts the keys */
    "{\"httpMethod\":\"$context.httpMethod\",\"integrationError\":"
    "\"$context.integrationErrorMessage\",\"integrationLatency\":\"$context.integrationLatency\","
    "\"ip\":\"$context.identity.sourceIp\",\"latency\":\"$context.responseLatency\","
    "\"path\":\"$context.path\",\"protocol\":\"$context.protocol\",\"requestId\":"
    "\"$context.requestId\",\"requestTime\":\"$context.requestTime\",\"responseLength\":"
    "\"$context.responseLength\",\"routeKey\":\"$context.routeKey\",\"status\":"
    "\"$context.status\"}";

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum err apigw_provision_env(struct apigw *gw, const struct apigw_env_spec *spec, char *msg,
                             size_t msglen)
{
    struct apigw_env_spec d = *spec;
    if (d.route_keys == NULL) {
        d.route_keys = env_routes;
        d.nroute_keys = NELEM(env_routes);
    }
    if (d.cors_methods == NULL && d.cors_headers == NULL && d.cors_expose == NULL) {
        d.cors_methods = env_methods;
        d.ncors_methods = NELEM(env_methods);
        d.cors_headers = env_headers;
        d.ncors_headers = NELEM(env_headers);
        d.cors_expose = env_expose;
        d.ncors_expose = NELEM(env_expose);
        d.cors_max_age = 3600;
    }
    if (d.log_format == NULL)
        d.log_format = env_log_format;
    const struct apigw_env_spec *s = &d;
    char id[16], arn[256], uri[400];
    env_id(s->name, id);
    if (apigw__api_find(gw, id, strlen(id)) != NULL) {
        set_msg(msg, msglen, "the environment's API %s exists already", s->name);
        return ERR_APIGW_CONFLICT;
    }
    json_t *doc = json_pack("{s:s, s:s, s:s}", "name", s->name, "protocolType", "HTTP",
                            "description", s->description ? s->description : "");
    if (s->tags != NULL)
        json_object_set(doc, "tags", s->tags);
    if (s->ncors_origins > 0)
        json_object_set_new(doc, "corsConfiguration",
                            json_pack("{s:o, s:o, s:o, s:o, s:i, s:b}", "allowOrigins",
                                      str_array(s->cors_origins, s->ncors_origins), "allowMethods",
                                      str_array(s->cors_methods, s->ncors_methods), "allowHeaders",
                                      str_array(s->cors_headers, s->ncors_headers), "exposeHeaders",
                                      str_array(s->cors_expose, s->ncors_expose), "maxAge",
                                      s->cors_max_age, "allowCredentials", false));
    struct api *a = NULL;
    enum err e = api_create(gw, doc, true, id, &a, msg, msglen);
    json_decref(doc);
    if (e != ERR_OK)
        return e;
    snprintf(arn, sizeof arn, "arn:aws:lambda:%s:%s:function:%s", gw->region, gw->account,
             s->function);
    snprintf(uri, sizeof uri,
             "arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", gw->region,
             arn);
    char iid[16], tgt[40];
    json_t *ig =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "integrationId",
                  unique_id(a, APIGW_KIND_INTEGRATION, iid), "integrationType", "AWS_PROXY",
                  "integrationMethod", "POST", "integrationUri", uri, "payloadFormatVersion", "2.0",
                  "timeoutInMillis",
                  s->timeout_ms > APIGW_MAX_TIMEOUT_MS ? APIGW_MAX_TIMEOUT_MS : s->timeout_ms,
                  "connectionType", "INTERNET");
    struct res *r = ig ? res_new(APIGW_KIND_INTEGRATION, iid, ig) : NULL;
    if (r == NULL)
        goto nomem;
    kid_add(a, r);
    snprintf(tgt, sizeof tgt, "integrations/%s", iid);
    char aid[16] = "";
    if (s->jwt_issuer != NULL && s->jwt_issuer[0] != '\0') {
        json_t *au =
            json_pack("{s:s, s:s, s:s, s:[s], s:{s:s, s:o}}", "authorizerId",
                      unique_id(a, APIGW_KIND_AUTHORIZER, aid), "authorizerType", "JWT", "name",
                      s->jwt_name ? s->jwt_name : "jwt", "identitySource",
                      "$request.header.Authorization", "jwtConfiguration", "issuer", s->jwt_issuer,
                      "audience", str_array(s->jwt_audience, s->njwt_audience));
        e = au ? check_authorizer(au, msg, msglen) : ERR_INTERNAL;
        if (e != ERR_OK) {
            json_decref(au);
            goto fail;
        }
        if ((r = res_new(APIGW_KIND_AUTHORIZER, aid, au)) == NULL)
            goto nomem;
        kid_add(a, r);
    }
    for (size_t i = 0; i < s->nroute_keys; i++) {
        char rid[16];
        json_t *rt = json_pack("{s:s, s:s, s:s}", "routeId", unique_id(a, APIGW_KIND_ROUTE, rid),
                               "routeKey", s->route_keys[i], "target", tgt);
        bool open = aid[0] == '\0';
        for (size_t k = 0; k < NELEM(env_open_routes) && !open; k++)
            open = strcmp(s->route_keys[i], env_open_routes[k]) == 0;
        if (rt != NULL && !open) {
            json_object_set_new(rt, "authorizationType", json_string("JWT"));
            json_object_set_new(rt, "authorizerId", json_string(aid));
        }
        e = rt ? check_route(a, NULL, rt, msg, msglen) : ERR_INTERNAL;
        if (e != ERR_OK) {
            json_decref(rt);
            goto fail;
        }
        if ((r = res_new(APIGW_KIND_ROUTE, rid, rt)) == NULL)
            goto nomem;
        kid_add(a, r);
    }
    char when[32];
    now_iso(when);
    json_t *st =
        json_pack("{s:s, s:s, s:s, s:b, s:{s:b, s:i, s:f}}", "stageName", "$default", "createdDate",
                  when, "lastUpdatedDate", when, "autoDeploy", true, "defaultRouteSettings",
                  "detailedMetricsEnabled", false, "throttlingBurstLimit", s->burst_limit,
                  "throttlingRateLimit", s->rate_limit);
    if (st != NULL && s->log_group != NULL) {
        char dest[300];
        snprintf(dest, sizeof dest, "arn:aws:logs:%s:%s:log-group:%s", gw->region, gw->account,
                 s->log_group);
        json_object_set_new(
            st, "accessLogSettings",
            json_pack("{s:s, s:s}", "destinationArn", dest, "format", s->log_format));
    }
    e = st ? check_stage(a, NULL, st, msg, msglen) : ERR_INTERNAL;
    if (e != ERR_OK) {
        json_decref(st);
        goto fail;
    }
    if ((r = res_new(APIGW_KIND_STAGE, "$default", st)) == NULL)
        goto nomem;
    kid_add(a, r);
    auto_deploy(a, NULL);
    if (rebuild_all(gw, a) != 0)
        goto nomem;
    gw->env = a;
    return ERR_OK;
nomem:
    e = ERR_INTERNAL;
    set_msg(msg, msglen, "out of memory");
fail:
    api_unlink(gw, a);
    api_free(a);
    return e;
}

const char *apigw_env_api_id(const struct apigw *gw)
{
    return gw->env ? gw->env->id : "";
}

/* ---- lifecycle ---- */

static bool restore_row(void *arg, const struct store_row *row)
{
    struct apigw *gw = arg;
    size_t al, il, dl;
    const char *aid = store_row_text(row, 0, &al);
    int kind = (int)store_row_int(row, 1);
    const char *id = store_row_text(row, 2, &il);
    const char *text = store_row_text(row, 3, &dl);
    json_t *doc = jsonh_parse(text, dl, NULL, 0);
    char a_id[16], k_id[136];
    if (!json_is_object(doc) || al >= sizeof a_id || il >= sizeof k_id || kind < 0 ||
        kind >= APIGW_KIND_COUNT) {
        json_decref(doc);
        return true;
    }
    memcpy(a_id, aid, al);
    a_id[al] = '\0';
    memcpy(k_id, id, il);
    k_id[il] = '\0';
    struct api *a = apigw__api_find(gw, a_id, al);
    if (kind == APIGW_KIND_API) {
        if (a != NULL || (a = api_alloc(gw, a_id)) == NULL) { /* the environment's wins */
            json_decref(doc);
            return true;
        }
        a->doc = doc;
        a->next = gw->apis;
        gw->apis = a;
        return true;
    }
    struct res *r;
    if (a == NULL || a->managed || (r = res_new((enum apigw_kind)kind, k_id, doc)) == NULL) {
        if (a == NULL || a->managed)
            json_decref(doc);
        return true;
    }
    kid_add(a, r);
    return true;
}

void apigw_restore(struct apigw *gw)
{
    if (gw->store == NULL)
        return;
    store_query(gw->store, gw->st_all, NULL, 0, restore_row, gw);
    for (struct api *a = gw->apis; a; a = a->next)
        if (!a->managed)
            rebuild_all(gw, a);
}

struct apigw *apigw_new(const struct apigw_options *opt, const struct apigw_host *host,
                        struct lambda *lambda, struct logs *logs, struct store *store, char *err,
                        size_t errlen)
{
    struct apigw *gw = calloc(1, sizeof *gw);
    if (gw == NULL || (gw->auth_cache = apigw_auth_cache_new(4096)) == NULL) {
        free(gw);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    gw->opt = *opt;
    snprintf(gw->region, sizeof gw->region, "%s", opt->region ? opt->region : "us-east-1");
    snprintf(gw->account, sizeof gw->account, "%s", opt->account ? opt->account : "000000000000");
    gw->opt.region = gw->region;
    gw->opt.account = gw->account;
    if (host != NULL)
        gw->host = *host;
    gw->lambda = lambda;
    gw->logs = logs;
    gw->store = store;
    apigw_response_init(&gw->resp);
    buf_init(&gw->ev, 2 * APIGW_MAX_PAYLOAD);
    if (store != NULL) {
        struct {
            struct store_stmt **out;
            const char *sql;
        } stmts[] = {
            {&gw->st_put, "INSERT OR REPLACE INTO apigw_resources (api, kind, id, doc)"
                          " VALUES (?1, ?2, ?3, ?4)"},
            {&gw->st_del, "DELETE FROM apigw_resources WHERE api = ?1 AND kind = ?2 AND id = ?3"},
            {&gw->st_del_api, "DELETE FROM apigw_resources WHERE api = ?1"},
            {&gw->st_all, "SELECT api, kind, id, doc FROM apigw_resources ORDER BY api, kind"},
        };
        if (store_schema_apply(store, &schema, err, errlen) != 0)
            goto fail;
        for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
            if ((*stmts[i].out = store_prepare(store, stmts[i].sql, err, errlen)) == NULL)
                goto fail;
    }
    return gw;
fail:
    apigw_free(gw);
    return NULL;
}

void apigw_free(struct apigw *gw)
{
    if (gw == NULL)
        return;
    while (gw->apis) {
        struct api *a = gw->apis;
        gw->apis = a->next;
        api_free(a);
    }
    apigw__jwks_free_all(gw);
    apigw_auth_cache_free(gw->auth_cache);
    apigw_response_destroy(&gw->resp);
    buf_destroy(&gw->ev);
    free(gw);
}

json_t *apigw_health_json(const struct apigw *gw)
{
    int n = 0;
    for (const struct api *a = gw->apis; a; a = a->next)
        n++;
    return json_pack("{s:i, s:s, s:I}", "apis", n, "environment_api", apigw_env_api_id(gw),
                     "requests", (json_int_t)gw->served);
}
