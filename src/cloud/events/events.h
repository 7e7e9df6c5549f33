/*
 * events.h — the EventBridge engine: event buses, rules (schedule expressions and event
 * patterns), targets with their input options, retry policies and dead-letter queues, the
 * events that flow through them, and their delivery.
 *
 * State. The default bus always exists; custom buses are created and deleted by the API.
 * A bus holds rules (at most EVENTS_MAX_RULES), a rule at most EVENTS_MAX_TARGETS targets.
 * Every change is durable before it is acknowledged: a command applies its change in memory
 * at once (later requests see it), hands a batch to the store, and completes through its
 * callback once the batch is committed — or, when the commit fails, undoes the change (unless
 * a later change to the same rule came since) and completes with ERR_EVENTS_INTERNAL.
 *
 * Schedules run on TIMER_CLOCK timers: a rule's next fire time is armed when it is created,
 * enabled or restored; each fire sends the Scheduled Event of AWS-CONTRACTS.md §5 with that
 * fire time to the rule's targets, then arms the next one. Under the manual clock
 * (timer_advance) every due fire time runs once, in order; a fire notes its time and the
 * deliveries go out from a TIMER_REAL timer, after the clock move: of a long move only the
 * fires of its last day (EVENTS_MAX_BACKLOG_MS) are sent, older ones count as missed. A rate
 * counts from its anchor, the time its rule was created (or its expression last changed);
 * times missed while the daemon was down are not replayed (the next fire after a restart is
 * the first one after now).
 *
 * Deliveries. An event matched by a rule (or a schedule's fire) becomes one delivery per
 * target: the body is rendered with the target's input options, the delivery is written to
 * the store (PutEvents answers once that is durable), and its first attempt starts on a
 * deferred TIMER_REAL timer (so a clock advance delivers after it has run every fire).
 * Lambda targets get an asynchronous (Event) invocation; SQS targets (and dead-letter queues)
 * go through the host's send_sqs. A retriable failure is retried after 1 s, 2 s, 4 s, ...
 * (capped at 8 minutes, no jitter) on TIMER_CLOCK while the target's RetryPolicy allows
 * (MaximumRetryAttempts, default 185; MaximumEventAgeInSeconds, default 86400, counted from
 * the event's arrival); then, or at once for a permanent failure (a target that does not
 * exist), the event goes to the target's DeadLetterConfig queue with AWS's message attributes
 * (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
 * RETRY_ATTEMPTS), or is dropped when there is none. Pending deliveries survive restarts.
 *
 * No HTTP types here: the JSON 1.1 adapter (proto_json.c) validates requests against the
 * service model and calls the functions below. Loop thread only; nothing is thread-safe.
 */
#ifndef HAAR_CLOUD_EVENTS_H
#define HAAR_CLOUD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

struct events;
struct lambda;
struct store;

#define EVENTS_DEFAULT_BUS "default"

enum {
    EVENTS_MAX_TARGETS = 5,           /* per rule (AWS's quota) */
    EVENTS_MAX_RULES = 300,           /* per bus (AWS's default quota) */
    EVENTS_MAX_BUSES = 100,           /* custom buses per account (AWS's default quota) */
    EVENTS_MAX_TAGS = 50,             /* per resource */
    EVENTS_DEFAULT_RETRIES = 185,     /* RetryPolicy.MaximumRetryAttempts */
    EVENTS_DEFAULT_MAX_AGE = 86400,   /* RetryPolicy.MaximumEventAgeInSeconds */
    EVENTS_RETRY_FIRST_MS = 1000,     /* first retry delay; doubles per retry */
    EVENTS_RETRY_MAX_MS = 480000,     /* the cap: 185 retries span about a day */
    EVENTS_MAX_BACKLOG_MS = 86400000, /* fires older than this when sent are missed */
    EVENTS_MAX_BACKLOG = 1440,        /* fires a rule keeps waiting (a day of minutes) */
};

struct events_options {
    const char *region;  /* "eu-west-1" (copied) */
    const char *account; /* "000000000000" (copied) */
};

/* ---- the host: deliveries the engine cannot make itself --------------------------- */

/* What became of one send. error_code is one of the codes AWS puts in a dead letter's
 * ERROR_CODE attribute (NO_RESOURCE, CONNECTION_FAILURE, INTERNAL_ERROR, ...). */
enum events_outcome {
    EVENTS_SENT,      /* delivered */
    EVENTS_RETRIABLE, /* try again later (throttled, unreachable, internal) */
    EVENTS_PERMANENT, /* retrying cannot help (no such queue): straight to the DLQ */
};
typedef void (*events_sent_fn)(void *arg, enum events_outcome o, const char *error_code,
                               const char *error_message);

/* A message attribute of type String. */
struct events_attr {
    const char *name;
    const char *value;
};

/* A message for an SQS queue (a target, or a dead-letter queue). Everything is borrowed for
 * the duration of the send_sqs call only (copy what is kept). */
struct events_sqs_message {
    const char *queue_arn; /* arn:aws:sqs:<region>:<account>:<name> */
    const char *body;
    size_t len;
    const char *group_id; /* SqsParameters.MessageGroupId (FIFO queues), or NULL */
    const struct events_attr *attrs;
    size_t nattrs;
};

struct events_host {
    void *arg;
    /* Sends m; calls done(done_arg, ...) exactly once, later (never from inside the call).
     * NULL: this daemon has no SQS: SQS targets fail with CONNECTION_FAILURE (retried, then
     * dead-lettered — which fails too, so the event is dropped). */
    void (*send_sqs)(void *arg, const struct events_sqs_message *m, events_sent_fn done,
                     void *done_arg);
};

/* ---- life cycle --------------------------------------------------------------------- */

/*
 * Creates the engine over store (borrowed; NULL: nothing persists, completions are deferred
 * timers) delivering to Lambda through lm (borrowed; NULL: Lambda targets fail with
 * NO_RESOURCE). NULL when out of memory or the schema cannot be applied (message in err).
 */
struct events *events_new(const struct events_options *o, struct store *store, struct lambda *lm,
                          char *err, size_t errlen);

/* Sets (copies) the host's delivery callbacks; NULL clears them. */
void events_set_host(struct events *ev, const struct events_host *host);

/* Loads buses, rules, targets and pending deliveries from the store, arms the schedules (the
 * next fire after now) and resumes the deliveries. Call once, before any command. */
void events_restore(struct events *ev);

/* Stops every timer and frees; accepts NULL. Pending deliveries stay in the store. Call
 * after the store's last callbacks ran (store_flush) and after the Lambda engine is freed. */
void events_free(struct events *ev);

/* ---- the environment's schedule (from config) ----------------------------------------- */

struct events_provision {
    const char *rule;        /* "<project>-<env>-schedule" */
    const char *expression;  /* the config's schedule.expression */
    bool enabled;            /* schedule.enabled */
    const char *description; /* NULL: none */
    const json_t *tags;      /* object or NULL */
    const char *target_id;   /* "producer" */
    const char *target_arn;  /* the producer function's ARN */
    int max_retries;         /* the target's RetryPolicy */
    int max_age_seconds;
    const char *dlq_arn;     /* the target's DeadLetterConfig queue, or NULL */
};

/*
 * Creates or updates the rule on the default bus and its target, as `terraform apply` of the
 * environment does (other targets of the rule are kept; a rate keeps its anchor while its
 * expression is unchanged). Call after events_restore. The change is applied now and written
 * to the store in the background. Returns ERR_OK or an error with a message.
 */
enum err events_provision_schedule(struct events *ev, const struct events_provision *p, char *msg,
                                   size_t msglen);

/* ---- commands ------------------------------------------------------------------------ */

/* Completion of a command: ERR_OK, or an error with AWS's message. */
typedef void (*events_done_fn)(void *arg, enum err e, const char *msg);

/*
 * Every command below either returns an error at once (with AWS's message in msg; done is
 * never called), or returns ERR_OK and calls done exactly once, later, when the change is
 * durable. bus is a bus name (NULL or "" = the default bus); names are validated by the
 * adapter against the service model before they get here.
 */

/* PutRule: creates the rule, or replaces an existing one (arguments left out are cleared;
 * its targets and tags stay). Tags apply to a new rule only. */
struct events_rule_spec {
    const char *bus;
    const char *name;
    const char *pattern;     /* EventPattern text, or NULL */
    const char *schedule;    /* ScheduleExpression, or NULL */
    const char *state;       /* "ENABLED" (default) or "DISABLED" */
    const char *description; /* or NULL */
    const char *role_arn;    /* or NULL */
    const json_t *tags;      /* object of key -> value, or NULL */
};
enum err events_put_rule(struct events *ev, const struct events_rule_spec *s, char *msg,
                         size_t msglen, events_done_fn done, void *arg);

/* EnableRule / DisableRule. */
enum err events_set_rule_state(struct events *ev, const char *bus, const char *name, bool enabled,
                               char *msg, size_t msglen, events_done_fn done, void *arg);

/* DeleteRule: refused while the rule has targets; deleting a rule that does not exist is no
 * error (done still runs, later). */
enum err events_delete_rule(struct events *ev, const char *bus, const char *name, char *msg,
                            size_t msglen, events_done_fn done, void *arg);

/* PutTargets: targets is an array of Target objects (the adapter checked the model's
 * constraints: Id and Arn present, lengths, RetryPolicy ranges); each replaces the target
 * of the same Id or is added. Input options are compiled (ValidationException on error);
 * more than EVENTS_MAX_TARGETS in all is LimitExceededException. */
enum err events_put_targets(struct events *ev, const char *bus, const char *rule,
                            const json_t *targets, char *msg, size_t msglen, events_done_fn done,
                            void *arg);

/* RemoveTargets: ids is an array of target ids; ids the rule does not have are ignored. */
enum err events_remove_targets(struct events *ev, const char *bus, const char *rule,
                               const json_t *ids, char *msg, size_t msglen, events_done_fn done,
                               void *arg);

/* CreateEventBus (tags: object or NULL) / DeleteEventBus (its rules and targets go with it;
 * deleting a bus that does not exist is no error). */
enum err events_create_bus(struct events *ev, const char *name, const json_t *tags, char *msg,
                           size_t msglen, events_done_fn done, void *arg);
enum err events_delete_bus(struct events *ev, const char *name, char *msg, size_t msglen,
                           events_done_fn done, void *arg);

/* TagResource (tags: object, merged) / UntagResource (keys: array of strings) on a rule or
 * bus ARN. More than EVENTS_MAX_TAGS in all is refused, changing nothing. */
enum err events_tag(struct events *ev, const char *arn, const json_t *tags, char *msg,
                    size_t msglen, events_done_fn done, void *arg);
enum err events_untag(struct events *ev, const char *arn, const json_t *keys, char *msg,
                      size_t msglen, events_done_fn done, void *arg);

/* ---- events -------------------------------------------------------------------------- */

/* One PutEvents entry the adapter accepted. */
struct events_entry {
    const char *bus; /* bus name (NULL = default); a bus that does not exist drops it */
    const char *source;
    const char *detail_type;
    const json_t *detail;    /* a JSON object (borrowed) */
    const json_t *resources; /* array of strings, or NULL */
    int64_t time_ms;         /* the entry's Time, or -1 for now */
    char id[37];             /* out: the EventId */
};

/*
 * PutEvents: gives each entry an id, matches it against the enabled rules of its bus and
 * queues a delivery per target of every matching rule. Returns true when deliveries are
 * being made durable: done runs later (ERR_OK, or ERR_EVENTS_INTERNAL when they could not
 * be stored — nothing was delivered); false when nothing needed storing: answer at once
 * (done is never called).
 */
bool events_put_events(struct events *ev, struct events_entry *entries, size_t n,
                       events_done_fn done, void *arg);

/*
 * `haar trigger`: fires the rule now, as its schedule would: its targets get a Scheduled
 * Event with the current time. Sets *time_ms and *ntargets. Returns ERR_OK or
 * ERR_EVENTS_NOT_FOUND (message in msg).
 */
enum err events_trigger(struct events *ev, const char *bus, const char *name, int64_t *time_ms,
                        size_t *ntargets, char *msg, size_t msglen);

/* ---- reads --------------------------------------------------------------------------- */

/* A rule as DescribeRule and ListRules show it; everything borrowed from the engine, valid
 * until the next command. Absent members are NULL. */
struct events_rule_info {
    const char *name, *bus, *arn;
    const char *pattern, *schedule, *description, *role_arn;
    const char *state;                         /* "ENABLED" | "DISABLED" */
    const json_t *tags;                        /* object */
    const json_t *targets[EVENTS_MAX_TARGETS]; /* Target objects as put, in Id order */
    size_t ntargets;
    int64_t next_fire_ms; /* the armed schedule's next fire time, or -1 */
};

/* The rule, or false (also when the bus does not exist). */
bool events_rule_get(struct events *ev, const char *bus, const char *name,
                     struct events_rule_info *out);

/* Calls cb for each rule of bus in name order whose name starts with prefix (NULL: any) and
 * comes after `after` (NULL: from the first); stops when cb returns false. Returns false when
 * the bus does not exist. */
bool events_rule_each(struct events *ev, const char *bus, const char *prefix, const char *after,
                      bool (*cb)(void *arg, const struct events_rule_info *r), void *arg);

struct events_bus_info {
    const char *name, *arn;
    int64_t created_ms;
    const json_t *tags;
    size_t nrules;
};

/* The bus, or false. */
bool events_bus_get(struct events *ev, const char *name, struct events_bus_info *out);

/* Calls cb for each bus in name order (prefix and after as for events_rule_each). */
void events_bus_each(struct events *ev, const char *prefix, const char *after,
                     bool (*cb)(void *arg, const struct events_bus_info *b), void *arg);

/* The tags (object, borrowed) of the rule or bus with this ARN, or NULL when there is none
 * (msg then holds the ResourceNotFoundException message). */
const json_t *events_tags(struct events *ev, const char *arn, char *msg, size_t msglen);

/* Counters since start (tests, /_haar/health). */
struct events_stats {
    uint64_t fired;         /* schedule fires (and triggers) */
    uint64_t matched;       /* (event, rule) matches from PutEvents */
    uint64_t delivered;     /* sends that succeeded */
    uint64_t retried;       /* attempts scheduled after a retriable failure */
    uint64_t dead_lettered; /* events put on a target's DLQ */
    uint64_t dlq_failed;    /* dead letters that could not be sent (then dropped) */
    uint64_t dropped;       /* events given up without a DLQ (or with a failing one) */
    uint64_t missed;        /* schedule fires older than a day when they could be sent */
    size_t pending;         /* deliveries not finished */
    size_t rules, buses;
};
void events_get_stats(const struct events *ev, struct events_stats *out);

/* A JSON summary for /_haar/health: {"buses","rules","schedules","deliveries":{...}}. */
json_t *events_health_json(const struct events *ev);

/* The region and account the engine was made with (borrowed). */
const char *events_region(const struct events *ev);
const char *events_account(const struct events *ev);

#endif
