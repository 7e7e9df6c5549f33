/* Unit tests: sqs/errors.c — every SQS_ row of err.h has its query code, __type namespace and
 * status (AWS-RECORDED.md §1.0, botocore's query-era model), and the bodies both protocols
 * build from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cloud/sqs/errors.h"

static const struct {
    enum err e;
    int status;
    const char *json;  /* the JSON shape (err_code) */
    const char *query; /* the query code */
    const char *ns;
} rows[] = {
    {ERR_SQS_QUEUE_DOES_NOT_EXIST, 400, "QueueDoesNotExist",
     "AWS.SimpleQueueService.NonExistentQueue", "com.amazonaws.sqs#"},
    {ERR_SQS_QUEUE_NAME_EXISTS, 400, "QueueNameExists", "QueueAlreadyExists", "com.amazonaws.sqs#"},
    {ERR_SQS_QUEUE_DELETED_RECENTLY, 400, "QueueDeletedRecently",
     "AWS.SimpleQueueService.QueueDeletedRecently", "com.amazonaws.sqs#"},
    {ERR_SQS_RECEIPT_HANDLE_INVALID, 400, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid",
     "com.amazonaws.sqs#"},
    {ERR_SQS_MESSAGE_NOT_INFLIGHT, 400, "MessageNotInflight",
     "AWS.SimpleQueueService.MessageNotInflight", "com.amazonaws.sqs#"},
    {ERR_SQS_PURGE_IN_PROGRESS, 403, "PurgeQueueInProgress",
     "AWS.SimpleQueueService.PurgeQueueInProgress", "com.amazonaws.sqs#"},
    {ERR_SQS_OVER_LIMIT, 403, "OverLimit", "OverLimit", "com.amazonaws.sqs#"},
    {ERR_SQS_UNSUPPORTED_OPERATION, 400, "UnsupportedOperation",
     "AWS.SimpleQueueService.UnsupportedOperation", "com.amazonaws.sqs#"},
    {ERR_SQS_TOO_MANY_ENTRIES, 400, "TooManyEntriesInBatchRequest",
     "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "com.amazonaws.sqs#"},
    {ERR_SQS_BATCH_IDS_NOT_DISTINCT, 400, "BatchEntryIdsNotDistinct",
     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "com.amazonaws.sqs#"},
    {ERR_SQS_EMPTY_BATCH, 400, "EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest",
     "com.amazonaws.sqs#"},
    {ERR_SQS_BATCH_TOO_LONG, 400, "BatchRequestTooLong",
     "AWS.SimpleQueueService.BatchRequestTooLong", "com.amazonaws.sqs#"},
    {ERR_SQS_INVALID_BATCH_ENTRY_ID, 400, "InvalidBatchEntryId",
     "AWS.SimpleQueueService.InvalidBatchEntryId", "com.amazonaws.sqs#"},
    {ERR_SQS_INVALID_ATTRIBUTE_NAME, 400, "InvalidAttributeName", "InvalidAttributeName",
     "com.amazonaws.sqs#"},
    {ERR_SQS_INVALID_ATTRIBUTE_VALUE, 400, "InvalidAttributeValue", "InvalidAttributeValue",
     "com.amazonaws.sqs#"},
    {ERR_SQS_INVALID_MESSAGE_CONTENTS, 400, "InvalidMessageContents", "InvalidMessageContents",
     "com.amazonaws.sqs#"},
    {ERR_SQS_INVALID_PARAMETER_VALUE, 400, "InvalidParameterValueException",
     "InvalidParameterValue", "com.amazon.coral.service#"},
    {ERR_SQS_MISSING_PARAMETER, 400, "MissingRequiredParameterException", "MissingParameter",
     "com.amazon.coral.service#"},
    {ERR_SQS_INVALID_ACTION, 400, "InvalidAction", "InvalidAction", "com.amazonaws.sqs#"},
    {ERR_SQS_INVALID_ADDRESS, 404, "InvalidAddress", "InvalidAddress", "com.amazonaws.sqs#"},
    {ERR_SQS_RESOURCE_NOT_FOUND, 404, "ResourceNotFoundException", "ResourceNotFoundException",
     "com.amazonaws.sqs#"},
};

static void test_rows(void **state)
{
    (void)state;
    size_t sqs_rows = 0;
    for (int e = 0; e < ERR__COUNT; e++)
        if (strncmp(err_name((enum err)e), "SQS_", 4) == 0)
            sqs_rows++;
    assert_int_equal(sqs_rows, sizeof(rows) / sizeof(rows[0])); /* every row is mapped here */
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_true(sqs_err_is_sqs(rows[i].e));
        assert_int_equal(err_status(rows[i].e), rows[i].status);
        assert_string_equal(err_code(rows[i].e), rows[i].json);
        assert_string_equal(err_query_code(rows[i].e), rows[i].query);
        assert_string_equal(sqs_err_json_namespace(rows[i].e), rows[i].ns);
        assert_string_equal(err_fault(rows[i].e), "Sender");
        assert_true(strlen(err_message(rows[i].e)) > 0);
    }
    assert_false(sqs_err_is_sqs(ERR_LAMBDA_NOT_FOUND));
    assert_string_equal(err_query_code(ERR_LAMBDA_NOT_FOUND), "ResourceNotFoundException");
    assert_string_equal(sqs_err_json_namespace(ERR_LAMBDA_NOT_FOUND), "");
}

static void test_bodies(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    /* JSON: what AWS answers for a missing queue (AWS-RECORDED.md §1.0) */
    enum err e = ERR_SQS_QUEUE_DOES_NOT_EXIST;
    assert_int_equal(err_json_body(e, sqs_err_json_namespace(e), NULL, &b), BUF_OK);
    assert_string_equal(b.data, "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\","
                                "\"message\":\"The specified queue does not exist.\"}");
    buf_reset(&b);
    /* query: the legacy code in <Code> */
    assert_string_equal(err_query_code(e), "AWS.SimpleQueueService.NonExistentQueue");
    assert_int_equal(
        err_xml_body(e, "The specified queue does not exist for this wsdl version.", "rid", &b),
        BUF_OK);
    assert_non_null(strstr(b.data, "<Type>Sender</Type><Code>AWS.SimpleQueueService."
                                   "NonExistentQueue</Code><Message>The specified queue does "
                                   "not exist for this wsdl version.</Message><Detail/>"));
    buf_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
