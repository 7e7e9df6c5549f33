/*
 * fuzz_logs_api.c — the CloudWatch Logs JSON 1.1 adapter on arbitrary bodies.
 * Input: first byte picks the operation, the rest is the request body. The store lives
 * in a temp folder that is wiped every 2000 inputs (so disk use stays bounded) and is
 * seeded with a group, streams and events so the read paths run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/logs/logs_int.h"

static const char *const ops[] = {
    "CreateLogGroup",     "DeleteLogGroup",        "DescribeLogGroups",
    "PutRetentionPolicy", "DeleteRetentionPolicy", "CreateLogStream",
    "DeleteLogStream",    "DescribeLogStreams",    "PutLogEvents",
    "GetLogEvents",       "FilterLogEvents",       "TagResource",
    "UntagResource",      "ListTagsForResource",   "TagLogGroup",
    "UntagLogGroup",      "ListTagsLogGroup",      "Nope",
};

static char dir[64];
static struct logs *lg;
static unsigned runs;

static int64_t fixed_clock(void *arg)
{
    (void)arg;
    return 1764000000000LL;
}

static void wipe(void)
{
    if (lg == NULL)
        return;
    logs_free(lg);
    lg = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        abort();
}

static void reset(void)
{
    char err[256];
    if (lg == NULL)
        atexit(wipe);
    wipe();
    snprintf(dir, sizeof dir, "/tmp/fuzz_logs_api.XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    lg = logs_new(dir, 0, err, sizeof err);
    if (lg == NULL)
        abort();
    logs_set_clock(lg, fixed_clock, NULL);
    for (int i = 0; i < 20; i++) {
        char m[64];
        int n = snprintf(m, sizeof m, "%s event %d \"q\"\\", i % 2 ? "ERROR" : "INFO", i);
        logs_put(lg, "/g", i % 3 ? "s" : "2026/11/25/[$LATEST]x", 1764000000000LL - i * 1000, m,
                 (size_t)n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (lg == NULL || ++runs % 2000 == 0)
        reset();
    if (size < 1)
        return 0;
    const char *op = ops[data[0] % (sizeof ops / sizeof ops[0])];
    struct buf out;
    buf_init(&out, 4u << 20);
    int status = 0;
    logs_api_handle(lg, op, (const char *)data + 1, size - 1, &status, &out);
    if (status != 200 && (status < 400 || status > 599))
        abort();
    if (out.len == 0 || out.data[0] != '{')
        abort();
    buf_destroy(&out);
    logs_flush(lg);
    return 0;
}
