/*
 * errors.h — the __type namespace of each SQS row of src/core/err.h.
 *
 * SQS speaks two protocols with different codes for the same error (AWS-RECORDED.md §1.0):
 *   - JSON 1.0: body {"__type":"<namespace><shape>","message":...} plus the header
 *     `x-amzn-query-error: <query code>;Sender`;
 *   - query (XML): <Code><query code></Code>.
 * err.h's rows hold the shape name and the query code; this table adds the namespace, which
 * differs per row ("com.amazonaws.sqs#", but "com.amazon.coral.service#" for the two generic
 * shapes). The JSON adapter hands sqs_err_json_namespace to the router row
 * (proto_service.json_type_ns_of). Constant data; every function here is thread-safe.
 */
#ifndef HAAR_CLOUD_SQS_ERRORS_H
#define HAAR_CLOUD_SQS_ERRORS_H

#include <stdbool.h>

#include "core/err.h"

/* The __type namespace of an SQS row including the '#' ("com.amazonaws.sqs#", or
 * "com.amazon.coral.service#" for the two generic coral shapes); "" for other rows.
 * The full __type is this followed by err_code(e). Never NULL. */
const char *sqs_err_json_namespace(enum err e);

/* True when e is one of the SQS_ rows. */
bool sqs_err_is_sqs(enum err e);

#endif
