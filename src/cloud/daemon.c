#include "cloud/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloud/apigw.h"
#include "cloud/config.h"
#include "cloud/http.h"
#include "cloud/lambda/lambda.h"
#include "cloud/lambda/runtime_api.h"
#include "cloud/logs/logs.h"
#include "cloud/router.h"
#include "cloud/store.h"
#include "core/clock.h"
#include "core/log.h"

enum { MAX_BODY = 72 * 1024 * 1024 };

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
    struct lambda *lambda;
    struct logs *logs;
    struct store *store;
    struct config *cfg;
    struct router rt;
    struct apigw gw;
    struct http_listener *aws_l, *api_l;
    struct http_watch *sig_watch;
    struct http_watch *store_watch;
    bool stop;
};

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

/* lambda_host glue */
static int host_listen(void *arg, struct lambda_env *env, uint16_t *port, void **listener)
{
    struct daemon *dm = arg;
    return runtime_api_listen(dm->srv, env, port, listener);
}

static void host_unlisten(void *arg, void *listener)
{
    (void)arg;
    runtime_api_unlisten(listener);
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

int daemon_exe_dir(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
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

static int mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return (mkdir(tmp, 0755) != 0 && errno != EEXIST) ? -1 : 0;
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
                    "[--api-port N] [--aws-port N] [--functions-dir DIR] [--log-level L]\n");
}

/* Event retry delays: AWS waits 60 s then 120 s; HAAR_EVENT_RETRY_DELAYS_MS="a,b" shortens
 * them (tests). */
static void retry_delays(int64_t out[2])
{
    out[0] = 60000;
    out[1] = 120000;
    const char *s = getenv("HAAR_EVENT_RETRY_DELAYS_MS");
    if (s == NULL)
        return;
    char *end;
    long a = strtol(s, &end, 10);
    if (*end == ',') {
        long b = strtol(end + 1, &end, 10);
        if (a >= 0 && b >= 0) {
            out[0] = a;
            out[1] = b;
        }
    }
}

int daemon_up(int argc, char **argv)
{
    const char *env = "dev", *config_path = NULL, *state_dir = NULL, *fn_dir = NULL;
    uint16_t api_port = 8080, aws_port = 4566;
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
        if (strcmp(a, "--env") == 0)
            env = v;
        else if (strcmp(a, "--config") == 0)
            config_path = v;
        else if (strcmp(a, "--state-dir") == 0)
            state_dir = v;
        else if (strcmp(a, "--functions-dir") == 0)
            fn_dir = v;
        else if (strcmp(a, "--log-level") == 0) {
            if (log_set_level_name(v) != 0) {
                usage();
                return 2;
            }
        } else if (strcmp(a, "--api-port") == 0) {
            if (parse_port(v, &api_port) != 0) {
                fprintf(stderr, "haar: --api-port: not a port: %s\n", v);
                return 2;
            }
        } else if (strcmp(a, "--aws-port") == 0) {
            if (parse_port(v, &aws_port) != 0) {
                fprintf(stderr, "haar: --aws-port: not a port: %s\n", v);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (api_port != 0 && api_port == aws_port) {
        fprintf(stderr, "haar: --api-port and --aws-port are both %u: they must differ\n",
                api_port);
        return 2;
    }
    char exe_dir[PATH_MAX] = ".", path[PATH_MAX], sdir[PATH_MAX], fdir[PATH_MAX], err[1024];
    daemon_exe_dir(exe_dir, sizeof(exe_dir));
    if (config_path == NULL) {
        config_default_path(".", env, path, sizeof(path));
        if (access(path, R_OK) != 0) {
            char root[PATH_MAX + 8];
            snprintf(root, sizeof(root), "%s/../..", exe_dir);
            config_default_path(root, env, path, sizeof(path));
            if (access(path, R_OK) != 0)
                config_default_path(".", env, path, sizeof(path));
        }
        config_path = path;
    }
    struct daemon dm = {0};
    int rc = 1;
    dm.cfg = config_load(config_path, err, sizeof(err));
    if (dm.cfg == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (router_set_keys(&dm.rt, getenv("HAAR_ACCESS_KEYS"), err, sizeof(err)) != 0) {
        fprintf(stderr, "haar: %s\n", err);
        config_free(dm.cfg);
        return 2;
    }
    snprintf(sdir, sizeof(sdir), "%s", state_dir ? state_dir : "");
    if (state_dir == NULL)
        snprintf(sdir, sizeof(sdir), ".haar/%s", dm.cfg->environment);
    if (fn_dir == NULL)
        snprintf(fdir, sizeof(fdir), "%s/../functions", exe_dir);
    else
        snprintf(fdir, sizeof(fdir), "%s", fn_dir);
    char real_fdir[PATH_MAX];
    if (realpath(fdir, real_fdir) != NULL)
        snprintf(fdir, sizeof(fdir), "%s", real_fdir);
    if (mkdirs(sdir) != 0) {
        fprintf(stderr, "haar: cannot create state dir %s: %s\n", sdir, strerror(errno));
        goto out;
    }
    char real_sdir[PATH_MAX];
    if (realpath(sdir, real_sdir) != NULL)
        snprintf(sdir, sizeof(sdir), "%s", real_sdir);
    dm.store = store_open(sdir, err, sizeof(err));
    if (dm.store == NULL) {
        fprintf(stderr, "haar: %s\n", err);
        goto out;
    }
    dm.logs = logs_new(sdir, dm.cfg->log_retention_days, err, sizeof(err));
    if (dm.logs == NULL) {
        fprintf(stderr, "haar: logs: %s\n", err);
        goto out;
    }
    logs_set_region(dm.logs, dm.cfg->aws_region);
    signal(SIGPIPE, SIG_IGN);
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        goto out;
    dm.srv = http_server_new(MAX_BODY);
    if (dm.srv == NULL)
        goto out;
    uint16_t aws_bound = 0, api_bound = 0;
    if (http_listen(dm.srv, aws_port, router_handle, &dm.rt, &dm.aws_l, &aws_bound) != 0) {
        fprintf(stderr, "haar: cannot listen on 127.0.0.1:%u: %s\n", aws_port, strerror(errno));
        goto out;
    }
    if (http_listen(dm.srv, api_port, apigw_handle, &dm.gw, &dm.api_l, &api_bound) != 0) {
        fprintf(stderr, "haar: cannot listen on 127.0.0.1:%u: %s\n", api_port, strerror(errno));
        goto out;
    }
    struct lambda_options lo = {.region = dm.cfg->aws_region,
                                .state_dir = sdir,
                                .aws_port = aws_bound,
                                .account_concurrency = dm.cfg->emulator.account_concurrency_limit,
                                .idle_seconds = dm.cfg->emulator.idle_environment_seconds};
    retry_delays(lo.retry_delay_ms);
    struct lambda_host host = {&dm, host_listen, host_unlisten, host_watch, host_unwatch};
    dm.lambda = lambda_new(&lo, &host, dm.logs, dm.store);
    if (dm.lambda == NULL)
        goto out;
    char role[256];
    snprintf(role, sizeof(role), "arn:aws:iam::" CONFIG_ACCOUNT ":role/%s-%s-lambda",
             dm.cfg->project, dm.cfg->environment);
    char queue[160], queue_url[256];
    if (config_resource_name(dm.cfg, "tasks", queue, sizeof(queue)) != 0)
        goto out;
    snprintf(queue_url, sizeof(queue_url), "http://127.0.0.1:%u/%s/%s", aws_bound, CONFIG_ACCOUNT,
             queue);
    for (int i = 0; i < CONFIG_FN_COUNT; i++) {
        const struct config_function *cf = &dm.cfg->functions[i];
        char dir[PATH_MAX + 64], msg[512];
        snprintf(dir, sizeof(dir), "%s/%s", fdir, cf->short_name);
        json_t *env_vars = config_function_env(dm.cfg, i, queue_url);
        if (env_vars == NULL)
            goto out;
        struct lambda_fn_spec spec = {.name = cf->full_name,
                                      .runtime = "provided.al2023",
                                      .role = role,
                                      .handler = "bootstrap",
                                      .description = "",
                                      .architecture = dm.cfg->deploy.architecture,
                                      .timeout = cf->timeout_seconds,
                                      .memory = cf->memory_mb,
                                      .env_vars = env_vars,
                                      .has_env = true,
                                      .dir = dir};
        enum err e = lambda_fn_create(dm.lambda, &spec, msg, sizeof(msg));
        json_decref(env_vars);
        if (e != ERR_OK) {
            fprintf(stderr, "haar: cannot provision %s: %s\n", cf->full_name, msg);
            goto out;
        }
        if (cf->reserved_concurrency >= 0 &&
            lambda_fn_set_concurrency(dm.lambda, cf->full_name, cf->reserved_concurrency, msg,
                                      sizeof(msg)) != ERR_OK) {
            fprintf(stderr, "haar: %s: reserved concurrency: %s\n", cf->full_name, msg);
            goto out;
        }
        if (access(dir, F_OK) != 0)
            LOG_WARN("provision", NULL, "%s: no code at %s (invokes will fail until built)",
                     cf->full_name, dir);
    }
    lambda_restore(dm.lambda);
    /* field by field: dm.rt.keys were set (and checked) at start */
    dm.rt.lambda = dm.lambda;
    dm.rt.logs = dm.logs;
    dm.rt.aws_port = aws_bound;
    dm.rt.project = dm.cfg->project;
    dm.rt.environment = dm.cfg->environment;
    dm.rt.region = dm.cfg->aws_region;
    dm.rt.started_ms = clock_now_ms();
    dm.gw = (struct apigw){.lambda = dm.lambda,
                           .function = dm.cfg->functions[CONFIG_FN_API].full_name,
                           .region = dm.cfg->aws_region,
                           .api_port = api_bound};
    dm.sig_watch = http_watch_fd(dm.srv, sig_pipe[0], on_sig_data, &dm);
    dm.store_watch = http_watch_fd(dm.srv, dup(store_notify_fd(dm.store)), on_store_ready, &dm);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    LOG_INFO("ready", NULL, "env=%s state=%s functions=%s", dm.cfg->environment, sdir, fdir);
    printf("haar: ready api=http://127.0.0.1:%u aws=http://127.0.0.1:%u\n", api_bound, aws_bound);
    fflush(stdout);
    int64_t last_flush = 0, last_expire = clock_mono_ms();
    while (!dm.stop) {
        http_run(dm.srv, 5);
        lambda_tick(dm.lambda);
        int64_t now = clock_mono_ms();
        if (now - last_flush >= 50) {
            logs_flush(dm.logs);
            last_flush = now;
        }
        if (now - last_expire >= 60000) {
            logs_expire(dm.logs, clock_now_ms());
            last_expire = now;
        }
    }
    /* drain: stop accepting, let in-flight invocations finish (they have timeouts) */
    LOG_INFO("shutdown", NULL, "draining");
    http_listener_close(dm.aws_l);
    http_listener_close(dm.api_l);
    dm.aws_l = dm.api_l = NULL;
    int64_t limit = clock_mono_ms() + 901000;
    while (!lambda_drain(dm.lambda) && clock_mono_ms() < limit) {
        http_run(dm.srv, 5);
        lambda_tick(dm.lambda);
        logs_flush(dm.logs);
    }
    store_flush(dm.store); /* acknowledgements waiting for their commit go out too */
    /* let the last answers go out */
    for (int i = 0; i < 5; i++)
        http_run(dm.srv, 1);
    rc = 0;
out:
    if (dm.store)
        store_flush(dm.store);
    http_listener_close(dm.aws_l);
    http_listener_close(dm.api_l);
    lambda_free(dm.lambda);
    signal(SIGCHLD, SIG_DFL);
    http_watch_close(dm.sig_watch);
    http_watch_close(dm.store_watch);
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
    if (rc == 0)
        LOG_INFO("shutdown", NULL, "done");
    return rc;
}
