/*
 * aws.h — the AWS client the functions use, the same code on AWS and under `haar up`:
 * JSON-protocol calls to SQS and DynamoDB, signed with SigV4 (core/sigv4.h: the very code
 * the daemon verifies with), sent over one kept-alive connection per endpoint
 * (aws/http.h), retried as the SDKs' standard mode retries (aws/retry.h), bounded by the
 * caller's deadline (the invocation's remaining time).
 *
 * The typed calls live in aws/sqs.h and aws/ddb.h; this is what they share. Settings come
 * from the environment as an SDK reads them (aws/env.h): credentials (with the session
 * token), region, endpoints (AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL > regional),
 * AWS_MAX_ATTEMPTS; HAAR_AWS_HTTP picks the transport (aws/http.h).
 *
 * A client belongs to one thread (a function's one handler thread); not thread-safe.
 */
#ifndef HAAR_AWS_AWS_H
#define HAAR_AWS_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/env.h"
#include "aws/http.h"
#include "aws/retry.h"
#include "core/buf.h"

enum aws_service { AWS_SQS, AWS_DYNAMODB, AWS_SERVICE_COUNT };

/* Results of every call. */
enum {
    AWS_OK = 0,
    AWS_ESERVICE = -1,   /* the service answered an error: see code and message */
    AWS_ETRANSPORT = -2, /* no answer (connection, malformed answer), retries exhausted */
    AWS_ETIMEOUT = -3,   /* the deadline passed (or left no room for another attempt) */
    AWS_EINVAL = -4,     /* a bad argument, or an answer that does not parse */
    AWS_ENOMEM = -5,
};

/* Why a call failed. code is the service's error code (the part of "__type" after '#':
 * "ConditionalCheckFailedException"), "" when the failure is not the service's. */
struct aws_error {
    int rc;
    int status; /* HTTP status of the last answer, 0 if none */
    char code[96];
    char message[512];
    char request_id[96];
    int attempts; /* made, first one included */
};

/* A short name for an AWS_* result (static string). */
const char *aws_strerror(int rc);

/* True when err is the service error `code`. */
bool aws_error_is(const struct aws_error *err, const char *code);

/* How a client is made. Everything is optional: zeroes mean the process's environment,
 * real time, real sleeping and getrandom. Tests replace the clock, sleep and random. */
struct aws_client_options {
    aws_getenv_fn getenv;
    void *getenv_arg;
    int64_t (*now_ms)(void *arg); /* epoch ms, CLOCK_REALTIME */
    void (*sleep_ms)(void *arg, int64_t ms);
    double (*random)(void *arg); /* [0, 1) */
    void *hook_arg;
    int64_t connect_timeout_ms; /* per attempt, default AWS_CONNECT_TIMEOUT_MS */
    int64_t attempt_timeout_ms; /* per attempt, default AWS_ATTEMPT_TIMEOUT_MS */
};

enum {
    AWS_CONNECT_TIMEOUT_MS = 2000,
    AWS_ATTEMPT_TIMEOUT_MS = 10000,
    AWS_MAX_REQUEST = 8 * 1024 * 1024, /* a request body */
};

struct aws_client;

/* A client from the environment. NULL with the reason in err when a setting is missing or
 * invalid (credentials, region, an endpoint URL, HAAR_AWS_HTTP, AWS_MAX_ATTEMPTS). Connects
 * lazily. */
struct aws_client *aws_client_new(const struct aws_client_options *o, char *err, size_t errlen);

/* Closes its connections and frees it; accepts NULL. */
void aws_client_free(struct aws_client *c);

/*
 * One call of a JSON-protocol operation: POSTs body (the JSON request, len bytes) with
 * X-Amz-Target <service's prefix>.<op>, signed, retried per the standard mode while the
 * deadline (epoch ms; 0: none) allows. On AWS_OK, out holds the answer's body (appended);
 * on AWS_ESERVICE, the error answer's body (some errors carry data: DynamoDB's failed
 * condition returns the item). err is always filled. out's cap bounds the answer.
 */
int aws_client_call(struct aws_client *c, enum aws_service s, const char *op, const char *body,
                    size_t len, int64_t deadline_ms, struct buf *out, struct aws_error *err);

/* The resolved endpoint of a service (for logs and tests). Borrowed. */
const struct aws_endpoint *aws_client_endpoint(const struct aws_client *c, enum aws_service s);

/* The region (borrowed) and access key id in use. */
const char *aws_client_region(const struct aws_client *c);
const char *aws_client_access_key(const struct aws_client *c);

/* Counters, for tests and logs: TCP connections opened to a service's endpoint, attempts
 * made, retries taken, and the retry quota's tokens. */
unsigned long aws_client_connects(const struct aws_client *c, enum aws_service s);
unsigned long aws_client_attempts(const struct aws_client *c);
unsigned long aws_client_retries(const struct aws_client *c);
int aws_client_quota(const struct aws_client *c);

/* The transport a service's calls use. */
enum aws_http_backend aws_client_backend(const struct aws_client *c, enum aws_service s);

#endif
