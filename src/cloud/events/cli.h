/*
 * cli.h — the EventBridge verbs: `haar schedule` (fire times of a schedule expression,
 * computed locally, no daemon needed) and `haar trigger` (fires a rule of a running daemon).
 */
#ifndef HAAR_CLOUD_EVENTS_CLI_H
#define HAAR_CLOUD_EVENTS_CLI_H

/*
 * `haar schedule next EXPR [--count N] [--from ISO8601]`; argv[0] is "schedule".
 * Prints the next N (default 5) fire times strictly after --from (default now), one per line
 * in UTC ("2026-11-24T12:00:00Z"); a rate counts from --from, as if the rule were created
 * then. Fewer lines when the schedule ends (a cron whose years run out).
 * EXPR "-" is the batch form: expressions are read from stdin, one per line, and each gives
 * one line of output: its fire times separated by single spaces (an empty line for an
 * invalid expression, whose message goes to stderr with its line number).
 * Returns the exit status: 0 ok, 2 usage or an invalid expression (the message on stderr).
 * Not thread-safe (writes stdout/stderr).
 */
int events_schedule_cli(int argc, char **argv);

/*
 * `haar trigger RULE [--bus NAME] [--endpoint URL]`; argv[0] is "trigger". Asks the daemon
 * (POST /_haar/events/trigger) to fire the rule now: its targets get a Scheduled Event with
 * the current time, as if its schedule had fired. RULE is the full rule name, or the
 * environment's short form ("schedule" for <project>-<env>-schedule). --endpoint defaults to
 * $HAAR_ENDPOINT, else http://127.0.0.1:4566. Prints what fired. Returns 0, 1 (no daemon, or
 * no such rule) or 2 (usage). Needs curl_global_init (main.c does it for this verb).
 */
int events_trigger_cli(int argc, char **argv);

#endif
