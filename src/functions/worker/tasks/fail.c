/*
 * fail {"times": N} — fails its first N attempts (0 to 1000, default 1) with TaskFailed,
 * then succeeds with {"attempts": <the attempt that succeeded>}. With N at or past the
 * queue's max receive count the task ends FAILED and its message in the dead-letter queue;
 * a retry (POST /tasks/<id>/retry) starts a new round of attempts that counts on.
 */
#include "functions/worker/tasks/kind.h"

enum { FAIL_MAX_TIMES = 1000 };

static int fail_validate(const json_t *payload, char *msg, size_t msglen)
{
    return task_payload_one_int(payload, "times", 0, FAIL_MAX_TIMES, msg, msglen);
}

static int fail_run(const struct task_run *run, struct task_outcome *out)
{
    json_int_t times = 1;
    char msg[128];
    if (task_payload_int(run->payload, "times", 0, FAIL_MAX_TIMES, &times, msg, sizeof msg) != 0)
        return task_fail(out, "InvalidPayload", false, "%s", msg);
    if (run->attempt <= times)
        return task_fail(out, "TaskFailed", true, "attempt %d of %lld that fail on purpose",
                         run->attempt, (long long)times);
    return task_result(out, json_pack("{s:i}", "attempts", run->attempt));
}

const struct task_kind task_kind_fail = {"fail", fail_validate, fail_run};
