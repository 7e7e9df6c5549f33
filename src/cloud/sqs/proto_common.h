/*
 * proto_common.h — what the two SQS protocol adapters (proto_json.c, proto_query.c) share:
 * the per-request context that outlives the handler while the engine works (a commit, a
 * long poll), and small helpers. Adapter layer: loop thread only.
 *
 * Lifecycle of a call: sqs_call_new at the start of a handler that calls the engine
 * asynchronously; when the engine accepts the command (ERR_OK), sqs_call_wait registers for
 * the client going away; the engine's callback asks sqs_call_req for the request (NULL when
 * the client is gone), answers it, and frees the call. A gone client cancels a parked
 * receive (call->w) and the call is freed with it; for other commands the engine's callback
 * still runs and frees the call.
 */
#ifndef HAAR_CLOUD_SQS_PROTO_COMMON_H
#define HAAR_CLOUD_SQS_PROTO_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "cloud/proto/proto.h"
#include "cloud/sqs/queue.h"

struct sqs_call {
    struct proto_req *r; /* NULL once the client went away */
    struct sqs *s;
    struct sqs_waiter *w; /* a receive in progress */
    bool waiting;
    bool query;
    char op[48]; /* the operation, for the XML element names */
};

/* A new call for r (NULL when out of memory; the caller answers InternalFailure). */
struct sqs_call *sqs_call_new(struct proto_req *r, struct sqs *s, bool query);

/* The engine took the command: from now on the call lives until its callback (or, for a
 * receive, until the client goes away). */
void sqs_call_wait(struct sqs_call *c);

/* The request to answer from the engine's callback, or NULL when the client is gone. */
struct proto_req *sqs_call_req(struct sqs_call *c);

/* Frees the call (from the engine's callback, after answering). */
void sqs_call_free(struct sqs_call *c);

/* The queue a request names (QueueUrl, or for the query protocol the path the request was
 * posted to). On failure answers the error and returns NULL. */
struct sqs_queue *sqs_call_queue(struct proto_req *r, struct sqs *s, bool query,
                                 struct sqs_str url);

/* Answers "The request must contain the parameter <name>." (MissingParameter). */
void sqs_missing(struct proto_req *r, const char *name);

/* The router's __type namespace of an error (proto_service.json_type_ns_of). */
const char *sqs_json_type_ns(enum err e);

/* True for the errors a batch entry reports as the caller's fault (SenderFault). */
bool sqs_sender_fault(enum err e);

/* Parses a decimal integer of len bytes (query parameters). */
bool sqs_int_of(const char *p, size_t len, long long *out);

#endif
