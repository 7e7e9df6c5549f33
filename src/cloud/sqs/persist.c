/*
 * persist.c — the SQS engine's tables (store v2) and the start-up load that rebuilds every
 * in-memory index from them (see queue_int.h).
 *
 * Messages live in one rowid table keyed by k = queue id << 40 | seq: a message's row is
 * found without an index, a queue's rows are one key range (DeleteQueue and PurgeQueue are
 * range deletes), and the load reads the table once in key order — queue by queue, each in
 * sending order, which is the order FIFO groups and the ready list want. An insert costs the
 * same however large the table is (keys only grow within a queue).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/queue_int.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"

enum { SEQ_BITS = 40, HW_STEP = 1 << 16 };

static const char *const steps[] = {
    "CREATE TABLE sqs_meta (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;"
    "CREATE TABLE sqs_queue (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " attrs TEXT NOT NULL, tags TEXT NOT NULL, created INTEGER NOT NULL,"
    " modified INTEGER NOT NULL, seq_hw INTEGER NOT NULL);"
    "CREATE TABLE sqs_msg (k INTEGER PRIMARY KEY, id BLOB NOT NULL, sent INTEGER NOT NULL,"
    " enq INTEGER NOT NULL, vis INTEGER NOT NULL, rc INTEGER NOT NULL, frc INTEGER NOT NULL,"
    " rcv INTEGER NOT NULL, gen INTEGER NOT NULL, sender TEXT, dlq TEXT, body BLOB NOT NULL,"
    " attrs BLOB, trace BLOB, grp BLOB, dedup BLOB);"
    "CREATE TABLE sqs_dedup (q INTEGER NOT NULL, exp INTEGER NOT NULL, k BLOB NOT NULL,"
    " id BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (q, exp, k)) WITHOUT ROWID;"
    "CREATE TABLE sqs_task (handle TEXT PRIMARY KEY, src TEXT NOT NULL, dst TEXT,"
    " rate INTEGER NOT NULL, status TEXT NOT NULL, moved INTEGER NOT NULL,"
    " to_move INTEGER NOT NULL, started INTEGER NOT NULL, failure TEXT) WITHOUT ROWID;",
};

static const struct store_schema schema = {"sqs", steps, sizeof steps / sizeof steps[0]};

static struct store_stmt *prep(struct sqs *s, const char *sql, int *fails, char *err, size_t errlen)
{
    struct store_stmt *st = store_prepare(s->st, sql, err, errlen);
    if (st == NULL)
        (*fails)++;
    return st;
}

int sqs__persist_open(struct sqs *s, char *err, size_t errlen)
{
    if (store_schema_apply(s->st, &schema, err, errlen) != 0)
        return -1;
    int fails = 0;
    struct sqs_stmts *t = &s->stmt;
    t->q_put = prep(s,
                    "INSERT OR REPLACE INTO sqs_queue (id, name, attrs, tags, created, modified,"
                    " seq_hw) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                    " max(?7, coalesce((SELECT seq_hw FROM sqs_queue WHERE id = ?1), 0)))",
                    &fails, err, errlen);
    t->q_del = prep(s, "DELETE FROM sqs_queue WHERE id = ?1", &fails, err, errlen);
    t->q_hw =
        prep(s, "UPDATE sqs_queue SET seq_hw = max(seq_hw, ?2) WHERE id = ?1", &fails, err, errlen);
    t->q_all = prep(s,
                    "SELECT id, name, attrs, tags, created, modified, seq_hw FROM sqs_queue"
                    " ORDER BY id",
                    &fails, err, errlen);
    t->m_ins = prep(s,
                    "INSERT OR REPLACE INTO sqs_msg (k, id, sent, enq, vis, rc, frc, rcv, gen,"
                    " sender, dlq, body, attrs, trace, grp, dedup) VALUES (?1, ?2, ?3, ?4, ?5,"
                    " ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                    &fails, err, errlen);
    t->m_recv = prep(s,
                     "UPDATE sqs_msg SET vis = ?2, rc = ?3, frc = ?4, rcv = ?5, gen = ?6"
                     " WHERE k = ?1",
                     &fails, err, errlen);
    t->m_del = prep(s, "DELETE FROM sqs_msg WHERE k = ?1", &fails, err, errlen);
    t->m_del_range = prep(s, "DELETE FROM sqs_msg WHERE k >= ?1 AND k < ?2", &fails, err, errlen);
    t->m_all = prep(s,
                    "SELECT k, id, sent, enq, vis, rc, frc, rcv, gen, sender, dlq, body, attrs,"
                    " trace, grp, dedup FROM sqs_msg ORDER BY k",
                    &fails, err, errlen);
    t->d_put = prep(s,
                    "INSERT OR REPLACE INTO sqs_dedup (q, exp, k, id, seq) VALUES"
                    " (?1, ?2, ?3, ?4, ?5)",
                    &fails, err, errlen);
    t->d_sweep = prep(s, "DELETE FROM sqs_dedup WHERE q = ?1 AND exp < ?2", &fails, err, errlen);
    t->d_del_queue = prep(s, "DELETE FROM sqs_dedup WHERE q = ?1", &fails, err, errlen);
    t->d_all = prep(s, "SELECT q, exp, k, id, seq FROM sqs_dedup WHERE exp > ?1 ORDER BY q, exp",
                    &fails, err, errlen);
    t->meta_put =
        prep(s, "INSERT OR REPLACE INTO sqs_meta (k, v) VALUES (?1, ?2)", &fails, err, errlen);
    t->meta_get = prep(s, "SELECT v FROM sqs_meta WHERE k = ?1", &fails, err, errlen);
    t->t_put = prep(s,
                    "INSERT OR REPLACE INTO sqs_task (handle, src, dst, rate, status, moved,"
                    " to_move, started, failure) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    &fails, err, errlen);
    t->t_all = prep(s,
                    "SELECT handle, src, dst, rate, status, moved, to_move, started, failure"
                    " FROM sqs_task ORDER BY started",
                    &fails, err, errlen);
    t->t_del = prep(s, "DELETE FROM sqs_task WHERE handle = ?1", &fails, err, errlen);
    return fails ? -1 : 0;
}

/* ---- writes ---------------------------------------------------------------------------- */

static int64_t key_of(const struct sqs_queue *q, uint64_t seq)
{
    return (int64_t)((q->id << SEQ_BITS) | seq);
}

/* The settable attributes, as GetQueueAttributes prints them: CreateQueue reads them back. */
static const uint32_t SETTABLE =
    ~((1u << SQS_QA_APPROX_MESSAGES) | (1u << SQS_QA_APPROX_DELAYED) |
      (1u << SQS_QA_APPROX_NOT_VISIBLE) | (1u << SQS_QA_CREATED_TIMESTAMP) |
      (1u << SQS_QA_LAST_MODIFIED_TIMESTAMP) | (1u << SQS_QA_QUEUE_ARN)) &
    ((1u << SQS_QA__COUNT) - 1);

int sqs__put_queue(struct store_batch *b, struct sqs_queue *q)
{
    struct sqs_qattrs_live live = {.queue_arn = q->arn};
    json_t *a = sqs_qattrs_json(&q->a, &live, SETTABLE);
    char *at = a ? json_dumps(a, JSON_COMPACT) : NULL;
    char *tt = json_dumps(q->tags, JSON_COMPACT);
    json_decref(a);
    int rc = -1;
    if (at && tt) {
        struct store_val v[7] = {store_int((int64_t)q->id),
                                 store_text(q->name),
                                 store_text(at),
                                 store_text(tt),
                                 store_int(q->created_ms),
                                 store_int(q->modified_ms),
                                 store_int((int64_t)q->next_seq)};
        rc = store_batch_add(b, q->s->stmt.q_put, v, 7);
    }
    free(at);
    free(tt);
    return rc;
}

static struct store_val blob_or_null(const char *p, size_t n)
{
    return n ? store_blob(p, n) : store_null();
}

int sqs__put_msg(struct store_batch *b, const struct sqs_queue *q, const struct msg *m)
{
    struct sqs *s = q->s;
    struct store_val v[16] = {
        store_int(key_of(q, m->seq)),
        store_blob(m->id, 16),
        store_int(m->sent_ms),
        store_int(m->enq_ms),
        store_int(m->visible_ms),
        store_int(m->recv_count),
        store_int(m->first_recv_ms),
        store_int(m->recv_ms),
        store_int(m->gen),
        m->sender ? store_text(sqs__string(s, m->sender)) : store_null(),
        m->dlq_src ? store_text(sqs__string(s, m->dlq_src)) : store_null(),
        store_blob(msg_body(m), m->body_len),
        blob_or_null(msg_attrs(m), m->attrs_len),
        blob_or_null(msg_trace(m), m->trace_len),
        blob_or_null(msg_group(m), m->group_len),
        blob_or_null(msg_dedup(m), m->dedup_len),
    };
    return store_batch_add(b, s->stmt.m_ins, v, 16);
}

int sqs__put_recv(struct store_batch *b, const struct sqs_queue *q, const struct msg *m)
{
    struct store_val v[6] = {store_int(key_of(q, m->seq)), store_int(m->visible_ms),
                             store_int(m->recv_count),     store_int(m->first_recv_ms),
                             store_int(m->recv_ms),        store_int(m->gen)};
    return store_batch_add(b, q->s->stmt.m_recv, v, 6);
}

int sqs__del_msg(struct store_batch *b, const struct sqs_queue *q, uint64_t seq)
{
    struct store_val v[1] = {store_int(key_of(q, seq))};
    return store_batch_add(b, q->s->stmt.m_del, v, 1);
}

int sqs__put_hw(struct store_batch *b, const struct sqs_queue *q, uint64_t hw)
{
    struct store_val v[2] = {store_int((int64_t)q->id), store_int((int64_t)hw)};
    return store_batch_add(b, q->s->stmt.q_hw, v, 2);
}

int sqs__put_dedup(struct store_batch *b, const struct sqs_queue *q, const struct dedup *d)
{
    struct store_val v[5] = {store_int((int64_t)q->id), store_int(d->exp_ms),
                             store_blob(d->key, d->klen), store_blob(d->msg_id, 16),
                             store_int((int64_t)d->seq)};
    return store_batch_add(b, q->s->stmt.d_put, v, 5);
}

int sqs__take_seqs(struct store_batch *b, struct sqs_queue *q, size_t count, uint64_t *first,
                   uint64_t *hw)
{
    *hw = 0;
    if (q->next_seq + count >= (1ull << SEQ_BITS))
        return -1; /* a queue numbers 2^40 messages in its life */
    *first = q->next_seq;
    q->next_seq += count;
    if (q->next_seq > q->hw_committed && b != NULL) {
        *hw = q->next_seq + HW_STEP;
        if (sqs__put_hw(b, q, *hw) != 0)
            return -1;
    }
    return 0;
}

void sqs__hw_committed(struct sqs_queue *q, uint64_t hw)
{
    if (hw > q->hw_committed)
        q->hw_committed = hw;
}

/* ---- the load ------------------------------------------------------------------------------- */

struct load {
    struct sqs *s;
    struct sqs_queue *q; /* the queue of the last row (rows come queue by queue) */
    int64_t now;
    long long msgs, bad;
    int fails;
    char *err;
    size_t errlen;
};

static bool meta_row(void *arg, const struct store_row *r)
{
    struct buf *out = arg;
    size_t n;
    const void *p = store_row_blob(r, 0, &n);
    buf_append(out, p, n);
    return false;
}

static int meta_get(struct sqs *s, const char *key, struct buf *out)
{
    struct store_val v[1] = {store_text(key)};
    return store_query(s->st, s->stmt.meta_get, v, 1, meta_row, out) == 1 ? 0 : -1;
}

static void meta_put(struct sqs *s, const char *key, const void *p, size_t n)
{
    struct store_val v[2] = {store_text(key), store_blob(p, n)};
    store_exec(s->st, s->stmt.meta_put, v, 2, NULL, NULL);
}

static bool queue_row(void *arg, const struct store_row *r)
{
    struct load *l = arg;
    struct sqs *s = l->s;
    size_t nl, al, tl;
    uint64_t id = (uint64_t)store_row_int(r, 0);
    const char *name = store_row_text(r, 1, &nl);
    const char *at = store_row_text(r, 2, &al);
    const char *tt = store_row_text(r, 3, &tl);
    char nm[SQS_QUEUE_NAME_MAX + 1], msg[SQS_MSG_MAX];
    snprintf(nm, sizeof nm, "%.*s", (int)nl, name);
    json_t *aj = jsonh_parse(at, al, NULL, 0), *tj = jsonh_parse(tt, tl, NULL, 0);
    struct sqs_kv kv[SQS_QA__COUNT];
    size_t n = 0;
    struct sqs_qattrs a;
    uint32_t given;
    enum err e = sqs_qattrs_kv_from_json(aj, kv, SQS_QA__COUNT, &n, msg, sizeof msg);
    if (e == ERR_OK)
        e = sqs_qattrs_create(&a, (struct sqs_str){nm, strlen(nm)}, kv, n, &given, msg, sizeof msg);
    struct sqs_queue *q = NULL;
    if (e == ERR_OK && (q = sqs__queue_new(s, id, nm, &a)) == NULL)
        sqs_qattrs_destroy(&a);
    if (q == NULL) {
        LOG_ERROR("sqs", NULL, "queue %s: cannot restore its attributes: %s", nm,
                  e == ERR_OK ? "out of memory" : msg);
        l->fails++;
        goto out;
    }
    if (json_is_object(tj)) {
        json_decref(q->tags);
        q->tags = json_incref(tj);
    }
    q->created_ms = store_row_int(r, 4);
    q->modified_ms = store_row_int(r, 5);
    q->hw_committed = (uint64_t)store_row_int(r, 6);
    q->next_seq = q->hw_committed > 0 ? q->hw_committed : 1;
    if (sqs_smap_put(&s->queues, nm, strlen(nm), q) != 0) {
        sqs__queue_unref(q);
        l->fails++;
        goto out;
    }
    if (id >= s->next_queue_id)
        s->next_queue_id = id + 1;
out:
    json_decref(aj);
    json_decref(tj);
    return true;
}

struct find_id {
    uint64_t id;
    struct sqs_queue *q;
};

static void find_id_one(void *arg, const char *key, size_t klen, void *val)
{
    (void)key;
    (void)klen;
    struct find_id *f = arg;
    struct sqs_queue *q = val;
    if (q->id == f->id)
        f->q = q;
}

static struct sqs_queue *queue_by_id(struct load *l, uint64_t id)
{
    if (l->q && l->q->id == id)
        return l->q;
    struct find_id f = {id, NULL};
    sqs_smap_each(&l->s->queues, find_id_one, &f);
    l->q = f.q;
    return f.q;
}

static const void *col_blob(const struct store_row *r, int col, size_t *n)
{
    if (store_row_is_null(r, col)) {
        *n = 0;
        return NULL;
    }
    return store_row_blob(r, col, n);
}

static bool msg_row(void *arg, const struct store_row *r)
{
    struct load *l = arg;
    uint64_t k = (uint64_t)store_row_int(r, 0);
    struct sqs_queue *q = queue_by_id(l, k >> SEQ_BITS);
    if (q == NULL) {
        l->bad++; /* a row of a queue that is gone (a delete that did not commit its rows) */
        return true;
    }
    size_t idl, bl, al, tl, gl, dl;
    const void *id = store_row_blob(r, 1, &idl);
    const void *body = store_row_blob(r, 11, &bl);
    const void *attrs = col_blob(r, 12, &al);
    const void *trace = col_blob(r, 13, &tl);
    const void *grp = col_blob(r, 14, &gl);
    const void *dedup = col_blob(r, 15, &dl);
    struct msg *m = sqs__msg_new(body, bl, attrs, al, trace, tl, grp, gl, dedup, dl);
    if (m == NULL || idl != 16) {
        free(m);
        l->bad++;
        return true;
    }
    memcpy(m->id, id, 16);
    m->seq = k & ((1ull << SEQ_BITS) - 1);
    m->sent_ms = store_row_int(r, 2);
    m->enq_ms = store_row_int(r, 3);
    m->visible_ms = store_row_int(r, 4);
    m->recv_count = (uint32_t)store_row_int(r, 5);
    m->first_recv_ms = store_row_int(r, 6);
    m->recv_ms = store_row_int(r, 7);
    m->gen = (uint32_t)store_row_int(r, 8);
    size_t sl, ql;
    if (!store_row_is_null(r, 9)) {
        const char *sender = store_row_text(r, 9, &sl);
        m->sender = sqs__intern(l->s, sender, sl);
    }
    if (!store_row_is_null(r, 10)) {
        const char *dlq = store_row_text(r, 10, &ql);
        m->dlq_src = sqs__intern(l->s, dlq, ql);
    }
    if (m->sender == UINT32_MAX || m->dlq_src == UINT32_MAX || sqs_seqmap_put(&q->map, m) != 0) {
        free(m);
        l->fails++;
        return false;
    }
    if (sqs__msg_index(q, m, l->now, true) != 0) {
        sqs_seqmap_del(&q->map, m->seq);
        free(m);
        l->fails++;
        return false;
    }
    if (m->seq >= q->next_seq)
        q->next_seq = m->seq + 1;
    l->s->live_msgs++;
    l->msgs++;
    return true;
}

static bool dedup_row(void *arg, const struct store_row *r)
{
    struct load *l = arg;
    struct sqs_queue *q = queue_by_id(l, (uint64_t)store_row_int(r, 0));
    size_t kl, il;
    const void *key = store_row_blob(r, 2, &kl);
    const void *id = store_row_blob(r, 3, &il);
    if (q == NULL || il != 16)
        return true;
    struct dedup *d = calloc(1, sizeof *d + kl);
    if (d == NULL || sqs_smap_put(&q->dedups, key, kl, d) != 0) {
        free(d);
        return true;
    }
    d->exp_ms = store_row_int(r, 1);
    d->klen = kl;
    memcpy(d->key, key, kl);
    memcpy(d->msg_id, id, 16);
    d->seq = (uint64_t)store_row_int(r, 4);
    if (q->dedup_tail)
        q->dedup_tail->next = d;
    else
        q->dedup_head = d;
    q->dedup_tail = d;
    return true;
}

static void finish_queue(void *arg, const char *key, size_t klen, void *val)
{
    (void)arg;
    (void)key;
    (void)klen;
    struct sqs_queue *q = val;
    sqs_heap_fix(&q->timed);
    sqs_heap_fix(&q->ret);
    sqs__queue_timers(q);
}

int sqs__persist_load(struct sqs *s, char *err, size_t errlen)
{
    struct buf b;
    buf_init(&b, 64);
    if (meta_get(s, "receipt_key", &b) == 0 && b.len == SQS_RECEIPT_KEY_LEN) {
        memcpy(s->key.key, b.data, SQS_RECEIPT_KEY_LEN);
    } else {
        /* the key handles are MAC'd with lives as long as the state: old handles keep
         * working across restarts, as AWS's do */
        meta_put(s, "receipt_key", s->key.key, SQS_RECEIPT_KEY_LEN);
    }
    buf_destroy(&b);
    int64_t t0 = clock_mono_ns();
    struct load l = {.s = s, .now = clock_now_ms(), .err = err, .errlen = errlen};
    if (store_query(s->st, s->stmt.q_all, NULL, 0, queue_row, &l) < 0) {
        snprintf(err, errlen, "sqs: cannot read the queues");
        return -1;
    }
    l.q = NULL;
    struct store_val now[1] = {store_int(l.now)};
    if (store_query(s->st, s->stmt.m_all, NULL, 0, msg_row, &l) < 0 || l.fails) {
        snprintf(err, errlen, "sqs: cannot load the messages (out of memory?)");
        return -1;
    }
    l.q = NULL;
    store_query(s->st, s->stmt.d_all, now, 1, dedup_row, &l);
    sqs_smap_each(&s->queues, finish_queue, NULL);
    store_flush(s->st);
    if (s->queues.n > 0)
        LOG_INFO("sqs", NULL, "restored queues=%zu messages=%lld skipped=%lld in %.3fs",
                 s->queues.n, l.msgs, l.bad, (double)(clock_mono_ns() - t0) / 1e9);
    return 0;
}
