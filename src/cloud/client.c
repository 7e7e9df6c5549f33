#include "cloud/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/json.h"

#define DEFAULT_ENDPOINT "http://127.0.0.1:4566"

int client_init(struct client *c, const char *verb, const char *endpoint, const char *region)
{
    memset(c, 0, sizeof *c);
    if (endpoint == NULL || *endpoint == '\0')
        endpoint = getenv("HAAR_ENDPOINT");
    if (endpoint == NULL || *endpoint == '\0')
        endpoint = DEFAULT_ENDPOINT;
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    if (n >= sizeof c->endpoint) {
        fprintf(stderr, "haar %s: endpoint too long\n", verb);
        return -1;
    }
    memcpy(c->endpoint, endpoint, n);
    c->endpoint[n] = '\0';
    if (region == NULL || *region == '\0')
        region = getenv("AWS_REGION");
    if (region == NULL || *region == '\0')
        region = getenv("AWS_DEFAULT_REGION");
    client_set_region(c, region && *region ? region : "us-east-1");
    const char *ak = getenv("HAAR_ACCESS_KEY_ID"), *sk = getenv("HAAR_SECRET_ACCESS_KEY");
    snprintf(c->userpwd, sizeof c->userpwd, "%s:%s", ak && sk ? ak : "test", ak && sk ? sk : "test");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (c->curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "haar %s: cannot initialise libcurl\n", verb);
        return -1;
    }
    return 0;
}

void client_destroy(struct client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

void client_set_region(struct client *c, const char *region)
{
    snprintf(c->region, sizeof c->region, "%s", region);
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    struct client_reply *r = arg;
    return buf_append(&r->body, p, sz * n) == BUF_OK ? sz * n : 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
    struct client_reply *r = arg;
    size_t len = sz * n;
    if (len > 21 && strncasecmp(p, "x-amz-function-error:", 21) == 0)
        r->function_error = true;
    if (len > 17 && strncasecmp(p, "x-amzn-errortype:", 17) == 0) {
        const char *v = p + 17, *end = p + len;
        while (v < end && *v == ' ')
            v++;
        size_t k = 0;
        while (v + k < end && v[k] != ':' && v[k] != '\r' && v[k] != '\n' &&
               k + 1 < sizeof r->error_type)
            k++;
        memcpy(r->error_type, v, k);
        r->error_type[k] = '\0';
    }
    return len;
}

int client_request(struct client *c, const char *method, const char *path, const char *service,
                   const char *const *headers, const char *body, size_t len,
                   struct client_reply *r)
{
    r->status = 0;
    r->function_error = false;
    r->error_type[0] = '\0';
    buf_destroy(&r->body);
    buf_init(&r->body, 64u << 20);
    char url[2048], sigv4[96];
    snprintf(url, sizeof url, "%s%s", c->endpoint, path);
    struct curl_slist *h = NULL;
    for (const char *const *p = headers; p && *p; p++)
        h = curl_slist_append(h, *p);
    CURL *k = c->curl;
    curl_easy_reset(k);
    curl_easy_setopt(k, CURLOPT_URL, url);
    curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    if (service != NULL) {
        snprintf(sigv4, sizeof sigv4, "aws:amz:%s:%s", c->region, service);
        curl_easy_setopt(k, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(k, CURLOPT_USERPWD, c->userpwd);
    }
    curl_easy_setopt(k, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(k, CURLOPT_TIMEOUT, 960L); /* past the longest function timeout */
    curl_easy_setopt(k, CURLOPT_ERRORBUFFER, c->err);
    curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(k, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(k, CURLOPT_HEADERDATA, r);
    if (body != NULL) {
        curl_easy_setopt(k, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    c->err[0] = '\0';
    CURLcode rc = curl_easy_perform(k);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        if (c->err[0] == '\0')
            snprintf(c->err, sizeof c->err, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &r->status);
    return 0;
}

json_t *client_reply_json(const struct client_reply *r)
{
    return jsonh_parse(r->body.data ? r->body.data : "", r->body.len, NULL, 0);
}
