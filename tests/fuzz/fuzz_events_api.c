/*
 * fuzz_events_api.c — the EventBridge JSON 1.1 adapter on arbitrary bodies, through the
 * router's row (model checks, then the engine). Input: the first byte picks the operation,
 * the rest is the request body. The engine keeps no store (completions are deferred timers,
 * run after each input) and is seeded with a rule whose targets take every input option;
 * it is rebuilt every 500 inputs so its state stays small. Every request must be answered
 * exactly once with 200 or an error status, and the answer must be a JSON object.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/events/events.h"
#include "cloud/events/proto_json.h"
#include "core/clock.h"
#include "core/timer.h"

static const char *const ops[] = {
    "PutRule",
    "DescribeRule",
    "ListRules",
    "EnableRule",
    "DisableRule",
    "DeleteRule",
    "PutTargets",
    "ListTargetsByRule",
    "RemoveTargets",
    "ListRuleNamesByTarget",
    "PutEvents",
    "TestEventPattern",
    "DescribeEventBus",
    "CreateEventBus",
    "DeleteEventBus",
    "ListEventBuses",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "Nope",
};

static struct events *ev;
static struct proto_service svc;
static unsigned runs;
static int answers, last_status;

static void fake_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                         const void *body, size_t len)
{
    (void)r;
    (void)hdrs;
    (void)n;
    answers++;
    last_status = status;
    json_t *j = json_loadb(body, len, 0, NULL);
    if (!json_is_object(j))
        abort();
    json_decref(j);
}

static void fake_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg)
{
    (void)r;
    (void)fn;
    (void)arg;
}

static const struct proto_conn_ops conn_ops = {.respond = fake_respond, .on_gone = fake_on_gone};

static void call(const char *op, const char *body, size_t len)
{
    struct proto_req r = {.method = "POST",
                          .method_len = 4,
                          .path = "/",
                          .path_len = 1,
                          .query = "",
                          .body = body,
                          .body_len = len,
                          .authority = "",
                          .service = &svc,
                          .op = op,
                          .op_len = strlen(op),
                          .ops = &conn_ops};
    snprintf(r.request_id, sizeof r.request_id, "00000000-0000-4000-8000-000000000000");
    answers = 0;
    svc.handle(svc.engine, &r);
    while (timer_run_due() > 0) /* commands complete from deferred timers */
        ;
    if (answers != 1 || !(last_status == 200 || (last_status >= 400 && last_status < 600)))
        abort();
}

static void teardown(void)
{
    events_free(ev);
    ev = NULL;
}

static void reset(void)
{
    if (ev == NULL) {
        clock_set_manual(1767225600000LL);
        atexit(teardown);
    }
    events_free(ev);
    char err[256];
    struct events_options o = {"eu-west-1", "000000000000"};
    ev = events_new(&o, NULL, NULL, err, sizeof err);
    if (ev == NULL)
        abort();
    events_restore(ev);
    events_service(ev, &svc);
    static const char rule[] = "{\"Name\":\"r\",\"EventPattern\":\"{\\\"source\\\":[\\\"s\\\"]}\"}";
    static const char targets[] =
        "{\"Rule\":\"r\",\"Targets\":[{\"Id\":\"a\",\"Arn\":\"arn:aws:sqs:eu-west-1:000000000000:"
        "q\"},"
        "{\"Id\":\"b\",\"Arn\":\"arn:aws:lambda:eu-west-1:000000000000:function:f\","
        "\"InputPath\":\"$.detail\"},{\"Id\":\"c\",\"Arn\":\"arn:aws:sqs:eu-west-1:0:q\","
        "\"InputTransformer\":{\"InputPathsMap\":{\"x\":\"$.detail.x\"},\"InputTemplate\":"
        "\"{\\\"x\\\": <x>}\"}}]}";
    call("PutRule", rule, sizeof rule - 1);
    call("PutTargets", targets, sizeof targets - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ev == NULL || ++runs % 500 == 0)
        reset();
    if (size < 1)
        return 0;
    call(ops[data[0] % (sizeof ops / sizeof ops[0])], (const char *)data + 1, size - 1);
    return 0;
}
