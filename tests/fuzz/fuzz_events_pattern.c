/*
 * fuzz_events_pattern.c — event patterns on arbitrary bytes. The input is split at its
 * first NUL byte: the part before is compiled as a pattern and matched against a fixed
 * event and against the part after (parsed as event JSON); without a NUL the whole input
 * is both. A refusal must come with an InvalidEventPatternException message. TestEventPattern
 * runs on the same two parts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/events/pattern.h"

static const char FIXED[] =
    "{\"version\":\"0\",\"id\":\"1\",\"detail-type\":\"EC2 Instance State-change Notification\","
    "\"source\":\"aws.ec2\",\"account\":\"123456789012\",\"time\":\"2015-11-11T21:29:54Z\","
    "\"region\":\"us-east-1\",\"resources\":[\"arn:aws:ec2:us-east-1:123456789012:instance/i-1\"],"
    "\"detail\":{\"state\":\"running\",\"n\":5,\"x\":[1,2.5,null,true,\"10.0.0.1\"],"
    "\"items\":[{\"a\":1,\"b\":\"x\"},{\"a\":2,\"b\":\"y\"}],\"state.status\":\"on\"}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_t *fixed;
    static char err[EVENTS_PATTERN_ERR_MAX];
    if (fixed == NULL)
        fixed = events_event_parse(FIXED, sizeof FIXED - 1);
    const char *s = (const char *)data;
    const char *nul = memchr(s, '\0', size);
    size_t plen = nul ? (size_t)(nul - s) : size;
    const char *ev = nul ? nul + 1 : s;
    size_t elen = nul ? size - plen - 1 : size;

    struct events_pattern *p = events_pattern_compile(s, plen, err, sizeof err);
    if (p == NULL) {
        if (strncmp(err, EVENTS_PATTERN_INVALID, strlen(EVENTS_PATTERN_INVALID)) != 0)
            abort();
    } else {
        events_pattern_match(p, fixed);
        json_t *e = events_event_parse(ev, elen);
        if (e != NULL) {
            events_pattern_match(p, e);
            json_decref(e);
        }
        events_pattern_free(p);
    }
    events_pattern_test(s, plen, ev, elen, err, sizeof err);
    return 0;
}
