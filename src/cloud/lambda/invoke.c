/*
 * invoke.c — invocations: admission under the concurrency limits, placement on environments,
 * the Event queue (durable, retried on the clock, aged out), and completions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud/lambda/lambda_int.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/str.h"

enum {
    INIT_LIMIT_MS = 10000,           /* AWS bounds the init phase at 10 s */
    EAGER_SPAWN_MS = 100, /* a pending invocation waits this long for an environment that just
                             answered to ask for more (a runtime written in a shell takes ~50 ms);
                             then a fresh one starts */
    RETRY_FIRST_MS = 60000,          /* AWS retries an Event after about 1 minute ... */
    RETRY_SECOND_MS = 120000,        /* ... then 2 */
    EVENT_MEM_BUDGET = 64 * 1048576, /* queued payloads kept in memory; the rest stay on disk */
};

/* ---- invocations ---- */

static void inv_complete_timer(struct timer *t)
{
    struct lambda_inv *inv = t->data;
    if (inv->late_error != NULL) {
        char *body = inv->late_error;
        inv->late_error = NULL;
        lambda__finish(inv, true, body, inv->late_error_len);
        free(body);
        return;
    }
    if (inv->done)
        inv->done(inv->arg, &inv->result);
    lambda__inv_free(inv);
}

/* Ends inv with a function error from a zero-delay timer: an error found while placing it
 * may be found inside lambda_invoke, whose caller must not be called back from inside. */
static void finish_later(struct lambda_inv *inv, const char *body, size_t len)
{
    inv->late_error = malloc(len + 1);
    if (inv->late_error == NULL) {
        lambda__finish(inv, true, body, len); /* no memory: at once, as before */
        return;
    }
    memcpy(inv->late_error, body, len);
    inv->late_error[len] = '\0';
    inv->late_error_len = len;
    timer_start(&inv->complete, 0);
}

void lambda__inv_free(struct lambda_inv *inv)
{
    if (inv == NULL)
        return;
    if (inv->payload != NULL && inv->type == LAMBDA_INV_EVENT)
        inv->fn->lm->event_mem -= inv->len;
    timer_destroy(&inv->complete);
    free(inv->late_error);
    free(inv->err_text);
    free(inv->payload);
    free(inv->client_context);
    buf_destroy(&inv->tail);
    free(inv);
}

static struct lambda_inv *inv_new(struct lambda_fn *fn, enum lambda_inv_type type)
{
    struct lambda_inv *inv = calloc(1, sizeof *inv);
    if (inv == NULL || timer_init(&inv->complete, TIMER_REAL, inv_complete_timer, inv) != 0) {
        free(inv);
        return NULL;
    }
    inv->fn = fn;
    inv->type = type;
    buf_init(&inv->tail, 8 * LAMBDA_TAIL_BYTES);
    return inv;
}

/* Completes an invocation with a platform error, later. */
static void complete_error(struct lambda_inv *inv, enum err e, const char *msg, const char *reason)
{
    inv->result = (struct lambda_result){
        .err = e, .err_msg = msg, .throttle_reason = reason, .request_id = inv->rid};
    timer_start(&inv->complete, 0);
}

static void q_push(struct inv_queue *q, struct lambda_inv *inv)
{
    inv->next = NULL;
    if (q->tail)
        q->tail->next = inv;
    else
        q->head = inv;
    q->tail = inv;
    q->n++;
}

/* Unlinks inv (which must be in q) given its predecessor (NULL for the head). */
static void q_unlink(struct inv_queue *q, struct lambda_inv *prev, struct lambda_inv *inv)
{
    if (prev)
        prev->next = inv->next;
    else
        q->head = inv->next;
    if (q->tail == inv)
        q->tail = prev;
    q->n--;
    inv->next = NULL;
}

static struct lambda_inv *q_pop(struct inv_queue *q)
{
    struct lambda_inv *inv = q->head;
    if (inv != NULL)
        q_unlink(q, NULL, inv);
    return inv;
}

static bool q_remove(struct inv_queue *q, struct lambda_inv *inv)
{
    struct lambda_inv *prev = NULL;
    for (struct lambda_inv *i = q->head; i; prev = i, i = i->next)
        if (i == inv) {
            q_unlink(q, prev, i);
            return true;
        }
    return false;
}

/* ---- admission and placement ---- */

/* Reserved concurrency is the function's, over all its versions. */
static bool can_admit(struct lambda *lm, struct lambda_fn *fn)
{
    const struct lambda_fn *base = fn->base;
    if (base->reserved >= 0)
        return base->total_inflight < base->reserved;
    return lm->unreserved_inflight < lm->opt.account_concurrency - lm->reserved_total;
}

static void admit(struct lambda_inv *inv, int delta)
{
    struct lambda_fn *fn = inv->fn;
    fn->inflight += delta;
    fn->base->total_inflight += delta;
    if (fn->base->reserved < 0)
        fn->lm->unreserved_inflight += delta;
    inv->admitted = delta > 0;
}

static int returning_envs(const struct lambda_fn *fn)
{
    int n = 0;
    for (const struct lambda_env *e = fn->envs; e; e = e->next)
        if (e->state == ENV_RETURNING && e->killed == KILL_NONE && e->inv == NULL)
            n++;
    return n;
}

/* Makes room for one more environment by reaping an idle one, another function's first. */
static bool free_an_idle_env(struct lambda *lm, struct lambda_fn *fn)
{
    struct lambda_env *victim = NULL;
    for (int b = 0; b < LAMBDA_NBUCKETS && victim == NULL; b++)
        for (struct lambda_fn *f = lm->buckets[b]; f && victim == NULL; f = f->hnext)
            for (struct lambda_env *e = f != fn ? f->idle : NULL; e && victim == NULL;
                 e = e->idle_next)
                if (!e->provisioned) /* provisioned concurrency is kept, as AWS keeps it */
                    victim = e;
    if (victim == NULL && fn->reserved < 0)
        victim = NULL; /* the function's own idle environments would have been used */
    if (victim == NULL)
        return false;
    lambda__env_kill(victim, KILL_REAP);
    return true;
}

static void pending_arm(struct lambda_fn *fn);

void lambda__spawn_for_pending(struct lambda_fn *fn, bool eager)
{
    struct lambda *lm = fn->lm;
    int64_t now = clock_real_mono_ms();
    /* invocations that waited past their deadline: no environment ever took them */
    while (fn->pending.head && now >= fn->pending.head->wait_deadline_ms) {
        struct lambda_inv *inv = fn->pending.head;
        for (struct lambda_env *e = fn->envs; e; e = e->next)
            if (e->state == ENV_STARTING && e->killed == KILL_NONE) {
                lambda__env_kill(e, KILL_RETIRE); /* stuck in init: reset it */
                break;
            }
        if (!inv->init_retried) {
            /* init took 10 s: AWS retries it within the invoke, bounded by the timeout */
            inv->init_retried = true;
            inv->wait_deadline_ms = now + (int64_t)fn->timeout * 1000;
            LOG_WARN("init_timeout", inv->rid, "%s: init exceeded 10 s, retrying", fn->name);
            break;
        }
        q_pop(&fn->pending);
        struct buf body;
        buf_init(&body, ERROR_DOC_MAX);
        lambda__error_doc(&body, "Sandbox.Timedout",
                          "RequestId: %s Error: Task timed out after %d.00 seconds", inv->rid,
                          fn->timeout);
        LOG_WARN("invoke_timeout", inv->rid, "%s: no environment took the event", fn->name);
        lambda__finish(inv, true, body.data ? body.data : "", body.len);
        buf_destroy(&body);
    }
    if (fn->pending.head && now - fn->pending.head->queued_ms >= EAGER_SPAWN_MS)
        eager = true;
    int soon = eager ? 0 : returning_envs(fn);
    while (fn->pending.n > fn->n_starting + soon && !fn->deleted) {
        struct lambda_env_cmd cmd;
        char why[512];
        if (lambda__env_command(fn, &cmd, why, sizeof why) != 0) {
            /* a managed runtime the machine cannot run: InvalidRuntimeException, as AWS
             * answers for a runtime it does not support */
            struct lambda_inv *inv = q_pop(&fn->pending);
            LOG_WARN("runtime", inv->rid, "%s: %s", fn->key, why);
            if (inv->type == LAMBDA_INV_SYNC) {
                admit(inv, -1);
                inv->err_text = strdup(why);
                complete_error(inv, ERR_LAMBDA_INVALID_RUNTIME,
                               inv->err_text ? inv->err_text : "Unsupported runtime", NULL);
            } else {
                struct buf body;
                buf_init(&body, ERROR_DOC_MAX);
                lambda__error_doc(&body, "Runtime.InvalidRuntime", "%s", why);
                finish_later(inv, body.data ? body.data : "", body.len);
                buf_destroy(&body);
            }
            continue;
        }
        if (cmd.client[0] == '\0' && access(cmd.exe, X_OK) != 0) {
            struct lambda_inv *inv = q_pop(&fn->pending);
            struct buf body;
            buf_init(&body, ERROR_DOC_MAX);
            lambda__error_doc(&body, "Runtime.InvalidEntrypoint",
                              "RequestId: %s Error: Couldn't find valid bootstrap(s): "
                              "[%s/bootstrap]",
                              inv->rid, fn->code_dir);
            finish_later(inv, body.data ? body.data : "", body.len);
            buf_destroy(&body);
            continue;
        }
        if (!lambda__env_room(fn) && !free_an_idle_env(lm, fn))
            break; /* at the limit: an environment that frees up takes the work */
        if (!lambda__env_room(fn))
            break; /* the reaped one still counts until its process is gone */
        if (lambda__env_spawn(fn, false, &cmd) == NULL) {
            struct lambda_inv *inv = q_pop(&fn->pending);
            admit(inv, -1);
            complete_error(inv, ERR_LAMBDA_SERVICE, "Cannot start an execution environment", NULL);
        }
    }
    pending_arm(fn);
}

/* Arms the function's pending timer for the head's next decision. */
static void pending_arm(struct lambda_fn *fn)
{
    struct lambda_inv *head = fn->pending.head;
    if (head == NULL) {
        timer_stop(&fn->pending_timer);
        return;
    }
    int64_t at = head->wait_deadline_ms;
    if (head->queued_ms + EAGER_SPAWN_MS < at && fn->n_starting + returning_envs(fn) > 0)
        at = head->queued_ms + EAGER_SPAWN_MS;
    timer_start_at(&fn->pending_timer, at);
}

/* Puts an admitted invocation on an idle environment, or queues it and starts one. */
static void place(struct lambda_fn *fn, struct lambda_inv *inv)
{
    while (fn->idle != NULL) {
        struct lambda_env *env = fn->idle;
        fn->idle = env->idle_next;
        env->idle_next = NULL;
        if (env->waiters == NULL || env->killed != KILL_NONE) {
            env->state = ENV_RETURNING;
            continue;
        }
        lambda__env_deliver(env, inv);
        return;
    }
    inv->queued_ms = clock_real_mono_ms();
    q_push(&fn->pending, inv);
    lambda__spawn_for_pending(fn, false);
}

void lambda__env_free(struct lambda_env *env)
{
    struct lambda_fn *fn = env->fn;
    struct lambda_inv *inv = q_pop(&fn->pending);
    if (inv != NULL) {
        /* it is leaving the idle stack it was just put on */
        struct lambda_env **pp = &fn->idle;
        while (*pp && *pp != env)
            pp = &(*pp)->idle_next;
        if (*pp)
            *pp = env->idle_next;
        env->idle_next = NULL;
        lambda__env_deliver(env, inv);
        pending_arm(fn);
        return;
    }
    lambda__dispatch_events(fn);
}

/* ---- destinations: the record of an asynchronous invocation ---- */

void lambda_set_destinations(struct lambda *lm,
                             void (*send_sqs)(void *arg, const char *queue_arn, const char *body,
                                              size_t len),
                             void *arg)
{
    lm->send_sqs = send_sqs;
    lm->send_sqs_arg = arg;
}

static bool load_payload(struct lambda_inv *inv);

static void ignore_result(void *arg, const struct lambda_result *res)
{
    (void)arg;
    (void)res;
}

/* A JSON value of the bytes (or the bytes as a string when they are not JSON). New ref. */
static json_t *as_json(const char *s, size_t len)
{
    json_t *j = s && len ? jsonh_loadb(s, len, JSON_DECODE_ANY, NULL) : NULL;
    return j ? j : s && len ? json_stringn(s, len) : json_null();
}

/*
 * Sends the invocation record of an Event invocation that ended (condition "Success",
 * "RetriesExhausted" or "EventAgeExceeded") to the destination the invoked function, version
 * or alias configures for it, as AWS's "invocation record" (version 1.0).
 */
static void send_record(struct lambda_inv *inv, const char *condition, bool function_error,
                        const char *body, size_t len)
{
    struct lambda_fn *fn = inv->fn;
    struct lambda *lm = fn->lm;
    struct lambda_fn *obj = inv->via[0] ? lambda_fn_find_qualified(lm, fn->name, inv->via)
                                        : lambda_fn_find(lm, fn->name);
    bool ok = strcmp(condition, "Success") == 0;
    const json_t *d = obj && obj->evcfg.set ? obj->evcfg.destinations : NULL;
    const char *dest = jsonh_str(json_object_get(d, ok ? "OnSuccess" : "OnFailure"),
                                 "Destination", NULL);
    if (dest == NULL || dest[0] == '\0')
        return;
    char when[40], arn[600];
    clock_format_iso(clock_now_ms(), true, when, sizeof when);
    snprintf(arn, sizeof arn, "%s%s", inv->invoked_arn,
             inv->via[0] ? "" : ":$LATEST"); /* AWS shows $LATEST's qualifier */
    if (inv->payload == NULL)
        load_payload(inv);
    json_t *rc = json_pack("{s:s, s:s, s:s, s:i}", "requestId", inv->rid, "functionArn", arn,
                           "condition", condition, "approximateInvokeCount", inv->attempt + 1);
    json_t *rec = json_pack("{s:s, s:s, s:o, s:o}", "version", "1.0", "timestamp", when,
                            "requestContext", rc, "requestPayload",
                            as_json(inv->payload, inv->len));
    if (strcmp(condition, "EventAgeExceeded") != 0) {
        json_t *resp = json_pack("{s:i, s:s}", "statusCode", 200, "executedVersion", fn->qual);
        if (function_error)
            json_object_set_new(resp, "functionError", json_string("Unhandled"));
        json_object_set_new(rec, "responseContext", resp);
        json_object_set_new(rec, "responsePayload", as_json(body, len));
    }
    char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (text == NULL)
        return;
    if (strncmp(dest, "arn:aws:sqs:", 12) == 0 && lm->send_sqs != NULL) {
        lm->send_sqs(lm->send_sqs_arg, dest, text, strlen(text));
    } else if (strncmp(dest, "arn:aws:lambda:", 15) == 0 && lambda_fn_find_arn(lm, dest)) {
        lambda_invoke(lm, lambda_fn_find_arn(lm, dest), LAMBDA_INV_EVENT, text, strlen(text),
                      NULL, false, ignore_result, NULL, NULL);
    } else {
        LOG_WARN("destination", inv->rid, "%s: the record for %s was not delivered", fn->key,
                 dest);
    }
    free(text);
}

/* ---- the Event queue ---- */

static void event_durable(void *arg, int rc)
{
    struct lambda_inv *inv = arg;
    struct lambda *lm = inv->fn->lm;
    struct lambda_result r = {.err = rc == 0 ? ERR_OK : ERR_LAMBDA_SERVICE,
                              .err_msg = rc == 0 ? NULL : "Could not store the event",
                              .request_id = inv->rid};
    lambda_done_fn done = inv->done;
    void *darg = inv->arg;
    inv->done = NULL;
    inv->arg = NULL;
    if (rc != 0) {
        /* refused, so never run (events are dispatched only once durable) */
        q_remove(&inv->fn->events, inv);
        lambda__inv_free(inv);
        inv = NULL;
    } else {
        inv->durable = true;
        if (lm->event_mem > EVENT_MEM_BUDGET && inv->env == NULL && !inv->admitted) {
            lm->event_mem -= inv->len;
            free(inv->payload); /* on disk; read back when it runs */
            inv->payload = NULL;
        }
    }
    if (done)
        done(darg, &r);
    if (inv != NULL)
        lambda__dispatch_events(inv->fn);
}

/* The acknowledgement of an Event invocation when nothing persists (unit tests). */
struct ack {
    struct timer t;
    lambda_done_fn done;
    void *arg;
    char rid[37];
};

static void ack_timer(struct timer *t)
{
    struct ack *a = t->data;
    struct lambda_result r = {.err = ERR_OK, .request_id = a->rid};
    if (a->done)
        a->done(a->arg, &r);
    timer_destroy(&a->t);
    free(a);
}

static void ack_later(const char *rid, lambda_done_fn done, void *arg)
{
    struct ack *a = calloc(1, sizeof *a);
    if (a == NULL || timer_init(&a->t, TIMER_REAL, ack_timer, a) != 0) {
        free(a);
        LOG_ERROR("lambda", rid, "out of memory: an acknowledgement is lost");
        return;
    }
    a->done = done;
    a->arg = arg;
    memcpy(a->rid, rid, 37);
    timer_start(&a->t, 0);
}

static void persist_event(struct lambda_inv *inv, void (*done)(void *, int), void *arg)
{
    struct lambda *lm = inv->fn->lm;
    struct store_val v[10] = {
        store_text(inv->rid),
        store_text(inv->fn->key), /* the version it runs on ("name" for $LATEST) */
        store_int(inv->attempt),
        store_int(inv->enqueued_ms),
        store_int(inv->not_before_ms),
        store_text(inv->client_context),
        store_blob(inv->payload, inv->len),
        store_text(inv->via),
        store_int(inv->max_retries),
        store_int(inv->max_age_s),
    };
    store_exec(lm->store, lm->st_ev_put, v, 10, done, arg);
}

static bool load_payload_row(void *arg, const struct store_row *row)
{
    struct lambda_inv *inv = arg;
    size_t n;
    const void *p = store_row_blob(row, 0, &n);
    inv->payload = malloc(n + 1);
    if (inv->payload != NULL) {
        memcpy(inv->payload, p, n);
        inv->payload[n] = '\0';
        inv->len = n;
        inv->fn->lm->event_mem += n;
    }
    return false;
}

/* Reads a queued event's payload back from the store. */
static bool load_payload(struct lambda_inv *inv)
{
    struct lambda *lm = inv->fn->lm;
    if (inv->payload != NULL)
        return true;
    struct store_val k = store_text(inv->rid);
    store_query(lm->store, lm->st_ev_payload, &k, 1, load_payload_row, inv);
    return inv->payload != NULL;
}

static void event_forget(struct lambda_inv *inv)
{
    struct lambda *lm = inv->fn->lm;
    if (lm->store != NULL && inv->durable) {
        struct store_val k = store_text(inv->rid);
        store_exec(lm->store, lm->st_ev_del, &k, 1, NULL, NULL);
    }
    lambda__inv_free(inv);
}

/* Admits what the limits allow of the function's queued events, drops those older than
 * MaximumEventAgeInSeconds (whether or not there is room: a function held at concurrency 0
 * still ages its queue out), and arms the retry timer for the next retry or expiry. */
static void dispatch_once(struct lambda_fn *fn)
{
    struct lambda *lm = fn->lm;
    int64_t now = clock_now_ms();
    int64_t next_due = INT64_MAX;
    struct lambda_inv *prev = NULL, *inv = fn->events.head;
    while (inv != NULL) {
        struct lambda_inv *next = inv->next;
        /* the age the invoked function, version or alias allows (taken when it was invoked) */
        int64_t max_age = (int64_t)inv->max_age_s * 1000;
        if (now - inv->enqueued_ms > max_age) {
            q_unlink(&fn->events, prev, inv);
            LOG_WARN("event_expired", inv->rid, "%s: older than %d s, dropped", fn->key,
                     inv->max_age_s);
            send_record(inv, "EventAgeExceeded", false, NULL, 0);
            event_forget(inv);
            inv = next;
            continue;
        }
        if (inv->enqueued_ms + max_age + 1 < next_due)
            next_due = inv->enqueued_ms + max_age + 1; /* when it falls out */
        /* waiting: for its 202 to be durable, for a retry's time, or for room */
        if (!inv->durable || inv->not_before_ms > now || !can_admit(lm, fn)) {
            if (inv->not_before_ms > now && inv->not_before_ms < next_due)
                next_due = inv->not_before_ms;
            prev = inv;
            inv = next;
            continue;
        }
        q_unlink(&fn->events, prev, inv);
        if (!load_payload(inv)) {
            LOG_ERROR("event_lost", inv->rid, "%s: its payload cannot be read back", fn->name);
            event_forget(inv);
            inv = next;
            continue;
        }
        admit(inv, 1);
        inv->wait_deadline_ms = clock_real_mono_ms() + INIT_LIMIT_MS;
        inv->init_retried = false;
        buf_reset(&inv->tail);
        place(fn, inv);
        inv = next;
    }
    if (next_due != INT64_MAX)
        timer_start_epoch(&fn->retry_timer, next_due);
    else
        timer_stop(&fn->retry_timer);
}

/* Placing an event may end another at once (a missing bootstrap), and ending one dispatches
 * again: that inner call only asks the walk in progress to run once more, so the queue is
 * never changed under it. */
static struct lambda_fn *dispatching;
static bool dispatch_again;

void lambda__dispatch_events(struct lambda_fn *fn)
{
    if (fn->lm->draining)
        return;
    if (dispatching == fn) {
        dispatch_again = true;
        return;
    }
    struct lambda_fn *outer = dispatching;
    bool outer_again = dispatch_again;
    dispatching = fn;
    do {
        dispatch_again = false;
        dispatch_once(fn);
    } while (dispatch_again);
    dispatching = outer;
    dispatch_again = outer_again;
}

struct restore_ctx {
    struct lambda *lm;
};

static bool restore_event(void *arg, const struct store_row *row)
{
    struct restore_ctx *c = arg;
    struct lambda *lm = c->lm;
    size_t rl, fl, cl, vl = 0;
    const char *rid = store_row_text(row, 0, &rl);
    const char *fname = store_row_text(row, 1, &fl);
    char key[200];
    snprintf(key, sizeof key, "%.*s", (int)(fl < 199 ? fl : 199), fname);
    struct lambda_fn *fn = lambda__find_any(lm, key);
    if (fn != NULL && (fn->kind == FN_ALIAS || fn->deleting || fn->base->deleting))
        fn = NULL;
    if (fn == NULL || rl != 36) {
        struct store_val k = store_textn(rid, rl);
        store_exec(lm->store, lm->st_ev_del, &k, 1, NULL, NULL);
        return true;
    }
    struct lambda_inv *inv = inv_new(fn, LAMBDA_INV_EVENT);
    if (inv == NULL)
        return false;
    memcpy(inv->rid, rid, 36);
    inv->rid[36] = '\0';
    inv->attempt = (int)store_row_int(row, 2);
    inv->enqueued_ms = store_row_int(row, 3);
    inv->not_before_ms = store_row_int(row, 4);
    if (!store_row_is_null(row, 5)) {
        const char *cc = store_row_text(row, 5, &cl);
        inv->client_context = strndup(cc, cl);
    }
    inv->len = (size_t)store_row_int(row, 6);
    const char *via = store_row_is_null(row, 7) ? "" : store_row_text(row, 7, &vl);
    snprintf(inv->via, sizeof inv->via, "%.*s", (int)(vl < sizeof inv->via ? vl : 0), via);
    if (inv->via[0] != '\0')
        snprintf(inv->invoked_arn, sizeof inv->invoked_arn, "%.380s:%.132s", fn->base->arn, inv->via);
    else
        snprintf(inv->invoked_arn, sizeof inv->invoked_arn, "%s", fn->base->arn);
    inv->max_retries = store_row_is_null(row, 8) ? fn->evcfg.max_retries
                                                 : (int)store_row_int(row, 8);
    inv->max_age_s = store_row_is_null(row, 9) ? fn->evcfg.max_age_seconds
                                               : (int)store_row_int(row, 9);
    inv->durable = true; /* the payload stays on disk until it runs */
    q_push(&fn->events, inv);
    return true;
}

void lambda__restore_events(struct lambda *lm)
{
    struct restore_ctx c = {lm};
    store_query(lm->store, lm->st_ev_all, NULL, 0, restore_event, &c);
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->events.head)
                lambda__dispatch_events(fn);
}

/* ---- invoking ---- */

struct lambda_inv *lambda_invoke(struct lambda *lm, struct lambda_fn *fn, enum lambda_inv_type type,
                                 const char *payload, size_t len, const char *client_context,
                                 bool want_tail, lambda_done_fn done, void *arg,
                                 char request_id_out[37])
{
    /* an alias runs on its version (or, by weight, its additional one) */
    struct lambda_fn *target = lambda__route(fn);
    struct lambda_inv *inv = inv_new(target ? target : fn, type);
    if (inv == NULL || (inv->payload = malloc(len + 1)) == NULL) {
        lambda__inv_free(inv);
        return NULL;
    }
    ids_uuid4(inv->rid);
    str_copyn(inv->invoked_arn, sizeof inv->invoked_arn, fn->arn, strlen(fn->arn));
    const char *via = fn->kind == FN_LATEST ? "" : fn->qual;
    str_copyn(inv->via, sizeof inv->via, via, strlen(via));
    inv->max_retries = fn->evcfg.max_retries;
    inv->max_age_s = fn->evcfg.max_age_seconds;
    if (request_id_out)
        memcpy(request_id_out, inv->rid, 37);
    memcpy(inv->payload, payload, len);
    inv->payload[len] = '\0';
    inv->len = len;
    inv->client_context = client_context ? strdup(client_context) : NULL;
    inv->want_tail = want_tail && type == LAMBDA_INV_SYNC;
    inv->done = done;
    inv->arg = arg;
    inv->enqueued_ms = clock_now_ms();
    if (lm->draining) {
        complete_error(inv, ERR_LAMBDA_SERVICE, "The service is shutting down", NULL);
        return inv;
    }
    if (target == NULL) { /* an alias whose version went */
        char msg[512];
        snprintf(msg, sizeof msg, "Function not found: %s:%s", fn->base->arn, fn->alias_to);
        inv->err_text = strdup(msg);
        complete_error(inv, ERR_LAMBDA_NOT_FOUND, inv->err_text ? inv->err_text : msg, NULL);
        return inv;
    }
    fn = target;
    if (type == LAMBDA_INV_EVENT) {
        lm->event_mem += len;
        q_push(&fn->events, inv);
        if (lm->store != NULL) {
            persist_event(inv, event_durable, inv); /* the 202 goes once it is durable */
            return inv;
        }
        inv->durable = true;
        ack_later(inv->rid, done, arg);
        inv->done = NULL;
        inv->arg = NULL;
        lambda__dispatch_events(fn);
        return inv;
    }
    if (!can_admit(lm, fn)) {
        complete_error(inv, ERR_LAMBDA_TOO_MANY_REQUESTS, "Rate Exceeded.",
                       fn->base->reserved >= 0
                           ? "ReservedFunctionConcurrentInvocationLimitExceeded"
                           : "ConcurrentInvocationLimitExceeded");
        return inv;
    }
    admit(inv, 1);
    inv->wait_deadline_ms = clock_real_mono_ms() + INIT_LIMIT_MS;
    place(fn, inv);
    return inv;
}

void lambda_inv_detach(struct lambda_inv *inv)
{
    if (inv == NULL || inv->type != LAMBDA_INV_SYNC)
        return;
    inv->done = NULL;
    inv->arg = NULL;
    /* not started yet: it never will be (a client gone before its invocation starts) */
    struct lambda_fn *fn = inv->fn;
    if (inv->type == LAMBDA_INV_SYNC && inv->env == NULL && q_remove(&fn->pending, inv)) {
        admit(inv, -1);
        lambda__inv_free(inv);
        pending_arm(fn);
        lambda__dispatch_events(fn);
    }
}

int lambda__error_doc(struct buf *out, const char *type, const char *fmt, ...)
{
    struct buf msg;
    buf_init(&msg, ERROR_DOC_MAX);
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    struct jsonw w;
    jw_init(&w, out);
    jw_obj(&w);
    jw_kstr(&w, "errorType", type);
    jw_kstrn(&w, "errorMessage", msg.data ? msg.data : "", msg.len);
    jw_obj_end(&w);
    if (rc == BUF_OK)
        rc = jw_error(&w);
    buf_destroy(&msg);
    return rc;
}

void lambda__finish(struct lambda_inv *inv, bool function_error, const char *body, size_t len)
{
    struct lambda_fn *fn = inv->fn;
    struct lambda *lm = fn->lm;
    if (inv->admitted)
        admit(inv, -1);
    if (inv->type == LAMBDA_INV_EVENT) {
        if (function_error && inv->attempt < inv->max_retries && !fn->deleted) {
            int64_t delay = inv->attempt == 0 ? RETRY_FIRST_MS : RETRY_SECOND_MS;
            inv->attempt++;
            inv->not_before_ms = clock_now_ms() + delay;
            inv->env = NULL;
            if (lm->store && inv->durable) {
                struct store_val v[3] = {store_text(inv->rid), store_int(inv->attempt),
                                         store_int(inv->not_before_ms)};
                store_exec(lm->store, lm->st_ev_attempt, v, 3, NULL, NULL);
            }
            if (lm->event_mem > EVENT_MEM_BUDGET && inv->durable && inv->payload) {
                lm->event_mem -= inv->len;
                free(inv->payload);
                inv->payload = NULL;
            }
            LOG_INFO("event_retry", inv->rid, "%s attempt %d in %lld ms", fn->name,
                     inv->attempt + 1, (long long)delay);
            q_push(&fn->events, inv);
        } else {
            if (function_error)
                LOG_WARN("event_failed", inv->rid, "%s: giving up after %d attempts", fn->name,
                         inv->attempt + 1);
            send_record(inv, function_error ? "RetriesExhausted" : "Success", function_error,
                        body, len);
            event_forget(inv);
        }
    } else {
        struct lambda_result r = {.err = ERR_OK,
                                  .function_error = function_error,
                                  .body = body,
                                  .len = len,
                                  .request_id = inv->rid,
                                  .executed_version = fn->qual};
        if (inv->want_tail) {
            size_t tl = inv->tail.len, off = tl > LAMBDA_TAIL_BYTES ? tl - LAMBDA_TAIL_BYTES : 0;
            r.log_tail = inv->tail.data ? inv->tail.data + off : "";
            r.log_tail_len = tl - off;
        }
        if (inv->done)
            inv->done(inv->arg, &r);
        lambda__inv_free(inv);
    }
    lambda__dispatch_events(fn);
    lambda__fn_maybe_free(fn);
}

void lambda__drop_queues(struct lambda_fn *fn, const char *why)
{
    struct lambda_inv *inv;
    char msg[512];
    snprintf(msg, sizeof msg, "Function not found: %s", fn->arn);
    while ((inv = q_pop(&fn->pending)) != NULL) {
        admit(inv, -1);
        char *m = strdup(msg);
        inv->result = (struct lambda_result){.err = ERR_LAMBDA_NOT_FOUND,
                                             .err_msg = m ? m : "Function not found",
                                             .request_id = inv->rid};
        if (inv->done)
            inv->done(inv->arg, &inv->result);
        free(m);
        lambda__inv_free(inv);
    }
    while ((inv = q_pop(&fn->events)) != NULL) {
        LOG_INFO("event_dropped", inv->rid, "%s: %s", fn->name, why);
        lambda__inv_free(inv); /* its record went with the function's */
    }
    timer_stop(&fn->pending_timer);
    timer_stop(&fn->retry_timer);
}

void lambda__retire_envs(struct lambda_fn *fn)
{
    fn->generation++;
    while (fn->idle) {
        struct lambda_env *e = fn->idle;
        fn->idle = e->idle_next;
        e->idle_next = NULL;
        e->state = ENV_RETURNING;
        lambda__env_kill(e, KILL_RETIRE);
    }
}

bool lambda_drain(struct lambda *lm)
{
    lm->draining = true;
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->inflight > 0)
                return false;
    return true;
}
