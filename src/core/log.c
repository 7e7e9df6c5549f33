#include "core/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"

enum log_level log_current_level = LOG_LEVEL_INFO;
static FILE *log_stream;

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

int log_set_level_name(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            log_current_level = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(enum log_level lvl)
{
    log_current_level = lvl;
}

void log_set_stream(FILE *f)
{
    log_stream = f;
}

void log_write(enum log_level lvl, const char *event, const char *rid, const char *fmt, ...)
{
    if (lvl < log_current_level || lvl >= LOG_LEVEL_OFF)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* quote and escape: one event must stay one line */
    char esc[2100];
    size_t o = 0;
    for (const char *p = msg; *p && o + 4 < sizeof(esc); p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            esc[o++] = '\\';
            esc[o++] = (char)c;
        } else if (c == '\n') {
            esc[o++] = '\\';
            esc[o++] = 'n';
        } else if (c < 0x20) {
            esc[o++] = ' ';
        } else {
            esc[o++] = (char)c;
        }
    }
    esc[o] = '\0';
    int64_t now = clock_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    FILE *f = log_stream ? log_stream : stderr;
    fprintf(f, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s event=%s%s%s msg=\"%s\"\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            (int)(now % 1000), level_names[lvl], event ? event : "-", rid ? " rid=" : "",
            rid ? rid : "", esc);
    fflush(f);
}
