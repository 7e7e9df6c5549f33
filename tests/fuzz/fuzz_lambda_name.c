/* libFuzzer target: the Lambda FunctionName path parameter — percent-decoding (twice, as
 * double-encoded SigV4 paths need) and name/ARN/qualifier resolution — and the model's
 * string shapes (shapes.c: the pattern matcher and the message renderer) over raw bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cloud/lambda/lambda.h"
#include "core/url.h"
#include "cloud/lambda/shapes.h"
#include "core/utf8.h"

/* A message must be a valid UTF-8 C string that fits the buffer. */
static void check_msg(const char *msg, size_t msglen)
{
    size_t n = strnlen(msg, msglen);
    if (n >= msglen)
        __builtin_trap();
    for (size_t k = 0; k < n;) {
        size_t l = utf8_seq_len((const unsigned char *)msg + k, n - k);
        if (l == 0)
            __builtin_trap();
        k += l;
    }
}

/* A sixth of the string shapes of the table (which sixth: the first byte's choice) against
 * the bytes, and a request made of them. */
static void check_shapes(const uint8_t *data, size_t size)
{
    size_t ns;
    const struct lambda_shape *shapes = lambda__shapes(&ns);
    char msg[300];
    size_t pick = size > 0 ? data[0] : 0;
    for (size_t i = 0; i < ns; i++) {
        if (shapes[i].kind != LK_STRING || (i + pick) % 6 != 0)
            continue;
        size_t msglen = 1 + (size + i) % sizeof(msg);
        enum err e =
            lambda_validate_value(shapes[i].name, "member", (const char *)data, size, msg, msglen);
        if (e == ERR_LAMBDA_SERVICE)
            __builtin_trap(); /* every pattern of the table is in the subset */
        if (e != ERR_OK)
            check_msg(msg, msglen);
        /* a value with a NUL is never accepted */
        if (e == ERR_OK && memchr(data, '\0', size) != NULL)
            __builtin_trap();
    }
    size_t half = size / 2;
    struct lambda_param p[4] = {
        {"FunctionName", (const char *)data, half},
        {"Qualifier", (const char *)data + half, size - half},
        {"InvocationType", (const char *)data, size < 16 ? size : 16},
        {"LogType", (const char *)data + half, size - half < 5 ? size - half : 5}};
    enum err e = lambda_validate_request("Invoke", NULL, p, 4, msg, sizeof(msg));
    if (e == ERR_LAMBDA_SERVICE)
        __builtin_trap();
    if (e != ERR_OK)
        check_msg(msg, sizeof(msg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_shapes(data, size);
    char a[512], b[512], name[80], msg[512];
    long n = url_decode((const char *)data, size, 0, a, sizeof(a));
    if (n >= 0) {
        if ((size_t)n >= sizeof(a))
            __builtin_trap();
        long m = url_decode(a, (size_t)n, 0, b, sizeof(b));
        if (m >= 0 && (size_t)m > (size_t)n)
            __builtin_trap(); /* decoding never grows */
        enum err e = lambda_resolve_name(a, (size_t)n, name, sizeof(name), msg, sizeof(msg));
        if (e == ERR_OK && (strlen(name) == 0 || strlen(name) > 64))
            __builtin_trap();
        if (e != ERR_OK)
            check_msg(msg, sizeof(msg));
    }
    enum err e =
        lambda_resolve_name((const char *)data, size, name, sizeof(name), msg, sizeof(msg));
    if (e == ERR_OK && strlen(name) > 64)
        __builtin_trap();
    if (e != ERR_OK)
        check_msg(msg, sizeof(msg));
    /* the qualifier-keeping resolver: the same name, and a qualifier of [A-Za-z0-9_$-] */
    char qname[80], qual[140];
    enum err q = lambda_resolve_ref((const char *)data, size, qname, sizeof(qname), qual,
                                    sizeof(qual), msg, sizeof(msg));
    if (q == ERR_OK) {
        if (strlen(qname) == 0 || strlen(qname) > 64 || strlen(qual) >= sizeof(qual))
            __builtin_trap();
        for (const char *c = qual; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '$'))
                __builtin_trap();
        if (e == ERR_OK && strcmp(name, qname) != 0)
            __builtin_trap(); /* both resolvers agree on the name */
    } else {
        check_msg(msg, sizeof(msg));
    }
    char role[600];
    if (size < sizeof(role)) {
        memcpy(role, data, size);
        role[size] = '\0';
        (void)lambda_valid_role(role);
    }
    return 0;
}
