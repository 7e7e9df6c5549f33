/*
 * aws.c — the client: environment, connections, signing, the retry loop (see aws.h).
 */
#include "aws/aws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/ids.h"
#include "core/json.h"
#include "core/sigv4.h"
#include "runtime/runtime.h"

/* The services the functions call, as their SDK models describe them. */
static const struct service_row {
    const char *env_id;        /* AWS_ENDPOINT_URL_<env_id> */
    const char *prefix;        /* endpoint prefix */
    const char *signing_name;  /* SigV4 service */
    const char *target_prefix; /* X-Amz-Target = <prefix>.<op> */
    const char *content_type;
    bool dynamodb; /* DynamoDB's own retry defaults */
} SERVICES[AWS_SERVICE_COUNT] = {
    [AWS_SQS] = {"SQS", "sqs", "sqs", "AmazonSQS", "application/x-amz-json-1.0", false},
    [AWS_DYNAMODB] = {"DYNAMODB", "dynamodb", "dynamodb", "DynamoDB_20120810",
                      "application/x-amz-json-1.0", true},
};

struct aws_client {
    struct aws_credentials cred;
    char region[AWS_REGION_MAX];
    struct {
        struct aws_endpoint ep;
        struct aws_http_conn *conn; /* shared by services on the same endpoint */
        struct aws_retry_policy policy;
        char path[sizeof(((struct aws_endpoint *)0)->path) + 1];
    } svc[AWS_SERVICE_COUNT];
    struct aws_http_conn *conns[AWS_SERVICE_COUNT]; /* owned, distinct */
    size_t nconns;
    struct aws_retry_quota quota;
    struct aws_client_options o;
    uint64_t rng;
    struct buf auth;
    unsigned long attempts, retries;
};

static const struct {
    int rc;
    const char *text;
} ERRORS[] = {
    {AWS_OK, "ok"},
    {AWS_ESERVICE, "service error"},
    {AWS_ETRANSPORT, "transport error"},
    {AWS_ETIMEOUT, "deadline exceeded"},
    {AWS_EINVAL, "invalid request or answer"},
    {AWS_ENOMEM, "out of memory"},
};

const char *aws_strerror(int rc)
{
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
        if (ERRORS[i].rc == rc)
            return ERRORS[i].text;
    return "unknown error";
}

bool aws_error_is(const struct aws_error *err, const char *code)
{
    return err != NULL && err->rc == AWS_ESERVICE && strcmp(err->code, code) == 0;
}

/* ---- default hooks ------------------------------------------------------------------- */

static int64_t real_now_ms(void *arg)
{
    (void)arg;
    return runtime_now_ms();
}

static void real_sleep_ms(void *arg, int64_t ms)
{
    (void)arg;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* xorshift64*: jitter needs no more than a fast, seeded generator */
static double next_random(struct aws_client *c)
{
    if (c->o.random != NULL)
        return c->o.random(c->o.hook_arg);
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static int64_t now_of(const struct aws_client *c)
{
    return c->o.now_ms(c->o.hook_arg);
}

/* ---- setup -------------------------------------------------------------------------- */

/* AWS_MAX_ATTEMPTS, when set: a number ≥ 1. */
static int max_attempts_of(aws_getenv_fn get, void *arg, int *out, char *err, size_t errlen)
{
    const char *v = get(arg, "AWS_MAX_ATTEMPTS");
    char *end;
    *out = 0;
    if (v == NULL || *v == '\0')
        return 0;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < 1 || n > 100) {
        aws__set_err(err, errlen, "AWS_MAX_ATTEMPTS=%.32s: expected a number from 1 to 100", v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

struct aws_client *aws_client_new(const struct aws_client_options *o, char *err, size_t errlen)
{
    struct aws_client *c = calloc(1, sizeof *c);
    int max_attempts;
    if (c == NULL) {
        aws__set_err(err, errlen, "out of memory");
        return NULL;
    }
    if (o != NULL)
        c->o = *o;
    if (c->o.getenv == NULL)
        c->o.getenv = aws_env_getenv;
    if (c->o.now_ms == NULL)
        c->o.now_ms = real_now_ms;
    if (c->o.sleep_ms == NULL)
        c->o.sleep_ms = real_sleep_ms;
    if (c->o.connect_timeout_ms <= 0)
        c->o.connect_timeout_ms = AWS_CONNECT_TIMEOUT_MS;
    if (c->o.attempt_timeout_ms <= 0)
        c->o.attempt_timeout_ms = AWS_ATTEMPT_TIMEOUT_MS;
    buf_init(&c->auth, 4096);
    aws_retry_quota_init(&c->quota);
    if (ids_random(&c->rng, sizeof c->rng) != 0 || c->rng == 0)
        c->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)real_now_ms(NULL);

    aws_getenv_fn get = c->o.getenv;
    void *ga = c->o.getenv_arg;
    if (aws_env_credentials(get, ga, &c->cred, err, errlen) != 0 ||
        aws_env_region(get, ga, c->region, sizeof c->region, err, errlen) != 0 ||
        max_attempts_of(get, ga, &max_attempts, err, errlen) != 0)
        goto fail;
    const char *backend_name = get(ga, "HAAR_AWS_HTTP");
    for (int s = 0; s < AWS_SERVICE_COUNT; s++) {
        const struct service_row *row = &SERVICES[s];
        enum aws_http_backend b;
        if (aws_env_endpoint(get, ga, row->env_id, row->prefix, c->region, &c->svc[s].ep, NULL, err,
                             errlen) != 0 ||
            aws_http_backend_for(&c->svc[s].ep, backend_name, &b, err, errlen) != 0)
            goto fail;
        snprintf(c->svc[s].path, sizeof c->svc[s].path, "%s/", c->svc[s].ep.path);
        aws_retry_policy_standard(&c->svc[s].policy, row->dynamodb);
        if (max_attempts > 0)
            c->svc[s].policy.max_attempts = max_attempts;
        /* one connection per endpoint: services at the same URL share it */
        for (int t = 0; t < s && c->svc[s].conn == NULL; t++)
            if (strcmp(c->svc[t].ep.url, c->svc[s].ep.url) == 0 &&
                aws_http_conn_backend(c->svc[t].conn) == b)
                c->svc[s].conn = c->svc[t].conn;
        if (c->svc[s].conn == NULL) {
            struct aws_http_conn *conn = aws_http_conn_new(&c->svc[s].ep, b);
            if (conn == NULL) {
                aws__set_err(err, errlen, "cannot set up a connection to %s", c->svc[s].ep.url);
                goto fail;
            }
            c->conns[c->nconns++] = conn;
            c->svc[s].conn = conn;
        }
    }
    return c;
fail:
    aws_client_free(c);
    return NULL;
}

void aws_client_free(struct aws_client *c)
{
    if (c == NULL)
        return;
    for (size_t k = 0; k < c->nconns; k++)
        aws_http_conn_free(c->conns[k]);
    buf_destroy(&c->auth);
    memset(&c->cred, 0, sizeof c->cred);
    free(c);
}

const struct aws_endpoint *aws_client_endpoint(const struct aws_client *c, enum aws_service s)
{
    return &c->svc[s].ep;
}

const char *aws_client_region(const struct aws_client *c)
{
    return c->region;
}

const char *aws_client_access_key(const struct aws_client *c)
{
    return c->cred.access_key;
}

unsigned long aws_client_connects(const struct aws_client *c, enum aws_service s)
{
    return aws_http_conn_connects(c->svc[s].conn);
}

unsigned long aws_client_attempts(const struct aws_client *c)
{
    return c->attempts;
}

unsigned long aws_client_retries(const struct aws_client *c)
{
    return c->retries;
}

int aws_client_quota(const struct aws_client *c)
{
    return c->quota.tokens;
}

enum aws_http_backend aws_client_backend(const struct aws_client *c, enum aws_service s)
{
    return aws_http_conn_backend(c->svc[s].conn);
}

/* ---- one attempt ---------------------------------------------------------------------- */

/* Copies at most cap-1 bytes of s[0..n) and a NUL. */
static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
    if (cap == 0)
        return;
    if (s == NULL)
        n = 0;
    if (n >= cap)
        n = cap - 1;
    if (n > 0)
        memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Reads an error answer: {"__type":"ns#Code","message":"..."} (or "Message"). The code is
 * the part after '#' (and before any ':', as SDKs read it). */
static void parse_error(const struct aws_http_response *res, struct aws_error *err)
{
    json_t *j = jsonh_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
    const char *type = json_string_value(json_object_get(j, "__type"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (msg == NULL)
        msg = json_string_value(json_object_get(j, "Message"));
    err->code[0] = '\0';
    if (type != NULL) {
        const char *hash = strrchr(type, '#');
        const char *code = hash ? hash + 1 : type;
        copy_text(err->code, sizeof err->code, code, strcspn(code, ":"));
    }
    if (msg != NULL)
        copy_text(err->message, sizeof err->message, msg, strlen(msg));
    else
        copy_text(err->message, sizeof err->message, res->body,
                  res->body_len > 200 ? 200 : res->body_len);
    json_decref(j);
}

/* Signs and sends one attempt. Returns an AWS_HTTP_* result; res holds the answer. */
static int attempt(struct aws_client *c, enum aws_service s, const char *target, const char *body,
                   size_t len, int64_t connect_deadline, int64_t deadline,
                   struct aws_http_response *res)
{
    const struct service_row *row = &SERVICES[s];
    struct aws_http_conn *conn = c->svc[s].conn;
    const char *host = aws_http_conn_host(conn);
    char date[17];
    sigv4_format_amz_date(now_of(c), date);
    struct sigv4_header sh[5] = {
        {"Host", 4, host, strlen(host)},
        {"Content-Type", 12, row->content_type, strlen(row->content_type)},
        {"X-Amz-Date", 10, date, 16},
        {"X-Amz-Target", 12, target, strlen(target)},
        {"X-Amz-Security-Token", 20, c->cred.token, strlen(c->cred.token)},
    };
    size_t nsh = c->cred.token[0] ? 5 : 4;
    struct sigv4_request sr = {.method = "POST",
                               .method_len = 4,
                               .path = c->svc[s].path,
                               .path_len = strlen(c->svc[s].path),
                               .headers = sh,
                               .nheaders = nsh,
                               .body = body,
                               .body_len = len};
    buf_reset(&c->auth);
    if (sigv4_authorization(&sr, c->cred.access_key, c->cred.secret, c->region, row->signing_name,
                            date, true, &c->auth) != 0)
        return AWS_HTTP_ENOMEM;
    struct aws_http_header h[5] = {
        {"Content-Type", row->content_type},
        {"X-Amz-Date", date},
        {"X-Amz-Target", target},
        {"Authorization", c->auth.data},
        {"X-Amz-Security-Token", c->cred.token},
    };
    struct aws_http_request r = {.method = "POST",
                                 .path = c->svc[s].path,
                                 .headers = h,
                                 .nheaders = c->cred.token[0] ? 5 : 4,
                                 .body = body,
                                 .body_len = len};
    c->attempts++;
    return aws_http_send(conn, &r, connect_deadline, deadline, res);
}

/* ---- the call: attempts and retries ----------------------------------------------------- */

int aws_client_call(struct aws_client *c, enum aws_service s, const char *op, const char *body,
                    size_t len, int64_t deadline_ms, struct buf *out, struct aws_error *err)
{
    const struct aws_retry_policy *policy = &c->svc[s].policy;
    char target[128];
    int last_cost = 0;

    size_t out_start = out->len;
    memset(err, 0, sizeof *err);
    int n = snprintf(target, sizeof target, "%s.%s", SERVICES[s].target_prefix, op);
    if (n < 0 || (size_t)n >= sizeof target || len > AWS_MAX_REQUEST) {
        err->rc = AWS_EINVAL;
        snprintf(err->message, sizeof err->message, "operation name or request too long");
        return err->rc;
    }
    for (int number = 1;; number++) {
        int64_t now = now_of(c);
        if (deadline_ms > 0 && now >= deadline_ms) {
            if (number == 1 || err->rc == AWS_OK) {
                err->rc = AWS_ETIMEOUT;
                snprintf(err->message, sizeof err->message, "no time left for %s", target);
            }
            return err->rc;
        }
        int64_t attempt_deadline = now + c->o.attempt_timeout_ms;
        if (deadline_ms > 0 && deadline_ms < attempt_deadline)
            attempt_deadline = deadline_ms;
        int64_t connect_deadline = now + c->o.connect_timeout_ms;
        if (connect_deadline > attempt_deadline)
            connect_deadline = attempt_deadline;

        struct aws_http_response res;
        int hrc = attempt(c, s, target, body, len, connect_deadline, attempt_deadline, &res);
        err->attempts = number;
        enum aws_retry_class cls;
        int64_t retry_after = -1;
        if (hrc == AWS_HTTP_OK) {
            err->status = res.status;
            copy_text(err->request_id, sizeof err->request_id, res.request_id,
                      res.request_id ? strlen(res.request_id) : 0);
            out->len = out_start;
            if (res.status >= 200 && res.status < 300) {
                aws_retry_quota_success(&c->quota, last_cost);
                if (buf_append(out, res.body, res.body_len) != BUF_OK) {
                    err->rc = AWS_EINVAL;
                    snprintf(err->message, sizeof err->message, "%s: the answer is too large",
                             target);
                    return err->rc;
                }
                err->rc = AWS_OK;
                return AWS_OK;
            }
            parse_error(&res, err);
            (void)buf_append(out, res.body, res.body_len); /* the error's body, for the caller */
            err->rc = AWS_ESERVICE;
            cls = aws_retry_classify(true, res.status, err->code);
            retry_after = aws_retry_after_parse(res.retry_after);
        } else if (hrc == AWS_HTTP_ENOMEM || hrc == AWS_HTTP_ETOOBIG) {
            err->rc = hrc == AWS_HTTP_ENOMEM ? AWS_ENOMEM : AWS_EINVAL;
            snprintf(err->message, sizeof err->message, "%s: %s", target, aws_http_strerror(hrc));
            return err->rc;
        } else {
            bool final = hrc == AWS_HTTP_ETIMEOUT && deadline_ms > 0 && now_of(c) >= deadline_ms;
            err->status = 0;
            err->code[0] = '\0';
            err->rc = final ? AWS_ETIMEOUT : AWS_ETRANSPORT;
            snprintf(err->message, sizeof err->message, "%s to %s: %s", target, c->svc[s].ep.url,
                     aws_http_strerror(hrc));
            if (final)
                return err->rc;
            cls = AWS_RETRY_TRANSIENT;
        }
        if (cls == AWS_RETRY_NONE || number >= policy->max_attempts)
            return err->rc;
        int cost = aws_retry_quota_acquire(&c->quota, cls);
        if (cost == 0)
            return err->rc; /* the quota says: fail fast */
        int64_t delay = aws_retry_delay_ms(policy, cls, number, next_random(c), retry_after);
        if (deadline_ms > 0 && now_of(c) + delay >= deadline_ms) {
            c->quota.tokens += cost; /* not taken after all */
            return err->rc;
        }
        last_cost = cost;
        c->retries++;
        if (delay > 0)
            c->o.sleep_ms(c->o.hook_arg, delay);
    }
}
