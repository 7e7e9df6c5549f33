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

/* An environment whose endpoint resolves: the service (env_id, prefix) and region asked
 * for, and the endpoint and source that must come out. */
struct resolved_case {
    const char *name;
    struct env env;
    const char *env_id, *prefix, *region;
    const char *url, *authority, *path;
    enum aws_endpoint_source source;
};

/* clang-format off */
static const struct resolved_case RESOLVED[] = {
    {"regional", {{{NULL}}}, "SQS", "sqs", "eu-west-1",
     "https://sqs.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com", "",
     AWS_ENDPOINT_REGIONAL},
    {"regional dynamodb", {{{NULL}}}, "DYNAMODB", "dynamodb", "us-east-1",
     "https://dynamodb.us-east-1.amazonaws.com", "dynamodb.us-east-1.amazonaws.com", "",
     AWS_ENDPOINT_REGIONAL},
    {"china partition", {{{NULL}}}, "SQS", "sqs", "cn-north-1",
     "https://sqs.cn-north-1.amazonaws.com.cn", "sqs.cn-north-1.amazonaws.com.cn", "",
     AWS_ENDPOINT_REGIONAL},
    {"global variable", {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"}}}, "SQS", "sqs",
     "eu-west-1", "http://127.0.0.1:4566", "127.0.0.1:4566", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"service variable wins",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"}}}, "DYNAMODB", "dynamodb",
     "eu-west-1", "http://localhost:8000", "localhost:8000", "", AWS_ENDPOINT_FROM_SERVICE_ENV},
    {"another service's variable is not ours",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_ENDPOINT_URL_DYNAMODB", "http://localhost:8000"}}}, "SQS", "sqs",
     "eu-west-1", "http://127.0.0.1:4566", "127.0.0.1:4566", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"empty counts as unset",
     {{{"AWS_ENDPOINT_URL_SQS", ""}, {"AWS_ENDPOINT_URL", "http://h:1"}}}, "SQS", "sqs",
     "eu-west-1", "http://h:1", "h:1", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"ignore configured endpoints",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"}}}, "SQS", "sqs", "eu-west-1",
     "https://sqs.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com", "",
     AWS_ENDPOINT_REGIONAL},
    {"ignore=false keeps them",
     {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
       {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"}}}, "SQS", "sqs", "eu-west-1",
     "http://127.0.0.1:4566", "127.0.0.1:4566", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"default port left out", {{{"AWS_ENDPOINT_URL", "https://example.com:443/"}}}, "SQS", "sqs",
     "eu-west-1", "https://example.com", "example.com", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"http default port", {{{"AWS_ENDPOINT_URL", "HTTP://example.com:80"}}}, "SQS", "sqs",
     "eu-west-1", "http://example.com", "example.com", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"a path prefix", {{{"AWS_ENDPOINT_URL", "http://proxy:9000/aws/"}}}, "SQS", "sqs",
     "eu-west-1", "http://proxy:9000/aws", "proxy:9000", "/aws", AWS_ENDPOINT_FROM_GLOBAL_ENV},
    {"ipv6", {{{"AWS_ENDPOINT_URL", "http://[::1]:4566"}}}, "SQS", "sqs",
     "eu-west-1", "http://[::1]:4566", "[::1]:4566", "", AWS_ENDPOINT_FROM_GLOBAL_ENV},
};
/* clang-format on */

/* An endpoint that is refused (-1 with a reason): AWS_ENDPOINT_URL set to url (NULL: unset)
 * for SQS in region. */
struct refused_case {
    const char *name, *url, *region;
};

static const struct refused_case REFUSED[] = {
    {"no scheme", "127.0.0.1:4566", "eu-west-1"},
    {"ftp", "ftp://h", "eu-west-1"},
    {"no host", "http://", "eu-west-1"},
    {"port 0", "http://h:0", "eu-west-1"},
    {"port too big", "http://h:65536", "eu-west-1"},
    {"port not a number", "http://h:4x", "eu-west-1"},
    {"empty port", "http://h:", "eu-west-1"},
    {"query", "http://h/?a=b", "eu-west-1"},
    {"user info", "http://u:p@h", "eu-west-1"},
    {"unclosed bracket", "http://[::1:4566", "eu-west-1"},
    {"no region, no variable", NULL, ""},
};

static void test_endpoints(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof RESOLVED / sizeof RESOLVED[0]; i++) {
        const struct resolved_case *c = &RESOLVED[i];
        struct aws_endpoint ep;
        enum aws_endpoint_source src = (enum aws_endpoint_source) - 1;
        char err[256] = "";
        int rc = aws_env_endpoint(table_getenv, (void *)&c->env, c->env_id, c->prefix, c->region,
                                  &ep, &src, err, sizeof err);
        if (rc != 0 || strcmp(ep.url, c->url) != 0 || strcmp(ep.authority, c->authority) != 0 ||
            strcmp(ep.path, c->path) != 0 || src != c->source) {
            printf("FAIL %s: rc %d url '%s' authority '%s' path '%s' source %d err '%s'\n", c->name,
                   rc, rc == 0 ? ep.url : "", rc == 0 ? ep.authority : "", rc == 0 ? ep.path : "",
                   (int)src, err);
            failures++;
        }
    }
    for (size_t i = 0; i < sizeof REFUSED / sizeof REFUSED[0]; i++) {
        const struct refused_case *c = &REFUSED[i];
        struct env env = {{{c->url != NULL ? "AWS_ENDPOINT_URL" : NULL, c->url}}};
        struct aws_endpoint ep;
        enum aws_endpoint_source src;
        char err[256] = "";
        int rc = aws_env_endpoint(table_getenv, &env, "SQS", "sqs", c->region, &ep, &src, err,
                                  sizeof err);
        if (rc != -1 || err[0] == '\0') {
            printf("FAIL %s: rc %d (want -1) err '%s'\n", c->name, rc, err);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- credentials and region ---- */

static char long_key[300]; /* 299 'A's, filled by test_credentials */

/* An environment's credentials: rc, and (when not NULL) the fields that must be read and
 * a variable the reason must name. */
struct credentials_case {
    const char *name;
    struct env env;
    int rc;
    const char *access_key, *secret, *token, *err_names;
};

/* clang-format off */
static const struct credentials_case CREDENTIALS[] = {
    {"with a token",
     {{{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG"},
       {"AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjE+/="}}},
     0, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "IQoJb3JpZ2luX2VjE+/=", NULL},
    {"no token", {{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}}},
     0, NULL, NULL, "", NULL},
    {"empty token",
     {{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"}, {"AWS_SESSION_TOKEN", ""}}},
     0, NULL, NULL, "", NULL},
    {"no secret", {{{"AWS_ACCESS_KEY_ID", "AKID"}}}, -1, NULL, NULL, NULL, "AWS_SECRET_ACCESS_KEY"},
    {"no key", {{{"AWS_SECRET_ACCESS_KEY", "s"}}}, -1, NULL, NULL, NULL, "AWS_ACCESS_KEY_ID"},
    /* a header-splitting token is refused, not sent (and nothing half-read is left) */
    {"crlf in the token",
     {{{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "s"},
       {"AWS_SESSION_TOKEN", "abc\r\nX-Evil: 1"}}},
     -1, "", NULL, NULL, NULL},
    {"key too long", {{{"AWS_ACCESS_KEY_ID", long_key}, {"AWS_SECRET_ACCESS_KEY", "s"}}},
     -1, NULL, NULL, NULL, NULL},
};
/* clang-format on */

/* True when want is NULL (not checked) or equals got. */
static bool same(const char *want, const char *got)
{
    return want == NULL || strcmp(want, got) == 0;
}

static void test_credentials(void **state)
{
    (void)state;
    int failures = 0;
    memset(long_key, 'A', sizeof long_key - 1);
    for (size_t i = 0; i < sizeof CREDENTIALS / sizeof CREDENTIALS[0]; i++) {
        const struct credentials_case *c = &CREDENTIALS[i];
        struct aws_credentials cr;
        char err[256] = "";
        int rc = aws_env_credentials(table_getenv, (void *)&c->env, &cr, err, sizeof err);
        bool ok = rc == c->rc && same(c->access_key, cr.access_key) && same(c->secret, cr.secret) &&
                  same(c->token, cr.token) && (c->rc == 0 || err[0] != '\0') &&
                  (c->err_names == NULL || strstr(err, c->err_names) != NULL);
        if (!ok) {
            printf("FAIL %s: rc %d (want %d) err '%s'\n", c->name, rc, c->rc, err);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* An environment's region: rc, and the region read when 0. */
static const struct {
    struct env env;
    int rc;
    const char *region;
} REGIONS[] = {
    {{{{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-east-1"}}}, 0, "eu-west-1"},
    {{{{"AWS_DEFAULT_REGION", "us-east-1"}}}, 0, "us-east-1"},
    {{{{NULL}}}, -1, NULL},
    {{{{"AWS_REGION", "eu-west-1/../x"}}}, -1, NULL},
};

static void test_region(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof REGIONS / sizeof REGIONS[0]; i++) {
        char region[AWS_REGION_MAX], err[256];
        int rc = aws_env_region(table_getenv, (void *)&REGIONS[i].env, region, sizeof region, err,
                                sizeof err);
        assert_int_equal(rc, REGIONS[i].rc);
        if (REGIONS[i].region != NULL)
            assert_string_equal(region, REGIONS[i].region);
    }
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
