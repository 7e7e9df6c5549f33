/*
 * err.h — every AWS-shaped error haar answers, from one table (STYLE.md rule 5).
 *
 * Each row: enum name, HTTP status, AWS error code (the JSON protocols' shape name), the
 * query protocol's code when it differs (SQS's legacy "AWS.SimpleQueueService.*" codes; NULL =
 * the same), fault ("Sender" = the caller's, "Receiver" = ours), default message. The same code can
 * have a different status in different services (Lambda's ResourceNotFoundException is 404,
 * CloudWatch Logs' is 400), so rows are per service. Add a row here rather than writing an error
 * body by hand. The table is constant; every function here is thread-safe.
 */
#ifndef HAAR_CORE_ERR_H
#define HAAR_CORE_ERR_H

#include "core/buf.h"

#define ERR_MAP(X)                                                                                 \
    X(OK, 200, "", NULL, "", "")                                                                   \
    /* generic, any service */                                                                     \
    X(UNKNOWN_OPERATION, 400, "UnknownOperationException", NULL, "Sender", "Unknown operation")    \
    X(SERIALIZATION, 400, "SerializationException", NULL, "Sender",                                \
      "The request body is not valid JSON")                                                        \
    X(MISSING_AUTH, 403, "MissingAuthenticationTokenException", "MissingAuthenticationToken",      \
      "Sender", "Missing Authentication Token")                                                    \
    X(UNRECOGNIZED_CLIENT, 403, "UnrecognizedClientException", "InvalidClientTokenId", "Sender",   \
      "The security token included in the request is invalid.")                                    \
    X(INVALID_SIGNATURE, 403, "InvalidSignatureException", "SignatureDoesNotMatch", "Sender",      \
      "The request signature we calculated does not match the signature you provided.")            \
    X(INCOMPLETE_SIGNATURE, 403, "IncompleteSignatureException", "IncompleteSignature", "Sender",  \
      "The request signature does not conform to AWS standards.")                                  \
    X(UNKNOWN_PATH, 404, "UnknownOperationException", NULL, "Sender", "Unknown operation")         \
    X(REQUEST_TOO_LARGE, 413, "RequestEntityTooLargeException", "RequestEntityTooLarge", "Sender", \
      "Request entity too large")                                                                  \
    X(INTERNAL, 500, "InternalFailure", NULL, "Receiver", "The request processing has failed.")    \
    /* Lambda (REST-JSON) */                                                                       \
    X(LAMBDA_NOT_FOUND, 404, "ResourceNotFoundException", NULL, "Sender", "Function not found")    \
    X(LAMBDA_CONFLICT, 409, "ResourceConflictException", NULL, "Sender", "Function already exist") \
    X(LAMBDA_INVALID_PARAMETER, 400, "InvalidParameterValueException", NULL, "Sender",             \
      "Invalid parameter value")                                                                   \
    X(LAMBDA_INVALID_CONTENT, 400, "InvalidRequestContentException", NULL, "Sender",               \
      "Could not parse request body into json")                                                    \
    X(LAMBDA_TOO_LARGE, 413, "RequestTooLargeException", NULL, "Sender",                           \
      "Request must be smaller than 6291456 bytes for the InvokeFunction operation")               \
    X(LAMBDA_ENTITY_TOO_LARGE, 413, "RequestEntityTooLargeException", NULL, "Sender",              \
      "Request must be smaller than 6291456 bytes for the InvokeFunction operation")               \
    X(LAMBDA_TOO_MANY_REQUESTS, 429, "TooManyRequestsException", NULL, "Sender", "Rate Exceeded.") \
    X(LAMBDA_UNSUPPORTED_MEDIA, 415, "UnsupportedMediaTypeException", NULL, "Sender",              \
      "The content type is not supported")                                                         \
    X(LAMBDA_CODE_STORAGE, 400, "CodeStorageExceededException", NULL, "Sender",                    \
      "Code storage limit exceeded")                                                               \
    X(LAMBDA_NOT_READY, 502, "ResourceNotReadyException", NULL, "Receiver",                        \
      "The function is not ready")                                                                 \
    X(LAMBDA_SERVICE, 500, "ServiceException", NULL, "Receiver",                                   \
      "The Lambda service encountered an internal error")                                          \
    X(LAMBDA_VALIDATION, 400, "ValidationException", NULL, "Sender",                               \
      "1 validation error detected")                                                               \
    X(LAMBDA_INVALID_RUNTIME_ID, 400, "InvalidRequestID", NULL, "Sender", "Invalid request ID")    \
    X(LAMBDA_PRECONDITION, 412, "PreconditionFailedException", NULL, "Sender",                     \
      "Precondition failed")                                                                       \
    X(LAMBDA_INVALID_RUNTIME, 502, "InvalidRuntimeException", NULL, "Receiver",                    \
      "The runtime or runtime version for the function is not supported")                          \
    X(LAMBDA_PC_NOT_FOUND, 404, "ProvisionedConcurrencyConfigNotFoundException", NULL, "Sender",   \
      "No Provisioned Concurrency Config found for this function")                                 \
    /* API Gateway v2 (REST-JSON: X-Amzn-ErrorType + {"message"}) */                             \
    X(APIGW_NOT_FOUND, 404, "NotFoundException", NULL, "Sender", "Not Found")                      \
    X(APIGW_BAD_REQUEST, 400, "BadRequestException", NULL, "Sender", "Invalid request input")      \
    X(APIGW_CONFLICT, 409, "ConflictException", NULL, "Sender", "The resource already exists")     \
    X(APIGW_TOO_MANY_REQUESTS, 429, "TooManyRequestsException", NULL, "Sender",                    \
      "Too Many Requests")                                                                         \
    /* STS (query protocol, and JSON 1.0 for newer SDKs) */                                        \
    X(STS_VALIDATION, 400, "ValidationError", NULL, "Sender", "1 validation error detected")       \
    X(STS_INVALID_ACTION, 400, "InvalidAction", NULL, "Sender", "Could not find operation")        \
    X(STS_ACCESS_DENIED, 403, "AccessDenied", NULL, "Sender", "Access denied")                     \
    /* CloudWatch Logs (JSON 1.1) */                                                               \
    X(LOGS_NOT_FOUND, 400, "ResourceNotFoundException", NULL, "Sender",                            \
      "The specified log group does not exist.")                                                   \
    X(LOGS_ALREADY_EXISTS, 400, "ResourceAlreadyExistsException", NULL, "Sender",                  \
      "The specified log group already exists")                                                    \
    X(LOGS_INVALID_PARAMETER, 400, "InvalidParameterException", NULL, "Sender",                    \
      "Invalid parameter")                                                                         \
    X(LOGS_TOO_MANY_TAGS, 400, "TooManyTagsException", NULL, "Sender",                             \
      "A resource can have no more than 50 tags.")                                                 \
    /* SQS (JSON 1.0, awsQueryCompatible). The code column is the JSON shape name, the next the    \
     * query-protocol code; src/cloud/sqs/errors.c gives each row its __type namespace.            \
     * Default messages are AWS's where one fixed text exists. */                                  \
    X(SQS_QUEUE_DOES_NOT_EXIST, 400, "QueueDoesNotExist",                                          \
      "AWS.SimpleQueueService.NonExistentQueue", "Sender", "The specified queue does not exist.")  \
    X(SQS_QUEUE_NAME_EXISTS, 400, "QueueNameExists", "QueueAlreadyExists", "Sender",               \
      "A queue already exists with the same name and a different value for attribute")             \
    X(SQS_QUEUE_DELETED_RECENTLY, 400, "QueueDeletedRecently",                                     \
      "AWS.SimpleQueueService.QueueDeletedRecently", "Sender",                                     \
      "You must wait 60 seconds after deleting a queue before you can create another with the "    \
      "same name.")                                                                                \
    X(SQS_RECEIPT_HANDLE_INVALID, 400, "ReceiptHandleIsInvalid", NULL, "Sender",                   \
      "The input receipt handle is invalid.")                                                      \
    X(SQS_MESSAGE_NOT_INFLIGHT, 400, "MessageNotInflight",                                         \
      "AWS.SimpleQueueService.MessageNotInflight", "Sender",                                       \
      "The specified message isn't in flight.")                                                    \
    X(SQS_PURGE_IN_PROGRESS, 403, "PurgeQueueInProgress",                                          \
      "AWS.SimpleQueueService.PurgeQueueInProgress", "Sender",                                     \
      "Only one PurgeQueue operation on the queue is allowed every 60 seconds.")                   \
    X(SQS_OVER_LIMIT, 403, "OverLimit", NULL, "Sender", "The specified action violates a limit.")  \
    X(SQS_UNSUPPORTED_OPERATION, 400, "UnsupportedOperation",                                      \
      "AWS.SimpleQueueService.UnsupportedOperation", "Sender", "Unsupported operation.")           \
    X(SQS_TOO_MANY_ENTRIES, 400, "TooManyEntriesInBatchRequest",                                   \
      "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Sender",                             \
      "Maximum number of entries per request are 10.")                                             \
    X(SQS_BATCH_IDS_NOT_DISTINCT, 400, "BatchEntryIdsNotDistinct",                                 \
      "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Sender",                                 \
      "Two or more batch entries in the request have the same Id.")                                \
    X(SQS_EMPTY_BATCH, 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",       \
      "Sender", "The batch request doesn't contain any entries.")                                  \
    X(SQS_BATCH_TOO_LONG, 400, "BatchRequestTooLong",                                              \
      "AWS.SimpleQueueService.BatchRequestTooLong", "Sender",                                      \
      "Batch requests cannot be longer than 1048576 bytes.")                                       \
    X(SQS_INVALID_BATCH_ENTRY_ID, 400, "InvalidBatchEntryId",                                      \
      "AWS.SimpleQueueService.InvalidBatchEntryId", "Sender",                                      \
      "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It "    \
      "can be at most 80 letters long.")                                                           \
    X(SQS_INVALID_ATTRIBUTE_NAME, 400, "InvalidAttributeName", NULL, "Sender",                     \
      "The specified attribute doesn't exist.")                                                    \
    X(SQS_INVALID_ATTRIBUTE_VALUE, 400, "InvalidAttributeValue", NULL, "Sender",                   \
      "A queue attribute value is invalid.")                                                       \
    X(SQS_INVALID_MESSAGE_CONTENTS, 400, "InvalidMessageContents", NULL, "Sender",                 \
      "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "          \
      "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")                                           \
    X(SQS_INVALID_PARAMETER_VALUE, 400, "InvalidParameterValueException", "InvalidParameterValue", \
      "Sender", "One or more parameters are invalid.")                                             \
    X(SQS_MISSING_PARAMETER, 400, "MissingRequiredParameterException", "MissingParameter",         \
      "Sender", "The request is missing a required parameter.")                                    \
    X(SQS_INVALID_ACTION, 400, "InvalidAction", NULL, "Sender",                                    \
      "The action is not valid for this endpoint.")                                                \
    X(SQS_INVALID_ADDRESS, 404, "InvalidAddress", NULL, "Sender",                                  \
      "The address is not valid for this endpoint.")                                               \
    X(SQS_RESOURCE_NOT_FOUND, 404, "ResourceNotFoundException", NULL, "Sender",                    \
      "One or more specified resources don't exist.")                                              \
    /* EventBridge (JSON 1.1): AWS's messages are the caller's (AWS-RECORDED.md §4) */            \
    X(EVENTS_NOT_FOUND, 400, "ResourceNotFoundException", NULL, "Sender",                         \
      "The resource does not exist.")                                                              \
    X(EVENTS_VALIDATION, 400, "ValidationException", NULL, "Sender",                               \
      "1 validation error detected")                                                               \
    X(EVENTS_INVALID_PATTERN, 400, "InvalidEventPatternException", NULL, "Sender",                 \
      "Event pattern is not valid.")                                                               \
    X(EVENTS_LIMIT_EXCEEDED, 400, "LimitExceededException", NULL, "Sender",                        \
      "The requested resource exceeds the maximum number allowed.")                                \
    X(EVENTS_ALREADY_EXISTS, 400, "ResourceAlreadyExistsException", NULL, "Sender",                \
      "The resource already exists.")                                                              \
    X(EVENTS_INTERNAL, 500, "InternalException", NULL, "Receiver",                                 \
      "An internal error occurred. Try again.")                                                    \
    /* DynamoDB (JSON 1.0): the message is always the caller's; __type prefixes differ */          \
    X(DDB_VALIDATION, 400, "ValidationException", NULL, "Sender", "Invalid request")               \
    X(DDB_SERIALIZATION, 400, "SerializationException", NULL, "Sender", "Invalid request")        \
    X(DDB_RESOURCE_NOT_FOUND, 400, "ResourceNotFoundException", NULL, "Sender",                    \
      "Requested resource not found")                                                              \
    X(DDB_RESOURCE_IN_USE, 400, "ResourceInUseException", NULL, "Sender", "Resource in use")       \
    X(DDB_CONDITIONAL_CHECK_FAILED, 400, "ConditionalCheckFailedException", NULL, "Sender",        \
      "The conditional request failed")                                                            \
    X(DDB_TRANSACTION_CANCELED, 400, "TransactionCanceledException", NULL, "Sender",               \
      "Transaction cancelled")                                                                     \
    X(DDB_TRANSACTION_IN_PROGRESS, 400, "TransactionInProgressException", NULL, "Sender",          \
      "The transaction with the given request token is already in progress.")                      \
    X(DDB_IDEMPOTENT_MISMATCH, 400, "IdempotentParameterMismatchException", NULL, "Sender",        \
      "The request uses the same client token as a previous, but non-identical request.")         \
    X(DDB_LIMIT_EXCEEDED, 400, "LimitExceededException", NULL, "Sender", "Limit exceeded")         \
    X(DDB_TABLE_NOT_FOUND, 400, "TableNotFoundException", NULL, "Sender", "Table not found")       \
    X(DDB_DUPLICATE_ITEM, 400, "DuplicateItemException", NULL, "Sender",                           \
      "Duplicate primary key exists in table")                                                     \
    X(DDB_UNKNOWN_OPERATION, 400, "UnknownOperationException", NULL, "Sender", "")                 \
    X(DDB_INTERNAL, 500, "InternalServerError", NULL, "Receiver", "Internal server error")

enum err {
#define ERR_ENUM(name, status, code, qcode, fault, msg) ERR_##name,
    ERR_MAP(ERR_ENUM)
#undef ERR_ENUM
        ERR__COUNT
};

/* The row's HTTP status, AWS code ("" for ERR_OK), query-protocol code, fault and default
 * message. */
int err_status(enum err e);
const char *err_code(enum err e);
const char *err_query_code(enum err e);
const char *err_fault(enum err e);
const char *err_message(enum err e);

/* The enum name without its prefix ("LAMBDA_NOT_FOUND"), for logs and tests. */
const char *err_name(enum err e);

/*
 * Writes an AWS JSON-protocol error body into out: {"__type":"<prefix><code>","message":msg}
 * (prefix is e.g. "com.amazonaws.dynamodb.v20120810#", or "" for none). REST-JSON services
 * (Lambda) use err_rest_json_body instead. msg NULL means the row's default message.
 * Returns BUF_OK or a buf error.
 */
int err_json_body(enum err e, const char *prefix, const char *msg, struct buf *out);

/* Lambda's REST-JSON error body: {"Type":"User"|"Service","message":msg}; the caller also
 * sends the header "X-Amzn-ErrorType: <code>". msg NULL means the default message. */
int err_rest_json_body(enum err e, const char *msg, struct buf *out);

/* Query-protocol XML error body (ErrorResponse/Error/Type,Code,Message,Detail + RequestId),
 * with the row's query code. */
int err_xml_body(enum err e, const char *msg, const char *request_id, struct buf *out);

#endif
