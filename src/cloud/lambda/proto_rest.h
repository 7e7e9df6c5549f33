/*
 * proto_rest.h — the Lambda REST-JSON protocol adapter (API version 2015-03-31 and the
 * concurrency paths of 2017-10-31 / 2019-09-30): AWS paths, bodies and error shapes
 * (error header X-Amzn-ErrorType plus {"Type","message"} bodies). Loop thread only.
 */
#ifndef HAAR_CLOUD_LAMBDA_PROTO_REST_H
#define HAAR_CLOUD_LAMBDA_PROTO_REST_H

#include <stdbool.h>
#include <stdint.h>

struct http_req;
struct lambda;

/*
 * Handles req if its path is a Lambda API path, answering it now or later (Invoke).
 * Returns false (and leaves req alone) for other paths. aws_port builds Code.Location.
 */
bool lambda_rest_handle(struct lambda *lm, uint16_t aws_port, struct http_req *req);

#endif
