/*
 * kind.h — task kinds: plain C functions in a registry (registry.c), one file each. Adding
 * a kind is one file defining a `const struct task_kind task_kind_<name>` and one line in
 * registry.c. The api validates a POSTed payload with the kind's validate; the worker runs
 * it with run. Kinds run on the worker's one thread.
 */
#ifndef HAAR_FUNCTIONS_WORKER_KIND_H
#define HAAR_FUNCTIONS_WORKER_KIND_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "functions/common/taskdb.h"

enum { TASK_KIND_MSG_MAX = 512 };

/* What a kind's run gets. */
struct task_run {
    const char *id;
    const json_t *payload; /* a JSON object, validated when the task was created */
    int attempt;           /* 1 for the first run, counting every delivery that started it */
    int64_t deadline_ms;   /* epoch ms the run must end by (it is failed cleanly past it) */
    struct taskdb *db;     /* the tasks table, for kinds that read it (report) */
};

/* How a run ended: a result, or an error. */
struct task_outcome {
    json_t *result; /* on success: a JSON value (owned; the worker frees it) */
    char code[64];  /* on failure: an error code ("TaskFailed", "DeadlineExceeded", ...) */
    char message[TASK_KIND_MSG_MAX];
    bool retryable; /* false: no further attempt can succeed (FAILED at once) */
};

struct task_kind {
    const char *name;
    /* Checks a payload (a JSON object) before the task is accepted. Returns 0, or -1 with a
     * message for the 400 in msg. */
    int (*validate)(const json_t *payload, char *msg, size_t msglen);
    /* Runs the task. Returns 0 with out->result set, or -1 with out's code and message. */
    int (*run)(const struct task_run *run, struct task_outcome *out);
};

/* The kind called name, or NULL. */
const struct task_kind *task_kind_find(const char *name);

/* The registry: *n kinds. */
const struct task_kind *const *task_kinds(size_t *n);

/* Writes "echo, sleep, ..." (the known kinds) into out. */
void task_kind_names(char *out, size_t cap);

/* Helpers for kinds: fill out as a failure and return -1. */
int task_fail(struct task_outcome *out, const char *code, bool retryable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The integer member `name` of payload into *v when present: 0 (absent: *v untouched),
 * -1 with a message when it is not an integer in [min, max]. */
int task_payload_int(const json_t *payload, const char *name, json_int_t min, json_int_t max,
                     json_int_t *v, char *msg, size_t msglen);

/* Refuses members of payload not in allowed (NULL-terminated): 0, or -1 with a message. */
int task_payload_only(const json_t *payload, const char *const *allowed, char *msg, size_t msglen);

/* Checks a payload whose one member may be the integer `name` in [min, max] (or none):
 * task_payload_only, then task_payload_int. 0, or -1 with a message. */
int task_payload_one_int(const json_t *payload, const char *name, json_int_t min, json_int_t max,
                         char *msg, size_t msglen);

/* Ends a run with result (taken): 0; result NULL (building it ran out of memory) fails the
 * run as task_fail does, retryable, and returns -1. */
int task_result(struct task_outcome *out, json_t *result);

#endif
