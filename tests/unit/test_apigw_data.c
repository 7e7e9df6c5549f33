/*
 * Unit tests: the API Gateway engine's conformance cases, as data (STYLE.md rule 14).
 *
 * Replays every file under $HAAR_SOURCE_DIR/tests/data/apigw/:
 *   route/NAME.json    {"routes":[keys], "validate":[{"key","ok","message"?}],
 *                     "stages":[names], "has_default":bool,
 *                     "cases":[{"method","path","route"|null,"params"?,"stage"?,"bad_path"?}]}
 *   event/NAME.json    {"cases":[{"name","version":"2.0"|"1.0","request":{...},"ctx":{...},
 *                     "expect":{event}|"expect_error":"bad_escape"}]}
 *   response/NAME.json {"cases":[{"name","format":"2.0"|"1.0"|"url","output":"raw text",
 *                     "status","headers":[[n,v],...],"body"|"body_b64","malformed"?}]}
 * Every mismatch of every case is printed before the test fails, so one run shows them all.
 */
#include <dirent.h>
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

#include "cloud/apigw/event.h"
#include "cloud/apigw/response.h"
#include "cloud/apigw/route.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/json.h"

static int failures;

static void fail_case(const char *file, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail_case(const char *file, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s [%s]: ", file, name ? name : "?");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    failures++;
}

typedef void (*file_fn)(const char *file, json_t *doc);

/* Runs fn on every .json file of tests/data/apigw/<kind>; returns how many files. */
static int each_file(const char *kind, file_fn fn)
{
    const char *src = getenv("HAAR_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/apigw/%s", src && *src ? src : ".", kind);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        json_error_t je;
        json_t *doc = json_load_file(path, JSON_ALLOW_NUL, &je);
        if (doc == NULL) {
            fail_case(e->d_name, "load", "%s line %d", je.text, je.line);
            continue;
        }
        fn(e->d_name, doc);
        json_decref(doc);
        n++;
    }
    closedir(d);
    return n;
}

/* ---- routes ---- */

static void route_file(const char *file, json_t *doc)
{
    struct apigw_routes *rt = apigw_routes_new();
    assert_non_null(rt);
    size_t i;
    json_t *v;
    char msg[512];
    json_array_foreach(json_object_get(doc, "routes"), i, v)
    {
        const char *k = json_string_value(v);
        if (apigw_routes_add(rt, k, strlen(k), (void *)k, msg, sizeof msg) != APIGW_OK)
            fail_case(file, k, "add refused: %s", msg);
    }
    json_array_foreach(json_object_get(doc, "validate"), i, v)
    {
        const char *k = jsonh_str(v, "key", "");
        bool ok = json_is_true(json_object_get(v, "ok"));
        int rc = apigw_route_key_validate(k, strlen(k), msg, sizeof msg);
        if ((rc == APIGW_OK) != ok)
            fail_case(file, k, "validate gave %d (%s), want ok=%d", rc, msg, ok);
        const char *want = jsonh_str(v, "message", NULL);
        if (want != NULL && strcmp(want, msg) != 0)
            fail_case(file, k, "message '%s', want '%s'", msg, want);
    }
    json_t *stages = json_object_get(doc, "stages");
    const char *names[16];
    size_t nst = 0;
    json_array_foreach(stages, i, v) if (nst < 16) names[nst++] = json_string_value(v);
    bool has_default = !json_is_false(json_object_get(doc, "has_default"));
    struct apigw_match m;
    apigw_match_init(&m);
    json_array_foreach(json_object_get(doc, "cases"), i, v)
    {
        const char *method = jsonh_str(v, "method", "GET");
        const char *path = jsonh_str(v, "path", "/");
        char name[512];
        snprintf(name, sizeof name, "%s %s", method, path);
        const char *rest = path;
        size_t rest_len = strlen(path);
        int st = apigw_stage_select(names, nst, has_default, path, strlen(path), &rest,
                                    &rest_len);
        const char *want_stage = jsonh_str(v, "stage", NULL);
        if (want_stage != NULL) {
            const char *got = st >= 0 ? names[st] : st == -1 ? "$default" : "none";
            if (strcmp(got, want_stage) != 0) {
                fail_case(file, name, "stage %s, want %s", got, want_stage);
                continue;
            }
        }
        if (st == -2)
            continue;
        enum apigw_route_status rs =
            apigw_routes_match(rt, method, strlen(method), rest, rest_len, &m);
        json_t *want = json_object_get(v, "route");
        if (json_is_true(json_object_get(v, "bad_path"))) {
            if (rs != APIGW_ROUTE_BAD_PATH)
                fail_case(file, name, "status %d, want BAD_PATH", rs);
            continue;
        }
        if (json_is_null(want) || want == NULL) {
            if (rs != APIGW_ROUTE_NOT_FOUND)
                fail_case(file, name, "matched %s, want none", m.route_key);
            continue;
        }
        if (rs != APIGW_ROUTE_FOUND || strcmp(m.route_key, json_string_value(want)) != 0) {
            fail_case(file, name, "matched %s (status %d), want %s",
                      m.route_key ? m.route_key : "nothing", rs, json_string_value(want));
            continue;
        }
        json_t *params = json_object_get(v, "params");
        size_t np = params ? json_object_size(params) : 0;
        if (np != m.nparams)
            fail_case(file, name, "%zu params, want %zu", m.nparams, np);
        for (size_t k = 0; k < m.nparams; k++) {
            json_t *pv = json_object_get(params, m.params[k].name);
            if (!json_is_string(pv) || json_string_length(pv) != m.params[k].value_len ||
                memcmp(json_string_value(pv), m.params[k].value, m.params[k].value_len) != 0)
                fail_case(file, name, "param %s = '%.*s'", m.params[k].name,
                          (int)m.params[k].value_len, m.params[k].value);
        }
    }
    apigw_match_destroy(&m);
    apigw_routes_free(rt);
}

static void test_routes(void **state)
{
    (void)state;
    failures = 0;
    assert_true(each_file("route", route_file) > 0);
    assert_int_equal(failures, 0);
}

/* ---- events ---- */

static struct apigw_kv *kv_list(json_t *pairs, size_t *n)
{
    *n = json_array_size(pairs);
    struct apigw_kv *kv = calloc(*n ? *n : 1, sizeof *kv);
    assert_non_null(kv);
    size_t i;
    json_t *p;
    json_array_foreach(pairs, i, p)
    {
        json_t *a = json_array_get(p, 0), *b = json_array_get(p, 1);
        kv[i] = (struct apigw_kv){json_string_value(a), json_string_length(a),
                                  json_string_value(b), json_string_length(b)};
    }
    return kv;
}

static void event_file(const char *file, json_t *doc)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *name = jsonh_str(c, "name", "?");
        json_t *rq = json_object_get(c, "request");
        json_t *cx = json_object_get(c, "ctx");
        struct apigw_request req;
        memset(&req, 0, sizeof req);
        json_t *jm = json_object_get(rq, "method"), *jp = json_object_get(rq, "path"),
               *jq = json_object_get(rq, "query"), *jb = json_object_get(rq, "body"),
               *jh = json_object_get(rq, "host");
        req.method = json_string_value(jm);
        req.method_len = json_string_length(jm);
        req.path = json_string_value(jp);
        req.path_len = json_string_length(jp);
        req.query = json_string_value(jq);
        req.query_len = jq ? json_string_length(jq) : 0;
        size_t nh;
        struct apigw_kv *hs = kv_list(json_object_get(rq, "headers"), &nh);
        req.headers = hs;
        req.nheaders = nh;
        struct buf body;
        buf_init(&body, 1u << 20);
        const char *b64 = jsonh_str(rq, "body_b64", NULL);
        if (b64 != NULL) {
            assert_int_equal(codec_b64_decode(b64, strlen(b64), &body), 0);
            req.body = body.data;
            req.body_len = body.len;
        } else if (jb != NULL) {
            req.body = json_string_value(jb);
            req.body_len = json_string_length(jb);
        }
        req.source_ip = jsonh_str(rq, "source_ip", "127.0.0.1");
        req.host = json_string_value(jh);
        req.host_len = jh ? json_string_length(jh) : 0;
        req.protocol = jsonh_str(rq, "protocol", "HTTP/1.1");
        long long t = 0;
        jsonh_int(rq, "time_ms", &t);
        req.time_ms = t;
        size_t npp, nsv;
        struct apigw_kv *pp = kv_list(json_object_get(cx, "path_params"), &npp);
        struct apigw_kv *sv = kv_list(json_object_get(cx, "stage_vars"), &nsv);
        struct apigw_event_ctx ctx = {
            .account_id = jsonh_str(cx, "account_id", "000000000000"),
            .api_id = jsonh_str(cx, "api_id", "a1b2c3d4e5"),
            .domain_name = jsonh_str(cx, "domain_name", "a1b2c3d4e5.execute-api.localhost"),
            .domain_prefix = jsonh_str(cx, "domain_prefix", "a1b2c3d4e5"),
            .stage = jsonh_str(cx, "stage", "$default"),
            .route_key = jsonh_str(cx, "route_key", "$default"),
            .resource = jsonh_str(cx, "resource", "$default"),
            .request_id = jsonh_str(cx, "request_id", "req-1"),
            .trace_id = jsonh_str(cx, "trace_id", NULL),
            .forwarded_port = jsonh_str(cx, "forwarded_port", NULL),
            .forwarded_proto = jsonh_str(cx, "forwarded_proto", NULL),
            .path_params = pp,
            .npath_params = npp,
            .stage_vars = sv,
            .nstage_vars = nsv,
            .authorizer_json = jsonh_str(cx, "authorizer_json", NULL),
        };
        struct buf out;
        buf_init(&out, 1u << 22);
        bool v1 = strcmp(jsonh_str(c, "version", "2.0"), "1.0") == 0;
        int rc = v1 ? apigw_event_v1(&req, &ctx, &out) : apigw_event_v2(&req, &ctx, &out);
        const char *want_err = jsonh_str(c, "expect_error", NULL);
        if (want_err != NULL) {
            if (rc != APIGW_EBADESCAPE)
                fail_case(file, name, "rc %d, want %s", rc, want_err);
        } else if (rc != APIGW_OK) {
            fail_case(file, name, "rc %d", rc);
        } else {
            char err[256];
            json_t *got = jsonh_parse(out.data, out.len, err, sizeof err);
            if (got == NULL)
                fail_case(file, name, "not JSON (%s): %s", err, out.data);
            else if (!json_equal(got, json_object_get(c, "expect")))
                fail_case(file, name, "event differs:\n  got  %s", out.data);
            json_decref(got);
        }
        buf_destroy(&out);
        buf_destroy(&body);
        free(hs);
        free(pp);
        free(sv);
    }
}

static void test_events(void **state)
{
    (void)state;
    failures = 0;
    assert_true(each_file("event", event_file) > 0);
    assert_int_equal(failures, 0);
}

/* ---- responses ---- */

static void response_file(const char *file, json_t *doc)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *name = jsonh_str(c, "name", "?");
        const char *f = jsonh_str(c, "format", "2.0");
        enum apigw_payload fmt = strcmp(f, "1.0") == 0   ? APIGW_PAYLOAD_V1
                                 : strcmp(f, "url") == 0 ? APIGW_PAYLOAD_URL
                                                         : APIGW_PAYLOAD_V2;
        json_t *o = json_object_get(c, "output");
        struct apigw_response r;
        apigw_response_init(&r);
        int rc = apigw_response_map(&r, fmt, json_string_value(o), json_string_length(o));
        bool malformed = json_is_true(json_object_get(c, "malformed"));
        if ((rc == APIGW_RESP_MALFORMED) != malformed || (rc != APIGW_OK && !malformed))
            fail_case(file, name, "rc %d (%s), want malformed=%d", rc,
                      r.error ? r.error : "", malformed);
        long long st = 0;
        jsonh_int(c, "status", &st);
        if (r.status != st)
            fail_case(file, name, "status %d, want %lld", r.status, st);
        json_t *hs = json_object_get(c, "headers");
        if (hs != NULL) {
            if (json_array_size(hs) != r.nheaders)
                fail_case(file, name, "%zu headers, want %zu", r.nheaders,
                          json_array_size(hs));
            for (size_t k = 0; k < r.nheaders && k < json_array_size(hs); k++) {
                json_t *p = json_array_get(hs, k);
                const char *wn = json_string_value(json_array_get(p, 0));
                json_t *wv = json_array_get(p, 1);
                if (strlen(wn) != r.headers[k].name_len ||
                    memcmp(wn, r.headers[k].name, r.headers[k].name_len) != 0 ||
                    json_string_length(wv) != r.headers[k].value_len ||
                    memcmp(json_string_value(wv), r.headers[k].value, r.headers[k].value_len))
                    fail_case(file, name, "header %zu is %.*s: %.*s, want %s: %s", k,
                              (int)r.headers[k].name_len, r.headers[k].name,
                              (int)r.headers[k].value_len, r.headers[k].value, wn,
                              json_string_value(wv));
            }
        }
        struct buf want;
        buf_init(&want, 1u << 20);
        const char *b64 = jsonh_str(c, "body_b64", NULL);
        json_t *jb = json_object_get(c, "body");
        if (b64 != NULL)
            codec_b64_decode(b64, strlen(b64), &want);
        else if (jb != NULL)
            buf_append(&want, json_string_value(jb), json_string_length(jb));
        if ((b64 != NULL || jb != NULL) &&
            (want.len != r.body.len || (want.len && memcmp(want.data, r.body.data, want.len))))
            fail_case(file, name, "body '%.*s', want '%.*s'", (int)r.body.len,
                      r.body.data ? r.body.data : "", (int)want.len, want.data ? want.data : "");
        buf_destroy(&want);
        apigw_response_destroy(&r);
    }
}

static void test_responses(void **state)
{
    (void)state;
    failures = 0;
    assert_true(each_file("response", response_file) > 0);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
