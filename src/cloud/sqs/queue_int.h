/*
 * queue_int.h — the SQS engine's internals, shared by queue.c (operations), persist.c (the
 * store), move.c (message move tasks) and index.c. Not a public contract: see queue.h.
 *
 * A message is one allocation: struct msg followed by its bytes (body, encoded message
 * attributes and, when it has attributes, their MD5, AWSTraceHeader, MessageGroupId,
 * MessageDeduplicationId). Its sender and its dead-letter source ARN are interned strings (a
 * few distinct values for millions of messages). Its digests (MD5OfBody, and
 * MD5OfMessageAttributes over all its attributes) are made once, when it is sent or loaded,
 * not per receive (only a receive selecting some of its attributes digests those). Measured size:
 * sizeof(struct msg) is 144 bytes; with the seq map slot (16 at half load) and the heap slots (8 +
 * 8) a queued message costs its bytes + ~186 (and 16 more for the digest of its attributes when it
 * has some).
 *
 * States: PENDING (its send is not committed yet: no index knows it), DELAYED and INFLIGHT
 * (in the timed heap, hidden until visible_ms), VISIBLE (standard: in the ready list; FIFO:
 * in its group, which is ready when nothing of it is in flight), GONE (being deleted or
 * moved: hidden, waiting for the commit). Every stored message is in the seq map and the
 * retention heap.
 */
#ifndef HAAR_CLOUD_SQS_QUEUE_INT_H
#define HAAR_CLOUD_SQS_QUEUE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "cloud/sqs/index.h"
#include "cloud/sqs/md5.h"
#include "cloud/sqs/qattrs.h"
#include "cloud/sqs/queue.h"
#include "cloud/sqs/receipt.h"
#include "core/timer.h"

struct store;
struct store_stmt;
struct store_batch;

/* Intrusive lists, named by their fields: the container's head and tail, the element x's
 * prev and next. Each argument is evaluated more than once: pass plain lvalues.
 * SQS_SLIST_APPEND: a singly-linked list kept in order (a FIFO queue). */
#define SQS_SLIST_APPEND(head, tail, x, next)                                                      \
    do {                                                                                           \
        (x)->next = NULL;                                                                          \
        if (tail)                                                                                  \
            (tail)->next = (x);                                                                    \
        else                                                                                       \
            (head) = (x);                                                                          \
        (tail) = (x);                                                                              \
    } while (0)

#define SQS_LIST_APPEND(head, tail, x, prev, next)                                                 \
    do {                                                                                           \
        (x)->prev = (tail);                                                                        \
        SQS_SLIST_APPEND(head, tail, x, next);                                                     \
    } while (0)

#define SQS_LIST_UNLINK(head, tail, x, prev, next)                                                 \
    do {                                                                                           \
        if ((x)->prev)                                                                             \
            (x)->prev->next = (x)->next;                                                           \
        else                                                                                       \
            (head) = (x)->next;                                                                    \
        if ((x)->next)                                                                             \
            (x)->next->prev = (x)->prev;                                                           \
        else                                                                                       \
            (tail) = (x)->prev;                                                                    \
        (x)->prev = (x)->next = NULL;                                                              \
    } while (0)

enum msg_state { M_PENDING, M_DELAYED, M_VISIBLE, M_INFLIGHT, M_GONE };

/* struct msg's md5s: the digests it holds (libcrypto without MD5 makes none), and whether
 * they were made: at the send, or at the first receive of a message loaded at start (a
 * restart with a million messages does not hash them all before it is ready). */
enum { MSG_MD5_BODY = 1, MSG_MD5_ATTRS = 2, MSG_MD5_MADE = 4 };

struct group;

struct msg {
    uint64_t seq;
    int64_t sent_ms;         /* SentTimestamp (kept through a dead-letter move) */
    int64_t enq_ms;          /* what retention counts from */
    int64_t visible_ms;      /* DELAYED / INFLIGHT: when it shows again */
    int64_t first_recv_ms;   /* 0 = never received */
    int64_t recv_ms;         /* the last receive (ChangeMessageVisibility's 12 hours) */
    struct msg *prev, *next; /* standard: ready list; FIFO: its group's list */
    struct group *group;     /* FIFO */
    uint32_t recv_count;
    uint32_t gen;     /* receive generation: receipt handles name it */
    uint32_t th, rh;  /* heap slots + 1 (0 = not in that heap) */
    uint32_t sender;  /* interned SenderId */
    uint32_t dlq_src; /* interned DeadLetterQueueSourceArn, 0 = none */
    uint32_t body_len, attrs_len;
    uint16_t trace_len;
    uint8_t group_len, dedup_len;
    uint8_t state;
    uint8_t pins;                        /* receives waiting for their commit to answer with it */
    bool dead;                           /* freed once unpinned */
    unsigned char id[16];                /* MessageId (a UUID) */
    unsigned char md5_body[SQS_MD5_LEN]; /* MD5OfBody (MSG_MD5_BODY) */
    uint8_t md5s;                        /* MSG_MD5_* */
    char data[];
};

static inline const char *msg_body(const struct msg *m)
{
    return m->data;
}
static inline const char *msg_attrs(const struct msg *m)
{
    return m->data + m->body_len;
}
/* MD5OfMessageAttributes over all the attributes (MSG_MD5_ATTRS; room only when attrs_len). */
static inline unsigned char *msg_attrs_md5(struct msg *m)
{
    return (unsigned char *)m->data + m->body_len + m->attrs_len;
}
static inline size_t msg_attrs_md5_len(const struct msg *m)
{
    return m->attrs_len ? SQS_MD5_LEN : 0;
}
static inline const char *msg_trace(const struct msg *m)
{
    return m->data + m->body_len + m->attrs_len + msg_attrs_md5_len(m);
}
static inline const char *msg_group(const struct msg *m)
{
    return msg_trace(m) + m->trace_len;
}
static inline const char *msg_dedup(const struct msg *m)
{
    return msg_group(m) + m->group_len;
}
static inline size_t msg_data_len(const struct msg *m)
{
    return (size_t)m->body_len + m->attrs_len + msg_attrs_md5_len(m) + m->trace_len + m->group_len +
           m->dedup_len;
}

/* A FIFO message group: its messages in order, ready when its head is visible and nothing
 * of it is in flight. */
struct group {
    struct msg *head, *tail;
    uint32_t n, inflight;
    struct group *rprev, *rnext; /* the queue's ready groups */
    bool ready;
    size_t klen;
    char key[]; /* the MessageGroupId */
};

/* A deduplication id seen in the last 5 minutes (FIFO). */
struct dedup {
    struct dedup *next; /* the queue's list, oldest first */
    int64_t exp_ms;
    uint64_t seq;
    unsigned char msg_id[16];
    bool pending; /* its send is not committed yet */
    size_t klen;
    char key[];
};

/* A ReceiveRequestAttemptId's answer (FIFO), kept 5 minutes. */
struct attempt {
    int64_t exp_ms;
    size_t n;
    uint64_t seq[SQS_RECEIVE_BATCH_MAX];
    uint32_t gen[SQS_RECEIVE_BATCH_MAX];
};

struct sqs_queue {
    struct sqs *s;
    uint64_t id;
    char *name, *arn;
    struct sqs_qattrs a;
    json_t *tags; /* object of strings */
    int64_t created_ms, modified_ms;
    int refs; /* the engine's (while it exists) + pending operations */
    bool deleted;
    bool creating;         /* its CreateQueue is not committed yet */
    uint64_t next_seq;     /* the next message's number (numbers are never reused) */
    uint64_t hw_committed; /* the store's high-water mark: numbers below are spoken for */
    struct sqs_seqmap map;
    struct sqs_heap timed, ret;
    struct msg *ready_head, *ready_tail;     /* standard */
    struct group *gready_head, *gready_tail; /* FIFO */
    struct sqs_smap groups;
    struct sqs_smap dedups;
    struct dedup *dedup_head, *dedup_tail;
    int64_t dedup_swept_ms;
    struct sqs_smap attempts;
    long long n_visible, n_inflight, n_delayed;
    struct sqs_waiter *w_head, *w_tail;
    struct timer t_vis, t_ret;
    int64_t purged_ms;   /* last PurgeQueue (0 = none) */
    uint64_t seq_purged; /* messages numbered below it were purged (sends in flight drop them) */
    int64_t vis_due, ret_due; /* what the timers are set to (0 = stopped) */
};

/* A parked or committing ReceiveMessage. */
struct sqs_waiter {
    struct sqs *s;
    struct sqs_queue *q; /* a reference */
    sqs_receive_fn done;
    void *arg;
    int max;
    int vt; /* seconds */
    uint32_t sys_mask;
    struct sqs_str *names; /* MessageAttributeNames (copies, one allocation with the waiter) */
    size_t nnames;
    char attempt[SQS_FIFO_ID_MAX + 1];
    struct timer t;
    int64_t deadline;               /* epoch ms the long poll ends */
    struct sqs_waiter *prev, *next; /* the queue's parked list */
    struct timer_defer turn;        /* its answer on the next turn (owner: the engine) */
    bool parked, committing, cancelled;
    bool moved; /* its selection moved messages to a dead-letter queue */
    size_t n;
    struct msg *got[SQS_RECEIVE_BATCH_MAX];
    uint32_t gen[SQS_RECEIVE_BATCH_MAX];
};

/* A deferred completion (answers decided at once go out on the loop's next turn, never
 * inside the call). */
struct sqs_deferred {
    struct timer_defer turn; /* owner: the engine */
    void (*fn)(void *arg);
    void *arg;
};

struct sqs_stmts {
    struct store_stmt *q_put, *q_del, *q_hw, *q_all;
    struct store_stmt *m_ins, *m_recv, *m_del, *m_del_range, *m_all;
    struct store_stmt *d_put, *d_sweep, *d_del_queue, *d_all;
    struct store_stmt *meta_put, *meta_get;
    struct store_stmt *t_put, *t_all, *t_del;
};

struct sqs_move_task;

struct sqs {
    struct store *st;
    struct sqs_stmts stmt;
    char region[32], account[16];
    char url_base[128];
    struct sqs_receipt_key key;
    uint64_t next_queue_id;
    struct sqs_smap queues;   /* name -> queue */
    struct sqs_smap interned; /* string -> index + 1 */
    char **strings;           /* index -> string (index 0 = "") */
    uint32_t nstrings, capstrings;
    struct sqs_smap deleted;     /* recently deleted names -> (int64_t *) when */
    struct sqs_move_task *tasks; /* newest first */
    long long live_msgs;
};

/* ---- queue.c internals used by the other files ---- */

/* Interns s (len bytes); returns its index (0 for ""), or UINT32_MAX out of memory. */
uint32_t sqs__intern(struct sqs *s, const char *p, size_t len);
const char *sqs__string(const struct sqs *s, uint32_t i);

/* A new message (state PENDING) holding copies of the bytes (attrs: sqs_attrs_encode's); NULL
 * out of memory. Its digests are made by the send that makes it, or (a message loaded at
 * start) at its first receive. */
struct msg *sqs__msg_new(const char *body, size_t body_len, const void *attrs, size_t attrs_len,
                         const char *trace, size_t trace_len, const char *group, size_t group_len,
                         const char *dedup, size_t dedup_len);
/* Frees m now or, when a receive still pins it, once unpinned. */
void sqs__msg_release(struct msg *m);

/* Puts a stored message (seq set, state from visible_ms) into q's indexes: the seq map, the
 * retention heap and, by visible_ms against now, the ready structures or the timed heap.
 * append: the restart's bulk load (heaps fixed afterwards). Returns 0 or -1 (out of memory:
 * m untouched). */
int sqs__msg_index(struct sqs_queue *q, struct msg *m, int64_t now, bool append);
/* Takes m out of every index of q and marks it GONE (it stays allocated). */
void sqs__msg_unindex(struct sqs_queue *q, struct msg *m);

/* Restarts q's visibility and retention timers from the heaps' tops. */
void sqs__queue_timers(struct sqs_queue *q);
/* Answers parked receivers while messages are ready. */
void sqs__wake(struct sqs_queue *q);

/* A new queue (not yet in the name map) with attributes taken from a (moved in). NULL out of
 * memory. */
struct sqs_queue *sqs__queue_new(struct sqs *s, uint64_t id, const char *name,
                                 struct sqs_qattrs *a);
void sqs__queue_unref(struct sqs_queue *q);

/* Runs fn(arg) on the loop's next turn (timer_defer), after the calls deferred before it.
 * Returns 0 or -1 (out of memory). */
int sqs__defer(struct sqs *s, void (*fn)(void *arg), void *arg);

/* A command that cannot go on (out of memory, a failed commit): writes InternalFailure's
 * message into msg and returns ERR_INTERNAL. */
enum err sqs__internal(char *msg, size_t msglen);

/* "The request must contain the parameter <name>.": returns ERR_SQS_MISSING_PARAMETER. */
enum err sqs__missing(const char *name, char *msg, size_t msglen);

/* Timer callbacks of a queue (data: the queue). */
void sqs__on_vis_timer(struct timer *t);
void sqs__on_ret_timer(struct timer *t);

/* Dead-letter moves and redrives, in one atomic batch: sqs__moves_new, then
 * sqs__move_add per message (m VISIBLE in src: deleted from src, inserted into dst under a
 * new seq, keeping its id, body, attributes and sent time; DeadLetterQueueSourceArn set when
 * dlq_src, otherwise cleared with the receive count — a redrive back), then
 * sqs__moves_submit, which submits b (or drops it when empty); done(arg, moved, ok) runs
 * after the commit (or at once for an empty set). move_add returns -1 out of memory (m
 * untouched). */
struct sqs_moves;
struct sqs_moves *sqs__moves_new(struct sqs *s, void (*done)(void *, size_t, bool), void *arg);
int sqs__move_add(struct sqs_moves *mv, struct store_batch *b, struct sqs_queue *src,
                  struct sqs_queue *dst, struct msg *m, bool dlq_src);
void sqs__moves_submit(struct sqs_moves *mv, struct store_batch *b);

/* sqs_free: frees d's receive without its callback when d is a deferred receive answer;
 * false for any other deferred call of the engine. */
bool sqs__drop_deferred_receive(struct timer_defer *d);
/* Parked receives of a queue that is going away answer QueueDoesNotExist. */
void sqs__fail_waiters(struct sqs_queue *q);
/* Frees every live message of q (not PENDING or GONE ones: their operations own them). */
void sqs__drop_all(struct sqs_queue *q);

/* ---- persist.c ---- */

int sqs__persist_open(struct sqs *s, char *err, size_t errlen);
/* Loads the key, the queues and their messages and dedup ids (start). */
int sqs__persist_load(struct sqs *s, char *err, size_t errlen);
/* Batch statements. Each returns 0 or -1 (out of memory: the batch is then failed). */
int sqs__put_queue(struct store_batch *b, struct sqs_queue *q);
int sqs__put_msg(struct store_batch *b, const struct sqs_queue *q, const struct msg *m);
int sqs__put_recv(struct store_batch *b, const struct sqs_queue *q, const struct msg *m);
int sqs__del_msg(struct store_batch *b, const struct sqs_queue *q, uint64_t seq);
int sqs__put_hw(struct store_batch *b, const struct sqs_queue *q, uint64_t hw);
int sqs__put_dedup(struct store_batch *b, const struct sqs_queue *q, const struct dedup *d);
/* Takes numbers for count new messages of q (*first the first). When they pass the committed
 * high-water mark, b also raises it: *hw gets the value written (0 when none), for
 * sqs__hw_committed once b commits. */
int sqs__take_seqs(struct store_batch *b, struct sqs_queue *q, size_t count, uint64_t *first,
                   uint64_t *hw);
void sqs__hw_committed(struct sqs_queue *q, uint64_t hw);

/* ---- move.c ---- */

/* Message move tasks: restored at start, stopped at free. */
int sqs__tasks_load(struct sqs *s);
void sqs__tasks_free(struct sqs *s);
/* A queue is going away: its tasks fail. */
void sqs__tasks_queue_gone(struct sqs *s, struct sqs_queue *q);

#endif
