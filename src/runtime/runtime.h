/*
 * runtime.h — the Lambda runtime client every haar function links (AWS-CONTRACTS.md §1).
 *
 * The loop: GET /2018-06-01/runtime/invocation/next → handler → POST .../{id}/response
 * or .../{id}/error, over ONE kept-alive HTTP/1.1 connection to $AWS_LAMBDA_RUNTIME_API
 * (runtime_http.h). Failures of the protocol (GET /next not 200, a missing or unusable
 * request id, a POST not answered 2xx, a broken connection) are counted; three in a row
 * end the loop with a non-zero status, as aws-lambda-cpp does. GET /next answered 500
 * ("container error; runtime should exit") ends it at once.
 *
 * Before each handler call the runtime exports _X_AMZN_TRACE_ID (or unsets it when the
 * invocation has no trace) and sets the log context (runtime_log.h).
 *
 * A function's main is one line:
 *     int main(void) { return runtime_main(my_init, my_handler, NULL); }
 *
 * Not thread-safe: the loop runs on the caller's thread, which also runs the handler.
 */
#ifndef HAAR_RUNTIME_H
#define HAAR_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "runtime/runtime_http.h"

enum {
    RUNTIME_MAX_RESPONSE = 6 * 1024 * 1024, /* Lambda's synchronous response limit */
    RUNTIME_MAX_FAILURES = 3,               /* consecutive failures before exiting */
    RUNTIME_ERROR_TYPE_MAX = 128,
    RUNTIME_ERROR_MESSAGE_MAX = 4096,
};

/* One invocation, as the Runtime API described it. All strings are borrowed from the
 * runtime and valid only during the handler call; optional ones are NULL when absent. */
struct runtime_invocation {
    const char *request_id;       /* Lambda-Runtime-Aws-Request-Id (always set) */
    int64_t deadline_ms;          /* Lambda-Runtime-Deadline-Ms, epoch ms; 0 if absent */
    const char *function_arn;     /* Lambda-Runtime-Invoked-Function-Arn */
    const char *trace_id;         /* Lambda-Runtime-Trace-Id */
    const char *client_context;   /* Lambda-Runtime-Client-Context (JSON text) */
    const char *cognito_identity; /* Lambda-Runtime-Cognito-Identity (JSON text) */
    const char *tenant_id;        /* Lambda-Runtime-Aws-Tenant-Id */
    bool cold_start;              /* the first invocation of this process */
    void *user;                   /* the pointer given to runtime_init / runtime_main */
};

/* What a failing handler (or init) reports. Both fields are NUL-terminated text; an
 * empty type becomes "Runtime.HandlerError" ("Runtime.InitError" for init). */
struct runtime_error {
    char type[RUNTIME_ERROR_TYPE_MAX];
    char message[RUNTIME_ERROR_MESSAGE_MAX];
};

/* Fills err (printf-style message) and returns -1, so handlers can write
 * `return runtime_error_set(err, "Handler.InvalidEvent", "bad body: %s", why);`. */
int runtime_error_set(struct runtime_error *err, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Handles one event (event[0..len), NUL-terminated, untrusted). On success appends the
 * response (JSON) to out and returns 0; out is empty on entry and capped at
 * RUNTIME_MAX_RESPONSE. On failure fills err and returns non-zero: the runtime posts the
 * error and the invocation fails. */
typedef int (*runtime_handler)(const struct runtime_invocation *inv, const char *event, size_t len,
                               struct buf *out, struct runtime_error *err);

/* Runs once before the first GET /next. Returns 0, or fills err and returns non-zero:
 * the runtime posts /runtime/init/error and exits non-zero. */
typedef int (*runtime_init_fn)(void *user, struct runtime_error *err);

/* Milliseconds left before the invocation's deadline (0 when past it or unknown). */
int64_t runtime_remaining_ms(const struct runtime_invocation *inv);

/* Milliseconds since the epoch (CLOCK_REALTIME), the deadline's clock. */
int64_t runtime_now_ms(void);

/* The runtime's state. Callers embed it (runtime_init/runtime_destroy). */
struct runtime {
    struct runtime_http_conn conn;
    struct runtime_http_response res;
    struct buf out;  /* the handler's response */
    struct buf post; /* error bodies */
    struct buf path;
    runtime_handler handler;
    void *user;
    unsigned failures; /* consecutive */
    unsigned long failures_total;
    unsigned long invocations; /* handled (response or error posted) */
    bool cold;                 /* no invocation handled yet */
    char last_error[256];      /* why the loop stopped, for the exit message */
    char *trace_var;           /* "_X_AMZN_TRACE_ID=..." while in the environment */
    size_t trace_cap;          /* the value's room in trace_var */
};

/* Prepares a runtime for the Runtime API at `api` ("host:port"). Does not connect.
 * Returns 0, or -1 with rt->last_error set (bad address, no memory); call
 * runtime_destroy either way. */
int runtime_init(struct runtime *rt, const char *api, runtime_handler handler, void *user);

/* Closes the connection and frees everything; accepts NULL. */
void runtime_destroy(struct runtime *rt);

/* Runs the loop until `max` invocations were handled (max < 0: forever). Returns 0 when
 * max was reached, or 1 when the loop had to stop (RUNTIME_MAX_FAILURES consecutive
 * failures, or a fatal Runtime API answer); rt->last_error says why. */
int runtime_run(struct runtime *rt, long max);

/* Posts err to /runtime/init/error. Returns 0 when the Runtime API accepted it. */
int runtime_post_init_error(struct runtime *rt, const struct runtime_error *err);

/* The whole life of a bootstrap: reads AWS_LAMBDA_RUNTIME_API, runs init (may be NULL;
 * posts /runtime/init/error on failure) and the loop forever. Returns the process exit
 * status (non-zero: something above failed; the reason is logged). */
int runtime_main(runtime_init_fn init, runtime_handler handler, void *user);

#endif
