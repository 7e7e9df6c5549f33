/*
 * events_int.h — the EventBridge engine's insides, shared by bus.c (buses, rules, targets,
 * schedules, persistence of the configuration) and deliver.c (events, deliveries, retries,
 * dead letters). Not for other modules: they use events.h.
 *
 * A rule's configuration is a struct ev_state whose parts are immutable and shared by
 * reference (jansson references, and counted ev_pat / ev_target objects): a change builds a
 * new state from the old one, keeps the old one until the store has committed the change,
 * and puts it back if the commit failed. Loop thread only.
 */
#ifndef HAAR_CLOUD_EVENTS_INT_H
#define HAAR_CLOUD_EVENTS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloud/events/event.h"
#include "cloud/events/events.h"
#include "cloud/events/pattern.h"
#include "cloud/events/schedule.h"
#include "cloud/events/transform.h"
#include "core/timer.h"

struct store_batch;
struct store_stmt;

/* A compiled event pattern, shared by the states that hold it. */
struct ev_pat {
    int refs;
    char *text; /* as given */
    struct events_pattern *p;
    char **sources;  /* the exact values a top-level "source" must take, or NULL */
    size_t nsources; /* 0: the pattern cannot be indexed by source */
};

/* A target, immutable once built, shared by the states that hold it. */
struct ev_target {
    int refs;
    json_t *doc;                /* the Target object as put (nulls removed) */
    const char *id, *arn;       /* borrowed from doc */
    const char *dlq;            /* DeadLetterConfig.Arn, or NULL */
    const char *group;          /* SqsParameters.MessageGroupId, or NULL */
    int max_retries, max_age_s; /* RetryPolicy, defaults filled */
    struct events_input *in;    /* the compiled input options */
};

/* What a rule is, apart from its name and timer. */
struct ev_state {
    json_t *doc;        /* strings: Description, RoleArn, ScheduleExpression, EventPattern, State */
    json_t *tags;       /* object */
    struct ev_pat *pat; /* NULL: no pattern */
    bool has_sched;
    struct events_schedule sched;
    int64_t anchor_ms; /* a rate counts from here */
    int64_t created_ms;
    bool enabled;
    struct ev_target *t[EVENTS_MAX_TARGETS]; /* in Id order */
    size_t nt;
};

struct ev_bus;

struct ev_rule {
    struct events *ev;
    struct ev_bus *bus;
    char *name;
    char arn[EVENTS_ARN_MAX];
    struct ev_state st;
    struct timer timer; /* TIMER_CLOCK: the next fire */
    int64_t next_ms;    /* when the armed timer fires, or -1 */
    /* fire times waiting for their deliveries (a ring): fires only note their time, and a
     * TIMER_REAL timer sends them, so a clock move runs every fire first and delivers after */
    int64_t *fires;
    size_t fire_head, nfires;
    struct timer flush; /* TIMER_REAL */
    uint64_t gen;       /* the change that made st */
};

/* One (source value, rule) pair of a bus's match index. */
struct ev_src {
    const char *source;
    struct ev_rule *rule;
};

struct ev_bus {
    char *name;
    char arn[EVENTS_ARN_MAX];
    int64_t created_ms;
    json_t *tags;
    struct ev_rule **rules; /* sorted by name */
    size_t nrules, caprules;
    /* the match index of the enabled rules with a pattern, rebuilt when dirty */
    bool index_dirty;
    struct ev_src *idx; /* sorted by source */
    size_t nidx, capidx;
    struct ev_rule **scan; /* rules the index cannot narrow down: always tried */
    size_t nscan, capscan;
};

struct ev_delivery;

struct events {
    char region[32];
    char account[16];
    struct store *store;
    struct lambda *lm;
    struct events_host host;
    struct store_stmt *bus_put, *bus_del, *bus_all;
    struct store_stmt *rule_put, *rule_del, *rule_del_bus, *rule_all;
    struct store_stmt *tgt_put, *tgt_del_rule, *tgt_del_bus, *tgt_all;
    struct store_stmt *dl_put, *dl_upd, *dl_del, *dl_all, *dl_max;
    struct ev_bus **buses; /* sorted by name; "default" always there */
    size_t nbuses, capbuses;
    uint64_t gen;
    int64_t next_seq; /* the next delivery's sequence number */
    struct ev_delivery *dl_head;
    struct events_stats stats;
};

/* ---- bus.c ---- */

/* The bus of that name (NULL or "" = default), or NULL. */
struct ev_bus *events__bus(struct events *ev, const char *name);

/* The rule of that name on bus, or NULL. */
struct ev_rule *events__rule(struct ev_bus *b, const char *name);

/*
 * Calls cb for each enabled rule of bus b with a pattern that may match an event whose
 * source is `source` (the index narrows rules down by their "source" values; every rule it
 * cannot narrow is included). The caller still matches each against the event.
 */
void events__candidates(struct ev_bus *b, const char *source,
                        void (*cb)(void *arg, struct ev_rule *r), void *arg);

/* The target of that id in the rule's current state, or NULL. */
struct ev_target *events__target(struct ev_rule *r, const char *id);

/* ---- deliver.c ---- */

/* Sends the rule's Scheduled Event for `when_ms` to its targets. Returns how many. */
size_t events__fire(struct ev_rule *r, int64_t when_ms);

/* Loads pending deliveries (after the rules) and starts them. */
void events__restore_deliveries(struct events *ev);

/* Frees every delivery (their rows stay in the store). */
void events__free_deliveries(struct events *ev);

#endif
