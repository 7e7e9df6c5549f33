/* Unit tests: the whole local path on a real loop — API port → payload 2.0 event → a real
 * bootstrap (bash + curl on the Runtime API) → the function's answer mapped back to HTTP;
 * and the Lambda REST Invoke on the AWS router. A client thread drives libcurl while the
 * test's main thread runs the loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "cloud/apigw.h"
#include "cloud/http/http.h"
#include "cloud/http/router.h"
#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "cloud/lambda/proto_runtime.h"
#include "core/buf.h"
#include "core/timer.h"

static struct http_server *srv;
static struct http_profile *profile;

static bool own_peer(void *env, int fd)
{
    return lambda_env_owns_peer(env, fd);
}

static int h_listen(void *arg, struct lambda_env *env, uint16_t *port, void **l)
{
    (void)arg;
    struct http_listen_opts o = {.profile = profile, .filter = own_peer, .filter_arg = env};
    return http_listen(srv, 0, &o, runtime_api_handle, env, (struct http_listener **)l, port);
}
static void h_unlisten(void *arg, void *l)
{
    (void)arg;
    http_listener_close(l);
}
static void *h_watch(void *arg, int fd, void (*cb)(void *, const char *, size_t), void *cbarg)
{
    (void)arg;
    return http_watch_fd(srv, fd, cb, cbarg);
}
static void h_unwatch(void *w)
{
    http_watch_close(w);
}

struct call {
    const char *url;
    const char *body;
    bool sign; /* SigV4 with test/test, as the AWS port requires */
    long status;
    struct buf resp;
    struct buf headers;
    volatile int done;
};

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    buf_append(arg, p, sz * n);
    return sz * n;
}

static void *client(void *arg)
{
    struct call *c = arg;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &c->headers);
    struct curl_slist *hd = curl_slist_append(NULL, "Cookie: a=1; b=2");
    if (getenv("HAAR_TEST_TOKEN"))
        hd = curl_slist_append(hd, "X-Amz-Security-Token: bogus");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (c->body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
    if (c->sign) {
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:eu-west-1:lambda");
        curl_easy_setopt(h, CURLOPT_USERPWD, "test:test");
    }
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    c->done = 1;
    return NULL;
}

static void run_call(struct lambda *lm, struct call *c)
{
    pthread_t t;
    buf_init(&c->resp, 1 << 20);
    buf_init(&c->headers, 1 << 16);
    pthread_create(&t, NULL, client, c);
    for (int i = 0; i < 2000 && !c->done; i++) {
        int64_t wait = timer_wait_ms();
        http_run(srv, wait < 0 || wait > 5 ? 5 : wait);
        timer_run_due();
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            lambda_child_exited(lm, pid, status);
    }
    pthread_join(t, NULL);
}

static const char script[] =
    "#!/bin/bash\n"
    "API=\"http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime\"\n"
    "while true; do\n"
    "  H=$(mktemp); E=$(curl -sS -D \"$H\" \"$API/invocation/next\")\n"
    "  R=$(grep -i '^lambda-runtime-aws-request-id:' \"$H\" | awk '{print $2}' | tr -d '\\r')\n"
    "  rm -f \"$H\"\n"
    "  case \"$E\" in\n"
    "    *'\"rawPath\":\"/teapot\"'*) B='{\"statusCode\":418,\"headers\":{\"X-Kind\":\"tea\"},"
    "\"cookies\":[\"c=1\"],\"body\":\"short and stout\"}' ;;\n"
    "    *'\"rawPath\":\"/plain\"'*) B='[1,2,3]' ;;\n"
    "    *'\"rawPath\":\"/error\"'*) curl -sS -X POST \"$API/invocation/$R/error\" -d '{}' "
    ">/dev/null; continue ;;\n"
    "    *) B=\"$E\" ;;\n"
    "  esac\n"
    "  curl -sS -X POST \"$API/invocation/$R/response\" --data-binary \"$B\" >/dev/null\n"
    "done\n";

static void test_api_port_to_function_and_back(void **state)
{
    (void)state;
    char dir[64], path[128];
    snprintf(dir, sizeof(dir), "/tmp/haar-test-apigw-%d", (int)getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof(path), "%s/bootstrap", dir);
    FILE *f = fopen(path, "w");
    fputs(script, f);
    fclose(f);
    chmod(path, 0755);
    srv = http_server_new();
    profile = http_profile_new(srv, 8 << 20, 60000);
    struct lambda_options o = {.region = "eu-west-1",
                               .state_dir = dir,
                               .aws_port = 1,
                               .account_concurrency = 10,
                               .idle_seconds = 60};
    struct lambda_host host = {NULL, h_listen, h_unlisten, h_watch, h_unwatch};
    char msg[256];
    struct lambda *lm = lambda_new(&o, &host, NULL, NULL, msg, sizeof msg);
    assert_non_null(lm);
    struct lambda_fn_spec spec = {
        .name = "gw-api", .runtime = "provided.al2023", .timeout = 5, .memory = 256, .dir = dir};
    assert_int_equal(lambda_fn_provision(lm, &spec, msg, sizeof(msg)), ERR_OK);
    struct apigw gw = {.lambda = lm, .function = "gw-api", .region = "eu-west-1"};
    struct http_listener *api_l, *aws_l;
    uint16_t api_port, aws_port;
    struct http_listen_opts lo = {.profile = profile};
    assert_int_equal(http_listen(srv, 0, &lo, apigw_handle, &gw, &api_l, &api_port), 0);
    gw.api_port = api_port;
    struct router rt = {.region = "eu-west-1"};
    assert_int_equal(http_listen(srv, 0, &lo, router_handle, &rt, &aws_l, &aws_port), 0);
    struct lambda_rest rest;
    struct proto_service svc;
    lambda_rest_init(&rest, lm, "eu-west-1", aws_port);
    lambda_rest_service(&rest, &svc);
    assert_int_equal(router_add_service(&rt, &svc), 0);
    char kerr[128];
    assert_int_equal(router_set_keys(&rt, NULL, kerr, sizeof(kerr)), 0);
    char url[256];

    /* echo: the function returns the event itself (valid JSON without statusCode → 200) */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo/x?b=2&a=1&a=3", api_port);
    struct call c1 = {.url = url, .body = "hello"};
    run_call(lm, &c1);
    assert_int_equal(c1.status, 200);
    assert_non_null(strstr(c1.resp.data, "\"version\":\"2.0\""));
    assert_non_null(strstr(c1.resp.data, "\"rawPath\":\"/echo/x\""));
    assert_non_null(strstr(c1.resp.data, "\"rawQueryString\":\"b=2&a=1&a=3\""));
    assert_non_null(strstr(c1.resp.data, "\"a\":\"1,3\""));
    assert_non_null(strstr(c1.resp.data, "\"cookies\":[\"a=1\",\"b=2\"]"));
    assert_non_null(strstr(c1.resp.data, "\"method\":\"POST\""));
    assert_non_null(strstr(c1.resp.data, "\"body\":\"hello\""));
    assert_null(strstr(c1.resp.data, "\"cookie\":")); /* moved to cookies[] */

    /* a full response object: status, headers, cookies, body */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/teapot", api_port);
    struct call c2 = {.url = url};
    run_call(lm, &c2);
    assert_int_equal(c2.status, 418);
    assert_string_equal(c2.resp.data, "short and stout");
    assert_non_null(strcasestr(c2.headers.data, "x-kind: tea"));
    assert_non_null(strcasestr(c2.headers.data, "set-cookie: c=1"));

    /* a function error is a 500 with API Gateway's body */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/error", api_port);
    struct call c3 = {.url = url};
    run_call(lm, &c3);
    assert_int_equal(c3.status, 500);
    assert_string_equal(c3.resp.data, "{\"message\":\"Internal Server Error\"}");

    /* the AWS port: REST Invoke and health */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/2015-03-31/functions/gw-api/invocations",
             aws_port);
    struct call c4 = {.url = url, .body = "{\"rawPath\":\"/plain\"}", .sign = true};
    run_call(lm, &c4);
    assert_int_equal(c4.status, 200);
    assert_string_equal(c4.resp.data, "[1,2,3]");
    assert_non_null(strcasestr(c4.headers.data, "x-amz-executed-version: $LATEST"));
    /* a request signed with a session token AWS never issued, for the long-term key */
    struct call c5 = {.url = url, .body = "{}", .sign = true};
    setenv("HAAR_TEST_TOKEN", "1", 1);
    run_call(lm, &c5);
    unsetenv("HAAR_TEST_TOKEN");
    assert_int_equal(c5.status, 403);
    assert_non_null(strcasestr(c5.headers.data, "x-amzn-errortype: UnrecognizedClient"));
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/nothing/here", aws_port);
    struct call c6 = {.url = url, .sign = true};
    run_call(lm, &c6);
    assert_int_equal(c6.status, 404);
    /* unsigned: refused before anything runs */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/2015-03-31/functions/gw-api/invocations",
             aws_port);
    struct call c7 = {.url = url, .body = "{}"};
    run_call(lm, &c7);
    assert_int_equal(c7.status, 403);
    assert_non_null(strcasestr(c7.headers.data, "x-amzn-errortype: MissingAuthenticationToken"));

    lambda_free(lm);
    http_listener_close(api_l);
    http_listener_close(aws_l);
    struct buf *bufs[] = {&c1.resp, &c1.headers, &c2.resp, &c2.headers, &c3.resp, &c3.headers,
                          &c4.resp, &c4.headers, &c5.resp, &c5.headers, &c6.resp, &c6.headers,
                          &c7.resp, &c7.headers};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        buf_destroy(bufs[i]);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_port_to_function_and_back),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
