/*
 * fn_test.h — what the function tests (test_fn_api.c, test_fn_worker.c) share; not a test
 * itself. A function's struct fn_app loaded from an environment that points at the scripted
 * AWS endpoint of test_aws_fake.h, the cmocka setup and teardown around it, and readers of
 * what the endpoint was sent and answers it gives.
 */
#ifndef HAAR_TEST_FN_TEST_H
#define HAAR_TEST_FN_TEST_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "functions/common/fn.h"
#include "runtime/runtime_log.h"
#include "test_aws_fake.h"

/* The id of the task the scripted answers speak of. */
#define TID "0b2f6a5e-2c1d-4e8f-9a7b-3c4d5e6f7a8b"

/* A function's app against the scripted endpoint (the cmocka state). */
struct fn_test_ctx {
    struct fake f;
    char url[64];
    struct env env;
    struct fn_app app;
};

/*
 * cmocka setup: starts the endpoint and loads the app from an environment pointing at it —
 * test credentials, region, one attempt, the tasks table, index and queue — then the
 * function's own variables `extra` (pairs, ended by a NULL name; as many as struct env
 * holds). Sends the logs, quieted, to /dev/null. *state is the context; returns 0.
 */
static int fn_test_setup(void **state, const char *const extra[][2])
{
    struct fn_test_ctx *x = calloc(1, sizeof *x);
    char err[256];
    assert_non_null(x);
    fake_start(&x->f);
    snprintf(x->url, sizeof x->url, "http://127.0.0.1:%d", x->f.port);
    x->env =
        (struct env){{{"AWS_ACCESS_KEY_ID", "AKIDTEST"},
                      {"AWS_SECRET_ACCESS_KEY", SECRET},
                      {"AWS_REGION", "eu-west-1"},
                      {"AWS_ENDPOINT_URL", x->url},
                      {"AWS_MAX_ATTEMPTS", "1"},
                      {"TASKS_TABLE", "haar-test-tasks"},
                      {"TASKS_STATUS_INDEX", "by-status"},
                      {"TASKS_QUEUE_URL", "http://127.0.0.1:4566/000000000000/haar-test-tasks"}}};
    size_t n = 0;
    while (x->env.vars[n][0] != NULL)
        n++;
    for (size_t i = 0; extra[i][0] != NULL; i++, n++) {
        assert_true(n < sizeof x->env.vars / sizeof x->env.vars[0]);
        x->env.vars[n][0] = extra[i][0];
        x->env.vars[n][1] = extra[i][1];
    }
    assert_int_equal(fn_env_load(&x->app.env, env_get, &x->env, err, sizeof err), 0);
    struct aws_client_options o = {.getenv = env_get, .getenv_arg = &x->env};
    x->app.aws = aws_client_new(&o, err, sizeof err);
    assert_non_null(x->app.aws);
    runtime_log_set_level(RUNTIME_LOG_FATAL); /* keep the test output quiet */
    static int devnull = -1;
    if (devnull < 0)
        devnull = open("/dev/null", O_WRONLY);
    runtime_log_set_fd(devnull); /* metrics lines too */
    *state = x;
    return 0;
}

/* cmocka teardown: frees the app and stops the endpoint. Returns 0. */
static int fn_test_teardown(void **state)
{
    struct fn_test_ctx *x = *state;
    fn_app_destroy(&x->app);
    fake_stop(&x->f);
    free(x);
    return 0;
}

/* The body of the i-th request the endpoint got, parsed (caller frees); fails the test when
 * there is none or it is not JSON. */
static json_t *fn_test_sent(struct fn_test_ctx *x, size_t i)
{
    assert_true(i < x->f.nreqs);
    json_t *j = json_loads(x->f.reqs[i].body, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Into out: SQS's answer to the SendMessage of the task (id, kind), its message as the api
 * and the producer send it, with the MD5 of that body the client checks. */
static void fn_test_send_answer(char *out, size_t cap, const char *id, const char *kind)
{
    char body[128], md5[33];
    unsigned char d[16];
    unsigned int dl;
    snprintf(body, sizeof body, "{\"id\":\"%s\",\"kind\":\"%s\"}", id, kind);
    EVP_Digest(body, strlen(body), d, &dl, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(md5 + 2 * i, 3, "%02x", d[i]);
    snprintf(out, cap, "{\"MessageId\":\"m-1\",\"MD5OfMessageBody\":\"%s\"}", md5);
}

#endif
