/*
 * qattrs.h — SQS queue attributes: the full set with AWS's ranges and defaults, their
 * parsing and validation for CreateQueue and SetQueueAttributes, RedrivePolicy and
 * RedriveAllowPolicy, CreateQueue's idempotence rule, and GetQueueAttributes' rendering.
 *
 * A queue's settable attributes live in struct sqs_qattrs (the engine embeds it); the
 * read-only ones (QueueArn, the Approximate* counters, CreatedTimestamp,
 * LastModifiedTimestamp) are the engine's and reach the renderer in struct sqs_qattrs_live.
 *
 * Pure functions over caller-owned data; the attribute table is constant. A struct
 * sqs_qattrs belongs to one thread at a time.
 */
#ifndef HAAR_CLOUD_SQS_QATTRS_H
#define HAAR_CLOUD_SQS_QATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "core/err.h"

/* Every queue attribute, in alphabetical order: the order GetQueueAttributes answers in. */
enum sqs_qattr {
    SQS_QA_APPROX_MESSAGES,             /* ApproximateNumberOfMessages (read-only) */
    SQS_QA_APPROX_DELAYED,              /* ApproximateNumberOfMessagesDelayed (read-only) */
    SQS_QA_APPROX_NOT_VISIBLE,          /* ApproximateNumberOfMessagesNotVisible (read-only) */
    SQS_QA_CONTENT_BASED_DEDUPLICATION, /* FIFO only */
    SQS_QA_CREATED_TIMESTAMP,           /* read-only, epoch seconds */
    SQS_QA_DEDUPLICATION_SCOPE,         /* FIFO only: messageGroup | queue */
    SQS_QA_DELAY_SECONDS,               /* 0–900, default 0 */
    SQS_QA_FIFO_QUEUE,                  /* create only; fixed afterwards */
    SQS_QA_FIFO_THROUGHPUT_LIMIT,       /* FIFO only: perQueue | perMessageGroupId */
    SQS_QA_KMS_DATA_KEY_REUSE_PERIOD,   /* 60–86400, default 300; shown with a KMS key */
    SQS_QA_KMS_MASTER_KEY_ID,           /* "" removes */
    SQS_QA_LAST_MODIFIED_TIMESTAMP,     /* read-only, epoch seconds */
    SQS_QA_MAXIMUM_MESSAGE_SIZE,        /* 1024–1048576, default 1048576 */
    SQS_QA_MESSAGE_RETENTION_PERIOD,    /* 60–1209600, default 345600 */
    SQS_QA_POLICY,                      /* a JSON policy document; "" removes */
    SQS_QA_QUEUE_ARN,                   /* read-only */
    SQS_QA_RECEIVE_WAIT_TIME,           /* ReceiveMessageWaitTimeSeconds 0–20, default 0 */
    SQS_QA_REDRIVE_ALLOW_POLICY,        /* JSON; "" removes */
    SQS_QA_REDRIVE_POLICY,              /* JSON; "" removes */
    SQS_QA_SQS_MANAGED_SSE,             /* SqsManagedSseEnabled, default true */
    SQS_QA_VISIBILITY_TIMEOUT,          /* 0–43200, default 30 */
    SQS_QA__COUNT
};

/* The wire name of an attribute; "" when out of range. */
const char *sqs_qattr_name(enum sqs_qattr a);

/* The attribute of that wire name, or -1 (also for "All"). */
int sqs_qattr_find(struct sqs_str name);

enum sqs_dedup_scope { SQS_DEDUP_QUEUE, SQS_DEDUP_MESSAGE_GROUP };
enum sqs_throughput { SQS_THROUGHPUT_PER_QUEUE, SQS_THROUGHPUT_PER_MESSAGE_GROUP_ID };
enum sqs_redrive_permission { SQS_REDRIVE_ALLOW_ALL, SQS_REDRIVE_DENY_ALL, SQS_REDRIVE_BY_QUEUE };

enum { SQS_MAX_RECEIVE_COUNT_MAX = 1000, SQS_REDRIVE_SOURCES_MAX = 10 };

/* RedrivePolicy: dlq_arn NULL = no policy. Owned by its container. */
struct sqs_redrive {
    char *dlq_arn;
    int max_receive_count; /* 1–1000 */
};

/* RedriveAllowPolicy: set false = none (AWS then behaves as allowAll). */
struct sqs_redrive_allow {
    bool set;
    enum sqs_redrive_permission permission;
    size_t n_sources;
    char *sources[SQS_REDRIVE_SOURCES_MAX]; /* owned; byQueue only */
};

/* A queue's settable attributes. Strings are owned, NULL when the attribute is not set. */
struct sqs_qattrs {
    bool fifo;
    int visibility_timeout;
    int delay_seconds;
    int message_retention_period;
    int receive_wait_time;
    int maximum_message_size;
    int kms_data_key_reuse_period;
    bool content_based_dedup;
    bool sqs_managed_sse;
    enum sqs_dedup_scope dedup_scope;
    enum sqs_throughput throughput_limit;
    char *kms_master_key_id;
    char *policy; /* the document as given */
    struct sqs_redrive redrive;
    struct sqs_redrive_allow redrive_allow;
};

/* A name/value pair of a request's Attributes (borrowed). */
struct sqs_kv {
    struct sqs_str name;
    struct sqs_str value;
};

/* Sets q to AWS's defaults for a standard (fifo false) or FIFO queue. Cannot fail. */
void sqs_qattrs_defaults(struct sqs_qattrs *q, bool fifo);

/* Frees what q owns (it may then be reused after sqs_qattrs_defaults); accepts NULL. */
void sqs_qattrs_destroy(struct sqs_qattrs *q);

/* Deep copy into dst (uninitialised on entry). ERR_OK, or ERR_INTERNAL out of memory. */
enum err sqs_qattrs_copy(struct sqs_qattrs *dst, const struct sqs_qattrs *src);

/*
 * CreateQueue: reads FifoQueue from kv to choose the queue type, checks the queue name for
 * that type (validate.h), then applies the n attributes over the type's defaults into q
 * (uninitialised on entry; on failure it is left destroyed, needing no cleanup). *given gets
 * the mask (1u << sqs_qattr) of the attributes the request named, for sqs_qattrs_same.
 * Refusals: ERR_SQS_INVALID_PARAMETER_VALUE (name), ERR_SQS_INVALID_ATTRIBUTE_NAME,
 * ERR_SQS_INVALID_ATTRIBUTE_VALUE, and ERR_SQS_INVALID_PARAMETER_VALUE for the two redrive
 * policies — each with AWS's message.
 */
enum err sqs_qattrs_create(struct sqs_qattrs *q, struct sqs_str queue_name, const struct sqs_kv *kv,
                           size_t n, uint32_t *given, char *msg, size_t msglen);

/*
 * SetQueueAttributes: applies the n attributes to q, all or nothing (q is unchanged on a
 * refusal). *changed gets the mask of the attributes named (the engine then updates
 * LastModifiedTimestamp and acts on the ones it cares about). Same refusals as create, plus
 * FifoQueue's rules for an existing queue.
 */
enum err sqs_qattrs_set(struct sqs_qattrs *q, const struct sqs_kv *kv, size_t n, uint32_t *changed,
                        char *msg, size_t msglen);

/*
 * CreateQueue on an existing name: AWS answers with the queue's URL when every attribute the
 * request named (given, from sqs_qattrs_create) has the existing queue's value — values
 * compared as AWS reads them, so "30" equals a default 30 and a RedrivePolicy's
 * maxReceiveCount "5" equals 5 — and otherwise ERR_SQS_QUEUE_NAME_EXISTS, naming the first
 * different attribute in alphabetical order. Attributes the request did not name are not
 * compared.
 */
enum err sqs_qattrs_same(const struct sqs_qattrs *existing, const struct sqs_qattrs *requested,
                         uint32_t given, char *msg, size_t msglen);

/* The JSON protocol's Attributes map ({"Name": "value", ...}; NULL or null = none) as kv
 * pairs borrowing from map: at most cap, which must be ≥ SQS_QA__COUNT. A value that is not
 * a string gives ERR_SERIALIZATION; more than cap names means one is unknown:
 * ERR_SQS_INVALID_ATTRIBUTE_NAME. */
enum err sqs_qattrs_kv_from_json(const json_t *map, struct sqs_kv *kv, size_t cap, size_t *n,
                                 char *msg, size_t msglen);

/* ---- redrive policies ----------------------------------------------------------------- */

/*
 * Parses a RedrivePolicy document: a JSON object with exactly deadLetterTargetArn (an SQS
 * queue ARN) and maxReceiveCount (1–1000, a JSON number or a numeric string). out is
 * uninitialised on entry and owned by the caller on success (free out->dlq_arn).
 * ERR_SQS_INVALID_PARAMETER_VALUE otherwise.
 */
enum err sqs_redrive_parse(struct sqs_str text, struct sqs_redrive *out, char *msg, size_t msglen);

/* Parses a RedriveAllowPolicy document: redrivePermission allowAll | denyAll | byQueue, and
 * with byQueue (only) sourceQueueArns, 1–10 SQS queue ARNs. ERR_SQS_INVALID_PARAMETER_VALUE
 * otherwise. out is uninitialised on entry; free with sqs_redrive_allow_destroy. */
enum err sqs_redrive_allow_parse(struct sqs_str text, struct sqs_redrive_allow *out, char *msg,
                                 size_t msglen);
void sqs_redrive_allow_destroy(struct sqs_redrive_allow *a);

/* True when a queue of ARN source_arn may name the queue whose policy is a as its
 * dead-letter queue (no policy: allowAll). */
bool sqs_redrive_allows(const struct sqs_redrive_allow *a, const char *source_arn);

/* ---- GetQueueAttributes ----------------------------------------------------------------- */

/* The engine's side of the picture. */
struct sqs_qattrs_live {
    const char *queue_arn;
    long long approx_messages;
    long long approx_delayed;
    long long approx_not_visible;
    int64_t created_s;       /* epoch seconds */
    int64_t last_modified_s; /* epoch seconds */
};

/* AttributeNames: the mask of the names asked for; `All` asks for all. An unknown name:
 * ERR_SQS_INVALID_ATTRIBUTE_NAME, `Unknown Attribute <name>.` */
enum err sqs_qattrs_select(const struct sqs_str *names, size_t n, uint32_t *mask, char *msg,
                           size_t msglen);

/*
 * Calls emit(arg, name, value) for each attribute of mask that the queue shows, in
 * alphabetical order, values as AWS prints them (all strings; booleans "true"/"false";
 * RedrivePolicy as {"deadLetterTargetArn":"…","maxReceiveCount":N}). A fresh standard
 * queue's `All` is exactly AWS-RECORDED.md §1.4's twelve attributes; a FIFO queue adds
 * ContentBasedDeduplication, DeduplicationScope, FifoQueue and FifoThroughputLimit; Policy,
 * the redrive policies and the KMS pair appear only when set. Returns ERR_OK or ERR_INTERNAL
 * (out of memory).
 */
enum err sqs_qattrs_render(const struct sqs_qattrs *q, const struct sqs_qattrs_live *live,
                           uint32_t mask,
                           void (*emit)(void *arg, const char *name, const char *value), void *arg);

/* The same as a JSON object of strings, in that order. New reference, NULL out of memory. */
json_t *sqs_qattrs_json(const struct sqs_qattrs *q, const struct sqs_qattrs_live *live,
                        uint32_t mask);

#endif
