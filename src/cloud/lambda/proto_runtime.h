/*
 * proto_runtime.h — the Lambda Runtime API (2018-06-01) adapter: the requests of one execution
 * environment's runtime, on the listener the daemon opens for it (AWS-CONTRACTS.md §1).
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_LAMBDA_PROTO_RUNTIME_H
#define HAAR_CLOUD_LAMBDA_PROTO_RUNTIME_H

#include "cloud/proto/proto.h"

/* Handles one Runtime API request of the environment env (a struct lambda_env). */
void runtime_api_handle(void *env, struct proto_req *req);

#endif
