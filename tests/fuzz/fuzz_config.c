/*
 * fuzz_config.c — libFuzzer target for cloud/config: any bytes go to config_load_json,
 * which must answer with a config or a one-line error, never crash or leak. A config
 * that loads is also described, so config_describe runs on every valid shape found.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    /* The folder name makes the environment-versus-folder rule run too. */
    struct config *cfg = config_load_json("infra/envs/dev/terraform.tfvars.json",
                                          (const char *)data, size, err, sizeof err);
    if (cfg == NULL) {
        /* an error is always reported, on one line */
        if (err[0] == '\0' || strchr(err, '\n') != NULL)
            abort();
        return 0;
    }
    json_t *d = config_describe(cfg);
    if (d == NULL)
        abort();
    json_decref(d);
    config_free(cfg);
    return 0;
}
