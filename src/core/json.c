#include "core/json.h"

#include <stdio.h>

const char *jsonh_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

int jsonh_int(const json_t *obj, const char *key, long long *out)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return 1;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return buf_append(data, buffer, size) == BUF_OK ? 0 : -1;
}

int jsonh_dump_buf(const json_t *j, size_t flags, struct buf *out)
{
    size_t before = out->len;
    if (json_dump_callback(j, dump_cb, out, flags | JSON_ENCODE_ANY) != 0) {
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
        return BUF_ETOOBIG;
    }
    return BUF_OK;
}

json_t *jsonh_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (j == NULL && err != NULL && errlen > 0)
        snprintf(err, errlen, "%s at line %d column %d", je.text, je.line, je.column);
    return j;
}
