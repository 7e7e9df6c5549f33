/*
 * logs.h — the CloudWatch Logs engine: log groups, streams and events kept under the
 * state dir, with retention; its JSON 1.1 protocol adapter (X-Amz-Target: Logs_20140328.*);
 * and the `haar logs` verb.
 *
 * Engine calls run on the daemon's event-loop thread only (not thread-safe).
 * Nothing here includes HTTP server types: the daemon's router hands bytes in and out.
 */
#ifndef HAAR_CLOUD_LOGS_H
#define HAAR_CLOUD_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

struct logs;

/*
 * Opens (creating if needed) the log store under "<state_dir>/logs". Groups created by
 * logs_put get `default_retention_days` (0 = never expire). Returns NULL and writes a
 * message into err on failure. Free with logs_free.
 */
struct logs *logs_new(const char *state_dir, int default_retention_days, char *err, size_t errlen);

/* Replaces the store's clock (epoch ms); by default it reads core/clock.h's clock_now_ms
 * (which tests may make manual). NULL restores that default. */
void logs_set_clock(struct logs *lg, int64_t (*now_ms)(void *arg), void *arg);

/* Sets the region used in ARNs (default "us-east-1"); the daemon passes its config's
 * aws_region right after logs_new. */
void logs_set_region(struct logs *lg, const char *region);

/* Flushes and frees the store; accepts NULL. */
void logs_free(struct logs *lg);

/*
 * Appends one event (a single line, no trailing newline; a trailing "\n" is stripped) to
 * group/stream, creating both as needed. ts_ms is epoch milliseconds. The event is
 * buffered; logs_flush makes it visible to readers in other processes. Returns 0 or -1.
 */
int logs_put(struct logs *lg, const char *group, const char *stream, int64_t ts_ms, const char *msg,
             size_t len);

/* Writes buffered events out. The daemon calls it often (every loop turn or ≤100 ms). */
int logs_flush(struct logs *lg);

/* Drops events older than each group's retention, as of now_ms. Returns events dropped. */
long logs_expire(struct logs *lg, int64_t now_ms);

/*
 * Handles one CloudWatch Logs request. op is the part after "Logs_20140328." in
 * X-Amz-Target; body is the JSON request. Sets *status (200, or the error's status) and
 * writes the JSON answer (or an AWS-shaped error from core/err.h) into out.
 * Content type of the answer: application/x-amz-json-1.1. Returns 0, or -1 if out is full.
 */
int logs_api_handle(struct logs *lg, const char *op, const char *body, size_t len, int *status,
                    struct buf *out);

/*
 * The `haar logs NAME [--follow] [--since 10m] [--endpoint URL]` verb: argv[0] is "logs".
 * Talks to a running daemon through the Logs API (FilterLogEvents), prints each event's
 * message, one per line; with --follow keeps polling until interrupted.
 * Returns the process exit status (0 ok, 1 failure, 2 usage).
 */
int logs_cli(int argc, char **argv);

#endif
