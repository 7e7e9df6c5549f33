/*
 * Unit tests: aws/env — credentials, region and endpoint resolution as the SDKs read the
 * environment (AWS-CONTRACTS.md §8), as tables: each case is an environment and what must
 * be resolved from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aws/env.h"

enum { MAX_VARS = 8 };

struct env {
    const char *vars[MAX_VARS][2];
};

static const char *table_getenv(void *arg, const char *name)
{
    const struct env *e = arg;
    for (size_t i = 0; i < MAX_VARS && e->vars[i][0] != NULL; i++)
        if (strcmp(e->vars[i][0], name) == 0)
            return e->vars[i][1];
    return NULL;
}

/* ---- endpoints ---- */

struct endpoint_case {
    const char *name;
    struct env env;
    const char *env_id, *prefix, *region;
    int rc;
    const char *url, *authority, *path; /* when rc == 0 */
    enum aws_endpoint_source source;
};

static const struct endpoint_case ENDPOINTS[] = {
    {"regional",
     {{{NULL}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "https://sqs.eu-west-1.amazonaws.com",
     "sqs.eu-west-1.amazonaws.com",
     "",
     AWS_ENDPOINT_REGIONAL},
    {"regional dynamodb",
     {{{NULL}}},
     "DYNAMODB",
     "dynamodb",
     "us-east-1",
     0,
     "https://dynamodb.us-east-1.amazonaws.com",
     "dynamodb.us-east-1.amazonaws.com",
     "",
     AWS_ENDPOINT_REGIONAL},
    {"china partition",
     {{{NULL}}},
     "SQS",
     "sqs",
     "cn-north-1",
     0,
     "https://sqs.cn-north-1.amazonaws.com.cn",
     "sqs.cn-north-1.amazonaws.com.cn",
     "",
     AWS_ENDPOINT_REGIONAL},
    {"global variable",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://127.0.0.1:4566",
     "127.0.0.1:4566",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"service variable wins",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"}}},
     "DYNAMODB",
     "dynamodb",
     "eu-west-1",
     0,
     "http://localhost:8000",
     "localhost:8000",
     "",
     AWS_ENDPOINT_FROM_SERVICE_ENV},
    {"another service's variable is not ours",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://127.0.0.1:4566",
     "127.0.0.1:4566",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"empty counts as unset",
     {{{"AWS_ENDPOINT_URL_SQS", ""}, {"AWS_ENDPOINT_URL", "http://h:1"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://h:1",
     "h:1",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"ignore configured endpoints",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "https://sqs.eu-west-1.amazonaws.com",
     "sqs.eu-west-1.amazonaws.com",
     "",
     AWS_ENDPOINT_REGIONAL},
    {"ignore=false keeps them",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://127.0.0.1:4566",
     "127.0.0.1:4566",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"default port left out",
     {{{"AWS_ENDPOINT_URL", "https://example.com:443/"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "https://example.com",
     "example.com",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"http default port",
     {{{"AWS_ENDPOINT_URL", "HTTP://example.com:80"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://example.com",
     "example.com",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"a path prefix",
     {{{"AWS_ENDPOINT_URL", "http://proxy:9000/aws/"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://proxy:9000/aws",
     "proxy:9000",
     "/aws",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"ipv6",
     {{{"AWS_ENDPOINT_URL", "http://[::1]:4566"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     0,
     "http://[::1]:4566",
     "[::1]:4566",
     "",
     AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"no scheme",
     {{{"AWS_ENDPOINT_URL", "127.0.0.1:4566"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"ftp",
     {{{"AWS_ENDPOINT_URL", "ftp://h"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"no host",
     {{{"AWS_ENDPOINT_URL", "http://"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"port 0",
     {{{"AWS_ENDPOINT_URL", "http://h:0"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"port too big",
     {{{"AWS_ENDPOINT_URL", "http://h:65536"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"port not a number",
     {{{"AWS_ENDPOINT_URL", "http://h:4x"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"empty port",
     {{{"AWS_ENDPOINT_URL", "http://h:"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"query",
     {{{"AWS_ENDPOINT_URL", "http://h/?a=b"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"user info",
     {{{"AWS_ENDPOINT_URL", "http://u:p@h"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"unclosed bracket",
     {{{"AWS_ENDPOINT_URL", "http://[::1:4566"}}},
     "SQS",
     "sqs",
     "eu-west-1",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
    {"no region, no variable",
     {{{NULL}}},
     "SQS",
     "sqs",
     "",
     -1,
     NULL,
     NULL,
     NULL,
     AWS_ENDPOINT_REGIONAL},
};

static void test_endpoints(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof ENDPOINTS / sizeof ENDPOINTS[0]; i++) {
        const struct endpoint_case *c = &ENDPOINTS[i];
        struct aws_endpoint ep;
        enum aws_endpoint_source src = (enum aws_endpoint_source) - 1;
        char err[256] = "";
        int rc = aws_env_endpoint(table_getenv, (void *)&c->env, c->env_id, c->prefix, c->region,
                                  &ep, &src, err, sizeof err);
        bool ok = rc == c->rc;
        if (ok && rc == 0)
            ok = strcmp(ep.url, c->url) == 0 && strcmp(ep.authority, c->authority) == 0 &&
                 strcmp(ep.path, c->path) == 0 && src == c->source;
        if (ok && rc != 0)
            ok = err[0] != '\0';
        if (!ok) {
            printf(
                "FAIL %s: rc %d (want %d) url '%s' authority '%s' path '%s' source %d err '%s'\n",
                c->name, rc, c->rc, rc == 0 ? ep.url : "", rc == 0 ? ep.authority : "",
                rc == 0 ? ep.path : "", (int)src, err);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- credentials and region ---- */

static void test_credentials(void **state)
{
    (void)state;
    struct aws_credentials cr;
    char err[256];
    struct env with_token = {{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                              {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG"},
                              {"AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE+/="}}};
    assert_int_equal(aws_env_credentials(table_getenv, &with_token, &cr, err, sizeof err), 0);
    assert_string_equal(cr.access_key, "AKIDEXAMPLE");
    assert_string_equal(cr.secret, "wJalrXUtnFEMI/K7MDENG");
    assert_string_equal(cr.token, "IQoJb3JpZ2luX2VjE+/=");

    struct env no_token = {{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}}};
    assert_int_equal(aws_env_credentials(table_getenv, &no_token, &cr, err, sizeof err), 0);
    assert_string_equal(cr.token, "");

    struct env empty_token = {
        {{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_SESSION_TOKEN", ""}}};
    assert_int_equal(aws_env_credentials(table_getenv, &empty_token, &cr, err, sizeof err), 0);
    assert_string_equal(cr.token, "");

    struct env no_secret = {{{"AWS_ACCESS_KEY_ID", "AKID"}}};
    assert_int_equal(aws_env_credentials(table_getenv, &no_secret, &cr, err, sizeof err), -1);
    assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));

    struct env no_key = {{{"AWS_SECRET_ACCESS_KEY", "s"}}};
    assert_int_equal(aws_env_credentials(table_getenv, &no_key, &cr, err, sizeof err), -1);
    assert_non_null(strstr(err, "AWS_ACCESS_KEY_ID"));

    /* a header-splitting token is refused, not sent */
    struct env crlf = {{{"AWS_ACCESS_KEY_ID", "AKID"},
                        {"AWS_SECRET_ACCESS_KEY", "s"},
                        {"AWS_SESSION_TOKEN", "abc\r\nX-Evil: 1"}}};
    assert_int_equal(aws_env_credentials(table_getenv, &crlf, &cr, err, sizeof err), -1);
    assert_string_equal(cr.access_key, "");

    char long_key[300];
    memset(long_key, 'A', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    struct env too_long = {{{"AWS_ACCESS_KEY_ID", long_key}, {"AWS_SECRET_ACCESS_KEY", "s"}}};
    assert_int_equal(aws_env_credentials(table_getenv, &too_long, &cr, err, sizeof err), -1);
}

static void test_region(void **state)
{
    (void)state;
    char region[AWS_REGION_MAX], err[256];
    struct env both = {{{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-1"}}};
    assert_int_equal(aws_env_region(table_getenv, &both, region, sizeof region, err, sizeof err),
                     0);
    assert_string_equal(region, "eu-west-1");
    struct env dflt = {{{"AWS_DEFAULT_REGION", "us-east-1"}}};
    assert_int_equal(aws_env_region(table_getenv, &dflt, region, sizeof region, err, sizeof err),
                     0);
    assert_string_equal(region, "us-east-1");
    struct env none = {{{NULL}}};
    assert_int_equal(aws_env_region(table_getenv, &none, region, sizeof region, err, sizeof err),
                     -1);
    struct env bad = {{{"AWS_REGION", "eu-west-1/../x"}}};
    assert_int_equal(aws_env_region(table_getenv, &bad, region, sizeof region, err, sizeof err),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
