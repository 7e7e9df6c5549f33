/*
 * store.h — SQLite persistence of what the daemon acknowledged, under <state_dir>/haar.db
 * (WAL mode, synchronous=FULL: a commit is on disk, not only in the OS, when it returns).
 *
 * Two ways to write:
 * - store_put / store_delete: one committed statement, synchronous, on the caller's
 *   connection. For rare changes (function CRUD) and for startup.
 * - store_submit_put / store_submit_delete: group commit (DESIGN.md "Inside the daemon").
 *   The loop queues changes; one persistence thread owns a second connection and commits
 *   everything queued so far in one transaction (one fdatasync for the batch); then the
 *   loop runs each change's done callback from store_poll, so an acknowledgement is sent
 *   only once its change is durable. Changes commit in submission order.
 *
 * Thread-safety: store_open/close/put/delete/each/submit/poll/flush are for the loop thread
 * only; the persistence thread is internal. store_notify_fd becomes readable (an eventfd)
 * when completions are waiting for store_poll.
 */
#ifndef HAAR_CLOUD_STORE_H
#define HAAR_CLOUD_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct store;

/* Opens or creates <dir>/haar.db and starts the persistence thread. NULL with a message in
 * err on failure. */
struct store *store_open(const char *dir, char *err, size_t errlen);

/* Commits what is queued (running its callbacks), stops the thread, closes; accepts NULL. */
void store_close(struct store *st);

/* Inserts or replaces a record (kind "function", "event", ...) keyed by key, committed
 * before it returns. Returns 0/-1. */
int store_put(struct store *st, const char *kind, const char *key, const char *value, size_t len);

/* Deletes a record, committed before it returns; absent is not an error. Returns 0/-1. */
int store_delete(struct store *st, const char *kind, const char *key);

/* Calls cb for every record of kind, in insertion order. Returns 0/-1. Sees committed data. */
int store_each(struct store *st, const char *kind,
               void (*cb)(void *arg, const char *key, const char *value, size_t len), void *arg);

/* Completion of a submitted change: rc 0 once durable, -1 if the commit failed. */
typedef void (*store_done_fn)(void *arg, int rc);

/* Queues a put (value copied) or delete for group commit; done (may be NULL) runs from
 * store_poll after the commit. Returns 0, or -1 when out of memory (done is not called). */
int store_submit_put(struct store *st, const char *kind, const char *key, const char *value,
                     size_t len, store_done_fn done, void *arg);
int store_submit_delete(struct store *st, const char *kind, const char *key, store_done_fn done,
                        void *arg);

/* The fd the loop watches (readable when completions are ready). Owned by the store. */
int store_notify_fd(const struct store *st);

/* Runs the callbacks of committed changes. Returns how many ran. */
int store_poll(struct store *st);

/* Waits until everything submitted so far is committed, then runs the callbacks. */
void store_flush(struct store *st);

#endif
