/*
 * worker.c — the SQS-fed function (see worker.h).
 */
#include "functions/worker/worker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/ids.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "functions/common/taskdb.h"
#include "functions/worker/tasks/kind.h"
#include "runtime/runtime_log.h"

/* The decision table (see worker.h): {mark_failed, report_failure} for a delivery that is
 * not the last, then for the last one. */
static const struct {
    struct worker_action not_last, last;
} DECISIONS[] = {
    [WORKER_SUCCEEDED] = {{false, false}, {false, false}},
    [WORKER_FAILED_RETRY] = {{false, true}, {true, true}},
    [WORKER_FAILED_FOREVER] = {{true, false}, {true, false}},
    [WORKER_DUPLICATE] = {{false, false}, {false, false}},
    [WORKER_BUSY] = {{false, true}, {false, true}},
    [WORKER_MISSING] = {{false, false}, {false, false}},
    [WORKER_NO_TIME] = {{false, true}, {true, true}},
    [WORKER_STORE_ERROR] = {{false, true}, {false, true}},
    [WORKER_BAD_MESSAGE] = {{false, true}, {false, true}},
};

struct worker_action worker_decide(enum worker_event ev, bool last_delivery)
{
    if ((size_t)ev >= sizeof DECISIONS / sizeof DECISIONS[0])
        return (struct worker_action){false, true};
    return last_delivery ? DECISIONS[ev].last : DECISIONS[ev].not_last;
}

int worker_init(void *user, struct runtime_error *err)
{
    return fn_app_init(user, err);
}

/* One SQS record, as the event source mapping hands it over. */
struct record {
    const char *message_id;
    const char *body;
    size_t body_len;
    long receive_count;
    int64_t sent_ms;
};

static long attr_long(json_t *attrs, const char *name)
{
    const char *v = json_string_value(json_object_get(attrs, name));
    char *end;
    if (v == NULL)
        return 0;
    errno = 0;
    long n = strtol(v, &end, 10);
    return errno == 0 && *end == '\0' ? n : 0;
}

/* Everything one record's processing needs. */
struct job {
    struct fn_app *app;
    struct taskdb db;
    const struct runtime_invocation *inv;
    struct record rec;
    bool last;
    char id[WORKER_ID_MAX + 1];
    char kind[TASK_KIND_MAX];
    char run_id[33];
    struct task_outcome outcome;
    int64_t duration_ms;
};

static void log_record(enum runtime_log_level level, const char *message, const struct job *j,
                       const char *code, const char *detail)
{
    char count[24];
    snprintf(count, sizeof count, "%ld", j->rec.receive_count);
    runtime_log(level, message, "taskId", j->id[0] ? j->id : NULL, "kind",
                j->kind[0] ? j->kind : NULL, "messageId", j->rec.message_id, "receiveCount", count,
                "code", code, "detail", detail, (const char *)NULL);
}

/* Reads the task id out of the message: {"id": "..."}, 1 to WORKER_ID_MAX printable
 * characters. An id of no task is looked up all the same (and its message deleted, as for a
 * task that is gone); a message that names nothing is kept, to end in the dead-letter queue. */
static bool parse_message(struct job *j)
{
    json_t *m = jsonh_loadb(j->rec.body, j->rec.body_len, 0, NULL);
    json_t *idv = json_object_get(m, "id");
    const char *id = json_string_value(idv);
    size_t n = id ? json_string_length(idv) : 0;
    bool ok = id != NULL && n > 0 && n < sizeof j->id;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)id[i] >= 0x20 && (unsigned char)id[i] < 0x7f;
    if (ok)
        memcpy(j->id, id, n + 1);
    json_decref(m);
    return ok;
}

/* Runs the started task's kind; fills j->outcome. Returns the event. */
static enum worker_event run_kind(struct job *j, const struct aws_ddb_item *task)
{
    const char *kind = aws_ddb_item_s(task, "kind", NULL);
    size_t plen = 0;
    const char *payload = aws_ddb_item_s(task, "payload", &plen);
    int64_t attempts = 1;
    (void)aws_ddb_item_n(task, "attempts", &attempts);
    snprintf(j->kind, sizeof j->kind, "%s", kind ? kind : "");
    const struct task_kind *k = task_kind_find(kind);
    if (k == NULL) {
        task_fail(&j->outcome, "UnknownKind", false, "this worker has no task kind '%.64s'",
                  kind ? kind : "");
        return WORKER_FAILED_FOREVER;
    }
    json_t *p = payload ? jsonh_loadb(payload, plen, JSON_ALLOW_NUL, NULL) : NULL;
    if (!json_is_object(p)) {
        json_decref(p);
        task_fail(&j->outcome, "InvalidPayload", false, "the stored payload is not a JSON object");
        return WORKER_FAILED_FOREVER;
    }
    struct task_run run = {.id = j->id,
                           .payload = p,
                           .attempt = attempts > 0 && attempts < 1000000 ? (int)attempts : 1,
                           .deadline_ms = fn_deadline(j->inv, WORKER_RECORD_RESERVE_MS),
                           .db = &j->db};
    int64_t t0 = runtime_now_ms();
    int rc = k->run(&run, &j->outcome);
    j->duration_ms = runtime_now_ms() - t0;
    json_decref(p);
    if (rc == 0)
        return WORKER_SUCCEEDED;
    return j->outcome.retryable ? WORKER_FAILED_RETRY : WORKER_FAILED_FOREVER;
}

/* Stores how the run ended. Returns the event, turned into WORKER_STORE_ERROR when the
 * write failed (a lost lease is not an error: another delivery owns the task now). */
static enum worker_event store_outcome(struct job *j, enum worker_event ev)
{
    struct aws_error err;
    int64_t deadline = fn_deadline(j->inv, FN_RESERVE_MS);
    int rc;
    if (ev == WORKER_SUCCEEDED) {
        char *text = json_dumps(j->outcome.result, JSON_COMPACT | JSON_ENCODE_ANY);
        rc = text ? taskdb_succeed(&j->db, j->id, j->run_id, text, strlen(text), runtime_now_ms(),
                                   deadline, &err)
                  : AWS_ENOMEM;
        free(text);
    } else {
        struct worker_action a = worker_decide(ev, j->last);
        rc = taskdb_fail(&j->db, j->id, j->run_id, j->outcome.code, j->outcome.message,
                         a.mark_failed, runtime_now_ms(), deadline, &err);
    }
    if (rc == AWS_OK)
        return ev;
    if (rc == AWS_ESERVICE && aws_error_is(&err, "ConditionalCheckFailedException")) {
        log_record(RUNTIME_LOG_WARN, "task taken over by another delivery", j, "LeaseLost", NULL);
        return WORKER_DUPLICATE;
    }
    log_record(RUNTIME_LOG_ERROR, "cannot store the task's outcome", j,
               err.code[0] ? err.code : aws_strerror(rc), err.message);
    return WORKER_STORE_ERROR;
}

/* One record, start to end. Returns what happened. */
static enum worker_event process(struct job *j)
{
    struct aws_error err;
    struct aws_ddb_item *task = NULL;
    enum taskdb_start started;
    if (!parse_message(j)) {
        log_record(RUNTIME_LOG_ERROR, "message does not name a task", j, "BadMessage", NULL);
        return WORKER_BAD_MESSAGE;
    }
    int64_t now = runtime_now_ms();
    if (fn_deadline(j->inv, WORKER_RECORD_RESERVE_MS) <= now) {
        if (j->last) {
            (void)taskdb_fail_unstarted(&j->db, j->id, "DeadlineExceeded",
                                        "the last delivery came too late in its invocation", now,
                                        fn_deadline(j->inv, FN_RESERVE_MS), &err);
        }
        log_record(RUNTIME_LOG_WARN, "no time left to start the task", j, "NoTime", NULL);
        return WORKER_NO_TIME;
    }
    ids_hex(j->run_id, 16);
    /* the lease ends with the invocation: past it, this run cannot be alive */
    int64_t lease = j->inv->deadline_ms > 0 ? j->inv->deadline_ms : now + FN_DEFAULT_BUDGET_MS;
    int rc = taskdb_start(&j->db, j->id, j->run_id, now, lease, fn_deadline(j->inv, FN_RESERVE_MS),
                          &started, &task, &err);
    if (rc != AWS_OK) {
        aws_ddb_item_free(task);
        log_record(RUNTIME_LOG_ERROR, "cannot start the task", j,
                   err.code[0] ? err.code : aws_strerror(rc), err.message);
        return WORKER_STORE_ERROR;
    }
    enum worker_event ev;
    switch (started) {
    case TASKDB_STARTED:
        ev = run_kind(j, task);
        ev = store_outcome(j, ev);
        break;
    case TASKDB_FINISHED:
        log_record(RUNTIME_LOG_INFO, "duplicate delivery of a finished task", j, "Duplicate", NULL);
        ev = WORKER_DUPLICATE;
        break;
    case TASKDB_BUSY:
        log_record(RUNTIME_LOG_INFO, "task is running under another delivery", j, "Busy", NULL);
        ev = WORKER_BUSY;
        break;
    default:
        log_record(RUNTIME_LOG_WARN, "message for a task that does not exist", j, "Missing", NULL);
        ev = WORKER_MISSING;
        break;
    }
    aws_ddb_item_free(task);
    return ev;
}

/* Logs how the record ended, with its metrics on the same line. */
static void report(struct job *j, enum worker_event ev)
{
    const struct worker_action a = worker_decide(ev, j->last);
    char ms[24], count[24];
    snprintf(ms, sizeof ms, "%lld", (long long)j->duration_ms);
    snprintf(count, sizeof count, "%ld", j->rec.receive_count);
    if (ev == WORKER_SUCCEEDED) {
        const char *kv[] = {"taskId",     j->id, "kind",         j->kind,
                            "durationMs", ms,    "receiveCount", count};
        struct runtime_emf_metric m[] = {
            {"TasksSucceeded", "Count", 1},
            {"TaskDuration", "Milliseconds", (double)j->duration_ms},
            {"QueueLatency", "Milliseconds",
             j->rec.sent_ms > 0 ? (double)(runtime_now_ms() - j->duration_ms - j->rec.sent_ms) : 0},
        };
        fn_log_metrics(j->app, RUNTIME_LOG_INFO, "task succeeded", kv, 4, j->kind, m, 3);
    } else if (ev == WORKER_FAILED_RETRY || ev == WORKER_FAILED_FOREVER) {
        const char *kv[] = {
            "taskId",       j->id, "kind", j->kind,         "durationMs", ms,
            "receiveCount", count, "code", j->outcome.code, "detail",     j->outcome.message};
        struct runtime_emf_metric m[] = {
            {a.mark_failed ? "TasksFailed" : "TaskAttemptsFailed", "Count", 1},
            {"TaskDuration", "Milliseconds", (double)j->duration_ms},
        };
        fn_log_metrics(j->app, a.mark_failed ? RUNTIME_LOG_ERROR : RUNTIME_LOG_WARN,
                       a.mark_failed ? "task failed" : "task attempt failed", kv, 6, j->kind, m, 2);
    }
}

int worker_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                  struct buf *out, struct runtime_error *err)
{
    struct fn_app *app = inv->user;
    json_error_t jerr;
    json_t *ev = jsonh_loadb(event, len, 0, &jerr);
    if (ev == NULL)
        return runtime_error_set(err, "Handler.InvalidEvent", "event is not JSON: %s", jerr.text);
    json_t *records = json_object_get(ev, "Records");
    if (!json_is_array(records)) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent", "not an SQS event: no Records");
    }
    struct jsonw w;
    jw_init(&w, out);
    jw_obj(&w);
    jw_key(&w, "batchItemFailures");
    jw_arr(&w);
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        json_t *attrs = json_object_get(r, "attributes");
        struct job j = {.app = app, .inv = inv};
        taskdb_init(&j.db, app);
        j.rec.message_id = json_string_value(json_object_get(r, "messageId"));
        j.rec.body = json_string_value(json_object_get(r, "body"));
        j.rec.body_len = j.rec.body ? json_string_length(json_object_get(r, "body")) : 0;
        j.rec.receive_count = attr_long(attrs, "ApproximateReceiveCount");
        j.rec.sent_ms = attr_long(attrs, "SentTimestamp");
        j.last = j.rec.receive_count >= app->env.max_receive_count;
        if (j.rec.message_id == NULL) {
            json_decref(ev);
            return runtime_error_set(err, "Handler.InvalidEvent", "record %zu has no messageId", i);
        }
        if (j.rec.body == NULL)
            j.rec.body = "";
        enum worker_event what = process(&j);
        report(&j, what);
        json_decref(j.outcome.result);
        if (worker_decide(what, j.last).report_failure) {
            jw_obj(&w);
            jw_kstr(&w, "itemIdentifier", j.rec.message_id);
            jw_obj_end(&w);
        }
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    json_decref(ev);
    if (!jw_ok(&w))
        return runtime_error_set(err, "Handler.ResponseError", "cannot render the response");
    return 0;
}
