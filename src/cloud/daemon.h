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

#endif
