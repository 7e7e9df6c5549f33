/*
 * client.h — the HTTP client of the verbs that talk to a running daemon (`haar invoke`,
 * `status`, `logs`, `trigger`): one kept-alive libcurl handle, requests SigV4-signed by
 * libcurl with HAAR_ACCESS_KEY_ID / HAAR_SECRET_ACCESS_KEY (default test/test). The endpoint
 * is --endpoint, else $HAAR_ENDPOINT, else http://127.0.0.1:4566. One thread.
 */
#ifndef HAAR_CLOUD_CLIENT_H
#define HAAR_CLOUD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "core/buf.h"

struct client {
    CURL *curl;
    char endpoint[512]; /* without a trailing '/' */
    char region[32];
    char userpwd[300];
    char err[CURL_ERROR_SIZE]; /* why the last request failed to reach the daemon */
};

struct client_reply {
    long status;
    struct buf body;      /* capped at 64 MB */
    bool function_error;  /* X-Amz-Function-Error was present */
    char error_type[128]; /* X-Amzn-ErrorType, up to its first ':' */
};

/* Sets the client up for endpoint (NULL: $HAAR_ENDPOINT, else the default) and region
 * (NULL: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1). Returns 0, or -1 with a message
 * on stderr (prefixed with verb). */
int client_init(struct client *c, const char *verb, const char *endpoint, const char *region);

/* Frees the handle; accepts a zeroed client. */
void client_destroy(struct client *c);

/* Sets the region requests are signed for. */
void client_set_region(struct client *c, const char *region);

/* One request: method, path (and query) appended to the endpoint, SigV4-signed for service
 * unless service is NULL, with extra headers ("Name: value", NULL-ended, may be NULL) and a
 * body (NULL: none). r is reset first; free r->body with buf_destroy. Returns 0 when the
 * daemon answered (any status), -1 when it could not be reached (c->err says why). */
int client_request(struct client *c, const char *method, const char *path, const char *service,
                   const char *const *headers, const char *body, size_t len,
                   struct client_reply *r);

/* The JSON body of a reply, parsed (new reference), or NULL. */
struct json_t *client_reply_json(const struct client_reply *r);

#endif
