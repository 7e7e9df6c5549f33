/*
 * throttle.h — API Gateway's throttling: token buckets (a steady rate per second and a burst)
 * per route, with the stage's default route settings for routes that have none of their own,
 * and an optional account-wide bucket checked first. Past a limit the caller answers
 * 429 {"message":"Too Many Requests"}.
 *
 * Time is passed in (epoch or monotonic milliseconds, never going back); nothing reads a
 * clock. A bucket starts full; a burst of 0 refuses everything (as AWS does). Not thread-safe.
 */
#ifndef HAAR_CLOUD_APIGW_THROTTLE_H
#define HAAR_CLOUD_APIGW_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct apigw_bucket {
    double rate;  /* tokens added per second */
    double burst; /* capacity */
    double tokens;
    int64_t last_ms;
};

/* A full bucket of `burst` tokens refilled at `rate` per second. Cannot fail. */
void apigw_bucket_init(struct apigw_bucket *b, double rate, double burst, int64_t now_ms);

/* Takes one token if there is one (after refilling up to now_ms): true = let it through. */
bool apigw_bucket_take(struct apigw_bucket *b, int64_t now_ms);

struct apigw_throttle;

/* Limits: rate < 0 means "not set" (no limit from this level). */
struct apigw_limits {
    double rate;
    double burst;
};

/* A stage's throttle: default route settings (applied to each route on its own bucket) and,
 * when account.rate >= 0, one bucket shared by every request. NULL when out of memory. */
struct apigw_throttle *apigw_throttle_new(struct apigw_limits stage_default,
                                          struct apigw_limits account, int64_t now_ms);
void apigw_throttle_free(struct apigw_throttle *t);

/* Sets the route's own limits (route settings), overriding the default for it. Returns 0 or
 * -1 when out of memory. */
int apigw_throttle_set_route(struct apigw_throttle *t, const char *route_key,
                             struct apigw_limits lim, int64_t now_ms);

/* One request for route_key at now_ms: true when it may pass, false for 429. */
bool apigw_throttle_admit(struct apigw_throttle *t, const char *route_key, int64_t now_ms);

#endif
