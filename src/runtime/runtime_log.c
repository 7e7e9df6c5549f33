/*
 * runtime_log.c — see runtime_log.h.
 */
#include "runtime/runtime_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/jsonw.h"

static const struct {
    const char *name;
    enum runtime_log_level level;
} log_levels[] = {
    {"TRACE", RUNTIME_LOG_TRACE}, {"DEBUG", RUNTIME_LOG_DEBUG}, {"INFO", RUNTIME_LOG_INFO},
    {"WARN", RUNTIME_LOG_WARN},   {"ERROR", RUNTIME_LOG_ERROR}, {"FATAL", RUNTIME_LOG_FATAL},
};

static struct {
    bool level_known;
    enum runtime_log_level level;
    int fd;
    bool in_invocation;
    bool cold_start;
    char request_id[128];
    char trace_id[256];
    bool has_trace;
    struct buf line;
} log_state = {.fd = 1};

static const char *level_name(enum runtime_log_level level)
{
    for (size_t i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
        if (log_levels[i].level == level)
            return log_levels[i].name;
    return "INFO";
}

bool runtime_log_enabled(enum runtime_log_level level)
{
    if (!log_state.level_known) {
        log_state.level = RUNTIME_LOG_INFO;
        const char *env = getenv("AWS_LAMBDA_LOG_LEVEL");
        for (size_t i = 0; env != NULL && i < sizeof log_levels / sizeof log_levels[0]; i++)
            if (strcasecmp(env, log_levels[i].name) == 0)
                log_state.level = log_levels[i].level;
        log_state.level_known = true;
    }
    return level >= log_state.level;
}

void runtime_log_set_level(enum runtime_log_level level)
{
    log_state.level = level;
    log_state.level_known = true;
}

void runtime_log_set_fd(int fd)
{
    log_state.fd = fd;
}

static void copy_bounded(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void runtime_log_set_context(const char *request_id, const char *trace_id, bool cold_start)
{
    log_state.in_invocation = request_id != NULL;
    copy_bounded(log_state.request_id, sizeof log_state.request_id, request_id ? request_id : "");
    log_state.has_trace = trace_id != NULL;
    copy_bounded(log_state.trace_id, sizeof log_state.trace_id, trace_id ? trace_id : "");
    log_state.cold_start = cold_start;
}

const char *runtime_log_request_id(void)
{
    return log_state.request_id;
}

static int append_timestamp(struct buf *out)
{
    struct timespec ts;
    struct tm tm;
    char text[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf_printf(out, "\"%.*s.%03ldZ\"", (int)n, text, ts.tv_nsec / 1000000);
}

static const char *function_name(void)
{
    const char *fn = getenv("AWS_LAMBDA_FUNCTION_NAME");
    return fn ? fn : "";
}

static size_t bounded_len(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    return n > max ? max : n;
}

/* Appends a possibly truncated string field value. */
static int append_text(struct buf *out, const char *s, size_t max)
{
    size_t n = bounded_len(s, max);
    /* never cut inside a UTF-8 sequence: back off over continuation bytes */
    if (n == max && s[n] != '\0')
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    return jw_escape(out, s, n);
}

int runtime_log_format(struct buf *out, enum runtime_log_level level, const char *message,
                       const char *const *kv, size_t n)
{
    int rc = buf_puts(out, "{\"timestamp\":");
    rc = rc ? rc : append_timestamp(out);
    rc = rc ? rc : buf_printf(out, ",\"level\":\"%s\",\"message\":", level_name(level));
    rc = rc ? rc : append_text(out, message ? message : "", RUNTIME_LOG_MAX_MESSAGE);
    rc = rc ? rc : buf_puts(out, ",\"function\":");
    rc = rc ? rc : append_text(out, function_name(), RUNTIME_LOG_MAX_VALUE);
    if (log_state.in_invocation) {
        rc = rc ? rc : buf_puts(out, ",\"requestId\":");
        rc = rc ? rc : append_text(out, log_state.request_id, RUNTIME_LOG_MAX_VALUE);
        rc = rc ? rc
                : buf_puts(out,
                           log_state.cold_start ? ",\"coldStart\":true" : ",\"coldStart\":false");
        if (log_state.has_trace) {
            rc = rc ? rc : buf_puts(out, ",\"traceId\":");
            rc = rc ? rc : append_text(out, log_state.trace_id, RUNTIME_LOG_MAX_VALUE);
        }
    }
    for (size_t i = 0; i < n && rc == BUF_OK; i++) {
        const char *k = kv[2 * i], *v = kv[2 * i + 1];
        rc = buf_puts(out, ",");
        rc = rc ? rc : append_text(out, k ? k : "", 256);
        rc = rc ? rc : buf_puts(out, ":");
        if (v == NULL)
            rc = rc ? rc : buf_puts(out, "null");
        else
            rc = rc ? rc : append_text(out, v, RUNTIME_LOG_MAX_VALUE);
    }
    rc = rc ? rc : buf_puts(out, "}\n");
    return rc;
}

void runtime__log_write(const char *p, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(log_state.fd, p + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere to report a failing log; drop the line */
        off += (size_t)n;
    }
}

enum { MAX_FIELDS = 32 };

static void log_emit(enum runtime_log_level level, const char *message, const char *const *kv,
                     size_t n)
{
    struct buf *b = &log_state.line;
    if (b->max == 0)
        buf_init(b, 1024 * 1024);
    buf_reset(b);
    if (runtime_log_format(b, level, message, kv, n) == BUF_OK)
        runtime__log_write(b->data, b->len);
    if (b->cap > 64 * 1024)
        buf_destroy(b); /* keep the resident line buffer small after a huge line */
}

void runtime_log(enum runtime_log_level level, const char *message, ...)
{
    if (!runtime_log_enabled(level))
        return;
    const char *kv[2 * MAX_FIELDS];
    size_t n = 0;
    va_list ap;
    va_start(ap, message);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (k == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        if (n < MAX_FIELDS) {
            kv[2 * n] = k;
            kv[2 * n + 1] = v;
            n++;
        }
    }
    va_end(ap);
    log_emit(level, message, kv, n);
}

void runtime_logf(enum runtime_log_level level, const char *fmt, ...)
{
    if (!runtime_log_enabled(level))
        return;
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    log_emit(level, text, NULL, 0);
}
