/*
 * proto_common.h — what the two SQS protocol adapters share. The logic of every action lives
 * once, in proto_ops.c, written against a small neutral interface that each adapter
 * implements for its wire:
 *
 *   - struct sqs_in: reads the request's members by their JSON-protocol names ("QueueUrl",
 *     "AttributeNames", "Entries"); proto_json.c reads the JSON document, proto_query.c maps
 *     the names onto the flattened form (AttributeName.N, Attribute.N.Name/Value,
 *     <Action>RequestEntry.N.*) and parses its integers.
 *   - struct sqs_out: writes the answer as nested structures, lists, maps and scalars named
 *     by their JSON members; proto_json.c writes JSON, proto_query.c the XML envelope
 *     (<XResponse><XResult>...<ResponseMetadata>) with the query protocol's element names.
 *
 * So the adapters keep only what is wire-specific: decoding the body, member naming, the
 * envelope. Errors are answered with proto_error (src/cloud/proto renders them).
 *
 * A call (struct sqs_call) is the per-request context that outlives the handler while the
 * engine works (a commit, a long poll). Lifecycle: created at the start of an action that
 * calls the engine asynchronously; when the engine accepts the command (ERR_OK) it waits for
 * the client going away; the engine's callback asks sqs_call_req for the request (NULL when
 * the client is gone), answers it, and frees the call. A gone client cancels a parked
 * receive (call->w) and the call is freed with it; for other commands the engine's callback
 * still runs and frees the call.
 *
 * Adapter layer: loop thread only.
 */
#ifndef HAAR_CLOUD_SQS_PROTO_COMMON_H
#define HAAR_CLOUD_SQS_PROTO_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "cloud/proto/proto.h"
#include "cloud/proto/xmlw.h"
#include "cloud/sqs/queue.h"
#include "core/buf.h"
#include "core/jsonw.h"

enum {
    SQS_IN_MAX = 64,   /* members of a list or map a request may carry (more are ignored) */
    SQS_OUT_DEPTH = 8, /* nesting of an answer */
    SQS_OUT_MAX = 24 * 1024 * 1024,
};

struct sqs_in;
struct sqs_out;

/* ---- reading a request ------------------------------------------------------------------- */

/*
 * Each reader returns false after answering a malformed member (the request is then done);
 * an absent member is not malformed. Strings are borrowed from the request.
 */
struct sqs_in_ops {
    /* A string: absent leaves out->p NULL. */
    bool (*str)(struct sqs_in *in, const char *name, struct sqs_str *out);
    /* An integer: absent leaves *has false. */
    bool (*num)(struct sqs_in *in, const char *name, bool *has, long long *out);
    /* A list of strings, at most cap kept. */
    bool (*list)(struct sqs_in *in, const char *name, struct sqs_str *out, size_t cap, size_t *n);
    /* A map of strings (tags) as pairs, at most cap kept. */
    bool (*map)(struct sqs_in *in, const char *name, struct sqs_kv *out, size_t cap, size_t *n);
    /* A list or map the action requires, which read n members. Called twice: before the
     * queue is resolved (queue_known false) and after; each protocol refuses at its point
     * (JSON: an absent member, while reading; query, which cannot tell absent from empty: an
     * empty one, after resolving the queue). False after answering MissingParameter. */
    bool (*require)(struct sqs_in *in, const char *name, size_t n, bool queue_known);
    /* The queue attributes (Attributes) as pairs for sqs_create_queue/sqs_set_attributes;
     * cap ≥ SQS_QA__COUNT. Returns ERR_OK or a refusal with its message (not answered). */
    enum err (*queue_attrs)(struct sqs_in *in, struct sqs_kv *out, size_t cap, size_t *n, char *msg,
                            size_t msglen);
    /* MessageAttributes (system: MessageSystemAttributes), parsed and validated into the
     * empty set (attrs.h). Returns ERR_OK or the refusal with its message (not answered);
     * ERR_SERIALIZATION is a malformed request even inside a batch. */
    enum err (*msg_attrs)(struct sqs_in *in, bool system, struct sqs_attrs *set, char *msg,
                          size_t msglen);
    /* The batch entries (Entries): how many the request has. */
    bool (*entries)(struct sqs_in *in, size_t *n);
    /* Entry i (< the count) as an input of its own, into out. */
    bool (*entry)(struct sqs_in *in, size_t i, struct sqs_in *out);
};

/* A wire protocol, as the actions see it. */
struct sqs_wire {
    bool query; /* the query protocol: its messages and URLs differ (queue.h) */
    const struct sqs_in_ops *in;
    const struct sqs_out_ops *out;
};

/* A request being read: the adapter fills it and runs the action (sqs_action_run). */
struct sqs_in {
    const struct sqs_wire *wire;
    struct proto_req *r;
    struct sqs *s;
    const char *op;  /* the action's name (set by sqs_action_run) */
    const void *src; /* the adapter's: the JSON object, or the form */
    char prefix[64]; /* the query adapter's: where the members are ("" or an entry's) */
};

/* ---- writing an answer --------------------------------------------------------------------- */

enum sqs_out_kind { SQS_OUT_STRUCT, SQS_OUT_LIST, SQS_OUT_MAP };

/*
 * Writing, by JSON member names. Inside a structure (and at the top) name is the member's;
 * inside a list it is ignored (each value is an item); inside a map it is the entry's key
 * (a scalar is the entry's value, a structure its value). Write errors are sticky: end
 * answers InternalFailure.
 */
struct sqs_out_ops {
    /* The envelope; result false: an action that answers no data. */
    void (*begin)(struct sqs_out *o, bool result);
    /* Closes the envelope and answers; frees the buffer. */
    void (*end)(struct sqs_out *o);
    /* Opens a structure, list or map (sqs_out_open pushed its level already). */
    void (*open)(struct sqs_out *o);
    /* Closes the innermost one (sqs_out_close pops it after). */
    void (*close)(struct sqs_out *o);
    /* Scalars; s may be NULL (JSON null, an empty XML element). */
    void (*str)(struct sqs_out *o, const char *name, const char *s, size_t len);
    void (*num)(struct sqs_out *o, const char *name, long long v);
    void (*flag)(struct sqs_out *o, const char *name, bool v);
};

/* One open structure, list or map. */
struct sqs_out_level {
    enum sqs_out_kind kind;
    const char *name; /* its JSON member name (borrowed) */
    bool omit_empty;  /* an empty list or map is left out (JSON; XML has no element for it) */
    bool pending;     /* JSON: not written yet */
    const char *tag;  /* query: the element a structure closes */
    const char *key, *value; /* query: a map entry's members */
    char item[48];           /* query: a list's item element, a map's entry element */
};

struct sqs_out {
    const struct sqs_out_ops *ops;
    struct proto_req *r;
    const char *op; /* the action (the query envelope's names), borrowed */
    bool result;    /* the answer carries data (the query protocol's <XResult>) */
    struct buf b;
    union {
        struct jsonw j;
        struct xmlw x;
    } w;
    int depth;
    struct sqs_out_level at[SQS_OUT_DEPTH];
};

/* Starts the answer to r (op: the action, borrowed until sqs_out_end). */
void sqs_out_begin(struct sqs_out *o, const struct sqs_wire *wire, struct proto_req *r,
                   const char *op, bool result);

/* Answers what was written (InternalFailure when writing failed). */
void sqs_out_end(struct sqs_out *o);

/* Drops what was written and answers the error e with msg instead. */
void sqs_out_fail(struct sqs_out *o, enum err e, const char *msg);

/* Opens a structure, list or map named name (NULL for a list's item); omit_empty: an empty
 * list or map is left out of the answer. Close it with sqs_out_close. */
void sqs_out_open(struct sqs_out *o, enum sqs_out_kind kind, const char *name, bool omit_empty);
void sqs_out_close(struct sqs_out *o);

/* The innermost open level, or NULL at the top. */
struct sqs_out_level *sqs_out_top(struct sqs_out *o);

/* The level enclosing the innermost, or NULL. */
struct sqs_out_level *sqs_out_parent(struct sqs_out *o);

/* ---- the actions --------------------------------------------------------------------------- */

/* The action named op (op_len bytes), or NULL. queueless: not valid when posted to a queue's
 * URL (the query protocol). */
struct sqs_action;
const struct sqs_action *sqs_action_find(const char *op, size_t op_len, bool *queueless);

/* Runs act on the request in (the adapter filled it); answers now or from the engine's
 * callback. */
void sqs_action_run(const struct sqs_action *act, struct sqs_in *in);

/* Every action's name, NULL-ended (the query protocol's proto_service.actions). */
extern const char *const sqs_action_names[];

/* ---- calls and small helpers -------------------------------------------------------------- */

struct sqs_call {
    struct proto_req *r; /* NULL once the client went away */
    struct sqs *s;
    const struct sqs_wire *wire;
    struct sqs_waiter *w; /* a receive in progress */
    const char *op; /* the action's name (static) */
};

/* A new call for in's request (NULL when out of memory; the caller answers InternalFailure). */
struct sqs_call *sqs_call_new(const struct sqs_in *in);

/* The engine took the command: from now on the call lives until its callback (or, for a
 * receive, until the client goes away). */
void sqs_call_wait(struct sqs_call *c);

/* The request to answer from the engine's callback, or NULL when the client is gone. */
struct proto_req *sqs_call_req(struct sqs_call *c);

/* Frees the call (from the engine's callback, after answering). */
void sqs_call_free(struct sqs_call *c);

/* Answers "The request must contain the parameter <name>." (MissingParameter). */
void sqs_missing(struct proto_req *r, const char *name);

/* The router's __type namespace of an error (proto_service.json_type_ns_of). */
const char *sqs_json_type_ns(enum err e);

#endif
