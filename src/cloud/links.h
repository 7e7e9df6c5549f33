/*
 * links.h — the engines' calls into one another, made where the daemon composes them: an
 * engine names what it needs from a neighbour as a host hook (events_host, ...) and never
 * includes the neighbour; this file answers the hooks with the neighbour's engine API.
 *
 *   EventBridge -> SQS   an SQS target, or a target's dead-letter queue (events_host.send_sqs)
 *   Lambda -> SQS        an asynchronous invocation's record to its SQS destination
 *
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_LINKS_H
#define HAAR_CLOUD_LINKS_H

struct events;
struct lambda;
struct sqs;

/* Points ev's SQS sends at s (both outlive each other's last call: free ev first). */
void links_events_to_sqs(struct events *ev, struct sqs *s);

/* Points lm's SQS destinations at s (free lm first). */
void links_lambda_to_sqs(struct lambda *lm, struct sqs *s);

#endif
