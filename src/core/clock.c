#include "core/clock.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
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

int64_t clock_real_mono_ms(void)
{
    return read_clock_ns(CLOCK_MONOTONIC) / 1000000;
}

int64_t clock_real_now_ms(void)
{
    return read_clock_ns(CLOCK_REALTIME) / 1000000;
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

int clock_format_iso(int64_t epoch_ms, bool ms, char *out, size_t outlen)
{
    struct tm tm;
    if (epoch_ms < 0 || !to_tm(epoch_ms, &tm))
        return -1;
    if (tm.tm_year + 1900 > 9999) { /* five digits: the rare case keeps printf */
        int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        if (n < 0 || (size_t)n >= outlen)
            return -1;
        int m = ms ? snprintf(out + n, outlen - (size_t)n, ".%03dZ", (int)(epoch_ms % 1000))
                   : snprintf(out + n, outlen - (size_t)n, "Z");
        return (m < 0 || (size_t)(n + m) >= outlen) ? -1 : n + m;
    }
    /* by hand: the functions stamp each task several times per request, and printf was a tenth
     * of a request's CPU */
    const int parts[7] = {
        tm.tm_year + 1900, tm.tm_mon + 1,         tm.tm_mday, tm.tm_hour, tm.tm_min,
        tm.tm_sec,         (int)(epoch_ms % 1000)};
    static const struct {
        int width;
        char after;
    } LAYOUT[7] = {{4, '-'}, {2, '-'}, {2, 'T'}, {2, ':'}, {2, ':'}, {2, '.'}, {3, 'Z'}};
    int nparts = ms ? 7 : 6;
    if (outlen < (ms ? 25u : 21u))
        return -1;
    size_t o = 0;
    for (int i = 0; i < nparts; i++) {
        for (int k = LAYOUT[i].width - 1, v = parts[i]; k >= 0; k--, v /= 10)
            out[o + (size_t)k] = (char)('0' + v % 10);
        o += (size_t)LAYOUT[i].width;
        out[o++] = i == nparts - 1 ? 'Z' : LAYOUT[i].after;
    }
    out[o] = '\0';
    return (int)o;
}

/* Reads exactly n digits at *p into *v; advances *p. */
static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return true;
}

int clock_parse_iso8601(const char *s, int64_t *out_ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    const char *p = s;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return -1;
            if (*p == '.') {
                p++;
                int nd = 0;
                while (isdigit((unsigned char)*p)) {
                    if (nd < 3)
                        ms = ms * 10 + (*p - '0');
                    nd++;
                    p++;
                }
                if (nd == 0 || nd > 9)
                    return -1;
                for (; nd < 3; nd++)
                    ms *= 10;
            }
        }
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (!digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (!digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_s = sign * (oh * 3600 + om * 60);
    }
    if (*p != '\0')
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
        mi > 59 || sec > 60)
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out_ms = ((int64_t)t - offset_s) * 1000 + ms;
    return 0;
}
