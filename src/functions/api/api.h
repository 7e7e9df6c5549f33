/*
 * api.h — the HTTP API function (API Gateway HTTP API, payload format 2.0):
 *
 *   GET  /health                        200 {"status":"ok"}
 *   POST /tasks                         202 + Location: the task (stored QUEUED, enqueued)
 *   GET  /tasks?status=S&limit=N&next=C 200 {"tasks":[...],"next":C}, newest first
 *   GET  /tasks/<id>                    200 the task
 *   POST /tasks/<id>/retry              202 the task (FAILED → QUEUED), 409 otherwise
 *
 * Errors are {"error":{"code","message"}} with 400 (bad input), 404 (no such path or
 * task), 405 (wrong method, with Allow), 409, 413 (payload over 256 KB), 429 (the tables
 * or queue throttle) and 503 (they fail).
 *
 * POST /tasks takes {"kind": K, "payload": {...}} (payload optional, {} by default; no
 * other members), K one of the worker's kinds and the payload valid for it. With an
 * Idempotency-Key header the task's id is derived from the key, so the conditional put of
 * the task is the idempotency record: of any number of concurrent or later requests with
 * that key one creates the task and the others get it back (202, Idempotent-Replayed:
 * true); the same key with another request is 409. How a failed enqueue is recovered:
 * functions/common/taskdb.h.
 *
 * The parts the tests read without AWS — request validation, routing, cursors — are
 * public below.
 */
#ifndef HAAR_FUNCTIONS_API_H
#define HAAR_FUNCTIONS_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "functions/common/task.h"
#include "runtime/runtime.h"

enum {
    API_MAX_BODY = TASK_MAX_PAYLOAD + 16 * 1024, /* refused (413) before it is parsed */
    API_MAX_KEY = 255,                           /* Idempotency-Key characters */
    API_DEFAULT_LIMIT = 20,
    API_MAX_LIMIT = 100,
};

/* Why a request is refused: the HTTP status and the error's code and message. */
struct api_problem {
    int status;
    char code[48];
    char message[512];
};

/* A validated POST /tasks body. */
struct api_create {
    const struct task_kind *kind;
    json_t *payload;    /* the payload object (owned) */
    char *payload_text; /* its compact JSON (owned, malloc) */
    size_t payload_len;
};

/* Frees what api_parse_create filled; accepts NULL. */
void api_create_destroy(struct api_create *c);

/* Validates a POST /tasks body. Returns 0 with c filled, or -1 with p filled (400 or 413). */
int api_parse_create(const char *body, size_t len, struct api_create *c, struct api_problem *p);

/* The request's hash, what a reuse of an Idempotency-Key is compared by: the SHA-256 of the
 * kind and the payload with its members sorted, as 64 hex digits into out. Returns 0, or -1
 * when out of memory. */
int api_request_hash(const struct api_create *c, char out[65]);

/* Validates an Idempotency-Key: 1 to 255 printable ASCII characters. Returns 0, or -1
 * with p filled (400). */
int api_check_idempotency_key(const char *key, struct api_problem *p);

/* Lists: the cursor of the page after the one whose last item is (id, created_at), in
 * status: base64url (no padding) of {"id","created_at","status"}. Writes it into out. */
int api_cursor_encode(const char *id, const char *created_at, enum task_status status, char *out,
                      size_t cap);

/* Reads a cursor for status back into id and created_at. Returns 0, or -1 with p filled
 * (400 InvalidCursor: not one of ours, or for another status). */
int api_cursor_decode(const char *cursor, enum task_status status, char id[TASK_ID_LEN + 1],
                      char created_at[32], struct api_problem *p);

/* The routes, as a table (see api.c). */
enum api_route_id { API_HEALTH, API_CREATE, API_LIST, API_GET, API_RETRY, API_ROUTE_COUNT };

/* Matches method and path. Returns 0 with *route and the {id} segment (id, borrowed from
 * path, idlen; NULL when the route has none); 405 when the path exists with other methods
 * (allow then lists them, "GET, POST"); 404 when it does not. */
int api_route(const char *method, const char *path, enum api_route_id *route, const char **id,
              size_t *idlen, char *allow, size_t allow_cap);

/* The function's init and handler (runtime.h). user is a struct fn_app. */
int api_init(void *user, struct runtime_error *err);
int api_handle(const struct runtime_invocation *inv, const char *event, size_t len, struct buf *out,
               struct runtime_error *err);

#endif
