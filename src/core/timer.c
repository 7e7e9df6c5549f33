/*
 * timer.c — two binary min-heaps of timer pointers, ordered by (due, seq). Each timer keeps
 * its heap index (slot) so stopping one is O(log n). Arrays grow in timer_init, never in
 * timer_start. Deferred calls are a doubly-linked FIFO, each stamped with the turn it was
 * queued in, so a turn runs exactly the calls queued before it began.
 */
#include "core/timer.h"

#include <stdlib.h>

#include "core/clock.h"

struct heap {
    struct timer **v;
    uint32_t n;   /* pending */
    uint32_t cap; /* allocated slots */
    uint32_t reg; /* registered timers: cap >= reg always */
};

static struct heap heaps[2];
static uint64_t next_seq;

static struct timer_defer *defer_head, *defer_tail;
static uint64_t turn; /* timer_run_due calls so far */
static void (*defer_wake)(void *arg);
static void *defer_wake_arg;

static bool before(const struct timer *a, const struct timer *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(struct heap *h, uint32_t i, struct timer *t)
{
    h->v[i] = t;
    t->slot = i + 1;
}

static void sift_up(struct heap *h, uint32_t i)
{
    struct timer *t = h->v[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!before(t, h->v[p]))
            break;
        place(h, i, h->v[p]);
        i = p;
    }
    place(h, i, t);
}

static void sift_down(struct heap *h, uint32_t i)
{
    struct timer *t = h->v[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
            c++;
        if (!before(h->v[c], t))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, t);
}

static void heap_remove(struct heap *h, struct timer *t)
{
    uint32_t i = t->slot - 1;
    t->slot = 0;
    h->n--;
    if (i == h->n)
        return;
    struct timer *last = h->v[h->n];
    place(h, i, last);
    if (i > 0 && before(last, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

int timer_init(struct timer *t, enum timer_domain d, timer_fn fn, void *data)
{
    struct heap *h = &heaps[d];
    *t = (struct timer){.domain = (uint8_t)d, .fn = fn, .data = data};
    if (h->reg == h->cap) {
        uint32_t cap = h->cap ? h->cap * 2 : 64;
        struct timer **v = realloc(h->v, cap * sizeof *v);
        if (v == NULL)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    h->reg++;
    t->registered = true;
    return 0;
}

void timer_destroy(struct timer *t)
{
    if (t == NULL || !t->registered)
        return;
    timer_stop(t);
    heaps[t->domain].reg--;
    t->registered = false;
}

int64_t timer_now(enum timer_domain d)
{
    return d == TIMER_CLOCK ? clock_mono_ms() : clock_real_mono_ms();
}

void timer_start_at(struct timer *t, int64_t due_ms)
{
    struct heap *h = &heaps[t->domain];
    if (t->slot != 0)
        heap_remove(h, t);
    t->due = due_ms;
    t->seq = next_seq++;
    place(h, h->n++, t);
    sift_up(h, h->n - 1);
}

void timer_start(struct timer *t, int64_t delay_ms)
{
    timer_start_at(t, timer_now(t->domain) + (delay_ms > 0 ? delay_ms : 0));
}

void timer_start_epoch(struct timer *t, int64_t epoch_ms)
{
    timer_start(t, epoch_ms - clock_now_ms());
}

void timer_stop(struct timer *t)
{
    if (t->slot != 0)
        heap_remove(&heaps[t->domain], t);
}

bool timer_pending(const struct timer *t)
{
    return t->slot != 0;
}

unsigned timer_count(enum timer_domain d)
{
    return heaps[d].n;
}

/* ---- deferred calls ---- */

static void defer_unlink(struct timer_defer *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        defer_head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        defer_tail = d->prev;
    d->prev = d->next = NULL;
    d->pending = false;
}

void timer_defer(struct timer_defer *d, timer_defer_fn fn, void *data, const void *owner)
{
    if (d->pending)
        defer_unlink(d);
    d->fn = fn;
    d->data = data;
    d->owner = owner;
    d->turn = turn;
    d->pending = true;
    d->next = NULL;
    d->prev = defer_tail;
    if (defer_tail)
        defer_tail->next = d;
    else
        defer_head = d;
    defer_tail = d;
    if (d == defer_head && defer_wake != NULL)
        defer_wake(defer_wake_arg);
}

void timer_defer_set_wake(void (*wake)(void *arg), void *arg)
{
    defer_wake = wake;
    defer_wake_arg = arg;
}

void timer_defer_cancel(struct timer_defer *d)
{
    if (d->pending)
        defer_unlink(d);
}

bool timer_defer_pending(const struct timer_defer *d)
{
    return d->pending;
}

int timer_defer_take(const void *owner, timer_defer_fn fn)
{
    /* set aside first: fn may queue calls of the same owner again */
    struct timer_defer *head = NULL, *tail = NULL;
    for (struct timer_defer *d = defer_head, *next; d != NULL; d = next) {
        next = d->next;
        if (d->owner != owner)
            continue;
        defer_unlink(d);
        if (tail)
            tail->next = d;
        else
            head = d;
        tail = d;
    }
    int n = 0;
    for (struct timer_defer *d = head, *next; d != NULL; d = next, n++) {
        next = d->next;
        d->next = NULL;
        fn(d);
    }
    return n;
}

/* Runs the calls queued before this turn began; returns how many. */
static int run_deferred(void)
{
    uint64_t this_turn = ++turn;
    int ran = 0;
    while (defer_head != NULL && defer_head->turn < this_turn) {
        struct timer_defer *d = defer_head;
        defer_unlink(d);
        d->fn(d);
        ran++;
    }
    return ran;
}

/* ---- the loop's side ---- */

int64_t timer_wait_ms(void)
{
    if (defer_head != NULL)
        return 0;
    int64_t wait = -1;
    for (int d = 0; d < 2; d++) {
        struct heap *h = &heaps[d];
        if (h->n == 0)
            continue;
        int64_t left = h->v[0]->due - timer_now((enum timer_domain)d);
        if (left <= 0)
            return 0;
        if (d == TIMER_CLOCK && clock_is_manual())
            continue; /* moves only when the clock is moved */
        if (wait < 0 || left < wait)
            wait = left;
    }
    return wait;
}

/* Pops the earliest of the heaps' due timers (due at or before each domain's now). */
static struct timer *pop_due(void)
{
    struct timer *best = NULL;
    int64_t best_late = 0;
    for (int d = 0; d < 2; d++) {
        struct heap *h = &heaps[d];
        if (h->n == 0)
            continue;
        int64_t late = timer_now((enum timer_domain)d) - h->v[0]->due;
        if (late < 0)
            continue;
        /* across domains, the one overdue the longest goes first */
        if (best == NULL || late > best_late) {
            best = h->v[0];
            best_late = late;
        }
    }
    if (best != NULL)
        heap_remove(&heaps[best->domain], best);
    return best;
}

int timer_run_due(void)
{
    int ran = run_deferred();
    /* bounded: timers a callback restarts for "now" would otherwise spin forever */
    for (int budget = 100000; budget > 0; budget--) {
        struct timer *t = pop_due();
        if (t == NULL)
            break;
        t->fn(t);
        ran++;
    }
    return ran;
}

int timer_advance(int64_t epoch_ms)
{
    if (!clock_is_manual() || epoch_ms < clock_now_ms())
        return -1;
    struct heap *h = &heaps[TIMER_CLOCK];
    int ran = 0;
    while (h->n > 0 && h->v[0]->due <= epoch_ms) {
        struct timer *t = h->v[0];
        if (t->due > clock_now_ms())
            clock_set_manual(t->due);
        heap_remove(h, t);
        t->fn(t);
        ran++;
    }
    clock_set_manual(epoch_ms);
    return ran;
}
