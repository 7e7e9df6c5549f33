/*
 * http.c — the two transports of the AWS client (see http.h).
 */
#include "aws/http.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h> /* types and constants only: libcurl itself is opened when needed */
#include <dlfcn.h>

#include "core/buf.h"
#include "runtime/runtime.h"
#include "runtime/runtime_http.h"

enum { HEAD_MAX = 16 * 1024, CAPTURED_MAX = 128 };

struct aws_http_conn {
    struct aws_endpoint ep;
    enum aws_http_backend backend;
    char host[320];  /* the Host header sent */
    struct buf head; /* request headers (native: the "extra" lines) */
    /* native */
    struct runtime_http_conn native;
    struct runtime_http_response nres;
    /* curl */
    CURL *curl;
    char url[1400];
    struct buf body;
    char request_id[CAPTURED_MAX], retry_after[CAPTURED_MAX];
    bool too_big;
    unsigned long curl_connects;
};

static const struct {
    int rc;
    const char *text;
} ERRORS[] = {
    {AWS_HTTP_OK, "ok"},
    {AWS_HTTP_ECONNECT, "cannot connect"},
    {AWS_HTTP_ETIMEOUT, "timed out"},
    {AWS_HTTP_EIO, "connection error"},
    {AWS_HTTP_ETOOBIG, "answer too large"},
    {AWS_HTTP_ENOMEM, "out of memory"},
};

const char *aws_http_strerror(int rc)
{
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
        if (ERRORS[i].rc == rc)
            return ERRORS[i].text;
    return "unknown error";
}

int aws_http_backend_for(const struct aws_endpoint *ep, const char *override,
                         enum aws_http_backend *out, char *err, size_t errlen)
{
    if (override == NULL || *override == '\0') {
        *out = ep->tls ? AWS_HTTP_CURL : AWS_HTTP_NATIVE;
        return 0;
    }
    if (strcmp(override, "curl") == 0) {
        *out = AWS_HTTP_CURL;
        return 0;
    }
    if (strcmp(override, "native") == 0 && !ep->tls) {
        *out = AWS_HTTP_NATIVE;
        return 0;
    }
    if (err != NULL && errlen > 0)
        snprintf(err, errlen,
                 "HAAR_AWS_HTTP=%.32s: expected curl or native (native for http:// only)",
                 override);
    return -1;
}

/* ---- libcurl ---------------------------------------------------------------------------- */

/*
 * libcurl is opened the first time a connection needs it (an https:// endpoint, or
 * HAAR_AWS_HTTP=curl), not linked: loading it and the libraries it pulls in (TLS, GSSAPI,
 * LDAP, ...) cost every process ~3 ms at start, a cold start under haar up that never uses
 * it. packaging/build ships it in the layer all the same.
 */
static struct curl_lib {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *h);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *line);
    void (*slist_free_all)(struct curl_slist *list);
} lib;

/* Opens libcurl and initialises it once; 0, or -1 (said on stderr: the function's log). */
static int curl_load(void)
{
    static int state; /* 0 not tried, 1 loaded, -1 failed */
    if (state != 0)
        return state > 0 ? 0 : -1;
    state = -1;
    static const struct {
        const char *name;
        size_t offset;
    } SYMS[] = {
        {"curl_global_init", offsetof(struct curl_lib, global_init)},
        {"curl_easy_init", offsetof(struct curl_lib, easy_init)},
        {"curl_easy_setopt", offsetof(struct curl_lib, easy_setopt)},
        {"curl_easy_perform", offsetof(struct curl_lib, easy_perform)},
        {"curl_easy_getinfo", offsetof(struct curl_lib, easy_getinfo)},
        {"curl_easy_cleanup", offsetof(struct curl_lib, easy_cleanup)},
        {"curl_slist_append", offsetof(struct curl_lib, slist_append)},
        {"curl_slist_free_all", offsetof(struct curl_lib, slist_free_all)},
    };
    void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "haar-aws: https needs libcurl.so.4, which cannot be loaded: %s\n",
                dlerror());
        return -1;
    }
    for (size_t i = 0; i < sizeof SYMS / sizeof SYMS[0]; i++) {
        void *sym = dlsym(h, SYMS[i].name);
        if (sym == NULL) {
            fprintf(stderr, "haar-aws: libcurl.so.4 lacks %s\n", SYMS[i].name);
            return -1;
        }
        memcpy((char *)&lib + SYMS[i].offset, &sym, sizeof sym);
    }
    if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    state = 1;
    return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct aws_http_conn *c = arg;
    size_t len = size * n;
    int rc = buf_append(&c->body, p, len);
    if (rc != BUF_OK) {
        c->too_big = rc == BUF_ETOOBIG;
        return 0; /* aborts the transfer */
    }
    return len;
}

/* Keeps the value of the one or two headers the client looks at. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    static const struct {
        const char *name;
        size_t offset;
    } WANTED[] = {
        {"x-amzn-requestid", offsetof(struct aws_http_conn, request_id)},
        {"x-amz-retry-after", offsetof(struct aws_http_conn, retry_after)},
    };
    struct aws_http_conn *c = arg;
    size_t len = size * n;
    const char *colon = memchr(p, ':', len);
    if (colon == NULL)
        return len;
    size_t nl = (size_t)(colon - p);
    for (size_t i = 0; i < sizeof WANTED / sizeof WANTED[0]; i++) {
        if (nl != strlen(WANTED[i].name) || strncasecmp(p, WANTED[i].name, nl) != 0)
            continue;
        const char *v = colon + 1, *e = p + len;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
            e--;
        char *dst = (char *)c + WANTED[i].offset;
        size_t vl = (size_t)(e - v) < CAPTURED_MAX ? (size_t)(e - v) : CAPTURED_MAX - 1;
        memcpy(dst, v, vl);
        dst[vl] = '\0';
    }
    return len;
}

static int curl_setup(struct aws_http_conn *c)
{
    if (curl_load() != 0)
        return -1;
    c->curl = lib.easy_init();
    if (c->curl == NULL)
        return -1;
    CURL *h = c->curl;
    bool ok =
        lib.easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_TCP_NODELAY, 1L) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_USERAGENT, "haar-aws/1.0") == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_WRITEDATA, c) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_HEADERDATA, c) == CURLE_OK &&
        lib.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)AWS_HTTP_MAX_BODY) == CURLE_OK;
    return ok ? 0 : -1;
}

/* Appends one header line to *list; false when out of memory (the list stays as it was). */
static bool add_line(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = lib.slist_append(*list, line);
    if (l == NULL)
        return false;
    *list = l;
    return true;
}

static int curl_send(struct aws_http_conn *c, const struct aws_http_request *r,
                     int64_t connect_deadline, int64_t deadline, struct aws_http_response *res)
{
    struct curl_slist *list = NULL;
    int rc = AWS_HTTP_ENOMEM;
    char line[HEAD_MAX];
    int64_t now = runtime_now_ms();
    CURL *h = c->curl;

    buf_reset(&c->body);
    c->too_big = false;
    c->request_id[0] = c->retry_after[0] = '\0';
    if (buf_append(&c->body, "", 0) != BUF_OK)
        return AWS_HTTP_ENOMEM;
    int n = snprintf(c->url, sizeof c->url, "%s://%s%s", c->ep.tls ? "https" : "http",
                     c->ep.authority, r->path);
    if (n < 0 || (size_t)n >= sizeof c->url)
        return AWS_HTTP_ENOMEM;
    snprintf(line, sizeof line, "Host: %s", c->host);
    /* no Expect: 100-continue round trip, no Accept header nobody reads */
    if (!add_line(&list, line) || !add_line(&list, "Expect:") || !add_line(&list, "Accept:"))
        goto done;
    for (size_t i = 0; i < r->nheaders; i++) {
        n = snprintf(line, sizeof line, "%s: %s", r->headers[i].name, r->headers[i].value);
        if (n < 0 || (size_t)n >= sizeof line || !add_line(&list, line))
            goto done;
    }
    long connect_ms = 0, total_ms = 0;
    if (connect_deadline > 0)
        connect_ms = connect_deadline - now > 1 ? (long)(connect_deadline - now) : 1;
    if (deadline > 0)
        total_ms = deadline - now > 1 ? (long)(deadline - now) : 1;
    bool post = strcmp(r->method, "POST") == 0;
    if (lib.easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK ||
        lib.easy_setopt(h, CURLOPT_HTTPHEADER, list) != CURLE_OK ||
        lib.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) != CURLE_OK ||
        lib.easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK)
        goto done;
    if (post) {
        if (lib.easy_setopt(h, CURLOPT_POST, 1L) != CURLE_OK ||
            lib.easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "") != CURLE_OK ||
            lib.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) != CURLE_OK)
            goto done;
    } else if (lib.easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
               lib.easy_setopt(h, CURLOPT_CUSTOMREQUEST,
                                strcmp(r->method, "GET") == 0 ? NULL : r->method) != CURLE_OK) {
        goto done;
    }
    CURLcode cc = lib.easy_perform(h);
    long status = 0, connects = 0;
    lib.easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    c->curl_connects += (unsigned long)connects;
    switch (cc) {
    case CURLE_OK:
        lib.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        res->status = (int)status;
        res->body = c->body.data;
        res->body_len = c->body.len;
        res->request_id = c->request_id[0] ? c->request_id : NULL;
        res->retry_after = c->retry_after[0] ? c->retry_after : NULL;
        rc = AWS_HTTP_OK;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        rc = AWS_HTTP_ETIMEOUT;
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        rc = AWS_HTTP_ECONNECT;
        break;
    case CURLE_FILESIZE_EXCEEDED:
        rc = AWS_HTTP_ETOOBIG;
        break;
    case CURLE_WRITE_ERROR:
        rc = c->too_big ? AWS_HTTP_ETOOBIG : AWS_HTTP_ENOMEM;
        break;
    default:
        rc = AWS_HTTP_EIO;
        break;
    }
done:
    lib.easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    lib.slist_free_all(list);
    return rc;
}

/* ---- the runtime's client ------------------------------------------------------------- */

static int native_send(struct aws_http_conn *c, const struct aws_http_request *r,
                       int64_t connect_deadline, int64_t deadline, struct aws_http_response *res)
{
    buf_reset(&c->head);
    for (size_t i = 0; i < r->nheaders; i++)
        if (buf_puts(&c->head, r->headers[i].name) != BUF_OK ||
            buf_append(&c->head, ": ", 2) != BUF_OK ||
            buf_puts(&c->head, r->headers[i].value) != BUF_OK ||
            buf_append(&c->head, "\r\n", 2) != BUF_OK)
            return AWS_HTTP_ENOMEM;
    c->native.connect_deadline_ms = connect_deadline;
    c->native.deadline_ms = deadline;
    int rc = runtime_http_request(&c->native, r->method, r->path, c->head.data, NULL, r->body,
                                  r->body_len, &c->nres);
    switch (rc) {
    case RUNTIME_HTTP_OK:
        res->status = c->nres.status;
        res->body = c->nres.body.data;
        res->body_len = c->nres.body.len;
        res->request_id = runtime_http_header(&c->nres, "x-amzn-RequestId");
        res->retry_after = runtime_http_header(&c->nres, "x-amz-retry-after");
        return AWS_HTTP_OK;
    case RUNTIME_HTTP_ETIMEOUT:
        return AWS_HTTP_ETIMEOUT;
    case RUNTIME_HTTP_ECONNECT:
        return AWS_HTTP_ECONNECT;
    case RUNTIME_HTTP_ETOOBIG:
        return AWS_HTTP_ETOOBIG;
    case RUNTIME_HTTP_ENOMEM:
        return AWS_HTTP_ENOMEM;
    default:
        return AWS_HTTP_EIO;
    }
}

/* ---- the connection ------------------------------------------------------------------- */

struct aws_http_conn *aws_http_conn_new(const struct aws_endpoint *ep, enum aws_http_backend b)
{
    struct aws_http_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->ep = *ep;
    c->backend = b;
    c->native.fd = -1;
    buf_init(&c->head, HEAD_MAX);
    buf_init(&c->body, AWS_HTTP_MAX_BODY);
    runtime_http_response_init(&c->nres, AWS_HTTP_MAX_BODY);
    if (b == AWS_HTTP_NATIVE) {
        /* the runtime client sends "Host: host:port", so that is what gets signed */
        char hostport[sizeof c->host];
        bool v6 = strchr(ep->host, ':') != NULL;
        snprintf(hostport, sizeof hostport, v6 ? "[%s]:%d" : "%s:%d", ep->host, ep->port);
        if (runtime_http_conn_init(&c->native, hostport) != RUNTIME_HTTP_OK)
            goto fail;
        memcpy(c->host, hostport, strlen(hostport) + 1);
    } else {
        snprintf(c->host, sizeof c->host, "%s", ep->authority);
        if (curl_setup(c) != 0)
            goto fail;
    }
    return c;
fail:
    aws_http_conn_free(c);
    return NULL;
}

void aws_http_conn_free(struct aws_http_conn *c)
{
    if (c == NULL)
        return;
    if (c->backend == AWS_HTTP_NATIVE)
        runtime_http_conn_destroy(&c->native);
    if (c->curl != NULL)
        lib.easy_cleanup(c->curl);
    runtime_http_response_destroy(&c->nres);
    buf_destroy(&c->head);
    buf_destroy(&c->body);
    free(c);
}

const char *aws_http_conn_host(const struct aws_http_conn *c)
{
    return c->host;
}

enum aws_http_backend aws_http_conn_backend(const struct aws_http_conn *c)
{
    return c->backend;
}

unsigned long aws_http_conn_connects(const struct aws_http_conn *c)
{
    return c->backend == AWS_HTTP_NATIVE ? c->native.connects : c->curl_connects;
}

int aws_http_send(struct aws_http_conn *c, const struct aws_http_request *r,
                  int64_t connect_deadline_ms, int64_t deadline_ms, struct aws_http_response *res)
{
    memset(res, 0, sizeof *res);
    if (c->backend == AWS_HTTP_NATIVE)
        return native_send(c, r, connect_deadline_ms, deadline_ms, res);
    return curl_send(c, r, connect_deadline_ms, deadline_ms, res);
}
