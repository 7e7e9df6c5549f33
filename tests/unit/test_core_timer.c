/* Unit tests: core/timer — ordering, stop/restart from callbacks, the two domains, the
 * manual clock's advance, many timers (heap invariants under random operations), and
 * deferred calls (order, cancel, turns, taking an owner's calls back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/timer.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

struct rec {
    int order[64];
    int64_t at[64];
    int n;
};

struct tt {
    struct timer t;
    struct rec *rec;
    int id;
    struct timer *stop_other; /* stopped by this one's callback */
    int64_t restart_ms;       /* > 0: restarts itself once */
};

static void fired(struct timer *t)
{
    struct tt *x = t->data;
    x->rec->order[x->rec->n] = x->id;
    x->rec->at[x->rec->n] = clock_now_ms();
    x->rec->n++;
    if (x->stop_other)
        timer_stop(x->stop_other);
    if (x->restart_ms > 0) {
        int64_t d = x->restart_ms;
        x->restart_ms = 0;
        timer_start(t, d);
    }
}

static void mk(struct tt *x, struct rec *r, int id, enum timer_domain d)
{
    memset(x, 0, sizeof *x);
    x->rec = r;
    x->id = id;
    assert_int_equal(timer_init(&x->t, d, fired, x), 0);
}

static void test_advance_runs_in_time_order_at_their_times(void **state)
{
    (void)state;
    clock_set_manual(T0);
    struct rec r = {0};
    struct tt a, b, c, d;
    mk(&a, &r, 1, TIMER_CLOCK);
    mk(&b, &r, 2, TIMER_CLOCK);
    mk(&c, &r, 3, TIMER_CLOCK);
    mk(&d, &r, 4, TIMER_CLOCK);
    timer_start(&a.t, 3000);
    timer_start(&b.t, 1000);
    timer_start(&c.t, 1000); /* same due as b: start order */
    timer_start(&d.t, 9000); /* not due by the advance */
    assert_int_equal(timer_count(TIMER_CLOCK), 4);
    /* a manual clock never falls due by itself */
    assert_int_equal(timer_wait_ms(), -1);
    assert_int_equal(timer_run_due(), 0);
    assert_int_equal(timer_advance(T0 + 5000), 3);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 2);
    assert_int_equal(r.order[1], 3);
    assert_int_equal(r.order[2], 1);
    assert_int_equal(r.at[0], T0 + 1000);
    assert_int_equal(r.at[2], T0 + 3000);
    assert_int_equal(clock_now_ms(), T0 + 5000);
    assert_true(timer_pending(&d.t));
    assert_false(timer_pending(&a.t));
    /* never backwards */
    assert_int_equal(timer_advance(T0 + 4000), -1);
    timer_destroy(&a.t);
    timer_destroy(&b.t);
    timer_destroy(&c.t);
    timer_destroy(&d.t);
    assert_int_equal(timer_count(TIMER_CLOCK), 0);
    clock_set_real();
}

static void test_callbacks_stop_and_restart(void **state)
{
    (void)state;
    clock_set_manual(T0);
    struct rec r = {0};
    struct tt a, b, c;
    mk(&a, &r, 1, TIMER_CLOCK);
    mk(&b, &r, 2, TIMER_CLOCK);
    mk(&c, &r, 3, TIMER_CLOCK);
    a.stop_other = &b.t;
    a.restart_ms = 500; /* runs again at T0+1500, within the advance */
    timer_start(&a.t, 1000);
    timer_start(&b.t, 1200);
    timer_start(&c.t, 1400);
    assert_int_equal(timer_advance(T0 + 2000), 3);
    assert_int_equal(r.order[0], 1);
    assert_int_equal(r.order[1], 3);
    assert_int_equal(r.order[2], 1);
    assert_int_equal(r.at[2], T0 + 1500);
    /* restarting a pending timer moves it */
    timer_start(&c.t, 100);
    timer_start(&c.t, 300);
    assert_int_equal(timer_count(TIMER_CLOCK), 1);
    assert_int_equal(timer_advance(T0 + 2200), 0);
    assert_int_equal(timer_advance(T0 + 2300), 1);
    timer_destroy(&a.t);
    timer_destroy(&b.t);
    timer_destroy(&c.t);
    clock_set_real();
}

static void test_real_timers_run_in_real_time_under_a_manual_clock(void **state)
{
    (void)state;
    clock_set_manual(T0);
    struct rec r = {0};
    struct tt a, b;
    mk(&a, &r, 1, TIMER_REAL);
    mk(&b, &r, 2, TIMER_CLOCK);
    timer_start(&a.t, 0); /* a deferred call: due now */
    timer_start(&b.t, 0); /* a CLOCK timer due now runs too */
    assert_int_equal(timer_wait_ms(), 0);
    assert_int_equal(timer_run_due(), 2);
    timer_start(&a.t, 60000);
    int64_t w = timer_wait_ms();
    assert_true(w > 59000 && w <= 60000);
    /* moving the manual clock does not move real time */
    assert_int_equal(timer_advance(T0 + 3600000), 0);
    assert_true(timer_pending(&a.t));
    timer_destroy(&a.t);
    timer_destroy(&b.t);
    assert_int_equal(timer_wait_ms(), -1);
    clock_set_real();
}

static void test_epoch_start(void **state)
{
    (void)state;
    clock_set_manual(T0);
    struct rec r = {0};
    struct tt a;
    mk(&a, &r, 1, TIMER_CLOCK);
    timer_start_epoch(&a.t, T0 + 86400000LL);
    assert_int_equal(timer_advance(T0 + 86399999LL), 0);
    assert_int_equal(timer_advance(T0 + 86400000LL), 1);
    assert_int_equal(r.at[0], T0 + 86400000LL);
    timer_destroy(&a.t);
    clock_set_real();
}

struct many {
    struct timer t;
    int64_t last_run_due;
    int runs;
};

static int64_t last_due_seen;
static int order_violations;

static void many_fired(struct timer *t)
{
    struct many *m = t->data;
    if (t->due < last_due_seen)
        order_violations++;
    last_due_seen = t->due;
    m->runs++;
}

/* Random starts, restarts and stops on 5,000 timers: everything pending at the end runs once,
 * in due order; nothing stopped runs. */
static void test_many_random_operations(void **state)
{
    (void)state;
    enum { N = 5000 };
    clock_set_manual(T0);
    struct many *m = calloc(N, sizeof *m);
    assert_non_null(m);
    for (int i = 0; i < N; i++)
        assert_int_equal(timer_init(&m[i].t, TIMER_CLOCK, many_fired, &m[i]), 0);
    srand(7);
    for (int step = 0; step < 50000; step++) {
        int i = rand() % N;
        if (rand() % 4 == 0)
            timer_stop(&m[i].t);
        else
            timer_start(&m[i].t, rand() % 100000);
    }
    int pending = 0;
    for (int i = 0; i < N; i++)
        pending += timer_pending(&m[i].t);
    assert_int_equal((int)timer_count(TIMER_CLOCK), pending);
    last_due_seen = 0;
    order_violations = 0;
    assert_int_equal(timer_advance(T0 + 100000), pending);
    assert_int_equal(order_violations, 0);
    for (int i = 0; i < N; i++) {
        assert_true(m[i].runs <= 1);
        timer_destroy(&m[i].t);
    }
    free(m);
    clock_set_real();
}

/* ---- deferred calls ---- */

struct dc {
    struct timer_defer d;
    struct rec *rec;
    int id;
    struct dc *then;          /* deferred by this one's call */
    struct timer_defer *stop; /* cancelled by this one's call */
};

static void dc_ran(struct timer_defer *d)
{
    struct dc *x = d->data;
    x->rec->order[x->rec->n++] = x->id;
    if (x->then)
        timer_defer(&x->then->d, dc_ran, x->then, NULL);
    if (x->stop)
        timer_defer_cancel(x->stop);
}

static void dc_mk(struct dc *x, struct rec *r, int id)
{
    memset(x, 0, sizeof *x);
    x->rec = r;
    x->id = id;
}

static void test_defer_runs_next_turn_in_queue_order(void **state)
{
    (void)state;
    struct rec r = {0};
    struct dc a, b, c;
    dc_mk(&a, &r, 1);
    dc_mk(&b, &r, 2);
    dc_mk(&c, &r, 3);
    assert_false(timer_defer_pending(&a.d));
    assert_int_equal(timer_wait_ms(), -1);
    timer_defer(&b.d, dc_ran, &b, NULL);
    timer_defer(&a.d, dc_ran, &a, NULL);
    timer_defer(&c.d, dc_ran, &c, NULL);
    timer_defer(&b.d, dc_ran, &b, NULL); /* queued again: moves to the back, runs once */
    assert_true(timer_defer_pending(&b.d));
    assert_int_equal(r.n, 0); /* never inside the call */
    assert_int_equal(timer_wait_ms(), 0);
    assert_int_equal(timer_run_due(), 3);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.order[0], 1);
    assert_int_equal(r.order[1], 3);
    assert_int_equal(r.order[2], 2);
    assert_false(timer_defer_pending(&a.d));
    assert_int_equal(timer_run_due(), 0);
    assert_int_equal(timer_wait_ms(), -1);
}

static void test_defer_cancel(void **state)
{
    (void)state;
    struct rec r = {0};
    struct dc a, b, c, z;
    dc_mk(&a, &r, 1);
    dc_mk(&b, &r, 2);
    dc_mk(&c, &r, 3);
    memset(&z, 0, sizeof z);
    timer_defer_cancel(&z.d); /* a zeroed node: no-op */
    a.stop = &c.d;            /* a cancels c, queued behind it in the same turn */
    timer_defer(&a.d, dc_ran, &a, NULL);
    timer_defer(&b.d, dc_ran, &b, NULL);
    timer_defer(&c.d, dc_ran, &c, NULL);
    timer_defer_cancel(&b.d);
    timer_defer_cancel(&b.d); /* twice: no-op */
    assert_false(timer_defer_pending(&b.d));
    assert_int_equal(timer_run_due(), 1);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.order[0], 1);
    assert_false(timer_defer_pending(&c.d));
    assert_int_equal(timer_wait_ms(), -1);
    /* cancelled, a node can be queued again */
    timer_defer(&b.d, dc_ran, &b, NULL);
    assert_int_equal(timer_run_due(), 1);
    assert_int_equal(r.order[1], 2);
}

/* A call that defers another: the second waits for the following turn, behind calls queued
 * in between; the loop does not sleep meanwhile. */
static void test_defer_from_a_deferred_call_waits_a_turn(void **state)
{
    (void)state;
    struct rec r = {0};
    struct dc a, b, c;
    dc_mk(&a, &r, 1);
    dc_mk(&b, &r, 2);
    dc_mk(&c, &r, 3);
    a.then = &b;
    b.then = &a; /* a chain of deferrals runs one link per turn, never spinning */
    timer_defer(&a.d, dc_ran, &a, NULL);
    assert_int_equal(timer_run_due(), 1);
    assert_int_equal(r.n, 1);
    assert_true(timer_defer_pending(&b.d));
    assert_int_equal(timer_wait_ms(), 0);
    timer_defer(&c.d, dc_ran, &c, NULL); /* queued after b, between the turns */
    assert_int_equal(timer_run_due(), 2);
    assert_int_equal(r.order[1], 2);
    assert_int_equal(r.order[2], 3);
    b.then = NULL;
    assert_int_equal(timer_run_due(), 1); /* a again, queued by b */
    assert_int_equal(r.order[3], 1);
    assert_int_equal(timer_run_due(), 1); /* b again, queued by a: the end of the chain */
    assert_int_equal(timer_run_due(), 0);
    assert_int_equal(r.n, 5);
}

/* Deferred calls follow no clock: a manual clock does not hold them back, and moving it does
 * not run them. They run before the turn's due timers. */
static void test_defer_under_a_manual_clock(void **state)
{
    (void)state;
    clock_set_manual(T0);
    struct rec r = {0};
    struct dc a;
    struct tt t;
    dc_mk(&a, &r, 1);
    mk(&t, &r, 2, TIMER_CLOCK);
    timer_start(&t.t, 0);
    timer_defer(&a.d, dc_ran, &a, NULL);
    assert_int_equal(timer_advance(T0 + 1000), 1); /* the timer, not the call */
    assert_int_equal(r.order[0], 2);
    assert_true(timer_defer_pending(&a.d));
    assert_int_equal(timer_wait_ms(), 0);
    timer_start(&t.t, 0);
    assert_int_equal(timer_run_due(), 2);
    assert_int_equal(r.order[1], 1);
    assert_int_equal(r.order[2], 2);
    assert_int_equal(clock_now_ms(), T0 + 1000);
    timer_destroy(&t.t);
    clock_set_real();
}

static struct rec *taken;

static void dc_taken(struct timer_defer *d)
{
    struct dc *x = d->data;
    taken->order[taken->n++] = x->id;
}

/* An owner going away takes its calls back, in queue order; the others stay queued. */
static void test_defer_take_an_owners_calls(void **state)
{
    (void)state;
    struct rec r = {0}, t = {0};
    struct dc a, b, c, d;
    int owner1 = 1, owner2 = 2;
    dc_mk(&a, &r, 1);
    dc_mk(&b, &r, 2);
    dc_mk(&c, &r, 3);
    dc_mk(&d, &r, 4);
    timer_defer(&a.d, dc_ran, &a, &owner1);
    timer_defer(&b.d, dc_ran, &b, &owner2);
    timer_defer(&c.d, dc_ran, &c, &owner1);
    timer_defer(&d.d, dc_ran, &d, NULL);
    taken = &t;
    assert_int_equal(timer_defer_take(&owner1, dc_taken), 2);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.order[0], 1);
    assert_int_equal(t.order[1], 3);
    assert_false(timer_defer_pending(&a.d));
    assert_false(timer_defer_pending(&c.d));
    assert_int_equal(timer_defer_take(&owner1, dc_taken), 0);
    assert_int_equal(timer_run_due(), 2);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.order[0], 2);
    assert_int_equal(r.order[1], 4);
}

static int wakes;

static void count_wake(void *arg)
{
    assert_ptr_equal(arg, &wakes);
    wakes++;
}

/* The loop hears when the queue goes from empty to not empty, and only then. */
static void test_defer_wake_on_first_call_queued(void **state)
{
    (void)state;
    struct rec r = {0};
    struct dc a, b;
    dc_mk(&a, &r, 1);
    dc_mk(&b, &r, 2);
    wakes = 0;
    timer_defer_set_wake(count_wake, &wakes);
    timer_defer(&a.d, dc_ran, &a, NULL);
    assert_int_equal(wakes, 1);
    timer_defer(&b.d, dc_ran, &b, NULL); /* not empty before: no wake */
    assert_int_equal(wakes, 1);
    assert_int_equal(r.n, 0); /* the hook runs nothing */
    assert_int_equal(timer_run_due(), 2);
    timer_defer(&a.d, dc_ran, &a, NULL); /* empty again: heard again */
    assert_int_equal(wakes, 2);
    timer_defer_cancel(&a.d);
    timer_defer_set_wake(NULL, NULL);
    timer_defer(&b.d, dc_ran, &b, NULL); /* nobody listening */
    assert_int_equal(wakes, 2);
    assert_int_equal(timer_run_due(), 1);
    assert_int_equal(r.n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_advance_runs_in_time_order_at_their_times),
        cmocka_unit_test(test_callbacks_stop_and_restart),
        cmocka_unit_test(test_real_timers_run_in_real_time_under_a_manual_clock),
        cmocka_unit_test(test_epoch_start),
        cmocka_unit_test(test_many_random_operations),
        cmocka_unit_test(test_defer_runs_next_turn_in_queue_order),
        cmocka_unit_test(test_defer_cancel),
        cmocka_unit_test(test_defer_from_a_deferred_call_waits_a_turn),
        cmocka_unit_test(test_defer_under_a_manual_clock),
        cmocka_unit_test(test_defer_take_an_owners_calls),
        cmocka_unit_test(test_defer_wake_on_first_call_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
