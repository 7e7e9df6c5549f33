/*
 * fn.c — the functions' shared settings and helpers (see fn.h).
 */
#include "functions/common/fn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

/* The settings, as a table: variable, where it goes, whether it must be set. */
static const struct {
    const char *var;
    size_t offset, cap;
    bool required;
} STRINGS[] = {
    {"HAAR_PROJECT", offsetof(struct fn_env, project), FN_NAME_MAX, false},
    {"HAAR_ENVIRONMENT", offsetof(struct fn_env, environment), FN_NAME_MAX, false},
    {"TASKS_TABLE", offsetof(struct fn_env, table), FN_NAME_MAX, true},
    {"TASKS_STATUS_INDEX", offsetof(struct fn_env, status_index), FN_NAME_MAX, true},
    {"TASKS_QUEUE_URL", offsetof(struct fn_env, queue_url), FN_URL_MAX, true},
    {"SCHEDULE_RULE", offsetof(struct fn_env, schedule_rule), FN_NAME_MAX, false},
};

int fn_env_load(struct fn_env *e, aws_getenv_fn get, void *arg, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    for (size_t i = 0; i < sizeof STRINGS / sizeof STRINGS[0]; i++) {
        const char *v = get(arg, STRINGS[i].var);
        if (v == NULL || *v == '\0') {
            if (!STRINGS[i].required)
                continue;
            snprintf(err, errlen, "%s is not set", STRINGS[i].var);
            return -1;
        }
        if (strlen(v) >= STRINGS[i].cap) {
            snprintf(err, errlen, "%s is longer than %zu bytes", STRINGS[i].var,
                     STRINGS[i].cap - 1);
            return -1;
        }
        memcpy((char *)e + STRINGS[i].offset, v, strlen(v) + 1);
    }
    if (e->environment[0] == '\0')
        memcpy(e->environment, "dev", 4);
    e->max_receive_count = FN_DEFAULT_MAX_RECEIVE_COUNT;
    const char *mrc = get(arg, "MAX_RECEIVE_COUNT");
    if (mrc != NULL && *mrc != '\0') {
        char *end;
        errno = 0;
        long n = strtol(mrc, &end, 10);
        if (errno != 0 || *end != '\0' || n < 1 || n > 1000) {
            snprintf(err, errlen, "MAX_RECEIVE_COUNT=%.32s: expected 1 to 1000", mrc);
            return -1;
        }
        e->max_receive_count = (int)n;
    }
    const char *tasks = get(arg, "SCHEDULE_TASKS");
    e->schedule_tasks = tasks != NULL && *tasks != '\0' ? tasks : "[]";
    return 0;
}

int fn_app_init(struct fn_app *app, struct runtime_error *err)
{
    char why[512];
    memset(app, 0, sizeof *app);
    if (fn_env_load(&app->env, aws_env_getenv, NULL, why, sizeof why) != 0)
        return runtime_error_set(err, "Runtime.InitError", "configuration: %s", why);
    app->aws = aws_client_new(NULL, why, sizeof why);
    if (app->aws == NULL)
        return runtime_error_set(err, "Runtime.InitError", "AWS client: %s", why);
    return 0;
}

void fn_app_destroy(struct fn_app *app)
{
    if (app == NULL)
        return;
    aws_client_free(app->aws);
    app->aws = NULL;
}

int64_t fn_deadline(const struct runtime_invocation *inv, int64_t reserve_ms)
{
    if (inv == NULL || inv->deadline_ms <= 0)
        return runtime_now_ms() + FN_DEFAULT_BUDGET_MS;
    return inv->deadline_ms - reserve_ms;
}

void fn_iso_ms(int64_t ms, char out[25])
{
    if (clock_format_iso(ms, true, out, 25) < 0)
        memcpy(out, "1970-01-01T00:00:00.000Z", 25);
}

void fn_metrics(const struct fn_app *app, const char *kind, const struct runtime_emf_metric *m,
                size_t n)
{
    struct runtime_emf_dimension dims[2] = {{"Environment", app->env.environment}, {"Kind", kind}};
    (void)runtime_emf_emit(FN_METRICS_NAMESPACE, dims, kind != NULL ? 2 : 1, m, n);
}

void fn_log_metrics(const struct fn_app *app, enum runtime_log_level level, const char *message,
                    const char *const *kv, size_t nkv, const char *kind,
                    const struct runtime_emf_metric *m, size_t n)
{
    struct runtime_emf_dimension dims[2] = {{"Environment", app->env.environment}, {"Kind", kind}};
    (void)runtime_emf_log(level, message, kv, nkv, FN_METRICS_NAMESPACE, dims, kind ? 2 : 1, m, n);
}
