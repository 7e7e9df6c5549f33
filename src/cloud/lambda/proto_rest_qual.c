/*
 * proto_rest_qual.c — the Lambda REST adapter's versions, aliases, provisioned concurrency
 * and function URL configurations: AWS's paths, bodies and messages over version.c and
 * url.c. The dispatcher (proto_rest.c) has matched the route, checked the model's
 * constraints and resolved the function's name and qualifier into the request's context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/proto_rest_int.h"
#include "core/clock.h"
#include "core/json.h"

/* The request's JSON body: an object (an empty body is {}), or NULL after answering. */
static json_t *body_object(struct rest_ctx *x)
{
    if (x->req->body_len == 0)
        return json_object();
    char perr[200];
    json_t *doc = jsonh_parse(x->req->body, x->req->body_len, perr, sizeof perr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_errorf(x->req, ERR_LAMBDA_INVALID_CONTENT,
                     "Could not parse request body into json: %s", perr);
        return NULL;
    }
    return doc;
}

static struct lambda_fn *function_or_404(struct rest_ctx *x)
{
    struct lambda_fn *fn = lambda_fn_find(x->lm, x->name);
    if (fn == NULL) {
        char msg[512];
        lambda_not_found_msg(x->lm, x->name, msg, sizeof msg);
        proto_error(x->req, ERR_LAMBDA_NOT_FOUND, msg);
    }
    return fn;
}

/* ---- versions ---- */

static void ok_version(struct rest_call *c)
{
    struct lambda_fn *v = lambda_fn_find_qualified(c->lm, c->name, c->version);
    if (v == NULL) {
        proto_error(c->req, ERR_LAMBDA_NOT_FOUND, "The version is gone");
        return;
    }
    lambda_rest__json(c->req, 201, lambda_rest__config(c->rs, v, true));
}

void lambda_rest__publish_version(struct rest_ctx *x)
{
    struct lambda_fn *fn = function_or_404(x);
    json_t *doc = fn ? body_object(x) : NULL;
    if (doc == NULL)
        return;
    struct rest_call *c = lambda_rest__call(x, ok_version, 201);
    if (c != NULL)
        lambda_fn_publish(x->lm, fn, jsonh_str(doc, "CodeSha256", NULL),
                          jsonh_str(doc, "RevisionId", NULL), jsonh_str(doc, "Description", NULL),
                          c->version, lambda_rest__done, c);
    json_decref(doc);
}

static bool version_cb(void *arg, struct lambda_fn *q)
{
    struct rest_page *p = arg;
    struct lambda_fn_info i;
    lambda_fn_info(q, &i);
    if (i.is_alias)
        return true;
    if (lambda_rest__page_wants(p, i.qualifier))
        json_array_append_new(p->items, lambda_rest__config(p->x->rs, q, true));
    return !p->more;
}

void lambda_rest__list_versions(struct rest_ctx *x)
{
    struct lambda_fn *fn = function_or_404(x);
    if (fn == NULL)
        return;
    struct rest_page p;
    lambda_rest__page_init(&p, x, 50, false);
    if (lambda_rest__page_wants(&p, "$LATEST"))
        json_array_append_new(p.items, lambda_rest__config(x->rs, fn, true));
    if (!p.more)
        lambda_fn_each_qualified(fn, version_cb, &p);
    lambda_rest__page_send(&p, "Versions");
}

/* ---- aliases ---- */

static json_t *alias_json(const struct lambda_fn *a)
{
    struct lambda_alias_info i;
    if (!lambda_alias_info(a, &i))
        return json_object();
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "AliasArn", i.arn, "Name", i.name,
                          "FunctionVersion", i.version, "Description", i.description,
                          "RevisionId", i.revision);
    if (i.extra != NULL)
        json_object_set_new(j, "RoutingConfig",
                            json_pack("{s:{s:f}}", "AdditionalVersionWeights", i.extra, i.weight));
    return j;
}

static void ok_alias(struct rest_call *c)
{
    struct lambda_fn *a = lambda_fn_find_qualified(c->lm, c->name, c->qual);
    if (a == NULL) {
        proto_error(c->req, ERR_LAMBDA_NOT_FOUND, "The alias is gone");
        return;
    }
    lambda_rest__json(c->req, c->status, alias_json(a));
}

/* The alias name of the path (its second segment), checked as the model's Alias shape. */
static bool alias_name(struct rest_ctx *x, char *out, size_t outlen)
{
    char a[512], msg[1024];
    long n = lambda_rest__segment(x->seg[1], x->segl[1], a);
    enum err e = n < 0 ? ERR_LAMBDA_VALIDATION
                       : lambda_validate_value("Alias", "name", a, (size_t)n, msg, sizeof msg);
    if (n < 0)
        snprintf(msg, sizeof msg, "Invalid alias name encoding");
    if (e != ERR_OK) {
        proto_error(x->req, e, msg);
        return false;
    }
    snprintf(out, outlen, "%.128s", a); /* the model allows 128 */
    return true;
}

/* RoutingConfig into the spec; false after answering a second weight. */
static bool routing(struct rest_ctx *x, const json_t *doc, struct lambda_alias_spec *s)
{
    json_t *rc = json_object_get(doc, "RoutingConfig");
    if (!json_is_object(rc))
        return true;
    s->has_routing = true;
    json_t *w = json_object_get(rc, "AdditionalVersionWeights");
    if (json_object_size(w) > 1) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER,
                    "Number of items in AdditionalVersionWeights cannot be greater than 1");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(w, k, v)
    {
        s->extra = k;
        s->weight = json_number_value(v);
    }
    return true;
}

void lambda_rest__create_alias(struct rest_ctx *x)
{
    struct lambda_fn *fn = function_or_404(x);
    json_t *doc = fn ? body_object(x) : NULL;
    if (doc == NULL)
        return;
    struct lambda_alias_spec s = {.name = jsonh_str(doc, "Name", ""),
                                  .version = jsonh_str(doc, "FunctionVersion", ""),
                                  .description = jsonh_str(doc, "Description", NULL)};
    if (routing(x, doc, &s)) {
        snprintf(x->qual, sizeof x->qual, "%s", s.name);
        struct rest_call *c = lambda_rest__call(x, ok_alias, 201);
        if (c != NULL)
            lambda_alias_create(x->lm, fn, &s, lambda_rest__done, c);
    }
    json_decref(doc);
}

static void cannot_find_alias(struct rest_ctx *x, const char *name)
{
    proto_errorf(x->req, ERR_LAMBDA_NOT_FOUND,
                 "Cannot find alias arn: arn:aws:lambda:%s:000000000000:function:%s:%s",
                 lambda_region(x->lm), x->name, name);
}

void lambda_rest__get_alias(struct rest_ctx *x)
{
    char name[140];
    if (!alias_name(x, name, sizeof name) || function_or_404(x) == NULL)
        return;
    struct lambda_fn *a = lambda_fn_find_qualified(x->lm, x->name, name);
    struct lambda_alias_info i;
    if (a == NULL || !lambda_alias_info(a, &i))
        cannot_find_alias(x, name);
    else
        lambda_rest__json(x->req, 200, alias_json(a));
}

void lambda_rest__update_alias(struct rest_ctx *x)
{
    char name[140];
    struct lambda_fn *fn = NULL;
    json_t *doc = NULL;
    if (!alias_name(x, name, sizeof name) || (fn = function_or_404(x)) == NULL ||
        (doc = body_object(x)) == NULL)
        return;
    char msg[1024];
    struct lambda_param p[2] = {{"FunctionName", x->name, strlen(x->name)},
                                {"Name", name, strlen(name)}};
    enum err e = lambda_validate_request("UpdateAlias", doc, p, 2, msg, sizeof msg);
    struct lambda_alias_spec s = {.name = name,
                                  .version = jsonh_str(doc, "FunctionVersion", NULL),
                                  .description = jsonh_str(doc, "Description", NULL),
                                  .revision_id = jsonh_str(doc, "RevisionId", NULL)};
    if (e != ERR_OK) {
        proto_error(x->req, e, msg);
    } else if (routing(x, doc, &s)) {
        snprintf(x->qual, sizeof x->qual, "%s", name);
        struct rest_call *c = lambda_rest__call(x, ok_alias, 200);
        if (c != NULL)
            lambda_alias_update(x->lm, fn, &s, lambda_rest__done, c);
    }
    json_decref(doc);
}

static void ok_empty(struct rest_call *c)
{
    lambda_rest__empty(c->req, c->status);
}

void lambda_rest__delete_alias(struct rest_ctx *x)
{
    char name[140];
    struct lambda_fn *fn = NULL;
    if (!alias_name(x, name, sizeof name) || (fn = function_or_404(x)) == NULL)
        return;
    struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
    if (c != NULL)
        lambda_alias_delete(x->lm, fn, name, lambda_rest__done, c);
}

struct alias_page {
    struct rest_page p;
    const char *version;
};

static bool alias_cb(void *arg, struct lambda_fn *q)
{
    struct alias_page *ap = arg;
    struct lambda_alias_info i;
    if (!lambda_alias_info(q, &i) || (ap->version && strcmp(ap->version, i.version) != 0))
        return true;
    if (lambda_rest__page_wants(&ap->p, i.arn))
        json_array_append_new(ap->p.items, alias_json(q));
    return !ap->p.more;
}

void lambda_rest__list_aliases(struct rest_ctx *x)
{
    struct lambda_fn *fn = function_or_404(x);
    if (fn == NULL)
        return;
    char version[64];
    struct alias_page ap;
    lambda_rest__page_init(&ap.p, x, 50, false);
    ap.version =
        proto_query(x->req, "FunctionVersion", version, sizeof version) >= 0 ? version : NULL;
    lambda_fn_each_qualified(fn, alias_cb, &ap);
    lambda_rest__page_send(&ap.p, "Aliases");
}

/* ---- provisioned concurrency ---- */

/* The alias or version a provisioned concurrency call names, or NULL after answering. */
static struct lambda_fn *pc_target(struct rest_ctx *x, bool put)
{
    if (strcmp(x->qual, "$LATEST") == 0) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER,
                    put ? "Provisioned Concurrency Configs cannot be applied to unpublished "
                          "function versions."
                        : "The function resource provided must be an alias or a published "
                          "version.");
        return NULL;
    }
    return lambda_rest__target(x, true);
}

static json_t *pc_json(struct lambda_fn *fn, bool with_arn)
{
    struct lambda_pc_info i;
    lambda_pc_info(fn, &i);
    char when[40];
    clock_format_lambda(i.last_modified, when, sizeof when);
    json_t *j = json_pack("{s:i, s:i, s:i, s:s, s:s}", "RequestedProvisionedConcurrentExecutions",
                          i.requested, "AvailableProvisionedConcurrentExecutions", i.available,
                          "AllocatedProvisionedConcurrentExecutions", i.allocated, "Status",
                          i.status, "LastModified", when);
    if (i.reason != NULL)
        json_object_set_new(j, "StatusReason", json_string(i.reason));
    if (with_arn) {
        struct lambda_fn_info fi;
        lambda_fn_info(fn, &fi);
        json_object_set_new(j, "FunctionArn", json_string(fi.arn));
    }
    return j;
}

static void ok_pc(struct rest_call *c)
{
    struct lambda_fn *fn = lambda_fn_find_qualified(c->lm, c->name, c->qual);
    if (fn == NULL) {
        proto_error(c->req, ERR_LAMBDA_NOT_FOUND, "The function is gone");
        return;
    }
    lambda_rest__json(c->req, 202, pc_json(fn, false));
}

void lambda_rest__put_pc(struct rest_ctx *x)
{
    struct lambda_fn *fn = pc_target(x, true);
    json_t *doc = fn ? body_object(x) : NULL;
    if (doc == NULL)
        return;
    long long n = 0;
    jsonh_int(doc, "ProvisionedConcurrentExecutions", &n); /* the model checked it (>= 1) */
    json_decref(doc);
    struct rest_call *c = lambda_rest__call(x, ok_pc, 202);
    if (c != NULL)
        lambda_pc_put(x->lm, fn, (int)(n > 1000000 ? 1000000 : n), lambda_rest__done, c);
}

void lambda_rest__get_pc(struct rest_ctx *x)
{
    struct lambda_fn *fn = pc_target(x, false);
    if (fn == NULL)
        return;
    struct lambda_pc_info i;
    lambda_pc_info(fn, &i);
    if (!i.set)
        proto_error(x->req, ERR_LAMBDA_PC_NOT_FOUND,
                    "No Provisioned Concurrency Config found for this function");
    else
        lambda_rest__json(x->req, 200, pc_json(fn, false));
}

void lambda_rest__delete_pc(struct rest_ctx *x)
{
    struct lambda_fn *fn = pc_target(x, false);
    if (fn == NULL)
        return;
    struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
    if (c != NULL)
        lambda_pc_delete(x->lm, fn, lambda_rest__done, c);
}

static bool pc_cb(void *arg, struct lambda_fn *q)
{
    struct rest_page *p = arg;
    struct lambda_pc_info i;
    lambda_pc_info(q, &i);
    if (!i.set)
        return true;
    struct lambda_fn_info fi;
    lambda_fn_info(q, &fi);
    if (lambda_rest__page_wants(p, fi.arn))
        json_array_append_new(p->items, pc_json(q, true));
    return !p->more;
}

void lambda_rest__list_pc(struct rest_ctx *x)
{
    struct lambda_fn *fn = function_or_404(x);
    if (fn == NULL)
        return;
    struct rest_page p;
    lambda_rest__page_init(&p, x, 50, false);
    lambda_fn_each_qualified(fn, pc_cb, &p);
    lambda_rest__page_send(&p, "ProvisionedConcurrencyConfigs");
}

/* ---- function URLs ---- */

void lambda_rest__url_string(const struct lambda_rest *rs, const char *id, char *out,
                             size_t outlen)
{
    snprintf(out, outlen, "http://%s.lambda-url.%s.localhost:%u/", id, rs->region, rs->api_port);
}

static json_t *url_json(const struct lambda_rest *rs, struct lambda_fn *fn, bool modified)
{
    struct lambda_url_info u;
    struct lambda_fn_info i;
    lambda_url_info(fn, &u);
    lambda_fn_info(fn, &i);
    char url[256], created[40], changed[40];
    lambda_rest__url_string(rs, u.id, url, sizeof url);
    clock_format_iso(u.created, true, created, sizeof created);
    clock_format_iso(u.modified, true, changed, sizeof changed);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "FunctionUrl", url, "FunctionArn", i.arn,
                          "AuthType", u.auth_type, "CreationTime", created, "InvokeMode",
                          u.invoke_mode);
    if (u.cors != NULL)
        json_object_set_new(j, "Cors", json_deep_copy(u.cors));
    if (modified)
        json_object_set_new(j, "LastModifiedTime", json_string(changed));
    return j;
}

static void ok_url(struct rest_call *c)
{
    struct lambda_fn *fn = lambda_fn_find_qualified(c->lm, c->name, c->qual);
    if (fn == NULL) {
        proto_error(c->req, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
        return;
    }
    lambda_rest__json(c->req, c->status, url_json(c->rs, fn, c->status == 200));
}

void lambda_rest__url(struct rest_ctx *x, const char *method)
{
    bool create = strcmp(method, "POST") == 0, update = strcmp(method, "PUT") == 0;
    const char *gone = create || update ? "Function does not exist"
                                        : "The resource you requested does not exist.";
    if (strcmp(x->qual, "$LATEST") == 0) {
        proto_error(x->req, ERR_LAMBDA_VALIDATION,
                    "1 validation error detected: Value '$LATEST' at 'qualifier' failed to "
                    "satisfy constraint: Member must satisfy regular expression pattern: "
                    "((?!^\\d+$)^[0-9a-zA-Z-_]+$)");
        return;
    }
    struct lambda_fn *fn = lambda_fn_find_qualified(x->lm, x->name, x->qual);
    struct lambda_fn_info fi;
    if (fn != NULL)
        lambda_fn_info(fn, &fi);
    if (fn == NULL || (x->qual[0] != '\0' && !fi.is_alias)) {
        proto_error(x->req, ERR_LAMBDA_NOT_FOUND, gone);
        return;
    }
    if (strcmp(method, "GET") == 0) {
        struct lambda_url_info u;
        lambda_url_info(fn, &u);
        if (!u.set)
            proto_error(x->req, ERR_LAMBDA_NOT_FOUND, "The resource you requested does not exist.");
        else
            lambda_rest__json(x->req, 200, url_json(x->rs, fn, true));
        return;
    }
    if (strcmp(method, "DELETE") == 0) {
        struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
        if (c != NULL)
            lambda_url_delete(x->lm, fn, lambda_rest__done, c);
        return;
    }
    json_t *doc = body_object(x);
    if (doc == NULL)
        return;
    json_t *cors = json_object_get(doc, "Cors");
    struct lambda_url_spec s = {.auth_type = jsonh_str(doc, "AuthType", NULL),
                                .cors = cors,
                                .has_cors = cors != NULL,
                                .invoke_mode = jsonh_str(doc, "InvokeMode", NULL)};
    struct rest_call *c = lambda_rest__call(x, ok_url, create ? 201 : 200);
    if (c != NULL && create)
        lambda_url_create(x->lm, fn, &s, lambda_rest__done, c);
    else if (c != NULL)
        lambda_url_update(x->lm, fn, &s, lambda_rest__done, c);
    json_decref(doc);
}

static bool url_cb(void *arg, struct lambda_fn *q)
{
    struct rest_page *p = arg;
    struct lambda_url_info u;
    lambda_url_info(q, &u);
    if (!u.set)
        return true;
    struct lambda_fn_info i;
    lambda_fn_info(q, &i);
    if (lambda_rest__page_wants(p, i.arn))
        json_array_append_new(p->items, url_json(p->x->rs, q, true));
    return !p->more;
}

void lambda_rest__list_urls(struct rest_ctx *x)
{
    struct lambda_fn *fn = lambda_fn_find(x->lm, x->name);
    if (fn == NULL) {
        proto_error(x->req, ERR_LAMBDA_NOT_FOUND, "Function does not exist");
        return;
    }
    struct rest_page p;
    lambda_rest__page_init(&p, x, 50, false);
    if (url_cb(&p, fn))
        lambda_fn_each_qualified(fn, url_cb, &p);
    lambda_rest__page_send(&p, "FunctionUrlConfigs");
}
