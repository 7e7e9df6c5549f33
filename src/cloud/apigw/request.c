/* request.c — see request.h. */
#include "cloud/apigw/request.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool apigw_token(const char *s, size_t len)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c != 0 && memchr(extra, c, sizeof extra - 1) != NULL)))
            return false;
    }
    return true;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

bool apigw_ieq(const char *a, size_t al, const char *b, size_t bl)
{
    if (al != bl)
        return false;
    for (size_t i = 0; i < al; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

const struct apigw_kv *apigw_request_header(const struct apigw_request *req, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (apigw_ieq(req->headers[i].name, req->headers[i].name_len, name, nl))
            return &req->headers[i];
    return NULL;
}

static char *put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

int apigw_clf_time(int64_t epoch_ms, char *out, size_t outlen)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t secs = (time_t)(epoch_ms / 1000);
    struct tm tm;
    /* dd/Mon/yyyy:HH:MM:SS +0000, written by hand: twice per request (event, access log) */
    if (outlen < 27 || gmtime_r(&secs, &tm) == NULL || tm.tm_year < -1900 ||
        tm.tm_year > 9999 - 1900)
        return -1;
    char *p = put2(out, tm.tm_mday);
    *p++ = '/';
    memcpy(p, months[tm.tm_mon], 3);
    p += 3;
    *p++ = '/';
    p = put2(p, (tm.tm_year + 1900) / 100);
    p = put2(p, (tm.tm_year + 1900) % 100);
    *p++ = ':';
    p = put2(p, tm.tm_hour);
    *p++ = ':';
    p = put2(p, tm.tm_min);
    *p++ = ':';
    p = put2(p, tm.tm_sec);
    memcpy(p, " +0000", sizeof " +0000");
    return (int)(p - out) + 6;
}
