/*
 * proto_json.h — SQS over AWS JSON 1.0 (X-Amz-Target: AmazonSQS.<Op>, awsQueryCompatible:
 * errors carry x-amzn-query-error), the protocol of the AWS SDK for JavaScript v3 and of
 * boto3 >= 1.34.90. One engine call per operation (queue.h); an operation table. Loop
 * thread only.
 */
#ifndef HAAR_CLOUD_SQS_PROTO_JSON_H
#define HAAR_CLOUD_SQS_PROTO_JSON_H

#include "cloud/proto/proto.h"

struct sqs;

/* The router row of SQS's JSON protocol (s borrowed: it must outlive the router). */
void sqs_json_service(struct sqs *s, struct proto_service *out);

/* The adapter (the row's handle): engine is a struct sqs. Exposed for the protocol tests and
 * the fuzz target. */
void sqs_json_handle(void *engine, struct proto_req *r);

#endif
