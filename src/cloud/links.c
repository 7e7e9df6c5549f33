/*
 * links.c — EventBridge and Lambda send to SQS (links.h).
 *
 * A target message becomes a SendMessage of the EventBridge service principal: the queue by
 * its ARN, the event as the body, a FIFO target's MessageGroupId, and the dead-letter
 * attributes as String message attributes. Outcomes map to EventBridge's: a queue that does
 * not exist, or a message SQS refuses, cannot get better by retrying (EVENTS_PERMANENT, so
 * the event goes straight to the dead-letter queue, as AWS does for a deleted target); a
 * failure to store it can (EVENTS_RETRIABLE).
 */
#include "cloud/links.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/events/events.h"
#include "cloud/lambda/lambda.h"
#include "cloud/sqs/attrs.h"
#include "cloud/sqs/queue.h"
#include "core/log.h"
#include "core/timer.h"

enum { CODE_MAX = 32 };

/* The sender of the messages EventBridge sends (SenderId on receive). */
#define EVENTS_SENDER "AROAEVENTBRIDGE00000:events.amazonaws.com"

/* One send in flight. A refusal found before SQS took the message is answered on the loop's
 * next turn: the hook's contract is that done never runs inside send_sqs. */
struct relay {
    events_sent_fn done;
    void *done_arg;
    struct timer_defer later;
    enum events_outcome o;
    char code[CODE_MAX];
    char msg[SQS_MSG_MAX];
};

static void relay_answer(struct relay *r)
{
    r->done(r->done_arg, r->o, r->o == EVENTS_SENT ? NULL : r->code,
            r->o == EVENTS_SENT ? NULL : r->msg);
    free(r);
}

static void relay_later(struct timer_defer *d)
{
    relay_answer(d->data);
}

static void relay_refuse(struct relay *r, enum events_outcome o, const char *code)
{
    r->o = o;
    snprintf(r->code, sizeof r->code, "%s", code);
    timer_defer(&r->later, relay_later, r, NULL);
}

static void relay_sent(void *arg, enum err e, const char *msg, const struct sqs_send_result *res,
                       size_t n)
{
    struct relay *r = arg;
    if (e == ERR_OK && n == 1 && res[0].e != ERR_OK) {
        e = res[0].e;
        msg = res[0].msg;
    }
    r->o = e == ERR_OK ? EVENTS_SENT : EVENTS_RETRIABLE;
    snprintf(r->code, sizeof r->code, "%s", "INTERNAL_ERROR");
    snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
    relay_answer(r);
}

static void send_sqs(void *arg, const struct events_sqs_message *m, events_sent_fn done,
                     void *done_arg)
{
    struct sqs *s = arg;
    struct relay *r = calloc(1, sizeof *r);
    if (r == NULL) {
        LOG_ERROR("links", NULL, "out of memory sending to %s: the event is lost", m->queue_arn);
        return;
    }
    r->done = done;
    r->done_arg = done_arg;
    struct sqs_queue *q = sqs_queue_by_arn(s, m->queue_arn, strlen(m->queue_arn));
    if (q == NULL) {
        snprintf(r->msg, sizeof r->msg, "The specified queue does not exist: %s", m->queue_arn);
        relay_refuse(r, EVENTS_PERMANENT, "NO_RESOURCE");
        return;
    }
    struct sqs_attr_in in[SQS_MAX_MSG_ATTRS];
    size_t n = 0;
    for (size_t i = 0; i < m->nattrs && n < SQS_MAX_MSG_ATTRS; i++)
        in[n++] = (struct sqs_attr_in){.name = sqs_str_c(m->attrs[i].name),
                                       .type = sqs_str_c("String"),
                                       .string_value = sqs_str_c(m->attrs[i].value)};
    struct sqs_attrs attrs;
    sqs_attrs_init(&attrs);
    enum err e = sqs_attrs_parse(&attrs, in, n, r->msg, sizeof r->msg);
    if (e == ERR_OK) {
        struct sqs_send_entry en = {.body = {m->body, m->len},
                                    .attrs = n ? &attrs : NULL,
                                    .group_id = sqs_str_c(m->group_id)};
        e = sqs_send(q, &en, EVENTS_SENDER, relay_sent, r, r->msg, sizeof r->msg);
    }
    sqs_attrs_destroy(&attrs);
    if (e != ERR_OK)
        relay_refuse(r, e == ERR_INTERNAL ? EVENTS_RETRIABLE : EVENTS_PERMANENT,
                     e == ERR_INTERNAL ? "INTERNAL_ERROR" : "INVALID_PARAMETER");
}

void links_events_to_sqs(struct events *ev, struct sqs *s)
{
    struct events_host h = {.arg = s, .send_sqs = send_sqs};
    events_set_host(ev, &h);
}

/* ---- Lambda's destinations ---- */

/* The sender of the records Lambda sends (SenderId on receive). */
#define LAMBDA_SENDER "AROALAMBDADESTINATION:lambda.amazonaws.com"

static void record_sent(void *arg, enum err e, const char *msg, const struct sqs_send_result *res,
                        size_t n)
{
    (void)arg;
    if (e == ERR_OK && n == 1 && res[0].e != ERR_OK) {
        e = res[0].e;
        msg = res[0].msg;
    }
    if (e != ERR_OK)
        LOG_WARN("links", NULL, "an invocation record was not sent: %s", msg ? msg : "");
}

static void send_record(void *arg, const char *queue_arn, const char *body, size_t len)
{
    struct sqs *s = arg;
    char msg[SQS_MSG_MAX];
    struct sqs_queue *q = sqs_queue_by_arn(s, queue_arn, strlen(queue_arn));
    if (q == NULL) {
        LOG_WARN("links", NULL, "the destination %s does not exist: the record is dropped",
                 queue_arn);
        return;
    }
    struct sqs_send_entry en = {.body = {body, len}};
    if (sqs_send(q, &en, LAMBDA_SENDER, record_sent, NULL, msg, sizeof msg) != ERR_OK)
        LOG_WARN("links", NULL, "%s refused an invocation record: %s", queue_arn, msg);
}

void links_lambda_to_sqs(struct lambda *lm, struct sqs *s)
{
    lambda_set_destinations(lm, send_record, s);
}
