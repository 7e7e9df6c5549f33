/*
 * move.c — message move tasks (StartMessageMoveTask, CancelMessageMoveTask,
 * ListMessageMoveTasks): a dead-letter queue's messages moved back to where they came from,
 * or to a queue given, at most MaxNumberOfMessagesPerSecond a second of the clock (one
 * TIMER_CLOCK tick a second), each tick one atomic batch that also records the task's
 * progress. Tasks are durable: a running task resumes after a restart. Messages,
 * [R] texts: LocalStack's test_sqs_move_task.snapshot.json, recorded against AWS.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/queue_int.h"
#include "cloud/store/store.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"

enum { TASKS_KEPT = 10, TICK_MS = 1000, DEFAULT_RATE = SQS_MOVE_RATE_MAX, SCAN_MAX = 10000 };

struct sqs_move_task {
    struct sqs_move_task *next; /* the engine's list, newest first */
    struct sqs *s;
    char id[37];
    char *handle;
    char *src_arn, *dst_arn; /* dst NULL: each message's original source */
    int rate;                /* 0 = not given */
    char status[12];
    long long moved, to_move;
    int64_t started_ms;
    char failure[64];
    struct timer t;
    bool busy; /* a tick's batch is committing */
};

static const char *const ST_RUNNING = "RUNNING", *const ST_COMPLETED = "COMPLETED",
                         *const ST_CANCELLED = "CANCELLED", *const ST_FAILED = "FAILED";

static bool running(const struct sqs_move_task *t)
{
    return strcmp(t->status, ST_RUNNING) == 0;
}

static void task_free(struct sqs_move_task *t)
{
    if (t == NULL)
        return;
    timer_destroy(&t->t);
    free(t->handle);
    free(t->src_arn);
    free(t->dst_arn);
    free(t);
}

static int task_row(struct store_batch *b, const struct sqs_move_task *t)
{
    struct store_val v[9] = {store_text(t->handle),
                             store_text(t->src_arn),
                             store_text(t->dst_arn),
                             store_int(t->rate),
                             store_text(t->status),
                             store_int(t->moved),
                             store_int(t->to_move),
                             store_int(t->started_ms),
                             t->failure[0] ? store_text(t->failure) : store_null()};
    return store_batch_add(b, t->s->stmt.t_put, v, 9);
}

static void task_save(struct sqs_move_task *t)
{
    if (t->s->st == NULL)
        return;
    struct store_batch *b = store_batch_new(t->s->st);
    if (b && task_row(b, t) == 0)
        store_batch_submit(t->s->st, b, NULL, NULL);
    else
        store_batch_discard(b);
}

static void finish(struct sqs_move_task *t, const char *status, const char *failure)
{
    snprintf(t->status, sizeof t->status, "%s", status);
    if (failure)
        snprintf(t->failure, sizeof t->failure, "%s", failure);
    timer_stop(&t->t);
    task_save(t);
}

/* ---- ticks ------------------------------------------------------------------------------- */

struct tick {
    struct sqs_move_task *t;
    size_t n;
};

static void tick_done(void *arg, size_t moved, bool ok)
{
    struct tick *k = arg;
    struct sqs_move_task *t = k->t;
    t->busy = false;
    if (ok)
        t->moved += (long long)moved;
    free(k);
    if (t->s == NULL) { /* the engine is going away */
        task_free(t);
        return;
    }
    if (running(t) && t->moved >= t->to_move)
        finish(t, ST_COMPLETED, NULL);
}

static struct sqs_queue *dest_of(struct sqs_move_task *t, struct msg *m)
{
    struct sqs *s = t->s;
    if (t->dst_arn)
        return sqs_queue_by_arn(s, t->dst_arn, strlen(t->dst_arn));
    if (m->dlq_src == 0)
        return NULL;
    const char *arn = sqs__string(s, m->dlq_src);
    return sqs_queue_by_arn(s, arn, strlen(arn));
}

static void on_tick(struct timer *tm)
{
    struct sqs_move_task *t = tm->data;
    struct sqs *s = t->s;
    if (!running(t))
        return;
    struct sqs_queue *src = sqs_queue_by_arn(s, t->src_arn, strlen(t->src_arn));
    if (src == NULL) {
        finish(t, ST_FAILED, "AWS.SimpleQueueService.NonExistentQueue");
        return;
    }
    timer_start(&t->t, TICK_MS);
    if (t->busy)
        return;
    long long want = t->rate ? t->rate : DEFAULT_RATE;
    if (want > t->to_move - t->moved)
        want = t->to_move - t->moved;
    struct tick *k = calloc(1, sizeof *k);
    struct sqs_moves *mv = k ? sqs__moves_new(s, tick_done, k) : NULL;
    struct store_batch *b = s->st ? store_batch_new(s->st) : NULL;
    if (k == NULL || mv == NULL || (s->st && b == NULL)) {
        free(k);
        free(mv);
        store_batch_discard(b);
        return;
    }
    k->t = t;
    long long n = 0;
    int scanned = 0;
    const char *failure = NULL;
    while (n < want && scanned < SCAN_MAX) {
        struct msg *m =
            src->a.fifo ? (src->gready_head ? src->gready_head->head : NULL) : src->ready_head;
        if (m == NULL)
            break;
        scanned++;
        struct sqs_queue *dst = dest_of(t, m);
        if (dst == NULL || dst == src || dst->deleted || dst->a.fifo != src->a.fifo) {
            failure = "AWS.SimpleQueueService.NonExistentQueue";
            break;
        }
        if (b == NULL || sqs__move_add(mv, b, src, dst, m, false) != 0)
            break;
        n++;
    }
    bool ready = src->a.fifo ? src->gready_head != NULL : src->ready_head != NULL;
    if (n == 0 && failure == NULL && !ready && src->n_inflight == 0 && src->n_delayed == 0)
        t->to_move = t->moved; /* nothing left to move: done */
    if (b && n > 0) {
        long long before = t->moved;
        t->moved += n; /* the row the batch writes; undone below, counted in tick_done */
        task_row(b, t);
        t->moved = before;
    }
    t->busy = n > 0;
    sqs__moves_submit(mv, b);
    if (failure && running(t))
        finish(t, ST_FAILED, failure);
    else if (running(t) && !t->busy && t->moved >= t->to_move)
        finish(t, ST_COMPLETED, NULL);
}

/* ---- the API ----------------------------------------------------------------------------- */

static enum err not_found(const char *param, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "The resource that you specified for the %s parameter doesn't exist.",
             param); /* [R] */
    return ERR_SQS_RESOURCE_NOT_FOUND;
}

/* The queue SourceArn names: MissingParameter when absent, ResourceNotFound when not ours. */
static enum err source_queue(struct sqs *s, struct sqs_str arn, struct sqs_queue **out, char *msg,
                             size_t msglen)
{
    if (arn.p == NULL)
        return sqs__missing("SourceArn", msg, msglen);
    if ((*out = sqs_queue_by_arn(s, arn.p, arn.len)) == NULL)
        return not_found("SourceArn", msg, msglen);
    return ERR_OK;
}

static bool is_some_dlq(struct sqs *s, const char *arn)
{
    for (size_t i = 0; i < s->queues.nb; i++)
        for (struct sqs_smap_entry *e = s->queues.b[i]; e; e = e->next) {
            struct sqs_queue *q = e->val;
            if (q->a.redrive.dlq_arn && strcmp(q->a.redrive.dlq_arn, arn) == 0)
                return true;
        }
    return false;
}

static void make_handle(struct sqs_move_task *t, struct buf *out)
{
    char doc[SQS_ARN_MAX + 80];
    snprintf(doc, sizeof doc, "{\"taskId\":\"%s\",\"sourceArn\":\"%s\"}", t->id, t->src_arn);
    codec_b64_encode(doc, strlen(doc), out);
}

/* Keeps the newest TASKS_KEPT tasks of a source. */
static void trim(struct sqs *s, const char *src_arn)
{
    int n = 0;
    for (struct sqs_move_task **pp = &s->tasks; *pp;) {
        struct sqs_move_task *t = *pp;
        if (strcmp(t->src_arn, src_arn) == 0 && ++n > TASKS_KEPT && !running(t) && !t->busy) {
            *pp = t->next;
            if (s->st) {
                struct store_val v[1] = {store_text(t->handle)};
                store_exec(s->st, s->stmt.t_del, v, 1, NULL, NULL);
            }
            task_free(t);
            continue;
        }
        pp = &t->next;
    }
}

struct start_ctx {
    struct sqs_move_task *t;
    sqs_done_fn done;
    void *arg;
};

static void start_committed(void *arg, int rc)
{
    struct start_ctx *c = arg;
    if (rc != 0) {
        struct sqs *s = c->t->s;
        for (struct sqs_move_task **pp = &s->tasks; *pp; pp = &(*pp)->next)
            if (*pp == c->t) {
                *pp = c->t->next;
                break;
            }
        task_free(c->t);
        c->done(c->arg, ERR_INTERNAL, err_message(ERR_INTERNAL));
    } else {
        timer_start(&c->t->t, TICK_MS);
        c->done(c->arg, ERR_OK, c->t->handle);
    }
    free(c);
}

static void start_deferred(void *arg)
{
    start_committed(arg, 0);
}

static char *dup_s(struct sqs_str s)
{
    return s.p ? strndup(s.p, s.len) : NULL;
}

enum err sqs_start_move_task(struct sqs *s, struct sqs_str source_arn, struct sqs_str dest_arn,
                             bool has_rate, long long rate, sqs_done_fn done, void *arg, char *msg,
                             size_t msglen)
{
    struct sqs_queue *src = NULL;
    enum err e = source_queue(s, source_arn, &src, msg, msglen);
    if (e != ERR_OK)
        return e;
    if (dest_arn.p != NULL && sqs_queue_by_arn(s, dest_arn.p, dest_arn.len) == NULL)
        return not_found("DestinationArn", msg, msglen);
    if (has_rate && (rate < 1 || rate > SQS_MOVE_RATE_MAX)) {
        snprintf(msg, msglen,
                 "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must "
                 "enter a number that's between 1 and 500."); /* [E] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (!is_some_dlq(s, src->arn)) {
        snprintf(msg, msglen, "Source queue must be configured as a Dead Letter Queue."); /* [R] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    for (struct sqs_move_task *t = s->tasks; t; t = t->next)
        if (running(t) && strcmp(t->src_arn, src->arn) == 0) {
            snprintf(msg, msglen,
                     "There is already a task running. Only one active task is "
                     "allowed for a source queue arn at a given time."); /* [R] */
            return ERR_SQS_INVALID_PARAMETER_VALUE;
        }
    struct sqs_move_task *t = calloc(1, sizeof *t);
    struct start_ctx *c = calloc(1, sizeof *c);
    struct buf h;
    buf_init(&h, 1024);
    if (t == NULL || c == NULL || timer_init(&t->t, TIMER_CLOCK, on_tick, t) != 0)
        goto oom;
    t->s = s;
    ids_uuid4(t->id);
    t->src_arn = strdup(src->arn);
    t->dst_arn = dup_s(dest_arn);
    t->rate = has_rate ? (int)rate : 0;
    snprintf(t->status, sizeof t->status, "%s", ST_RUNNING);
    t->to_move = src->n_visible + src->n_inflight + src->n_delayed;
    t->started_ms = clock_now_ms();
    make_handle(t, &h);
    t->handle = buf_take(&h, NULL);
    if (t->src_arn == NULL || (dest_arn.p && t->dst_arn == NULL) || t->handle == NULL)
        goto oom;
    t->next = s->tasks;
    s->tasks = t;
    c->t = t;
    c->done = done;
    c->arg = arg;
    trim(s, t->src_arn);
    if (s->st) {
        struct store_batch *b = store_batch_new(s->st);
        if (b)
            task_row(b, t);
        store_batch_submit(s->st, b, start_committed, c);
    } else if (sqs__defer(s, start_deferred, c) != 0) {
        s->tasks = t->next;
        c = NULL;
        goto oom;
    }
    return ERR_OK;
oom:
    buf_destroy(&h);
    task_free(t);
    free(c);
    return sqs__internal(msg, msglen);
}

struct cancel_ctx {
    sqs_done_fn done;
    void *arg;
    char moved[24];
};

static void cancel_committed(void *arg, int rc)
{
    struct cancel_ctx *c = arg;
    if (rc == 0)
        c->done(c->arg, ERR_OK, c->moved);
    else
        c->done(c->arg, ERR_INTERNAL, err_message(ERR_INTERNAL));
    free(c);
}

static void cancel_deferred(void *arg)
{
    cancel_committed(arg, 0);
}

enum err sqs_cancel_move_task(struct sqs *s, struct sqs_str handle, sqs_done_fn done, void *arg,
                              char *msg, size_t msglen)
{
    struct buf b;
    buf_init(&b, 4096);
    json_t *doc = NULL;
    enum err e = ERR_OK;
    if (handle.p == NULL)
        return sqs__missing("TaskHandle", msg, msglen);
    if (codec_b64_decode(handle.p, handle.len, &b) == 0)
        doc = jsonh_parse(b.data ? b.data : "", b.len, NULL, 0);
    buf_destroy(&b);
    const char *id = json_string_value(json_object_get(doc, "taskId"));
    const char *src = json_string_value(json_object_get(doc, "sourceArn"));
    struct sqs_move_task *t = NULL;
    if (id == NULL || src == NULL) {
        snprintf(msg, msglen, "Value for parameter TaskHandle is invalid."); /* [R] */
        e = ERR_SQS_INVALID_PARAMETER_VALUE;
        goto out;
    }
    if (sqs_queue_by_arn(s, src, strlen(src)) == NULL) {
        e = not_found("SourceArn", msg, msglen);
        goto out;
    }
    for (t = s->tasks; t; t = t->next)
        if (strcmp(t->id, id) == 0 && strcmp(t->src_arn, src) == 0)
            break;
    if (t == NULL) {
        snprintf(msg, msglen, "Task does not exist."); /* [R] */
        e = ERR_SQS_RESOURCE_NOT_FOUND;
        goto out;
    }
    if (!running(t)) {
        snprintf(msg, msglen, "Only active tasks can be cancelled."); /* [E] */
        e = ERR_SQS_INVALID_PARAMETER_VALUE;
        goto out;
    }
    struct cancel_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        e = sqs__internal(msg, msglen);
        goto out;
    }
    c->done = done;
    c->arg = arg;
    snprintf(c->moved, sizeof c->moved, "%lld", t->moved);
    finish(t, ST_CANCELLED, NULL);
    if (s->st) {
        /* answered once the status row (queued just before) is committed */
        store_batch_submit(s->st, store_batch_new(s->st), cancel_committed, c);
    } else if (sqs__defer(s, cancel_deferred, c) != 0) {
        free(c);
        e = sqs__internal(msg, msglen);
    }
out:
    json_decref(doc);
    return e;
}

enum err sqs_list_move_tasks(struct sqs *s, struct sqs_str source_arn, bool has_max, long long max,
                             void (*emit)(void *arg, const struct sqs_move_info *t), void *arg,
                             char *msg, size_t msglen)
{
    struct sqs_queue *src = NULL;
    enum err e = source_queue(s, source_arn, &src, msg, msglen);
    if (e != ERR_OK)
        return e;
    if (has_max && (max < 1 || max > TASKS_KEPT)) {
        snprintf(msg, msglen,
                 "Value %lld for parameter MaxResults is invalid. Reason: You must enter a number "
                 "that's between 1 and 10.",
                 max); /* [E] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    long long n = 0, limit = has_max ? max : 1;
    for (struct sqs_move_task *t = s->tasks; t && n < limit; t = t->next) {
        if (strcmp(t->src_arn, src->arn) != 0)
            continue;
        struct sqs_move_info i = {.handle = running(t) ? t->handle : NULL,
                                  .status = t->status,
                                  .source_arn = t->src_arn,
                                  .dest_arn = t->dst_arn,
                                  .rate = t->rate,
                                  .moved = t->moved,
                                  .to_move = t->to_move,
                                  .started_ms = t->started_ms,
                                  .failure = t->failure[0] ? t->failure : NULL};
        emit(arg, &i);
        n++;
    }
    return ERR_OK;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

struct load {
    struct sqs *s;
    struct sqs_move_task *tail;
};

static bool task_load_row(void *arg, const struct store_row *r)
{
    struct load *l = arg;
    size_t n;
    struct sqs_move_task *t = calloc(1, sizeof *t);
    if (t == NULL || timer_init(&t->t, TIMER_CLOCK, on_tick, t) != 0) {
        free(t);
        return true;
    }
    t->s = l->s;
    const char *h = store_row_text(r, 0, &n);
    t->handle = strndup(h, n);
    const char *src = store_row_text(r, 1, &n);
    t->src_arn = strndup(src, n);
    if (!store_row_is_null(r, 2)) {
        const char *dst = store_row_text(r, 2, &n);
        t->dst_arn = strndup(dst, n);
    }
    t->rate = (int)store_row_int(r, 3);
    const char *st = store_row_text(r, 4, &n);
    snprintf(t->status, sizeof t->status, "%.*s", (int)n, st);
    t->moved = store_row_int(r, 5);
    t->to_move = store_row_int(r, 6);
    t->started_ms = store_row_int(r, 7);
    if (!store_row_is_null(r, 8)) {
        const char *f = store_row_text(r, 8, &n);
        snprintf(t->failure, sizeof t->failure, "%.*s", (int)n, f);
    }
    /* the task id is inside the handle */
    struct buf b;
    buf_init(&b, 4096);
    json_t *doc = NULL;
    if (t->handle && codec_b64_decode(t->handle, strlen(t->handle), &b) == 0)
        doc = jsonh_parse(b.data ? b.data : "", b.len, NULL, 0);
    buf_destroy(&b);
    snprintf(t->id, sizeof t->id, "%s", jsonh_str(doc, "taskId", ""));
    json_decref(doc);
    if (t->handle == NULL || t->src_arn == NULL) {
        task_free(t);
        return true;
    }
    /* rows come oldest first; the list is newest first */
    t->next = l->s->tasks;
    l->s->tasks = t;
    if (running(t))
        timer_start(&t->t, TICK_MS);
    return true;
}

int sqs__tasks_load(struct sqs *s)
{
    struct load l = {s, NULL};
    return store_query(s->st, s->stmt.t_all, NULL, 0, task_load_row, &l) < 0 ? -1 : 0;
}

void sqs__tasks_free(struct sqs *s)
{
    while (s->tasks) {
        struct sqs_move_task *t = s->tasks;
        s->tasks = t->next;
        if (t->busy) {
            t->s = NULL; /* its batch's completion frees it */
            timer_destroy(&t->t);
            continue;
        }
        task_free(t);
    }
}

void sqs__tasks_queue_gone(struct sqs *s, struct sqs_queue *q)
{
    for (struct sqs_move_task *t = s->tasks; t; t = t->next)
        if (running(t) &&
            (strcmp(t->src_arn, q->arn) == 0 || (t->dst_arn && strcmp(t->dst_arn, q->arn) == 0)))
            finish(t, ST_FAILED, "AWS.SimpleQueueService.NonExistentQueue");
}
