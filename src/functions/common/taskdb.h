/*
 * taskdb.h — the tasks table and queue, as the three functions use them: every state
 * change is one conditional DynamoDB write, so concurrent and repeated callers (client
 * retries, at-least-once deliveries, duplicate schedule events) agree on one outcome.
 *
 * The order of the write and the send (api and producer): taskdb_create puts the task
 * (QUEUED) first, taskdb_enqueue sends its message second, and the API answers 202 only
 * after both. A task is thus never in the queue without being in the table; a failed send
 * leaves a QUEUED task without a message, which taskdb_mark_enqueue_failed flags and three
 * paths recover: the client's retry with the same Idempotency-Key sends it again (the api),
 * POST /tasks/<id>/retry, and the producer's sweep (taskdb_stale), which re-sends tasks
 * QUEUED — or RUNNING past their lease — for longer than TASKDB_STALE_MS. A message sent
 * twice is harmless: the worker's conditional start lets one delivery run the task.
 *
 * The calls take the caller's deadline (epoch ms). They return AWS_OK or an AWS_* error
 * with err filled (aws/aws.h). Same threading as the AWS client: one thread.
 */
#ifndef HAAR_FUNCTIONS_TASKDB_H
#define HAAR_FUNCTIONS_TASKDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/ddb.h"
#include "functions/common/fn.h"
#include "functions/common/task.h"

enum {
    TASKDB_STALE_MS = 15 * 60 * 1000, /* QUEUED this long without running: re-sent */
    TASKDB_MAX_ERROR_MESSAGE = 1024,
};

struct taskdb {
    struct aws_client *aws;
    const char *table, *index, *queue_url;
};

/* Points db at the app's table, index and queue. */
void taskdb_init(struct taskdb *db, const struct fn_app *app);

/* A new task, as taskdb_create writes it. */
struct taskdb_new {
    const char *id;
    const char *kind;
    const char *payload; /* compact JSON text of an object */
    size_t payload_len;
    const char *source;          /* "api" or "schedule" */
    const char *idempotency_key; /* NULL when none */
    const char *request_hash;    /* NULL when none */
    int64_t now_ms;
};

/*
 * Puts the task as QUEUED unless a task with its id exists. AWS_OK: created. When it
 * exists: AWS_ESERVICE with err's code ConditionalCheckFailedException and *existing the
 * stored task (caller frees).
 */
int taskdb_create(struct taskdb *db, const struct taskdb_new *t, int64_t deadline,
                  struct aws_ddb_item **existing, struct aws_error *err);

/* Sends the task's message ({"id":...,"kind":...}) to the queue. */
int taskdb_enqueue(struct taskdb *db, const char *id, const char *kind, int64_t deadline,
                   struct aws_error *err);

/* Flags a QUEUED task whose message could not be sent (best effort: errors ignored). */
void taskdb_mark_enqueue_failed(struct taskdb *db, const char *id, int64_t now_ms,
                                int64_t deadline);

/* True when a stored task should be sent (again) by a replay of its creation: it is QUEUED
 * and either flagged enqueue_failed or QUEUED for longer than TASKDB_STALE_MS. */
bool taskdb_needs_enqueue(const struct aws_ddb_item *task, int64_t now_ms);

/* Reads a task (strongly consistent). *task is NULL when there is none. */
int taskdb_get(struct taskdb *db, const char *id, int64_t deadline, struct aws_ddb_item **task,
               struct aws_error *err);

/* A page of tasks in one status, newest first, through the status index. start_id and
 * start_created (both or neither) continue after a previous page's last_key. */
int taskdb_list(struct taskdb *db, enum task_status status, int limit, const char *start_id,
                const char *start_created, int64_t deadline, struct aws_ddb_page *page,
                struct aws_error *err);

/* Counts the tasks in one status (every page of the index). */
int taskdb_count(struct taskdb *db, enum task_status status, int64_t deadline, int64_t *count,
                 struct aws_error *err);

/* What taskdb_start found. */
enum taskdb_start {
    TASKDB_STARTED,  /* now RUNNING under run_id: run it */
    TASKDB_MISSING,  /* no such task */
    TASKDB_FINISHED, /* SUCCEEDED or FAILED already: do not run it again */
    TASKDB_BUSY,     /* RUNNING under another run whose lease has not ended */
};

/*
 * QUEUED → RUNNING (or takes over a RUNNING task whose lease ended: its run died) under
 * run_id until lease_until (epoch ms), counting one attempt. On AWS_OK, *outcome says what
 * happened and *task is the task after the write (TASKDB_STARTED) or as found (otherwise;
 * NULL when missing).
 */
int taskdb_start(struct taskdb *db, const char *id, const char *run_id, int64_t now_ms,
                 int64_t lease_until, int64_t deadline, enum taskdb_start *outcome,
                 struct aws_ddb_item **task, struct aws_error *err);

/* RUNNING (under run_id) → SUCCEEDED with result (compact JSON text). A ConditionalCheck
 * failure means the run lost its lease to another. */
int taskdb_succeed(struct taskdb *db, const char *id, const char *run_id, const char *result,
                   size_t result_len, int64_t now_ms, int64_t deadline, struct aws_error *err);

/* A failed attempt of the run: RUNNING (under run_id) → FAILED when final, else back to
 * QUEUED for the next delivery; the error is kept either way. */
int taskdb_fail(struct taskdb *db, const char *id, const char *run_id, const char *code,
                const char *message, bool final, int64_t now_ms, int64_t deadline,
                struct aws_error *err);

/* QUEUED → FAILED without a run (the last delivery could not start it in time). */
int taskdb_fail_unstarted(struct taskdb *db, const char *id, const char *code, const char *message,
                          int64_t now_ms, int64_t deadline, struct aws_error *err);

/* FAILED → QUEUED for another round of attempts. On AWS_OK *task is the task after the
 * write; on a ConditionalCheck failure, as found (NULL when missing). */
int taskdb_retry(struct taskdb *db, const char *id, int64_t now_ms, int64_t deadline,
                 struct aws_ddb_item **task, struct aws_error *err);

/* One page of tasks stuck in status (QUEUED, or RUNNING past its lease) since before
 * now - TASKDB_STALE_MS, for the sweep to re-send. */
int taskdb_stale(struct taskdb *db, enum task_status status, int64_t now_ms, int limit,
                 int64_t deadline, struct aws_ddb_page *page, struct aws_error *err);

#endif
