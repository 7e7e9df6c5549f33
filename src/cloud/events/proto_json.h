/*
 * proto_json.h — the EventBridge JSON 1.1 adapter (X-Amz-Target: AWSEvents.<Op>, signing
 * name "events") and haar's own /_haar/events/trigger endpoint.
 *
 * Operations: PutRule, DescribeRule, ListRules, EnableRule, DisableRule, DeleteRule,
 * PutTargets, ListTargetsByRule, RemoveTargets, ListRuleNamesByTarget, PutEvents,
 * TestEventPattern, CreateEventBus, DescribeEventBus, DeleteEventBus, ListEventBuses,
 * TagResource, UntagResource, ListTagsForResource. Requests are checked against the service
 * model's constraints first (AWS's "N validation error(s) detected: ..." messages), then
 * handed to the engine (events.h). Loop thread only.
 */
#ifndef HAAR_CLOUD_EVENTS_PROTO_JSON_H
#define HAAR_CLOUD_EVENTS_PROTO_JSON_H

#include "cloud/proto/proto.h"

struct events;

/* The router row of the EventBridge API (ev borrowed). */
void events_service(struct events *ev, struct proto_service *out);

/*
 * POST /_haar/events/trigger {"rule": NAME, "bus": NAME (optional)}: fires the rule now
 * (events_trigger). Answers 200 {"rule","bus","arn","time","targets"}, 404 {"message"} for a
 * rule that does not exist, 400 for a bad body, 405 for another method. arg is the engine.
 */
void events_trigger_endpoint(void *arg, struct proto_req *r);

#endif
