/*
 * validate.h — every refusal SQS gives before a request touches a queue, with AWS's code
 * (an ERR_SQS_ row; errors.h gives each protocol's form), status and message.
 *
 * Messages come from AWS-RECORDED.md where it has them; the ones it lacks are marked
 * "unconfirmed" beside their text in validate.c (and listed in the report). Every function
 * here is pure: no queue, no clock (the caller passes times), no I/O. Thread-safe.
 *
 * Conventions: inputs are borrowed sqs_str (attrs.h); on a refusal the function returns the
 * error and writes AWS's message into msg (msglen bytes, always NUL-terminated when
 * msglen > 0); on success it returns ERR_OK and leaves msg alone.
 */
#ifndef HAAR_CLOUD_SQS_VALIDATE_H
#define HAAR_CLOUD_SQS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud/sqs/attrs.h"
#include "core/err.h"

enum {
    SQS_QUEUE_NAME_MAX = 80,       /* characters, ".fifo" included */
    SQS_BATCH_MAX = 10,            /* entries in a batch */
    SQS_BATCH_ID_MAX = 80,         /* characters in a batch entry Id */
    SQS_BATCH_MAX_BYTES = 1048576, /* a SendMessageBatch's bodies and attributes */
    SQS_VISIBILITY_MAX = 43200,    /* seconds: 12 hours */
    SQS_DELAY_MAX = 900,           /* seconds */
    SQS_WAIT_MAX = 20,             /* seconds of long polling */
    SQS_RECEIVE_MAX = 10,          /* MaxNumberOfMessages */
    SQS_FIFO_ID_MAX = 128,         /* MessageGroupId, MessageDeduplicationId, attempt id */
    SQS_ACCOUNT_LEN = 12,          /* digits of an account id */
};

/* ---- queue names and references -------------------------------------------------------- */

/* True when name ends in ".fifo". */
bool sqs_is_fifo_name(struct sqs_str name);

/*
 * CreateQueue's QueueName: 1–80 characters of [A-Za-z0-9_-]; a FIFO queue's (fifo true)
 * must end in ".fifo", which counts toward the 80, and a standard queue's must not.
 * Refusals: ERR_SQS_INVALID_PARAMETER_VALUE.
 */
enum err sqs_check_queue_name(struct sqs_str name, bool fifo, char *msg, size_t msglen);

/* Where a QueueUrl or queue ARN points. */
struct sqs_queue_ref {
    char account[SQS_ACCOUNT_LEN + 1];
    char name[SQS_QUEUE_NAME_MAX + 1];
    char region[32]; /* "" when the reference does not say (queue URLs) */
};

/*
 * Parses a QueueUrl as SDKs send it: `http[s]://host[:port]/<account>/<name>`, LocalStack's
 * `.../queue/<region>/<account>/<name>`, or just the path (`/<account>/<name>`, as a
 * query-protocol request posted to the queue's own URL has). The host is not checked (AWS
 * does not check it either). Anything else names no queue: ERR_SQS_QUEUE_DOES_NOT_EXIST
 * (its message depends on the protocol: sqs_msg_queue_does_not_exist).
 */
enum err sqs_parse_queue_url(struct sqs_str url, struct sqs_queue_ref *out);

/* Parses `arn:<partition>:sqs:<region>:<account>:<name>`; false when s is not one. */
bool sqs_parse_queue_arn(struct sqs_str s, struct sqs_queue_ref *out);

/* True for 12 digits (QueueOwnerAWSAccountId, ARNs, URLs). */
bool sqs_valid_account_id(struct sqs_str s);

/* QueueDoesNotExist's text: the query protocol adds " for this wsdl version" (recorded). */
const char *sqs_msg_queue_does_not_exist(bool query);

/* ---- messages ---------------------------------------------------------------------------- */

/*
 * A MessageBody: absent or empty gives ERR_SQS_MISSING_PARAMETER; bytes that are not UTF-8
 * or characters outside #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD #x10000–#x10FFFF give
 * ERR_SQS_INVALID_MESSAGE_CONTENTS.
 */
enum err sqs_check_body(struct sqs_str body, char *msg, size_t msglen);

/*
 * Body bytes plus message attribute bytes (sqs_attrs_size) against the queue's
 * MaximumMessageSize: more than max gives ERR_SQS_INVALID_PARAMETER_VALUE, worded as AWS
 * words it for SendMessage or, in_batch, for a SendMessageBatch entry (whose failure goes in
 * Failed[], the rest of the batch going on).
 */
enum err sqs_check_message_size(size_t body_len, size_t attrs_size, size_t max, bool in_batch,
                                char *msg, size_t msglen);

/* The per-message parameters of SendMessage / a SendMessageBatch entry. */
struct sqs_send_params {
    bool fifo;                /* the queue is FIFO */
    bool content_based_dedup; /* the queue's ContentBasedDeduplication */
    bool in_batch;            /* a SendMessageBatch entry */
    bool has_delay;           /* DelaySeconds given */
    long long delay;          /* its value */
    struct sqs_str group_id;  /* MessageGroupId (p NULL = absent) */
    struct sqs_str dedup_id;  /* MessageDeduplicationId */
};

/*
 * DelaySeconds 0–900, and nonzero refused on FIFO queues; MessageGroupId and
 * MessageDeduplicationId 1–128 alphanumeric or punctuation characters; a FIFO queue needs a
 * MessageGroupId (SendMessage: ERR_SQS_MISSING_PARAMETER; a batch entry:
 * ERR_SQS_INVALID_PARAMETER_VALUE, and AWS then refuses the whole batch) and, without
 * ContentBasedDeduplication, a MessageDeduplicationId (ERR_SQS_INVALID_PARAMETER_VALUE, the
 * whole batch too); a standard queue refuses MessageDeduplicationId (it accepts a
 * MessageGroupId: fair queues).
 */
enum err sqs_check_send_params(const struct sqs_send_params *p, char *msg, size_t msglen);

/* True when the refusal sqs_check_send_params just gave for a batch entry refuses the whole
 * batch (a missing MessageGroupId or MessageDeduplicationId, as AWS-RECORDED.md shows) rather
 * than failing that entry alone. */
bool sqs_send_refusal_is_whole_batch(const struct sqs_send_params *p);

/* ---- batches ------------------------------------------------------------------------------ */

enum sqs_batch_op { SQS_BATCH_SEND, SQS_BATCH_DELETE, SQS_BATCH_CHANGE_VISIBILITY };

/*
 * A batch's entry Ids, in request order: none gives ERR_SQS_EMPTY_BATCH, more than 10
 * ERR_SQS_TOO_MANY_ENTRIES, then scanning in order an Id that is not 1–80 of [A-Za-z0-9_-]
 * gives ERR_SQS_INVALID_BATCH_ENTRY_ID and the first Id seen twice
 * ERR_SQS_BATCH_IDS_NOT_DISTINCT. An absent Id (p NULL) is an invalid one.
 */
enum err sqs_check_batch_ids(enum sqs_batch_op op, const struct sqs_str *ids, size_t n, char *msg,
                             size_t msglen);

/* A SendMessageBatch's total (every entry's body and attribute bytes) over 1 MiB:
 * ERR_SQS_BATCH_TOO_LONG, checked before any entry is sent. */
enum err sqs_check_batch_size(size_t total, char *msg, size_t msglen);

/* ---- receiving and visibility ------------------------------------------------------------ */

/* ReceiveMessage's numeric and id parameters; has_* false = not given. */
struct sqs_receive_params {
    bool has_max;
    long long max; /* MaxNumberOfMessages */
    bool has_visibility;
    long long visibility; /* VisibilityTimeout */
    bool has_wait;
    long long wait;            /* WaitTimeSeconds */
    struct sqs_str attempt_id; /* ReceiveRequestAttemptId (p NULL = absent) */
};

/* MaxNumberOfMessages 1–10, VisibilityTimeout 0–43200, WaitTimeSeconds 0–20 and
 * ReceiveRequestAttemptId 1–128 alphanumeric or punctuation characters, each checked in that
 * order: ERR_SQS_INVALID_PARAMETER_VALUE. */
enum err sqs_check_receive_params(const struct sqs_receive_params *p, char *msg, size_t msglen);

/*
 * ChangeMessageVisibility's VisibilityTimeout: 0–43200, and the message's total visibility
 * — the seconds since it was received (received_ms, now_ms: epoch ms of the one clock) plus
 * the new timeout — at most 12 hours. ERR_SQS_INVALID_PARAMETER_VALUE.
 */
enum err sqs_check_visibility_change(long long timeout, int64_t received_ms, int64_t now_ms,
                                     char *msg, size_t msglen);

/* ---- numbers on the wire ---------------------------------------------------------------- */

/* Parses a decimal integer (optional sign, digits only, no spaces) as the query protocol
 * carries numbers; false when s is not one or does not fit. */
bool sqs_parse_int(struct sqs_str s, long long *out);

#endif
