/*
 * err.h — every AWS-shaped error haar answers, from one table (STYLE.md rule 5).
 *
 * Each row: enum name, HTTP status, AWS error code, fault ("Sender" = the caller's,
 * "Receiver" = ours), default message. The same code can have a different status in
 * different services (Lambda's ResourceNotFoundException is 404, CloudWatch Logs' is
 * 400), so rows are per service. Add a row here rather than writing an error body by hand.
 * The table is constant; every function here is thread-safe.
 */
#ifndef HAAR_CORE_ERR_H
#define HAAR_CORE_ERR_H

#include "core/buf.h"

#define ERR_MAP(X)                                                                                 \
    X(OK, 200, "", "", "")                                                                         \
    /* generic, any service */                                                                     \
    X(UNKNOWN_OPERATION, 400, "UnknownOperationException", "Sender", "Unknown operation")          \
    X(SERIALIZATION, 400, "SerializationException", "Sender", "The request body is not valid JSON") \
    X(MISSING_AUTH, 403, "MissingAuthenticationTokenException", "Sender",                          \
      "Missing Authentication Token")                                                              \
    X(UNRECOGNIZED_CLIENT, 403, "UnrecognizedClientException", "Sender",                           \
      "The security token included in the request is invalid.")                                   \
    X(INVALID_SIGNATURE, 403, "InvalidSignatureException", "Sender",                               \
      "The request signature we calculated does not match the signature you provided.")            \
    X(INCOMPLETE_SIGNATURE, 403, "IncompleteSignatureException", "Sender",                         \
      "The request signature does not conform to AWS standards.")                                 \
    X(INTERNAL, 500, "InternalFailure", "Receiver", "The request processing has failed.")          \
    /* Lambda (REST-JSON) */                                                                       \
    X(LAMBDA_NOT_FOUND, 404, "ResourceNotFoundException", "Sender", "Function not found")          \
    X(LAMBDA_CONFLICT, 409, "ResourceConflictException", "Sender", "Function already exist")       \
    X(LAMBDA_INVALID_PARAMETER, 400, "InvalidParameterValueException", "Sender",                   \
      "Invalid parameter value")                                                                   \
    X(LAMBDA_INVALID_CONTENT, 400, "InvalidRequestContentException", "Sender",                     \
      "Could not parse request body into json")                                                    \
    X(LAMBDA_TOO_LARGE, 413, "RequestTooLargeException", "Sender",                                 \
      "Request must be smaller than 6291456 bytes for the InvokeFunction operation")               \
    X(LAMBDA_ENTITY_TOO_LARGE, 413, "RequestEntityTooLargeException", "Sender",                   \
      "Request must be smaller than 6291456 bytes for the InvokeFunction operation")               \
    X(LAMBDA_TOO_MANY_REQUESTS, 429, "TooManyRequestsException", "Sender", "Rate Exceeded.")       \
    X(LAMBDA_UNSUPPORTED_MEDIA, 415, "UnsupportedMediaTypeException", "Sender",                    \
      "The content type is not supported")                                                         \
    X(LAMBDA_CODE_STORAGE, 400, "CodeStorageExceededException", "Sender",                          \
      "Code storage limit exceeded")                                                               \
    X(LAMBDA_NOT_READY, 502, "ResourceNotReadyException", "Receiver",                              \
      "The function is not ready")                                                                 \
    X(LAMBDA_SERVICE, 500, "ServiceException", "Receiver", "The Lambda service encountered an internal error") \
    X(LAMBDA_VALIDATION, 400, "ValidationException", "Sender", "1 validation error detected")      \
    X(LAMBDA_INVALID_RUNTIME_ID, 400, "InvalidRequestID", "Sender", "Invalid request ID")         \
    X(LAMBDA_PRECONDITION, 412, "PreconditionFailedException", "Sender", "Precondition failed")    \
    /* CloudWatch Logs (JSON 1.1) */                                                               \
    X(LOGS_NOT_FOUND, 400, "ResourceNotFoundException", "Sender",                                  \
      "The specified log group does not exist.")                                                   \
    X(LOGS_ALREADY_EXISTS, 400, "ResourceAlreadyExistsException", "Sender",                        \
      "The specified log group already exists")                                                    \
    X(LOGS_INVALID_PARAMETER, 400, "InvalidParameterException", "Sender", "Invalid parameter")     \
    X(LOGS_TOO_MANY_TAGS, 400, "TooManyTagsException", "Sender",                                   \
      "A resource can have no more than 50 tags.")                                                 \
    /* DynamoDB (JSON 1.0): the message is always the caller's; __type prefixes differ */          \
    X(DDB_VALIDATION, 400, "ValidationException", "Sender", "Invalid request")                     \
    X(DDB_SERIALIZATION, 400, "SerializationException", "Sender", "Invalid request")

enum err {
#define ERR_ENUM(name, status, code, fault, msg) ERR_##name,
    ERR_MAP(ERR_ENUM)
#undef ERR_ENUM
    ERR__COUNT
};

/* The row's HTTP status, AWS code ("" for ERR_OK), fault and default message. */
int err_status(enum err e);
const char *err_code(enum err e);
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

/* SQS query-protocol XML error body (ErrorResponse/Error/Type,Code,Message + RequestId). */
int err_xml_body(enum err e, const char *code_override, const char *msg, const char *request_id,
                 struct buf *out);

#endif
