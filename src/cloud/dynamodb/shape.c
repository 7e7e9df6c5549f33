/*
 * shape.c — every operation's request members as tables, and Coral's type and constraint
 * passes over them (see shape.h).
 */
#include "cloud/dynamodb/shape.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cloud/dynamodb/value.h"
#include "core/buf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- enum value sets, in the order DynamoDB prints them ---- */

static const char *const E_RCC[] = {"INDEXES", "TOTAL", "NONE", NULL};
static const char *const E_RICM[] = {"SIZE", "NONE", NULL};
static const char *const E_RV[] = {"ALL_NEW", "UPDATED_OLD", "ALL_OLD",
                                   "NONE",    "UPDATED_NEW", NULL};
static const char *const E_RVCCF[] = {"ALL_OLD", "NONE", NULL};
static const char *const E_COND_OP[] = {"OR", "AND", NULL};
static const char *const E_CMP[] = {"IN",          "NULL", "BETWEEN",  "LT", "NOT_CONTAINS",
                                    "EQ",          "GT",   "NOT_NULL", "NE", "LE",
                                    "BEGINS_WITH", "GE",   "CONTAINS", NULL};
static const char *const E_SELECT[] = {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES",
                                       "ALL_PROJECTED_ATTRIBUTES", NULL};
static const char *const E_ACTION[] = {"ADD", "DELETE", "PUT", NULL};
static const char *const E_ATTR_TYPE[] = {"B", "N", "S", NULL};
static const char *const E_KEY_TYPE[] = {"HASH", "RANGE", NULL};
static const char *const E_PROJECTION[] = {"ALL", "INCLUDE", "KEYS_ONLY", NULL};
static const char *const E_BILLING[] = {"PROVISIONED", "PAY_PER_REQUEST", NULL};
static const char *const E_STREAM_VIEW[] = {"NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES",
                                            "KEYS_ONLY", NULL};
static const char *const E_SSE_TYPE[] = {"AES256", "KMS", NULL};
static const char *const E_TABLE_CLASS[] = {"STANDARD", "STANDARD_INFREQUENT_ACCESS", NULL};

/* ---- building blocks ---- */

/* clang-format off */

#define STR(n)           {n, DDB_SH_STRING, 0, 0, 0, 0, 0, NULL, NULL}
#define STRF(n, f, a, b) {n, DDB_SH_STRING, (f), 0, 0, (a), (b), NULL, NULL}
#define ENUM(n, e)       {n, DDB_SH_STRING, 0, 0, 0, 0, 0, e, NULL}
#define ENUMNN(n, e)     {n, DDB_SH_STRING, DDB_SH_NOTNULL, 0, 0, 0, 0, e, NULL}
#define BOOL(n)          {n, DDB_SH_BOOL, 0, 0, 0, 0, 0, NULL, NULL}
#define BOOLNN(n)        {n, DDB_SH_BOOL, DDB_SH_NOTNULL, 0, 0, 0, 0, NULL, NULL}
#define ATTR(n)          {n, DDB_SH_ATTR, 0, 0, 0, 0, 0, NULL, NULL}
#define ITEM(n)          {n, DDB_SH_ITEM, 0, 0, 0, 0, 0, NULL, NULL}
#define ITEMNN(n)        {n, DDB_SH_ITEM, DDB_SH_NOTNULL, 0, 0, 0, 0, NULL, NULL}
#define STRUCT(n, f, m)  {n, DDB_SH_STRUCT, (f), 0, 0, 0, 0, NULL, m}
#define LIST(n, f, a, b, e) {n, DDB_SH_LIST, (f), 0, 0, (a), (b), NULL, e}
#define MAP(n, f, e)     {n, DDB_SH_MAP, (f), 0, 0, 0, 0, NULL, e}
#define END              {NULL, DDB_SH_END, 0, 0, 0, 0, 0, NULL, NULL}

#define NAME_FLAGS (DDB_SH_NOTNULL | DDB_SH_NAMEPAT | DDB_SH_MINLEN | DDB_SH_MAXLEN)
#define TABLE_NAME STRF("TableName", NAME_FLAGS, 3, 255)
#define TABLE_NAME_REQUIRED                                                                       \
    {"TableName", DDB_SH_STRING, DDB_SH_REQUIRED | DDB_SH_TABLENAME | DDB_SH_NAMEPAT, 0, 0, 0, 0, \
     NULL, NULL}
#define INDEX_NAME STRF("IndexName", DDB_SH_NAMEPAT | DDB_SH_MINLEN | DDB_SH_MAXLEN, 3, 255)
#define INDEX_NAME_NN STRF("IndexName", NAME_FLAGS, 3, 255)

static const struct ddb_shape S_STRING[] = {STR("member")};
static const struct ddb_shape S_ATTR[] = {ATTR("member")};
static const struct ddb_shape S_ITEM[] = {ITEM("member")};

#define RCC       ENUM("ReturnConsumedCapacity", E_RCC)
#define RICM      ENUM("ReturnItemCollectionMetrics", E_RICM)
#define EAN       MAP("ExpressionAttributeNames", 0, S_STRING)
#define EAV       ITEM("ExpressionAttributeValues")
#define ATTRS_GET LIST("AttributesToGet", DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 255, S_STRING)

/* Expected */
static const struct ddb_shape S_EXPECTED_ENTRY[] = {
    LIST("AttributeValueList", 0, 0, 0, S_ATTR),
    ENUM("ComparisonOperator", E_CMP),
    BOOL("Exists"),
    ATTR("Value"),
    END,
};
static const struct ddb_shape S_EXPECTED_ELEM[] = {STRUCT("member", 0, S_EXPECTED_ENTRY)};
#define EXPECTED MAP("Expected", 0, S_EXPECTED_ELEM)

/* KeyConditions, QueryFilter, ScanFilter */
static const struct ddb_shape S_CONDITION_ENTRY[] = {
    LIST("AttributeValueList", 0, 0, 0, S_ATTR),
    ENUMNN("ComparisonOperator", E_CMP),
    END,
};
static const struct ddb_shape S_CONDITION_ELEM[] = {STRUCT("member", 0, S_CONDITION_ENTRY)};

/* AttributeUpdates */
static const struct ddb_shape S_UPDATE_ENTRY[] = {
    ENUM("Action", E_ACTION),
    ATTR("Value"),
    END,
};
static const struct ddb_shape S_UPDATE_ELEM[] = {STRUCT("member", 0, S_UPDATE_ENTRY)};

/* ---- item operations ---- */

static const struct ddb_shape S_PUT_ITEM[] = {
    RCC,
    TABLE_NAME,
    ITEMNN("Item"),
    ENUM("ConditionalOperator", E_COND_OP),
    EXPECTED,
    ENUM("ReturnValues", E_RV),
    RICM,
    STR("ConditionExpression"),
    EAV,
    EAN,
    ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    END,
};

static const struct ddb_shape S_GET_ITEM[] = {
    RCC, ATTRS_GET, TABLE_NAME, ITEMNN("Key"), BOOL("ConsistentRead"), STR("ProjectionExpression"),
    EAN, END,
};

static const struct ddb_shape S_UPDATE_ITEM[] = {
    RCC,
    TABLE_NAME,
    RICM,
    ENUM("ReturnValues", E_RV),
    ITEMNN("Key"),
    ENUM("ConditionalOperator", E_COND_OP),
    EXPECTED,
    MAP("AttributeUpdates", 0, S_UPDATE_ELEM),
    STR("ConditionExpression"),
    STR("UpdateExpression"),
    EAV,
    EAN,
    ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    END,
};

static const struct ddb_shape S_DELETE_ITEM[] = {
    RCC,
    TABLE_NAME,
    ENUM("ReturnValues", E_RV),
    RICM,
    ITEMNN("Key"),
    ENUM("ConditionalOperator", E_COND_OP),
    EXPECTED,
    STR("ConditionExpression"),
    EAV,
    EAN,
    ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    END,
};

static const struct ddb_shape S_QUERY[] = {
    {"Limit", DDB_SH_INT, DDB_SH_MIN, 1, 0, 0, 0, NULL, NULL},
    ITEM("ExclusiveStartKey"),
    RCC,
    ATTRS_GET,
    MAP("QueryFilter", 0, S_CONDITION_ELEM),
    ENUM("Select", E_SELECT),
    ENUM("ConditionalOperator", E_COND_OP),
    MAP("KeyConditions", 0, S_CONDITION_ELEM),
    TABLE_NAME,
    BOOL("ConsistentRead"),
    INDEX_NAME,
    BOOL("ScanIndexForward"),
    STR("KeyConditionExpression"),
    STR("FilterExpression"),
    STR("ProjectionExpression"),
    EAV,
    EAN,
    END,
};

static const struct ddb_shape S_SCAN[] = {
    {"Limit", DDB_SH_INT, DDB_SH_MIN, 1, 0, 0, 0, NULL, NULL},
    RCC,
    ATTRS_GET,
    {"Segment", DDB_SH_INT, DDB_SH_MIN | DDB_SH_MAX, 0, 999999, 0, 0, NULL, NULL},
    ENUM("Select", E_SELECT),
    MAP("ScanFilter", 0, S_CONDITION_ELEM),
    ENUM("ConditionalOperator", E_COND_OP),
    {"TotalSegments", DDB_SH_INT, DDB_SH_MIN | DDB_SH_MAX, 1, 1000000, 0, 0, NULL, NULL},
    TABLE_NAME,
    ITEM("ExclusiveStartKey"),
    INDEX_NAME,
    BOOL("ConsistentRead"),
    STR("FilterExpression"),
    STR("ProjectionExpression"),
    EAV,
    EAN,
    END,
};

/* BatchGetItem */
static const struct ddb_shape S_KEYS_AND_ATTRS[] = {
    LIST("Keys", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 100, S_ITEM),
    ATTRS_GET,
    BOOL("ConsistentRead"),
    STR("ProjectionExpression"),
    EAN,
    END,
};
static const struct ddb_shape S_KEYS_AND_ATTRS_ELEM[] = {STRUCT("member", 0, S_KEYS_AND_ATTRS)};
static const struct ddb_shape S_BATCH_GET[] = {
    RCC,
    {"RequestItems", DDB_SH_MAP, DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_TABLEKEYS, 0, 0, 1, 0,
     NULL, S_KEYS_AND_ATTRS_ELEM},
    END,
};

/* BatchWriteItem */
static const struct ddb_shape S_PUT_REQUEST[] = {ITEMNN("Item"), END};
static const struct ddb_shape S_DELETE_REQUEST[] = {ITEMNN("Key"), END};
static const struct ddb_shape S_WRITE_REQUEST[] = {
    STRUCT("DeleteRequest", 0, S_DELETE_REQUEST),
    STRUCT("PutRequest", 0, S_PUT_REQUEST),
    END,
};
static const struct ddb_shape S_WRITE_REQUEST_ELEM[] = {STRUCT("member", 0, S_WRITE_REQUEST)};
static const struct ddb_shape S_WRITE_LIST[] = {LIST("member", 0, 1, 25, S_WRITE_REQUEST_ELEM)};
static const struct ddb_shape S_BATCH_WRITE[] = {
    RCC,
    RICM,
    {"RequestItems", DDB_SH_MAP,
     DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_TABLEKEYS | DDB_SH_VALLEN, 0, 0, 1, 0, NULL,
     S_WRITE_LIST},
    END,
};

/* TransactWriteItems */
#define TX_TABLE STRF("TableName", NAME_FLAGS, 3, 255)
static const struct ddb_shape S_TX_PUT[] = {
    TX_TABLE, EAV, EAN, ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    STR("ConditionExpression"), ITEMNN("Item"), END,
};
static const struct ddb_shape S_TX_UPDATE[] = {
    TX_TABLE, EAV, EAN, ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    STR("ConditionExpression"), ITEMNN("Key"), {"UpdateExpression", DDB_SH_STRING, DDB_SH_NOTNULL, 0, 0, 0, 0, NULL, NULL}, END,
};
static const struct ddb_shape S_TX_DELETE[] = {
    TX_TABLE, EAV, EAN, ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    STR("ConditionExpression"), ITEMNN("Key"), END,
};
static const struct ddb_shape S_TX_CHECK[] = {
    TX_TABLE, EAV, EAN, ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    {"ConditionExpression", DDB_SH_STRING, DDB_SH_NOTNULL, 0, 0, 0, 0, NULL, NULL},
    ITEMNN("Key"), END,
};
static const struct ddb_shape S_TX_WRITE_ITEM[] = {
    STRUCT("ConditionCheck", 0, S_TX_CHECK),
    STRUCT("Put", 0, S_TX_PUT),
    STRUCT("Delete", 0, S_TX_DELETE),
    STRUCT("Update", 0, S_TX_UPDATE),
    END,
};
static const struct ddb_shape S_TX_WRITE_ELEM[] = {STRUCT("member", 0, S_TX_WRITE_ITEM)};
static const struct ddb_shape S_TRANSACT_WRITE[] = {
    RCC,
    RICM,
    STRF("ClientRequestToken", DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 36),
    LIST("TransactItems", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 100, S_TX_WRITE_ELEM),
    END,
};

/* TransactGetItems */
static const struct ddb_shape S_TX_GET[] = {
    ITEMNN("Key"), TX_TABLE, STR("ProjectionExpression"), EAN, END,
};
static const struct ddb_shape S_TX_GET_ITEM[] = {STRUCT("Get", DDB_SH_NOTNULL, S_TX_GET), END};
static const struct ddb_shape S_TX_GET_ELEM[] = {STRUCT("member", 0, S_TX_GET_ITEM)};
static const struct ddb_shape S_TRANSACT_GET[] = {
    LIST("TransactItems", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 100, S_TX_GET_ELEM),
    RCC,
    END,
};

/* PartiQL */
static const struct ddb_shape S_EXECUTE_STATEMENT[] = {
    STRF("Statement", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 8192),
    LIST("Parameters", DDB_SH_MINLEN, 1, 0, S_ATTR),
    BOOL("ConsistentRead"),
    STRF("NextToken", DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 32768),
    RCC,
    {"Limit", DDB_SH_INT, DDB_SH_MIN, 1, 0, 0, 0, NULL, NULL},
    ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    END,
};
static const struct ddb_shape S_BATCH_STATEMENT[] = {
    STRF("Statement", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 8192),
    LIST("Parameters", DDB_SH_MINLEN, 1, 0, S_ATTR),
    BOOL("ConsistentRead"),
    ENUM("ReturnValuesOnConditionCheckFailure", E_RVCCF),
    END,
};
static const struct ddb_shape S_BATCH_STATEMENT_ELEM[] = {STRUCT("member", 0, S_BATCH_STATEMENT)};
static const struct ddb_shape S_BATCH_EXECUTE[] = {
    LIST("Statements", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 25,
         S_BATCH_STATEMENT_ELEM),
    RCC,
    END,
};

/* ---- tables ---- */

static const struct ddb_shape S_ATTR_DEF[] = {
    STRF("AttributeName", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 255),
    ENUMNN("AttributeType", E_ATTR_TYPE),
    END,
};
static const struct ddb_shape S_ATTR_DEF_ELEM[] = {STRUCT("member", 0, S_ATTR_DEF)};
static const struct ddb_shape S_THROUGHPUT[] = {
    {"WriteCapacityUnits", DDB_SH_LONG, DDB_SH_NOTNULL | DDB_SH_MIN, 1, 0, 0, 0, NULL, NULL},
    {"ReadCapacityUnits", DDB_SH_LONG, DDB_SH_NOTNULL | DDB_SH_MIN, 1, 0, 0, 0, NULL, NULL},
    END,
};
static const struct ddb_shape S_KEY_ELEMENT[] = {
    STRF("AttributeName", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 255),
    ENUMNN("KeyType", E_KEY_TYPE),
    END,
};
static const struct ddb_shape S_KEY_ELEMENT_ELEM[] = {STRUCT("member", 0, S_KEY_ELEMENT)};
static const struct ddb_shape S_INDEX_KEY_ELEMENT[] = {
    STRF("AttributeName", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 255),
    {"KeyType", DDB_SH_STRING, DDB_SH_NOTNULL, 0, 0, 0, 0, NULL, NULL},
    END,
};
static const struct ddb_shape S_INDEX_KEY_ELEMENT_ELEM[] = {STRUCT("member", 0, S_INDEX_KEY_ELEMENT)};
#define KEY_SCHEMA                                                                                \
    LIST("KeySchema", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 2, S_KEY_ELEMENT_ELEM)
#define INDEX_KEY_SCHEMA                                                                          \
    LIST("KeySchema", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 2,                      \
         S_INDEX_KEY_ELEMENT_ELEM)
static const struct ddb_shape S_PROJECTION[] = {
    ENUM("ProjectionType", E_PROJECTION),
    LIST("NonKeyAttributes", DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 20, S_STRING),
    END,
};
static const struct ddb_shape S_LSI[] = {
    STRUCT("Projection", DDB_SH_NOTNULL, S_PROJECTION),
    INDEX_NAME_NN,
    INDEX_KEY_SCHEMA,
    END,
};
static const struct ddb_shape S_LSI_ELEM[] = {STRUCT("member", 0, S_LSI)};
static const struct ddb_shape S_GSI[] = {
    STRUCT("Projection", DDB_SH_NOTNULL, S_PROJECTION),
    INDEX_NAME_NN,
    STRUCT("ProvisionedThroughput", 0, S_THROUGHPUT),
    INDEX_KEY_SCHEMA,
    END,
};
static const struct ddb_shape S_GSI_ELEM[] = {STRUCT("member", 0, S_GSI)};
static const struct ddb_shape S_STREAM_SPEC[] = {
    BOOLNN("StreamEnabled"),
    ENUM("StreamViewType", E_STREAM_VIEW),
    END,
};
static const struct ddb_shape S_SSE_SPEC[] = {
    BOOL("Enabled"),
    ENUM("SSEType", E_SSE_TYPE),
    STR("KMSMasterKeyId"),
    END,
};
static const struct ddb_shape S_TAG[] = {
    STRF("Key", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 128),
    STRF("Value", DDB_SH_NOTNULL | DDB_SH_MAXLEN, 0, 256),
    END,
};
static const struct ddb_shape S_TAG_ELEM[] = {STRUCT("member", 0, S_TAG)};

static const struct ddb_shape S_CREATE_TABLE[] = {
    LIST("AttributeDefinitions", DDB_SH_NOTNULL, 0, 0, S_ATTR_DEF_ELEM),
    TABLE_NAME_REQUIRED,
    STRUCT("ProvisionedThroughput", 0, S_THROUGHPUT),
    KEY_SCHEMA,
    LIST("LocalSecondaryIndexes", 0, 0, 0, S_LSI_ELEM),
    LIST("GlobalSecondaryIndexes", 0, 0, 0, S_GSI_ELEM),
    ENUM("BillingMode", E_BILLING),
    STRUCT("StreamSpecification", 0, S_STREAM_SPEC),
    STRUCT("SSESpecification", 0, S_SSE_SPEC),
    LIST("Tags", 0, 0, 0, S_TAG_ELEM),
    ENUM("TableClass", E_TABLE_CLASS),
    BOOL("DeletionProtectionEnabled"),
    END,
};

static const struct ddb_shape S_GSI_UPDATE_UPDATE[] = {
    INDEX_NAME_NN,
    STRUCT("ProvisionedThroughput", 0, S_THROUGHPUT),
    END,
};
static const struct ddb_shape S_GSI_UPDATE_DELETE[] = {INDEX_NAME_NN, END};
static const struct ddb_shape S_GSI_UPDATE[] = {
    STRUCT("Update", 0, S_GSI_UPDATE_UPDATE),
    STRUCT("Create", 0, S_GSI),
    STRUCT("Delete", 0, S_GSI_UPDATE_DELETE),
    END,
};
static const struct ddb_shape S_GSI_UPDATE_ELEM[] = {STRUCT("member", 0, S_GSI_UPDATE)};
static const struct ddb_shape S_UPDATE_TABLE[] = {
    TABLE_NAME_REQUIRED,
    STRUCT("ProvisionedThroughput", 0, S_THROUGHPUT),
    LIST("GlobalSecondaryIndexUpdates", 0, 0, 0, S_GSI_UPDATE_ELEM),
    LIST("AttributeDefinitions", 0, 0, 0, S_ATTR_DEF_ELEM),
    ENUM("BillingMode", E_BILLING),
    STRUCT("StreamSpecification", 0, S_STREAM_SPEC),
    STRUCT("SSESpecification", 0, S_SSE_SPEC),
    ENUM("TableClass", E_TABLE_CLASS),
    BOOL("DeletionProtectionEnabled"),
    END,
};

static const struct ddb_shape S_TABLE_ONLY[] = {TABLE_NAME_REQUIRED, END};

static const struct ddb_shape S_LIST_TABLES[] = {
    {"Limit", DDB_SH_INT, DDB_SH_MIN | DDB_SH_MAX, 1, 100, 0, 0, NULL, NULL},
    STRF("ExclusiveStartTableName", DDB_SH_NAMEPAT | DDB_SH_MINLEN | DDB_SH_MAXLEN, 3, 255),
    END,
};

static const struct ddb_shape S_TTL_SPEC[] = {
    STRF("AttributeName", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 255),
    BOOLNN("Enabled"),
    END,
};
static const struct ddb_shape S_UPDATE_TTL[] = {
    TABLE_NAME_REQUIRED,
    STRUCT("TimeToLiveSpecification", DDB_SH_NOTNULL, S_TTL_SPEC),
    END,
};

static const struct ddb_shape S_PITR_SPEC[] = {
    BOOLNN("PointInTimeRecoveryEnabled"),
    {"RecoveryPeriodInDays", DDB_SH_INT, DDB_SH_MIN | DDB_SH_MAX, 1, 35, 0, 0, NULL, NULL},
    END,
};
static const struct ddb_shape S_UPDATE_BACKUPS[] = {
    TABLE_NAME_REQUIRED,
    STRUCT("PointInTimeRecoverySpecification", DDB_SH_NOTNULL, S_PITR_SPEC),
    END,
};

#define RESOURCE_ARN STRF("ResourceArn", DDB_SH_NOTNULL | DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 1283)
static const struct ddb_shape S_TAG_RESOURCE[] = {
    RESOURCE_ARN,
    LIST("Tags", DDB_SH_NOTNULL, 0, 0, S_TAG_ELEM),
    END,
};
static const struct ddb_shape S_TAG_KEY[] = {
    STRF("member", DDB_SH_MINLEN | DDB_SH_MAXLEN, 1, 128),
};
static const struct ddb_shape S_UNTAG_RESOURCE[] = {
    RESOURCE_ARN,
    LIST("TagKeys", DDB_SH_NOTNULL, 0, 0, S_TAG_KEY),
    END,
};
static const struct ddb_shape S_LIST_TAGS[] = {RESOURCE_ARN, STR("NextToken"), END};
static const struct ddb_shape S_NONE[] = {END};

/* clang-format on */

/* ---- the operation table ---- */

static const struct {
    const char *name;
    const struct ddb_shape *shape;
} ops[DDB_OP__COUNT] = {
    [DDB_OP_UNKNOWN] = {"", S_NONE},
    [DDB_OP_BATCH_EXECUTE_STATEMENT] = {"BatchExecuteStatement", S_BATCH_EXECUTE},
    [DDB_OP_BATCH_GET_ITEM] = {"BatchGetItem", S_BATCH_GET},
    [DDB_OP_BATCH_WRITE_ITEM] = {"BatchWriteItem", S_BATCH_WRITE},
    [DDB_OP_CREATE_TABLE] = {"CreateTable", S_CREATE_TABLE},
    [DDB_OP_DELETE_ITEM] = {"DeleteItem", S_DELETE_ITEM},
    [DDB_OP_DELETE_TABLE] = {"DeleteTable", S_TABLE_ONLY},
    [DDB_OP_DESCRIBE_CONTINUOUS_BACKUPS] = {"DescribeContinuousBackups", S_TABLE_ONLY},
    [DDB_OP_DESCRIBE_ENDPOINTS] = {"DescribeEndpoints", S_NONE},
    [DDB_OP_DESCRIBE_LIMITS] = {"DescribeLimits", S_NONE},
    [DDB_OP_DESCRIBE_TABLE] = {"DescribeTable", S_TABLE_ONLY},
    [DDB_OP_DESCRIBE_TIME_TO_LIVE] = {"DescribeTimeToLive", S_TABLE_ONLY},
    [DDB_OP_EXECUTE_STATEMENT] = {"ExecuteStatement", S_EXECUTE_STATEMENT},
    [DDB_OP_GET_ITEM] = {"GetItem", S_GET_ITEM},
    [DDB_OP_LIST_TABLES] = {"ListTables", S_LIST_TABLES},
    [DDB_OP_LIST_TAGS_OF_RESOURCE] = {"ListTagsOfResource", S_LIST_TAGS},
    [DDB_OP_PUT_ITEM] = {"PutItem", S_PUT_ITEM},
    [DDB_OP_QUERY] = {"Query", S_QUERY},
    [DDB_OP_SCAN] = {"Scan", S_SCAN},
    [DDB_OP_TAG_RESOURCE] = {"TagResource", S_TAG_RESOURCE},
    [DDB_OP_TRANSACT_GET_ITEMS] = {"TransactGetItems", S_TRANSACT_GET},
    [DDB_OP_TRANSACT_WRITE_ITEMS] = {"TransactWriteItems", S_TRANSACT_WRITE},
    [DDB_OP_UNTAG_RESOURCE] = {"UntagResource", S_UNTAG_RESOURCE},
    [DDB_OP_UPDATE_CONTINUOUS_BACKUPS] = {"UpdateContinuousBackups", S_UPDATE_BACKUPS},
    [DDB_OP_UPDATE_ITEM] = {"UpdateItem", S_UPDATE_ITEM},
    [DDB_OP_UPDATE_TABLE] = {"UpdateTable", S_UPDATE_TABLE},
    [DDB_OP_UPDATE_TIME_TO_LIVE] = {"UpdateTimeToLive", S_UPDATE_TTL},
};

/* DynamoDB operations haar does not implement (answered with a clear message). */
static const char *const unimplemented[] = {
    "CreateBackup",
    "CreateGlobalTable",
    "DeleteBackup",
    "DeleteResourcePolicy",
    "DescribeBackup",
    "DescribeContributorInsights",
    "DescribeExport",
    "DescribeGlobalTable",
    "DescribeGlobalTableSettings",
    "DescribeImport",
    "DescribeKinesisStreamingDestination",
    "DescribeTableReplicaAutoScaling",
    "DisableKinesisStreamingDestination",
    "EnableKinesisStreamingDestination",
    "ExecuteTransaction",
    "ExportTableToPointInTime",
    "GetResourcePolicy",
    "ImportTable",
    "ListBackups",
    "ListContributorInsights",
    "ListExports",
    "ListGlobalTables",
    "ListImports",
    "PutResourcePolicy",
    "RestoreTableFromBackup",
    "RestoreTableToPointInTime",
    "UpdateContributorInsights",
    "UpdateGlobalTable",
    "UpdateGlobalTableSettings",
    "UpdateKinesisStreamingDestination",
    "UpdateTableReplicaAutoScaling",
};

enum ddb_op ddb_op_from_name(const char *name, size_t len)
{
    for (int i = 1; i < DDB_OP__COUNT; i++)
        if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0)
            return (enum ddb_op)i;
    return DDB_OP_UNKNOWN;
}

const char *ddb_op_name(enum ddb_op op)
{
    return op > DDB_OP_UNKNOWN && op < DDB_OP__COUNT ? ops[op].name : "";
}

bool ddb_op_known_unimplemented(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_LEN(unimplemented); i++)
        if (strlen(unimplemented[i]) == len && memcmp(unimplemented[i], name, len) == 0)
            return true;
    return false;
}

const struct ddb_shape *ddb_op_shape(enum ddb_op op)
{
    return op > DDB_OP_UNKNOWN && op < DDB_OP__COUNT ? ops[op].shape : S_NONE;
}

const json_t *ddb_member(const json_t *req, const char *name)
{
    const json_t *v = json_is_object(req) ? json_object_get(req, name) : NULL;
    return v == NULL || json_is_null(v) ? NULL : v;
}

long long ddb_json_int(const json_t *v, long long dflt)
{
    if (json_is_integer(v))
        return (long long)json_integer_value(v);
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > 9e18)
            return (long long)9e18;
        if (d < -9e18)
            return (long long)-9e18;
        long long t = (long long)d;
        return (double)t > d ? t - 1 : t; /* floor */
    }
    return dflt;
}

/* ---- pass 1: types ---- */

#define NUMBER_CLASS "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"

static int type_error(struct ddb_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int type_error(struct ddb_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ddb_err_vset(err, ERR_DDB_SERIALIZATION, 512, fmt, ap);
    va_end(ap);
    return -1;
}

static int container_error(const json_t *v, struct ddb_err *err)
{
    if (json_is_array(v))
        return type_error(err, "Start of list found where not expected");
    return type_error(err, "Start of structure or map found where not expected.");
}

/* Coral's spellings of a string as a boolean. */
static int bool_from_string(const char *s, bool *out)
{
    static const char *const yes[] = {"TRUE", "1", "YES"}, *const no[] = {"FALSE", "0", "NO"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static int check_members(const struct ddb_shape *members, const json_t *obj, struct ddb_err *err);

static int check_type(const struct ddb_shape *s, const json_t *v, struct ddb_err *err)
{
    if (v == NULL || json_is_null(v))
        return 0;
    switch (s->kind) {
    case DDB_SH_STRING:
        if (json_is_boolean(v))
            return type_error(err, "class java.lang.Boolean can not be converted to an String");
        if (json_is_number(v))
            return type_error(err, NUMBER_CLASS " can not be converted to an String");
        if (!json_is_string(v))
            return container_error(v, err);
        return 0;
    case DDB_SH_BOOL:
        if (json_is_number(v))
            return type_error(err, NUMBER_CLASS " can not be converted to an Boolean");
        if (json_is_string(v)) {
            bool b;
            if (bool_from_string(json_string_value(v), &b) == 0)
                return 0;
            char up[256];
            size_t n = 0;
            for (const char *p = json_string_value(v); *p && n < sizeof up - 1; p++)
                up[n++] = (char)toupper((unsigned char)*p);
            up[n] = '\0';
            return type_error(err, "'%s' can not be converted to an Boolean", up);
        }
        if (!json_is_boolean(v))
            return container_error(v, err);
        return 0;
    case DDB_SH_INT:
    case DDB_SH_LONG: {
        const char *cls = s->kind == DDB_SH_INT ? "Integer" : "Long";
        if (json_is_boolean(v))
            return type_error(err, "class java.lang.Boolean can not be converted to an %s", cls);
        if (json_is_string(v))
            return type_error(err, "class java.lang.String can not be converted to an %s", cls);
        if (!json_is_number(v))
            return container_error(v, err);
        return 0;
    }
    case DDB_SH_LIST:
        if (ddb_json_check_container(v, DDB_JSON_LIST, err) != 0)
            return -1;
        for (size_t i = 0; i < json_array_size(v); i++)
            if (check_type(s->elem, json_array_get(v, i), err) != 0)
                return -1;
        return 0;
    case DDB_SH_MAP: {
        if (ddb_json_check_container(v, DDB_JSON_MAP, err) != 0)
            return -1;
        const char *k;
        const json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            if (check_type(s->elem, m, err) != 0)
                return -1;
        }
        return 0;
    }
    case DDB_SH_STRUCT:
        if (ddb_json_check_container(v, DDB_JSON_STRUCT, err) != 0)
            return -1;
        return check_members(s->elem, v, err);
    case DDB_SH_ATTR:
        return ddb_value_check_json(v, err);
    case DDB_SH_ITEM:
        return ddb_item_check_json(v, err);
    default:
        return 0;
    }
}

static int check_members(const struct ddb_shape *members, const json_t *obj, struct ddb_err *err)
{
    for (const struct ddb_shape *s = members; s->name; s++)
        if (check_type(s, json_object_get(obj, s->name), err) != 0)
            return -1;
    return 0;
}

int ddb_shape_check_types(const struct ddb_shape *members, const json_t *req, struct ddb_err *err)
{
    if (json_is_array(req))
        return type_error(err, "Start of list found where not expected");
    if (!json_is_object(req))
        return 0;
    return check_members(members, req, err);
}

/* ---- pass 2: constraints ---- */

#define MAX_ERRORS 10

struct errors {
    struct buf b;
    int n;
};

static void lower_first(struct buf *b, const char *name)
{
    if (name[0] != '\0') {
        char c = (char)tolower((unsigned char)name[0]);
        buf_append(b, &c, 1);
        buf_puts(b, name + 1);
    }
}

/* dynalite's valueStr, for the failing value in a message. */
static void render(struct buf *b, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        buf_puts(b, "null");
    } else if (json_is_string(v)) {
        buf_append(b, json_string_value(v), json_string_length(v));
    } else if (json_is_integer(v)) {
        buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        buf_printf(b, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        buf_puts(b, json_is_true(v) ? "true" : "false");
    } else if (json_is_array(v)) {
        buf_puts(b, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_puts(b, ", ");
            const json_t *e = json_array_get(v, i);
            if (json_is_object(e)) {
                char *s = json_dumps(e, JSON_COMPACT | JSON_ENCODE_ANY);
                buf_puts(b, s ? s : "");
                free(s);
            } else {
                render(b, e);
            }
        }
        buf_puts(b, "]");
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        buf_puts(b, s ? s : "");
        free(s);
    }
}

static void fail(struct errors *e, const json_t *v, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(struct errors *e, const json_t *v, const char *path, const char *fmt, ...)
{
    if (e->n >= MAX_ERRORS)
        return;
    if (e->n++ > 0)
        buf_puts(&e->b, "; ");
    buf_puts(&e->b, "Value ");
    if (v == NULL || json_is_null(v)) {
        buf_puts(&e->b, "null");
    } else {
        buf_puts(&e->b, "'");
        render(&e->b, v);
        buf_puts(&e->b, "'");
    }
    buf_printf(&e->b, " at '%s' failed to satisfy constraint: ", path);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&e->b, fmt, ap);
    va_end(ap);
}

/* Characters as Java counts them (UTF-16 code units). */
static size_t java_length(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) == 0x80)
            continue;
        units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

static bool name_pattern(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!isalnum((unsigned char)c) && c != '_' && c != '.' && c != '-')
            return false;
    }
    return true;
}

static long long length_of(const json_t *v)
{
    if (json_is_string(v))
        return (long long)java_length(json_string_value(v), json_string_length(v));
    if (json_is_array(v))
        return (long long)json_array_size(v);
    if (json_is_object(v))
        return (long long)json_object_size(v);
    return 0;
}

static void check_value(const struct ddb_shape *s, const json_t *v, const char *path,
                        struct errors *e);

static void check_list(const struct ddb_shape *members, const json_t *obj, const char *parent,
                       struct errors *e)
{
    for (const struct ddb_shape *s = members; s->name; s++) {
        const json_t *v = json_object_get(obj, s->name);
        if ((v == NULL || json_is_null(v)) && !(s->flags & DDB_SH_NOTNULL))
            continue; /* nothing to check, and no path to build for it */
        struct buf p;
        buf_init(&p, 4096);
        if (parent[0]) {
            buf_puts(&p, parent);
            buf_puts(&p, ".");
        }
        lower_first(&p, s->name);
        check_value(s, v, p.data ? p.data : "", e);
        buf_destroy(&p);
    }
}

static void check_value(const struct ddb_shape *s, const json_t *v, const char *path,
                        struct errors *e)
{
    bool null = v == NULL || json_is_null(v);
    if ((s->flags & DDB_SH_NOTNULL) && null)
        fail(e, v, path, "Member must not be null");
    if (null)
        return;
    if ((s->flags & DDB_SH_MIN) && ddb_json_int(v, 0) < s->min)
        fail(e, v, path, "Member must have value greater than or equal to %lld", (long long)s->min);
    if ((s->flags & DDB_SH_MAX) && ddb_json_int(v, 0) > s->max)
        fail(e, v, path, "Member must have value less than or equal to %lld", (long long)s->max);
    if ((s->flags & DDB_SH_NAMEPAT) && json_is_string(v) &&
        !name_pattern(json_string_value(v), json_string_length(v)))
        fail(e, v, path, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
    if ((s->flags & DDB_SH_MINLEN) && length_of(v) < s->minlen)
        fail(e, v, path, "Member must have length greater than or equal to %d", (int)s->minlen);
    if ((s->flags & DDB_SH_MAXLEN) && length_of(v) > s->maxlen)
        fail(e, v, path, "Member must have length less than or equal to %d", (int)s->maxlen);
    if (s->enums && json_is_string(v)) {
        bool ok = false;
        for (const char *const *x = s->enums; *x && !ok; x++)
            ok = strcmp(*x, json_string_value(v)) == 0;
        if (!ok) {
            struct buf set;
            buf_init(&set, 1024);
            for (const char *const *x = s->enums; *x; x++)
                buf_printf(&set, "%s%s", x == s->enums ? "" : ", ", *x);
            fail(e, v, path, "Member must satisfy enum value set: [%s]", set.data);
            buf_destroy(&set);
        }
    }
    if ((s->flags & DDB_SH_TABLEKEYS) && json_is_object(v)) {
        const char *k;
        const json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            size_t n = strlen(k);
            size_t len = java_length(k, n);
            if (len < 3 || len > 255 || !name_pattern(k, n))
                fail(e, v, path,
                     "Map keys must satisfy constraint: [Member must have length less than or "
                     "equal to 255, Member must have length greater than or equal to 3, Member "
                     "must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]");
        }
    }
    if ((s->flags & DDB_SH_VALLEN) && json_is_object(v) && s->elem) {
        const char *k;
        const json_t *m;
        json_object_foreach((json_t *)v, k, m)
        {
            long long n = length_of(m);
            if (json_is_array(m) && (n < s->elem->minlen || n > s->elem->maxlen))
                fail(e, v, path,
                     "Map value must satisfy constraint: [Member must have length less than or "
                     "equal to %d, Member must have length greater than or equal to %d]",
                     (int)s->elem->maxlen, (int)s->elem->minlen);
        }
    }
    if (s->elem == NULL)
        return;
    if (s->kind == DDB_SH_LIST && json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            struct buf p;
            buf_init(&p, 4096);
            buf_printf(&p, "%s.%zu.member", path, i + 1);
            check_value(s->elem, json_array_get(v, i), p.data, e);
            buf_destroy(&p);
        }
    } else if (s->kind == DDB_SH_MAP && json_is_object(v)) {
        /* dynalite (tested against DynamoDB) walks map entries last to first */
        size_t n = json_object_size(v), i = 0;
        const char **keys = calloc(n ? n : 1, sizeof *keys);
        const char *k;
        const json_t *m;
        if (keys == NULL)
            return;
        json_object_foreach((json_t *)v, k, m) keys[i++] = k;
        while (i-- > 0) {
            struct buf p;
            buf_init(&p, 4096);
            buf_printf(&p, "%s.%s.member", path, keys[i]);
            const struct ddb_shape *es = s->elem;
            /* a list-valued map checks its lengths as "Map value" above, then its members */
            if (es->kind == DDB_SH_LIST) {
                const json_t *lst = json_object_get(v, keys[i]);
                for (size_t j = 0; json_is_array(lst) && j < json_array_size(lst); j++) {
                    struct buf q;
                    buf_init(&q, 4096);
                    buf_printf(&q, "%s.%zu.member", p.data, j + 1);
                    check_value(es->elem, json_array_get(lst, j), q.data, e);
                    buf_destroy(&q);
                }
            } else {
                check_value(es, json_object_get(v, keys[i]), p.data, e);
            }
            buf_destroy(&p);
        }
        free(keys);
    } else if (s->kind == DDB_SH_STRUCT && json_is_object(v)) {
        check_list(s->elem, v, path, e);
    }
}

int ddb_shape_validate(const struct ddb_shape *members, const json_t *req, struct ddb_err *err)
{
    const json_t *obj = json_is_object(req) ? req : NULL;
    for (const struct ddb_shape *s = members; s->name; s++) {
        const json_t *v = obj ? json_object_get(obj, s->name) : NULL;
        bool null = v == NULL || json_is_null(v);
        if ((s->flags & DDB_SH_REQUIRED) && null)
            return ddb_err_set(err, ERR_DDB_VALIDATION,
                               "The parameter '%s' is required but was not present in the request",
                               s->name);
        if ((s->flags & DDB_SH_TABLENAME) && json_is_string(v)) {
            size_t len = java_length(json_string_value(v), json_string_length(v));
            if (len < 3 || len > 255)
                return ddb_err_set(err, ERR_DDB_VALIDATION,
                                   "%s must be at least 3 characters long and at most 255 "
                                   "characters long",
                                   s->name);
        }
    }
    struct errors e = {.n = 0};
    buf_init(&e.b, 64 * 1024);
    json_t *empty = obj ? NULL : json_object();
    check_list(members, obj ? obj : empty, "", &e);
    json_decref(empty);
    int rc = 0;
    if (e.n > 0)
        rc = ddb_err_set(err, ERR_DDB_VALIDATION, "%d validation error%s detected: %s", e.n,
                         e.n > 1 ? "s" : "", e.b.data ? e.b.data : "");
    buf_destroy(&e.b);
    return rc;
}

int ddb_shape_check(enum ddb_op op, const json_t *req, struct ddb_err *err)
{
    const struct ddb_shape *s = ddb_op_shape(op);
    if (ddb_shape_check_types(s, req, err) != 0)
        return -1;
    return ddb_shape_validate(s, req, err);
}
