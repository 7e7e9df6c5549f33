/*
 * proto_query.h — the STS adapter's router rows: the query protocol (Action=GetCallerIdentity,
 * AssumeRole, GetSessionToken; XML answers) and JSON 1.0 (X-Amz-Target:
 * AWSSecurityTokenServiceV20110615.*). GetCallerIdentity answers who signed the request (the
 * router fills it: configured keys are the account's root, a function's key its role's
 * assumed-role ARN, issued credentials the identity they were issued for).
 */
#ifndef HAAR_CLOUD_STS_PROTO_QUERY_H
#define HAAR_CLOUD_STS_PROTO_QUERY_H

#include "cloud/proto/proto.h"
#include "cloud/sts/sts.h"

/* The two router rows of STS (s borrowed). */
void sts_services(struct sts *s, struct proto_service *query, struct proto_service *json);

#endif
