/*
 * queue.h — the SQS engine: queues, messages, visibility, delays, retention, long polls,
 * FIFO groups and deduplication, dead-letter redrive, message move tasks, tags, durable
 * state. No HTTP types: the protocol adapters (proto_json.c, proto_query.c) and the event
 * source mapping (src/cloud/esm) translate to the calls below, one call per operation.
 *
 * Time: every time AWS counts (visibility timeouts, delays, retention, long polls, the
 * purge window, the deduplication window, move-task rates) is a TIMER_CLOCK timer, so the
 * manual clock drives them; no timer exists per message (a queue keeps two, on the tops of
 * its heaps).
 *
 * Durability (store v2): a command that changes state completes through its callback once
 * the change is committed — SendMessage(Batch), DeleteMessage(Batch), ChangeMessageVisibility
 * (Batch), CreateQueue, DeleteQueue, SetQueueAttributes, PurgeQueue, tags, permissions, and
 * ReceiveMessage itself (the receive counts it bumps are durable before it answers, so a
 * crash never gives a message a fresh maxReceiveCount budget). A dead-letter move is one
 * atomic batch (deleted from the source, inserted into the DLQ). A failed commit undoes the
 * change in memory and completes with ERR_INTERNAL. Messages become receivable only once
 * their send is committed.
 *
 * Calling convention of commands: the function checks the request and returns an error
 * (with AWS's message in msg) when it refuses it — nothing changes and done never runs — or
 * returns ERR_OK, and then done(arg, ...) runs exactly once, later: from a store completion
 * or a timer, never from inside the call. Lookups and reads are synchronous.
 *
 * Strings in requests are borrowed for the duration of the call (the engine copies what it
 * keeps); what callbacks receive is borrowed for the duration of the callback.
 *
 * Scale: messages live in memory in one allocation each (bytes + ~170), indexed by sequence
 * number (hash), visibility (heap) and retention (heap); receive and delete cost O(log n).
 * At start the engine rebuilds every index from the store.
 *
 * Everything runs on the loop thread; nothing here is thread-safe.
 */
#ifndef HAAR_CLOUD_SQS_QUEUE_H
#define HAAR_CLOUD_SQS_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "cloud/sqs/md5.h"
#include "cloud/sqs/qattrs.h"
#include "cloud/sqs/receipt.h"
#include "cloud/sqs/validate.h"
#include "core/err.h"

struct sqs;
struct sqs_queue;
struct sqs_waiter;
struct store;

enum {
    SQS_RECEIVE_BATCH_MAX = SQS_RECEIVE_MAX,
    SQS_MSG_MAX = 1024,           /* room for any message the engine writes */
    SQS_MAX_TAGS = 50,            /* tags per queue */
    SQS_DEDUP_WINDOW_MS = 300000, /* FIFO deduplication and receive attempt ids */
    SQS_PURGE_WINDOW_MS = 60000,
    SQS_DELETED_WINDOW_MS = 60000, /* QueueDeletedRecently */
    SQS_URL_MAX = 256,
    SQS_ARN_MAX = 160,
    SQS_MOVE_RATE_MAX = 500,   /* MaxNumberOfMessagesPerSecond */
    SQS_INFLIGHT_MAX = 120000, /* a standard queue's messages in flight (OverLimit past it) */
};

struct sqs_options {
    const char *region;   /* "eu-west-1" */
    const char *account;  /* "000000000000" */
    const char *url_base; /* "http://127.0.0.1:4566": queue URLs are <url_base>/<account>/<name> */
};

/*
 * Creates the engine on store (borrowed; NULL = nothing persists, for tests of pure
 * behaviour): applies the schema and loads every queue, message, deduplication id and move
 * task, rebuilding the in-memory indexes — the engine is ready when this returns. NULL with
 * a message in err when the store refuses the schema or out of memory.
 */
struct sqs *sqs_new(struct store *st, const struct sqs_options *o, char *err, size_t errlen);

/* Frees everything (parked receives are dropped without their callbacks); accepts NULL.
 * Call after the store's pending completions ran (store_flush). */
void sqs_free(struct sqs *s);

/* ---- queues ----------------------------------------------------------------------------- */

/* The queue of that name, or NULL. */
struct sqs_queue *sqs_queue_find(struct sqs *s, const char *name, size_t len);

/* The queue a QueueUrl names (any host, as AWS accepts; the account must be ours). On
 * failure ERR_SQS_QUEUE_DOES_NOT_EXIST with the protocol's message (query: "... for this
 * wsdl version."). */
enum err sqs_queue_resolve(struct sqs *s, struct sqs_str url, bool query, struct sqs_queue **out,
                           char *msg, size_t msglen);

/* The queue of an ARN arn:aws:sqs:<region>:<account>:<name> of ours, or NULL. */
struct sqs_queue *sqs_queue_by_arn(struct sqs *s, const char *arn, size_t len);

/* Its name, ARN, URL (into out), FIFO-ness, settable attributes. Borrowed from the queue. */
const char *sqs_queue_name(const struct sqs_queue *q);
const char *sqs_queue_arn(const struct sqs_queue *q);
void sqs_queue_url(const struct sqs_queue *q, char out[SQS_URL_MAX]);
bool sqs_queue_is_fifo(const struct sqs_queue *q);
const struct sqs_qattrs *sqs_queue_attrs(const struct sqs_queue *q);
const char *sqs_region(const struct sqs *s);

/* Counters as GetQueueAttributes shows them. */
struct sqs_depth {
    long long visible, in_flight, delayed;
};
void sqs_queue_depth(const struct sqs_queue *q, struct sqs_depth *out);

/* Keeps q alive across an asynchronous step of a caller (the ESM); sqs_queue_release drops
 * it. A deleted queue stays valid (sqs_queue_deleted turns true) until released. */
void sqs_queue_retain(struct sqs_queue *q);
void sqs_queue_release(struct sqs_queue *q);
bool sqs_queue_deleted(const struct sqs_queue *q);

/* Completion of a command that answers no data. */
typedef void (*sqs_done_fn)(void *arg, enum err e, const char *msg);
/* Completion of CreateQueue: q is the queue (new or the existing one) on ERR_OK. */
typedef void (*sqs_queue_fn)(void *arg, enum err e, const char *msg, struct sqs_queue *q);

struct sqs_create_req {
    struct sqs_str name;
    const struct sqs_kv *attrs; /* Attributes */
    size_t nattrs;
    const struct sqs_kv *tags; /* tags (Key, Value) */
    size_t ntags;
};

/*
 * CreateQueue: a new queue, or — same name, every named attribute equal — the existing one
 * (AWS's idempotence; tags are not compared). Refusals: the name and attribute checks of
 * qattrs.h, ERR_SQS_QUEUE_NAME_EXISTS, ERR_SQS_QUEUE_DELETED_RECENTLY (60 s after a delete,
 * by the clock), a RedrivePolicy naming no queue of ours or a queue whose RedriveAllowPolicy
 * refuses it, tags over the limits.
 */
enum err sqs_create_queue(struct sqs *s, const struct sqs_create_req *r, sqs_queue_fn done,
                          void *arg, char *msg, size_t msglen);

/*
 * Start-up provisioning (haar up): creates the queue (with tags) when absent and otherwise
 * applies the attributes (messages are kept; a changed value takes effect; tags stay).
 * Synchronous: it waits for the commit. Returns ERR_OK or the refusal with its message.
 */
enum err sqs_provision(struct sqs *s, struct sqs_str name, const struct sqs_kv *attrs,
                       size_t nattrs, const struct sqs_kv *tags, size_t ntags, char *msg,
                       size_t msglen);

/* DeleteQueue: the queue and its messages; parked receives on it answer
 * ERR_SQS_QUEUE_DOES_NOT_EXIST; its name is refused by CreateQueue for 60 s. */
enum err sqs_delete_queue(struct sqs_queue *q, sqs_done_fn done, void *arg, char *msg,
                          size_t msglen);

/* GetQueueUrl: QueueOwnerAWSAccountId (p NULL = absent) must be ours. */
enum err sqs_get_queue_url(struct sqs *s, struct sqs_str name, struct sqs_str owner,
                           struct sqs_queue **out, bool query, char *msg, size_t msglen);

/*
 * ListQueues: the URLs of the queues whose name starts with prefix, in name order, to emit.
 * has_max: MaxResults (1–1000) was given; then at most max URLs and, when more remain, a
 * NextToken into next (SQS_URL_MAX bytes; "" when none). token: a NextToken from an earlier
 * answer (p NULL = none). Refusals: MaxResults out of range, a token we did not issue.
 * Without MaxResults, at most 1000 URLs and no token (AWS's rule).
 */
enum err sqs_list_queues(struct sqs *s, struct sqs_str prefix, bool has_max, long long max,
                         struct sqs_str token, void (*emit)(void *arg, const char *url), void *arg,
                         char next[SQS_URL_MAX], char *msg, size_t msglen);

/* ListDeadLetterSourceQueues: the queues whose RedrivePolicy names q, paged as ListQueues. */
enum err sqs_list_dlq_sources(struct sqs_queue *q, bool has_max, long long max,
                              struct sqs_str token, void (*emit)(void *arg, const char *url),
                              void *arg, char next[SQS_URL_MAX], char *msg, size_t msglen);

/* GetQueueAttributes: emits the attributes named (sqs_qattrs_select's rules) in AWS's order,
 * values as AWS prints them. Synchronous. */
enum err sqs_get_attributes(struct sqs_queue *q, const struct sqs_str *names, size_t n,
                            void (*emit)(void *arg, const char *name, const char *value), void *arg,
                            char *msg, size_t msglen);

/* SetQueueAttributes: all or nothing (qattrs.h's refusals, plus the redrive checks of
 * CreateQueue). A changed visibility, delay or retention applies to the messages as AWS
 * does: retention at once to every message, the others to later receives and sends. */
enum err sqs_set_attributes(struct sqs_queue *q, const struct sqs_kv *kv, size_t n,
                            sqs_done_fn done, void *arg, char *msg, size_t msglen);

/* PurgeQueue: deletes every message; a second purge within 60 s (by the clock) is refused
 * with ERR_SQS_PURGE_IN_PROGRESS, "Only one PurgeQueue operation on <name> is allowed every
 * 60 seconds." */
enum err sqs_purge(struct sqs_queue *q, sqs_done_fn done, void *arg, char *msg, size_t msglen);

/* TagQueue (merge; at most 50 tags, keys 1–128 and values 0–256 characters) and UntagQueue
 * (unknown keys ignored). ListQueueTags: emit per tag, synchronous. */
enum err sqs_tag_queue(struct sqs_queue *q, const struct sqs_kv *tags, size_t n, sqs_done_fn done,
                       void *arg, char *msg, size_t msglen);
enum err sqs_untag_queue(struct sqs_queue *q, const struct sqs_str *keys, size_t n,
                         sqs_done_fn done, void *arg, char *msg, size_t msglen);
void sqs_list_tags(const struct sqs_queue *q,
                   void (*emit)(void *arg, const char *key, const char *value), void *arg);

/* AddPermission (a statement with Sid = label in the queue's Policy) and RemovePermission. */
enum err sqs_add_permission(struct sqs_queue *q, struct sqs_str label,
                            const struct sqs_str *accounts, size_t naccounts,
                            const struct sqs_str *actions, size_t nactions, sqs_done_fn done,
                            void *arg, char *msg, size_t msglen);
enum err sqs_remove_permission(struct sqs_queue *q, struct sqs_str label, sqs_done_fn done,
                               void *arg, char *msg, size_t msglen);

/* ---- messages ---------------------------------------------------------------------------- */

/* One message to send (SendMessage, or a SendMessageBatch entry). Borrowed. */
struct sqs_send_entry {
    struct sqs_str id; /* batch entry Id */
    struct sqs_str body;
    const struct sqs_attrs *attrs; /* validated message attributes (attrs.h), or NULL */
    const struct sqs_attrs *sys;   /* validated message system attributes, or NULL */
    bool has_delay;
    long long delay;
    struct sqs_str group_id, dedup_id;
    enum err pre_err;    /* an error the adapter found parsing this entry (or ERR_OK) */
    const char *pre_msg; /* its message */
};

/* What a send did, per entry. */
struct sqs_send_result {
    char id[SQS_BATCH_ID_MAX + 1];
    enum err e; /* ERR_OK, or the entry's failure (batches) */
    char msg[SQS_MSG_MAX];
    char message_id[37];
    char md5_body[SQS_MD5_HEX_LEN + 1];
    char md5_attrs[SQS_MD5_HEX_LEN + 1]; /* "" when no attributes */
    char md5_sys[SQS_MD5_HEX_LEN + 1];   /* "" when no system attributes */
    char seq_number[24];                 /* FIFO: SequenceNumber; "" otherwise */
};

typedef void (*sqs_send_fn)(void *arg, enum err e, const char *msg,
                            const struct sqs_send_result *res, size_t n);

/*
 * SendMessage: validates (body characters and size with the attributes against
 * MaximumMessageSize, delay, FIFO group and deduplication ids) and stores. sender is the
 * caller's user id (SenderId). FIFO: a deduplication id seen in the last 5 minutes answers
 * the first message's MessageId and SequenceNumber and stores nothing. done gets one result.
 */
enum err sqs_send(struct sqs_queue *q, const struct sqs_send_entry *e, const char *sender,
                  sqs_send_fn done, void *arg, char *msg, size_t msglen);

/*
 * SendMessageBatch: the batch checks first (entry count, Ids, the 1 MiB total, a FIFO entry
 * without group or deduplication id refuses the whole batch, as AWS does), then each entry
 * on its own: failures go into its result (SenderFault true), the rest is stored in one
 * atomic commit. done gets n results in request order. e holds min(n, 10) entries: past ten
 * only the count matters (TooManyEntriesInBatchRequest).
 */
enum err sqs_send_batch(struct sqs_queue *q, const struct sqs_send_entry *e, size_t n,
                        const char *sender, sqs_send_fn done, void *arg, char *msg, size_t msglen);

/* ReceiveMessage's parameters. names are borrowed (copied when the receive parks). */
struct sqs_receive_req {
    struct sqs_receive_params p; /* validate.h */
    uint32_t sys_mask;           /* system attributes (sqs_sysattr_select) */
    const struct sqs_str *names; /* MessageAttributeNames */
    size_t nnames;
};

/* A received message as the answer shows it; every pointer valid during the callback. */
struct sqs_message {
    char message_id[37];
    char receipt[SQS_RECEIPT_LEN + 1];
    const char *body;
    size_t body_len;
    char md5_body[SQS_MD5_HEX_LEN + 1];
    struct sqs_attrs attrs;              /* every attribute of the message */
    uint32_t attr_mask;                  /* the ones selected (bit i = attrs.a[i]) */
    char md5_attrs[SQS_MD5_HEX_LEN + 1]; /* over the selected ones; "" when none */
    size_t nsys;
    struct {
        const char *name;
        const char *value; /* len bytes, not NUL-terminated */
        size_t len;
    } sys[SQS_SYS__COUNT]; /* the selected system attributes this message has */
    char scratch[4][24];   /* the engine's: the numbers sys points to */
};

typedef void (*sqs_receive_fn)(void *arg, enum err e, const char *msg, const struct sqs_message *m,
                               size_t n);

/*
 * ReceiveMessage: up to MaxNumberOfMessages (default 1) available messages, each hidden for
 * the visibility timeout (the request's or the queue's), with a fresh receipt handle and its
 * receive count bumped (durable before done). A message whose receive count reached the
 * queue's maxReceiveCount moves to the dead-letter queue instead. FIFO: messages of a group
 * in order, none of a group that has one in flight; a ReceiveRequestAttemptId retried within
 * 5 minutes answers the same messages and handles while they are in flight. With nothing
 * available the receive waits WaitTimeSeconds (default the queue's
 * ReceiveMessageWaitTimeSeconds) and is answered the moment a message becomes available, or
 * empty when the time is up. *w (may be NULL) gets a handle for sqs_receive_cancel, valid
 * until done runs. A standard queue with SQS_INFLIGHT_MAX messages in flight refuses with
 * ERR_SQS_OVER_LIMIT.
 */
enum err sqs_receive(struct sqs_queue *q, const struct sqs_receive_req *r, sqs_receive_fn done,
                     void *arg, struct sqs_waiter **w, char *msg, size_t msglen);

/* The receiver went away: done will not run. Messages it already took stay in flight until
 * their visibility timeout, as with a lost answer on AWS. */
void sqs_receive_cancel(struct sqs_waiter *w);

/* Cancels w only if it has taken no message yet (still waiting): returns true, and done will
 * not run; false when it is answering with messages (done will run). For pollers that stop
 * without losing messages to a visibility timeout. */
bool sqs_receive_try_cancel(struct sqs_waiter *w);

/*
 * DeleteMessage: refuses a malformed or foreign handle (ERR_SQS_RECEIPT_HANDLE_INVALID); a
 * handle of an already deleted message succeeds (AWS). Standard queues: any handle of the
 * message deletes it. FIFO: only the handle of the current receive while in flight
 * (otherwise ERR_SQS_INVALID_PARAMETER_VALUE, "... Reason: The receipt handle has expired.").
 */
enum err sqs_delete_message(struct sqs_queue *q, struct sqs_str handle, sqs_done_fn done, void *arg,
                            char *msg, size_t msglen);

/*
 * ChangeMessageVisibility: the message shows again timeout seconds from now (0–43200, and
 * at most 12 hours since its receive). ERR_SQS_MESSAGE_NOT_INFLIGHT when it was never
 * received; a deleted message: ERR_SQS_INVALID_PARAMETER_VALUE "... Reason: Message does not
 * exist or is not available for visibility timeout change."
 */
enum err sqs_change_visibility(struct sqs_queue *q, struct sqs_str handle, long long timeout,
                               sqs_done_fn done, void *arg, char *msg, size_t msglen);

/* A DeleteMessageBatch / ChangeMessageVisibilityBatch entry (borrowed). */
struct sqs_batch_entry {
    struct sqs_str id;
    struct sqs_str handle;
    bool has_timeout;
    long long timeout;
    enum err pre_err; /* an error the adapter found parsing this entry */
    const char *pre_msg;
};

struct sqs_batch_result {
    char id[SQS_BATCH_ID_MAX + 1];
    enum err e;
    char msg[SQS_MSG_MAX];
};

typedef void (*sqs_batch_fn)(void *arg, const struct sqs_batch_result *res, size_t n);

/* DeleteMessageBatch and ChangeMessageVisibilityBatch: the batch checks (count, Ids), then
 * each entry as its single operation, failures per entry; one commit. e holds min(n, 10)
 * entries (past ten only the count matters). */
enum err sqs_delete_batch(struct sqs_queue *q, const struct sqs_batch_entry *e, size_t n,
                          sqs_batch_fn done, void *arg, char *msg, size_t msglen);
enum err sqs_change_visibility_batch(struct sqs_queue *q, const struct sqs_batch_entry *e, size_t n,
                                     sqs_batch_fn done, void *arg, char *msg, size_t msglen);

/* ---- message move tasks (DLQ redrive) --------------------------------------------------- */

/* A task as ListMessageMoveTasks shows it. */
struct sqs_move_info {
    const char *handle; /* TaskHandle (shown while RUNNING) */
    const char *status; /* RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED */
    const char *source_arn;
    const char *dest_arn; /* NULL: each message's original source */
    int rate;             /* MaxNumberOfMessagesPerSecond, 0 = not given */
    long long moved, to_move;
    int64_t started_ms;
    const char *failure; /* FAILED only */
};

/*
 * StartMessageMoveTask: moves the messages of the dead-letter queue source_arn to dest_arn
 * (p NULL: to the queue each message came from), at most rate messages a second of the
 * clock (0: 500). Refusals: the source is not a queue of ours or no queue's dead-letter queue,
 * a task is already running for it, rate out of 1–500. done gets the TaskHandle as msg.
 */
enum err sqs_start_move_task(struct sqs *s, struct sqs_str source_arn, struct sqs_str dest_arn,
                             bool has_rate, long long rate, sqs_done_fn done, void *arg, char *msg,
                             size_t msglen);

/* CancelMessageMoveTask: done's msg is the number of messages moved so far (decimal). */
enum err sqs_cancel_move_task(struct sqs *s, struct sqs_str handle, sqs_done_fn done, void *arg,
                              char *msg, size_t msglen);

/* ListMessageMoveTasks: the newest max (1–10, default 1) tasks of the source, newest first. */
enum err sqs_list_move_tasks(struct sqs *s, struct sqs_str source_arn, bool has_max, long long max,
                             void (*emit)(void *arg, const struct sqs_move_info *t), void *arg,
                             char *msg, size_t msglen);

/* ---- the daemon's view ----------------------------------------------------------------- */

/* For /_haar/health: [{"name","url","fifo","visible","in_flight","delayed","dlq"}] in name
 * order. New reference, NULL out of memory. */
json_t *sqs_health_json(struct sqs *s);

/* Calls fn for each queue in name order. */
void sqs_each_queue(struct sqs *s, void (*fn)(void *arg, struct sqs_queue *q), void *arg);

#endif
