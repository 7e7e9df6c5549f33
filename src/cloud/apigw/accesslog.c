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

static const struct var {
    const char *name;
    size_t len; /* of name */
    enum kind kind;
    size_t off;
} vars[] = {
    {"accountId", sizeof "accountId" - 1, STR, offsetof(struct apigw_log_vars, account_id)},
    {"apiId", sizeof "apiId" - 1, STR, offsetof(struct apigw_log_vars, api_id)},
    {"authorizer.error", sizeof "authorizer.error" - 1, STR,
     offsetof(struct apigw_log_vars, authorizer_error)},
    {"authorizer.principalId", sizeof "authorizer.principalId" - 1, STR,
     offsetof(struct apigw_log_vars, authorizer_principal_id)},
    {"awsEndpointRequestId", sizeof "awsEndpointRequestId" - 1, STR,
     offsetof(struct apigw_log_vars, integration_request_id)},
    {"dataProcessed", sizeof "dataProcessed" - 1, INT,
     offsetof(struct apigw_log_vars, data_processed)},
    {"domainName", sizeof "domainName" - 1, STR, offsetof(struct apigw_log_vars, domain_name)},
    {"domainPrefix", sizeof "domainPrefix" - 1, STR,
     offsetof(struct apigw_log_vars, domain_prefix)},
    {"error.message", sizeof "error.message" - 1, STR,
     offsetof(struct apigw_log_vars, error_message)},
    {"error.messageString", sizeof "error.messageString" - 1, QUOTED,
     offsetof(struct apigw_log_vars, error_message)},
    {"error.responseType", sizeof "error.responseType" - 1, STR,
     offsetof(struct apigw_log_vars, error_response_type)},
    {"extendedRequestId", sizeof "extendedRequestId" - 1, STR,
     offsetof(struct apigw_log_vars, extended_request_id)},
    {"httpMethod", sizeof "httpMethod" - 1, STR, offsetof(struct apigw_log_vars, http_method)},
    {"identity.sourceIp", sizeof "identity.sourceIp" - 1, STR,
     offsetof(struct apigw_log_vars, source_ip)},
    {"identity.userAgent", sizeof "identity.userAgent" - 1, STR,
     offsetof(struct apigw_log_vars, user_agent)},
    {"integration.error", sizeof "integration.error" - 1, STR,
     offsetof(struct apigw_log_vars, integration_error_message)},
    {"integration.integrationStatus", sizeof "integration.integrationStatus" - 1, INT,
     offsetof(struct apigw_log_vars, integration_status)},
    {"integration.latency", sizeof "integration.latency" - 1, INT,
     offsetof(struct apigw_log_vars, integration_latency)},
    {"integration.requestId", sizeof "integration.requestId" - 1, STR,
     offsetof(struct apigw_log_vars, integration_request_id)},
    {"integration.status", sizeof "integration.status" - 1, INT,
     offsetof(struct apigw_log_vars, function_status)},
    {"integrationErrorMessage", sizeof "integrationErrorMessage" - 1, STR,
     offsetof(struct apigw_log_vars, integration_error_message)},
    {"integrationLatency", sizeof "integrationLatency" - 1, INT,
     offsetof(struct apigw_log_vars, integration_latency)},
    {"integrationStatus", sizeof "integrationStatus" - 1, INT,
     offsetof(struct apigw_log_vars, integration_status)},
    {"path", sizeof "path" - 1, STR, offsetof(struct apigw_log_vars, path)},
    {"protocol", sizeof "protocol" - 1, STR, offsetof(struct apigw_log_vars, protocol)},
    {"requestId", sizeof "requestId" - 1, STR, offsetof(struct apigw_log_vars, request_id)},
    {"requestTime", sizeof "requestTime" - 1, TIME,
     offsetof(struct apigw_log_vars, request_time_ms)},
    {"requestTimeEpoch", sizeof "requestTimeEpoch" - 1, EPOCH,
     offsetof(struct apigw_log_vars, request_time_ms)},
    {"responseLatency", sizeof "responseLatency" - 1, INT,
     offsetof(struct apigw_log_vars, response_latency)},
    {"responseLength", sizeof "responseLength" - 1, INT,
     offsetof(struct apigw_log_vars, response_length)},
    {"routeKey", sizeof "routeKey" - 1, STR, offsetof(struct apigw_log_vars, route_key)},
    {"stage", sizeof "stage" - 1, STR, offsetof(struct apigw_log_vars, stage)},
    {"status", sizeof "status" - 1, INT, offsetof(struct apigw_log_vars, status)},
};

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
    for (size_t i = 0; rc == BUF_OK && i < len; i++) {
        unsigned char c = (unsigned char)out->data[at + i];
        if (c < 0x20 || c == 0x7f)
            out->data[at + i] = ' ';
    }
    return rc;
}

static int put_kv(struct buf *out, const struct apigw_kv *kv, size_t n, const char *name, size_t nl)
{
    for (size_t i = 0; i < n; i++)
        if (kv[i].name_len == nl && memcmp(kv[i].name, name, nl) == 0)
            return put(out, kv[i].value, kv[i].value_len);
    return put(out, NULL, 0);
}

static int put_var(struct buf *out, const struct apigw_log_vars *v, const char *name, size_t nl)
{
    static const char claims[] = "authorizer.claims.", auth[] = "authorizer.";
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        if (vars[i].len != nl || memcmp(vars[i].name, name, nl) != 0)
            continue;
        const char *base = (const char *)v + vars[i].off;
        char tmp[40];
        switch (vars[i].kind) {
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
