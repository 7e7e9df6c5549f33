/*
 * fuzz_events_cron.c — schedule expressions on arbitrary bytes: parse (no NUL needed), and
 * for accepted ones a few next() calls from instants drawn from the input, checking that
 * fire times strictly increase, are whole minutes for cron, and stay within the years a
 * cron can name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/events/schedule.h"
#include "core/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    char detail[256];
    struct events_schedule sc;
    int64_t from = 1795564800000LL; /* 2026-11-25 */
    if (size >= 8) {
        int64_t r;
        memcpy(&r, data + size - 8, 8);
        from = r % (300LL * 365 * 86400000LL); /* 1970 .. 2270 */
    }
    if (events_schedule_parse(s, size, &sc, detail, sizeof detail) == 0) {
        if (!events_schedule_valid(s, size))
            abort();
        int64_t t = from;
        for (int i = 0; i < 4; i++) {
            int64_t n = events_schedule_next(&sc, from, t);
            if (n == EVENTS_SCHEDULE_NONE)
                break;
            if (n <= t)
                abort();
            if (sc.kind == EVENTS_SCHEDULE_CRON &&
                (n % 60000 != 0 || n > 7289654400000LL /* 2201-01-01 */))
                abort();
            char buf[32];
            clock_format_iso(n, false, buf, sizeof buf);
            t = n;
        }
    } else if (detail[0] == '\0') {
        abort(); /* a refusal always explains itself */
    }
    return 0;
}
