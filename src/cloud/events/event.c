/*
 * event.c — the Scheduled Event and rule ARNs (see event.h).
 */
#include "cloud/events/event.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/ids.h"

int events_rule_arn(char *out, size_t outlen, const char *region, const char *account,
                    const char *bus, const char *rule)
{
    int n;
    if (bus == NULL || bus[0] == '\0' || strcmp(bus, "default") == 0)
        n = snprintf(out, outlen, "arn:aws:events:%s:%s:rule/%s", region, account, rule);
    else
        n = snprintf(out, outlen, "arn:aws:events:%s:%s:rule/%s/%s", region, account, bus, rule);
    return n >= 0 && (size_t)n < outlen ? n : -1;
}

json_t *events_scheduled_event(const char *account, const char *region, const char *rule_arn,
                               int64_t time_ms, const char *id)
{
    char uuid[IDS_UUID_LEN + 1], when[32];
    if (clock_format_iso(time_ms, false, when, sizeof when) < 0)
        return NULL;
    if (id == NULL) {
        ids_uuid4(uuid);
        id = uuid;
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:{}}", "version", "0", "id", id,
                     "detail-type", "Scheduled Event", "source", "aws.events", "account", account,
                     "time", when, "region", region, "resources", rule_arn, "detail");
}
