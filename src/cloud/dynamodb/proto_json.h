/*
 * proto_json.h — the DynamoDB JSON 1.0 adapter's router row (X-Amz-Target:
 * DynamoDB_20120810.<Op>, application/x-amz-json-1.0). The operations: ddb.h.
 */
#ifndef HAAR_CLOUD_DYNAMODB_PROTO_JSON_H
#define HAAR_CLOUD_DYNAMODB_PROTO_JSON_H

#include <stddef.h>

#include "cloud/proto/proto.h"

struct ddb;

/* The router row of DynamoDB (db borrowed; it must outlive the router). */
void ddb_service(struct ddb *db, struct proto_service *out);

/*
 * The error body DynamoDB sends for row e with message msg (NULL: none) and extra members
 * (",\"Item\":{…}" text, or NULL): {"__type": <namespace><code>, "message"|"Message": msg,
 * …}. SerializationException and TransactionCanceledException spell it "Message", as
 * DynamoDB does. Written into out. Exposed for the conformance driver.
 */
void ddb_error_body(enum err e, const char *msg, const char *extra, size_t extra_len,
                    struct buf *out);

/* The __type namespace of a row as DynamoDB answers it (with the '#'). */
const char *ddb_error_namespace(enum err e);

#endif
