/*
 * load.h — the load harness the bench programs share (every program under bench/ links it).
 *
 * A run is a pool of worker threads, one a connection, each with one kept-alive HTTP/1.1
 * connection to the server (src/runtime/runtime_http.h: one request, then its answer
 * delimited by Content-Length or chunked encoding; a keep-alive connection the server closed
 * is reopened). A run has a warm-up, then a measured phase, then the end, switched by an
 * atomic the workers read before each request. In a closed loop each worker sends its next
 * request as soon as it has the answer; in an open loop requests are due at a fixed rate over
 * all workers, each sent by whichever worker is free, its latency counted from when it was
 * due (so a slow answer cannot hide the requests it delays).
 *
 * A program says only what it sends (a build callback filling a struct load_request, signed
 * with load_sign() for AWS services) and whether an answer is right (a check callback); the
 * harness times each request from just before it is sent to the end of its answer, keeps
 * the latencies of the measured phase (merged and sorted at the end), counts requests and
 * errors, and the program prints its result line with load_line_*().
 *
 * Every request goes to the server named by load_spec.hostport; the programs are only ever
 * pointed at 127.0.0.1.
 */
#ifndef HAAR_BENCH_LOAD_H
#define HAAR_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/jsonw.h"
#include "runtime/runtime_http.h"

enum {
    LOAD_MAX_CONNECTIONS = 1024,
    LOAD_MAX_SAMPLES = 8 * 1000 * 1000, /* latencies kept over all workers */
    LOAD_MAX_REQUEST = 16 * 1024 * 1024, /* a request's body (BatchWriteItem's own limit) */
    LOAD_MAX_ANSWER = 32 * 1024 * 1024,  /* an answer's body */
};

/* One request. The harness owns it (one a worker) and keeps it between requests. */
struct load_request {
    const char *host;         /* set by the harness: the Host header sent, "host:port" */
    const char *method;       /* borrowed; "POST" until the program sets another */
    const char *path;         /* borrowed; "/" until the program sets another */
    const char *content_type; /* borrowed; NULL: no Content-Type */
    struct buf headers;       /* more header lines, each "Name: value\r\n" */
    struct buf body;
};

/* Empties the request's headers and body (method, path and content type stay). */
void load_request_reset(struct load_request *req);

/*
 * Signs req for an AWS service as the SDKs do, with the local default credentials
 * (test/test): appends X-Amz-Date (now), X-Amz-Target (when target is not NULL) and an
 * Authorization header to req->headers, signed by core's sigv4_authorization over the
 * method, path, body and the headers host, content-type, x-amz-date and x-amz-target.
 * Returns 0, or -1 when the request cannot be signed (a value does not fit).
 */
int load_sign(struct load_request *req, const char *region, const char *service,
              const char *target);

/* One kept-alive connection with its request and answer, for calls outside a run (setup). */
struct load_client {
    struct runtime_http_conn conn;
    struct runtime_http_response res; /* the last answer */
    struct load_request req;          /* the next request; req.host is the hostport */
};

/* Prepares a client of hostport ("127.0.0.1:8080"); connects on the first send. Returns 0,
 * or -1 when the address is not one (the client is then destroyed). */
int load_client_init(struct load_client *c, const char *hostport);

/* Closes the connection and frees the buffers; accepts NULL. */
void load_client_destroy(struct load_client *c);

/* Sends c->req and reads its answer into c->res. Returns RUNTIME_HTTP_OK whatever the
 * status, or a RUNTIME_HTTP_* error (runtime_http_strerror names it). */
int load_client_send(struct load_client *c);

/* What a callback knows of the worker calling it. */
struct load_ctx {
    unsigned worker;   /* 0 .. connections - 1 */
    void *state;       /* this worker's state_size bytes, zeroed before the run */
    unsigned failures; /* requests that failed in a row just before this call */
    bool measured;     /* the request is (was) sent in the measured phase */
    int64_t due_ns;    /* CLOCK_MONOTONIC when the request was due (open loop) or sent (closed
                          loop): where its latency counts from; set before check */
    unsigned long units; /* a count the callbacks keep (messages, items); summed in the result */
};

enum load_next {
    LOAD_SEND, /* req holds the next request */
    LOAD_DONE, /* no more requests: the worker ends */
    LOAD_FAIL, /* the request cannot be built: counted as an error, the worker ends */
};

/* Fills req (kept from the worker's previous request) with the next request. */
typedef enum load_next (*load_build_fn)(struct load_ctx *ctx, struct load_request *req);

/* Judges an answer (of any status): true when it counts as a success. */
typedef bool (*load_check_fn)(struct load_ctx *ctx, const struct runtime_http_response *res);

struct load_spec {
    const char *hostport;  /* "127.0.0.1:PORT" */
    unsigned connections;  /* workers, 1 .. LOAD_MAX_CONNECTIONS */
    double warmup_s;       /* the warm-up before the measured phase (≥ 0) */
    double seconds;        /* the measured phase; ≤ 0: until every worker's build says DONE */
    double rate;           /* > 0: open loop, requests a second over all workers; 0: closed */
    double drain_s;        /* > 0: answers still due at the end get this long, then fail;
                              0: each worker waits for its last answer however long it takes */
    bool same_each_second; /* the request changes only with the clock's second: build is
                              called again only when the second changes (its signature) */
    size_t state_size;     /* bytes of per-worker state (ctx->state), may be 0 */
    load_build_fn build;
    load_check_fn check;
};

struct load_result {
    unsigned connections;
    double seconds;       /* the measured phase as it ran */
    double drain_seconds; /* from the measured phase's start until every worker ended */
    unsigned long sent;   /* requests sent in the measured phase */
    unsigned long requests; /* successes in the measured phase */
    unsigned long errors;   /* failures (transport or check) in any phase */
    unsigned long late;     /* open loop: requests sent over 1 ms after they were due */
    unsigned long units;    /* the callbacks' ctx->units, summed over the workers */
    uint32_t *lat_us;       /* the measured successes' latencies, ascending; owned */
    size_t nlat;
    char first_error[256]; /* "" when none */
};

/*
 * Runs the pool spec describes: starts the workers, sleeps through the warm-up and the
 * measured phase (or waits until every worker is done when spec->seconds ≤ 0), ends the run,
 * joins the workers and fills out. A transport error counts as an error and the worker
 * pauses 10 ms before its next request. The callbacks run on the worker threads: they may
 * touch only their ctx->state and what they share through atomics. Returns 0, or -1 when
 * the spec is invalid or memory or threads ran out (out is then empty). Not reentrant.
 */
int load_run(const struct load_spec *spec, struct load_result *out);

/* The sample at fraction p (0..1) of the sorted latencies, nearest rank below
 * (p = 1: the maximum); 0 when there are none. */
uint32_t load_percentile(const struct load_result *r, double p);

/* Frees the result's latencies; accepts NULL. */
void load_result_destroy(struct load_result *r);

/* Sorts n durations (any unit) in place, for the percentiles of a program that times its own
 * steps (bench/machine). */
void load_sort_i64(int64_t *v, size_t n);

/* A result line: one JSON object printed as one line on stdout. Members are written with
 * core's jsonw (jw_kint(&line.w, ...), jw_kstr(...)) or the helpers below. */
struct load_line {
    struct buf buf;
    struct jsonw w;
};

/* Starts the line ("{"). */
void load_line_init(struct load_line *l);

/* A number member with `decimals` digits after the point ("%.*f"). */
void load_line_fixed(struct load_line *l, const char *key, double v, int decimals);

/* The members a closed-loop run starts with: connections, seconds (3 decimals), requests,
 * errors. */
void load_line_counts(struct load_line *l, const struct load_result *r);

/* The members it ends with: p50_us, p90_us, p99_us, max_us and first_error. */
void load_line_latency(struct load_line *l, const struct load_result *r);

/* Ends the line ("}\n"), prints it on stdout and frees it. Returns 0, or -1 when it could
 * not be written whole. */
int load_line_print(struct load_line *l);

#endif
