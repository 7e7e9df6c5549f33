/*
 * fuzz_ddb_shape.c — Coral's type and constraint passes (cloud/dynamodb/shape) over
 * arbitrary JSON for every DynamoDB operation: the first byte picks the operation, the
 * rest is the request body (parsed as the adapter parses it, NULs allowed). Every refusal
 * must carry a message of the right row.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/dynamodb/shape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum ddb_op op = (enum ddb_op)(1 + data[0] % (DDB_OP__COUNT - 1));
    json_t *req =
        json_loadb((const char *)data + 1, size - 1, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
    if (req == NULL)
        return 0;
    struct ddb_err err;
    ddb_err_init(&err);
    if (ddb_shape_check(op, req, &err) != 0) {
        if (!ddb_err_isset(&err) || ddb_err_msg(&err)[0] == '\0' ||
            (err.code != ERR_DDB_VALIDATION && err.code != ERR_DDB_SERIALIZATION))
            abort();
    }
    ddb_err_clear(&err);
    json_decref(req);
    return 0;
}
