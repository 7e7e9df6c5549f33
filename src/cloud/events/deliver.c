/*
 * deliver.c — events and their deliveries (see events.h): PutEvents' matching, the schedules'
 * fires, and each delivery's life: written to the store, attempted (Lambda, SQS), retried on
 * the clock within the target's RetryPolicy, dead-lettered or dropped, then forgotten.
 *
 * A delivery keeps the names of its bus, rule and target, not pointers: each attempt looks
 * them up, so a target removed meanwhile ends its pending deliveries (dropped).
 */
#include "cloud/events/events_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/lambda.h"
#include "cloud/store/store.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"

struct ev_delivery {
    struct events *ev;
    struct ev_delivery *prev, *next;
    int64_t seq;
    char *bus, *rule, *target;
    char *event; /* the event, as JSON text */
    size_t event_len;
    char *body; /* what the target gets, when it differs from the event */
    size_t body_len;
    int64_t event_ms; /* its arrival: the age the RetryPolicy limits counts from here */
    int attempts;     /* made so far */
    int64_t tried_ms; /* when the last attempt started: the next is due a backoff after it */
    char code[40];    /* the last failure */
    char *error;
    struct timer retry; /* TIMER_CLOCK */
};

/* New deliveries waiting for their rows to be committed before their first attempt. */
struct intake {
    struct events *ev;
    struct ev_delivery **dl;
    size_t n, cap;
    struct store_batch *batch;
    events_done_fn done;
    void *arg;
    struct timer t; /* TIMER_REAL: the commit's stand-in when nothing persists */
};

static void attempt(struct ev_delivery *d);

static void on_retry(struct timer *t)
{
    attempt(t->data);
}

static void dl_free(struct ev_delivery *d)
{
    struct events *ev = d->ev;
    if (d->prev)
        d->prev->next = d->next;
    else
        ev->dl_head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    ev->stats.pending--;
    timer_destroy(&d->retry);
    free(d->bus);
    free(d->rule);
    free(d->target);
    free(d->event);
    free(d->body);
    free(d->error);
    free(d);
}

/* A delivery (linked, not started). event is copied; body taken (NULL: the event). */
static struct ev_delivery *dl_new(struct events *ev, const char *bus, const char *rule,
                                  const char *target, const char *event, size_t event_len,
                                  char *body, size_t body_len, int64_t event_ms)
{
    struct ev_delivery *d = calloc(1, sizeof *d);
    if (d == NULL || timer_init(&d->retry, TIMER_CLOCK, on_retry, d) != 0) {
        free(d);
        free(body);
        return NULL;
    }
    d->ev = ev;
    d->bus = strdup(bus);
    d->rule = strdup(rule);
    d->target = strdup(target);
    d->event = malloc(event_len + 1);
    d->body = body;
    d->body_len = body_len;
    d->event_ms = event_ms;
    d->next = ev->dl_head;
    if (ev->dl_head)
        ev->dl_head->prev = d;
    ev->dl_head = d;
    ev->stats.pending++;
    if (d->bus == NULL || d->rule == NULL || d->target == NULL || d->event == NULL) {
        dl_free(d);
        return NULL;
    }
    memcpy(d->event, event, event_len);
    d->event[event_len] = '\0';
    d->event_len = event_len;
    return d;
}

/* Done with it: its row goes, then it does. */
static void finish(struct ev_delivery *d)
{
    struct events *ev = d->ev;
    if (ev->store != NULL) {
        struct store_val k = store_int(d->seq);
        store_exec(ev->store, ev->dl_del, &k, 1, NULL, NULL);
    }
    dl_free(d);
}

/* ---- intake: rows first, then the first attempts ---- */

static void intake_done(void *arg, int rc)
{
    struct intake *in = arg;
    for (size_t i = 0; i < in->n; i++) {
        if (rc == 0)
            attempt(in->dl[i]); /* may finish it: not touched again */
        else
            dl_free(in->dl[i]); /* nothing of it was kept */
    }
    if (rc != 0)
        LOG_ERROR("events_store", NULL, "%zu deliveries could not be stored: not sent", in->n);
    if (in->done != NULL)
        in->done(in->arg, rc == 0 ? ERR_OK : ERR_EVENTS_INTERNAL,
                 rc == 0 ? NULL : "An internal error occurred: the events could not be stored.");
    timer_destroy(&in->t);
    free(in->dl);
    free(in);
}

static void intake_timer(struct timer *t)
{
    intake_done(t->data, 0);
}

static struct intake *intake_new(struct events *ev, events_done_fn done, void *arg)
{
    struct intake *in = calloc(1, sizeof *in);
    if (in == NULL || timer_init(&in->t, TIMER_REAL, intake_timer, in) != 0) {
        free(in);
        return NULL;
    }
    in->ev = ev;
    in->done = done;
    in->arg = arg;
    return in;
}

/* Submits the intake's rows (false and freed when it has no delivery). */
static bool intake_submit(struct intake *in)
{
    if (in->n == 0) {
        store_batch_discard(in->batch);
        timer_destroy(&in->t);
        free(in->dl);
        free(in);
        return false;
    }
    if (in->ev->store != NULL)
        store_batch_submit(in->ev->store, in->batch, intake_done, in);
    else
        timer_start(&in->t, 0);
    return true;
}

/* Adds a delivery of event (object + its text, from events_input_event_text) to target t of
 * rule r. A target that takes the whole event shares the text instead of rendering its own. */
static void intake_add(struct intake *in, struct ev_rule *r, const struct ev_target *t,
                       const json_t *event, const char *text, size_t text_len, int64_t event_ms,
                       const char *ingest)
{
    struct events *ev = in->ev;
    struct events_input_ctx ctx = {r->arn, r->name, ingest};
    size_t blen = 0;
    char *body = NULL;
    if (!events_input_is_event(t->in)) {
        body = events_input_render(t->in, event, &ctx, &blen);
        if (body == NULL) {
            LOG_ERROR("events_deliver", NULL, "%s/%s: out of memory rendering the input", r->arn,
                      t->id);
            return;
        }
        if (blen == text_len && memcmp(body, text, blen) == 0) {
            free(body); /* the whole event after all ("$"): kept once */
            body = NULL;
            blen = 0;
        }
    }
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 8;
        struct ev_delivery **p = realloc(in->dl, cap * sizeof *p);
        if (p == NULL) {
            LOG_ERROR("events_deliver", NULL, "%s/%s: out of memory", r->arn, t->id);
            free(body);
            return;
        }
        in->dl = p;
        in->cap = cap;
    }
    struct ev_delivery *d =
        dl_new(ev, r->bus->name, r->name, t->id, text, text_len, body, blen, event_ms);
    if (d == NULL)
        return;
    d->seq = ev->next_seq++;
    in->dl[in->n++] = d;
    if (ev->store == NULL)
        return;
    if (in->batch == NULL && (in->batch = store_batch_new(ev->store)) == NULL)
        return; /* the submission fails, and so does every delivery */
    struct store_val v[9] = {
        store_int(d->seq),           store_text(d->bus), store_text(d->rule), store_text(d->target),
        store_textn(text, text_len), store_null(),       store_int(event_ms), store_int(0),
        store_int(event_ms),
    };
    if (d->body != NULL)
        v[5] = store_textn(d->body, d->body_len);
    store_batch_add(in->batch, ev->dl_put, v, 9);
}

/* ---- PutEvents ---- */

struct match {
    struct intake *in;
    const struct events_entry *entry;
    char when[32];
    json_t *event; /* built when some rule could match */
    bool failed;
    char *text; /* written when some rule with targets matched */
    size_t text_len;
    int64_t event_ms;
    char ingest[32];
};

static json_t *make_event(const struct events *ev, const struct events_entry *e, const char *when);

static void on_candidate(void *arg, struct ev_rule *r)
{
    struct match *m = arg;
    if (m->event == NULL && !m->failed &&
        (m->event = make_event(m->in->ev, m->entry, m->when)) == NULL) {
        LOG_ERROR("events_put", NULL, "out of memory building event %s", m->entry->id);
        m->failed = true;
    }
    if (m->failed || !events_pattern_match(r->st.pat->p, m->event))
        return;
    m->in->ev->stats.matched++;
    if (r->st.nt == 0)
        return;
    if (m->text == NULL && (m->text = events_input_event_text(m->event, &m->text_len)) == NULL)
        return;
    for (size_t i = 0; i < r->st.nt; i++)
        intake_add(m->in, r, r->st.t[i], m->event, m->text, m->text_len, m->event_ms, m->ingest);
}

static json_t *make_event(const struct events *ev, const struct events_entry *e, const char *when)
{
    json_t *j = json_object();
    if (j == NULL)
        return NULL;
    json_t *res = e->resources ? json_deep_copy(e->resources) : json_array();
    json_object_set_new(j, "version", json_string("0"));
    json_object_set_new(j, "id", json_string(e->id));
    json_object_set_new(j, "detail-type", json_string(e->detail_type));
    json_object_set_new(j, "source", json_string(e->source));
    json_object_set_new(j, "account", json_string(ev->account));
    json_object_set_new(j, "time", json_string(when));
    json_object_set_new(j, "region", json_string(ev->region));
    json_object_set_new(j, "resources", res);
    json_object_set(j, "detail", (json_t *)e->detail);
    if (json_object_size(j) != 9) {
        json_decref(j);
        return NULL;
    }
    return j;
}

bool events_put_events(struct events *ev, struct events_entry *entries, size_t n,
                       events_done_fn done, void *arg)
{
    int64_t now = clock_now_ms();
    struct match m = {.event_ms = now};
    clock_format_iso(now, false, m.ingest, sizeof m.ingest);
    m.in = intake_new(ev, done, arg);
    for (size_t i = 0; i < n; i++) {
        struct events_entry *e = &entries[i];
        ids_uuid4(e->id);
        struct ev_bus *b = events__bus(ev, e->bus);
        if (b == NULL || m.in == NULL) /* a bus that does not exist takes it silently, as AWS */
            continue;
        if (e->time_ms < 0 || clock_format_iso(e->time_ms, false, m.when, sizeof m.when) < 0)
            memcpy(m.when, m.ingest, sizeof m.when);
        m.entry = e;
        m.event = NULL;
        m.failed = false;
        m.text = NULL;
        events__candidates(b, e->source, on_candidate, &m);
        json_decref(m.event);
        free(m.text);
    }
    return m.in != NULL && intake_submit(m.in);
}

/* ---- schedules ---- */

size_t events__fire(struct ev_rule *r, int64_t when_ms)
{
    struct events *ev = r->ev;
    ev->stats.fired++;
    json_t *event = events_scheduled_event(ev->account, ev->region, r->arn, when_ms, NULL);
    size_t len = 0;
    char *text = event ? events_input_event_text(event, &len) : NULL;
    struct intake *in = text ? intake_new(ev, NULL, NULL) : NULL;
    size_t n = r->st.nt;
    if (in == NULL) {
        LOG_ERROR("events_fire", NULL, "%s: out of memory: this fire is lost", r->arn);
        n = 0;
    } else {
        char ingest[32];
        clock_format_iso(when_ms, false, ingest, sizeof ingest);
        for (size_t i = 0; i < r->st.nt; i++)
            intake_add(in, r, r->st.t[i], event, text, len, when_ms, ingest);
        intake_submit(in);
    }
    LOG_DEBUG("events_fire", NULL, "%s at %lld: %zu target(s)", r->arn, (long long)when_ms, n);
    json_decref(event);
    free(text);
    return n;
}

enum err events_trigger(struct events *ev, const char *bus, const char *name, int64_t *time_ms,
                        size_t *ntargets, char *msg, size_t msglen)
{
    struct ev_rule *r = events__rule(events__bus(ev, bus), name);
    if (r == NULL) {
        snprintf(msg, msglen, "Rule %s does not exist on EventBus %s.", name,
                 bus && *bus ? bus : EVENTS_DEFAULT_BUS);
        return ERR_EVENTS_NOT_FOUND;
    }
    *time_ms = clock_now_ms() / 1000 * 1000;
    *ntargets = events__fire(r, *time_ms);
    return ERR_OK;
}

/* ---- attempts ---- */

static void dead_letter(struct ev_delivery *d, const struct ev_target *t, const char *condition);

/* The delay before retry number n (1-based): 1 s, 2 s, 4 s, ... capped. */
static int64_t backoff(int n)
{
    int64_t ms = EVENTS_RETRY_FIRST_MS;
    for (int i = 1; i < n && ms < EVENTS_RETRY_MAX_MS; i++)
        ms *= 2;
    return ms < EVENTS_RETRY_MAX_MS ? ms : EVENTS_RETRY_MAX_MS;
}

static struct ev_target *current_target(struct ev_delivery *d)
{
    struct ev_rule *r = events__rule(events__bus(d->ev, d->bus), d->rule);
    return r ? events__target(r, d->target) : NULL;
}

static void gone(struct ev_delivery *d)
{
    LOG_INFO("events_dropped", NULL, "%s/%s target %s: no longer exists", d->bus, d->rule,
             d->target);
    d->ev->stats.dropped++;
    finish(d);
}

/* What became of an attempt. */
static void outcome(struct ev_delivery *d, enum events_outcome o, const char *code,
                    const char *message)
{
    struct events *ev = d->ev;
    if (o == EVENTS_SENT) {
        ev->stats.delivered++;
        finish(d);
        return;
    }
    snprintf(d->code, sizeof d->code, "%s", code ? code : "INTERNAL_ERROR");
    free(d->error);
    d->error = strdup(message ? message : "");
    struct ev_target *t = current_target(d);
    if (t == NULL) {
        gone(d);
        return;
    }
    LOG_INFO("events_failed", NULL, "%s/%s target %s attempt %d: %s %s", d->bus, d->rule, d->target,
             d->attempts, d->code, d->error ? d->error : "");
    if (o == EVENTS_PERMANENT) {
        dead_letter(d, t, NULL);
        return;
    }
    if (d->attempts - 1 >= t->max_retries) {
        dead_letter(d, t, "MaximumRetryAttempts");
        return;
    }
    /* the backoff counts from the attempt (its outcome may come later, after a clock move) */
    int64_t due = d->tried_ms + backoff(d->attempts);
    if (due - d->event_ms > (int64_t)t->max_age_s * 1000) {
        dead_letter(d, t, "MaximumEventAgeInSeconds");
        return;
    }
    ev->stats.retried++;
    timer_start_epoch(&d->retry, due);
    if (ev->store != NULL) {
        struct store_val v[3] = {store_int(d->seq), store_int(d->attempts), store_int(due)};
        store_exec(ev->store, ev->dl_upd, v, 3, NULL, NULL);
    }
}

static void sent(void *arg, enum events_outcome o, const char *code, const char *message)
{
    outcome(arg, o, code, message);
}

static void dlq_sent(void *arg, enum events_outcome o, const char *code, const char *message)
{
    struct ev_delivery *d = arg;
    if (o == EVENTS_SENT) {
        d->ev->stats.dead_lettered++;
    } else {
        LOG_WARN("events_dlq_failed", NULL, "%s/%s target %s: the dead letter failed (%s %s)",
                 d->bus, d->rule, d->target, code ? code : "", message ? message : "");
        d->ev->stats.dlq_failed++;
        d->ev->stats.dropped++;
    }
    finish(d);
}

/* Retries are over (condition set) or cannot help (NULL): to the DLQ, or dropped. */
static void dead_letter(struct ev_delivery *d, const struct ev_target *t, const char *condition)
{
    struct events *ev = d->ev;
    if (t->dlq == NULL || ev->host.send_sqs == NULL) {
        LOG_WARN("events_dropped", NULL, "%s/%s target %s: given up after %d attempt(s)%s%s (%s)",
                 d->bus, d->rule, d->target, d->attempts, condition ? ", " : "",
                 condition ? condition : "", t->dlq ? "no SQS to dead-letter to" : "no DLQ");
        if (t->dlq != NULL)
            ev->stats.dlq_failed++;
        ev->stats.dropped++;
        finish(d);
        return;
    }
    char rule_arn[EVENTS_ARN_MAX], retries[16];
    events_rule_arn(rule_arn, sizeof rule_arn, ev->region, ev->account, d->bus, d->rule);
    snprintf(retries, sizeof retries, "%d", d->attempts > 0 ? d->attempts - 1 : 0);
    struct events_attr attrs[6] = {
        {"RULE_ARN", rule_arn},      {"TARGET_ARN", t->arn},
        {"ERROR_CODE", d->code},     {"ERROR_MESSAGE", d->error ? d->error : ""},
        {"RETRY_ATTEMPTS", retries}, {"EXHAUSTED_RETRY_CONDITION", condition},
    };
    struct events_sqs_message m = {.queue_arn = t->dlq,
                                   .body = d->event,
                                   .len = d->event_len,
                                   .attrs = attrs,
                                   .nattrs = condition ? 6 : 5};
    ev->host.send_sqs(ev->host.arg, &m, dlq_sent, d);
}

static void lambda_sent(void *arg, const struct lambda_result *res)
{
    if (res->err == ERR_OK)
        outcome(arg, EVENTS_SENT, NULL, NULL);
    else
        outcome(arg, EVENTS_RETRIABLE,
                res->err == ERR_LAMBDA_TOO_MANY_REQUESTS ? "THROTTLING" : "INTERNAL_ERROR",
                res->err_msg ? res->err_msg : err_message(res->err));
}

static void send_lambda(struct ev_delivery *d, const struct ev_target *t, const char *body,
                        size_t len)
{
    struct events *ev = d->ev;
    char msg[512];
    /* the target may be qualified: a version or an alias (a "live" one) */
    struct lambda_fn *fn = ev->lm != NULL ? lambda_fn_find_arn(ev->lm, t->arn) : NULL;
    if (fn == NULL) {
        snprintf(msg, sizeof msg, "Function not found: %s", t->arn);
        outcome(d, EVENTS_PERMANENT, "NO_RESOURCE", msg);
        return;
    }
    if (lambda_invoke(ev->lm, fn, LAMBDA_INV_EVENT, body, len, NULL, false, lambda_sent, d, NULL) ==
        NULL)
        outcome(d, EVENTS_RETRIABLE, "INTERNAL_ERROR", "out of memory");
}

static void send_sqs(struct ev_delivery *d, const struct ev_target *t, const char *body, size_t len)
{
    struct events *ev = d->ev;
    if (ev->host.send_sqs == NULL) {
        outcome(d, EVENTS_RETRIABLE, "CONNECTION_FAILURE",
                "SQS is not available in this haar: the message was not sent.");
        return;
    }
    struct events_sqs_message m = {
        .queue_arn = t->arn, .body = body, .len = len, .group_id = t->group};
    ev->host.send_sqs(ev->host.arg, &m, sent, d);
}

/* Target kinds by ARN prefix. */
static const struct {
    const char *prefix;
    void (*send)(struct ev_delivery *d, const struct ev_target *t, const char *body, size_t len);
} kinds[] = {
    {"arn:aws:lambda:", send_lambda},
    {"arn:aws:sqs:", send_sqs},
};

static void attempt(struct ev_delivery *d)
{
    struct ev_target *t = current_target(d);
    if (t == NULL) {
        gone(d);
        return;
    }
    /* the first attempt always goes; later ones only within MaximumEventAgeInSeconds */
    if (d->attempts > 0 && clock_now_ms() - d->event_ms > (int64_t)t->max_age_s * 1000) {
        if (d->code[0] == '\0')
            snprintf(d->code, sizeof d->code, "INTERNAL_ERROR");
        dead_letter(d, t, "MaximumEventAgeInSeconds");
        return;
    }
    d->attempts++;
    d->tried_ms = clock_now_ms();
    const char *body = d->body ? d->body : d->event;
    size_t len = d->body ? d->body_len : d->event_len;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strncmp(t->arn, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
            kinds[i].send(d, t, body, len);
            return;
        }
    }
    char msg[200];
    snprintf(msg, sizeof msg, "haar does not deliver to targets like %.120s", t->arn);
    outcome(d, EVENTS_PERMANENT, "INVALID_PARAMETER", msg);
}

/* ---- restart ---- */

static bool restore_max(void *arg, const struct store_row *row)
{
    struct events *ev = arg;
    if (!store_row_is_null(row, 0))
        ev->next_seq = store_row_int(row, 0) + 1;
    return false;
}

static bool restore_delivery(void *arg, const struct store_row *row)
{
    struct events *ev = arg;
    size_t lb, lr, lt, le, lbody = 0;
    const char *bus = store_row_text(row, 1, &lb), *rule = store_row_text(row, 2, &lr);
    const char *target = store_row_text(row, 3, &lt), *event = store_row_text(row, 4, &le);
    const char *body = store_row_is_null(row, 5) ? NULL : store_row_text(row, 5, &lbody);
    char *b = strndup(bus ? bus : "", lb), *r = strndup(rule ? rule : "", lr),
         *t = strndup(target ? target : "", lt);
    char *bd = body ? strndup(body, lbody) : NULL;
    struct ev_delivery *d = NULL;
    if (b && r && t && event && (body == NULL || bd != NULL))
        d = dl_new(ev, b, r, t, event, le, bd, lbody, store_row_int(row, 6));
    else
        free(bd);
    if (d != NULL) {
        d->seq = store_row_int(row, 0);
        d->attempts = (int)store_row_int(row, 7);
        int64_t due = store_row_int(row, 8), now = clock_now_ms();
        timer_start_epoch(&d->retry, due > now ? due : now);
    }
    free(b);
    free(r);
    free(t);
    return true;
}

void events__restore_deliveries(struct events *ev)
{
    if (ev->store == NULL)
        return;
    store_query(ev->store, ev->dl_max, NULL, 0, restore_max, ev);
    store_query(ev->store, ev->dl_all, NULL, 0, restore_delivery, ev);
    if (ev->stats.pending > 0)
        LOG_INFO("events_restore", NULL, "%zu pending deliveries resumed", ev->stats.pending);
}

void events__free_deliveries(struct events *ev)
{
    while (ev->dl_head != NULL)
        dl_free(ev->dl_head);
}
