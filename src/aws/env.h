/*
 * env.h — what an AWS SDK reads from the environment, read the same way: credentials,
 * region and each service's endpoint (AWS-CONTRACTS.md §8).
 *
 *  - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and, for temporary credentials
 *    (what Lambda gives a function), AWS_SESSION_TOKEN.
 *  - region: AWS_REGION, else AWS_DEFAULT_REGION.
 *  - endpoint of a service: AWS_ENDPOINT_URL_<SERVICE> (the serviceId uppercased, spaces
 *    and hyphens as '_': SQS, DYNAMODB), else AWS_ENDPOINT_URL, else the regional endpoint
 *    https://<prefix>.<region>.<dns suffix> (amazonaws.com; amazonaws.com.cn in China).
 *    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the two variables. Empty values count
 *    as unset.
 *
 * Every reader takes the environment as a lookup function so tests give it a table;
 * aws_env_getenv reads the process's. Pure otherwise; thread-safe if the lookup is.
 */
#ifndef HAAR_AWS_ENV_H
#define HAAR_AWS_ENV_H

#include <stdbool.h>
#include <stddef.h>

/* Looks an environment variable up: its value (borrowed) or NULL. */
typedef const char *(*aws_getenv_fn)(void *arg, const char *name);

/* The process environment (getenv); arg is unused. */
const char *aws_env_getenv(void *arg, const char *name);

/* Internal to src/aws (env.c, aws.c): formats a reason into err, cut to errlen bytes; does
 * nothing when err is NULL or errlen is 0. */
void aws__set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

enum {
    AWS_ACCESS_KEY_MAX = 128,
    AWS_SECRET_MAX = 128,
    AWS_TOKEN_MAX = 4096,
    AWS_REGION_MAX = 64,
};

struct aws_credentials {
    char access_key[AWS_ACCESS_KEY_MAX];
    char secret[AWS_SECRET_MAX];
    char token[AWS_TOKEN_MAX]; /* "" without a session token */
};

/* Reads the credentials. Returns 0, or -1 with a reason in err when the key or secret is
 * missing, too long, or holds bytes other than printable ASCII. */
int aws_env_credentials(aws_getenv_fn get, void *arg, struct aws_credentials *out, char *err,
                        size_t errlen);

/* Reads the region into out. Returns 0, or -1 with a reason in err when unset or invalid
 * (letters, digits and '-' only). */
int aws_env_region(aws_getenv_fn get, void *arg, char *out, size_t cap, char *err, size_t errlen);

/* Where requests go: parsed from a URL "http[s]://host[:port][/path]". */
struct aws_endpoint {
    bool tls;
    char host[256];      /* without brackets for IPv6 literals */
    int port;            /* explicit or the scheme's default */
    char authority[300]; /* the Host header: host, with ":port" when not the default */
    char path[512];      /* "" or "/prefix" (no trailing slash): requests go to path + "/" */
    char url[900];       /* scheme://authority + path, normalized */
};

/* Parses a URL. Returns 0, or -1 with a reason in err (no scheme, another scheme, no host,
 * a bad port, a query or fragment, an over-long part). */
int aws_endpoint_parse(const char *url, struct aws_endpoint *out, char *err, size_t errlen);

enum aws_endpoint_source {
    AWS_ENDPOINT_FROM_SERVICE_ENV, /* AWS_ENDPOINT_URL_<SERVICE> */
    AWS_ENDPOINT_FROM_GLOBAL_ENV,  /* AWS_ENDPOINT_URL */
    AWS_ENDPOINT_REGIONAL,
};

/*
 * Resolves a service's endpoint as the SDKs do. env_id is the service's part of the
 * variable name ("SQS", "DYNAMODB"), prefix its endpoint prefix ("sqs", "dynamodb").
 * Returns 0 (source, when not NULL, says where it came from), or -1 with a reason in err.
 */
int aws_env_endpoint(aws_getenv_fn get, void *arg, const char *env_id, const char *prefix,
                     const char *region, struct aws_endpoint *out, enum aws_endpoint_source *source,
                     char *err, size_t errlen);

#endif
