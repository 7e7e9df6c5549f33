/*
 * fn.h — what the three functions (api, worker, producer) share: their settings, read from
 * the environment both targets give them (infra/layers/30_app on AWS, src/cloud/config.c
 * under haar up: TASKS_TABLE, TASKS_STATUS_INDEX, TASKS_QUEUE_URL, HAAR_ENVIRONMENT, ...),
 * the AWS client, deadlines, time, and metrics in CloudWatch Embedded Metric Format.
 *
 * A function process has one struct fn_app, set up once in its init and used by its one
 * handler thread. Not thread-safe.
 */
#ifndef HAAR_FUNCTIONS_FN_H
#define HAAR_FUNCTIONS_FN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/aws.h"
#include "aws/env.h"
#include "runtime/runtime.h"
#include "runtime/runtime_emf.h"

enum {
    FN_NAME_MAX = 256,
    FN_URL_MAX = 1024,
    FN_DEFAULT_MAX_RECEIVE_COUNT = 5,
    /* what a handler keeps back from the invocation's deadline to write its answer */
    FN_RESERVE_MS = 300,
    /* the deadline used when the Runtime API gave none */
    FN_DEFAULT_BUDGET_MS = 30000,
};

#define FN_METRICS_NAMESPACE "Haar/Tasks"

struct fn_env {
    char project[FN_NAME_MAX];       /* HAAR_PROJECT */
    char environment[FN_NAME_MAX];   /* HAAR_ENVIRONMENT */
    char table[FN_NAME_MAX];         /* TASKS_TABLE */
    char status_index[FN_NAME_MAX];  /* TASKS_STATUS_INDEX */
    char queue_url[FN_URL_MAX];      /* TASKS_QUEUE_URL */
    int max_receive_count;           /* MAX_RECEIVE_COUNT (worker), default 5 */
    char schedule_rule[FN_NAME_MAX]; /* SCHEDULE_RULE (producer), "" if unset */
    const char *schedule_tasks;      /* SCHEDULE_TASKS (producer): JSON text, "[]" if unset */
};

/* Reads the settings through get (aws_env_getenv: the process's). Returns 0, or -1 with
 * the missing or invalid variable named in err. */
int fn_env_load(struct fn_env *e, aws_getenv_fn get, void *arg, char *err, size_t errlen);

struct fn_app {
    struct fn_env env;
    struct aws_client *aws;
};

/* Sets the app up from the process environment. Returns 0, or fills err (type
 * "Runtime.InitError"... as runtime_init_fn wants) and returns -1. */
int fn_app_init(struct fn_app *app, struct runtime_error *err);

/* Frees what fn_app_init made; accepts NULL. */
void fn_app_destroy(struct fn_app *app);

/* The deadline calls of this invocation must keep: its deadline less reserve_ms (or now +
 * FN_DEFAULT_BUDGET_MS when the Runtime API gave none). Epoch ms. */
int64_t fn_deadline(const struct runtime_invocation *inv, int64_t reserve_ms);

/* Writes ms as "2026-01-01T00:00:00.000Z" (24 characters and a NUL; clock_format_iso), or
 * "1970-01-01T00:00:00.000Z" for a time before 1970 or past 9999. */
void fn_iso_ms(int64_t ms, char out[25]);

/* Emits one EMF line in FN_METRICS_NAMESPACE with the dimension Environment (and Kind when
 * kind is not NULL). Failures to emit are ignored: metrics never fail a task. */
void fn_metrics(const struct fn_app *app, const char *kind, const struct runtime_emf_metric *m,
                size_t n);

/* Logs an event and counts it in one line (runtime_emf_log): the structured log line of
 * message and kv (nkv pairs) carrying the metrics m, dimensions as fn_metrics. */
void fn_log_metrics(const struct fn_app *app, enum runtime_log_level level, const char *message,
                    const char *const *kv, size_t nkv, const char *kind,
                    const struct runtime_emf_metric *m, size_t n);

#endif
