/* libFuzzer target: X-Amz-Client-Context decoding (base64 of a JSON object, ≤ 3583 bytes). */
#include <stddef.h>
#include <stdint.h>

#include "cloud/lambda/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf out;
    buf_init(&out, 8192);
    if (lambda_decode_client_context((const char *)data, size, &out) == ERR_OK && out.len > 3583)
        __builtin_trap();
    buf_destroy(&out);
    return 0;
}
