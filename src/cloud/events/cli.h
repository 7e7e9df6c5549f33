/*
 * cli.h — the `haar schedule` verb (DESIGN.md "CLI"): fire times of a schedule expression,
 * computed locally (no daemon needed).
 */
#ifndef HAAR_CLOUD_EVENTS_CLI_H
#define HAAR_CLOUD_EVENTS_CLI_H

/*
 * `haar schedule next EXPR [--count N] [--from ISO8601]`; argv[0] is "schedule".
 * Prints the next N (default 5) fire times strictly after --from (default now), one per line
 * in UTC ("2026-11-24T12:00:00Z"); a rate counts from --from, as if the rule were created
 * then. Fewer lines when the schedule ends (a cron whose years run out).
 * Returns the exit status: 0 ok, 2 usage or invalid expression (the message on stderr).
 * Not thread-safe (writes stdout/stderr).
 */
int events_schedule_cli(int argc, char **argv);

#endif
