/*
 * cli.h — the client verbs that talk to a running daemon: `haar invoke` and `haar status`.
 * They use libcurl with SigV4 (CURLOPT_AWS_SIGV4) and the test/test credentials.
 */
#ifndef HAAR_CLOUD_CLI_H
#define HAAR_CLOUD_CLI_H

/* `haar invoke NAME [--payload JSON|@FILE] [--endpoint URL]`: prints the function's answer
 * to stdout. Returns 0, 1 (function error or failure) or 2 (usage). argv[0] is "invoke". */
int cli_invoke(int argc, char **argv);

/* `haar status [--endpoint URL] [--json]`: prints the daemon's health summary. */
int cli_status(int argc, char **argv);

#endif
