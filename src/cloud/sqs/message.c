/*
 * message.c — the SQS engine's messages: their states and indexes, SendMessage(Batch),
 * ReceiveMessage with long polls, DeleteMessage(Batch), ChangeMessageVisibility(Batch),
 * dead-letter moves, retention (see queue.h, queue_int.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/md5.h"
#include "cloud/sqs/queue_int.h"
#include "cloud/store/store.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/log.h"

enum {
    MOVES_PER_SELECT = 1000, /* dead-letter moves one receive may do */
    EXPIRE_PER_RUN = 5000,   /* retention deletes per timer run */
};

/* ---- messages ------------------------------------------------------------------------ */

/* Copies len bytes (src may be NULL when len is 0) to p; returns the end. */
static char *put_bytes(char *p, const void *src, size_t len)
{
    if (len)
        memcpy(p, src, len);
    return p + len;
}

/* Makes m's digests once: MD5OfBody, and MD5OfMessageAttributes over set (NULL: decoded
 * from m's encoded attributes). */
static void msg_digest(struct msg *m, const struct sqs_attrs *set)
{
    if (m->md5s & MSG_MD5_MADE)
        return;
    m->md5s |= MSG_MD5_MADE;
    if (sqs_md5(msg_body(m), m->body_len, m->md5_body))
        m->md5s |= MSG_MD5_BODY;
    if (m->attrs_len == 0)
        return;
    struct sqs_attrs decoded;
    sqs_attrs_init(&decoded);
    if (set == NULL && sqs_attrs_decode(&decoded, msg_attrs(m), m->attrs_len) == ERR_OK)
        set = &decoded;
    if (set != NULL && sqs_md5_attrs_bin(set, UINT32_MAX, msg_attrs_md5(m)))
        m->md5s |= MSG_MD5_ATTRS;
    sqs_attrs_destroy(&decoded);
}

struct msg *sqs__msg_new(const char *body, size_t body_len, const void *attrs, size_t attrs_len,
                         const char *trace, size_t trace_len, const char *group, size_t group_len,
                         const char *dedup, size_t dedup_len)
{
    size_t attrs_md5_len = attrs_len ? SQS_MD5_LEN : 0;
    size_t n = body_len + attrs_len + attrs_md5_len + trace_len + group_len + dedup_len;
    if (body_len > UINT32_MAX || attrs_len > UINT32_MAX || trace_len > UINT16_MAX ||
        group_len > UINT8_MAX || dedup_len > UINT8_MAX)
        return NULL;
    struct msg *m = calloc(1, sizeof *m + n + 1);
    if (m == NULL)
        return NULL;
    m->body_len = (uint32_t)body_len;
    m->attrs_len = (uint32_t)attrs_len;
    m->trace_len = (uint16_t)trace_len;
    m->group_len = (uint8_t)group_len;
    m->dedup_len = (uint8_t)dedup_len;
    char *p = m->data;
    p = put_bytes(p, body, body_len);
    p = put_bytes(p, attrs, attrs_len);
    p += attrs_md5_len; /* msg_digest's */
    p = put_bytes(p, trace, trace_len);
    p = put_bytes(p, group, group_len);
    put_bytes(p, dedup, dedup_len);
    m->state = M_PENDING;
    return m;
}

void sqs__msg_release(struct msg *m)
{
    if (m == NULL)
        return;
    if (m->pins > 0) {
        m->dead = true;
        return;
    }
    free(m);
}

static void unpin(struct msg *m)
{
    if (--m->pins == 0 && m->dead)
        free(m);
}

static void fmt_uuid(const unsigned char id[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 15];
    }
    out[o] = '\0';
}

static void new_id(unsigned char id[16])
{
    ids_random(id, 16);
    id[6] = (unsigned char)((id[6] & 0x0f) | 0x40);
    id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
}

/* A batch entry's Id as its result shows it (the batch checks bounded its length). */
static void copy_id(char out[SQS_BATCH_ID_MAX + 1], struct sqs_str id)
{
    size_t n = id.len < SQS_BATCH_ID_MAX ? id.len : SQS_BATCH_ID_MAX;
    if (n)
        memcpy(out, id.p, n);
    out[n] = '\0';
}

static void fmt_seq_number(uint64_t seq, char out[24])
{
    snprintf(out, 24, "%020" PRIu64, (uint64_t)10000000000000000000ull + seq);
}

/* ---- states, counters, ready structures ----------------------------------------------- */

static void count(struct sqs_queue *q, int st, int d)
{
    switch (st) {
    case M_VISIBLE:
        q->n_visible += d;
        break;
    case M_INFLIGHT:
        q->n_inflight += d;
        break;
    case M_DELAYED:
        q->n_delayed += d;
        break;
    default:
        break;
    }
}

static void set_state(struct sqs_queue *q, struct msg *m, int st)
{
    count(q, m->state, -1);
    m->state = (uint8_t)st;
    count(q, st, +1);
}

static void ready_append(struct sqs_queue *q, struct msg *m)
{
    SQS_LIST_APPEND(q->ready_head, q->ready_tail, m, prev, next);
}

static void ready_unlink(struct sqs_queue *q, struct msg *m)
{
    SQS_LIST_UNLINK(q->ready_head, q->ready_tail, m, prev, next);
}

/* FIFO groups */

static struct group *group_get(struct sqs_queue *q, const char *key, size_t klen)
{
    struct group *g = sqs_smap_get(&q->groups, key, klen);
    if (g != NULL)
        return g;
    g = calloc(1, sizeof *g + klen + 1);
    if (g == NULL)
        return NULL;
    g->klen = klen;
    memcpy(g->key, key, klen);
    if (sqs_smap_put(&q->groups, key, klen, g) != 0) {
        free(g);
        return NULL;
    }
    return g;
}

static void gready_unlink(struct sqs_queue *q, struct group *g)
{
    if (!g->ready)
        return;
    SQS_LIST_UNLINK(q->gready_head, q->gready_tail, g, rprev, rnext);
    g->ready = false;
}

static void group_refresh(struct sqs_queue *q, struct group *g)
{
    bool want = g->inflight == 0 && g->head != NULL && g->head->state == M_VISIBLE;
    if (want == g->ready)
        return;
    if (!want) {
        gready_unlink(q, g);
        return;
    }
    SQS_LIST_APPEND(q->gready_head, q->gready_tail, g, rprev, rnext);
    g->ready = true;
}

static void group_unlink(struct sqs_queue *q, struct group *g, struct msg *m)
{
    SQS_LIST_UNLINK(g->head, g->tail, m, prev, next);
    m->group = NULL;
    g->n--;
    if (g->n == 0) {
        gready_unlink(q, g);
        sqs_smap_del(&q->groups, g->key, g->klen);
        free(g);
        return;
    }
    group_refresh(q, g);
}

/* ---- indexing ----------------------------------------------------------------------- */

int sqs__msg_index(struct sqs_queue *q, struct msg *m, int64_t now, bool append)
{
    struct group *g = NULL;
    if (q->a.fifo && (g = group_get(q, msg_group(m), m->group_len)) == NULL)
        return -1;
    bool hidden = m->visible_ms > now;
    int rc = append ? sqs_heap_append(&q->ret, m) : sqs_heap_push(&q->ret, m);
    if (rc == 0 && hidden)
        rc = append ? sqs_heap_append(&q->timed, m) : sqs_heap_push(&q->timed, m);
    if (rc != 0) {
        sqs_heap_remove(&q->ret, m);
        if (g && g->n == 0) {
            sqs_smap_del(&q->groups, g->key, g->klen);
            free(g);
        }
        return -1;
    }
    m->state = M_PENDING;
    set_state(q, m, hidden ? (m->recv_ms ? M_INFLIGHT : M_DELAYED) : M_VISIBLE);
    if (g) {
        m->group = g;
        SQS_LIST_APPEND(g->head, g->tail, m, prev, next);
        g->n++;
        if (m->state == M_INFLIGHT)
            g->inflight++;
        group_refresh(q, g);
    } else if (!hidden) {
        ready_append(q, m);
    }
    return 0;
}

void sqs__msg_unindex(struct sqs_queue *q, struct msg *m)
{
    if (m->state == M_GONE || m->state == M_PENDING)
        return;
    sqs_heap_remove(&q->ret, m);
    sqs_heap_remove(&q->timed, m);
    if (m->group) {
        struct group *g = m->group;
        if (m->state == M_INFLIGHT)
            g->inflight--;
        set_state(q, m, M_GONE);
        group_unlink(q, g, m);
    } else {
        if (m->state == M_VISIBLE)
            ready_unlink(q, m);
        set_state(q, m, M_GONE);
    }
}

/* DELAYED / INFLIGHT -> VISIBLE */
static void make_visible(struct sqs_queue *q, struct msg *m)
{
    sqs_heap_remove(&q->timed, m);
    if (m->group) {
        if (m->state == M_INFLIGHT)
            m->group->inflight--;
        set_state(q, m, M_VISIBLE);
        group_refresh(q, m->group);
    } else {
        set_state(q, m, M_VISIBLE);
        ready_append(q, m);
    }
}

/* VISIBLE / INFLIGHT / DELAYED -> INFLIGHT until `until` (or VISIBLE when that is not
 * later than now). Returns -1 out of memory (m unchanged). */
static int hide_until(struct sqs_queue *q, struct msg *m, int64_t until, int64_t now)
{
    if (until <= now) {
        if (m->state != M_VISIBLE) {
            make_visible(q, m);
            m->visible_ms = until;
        }
        return 0;
    }
    int64_t old = m->visible_ms;
    m->visible_ms = until;
    if (m->th) {
        sqs_heap_update(&q->timed, m);
    } else if (sqs_heap_push(&q->timed, m) != 0) {
        m->visible_ms = old;
        return -1;
    }
    if (m->group) {
        if (m->state != M_INFLIGHT)
            m->group->inflight++;
        set_state(q, m, M_INFLIGHT);
        group_refresh(q, m->group);
    } else {
        if (m->state == M_VISIBLE)
            ready_unlink(q, m);
        set_state(q, m, M_INFLIGHT);
    }
    return 0;
}

static bool has_ready(const struct sqs_queue *q)
{
    return q->a.fifo ? q->gready_head != NULL : q->ready_head != NULL;
}

/* ---- timers --------------------------------------------------------------------------- */

/* Keeps t due at when (0: stopped); *due is when it was last set for. */
static void arm(struct timer *t, int64_t *due, int64_t when)
{
    if (when == *due && (when == 0 || timer_pending(t)))
        return;
    *due = when;
    if (when)
        timer_start_epoch(t, when);
    else
        timer_stop(t);
}

void sqs__queue_timers(struct sqs_queue *q)
{
    if (q->deleted)
        return;
    struct msg *t = sqs_heap_top(&q->timed);
    arm(&q->t_vis, &q->vis_due, t ? t->visible_ms : 0);
    struct msg *r = sqs_heap_top(&q->ret);
    arm(&q->t_ret, &q->ret_due, r ? r->enq_ms + (int64_t)q->a.message_retention_period * 1000 : 0);
}

void sqs__on_vis_timer(struct timer *t)
{
    struct sqs_queue *q = t->data;
    int64_t now = clock_now_ms();
    struct msg *m;
    while ((m = sqs_heap_top(&q->timed)) != NULL && m->visible_ms <= now)
        make_visible(q, m);
    q->vis_due = 0;
    sqs__queue_timers(q);
    sqs__wake(q);
}

static void forget(struct sqs_queue *q, struct msg *m)
{
    sqs_seqmap_del(&q->map, m->seq);
    q->s->live_msgs--;
    sqs__msg_release(m);
}

void sqs__on_ret_timer(struct timer *t)
{
    struct sqs_queue *q = t->data;
    int64_t now = clock_now_ms(), keep = (int64_t)q->a.message_retention_period * 1000;
    q->ret_due = 0;
    struct store_batch *b = q->s->st ? store_batch_new(q->s->st) : NULL;
    struct msg *m;
    int n = 0;
    while ((m = sqs_heap_top(&q->ret)) != NULL && m->enq_ms + keep <= now && n < EXPIRE_PER_RUN) {
        sqs__msg_unindex(q, m);
        if (b)
            sqs__del_msg(b, q, m->seq);
        forget(q, m);
        n++;
    }
    if (b != NULL && !store_batch_empty(b))
        store_batch_submit(q->s->st, b, NULL, NULL);
    else
        store_batch_discard(b);
    if (n == EXPIRE_PER_RUN && sqs_heap_top(&q->ret) &&
        sqs_heap_top(&q->ret)->enq_ms + keep <= now) {
        q->ret_due = now;
        timer_start_epoch(&q->t_ret, now);
    } else {
        sqs__queue_timers(q);
    }
}

/* ---- dead-letter moves ------------------------------------------------------------------ */

struct move_rec {
    struct msg *m;
    uint64_t hw;                 /* the high-water mark the batch raises for dst, or 0 */
    struct sqs_queue *src, *dst; /* references */
    uint64_t old_seq, new_seq;
    uint32_t old_dlq_src;
    int64_t old_enq;
};

struct sqs_moves {
    struct sqs *s;
    size_t n, cap;
    struct move_rec *r;
    void (*done)(void *arg, size_t moved, bool ok);
    void *arg;
};

static void moves_free(struct sqs_moves *mv)
{
    if (mv == NULL)
        return;
    free(mv->r);
    free(mv);
}

int sqs__move_add(struct sqs_moves *mv, struct store_batch *b, struct sqs_queue *src,
                  struct sqs_queue *dst, struct msg *m, bool dlq_src)
{
    if (mv->n == mv->cap) {
        size_t cap = mv->cap ? mv->cap * 2 : 8;
        struct move_rec *r = realloc(mv->r, cap * sizeof *r);
        if (r == NULL)
            return -1;
        mv->r = r;
        mv->cap = cap;
    }
    uint32_t src_arn = dlq_src ? sqs__intern(src->s, src->arn, strlen(src->arn)) : 0;
    if (src_arn == UINT32_MAX)
        return -1;
    uint64_t seq, hw;
    if (sqs__take_seqs(b, dst, 1, &seq, &hw) != 0)
        return -1;
    struct move_rec *r = &mv->r[mv->n++];
    *r = (struct move_rec){.m = m,
                           .hw = hw,
                           .src = src,
                           .dst = dst,
                           .old_seq = m->seq,
                           .new_seq = seq,
                           .old_dlq_src = m->dlq_src,
                           .old_enq = m->enq_ms};
    src->refs++;
    dst->refs++;
    sqs__msg_unindex(src, m);
    sqs_seqmap_del(&src->map, m->seq);
    src->s->live_msgs--;
    sqs__del_msg(b, src, m->seq);
    m->seq = seq;
    m->dlq_src = src_arn;
    if (!dlq_src) {
        /* a redrive back: the message starts over in its queue */
        m->recv_count = 0;
        m->first_recv_ms = 0;
        m->recv_ms = 0;
    }
    /* a FIFO dead-letter queue counts retention from the move (AWS) */
    if (dst->a.fifo)
        m->enq_ms = clock_now_ms();
    m->visible_ms = 0;
    sqs__put_msg(b, dst, m);
    return 0;
}

static void moves_committed(void *arg, int rc)
{
    struct sqs_moves *mv = arg;
    int64_t now = clock_now_ms();
    size_t moved = 0;
    for (size_t i = 0; i < mv->n; i++) {
        struct move_rec *r = &mv->r[i];
        struct msg *m = r->m;
        struct sqs_queue *q = rc == 0 ? r->dst : r->src;
        if (rc != 0) {
            m->seq = r->old_seq;
            m->dlq_src = r->old_dlq_src;
            m->enq_ms = r->old_enq;
        }
        m->state = M_PENDING;
        bool dropped = q->deleted || (rc == 0 && m->seq < q->seq_purged);
        if (dropped || sqs_seqmap_put(&q->map, m) != 0 || sqs__msg_index(q, m, now, false) != 0) {
            if (!dropped)
                sqs_seqmap_del(&q->map, m->seq);
            sqs__msg_release(m);
        } else {
            q->s->live_msgs++;
        }
        if (rc == 0) {
            moved++;
            sqs__hw_committed(r->dst, r->hw);
        }
    }
    for (size_t i = 0; i < mv->n; i++) {
        sqs__queue_timers(mv->r[i].src);
        sqs__queue_timers(mv->r[i].dst);
        sqs__wake(mv->r[i].dst);
        sqs__wake(mv->r[i].src);
    }
    for (size_t i = 0; i < mv->n; i++) {
        sqs__queue_unref(mv->r[i].src);
        sqs__queue_unref(mv->r[i].dst);
    }
    if (mv->done)
        mv->done(mv->arg, moved, rc == 0);
    moves_free(mv);
}

struct sqs_moves *sqs__moves_new(struct sqs *s, void (*done)(void *, size_t, bool), void *arg)
{
    struct sqs_moves *mv = calloc(1, sizeof *mv);
    if (mv) {
        mv->s = s;
        mv->done = done;
        mv->arg = arg;
    }
    return mv;
}

void sqs__moves_submit(struct sqs_moves *mv, struct store_batch *b)
{
    if (mv->n == 0) {
        store_batch_discard(b);
        if (mv->done)
            mv->done(mv->arg, 0, true);
        moves_free(mv);
        return;
    }
    store_batch_submit(mv->s->st, b, moves_committed, mv);
}

/* The dead-letter queue of q when a message received count times must go there. */
static struct sqs_queue *dlq_for(struct sqs_queue *q, uint32_t count)
{
    const struct sqs_redrive *rd = &q->a.redrive;
    if (rd->dlq_arn == NULL || count < (uint32_t)rd->max_receive_count)
        return NULL;
    struct sqs_queue *d = sqs_queue_by_arn(q->s, rd->dlq_arn, strlen(rd->dlq_arn));
    if (d == NULL || d == q || d->deleted || d->creating || d->a.fifo != q->a.fifo)
        return NULL;
    return d;
}

/* ---- receiving --------------------------------------------------------------------------- */

static void waiter_free(struct sqs_waiter *w)
{
    timer_destroy(&w->t);
    for (size_t i = 0; i < w->n; i++)
        unpin(w->got[i]);
    if (w->q)
        sqs__queue_unref(w->q);
    free(w);
}

static void unpark(struct sqs_waiter *w)
{
    struct sqs_queue *q = w->q;
    if (!w->parked)
        return;
    SQS_LIST_UNLINK(q->w_head, q->w_tail, w, prev, next);
    w->parked = false;
    timer_stop(&w->t);
}

static void sys_value(struct sqs_message *v, enum sqs_sysattr a, const char *value, size_t len)
{
    v->sys[v->nsys].name = sqs_sysattr_name(a);
    v->sys[v->nsys].value = value;
    v->sys[v->nsys].len = len;
    v->nsys++;
}

static void sys_num(struct sqs_message *v, enum sqs_sysattr a, int slot, int64_t n)
{
    int len = snprintf(v->scratch[slot], sizeof v->scratch[slot], "%" PRId64, n);
    sys_value(v, a, v->scratch[slot], (size_t)len);
}

/* Fills the view of m as its gen-th receive shows it to w. v->attrs must be destroyed. */
static void view_of(struct sqs_waiter *w, struct msg *m, uint32_t gen, struct sqs_message *v)
{
    struct sqs_queue *q = w->q;
    memset(v, 0, sizeof *v);
    sqs_attrs_init(&v->attrs);
    fmt_uuid(m->id, v->message_id);
    struct sqs_receipt rc = {.queue_id = q->id, .seq = m->seq, .gen = gen};
    sqs_receipt_encode(&q->s->key, &rc, v->receipt);
    v->body = msg_body(m);
    v->body_len = m->body_len;
    msg_digest(m, NULL);
    sqs_md5_fmt(m->md5s & MSG_MD5_BODY ? m->md5_body : NULL, v->md5_body);
    if (m->attrs_len > 0 && w->nnames > 0 &&
        sqs_attrs_decode(&v->attrs, msg_attrs(m), m->attrs_len) == ERR_OK) {
        v->attr_mask = sqs_attrs_select(&v->attrs, w->names, w->nnames);
        uint32_t all = (uint32_t)((1ull << v->attrs.n) - 1);
        if (v->attr_mask == all && (m->md5s & MSG_MD5_ATTRS))
            sqs_md5_fmt(msg_attrs_md5(m), v->md5_attrs); /* the digest made at the send */
        else if (v->attr_mask)
            sqs_md5_attrs(&v->attrs, v->attr_mask, v->md5_attrs);
    }
    uint32_t mask = w->sys_mask;
    if (mask & (1u << SQS_SYS_SENDER_ID)) {
        const char *sid = sqs__string(q->s, m->sender);
        sys_value(v, SQS_SYS_SENDER_ID, sid, strlen(sid));
    }
    if (mask & (1u << SQS_SYS_SENT_TIMESTAMP))
        sys_num(v, SQS_SYS_SENT_TIMESTAMP, 0, m->sent_ms);
    if (mask & (1u << SQS_SYS_APPROX_RECEIVE_COUNT))
        sys_num(v, SQS_SYS_APPROX_RECEIVE_COUNT, 1, m->recv_count);
    if (mask & (1u << SQS_SYS_APPROX_FIRST_RECEIVE_TIMESTAMP))
        sys_num(v, SQS_SYS_APPROX_FIRST_RECEIVE_TIMESTAMP, 2, m->first_recv_ms);
    if (q->a.fifo && (mask & (1u << SQS_SYS_SEQUENCE_NUMBER))) {
        fmt_seq_number(m->seq, v->scratch[3]);
        sys_value(v, SQS_SYS_SEQUENCE_NUMBER, v->scratch[3], strlen(v->scratch[3]));
    }
    if (m->dedup_len && (mask & (1u << SQS_SYS_MESSAGE_DEDUPLICATION_ID)))
        sys_value(v, SQS_SYS_MESSAGE_DEDUPLICATION_ID, msg_dedup(m), m->dedup_len);
    if (m->group_len && (mask & (1u << SQS_SYS_MESSAGE_GROUP_ID)))
        sys_value(v, SQS_SYS_MESSAGE_GROUP_ID, msg_group(m), m->group_len);
    if (m->trace_len && (mask & (1u << SQS_SYS_AWS_TRACE_HEADER)))
        sys_value(v, SQS_SYS_AWS_TRACE_HEADER, msg_trace(m), m->trace_len);
    if (m->dlq_src && (mask & (1u << SQS_SYS_DEAD_LETTER_QUEUE_SOURCE_ARN))) {
        const char *arn = sqs__string(q->s, m->dlq_src);
        sys_value(v, SQS_SYS_DEAD_LETTER_QUEUE_SOURCE_ARN, arn, strlen(arn));
    }
}

/* Answers w (e, or its messages) and frees it. */
static void deliver(struct sqs_waiter *w, enum err e, const char *msg)
{
    if (w->cancelled) {
        waiter_free(w);
        return;
    }
    struct sqs_message *v = NULL;
    size_t n = 0;
    if (e == ERR_OK && w->n > 0) {
        v = malloc(w->n * sizeof *v);
        if (v == NULL) {
            e = ERR_INTERNAL;
            msg = NULL;
        } else {
            for (size_t i = 0; i < w->n; i++) {
                struct msg *m = w->got[i];
                if (m->dead)
                    continue; /* deleted (an old handle, a purge) before the answer */
                view_of(w, m, w->gen[i], &v[n]);
                n++;
            }
        }
    }
    w->done(w->arg, e, msg, v, n);
    for (size_t i = 0; i < n; i++)
        sqs_attrs_destroy(&v[i].attrs);
    free(v);
    waiter_free(w);
}

static void recv_committed(void *arg, int rc)
{
    struct sqs_waiter *w = arg;
    w->committing = false;
    if (rc != 0) {
        /* nothing of the receive was kept: the messages show again, counts as they were */
        struct sqs_queue *q = w->q;
        int64_t now = clock_now_ms();
        for (size_t i = 0; i < w->n; i++) {
            struct msg *m = w->got[i];
            if (m->dead || m->gen != w->gen[i] || m->state != M_INFLIGHT)
                continue;
            m->recv_count--;
            m->gen--;
            if (m->recv_count == 0) {
                m->first_recv_ms = 0;
                m->recv_ms = 0;
            }
            hide_until(q, m, 0, now);
        }
        sqs__queue_timers(q);
        sqs__wake(q);
        deliver(w, ERR_INTERNAL, NULL);
        return;
    }
    deliver(w, ERR_OK, NULL);
}

/* Takes m (VISIBLE) for w: a new receive, hidden for vt ms. */
static int take(struct sqs_waiter *w, struct store_batch *b, struct msg *m, int64_t now, int64_t vt)
{
    struct sqs_queue *q = w->q;
    if (hide_until(q, m, now + vt, now) != 0)
        return -1;
    if (vt <= 0 && m->state == M_VISIBLE) {
        /* VisibilityTimeout 0: it stays receivable, but not within this receive */
        if (m->group == NULL)
            ready_unlink(q, m);
        else
            m->group->inflight++;
        m->state = M_INFLIGHT; /* counted as visible; restored below */
        m->visible_ms = now;
    }
    m->recv_count++;
    m->gen++;
    m->recv_ms = now;
    if (m->first_recv_ms == 0)
        m->first_recv_ms = now;
    m->pins++;
    w->got[w->n] = m;
    w->gen[w->n] = m->gen;
    w->n++;
    if (b)
        sqs__put_recv(b, q, m);
    return 0;
}

/* After a selection: messages taken with VisibilityTimeout 0 show again at once. */
static void release_zero_vt(struct sqs_waiter *w, int64_t now)
{
    struct sqs_queue *q = w->q;
    for (size_t i = 0; i < w->n; i++) {
        struct msg *m = w->got[i];
        if (m->state != M_INFLIGHT || m->th != 0 || m->visible_ms > now)
            continue;
        /* counted as VISIBLE while marked INFLIGHT by take() */
        if (m->group) {
            m->group->inflight--;
            m->state = M_VISIBLE;
            group_refresh(q, m->group);
        } else {
            m->state = M_VISIBLE;
            ready_append(q, m);
        }
    }
}

/* Picks up to w->max messages for w; dead-letter moves go into their own batch. */
static void select_msgs(struct sqs_waiter *w, struct store_batch *b)
{
    struct sqs_queue *q = w->q;
    struct sqs *s = q->s;
    int64_t now = clock_now_ms(), vt = (int64_t)w->vt * 1000;
    struct sqs_moves *mv = NULL;
    struct store_batch *mb = NULL;
    int moves = 0;
    while ((size_t)w->max > w->n && has_ready(q)) {
        struct msg *m;
        struct group *g = NULL;
        if (q->a.fifo) {
            g = q->gready_head;
            m = g->head;
        } else {
            m = q->ready_head;
        }
        struct sqs_queue *dlq = dlq_for(q, m->recv_count);
        if (dlq != NULL && moves < MOVES_PER_SELECT && s->st != NULL) {
            if (mv == NULL) {
                mv = sqs__moves_new(s, NULL, NULL);
                mb = store_batch_new(s->st);
            }
            if (mv != NULL && mb != NULL && sqs__move_add(mv, mb, q, dlq, m, true) == 0) {
                moves++;
                continue;
            }
        }
        if (g != NULL) {
            /* a FIFO group: its visible messages in order, then it is locked */
            gready_unlink(q, g);
            size_t taken = 0;
            for (struct msg *x = g->head; x && (size_t)w->max > w->n;) {
                struct msg *next = x->next;
                if (x->state != M_VISIBLE)
                    break;
                if (x != m && dlq_for(q, x->recv_count) != NULL)
                    break; /* it goes to the DLQ on a later pass, in order */
                if (take(w, b, x, now, vt) != 0)
                    break;
                taken++;
                x = next;
            }
            group_refresh(q, g);
            if (taken == 0)
                break; /* out of memory */
        } else if (take(w, b, m, now, vt) != 0) {
            break;
        }
    }
    release_zero_vt(w, now);
    if (mv != NULL) {
        if (mb == NULL) {
            moves_free(mv);
        } else {
            w->moved = w->moved || moves > 0;
            sqs__moves_submit(mv, mb);
        }
    } else {
        store_batch_discard(mb);
    }
}

static void attempt_record(struct sqs_waiter *w)
{
    struct sqs_queue *q = w->q;
    if (w->attempt[0] == '\0' || w->n == 0)
        return;
    size_t klen = strlen(w->attempt);
    struct attempt *a = sqs_smap_get(&q->attempts, w->attempt, klen);
    if (a == NULL) {
        a = calloc(1, sizeof *a);
        if (a == NULL || sqs_smap_put(&q->attempts, w->attempt, klen, a) != 0) {
            free(a);
            return;
        }
    }
    a->exp_ms = clock_now_ms() + SQS_DEDUP_WINDOW_MS;
    a->n = w->n;
    for (size_t i = 0; i < w->n; i++) {
        a->seq[i] = w->got[i]->seq;
        a->gen[i] = w->gen[i];
    }
}

static void receive_deferred(struct timer_defer *d)
{
    deliver(d->data, ERR_OK, NULL);
}

/* Answers w on the loop's next turn (an answer decided at once never goes out inside the
 * call). */
static void defer_receive(struct sqs_waiter *w)
{
    timer_defer(&w->turn, receive_deferred, w, w->s);
}

/* Serves w now: takes messages and commits, or leaves w->n == 0. Returns true when w is
 * now committing (its answer follows the commit). */
static bool serve(struct sqs_waiter *w)
{
    struct sqs_queue *q = w->q;
    struct sqs *s = q->s;
    struct store_batch *b = s->st ? store_batch_new(s->st) : NULL;
    select_msgs(w, b);
    sqs__queue_timers(q);
    if (w->n == 0) {
        store_batch_discard(b);
        return false;
    }
    attempt_record(w);
    w->committing = true;
    if (s->st == NULL) {
        w->committing = false;
        defer_receive(w);
        return true;
    }
    store_batch_submit(s->st, b, recv_committed, w);
    return true;
}

static void on_wait_timer(struct timer *t)
{
    struct sqs_waiter *w = t->data;
    unpark(w);
    if (w->moved && w->s->st != NULL) {
        w->committing = true;
        store_batch_submit(w->s->st, store_batch_new(w->s->st), recv_committed, w);
        return;
    }
    deliver(w, ERR_OK, NULL);
}

void sqs__wake(struct sqs_queue *q)
{
    while (q->w_head != NULL && has_ready(q)) {
        struct sqs_waiter *w = q->w_head;
        unpark(w);
        if (!serve(w)) {
            /* nothing deliverable after all (moved to a DLQ): back at the head */
            w->next = q->w_head;
            w->prev = NULL;
            if (q->w_head)
                q->w_head->prev = w;
            else
                q->w_tail = w;
            q->w_head = w;
            w->parked = true;
            timer_start_epoch(&w->t, w->deadline);
            break;
        }
    }
}

/* A FIFO ReceiveRequestAttemptId retried: the same messages and handles while in flight. */
static bool attempt_replay(struct sqs_waiter *w)
{
    struct sqs_queue *q = w->q;
    size_t klen = strlen(w->attempt);
    struct attempt *a = sqs_smap_get(&q->attempts, w->attempt, klen);
    if (a == NULL)
        return false;
    if (a->exp_ms <= clock_now_ms()) {
        free(sqs_smap_del(&q->attempts, w->attempt, klen));
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        struct msg *m = sqs_seqmap_get(&q->map, a->seq[i]);
        if (m == NULL || m->gen != a->gen[i] || m->state != M_INFLIGHT)
            continue;
        m->pins++;
        w->got[w->n] = m;
        w->gen[w->n] = a->gen[i];
        w->n++;
    }
    defer_receive(w);
    return true;
}

static void sweep_attempts_one(void *arg, const char *key, size_t klen, void *val)
{
    (void)key;
    (void)klen;
    int64_t *now = arg;
    struct attempt *a = val;
    if (a->exp_ms <= *now)
        a->n = SIZE_MAX; /* marked; removed below */
}

static void sweep_attempts(struct sqs_queue *q)
{
    if (q->attempts.n < 1024)
        return;
    int64_t now = clock_now_ms();
    sqs_smap_each(&q->attempts, sweep_attempts_one, &now);
    for (size_t i = 0; i < q->attempts.nb; i++) {
        struct sqs_smap_entry *e = q->attempts.b[i];
        while (e) {
            struct sqs_smap_entry *next = e->next;
            struct attempt *a = e->val;
            if (a->n == SIZE_MAX) {
                char key[SQS_FIFO_ID_MAX + 1];
                size_t kl = e->klen < sizeof key ? e->klen : sizeof key - 1;
                memcpy(key, e->key, kl);
                free(sqs_smap_del(&q->attempts, key, kl));
            }
            e = next;
        }
    }
}

enum err sqs_receive(struct sqs_queue *q, const struct sqs_receive_req *r, sqs_receive_fn done,
                     void *arg, struct sqs_waiter **out, char *msg, size_t msglen)
{
    if (out)
        *out = NULL;
    enum err e = sqs_check_receive_params(&r->p, msg, msglen);
    if (e != ERR_OK)
        return e;
    if (!q->a.fifo && q->n_inflight >= SQS_INFLIGHT_MAX) {
        /* AWS: about 120,000 in flight a standard queue, then OverLimit (a FIFO queue's
         * 20,000 just make receives come back empty) */
        snprintf(msg, msglen, "%s", err_message(ERR_SQS_OVER_LIMIT));
        return ERR_SQS_OVER_LIMIT;
    }
    size_t names_bytes = 0;
    for (size_t i = 0; i < r->nnames; i++)
        names_bytes += r->names[i].p ? r->names[i].len + 1 : 1;
    struct sqs_waiter *w = calloc(1, sizeof *w + r->nnames * sizeof(struct sqs_str) + names_bytes);
    if (w == NULL || timer_init(&w->t, TIMER_CLOCK, on_wait_timer, w) != 0) {
        free(w);
        return sqs__internal(msg, msglen);
    }
    w->s = q->s;
    w->q = q;
    q->refs++;
    w->done = done;
    w->arg = arg;
    w->max = r->p.has_max ? (int)r->p.max : 1;
    w->vt = r->p.has_visibility ? (int)r->p.visibility : q->a.visibility_timeout;
    w->sys_mask = r->sys_mask;
    w->names = (struct sqs_str *)(w + 1);
    w->nnames = r->nnames;
    char *p = (char *)(w->names + r->nnames);
    for (size_t i = 0; i < r->nnames; i++) {
        size_t n = r->names[i].p ? r->names[i].len : 0;
        if (n)
            memcpy(p, r->names[i].p, n);
        p[n] = '\0';
        w->names[i] = (struct sqs_str){p, n};
        p += n + 1;
    }
    if (q->a.fifo && r->p.attempt_id.p != NULL) {
        size_t n = r->p.attempt_id.len < SQS_FIFO_ID_MAX ? r->p.attempt_id.len : SQS_FIFO_ID_MAX;
        memcpy(w->attempt, r->p.attempt_id.p, n);
        w->attempt[n] = '\0';
        sweep_attempts(q);
        if (attempt_replay(w)) {
            if (out)
                *out = w;
            return ERR_OK;
        }
    }
    int wait = r->p.has_wait ? (int)r->p.wait : q->a.receive_wait_time;
    if (out)
        *out = w;
    if (serve(w))
        return ERR_OK;
    if (wait <= 0) {
        if (w->moved && q->s->st != NULL) {
            /* answered after the dead-letter moves it made are committed (in order) */
            w->committing = true;
            store_batch_submit(q->s->st, store_batch_new(q->s->st), recv_committed, w);
        } else {
            defer_receive(w);
        }
        return ERR_OK;
    }
    w->parked = true;
    SQS_LIST_APPEND(q->w_head, q->w_tail, w, prev, next);
    w->deadline = clock_now_ms() + (int64_t)wait * 1000;
    timer_start_epoch(&w->t, w->deadline);
    return ERR_OK;
}

void sqs_receive_cancel(struct sqs_waiter *w)
{
    if (w == NULL)
        return;
    if (w->parked) {
        unpark(w);
        waiter_free(w);
        return;
    }
    /* committing or deferred: its completion frees it */
    w->cancelled = true;
}

bool sqs_receive_try_cancel(struct sqs_waiter *w)
{
    if (w->parked || (timer_defer_pending(&w->turn) && w->n == 0)) {
        sqs_receive_cancel(w);
        return true;
    }
    return false;
}

void sqs__fail_waiters(struct sqs_queue *q)
{
    while (q->w_head) {
        struct sqs_waiter *w = q->w_head;
        unpark(w);
        w->n = 0;
        if (!w->cancelled)
            w->done(w->arg, ERR_SQS_QUEUE_DOES_NOT_EXIST, sqs_msg_queue_does_not_exist(false), NULL,
                    0);
        waiter_free(w);
    }
}

/* ---- sending ------------------------------------------------------------------------------ */

struct send_ctx {
    struct sqs_queue *q;
    sqs_send_fn done;
    void *arg;
    size_t n;
    struct msg *m[SQS_BATCH_MAX];
    struct dedup *dd[SQS_BATCH_MAX];    /* entries this send created */
    struct dedup *dupof[SQS_BATCH_MAX]; /* entries a duplicate matched */
    uint64_t hw;                        /* the high-water mark the batch raises, or 0 */
    struct sqs_send_result res[];       /* n of them */
};

static void send_ctx_free(struct send_ctx *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        if (c->m[i])
            sqs__msg_release(c->m[i]);
    sqs__queue_unref(c->q);
    free(c);
}

/* Forgets d (its send is not going ahead). */
static void dedup_drop(struct sqs_queue *q, struct dedup *d)
{
    d->pending = false;
    if (sqs_smap_get(&q->dedups, d->key, d->klen) == d)
        sqs_smap_del(&q->dedups, d->key, d->klen);
    d->exp_ms = 0; /* freed when the sweep reaches it */
}

/* Forgets deduplication ids older than 5 minutes (and their rows, once a minute). */
static void dedup_sweep(struct sqs_queue *q, struct store_batch *b, int64_t now)
{
    while (q->dedup_head && q->dedup_head->exp_ms <= now && !q->dedup_head->pending) {
        struct dedup *d = q->dedup_head;
        q->dedup_head = d->next;
        if (q->dedup_head == NULL)
            q->dedup_tail = NULL;
        if (sqs_smap_get(&q->dedups, d->key, d->klen) == d)
            sqs_smap_del(&q->dedups, d->key, d->klen);
        free(d);
    }
    if (b != NULL && now - q->dedup_swept_ms >= 60000) {
        struct store_val v[2] = {store_int((int64_t)q->id), store_int(now)};
        store_batch_add(b, q->s->stmt.d_sweep, v, 2);
        q->dedup_swept_ms = now;
    }
}

static void send_committed(void *arg, int rc)
{
    struct send_ctx *c = arg;
    struct sqs_queue *q = c->q;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < c->n; i++) {
        if (c->dd[i] && rc != 0)
            dedup_drop(q, c->dd[i]);
        else if (c->dd[i])
            c->dd[i]->pending = false;
        struct msg *m = c->m[i];
        if (m == NULL || rc != 0)
            continue;
        if (q->deleted || m->seq < q->seq_purged)
            continue; /* a purge or delete came after it: gone on disk too */
        if (sqs_seqmap_put(&q->map, m) != 0 || sqs__msg_index(q, m, now, false) != 0) {
            sqs_seqmap_del(&q->map, m->seq);
            LOG_ERROR("sqs", NULL, "out of memory indexing a message of %s", q->name);
            continue;
        }
        q->s->live_msgs++;
        c->m[i] = NULL;
    }
    if (rc == 0) {
        sqs__hw_committed(q, c->hw);
        sqs__queue_timers(q);
        sqs__wake(q);
        c->done(c->arg, ERR_OK, NULL, c->res, c->n);
    } else {
        c->done(c->arg, ERR_INTERNAL, err_message(ERR_INTERNAL), c->res, c->n);
    }
    send_ctx_free(c);
}

static void send_deferred(void *arg)
{
    send_committed(arg, 0);
}

/* What validate.h checks of an entry sent to q. */
static struct sqs_send_params send_params(const struct sqs_queue *q, const struct sqs_send_entry *e,
                                          bool in_batch)
{
    return (struct sqs_send_params){.fifo = q->a.fifo,
                                    .content_based_dedup = q->a.content_based_dedup,
                                    .in_batch = in_batch,
                                    .has_delay = e->has_delay,
                                    .delay = e->delay,
                                    .group_id = e->group_id,
                                    .dedup_id = e->dedup_id};
}

/* Writes e's digests into res: those m made (NULL: e stores nothing, they are made here). */
static void send_digests(struct sqs_send_result *res, const struct sqs_send_entry *e, struct msg *m)
{
    if (m == NULL) {
        sqs_md5_hex(e->body.p, e->body.len, res->md5_body);
        if (e->attrs && e->attrs->n)
            sqs_md5_attrs(e->attrs, UINT32_MAX, res->md5_attrs);
    } else {
        sqs_md5_fmt(m->md5s & MSG_MD5_BODY ? m->md5_body : NULL, res->md5_body);
        if (e->attrs && e->attrs->n)
            sqs_md5_fmt(m->md5s & MSG_MD5_ATTRS ? msg_attrs_md5(m) : NULL, res->md5_attrs);
    }
    if (e->sys && e->sys->n)
        sqs_md5_attrs(e->sys, UINT32_MAX, res->md5_sys);
}

/* Checks one entry; on success builds its message (PENDING) into c. Returns the entry's
 * error (msg set) or ERR_OK. */
static enum err prepare_entry(struct send_ctx *c, size_t i, const struct sqs_send_entry *e,
                              uint32_t sender, bool in_batch, int64_t now, char *msg, size_t msglen)
{
    struct sqs_queue *q = c->q;
    struct sqs_send_result *res = &c->res[i];
    if (e->pre_err != ERR_OK) {
        snprintf(msg, msglen, "%s", e->pre_msg ? e->pre_msg : err_message(e->pre_err));
        return e->pre_err;
    }
    enum err rc = sqs_check_body(e->body, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    size_t asz = e->attrs ? sqs_attrs_size(e->attrs) : 0;
    rc = sqs_check_message_size(e->body.len, asz, (size_t)q->a.maximum_message_size, in_batch, msg,
                                msglen);
    if (rc != ERR_OK)
        return rc;
    struct sqs_send_params sp = send_params(q, e, in_batch);
    rc = sqs_check_send_params(&sp, msg, msglen);
    if (rc != ERR_OK)
        return rc;

    /* FIFO deduplication */
    char dedup_id[SQS_FIFO_ID_MAX + 1] = "";
    size_t dedup_len = 0;
    if (q->a.fifo) {
        if (e->dedup_id.p != NULL) {
            dedup_len = e->dedup_id.len;
            memcpy(dedup_id, e->dedup_id.p, dedup_len);
        } else {
            unsigned char h[32];
            codec_sha256(e->body.p, e->body.len, h);
            static const char hx[] = "0123456789abcdef";
            for (int k = 0; k < 32; k++) {
                dedup_id[2 * k] = hx[h[k] >> 4];
                dedup_id[2 * k + 1] = hx[h[k] & 15];
            }
            dedup_len = 64;
        }
        dedup_id[dedup_len] = '\0';
        char key[2 * SQS_FIFO_ID_MAX + 2];
        size_t klen = 0;
        if (q->a.dedup_scope == SQS_DEDUP_MESSAGE_GROUP) {
            memcpy(key, e->group_id.p, e->group_id.len);
            klen = e->group_id.len;
            key[klen++] = '\0';
        }
        memcpy(key + klen, dedup_id, dedup_len);
        klen += dedup_len;
        struct dedup *d = sqs_smap_get(&q->dedups, key, klen);
        if (d != NULL && d->exp_ms > now) {
            /* a duplicate: the first message's id and number, nothing stored */
            fmt_uuid(d->msg_id, res->message_id);
            fmt_seq_number(d->seq, res->seq_number);
            send_digests(res, e, NULL);
            c->dupof[i] = d;
            return ERR_OK;
        }
        d = calloc(1, sizeof *d + klen);
        if (d == NULL || sqs_smap_put(&q->dedups, key, klen, d) != 0) {
            free(d);
            return sqs__internal(msg, msglen);
        }
        d->klen = klen;
        memcpy(d->key, key, klen);
        d->exp_ms = now + SQS_DEDUP_WINDOW_MS;
        d->pending = true;
        SQS_SLIST_APPEND(q->dedup_head, q->dedup_tail, d, next);
        c->dd[i] = d;
    }

    /* the message */
    struct buf enc;
    buf_init(&enc, 4u << 20);
    if (e->attrs && e->attrs->n && sqs_attrs_encode(e->attrs, &enc) != BUF_OK) {
        buf_destroy(&enc);
        goto oom;
    }
    const char *trace = NULL;
    size_t trace_len = 0;
    if (e->sys && e->sys->n) {
        trace = (const char *)e->sys->a[0].value;
        trace_len = e->sys->a[0].value_len;
    }
    struct msg *m =
        sqs__msg_new(e->body.p, e->body.len, enc.data, enc.len, trace, trace_len, e->group_id.p,
                     e->group_id.p ? e->group_id.len : 0, dedup_id, dedup_len);
    buf_destroy(&enc);
    if (m == NULL)
        goto oom;
    msg_digest(m, e->attrs);
    send_digests(res, e, m);
    new_id(m->id);
    m->sender = sender;
    m->sent_ms = now;
    m->enq_ms = now;
    long long delay = e->has_delay && !q->a.fifo ? e->delay : q->a.delay_seconds;
    m->visible_ms = delay > 0 ? now + delay * 1000 : 0;
    c->m[i] = m;
    fmt_uuid(m->id, res->message_id);
    if (c->dd[i]) {
        memcpy(c->dd[i]->msg_id, m->id, 16);
    }
    return ERR_OK;
oom:
    if (c->dd[i]) {
        dedup_drop(q, c->dd[i]);
        c->dd[i] = NULL;
    }
    return sqs__internal(msg, msglen);
}

/* Numbers the prepared messages, writes them, and submits (or defers when nothing is new). */
static enum err submit_send(struct send_ctx *c, char *msg, size_t msglen)
{
    struct sqs_queue *q = c->q;
    struct sqs *s = q->s;
    size_t fresh = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->m[i])
            fresh++;
    if (s->st == NULL) {
        uint64_t first = q->next_seq;
        q->next_seq += fresh;
        for (size_t i = 0, k = 0; i < c->n; i++) {
            if (!c->m[i])
                continue;
            c->m[i]->seq = first + k++;
            if (q->a.fifo)
                fmt_seq_number(c->m[i]->seq, c->res[i].seq_number);
            if (c->dd[i])
                c->dd[i]->seq = c->m[i]->seq;
        }
        if (sqs__defer(s, send_deferred, c) != 0)
            goto oom;
        return ERR_OK;
    }
    struct store_batch *b = store_batch_new(s->st);
    if (b == NULL)
        goto oom;
    int64_t now = clock_now_ms();
    if (q->a.fifo)
        dedup_sweep(q, b, now);
    uint64_t first = 0;
    if (fresh > 0 && sqs__take_seqs(b, q, fresh, &first, &c->hw) != 0) {
        store_batch_discard(b);
        goto oom;
    }
    for (size_t i = 0, k = 0; i < c->n; i++) {
        struct msg *m = c->m[i];
        if (m == NULL)
            continue;
        m->seq = first + k++;
        if (q->a.fifo)
            fmt_seq_number(m->seq, c->res[i].seq_number);
        sqs__put_msg(b, q, m);
        if (c->dd[i]) {
            c->dd[i]->seq = m->seq;
            sqs__put_dedup(b, q, c->dd[i]);
        }
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->dupof[i])
            fmt_seq_number(c->dupof[i]->seq, c->res[i].seq_number);
    /* a send of duplicates only is an empty batch: it still commits after the originals */
    store_batch_submit(s->st, b, send_committed, c);
    return ERR_OK;
oom:
    return sqs__internal(msg, msglen);
}

static struct send_ctx *send_ctx_new(struct sqs_queue *q, sqs_send_fn done, void *arg, size_t n)
{
    struct send_ctx *c = calloc(1, sizeof *c + n * sizeof c->res[0]);
    if (c == NULL)
        return NULL;
    c->q = q;
    q->refs++;
    c->done = done;
    c->arg = arg;
    c->n = n;
    return c;
}

/* Undoes prepare_entry's dedup entries of a send that is not going ahead. */
static void send_abandon(struct send_ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->dd[i])
            dedup_drop(c->q, c->dd[i]);
    send_ctx_free(c);
}

static uint32_t sender_index(struct sqs *s, const char *sender)
{
    uint32_t i = sqs__intern(s, sender ? sender : "", sender ? strlen(sender) : 0);
    return i == UINT32_MAX ? 0 : i;
}

enum err sqs_send(struct sqs_queue *q, const struct sqs_send_entry *e, const char *sender,
                  sqs_send_fn done, void *arg, char *msg, size_t msglen)
{
    struct send_ctx *c = send_ctx_new(q, done, arg, 1);
    if (c == NULL)
        return sqs__internal(msg, msglen);
    enum err rc =
        prepare_entry(c, 0, e, sender_index(q->s, sender), false, clock_now_ms(), msg, msglen);
    if (rc == ERR_OK)
        rc = submit_send(c, msg, msglen);
    if (rc != ERR_OK)
        send_abandon(c);
    return rc;
}

enum err sqs_send_batch(struct sqs_queue *q, const struct sqs_send_entry *e, size_t n,
                        const char *sender, sqs_send_fn done, void *arg, char *msg, size_t msglen)
{
    struct sqs_str ids[SQS_BATCH_MAX + 1] = {{0}};
    size_t nids = n > SQS_BATCH_MAX ? SQS_BATCH_MAX : n; /* past 10 only the count matters */
    for (size_t i = 0; i < nids; i++)
        ids[i] = e[i].id;
    enum err rc = sqs_check_batch_ids(SQS_BATCH_SEND, ids, n, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += e[i].body.len + (e[i].attrs ? sqs_attrs_size(e[i].attrs) : 0);
    rc = sqs_check_batch_size(total, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    /* a FIFO entry without a group or deduplication id refuses the whole batch [R] */
    for (size_t i = 0; i < n; i++) {
        if (e[i].pre_err != ERR_OK)
            continue;
        struct sqs_send_params sp = send_params(q, &e[i], true);
        char m2[SQS_MSG_MAX];
        rc = sqs_check_send_params(&sp, m2, sizeof m2);
        if (rc != ERR_OK && sqs_send_refusal_is_whole_batch(&sp)) {
            snprintf(msg, msglen, "%s", m2);
            return rc;
        }
    }
    struct send_ctx *c = send_ctx_new(q, done, arg, n);
    if (c == NULL)
        return sqs__internal(msg, msglen);
    uint32_t si = sender_index(q->s, sender);
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < n; i++) {
        struct sqs_send_result *r = &c->res[i];
        copy_id(r->id, e[i].id);
        r->e = prepare_entry(c, i, &e[i], si, true, now, r->msg, sizeof r->msg);
        if (r->e == ERR_INTERNAL) {
            send_abandon(c);
            return sqs__internal(msg, msglen);
        }
    }
    rc = submit_send(c, msg, msglen);
    if (rc != ERR_OK)
        send_abandon(c);
    return rc;
}

/* ---- deleting and changing visibility ------------------------------------------------------ */

struct change {
    struct msg *m;
    bool deleting;
    int prev_state;
    int64_t prev_visible, until;
};

struct change_ctx {
    struct sqs_queue *q;
    sqs_done_fn done1;  /* single operations */
    sqs_batch_fn doneb; /* batches */
    void *arg;
    size_t n, nch;
    struct change ch[SQS_BATCH_MAX];
    struct sqs_batch_result res[]; /* n of them */
};

static void change_committed(void *arg, int rc)
{
    struct change_ctx *c = arg;
    struct sqs_queue *q = c->q;
    int64_t now = clock_now_ms();
    for (size_t i = 0; i < c->nch; i++) {
        struct change *ch = &c->ch[i];
        struct msg *m = ch->m;
        if (ch->deleting) {
            if (rc == 0 || q->deleted) {
                sqs_seqmap_del(&q->map, m->seq);
                q->s->live_msgs--;
                sqs__msg_release(m);
            } else {
                /* not deleted after all: back as it was */
                m->state = M_PENDING;
                m->visible_ms = ch->prev_visible;
                if (sqs__msg_index(q, m, now, false) != 0) {
                    sqs_seqmap_del(&q->map, m->seq);
                    q->s->live_msgs--;
                    sqs__msg_release(m);
                }
            }
            continue;
        }
        if (rc != 0 && !m->dead && m->state == M_INFLIGHT && m->visible_ms == ch->until) {
            if (ch->prev_state == M_VISIBLE)
                hide_until(q, m, 0, now);
            else
                hide_until(q, m, ch->prev_visible, now);
        }
        unpin(m);
    }
    sqs__queue_timers(q);
    sqs__wake(q);
    if (rc != 0) {
        for (size_t i = 0; i < c->n; i++)
            if (c->res[i].e == ERR_OK)
                c->res[i].e = sqs__internal(c->res[i].msg, sizeof c->res[i].msg);
    }
    if (c->done1)
        c->done1(c->arg, c->res[0].e, c->res[0].e == ERR_OK ? NULL : c->res[0].msg);
    else
        c->doneb(c->arg, c->res, c->n);
    sqs__queue_unref(q);
    free(c);
}

static void change_deferred(void *arg)
{
    change_committed(arg, 0);
}

/* FIFO: only the handle of a message's current receive, while it is in flight, acts on it;
 * another is refused as expired [R]. */
static enum err check_current(const struct sqs_queue *q, const struct sqs_receipt *r,
                              const struct msg *m, struct sqs_str h, char *msg, size_t msglen)
{
    if (!q->a.fifo || (r->gen == m->gen && m->state == M_INFLIGHT))
        return ERR_OK;
    snprintf(msg, msglen,
             "Value %.*s for parameter ReceiptHandle is invalid. Reason: The receipt handle has "
             "expired.",
             (int)(h.len > 1024 ? 1024 : h.len), h.p ? h.p : "");
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

/* Finds the message a handle names; ERR_OK with *m NULL when it no longer exists. */
static enum err resolve_handle(struct sqs_queue *q, struct sqs_str h, struct sqs_receipt *r,
                               struct msg **m, char *msg, size_t msglen)
{
    *m = NULL;
    enum err rc = sqs_receipt_decode(&q->s->key, h.p ? h.p : "", h.p ? h.len : 0, r, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    if (r->queue_id != q->id) {
        sqs_receipt_invalid_msg(h.p, h.len, msg, msglen);
        return ERR_SQS_RECEIPT_HANDLE_INVALID;
    }
    *m = sqs_seqmap_get(&q->map, r->seq);
    return ERR_OK;
}

/* One DeleteMessage (entry i of c). */
static enum err delete_one(struct change_ctx *c, struct store_batch *b, struct sqs_str h, char *msg,
                           size_t msglen)
{
    struct sqs_queue *q = c->q;
    struct sqs_receipt r;
    struct msg *m;
    enum err rc = resolve_handle(q, h, &r, &m, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    if (m == NULL || m->state == M_GONE)
        return ERR_OK; /* already deleted: succeeds [V] */
    if ((rc = check_current(q, &r, m, h, msg, msglen)) != ERR_OK)
        return rc;
    struct change *ch = &c->ch[c->nch++];
    *ch = (struct change){.m = m, .deleting = true, .prev_visible = m->visible_ms};
    sqs__msg_unindex(q, m);
    if (b)
        sqs__del_msg(b, q, m->seq);
    return ERR_OK;
}

static enum err visibility_one(struct change_ctx *c, struct store_batch *b, struct sqs_str h,
                               long long timeout, char *msg, size_t msglen)
{
    struct sqs_queue *q = c->q;
    struct sqs_receipt r;
    struct msg *m;
    enum err rc = resolve_handle(q, h, &r, &m, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    int64_t now = clock_now_ms();
    if (m == NULL || m->state == M_GONE) {
        snprintf(msg, msglen,
                 "Value %.*s for parameter ReceiptHandle is invalid. Reason: Message does not "
                 "exist or is not available for visibility timeout change.",
                 (int)(h.len > 1024 ? 1024 : h.len), h.p); /* [V] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (m->recv_count == 0) {
        snprintf(msg, msglen, "%s", err_message(ERR_SQS_MESSAGE_NOT_INFLIGHT));
        return ERR_SQS_MESSAGE_NOT_INFLIGHT;
    }
    if ((rc = check_current(q, &r, m, h, msg, msglen)) != ERR_OK)
        return rc;
    rc = sqs_check_visibility_change(timeout, m->recv_ms, now, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    struct change *ch = &c->ch[c->nch];
    *ch = (struct change){.m = m,
                          .prev_state = m->state,
                          .prev_visible = m->visible_ms,
                          .until = now + timeout * 1000};
    if (hide_until(q, m, ch->until, now) != 0)
        return sqs__internal(msg, msglen);
    if (timeout == 0)
        ch->until = m->visible_ms; /* shown at once: nothing to undo but the state */
    c->nch++;
    m->pins++;
    if (b)
        sqs__put_recv(b, q, m);
    return ERR_OK;
}

/* A change of n entries of q, and the store batch it writes into (*b; NULL without a
 * store). NULL when out of memory. */
static struct change_ctx *change_new(struct sqs_queue *q, size_t n, struct store_batch **b)
{
    struct change_ctx *c = calloc(1, sizeof *c + (n ? n : 1) * sizeof c->res[0]);
    *b = q->s->st ? store_batch_new(q->s->st) : NULL;
    if (c == NULL || (q->s->st && *b == NULL)) {
        free(c);
        store_batch_discard(*b);
        return NULL;
    }
    c->q = q;
    q->refs++;
    c->n = n;
    return c;
}

/* Drops a change that is not going ahead. */
static void change_drop(struct change_ctx *c, struct store_batch *b)
{
    store_batch_discard(b);
    sqs__queue_unref(c->q);
    free(c);
}

static enum err change_submit(struct change_ctx *c, struct store_batch *b, char *msg, size_t msglen)
{
    struct sqs *s = c->q->s;
    sqs__queue_timers(c->q);
    if (b != NULL && !store_batch_empty(b)) {
        store_batch_submit(s->st, b, change_committed, c);
        return ERR_OK;
    }
    store_batch_discard(b);
    if (sqs__defer(s, change_deferred, c) != 0)
        return sqs__internal(msg, msglen); /* never in practice: a few bytes */
    return ERR_OK;
}

/* DeleteMessage (del) or ChangeMessageVisibility: one change, answered by done. */
static enum err change_one(struct sqs_queue *q, struct sqs_str handle, bool del, long long timeout,
                           sqs_done_fn done, void *arg, char *msg, size_t msglen)
{
    struct store_batch *b;
    struct change_ctx *c = change_new(q, 1, &b);
    if (c == NULL)
        return sqs__internal(msg, msglen);
    c->done1 = done;
    c->arg = arg;
    enum err rc = del ? delete_one(c, b, handle, msg, msglen)
                      : visibility_one(c, b, handle, timeout, msg, msglen);
    if (rc != ERR_OK) {
        change_drop(c, b);
        return rc;
    }
    return change_submit(c, b, msg, msglen);
}

enum err sqs_delete_message(struct sqs_queue *q, struct sqs_str handle, sqs_done_fn done, void *arg,
                            char *msg, size_t msglen)
{
    return change_one(q, handle, true, 0, done, arg, msg, msglen);
}

enum err sqs_change_visibility(struct sqs_queue *q, struct sqs_str handle, long long timeout,
                               sqs_done_fn done, void *arg, char *msg, size_t msglen)
{
    return change_one(q, handle, false, timeout, done, arg, msg, msglen);
}

static enum err batch_change(struct sqs_queue *q, const struct sqs_batch_entry *e, size_t n,
                             bool del, sqs_batch_fn done, void *arg, char *msg, size_t msglen)
{
    struct sqs_str ids[SQS_BATCH_MAX + 1] = {{0}};
    size_t nids = n > SQS_BATCH_MAX ? SQS_BATCH_MAX : n; /* past 10 only the count matters */
    for (size_t i = 0; i < nids; i++)
        ids[i] = e[i].id;
    enum err rc = sqs_check_batch_ids(del ? SQS_BATCH_DELETE : SQS_BATCH_CHANGE_VISIBILITY, ids, n,
                                      msg, msglen);
    if (rc != ERR_OK)
        return rc;
    struct store_batch *b;
    struct change_ctx *c = change_new(q, n, &b);
    if (c == NULL)
        return sqs__internal(msg, msglen);
    c->doneb = done;
    c->arg = arg;
    for (size_t i = 0; i < n; i++) {
        struct sqs_batch_result *r = &c->res[i];
        copy_id(r->id, e[i].id);
        if (e[i].pre_err != ERR_OK) {
            r->e = e[i].pre_err;
            snprintf(r->msg, sizeof r->msg, "%s",
                     e[i].pre_msg ? e[i].pre_msg : err_message(e[i].pre_err));
            continue;
        }
        if (del) {
            r->e = delete_one(c, b, e[i].handle, r->msg, sizeof r->msg);
        } else if (!e[i].has_timeout) {
            r->e = sqs__missing("VisibilityTimeout", r->msg, sizeof r->msg);
        } else {
            r->e = visibility_one(c, b, e[i].handle, e[i].timeout, r->msg, sizeof r->msg);
        }
    }
    return change_submit(c, b, msg, msglen);
}

enum err sqs_delete_batch(struct sqs_queue *q, const struct sqs_batch_entry *e, size_t n,
                          sqs_batch_fn done, void *arg, char *msg, size_t msglen)
{
    return batch_change(q, e, n, true, done, arg, msg, msglen);
}

enum err sqs_change_visibility_batch(struct sqs_queue *q, const struct sqs_batch_entry *e, size_t n,
                                     sqs_batch_fn done, void *arg, char *msg, size_t msglen)
{
    return batch_change(q, e, n, false, done, arg, msg, msglen);
}

/* ---- whole-queue removals (purge, delete) ---------------------------------------------------- */

void sqs__drop_all(struct sqs_queue *q)
{
    struct sqs_seqmap *map = &q->map;
    for (size_t i = 0; i < map->cap;) {
        struct msg *m = map->slot[i];
        if (m == NULL || m->state == M_GONE || m->state == M_PENDING) {
            i++;
            continue;
        }
        sqs__msg_unindex(q, m);
        forget(q, m); /* backward shift may move a later entry into slot i: look again */
    }
    sqs__queue_timers(q);
}

bool sqs__drop_deferred_receive(struct timer_defer *d)
{
    if (d->fn != receive_deferred)
        return false;
    waiter_free(d->data);
    return true;
}
