/*
 * sleep {"ms": N} — waits N milliseconds (0 to 900000, default 0), then answers
 * {"slept_ms": N}. A sleep that would outlast the run's deadline is not started: the attempt
 * fails cleanly with DeadlineExceeded (retried; a later attempt cannot do better, so the
 * task ends FAILED once its deliveries are used up).
 */
#include <errno.h>
#include <time.h>

#include "functions/common/fn.h"
#include "functions/worker/tasks/kind.h"

enum { SLEEP_MAX_MS = 900000 };

static int sleep_validate(const json_t *payload, char *msg, size_t msglen)
{
    return task_payload_one_int(payload, "ms", 0, SLEEP_MAX_MS, msg, msglen);
}

static int sleep_run(const struct task_run *run, struct task_outcome *out)
{
    json_int_t ms = 0;
    char msg[128];
    if (task_payload_int(run->payload, "ms", 0, SLEEP_MAX_MS, &ms, msg, sizeof msg) != 0)
        return task_fail(out, "InvalidPayload", false, "%s", msg);
    int64_t left = run->deadline_ms - runtime_now_ms();
    if (ms > left)
        return task_fail(out, "DeadlineExceeded", true,
                         "sleeping %lld ms needs more than the %lld ms left in this run",
                         (long long)ms, (long long)(left > 0 ? left : 0));
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return task_result(out, json_pack("{s:I}", "slept_ms", ms));
}

const struct task_kind task_kind_sleep = {"sleep", sleep_validate, sleep_run};
