/*
 * env.c — credentials, region and endpoints from the environment (see env.h).
 */
#include "aws/env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void aws__set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *aws_env_getenv(void *arg, const char *name)
{
    (void)arg;
    return getenv(name);
}

/* A variable's value, or NULL when unset or empty. */
static const char *lookup(aws_getenv_fn get, void *arg, const char *name)
{
    const char *v = get(arg, name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Copies a printable ASCII value; false when absent, too long or not printable. */
static bool copy_value(char *dst, size_t cap, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (v == NULL || n >= cap || !printable(v))
        return false;
    memcpy(dst, v, n + 1);
    return true;
}

int aws_env_credentials(aws_getenv_fn get, void *arg, struct aws_credentials *out, char *err,
                        size_t errlen)
{
    static const struct {
        const char *var;
        size_t offset, cap;
        bool required;
    } fields[] = {
        {"AWS_ACCESS_KEY_ID", offsetof(struct aws_credentials, access_key), AWS_ACCESS_KEY_MAX,
         true},
        {"AWS_SECRET_ACCESS_KEY", offsetof(struct aws_credentials, secret), AWS_SECRET_MAX, true},
        {"AWS_SESSION_TOKEN", offsetof(struct aws_credentials, token), AWS_TOKEN_MAX, false},
    };
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = lookup(get, arg, fields[i].var);
        if (v == NULL && !fields[i].required)
            continue;
        if (v == NULL) {
            aws__set_err(err, errlen, "%s is not set", fields[i].var);
            return -1;
        }
        if (!copy_value((char *)out + fields[i].offset, fields[i].cap, v)) {
            aws__set_err(err, errlen, "%s is longer than %zu bytes or not printable ASCII",
                         fields[i].var, fields[i].cap - 1);
            memset(out, 0, sizeof *out);
            return -1;
        }
    }
    return 0;
}

int aws_env_region(aws_getenv_fn get, void *arg, char *out, size_t cap, char *err, size_t errlen)
{
    const char *v = lookup(get, arg, "AWS_REGION");
    if (v == NULL)
        v = lookup(get, arg, "AWS_DEFAULT_REGION");
    if (v == NULL) {
        aws__set_err(err, errlen, "no region: set AWS_REGION (or AWS_DEFAULT_REGION)");
        return -1;
    }
    size_t n = strlen(v);
    bool ok = n > 0 && n < cap;
    for (size_t i = 0; ok && i < n; i++)
        ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-';
    if (!ok) {
        aws__set_err(err, errlen, "region '%.64s' is not a region name", v);
        return -1;
    }
    memcpy(out, v, n + 1);
    return 0;
}

int aws_endpoint_parse(const char *url, struct aws_endpoint *out, char *err, size_t errlen)
{
    const char *p;
    int n;
    memset(out, 0, sizeof *out);
    if (strncasecmp(url, "https://", 8) == 0) {
        out->tls = true;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        aws__set_err(err, errlen, "endpoint '%.200s' is not an http:// or https:// URL", url);
        return -1;
    }
    size_t auth_len = strcspn(p, "/?#");
    const char *path = p + auth_len;
    if (*path == '?' || *path == '#' || strpbrk(path, "?#") != NULL) {
        aws__set_err(err, errlen, "endpoint '%.200s' has a query or fragment", url);
        return -1;
    }
    if (memchr(p, '@', auth_len) != NULL) {
        aws__set_err(err, errlen, "endpoint '%.200s' carries user information", url);
        return -1;
    }
    /* host and port */
    const char *host = p, *port = NULL;
    size_t host_len;
    if (auth_len > 0 && *p == '[') {
        const char *rb = memchr(p, ']', auth_len);
        if (rb == NULL) {
            aws__set_err(err, errlen, "endpoint '%.200s': unclosed '['", url);
            return -1;
        }
        host = p + 1;
        host_len = (size_t)(rb - host);
        if (rb + 1 < p + auth_len) {
            if (rb[1] != ':') {
                aws__set_err(err, errlen, "endpoint '%.200s': bad authority", url);
                return -1;
            }
            port = rb + 2;
        }
    } else {
        const char *colon = memchr(p, ':', auth_len);
        host_len = colon ? (size_t)(colon - p) : auth_len;
        port = colon ? colon + 1 : NULL;
    }
    if (host_len == 0 || host_len >= sizeof out->host) {
        aws__set_err(err, errlen, "endpoint '%.200s' has no host (or an over-long one)", url);
        return -1;
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = out->tls ? 443 : 80;
    if (port != NULL) {
        long v = 0;
        const char *e = p + auth_len;
        if (port == e) {
            aws__set_err(err, errlen, "endpoint '%.200s' has an empty port", url);
            return -1;
        }
        for (const char *s = port; s < e; s++) {
            if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > 65535) {
                aws__set_err(err, errlen, "endpoint '%.200s' has a bad port", url);
                return -1;
            }
        }
        if (v == 0) {
            aws__set_err(err, errlen, "endpoint '%.200s' has port 0", url);
            return -1;
        }
        out->port = (int)v;
    }
    bool v6 = strchr(out->host, ':') != NULL;
    bool default_port = out->port == (out->tls ? 443 : 80);
    n = default_port
            ? snprintf(out->authority, sizeof out->authority, v6 ? "[%s]" : "%s", out->host)
            : snprintf(out->authority, sizeof out->authority, v6 ? "[%s]:%d" : "%s:%d", out->host,
                       out->port);
    if (n < 0 || (size_t)n >= sizeof out->authority) {
        aws__set_err(err, errlen, "endpoint '%.200s' is too long", url);
        return -1;
    }
    /* the path prefix, without trailing slashes */
    size_t pl = strlen(path);
    while (pl > 0 && path[pl - 1] == '/')
        pl--;
    if (pl >= sizeof out->path) {
        aws__set_err(err, errlen, "endpoint '%.200s' has an over-long path", url);
        return -1;
    }
    memcpy(out->path, path, pl);
    out->path[pl] = '\0';
    n = snprintf(out->url, sizeof out->url, "%s://%s%s", out->tls ? "https" : "http",
                 out->authority, out->path);
    if (n < 0 || (size_t)n >= sizeof out->url) {
        aws__set_err(err, errlen, "endpoint '%.200s' is too long", url);
        return -1;
    }
    return 0;
}

/* DNS suffixes of the partitions other than aws (region name prefix -> suffix). */
static const struct {
    const char *region_prefix;
    const char *suffix;
} PARTITIONS[] = {
    {"cn-", "amazonaws.com.cn"},
    {"us-isob-", "sc2s.sgov.gov"},
    {"us-iso-", "c2s.ic.gov"},
};

int aws_env_endpoint(aws_getenv_fn get, void *arg, const char *env_id, const char *prefix,
                     const char *region, struct aws_endpoint *out, enum aws_endpoint_source *source,
                     char *err, size_t errlen)
{
    char var[96], url[600];
    const char *v = NULL, *ignore = lookup(get, arg, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    enum aws_endpoint_source src = AWS_ENDPOINT_REGIONAL;

    if (ignore == NULL || strcasecmp(ignore, "true") != 0) {
        snprintf(var, sizeof var, "AWS_ENDPOINT_URL_%s", env_id);
        v = lookup(get, arg, var);
        src = AWS_ENDPOINT_FROM_SERVICE_ENV;
        if (v == NULL) {
            v = lookup(get, arg, "AWS_ENDPOINT_URL");
            src = AWS_ENDPOINT_FROM_GLOBAL_ENV;
        }
    }
    if (v == NULL) {
        const char *suffix = "amazonaws.com";
        src = AWS_ENDPOINT_REGIONAL;
        if (region == NULL || *region == '\0') {
            aws__set_err(err, errlen, "no endpoint for %s: no region", prefix);
            return -1;
        }
        for (size_t i = 0; i < sizeof PARTITIONS / sizeof PARTITIONS[0]; i++)
            if (strncmp(region, PARTITIONS[i].region_prefix, strlen(PARTITIONS[i].region_prefix)) ==
                0) {
                suffix = PARTITIONS[i].suffix;
                break;
            }
        int n = snprintf(url, sizeof url, "https://%s.%s.%s", prefix, region, suffix);
        if (n < 0 || (size_t)n >= sizeof url) {
            aws__set_err(err, errlen, "no endpoint for %s: region too long", prefix);
            return -1;
        }
        v = url;
    }
    if (source != NULL)
        *source = src;
    return aws_endpoint_parse(v, out, err, errlen);
}
