/* Unit tests: what the Lambda engine's second pass adds — published versions, aliases and
 * their weighted routing, provisioned concurrency, function URL records, layers (records,
 * checks, merges), managed runtimes' interpreters, qualified references — with a store (every
 * command durable before it completes, undone when its commit fails, back after a restart)
 * and a fake host; environments are real child processes that just wait. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zip.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/lambda_int.h"
#include "cloud/store/store.h"
#include "core/fs.h"
#include "core/timer.h"
#include "core/work.h"
#include "test_lambda_host.h"

static struct lambda_env *last_env;
static struct store *st;
static char dir[128];

static int fake_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    (void)arg;
    last_env = env;
    *port = 9;
    *listener = NULL;
    return 0;
}

static void turn(struct lambda *lm)
{
    int status;
    pid_t pid;
    for (int i = 0; i < 4; i++) {
        work_poll();
        if (st)
            store_flush(st);
        timer_run_due();
        while (lm && (pid = waitpid(-1, &status, WNOHANG)) > 0)
            lambda_child_exited(lm, pid, status);
        timer_run_due();
    }
}

static void reap_all(void)
{
    int status;
    for (int i = 0; i < 200 && waitpid(-1, &status, WNOHANG) >= 0; i++)
        usleep(5000);
}

static struct lambda *engine(bool strict)
{
    char err[256];
    st = store_open(dir, err, sizeof err);
    assert_non_null(st);
    struct lambda_options o = {.region = "eu-west-1",
                               .state_dir = dir,
                               .aws_port = 4566,
                               .account_concurrency = 50,
                               .idle_seconds = 300,
                               .code_storage_max = 64 << 20,
                               .strict_runtimes = strict,
                               .layers_mount = false};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    struct lambda *lm = lambda_new(&o, &h, NULL, st, err, sizeof err);
    assert_non_null(lm);
    return lm;
}

static void engine_free(struct lambda *lm)
{
    lambda_free(lm);
    store_close(st);
    st = NULL;
    reap_all();
}

/* A zip of the given files (name, content; an executable "bootstrap" by default). */
static void make_zip(struct buf *out, const char *const *files, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/tmp.zip", dir);
    int zerr;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (size_t i = 0; i < n; i += 2) {
        zip_source_t *src = zip_source_buffer(z, files[i + 1], strlen(files[i + 1]), 0);
        zip_int64_t idx = zip_file_add(z, files[i], src, ZIP_FL_OVERWRITE);
        assert_true(idx >= 0);
        zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                         0100755u << 16);
    }
    assert_int_equal(zip_close(z), 0);
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(out, chunk, got);
    fclose(f);
    unlink(path);
}

static const char *const waiting[] = {"bootstrap", "#!/bin/sh\nexec sleep 30\n"};

struct op_result {
    int calls;
    enum err e;
    char msg[1024];
};

static void on_op(void *arg, enum err e, const char *msg)
{
    struct op_result *r = arg;
    r->calls++;
    r->e = e;
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
}

/* Waits (turning the loop) for a command's one completion, never from inside its call. */
static enum err wait_op(struct lambda *lm, struct op_result *r)
{
    assert_int_equal(r->calls, 0);
    for (int i = 0; i < 100 && r->calls == 0; i++)
        turn(lm);
    assert_int_equal(r->calls, 1);
    return r->e;
}

static struct lambda_fn *create(struct lambda *lm, const char *name, json_t *layers)
{
    struct buf zip;
    buf_init(&zip, 1 << 20);
    make_zip(&zip, waiting, 2);
    struct lambda_fn_spec s = {.name = name,
                               .runtime = "provided.al2023",
                               .role = "arn:aws:iam::000000000000:role/r",
                               .handler = "bootstrap",
                               .timeout = 3,
                               .memory = 128,
                               .zip = zip.data,
                               .zip_len = zip.len,
                               .layers = layers,
                               .has_layers = layers != NULL};
    struct op_result r = {0};
    lambda_fn_create(lm, &s, on_op, &r);
    assert_int_equal(wait_op(lm, &r), ERR_OK);
    buf_destroy(&zip);
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    assert_non_null(fn);
    return fn;
}

static enum err publish(struct lambda *lm, struct lambda_fn *fn, const char *sha, const char *rev,
                        char version[16], char *msg)
{
    struct op_result r = {0};
    lambda_fn_publish(lm, fn, sha, rev, NULL, version, on_op, &r);
    enum err e = wait_op(lm, &r);
    if (msg)
        snprintf(msg, 1024, "%s", r.msg);
    return e;
}

static enum err set_timeout(struct lambda *lm, const char *name, int t)
{
    struct lambda_fn_spec s = {.name = name, .timeout = t};
    struct op_result r = {0};
    lambda_fn_update_config(lm, &s, on_op, &r);
    return wait_op(lm, &r);
}

static enum err alias_op(struct lambda *lm, struct lambda_fn *fn, bool create_it,
                         const struct lambda_alias_spec *s, char *msg)
{
    struct op_result r = {0};
    if (create_it)
        lambda_alias_create(lm, fn, s, on_op, &r);
    else
        lambda_alias_update(lm, fn, s, on_op, &r);
    enum err e = wait_op(lm, &r);
    if (msg)
        snprintf(msg, 1024, "%s", r.msg);
    return e;
}

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/haar-test-versions-%d", (int)getpid());
    fs_remove_tree(dir);
    fs_mkdir_p(dir, 0700);
}

/* ---- versions ---- */

static void test_publish_versions(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    struct lambda_fn *fn = create(lm, "f", NULL);
    char v[16], msg[1024];
    struct lambda_fn_info i;
    lambda_fn_info(fn, &i);
    char sha[64], rev[40];
    snprintf(sha, sizeof sha, "%s", i.code_sha256);
    snprintf(rev, sizeof rev, "%s", i.revision);
    /* the checks first: a wrong CodeSha256 / RevisionId publishes nothing */
    assert_int_equal(publish(lm, fn, "AAAA", NULL, v, msg), ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "is different from current CodeSHA256 in $LATEST"));
    assert_int_equal(publish(lm, fn, NULL, "nope", v, msg), ERR_LAMBDA_PRECONDITION);
    assert_null(lambda_fn_find_qualified(lm, "f", "1"));
    /* version 1, and again 1 while nothing changed */
    assert_int_equal(publish(lm, fn, sha, rev, v, NULL), ERR_OK);
    assert_string_equal(v, "1");
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    assert_string_equal(v, "1");
    /* a change, then version 2; version 1 keeps its configuration (immutable) */
    assert_int_equal(set_timeout(lm, "f", 9), ERR_OK);
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    assert_string_equal(v, "2");
    struct lambda_fn *v1 = lambda_fn_find_qualified(lm, "f", "1");
    struct lambda_fn *v2 = lambda_fn_find_qualified(lm, "f", "2");
    assert_non_null(v1);
    assert_non_null(v2);
    lambda_fn_info(v1, &i);
    assert_int_equal(i.timeout, 3);
    assert_string_equal(i.version, "1");
    assert_string_equal(i.arn, "arn:aws:lambda:eu-west-1:000000000000:function:f:1");
    lambda_fn_info(v2, &i);
    assert_int_equal(i.timeout, 9);
    /* a commit that fails publishes nothing */
    assert_int_equal(set_timeout(lm, "f", 10), ERR_OK);
    store_fail_commits(st, 1);
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_LAMBDA_SERVICE);
    assert_null(lambda_fn_find_qualified(lm, "f", "3"));
    /* qualified references as AWS takes them */
    assert_ptr_equal(lambda_fn_find_arn(lm, "f:2"), v2);
    assert_ptr_equal(lambda_fn_find_arn(lm, "arn:aws:lambda:eu-west-1:000000000000:function:f:1"),
                     v1);
    assert_ptr_equal(lambda_fn_find_arn(lm, "000000000000:function:f"), fn);
    assert_ptr_equal(lambda_fn_find_qualified(lm, "f", "$LATEST"), fn);
    assert_null(lambda_fn_find_arn(lm, "f:7"));
    /* everything committed comes back after a restart */
    engine_free(lm);
    lm = engine(false);
    lambda_restore(lm);
    v2 = lambda_fn_find_qualified(lm, "f", "2");
    assert_non_null(v2);
    lambda_fn_info(v2, &i);
    assert_int_equal(i.timeout, 9);
    assert_null(lambda_fn_find_qualified(lm, "f", "3"));
    /* and the next number follows the last one published */
    fn = lambda_fn_find(lm, "f");
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    assert_string_equal(v, "3");
    engine_free(lm);
    fs_remove_tree(dir);
}

static void test_aliases_and_routing(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    struct lambda_fn *fn = create(lm, "g", NULL);
    char v[16], msg[1024];
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    assert_int_equal(set_timeout(lm, "g", 5), ERR_OK);
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    struct lambda_alias_spec s = {.name = "live", .version = "9"};
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_LAMBDA_NOT_FOUND);
    s.version = "$LATEST";
    s.has_routing = true;
    s.extra = "2";
    s.weight = 0.5;
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_LAMBDA_INVALID_PARAMETER);
    assert_string_equal(msg, "$LATEST is not supported for an alias pointing to more than 1 "
                             "version");
    s.version = "2";
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "is already included in routing configuration"));
    s.version = "1";
    s.weight = 1.5;
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_LAMBDA_VALIDATION);
    s.weight = 0.2;
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_OK);
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_LAMBDA_CONFLICT);
    assert_string_equal(msg, "Alias already exists: "
                             "arn:aws:lambda:eu-west-1:000000000000:function:g:live");
    struct lambda_fn *a = lambda_fn_find_qualified(lm, "g", "live");
    assert_non_null(a);
    struct lambda_alias_info ai;
    assert_true(lambda_alias_info(a, &ai));
    assert_string_equal(ai.version, "1");
    assert_string_equal(ai.extra, "2");
    /* the weight is followed: 0.2 of 10,000 routes to version 2 */
    int to2 = 0;
    for (int k = 0; k < 10000; k++)
        to2 += strcmp(lambda__route(a)->qual, "2") == 0;
    assert_true(to2 > 1800 && to2 < 2200);
    /* a version an alias points at cannot be deleted */
    struct op_result r = {0};
    lambda_fn_delete_version(lm, lambda_fn_find_qualified(lm, "g", "2"), on_op, &r);
    assert_int_equal(wait_op(lm, &r), ERR_LAMBDA_CONFLICT);
    assert_string_equal(r.msg,
                        "Unable to delete version because the following aliases reference it: "
                        "[live]");
    /* an update with a stale RevisionId changes nothing; a good one moves it */
    struct lambda_alias_spec u = {.name = "live", .version = "2", .has_routing = true,
                                  .revision_id = "old"};
    assert_int_equal(alias_op(lm, fn, false, &u, msg), ERR_LAMBDA_PRECONDITION);
    u.revision_id = NULL;
    assert_int_equal(alias_op(lm, fn, false, &u, msg), ERR_OK);
    assert_true(lambda_alias_info(a, &ai));
    assert_string_equal(ai.version, "2");
    assert_null(ai.extra);
    assert_string_equal(lambda__route(a)->qual, "2");
    /* version 1 is free now */
    struct op_result r2 = {0};
    lambda_fn_delete_version(lm, lambda_fn_find_qualified(lm, "g", "1"), on_op, &r2);
    assert_int_equal(wait_op(lm, &r2), ERR_OK);
    assert_null(lambda_fn_find_qualified(lm, "g", "1"));
    /* an alias whose creation is not stored is not there */
    store_fail_commits(st, 1);
    struct lambda_alias_spec b = {.name = "beta", .version = "2"};
    assert_int_equal(alias_op(lm, fn, true, &b, msg), ERR_LAMBDA_SERVICE);
    assert_null(lambda_fn_find_qualified(lm, "g", "beta"));
    /* restart: the alias and its version come back; version 1 stays deleted */
    engine_free(lm);
    lm = engine(false);
    lambda_restore(lm);
    a = lambda_fn_find_qualified(lm, "g", "live");
    assert_non_null(a);
    assert_string_equal(lambda__route(a)->qual, "2");
    assert_null(lambda_fn_find_qualified(lm, "g", "1"));
    /* deleting the function takes its versions and aliases */
    struct op_result r3 = {0};
    lambda_fn_delete(lm, "g", on_op, &r3);
    assert_int_equal(wait_op(lm, &r3), ERR_OK);
    assert_null(lambda_fn_find_qualified(lm, "g", "live"));
    assert_null(lambda_fn_find_qualified(lm, "g", "2"));
    engine_free(lm);
    fs_remove_tree(dir);
}

struct waiter {
    struct lambda_next_waiter w;
    int delivered;
    char arn[256];
};

static void w_deliver(struct lambda_next_waiter *lw, const char *rid, int64_t deadline_ms,
                      const char *arn, const char *trace, const char *cc, const char *payload,
                      size_t len)
{
    struct waiter *w = (struct waiter *)lw;
    (void)rid;
    (void)deadline_ms;
    (void)trace;
    (void)cc;
    (void)payload;
    (void)len;
    w->delivered++;
    snprintf(w->arn, sizeof w->arn, "%s", arn);
}
static void w_abort(struct lambda_next_waiter *lw)
{
    (void)lw;
}

struct result {
    int calls;
    char version[16];
};

static void on_done(void *arg, const struct lambda_result *r)
{
    struct result *res = arg;
    res->calls++;
    snprintf(res->version, sizeof res->version, "%s",
             r->executed_version ? r->executed_version : "");
}

static void test_invoking_an_alias_runs_its_version(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    struct lambda_fn *fn = create(lm, "h", NULL);
    char v[16], msg[1024];
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    struct lambda_alias_spec s = {.name = "live", .version = "1"};
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_OK);
    struct lambda_fn *a = lambda_fn_find_qualified(lm, "h", "live");
    struct result res = {0};
    last_env = NULL;
    lambda_invoke(lm, a, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &res, NULL);
    assert_non_null(last_env); /* an environment of version 1 */
    struct lambda_fn *v1 = lambda_fn_find_qualified(lm, "h", "1");
    assert_ptr_equal(last_env->fn, v1);
    struct waiter w = {.w = {.deliver = w_deliver, .abort = w_abort}};
    lambda_env_next(last_env, &w.w);
    assert_int_equal(w.delivered, 1);
    assert_string_equal(w.arn, "arn:aws:lambda:eu-west-1:000000000000:function:h:live");
    assert_int_equal(lambda_env_response(last_env, last_env->inv->rid, 36, "1", 1), ERR_OK);
    for (int k = 0; k < 10 && res.calls == 0; k++)
        turn(lm);
    assert_int_equal(res.calls, 1);
    assert_string_equal(res.version, "1");
    engine_free(lm);
    fs_remove_tree(dir);
}

/* The environments fn has alive (starting, idle or busy). */
static int envs_of(const struct lambda_fn *fn)
{
    int n = 0;
    for (const struct lambda_env *e = fn->envs; e; e = e->next)
        n++;
    return n;
}

static void test_provisioned_concurrency_keeps_environments_warm(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    struct lambda_fn *fn = create(lm, "p", NULL);
    char v[16];
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    struct lambda_fn *v1 = lambda_fn_find_qualified(lm, "p", "1");
    struct op_result r = {0};
    lambda_pc_put(lm, v1, 2, on_op, &r);
    assert_int_equal(wait_op(lm, &r), ERR_OK);
    for (int k = 0; k < 20 && envs_of(v1) < 2; k++)
        turn(lm);
    assert_int_equal(envs_of(v1), 2); /* started at once, before any invocation */
    struct lambda_pc_info pi;
    lambda_pc_info(v1, &pi);
    assert_true(pi.set);
    assert_int_equal(pi.requested, 2);
    assert_string_equal(pi.status, "IN_PROGRESS"); /* none has asked for work yet */
    struct waiter w[2] = {{.w = {.deliver = w_deliver, .abort = w_abort}},
                          {.w = {.deliver = w_deliver, .abort = w_abort}}};
    int k = 0;
    for (struct lambda_env *e = v1->envs; e; e = e->next) {
        assert_true(e->provisioned);
        lambda_env_next(e, &w[k++].w);
    }
    lambda_pc_info(v1, &pi);
    assert_string_equal(pi.status, "READY");
    assert_int_equal(pi.allocated, 2);
    /* an environment that dies is replaced */
    kill(v1->envs->pid, SIGKILL);
    for (int i = 0; i < 400 && !(envs_of(v1) == 2 && v1->envs->pid > 0 && v1->envs->next &&
                                 v1->envs->next->pid > 0);
         i++) {
        turn(lm);
        usleep(5000);
    }
    assert_int_equal(envs_of(v1), 2);
    /* reserved concurrency may not go below what is provisioned */
    struct op_result r2 = {0};
    lambda_fn_set_concurrency(lm, "p", 1, on_op, &r2);
    assert_int_equal(wait_op(lm, &r2), ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(r2.msg, "should not be lower than function's total provisioned"));
    /* deleting the configuration lets the idle ones go */
    struct op_result r3 = {0};
    lambda_pc_delete(lm, v1, on_op, &r3);
    assert_int_equal(wait_op(lm, &r3), ERR_OK);
    for (struct lambda_env *e = v1->envs; e; e = e->next)
        if (e->state == ENV_IDLE)
            assert_false(e->provisioned);
    engine_free(lm);
    fs_remove_tree(dir);
}

/* ---- function URLs ---- */

static void test_url_records(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    struct lambda_fn *fn = create(lm, "u", NULL);
    json_t *cors = json_pack("{s:[s]}", "AllowOrigins", "*");
    struct lambda_url_spec s = {.auth_type = "AWS_IAM", .cors = cors, .has_cors = true};
    struct op_result r = {0};
    lambda_url_create(lm, fn, &s, on_op, &r);
    assert_int_equal(wait_op(lm, &r), ERR_OK);
    struct lambda_url_info u;
    lambda_url_info(fn, &u);
    assert_true(u.set);
    assert_int_equal(strlen(u.id), 32);
    assert_int_equal(strspn(u.id, "abcdefghijklmnopqrstuvwxyz0123456789"), 32);
    assert_string_equal(u.auth_type, "AWS_IAM");
    assert_string_equal(u.invoke_mode, "BUFFERED");
    assert_ptr_equal(lambda_url_find(lm, u.id, 32), fn);
    assert_null(lambda_url_find(lm, u.id, 31));
    char id[40];
    snprintf(id, sizeof id, "%s", u.id);
    struct op_result r2 = {0};
    lambda_url_create(lm, fn, &s, on_op, &r2);
    assert_int_equal(wait_op(lm, &r2), ERR_LAMBDA_CONFLICT);
    /* an update keeps the id */
    struct lambda_url_spec up = {.auth_type = "NONE"};
    struct op_result r3 = {0};
    lambda_url_update(lm, fn, &up, on_op, &r3);
    assert_int_equal(wait_op(lm, &r3), ERR_OK);
    lambda_url_info(fn, &u);
    assert_string_equal(u.id, id);
    assert_string_equal(u.auth_type, "NONE");
    /* NONE needs a public grant in the resource policy */
    assert_false(lambda_fn_permits_url(fn, "NONE"));
    json_t *stmt = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s}}}", "Sid", "url", "Effect", "Allow",
                             "Principal", "*", "Action", "lambda:InvokeFunctionUrl", "Condition",
                             "StringEquals", "lambda:FunctionUrlAuthType", "NONE");
    struct op_result r4 = {0};
    lambda_fn_add_permission(lm, fn, stmt, NULL, on_op, &r4);
    assert_int_equal(wait_op(lm, &r4), ERR_OK);
    assert_true(lambda_fn_permits_url(fn, "NONE"));
    assert_false(lambda_fn_permits_url(fn, "AWS_IAM"));
    /* back after a restart, with its id */
    engine_free(lm);
    lm = engine(false);
    lambda_restore(lm);
    fn = lambda_url_find(lm, id, strlen(id));
    assert_non_null(fn);
    struct op_result r5 = {0};
    lambda_url_delete(lm, fn, on_op, &r5);
    assert_int_equal(wait_op(lm, &r5), ERR_OK);
    assert_null(lambda_url_find(lm, id, strlen(id)));
    json_decref(cors);
    json_decref(stmt);
    engine_free(lm);
    fs_remove_tree(dir);
}

/* ---- layers ---- */

static struct lambda_layer *publish_layer(struct lambda *lm, const char *name,
                                          const char *const *files, size_t n)
{
    struct buf zip;
    buf_init(&zip, 1 << 20);
    make_zip(&zip, files, n);
    struct lambda_layer_spec s = {.name = name, .zip = zip.data, .zip_len = zip.len};
    struct lambda_layer *l = NULL;
    struct op_result r = {0};
    lambda_layer_publish(lm, &s, &l, on_op, &r);
    assert_int_equal(wait_op(lm, &r), ERR_OK);
    assert_non_null(l);
    buf_destroy(&zip);
    return l;
}

static bool read_file_is(const char *path, const char *want)
{
    char got[256] = "";
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    return strcmp(got, want) == 0;
}

static void test_layers_merge_in_order_later_wins(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    static const char *const one[] = {"lib/a.txt", "one-a", "bin/tool", "one-tool"};
    static const char *const two[] = {"lib/a.txt", "two-a", "python/m.py", "x = 2"};
    struct lambda_layer *l1 = publish_layer(lm, "base", one, 4);
    struct lambda_layer *l2 = publish_layer(lm, "over", two, 4);
    struct lambda_layer_info i1, i2;
    lambda_layer_info(l1, &i1);
    lambda_layer_info(l2, &i2);
    assert_int_equal(i1.version, 1);
    assert_string_equal(i1.version_arn, "arn:aws:lambda:eu-west-1:000000000000:layer:base:1");
    /* a second version of a layer gets the next number */
    struct lambda_layer *l1b = publish_layer(lm, "base", one, 4);
    struct lambda_layer_info i1b;
    lambda_layer_info(l1b, &i1b);
    assert_int_equal(i1b.version, 2);
    /* the checks: existence, the same layer twice, five at most */
    char msg[1024];
    json_t *bad = json_pack("[s]", "arn:aws:lambda:eu-west-1:000000000000:layer:none:1");
    assert_int_equal(lambda__layers_check(lm, bad, 0, msg, sizeof msg),
                     ERR_LAMBDA_INVALID_PARAMETER);
    assert_string_equal(msg, "Layer version arn:aws:lambda:eu-west-1:000000000000:layer:none:1 "
                             "does not exist.");
    json_decref(bad);
    bad = json_pack("[s, s]", i1.version_arn, i1b.version_arn);
    assert_int_equal(lambda__layers_check(lm, bad, 0, msg, sizeof msg),
                     ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "are versions of the same layer"));
    json_decref(bad);
    bad = json_pack("[s, s, s, s, s, s]", "a", "b", "c", "d", "e", "f");
    assert_int_equal(lambda__layers_check(lm, bad, 0, msg, sizeof msg),
                     ERR_LAMBDA_INVALID_PARAMETER);
    assert_string_equal(msg, "Cannot reference more than 5 layers.");
    json_decref(bad);
    json_t *ok = json_pack("[s, s]", i1.version_arn, i2.version_arn);
    assert_int_equal(lambda__layers_check(lm, ok, 262144000 - 5, msg, sizeof msg),
                     ERR_LAMBDA_INVALID_PARAMETER);
    assert_non_null(strstr(msg, "Function code combined with layers exceeds the maximum"));
    /* a function with both: its /opt holds both, the later layer's file over the earlier */
    struct lambda_fn *fn = create(lm, "withlayers", ok);
    assert_true(fn->opt_dir[0] != '\0');
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/lib/a.txt", fn->opt_dir);
    assert_true(read_file_is(path, "two-a"));
    snprintf(path, sizeof path, "%s/bin/tool", fn->opt_dir);
    assert_true(read_file_is(path, "one-tool"));
    snprintf(path, sizeof path, "%s/python/m.py", fn->opt_dir);
    assert_true(read_file_is(path, "x = 2"));
    /* its environment sees it through HAAR_OPT_DIR (no mount namespace in this engine) */
    struct result res = {0};
    last_env = NULL;
    lambda_invoke(lm, fn, LAMBDA_INV_SYNC, "{}", 2, NULL, false, on_done, &res, NULL);
    assert_non_null(last_env);
    assert_string_equal(last_env->opt_dir, fn->opt_dir);
    char environ_path[64], env[8192];
    snprintf(environ_path, sizeof environ_path, "/proc/%d/environ", last_env->pid);
    /* (read again while the bootstrap's shell execs sleep: the environment reads empty then) */
    bool found = false;
    for (int tries = 0; tries < 100 && !found; tries++) {
        FILE *f = fopen(environ_path, "r");
        assert_non_null(f);
        size_t n = fread(env, 1, sizeof env - 1, f);
        fclose(f);
        env[n] = '\0';
        for (size_t k = 0; k < n; k += strlen(env + k) + 1)
            found |= strncmp(env + k, "HAAR_OPT_DIR=", 13) == 0 &&
                     strcmp(env + k + 13, fn->opt_dir) == 0;
        if (!found)
            usleep(10000);
    }
    assert_true(found);
    /* deleting a layer version leaves the function's /opt whole */
    struct op_result r = {0};
    lambda_layer_delete(lm, "over", 1, on_op, &r);
    assert_int_equal(wait_op(lm, &r), ERR_OK);
    assert_null(lambda_layer_find(lm, "over", 1));
    snprintf(path, sizeof path, "%s/lib/a.txt", fn->opt_dir);
    assert_true(read_file_is(path, "two-a"));
    /* layers come back after a restart; the next version of "over" is 2, not 1 again */
    engine_free(lm);
    lm = engine(false);
    lambda_restore(lm);
    assert_non_null(lambda_layer_find(lm, "base", 2));
    assert_null(lambda_layer_find(lm, "over", 1));
    struct lambda_layer *l3 = publish_layer(lm, "over", two, 4);
    struct lambda_layer_info i3;
    lambda_layer_info(l3, &i3);
    assert_int_equal(i3.version, 2);
    json_decref(ok);
    engine_free(lm);
    fs_remove_tree(dir);
}

/* ---- managed runtimes ---- */

static void test_interpreters_nearest_or_refused(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    /* a machine of two pythons and one node */
    lm->interps = (struct lambda_interps){.probed = true, .npython = 2, .nnode = 1};
    lm->interps.python[0] = (struct lambda_interp){"/usr/bin/python3.9", 3, 9, "3.9"};
    lm->interps.python[1] = (struct lambda_interp){"/usr/bin/python3.11", 3, 11, "3.11"};
    lm->interps.node[0] = (struct lambda_interp){"/usr/bin/node", 20, 20, "v20.20.2"};
    char msg[512];
    assert_true(lambda__managed_runtime("python3.12"));
    assert_true(lambda__managed_runtime("nodejs22.x"));
    assert_false(lambda__managed_runtime("provided.al2023"));
    assert_string_equal(lambda__interp_for(lm, "python3.11", msg, sizeof msg)->path,
                        "/usr/bin/python3.11");
    assert_string_equal(lambda__interp_for(lm, "python3.13", msg, sizeof msg)->path,
                        "/usr/bin/python3.11");
    assert_string_equal(lambda__interp_for(lm, "python3.9", msg, sizeof msg)->path,
                        "/usr/bin/python3.9");
    /* as near both ways: the newer */
    assert_string_equal(lambda__interp_for(lm, "python3.10", msg, sizeof msg)->path,
                        "/usr/bin/python3.11");
    assert_string_equal(lambda__interp_for(lm, "nodejs18.x", msg, sizeof msg)->path,
                        "/usr/bin/node");
    lm->opt.strict_runtimes = true;
    assert_null(lambda__interp_for(lm, "nodejs22.x", msg, sizeof msg));
    assert_non_null(strstr(msg, "strict_runtimes"));
    assert_non_null(lambda__interp_for(lm, "nodejs20.x", msg, sizeof msg));
    lm->interps.nnode = 0;
    assert_null(lambda__interp_for(lm, "nodejs20.x", msg, sizeof msg));
    assert_non_null(strstr(msg, "nodejs"));
    engine_free(lm);
    fs_remove_tree(dir);
}

static void test_resolve_ref(void **state)
{
    (void)state;
    char name[80], qual[140], msg[512];
    static const struct {
        const char *in, *name, *qual;
    } ok[] = {
        {"f", "f", ""},
        {"f:live", "f", "live"},
        {"f:$LATEST", "f", "$LATEST"},
        {"000000000000:function:f:3", "f", "3"},
        {"arn:aws:lambda:eu-west-1:000000000000:function:my-fn", "my-fn", ""},
        {"arn:aws:lambda:eu-west-1:000000000000:function:my-fn:live", "my-fn", "live"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(lambda_resolve_ref(ok[i].in, strlen(ok[i].in), name, sizeof name, qual,
                                            sizeof qual, msg, sizeof msg),
                         ERR_OK);
        assert_string_equal(name, ok[i].name);
        assert_string_equal(qual, ok[i].qual);
    }
    static const char *const bad[] = {"f:", "f:a b", "arn:aws:lambda:eu-west-1:1:function:f",
                                      "f:g:h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lambda_resolve_ref(bad[i], strlen(bad[i]), name, sizeof name, qual,
                                            sizeof qual, msg, sizeof msg),
                         ERR_LAMBDA_VALIDATION);
}

struct sent {
    int n;
    char queue[128];
    char body[4096];
};

static void fake_send_sqs(void *arg, const char *queue_arn, const char *body, size_t len)
{
    struct sent *s = arg;
    s->n++;
    snprintf(s->queue, sizeof s->queue, "%s", queue_arn);
    snprintf(s->body, sizeof s->body, "%.*s", (int)len, body);
}

/* An Event invocation of an alias that fails with no retries left sends the invocation record
 * to the alias's on-failure SQS destination. */
static void test_failed_event_record_goes_to_the_destination(void **state)
{
    (void)state;
    setup_dir();
    struct lambda *lm = engine(false);
    struct sent sent = {0};
    lambda_set_destinations(lm, fake_send_sqs, &sent);
    struct lambda_fn *fn = create(lm, "d", NULL);
    char v[16], msg[1024];
    assert_int_equal(publish(lm, fn, NULL, NULL, v, NULL), ERR_OK);
    struct lambda_alias_spec s = {.name = "live", .version = "1"};
    assert_int_equal(alias_op(lm, fn, true, &s, msg), ERR_OK);
    struct lambda_fn *a = lambda_fn_find_qualified(lm, "d", "live");
    lambda_fn_provision_event_config(a, 0, 3600, "arn:aws:sqs:eu-west-1:000000000000:dlq");
    last_env = NULL;
    lambda_invoke(lm, a, LAMBDA_INV_EVENT, "{\"n\":7}", 7, NULL, false, NULL, NULL, NULL);
    for (int k = 0; k < 10 && last_env == NULL; k++)
        turn(lm);
    assert_non_null(last_env);
    struct waiter w = {.w = {.deliver = w_deliver, .abort = w_abort}};
    lambda_env_next(last_env, &w.w);
    assert_int_equal(w.delivered, 1);
    const char *err = "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}";
    assert_int_equal(lambda_env_error(last_env, last_env->inv->rid, 36, err, strlen(err), NULL, 0),
                     ERR_OK);
    for (int k = 0; k < 10 && sent.n == 0; k++)
        turn(lm);
    assert_int_equal(sent.n, 1);
    assert_string_equal(sent.queue, "arn:aws:sqs:eu-west-1:000000000000:dlq");
    json_t *rec = json_loads(sent.body, 0, NULL);
    assert_non_null(rec);
    assert_string_equal(json_string_value(json_object_get(rec, "version")), "1.0");
    json_t *rc = json_object_get(rec, "requestContext");
    assert_string_equal(json_string_value(json_object_get(rc, "condition")), "RetriesExhausted");
    assert_string_equal(json_string_value(json_object_get(rc, "functionArn")),
                        "arn:aws:lambda:eu-west-1:000000000000:function:d:live");
    assert_int_equal(json_integer_value(json_object_get(rc, "approximateInvokeCount")), 1);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(rec, "requestPayload"), "n")),
                     7);
    json_t *resp = json_object_get(rec, "responseContext");
    assert_string_equal(json_string_value(json_object_get(resp, "executedVersion")), "1");
    assert_string_equal(json_string_value(json_object_get(resp, "functionError")), "Unhandled");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(rec, "responsePayload"), "errorMessage")),
        "boom");
    json_decref(rec);
    engine_free(lm);
    fs_remove_tree(dir);
}

/* A cgroup's member list read past one buffer's worth: every pid, in order, none split */
static void collect_pid(void *arg, int pid)
{
    int *v = arg;
    v[1 + v[0]++] = pid;
}

static void test_cgroup_members_read_whole(void **state)
{
    (void)state;
    setup_dir();
    char cg[160];
    snprintf(cg, sizeof cg, "%s/cg", dir);
    assert_int_equal(fs_mkdir_p(cg, 0700), 0);
    char path[200];
    snprintf(path, sizeof path, "%s/cgroup.procs", cg);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 1500; i++) /* 7-digit pids: 12,000 bytes */
        fprintf(f, "%d\n", 4000000 + i * 7);
    fclose(f);
    static int got[1 + 2000];
    got[0] = 0;
    assert_int_equal(lambda__cg_pids(cg, collect_pid, got), 1500);
    assert_int_equal(got[0], 1500);
    for (int i = 0; i < 1500; i++)
        assert_int_equal(got[1 + i], 4000000 + i * 7);
    /* an environment reads it through the descriptor it keeps: from the start each time */
    struct lambda_env env = {.cg_procs_fd = open(path, O_RDONLY | O_CLOEXEC)};
    snprintf(env.cg, sizeof env.cg, "%s", cg);
    assert_true(env.cg_procs_fd >= 0);
    for (int round = 0; round < 2; round++) {
        got[0] = 0;
        assert_int_equal(lambda__cg_env_pids(&env, collect_pid, got), 1500);
        assert_int_equal(got[1 + 1499], 4000000 + 1499 * 7);
    }
    f = fopen(path, "w"); /* the members changed: the next read sees the new list */
    assert_non_null(f);
    fprintf(f, "42\n43\n");
    fclose(f);
    got[0] = 0;
    assert_int_equal(lambda__cg_env_pids(&env, collect_pid, got), 2);
    assert_int_equal(got[2], 43);
    close(env.cg_procs_fd);
    env.cg[0] = '\0';
    assert_int_equal(lambda__cg_env_pids(&env, collect_pid, got), -1);
    assert_int_equal(lambda__cg_pids("", collect_pid, got), -1);
    snprintf(path, sizeof path, "%s/none", dir);
    assert_int_equal(lambda__cg_pids(path, collect_pid, got), -1);
    fs_remove_tree(dir);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_versions),
        cmocka_unit_test(test_aliases_and_routing),
        cmocka_unit_test(test_invoking_an_alias_runs_its_version),
        cmocka_unit_test(test_provisioned_concurrency_keeps_environments_warm),
        cmocka_unit_test(test_url_records),
        cmocka_unit_test(test_layers_merge_in_order_later_wins),
        cmocka_unit_test(test_interpreters_nearest_or_refused),
        cmocka_unit_test(test_resolve_ref),
        cmocka_unit_test(test_failed_event_record_goes_to_the_destination),
        cmocka_unit_test(test_cgroup_members_read_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
