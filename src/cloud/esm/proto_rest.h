/*
 * proto_rest.h — the Lambda REST-JSON paths of event source mappings, as a router row of its
 * own: /2015-03-31/event-source-mappings[/{UUID}] (Create, List, Get, Update, Delete) and the
 * tag paths of mapping ARNs (/2017-03-31/tags/arn:aws:lambda:<region>:<account>:
 * event-source-mapping:...). Errors are Lambda's: X-Amzn-ErrorType plus {"Type","message"}.
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_ESM_PROTO_REST_H
#define HAAR_CLOUD_ESM_PROTO_REST_H

#include "cloud/proto/proto.h"

struct esm;

/* The adapter's state (its paths depend on the region). */
struct esm_rest {
    struct esm *e;
    char tag_path[160], tag_path_enc[200];
    const char *paths[4];
};

/* Fills the router row (rest borrowed: it must outlive the router). Add it before Lambda's
 * own row: the tag paths of mapping ARNs are a subset of Lambda's. */
void esm_rest_service(struct esm_rest *rest, struct esm *e, const char *region, const char *account,
                      struct proto_service *out);

/* The handler (exposed for the fuzz target). */
void esm_rest_handle(void *arg, struct proto_req *r);

#endif
