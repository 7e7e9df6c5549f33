/*
 * fuzz_logs_parse.c — the logs module's text parsers on arbitrary bytes: --since values,
 * filter patterns (compile + match against the input itself), name checks and the
 * file-system name encoding (whose output must never contain '/' or start with '.').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/logs/logs_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    int64_t out = 0;
    logs__parse_since(s, 1764000000000LL, &out);

    struct logs_pattern p;
    char err[200];
    if (logs__pattern_compile(&p, s, size, err, sizeof err) == 0) {
        logs__pattern_match(&p, s, size);
        logs__pattern_match(&p, "", 0);
        logs__pattern_destroy(&p);
    } else if (p.n != 0 || err[0] == '\0') {
        abort();
    }

    logs__valid_group_name(s, size);
    logs__valid_stream_name(s, size);
    char fs[256];
    if (size > 0 && logs__fs_name(s, size, fs, sizeof fs) == 0) {
        size_t n = strlen(fs);
        if (n == 0 || n > 200 || strchr(fs, '/') || fs[0] == '.')
            abort();
    }
    free(s);
    return 0;
}
