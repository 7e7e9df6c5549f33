/*
 * test_runtime_log.c — structured log lines and EMF metric lines: parsed back with
 * jansson, field by field, plus the limits that must refuse a line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime_emf.h"
#include "runtime/runtime_log.h"

static json_t *parse_line(const struct buf *b)
{
    assert_true(b->len > 0);
    assert_int_equal(b->data[b->len - 1], '\n');
    assert_null(memchr(b->data, '\n', b->len - 1)); /* exactly one line */
    json_error_t jerr;
    json_t *j = json_loadb(b->data, b->len, 0, &jerr);
    if (j == NULL)
        fail_msg("not JSON (%s): %s", jerr.text, b->data);
    return j;
}

static const char *field(json_t *j, const char *k)
{
    return json_string_value(json_object_get(j, k));
}

static void test_log_line_fields(void **state)
{
    (void)state;
    setenv("AWS_LAMBDA_FUNCTION_NAME", "haar-dev-worker", 1);
    runtime_log_set_context("req-42", "Root=1-abc;Sampled=1", true);
    struct buf b;
    buf_init(&b, 1 << 20);
    const char *kv[] = {"messageId", "m-1", "weird", "tab\there \"q\" \x01", "nothing", NULL};
    assert_int_equal(runtime_log_format(&b, RUNTIME_LOG_WARN, "hello\nworld", kv, 3), BUF_OK);
    json_t *j = parse_line(&b);
    assert_string_equal(field(j, "level"), "WARN");
    assert_string_equal(field(j, "message"), "hello\nworld");
    assert_string_equal(field(j, "function"), "haar-dev-worker");
    assert_string_equal(field(j, "requestId"), "req-42");
    assert_string_equal(field(j, "traceId"), "Root=1-abc;Sampled=1");
    assert_true(json_is_true(json_object_get(j, "coldStart")));
    assert_string_equal(field(j, "messageId"), "m-1");
    assert_string_equal(field(j, "weird"), "tab\there \"q\" \x01");
    assert_true(json_is_null(json_object_get(j, "nothing")));
    const char *ts = field(j, "timestamp");
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24); /* 2026-11-25T12:00:00.123Z */
    assert_int_equal(ts[23], 'Z');
    json_decref(j);

    /* outside an invocation: no request fields */
    runtime_log_set_context(NULL, NULL, false);
    buf_reset(&b);
    assert_int_equal(runtime_log_format(&b, RUNTIME_LOG_INFO, "idle", NULL, 0), BUF_OK);
    j = parse_line(&b);
    assert_null(json_object_get(j, "requestId"));
    assert_null(json_object_get(j, "coldStart"));
    assert_null(json_object_get(j, "traceId"));
    json_decref(j);
    buf_destroy(&b);
}

static void test_log_invalid_utf8_and_truncation(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    /* a lone continuation byte, an overlong '/', a surrogate, then valid é and 😀 */
    const char msg[] = "a\x80z \xc0\xaf \xed\xa0\x80 \xc3\xa9 \xf0\x9f\x98\x80";
    assert_int_equal(runtime_log_format(&b, RUNTIME_LOG_INFO, msg, NULL, 0), BUF_OK);
    json_t *j = parse_line(&b);
    assert_string_equal(
        field(j, "message"),
        "a\xef\xbf\xbdz \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd "
        "\xc3\xa9 \xf0\x9f\x98\x80");
    json_decref(j);

    size_t n = RUNTIME_LOG_MAX_MESSAGE + 1000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, 'x', n);
    memcpy(big + RUNTIME_LOG_MAX_MESSAGE - 1, "\xc3\xa9", 2); /* é across the cut */
    big[n] = '\0';
    buf_reset(&b);
    assert_int_equal(runtime_log_format(&b, RUNTIME_LOG_INFO, big, NULL, 0), BUF_OK);
    j = parse_line(&b);
    assert_int_equal(strlen(field(j, "message")), RUNTIME_LOG_MAX_MESSAGE - 1);
    json_decref(j);
    free(big);
    buf_destroy(&b);
}

static void test_log_level_threshold(void **state)
{
    (void)state;
    char path[] = "/tmp/haar-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    runtime_log_set_fd(fd);
    runtime_log_set_level(RUNTIME_LOG_WARN);
    assert_false(runtime_log_enabled(RUNTIME_LOG_INFO));
    assert_true(runtime_log_enabled(RUNTIME_LOG_ERROR));
    runtime_log(RUNTIME_LOG_INFO, "dropped", (const char *)NULL);
    runtime_log(RUNTIME_LOG_ERROR, "kept", "k", "v", (const char *)NULL);
    runtime_logf(RUNTIME_LOG_WARN, "formatted %d", 7);
    runtime_log_set_fd(1);
    runtime_log_set_level(RUNTIME_LOG_INFO);
    char text[4096];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    text[n] = '\0';
    assert_null(strstr(text, "dropped"));
    assert_non_null(strstr(text, "\"message\":\"kept\","));
    assert_non_null(strstr(text, "\"k\":\"v\""));
    assert_non_null(strstr(text, "\"message\":\"formatted 7\""));
    int lines = 0;
    for (char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 2);
}

static void test_emf_shape(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    struct runtime_emf_dimension dims[] = {{"functionName", "haar-dev-worker"}, {"kind", "echo"}};
    struct runtime_emf_metric m[] = {{"TaskDuration", "Milliseconds", 12.5},
                                     {"TasksSucceeded", "Count", 1},
                                     {"Plain", NULL, -3}};
    assert_int_equal(runtime_emf_format(&b, "haar", 1574109732004LL, dims, 2, m, 3, "req-1"),
                     RUNTIME_EMF_OK);
    json_t *j = parse_line(&b);
    json_t *aws = json_object_get(j, "_aws");
    assert_int_equal(json_integer_value(json_object_get(aws, "Timestamp")), 1574109732004LL);
    json_t *d = json_array_get(json_object_get(aws, "CloudWatchMetrics"), 0);
    assert_string_equal(field(d, "Namespace"), "haar");
    json_t *set = json_array_get(json_object_get(d, "Dimensions"), 0);
    assert_int_equal(json_array_size(set), 2);
    assert_string_equal(json_string_value(json_array_get(set, 1)), "kind");
    json_t *metrics = json_object_get(d, "Metrics");
    assert_int_equal(json_array_size(metrics), 3);
    assert_string_equal(field(json_array_get(metrics, 0), "Unit"), "Milliseconds");
    assert_string_equal(field(json_array_get(metrics, 2), "Unit"), "None");
    /* targets at the root */
    assert_string_equal(field(j, "functionName"), "haar-dev-worker");
    assert_true(json_number_value(json_object_get(j, "TaskDuration")) == 12.5);
    assert_true(json_number_value(json_object_get(j, "TasksSucceeded")) == 1);
    assert_true(json_number_value(json_object_get(j, "Plain")) == -3);
    assert_string_equal(field(j, "requestId"), "req-1");
    json_decref(j);
    buf_destroy(&b);
}

static void test_emf_limits(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1 << 20);
    struct runtime_emf_metric ok[] = {{"M", "Count", 1}};
    struct runtime_emf_metric bad_unit[] = {{"M", "Furlongs", 1}};
    struct runtime_emf_metric nan_value[] = {{"M", "Count", NAN}};
    struct runtime_emf_metric dup[] = {{"M", "Count", 1}, {"M", "Count", 2}};
    struct runtime_emf_dimension clash[] = {{"M", "x"}};
    struct runtime_emf_dimension empty_value[] = {{"D", ""}};
    struct runtime_emf_dimension dims31[31];
    char names[31][16];
    for (int i = 0; i < 31; i++) {
        snprintf(names[i], sizeof names[i], "d%d", i);
        dims31[i].name = names[i];
        dims31[i].value = "v";
    }
    char longv[RUNTIME_EMF_MAX_DIMENSION_VALUE + 2];
    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    struct runtime_emf_dimension long_value[] = {{"D", longv}};
    struct runtime_emf_metric many[RUNTIME_EMF_MAX_METRICS + 1];
    char mnames[RUNTIME_EMF_MAX_METRICS + 1][16];
    for (int i = 0; i <= RUNTIME_EMF_MAX_METRICS; i++) {
        snprintf(mnames[i], sizeof mnames[i], "m%d", i);
        many[i] = (struct runtime_emf_metric){mnames[i], "Count", i};
    }

    assert_int_equal(runtime_emf_format(&b, "", 0, NULL, 0, ok, 1, NULL), RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, NULL, 0, ok, 0, NULL), RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, NULL, 0, bad_unit, 1, NULL),
                     RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, NULL, 0, nan_value, 1, NULL),
                     RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, NULL, 0, dup, 2, NULL), RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, clash, 1, ok, 1, NULL), RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, empty_value, 1, ok, 1, NULL),
                     RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, dims31, 31, ok, 1, NULL), RUNTIME_EMF_EINVAL);
    assert_int_equal(runtime_emf_format(&b, "ns", 0, long_value, 1, ok, 1, NULL),
                     RUNTIME_EMF_EINVAL);
    assert_int_equal(
        runtime_emf_format(&b, "ns", 0, NULL, 0, many, RUNTIME_EMF_MAX_METRICS + 1, NULL),
        RUNTIME_EMF_EINVAL);
    assert_int_equal(b.len, 0); /* nothing written by a refused line */
    /* the limits themselves are allowed */
    assert_int_equal(
        runtime_emf_format(&b, "ns", 0, dims31, 30, many, RUNTIME_EMF_MAX_METRICS, NULL),
        RUNTIME_EMF_OK);
    json_decref(parse_line(&b));
    buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_line_fields),
        cmocka_unit_test(test_log_invalid_utf8_and_truncation),
        cmocka_unit_test(test_log_level_threshold),
        cmocka_unit_test(test_emf_shape),
        cmocka_unit_test(test_emf_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
