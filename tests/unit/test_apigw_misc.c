/*
 * Unit tests: apigw throttling (throttle.c), CORS (cors.c), access logs (accesslog.c), and the
 * parts of the route and response APIs the data cases do not reach (duplicates, header
 * editing, the HTTP/1.1 form, gateway messages, the request helpers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/apigw/accesslog.h"
#include "cloud/apigw/cors.h"
#include "core/jsonw.h"
#include "core/url.h"
#include "core/utf8.h"
#include "cloud/apigw/response.h"
#include "cloud/apigw/route.h"
#include "cloud/apigw/throttle.h"

static void test_bucket(void **state)
{
    (void)state;
    struct apigw_bucket b;
    apigw_bucket_init(&b, 10, 3, 0); /* 10/s, burst 3 */
    assert_true(apigw_bucket_take(&b, 0));
    assert_true(apigw_bucket_take(&b, 0));
    assert_true(apigw_bucket_take(&b, 0));
    assert_false(apigw_bucket_take(&b, 0)); /* burst spent */
    assert_false(apigw_bucket_take(&b, 99));
    assert_true(apigw_bucket_take(&b, 100)); /* one token per 100 ms */
    assert_false(apigw_bucket_take(&b, 100));
    assert_true(apigw_bucket_take(&b, 10000)); /* refill caps at the burst */
    assert_true(apigw_bucket_take(&b, 10000));
    assert_true(apigw_bucket_take(&b, 10000));
    assert_false(apigw_bucket_take(&b, 10000));
    assert_false(apigw_bucket_take(&b, 5000)); /* time going back adds nothing */
    apigw_bucket_init(&b, 1000, 0, 0);         /* burst 0 refuses everything */
    assert_false(apigw_bucket_take(&b, 0));
    assert_false(apigw_bucket_take(&b, 100000));
}

static void test_throttle_rate(void **state)
{
    (void)state;
    /* issue 10: a 1000/s limit must answer 429 when 14.8k req/s arrive */
    struct apigw_limits stage = {1000, 2000}, none = {-1, -1};
    struct apigw_throttle *t = apigw_throttle_new(stage, none, 0);
    assert_non_null(t);
    int admitted = 0;
    for (int i = 0; i < 14800; i++) /* one second of 14.8k req/s */
        admitted += apigw_throttle_admit(t, "GET /health", (int64_t)i * 1000 / 14800);
    assert_true(admitted >= 2900 && admitted <= 3001); /* burst 2000 + ~1000 refilled */
    /* each route has its own bucket with the default limits */
    assert_true(apigw_throttle_admit(t, "GET /other", 1000));
    /* a route's own settings override the default */
    struct apigw_limits tight = {1, 1};
    assert_int_equal(apigw_throttle_set_route(t, "POST /tasks", tight, 1000), 0);
    assert_true(apigw_throttle_admit(t, "POST /tasks", 1000));
    assert_false(apigw_throttle_admit(t, "POST /tasks", 1000));
    assert_true(apigw_throttle_admit(t, "POST /tasks", 2000));
    apigw_throttle_free(t);

    /* no stage limit, an account limit shared by every route */
    struct apigw_limits acct = {0, 2};
    t = apigw_throttle_new(none, acct, 0);
    assert_true(apigw_throttle_admit(t, "a", 0));
    assert_true(apigw_throttle_admit(t, "b", 0));
    assert_false(apigw_throttle_admit(t, "c", 0));
    apigw_throttle_free(t);
    t = apigw_throttle_new(none, none, 0);
    for (int i = 0; i < 100000; i++)
        assert_true(apigw_throttle_admit(t, "x", 0));
    apigw_throttle_free(t);
    apigw_throttle_free(NULL);
}

static const char *const origins[] = {"https://app.example", "http:"
                                                             "//*"};
static const char *const methods[] = {"GET", "POST"};
static const char *const allow_h[] = {"authorization", "content-type"};
static const char *const expose[] = {"x-request-id"};

static const char *hval(const struct apigw_response *r, const char *name)
{
    static char tmp[256];
    const struct apigw_kv *h = apigw_response_find(r, name);
    if (h == NULL)
        return NULL;
    snprintf(tmp, sizeof tmp, "%.*s", (int)h->value_len, h->value);
    return tmp;
}

static void test_cors(void **state)
{
    (void)state;
    struct apigw_cors c = {origins, 2, methods, 2, allow_h, 2, expose, 1, 300, true};
    struct apigw_kv pre[] = {{"Origin", 6, "https://app.example", 19},
                             {"Access-Control-Request-Method", 29, "POST", 4}};
    struct apigw_request req = {
        .method = "OPTIONS", .method_len = 7, .headers = pre, .nheaders = 2};
    assert_true(apigw_cors_is_preflight(&req));
    struct apigw_response r;
    apigw_response_init(&r);
    assert_int_equal(apigw_cors_preflight(&c, &req, &r), 0);
    assert_int_equal(r.status, 204);
    assert_string_equal(hval(&r, "access-control-allow-origin"), "https://app.example");
    assert_string_equal(hval(&r, "access-control-allow-methods"), "GET,POST");
    assert_string_equal(hval(&r, "access-control-allow-headers"), "authorization,content-type");
    assert_string_equal(hval(&r, "access-control-max-age"), "300");
    assert_string_equal(hval(&r, "access-control-allow-credentials"), "true");
    assert_int_equal(r.body.len, 0);

    /* an origin that is not allowed: 204 without CORS headers */
    pre[0].value = "https://evil.example";
    pre[0].value_len = 20;
    assert_int_equal(apigw_cors_preflight(&c, &req, &r), 0);
    assert_int_equal(r.status, 204);
    assert_int_equal(r.nheaders, 0);
    /* the scheme wildcard */
    pre[0].value = "http://any.example:8080";
    pre[0].value_len = 23;
    assert_int_equal(apigw_cors_preflight(&c, &req, &r), 0);
    assert_string_equal(hval(&r, "access-control-allow-origin"), "http://any.example:8080");
    /* not a preflight without Access-Control-Request-Method, or with another method */
    req.nheaders = 1;
    assert_false(apigw_cors_is_preflight(&req));
    req.nheaders = 2;
    req.method = "GET";
    req.method_len = 3;
    assert_false(apigw_cors_is_preflight(&req));

    /* an integration's answer: its own CORS headers go, the configured ones come */
    const char *out = "{\"statusCode\":200,\"headers\":{\"Access-Control-Allow-Origin\":\"*\","
                      "\"x-request-id\":\"1\"}}";
    assert_int_equal(apigw_response_map(&r, APIGW_PAYLOAD_V2, out, strlen(out)), 0);
    pre[0].value = "https://APP.example";
    pre[0].value_len = 19;
    req.nheaders = 1;
    assert_int_equal(apigw_cors_apply(&c, &req, &r), 0);
    assert_string_equal(hval(&r, "access-control-allow-origin"), "https://APP.example");
    assert_string_equal(hval(&r, "access-control-expose-headers"), "x-request-id");
    assert_string_equal(hval(&r, "x-request-id"), "1");
    assert_int_equal(apigw_response_remove_headers(&r, "access-control-allow-origin"), 1);
    /* "*" answers "*" */
    static const char *const star[] = {"*"};
    struct apigw_cors any = {star, 1, NULL, 0, NULL, 0, NULL, 0, -1, false};
    assert_int_equal(apigw_cors_apply(&any, &req, &r), 0);
    assert_string_equal(hval(&r, "access-control-allow-origin"), "*");
    assert_null(hval(&r, "access-control-allow-credentials"));
    /* no Origin: nothing added */
    req.nheaders = 0;
    assert_int_equal(apigw_cors_apply(&c, &req, &r), 0);
    assert_null(hval(&r, "access-control-allow-origin"));
    apigw_response_destroy(&r);
}

static void test_accesslog(void **state)
{
    (void)state;
    struct apigw_log_vars v;
    apigw_log_vars_init(&v);
    struct apigw_kv claims[] = {{"sub", 3, "user-1", 6}};
    struct apigw_kv actx[] = {{"tenant", 6, "t\n1", 3}};
    v.request_id = "rid";
    v.source_ip = "1.2.3.4";
    v.request_time_ms = 1583348638390;
    v.http_method = "GET";
    v.route_key = "GET /pets/{id}";
    v.status = 200;
    v.protocol = "HTTP/1.1";
    v.response_length = 17;
    v.integration_status = 200;
    v.integration_error_message = NULL;
    v.claims = claims;
    v.nclaims = 1;
    v.authorizer = actx;
    v.nauthorizer = 1;
    v.error_message = "Not Found";
    struct buf out;
    buf_init(&out, 4096);
    assert_int_equal(apigw_accesslog_format(apigw_accesslog_default_format,
                                            strlen(apigw_accesslog_default_format), &v, &out),
                     0);
    assert_string_equal(
        out.data, "{ \"requestId\":\"rid\", \"ip\": \"1.2.3.4\", \"requestTime\":\"04/Mar/2020:"
                  "19:03:58 +0000\", \"httpMethod\":\"GET\",\"routeKey\":\"GET /pets/{id}\", "
                  "\"status\":\"200\",\"protocol\":\"HTTP/1.1\", \"responseLength\":\"17\" }");
    static const struct {
        const char *fmt, *want;
    } cases[] = {
        {"$context.requestId $context.integrationErrorMessage $context.integrationStatus",
         "rid - 200"},
        {"$context.status.", "200."},
        {"[$context.requestTimeEpoch]", "[1583348638390]"},
        {"$context.authorizer.claims.sub/$context.authorizer.tenant/$context.authorizer.x",
         "user-1/t 1/-"},
        {"$context.error.messageString $context.error.message", "\"Not Found\" Not Found"},
        {"$context.nope $context. $5 $context", "- $context. $5 $context"},
        {"$context.responseLatency|$context.stage", "-|-"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_reset(&out);
        assert_int_equal(apigw_accesslog_format(cases[i].fmt, strlen(cases[i].fmt), &v, &out), 0);
        assert_string_equal(out.data, cases[i].want);
    }
    /* every variable of the table is found by name (the table is searched by halves), the
     * first, the last and those next to each other */
    struct apigw_log_vars all = {
        .account_id = "A",
        .api_id = "B",
        .authorizer_error = "C",
        .authorizer_principal_id = "D",
        .integration_request_id = "E",
        .data_processed = 6,
        .domain_name = "G",
        .domain_prefix = "H",
        .error_message = "I",
        .error_response_type = "J",
        .extended_request_id = "K",
        .http_method = "L",
        .source_ip = "M",
        .user_agent = "N",
        .integration_error_message = "O",
        .integration_status = 16,
        .integration_latency = 17,
        .function_status = 20,
        .path = "P",
        .protocol = "Q",
        .request_id = "R",
        .request_time_ms = 0,
        .response_latency = 29,
        .response_length = 30,
        .route_key = "S",
        .stage = "T",
        .status = 33,
    };
    static const char every[] =
        "$context.accountId $context.apiId $context.authorizer.error "
        "$context.authorizer.principalId $context.awsEndpointRequestId $context.dataProcessed "
        "$context.domainName $context.domainPrefix $context.error.message "
        "$context.error.messageString $context.error.responseType $context.extendedRequestId "
        "$context.httpMethod $context.identity.sourceIp $context.identity.userAgent "
        "$context.integration.error $context.integration.integrationStatus "
        "$context.integration.latency $context.integration.requestId $context.integration.status "
        "$context.integrationErrorMessage $context.integrationLatency $context.integrationStatus "
        "$context.path $context.protocol $context.requestId $context.requestTimeEpoch "
        "$context.responseLatency $context.responseLength $context.routeKey $context.stage "
        "$context.status";
    buf_reset(&out);
    assert_int_equal(apigw_accesslog_format(every, sizeof every - 1, &all, &out), 0);
    assert_string_equal(out.data, "A B C D E 6 G H I \"I\" J K L M N O 16 17 E 20 O 17 16 P Q R 0 "
                                  "29 30 S T 33");

    /* control bytes and tabs in a value become spaces, keeping the line one line */
    v.user_agent = "curl\t7.88\nx\x7fy\x01z, and a tail past sixteen bytes\t\r";
    buf_reset(&out);
    static const char ua[] = "[$context.identity.userAgent]";
    assert_int_equal(apigw_accesslog_format(ua, sizeof ua - 1, &v, &out), 0);
    assert_string_equal(out.data, "[curl 7.88 x y z, and a tail past sixteen bytes  ]");
    buf_destroy(&out);
}

static void test_route_api(void **state)
{
    (void)state;
    struct apigw_routes *rt = apigw_routes_new();
    char msg[256];
    int a = 1, b = 2;
    assert_int_equal(apigw_routes_add(rt, "GET /pets/{id}", 14, &a, msg, sizeof msg), 0);
    assert_int_equal(apigw_routes_add(rt, "GET /pets/{petId}", 17, &b, msg, sizeof msg),
                     APIGW_ROUTE_EEXISTS);
    assert_string_equal(msg, "Route with key GET /pets/{petId} already exists for this API");
    assert_int_equal(apigw_routes_add(rt, "POST /pets/{petId}", 18, &b, msg, sizeof msg), 0);
    assert_int_equal(apigw_routes_add(rt, "$default", 8, &a, msg, sizeof msg), 0);
    assert_int_equal(apigw_routes_add(rt, "$default", 8, &a, msg, sizeof msg), APIGW_ROUTE_EEXISTS);
    assert_int_equal(apigw_routes_add(rt, "BAD", 3, &a, msg, sizeof msg), APIGW_ROUTE_EINVALID);
    assert_int_equal(apigw_routes_count(rt), 3);
    struct apigw_match m;
    apigw_match_init(&m);
    /* each route keeps its own parameter names */
    assert_int_equal(apigw_routes_match(rt, "POST", 4, "/pets/9", 7, &m), APIGW_ROUTE_FOUND);
    assert_ptr_equal(m.target, &b);
    assert_string_equal(m.params[0].name, "petId");
    assert_string_equal(m.resource, "/pets/{petId}");
    assert_int_equal(apigw_routes_match(rt, "GET", 3, "/pets/9", 7, &m), APIGW_ROUTE_FOUND);
    assert_string_equal(m.params[0].name, "id");
    assert_int_equal(apigw_routes_match(rt, "PUT", 3, "/pets/9", 7, &m), APIGW_ROUTE_FOUND);
    assert_string_equal(m.route_key, "$default");
    assert_int_equal(m.nparams, 0);
    /* a long path: many segments, matched by $default without trouble */
    char longp[4096];
    for (size_t i = 0; i < sizeof longp - 1; i++)
        longp[i] = i % 2 ? 'a' : '/';
    longp[sizeof longp - 1] = '\0';
    assert_int_equal(apigw_routes_match(rt, "GET", 3, longp, strlen(longp), &m), APIGW_ROUTE_FOUND);
    apigw_match_destroy(&m);
    apigw_match_destroy(NULL);
    apigw_routes_free(rt);
    apigw_routes_free(NULL);
}

static void test_response_api(void **state)
{
    (void)state;
    struct apigw_response r;
    apigw_response_init(&r);
    assert_int_equal(apigw_response_message(&r, 404, "Not Found"), 0);
    struct buf w;
    buf_init(&w, 4096);
    assert_int_equal(apigw_response_to_http1(&r, &w), 0);
    assert_string_equal(w.data, "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                                "content-length: 23\r\n\r\n{\"message\":\"Not Found\"}");
    assert_int_equal(apigw_response_add_header(&r, "apigw-requestid", 15, "abc=", 4), 0);
    assert_int_equal(apigw_response_add_header(&r, "bad name", 8, "x", 1), APIGW_RESP_EBADHEADER);
    assert_int_equal(apigw_response_add_header(&r, "x", 1, "a\r\nb", 4), APIGW_RESP_EBADHEADER);
    assert_int_equal(apigw_response_add_header(&r, "x", 1, "a\x01", 2), APIGW_RESP_EBADHEADER);
    assert_int_equal(apigw_response_add_header(&r, "x", 1, "tab\tok", 6), 0);
    assert_int_equal(r.nheaders, 3);
    for (int i = 0; i < 1000; i++) /* slots are bounded */
        if (apigw_response_add_header(&r, "y", 1, "v", 1) == APIGW_RESP_EFULL)
            break;
    assert_int_equal(r.nheaders, APIGW_RESP_SLOTS);
    assert_string_equal(apigw_response_find(&r, "APIGW-REQUESTID")->value, "abc=");
    assert_int_equal(apigw_response_function_error(&r, APIGW_PAYLOAD_V2), 0);
    assert_int_equal(r.status, 500);
    assert_int_equal(apigw_response_function_error(&r, APIGW_PAYLOAD_URL), 0);
    assert_int_equal(r.status, 502);
    /* too many headers from a function is malformed, not truncated */
    struct buf out;
    buf_init(&out, 1u << 20);
    buf_puts(&out, "{\"statusCode\":200,\"headers\":{");
    for (int i = 0; i < APIGW_RESP_MAX_HEADERS + 1; i++)
        buf_printf(&out, "%s\"h%d\":\"v\"", i ? "," : "", i);
    buf_puts(&out, "}}");
    assert_int_equal(apigw_response_map(&r, APIGW_PAYLOAD_V2, out.data, out.len),
                     APIGW_RESP_MALFORMED);
    assert_int_equal(r.status, 500);
    assert_non_null(r.error);
    buf_destroy(&out);
    buf_destroy(&w);
    apigw_response_destroy(&r);
    apigw_response_destroy(NULL);
}

static void test_helpers(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    /* percent-decoding and JSON escaping are core's now (core/url.h, core/jsonw.h) */
    assert_int_equal(url_decode_buf("a%20b+c%00", 10, URL_PLUS_SPACE | URL_ALLOW_NUL, &b), 0);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "a b c\0", 6);
    buf_reset(&b);
    assert_int_equal(url_decode_buf("a%2", 3, 0, &b), URL_EBADESCAPE);
    buf_reset(&b);
    assert_int_equal(url_decode_buf("%zz", 3, 0, &b), URL_EBADESCAPE);
    buf_reset(&b);
    assert_int_equal(jw_escape(&b, "\"\\\x01\n\xff\xc3\xa9", 7), 0);
    assert_string_equal(b.data, "\"\\\"\\\\\\u0001\\n\xef\xbf\xbd\xc3\xa9\"");
    char t[32];
    assert_int_equal(apigw_clf_time(1583348638390, t, sizeof t), 26);
    assert_string_equal(t, "04/Mar/2020:19:03:58 +0000");
    assert_int_equal(apigw_clf_time(0, t, 10), -1);
    assert_int_equal(apigw_clf_time(0, t, sizeof t), 26);
    assert_string_equal(t, "01/Jan/1970:00:00:00 +0000");
    assert_int_equal(apigw_clf_time(253402300799999, t, sizeof t), 26); /* the last of 9999 */
    assert_string_equal(t, "31/Dec/9999:23:59:59 +0000");
    assert_int_equal(apigw_clf_time(253402300800000, t, sizeof t), -1); /* year 10000 */
    buf_reset(&b);
    assert_int_equal(jw_escape(&b, "plain run \x7f then \"q\"", 20), 0);
    assert_string_equal(b.data, "\"plain run \x7f then \\\"q\\\"\"");
    assert_true(utf8_valid("\xe2\x82\xac", 3));
    assert_false(utf8_valid("\xe2\x82", 2));
    buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket),    cmocka_unit_test(test_throttle_rate),
        cmocka_unit_test(test_cors),      cmocka_unit_test(test_accesslog),
        cmocka_unit_test(test_route_api), cmocka_unit_test(test_response_api),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
