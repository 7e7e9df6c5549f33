/*
 * fuzz_json.c — jsonh_loadb's own reader (core/json) against jansson's, on arbitrary bytes.
 *
 * Under each flag set the callers use, whatever the fast reader returns must be what
 * json_loadb returns for the same bytes: equal values (json_equal: types, numbers, every
 * key), the same keys in the same order (compared as their compact encodings), and never a
 * value where jansson refuses. Where it declines, jsonh_loadb is jansson, so a refusal costs
 * nothing to check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static void same_or_die(const json_t *a, const json_t *b)
{
    if (b == NULL || !json_equal(a, b))
        abort();
    char *da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
    char *db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
    if ((da == NULL) != (db == NULL) || (da != NULL && strcmp(da, db) != 0))
        abort();
    free(da);
    free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t flags[] = {0, JSON_REJECT_DUPLICATES, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                   JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        json_t *fast = jsonh_loadb_fast((const char *)data, size, flags[i]);
        json_error_t err;
        json_t *ref = json_loadb((const char *)data, size, flags[i], &err);
        if (fast != NULL)
            same_or_die(fast, ref);
        json_t *both = jsonh_loadb((const char *)data, size, flags[i], &err);
        if ((both == NULL) != (ref == NULL))
            abort();
        if (both != NULL)
            same_or_die(both, ref);
        json_decref(fast);
        json_decref(ref);
        json_decref(both);
    }
    return 0;
}
