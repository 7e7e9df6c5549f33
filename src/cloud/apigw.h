/*
 * apigw.h — the API Gateway HTTP API port (:8080): every request becomes a payload 2.0
 * event for the environment's api function ($default route and stage), and the function's
 * answer becomes the HTTP response (AWS-CONTRACTS.md §2). Route tables per method/path
 * are a later issue: today every path goes to the $default route. Loop thread only.
 */
#ifndef HAAR_CLOUD_APIGW_H
#define HAAR_CLOUD_APIGW_H

#include <stdint.h>

#include "cloud/proto/proto.h"

struct lambda;

struct apigw {
    struct lambda *lambda;
    const char *function; /* full name of the api function */
    const char *region;
    uint16_t api_port;
};

/* The http handler for the API port: arg is a struct apigw. */
void apigw_handle(void *arg, struct proto_req *req);

#endif
