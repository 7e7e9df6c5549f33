/*
 * filter.c — FilterLogEvents' search, in the engine: the group's selected streams read a day
 * at a time (segments are per day), matched against the pattern, merged into the answer's
 * order — (timestamp, stream hash, offset), which the paging token names — and cut at the
 * limit or a read budget. Reading stops at a day boundary, so every event returned precedes
 * every event not yet read: the next page, from the token, misses nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "cloud/logs/logs_int.h"

enum { READ_BUDGET = 32 << 20 }; /* bytes of events read per call, at most about this */

int logs__event_cmp(const void *a, const void *b)
{
    const struct logs_event *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    uint64_t hx = logs__stream_hash(x->stream), hy = logs__stream_hash(y->stream);
    if (hx != hy)
        return hx < hy ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

bool logs__filter_selected(const struct logs_filter *f, const char *name)
{
    if (f->prefix)
        return strncmp(name, f->prefix, strlen(f->prefix)) == 0;
    if (f->names) {
        for (size_t i = 0; i < f->nnames; i++)
            if (strcmp(f->names[i], name) == 0)
                return true;
        return false;
    }
    return true;
}

static bool after_token(const struct logs_filter *f, const struct logs_event *ev)
{
    if (!f->has_after)
        return true;
    uint64_t h = logs__stream_hash(ev->stream);
    return ev->ts > f->after_ts ||
           (ev->ts == f->after_ts &&
            (h > f->after_hash || (h == f->after_hash && ev->off > f->after_off)));
}

int logs__filter(struct logs *lg, struct logs_group *g, const struct logs_filter *f,
                 struct logs_evset *set, bool *more, int64_t *read_until)
{
    *more = false;
    *read_until = f->end;
    logs_flush(lg);
    size_t n;
    struct logs_stream **streams = logs__group_streams(g, &n);
    int64_t start = f->start, end = f->end;
    if (f->has_after && f->after_ts > start)
        start = f->after_ts;                     /* nothing before the token's time is wanted */
    int64_t first = INT64_MAX, last = INT64_MIN; /* the streams' time span */
    for (size_t i = 0; i < n; i++) {
        int64_t a, b, c;
        if (logs__filter_selected(f, logs__stream_name(streams[i])) &&
            logs__stream_stats(lg, streams[i], &a, &b, &c)) {
            first = a < first ? a : first;
            last = b > last ? b : last;
        }
    }
    if (first == INT64_MAX)
        return 0;
    if (start < first)
        start = first;
    if (end > last + 1)
        end = last + 1;
    size_t bytes = 0;
    for (int64_t day = start / LOGS_DAY_MS * LOGS_DAY_MS; day < end; day += LOGS_DAY_MS) {
        int64_t lo = day > start ? day : start,
                hi = day + LOGS_DAY_MS < end ? day + LOGS_DAY_MS : end;
        for (size_t i = 0; i < n; i++) {
            if (!logs__filter_selected(f, logs__stream_name(streams[i])))
                continue;
            size_t before = set->n;
            if (logs__stream_read(lg, streams[i], lo, hi, set) != 0)
                return -1;
            size_t w = before; /* keep the matches after the token, compacting in place */
            for (size_t k = before; k < set->n; k++) {
                struct logs_event *ev = &set->v[k];
                bytes += ev->len + 64;
                if (after_token(f, ev) && logs__pattern_match(f->pattern, ev->msg, ev->len))
                    set->v[w++] = *ev;
            }
            set->n = w;
        }
        /* a whole day is read: stop here when the answer is full or the budget spent */
        if (hi < end && ((int64_t)set->n > f->limit || bytes > READ_BUDGET)) {
            *more = true;
            *read_until = hi;
            break;
        }
    }
    if (set->n > 1)
        qsort(set->v, set->n, sizeof *set->v, logs__event_cmp);
    return 0;
}
