/*
 * proto_rest_layers.c — the Lambda REST adapter's layers (API 2018-10-31): publish, get (by
 * name and version, or by ARN), list layers and versions (with the compatible runtime and
 * architecture filters), delete, and layer version policies; over layer.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/proto_rest_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/json.h"

static const char *const no_such = "The resource you requested does not exist.";

/* The layer's name from the path's first segment: a name, or a layer ARN's name. */
static bool layer_name(struct rest_ctx *x, char *out, size_t outlen)
{
    char a[512];
    long n = lambda_rest__segment(x->seg[0], x->segl[0], a);
    if (n < 0 || (size_t)n >= outlen) {
        proto_error(x->req, ERR_LAMBDA_VALIDATION, "Invalid layer name encoding");
        return false;
    }
    const char *mark = strstr(a, ":layer:");
    const char *name = mark ? mark + 7 : a;
    if (strlen(name) >= outlen) {
        proto_error(x->req, ERR_LAMBDA_VALIDATION, "Invalid layer name");
        return false;
    }
    memcpy(out, name, strlen(name) + 1);
    return true;
}

/* The version number of the path's second segment; false after answering. */
static bool layer_version(struct rest_ctx *x, int *out)
{
    char v[512];
    long n = x->segl[1] < 32 ? lambda_rest__segment(x->seg[1], x->segl[1], v) : -1;
    char *end = NULL;
    long long num = n > 0 ? strtoll(v, &end, 10) : 0;
    if (n <= 0 || *end != '\0' || num > 2147483647LL) {
        proto_errorf(x->req, ERR_LAMBDA_VALIDATION,
                     "1 validation error detected: Value '%.40s' at 'versionNumber' failed to "
                     "satisfy constraint: Member must be a number",
                     n > 0 ? v : "");
        return false;
    }
    if (num < 1) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER, "Layer Version Cannot be less than 1");
        return false;
    }
    *out = (int)num;
    return true;
}

static json_t *version_item(const struct lambda_layer_info *i)
{
    char created[40];
    clock_format_lambda(i->created, created, sizeof created);
    json_t *j = json_pack("{s:s, s:I, s:s, s:s}", "LayerVersionArn", i->version_arn, "Version",
                          (json_int_t)i->version, "Description", i->description, "CreatedDate",
                          created);
    if (i->runtimes != NULL)
        json_object_set_new(j, "CompatibleRuntimes", json_deep_copy(i->runtimes));
    if (i->license != NULL)
        json_object_set_new(j, "LicenseInfo", json_string(i->license));
    if (i->archs != NULL)
        json_object_set_new(j, "CompatibleArchitectures", json_deep_copy(i->archs));
    return j;
}

/* GetLayerVersion / PublishLayerVersion: the item with Content and LayerArn. */
static json_t *version_json(const struct lambda_rest *rs, struct lambda_layer *l)
{
    struct lambda_layer_info i;
    lambda_layer_info(l, &i);
    char what[320], loc[2048];
    snprintf(what, sizeof what, "layer/%s/%d", i.name, i.version);
    lambda_rest__code_url(rs, what, loc, sizeof loc);
    json_t *j = version_item(&i);
    json_object_set_new(j, "LayerArn", json_string(i.arn));
    json_object_set_new(j, "Content",
                        json_pack("{s:s, s:s, s:I}", "Location", loc, "CodeSha256", i.sha256,
                                  "CodeSize", (json_int_t)i.size));
    return j;
}

json_t *lambda_rest__layers_json(struct lambda *lm, const json_t *arns)
{
    json_t *out = json_array();
    size_t k;
    json_t *a;
    json_array_foreach(arns, k, a)
    {
        struct lambda_layer *l = lambda_layer_by_arn(lm, json_string_value(a));
        struct lambda_layer_info i;
        long long size = 0;
        if (l != NULL) {
            lambda_layer_info(l, &i);
            size = i.size;
        }
        json_array_append_new(out, json_pack("{s:s, s:I}", "Arn", json_string_value(a),
                                             "CodeSize", (json_int_t)size));
    }
    return out;
}

static void ok_layer(struct rest_call *c)
{
    lambda_rest__json(c->req, 201, version_json(c->rs, c->layer));
}

void lambda_rest__publish_layer(struct rest_ctx *x)
{
    char name[160];
    if (!layer_name(x, name, sizeof name))
        return;
    char perr[200];
    json_t *doc = jsonh_parse(x->req->body, x->req->body_len, perr, sizeof perr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        proto_errorf(x->req, ERR_LAMBDA_INVALID_CONTENT,
                     "Could not parse request body into json: %s", perr);
        return;
    }
    json_t *content = json_object_get(doc, "Content");
    json_t *zf = json_object_get(content, "ZipFile");
    struct buf zip;
    buf_init(&zip, 70 * 1024 * 1024);
    if (!json_is_string(zf)) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER,
                    json_object_get(content, "S3Bucket")
                        ? "Only Content.ZipFile is supported by this endpoint (no S3)"
                        : "Please provide a source for function code.");
    } else if (codec_b64_decode(json_string_value(zf), json_string_length(zf), &zip) != BUF_OK) {
        proto_error(x->req, ERR_LAMBDA_INVALID_PARAMETER,
                    "Could not unzip uploaded file. Please check your file, then try to upload "
                    "again.");
    } else {
        struct lambda_layer_spec s = {.name = name,
                                      .description = jsonh_str(doc, "Description", NULL),
                                      .license = jsonh_str(doc, "LicenseInfo", NULL),
                                      .runtimes = json_object_get(doc, "CompatibleRuntimes"),
                                      .archs = json_object_get(doc, "CompatibleArchitectures"),
                                      .zip = zip.data ? zip.data : "",
                                      .zip_len = zip.len};
        struct rest_call *c = lambda_rest__call(x, ok_layer, 201);
        if (c != NULL)
            lambda_layer_publish(x->lm, &s, &c->layer, lambda_rest__done, c);
    }
    buf_destroy(&zip);
    json_decref(doc);
}

void lambda_rest__get_layer(struct rest_ctx *x)
{
    char name[160];
    int version;
    if (!layer_name(x, name, sizeof name) || !layer_version(x, &version))
        return;
    struct lambda_layer *l = lambda_layer_find(x->lm, name, version);
    if (l == NULL)
        proto_error(x->req, ERR_LAMBDA_NOT_FOUND, no_such);
    else
        lambda_rest__json(x->req, 200, version_json(x->rs, l));
}

static void ok_empty(struct rest_call *c)
{
    lambda_rest__empty(c->req, c->status);
}

void lambda_rest__delete_layer(struct rest_ctx *x)
{
    char name[160];
    int version;
    if (!layer_name(x, name, sizeof name) || !layer_version(x, &version))
        return;
    struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
    if (c != NULL)
        lambda_layer_delete(x->lm, name, version, lambda_rest__done, c);
}

/* A listing: the filters, the page. */
struct layer_list {
    struct rest_page page;
    char runtime[64], arch[32];
    bool has_runtime, has_arch, latest_only;
    char last_name[160]; /* ListLayers: the name whose newest match is already listed */
};

static bool in_array(const json_t *a, const char *v)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) if (strcmp(json_string_value(e) ? json_string_value(e) : "", v) ==
                                    0) return true;
    return false;
}

static bool layer_cb(void *arg, struct lambda_layer *l)
{
    struct layer_list *ll = arg;
    struct lambda_layer_info i;
    lambda_layer_info(l, &i);
    if ((ll->has_runtime && !in_array(i.runtimes, ll->runtime)) ||
        (ll->has_arch && !in_array(i.archs, ll->arch)))
        return true;
    if (ll->latest_only && strcmp(ll->last_name, i.name) == 0)
        return true; /* an older version of a layer already listed */
    snprintf(ll->last_name, sizeof ll->last_name, "%s", i.name);
    if (!lambda_rest__page_wants(&ll->page, ll->latest_only ? i.name : i.version_arn))
        return !ll->page.more;
    json_t *item = version_item(&i);
    if (ll->latest_only)
        item = json_pack("{s:s, s:s, s:o}", "LayerName", i.name, "LayerArn", i.arn,
                         "LatestMatchingVersion", item);
    json_array_append_new(ll->page.items, item);
    return true;
}

static void list_init(struct layer_list *ll, struct rest_ctx *x)
{
    *ll = (struct layer_list){0};
    lambda_rest__page_init(&ll->page, x, 50, false);
    ll->has_runtime =
        proto_query(x->req, "CompatibleRuntime", ll->runtime, sizeof ll->runtime) >= 0;
    ll->has_arch = proto_query(x->req, "CompatibleArchitecture", ll->arch, sizeof ll->arch) >= 0;
}

void lambda_rest__list_layer_versions(struct rest_ctx *x)
{
    char name[160];
    if (!layer_name(x, name, sizeof name))
        return;
    struct layer_list ll;
    list_init(&ll, x);
    lambda_layer_each(x->lm, name, layer_cb, &ll);
    lambda_rest__page_send(&ll.page, "LayerVersions");
}

void lambda_rest__list_layers(struct rest_ctx *x)
{
    char find[32], arn[600];
    if (proto_query(x->req, "find", find, sizeof find) >= 0) {
        /* GetLayerVersionByArn: ?find=LayerVersion&Arn=... */
        long n = proto_query(x->req, "Arn", arn, sizeof arn);
        char msg[1024];
        enum err e = n < 0 ? ERR_LAMBDA_VALIDATION
                           : lambda_validate_value("LayerVersionArn", "arn", arn, (size_t)n, msg,
                                                   sizeof msg);
        if (n < 0)
            snprintf(msg, sizeof msg,
                     "1 validation error detected: Value null at 'arn' failed to satisfy "
                     "constraint: Member must not be null");
        if (e != ERR_OK) {
            proto_error(x->req, e, msg);
            return;
        }
        struct lambda_layer *l = lambda_layer_by_arn(x->lm, arn);
        if (l == NULL)
            proto_error(x->req, ERR_LAMBDA_NOT_FOUND, no_such);
        else
            lambda_rest__json(x->req, 200, version_json(x->rs, l));
        return;
    }
    struct layer_list ll;
    list_init(&ll, x);
    ll.latest_only = true;
    lambda_layer_each(x->lm, NULL, layer_cb, &ll);
    lambda_rest__page_send(&ll.page, "Layers");
}

/* ---- policies ---- */

static void ok_layer_statement(struct rest_call *c)
{
    const char *rev = "";
    struct lambda_layer *l = lambda_layer_find(c->lm, c->name, c->value);
    if (l != NULL)
        lambda_layer_policy(l, &rev);
    lambda_rest__json(c->req, 201,
                      json_pack("{s:s, s:s}", "Statement", c->text, "RevisionId", rev));
}

/* The statement AWS stores for an AddLayerVersionPermission body. */
static json_t *layer_statement(const json_t *doc, const char *arn)
{
    const char *p = jsonh_str(doc, "Principal", "*");
    json_t *principal;
    char root[64];
    if (strcmp(p, "*") == 0) {
        principal = json_string("*");
    } else {
        if (strncmp(p, "arn:", 4) != 0)
            snprintf(root, sizeof root, "arn:aws:iam::%.12s:root", p);
        else
            snprintf(root, sizeof root, "%.60s", p);
        principal = json_pack("{s:s}", "AWS", root);
    }
    json_t *st = json_pack("{s:s, s:s, s:o, s:s, s:s}", "Sid", jsonh_str(doc, "StatementId", ""),
                           "Effect", "Allow", "Principal", principal, "Action",
                           jsonh_str(doc, "Action", ""), "Resource", arn);
    const char *org = jsonh_str(doc, "OrganizationId", NULL);
    if (org != NULL)
        json_object_set_new(st, "Condition", json_pack("{s:{s:s}}", "StringEquals",
                                                        "aws:PrincipalOrgID", org));
    return st;
}

void lambda_rest__layer_policy(struct rest_ctx *x, const char *method)
{
    char name[160];
    int version;
    if (!layer_name(x, name, sizeof name) || !layer_version(x, &version))
        return;
    struct lambda_layer *l = lambda_layer_find(x->lm, name, version);
    if (l == NULL) {
        proto_errorf(x->req, ERR_LAMBDA_NOT_FOUND,
                     "Layer version arn:aws:lambda:%s:000000000000:layer:%s:%d does not exist.",
                     lambda_region(x->lm), name, version);
        return;
    }
    struct lambda_layer_info i;
    lambda_layer_info(l, &i);
    if (strcmp(method, "GET") == 0) {
        const char *rev;
        const json_t *pol = lambda_layer_policy(l, &rev);
        char *text = pol ? json_dumps(pol, JSON_COMPACT) : NULL;
        if (text == NULL)
            proto_error(x->req, ERR_LAMBDA_NOT_FOUND,
                        "No policy is associated with the given resource.");
        else
            lambda_rest__json(x->req, 200, json_pack("{s:s, s:s}", "Policy", text, "RevisionId",
                                                     rev));
        free(text);
        return;
    }
    if (strcmp(method, "DELETE") == 0) {
        char sid[512], rev[128];
        long n = lambda_rest__segment(x->seg[2], x->segl[2], sid);
        bool has_rev = proto_query(x->req, "RevisionId", rev, sizeof rev) >= 0;
        if (n < 0) {
            proto_error(x->req, ERR_LAMBDA_VALIDATION, "Invalid statement id encoding");
            return;
        }
        struct rest_call *c = lambda_rest__call(x, ok_empty, 204);
        if (c != NULL)
            lambda_layer_remove_permission(x->lm, l, sid, has_rev ? rev : NULL,
                                           lambda_rest__done, c);
        return;
    }
    json_t *doc = jsonh_parse(x->req->body, x->req->body_len, NULL, 0);
    json_t *st = json_is_object(doc) ? layer_statement(doc, i.version_arn) : NULL;
    struct rest_call *c = NULL;
    if (st == NULL)
        proto_error(x->req, ERR_LAMBDA_INVALID_CONTENT, "Could not parse request body into json");
    else if ((c = lambda_rest__call(x, ok_layer_statement, 201)) == NULL)
        ;
    else if ((c->text = json_dumps(st, JSON_COMPACT)) == NULL)
        lambda_rest__done(c, ERR_LAMBDA_SERVICE, "out of memory");
    else {
        snprintf(c->name, sizeof c->name, "%.79s", name);
        c->value = version;
        lambda_layer_add_permission(x->lm, l, st, jsonh_str(doc, "RevisionId", NULL),
                                    lambda_rest__done, c);
    }
    json_decref(st);
    json_decref(doc);
}
