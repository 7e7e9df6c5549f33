/*
 * Unit tests: the whole local path on a real loop — API port → gateway engine → a real
 * function process → the answer — and the management API and Lambda REST on the AWS router.
 *
 * The function is this very executable: started with AWS_LAMBDA_RUNTIME_API set (by the
 * Lambda engine, through a `bootstrap` symlink), main() runs it as a function on haar's C
 * runtime client. It records each event it gets in $EVENT_FILE and answers with the event
 * itself, or with the bytes of the request's x-test-output header (base64), or fails
 * (path .../error), or sleeps past the integration timeout (path .../sleep). As a Lambda
 * authorizer (an event of type REQUEST) it allows the identity "allow".
 *
 * The request → event → answer cases are data: the files of tests/data/apigw/gateway, replayed
 * through the environment's API (see gateway_file). A client thread drives libcurl while the
 * test's main thread runs the loop.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "cloud/apigw/apigw.h"
#include "cloud/apigw/proto_gateway.h"
#include "cloud/apigw/proto_rest.h"
#include "cloud/fetch.h"
#include "cloud/http/http.h"
#include "cloud/http/router.h"
#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "cloud/lambda/proto_runtime.h"
#include "cloud/logs/logs.h"
#include "cloud/store/store.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/timer.h"
#include "core/work.h"
#include "runtime/runtime.h"

/* ---- the function side (this executable, started by the Lambda engine) ---- */

static int fn_handler(const struct runtime_invocation *inv, const char *event, size_t len,
                      struct buf *out, struct runtime_error *err)
{
    (void)inv;
    json_t *ev = json_loadb(event, len, JSON_ALLOW_NUL, NULL);
    const char *file = getenv("EVENT_FILE");
    FILE *f = file ? fopen(file, "wb") : NULL;
    if (f != NULL) {
        fwrite(event, 1, len, f);
        fclose(f);
    }
    if (strcmp(jsonh_str(ev, "type", ""), "REQUEST") == 0) { /* a Lambda authorizer */
        json_t *src = json_object_get(ev, "identitySource");
        const char *who = json_string_value(json_array_get(src, 0));
        bool ok = who != NULL && strcmp(who, "allow") == 0;
        json_decref(ev);
        return buf_printf(out, "{\"isAuthorized\":%s,\"context\":{\"who\":\"tester\"}}",
                          ok ? "true" : "false") == BUF_OK
                   ? 0
                   : -1;
    }
    const char *path = jsonh_str(ev, "rawPath", jsonh_str(ev, "path", ""));
    json_t *hdrs = json_object_get(ev, "headers");
    const char *want = jsonh_str(hdrs, "x-test-output", NULL);
    size_t pl = strlen(path);
    int rc = 0;
    if (pl >= 6 && strcmp(path + pl - 6, "/error") == 0) {
        rc = runtime_error_set(err, "Test.Error", "asked to fail");
    } else if (pl >= 6 && strcmp(path + pl - 6, "/sleep") == 0) {
        usleep(1500 * 1000);
        rc = buf_puts(out, "{}") == BUF_OK ? 0 : -1;
    } else if (want != NULL) {
        rc = codec_b64_decode(want, strlen(want), out) == BUF_OK ? 0 : -1;
    } else {
        rc = buf_append(out, event, len) == BUF_OK ? 0 : -1;
    }
    json_decref(ev);
    return rc;
}

/* ---- the loop side ---- */

static struct http_server *srv;
static struct http_profile *profile;
static struct lambda *lm;
static struct store *st;
static struct logs *lg;
static struct apigw *gw;
static struct router rt;
static uint16_t api_port, aws_port;
static char dir[128], event_file[192];

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
static void api_handle(void *arg, struct proto_req *r)
{
    (void)arg;
    apigw_gateway_handle(gw, r);
}

static void h_fetch(void *arg, const char *url, size_t max,
                    void (*done)(void *, int, const char *, size_t), void *cbarg)
{
    (void)arg;
    fetch_url(url, max, done, cbarg);
}

struct call {
    const char *method;
    const char *url;
    const char *body;
    size_t body_len;
    struct curl_slist *headers;
    const char *sign; /* SigV4 service for the AWS port, or NULL */
    long status;
    struct buf resp;
    struct buf head;
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
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &c->head);
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    struct curl_slist *hd = c->headers;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (c->body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
    }
    if (c->method != NULL)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
    char sig[64];
    if (c->sign != NULL) {
        snprintf(sig, sizeof sig, "aws:amz:eu-west-1:%s", c->sign);
        curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sig);
        curl_easy_setopt(h, CURLOPT_USERPWD, "test:test");
    }
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    c->done = 1;
    return NULL;
}

static void loop_once(int max_ms)
{
    int64_t wait = timer_wait_ms();
    http_run(srv, wait < 0 || wait > max_ms ? max_ms : wait);
    timer_run_due();
    work_poll();
    store_poll(st);
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        lambda_child_exited(lm, pid, status);
}

/* Runs c to its end; its buffers are the caller's to destroy (call_destroy). */
static void run_call(struct call *c)
{
    pthread_t t;
    buf_init(&c->resp, 16 << 20);
    buf_init(&c->head, 1 << 16);
    c->done = 0;
    c->status = 0;
    pthread_create(&t, NULL, client, c);
    for (int i = 0; i < 6000 && !c->done; i++)
        loop_once(5);
    pthread_join(t, NULL);
    buf_append(&c->resp, "", 0);
    buf_append(&c->head, "", 0);
}

static void call_destroy(struct call *c)
{
    buf_destroy(&c->resp);
    buf_destroy(&c->head);
}

/* The value of a response header (first), into out; false when absent. */
static bool resp_header(const struct call *c, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = c->head.data;
    while (p != NULL && *p) {
        const char *eol = strstr(p, "\r\n");
        if (eol == NULL)
            break;
        if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(eol - v), v);
            return true;
        }
        p = eol + 2;
    }
    return false;
}

static int count_header(const struct call *c, const char *name)
{
    int n = 0;
    size_t nl = strlen(name);
    for (const char *p = c->head.data; p && (p = strcasestr(p, name)) != NULL; p += nl)
        if ((p == c->head.data || p[-1] == '\n') && p[nl] == ':')
            n++;
    return n;
}

/* ---- fixtures ---- */

static void setup_world(void)
{
    char exe[PATH_MAX], path[256], msg[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    snprintf(dir, sizeof dir, "/tmp/haar-test-apigw-%d", (int)getpid());
    snprintf(path, sizeof path, "%s/fn", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/fn/bootstrap", dir);
    assert_int_equal(symlink(exe, path), 0);
    snprintf(event_file, sizeof event_file, "%s/last-event.json", dir);
    srv = http_server_new();
    profile = http_profile_new(srv, 12 << 20, 60000);
    assert_int_equal(work_start(1), 0);
    st = store_open(dir, msg, sizeof msg);
    assert_non_null(st);
    lg = logs_new(dir, 0, msg, sizeof msg);
    assert_non_null(lg);
    struct lambda_options o = {.region = "eu-west-1",
                               .state_dir = dir,
                               .aws_port = 1,
                               .account_concurrency = 20,
                               .idle_seconds = 60};
    struct lambda_host host = {NULL, h_listen, h_unlisten, h_watch, h_unwatch};
    lm = lambda_new(&o, &host, lg, NULL, msg, sizeof msg);
    assert_non_null(lm);
    json_t *vars = json_pack("{s:s}", "EVENT_FILE", event_file);
    snprintf(path, sizeof path, "%s/fn", dir);
    const char *names[] = {"gw-api", "gw-auth"};
    for (int i = 0; i < 2; i++) {
        struct lambda_fn_spec spec = {.name = names[i],
                                      .runtime = "provided.al2023",
                                      .handler = "bootstrap",
                                      .timeout = 5,
                                      .memory = 2048,
                                      .env_vars = vars,
                                      .has_env = true,
                                      .dir = path};
        assert_int_equal(lambda_fn_provision(lm, &spec, msg, sizeof msg), ERR_OK);
    }
    json_decref(vars);
    struct http_listener *api_l, *aws_l;
    struct http_listen_opts lo = {.profile = profile};
    /* the API port first: the engine needs its number */
    assert_int_equal(http_listen(srv, 0, &lo, api_handle, NULL, &api_l, &api_port), 0);
    struct apigw_options go = {
        .region = "eu-west-1", .account = "000000000000", .api_port = api_port};
    struct apigw_host gh = {NULL, h_fetch};
    gw = apigw_new(&go, &gh, lm, lg, st, msg, sizeof msg);
    assert_non_null(gw);
    static const char *const routes[] = {"GET /health", "ANY /items/{id}", "GET /files/{path+}",
                                         "$default"};
    static const char *const origins[] = {"http://localhost:3000"};
    struct apigw_env_spec es = {.name = "gw-test-api",
                                .function = "gw-api",
                                .timeout_ms = 1000,
                                .route_keys = routes,
                                .nroute_keys = 4,
                                .rate_limit = 100000,
                                .burst_limit = 100000,
                                .cors_origins = origins,
                                .ncors_origins = 1,
                                .log_group = "/aws/apigateway/gw-test-api"};
    assert_int_equal(apigw_provision_env(gw, &es, msg, sizeof msg), ERR_OK);
    apigw_restore(gw);
    rt = (struct router){.region = "eu-west-1"};
    assert_int_equal(http_listen(srv, 0, &lo, router_handle, &rt, &aws_l, &aws_port), 0);
    static struct lambda_rest rest;
    static struct proto_service svc_lambda, svc_apigw;
    lambda_rest_init(&rest, lm, "eu-west-1", aws_port, 8080);
    lambda_rest_service(&rest, &svc_lambda);
    apigw_rest_service(gw, &svc_apigw);
    assert_int_equal(router_add_service(&rt, &svc_lambda), 0);
    assert_int_equal(router_add_service(&rt, &svc_apigw), 0);
    assert_int_equal(router_set_keys(&rt, NULL, msg, sizeof msg), 0);
}

static int group_setup(void **state)
{
    (void)state;
    setup_world();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    apigw_free(gw);
    lambda_free(lm);
    logs_free(lg);
    work_stop();
    store_close(st);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the data-driven cases ---- */

static int failures;

static void fail_case(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_case(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL [%s]: ", name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

/* expected ⊆ actual: objects by member (recursively), everything else equal. */
static bool subset(const json_t *want, const json_t *have, char *where, size_t wl)
{
    if (json_is_object(want)) {
        if (!json_is_object(have)) {
            snprintf(where, wl, "not an object");
            return false;
        }
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)want, k, v)
        {
            json_t *h = json_object_get(have, k);
            if (json_is_null(v) && h == NULL)
                continue;
            if (json_is_string(v) && strcmp(json_string_value(v), "<absent>") == 0) {
                if (h != NULL) {
                    snprintf(where, wl, "%s: present", k);
                    return false;
                }
                continue;
            }
            if (json_is_string(v) && strcmp(json_string_value(v), "<any>") == 0 && h != NULL)
                continue;
            char sub[256];
            if (h == NULL || !subset(v, h, sub, sizeof sub)) {
                snprintf(where, wl, "%s%s%s", k, h ? "." : ": missing", h ? sub : "");
                return false;
            }
        }
        return true;
    }
    if (!json_equal((json_t *)want, (json_t *)have)) {
        char *a = json_dumps(want, JSON_ENCODE_ANY), *b = json_dumps(have, JSON_ENCODE_ANY);
        snprintf(where, wl, " want %s, have %s", a ? a : "?", b ? b : "?");
        free(a);
        free(b);
        return false;
    }
    return true;
}

/* "{env}" in a case's path stands for the environment API's id. */
static void expand(const char *in, char *out, size_t outlen)
{
    const char *m = strstr(in, "{env}");
    if (m == NULL)
        snprintf(out, outlen, "%s", in);
    else
        snprintf(out, outlen, "%.*s%s%s", (int)(m - in), in, apigw_env_api_id(gw), m + 5);
}

static void one_case(const json_t *c)
{
    const char *name = jsonh_str(c, "name", "?");
    json_t *rq = json_object_get(c, "request");
    char url[4096], path[2048];
    expand(jsonh_str(rq, "path", "/"), path, sizeof path);
    const char *q = jsonh_str(rq, "query", NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s%s%s", api_port, path, q ? "?" : "",
             q ? q : "");
    struct call k = {.url = url, .method = jsonh_str(rq, "method", "GET")};
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(rq, "headers"), i, h)
    {
        char line[8192];
        expand(json_string_value(json_array_get(h, 1)), path, sizeof path);
        snprintf(line, sizeof line, "%s: %s", json_string_value(json_array_get(h, 0)), path);
        k.headers = curl_slist_append(k.headers, line);
    }
    const char *output = jsonh_str(c, "output", NULL);
    struct buf b64, body;
    buf_init(&b64, 1 << 20);
    buf_init(&body, 16 << 20);
    if (output != NULL) {
        codec_b64_encode(output, strlen(output), &b64);
        buf_printf(&body, "x-test-output: %s", b64.data);
        k.headers = curl_slist_append(k.headers, body.data);
        buf_reset(&body);
    }
    const char *text = jsonh_str(rq, "body", NULL);
    const char *bb = jsonh_str(rq, "body_b64", NULL);
    long long repeat = 0;
    if (text != NULL)
        buf_puts(&body, text);
    else if (bb != NULL)
        codec_b64_decode(bb, strlen(bb), &body);
    else if (jsonh_int(rq, "body_bytes", &repeat) == 1)
        for (long long r = 0; r < repeat; r++)
            buf_append(&body, "a", 1);
    if (text || bb || repeat) {
        buf_append(&body, "", 0);
        k.body = body.data;
        k.body_len = body.len;
    }
    unlink(event_file);
    run_call(&k);
    json_t *want = json_object_get(c, "expect");
    char where[512];
    long long status = 0;
    jsonh_int(want, "status", &status);
    if (k.status != status)
        fail_case(name, "status %ld, want %lld (body %.300s)", k.status, status, k.resp.data);
    if (!resp_header(&k, "apigw-requestid", where, sizeof where))
        fail_case(name, "no apigw-requestid");
    const char *hk;
    json_t *hv;
    json_object_foreach(json_object_get(want, "headers"), hk, hv)
    {
        char got[4096];
        bool has = resp_header(&k, hk, got, sizeof got);
        if (json_is_null(hv) && has)
            fail_case(name, "header %s present (%s)", hk, got);
        else if (json_is_string(hv) && (!has || strcmp(got, json_string_value(hv)) != 0))
            fail_case(name, "header %s: '%s', want '%s'", hk, has ? got : "(absent)",
                      json_string_value(hv));
        else if (json_is_integer(hv) && count_header(&k, hk) != json_integer_value(hv))
            fail_case(name, "header %s appears %d times, want %lld", hk, count_header(&k, hk),
                      (long long)json_integer_value(hv));
    }
    const char *wb = jsonh_str(want, "body", NULL);
    if (wb != NULL && strcmp(k.resp.data, wb) != 0)
        fail_case(name, "body '%.300s', want '%s'", k.resp.data, wb);
    const char *wb64 = jsonh_str(want, "body_b64", NULL);
    if (wb64 != NULL) {
        buf_reset(&b64);
        codec_b64_encode(k.resp.data, k.resp.len, &b64);
        if (strcmp(b64.data ? b64.data : "", wb64) != 0)
            fail_case(name, "body (base64) %s, want %s", b64.data, wb64);
    }
    json_t *ev = json_object_get(c, "event");
    if (ev != NULL) {
        json_t *got = json_load_file(event_file, JSON_ALLOW_NUL, NULL);
        if (got == NULL)
            fail_case(name, "the function saw no event");
        else if (!subset(ev, got, where, sizeof where))
            fail_case(name, "event: %s", where);
        json_decref(got);
    } else if (json_is_true(json_object_get(c, "no_event")) && access(event_file, F_OK) == 0) {
        fail_case(name, "the function was invoked");
    }
    buf_destroy(&b64);
    buf_destroy(&body);
    call_destroy(&k);
}

static void test_gateway_cases(void **state)
{
    (void)state;
    const char *src = getenv("HAAR_SOURCE_DIR");
    char d[4096];
    snprintf(d, sizeof d, "%s/tests/data/apigw/gateway", src && *src ? src : ".");
    DIR *dh = opendir(d);
    assert_non_null(dh);
    struct dirent *e;
    int files = 0, cases = 0;
    while ((e = readdir(dh)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        json_error_t je;
        json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &je);
        if (doc == NULL) {
            fail_case(e->d_name, "%s line %d", je.text, je.line);
            continue;
        }
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(doc, "cases"), i, c)
        {
            one_case(c);
            cases++;
        }
        json_decref(doc);
        files++;
    }
    closedir(dh);
    printf("gateway cases: %d in %d files, %d failures\n", cases, files, failures);
    assert_true(cases > 0);
    assert_int_equal(failures, 0);
}

/* ---- the access log ---- */

static void test_access_log(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/health?probe=accesslog", api_port);
    struct call k = {.url = url};
    run_call(&k);
    assert_int_equal(k.status, 200);
    call_destroy(&k);
    logs_flush(lg);
    struct buf out;
    buf_init(&out, 1 << 22);
    int status = 0;
    const char *q = "{\"logGroupName\":\"/aws/apigateway/gw-test-api\"}";
    assert_int_equal(logs_api_handle(lg, "FilterLogEvents", q, strlen(q), &status, &out), 0);
    assert_int_equal(status, 200);
    /* the layers' format: JSON with the request's $context values */
    assert_non_null(strstr(out.data, "\\\"routeKey\\\":\\\"GET /health\\\""));
    assert_non_null(strstr(out.data, "\\\"status\\\":\\\"200\\\""));
    assert_non_null(strstr(out.data, "\\\"path\\\":\\\"/health\\\""));
    buf_destroy(&out);
}

/* ---- the management API, a created API by Host and by path, and permissions ---- */

static json_t *aws_call(const char *method, const char *path, const char *body, const char *svc,
                        long want)
{
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", aws_port, path);
    struct call k = {.method = method,
                     .url = url,
                     .body = body,
                     .body_len = body ? strlen(body) : 0,
                     .sign = svc};
    k.headers = curl_slist_append(NULL, "Content-Type: application/json");
    run_call(&k);
    if (k.status != want)
        printf("%s %s → %ld: %s\n", method, path, k.status, k.resp.data);
    assert_int_equal(k.status, want);
    json_t *j = k.resp.len ? json_loadb(k.resp.data, k.resp.len, 0, NULL) : json_object();
    call_destroy(&k);
    return j;
}

/* A GET on the API port; the test function answers payload 1.0's structured form. */
static struct call *api_get(const char *url, const char *host, struct call *k)
{
    *k = (struct call){.url = url};
    if (host != NULL) {
        char h[300];
        snprintf(h, sizeof h, "Host: %s", host);
        k->headers = curl_slist_append(NULL, h);
    }
    /* {"statusCode":200,"body":"v1 ok"} */
    k->headers = curl_slist_append(k->headers,
                                   "x-test-output: eyJzdGF0dXNDb2RlIjoyMDAsImJvZHkiOiJ2MSBvayJ9");
    unlink(event_file);
    run_call(k);
    return k;
}

static void test_management_api(void **state)
{
    (void)state;
    char path[512], body[2048], url[512], host[256];
    json_t *api = aws_call("POST", "/v2/apis", "{\"name\":\"unit\",\"protocolType\":\"HTTP\"}",
                           "apigateway", 201);
    const char *id = jsonh_str(api, "apiId", "");
    assert_int_equal(strlen(id), 10);
    assert_string_equal(jsonh_str(api, "routeSelectionExpression", ""),
                        "$request.method $request.path");
    snprintf(path, sizeof path, "/v2/apis/%s/integrations", id);
    json_t *ig = aws_call("POST", path,
                          "{\"integrationType\":\"AWS_PROXY\",\"integrationUri\":\"arn:aws:lambda:"
                          "eu-west-1:000000000000:function:gw-api\",\"payloadFormatVersion\":"
                          "\"1.0\"}",
                          "apigateway", 201);
    snprintf(path, sizeof path, "/v2/apis/%s/routes", id);
    snprintf(body, sizeof body, "{\"routeKey\":\"GET /v1/{x}\",\"target\":\"integrations/%s\"}",
             jsonh_str(ig, "integrationId", ""));
    json_t *route = aws_call("POST", path, body, "apigateway", 201);
    assert_string_equal(jsonh_str(route, "authorizationType", ""), "NONE");
    json_decref(aws_call("POST", path, body, "apigateway", 409)); /* the same key again */
    json_decref(aws_call("POST", path, "{\"routeKey\":\"GET pets\"}", "apigateway", 400));
    snprintf(path, sizeof path, "/v2/apis/%s/stages", id);
    json_t *stage =
        aws_call("POST", path, "{\"stageName\":\"dev\",\"autoDeploy\":true}", "apigateway", 201);
    assert_non_null(jsonh_str(stage, "deploymentId", NULL)); /* deployed at once */
    /* by Host, no permission yet: 500 */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/dev/v1/abc", api_port);
    snprintf(host, sizeof host, "%s.execute-api.localhost:%u", id, api_port);
    struct call k;
    api_get(url, host, &k);
    assert_int_equal(k.status, 500);
    assert_string_equal(k.resp.data, "{\"message\":\"Internal Server Error\"}");
    call_destroy(&k);
    /* AddPermission for this API, then it may */
    snprintf(body, sizeof body,
             "{\"StatementId\":\"unit\",\"Action\":\"lambda:InvokeFunction\",\"Principal\":"
             "\"apigateway.amazonaws.com\",\"SourceArn\":\"arn:aws:execute-api:eu-west-1:"
             "000000000000:%s/*/*\"}",
             id);
    json_t *perm = aws_call("POST", "/2015-03-31/functions/gw-api/policy", body, "lambda", 201);
    json_t *stmt = json_loads(jsonh_str(perm, "Statement", "{}"), 0, NULL);
    assert_string_equal(jsonh_str(json_object_get(stmt, "Principal"), "Service", ""),
                        "apigateway.amazonaws.com");
    json_decref(aws_call("POST", "/2015-03-31/functions/gw-api/policy", body, "lambda", 409));
    json_t *pol = aws_call("GET", "/2015-03-31/functions/gw-api/policy", NULL, "lambda", 200);
    assert_non_null(strstr(jsonh_str(pol, "Policy", ""), "\"Sid\":\"unit\""));
    api_get(url, host, &k);
    assert_int_equal(k.status, 200);
    assert_string_equal(k.resp.data, "v1 ok");
    json_t *ev = json_load_file(event_file, 0, NULL);
    assert_string_equal(jsonh_str(ev, "version", ""), "1.0");
    assert_string_equal(jsonh_str(ev, "resource", ""), "/v1/{x}");
    assert_string_equal(jsonh_str(json_object_get(ev, "pathParameters"), "x", ""), "abc");
    assert_string_equal(jsonh_str(json_object_get(ev, "requestContext"), "stage", ""), "dev");
    json_decref(ev);
    call_destroy(&k);
    /* by path */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/_aws/execute-api/%s/dev/v1/xyz", api_port, id);
    api_get(url, NULL, &k);
    assert_int_equal(k.status, 200);
    ev = json_load_file(event_file, 0, NULL);
    assert_string_equal(jsonh_str(json_object_get(ev, "pathParameters"), "x", ""), "xyz");
    json_decref(ev);
    call_destroy(&k);
    /* a stage that does not exist, and a route that does not */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/_aws/execute-api/%s/prod/v1/xyz", api_port, id);
    api_get(url, NULL, &k);
    assert_int_equal(k.status, 404);
    call_destroy(&k);
    /* the route goes: AutoDeploy redeploys, the path is not found any more */
    snprintf(path, sizeof path, "/v2/apis/%s/routes/%s", id, jsonh_str(route, "routeId", ""));
    json_decref(aws_call("DELETE", path, NULL, "apigateway", 204));
    snprintf(url, sizeof url, "http://127.0.0.1:%u/_aws/execute-api/%s/dev/v1/xyz", api_port, id);
    api_get(url, NULL, &k);
    assert_int_equal(k.status, 404);
    assert_string_equal(k.resp.data, "{\"message\":\"Not Found\"}");
    call_destroy(&k);
    /* RemovePermission; GetApi of an unknown id */
    json_decref(
        aws_call("DELETE", "/2015-03-31/functions/gw-api/policy/unit", NULL, "lambda", 204));
    json_decref(
        aws_call("DELETE", "/2015-03-31/functions/gw-api/policy/unit", NULL, "lambda", 404));
    json_decref(aws_call("GET", "/v2/apis/nope123456", NULL, "apigateway", 404));
    snprintf(path, sizeof path, "/v2/apis/%s", id);
    json_decref(aws_call("DELETE", path, NULL, "apigateway", 204));
    json_decref(aws_call("GET", path, NULL, "apigateway", 404));
    json_decref(api);
    json_decref(ig);
    json_decref(route);
    json_decref(stage);
    json_decref(perm);
    json_decref(stmt);
    json_decref(pol);
}

/* ---- Lambda REST Invoke and the router's refusals (kept from the first gateway) ---- */

static void test_aws_port(void **state)
{
    (void)state;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/2015-03-31/functions/gw-api/invocations",
             aws_port);
    struct call c4 = {.url = url, .body = "[1,2,3]", .body_len = 7, .sign = "lambda"};
    run_call(&c4);
    assert_int_equal(c4.status, 200);
    assert_string_equal(c4.resp.data, "[1,2,3]");
    assert_non_null(strcasestr(c4.head.data, "x-amz-executed-version: $LATEST"));
    call_destroy(&c4);
    /* a session token AWS never issued, for the long-term key */
    struct call c5 = {.url = url,
                      .body = "{}",
                      .body_len = 2,
                      .sign = "lambda",
                      .headers = curl_slist_append(NULL, "X-Amz-Security-Token: bogus")};
    run_call(&c5);
    assert_int_equal(c5.status, 403);
    assert_non_null(strcasestr(c5.head.data, "x-amzn-errortype: UnrecognizedClient"));
    call_destroy(&c5);
    /* unsigned: refused before anything runs */
    struct call c7 = {.url = url, .body = "{}", .body_len = 2};
    run_call(&c7);
    assert_int_equal(c7.status, 403);
    assert_non_null(strcasestr(c7.head.data, "x-amzn-errortype: MissingAuthenticationToken"));
    call_destroy(&c7);
}

int main(void)
{
    if (getenv("AWS_LAMBDA_RUNTIME_API") != NULL) /* started as the test function */
        return runtime_main(NULL, fn_handler, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gateway_cases),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_management_api),
        cmocka_unit_test(test_aws_port),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    curl_global_cleanup();
    return rc;
}
