/*
 * apigw_int.h — the engine's structures and the calls its files make to each other
 * (api.c: resources, commands, persistence; compile.c: what a stage serves; serve.c: the data
 * path). Not for other modules.
 *
 * An API holds its resources as wire documents (struct res). What the data path reads is
 * compiled from them and reference-counted, so a request in flight keeps what it started
 * with even when the API changes or goes: a deployment's routes, integrations and
 * authorizers (struct deploy_rt), and a stage's settings with its deployment and the API's
 * CORS (struct stage_rt). Throttle buckets live on the stage resource itself.
 */
#ifndef HAAR_CLOUD_APIGW_INT_H
#define HAAR_CLOUD_APIGW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/apigw/apigw.h"
#include "cloud/apigw/auth.h"
#include "cloud/apigw/cors.h"
#include "cloud/apigw/route.h"
#include "cloud/apigw/throttle.h"
#include "core/buf.h"

struct store_stmt;

/* ---- compiled forms (compile.c) ---- */

enum integ_type { INTEG_LAMBDA, INTEG_UNSUPPORTED };

struct integ_rt {
    char id[16];
    enum integ_type type;
    char function[200]; /* the Lambda function's name, with its qualifier when it has one */
    char fn_arn[256];  /* the integration URI's function ARN */
    bool v1;           /* payload format 1.0 */
    int timeout_ms;
    bool has_role; /* credentialsArn set: invoked with a role, not the resource policy */
};

enum auth_type { AUTH_NONE, AUTH_JWT, AUTH_LAMBDA, AUTH_IAM };

struct auth_rt {
    char id[16];
    char key[40]; /* "<api id>/<authorizer id>": the result cache's namespace */
    enum auth_type type;
    char **sources; /* identity sources */
    size_t nsources;
    /* JWT */
    char *issuer;
    char **audiences;
    size_t naudiences;
    /* Lambda */
    char function[200]; /* name[:qualifier] */
    bool v1;     /* authorizerPayloadFormatVersion 1.0 */
    bool simple; /* enableSimpleResponses */
    int ttl_s;
    bool has_role;
};

struct route_rt {
    const char *key; /* borrowed from the route table */
    enum auth_type auth_type;
    struct auth_rt *auth; /* NULL for NONE / IAM */
    char **scopes;
    size_t nscopes;
    struct integ_rt *integ; /* NULL: the route has no target */
};

struct deploy_rt {
    int refs;
    struct apigw_routes *routes; /* targets are struct route_rt * */
    struct route_rt *r;
    size_t nr;
    struct integ_rt *ig;
    size_t ni;
    struct auth_rt *au;
    size_t na;
};

struct stage_rt {
    int refs;
    char api_id[16];
    char name[136];
    struct deploy_rt *d;   /* NULL: nothing deployed (404) */
    struct apigw_kv *vars; /* stage variables; strings in vars_store */
    size_t nvars;
    struct buf vars_store;
    char *log_group; /* access logs, or NULL */
    char *log_format;
    bool cors_on;
    struct apigw_cors cors; /* strings owned (cors_store) */
    char **cors_store;
    size_t ncors_store;
    bool managed;  /* the environment's API: no resource-policy check */
    bool disabled; /* disableExecuteApiEndpoint: not served by Host or by path */
    char *jwks;    /* the API's tag haar:jwks: where its JWT authorizers' keys are, or NULL
                      (OIDC discovery from the issuer, as AWS does) */
};

/* ---- resources (api.c) ---- */

struct res {
    struct res *next;
    enum apigw_kind kind;
    char id[136];
    json_t *doc;                /* wire form; members starting with '_' are private */
    struct apigw_throttle *thr; /* stages */
    struct stage_rt *rt;        /* stages */
    struct deploy_rt *drt;      /* deployments (compiled lazily) */
};

struct api {
    struct api *next;
    char id[16];
    json_t *doc;
    struct res *kids;
    bool managed; /* the environment's: in memory only */
    /* stage selection (rebuilt with the stages) */
    const char **stage_names;
    struct res **stages;
    size_t nstages;
    struct res *dflt;
};

struct jwks_waiter;

/* A JWKS document by location, fetched once and kept (refetched, at most every 30 s, when a
 * token names a key it lacks). */
struct jwks_ent {
    struct jwks_ent *next;
    char *url;
    struct apigw_jwks *keys; /* NULL until fetched */
    int64_t fetched_ms;
    bool fetching;
    struct jwks_waiter *waiters;
};

struct apigw {
    struct apigw_options opt;
    char region[32];
    char account[16];
    struct apigw_host host;
    struct lambda *lambda;
    struct logs *logs;
    struct store *store;
    struct store_stmt *st_put, *st_del, *st_del_api, *st_all;
    struct api *apis;
    struct api *env;
    struct apigw_auth_cache *auth_cache;
    struct jwks_ent *jwks;
    struct apigw_response resp; /* built and handed to an answer, one at a time */
    struct buf ev;              /* the event being built */
    uint64_t served;
};

/* ---- api.c ---- */
struct api *apigw__api_find(struct apigw *gw, const char *id, size_t len);

/* ---- compile.c ---- */
/* Compiles a deployment's snapshot; NULL when out of memory (msg says so). */
struct deploy_rt *apigw__deploy_compile(const json_t *snapshot, const char *api_id,
                                        const char *region, char *msg, size_t msglen);
void apigw__deploy_release(struct deploy_rt *d);
/* Rebuilds a stage's compiled form, throttle and the API's stage table. Returns 0 or -1. */
int apigw__stage_rebuild(struct apigw *gw, struct api *a, struct res *stage);
int apigw__stages_index(struct api *a);
void apigw__stage_release(struct stage_rt *s);
/* The function name of a Lambda ARN or an invoke URI (…/functions/<arn>/invocations), with
 * the ARN's qualifier when it has one ("name:live"). */
bool apigw__lambda_name(const char *uri, char *name, size_t namelen, char *arn, size_t arnlen);

/* ---- serve.c ---- */
void apigw__jwks_free_all(struct apigw *gw);

#endif
