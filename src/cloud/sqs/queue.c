/*
 * queue.c — the SQS engine's queues: lifecycle, lookups, CreateQueue / DeleteQueue /
 * GetQueueUrl / ListQueues / ListDeadLetterSourceQueues, attributes, purge, tags,
 * permissions, provisioning and the health summary (see queue.h). Messages are message.c's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/queue_int.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/log.h"

#define S_FMT    "%.*s"
#define S_ARG(s) (int)((s).p ? (s).len : 0), ((s).p ? (s).p : "")

enum { LIST_MAX = 1000 };

static bool str_is(struct sqs_str s, const char *c)
{
    size_t n = strlen(c);
    return s.p && s.len == n && memcmp(s.p, c, n) == 0;
}

enum err sqs__internal(char *msg, size_t msglen)
{
    snprintf(msg, msglen, "%s", err_message(ERR_INTERNAL));
    return ERR_INTERNAL;
}

enum err sqs__missing(const char *name, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "The request must contain the parameter %s.", name);
    return ERR_SQS_MISSING_PARAMETER;
}

/* ---- interned strings ------------------------------------------------------------------ */

uint32_t sqs__intern(struct sqs *s, const char *p, size_t len)
{
    if (len == 0)
        return 0;
    uintptr_t v = (uintptr_t)sqs_smap_get(&s->interned, p, len);
    if (v)
        return (uint32_t)(v - 1);
    if (s->nstrings == s->capstrings) {
        uint32_t cap = s->capstrings ? s->capstrings * 2 : 16;
        char **a = realloc(s->strings, cap * sizeof *a);
        if (a == NULL)
            return UINT32_MAX;
        s->strings = a;
        s->capstrings = cap;
    }
    char *c = malloc(len + 1);
    if (c == NULL)
        return UINT32_MAX;
    memcpy(c, p, len);
    c[len] = '\0';
    uint32_t i = s->nstrings;
    if (sqs_smap_put(&s->interned, p, len, (void *)(uintptr_t)(i + 1)) != 0) {
        free(c);
        return UINT32_MAX;
    }
    s->strings[s->nstrings++] = c;
    return i;
}

const char *sqs__string(const struct sqs *s, uint32_t i)
{
    return i < s->nstrings ? s->strings[i] : "";
}

/* ---- deferred completions ---------------------------------------------------------------- */

static void run_deferred(struct timer_defer *td)
{
    struct sqs_deferred *d = td->data;
    d->fn(d->arg);
    free(d);
}

/* The engine's deferred calls, dropped as it goes away: receive answers and completions. */
static void drop_deferred(struct timer_defer *td)
{
    if (!sqs__drop_deferred_receive(td))
        free(td->data);
}

int sqs__defer(struct sqs *s, void (*fn)(void *arg), void *arg)
{
    struct sqs_deferred *d = calloc(1, sizeof *d);
    if (d == NULL)
        return -1;
    d->fn = fn;
    d->arg = arg;
    timer_defer(&d->turn, run_deferred, d, s);
    return 0;
}

/* A completion of a command that answers no data, deferred or after a commit. */
struct done_ctx {
    struct sqs *s;
    struct sqs_queue *q; /* a reference, or NULL */
    sqs_done_fn done;
    sqs_queue_fn qdone;
    void *arg;
    void (*undo)(struct done_ctx *c);  /* runs when the commit failed */
    void (*after)(struct done_ctx *c); /* runs when it succeeded */
    struct sqs_qattrs old;             /* SetQueueAttributes: what to restore */
    bool have_old;
    json_t *old_tags;
    char msg[64];
};

static struct done_ctx *done_new(struct sqs *s, struct sqs_queue *q, sqs_done_fn done, void *arg)
{
    struct done_ctx *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->s = s;
    c->q = q;
    if (q)
        q->refs++;
    c->done = done;
    c->arg = arg;
    return c;
}

static void done_free(struct done_ctx *c)
{
    if (c->have_old)
        sqs_qattrs_destroy(&c->old);
    json_decref(c->old_tags);
    if (c->q)
        sqs__queue_unref(c->q);
    free(c);
}

static void done_committed(void *arg, int rc)
{
    struct done_ctx *c = arg;
    if (rc != 0 && c->undo)
        c->undo(c);
    if (rc == 0 && c->after)
        c->after(c);
    enum err e = rc == 0 ? ERR_OK : ERR_INTERNAL;
    if (c->qdone)
        c->qdone(c->arg, e, rc == 0 ? NULL : err_message(e), rc == 0 ? c->q : NULL);
    else if (c->done)
        c->done(c->arg, e, rc == 0 ? (c->msg[0] ? c->msg : NULL) : err_message(e));
    done_free(c);
}

static void done_deferred(void *arg)
{
    done_committed(arg, 0);
}

/* Submits b for c, or defers c when there is no store. */
static enum err done_submit(struct done_ctx *c, struct store_batch *b, char *msg, size_t msglen)
{
    if (c->s->st != NULL) {
        store_batch_submit(c->s->st, b, done_committed, c);
        return ERR_OK;
    }
    store_batch_discard(b);
    if (sqs__defer(c->s, done_deferred, c) != 0) {
        done_free(c);
        return sqs__internal(msg, msglen);
    }
    return ERR_OK;
}

static struct store_batch *batch_new(struct sqs *s)
{
    return s->st ? store_batch_new(s->st) : NULL;
}

/* A completion for a command on q, and the store batch the command writes into (*b; NULL
 * without a store). NULL when out of memory, with nothing left allocated. */
static struct done_ctx *done_begin(struct sqs_queue *q, sqs_done_fn done, void *arg,
                                   struct store_batch **b)
{
    struct done_ctx *c = done_new(q->s, q, done, arg);
    *b = batch_new(q->s);
    if (c != NULL && (q->s->st == NULL || *b != NULL))
        return c;
    if (c)
        done_free(c);
    store_batch_discard(*b);
    return NULL;
}

/* ---- queues -------------------------------------------------------------------------------- */

static void queue_free(struct sqs_queue *q)
{
    /* every message still held is the queue's (pending operations hold references) */
    for (size_t i = 0; i < q->map.cap; i++) {
        struct msg *m = q->map.slot[i];
        if (m)
            sqs__msg_release(m);
    }
    sqs_seqmap_destroy(&q->map);
    sqs_heap_destroy(&q->timed);
    sqs_heap_destroy(&q->ret);
    for (size_t i = 0; i < q->groups.nb; i++)
        for (struct sqs_smap_entry *e = q->groups.b[i]; e; e = e->next)
            free(e->val);
    sqs_smap_destroy(&q->groups);
    while (q->dedup_head) {
        struct dedup *d = q->dedup_head;
        q->dedup_head = d->next;
        free(d);
    }
    sqs_smap_destroy(&q->dedups);
    for (size_t i = 0; i < q->attempts.nb; i++)
        for (struct sqs_smap_entry *e = q->attempts.b[i]; e; e = e->next)
            free(e->val);
    sqs_smap_destroy(&q->attempts);
    timer_destroy(&q->t_vis);
    timer_destroy(&q->t_ret);
    sqs_qattrs_destroy(&q->a);
    json_decref(q->tags);
    free(q->name);
    free(q->arn);
    free(q);
}

void sqs__queue_unref(struct sqs_queue *q)
{
    if (q != NULL && --q->refs == 0)
        queue_free(q);
}

struct sqs_queue *sqs__queue_new(struct sqs *s, uint64_t id, const char *name, struct sqs_qattrs *a)
{
    struct sqs_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->s = s;
    q->id = id;
    q->refs = 1;
    q->name = strdup(name);
    size_t al = strlen(s->region) + strlen(s->account) + strlen(name) + 16;
    q->arn = malloc(al);
    q->tags = json_object();
    sqs_seqmap_init(&q->map);
    sqs_heap_init(&q->timed, SQS_HEAP_TIMED);
    sqs_heap_init(&q->ret, SQS_HEAP_RETENTION);
    sqs_smap_init(&q->groups);
    sqs_smap_init(&q->dedups);
    sqs_smap_init(&q->attempts);
    q->next_seq = 1;
    q->a = *a;
    memset(a, 0, sizeof *a);
    if (q->name == NULL || q->arn == NULL || q->tags == NULL ||
        timer_init(&q->t_vis, TIMER_CLOCK, sqs__on_vis_timer, q) != 0 ||
        timer_init(&q->t_ret, TIMER_CLOCK, sqs__on_ret_timer, q) != 0) {
        queue_free(q);
        return NULL;
    }
    snprintf(q->arn, al, "arn:aws:sqs:%s:%s:%s", s->region, s->account, name);
    return q;
}

struct sqs_queue *sqs_queue_find(struct sqs *s, const char *name, size_t len)
{
    return sqs_smap_get(&s->queues, name, len);
}

enum err sqs_queue_resolve(struct sqs *s, struct sqs_str url, bool query, struct sqs_queue **out,
                           char *msg, size_t msglen)
{
    struct sqs_queue_ref ref;
    *out = NULL;
    if (sqs_parse_queue_url(url, &ref) == ERR_OK && strcmp(ref.account, s->account) == 0)
        *out = sqs_queue_find(s, ref.name, strlen(ref.name));
    if (*out == NULL) {
        snprintf(msg, msglen, "%s", sqs_msg_queue_does_not_exist(query));
        return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    }
    return ERR_OK;
}

struct sqs_queue *sqs_queue_by_arn(struct sqs *s, const char *arn, size_t len)
{
    struct sqs_queue_ref ref;
    struct sqs_str a = {arn, len};
    if (!sqs_parse_queue_arn(a, &ref) || strcmp(ref.account, s->account) != 0 ||
        strcmp(ref.region, s->region) != 0)
        return NULL;
    return sqs_queue_find(s, ref.name, strlen(ref.name));
}

const char *sqs_queue_name(const struct sqs_queue *q)
{
    return q->name;
}

const char *sqs_queue_arn(const struct sqs_queue *q)
{
    return q->arn;
}

void sqs_queue_url(const struct sqs_queue *q, char out[SQS_URL_MAX])
{
    snprintf(out, SQS_URL_MAX, "%s/%s/%s", q->s->url_base, q->s->account, q->name);
}

bool sqs_queue_is_fifo(const struct sqs_queue *q)
{
    return q->a.fifo;
}

const struct sqs_qattrs *sqs_queue_attrs(const struct sqs_queue *q)
{
    return &q->a;
}

const char *sqs_region(const struct sqs *s)
{
    return s->region;
}

void sqs_queue_depth(const struct sqs_queue *q, struct sqs_depth *out)
{
    out->visible = q->n_visible;
    out->in_flight = q->n_inflight;
    out->delayed = q->n_delayed;
}

void sqs_queue_retain(struct sqs_queue *q)
{
    q->refs++;
}

void sqs_queue_release(struct sqs_queue *q)
{
    sqs__queue_unref(q);
}

bool sqs_queue_deleted(const struct sqs_queue *q)
{
    return q->deleted;
}

/* Queues in name order (a new array of n; NULL when none or out of memory). */
struct sorted {
    struct sqs_queue **a;
    size_t n;
};

static void collect(void *arg, const char *key, size_t klen, void *val)
{
    (void)key;
    (void)klen;
    struct sorted *s = arg;
    s->a[s->n++] = val;
}

static int by_name(const void *a, const void *b)
{
    const struct sqs_queue *x = *(struct sqs_queue *const *)a, *y = *(struct sqs_queue *const *)b;
    return strcmp(x->name, y->name);
}

static struct sorted sorted_queues(struct sqs *s)
{
    struct sorted out = {NULL, 0};
    if (s->queues.n == 0)
        return out;
    out.a = malloc(s->queues.n * sizeof *out.a);
    if (out.a == NULL)
        return out;
    sqs_smap_each(&s->queues, collect, &out);
    qsort(out.a, out.n, sizeof *out.a, by_name);
    return out;
}

void sqs_each_queue(struct sqs *s, void (*fn)(void *arg, struct sqs_queue *q), void *arg)
{
    struct sorted all = sorted_queues(s);
    for (size_t i = 0; i < all.n; i++)
        fn(arg, all.a[i]);
    free(all.a);
}

/* ---- redrive checks ---------------------------------------------------------------------- */

static struct sqs_str kv_value(const struct sqs_kv *kv, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (str_is(kv[i].name, name))
            return kv[i].value;
    return (struct sqs_str){NULL, 0};
}

/* A RedrivePolicy names a queue of ours of the same type that allows q's ARN. */
static enum err check_redrive(struct sqs *s, const char *src_arn, bool fifo,
                              const struct sqs_redrive *rd, struct sqs_str text, char *msg,
                              size_t msglen)
{
    if (rd->dlq_arn == NULL)
        return ERR_OK;
    struct sqs_queue *d = sqs_queue_by_arn(s, rd->dlq_arn, strlen(rd->dlq_arn));
    const char *reason = NULL;
    if (d == NULL || d->deleted)
        reason = "Dead letter target does not exist."; /* [V] a user's AWS log */
    else if (d->a.fifo != fifo)
        reason = "Dead-letter queue must be same type of queue as the source."; /* [E] */
    else if (!sqs_redrive_allows(&d->a.redrive_allow, src_arn))
        reason = "Queue is not allowed by the dead-letter queue's RedriveAllowPolicy."; /* [E] */
    if (reason == NULL)
        return ERR_OK;
    snprintf(msg, msglen, "Value " S_FMT " for parameter RedrivePolicy is invalid. Reason: %s",
             S_ARG(text), reason);
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

/* ---- tags ------------------------------------------------------------------------------------ */

static size_t chars(struct sqs_str s)
{
    size_t n = 0;
    for (size_t i = 0; s.p && i < s.len; i++)
        n += ((unsigned char)s.p[i] & 0xc0) != 0x80;
    return n;
}

static enum err check_tag(struct sqs_str k, struct sqs_str v, char *msg, size_t msglen)
{
    size_t kc = chars(k), vc = chars(v);
    if (k.p == NULL || kc < 1 || kc > 128 || (k.p && memchr(k.p, '\0', k.len))) {
        snprintf(msg, msglen, "Tag keys must be between 1 and 128 characters in length."); /* [E] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    if (vc > 256 || (v.p && memchr(v.p, '\0', v.len))) {
        snprintf(msg, msglen,
                 "Tag values must be between 0 and 256 characters in length."); /* [E] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    return ERR_OK;
}

/* Merges the n tags into a copy of q's (or an empty object); NULL with msg when refused. */
static json_t *merged_tags(const json_t *base, const struct sqs_kv *tags, size_t n,
                           const char *name, enum err *e, char *msg, size_t msglen)
{
    json_t *t = base ? json_deep_copy(base) : json_object();
    *e = ERR_OK;
    if (t == NULL) {
        *e = sqs__internal(msg, msglen);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        *e = check_tag(tags[i].name, tags[i].value, msg, msglen);
        if (*e != ERR_OK)
            goto fail;
        char key[512], *val = strndup(tags[i].value.p ? tags[i].value.p : "",
                                      tags[i].value.p ? tags[i].value.len : 0);
        snprintf(key, sizeof key, S_FMT, S_ARG(tags[i].name));
        if (val == NULL || json_object_set_new(t, key, json_string(val)) != 0) {
            free(val);
            *e = sqs__internal(msg, msglen);
            goto fail;
        }
        free(val);
    }
    if (json_object_size(t) > SQS_MAX_TAGS) {
        snprintf(msg, msglen, "Too many tags added for queue %s.", name); /* [E] */
        *e = ERR_SQS_INVALID_PARAMETER_VALUE;
        goto fail;
    }
    return t;
fail:
    json_decref(t);
    return NULL;
}

/* ---- CreateQueue -------------------------------------------------------------------------------
 */

static bool recently_deleted(struct sqs *s, const char *name, size_t len)
{
    int64_t *when = sqs_smap_get(&s->deleted, name, len);
    if (when == NULL)
        return false;
    if (clock_now_ms() - *when < SQS_DELETED_WINDOW_MS)
        return true;
    free(sqs_smap_del(&s->deleted, name, len));
    return false;
}

static void create_undo(struct done_ctx *c)
{
    struct sqs_queue *q = c->q;
    if (sqs_smap_get(&c->s->queues, q->name, strlen(q->name)) == q) {
        sqs_smap_del(&c->s->queues, q->name, strlen(q->name));
        q->deleted = true;
        sqs__fail_waiters(q);
        sqs__queue_unref(q); /* the engine's reference */
    }
}

static void create_after(struct done_ctx *c)
{
    c->q->creating = false;
}

static void create_existing(void *arg)
{
    done_committed(arg, 0);
}

enum err sqs_create_queue(struct sqs *s, const struct sqs_create_req *r, sqs_queue_fn done,
                          void *arg, char *msg, size_t msglen)
{
    struct sqs_qattrs a;
    uint32_t given = 0;
    enum err e = sqs_qattrs_create(&a, r->name, r->attrs, r->nattrs, &given, msg, msglen);
    if (e != ERR_OK)
        return e;
    char name[SQS_QUEUE_NAME_MAX + 1];
    snprintf(name, sizeof name, S_FMT, S_ARG(r->name));
    size_t nl = strlen(name);
    struct sqs_queue *q = sqs_queue_find(s, name, nl);
    struct done_ctx *c = NULL;
    json_t *tags = NULL;
    if (q != NULL) {
        e = sqs_qattrs_same(&q->a, &a, given, msg, msglen);
        sqs_qattrs_destroy(&a);
        if (e != ERR_OK)
            return e;
        if ((c = done_new(s, q, NULL, arg)) == NULL)
            return sqs__internal(msg, msglen);
        c->qdone = done;
        if (q->creating && s->st != NULL) {
            /* answered after the first create commits */
            store_batch_submit(s->st, store_batch_new(s->st), done_committed, c);
            return ERR_OK;
        }
        if (sqs__defer(s, create_existing, c) != 0) {
            done_free(c);
            return sqs__internal(msg, msglen);
        }
        return ERR_OK;
    }
    if (recently_deleted(s, name, nl)) {
        sqs_qattrs_destroy(&a);
        snprintf(msg, msglen, "%s", err_message(ERR_SQS_QUEUE_DELETED_RECENTLY));
        return ERR_SQS_QUEUE_DELETED_RECENTLY;
    }
    char arn[SQS_ARN_MAX];
    snprintf(arn, sizeof arn, "arn:aws:sqs:%s:%s:%s", s->region, s->account, name);
    e = check_redrive(s, arn, a.fifo, &a.redrive, kv_value(r->attrs, r->nattrs, "RedrivePolicy"),
                      msg, msglen);
    if (e == ERR_OK)
        tags = merged_tags(NULL, r->tags, r->ntags, name, &e, msg, msglen);
    if (e != ERR_OK) {
        sqs_qattrs_destroy(&a);
        return e;
    }
    q = sqs__queue_new(s, s->next_queue_id, name, &a);
    if (q == NULL) {
        sqs_qattrs_destroy(&a);
        json_decref(tags);
        return sqs__internal(msg, msglen);
    }
    json_decref(q->tags);
    q->tags = tags;
    q->created_ms = q->modified_ms = clock_now_ms();
    q->creating = true;
    struct store_batch *b = batch_new(s);
    c = done_new(s, q, NULL, arg);
    if (c == NULL || (s->st && b == NULL) || sqs_smap_put(&s->queues, name, nl, q) != 0) {
        free(c);
        store_batch_discard(b);
        sqs__queue_unref(q);
        return sqs__internal(msg, msglen);
    }
    s->next_queue_id++;
    c->qdone = done;
    c->undo = create_undo;
    c->after = create_after;
    if (b) {
        struct store_val v[2] = {store_text("next_queue_id"), store_int((int64_t)s->next_queue_id)};
        store_batch_add(b, s->stmt.meta_put, v, 2);
        sqs__put_queue(b, q);
    }
    return done_submit(c, b, msg, msglen);
}

/* ---- provisioning ------------------------------------------------------------------------------
 */

struct prov {
    bool called;
    enum err e;
    char msg[SQS_MSG_MAX];
};

static void prov_done(void *arg, enum err e, const char *msg)
{
    struct prov *p = arg;
    p->called = true;
    p->e = e;
    snprintf(p->msg, sizeof p->msg, "%s", msg ? msg : "");
}

static void prov_qdone(void *arg, enum err e, const char *msg, struct sqs_queue *q)
{
    (void)q;
    prov_done(arg, e, msg);
}

enum err sqs_provision(struct sqs *s, struct sqs_str name, const struct sqs_kv *attrs,
                       size_t nattrs, const struct sqs_kv *tags, size_t ntags, char *msg,
                       size_t msglen)
{
    struct prov p = {0};
    struct sqs_queue *q = sqs_queue_find(s, name.p, name.len);
    enum err e;
    if (q == NULL) {
        struct sqs_create_req r = {
            .name = name, .attrs = attrs, .nattrs = nattrs, .tags = tags, .ntags = ntags};
        e = sqs_create_queue(s, &r, prov_qdone, &p, msg, msglen);
    } else {
        e = sqs_set_attributes(q, attrs, nattrs, prov_done, &p, msg, msglen);
    }
    if (e != ERR_OK)
        return e;
    if (s->st)
        store_flush(s->st);
    while (!p.called && timer_run_due() > 0)
        ;
    if (!p.called)
        return sqs__internal(msg, msglen);
    if (p.e != ERR_OK)
        snprintf(msg, msglen, "%s", p.msg);
    return p.e;
}

/* ---- DeleteQueue
 * --------------------------------------------------------------------------------- */

static void delete_undo(struct done_ctx *c)
{
    struct sqs_queue *q = c->q;
    struct sqs *s = c->s;
    if (sqs_queue_find(s, q->name, strlen(q->name)) != NULL)
        return; /* the name was taken again meanwhile: nothing to restore into */
    if (sqs_smap_put(&s->queues, q->name, strlen(q->name), q) != 0)
        return;
    q->refs++;
    q->deleted = false;
    free(sqs_smap_del(&s->deleted, q->name, strlen(q->name)));
    q->vis_due = q->ret_due = 0;
    sqs__queue_timers(q);
}

static void delete_after(struct done_ctx *c)
{
    sqs__drop_all(c->q);
}

enum err sqs_delete_queue(struct sqs_queue *q, sqs_done_fn done, void *arg, char *msg,
                          size_t msglen)
{
    struct sqs *s = q->s;
    struct store_batch *b = NULL;
    int64_t *when = malloc(sizeof *when);
    struct done_ctx *c = when ? done_begin(q, done, arg, &b) : NULL;
    if (c == NULL) {
        free(when);
        return sqs__internal(msg, msglen);
    }
    *when = clock_now_ms();
    free(sqs_smap_del(&s->deleted, q->name, strlen(q->name)));
    if (sqs_smap_put(&s->deleted, q->name, strlen(q->name), when) != 0)
        free(when);
    sqs_smap_del(&s->queues, q->name, strlen(q->name));
    q->deleted = true;
    timer_stop(&q->t_vis);
    timer_stop(&q->t_ret);
    sqs__fail_waiters(q);
    sqs__tasks_queue_gone(s, q);
    c->undo = delete_undo;
    c->after = delete_after;
    if (b) {
        uint64_t lo = q->id << 40, hi = (q->id + 1) << 40;
        struct store_val v[2] = {store_int((int64_t)lo), store_int((int64_t)hi)};
        store_batch_add(b, s->stmt.m_del_range, v, 2);
        struct store_val id[1] = {store_int((int64_t)q->id)};
        store_batch_add(b, s->stmt.d_del_queue, id, 1);
        store_batch_add(b, s->stmt.q_del, id, 1);
    }
    sqs__queue_unref(q); /* the engine's reference; c keeps it alive until the commit */
    return done_submit(c, b, msg, msglen);
}

/* ---- GetQueueUrl, ListQueues, ListDeadLetterSourceQueues ------------------------------------ */

enum err sqs_get_queue_url(struct sqs *s, struct sqs_str name, struct sqs_str owner,
                           struct sqs_queue **out, bool query, char *msg, size_t msglen)
{
    *out = NULL;
    if (name.p == NULL)
        return sqs__missing("QueueName", msg, msglen);
    if (owner.p == NULL ||
        (owner.len == strlen(s->account) && memcmp(owner.p, s->account, owner.len) == 0))
        *out = sqs_queue_find(s, name.p, name.len);
    if (*out == NULL) {
        snprintf(msg, msglen, "%s", sqs_msg_queue_does_not_exist(query));
        return ERR_SQS_QUEUE_DOES_NOT_EXIST;
    }
    return ERR_OK;
}

/* NextToken: base64 of the last name listed (opaque to clients, checked when it comes back). */
static enum err token_name(struct sqs_str token, char out[SQS_QUEUE_NAME_MAX + 1], char *msg,
                           size_t msglen)
{
    out[0] = '\0';
    if (token.p == NULL)
        return ERR_OK;
    struct buf b;
    buf_init(&b, 256);
    int rc = codec_b64_decode(token.p, token.len, &b);
    bool ok =
        rc == 0 && b.len > 0 && b.len <= SQS_QUEUE_NAME_MAX && memchr(b.data, '\0', b.len) == NULL;
    if (ok)
        memcpy(out, b.data, b.len), out[b.len] = '\0';
    buf_destroy(&b);
    if (!ok) {
        snprintf(msg, msglen, "Invalid NextToken value."); /* [E] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    return ERR_OK;
}

static void make_token(const char *name, char next[SQS_URL_MAX])
{
    struct buf b;
    buf_init(&b, SQS_URL_MAX - 1);
    codec_b64_encode(name, strlen(name), &b);
    snprintf(next, SQS_URL_MAX, "%s", b.data ? b.data : "");
    buf_destroy(&b);
}

static enum err check_max(bool has_max, long long max, char *msg, size_t msglen)
{
    if (has_max && (max < 1 || max > LIST_MAX)) {
        snprintf(msg, msglen,
                 "Value %lld for parameter MaxResults is invalid. Reason: MaxResults must be an "
                 "integer between 1 and 1000.",
                 max); /* [E] */
        return ERR_SQS_INVALID_PARAMETER_VALUE;
    }
    return ERR_OK;
}

static enum err list_common(struct sqs *s, bool (*keep)(void *karg, struct sqs_queue *q),
                            void *karg, bool has_max, long long max, struct sqs_str token,
                            void (*emit)(void *arg, const char *url), void *arg,
                            char next[SQS_URL_MAX], char *msg, size_t msglen)
{
    next[0] = '\0';
    char after[SQS_QUEUE_NAME_MAX + 1];
    enum err e = check_max(has_max, max, msg, msglen);
    if (e == ERR_OK)
        e = token_name(token, after, msg, msglen);
    if (e != ERR_OK)
        return e;
    long long limit = has_max ? max : LIST_MAX;
    struct sorted all = sorted_queues(s);
    long long n = 0;
    const char *last = NULL;
    for (size_t i = 0; i < all.n; i++) {
        struct sqs_queue *q = all.a[i];
        if ((after[0] && strcmp(q->name, after) <= 0) || !keep(karg, q))
            continue;
        if (n == limit) {
            if (has_max && last)
                make_token(last, next);
            break;
        }
        char url[SQS_URL_MAX];
        sqs_queue_url(q, url);
        emit(arg, url);
        last = q->name;
        n++;
    }
    free(all.a);
    return ERR_OK;
}

static bool keep_prefix(void *karg, struct sqs_queue *q)
{
    struct sqs_str *prefix = karg;
    return prefix->p == NULL || strncmp(q->name, prefix->p, prefix->len) == 0 || prefix->len == 0;
}

enum err sqs_list_queues(struct sqs *s, struct sqs_str prefix, bool has_max, long long max,
                         struct sqs_str token, void (*emit)(void *arg, const char *url), void *arg,
                         char next[SQS_URL_MAX], char *msg, size_t msglen)
{
    if (prefix.p && prefix.len > SQS_QUEUE_NAME_MAX)
        prefix.len = SQS_QUEUE_NAME_MAX + 1; /* matches nothing */
    return list_common(s, keep_prefix, &prefix, has_max, max, token, emit, arg, next, msg, msglen);
}

static bool keep_source(void *karg, struct sqs_queue *q)
{
    struct sqs_queue *dlq = karg;
    return q->a.redrive.dlq_arn && strcmp(q->a.redrive.dlq_arn, dlq->arn) == 0;
}

enum err sqs_list_dlq_sources(struct sqs_queue *q, bool has_max, long long max,
                              struct sqs_str token, void (*emit)(void *arg, const char *url),
                              void *arg, char next[SQS_URL_MAX], char *msg, size_t msglen)
{
    return list_common(q->s, keep_source, q, has_max, max, token, emit, arg, next, msg, msglen);
}

/* ---- attributes --------------------------------------------------------------------------------
 */

enum err sqs_get_attributes(struct sqs_queue *q, const struct sqs_str *names, size_t n,
                            void (*emit)(void *arg, const char *name, const char *value), void *arg,
                            char *msg, size_t msglen)
{
    uint32_t mask;
    enum err e = sqs_qattrs_select(names, n, &mask, msg, msglen);
    if (e != ERR_OK)
        return e;
    struct sqs_qattrs_live live = {.queue_arn = q->arn,
                                   .approx_messages = q->n_visible,
                                   .approx_delayed = q->n_delayed,
                                   .approx_not_visible = q->n_inflight,
                                   .created_s = q->created_ms / 1000,
                                   .last_modified_s = q->modified_ms / 1000};
    e = sqs_qattrs_render(&q->a, &live, mask, emit, arg);
    if (e != ERR_OK)
        return sqs__internal(msg, msglen);
    return ERR_OK;
}

static void set_undo(struct done_ctx *c)
{
    struct sqs_queue *q = c->q;
    sqs_qattrs_destroy(&q->a);
    q->a = c->old;
    c->have_old = false;
    q->ret_due = 0;
    sqs__queue_timers(q);
}

enum err sqs_set_attributes(struct sqs_queue *q, const struct sqs_kv *kv, size_t n,
                            sqs_done_fn done, void *arg, char *msg, size_t msglen)
{
    struct sqs *s = q->s;
    struct sqs_qattrs work;
    if (sqs_qattrs_copy(&work, &q->a) != ERR_OK)
        return sqs__internal(msg, msglen);
    uint32_t changed = 0;
    enum err e = sqs_qattrs_set(&work, kv, n, &changed, msg, msglen);
    if (e == ERR_OK && (changed & (1u << SQS_QA_REDRIVE_POLICY)))
        e = check_redrive(s, q->arn, q->a.fifo, &work.redrive, kv_value(kv, n, "RedrivePolicy"),
                          msg, msglen);
    if (e != ERR_OK) {
        sqs_qattrs_destroy(&work);
        return e;
    }
    struct store_batch *b;
    struct done_ctx *c = done_begin(q, done, arg, &b);
    if (c == NULL) {
        sqs_qattrs_destroy(&work);
        return sqs__internal(msg, msglen);
    }
    c->old = q->a;
    c->have_old = true;
    c->undo = set_undo;
    q->a = work;
    q->modified_ms = clock_now_ms();
    if (changed & (1u << SQS_QA_MESSAGE_RETENTION_PERIOD)) {
        q->ret_due = 0;
        sqs__queue_timers(q); /* a new retention applies to every message at once */
    }
    if (b)
        sqs__put_queue(b, q);
    return done_submit(c, b, msg, msglen);
}

/* ---- PurgeQueue --------------------------------------------------------------------------------
 */

enum err sqs_purge(struct sqs_queue *q, sqs_done_fn done, void *arg, char *msg, size_t msglen)
{
    struct sqs *s = q->s;
    int64_t now = clock_now_ms();
    if (q->purged_ms != 0 && now - q->purged_ms < SQS_PURGE_WINDOW_MS) {
        snprintf(msg, msglen, "Only one PurgeQueue operation on %s is allowed every 60 seconds.",
                 q->name); /* [R] */
        return ERR_SQS_PURGE_IN_PROGRESS;
    }
    struct store_batch *b;
    struct done_ctx *c = done_begin(q, done, arg, &b);
    if (c == NULL)
        return sqs__internal(msg, msglen);
    q->purged_ms = now;
    q->seq_purged = q->next_seq;
    sqs__drop_all(q);
    if (b) {
        uint64_t lo = q->id << 40, hi = (q->id << 40) | q->next_seq;
        struct store_val v[2] = {store_int((int64_t)lo), store_int((int64_t)hi)};
        store_batch_add(b, s->stmt.m_del_range, v, 2);
    }
    return done_submit(c, b, msg, msglen);
}

/* ---- tags
 * ------------------------------------------------------------------------------------------ */

static void tags_undo(struct done_ctx *c)
{
    json_decref(c->q->tags);
    c->q->tags = c->old_tags;
    c->old_tags = NULL;
}

static enum err tags_apply(struct sqs_queue *q, json_t *t, sqs_done_fn done, void *arg, char *msg,
                           size_t msglen)
{
    struct store_batch *b;
    struct done_ctx *c = done_begin(q, done, arg, &b);
    if (c == NULL) {
        json_decref(t);
        return sqs__internal(msg, msglen);
    }
    c->old_tags = q->tags;
    c->undo = tags_undo;
    q->tags = t;
    if (b)
        sqs__put_queue(b, q);
    return done_submit(c, b, msg, msglen);
}

enum err sqs_tag_queue(struct sqs_queue *q, const struct sqs_kv *tags, size_t n, sqs_done_fn done,
                       void *arg, char *msg, size_t msglen)
{
    enum err e;
    json_t *t = merged_tags(q->tags, tags, n, q->name, &e, msg, msglen);
    if (t == NULL)
        return e;
    return tags_apply(q, t, done, arg, msg, msglen);
}

enum err sqs_untag_queue(struct sqs_queue *q, const struct sqs_str *keys, size_t n,
                         sqs_done_fn done, void *arg, char *msg, size_t msglen)
{
    json_t *t = json_deep_copy(q->tags);
    if (t == NULL)
        return sqs__internal(msg, msglen);
    for (size_t i = 0; i < n; i++) {
        char key[512];
        snprintf(key, sizeof key, S_FMT, S_ARG(keys[i]));
        json_object_del(t, key);
    }
    return tags_apply(q, t, done, arg, msg, msglen);
}

void sqs_list_tags(const struct sqs_queue *q,
                   void (*emit)(void *arg, const char *key, const char *value), void *arg)
{
    const char *k;
    json_t *v;
    json_object_foreach(q->tags, k, v)
    {
        emit(arg, k, json_string_value(v));
    }
}

/* ---- permissions (AddPermission / RemovePermission edit the Policy document) ------------------
 */

static void perm_undo(struct done_ctx *c)
{
    struct sqs_queue *q = c->q;
    free(q->a.policy);
    q->a.policy = c->old.policy;
    c->old.policy = NULL;
}

static void perm_after(struct done_ctx *c)
{
    free(c->old.policy); /* the document before the change */
    c->old.policy = NULL;
}

static enum err policy_apply(struct sqs_queue *q, json_t *doc, sqs_done_fn done, void *arg,
                             char *msg, size_t msglen)
{
    char *text = NULL;
    if (doc != NULL && json_array_size(json_object_get(doc, "Statement")) > 0)
        text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    bool empty = text == NULL;
    if (!empty && text == NULL)
        return sqs__internal(msg, msglen);
    struct store_batch *b;
    struct done_ctx *c = done_begin(q, done, arg, &b);
    if (c == NULL) {
        free(text);
        return sqs__internal(msg, msglen);
    }
    c->old.policy = q->a.policy;
    c->undo = perm_undo;
    c->after = perm_after;
    q->a.policy = text;
    q->modified_ms = clock_now_ms();
    if (b)
        sqs__put_queue(b, q);
    return done_submit(c, b, msg, msglen);
}

static json_t *policy_doc(const struct sqs_queue *q)
{
    json_t *doc = q->a.policy ? json_loads(q->a.policy, JSON_DECODE_ANY, NULL) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        char id[SQS_ARN_MAX + 16];
        snprintf(id, sizeof id, "%s/SQSDefaultPolicy", q->arn);
        doc = json_pack("{s:s, s:s, s:[]}", "Version", "2012-10-17", "Id", id, "Statement");
    }
    if (doc && !json_is_array(json_object_get(doc, "Statement")))
        json_object_set_new(doc, "Statement", json_array());
    return doc;
}

static long find_sid(json_t *stmts, struct sqs_str label)
{
    size_t i;
    json_t *st;
    json_array_foreach(stmts, i, st)
    {
        const char *sid = json_string_value(json_object_get(st, "Sid"));
        if (sid && strlen(sid) == label.len && memcmp(sid, label.p, label.len) == 0)
            return (long)i;
    }
    return -1;
}

static bool label_ok(struct sqs_str l)
{
    if (l.p == NULL || l.len < 1 || l.len > 80)
        return false;
    for (size_t i = 0; i < l.len; i++) {
        char ch = l.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

static enum err label_invalid(struct sqs_str label, const char *reason, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "Value " S_FMT " for parameter Label is invalid. Reason: %s",
             S_ARG(label), reason);
    return ERR_SQS_INVALID_PARAMETER_VALUE;
}

enum err sqs_add_permission(struct sqs_queue *q, struct sqs_str label,
                            const struct sqs_str *accounts, size_t naccounts,
                            const struct sqs_str *actions, size_t nactions, sqs_done_fn done,
                            void *arg, char *msg, size_t msglen)
{
    static const char *const known[] = {"*",
                                        "SendMessage",
                                        "ReceiveMessage",
                                        "DeleteMessage",
                                        "ChangeMessageVisibility",
                                        "GetQueueAttributes",
                                        "GetQueueUrl",
                                        "ListDeadLetterSourceQueues",
                                        "PurgeQueue",
                                        "ListQueueTags",
                                        NULL};
    if (label.p == NULL)
        return sqs__missing("Label", msg, msglen);
    if (naccounts == 0)
        return sqs__missing("AWSAccountIds", msg, msglen);
    if (nactions == 0)
        return sqs__missing("Actions", msg, msglen);
    if (!label_ok(label))
        return label_invalid(label, "Must match pattern ^[a-zA-Z0-9_-]{1,80}$.", msg,
                             msglen); /* [E] */
    json_t *doc = policy_doc(q);
    if (doc == NULL)
        return sqs__internal(msg, msglen);
    json_t *stmts = json_object_get(doc, "Statement");
    if (find_sid(stmts, label) >= 0) {
        json_decref(doc);
        return label_invalid(label, "Already exists.", msg, msglen); /* [R] */
    }
    enum err e = ERR_SQS_INVALID_PARAMETER_VALUE;
    json_t *principals = json_array(), *acts = json_array();
    for (size_t i = 0; i < naccounts; i++) {
        char p[64];
        if (!sqs_valid_account_id(accounts[i])) {
            snprintf(msg, msglen,
                     "Value [" S_FMT "] for parameter PrincipalId is invalid. "
                     "Reason: Unable to verify.",
                     S_ARG(accounts[i])); /* [E] */
            goto out;
        }
        snprintf(p, sizeof p, "arn:aws:iam::" S_FMT ":root", S_ARG(accounts[i]));
        json_array_append_new(principals, json_string(p));
    }
    for (size_t i = 0; i < nactions; i++) {
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            ok = ok || str_is(actions[i], *k);
        if (!ok) {
            snprintf(msg, msglen,
                     "Value SQS:" S_FMT " for parameter ActionName is invalid. "
                     "Reason: Please refer to the appropriate WSDL for a list of valid actions.",
                     S_ARG(actions[i])); /* [E] */
            goto out;
        }
        char a[64];
        snprintf(a, sizeof a, "SQS:" S_FMT, S_ARG(actions[i]));
        json_array_append_new(acts, json_string(a));
    }
    char sid[96];
    snprintf(sid, sizeof sid, S_FMT, S_ARG(label));
    json_t *st = json_pack(
        "{s:s, s:s, s:{s:o}, s:o, s:s}", "Sid", sid, "Effect", "Allow", "Principal", "AWS",
        json_array_size(principals) == 1 ? json_incref(json_array_get(principals, 0))
                                         : json_incref(principals),
        "Action",
        json_array_size(acts) == 1 ? json_incref(json_array_get(acts, 0)) : json_incref(acts),
        "Resource", q->arn);
    if (st == NULL || json_array_append_new(stmts, st) != 0)
        e = sqs__internal(msg, msglen);
    else
        e = policy_apply(q, doc, done, arg, msg, msglen);
out:
    json_decref(principals);
    json_decref(acts);
    json_decref(doc);
    return e;
}

enum err sqs_remove_permission(struct sqs_queue *q, struct sqs_str label, sqs_done_fn done,
                               void *arg, char *msg, size_t msglen)
{
    if (label.p == NULL)
        return sqs__missing("Label", msg, msglen);
    json_t *doc = policy_doc(q);
    if (doc == NULL)
        return sqs__internal(msg, msglen);
    json_t *stmts = json_object_get(doc, "Statement");
    long i = find_sid(stmts, label);
    if (i < 0) {
        json_decref(doc);
        return label_invalid(label, "can't find label.", msg, msglen); /* [R] */
    }
    json_array_remove(stmts, (size_t)i);
    enum err e = policy_apply(q, doc, done, arg, msg, msglen);
    json_decref(doc);
    return e;
}

/* ---- health --------------------------------------------------------------------------------- */

struct health {
    json_t *a;
};

static void health_one(void *arg, struct sqs_queue *q)
{
    struct health *h = arg;
    char url[SQS_URL_MAX];
    sqs_queue_url(q, url);
    json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "name", q->name, "url", url, "fifo",
                          q->a.fifo, "visible", (json_int_t)q->n_visible, "in_flight",
                          (json_int_t)q->n_inflight, "delayed", (json_int_t)q->n_delayed);
    if (o && q->a.redrive.dlq_arn) {
        const char *colon = strrchr(q->a.redrive.dlq_arn, ':');
        json_object_set_new(o, "dlq", json_string(colon ? colon + 1 : q->a.redrive.dlq_arn));
        json_object_set_new(o, "max_receive_count", json_integer(q->a.redrive.max_receive_count));
    }
    if (o)
        json_array_append_new(h->a, o);
}

json_t *sqs_health_json(struct sqs *s)
{
    struct health h = {json_array()};
    if (h.a == NULL)
        return NULL;
    sqs_each_queue(s, health_one, &h);
    return h.a;
}

/* ---- the engine ------------------------------------------------------------------------------ */

struct sqs *sqs_new(struct store *st, const struct sqs_options *o, char *err, size_t errlen)
{
    struct sqs *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->st = st;
    snprintf(s->region, sizeof s->region, "%s", o->region ? o->region : "us-east-1");
    snprintf(s->account, sizeof s->account, "%s", o->account ? o->account : "000000000000");
    snprintf(s->url_base, sizeof s->url_base, "%s",
             o->url_base ? o->url_base : "http://127.0.0.1:4566");
    sqs_smap_init(&s->queues);
    sqs_smap_init(&s->interned);
    sqs_smap_init(&s->deleted);
    s->next_queue_id = 1;
    /* index 0 is "" */
    s->strings = calloc(16, sizeof *s->strings);
    s->capstrings = 16;
    if (s->strings == NULL || (s->strings[0] = strdup("")) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->nstrings = 1;
    if (sqs_receipt_key_random(&s->key) != 0) {
        snprintf(err, errlen, "no randomness for the receipt key");
        goto fail;
    }
    if (st != NULL && (sqs__persist_open(s, err, errlen) != 0 ||
                       sqs__persist_load(s, err, errlen) != 0 || sqs__tasks_load(s) != 0))
        goto fail;
    return s;
fail:
    sqs_free(s);
    return NULL;
}

static void free_queue_entry(void *arg, const char *key, size_t klen, void *val)
{
    (void)arg;
    (void)key;
    (void)klen;
    struct sqs_queue *q = val;
    q->deleted = true;
    while (q->w_head) {
        struct sqs_waiter *w = q->w_head;
        w->cancelled = true;
        sqs_receive_cancel(w);
    }
    sqs__queue_unref(q);
}

static void free_ptr(void *arg, const char *key, size_t klen, void *val)
{
    (void)arg;
    (void)key;
    (void)klen;
    free(val);
}

void sqs_free(struct sqs *s)
{
    if (s == NULL)
        return;
    sqs__tasks_free(s);
    /* deferred answers are dropped (their callers are going away too) */
    timer_defer_take(s, drop_deferred);
    sqs_smap_each(&s->queues, free_queue_entry, NULL);
    sqs_smap_destroy(&s->queues);
    sqs_smap_each(&s->deleted, free_ptr, NULL);
    sqs_smap_destroy(&s->deleted);
    sqs_smap_destroy(&s->interned);
    for (uint32_t i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    free(s->strings);
    free(s);
}
