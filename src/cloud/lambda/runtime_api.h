/*
 * runtime_api.h — the Lambda Runtime API (2018-06-01) adapter: one listener per execution
 * environment, on the daemon's loop (AWS-CONTRACTS.md §1). Loop thread only.
 */
#ifndef HAAR_CLOUD_LAMBDA_RUNTIME_API_H
#define HAAR_CLOUD_LAMBDA_RUNTIME_API_H

#include <stdint.h>

struct http_server;
struct lambda_env;

/* Starts env's listener on an ephemeral 127.0.0.1 port. Returns 0 or -1. */
int runtime_api_listen(struct http_server *srv, struct lambda_env *env, uint16_t *port,
                       void **listener);

/* Closes it. */
void runtime_api_unlisten(void *listener);

#endif
