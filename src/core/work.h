/*
 * work.h — a small pool of threads for work that must not stall the loop (unpacking a
 * function's code, reading a large file), answering on the loop through completions, as
 * libuv's uv_queue_work does.
 *
 * The loop submits a struct work (embedded in its owner); `run` executes on a pool thread
 * and must touch only what the work owns; `done` runs later on the loop (work_poll, woken
 * through work_notify_fd) — never from inside work_submit. Works run in any order.
 *
 * work_submit, work_poll, work_drain and work_notify_fd are for the loop thread only.
 */
#ifndef HAAR_CORE_WORK_H
#define HAAR_CORE_WORK_H

struct work;
typedef void (*work_fn)(struct work *w);

struct work {
    work_fn run;  /* pool thread */
    work_fn done; /* loop thread */
    void *data;   /* the owner's */
    struct work *next;
};

/* Starts the pool with n threads (1..16). Returns 0, or -1 (nothing started). Idempotent. */
int work_start(int n);

/* Stops the pool after the queued works ran (their done callbacks run too). */
void work_stop(void);

/* Queues w (run and done set). When the pool is not started, run executes at once on the
 * calling thread and done on the next work_poll. */
void work_submit(struct work *w);

/* The fd the loop watches (readable when completions are waiting), or -1 before work_start. */
int work_notify_fd(void);

/* Runs the done callbacks of finished works. Returns how many ran. */
int work_poll(void);

/* Waits for every queued work and runs its done callback (shutdown, tests). */
void work_drain(void);

#endif
