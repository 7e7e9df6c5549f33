/* proto_common.c — see proto_common.h. */
#include "cloud/sqs/proto_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/sqs/errors.h"

static void on_gone(void *arg)
{
    struct sqs_call *c = arg;
    c->r = NULL;
    if (c->w != NULL) {
        sqs_receive_cancel(c->w); /* its callback will not run: the call ends here */
        sqs_call_free(c);
    }
}

struct sqs_call *sqs_call_new(struct proto_req *r, struct sqs *s, bool query)
{
    struct sqs_call *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->r = r;
    c->s = s;
    c->query = query;
    snprintf(c->op, sizeof c->op, "%.*s", (int)(r->op_len < 47 ? r->op_len : 47),
             r->op ? r->op : "");
    return c;
}

void sqs_call_wait(struct sqs_call *c)
{
    c->waiting = true;
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

struct sqs_queue *sqs_call_queue(struct proto_req *r, struct sqs *s, bool query, struct sqs_str url)
{
    char msg[SQS_MSG_MAX];
    struct sqs_queue *q = NULL;
    if (url.p == NULL && query && r->path_len > 1) {
        /* the query protocol may post to the queue's own URL */
        url.p = r->path;
        url.len = r->path_len;
    }
    if (url.p == NULL) {
        sqs_missing(r, "QueueUrl");
        return NULL;
    }
    enum err e = sqs_queue_resolve(s, url, query, &q, msg, sizeof msg);
    if (e != ERR_OK) {
        proto_error(r, e, msg);
        return NULL;
    }
    return q;
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

bool sqs_sender_fault(enum err e)
{
    return e != ERR_INTERNAL && strcmp(err_fault(e), "Sender") == 0;
}

bool sqs_int_of(const char *p, size_t len, long long *out)
{
    struct sqs_str s = {p, len};
    return p != NULL && sqs_parse_int(s, out);
}
