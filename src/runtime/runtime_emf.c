/*
 * runtime_emf.c — see runtime_emf.h.
 */
#include "runtime/runtime_emf.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "core/jsonw.h"
#include "runtime/runtime_log.h"

/* CloudWatch's StandardUnit values. */
static const char *const emf_units[] = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
};

int runtime_emf_unit_valid(const char *unit)
{
    for (size_t i = 0; i < sizeof emf_units / sizeof emf_units[0]; i++)
        if (strcmp(unit, emf_units[i]) == 0)
            return 1;
    return 0;
}

static int name_ok(const char *name)
{
    size_t n = name ? strnlen(name, RUNTIME_EMF_MAX_NAME + 1) : 0;
    return n > 0 && n <= RUNTIME_EMF_MAX_NAME && strcmp(name, "_aws") != 0;
}

/* Is `name` already used by an earlier dimension or metric, or reserved? */
static int name_taken(const char *name, const struct runtime_emf_dimension *dims, size_t ndims,
                      const struct runtime_emf_metric *metrics, size_t nmetrics)
{
    if (strcmp(name, "requestId") == 0)
        return 1;
    for (size_t i = 0; i < ndims; i++)
        if (strcmp(dims[i].name, name) == 0)
            return 1;
    for (size_t i = 0; i < nmetrics; i++)
        if (strcmp(metrics[i].name, name) == 0)
            return 1;
    return 0;
}

static int validate(const char *ns, const struct runtime_emf_dimension *dims, size_t ndims,
                    const struct runtime_emf_metric *metrics, size_t nmetrics)
{
    if (!name_ok(ns) || ndims > RUNTIME_EMF_MAX_DIMENSIONS || nmetrics == 0 ||
        nmetrics > RUNTIME_EMF_MAX_METRICS || (ndims > 0 && dims == NULL))
        return RUNTIME_EMF_EINVAL;
    for (size_t i = 0; i < ndims; i++) {
        if (!name_ok(dims[i].name) || dims[i].value == NULL)
            return RUNTIME_EMF_EINVAL;
        size_t vl = strnlen(dims[i].value, RUNTIME_EMF_MAX_DIMENSION_VALUE + 1);
        if (vl == 0 || vl > RUNTIME_EMF_MAX_DIMENSION_VALUE)
            return RUNTIME_EMF_EINVAL;
        if (name_taken(dims[i].name, dims, i, metrics, 0))
            return RUNTIME_EMF_EINVAL;
    }
    for (size_t i = 0; i < nmetrics; i++) {
        if (!name_ok(metrics[i].name) || !isfinite(metrics[i].value))
            return RUNTIME_EMF_EINVAL;
        if (metrics[i].unit != NULL && !runtime_emf_unit_valid(metrics[i].unit))
            return RUNTIME_EMF_EINVAL;
        if (name_taken(metrics[i].name, dims, ndims, metrics, i))
            return RUNTIME_EMF_EINVAL;
    }
    return RUNTIME_EMF_OK;
}

static int js(struct buf *out, const char *s)
{
    return jw_escape(out, s, strlen(s));
}

/* Appends the EMF members — "_aws":{...}, then each dimension and metric as a root member —
 * without the object's braces. */
static int put_members(struct buf *out, const char *namespace_, int64_t timestamp_ms,
                       const struct runtime_emf_dimension *dims, size_t ndims,
                       const struct runtime_emf_metric *metrics, size_t nmetrics)
{
    int rc = buf_printf(out, "\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":",
                        (long long)timestamp_ms);
    rc = rc ? rc : js(out, namespace_);
    rc = rc ? rc : buf_puts(out, ",\"Dimensions\":[[");
    for (size_t i = 0; i < ndims && rc == BUF_OK; i++) {
        if (i > 0)
            rc = buf_puts(out, ",");
        rc = rc ? rc : js(out, dims[i].name);
    }
    rc = rc ? rc : buf_puts(out, "]],\"Metrics\":[");
    for (size_t i = 0; i < nmetrics && rc == BUF_OK; i++) {
        rc = buf_puts(out, i > 0 ? ",{\"Name\":" : "{\"Name\":");
        rc = rc ? rc : js(out, metrics[i].name);
        rc = rc ? rc : buf_puts(out, ",\"Unit\":");
        rc = rc ? rc : js(out, metrics[i].unit ? metrics[i].unit : "None");
        rc = rc ? rc : buf_puts(out, "}");
    }
    rc = rc ? rc : buf_puts(out, "]}]}");
    for (size_t i = 0; i < ndims && rc == BUF_OK; i++) {
        rc = buf_puts(out, ",");
        rc = rc ? rc : js(out, dims[i].name);
        rc = rc ? rc : buf_puts(out, ":");
        rc = rc ? rc : js(out, dims[i].value);
    }
    for (size_t i = 0; i < nmetrics && rc == BUF_OK; i++) {
        rc = buf_puts(out, ",");
        rc = rc ? rc : js(out, metrics[i].name);
        rc = rc ? rc : buf_printf(out, ":%.17g", metrics[i].value);
    }
    return rc;
}

/* Undoes a failed render and maps the buf error. */
static int render_failed(struct buf *out, size_t start, int rc)
{
    out->len = start;
    if (out->data != NULL)
        out->data[start] = '\0';
    return rc == BUF_ETOOBIG ? RUNTIME_EMF_EINVAL : RUNTIME_EMF_ENOMEM;
}

int runtime_emf_format(struct buf *out, const char *namespace_, int64_t timestamp_ms,
                       const struct runtime_emf_dimension *dims, size_t ndims,
                       const struct runtime_emf_metric *metrics, size_t nmetrics,
                       const char *request_id)
{
    int rc = validate(namespace_, dims, ndims, metrics, nmetrics);
    if (rc != RUNTIME_EMF_OK)
        return rc;
    size_t start = out->len;
    rc = buf_puts(out, "{");
    rc = rc ? rc : put_members(out, namespace_, timestamp_ms, dims, ndims, metrics, nmetrics);
    if (request_id != NULL && request_id[0] != '\0') {
        rc = rc ? rc : buf_puts(out, ",\"requestId\":");
        rc = rc ? rc : js(out, request_id);
    }
    rc = rc ? rc : buf_puts(out, "}\n");
    return rc == BUF_OK ? RUNTIME_EMF_OK : render_failed(out, start, rc);
}

/* The members a structured log line has of its own: metrics may not take their names. */
static const char *const LOG_MEMBERS[] = {"timestamp", "level",     "message", "function",
                                          "requestId", "coldStart", "traceId"};

int runtime_emf_log_format(struct buf *out, enum runtime_log_level level, const char *message,
                           const char *const *kv, size_t nkv, const char *namespace_,
                           int64_t timestamp_ms, const struct runtime_emf_dimension *dims,
                           size_t ndims, const struct runtime_emf_metric *metrics, size_t nmetrics)
{
    int rc = validate(namespace_, dims, ndims, metrics, nmetrics);
    if (rc != RUNTIME_EMF_OK)
        return rc;
    for (size_t i = 0; i < ndims + nmetrics; i++) {
        const char *name = i < ndims ? dims[i].name : metrics[i - ndims].name;
        for (size_t k = 0; k < sizeof LOG_MEMBERS / sizeof LOG_MEMBERS[0]; k++)
            if (strcmp(name, LOG_MEMBERS[k]) == 0)
                return RUNTIME_EMF_EINVAL;
        for (size_t k = 0; k < nkv; k++)
            if (kv[2 * k] != NULL && strcmp(name, kv[2 * k]) == 0)
                return RUNTIME_EMF_EINVAL;
    }
    size_t start = out->len;
    rc = runtime_log_format(out, level, message, kv, nkv);
    if (rc == BUF_OK && (out->len < start + 2 || memcmp(out->data + out->len - 2, "}\n", 2) != 0))
        rc = BUF_ETOOBIG; /* cannot happen: a log line is one object and a newline */
    if (rc == BUF_OK) {
        out->len -= 2; /* reopen the object */
        rc = buf_puts(out, ",");
    }
    rc = rc ? rc : put_members(out, namespace_, timestamp_ms, dims, ndims, metrics, nmetrics);
    rc = rc ? rc : buf_puts(out, "}\n");
    return rc == BUF_OK ? RUNTIME_EMF_OK : render_failed(out, start, rc);
}

int runtime_emf_emit(const char *namespace_, const struct runtime_emf_dimension *dims, size_t ndims,
                     const struct runtime_emf_metric *metrics, size_t nmetrics)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    struct buf line;
    buf_init(&line, 1024 * 1024); /* the EMF event size limit */
    int rc = runtime_emf_format(&line, namespace_, now, dims, ndims, metrics, nmetrics,
                                runtime_log_request_id());
    if (rc == RUNTIME_EMF_OK)
        runtime__log_write(line.data, line.len);
    buf_destroy(&line);
    return rc;
}

int runtime_emf_log(enum runtime_log_level level, const char *message, const char *const *kv,
                    size_t nkv, const char *namespace_, const struct runtime_emf_dimension *dims,
                    size_t ndims, const struct runtime_emf_metric *metrics, size_t nmetrics)
{
    if (!runtime_log_enabled(level))
        return runtime_emf_emit(namespace_, dims, ndims, metrics, nmetrics);
    struct timespec ts;
    struct buf line;
    clock_gettime(CLOCK_REALTIME, &ts);
    buf_init(&line, 1024 * 1024);
    int rc = runtime_emf_log_format(&line, level, message, kv, nkv, namespace_,
                                    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, dims, ndims,
                                    metrics, nmetrics);
    if (rc == RUNTIME_EMF_OK)
        runtime__log_write(line.data, line.len);
    buf_destroy(&line);
    return rc;
}
