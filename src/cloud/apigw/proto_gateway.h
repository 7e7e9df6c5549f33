/*
 * proto_gateway.h — the API port's adapter: each HTTP request (a struct proto_req) becomes an
 * apigw_request served by the engine (apigw_serve); the engine's response becomes the HTTP
 * answer. The client going away cancels the exchange (and detaches its invocation).
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_APIGW_PROTO_GATEWAY_H
#define HAAR_CLOUD_APIGW_PROTO_GATEWAY_H

#include "cloud/proto/proto.h"

struct apigw;

/* The http handler for the API port: engine is a struct apigw. */
void apigw_gateway_handle(void *engine, struct proto_req *r);

#endif
