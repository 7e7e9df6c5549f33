/*
 * Unit tests: apigw authorizers (auth.c). JWT cases come from tests/data/apigw/jwt/
 * (jwks.json and tokens.json, made by make-fixtures.sh with the openssl CLI: RS256/384/512,
 * ES256/384, expired, future nbf/iat, wrong audience/issuer, bad signature, unknown kid,
 * alg none, HS256, tampered payload, missing scope); Lambda authorizer answers, IAM policy
 * evaluation, identity sources and the result cache are tested here directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cloud/apigw/auth.h"
#include "cloud/apigw/event.h"
#include "core/json.h"

static json_t *load(const char *name)
{
    const char *src = getenv("HAAR_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/apigw/jwt/%s", src && *src ? src : ".", name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    return j;
}

static struct apigw_jwks *load_jwks(void)
{
    json_t *doc = load("jwks.json");
    char *text = json_dumps(doc, 0);
    char err[128];
    struct apigw_jwks *k = apigw_jwks_parse(text, strlen(text), err, sizeof err);
    free(text);
    json_decref(doc);
    assert_non_null(k);
    return k;
}

static void test_jwks_parse(void **state)
{
    (void)state;
    struct apigw_jwks *k = load_jwks();
    assert_int_equal(apigw_jwks_count(k), 4); /* rsa1, ec256, ec384, rsa-any; oct skipped */
    apigw_jwks_free(k);
    char err[128];
    assert_null(apigw_jwks_parse("{}", 2, err, sizeof err));
    assert_true(strlen(err) > 0);
    assert_null(apigw_jwks_parse("nope", 4, err, sizeof err));
    struct apigw_jwks *empty = apigw_jwks_parse("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQ\",\"e\":\"AQAB\"}]}",
                                                44, err, sizeof err);
    assert_non_null(empty);
    assert_int_equal(apigw_jwks_count(empty), 0); /* a 1-bit modulus is no key */
    apigw_jwks_free(empty);
    apigw_jwks_free(NULL);
}

static void test_jwt_fixtures(void **state)
{
    (void)state;
    struct apigw_jwks *k = load_jwks();
    json_t *doc = load("tokens.json");
    const char *auds[] = {jsonh_str(doc, "audience", "")};
    const char *scopes[2];
    for (size_t i = 0; i < 2; i++)
        scopes[i] = json_string_value(json_array_get(json_object_get(doc, "scopes"), i));
    struct apigw_jwt_config cfg = {jsonh_str(doc, "issuer", ""), auds, 1, scopes, 2, 0};
    long long now = 0;
    jsonh_int(doc, "now_ms", &now);
    int failures = 0;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c)
    {
        const char *tok = jsonh_str(c, "token", "");
        const char *want = jsonh_str(c, "expect", "");
        enum apigw_auth_status ws = strcmp(want, "allow") == 0       ? APIGW_AUTH_ALLOW
                                    : strcmp(want, "forbidden") == 0 ? APIGW_AUTH_FORBIDDEN
                                                                     : APIGW_AUTH_UNAUTHORIZED;
        for (int bearer = 0; bearer < 2; bearer++) {
            char buf[8192];
            snprintf(buf, sizeof buf, "%s%s", bearer ? "Bearer " : "", tok);
            struct apigw_jwt_result res;
            enum apigw_auth_status st = apigw_jwt_verify(k, &cfg, buf, strlen(buf), now, &res);
            if (st != ws) {
                printf("FAIL %s (bearer=%d): status %d, want %s (%s)\n", jsonh_str(c, "name", ""),
                       bearer, st, want, res.www_authenticate);
                failures++;
            }
            if (st == APIGW_AUTH_ALLOW && res.claims == NULL)
                failures++;
            if (st != APIGW_AUTH_ALLOW && res.www_authenticate[0] == '\0')
                failures++;
            apigw_jwt_result_destroy(&res);
        }
    }
    assert_int_equal(failures, 0);
    json_decref(doc);
    apigw_jwks_free(k);
}

static const char *token(const char *name)
{
    static json_t *doc;
    if (doc == NULL)
        doc = load("tokens.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "cases"), i, c) if (strcmp(jsonh_str(c, "name", ""),
                                                                        name) == 0) return jsonh_str(c, "token", NULL);
    fail();
    return NULL;
}

static void test_jwt_messages(void **state)
{
    (void)state;
    struct apigw_jwks *k = load_jwks();
    const char *auds[] = {"api-client"};
    struct apigw_jwt_config cfg = {"https://issuer.example", auds, 1, NULL, 0, 0};
    struct apigw_jwt_result res;
    /* no token at all: 401 and nothing to explain */
    assert_int_equal(apigw_jwt_verify(k, &cfg, NULL, 0, 1700000000000LL, &res),
                     APIGW_AUTH_UNAUTHORIZED);
    assert_string_equal(res.www_authenticate, "");
    assert_int_equal(apigw_jwt_verify(k, &cfg, "Bearer ", 7, 1700000000000LL, &res),
                     APIGW_AUTH_UNAUTHORIZED);
    assert_string_equal(res.www_authenticate, "");
    /* AWS's documented header for a wrong audience */
    const char *t = token("wrong audience");
    assert_int_equal(apigw_jwt_verify(k, &cfg, t, strlen(t), 1700000000000LL, &res),
                     APIGW_AUTH_UNAUTHORIZED);
    assert_string_equal(res.www_authenticate,
                        "Bearer scope=\"\" error=\"invalid_token\" error_description=\"the token "
                        "does not have a valid audience\"");
    assert_null(res.claims);
    /* the same token is fine for an authorizer that accepts that audience */
    const char *auds2[] = {"x", "someone-else"};
    struct apigw_jwt_config cfg2 = {"https://issuer.example", auds2, 2, NULL, 0, 0};
    assert_int_equal(apigw_jwt_verify(k, &cfg2, t, strlen(t), 1700000000000LL, &res),
                     APIGW_AUTH_ALLOW);
    apigw_jwt_result_destroy(&res);
    /* expiry and clock skew: valid until 2100, refused at 2100 + 1 s unless skewed */
    t = token("rs256 valid");
    assert_int_equal(apigw_jwt_verify(k, &cfg, t, strlen(t), 4102444800000LL, &res),
                     APIGW_AUTH_UNAUTHORIZED);
    cfg.skew_s = 5;
    assert_int_equal(apigw_jwt_verify(k, &cfg, t, strlen(t), 4102444800000LL, &res),
                     APIGW_AUTH_ALLOW);
    apigw_jwt_result_destroy(&res);
    /* the http answers */
    assert_int_equal(apigw_auth_http_status(APIGW_AUTH_UNAUTHORIZED), 401);
    assert_string_equal(apigw_auth_message(APIGW_AUTH_UNAUTHORIZED), "Unauthorized");
    assert_int_equal(apigw_auth_http_status(APIGW_AUTH_FORBIDDEN), 403);
    assert_string_equal(apigw_auth_message(APIGW_AUTH_FORBIDDEN), "Forbidden");
    assert_int_equal(apigw_auth_http_status(APIGW_AUTH_ERROR), 500);
    apigw_jwks_free(k);
}

static void test_jwt_authorizer_json(void **state)
{
    (void)state;
    json_t *claims = json_loads("{\"sub\":\"u\",\"exp\":4102444800,\"groups\":[\"admin\",\"dev\"],"
                                "\"ok\":true,\"m\":{\"a\":1},\"scope\":\"read write\",\"z\":null}",
                                0, NULL);
    struct buf out;
    buf_init(&out, 1u << 16);
    assert_int_equal(apigw_jwt_authorizer_json(claims, false, &out), 0);
    json_t *got = json_loads(out.data, 0, NULL);
    json_t *want = json_loads("{\"jwt\":{\"claims\":{\"sub\":\"u\",\"exp\":\"4102444800\","
                              "\"groups\":\"[admin dev]\",\"ok\":\"true\",\"m\":\"{\\\"a\\\":1}\","
                              "\"scope\":\"read write\"},\"scopes\":[\"read\",\"write\"]}}",
                              0, NULL);
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);
    buf_reset(&out);
    json_t *noscope = json_loads("{\"sub\":\"u\"}", 0, NULL);
    assert_int_equal(apigw_jwt_authorizer_json(noscope, true, &out), 0);
    assert_string_equal(out.data, "{\"claims\":{\"sub\":\"u\"},\"scopes\":null}");
    json_decref(noscope);
    json_decref(claims);
    buf_destroy(&out);
}

static const char arn[] = "arn:aws:execute-api:us-east-1:000000000000:api1/$default/GET/pets/1";

static void test_lambda_simple(void **state)
{
    (void)state;
    struct apigw_lambda_auth_result r;
    const char *ok = "{\"isAuthorized\":true,\"context\":{\"user\":\"u1\",\"n\":1}}";
    assert_int_equal(apigw_lambda_auth_parse(ok, strlen(ok), true, arn, &r), APIGW_AUTH_ALLOW);
    struct buf out;
    buf_init(&out, 4096);
    assert_int_equal(apigw_lambda_authorizer_json(&r, false, &out), 0);
    assert_string_equal(out.data, "{\"lambda\":{\"user\":\"u1\",\"n\":1}}");
    buf_reset(&out);
    assert_int_equal(apigw_lambda_authorizer_json(&r, true, &out), 0);
    assert_string_equal(out.data, "{\"user\":\"u1\",\"n\":1,\"integrationLatency\":0}");
    apigw_lambda_auth_result_destroy(&r);
    buf_destroy(&out);
    static const struct {
        const char *out;
        enum apigw_auth_status want;
    } cases[] = {
        {"{\"isAuthorized\":false}", APIGW_AUTH_FORBIDDEN},
        {"{\"isAuthorized\":\"true\"}", APIGW_AUTH_ERROR},
        {"{\"context\":{}}", APIGW_AUTH_ERROR},
        {"{\"isAuthorized\":true,\"context\":[1]}", APIGW_AUTH_ERROR},
        {"true", APIGW_AUTH_ERROR},
        {"not json", APIGW_AUTH_ERROR},
        {"", APIGW_AUTH_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(apigw_lambda_auth_parse(cases[i].out, strlen(cases[i].out), true, arn, &r),
                         cases[i].want);
        apigw_lambda_auth_result_destroy(&r);
    }
}

static void test_lambda_policy(void **state)
{
    (void)state;
    static const struct {
        const char *out;
        enum apigw_auth_status want;
    } cases[] = {
        {"{\"principalId\":\"p\",\"policyDocument\":{\"Version\":\"2012-10-17\",\"Statement\":[{"
         "\"Action\":\"execute-api:Invoke\",\"Effect\":\"Allow\",\"Resource\":\"arn:aws:execute-"
         "api:us-east-1:000000000000:api1/$default/GET/pets/1\"}]}}",
         APIGW_AUTH_ALLOW},
        {"{\"policyDocument\":{\"Statement\":{\"Action\":\"execute-api:*\",\"Effect\":\"Allow\","
         "\"Resource\":[\"x\",\"arn:aws:execute-api:*:*:api1/*/GET/*\"]}}}",
         APIGW_AUTH_ALLOW},
        {"{\"policyDocument\":{\"Statement\":[{\"Action\":\"*\",\"Effect\":\"Allow\",\"Resource\":"
         "\"*\"},{\"Action\":\"execute-api:Invoke\",\"Effect\":\"Deny\",\"Resource\":\"arn:*/pets/"
         "?\"}]}}",
         APIGW_AUTH_FORBIDDEN},
        {"{\"policyDocument\":{\"Statement\":[{\"Action\":\"execute-api:Invoke\",\"Effect\":"
         "\"Allow\",\"Resource\":\"arn:aws:execute-api:*:*:api1/*/POST/*\"}]}}",
         APIGW_AUTH_FORBIDDEN},
        {"{\"policyDocument\":{\"Statement\":[{\"Action\":\"s3:GetObject\",\"Effect\":\"Allow\","
         "\"Resource\":\"*\"}]}}",
         APIGW_AUTH_FORBIDDEN},
        {"{\"policyDocument\":{\"Statement\":[]}}", APIGW_AUTH_FORBIDDEN},
        {"{\"policyDocument\":{\"Statement\":[{\"Effect\":\"Maybe\",\"Action\":\"*\",\"Resource\":"
         "\"*\"}]}}",
         APIGW_AUTH_ERROR},
        {"{\"policyDocument\":{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":1,\"Resource\":\"*\"}]}}",
         APIGW_AUTH_ERROR},
        {"{\"principalId\":5,\"policyDocument\":{\"Statement\":[]}}", APIGW_AUTH_ERROR},
        {"{\"isAuthorized\":true}", APIGW_AUTH_ERROR}, /* simple answer to a policy authorizer */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct apigw_lambda_auth_result r;
        enum apigw_auth_status st =
            apigw_lambda_auth_parse(cases[i].out, strlen(cases[i].out), false, arn, &r);
        if (st != cases[i].want)
            printf("case %zu: %d, want %d\n", i, st, cases[i].want);
        assert_int_equal(st, cases[i].want);
        if (i == 0) {
            assert_string_equal(r.principal_id, "p");
            struct buf out;
            buf_init(&out, 4096);
            assert_int_equal(apigw_lambda_authorizer_json(&r, false, &out), 0);
            assert_string_equal(out.data, "{\"principalId\":\"p\",\"lambda\":{}}");
            buf_destroy(&out);
        }
        apigw_lambda_auth_result_destroy(&r);
    }
}

static void test_route_arn(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(apigw_route_arn("us-east-1", "123456789012", "abcdef123", "test", "GET", 3,
                                     "/request", 8, &b),
                     0);
    assert_string_equal(b.data, "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request");
    buf_destroy(&b);
}

static void test_identity(void **state)
{
    (void)state;
    struct apigw_kv hs[] = {{"Authorization", 13, "tok", 3}, {"X-Id", 4, "a", 1},
                            {"x-id", 4, "b", 1}, {"X-Empty", 7, "", 0}};
    struct apigw_request req = {.method = "GET", .method_len = 3, .path = "/", .path_len = 1,
                                .query = "q=1&q=%32&r=x+y&bad=%zz", .query_len = 23,
                                .headers = hs, .nheaders = 4};
    struct apigw_kv ctx[] = {{"routeKey", 8, "GET /pets", 9}};
    struct apigw_kv sv[] = {{"env", 3, "dev", 3}};
    struct apigw_auth_vars vars = {ctx, 1, sv, 1};
    const char *src[] = {"$request.header.authorization", "$request.header.X-ID",
                         "$request.querystring.q", "$request.querystring.r", "$context.routeKey",
                         "$stageVariables.env"};
    struct apigw_kv vals[6];
    struct buf store;
    buf_init(&store, 4096);
    assert_int_equal(apigw_identity_resolve(src, 6, &req, &vars, vals, &store), APIGW_OK);
    const char *want[] = {"tok", "a,b", "1,2", "x y", "GET /pets", "dev"};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(vals[i].value_len, strlen(want[i]));
        assert_memory_equal(vals[i].value, want[i], vals[i].value_len);
    }
    const char *missing[][1] = {{"$request.header.Nope"}, {"$request.header.X-Empty"},
                                {"$request.querystring.nope"}, {"$context.nope"},
                                {"$stageVariables.nope"}, {"$bogus.x"}};
    for (size_t i = 0; i < 6; i++) {
        buf_reset(&store);
        assert_int_equal(apigw_identity_resolve(missing[i], 1, &req, &vars, vals, &store),
                         APIGW_AUTH_MISSING);
    }
    buf_destroy(&store);
}

static void test_cache(void **state)
{
    (void)state;
    struct apigw_kv a[] = {{"s", 1, "ab", 2}, {"s", 1, "c", 1}};
    struct apigw_kv b[] = {{"s", 1, "a", 1}, {"s", 1, "bc", 2}};
    char ka[65], kb[65], ka2[65], kc[65];
    apigw_auth_cache_key("auth1", a, 2, ka);
    apigw_auth_cache_key("auth1", b, 2, kb);
    apigw_auth_cache_key("auth1", a, 2, ka2);
    apigw_auth_cache_key("auth2", a, 2, kc);
    assert_int_equal(strlen(ka), 64);
    assert_string_equal(ka, ka2);
    assert_string_not_equal(ka, kb);
    assert_string_not_equal(ka, kc);

    struct apigw_auth_cache *c = apigw_auth_cache_new(2);
    assert_non_null(c);
    size_t len;
    assert_null(apigw_auth_cache_get(c, ka, 0, &len));
    assert_int_equal(apigw_auth_cache_put(c, ka, "A", 1, 300, 1000), 0);
    assert_string_equal(apigw_auth_cache_get(c, ka, 1000 + 299999, &len), "A");
    assert_null(apigw_auth_cache_get(c, ka, 1000 + 300000, &len)); /* expired, dropped */
    assert_null(apigw_auth_cache_get(c, ka, 1000, &len));
    assert_int_equal(apigw_auth_cache_put(c, ka, "A", 1, 0, 0), 0); /* TTL 0: caching off */
    assert_null(apigw_auth_cache_get(c, ka, 0, &len));
    /* capacity 2: the oldest goes */
    assert_int_equal(apigw_auth_cache_put(c, ka, "A", 1, 60, 0), 0);
    assert_int_equal(apigw_auth_cache_put(c, kb, "B", 1, 60, 0), 0);
    assert_int_equal(apigw_auth_cache_put(c, kb, "B2", 2, 60, 0), 0); /* update in place */
    assert_int_equal(apigw_auth_cache_put(c, kc, "C", 1, 60, 0), 0);
    assert_string_equal(apigw_auth_cache_get(c, kb, 1, &len), "B2");
    assert_string_equal(apigw_auth_cache_get(c, kc, 1, &len), "C");
    assert_null(apigw_auth_cache_get(c, ka, 1, &len));
    apigw_auth_cache_free(c);
    apigw_auth_cache_free(NULL);
}

static void test_authorizer_event(void **state)
{
    (void)state;
    struct apigw_kv hs[] = {{"Authorization", 13, "secretToken", 11}};
    struct apigw_request req = {.method = "GET", .method_len = 3, .path = "/test/request",
                                .path_len = 13, .query = "a=1", .query_len = 3, .headers = hs,
                                .nheaders = 1, .body = "x", .body_len = 1,
                                .source_ip = "1.2.3.4", .protocol = "HTTP/1.1", .time_ms = 0};
    struct apigw_event_ctx ctx = {.account_id = "123456789012", .api_id = "abcdef123",
                                  .domain_name = "d", .domain_prefix = "d", .stage = "test",
                                  .route_key = "GET /request", .request_id = "r"};
    const char *src[] = {"$request.header.Authorization"};
    struct apigw_kv ident[1];
    struct buf store, out, rarn;
    buf_init(&store, 1024);
    buf_init(&out, 1u << 16);
    buf_init(&rarn, 1024);
    assert_int_equal(apigw_identity_resolve(src, 1, &req, NULL, ident, &store), APIGW_OK);
    assert_int_equal(apigw_route_arn("us-east-1", "123456789012", "abcdef123", "test", "GET", 3,
                                     "/request", 8, &rarn),
                     0);
    assert_int_equal(apigw_event_authorizer_v2(&req, &ctx, rarn.data, ident, 1, &out), 0);
    json_t *ev = json_loads(out.data, 0, NULL);
    assert_non_null(ev);
    assert_string_equal(jsonh_str(ev, "version", ""), "2.0");
    assert_string_equal(jsonh_str(ev, "type", ""), "REQUEST");
    assert_string_equal(jsonh_str(ev, "routeArn", ""),
                        "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "identitySource"), 0)),
                        "secretToken");
    assert_string_equal(jsonh_str(json_object_get(ev, "headers"), "authorization", ""),
                        "secretToken");
    assert_null(json_object_get(ev, "body"));
    assert_null(json_object_get(ev, "isBase64Encoded"));
    json_decref(ev);
    buf_destroy(&store);
    buf_destroy(&out);
    buf_destroy(&rarn);
}

/* The 1.0 authorizer event is the 1.0 integration event with type, methodArn and the
 * comma-joined identitySource after its version, byte for byte; both strings are escaped. */
static void test_authorizer_event_v1(void **state)
{
    (void)state;
    static const char head[] = "{\"version\":\"1.0\",";
    static const char want[] = "{\"version\":\"1.0\",\"type\":\"REQUEST\",\"methodArn\":"
                               "\"arn:\\\"x\",\"identitySource\":\"a\\\"b,c\\\\d\",";
    struct apigw_kv hs[] = {{"Authorization", 13, "secretToken", 11}};
    struct apigw_request req = {.method = "GET",
                                .method_len = 3,
                                .path = "/test/request",
                                .path_len = 13,
                                .query = "a=1",
                                .query_len = 3,
                                .headers = hs,
                                .nheaders = 1,
                                .body = "x",
                                .body_len = 1,
                                .source_ip = "1.2.3.4",
                                .protocol = "HTTP/1.1",
                                .time_ms = 0};
    struct apigw_event_ctx ctx = {.account_id = "123456789012",
                                  .api_id = "abcdef123",
                                  .domain_name = "d",
                                  .domain_prefix = "d",
                                  .stage = "test",
                                  .route_key = "GET /request",
                                  .resource = "/request",
                                  .request_id = "r"};
    struct apigw_kv ident[] = {{"", 0, "a\"b", 3}, {"", 0, "c\\d", 3}};
    struct buf plain, out;
    buf_init(&plain, 1u << 16);
    buf_init(&out, 1u << 16);
    assert_int_equal(apigw_event_v1(&req, &ctx, &plain), APIGW_OK);
    assert_int_equal(apigw_event_authorizer_v1(&req, &ctx, "arn:\"x", ident, 2, &out), APIGW_OK);
    assert_true(plain.len > sizeof head - 1);
    assert_memory_equal(plain.data, head, sizeof head - 1);
    assert_int_equal(out.len, sizeof want - 1 + plain.len - (sizeof head - 1));
    assert_memory_equal(out.data, want, sizeof want - 1);
    assert_memory_equal(out.data + sizeof want - 1, plain.data + sizeof head - 1,
                        plain.len - (sizeof head - 1));
    buf_reset(&out);
    assert_int_equal(apigw_event_authorizer_v1(&req, &ctx, "arn", NULL, 0, &out), APIGW_OK);
    json_t *ev = json_loads(out.data, 0, NULL);
    assert_non_null(ev);
    assert_string_equal(jsonh_str(ev, "identitySource", "-"), "");
    json_decref(ev);
    buf_destroy(&plain);
    buf_destroy(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jwks_parse),     cmocka_unit_test(test_jwt_fixtures),
        cmocka_unit_test(test_jwt_messages),   cmocka_unit_test(test_jwt_authorizer_json),
        cmocka_unit_test(test_lambda_simple),  cmocka_unit_test(test_lambda_policy),
        cmocka_unit_test(test_route_arn),      cmocka_unit_test(test_identity),
        cmocka_unit_test(test_cache),      cmocka_unit_test(test_authorizer_event),
        cmocka_unit_test(test_authorizer_event_v1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
