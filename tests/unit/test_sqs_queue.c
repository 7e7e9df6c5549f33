/*
 * Unit tests: the SQS engine (src/cloud/sqs/queue.h) on a temporary store and the manual
 * clock — no sleeping. Completions come from store commits (store_flush) and deferral timers
 * (timer_run_due); time moves with timer_advance. Covers queues and their idempotence,
 * sending, receiving, visibility, delays, long polls (many parked receivers, answered the
 * moment a message shows), retention, dead-letter redrive, FIFO ordering, group locking,
 * deduplication and receive attempts, batches, purge, tags, move tasks, commit failures and
 * a restart keeping messages, receive counts and receipt handles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/sqs/attrs.h"
#include "cloud/sqs/md5.h"
#include "cloud/sqs/queue.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/timer.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

static char dir[128];
static struct store *st;
static struct sqs *sq;
static int64_t now_ms;

static void open_engine(void)
{
    char err[512];
    st = store_open(dir, err, sizeof err);
    assert_non_null(st);
    struct sqs_options o = {
        .region = "eu-west-1", .account = "000000000000", .url_base = "http://127.0.0.1:4566"};
    sq = sqs_new(st, &o, err, sizeof err);
    if (sq == NULL)
        fail_msg("sqs_new: %s", err);
}

static void close_engine(void)
{
    store_flush(st);
    sqs_free(sq);
    store_close(st);
    sq = NULL;
    st = NULL;
}

/* Runs completions until nothing more happens. */
static void settle(void)
{
    for (int i = 0; i < 8; i++) { /* completions may start commits that complete in turn */
        store_flush(st);
        timer_run_due();
    }
}

static void advance(int64_t ms)
{
    now_ms += ms;
    timer_advance(now_ms);
    settle();
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/haar-test-sqs-%d", (int)getpid());
    fs_remove_tree(dir);
    assert_int_equal(fs_mkdir_p(dir, 0700), 0);
    now_ms = T0;
    clock_set_manual(T0);
    open_engine();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close_engine();
    fs_remove_tree(dir);
    return 0;
}

static struct sqs_str S(const char *s) {
    return sqs_str_c(s);
}

/* ---- synchronous wrappers ---------------------------------------------------------------- */

struct res {
    int calls;
    enum err e;
    char msg[1024];
    struct sqs_queue *q;
    size_t n;
    struct {
        char id[40], receipt[64], body[256], count[16], group[130], seqno[24], dlq_src[200];
        char sent[24], first[24];
        int nattrs;
        char md5_body[40], md5_attrs[40];
    } m[10];
    struct sqs_send_result sr[10];
    struct sqs_batch_result br[10];
};

static void on_done(void *arg, enum err e, const char *msg)
{
    struct res *r = arg;
    r->calls++;
    r->e = e;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
}

static void on_queue(void *arg, enum err e, const char *msg, struct sqs_queue *q)
{
    struct res *r = arg;
    on_done(arg, e, msg);
    r->q = q;
}

static void on_send(void *arg, enum err e, const char *msg, const struct sqs_send_result *res,
                    size_t n)
{
    struct res *r = arg;
    on_done(arg, e, msg);
    r->n = n;
    memcpy(r->sr, res, n * sizeof *res);
}

static void on_batch(void *arg, const struct sqs_batch_result *res, size_t n)
{
    struct res *r = arg;
    r->calls++;
    r->n = n;
    memcpy(r->br, res, n * sizeof *res);
}

static void copy_sys(const struct sqs_message *v, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < v->nsys; i++)
        if (strcmp(v->sys[i].name, name) == 0)
            snprintf(out, cap, "%.*s", (int)v->sys[i].len, v->sys[i].value);
}

static void on_receive(void *arg, enum err e, const char *msg, const struct sqs_message *m,
                       size_t n)
{
    struct res *r = arg;
    on_done(arg, e, msg);
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        snprintf(r->m[i].id, sizeof r->m[i].id, "%s", m[i].message_id);
        snprintf(r->m[i].receipt, sizeof r->m[i].receipt, "%s", m[i].receipt);
        snprintf(r->m[i].body, sizeof r->m[i].body, "%.*s", (int)m[i].body_len, m[i].body);
        copy_sys(&m[i], "ApproximateReceiveCount", r->m[i].count, sizeof r->m[i].count);
        copy_sys(&m[i], "MessageGroupId", r->m[i].group, sizeof r->m[i].group);
        copy_sys(&m[i], "SequenceNumber", r->m[i].seqno, sizeof r->m[i].seqno);
        copy_sys(&m[i], "DeadLetterQueueSourceArn", r->m[i].dlq_src, sizeof r->m[i].dlq_src);
        copy_sys(&m[i], "SentTimestamp", r->m[i].sent, sizeof r->m[i].sent);
        copy_sys(&m[i], "ApproximateFirstReceiveTimestamp", r->m[i].first, sizeof r->m[i].first);
        r->m[i].nattrs = 0;
        for (size_t k = 0; k < m[i].attrs.n; k++)
            if (m[i].attr_mask & (1u << k))
                r->m[i].nattrs++;
        snprintf(r->m[i].md5_body, sizeof r->m[i].md5_body, "%s", m[i].md5_body);
        snprintf(r->m[i].md5_attrs, sizeof r->m[i].md5_attrs, "%s", m[i].md5_attrs);
    }
}

static struct sqs_queue *create(const char *name, const struct sqs_kv *kv, size_t n)
{
    struct res r = {0};
    struct sqs_create_req req = {.name = S(name), .attrs = kv, .nattrs = n};
    char msg[1024];
    enum err e = sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg);
    if (e != ERR_OK)
        fail_msg("create %s: %s", name, msg);
    assert_int_equal(r.calls, 0); /* never inside the call */
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.e, ERR_OK);
    return r.q;
}

static struct sqs_send_result send_ex(struct sqs_queue *q, const char *body, const char *group,
                                      const char *dedup, long long delay)
{
    struct res r = {0};
    struct sqs_send_entry e = {.body = S(body),
                               .group_id = S(group),
                               .dedup_id = S(dedup),
                               .has_delay = delay >= 0,
                               .delay = delay};
    char msg[1024];
    enum err rc = sqs_send(q, &e, "AIDATEST", on_send, &r, msg, sizeof msg);
    if (rc != ERR_OK)
        fail_msg("send: %s", msg);
    assert_int_equal(r.calls, 0);
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.e, ERR_OK);
    return r.sr[0];
}

static struct sqs_send_result send1(struct sqs_queue *q, const char *body)
{
    return send_ex(q, body, NULL, NULL, -1);
}

static const struct sqs_str ALL[] = {{"All", 3}};

static struct res receive_names(struct sqs_queue *q, int max, int vt, int wait, const char *attempt,
                                const struct sqs_str *names, size_t nnames)
{
    struct res r = {0};
    struct sqs_receive_req req = {.p = {.has_max = true,
                                        .max = max,
                                        .has_visibility = vt >= 0,
                                        .visibility = vt,
                                        .has_wait = true,
                                        .wait = wait,
                                        .attempt_id = S(attempt)},
                                  .sys_mask = UINT32_MAX,
                                  .names = names,
                                  .nnames = nnames};
    char msg[1024];
    enum err rc = sqs_receive(q, &req, on_receive, &r, NULL, msg, sizeof msg);
    if (rc != ERR_OK)
        fail_msg("receive: %s", msg);
    assert_int_equal(r.calls, 0);
    settle();
    return r;
}

static struct res receive_ex(struct sqs_queue *q, int max, int vt, int wait, const char *attempt)
{
    return receive_names(q, max, vt, wait, attempt, ALL, 1);
}

static struct res receive(struct sqs_queue *q, int max, int vt)
{
    struct res r = receive_ex(q, max, vt, 0, NULL);
    assert_int_equal(r.calls, 1);
    return r;
}

static enum err del(struct sqs_queue *q, const char *receipt, char *msg)
{
    struct res r = {0};
    char m[1024];
    enum err rc = sqs_delete_message(q, S(receipt), on_done, &r, msg ? msg : m, 1024);
    if (rc != ERR_OK)
        return rc;
    settle();
    assert_int_equal(r.calls, 1);
    return r.e;
}

static enum err change_vis(struct sqs_queue *q, const char *receipt, long long t, char *msg)
{
    struct res r = {0};
    char m[1024];
    enum err rc = sqs_change_visibility(q, S(receipt), t, on_done, &r, msg ? msg : m, 1024);
    if (rc != ERR_OK)
        return rc;
    settle();
    assert_int_equal(r.calls, 1);
    return r.e;
}

static struct sqs_depth depth(struct sqs_queue *q)
{
    struct sqs_depth d;
    sqs_queue_depth(q, &d);
    return d;
}

static struct sqs_kv KV(const char *n, const char *v) {
    return (struct sqs_kv){S(n), S(v)};
}

/* ---- tests --------------------------------------------------------------------------------- */

static void
test_create_idempotence(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("VisibilityTimeout", "45")};
    struct sqs_queue *q = create("orders", a, 1);
    char url[SQS_URL_MAX];
    sqs_queue_url(q, url);
    assert_string_equal(url, "http://127.0.0.1:4566/000000000000/orders");
    assert_string_equal(sqs_queue_arn(q), "arn:aws:sqs:eu-west-1:000000000000:orders");
    /* same attributes (or none named): the same queue */
    struct sqs_kv same[] = {KV("VisibilityTimeout", "45")};
    assert_ptr_equal(create("orders", same, 1), q);
    assert_ptr_equal(create("orders", NULL, 0), q);
    /* a different value: QueueAlreadyExists naming it */
    struct sqs_kv diff[] = {KV("DelaySeconds", "5")};
    struct sqs_create_req req = {.name = S("orders"), .attrs = diff, .nattrs = 1};
    char msg[1024];
    struct res r = {0};
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg),
                     ERR_SQS_QUEUE_NAME_EXISTS);
    assert_string_equal(msg, "A queue already exists with the same name and a different value "
                             "for attribute DelaySeconds");
    /* resolving URLs with any host, and refusing other accounts */
    struct sqs_queue *got;
    assert_int_equal(sqs_queue_resolve(sq,
                                       S("https://sqs.eu-west-1.amazonaws.com/000000000000/"
                                         "orders"),
                                       false, &got, msg, sizeof msg),
                     ERR_OK);
    assert_ptr_equal(got, q);
    assert_int_equal(sqs_queue_resolve(sq, S("http://localhost:4566/123456789012/orders"), true,
                                       &got, msg, sizeof msg),
                     ERR_SQS_QUEUE_DOES_NOT_EXIST);
    assert_string_equal(msg, "The specified queue does not exist for this wsdl version.");
    /* delete: gone at once, and the name refused for 60 s of the clock */
    r = (struct res){0};
    assert_int_equal(sqs_delete_queue(q, on_done, &r, msg, sizeof msg), ERR_OK);
    assert_null(sqs_queue_find(sq, "orders", 6));
    settle();
    assert_int_equal(r.e, ERR_OK);
    req = (struct sqs_create_req){.name = S("orders")};
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg),
                     ERR_SQS_QUEUE_DELETED_RECENTLY);
    advance(61000);
    assert_non_null(create("orders", NULL, 0));
}

static void test_send_receive_delete(void **state)
{
    (void)state;
    struct sqs_queue *q = create("q1", NULL, 0);
    struct sqs_send_result s = send1(q, "Test message.");
    assert_string_equal(s.md5_body, "e4e68fb7bd0e697a0ae8f1bb342846b3");
    assert_int_equal(strlen(s.message_id), 36);
    assert_int_equal(depth(q).visible, 1);
    struct res r = receive(q, 10, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].id, s.message_id);
    assert_string_equal(r.m[0].body, "Test message.");
    assert_string_equal(r.m[0].count, "1");
    char sent[24];
    snprintf(sent, sizeof sent, "%lld", (long long)T0);
    assert_string_equal(r.m[0].sent, sent);
    assert_int_equal(depth(q).visible, 0);
    assert_int_equal(depth(q).in_flight, 1);
    /* nothing else to receive */
    assert_int_equal(receive(q, 10, -1).n, 0);
    assert_int_equal(del(q, r.m[0].receipt, NULL), ERR_OK);
    assert_int_equal(depth(q).in_flight, 0);
    /* deleting again succeeds, as on AWS */
    assert_int_equal(del(q, r.m[0].receipt, NULL), ERR_OK);
    /* a made-up handle does not */
    char msg[1024];
    assert_int_equal(del(q, "garbage", msg), ERR_SQS_RECEIPT_HANDLE_INVALID);
    assert_string_equal(msg, "The input receipt handle \"garbage\" is not a valid receipt handle.");
    /* nor a handle of another queue */
    struct sqs_queue *q2 = create("q2", NULL, 0);
    send1(q2, "x");
    struct res r2 = receive(q2, 1, -1);
    assert_int_equal(del(q, r2.m[0].receipt, msg), ERR_SQS_RECEIPT_HANDLE_INVALID);
}

static void test_visibility(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("VisibilityTimeout", "30")};
    struct sqs_queue *q = create("vis", a, 1);
    send1(q, "m");
    struct res r1 = receive(q, 1, -1);
    assert_int_equal(r1.n, 1);
    advance(29999);
    assert_int_equal(receive(q, 1, -1).n, 0);
    advance(1);
    assert_int_equal(depth(q).visible, 1);
    struct res r2 = receive(q, 1, 5);
    assert_int_equal(r2.n, 1);
    assert_string_equal(r2.m[0].count, "2");
    assert_string_not_equal(r2.m[0].receipt, r1.m[0].receipt);
    /* ChangeMessageVisibility counts from the call */
    advance(4000);
    assert_int_equal(change_vis(q, r2.m[0].receipt, 10, NULL), ERR_OK);
    advance(9999);
    assert_int_equal(depth(q).in_flight, 1);
    advance(1);
    assert_int_equal(depth(q).visible, 1);
    /* an expired handle re-hides the message (standard queue: 200) */
    assert_int_equal(change_vis(q, r2.m[0].receipt, 100, NULL), ERR_OK);
    assert_int_equal(depth(q).in_flight, 1);
    /* 12 hours since the receive at most */
    char msg[1024];
    assert_int_equal(change_vis(q, r2.m[0].receipt, 43200, msg), ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_non_null(strstr(msg, "Total VisibilityTimeout for the message is beyond the limit"));
    /* 0 shows it at once */
    assert_int_equal(change_vis(q, r2.m[0].receipt, 0, NULL), ERR_OK);
    assert_int_equal(depth(q).visible, 1);
    /* an old handle still deletes (standard queue) */
    assert_int_equal(del(q, r1.m[0].receipt, NULL), ERR_OK);
    assert_int_equal(depth(q).visible, 0);
    assert_int_equal(change_vis(q, r2.m[0].receipt, 10, msg), ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_non_null(strstr(msg, "Message does not exist or is not available"));
}

static void test_zero_visibility_receive(void **state)
{
    (void)state;
    struct sqs_queue *q = create("zero", NULL, 0);
    send1(q, "a");
    struct res r = receive(q, 10, 0);
    assert_int_equal(r.n, 1); /* once per receive, though visible again at once */
    assert_int_equal(depth(q).visible, 1);
    r = receive(q, 10, 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].count, "2");
}

static void test_delays(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("DelaySeconds", "10")};
    struct sqs_queue *q = create("delayed", a, 1);
    send1(q, "queue delay");
    send_ex(q, "own delay", NULL, NULL, 3);
    send_ex(q, "no delay", NULL, NULL, 0);
    assert_int_equal(depth(q).delayed, 2);
    assert_int_equal(depth(q).visible, 1);
    struct res r = receive(q, 10, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].body, "no delay");
    advance(3000);
    r = receive(q, 10, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].body, "own delay");
    advance(7000);
    r = receive(q, 10, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].body, "queue delay");
}

static void test_long_poll(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("VisibilityTimeout", "10")};
    struct sqs_queue *q = create("poll", a, 1);
    struct res w[5];
    struct sqs_waiter *h[5];
    struct sqs_receive_req req = {.p = {.has_max = true, .max = 1, .has_wait = true, .wait = 20},
                                  .sys_mask = UINT32_MAX};
    char msg[1024];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 5; i++)
        assert_int_equal(sqs_receive(q, &req, on_receive, &w[i], &h[i], msg, sizeof msg), ERR_OK);
    settle();
    for (int i = 0; i < 5; i++)
        assert_int_equal(w[i].calls, 0); /* parked: no busy work, no answer */
    /* a send answers the first parked receiver at once */
    send1(q, "wake");
    assert_int_equal(w[0].calls, 1);
    assert_int_equal(w[0].n, 1);
    assert_int_equal(w[1].calls, 0);
    /* the second one gets the message when its visibility runs out */
    advance(10000);
    assert_int_equal(w[1].calls, 1);
    assert_int_equal(w[1].n, 1);
    assert_string_equal(w[1].m[0].count, "2");
    /* a cancelled receiver is never answered */
    sqs_receive_cancel(h[2]);
    /* a delayed message wakes a receiver when its delay ends */
    send_ex(q, "late", NULL, NULL, 5);
    assert_int_equal(w[3].calls, 0);
    advance(5000);
    assert_int_equal(w[2].calls, 0);
    assert_int_equal(w[3].calls, 1);
    assert_string_equal(w[3].m[0].body, "late");
    /* the last one times out empty after its 20 s */
    advance(4999);
    assert_int_equal(w[4].calls, 0);
    advance(1);
    assert_int_equal(w[4].calls, 1);
    assert_int_equal(w[4].n, 0);
    assert_int_equal(w[2].calls, 0);
}

static void test_many_waiters_batch(void **state)
{
    (void)state;
    struct sqs_queue *q = create("fanout", NULL, 0);
    enum { N = 200 };
    static struct res w[N];
    memset(w, 0, sizeof w);
    struct sqs_receive_req req = {.p = {.has_max = true, .max = 10, .has_wait = true, .wait = 20}};
    char msg[1024];
    for (int i = 0; i < N; i++)
        assert_int_equal(sqs_receive(q, &req, on_receive, &w[i], NULL, msg, sizeof msg), ERR_OK);
    struct sqs_send_entry e[10];
    char ids[10][4];
    for (int i = 0; i < 10; i++) {
        snprintf(ids[i], sizeof ids[i], "e%d", i);
        e[i] = (struct sqs_send_entry){.id = S(ids[i]), .body = S("b")};
    }
    struct res r = {0};
    assert_int_equal(sqs_send_batch(q, e, 10, "me", on_send, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.n, 10);
    /* the first waiter takes all ten; the rest keep waiting */
    assert_int_equal(w[0].n, 10);
    for (int i = 1; i < N; i++)
        assert_int_equal(w[i].calls, 0);
    advance(20000);
    for (int i = 1; i < N; i++)
        assert_int_equal(w[i].calls, 1);
}

static void test_retention(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("MessageRetentionPeriod", "60")};
    struct sqs_queue *q = create("short", a, 1);
    send1(q, "old");
    advance(30000);
    send1(q, "new");
    advance(30000);
    assert_int_equal(depth(q).visible, 1);
    struct res r = receive(q, 10, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].body, "new");
    /* in flight or not, it goes at its time */
    advance(30000);
    assert_int_equal(depth(q).in_flight, 0);
    /* a longer retention set later applies to the messages already there */
    send1(q, "kept");
    struct sqs_kv longer[] = {KV("MessageRetentionPeriod", "120")};
    struct res d = {0};
    char msg[1024];
    assert_int_equal(sqs_set_attributes(q, longer, 1, on_done, &d, msg, sizeof msg), ERR_OK);
    settle();
    advance(90000);
    assert_int_equal(depth(q).visible, 1);
    advance(30000);
    assert_int_equal(depth(q).visible, 0);
}

static void emit(void *arg, const char *url)
{
    (void)url;
    (*(int *)arg)++;
}

static struct sqs_queue *with_dlq(const char *name, const char *dlq_name, int max, bool fifo,
                                  struct sqs_queue **dlq)
{
    char name_buf[128], dlq_buf[128], policy[256];
    snprintf(name_buf, sizeof name_buf, "%s%s", name, fifo ? ".fifo" : "");
    snprintf(dlq_buf, sizeof dlq_buf, "%s%s", dlq_name, fifo ? ".fifo" : "");
    struct sqs_kv fa[] = {KV("FifoQueue", "true")};
    *dlq = create(dlq_buf, fa, fifo ? 1 : 0);
    snprintf(policy, sizeof policy,
             "{\"deadLetterTargetArn\":\"arn:aws:sqs:eu-west-1:000000000000:%s\","
             "\"maxReceiveCount\":%d}",
             dlq_buf, max);
    struct sqs_kv a[] = {KV("RedrivePolicy", policy), KV("VisibilityTimeout", "10"),
                         KV("FifoQueue", "true")};
    return create(name_buf, a, fifo ? 3 : 2);
}

static void test_redrive(void **state)
{
    (void)state;
    struct sqs_queue *dlq;
    struct sqs_queue *q = with_dlq("src", "dead", 2, false, &dlq);
    struct sqs_send_result s = send1(q, "poison");
    struct res r = receive(q, 1, -1);
    assert_string_equal(r.m[0].count, "1");
    advance(10000);
    r = receive(q, 1, -1);
    assert_string_equal(r.m[0].count, "2");
    advance(10000);
    /* the third receive finds it over maxReceiveCount: it moves instead */
    r = receive(q, 1, -1);
    assert_int_equal(r.n, 0);
    assert_int_equal(depth(q).visible + depth(q).in_flight, 0);
    assert_int_equal(depth(dlq).visible, 1);
    r = receive(dlq, 1, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].id, s.message_id); /* same MessageId */
    assert_string_equal(r.m[0].body, "poison");
    assert_string_equal(r.m[0].count, "3"); /* counting on */
    char sent[24];
    snprintf(sent, sizeof sent, "%lld", (long long)T0);
    assert_string_equal(r.m[0].sent, sent); /* the original sent time */
    assert_string_equal(r.m[0].dlq_src, "arn:aws:sqs:eu-west-1:000000000000:src");
    /* ListDeadLetterSourceQueues */
    char next[SQS_URL_MAX], msg[1024];
    int n = 0;
    assert_int_equal(sqs_list_dlq_sources(dlq, false, 0, S(NULL), emit, &n, next, msg, sizeof msg),
                     ERR_OK);
    assert_int_equal(n, 1);
}

static void test_redrive_checks(void **state)
{
    (void)state;
    char msg[1024];
    struct res r = {0};
    const char *policy = "{\"deadLetterTargetArn\":\"arn:aws:sqs:eu-west-1:000000000000:nope\","
                         "\"maxReceiveCount\":3}";
    struct sqs_kv a[] = {KV("RedrivePolicy", policy)};
    struct sqs_create_req req = {.name = S("src"), .attrs = a, .nattrs = 1};
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_non_null(strstr(msg, "Reason: Dead letter target does not exist."));
    /* denyAll on the DLQ refuses every source */
    struct sqs_kv deny[] = {KV("RedriveAllowPolicy", "{\"redrivePermission\":\"denyAll\"}")};
    create("nope", deny, 1);
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    struct sqs_queue *d = sqs_queue_find(sq, "nope", 4);
    struct sqs_kv allow[] = {KV("RedriveAllowPolicy",
                                "{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":"
                                "[\"arn:aws:sqs:eu-west-1:000000000000:src\"]}")};
    assert_int_equal(sqs_set_attributes(d, allow, 1, on_done, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_non_null(create("src", a, 1));
    req.name = S("other");
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
}

static void test_fifo(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("FifoQueue", "true"), KV("VisibilityTimeout", "30")};
    struct sqs_queue *q = create("jobs.fifo", a, 2);
    struct sqs_send_result s1 = send_ex(q, "a1", "A", "d1", -1);
    send_ex(q, "a2", "A", "d2", -1);
    send_ex(q, "b1", "B", "d3", -1);
    send_ex(q, "a3", "A", "d4", -1);
    assert_int_equal(strlen(s1.seq_number), 20);
    /* a duplicate within 5 minutes: same id and number, nothing stored */
    struct sqs_send_result dup = send_ex(q, "a1 again", "A", "d1", -1);
    assert_string_equal(dup.message_id, s1.message_id);
    assert_string_equal(dup.seq_number, s1.seq_number);
    assert_int_equal(depth(q).visible, 4);
    /* group A in order, then B */
    struct res r = receive(q, 2, -1);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.m[0].body, "a1");
    assert_string_equal(r.m[1].body, "a2");
    assert_string_equal(r.m[0].group, "A");
    assert_string_equal(r.m[0].seqno, s1.seq_number);
    /* A is locked while a1/a2 are in flight: only B is available */
    struct res r2 = receive(q, 10, -1);
    assert_int_equal(r2.n, 1);
    assert_string_equal(r2.m[0].body, "b1");
    assert_int_equal(receive(q, 10, -1).n, 0);
    /* deleting a1 keeps A locked (a2 still in flight) */
    assert_int_equal(del(q, r.m[0].receipt, NULL), ERR_OK);
    assert_int_equal(receive(q, 10, -1).n, 0);
    assert_int_equal(del(q, r.m[1].receipt, NULL), ERR_OK);
    struct res r3 = receive(q, 10, -1);
    assert_int_equal(r3.n, 1);
    assert_string_equal(r3.m[0].body, "a3");
    /* an expired handle does not delete on a FIFO queue */
    advance(30000);
    char msg[1024];
    assert_int_equal(del(q, r3.m[0].receipt, msg), ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_non_null(strstr(msg, "Reason: The receipt handle has expired."));
    /* the dedup window ends after 5 minutes */
    advance(300000);
    struct sqs_send_result again = send_ex(q, "a1 later", "A", "d1", -1);
    assert_string_not_equal(again.message_id, s1.message_id);
}

static void test_fifo_content_dedup_and_attempts(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("FifoQueue", "true"), KV("ContentBasedDeduplication", "true")};
    struct sqs_queue *q = create("cbd.fifo", a, 2);
    struct sqs_send_result s1 = send_ex(q, "same body", "g", NULL, -1);
    struct sqs_send_result s2 = send_ex(q, "same body", "g", NULL, -1);
    assert_string_equal(s1.message_id, s2.message_id);
    send_ex(q, "other body", "g", NULL, -1);
    assert_int_equal(depth(q).visible, 2);
    /* a retried ReceiveRequestAttemptId answers the same messages and handles */
    struct res r1 = receive_ex(q, 10, -1, 0, "attempt-1");
    assert_int_equal(r1.n, 2);
    struct res r2 = receive_ex(q, 10, -1, 0, "attempt-1");
    assert_int_equal(r2.n, 2);
    assert_string_equal(r1.m[0].receipt, r2.m[0].receipt);
    assert_string_equal(r2.m[0].count, "1");
    /* a send with a delay on a FIFO queue is refused */
    struct sqs_send_entry e = {.body = S("x"), .group_id = S("g"), .has_delay = true, .delay = 2};
    char msg[1024];
    struct res r = {0};
    assert_int_equal(sqs_send(q, &e, "me", on_send, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_string_equal(msg, "Value 2 for parameter DelaySeconds is invalid. Reason: The request "
                             "include parameter that is not valid for this queue type.");
    /* no group id: MissingParameter */
    e = (struct sqs_send_entry){.body = S("x")};
    assert_int_equal(sqs_send(q, &e, "me", on_send, &r, msg, sizeof msg),
                     ERR_SQS_MISSING_PARAMETER);
    settle();
    assert_int_equal(r.calls, 0);
}

static void test_fifo_redrive(void **state)
{
    (void)state;
    struct sqs_queue *dlq;
    struct sqs_queue *q = with_dlq("f", "fdead", 1, true, &dlq);
    send_ex(q, "m1", "g", "1", -1);
    send_ex(q, "m2", "g", "2", -1);
    struct res r = receive(q, 1, -1);
    assert_string_equal(r.m[0].body, "m1");
    advance(10000);
    /* m1 is over its count: it moves, and m2 comes next in the same receive */
    r = receive(q, 1, -1);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.m[0].body, "m2");
    assert_int_equal(depth(dlq).visible, 1);
    struct res d = receive(dlq, 1, -1);
    assert_string_equal(d.m[0].body, "m1");
    assert_string_equal(d.m[0].group, "g");
}

static void test_batches(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("MaximumMessageSize", "1024")};
    struct sqs_queue *q = create("batch", a, 1);
    char big[1100];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    struct sqs_send_entry e[3] = {{.id = S("ok"), .body = S("fine")},
                                  {.id = S("big"), .body = S(big)},
                                  {.id = S("bad"), .body = {"\x01", 1}}};
    struct res r = {0};
    char msg[1024];
    assert_int_equal(sqs_send_batch(q, e, 3, "me", on_send, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.n, 3);
    assert_int_equal(r.sr[0].e, ERR_OK);
    assert_int_equal(r.sr[1].e, ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_string_equal(r.sr[1].msg, "One or more parameters cannot be validated. Reason: "
                                     "Message must be shorter than 1024 bytes.");
    assert_int_equal(r.sr[2].e, ERR_SQS_INVALID_MESSAGE_CONTENTS);
    assert_int_equal(depth(q).visible, 1);
    /* batch-level refusals */
    struct sqs_send_entry dup[2] = {{.id = S("a"), .body = S("1")}, {.id = S("a"), .body = S("2")}};
    assert_int_equal(sqs_send_batch(q, dup, 2, "me", on_send, &r, msg, sizeof msg),
                     ERR_SQS_BATCH_IDS_NOT_DISTINCT);
    assert_string_equal(msg, "Id a repeated.");
    assert_int_equal(sqs_send_batch(q, dup, 0, "me", on_send, &r, msg, sizeof msg),
                     ERR_SQS_EMPTY_BATCH);
    /* delete batch with a good and a bad handle */
    struct res got = receive(q, 1, -1);
    struct sqs_batch_entry d[2] = {{.id = S("x"), .handle = S(got.m[0].receipt)},
                                   {.id = S("y"), .handle = S("junk")}};
    r = (struct res){0};
    assert_int_equal(sqs_delete_batch(q, d, 2, on_batch, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.br[0].e, ERR_OK);
    assert_int_equal(r.br[1].e, ERR_SQS_RECEIPT_HANDLE_INVALID);
    assert_int_equal(depth(q).in_flight, 0);
}

static void test_purge(void **state)
{
    (void)state;
    struct sqs_queue *q = create("purge", NULL, 0);
    for (int i = 0; i < 5; i++)
        send1(q, "m");
    receive(q, 2, -1);
    struct res r = {0};
    char msg[1024];
    assert_int_equal(sqs_purge(q, on_done, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_OK);
    assert_int_equal(depth(q).visible + depth(q).in_flight, 0);
    assert_int_equal(sqs_purge(q, on_done, &r, msg, sizeof msg), ERR_SQS_PURGE_IN_PROGRESS);
    assert_string_equal(msg, "Only one PurgeQueue operation on purge is allowed every 60 seconds.");
    advance(60000);
    assert_int_equal(sqs_purge(q, on_done, &r, msg, sizeof msg), ERR_OK);
    settle();
}

static void test_move_task(void **state)
{
    (void)state;
    struct sqs_queue *dlq;
    struct sqs_queue *q = with_dlq("mv", "mvdead", 1, false, &dlq);
    for (int i = 0; i < 5; i++)
        send1(q, "m");
    receive(q, 10, -1);
    advance(10000);
    assert_int_equal(receive(q, 10, -1).n, 0);
    assert_int_equal(depth(dlq).visible, 5);
    char msg[1024];
    struct res r = {0};
    /* the source must be a dead-letter queue */
    assert_int_equal(sqs_start_move_task(sq, S(sqs_queue_arn(q)), S(NULL), false, 0, on_done, &r,
                                         msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_string_equal(msg, "Source queue must be configured as a Dead Letter Queue.");
    assert_int_equal(sqs_start_move_task(sq, S(sqs_queue_arn(dlq)), S(NULL), true, 2, on_done, &r,
                                         msg, sizeof msg),
                     ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_OK);
    assert_true(strlen(r.msg) > 10); /* the TaskHandle */
    char handle[512];
    snprintf(handle, sizeof handle, "%s", r.msg);
    assert_int_equal(sqs_start_move_task(sq, S(sqs_queue_arn(dlq)), S(NULL), false, 0, on_done, &r,
                                         msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    /* two a second */
    advance(1000);
    assert_int_equal(depth(dlq).visible, 3);
    assert_int_equal(depth(q).visible, 2);
    advance(1000);
    assert_int_equal(depth(q).visible, 4);
    /* redriven messages start over: a fresh receive count */
    struct res got = receive(q, 1, -1);
    assert_string_equal(got.m[0].count, "1");
    assert_string_equal(got.m[0].dlq_src, "");
    r = (struct res){0};
    assert_int_equal(sqs_cancel_move_task(sq, S(handle), on_done, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_string_equal(r.msg, "4");
    advance(5000);
    assert_int_equal(depth(dlq).visible, 1);
    assert_int_equal(sqs_cancel_move_task(sq, S("foobared"), on_done, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_string_equal(msg, "Value for parameter TaskHandle is invalid.");
}

static void test_commit_failure(void **state)
{
    (void)state;
    struct sqs_queue *q = create("fails", NULL, 0);
    struct sqs_send_entry e = {.body = S("lost")};
    struct res r = {0};
    char msg[1024];
    store_fail_commits(st, 1);
    assert_int_equal(sqs_send(q, &e, "me", on_send, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_INTERNAL);
    assert_int_equal(depth(q).visible, 0);
    send1(q, "kept");
    /* a failed receive leaves the message visible, its count unchanged */
    store_fail_commits(st, 1);
    struct res f = receive(q, 1, -1);
    assert_int_equal(f.e, ERR_INTERNAL);
    assert_int_equal(depth(q).visible, 1);
    struct res ok = receive(q, 1, -1);
    assert_string_equal(ok.m[0].count, "1");
    /* a failed delete keeps the message */
    store_fail_commits(st, 1);
    assert_int_equal(del(q, ok.m[0].receipt, NULL), ERR_INTERNAL);
    assert_int_equal(depth(q).in_flight, 1);
    assert_int_equal(del(q, ok.m[0].receipt, NULL), ERR_OK);
    /* a failed create leaves no queue */
    store_fail_commits(st, 1);
    struct sqs_create_req req = {.name = S("ghost")};
    r = (struct res){0};
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_INTERNAL);
    assert_null(sqs_queue_find(sq, "ghost", 5));
}

static void test_restart(void **state)
{
    (void)state;
    struct sqs_kv a[] = {KV("VisibilityTimeout", "60")};
    struct sqs_queue *q = create("durable", a, 1);
    struct sqs_kv fa[] = {KV("FifoQueue", "true")};
    struct sqs_queue *f = create("durable.fifo", fa, 1);
    send_ex(f, "f1", "g", "x", -1);
    send1(q, "one");
    send1(q, "two");
    send1(q, "three");
    struct res r = receive(q, 1, -1);
    assert_string_equal(r.m[0].body, "one");
    struct res r2 = receive(q, 1, -1);
    assert_int_equal(del(q, r2.m[0].receipt, NULL), ERR_OK);
    close_engine();
    open_engine();
    q = sqs_queue_find(sq, "durable", 7);
    assert_non_null(q);
    assert_int_equal(sqs_queue_attrs(q)->visibility_timeout, 60);
    assert_int_equal(depth(q).visible, 1);
    assert_int_equal(depth(q).in_flight, 1); /* still hidden after the restart */
    /* the handle of before the restart still works */
    assert_int_equal(change_vis(q, r.m[0].receipt, 0, NULL), ERR_OK);
    struct res r3 = receive(q, 10, -1);
    assert_int_equal(r3.n, 2);
    for (size_t i = 0; i < r3.n; i++)
        if (strcmp(r3.m[i].body, "one") == 0)
            assert_string_equal(r3.m[i].count, "2"); /* the count survived */
    /* FIFO dedup ids survive too */
    f = sqs_queue_find(sq, "durable.fifo", 12);
    send_ex(f, "f1 again", "g", "x", -1);
    assert_int_equal(depth(f).visible, 1);
    /* numbers are never reused */
    struct sqs_send_result s = send1(q, "four");
    struct res r4 = receive(q, 1, -1);
    assert_string_equal(r4.m[0].id, s.message_id);
    assert_string_not_equal(r4.m[0].receipt, r2.m[0].receipt);
}

/* Message attributes parsed from the JSON protocol's form. */
static void attrs_of(struct sqs_attrs *set, const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    char msg[512];
    sqs_attrs_init(set);
    assert_int_equal(sqs_attrs_parse_json(set, j, msg, sizeof msg), ERR_OK);
    json_decref(j);
}

/* MD5OfBody and MD5OfMessageAttributes are made at the send and at the load: every receive
 * (all attributes, some, none; before and after a restart) answers the body's MD5 and the
 * digest of what it selects. */
static void test_digests(void **state)
{
    (void)state;
    struct sqs_queue *q = create("digests", NULL, 0);
    static const char *const all_json = "{\"b\": {\"DataType\": \"String\", \"StringValue\":"
                                        " \"x\"}, \"a\": {\"DataType\": \"Number\","
                                        " \"StringValue\": \"1\"}}";
    struct sqs_attrs all, only_a;
    attrs_of(&all, all_json);
    attrs_of(&only_a, "{\"a\": {\"DataType\": \"Number\", \"StringValue\": \"1\"}}");
    char md5_all[SQS_MD5_HEX_LEN + 1], md5_a[SQS_MD5_HEX_LEN + 1];
    assert_true(sqs_md5_attrs(&all, UINT32_MAX, md5_all));
    assert_true(sqs_md5_attrs(&only_a, UINT32_MAX, md5_a));
    assert_string_not_equal(md5_all, md5_a);

    struct res r = {0};
    struct sqs_send_entry e = {.body = S("Test message."), .attrs = &all};
    char msg[1024];
    assert_int_equal(sqs_send(q, &e, "AIDATEST", on_send, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_OK);
    assert_string_equal(r.sr[0].md5_body, "e4e68fb7bd0e697a0ae8f1bb342846b3");
    assert_string_equal(r.sr[0].md5_attrs, md5_all);
    send1(q, "plain");

    static const struct sqs_str A[] = {{"a", 1}};
    for (int round = 0; round < 2; round++) {
        struct res got = receive_names(q, 10, 0, 0, NULL, ALL, 1);
        assert_int_equal(got.n, 2);
        for (size_t i = 0; i < got.n; i++) {
            bool test = strcmp(got.m[i].body, "Test message.") == 0;
            char md5[SQS_MD5_HEX_LEN + 1];
            sqs_md5_hex(got.m[i].body, strlen(got.m[i].body), md5);
            assert_string_equal(got.m[i].md5_body, md5);
            assert_string_equal(got.m[i].md5_attrs, test ? md5_all : "");
        }
        got = receive_names(q, 10, 0, 0, NULL, A, 1);
        assert_int_equal(got.n, 2);
        for (size_t i = 0; i < got.n; i++) {
            bool test = strcmp(got.m[i].body, "Test message.") == 0;
            assert_string_equal(got.m[i].md5_attrs, test ? md5_a : "");
        }
        got = receive_names(q, 10, 0, 0, NULL, NULL, 0);
        assert_int_equal(got.n, 2);
        assert_string_equal(got.m[0].md5_attrs, "");
        assert_string_equal(got.m[1].md5_attrs, "");
        /* the digests the load makes are the same */
        close_engine();
        open_engine();
        q = sqs_queue_find(sq, "digests", 7);
        assert_non_null(q);
    }
    sqs_attrs_destroy(&all);
    sqs_attrs_destroy(&only_a);
}

static void emit_tag(void *arg, const char *k, const char *v)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s=%s;", k, v);
}

static void test_tags_and_attributes(void **state)
{
    (void)state;
    struct sqs_kv t[] = {KV("env", "dev"), KV("team", "core")};
    struct sqs_create_req req = {.name = S("tagged"), .tags = t, .ntags = 2};
    struct res r = {0};
    char msg[1024];
    assert_int_equal(sqs_create_queue(sq, &req, on_queue, &r, msg, sizeof msg), ERR_OK);
    settle();
    struct sqs_queue *q = r.q;
    char out[256] = "";
    sqs_list_tags(q, emit_tag, out);
    assert_string_equal(out, "env=dev;team=core;");
    struct sqs_str keys[] = {S("env")};
    assert_int_equal(sqs_untag_queue(q, keys, 1, on_done, &r, msg, sizeof msg), ERR_OK);
    settle();
    out[0] = '\0';
    sqs_list_tags(q, emit_tag, out);
    assert_string_equal(out, "team=core;");
    struct sqs_str names[] = {S("Foobar")};
    assert_int_equal(sqs_get_attributes(q, names, 1, NULL, NULL, msg, sizeof msg),
                     ERR_SQS_INVALID_ATTRIBUTE_NAME);
    assert_string_equal(msg, "Unknown Attribute Foobar.");
    /* permissions edit the policy */
    struct sqs_str acct[] = {S("123456789012")}, act[] = {S("SendMessage")};
    assert_int_equal(sqs_add_permission(q, S("p1"), acct, 1, act, 1, on_done, &r, msg, sizeof msg),
                     ERR_OK);
    settle();
    assert_non_null(sqs_queue_attrs(q)->policy);
    assert_int_equal(sqs_add_permission(q, S("p1"), acct, 1, act, 1, on_done, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
    assert_string_equal(msg, "Value p1 for parameter Label is invalid. Reason: Already exists.");
    assert_int_equal(sqs_remove_permission(q, S("p1"), on_done, &r, msg, sizeof msg), ERR_OK);
    settle();
    assert_null(sqs_queue_attrs(q)->policy);
    assert_int_equal(sqs_remove_permission(q, S("p1"), on_done, &r, msg, sizeof msg),
                     ERR_SQS_INVALID_PARAMETER_VALUE);
}

static void test_list_queues(void **state)
{
    (void)state;
    const char *names[] = {"a1", "a2", "a3", "b1"};
    for (int i = 0; i < 4; i++)
        create(names[i], NULL, 0);
    char next[SQS_URL_MAX], msg[1024];
    int n = 0;
    assert_int_equal(sqs_list_queues(sq, S("a"), true, 2, S(NULL), emit, &n, next, msg, sizeof msg),
                     ERR_OK);
    assert_int_equal(n, 2);
    assert_true(next[0] != '\0');
    char tok[SQS_URL_MAX];
    snprintf(tok, sizeof tok, "%s", next);
    n = 0;
    assert_int_equal(sqs_list_queues(sq, S("a"), true, 2, S(tok), emit, &n, next, msg, sizeof msg),
                     ERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(next, "");
    n = 0;
    assert_int_equal(
        sqs_list_queues(sq, S(NULL), false, 0, S(NULL), emit, &n, next, msg, sizeof msg), ERR_OK);
    assert_int_equal(n, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_idempotence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_receive_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_visibility, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_visibility_receive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_waiters_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redrive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redrive_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_content_dedup_and_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_redrive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_digests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags_and_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_queues, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
