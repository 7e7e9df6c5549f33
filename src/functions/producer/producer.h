/*
 * producer.h — the EventBridge-scheduled function. Each scheduled event creates the
 * environment's scheduled tasks (SCHEDULE_TASKS: [{"kind","payload"}...]), each with an id
 * derived from the rule and the event's scheduled time (and the task's place in the list),
 * so a duplicate delivery of the same event finds its tasks already there and enqueues
 * nothing twice. Then it sweeps: tasks QUEUED, or RUNNING past their lease, for longer
 * than TASKDB_STALE_MS are sent again (functions/common/taskdb.h says why).
 */
#ifndef HAAR_FUNCTIONS_PRODUCER_H
#define HAAR_FUNCTIONS_PRODUCER_H

#include <stddef.h>

#include "functions/common/task.h"
#include "runtime/runtime.h"

enum { PRODUCER_SWEEP_PAGE = 100 };

/* The id of scheduled task number index of rule's event at time (the event's "time"). */
int producer_task_id(const char *rule, const char *time, size_t index, char out[TASK_ID_LEN + 1]);

/* The function's init and handler (runtime.h). user is a struct fn_app. */
int producer_init(void *user, struct runtime_error *err);
int producer_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                    struct buf *out, struct runtime_error *err);

#endif
