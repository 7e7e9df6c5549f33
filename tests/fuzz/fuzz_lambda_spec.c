/* libFuzzer target: CreateFunction / UpdateFunctionConfiguration request bodies. */
#include <stddef.h>
#include <stdint.h>

#include "cloud/lambda/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[1024];
    for (int update = 0; update < 2; update++) {
        json_t *doc = NULL;
        struct lambda_fn_spec spec;
        struct buf zip;
        buf_init(&zip, 1 << 20);
        enum err e = lambda_parse_fn_spec((const char *)data, size, update != 0, &doc, &spec, &zip,
                                          msg, sizeof(msg));
        if (e == ERR_OK && !update && (spec.name == NULL || spec.role == NULL || spec.zip == NULL))
            __builtin_trap();
        if (e == ERR_OK &&
            (spec.timeout < 0 || spec.timeout > 900 || spec.memory < 0 || spec.memory > 10240))
            __builtin_trap();
        json_decref(doc);
        buf_destroy(&zip);
    }
    return 0;
}
