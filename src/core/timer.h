/*
 * timer.h — every timer in the daemon, in two min-heaps (DESIGN.md "Inside the daemon").
 *
 * A timer is a struct embedded in its owner (no allocation when it is started). It belongs to
 * one of two time domains:
 * - TIMER_CLOCK follows core/clock.h: real monotonic time, or the manual clock when tests
 *   switched to it (`haar up --clock manual`). Visibility timeouts, delays, retention,
 *   schedules, TTL, Event-invoke retries and log retention use it, so tests run time forward.
 * - TIMER_REAL is always real monotonic time. Lambda timeouts (they guard real processes),
 *   memory sampling, idle reaping, log flushing and deferred completions use it.
 *
 * The loop sleeps exactly until the next due timer or I/O (timer_wait_ms), then runs what is
 * due (timer_run_due). Under a manual clock, CLOCK timers run only when the clock is moved
 * (timer_advance), each at its own due time, in time order; ties run in start order.
 *
 * Capacity is reserved when a timer is initialised, so starting one never allocates and never
 * fails. A timer may be stopped, restarted or destroyed from any callback, its own included.
 *
 * A deferred call (timer_defer) is the loop's "soon": it runs on the loop's next turn, in the
 * order calls were queued, in neither domain (no clock moves it; the manual clock does not
 * hold it back). Engines answer through one so that a completion never runs inside the call
 * that asked for it.
 *
 * Loop thread only: nothing here is thread-safe.
 */
#ifndef HAAR_CORE_TIMER_H
#define HAAR_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

enum timer_domain { TIMER_CLOCK = 0, TIMER_REAL = 1 };

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
    int64_t due;     /* in its domain's milliseconds, while pending */
    uint64_t seq;    /* start order, to break ties */
    uint32_t slot;   /* heap index + 1; 0 when not pending */
    uint8_t domain;  /* enum timer_domain */
    bool registered; /* between timer_init and timer_destroy */
    timer_fn fn;
    void *data; /* the owner's, untouched */
};

/* Registers t (not started) in domain d; fn(t) runs when it falls due. Returns 0, or -1 when
 * out of memory (t is then unregistered, and timer_destroy on it is a no-op). */
int timer_init(struct timer *t, enum timer_domain d, timer_fn fn, void *data);

/* Stops t and releases its reserved place. Accepts a zeroed or destroyed timer. */
void timer_destroy(struct timer *t);

/* (Re)starts t to fall due delay_ms from its domain's now (negative means now). */
void timer_start(struct timer *t, int64_t delay_ms);

/* (Re)starts t to fall due at due_ms, in its domain's milliseconds (timer_now). */
void timer_start_at(struct timer *t, int64_t due_ms);

/* (Re)starts t to fall due at the epoch time epoch_ms (as clock_now_ms reads it). */
void timer_start_epoch(struct timer *t, int64_t epoch_ms);

/* Stops t if pending; no-op otherwise. */
void timer_stop(struct timer *t);

/* True while t is started and has not run or been stopped. */
bool timer_pending(const struct timer *t);

/* The domain's current time in ms (TIMER_CLOCK: clock_mono_ms; TIMER_REAL: real monotonic). */
int64_t timer_now(enum timer_domain d);

/* ---- deferred calls ---- */

struct timer_defer;
typedef void (*timer_defer_fn)(struct timer_defer *d);

/* One deferred call, embedded in its owner (queuing it never allocates and never fails). */
struct timer_defer {
    struct timer_defer *prev, *next; /* the queue, while pending */
    uint64_t turn;                   /* the turn it was queued in */
    timer_defer_fn fn;
    void *data;        /* the caller's, untouched */
    const void *owner; /* who it belongs to, for timer_defer_take (may be NULL) */
    bool pending;
};

/* Queues d to run fn(d) once, on the loop's next turn (the next timer_run_due that starts
 * after this call), after every call queued before it. A pending d is queued anew at the
 * tail. d is the caller's: zeroed before its first use, and valid until it runs or is
 * cancelled. owner (NULL allowed) is recorded for timer_defer_take. */
void timer_defer(struct timer_defer *d, timer_defer_fn fn, void *data, const void *owner);

/* Sets who hears that the deferred queue went from empty to not empty (NULL: nobody): the
 * loop, so that it runs them within the turn it is in rather than after its next wait.
 * wake must not run deferred calls itself. */
void timer_defer_set_wake(void (*wake)(void *arg), void *arg);

/* Unqueues d if pending; no-op otherwise (a zeroed d included). */
void timer_defer_cancel(struct timer_defer *d);

/* True while d is queued and has not run or been cancelled. */
bool timer_defer_pending(const struct timer_defer *d);

/* Unqueues every pending call of owner (non-NULL) and hands each to fn, in queue order — for
 * an owner going away, to run its calls now or to free them. fn may queue calls again; they
 * wait for the next turn. Returns how many were handed over. */
int timer_defer_take(const void *owner, timer_defer_fn fn);

/* ---- the loop's side ---- */

/* Milliseconds until the next timer falls due: 0 when one is due or a deferred call is
 * queued, -1 when nothing is pending (under a manual clock, CLOCK timers that are not due
 * yet do not count). */
int64_t timer_wait_ms(void);

/* One loop turn: runs the deferred calls queued before it started (ones they queue wait for
 * the next turn), then every timer that is due now, both domains, earliest first. Timers
 * started by the callbacks with a due time in the past run too; ones started for later wait.
 * Returns how many calls and timers ran. */
int timer_run_due(void);

/*
 * Manual clock only: moves the clock forward to epoch_ms, running every CLOCK timer that
 * falls due on the way, each with the clock set to its own due time, in time order (timers
 * the callbacks start for times up to epoch_ms run too; deferred calls wait for the loop's
 * turn). Returns how many ran, or -1 when
 * the clock is not manual or epoch_ms is before the clock's current time.
 */
int timer_advance(int64_t epoch_ms);

/* How many timers are pending in a domain (for tests and /_haar/health). */
unsigned timer_count(enum timer_domain d);

#endif
