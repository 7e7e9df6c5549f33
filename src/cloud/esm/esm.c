/*
 * esm.c — SQS event source mappings (see esm.h): the mappings, their durable rows, their
 * state transitions, and the pollers that turn queue messages into invocations.
 */
#include "cloud/esm/esm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/events/pattern.h"
#include "cloud/lambda/lambda.h"
#include "cloud/sqs/queue.h"
#include "cloud/store/store.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/timer.h"

enum {
    STATE_DELAY_MS = 50,    /* Creating → Enabled and the like (TIMER_REAL) */
    RETRY_MS = 10000,       /* a missing queue or function is looked for again (CLOCK) */
    LONG_POLL_S = 20,       /* a poller's ReceiveMessage wait */
    PAYLOAD_MARGIN = 65536, /* room left under 6 MB for the record that would not fit */
};

static const char *const SCHEMA[] = {
    "CREATE TABLE esm_mapping (uuid TEXT PRIMARY KEY, source TEXT NOT NULL,"
    " function TEXT NOT NULL, batch INTEGER NOT NULL, window INTEGER NOT NULL,"
    " maxc INTEGER NOT NULL, report INTEGER NOT NULL, filters TEXT, tags TEXT,"
    " enabled INTEGER NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL)"
    " WITHOUT ROWID;",
};
static const struct store_schema schema = {"esm", SCHEMA, 1};

struct rec {
    char id[37];
    char rh[SQS_RECEIPT_LEN + 1];
};

struct poller;

struct esm_mapping {
    struct esm *e;
    struct esm_mapping *prev, *next;
    char uuid[37];
    char *arn, *source_arn, *function_arn;
    char fn_name[200]; /* the function, with its qualifier when it has one (name:live) */
    int batch, window, maxc;
    bool report, enabled, fifo;
    json_t *filters; /* [{"Pattern": s}] or NULL */
    struct events_pattern **pats;
    size_t npats;
    json_t *tags;
    char state[16];
    char reason[32];
    int64_t created_ms, modified_ms;
    char last_result[160];
    struct timer t_state;
    struct poller *pollers;
    int npollers, invoking;
    long long batches, failures;
    bool gone; /* deleted: freed once its last poller is */
};

struct poller {
    struct esm_mapping *m;
    struct poller *next;
    struct sqs_waiter *w;
    struct sqs_queue *q; /* a reference while receiving or invoking */
    struct lambda_inv *inv;
    bool invoking;
    struct timer t; /* CLOCK: the batching window, or a retry */
    bool window_running, window_done;
    struct rec *recs;
    size_t n, cap;
    struct buf ev; /* the records so far, joined by commas */
    struct rec *drop;
    size_t ndrop, capdrop; /* filtered out: deleted */
    bool stopping;
};

struct esm {
    struct store *st;
    struct sqs *sqs;
    struct lambda *lm;
    char region[32], account[16];
    struct esm_mapping *head, *tail;
    struct store_stmt *put, *del, *all;
};

/* ---- small helpers --------------------------------------------------------------------- */

static void set_state(struct esm_mapping *m, const char *state)
{
    snprintf(m->state, sizeof m->state, "%s", state);
}

static void info_of(const struct esm_mapping *m, struct esm_info *i)
{
    *i = (struct esm_info){.uuid = m->uuid,
                           .arn = m->arn,
                           .source_arn = m->source_arn,
                           .function_arn = m->function_arn,
                           .state = m->state,
                           .state_reason = m->reason,
                           .batch_size = m->batch,
                           .window = m->window,
                           .max_concurrency = m->maxc,
                           .report_failures = m->report,
                           .filters = m->filters,
                           .last_modified_ms = m->modified_ms,
                           .last_result = m->last_result,
                           .tags = m->tags};
}

static void free_patterns(struct esm_mapping *m)
{
    for (size_t i = 0; i < m->npats; i++)
        events_pattern_free(m->pats[i]);
    free(m->pats);
    m->pats = NULL;
    m->npats = 0;
}

/* Compiles FilterCriteria.Filters into pats (n of them). ERR_LAMBDA_INVALID_PARAMETER with
 * AWS's message when one is not a valid pattern. */
static enum err compile_filters(const json_t *filters, struct events_pattern ***pats, size_t *n,
                                char *msg, size_t msglen)
{
    *pats = NULL;
    *n = 0;
    if (filters == NULL || json_is_null(filters))
        return ERR_OK;
    size_t count = json_is_array(filters) ? json_array_size(filters) : 0;
    if (!json_is_array(filters) || count > 5)
        goto bad;
    *pats = calloc(count ? count : 1, sizeof **pats);
    if (*pats == NULL) {
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    for (size_t i = 0; i < count; i++) {
        json_t *p = json_object_get(json_array_get(filters, i), "Pattern");
        char err[EVENTS_PATTERN_ERR_MAX];
        if (!json_is_string(p))
            goto bad;
        (*pats)[i] =
            events_pattern_compile(json_string_value(p), json_string_length(p), err, sizeof err);
        if ((*pats)[i] == NULL)
            goto bad;
        (*n)++;
        /* a pattern that is a JSON object, as Lambda requires */
        json_t *doc = jsonh_parse(json_string_value(p), json_string_length(p), NULL, 0);
        bool obj = json_is_object(doc);
        json_decref(doc);
        if (!obj)
            goto bad;
    }
    return ERR_OK;
bad:
    for (size_t i = 0; i < *n; i++)
        events_pattern_free((*pats)[i]);
    free(*pats);
    *pats = NULL;
    *n = 0;
    snprintf(msg, msglen, "Invalid filter pattern definition."); /* [R] */
    return ERR_LAMBDA_INVALID_PARAMETER;
}

/* ---- durable rows ---------------------------------------------------------------------------- */

static int row_put(struct store_batch *b, const struct esm_mapping *m)
{
    char *filters = m->filters ? json_dumps(m->filters, JSON_COMPACT) : NULL;
    char *tags = m->tags ? json_dumps(m->tags, JSON_COMPACT) : NULL;
    struct store_val v[12] = {
        store_text(m->uuid),   store_text(m->source_arn), store_text(m->fn_name),
        store_int(m->batch),   store_int(m->window),      store_int(m->maxc),
        store_int(m->report),  store_text(filters),       store_text(tags),
        store_int(m->enabled), store_int(m->created_ms),  store_int(m->modified_ms)};
    int rc = store_batch_add(b, m->e->put, v, 12);
    free(filters);
    free(tags);
    return rc;
}

/* ---- pollers --------------------------------------------------------------------------------- */

static void poll(struct poller *p);
static void poller_exit(struct poller *p);
static void mapping_maybe_free(struct esm_mapping *m);

static int max_pollers(struct esm_mapping *m)
{
    int max = m->maxc ? m->maxc : ESM_CONCURRENCY_DEFAULT;
    struct lambda_fn *fn = lambda_fn_find_arn(m->e->lm, m->fn_name);
    if (fn != NULL) {
        struct lambda_fn_info i;
        lambda_fn_info(fn, &i);
        if (i.reserved >= 0 && i.reserved < max)
            max = i.reserved > 0 ? i.reserved : 1;
    }
    return max;
}

static void on_poller_timer(struct timer *t);

/* A poller's batch is the invocation's payload as it grows: this, the records, then "]}". */
#define RECORDS_OPEN "{\"Records\":["

static struct poller *poller_add(struct esm_mapping *m)
{
    struct poller *p = calloc(1, sizeof *p);
    if (p == NULL || timer_init(&p->t, TIMER_CLOCK, on_poller_timer, p) != 0) {
        free(p);
        return NULL;
    }
    p->m = m;
    buf_init(&p->ev, ESM_PAYLOAD_MAX + 64); /* the records and their {"Records":[...]} */
    buf_puts(&p->ev, RECORDS_OPEN);
    p->next = m->pollers;
    m->pollers = p;
    m->npollers++;
    return p;
}

static void poller_reset(struct poller *p)
{
    p->n = 0;
    p->ndrop = 0;
    buf_reset(&p->ev);
    buf_puts(&p->ev, RECORDS_OPEN);
    p->window_running = p->window_done = false;
    timer_stop(&p->t);
}

static bool running(const struct esm_mapping *m)
{
    return !m->gone && strcmp(m->state, "Enabled") == 0;
}

static void deleted(void *arg, const struct sqs_batch_result *res, size_t n)
{
    (void)arg;
    (void)res;
    (void)n;
}

/* Deletes the messages of recs (n) from q, ten at a time. */
static void delete_recs(struct sqs_queue *q, const struct rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i += SQS_BATCH_MAX) {
        struct sqs_batch_entry e[SQS_BATCH_MAX];
        char ids[SQS_BATCH_MAX][8], msg[SQS_MSG_MAX];
        size_t k = 0;
        for (; k < SQS_BATCH_MAX && i + k < n; k++) {
            snprintf(ids[k], sizeof ids[k], "m%zu", k);
            e[k] = (struct sqs_batch_entry){.id = sqs_str_c(ids[k]),
                                            .handle = sqs_str_c(recs[i + k].rh)};
        }
        if (sqs_delete_batch(q, e, k, deleted, NULL, msg, sizeof msg) != ERR_OK)
            LOG_WARN("esm", NULL, "delete after invoke refused: %s", msg);
    }
}

/* A record's attributes in AWS's order: the standard ones, the FIFO ones between (as the
 * docs show them). */
static const char *const SYS_ORDER[] = {"ApproximateReceiveCount",
                                        "SentTimestamp",
                                        "SequenceNumber",
                                        "MessageGroupId",
                                        "SenderId",
                                        "MessageDeduplicationId",
                                        "ApproximateFirstReceiveTimestamp",
                                        "AWSTraceHeader",
                                        "DeadLetterQueueSourceArn",
                                        NULL};

static void sys_json(struct jsonw *w, const struct sqs_message *v, const char *name)
{
    for (size_t i = 0; i < v->nsys; i++)
        if (strcmp(v->sys[i].name, name) == 0)
            jw_kstrn(w, name, v->sys[i].value, v->sys[i].len);
}

/* Writes the record of v (AWS-RECORDED.md §3's member order) into w. */
static void record_json(struct jsonw *w, const struct esm_mapping *m, const struct sqs_message *v,
                        const char *region)
{
    jw_obj(w);
    jw_kstr(w, "messageId", v->message_id);
    jw_kstr(w, "receiptHandle", v->receipt);
    jw_kstrn(w, "body", v->body, v->body_len);
    jw_key(w, "attributes");
    jw_obj(w);
    for (const char *const *o = SYS_ORDER; *o; o++)
        sys_json(w, v, *o);
    jw_obj_end(w);
    jw_key(w, "messageAttributes");
    jw_obj(w);
    for (size_t i = 0; i < v->attrs.n; i++) {
        const struct sqs_attr *a = &v->attrs.a[i];
        jw_key(w, a->name);
        jw_obj(w);
        if (a->kind == SQS_ATTR_BINARY) {
            struct buf b;
            buf_init(&b, 2u << 20);
            codec_b64_encode(a->value, a->value_len, &b);
            jw_kstrn(w, "binaryValue", b.data ? b.data : "", b.len);
            buf_destroy(&b);
        } else {
            jw_kstrn(w, "stringValue", (const char *)a->value, a->value_len);
        }
        jw_key(w, "stringListValues");
        jw_arr(w);
        jw_arr_end(w);
        jw_key(w, "binaryListValues");
        jw_arr(w);
        jw_arr_end(w);
        jw_kstr(w, "dataType", a->type);
        jw_obj_end(w);
    }
    jw_obj_end(w);
    jw_key(w, "md5OfMessageAttributes");
    if (v->md5_attrs[0])
        jw_str(w, v->md5_attrs);
    else
        jw_null(w); /* [R] null, not absent */
    jw_kstr(w, "md5OfBody", v->md5_body);
    jw_kstr(w, "eventSource", "aws:sqs");
    jw_kstr(w, "eventSourceARN", m->source_arn);
    jw_kstr(w, "awsRegion", region);
    jw_obj_end(w);
}

/* Sets o[key] to v (consumed); false when v is NULL (out of memory, or a string that is not
 * UTF-8) or the set fails. */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(o, key, v) == 0;
}

/* v's message attributes as record_json writes them. NULL out of memory. */
static json_t *attrs_doc(const struct sqs_message *v)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    for (size_t i = 0; ok && i < v->attrs.n; i++) {
        const struct sqs_attr *a = &v->attrs.a[i];
        json_t *one = json_object();
        ok = put(o, a->name, one);
        if (ok && a->kind == SQS_ATTR_BINARY) {
            struct buf b;
            buf_init(&b, 2u << 20);
            codec_b64_encode(a->value, a->value_len, &b);
            ok = put(one, "binaryValue", json_stringn(b.data ? b.data : "", b.len));
            buf_destroy(&b);
        } else if (ok) {
            ok = put(one, "stringValue", json_stringn((const char *)a->value, a->value_len));
        }
        ok = ok && put(one, "stringListValues", json_array()) &&
             put(one, "binaryListValues", json_array()) &&
             put(one, "dataType", json_string(a->type));
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* v's body as the filters see it: parsed when it is a JSON object or array (AWS's rule),
 * else the string. */
static json_t *body_doc(const struct sqs_message *v)
{
    json_t *body = events_event_parse(v->body, v->body_len);
    if (json_is_object(body) || json_is_array(body))
        return body;
    json_decref(body);
    return json_stringn(v->body, v->body_len);
}

/* The record of v as the filters see it: record_json's members, made directly (never by
 * parsing the rendered record; the body is parsed once). NULL out of memory, or when a
 * string is not UTF-8 (the engine's messages always are). */
static json_t *record_doc(const struct esm_mapping *m, const struct sqs_message *v,
                          const char *region)
{
    json_t *rec = json_object(), *sys = json_object();
    bool ok = rec != NULL && sys != NULL && put(rec, "messageId", json_string(v->message_id)) &&
              put(rec, "receiptHandle", json_string(v->receipt)) && put(rec, "body", body_doc(v)) &&
              put(rec, "attributes", json_incref(sys)) &&
              put(rec, "messageAttributes", attrs_doc(v)) &&
              put(rec, "md5OfMessageAttributes",
                  v->md5_attrs[0] ? json_string(v->md5_attrs) : json_null()) &&
              put(rec, "md5OfBody", json_string(v->md5_body)) &&
              put(rec, "eventSource", json_string("aws:sqs")) &&
              put(rec, "eventSourceARN", json_string(m->source_arn)) &&
              put(rec, "awsRegion", json_string(region));
    for (const char *const *o = SYS_ORDER; ok && *o; o++)
        for (size_t i = 0; ok && i < v->nsys; i++)
            if (strcmp(v->sys[i].name, *o) == 0)
                ok = put(sys, *o, json_stringn(v->sys[i].value, v->sys[i].len));
    json_decref(sys);
    if (!ok) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

/* True when v's record passes the mapping's filters (none: every record does). */
static bool passes(const struct esm_mapping *m, const struct sqs_message *v, const char *region)
{
    if (m->npats == 0)
        return true;
    json_t *rec = record_doc(m, v, region);
    bool ok = false;
    for (size_t i = 0; rec != NULL && i < m->npats && !ok; i++)
        ok = events_pattern_match(m->pats[i], rec);
    json_decref(rec);
    return ok;
}

static bool grow(struct rec **a, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    struct rec *n = realloc(*a, c * sizeof *n);
    if (n == NULL)
        return false;
    *a = n;
    *cap = c;
    return true;
}

/* ---- invoking ---- */

/* Orders records by message id, then by their place in the batch. */
static int rec_cmp(const void *a, const void *b)
{
    const struct rec *x = *(const struct rec *const *)a, *y = *(const struct rec *const *)b;
    int c = strcmp(x->id, y->id);
    return c != 0 ? c : (x > y) - (x < y);
}

/* The first record (in batch order) of the n in by_id (sorted by rec_cmp) with message id
 * id; NULL when none has it. */
static const struct rec *rec_find(const struct rec *const *by_id, size_t n, const char *id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(by_id[mid]->id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(by_id[lo]->id, id) == 0 ? by_id[lo] : NULL;
}

/* The failed item ids of a ReportBatchItemFailures answer into failed (true per record);
 * false when the answer fails the whole batch (AWS-CONTRACTS.md §4), or out of memory. The
 * ids are looked up in the batch sorted once: n log n for a batch of n. */
static bool item_failures(const struct poller *p, const char *body, size_t len, bool *failed)
{
    if (len == 0)
        return true;
    json_t *doc = jsonh_parse(body, len, NULL, 0);
    const struct rec **by_id = NULL;
    bool ok = false;
    if (doc == NULL)
        goto out; /* invalid JSON */
    if (json_is_null(doc)) {
        ok = true;
        goto out;
    }
    if (!json_is_object(doc))
        goto out;
    json_t *list = json_object_get(doc, "batchItemFailures");
    if (list == NULL || json_is_null(list)) {
        ok = true;
        goto out;
    }
    if (!json_is_array(list))
        goto out;
    if (json_array_size(list) > 0) {
        by_id = malloc((p->n ? p->n : 1) * sizeof *by_id);
        if (by_id == NULL)
            goto out;
        for (size_t k = 0; k < p->n; k++)
            by_id[k] = &p->recs[k];
        qsort(by_id, p->n, sizeof *by_id, rec_cmp);
    }
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        json_t *id = json_object_get(it, "itemIdentifier");
        if (!json_is_string(id) || json_string_length(id) == 0)
            goto out;
        const struct rec *r = rec_find(by_id, p->n, json_string_value(id));
        if (r == NULL)
            goto out; /* an unknown message id */
        failed[r - p->recs] = true;
    }
    ok = true;
out:
    free(by_id);
    json_decref(doc);
    return ok;
}

static void invoked(void *arg, const struct lambda_result *res)
{
    struct poller *p = arg;
    struct esm_mapping *m = p->m;
    p->inv = NULL;
    p->invoking = false;
    m->invoking--;
    bool whole = false, throttled = false;
    bool *failed = calloc(p->n ? p->n : 1, sizeof *failed);
    if (res->err != ERR_OK) {
        whole = true;
        throttled = res->err == ERR_LAMBDA_TOO_MANY_REQUESTS;
        snprintf(m->last_result, sizeof m->last_result, "PROBLEM: Function call failed");
    } else if (res->function_error) {
        whole = true;
        snprintf(m->last_result, sizeof m->last_result, "PROBLEM: Function call failed");
    } else if (m->report && (failed == NULL || !item_failures(p, res->body, res->len, failed))) {
        whole = true;
        snprintf(m->last_result, sizeof m->last_result, "PROBLEM: Function call failed");
    } else {
        snprintf(m->last_result, sizeof m->last_result, "OK");
    }
    m->batches++;
    if (!whole && p->q != NULL && !sqs_queue_deleted(p->q)) {
        /* the successes go; with ReportBatchItemFailures the listed ones stay */
        size_t k = 0;
        for (size_t i = 0; i < p->n; i++)
            if (!failed || !failed[i])
                p->recs[k++] = p->recs[i];
        if (k < p->n)
            m->failures++;
        delete_recs(p->q, p->recs, k);
    } else if (whole) {
        m->failures++;
    }
    free(failed);
    if (p->q) {
        sqs_queue_release(p->q);
        p->q = NULL;
    }
    poller_reset(p);
    if (p->stopping || !running(m) || (throttled && m->npollers > 1)) {
        poller_exit(p);
        return;
    }
    poll(p);
}

static void invoke(struct poller *p)
{
    struct esm_mapping *m = p->m;
    struct lambda_fn *fn = lambda_fn_find_arn(m->e->lm, m->fn_name);
    timer_stop(&p->t);
    p->window_running = false;
    if (p->ndrop > 0 && p->q != NULL) {
        delete_recs(p->q, p->drop, p->ndrop); /* filtered out: AWS deletes them */
        p->ndrop = 0;
    }
    if (p->n == 0) {
        if (p->q) {
            sqs_queue_release(p->q);
            p->q = NULL;
        }
        poller_reset(p);
        poll(p);
        return;
    }
    buf_puts(&p->ev, "]}");
    char rid[37];
    struct lambda_inv *inv = NULL;
    p->invoking = true;
    m->invoking++;
    if (fn != NULL)
        inv = lambda_invoke(m->e->lm, fn, LAMBDA_INV_SYNC, p->ev.data, p->ev.len, NULL, false,
                            invoked, p, rid);
    if (inv == NULL) {
        /* no function (or no memory): the batch fails, the messages come back */
        struct lambda_result r = {.err = ERR_LAMBDA_SERVICE};
        invoked(p, &r);
        return;
    }
    p->inv = inv;
}

/* ---- receiving ---- */

enum added { ADD_OK, ADD_DROP, ADD_NO_ROOM };

/* Writes v's record straight into p's payload. ADD_OK; ADD_DROP when the record is larger
 * than a payload on its own (AWS deletes it); ADD_NO_ROOM when it does not fit beside the
 * records already there (the payload is left as it was). */
static enum added add_record(struct poller *p, const struct sqs_message *v, const char *region)
{
    size_t mark = p->ev.len;
    if (p->n > 0 && buf_puts(&p->ev, ",") != BUF_OK)
        return ADD_NO_ROOM;
    size_t start = p->ev.len;
    struct jsonw w;
    jw_init(&w, &p->ev);
    record_json(&w, p->m, v, region);
    bool written = jw_ok(&w);
    if (written && p->ev.len - start <= ESM_PAYLOAD_MAX)
        return ADD_OK;
    p->ev.len = mark; /* back to the records before it, NUL-terminated as a buf keeps it */
    p->ev.data[mark] = '\0';
    return written || p->n == 0 ? ADD_DROP : ADD_NO_ROOM;
}

static void received(void *arg, enum err e, const char *msg, const struct sqs_message *v, size_t n)
{
    struct poller *p = arg;
    struct esm_mapping *m = p->m;
    (void)msg;
    p->w = NULL;
    if (e != ERR_OK) {
        snprintf(m->last_result, sizeof m->last_result, "PROBLEM: %s", err_code(e));
        if (p->q) {
            sqs_queue_release(p->q);
            p->q = NULL;
        }
        poller_reset(p);
        timer_start(&p->t, RETRY_MS);
        return;
    }
    const char *region = sqs_region(m->e->sqs);
    size_t want = (size_t)(m->batch < SQS_RECEIVE_BATCH_MAX ? m->batch : SQS_RECEIVE_BATCH_MAX);
    bool no_room = false;
    for (size_t i = 0; i < n && !no_room; i++) {
        struct rec r;
        snprintf(r.id, sizeof r.id, "%s", v[i].message_id);
        snprintf(r.rh, sizeof r.rh, "%s", v[i].receipt);
        enum added a = ADD_DROP; /* filtered out */
        if (passes(m, &v[i], region))
            a = grow(&p->recs, &p->cap, p->n + 1) ? add_record(p, &v[i], region) : ADD_NO_ROOM;
        if (a == ADD_OK)
            p->recs[p->n++] = r;
        else if (a == ADD_DROP && grow(&p->drop, &p->capdrop, p->ndrop + 1))
            p->drop[p->ndrop++] = r;
        else if (a == ADD_NO_ROOM && p->n > 0)
            no_room = true; /* it and the rest stay in flight: they show again, in order */
    }
    /* a full receive means a backlog: one more poller, up to the limit */
    if (n == want && n > 0 && running(m) && m->npollers < max_pollers(m)) {
        struct poller *np = poller_add(m);
        if (np)
            poll(np);
    }
    bool full =
        no_room || p->n >= (size_t)m->batch || p->ev.len + PAYLOAD_MARGIN >= ESM_PAYLOAD_MAX;
    if (n == 0 && p->n == 0 && p->ndrop == 0) {
        /* the long poll came back empty: one poller less when several wait */
        if (p->q) {
            sqs_queue_release(p->q);
            p->q = NULL;
        }
        if (p->stopping || !running(m) || m->npollers > 1) {
            poller_exit(p);
            return;
        }
        poll(p);
        return;
    }
    if (full || m->window == 0 || p->window_done || p->stopping || !running(m)) {
        invoke(p);
        return;
    }
    if (!p->window_running) {
        p->window_running = true;
        timer_start(&p->t, (int64_t)m->window * 1000);
    }
    poll(p);
}

static void on_poller_timer(struct timer *t)
{
    struct poller *p = t->data;
    if (p->window_running) {
        p->window_running = false;
        p->window_done = true;
        if (p->w != NULL) {
            if (!sqs_receive_try_cancel(p->w))
                return; /* it answers with messages: received() invokes */
            p->w = NULL;
        }
        if (!p->invoking)
            invoke(p);
        return;
    }
    poll(p); /* a retry */
}

static void poll(struct poller *p)
{
    struct esm_mapping *m = p->m;
    if (p->stopping || !running(m)) {
        poller_exit(p);
        return;
    }
    struct sqs_queue *q = p->q;
    if (q == NULL) {
        q = sqs_queue_by_arn(m->e->sqs, m->source_arn, strlen(m->source_arn));
        if (q == NULL) {
            snprintf(m->last_result, sizeof m->last_result,
                     "PROBLEM: Error occurred while ReceiveMessage. SQS Error Code: "
                     "AWS.SimpleQueueService.NonExistentQueue");
            timer_start(&p->t, RETRY_MS);
            return;
        }
        sqs_queue_retain(q);
        p->q = q;
    }
    if (lambda_fn_find_arn(m->e->lm, m->fn_name) == NULL) {
        snprintf(m->last_result, sizeof m->last_result, "PROBLEM: Function not found");
        sqs_queue_release(p->q);
        p->q = NULL;
        timer_start(&p->t, RETRY_MS);
        return;
    }
    size_t left = (size_t)m->batch - p->n;
    static const struct sqs_str all[] = {{"All", 3}};
    struct sqs_receive_req req = {
        .p = {.has_max = true,
              .max = (long long)(left < SQS_RECEIVE_BATCH_MAX ? left : SQS_RECEIVE_BATCH_MAX),
              .has_wait = true,
              .wait = LONG_POLL_S},
        .sys_mask = UINT32_MAX,
        .names = all,
        .nnames = 1};
    char msg[SQS_MSG_MAX];
    struct sqs_waiter *w = NULL;
    if (sqs_receive(q, &req, received, p, &w, msg, sizeof msg) != ERR_OK) {
        snprintf(m->last_result, sizeof m->last_result, "PROBLEM: %.80s", msg);
        timer_start(&p->t, RETRY_MS);
        return;
    }
    p->w = w;
}

static void poller_free(struct poller *p)
{
    timer_destroy(&p->t);
    buf_destroy(&p->ev);
    free(p->recs);
    free(p->drop);
    if (p->q)
        sqs_queue_release(p->q);
    free(p);
}

/* Takes p out of its mapping and frees it (it must not be waiting or invoking). */
static void poller_exit(struct poller *p)
{
    struct esm_mapping *m = p->m;
    for (struct poller **pp = &m->pollers; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    m->npollers--;
    poller_free(p);
    mapping_maybe_free(m);
}

/* Stops m's pollers: waiting ones now, busy ones when their batch is done. */
static void stop_pollers(struct esm_mapping *m)
{
    struct poller *p = m->pollers;
    while (p) {
        struct poller *next = p->next;
        p->stopping = true;
        if (p->invoking) {
            p = next;
            continue;
        }
        if (p->w != NULL && !sqs_receive_try_cancel(p->w)) {
            p = next; /* answering with messages: received() invokes, then it stops */
            continue;
        }
        p->w = NULL;
        if (p->n > 0) {
            invoke(p); /* what was gathered is handed over (it then stops) */
        } else {
            poller_exit(p);
        }
        p = next;
    }
}

static void start_pollers(struct esm_mapping *m)
{
    if (m->npollers == 0) {
        struct poller *p = poller_add(m);
        if (p)
            poll(p);
    }
}

/* ---- mappings ------------------------------------------------------------------------------- */

static void mapping_free(struct esm_mapping *m)
{
    timer_destroy(&m->t_state);
    free_patterns(m);
    json_decref(m->filters);
    json_decref(m->tags);
    free(m->arn);
    free(m->source_arn);
    free(m->function_arn);
    free(m);
}

static void unlink_mapping(struct esm *e, struct esm_mapping *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        e->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        e->tail = m->prev;
    m->prev = m->next = NULL;
}

static void mapping_maybe_free(struct esm_mapping *m)
{
    if (m->gone && m->npollers == 0) {
        unlink_mapping(m->e, m);
        mapping_free(m);
    }
}

static void on_state_timer(struct timer *t)
{
    struct esm_mapping *m = t->data;
    if (strcmp(m->state, "Deleting") == 0) {
        m->gone = true; /* invisible from now on; freed with its last poller */
        if (m->npollers == 0)
            mapping_maybe_free(m);
        else
            stop_pollers(m); /* the last one to leave frees m: not touched after this */
        return;
    }
    set_state(m, m->enabled ? "Enabled" : "Disabled");
    if (m->enabled)
        start_pollers(m);
    else
        stop_pollers(m);
}

static struct esm_mapping *find(struct esm *e, const char *uuid)
{
    for (struct esm_mapping *m = e->head; m; m = m->next)
        if (!m->gone && strcmp(m->uuid, uuid) == 0)
            return m;
    return NULL;
}

static struct esm_mapping *mapping_new(struct esm *e, const char *uuid, const char *source,
                                       const char *fn_name)
{
    struct esm_mapping *m = calloc(1, sizeof *m);
    if (m == NULL || timer_init(&m->t_state, TIMER_REAL, on_state_timer, m) != 0) {
        free(m);
        return NULL;
    }
    m->e = e;
    snprintf(m->uuid, sizeof m->uuid, "%s", uuid);
    snprintf(m->fn_name, sizeof m->fn_name, "%s", fn_name);
    size_t al = strlen(e->region) + strlen(e->account) + 96 + 200;
    m->arn = malloc(al);
    m->function_arn = malloc(al);
    m->source_arn = strdup(source);
    if (m->arn == NULL || m->function_arn == NULL || m->source_arn == NULL) {
        mapping_free(m);
        return NULL;
    }
    snprintf(m->arn, al, "arn:aws:lambda:%s:%s:event-source-mapping:%s", e->region, e->account,
             uuid);
    snprintf(m->function_arn, al, "arn:aws:lambda:%s:%s:function:%s", e->region, e->account,
             fn_name);
    snprintf(m->reason, sizeof m->reason, "USER_INITIATED");
    snprintf(m->last_result, sizeof m->last_result, "No records processed");
    m->batch = ESM_BATCH_DEFAULT;
    m->enabled = true;
    return m;
}

static void link_mapping(struct esm *e, struct esm_mapping *m)
{
    m->prev = e->tail;
    m->next = NULL;
    if (e->tail)
        e->tail->next = m;
    else
        e->head = m;
    e->tail = m;
}

/* A FunctionName as name[:qualifier] (a version or an alias; $LATEST is the function). */
static enum err qualified_name(const char *function, char name[200], char *msg, size_t msglen)
{
    char bare[80], qual[140];
    enum err rc = lambda_resolve_ref(function, strlen(function), bare, sizeof bare, qual,
                                     sizeof qual, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    if (qual[0] == '\0' || strcmp(qual, "$LATEST") == 0)
        snprintf(name, 200, "%s", bare);
    else
        snprintf(name, 200, "%.64s:%.128s", bare, qual);
    return ERR_OK;
}

/* Resolves FunctionName to a function of ours (a qualified one too): name[:qualifier]. */
static enum err function_of(struct esm *e, const char *function, char name[200], char *msg,
                            size_t msglen)
{
    if (function == NULL) {
        snprintf(msg, msglen,
                 "1 validation error detected: Value null at 'functionName' failed to "
                 "satisfy constraint: Member must not be null");
        return ERR_LAMBDA_VALIDATION;
    }
    enum err rc = qualified_name(function, name, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    if (lambda_fn_find_arn(e->lm, name) == NULL) {
        lambda_not_found_msg(e->lm, name, msg, msglen);
        return ERR_LAMBDA_NOT_FOUND;
    }
    return ERR_OK;
}

/* Checks a spec against the mapping it would make (m's current values, for updates). */
static enum err check_spec(const struct esm_spec *s, bool fifo, int batch, int window, char *msg,
                           size_t msglen)
{
    if (s->has_batch_size) {
        long long max = fifo ? ESM_BATCH_MAX_FIFO : ESM_BATCH_MAX;
        if (s->batch_size < 1 || s->batch_size > max) {
            snprintf(msg, msglen,
                     fifo ? "Invalid batch size for FIFO queue. Batch size must be between 1 "
                            "and 10." /* [E] */
                          : "1 validation error detected: Value %lld at 'batchSize' failed to "
                            "satisfy constraint: Member must have value less than or equal to "
                            "10000",
                     s->batch_size);
            return fifo ? ERR_LAMBDA_INVALID_PARAMETER : ERR_LAMBDA_VALIDATION;
        }
        batch = (int)s->batch_size;
    }
    if (s->has_window) {
        if (s->window < 0 || s->window > ESM_WINDOW_MAX) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value %lld at 'maximumBatchingWindowInSeconds' "
                     "failed to satisfy constraint: Member must have value %s",
                     s->window,
                     s->window < 0 ? "greater than or equal to 0" : "less than or equal to 300");
            return ERR_LAMBDA_VALIDATION;
        }
        window = (int)s->window;
    }
    if (batch > 10 && window < 1) {
        snprintf(msg, msglen,
                 "Maximum batch window in seconds must be greater than 0 if maximum "
                 "batch size is greater than 10"); /* [R] */
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    if (s->has_max_concurrency && s->max_concurrency != 0 &&
        (s->max_concurrency < 2 || s->max_concurrency > 1000)) {
        snprintf(msg, msglen,
                 "1 validation error detected: Value %lld at 'scalingConfig.maximumConcurrency' "
                 "failed to satisfy constraint: Member must have value %s",
                 s->max_concurrency,
                 s->max_concurrency < 2 ? "greater than or equal to 2"
                                        : "less than or equal to 1000");
        return ERR_LAMBDA_VALIDATION;
    }
    return ERR_OK;
}

/* Applies the given fields of s to m (checked before). */
static void apply_spec(struct esm_mapping *m, const struct esm_spec *s,
                       struct events_pattern **pats, size_t npats)
{
    if (s->has_batch_size)
        m->batch = (int)s->batch_size;
    if (s->has_window)
        m->window = (int)s->window;
    if (s->has_enabled)
        m->enabled = s->enabled;
    if (s->has_max_concurrency)
        m->maxc = (int)s->max_concurrency;
    if (s->has_response_types)
        m->report = s->report_failures;
    if (s->has_filters) {
        free_patterns(m);
        json_decref(m->filters);
        m->filters =
            s->filters && json_array_size(s->filters) > 0 ? json_deep_copy(s->filters) : NULL;
        m->pats = pats;
        m->npats = npats;
    }
    m->modified_ms = clock_now_ms();
}

/* ---- commands -------------------------------------------------------------------------------- */

struct op {
    struct esm *e;
    struct esm_mapping *m;
    esm_done_fn done;
    void *arg;
    bool create, del;
    char next_state[16];
};

static void op_committed(void *arg, int rc)
{
    struct op *o = arg;
    struct esm_mapping *m = o->m;
    if (rc != 0) {
        if (o->create) {
            unlink_mapping(o->e, m);
            mapping_free(m);
        }
        o->done(o->arg, ERR_LAMBDA_SERVICE, err_message(ERR_LAMBDA_SERVICE), NULL);
        free(o);
        return;
    }
    set_state(m, o->next_state);
    timer_start(&m->t_state, STATE_DELAY_MS);
    struct esm_info i;
    info_of(m, &i);
    o->done(o->arg, ERR_OK, NULL, &i);
    free(o);
}

static enum err submit(struct op *o, struct store_batch *b, char *msg, size_t msglen)
{
    if (b == NULL) {
        free(o);
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    store_batch_submit(o->e->st, b, op_committed, o);
    return ERR_OK;
}

enum err esm_create(struct esm *e, const struct esm_spec *s, esm_done_fn done, void *arg, char *msg,
                    size_t msglen)
{
    char name[200];
    enum err rc = function_of(e, s->function, name, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    if (s->source_arn == NULL) {
        snprintf(msg, msglen,
                 "Unrecognized event source, must be kinesis, dynamodb stream or sqs."); /* [E] */
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    struct sqs_queue *q = sqs_queue_by_arn(e->sqs, s->source_arn, strlen(s->source_arn));
    if (q == NULL) {
        snprintf(msg, msglen,
                 "Error occurred while ReceiveMessage. SQS Error Code: "
                 "AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The "
                 "specified queue does not exist."); /* [R] */
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    bool fifo = sqs_queue_is_fifo(q);
    rc = check_spec(s, fifo, ESM_BATCH_DEFAULT, 0, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    struct events_pattern **pats = NULL;
    size_t npats = 0;
    rc = compile_filters(s->filters, &pats, &npats, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    for (struct esm_mapping *m = e->head; m; m = m->next)
        if (!m->gone && strcmp(m->source_arn, s->source_arn) == 0 &&
            strcmp(m->fn_name, name) == 0) {
            snprintf(msg, msglen,
                     "An event source mapping with SQS arn (\" %s \") and function (\" %s \") "
                     "already exists. Please update or delete the existing mapping with UUID %s",
                     s->source_arn, name, m->uuid); /* [R] */
            for (size_t i = 0; i < npats; i++)
                events_pattern_free(pats[i]);
            free(pats);
            return ERR_LAMBDA_CONFLICT;
        }
    char uuid[37];
    ids_uuid4(uuid);
    struct esm_mapping *m = mapping_new(e, uuid, s->source_arn, name);
    struct op *o = calloc(1, sizeof *o);
    if (m == NULL || o == NULL) {
        for (size_t i = 0; i < npats; i++)
            events_pattern_free(pats[i]);
        free(pats);
        if (m)
            mapping_free(m);
        free(o);
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    m->fifo = fifo;
    struct esm_spec all = *s;
    all.has_filters = true;
    apply_spec(m, &all, pats, npats);
    if (s->tags && json_is_object(s->tags))
        m->tags = json_deep_copy(s->tags);
    m->created_ms = m->modified_ms;
    set_state(m, "Creating");
    link_mapping(e, m);
    *o = (struct op){.e = e, .m = m, .done = done, .arg = arg, .create = true};
    snprintf(o->next_state, sizeof o->next_state, "Creating");
    struct store_batch *b = store_batch_new(e->st);
    if (b)
        row_put(b, m);
    return submit(o, b, msg, msglen);
}

enum err esm_update(struct esm *e, const char *uuid, const struct esm_spec *s, esm_done_fn done,
                    void *arg, char *msg, size_t msglen)
{
    struct esm_mapping *m = find(e, uuid);
    if (m == NULL || strcmp(m->state, "Deleting") == 0) {
        snprintf(msg, msglen, "The resource you requested does not exist."); /* [E] */
        return ERR_LAMBDA_NOT_FOUND;
    }
    char name[200];
    if (s->function != NULL) {
        enum err rc = function_of(e, s->function, name, msg, msglen);
        if (rc != ERR_OK)
            return rc;
    }
    enum err rc = check_spec(s, m->fifo, m->batch, m->window, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    struct events_pattern **pats = NULL;
    size_t npats = 0;
    if (s->has_filters && (rc = compile_filters(s->filters, &pats, &npats, msg, msglen)) != ERR_OK)
        return rc;
    struct op *o = calloc(1, sizeof *o);
    if (o == NULL) {
        for (size_t i = 0; i < npats; i++)
            events_pattern_free(pats[i]);
        free(pats);
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    bool was = m->enabled;
    apply_spec(m, s, pats, npats);
    if (s->function != NULL) {
        snprintf(m->fn_name, sizeof m->fn_name, "%s", name);
        snprintf(m->function_arn, strlen(e->region) + strlen(e->account) + 96 + 200,
                 "arn:aws:lambda:%s:%s:function:%s", e->region, e->account, name);
    }
    *o = (struct op){.e = e, .m = m, .done = done, .arg = arg};
    snprintf(o->next_state, sizeof o->next_state, "%s",
             was == m->enabled ? "Updating"
             : m->enabled      ? "Enabling"
                               : "Disabling");
    struct store_batch *b = store_batch_new(e->st);
    if (b)
        row_put(b, m);
    return submit(o, b, msg, msglen);
}

enum err esm_delete(struct esm *e, const char *uuid, esm_done_fn done, void *arg, char *msg,
                    size_t msglen)
{
    struct esm_mapping *m = find(e, uuid);
    if (m == NULL || strcmp(m->state, "Deleting") == 0) {
        snprintf(msg, msglen, "The resource you requested does not exist."); /* [E] */
        return ERR_LAMBDA_NOT_FOUND;
    }
    struct op *o = calloc(1, sizeof *o);
    if (o == NULL) {
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    *o = (struct op){.e = e, .m = m, .done = done, .arg = arg, .del = true};
    snprintf(o->next_state, sizeof o->next_state, "Deleting");
    struct store_val v[1] = {store_text(m->uuid)};
    struct store_batch *b = store_batch_new(e->st);
    if (b)
        store_batch_add(b, e->del, v, 1);
    return submit(o, b, msg, msglen);
}

bool esm_get(struct esm *e, const char *uuid, struct esm_info *out)
{
    struct esm_mapping *m = find(e, uuid);
    if (m == NULL)
        return false;
    info_of(m, out);
    return true;
}

void esm_list(struct esm *e, const char *source_arn, const char *function, const char *marker,
              long long max, void (*emit)(void *arg, const struct esm_info *m), void *arg,
              const char **next)
{
    char name[200] = "", msg[256];
    *next = NULL;
    if (function && qualified_name(function, name, msg, sizeof msg) != ERR_OK)
        return;
    bool started = marker == NULL;
    long long n = 0;
    for (struct esm_mapping *m = e->head; m; m = m->next) {
        if (m->gone)
            continue;
        if (!started) {
            started = strcmp(m->uuid, marker) == 0;
            continue;
        }
        /* a function's name takes its mappings on any version or alias too */
        size_t nl = strlen(name);
        bool same_fn = strcmp(name, m->fn_name) == 0 ||
                       (strchr(name, ':') == NULL && strncmp(m->fn_name, name, nl) == 0 &&
                        m->fn_name[nl] == ':');
        if ((source_arn && strcmp(source_arn, m->source_arn) != 0) || (function && !same_fn))
            continue;
        if (n == max) {
            *next = m->prev ? m->prev->uuid : NULL;
            return;
        }
        struct esm_info i;
        info_of(m, &i);
        emit(arg, &i);
        n++;
    }
}

static struct esm_mapping *by_arn(struct esm *e, const char *arn)
{
    for (struct esm_mapping *m = e->head; m; m = m->next)
        if (!m->gone && strcmp(m->arn, arn) == 0)
            return m;
    return NULL;
}

bool esm_tags(struct esm *e, const char *arn, const json_t **tags)
{
    struct esm_mapping *m = by_arn(e, arn);
    if (m == NULL)
        return false;
    *tags = m->tags;
    return true;
}

enum err esm_tag(struct esm *e, const char *arn, const json_t *tags, const json_t *keys,
                 esm_done_fn done, void *arg, char *msg, size_t msglen)
{
    struct esm_mapping *m = by_arn(e, arn);
    if (m == NULL) {
        snprintf(msg, msglen, "The resource you requested does not exist."); /* [E] */
        return ERR_LAMBDA_NOT_FOUND;
    }
    json_t *t = m->tags ? json_deep_copy(m->tags) : json_object();
    if (t == NULL) {
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    if (tags)
        json_object_update(t, (json_t *)tags);
    size_t i;
    json_t *k;
    json_array_foreach((json_t *)keys, i, k) json_object_del(t, json_string_value(k));
    json_decref(m->tags);
    m->tags = t;
    struct op *o = calloc(1, sizeof *o);
    if (o == NULL) {
        snprintf(msg, msglen, "%s", err_message(ERR_LAMBDA_SERVICE));
        return ERR_LAMBDA_SERVICE;
    }
    *o = (struct op){.e = e, .m = m, .done = done, .arg = arg};
    snprintf(o->next_state, sizeof o->next_state, "%s", m->state);
    struct store_batch *b = store_batch_new(e->st);
    if (b)
        row_put(b, m);
    return submit(o, b, msg, msglen);
}

/* ---- provisioning ---- */

struct prov {
    bool called;
    enum err e;
    char msg[512];
};

static void prov_done(void *arg, enum err e, const char *msg, const struct esm_info *m)
{
    (void)m;
    struct prov *p = arg;
    p->called = true;
    p->e = e;
    snprintf(p->msg, sizeof p->msg, "%s", msg ? msg : "");
}

enum err esm_provision(struct esm *e, const struct esm_spec *s, char *msg, size_t msglen)
{
    char name[200];
    enum err rc = function_of(e, s->function, name, msg, msglen);
    if (rc != ERR_OK)
        return rc;
    struct esm_mapping *found = NULL;
    for (struct esm_mapping *m = e->head; m; m = m->next)
        if (!m->gone && strcmp(m->source_arn, s->source_arn) == 0 && strcmp(m->fn_name, name) == 0)
            found = m;
    struct prov p = {0};
    if (found) {
        struct esm_spec u = *s;
        u.function = NULL;
        u.has_filters = false;
        rc = esm_update(e, found->uuid, &u, prov_done, &p, msg, msglen);
    } else {
        rc = esm_create(e, s, prov_done, &p, msg, msglen);
    }
    if (rc != ERR_OK)
        return rc;
    store_flush(e->st);
    if (!p.called)
        return ERR_LAMBDA_SERVICE;
    if (p.e != ERR_OK)
        snprintf(msg, msglen, "%s", p.msg);
    return p.e;
}

/* ---- health ---- */

json_t *esm_health_json(const struct esm *e)
{
    json_t *a = json_array();
    for (const struct esm_mapping *m = e->head; a && m; m = m->next) {
        if (m->gone)
            continue;
        const char *colon = strrchr(m->source_arn, ':');
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:s}", "uuid",
                                           m->uuid, "source", colon ? colon + 1 : m->source_arn,
                                           "function", m->fn_name, "state", m->state, "pollers",
                                           m->npollers, "in_flight", m->invoking, "batches",
                                           (json_int_t)m->batches, "failures",
                                           (json_int_t)m->failures, "last_result", m->last_result));
    }
    return a;
}

/* ---- lifecycle ---- */

static bool load_row(void *arg, const struct store_row *r)
{
    struct esm *e = arg;
    size_t n;
    char uuid[37], source[256], fn[65];
    const char *t = store_row_text(r, 0, &n);
    snprintf(uuid, sizeof uuid, "%.*s", (int)n, t);
    t = store_row_text(r, 1, &n);
    snprintf(source, sizeof source, "%.*s", (int)n, t);
    t = store_row_text(r, 2, &n);
    snprintf(fn, sizeof fn, "%.*s", (int)n, t);
    struct esm_mapping *m = mapping_new(e, uuid, source, fn);
    if (m == NULL)
        return true;
    m->batch = (int)store_row_int(r, 3);
    m->window = (int)store_row_int(r, 4);
    m->maxc = (int)store_row_int(r, 5);
    m->report = store_row_int(r, 6) != 0;
    if (!store_row_is_null(r, 7)) {
        t = store_row_text(r, 7, &n);
        m->filters = jsonh_parse(t, n, NULL, 0);
        char msg[256];
        if (compile_filters(m->filters, &m->pats, &m->npats, msg, sizeof msg) != ERR_OK) {
            json_decref(m->filters);
            m->filters = NULL;
        }
    }
    if (!store_row_is_null(r, 8)) {
        t = store_row_text(r, 8, &n);
        m->tags = jsonh_parse(t, n, NULL, 0);
    }
    m->enabled = store_row_int(r, 9) != 0;
    m->created_ms = store_row_int(r, 10);
    m->modified_ms = store_row_int(r, 11);
    struct sqs_queue *q = sqs_queue_by_arn(e->sqs, source, strlen(source));
    m->fifo = q != NULL && sqs_queue_is_fifo(q);
    set_state(m, m->enabled ? "Enabling" : "Disabled");
    link_mapping(e, m);
    if (m->enabled)
        timer_start(&m->t_state, 0);
    return true;
}

struct esm *esm_new(struct store *st, struct sqs *sqs, struct lambda *lm, const char *region,
                    const char *account, char *err, size_t errlen)
{
    struct esm *e = calloc(1, sizeof *e);
    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->st = st;
    e->sqs = sqs;
    e->lm = lm;
    snprintf(e->region, sizeof e->region, "%s", region);
    snprintf(e->account, sizeof e->account, "%s", account);
    if (store_schema_apply(st, &schema, err, errlen) != 0 ||
        (e->put = store_prepare(st,
                                "INSERT OR REPLACE INTO esm_mapping (uuid, source, function, "
                                "batch, window, maxc, report, filters, tags, enabled, created, "
                                "modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                                "?11, ?12)",
                                err, errlen)) == NULL ||
        (e->del = store_prepare(st, "DELETE FROM esm_mapping WHERE uuid = ?1", err, errlen)) ==
            NULL ||
        (e->all = store_prepare(st,
                                "SELECT uuid, source, function, batch, window, maxc, report, "
                                "filters, tags, enabled, created, modified FROM esm_mapping "
                                "ORDER BY created",
                                err, errlen)) == NULL) {
        free(e);
        return NULL;
    }
    store_query(st, e->all, NULL, 0, load_row, e);
    return e;
}

void esm_free(struct esm *e)
{
    if (e == NULL)
        return;
    while (e->head) {
        struct esm_mapping *m = e->head;
        unlink_mapping(e, m);
        while (m->pollers) {
            struct poller *p = m->pollers;
            m->pollers = p->next;
            if (p->w)
                sqs_receive_cancel(p->w);
            if (p->inv)
                lambda_inv_detach(p->inv);
            poller_free(p);
        }
        mapping_free(m);
    }
    free(e);
}
