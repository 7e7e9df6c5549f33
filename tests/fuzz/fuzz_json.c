/*
 * fuzz_json.c — jsonh_loadb's own reader (core/json) against jansson's, on arbitrary bytes.
 *
 * Under each flag set the callers use, whatever the fast reader returns must be what
 * json_loadb returns for the same bytes: equal values (json_equal: types, numbers, every
 * key), the same keys in the same order (compared as their compact encodings), and never a
 * value where jansson refuses. Where it declines, jsonh_loadb is jansson, so a refusal costs
 * nothing to check. jsonh_loadb_pick must give jansson's verdict, and on every path it was
 * asked for, jansson's value (or nothing where jansson has nothing).
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

/* The value at a dotted path ("b.d.e"), or NULL where an object on the way is missing. */
static json_t *at_path(json_t *v, const char *path)
{
    char part[64];
    for (;;) { /* "" names the member whose key is empty */
        size_t n = strcspn(path, ".");
        if (n >= sizeof part || !json_is_object(v))
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        v = json_object_get(v, part);
        if (v == NULL || path[n] != '.')
            return v;
        path += n + 1;
    }
}

static void check_pick(const uint8_t *data, size_t size, size_t flags, const json_t *ref)
{
    static const char *const sets[][5] = {{"a", "b.c", "b.d.e", NULL},
                                          {"b", "b.c", "", "requestContext.http.method", NULL}};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        json_error_t err;
        json_t *got = jsonh_loadb_pick((const char *)data, size, flags, sets[k], &err);
        if ((got == NULL) != (ref == NULL))
            abort();
        for (size_t i = 0; got != NULL && sets[k][i] != NULL; i++) {
            json_t *want = at_path((json_t *)ref, sets[k][i]);
            json_t *have = at_path(got, sets[k][i]);
            if (want == NULL ? have != NULL : have == NULL)
                abort();
            if (want != NULL)
                same_or_die(have, want);
        }
        json_decref(got);
    }
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
        check_pick(data, size, flags[i], ref);
        json_decref(fast);
        json_decref(ref);
        json_decref(both);
    }
    return 0;
}
