/*
 * proto_rest.c — event source mappings over Lambda's REST-JSON protocol (see proto_rest.h).
 * Shapes: the Lambda model's EventSourceMappingConfiguration (UUID, BatchSize,
 * MaximumBatchingWindowInSeconds, EventSourceArn, FilterCriteria, FunctionArn, LastModified
 * in epoch seconds, State, StateTransitionReason, FunctionResponseTypes, ScalingConfig,
 * EventSourceMappingArn); Create, Update and Delete answer 202 (AWS-RECORDED.md §3).
 */
#include "cloud/esm/proto_rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/esm/esm.h"
#include "cloud/lambda/lambda.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/url.h"

#define ROOT "/2015-03-31/event-source-mappings"

enum { OUT_MAX = 8 * 1024 * 1024, LIST_MAX = 10000, LIST_DEFAULT = 100 };

/* ---- answers ---------------------------------------------------------------------------- */

static void mapping_json(struct jsonw *w, const struct esm_info *m)
{
    char lm[32];
    jw_obj(w);
    jw_kstr(w, "UUID", m->uuid);
    jw_kint(w, "BatchSize", m->batch_size);
    jw_kint(w, "MaximumBatchingWindowInSeconds", m->window);
    jw_kstr(w, "EventSourceArn", m->source_arn);
    if (m->filters) {
        jw_key(w, "FilterCriteria");
        jw_obj(w);
        jw_key(w, "Filters");
        jw_json(w, m->filters);
        jw_obj_end(w);
    }
    jw_kstr(w, "FunctionArn", m->function_arn);
    int n = snprintf(lm, sizeof lm, "%.3f", (double)m->last_modified_ms / 1000.0);
    jw_key(w, "LastModified");
    jw_raw(w, lm, (size_t)n);
    jw_kstr(w, "State", m->state);
    jw_kstr(w, "StateTransitionReason", m->state_reason);
    jw_key(w, "FunctionResponseTypes");
    jw_arr(w);
    if (m->report_failures)
        jw_str(w, "ReportBatchItemFailures");
    jw_arr_end(w);
    if (m->max_concurrency) {
        jw_key(w, "ScalingConfig");
        jw_obj(w);
        jw_kint(w, "MaximumConcurrency", m->max_concurrency);
        jw_obj_end(w);
    }
    jw_kstr(w, "EventSourceMappingArn", m->arn);
    jw_obj_end(w);
}

static void answer(struct proto_req *r, int status, const struct esm_info *m)
{
    struct buf b;
    struct jsonw w;
    buf_init(&b, OUT_MAX);
    jw_init(&w, &b);
    mapping_json(&w, m);
    if (jw_ok(&w))
        proto_ok(r, status, b.data, b.len);
    else
        proto_error(r, ERR_LAMBDA_SERVICE, NULL);
    buf_destroy(&b);
}

/* A pending command's request; NULL once the client is gone. */
struct call {
    struct proto_req *r;
    int status;
};

static void gone(void *arg)
{
    struct call *c = arg;
    c->r = NULL;
}

static void done(void *arg, enum err e, const char *msg, const struct esm_info *m)
{
    struct call *c = arg;
    if (c->r != NULL) {
        if (e != ERR_OK)
            proto_error(c->r, e, msg);
        else if (m != NULL && c->status != 204)
            answer(c->r, c->status, m);
        else
            proto_respond(c->r, 204, NULL, 0, "", 0);
    }
    free(c);
}

/* Runs a command: waits for its completion, or answers its refusal. */
static void run(struct proto_req *r, int status,
                enum err (*cmd)(void *ctx, esm_done_fn, void *, char *, size_t), void *ctx)
{
    struct call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        proto_error(r, ERR_LAMBDA_SERVICE, NULL);
        return;
    }
    c->r = r;
    c->status = status;
    char msg[2048];
    enum err e = cmd(ctx, done, c, msg, sizeof msg);
    if (e != ERR_OK) {
        free(c);
        proto_error(r, e, msg);
        return;
    }
    proto_on_gone(r, gone, c);
}

/* ---- reading a body ---------------------------------------------------------------------- */

static bool type_error(struct proto_req *r, const char *what)
{
    proto_errorf(r, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json: %s", what);
    return false;
}

/* Reads the members both Create and Update know into s (doc borrowed). */
static bool read_spec(struct proto_req *r, json_t *doc, struct esm_spec *s)
{
    json_t *v;
    memset(s, 0, sizeof *s);
    if ((v = json_object_get(doc, "FunctionName")) && !json_is_null(v)) {
        if (!json_is_string(v))
            return type_error(r, "FunctionName");
        s->function = json_string_value(v);
    }
    if ((v = json_object_get(doc, "EventSourceArn")) && !json_is_null(v)) {
        if (!json_is_string(v))
            return type_error(r, "EventSourceArn");
        s->source_arn = json_string_value(v);
    }
    if ((v = json_object_get(doc, "BatchSize")) && !json_is_null(v)) {
        if (!json_is_integer(v))
            return type_error(r, "BatchSize");
        s->has_batch_size = true;
        s->batch_size = json_integer_value(v);
    }
    if ((v = json_object_get(doc, "MaximumBatchingWindowInSeconds")) && !json_is_null(v)) {
        if (!json_is_integer(v))
            return type_error(r, "MaximumBatchingWindowInSeconds");
        s->has_window = true;
        s->window = json_integer_value(v);
    }
    if ((v = json_object_get(doc, "Enabled")) && !json_is_null(v)) {
        if (!json_is_boolean(v))
            return type_error(r, "Enabled");
        s->has_enabled = true;
        s->enabled = json_is_true(v);
    }
    if ((v = json_object_get(doc, "ScalingConfig")) && !json_is_null(v)) {
        json_t *mc = json_object_get(v, "MaximumConcurrency");
        if (!json_is_object(v) || (mc && !json_is_null(mc) && !json_is_integer(mc)))
            return type_error(r, "ScalingConfig");
        s->has_max_concurrency = true;
        s->max_concurrency = json_is_integer(mc) ? json_integer_value(mc) : 0;
    }
    if ((v = json_object_get(doc, "FunctionResponseTypes")) && !json_is_null(v)) {
        if (!json_is_array(v))
            return type_error(r, "FunctionResponseTypes");
        s->has_response_types = true;
        size_t i;
        json_t *t;
        json_array_foreach(v, i, t)
        {
            if (!json_is_string(t) ||
                strcmp(json_string_value(t), "ReportBatchItemFailures") != 0) {
                proto_errorf(r, ERR_LAMBDA_VALIDATION,
                             "1 validation error detected: Value at 'functionResponseTypes' "
                             "failed to satisfy constraint: Member must satisfy constraint: "
                             "[Member must satisfy enum value set: [ReportBatchItemFailures]]");
                return false;
            }
            s->report_failures = true;
        }
    }
    if ((v = json_object_get(doc, "FilterCriteria")) != NULL) {
        s->has_filters = true;
        if (!json_is_null(v)) {
            json_t *f = json_object_get(v, "Filters");
            if (!json_is_object(v) || (f && !json_is_null(f) && !json_is_array(f))) {
                proto_error(r, ERR_LAMBDA_INVALID_PARAMETER, "Invalid filter pattern definition.");
                return false;
            }
            s->filters = json_is_array(f) ? f : NULL;
        }
    }
    if ((v = json_object_get(doc, "Tags")) && !json_is_null(v)) {
        if (!json_is_object(v))
            return type_error(r, "Tags");
        s->tags = v;
    }
    return true;
}

static json_t *body_json(struct proto_req *r)
{
    json_t *doc = r->body_len ? jsonh_parse(r->body, r->body_len, NULL, 0) : json_object();
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_error(r, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json");
        return NULL;
    }
    return doc;
}

/* ---- operations --------------------------------------------------------------------------- */

struct cmd_ctx {
    struct esm *e;
    const char *uuid;
    struct esm_spec *s;
    const char *arn;
    json_t *tags, *keys;
};

static enum err do_create(void *ctx, esm_done_fn d, void *arg, char *msg, size_t msglen)
{
    struct cmd_ctx *c = ctx;
    return esm_create(c->e, c->s, d, arg, msg, msglen);
}

static enum err do_update(void *ctx, esm_done_fn d, void *arg, char *msg, size_t msglen)
{
    struct cmd_ctx *c = ctx;
    return esm_update(c->e, c->uuid, c->s, d, arg, msg, msglen);
}

static enum err do_delete(void *ctx, esm_done_fn d, void *arg, char *msg, size_t msglen)
{
    struct cmd_ctx *c = ctx;
    return esm_delete(c->e, c->uuid, d, arg, msg, msglen);
}

static enum err do_tag(void *ctx, esm_done_fn d, void *arg, char *msg, size_t msglen)
{
    struct cmd_ctx *c = ctx;
    return esm_tag(c->e, c->arn, c->tags, c->keys, d, arg, msg, msglen);
}

static void op_create(struct esm *e, struct proto_req *r)
{
    json_t *doc = body_json(r);
    if (doc == NULL)
        return;
    char msg[2048];
    struct esm_spec s;
    enum err v = lambda_validate_request("CreateEventSourceMapping", doc, NULL, 0, msg, sizeof msg);
    if (v != ERR_OK)
        proto_error(r, v, msg);
    else if (read_spec(r, doc, &s)) {
        struct cmd_ctx c = {.e = e, .s = &s};
        run(r, 202, do_create, &c);
    }
    json_decref(doc);
}

static void emit(void *arg, const struct esm_info *m)
{
    mapping_json(arg, m);
}

static void op_list(struct esm *e, struct proto_req *r)
{
    char source[512], fn[512], marker[64], max_s[32];
    bool has_source = proto_query(r, "EventSourceArn", source, sizeof source) >= 0;
    bool has_fn = proto_query(r, "FunctionName", fn, sizeof fn) >= 0;
    bool has_marker = proto_query(r, "Marker", marker, sizeof marker) >= 0;
    long long max = LIST_DEFAULT;
    if (proto_query(r, "MaxItems", max_s, sizeof max_s) >= 0) {
        char *end;
        max = strtoll(max_s, &end, 10);
        if (*end != '\0' || max < 1 || max > LIST_MAX) {
            proto_errorf(r, ERR_LAMBDA_VALIDATION,
                         "1 validation error detected: Value '%.20s' at 'maxItems' failed to "
                         "satisfy constraint: Member must have value %s",
                         max_s,
                         max < 1 ? "greater than or equal to 1" : "less than or equal to 10000");
            return;
        }
    }
    struct buf b;
    struct jsonw w;
    buf_init(&b, OUT_MAX);
    jw_init(&w, &b);
    jw_obj(&w);
    jw_key(&w, "EventSourceMappings");
    jw_arr(&w);
    const char *next = NULL;
    esm_list(e, has_source ? source : NULL, has_fn ? fn : NULL, has_marker ? marker : NULL, max,
             emit, &w, &next);
    jw_arr_end(&w);
    if (next)
        jw_kstr(&w, "NextMarker", next);
    jw_obj_end(&w);
    if (jw_ok(&w))
        proto_ok(r, 200, b.data, b.len);
    else
        proto_error(r, ERR_LAMBDA_SERVICE, NULL);
    buf_destroy(&b);
}

static void op_one(struct esm *e, struct proto_req *r, const char *uuid)
{
    struct cmd_ctx c = {.e = e, .uuid = uuid};
    if (proto_method_is(r, "GET")) {
        struct esm_info m;
        if (!esm_get(e, uuid, &m)) {
            proto_error(r, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
            return;
        }
        answer(r, 200, &m);
    } else if (proto_method_is(r, "DELETE")) {
        run(r, 202, do_delete, &c);
    } else if (proto_method_is(r, "PUT")) {
        json_t *doc = body_json(r);
        struct esm_spec s;
        if (doc == NULL)
            return;
        if (json_object_get(doc, "EventSourceArn") != NULL) {
            proto_error(r, ERR_LAMBDA_INVALID_PARAMETER,
                        "EventSourceArn cannot be updated."); /* [E] */
        } else if (read_spec(r, doc, &s)) {
            c.s = &s;
            run(r, 202, do_update, &c);
        }
        json_decref(doc);
    } else {
        proto_error(r, ERR_UNKNOWN_PATH, "Unknown operation");
    }
}

/* /2017-03-31/tags/<mapping ARN>: ListTags, TagResource, UntagResource. */
static void op_tags(struct esm *e, struct proto_req *r, const char *arn)
{
    if (proto_method_is(r, "GET")) {
        const json_t *tags = NULL;
        if (!esm_tags(e, arn, &tags)) {
            proto_error(r, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
            return;
        }
        struct buf b;
        struct jsonw w;
        buf_init(&b, OUT_MAX);
        jw_init(&w, &b);
        jw_obj(&w);
        jw_key(&w, "Tags");
        if (tags)
            jw_json(&w, tags);
        else {
            jw_obj(&w);
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
        proto_ok(r, 200, b.data, b.len);
        buf_destroy(&b);
        return;
    }
    struct cmd_ctx c = {.e = e, .arn = arn};
    json_t *doc = NULL;
    if (proto_method_is(r, "POST")) {
        if ((doc = body_json(r)) == NULL)
            return;
        c.tags = json_object_get(doc, "Tags");
        if (!json_is_object(c.tags)) {
            json_decref(doc);
            proto_error(r, ERR_LAMBDA_INVALID_PARAMETER, "Tags must be a map.");
            return;
        }
    } else if (proto_method_is(r, "DELETE")) {
        c.keys = proto_query_all(r, "tagKeys");
    } else {
        proto_error(r, ERR_UNKNOWN_PATH, "Unknown operation");
        return;
    }
    run(r, 204, do_tag, &c);
    json_decref(doc);
    json_decref(c.keys);
}

void esm_rest_handle(void *arg, struct proto_req *r)
{
    struct esm_rest *rest = arg;
    struct esm *e = rest->e;
    char path[1024];
    if (url_decode(r->path, r->path_len, 0, path, sizeof path) < 0) {
        proto_error(r, ERR_UNKNOWN_PATH, "Unknown operation");
        return;
    }
    size_t rl = strlen(ROOT);
    if (strncmp(path, "/2017-03-31/tags/", 17) == 0) {
        op_tags(e, r, path + 17);
        return;
    }
    if (strncmp(path, ROOT, rl) != 0) {
        proto_error(r, ERR_UNKNOWN_PATH, "Unknown operation");
        return;
    }
    const char *rest_of = path + rl;
    if (*rest_of == '/')
        rest_of++;
    if (*rest_of == '\0') {
        if (proto_method_is(r, "POST"))
            op_create(e, r);
        else if (proto_method_is(r, "GET"))
            op_list(e, r);
        else
            proto_error(r, ERR_UNKNOWN_PATH, "Unknown operation");
        return;
    }
    if (strchr(rest_of, '/') != NULL || strlen(rest_of) > 36) {
        proto_error(r, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
        return;
    }
    op_one(e, r, rest_of);
}

static void rest_error_body(enum err e, const char *msg, struct buf *out)
{
    err_rest_json_body(e, msg, out);
}

void esm_rest_service(struct esm_rest *rest, struct esm *e, const char *region, const char *account,
                      struct proto_service *out)
{
    rest->e = e;
    snprintf(rest->tag_path, sizeof rest->tag_path,
             "/2017-03-31/tags/arn:aws:lambda:%s:%s:event-source-mapping:", region, account);
    snprintf(rest->tag_path_enc, sizeof rest->tag_path_enc,
             "/2017-03-31/tags/arn%%3Aaws%%3Alambda%%3A%s%%3A%s%%3Aevent-source-mapping%%3A",
             region, account);
    rest->paths[0] = ROOT;
    rest->paths[1] = rest->tag_path;
    rest->paths[2] = rest->tag_path_enc;
    rest->paths[3] = NULL;
    *out = (struct proto_service){
        .name = "lambda",
        .protocol = PROTO_REST_JSON,
        .paths = rest->paths,
        .max_body = 1024 * 1024,
        .handle = esm_rest_handle,
        .engine = rest,
        .rest_error_body = rest_error_body,
    };
}
