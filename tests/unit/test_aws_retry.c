/*
 * Unit tests: aws/retry — the standard retry mode's decisions as tables: which outcomes are
 * retried (and as what), how long each retry waits, and how the retry quota drains and
 * refills.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aws/retry.h"

/* ---- what is retried ---- */

struct classify_case {
    bool answered;
    int status;
    const char *code;
    enum aws_retry_class want;
};

static const struct classify_case CLASSIFY[] = {
    /* transport failures: no answer came */
    {false, 0, NULL, AWS_RETRY_TRANSIENT},
    /* success */
    {true, 200, NULL, AWS_RETRY_NONE},
    {true, 204, "", AWS_RETRY_NONE},
    /* 5xx that are transient, by status */
    {true, 500, "InternalServerError", AWS_RETRY_TRANSIENT},
    {true, 500, "InternalFailure", AWS_RETRY_TRANSIENT},
    {true, 502, NULL, AWS_RETRY_TRANSIENT},
    {true, 503, "ServiceUnavailable", AWS_RETRY_TRANSIENT},
    {true, 504, "", AWS_RETRY_TRANSIENT},
    {true, 501, "NotImplemented", AWS_RETRY_NONE},
    /* transient by code */
    {true, 400, "RequestTimeout", AWS_RETRY_TRANSIENT},
    {true, 408, "RequestTimeoutException", AWS_RETRY_TRANSIENT},
    /* throttling by code, whatever the status */
    {true, 400, "ThrottlingException", AWS_RETRY_THROTTLING},
    {true, 400, "Throttling", AWS_RETRY_THROTTLING},
    {true, 400, "ProvisionedThroughputExceededException", AWS_RETRY_THROTTLING},
    {true, 400, "RequestLimitExceeded", AWS_RETRY_THROTTLING},
    {true, 400, "TransactionInProgressException", AWS_RETRY_THROTTLING},
    {true, 400, "RequestThrottled", AWS_RETRY_THROTTLING},
    {true, 429, "TooManyRequestsException", AWS_RETRY_THROTTLING},
    {true, 503, "SlowDown", AWS_RETRY_THROTTLING},
    {true, 400, "LimitExceededException", AWS_RETRY_THROTTLING},
    {true, 400, "PriorRequestNotComplete", AWS_RETRY_THROTTLING},
    /* the caller's own errors: never retried */
    {true, 400, "ConditionalCheckFailedException", AWS_RETRY_NONE},
    {true, 400, "ValidationException", AWS_RETRY_NONE},
    {true, 400, "ResourceNotFoundException", AWS_RETRY_NONE},
    {true, 400, "QueueDoesNotExist", AWS_RETRY_NONE},
    {true, 400, "InvalidParameterValue", AWS_RETRY_NONE},
    {true, 403, "UnrecognizedClientException", AWS_RETRY_NONE},
    {true, 403, "InvalidSignatureException", AWS_RETRY_NONE},
    {true, 403, "AccessDeniedException", AWS_RETRY_NONE},
    {true, 413, "", AWS_RETRY_NONE},
    {true, 404, NULL, AWS_RETRY_NONE},
    {true, 400, "throttlingexception", AWS_RETRY_NONE}, /* codes are case-sensitive */
};

static void test_classify(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof CLASSIFY / sizeof CLASSIFY[0]; i++) {
        const struct classify_case *c = &CLASSIFY[i];
        enum aws_retry_class got = aws_retry_classify(c->answered, c->status, c->code);
        if (got != c->want) {
            printf("FAIL answered=%d status=%d code=%s: %d, want %d\n", c->answered, c->status,
                   c->code ? c->code : "(none)", got, c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- how long to wait ---- */

struct delay_case {
    bool dynamodb;
    enum aws_retry_class cls;
    int retry;
    double random;
    int64_t retry_after;
    int64_t want;
};

static const struct delay_case DELAYS[] = {
    /* full jitter over base * 2^(retry-1) */
    {false, AWS_RETRY_TRANSIENT, 1, 0.5, -1, 25},
    {false, AWS_RETRY_TRANSIENT, 2, 0.5, -1, 50},
    {false, AWS_RETRY_TRANSIENT, 3, 0.999, -1, 199},
    {false, AWS_RETRY_TRANSIENT, 1, 0.0, -1, 0},
    {true, AWS_RETRY_TRANSIENT, 1, 0.5, -1, 12},
    {true, AWS_RETRY_TRANSIENT, 3, 0.5, -1, 50},
    {false, AWS_RETRY_THROTTLING, 1, 0.5, -1, 500},
    {true, AWS_RETRY_THROTTLING, 2, 0.5, -1, 1000},
    /* the cap (20 s) applies before the jitter */
    {false, AWS_RETRY_THROTTLING, 6, 0.5, -1, 10000},
    {false, AWS_RETRY_THROTTLING, 30, 0.999, -1, 19980},
    {false, AWS_RETRY_TRANSIENT, 40, 0.25, -1, 5000},
    /* out-of-range random values count as 0 */
    {false, AWS_RETRY_TRANSIENT, 1, 1.5, -1, 0},
    /* x-amz-retry-after: honoured between the delay and 5 s above it */
    {false, AWS_RETRY_TRANSIENT, 1, 0.5, 300, 300},
    {false, AWS_RETRY_TRANSIENT, 1, 0.5, 10, 25},
    {false, AWS_RETRY_THROTTLING, 1, 0.5, 60000, 5500},
    {false, AWS_RETRY_THROTTLING, 1, 0.5, 0, 500},
};

static void test_delays(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof DELAYS / sizeof DELAYS[0]; i++) {
        const struct delay_case *c = &DELAYS[i];
        struct aws_retry_policy p;
        aws_retry_policy_standard(&p, c->dynamodb);
        int64_t got = aws_retry_delay_ms(&p, c->cls, c->retry, c->random, c->retry_after);
        if (got != c->want) {
            printf("FAIL case %zu: delay %lld, want %lld\n", i, (long long)got, (long long)c->want);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

static void test_policies(void **state)
{
    (void)state;
    struct aws_retry_policy p;
    aws_retry_policy_standard(&p, false);
    assert_int_equal(p.max_attempts, 3);
    assert_int_equal(p.transient_base_ms, 50);
    assert_int_equal(p.throttling_base_ms, 1000);
    assert_int_equal(p.max_backoff_ms, 20000);
    aws_retry_policy_standard(&p, true);
    assert_int_equal(p.max_attempts, 4);
    assert_int_equal(p.transient_base_ms, 25);
}

static void test_retry_after_parse(void **state)
{
    (void)state;
    assert_int_equal(aws_retry_after_parse("1500"), 1500);
    assert_int_equal(aws_retry_after_parse("0"), 0);
    assert_int_equal(aws_retry_after_parse(NULL), -1);
    assert_int_equal(aws_retry_after_parse(""), -1);
    assert_int_equal(aws_retry_after_parse("-1"), -1);
    assert_int_equal(aws_retry_after_parse("1.5"), -1);
    assert_int_equal(aws_retry_after_parse("99999999999999999999999"), -1);
}

/* ---- the retry quota ---- */

static void test_quota(void **state)
{
    (void)state;
    struct aws_retry_quota q;
    aws_retry_quota_init(&q);
    assert_int_equal(q.tokens, 500);
    /* a transient retry costs 14: 35 of them, then none */
    int taken = 0;
    while (aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT) == AWS_RETRY_COST)
        taken++;
    assert_int_equal(taken, 35);
    assert_int_equal(q.tokens, 500 - 35 * 14);
    assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_TRANSIENT), 0);
    /* throttling retries are cheaper: the 10 tokens left pay for two */
    assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_THROTTLING), 5);
    assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_THROTTLING), 5);
    assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_THROTTLING), 0);
    assert_int_equal(q.tokens, 0);
    /* nothing to retry costs nothing */
    assert_int_equal(aws_retry_quota_acquire(&q, AWS_RETRY_NONE), 0);
    /* a success without retries gives 1 back; after a retry, what that retry took */
    aws_retry_quota_success(&q, 0);
    assert_int_equal(q.tokens, 1);
    aws_retry_quota_success(&q, 14);
    assert_int_equal(q.tokens, 15);
    /* never above the maximum */
    for (int i = 0; i < 100; i++)
        aws_retry_quota_success(&q, 14);
    assert_int_equal(q.tokens, 500);
    aws_retry_quota_success(&q, 0);
    assert_int_equal(q.tokens, 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify), cmocka_unit_test(test_delays),
        cmocka_unit_test(test_policies), cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_quota),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
