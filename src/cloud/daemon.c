/*
 * daemon.c — `haar up`: one process, one loop thread. Loads the environment's config,
 * takes the state dir (exclusively), opens the store, builds the services and their router
 * rows, listens on the AWS and API ports, provisions the environment's functions, then runs
 * the loop — sleeping until the next timer or I/O — until SIGINT/SIGTERM, then drains.
 */
#include "cloud/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloud/apigw/apigw.h"
#include "cloud/apigw/proto_gateway.h"
#include "cloud/apigw/proto_rest.h"
#include "cloud/config.h"
#include "cloud/dynamodb/ddb.h"
#include "cloud/dynamodb/proto_json.h"
#include "cloud/esm/esm.h"
#include "cloud/esm/proto_rest.h"
#include "cloud/events/events.h"
#include "cloud/events/proto_json.h"
#include "cloud/fetch.h"
#include "cloud/http/http.h"
#include "cloud/http/router.h"
#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "cloud/lambda/proto_runtime.h"
#include "cloud/lambda/proto_url.h"
#include "cloud/links.h"
#include "cloud/logs/logs.h"
#include "cloud/logs/proto_json.h"
#include "cloud/sqs/proto_json.h"
#include "cloud/sqs/proto_query.h"
#include "cloud/sqs/queue.h"
#include "cloud/store/store.h"
#include "cloud/sts/proto_query.h"
#include "cloud/sts/sts.h"
#include "core/clock.h"
#include "core/fs.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/timer.h"
#include "core/work.h"

#define DEFAULT_MANUAL_CLOCK "2026-01-01T00:00:00Z"
#define ACCOUNT              "000000000000"
#define LIVE_ALIAS           "live"

enum {
    AWS_MAX_BODY = 72 * 1024 * 1024,     /* Lambda code uploads (50 MB zips, base64) */
    API_MAX_BODY = 12 * 1024 * 1024,     /* past the 10 MB the gateway checks itself */
    RUNTIME_MAX_BODY = 16 * 1024 * 1024, /* past the 6 MB response limit the engine checks */
    IDLE_MS = 60000,                     /* an idle keep-alive connection closes */
    FD_RESERVE = 256,                    /* for the store, logs, pipes and environments */
};

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int e = errno;
    char c = sig == SIGCHLD ? 'C' : 'T';
    ssize_t r = write(sig_pipe[1], &c, 1);
    (void)r;
    errno = e;
}

struct daemon {
    struct http_server *srv;
    struct http_profile *aws_profile, *api_profile, *runtime_profile;
    struct lambda *lambda;
    struct lambda_rest lambda_rest;
    struct lambda_url_srv lambda_url;
    struct logs *logs;
    struct sts *sts;
    struct events *events;
    struct sqs *sqs;
    struct esm *esm;
    struct esm_rest esm_rest;
    struct store *store;
    struct config *cfg;
    struct router rt;
    struct apigw *apigw;
    struct ddb *ddb;
    struct proto_service svc_lambda, svc_logs, svc_sts_query, svc_sts_json, svc_events, svc_apigw;
    struct proto_service svc_sqs_json, svc_sqs_query, svc_esm, svc_ddb;
    struct http_listener *aws_l, *api_l;
    struct http_watch *sig_watch, *store_watch, *work_watch;
    int64_t started_ms;
    int lock_fd;
    bool stop;
};

/* ---- loop glue ---- */

static void on_sig_data(void *arg, const char *d, size_t n)
{
    struct daemon *dm = arg;
    bool child = false;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 'C')
            child = true;
        else
            dm->stop = true;
    }
    if (child) {
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            lambda_child_exited(dm->lambda, pid, status);
    }
}

static void on_store_ready(void *arg, const char *d, size_t n)
{
    struct daemon *dm = arg;
    (void)d;
    (void)n;
    store_poll(dm->store);
}

static void on_work_ready(void *arg, const char *d, size_t n)
{
    (void)arg;
    (void)d;
    (void)n;
    work_poll();
}

/* lambda_host glue: each environment's Runtime API listener admits only its own processes */
static bool runtime_peer_ok(void *arg, int fd)
{
    return lambda_env_owns_peer(arg, fd);
}

static int host_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    struct daemon *dm = arg;
    struct http_listener *l = NULL;
    struct http_listen_opts o = {.profile = dm->runtime_profile,
                                 .max_conns = 16,
                                 .filter = runtime_peer_ok,
                                 .filter_arg = env};
    if (http_listen(dm->srv, 0, &o, runtime_api_handle, env, &l, port) != 0)
        return -1;
    *listener = l;
    return 0;
}

static void host_unlisten(void *arg, void *listener)
{
    (void)arg;
    http_listener_close(listener);
}

static void *host_watch(void *arg, int fd, void (*on_data)(void *, const char *, size_t),
                        void *cbarg)
{
    struct daemon *dm = arg;
    return http_watch_fd(dm->srv, fd, on_data, cbarg);
}

static void host_unwatch(void *h)
{
    http_watch_close(h);
}

/* ---- credentials the router accepts besides the configured keys ---- */

static bool lambda_creds(void *arg, const char *key, const char *token, const char **secret,
                         struct proto_caller *who)
{
    struct daemon *dm = arg;
    const char *fn = NULL, *role = NULL;
    *secret = lambda_secret_for_key(dm->lambda, key, token, &fn, &role);
    if (*secret == NULL)
        return false;
    /* a function acts as its execution role: assumed-role/<role name>/<function name> */
    const char *slash = strrchr(role, '/');
    snprintf(who->arn, sizeof who->arn, "arn:aws:sts::" ACCOUNT ":assumed-role/%s/%s",
             slash ? slash + 1 : "lambda", fn);
    snprintf(who->user_id, sizeof who->user_id, "AROA%.16s:%s", key + 4, fn);
    return true;
}

static bool sts_creds(void *arg, const char *key, const char *token, const char **secret,
                      struct proto_caller *who)
{
    struct daemon *dm = arg;
    const struct sts_creds *c = sts_lookup(dm->sts, key, token);
    if (c == NULL)
        return false;
    *secret = c->secret;
    snprintf(who->arn, sizeof who->arn, "%s", c->arn);
    snprintf(who->user_id, sizeof who->user_id, "%s", c->user_id);
    return true;
}

/* ---- /_haar endpoints ---- */

static void respond_json(struct proto_req *r, int status, json_t *j)
{
    struct buf b;
    buf_init(&b, 16 * 1024 * 1024);
    jsonh_dump_buf(j, JSON_COMPACT, &b);
    json_decref(j);
    struct proto_hdr h[1] = {{"content-type", "application/json", 0}};
    proto_respond(r, status, h, 1, b.data ? b.data : "", b.len);
    buf_destroy(&b);
}

static void respond_message(struct proto_req *r, int status, const char *msg)
{
    respond_json(r, status, json_pack("{s:s}", "message", msg));
}

static void health(void *arg, struct proto_req *r)
{
    struct daemon *dm = arg;
    if (!proto_method_is(r, "GET")) {
        respond_message(r, 405, "Method Not Allowed");
        return;
    }
    json_t *fns = lambda_health_json(dm->lambda);
    json_t *events = events_health_json(dm->events);
    json_t *queues = sqs_health_json(dm->sqs);
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:{s:o, s:i}, s:{s:I, s:I}, s:{s:i, s:i}}",
                  "status", "ok", "project", dm->cfg->project, "environment", dm->cfg->environment,
                  "region", dm->cfg->aws_region, "account", ACCOUNT, "uptime_ms",
                  (json_int_t)(clock_real_now_ms() - dm->started_ms), "lambda", "functions", fns,
                  "function_count", (int)json_array_size(fns), "timers", "clock",
                  (json_int_t)timer_count(TIMER_CLOCK), "real", (json_int_t)timer_count(TIMER_REAL),
                  "connections", "aws", (int)http_listener_conns(dm->aws_l), "api",
                  (int)http_listener_conns(dm->api_l));
    json_object_set_new(json_object_get(j, "lambda"), "isolation",
                        json_string(lambda_isolation(dm->lambda)));
    json_object_set_new(json_object_get(j, "lambda"), "layers",
                        json_string(lambda_opt_mode(dm->lambda)));
    json_object_set_new(json_object_get(j, "lambda"), "runtimes", lambda_runtimes_json(dm->lambda));
    json_object_set_new(j, "events", events);
    if (dm->apigw != NULL)
        json_object_set_new(j, "apigw", apigw_health_json(dm->apigw));
    json_object_set_new(j, "sqs", json_pack("{s:o*}", "queues", queues));
    json_object_set_new(j, "event_source_mappings", esm_health_json(dm->esm));
    json_object_set_new(j, "dynamodb", ddb_health_json(dm->ddb));
    respond_json(r, 200, j);
}

static json_t *clock_json(void)
{
    char now[32];
    clock_format_iso(clock_now_ms(), true, now, sizeof now);
    return json_pack("{s:s, s:s, s:I}", "now", now, "mode", clock_is_manual() ? "manual" : "real",
                     "timers", (json_int_t)timer_count(TIMER_CLOCK));
}

/* GET /_haar/clock reads the clock; POST {"advance_seconds": N} or {"set": ISO8601} moves a
 * manual clock forward, running every timer that fell due, in time order, before answering. */
static void clock_endpoint(void *arg, struct proto_req *r)
{
    (void)arg;
    if (proto_method_is(r, "GET")) {
        respond_json(r, 200, clock_json());
        return;
    }
    if (!proto_method_is(r, "POST")) {
        respond_message(r, 405, "Method Not Allowed");
        return;
    }
    if (!clock_is_manual()) {
        respond_message(r, 409, "The clock is real: start haar up with --clock manual to move it");
        return;
    }
    char perr[200];
    json_t *doc = jsonh_parse(r->body, r->body_len, perr, sizeof perr);
    json_t *adv = json_object_get(doc, "advance_seconds");
    const char *set = jsonh_str(doc, "set", NULL);
    int64_t target = -1, now = clock_now_ms();
    if (!json_is_object(doc) || (adv != NULL) == (set != NULL)) {
        json_decref(doc);
        respond_message(r, 400, "Send {\"advance_seconds\": N} or {\"set\": \"ISO-8601 time\"}");
        return;
    }
    if (adv != NULL) {
        double s = json_is_number(adv) ? json_number_value(adv) : -1;
        if (s < 0 || s > 100.0 * 365 * 86400)
            target = -2;
        else
            target = now + (int64_t)(s * 1000.0);
    } else if (clock_parse_iso8601(set, &target) != 0) {
        target = -2;
    }
    json_decref(doc);
    if (target == -2) {
        respond_message(r, 400,
                        "advance_seconds must be a number of seconds from 0 to 100 years; "
                        "set an ISO-8601 UTC time");
        return;
    }
    if (target < now) {
        respond_message(r, 400, "The clock only moves forward");
        return;
    }
    int ran = timer_advance(target);
    json_t *j = clock_json();
    json_object_set_new(j, "timers_run", json_integer(ran));
    respond_json(r, 200, j);
}

/* ---- start-up ---- */

int daemon_exe_dir(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    snprintf(out, outlen, "%s", exe);
    return 0;
}

static int parse_port(const char *s, uint16_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: haar up [--env NAME] [--config FILE] [--state-dir DIR] "
                    "[--api-port N] [--aws-port N] [--functions-dir DIR] [--log-level L] "
                    "[--clock real|manual[=ISO8601]]\n");
}

/* Takes the state dir: one daemon per dir. Returns the lock's fd, or -1 after a message. */
static int lock_state_dir(const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/haar.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "haar: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        fprintf(stderr, "haar: the state dir %s is in use by another haar up (pid %s)\n", dir,
                pid[0] ? pid : "unknown");
        close(fd);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        fprintf(stderr, "haar: cannot record the pid in %s\n", path);
    return fd;
}

/* The soft fd limit raised to the hard one; returns the limit. */
static long raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY ? 1048576 : (long)rl.rlim_cur;
}

struct up_opts {
    const char *env, *config_path, *state_dir, *fn_dir;
    uint16_t api_port, aws_port;
};

static int parse_args(int argc, char **argv, struct up_opts *o)
{
    *o = (struct up_opts){.env = "dev", .api_port = 8080, .aws_port = 4566};
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        }
        if (v == NULL) {
            usage();
            return 2;
        }
        if (strcmp(a, "--env") == 0) {
            o->env = v;
        } else if (strcmp(a, "--config") == 0) {
            o->config_path = v;
        } else if (strcmp(a, "--state-dir") == 0) {
            o->state_dir = v;
        } else if (strcmp(a, "--functions-dir") == 0) {
            o->fn_dir = v;
        } else if (strcmp(a, "--log-level") == 0) {
            if (log_set_level_name(v) != 0) {
                usage();
                return 2;
            }
        } else if (strcmp(a, "--clock") == 0) {
            int64_t start;
            if (strcmp(v, "real") == 0) {
                clock_set_real();
            } else if (strncmp(v, "manual", 6) == 0 && (v[6] == '\0' || v[6] == '=') &&
                       clock_parse_iso8601(v[6] ? v + 7 : DEFAULT_MANUAL_CLOCK, &start) == 0) {
                clock_set_manual(start);
            } else {
                fprintf(stderr,
                        "haar: --clock: expected real, manual or manual=ISO8601 (like "
                        "manual=2026-01-01T00:00:00Z), got %s\n",
                        v);
                return 2;
            }
        } else if (strcmp(a, "--api-port") == 0 || strcmp(a, "--aws-port") == 0) {
            uint16_t *port = a[2] == 'a' && a[3] == 'p' ? &o->api_port : &o->aws_port;
            if (parse_port(v, port) != 0) {
                fprintf(stderr, "haar: %s: not a port: %s\n", a, v);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (o->api_port != 0 && o->api_port == o->aws_port) {
        fprintf(stderr, "haar: --api-port and --aws-port are both %u: they must differ\n",
                o->api_port);
        return 2;
    }
    return -1;
}

void daemon_config_path(const char *config_path, const char *env, char *path, size_t cap)
{
    if (config_path != NULL) {
        snprintf(path, cap, "%s", config_path);
        return;
    }
    config_default_path(".", env, path, cap);
    if (access(path, R_OK) == 0)
        return;
    char exe_dir[PATH_MAX] = ".", root[PATH_MAX + 8];
    daemon_exe_dir(exe_dir, sizeof exe_dir);
    snprintf(root, sizeof root, "%s/../..", exe_dir);
    config_default_path(root, env, path, cap);
    if (access(path, R_OK) != 0)
        config_default_path(".", env, path, cap);
}

/* The environment's own functions, from the build folder, as Terraform deploys them. */
static int provision(struct daemon *dm, const char *fdir, uint16_t aws_port)
{
    char role[256], queue[160], queue_url[256];
    snprintf(role, sizeof role, "arn:aws:iam::" ACCOUNT ":role/%s-%s-lambda", dm->cfg->project,
             dm->cfg->environment);
    if (config_resource_name(dm->cfg, "tasks", queue, sizeof queue) != 0)
        return -1;
    snprintf(queue_url, sizeof queue_url, "http://127.0.0.1:%u/%s/%s", aws_port, ACCOUNT, queue);
    for (int i = 0; i < CONFIG_FN_COUNT; i++) {
        const struct config_function *cf = &dm->cfg->functions[i];
        char dir[PATH_MAX + 64], msg[512];
        snprintf(dir, sizeof dir, "%s/%s", fdir, cf->short_name);
        json_t *env_vars = config_function_env(dm->cfg, i, queue_url);
        if (env_vars == NULL)
            return -1;
        struct lambda_fn_spec spec = {.name = cf->full_name,
                                      .runtime = "provided.al2023",
                                      .role = role,
                                      .handler = "bootstrap",
                                      .description = "",
                                      .architecture = dm->cfg->deploy.architecture,
                                      .timeout = cf->timeout_seconds,
                                      .memory = cf->memory_mb,
                                      .env_vars = env_vars,
                                      .has_env = true,
                                      .dir = dir};
        enum err e = lambda_fn_provision(dm->lambda, &spec, msg, sizeof msg);
        json_decref(env_vars);
        if (e != ERR_OK) {
            fprintf(stderr, "haar: cannot provision %s: %s\n", cf->full_name, msg);
            return -1;
        }
        if (cf->reserved_concurrency >= 0 &&
            lambda_fn_provision_concurrency(dm->lambda, cf->full_name, cf->reserved_concurrency,
                                            msg, sizeof msg) != ERR_OK) {
            fprintf(stderr, "haar: %s: reserved concurrency: %s\n", cf->full_name, msg);
            return -1;
        }
        if (access(dir, F_OK) != 0)
            LOG_WARN("provision", NULL, "%s: no code at %s (invokes will fail until built)",
                     cf->full_name, dir);
        /* as Terraform's 30_app: a published version, and the "live" alias every trigger
         * invokes (the API's integration, the queue's mapping, the schedule's target) */
        if (lambda_fn_provision_alias(dm->lambda, cf->full_name, LIVE_ALIAS, msg, sizeof msg) !=
            ERR_OK) {
            fprintf(stderr, "haar: %s: the %s alias: %s\n", cf->full_name, LIVE_ALIAS, msg);
            return -1;
        }
    }
    /* the schedule invokes the producer asynchronously: its retries and event age on the live
     * alias, and the failures' records to the schedule's dead-letter queue, as wiring.tf */
    const struct config_function *p = &dm->cfg->functions[CONFIG_FN_PRODUCER];
    struct lambda_fn *live = lambda_fn_find_qualified(dm->lambda, p->full_name, LIVE_ALIAS);
    char dlq[160], dlq_arn[256];
    if (config_resource_name(dm->cfg, "schedule-dlq", dlq, sizeof dlq) != 0)
        return -1;
    snprintf(dlq_arn, sizeof dlq_arn, "arn:aws:sqs:%s:" ACCOUNT ":%s", dm->cfg->aws_region, dlq);
    if (live != NULL)
        lambda_fn_provision_event_config(live, p->max_retry_attempts, p->max_event_age_seconds,
                                         dlq_arn);
    return 0;
}

/* DynamoDB: the engine, then the environment's tasks table (kept when it exists). */
static int start_dynamodb(struct daemon *dm, char *err, size_t errlen)
{
    char table[160];
    struct ddb_options o = {.region = dm->cfg->aws_region, .account = ACCOUNT};
    dm->ddb = ddb_new(dm->store, &o, err, errlen);
    if (dm->ddb == NULL || config_resource_name(dm->cfg, "tasks", table, sizeof table) != 0)
        return -1;
    struct ddb_table_spec spec = {.name = table,
                                  .hash_key = "id",
                                  .index_name = CONFIG_STATUS_INDEX,
                                  .index_hash = "status",
                                  .index_range = "created_at",
                                  .ttl_attribute = dm->cfg->table.ttl_attribute,
                                  .pitr = dm->cfg->table.point_in_time_recovery,
                                  .deletion_protection = dm->cfg->table.deletion_protection,
                                  .tags = dm->cfg->tags};
    if (ddb_provision(dm->ddb, &spec, err, errlen) != 0)
        return -1;
    ddb_restore(dm->ddb);
    return 0;
}

/* EventBridge: its engine over the store, delivering to Lambda; the environment's schedule
 * rule and its producer target from config, as Terraform's 20_infra and 30_app make them;
 * SQS targets and the dead-letter queue go to the SQS engine (links.h). */
static int add_events(struct daemon *dm, char *err, size_t errlen)
{
    struct events_options eo = {dm->cfg->aws_region, ACCOUNT};
    dm->events = events_new(&eo, dm->store, dm->lambda, err, errlen);
    if (dm->events == NULL)
        return -1;
    links_events_to_sqs(dm->events, dm->sqs);
    events_restore(dm->events);
    char rule[160], description[200], arn[320], dlq[160], dlq_arn[320];
    const char *producer = dm->cfg->functions[CONFIG_FN_PRODUCER].full_name;
    config_resource_name(dm->cfg, "schedule", rule, sizeof rule);
    snprintf(description, sizeof description, "%s-%s: enqueue the scheduled tasks",
             dm->cfg->project, dm->cfg->environment);
    snprintf(arn, sizeof arn, "arn:aws:lambda:%s:" ACCOUNT ":function:%s:" LIVE_ALIAS,
             dm->cfg->aws_region, producer);
    config_resource_name(dm->cfg, "schedule-dlq", dlq, sizeof dlq);
    snprintf(dlq_arn, sizeof dlq_arn, "arn:aws:sqs:%s:" ACCOUNT ":%s", dm->cfg->aws_region, dlq);
    struct events_provision p = {.rule = rule,
                                 .expression = dm->cfg->schedule.expression,
                                 .enabled = dm->cfg->schedule.enabled,
                                 .description = description,
                                 .tags = dm->cfg->tags,
                                 .target_id = "producer",
                                 .target_arn = arn,
                                 .max_retries = 2, /* infra/layers/30_app/wiring.tf */
                                 .max_age_seconds = 3600,
                                 .dlq_arn = dlq_arn};
    return events_provision_schedule(dm->events, &p, err, errlen) == ERR_OK ? 0 : -1;
}

/* ---- API Gateway: the environment's own API (routes, CORS lists and the access-log format
 * are the engine's copy of infra/layers/20_infra and 30_app) */

/* The API port: function URLs (by Host or path) go to Lambda, the rest to the gateway. */
static void api_handle(void *arg, struct proto_req *r)
{
    struct daemon *dm = arg;
    if (lambda_url_request(r))
        lambda_url_handle(&dm->lambda_url, r);
    else
        apigw_gateway_handle(dm->apigw, r);
}

/* A function URL with AuthType AWS_IAM: the router's SigV4 check (service "lambda"). */
static enum err url_verify(void *arg, struct proto_req *r, char *msg, size_t msglen)
{
    struct daemon *dm = arg;
    return router_verify(&dm->rt, r, "lambda", msg, msglen);
}

static void gw_fetch(void *arg, const char *url, size_t max,
                     void (*done)(void *cbarg, int rc, const char *body, size_t len), void *cbarg)
{
    (void)arg;
    fetch_url(url, max, done, cbarg);
}

static int start_apigw(struct daemon *dm, uint16_t api_port)
{
    const struct config *c = dm->cfg;
    const struct config_function *fn = &c->functions[CONFIG_FN_API];
    char err[512], name[160], desc[200], group[200], jwt[160];
    const char *origins[100], *audience[10];
    size_t norigins = 0, naudience = 0;
    for (size_t i = 0; i < json_array_size(c->api.cors_allow_origins) && i < 100; i++)
        origins[norigins++] = json_string_value(json_array_get(c->api.cors_allow_origins, i));
    for (size_t i = 0; i < json_array_size(c->api.jwt_authorizer.audience) && i < 10; i++)
        audience[naudience++] =
            json_string_value(json_array_get(c->api.jwt_authorizer.audience, i));
    config_resource_name(c, "api", name, sizeof name);
    config_resource_name(c, "jwt", jwt, sizeof jwt);
    snprintf(desc, sizeof desc, "%s-%s task API", c->project, c->environment);
    snprintf(group, sizeof group, "/aws/apigateway/%s", name);
    int timeout = fn->timeout_seconds * 1000 + 1000;
    struct apigw_options o = {.region = c->aws_region, .account = ACCOUNT, .api_port = api_port};
    struct apigw_host host = {dm, gw_fetch};
    char live[160];
    snprintf(live, sizeof live, "%s:" LIVE_ALIAS, fn->full_name);
    struct apigw_env_spec spec = {
        .name = name,
        .description = desc,
        .function = live,
        .timeout_ms = timeout < 30000 ? timeout : 30000,
        .rate_limit = c->api.throttling_rate_limit,
        .burst_limit = c->api.throttling_burst_limit,
        .cors_origins = origins,
        .ncors_origins = norigins,
        .log_group = c->api.access_log_enabled ? group : NULL,
        .tags = c->tags,
        .jwt_name = jwt,
        .jwt_issuer = c->api.jwt_authorizer.enabled ? c->api.jwt_authorizer.issuer : NULL,
        .jwt_audience = audience,
        .njwt_audience = naudience};
    dm->apigw = apigw_new(&o, &host, dm->lambda, dm->logs, dm->store, err, sizeof err);
    if (dm->apigw == NULL || apigw_provision_env(dm->apigw, &spec, err, sizeof err) != ERR_OK) {
        fprintf(stderr, "haar: apigw: %s\n", err);
        return -1;
    }
    apigw_restore(dm->apigw);
    return 0;
}

/* The environment's queue, its dead-letter queue and the schedule's dead-letter queue, from
 * the tfvars file, as infra/layers/20_infra creates them: created when absent, messages kept,
 * changes applied. */
static int provision_queues(struct daemon *dm)
{
    const struct config *c = dm->cfg;
    char q[160], dlq[160], sdlq[160], policy[512], allow[512], vt[16], ret[16], wait[16], dret[16];
    char msg[SQS_MSG_MAX];
    if (config_resource_name(c, "tasks", q, sizeof q) != 0 ||
        config_resource_name(c, "tasks-dlq", dlq, sizeof dlq) != 0 ||
        config_resource_name(c, "schedule-dlq", sdlq, sizeof sdlq) != 0)
        return -1;
    snprintf(vt, sizeof vt, "%d", c->queue.visibility_timeout_seconds);
    snprintf(ret, sizeof ret, "%d", c->queue.message_retention_seconds);
    snprintf(wait, sizeof wait, "%d", c->queue.receive_wait_time_seconds);
    snprintf(dret, sizeof dret, "%d", c->queue.dlq_message_retention_seconds);
    snprintf(policy, sizeof policy,
             "{\"deadLetterTargetArn\":\"arn:aws:sqs:%s:" ACCOUNT ":%s\",\"maxReceiveCount\":%d}",
             c->aws_region, dlq, c->queue.max_receive_count);
    snprintf(allow, sizeof allow,
             "{\"redrivePermission\":\"byQueue\",\"sourceQueueArns\":[\"arn:aws:sqs:%s:" ACCOUNT
             ":%s\"]}",
             c->aws_region, q);
    struct sqs_kv tags[64];
    size_t nt = 0;
    const char *k;
    json_t *v;
    json_object_foreach(c->tags, k, v)
    {
        if (nt < 64 && json_is_string(v))
            tags[nt++] = (struct sqs_kv){sqs_str_c(k), sqs_str_c(json_string_value(v))};
    }
    struct sqs_kv dattrs[] = {{sqs_str_c("MessageRetentionPeriod"), sqs_str_c(dret)}};
    struct sqs_kv qattrs[] = {{sqs_str_c("VisibilityTimeout"), sqs_str_c(vt)},
                              {sqs_str_c("MessageRetentionPeriod"), sqs_str_c(ret)},
                              {sqs_str_c("ReceiveMessageWaitTimeSeconds"), sqs_str_c(wait)},
                              {sqs_str_c("RedrivePolicy"), sqs_str_c(policy)}};
    struct sqs_kv aattrs[] = {{sqs_str_c("RedriveAllowPolicy"), sqs_str_c(allow)}};
    if (sqs_provision(dm->sqs, sqs_str_c(dlq), dattrs, 1, tags, nt, msg, sizeof msg) != ERR_OK ||
        sqs_provision(dm->sqs, sqs_str_c(q), qattrs, 4, tags, nt, msg, sizeof msg) != ERR_OK ||
        sqs_provision(dm->sqs, sqs_str_c(dlq), aattrs, 1, NULL, 0, msg, sizeof msg) != ERR_OK ||
        sqs_provision(dm->sqs, sqs_str_c(sdlq), dattrs, 1, tags, nt, msg, sizeof msg) != ERR_OK) {
        fprintf(stderr, "haar: cannot provision the queues %s, %s and %s: %s\n", q, dlq, sdlq, msg);
        return -1;
    }
    /* the worker's event source mapping, as infra/layers/30_app/wiring.tf makes it */
    const struct config_function *w = &c->functions[CONFIG_FN_WORKER];
    char arn[256];
    snprintf(arn, sizeof arn, "arn:aws:sqs:%s:" ACCOUNT ":%s", c->aws_region, q);
    char live[200];
    snprintf(live, sizeof live, "%s:" LIVE_ALIAS, w->full_name); /* through its live alias */
    struct esm_spec es = {.source_arn = arn,
                          .function = live,
                          .has_batch_size = true,
                          .batch_size = w->batch_size,
                          .has_window = true,
                          .window = w->max_batching_window_seconds,
                          .has_enabled = true,
                          .enabled = true,
                          .has_max_concurrency = true,
                          .max_concurrency = w->max_concurrency,
                          .has_response_types = true,
                          .report_failures = true};
    if (esm_provision(dm->esm, &es, msg, sizeof msg) != ERR_OK) {
        fprintf(stderr, "haar: cannot provision the event source mapping of %s: %s\n", w->full_name,
                msg);
        return -1;
    }
    return 0;
}

static int add_services(struct daemon *dm, uint16_t aws_port, uint16_t api_port)
{
    lambda_rest_init(&dm->lambda_rest, dm->lambda, dm->cfg->aws_region, aws_port, api_port);
    lambda_url_srv_init(&dm->lambda_url, dm->lambda, dm->cfg->aws_region, api_port, url_verify, dm);
    lambda_rest_service(&dm->lambda_rest, &dm->svc_lambda);
    logs_service(dm->logs, &dm->svc_logs);
    ddb_service(dm->ddb, &dm->svc_ddb);
    sts_services(dm->sts, &dm->svc_sts_query, &dm->svc_sts_json);
    sqs_json_service(dm->sqs, &dm->svc_sqs_json);
    sqs_query_service(dm->sqs, &dm->svc_sqs_query);
    esm_rest_service(&dm->esm_rest, dm->esm, dm->cfg->aws_region, ACCOUNT, &dm->svc_esm);
    events_service(dm->events, &dm->svc_events);
    apigw_rest_service(dm->apigw, &dm->svc_apigw);
    dm->rt.region = dm->cfg->aws_region;
    if (router_add_service(&dm->rt, &dm->svc_logs) != 0 ||
        router_add_service(&dm->rt, &dm->svc_ddb) != 0 ||
        router_add_service(&dm->rt, &dm->svc_sts_query) != 0 ||
        router_add_service(&dm->rt, &dm->svc_sts_json) != 0 ||
        router_add_service(&dm->rt, &dm->svc_esm) != 0 || /* before Lambda's: tag paths */
        router_add_service(&dm->rt, &dm->svc_lambda) != 0 ||
        router_add_service(&dm->rt, &dm->svc_sqs_json) != 0 ||
        router_add_service(&dm->rt, &dm->svc_sqs_query) != 0 ||
        router_add_service(&dm->rt, &dm->svc_events) != 0 ||
        router_add_internal(&dm->rt, "/_haar/events/trigger", events_trigger_endpoint,
                            dm->events) != 0 ||
        router_add_service(&dm->rt, &dm->svc_apigw) != 0 ||
        router_add_creds(&dm->rt, lambda_creds, dm) != 0 ||
        router_add_creds(&dm->rt, sts_creds, dm) != 0 ||
        router_add_internal(&dm->rt, "/_haar/health", health, dm) != 0 ||
        router_add_internal(&dm->rt, "/_haar/clock", clock_endpoint, dm) != 0 ||
        router_add_internal(&dm->rt, "/_haar/lambda/code/", lambda_rest_code_download,
                            &dm->lambda_rest) != 0)
        return -1;
    return 0;
}

/* Runs the loop until stop; each turn sleeps until the next timer or I/O. */
static void run_loop(struct daemon *dm, bool (*until)(struct daemon *dm), int64_t limit_ms)
{
    while (!until(dm) && (limit_ms < 0 || clock_real_mono_ms() < limit_ms)) {
        int64_t wait = timer_wait_ms();
        if (limit_ms >= 0) {
            int64_t left = limit_ms - clock_real_mono_ms();
            if (wait < 0 || wait > left)
                wait = left > 0 ? left : 0;
        }
        http_run(dm->srv, wait);
        store_read_end(dm->store);
    }
}

static bool stopped(struct daemon *dm)
{
    return dm->stop;
}

static bool drained(struct daemon *dm)
{
    return lambda_drain(dm->lambda);
}

int daemon_up(int argc, char **argv)
{
    struct up_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    rc = 1;
    char exe_dir[PATH_MAX] = ".", path[PATH_MAX], sdir[PATH_MAX], fdir[PATH_MAX], err[1024];
    daemon_exe_dir(exe_dir, sizeof exe_dir);
    daemon_config_path(o.config_path, o.env, path, sizeof path);
    struct daemon dm = {.lock_fd = -1};
    dm.started_ms = clock_real_now_ms();
    dm.cfg = config_load(path, err, sizeof err);
    if (dm.cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (router_set_keys(&dm.rt, getenv("HAAR_ACCESS_KEYS"), err, sizeof err) != 0) {
        fprintf(stderr, "haar: %s\n", err);
        config_free(dm.cfg);
        return 2;
    }
    snprintf(sdir, sizeof sdir, "%s", o.state_dir ? o.state_dir : "");
    if (o.state_dir == NULL)
        snprintf(sdir, sizeof sdir, ".haar/%s", dm.cfg->environment);
    if (o.fn_dir == NULL)
        snprintf(fdir, sizeof fdir, "%s/../functions", exe_dir);
    else
        snprintf(fdir, sizeof fdir, "%s", o.fn_dir);
    char real[PATH_MAX];
    if (realpath(fdir, real) != NULL)
        snprintf(fdir, sizeof fdir, "%s", real);
    /* the managed runtimes' clients, installed next to the binary as the functions are */
    char rdir[PATH_MAX];
    snprintf(rdir, sizeof rdir, "%s/../runtimes", exe_dir);
    if (realpath(rdir, real) != NULL)
        snprintf(rdir, sizeof rdir, "%s", real);
    /* the state holds every function's secret key: its owner's only */
    umask(077);
    if (fs_mkdir_p(sdir, 0700) != 0) {
        fprintf(stderr, "haar: cannot create state dir %s: %s\n", sdir, strerror(errno));
        goto out;
    }
    chmod(sdir, 0700);
    if (realpath(sdir, real) != NULL)
        snprintf(sdir, sizeof sdir, "%s", real);
    dm.lock_fd = lock_state_dir(sdir);
    if (dm.lock_fd < 0) {
        rc = 2;
        goto out;
    }
    long fds = raise_fd_limit();
    long budget = fds > FD_RESERVE * 2 ? fds - FD_RESERVE : fds / 2;
    /* what the environments start is the daemon's to reap, even when it leaves their group */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    dm.store = store_open(sdir, err, sizeof err);
    if (dm.store == NULL) {
        fprintf(stderr, "haar: %s\n", err);
        goto out;
    }
    dm.logs = logs_new(sdir, dm.cfg->log_retention_days, err, sizeof err);
    if (dm.logs == NULL) {
        fprintf(stderr, "haar: logs: %s\n", err);
        goto out;
    }
    logs_set_region(dm.logs, dm.cfg->aws_region);
    dm.sts = sts_new(dm.store, err, sizeof err);
    if (dm.sts == NULL) {
        fprintf(stderr, "haar: sts: %s\n", err);
        goto out;
    }
    if (start_dynamodb(&dm, err, sizeof err) != 0) {
        fprintf(stderr, "haar: dynamodb: %s\n", err);
        goto out;
    }
    if (work_start(2) != 0)
        goto out;
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        goto out;
    dm.srv = http_server_new();
    if (dm.srv == NULL ||
        (dm.aws_profile = http_profile_new(dm.srv, AWS_MAX_BODY, IDLE_MS)) == NULL ||
        (dm.api_profile = http_profile_new(dm.srv, API_MAX_BODY, IDLE_MS)) == NULL ||
        (dm.runtime_profile = http_profile_new(dm.srv, RUNTIME_MAX_BODY, IDLE_MS)) == NULL)
        goto out;
    uint16_t aws_bound = 0, api_bound = 0;
    struct http_listen_opts aws_o = {.profile = dm.aws_profile,
                                     .max_conns = (unsigned)(budget / 4),
                                     .screen = router_screen, /* no body before a signature */
                                     .screen_arg = &dm.rt};
    struct http_listen_opts api_o = {.profile = dm.api_profile,
                                     .max_conns = (unsigned)(budget / 2)};
    if (http_listen(dm.srv, o.aws_port, &aws_o, router_handle, &dm.rt, &dm.aws_l, &aws_bound) !=
        0) {
        fprintf(stderr, "haar: cannot listen on 127.0.0.1:%u: %s\n", o.aws_port, strerror(errno));
        goto out;
    }
    if (http_listen(dm.srv, o.api_port, &api_o, api_handle, &dm, &dm.api_l, &api_bound) != 0) {
        fprintf(stderr, "haar: cannot listen on 127.0.0.1:%u: %s\n", o.api_port, strerror(errno));
        goto out;
    }
    struct lambda_options lo = {.region = dm.cfg->aws_region,
                                .state_dir = sdir,
                                .aws_port = aws_bound,
                                .account_concurrency = dm.cfg->emulator.account_concurrency_limit,
                                .idle_seconds = dm.cfg->emulator.idle_environment_seconds,
                                .code_storage_max = (int64_t)dm.cfg->emulator.code_storage_mb << 20,
                                /* HAAR_CGROUPS=off: process trees through /proc only */
                                .cgroups = getenv("HAAR_CGROUPS") == NULL ||
                                           strcmp(getenv("HAAR_CGROUPS"), "off") != 0,
                                .runtimes_dir = rdir,
                                .strict_runtimes = dm.cfg->emulator.strict_runtimes,
                                /* HAAR_LAYERS_MOUNT=off: layers through variables only */
                                .layers_mount = getenv("HAAR_LAYERS_MOUNT") == NULL ||
                                                strcmp(getenv("HAAR_LAYERS_MOUNT"), "off") != 0};
    struct lambda_host host = {&dm, host_listen, host_unlisten, host_watch, host_unwatch};
    dm.lambda = lambda_new(&lo, &host, dm.logs, dm.store, err, sizeof err);
    if (dm.lambda == NULL) {
        fprintf(stderr, "haar: lambda: %s\n", err);
        goto out;
    }
    lambda_probe_runtimes(dm.lambda);
    char sqs_base[64];
    snprintf(sqs_base, sizeof sqs_base, "http://127.0.0.1:%u", aws_bound);
    struct sqs_options so = {
        .region = dm.cfg->aws_region, .account = ACCOUNT, .url_base = sqs_base};
    if ((dm.sqs = sqs_new(dm.store, &so, err, sizeof err)) == NULL ||
        (dm.esm = esm_new(dm.store, dm.sqs, dm.lambda, dm.cfg->aws_region, ACCOUNT, err,
                          sizeof err)) == NULL) {
        fprintf(stderr, "haar: sqs: %s\n", err);
        goto out;
    }
    links_lambda_to_sqs(dm.lambda, dm.sqs);
    if (provision(&dm, fdir, aws_bound) != 0 || provision_queues(&dm) != 0)
        goto out;
    lambda_restore(dm.lambda);
    sts_restore(dm.sts);
    if (add_events(&dm, err, sizeof err) != 0) {
        fprintf(stderr, "haar: events: %s\n", err);
        goto out;
    }
    if (start_apigw(&dm, api_bound) != 0 || add_services(&dm, aws_bound, api_bound) != 0)
        goto out;
    dm.sig_watch = http_watch_fd(dm.srv, sig_pipe[0], on_sig_data, &dm);
    dm.store_watch = http_watch_fd(dm.srv, dup(store_notify_fd(dm.store)), on_store_ready, &dm);
    dm.work_watch = http_watch_fd(dm.srv, dup(work_notify_fd()), on_work_ready, &dm);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    LOG_INFO("ready", NULL, "env=%s state=%s functions=%s clock=%s fds=%ld", dm.cfg->environment,
             sdir, fdir, clock_is_manual() ? "manual" : "real", fds);
    printf("haar: ready api=http://127.0.0.1:%u aws=http://127.0.0.1:%u\n", api_bound, aws_bound);
    fflush(stdout);
    run_loop(&dm, stopped, -1);
    /* drain: stop accepting, let in-flight invocations finish (they have timeouts) */
    LOG_INFO("shutdown", NULL, "draining");
    http_listener_close(dm.aws_l);
    http_listener_close(dm.api_l);
    dm.aws_l = dm.api_l = NULL;
    run_loop(&dm, drained, clock_real_mono_ms() + 901000);
    work_drain();
    store_flush(dm.store);      /* acknowledgements waiting for their commit go out too */
    for (int i = 0; i < 5; i++) /* let the last answers go out */
        http_run(dm.srv, 1);
    rc = 0;
out:
    work_stop();
    if (dm.store)
        store_flush(dm.store);
    http_listener_close(dm.aws_l);
    http_listener_close(dm.api_l);
    apigw_free(dm.apigw);
    esm_free(dm.esm);
    lambda_free(dm.lambda);
    events_free(dm.events); /* after the Lambda engine: no invocation calls back into it */
    sqs_free(dm.sqs);       /* after EventBridge: no delivery sends to it */
    sts_free(dm.sts);
    ddb_free(dm.ddb);
    signal(SIGCHLD, SIG_DFL);
    http_watch_close(dm.sig_watch);
    http_watch_close(dm.store_watch);
    http_watch_close(dm.work_watch);
    if (sig_pipe[1] >= 0)
        close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    http_server_free(dm.srv);
    if (dm.logs) {
        logs_flush(dm.logs);
        logs_free(dm.logs);
    }
    store_close(dm.store);
    config_free(dm.cfg);
    if (dm.lock_fd >= 0)
        close(dm.lock_fd);
    if (rc == 0)
        LOG_INFO("shutdown", NULL, "done");
    return rc;
}
