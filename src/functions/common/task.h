/*
 * task.h — the task: its states, its id, its item in the tasks table, and its JSON form
 * in the API's answers (DESIGN.md "The application").
 *
 * The item (table <project>-<env>-tasks, key id; GSI by-status on status + created_at):
 *   id S, kind S, payload S (JSON text), status S, created_at S / updated_at S (ISO-8601
 *   with ms: sorts as it reads), attempts N (runs started), source S ("api"|"schedule"),
 *   expires_at N (TTL, epoch s); while RUNNING: run_id S, lease_until N (epoch ms, the end
 *   of the run's invocation), started_at S; when finished: finished_at S, and result S (JSON
 *   text) or error_code S + error_message S; idempotency_key S and request_hash S when the
 *   POST had an Idempotency-Key; enqueue_failed BOOL after a SendMessage that failed.
 *
 * States move QUEUED → RUNNING → SUCCEEDED | FAILED, RUNNING → QUEUED after a failed
 * attempt that is not the last, FAILED → QUEUED on POST /tasks/<id>/retry — each by a
 * conditional write (functions/common/taskdb.h), so at-least-once delivery never runs a
 * finished task again. Pure functions; thread-safe.
 */
#ifndef HAAR_FUNCTIONS_TASK_H
#define HAAR_FUNCTIONS_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/ddb.h"
#include "core/jsonw.h"

enum task_status { TASK_QUEUED, TASK_RUNNING, TASK_SUCCEEDED, TASK_FAILED, TASK_STATUS_COUNT };

enum {
    TASK_ID_LEN = 36,
    TASK_MAX_PAYLOAD = 256 * 1024, /* bytes of the payload's compact JSON */
    TASK_KIND_MAX = 64,
    TASK_TTL_DAYS = 30,
};

/* "QUEUED", ... (static strings). */
const char *task_status_name(enum task_status s);

/* Parses a status name. Returns 0, or -1 when s is not one (exact, upper case). */
int task_status_parse(const char *s, enum task_status *out);

/* A fresh random id (UUID v4) into out (TASK_ID_LEN + 1 bytes). */
void task_id_random(char out[TASK_ID_LEN + 1]);

/* The id derived from a namespace and bytes: the first 16 bytes of SHA-256(ns ":" data)
 * as a UUID (version 8, RFC 9562's custom form). The same inputs give the same id: an
 * Idempotency-Key, or a schedule rule and its fire time, name one task. Returns 0, or -1
 * (out "") when no digest could be made (out of memory). */
int task_id_derived(const char *ns, const void *data, size_t len, char out[TASK_ID_LEN + 1]);

/* True when s (len bytes) has the form of a task id (8-4-4-4-12 lowercase hex). */
bool task_id_valid(const char *s, size_t len);

/* Writes the task in the API's form from its item:
 *   {"id","kind","status","payload":{...},"attempts",["result":{...}],
 *    ["error":{"code","message"}],"created_at","updated_at",["started_at"],["finished_at"]}
 * Returns 0, or -1 when the item lacks id, kind or status. */
int task_render(const struct aws_ddb_item *item, struct jsonw *w);

/* Writes a task just created (QUEUED, no attempts) in the same form as task_render. */
void task_render_new(struct jsonw *w, const char *id, const char *kind, const char *payload,
                     size_t payload_len, const char *created_at);

#endif
