/*
 * router.h — the AWS endpoint (:4566): tells services apart as real SDKs address a custom
 * endpoint (X-Amz-Target, REST path, form Action=) and hands each request to its protocol
 * adapter; serves GET /_haar/health. Loop thread only.
 */
#ifndef HAAR_CLOUD_ROUTER_H
#define HAAR_CLOUD_ROUTER_H

#include <stdint.h>

#include <jansson.h>

struct http_req;
struct lambda;
struct logs;

#define ROUTER_MAX_KEYS 16

/* An access key the endpoint accepts, with its secret. */
struct router_key {
    char id[129];
    char secret[129];
};

struct router {
    struct lambda *lambda;
    struct logs *logs;
    uint16_t aws_port;
    const char *project;
    const char *environment;
    const char *region;
    int64_t started_ms;
    struct router_key keys[ROUTER_MAX_KEYS]; /* router_set_keys */
    int nkeys;
};

/*
 * The access keys requests may be signed with, from "ID:SECRET[,ID:SECRET...]"
 * (HAAR_ACCESS_KEYS); NULL or "" means the local-tools convention, test/test. Each
 * function's own key pair is accepted too. Returns 0, or -1 with a message in err.
 */
int router_set_keys(struct router *rt, const char *spec, char *err, size_t errlen);

/* The http handler for the AWS port: arg is a struct router. */
void router_handle(void *arg, struct http_req *req);

/* The /_haar/health document. New reference. */
json_t *router_health_json(const struct router *rt);

#endif
