/*
 * Fuzz target: what the api function parses of a client's request — the POST /tasks body
 * (api_parse_create, with every kind's payload validation), a list cursor
 * (api_cursor_decode), the route of a method and path (api_route), an Idempotency-Key —
 * and the AWS client's reading of an item (aws_ddb_item_parse, task_render), whose bytes
 * come from the table. The first input byte picks the parser; the rest is its input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ddb.h"
#include "core/jsonw.h"
#include "functions/api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char *s = malloc(n + 1);
    if (s == NULL)
        return 0;
    memcpy(s, in, n);
    s[n] = '\0';
    struct api_problem p;
    switch (data[0] % 5) {
    case 0: {
        struct api_create c;
        if (api_parse_create(in, n, &c, &p) == 0)
            api_create_destroy(&c);
        break;
    }
    case 1: {
        char id[TASK_ID_LEN + 1], created[32], again[400];
        enum task_status st = (enum task_status)(n % TASK_STATUS_COUNT);
        if (api_cursor_decode(s, st, id, created, &p) == 0 &&
            api_cursor_encode(id, created, st, again, sizeof again) != 0)
            abort(); /* what decodes must encode again */
        break;
    }
    case 2: {
        enum api_route_id r;
        const char *id;
        size_t idlen;
        char allow[64];
        const char *methods[] = {"GET", "POST", "PUT", "DELETE"};
        int rc = api_route(methods[n % 4], s, &r, &id, &idlen, allow, sizeof allow);
        if (rc == 0 && id != NULL && (id < s || id + idlen > s + n))
            abort();
        break;
    }
    case 3:
        (void)api_check_idempotency_key(s, &p);
        break;
    default: {
        struct aws_ddb_item *it = aws_ddb_item_parse(in, n);
        struct buf b;
        struct jsonw w;
        buf_init(&b, 1 << 20);
        jw_init(&w, &b);
        (void)task_render(it, &w);
        buf_destroy(&b);
        aws_ddb_item_free(it);
        break;
    }
    }
    free(s);
    return 0;
}
