/* libFuzzer target: CreateFunction / UpdateFunctionConfiguration request bodies, and the
 * model checker (shapes.c) over every operation's table with the same body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/shapes.h"
#include "core/json.h"
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

/* A string taken from a body must be all of the JSON string: no NUL cut it short. */
static void check_whole(const json_t *doc, const char *key, const char *got)
{
    const json_t *v = json_object_get(doc, key);
    if (got != NULL && (!json_is_string(v) || strlen(got) != json_string_length(v)))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[1024];
    for (int update = 0; update < 2; update++) {
        json_t *doc = NULL;
        struct lambda_fn_spec spec;
        struct buf zip;
        buf_init(&zip, 1 << 20);
        memset(msg, 'x', sizeof(msg));
        enum err e = lambda_parse_fn_spec((const char *)data, size, update != 0, &doc, &spec, &zip,
                                          msg, sizeof(msg));
        if (e != ERR_OK)
            check_msg(msg, sizeof(msg));
        if (e == ERR_OK && !update && (spec.name == NULL || spec.role == NULL || spec.zip == NULL))
            __builtin_trap();
        if (e == ERR_OK &&
            (spec.timeout < 0 || spec.timeout > 900 || spec.memory < 0 || spec.memory > 10240))
            __builtin_trap();
        if (e == ERR_OK) {
            check_whole(doc, "FunctionName", spec.name);
            check_whole(doc, "Handler", spec.handler);
            check_whole(doc, "Description", spec.description);
            check_whole(doc, "Runtime", spec.runtime);
            check_whole(doc, "Role", spec.role);
            if (spec.handler != NULL && (strlen(spec.handler) > 4 * 128 || spec.handler[0] == '\0'))
                __builtin_trap();
            if (spec.description != NULL && utf8_chars(spec.description) > 256)
                __builtin_trap();
        }
        json_decref(doc);
        buf_destroy(&zip);
    }
    /* every operation's table over the same body, into buffers of many sizes */
    json_t *doc = jsonh_parse((const char *)data, size, NULL, 0);
    if (json_is_object(doc)) {
        size_t nops;
        const struct lambda_op *ops = lambda__ops(&nops);
        struct lambda_param params[2] = {
            {"FunctionName", (const char *)data, size < 80 ? size : 80},
            {"Qualifier", (const char *)data, size < 8 ? size : 8}};
        for (size_t i = 0; i < nops; i++) {
            size_t msglen = 1 + (size * 31 + i * 97) % sizeof(msg);
            enum err e = lambda_validate_request(ops[i].name, doc, params, 2, msg, msglen);
            if (e == ERR_LAMBDA_SERVICE) /* the table is ours: never inconsistent */
                __builtin_trap();
            if (e != ERR_OK)
                check_msg(msg, msglen);
        }
    }
    json_decref(doc);
    return 0;
}
