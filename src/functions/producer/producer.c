/*
 * producer.c — the scheduled function (see producer.h).
 */
#include "functions/producer/producer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "core/jsonw.h"
#include "functions/common/fn.h"
#include "functions/common/taskdb.h"
#include "functions/worker/tasks/kind.h"
#include "runtime/runtime_log.h"

int producer_task_id(const char *rule, const char *time, size_t index, char out[TASK_ID_LEN + 1])
{
    char data[1024];
    int n = snprintf(data, sizeof data, "%s\n%s\n%zu", rule, time, index);
    if (n < 0 || (size_t)n >= sizeof data)
        return -1;
    return task_id_derived("schedule", data, (size_t)n, out);
}

int producer_init(void *user, struct runtime_error *err)
{
    return fn_app_init(user, err);
}

/* Creates and enqueues one scheduled task. Returns 1 when created, 0 when it was there
 * already, -1 on failure (the invocation then fails, so Lambda delivers the event again). */
static int produce(struct taskdb *db, const struct runtime_invocation *inv, const char *id,
                   const char *kind, const json_t *payload)
{
    struct aws_error err;
    struct aws_ddb_item *existing = NULL;
    char msg[TASK_KIND_MSG_MAX];
    const struct task_kind *k = task_kind_find(kind);
    if (k == NULL || k->validate(payload, msg, sizeof msg) != 0) {
        runtime_log(RUNTIME_LOG_ERROR, "scheduled task is invalid", "kind", kind, "detail",
                    k ? msg : "unknown kind", (const char *)NULL);
        return -1;
    }
    char *text = json_dumps(payload, JSON_COMPACT);
    if (text == NULL)
        return -1;
    struct taskdb_new t = {.id = id,
                           .kind = kind,
                           .payload = text,
                           .payload_len = strlen(text),
                           .source = "schedule",
                           .now_ms = runtime_now_ms()};
    int64_t deadline = fn_deadline(inv, FN_RESERVE_MS);
    int rc = taskdb_create(db, &t, deadline, &existing, &err);
    free(text);
    aws_ddb_item_free(existing);
    if (rc != AWS_OK) {
        if (aws_error_is(&err, "ConditionalCheckFailedException"))
            return 0; /* a duplicate delivery: created (and sent) before */
        runtime_log(RUNTIME_LOG_ERROR, "cannot store a scheduled task", "taskId", id, "code",
                    err.code[0] ? err.code : aws_strerror(rc), "detail", err.message,
                    (const char *)NULL);
        return -1;
    }
    if (taskdb_enqueue(db, id, kind, deadline, &err) != AWS_OK) {
        /* stored, not queued: flagged, and the sweep sends it */
        taskdb_mark_enqueue_failed(db, id, runtime_now_ms(), deadline);
        runtime_log(RUNTIME_LOG_ERROR, "scheduled task stored but not enqueued", "taskId", id,
                    "code", err.code[0] ? err.code : aws_strerror(err.rc), "detail", err.message,
                    (const char *)NULL);
        return -1;
    }
    return 1;
}

/* Sends again what has been QUEUED (or RUNNING past its lease) too long. Returns how many. */
static int sweep(struct taskdb *db, const struct runtime_invocation *inv)
{
    static const enum task_status STUCK[] = {TASK_QUEUED, TASK_RUNNING};
    int sent = 0;
    for (size_t s = 0; s < sizeof STUCK / sizeof STUCK[0]; s++) {
        struct aws_error err;
        struct aws_ddb_page page;
        int64_t deadline = fn_deadline(inv, FN_RESERVE_MS);
        if (taskdb_stale(db, STUCK[s], runtime_now_ms(), PRODUCER_SWEEP_PAGE, deadline, &page, &err) !=
            AWS_OK) {
            runtime_log(RUNTIME_LOG_WARN, "sweep: cannot list stuck tasks", "status",
                        task_status_name(STUCK[s]), "code", err.code, "detail", err.message,
                        (const char *)NULL);
            aws_ddb_page_destroy(&page);
            continue;
        }
        for (size_t i = 0; i < page.count; i++) {
            const char *id = aws_ddb_item_s(page.items[i], "id", NULL);
            const char *kind = aws_ddb_item_s(page.items[i], "kind", NULL);
            if (id == NULL || kind == NULL)
                continue;
            if (taskdb_enqueue(db, id, kind, deadline, &err) == AWS_OK) {
                sent++;
                runtime_log(RUNTIME_LOG_WARN, "sweep: stuck task sent again", "taskId", id,
                            "status", task_status_name(STUCK[s]), (const char *)NULL);
            }
        }
        aws_ddb_page_destroy(&page);
    }
    return sent;
}

int producer_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                    struct buf *out, struct runtime_error *err)
{
    struct fn_app *app = inv->user;
    struct taskdb db;
    json_error_t jerr;
    int created = 0, existed = 0, failed = 0;
    json_t *ev = jsonh_loadb(event, len, 0, &jerr);
    json_t *tasks = NULL;
    int rc = 0;

    if (!json_is_object(ev)) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent", "event is not a JSON object");
    }
    const char *time = json_string_value(json_object_get(ev, "time"));
    const char *rule = app->env.schedule_rule[0]
                           ? app->env.schedule_rule
                           : json_string_value(json_array_get(json_object_get(ev, "resources"), 0));
    if (time == NULL || rule == NULL) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent",
                                 "not a scheduled event: no time or rule");
    }
    runtime_log(RUNTIME_LOG_INFO, "scheduled event", "id",
                json_string_value(json_object_get(ev, "id")), "time", time, "rule", rule,
                (const char *)NULL);
    tasks = json_loads(app->env.schedule_tasks, 0, &jerr);
    if (!json_is_array(tasks)) {
        rc = runtime_error_set(err, "Producer.InvalidConfiguration",
                               "SCHEDULE_TASKS is not a JSON array: %s", jerr.text);
        goto done;
    }
    taskdb_init(&db, app);
    size_t i;
    json_t *t;
    json_array_foreach(tasks, i, t)
    {
        char id[TASK_ID_LEN + 1];
        const char *kind = json_string_value(json_object_get(t, "kind"));
        json_t *payload = json_object_get(t, "payload");
        json_t *empty = payload ? NULL : json_object();
        if (kind == NULL || (payload != NULL && !json_is_object(payload)) ||
            producer_task_id(rule, time, i, id) != 0) {
            runtime_log(RUNTIME_LOG_ERROR, "scheduled task is invalid", "detail",
                        "each task needs a kind and an object payload", (const char *)NULL);
            failed++;
            json_decref(empty);
            continue;
        }
        int r = produce(&db, inv, id, kind, payload ? payload : empty);
        json_decref(empty);
        if (r > 0) {
            created++;
            const char *kv[] = {"taskId", id, "kind", kind};
            struct runtime_emf_metric m[] = {{"TasksCreated", "Count", 1}};
            fn_log_metrics(app, RUNTIME_LOG_INFO, "scheduled task created", kv, 2, kind, m, 1);
        } else if (r == 0) {
            existed++;
            runtime_log(RUNTIME_LOG_INFO, "scheduled task exists already (duplicate event)",
                        "taskId", id, "kind", kind, (const char *)NULL);
        } else {
            failed++;
        }
    }
    int resent = sweep(&db, inv);
    struct jsonw w;
    jw_init(&w, out);
    jw_obj(&w);
    jw_kint(&w, "created", created);
    jw_kint(&w, "existing", existed);
    jw_kint(&w, "resent", resent);
    jw_obj_end(&w);
    if (failed > 0)
        rc = runtime_error_set(err, "Producer.TasksFailed",
                               "%d scheduled task(s) could not be created or enqueued", failed);
    else if (!jw_ok(&w))
        rc = runtime_error_set(err, "Handler.ResponseError", "cannot render the response");
done:
    json_decref(tasks);
    json_decref(ev);
    return rc;
}
