/* accesslog.c — see accesslog.h. */
#include "cloud/apigw/accesslog.h"

#include <stddef.h>
#include <string.h>

#include "core/str.h"

const char apigw_accesslog_default_format[] =
    "{ \"requestId\":\"$context.requestId\", \"ip\": \"$context.identity.sourceIp\", "
    "\"requestTime\":\"$context.requestTime\", \"httpMethod\":\"$context.httpMethod\","
    "\"routeKey\":\"$context.routeKey\", \"status\":\"$context.status\","
    "\"protocol\":\"$context.protocol\", \"responseLength\":\"$context.responseLength\" }";

void apigw_log_vars_init(struct apigw_log_vars *v)
{
    memset(v, 0, sizeof *v);
    v->request_time_ms = -1;
    v->status = -1;
    v->integration_status = -1;
    v->function_status = -1;
    v->integration_latency = -1;
    v->response_latency = -1;
    v->response_length = -1;
    v->data_processed = -1;
}

enum kind { STR, INT, TIME, EPOCH, QUOTED };

/* name, its length, how it is written, where it is in struct apigw_log_vars */
#define VAR(name, kind, field)                                                                     \
    {                                                                                              \
        name, sizeof name - 1, kind, offsetof(struct apigw_log_vars, field)                        \
    }

/* sorted by name, bytewise (var_find searches it) */
static const struct var {
    const char *name;
    size_t len;
    enum kind kind;
    size_t off;
} vars[] = {
    VAR("accountId", STR, account_id),
    VAR("apiId", STR, api_id),
    VAR("authorizer.error", STR, authorizer_error),
    VAR("authorizer.principalId", STR, authorizer_principal_id),
    VAR("awsEndpointRequestId", STR, integration_request_id),
    VAR("dataProcessed", INT, data_processed),
    VAR("domainName", STR, domain_name),
    VAR("domainPrefix", STR, domain_prefix),
    VAR("error.message", STR, error_message),
    VAR("error.messageString", QUOTED, error_message),
    VAR("error.responseType", STR, error_response_type),
    VAR("extendedRequestId", STR, extended_request_id),
    VAR("httpMethod", STR, http_method),
    VAR("identity.sourceIp", STR, source_ip),
    VAR("identity.userAgent", STR, user_agent),
    VAR("integration.error", STR, integration_error_message),
    VAR("integration.integrationStatus", INT, integration_status),
    VAR("integration.latency", INT, integration_latency),
    VAR("integration.requestId", STR, integration_request_id),
    VAR("integration.status", INT, function_status),
    VAR("integrationErrorMessage", STR, integration_error_message),
    VAR("integrationLatency", INT, integration_latency),
    VAR("integrationStatus", INT, integration_status),
    VAR("path", STR, path),
    VAR("protocol", STR, protocol),
    VAR("requestId", STR, request_id),
    VAR("requestTime", TIME, request_time_ms),
    VAR("requestTimeEpoch", EPOCH, request_time_ms),
    VAR("responseLatency", INT, response_latency),
    VAR("responseLength", INT, response_length),
    VAR("routeKey", STR, route_key),
    VAR("stage", STR, stage),
    VAR("status", INT, status),
};

#undef VAR

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == ':';
}

/* Appends a value with control bytes turned into spaces; "-" for NULL or empty. */
static int put(struct buf *out, const char *s, size_t len)
{
    if (s == NULL || len == 0)
        return buf_append(out, "-", 1);
    size_t at = out->len;
    int rc = buf_append(out, s, len);
    if (rc != BUF_OK)
        return rc;
    char *d = out->data + at;
    for (size_t i = str_find_ctl(d, len); i < len; i += 1 + str_find_ctl(d + i + 1, len - i - 1))
        d[i] = ' ';
    for (char *t = memchr(d, '\t', len); t != NULL; t = memchr(t, '\t', len - (size_t)(t - d)))
        *t = ' ';
    return rc;
}

static int put_kv(struct buf *out, const struct apigw_kv *kv, size_t n, const char *name, size_t nl)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].name_len == nl && memcmp(kv[i].name, name, nl) == 0)
            return put(out, kv[i].value, kv[i].value_len);
    return put(out, NULL, 0);
}

/* The variable of that name in vars (sorted by name, bytewise), or NULL. */
static const struct var *var_find(const char *name, size_t nl)
{
    size_t lo = 0, hi = sizeof vars / sizeof vars[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t n = vars[mid].len < nl ? vars[mid].len : nl;
        int c = memcmp(vars[mid].name, name, n);
        if (c == 0)
            c = vars[mid].len < nl ? -1 : vars[mid].len > nl ? 1 : 0;
        if (c == 0)
            return &vars[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int put_var(struct buf *out, const struct apigw_log_vars *v, const char *name, size_t nl)
{
    static const char claims[] = "authorizer.claims.", auth[] = "authorizer.";
    const struct var *var = var_find(name, nl);
    if (var != NULL) {
        const char *base = (const char *)v + var->off;
        char tmp[40];
        switch (var->kind) {
        case STR: {
            const char *s = *(const char *const *)(const void *)base;
            return put(out, s, s ? strlen(s) : 0);
        }
        case QUOTED: {
            const char *s = *(const char *const *)(const void *)base;
            if (s == NULL)
                return put(out, NULL, 0);
            int rc = buf_append(out, "\"", 1);
            if (rc == BUF_OK)
                rc = put(out, s, strlen(s));
            return rc == BUF_OK ? buf_append(out, "\"", 1) : rc;
        }
        case INT:
        case EPOCH: {
            int64_t n;
            memcpy(&n, base, sizeof n);
            if (n < 0)
                return put(out, NULL, 0);
            return put(out, tmp, str_i64(n, tmp));
        }
        case TIME: {
            int64_t n;
            memcpy(&n, base, sizeof n);
            int k = n < 0 ? -1 : apigw_clf_time(n, tmp, sizeof tmp);
            return put(out, k < 0 ? NULL : tmp, k < 0 ? 0 : (size_t)k);
        }
        }
    }
    if (nl > sizeof claims - 1 && memcmp(name, claims, sizeof claims - 1) == 0)
        return put_kv(out, v->claims, v->nclaims, name + sizeof claims - 1,
                      nl - (sizeof claims - 1));
    if (nl > sizeof auth - 1 && memcmp(name, auth, sizeof auth - 1) == 0)
        return put_kv(out, v->authorizer, v->nauthorizer, name + sizeof auth - 1,
                      nl - (sizeof auth - 1));
    return put(out, NULL, 0);
}

int apigw_accesslog_format(const char *fmt, size_t len, const struct apigw_log_vars *v,
                           struct buf *out)
{
    static const char pre[] = "$context.";
    const size_t pl = sizeof pre - 1;
    int rc = APIGW_OK;
    size_t i = 0;
    while (rc == APIGW_OK && i < len) {
        const char *d = memchr(fmt + i, '$', len - i);
        size_t at = d ? (size_t)(d - fmt) : len;
        if (at > i)
            rc = buf_append(out, fmt + i, at - i);
        if (rc != APIGW_OK || at >= len)
            break;
        if (len - at <= pl || memcmp(fmt + at, pre, pl) != 0 || !ident_char(fmt[at + pl])) {
            rc = buf_append(out, "$", 1);
            i = at + 1;
            continue;
        }
        size_t s = at + pl, e = s;
        while (e < len && ident_char(fmt[e]) && fmt[e] != '-' && fmt[e] != ':')
            e++;
        while (e > s && fmt[e - 1] == '.')
            e--;
        rc = put_var(out, v, fmt + s, e - s);
        i = e;
    }
    return rc;
}
