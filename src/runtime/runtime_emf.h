/*
 * runtime_emf.h — CloudWatch Embedded Metric Format lines (AWS-CONTRACTS.md §9).
 *
 * One call writes one JSON object on one stdout line:
 *   {"_aws":{"Timestamp":<ms>,"CloudWatchMetrics":[{"Namespace":N,"Dimensions":[[d...]],
 *    "Metrics":[{"Name":m,"Unit":u}...]}]},"<d>":"<value>",...,"<m>":<number>,...,
 *    "requestId":"<id>"}
 * Limits are checked against the specification before anything is written: at most 30
 * dimensions, 100 metrics, dimension values ≤ 1024 characters, a unit from CloudWatch's
 * list, finite values, no name used twice. requestId (when inside an invocation) is a
 * plain property, not a dimension, as AWS advises for high-cardinality values.
 *
 * Not thread-safe (shares runtime_log's output and context).
 */
#ifndef HAAR_RUNTIME_EMF_H
#define HAAR_RUNTIME_EMF_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "runtime/runtime_log.h"

enum { RUNTIME_EMF_OK = 0, RUNTIME_EMF_EINVAL = -1, RUNTIME_EMF_ENOMEM = -2 };

enum {
    RUNTIME_EMF_MAX_DIMENSIONS = 30,
    RUNTIME_EMF_MAX_METRICS = 100,
    RUNTIME_EMF_MAX_DIMENSION_VALUE = 1024,
    RUNTIME_EMF_MAX_NAME = 255,
};

struct runtime_emf_dimension {
    const char *name;
    const char *value;
};

struct runtime_emf_metric {
    const char *name;
    const char *unit; /* NULL means "None" */
    double value;
};

/* Renders one EMF object (with a trailing newline) into out. request_id may be NULL or
 * "" to leave it out. Returns RUNTIME_EMF_OK, RUNTIME_EMF_EINVAL (a limit or rule broken;
 * out unchanged) or RUNTIME_EMF_ENOMEM. */
int runtime_emf_format(struct buf *out, const char *namespace_, int64_t timestamp_ms,
                       const struct runtime_emf_dimension *dims, size_t ndims,
                       const struct runtime_emf_metric *metrics, size_t nmetrics,
                       const char *request_id);

/* Renders with the current time and request id and writes the line to the log output.
 * Returns as runtime_emf_format. */
int runtime_emf_emit(const char *namespace_, const struct runtime_emf_dimension *dims, size_t ndims,
                     const struct runtime_emf_metric *metrics, size_t nmetrics);

/*
 * One line that is both a structured log line (runtime_log.h: timestamp, level, message,
 * function, requestId, coldStart, traceId and the kv pairs) and an EMF object carrying the
 * metrics: CloudWatch extracts the metrics and keeps the line as a log event, so an event
 * that is logged and counted costs one line instead of two. Rendered into out; a dimension
 * or metric may not take the name of a log member or kv key (RUNTIME_EMF_EINVAL).
 */
int runtime_emf_log_format(struct buf *out, enum runtime_log_level level, const char *message,
                           const char *const *kv, size_t nkv, const char *namespace_,
                           int64_t timestamp_ms, const struct runtime_emf_dimension *dims,
                           size_t ndims, const struct runtime_emf_metric *metrics,
                           size_t nmetrics);

/* Renders it with the current time and context and writes it; when level is below the log
 * threshold, the metrics still go out, as a plain EMF line (runtime_emf_emit). */
int runtime_emf_log(enum runtime_log_level level, const char *message, const char *const *kv,
                    size_t nkv, const char *namespace_, const struct runtime_emf_dimension *dims,
                    size_t ndims, const struct runtime_emf_metric *metrics, size_t nmetrics);

/* True when unit is one of CloudWatch's standard units ("Milliseconds", "Count", ...). */
int runtime_emf_unit_valid(const char *unit);

#endif
