/*
 * retry.h — AWS's standard retry mode, as the SDKs implement it since the 2026 update of
 * the shared retry behaviour (sdkref "Retry behavior"; the default from November 2026):
 *
 *  - what is retried: throttling errors (by error code: ThrottlingException,
 *    ProvisionedThroughputExceededException, ...), transient errors (HTTP 500, 502, 503,
 *    504; RequestTimeout, RequestTimeoutException, PriorRequestNotComplete) and transport
 *    failures where no answer came (connect errors, resets, attempt timeouts). Everything
 *    else — validation, conditional-check failures, access denied — is not.
 *  - how long to wait: full jitter, delay = random[0,1) * min(base * 2^(retry-1), 20 s),
 *    base 1 s for throttling and 50 ms for other errors (25 ms for DynamoDB); a server's
 *    x-amz-retry-after (ms) is honoured, clamped between that delay and 5 s above it.
 *  - how often: 3 attempts (4 for DynamoDB), and a retry quota per client: 500 tokens, a
 *    retry takes 14 (5 for throttling); a call that succeeds gives back what its last retry
 *    took, or 1 token when it needed no retry. An empty quota means no retry: when a
 *    service is down, callers fail fast instead of piling retries onto it.
 *
 * Pure functions over caller-owned state; not thread-safe (a quota belongs to one client).
 */
#ifndef HAAR_AWS_RETRY_H
#define HAAR_AWS_RETRY_H

#include <stdbool.h>
#include <stdint.h>

enum aws_retry_class {
    AWS_RETRY_NONE,       /* not retryable */
    AWS_RETRY_TRANSIENT,  /* 5xx, transient codes, transport failures */
    AWS_RETRY_THROTTLING, /* the service asked the caller to slow down */
};

enum {
    AWS_RETRY_QUOTA_MAX = 500,
    AWS_RETRY_COST = 14,
    AWS_RETRY_COST_THROTTLING = 5,
    AWS_RETRY_NO_RETRY_INCREMENT = 1,
    AWS_RETRY_MAX_BACKOFF_MS = 20000,
    AWS_RETRY_AFTER_SLACK_MS = 5000,
};

struct aws_retry_policy {
    int max_attempts;          /* first attempt included */
    int64_t transient_base_ms; /* backoff base of transient errors */
    int64_t throttling_base_ms;
    int64_t max_backoff_ms;
};

/* The standard policy: for DynamoDB (4 attempts, 25 ms) or any other service. */
void aws_retry_policy_standard(struct aws_retry_policy *p, bool dynamodb);

/*
 * Classifies one attempt's outcome. answered: an HTTP answer arrived (status and code are
 * its status and error code, code "" or NULL when it had none); false: the transport
 * failed before an answer (always transient).
 */
enum aws_retry_class aws_retry_classify(bool answered, int status, const char *code);

/* True when code is one of the throttling error codes. */
bool aws_retry_is_throttling(const char *code);

/* The retry quota (a token bucket), embedded in its client. */
struct aws_retry_quota {
    int tokens;
};

/* A full quota. */
void aws_retry_quota_init(struct aws_retry_quota *q);

/* Takes the cost of one retry of class c. Returns the tokens taken (> 0), or 0 when the
 * quota cannot pay for it: do not retry. */
int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_class c);

/* A call succeeded: last_cost is what its last retry took (0 when it needed none). */
void aws_retry_quota_success(struct aws_retry_quota *q, int last_cost);

/*
 * The delay before retry number `retry` (1 = the first retry) of class c: full jitter over
 * the capped exponential backoff, with random01 in [0, 1). retry_after_ms is the server's
 * x-amz-retry-after in ms, or -1 when absent or invalid.
 */
int64_t aws_retry_delay_ms(const struct aws_retry_policy *p, enum aws_retry_class c, int retry,
                           double random01, int64_t retry_after_ms);

/* Parses an x-amz-retry-after value (a non-negative integer of milliseconds). Returns it,
 * or -1 when value is NULL or not such a number. */
int64_t aws_retry_after_parse(const char *value);

#endif
