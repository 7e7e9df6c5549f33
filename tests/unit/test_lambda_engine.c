/* Unit tests: the Lambda engine with a fake host. A real child process runs as the
 * environment (a shell script that just waits), and the test plays the runtime by calling
 * the Runtime API side of the engine directly: /next, /response, /error. Timeouts run on
 * the manual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cloud/lambda/lambda.h"
#include "core/clock.h"

static struct lambda_env *last_env;
static int listens;
static char code_dir[256];

static int fake_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    (void)arg;
    last_env = env;
    listens++;
    *port = 9;
    *listener = NULL;
    return 0;
}
static void fake_unlisten(void *arg, void *l)
{
    (void)arg;
    (void)l;
}
static void *fake_watch(void *arg, int fd, void (*on_data)(void *, const char *, size_t),
                        void *cbarg)
{
    (void)arg;
    (void)on_data;
    (void)cbarg;
    close(fd);
    return NULL;
}
static void fake_unwatch(void *h)
{
    (void)h;
}

struct waiter {
    struct lambda_next_waiter w;
    int delivered, aborted;
    char rid[40];
    char payload[256];
};

static void w_deliver(struct lambda_next_waiter *lw, const char *rid, int64_t deadline_ms,
                      const char *arn, const char *trace, const char *cc, const char *payload,
                      size_t len)
{
    struct waiter *w = (struct waiter *)lw;
    (void)deadline_ms;
    (void)trace;
    (void)cc;
    assert_non_null(strstr(arn, ":function:"));
    w->delivered++;
    snprintf(w->rid, sizeof(w->rid), "%s", rid);
    snprintf(w->payload, sizeof(w->payload), "%.*s", (int)len, payload);
}
static void w_abort(struct lambda_next_waiter *lw)
{
    ((struct waiter *)lw)->aborted++;
}

struct result {
    int calls;
    enum err err;
    bool function_error;
    char body[512];
    char reason[96];
};

static void on_done(void *arg, const struct lambda_result *r)
{
    struct result *res = arg;
    res->calls++;
    res->err = r->err;
    res->function_error = r->function_error;
    snprintf(res->body, sizeof(res->body), "%.*s", (int)r->len, r->body ? r->body : "");
    snprintf(res->reason, sizeof(res->reason), "%s", r->throttle_reason ? r->throttle_reason : "");
}

static struct lambda *make_engine(void)
{
    snprintf(code_dir, sizeof(code_dir), "/tmp/haar-test-engine-%d", (int)getpid());
    mkdir(code_dir, 0755);
    char path[300];
    snprintf(path, sizeof(path), "%s/bootstrap", code_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexec sleep 30\n", f);
    fclose(f);
    chmod(path, 0755);
    struct lambda_options o = {.region = "eu-west-1",
                               .state_dir = "/tmp",
                               .aws_port = 4566,
                               .account_concurrency = 10,
                               .idle_seconds = 300,
                               .retry_delay_ms = {100, 200}};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    struct lambda *lm = lambda_new(&o, &h, NULL, NULL);
    struct lambda_fn_spec spec = {
        .name = "f", .runtime = "provided.al2023", .timeout = 1, .memory = 128, .dir = code_dir};
    char msg[256];
    assert_int_equal(lambda_fn_create(lm, &spec, msg, sizeof(msg)), ERR_OK);
    listens = 0;
    last_env = NULL;
    return lm;
}

static void reap(struct lambda *lm)
{
    int status;
    pid_t pid;
    for (int i = 0; i < 200; i++) {
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            lambda_child_exited(lm, pid, status);
        if (pid < 0)
            return;
        usleep(5000);
    }
}

static void test_sync_invoke_and_warm_reuse(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    char rid[37];
    struct lambda_inv *inv =
        lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{\"a\":1}", 7, NULL, false, on_done, &r, rid);
    assert_non_null(inv);
    assert_int_equal(listens, 1);
    assert_int_equal(r.calls, 0);
    struct waiter w = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w.w);
    assert_int_equal(w.delivered, 1);
    assert_string_equal(w.rid, rid);
    assert_string_equal(w.payload, "{\"a\":1}");
    /* a wrong id is refused, the right one completes */
    assert_int_equal(
        lambda_env_response(last_env, "00000000-0000-4000-8000-000000000000", 36, "x", 1),
        ERR_LAMBDA_INVALID_RUNTIME_ID);
    assert_int_equal(lambda_env_response(last_env, w.rid, 36, "\"ok\"", 4), ERR_OK);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.err, ERR_OK);
    assert_false(r.function_error);
    assert_string_equal(r.body, "\"ok\"");
    /* the environment asks again: warm; the next invoke reuses it */
    struct waiter w2 = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w2.w);
    struct result r2 = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r2, NULL);
    assert_int_equal(listens, 1);
    assert_int_equal(w2.delivered, 1);
    /* function error: a non-JSON body becomes an error built from the header */
    assert_int_equal(lambda_env_error(last_env, w2.rid, 36, "oops", 4, "Custom.Err", 10), ERR_OK);
    assert_int_equal(r2.calls, 1);
    assert_true(r2.function_error);
    assert_non_null(strstr(r2.body, "\"errorType\":\"Custom.Err\""));
    lambda_free(lm);
    reap(lm = NULL);
}

static void test_reserved_concurrency_throttles(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    char msg[256];
    assert_int_equal(lambda_fn_set_concurrency(lm, "f", 1, msg, sizeof(msg)), ERR_OK);
    assert_int_equal(lambda_fn_set_concurrency(lm, "f", 11, msg, sizeof(msg)),
                     ERR_LAMBDA_INVALID_PARAMETER);
    struct result a = {0}, b = {0};
    assert_non_null(
        lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &a, NULL));
    assert_null(lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &b, NULL));
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.err, ERR_LAMBDA_TOO_MANY_REQUESTS);
    assert_string_equal(b.reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert_int_equal(a.calls, 0);
    /* reserved 0 throttles everything */
    assert_int_equal(lambda_fn_set_concurrency(lm, "f", 0, msg, sizeof(msg)), ERR_OK);
    struct result c = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &c, NULL);
    assert_int_equal(c.err, ERR_LAMBDA_TOO_MANY_REQUESTS);
    lambda_free(lm);
    reap(NULL);
}

static void test_timeout_on_manual_clock(void **state)
{
    (void)state;
    clock_set_manual(1795608000000LL);
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    struct waiter w = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w.w);
    assert_int_equal(w.delivered, 1);
    clock_advance_ms(999);
    lambda_tick(lm);
    assert_int_equal(r.calls, 0);
    clock_advance_ms(1);
    lambda_tick(lm);
    assert_int_equal(r.calls, 1);
    assert_true(r.function_error);
    assert_non_null(strstr(r.body, "\"errorType\":\"Sandbox.Timedout\""));
    assert_non_null(strstr(r.body, "Task timed out after 1.00 seconds"));
    reap(lm); /* the killed environment goes away; nothing else is reported */
    assert_int_equal(r.calls, 1);
    assert_true(lambda_drain(lm));
    lambda_free(lm);
    clock_set_real();
}

static void test_crash_reports_exit_error(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    struct waiter w = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w.w);
    int status;
    pid_t pid;
    assert_true(lambda_env_pid(last_env) > 0);
    kill(lambda_env_pid(last_env), SIGKILL);
    for (int i = 0; i < 400 && r.calls == 0; i++) {
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            lambda_child_exited(lm, pid, status);
        usleep(5000);
    }
    assert_int_equal(r.calls, 1);
    assert_true(r.function_error);
    assert_non_null(strstr(r.body, "Runtime.ExitError"));
    assert_non_null(strstr(r.body, "Runtime exited with error: signal: killed"));
    lambda_free(lm);
}

static void test_event_retried_twice(void **state)
{
    (void)state;
    clock_set_manual(1795608000000LL);
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    assert_null(
        lambda_invoke(lm, fn, LAMBDA_INV_EVENT, "{\"e\":1}", 7, NULL, false, NULL, NULL, NULL));
    struct waiter w = {.w = {w_deliver, w_abort}};
    int deliveries = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        memset(&w, 0, sizeof(w));
        w.w.deliver = w_deliver;
        w.w.abort = w_abort;
        lambda_env_next(last_env, &w.w);
        if (!w.delivered) {
            clock_advance_ms(attempt == 1 ? 100 : 200);
            lambda_tick(lm);
        }
        assert_int_equal(w.delivered, 1);
        deliveries++;
        assert_string_equal(w.payload, "{\"e\":1}");
        assert_int_equal(lambda_env_error(last_env, w.rid, 36, "{}", 2, NULL, 0), ERR_OK);
    }
    assert_int_equal(deliveries, 3);
    /* no fourth attempt */
    memset(&w, 0, sizeof(w));
    w.w.deliver = w_deliver;
    w.w.abort = w_abort;
    lambda_env_next(last_env, &w.w);
    clock_advance_ms(10000);
    lambda_tick(lm);
    assert_int_equal(w.delivered, 0);
    assert_int_equal(listens, 1);
    lambda_free(lm);
    reap(NULL);
    clock_set_real();
}

static void test_idle_environment_is_reaped(void **state)
{
    (void)state;
    clock_set_manual(1795608000000LL);
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    struct waiter w = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w.w);
    assert_int_equal(lambda_env_response(last_env, w.rid, 36, "1", 1), ERR_OK);
    struct waiter w2 = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w2.w); /* idle now */
    clock_advance_ms(299 * 1000);
    lambda_tick(lm);
    json_t *h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "idle")), 1);
    json_decref(h);
    clock_advance_ms(1000);
    lambda_tick(lm);
    reap(lm);
    assert_int_equal(w2.aborted, 1); /* its parked /next was answered 500 */
    h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "environments")), 0);
    json_decref(h);
    /* the next invoke starts a fresh environment */
    struct result r2 = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r2, NULL);
    assert_int_equal(listens, 2);
    lambda_free(lm);
    reap(NULL);
    clock_set_real();
}

static void test_init_error_goes_to_the_first_invoke(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    static const char err[] = "{\"errorType\":\"Runtime.NoSuchHandler\",\"errorMessage\":\"x\"}";
    assert_int_equal(lambda_env_init_error(last_env, err, sizeof(err) - 1, NULL, 0), ERR_OK);
    for (int i = 0; i < 400 && r.calls == 0; i++) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            lambda_child_exited(lm, pid, status);
        usleep(5000);
    }
    assert_int_equal(r.calls, 1);
    assert_true(r.function_error);
    assert_string_equal(r.body, err);
    /* after init, /init/error is refused */
    struct result r2 = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r2, NULL);
    struct waiter w = {.w = {w_deliver, w_abort}};
    lambda_env_next(last_env, &w.w);
    assert_int_equal(lambda_env_init_error(last_env, "{}", 2, NULL, 0),
                     ERR_LAMBDA_INVALID_RUNTIME_ID);
    lambda_free(lm);
    reap(NULL);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_invoke_and_warm_reuse),
        cmocka_unit_test(test_reserved_concurrency_throttles),
        cmocka_unit_test(test_timeout_on_manual_clock),
        cmocka_unit_test(test_crash_reports_exit_error),
        cmocka_unit_test(test_event_retried_twice),
        cmocka_unit_test(test_idle_environment_is_reaped),
        cmocka_unit_test(test_init_error_goes_to_the_first_invoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
