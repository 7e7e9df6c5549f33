/*
 * worker.h — the SQS-fed function (event source mapping with ReportBatchItemFailures):
 * each record names a task ({"id","kind"}); the worker moves it QUEUED → RUNNING →
 * SUCCEEDED | FAILED with conditional writes and reports per-message failures.
 *
 * Per record, what happens is decided by worker_decide (a table the tests read):
 *  - the task started (its conditional start won): run its kind within the invocation's
 *    remaining time; success → SUCCEEDED, message deleted; a failure → back to QUEUED and
 *    the message reported failed (SQS delivers it again), or FAILED when it cannot succeed
 *    or when this was the last delivery (ApproximateReceiveCount = MAX_RECEIVE_COUNT): the
 *    task is marked FAILED *before* the queue moves the message to the dead-letter queue;
 *  - finished already (a duplicate delivery): nothing runs, the message is deleted;
 *  - running under another delivery's live lease: the message is reported failed, to come
 *    back after its visibility timeout;
 *  - unknown (the id names no task): the message is deleted;
 *  - not started for lack of time: reported failed (the last delivery fails the task).
 * A task that would run past the function's remaining time is failed cleanly
 * (DeadlineExceeded), never killed half-written.
 */
#ifndef HAAR_FUNCTIONS_WORKER_H
#define HAAR_FUNCTIONS_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "functions/common/fn.h"
#include "runtime/runtime.h"

/* The time a record needs besides its kind's run: the conditional start and finish. */
enum { WORKER_RECORD_RESERVE_MS = 1000, WORKER_ID_MAX = 128 };

/* What became of one record's attempt. */
enum worker_event {
    WORKER_SUCCEEDED,      /* the kind ran and its result was stored */
    WORKER_FAILED_RETRY,   /* the kind failed and may succeed on a later attempt */
    WORKER_FAILED_FOREVER, /* the kind failed in a way no attempt can mend */
    WORKER_DUPLICATE,      /* the task had finished already */
    WORKER_BUSY,           /* another delivery runs it */
    WORKER_MISSING,        /* no such task */
    WORKER_NO_TIME,        /* not started: the invocation's time is used up */
    WORKER_STORE_ERROR,    /* the table could not be written or read */
    WORKER_BAD_MESSAGE,    /* the message does not name a task */
};

/* What to do about it. */
struct worker_action {
    bool mark_failed;    /* store FAILED (else, after a failed run, back to QUEUED) */
    bool report_failure; /* keep the message: SQS delivers it again, or moves it to the DLQ */
};

/* The decision table: event × whether this delivery is the last one. */
struct worker_action worker_decide(enum worker_event ev, bool last_delivery);

/* The function's init and handler (runtime.h). user is a struct fn_app. */
int worker_init(void *user, struct runtime_error *err);
int worker_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                  struct buf *out, struct runtime_error *err);

#endif
