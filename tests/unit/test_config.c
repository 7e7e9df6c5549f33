/*
 * test_config.c — cloud/config: the shipped environment files load; every way a file can
 * be wrong is refused with the exact key path and message (a table of cases, each one a
 * small edit of infra/envs/dev/terraform.tfvars.json made with jansson).
 *
 * Reads the shipped files from $HAAR_SOURCE_DIR (set by ctest), else the working directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cloud/config.h"

#define DEV_PATH "infra/envs/dev/terraform.tfvars.json"

static const char *source_dir(void)
{
    const char *d = getenv("HAAR_SOURCE_DIR");
    return d != NULL && d[0] != '\0' ? d : ".";
}

/* The dev file, parsed; every case starts from a fresh copy. */
static json_t *dev_doc(void)
{
    char path[1024];
    json_error_t jerr;
    snprintf(path, sizeof path, "%s/%s", source_dir(), DEV_PATH);
    json_t *doc = json_load_file(path, 0, &jerr);
    if (doc == NULL)
        fail_msg("cannot load %s: %s", path, jerr.text);
    return doc;
}

/* ---------------------------------------------------------------------------------- */
/* The shipped files                                                                   */

static void test_shipped_files_load(void **state)
{
    (void)state;
    static const struct {
        const char *env;
        int log_retention;
        const char *expression;
        int api_reserved;
    } envs[] = {
        {"dev", 7, "rate(5 minutes)", -1},
        {"stage", 30, "rate(5 minutes)", -1},
        {"prod", 365, "cron(0 * * * ? *)", 200},
    };
    for (size_t i = 0; i < sizeof envs / sizeof envs[0]; i++) {
        char path[1024], err[512] = "";
        assert_int_equal(config_default_path(source_dir(), envs[i].env, path, sizeof path), 0);
        struct config *cfg = config_load(path, err, sizeof err);
        if (cfg == NULL)
            fail_msg("%s", err);
        assert_string_equal(cfg->environment, envs[i].env);
        assert_string_equal(cfg->project, "haar");
        assert_string_equal(cfg->aws_region, "eu-west-1");
        assert_string_equal(cfg->path, path);
        assert_int_equal(cfg->log_retention_days, envs[i].log_retention);
        assert_string_equal(cfg->schedule.expression, envs[i].expression);
        assert_int_equal(cfg->functions[CONFIG_FN_API].reserved_concurrency, envs[i].api_reserved);
        assert_int_equal(cfg->functions[CONFIG_FN_WORKER].timeout_seconds, 30);
        assert_int_equal(cfg->queue.visibility_timeout_seconds, 180);
        assert_int_equal(cfg->emulator.account_concurrency_limit, 1000);
        assert_string_equal(cfg->functions[CONFIG_FN_PRODUCER].short_name, "producer");
        char want[64];
        snprintf(want, sizeof want, "haar-%s-worker", envs[i].env);
        assert_string_equal(cfg->functions[CONFIG_FN_WORKER].full_name, want);
        assert_true(json_is_array(cfg->schedule.tasks));
        assert_int_equal(json_array_size(cfg->schedule.tasks), 1);
        bool prod = strcmp(envs[i].env, "prod") == 0;
        assert_true(cfg->tracing_enabled);
        assert_int_equal(cfg->api.jwt_authorizer.enabled, prod);
        assert_int_equal(cfg->deploy.protected, prod);
        assert_int_equal(cfg->table.deletion_protection, strcmp(envs[i].env, "dev") != 0);
        assert_string_equal(cfg->deploy.traffic_shifting,
                            prod ? "Canary10Percent5Minutes" : "AllAtOnce");
        assert_int_equal(cfg->deploy.account_concurrency_limit, 1000);
        assert_true(cfg->alarms.enabled);
        assert_int_equal(json_array_size(cfg->alarms.email_endpoints), prod ? 1 : 0);
        config_free(cfg);
    }
}

static void test_dev_values(void **state)
{
    (void)state;
    char path[1024], err[512] = "";
    snprintf(path, sizeof path, "%s/%s", source_dir(), DEV_PATH);
    struct config *cfg = config_load(path, err, sizeof err);
    if (cfg == NULL)
        fail_msg("%s", err);
    assert_string_equal(json_string_value(json_object_get(cfg->tags, "owner")), "platform");
    assert_false(cfg->kms_enabled);
    assert_int_equal(cfg->api.throttling_rate_limit, 1000);
    assert_int_equal(cfg->api.throttling_burst_limit, 2000);
    assert_string_equal(json_string_value(json_array_get(cfg->api.cors_allow_origins, 0)),
                        "http://localhost:3000");
    assert_true(cfg->api.access_log_enabled);
    assert_int_equal(cfg->queue.message_retention_seconds, 345600);
    assert_int_equal(cfg->queue.receive_wait_time_seconds, 20);
    assert_int_equal(cfg->queue.max_receive_count, 5);
    assert_int_equal(cfg->queue.dlq_message_retention_seconds, 1209600);
    assert_false(cfg->table.point_in_time_recovery);
    assert_string_equal(cfg->table.ttl_attribute, "expires_at");
    assert_true(cfg->schedule.enabled);
    const struct config_function *w = &cfg->functions[CONFIG_FN_WORKER];
    assert_int_equal(w->memory_mb, 256);
    assert_int_equal(w->batch_size, 10);
    assert_int_equal(w->max_batching_window_seconds, 0);
    assert_int_equal(w->max_concurrency, 10);
    assert_int_equal(cfg->functions[CONFIG_FN_PRODUCER].memory_mb, 128);
    assert_string_equal(cfg->deploy.architecture, "arm64");
    assert_string_equal(cfg->deploy.package_type, "Zip");
    assert_string_equal(cfg->deploy.github_repository, "haar-dev/haar");
    assert_string_equal(cfg->deploy.github_branch, "main");
    assert_int_equal(cfg->deploy.ecr_keep_images, 20);
    assert_false(cfg->network.vpc_enabled);
    assert_int_equal(json_array_size(cfg->network.subnet_ids), 0);
    assert_false(cfg->domain.enabled);
    assert_string_equal(cfg->domain.name, "");
    assert_int_equal(cfg->emulator.idle_environment_seconds, 300);
    config_free(cfg);
}

/* Optional keys left out get their documented defaults. */
static void test_defaults(void **state)
{
    (void)state;
    static const char *const drop[][2] = {
        {NULL, "tags"},
        {NULL, "kms_enabled"},
        {NULL, "table"},
        {NULL, "network"},
        {NULL, "domain"},
        {NULL, "emulator"},
        {NULL, "alarms"},
        {NULL, "tracing_enabled"},
        {"api", "jwt_authorizer"},
        {"api", "cors_allow_origins"},
        {"api", "access_log_enabled"},
        {"schedule", "enabled"},
        {"schedule", "tasks"},
        {"deploy", "architecture"},
        {"deploy", "package_type"},
        {"deploy", "github_branch"},
        {"deploy", "ecr_keep_images"},
        {"deploy", "account_concurrency_limit"},
        {"deploy", "protected"},
        {"deploy", "traffic_shifting"},
    };
    json_t *doc = dev_doc();
    json_t *fns = json_object_get(doc, "functions");
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(drop[i][0] ? json_object_get(doc, drop[i][0]) : doc, drop[i][1]);
    json_object_del(json_object_get(fns, "api"), "reserved_concurrency");
    json_t *w = json_object_get(fns, "worker");
    json_object_del(w, "batch_size");
    json_object_del(w, "max_batching_window_seconds");
    json_object_del(w, "max_concurrency");
    json_t *p = json_object_get(fns, "producer");
    json_object_del(p, "max_retry_attempts");
    json_object_del(p, "max_event_age_seconds");
    char *text = json_dumps(doc, 0);
    char err[512] = "";
    struct config *cfg = config_load_json(DEV_PATH, text, strlen(text), err, sizeof err);
    if (cfg == NULL)
        fail_msg("%s", err);
    assert_int_equal(json_object_size(cfg->tags), 0);
    assert_false(cfg->kms_enabled);
    assert_false(cfg->table.point_in_time_recovery);
    assert_string_equal(cfg->table.ttl_attribute, "expires_at");
    assert_int_equal(json_array_size(cfg->api.cors_allow_origins), 0);
    assert_false(cfg->api.access_log_enabled);
    assert_true(cfg->schedule.enabled);
    assert_int_equal(json_array_size(cfg->schedule.tasks), 0);
    assert_int_equal(cfg->functions[CONFIG_FN_API].reserved_concurrency, -1);
    assert_int_equal(cfg->functions[CONFIG_FN_WORKER].batch_size, 10);
    assert_int_equal(cfg->functions[CONFIG_FN_WORKER].max_batching_window_seconds, 0);
    assert_int_equal(cfg->functions[CONFIG_FN_WORKER].max_concurrency, 1000);
    assert_int_equal(cfg->functions[CONFIG_FN_API].batch_size, 0);
    assert_string_equal(cfg->deploy.architecture, "arm64");
    assert_string_equal(cfg->deploy.package_type, "Zip");
    assert_string_equal(cfg->deploy.github_branch, "main");
    assert_int_equal(cfg->deploy.ecr_keep_images, 20);
    assert_false(cfg->network.vpc_enabled);
    assert_int_equal(json_array_size(cfg->network.subnet_ids), 0);
    assert_int_equal(json_array_size(cfg->network.security_group_ids), 0);
    assert_false(cfg->domain.enabled);
    assert_string_equal(cfg->domain.name, "");
    assert_string_equal(cfg->domain.zone_id, "");
    assert_int_equal(cfg->emulator.account_concurrency_limit, 1000);
    assert_int_equal(cfg->emulator.idle_environment_seconds, 300);
    assert_false(cfg->emulator.strict_runtimes);
    assert_false(cfg->tracing_enabled);
    assert_false(cfg->api.jwt_authorizer.enabled);
    assert_string_equal(cfg->api.jwt_authorizer.issuer, "");
    assert_int_equal(json_array_size(cfg->api.jwt_authorizer.audience), 0);
    assert_false(cfg->table.deletion_protection);
    assert_int_equal(cfg->functions[CONFIG_FN_PRODUCER].max_retry_attempts, 2);
    assert_int_equal(cfg->functions[CONFIG_FN_PRODUCER].max_event_age_seconds, 3600);
    assert_int_equal(cfg->functions[CONFIG_FN_WORKER].max_retry_attempts, 0);
    assert_int_equal(cfg->deploy.account_concurrency_limit, 1000);
    assert_false(cfg->deploy.protected);
    assert_string_equal(cfg->deploy.traffic_shifting, "AllAtOnce");
    assert_true(cfg->alarms.enabled);
    assert_int_equal(json_array_size(cfg->alarms.email_endpoints), 0);
    assert_int_equal(cfg->alarms.api_p99_latency_ms, 2000);
    assert_int_equal(cfg->alarms.queue_oldest_message_age_seconds, 900);
    config_free(cfg);
    free(text);
    json_decref(doc);
}

/* Tags: AWS allows 50 per resource and haar adds three, so the file may hold 47. */
static void test_tag_count(void **state)
{
    (void)state;
    for (int n = 47; n <= 48; n++) {
        json_t *doc = dev_doc();
        json_t *tags = json_object();
        for (int i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%02d", i);
            json_object_set_new(tags, key, json_string("v"));
        }
        json_object_set_new(doc, "tags", tags);
        char *text = json_dumps(doc, 0);
        char err[512] = "";
        struct config *cfg = config_load_json(DEV_PATH, text, strlen(text), err, sizeof err);
        if (n == 47) {
            if (cfg == NULL)
                fail_msg("47 tags: %s", err);
        } else {
            assert_null(cfg);
            assert_string_equal(err, DEV_PATH ": tags: 48 entries, at most 47 (AWS allows 50 tags "
                                              "per resource; Project, Environment and ManagedBy "
                                              "are set by haar)");
        }
        config_free(cfg);
        free(text);
        json_decref(doc);
    }
}

/* ---------------------------------------------------------------------------------- */
/* The table of edits                                                                  */

/* One edit: set the value at a dotted path ("schedule.tasks[0].kind") to `json`
 * (parsed with JSON_DECODE_ANY), or delete the key when json is NULL. */
struct edit {
    const char *path;
    const char *json;
};

struct config_case {
    const char *name;
    struct edit edits[4];
    const char *load_path; /* NULL: DEV_PATH */
    /* NULL: must load. Otherwise the message after "<load_path>: " — compared exactly,
     * or as a prefix when it ends with '*'. */
    const char *want;
};

static const struct config_case CASES[] = {
    /* unknown, missing, duplicate */
    {"unknown top-level key", {{"colour", "\"blue\""}}, NULL, "colour: unknown key"},
    {"unknown nested key",
     {{"functions.worker.batchsize", "10"}},
     NULL,
     "functions.worker.batchsize: unknown key"},
    {"unknown key in a section", {{"queue.fifo", "true"}}, NULL, "queue.fifo: unknown key"},
    {"unknown key in a task",
     {{"schedule.tasks[0].when", "1"}},
     NULL,
     "schedule.tasks[0].when: unknown key"},
    {"unknown function", {{"functions.cron", "{}"}}, NULL, "functions.cron: unknown key"},
    {"worker-only key on api",
     {{"functions.api.batch_size", "10"}},
     NULL,
     "functions.api.batch_size: unknown key"},
    {"key with a newline is escaped", {{"a\nb", "1"}}, NULL, "a\\x0ab: unknown key"},
    {"missing project", {{"project", NULL}}, NULL, "project: missing required key"},
    {"missing nested key",
     {{"queue.max_receive_count", NULL}},
     NULL,
     "queue.max_receive_count: missing required key"},
    {"missing section", {{"functions", NULL}}, NULL, "functions: missing required key"},
    {"missing function",
     {{"functions.producer", NULL}},
     NULL,
     "functions.producer: missing required key"},
    {"missing memory",
     {{"functions.worker.memory_mb", NULL}},
     NULL,
     "functions.worker.memory_mb: missing required key"},
    {"missing github_repository",
     {{"deploy.github_repository", NULL}},
     NULL,
     "deploy.github_repository: missing required key"},
    {"task without payload",
     {{"schedule.tasks[0].payload", NULL}},
     NULL,
     "schedule.tasks[0].payload: missing required key"},
    {"task without kind",
     {{"schedule.tasks[0].kind", NULL}},
     NULL,
     "schedule.tasks[0].kind: missing required key"},
    /* types */
    {"string for integer",
     {{"functions.api.memory_mb", "\"256\""}},
     NULL,
     "functions.api.memory_mb: expected integer, got string"},
    {"real for integer",
     {{"queue.max_receive_count", "5.0"}},
     NULL,
     "queue.max_receive_count: expected integer, got real"},
    {"null for integer",
     {{"log_retention_days", "null"}},
     NULL,
     "log_retention_days: expected integer, got null"},
    {"integer for boolean",
     {{"kms_enabled", "1"}},
     NULL,
     "kms_enabled: expected boolean, got integer"},
    {"string for boolean",
     {{"schedule.enabled", "\"true\""}},
     NULL,
     "schedule.enabled: expected boolean, got string"},
    {"integer for string", {{"project", "7"}}, NULL, "project: expected string, got integer"},
    {"array for object", {{"queue", "[]"}}, NULL, "queue: expected object, got array"},
    {"object for array",
     {{"api.cors_allow_origins", "{}"}},
     NULL,
     "api.cors_allow_origins: expected array, got object"},
    {"number in a string list",
     {{"api.cors_allow_origins", "[\"*\", 3]"}},
     NULL,
     "api.cors_allow_origins[1]: expected string, got integer"},
    {"tag value not a string",
     {{"tags.owner", "true"}},
     NULL,
     "tags.owner: expected string, got boolean"},
    {"tasks not an array",
     {{"schedule.tasks", "{}"}},
     NULL,
     "schedule.tasks: expected array, got object"},
    {"task not an object",
     {{"schedule.tasks", "[\"report\"]"}},
     NULL,
     "schedule.tasks[0]: expected object, got string"},
    {"task payload not an object",
     {{"schedule.tasks[0].payload", "[]"}},
     NULL,
     "schedule.tasks[0].payload: expected object, got array"},
    {"task kind empty",
     {{"schedule.tasks[0].kind", "\"\""}},
     NULL,
     "schedule.tasks[0].kind: must be 1..64 characters"},
    {"task kind with a space",
     {{"schedule.tasks[0].kind", "\"re port\""}},
     NULL,
     "schedule.tasks[0].kind: \"re port\" may contain only a-z, 0-9, \"_\" and \"-\""},
    /* ranges: each bound just outside fails, just inside loads */
    {"memory 127",
     {{"functions.api.memory_mb", "127"}},
     NULL,
     "functions.api.memory_mb: 127 is out of range 128..10240"},
    {"memory 128", {{"functions.api.memory_mb", "128"}}, NULL, NULL},
    {"memory 10240", {{"functions.producer.memory_mb", "10240"}}, NULL, NULL},
    {"memory 10241",
     {{"functions.producer.memory_mb", "10241"}},
     NULL,
     "functions.producer.memory_mb: 10241 is out of range 128..10240"},
    {"memory huge",
     {{"functions.producer.memory_mb", "99999999999999"}},
     NULL,
     "functions.producer.memory_mb: 99999999999999 is out of range 128..10240"},
    {"timeout 0",
     {{"functions.api.timeout_seconds", "0"}},
     NULL,
     "functions.api.timeout_seconds: 0 is out of range 1..900"},
    {"timeout 1", {{"functions.api.timeout_seconds", "1"}}, NULL, NULL},
    {"api timeout 30", {{"functions.api.timeout_seconds", "30"}}, NULL, NULL},
    {"api timeout 31",
     {{"functions.api.timeout_seconds", "31"}},
     NULL,
     "functions.api.timeout_seconds: 31 is more than 30, the HTTP API's integration timeout"},
    {"worker timeout 900",
     {{"functions.worker.timeout_seconds", "900"}, {"queue.visibility_timeout_seconds", "5400"}},
     NULL,
     NULL},
    {"timeout 900", {{"functions.producer.timeout_seconds", "900"}}, NULL, NULL},
    {"timeout 901",
     {{"functions.producer.timeout_seconds", "901"}},
     NULL,
     "functions.producer.timeout_seconds: 901 is out of range 1..900"},
    {"visibility 43201",
     {{"queue.visibility_timeout_seconds", "43201"}},
     NULL,
     "queue.visibility_timeout_seconds: 43201 is out of range 0..43200"},
    {"visibility 43200", {{"queue.visibility_timeout_seconds", "43200"}}, NULL, NULL},
    {"visibility -1",
     {{"queue.visibility_timeout_seconds", "-1"}},
     NULL,
     "queue.visibility_timeout_seconds: -1 is out of range 0..43200"},
    {"retention 59",
     {{"queue.message_retention_seconds", "59"}},
     NULL,
     "queue.message_retention_seconds: 59 is out of range 60..1209600"},
    {"retention 60 with the age alarm below it",
     {{"queue.message_retention_seconds", "60"}},
     NULL,
     "alarms.queue_oldest_message_age_seconds: 900 is not less than "
     "queue.message_retention_seconds (60): the message would be deleted before the alarm "
     "fires"},
    {"retention 60, alarms off",
     {{"queue.message_retention_seconds", "60"}, {"alarms.enabled", "false"}},
     NULL,
     NULL},
    {"retention 61, age alarm 60",
     {{"queue.message_retention_seconds", "61"}, {"alarms.queue_oldest_message_age_seconds", "60"}},
     NULL,
     NULL},
    {"retention 1209601",
     {{"queue.message_retention_seconds", "1209601"}},
     NULL,
     "queue.message_retention_seconds: 1209601 is out of range 60..1209600"},
    {"dlq retention 1209601",
     {{"queue.dlq_message_retention_seconds", "1209601"}},
     NULL,
     "queue.dlq_message_retention_seconds: 1209601 is out of range 60..1209600"},
    {"receive wait 21",
     {{"queue.receive_wait_time_seconds", "21"}},
     NULL,
     "queue.receive_wait_time_seconds: 21 is out of range 0..20"},
    {"receive wait 0", {{"queue.receive_wait_time_seconds", "0"}}, NULL, NULL},
    {"max receive 0",
     {{"queue.max_receive_count", "0"}},
     NULL,
     "queue.max_receive_count: 0 is out of range 1..1000"},
    {"max receive 1", {{"queue.max_receive_count", "1"}}, NULL, NULL},
    {"max receive 1001",
     {{"queue.max_receive_count", "1001"}},
     NULL,
     "queue.max_receive_count: 1001 is out of range 1..1000"},
    {"batch 0",
     {{"functions.worker.batch_size", "0"}},
     NULL,
     "functions.worker.batch_size: 0 is out of range 1..10000"},
    {"batch 10000 with window",
     {{"functions.worker.batch_size", "10000"},
      {"functions.worker.max_batching_window_seconds", "1"}},
     NULL,
     NULL},
    {"batch 10001",
     {{"functions.worker.batch_size", "10001"}},
     NULL,
     "functions.worker.batch_size: 10001 is out of range 1..10000"},
    {"window 301",
     {{"functions.worker.max_batching_window_seconds", "301"}},
     NULL,
     "functions.worker.max_batching_window_seconds: 301 is out of range 0..300"},
    {"window 300", {{"functions.worker.max_batching_window_seconds", "300"}}, NULL, NULL},
    {"batch 11 without window",
     {{"functions.worker.batch_size", "11"}},
     NULL,
     "functions.worker.max_batching_window_seconds: must be at least 1 when "
     "functions.worker.batch_size (11) is more than 10"},
    {"concurrency 1",
     {{"functions.worker.max_concurrency", "1"}},
     NULL,
     "functions.worker.max_concurrency: 1 is out of range 2..1000"},
    {"concurrency 2", {{"functions.worker.max_concurrency", "2"}}, NULL, NULL},
    {"concurrency 1001",
     {{"functions.worker.max_concurrency", "1001"}},
     NULL,
     "functions.worker.max_concurrency: 1001 is out of range 2..1000"},
    {"log retention 0",
     {{"log_retention_days", "0"}},
     NULL,
     "log_retention_days: 0 is not one of the allowed values (1, 3, 5, 7, 14, 30, 60, 90, 120, "
     "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)"},
    {"log retention 8",
     {{"log_retention_days", "8"}},
     NULL,
     "log_retention_days: 8 is not one of the allowed values*"},
    {"log retention 3653", {{"log_retention_days", "3653"}}, NULL, NULL},
    {"ecr keep 0",
     {{"deploy.ecr_keep_images", "0"}},
     NULL,
     "deploy.ecr_keep_images: 0 is out of range 1..1000"},
    {"throttling rate -1",
     {{"api.throttling_rate_limit", "-1"}},
     NULL,
     "api.throttling_rate_limit: -1 is out of range 0..1000000"},
    {"burst 0 with a rate",
     {{"api.throttling_burst_limit", "0"}},
     NULL,
     "api.throttling_burst_limit: 0 lets no request through while api.throttling_rate_limit "
     "is 1000; use at least 1"},
    {"rate 0 burst 0",
     {{"api.throttling_burst_limit", "0"}, {"api.throttling_rate_limit", "0"}},
     NULL,
     NULL},
    {"emulator limit 0",
     {{"emulator.account_concurrency_limit", "0"}},
     NULL,
     "emulator.account_concurrency_limit: 0 is out of range 1..100000"},
    {"idle 86401",
     {{"emulator.idle_environment_seconds", "86401"}},
     NULL,
     "emulator.idle_environment_seconds: 86401 is out of range 1..86400"},
    {"strict runtimes", {{"emulator.strict_runtimes", "true"}}, NULL, NULL},
    {"strict runtimes not a boolean",
     {{"emulator.strict_runtimes", "\"yes\""}},
     NULL,
     "emulator.strict_runtimes: *"},
    /* cross-field rules */
    {"visibility below 6x",
     {{"queue.visibility_timeout_seconds", "60"}},
     NULL,
     "queue.visibility_timeout_seconds: 60 is less than 6 × functions.worker.timeout_seconds "
     "(180), as AWS advises for a queue that feeds a Lambda function"},
    {"visibility 179",
     {{"queue.visibility_timeout_seconds", "179"}},
     NULL,
     "queue.visibility_timeout_seconds: 179 is less than 6 × *"},
    {"worker timeout raised",
     {{"functions.worker.timeout_seconds", "31"}},
     NULL,
     "queue.visibility_timeout_seconds: 180 is less than 6 × functions.worker.timeout_seconds "
     "(186)*"},
    {"dlq retention shorter",
     {{"queue.dlq_message_retention_seconds", "345599"}},
     NULL,
     "queue.dlq_message_retention_seconds: 345599 is less than queue.message_retention_seconds "
     "(345600)*"},
    {"dlq retention equal", {{"queue.dlq_message_retention_seconds", "345600"}}, NULL, NULL},
    {"reserved -2",
     {{"functions.api.reserved_concurrency", "-2"}},
     NULL,
     "functions.api.reserved_concurrency: -2 is out of range -1..100000"},
    {"reserved 0", {{"functions.api.reserved_concurrency", "0"}}, NULL, NULL},
    {"reserved above limit",
     {{"functions.worker.reserved_concurrency", "1001"}},
     NULL,
     "functions.worker.reserved_concurrency: 1001 is more than "
     "emulator.account_concurrency_limit (1000); use -1 (unreserved) or 0..1000"},
    {"reserved at the emulator's limit",
     {{"functions.worker.reserved_concurrency", "1000"},
      {"deploy.account_concurrency_limit", "1100"}},
     NULL,
     NULL},
    {"reserved in total beyond the emulator's limit",
     {{"functions.api.reserved_concurrency", "600"},
      {"functions.worker.reserved_concurrency", "600"},
      {"deploy.account_concurrency_limit", "3000"}},
     NULL,
     "functions.worker.reserved_concurrency: the functions reserve 1200 in total, more than "
     "emulator.account_concurrency_limit (1000)"},
    {"one above the limit names itself, not the total",
     {{"functions.api.reserved_concurrency", "500"},
      {"functions.worker.reserved_concurrency", "1001"},
      {"deploy.account_concurrency_limit", "3000"}},
     NULL,
     "functions.worker.reserved_concurrency: 1001 is more than "
     "emulator.account_concurrency_limit (1000); use -1 (unreserved) or 0..1000"},
    {"reserved beyond what AWS leaves",
     {{"functions.worker.reserved_concurrency", "901"}},
     NULL,
     "functions.worker.reserved_concurrency: the functions reserve 901 in total; AWS keeps 100 "
     "of deploy.account_concurrency_limit (1000) unreserved, so at most 900"},
    {"reserved all AWS leaves", {{"functions.worker.reserved_concurrency", "900"}}, NULL, NULL},
    {"a new account's quota",
     {{"deploy.account_concurrency_limit", "10"}, {"functions.api.reserved_concurrency", "1"}},
     NULL,
     "functions.api.reserved_concurrency: the functions reserve 1 in total; AWS keeps 100 of "
     "deploy.account_concurrency_limit (10) unreserved, so at most 0"},
    {"a new account's quota, nothing reserved",
     {{"deploy.account_concurrency_limit", "10"}, {"functions.api.reserved_concurrency", "0"}},
     NULL,
     NULL},
    {"account limit 0",
     {{"deploy.account_concurrency_limit", "0"}},
     NULL,
     "deploy.account_concurrency_limit: 0 is out of range 1..100000"},
    {"reserved total above limit",
     {{"functions.api.reserved_concurrency", "600"},
      {"functions.producer.reserved_concurrency", "401"}},
     NULL,
     "functions.producer.reserved_concurrency: the functions reserve 1001 in total, more than "
     "emulator.account_concurrency_limit (1000)"},
    {"vpc without subnets",
     {{"network.vpc_enabled", "true"}},
     NULL,
     "network.subnet_ids: must not be empty when network.vpc_enabled is true"},
    {"vpc without security groups",
     {{"network.vpc_enabled", "true"}, {"network.subnet_ids", "[\"subnet-0a1b2c3d\"]"}},
     NULL,
     "network.security_group_ids: must not be empty when network.vpc_enabled is true"},
    {"vpc with a subnet and a security group",
     {{"network.vpc_enabled", "true"},
      {"network.subnet_ids", "[\"subnet-0a1b2c3d\"]"},
      {"network.security_group_ids", "[\"sg-0a1b\"]"}},
     NULL,
     NULL},
    {"subnets without vpc", {{"network.subnet_ids", "[\"subnet-0a1b2c3d\"]"}}, NULL, NULL},
    {"bad subnet id",
     {{"network.subnet_ids", "[\"sub-1\"]"}},
     NULL,
     "network.subnet_ids[0]: \"sub-1\" is not an id of the form subnet-<hex>"},
    {"bad security group",
     {{"network.security_group_ids", "[\"sg-xyz\"]"}},
     NULL,
     "network.security_group_ids[0]: \"sg-xyz\" is not an id of the form sg-<hex>"},
    {"domain without name",
     {{"domain.enabled", "true"}},
     NULL,
     "domain.name: must not be empty when domain.enabled is true"},
    {"domain without zone",
     {{"domain.enabled", "true"}, {"domain.name", "\"api.example.com\""}},
     NULL,
     "domain.zone_id: must not be empty when domain.enabled is true"},
    {"domain with name and zone",
     {{"domain.enabled", "true"},
      {"domain.name", "\"api.example.com\""},
      {"domain.zone_id", "\"Z0123456789ABC\""}},
     NULL,
     NULL},
    {"domain name invalid",
     {{"domain.name", "\"Api..example\""}},
     NULL,
     "domain.name: \"Api..example\" is not a lowercase DNS name like api.example.com"},
    /* tags */
    {"fixed tag Environment",
     {{"tags.Environment", "\"prod\""}},
     NULL,
     "tags.Environment: the tag Environment is set by haar from the configuration; remove it"},
    {"fixed tag in another case",
     {{"tags.project", "\"x\""}},
     NULL,
     "tags.project: the tag Project is set by haar from the configuration; remove it"},
    {"fixed tag ManagedBy",
     {{"tags.MANAGEDBY", "\"me\""}},
     NULL,
     "tags.MANAGEDBY: the tag ManagedBy is set by haar from the configuration; remove it"},
    {"a tag that only starts like one", {{"tags.ProjectCode", "\"x\""}}, NULL, NULL},
    /* the artifacts bucket name */
    {"project and environment 40 characters",
     {{"project", "\"abcdefghijabcdefghijabcdefghijab\""}, {"environment", "\"abcdefgh\""}},
     "/tmp/x.json",
     "project: project and environment together are 40 characters, at most 39: the artifacts "
     "bucket <project>-<environment>-artifacts-<account id> must fit S3's 63"},
    {"project and environment 39 characters",
     {{"project", "\"abcdefghijabcdefghijabcdefghijab\""}, {"environment", "\"abcdefg\""}},
     "/tmp/x.json",
     NULL},
    {"reserved bucket prefix",
     {{"project", "\"xn--haar\""}},
     NULL,
     "project: \"xn--haar\" must not begin with xn--, sthree- or amzn-s3-demo- (prefixes S3 "
     "reserves for bucket names)"},
    {"sthree prefix", {{"project", "\"sthree-x\""}}, NULL, "project: \"sthree-x\" must not*"},
    /* the JWT authorizer */
    {"jwt without issuer",
     {{"api.jwt_authorizer.enabled", "true"}, {"api.jwt_authorizer.audience", "[\"a\"]"}},
     NULL,
     "api.jwt_authorizer.issuer: must not be empty when api.jwt_authorizer.enabled is true"},
    {"jwt without audience",
     {{"api.jwt_authorizer.enabled", "true"},
      {"api.jwt_authorizer.issuer", "\"https://auth.example.com/\""}},
     NULL,
     "api.jwt_authorizer.audience: must not be empty when api.jwt_authorizer.enabled is true"},
    {"jwt complete",
     {{"api.jwt_authorizer.enabled", "true"},
      {"api.jwt_authorizer.issuer", "\"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Ab\""},
      {"api.jwt_authorizer.audience", "[\"client-1\", \"client-2\"]"}},
     NULL,
     NULL},
    {"jwt issuer with a port", {{"api.jwt_authorizer.issuer", "\"https://a.b:8443\""}}, NULL, NULL},
    {"jwt issuer over http",
     {{"api.jwt_authorizer.issuer", "\"http://auth.example.com/\""}},
     NULL,
     "api.jwt_authorizer.issuer: \"http://auth.example.com/\" must be an https URL like "
     "https://auth.example.com/"},
    {"jwt issuer with a space",
     {{"api.jwt_authorizer.issuer", "\"https://auth.example.com/a b\""}},
     NULL,
     "api.jwt_authorizer.issuer: \"https://auth.example.com/a b\" must be an https URL*"},
    {"jwt issuer without host",
     {{"api.jwt_authorizer.issuer", "\"https:///x\""}},
     NULL,
     "api.jwt_authorizer.issuer: \"https:///x\" must be an https URL*"},
    {"jwt issuer bad port",
     {{"api.jwt_authorizer.issuer", "\"https://a.b:/x\""}},
     NULL,
     "api.jwt_authorizer.issuer: \"https://a.b:/x\" must be an https URL*"},
    {"jwt audience with a space",
     {{"api.jwt_authorizer.audience", "[\"my app\"]"}},
     NULL,
     "api.jwt_authorizer.audience[0]: \"my app\" may contain only printable ASCII characters "
     "without spaces"},
    {"jwt audience 11",
     {{"api.jwt_authorizer.audience",
       "[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]"}},
     NULL,
     "api.jwt_authorizer.audience: 11 items, at most 10"},
    {"jwt unknown key",
     {{"api.jwt_authorizer.scopes", "[]"}},
     NULL,
     "api.jwt_authorizer.scopes: unknown key"},
    /* alarms */
    {"alarm e-mail without domain",
     {{"alarms.email_endpoints", "[\"ops@example\"]"}},
     NULL,
     "alarms.email_endpoints[0]: \"ops@example\" is not an e-mail address like ops@example.com"},
    {"alarm e-mail without local part",
     {{"alarms.email_endpoints", "[\"@example.com\"]"}},
     NULL,
     "alarms.email_endpoints[0]: \"@example.com\" is not an e-mail address*"},
    {"alarm e-mail",
     {{"alarms.email_endpoints", "[\"on-call+haar@ops.example.org\"]"}},
     NULL,
     NULL},
    {"p99 99",
     {{"alarms.api_p99_latency_ms", "99"}},
     NULL,
     "alarms.api_p99_latency_ms: 99 is out of range 100..30000"},
    {"age alarm at the retention",
     {{"alarms.queue_oldest_message_age_seconds", "345600"}},
     NULL,
     "alarms.queue_oldest_message_age_seconds: 345600 is not less than*"},
    /* the producer's asynchronous invocation */
    {"producer retries 3",
     {{"functions.producer.max_retry_attempts", "3"}},
     NULL,
     "functions.producer.max_retry_attempts: 3 is out of range 0..2"},
    {"producer retries 0", {{"functions.producer.max_retry_attempts", "0"}}, NULL, NULL},
    {"producer event age 59",
     {{"functions.producer.max_event_age_seconds", "59"}},
     NULL,
     "functions.producer.max_event_age_seconds: 59 is out of range 60..21600"},
    {"producer event age 21600",
     {{"functions.producer.max_event_age_seconds", "21600"}},
     NULL,
     NULL},
    {"retries on the worker",
     {{"functions.worker.max_retry_attempts", "1"}},
     NULL,
     "functions.worker.max_retry_attempts: unknown key"},
    /* protection and delivery */
    {"protected without deletion protection",
     {{"deploy.protected", "true"}},
     NULL,
     "table.deletion_protection: must be true when deploy.protected is true"},
    {"protected with deletion protection",
     {{"deploy.protected", "true"}, {"table.deletion_protection", "true"}},
     NULL,
     NULL},
    {"bad traffic shifting",
     {{"deploy.traffic_shifting", "\"Canary50Percent\""}},
     NULL,
     "deploy.traffic_shifting: \"Canary50Percent\" is not one of AllAtOnce, "
     "Canary10Percent5Minutes, Canary10Percent10Minutes, Canary10Percent15Minutes, "
     "Canary10Percent30Minutes, Linear10PercentEvery1Minute, Linear10PercentEvery2Minutes, "
     "Linear10PercentEvery3Minutes, Linear10PercentEvery10Minutes"},
    {"linear shifting",
     {{"deploy.traffic_shifting", "\"Linear10PercentEvery10Minutes\""}},
     NULL,
     NULL},
    {"tracing not a boolean",
     {{"tracing_enabled", "\"yes\""}},
     NULL,
     "tracing_enabled: expected boolean, got string"},
    /* schedule expressions */
    {"rate 1 minutes",
     {{"schedule.expression", "\"rate(1 minutes)\""}},
     NULL,
     "schedule.expression: \"rate(1 minutes)\": use the singular unit \"minute\" when the value "
     "is 1"},
    {"rate 0 minutes",
     {{"schedule.expression", "\"rate(0 minutes)\""}},
     NULL,
     "schedule.expression: \"rate(0 minutes)\": the rate value must be a positive integer (no "
     "sign, no leading zero)"},
    {"rate 5 minute",
     {{"schedule.expression", "\"rate(5 minute)\""}},
     NULL,
     "schedule.expression: \"rate(5 minute)\": use the plural unit \"minutes\" when the value is "
     "not 1"},
    {"rate 5 weeks",
     {{"schedule.expression", "\"rate(5 weeks)\""}},
     NULL,
     "schedule.expression: \"rate(5 weeks)\": the unit must be minute(s), hour(s) or day(s)"},
    {"rate -5 minutes",
     {{"schedule.expression", "\"rate(-5 minutes)\""}},
     NULL,
     "schedule.expression: \"rate(-5 minutes)\": the rate value must be a positive integer*"},
    {"rate leading zero",
     {{"schedule.expression", "\"rate(05 minutes)\""}},
     NULL,
     "schedule.expression: \"rate(05 minutes)\": the rate value must be a positive integer*"},
    {"rate two spaces",
     {{"schedule.expression", "\"rate(5  minutes)\""}},
     NULL,
     "schedule.expression: \"rate(5  minutes)\": the unit must be*"},
    {"rate no unit",
     {{"schedule.expression", "\"rate(5)\""}},
     NULL,
     "schedule.expression: \"rate(5)\" must be rate(value unit), e.g. rate(5 minutes)"},
    {"rate too large",
     {{"schedule.expression", "\"rate(1000000000 days)\""}},
     NULL,
     "schedule.expression: \"rate(1000000000 days)\": the rate value is too large"},
    {"rate 1 day", {{"schedule.expression", "\"rate(1 day)\""}}, NULL, NULL},
    {"rate 1 hour", {{"schedule.expression", "\"rate(1 hour)\""}}, NULL, NULL},
    {"rate 12 hours", {{"schedule.expression", "\"rate(12 hours)\""}}, NULL, NULL},
    {"cron 5 fields",
     {{"schedule.expression", "\"cron(0 * * * ?)\""}},
     NULL,
     "schedule.expression: \"cron(0 * * * ?)\": a cron expression has 6 fields (minutes hours "
     "day-of-month month day-of-week year), got 5"},
    {"cron 7 fields",
     {{"schedule.expression", "\"cron(0 0 * * ? * 1)\""}},
     NULL,
     "schedule.expression: \"cron(0 0 * * ? * 1)\": a cron expression has 6 fields*"},
    {"cron two ?",
     {{"schedule.expression", "\"cron(0 12 ? * ? *)\""}},
     NULL,
     "schedule.expression: \"cron(0 12 ? * ? *)\": exactly one of day-of-month and day-of-week "
     "must be \"?\""},
    {"cron no ?",
     {{"schedule.expression", "\"cron(0 12 * * * *)\""}},
     NULL,
     "schedule.expression: \"cron(0 12 * * * *)\": exactly one*"},
    {"cron 6 fields", {{"schedule.expression", "\"cron(0/15 8-17 ? * MON-FRI *)\""}}, NULL, NULL},
    {"neither rate nor cron",
     {{"schedule.expression", "\"every 5 minutes\""}},
     NULL,
     "schedule.expression: \"every 5 minutes\" must be rate(value unit) or cron(6 fields)"},
    {"empty expression",
     {{"schedule.expression", "\"\""}},
     NULL,
     "schedule.expression: must not be empty"},
    /* names and formats */
    {"env mismatch with folder",
     {{NULL, NULL}},
     "infra/envs/stage/terraform.tfvars.json",
     "environment: \"dev\" does not match the folder it was loaded from (envs/stage)"},
    {"env matches folder",
     {{"environment", "\"stage\""}},
     "/x/infra/envs/stage/terraform.tfvars.json",
     NULL},
    {"no envs folder, no check", {{"environment", "\"qa\""}}, "/tmp/qa.json", NULL},
    {"bad project name",
     {{"project", "\"Haar_App\""}},
     NULL,
     "project: \"Haar_App\" may contain only a-z, 0-9 and \"-\""},
    {"project with hyphen at end",
     {{"project", "\"haar-\""}},
     NULL,
     "project: \"haar-\" must not begin or end with \"-\""},
    {"empty project", {{"project", "\"\""}}, NULL, "project: must not be empty"},
    {"project too long for names",
     {{"project", "\"abcdefghijabcdefghijabcdefghijabc\""}},
     NULL,
     "project: is 33 characters, at most 32"},
    {"project 32 chars", {{"project", "\"abcdefghijabcdefghijabcdefghijab\""}}, NULL, NULL},
    {"environment too long for names",
     {{"environment", "\"abcdefghijabcdefg\""}},
     "/tmp/x.json",
     "environment: is 17 characters, at most 16"},
    {"path traversal in environment",
     {{"environment", "\"../etc\""}},
     "/tmp/x.json",
     "environment: \"../etc\" may contain only a-z, 0-9 and \"-\""},
    {"bad region",
     {{"aws_region", "\"europe\""}},
     NULL,
     "aws_region: \"europe\" does not look like an AWS region (e.g. eu-west-1)"},
    {"region upper case",
     {{"aws_region", "\"EU-WEST-1\""}},
     NULL,
     "aws_region: \"EU-WEST-1\" does not look like*"},
    {"gov region", {{"aws_region", "\"us-gov-west-1\""}}, NULL, NULL},
    {"bad architecture",
     {{"deploy.architecture", "\"i386\""}},
     NULL,
     "deploy.architecture: \"i386\" is not one of arm64, x86_64"},
    {"x86_64", {{"deploy.architecture", "\"x86_64\""}}, NULL, NULL},
    {"bad package type",
     {{"deploy.package_type", "\"zip\""}},
     NULL,
     "deploy.package_type: \"zip\" is not one of Zip, Image"},
    {"github repository without owner",
     {{"deploy.github_repository", "\"haar\""}},
     NULL,
     "deploy.github_repository: \"haar\" must be \"owner/name\""},
    {"github repository two slashes",
     {{"deploy.github_repository", "\"a/b/c\""}},
     NULL,
     "deploy.github_repository: \"a/b/c\": the name may contain only*"},
    {"bad branch",
     {{"deploy.github_branch", "\"feature..x\""}},
     NULL,
     "deploy.github_branch: \"feature..x\" is not a valid git branch name"},
    {"bad origin",
     {{"api.cors_allow_origins", "[\"localhost:3000\"]"}},
     NULL,
     "api.cors_allow_origins[0]: \"localhost:3000\" must be \"*\" or an origin like "
     "https://example.com"},
    {"empty origin",
     {{"api.cors_allow_origins", "[\"\"]"}},
     NULL,
     "api.cors_allow_origins[0]: must not be empty"},
    {"reserved tag key",
     {{"tags.aws:owner", "\"x\""}},
     NULL,
     "tags.aws:owner: tag keys beginning with \"aws:\" are reserved by AWS"},
    {"bad ttl attribute",
     {{"table.ttl_attribute", "\"expires at\""}},
     NULL,
     "table.ttl_attribute: \"expires at\" may contain only letters, digits, \"_\", \".\" and "
     "\"-\""},
    {"long quoted value is cut",
     {{"table.ttl_attribute",
       "\"a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\""}},
     NULL,
     "table.ttl_attribute: \"a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\" "
     "may contain only*"},
};

/* Finds the parent container for a dotted path, creating objects on the way. Returns the
 * container and writes the last segment (a key, or "[n]" for an index) to *last. */
static json_t *walk(json_t *doc, const char *path, char *last, size_t lastlen)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = doc;
    char *seg = buf;
    for (;;) {
        char *dot = strchr(seg, '.');
        char *br = strchr(seg, '[');
        /* tag keys such as "aws:owner" contain no dots; keys never contain '[' here */
        char *end = dot;
        if (br != NULL && (end == NULL || br < end) && br != seg)
            end = br;
        if (end == NULL) {
            snprintf(last, lastlen, "%s", seg);
            return cur;
        }
        char saved = *end;
        *end = '\0';
        json_t *next;
        if (seg[0] == '[')
            next = json_array_get(cur, (size_t)strtoul(seg + 1, NULL, 10));
        else
            next = json_object_get(cur, seg);
        if (next == NULL) {
            next = json_object();
            json_object_set_new(cur, seg, next);
        }
        cur = next;
        *end = saved;
        seg = saved == '.' ? end + 1 : end;
    }
}

static void apply(json_t *doc, const struct edit *e)
{
    char last[256];
    json_t *parent = walk(doc, e->path, last, sizeof last);
    if (last[0] == '[') {
        size_t i = (size_t)strtoul(last + 1, NULL, 10);
        assert_non_null(e->json);
        json_error_t jerr;
        json_t *v = json_loads(e->json, JSON_DECODE_ANY, &jerr);
        assert_non_null(v);
        assert_int_equal(json_array_set_new(parent, i, v), 0);
        return;
    }
    assert_true(json_is_object(parent));
    if (e->json == NULL) {
        assert_int_equal(json_object_del(parent, last), 0);
        return;
    }
    json_error_t jerr;
    json_t *v = json_loads(e->json, JSON_DECODE_ANY, &jerr);
    if (v == NULL)
        fail_msg("bad test value %s: %s", e->json, jerr.text);
    assert_int_equal(json_object_set_new(parent, last, v), 0);
}

/* Runs one case; prints what went wrong and returns false on a mismatch. */
static bool run_case(const struct config_case *tc)
{
    json_t *doc = dev_doc();
    for (size_t i = 0; i < 4 && tc->edits[i].path != NULL; i++)
        apply(doc, &tc->edits[i]);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    const char *path = tc->load_path != NULL ? tc->load_path : DEV_PATH;
    char err[1024] = "";
    bool ok = true;
    assert_non_null(text);
    struct config *cfg = config_load_json(path, text, strlen(text), err, sizeof err);
    if (tc->want == NULL) {
        if (cfg == NULL) {
            print_error("case \"%s\": expected to load, got: %s\n", tc->name, err);
            ok = false;
        }
    } else if (cfg != NULL) {
        print_error("case \"%s\": expected an error, it loaded\n", tc->name);
        ok = false;
    } else {
        char full[1024];
        snprintf(full, sizeof full, "%s: %s", path, tc->want);
        size_t n = strlen(full);
        bool prefix = n > 0 && full[n - 1] == '*';
        if ((prefix ? strncmp(err, full, n - 1) != 0 : strcmp(err, full) != 0) ||
            strchr(err, '\n') != NULL) {
            print_error("case \"%s\":\n  want %s\n  got  %s\n", tc->name, full, err);
            ok = false;
        }
    }
    config_free(cfg);
    free(text);
    json_decref(doc);
    return ok;
}

static void test_cases(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        failed += run_case(&CASES[i]) ? 0 : 1;
    if (failed > 0)
        fail_msg("%zu of %zu config cases failed", failed, sizeof CASES / sizeof CASES[0]);
}

/* ---------------------------------------------------------------------------------- */
/* Raw text: syntax errors and things jansson must refuse                              */

static void test_raw_text(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want_prefix; /* after "<path>" */
    } cases[] = {
        {"{\n  \"project\": \"haar\",\n  \"environment\": \"dev\"\n  \"x\": 1\n}",
         ":4:5: invalid JSON: "},
        {"{\"project\": \"haar\", \"project\": \"haar\"}",
         ":1:29: invalid JSON: duplicate object key"},
        {"", ":1:0: invalid JSON: "},
        {"{} trailing", ":1:11: invalid JSON: end of file expected near 'trailing'"},
        {"[1, 2]", ": (root): expected object, got array"},
        {"{\"project\": \"a\\u0000b\"}", ":1:22: invalid JSON: \\u0000 is not allowed"},
        {"{\"project\": \"ha\nar\"}", ":1:"},
        {"{}", ": project: missing required key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";
        struct config *cfg =
            config_load_json("t.json", cases[i].text, strlen(cases[i].text), err, sizeof err);
        assert_null(cfg);
        char want[256];
        snprintf(want, sizeof want, "t.json%s", cases[i].want_prefix);
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("raw case %zu: want prefix %s, got %s", i, want, err);
        assert_null(strchr(err, '\n'));
    }
    /* length is honoured: the text is not read past len */
    char err[256] = "";
    const char *two = "{}{}";
    assert_null(config_load_json("t.json", two, 2, err, sizeof err));
    assert_string_equal(err, "t.json: project: missing required key");
    /* a NULL or tiny error buffer is fine */
    assert_null(config_load_json("t.json", "{", 1, NULL, 0));
    char tiny[4];
    assert_null(config_load_json("t.json", "{", 1, tiny, sizeof tiny));
    assert_string_equal(tiny, "t.j");
}

static void test_load_errors(void **state)
{
    (void)state;
    char err[512] = "";
    assert_null(config_load("/nonexistent/haar.json", err, sizeof err));
    assert_string_equal(err,
                        "/nonexistent/haar.json: (root): cannot open: No such file or directory");

    assert_null(config_load("/tmp", err, sizeof err));
    assert_string_equal(err, "/tmp: (root): cannot read: Is a directory");
    assert_null(config_load(NULL, err, sizeof err));
    assert_string_equal(err, "(null): (root): no path given");

    /* a file past the 1 MiB cap */
    char path[] = "/tmp/haar-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputc('{', f);
    for (int i = 0; i < 1100 * 1024; i++)
        fputc(' ', f);
    fputc('}', f);
    fclose(f);
    assert_null(config_load(path, err, sizeof err));
    char want[256];
    snprintf(want, sizeof want, "%s: (root): the file is larger than 1048576 bytes", path);
    assert_string_equal(err, want);

    /* the same file, small: a syntax error names line and column */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\n\n   oops\n}\n", f);
    fclose(f);
    assert_null(config_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s:3:7: invalid JSON: string or '}' expected near 'oops'", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    unlink(path);
}

/* ---------------------------------------------------------------------------------- */
/* Paths and names                                                                     */

static void test_default_path(void **state)
{
    (void)state;
    char out[128];
    assert_int_equal(config_default_path("/src/haar", "dev", out, sizeof out), 0);
    assert_string_equal(out, "/src/haar/infra/envs/dev/terraform.tfvars.json");
    assert_int_equal(config_default_path(NULL, "prod", out, sizeof out), 0);
    assert_string_equal(out, "infra/envs/prod/terraform.tfvars.json");
    assert_int_equal(config_default_path("", "qa-2", out, sizeof out), 0);
    assert_string_equal(out, "infra/envs/qa-2/terraform.tfvars.json");
    static const char *const bad[] = {"../prod", "dev/../../etc", "Dev", "",
                                      "a b",     "a.b",           "a/b", "x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(out, sizeof out, "unchanged");
        assert_int_equal(config_default_path("/r", bad[i], out, sizeof out), -1);
        assert_string_equal(out, "");
    }
    assert_int_equal(config_default_path("/r", NULL, out, sizeof out), -1);
    /* too small: refused, never truncated */
    char small[20];
    assert_int_equal(config_default_path("/r", "dev", small, sizeof small), -1);
    assert_string_equal(small, "");
}

static struct config *load_env(const char *env)
{
    char path[1024], err[512] = "";
    assert_int_equal(config_default_path(source_dir(), env, path, sizeof path), 0);
    struct config *cfg = config_load(path, err, sizeof err);
    if (cfg == NULL)
        fail_msg("%s", err);
    return cfg;
}

static void test_resource_name(void **state)
{
    (void)state;
    struct config *cfg = load_env("stage");
    char out[64];
    assert_int_equal(config_resource_name(cfg, "tasks-dlq", out, sizeof out), 0);
    assert_string_equal(out, "haar-stage-tasks-dlq");
    char small[8];
    assert_int_equal(config_resource_name(cfg, "tasks", small, sizeof small), -1);
    assert_string_equal(small, "");
    assert_int_equal(config_resource_name(NULL, "tasks", out, sizeof out), -1);
    assert_int_equal(config_resource_name(cfg, NULL, out, sizeof out), -1);
    config_free(cfg);
    config_free(NULL);
}

/* ---------------------------------------------------------------------------------- */
/* describe                                                                            */

static void test_describe(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *role, *name, *tf_type;
        bool local;
    } want[] = {
        {"function", "api", "haar-dev-api", "aws_lambda_function", true},
        {"function", "worker", "haar-dev-worker", "aws_lambda_function", true},
        {"function", "producer", "haar-dev-producer", "aws_lambda_function", true},
        {"log_group", "api_log_group", "/aws/lambda/haar-dev-api", "aws_cloudwatch_log_group",
         true},
        {"log_group", "worker_log_group", "/aws/lambda/haar-dev-worker", "aws_cloudwatch_log_group",
         true},
        {"log_group", "producer_log_group", "/aws/lambda/haar-dev-producer",
         "aws_cloudwatch_log_group", true},
        {"queue", "queue", "haar-dev-tasks", "aws_sqs_queue", true},
        {"queue", "dlq", "haar-dev-tasks-dlq", "aws_sqs_queue", true},
        {"queue", "schedule_dlq", "haar-dev-schedule-dlq", "aws_sqs_queue", true},
        {"table", "tasks_table", "haar-dev-tasks", "aws_dynamodb_table", true},
        {"rule", "schedule", "haar-dev-schedule", "aws_cloudwatch_event_rule", true},
        {"event_source_mapping", "worker_mapping", "haar-dev-worker-mapping",
         "aws_lambda_event_source_mapping", true},
        {"http_api", "http_api", "haar-dev-api", "aws_apigatewayv2_api", true},
        {"iam_role", "api_role", "haar-dev-api-role", "aws_iam_role", false},
        {"iam_role", "worker_role", "haar-dev-worker-role", "aws_iam_role", false},
        {"iam_role", "producer_role", "haar-dev-producer-role", "aws_iam_role", false},
    };
    struct config *cfg = load_env("dev");
    json_t *d = config_describe(cfg);
    assert_non_null(d);
    assert_string_equal(json_string_value(json_object_get(d, "project")), "haar");
    assert_string_equal(json_string_value(json_object_get(d, "environment")), "dev");
    assert_string_equal(json_string_value(json_object_get(d, "region")), "eu-west-1");
    assert_string_equal(json_string_value(json_object_get(d, "account")), "000000000000");
    /* insertion order is the documented key order */
    const char *first_key = json_object_iter_key(json_object_iter(d));
    assert_string_equal(first_key, "project");
    json_t *res = json_object_get(d, "resources");
    assert_int_equal(json_array_size(res), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        json_t *r = json_array_get(res, i);
        assert_string_equal(json_string_value(json_object_get(r, "kind")), want[i].kind);
        assert_string_equal(json_string_value(json_object_get(r, "role")), want[i].role);
        assert_string_equal(json_string_value(json_object_get(r, "name")), want[i].name);
        assert_string_equal(json_string_value(json_object_get(r, "terraform_type")),
                            want[i].tf_type);
        assert_int_equal(json_is_true(json_object_get(r, "local")), want[i].local);
    }
    json_t *worker = json_array_get(res, 1);
    assert_int_equal(json_integer_value(json_object_get(worker, "memory_mb")), 256);
    assert_int_equal(json_integer_value(json_object_get(worker, "timeout_seconds")), 30);
    json_t *lg = json_array_get(res, 3);
    assert_int_equal(json_integer_value(json_object_get(lg, "retention_days")), 7);
    json_t *q = json_array_get(res, 6);
    assert_int_equal(json_integer_value(json_object_get(q, "visibility_timeout_seconds")), 180);
    assert_int_equal(json_integer_value(json_object_get(q, "message_retention_seconds")), 345600);
    assert_int_equal(json_integer_value(json_object_get(q, "max_receive_count")), 5);
    assert_string_equal(json_string_value(json_object_get(q, "dead_letter_queue")),
                        "haar-dev-tasks-dlq");
    json_t *dlq = json_array_get(res, 7);
    assert_int_equal(json_integer_value(json_object_get(dlq, "message_retention_seconds")),
                     1209600);
    json_t *sdlq = json_array_get(res, 8);
    assert_int_equal(json_integer_value(json_object_get(sdlq, "message_retention_seconds")),
                     1209600);
    assert_int_equal(json_integer_value(json_object_get(sdlq, "max_retry_attempts")), 2);
    assert_int_equal(json_integer_value(json_object_get(sdlq, "max_event_age_seconds")), 3600);
    json_t *t = json_array_get(res, 9);
    assert_false(json_is_true(json_object_get(t, "deletion_protection")));
    assert_string_equal(json_string_value(json_object_get(t, "hash_key")), "id");
    assert_string_equal(json_string_value(json_object_get(t, "ttl_attribute")), "expires_at");
    json_t *gsi = json_array_get(json_object_get(t, "global_secondary_indexes"), 0);
    assert_string_equal(json_string_value(json_object_get(gsi, "name")), "by-status");
    assert_string_equal(json_string_value(json_object_get(gsi, "hash_key")), "status");
    assert_string_equal(json_string_value(json_object_get(gsi, "range_key")), "created_at");
    json_t *rule = json_array_get(res, 10);
    assert_string_equal(json_string_value(json_object_get(rule, "schedule_expression")),
                        "rate(5 minutes)");
    assert_true(json_is_true(json_object_get(rule, "enabled")));
    json_t *m = json_array_get(res, 11);
    assert_string_equal(json_string_value(json_object_get(m, "function")), "haar-dev-worker");
    assert_string_equal(json_string_value(json_object_get(m, "queue")), "haar-dev-tasks");
    assert_int_equal(json_integer_value(json_object_get(m, "batch_size")), 10);
    assert_int_equal(json_integer_value(json_object_get(m, "maximum_batching_window_seconds")), 0);
    assert_int_equal(json_integer_value(json_object_get(m, "maximum_concurrency")), 10);
    json_decref(d);
    config_free(cfg);

    /* prod: its own names and values */
    cfg = load_env("prod");
    d = config_describe(cfg);
    assert_non_null(d);
    res = json_object_get(d, "resources");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "name")),
                        "haar-prod-api");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 0), "memory_mb")), 512);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(res, 5), "retention_days")),
                     365);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(res, 10), "schedule_expression")),
        "cron(0 * * * ? *)");
    assert_true(json_is_true(json_object_get(json_array_get(res, 9), "deletion_protection")));
    json_decref(d);
    config_free(cfg);
    assert_null(config_describe(NULL));

    /* names follow project and environment, nothing is hard-coded */
    json_t *doc = dev_doc();
    json_object_set_new(doc, "project", json_string("acme"));
    json_object_set_new(doc, "environment", json_string("qa-1"));
    char *text = json_dumps(doc, 0);
    char err[512] = "";
    cfg = config_load_json("/tmp/qa.json", text, strlen(text), err, sizeof err);
    if (cfg == NULL)
        fail_msg("%s", err);
    d = config_describe(cfg);
    assert_non_null(d);
    res = json_object_get(d, "resources");
    static const char *const names[] = {"acme-qa-1-api",
                                        "acme-qa-1-worker",
                                        "acme-qa-1-producer",
                                        "/aws/lambda/acme-qa-1-api",
                                        "/aws/lambda/acme-qa-1-worker",
                                        "/aws/lambda/acme-qa-1-producer",
                                        "acme-qa-1-tasks",
                                        "acme-qa-1-tasks-dlq",
                                        "acme-qa-1-schedule-dlq",
                                        "acme-qa-1-tasks",
                                        "acme-qa-1-schedule",
                                        "acme-qa-1-worker-mapping",
                                        "acme-qa-1-api",
                                        "acme-qa-1-api-role",
                                        "acme-qa-1-worker-role",
                                        "acme-qa-1-producer-role"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(res, i), "name")),
                            names[i]);
    assert_string_equal(json_string_value(json_object_get(d, "environment")), "qa-1");
    json_decref(d);
    config_free(cfg);
    free(text);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_files_load), cmocka_unit_test(test_dev_values),
        cmocka_unit_test(test_defaults),           cmocka_unit_test(test_cases),
        cmocka_unit_test(test_raw_text),           cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_default_path),       cmocka_unit_test(test_resource_name),
        cmocka_unit_test(test_describe),           cmocka_unit_test(test_tag_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
