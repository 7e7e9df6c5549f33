/*
 * router.c — service rows, SigV4 and dispatch on the AWS port (see router.h).
 */
#include "cloud/http/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cloud/http/http.h"
#include "cloud/proto/form.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/sigv4.h"
#include "core/str.h"
#include "core/url.h"

#define ACCOUNT "000000000000"

int router_set_keys(struct router *rt, const char *spec, char *err, size_t errlen)
{
    rt->nkeys = 0;
    if (spec == NULL || spec[0] == '\0')
        spec = "test:test";
    while (*spec) {
        const char *end = strchr(spec, ',');
        size_t n = end ? (size_t)(end - spec) : strlen(spec);
        const char *colon = memchr(spec, ':', n);
        size_t il = colon ? (size_t)(colon - spec) : 0, sl = colon ? n - il - 1 : 0;
        if (colon == NULL || il == 0 || sl == 0 || il >= sizeof rt->keys[0].id ||
            sl >= sizeof rt->keys[0].secret || memchr(spec, '/', il) != NULL) {
            snprintf(err, errlen, "HAAR_ACCESS_KEYS: \"%.*s\" is not ID:SECRET (ID without '/')",
                     (int)(n > 60 ? 60 : n), spec);
            return -1;
        }
        if (rt->nkeys == ROUTER_MAX_KEYS) {
            snprintf(err, errlen, "HAAR_ACCESS_KEYS: more than %d keys", ROUTER_MAX_KEYS);
            return -1;
        }
        struct router_key *k = &rt->keys[rt->nkeys++];
        memcpy(k->id, spec, il);
        k->id[il] = '\0';
        memcpy(k->secret, colon + 1, sl);
        k->secret[sl] = '\0';
        spec += n + (end != NULL);
    }
    return 0;
}

int router_add_service(struct router *rt, const struct proto_service *svc)
{
    if (rt->nservices == ROUTER_MAX_SERVICES)
        return -1;
    rt->services[rt->nservices++] = svc;
    return 0;
}

int router_add_creds(struct router *rt, router_cred_fn fn, void *arg)
{
    if (rt->nsources == ROUTER_MAX_SOURCES)
        return -1;
    rt->sources[rt->nsources].fn = fn;
    rt->sources[rt->nsources].arg = arg;
    rt->nsources++;
    return 0;
}

int router_add_internal(struct router *rt, const char *path,
                        void (*fn)(void *arg, struct proto_req *r), void *arg)
{
    if (rt->ninternal == ROUTER_MAX_INTERNAL)
        return -1;
    rt->internal[rt->ninternal++] = (struct router_internal){path, fn, arg};
    return 0;
}

/* ---- recognising a request ---- */

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t pl = strlen(prefix);
    return n >= pl && memcmp(s, prefix, pl) == 0;
}

static bool is_form(const struct proto_req *req)
{
    size_t n;
    const char *ct = proto_header(req, "content-type", &n);
    return ct != NULL && n >= 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
}

/* The raw Action= value of the body (forms) or the query string. */
static bool find_action(const struct proto_req *req, const char **a, size_t *al)
{
    const char *parts[2] = {is_form(req) ? req->body : "", req->query};
    size_t lens[2] = {is_form(req) ? req->body_len : 0, req->query_len};
    for (int i = 0; i < 2; i++) {
        size_t pos = 0;
        struct url_member m;
        while (url_query_next(parts[i], lens[i], &pos, &m)) {
            if (m.key_len == 6 && memcmp(m.key, "Action", 6) == 0) {
                *a = m.value;
                *al = m.value_len;
                return true;
            }
        }
    }
    return false;
}

/* The service of the credential scope ("Credential=AKID/date/region/SERVICE/aws4_request"),
 * for telling query services apart when they share an action. */
static bool scope_service(const struct proto_req *req, char *out, size_t outlen)
{
    size_t n;
    const char *a = proto_header(req, "authorization", &n);
    const char *c = a ? memmem(a, n, "Credential=", 11) : NULL;
    if (c == NULL)
        return false;
    const char *end = a + n;
    int slashes = 0;
    const char *start = NULL;
    for (const char *p = c; p < end && *p != ',' && *p != ' '; p++) {
        if (*p != '/')
            continue;
        if (++slashes == 3)
            start = p + 1;
        else if (slashes == 4 && start) {
            size_t l = (size_t)(p - start);
            if (l + 1 > outlen)
                return false;
            memcpy(out, start, l);
            out[l] = '\0';
            return true;
        }
    }
    return false;
}

static const char *signing_name(const struct proto_service *s)
{
    return s->sign_as ? s->sign_as : s->name;
}

const struct proto_service *router_match(const struct router *rt, const struct proto_req *req,
                                         const char **op, size_t *op_len)
{
    size_t tl;
    const char *target = proto_header(req, "x-amz-target", &tl);
    *op = NULL;
    *op_len = 0;
    if (target != NULL) {
        for (int i = 0; i < rt->nservices; i++) {
            const struct proto_service *s = rt->services[i];
            if (s->target_prefix && has_prefix(target, tl, s->target_prefix)) {
                size_t pl = strlen(s->target_prefix);
                *op = target + pl;
                *op_len = tl - pl;
                return s;
            }
        }
        return NULL;
    }
    const char *action;
    size_t al;
    if (find_action(req, &action, &al)) {
        char scope[64] = "";
        bool have_scope = scope_service(req, scope, sizeof scope);
        const struct proto_service *hit = NULL;
        for (int i = 0; i < rt->nservices; i++) {
            const struct proto_service *s = rt->services[i];
            for (const char *const *a = s->actions; a && *a; a++) {
                if (strlen(*a) != al || memcmp(*a, action, al) != 0)
                    continue;
                if (hit == NULL || (have_scope && strcmp(signing_name(s), scope) == 0))
                    hit = s;
            }
        }
        if (hit != NULL) {
            *op = action;
            *op_len = al;
            return hit;
        }
        /* an unknown action for a query service the scope names: that service answers */
        for (int i = 0; have_scope && i < rt->nservices; i++) {
            const struct proto_service *s = rt->services[i];
            if (s->actions && strcmp(signing_name(s), scope) == 0) {
                *op = action;
                *op_len = al;
                return s;
            }
        }
        return NULL;
    }
    for (int i = 0; i < rt->nservices; i++) {
        const struct proto_service *s = rt->services[i];
        for (const char *const *p = s->paths; p && *p; p++)
            if (has_prefix(req->path, req->path_len, *p))
                return s;
    }
    return NULL;
}

/* ---- signatures ---- */

struct cred_ctx {
    const struct router *rt;
    struct proto_caller *who;
    char key[sizeof(struct proto_caller){0}.access_key]; /* the one the signature named */
};

static const char *secret_of(void *arg, const char *key, const char *token)
{
    struct cred_ctx *c = arg;
    const struct router *rt = c->rt;
    str_copyn(c->key, sizeof c->key, key, strlen(key));
    for (int i = 0; i < rt->nkeys; i++) {
        if (strcmp(rt->keys[i].id, key) != 0)
            continue;
        /* long-term keys: a session token with them is one AWS never issued */
        if (token[0] != '\0')
            return NULL;
        static const char root[] = "arn:aws:iam::" ACCOUNT ":root";
        str_copyn(c->who->arn, sizeof c->who->arn, root, sizeof root - 1);
        str_copyn(c->who->user_id, sizeof c->who->user_id, ACCOUNT, sizeof ACCOUNT - 1);
        return rt->keys[i].secret;
    }
    for (int i = 0; i < rt->nsources; i++) {
        const char *secret = NULL;
        if (rt->sources[i].fn(rt->sources[i].arg, key, token, &secret, c->who))
            return secret;
    }
    return NULL;
}

static void add_header(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
    struct {
        struct sigv4_header h[128];
        size_t n;
    } *l = arg;
    if (l->n < 128)
        l->h[l->n++] = (struct sigv4_header){n, nl, v, vl};
}

enum err router_verify(const struct router *rt, struct proto_req *req, const char *service,
                       char *msg, size_t msglen)
{
    struct {
        struct sigv4_header h[128];
        size_t n;
    } l = {.n = 0};
    http_each_header_as_sent(req, add_header, &l);
    struct sigv4_request sr = {.method = req->method,
                               .method_len = req->method_len,
                               .path = req->path,
                               .path_len = req->path_len,
                               .query = req->query_len ? req->query : NULL,
                               .query_len = req->query_len,
                               .headers = l.h,
                               .nheaders = l.n,
                               .body = req->body,
                               .body_len = req->body_len};
    memset(&req->caller, 0, sizeof req->caller);
    str_copyn(req->caller.account, sizeof req->caller.account, ACCOUNT, sizeof ACCOUNT - 1);
    struct cred_ctx c = {rt, &req->caller, ""};
    /* real time: signatures come from clients on the real clock, whatever haar's clock says */
    enum sigv4_status st = sigv4_verify(&sr, rt->region, service, true, clock_real_now_ms(),
                                        secret_of, &c, msg, msglen);
    if (st == SIGV4_OK) {
        memcpy(req->caller.access_key, c.key, sizeof c.key);
        return ERR_OK;
    }
    return st == SIGV4_MISSING       ? ERR_MISSING_AUTH
           : st == SIGV4_MALFORMED   ? ERR_INCOMPLETE_SIGNATURE
           : st == SIGV4_UNKNOWN_KEY ? ERR_UNRECOGNIZED_CLIENT
                                     : ERR_INVALID_SIGNATURE;
}

/* Checks the request's signature for the service; on failure answers in its shape. */
static bool authorized(const struct router *rt, struct proto_req *req,
                       const struct proto_service *svc)
{
    char msg[8192];
    enum err e = router_verify(rt, req, signing_name(svc), msg, sizeof msg);
    if (e == ERR_OK)
        return true;
    /* AWS's JSON-protocol services answer these 400, the others 403 */
    enum proto_kind k = svc->protocol;
    proto_error_status(req, e, k == PROTO_JSON10 || k == PROTO_JSON11 ? 400 : err_status(e), msg);
    return false;
}

/* ---- dispatch ---- */

static bool internal(const struct router *rt, struct proto_req *req)
{
    if (!has_prefix(req->path, req->path_len, "/_haar/"))
        return false;
    for (int i = 0; i < rt->ninternal; i++) {
        const struct router_internal *h = &rt->internal[i];
        size_t n = strlen(h->path);
        bool prefix = h->path[n - 1] == '/';
        if ((prefix && has_prefix(req->path, req->path_len, h->path)) ||
            (!prefix && req->path_len == n && memcmp(req->path, h->path, n) == 0)) {
            h->fn(h->arg, req);
            return true;
        }
    }
    proto_error(req, ERR_UNKNOWN_PATH, "No such haar endpoint");
    return true;
}

void router_handle(void *arg, struct proto_req *req)
{
    struct router *rt = arg;
    if (internal(rt, req))
        return;
    const char *op;
    size_t opl;
    const struct proto_service *svc = router_match(rt, req, &op, &opl);
    if (svc == NULL) {
        size_t tl;
        const char *target = proto_header(req, "x-amz-target", &tl);
        if (target != NULL) {
            static const struct proto_service unknown = {
                .name = "unknown", .protocol = PROTO_JSON11, .json_type_ns = ""};
            req->service = &unknown;
            proto_errorf(req, ERR_UNKNOWN_OPERATION, "Unknown operation: no service answers %.*s",
                         (int)(tl > 200 ? 200 : tl), target);
            return;
        }
        proto_error(req, ERR_UNKNOWN_PATH,
                    "Unknown operation: no AWS service answers this request at this endpoint");
        return;
    }
    req->service = svc;
    req->op = op;
    req->op_len = opl;
    if (!authorized(rt, req, svc))
        return;
    if (svc->max_body && req->body_len > svc->max_body) {
        proto_errorf(req, ERR_REQUEST_TOO_LARGE, "Request must be smaller than %zu bytes",
                     svc->max_body);
        return;
    }
    svc->handle(svc->engine, req);
}

/* ---- screening at the head ---- */

static void add_raw_header(struct sigv4_header *h, size_t *n, size_t cap, const struct proto_hdr *p)
{
    if (*n < cap)
        h[(*n)++] = (struct sigv4_header){p->name, strlen(p->name), p->value, p->value_len};
}

void router_screen(void *arg, struct proto_req *head, uint64_t declared)
{
    struct router *rt = arg;
    if ((declared != HTTP_CHUNKED && declared <= ROUTER_SCREEN_MIN_BODY) ||
        has_prefix(head->path, head->path_len, "/_haar/"))
        return;
    const char *op;
    size_t opl;
    const struct proto_service *svc = router_match(rt, head, &op, &opl);
    static const struct proto_service unknown = {.name = "unknown", .protocol = PROTO_REST_JSON};
    head->service = svc ? svc : &unknown;
    struct sigv4_header h[128];
    size_t n = 0;
    for (size_t i = 0; i < head->nheaders; i++)
        add_raw_header(h, &n, 128, &head->headers[i]);
    struct sigv4_request sr = {.method = head->method,
                               .method_len = head->method_len,
                               .path = head->path,
                               .path_len = head->path_len,
                               .query = head->query_len ? head->query : NULL,
                               .query_len = head->query_len,
                               .headers = h,
                               .nheaders = n};
    struct sigv4_auth a;
    char msg[2048] = "";
    enum sigv4_status st = sigv4_parse(&sr, &a, msg, sizeof msg);
    struct proto_caller who;
    struct cred_ctx c = {rt, &who, ""};
    if (st == SIGV4_OK && secret_of(&c, a.access_key, a.token) == NULL) {
        st = SIGV4_UNKNOWN_KEY;
        snprintf(msg, sizeof msg, "The security token included in the request is invalid.");
    }
    if (st != SIGV4_OK) {
        enum err e = st == SIGV4_MISSING     ? ERR_MISSING_AUTH
                     : st == SIGV4_MALFORMED ? ERR_INCOMPLETE_SIGNATURE
                                             : ERR_UNRECOGNIZED_CLIENT;
        enum proto_kind k = head->service->protocol;
        proto_error_status(head, e, k == PROTO_JSON10 || k == PROTO_JSON11 ? 400 : err_status(e),
                           msg[0] ? msg : NULL);
        return;
    }
    if (svc != NULL && svc->max_body && declared != HTTP_CHUNKED && declared > svc->max_body)
        proto_errorf(head, ERR_REQUEST_TOO_LARGE, "Request must be smaller than %zu bytes",
                     svc->max_body);
}
