/*
 * config.h — an environment's settings, read from infra/envs/<env>/terraform.tfvars.json.
 *
 * The same file is Terraform's input (infra/envs/<env>/variables.tf declares every key
 * below), so the two readers stay in step: a key added here is added there too.
 * Validation is strict: unknown keys, wrong types and out-of-range values are refused
 * with a message naming the file, the key path and what is wrong.
 *
 * Not thread-safe to load; a loaded config is read-only and may be shared freely.
 */
#ifndef HAAR_CLOUD_CONFIG_H
#define HAAR_CLOUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum config_fn { CONFIG_FN_API, CONFIG_FN_WORKER, CONFIG_FN_PRODUCER, CONFIG_FN_COUNT };

struct config_function {
    const char *short_name;         /* "api", "worker", "producer" (static) */
    char full_name[128];            /* "<project>-<environment>-<short>" */
    int memory_mb;                  /* 128..10240 */
    int timeout_seconds;            /* 1..900 */
    int reserved_concurrency;       /* -1 = unreserved, else 0..account limit */
    /* worker only (0 elsewhere): the SQS event source mapping */
    int batch_size;                 /* 1..10000 */
    int max_batching_window_seconds;/* 0..300; >= 1 when batch_size > 10 */
    int max_concurrency;            /* 2..1000 */
    /* producer only (0 elsewhere): its asynchronous invoke configuration */
    int max_retry_attempts;         /* 0..2, default 2 */
    int max_event_age_seconds;      /* 60..21600, default 3600 */
};

struct config {
    char *path;                     /* the file it was read from */
    char *project;                  /* [a-z0-9-], 1..32 */
    char *environment;              /* [a-z0-9-], 1..16 */
    char *aws_region;
    json_t *tags;                   /* object of string → string; at most 47, none of the
                                       keys Project, Environment, ManagedBy (any case) */
    int log_retention_days;         /* one of CloudWatch Logs' allowed values */
    bool kms_enabled;
    bool tracing_enabled;           /* X-Ray active tracing of the functions */
    struct {
        int throttling_rate_limit;
        int throttling_burst_limit;
        json_t *cors_allow_origins; /* array of strings */
        bool access_log_enabled;
        struct {
            bool enabled;           /* every route but GET /health needs a JWT */
            char *issuer;           /* https URL; non-empty when enabled */
            json_t *audience;       /* array of strings; non-empty when enabled */
        } jwt_authorizer;
    } api;
    struct {
        int visibility_timeout_seconds;   /* 0..43200, >= 6 × worker timeout */
        int message_retention_seconds;    /* 60..1209600 */
        int receive_wait_time_seconds;    /* 0..20 */
        int max_receive_count;            /* 1..1000 */
        int dlq_message_retention_seconds;/* 60..1209600, >= message_retention */
    } queue;
    struct {
        bool point_in_time_recovery;
        char *ttl_attribute;
        bool deletion_protection;   /* true when deploy.protected */
    } table;
    struct {
        char *expression;           /* rate(...) or cron(...) (syntax checked by events) */
        bool enabled;
        json_t *tasks;              /* array of {"kind": str, "payload": object} */
    } schedule;
    struct config_function functions[CONFIG_FN_COUNT];
    struct {
        char *architecture;         /* "arm64" | "x86_64" */
        char *package_type;         /* "Zip" | "Image" */
        char *github_repository;    /* "owner/name" */
        char *github_branch;
        int ecr_keep_images;        /* 1..1000 */
        int account_concurrency_limit; /* the AWS account's Lambda quota, 1..100000, default
                                          1000; the functions reserve at most this - 100 */
        bool protected;             /* the deploy role may not destroy stateful resources */
        char *traffic_shifting;     /* "AllAtOnce" or a CodeDeploy Lambda canary/linear name */
    } deploy;
    struct {
        bool vpc_enabled;
        json_t *subnet_ids;         /* array of strings; non-empty when vpc_enabled */
        json_t *security_group_ids;
    } network;
    struct {
        bool enabled;
        char *name;                 /* non-empty when enabled */
        char *zone_id;
    } domain;
    struct {
        bool enabled;               /* alarms, their SNS topic and the dashboard */
        json_t *email_endpoints;    /* array of e-mail addresses subscribed to the topic */
        int api_p99_latency_ms;     /* 100..30000, default 2000 */
        int queue_oldest_message_age_seconds; /* 60..1209600, default 900, below the
                                                 queue's retention */
    } alarms;
    struct {
        int account_concurrency_limit;  /* 1..100000, default 1000 */
        int idle_environment_seconds;   /* 1..86400, default 300 */
        int code_storage_mb;            /* 1..76800, default 76800 (AWS's 75 GB) */
        bool strict_runtimes; /* default false: a python3.x / nodejsNN.x the machine lacks
                                 runs on the nearest interpreter (with a warning); true:
                                 refused */
    } emulator;
};

/*
 * Reads and validates the file at `path`. On success returns a new config (free with
 * config_free) and leaves `err` untouched. On failure returns NULL and writes into `err`
 * one line: "<path>: <key.path>: <what is wrong>".
 */
struct config *config_load(const char *path, char *err, size_t errlen);

/* Parses an already-read JSON document (for tests and fuzzing); `path` names it in errors. */
struct config *config_load_json(const char *path, const char *text, size_t len, char *err,
                                size_t errlen);

/* The default file for an environment: "<root>/infra/envs/<env>/terraform.tfvars.json". */
int config_default_path(const char *root, const char *env, char *out, size_t outlen);

/* Frees a config; accepts NULL. */
void config_free(struct config *cfg);

/* Full AWS name of a resource: "<project>-<environment>-<suffix>" into out. */
int config_resource_name(const struct config *cfg, const char *suffix, char *out, size_t outlen);

/*
 * What `haar describe --env NAME --json` prints: every resource haar provisions for the
 * environment, with the names Terraform uses. New reference; caller owns it.
 *   {"project","environment","region","account":"000000000000",
 *    "resources":[{"kind":"function","role":"api","name":"haar-dev-api",
 *                  "terraform_type":"aws_lambda_function", ...extra per kind}, ...]}
 */
json_t *config_describe(const struct config *cfg);

/* How many tags haar's Terraform adds to every resource (Project, Environment, ManagedBy):
 * AWS allows 50 per resource, so the file may add at most 50 - CONFIG_FIXED_TAGS. */
#define CONFIG_FIXED_TAGS 3

/* The one account every local resource belongs to (as local AWS tools use). */
#define CONFIG_ACCOUNT "000000000000"

/* The name of the tasks table's status index (Terraform's status_index_name output). */
#define CONFIG_STATUS_INDEX "by-status"

/*
 * The environment variables of function fn (a CONFIG_FN_*), as infra/layers/30_app sets
 * them on AWS: HAAR_PROJECT, HAAR_ENVIRONMENT, TASKS_TABLE, TASKS_STATUS_INDEX,
 * TASKS_QUEUE_URL for all three; MAX_RECEIVE_COUNT for the worker; SCHEDULE_RULE and
 * SCHEDULE_TASKS (JSON) for the producer. queue_url is where the tasks queue is reached
 * (on AWS its SQS URL, here http://127.0.0.1:<port>/000000000000/<name>). A new object,
 * or NULL when out of memory.
 */
json_t *config_function_env(const struct config *cfg, int fn, const char *queue_url);

#endif
