/*
 * test_events_engine.c — the EventBridge engine on a temporary store and the manual clock:
 * schedules firing once per due time with that time in the event, rate anchors, cron,
 * enable/disable, restarts (rules, targets and pending deliveries survive; missed fires are
 * not replayed), PutEvents matching with input options, retries with backoff within the
 * RetryPolicy, dead letters with AWS's attributes, a store that fails its commits, limits,
 * and Lambda targets through a real Lambda engine (its Event queue).
 *
 * SQS is a fake host: queues whose ARN contains "flaky" fail retriably, "missing"
 * permanently, others accept; every send completes later, from a TIMER_REAL timer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloud/events/events.h"
#include "cloud/lambda/lambda.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timer.h"
#include "test_lambda_host.h"

#define T0      1767225600000LL /* 2026-01-01T00:00:00Z */
#define MINUTE  60000LL
#define DAY     86400000LL
#define ACCOUNT "000000000000"
#define REGION  "eu-west-1"
#define QUEUE   "arn:aws:sqs:eu-west-1:000000000000:q"
#define FLAKY   "arn:aws:sqs:eu-west-1:000000000000:flaky"
#define MISSING "arn:aws:sqs:eu-west-1:000000000000:missing"
#define DLQ     "arn:aws:sqs:eu-west-1:000000000000:dlq"

/* ---- the fake SQS ---- */

enum { MAX_SENT = 2048 };

struct sent {
    char queue[128];
    char *body;
    char attrs[1024]; /* "NAME=value;..." */
    int64_t at;       /* clock when sent */
};

static struct sent sent[MAX_SENT];
static int nsent;
static bool flaky_heals; /* "flaky" queues accept from now on */

struct pending_send {
    struct timer t;
    events_sent_fn done;
    void *arg;
    enum events_outcome o;
};

static void send_later(struct timer *t)
{
    struct pending_send *p = t->data;
    p->done(p->arg, p->o, p->o == EVENTS_SENT ? NULL : "CONNECTION_FAILURE",
            p->o == EVENTS_SENT ? NULL : "the queue did not answer");
    timer_destroy(&p->t);
    free(p);
}

static void fake_send(void *arg, const struct events_sqs_message *m, events_sent_fn done,
                      void *done_arg)
{
    (void)arg;
    assert_true(nsent < MAX_SENT);
    struct sent *s = &sent[nsent++];
    snprintf(s->queue, sizeof s->queue, "%s", m->queue_arn);
    s->body = strndup(m->body, m->len);
    s->attrs[0] = '\0';
    for (size_t i = 0; i < m->nattrs; i++) {
        size_t n = strlen(s->attrs);
        snprintf(s->attrs + n, sizeof s->attrs - n, "%s=%s;", m->attrs[i].name, m->attrs[i].value);
    }
    s->at = clock_now_ms();
    struct pending_send *p = calloc(1, sizeof *p);
    assert_non_null(p);
    assert_int_equal(timer_init(&p->t, TIMER_REAL, send_later, p), 0);
    p->done = done;
    p->arg = done_arg;
    p->o = EVENTS_SENT;
    if (strstr(m->queue_arn, "flaky") && !flaky_heals)
        p->o = EVENTS_RETRIABLE;
    if (strstr(m->queue_arn, "missing"))
        p->o = EVENTS_PERMANENT;
    timer_start(&p->t, 0);
}

static void clear_sent(void)
{
    for (int i = 0; i < nsent; i++)
        free(sent[i].body);
    nsent = 0;
    flaky_heals = false;
}

static int count_sent(const char *queue)
{
    int n = 0;
    for (int i = 0; i < nsent; i++)
        n += strcmp(sent[i].queue, queue) == 0;
    return n;
}

/* ---- fixture ---- */

static char dir[128];
static struct store *st;
static struct events *ev;

static struct events *open_engine(struct lambda *lm)
{
    char err[256];
    struct events_options o = {REGION, ACCOUNT};
    struct events *e = events_new(&o, st, lm, err, sizeof err);
    assert_non_null(e);
    struct events_host h = {NULL, fake_send};
    events_set_host(e, &h);
    events_restore(e);
    return e;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/haar-test-events-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char err[256];
    st = store_open(dir, err, sizeof err);
    assert_non_null(st);
    clock_set_manual(T0);
    clear_sent();
    log_set_level(LOG_LEVEL_ERROR);
    ev = open_engine(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    store_flush(st);
    events_free(ev);
    ev = NULL;
    store_close(st);
    st = NULL;
    clear_sent();
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    clock_set_real();
    return 0;
}

/* Runs commits and deferred completions until nothing is left to run. */
static void settle(void)
{
    for (int i = 0; i < 100; i++) {
        store_flush(st);
        if (timer_run_due() == 0) {
            store_flush(st);
            if (timer_run_due() == 0)
                return;
        }
    }
    fail_msg("settle: still busy after 100 rounds");
}

/* Moves the clock to `at` (epoch ms), then settles. */
static void advance_to(int64_t at)
{
    assert_true(timer_advance(at) >= 0);
    settle();
}

struct result {
    int calls;
    enum err e;
    char msg[512];
};

static void on_done(void *arg, enum err e, const char *msg)
{
    struct result *r = arg;
    r->calls++;
    r->e = e;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
}

/* Runs a command; expects it accepted, then its completion with `want`. */
#define RUN(want, call)                                                                            \
    do {                                                                                           \
        struct result res_ = {0};                                                                  \
        char msg_[512] = "";                                                                       \
        struct result *R = &res_;                                                                  \
        char *M = msg_;                                                                            \
        size_t ML = sizeof msg_;                                                                   \
        enum err e_ = (call);                                                                      \
        if (e_ != ERR_OK)                                                                          \
            fail_msg("%s refused: %s %s", #call, err_name(e_), msg_);                              \
        assert_int_equal(res_.calls, 0); /* never from inside the call */                          \
        settle();                                                                                  \
        assert_int_equal(res_.calls, 1);                                                           \
        if (res_.e != (want))                                                                      \
            fail_msg("%s completed with %s %s", #call, err_name(res_.e), res_.msg);                \
        (void)M;                                                                                   \
        (void)ML;                                                                                  \
        (void)R;                                                                                   \
    } while (0)

static enum err put_rule(const char *bus, const char *name, const char *pattern,
                         const char *schedule, const char *state, char *msg, size_t msglen,
                         struct result *r)
{
    struct events_rule_spec s = {
        .bus = bus, .name = name, .pattern = pattern, .schedule = schedule, .state = state};
    return events_put_rule(ev, &s, msg, msglen, on_done, r);
}

static enum err put_target(const char *rule, const char *json, char *msg, size_t msglen,
                           struct result *r)
{
    json_t *t = json_loads(json, 0, NULL);
    assert_non_null(t);
    json_t *arr = json_pack("[o]", t);
    enum err e = events_put_targets(ev, NULL, rule, arr, msg, msglen, on_done, r);
    json_decref(arr);
    return e;
}

/* A rule (pattern and/or schedule) with one target, both durable. */
static void rule_with_target(const char *name, const char *pattern, const char *schedule,
                             const char *target)
{
    RUN(ERR_OK, put_rule(NULL, name, pattern, schedule, NULL, M, ML, R));
    RUN(ERR_OK, put_target(name, target, M, ML, R));
}

static json_t *body_json(int i)
{
    json_t *j = json_loads(sent[i].body, 0, NULL);
    if (j == NULL)
        fail_msg("message %d is not JSON: %s", i, sent[i].body);
    return j;
}

/* ---- schedules ---- */

static void test_rate_fires_once_per_due_time_for_a_day(void **state)
{
    (void)state;
    rule_with_target("five", NULL, "rate(5 minutes)", "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    assert_int_equal(timer_advance(T0 + DAY), 288); /* one timer per fire, nothing else */
    settle();
    assert_int_equal(nsent, 288);
    for (int i = 0; i < nsent; i++) {
        json_t *j = body_json(i);
        char want[32];
        clock_format_iso(T0 + (i + 1) * 5 * MINUTE, false, want, sizeof want);
        assert_string_equal(jsonh_str(j, "time", ""), want);
        assert_string_equal(jsonh_str(j, "detail-type", ""), "Scheduled Event");
        assert_string_equal(jsonh_str(j, "source", ""), "aws.events");
        assert_string_equal(jsonh_str(j, "account", ""), ACCOUNT);
        assert_string_equal(jsonh_str(j, "region", ""), REGION);
        assert_string_equal(json_string_value(json_array_get(json_object_get(j, "resources"), 0)),
                            "arn:aws:events:eu-west-1:000000000000:rule/five");
        assert_int_equal(json_object_size(json_object_get(j, "detail")), 0);
        json_decref(j);
    }
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.fired, 288);
    assert_int_equal(s.delivered, 288);
    assert_int_equal(s.pending, 0);
    json_t *h = events_health_json(ev); /* /_haar/health's summary */
    long long v = -1;
    assert_int_equal(jsonh_int(h, "fired", &v), 1);
    assert_int_equal(v, 288);
    assert_int_equal(jsonh_int(h, "schedules", &v), 1);
    assert_int_equal(v, 1);
    assert_int_equal(jsonh_int(json_object_get(h, "deliveries"), "delivered", &v), 1);
    assert_int_equal(v, 288);
    assert_int_equal(jsonh_int(h, "missed", &v), 1);
    assert_int_equal(v, 0);
    json_decref(h);
}

static void test_rate_anchors_at_creation(void **state)
{
    (void)state;
    advance_to(T0 + 17000); /* the rule is made 17 s after the hour */
    rule_with_target("anchored", NULL, "rate(1 hour)", "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    struct events_rule_info info;
    assert_true(events_rule_get(ev, NULL, "anchored", &info));
    assert_int_equal(info.next_fire_ms, T0 + 17000 + 60 * MINUTE);
    advance_to(T0 + 3 * 60 * MINUTE);
    assert_int_equal(nsent, 2);
    json_t *j = body_json(1);
    assert_string_equal(jsonh_str(j, "time", ""), "2026-01-01T02:00:17Z");
    json_decref(j);
}

static void test_cron_and_disable_enable(void **state)
{
    (void)state;
    rule_with_target("weekday", NULL, "cron(0 9 ? * MON-FRI *)",
                     "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    /* 2026-01-01 is a Thursday: Thu, Fri, then Mon..Wed */
    for (int d = 1; d <= 7; d++)
        advance_to(T0 + d * DAY);
    assert_int_equal(nsent, 5);
    const char *want[] = {"2026-01-01T09:00:00Z", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z",
                          "2026-01-06T09:00:00Z", "2026-01-07T09:00:00Z"};
    for (int i = 0; i < 5; i++) {
        json_t *j = body_json(i);
        assert_string_equal(jsonh_str(j, "time", ""), want[i]);
        json_decref(j);
    }
    RUN(ERR_OK, events_set_rule_state(ev, NULL, "weekday", false, M, ML, on_done, R));
    struct events_rule_info info;
    assert_true(events_rule_get(ev, NULL, "weekday", &info));
    assert_string_equal(info.state, "DISABLED");
    assert_int_equal(info.next_fire_ms, -1);
    advance_to(T0 + 14 * DAY);
    assert_int_equal(nsent, 5);
    RUN(ERR_OK, events_set_rule_state(ev, NULL, "weekday", true, M, ML, on_done, R));
    advance_to(T0 + 15 * DAY);
    assert_int_equal(nsent, 6);
}

static void test_a_long_clock_move_sends_its_last_day(void **state)
{
    (void)state;
    rule_with_target("hourly", NULL, "rate(1 hour)", "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    /* a year in one move: every fire runs, the deliveries of the last day go out */
    assert_int_equal(timer_advance(T0 + 365 * DAY), 365 * 24);
    settle();
    assert_int_equal(nsent, 24);
    json_t *first = body_json(0), *last = body_json(23);
    assert_string_equal(jsonh_str(first, "time", ""), "2026-12-31T01:00:00Z");
    assert_string_equal(jsonh_str(last, "time", ""), "2027-01-01T00:00:00Z");
    json_decref(first);
    json_decref(last);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.missed, 365 * 24 - 24);
    assert_int_equal(s.fired, 24);
    /* a minute rule keeps at most a day of minutes waiting */
    rule_with_target("minutely", NULL, "rate(1 minute)", "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    clear_sent();
    advance_to(T0 + 365 * DAY + 2 * DAY);
    assert_int_equal(count_sent(QUEUE), 1440 + 24); /* a day of each */
}

static void test_trigger_fires_now(void **state)
{
    (void)state;
    rule_with_target("manual", NULL, "rate(1 day)", "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    advance_to(T0 + 90500);
    int64_t when;
    size_t n;
    char msg[256];
    assert_int_equal(events_trigger(ev, NULL, "manual", &when, &n, msg, sizeof msg), ERR_OK);
    assert_int_equal(when, T0 + 90000);
    assert_int_equal(n, 1);
    settle();
    assert_int_equal(nsent, 1);
    json_t *j = body_json(0);
    assert_string_equal(jsonh_str(j, "time", ""), "2026-01-01T00:01:30Z");
    json_decref(j);
    assert_int_equal(events_trigger(ev, NULL, "nope", &when, &n, msg, sizeof msg),
                     ERR_EVENTS_NOT_FOUND);
    assert_string_equal(msg, "Rule nope does not exist on EventBus default.");
}

/* ---- restarts ---- */

static void test_restart_keeps_rules_and_does_not_replay(void **state)
{
    (void)state;
    rule_with_target("five", NULL, "rate(5 minutes)",
                     "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\",\"Input\":\"{\\\"k\\\":1}\"}");
    RUN(ERR_OK, put_rule(NULL, "pat", "{\"source\":[\"a\"]}", NULL, "DISABLED", M, ML, R));
    advance_to(T0 + 10 * MINUTE);
    assert_int_equal(nsent, 2);
    /* the daemon stops; 57 minutes pass; it starts again */
    events_free(ev);
    clock_set_manual(T0 + 67 * MINUTE);
    ev = open_engine(NULL);
    struct events_rule_info info;
    assert_true(events_rule_get(ev, NULL, "pat", &info));
    assert_string_equal(info.state, "DISABLED");
    assert_string_equal(info.pattern, "{\"source\":[\"a\"]}");
    assert_true(events_rule_get(ev, NULL, "five", &info));
    assert_int_equal(info.ntargets, 1);
    assert_string_equal(jsonh_str(info.targets[0], "Input", ""), "{\"k\":1}");
    assert_int_equal(info.next_fire_ms, T0 + 70 * MINUTE); /* still on the creation anchor */
    settle();
    assert_int_equal(nsent, 2); /* nothing replayed */
    advance_to(T0 + 70 * MINUTE);
    assert_int_equal(nsent, 3);
    assert_string_equal(sent[2].body, "{\"k\":1}");
}

static void test_pending_deliveries_survive_a_restart(void **state)
{
    (void)state;
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL, "{\"Id\":\"f\",\"Arn\":\"" FLAKY "\"}");
    struct events_entry e = {.source = "app", .detail_type = "t", .time_ms = -1};
    json_t *detail = json_pack("{s:i}", "n", 7);
    e.detail = detail;
    struct result r = {0};
    assert_true(events_put_events(ev, &e, 1, on_done, &r));
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.e, ERR_OK);
    assert_int_equal(count_sent(FLAKY), 1); /* failed; a retry waits 1 s */
    events_free(ev);
    ev = open_engine(NULL);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.pending, 1);
    flaky_heals = true;
    advance_to(T0 + 1000);
    assert_int_equal(count_sent(FLAKY), 2);
    json_t *j = body_json(1);
    assert_string_equal(jsonh_str(j, "id", ""), e.id);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "detail"), "n")), 7);
    json_decref(j);
    events_get_stats(ev, &s);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.delivered, 1);
    /* and nothing is left in the store */
    events_free(ev);
    ev = open_engine(NULL);
    events_get_stats(ev, &s);
    assert_int_equal(s.pending, 0);
    json_decref(detail);
}

/* ---- events and patterns ---- */

static void test_put_events_matches_and_transforms(void **state)
{
    (void)state;
    rule_with_target("orders",
                     "{\"source\":[\"shop\"],\"detail\":{\"total\":[{\"numeric\":[\">\",100]}]}}",
                     NULL,
                     "{\"Id\":\"t\",\"Arn\":\"" QUEUE "\",\"InputTransformer\":{\"InputPathsMap\":"
                     "{\"total\":\"$.detail.total\",\"who\":\"$.detail.customer\"},"
                     "\"InputTemplate\":\"{\\\"big\\\": <total>, \\\"for\\\": \\\"<who>\\\", "
                     "\\\"rule\\\": \\\"<aws.events.rule-name>\\\"}\"}}");
    /* a rule the index cannot narrow: always tried */
    rule_with_target("prefixed", "{\"source\":[{\"prefix\":\"sh\"}]}", NULL,
                     "{\"Id\":\"p\",\"Arn\":\"" QUEUE "\",\"InputPath\":\"$.detail\"}");
    json_t *big = json_pack("{s:i, s:s}", "total", 250, "customer", "ann");
    json_t *small = json_pack("{s:i, s:s}", "total", 5, "customer", "bob");
    struct events_entry e[3] = {
        {.source = "shop", .detail_type = "Order", .detail = big, .time_ms = T0 + 5000},
        {.source = "shop", .detail_type = "Order", .detail = small, .time_ms = -1},
        {.source = "other", .detail_type = "Order", .detail = big, .time_ms = -1},
    };
    struct result r = {0};
    assert_true(events_put_events(ev, e, 3, on_done, &r));
    assert_int_equal(r.calls, 0);
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.e, ERR_OK);
    assert_int_not_equal(strcmp(e[0].id, e[1].id), 0);
    assert_int_equal(nsent, 3);
    int big_seen = 0, paths = 0;
    for (int i = 0; i < nsent; i++) {
        if (strstr(sent[i].body, "\"big\"")) {
            assert_string_equal(sent[i].body, "{\"big\":250,\"for\":\"ann\",\"rule\":\"orders\"}");
            big_seen++;
        } else {
            json_t *j = body_json(i);
            assert_non_null(json_object_get(j, "customer"));
            json_decref(j);
            paths++;
        }
    }
    assert_int_equal(big_seen, 1);
    assert_int_equal(paths, 2);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.matched, 3);
    /* nothing matches: answered at once, done never called */
    struct events_entry none = {
        .source = "nobody", .detail_type = "x", .detail = small, .time_ms = -1};
    struct result r2 = {0};
    assert_false(events_put_events(ev, &none, 1, on_done, &r2));
    settle();
    assert_int_equal(r2.calls, 0);
    assert_int_equal((int)strlen(none.id), 36);
    /* a bus that does not exist takes events silently */
    none.bus = "no-such-bus";
    assert_false(events_put_events(ev, &none, 1, on_done, &r2));
    json_decref(big);
    json_decref(small);
}

static void test_whole_event_shape(void **state)
{
    (void)state;
    rule_with_target("all", "{\"detail-type\":[\"Ping\"]}", NULL,
                     "{\"Id\":\"t\",\"Arn\":\"" QUEUE "\"}");
    json_t *detail = json_pack("{s:s}", "k", "v");
    json_t *res = json_pack("[s]", "arn:aws:s3:::b");
    struct events_entry e = {.source = "s",
                             .detail_type = "Ping",
                             .detail = detail,
                             .resources = res,
                             .time_ms = 1795608000000LL};
    assert_true(events_put_events(ev, &e, 1, NULL, NULL));
    settle();
    assert_int_equal(nsent, 1);
    char want[512];
    snprintf(want, sizeof want,
             "{\"version\":\"0\",\"id\":\"%s\",\"detail-type\":\"Ping\",\"source\":\"s\","
             "\"account\":\"000000000000\",\"time\":\"2026-11-25T12:00:00Z\",\"region\":"
             "\"eu-west-1\",\"resources\":[\"arn:aws:s3:::b\"],\"detail\":{\"k\":\"v\"}}",
             e.id);
    assert_string_equal(sent[0].body, want);
    json_decref(detail);
    json_decref(res);
}

/* ---- retries and dead letters ---- */

static void test_retries_then_dead_letter(void **state)
{
    (void)state;
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL,
                     "{\"Id\":\"f\",\"Arn\":\"" FLAKY
                     "\",\"RetryPolicy\":{\"MaximumRetryAttempts\":"
                     "3},\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}}");
    json_t *detail = json_object();
    struct events_entry e = {.source = "app", .detail_type = "t", .detail = detail, .time_ms = -1};
    assert_true(events_put_events(ev, &e, 1, NULL, NULL));
    settle();
    assert_int_equal(count_sent(FLAKY), 1);
    /* retries 1 s, 2 s and 4 s after each failure: at +1, +3 and +7 s */
    advance_to(T0 + 999);
    assert_int_equal(count_sent(FLAKY), 1);
    advance_to(T0 + 1000);
    assert_int_equal(count_sent(FLAKY), 2);
    advance_to(T0 + 2999);
    assert_int_equal(count_sent(FLAKY), 2);
    advance_to(T0 + 3000);
    assert_int_equal(count_sent(FLAKY), 3);
    advance_to(T0 + 7000);
    assert_int_equal(count_sent(FLAKY), 4);
    assert_int_equal(count_sent(DLQ), 1);
    const struct sent *d = &sent[nsent - 1];
    assert_string_equal(d->queue, DLQ);
    assert_non_null(strstr(d->body, e.id));
    assert_non_null(strstr(d->attrs, "RULE_ARN=arn:aws:events:eu-west-1:000000000000:rule/r;"));
    assert_non_null(strstr(d->attrs, "TARGET_ARN=" FLAKY ";"));
    assert_non_null(strstr(d->attrs, "ERROR_CODE=CONNECTION_FAILURE;"));
    assert_non_null(strstr(d->attrs, "RETRY_ATTEMPTS=3;"));
    assert_non_null(strstr(d->attrs, "EXHAUSTED_RETRY_CONDITION=MaximumRetryAttempts;"));
    advance_to(T0 + DAY);
    assert_int_equal(count_sent(FLAKY), 4);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.retried, 3);
    assert_int_equal(s.dead_lettered, 1);
    assert_int_equal(s.pending, 0);
    json_decref(detail);
}

static void test_retries_stop_at_the_maximum_age(void **state)
{
    (void)state;
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL,
                     "{\"Id\":\"f\",\"Arn\":\"" FLAKY "\",\"RetryPolicy\":{"
                     "\"MaximumEventAgeInSeconds\":60},\"DeadLetterConfig\":{\"Arn\":\"" DLQ
                     "\"}}");
    json_t *detail = json_object();
    struct events_entry e = {.source = "app", .detail_type = "t", .detail = detail, .time_ms = -1};
    assert_true(events_put_events(ev, &e, 1, NULL, NULL));
    settle();
    /* each failure is known after the attempt (a completion, not a clock timer): step */
    for (int i = 1; i <= 120; i++)
        advance_to(T0 + i * 1000);
    /* attempts at 0, 1, 3, 7, 15, 31 s; the next (63 s) is past a minute: given up at 31 s */
    assert_int_equal(count_sent(FLAKY), 6);
    assert_int_equal(count_sent(DLQ), 1);
    assert_non_null(
        strstr(sent[nsent - 1].attrs, "EXHAUSTED_RETRY_CONDITION=MaximumEventAgeInSeconds;"));
    assert_non_null(strstr(sent[nsent - 1].attrs, "RETRY_ATTEMPTS=5;"));
    assert_int_equal(sent[nsent - 1].at, T0 + 31000);
    json_decref(detail);
}

static void test_permanent_failure_goes_straight_to_the_dlq(void **state)
{
    (void)state;
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL,
                     "{\"Id\":\"fn\",\"Arn\":\"arn:aws:lambda:eu-west-1:000000000000:function:"
                     "nope\",\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}}");
    RUN(ERR_OK, put_target("r", "{\"Id\":\"m\",\"Arn\":\"" MISSING "\"}", M, ML, R));
    json_t *detail = json_object();
    struct events_entry e = {.source = "app", .detail_type = "t", .detail = detail, .time_ms = -1};
    assert_true(events_put_events(ev, &e, 1, NULL, NULL));
    settle();
    advance_to(T0 + DAY);
    assert_int_equal(count_sent(DLQ), 1); /* no Lambda engine: NO_RESOURCE, no retry */
    const struct sent *d = NULL;
    for (int i = 0; i < nsent; i++)
        if (strcmp(sent[i].queue, DLQ) == 0)
            d = &sent[i];
    assert_non_null(strstr(d->attrs, "ERROR_CODE=NO_RESOURCE;"));
    assert_non_null(
        strstr(d->attrs, "ERROR_MESSAGE=Function not found: "
                         "arn:aws:lambda:eu-west-1:000000000000:function:nope;RETRY_ATTEMPTS=0;"));
    assert_null(strstr(d->attrs, "EXHAUSTED_RETRY_CONDITION"));
    assert_int_equal(count_sent(MISSING), 1); /* permanent, no DLQ: dropped */
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.retried, 0);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(s.dead_lettered, 1);
    json_decref(detail);
}

static void test_without_sqs_retried_then_dropped(void **state)
{
    (void)state;
    events_set_host(ev, NULL);
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL,
                     "{\"Id\":\"q\",\"Arn\":\"" QUEUE
                     "\",\"RetryPolicy\":{\"MaximumRetryAttempts\":"
                     "2},\"DeadLetterConfig\":{\"Arn\":\"" DLQ "\"}}");
    json_t *detail = json_object();
    struct events_entry e = {.source = "app", .detail_type = "t", .detail = detail, .time_ms = -1};
    assert_true(events_put_events(ev, &e, 1, NULL, NULL));
    settle();
    advance_to(T0 + DAY);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.retried, 2);
    assert_int_equal(s.dlq_failed, 1);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(s.pending, 0);
    assert_int_equal(nsent, 0);
    json_decref(detail);
}

static void test_removed_target_ends_its_deliveries(void **state)
{
    (void)state;
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL, "{\"Id\":\"f\",\"Arn\":\"" FLAKY "\"}");
    json_t *detail = json_object();
    struct events_entry e = {.source = "app", .detail_type = "t", .detail = detail, .time_ms = -1};
    assert_true(events_put_events(ev, &e, 1, NULL, NULL));
    settle();
    json_t *ids = json_pack("[s]", "f");
    RUN(ERR_OK, events_remove_targets(ev, NULL, "r", ids, M, ML, on_done, R));
    advance_to(T0 + DAY);
    assert_int_equal(count_sent(FLAKY), 1);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.pending, 0);
    assert_int_equal(s.dropped, 1);
    RUN(ERR_OK, events_delete_rule(ev, NULL, "r", M, ML, on_done, R));
    json_decref(ids);
    json_decref(detail);
}

/* ---- commands: validation, limits, failures ---- */

static void test_rule_commands_and_errors(void **state)
{
    (void)state;
    char msg[512];
    struct result r = {0};
    assert_int_equal(put_rule(NULL, "x", NULL, NULL, NULL, msg, sizeof msg, &r),
                     ERR_EVENTS_VALIDATION);
    assert_string_equal(msg, "Parameter(s) EventPattern or ScheduleExpression must be specified.");
    assert_int_equal(put_rule(NULL, "x", NULL, "rate(1 minutes)", NULL, msg, sizeof msg, &r),
                     ERR_EVENTS_VALIDATION);
    assert_string_equal(msg, "Parameter ScheduleExpression is not valid.");
    assert_int_equal(put_rule(NULL, "x", "{\"a\":1}", NULL, NULL, msg, sizeof msg, &r),
                     ERR_EVENTS_INVALID_PATTERN);
    assert_non_null(strstr(msg, "Event pattern is not valid. Reason: "));
    assert_int_equal(put_rule("nobus", "x", "{\"a\":[1]}", NULL, NULL, msg, sizeof msg, &r),
                     ERR_EVENTS_NOT_FOUND);
    assert_string_equal(msg, "Event bus nobus does not exist.");
    RUN(ERR_OK, events_create_bus(ev, "custom", NULL, M, ML, on_done, R));
    assert_int_equal(events_create_bus(ev, "custom", NULL, msg, sizeof msg, on_done, &r),
                     ERR_EVENTS_ALREADY_EXISTS);
    assert_string_equal(msg, "Event bus custom already exists.");
    assert_int_equal(put_rule("custom", "x", NULL, "rate(1 minute)", NULL, msg, sizeof msg, &r),
                     ERR_EVENTS_VALIDATION);
    assert_string_equal(msg, "ScheduleExpression is supported only on the default event bus.");
    RUN(ERR_OK, put_rule("custom", "x", "{\"a\":[1]}", NULL, NULL, M, ML, R));
    struct events_rule_info info;
    assert_true(events_rule_get(ev, "custom", "x", &info));
    assert_string_equal(info.arn, "arn:aws:events:eu-west-1:000000000000:rule/custom/x");
    assert_int_equal(events_delete_bus(ev, "default", msg, sizeof msg, on_done, &r),
                     ERR_EVENTS_VALIDATION);
    assert_string_equal(msg, "Cannot delete event bus default.");
    /* targets: a sixth is too many, and the rule cannot go while it has any */
    RUN(ERR_OK, put_rule(NULL, "t", "{\"a\":[1]}", NULL, NULL, M, ML, R));
    json_t *five = json_array();
    for (int i = 0; i < 5; i++)
        json_array_append_new(
            five, json_pack("{s:s, s:s}", "Id", (char[]){(char)('a' + i), 0}, "Arn", QUEUE));
    RUN(ERR_OK, events_put_targets(ev, NULL, "t", five, M, ML, on_done, R));
    assert_int_equal(put_target("t", "{\"Id\":\"z\",\"Arn\":\"" QUEUE "\"}", msg, sizeof msg, &r),
                     ERR_EVENTS_LIMIT_EXCEEDED);
    assert_string_equal(msg, "The requested resource exceeds the maximum number allowed.");
    RUN(ERR_OK, put_target("t", "{\"Id\":\"c\",\"Arn\":\"" DLQ "\"}", M, ML, R)); /* replaces c */
    assert_true(events_rule_get(ev, NULL, "t", &info));
    assert_int_equal(info.ntargets, 5);
    assert_string_equal(jsonh_str(info.targets[2], "Arn", ""), DLQ);
    assert_int_equal(events_delete_rule(ev, NULL, "t", msg, sizeof msg, on_done, &r),
                     ERR_EVENTS_VALIDATION);
    assert_string_equal(msg, "Rule can't be deleted since it has targets.");
    assert_int_equal(put_target("t",
                                "{\"Id\":\"i\",\"Arn\":\"" QUEUE "\",\"Input\":\"{}\","
                                "\"InputPath\":\"$\"}",
                                msg, sizeof msg, &r),
                     ERR_EVENTS_VALIDATION);
    assert_string_equal(msg, "Only one of Input, InputPath, or InputTransformer must be provided "
                             "for target i.");
    /* PutRule replaces what it is given and keeps targets and tags */
    struct events_rule_spec s = {.name = "t", .schedule = "rate(2 hours)", .description = "d"};
    RUN(ERR_OK, events_put_rule(ev, &s, M, ML, on_done, R));
    assert_true(events_rule_get(ev, NULL, "t", &info));
    assert_null(info.pattern);
    assert_string_equal(info.schedule, "rate(2 hours)");
    assert_string_equal(info.description, "d");
    assert_int_equal(info.ntargets, 5);
    json_t *all = json_pack("[s,s,s,s,s]", "a", "b", "c", "d", "e");
    RUN(ERR_OK, events_remove_targets(ev, NULL, "t", all, M, ML, on_done, R));
    json_decref(all);
    RUN(ERR_OK, events_delete_rule(ev, NULL, "t", M, ML, on_done, R));
    assert_false(events_rule_get(ev, NULL, "t", &info));
    RUN(ERR_OK, events_delete_rule(ev, NULL, "never-was", M, ML, on_done, R));
    json_decref(five);
}

static void test_tags(void **state)
{
    (void)state;
    struct events_rule_spec s = {.name = "tagged", .pattern = "{\"a\":[1]}"};
    json_t *tags = json_pack("{s:s}", "team", "x");
    s.tags = tags;
    RUN(ERR_OK, events_put_rule(ev, &s, M, ML, on_done, R));
    const char *arn = "arn:aws:events:eu-west-1:000000000000:rule/tagged";
    char msg[256];
    const json_t *t = events_tags(ev, arn, msg, sizeof msg);
    assert_string_equal(jsonh_str(t, "team", ""), "x");
    json_t *more = json_pack("{s:s, s:s}", "env", "dev", "team", "y");
    RUN(ERR_OK, events_tag(ev, arn, more, M, ML, on_done, R));
    json_t *keys = json_pack("[s]", "env");
    RUN(ERR_OK, events_untag(ev, arn, keys, M, ML, on_done, R));
    t = events_tags(ev, arn, msg, sizeof msg);
    assert_int_equal(json_object_size(t), 1);
    assert_string_equal(jsonh_str(t, "team", ""), "y");
    assert_null(
        events_tags(ev, "arn:aws:events:eu-west-1:000000000000:rule/nope", msg, sizeof msg));
    assert_string_equal(msg, "Rule nope does not exist on EventBus default.");
    RUN(ERR_OK, events_tag(ev, "arn:aws:events:eu-west-1:000000000000:event-bus/default", more, M,
                           ML, on_done, R));
    struct events_bus_info b;
    assert_true(events_bus_get(ev, "default", &b));
    assert_string_equal(jsonh_str(b.tags, "env", ""), "dev");
    /* tags survive a restart */
    events_free(ev);
    ev = open_engine(NULL);
    t = events_tags(ev, arn, msg, sizeof msg);
    assert_string_equal(jsonh_str(t, "team", ""), "y");
    assert_true(events_bus_get(ev, "default", &b));
    assert_string_equal(jsonh_str(b.tags, "env", ""), "dev");
    json_decref(tags);
    json_decref(more);
    json_decref(keys);
}

static void test_failed_commits_are_undone(void **state)
{
    (void)state;
    struct result r = {0};
    char msg[256];
    settle(); /* the start's own writes are committed: the failure is the next commit's */
    store_fail_commits(st, 1);
    assert_int_equal(put_rule(NULL, "lost", "{\"a\":[1]}", NULL, NULL, msg, sizeof msg, &r),
                     ERR_OK);
    struct events_rule_info info;
    assert_true(events_rule_get(ev, NULL, "lost", &info)); /* visible while in flight */
    settle();
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.e, ERR_EVENTS_INTERNAL);
    assert_false(events_rule_get(ev, NULL, "lost", &info));
    /* an update that fails leaves the old rule */
    RUN(ERR_OK, put_rule(NULL, "kept", "{\"a\":[1]}", NULL, NULL, M, ML, R));
    store_fail_commits(st, 1);
    memset(&r, 0, sizeof r);
    assert_int_equal(put_rule(NULL, "kept", NULL, "rate(1 minute)", NULL, msg, sizeof msg, &r),
                     ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_EVENTS_INTERNAL);
    assert_true(events_rule_get(ev, NULL, "kept", &info));
    assert_string_equal(info.pattern, "{\"a\":[1]}");
    assert_null(info.schedule);
    assert_int_equal(info.next_fire_ms, -1);
    /* a delete that fails brings the rule back */
    store_fail_commits(st, 1);
    memset(&r, 0, sizeof r);
    assert_int_equal(events_delete_rule(ev, NULL, "kept", msg, sizeof msg, on_done, &r), ERR_OK);
    settle();
    assert_int_equal(r.e, ERR_EVENTS_INTERNAL);
    assert_true(events_rule_get(ev, NULL, "kept", &info));
    /* events whose deliveries cannot be stored are refused, and not delivered */
    rule_with_target("r", "{\"source\":[\"app\"]}", NULL, "{\"Id\":\"q\",\"Arn\":\"" QUEUE "\"}");
    json_t *detail = json_object();
    struct events_entry e = {.source = "app", .detail_type = "t", .detail = detail, .time_ms = -1};
    store_fail_commits(st, 1);
    memset(&r, 0, sizeof r);
    assert_true(events_put_events(ev, &e, 1, on_done, &r));
    settle();
    assert_int_equal(r.e, ERR_EVENTS_INTERNAL);
    assert_int_equal(nsent, 0);
    /* nothing of it survives a restart either */
    events_free(ev);
    ev = open_engine(NULL);
    assert_false(events_rule_get(ev, NULL, "lost", &info));
    assert_true(events_rule_get(ev, NULL, "kept", &info));
    assert_null(info.schedule);
    settle();
    assert_int_equal(nsent, 0);
    json_decref(detail);
}

struct names {
    char seen[8][16];
    int n, stop_after;
};

static bool collect(void *arg, const struct events_rule_info *r)
{
    struct names *acc = arg;
    snprintf(acc->seen[acc->n++], 16, "%s", r->name);
    return acc->n != acc->stop_after;
}

static void test_list_order_prefix_and_after(void **state)
{
    (void)state;
    const char *names[] = {"b-2", "a-1", "b-1", "c"};
    for (int i = 0; i < 4; i++)
        RUN(ERR_OK, put_rule(NULL, names[i], "{\"a\":[1]}", NULL, NULL, M, ML, R));
    struct names acc = {0};
    assert_true(events_rule_each(ev, NULL, NULL, NULL, collect, &acc));
    assert_int_equal(acc.n, 4);
    assert_string_equal(acc.seen[0], "a-1");
    assert_string_equal(acc.seen[1], "b-1");
    assert_string_equal(acc.seen[2], "b-2");
    assert_string_equal(acc.seen[3], "c");
    memset(&acc, 0, sizeof acc);
    assert_true(events_rule_each(ev, NULL, "b-", NULL, collect, &acc));
    assert_int_equal(acc.n, 2);
    memset(&acc, 0, sizeof acc);
    assert_true(events_rule_each(ev, NULL, "b-", "b-1", collect, &acc));
    assert_int_equal(acc.n, 1);
    assert_string_equal(acc.seen[0], "b-2");
    memset(&acc, 0, sizeof acc);
    acc.stop_after = 2;
    assert_true(events_rule_each(ev, NULL, NULL, "a-0", collect, &acc));
    assert_int_equal(acc.n, 2);
    assert_false(events_rule_each(ev, "nobus", NULL, NULL, collect, &acc));
}

/* ---- Lambda targets ---- */

static int fake_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    (void)arg;
    (void)env;
    *port = 9;
    *listener = NULL;
    return 0;
}

static void test_lambda_target_gets_an_event_invocation(void **state)
{
    (void)state;
    char code[256], msg[256];
    snprintf(code, sizeof code, "%s/code", dir);
    mkdir(code, 0755);
    struct lambda_options o = {.region = REGION,
                               .state_dir = dir,
                               .aws_port = 4566,
                               .account_concurrency = 10,
                               .idle_seconds = 300};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    struct lambda *lm = lambda_new(&o, &h, NULL, NULL, msg, sizeof msg);
    assert_non_null(lm);
    struct lambda_fn_spec spec = {
        .name = "producer", .runtime = "provided.al2023", .timeout = 3, .memory = 128, .dir = code};
    assert_int_equal(lambda_fn_provision(lm, &spec, msg, sizeof msg), ERR_OK);
    /* no concurrency: the events wait in the function's queue, where they can be counted */
    assert_int_equal(lambda_fn_provision_concurrency(lm, "producer", 0, msg, sizeof msg), ERR_OK);
    events_free(ev);
    ev = open_engine(lm);
    rule_with_target("tick", NULL, "rate(1 hour)",
                     "{\"Id\":\"producer\",\"Arn\":\"arn:aws:lambda:eu-west-1:000000000000:"
                     "function:producer\"}");
    advance_to(T0 + 3 * 60 * MINUTE);
    struct events_stats s;
    events_get_stats(ev, &s);
    assert_int_equal(s.fired, 3);
    assert_int_equal(s.delivered, 3);
    json_t *fns = lambda_health_json(lm);
    long long queued = -1;
    assert_int_equal(jsonh_int(json_array_get(fns, 0), "queued_events", &queued), 1);
    assert_int_equal(queued, 3);
    json_decref(fns);
    events_free(ev);
    lambda_free(lm);
    ev = open_engine(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rate_fires_once_per_due_time_for_a_day, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rate_anchors_at_creation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cron_and_disable_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_long_clock_move_sends_its_last_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trigger_fires_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_rules_and_does_not_replay, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pending_deliveries_survive_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_events_matches_and_transforms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_whole_event_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_then_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_stop_at_the_maximum_age, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent_failure_goes_straight_to_the_dlq, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_without_sqs_retried_then_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_target_ends_its_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_commands_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_commits_are_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_order_prefix_and_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lambda_target_gets_an_event_invocation, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("events_engine", tests, NULL, NULL);
}
