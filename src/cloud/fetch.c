/* fetch.c — see fetch.h. */
#include "cloud/fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/work.h"

struct fetch {
    struct work w;
    char *url;
    struct buf body;
    int rc;
    void (*done)(void *arg, int rc, const char *body, size_t len);
    void *arg;
};

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    struct buf *b = arg;
    return buf_append(b, p, sz * n) == BUF_OK ? sz * n : 0;
}

static int read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[16384];
    size_t got;
    int rc = 0;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(out, chunk, got) == BUF_OK ? 0 : -1;
    if (ferror(f))
        rc = -1;
    fclose(f);
    return rc;
}

/* Pool thread: touches only the fetch. */
static void run(struct work *w)
{
    struct fetch *f = w->data;
    f->rc = -1;
    if (f->url[0] == '/' || strncmp(f->url, "file://", 7) == 0) {
        f->rc = read_file(f->url[0] == '/' ? f->url : f->url + 7, &f->body);
        return;
    }
    if (strncmp(f->url, "http://", 7) != 0 && strncmp(f->url, "https://", 8) != 0)
        return;
    CURL *h = curl_easy_init();
    if (h == NULL)
        return;
    long status = 0;
    curl_easy_setopt(h, CURLOPT_URL, f->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)FETCH_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f->body);
    if (curl_easy_perform(h) == CURLE_OK &&
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 200 &&
        status < 300)
        f->rc = 0;
    curl_easy_cleanup(h);
}

static void complete(struct fetch *f)
{
    f->done(f->arg, f->rc, f->rc == 0 ? (f->body.data ? f->body.data : "") : NULL,
            f->rc == 0 ? f->body.len : 0);
    buf_destroy(&f->body);
    free(f->url);
    free(f);
}

static void on_done(struct work *w)
{
    complete(w->data);
}

void fetch_url(const char *url, size_t max,
               void (*done)(void *arg, int rc, const char *body, size_t len), void *arg)
{
    struct fetch *f = calloc(1, sizeof *f);
    if (f == NULL || (f->url = strdup(url)) == NULL) {
        free(f);
        return; /* out of memory: the caller's fetch never completes (it bounds its waits) */
    }
    buf_init(&f->body, max);
    f->done = done;
    f->arg = arg;
    f->w = (struct work){.run = run, .done = on_done, .data = f};
    work_submit(&f->w);
}
