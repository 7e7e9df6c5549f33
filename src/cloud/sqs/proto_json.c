/*
 * proto_json.c — SQS over AWS JSON 1.0 (see proto_json.h). Member names and shapes follow the
 * SQS service model (aws-sdk-js-v3 client-sqs schemas): QueueUrl in the body, maps for
 * attributes and tags, lists of entries for batches, "queueUrls" (sic) for
 * ListDeadLetterSourceQueues.
 */
#include "cloud/sqs/proto_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/sqs/proto_common.h"
#include "core/buf.h"
#include "core/codec.h"
#include "core/jsonw.h"

enum {
    MAX_BODY = 16 * 1024 * 1024, /* a 1 MiB batch, escaped, with base64 attributes */
    OUT_MAX = 24 * 1024 * 1024,
    MAX_NAMES = 64, /* attribute names a request may list */
    MAX_KV = 64,    /* tags and attributes a request may carry */
};

typedef void (*op_fn)(struct sqs *s, struct proto_req *r, json_t *doc);

/* ---- reading the request ------------------------------------------------------------------ */

static void serialization(struct proto_req *r, const char *key, const char *want)
{
    proto_errorf(r, ERR_SERIALIZATION, "Unexpected value for %s: expected %s", key, want);
}

/* A string member: absent or null leaves out->p NULL. False after answering a wrong type. */
static bool get_str(struct proto_req *r, const json_t *doc, const char *key, struct sqs_str *out)
{
    json_t *v = json_object_get(doc, key);
    out->p = NULL;
    out->len = 0;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        serialization(r, key, "a string");
        return false;
    }
    out->p = json_string_value(v);
    out->len = json_string_length(v);
    return true;
}

static bool get_int(struct proto_req *r, const json_t *doc, const char *key, bool *has,
                    long long *out)
{
    json_t *v = json_object_get(doc, key);
    *has = false;
    *out = 0;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_integer(v)) {
        serialization(r, key, "an integer");
        return false;
    }
    *has = true;
    *out = (long long)json_integer_value(v);
    return true;
}

/* A list of strings (at most cap are kept). */
static bool get_list(struct proto_req *r, const json_t *doc, const char *key, struct sqs_str *out,
                     size_t cap, size_t *n)
{
    json_t *v = json_object_get(doc, key);
    *n = 0;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_array(v)) {
        serialization(r, key, "a list");
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            serialization(r, key, "a list of strings");
            return false;
        }
        if (*n < cap)
            out[(*n)++] = (struct sqs_str){json_string_value(e), json_string_length(e)};
    }
    return true;
}

/* A map of strings as kv pairs (tags). */
static bool get_map(struct proto_req *r, const json_t *doc, const char *key, struct sqs_kv *out,
                    size_t cap, size_t *n)
{
    json_t *v = json_object_get(doc, key);
    *n = 0;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_object(v)) {
        serialization(r, key, "a map");
        return false;
    }
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e)
    {
        if (!json_is_string(e)) {
            serialization(r, key, "a map of strings");
            return false;
        }
        if (*n < cap)
            out[(*n)++] =
                (struct sqs_kv){{k, strlen(k)}, {json_string_value(e), json_string_length(e)}};
    }
    return true;
}

static struct sqs_queue *queue_of(struct sqs *s, struct proto_req *r, const json_t *doc)
{
    struct sqs_str url;
    if (!get_str(r, doc, "QueueUrl", &url))
        return NULL;
    return sqs_call_queue(r, s, false, url);
}

/* ---- answering ------------------------------------------------------------------------------ */

struct out {
    struct buf b;
    struct jsonw w;
};

static void out_begin(struct out *o)
{
    buf_init(&o->b, OUT_MAX);
    jw_init(&o->w, &o->b);
    jw_obj(&o->w);
}

static void out_end(struct proto_req *r, struct out *o)
{
    jw_obj_end(&o->w);
    if (jw_ok(&o->w))
        proto_ok(r, 200, o->b.data, o->b.len);
    else
        proto_error(r, ERR_INTERNAL, NULL);
    buf_destroy(&o->b);
}

static void answer_empty(struct proto_req *r)
{
    proto_ok(r, 200, "{}", 2);
}

static void oom(struct proto_req *r)
{
    proto_error(r, ERR_INTERNAL, NULL);
}

/* Completion of a command without output. */
static void done_empty(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e == ERR_OK)
            answer_empty(r);
        else
            proto_error(r, e, msg);
    }
    sqs_call_free(c);
}

/* Starts an engine command: call with (c, engine-args) and wait or answer its refusal. */
#define RUN(r, c, e, msg)                                                                          \
    do {                                                                                           \
        if ((e) == ERR_OK) {                                                                       \
            sqs_call_wait(c);                                                                      \
        } else {                                                                                   \
            sqs_call_free(c);                                                                      \
            proto_error((r), (e), (msg));                                                          \
        }                                                                                          \
    } while (0)

static struct sqs_call *call(struct sqs *s, struct proto_req *r)
{
    struct sqs_call *c = sqs_call_new(r, s, false);
    if (c == NULL)
        oom(r);
    return c;
}

/* ---- queues ------------------------------------------------------------------------------- */

static void done_url(void *arg, enum err e, const char *msg, struct sqs_queue *q)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            char url[SQS_URL_MAX];
            sqs_queue_url(q, url);
            out_begin(&o);
            jw_kstr(&o.w, "QueueUrl", url);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_create_queue(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str name;
    struct sqs_kv attrs[SQS_QA__COUNT], tags[MAX_KV];
    size_t na = 0, nt = 0;
    char msg[SQS_MSG_MAX];
    if (!get_str(r, doc, "QueueName", &name) || !get_map(r, doc, "tags", tags, MAX_KV, &nt))
        return;
    if (name.p == NULL) {
        sqs_missing(r, "QueueName");
        return;
    }
    enum err e = sqs_qattrs_kv_from_json(json_object_get(doc, "Attributes"), attrs, SQS_QA__COUNT,
                                         &na, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    struct sqs_create_req req = {
        .name = name, .attrs = attrs, .nattrs = na, .tags = tags, .ntags = nt};
    e = sqs_create_queue(s, &req, done_url, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_get_queue_url(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str name, owner;
    if (!get_str(r, doc, "QueueName", &name) || !get_str(r, doc, "QueueOwnerAWSAccountId", &owner))
        return;
    struct sqs_queue *q;
    char msg[SQS_MSG_MAX], url[SQS_URL_MAX];
    enum err e = sqs_get_queue_url(s, name, owner, &q, false, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return;
    }
    struct out o;
    sqs_queue_url(q, url);
    out_begin(&o);
    jw_kstr(&o.w, "QueueUrl", url);
    out_end(r, &o);
}

static void op_delete_queue(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_delete_queue(q, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void emit_url(void *arg, const char *url)
{
    jw_str(arg, url);
}

/* Writes the URLs as key's list; an empty list is left out when !required (ListQueues). */
static void list_urls(struct proto_req *r, const char *key, bool required, bool has_max,
                      long long max, struct sqs_str token,
                      enum err (*list)(void *ctx, bool, long long, struct sqs_str,
                                       void (*)(void *, const char *), void *, char *, char *,
                                       size_t),
                      void *ctx)
{
    struct out o;
    char next[SQS_URL_MAX], msg[SQS_MSG_MAX];
    out_begin(&o);
    jw_key(&o.w, key);
    jw_arr(&o.w);
    size_t before = o.b.len;
    enum err e = list(ctx, has_max, max, token, emit_url, &o.w, next, msg, sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    if (o.b.len == before && !required) {
        /* no URLs: AWS leaves the member out ({}) */
        buf_reset(&o.b);
        jw_init(&o.w, &o.b);
        jw_obj(&o.w);
    } else {
        jw_arr_end(&o.w);
    }
    if (next[0])
        jw_kstr(&o.w, "NextToken", next);
    out_end(r, &o);
}

struct list_queues_ctx {
    struct sqs *s;
    struct sqs_str prefix;
};

static enum err list_queues(void *ctx, bool has_max, long long max, struct sqs_str token,
                            void (*emit)(void *, const char *), void *arg, char *next, char *msg,
                            size_t msglen)
{
    struct list_queues_ctx *l = ctx;
    return sqs_list_queues(l->s, l->prefix, has_max, max, token, emit, arg, next, msg, msglen);
}

static enum err list_sources(void *ctx, bool has_max, long long max, struct sqs_str token,
                             void (*emit)(void *, const char *), void *arg, char *next, char *msg,
                             size_t msglen)
{
    return sqs_list_dlq_sources(ctx, has_max, max, token, emit, arg, next, msg, msglen);
}

static void op_list_queues(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct list_queues_ctx l = {.s = s};
    struct sqs_str token;
    bool has_max;
    long long max;
    if (!get_str(r, doc, "QueueNamePrefix", &l.prefix) || !get_str(r, doc, "NextToken", &token) ||
        !get_int(r, doc, "MaxResults", &has_max, &max))
        return;
    list_urls(r, "QueueUrls", false, has_max, max, token, list_queues, &l);
}

static void op_list_dlq_sources(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str token;
    bool has_max;
    long long max;
    if (!get_str(r, doc, "NextToken", &token) || !get_int(r, doc, "MaxResults", &has_max, &max))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    list_urls(r, "queueUrls", true, has_max, max, token, list_sources, q);
}

static void emit_attr(void *arg, const char *name, const char *value)
{
    jw_kstr(arg, name, value);
}

static void op_get_queue_attributes(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str names[MAX_NAMES];
    size_t n;
    if (!get_list(r, doc, "AttributeNames", names, MAX_NAMES, &n))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct out o;
    char msg[SQS_MSG_MAX];
    out_begin(&o);
    jw_key(&o.w, "Attributes");
    jw_obj(&o.w);
    enum err e = sqs_get_attributes(q, names, n, emit_attr, &o.w, msg, sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    jw_obj_end(&o.w);
    out_end(r, &o);
}

static void op_set_queue_attributes(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_kv kv[SQS_QA__COUNT];
    size_t n = 0;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_qattrs_kv_from_json(json_object_get(doc, "Attributes"), kv, SQS_QA__COUNT, &n,
                                         msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return;
    }
    if (json_object_get(doc, "Attributes") == NULL) {
        sqs_missing(r, "Attributes");
        return;
    }
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    e = sqs_set_attributes(q, kv, n, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_purge_queue(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_purge(q, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_tag_queue(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_kv tags[MAX_KV];
    size_t n;
    if (!get_map(r, doc, "Tags", tags, MAX_KV, &n))
        return;
    if (json_object_get(doc, "Tags") == NULL) {
        sqs_missing(r, "Tags");
        return;
    }
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_tag_queue(q, tags, n, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_untag_queue(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str keys[MAX_KV];
    size_t n;
    if (!get_list(r, doc, "TagKeys", keys, MAX_KV, &n))
        return;
    if (json_object_get(doc, "TagKeys") == NULL) {
        sqs_missing(r, "TagKeys");
        return;
    }
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_untag_queue(q, keys, n, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_list_queue_tags(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct out o;
    out_begin(&o);
    jw_key(&o.w, "Tags");
    jw_obj(&o.w);
    sqs_list_tags(q, emit_attr, &o.w);
    jw_obj_end(&o.w);
    out_end(r, &o);
}

static void op_add_permission(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str label, accounts[MAX_NAMES], actions[MAX_NAMES];
    size_t na, nx;
    if (!get_str(r, doc, "Label", &label) ||
        !get_list(r, doc, "AWSAccountIds", accounts, MAX_NAMES, &na) ||
        !get_list(r, doc, "Actions", actions, MAX_NAMES, &nx))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e =
        sqs_add_permission(q, label, accounts, na, actions, nx, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_remove_permission(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str label;
    if (!get_str(r, doc, "Label", &label))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_remove_permission(q, label, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

/* ---- sending -------------------------------------------------------------------------------- */

/* The entries of a send with the attribute sets they borrow. */
struct send_in {
    size_t n;
    struct sqs_send_entry e[SQS_BATCH_MAX];
    struct send_one {
        struct sqs_attrs attrs, sys;
        char msg[SQS_MSG_MAX];
    } one[]; /* as many as the request has entries (ten at most) */
};

/* Room for n entries (at least one). NULL when out of memory. */
static struct send_in *send_in_new(size_t n)
{
    n = n < 1 ? 1 : n > SQS_BATCH_MAX ? SQS_BATCH_MAX : n;
    return calloc(1, sizeof(struct send_in) + n * sizeof(struct send_one));
}

static void send_in_destroy(struct send_in *in)
{
    for (size_t i = 0; i < in->n; i++) {
        sqs_attrs_destroy(&in->one[i].attrs);
        sqs_attrs_destroy(&in->one[i].sys);
    }
}

/* Reads one entry; false after answering a malformed request (a single send also answers
 * its attribute refusals here). */
static bool read_entry(struct proto_req *r, json_t *obj, struct send_in *in, size_t i, bool batch)
{
    struct sqs_send_entry *e = &in->e[i];
    sqs_attrs_init(&in->one[i].attrs);
    sqs_attrs_init(&in->one[i].sys);
    in->n = i + 1;
    if (!json_is_object(obj)) {
        serialization(r, "Entries", "a list of structures");
        return false;
    }
    if ((batch && !get_str(r, obj, "Id", &e->id)) || !get_str(r, obj, "MessageBody", &e->body) ||
        !get_int(r, obj, "DelaySeconds", &e->has_delay, &e->delay) ||
        !get_str(r, obj, "MessageGroupId", &e->group_id) ||
        !get_str(r, obj, "MessageDeduplicationId", &e->dedup_id))
        return false;
    enum err rc = sqs_attrs_parse_json(&in->one[i].attrs, json_object_get(obj, "MessageAttributes"),
                                       in->one[i].msg, sizeof in->one[i].msg);
    if (rc == ERR_OK)
        rc = sqs_sysattrs_parse_json(&in->one[i].sys,
                                     json_object_get(obj, "MessageSystemAttributes"),
                                     in->one[i].msg, sizeof in->one[i].msg);
    if (rc == ERR_SERIALIZATION || (rc != ERR_OK && !batch)) {
        proto_error(r, rc, in->one[i].msg);
        return false;
    }
    e->attrs = &in->one[i].attrs;
    e->sys = &in->one[i].sys;
    e->pre_err = rc;
    e->pre_msg = in->one[i].msg;
    return true;
}

static void send_fields(struct jsonw *w, const struct sqs_send_result *res)
{
    jw_kstr(w, "MD5OfMessageBody", res->md5_body);
    if (res->md5_attrs[0])
        jw_kstr(w, "MD5OfMessageAttributes", res->md5_attrs);
    if (res->md5_sys[0])
        jw_kstr(w, "MD5OfMessageSystemAttributes", res->md5_sys);
    jw_kstr(w, "MessageId", res->message_id);
    if (res->seq_number[0])
        jw_kstr(w, "SequenceNumber", res->seq_number);
}

static void done_send(void *arg, enum err e, const char *msg, const struct sqs_send_result *res,
                      size_t n)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    (void)n;
    if (r != NULL) {
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            out_begin(&o);
            send_fields(&o.w, &res[0]);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void failed_entry(struct jsonw *w, const char *id, enum err e, const char *msg)
{
    jw_obj(w);
    jw_kstr(w, "Id", id);
    jw_kbool(w, "SenderFault", sqs_sender_fault(e));
    jw_kstr(w, "Code", err_query_code(e));
    jw_kstr(w, "Message", msg);
    jw_obj_end(w);
}

static void done_send_batch(void *arg, enum err e, const char *msg,
                            const struct sqs_send_result *res, size_t n)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            out_begin(&o);
            jw_key(&o.w, "Successful");
            jw_arr(&o.w);
            for (size_t i = 0; i < n; i++) {
                if (res[i].e != ERR_OK)
                    continue;
                jw_obj(&o.w);
                jw_kstr(&o.w, "Id", res[i].id);
                send_fields(&o.w, &res[i]);
                jw_obj_end(&o.w);
            }
            jw_arr_end(&o.w);
            jw_key(&o.w, "Failed");
            jw_arr(&o.w);
            for (size_t i = 0; i < n; i++)
                if (res[i].e != ERR_OK)
                    failed_entry(&o.w, res[i].id, res[i].e, res[i].msg);
            jw_arr_end(&o.w);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_send_message(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct send_in *in = send_in_new(1);
    if (in == NULL) {
        oom(r);
        return;
    }
    struct sqs_queue *q = NULL;
    struct sqs_call *c = NULL;
    if (!read_entry(r, doc, in, 0, false) || (q = queue_of(s, r, doc)) == NULL ||
        (c = call(s, r)) == NULL)
        goto out;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_send(q, &in->e[0], r->caller.user_id, done_send, c, msg, sizeof msg);
    RUN(r, c, e, msg);
out:
    send_in_destroy(in);
    free(in);
}

static void op_send_message_batch(struct sqs *s, struct proto_req *r, json_t *doc)
{
    json_t *entries = json_object_get(doc, "Entries");
    if (entries != NULL && !json_is_array(entries) && !json_is_null(entries)) {
        serialization(r, "Entries", "a list");
        return;
    }
    size_t total = json_array_size(entries);
    struct send_in *in = send_in_new(total);
    if (in == NULL) {
        oom(r);
        return;
    }
    struct sqs_queue *q = queue_of(s, r, doc);
    struct sqs_call *c = NULL;
    if (q == NULL)
        goto out;
    for (size_t i = 0; i < total && i < SQS_BATCH_MAX; i++)
        if (!read_entry(r, json_array_get(entries, i), in, i, true))
            goto out;
    if ((c = call(s, r)) == NULL)
        goto out;
    char msg[SQS_MSG_MAX];
    /* more than ten entries: only the count matters (TooManyEntriesInBatchRequest) */
    enum err e =
        sqs_send_batch(q, in->e, total, r->caller.user_id, done_send_batch, c, msg, sizeof msg);
    RUN(r, c, e, msg);
out:
    send_in_destroy(in);
    free(in);
}

/* ---- receiving --------------------------------------------------------------------------------
 */

static void message_json(struct jsonw *w, const struct sqs_message *m)
{
    jw_obj(w);
    jw_kstr(w, "MessageId", m->message_id);
    jw_kstr(w, "ReceiptHandle", m->receipt);
    jw_kstr(w, "MD5OfBody", m->md5_body);
    jw_kstrn(w, "Body", m->body, m->body_len);
    if (m->nsys > 0) {
        jw_key(w, "Attributes");
        jw_obj(w);
        for (size_t i = 0; i < m->nsys; i++)
            jw_kstrn(w, m->sys[i].name, m->sys[i].value, m->sys[i].len);
        jw_obj_end(w);
    }
    if (m->attr_mask) {
        jw_kstr(w, "MD5OfMessageAttributes", m->md5_attrs);
        jw_key(w, "MessageAttributes");
        jw_obj(w);
        for (size_t i = 0; i < m->attrs.n; i++) {
            if (!(m->attr_mask & (1u << i)))
                continue;
            const struct sqs_attr *a = &m->attrs.a[i];
            jw_key(w, a->name);
            jw_obj(w);
            if (a->kind == SQS_ATTR_BINARY) {
                struct buf b;
                buf_init(&b, 2u << 20);
                codec_b64_encode(a->value, a->value_len, &b);
                jw_kstrn(w, "BinaryValue", b.data ? b.data : "", b.len);
                buf_destroy(&b);
            } else {
                jw_kstrn(w, "StringValue", (const char *)a->value, a->value_len);
            }
            jw_kstr(w, "DataType", a->type);
            jw_obj_end(w);
        }
        jw_obj_end(w);
    }
    jw_obj_end(w);
}

static void done_receive(void *arg, enum err e, const char *msg, const struct sqs_message *m,
                         size_t n)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    c->w = NULL;
    if (r != NULL) {
        if (e == ERR_SQS_QUEUE_DOES_NOT_EXIST) {
            proto_error(r, e, sqs_msg_queue_does_not_exist(false));
        } else if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            out_begin(&o);
            if (n > 0) { /* no Messages member at all when empty [R] */
                jw_key(&o.w, "Messages");
                jw_arr(&o.w);
                for (size_t i = 0; i < n; i++)
                    message_json(&o.w, &m[i]);
                jw_arr_end(&o.w);
            }
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_receive_message(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str names[MAX_NAMES], sys[MAX_NAMES], sys2[MAX_NAMES];
    size_t nn, ns, ns2;
    struct sqs_receive_req req = {0};
    if (!get_list(r, doc, "MessageAttributeNames", names, MAX_NAMES, &nn) ||
        !get_list(r, doc, "AttributeNames", sys, MAX_NAMES, &ns) ||
        !get_list(r, doc, "MessageSystemAttributeNames", sys2, MAX_NAMES, &ns2) ||
        !get_int(r, doc, "MaxNumberOfMessages", &req.p.has_max, &req.p.max) ||
        !get_int(r, doc, "VisibilityTimeout", &req.p.has_visibility, &req.p.visibility) ||
        !get_int(r, doc, "WaitTimeSeconds", &req.p.has_wait, &req.p.wait) ||
        !get_str(r, doc, "ReceiveRequestAttemptId", &req.p.attempt_id))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    req.sys_mask = sqs_sysattr_select(sys, ns) | sqs_sysattr_select(sys2, ns2);
    req.names = names;
    req.nnames = nn;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    struct sqs_waiter *w = NULL;
    enum err e = sqs_receive(q, &req, done_receive, c, &w, msg, sizeof msg);
    if (e == ERR_OK)
        c->w = w;
    RUN(r, c, e, msg);
}

/* ---- deleting and visibility --------------------------------------------------------------------
 */

static void op_delete_message(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str handle;
    if (!get_str(r, doc, "ReceiptHandle", &handle))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    if (handle.p == NULL) {
        sqs_missing(r, "ReceiptHandle");
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_delete_message(q, handle, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_change_visibility(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str handle;
    bool has;
    long long t;
    if (!get_str(r, doc, "ReceiptHandle", &handle) ||
        !get_int(r, doc, "VisibilityTimeout", &has, &t))
        return;
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    if (handle.p == NULL) {
        sqs_missing(r, "ReceiptHandle");
        return;
    }
    if (!has) {
        sqs_missing(r, "VisibilityTimeout");
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_change_visibility(q, handle, t, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void done_batch(void *arg, const struct sqs_batch_result *res, size_t n)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        struct out o;
        out_begin(&o);
        jw_key(&o.w, "Successful");
        jw_arr(&o.w);
        for (size_t i = 0; i < n; i++) {
            if (res[i].e != ERR_OK)
                continue;
            jw_obj(&o.w);
            jw_kstr(&o.w, "Id", res[i].id);
            jw_obj_end(&o.w);
        }
        jw_arr_end(&o.w);
        jw_key(&o.w, "Failed");
        jw_arr(&o.w);
        for (size_t i = 0; i < n; i++)
            if (res[i].e != ERR_OK)
                failed_entry(&o.w, res[i].id, res[i].e, res[i].msg);
        jw_arr_end(&o.w);
        out_end(r, &o);
    }
    sqs_call_free(c);
}

static void op_batch_change(struct sqs *s, struct proto_req *r, json_t *doc, bool del)
{
    json_t *entries = json_object_get(doc, "Entries");
    if (entries != NULL && !json_is_array(entries) && !json_is_null(entries)) {
        serialization(r, "Entries", "a list");
        return;
    }
    struct sqs_queue *q = queue_of(s, r, doc);
    if (q == NULL)
        return;
    size_t total = json_array_size(entries);
    struct sqs_batch_entry e[SQS_BATCH_MAX];
    memset(e, 0, sizeof e);
    for (size_t i = 0; i < total && i < SQS_BATCH_MAX; i++) {
        json_t *obj = json_array_get(entries, i);
        if (!json_is_object(obj)) {
            serialization(r, "Entries", "a list of structures");
            return;
        }
        if (!get_str(r, obj, "Id", &e[i].id) || !get_str(r, obj, "ReceiptHandle", &e[i].handle) ||
            (!del && !get_int(r, obj, "VisibilityTimeout", &e[i].has_timeout, &e[i].timeout)))
            return;
        if (e[i].handle.p == NULL) {
            e[i].pre_err = ERR_SQS_MISSING_PARAMETER;
            e[i].pre_msg = "The request must contain the parameter ReceiptHandle.";
        }
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err rc = del ? sqs_delete_batch(q, e, total, done_batch, c, msg, sizeof msg)
                      : sqs_change_visibility_batch(q, e, total, done_batch, c, msg, sizeof msg);
    RUN(r, c, rc, msg);
}

static void op_delete_message_batch(struct sqs *s, struct proto_req *r, json_t *doc)
{
    op_batch_change(s, r, doc, true);
}

static void op_change_visibility_batch(struct sqs *s, struct proto_req *r, json_t *doc)
{
    op_batch_change(s, r, doc, false);
}

/* ---- message move tasks ---------------------------------------------------------------------- */

static void done_start_task(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            out_begin(&o);
            jw_kstr(&o.w, "TaskHandle", msg);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_start_move_task(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str src, dst;
    bool has_rate;
    long long rate;
    if (!get_str(r, doc, "SourceArn", &src) || !get_str(r, doc, "DestinationArn", &dst) ||
        !get_int(r, doc, "MaxNumberOfMessagesPerSecond", &has_rate, &rate))
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e =
        sqs_start_move_task(s, src, dst, has_rate, rate, done_start_task, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void done_cancel_task(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            long long moved = 0;
            sqs_int_of(msg, strlen(msg), &moved);
            out_begin(&o);
            jw_kint(&o.w, "ApproximateNumberOfMessagesMoved", moved);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_cancel_move_task(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str handle;
    if (!get_str(r, doc, "TaskHandle", &handle))
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_cancel_move_task(s, handle, done_cancel_task, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void emit_task(void *arg, const struct sqs_move_info *t)
{
    struct jsonw *w = arg;
    jw_obj(w);
    if (t->handle)
        jw_kstr(w, "TaskHandle", t->handle);
    jw_kstr(w, "Status", t->status);
    jw_kstr(w, "SourceArn", t->source_arn);
    if (t->dest_arn)
        jw_kstr(w, "DestinationArn", t->dest_arn);
    if (t->rate)
        jw_kint(w, "MaxNumberOfMessagesPerSecond", t->rate);
    jw_kint(w, "ApproximateNumberOfMessagesMoved", t->moved);
    jw_kint(w, "ApproximateNumberOfMessagesToMove", t->to_move);
    if (t->failure)
        jw_kstr(w, "FailureReason", t->failure);
    jw_kint(w, "StartedTimestamp", t->started_ms);
    jw_obj_end(w);
}

static void op_list_move_tasks(struct sqs *s, struct proto_req *r, json_t *doc)
{
    struct sqs_str src;
    bool has_max;
    long long max;
    if (!get_str(r, doc, "SourceArn", &src) || !get_int(r, doc, "MaxResults", &has_max, &max))
        return;
    struct out o;
    char msg[SQS_MSG_MAX];
    out_begin(&o);
    jw_key(&o.w, "Results");
    jw_arr(&o.w);
    enum err e = sqs_list_move_tasks(s, src, has_max, max, emit_task, &o.w, msg, sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    jw_arr_end(&o.w);
    out_end(r, &o);
}

/* ---- dispatch
 * ------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    op_fn fn;
} ops[] = {
    {"AddPermission", op_add_permission},
    {"CancelMessageMoveTask", op_cancel_move_task},
    {"ChangeMessageVisibility", op_change_visibility},
    {"ChangeMessageVisibilityBatch", op_change_visibility_batch},
    {"CreateQueue", op_create_queue},
    {"DeleteMessage", op_delete_message},
    {"DeleteMessageBatch", op_delete_message_batch},
    {"DeleteQueue", op_delete_queue},
    {"GetQueueAttributes", op_get_queue_attributes},
    {"GetQueueUrl", op_get_queue_url},
    {"ListDeadLetterSourceQueues", op_list_dlq_sources},
    {"ListMessageMoveTasks", op_list_move_tasks},
    {"ListQueueTags", op_list_queue_tags},
    {"ListQueues", op_list_queues},
    {"PurgeQueue", op_purge_queue},
    {"ReceiveMessage", op_receive_message},
    {"RemovePermission", op_remove_permission},
    {"SendMessage", op_send_message},
    {"SendMessageBatch", op_send_message_batch},
    {"SetQueueAttributes", op_set_queue_attributes},
    {"StartMessageMoveTask", op_start_move_task},
    {"TagQueue", op_tag_queue},
    {"UntagQueue", op_untag_queue},
};

void sqs_json_handle(void *engine, struct proto_req *r)
{
    struct sqs *s = engine;
    op_fn fn = NULL;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i].name) == r->op_len && memcmp(ops[i].name, r->op, r->op_len) == 0)
            fn = ops[i].fn;
    if (fn == NULL) {
        proto_errorf(r, ERR_UNKNOWN_OPERATION, "Unknown operation %.*s",
                     (int)(r->op_len > 64 ? 64 : r->op_len), r->op ? r->op : "");
        return;
    }
    json_error_t je;
    json_t *doc =
        r->body_len == 0 ? json_object() : json_loadb(r->body, r->body_len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_error(r, ERR_SERIALIZATION, NULL);
        return;
    }
    fn(s, r, doc);
    json_decref(doc);
}

void sqs_json_service(struct sqs *s, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "sqs",
        .protocol = PROTO_JSON10,
        .target_prefix = "AmazonSQS.",
        .json_type_ns = "com.amazonaws.sqs#",
        .json_type_ns_of = sqs_json_type_ns,
        .json_content_type = "application/x-amz-json-1.0",
        .query_error_header = true,
        .max_body = MAX_BODY,
        .handle = sqs_json_handle,
        .engine = s,
    };
}
