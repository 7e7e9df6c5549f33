/*
 * sqs.h — the SQS calls the functions make, over SQS's JSON protocol (AWS-CONTRACTS.md §3:
 * X-Amz-Target AmazonSQS.<Op>, QueueUrl in the body). Typed: callers never write JSON.
 * Answers are checked as the SDKs check them (the MD5 of the body SQS says it stored).
 * Same threading as the client (aws.h).
 */
#ifndef HAAR_AWS_SQS_H
#define HAAR_AWS_SQS_H

#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"

enum { AWS_SQS_MESSAGE_ID_MAX = 128 };

/* One string message attribute (DataType String). */
struct aws_sqs_attribute {
    const char *name;
    const char *value;
};

struct aws_sqs_message {
    const char *queue_url;
    const char *body; /* the message, body_len bytes of UTF-8 */
    size_t body_len;
    int delay_seconds; /* 0..900, or -1 for the queue's */
    const struct aws_sqs_attribute *attributes;
    size_t nattributes;
};

/*
 * SendMessage. On AWS_OK message_id holds the id SQS gave the message. Fails with
 * AWS_EINVAL when the MD5 of the body SQS reports is not the body's (the message may
 * have been stored damaged: a caller may send it again). err as aws_client_call fills it.
 */
int aws_sqs_send_message(struct aws_client *c, const struct aws_sqs_message *m, int64_t deadline_ms,
                         char message_id[AWS_SQS_MESSAGE_ID_MAX], struct aws_error *err);

#endif
