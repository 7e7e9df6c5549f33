#include "core/clock.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>

static bool manual;
static int64_t manual_ms;

static int64_t read_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_now_ms(void)
{
    if (manual)
        return manual_ms;
    return read_clock_ns(CLOCK_REALTIME) / 1000000;
}

int64_t clock_mono_ms(void)
{
    if (manual)
        return manual_ms;
    return read_clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t clock_mono_ns(void)
{
    return read_clock_ns(CLOCK_MONOTONIC);
}

void clock_set_manual(int64_t epoch_ms)
{
    manual = true;
    manual_ms = epoch_ms;
}

void clock_advance_ms(int64_t ms)
{
    if (manual && ms > 0)
        manual_ms += ms;
}

void clock_set_real(void)
{
    manual = false;
}

bool clock_is_manual(void)
{
    return manual;
}

static bool to_tm(int64_t epoch_ms, struct tm *tm)
{
    time_t secs = (time_t)(epoch_ms / 1000);
    return gmtime_r(&secs, tm) != NULL;
}

int clock_format_lambda(int64_t epoch_ms, char *out, size_t outlen)
{
    struct tm tm;
    if (epoch_ms < 0 || !to_tm(epoch_ms, &tm))
        return -1;
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+0000", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(epoch_ms % 1000));
    return (n < 0 || (size_t)n >= outlen) ? -1 : n;
}

int clock_format_ymd_slash(int64_t epoch_ms, char *out, size_t outlen)
{
    struct tm tm;
    if (epoch_ms < 0 || !to_tm(epoch_ms, &tm))
        return -1;
    int n = snprintf(out, outlen, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return (n < 0 || (size_t)n >= outlen) ? -1 : n;
}
