/* libFuzzer target: the Lambda FunctionName path parameter — percent-decoding (twice, as
 * double-encoded SigV4 paths need) and name/ARN/qualifier resolution. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cloud/lambda/lambda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char a[512], b[512], name[80], msg[512];
    long n = lambda_pct_decode((const char *)data, size, a, sizeof(a));
    if (n >= 0) {
        if ((size_t)n >= sizeof(a))
            __builtin_trap();
        long m = lambda_pct_decode(a, (size_t)n, b, sizeof(b));
        if (m >= 0 && (size_t)m > (size_t)n)
            __builtin_trap(); /* decoding never grows */
        if (lambda_resolve_name(a, (size_t)n, name, sizeof(name), msg, sizeof(msg)) == ERR_OK &&
            (strlen(name) == 0 || strlen(name) > 64))
            __builtin_trap();
    }
    if (lambda_resolve_name((const char *)data, size, name, sizeof(name), msg, sizeof(msg)) ==
            ERR_OK &&
        strlen(name) > 64)
        __builtin_trap();
    char role[600];
    if (size < sizeof(role)) {
        memcpy(role, data, size);
        role[size] = '\0';
        (void)lambda_valid_role(role);
    }
    return 0;
}
