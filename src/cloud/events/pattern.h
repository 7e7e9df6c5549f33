/*
 * pattern.h — EventBridge event patterns: compiled once (validated with EventBridge's
 * InvalidEventPatternException wording), then matched against many events.
 *
 * Every operator the EventBridge user guide documents: exact values (strings, numbers,
 * true/false/null), "prefix" and "suffix" (each also as {"equals-ignore-case": "..."}),
 * "anything-but" (a value, a list of strings or of numbers, and {"prefix"}, {"suffix"},
 * {"equals-ignore-case"}, {"wildcard"} with a value or a list), "numeric" (=, <, <=, >, >=
 * and two-sided ranges, values within ±5e9 compared to 6 decimals), "exists" true/false,
 * "wildcard" ("*" any run, "\*" and "\\" escapes, no "**"), "equals-ignore-case", "cidr"
 * (IPv4 and IPv6), "$or" (arrays of two or more objects, at any level), nested objects,
 * and arrays in events (a field matches when any element does). Matching follows AWS's
 * engine (event-ruler): keys join into dotted paths (so {"a.b": [...]} also matches
 * {"a": {"b": ...}}), conditions on fields inside an array of objects must all hold in the
 * same element, exists works on leaves only, and a key given twice keeps its last value.
 *
 * Errors are the messages EventBridge answers with (InvalidEventPatternException, HTTP
 * 400): "Event pattern is not valid. Reason: <reason>", where reasons from the JSON reader
 * end with "\n at [Source: (String)\"<pattern>\"; line: L, column: C]" as AWS's do
 * (AWS-RECORDED.md §4 and LocalStack's test_events_patterns.snapshot.json, recorded
 * against AWS; the reasons are event-ruler's JsonRuleCompiler/CIDR/WildcardParser texts).
 *
 * A compiled pattern is immutable: matching is thread-safe; compile/free are not shared.
 */
#ifndef HAAR_CLOUD_EVENTS_PATTERN_H
#define HAAR_CLOUD_EVENTS_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Longest EventPattern PutRule accepts (botocore events model: max 4096). */
#define EVENTS_PATTERN_MAX_LEN 4096

/* The prefix of every InvalidEventPatternException message. */
#define EVENTS_PATTERN_INVALID "Event pattern is not valid. Reason: "

/* TestEventPattern's answer for an Event that is not a JSON object with the mandatory
 * fields (ValidationException; recorded for a plain-string Event, AWS-RECORDED.md §4). */
#define EVENTS_EVENT_INVALID "Parameter Event is not valid."

/* Room enough for any message compile writes (the pattern is quoted in it, twice at most). */
#define EVENTS_PATTERN_ERR_MAX (2 * EVENTS_PATTERN_MAX_LEN + 512)

struct events_pattern;

/*
 * Compiles len bytes of pattern JSON (no NUL needed). Returns a new pattern (free with
 * events_pattern_free), or NULL with the full InvalidEventPatternException message in err
 * (truncated to errlen; EVENTS_PATTERN_ERR_MAX always suffices). A pattern longer than
 * EVENTS_PATTERN_MAX_LEN is compiled all the same: the API layer checks the length.
 */
struct events_pattern *events_pattern_compile(const char *text, size_t len, char *err,
                                              size_t errlen);

/* Frees a pattern; accepts NULL. */
void events_pattern_free(struct events_pattern *p);

/* True when the event (a JSON object; borrowed) matches the pattern. */
bool events_pattern_match(const struct events_pattern *p, const json_t *event);

/* Results of events_pattern_test. */
enum events_pattern_result {
    EVENTS_PATTERN_NO_MATCH = 0,
    EVENTS_PATTERN_MATCH = 1,
    EVENTS_PATTERN_BAD_PATTERN = -1, /* InvalidEventPatternException; err has the message */
    EVENTS_PATTERN_BAD_EVENT = -2,   /* ValidationException EVENTS_EVENT_INVALID */
};

/*
 * TestEventPattern: compiles the pattern, checks the event is a JSON object holding the
 * fields AWS requires (id, account, source, time, region, resources, detail-type), and
 * matches. The pattern is checked first, as AWS does. err (may be NULL) receives the
 * message for the two error results.
 */
enum events_pattern_result events_pattern_test(const char *pattern, size_t plen, const char *event,
                                               size_t elen, char *err, size_t errlen);

/*
 * Parses event JSON as the matcher wants it: any JSON value, integers beyond 64 bits read
 * as reals rather than refused. Returns a new reference or NULL.
 */
json_t *events_event_parse(const char *text, size_t len);

#endif
