/*
 * sha256 {"data": "..."} — the SHA-256 of data's UTF-8 bytes, as {"sha256": "<64 hex>",
 * "bytes": <length>}. data is required and must be a string.
 */
#include <stdio.h>
#include <string.h>

#include "core/codec.h"
#include "functions/worker/tasks/kind.h"

static const char *const FIELDS[] = {"data", NULL};

static int sha256_validate(const json_t *payload, char *msg, size_t msglen)
{
    if (task_payload_only(payload, FIELDS, msg, msglen) != 0)
        return -1;
    if (!json_is_string(json_object_get(payload, "data"))) {
        snprintf(msg, msglen, "payload.data must be a string");
        return -1;
    }
    return 0;
}

static int sha256_run(const struct task_run *run, struct task_outcome *out)
{
    json_t *data = json_object_get(run->payload, "data");
    unsigned char d[32];
    char hex[65];
    if (!json_is_string(data))
        return task_fail(out, "InvalidPayload", false, "payload.data must be a string");
    codec_sha256(json_string_value(data), json_string_length(data), d);
    codec_hex(d, 32, hex);
    return task_result(
        out, json_pack("{s:s,s:I}", "sha256", hex, "bytes", (json_int_t)json_string_length(data)));
}

const struct task_kind task_kind_sha256 = {"sha256", sha256_validate, sha256_run};
