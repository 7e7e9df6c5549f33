#include "cloud/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/json.h"

struct reply {
    struct buf body;
    long status;
    bool function_error;
    char error_type[128]; /* X-Amzn-ErrorType, up to its first ':' */
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct reply *r = arg;
    return buf_append(&r->body, p, sz * n) == BUF_OK ? sz * n : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct reply *r = arg;
    size_t len = sz * n;
    if (len > 21 && strncasecmp(p, "x-amz-function-error:", 21) == 0)
        r->function_error = true;
    if (len > 17 && strncasecmp(p, "x-amzn-errortype:", 17) == 0) {
        const char *v = p + 17, *end = p + len;
        while (v < end && *v == ' ')
            v++;
        size_t k = 0;
        while (v + k < end && v[k] != ':' && v[k] != '\r' && v[k] != '\n' &&
               k + 1 < sizeof(r->error_type))
            k++;
        memcpy(r->error_type, v, k);
        r->error_type[k] = '\0';
    }
    return len;
}

static const char *default_endpoint(const char *given)
{
    if (given)
        return given;
    const char *e = getenv("HAAR_ENDPOINT");
    return e && *e ? e : "http://127.0.0.1:4566";
}

/* One request; returns 0 when the daemon answered (any status), -1 if unreachable. */
static int request(const char *method, const char *url, const char *region, const char *body,
                   size_t len, struct reply *r)
{
    CURL *c = curl_easy_init();
    if (c == NULL)
        return -1;
    char sigv4[96];
    snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:lambda", region);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
    /* the keys `haar logs` signs with too: HAAR_ACCESS_KEY_ID / HAAR_SECRET_ACCESS_KEY */
    const char *ak = getenv("HAAR_ACCESS_KEY_ID"), *sk = getenv("HAAR_SECRET_ACCESS_KEY");
    char userpwd[300];
    snprintf(userpwd, sizeof(userpwd), "%s:%s", ak && sk ? ak : "test", ak && sk ? sk : "test");
    curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 960L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc == CURLE_OK ? 0 : -1;
}

static json_t *health(const char *endpoint)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s/_haar/health", endpoint);
    struct reply r = {0};
    buf_init(&r.body, 16 * 1024 * 1024);
    json_t *j = NULL;
    if (request("GET", url, "us-east-1", NULL, 0, &r) == 0 && r.status == 200)
        j = jsonh_parse(r.body.data, r.body.len, NULL, 0);
    buf_destroy(&r.body);
    return j;
}

static bool has_function(json_t *h, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(h, "lambda"), "functions"), i, f)
    {
        if (strcmp(jsonh_str(f, "name", ""), name) == 0)
            return true;
    }
    return false;
}

static int read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(out, chunk, n) != BUF_OK) {
            rc = -1;
            break;
        }
    fclose(f);
    return rc;
}

int cli_invoke(int argc, char **argv)
{
    const char *name = NULL, *payload = NULL, *endpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc)
            payload = argv[++i];
        else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
            endpoint = argv[++i];
        else if (argv[i][0] != '-' && name == NULL)
            name = argv[i];
        else {
            fprintf(stderr, "usage: haar invoke NAME [--payload JSON|@FILE] [--endpoint URL]\n");
            return 2;
        }
    }
    if (name == NULL) {
        fprintf(stderr, "usage: haar invoke NAME [--payload JSON|@FILE] [--endpoint URL]\n");
        return 2;
    }
    endpoint = default_endpoint(endpoint);
    struct buf body;
    buf_init(&body, 64 * 1024 * 1024);
    if (payload != NULL && payload[0] == '@') {
        if (read_file(payload + 1, &body) != 0) {
            fprintf(stderr, "haar: cannot read %s\n", payload + 1);
            buf_destroy(&body);
            return 2;
        }
    } else {
        buf_puts(&body, payload ? payload : "{}");
    }
    json_t *h = health(endpoint);
    if (h == NULL) {
        fprintf(stderr, "haar: no daemon answers at %s (is `haar up` running?)\n", endpoint);
        buf_destroy(&body);
        return 1;
    }
    char full[256];
    snprintf(full, sizeof(full), "%s", name);
    if (!has_function(h, name)) {
        char expanded[256];
        snprintf(expanded, sizeof(expanded), "%s-%s-%s", jsonh_str(h, "project", "haar"),
                 jsonh_str(h, "environment", "dev"), name);
        if (has_function(h, expanded))
            snprintf(full, sizeof(full), "%s", expanded);
    }
    char url[1024];
    snprintf(url, sizeof(url), "%s/2015-03-31/functions/%s/invocations", endpoint, full);
    struct reply r = {0};
    buf_init(&r.body, 64 * 1024 * 1024);
    int rc = 1;
    if (request("POST", url, jsonh_str(h, "region", "us-east-1"), body.data, body.len, &r) != 0) {
        fprintf(stderr, "haar: request to %s failed\n", endpoint);
    } else if (r.status != 200) {
        /* as the AWS CLI words it: "An error occurred (Code): message" */
        json_t *doc = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
        const char *msg = jsonh_str(doc, "message", jsonh_str(doc, "Message", NULL));
        if (r.error_type[0] != '\0' && msg != NULL)
            fprintf(stderr, "haar: invoke %s: HTTP %ld: %s: %s\n", full, r.status, r.error_type,
                    msg);
        else
            fprintf(stderr, "haar: invoke %s: HTTP %ld: %.*s\n", full, r.status, (int)r.body.len,
                    r.body.data ? r.body.data : "");
        json_decref(doc);
    } else {
        fwrite(r.body.data ? r.body.data : "", 1, r.body.len, stdout);
        if (r.body.len == 0 || r.body.data[r.body.len - 1] != '\n')
            fputc('\n', stdout);
        rc = r.function_error ? 1 : 0;
    }
    json_decref(h);
    buf_destroy(&r.body);
    buf_destroy(&body);
    return rc;
}

int cli_status(int argc, char **argv)
{
    const char *endpoint = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
            endpoint = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else {
            fprintf(stderr, "usage: haar status [--endpoint URL] [--json]\n");
            return 2;
        }
    }
    endpoint = default_endpoint(endpoint);
    json_t *h = health(endpoint);
    if (h == NULL) {
        fprintf(stderr, "haar: no daemon answers at %s (is `haar up` running?)\n", endpoint);
        return 1;
    }
    if (as_json) {
        char *s = json_dumps(h, JSON_INDENT(2));
        puts(s ? s : "{}");
        free(s);
        json_decref(h);
        return 0;
    }
    printf("haar %s-%s (%s) at %s: %s\n", jsonh_str(h, "project", "?"),
           jsonh_str(h, "environment", "?"), jsonh_str(h, "region", "?"), endpoint,
           jsonh_str(h, "status", "?"));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(h, "lambda"), "functions"), i, f)
    {
        long long envs = 0, busy = 0, queued = 0, idle = 0;
        jsonh_int(f, "environments", &envs);
        jsonh_int(f, "in_flight", &busy);
        jsonh_int(f, "queued_events", &queued);
        jsonh_int(f, "idle", &idle);
        printf("  function %-32s %s  environments=%lld idle=%lld in_flight=%lld queued=%lld\n",
               jsonh_str(f, "name", "?"), jsonh_str(f, "state", "?"), envs, idle, busy, queued);
    }
    json_array_foreach(json_object_get(json_object_get(h, "sqs"), "queues"), i, f)
    {
        long long visible = 0, in_flight = 0, delayed = 0;
        jsonh_int(f, "visible", &visible);
        jsonh_int(f, "in_flight", &in_flight);
        jsonh_int(f, "delayed", &delayed);
        printf("  queue    %-32s visible=%lld in_flight=%lld delayed=%lld%s%s\n",
               jsonh_str(f, "name", "?"), visible, in_flight, delayed,
               json_object_get(f, "dlq") ? "  dlq=" : "", jsonh_str(f, "dlq", ""));
    }
    json_array_foreach(json_object_get(h, "event_source_mappings"), i, f)
    {
        long long pollers = 0, busy = 0, batches = 0, failures = 0;
        jsonh_int(f, "pollers", &pollers);
        jsonh_int(f, "in_flight", &busy);
        jsonh_int(f, "batches", &batches);
        jsonh_int(f, "failures", &failures);
        printf("  mapping  %s -> %s %s  pollers=%lld in_flight=%lld batches=%lld failures=%lld\n",
               jsonh_str(f, "source", "?"), jsonh_str(f, "function", "?"),
               jsonh_str(f, "state", "?"), pollers, busy, batches, failures);
    }
    json_decref(h);
    return 0;
}
