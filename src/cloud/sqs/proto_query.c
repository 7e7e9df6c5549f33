/*
 * proto_query.c — SQS over the query protocol (see proto_query.h). Member names follow the
 * SQS service model's query serialization: flattened lists and maps (AttributeName.N,
 * Attribute.N.Name/Value, MessageAttribute.N.Name/Value.DataType/Value.StringValue,
 * SendMessageBatchRequestEntry.N.*, Tag.N.Key/Value, TagKey.N), and XML answers
 * <XResponse xmlns=...><XResult>...</XResult><ResponseMetadata><RequestId/>...
 */
#include "cloud/sqs/proto_query.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud/proto/form.h"
#include "cloud/proto/xmlw.h"
#include "cloud/sqs/proto_common.h"
#include "core/buf.h"
#include "core/codec.h"

#define XMLNS "http://queue.amazonaws.com/doc/2012-11-05/"

enum {
    MAX_BODY = 16 * 1024 * 1024,
    OUT_MAX = 24 * 1024 * 1024,
    MAX_LIST = 64, /* members of a list or map a request may carry */
};

typedef void (*op_fn)(struct sqs *s, struct proto_req *r, const struct proto_form *f);

/* ---- reading the request ------------------------------------------------------------------ */

static struct sqs_str fget(const struct proto_form *f, const char *key)
{
    size_t n;
    const char *v = proto_form_get(f, key, &n);
    return (struct sqs_str){v, v ? n : 0};
}

static struct sqs_str fgetf(const struct proto_form *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static struct sqs_str fgetf(const struct proto_form *f, const char *fmt, ...)
{
    char key[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    return fget(f, key);
}

/* An integer parameter; false after answering one that is not a number. */
static bool fint(struct proto_req *r, const struct proto_form *f, const char *key, bool *has,
                 long long *out)
{
    struct sqs_str v = fget(f, key);
    *has = false;
    *out = 0;
    if (v.p == NULL)
        return true;
    if (!sqs_parse_int(v, out)) {
        proto_errorf(r, ERR_SQS_INVALID_PARAMETER_VALUE,
                     "Value %.*s for parameter %s is invalid. Reason: Must be an integer.",
                     (int)(v.len > 64 ? 64 : v.len), v.p, key); /* [E] */
        return false;
    }
    *has = true;
    return true;
}

/* <prefix>.1, <prefix>.2, ... while present. */
static size_t flist(const struct proto_form *f, const char *prefix, struct sqs_str *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 1; n < cap; i++) {
        struct sqs_str v = fgetf(f, "%s.%zu", prefix, i);
        if (v.p == NULL)
            break;
        out[n++] = v;
    }
    return n;
}

/* <prefix>.N.<k>/<prefix>.N.<v> pairs while present. */
static size_t fmap(const struct proto_form *f, const char *prefix, const char *k, const char *v,
                   struct sqs_kv *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 1; n < cap; i++) {
        struct sqs_str name = fgetf(f, "%s.%zu.%s", prefix, i, k);
        if (name.p == NULL)
            break;
        out[n].name = name;
        out[n].value = fgetf(f, "%s.%zu.%s", prefix, i, v);
        n++;
    }
    return n;
}

/* Message attributes under <prefix>MessageAttribute.N.* (prefix "" or an entry's). */
static size_t fattrs(const struct proto_form *f, const char *prefix, const char *what,
                     struct sqs_attr_in *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 1; n < cap; i++) {
        struct sqs_str name = fgetf(f, "%s%s.%zu.Name", prefix, what, i);
        if (name.p == NULL)
            break;
        out[n] = (struct sqs_attr_in){
            .name = name,
            .type = fgetf(f, "%s%s.%zu.Value.DataType", prefix, what, i),
            .string_value = fgetf(f, "%s%s.%zu.Value.StringValue", prefix, what, i),
            .binary_b64 = fgetf(f, "%s%s.%zu.Value.BinaryValue", prefix, what, i),
        };
        n++;
    }
    return n;
}

static struct sqs_queue *queue_of(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    return sqs_call_queue(r, s, true, fget(f, "QueueUrl"));
}

/* ---- answering ----------------------------------------------------------------------------------
 */

struct out {
    struct buf b;
    struct xmlw x;
    char op[48];
    bool result;
};

static void out_begin(struct out *o, const char *op, bool result)
{
    char tag[64];
    buf_init(&o->b, OUT_MAX);
    xw_init(&o->x, &o->b);
    snprintf(o->op, sizeof o->op, "%s", op);
    o->result = result;
    buf_puts(&o->b, "<?xml version=\"1.0\"?>");
    snprintf(tag, sizeof tag, "%sResponse", op);
    xw_open_ns(&o->x, tag, XMLNS);
    if (result) {
        snprintf(tag, sizeof tag, "%sResult", op);
        xw_open(&o->x, tag);
    }
}

static void out_end(struct proto_req *r, struct out *o)
{
    char tag[64];
    if (o->result) {
        snprintf(tag, sizeof tag, "%sResult", o->op);
        xw_close(&o->x, tag);
    }
    xw_open(&o->x, "ResponseMetadata");
    xw_elem(&o->x, "RequestId", r->request_id);
    xw_close(&o->x, "ResponseMetadata");
    snprintf(tag, sizeof tag, "%sResponse", o->op);
    xw_close(&o->x, tag);
    if (xw_ok(&o->x))
        proto_ok(r, 200, o->b.data, o->b.len);
    else
        proto_error(r, ERR_INTERNAL, NULL);
    buf_destroy(&o->b);
}

static void answer_empty(struct proto_req *r, const char *op)
{
    struct out o;
    out_begin(&o, op, false);
    out_end(r, &o);
}

static void oom(struct proto_req *r)
{
    proto_error(r, ERR_INTERNAL, NULL);
}

static void done_empty(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e == ERR_OK)
            answer_empty(r, c->op);
        else
            proto_error(r, e, msg);
    }
    sqs_call_free(c);
}

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
    struct sqs_call *c = sqs_call_new(r, s, true);
    if (c == NULL)
        oom(r);
    return c;
}

/* ---- queues -------------------------------------------------------------------------------------
 */

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
            out_begin(&o, "CreateQueue", true);
            xw_elem(&o.x, "QueueUrl", url);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_create_queue(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_str name = fget(f, "QueueName");
    struct sqs_kv attrs[MAX_LIST], tags[MAX_LIST];
    size_t na = fmap(f, "Attribute", "Name", "Value", attrs, MAX_LIST);
    size_t nt = fmap(f, "Tag", "Key", "Value", tags, MAX_LIST);
    if (name.p == NULL) {
        sqs_missing(r, "QueueName");
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    struct sqs_create_req req = {
        .name = name, .attrs = attrs, .nattrs = na, .tags = tags, .ntags = nt};
    enum err e = sqs_create_queue(s, &req, done_url, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_get_queue_url(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_queue *q;
    char msg[SQS_MSG_MAX], url[SQS_URL_MAX];
    enum err e = sqs_get_queue_url(s, fget(f, "QueueName"), fget(f, "QueueOwnerAWSAccountId"), &q,
                                   true, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return;
    }
    struct out o;
    sqs_queue_url(q, url);
    out_begin(&o, "GetQueueUrl", true);
    xw_elem(&o.x, "QueueUrl", url);
    out_end(r, &o);
}

static void op_delete_queue(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_queue *q = queue_of(s, r, f);
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
    xw_elem(arg, "QueueUrl", url);
}

static void op_list_queues(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    bool has_max;
    long long max;
    if (!fint(r, f, "MaxResults", &has_max, &max))
        return;
    struct out o;
    char next[SQS_URL_MAX], msg[SQS_MSG_MAX];
    out_begin(&o, "ListQueues", true);
    enum err e = sqs_list_queues(s, fget(f, "QueueNamePrefix"), has_max, max, fget(f, "NextToken"),
                                 emit_url, &o.x, next, msg, sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    if (next[0])
        xw_elem(&o.x, "NextToken", next);
    out_end(r, &o);
}

static void op_list_dlq_sources(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    bool has_max;
    long long max;
    if (!fint(r, f, "MaxResults", &has_max, &max))
        return;
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct out o;
    char next[SQS_URL_MAX], msg[SQS_MSG_MAX];
    out_begin(&o, "ListDeadLetterSourceQueues", true);
    enum err e = sqs_list_dlq_sources(q, has_max, max, fget(f, "NextToken"), emit_url, &o.x, next,
                                      msg, sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    if (next[0])
        xw_elem(&o.x, "NextToken", next);
    out_end(r, &o);
}

static void emit_attr(void *arg, const char *name, const char *value)
{
    struct xmlw *x = arg;
    xw_open(x, "Attribute");
    xw_elem(x, "Name", name);
    xw_elem(x, "Value", value);
    xw_close(x, "Attribute");
}

static void op_get_queue_attributes(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_str names[MAX_LIST];
    size_t n = flist(f, "AttributeName", names, MAX_LIST);
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct out o;
    char msg[SQS_MSG_MAX];
    out_begin(&o, "GetQueueAttributes", true);
    enum err e = sqs_get_attributes(q, names, n, emit_attr, &o.x, msg, sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    out_end(r, &o);
}

static void op_set_queue_attributes(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_kv kv[MAX_LIST];
    size_t n = fmap(f, "Attribute", "Name", "Value", kv, MAX_LIST);
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    if (n == 0) {
        sqs_missing(r, "Attribute.1.Name");
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_set_attributes(q, kv, n, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_purge_queue(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_purge(q, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_tag_queue(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_kv tags[MAX_LIST];
    size_t n = fmap(f, "Tag", "Key", "Value", tags, MAX_LIST);
    if (n == 0)
        n = fmap(f, "Tags", "Key", "Value", tags, MAX_LIST);
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    if (n == 0) {
        sqs_missing(r, "Tags");
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_tag_queue(q, tags, n, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_untag_queue(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_str keys[MAX_LIST];
    size_t n = flist(f, "TagKey", keys, MAX_LIST);
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    if (n == 0) {
        sqs_missing(r, "TagKeys");
        return;
    }
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_untag_queue(q, keys, n, done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void emit_tag(void *arg, const char *key, const char *value)
{
    struct xmlw *x = arg;
    xw_open(x, "Tag");
    xw_elem(x, "Key", key);
    xw_elem(x, "Value", value);
    xw_close(x, "Tag");
}

static void op_list_queue_tags(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct out o;
    out_begin(&o, "ListQueueTags", true);
    sqs_list_tags(q, emit_tag, &o.x);
    out_end(r, &o);
}

static void op_add_permission(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_str accounts[MAX_LIST], actions[MAX_LIST];
    size_t na = flist(f, "AWSAccountId", accounts, MAX_LIST);
    size_t nx = flist(f, "ActionName", actions, MAX_LIST);
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_add_permission(q, fget(f, "Label"), accounts, na, actions, nx, done_empty, c,
                                    msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void op_remove_permission(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_remove_permission(q, fget(f, "Label"), done_empty, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

/* ---- sending
 * ------------------------------------------------------------------------------------- */

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

/* Reads an entry under prefix ("" or "SendMessageBatchRequestEntry.N."); false after
 * answering (a single send answers its attribute refusals here). */
static bool read_entry(struct proto_req *r, const struct proto_form *f, const char *prefix,
                       struct send_in *in, size_t i, bool batch)
{
    struct sqs_send_entry *e = &in->e[i];
    struct sqs_attr_in a[SQS_MAX_MSG_ATTRS + 2];
    char key[128];
    sqs_attrs_init(&in->one[i].attrs);
    sqs_attrs_init(&in->one[i].sys);
    in->n = i + 1;
    e->id = fgetf(f, "%sId", prefix);
    e->body = fgetf(f, "%sMessageBody", prefix);
    e->group_id = fgetf(f, "%sMessageGroupId", prefix);
    e->dedup_id = fgetf(f, "%sMessageDeduplicationId", prefix);
    snprintf(key, sizeof key, "%sDelaySeconds", prefix);
    if (!fint(r, f, key, &e->has_delay, &e->delay))
        return false;
    size_t n = fattrs(f, prefix, "MessageAttribute", a, SQS_MAX_MSG_ATTRS + 2);
    enum err rc = sqs_attrs_parse(&in->one[i].attrs, a, n, in->one[i].msg, sizeof in->one[i].msg);
    if (rc == ERR_OK) {
        n = fattrs(f, prefix, "MessageSystemAttribute", a, SQS_MAX_MSG_ATTRS + 2);
        rc = sqs_sysattrs_parse(&in->one[i].sys, a, n, in->one[i].msg, sizeof in->one[i].msg);
    }
    if (rc != ERR_OK && !batch) {
        proto_error(r, rc, in->one[i].msg);
        return false;
    }
    e->attrs = &in->one[i].attrs;
    e->sys = &in->one[i].sys;
    e->pre_err = rc;
    e->pre_msg = in->one[i].msg;
    return true;
}

static void send_fields(struct xmlw *x, const struct sqs_send_result *res)
{
    xw_elem(x, "MD5OfMessageBody", res->md5_body);
    if (res->md5_attrs[0])
        xw_elem(x, "MD5OfMessageAttributes", res->md5_attrs);
    if (res->md5_sys[0])
        xw_elem(x, "MD5OfMessageSystemAttributes", res->md5_sys);
    xw_elem(x, "MessageId", res->message_id);
    if (res->seq_number[0])
        xw_elem(x, "SequenceNumber", res->seq_number);
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
            out_begin(&o, "SendMessage", true);
            send_fields(&o.x, &res[0]);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void failed_entry(struct xmlw *x, const char *id, enum err e, const char *msg)
{
    xw_open(x, "BatchResultErrorEntry");
    xw_elem(x, "Id", id);
    xw_elem(x, "SenderFault", sqs_sender_fault(e) ? "true" : "false");
    xw_elem(x, "Code", err_query_code(e));
    xw_elem(x, "Message", msg);
    xw_close(x, "BatchResultErrorEntry");
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
            out_begin(&o, "SendMessageBatch", true);
            for (size_t i = 0; i < n; i++) {
                if (res[i].e != ERR_OK)
                    continue;
                xw_open(&o.x, "SendMessageBatchResultEntry");
                xw_elem(&o.x, "Id", res[i].id);
                send_fields(&o.x, &res[i]);
                xw_close(&o.x, "SendMessageBatchResultEntry");
            }
            for (size_t i = 0; i < n; i++)
                if (res[i].e != ERR_OK)
                    failed_entry(&o.x, res[i].id, res[i].e, res[i].msg);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_send_message(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct send_in *in = send_in_new(1);
    if (in == NULL) {
        oom(r);
        return;
    }
    struct sqs_queue *q = NULL;
    struct sqs_call *c = NULL;
    if ((q = queue_of(s, r, f)) == NULL || !read_entry(r, f, "", in, 0, false) ||
        (c = call(s, r)) == NULL)
        goto out;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_send(q, &in->e[0], r->caller.user_id, done_send, c, msg, sizeof msg);
    RUN(r, c, e, msg);
out:
    send_in_destroy(in);
    free(in);
}

/* How many batch entries the request lists under prefix (<prefix>.N.Id, any N in a row). */
static size_t count_entries(const struct proto_form *f, const char *prefix)
{
    size_t n = 0;
    while (n < 1000 && (fgetf(f, "%s.%zu.Id", prefix, n + 1).p != NULL ||
                        fgetf(f, "%s.%zu.ReceiptHandle", prefix, n + 1).p != NULL ||
                        fgetf(f, "%s.%zu.MessageBody", prefix, n + 1).p != NULL))
        n++;
    return n;
}

static void op_send_message_batch(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    static const char P[] = "SendMessageBatchRequestEntry";
    size_t total = count_entries(f, P);
    struct send_in *in = send_in_new(total);
    if (in == NULL) {
        oom(r);
        return;
    }
    struct sqs_queue *q = queue_of(s, r, f);
    struct sqs_call *c = NULL;
    if (q == NULL)
        goto out;
    for (size_t i = 0; i < total && i < SQS_BATCH_MAX; i++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s.%zu.", P, i + 1);
        if (!read_entry(r, f, prefix, in, i, true))
            goto out;
    }
    if ((c = call(s, r)) == NULL)
        goto out;
    char msg[SQS_MSG_MAX];
    enum err e =
        sqs_send_batch(q, in->e, total, r->caller.user_id, done_send_batch, c, msg, sizeof msg);
    RUN(r, c, e, msg);
out:
    send_in_destroy(in);
    free(in);
}

/* ---- receiving
 * ------------------------------------------------------------------------------------ */

static void message_xml(struct xmlw *x, const struct sqs_message *m)
{
    xw_open(x, "Message");
    xw_elem(x, "MessageId", m->message_id);
    xw_elem(x, "ReceiptHandle", m->receipt);
    xw_elem(x, "MD5OfBody", m->md5_body);
    xw_elemn(x, "Body", m->body, m->body_len);
    for (size_t i = 0; i < m->nsys; i++) {
        xw_open(x, "Attribute");
        xw_elem(x, "Name", m->sys[i].name);
        xw_elemn(x, "Value", m->sys[i].value, m->sys[i].len);
        xw_close(x, "Attribute");
    }
    if (m->attr_mask) {
        xw_elem(x, "MD5OfMessageAttributes", m->md5_attrs);
        for (size_t i = 0; i < m->attrs.n; i++) {
            if (!(m->attr_mask & (1u << i)))
                continue;
            const struct sqs_attr *a = &m->attrs.a[i];
            xw_open(x, "MessageAttribute");
            xw_elem(x, "Name", a->name);
            xw_open(x, "Value");
            if (a->kind == SQS_ATTR_BINARY) {
                struct buf b;
                buf_init(&b, 2u << 20);
                codec_b64_encode(a->value, a->value_len, &b);
                xw_elemn(x, "BinaryValue", b.data ? b.data : "", b.len);
                buf_destroy(&b);
            } else {
                xw_elemn(x, "StringValue", (const char *)a->value, a->value_len);
            }
            xw_elem(x, "DataType", a->type);
            xw_close(x, "Value");
            xw_close(x, "MessageAttribute");
        }
    }
    xw_close(x, "Message");
}

static void done_receive(void *arg, enum err e, const char *msg, const struct sqs_message *m,
                         size_t n)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    c->w = NULL;
    if (r != NULL) {
        if (e == ERR_SQS_QUEUE_DOES_NOT_EXIST) {
            proto_error(r, e, sqs_msg_queue_does_not_exist(true));
        } else if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            out_begin(&o, "ReceiveMessage", true);
            for (size_t i = 0; i < n; i++)
                message_xml(&o.x, &m[i]);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_receive_message(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_str names[MAX_LIST], sys[MAX_LIST];
    size_t nn = flist(f, "MessageAttributeName", names, MAX_LIST);
    size_t ns = flist(f, "AttributeName", sys, MAX_LIST);
    struct sqs_str sys2[MAX_LIST];
    size_t ns2 = flist(f, "MessageSystemAttributeName", sys2, MAX_LIST);
    struct sqs_receive_req req = {0};
    if (!fint(r, f, "MaxNumberOfMessages", &req.p.has_max, &req.p.max) ||
        !fint(r, f, "VisibilityTimeout", &req.p.has_visibility, &req.p.visibility) ||
        !fint(r, f, "WaitTimeSeconds", &req.p.has_wait, &req.p.wait))
        return;
    req.p.attempt_id = fget(f, "ReceiveRequestAttemptId");
    struct sqs_queue *q = queue_of(s, r, f);
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

static void op_delete_message(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct sqs_str handle = fget(f, "ReceiptHandle");
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

static void op_change_visibility(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    bool has;
    long long t;
    if (!fint(r, f, "VisibilityTimeout", &has, &t))
        return;
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    struct sqs_str handle = fget(f, "ReceiptHandle");
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
        char entry[64];
        snprintf(entry, sizeof entry, "%sResultEntry", c->op);
        struct out o;
        out_begin(&o, c->op, true);
        for (size_t i = 0; i < n; i++) {
            if (res[i].e != ERR_OK)
                continue;
            xw_open(&o.x, entry);
            xw_elem(&o.x, "Id", res[i].id);
            xw_close(&o.x, entry);
        }
        for (size_t i = 0; i < n; i++)
            if (res[i].e != ERR_OK)
                failed_entry(&o.x, res[i].id, res[i].e, res[i].msg);
        out_end(r, &o);
    }
    sqs_call_free(c);
}

static void op_batch_change(struct sqs *s, struct proto_req *r, const struct proto_form *f,
                            bool del)
{
    const char *P =
        del ? "DeleteMessageBatchRequestEntry" : "ChangeMessageVisibilityBatchRequestEntry";
    struct sqs_queue *q = queue_of(s, r, f);
    if (q == NULL)
        return;
    size_t total = count_entries(f, P);
    struct sqs_batch_entry e[SQS_BATCH_MAX];
    memset(e, 0, sizeof e);
    for (size_t i = 0; i < total && i < SQS_BATCH_MAX; i++) {
        char key[96];
        e[i].id = fgetf(f, "%s.%zu.Id", P, i + 1);
        e[i].handle = fgetf(f, "%s.%zu.ReceiptHandle", P, i + 1);
        snprintf(key, sizeof key, "%s.%zu.VisibilityTimeout", P, i + 1);
        if (!del && !fint(r, f, key, &e[i].has_timeout, &e[i].timeout))
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

static void op_delete_message_batch(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    op_batch_change(s, r, f, true);
}

static void op_change_visibility_batch(struct sqs *s, struct proto_req *r,
                                       const struct proto_form *f)
{
    op_batch_change(s, r, f, false);
}

/* ---- message move tasks -------------------------------------------------------------------------
 */

static void done_start_task(void *arg, enum err e, const char *msg)
{
    struct sqs_call *c = arg;
    struct proto_req *r = sqs_call_req(c);
    if (r != NULL) {
        if (e != ERR_OK) {
            proto_error(r, e, msg);
        } else {
            struct out o;
            out_begin(&o, "StartMessageMoveTask", true);
            xw_elem(&o.x, "TaskHandle", msg);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_start_move_task(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    bool has_rate;
    long long rate;
    if (!fint(r, f, "MaxNumberOfMessagesPerSecond", &has_rate, &rate))
        return;
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e = sqs_start_move_task(s, fget(f, "SourceArn"), fget(f, "DestinationArn"), has_rate,
                                     rate, done_start_task, c, msg, sizeof msg);
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
            out_begin(&o, "CancelMessageMoveTask", true);
            xw_elem(&o.x, "ApproximateNumberOfMessagesMoved", msg);
            out_end(r, &o);
        }
    }
    sqs_call_free(c);
}

static void op_cancel_move_task(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    struct sqs_call *c = call(s, r);
    if (c == NULL)
        return;
    char msg[SQS_MSG_MAX];
    enum err e =
        sqs_cancel_move_task(s, fget(f, "TaskHandle"), done_cancel_task, c, msg, sizeof msg);
    RUN(r, c, e, msg);
}

static void emit_task(void *arg, const struct sqs_move_info *t)
{
    struct xmlw *x = arg;
    xw_open(x, "ListMessageMoveTasksResultEntry");
    if (t->handle)
        xw_elem(x, "TaskHandle", t->handle);
    xw_elem(x, "Status", t->status);
    xw_elem(x, "SourceArn", t->source_arn);
    if (t->dest_arn)
        xw_elem(x, "DestinationArn", t->dest_arn);
    if (t->rate)
        xw_elem_int(x, "MaxNumberOfMessagesPerSecond", t->rate);
    xw_elem_int(x, "ApproximateNumberOfMessagesMoved", t->moved);
    xw_elem_int(x, "ApproximateNumberOfMessagesToMove", t->to_move);
    if (t->failure)
        xw_elem(x, "FailureReason", t->failure);
    xw_elem_int(x, "StartedTimestamp", t->started_ms);
    xw_close(x, "ListMessageMoveTasksResultEntry");
}

static void op_list_move_tasks(struct sqs *s, struct proto_req *r, const struct proto_form *f)
{
    bool has_max;
    long long max;
    if (!fint(r, f, "MaxResults", &has_max, &max))
        return;
    struct out o;
    char msg[SQS_MSG_MAX];
    out_begin(&o, "ListMessageMoveTasks", true);
    enum err e = sqs_list_move_tasks(s, fget(f, "SourceArn"), has_max, max, emit_task, &o.x, msg,
                                     sizeof msg);
    if (e != ERR_OK) {
        buf_destroy(&o.b);
        proto_error(r, e, msg);
        return;
    }
    out_end(r, &o);
}

/* ---- dispatch -----------------------------------------------------------------------------------
 */

static const struct {
    const char *name;
    op_fn fn;
    bool queueless; /* not valid when posted to a queue's URL */
} ops[] = {
    {"AddPermission", op_add_permission, false},
    {"CancelMessageMoveTask", op_cancel_move_task, true},
    {"ChangeMessageVisibility", op_change_visibility, false},
    {"ChangeMessageVisibilityBatch", op_change_visibility_batch, false},
    {"CreateQueue", op_create_queue, true},
    {"DeleteMessage", op_delete_message, false},
    {"DeleteMessageBatch", op_delete_message_batch, false},
    {"DeleteQueue", op_delete_queue, false},
    {"GetQueueAttributes", op_get_queue_attributes, false},
    {"GetQueueUrl", op_get_queue_url, true},
    {"ListDeadLetterSourceQueues", op_list_dlq_sources, false},
    {"ListMessageMoveTasks", op_list_move_tasks, true},
    {"ListQueueTags", op_list_queue_tags, false},
    {"ListQueues", op_list_queues, true},
    {"PurgeQueue", op_purge_queue, false},
    {"ReceiveMessage", op_receive_message, false},
    {"RemovePermission", op_remove_permission, false},
    {"SendMessage", op_send_message, false},
    {"SendMessageBatch", op_send_message_batch, false},
    {"SetQueueAttributes", op_set_queue_attributes, false},
    {"StartMessageMoveTask", op_start_move_task, true},
    {"TagQueue", op_tag_queue, false},
    {"UntagQueue", op_untag_queue, false},
};

static const char *const actions[] = {
    "AddPermission",
    "CancelMessageMoveTask",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessage",
    "DeleteMessageBatch",
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "RemovePermission",
    "SendMessage",
    "SendMessageBatch",
    "SetQueueAttributes",
    "StartMessageMoveTask",
    "TagQueue",
    "UntagQueue",
    NULL,
};

void sqs_query_handle(void *engine, struct proto_req *r)
{
    struct sqs *s = engine;
    size_t i, n = sizeof ops / sizeof ops[0];
    for (i = 0; i < n; i++)
        if (strlen(ops[i].name) == r->op_len && memcmp(ops[i].name, r->op, r->op_len) == 0)
            break;
    bool on_queue = r->path_len > 1;
    if (i == n || (on_queue && ops[i].queueless)) {
        proto_errorf(r, ERR_SQS_INVALID_ACTION, "The action %.*s is not valid for this endpoint.",
                     (int)(r->op_len > 64 ? 64 : r->op_len), r->op ? r->op : "");
        return;
    }
    size_t ctl;
    const char *ct = proto_header(r, "content-type", &ctl);
    bool form = ct && ctl >= 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
    struct proto_form f;
    if (proto_form_parse(&f, form ? r->body : "", form ? r->body_len : 0, r->query, r->query_len) !=
        0) {
        proto_error(r, ERR_SQS_INVALID_PARAMETER_VALUE,
                    "The request parameters could not be decoded.");
        return;
    }
    ops[i].fn(s, r, &f);
    proto_form_destroy(&f);
}

void sqs_query_service(struct sqs *s, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "sqs",
        .protocol = PROTO_QUERY,
        .actions = actions,
        .xmlns = XMLNS,
        .max_body = MAX_BODY,
        .handle = sqs_query_handle,
        .engine = s,
    };
}
