/*
 * proto_json.h — the CloudWatch Logs JSON 1.1 adapter's router row (X-Amz-Target:
 * Logs_20140328.<Op>). The operations themselves: logs_api_handle in logs.h.
 */
#ifndef HAAR_CLOUD_LOGS_PROTO_JSON_H
#define HAAR_CLOUD_LOGS_PROTO_JSON_H

#include "cloud/proto/proto.h"

struct logs;

/* The router row of the Logs API (lg borrowed). */
void logs_service(struct logs *lg, struct proto_service *out);

#endif
