/*
 * proto_query.c — the STS adapter: the query protocol (form Action=, XML answers) that the
 * AWS CLI and SDKs speak, and the JSON 1.0 form (X-Amz-Target:
 * AWSSecurityTokenServiceV20110615.<Op>) newer SDKs may send. One handler per operation,
 * reading parameters through a small accessor that hides which protocol carried them.
 */
#include "cloud/sts/proto_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/proto/form.h"
#include "cloud/proto/xmlw.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/jsonw.h"

#define XMLNS "https://sts.amazonaws.com/doc/2011-06-15/"

/* The request's parameters, whichever protocol carried them. */
struct params {
    bool json;
    struct proto_form form;
    json_t *doc;
};

static const char *param(const struct params *p, const char *key, char *buf, size_t cap)
{
    if (p->json) {
        json_t *v = json_object_get(p->doc, key);
        if (json_is_string(v))
            return json_string_value(v);
        if (json_is_integer(v)) {
            snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
            return buf;
        }
        return NULL;
    }
    size_t n;
    const char *v = proto_form_get(&p->form, key, &n);
    return v && strlen(v) == n ? v : NULL; /* a NUL inside: not a usable string */
}

/* ---- validation, as STS words it ---- */

static bool session_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_+=,.@-", *s) != NULL))
            return false;
    return true;
}

/* "arn:aws:iam::<12 digits>:role/<path/>name" */
static bool role_arn_parts(const char *arn, char account[13], const char **name)
{
    if (strncmp(arn, "arn:aws:iam::", 13) != 0 || strlen(arn) < 20 || strlen(arn) > 2048)
        return false;
    const char *a = arn + 13;
    for (int i = 0; i < 12; i++)
        if (a[i] < '0' || a[i] > '9')
            return false;
    if (strncmp(a + 12, ":role/", 6) != 0 || a[18] == '\0')
        return false;
    memcpy(account, a, 12);
    account[12] = '\0';
    const char *slash = strrchr(a + 18, '/');
    *name = slash ? slash + 1 : a + 18;
    return **name != '\0';
}

/* Parses DurationSeconds within lo..hi (default dflt). Returns false after answering. */
static bool duration(struct proto_req *r, const struct params *p, long lo, long hi, long dflt,
                     long *out)
{
    char buf[32];
    const char *v = param(p, "DurationSeconds", buf, sizeof buf);
    *out = dflt;
    if (v == NULL)
        return true;
    char *end;
    long d = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || d < lo || d > hi) {
        proto_errorf(r, ERR_STS_VALIDATION,
                     "1 validation error detected: Value '%.32s' at 'durationSeconds' failed to "
                     "satisfy constraint: Member must have value %s %ld",
                     v, d < lo ? "greater than or equal to" : "less than or equal to",
                     d < lo ? lo : hi);
        return false;
    }
    *out = d;
    return true;
}

/* ---- answers ---- */

struct answer {
    struct buf b;
    struct xmlw x;
    struct jsonw j;
    bool json;
    const char *op;
};

static void answer_begin(struct answer *a, struct proto_req *r, const char *op)
{
    buf_init(&a->b, 64 * 1024);
    a->json = r->service->protocol != PROTO_QUERY;
    a->op = op;
    if (a->json) {
        jw_init(&a->j, &a->b);
        jw_obj(&a->j);
        return;
    }
    char tag[64];
    xw_init(&a->x, &a->b);
    buf_puts(&a->b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    snprintf(tag, sizeof tag, "%sResponse", op);
    xw_open_ns(&a->x, tag, XMLNS);
    snprintf(tag, sizeof tag, "%sResult", op);
    xw_open(&a->x, tag);
}

static void field(struct answer *a, const char *k, const char *v)
{
    if (a->json)
        jw_kstr(&a->j, k, v);
    else
        xw_elem(&a->x, k, v);
}

static void group_open(struct answer *a, const char *k)
{
    if (a->json) {
        jw_key(&a->j, k);
        jw_obj(&a->j);
    } else {
        xw_open(&a->x, k);
    }
}

static void group_close(struct answer *a, const char *k)
{
    if (a->json)
        jw_obj_end(&a->j);
    else
        xw_close(&a->x, k);
}

static void answer_send(struct answer *a, struct proto_req *r)
{
    if (a->json) {
        jw_obj_end(&a->j);
    } else {
        char tag[64];
        snprintf(tag, sizeof tag, "%sResult", a->op);
        xw_close(&a->x, tag);
        xw_open(&a->x, "ResponseMetadata");
        xw_elem(&a->x, "RequestId", r->request_id);
        xw_close(&a->x, "ResponseMetadata");
        snprintf(tag, sizeof tag, "%sResponse", a->op);
        xw_close(&a->x, tag);
    }
    proto_ok(r, 200, a->b.data ? a->b.data : "", a->b.len);
    buf_destroy(&a->b);
}

static void credentials(struct answer *a, const struct sts_creds *c)
{
    group_open(a, "Credentials");
    field(a, "AccessKeyId", c->access_key);
    field(a, "SecretAccessKey", c->secret);
    field(a, "SessionToken", c->token);
    if (a->json) {
        jw_key(&a->j, "Expiration");
        jw_int(&a->j, c->expires_ms / 1000);
    } else {
        char exp[32];
        clock_format_iso(c->expires_ms, true, exp, sizeof exp);
        field(a, "Expiration", exp);
    }
    group_close(a, "Credentials");
}

/* ---- operations ---- */

static void get_caller_identity(struct proto_req *r)
{
    struct answer a;
    answer_begin(&a, r, "GetCallerIdentity");
    field(&a, "UserId", r->caller.user_id);
    field(&a, "Account", r->caller.account);
    field(&a, "Arn", r->caller.arn);
    answer_send(&a, r);
}

struct pending {
    struct proto_req *req; /* NULL once the client went away */
    char op[24];
    char arn[320], role_id[200];
    bool role;
};

static void pending_gone(void *arg)
{
    struct pending *p = arg;
    p->req = NULL;
}

static void issued(void *arg, int rc, const struct sts_creds *c)
{
    struct pending *p = arg;
    struct proto_req *r = p->req;
    if (r != NULL) {
        proto_on_gone(r, NULL, NULL);
        if (rc != 0) {
            proto_error(r, ERR_INTERNAL, "The credentials could not be stored");
        } else {
            struct answer a;
            answer_begin(&a, r, p->op);
            credentials(&a, c);
            if (p->role) {
                group_open(&a, "AssumedRoleUser");
                field(&a, "AssumedRoleId", p->role_id);
                field(&a, "Arn", p->arn);
                group_close(&a, "AssumedRoleUser");
            }
            answer_send(&a, r);
        }
    }
    free(p);
}

static struct pending *pending_new(struct proto_req *r, const char *op)
{
    struct pending *p = calloc(1, sizeof *p);
    if (p == NULL) {
        proto_error(r, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    p->req = r;
    snprintf(p->op, sizeof p->op, "%s", op);
    proto_on_gone(r, pending_gone, p);
    return p;
}

static void assume_role(struct sts *s, struct proto_req *r, const struct params *p)
{
    char b1[32], b2[32], account[13];
    const char *arn = param(p, "RoleArn", b1, sizeof b1);
    const char *session = param(p, "RoleSessionName", b2, sizeof b2);
    const char *role_name;
    if (arn == NULL || session == NULL) {
        proto_errorf(r, ERR_STS_VALIDATION,
                     "1 validation error detected: Value null at '%s' failed to satisfy "
                     "constraint: Member must not be null",
                     arn == NULL ? "roleArn" : "roleSessionName");
        return;
    }
    if (!role_arn_parts(arn, account, &role_name)) {
        proto_errorf(r, ERR_STS_VALIDATION, "%.200s is invalid", arn);
        return;
    }
    if (!session_name_ok(session)) {
        proto_errorf(r, ERR_STS_VALIDATION,
                     "1 validation error detected: Value '%.80s' at 'roleSessionName' failed to "
                     "satisfy constraint: Member must satisfy regular expression pattern: "
                     "[\\w+=,.@-]*",
                     session);
        return;
    }
    long d;
    if (!duration(r, p, 900, 43200, 3600, &d))
        return;
    struct pending *pd = pending_new(r, "AssumeRole");
    if (pd == NULL)
        return;
    /* a stable role id per role ARN, as IAM gives each role one */
    unsigned char h[32];
    codec_sha256(arn, strlen(arn), h);
    char id[18];
    for (int i = 0; i < 17; i++)
        id[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[h[i] & 31];
    id[17] = '\0';
    pd->role = true;
    snprintf(pd->arn, sizeof pd->arn, "arn:aws:sts::%s:assumed-role/%.64s/%s", account, role_name,
             session);
    snprintf(pd->role_id, sizeof pd->role_id, "AROA%s:%s", id, session);
    sts_issue(s, pd->arn, pd->role_id, (int)d, issued, pd);
}

static void get_session_token(struct sts *s, struct proto_req *r, const struct params *p)
{
    if (strncmp(r->caller.access_key, "ASIA", 4) == 0) {
        proto_error(r, ERR_STS_ACCESS_DENIED,
                    "Cannot call GetSessionToken with session "
                    "credentials");
        return;
    }
    bool root = strstr(r->caller.arn, ":root") != NULL;
    long d;
    if (!duration(r, p, 900, root ? 3600 : 129600, root ? 3600 : 43200, &d))
        return;
    struct pending *pd = pending_new(r, "GetSessionToken");
    if (pd != NULL)
        sts_issue(s, r->caller.arn, r->caller.user_id, (int)d, issued, pd);
}

static void handle(void *engine, struct proto_req *r)
{
    struct sts *s = engine;
    struct params p = {.json = r->service->protocol != PROTO_QUERY};
    if (p.json) {
        p.doc = r->body_len ? jsonh_parse(r->body, r->body_len, NULL, 0) : json_object();
        if (!json_is_object(p.doc)) {
            json_decref(p.doc);
            proto_error(r, ERR_SERIALIZATION, NULL);
            return;
        }
    } else {
        size_t ctl;
        const char *ct = proto_header(r, "content-type", &ctl);
        bool form = ct && ctl >= 33 && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0;
        if (proto_form_parse(&p.form, form ? r->body : "", form ? r->body_len : 0, r->query,
                             r->query_len) != 0) {
            proto_error(r, ERR_STS_VALIDATION, "The request parameters could not be decoded");
            return;
        }
    }
    char op[64];
    snprintf(op, sizeof op, "%.*s", (int)(r->op_len < 60 ? r->op_len : 60), r->op);
    if (strcmp(op, "GetCallerIdentity") == 0)
        get_caller_identity(r);
    else if (strcmp(op, "AssumeRole") == 0)
        assume_role(s, r, &p);
    else if (strcmp(op, "GetSessionToken") == 0)
        get_session_token(s, r, &p);
    else if (p.json)
        proto_errorf(r, ERR_UNKNOWN_OPERATION, "Unknown operation %s", op);
    else
        proto_errorf(r, ERR_STS_INVALID_ACTION,
                     "Could not find operation %s for version "
                     "2011-06-15",
                     op);
    json_decref(p.doc);
    proto_form_destroy(&p.form);
}

static const char *const actions[] = {
    "GetCallerIdentity",          "AssumeRole",         "GetSessionToken",
    "AssumeRoleWithWebIdentity",  "AssumeRoleWithSAML", "GetFederationToken",
    "DecodeAuthorizationMessage", "GetAccessKeyInfo",   NULL};

void sts_services(struct sts *s, struct proto_service *query, struct proto_service *json)
{
    *query = (struct proto_service){
        .name = "sts",
        .protocol = PROTO_QUERY,
        .actions = actions,
        .xmlns = XMLNS,
        .max_body = 64 * 1024,
        .handle = handle,
        .engine = s,
    };
    *json = (struct proto_service){
        .name = "sts",
        .protocol = PROTO_JSON10,
        .target_prefix = "AWSSecurityTokenServiceV20110615.",
        .json_type_ns = "com.amazonaws.sts#",
        .json_content_type = "application/x-amz-json-1.0",
        .max_body = 64 * 1024,
        .handle = handle,
        .engine = s,
    };
}
