/*
 * url.c — function URL configurations: one per function ($LATEST) or alias, with its id (the
 * host label of <id>.lambda-url.<region>...), its auth type (NONE or AWS_IAM), its CORS
 * settings and invoke mode. Serving a URL is the adapter's (proto_url.c); here are the
 * records, changed like any configuration (durable before the answer) and found by id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/lambda_int.h"
#include "core/clock.h"

static const char *const not_there = "The resource you requested does not exist.";

/* A fresh id: 32 characters of [a-z0-9], as AWS's are, unused by any other URL. */
static void new_id(struct lambda *lm, char out[33])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    do {
        for (int i = 0; i < 32; i++)
            out[i] = alphabet[lambda__random(lm) % (sizeof alphabet - 1)];
        out[32] = '\0';
    } while (lambda_url_find(lm, out, 32) != NULL);
}

static void apply(struct lambda_fn *fn, const struct lambda_url_spec *s)
{
    if (s->auth_type != NULL)
        snprintf(fn->url.auth, sizeof fn->url.auth, "%s", s->auth_type);
    if (s->invoke_mode != NULL)
        snprintf(fn->url.mode, sizeof fn->url.mode, "%s", s->invoke_mode);
    if (s->has_cors) {
        json_decref(fn->url.cors);
        fn->url.cors = json_is_object(s->cors) ? json_deep_copy(s->cors) : NULL;
    }
    fn->url.modified = clock_now_ms();
}

void lambda_url_create(struct lambda *lm, struct lambda_fn *fn, const struct lambda_url_spec *s,
                       lambda_op_fn done, void *arg)
{
    struct op *op = lambda__op_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    if (fn->url.set) {
        lambda__op_complete(op, ERR_LAMBDA_CONFLICT,
                            "Failed to create function url config for [functionArn = %s]. Error "
                            "message:  FunctionUrlConfig exists for this Lambda function",
                            fn->arn);
        return;
    }
    char id[33];
    new_id(lm, id); /* before this URL exists: it must not find itself */
    fn->url = (struct fn_url){.set = true};
    memcpy(fn->url.id, id, sizeof id);
    snprintf(fn->url.auth, sizeof fn->url.auth, "NONE");
    snprintf(fn->url.mode, sizeof fn->url.mode, "BUFFERED");
    apply(fn, s);
    fn->url.created = fn->url.modified;
    lambda__op_commit(op);
}

void lambda_url_update(struct lambda *lm, struct lambda_fn *fn, const struct lambda_url_spec *s,
                       lambda_op_fn done, void *arg)
{
    struct op *op = lambda__op_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    if (!fn->url.set) {
        lambda__op_complete(op, ERR_LAMBDA_NOT_FOUND, "%s", not_there);
        return;
    }
    apply(fn, s);
    lambda__op_commit(op);
}

void lambda_url_delete(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done, void *arg)
{
    struct op *op = lambda__op_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    if (!fn->url.set) {
        lambda__op_complete(op, ERR_LAMBDA_NOT_FOUND, "%s", not_there);
        return;
    }
    json_decref(fn->url.cors);
    fn->url = (struct fn_url){.set = false};
    lambda__op_commit(op);
}

void lambda_url_info(const struct lambda_fn *fn, struct lambda_url_info *out)
{
    *out = (struct lambda_url_info){.set = fn->url.set,
                                    .id = fn->url.id,
                                    .auth_type = fn->url.auth,
                                    .invoke_mode = fn->url.mode,
                                    .cors = fn->url.cors,
                                    .created = fn->url.created,
                                    .modified = fn->url.modified};
}

struct lambda_fn *lambda_url_find(struct lambda *lm, const char *id, size_t len)
{
    if (len == 0 || len >= sizeof((struct lambda_fn *)0)->url.id)
        return NULL;
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->url.set && !fn->deleted && !fn->deleting && !fn->base->deleting &&
                !fn->base->creating && strncmp(fn->url.id, id, len) == 0 &&
                fn->url.id[len] == '\0')
                return fn;
    return NULL;
}
