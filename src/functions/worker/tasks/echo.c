/*
 * echo — the result is the payload, unchanged. Any payload object is valid.
 */
#include "functions/worker/tasks/kind.h"

static int echo_validate(const json_t *payload, char *msg, size_t msglen)
{
    (void)payload;
    (void)msg;
    (void)msglen;
    return 0;
}

static int echo_run(const struct task_run *run, struct task_outcome *out)
{
    out->result = json_deep_copy(run->payload);
    if (out->result == NULL)
        return task_fail(out, "OutOfMemory", true, "cannot copy the payload");
    return 0;
}

const struct task_kind task_kind_echo = {"echo", echo_validate, echo_run};
