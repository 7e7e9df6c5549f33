/*
 * errors.h — what the SQS rows of src/core/err.h look like on each wire protocol.
 *
 * err.h holds one column of AWS code per row; SQS speaks two protocols with different codes
 * for the same error (AWS-RECORDED.md §1.0):
 *   - JSON 1.0: body {"__type":"<namespace><shape>","message":...} plus the header
 *     `x-amzn-query-error: <query code>;Sender`;
 *   - query (XML): <Code><query code></Code>.
 * Until err.h gains a query-code column, this table maps each SQS_ row to its query code and
 * its __type namespace. Constant data; every function here is thread-safe.
 */
#ifndef HAAR_CLOUD_SQS_ERRORS_H
#define HAAR_CLOUD_SQS_ERRORS_H

#include <stdbool.h>

#include "core/err.h"

/* The query-protocol code of an SQS row ("AWS.SimpleQueueService.NonExistentQueue",
 * "InvalidParameterValue", ...); for any other row, its err_code(). Never NULL. */
const char *sqs_err_query_code(enum err e);

/* The __type namespace of an SQS row including the '#' ("com.amazonaws.sqs#", or
 * "com.amazon.coral.service#" for the two generic coral shapes); "" for other rows.
 * The full __type is this followed by err_code(e). Never NULL. */
const char *sqs_err_json_namespace(enum err e);

/* True when e is one of the SQS_ rows. */
bool sqs_err_is_sqs(enum err e);

#endif
