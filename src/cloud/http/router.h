/*
 * router.h — the AWS endpoint (:4566): tells services apart as real SDKs address a custom
 * endpoint, checks each request's SigV4 signature against the service's signing name, and
 * hands the request to the service's adapter.
 *
 * Services are rows (struct proto_service): a request is recognised by its X-Amz-Target
 * prefix (JSON protocols), its form Action= value (query protocol; the credential scope's
 * service decides when two services share an action), or its REST path prefix. Requests
 * nothing recognises get 404 UnknownOperationException; a known JSON target prefix with an
 * unknown operation is the service's to answer.
 *
 * Paths under /_haar/ are haar's own (health, clock, presigned downloads): registered
 * handlers, answered without a signature check (a handler checks its own, e.g. presigned).
 *
 * Credentials: access keys from HAAR_ACCESS_KEYS (default test/test; long-term keys, so a
 * request carrying a session token with them is refused), then each registered source in
 * order (Lambda functions' own keys, STS temporary credentials).
 *
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_ROUTER_H
#define HAAR_CLOUD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud/proto/proto.h"
#include "core/err.h"

#define ROUTER_MAX_KEYS     16
#define ROUTER_MAX_SERVICES 32
#define ROUTER_MAX_SOURCES  8
#define ROUTER_MAX_INTERNAL 16

/* An access key the endpoint accepts, with its secret. */
struct router_key {
    char id[129];
    char secret[129];
};

/* A source of credentials: fills *secret (borrowed, valid during the request) and the caller
 * identity for key + token (token "" when none); false when the key is not its. */
typedef bool (*router_cred_fn)(void *arg, const char *key, const char *token, const char **secret,
                               struct proto_caller *who);

struct router_internal {
    const char *path; /* exact path, or a prefix when it ends with '/' */
    void (*fn)(void *arg, struct proto_req *r);
    void *arg;
};

struct router {
    const char *region;
    struct router_key keys[ROUTER_MAX_KEYS];
    int nkeys;
    const struct proto_service *services[ROUTER_MAX_SERVICES];
    int nservices;
    struct {
        router_cred_fn fn;
        void *arg;
    } sources[ROUTER_MAX_SOURCES];
    int nsources;
    struct router_internal internal[ROUTER_MAX_INTERNAL];
    int ninternal;
};

/*
 * The access keys requests may be signed with, from "ID:SECRET[,ID:SECRET...]"
 * (HAAR_ACCESS_KEYS); NULL or "" means the local-tools convention, test/test. Returns 0, or
 * -1 with a message in err.
 */
int router_set_keys(struct router *rt, const char *spec, char *err, size_t errlen);

/* Adds a service row (borrowed: it must outlive the router). Returns 0, or -1 when full. */
int router_add_service(struct router *rt, const struct proto_service *svc);

/* Adds a credential source. Returns 0, or -1 when full. */
int router_add_creds(struct router *rt, router_cred_fn fn, void *arg);

/* Adds a /_haar/ handler. Returns 0, or -1 when full. */
int router_add_internal(struct router *rt, const char *path,
                        void (*fn)(void *arg, struct proto_req *r), void *arg);

/*
 * Checks req's SigV4 signature (Authorization header or presigned query) for the signing
 * name service, against real time, with the router's credentials (its keys, then each
 * credential source): ERR_OK and req->caller filled (who signed), or the error the AWS port
 * would answer (ERR_MISSING_AUTH, ERR_INCOMPLETE_SIGNATURE, ERR_UNRECOGNIZED_CLIENT,
 * ERR_INVALID_SIGNATURE) with the reason in msg. For requests that come another way (a
 * function URL with AuthType AWS_IAM on the API port). Loop thread only.
 */
enum err router_verify(const struct router *rt, struct proto_req *req, const char *service,
                       char *msg, size_t msglen);

/* The http handler for the AWS port: arg is a struct router. */
void router_handle(void *arg, struct proto_req *req);

/* Requests whose bodies are longer than this are screened at their head. */
#define ROUTER_SCREEN_MIN_BODY (64 * 1024)

/*
 * The AWS port's screen (http_screen_fn): a request declaring a body over
 * ROUTER_SCREEN_MIN_BODY bytes (or chunked) is refused before its body is read when it has
 * no Authorization (nor a presigned query), a malformed one, an access key no credential
 * source knows, or a declared length over its service's max_body. The answer is the one the
 * whole request would get, in the service's shape when its target or path tells the service
 * (a form body's Action= is not read: those get the REST shape). Shorter requests, and
 * /_haar/ paths, are left to router_handle. arg is a struct router.
 */
void router_screen(void *arg, struct proto_req *head, uint64_t declared);

/* The service a request would go to (NULL: none), and its operation name. Exposed for tests
 * and the fuzz target. */
const struct proto_service *router_match(const struct router *rt, const struct proto_req *req,
                                         const char **op, size_t *op_len);

#endif
