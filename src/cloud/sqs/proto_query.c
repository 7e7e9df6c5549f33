/*
 * proto_query.c — SQS over the query protocol (see proto_query.h): the query side of
 * proto_common.h's interface. Member names follow the SQS service model's query
 * serialization: flattened lists and maps (AttributeName.N, Attribute.N.Name/Value,
 * MessageAttribute.N.Name/Value.DataType/Value.StringValue, SendMessageBatchRequestEntry.N.*,
 * Tag.N.Key/Value, TagKey.N), and XML answers
 * <XResponse xmlns=...><XResult>...</XResult><ResponseMetadata><RequestId/>...
 */
#include "cloud/sqs/proto_query.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cloud/proto/form.h"
#include "cloud/proto/xmlw.h"
#include "cloud/sqs/proto_common.h"
#include "core/buf.h"

#define XMLNS "http://queue.amazonaws.com/doc/2012-11-05/"

enum {
    MAX_BODY = 16 * 1024 * 1024,
};

/*
 * The query protocol's names of the JSON members it flattens, in requests and answers: a
 * list's items are <query>.N (an answer's: <query> elements), a map's entries <query>.N.<key>
 * and <query>.N.<value> (<query><key/><value/></query>). NULL query: <Action>ResultEntry.
 */
static const struct member {
    const char *json, *query;
    const char *key, *value;
    const char *alt;     /* another spelling, read when the first has nothing (TagQueue) */
    const char *missing; /* the parameter a refusal of an empty one names (default: json) */
} members[] = {
    {"AWSAccountIds", "AWSAccountId", NULL, NULL, NULL, NULL},
    {"Actions", "ActionName", NULL, NULL, NULL, NULL},
    {"AttributeNames", "AttributeName", NULL, NULL, NULL, NULL},
    {"Attributes", "Attribute", "Name", "Value", NULL, "Attribute.1.Name"},
    {"Failed", "BatchResultErrorEntry", NULL, NULL, NULL, NULL},
    {"MessageAttributeNames", "MessageAttributeName", NULL, NULL, NULL, NULL},
    {"MessageAttributes", "MessageAttribute", "Name", "Value", NULL, NULL},
    {"MessageSystemAttributeNames", "MessageSystemAttributeName", NULL, NULL, NULL, NULL},
    {"Messages", "Message", NULL, NULL, NULL, NULL},
    {"QueueUrls", "QueueUrl", NULL, NULL, NULL, NULL},
    {"Results", NULL, NULL, NULL, NULL, NULL},
    {"Successful", NULL, NULL, NULL, NULL, NULL},
    {"TagKeys", "TagKey", NULL, NULL, NULL, NULL},
    {"Tags", "Tag", "Key", "Value", "Tags", NULL},
    {"queueUrls", "QueueUrl", NULL, NULL, NULL, NULL},
    {"tags", "Tag", "Key", "Value", NULL, NULL},
};

static const struct member *member(const char *json)
{
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (strcmp(members[i].json, json) == 0)
            return &members[i];
    assert(!"a member the query protocol does not name");
    return &members[0];
}

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

/* The key of a member of in: its name under in's prefix (an entry's). */
static const char *key_of(const struct sqs_in *in, const char *name, char *buf, size_t len)
{
    if (in->prefix[0] == '\0')
        return name;
    snprintf(buf, len, "%s%s", in->prefix, name);
    return buf;
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

static bool get_str(struct sqs_in *in, const char *name, struct sqs_str *out)
{
    char key[160];
    *out = fget(in->src, key_of(in, name, key, sizeof key));
    return true;
}

/* An integer parameter; false after answering one that is not a number. */
static bool get_int(struct sqs_in *in, const char *name, bool *has, long long *out)
{
    char buf[160];
    const char *key = key_of(in, name, buf, sizeof buf);
    struct sqs_str v = fget(in->src, key);
    *has = false;
    *out = 0;
    if (v.p == NULL)
        return true;
    if (!sqs_parse_int(v, out)) {
        proto_errorf(in->r, ERR_SQS_INVALID_PARAMETER_VALUE,
                     "Value %.*s for parameter %s is invalid. Reason: Must be an integer.",
                     (int)(v.len > 64 ? 64 : v.len), v.p, key); /* [E] */
        return false;
    }
    *has = true;
    return true;
}

static bool get_list(struct sqs_in *in, const char *name, struct sqs_str *out, size_t cap,
                     size_t *n)
{
    char key[160];
    *n = flist(in->src, key_of(in, member(name)->query, key, sizeof key), out, cap);
    return true;
}

static bool get_map(struct sqs_in *in, const char *name, struct sqs_kv *out, size_t cap, size_t *n)
{
    const struct member *m = member(name);
    *n = fmap(in->src, m->query, m->key, m->value, out, cap);
    if (*n == 0 && m->alt)
        *n = fmap(in->src, m->alt, m->key, m->value, out, cap);
    return true;
}

/* An empty list or map cannot be told from an absent one: refused once the queue is known. */
static bool require(struct sqs_in *in, const char *name, size_t n, bool queue_known)
{
    if (!queue_known || n > 0)
        return true;
    const struct member *m = member(name);
    sqs_missing(in->r, m->missing ? m->missing : name);
    return false;
}

static enum err queue_attrs(struct sqs_in *in, struct sqs_kv *out, size_t cap, size_t *n, char *msg,
                            size_t msglen)
{
    (void)msg;
    (void)msglen;
    return get_map(in, "Attributes", out, cap, n) ? ERR_OK : ERR_INTERNAL;
}

/* Message attributes under <prefix><what>.N.* (prefix "" or an entry's). */
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

static enum err msg_attrs(struct sqs_in *in, bool system, struct sqs_attrs *set, char *msg,
                          size_t msglen)
{
    struct sqs_attr_in a[SQS_MAX_MSG_ATTRS + 2];
    size_t n = fattrs(in->src, in->prefix, system ? "MessageSystemAttribute" : "MessageAttribute",
                      a, SQS_MAX_MSG_ATTRS + 2);
    return system ? sqs_sysattrs_parse(set, a, n, msg, msglen)
                  : sqs_attrs_parse(set, a, n, msg, msglen);
}

/* How many batch entries the request lists (<Action>RequestEntry.N.*, any N in a row). */
static bool entries(struct sqs_in *in, size_t *n)
{
    const struct proto_form *f = in->src;
    const char *op = in->op;
    *n = 0;
    while (*n < 1000 && (fgetf(f, "%sRequestEntry.%zu.Id", op, *n + 1).p != NULL ||
                         fgetf(f, "%sRequestEntry.%zu.ReceiptHandle", op, *n + 1).p != NULL ||
                         fgetf(f, "%sRequestEntry.%zu.MessageBody", op, *n + 1).p != NULL))
        (*n)++;
    return true;
}

static bool entry(struct sqs_in *in, size_t i, struct sqs_in *out)
{
    *out = *in;
    snprintf(out->prefix, sizeof out->prefix, "%sRequestEntry.%zu.", in->op, i + 1);
    return true;
}

/* ---- answering ---------------------------------------------------------------------------- */

static void x_begin(struct sqs_out *o, bool result)
{
    char tag[64];
    xw_init(&o->w.x, &o->b);
    buf_puts(&o->b, "<?xml version=\"1.0\"?>");
    snprintf(tag, sizeof tag, "%sResponse", o->op);
    xw_open_ns(&o->w.x, tag, XMLNS);
    if (result) {
        snprintf(tag, sizeof tag, "%sResult", o->op);
        xw_open(&o->w.x, tag);
    }
}

static void x_end(struct sqs_out *o)
{
    char tag[64];
    struct xmlw *x = &o->w.x;
    if (o->result) {
        snprintf(tag, sizeof tag, "%sResult", o->op);
        xw_close(x, tag);
    }
    xw_open(x, "ResponseMetadata");
    xw_elem(x, "RequestId", o->r->request_id);
    xw_close(x, "ResponseMetadata");
    snprintf(tag, sizeof tag, "%sResponse", o->op);
    xw_close(x, tag);
    if (xw_ok(x))
        proto_ok(o->r, 200, o->b.data, o->b.len);
    else
        proto_error(o->r, ERR_INTERNAL, NULL);
    buf_destroy(&o->b);
}

/* A list or map has no element of its own: its items or entries are flattened into the
 * enclosing element. A structure is an element: a list's item, a map entry's value. */
static void x_open(struct sqs_out *o)
{
    struct sqs_out_level *l = sqs_out_top(o), *p = sqs_out_parent(o);
    struct xmlw *x = &o->w.x;
    if (l->kind != SQS_OUT_STRUCT) {
        const struct member *m = member(l->name);
        if (m->query)
            snprintf(l->item, sizeof l->item, "%s", m->query);
        else
            snprintf(l->item, sizeof l->item, "%sResultEntry", o->op);
        l->key = m->key;
        l->value = m->value;
    } else if (p && p->kind == SQS_OUT_MAP) {
        xw_open(x, p->item);
        xw_elem(x, p->key, l->name);
        xw_open(x, p->value);
    } else {
        l->tag = p && p->kind == SQS_OUT_LIST ? p->item : l->name;
        xw_open(x, l->tag);
    }
}

static void x_close(struct sqs_out *o)
{
    struct sqs_out_level *l = sqs_out_top(o), *p = sqs_out_parent(o);
    if (l->kind != SQS_OUT_STRUCT)
        return;
    if (p && p->kind == SQS_OUT_MAP) {
        xw_close(&o->w.x, p->value);
        xw_close(&o->w.x, p->item);
    } else {
        xw_close(&o->w.x, l->tag);
    }
}

static void x_str(struct sqs_out *o, const char *name, const char *s, size_t len)
{
    struct sqs_out_level *l = sqs_out_top(o);
    struct xmlw *x = &o->w.x;
    if (s == NULL)
        s = "";
    if (l && l->kind == SQS_OUT_LIST) {
        xw_elemn(x, l->item, s, len);
    } else if (l && l->kind == SQS_OUT_MAP) {
        xw_open(x, l->item);
        xw_elem(x, l->key, name);
        xw_elemn(x, l->value, s, len);
        xw_close(x, l->item);
    } else {
        xw_elemn(x, name, s, len);
    }
}

static void x_num(struct sqs_out *o, const char *name, long long v)
{
    char n[24];
    int len = snprintf(n, sizeof n, "%lld", v);
    x_str(o, name, n, (size_t)len);
}

static void x_flag(struct sqs_out *o, const char *name, bool v)
{
    x_str(o, name, v ? "true" : "false", v ? 4 : 5);
}

/* ---- the adapter -------------------------------------------------------------------------- */

static const struct sqs_in_ops in_ops = {get_str,     get_int,   get_list, get_map, require,
                                         queue_attrs, msg_attrs, entries,  entry};
static const struct sqs_out_ops out_ops = {x_begin, x_end, x_open, x_close, x_str, x_num, x_flag};
static const struct sqs_wire wire = {true, &in_ops, &out_ops};

void sqs_query_handle(void *engine, struct proto_req *r)
{
    bool queueless = false;
    const struct sqs_action *act = sqs_action_find(r->op, r->op_len, &queueless);
    if (act == NULL || (r->path_len > 1 && queueless)) {
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
    struct sqs_in in = {.wire = &wire, .r = r, .s = engine, .src = &f};
    sqs_action_run(act, &in);
    proto_form_destroy(&f);
}

void sqs_query_service(struct sqs *s, struct proto_service *out)
{
    *out = (struct proto_service){
        .name = "sqs",
        .protocol = PROTO_QUERY,
        .actions = sqs_action_names,
        .xmlns = XMLNS,
        .max_body = MAX_BODY,
        .handle = sqs_query_handle,
        .engine = s,
    };
}
