/*
 * main.c — the `haar` command: one verb table, each verb a function.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/cli.h"
#include "cloud/config.h"
#include "cloud/daemon.h"
#include "cloud/events/cli.h"
#include "cloud/logs/logs.h"

/* Sanitizer builds only: h2o 2.2 cannot be torn down with live connections, so what it
 * holds at exit is left to the OS; LeakSanitizer is told so (our own memory is checked). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libh2o-evloop.so\n";
}

static int verb_describe(int argc, char **argv)
{
    const char *env = "dev", *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--env") == 0 && i + 1 < argc)
            env = argv[++i];
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            continue;
        else {
            fprintf(stderr, "usage: haar describe [--env NAME] [--config FILE] --json\n");
            return 2;
        }
    }
    char p[4096], err[1024];
    daemon_config_path(path, env, p, sizeof p); /* where `haar up` would look */
    path = p;
    struct config *cfg = config_load(path, err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    json_t *d = config_describe(cfg);
    char *s = d ? json_dumps(d, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    int rc = s ? 0 : 1;
    if (s)
        puts(s);
    free(s);
    json_decref(d);
    config_free(cfg);
    return rc;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} verbs[] = {
    {"up", daemon_up, "run the local cloud: haar up [--env NAME] [--state-dir DIR] ..."},
    {"invoke", cli_invoke, "invoke a function: haar invoke NAME [--payload JSON|@FILE]"},
    {"status", cli_status, "show what a running daemon hosts: haar status [--endpoint URL]"},
    {"logs", logs_cli, "print a function's logs: haar logs NAME [--follow] [--since 10m]"},
    {"trigger", events_trigger_cli, "fire an EventBridge rule now: haar trigger RULE"},
    {"schedule", events_schedule_cli,
     "print fire times: haar schedule next EXPR [--count N] [--from ISO8601]"},
    {"describe", verb_describe,
     "print the environment's resources: haar describe --env NAME --json"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: haar <verb> [options]\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(argv[1], verbs[i].name) == 0) {
            return verbs[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "haar: unknown verb '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
