/*
 * report — counts the tasks by status through the status index:
 * {"counts": {"QUEUED": n, "RUNNING": n, "SUCCEEDED": n, "FAILED": n}, "total": n}.
 * Its own run is counted as RUNNING. The payload must be an empty object.
 */
#include "functions/worker/tasks/kind.h"

static const char *const FIELDS[] = {NULL};

static int report_validate(const json_t *payload, char *msg, size_t msglen)
{
    return task_payload_only(payload, FIELDS, msg, msglen);
}

static int report_run(const struct task_run *run, struct task_outcome *out)
{
    json_t *counts = json_object();
    int64_t total = 0;
    if (counts == NULL)
        return task_fail(out, "OutOfMemory", true, "no memory for the result");
    for (int s = 0; s < TASK_STATUS_COUNT; s++) {
        struct aws_error err;
        int64_t n = 0;
        if (taskdb_count(run->db, (enum task_status)s, run->deadline_ms, &n, &err) != AWS_OK) {
            json_decref(counts);
            return task_fail(out, err.rc == AWS_ETIMEOUT ? "DeadlineExceeded" : "DependencyFailed",
                             true, "counting %s tasks: %s %s",
                             task_status_name((enum task_status)s), err.code, err.message);
        }
        json_object_set_new(counts, task_status_name((enum task_status)s), json_integer(n));
        total += n;
    }
    return task_result(out, json_pack("{s:o,s:I}", "counts", counts, "total", (json_int_t)total));
}

const struct task_kind task_kind_report = {"report", report_validate, report_run};
