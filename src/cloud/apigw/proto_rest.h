/*
 * proto_rest.h — the apigatewayv2 management API (REST-JSON, API version 2018-11-29) on the
 * AWS port: /v2/apis... and /v2/tags/..., signed as "apigateway". Routes are data; bodies
 * are checked against the model's member types (unknown members dropped) before the engine
 * sees them; answers are the engine's documents; errors are AWS's (X-Amzn-ErrorType plus
 * {"message"}: NotFoundException, BadRequestException, ConflictException). Loop thread only.
 */
#ifndef HAAR_CLOUD_APIGW_PROTO_REST_H
#define HAAR_CLOUD_APIGW_PROTO_REST_H

#include "cloud/proto/proto.h"

struct apigw;

/* The router row of the management API (gw borrowed: it must outlive the router). */
void apigw_rest_service(struct apigw *gw, struct proto_service *out);

#endif
