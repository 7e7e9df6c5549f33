/*
 * retry.c — the standard retry mode's decisions (see retry.h). Tables, not if-chains: the
 * error codes that mean "throttled" or "transient" are lists.
 */
#include "aws/retry.h"

#include <string.h>

static const char *const THROTTLING_CODES[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

static const char *const TRANSIENT_CODES[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};

static const int TRANSIENT_STATUS[] = {500, 502, 503, 504};

static bool in_list(const char *code, const char *const *list, size_t n)
{
    if (code == NULL || *code == '\0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return true;
    return false;
}

void aws_retry_policy_standard(struct aws_retry_policy *p, bool dynamodb)
{
    p->max_attempts = dynamodb ? 4 : 3;
    p->transient_base_ms = dynamodb ? 25 : 50;
    p->throttling_base_ms = 1000;
    p->max_backoff_ms = AWS_RETRY_MAX_BACKOFF_MS;
}

bool aws_retry_is_throttling(const char *code)
{
    return in_list(code, THROTTLING_CODES, sizeof THROTTLING_CODES / sizeof THROTTLING_CODES[0]);
}

enum aws_retry_class aws_retry_classify(bool answered, int status, const char *code)
{
    if (!answered)
        return AWS_RETRY_TRANSIENT;
    if (status >= 200 && status < 300)
        return AWS_RETRY_NONE;
    if (aws_retry_is_throttling(code))
        return AWS_RETRY_THROTTLING;
    if (in_list(code, TRANSIENT_CODES, sizeof TRANSIENT_CODES / sizeof TRANSIENT_CODES[0]))
        return AWS_RETRY_TRANSIENT;
    for (size_t i = 0; i < sizeof TRANSIENT_STATUS / sizeof TRANSIENT_STATUS[0]; i++)
        if (status == TRANSIENT_STATUS[i])
            return AWS_RETRY_TRANSIENT;
    return AWS_RETRY_NONE;
}

void aws_retry_quota_init(struct aws_retry_quota *q)
{
    q->tokens = AWS_RETRY_QUOTA_MAX;
}

int aws_retry_quota_acquire(struct aws_retry_quota *q, enum aws_retry_class c)
{
    int cost = c == AWS_RETRY_THROTTLING ? AWS_RETRY_COST_THROTTLING : AWS_RETRY_COST;
    if (c == AWS_RETRY_NONE || q->tokens < cost)
        return 0;
    q->tokens -= cost;
    return cost;
}

void aws_retry_quota_success(struct aws_retry_quota *q, int last_cost)
{
    q->tokens += last_cost > 0 ? last_cost : AWS_RETRY_NO_RETRY_INCREMENT;
    if (q->tokens > AWS_RETRY_QUOTA_MAX)
        q->tokens = AWS_RETRY_QUOTA_MAX;
}

int64_t aws_retry_delay_ms(const struct aws_retry_policy *p, enum aws_retry_class c, int retry,
                           double random01, int64_t retry_after_ms)
{
    int64_t base = c == AWS_RETRY_THROTTLING ? p->throttling_base_ms : p->transient_base_ms;
    int64_t cap = base;
    for (int i = 1; i < retry && cap < p->max_backoff_ms; i++)
        cap *= 2;
    if (cap > p->max_backoff_ms)
        cap = p->max_backoff_ms;
    if (random01 < 0 || random01 >= 1)
        random01 = 0;
    int64_t delay = (int64_t)(random01 * (double)cap);
    if (retry_after_ms >= 0) {
        if (retry_after_ms < delay)
            return delay;
        if (retry_after_ms > delay + AWS_RETRY_AFTER_SLACK_MS)
            return delay + AWS_RETRY_AFTER_SLACK_MS;
        return retry_after_ms;
    }
    return delay;
}

int64_t aws_retry_after_parse(const char *value)
{
    int64_t v = 0;
    if (value == NULL || *value == '\0')
        return -1;
    for (const char *s = value; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}
