/*
 * proto_rest.h — the Lambda REST-JSON protocol adapter (API version 2015-03-31 and the paths
 * of later API dates: concurrency, tags, event invoke configs, code signing, provisioned
 * concurrency, layers, function URL configurations): AWS paths,
 * bodies and error shapes (header X-Amzn-ErrorType plus {"Type","message"} bodies). Also the
 * presigned download of a function's package (GetFunction's Code.Location). Loop thread only.
 */
#ifndef HAAR_CLOUD_LAMBDA_PROTO_REST_H
#define HAAR_CLOUD_LAMBDA_PROTO_REST_H

#include <stddef.h>
#include <stdint.h>

#include "cloud/proto/proto.h"

struct lambda;

/* The adapter's state: the engine, and the key Code.Location URLs are signed with (random
 * per daemon start; a URL lives 10 minutes, as AWS's do). */
struct lambda_rest {
    struct lambda *lm;
    const char *region;
    uint16_t aws_port;
    uint16_t api_port; /* where function URLs are served */
    char presign_key[24];
    char presign_secret[48];
};

/* Sets the adapter up (a fresh presigning key). Function URLs are given as served on
 * api_port. */
void lambda_rest_init(struct lambda_rest *rs, struct lambda *lm, const char *region,
                      uint16_t aws_port, uint16_t api_port);

/* The router row of the Lambda API (rs borrowed: it must outlive the router). */
void lambda_rest_service(struct lambda_rest *rs, struct proto_service *out);

/* GET /_haar/lambda/code/<name>[:<qualifier>] or /_haar/lambda/code/layer/<name>/<version>
 * with its presigned query: the package as uploaded, when the URL's signature holds and has
 * not expired (403 otherwise). arg is a struct lambda_rest. */
void lambda_rest_code_download(void *arg, struct proto_req *req);

#endif
