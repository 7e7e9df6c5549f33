/* errors.c — see errors.h. Source: AWS-RECORDED.md §1.0 (the coral namespace of the two
 * generic shapes). The query-protocol codes are src/core/err.h's column. */
#include "cloud/sqs/errors.h"

#include <stddef.h>

#define NS_SQS   "com.amazonaws.sqs#"
#define NS_CORAL "com.amazon.coral.service#"

struct sqs_err_row {
    enum err e;
    const char *ns;
};

static const struct sqs_err_row rows[] = {
    {ERR_SQS_QUEUE_DOES_NOT_EXIST, NS_SQS},
    {ERR_SQS_QUEUE_NAME_EXISTS, NS_SQS},
    {ERR_SQS_QUEUE_DELETED_RECENTLY, NS_SQS},
    {ERR_SQS_RECEIPT_HANDLE_INVALID, NS_SQS},
    {ERR_SQS_MESSAGE_NOT_INFLIGHT, NS_SQS},
    {ERR_SQS_PURGE_IN_PROGRESS, NS_SQS},
    {ERR_SQS_OVER_LIMIT, NS_SQS},
    {ERR_SQS_UNSUPPORTED_OPERATION, NS_SQS},
    {ERR_SQS_TOO_MANY_ENTRIES, NS_SQS},
    {ERR_SQS_BATCH_IDS_NOT_DISTINCT, NS_SQS},
    {ERR_SQS_EMPTY_BATCH, NS_SQS},
    {ERR_SQS_BATCH_TOO_LONG, NS_SQS},
    {ERR_SQS_INVALID_BATCH_ENTRY_ID, NS_SQS},
    {ERR_SQS_INVALID_ATTRIBUTE_NAME, NS_SQS},
    {ERR_SQS_INVALID_ATTRIBUTE_VALUE, NS_SQS},
    {ERR_SQS_INVALID_MESSAGE_CONTENTS, NS_SQS},
    {ERR_SQS_INVALID_PARAMETER_VALUE, NS_CORAL},
    {ERR_SQS_MISSING_PARAMETER, NS_CORAL},
    {ERR_SQS_INVALID_ACTION, NS_SQS},
    {ERR_SQS_INVALID_ADDRESS, NS_SQS},
    {ERR_SQS_RESOURCE_NOT_FOUND, NS_SQS},
};

static const struct sqs_err_row *find(enum err e)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].e == e)
            return &rows[i];
    return NULL;
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
