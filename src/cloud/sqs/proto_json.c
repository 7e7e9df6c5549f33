/*
 * proto_json.c — SQS over AWS JSON 1.0 (see proto_json.h): the JSON side of proto_common.h's
 * interface. Member names and shapes follow the SQS service model (aws-sdk-js-v3 client-sqs
 * schemas), which is what the actions (proto_ops.c) use: QueueUrl in the body, maps for
 * attributes and tags, lists of entries for batches.
 */
#include "cloud/sqs/proto_json.h"

#include <assert.h>
#include <string.h>

#include <jansson.h>

#include "cloud/sqs/proto_common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/jsonw.h"

enum {
    MAX_BODY = 16 * 1024 * 1024, /* a 1 MiB batch, escaped, with base64 attributes */
};

/* ---- reading the request ------------------------------------------------------------------ */

static void serialization(struct proto_req *r, const char *key, const char *want)
{
    proto_errorf(r, ERR_SERIALIZATION, "Unexpected value for %s: expected %s", key, want);
}

/* The member key, or NULL when absent or null. */
static json_t *member(const struct sqs_in *in, const char *key)
{
    json_t *v = json_object_get(in->src, key);
    return json_is_null(v) ? NULL : v;
}

static bool get_str(struct sqs_in *in, const char *key, struct sqs_str *out)
{
    json_t *v = member(in, key);
    *out = (struct sqs_str){NULL, 0};
    if (v == NULL)
        return true;
    if (!json_is_string(v)) {
        serialization(in->r, key, "a string");
        return false;
    }
    *out = (struct sqs_str){json_string_value(v), json_string_length(v)};
    return true;
}

static bool get_int(struct sqs_in *in, const char *key, bool *has, long long *out)
{
    json_t *v = member(in, key);
    *has = false;
    *out = 0;
    if (v == NULL)
        return true;
    if (!json_is_integer(v)) {
        serialization(in->r, key, "an integer");
        return false;
    }
    *has = true;
    *out = (long long)json_integer_value(v);
    return true;
}

static bool get_list(struct sqs_in *in, const char *key, struct sqs_str *out, size_t cap, size_t *n)
{
    json_t *v = member(in, key);
    *n = 0;
    if (v == NULL)
        return true;
    if (!json_is_array(v)) {
        serialization(in->r, key, "a list");
        return false;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e)) {
            serialization(in->r, key, "a list of strings");
            return false;
        }
        if (*n < cap)
            out[(*n)++] = (struct sqs_str){json_string_value(e), json_string_length(e)};
    }
    return true;
}

static bool get_map(struct sqs_in *in, const char *key, struct sqs_kv *out, size_t cap, size_t *n)
{
    json_t *v = member(in, key);
    *n = 0;
    if (v == NULL)
        return true;
    if (!json_is_object(v)) {
        serialization(in->r, key, "a map");
        return false;
    }
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e)
    {
        if (!json_is_string(e)) {
            serialization(in->r, key, "a map of strings");
            return false;
        }
        if (*n < cap)
            out[(*n)++] =
                (struct sqs_kv){{k, strlen(k)}, {json_string_value(e), json_string_length(e)}};
    }
    return true;
}

/* A required member is refused when absent (null counts as given), before the queue. */
static bool require(struct sqs_in *in, const char *key, size_t n, bool queue_known)
{
    (void)n;
    if (queue_known || json_object_get(in->src, key) != NULL)
        return true;
    sqs_missing(in->r, key);
    return false;
}

static enum err queue_attrs(struct sqs_in *in, struct sqs_kv *out, size_t cap, size_t *n, char *msg,
                            size_t msglen)
{
    /* more names than there are attributes is a refusal of its own (qattrs.h) */
    assert(cap >= SQS_QA__COUNT);
    (void)cap;
    return sqs_qattrs_kv_from_json(json_object_get(in->src, "Attributes"), out, SQS_QA__COUNT, n,
                                   msg, msglen);
}

static enum err msg_attrs(struct sqs_in *in, bool system, struct sqs_attrs *set, char *msg,
                          size_t msglen)
{
    if (system)
        return sqs_sysattrs_parse_json(set, json_object_get(in->src, "MessageSystemAttributes"),
                                       msg, msglen);
    return sqs_attrs_parse_json(set, json_object_get(in->src, "MessageAttributes"), msg, msglen);
}

static bool entries(struct sqs_in *in, size_t *n)
{
    json_t *v = json_object_get(in->src, "Entries");
    *n = 0;
    if (v != NULL && !json_is_array(v) && !json_is_null(v)) {
        serialization(in->r, "Entries", "a list");
        return false;
    }
    *n = json_array_size(v);
    return true;
}

static bool entry(struct sqs_in *in, size_t i, struct sqs_in *out)
{
    json_t *obj = json_array_get(json_object_get(in->src, "Entries"), i);
    if (!json_is_object(obj)) {
        serialization(in->r, "Entries", "a list of structures");
        return false;
    }
    *out = *in;
    out->src = obj;
    return true;
}

/* ---- answering --------------------------------------------------------------------------- */

/* A list or map is written once it has a member (or when closed, unless it is left out). */
static void materialize(struct sqs_out *o, int k)
{
    struct sqs_out_level *l = &o->at[k];
    if (!l->pending)
        return;
    if (k > 0)
        materialize(o, k - 1); /* a list or map inside one not written yet */
    l->pending = false;
    if (k == 0 || o->at[k - 1].kind != SQS_OUT_LIST)
        jw_key(&o->w.j, l->name);
    if (l->kind == SQS_OUT_LIST)
        jw_arr(&o->w.j);
    else
        jw_obj(&o->w.j);
}

/* Before a value inside level k (-1: the top): that level written, and the value's key
 * unless it is a list item. */
static void value_key(struct sqs_out *o, int k, const char *name)
{
    if (k >= 0) {
        materialize(o, k);
        if (o->at[k].kind == SQS_OUT_LIST)
            return;
    }
    jw_key(&o->w.j, name);
}

static void j_begin(struct sqs_out *o, bool result)
{
    (void)result; /* an answer without data is {} */
    jw_init(&o->w.j, &o->b);
    jw_obj(&o->w.j);
}

static void j_end(struct sqs_out *o)
{
    jw_obj_end(&o->w.j);
    if (jw_ok(&o->w.j))
        proto_ok(o->r, 200, o->b.data, o->b.len);
    else
        proto_error(o->r, ERR_INTERNAL, NULL);
    buf_destroy(&o->b);
}

static void j_open(struct sqs_out *o)
{
    struct sqs_out_level *l = sqs_out_top(o);
    if (l->kind != SQS_OUT_STRUCT) {
        l->pending = true;
        return;
    }
    value_key(o, o->depth - 2, l->name);
    jw_obj(&o->w.j);
}

static void j_close(struct sqs_out *o)
{
    struct sqs_out_level *l = sqs_out_top(o);
    if (l->pending && l->omit_empty)
        return;
    materialize(o, o->depth - 1);
    if (l->kind == SQS_OUT_LIST)
        jw_arr_end(&o->w.j);
    else
        jw_obj_end(&o->w.j);
}

static void j_str(struct sqs_out *o, const char *name, const char *s, size_t len)
{
    value_key(o, o->depth - 1, name);
    if (s == NULL)
        jw_null(&o->w.j);
    else
        jw_strn(&o->w.j, s, len);
}

static void j_num(struct sqs_out *o, const char *name, long long v)
{
    value_key(o, o->depth - 1, name);
    jw_int(&o->w.j, v);
}

static void j_flag(struct sqs_out *o, const char *name, bool v)
{
    value_key(o, o->depth - 1, name);
    jw_bool(&o->w.j, v);
}

/* ---- the adapter -------------------------------------------------------------------------- */

static const struct sqs_in_ops in_ops = {get_str,     get_int,   get_list, get_map, require,
                                         queue_attrs, msg_attrs, entries,  entry};
static const struct sqs_out_ops out_ops = {j_begin, j_end, j_open, j_close, j_str, j_num, j_flag};
static const struct sqs_wire wire = {false, &in_ops, &out_ops};

void sqs_json_handle(void *engine, struct proto_req *r)
{
    bool queueless;
    const struct sqs_action *act = sqs_action_find(r->op, r->op_len, &queueless);
    if (act == NULL) {
        proto_errorf(r, ERR_UNKNOWN_OPERATION, "Unknown operation %.*s",
                     (int)(r->op_len > 64 ? 64 : r->op_len), r->op ? r->op : "");
        return;
    }
    json_error_t je;
    json_t *doc =
        r->body_len == 0 ? json_object() : jsonh_loadb(r->body, r->body_len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_error(r, ERR_SERIALIZATION, NULL);
        return;
    }
    struct sqs_in in = {.wire = &wire, .r = r, .s = engine, .src = doc};
    sqs_action_run(act, &in);
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
