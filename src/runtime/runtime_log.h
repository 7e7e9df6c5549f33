/*
 * runtime_log.h — structured JSON log lines for functions (DESIGN.md "Functions log
 * structured JSON lines").
 *
 * One line per event on stdout (which Lambda, and haar, forward to CloudWatch Logs):
 *   {"timestamp":"2026-11-25T12:00:00.123Z","level":"INFO","message":"...",
 *    "function":"haar-dev-api","requestId":"...","coldStart":true,"traceId":"...",<fields>}
 * The key names follow Lambda's own JSON log format (timestamp, level, message,
 * requestId). The level threshold comes from AWS_LAMBDA_LOG_LEVEL (Lambda's advanced
 * logging controls: TRACE, DEBUG, INFO, WARN, ERROR, FATAL; default INFO) and is checked
 * before anything is formatted. Text is escaped as JSON; invalid UTF-8 becomes U+FFFD.
 *
 * Not thread-safe: a function's handler runs on the runtime's one thread, which also sets
 * the invocation context. Each line is written with one write(2).
 */
#ifndef HAAR_RUNTIME_LOG_H
#define HAAR_RUNTIME_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

enum runtime_log_level {
    RUNTIME_LOG_TRACE,
    RUNTIME_LOG_DEBUG,
    RUNTIME_LOG_INFO,
    RUNTIME_LOG_WARN,
    RUNTIME_LOG_ERROR,
    RUNTIME_LOG_FATAL,
};

enum {
    RUNTIME_LOG_MAX_MESSAGE = 32 * 1024, /* message bytes kept; the rest is cut */
    RUNTIME_LOG_MAX_VALUE = 8 * 1024,    /* per extra field value */
};

/* True when lines of this level are written (reads AWS_LAMBDA_LOG_LEVEL once). */
bool runtime_log_enabled(enum runtime_log_level level);

/* Sets the threshold explicitly (tests; overrides the environment). */
void runtime_log_set_level(enum runtime_log_level level);

/* Sets the output file descriptor (default 1, stdout). */
void runtime_log_set_fd(int fd);

/* The invocation context added to every line; NULLs leave the fields out. The strings are
 * copied. Called by the runtime before each handler call and cleared (NULL) after. */
void runtime_log_set_context(const char *request_id, const char *trace_id, bool cold_start);

/* The current request id ("" outside an invocation). Borrowed; valid until the next
 * runtime_log_set_context. */
const char *runtime_log_request_id(void);

/* Writes one line: `message` and then extra string fields given as key, value pairs
 * ending with a NULL key, e.g. runtime_log(RUNTIME_LOG_INFO, "record", "messageId", id,
 * (char *)NULL). A NULL value writes JSON null. */
void runtime_log(enum runtime_log_level level, const char *message, ...);

/* Writes one line whose message is printf-formatted. */
void runtime_logf(enum runtime_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Renders a line (without writing it) into out, with n key/value pairs in kv[0..2n).
 * Returns BUF_OK or a buf error. For tests and for callers that batch lines. */
int runtime_log_format(struct buf *out, enum runtime_log_level level, const char *message,
                       const char *const *kv, size_t n);


/* Internal to the runtime modules: writes p[0..len) to the log output with write(2). */
void runtime__log_write(const char *p, size_t len);

#endif
