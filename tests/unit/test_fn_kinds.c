/*
 * Unit tests: the worker's task kinds (src/functions/worker/tasks/), each one's payload
 * validation as a table and its run, and the registry. report counts through a scripted
 * DynamoDB (test_aws_fake.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws/aws.h"
#include "functions/common/fn.h"
#include "functions/common/taskdb.h"
#include "functions/worker/tasks/kind.h"
#include "test_aws_fake.h"

/* ---- validation ---- */

struct validate_case {
    const char *kind;
    const char *payload;
    bool ok;
    const char *message; /* a part of the message when refused */
};

static const struct validate_case VALIDATE[] = {
    {"echo", "{}", true, NULL},
    {"echo", "{\"anything\":[1,2,{\"x\":null}]}", true, NULL},
    {"sleep", "{}", true, NULL},
    {"sleep", "{\"ms\":0}", true, NULL},
    {"sleep", "{\"ms\":900000}", true, NULL},
    {"sleep", "{\"ms\":900001}", false, "payload.ms must be an integer from 0 to 900000"},
    {"sleep", "{\"ms\":-1}", false, "payload.ms"},
    {"sleep", "{\"ms\":1.5}", false, "payload.ms"},
    {"sleep", "{\"ms\":\"10\"}", false, "payload.ms"},
    {"sleep", "{\"ms\":10,\"extra\":1}", false, "payload.extra is not a field of this kind"},
    {"fail", "{}", true, NULL},
    {"fail", "{\"times\":3}", true, NULL},
    {"fail", "{\"times\":1001}", false, "payload.times must be an integer from 0 to 1000"},
    {"fail", "{\"times\":true}", false, "payload.times"},
    {"sha256", "{\"data\":\"\"}", true, NULL},
    {"sha256", "{\"data\":\"abc\"}", true, NULL},
    {"sha256", "{}", false, "payload.data must be a string"},
    {"sha256", "{\"data\":42}", false, "payload.data must be a string"},
    {"sha256", "{\"data\":\"x\",\"salt\":\"y\"}", false, "payload.salt"},
    {"report", "{}", true, NULL},
    {"report", "{\"status\":\"QUEUED\"}", false, "payload.status is not a field"},
};

static void test_validate(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof VALIDATE / sizeof VALIDATE[0]; i++) {
        const struct validate_case *c = &VALIDATE[i];
        const struct task_kind *k = task_kind_find(c->kind);
        json_t *p = json_loads(c->payload, 0, NULL);
        char msg[TASK_KIND_MSG_MAX] = "";
        assert_non_null(k);
        assert_non_null(p);
        int rc = k->validate(p, msg, sizeof msg);
        if ((rc == 0) != c->ok || (!c->ok && strstr(msg, c->message) == NULL)) {
            printf("FAIL %s %s: rc %d, message '%s'\n", c->kind, c->payload, rc, msg);
            failures++;
        }
        json_decref(p);
    }
    assert_int_equal(failures, 0);
}

static void test_registry(void **state)
{
    (void)state;
    size_t n;
    const struct task_kind *const *kinds = task_kinds(&n);
    assert_int_equal(n, 5);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(kinds[i]->validate);
        assert_non_null(kinds[i]->run);
        assert_ptr_equal(task_kind_find(kinds[i]->name), kinds[i]);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(kinds[i]->name, kinds[k]->name);
    }
    assert_null(task_kind_find("Echo"));
    assert_null(task_kind_find(""));
    assert_null(task_kind_find(NULL));
    char names[128];
    task_kind_names(names, sizeof names);
    assert_string_equal(names, "echo, sleep, fail, sha256, report");
}

/* ---- runs ---- */

static int run_kind(const char *kind, const char *payload, int attempt, int64_t deadline,
                    struct taskdb *db, struct task_outcome *out)
{
    json_t *p = json_loads(payload, JSON_ALLOW_NUL, NULL);
    struct task_run r = {.id = "00000000-0000-4000-8000-000000000000",
                         .payload = p,
                         .attempt = attempt,
                         .deadline_ms = deadline,
                         .db = db};
    memset(out, 0, sizeof *out);
    int rc = task_kind_find(kind)->run(&r, out);
    json_decref(p);
    return rc;
}

static void assert_result(struct task_outcome *out, const char *want)
{
    json_t *w = json_loads(want, 0, NULL);
    char *got = json_dumps(out->result, JSON_COMPACT | JSON_SORT_KEYS);
    if (!json_equal(out->result, w))
        printf("result %s, want %s\n", got, want);
    assert_true(json_equal(out->result, w));
    free(got);
    json_decref(w);
    json_decref(out->result);
    out->result = NULL;
}

static void test_echo(void **state)
{
    (void)state;
    struct task_outcome o;
    assert_int_equal(
        run_kind("echo", "{\"a\":[1,\"\\u00e9\"],\"b\":{}}", 1, runtime_now_ms() + 1000, NULL, &o), 0);
    assert_result(&o, "{\"a\":[1,\"\\u00e9\"],\"b\":{}}");
}

static void test_sleep(void **state)
{
    (void)state;
    struct task_outcome o;
    int64_t t0 = runtime_now_ms();
    assert_int_equal(run_kind("sleep", "{\"ms\":30}", 1, t0 + 5000, NULL, &o), 0);
    assert_true(runtime_now_ms() - t0 >= 30);
    assert_result(&o, "{\"slept_ms\":30}");
    assert_int_equal(run_kind("sleep", "{}", 1, t0 + 5000, NULL, &o), 0);
    assert_result(&o, "{\"slept_ms\":0}");
    /* past the deadline: refused at once, cleanly, and worth another attempt */
    t0 = runtime_now_ms();
    assert_int_equal(run_kind("sleep", "{\"ms\":60000}", 1, t0 + 200, NULL, &o), -1);
    assert_true(runtime_now_ms() - t0 < 100);
    assert_string_equal(o.code, "DeadlineExceeded");
    assert_true(o.retryable);
    assert_null(o.result);
}

static void test_fail(void **state)
{
    (void)state;
    struct task_outcome o;
    int64_t d = runtime_now_ms() + 1000;
    for (int attempt = 1; attempt <= 3; attempt++) {
        assert_int_equal(run_kind("fail", "{\"times\":3}", attempt, d, NULL, &o), -1);
        assert_string_equal(o.code, "TaskFailed");
        assert_true(o.retryable);
        assert_non_null(strstr(o.message, "of 3"));
    }
    assert_int_equal(run_kind("fail", "{\"times\":3}", 4, d, NULL, &o), 0);
    assert_result(&o, "{\"attempts\":4}");
    /* the default: fail once */
    assert_int_equal(run_kind("fail", "{}", 1, d, NULL, &o), -1);
    assert_int_equal(run_kind("fail", "{}", 2, d, NULL, &o), 0);
    assert_result(&o, "{\"attempts\":2}");
    assert_int_equal(run_kind("fail", "{\"times\":0}", 1, d, NULL, &o), 0);
    assert_result(&o, "{\"attempts\":1}");
}

static void test_sha256(void **state)
{
    (void)state;
    struct task_outcome o;
    int64_t d = runtime_now_ms() + 1000;
    assert_int_equal(run_kind("sha256", "{\"data\":\"abc\"}", 1, d, NULL, &o), 0);
    assert_result(
        &o, "{\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
            "\"bytes\":3}");
    assert_int_equal(run_kind("sha256", "{\"data\":\"\"}", 1, d, NULL, &o), 0);
    assert_result(
        &o, "{\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
            "\"bytes\":0}");
    /* UTF-8 bytes, and a NUL inside the string */
    assert_int_equal(run_kind("sha256", "{\"data\":\"a\\u0000b\"}", 1, d, NULL, &o), 0);
    json_t *bytes = json_object_get(o.result, "bytes");
    assert_int_equal(json_integer_value(bytes), 3);
    json_decref(o.result);
    assert_int_equal(run_kind("sha256", "{\"data\":7}", 1, d, NULL, &o), -1);
    assert_string_equal(o.code, "InvalidPayload");
    assert_false(o.retryable);
}

/* report: four Query COUNT calls through the status index, one per status */
static void test_report(void **state)
{
    (void)state;
    struct fake f;
    fake_start(&f);
    struct step s[] = {
        {200,
         "{\"Count\":2,\"ScannedCount\":2,\"LastEvaluatedKey\":{\"id\":{\"S\":\"00000000-0000-4000-"
         "8000-000000000001\"},"
         "\"status\":{\"S\":\"QUEUED\"},\"created_at\":{\"S\":\"2026-01-01T00:00:00.000Z\"}}}",
         NULL, 0, false},
        {200, "{\"Count\":1,\"ScannedCount\":1}", NULL, 0, false},
        {200, "{\"Count\":1,\"ScannedCount\":1}", NULL, 0, false},
        {200, "{\"Count\":5,\"ScannedCount\":5}", NULL, 0, false},
        {200, "{\"Count\":0,\"ScannedCount\":0}", NULL, 0, false},
    };
    fake_script(&f, s, 5);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
    struct env e = {{{"AWS_ACCESS_KEY_ID", "AKIDTEST"},
                     {"AWS_SECRET_ACCESS_KEY", SECRET},
                     {"AWS_REGION", "eu-west-1"},
                     {"AWS_ENDPOINT_URL", url}}};
    struct aws_client_options o = {.getenv = env_get, .getenv_arg = &e};
    char err[256];
    struct aws_client *c = aws_client_new(&o, err, sizeof err);
    assert_non_null(c);
    struct taskdb db = {
        .aws = c, .table = "haar-test-tasks", .index = "by-status", .queue_url = "q"};
    struct task_outcome out;
    assert_int_equal(run_kind("report", "{}", 1, runtime_now_ms() + 5000, &db, &out), 0);
    /* QUEUED took two pages: 2 + 1 */
    assert_result(&out, "{\"counts\":{\"QUEUED\":3,\"RUNNING\":1,\"SUCCEEDED\":5,\"FAILED\":0},"
                        "\"total\":9}");
    assert_int_equal(f.nreqs, 5);
    for (size_t i = 0; i < f.nreqs; i++) {
        assert_string_equal(f.reqs[i].target, "DynamoDB_20120810.Query");
        assert_true(f.reqs[i].signature_ok);
        json_t *b = json_loads(f.reqs[i].body, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(b, "Select")), "COUNT");
        assert_string_equal(json_string_value(json_object_get(b, "IndexName")), "by-status");
        assert_int_equal(i == 1, json_object_get(b, "ExclusiveStartKey") != NULL);
        json_decref(b);
    }
    /* a failing table: the attempt fails, and may be retried */
    struct step bad[] = {
        {400,
         "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException\","
         "\"message\":\"Requested resource not found\"}",
         NULL, 0, false}};
    fake_script(&f, bad, 1);
    assert_int_equal(run_kind("report", "{}", 1, runtime_now_ms() + 5000, &db, &out), -1);
    assert_string_equal(out.code, "DependencyFailed");
    assert_true(out.retryable);
    assert_non_null(strstr(out.message, "ResourceNotFoundException"));
    aws_client_free(c);
    fake_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate), cmocka_unit_test(test_registry),
        cmocka_unit_test(test_echo),     cmocka_unit_test(test_sleep),
        cmocka_unit_test(test_fail),     cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
