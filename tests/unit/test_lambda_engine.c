/* Unit tests: the Lambda engine with a fake host. A real child process runs as the
 * environment (a shell script that just waits), and the test plays the runtime by calling
 * the Runtime API side of the engine directly: /next, /response, /error. Completions come
 * from timers (run here with timer_run_due); Event retries and ages follow the manual clock,
 * timeouts and idle reaping real time. */
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
#include "core/timer.h"
#include "core/work.h"
#include "cloud/store/store.h"
#include "core/fs.h"
#include "test_lambda_host.h"
#include <zip.h>

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

static struct lambda *make_engine_idle(int idle_seconds)
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
                               .idle_seconds = idle_seconds};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    char msg[256];
    struct lambda *lm = lambda_new(&o, &h, NULL, NULL, msg, sizeof msg);
    assert_non_null(lm);
    struct lambda_fn_spec spec = {
        .name = "f", .runtime = "provided.al2023", .timeout = 1, .memory = 128, .dir = code_dir};
    assert_int_equal(lambda_fn_provision(lm, &spec, msg, sizeof(msg)), ERR_OK);
    listens = 0;
    last_env = NULL;
    return lm;
}

static struct lambda *make_engine(void)
{
    return make_engine_idle(300);
}

/* Runs what is due (completions are deferred to the loop) and reaps exited children. */
static void turn(struct lambda *lm)
{
    int status;
    pid_t pid;
    timer_run_due();
    while (lm && (pid = waitpid(-1, &status, WNOHANG)) > 0)
        lambda_child_exited(lm, pid, status);
    timer_run_due();
}

/* Turns until cond holds or about ms of real time passed. */
#define TURN_UNTIL(lm, cond, ms)                                                                   \
    for (int i_ = 0; i_ < (ms) / 5 && !(cond); i_++) {                                             \
        turn(lm);                                                                                  \
        if (!(cond))                                                                               \
            usleep(5000);                                                                          \
    }

struct op_result {
    int calls;
    enum err e;
};

static void on_op(void *arg, enum err e, const char *msg)
{
    (void)msg;
    struct op_result *r = arg;
    r->calls++;
    r->e = e;
}

static enum err set_concurrency(struct lambda *lm, int n)
{
    struct op_result r = {0};
    lambda_fn_set_concurrency(lm, "f", n, on_op, &r);
    assert_int_equal(r.calls, 0); /* never from inside the call */
    TURN_UNTIL(lm, r.calls == 1, 1000);
    assert_int_equal(r.calls, 1);
    return r.e;
}

static void reap(struct lambda *lm)
{
    int status;
    pid_t pid;
    for (int i = 0; i < 200; i++) {
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            if (lm)
                lambda_child_exited(lm, pid, status);
        if (pid < 0)
            return;
        usleep(5000);
    }
}

static struct waiter *next_waiter(struct waiter *w)
{
    memset(w, 0, sizeof *w);
    w->w.deliver = w_deliver;
    w->w.abort = w_abort;
    return w;
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
    struct waiter w;
    lambda_env_next(last_env, &next_waiter(&w)->w);
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
    struct waiter w2;
    lambda_env_next(last_env, &next_waiter(&w2)->w);
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
    reap(NULL);
}

static void test_a_second_next_does_not_abort_the_first(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct waiter a, b;
    struct result r = {0}, r2 = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    struct lambda_env *env = last_env;
    lambda_env_next(env, &next_waiter(&a)->w);
    assert_int_equal(a.delivered, 1);
    lambda_env_next(env, &next_waiter(&b)->w); /* while busy: parked, first not aborted */
    assert_int_equal(a.aborted, 0);
    assert_int_equal(b.delivered, 0);
    assert_int_equal(lambda_env_response(env, a.rid, 36, "1", 1), ERR_OK);
    assert_int_equal(b.delivered, 0);
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r2, NULL);
    assert_int_equal(b.delivered, 1); /* the parked one takes the next event */
    assert_int_equal(listens, 1);
    lambda_free(lm);
    reap(NULL);
}

static void test_reserved_concurrency_throttles(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    assert_int_equal(set_concurrency(lm, 1), ERR_OK);
    assert_int_equal(set_concurrency(lm, 11), ERR_LAMBDA_INVALID_PARAMETER);
    struct result a = {0}, b = {0};
    assert_non_null(
        lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &a, NULL));
    assert_non_null(
        lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &b, NULL));
    assert_int_equal(b.calls, 0); /* decided now, answered later */
    turn(lm);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.err, ERR_LAMBDA_TOO_MANY_REQUESTS);
    assert_string_equal(b.reason, "ReservedFunctionConcurrentInvocationLimitExceeded");
    assert_int_equal(a.calls, 0);
    /* reserved 0 throttles everything */
    assert_int_equal(set_concurrency(lm, 0), ERR_OK);
    struct result c = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &c, NULL);
    turn(lm);
    assert_int_equal(c.err, ERR_LAMBDA_TOO_MANY_REQUESTS);
    lambda_free(lm);
    reap(NULL);
}

static void test_a_client_gone_before_its_invocation_starts_never_runs_it(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    struct lambda_inv *inv =
        lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    assert_int_equal(listens, 1); /* an environment is starting for it */
    lambda_inv_detach(inv);
    struct waiter w;
    lambda_env_next(last_env, &next_waiter(&w)->w);
    assert_int_equal(w.delivered, 0); /* nothing to run: the invocation was dropped */
    json_t *h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "in_flight")), 0);
    json_decref(h);
    turn(lm);
    assert_int_equal(r.calls, 0);
    lambda_free(lm);
    reap(NULL);
}

static void test_environments_stay_within_reserved_concurrency(void **state)
{
    (void)state;
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    assert_int_equal(set_concurrency(lm, 2), ERR_OK);
    struct result r[20] = {{0}};
    for (int i = 0; i < 20; i++)
        lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r[i], NULL);
    turn(lm);
    assert_int_equal(listens, 2); /* 18 throttled, 2 environments */
    int throttled = 0;
    for (int i = 0; i < 20; i++)
        throttled += r[i].err == ERR_LAMBDA_TOO_MANY_REQUESTS;
    assert_int_equal(throttled, 18);
    lambda_free(lm);
    reap(NULL);
}

static void test_timeout_in_real_time(void **state)
{
    (void)state;
    clock_set_manual(1795608000000LL); /* the manual clock does not time functions out */
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    struct waiter w;
    lambda_env_next(last_env, &next_waiter(&w)->w);
    assert_int_equal(w.delivered, 1);
    timer_advance(1795608000000LL + 3600000);
    assert_int_equal(r.calls, 0);
    TURN_UNTIL(lm, r.calls == 1, 3000);
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
    struct waiter w;
    lambda_env_next(last_env, &next_waiter(&w)->w);
    assert_true(lambda_env_pid(last_env) > 0);
    kill(lambda_env_pid(last_env), SIGKILL);
    TURN_UNTIL(lm, r.calls == 1, 2000);
    assert_int_equal(r.calls, 1);
    assert_true(r.function_error);
    assert_non_null(strstr(r.body, "Runtime.ExitError"));
    assert_non_null(strstr(r.body, "Runtime exited with error: signal: killed"));
    lambda_free(lm);
}

/* An Event that fails is retried after 1, then 2 minutes of the clock: three attempts. */
static void test_event_retried_twice_on_the_clock(void **state)
{
    (void)state;
    int64_t t0 = 1795608000000LL;
    clock_set_manual(t0);
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result ack = {0};
    assert_non_null(
        lambda_invoke(lm, fn, LAMBDA_INV_EVENT, "{\"e\":1}", 7, NULL, false, on_done, &ack, NULL));
    turn(lm);
    assert_int_equal(ack.calls, 1);
    assert_int_equal(ack.err, ERR_OK);
    struct waiter w;
    int64_t at[3] = {t0, t0 + 60000, t0 + 180000};
    for (int attempt = 0; attempt < 3; attempt++) {
        lambda_env_next(last_env, &next_waiter(&w)->w);
        if (attempt > 0) {
            assert_int_equal(w.delivered, 0); /* not before its time */
            timer_advance(at[attempt] - 1);
            assert_int_equal(w.delivered, 0);
            timer_advance(at[attempt]);
        }
        assert_int_equal(w.delivered, 1);
        assert_string_equal(w.payload, "{\"e\":1}");
        assert_int_equal(lambda_env_error(last_env, w.rid, 36, "{}", 2, NULL, 0), ERR_OK);
    }
    /* no fourth attempt */
    lambda_env_next(last_env, &next_waiter(&w)->w);
    timer_advance(t0 + 3600000);
    assert_int_equal(w.delivered, 0);
    assert_int_equal(listens, 1);
    lambda_free(lm);
    reap(NULL);
    clock_set_real();
}

/* MaximumRetryAttempts 0 and MaximumEventAgeInSeconds: an event too old is dropped, not run. */
static void test_event_invoke_config(void **state)
{
    (void)state;
    int64_t t0 = 1795608000000LL;
    clock_set_manual(t0);
    struct lambda *lm = make_engine();
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct op_result op = {0};
    lambda_fn_put_event_config(lm, fn, false, 0, 60, NULL, on_op, &op);
    TURN_UNTIL(lm, op.calls == 1, 1000);
    assert_int_equal(op.e, ERR_OK);
    assert_true(lambda_fn_event_config(fn)->set);
    assert_int_equal(lambda_fn_event_config(fn)->max_retries, 0);
    /* fails once: no retry */
    lambda_invoke(lm, fn, LAMBDA_INV_EVENT, "{}", 2, NULL, false, NULL, NULL, NULL);
    turn(lm);
    struct waiter w;
    lambda_env_next(last_env, &next_waiter(&w)->w);
    assert_int_equal(w.delivered, 1);
    assert_int_equal(lambda_env_error(last_env, w.rid, 36, "{}", 2, NULL, 0), ERR_OK);
    lambda_env_next(last_env, &next_waiter(&w)->w);
    timer_advance(t0 + 3600000);
    assert_int_equal(w.delivered, 0);
    /* reserved 0 holds events back; past their age they go without running */
    assert_int_equal(set_concurrency(lm, 0), ERR_OK);
    lambda_invoke(lm, fn, LAMBDA_INV_EVENT, "{\"old\":1}", 9, NULL, false, NULL, NULL, NULL);
    turn(lm);
    json_t *h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "queued_events")), 1);
    json_decref(h);
    timer_advance(t0 + 3600000 + 61000);
    assert_int_equal(set_concurrency(lm, -1), ERR_OK);
    turn(lm);
    assert_int_equal(w.delivered, 0);
    h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "queued_events")), 0);
    json_decref(h);
    lambda_free(lm);
    reap(NULL);
    clock_set_real();
}

static void test_idle_environment_is_reaped(void **state)
{
    (void)state;
    struct lambda *lm = make_engine_idle(1);
    struct lambda_fn *fn = lambda_fn_find(lm, "f");
    struct result r = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r, NULL);
    struct waiter w, w2;
    lambda_env_next(last_env, &next_waiter(&w)->w);
    assert_int_equal(lambda_env_response(last_env, w.rid, 36, "1", 1), ERR_OK);
    lambda_env_next(last_env, &next_waiter(&w2)->w); /* idle now */
    json_t *h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "idle")), 1);
    json_decref(h);
    TURN_UNTIL(lm, w2.aborted == 1, 3000);
    assert_int_equal(w2.aborted, 1); /* its parked /next was answered 500 */
    reap(lm);
    h = lambda_health_json(lm);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "environments")), 0);
    json_decref(h);
    /* the next invoke starts a fresh environment */
    struct result r2 = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r2, NULL);
    assert_int_equal(listens, 2);
    lambda_free(lm);
    reap(NULL);
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
    TURN_UNTIL(lm, r.calls == 1, 2000);
    assert_int_equal(r.calls, 1);
    assert_true(r.function_error);
    assert_string_equal(r.body, err);
    /* after init, /init/error is refused */
    struct result r2 = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &r2, NULL);
    struct waiter w;
    lambda_env_next(last_env, &next_waiter(&w)->w);
    assert_int_equal(lambda_env_init_error(last_env, "{}", 2, NULL, 0),
                     ERR_LAMBDA_INVALID_RUNTIME_ID);
    lambda_free(lm);
    reap(NULL);
}

/* ---- with a store: every command durable before it completes, nothing kept on failure ---- */

static struct store *test_store;

static void turn_store(struct lambda *lm)
{
    for (int i = 0; i < 4; i++) {
        work_poll();
        store_flush(test_store);
        turn(lm);
    }
}

/* A zip holding an executable bootstrap (the same waiting script). */
static void make_zip_bytes(struct buf *out)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/haar-test-engine-%d.zip", (int)getpid());
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    static const char script[] = "#!/bin/sh\nexec sleep 30\n";
    zip_source_t *src = zip_source_buffer(z, script, sizeof script - 1, 0);
    zip_int64_t idx = zip_file_add(z, "bootstrap", src, ZIP_FL_OVERWRITE);
    assert_true(idx >= 0);
    zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX, 0100755u << 16);
    assert_int_equal(zip_close(z), 0);
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
    unlink(path);
}

static struct lambda *store_engine(const char *dir)
{
    char err[256];
    test_store = store_open(dir, err, sizeof err);
    assert_non_null(test_store);
    struct lambda_options o = {.region = "eu-west-1",
                               .state_dir = dir,
                               .aws_port = 4566,
                               .account_concurrency = 10,
                               .idle_seconds = 300,
                               .code_storage_max = 10 << 20};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    struct lambda *lm = lambda_new(&o, &h, NULL, test_store, err, sizeof err);
    assert_non_null(lm);
    return lm;
}

/* Starts a command and turns the loop until it completes. */
static struct op_result run_op(struct lambda *lm, void (*start)(struct lambda *, void *))
{
    struct op_result r = {0};
    start(lm, &r);
    assert_int_equal(r.calls, 0); /* never from inside the call */
    for (int i = 0; i < 50 && r.calls == 0; i++)
        turn_store(lm);
    assert_int_equal(r.calls, 1);
    return r;
}

static struct buf zip_bytes;
static struct lambda_fn_spec zspec;

static void do_create(struct lambda *lm, void *r)
{
    lambda_fn_create(lm, &zspec, on_op, r);
}
static void do_timeout7(struct lambda *lm, void *r)
{
    struct lambda_fn_spec s = {.name = "z", .timeout = 7};
    lambda_fn_update_config(lm, &s, on_op, r);
}
static void do_delete(struct lambda *lm, void *r)
{
    lambda_fn_delete(lm, "z", on_op, r);
}
static void do_update_code(struct lambda *lm, void *r)
{
    lambda_fn_update_code(lm, "z", zip_bytes.data, zip_bytes.len, on_op, r);
}

static int count_code_dirs(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s/lambda/z 2>/dev/null | wc -l) -eq 0", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static void test_commands_are_durable_and_failures_keep_nothing(void **state)
{
    (void)state;
    char dir[128];
    snprintf(dir, sizeof dir, "/tmp/haar-test-engine-store-%d", (int)getpid());
    fs_remove_tree(dir);
    fs_mkdir_p(dir, 0700);
    buf_init(&zip_bytes, 1 << 20);
    make_zip_bytes(&zip_bytes);
    zspec = (struct lambda_fn_spec){.name = "z",
                                    .runtime = "provided.al2023",
                                    .role = "arn:aws:iam::000000000000:role/r",
                                    .handler = "bootstrap",
                                    .timeout = 3,
                                    .memory = 128,
                                    .zip = zip_bytes.data,
                                    .zip_len = zip_bytes.len};
    struct lambda *lm = store_engine(dir);
    /* a create whose commit fails: an error, no function, no code left on disk */
    store_fail_commits(test_store, 1);
    assert_int_equal(run_op(lm, do_create).e, ERR_LAMBDA_SERVICE);
    assert_null(lambda_fn_find(lm, "z"));
    assert_int_equal(count_code_dirs(dir), 0);
    /* it works the next time */
    assert_int_equal(run_op(lm, do_create).e, ERR_OK);
    struct lambda_fn *fn = lambda_fn_find(lm, "z");
    assert_non_null(fn);
    struct lambda_fn_info i;
    /* a configuration change whose commit fails is undone */
    store_fail_commits(test_store, 1);
    assert_int_equal(run_op(lm, do_timeout7).e, ERR_LAMBDA_SERVICE);
    lambda_fn_info(fn, &i);
    assert_int_equal(i.timeout, 3);
    assert_int_equal(run_op(lm, do_timeout7).e, ERR_OK);
    /* new code whose commit fails: the old code stays, the new folder goes */
    lambda_fn_info(fn, &i);
    char old_sha[64];
    snprintf(old_sha, sizeof old_sha, "%s", i.code_sha256);
    store_fail_commits(test_store, 1);
    assert_int_equal(run_op(lm, do_update_code).e, ERR_LAMBDA_SERVICE);
    lambda_fn_info(fn, &i);
    assert_string_equal(i.code_sha256, old_sha);
    /* an Event invocation that cannot be stored is refused, not queued */
    store_fail_commits(test_store, 1);
    struct result ack = {0};
    lambda_invoke(lm, fn, LAMBDA_INV_EVENT, "{}", 2, NULL, false, on_done, &ack, NULL);
    for (int k = 0; k < 20 && ack.calls == 0; k++)
        turn_store(lm);
    assert_int_equal(ack.err, ERR_LAMBDA_SERVICE);
    json_t *h = lambda_health_json(lm);
    for (size_t k = 0; k < json_array_size(h); k++)
        if (strcmp(json_string_value(json_object_get(json_array_get(h, k), "name")), "z") == 0)
            assert_int_equal(
                json_integer_value(json_object_get(json_array_get(h, k), "queued_events")), 0);
    json_decref(h);
    /* a deletion whose commit fails leaves the function */
    store_fail_commits(test_store, 1);
    assert_int_equal(run_op(lm, do_delete).e, ERR_LAMBDA_SERVICE);
    assert_non_null(lambda_fn_find(lm, "z"));
    /* what was committed comes back after a restart */
    lambda_free(lm);
    store_close(test_store);
    lm = store_engine(dir);
    lambda_restore(lm);
    fn = lambda_fn_find(lm, "z");
    assert_non_null(fn);
    lambda_fn_info(fn, &i);
    assert_int_equal(i.timeout, 7);
    assert_string_equal(i.code_sha256, old_sha);
    /* deletion removes the code */
    assert_int_equal(run_op(lm, do_delete).e, ERR_OK);
    assert_null(lambda_fn_find(lm, "z"));
    assert_int_equal(count_code_dirs(dir), 0);
    lambda_free(lm);
    store_close(test_store);
    buf_destroy(&zip_bytes);
    fs_remove_tree(dir);
    reap(NULL);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_invoke_and_warm_reuse),
        cmocka_unit_test(test_a_second_next_does_not_abort_the_first),
        cmocka_unit_test(test_reserved_concurrency_throttles),
        cmocka_unit_test(test_a_client_gone_before_its_invocation_starts_never_runs_it),
        cmocka_unit_test(test_environments_stay_within_reserved_concurrency),
        cmocka_unit_test(test_timeout_in_real_time),
        cmocka_unit_test(test_crash_reports_exit_error),
        cmocka_unit_test(test_event_retried_twice_on_the_clock),
        cmocka_unit_test(test_event_invoke_config),
        cmocka_unit_test(test_idle_environment_is_reaped),
        cmocka_unit_test(test_init_error_goes_to_the_first_invoke),
        cmocka_unit_test(test_commands_are_durable_and_failures_keep_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
