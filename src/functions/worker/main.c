/*
 * worker — the SQS-fed function (event source mapping with ReportBatchItemFailures).
 *
 * Minimal for now: logs each record (one structured line per message) and reports no
 * failures: {"batchItemFailures":[]}. Task kinds (tasks/, one file each) come with the
 * application. An event that is not an SQS batch fails the invocation.
 */
#include <jansson.h>

#include "runtime/runtime.h"
#include "runtime/runtime_log.h"

static const char *str_or_null(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static int worker_handle(const struct runtime_invocation *inv, const char *event, size_t len,
                         struct buf *out, struct runtime_error *err)
{
    (void)inv;
    json_error_t jerr;
    json_t *ev = json_loadb(event, len, 0, &jerr);
    if (ev == NULL)
        return runtime_error_set(err, "Handler.InvalidEvent", "event is not JSON: %s", jerr.text);
    json_t *records = json_object_get(ev, "Records");
    if (!json_is_array(records)) {
        json_decref(ev);
        return runtime_error_set(err, "Handler.InvalidEvent", "not an SQS event: no Records");
    }
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec)
    {
        json_t *attrs = json_object_get(rec, "attributes");
        runtime_log(RUNTIME_LOG_INFO, "record received", "messageId", str_or_null(rec, "messageId"),
                    "eventSourceARN", str_or_null(rec, "eventSourceARN"), "approximateReceiveCount",
                    str_or_null(attrs, "ApproximateReceiveCount"), (const char *)NULL);
    }
    json_decref(ev);
    if (buf_puts(out, "{\"batchItemFailures\":[]}") != BUF_OK)
        return runtime_error_set(err, "Handler.ResponseError", "cannot render the response");
    return 0;
}

int main(void)
{
    return runtime_main(NULL, worker_handle, NULL);
}
