/*
 * registry.c — the task kinds, one line each (see kind.h).
 */
#include "functions/worker/tasks/kind.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const struct task_kind task_kind_echo, task_kind_sleep, task_kind_fail, task_kind_sha256,
    task_kind_report;

static const struct task_kind *const KINDS[] = {
    &task_kind_echo, &task_kind_sleep, &task_kind_fail, &task_kind_sha256, &task_kind_report,
};

const struct task_kind *task_kind_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(KINDS[i]->name, name) == 0)
            return KINDS[i];
    return NULL;
}

const struct task_kind *const *task_kinds(size_t *n)
{
    *n = sizeof KINDS / sizeof KINDS[0];
    return KINDS;
}

void task_kind_names(char *out, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        int n = snprintf(out + len, cap - len, "%s%s", i ? ", " : "", KINDS[i]->name);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
}

int task_fail(struct task_outcome *out, const char *code, bool retryable, const char *fmt, ...)
{
    va_list ap;
    snprintf(out->code, sizeof out->code, "%s", code);
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
    out->retryable = retryable;
    out->result = NULL;
    return -1;
}

int task_payload_int(const json_t *payload, const char *name, json_int_t min, json_int_t max,
                     json_int_t *v, char *msg, size_t msglen)
{
    json_t *j = json_object_get(payload, name);
    if (j == NULL)
        return 0;
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max) {
        snprintf(msg, msglen, "payload.%s must be an integer from %lld to %lld", name,
                 (long long)min, (long long)max);
        return -1;
    }
    *v = json_integer_value(j);
    return 0;
}

int task_payload_only(const json_t *payload, const char *const *allowed, char *msg, size_t msglen)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)payload, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            snprintf(msg, msglen, "payload.%.64s is not a field of this kind", key);
            return -1;
        }
    }
    return 0;
}

int task_payload_one_int(const json_t *payload, const char *name, json_int_t min, json_int_t max,
                         char *msg, size_t msglen)
{
    const char *const allowed[] = {name, NULL};
    json_int_t v;
    if (task_payload_only(payload, allowed, msg, msglen) != 0)
        return -1;
    return task_payload_int(payload, name, min, max, &v, msg, msglen);
}

int task_result(struct task_outcome *out, json_t *result)
{
    out->result = result;
    return result ? 0 : task_fail(out, "OutOfMemory", true, "no memory for the result");
}
