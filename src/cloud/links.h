/*
 * links.h — the engines' calls into one another, made where the daemon composes them: an
 * engine names what it needs from a neighbour as a host hook (events_host, ...) and never
 * includes the neighbour; this file answers the hooks with the neighbour's engine API.
 *
 *   EventBridge -> SQS   an SQS target, or a target's dead-letter queue (events_host.send_sqs)
 *
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_LINKS_H
#define HAAR_CLOUD_LINKS_H

struct events;
struct sqs;

/* Points ev's SQS sends at s (both outlive each other's last call: free ev first). */
void links_events_to_sqs(struct events *ev, struct sqs *s);

#endif
