/* Unit tests: the presigned download of a function's package (GetFunction's Code.Location,
 * issue 7 item 12). URLs are signed here with the adapter's own key at chosen times, so
 * expiry is tested without waiting: a signature that holds reaches the function lookup
 * (404 for a function that does not exist), every other one is refused 403. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/sigv4.h"

enum { PORT = 4566 };

struct answer {
    int status;
    int calls;
};

static void fake_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                         const void *body, size_t len)
{
    (void)hdrs;
    (void)n;
    (void)body;
    (void)len;
    struct answer *a = r->conn;
    a->status = status;
    a->calls++;
}

static void fake_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg)
{
    (void)r;
    (void)fn;
    (void)arg;
}

static const struct proto_conn_ops ops = {.respond = fake_respond, .on_gone = fake_on_gone};

static int fake_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    (void)arg;
    (void)env;
    (void)port;
    (void)listener;
    return -1;
}
static void fake_unlisten(void *arg, void *l)
{
    (void)arg;
    (void)l;
}
static void *fake_watch(void *arg, int fd, void (*on_data)(void *, const char *, size_t), void *c)
{
    (void)arg;
    (void)fd;
    (void)on_data;
    (void)c;
    return NULL;
}
static void fake_unwatch(void *h)
{
    (void)h;
}

/* One case: who signs, when (seconds before now), for how long, what is then changed. */
struct url_case {
    const char *what;
    const char *method;
    const char *path;  /* signed */
    const char *asked; /* requested (NULL: the signed path) */
    bool own_key;      /* signed with the adapter's key, else with test/test */
    long signed_ago_s; /* negative: in the future */
    long expires_s;
    const char *host; /* Host sent (NULL: the one signed) */
    int status;
};

static const struct url_case cases[] = {
    {"fresh, for a function that does not exist", "GET", "/_haar/lambda/code/nope", NULL, true, 0,
     600, NULL, 404},
    {"nine minutes old", "GET", "/_haar/lambda/code/nope", NULL, true, 540, 600, NULL, 404},
    {"eleven minutes old (AWS: 10 minutes)", "GET", "/_haar/lambda/code/nope", NULL, true, 660, 600,
     NULL, 403},
    {"X-Amz-Expires=1, signed 2 s ago", "GET", "/_haar/lambda/code/nope", NULL, true, 2, 1, NULL,
     403},
    {"signed with the account's keys, not the URL key", "GET", "/_haar/lambda/code/nope", NULL,
     false, 0, 600, NULL, 403},
    {"another function's path", "GET", "/_haar/lambda/code/nope", "/_haar/lambda/code/other", true,
     0, 600, NULL, 403},
    {"another host", "GET", "/_haar/lambda/code/nope", NULL, true, 0, 600, "evil:4566", 403},
    {"POST", "POST", "/_haar/lambda/code/nope", NULL, true, 0, 600, NULL, 403},
    {"signed an hour in the future", "GET", "/_haar/lambda/code/nope", NULL, true, -3600, 600, NULL,
     403},
};

static void test_presigned_urls(void **state)
{
    (void)state;
    struct lambda_options o = {.region = "eu-west-1", .state_dir = "/tmp", .aws_port = PORT};
    struct lambda_host h = {NULL, fake_listen, fake_unlisten, fake_watch, fake_unwatch};
    char err[256];
    struct lambda *lm = lambda_new(&o, &h, NULL, NULL, err, sizeof err);
    assert_non_null(lm);
    struct lambda_rest rs;
    lambda_rest_init(&rs, lm, "eu-west-1", PORT, 8080);
    char host[32];
    snprintf(host, sizeof host, "127.0.0.1:%d", PORT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct url_case *c = &cases[i];
        struct buf q;
        buf_init(&q, 4096);
        int64_t at = clock_real_now_ms() - (int64_t)c->signed_ago_s * 1000;
        assert_int_equal(sigv4_presign(c->method, host, c->path,
                                       c->own_key ? rs.presign_key : "test",
                                       c->own_key ? rs.presign_secret : "test", "eu-west-1",
                                       "lambda", at, c->expires_s, &q),
                         0);
        const char *path = c->asked ? c->asked : c->path;
        const char *auth = c->host ? c->host : host;
        struct answer a = {0};
        struct proto_req r = {.method = c->method,
                              .method_len = strlen(c->method),
                              .path = path,
                              .path_len = strlen(path),
                              .query = q.data,
                              .query_len = q.len,
                              .body = "",
                              .authority = auth,
                              .authority_len = strlen(auth),
                              .ops = &ops,
                              .conn = &a};
        lambda_rest_code_download(&rs, &r);
        if (a.calls != 1 || a.status != c->status)
            fail_msg("%s: answered %d (%d answers), expected %d", c->what, a.status, a.calls,
                     c->status);
        buf_destroy(&q);
    }
    lambda_free(lm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presigned_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
