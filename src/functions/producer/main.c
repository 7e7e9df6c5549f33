/*
 * producer — the EventBridge-scheduled function.
 *
 * Minimal for now: logs the scheduled event (id, time, rule) and returns {}. Enqueueing
 * the environment's scheduled tasks comes with the application.
 */
#include <jansson.h>

#include "runtime/runtime.h"
#include "runtime/runtime_log.h"

static int producer_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                           struct buf *out, struct runtime_error *err)
{
    (void)inv;
    json_error_t jerr;
    json_t *ev = json_loadb(event, len, 0, &jerr);
    if (!json_is_object(ev)) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent", "event is not a JSON object");
    }
    json_t *resources = json_object_get(ev, "resources");
    runtime_log(RUNTIME_LOG_INFO, "scheduled event", "id",
                json_string_value(json_object_get(ev, "id")), "time",
                json_string_value(json_object_get(ev, "time")), "detailType",
                json_string_value(json_object_get(ev, "detail-type")), "rule",
                json_string_value(json_array_get(resources, 0)), (const char *)NULL);
    json_decref(ev);
    if (buf_puts(out, "{}") != BUF_OK)
        return runtime_error_set(err, "Handler.ResponseError", "cannot render the response");
    return 0;
}

int main(void)
{
    return runtime_main(NULL, producer_handle, NULL);
}
