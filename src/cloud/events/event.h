/*
 * event.h — the events EventBridge itself emits, and rule ARNs.
 *
 * The Scheduled Event (AWS-CONTRACTS.md §5, AWS-RECORDED.md §4), delivered to a scheduled
 * rule's targets:
 *   {"version":"0","id":"<uuid>","detail-type":"Scheduled Event","source":"aws.events",
 *    "account":"<acct>","time":"2015-10-08T16:53:06Z","region":"<region>",
 *    "resources":["arn:aws:events:<region>:<acct>:rule/<name>"],"detail":{}}
 * Keys in that order. Pure functions; thread-safe except that a random id reads core/ids'
 * pool (one thread).
 */
#ifndef HAAR_CLOUD_EVENTS_EVENT_H
#define HAAR_CLOUD_EVENTS_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Room for any rule ARN events_rule_arn writes (names are at most 64 and 256 characters). */
#define EVENTS_ARN_MAX 512

/*
 * Writes a rule's ARN: "arn:aws:events:<region>:<account>:rule/<name>" on the default bus
 * (bus NULL, "" or "default"), "arn:aws:events:<region>:<account>:rule/<bus>/<name>" on
 * another (AWS-RECORDED.md §4). Returns the length, or -1 if out is too small.
 */
int events_rule_arn(char *out, size_t outlen, const char *region, const char *account,
                    const char *bus, const char *rule);

/*
 * The Scheduled Event for one fire of a rule at time_ms (epoch ms; the time is written in
 * whole seconds, UTC). id NULL draws a random UUID. Returns a new reference, or NULL when
 * out of memory or time_ms cannot be formatted.
 */
json_t *events_scheduled_event(const char *account, const char *region, const char *rule_arn,
                               int64_t time_ms, const char *id);

#endif
