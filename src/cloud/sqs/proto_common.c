/* proto_common.c — see proto_common.h. */
#include "cloud/sqs/proto_common.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/errors.h"

/* ---- calls ---------------------------------------------------------------------------------- */

static void on_gone(void *arg)
{
    struct sqs_call *c = arg;
    c->r = NULL;
    if (c->w != NULL) {
        sqs_receive_cancel(c->w); /* its callback will not run: the call ends here */
        sqs_call_free(c);
    }
}

struct sqs_call *sqs_call_new(const struct sqs_in *in)
{
    struct sqs_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->r = in->r;
    c->s = in->s;
    c->wire = in->wire;
    c->op = in->op;
    return c;
}

void sqs_call_wait(struct sqs_call *c)
{
    proto_on_gone(c->r, on_gone, c);
}

struct proto_req *sqs_call_req(struct sqs_call *c)
{
    return c->r;
}

void sqs_call_free(struct sqs_call *c)
{
    /* the request was answered (or is gone): it is not touched again */
    free(c);
}

void sqs_missing(struct proto_req *r, const char *name)
{
    proto_errorf(r, ERR_SQS_MISSING_PARAMETER, "The request must contain the parameter %s.", name);
}

const char *sqs_json_type_ns(enum err e)
{
    if (sqs_err_is_sqs(e))
        return sqs_err_json_namespace(e);
    return "com.amazon.coral.service#"; /* the generic shapes (serialization, internal) */
}

/* ---- answers ------------------------------------------------------------------------------ */

void sqs_out_begin(struct sqs_out *o, const struct sqs_wire *wire, struct proto_req *r,
                   const char *op, bool result)
{
    o->ops = wire->out;
    o->r = r;
    o->op = op;
    o->result = result;
    o->depth = 0;
    buf_init(&o->b, SQS_OUT_MAX);
    o->ops->begin(o, result);
}

void sqs_out_end(struct sqs_out *o)
{
    assert(o->depth == 0);
    o->ops->end(o);
}

void sqs_out_fail(struct sqs_out *o, enum err e, const char *msg)
{
    buf_destroy(&o->b);
    proto_error(o->r, e, msg);
}

void sqs_out_open(struct sqs_out *o, enum sqs_out_kind kind, const char *name, bool omit_empty)
{
    assert(o->depth < SQS_OUT_DEPTH);
    o->at[o->depth++] =
        (struct sqs_out_level){.kind = kind, .name = name, .omit_empty = omit_empty};
    o->ops->open(o);
}

void sqs_out_close(struct sqs_out *o)
{
    assert(o->depth > 0);
    o->ops->close(o);
    o->depth--;
}

struct sqs_out_level *sqs_out_top(struct sqs_out *o)
{
    return o->depth > 0 ? &o->at[o->depth - 1] : NULL;
}

struct sqs_out_level *sqs_out_parent(struct sqs_out *o)
{
    return o->depth > 1 ? &o->at[o->depth - 2] : NULL;
}
