/*
 * shapes.c — Lambda's request model as data, the pattern matcher its regexes need, and the
 * checker that answers a request the way AWS's front end (Coral) does. See shapes.h.
 *
 * Where the table comes from. Shapes, bounds, patterns and enums are botocore's
 * lambda/2015-03-31/service-2.json, with these corrections from AWS's recorded answers
 * (LocalStack's snapshot-verified validators, AWS-RECORDED.md):
 *   - FunctionName / NamespacedFunctionName print the partition-aware region pattern
 *     ([a-z]{2}((-gov)|(-iso([a-z]?)))?-...) of today's service; TaggableResource is the
 *     pattern Tag/Untag/ListTags answer with;
 *   - Timeout is 1..900 (the model only says >= 1; AWS answers "less than or equal to 900");
 *   - Runtime carries no enum: AWS checks it in the service ("... or be a valid ARN",
 *     InvalidParameterValueException), which validate.c does after this checker;
 *   - the TagKey/TagValue limits are service checks too (lambda_check_tags).
 *
 * The order of members in each table is the order AWS reports several errors in. AWS
 * lists a structure's failing members in the iteration order of a java.util.HashMap keyed
 * by the lowerCamel member names (bucket = (h ^ h >>> 16) & (capacity - 1), h = Java's
 * String.hashCode, capacity 16, 32 or 64 as the member count needs at load factor 0.75;
 * ties keep model order). That rule reproduces the two multi-member answers recorded
 * (ListLayers: maxItems, compatibleRuntime, compatibleArchitecture; DynamoDB's
 * provisionedThroughput: writeCapacityUnits, readCapacityUnits); the member counts are
 * today's model's. Within one member AWS gives the length error before the pattern error.
 */
#include "cloud/lambda/shapes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/utf8.h"

/* ======================================================================================
 * The table
 * ====================================================================================== */

#define BETWEEN(lo, hi) .has = LS_HAS_MIN | LS_HAS_MAX, .min = (lo), .max = (hi)
#define AT_LEAST(lo)    .has = LS_HAS_MIN, .min = (lo)
#define AT_MOST(hi)     .has = LS_HAS_MAX, .max = (hi)
#define SH(n, k)        .name = (n), .kind = (k)
#define MEMBERS(a)      .members = (a), .nmembers = sizeof(a) / sizeof((a)[0])

#define P_FUNCTION_NAME                                                                            \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"            \
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define P_NAMESPACED_FUNCTION_NAME                                                                 \
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"            \
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define P_TAGGABLE_RESOURCE                                                                        \
    "arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:"           \
    "(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"               \
    "code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"     \
    "[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
#define P_ANY_ARN_OR_EMPTY "(arn:(aws[a-zA-Z-]*)?:[a-z0-9-.]+:.*)|()"
#define P_ARN                                                                                      \
    "arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)"

static const char *const e_package_type[] = {"Zip", "Image", NULL};
static const char *const e_tracing_mode[] = {"Active", "PassThrough", NULL};
static const char *const e_architecture[] = {"x86_64", "arm64", NULL};
static const char *const e_snap_start[] = {"PublishedVersions", "None", NULL};
static const char *const e_log_format[] = {"JSON", "Text", NULL};
static const char *const e_app_log_level[] = {"TRACE", "DEBUG", "INFO", "WARN",
                                              "ERROR", "FATAL", NULL};
static const char *const e_sys_log_level[] = {"DEBUG", "INFO", "WARN", NULL};
static const char *const e_invocation_type[] = {"Event", "RequestResponse", "DryRun", NULL};
static const char *const e_log_type[] = {"None", "Tail", NULL};
static const char *const e_function_version[] = {"ALL", NULL};
static const char *const e_url_auth_type[] = {"NONE", "AWS_IAM", NULL};
static const char *const e_invoke_mode[] = {"BUFFERED", "RESPONSE_STREAM", NULL};
static const char *const e_position[] = {"TRIM_HORIZON", "LATEST", "AT_TIMESTAMP", NULL};
static const char *const e_source_access[] = {"BASIC_AUTH",
                                              "VPC_SUBNET",
                                              "VPC_SECURITY_GROUP",
                                              "SASL_SCRAM_512_AUTH",
                                              "SASL_SCRAM_256_AUTH",
                                              "VIRTUAL_HOST",
                                              "CLIENT_CERTIFICATE_TLS_AUTH",
                                              "SERVER_ROOT_CA_CERTIFICATE",
                                              NULL};
static const char *const e_endpoint_type[] = {"KAFKA_BOOTSTRAP_SERVERS", NULL};
static const char *const e_response_type[] = {"ReportBatchItemFailures", NULL};

/* ---- structures (members in AWS's reporting order) ---- */

static const struct lambda_member m_function_code[] = {
    {"S3ObjectVersion", "s3ObjectVersion", "S3ObjectVersion", LL_BODY, false},
    {"ImageUri", "imageUri", "String", LL_BODY, false},
    {"S3Key", "s3Key", "S3Key", LL_BODY, false},
    {"SourceKMSKeyArn", "sourceKMSKeyArn", "KMSKeyArn", LL_BODY, false},
    {"ZipFile", "zipFile", "Blob", LL_BODY, false},
    {"S3Bucket", "s3Bucket", "S3Bucket", LL_BODY, false},
};
static const struct lambda_member m_vpc_config[] = {
    {"SecurityGroupIds", "securityGroupIds", "SecurityGroupIds", LL_BODY, false},
    {"Ipv6AllowedForDualStack", "ipv6AllowedForDualStack", "NullableBoolean", LL_BODY, false},
    {"SubnetIds", "subnetIds", "SubnetIds", LL_BODY, false},
};
static const struct lambda_member m_environment[] = {
    {"Variables", "variables", "EnvironmentVariables", LL_BODY, false},
};
static const struct lambda_member m_tracing_config[] = {
    {"Mode", "mode", "TracingMode", LL_BODY, false},
};
static const struct lambda_member m_dead_letter_config[] = {
    {"TargetArn", "targetArn", "ResourceArn", LL_BODY, false},
};
static const struct lambda_member m_image_config[] = {
    {"WorkingDirectory", "workingDirectory", "WorkingDirectory", LL_BODY, false},
    {"EntryPoint", "entryPoint", "StringList", LL_BODY, false},
    {"Command", "command", "StringList", LL_BODY, false},
};
static const struct lambda_member m_file_system_config[] = {
    {"LocalMountPath", "localMountPath", "LocalMountPath", LL_BODY, true},
    {"Arn", "arn", "FileSystemArn", LL_BODY, true},
};
static const struct lambda_member m_ephemeral_storage[] = {
    {"Size", "size", "EphemeralStorageSize", LL_BODY, true},
};
static const struct lambda_member m_snap_start[] = {
    {"ApplyOn", "applyOn", "SnapStartApplyOn", LL_BODY, false},
};
static const struct lambda_member m_logging_config[] = {
    {"ApplicationLogLevel", "applicationLogLevel", "ApplicationLogLevel", LL_BODY, false},
    {"LogFormat", "logFormat", "LogFormat", LL_BODY, false},
    {"SystemLogLevel", "systemLogLevel", "SystemLogLevel", LL_BODY, false},
    {"LogGroup", "logGroup", "LogGroup", LL_BODY, false},
};
static const struct lambda_member m_alias_routing[] = {
    {"AdditionalVersionWeights", "additionalVersionWeights", "AdditionalVersionWeights", LL_BODY,
     false},
};
static const struct lambda_member m_layer_content[] = {
    {"S3ObjectVersion", "s3ObjectVersion", "S3ObjectVersion", LL_BODY, false},
    {"S3Key", "s3Key", "S3Key", LL_BODY, false},
    {"ZipFile", "zipFile", "Blob", LL_BODY, false},
    {"S3Bucket", "s3Bucket", "S3Bucket", LL_BODY, false},
};
static const struct lambda_member m_cors[] = {
    {"AllowMethods", "allowMethods", "AllowMethodsList", LL_BODY, false},
    {"AllowHeaders", "allowHeaders", "HeadersList", LL_BODY, false},
    {"ExposeHeaders", "exposeHeaders", "HeadersList", LL_BODY, false},
    {"MaxAge", "maxAge", "MaxAge", LL_BODY, false},
    {"AllowCredentials", "allowCredentials", "Boolean", LL_BODY, false},
    {"AllowOrigins", "allowOrigins", "AllowOriginsList", LL_BODY, false},
};
static const struct lambda_member m_destination_config[] = {
    {"OnFailure", "onFailure", "OnFailure", LL_BODY, false},
    {"OnSuccess", "onSuccess", "OnSuccess", LL_BODY, false},
};
static const struct lambda_member m_destination[] = {
    {"Destination", "destination", "DestinationArn", LL_BODY, false},
};
static const struct lambda_member m_filter_criteria[] = {
    {"Filters", "filters", "FilterList", LL_BODY, false},
};
static const struct lambda_member m_filter[] = {
    {"Pattern", "pattern", "Pattern", LL_BODY, false},
};
static const struct lambda_member m_source_access[] = {
    {"Type", "type", "SourceAccessType", LL_BODY, false},
    {"URI", "uRI", "URI", LL_BODY, false},
};
static const struct lambda_member m_self_managed_source[] = {
    {"Endpoints", "endpoints", "Endpoints", LL_BODY, false},
};
static const struct lambda_member m_kafka_config[] = {
    {"ConsumerGroupId", "consumerGroupId", "URI", LL_BODY, false},
};
static const struct lambda_member m_scaling_config[] = {
    {"MaximumConcurrency", "maximumConcurrency", "MaximumConcurrency", LL_BODY, false},
};

/* ---- the shapes ---- */

static const struct lambda_shape shapes[] = {
    /* names and ARNs */
    {SH("FunctionName", LK_STRING), BETWEEN(1, 140), .pattern = P_FUNCTION_NAME},
    /* the service's limit on a bare name (ARNs may be longer): used by validate.c */
    {SH("PlainFunctionName", LK_STRING), BETWEEN(1, 64)},
    {SH("NamespacedFunctionName", LK_STRING), BETWEEN(1, 170),
     .pattern = P_NAMESPACED_FUNCTION_NAME},
    {SH("TaggableResource", LK_STRING), BETWEEN(1, 256), .pattern = P_TAGGABLE_RESOURCE},
    {SH("RoleArn", LK_STRING),
     .pattern = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"},
    {SH("KMSKeyArn", LK_STRING), .pattern = P_ANY_ARN_OR_EMPTY},
    {SH("ResourceArn", LK_STRING), .pattern = P_ANY_ARN_OR_EMPTY},
    {SH("Arn", LK_STRING), .pattern = P_ARN},
    {SH("LayerVersionArn", LK_STRING), BETWEEN(1, 140),
     .pattern = "arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+"},
    {SH("FileSystemArn", LK_STRING), AT_MOST(200),
     .pattern = "arn:aws[a-zA-Z-]*:elasticfilesystem:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:"
                "\\d{12}:access-point/fsap-[a-f0-9]{17}"},
    {SH("CodeSigningConfigArn", LK_STRING), AT_MOST(200),
     .pattern = "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:\\d{12}:"
                "code-signing-config:csc-[a-z0-9]{17}"},
    {SH("DestinationArn", LK_STRING), BETWEEN(0, 350),
     .pattern = "^$|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:([a-z]{2}(-gov)?-[a-z]+-\\d{1})?:"
                "(\\d{12})?:(.*)"},
    {SH("LayerName", LK_STRING), BETWEEN(1, 140),
     .pattern = "(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|"
                "[a-zA-Z0-9-_]+"},
    /* function configuration */
    {SH("Handler", LK_STRING), AT_MOST(128), .pattern = "[^\\s]+"},
    {SH("Description", LK_STRING), BETWEEN(0, 256)},
    {SH("Runtime", LK_STRING)}, /* checked by the service: see the top of this file */
    {SH("Timeout", LK_INT), BETWEEN(1, 900)},
    {SH("MemorySize", LK_INT), BETWEEN(128, 10240)},
    {SH("PackageType", LK_STRING), .enums = e_package_type},
    {SH("TracingMode", LK_STRING), .enums = e_tracing_mode},
    {SH("Architecture", LK_STRING), .enums = e_architecture},
    {SH("ArchitecturesList", LK_LIST), BETWEEN(1, 1), .member = "Architecture"},
    {SH("LayerList", LK_LIST), .member = "LayerVersionArn"},
    {SH("LocalMountPath", LK_STRING), AT_MOST(160), .pattern = "^/mnt/[a-zA-Z0-9-_.]+$"},
    {SH("FileSystemConfigList", LK_LIST), AT_MOST(1), .member = "FileSystemConfig"},
    {SH("WorkingDirectory", LK_STRING), AT_MOST(1000)},
    {SH("StringList", LK_LIST), AT_MOST(1500), .member = "String"},
    {SH("EphemeralStorageSize", LK_INT), BETWEEN(512, 10240)},
    {SH("SnapStartApplyOn", LK_STRING), .enums = e_snap_start},
    {SH("LogFormat", LK_STRING), .enums = e_log_format},
    {SH("ApplicationLogLevel", LK_STRING), .enums = e_app_log_level},
    {SH("SystemLogLevel", LK_STRING), .enums = e_sys_log_level},
    {SH("LogGroup", LK_STRING), BETWEEN(1, 512), .pattern = "[\\.\\-_/#A-Za-z0-9]+"},
    {SH("EnvironmentVariableName", LK_STRING), .pattern = "[a-zA-Z]([a-zA-Z0-9_])+",
     .sensitive = true},
    {SH("EnvironmentVariableValue", LK_STRING), .sensitive = true},
    {SH("EnvironmentVariables", LK_MAP), .sensitive = true, .member = "EnvironmentVariableValue",
     .key = "EnvironmentVariableName"},
    {SH("SubnetId", LK_STRING)},
    {SH("SecurityGroupId", LK_STRING)},
    {SH("SubnetIds", LK_LIST), AT_MOST(16), .member = "SubnetId"},
    {SH("SecurityGroupIds", LK_LIST), AT_MOST(5), .member = "SecurityGroupId"},
    {SH("S3Bucket", LK_STRING), BETWEEN(3, 63), .pattern = "^[0-9A-Za-z\\.\\-_]*(?<!\\.)$"},
    {SH("S3Key", LK_STRING), BETWEEN(1, 1024)},
    {SH("S3ObjectVersion", LK_STRING), BETWEEN(1, 1024)},
    {SH("TagKey", LK_STRING)}, /* limits checked by the service: lambda_check_tags */
    {SH("TagValue", LK_STRING)},
    {SH("Tags", LK_MAP), .member = "TagValue", .key = "TagKey"},
    {SH("TagKeyList", LK_LIST), .member = "TagKey"},
    /* invocation and listing */
    {SH("Qualifier", LK_STRING), BETWEEN(1, 128), .pattern = "(|[a-zA-Z0-9$_-]+)"},
    {SH("InvocationType", LK_STRING), .enums = e_invocation_type},
    {SH("LogType", LK_STRING), .enums = e_log_type},
    {SH("ReservedConcurrentExecutions", LK_INT), AT_LEAST(0)},
    {SH("PositiveInteger", LK_INT), AT_LEAST(1)},
    {SH("MaxItems", LK_INT), BETWEEN(1, 50)},
    {SH("MaxLayerListItems", LK_INT), BETWEEN(1, 50)},
    {SH("MaxListItems", LK_INT), BETWEEN(1, 10000)},
    {SH("MasterRegion", LK_STRING), .pattern = "ALL|[a-z]{2}(-gov)?-[a-z]+-\\d{1}"},
    {SH("FunctionVersion", LK_STRING), .enums = e_function_version},
    /* versions, aliases, layers */
    {SH("Alias", LK_STRING), BETWEEN(1, 128), .pattern = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"},
    {SH("Version", LK_STRING), BETWEEN(1, 1024), .pattern = "(\\$LATEST|[0-9]+)"},
    {SH("AdditionalVersion", LK_STRING), BETWEEN(1, 1024), .pattern = "[0-9]+"},
    {SH("Weight", LK_DOUBLE)}, /* 0.0 .. 1.0: only its type is checked here */
    {SH("AdditionalVersionWeights", LK_MAP), .member = "Weight", .key = "AdditionalVersion"},
    {SH("AliasRoutingConfiguration", LK_STRUCT), MEMBERS(m_alias_routing)},
    {SH("LicenseInfo", LK_STRING), AT_MOST(512)},
    /* AWS checks layer runtimes against its current runtime list; not here yet */
    {SH("LayerRuntime", LK_STRING)},
    {SH("CompatibleRuntimes", LK_LIST), AT_MOST(15), .member = "LayerRuntime"},
    {SH("CompatibleArchitectures", LK_LIST), AT_MOST(2), .member = "Architecture"},
    {SH("LayerVersionContentInput", LK_STRUCT), MEMBERS(m_layer_content)},
    /* function URLs */
    {SH("FunctionUrlQualifier", LK_STRING), BETWEEN(1, 128),
     .pattern = "(^\\$LATEST$)|((?!^[0-9]+$)([a-zA-Z0-9-_]+))"},
    {SH("FunctionUrlAuthType", LK_STRING), .enums = e_url_auth_type},
    {SH("InvokeMode", LK_STRING), .enums = e_invoke_mode},
    {SH("Header", LK_STRING), AT_MOST(1024), .pattern = ".*"},
    {SH("Method", LK_STRING), AT_MOST(6), .pattern = ".*"},
    {SH("Origin", LK_STRING), BETWEEN(1, 253), .pattern = ".*"},
    {SH("HeadersList", LK_LIST), AT_MOST(100), .member = "Header"},
    {SH("AllowMethodsList", LK_LIST), AT_MOST(6), .member = "Method"},
    {SH("AllowOriginsList", LK_LIST), AT_MOST(100), .member = "Origin"},
    {SH("MaxAge", LK_INT), BETWEEN(0, 86400)},
    {SH("Cors", LK_STRUCT), MEMBERS(m_cors)},
    /* asynchronous invocation */
    {SH("MaximumRetryAttempts", LK_INT), BETWEEN(0, 2)},
    {SH("MaximumEventAgeInSeconds", LK_INT), BETWEEN(60, 21600)},
    {SH("DestinationConfig", LK_STRUCT), MEMBERS(m_destination_config)},
    {SH("OnSuccess", LK_STRUCT), MEMBERS(m_destination)},
    {SH("OnFailure", LK_STRUCT), MEMBERS(m_destination)},
    /* event source mappings */
    {SH("BatchSize", LK_INT), BETWEEN(1, 10000)},
    {SH("MaximumBatchingWindowInSeconds", LK_INT), BETWEEN(0, 300)},
    {SH("ParallelizationFactor", LK_INT), BETWEEN(1, 10)},
    {SH("EventSourcePosition", LK_STRING), .enums = e_position},
    {SH("MaximumRecordAgeInSeconds", LK_INT), BETWEEN(-1, 604800)},
    {SH("MaximumRetryAttemptsEventSourceMapping", LK_INT), BETWEEN(-1, 10000)},
    {SH("TumblingWindowInSeconds", LK_INT), BETWEEN(0, 900)},
    {SH("Topic", LK_STRING), BETWEEN(1, 249), .pattern = "^[^.]([a-zA-Z0-9\\-_.]+)"},
    {SH("Topics", LK_LIST), BETWEEN(1, 1), .member = "Topic"},
    {SH("Queue", LK_STRING), BETWEEN(1, 1000), .pattern = "[\\s\\S]*"},
    {SH("Queues", LK_LIST), BETWEEN(1, 1), .member = "Queue"},
    {SH("SourceAccessType", LK_STRING), .enums = e_source_access},
    {SH("URI", LK_STRING), BETWEEN(1, 200), .pattern = "[a-zA-Z0-9-\\/*:_+=.@-]*"},
    {SH("SourceAccessConfiguration", LK_STRUCT), MEMBERS(m_source_access)},
    {SH("SourceAccessConfigurations", LK_LIST), BETWEEN(0, 22),
     .member = "SourceAccessConfiguration"},
    {SH("EndPointType", LK_STRING), .enums = e_endpoint_type},
    {SH("Endpoint", LK_STRING), BETWEEN(1, 300),
     .pattern = "^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\\-]*[a-zA-Z0-9])\\.)*([A-Za-z0-9]|"
                "[A-Za-z0-9][A-Za-z0-9\\-]*[A-Za-z0-9]):[0-9]{1,5}"},
    {SH("EndpointLists", LK_LIST), BETWEEN(1, 10), .member = "Endpoint"},
    {SH("Endpoints", LK_MAP), BETWEEN(1, 2), .member = "EndpointLists", .key = "EndPointType"},
    {SH("SelfManagedEventSource", LK_STRUCT), MEMBERS(m_self_managed_source)},
    {SH("KafkaEventSourceConfig", LK_STRUCT), MEMBERS(m_kafka_config)},
    {SH("FunctionResponseType", LK_STRING), .enums = e_response_type},
    {SH("FunctionResponseTypeList", LK_LIST), BETWEEN(0, 1), .member = "FunctionResponseType"},
    {SH("Pattern", LK_STRING), BETWEEN(0, 4096), .pattern = ".*"},
    {SH("Filter", LK_STRUCT), MEMBERS(m_filter)},
    {SH("FilterList", LK_LIST), .member = "Filter"},
    {SH("FilterCriteria", LK_STRUCT), MEMBERS(m_filter_criteria)},
    {SH("MaximumConcurrency", LK_INT), BETWEEN(2, 1000)},
    {SH("ScalingConfig", LK_STRUCT), MEMBERS(m_scaling_config)},
    {SH("OpaqueStruct", LK_STRUCT)}, /* members not checked here yet (only that it is an object) */
    /* permissions */
    {SH("StatementId", LK_STRING), BETWEEN(1, 100), .pattern = "([a-zA-Z0-9-_]+)"},
    {SH("Action", LK_STRING), .pattern = "(lambda:[*]|lambda:[a-zA-Z]+|[*])"},
    {SH("Principal", LK_STRING), .pattern = "[^\\s]+"},
    {SH("SourceOwner", LK_STRING), AT_MOST(12), .pattern = "\\d{12}"},
    {SH("EventSourceToken", LK_STRING), BETWEEN(0, 256), .pattern = "[a-zA-Z0-9._\\-]+"},
    {SH("PrincipalOrgID", LK_STRING), BETWEEN(12, 34), .pattern = "^o-[a-z0-9]{10,32}$"},
    {SH("OrganizationId", LK_STRING), AT_MOST(34), .pattern = "o-[a-z0-9]{10,32}"},
    {SH("LayerPermissionAllowedAction", LK_STRING), AT_MOST(22),
     .pattern = "lambda:GetLayerVersion"},
    {SH("LayerPermissionAllowedPrincipal", LK_STRING),
     .pattern = "\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root"},
    /* structures of CreateFunction / UpdateFunctionConfiguration */
    {SH("FunctionCode", LK_STRUCT), MEMBERS(m_function_code)},
    {SH("VpcConfig", LK_STRUCT), MEMBERS(m_vpc_config)},
    {SH("Environment", LK_STRUCT), MEMBERS(m_environment)},
    {SH("TracingConfig", LK_STRUCT), MEMBERS(m_tracing_config)},
    {SH("DeadLetterConfig", LK_STRUCT), MEMBERS(m_dead_letter_config)},
    {SH("ImageConfig", LK_STRUCT), MEMBERS(m_image_config)},
    {SH("FileSystemConfig", LK_STRUCT), MEMBERS(m_file_system_config)},
    {SH("EphemeralStorage", LK_STRUCT), MEMBERS(m_ephemeral_storage)},
    {SH("SnapStart", LK_STRUCT), MEMBERS(m_snap_start)},
    {SH("LoggingConfig", LK_STRUCT), MEMBERS(m_logging_config)},
    /* plain types */
    {SH("String", LK_STRING)},
    {SH("Boolean", LK_BOOL)},
    {SH("NullableBoolean", LK_BOOL)},
    {SH("Blob", LK_BLOB), .sensitive = true},
    {SH("Date", LK_TIMESTAMP)},
};

/* ---- the operations (members in AWS's reporting order; see the top of the file) ---- */

static const struct lambda_member op_create_function[] = {
    {"Architectures", "architectures", "ArchitecturesList", LL_BODY, false},
    {"EphemeralStorage", "ephemeralStorage", "EphemeralStorage", LL_BODY, false},
    {"Handler", "handler", "Handler", LL_BODY, false},
    {"Role", "role", "RoleArn", LL_BODY, true},
    {"Code", "code", "FunctionCode", LL_BODY, true},
    {"FunctionName", "functionName", "FunctionName", LL_BODY, true},
    {"TracingConfig", "tracingConfig", "TracingConfig", LL_BODY, false},
    {"Runtime", "runtime", "Runtime", LL_BODY, false},
    {"Description", "description", "Description", LL_BODY, false},
    {"DeadLetterConfig", "deadLetterConfig", "DeadLetterConfig", LL_BODY, false},
    {"PackageType", "packageType", "PackageType", LL_BODY, false},
    {"Timeout", "timeout", "Timeout", LL_BODY, false},
    {"ImageConfig", "imageConfig", "ImageConfig", LL_BODY, false},
    {"Tags", "tags", "Tags", LL_BODY, false},
    {"Environment", "environment", "Environment", LL_BODY, false},
    {"MemorySize", "memorySize", "MemorySize", LL_BODY, false},
    {"KMSKeyArn", "kMSKeyArn", "KMSKeyArn", LL_BODY, false},
    {"FileSystemConfigs", "fileSystemConfigs", "FileSystemConfigList", LL_BODY, false},
    {"CodeSigningConfigArn", "codeSigningConfigArn", "CodeSigningConfigArn", LL_BODY, false},
    {"Publish", "publish", "Boolean", LL_BODY, false},
    {"VpcConfig", "vpcConfig", "VpcConfig", LL_BODY, false},
    {"LoggingConfig", "loggingConfig", "LoggingConfig", LL_BODY, false},
    {"Layers", "layers", "LayerList", LL_BODY, false},
    {"SnapStart", "snapStart", "SnapStart", LL_BODY, false},
};

static const struct lambda_member op_update_function_configuration[] = {
    {"EphemeralStorage", "ephemeralStorage", "EphemeralStorage", LL_BODY, false},
    {"Handler", "handler", "Handler", LL_BODY, false},
    {"Role", "role", "RoleArn", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"TracingConfig", "tracingConfig", "TracingConfig", LL_BODY, false},
    {"Description", "description", "Description", LL_BODY, false},
    {"Runtime", "runtime", "Runtime", LL_BODY, false},
    {"DeadLetterConfig", "deadLetterConfig", "DeadLetterConfig", LL_BODY, false},
    {"Timeout", "timeout", "Timeout", LL_BODY, false},
    {"ImageConfig", "imageConfig", "ImageConfig", LL_BODY, false},
    {"RevisionId", "revisionId", "String", LL_BODY, false},
    {"Environment", "environment", "Environment", LL_BODY, false},
    {"MemorySize", "memorySize", "MemorySize", LL_BODY, false},
    {"KMSKeyArn", "kMSKeyArn", "KMSKeyArn", LL_BODY, false},
    {"FileSystemConfigs", "fileSystemConfigs", "FileSystemConfigList", LL_BODY, false},
    {"VpcConfig", "vpcConfig", "VpcConfig", LL_BODY, false},
    {"LoggingConfig", "loggingConfig", "LoggingConfig", LL_BODY, false},
    {"Layers", "layers", "LayerList", LL_BODY, false},
    {"SnapStart", "snapStart", "SnapStart", LL_BODY, false},
};

static const struct lambda_member op_update_function_code[] = {
    {"RevisionId", "revisionId", "String", LL_BODY, false},
    {"Architectures", "architectures", "ArchitecturesList", LL_BODY, false},
    {"S3ObjectVersion", "s3ObjectVersion", "S3ObjectVersion", LL_BODY, false},
    {"ImageUri", "imageUri", "String", LL_BODY, false},
    {"S3Key", "s3Key", "S3Key", LL_BODY, false},
    {"DryRun", "dryRun", "Boolean", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"SourceKMSKeyArn", "sourceKMSKeyArn", "KMSKeyArn", LL_BODY, false},
    {"Publish", "publish", "Boolean", LL_BODY, false},
    {"ZipFile", "zipFile", "Blob", LL_BODY, false},
    {"S3Bucket", "s3Bucket", "S3Bucket", LL_BODY, false},
};

static const struct lambda_member op_put_function_concurrency[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"ReservedConcurrentExecutions", "reservedConcurrentExecutions", "ReservedConcurrentExecutions",
     LL_BODY, true},
};

static const struct lambda_member op_function_only[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
};

static const struct lambda_member op_function_qualified[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, false},
};

static const struct lambda_member op_namespaced_qualified[] = {
    {"FunctionName", "functionName", "NamespacedFunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, false},
};

static const struct lambda_member op_tag_resource[] = {
    {"Resource", "resource", "TaggableResource", LL_URI, true},
    {"Tags", "tags", "Tags", LL_BODY, true},
};

static const struct lambda_member op_untag_resource[] = {
    {"Resource", "resource", "TaggableResource", LL_URI, true},
    {"TagKeys", "tagKeys", "TagKeyList", LL_QUERY, true},
};

static const struct lambda_member op_list_tags[] = {
    {"Resource", "resource", "TaggableResource", LL_URI, true},
};

static const struct lambda_member op_invoke[] = {
    {"LogType", "logType", "LogType", LL_HEADER, false},
    {"ClientContext", "clientContext", "String", LL_HEADER, false},
    {"InvocationType", "invocationType", "InvocationType", LL_HEADER, false},
    {"FunctionName", "functionName", "NamespacedFunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, false},
};

static const struct lambda_member op_list_functions[] = {
    {"MaxItems", "maxItems", "MaxListItems", LL_QUERY, false},
    {"MasterRegion", "masterRegion", "MasterRegion", LL_QUERY, false},
    {"FunctionVersion", "functionVersion", "FunctionVersion", LL_QUERY, false},
    {"Marker", "marker", "String", LL_QUERY, false},
};

static const struct lambda_member op_list_versions[] = {
    {"MaxItems", "maxItems", "MaxListItems", LL_QUERY, false},
    {"FunctionName", "functionName", "NamespacedFunctionName", LL_URI, true},
    {"Marker", "marker", "String", LL_QUERY, false},
};

static const struct lambda_member op_publish_version[] = {
    {"RevisionId", "revisionId", "String", LL_BODY, false},
    {"CodeSha256", "codeSha256", "String", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Description", "description", "Description", LL_BODY, false},
};

static const struct lambda_member op_create_alias[] = {
    {"FunctionVersion", "functionVersion", "Version", LL_BODY, true},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Name", "name", "Alias", LL_BODY, true},
    {"Description", "description", "Description", LL_BODY, false},
    {"RoutingConfig", "routingConfig", "AliasRoutingConfiguration", LL_BODY, false},
};

static const struct lambda_member op_update_alias[] = {
    {"RevisionId", "revisionId", "String", LL_BODY, false},
    {"FunctionVersion", "functionVersion", "Version", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Name", "name", "Alias", LL_URI, true},
    {"Description", "description", "Description", LL_BODY, false},
    {"RoutingConfig", "routingConfig", "AliasRoutingConfiguration", LL_BODY, false},
};

static const struct lambda_member op_publish_layer_version[] = {
    {"CompatibleRuntimes", "compatibleRuntimes", "CompatibleRuntimes", LL_BODY, false},
    {"Description", "description", "Description", LL_BODY, false},
    {"LicenseInfo", "licenseInfo", "LicenseInfo", LL_BODY, false},
    {"CompatibleArchitectures", "compatibleArchitectures", "CompatibleArchitectures", LL_BODY,
     false},
    {"LayerName", "layerName", "LayerName", LL_URI, true},
    {"Content", "content", "LayerVersionContentInput", LL_BODY, true},
};

static const struct lambda_member op_create_function_url_config[] = {
    {"Cors", "cors", "Cors", LL_BODY, false},
    {"InvokeMode", "invokeMode", "InvokeMode", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "FunctionUrlQualifier", LL_QUERY, false},
    {"AuthType", "authType", "FunctionUrlAuthType", LL_BODY, true},
};

static const struct lambda_member op_update_function_url_config[] = {
    {"Cors", "cors", "Cors", LL_BODY, false},
    {"InvokeMode", "invokeMode", "InvokeMode", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "FunctionUrlQualifier", LL_QUERY, false},
    {"AuthType", "authType", "FunctionUrlAuthType", LL_BODY, false},
};

static const struct lambda_member op_function_url_qualified[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "FunctionUrlQualifier", LL_QUERY, false},
};

static const struct lambda_member op_list_function_url_configs[] = {
    {"MaxItems", "maxItems", "MaxItems", LL_QUERY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Marker", "marker", "String", LL_QUERY, false},
};

static const struct lambda_member op_put_provisioned_concurrency[] = {
    {"ProvisionedConcurrentExecutions", "provisionedConcurrentExecutions", "PositiveInteger",
     LL_BODY, true},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, true},
};

static const struct lambda_member op_provisioned_concurrency[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, true},
};

static const struct lambda_member op_alias_named[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Name", "name", "Alias", LL_URI, true},
};

static const struct lambda_member op_list_aliases[] = {
    {"MaxItems", "maxItems", "MaxListItems", LL_QUERY, false},
    {"FunctionVersion", "functionVersion", "Version", LL_QUERY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Marker", "marker", "String", LL_QUERY, false},
};

static const struct lambda_member op_layer_named[] = {
    {"LayerName", "layerName", "LayerName", LL_URI, true},
};

static const struct lambda_member op_list_layers[] = {
    {"MaxItems", "maxItems", "MaxLayerListItems", LL_QUERY, false},
    {"CompatibleRuntime", "compatibleRuntime", "LayerRuntime", LL_QUERY, false},
    {"CompatibleArchitecture", "compatibleArchitecture", "Architecture", LL_QUERY, false},
    {"Marker", "marker", "String", LL_QUERY, false},
};

static const struct lambda_member op_layer_permission[] = {
    {"RevisionId", "revisionId", "String", LL_BODY, false},
    {"Principal", "principal", "LayerPermissionAllowedPrincipal", LL_BODY, true},
    {"LayerName", "layerName", "LayerName", LL_URI, true},
    {"OrganizationId", "organizationId", "OrganizationId", LL_BODY, false},
    {"StatementId", "statementId", "StatementId", LL_BODY, true},
    {"Action", "action", "LayerPermissionAllowedAction", LL_BODY, true},
};

static const struct lambda_member op_event_invoke_config[] = {
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, false},
    {"MaximumRetryAttempts", "maximumRetryAttempts", "MaximumRetryAttempts", LL_BODY, false},
    {"DestinationConfig", "destinationConfig", "DestinationConfig", LL_BODY, false},
    {"MaximumEventAgeInSeconds", "maximumEventAgeInSeconds", "MaximumEventAgeInSeconds", LL_BODY,
     false},
};

static const struct lambda_member op_create_event_source_mapping[] = {
    {"ParallelizationFactor", "parallelizationFactor", "ParallelizationFactor", LL_BODY, false},
    {"SelfManagedKafkaEventSourceConfig", "selfManagedKafkaEventSourceConfig",
     "KafkaEventSourceConfig", LL_BODY, false},
    {"MaximumRetryAttempts", "maximumRetryAttempts", "MaximumRetryAttemptsEventSourceMapping",
     LL_BODY, false},
    {"MetricsConfig", "metricsConfig", "OpaqueStruct", LL_BODY, false},
    {"SourceAccessConfigurations", "sourceAccessConfigurations", "SourceAccessConfigurations",
     LL_BODY, false},
    {"Enabled", "enabled", "Boolean", LL_BODY, false},
    {"DestinationConfig", "destinationConfig", "DestinationConfig", LL_BODY, false},
    {"MaximumBatchingWindowInSeconds", "maximumBatchingWindowInSeconds",
     "MaximumBatchingWindowInSeconds", LL_BODY, false},
    {"KMSKeyArn", "kMSKeyArn", "KMSKeyArn", LL_BODY, false},
    {"TumblingWindowInSeconds", "tumblingWindowInSeconds", "TumblingWindowInSeconds", LL_BODY,
     false},
    {"AmazonManagedKafkaEventSourceConfig", "amazonManagedKafkaEventSourceConfig",
     "KafkaEventSourceConfig", LL_BODY, false},
    {"SelfManagedEventSource", "selfManagedEventSource", "SelfManagedEventSource", LL_BODY, false},
    {"FilterCriteria", "filterCriteria", "FilterCriteria", LL_BODY, false},
    {"ScalingConfig", "scalingConfig", "ScalingConfig", LL_BODY, false},
    {"ProvisionedPollerConfig", "provisionedPollerConfig", "OpaqueStruct", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_BODY, true},
    {"Topics", "topics", "Topics", LL_BODY, false},
    {"MaximumRecordAgeInSeconds", "maximumRecordAgeInSeconds", "MaximumRecordAgeInSeconds", LL_BODY,
     false},
    {"StartingPosition", "startingPosition", "EventSourcePosition", LL_BODY, false},
    {"DocumentDBEventSourceConfig", "documentDBEventSourceConfig", "OpaqueStruct", LL_BODY, false},
    {"StartingPositionTimestamp", "startingPositionTimestamp", "Date", LL_BODY, false},
    {"Tags", "tags", "Tags", LL_BODY, false},
    {"EventSourceArn", "eventSourceArn", "Arn", LL_BODY, false},
    {"Queues", "queues", "Queues", LL_BODY, false},
    {"BatchSize", "batchSize", "BatchSize", LL_BODY, false},
    {"BisectBatchOnFunctionError", "bisectBatchOnFunctionError", "Boolean", LL_BODY, false},
    {"FunctionResponseTypes", "functionResponseTypes", "FunctionResponseTypeList", LL_BODY, false},
};

static const struct lambda_member op_add_permission[] = {
    {"Principal", "principal", "Principal", LL_BODY, true},
    {"RevisionId", "revisionId", "String", LL_BODY, false},
    {"FunctionUrlAuthType", "functionUrlAuthType", "FunctionUrlAuthType", LL_BODY, false},
    {"SourceArn", "sourceArn", "Arn", LL_BODY, false},
    {"SourceAccount", "sourceAccount", "SourceOwner", LL_BODY, false},
    {"PrincipalOrgID", "principalOrgID", "PrincipalOrgID", LL_BODY, false},
    {"FunctionName", "functionName", "FunctionName", LL_URI, true},
    {"Qualifier", "qualifier", "Qualifier", LL_QUERY, false},
    {"StatementId", "statementId", "StatementId", LL_BODY, true},
    {"EventSourceToken", "eventSourceToken", "EventSourceToken", LL_BODY, false},
    {"Action", "action", "Action", LL_BODY, true},
};

#define OP(name, members)                                                                          \
    {                                                                                              \
        name, members, sizeof(members) / sizeof((members)[0])                                      \
    }

static const struct lambda_op ops[] = {
    OP("CreateFunction", op_create_function),
    OP("UpdateFunctionConfiguration", op_update_function_configuration),
    OP("UpdateFunctionCode", op_update_function_code),
    OP("PutFunctionConcurrency", op_put_function_concurrency),
    OP("GetFunctionConcurrency", op_function_only),
    OP("DeleteFunctionConcurrency", op_function_only),
    OP("GetFunction", op_namespaced_qualified),
    OP("GetFunctionConfiguration", op_namespaced_qualified),
    OP("DeleteFunction", op_function_qualified),
    OP("TagResource", op_tag_resource),
    OP("UntagResource", op_untag_resource),
    OP("ListTags", op_list_tags),
    OP("Invoke", op_invoke),
    OP("ListFunctions", op_list_functions),
    OP("ListVersionsByFunction", op_list_versions),
    OP("PublishVersion", op_publish_version),
    OP("CreateAlias", op_create_alias),
    OP("UpdateAlias", op_update_alias),
    OP("PublishLayerVersion", op_publish_layer_version),
    OP("CreateFunctionUrlConfig", op_create_function_url_config),
    OP("PutFunctionEventInvokeConfig", op_event_invoke_config),
    OP("UpdateFunctionEventInvokeConfig", op_event_invoke_config),
    OP("CreateEventSourceMapping", op_create_event_source_mapping),
    OP("AddPermission", op_add_permission),
    OP("UpdateFunctionUrlConfig", op_update_function_url_config),
    OP("GetFunctionUrlConfig", op_function_url_qualified),
    OP("ListFunctionUrlConfigs", op_list_function_url_configs),
    OP("PutProvisionedConcurrencyConfig", op_put_provisioned_concurrency),
    OP("GetProvisionedConcurrencyConfig", op_provisioned_concurrency),
    OP("GetAlias", op_alias_named),
    OP("ListAliases", op_list_aliases),
    OP("GetLayerVersion", op_layer_named),
    OP("ListLayers", op_list_layers),
    OP("AddLayerVersionPermission", op_layer_permission),
};

const struct lambda_shape *lambda__shape(const char *name)
{
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
        if (strcmp(shapes[i].name, name) == 0)
            return &shapes[i];
    return NULL;
}

const struct lambda_op *lambda__op(const char *name)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}

const struct lambda_shape *lambda__shapes(size_t *n)
{
    *n = sizeof(shapes) / sizeof(shapes[0]);
    return shapes;
}

const struct lambda_op *lambda__ops(size_t *n)
{
    *n = sizeof(ops) / sizeof(ops[0]);
    return ops;
}

/* ======================================================================================
 * The pattern matcher
 *
 * The pattern is parsed into a small tree, compiled into a program for a Pike-style NFA
 * simulation and run once over the value, one code point at a time, every live thread
 * advancing in step: time is linear in the value's length (times the program's size), so
 * a 6 MB value cannot make a check slow, and no recursion depends on the input.
 * Semantics are java.util.regex's as Coral applies them (Matcher.matches(): the whole
 * value must match): "." is any code point but a line terminator; \s is [ \t\n\x0B\f\r];
 * \d is [0-9]; \w is [a-zA-Z_0-9]; "^" and "$" are the value's start and end.
 * ====================================================================================== */

enum { RE_MAX_NODES = 512, RE_MAX_CLASSES = 64, RE_MAX_PROG = 2048, RE_MAX_REPEAT = 1000 };

enum node_kind {
    N_EMPTY,
    N_CHAR,
    N_ANY,
    N_CLASS,
    N_BOL,
    N_EOL,
    N_CAT,
    N_ALT,
    N_REP,
    N_NLOOK,
    N_NBEHIND
};

/* A tree node; children form a list (first, then each one's next). */
struct node {
    enum node_kind kind;
    int first, last, next; /* -1: none */
    uint32_t c;            /* N_CHAR: the code point; N_CLASS: the class index */
    int min, max;          /* N_REP; max -1: unbounded */
};

/* A character class: its ASCII members as bits, whether code points past ASCII belong
 * (only through \S \D \W), and negation. */
struct cls {
    uint8_t bits[16];
    bool high;
    bool neg;
};

struct re {
    const char *p; /* the pattern, read left to right */
    bool bad;
    struct node nodes[RE_MAX_NODES];
    int nnodes;
    struct cls classes[RE_MAX_CLASSES];
    int nclasses;
};

static int new_node(struct re *r, enum node_kind k)
{
    if (r->nnodes == RE_MAX_NODES) {
        r->bad = true;
        return 0;
    }
    struct node *n = &r->nodes[r->nnodes];
    memset(n, 0, sizeof(*n));
    n->kind = k;
    n->first = n->last = n->next = -1;
    return r->nnodes++;
}

static void add_kid(struct re *r, int parent, int kid)
{
    struct node *n = &r->nodes[parent];
    if (r->bad)
        return;
    if (n->first < 0)
        n->first = kid;
    else
        r->nodes[n->last].next = kid;
    n->last = kid;
}

static int new_class(struct re *r)
{
    if (r->nclasses == RE_MAX_CLASSES) {
        r->bad = true;
        return 0;
    }
    memset(&r->classes[r->nclasses], 0, sizeof(r->classes[0]));
    return r->nclasses++;
}

static void cls_set(struct cls *c, uint32_t lo, uint32_t hi)
{
    for (uint32_t x = lo; x <= hi && x < 128; x++)
        c->bits[x >> 3] |= (uint8_t)(1u << (x & 7));
    if (hi >= 128)
        c->high = true;
}

/* Adds the class escape \d \D \s \S \w \W to c; false when e is not one. */
static bool cls_escape(struct cls *c, char e)
{
    struct cls t;
    memset(&t, 0, sizeof(t));
    switch (e) {
    case 'd':
    case 'D':
        cls_set(&t, '0', '9');
        break;
    case 's':
    case 'S':
        cls_set(&t, ' ', ' ');
        cls_set(&t, '\t', '\r'); /* \t \n \x0B \f \r */
        break;
    case 'w':
    case 'W':
        cls_set(&t, 'a', 'z');
        cls_set(&t, 'A', 'Z');
        cls_set(&t, '0', '9');
        cls_set(&t, '_', '_');
        break;
    default:
        return false;
    }
    bool upper = e >= 'A' && e <= 'Z';
    for (int i = 0; i < 16; i++)
        c->bits[i] |= upper ? (uint8_t)~t.bits[i] : t.bits[i];
    c->high = c->high || upper;
    return true;
}

/* The code point at s (n > 0 bytes) and its byte length; invalid bytes read as U+FFFD. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *used)
{
    size_t k = utf8_seq_len(s, n);
    if (k == 0) {
        *used = 1;
        return 0xFFFD;
    }
    uint32_t cp = k == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> k));
    for (size_t i = 1; i < k; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    *used = k;
    return cp;
}

/* One literal (possibly escaped) at r->p, advancing past it. */
static uint32_t literal(struct re *r)
{
    const unsigned char *s = (const unsigned char *)r->p;
    if (s[0] == '\\') {
        if (s[1] == '\0') {
            r->bad = true;
            return 0;
        }
        r->p += 2;
        switch (s[1]) {
        case 't':
            return '\t';
        case 'n':
            return '\n';
        case 'r':
            return '\r';
        case 'f':
            return '\f';
        default:
            if ((s[1] >= 'a' && s[1] <= 'z') || (s[1] >= 'A' && s[1] <= 'Z'))
                r->bad = true; /* \b, \Q, \p{..}: not in the subset */
            return s[1];
        }
    }
    size_t used;
    uint32_t cp = decode(s, strlen(r->p), &used);
    r->p += used;
    return cp;
}

/* [...] at r->p (just past the '['). */
static int parse_class(struct re *r)
{
    int ci = new_class(r);
    struct cls *c = &r->classes[ci];
    if (*r->p == '^') {
        c->neg = true;
        r->p++;
    }
    bool first = true;
    while (!r->bad && *r->p != '\0' && (*r->p != ']' || first)) {
        first = false;
        if (r->p[0] == '[' || (r->p[0] == '&' && r->p[1] == '&')) {
            r->bad = true; /* Java's nested classes and intersections: not in the subset */
            break;
        }
        if (r->p[0] == '\\' && r->p[1] != '\0' && cls_escape(c, r->p[1])) {
            r->p += 2;
            continue;
        }
        uint32_t lo = literal(r);
        uint32_t hi = lo;
        /* a range; a '-' first, last or right after a range is itself */
        if (r->p[0] == '-' && r->p[1] != ']' && r->p[1] != '\0') {
            r->p++;
            hi = literal(r);
            if (hi < lo)
                r->bad = true;
        }
        if (hi > 127)
            r->bad = true; /* non-ASCII literals are not in AWS's patterns */
        else
            cls_set(c, lo, hi);
    }
    if (*r->p != ']')
        r->bad = true;
    else
        r->p++;
    int n = new_node(r, N_CLASS);
    r->nodes[n].c = (uint32_t)ci;
    return n;
}

static int parse_alt(struct re *r);

static int parse_group(struct re *r)
{
    enum node_kind k = N_CAT;
    if (strncmp(r->p, "?:", 2) == 0) {
        r->p += 2;
    } else if (strncmp(r->p, "?!", 2) == 0) {
        r->p += 2;
        k = N_NLOOK;
    } else if (strncmp(r->p, "?<!", 3) == 0) {
        r->p += 3;
        k = N_NBEHIND;
    } else if (*r->p == '?') {
        r->bad = true; /* other group kinds are not in the subset */
    }
    int inner = parse_alt(r);
    if (*r->p != ')')
        r->bad = true;
    else
        r->p++;
    if (k == N_CAT)
        return inner;
    /* a lookbehind must be one character: a concatenation of one literal or class */
    if (k == N_NBEHIND) {
        const struct node *in = &r->nodes[inner];
        int only = in->kind == N_CAT && in->first >= 0 && in->first == in->last ? in->first : inner;
        enum node_kind ok = r->nodes[only].kind;
        if (ok != N_CHAR && ok != N_CLASS && ok != N_ANY)
            r->bad = true;
        inner = only;
    }
    int n = new_node(r, k);
    add_kid(r, n, inner);
    return n;
}

static int parse_atom(struct re *r)
{
    int n;
    switch (*r->p) {
    case '(':
        r->p++;
        return parse_group(r);
    case '[':
        r->p++;
        return parse_class(r);
    case '.':
        r->p++;
        return new_node(r, N_ANY);
    case '^':
        r->p++;
        return new_node(r, N_BOL);
    case '$':
        r->p++;
        return new_node(r, N_EOL);
    case '*':
    case '+':
    case '?':
    case '{':
        r->bad = true; /* a quantifier with nothing to repeat */
        return new_node(r, N_EMPTY);
    case '\\':
        if (r->p[1] != '\0' && strchr("dDsSwW", r->p[1]) != NULL) {
            int ci = new_class(r);
            cls_escape(&r->classes[ci], r->p[1]);
            r->p += 2;
            n = new_node(r, N_CLASS);
            r->nodes[n].c = (uint32_t)ci;
            return n;
        }
        break;
    default:
        break;
    }
    uint32_t cp = literal(r);
    n = new_node(r, N_CHAR);
    r->nodes[n].c = cp;
    return n;
}

static int parse_number(struct re *r)
{
    int v = 0;
    if (*r->p < '0' || *r->p > '9')
        r->bad = true;
    while (*r->p >= '0' && *r->p <= '9' && v <= RE_MAX_REPEAT)
        v = v * 10 + (*r->p++ - '0');
    if (v > RE_MAX_REPEAT)
        r->bad = true;
    return v;
}

static int parse_repeat(struct re *r)
{
    int atom = parse_atom(r);
    while (!r->bad) {
        int min, max;
        switch (*r->p) {
        case '*':
            min = 0, max = -1;
            break;
        case '+':
            min = 1, max = -1;
            break;
        case '?':
            min = 0, max = 1;
            break;
        case '{':
            r->p++;
            min = max = parse_number(r);
            if (*r->p == ',') {
                r->p++;
                max = *r->p == '}' ? -1 : parse_number(r);
            }
            if (*r->p != '}' || (max >= 0 && max < min))
                r->bad = true;
            break;
        default:
            return atom;
        }
        if (*r->p != '\0')
            r->p++;
        if (*r->p == '?' || *r->p == '+') /* lazy and possessive: the same language */
            r->p++;
        int n = new_node(r, N_REP);
        add_kid(r, n, atom);
        r->nodes[n].min = min;
        r->nodes[n].max = max;
        atom = n;
    }
    return atom;
}

static int parse_cat(struct re *r)
{
    int n = new_node(r, N_CAT);
    while (!r->bad && *r->p != '\0' && *r->p != '|' && *r->p != ')')
        add_kid(r, n, parse_repeat(r));
    return n;
}

static int parse_alt(struct re *r)
{
    int first = parse_cat(r);
    if (*r->p != '|')
        return first;
    int n = new_node(r, N_ALT);
    add_kid(r, n, first);
    while (!r->bad && *r->p == '|') {
        r->p++;
        add_kid(r, n, parse_cat(r));
    }
    return n;
}

enum re_op { I_CHAR, I_ANY, I_CLASS, I_SPLIT, I_JMP, I_BOL, I_EOL, I_NLOOK, I_NBEHIND, I_MATCH };

struct inst {
    enum re_op op;
    enum re_op test; /* I_NBEHIND: what must not precede (I_CHAR, I_CLASS or I_ANY) */
    uint32_t c;      /* I_CHAR: the code point; I_CLASS: the class index; I_NBEHIND: its c */
    int x, y;        /* I_SPLIT: both targets; I_JMP: x; I_NLOOK: x = its body, y = after */
};

struct prog {
    struct inst in[RE_MAX_PROG];
    int n;
    bool bad;
    const struct cls *classes;
};

static int emit(struct prog *p, enum re_op op)
{
    if (p->n == RE_MAX_PROG) {
        p->bad = true;
        return RE_MAX_PROG - 1;
    }
    memset(&p->in[p->n], 0, sizeof(p->in[0]));
    p->in[p->n].op = op;
    return p->n++;
}

static void compile(struct prog *p, const struct re *r, int ni);

/* e1|e2|...|en: split L1, next; L1: e1; jmp end; next: split L2, next'; ...; en */
static void compile_alt(struct prog *p, const struct re *r, const struct node *n)
{
    int jumps[64];
    int nj = 0;
    for (int k = n->first; k >= 0 && !p->bad; k = r->nodes[k].next) {
        if (r->nodes[k].next < 0) {
            compile(p, r, k);
            break;
        }
        int s = emit(p, I_SPLIT);
        p->in[s].x = s + 1;
        compile(p, r, k);
        if (nj == 64) {
            p->bad = true;
            return;
        }
        jumps[nj++] = emit(p, I_JMP);
        p->in[s].y = p->n;
    }
    for (int i = 0; i < nj; i++)
        p->in[jumps[i]].x = p->n;
}

/* e{min,max}: min copies, then a loop (unbounded) or max-min optional copies */
static void compile_rep(struct prog *p, const struct re *r, const struct node *n)
{
    for (int i = 0; i < n->min && !p->bad; i++)
        compile(p, r, n->first);
    if (n->max < 0) {
        int s = emit(p, I_SPLIT);
        p->in[s].x = s + 1;
        compile(p, r, n->first);
        p->in[emit(p, I_JMP)].x = s;
        p->in[s].y = p->n;
        return;
    }
    int splits[RE_MAX_REPEAT];
    int ns = 0;
    for (int i = n->min; i < n->max && !p->bad; i++) {
        int s = emit(p, I_SPLIT);
        splits[ns++] = s;
        p->in[s].x = s + 1;
        compile(p, r, n->first);
    }
    for (int i = 0; i < ns; i++)
        p->in[splits[i]].y = p->n;
}

static void compile(struct prog *p, const struct re *r, int ni)
{
    const struct node *n = &r->nodes[ni];
    int a;
    if (p->bad)
        return;
    switch (n->kind) {
    case N_EMPTY:
        break;
    case N_CHAR:
        p->in[emit(p, I_CHAR)].c = n->c;
        break;
    case N_ANY:
        emit(p, I_ANY);
        break;
    case N_CLASS:
        p->in[emit(p, I_CLASS)].c = n->c;
        break;
    case N_BOL:
        emit(p, I_BOL);
        break;
    case N_EOL:
        emit(p, I_EOL);
        break;
    case N_CAT:
        for (int k = n->first; k >= 0; k = r->nodes[k].next)
            compile(p, r, k);
        break;
    case N_ALT:
        compile_alt(p, r, n);
        break;
    case N_REP:
        compile_rep(p, r, n);
        break;
    case N_NLOOK:
        a = emit(p, I_NLOOK);
        p->in[a].x = a + 1;
        compile(p, r, n->first);
        emit(p, I_MATCH);
        p->in[a].y = p->n;
        break;
    case N_NBEHIND: {
        const struct node *k = &r->nodes[n->first];
        a = emit(p, I_NBEHIND);
        p->in[a].test = k->kind == N_CHAR ? I_CHAR : k->kind == N_CLASS ? I_CLASS : I_ANY;
        p->in[a].c = k->c;
        break;
    }
    }
}

#define NO_CP UINT32_MAX

static bool is_line_end(uint32_t cp)
{
    return cp == '\n' || cp == '\r' || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

/* Does the consuming test op/c accept cp? */
static bool accepts(const struct prog *p, enum re_op op, uint32_t c, uint32_t cp)
{
    const struct cls *k;
    bool in;
    switch (op) {
    case I_CHAR:
        return cp == c;
    case I_ANY:
        return !is_line_end(cp);
    case I_CLASS:
        k = &p->classes[c];
        in = cp < 128 ? (k->bits[cp >> 3] >> (cp & 7)) & 1 : k->high;
        return in != k->neg;
    default:
        return false;
    }
}

struct threads {
    int pc[RE_MAX_PROG];
    int n;
};

/* Where a simulation stands: the input, the position and the code point before it. */
struct at {
    const char *s;
    size_t len;
    size_t pos;
    uint32_t prev;
};

/* One simulation's memory, allocated once per run. */
struct sim {
    const struct prog *p;
    bool prefix; /* a lookahead body: any prefix of the rest may match */
    bool full;   /* a MATCH was reached at the end of the input */
    int gen;     /* the current step; mark[pc] == gen: pc already added in it */
    int mark[RE_MAX_PROG];
    int stack[2 * RE_MAX_PROG + 1]; /* a pc is pushed at most once per incoming edge */
    struct threads a, b;
};

static bool run(const struct prog *p, int start, struct at a, bool prefix);

/*
 * Adds pc and every instruction reachable from it without consuming input to t. Returns
 * true when, in prefix mode, a MATCH is reached; sets m->full when a MATCH is reached at
 * the end of the input.
 */
static bool add(struct sim *m, struct threads *t, int pc, struct at a)
{
    const struct prog *p = m->p;
    int sp = 0;
    m->stack[sp++] = pc;
    while (sp > 0) {
        pc = m->stack[--sp];
        if (m->mark[pc] == m->gen)
            continue;
        m->mark[pc] = m->gen;
        const struct inst *in = &p->in[pc];
        switch (in->op) {
        case I_MATCH:
            if (m->prefix)
                return true;
            if (a.pos == a.len)
                m->full = true;
            break;
        case I_JMP:
            m->stack[sp++] = in->x;
            break;
        case I_SPLIT:
            m->stack[sp++] = in->y;
            m->stack[sp++] = in->x;
            break;
        case I_BOL:
            if (a.pos == 0)
                m->stack[sp++] = pc + 1;
            break;
        case I_EOL:
            if (a.pos == a.len)
                m->stack[sp++] = pc + 1;
            break;
        case I_NLOOK:
            if (!run(p, in->x, a, true))
                m->stack[sp++] = in->y;
            break;
        case I_NBEHIND:
            if (a.prev == NO_CP || !accepts(p, in->test, in->c, a.prev))
                m->stack[sp++] = pc + 1;
            break;
        default:
            t->pc[t->n++] = pc;
            break;
        }
    }
    return false;
}

/* Runs the program from pc start at a. Full mode: does it match the rest of the input to
 * its end? Prefix mode (lookahead bodies): does it match some prefix of the rest? */
static bool run(const struct prog *p, int start, struct at a, bool prefix)
{
    struct sim *m = malloc(sizeof(*m));
    bool hit = false;
    if (m == NULL)
        return false; /* out of memory: no match (the caller refuses the value) */
    m->p = p;
    m->prefix = prefix;
    m->full = false;
    m->gen = 1;
    memset(m->mark, 0, sizeof(int) * (size_t)p->n);
    struct threads *cur = &m->a, *next = &m->b;
    cur->n = 0;
    hit = add(m, cur, start, a);
    while (!hit && cur->n > 0 && a.pos < a.len) {
        size_t used;
        uint32_t cp = decode((const unsigned char *)a.s + a.pos, a.len - a.pos, &used);
        struct at b = {a.s, a.len, a.pos + used, cp};
        next->n = 0;
        m->gen++;
        for (int i = 0; i < cur->n && !hit; i++) {
            const struct inst *in = &p->in[cur->pc[i]];
            if (accepts(p, in->op, in->c, cp))
                hit = add(m, next, cur->pc[i] + 1, b);
        }
        a = b;
        struct threads *t = cur;
        cur = next;
        next = t;
    }
    hit = hit || (!prefix && m->full);
    free(m);
    return hit;
}

int lambda__pattern_match(const char *pattern, const char *s, size_t len)
{
    /* both are large: on the heap, and only their counters set (nodes, classes and
     * instructions are written as they are made) */
    struct re *r = malloc(sizeof(*r));
    struct prog *p = malloc(sizeof(*p));
    int rc = -1;
    if (r == NULL || p == NULL)
        goto out;
    r->p = pattern;
    r->bad = false;
    r->nnodes = r->nclasses = 0;
    p->n = 0;
    p->bad = false;
    p->classes = r->classes;
    int root = parse_alt(r);
    if (r->bad || *r->p != '\0')
        goto out;
    compile(p, r, root);
    emit(p, I_MATCH);
    if (p->bad)
        goto out;
    struct at a = {s, len, 0, NO_CP};
    rc = run(p, 0, a, false) ? 1 : 0;
out:
    free(r);
    free(p);
    return rc;
}

size_t lambda__codepoints(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        size_t used;
        decode((const unsigned char *)s + i, len - i, &used);
        i += used;
    }
    return n;
}

/* ======================================================================================
 * The checker
 *
 * A request is walked member by member in the table's order. A member of the wrong JSON
 * type stops everything (the request did not deserialize: InvalidParameterValueException).
 * Otherwise every failed constraint becomes one error, and the errors are rendered as
 * Coral renders them. A string holding a NUL character that passes its constraints is
 * refused after them: haar keeps strings as C strings and never truncates one.
 * ====================================================================================== */

enum { VERR_MAX = 32, VPATH_MAX = 192 };

enum vkind {
    V_NULL,
    V_LEN_MAX,
    V_LEN_MIN,
    V_PATTERN,
    V_ENUM,
    V_VAL_MAX,
    V_VAL_MIN,
    V_LIST_MEMBER,
    V_MAP_KEYS,
    V_MAP_VALUES
};

/* One failed constraint: where, which, and the value to show. */
struct verr {
    char path[VPATH_MAX];
    enum vkind kind;
    const struct lambda_shape *shape; /* whose bound/pattern/enum failed; for V_LIST_MEMBER
                                       * and V_MAP_* the element's / key's / value's */
    const json_t *jv;                 /* the value, from the body */
    const char *sv;                   /* or from a parameter */
    size_t svlen;
    const struct lambda_param *plist; /* or a list parameter: its elements named pname */
    size_t nplist;
    const char *pname;
    bool sensitive;
};

struct check {
    struct verr e[VERR_MAX];
    size_t n; /* errors found; only the first VERR_MAX are kept, all are counted */
    bool type_err;
    char type_path[VPATH_MAX];
    const char *type_want;
    bool nul;
    char nul_path[VPATH_MAX];
    bool internal; /* a shape missing from the table or a pattern outside the subset */
};

/* Failed constraints of a string, as bits (in AWS's order: length, pattern, enum). */
enum { F_LEN_MAX = 1, F_LEN_MIN = 2, F_PATTERN = 4, F_ENUM = 8, F_VAL_MAX = 16, F_VAL_MIN = 32 };

static struct verr *fail(struct check *c, const char *path, enum vkind k,
                         const struct lambda_shape *sh, bool sensitive)
{
    struct verr *e = NULL;
    if (c->n < VERR_MAX) {
        e = &c->e[c->n];
        memset(e, 0, sizeof(*e));
        snprintf(e->path, sizeof(e->path), "%s", path);
        e->kind = k;
        e->shape = sh;
        e->sensitive = sensitive;
    }
    c->n++;
    return e;
}

static void fail_json(struct check *c, const char *path, enum vkind k,
                      const struct lambda_shape *sh, const json_t *v, bool sensitive)
{
    struct verr *e = fail(c, path, k, sh, sensitive);
    if (e != NULL)
        e->jv = v;
}

static void fail_text(struct check *c, const char *path, enum vkind k,
                      const struct lambda_shape *sh, const char *s, size_t len, bool sensitive)
{
    struct verr *e = fail(c, path, k, sh, sensitive);
    if (e != NULL) {
        e->sv = s;
        e->svlen = len;
    }
}

static void type_error(struct check *c, const char *jpath, const char *want)
{
    if (c->type_err)
        return;
    c->type_err = true;
    snprintf(c->type_path, sizeof(c->type_path), "%s", jpath);
    c->type_want = want;
}

static void note_nul(struct check *c, const char *path, const char *s, size_t len)
{
    if (!c->nul && memchr(s, '\0', len) != NULL) {
        c->nul = true;
        snprintf(c->nul_path, sizeof(c->nul_path), "%s", path);
    }
}

static const struct lambda_shape *shape_of(struct check *c, const char *name)
{
    const struct lambda_shape *sh = name ? lambda__shape(name) : NULL;
    if (sh == NULL)
        c->internal = true;
    return sh;
}

static unsigned string_failures(struct check *c, const struct lambda_shape *sh, const char *s,
                                size_t len)
{
    unsigned f = 0;
    if (sh->has != 0) {
        long long n = (long long)lambda__codepoints(s, len);
        if ((sh->has & LS_HAS_MAX) && n > sh->max)
            f |= F_LEN_MAX;
        if ((sh->has & LS_HAS_MIN) && n < sh->min)
            f |= F_LEN_MIN;
    }
    if (sh->pattern != NULL) {
        int m = lambda__pattern_match(sh->pattern, s, len);
        if (m < 0)
            c->internal = true;
        else if (m == 0)
            f |= F_PATTERN;
    }
    if (sh->enums != NULL) {
        bool found = false;
        for (const char *const *e = sh->enums; *e && !found; e++)
            found = strlen(*e) == len && memcmp(*e, s, len) == 0;
        if (!found)
            f |= F_ENUM;
    }
    return f;
}

static unsigned int_failures(const struct lambda_shape *sh, long long v)
{
    unsigned f = 0;
    if ((sh->has & LS_HAS_MAX) && v > sh->max)
        f |= F_VAL_MAX;
    if ((sh->has & LS_HAS_MIN) && v < sh->min)
        f |= F_VAL_MIN;
    return f;
}

static const enum vkind kind_of_bit[] = {V_LEN_MAX, V_LEN_MIN, V_PATTERN,
                                         V_ENUM,    V_VAL_MAX, V_VAL_MIN};

/* One error per failed bit, in order. */
static void fail_bits(struct check *c, const char *path, const struct lambda_shape *sh, unsigned f,
                      const json_t *jv, const char *s, size_t len)
{
    for (unsigned i = 0; i < sizeof(kind_of_bit) / sizeof(kind_of_bit[0]); i++) {
        if (!(f & (1u << i)))
            continue;
        if (jv != NULL)
            fail_json(c, path, kind_of_bit[i], sh, jv, sh->sensitive);
        else
            fail_text(c, path, kind_of_bit[i], sh, s, len, sh->sensitive);
    }
}

/* Does a scalar element (a list member, a map key or value) break its shape? Type errors
 * are reported at jpath. */
static bool scalar_bad(struct check *c, const struct lambda_shape *sh, const json_t *v,
                       const char *path, const char *jpath)
{
    switch (sh->kind) {
    case LK_STRING:
        if (!json_is_string(v)) {
            type_error(c, jpath, "a string");
            return false;
        }
        note_nul(c, path, json_string_value(v), json_string_length(v));
        return string_failures(c, sh, json_string_value(v), json_string_length(v)) != 0;
    case LK_INT:
        if (!json_is_integer(v)) {
            type_error(c, jpath, "an integer");
            return false;
        }
        return int_failures(sh, json_integer_value(v)) != 0;
    case LK_DOUBLE:
        if (!json_is_number(v))
            type_error(c, jpath, "a number");
        return false;
    case LK_BOOL:
        if (!json_is_boolean(v))
            type_error(c, jpath, "a boolean");
        return false;
    default:
        c->internal = true;
        return false;
    }
}

static bool is_scalar(const struct lambda_shape *sh)
{
    return sh->kind == LK_STRING || sh->kind == LK_INT || sh->kind == LK_DOUBLE ||
           sh->kind == LK_BOOL;
}

static void check_value(struct check *c, const struct lambda_shape *sh, const char *path,
                        const char *jpath, const json_t *v);

static void check_members(struct check *c, const struct lambda_member *m, size_t n,
                          const json_t *obj, const struct lambda_param *params, size_t np,
                          const char *prefix, const char *jprefix);

static void check_list(struct check *c, const struct lambda_shape *sh, const char *path,
                       const char *jpath, const json_t *arr)
{
    long long n = (long long)json_array_size(arr);
    if ((sh->has & LS_HAS_MAX) && n > sh->max)
        fail_json(c, path, V_LEN_MAX, sh, arr, false);
    if ((sh->has & LS_HAS_MIN) && n < sh->min)
        fail_json(c, path, V_LEN_MIN, sh, arr, false);
    const struct lambda_shape *es = shape_of(c, sh->member);
    if (es == NULL)
        return;
    bool bad = false;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char p[VPATH_MAX], jp[VPATH_MAX];
        snprintf(jp, sizeof(jp), "%s[%zu]", jpath, i);
        if (is_scalar(es)) {
            bad |= json_is_null(v) || scalar_bad(c, es, v, path, jp);
            continue;
        }
        snprintf(p, sizeof(p), "%s.%zu.member", path, i + 1);
        if (json_is_null(v))
            fail_json(c, p, V_NULL, es, v, false);
        else
            check_value(c, es, p, jp, v);
    }
    if (bad)
        fail_json(c, path, V_LIST_MEMBER, es, arr, false);
}

static void check_map(struct check *c, const struct lambda_shape *sh, const char *path,
                      const char *jpath, const json_t *obj)
{
    long long n = (long long)json_object_size(obj);
    if ((sh->has & LS_HAS_MAX) && n > sh->max)
        fail_json(c, path, V_LEN_MAX, sh, obj, sh->sensitive);
    if ((sh->has & LS_HAS_MIN) && n < sh->min)
        fail_json(c, path, V_LEN_MIN, sh, obj, sh->sensitive);
    const struct lambda_shape *ks = shape_of(c, sh->key), *vs = shape_of(c, sh->member);
    if (ks == NULL || vs == NULL)
        return;
    bool kbad = false, vbad = false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        char p[VPATH_MAX], jp[VPATH_MAX];
        snprintf(jp, sizeof(jp), "%s.%s", jpath, k);
        kbad |= string_failures(c, ks, k, strlen(k)) != 0; /* jansson keys hold no NUL */
        if (json_is_null(v))
            continue;
        if (is_scalar(vs)) {
            vbad |= scalar_bad(c, vs, v, path, jp);
            continue;
        }
        snprintf(p, sizeof(p), "%s.%s", path, k);
        check_value(c, vs, p, jp, v);
    }
    if (kbad)
        fail_json(c, path, V_MAP_KEYS, ks, obj, sh->sensitive);
    if (vbad)
        fail_json(c, path, V_MAP_VALUES, vs, obj, sh->sensitive);
}

static void check_value(struct check *c, const struct lambda_shape *sh, const char *path,
                        const char *jpath, const json_t *v)
{
    if (c->type_err)
        return;
    switch (sh->kind) {
    case LK_STRING:
        if (!json_is_string(v)) {
            type_error(c, jpath, "a string");
            return;
        }
        note_nul(c, path, json_string_value(v), json_string_length(v));
        fail_bits(c, path, sh, string_failures(c, sh, json_string_value(v), json_string_length(v)),
                  v, NULL, 0);
        return;
    case LK_BLOB:
        if (!json_is_string(v))
            type_error(c, jpath, "a base64-encoded string");
        return;
    case LK_INT:
        if (!json_is_integer(v))
            type_error(c, jpath, "an integer");
        else
            fail_bits(c, path, sh, int_failures(sh, json_integer_value(v)), v, NULL, 0);
        return;
    case LK_DOUBLE:
        if (!json_is_number(v))
            type_error(c, jpath, "a number");
        return;
    case LK_BOOL:
        if (!json_is_boolean(v))
            type_error(c, jpath, "a boolean");
        return;
    case LK_TIMESTAMP:
        if (!json_is_number(v) && !json_is_string(v))
            type_error(c, jpath, "a timestamp");
        return;
    case LK_LIST:
        if (!json_is_array(v))
            type_error(c, jpath, "a list");
        else
            check_list(c, sh, path, jpath, v);
        return;
    case LK_MAP:
        if (!json_is_object(v))
            type_error(c, jpath, "a map");
        else
            check_map(c, sh, path, jpath, v);
        return;
    case LK_STRUCT:
        if (!json_is_object(v))
            type_error(c, jpath, "a structure");
        else
            check_members(c, sh->members, sh->nmembers, v, NULL, 0, path, jpath);
        return;
    }
}

/* A member bound outside the body: its values among params (several for a list). */
static void check_param(struct check *c, const struct lambda_member *m,
                        const struct lambda_shape *sh, const char *path,
                        const struct lambda_param *params, size_t np)
{
    const struct lambda_param *first = NULL;
    size_t count = 0;
    for (size_t i = 0; i < np; i++) {
        if (strcmp(params[i].member, m->name) == 0) {
            first = first ? first : &params[i];
            count++;
        }
    }
    if (first == NULL) {
        if (m->required)
            fail(c, path, V_NULL, sh, false);
        return;
    }
    const struct lambda_shape *es;
    char digits[32];
    char *end;
    switch (sh->kind) {
    case LK_STRING:
        note_nul(c, path, first->value, first->len);
        fail_bits(c, path, sh, string_failures(c, sh, first->value, first->len), NULL, first->value,
                  first->len);
        return;
    case LK_INT:
        if (first->len == 0 || first->len >= sizeof(digits)) {
            type_error(c, m->name, "an integer");
            return;
        }
        memcpy(digits, first->value, first->len);
        digits[first->len] = '\0';
        long long v = strtoll(digits, &end, 10);
        if (*end != '\0' || digits[0] == ' ' || digits[0] == '+') {
            type_error(c, m->name, "an integer");
            return;
        }
        fail_bits(c, path, sh, int_failures(sh, v), NULL, first->value, first->len);
        return;
    case LK_BOOL:
        if (!(first->len == 4 && memcmp(first->value, "true", 4) == 0) &&
            !(first->len == 5 && memcmp(first->value, "false", 5) == 0))
            type_error(c, m->name, "a boolean");
        return;
    case LK_LIST:
        es = shape_of(c, sh->member);
        if (es == NULL || es->kind != LK_STRING) {
            c->internal = true;
            return;
        }
        bool bad = false;
        for (size_t i = 0; i < np; i++) {
            if (strcmp(params[i].member, m->name) != 0)
                continue;
            note_nul(c, path, params[i].value, params[i].len);
            bad |= string_failures(c, es, params[i].value, params[i].len) != 0;
        }
        struct verr *e = NULL;
        if ((sh->has & LS_HAS_MAX) && (long long)count > sh->max)
            e = fail(c, path, V_LEN_MAX, sh, false);
        if (e == NULL && (sh->has & LS_HAS_MIN) && (long long)count < sh->min)
            e = fail(c, path, V_LEN_MIN, sh, false);
        if (e != NULL) {
            e->plist = params, e->nplist = np, e->pname = m->name;
        }
        if (bad && (e = fail(c, path, V_LIST_MEMBER, es, false)) != NULL)
            e->plist = params, e->nplist = np, e->pname = m->name;
        return;
    default:
        c->internal = true; /* no such parameter kind in Lambda's model */
        return;
    }
}

static void check_members(struct check *c, const struct lambda_member *m, size_t n,
                          const json_t *obj, const struct lambda_param *params, size_t np,
                          const char *prefix, const char *jprefix)
{
    for (size_t i = 0; i < n && !c->type_err; i++) {
        char path[VPATH_MAX], jpath[VPATH_MAX];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", m[i].path);
        snprintf(jpath, sizeof(jpath), "%s%s%s", jprefix, *jprefix ? "." : "", m[i].name);
        const struct lambda_shape *sh = shape_of(c, m[i].shape);
        if (sh == NULL)
            continue;
        if (m[i].loc != LL_BODY) {
            if (params != NULL)
                check_param(c, &m[i], sh, path, params, np);
            continue;
        }
        const json_t *v = obj ? json_object_get(obj, m[i].name) : NULL;
        if (v == NULL || json_is_null(v)) {
            if (m[i].required)
                fail(c, path, V_NULL, sh, false);
            continue;
        }
        check_value(c, sh, path, jpath, v);
    }
}

/* ---- rendering ----------------------------------------------------------------------- */

/* Output for one value: at most room bytes, then "..." once cut. */
struct vout {
    struct buf *b;
    size_t room;
    bool cut;
};

static void vput(struct vout *o, const char *s, size_t n)
{
    if (o->cut)
        return;
    if (n > o->room) {
        o->cut = true;
        return;
    }
    buf_append(o->b, s, n);
    o->room -= n;
}

/* Text as AWS echoes it, made safe for a C string: valid UTF-8 (invalid bytes become
 * U+FFFD), a NUL written as the six characters \u0000. */
static void vput_text(struct vout *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len && !o->cut;) {
        size_t used;
        uint32_t cp = decode((const unsigned char *)s + i, len - i, &used);
        if (cp == 0)
            vput(o, "\\u0000", 6);
        else if (cp == 0xFFFD && utf8_seq_len((const unsigned char *)s + i, len - i) == 0)
            vput(o, "\xEF\xBF\xBD", 3);
        else
            vput(o, s + i, used);
        i += used;
    }
}

/* A JSON value as Java's toString shows the deserialized value: strings bare, lists
 * "[a, b]", maps "{k=v}". */
static void vput_json(struct vout *o, const json_t *v)
{
    char num[64];
    size_t i;
    const char *k;
    json_t *x;
    switch (json_typeof(v)) {
    case JSON_STRING:
        vput_text(o, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        vput(o, num, strlen(num));
        break;
    case JSON_REAL:
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        vput(o, num, strlen(num));
        break;
    case JSON_TRUE:
        vput(o, "true", 4);
        break;
    case JSON_FALSE:
        vput(o, "false", 5);
        break;
    case JSON_NULL:
        vput(o, "null", 4);
        break;
    case JSON_ARRAY:
        vput(o, "[", 1);
        json_array_foreach(v, i, x)
        {
            if (i > 0)
                vput(o, ", ", 2);
            vput_json(o, x);
        }
        vput(o, "]", 1);
        break;
    case JSON_OBJECT:
        vput(o, "{", 1);
        i = 0;
        json_object_foreach((json_t *)v, k, x)
        {
            if (i++ > 0)
                vput(o, ", ", 2);
            vput_text(o, k, strlen(k));
            vput(o, "=", 1);
            vput_json(o, x);
        }
        vput(o, "}", 1);
        break;
    }
}

static void put_value(struct buf *b, const struct verr *e, size_t cap)
{
    struct vout o = {b, cap, false};
    if (e->jv != NULL) {
        vput_json(&o, e->jv);
    } else if (e->plist != NULL) {
        bool any = false;
        vput(&o, "[", 1);
        for (size_t i = 0; i < e->nplist; i++) {
            if (strcmp(e->plist[i].member, e->pname) != 0)
                continue;
            if (any)
                vput(&o, ", ", 2);
            vput_text(&o, e->plist[i].value, e->plist[i].len);
            any = true;
        }
        vput(&o, "]", 1);
    } else if (e->sv != NULL) {
        vput_text(&o, e->sv, e->svlen);
    }
    if (o.cut)
        buf_puts(b, "...");
}

/* The constraints of an element shape, as AWS lists them inside "[...]". */
static void put_constraints(struct buf *b, const struct lambda_shape *sh, bool not_null)
{
    const char *sep = "";
    const char *unit = sh->kind == LK_INT ? "value" : "length";
    if (sh->has & LS_HAS_MAX) {
        buf_printf(b, "%sMember must have %s less than or equal to %lld", sep, unit, sh->max);
        sep = ", ";
    }
    if (sh->has & LS_HAS_MIN) {
        buf_printf(b, "%sMember must have %s greater than or equal to %lld", sep, unit, sh->min);
        sep = ", ";
    }
    if (sh->pattern != NULL) {
        buf_printf(b, "%sMember must satisfy regular expression pattern: %s", sep, sh->pattern);
        sep = ", ";
    }
    if (sh->enums != NULL) {
        buf_printf(b, "%sMember must satisfy enum value set: [", sep);
        for (const char *const *e = sh->enums; *e; e++)
            buf_printf(b, "%s%s", e == sh->enums ? "" : ", ", *e);
        buf_puts(b, "]");
        sep = ", ";
    }
    if (not_null)
        buf_printf(b, "%sMember must not be null", sep);
}

static void put_constraint(struct buf *b, const struct verr *e)
{
    const struct lambda_shape *sh = e->shape;
    switch (e->kind) {
    case V_NULL:
        buf_puts(b, "Member must not be null");
        break;
    case V_LEN_MAX:
        buf_printf(b, "Member must have length less than or equal to %lld", sh->max);
        break;
    case V_LEN_MIN:
        buf_printf(b, "Member must have length greater than or equal to %lld", sh->min);
        break;
    case V_VAL_MAX:
        buf_printf(b, "Member must have value less than or equal to %lld", sh->max);
        break;
    case V_VAL_MIN:
        buf_printf(b, "Member must have value greater than or equal to %lld", sh->min);
        break;
    case V_PATTERN:
        buf_printf(b, "Member must satisfy regular expression pattern: %s", sh->pattern);
        break;
    case V_ENUM:
        buf_puts(b, "Member must satisfy enum value set: [");
        for (const char *const *x = sh->enums; *x; x++)
            buf_printf(b, "%s%s", x == sh->enums ? "" : ", ", *x);
        buf_puts(b, "]");
        break;
    case V_LIST_MEMBER:
        buf_puts(b, "Member must satisfy constraint: [");
        put_constraints(b, sh, true);
        buf_puts(b, "]");
        break;
    case V_MAP_KEYS:
        buf_puts(b, "Map keys must satisfy constraint: [");
        put_constraints(b, sh, false);
        buf_puts(b, "]");
        break;
    case V_MAP_VALUES:
        buf_puts(b, "Map value must satisfy constraint: [");
        put_constraints(b, sh, false);
        buf_puts(b, "]");
        break;
    }
}

/* The whole message, each value cut to at most cap bytes. Returns how many values it
 * shows. */
static size_t render(const struct check *c, size_t cap, struct buf *b)
{
    size_t shown = c->n < VERR_MAX ? c->n : VERR_MAX, values = 0;
    buf_printf(b, "%zu validation error%s detected: ", c->n, c->n == 1 ? "" : "s");
    for (size_t i = 0; i < shown; i++) {
        const struct verr *e = &c->e[i];
        if (i > 0)
            buf_puts(b, "; ");
        if (e->kind == V_NULL) {
            buf_puts(b, "Value null");
        } else if (e->sensitive) {
            buf_puts(b, "Value");
        } else {
            buf_puts(b, "Value '");
            put_value(b, e, cap);
            buf_puts(b, "'");
            values++;
        }
        buf_printf(b, " at '%s' failed to satisfy constraint: ", e->path);
        put_constraint(b, e);
    }
    return values;
}

/* Copies text into msg, cutting at a UTF-8 boundary when it does not fit. */
static void copy_text(char *msg, size_t msglen, const char *text, size_t len)
{
    if (msglen == 0)
        return;
    size_t n = len < msglen - 1 ? len : msglen - 1;
    while (n > 0 && n < len && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    memcpy(msg, text, n);
    msg[n] = '\0';
}

static void render_fit(const struct check *c, char *msg, size_t msglen)
{
    struct buf b;
    buf_init(&b, (size_t)64 << 20);
    /* no value needs more than the whole message may hold */
    size_t values = render(c, msglen, &b);
    if (b.len >= msglen && values > 0) {
        buf_reset(&b);
        render(c, 0, &b); /* the fixed text, each value shown as "..." */
        size_t fixed = b.len;
        size_t cap = fixed + 1 < msglen ? (msglen - 1 - fixed) / values : 0;
        buf_reset(&b);
        render(c, cap, &b);
    }
    copy_text(msg, msglen, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

static enum err conclude(struct check *c, char *msg, size_t msglen)
{
    enum err e = ERR_OK;
    if (c->internal) {
        snprintf(msg, msglen, "The Lambda validation table is inconsistent");
        e = ERR_LAMBDA_SERVICE;
    } else if (c->type_err) {
        snprintf(msg, msglen, "Unexpected value type for %s: expected %s", c->type_path,
                 c->type_want);
        e = ERR_LAMBDA_INVALID_PARAMETER;
    } else if (c->n > 0) {
        render_fit(c, msg, msglen);
        e = ERR_LAMBDA_VALIDATION;
    } else if (c->nul) {
        snprintf(msg, msglen, "Invalid value at '%s': strings with NUL characters are not accepted",
                 c->nul_path);
        e = ERR_LAMBDA_INVALID_PARAMETER;
    }
    return e;
}

enum err lambda_validate_request(const char *op, const json_t *body,
                                 const struct lambda_param *params, size_t nparams, char *msg,
                                 size_t msglen)
{
    struct check *c = calloc(1, sizeof(*c));
    enum err e;
    if (c == NULL) {
        snprintf(msg, msglen, "Out of memory");
        return ERR_LAMBDA_SERVICE;
    }
    const struct lambda_op *o = lambda__op(op);
    if (o == NULL)
        c->internal = true;
    else
        check_members(c, o->members, o->nmembers, json_is_object(body) ? body : NULL, params,
                      params ? nparams : 0, "", "");
    e = conclude(c, msg, msglen);
    free(c);
    return e;
}

enum err lambda_validate_value(const char *shape, const char *path, const char *value, size_t len,
                               char *msg, size_t msglen)
{
    struct check *c = calloc(1, sizeof(*c));
    enum err e;
    if (c == NULL) {
        snprintf(msg, msglen, "Out of memory");
        return ERR_LAMBDA_SERVICE;
    }
    const struct lambda_shape *sh = lambda__shape(shape);
    if (sh == NULL || sh->kind != LK_STRING) {
        c->internal = true;
    } else {
        note_nul(c, path, value, len);
        fail_bits(c, path, sh, string_failures(c, sh, value, len), NULL, value, len);
    }
    e = conclude(c, msg, msglen);
    free(c);
    return e;
}
