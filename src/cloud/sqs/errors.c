/* errors.c — see errors.h. Sources: botocore's query-era SQS model (error codes and statuses),
 * AWS-RECORDED.md §1.0 (the JSON/query pairs and the coral namespace). */
#include "cloud/sqs/errors.h"

#include <stddef.h>

#define NS_SQS   "com.amazonaws.sqs#"
#define NS_CORAL "com.amazon.coral.service#"

struct sqs_err_row {
    enum err e;
    const char *query_code;
    const char *ns;
};

static const struct sqs_err_row rows[] = {
    {ERR_SQS_QUEUE_DOES_NOT_EXIST, "AWS.SimpleQueueService.NonExistentQueue", NS_SQS},
    {ERR_SQS_QUEUE_NAME_EXISTS, "QueueAlreadyExists", NS_SQS},
    {ERR_SQS_QUEUE_DELETED_RECENTLY, "AWS.SimpleQueueService.QueueDeletedRecently", NS_SQS},
    {ERR_SQS_RECEIPT_HANDLE_INVALID, "ReceiptHandleIsInvalid", NS_SQS},
    {ERR_SQS_MESSAGE_NOT_INFLIGHT, "AWS.SimpleQueueService.MessageNotInflight", NS_SQS},
    {ERR_SQS_PURGE_IN_PROGRESS, "AWS.SimpleQueueService.PurgeQueueInProgress", NS_SQS},
    {ERR_SQS_OVER_LIMIT, "OverLimit", NS_SQS},
    {ERR_SQS_UNSUPPORTED_OPERATION, "AWS.SimpleQueueService.UnsupportedOperation", NS_SQS},
    {ERR_SQS_TOO_MANY_ENTRIES, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", NS_SQS},
    {ERR_SQS_BATCH_IDS_NOT_DISTINCT, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", NS_SQS},
    {ERR_SQS_EMPTY_BATCH, "AWS.SimpleQueueService.EmptyBatchRequest", NS_SQS},
    {ERR_SQS_BATCH_TOO_LONG, "AWS.SimpleQueueService.BatchRequestTooLong", NS_SQS},
    {ERR_SQS_INVALID_BATCH_ENTRY_ID, "AWS.SimpleQueueService.InvalidBatchEntryId", NS_SQS},
    {ERR_SQS_INVALID_ATTRIBUTE_NAME, "InvalidAttributeName", NS_SQS},
    {ERR_SQS_INVALID_ATTRIBUTE_VALUE, "InvalidAttributeValue", NS_SQS},
    {ERR_SQS_INVALID_MESSAGE_CONTENTS, "InvalidMessageContents", NS_SQS},
    {ERR_SQS_INVALID_PARAMETER_VALUE, "InvalidParameterValue", NS_CORAL},
    {ERR_SQS_MISSING_PARAMETER, "MissingParameter", NS_CORAL},
    {ERR_SQS_INVALID_ACTION, "InvalidAction", NS_SQS},
    {ERR_SQS_INVALID_ADDRESS, "InvalidAddress", NS_SQS},
    {ERR_SQS_RESOURCE_NOT_FOUND, "ResourceNotFoundException", NS_SQS},
};

static const struct sqs_err_row *find(enum err e)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].e == e)
            return &rows[i];
    return NULL;
}

const char *sqs_err_query_code(enum err e)
{
    return err_query_code(e);
}

const char *sqs_err_json_namespace(enum err e)
{
    const struct sqs_err_row *r = find(e);
    return r ? r->ns : "";
}

bool sqs_err_is_sqs(enum err e)
{
    return find(e) != NULL;
}
