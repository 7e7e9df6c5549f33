/*
 * apigw.h — the API Gateway HTTP API engine: APIs, routes, integrations, stages (with stage
 * variables, AutoDeploy and deployments), authorizers, throttling, CORS and access-log
 * settings, kept durably in the store; and the data path that serves a request through
 * them (route → throttle → authorizer → Lambda proxy integration → response).
 *
 * Resources are held in their wire form (the apigatewayv2 REST model's camelCase members,
 * e.g. {"apiId","name","protocolType",...}), which the management adapter (proto_rest.c)
 * validates for types and required members before calling in, and renders back as they
 * are. The engine owns the semantics: ids, defaults, references between resources,
 * conflicts, deployments (a deployment is a snapshot of the API's routes, integrations and
 * authorizers; a stage serves the deployment it names; an AutoDeploy stage gets a new
 * deployment after every change), and the compiled form each stage serves.
 *
 * Every command completes through a callback, later (never from inside the call), once its
 * change is committed (batch done rc 0); a failed commit undoes the change in memory and
 * completes with ERR_APIGW_INTERNAL. The environment's own API (apigw_provision_env) lives
 * in memory only: config recreates it at every start.
 *
 * The data path (apigw_serve) takes a protocol-neutral request (request.h) and answers with
 * a struct apigw_response (response.h). No HTTP types here: the API port's adapter
 * (proto_gateway.c) translates. Everything runs on the loop thread; nothing is thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_APIGW_H
#define HAAR_CLOUD_APIGW_APIGW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/apigw/request.h"
#include "cloud/apigw/response.h"
#include "core/err.h"

struct apigw;
struct apigw_exchange;
struct lambda;
struct logs;
struct store;

/* HTTP API quotas the data path applies (AWS "Amazon API Gateway quotas for HTTP APIs"). */
enum {
    APIGW_MAX_PAYLOAD = 10 * 1024 * 1024, /* request body */
    APIGW_MAX_HEAD = 10240,               /* request line plus header names and values */
    APIGW_MAX_TIMEOUT_MS = 30000,         /* integration timeout, not increasable */
    APIGW_AUTHORIZER_TIMEOUT_MS = 10000,
};

/* Loop services the host (the daemon) provides. */
struct apigw_host {
    void *arg;
    /*
     * Fetches url ("http://", "https://" or a local path "/...", "file://...") off the loop,
     * keeping at most max bytes. done(cbarg, rc, body, len) runs later on the loop: rc 0 with
     * the body of a 2xx answer (or the file), else -1 (body NULL). May be NULL: JWKS URLs
     * then fail to load (their requests are answered 401).
     */
    void (*fetch)(void *arg, const char *url, size_t max,
                  void (*done)(void *cbarg, int rc, const char *body, size_t len), void *cbarg);
};

struct apigw_options {
    const char *region;  /* "eu-west-1" */
    const char *account; /* "000000000000" */
    uint16_t api_port;   /* for apiEndpoint and x-forwarded-port */
};

/* Creates the engine over lambda, logs and store (all borrowed; store NULL: nothing
 * persists, logs NULL: access logs are dropped). NULL with a message in err when out of
 * memory or when the store's schema cannot be applied. */
struct apigw *apigw_new(const struct apigw_options *opt, const struct apigw_host *host,
                        struct lambda *lambda, struct logs *logs, struct store *store, char *err,
                        size_t errlen);

/* Loads the persisted APIs (after apigw_provision_env). */
void apigw_restore(struct apigw *gw);

/* Frees everything; accepts NULL. Exchanges still in flight must have been cancelled. */
void apigw_free(struct apigw *gw);

/* ---- the environment's own API (from config), served at the root of the API port ---- */

/*
 * What infra/layers/20_infra and 30_app declare for the environment's HTTP API: one
 * AWS_PROXY integration (payload 2.0) to the api function, the service's routes, a $default
 * stage with AutoDeploy and default route throttling, access logs to a log group when
 * log_group is set, and CORS when origins are given. Lists left NULL take the layers' values
 * (routes GET /health, POST /tasks, GET /tasks, GET /tasks/{id}, POST /tasks/{id}/retry and
 * $default; CORS methods GET, POST, OPTIONS, headers content-type, idempotency-key,
 * authorization, exposed location, max age 3600; the access-log format of 20_infra, as
 * jsonencode writes it). Strings are borrowed for the call.
 */
struct apigw_env_spec {
    const char *name;              /* "haar-dev-api" */
    const char *description;       /* "haar-dev task API" */
    const char *function;          /* the api function's name */
    int timeout_ms;                /* integration timeout (≤ 30000) */
    const char *const *route_keys; /* NULL: the layers' */
    size_t nroute_keys;
    double rate_limit; /* throttling rate (requests per second) */
    int burst_limit;
    const char *const *cors_origins; /* none: no CORS configuration */
    size_t ncors_origins;
    const char *const *cors_methods; /* NULL: the layers' */
    size_t ncors_methods;
    const char *const *cors_headers; /* NULL: the layers' */
    size_t ncors_headers;
    const char *const *cors_expose; /* NULL: the layers' */
    size_t ncors_expose;
    int cors_max_age;       /* with the layers' lists: 3600 */
    const char *log_group;  /* access logs' group, or NULL for none */
    const char *log_format; /* NULL: the layers' */
    json_t *tags;           /* object or NULL (borrowed) */
    /* A JWT authorizer (20_infra's, identity source the Authorization header) in front of
     * every route but GET /health, as 30_app wires it; jwt_issuer NULL or "": none. */
    const char *jwt_name; /* "haar-dev-jwt" */
    const char *jwt_issuer;
    const char *const *jwt_audience;
    size_t njwt_audience;
};

/* Provisions the environment's API (in memory; not persisted). Returns ERR_OK or an error
 * with msg. The API is served for requests that name no other API. */
enum err apigw_provision_env(struct apigw *gw, const struct apigw_env_spec *spec, char *msg,
                             size_t msglen);

/* The environment API's id ("" when none). */
const char *apigw_env_api_id(const struct apigw *gw);

/* ---- the management API (apigatewayv2) --------------------------------------------- */

enum apigw_kind {
    APIGW_KIND_API,
    APIGW_KIND_ROUTE,
    APIGW_KIND_INTEGRATION,
    APIGW_KIND_STAGE,
    APIGW_KIND_AUTHORIZER,
    APIGW_KIND_DEPLOYMENT,
    APIGW_KIND_COUNT
};

/* Completion of a command: ERR_OK with the resource as it now is (borrowed for the call; NULL
 * for deletions), or an error with AWS's message. */
typedef void (*apigw_done_fn)(void *arg, enum err e, const char *msg, const json_t *doc);

/*
 * Creates a resource of kind in API api_id (ignored for APIGW_KIND_API) from spec: wire
 * members, type-checked by the adapter (unknown members already dropped). For an API,
 * `target` (+ `routeKey`) is AWS's quick create: an integration, a route and an AutoDeploy
 * $default stage come with it. done runs exactly once, later.
 */
void apigw_create(struct apigw *gw, enum apigw_kind kind, const char *api_id, const json_t *spec,
                  apigw_done_fn done, void *arg);

/* Updates the members present in patch (objects replaced whole; a stage's routeSettings
 * merged by route key). */
void apigw_update(struct apigw *gw, enum apigw_kind kind, const char *api_id, const char *id,
                  const json_t *patch, apigw_done_fn done, void *arg);

/* Deletes a resource (an API with everything in it). */
void apigw_delete(struct apigw *gw, enum apigw_kind kind, const char *api_id, const char *id,
                  apigw_done_fn done, void *arg);

/* The parts of a resource that have their own DELETE: an API's corsConfiguration, a stage's
 * accessLogSettings, one route key's routeSettings (key), the authorizers' cache of a stage. */
enum apigw_part {
    APIGW_PART_CORS,
    APIGW_PART_ACCESS_LOG,
    APIGW_PART_ROUTE_SETTINGS,
    APIGW_PART_AUTH_CACHE
};
void apigw_delete_part(struct apigw *gw, enum apigw_part part, const char *api_id, const char *id,
                       const char *key, apigw_done_fn done, void *arg);

/* Reads one resource: ERR_OK and *doc (a new reference, wire form), or an error with msg. */
enum err apigw_get(struct apigw *gw, enum apigw_kind kind, const char *api_id, const char *id,
                   json_t **doc, char *msg, size_t msglen);

/* Lists the resources of a kind (APIs: all; others: the API's), ordered by id, as a new
 * array. ERR_OK or NotFound for an unknown API. */
enum err apigw_list(struct apigw *gw, enum apigw_kind kind, const char *api_id, json_t **items,
                    char *msg, size_t msglen);

/* Tags of a taggable resource named by ARN ("arn:aws:apigateway:<region>::/apis/<id>" or
 * ".../apis/<id>/stages/<name>"): read (new reference), and changed (add merged, then the
 * keys of remove, an array, taken away). */
enum err apigw_tags_get(struct apigw *gw, const char *arn, json_t **tags, char *msg, size_t msglen);
void apigw_tags_change(struct apigw *gw, const char *arn, const json_t *add, const json_t *remove,
                       apigw_done_fn done, void *arg);

/* ---- the data path ---------------------------------------------------------------- */

/* How a request named its API. */
enum apigw_addr {
    APIGW_ADDR_ROOT, /* the API port's root: the environment's API */
    APIGW_ADDR_HOST, /* Host: <api-id>.execute-api.localhost[:port] */
    APIGW_ADDR_PATH, /* /_aws/execute-api/<api-id>/... */
};

/* The answer: called once with the response (borrowed for the call). */
typedef void (*apigw_answer_fn)(void *arg, const struct apigw_response *resp);

/*
 * Serves one request. req and everything it points to are borrowed until the answer or
 * apigw_cancel. The API is chosen by Host (<api-id>.execute-api.localhost) or path prefix
 * (/_aws/execute-api/<api-id>), else the environment's API; then the stage, CORS preflight,
 * the route (404 {"message":"Not Found"}), throttling (429), the route's authorizer
 * (401/403), and the integration (a Lambda proxy invocation bounded by the integration's
 * timeout: 503 past it; 500 for a function error, a malformed answer or a missing
 * permission). Every answer carries apigw-requestid; the stage's access log gets a line.
 * answer(arg, resp) runs exactly once, later, unless the exchange is cancelled first.
 * Returns the exchange, or NULL when out of memory (answer is then never called).
 */
struct apigw_exchange *apigw_serve(struct apigw *gw, const struct apigw_request *req,
                                   apigw_answer_fn answer, void *arg);

/* The client went away: answer will not be called; an invocation in flight is detached. */
void apigw_cancel(struct apigw_exchange *x);

/* Counts for /_haar/health: APIs, and requests served since start. */
json_t *apigw_health_json(const struct apigw *gw);

#endif
