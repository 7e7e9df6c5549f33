/*
 * parse.c — small parsers of the logs module: names, retention values, file-system names,
 * --since durations and timestamps, and filter patterns. Pure functions, thread-safe.
 */
#include "cloud/logs/logs_int.h"

#include "core/clock.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool logs__valid_group_name(const char *s, size_t len)
{
    if (len < 1 || len > LOGS_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == '/' || c == '#'))
            return false;
    }
    return true;
}

bool logs__valid_stream_name(const char *s, size_t len)
{
    if (len < 1 || len > LOGS_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] == ':' || s[i] == '*' || s[i] == '\0')
            return false;
    return true;
}

static const int retention_values[] = {1,    3,    5,    7,    14,   30,  60,  90,
                                       120,  150,  180,  365,  400,  545, 731, 1096,
                                       1827, 2192, 2557, 2922, 3288, 3653};

bool logs__valid_retention(long days)
{
    for (size_t i = 0; i < sizeof retention_values / sizeof retention_values[0]; i++)
        if (retention_values[i] == days)
            return true;
    return false;
}

uint64_t logs__hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int logs__fs_name(const char *name, size_t len, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    if (outlen < 201 || len == 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        size_t need = (isalnum(c) || c == '_' || c == '-') ? 1 : 3;
        if (o + need > 180) {
            /* too long: keep the readable head, make it unique with the hash */
            int n = snprintf(out + o, outlen - o, "~%016llx",
                             (unsigned long long)logs__hash(name, len));
            if (n < 0)
                return -1;
            return 0;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return 0;
}

/* ---- --since ---- */

static const struct {
    char unit;
    int64_t ms;
} since_units[] = {
    {'s', 1000LL}, {'m', 60000LL}, {'h', 3600000LL}, {'d', 86400000LL}, {'w', 604800000LL},
};

int logs__parse_since(const char *s, int64_t now_ms, int64_t *out_ms)
{
    if (s == NULL || *s == '\0')
        return -1;
    if (strlen(s) >= 10 && isdigit((unsigned char)s[0]) && s[4] == '-')
        return clock_parse_iso8601(s, out_ms);
    const char *p = s;
    int64_t n = 0;
    int nd = 0;
    while (isdigit((unsigned char)*p)) {
        if (++nd > 12) /* bounded: 10^12 weeks is far past any clock anyway */
            return -1;
        n = n * 10 + (*p - '0');
        p++;
    }
    if (nd == 0 || p[0] == '\0' || p[1] != '\0')
        return -1;
    for (size_t i = 0; i < sizeof since_units / sizeof since_units[0]; i++) {
        if (since_units[i].unit == *p) {
            if (n > INT64_MAX / since_units[i].ms)
                return -1;
            int64_t d = n * since_units[i].ms;
            *out_ms = now_ms - d > 0 ? now_ms - d : 0;
            return 0;
        }
    }
    return -1;
}

/* ---- filter patterns ---- */

void logs__pattern_destroy(struct logs_pattern *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->terms[i].text);
    free(p->terms);
    p->terms = NULL;
    p->n = 0;
    p->n_any = 0;
}

static int add_term(struct logs_pattern *p, enum logs_term_kind kind, const char *text, size_t len)
{
    struct logs_term *t = realloc(p->terms, (p->n + 1) * sizeof *t);
    if (t == NULL)
        return -1;
    p->terms = t;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    p->terms[p->n].kind = kind;
    p->terms[p->n].text = copy;
    p->terms[p->n].len = len;
    p->n++;
    if (kind == LOGS_TERM_ANY)
        p->n_any++;
    return 0;
}

int logs__pattern_compile(struct logs_pattern *p, const char *s, size_t len, char *err,
                          size_t errlen)
{
    memset(p, 0, sizeof *p);
    char *tmp = malloc(len + 1);
    if (tmp == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    if (i < len && (s[i] == '{' || s[i] == '[')) {
        snprintf(err, errlen, "JSON and space-delimited filter patterns are not supported");
        goto fail;
    }
    while (i < len) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i >= len)
            break;
        enum logs_term_kind kind = LOGS_TERM_ALL;
        if (s[i] == '-' || s[i] == '?') {
            kind = s[i] == '-' ? LOGS_TERM_NOT : LOGS_TERM_ANY;
            i++;
            if (i >= len || isspace((unsigned char)s[i])) {
                snprintf(err, errlen, "Invalid filter pattern: '%c' without a term",
                         kind == LOGS_TERM_NOT ? '-' : '?');
                goto fail;
            }
        }
        size_t n = 0;
        if (s[i] == '"') {
            i++;
            bool closed = false;
            while (i < len) {
                if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '"' || s[i + 1] == '\\')) {
                    tmp[n++] = s[i + 1];
                    i += 2;
                } else if (s[i] == '"') {
                    i++;
                    closed = true;
                    break;
                } else {
                    tmp[n++] = s[i++];
                }
            }
            if (!closed) {
                snprintf(err, errlen, "Invalid filter pattern: unterminated quoted term");
                goto fail;
            }
            if (i < len && !isspace((unsigned char)s[i])) {
                snprintf(err, errlen, "Invalid filter pattern: text right after a quoted term");
                goto fail;
            }
        } else {
            while (i < len && !isspace((unsigned char)s[i]))
                tmp[n++] = s[i++];
        }
        if (n == 0 && kind != LOGS_TERM_ALL) {
            snprintf(err, errlen, "Invalid filter pattern: empty term");
            goto fail;
        }
        if (n > 0 && add_term(p, kind, tmp, n) != 0) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    free(tmp);
    return 0;
fail:
    free(tmp);
    logs__pattern_destroy(p);
    return -1;
}

static bool contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    if (nlen == 0)
        return true;
    if (nlen > hlen)
        return false;
    return memmem(hay, hlen, needle, nlen) != NULL;
}

bool logs__pattern_match(const struct logs_pattern *p, const char *msg, size_t len)
{
    bool any = p->n_any == 0;
    for (size_t i = 0; i < p->n; i++) {
        const struct logs_term *t = &p->terms[i];
        bool in = contains(msg, len, t->text, t->len);
        switch (t->kind) {
        case LOGS_TERM_ALL:
            if (!in)
                return false;
            break;
        case LOGS_TERM_NOT:
            if (in)
                return false;
            break;
        case LOGS_TERM_ANY:
            any = any || in;
            break;
        }
    }
    return any;
}
