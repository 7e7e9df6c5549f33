/*
 * daemon.h — `haar up`: loads the environment's config, provisions its functions, listens
 * on the AWS and API ports, runs the loop until SIGINT/SIGTERM, then drains and exits.
 */
#ifndef HAAR_CLOUD_DAEMON_H
#define HAAR_CLOUD_DAEMON_H

#include <stddef.h>

/* Runs the `up` verb (argv[0] is "up"). Returns the process exit status: 0 after a clean
 * shutdown, 2 for a usage or config error, 1 for other failures. */
int daemon_up(int argc, char **argv);

/* The folder holding the haar executable (from /proc/self/exe) into out. Returns 0/-1. */
int daemon_exe_dir(char *out, size_t outlen);

/*
 * The configuration file `haar up` and `haar describe` read into path: config_path when given
 * (--config), else infra/envs/<env>/terraform.tfvars.json under the working directory, else
 * under the executable's ../.. (the repository, for build/bin/haar); the first when neither
 * exists, so that the error names it.
 */
void daemon_config_path(const char *config_path, const char *env, char *path, size_t cap);

#endif
