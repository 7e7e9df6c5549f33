/*
 * auth.h — HTTP API authorizers: JWT (verified here with OpenSSL libcrypto against a JWKS
 * document) and Lambda (the request event is event.h's; this module reads the function's
 * answer), plus identity sources and the authorizer result cache.
 *
 * JWT (AWS "Control access to HTTP APIs with JWT authorizers"): the identity source's value
 * is the token, optionally prefixed "Bearer "; header.payload.signature in base64url;
 * alg RS256/RS384/RS512/ES256/ES384 (AWS documents RSA only; EC is accepted too); the header's
 * kid must name a key of the JWKS (whose own alg, when given, must agree); iss must equal the
 * configured issuer; aud (a string or an array) or, without aud, client_id must match one
 * configured audience; exp is required and must be after now, nbf and iat (when present) not
 * after now, each with `skew_s` of tolerance; when the route has authorization scopes the
 * token's `scope` (space-separated) or `scp` (array or string) must hold one of them.
 * No token: 401 {"message":"Unauthorized"}; a token that fails: 401 with a www-authenticate
 * header; missing scope: 403 {"message":"Forbidden"}.
 *
 * Lambda: a missing or empty identity source means 401 without invoking; the simple response
 * {"isAuthorized": bool, "context": {...}} or an IAM policy {principalId, policyDocument,
 * context} (an explicit Deny wins; an Allow must cover the route ARN) decide allow/403;
 * anything else, or a function error, is 500. Results are cached by the identity values
 * (apigw_auth_cache_key) for the authorizer's TTL; the cache takes the time as an argument.
 *
 * Nothing here does I/O or reads a clock. JWKS and caches are not thread-safe to modify;
 * verifying against a JWKS nobody modifies is thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_AUTH_H
#define HAAR_CLOUD_APIGW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/apigw/request.h"
#include "core/buf.h"

enum apigw_auth_status {
    APIGW_AUTH_ALLOW,
    APIGW_AUTH_UNAUTHORIZED, /* 401 {"message":"Unauthorized"} */
    APIGW_AUTH_FORBIDDEN,    /* 403 {"message":"Forbidden"} */
    APIGW_AUTH_ERROR,        /* 500 {"message":"Internal Server Error"} */
};

/* HTTP status and message for a refusal (0 and NULL for ALLOW). */
int apigw_auth_http_status(enum apigw_auth_status st);
const char *apigw_auth_message(enum apigw_auth_status st);

/* ---- JWT ---- */

struct apigw_jwks;

/* Parses a JWKS document ({"keys":[{kty, kid, n, e | crv, x, y, alg?, use?}, ...]}); keys of
 * other types or uses are skipped. NULL with a message in err when the document is not a
 * JWKS or out of memory. Free with apigw_jwks_free (NULL ok). */
struct apigw_jwks *apigw_jwks_parse(const char *json, size_t len, char *err, size_t errlen);
void apigw_jwks_free(struct apigw_jwks *k);

/* Number of usable keys. */
size_t apigw_jwks_count(const struct apigw_jwks *k);

struct apigw_jwt_config {
    const char *issuer;           /* required */
    const char *const *audiences; /* at least one */
    size_t naudiences;
    const char *const *scopes; /* the route's authorizationScopes; may be none */
    size_t nscopes;
    int64_t skew_s; /* tolerance on exp, nbf, iat */
};

enum { APIGW_JWT_SKEW_S = 0 }; /* AWS documents no tolerance: none by default */

struct apigw_jwt_result {
    enum apigw_auth_status status;
    json_t *claims;             /* the payload object when the signature verified; owned */
    char www_authenticate[256]; /* for a 401 after a token was given, else "" */
};

/*
 * Verifies the identity source's value (e.g. the Authorization header: "Bearer <jwt>" or
 * "<jwt>"; value == NULL means absent). Fills res (its claims are the caller's to release
 * with apigw_jwt_result_destroy) and returns res->status.
 */
enum apigw_auth_status apigw_jwt_verify(const struct apigw_jwks *keys,
                                        const struct apigw_jwt_config *cfg, const char *value,
                                        size_t value_len, int64_t now_ms,
                                        struct apigw_jwt_result *res);
void apigw_jwt_result_destroy(struct apigw_jwt_result *res);

/*
 * Appends requestContext.authorizer for a verified token: 2.0 {"jwt":{"claims":{...},
 * "scopes":[...]|null}} (claims as strings: numbers and booleans as text, arrays as
 * "[a b]", objects as compact JSON), 1.0 {"claims":{...},"scopes":...}.
 */
int apigw_jwt_authorizer_json(const json_t *claims, bool v1, struct buf *out);

/* ---- identity sources ---- */

/* Context values an identity source or the cache may read ("$context.routeKey" etc.). */
struct apigw_auth_vars {
    const struct apigw_kv *context; /* names without "$context." */
    size_t ncontext;
    const struct apigw_kv *stage_vars;
    size_t nstage_vars;
};

/*
 * Resolves identity sources ("$request.header.Name" case-insensitive, comma-joined when
 * repeated; "$request.querystring.name" raw-decoded, comma-joined; "$context.name";
 * "$stageVariables.name") into values[] (each pointing into store, which the caller owns
 * and has initialised). Returns APIGW_OK when every source has a non-empty value,
 * APIGW_AUTH_MISSING when one is missing or empty (401 without invoking), or a buf error.
 */
enum { APIGW_AUTH_MISSING = -50 };
int apigw_identity_resolve(const char *const *sources, size_t nsources,
                           const struct apigw_request *req, const struct apigw_auth_vars *vars,
                           struct apigw_kv *values, struct buf *store);

/* ---- Lambda authorizer ---- */

struct apigw_lambda_auth_result {
    enum apigw_auth_status status;
    char *principal_id; /* owned, may be NULL */
    json_t *context;    /* owned object, may be NULL */
    json_t *policy;     /* owned policyDocument (IAM form), may be NULL */
};

/*
 * Reads a Lambda authorizer's output. With simple responses enabled, {"isAuthorized":bool,
 * "context":{...}} is expected; otherwise an IAM policy, evaluated against route_arn.
 * Anything malformed gives APIGW_AUTH_ERROR. Returns res->status.
 */
enum apigw_auth_status apigw_lambda_auth_parse(const char *out, size_t len, bool simple,
                                               const char *route_arn,
                                               struct apigw_lambda_auth_result *res);
void apigw_lambda_auth_result_destroy(struct apigw_lambda_auth_result *res);

/* Evaluates an IAM policy document for execute-api:Invoke on route_arn (Deny wins, '*' and
 * '?' wildcards): ALLOW or FORBIDDEN (ERROR when the document is malformed). */
enum apigw_auth_status apigw_policy_evaluate(const json_t *policy, const char *route_arn);

/* Appends requestContext.authorizer for a Lambda authorizer: 2.0 {"lambda":{context}}
 * (plus principalId for policy answers); 1.0 the context's members flattened with
 * principalId and integrationLatency. */
int apigw_lambda_authorizer_json(const struct apigw_lambda_auth_result *res, bool v1,
                                 struct buf *out);

/* "arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path without leading />". */
int apigw_route_arn(const char *region, const char *account, const char *api, const char *stage,
                    const char *method, size_t method_len, const char *path, size_t path_len,
                    struct buf *out);

/* ---- the result cache ---- */

/* The cache key of one request: the authorizer's id and the identity values, hashed (SHA-256,
 * 64 hex + NUL into key). Pure; equal values give equal keys, any difference another key. */
void apigw_auth_cache_key(const char *authorizer_id, const struct apigw_kv *values, size_t n,
                          char key[65]);

struct apigw_auth_cache;

/* A cache of at most `capacity` entries (oldest evicted first). NULL when out of memory. */
struct apigw_auth_cache *apigw_auth_cache_new(size_t capacity);
void apigw_auth_cache_free(struct apigw_auth_cache *c);

/* Stores a copy of value (len bytes: the authorizer's raw output, say) under key until
 * now_ms + ttl_s*1000. A TTL of 0 stores nothing (caching off). Returns APIGW_OK or APIGW_ENOMEM.
 */
int apigw_auth_cache_put(struct apigw_auth_cache *c, const char key[65], const char *value,
                         size_t len, int ttl_s, int64_t now_ms);

/* The value stored under key if it has not expired at now_ms (borrowed until the next put or
 * free), else NULL (an expired entry is dropped). */
const char *apigw_auth_cache_get(struct apigw_auth_cache *c, const char key[65], int64_t now_ms,
                                 size_t *len);

#endif
