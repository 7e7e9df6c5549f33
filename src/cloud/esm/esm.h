/*
 * esm.h — Lambda event source mappings from SQS queues (AWS-CONTRACTS.md §4, AWS-RECORDED.md
 * §3): pollers that long-poll a queue through the SQS engine (cloud/sqs/queue.h), gather
 * batches (BatchSize, MaximumBatchingWindowInSeconds, 6 MB), filter them (FilterCriteria:
 * EventBridge patterns, cloud/events/pattern.h; messages that match no filter are deleted),
 * invoke the function synchronously with the SQS event (cloud/lambda/lambda.h), and delete
 * what succeeded: the whole batch, or — with ReportBatchItemFailures — all but the listed
 * items; on a function error, a timeout, a throttle or an invalid batchItemFailures answer
 * nothing is deleted and the messages show again after their visibility timeout.
 *
 * Scaling: a mapping starts with one poller; a poller that brings back a full batch adds one
 * (up to ScalingConfig.MaximumConcurrency, default 1000, and never more than the function's
 * reserved concurrency when it has one); a poller whose long poll comes back empty leaves
 * when others remain; a throttled invocation takes one away.
 *
 * State: Creating → Enabled | Disabled, Enabling → Enabled, Disabling → Disabled, Updating →
 * Enabled | Disabled, Deleting → gone, as AWS reports them (the transitions happen a moment
 * after the command, on a TIMER_REAL timer). Mappings are durable (store v2): a command
 * completes once committed; mappings come back at start.
 *
 * No HTTP types here; the REST adapter is esm/proto_rest.c. Loop thread only.
 */
#ifndef HAAR_CLOUD_ESM_H
#define HAAR_CLOUD_ESM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct esm;
struct esm_mapping;
struct lambda;
struct sqs;
struct store;

enum {
    ESM_BATCH_DEFAULT = 10,
    ESM_BATCH_MAX = 10000,
    ESM_BATCH_MAX_FIFO = 10,
    ESM_WINDOW_MAX = 300,
    ESM_CONCURRENCY_DEFAULT = 1000,
    ESM_PAYLOAD_MAX = 6291456,
};

/* Creates the engine (store, sqs and lambda borrowed) and loads the durable mappings, which
 * start polling at once. NULL with a message in err. */
struct esm *esm_new(struct store *st, struct sqs *sqs, struct lambda *lm, const char *region,
                    const char *account, char *err, size_t errlen);

/* Stops every poller (in-flight invocations are detached) and frees; accepts NULL. */
void esm_free(struct esm *e);

/* A create or update request; has_* false = not given (borrowed). */
struct esm_spec {
    const char *source_arn; /* EventSourceArn (create only) */
    const char *function;   /* FunctionName: name or ARN */
    bool has_batch_size;
    long long batch_size;
    bool has_window;
    long long window;
    bool has_enabled;
    bool enabled;
    bool has_max_concurrency;
    long long max_concurrency; /* 0 = remove the ScalingConfig */
    bool has_response_types;
    bool report_failures; /* FunctionResponseTypes contains ReportBatchItemFailures */
    bool has_filters;
    const json_t *filters; /* FilterCriteria.Filters: [{"Pattern": s}], or NULL = none */
    const json_t *tags;    /* Tags (create only): object of strings, or NULL */
};

/* What Get/List show of a mapping; strings borrowed from the mapping. */
struct esm_info {
    const char *uuid, *arn, *source_arn, *function_arn, *state, *state_reason;
    int batch_size, window, max_concurrency; /* max_concurrency 0 = no ScalingConfig */
    bool report_failures;
    const json_t *filters; /* or NULL */
    int64_t last_modified_ms;
    const char *last_result; /* LastProcessingResult */
    const json_t *tags;
};

/* Completion of a command: the mapping as the answer shows it (borrowed during the call). */
typedef void (*esm_done_fn)(void *arg, enum err e, const char *msg, const struct esm_info *m);

/*
 * CreateEventSourceMapping: validates (the queue exists, the function exists, BatchSize 1–10
 * (FIFO) or 1–10000, a window of at least 1 s above 10, FilterCriteria patterns, one mapping
 * per queue and function), stores, and answers with State "Creating". Refusals come back at
 * once with AWS's code and message (ERR_LAMBDA_INVALID_PARAMETER, ERR_LAMBDA_NOT_FOUND,
 * ERR_LAMBDA_CONFLICT); otherwise done runs after the commit.
 */
enum err esm_create(struct esm *e, const struct esm_spec *s, esm_done_fn done, void *arg, char *msg,
                    size_t msglen);

/* UpdateEventSourceMapping: the fields given; State "Updating" (or Enabling/Disabling). */
enum err esm_update(struct esm *e, const char *uuid, const struct esm_spec *s, esm_done_fn done,
                    void *arg, char *msg, size_t msglen);

/* DeleteEventSourceMapping: answers State "Deleting"; the mapping goes a moment later. */
enum err esm_delete(struct esm *e, const char *uuid, esm_done_fn done, void *arg, char *msg,
                    size_t msglen);

/* GetEventSourceMapping: false when there is no such mapping. */
bool esm_get(struct esm *e, const char *uuid, struct esm_info *out);

/* ListEventSourceMappings: the mappings of source_arn and/or function (NULL = any; a name or
 * an ARN), in creation order, from the one after marker (a UUID, NULL = the start), at most
 * max; *next gets the UUID to continue from (NULL when done). */
void esm_list(struct esm *e, const char *source_arn, const char *function, const char *marker,
              long long max, void (*emit)(void *arg, const struct esm_info *m), void *arg,
              const char **next);

/* Tags of a mapping (by its ARN): false when no such mapping. */
bool esm_tags(struct esm *e, const char *arn, const json_t **tags);
/* TagResource / UntagResource on a mapping ARN (tags: object of strings; keys: array). */
enum err esm_tag(struct esm *e, const char *arn, const json_t *tags, const json_t *keys,
                 esm_done_fn done, void *arg, char *msg, size_t msglen);

/*
 * The environment's own mapping (haar up): creates or updates the mapping of source_arn to
 * function from the config values, keeping its UUID across restarts. Synchronous (waits for
 * the commit). Returns ERR_OK or the refusal with its message.
 */
enum err esm_provision(struct esm *e, const struct esm_spec *s, char *msg, size_t msglen);

/* For /_haar/health: [{"uuid","source","function","state","pollers","in_flight",
 * "batches","failures"}]. New reference. */
json_t *esm_health_json(const struct esm *e);

#endif
