/*
 * accesslog.h — one access-log line per request, from the stage's format string and AWS's
 * `$context` variables ("Customizing HTTP API access logs").
 *
 * Each `$context.name` in the format is replaced by its value; a variable with no value, and a
 * name that is not one of AWS's, gives "-" (as AWS writes unset values). Names are matched on
 * the longest run of letters, digits, '_' and '.', less trailing dots, so
 * `"$context.status".` works. `$context.authorizer.claims.<claim>` and
 * `$context.authorizer.<key>` read the JWT claims and the Lambda authorizer's context;
 * `$context.error.messageString` is the message in double quotes. Control bytes in values
 * become spaces so a line stays one line. Pure and thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_ACCESSLOG_H
#define HAAR_CLOUD_APIGW_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

#include "cloud/apigw/request.h"
#include "core/buf.h"

/* The values of one request. Strings are NUL-terminated and borrowed; NULL = unset ("-").
 * Numbers < 0 = unset. */
struct apigw_log_vars {
    const char *account_id, *api_id, *domain_name, *domain_prefix, *stage;
    const char *request_id, *extended_request_id, *http_method, *path, *protocol, *route_key;
    const char *source_ip, *user_agent;
    const char *authorizer_error, *authorizer_principal_id;
    const char *error_message, *error_response_type;
    const char *integration_error_message, *integration_request_id;
    int64_t request_time_ms;       /* requestTime (CLF) and requestTimeEpoch (ms) */
    int64_t status;                /* the status the client got */
    int64_t integration_status;    /* Lambda's own status for the invoke (200, 500, ...) */
    int64_t function_status;       /* integration.status: what the function's answer said */
    int64_t integration_latency;   /* ms */
    int64_t response_latency;      /* ms */
    int64_t response_length;       /* body bytes sent */
    int64_t data_processed;        /* bytes */
    const struct apigw_kv *claims; /* JWT claims as text */
    size_t nclaims;
    const struct apigw_kv *authorizer; /* Lambda authorizer context as text */
    size_t nauthorizer;
};

/* Sets every field unset (NULL / -1). */
void apigw_log_vars_init(struct apigw_log_vars *v);

/* Appends the line for fmt (len bytes) with v's values (no newline added). Returns APIGW_OK
 * or a buf error. */
int apigw_accesslog_format(const char *fmt, size_t len, const struct apigw_log_vars *v,
                           struct buf *out);

/* The format AWS's console proposes for HTTP APIs (JSON), for stages that name none. */
extern const char apigw_accesslog_default_format[];

#endif
