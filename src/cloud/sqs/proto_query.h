/*
 * proto_query.h — SQS over the query protocol (form-encoded Action=..., XML answers with a
 * RequestId, <ErrorResponse> errors), the protocol of Debian's AWS CLI 2.9 and boto3 1.26.
 * Requests may be posted to / or to the queue's own URL. One engine call per operation
 * (queue.h); an operation table. Loop thread only.
 */
#ifndef HAAR_CLOUD_SQS_PROTO_QUERY_H
#define HAAR_CLOUD_SQS_PROTO_QUERY_H

#include "cloud/proto/proto.h"

struct sqs;

/* The router row of SQS's query protocol (s borrowed: it must outlive the router). */
void sqs_query_service(struct sqs *s, struct proto_service *out);

/* The adapter (the row's handle): engine is a struct sqs. Exposed for the protocol tests and
 * the fuzz target. */
void sqs_query_handle(void *engine, struct proto_req *r);

#endif
