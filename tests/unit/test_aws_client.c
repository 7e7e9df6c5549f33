/*
 * Unit tests: the AWS client (aws/aws.h, aws/sqs.h, aws/ddb.h) against a scripted HTTP
 * server on a thread of this process. The server verifies every request's SigV4 signature
 * with core/sigv4's verifier (what the daemon runs), records what it got, and answers from
 * a script (status, body, headers, delays, connections closed without an answer). Every
 * test runs once per transport: the runtime's HTTP client and libcurl.
 *
 * Covered: the typed calls' wire form and answers; retries (which errors, how many, the
 * delays asked for, the quota), deadlines, one kept-alive connection, the session token,
 * settings refused at creation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/aws.h"
#include "aws/ddb.h"
#include "aws/sqs.h"
#include "core/sigv4.h"
#include "test_aws_fake.h"

struct ctx {
    const char *backend;
    struct fake f;
    char url[64];
    struct env env;
    int64_t sleeps[64];
    size_t nsleeps;
    struct aws_client *c;
};

static void record_sleep(void *arg, int64_t ms)
{
    struct ctx *x = arg;
    if (x->nsleeps < 64)
        x->sleeps[x->nsleeps++] = ms;
}

static double half(void *arg)
{
    (void)arg;
    return 0.5;
}

static struct aws_client *make_client(struct ctx *x, const char *max_attempts)
{
    snprintf(x->url, sizeof x->url, "http://127.0.0.1:%d", x->f.port);
    x->env = (struct env){{{"AWS_ACCESS_KEY_ID", "AKIDTEST"},
                           {"AWS_SECRET_ACCESS_KEY", SECRET},
                           {"AWS_SESSION_TOKEN", TOKEN},
                           {"AWS_REGION", "eu-west-1"},
                           {"AWS_ENDPOINT_URL", x->url},
                           {"HAAR_AWS_HTTP", x->backend},
                           {"AWS_MAX_ATTEMPTS", max_attempts}}};
    struct aws_client_options o = {.getenv = env_get,
                                   .getenv_arg = &x->env,
                                   .sleep_ms = record_sleep,
                                   .random = half,
                                   .hook_arg = x};
    char err[256];
    struct aws_client *c = aws_client_new(&o, err, sizeof err);
    if (c == NULL)
        printf("aws_client_new: %s\n", err);
    return c;
}

static int setup(void **state, const char *backend)
{
    struct ctx *x = calloc(1, sizeof *x);
    x->backend = backend;
    fake_start(&x->f);
    x->c = make_client(x, NULL);
    *state = x;
    return x->c ? 0 : -1;
}

static int setup_native(void **state)
{
    return setup(state, "native");
}

static int setup_curl(void **state)
{
    return setup(state, "curl");
}

static int teardown(void **state)
{
    struct ctx *x = *state;
    aws_client_free(x->c);
    fake_stop(&x->f);
    free(x);
    return 0;
}

static const struct aws_sqs_message MSG = {
    .queue_url = "http://127.0.0.1:4566/000000000000/haar-dev-tasks",
    .body = "Test message.",
    .body_len = 13,
    .delay_seconds = -1,
};
#define MSG_OK "{\"MessageId\":\"m-1\",\"MD5OfMessageBody\":\"e4e68fb7bd0e697a0ae8f1bb342846b3\"}"

/* ---- SQS ---- */

static void test_send_message(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    struct aws_sqs_attribute attrs[] = {{"kind", "echo"}};
    struct aws_sqs_message m = MSG;
    m.attributes = attrs;
    m.nattributes = 1;
    m.delay_seconds = 5;
    assert_int_equal(aws_sqs_send_message(x->c, &m, 0, id, &err), AWS_OK);
    assert_string_equal(id, "m-1");
    assert_int_equal(err.attempts, 1);
    assert_string_equal(err.request_id, "rid-1");
    assert_int_equal(x->f.nreqs, 1);
    struct record *r = &x->f.reqs[0];
    assert_string_equal(r->target, "AmazonSQS.SendMessage");
    if (!r->signature_ok)
        printf("signature: %s\n", r->sig_msg);
    assert_true(r->signature_ok);
    assert_true(r->has_token);
    json_t *got = json_loads(r->body, 0, NULL);
    json_t *want = json_pack("{s:s,s:s,s:i,s:{s:{s:s,s:s}}}", "QueueUrl", MSG.queue_url,
                             "MessageBody", "Test message.", "DelaySeconds", 5, "MessageAttributes",
                             "kind", "DataType", "String", "StringValue", "echo");
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
}

static void test_send_message_md5_mismatch(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {
        {200, "{\"MessageId\":\"m-1\",\"MD5OfMessageBody\":\"00000000000000000000000000000000\"}",
         NULL, 0, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_EINVAL);
    assert_string_equal(id, "");
    assert_non_null(strstr(err.message, "MD5"));
}

static void test_service_error_not_retried(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{400,
                        "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The "
                        "specified queue does not exist.\"}",
                        "x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender\r\n", 0,
                        false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_ESERVICE);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.code, "QueueDoesNotExist");
    assert_string_equal(err.message, "The specified queue does not exist.");
    assert_true(aws_error_is(&err, "QueueDoesNotExist"));
    assert_int_equal(err.attempts, 1);
    assert_int_equal(x->nsleeps, 0);
}

static void test_transient_retried(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {
        {500, "{\"__type\":\"InternalFailure\",\"message\":\"boom\"}", NULL, 0, false},
        {503, "{}", NULL, 0, false},
        {200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, s, 3);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    int quota = aws_client_quota(x->c);
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_OK);
    assert_int_equal(err.attempts, 3);
    /* full jitter at 0.5 over 50 ms, then 100 ms */
    assert_int_equal(x->nsleeps, 2);
    assert_int_equal(x->sleeps[0], 25);
    assert_int_equal(x->sleeps[1], 50);
    /* two retries took 28 tokens; the success gave the last 14 back */
    assert_int_equal(aws_client_quota(x->c), quota - 14);
    for (size_t i = 0; i < x->f.nreqs; i++)
        assert_true(x->f.reqs[i].signature_ok); /* each attempt signed afresh */
}

static void test_throttling_backoff(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {
        {400, "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\"}", NULL, 0, false},
        {200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, s, 2);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_OK);
    assert_int_equal(x->nsleeps, 1);
    assert_int_equal(x->sleeps[0], 500); /* 0.5 * 1 s */
}

static void test_max_attempts(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{500, "{}", NULL, 0, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_ESERVICE);
    assert_int_equal(err.attempts, 3);
    assert_int_equal(err.status, 500);
    /* DynamoDB: four */
    struct aws_ddb_attr key[] = {{"id", aws_ddb_s("t-1")}};
    struct aws_ddb_get g = {.table = "haar-dev-tasks", .key = key, .nkey = 1};
    struct aws_ddb_item *it = NULL;
    assert_int_equal(aws_ddb_get_item(x->c, &g, 0, &it, &err), AWS_ESERVICE);
    assert_int_equal(err.attempts, 4);
    assert_null(it);
    assert_int_equal(x->sleeps[2], 12); /* DynamoDB's 25 ms base */
}

static void test_quota_exhausted(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{503, "{}", NULL, 0, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    int calls = 0;
    while (aws_client_quota(x->c) >= 14 && calls < 100) {
        aws_sqs_send_message(x->c, &MSG, 0, id, &err);
        calls++;
    }
    assert_true(calls < 100);
    /* an empty quota: one attempt, no retry, no sleep */
    size_t sleeps = x->nsleeps;
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_ESERVICE);
    assert_int_equal(err.attempts, 1);
    assert_int_equal(x->nsleeps, sleeps);
    /* successes refill it */
    struct step ok[] = {{200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, ok, 1);
    int before = aws_client_quota(x->c);
    for (int i = 0; i < 20; i++)
        assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_OK);
    assert_int_equal(aws_client_quota(x->c), before + 20);
}

static void test_deadline(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{200, MSG_OK, NULL, 1500, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    int64_t t0 = now_ms();
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, t0 + 150, id, &err), AWS_ETIMEOUT);
    int64_t took = now_ms() - t0;
    assert_true(took >= 140 && took < 1000);
    /* a deadline already past: not even one attempt */
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, now_ms() - 1, id, &err), AWS_ETIMEOUT);
    assert_int_equal(err.attempts, 0);
    usleep(1600 * 1000); /* let the server finish the slow answer */
}

static void test_retry_after_beyond_deadline(void **state)
{
    struct ctx *x = *state;
    /* the server asks for 3 s; the caller has 1 s: the error comes back at once */
    struct step s[] = {
        {503, "{\"__type\":\"ServiceUnavailable\"}", "x-amz-retry-after: 3000\r\n", 0, false},
        {200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, s, 2);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    int quota = aws_client_quota(x->c);
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, now_ms() + 1000, id, &err), AWS_ESERVICE);
    assert_int_equal(err.attempts, 1);
    assert_int_equal(x->nsleeps, 0);
    assert_int_equal(aws_client_quota(x->c), quota);
    /* without a deadline it waits what the server asked */
    fake_script(&x->f, s, 2);
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_OK);
    assert_int_equal(x->sleeps[0], 3000);
}

static void test_hang_up_retried(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{0, NULL, NULL, 0, true}, {200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, s, 2);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(x->c, &MSG, 0, id, &err), AWS_OK);
    assert_string_equal(id, "m-1");
}

static void test_connection_refused(void **state)
{
    struct ctx *x = *state;
    /* a port nobody listens on: connect errors are retried, then reported */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    close(s);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(a.sin_port));
    struct env e = {{{"AWS_ACCESS_KEY_ID", "AKIDTEST"},
                     {"AWS_SECRET_ACCESS_KEY", SECRET},
                     {"AWS_REGION", "eu-west-1"},
                     {"AWS_ENDPOINT_URL_SQS", url},
                     {"AWS_ENDPOINT_URL_DYNAMODB", url},
                     {"HAAR_AWS_HTTP", x->backend}}};
    struct aws_client_options o = {.getenv = env_get,
                                   .getenv_arg = &e,
                                   .sleep_ms = record_sleep,
                                   .random = half,
                                   .hook_arg = x};
    char errs[256];
    struct aws_client *c = aws_client_new(&o, errs, sizeof errs);
    assert_non_null(c);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(c, &MSG, 0, id, &err), AWS_ETRANSPORT);
    assert_int_equal(err.attempts, 3);
    assert_non_null(strstr(err.message, url));
    aws_client_free(c);
}

static void test_keep_alive(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{200, MSG_OK, NULL, 0, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    for (int i = 0; i < 50; i++)
        assert_int_equal(aws_sqs_send_message(x->c, &MSG, now_ms() + 5000, id, &err), AWS_OK);
    struct aws_ddb_attr key[] = {{"id", aws_ddb_s("t-1")}};
    struct aws_ddb_get g = {.table = "t", .key = key, .nkey = 1};
    struct aws_ddb_item *it;
    struct step d[] = {{200, "{}", NULL, 0, false}};
    fake_script(&x->f, d, 1);
    for (int i = 0; i < 50; i++)
        assert_int_equal(aws_ddb_get_item(x->c, &g, 0, &it, &err), AWS_OK);
    /* SQS and DynamoDB share the one endpoint, so the one connection */
    assert_int_equal(x->f.nconns, 1);
    assert_int_equal(aws_client_connects(x->c, AWS_SQS), 1);
    assert_int_equal(aws_client_connects(x->c, AWS_DYNAMODB), 1);
}

/* ---- DynamoDB ---- */

/* The body of request i, parsed. */
static json_t *sent(struct ctx *x, size_t i)
{
    assert_true(i < x->f.nreqs);
    json_t *j = json_loads(x->f.reqs[i].body, 0, NULL);
    assert_non_null(j);
    return j;
}

static void assert_json(json_t *got, const char *want_text)
{
    json_t *want = json_loads(want_text, 0, NULL);
    assert_non_null(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_SORT_KEYS);
        printf("got  %s\nwant %s\n", g, want_text);
        free(g);
    }
    assert_true(json_equal(got, want));
    json_decref(want);
    json_decref(got);
}

static void test_ddb_put_conditional(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {
        {400,
         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException\","
         "\"message\":\"The conditional request failed\","
         "\"Item\":{\"id\":{\"S\":\"t-1\"},\"status\":{\"S\":\"QUEUED\"},\"attempts\":{\"N\":\"2\"}"
         "}}",
         NULL, 0, false}};
    fake_script(&x->f, s, 1);
    struct aws_ddb_attr item[] = {{"id", aws_ddb_s("t-1")},
                                  {"status", aws_ddb_s("QUEUED")},
                                  {"attempts", aws_ddb_n(0)},
                                  {"ok", aws_ddb_bool(true)},
                                  {"payload", aws_ddb_sn("{\"a\":\"\\u0000\"}x", 14)}};
    struct aws_ddb_name names[] = {{"#id", "id"}};
    struct aws_ddb_put p = {.table = "haar-dev-tasks",
                            .item = item,
                            .nitem = 5,
                            .condition = "attribute_not_exists(#id)",
                            .names = names,
                            .nnames = 1,
                            .old_on_condition_failure = true};
    struct aws_ddb_item *old = NULL;
    struct aws_error err;
    assert_int_equal(aws_ddb_put_item(x->c, &p, 0, &old, &err), AWS_ESERVICE);
    assert_true(aws_error_is(&err, "ConditionalCheckFailedException"));
    assert_int_equal(err.attempts, 1); /* never retried */
    assert_non_null(old);
    assert_string_equal(aws_ddb_item_s(old, "status", NULL), "QUEUED");
    int64_t n = 0;
    assert_int_equal(aws_ddb_item_n(old, "attempts", &n), 0);
    assert_int_equal(n, 2);
    aws_ddb_item_free(old);
    assert_string_equal(x->f.reqs[0].target, "DynamoDB_20120810.PutItem");
    assert_true(x->f.reqs[0].signature_ok);
    assert_json(sent(x, 0),
                "{\"TableName\":\"haar-dev-tasks\",\"Item\":{\"id\":{\"S\":\"t-1\"},"
                "\"status\":{\"S\":\"QUEUED\"},\"attempts\":{\"N\":\"0\"},\"ok\":{\"BOOL\":true},"
                "\"payload\":{\"S\":\"{\\\"a\\\":\\\"\\\\u0000\\\"}\"}},"
                "\"ConditionExpression\":\"attribute_not_exists(#id)\","
                "\"ExpressionAttributeNames\":{\"#id\":\"id\"},"
                "\"ReturnValuesOnConditionCheckFailure\":\"ALL_OLD\"}");
}

static void test_ddb_update_and_get(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {
        {200,
         "{\"Attributes\":{\"id\":{\"S\":\"t-1\"},\"status\":{\"S\":\"RUNNING\"},\"attempts\":{"
         "\"N\":\"1\"}}}",
         NULL, 0, false},
        {200, "{}", NULL, 0, false},
        {200, "{\"Item\":{\"id\":{\"S\":\"t-1\"},\"n\":{\"N\":\"1.5\"}}}", NULL, 0, false},
    };
    fake_script(&x->f, s, 3);
    struct aws_ddb_attr key[] = {{"id", aws_ddb_s("t-1")}};
    struct aws_ddb_name names[] = {{"#s", "status"}};
    struct aws_ddb_attr values[] = {
        {":q", aws_ddb_s("QUEUED")}, {":r", aws_ddb_s("RUNNING")}, {":one", aws_ddb_n(1)}};
    struct aws_ddb_update u = {.table = "t",
                               .key = key,
                               .nkey = 1,
                               .update = "SET #s = :r ADD attempts :one",
                               .condition = "#s = :q",
                               .names = names,
                               .nnames = 1,
                               .values = values,
                               .nvalues = 3,
                               .ret = AWS_DDB_RETURN_ALL_NEW};
    struct aws_ddb_item *it = NULL;
    struct aws_error err;
    assert_int_equal(aws_ddb_update_item(x->c, &u, 0, &it, &err), AWS_OK);
    assert_string_equal(aws_ddb_item_s(it, "status", NULL), "RUNNING");
    assert_true(aws_ddb_item_has(it, "attempts"));
    assert_false(aws_ddb_item_has(it, "result"));
    assert_null(aws_ddb_item_s(it, "attempts", NULL)); /* an N is not an S */
    aws_ddb_item_free(it);
    assert_json(
        sent(x, 0),
        "{\"TableName\":\"t\",\"Key\":{\"id\":{\"S\":\"t-1\"}},"
        "\"UpdateExpression\":\"SET #s = :r ADD attempts :one\","
        "\"ConditionExpression\":\"#s = :q\",\"ExpressionAttributeNames\":{\"#s\":\"status\"},"
        "\"ExpressionAttributeValues\":{\":q\":{\"S\":\"QUEUED\"},\":r\":{\"S\":\"RUNNING\"},"
        "\":one\":{\"N\":\"1\"}},\"ReturnValues\":\"ALL_NEW\"}");
    /* GetItem: absent, then present */
    struct aws_ddb_get g = {.table = "t", .key = key, .nkey = 1, .consistent = true};
    assert_int_equal(aws_ddb_get_item(x->c, &g, 0, &it, &err), AWS_OK);
    assert_null(it);
    assert_json(sent(x, 1),
                "{\"TableName\":\"t\",\"Key\":{\"id\":{\"S\":\"t-1\"}},\"ConsistentRead\":true}");
    assert_int_equal(aws_ddb_get_item(x->c, &g, 0, &it, &err), AWS_OK);
    assert_non_null(it);
    int64_t n;
    assert_int_equal(aws_ddb_item_n(it, "n", &n), -1); /* not an integer */
    assert_int_equal(aws_ddb_item_n(it, "missing", &n), -1);
    aws_ddb_item_free(it);
}

static void test_ddb_query(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {
        {200,
         "{\"Items\":[{\"id\":{\"S\":\"a\"}},{\"id\":{\"S\":\"b\"}}],\"Count\":2,\"ScannedCount\":"
         "2,"
         "\"LastEvaluatedKey\":{\"id\":{\"S\":\"b\"},\"status\":{\"S\":\"QUEUED\"},"
         "\"created_at\":{\"S\":\"2026-01-01T00:00:00.000Z\"}}}",
         NULL, 0, false},
        {200, "{\"Count\":7,\"ScannedCount\":7}", NULL, 0, false},
    };
    fake_script(&x->f, s, 2);
    struct aws_ddb_name names[] = {{"#s", "status"}};
    struct aws_ddb_attr values[] = {{":s", aws_ddb_s("QUEUED")}};
    struct aws_ddb_attr start[] = {
        {"id", aws_ddb_s("z")}, {"status", aws_ddb_s("QUEUED")}, {"created_at", aws_ddb_s("2025")}};
    /* the two queries: a page after a start key, then a count */
    const struct aws_ddb_query by_status = {.table = "t",
                                            .index = "by-status",
                                            .key_condition = "#s = :s",
                                            .names = names,
                                            .nnames = 1,
                                            .values = values,
                                            .nvalues = 1};
    struct aws_ddb_query q = by_status;
    q.limit = 2;
    q.descending = true;
    q.start_key = start;
    q.nstart = 3;
    struct aws_ddb_page page;
    struct aws_error err;
    assert_int_equal(aws_ddb_query(x->c, &q, 0, &page, &err), AWS_OK);
    assert_int_equal(page.count, 2);
    assert_int_equal(page.matched, 2);
    assert_string_equal(aws_ddb_item_s(page.items[1], "id", NULL), "b");
    assert_non_null(page.last_key);
    assert_string_equal(aws_ddb_item_s(page.last_key, "created_at", NULL),
                        "2026-01-01T00:00:00.000Z");
    aws_ddb_page_destroy(&page);
    assert_json(
        sent(x, 0),
        "{\"TableName\":\"t\",\"IndexName\":\"by-status\",\"KeyConditionExpression\":\"#s = :s\","
        "\"ExpressionAttributeNames\":{\"#s\":\"status\"},"
        "\"ExpressionAttributeValues\":{\":s\":{\"S\":\"QUEUED\"}},\"Limit\":2,"
        "\"ScanIndexForward\":false,\"ExclusiveStartKey\":{\"id\":{\"S\":\"z\"},"
        "\"status\":{\"S\":\"QUEUED\"},\"created_at\":{\"S\":\"2025\"}}}");
    struct aws_ddb_query count = by_status;
    count.count_only = true;
    assert_int_equal(aws_ddb_query(x->c, &count, 0, &page, &err), AWS_OK);
    assert_int_equal(page.count, 0);
    assert_int_equal(page.matched, 7);
    assert_null(page.last_key);
    aws_ddb_page_destroy(&page);
}

static void test_ddb_bad_answer(void **state)
{
    struct ctx *x = *state;
    struct step s[] = {{200, "not json", NULL, 0, false}};
    fake_script(&x->f, s, 1);
    struct aws_ddb_attr key[] = {{"id", aws_ddb_s("t-1")}};
    struct aws_ddb_get g = {.table = "t", .key = key, .nkey = 1};
    struct aws_ddb_item *it;
    struct aws_error err;
    assert_int_equal(aws_ddb_get_item(x->c, &g, 0, &it, &err), AWS_EINVAL);
    assert_null(it);
}

/* ---- settings refused ---- */

static void test_settings(void **state)
{
    (void)state;
    /* clang-format off */
    static const struct {
        struct env env;
        const char *want; /* what the reason must name */
    } CASES[] = {
        {{{{"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "eu-west-1"}}}, "AWS_ACCESS_KEY_ID"},
        {{{{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}}}, "region"},
        /* https endpoints need libcurl */
        {{{{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "eu-west-1"},
           {"HAAR_AWS_HTTP", "native"}}}, "HAAR_AWS_HTTP"},
        {{{{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "eu-west-1"},
           {"HAAR_AWS_HTTP", "quic"}}}, "HAAR_AWS_HTTP"},
        {{{{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "eu-west-1"},
           {"AWS_MAX_ATTEMPTS", "0"}}}, "AWS_MAX_ATTEMPTS"},
        {{{{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_REGION", "eu-west-1"},
           {"AWS_ENDPOINT_URL", "localhost:4566"}}}, "endpoint"},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        struct aws_client_options o = {.getenv = env_get, .getenv_arg = (void *)&CASES[i].env};
        char err[256] = "";
        struct aws_client *c = aws_client_new(&o, err, sizeof err);
        if (c != NULL || strstr(err, CASES[i].want) == NULL)
            printf("case %zu: err '%s'\n", i, err);
        assert_null(c);
        assert_non_null(strstr(err, CASES[i].want));
    }
    /* the defaults: regional https endpoints through libcurl */
    struct env ok = {{{"AWS_ACCESS_KEY_ID", "a"},
                      {"AWS_SECRET_ACCESS_KEY", "s"},
                      {"AWS_DEFAULT_REGION", "eu-west-1"}}};
    struct aws_client_options o = {.getenv = env_get, .getenv_arg = &ok};
    char err[256];
    struct aws_client *c = aws_client_new(&o, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(aws_client_endpoint(c, AWS_SQS)->url,
                        "https://sqs.eu-west-1.amazonaws.com");
    assert_string_equal(aws_client_endpoint(c, AWS_DYNAMODB)->url,
                        "https://dynamodb.eu-west-1.amazonaws.com");
    assert_int_equal(aws_client_backend(c, AWS_SQS), AWS_HTTP_CURL);
    assert_string_equal(aws_client_region(c), "eu-west-1");
    assert_string_equal(aws_client_access_key(c), "a");
    aws_client_free(c);
}

static void test_max_attempts_setting(void **state)
{
    struct ctx *x = *state;
    struct aws_client *c = make_client(x, "1");
    struct step s[] = {{500, "{}", NULL, 0, false}};
    fake_script(&x->f, s, 1);
    char id[AWS_SQS_MESSAGE_ID_MAX];
    struct aws_error err;
    assert_int_equal(aws_sqs_send_message(c, &MSG, 0, id, &err), AWS_ESERVICE);
    assert_int_equal(err.attempts, 1);
    aws_client_free(c);
}

#define BOTH(t)                                                                                    \
    cmocka_unit_test_setup_teardown(t, setup_native, teardown),                                    \
        cmocka_unit_test_setup_teardown(t, setup_curl, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_send_message),
        BOTH(test_send_message_md5_mismatch),
        BOTH(test_service_error_not_retried),
        BOTH(test_transient_retried),
        BOTH(test_throttling_backoff),
        BOTH(test_max_attempts),
        BOTH(test_quota_exhausted),
        BOTH(test_deadline),
        BOTH(test_retry_after_beyond_deadline),
        BOTH(test_hang_up_retried),
        BOTH(test_connection_refused),
        BOTH(test_keep_alive),
        BOTH(test_ddb_put_conditional),
        BOTH(test_ddb_update_and_get),
        BOTH(test_ddb_query),
        BOTH(test_ddb_bad_answer),
        BOTH(test_max_attempts_setting),
        cmocka_unit_test(test_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
