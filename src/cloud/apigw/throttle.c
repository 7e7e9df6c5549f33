/* throttle.c — see throttle.h. */
#include "cloud/apigw/throttle.h"

#include <stdlib.h>
#include <string.h>

void apigw_bucket_init(struct apigw_bucket *b, double rate, double burst, int64_t now_ms)
{
    b->rate = rate < 0 ? 0 : rate;
    b->burst = burst < 0 ? 0 : burst;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

bool apigw_bucket_take(struct apigw_bucket *b, int64_t now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
        b->last_ms = now_ms;
    }
    if (b->tokens < 1.0)
        return false;
    b->tokens -= 1.0;
    return true;
}

struct route_bucket {
    char *key;
    bool own; /* limits set for this route */
    struct apigw_bucket b;
};

struct apigw_throttle {
    struct apigw_limits dflt;
    bool has_account;
    struct apigw_bucket account;
    struct route_bucket *routes;
    size_t n, cap;
};

struct apigw_throttle *apigw_throttle_new(struct apigw_limits stage_default,
                                          struct apigw_limits account, int64_t now_ms)
{
    struct apigw_throttle *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->dflt = stage_default;
    t->has_account = account.rate >= 0;
    if (t->has_account)
        apigw_bucket_init(&t->account, account.rate, account.burst, now_ms);
    return t;
}

void apigw_throttle_free(struct apigw_throttle *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->routes[i].key);
    free(t->routes);
    free(t);
}

/* The route's bucket, made with `lim` when new; NULL when out of memory. */
static struct route_bucket *route_of(struct apigw_throttle *t, const char *key,
                                     struct apigw_limits lim, int64_t now_ms)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->routes[i].key, key) == 0)
            return &t->routes[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct route_bucket *p = realloc(t->routes, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        t->routes = p;
        t->cap = cap;
    }
    struct route_bucket *r = &t->routes[t->n];
    if ((r->key = strdup(key)) == NULL)
        return NULL;
    r->own = false;
    apigw_bucket_init(&r->b, lim.rate, lim.burst, now_ms);
    t->n++;
    return r;
}

int apigw_throttle_set_route(struct apigw_throttle *t, const char *route_key,
                             struct apigw_limits lim, int64_t now_ms)
{
    struct route_bucket *r = route_of(t, route_key, lim, now_ms);
    if (r == NULL)
        return -1;
    apigw_bucket_init(&r->b, lim.rate, lim.burst, now_ms);
    r->own = true;
    return 0;
}

bool apigw_throttle_admit(struct apigw_throttle *t, const char *route_key, int64_t now_ms)
{
    if (t->has_account && !apigw_bucket_take(&t->account, now_ms))
        return false;
    struct route_bucket *r = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->routes[i].key, route_key) == 0)
            r = &t->routes[i];
    if (r == NULL && t->dflt.rate < 0)
        return true; /* no limit for this route */
    if (r == NULL && (r = route_of(t, route_key, t->dflt, now_ms)) == NULL)
        return true; /* out of memory: do not refuse traffic for our own failure */
    return apigw_bucket_take(&r->b, now_ms);
}
