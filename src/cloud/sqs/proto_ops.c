/*
 * proto_ops.c — every SQS action once, for both protocols (see proto_common.h): what it
 * reads and in which order it refuses (the order AWS reports faults in), the engine call
 * (queue.h), and the shape of its answer. Members are named as the JSON protocol names them;
 * the adapters translate.
 */
#include "cloud/sqs/proto_common.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/codec.h"

/* ---- reading ----------------------------------------------------------------------------- */

static bool in_str(struct sqs_in *in, const char *name, struct sqs_str *out)
{
    return in->wire->in->str(in, name, out);
}

static bool in_num(struct sqs_in *in, const char *name, bool *has, long long *out)
{
    return in->wire->in->num(in, name, has, out);
}

static bool in_list(struct sqs_in *in, const char *name, struct sqs_str *out, size_t *n)
{
    return in->wire->in->list(in, name, out, SQS_IN_MAX, n);
}

static bool in_require(struct sqs_in *in, const char *name, size_t n, bool queue_known)
{
    return in->wire->in->require(in, name, n, queue_known);
}

/* The queue the request names (QueueUrl, or for the query protocol the path the request was
 * posted to). NULL after answering. */
static struct sqs_queue *queue_of(struct sqs_in *in)
{
    struct proto_req *r = in->r;
    struct sqs_str url;
    struct sqs_queue *q = NULL;
    char msg[SQS_MSG_MAX];
    if (!in_str(in, "QueueUrl", &url))
        return NULL;
    if (url.p == NULL && in->wire->query && r->path_len > 1) {
        url.p = r->path; /* the query protocol may post to the queue's own URL */
        url.len = r->path_len;
    }
    if (url.p == NULL) {
        sqs_missing(r, "QueueUrl");
        return NULL;
    }
    enum err e = sqs_queue_resolve(in->s, url, in->wire->query, &q, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return NULL;
    }
    return q;
}

/* ---- answering ---------------------------------------------------------------------------- */

static void begin(struct sqs_out *o, const struct sqs_in *in)
{
    sqs_out_begin(o, in->wire, in->r, in->op, true);
}

static void put(struct sqs_out *o, const char *name, const char *s)
{
    o->ops->str(o, name, s, s ? strlen(s) : 0);
}

static void emit_str(void *arg, const char *s)
{
    put(arg, NULL, s);
}

static void emit_pair(void *arg, const char *name, const char *value)
{
    put(arg, name, value);
}

/* A new call for the request (NULL after answering InternalFailure). */
static struct sqs_call *call(const struct sqs_in *in)
{
    struct sqs_call *c = sqs_call_new(in);
    if (c == NULL)
        proto_error(in->r, ERR_INTERNAL, NULL);
    return c;
}

/* After starting an engine command: waits for its callback, or answers its refusal. */
static void run(struct sqs_call *c, enum err e, const char *msg)
{
    struct proto_req *r = c->r;
    if (e == ERR_OK) {
        sqs_call_wait(c);
        return;
    }
    sqs_call_free(c);
    proto_error(r, e, msg);
}

/* The queue the request names and a call for its command (NULL after answering). need: the
 * list or map the action requires, which read n members (NULL: none). */
static struct sqs_call *queue_call(struct sqs_in *in, const char *need, size_t n,
                                   struct sqs_queue **q)
{
    if ((*q = queue_of(in)) == NULL || (need && !in_require(in, need, n, true)))
        return NULL;
    return call(in);
}

/* In an engine callback: true with o begun when the client is still there and e is ERR_OK;
 * otherwise answers e (to a client still there) and returns false. */
static bool reply(struct sqs_call *c, enum err e, const char *msg, bool result, struct sqs_out *o)
{
    struct proto_req *r = sqs_call_req(c);
    if (r == NULL)
        return false;
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return false;
    }
    sqs_out_begin(o, c->wire, r, c->op, result);
    return true;
}

/* Completion of a command without output. */
static void done_empty(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    if (reply(c, e, msg, false, &o))
        sqs_out_end(&o);
    sqs_call_free(c);
}

/* ---- queues ------------------------------------------------------------------------------- */

static void answer_url(struct sqs_out *o, const struct sqs_queue *q)
{
    char url[SQS_URL_MAX];
    sqs_queue_url(q, url);
    put(o, "QueueUrl", url);
    sqs_out_end(o);
}

static void done_url(void *arg, enum err e, const char *msg, struct sqs_queue *q)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    if (reply(c, e, msg, true, &o))
        answer_url(&o, q);
    sqs_call_free(c);
}

static void act_create_queue(struct sqs_in *in)
{
    struct sqs_str name;
    struct sqs_kv attrs[SQS_IN_MAX], tags[SQS_IN_MAX];
    size_t na = 0, nt = 0;
    char msg[SQS_MSG_MAX];
    if (!in_str(in, "QueueName", &name) || !in->wire->in->map(in, "tags", tags, SQS_IN_MAX, &nt))
        return;
    if (name.p == NULL) {
        sqs_missing(in->r, "QueueName");
        return;
    }
    enum err e = in->wire->in->queue_attrs(in, attrs, SQS_IN_MAX, &na, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(in->r, e, msg);
        return;
    }
    struct sqs_call *c = call(in);
    if (c == NULL)
        return;
    struct sqs_create_req req = {
        .name = name, .attrs = attrs, .nattrs = na, .tags = tags, .ntags = nt};
    e = sqs_create_queue(in->s, &req, done_url, c, msg, sizeof msg);
    run(c, e, msg);
}

static void act_get_queue_url(struct sqs_in *in)
{
    struct sqs_str name, owner;
    struct sqs_queue *q;
    char msg[SQS_MSG_MAX];
    if (!in_str(in, "QueueName", &name) || !in_str(in, "QueueOwnerAWSAccountId", &owner))
        return;
    enum err e = sqs_get_queue_url(in->s, name, owner, &q, in->wire->query, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(in->r, e, msg);
        return;
    }
    struct sqs_out o;
    begin(&o, in);
    answer_url(&o, q);
}

static void act_delete_queue(struct sqs_in *in)
{
    struct sqs_queue *q;
    struct sqs_call *c = queue_call(in, NULL, 0, &q);
    char msg[SQS_MSG_MAX];
    if (c != NULL)
        run(c, sqs_delete_queue(q, done_empty, c, msg, sizeof msg), msg);
}

static void act_purge_queue(struct sqs_in *in)
{
    struct sqs_queue *q;
    struct sqs_call *c = queue_call(in, NULL, 0, &q);
    char msg[SQS_MSG_MAX];
    if (c != NULL)
        run(c, sqs_purge(q, done_empty, c, msg, sizeof msg), msg);
}

/* Ends a list of queue URLs (opened before the engine wrote into it) with its NextToken. */
static void answer_urls(struct sqs_out *o, enum err e, const char *next, const char *msg)
{
    if (e != ERR_OK) {
        sqs_out_fail(o, e, msg);
        return;
    }
    sqs_out_close(o);
    if (next[0])
        put(o, "NextToken", next);
    sqs_out_end(o);
}

static void act_list_queues(struct sqs_in *in)
{
    struct sqs_str prefix, token;
    bool has_max;
    long long max;
    if (!in_str(in, "QueueNamePrefix", &prefix) || !in_str(in, "NextToken", &token) ||
        !in_num(in, "MaxResults", &has_max, &max))
        return;
    struct sqs_out o;
    char next[SQS_URL_MAX], msg[SQS_MSG_MAX];
    begin(&o, in);
    sqs_out_open(&o, SQS_OUT_LIST, "QueueUrls", true); /* no URLs: AWS leaves it out */
    enum err e =
        sqs_list_queues(in->s, prefix, has_max, max, token, emit_str, &o, next, msg, sizeof msg);
    answer_urls(&o, e, next, msg);
}

static void act_list_dlq_sources(struct sqs_in *in)
{
    struct sqs_str token;
    bool has_max;
    long long max;
    if (!in_str(in, "NextToken", &token) || !in_num(in, "MaxResults", &has_max, &max))
        return;
    struct sqs_queue *q = queue_of(in);
    if (q == NULL)
        return;
    struct sqs_out o;
    char next[SQS_URL_MAX], msg[SQS_MSG_MAX];
    begin(&o, in);
    sqs_out_open(&o, SQS_OUT_LIST, "queueUrls", false); /* sic: the model's name */
    enum err e = sqs_list_dlq_sources(q, has_max, max, token, emit_str, &o, next, msg, sizeof msg);
    answer_urls(&o, e, next, msg);
}

static void act_get_queue_attributes(struct sqs_in *in)
{
    struct sqs_str names[SQS_IN_MAX];
    size_t n;
    if (!in_list(in, "AttributeNames", names, &n))
        return;
    struct sqs_queue *q = queue_of(in);
    if (q == NULL)
        return;
    struct sqs_out o;
    char msg[SQS_MSG_MAX];
    begin(&o, in);
    sqs_out_open(&o, SQS_OUT_MAP, "Attributes", false);
    enum err e = sqs_get_attributes(q, names, n, emit_pair, &o, msg, sizeof msg);
    if (e != ERR_OK) {
        sqs_out_fail(&o, e, msg);
        return;
    }
    sqs_out_close(&o);
    sqs_out_end(&o);
}

static void act_set_queue_attributes(struct sqs_in *in)
{
    struct sqs_kv kv[SQS_IN_MAX];
    size_t n = 0;
    char msg[SQS_MSG_MAX];
    enum err e = in->wire->in->queue_attrs(in, kv, SQS_IN_MAX, &n, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(in->r, e, msg);
        return;
    }
    struct sqs_queue *q;
    struct sqs_call *c;
    if (in_require(in, "Attributes", n, false) && (c = queue_call(in, "Attributes", n, &q)) != NULL)
        run(c, sqs_set_attributes(q, kv, n, done_empty, c, msg, sizeof msg), msg);
}

static void act_tag_queue(struct sqs_in *in)
{
    struct sqs_kv tags[SQS_IN_MAX];
    size_t n;
    struct sqs_queue *q;
    struct sqs_call *c;
    char msg[SQS_MSG_MAX];
    if (in->wire->in->map(in, "Tags", tags, SQS_IN_MAX, &n) && in_require(in, "Tags", n, false) &&
        (c = queue_call(in, "Tags", n, &q)) != NULL)
        run(c, sqs_tag_queue(q, tags, n, done_empty, c, msg, sizeof msg), msg);
}

static void act_untag_queue(struct sqs_in *in)
{
    struct sqs_str keys[SQS_IN_MAX];
    size_t n;
    struct sqs_queue *q;
    struct sqs_call *c;
    char msg[SQS_MSG_MAX];
    if (in_list(in, "TagKeys", keys, &n) && in_require(in, "TagKeys", n, false) &&
        (c = queue_call(in, "TagKeys", n, &q)) != NULL)
        run(c, sqs_untag_queue(q, keys, n, done_empty, c, msg, sizeof msg), msg);
}

static void act_list_queue_tags(struct sqs_in *in)
{
    struct sqs_queue *q = queue_of(in);
    if (q == NULL)
        return;
    struct sqs_out o;
    begin(&o, in);
    sqs_out_open(&o, SQS_OUT_MAP, "Tags", false);
    sqs_list_tags(q, emit_pair, &o);
    sqs_out_close(&o);
    sqs_out_end(&o);
}

static void act_add_permission(struct sqs_in *in)
{
    struct sqs_str label, accounts[SQS_IN_MAX], actions[SQS_IN_MAX];
    size_t na, nx;
    struct sqs_queue *q;
    struct sqs_call *c;
    char msg[SQS_MSG_MAX];
    if (in_str(in, "Label", &label) && in_list(in, "AWSAccountIds", accounts, &na) &&
        in_list(in, "Actions", actions, &nx) && (c = queue_call(in, NULL, 0, &q)) != NULL)
        run(c,
            sqs_add_permission(q, label, accounts, na, actions, nx, done_empty, c, msg, sizeof msg),
            msg);
}

static void act_remove_permission(struct sqs_in *in)
{
    struct sqs_str label;
    struct sqs_queue *q;
    struct sqs_call *c;
    char msg[SQS_MSG_MAX];
    if (in_str(in, "Label", &label) && (c = queue_call(in, NULL, 0, &q)) != NULL)
        run(c, sqs_remove_permission(q, label, done_empty, c, msg, sizeof msg), msg);
}

/* ---- sending ------------------------------------------------------------------------------ */

/* The entries of a send with the attribute sets they borrow. */
struct send_in {
    size_t n;
    struct sqs_send_entry e[SQS_BATCH_MAX];
    struct send_one {
        struct sqs_attrs attrs, sys;
        char msg[SQS_MSG_MAX];
    } one[]; /* as many as the request has entries (ten at most) */
};

/* Room for n entries (at least one). NULL after answering when out of memory. */
static struct send_in *send_in_new(struct proto_req *r, size_t n)
{
    n = n < 1 ? 1 : n > SQS_BATCH_MAX ? SQS_BATCH_MAX : n;
    struct send_in *s = calloc(1, sizeof(struct send_in) + n * sizeof(struct send_one));
    if (s == NULL)
        proto_error(r, ERR_INTERNAL, NULL);
    return s;
}

static void send_in_free(struct send_in *s)
{
    for (size_t i = 0; i < s->n; i++) {
        sqs_attrs_destroy(&s->one[i].attrs);
        sqs_attrs_destroy(&s->one[i].sys);
    }
    free(s);
}

/* Reads message i of the send from in (the request, or a batch entry); false after answering
 * a malformed one (a single send also answers its attribute refusals here). */
static bool read_message(struct sqs_in *in, struct send_in *s, size_t i, bool batch)
{
    struct sqs_send_entry *e = &s->e[i];
    struct send_one *one = &s->one[i];
    sqs_attrs_init(&one->attrs);
    sqs_attrs_init(&one->sys);
    s->n = i + 1;
    if ((batch && !in_str(in, "Id", &e->id)) || !in_str(in, "MessageBody", &e->body) ||
        !in_num(in, "DelaySeconds", &e->has_delay, &e->delay) ||
        !in_str(in, "MessageGroupId", &e->group_id) ||
        !in_str(in, "MessageDeduplicationId", &e->dedup_id))
        return false;
    enum err rc = in->wire->in->msg_attrs(in, false, &one->attrs, one->msg, sizeof one->msg);
    if (rc == ERR_OK)
        rc = in->wire->in->msg_attrs(in, true, &one->sys, one->msg, sizeof one->msg);
    if (rc == ERR_SERIALIZATION || (rc != ERR_OK && !batch)) {
        proto_error(in->r, rc, one->msg);
        return false;
    }
    e->attrs = &one->attrs;
    e->sys = &one->sys;
    e->pre_err = rc;
    e->pre_msg = one->msg;
    return true;
}

static void send_fields(struct sqs_out *o, const struct sqs_send_result *res)
{
    put(o, "MD5OfMessageBody", res->md5_body);
    if (res->md5_attrs[0])
        put(o, "MD5OfMessageAttributes", res->md5_attrs);
    if (res->md5_sys[0])
        put(o, "MD5OfMessageSystemAttributes", res->md5_sys);
    put(o, "MessageId", res->message_id);
    if (res->seq_number[0])
        put(o, "SequenceNumber", res->seq_number);
}

static bool sender_fault(enum err e)
{
    return e != ERR_INTERNAL && strcmp(err_fault(e), "Sender") == 0;
}

/* A batch's answer: Successful then Failed entries, from SendMessageBatch's results (sent)
 * or from DeleteMessageBatch's and ChangeMessageVisibilityBatch's (changed). */
static void answer_batch(struct sqs_out *o, const struct sqs_send_result *sent,
                         const struct sqs_batch_result *changed, size_t n)
{
    for (int failed = 0; failed < 2; failed++) {
        sqs_out_open(o, SQS_OUT_LIST, failed ? "Failed" : "Successful", false);
        for (size_t i = 0; i < n; i++) {
            enum err e = sent ? sent[i].e : changed[i].e;
            if ((e != ERR_OK) != failed)
                continue;
            sqs_out_open(o, SQS_OUT_STRUCT, NULL, false);
            put(o, "Id", sent ? sent[i].id : changed[i].id);
            if (failed) {
                o->ops->flag(o, "SenderFault", sender_fault(e));
                put(o, "Code", err_query_code(e));
                put(o, "Message", sent ? sent[i].msg : changed[i].msg);
            } else if (sent) {
                send_fields(o, &sent[i]);
            }
            sqs_out_close(o);
        }
        sqs_out_close(o);
    }
    sqs_out_end(o);
}

static void done_send(void *arg, enum err e, const char *msg, const struct sqs_send_result *res,
                      size_t n)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    (void)n;
    if (reply(c, e, msg, true, &o)) {
        send_fields(&o, &res[0]);
        sqs_out_end(&o);
    }
    sqs_call_free(c);
}

static void done_send_batch(void *arg, enum err e, const char *msg,
                            const struct sqs_send_result *res, size_t n)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    if (reply(c, e, msg, true, &o))
        answer_batch(&o, res, NULL, n);
    sqs_call_free(c);
}

static void act_send_message(struct sqs_in *in)
{
    struct send_in *s = send_in_new(in->r, 1);
    if (s == NULL)
        return;
    /* the JSON protocol refuses a malformed message before it resolves the queue, the query
     * protocol after */
    bool read_first = !in->wire->query;
    struct sqs_queue *q = NULL;
    struct sqs_call *c = NULL;
    if ((read_first && !read_message(in, s, 0, false)) || (q = queue_of(in)) == NULL ||
        (!read_first && !read_message(in, s, 0, false)) || (c = call(in)) == NULL)
        goto out;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_send(q, &s->e[0], in->r->caller.user_id, done_send, c, msg, sizeof msg);
    run(c, e, msg);
out:
    send_in_free(s);
}

static void act_send_message_batch(struct sqs_in *in)
{
    size_t total;
    if (!in->wire->in->entries(in, &total))
        return;
    struct send_in *s = send_in_new(in->r, total);
    if (s == NULL)
        return;
    struct sqs_queue *q = queue_of(in);
    struct sqs_call *c = NULL;
    if (q == NULL)
        goto out;
    for (size_t i = 0; i < total && i < SQS_BATCH_MAX; i++) {
        struct sqs_in entry;
        if (!in->wire->in->entry(in, i, &entry) || !read_message(&entry, s, i, true))
            goto out;
    }
    if ((c = call(in)) == NULL)
        goto out;
    char msg[SQS_MSG_MAX];
    /* more than ten entries: only the count matters (TooManyEntriesInBatchRequest) */
    enum err e =
        sqs_send_batch(q, s->e, total, in->r->caller.user_id, done_send_batch, c, msg, sizeof msg);
    run(c, e, msg);
out:
    send_in_free(s);
}

/* ---- receiving ---------------------------------------------------------------------------- */

static void message_out(struct sqs_out *o, const struct sqs_message *m)
{
    sqs_out_open(o, SQS_OUT_STRUCT, NULL, false);
    put(o, "MessageId", m->message_id);
    put(o, "ReceiptHandle", m->receipt);
    put(o, "MD5OfBody", m->md5_body);
    o->ops->str(o, "Body", m->body, m->body_len);
    sqs_out_open(o, SQS_OUT_MAP, "Attributes", true);
    for (size_t i = 0; i < m->nsys; i++)
        o->ops->str(o, m->sys[i].name, m->sys[i].value, m->sys[i].len);
    sqs_out_close(o);
    if (m->attr_mask) {
        put(o, "MD5OfMessageAttributes", m->md5_attrs);
        sqs_out_open(o, SQS_OUT_MAP, "MessageAttributes", false);
        for (size_t i = 0; i < m->attrs.n; i++) {
            if (!(m->attr_mask & (1u << i)))
                continue;
            const struct sqs_attr *a = &m->attrs.a[i];
            sqs_out_open(o, SQS_OUT_STRUCT, a->name, false);
            if (a->kind == SQS_ATTR_BINARY) {
                struct buf b;
                buf_init(&b, 2u << 20);
                codec_b64_encode(a->value, a->value_len, &b);
                o->ops->str(o, "BinaryValue", b.data ? b.data : "", b.len);
                buf_destroy(&b);
            } else {
                o->ops->str(o, "StringValue", (const char *)a->value, a->value_len);
            }
            put(o, "DataType", a->type);
            sqs_out_close(o);
        }
        sqs_out_close(o);
    }
    sqs_out_close(o);
}

static void done_receive(void *arg, enum err e, const char *msg, const struct sqs_message *m,
                         size_t n)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    c->w = NULL;
    if (e == ERR_SQS_QUEUE_DOES_NOT_EXIST)
        msg = sqs_msg_queue_does_not_exist(c->wire->query);
    if (reply(c, e, msg, true, &o)) {
        sqs_out_open(&o, SQS_OUT_LIST, "Messages", true); /* left out when empty [R] */
        for (size_t i = 0; i < n; i++)
            message_out(&o, &m[i]);
        sqs_out_close(&o);
        sqs_out_end(&o);
    }
    sqs_call_free(c);
}

static void act_receive_message(struct sqs_in *in)
{
    struct sqs_str names[SQS_IN_MAX], sys[SQS_IN_MAX], sys2[SQS_IN_MAX];
    size_t nn, ns, ns2;
    struct sqs_receive_req req = {0};
    if (!in_list(in, "MessageAttributeNames", names, &nn) ||
        !in_list(in, "AttributeNames", sys, &ns) ||
        !in_list(in, "MessageSystemAttributeNames", sys2, &ns2) ||
        !in_num(in, "MaxNumberOfMessages", &req.p.has_max, &req.p.max) ||
        !in_num(in, "VisibilityTimeout", &req.p.has_visibility, &req.p.visibility) ||
        !in_num(in, "WaitTimeSeconds", &req.p.has_wait, &req.p.wait) ||
        !in_str(in, "ReceiveRequestAttemptId", &req.p.attempt_id))
        return;
    struct sqs_queue *q;
    struct sqs_call *c = queue_call(in, NULL, 0, &q);
    if (c == NULL)
        return;
    req.sys_mask = sqs_sysattr_select(sys, ns) | sqs_sysattr_select(sys2, ns2);
    req.names = names;
    req.nnames = nn;
    char msg[SQS_MSG_MAX];
    struct sqs_waiter *w = NULL;
    enum err e = sqs_receive(q, &req, done_receive, c, &w, msg, sizeof msg);
    if (e == ERR_OK)
        c->w = w;
    run(c, e, msg);
}

/* ---- deleting and visibility -------------------------------------------------------------- */

static void act_delete_message(struct sqs_in *in)
{
    struct sqs_str handle;
    if (!in_str(in, "ReceiptHandle", &handle))
        return;
    struct sqs_queue *q = queue_of(in);
    if (q == NULL)
        return;
    if (handle.p == NULL) {
        sqs_missing(in->r, "ReceiptHandle");
        return;
    }
    struct sqs_call *c = call(in);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_delete_message(q, handle, done_empty, c, msg, sizeof msg);
    run(c, e, msg);
}

static void act_change_visibility(struct sqs_in *in)
{
    struct sqs_str handle;
    bool has;
    long long t;
    if (!in_str(in, "ReceiptHandle", &handle) || !in_num(in, "VisibilityTimeout", &has, &t))
        return;
    struct sqs_queue *q = queue_of(in);
    if (q == NULL)
        return;
    if (handle.p == NULL || !has) {
        sqs_missing(in->r, handle.p == NULL ? "ReceiptHandle" : "VisibilityTimeout");
        return;
    }
    struct sqs_call *c = call(in);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_change_visibility(q, handle, t, done_empty, c, msg, sizeof msg);
    run(c, e, msg);
}

static void done_batch(void *arg, const struct sqs_batch_result *res, size_t n)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    if (reply(c, ERR_OK, NULL, true, &o))
        answer_batch(&o, NULL, res, n);
    sqs_call_free(c);
}

/* DeleteMessageBatch (del) and ChangeMessageVisibilityBatch. */
static void batch_change(struct sqs_in *in, bool del)
{
    size_t total;
    if (!in->wire->in->entries(in, &total))
        return;
    struct sqs_queue *q = queue_of(in);
    if (q == NULL)
        return;
    struct sqs_batch_entry e[SQS_BATCH_MAX];
    memset(e, 0, sizeof e);
    for (size_t i = 0; i < total && i < SQS_BATCH_MAX; i++) {
        struct sqs_in entry;
        if (!in->wire->in->entry(in, i, &entry) || !in_str(&entry, "Id", &e[i].id) ||
            !in_str(&entry, "ReceiptHandle", &e[i].handle) ||
            (!del && !in_num(&entry, "VisibilityTimeout", &e[i].has_timeout, &e[i].timeout)))
            return;
        if (e[i].handle.p == NULL) {
            e[i].pre_err = ERR_SQS_MISSING_PARAMETER;
            e[i].pre_msg = "The request must contain the parameter ReceiptHandle.";
        }
    }
    struct sqs_call *c = call(in);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err rc = del ? sqs_delete_batch(q, e, total, done_batch, c, msg, sizeof msg)
                      : sqs_change_visibility_batch(q, e, total, done_batch, c, msg, sizeof msg);
    run(c, rc, msg);
}

static void act_delete_message_batch(struct sqs_in *in)
{
    batch_change(in, true);
}

static void act_change_visibility_batch(struct sqs_in *in)
{
    batch_change(in, false);
}

/* ---- message move tasks ------------------------------------------------------------------ */

static void done_start_task(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    if (reply(c, e, msg, true, &o)) {
        put(&o, "TaskHandle", msg);
        sqs_out_end(&o);
    }
    sqs_call_free(c);
}

static void act_start_move_task(struct sqs_in *in)
{
    struct sqs_str src, dst;
    bool has_rate;
    long long rate;
    if (!in_str(in, "SourceArn", &src) || !in_str(in, "DestinationArn", &dst) ||
        !in_num(in, "MaxNumberOfMessagesPerSecond", &has_rate, &rate))
        return;
    struct sqs_call *c = call(in);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e =
        sqs_start_move_task(in->s, src, dst, has_rate, rate, done_start_task, c, msg, sizeof msg);
    run(c, e, msg);
}

static void done_cancel_task(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct sqs_out o;
    if (reply(c, e, msg, true, &o)) {
        long long moved = 0; /* msg: the count, in decimal */
        sqs_parse_int(sqs_str_c(msg), &moved);
        o.ops->num(&o, "ApproximateNumberOfMessagesMoved", moved);
        sqs_out_end(&o);
    }
    sqs_call_free(c);
}

static void act_cancel_move_task(struct sqs_in *in)
{
    struct sqs_str handle;
    if (!in_str(in, "TaskHandle", &handle))
        return;
    struct sqs_call *c = call(in);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_cancel_move_task(in->s, handle, done_cancel_task, c, msg, sizeof msg);
    run(c, e, msg);
}

static void emit_task(void *arg, const struct sqs_move_info *t)
{
    struct sqs_out *o = arg;
    sqs_out_open(o, SQS_OUT_STRUCT, NULL, false);
    if (t->handle)
        put(o, "TaskHandle", t->handle);
    put(o, "Status", t->status);
    put(o, "SourceArn", t->source_arn);
    if (t->dest_arn)
        put(o, "DestinationArn", t->dest_arn);
    if (t->rate)
        o->ops->num(o, "MaxNumberOfMessagesPerSecond", t->rate);
    o->ops->num(o, "ApproximateNumberOfMessagesMoved", t->moved);
    o->ops->num(o, "ApproximateNumberOfMessagesToMove", t->to_move);
    if (t->failure)
        put(o, "FailureReason", t->failure);
    o->ops->num(o, "StartedTimestamp", t->started_ms);
    sqs_out_close(o);
}

static void act_list_move_tasks(struct sqs_in *in)
{
    struct sqs_str src;
    bool has_max;
    long long max;
    if (!in_str(in, "SourceArn", &src) || !in_num(in, "MaxResults", &has_max, &max))
        return;
    struct sqs_out o;
    char msg[SQS_MSG_MAX];
    begin(&o, in);
    sqs_out_open(&o, SQS_OUT_LIST, "Results", false);
    enum err e = sqs_list_move_tasks(in->s, src, has_max, max, emit_task, &o, msg, sizeof msg);
    if (e != ERR_OK) {
        sqs_out_fail(&o, e, msg);
        return;
    }
    sqs_out_close(&o);
    sqs_out_end(&o);
}

/* ---- the table ------------------------------------------------------------------------------ */

/* name, handler, queueless (not valid when posted to a queue's URL) */
#define SQS_ACTIONS(X)                                                                             \
    X(AddPermission, act_add_permission, false)                                                    \
    X(CancelMessageMoveTask, act_cancel_move_task, true)                                           \
    X(ChangeMessageVisibility, act_change_visibility, false)                                       \
    X(ChangeMessageVisibilityBatch, act_change_visibility_batch, false)                            \
    X(CreateQueue, act_create_queue, true)                                                         \
    X(DeleteMessage, act_delete_message, false)                                                    \
    X(DeleteMessageBatch, act_delete_message_batch, false)                                         \
    X(DeleteQueue, act_delete_queue, false)                                                        \
    X(GetQueueAttributes, act_get_queue_attributes, false)                                         \
    X(GetQueueUrl, act_get_queue_url, true)                                                        \
    X(ListDeadLetterSourceQueues, act_list_dlq_sources, false)                                     \
    X(ListMessageMoveTasks, act_list_move_tasks, true)                                             \
    X(ListQueueTags, act_list_queue_tags, false)                                                   \
    X(ListQueues, act_list_queues, true)                                                           \
    X(PurgeQueue, act_purge_queue, false)                                                          \
    X(ReceiveMessage, act_receive_message, false)                                                  \
    X(RemovePermission, act_remove_permission, false)                                              \
    X(SendMessage, act_send_message, false)                                                        \
    X(SendMessageBatch, act_send_message_batch, false)                                             \
    X(SetQueueAttributes, act_set_queue_attributes, false)                                         \
    X(StartMessageMoveTask, act_start_move_task, true)                                             \
    X(TagQueue, act_tag_queue, false)                                                              \
    X(UntagQueue, act_untag_queue, false)

struct sqs_action {
    const char *name;
    void (*fn)(struct sqs_in *in);
    bool queueless;
};

#define ACTION_ROW(name, fn, queueless) {#name, fn, queueless},
static const struct sqs_action actions[] = {SQS_ACTIONS(ACTION_ROW)};

#define ACTION_NAME(name, fn, queueless) #name,
const char *const sqs_action_names[] = {SQS_ACTIONS(ACTION_NAME) NULL};

const struct sqs_action *sqs_action_find(const char *op, size_t op_len, bool *queueless)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strlen(actions[i].name) == op_len && memcmp(actions[i].name, op, op_len) == 0) {
            *queueless = actions[i].queueless;
            return &actions[i];
        }
    return NULL;
}

void sqs_action_run(const struct sqs_action *act, struct sqs_in *in)
{
    in->op = act->name;
    act->fn(in);
}
