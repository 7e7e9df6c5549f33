/*
 * engine.c — functions, execution environments and invocations (see lambda.h).
 *
 * Structures: functions sit in a chained hash table by name. Each function owns a list of
 * environments, a stack of idle ones (warm reuse, most recent first), a FIFO of admitted
 * invocations waiting for an environment (`pending`) and a FIFO of queued Event
 * invocations not yet admitted (`events`). An environment is a child process in its own
 * process group plus a Runtime API listener; its stdout/stderr are line-split into
 * CloudWatch Logs events.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/lambda_int.h"
#include "cloud/logs/logs.h"
#include "cloud/store.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"

enum { NBUCKETS = 256, LINE_MAX_BYTES = 256 * 1024, TAIL_BYTES = 4096 };
enum { INIT_LIMIT_MS = 10000 }; /* AWS bounds the init phase at 10 s */

enum env_state { ENV_STARTING, ENV_IDLE, ENV_BUSY, ENV_RETURNING, ENV_DEAD };

struct linebuf {
    struct buf b;
};

struct lambda_inv {
    char rid[37];
    struct lambda_fn *fn;
    enum lambda_inv_type type;
    char *payload;
    size_t len;
    char *client_context;
    bool want_tail;
    lambda_done_fn done;
    void *arg;
    int attempt;
    int64_t not_before_ms;
    int64_t deadline_ms;
    struct lambda_inv *next;
    struct lambda_env *env;
    struct buf tail;
    bool *alive;              /* set false when freed (lets lambda_invoke know) */
    int64_t queued_ms;        /* when it entered the pending queue */
    int64_t wait_deadline_ms; /* waiting for an environment: init (10 s), then a retried
                                 init bounded by the function timeout, as on AWS */
    bool init_retried;
};

/* Pending acknowledgement of an Event invocation (its 202), sent once it is durable. */
struct event_ack {
    lambda_done_fn done;
    void *arg;
    char rid[37];
};

static void event_durable(void *arg, int rc);

struct inv_queue {
    struct lambda_inv *head, *tail;
    int n;
};

struct lambda_env {
    struct lambda *lm;
    struct lambda_fn *fn;
    int pid;
    uint16_t port;
    void *listener;
    void *w_out, *w_err;
    int fd_out, fd_err; /* owned by the watches; valid while w_out / w_err are set */
    struct buf line_out, line_err;
    enum env_state state;
    struct lambda_next_waiter *waiter;
    struct lambda_inv *inv;
    int64_t spawned_ns;
    int64_t inv_start_ns;
    double init_ms;
    bool cold_pending; /* the next REPORT carries Init Duration */
    int64_t idle_since_ms;
    char stream[96];
    int status_fd;
    long last_hwm_kb;  /* last VmHWM seen: the process may be gone at REPORT time */
    long peak_tree_kb; /* highest sampled RSS of the process tree during the invocation */
    enum { KILL_NONE, KILL_TIMEOUT, KILL_OOM, KILL_REAP, KILL_RETIRE } killed;
    char *init_error;
    size_t init_error_len;
    int generation;
    struct lambda_env *next;      /* fn->envs */
    struct lambda_env *idle_next; /* fn->idle */
};

struct lambda_fn {
    struct lambda *lm;
    struct lambda_fn *hnext;
    char name[65];
    char arn[192];
    char runtime[32];
    char *role;
    char *handler;
    char *description;
    char arch[8];
    int timeout;
    int memory;
    json_t *env_vars; /* object or NULL */
    json_t *tags;     /* object or NULL */
    char code_dir[PATH_MAX];
    long long code_size;
    char sha[48];
    int64_t last_modified;
    int reserved;
    char key_id[24], secret[48], token[96];
    bool managed; /* provisioned from the environment config: not persisted */
    bool deleted;
    int generation;
    int inflight;
    int n_envs, n_starting;
    struct lambda_env *envs;
    struct lambda_env *idle;
    struct inv_queue pending;
    struct inv_queue events;
};

struct lambda {
    struct lambda_options opt;
    char region[32];
    char state_dir[PATH_MAX];
    struct lambda_host host;
    struct logs *logs;
    struct store *store;
    struct lambda_fn *buckets[NBUCKETS];
    int n_fns;
    int reserved_total;
    int unreserved_inflight;
    bool draining;
    int64_t last_slow_tick;
    int64_t last_mem_tick;
};

/* ---- small helpers ------------------------------------------------------------------ */

static unsigned hash_name(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % NBUCKETS;
}

static void q_push(struct inv_queue *q, struct lambda_inv *inv)
{
    inv->next = NULL;
    if (q->tail)
        q->tail->next = inv;
    else
        q->head = inv;
    q->tail = inv;
    q->n++;
}

static struct lambda_inv *q_pop(struct inv_queue *q)
{
    struct lambda_inv *inv = q->head;
    if (inv == NULL)
        return NULL;
    q->head = inv->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->n--;
    inv->next = NULL;
    return inv;
}

static void inv_free(struct lambda_inv *inv)
{
    if (inv == NULL)
        return;
    if (inv->alive)
        *inv->alive = false;
    free(inv->payload);
    free(inv->client_context);
    buf_destroy(&inv->tail);
    free(inv);
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void log_fn(struct lambda_fn *fn, const char *stream, const char *msg, size_t len)
{
    char group[96];
    snprintf(group, sizeof(group), "/aws/lambda/%s", fn->name);
    if (fn->lm->logs)
        logs_put(fn->lm->logs, group, stream, clock_now_ms(), msg, len);
}

/* Appends a line to the invocation's tail capture, keeping at most a few KB. */
static void tail_add(struct lambda_inv *inv, const char *line, size_t len)
{
    if (inv == NULL || !inv->want_tail)
        return;
    if (len > TAIL_BYTES) {
        line += len - TAIL_BYTES;
        len = TAIL_BYTES;
    }
    if (inv->tail.len + len + 1 > 4 * TAIL_BYTES) {
        size_t keep = TAIL_BYTES;
        if (keep > inv->tail.len)
            keep = inv->tail.len;
        memmove(inv->tail.data, inv->tail.data + inv->tail.len - keep, keep);
        inv->tail.len = keep;
    }
    buf_append(&inv->tail, line, len);
    buf_append(&inv->tail, "\n", 1);
}

static void env_log(struct lambda_env *env, const char *msg, size_t len)
{
    log_fn(env->fn, env->stream, msg, len);
    tail_add(env->inv, msg, len);
}

static void env_logf(struct lambda_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void env_logf(struct lambda_env *env, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    env_log(env, line, (size_t)n);
}

/* Max memory (VmHWM) and current RSS in kB from /proc/<pid>/status. */
static void read_mem(struct lambda_env *env, long *hwm_kb, long *rss_kb)
{
    *hwm_kb = env->last_hwm_kb;
    *rss_kb = 0;
    if (env->status_fd < 0)
        return;
    char text[4096];
    ssize_t n = pread(env->status_fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return;
    text[n] = '\0';
    const char *p = strstr(text, "VmHWM:");
    if (p)
        *hwm_kb = strtol(p + 6, NULL, 10);
    if (*hwm_kb > env->last_hwm_kb)
        env->last_hwm_kb = *hwm_kb;
    p = strstr(text, "VmRSS:");
    if (p)
        *rss_kb = strtol(p + 6, NULL, 10);
}

/* Resident memory of the environment's whole process tree (bootstrap and what it started),
 * in kB, walking /proc/<pid>/task/<pid>/children; at most 64 processes. */
static long tree_rss_kb(const struct lambda_env *env)
{
    int stack[64];
    int n = 0, seen = 0;
    long total = 0;
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    stack[n++] = env->pid;
    while (n > 0 && seen < 64) {
        int pid = stack[--n];
        seen++;
        char path[96], text[512];
        snprintf(path, sizeof(path), "/proc/%d/statm", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t r = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (r > 0) {
            text[r] = '\0';
            char *sp = strchr(text, ' ');
            if (sp)
                total += strtol(sp + 1, NULL, 10) * page_kb;
        }
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        r = read(fd, text, sizeof(text) - 1);
        close(fd);
        if (r <= 0)
            continue;
        text[r] = '\0';
        char *p = text, *end;
        while (n < 64) {
            long c = strtol(p, &end, 10);
            if (end == p)
                break;
            stack[n++] = (int)c;
            p = end;
        }
    }
    return total;
}

/* ---- function registry -------------------------------------------------------------- */

struct lambda_fn *lambda_fn_find(struct lambda *lm, const char *name)
{
    for (struct lambda_fn *fn = lm->buckets[hash_name(name)]; fn; fn = fn->hnext)
        if (!fn->deleted && strcmp(fn->name, name) == 0)
            return fn;
    return NULL;
}

static void fn_unlink(struct lambda *lm, struct lambda_fn *fn)
{
    struct lambda_fn **pp = &lm->buckets[hash_name(fn->name)];
    while (*pp && *pp != fn)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = fn->hnext;
}

static void fn_free(struct lambda_fn *fn)
{
    if (fn == NULL)
        return;
    free(fn->role);
    free(fn->handler);
    free(fn->description);
    json_decref(fn->env_vars);
    json_decref(fn->tags);
    free(fn);
}

static void fn_maybe_free(struct lambda_fn *fn)
{
    if (fn->deleted && fn->envs == NULL && fn->inflight == 0) {
        fn_unlink(fn->lm, fn);
        fn->lm->n_fns--;
        fn_free(fn);
    }
}

int lambda_fn_code_zip(const struct lambda_fn *fn, char *out, size_t outlen)
{
    if (fn->managed)
        return -1;
    int n = snprintf(out, outlen, "%s.zip", fn->code_dir);
    return (n < 0 || (size_t)n >= outlen || access(out, R_OK) != 0) ? -1 : 0;
}

int lambda_fn_reserved(const struct lambda_fn *fn)
{
    return fn->reserved;
}

json_t *lambda_fn_config_json(const struct lambda *lm, const struct lambda_fn *fn)
{
    (void)lm;
    char lm_s[40];
    clock_format_lambda(fn->last_modified, lm_s, sizeof(lm_s));
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:[s],"
        " s:{s:s}, s:{s:s, s:s}, s:{s:i}, s:s}",
        "FunctionName", fn->name, "FunctionArn", fn->arn, "Runtime", fn->runtime, "Role",
        fn->role ? fn->role : "", "Handler", fn->handler ? fn->handler : "", "CodeSize",
        (json_int_t)fn->code_size, "Description", fn->description ? fn->description : "",
        "CodeSha256", fn->sha, "Timeout", fn->timeout, "MemorySize", fn->memory, "LastModified",
        lm_s, "Version", "$LATEST", "State", "Active", "LastUpdateStatus", "Successful",
        "PackageType", "Zip", "Architectures", fn->arch, "TracingConfig", "Mode", "PassThrough",
        "LoggingConfig", "LogFormat", "Text", "LogGroup", "", "EphemeralStorage", "Size", 512,
        "RevisionId", fn->sha);
    char group[96];
    snprintf(group, sizeof(group), "/aws/lambda/%s", fn->name);
    json_object_set_new(json_object_get(j, "LoggingConfig"), "LogGroup", json_string(group));
    if (fn->env_vars != NULL)
        json_object_set_new(j, "Environment", json_pack("{s:O}", "Variables", fn->env_vars));
    return j;
}

static int cmp_fn(const void *a, const void *b)
{
    return strcmp((*(struct lambda_fn *const *)a)->name, (*(struct lambda_fn *const *)b)->name);
}

void lambda_fn_each(struct lambda *lm, bool (*cb)(void *arg, struct lambda_fn *fn), void *arg)
{
    struct lambda_fn **all = calloc((size_t)lm->n_fns + 1, sizeof(*all));
    if (all == NULL)
        return;
    int n = 0;
    for (int b = 0; b < NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (!fn->deleted && n < lm->n_fns)
                all[n++] = fn;
    qsort(all, (size_t)n, sizeof(*all), cmp_fn);
    for (int i = 0; i < n; i++)
        if (!cb(arg, all[i]))
            break;
    free(all);
}

json_t *lambda_health_json(const struct lambda *lm)
{
    json_t *arr = json_array();
    for (int b = 0; b < NBUCKETS; b++) {
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext) {
            if (fn->deleted)
                continue;
            int idle = 0;
            for (struct lambda_env *e = fn->idle; e; e = e->idle_next)
                idle++;
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:i}", "name", fn->name,
                               "state", "Active", "environments", fn->n_envs, "idle", idle,
                               "in_flight", fn->inflight, "queued_events", fn->events.n,
                               "memory_mb", fn->memory, "reserved_concurrency", fn->reserved));
        }
    }
    return arr;
}

/* Persists a function record (not for environment-managed functions). */
static void fn_persist(struct lambda *lm, struct lambda_fn *fn)
{
    if (lm->store == NULL || fn->managed)
        return;
    json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:s, s:i, s:i, s:O?, s:s, s:I, s:s, s:I,"
                          " s:i, s:s, s:s, s:s, s:O?}",
                          "name", fn->name, "runtime", fn->runtime, "role", fn->role, "handler",
                          fn->handler, "description", fn->description, "arch", fn->arch, "timeout",
                          fn->timeout, "memory", fn->memory, "env", fn->env_vars, "code_dir",
                          fn->code_dir, "code_size", (json_int_t)fn->code_size, "sha", fn->sha,
                          "last_modified", (json_int_t)fn->last_modified, "reserved", fn->reserved,
                          "key", fn->key_id, "secret", fn->secret, "token", fn->token, "tags",
                          fn->tags);
    char *s = json_dumps(j, JSON_COMPACT);
    if (s == NULL || store_put(lm->store, "function", fn->name, s, strlen(s)) != 0)
        LOG_ERROR("store", NULL, "cannot persist function %s", fn->name);
    free(s);
    json_decref(j);
}

const char *lambda_secret_for_key(const struct lambda *lm, const char *access_key,
                                  const char *token)
{
    for (int b = 0; b < NBUCKETS; b++)
        for (const struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (!fn->deleted && strcmp(fn->key_id, access_key) == 0)
                return strcmp(fn->token, token) == 0 ? fn->secret : NULL;
    return NULL;
}

json_t *lambda_fn_tags(const struct lambda_fn *fn)
{
    return fn->tags;
}

enum err lambda_fn_tag(struct lambda *lm, struct lambda_fn *fn, json_t *tags, char *msg,
                       size_t msglen)
{
    json_t *merged = fn->tags ? json_copy(fn->tags) : json_object();
    if (merged == NULL || json_object_update(merged, tags) != 0) {
        json_decref(merged);
        return ERR_LAMBDA_SERVICE;
    }
    if (json_object_size(merged) > LAMBDA_MAX_TAGS) {
        json_decref(merged);
        snprintf(msg, msglen, "The number of tags exceeds the limit of %d for this resource.",
                 LAMBDA_MAX_TAGS);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    json_decref(fn->tags);
    fn->tags = merged;
    fn_persist(lm, fn);
    return ERR_OK;
}

void lambda_fn_untag(struct lambda *lm, struct lambda_fn *fn, json_t *keys)
{
    size_t i;
    json_t *k;
    if (fn->tags == NULL)
        return;
    json_array_foreach(keys, i, k) json_object_del(fn->tags, json_string_value(k));
    if (json_object_size(fn->tags) == 0) {
        json_decref(fn->tags);
        fn->tags = NULL;
    }
    fn_persist(lm, fn);
}

static struct lambda_fn *fn_alloc(struct lambda *lm, const char *name)
{
    struct lambda_fn *fn = calloc(1, sizeof(*fn));
    if (fn == NULL)
        return NULL;
    fn->lm = lm;
    snprintf(fn->name, sizeof(fn->name), "%s", name);
    snprintf(fn->arn, sizeof(fn->arn), "arn:aws:lambda:%s:000000000000:function:%s", lm->region,
             name);
    snprintf(fn->runtime, sizeof(fn->runtime), "provided.al2023");
    snprintf(fn->arch, sizeof(fn->arch), "x86_64");
    fn->timeout = 3;
    fn->memory = 128;
    fn->reserved = -1;
    memcpy(fn->key_id, "ASIA", 4);
    ids_alnum_upper(fn->key_id + 4, 16);
    ids_secret(fn->secret, 40);
    ids_secret(fn->token, 88);
    fn->last_modified = clock_now_ms();
    return fn;
}

static void fn_insert(struct lambda *lm, struct lambda_fn *fn)
{
    unsigned h = hash_name(fn->name);
    fn->hnext = lm->buckets[h];
    lm->buckets[h] = fn;
    lm->n_fns++;
}

static void apply_spec(struct lambda_fn *fn, const struct lambda_fn_spec *spec)
{
    if (spec->runtime)
        snprintf(fn->runtime, sizeof(fn->runtime), "%s", spec->runtime);
    if (spec->role) {
        free(fn->role);
        fn->role = strdup(spec->role);
    }
    if (spec->handler) {
        free(fn->handler);
        fn->handler = strdup(spec->handler);
    }
    if (spec->description) {
        free(fn->description);
        fn->description = strdup(spec->description);
    }
    if (spec->architecture)
        snprintf(fn->arch, sizeof(fn->arch), "%s", spec->architecture);
    if (spec->timeout)
        fn->timeout = spec->timeout;
    if (spec->memory)
        fn->memory = spec->memory;
    if (spec->has_env) {
        json_decref(fn->env_vars);
        fn->env_vars = spec->env_vars ? json_deep_copy(spec->env_vars) : NULL;
    }
    if (spec->tags != NULL && json_object_size(spec->tags) > 0) {
        json_decref(fn->tags);
        fn->tags = json_deep_copy(spec->tags);
    }
}

static void env_kill(struct lambda_env *env, int why);

/* Retires every environment: idle ones now, busy ones when they ask for the next event. */
static void fn_retire_envs(struct lambda_fn *fn)
{
    fn->generation++;
    while (fn->idle) {
        struct lambda_env *e = fn->idle;
        fn->idle = e->idle_next;
        e->idle_next = NULL;
        e->state = ENV_RETURNING;
        env_kill(e, KILL_RETIRE);
    }
}

/* Fills code fields from a directory holding bootstrap (size/sha of the bootstrap file). */
static int code_from_dir(struct lambda_fn *fn, const char *dir)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/bootstrap", dir);
    snprintf(fn->code_dir, sizeof(fn->code_dir), "%s", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fn->code_size = 0;
        snprintf(fn->sha, sizeof(fn->sha), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        return -1;
    }
    struct stat st;
    fstat(fd, &st);
    struct buf data;
    buf_init(&data, (size_t)st.st_size + 1);
    buf_reserve(&data, (size_t)st.st_size);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_append(&data, chunk, (size_t)n);
    close(fd);
    unsigned char h[32];
    codec_sha256(data.data ? data.data : "", data.len, h);
    struct buf b64;
    buf_init(&b64, 64);
    codec_b64_encode(h, 32, &b64);
    snprintf(fn->sha, sizeof(fn->sha), "%s", b64.data);
    fn->code_size = (long long)data.len;
    buf_destroy(&b64);
    buf_destroy(&data);
    return 0;
}

static enum err code_from_zip(struct lambda *lm, struct lambda_fn *fn, const void *zip, size_t len,
                              char *msg, size_t msglen)
{
    unsigned char h[32];
    codec_sha256(zip, len, h);
    char hex[17];
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", h[i]);
    char dir[PATH_MAX + 256];
    char rnd[9];
    ids_hex(rnd, 4);
    int dl = snprintf(dir, sizeof(dir), "%s/lambda/%s/%s-%s", lm->state_dir, fn->name, hex, rnd);
    if (dl < 0 || (size_t)dl >= sizeof(fn->code_dir)) {
        snprintf(msg, msglen, "The state directory path is too long");
        return ERR_LAMBDA_SERVICE;
    }
    if (lambda__unzip(zip, len, dir, msg, msglen) != 0)
        return ERR_LAMBDA_INVALID_PARAMETER;
    memcpy(fn->code_dir, dir, (size_t)dl + 1);
    /* the package itself, for GetFunction's Code.Location */
    char zpath[PATH_MAX + 512];
    snprintf(zpath, sizeof(zpath), "%s.zip", dir);
    int zfd = open(zpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (zfd >= 0) {
        if (write(zfd, zip, len) != (ssize_t)len)
            unlink(zpath);
        close(zfd);
    }
    struct buf b64;
    buf_init(&b64, 64);
    codec_b64_encode(h, 32, &b64);
    snprintf(fn->sha, sizeof(fn->sha), "%s", b64.data);
    buf_destroy(&b64);
    fn->code_size = (long long)len;
    return ERR_OK;
}

enum err lambda_fn_create(struct lambda *lm, const struct lambda_fn_spec *spec, char *msg,
                          size_t msglen)
{
    char name[80];
    enum err e =
        lambda_resolve_name(spec->name, strlen(spec->name), name, sizeof(name), msg, msglen);
    if (e != ERR_OK)
        return e == ERR_LAMBDA_NOT_FOUND ? ERR_LAMBDA_VALIDATION : e;
    struct lambda_fn *old = lambda_fn_find(lm, name);
    if (old != NULL && !(spec->dir != NULL && old->managed)) {
        snprintf(msg, msglen, "Function already exist: %s", name);
        return ERR_LAMBDA_CONFLICT;
    }
    if (old != NULL) { /* re-provisioning an environment function: replace */
        old->deleted = true;
        fn_retire_envs(old);
        fn_maybe_free(old);
    }
    struct lambda_fn *fn = fn_alloc(lm, name);
    if (fn == NULL)
        return ERR_LAMBDA_SERVICE;
    apply_spec(fn, spec);
    if (spec->dir != NULL) {
        fn->managed = true;
        code_from_dir(fn, spec->dir);
    } else {
        e = code_from_zip(lm, fn, spec->zip, spec->zip_len, msg, msglen);
        if (e != ERR_OK) {
            fn_free(fn);
            return e;
        }
    }
    fn_insert(lm, fn);
    fn_persist(lm, fn);
    LOG_INFO("function_created", NULL, "%s code=%s", fn->name, fn->code_dir);
    return ERR_OK;
}

void lambda_not_found_msg(const struct lambda *lm, const char *name, char *msg, size_t msglen)
{
    snprintf(msg, msglen, "Function not found: arn:aws:lambda:%s:000000000000:function:%s",
             lm->region, name);
}

const char *lambda_region(const struct lambda *lm)
{
    return lm->region;
}

static enum err not_found(struct lambda *lm, const char *name, char *msg, size_t msglen)
{
    lambda_not_found_msg(lm, name, msg, msglen);
    return ERR_LAMBDA_NOT_FOUND;
}

enum err lambda_fn_update_code(struct lambda *lm, const char *name, const void *zip, size_t len,
                               const char *dir, char *msg, size_t msglen)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL)
        return not_found(lm, name, msg, msglen);
    if (dir != NULL) {
        code_from_dir(fn, dir);
    } else {
        enum err e = code_from_zip(lm, fn, zip, len, msg, msglen);
        if (e != ERR_OK)
            return e;
    }
    fn->last_modified = clock_now_ms();
    fn_retire_envs(fn);
    fn_persist(lm, fn);
    return ERR_OK;
}

enum err lambda_fn_update_config(struct lambda *lm, const struct lambda_fn_spec *spec, char *msg,
                                 size_t msglen)
{
    struct lambda_fn *fn = lambda_fn_find(lm, spec->name);
    if (fn == NULL)
        return not_found(lm, spec->name, msg, msglen);
    apply_spec(fn, spec);
    fn->last_modified = clock_now_ms();
    fn_retire_envs(fn);
    fn_persist(lm, fn);
    return ERR_OK;
}

static void inv_complete_error(struct lambda_inv *inv, enum err e, const char *msg,
                               const char *reason);

enum err lambda_fn_delete(struct lambda *lm, const char *name)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL)
        return ERR_LAMBDA_NOT_FOUND;
    fn->deleted = true;
    if (fn->reserved >= 0)
        lm->reserved_total -= fn->reserved;
    if (lm->store && !fn->managed)
        store_delete(lm->store, "function", fn->name);
    struct lambda_inv *inv;
    char msg[256];
    snprintf(msg, sizeof(msg), "Function not found: %s", fn->arn);
    while ((inv = q_pop(&fn->pending)) != NULL)
        inv_complete_error(inv, ERR_LAMBDA_NOT_FOUND, msg, NULL);
    while ((inv = q_pop(&fn->events)) != NULL) {
        if (lm->store)
            store_submit_delete(lm->store, "event", inv->rid, NULL, NULL);
        inv_free(inv);
    }
    fn_retire_envs(fn);
    for (struct lambda_env *e = fn->envs; e; e = e->next)
        env_kill(e, KILL_RETIRE);
    LOG_INFO("function_deleted", NULL, "%s", name);
    fn_maybe_free(fn);
    return ERR_OK;
}

enum err lambda_fn_set_concurrency(struct lambda *lm, const char *name, int n, char *msg,
                                   size_t msglen)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL)
        return not_found(lm, name, msg, msglen);
    int others = lm->reserved_total - (fn->reserved >= 0 ? fn->reserved : 0);
    /* AWS keeps 100 unreserved; a small emulated account keeps a tenth of its limit */
    int limit = lm->opt.account_concurrency;
    int min_unreserved = limit >= 1000 ? 100 : limit / 10;
    if (n >= 0 && others + n > limit - min_unreserved) {
        snprintf(msg, msglen,
                 "Specified ReservedConcurrentExecutions for function decreases account's "
                 "UnreservedConcurrentExecution below its minimum value of [%d].",
                 min_unreserved);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    /* moving between the shared pool and a reservation keeps in-flight counts right */
    if (fn->reserved < 0 && n >= 0)
        lm->unreserved_inflight -= fn->inflight;
    else if (fn->reserved >= 0 && n < 0)
        lm->unreserved_inflight += fn->inflight;
    lm->reserved_total = others + (n >= 0 ? n : 0);
    fn->reserved = n < 0 ? -1 : n;
    fn_persist(lm, fn);
    return ERR_OK;
}

/* ---- environments ------------------------------------------------------------------- */

static void env_on_out(void *arg, const char *d, size_t n);
static void env_on_err(void *arg, const char *d, size_t n);

static void env_put_env(char **envp, size_t *n, size_t cap, const char *k, const char *v)
{
    if (*n + 1 >= cap)
        return;
    size_t len = strlen(k) + strlen(v) + 2;
    char *s = malloc(len);
    if (s == NULL)
        return;
    snprintf(s, len, "%s=%s", k, v);
    envp[(*n)++] = s;
    envp[*n] = NULL;
}

static char **env_build(struct lambda_env *env, size_t *count)
{
    struct lambda_fn *fn = env->fn;
    struct lambda *lm = env->lm;
    size_t cap = 48 + (fn->env_vars ? json_object_size(fn->env_vars) : 0);
    char **envp = calloc(cap, sizeof(char *));
    if (envp == NULL)
        return NULL;
    size_t n = 0;
    char tmp[PATH_MAX * 2 + 64];
    /* the function's own variables first: reserved names below take precedence */
    if (fn->env_vars) {
        const char *k;
        json_t *v;
        json_object_foreach(fn->env_vars, k, v) env_put_env(envp, &n, cap, k, json_string_value(v));
    }
    env_put_env(envp, &n, cap, "_HANDLER", fn->handler ? fn->handler : "");
    env_put_env(envp, &n, cap, "AWS_REGION", lm->region);
    env_put_env(envp, &n, cap, "AWS_DEFAULT_REGION", lm->region);
    snprintf(tmp, sizeof(tmp), "AWS_Lambda_%s", fn->runtime);
    env_put_env(envp, &n, cap, "AWS_EXECUTION_ENV", tmp);
    env_put_env(envp, &n, cap, "AWS_LAMBDA_FUNCTION_NAME", fn->name);
    snprintf(tmp, sizeof(tmp), "%d", fn->memory);
    env_put_env(envp, &n, cap, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tmp);
    env_put_env(envp, &n, cap, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    env_put_env(envp, &n, cap, "AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
    snprintf(tmp, sizeof(tmp), "/aws/lambda/%s", fn->name);
    env_put_env(envp, &n, cap, "AWS_LAMBDA_LOG_GROUP_NAME", tmp);
    env_put_env(envp, &n, cap, "AWS_LAMBDA_LOG_STREAM_NAME", env->stream);
    env_put_env(envp, &n, cap, "AWS_ACCESS_KEY_ID", fn->key_id);
    env_put_env(envp, &n, cap, "AWS_SECRET_ACCESS_KEY", fn->secret);
    env_put_env(envp, &n, cap, "AWS_SESSION_TOKEN", fn->token);
    snprintf(tmp, sizeof(tmp), "127.0.0.1:%u", env->port);
    env_put_env(envp, &n, cap, "AWS_LAMBDA_RUNTIME_API", tmp);
    env_put_env(envp, &n, cap, "LAMBDA_TASK_ROOT", fn->code_dir);
    env_put_env(envp, &n, cap, "LAMBDA_RUNTIME_DIR", fn->code_dir);
    env_put_env(envp, &n, cap, "TZ", ":UTC");
    env_put_env(envp, &n, cap, "LANG", "en_US.UTF-8");
    env_put_env(envp, &n, cap, "PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin");
    snprintf(tmp, sizeof(tmp), "%s/lib:%s:/lib64:/usr/lib64:/opt/lib", fn->code_dir, fn->code_dir);
    env_put_env(envp, &n, cap, "LD_LIBRARY_PATH", tmp);
    snprintf(tmp, sizeof(tmp), "http://127.0.0.1:%u", lm->opt.aws_port);
    env_put_env(envp, &n, cap, "AWS_ENDPOINT_URL", tmp);
    *count = n;
    return envp;
}

static void env_free_envp(char **envp)
{
    if (envp == NULL)
        return;
    for (char **p = envp; *p; p++)
        free(*p);
    free(envp);
}

/*
 * Starts bootstrap in its own process group with the environment's stdout/stderr pipes.
 * vfork: the parent resumes once the child has exec'd (or failed), so the environment's
 * pid never names a copy of the daemon (whose memory would count against the limit), and
 * no page tables are copied. The child only makes plain system calls before execve.
 * Kept apart from env_spawn so no caller variable lives across vfork.
 */
static pid_t __attribute__((noinline))
spawn_child(const char *exe, char **envp, int out_w, int err_w, const char *dir, pid_t parent)
{
    pid_t pid = vfork();
    if (pid != 0)
        return pid;
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_w, 1);
    dup2(err_w, 2);
    close_range(3, ~0U, 0);
    if (chdir(dir) != 0)
        _exit(127);
    char *argv[] = {"bootstrap", NULL};
    execve(exe, argv, envp);
    static const char msg[] = "exec bootstrap failed\n";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    (void)w;
    _exit(127);
}

static struct lambda_env *env_spawn(struct lambda_fn *fn)
{
    struct lambda *lm = fn->lm;
    struct lambda_env *env = calloc(1, sizeof(*env));
    int out[2] = {-1, -1}, err[2] = {-1, -1};
    char **envp = NULL;
    if (env == NULL)
        return NULL;
    env->lm = lm;
    env->fn = fn;
    env->status_fd = -1;
    env->generation = fn->generation;
    buf_init(&env->line_out, LINE_MAX_BYTES);
    buf_init(&env->line_err, LINE_MAX_BYTES);
    char ymd[16], hex[33];
    clock_format_ymd_slash(clock_now_ms(), ymd, sizeof(ymd));
    ids_hex(hex, 16);
    snprintf(env->stream, sizeof(env->stream), "%s/[$LATEST]%s", ymd, hex);
    if (lm->host.env_listen(lm->host.arg, env, &env->port, &env->listener) != 0)
        goto fail;
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        goto fail;
    size_t nenv;
    envp = env_build(env, &nenv);
    if (envp == NULL)
        goto fail;
    char exe[PATH_MAX + 16];
    snprintf(exe, sizeof(exe), "%s/bootstrap", fn->code_dir);
    pid_t parent = getpid();
    env->spawned_ns = clock_mono_ns();
    pid_t pid = spawn_child(exe, envp, out[1], err[1], fn->code_dir, parent);
    if (pid < 0)
        goto fail;
    setpgid(pid, pid); /* also from here, so kill(-pid) works at once */
    env->pid = pid;
    env_free_envp(envp);
    envp = NULL;
    close(out[1]);
    close(err[1]);
    env->fd_out = out[0];
    env->fd_err = err[0];
    env->w_out = lm->host.watch(lm->host.arg, out[0], env_on_out, env);
    env->w_err = lm->host.watch(lm->host.arg, err[0], env_on_err, env);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    env->status_fd = open(path, O_RDONLY | O_CLOEXEC);
    env->state = ENV_STARTING;
    env->cold_pending = true;
    env->next = fn->envs;
    fn->envs = env;
    fn->n_envs++;
    fn->n_starting++;
    LOG_DEBUG("env_start", NULL, "%s pid=%d port=%u", fn->name, pid, env->port);
    return env;
fail:
    LOG_ERROR("env_start", NULL, "%s: cannot start environment: %s", fn->name, strerror(errno));
    env_free_envp(envp);
    if (out[0] >= 0) {
        close(out[0]);
        close(out[1]);
    }
    if (err[0] >= 0) {
        close(err[0]);
        close(err[1]);
    }
    if (env->listener)
        lm->host.env_unlisten(lm->host.arg, env->listener);
    buf_destroy(&env->line_out);
    buf_destroy(&env->line_err);
    free(env);
    return NULL;
}

static void env_kill(struct lambda_env *env, int why)
{
    if (env->pid > 0 && env->killed == KILL_NONE) {
        env->killed = why;
        kill(-env->pid, SIGKILL);
        kill(env->pid, SIGKILL);
    }
}

/* Splits output into log lines. */
static void env_lines(struct lambda_env *env, struct buf *lb, const char *d, size_t n)
{
    while (n > 0) {
        const char *nl = memchr(d, '\n', n);
        size_t take = nl ? (size_t)(nl - d) : n;
        if (lb->len + take > lb->max) {
            /* an over-long line is cut into events of at most LINE_MAX_BYTES */
            size_t room = lb->max - lb->len;
            buf_append(lb, d, room);
            env_log(env, lb->data, lb->len);
            buf_reset(lb);
            d += room;
            n -= room;
            continue;
        }
        buf_append(lb, d, take);
        if (nl == NULL)
            return;
        size_t len = lb->len;
        if (len > 0 && lb->data[len - 1] == '\r')
            len--;
        env_log(env, lb->data ? lb->data : "", len);
        buf_reset(lb);
        d += take + 1;
        n -= take + 1;
    }
}

static void env_on_out(void *arg, const char *d, size_t n)
{
    struct lambda_env *env = arg;
    if (n == 0) {
        if (env->line_out.len)
            env_log(env, env->line_out.data, env->line_out.len);
        buf_reset(&env->line_out);
        env->lm->host.unwatch(env->w_out);
        env->w_out = NULL;
        return;
    }
    env_lines(env, &env->line_out, d, n);
}

static void env_on_err(void *arg, const char *d, size_t n)
{
    struct lambda_env *env = arg;
    if (n == 0) {
        if (env->line_err.len)
            env_log(env, env->line_err.data, env->line_err.len);
        buf_reset(&env->line_err);
        env->lm->host.unwatch(env->w_err);
        env->w_err = NULL;
        return;
    }
    env_lines(env, &env->line_err, d, n);
}

/* ---- invocations -------------------------------------------------------------------- */

static bool can_admit(struct lambda *lm, struct lambda_fn *fn)
{
    if (fn->reserved >= 0)
        return fn->inflight < fn->reserved;
    return lm->unreserved_inflight < lm->opt.account_concurrency - lm->reserved_total;
}

static void admit_count(struct lambda *lm, struct lambda_fn *fn, int delta)
{
    fn->inflight += delta;
    if (fn->reserved < 0)
        lm->unreserved_inflight += delta;
}

static void env_deliver(struct lambda_env *env, struct lambda_inv *inv)
{
    struct lambda_fn *fn = env->fn;
    struct lambda_next_waiter *w = env->waiter;
    env->waiter = NULL;
    env->inv = inv;
    inv->env = env;
    env->state = ENV_BUSY;
    env->inv_start_ns = clock_mono_ns();
    inv->deadline_ms = clock_mono_ms() + (int64_t)fn->timeout * 1000;
    int64_t deadline_epoch = clock_now_ms() + (int64_t)fn->timeout * 1000;
    env_logf(env, "START RequestId: %s Version: $LATEST", inv->rid);
    char trace[96], hex[25], parent[17];
    ids_hex(hex, 12);
    ids_hex(parent, 8);
    snprintf(trace, sizeof(trace), "Root=1-%08llx-%s;Parent=%s;Sampled=0",
             (long long)(clock_now_ms() / 1000), hex, parent);
    w->deliver(w, inv->rid, deadline_epoch, fn->arn, trace, inv->client_context, inv->payload,
               inv->len);
}

static void dispatch_events(struct lambda *lm, struct lambda_fn *fn);

/* Environments that answered and will ask for the next event any moment. */
static int returning_envs(const struct lambda_fn *fn)
{
    int n = 0;
    for (const struct lambda_env *e = fn->envs; e; e = e->next)
        if (e->state == ENV_RETURNING && e->killed == KILL_NONE && e->inv == NULL)
            n++;
    return n;
}

/* Starts environments for pending invocations no starting (or, unless `eager`, returning)
 * environment will take. */
static void fn_spawn(struct lambda_fn *fn, bool eager)
{
    int soon = eager ? 0 : returning_envs(fn);
    while (fn->pending.n > fn->n_starting + soon && !fn->deleted) {
        char exe[PATH_MAX + 16];
        snprintf(exe, sizeof(exe), "%s/bootstrap", fn->code_dir);
        if (access(exe, X_OK) != 0) {
            struct lambda_inv *inv = q_pop(&fn->pending);
            char body[PATH_MAX + 256];
            snprintf(body, sizeof(body),
                     "{\"errorType\":\"Runtime.InvalidEntrypoint\",\"errorMessage\":\"RequestId: "
                     "%s Error: Couldn't find valid bootstrap(s): [%s/bootstrap]\"}",
                     inv->rid, fn->code_dir);
            lambda__finish(inv, true, body, strlen(body));
            continue;
        }
        if (env_spawn(fn) == NULL) {
            struct lambda_inv *inv = q_pop(&fn->pending);
            inv_complete_error(inv, ERR_LAMBDA_SERVICE, "Cannot start an execution environment",
                               NULL);
        }
    }
}

/* Puts an admitted invocation on an idle environment, or queues it and starts one. */
static void place(struct lambda_fn *fn, struct lambda_inv *inv)
{
    if (fn->idle != NULL) {
        struct lambda_env *env = fn->idle;
        fn->idle = env->idle_next;
        env->idle_next = NULL;
        env_deliver(env, inv);
        return;
    }
    inv->queued_ms = clock_mono_ms();
    q_push(&fn->pending, inv);
    fn_spawn(fn, false);
}

struct lambda_inv *lambda_invoke(struct lambda *lm, struct lambda_fn *fn, enum lambda_inv_type type,
                                 const char *payload, size_t len, const char *client_context,
                                 bool want_tail, lambda_done_fn done, void *arg,
                                 char request_id_out[37])
{
    struct lambda_inv *inv = calloc(1, sizeof(*inv));
    if (inv == NULL || (inv->payload = malloc(len + 1)) == NULL) {
        free(inv);
        struct lambda_result r = {.err = ERR_LAMBDA_SERVICE, .err_msg = "out of memory"};
        if (done)
            done(arg, &r);
        return NULL;
    }
    ids_uuid4(inv->rid);
    if (request_id_out)
        memcpy(request_id_out, inv->rid, 37);
    memcpy(inv->payload, payload, len);
    inv->payload[len] = '\0';
    inv->len = len;
    inv->client_context = xstrdup(client_context);
    inv->fn = fn;
    inv->type = type;
    inv->want_tail = want_tail && type == LAMBDA_INV_SYNC;
    buf_init(&inv->tail, 8 * TAIL_BYTES);
    inv->done = done;
    inv->arg = arg;
    if (lm->draining) {
        inv_complete_error(inv, ERR_LAMBDA_SERVICE, "The service is shutting down", NULL);
        return NULL;
    }
    if (type == LAMBDA_INV_EVENT) {
        inv->done = NULL;
        inv->arg = NULL;
        int persisted = -1;
        struct event_ack *ack = calloc(1, sizeof(*ack));
        if (ack != NULL) {
            ack->done = done;
            ack->arg = arg;
            memcpy(ack->rid, inv->rid, sizeof(ack->rid));
        }
        if (lm->store && ack) {
            struct buf rec;
            buf_init(&rec, len + 256);
            buf_printf(&rec, "%s\n0\n", fn->name);
            buf_append(&rec, payload, len);
            persisted = store_submit_put(lm->store, "event", inv->rid, rec.data, rec.len,
                                         event_durable, ack);
            buf_destroy(&rec);
        }
        if (persisted != 0) /* no store (or no memory): acknowledged at once */
            event_durable(ack, lm->store && ack ? -1 : 0);
        if (persisted != 0 && lm->store) {
            inv_free(inv); /* could not be made durable: refused, not queued */
            return NULL;
        }
        q_push(&fn->events, inv);
        dispatch_events(lm, fn);
        return NULL;
    }
    if (!can_admit(lm, fn)) {
        inv_complete_error(inv, ERR_LAMBDA_TOO_MANY_REQUESTS, "Rate Exceeded.",
                           fn->reserved >= 0 ? "ReservedFunctionConcurrentInvocationLimitExceeded"
                                             : "ConcurrentInvocationLimitExceeded");
        return NULL;
    }
    admit_count(lm, fn, 1);
    inv->wait_deadline_ms = clock_mono_ms() + INIT_LIMIT_MS;
    bool alive = true;
    inv->alive = &alive;
    place(fn, inv);
    /* the invocation may already be done (e.g. missing bootstrap) */
    if (!alive)
        return NULL;
    inv->alive = NULL;
    return inv;
}

void lambda_inv_detach(struct lambda_inv *inv)
{
    if (inv != NULL) {
        inv->done = NULL;
        inv->arg = NULL;
    }
}

static void dispatch_events(struct lambda *lm, struct lambda_fn *fn)
{
    if (lm->draining)
        return;
    int64_t now = clock_mono_ms();
    while (fn->events.head && can_admit(lm, fn)) {
        /* retries wait their turn: skip the head only when it is not due yet */
        struct lambda_inv *inv = fn->events.head;
        if (inv->not_before_ms > now)
            break;
        q_pop(&fn->events);
        admit_count(lm, fn, 1);
        inv->wait_deadline_ms = now + INIT_LIMIT_MS;
        inv->init_retried = false;
        inv->queued_ms = now;
        place(fn, inv);
    }
}

/* An Event invocation became durable (rc 0) or could not be (-1): its 202 can go. */
static void event_durable(void *arg, int rc)
{
    struct event_ack *ack = arg;
    if (ack == NULL)
        return;
    struct lambda_result r = {.err = rc == 0 ? ERR_OK : ERR_LAMBDA_SERVICE,
                              .err_msg = rc == 0 ? NULL : "Could not store the event",
                              .request_id = ack->rid};
    if (ack->done)
        ack->done(ack->arg, &r);
    free(ack);
}

/* Completes an invocation that was admitted or never admitted with a platform error. */
static void inv_complete_error(struct lambda_inv *inv, enum err e, const char *msg,
                               const char *reason)
{
    struct lambda_result r = {
        .err = e, .err_msg = msg, .throttle_reason = reason, .request_id = inv->rid};
    if (inv->done)
        inv->done(inv->arg, &r);
    inv_free(inv);
}

/* Is inv currently counted in its function's in-flight number? */
void lambda__finish(struct lambda_inv *inv, bool function_error, const char *body, size_t len)
{
    struct lambda_fn *fn = inv->fn;
    struct lambda *lm = fn->lm;
    admit_count(lm, fn, -1);
    if (inv->type == LAMBDA_INV_EVENT) {
        if (function_error && inv->attempt < 2 && !fn->deleted) {
            int64_t delay = lm->opt.retry_delay_ms[inv->attempt];
            inv->attempt++;
            inv->not_before_ms = clock_mono_ms() + delay;
            inv->env = NULL;
            buf_reset(&inv->tail);
            if (lm->store) {
                struct buf rec;
                buf_init(&rec, inv->len + 256);
                buf_printf(&rec, "%s\n%d\n", fn->name, inv->attempt);
                buf_append(&rec, inv->payload, inv->len);
                store_submit_put(lm->store, "event", inv->rid, rec.data, rec.len, NULL, NULL);
                buf_destroy(&rec);
            }
            LOG_INFO("event_retry", inv->rid, "%s attempt %d in %lld ms", fn->name,
                     inv->attempt + 1, (long long)delay);
            q_push(&fn->events, inv);
            dispatch_events(lm, fn);
            return;
        }
        if (lm->store)
            store_submit_delete(lm->store, "event", inv->rid, NULL, NULL);
        if (function_error)
            LOG_WARN("event_failed", inv->rid, "%s: giving up after %d attempts", fn->name,
                     inv->attempt + 1);
        inv_free(inv);
    } else {
        struct lambda_result r = {.err = ERR_OK,
                                  .function_error = function_error,
                                  .body = body,
                                  .len = len,
                                  .request_id = inv->rid};
        if (inv->want_tail) {
            size_t tl = inv->tail.len, off = tl > TAIL_BYTES ? tl - TAIL_BYTES : 0;
            r.log_tail = inv->tail.data ? inv->tail.data + off : "";
            r.log_tail_len = tl - off;
        }
        if (inv->done)
            inv->done(inv->arg, &r);
        inv_free(inv);
    }
    dispatch_events(lm, fn);
    fn_maybe_free(fn);
}

/* Drains what the child already wrote, so its lines precede END/REPORT. */
static void env_drain_output(struct lambda_env *env)
{
    char chunk[16384];
    for (int round = 0; round < 16; round++) {
        bool any = false;
        /* the fds belong to the watches; reading directly keeps the order of bytes */
        int fds[2] = {env->w_out ? env->fd_out : -1, env->w_err ? env->fd_err : -1};
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0)
                continue;
            ssize_t n = read(fds[i], chunk, sizeof(chunk));
            if (n > 0) {
                env_lines(env, i == 0 ? &env->line_out : &env->line_err, chunk, (size_t)n);
                any = true;
            }
        }
        if (!any)
            break;
    }
}

/* END + REPORT lines for the environment's current invocation. */
static void env_report(struct lambda_env *env, const char *status)
{
    struct lambda_inv *inv = env->inv;
    double dur = (double)(clock_mono_ns() - env->inv_start_ns) / 1e6;
    /* VmHWM as last sampled (the 100 ms sweep, and at init): no /proc read per invocation */
    long hwm = env->last_hwm_kb;
    if (env->peak_tree_kb > hwm)
        hwm = env->peak_tree_kb;
    env->peak_tree_kb = 0;
    env_logf(env, "END RequestId: %s", inv->rid);
    char init[64] = "";
    long long billed = (long long)dur + (dur > (double)(long long)dur ? 1 : 0);
    if (billed < 1)
        billed = 1;
    if (env->cold_pending) {
        snprintf(init, sizeof(init), "Init Duration: %.2f ms\t", env->init_ms);
        billed += (long long)env->init_ms + 1;
        env->cold_pending = false;
    }
    char st[64] = "";
    if (status)
        snprintf(st, sizeof(st), "Status: %s\t", status);
    env_logf(env,
             "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %lld ms\tMemory Size: %d "
             "MB\tMax Memory Used: %ld MB\t%s%s",
             inv->rid, dur, billed, env->fn->memory, (hwm + 1023) / 1024, init, st);
}

/* The environment's invocation is over (answered, errored, timed out or crashed). */
static void env_end_inv(struct lambda_env *env, bool function_error, const char *body, size_t len,
                        const char *status)
{
    struct lambda_inv *inv = env->inv;
    if (inv == NULL)
        return;
    if (env->w_out || env->w_err)
        env_drain_output(env);
    env_report(env, status);
    env->inv = NULL;
    inv->env = NULL;
    if (env->state == ENV_BUSY)
        env->state = ENV_RETURNING;
    lambda__finish(inv, function_error, body, len);
}

static void env_destroy(struct lambda_env *env)
{
    struct lambda *lm = env->lm;
    struct lambda_fn *fn = env->fn;
    struct lambda_env **pp = &fn->envs;
    while (*pp && *pp != env)
        pp = &(*pp)->next;
    if (*pp)
        *pp = env->next;
    pp = &fn->idle;
    while (*pp && *pp != env)
        pp = &(*pp)->idle_next;
    if (*pp)
        *pp = env->idle_next;
    fn->n_envs--;
    if (env->state == ENV_STARTING)
        fn->n_starting--;
    if (env->waiter) {
        struct lambda_next_waiter *w = env->waiter;
        env->waiter = NULL;
        w->abort(w);
    }
    lm->host.env_unlisten(lm->host.arg, env->listener);
    if (env->w_out)
        lm->host.unwatch(env->w_out);
    if (env->w_err)
        lm->host.unwatch(env->w_err);
    if (env->status_fd >= 0)
        close(env->status_fd);
    buf_destroy(&env->line_out);
    buf_destroy(&env->line_err);
    free(env->init_error);
    free(env);
}

static void exit_text(int status, char *out, size_t outlen)
{
    if (WIFSIGNALED(status))
        snprintf(out, outlen, "signal: %s",
                 WTERMSIG(status) == SIGKILL ? "killed" : strsignal(WTERMSIG(status)));
    else
        snprintf(out, outlen, "exit status %d", WEXITSTATUS(status));
}

void lambda_child_exited(struct lambda *lm, int pid, int status)
{
    struct lambda_env *env = NULL;
    for (int b = 0; b < NBUCKETS && env == NULL; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn && env == NULL; fn = fn->hnext)
            for (struct lambda_env *e = fn->envs; e; e = e->next)
                if (e->pid == pid) {
                    env = e;
                    break;
                }
    if (env == NULL)
        return;
    struct lambda_fn *fn = env->fn;
    char why[64], body[512];
    exit_text(status, why, sizeof(why));
    /* the sandbox goes with its runtime: whatever bootstrap started dies too */
    kill(-pid, SIGKILL);
    if (env->w_out || env->w_err)
        env_drain_output(env);
    if (env->inv != NULL) {
        const char *type = env->killed == KILL_OOM ? "Runtime.OutOfMemory" : "Runtime.ExitError";
        snprintf(body, sizeof(body),
                 "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: Runtime exited "
                 "with error: %s\"}",
                 type, env->inv->rid, why);
        if (env->killed != KILL_OOM) /* the OOM line was logged when it was killed */
            env_logf(env, "RequestId: %s Error: Runtime exited with error: %s", env->inv->rid, why);
        env_logf(env, "%s", type);
        env_end_inv(env, true, body, strlen(body), "error");
    } else if (env->state == ENV_STARTING && env->killed != KILL_RETIRE && fn->pending.n > 0) {
        /* init failed: the invocation that started this environment gets the error */
        struct lambda_inv *inv = q_pop(&fn->pending);
        env->inv = inv;
        env->inv_start_ns = clock_mono_ns();
        env->init_ms = (double)(env->inv_start_ns - env->spawned_ns) / 1e6;
        if (env->init_error != NULL) {
            env_logf(env, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error",
                     env->init_ms);
            env_end_inv(env, true, env->init_error, env->init_error_len, "error");
        } else {
            const char *type =
                env->killed == KILL_OOM ? "Runtime.OutOfMemory" : "Runtime.ExitError";
            snprintf(body, sizeof(body),
                     "{\"errorType\":\"%s\",\"errorMessage\":\"RequestId: %s Error: Runtime "
                     "exited with error: %s\"}",
                     type, inv->rid, why);
            env_logf(env,
                     "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError "
                     "Type: %s",
                     env->init_ms, type);
            env_end_inv(env, true, body, strlen(body), "error");
        }
    }
    LOG_DEBUG("env_exit", NULL, "%s pid=%d %s", fn->name, pid, why);
    env_destroy(env);
    fn_spawn(fn, false);
    fn_maybe_free(fn);
}

/* ---- Runtime API side --------------------------------------------------------------- */

int lambda_env_pid(const struct lambda_env *env)
{
    return env->pid;
}

void lambda_env_next(struct lambda_env *env, struct lambda_next_waiter *w)
{
    struct lambda_fn *fn = env->fn;
    if (env->waiter != NULL && env->waiter != w) {
        struct lambda_next_waiter *old = env->waiter;
        env->waiter = NULL;
        old->abort(old);
    }
    env->waiter = w;
    if (env->killed != KILL_NONE) {
        env->waiter = NULL;
        w->abort(w);
        return;
    }
    if (env->state == ENV_STARTING) {
        long hwm_kb, rss_kb;
        fn->n_starting--;
        env->init_ms = (double)(clock_mono_ns() - env->spawned_ns) / 1e6;
        read_mem(env, &hwm_kb, &rss_kb);
        env->state = ENV_RETURNING;
    }
    if (env->state == ENV_BUSY) /* /next without an answer: keep waiting for it */
        return;
    if (env->generation != fn->generation || fn->deleted) {
        env->waiter = NULL;
        w->abort(w);
        env_kill(env, KILL_RETIRE);
        return;
    }
    struct lambda_inv *inv = q_pop(&fn->pending);
    if (inv != NULL) {
        env_deliver(env, inv);
        return;
    }
    if (env->state != ENV_IDLE) {
        env->state = ENV_IDLE;
        env->idle_since_ms = clock_mono_ms();
        env->idle_next = fn->idle;
        fn->idle = env;
    }
    dispatch_events(env->lm, fn);
}

void lambda_env_next_gone(struct lambda_env *env, struct lambda_next_waiter *w)
{
    if (env->waiter != w)
        return;
    env->waiter = NULL;
    if (env->state == ENV_IDLE) {
        struct lambda_env **pp = &env->fn->idle;
        while (*pp && *pp != env)
            pp = &(*pp)->idle_next;
        if (*pp)
            *pp = env->idle_next;
        env->idle_next = NULL;
        env->state = ENV_RETURNING;
    }
}

static bool rid_matches(struct lambda_env *env, const char *rid, size_t rid_len)
{
    return env->inv != NULL && rid_len == 36 && memcmp(env->inv->rid, rid, 36) == 0;
}

enum err lambda_env_response(struct lambda_env *env, const char *rid, size_t rid_len,
                             const char *body, size_t len)
{
    if (!rid_matches(env, rid, rid_len))
        return ERR_LAMBDA_INVALID_RUNTIME_ID;
    if (len > LAMBDA_MAX_SYNC_PAYLOAD && env->inv->type == LAMBDA_INV_SYNC) {
        static const char big[] =
            "{\"errorMessage\":\"Response payload size exceeded maximum allowed payload size "
            "(6291556 bytes).\",\"errorType\":\"Function.ResponseSizeTooLarge\"}";
        env_end_inv(env, true, big, sizeof(big) - 1, NULL);
        return ERR_LAMBDA_TOO_LARGE;
    }
    env_end_inv(env, false, body, len, NULL);
    return ERR_OK;
}

/* The error body to report: the runtime's JSON if it is a JSON object, else one built from
 * the error-type header. Returns a malloc'd string. */
static char *error_body(const char *body, size_t len, const char *et, size_t et_len,
                        size_t *out_len)
{
    json_t *j = jsonh_parse(body, len, NULL, 0);
    bool ok = json_is_object(j);
    json_decref(j);
    if (ok) {
        char *s = malloc(len + 1);
        if (s) {
            memcpy(s, body, len);
            s[len] = '\0';
            *out_len = len;
        }
        return s;
    }
    char type[128];
    snprintf(type, sizeof(type), "%.*s", et ? (int)(et_len > 100 ? 100 : et_len) : 0, et ? et : "");
    json_t *e = json_pack("{s:s, s:s}", "errorType", type[0] ? type : "Runtime.Unknown",
                          "errorMessage", "");
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    *out_len = s ? strlen(s) : 0;
    return s;
}

enum err lambda_env_error(struct lambda_env *env, const char *rid, size_t rid_len, const char *body,
                          size_t len, const char *error_type, size_t et_len)
{
    if (!rid_matches(env, rid, rid_len))
        return ERR_LAMBDA_INVALID_RUNTIME_ID;
    size_t n = 0;
    char *b = error_body(body, len, error_type, et_len, &n);
    env_end_inv(env, true, b ? b : "{}", b ? n : 2, "error");
    free(b);
    return ERR_OK;
}

enum err lambda_env_init_error(struct lambda_env *env, const char *body, size_t len,
                               const char *error_type, size_t et_len)
{
    if (env->state != ENV_STARTING)
        return ERR_LAMBDA_INVALID_RUNTIME_ID; /* RIE: init error outside init is refused */
    free(env->init_error);
    env->init_error = error_body(body, len, error_type, et_len, &env->init_error_len);
    /* the runtime is expected to exit; make sure it does */
    env_kill(env, KILL_REAP);
    return ERR_OK;
}

/* ---- periodic work ------------------------------------------------------------------ */

static void env_timeout(struct lambda_env *env)
{
    struct lambda_inv *inv = env->inv;
    char body[256];
    snprintf(body, sizeof(body),
             "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: %s Error: Task "
             "timed out after %d.00 seconds\"}",
             inv->rid, env->fn->timeout);
    char ts[40];
    clock_format_lambda(clock_now_ms(), ts, sizeof(ts));
    ts[23] = 'Z';
    ts[24] = '\0';
    env_logf(env, "%s %s Task timed out after %d.00 seconds", ts, inv->rid, env->fn->timeout);
    env_kill(env, KILL_TIMEOUT);
    env_end_inv(env, true, body, strlen(body), "timeout");
}

/* Pending invocations: time out the ones past their deadline (their environment never
 * asked for them: a runtime that does not call /next), and start fresh environments when
 * the returning ones have not come back within a grace period. */
static void pending_tick(struct lambda_fn *fn, int64_t now)
{
    while (fn->pending.head && now >= fn->pending.head->wait_deadline_ms) {
        struct lambda_inv *inv = fn->pending.head;
        /* the environment started for it is stuck in init: reset it */
        for (struct lambda_env *e = fn->envs; e; e = e->next) {
            if (e->state == ENV_STARTING && e->killed == KILL_NONE) {
                env_kill(e, KILL_RETIRE);
                break;
            }
        }
        if (!inv->init_retried) {
            /* init took 10 s: AWS retries it within the invoke, bounded by the timeout */
            inv->init_retried = true;
            inv->wait_deadline_ms = now + (int64_t)fn->timeout * 1000;
            LOG_WARN("init_timeout", inv->rid, "%s: init exceeded 10 s, retrying", fn->name);
            break;
        }
        q_pop(&fn->pending);
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"errorType\":\"Sandbox.Timedout\",\"errorMessage\":\"RequestId: %s Error: "
                 "Task timed out after %d.00 seconds\"}",
                 inv->rid, fn->timeout);
        LOG_WARN("invoke_timeout", inv->rid, "%s: no environment took the event", fn->name);
        lambda__finish(inv, true, body, strlen(body));
    }
    if (fn->pending.head && now - fn->pending.head->queued_ms >= 20)
        fn_spawn(fn, true);
}

void lambda_tick(struct lambda *lm)
{
    int64_t now = clock_mono_ms();
    bool slow = now - lm->last_slow_tick >= 100;
    if (slow)
        lm->last_slow_tick = now;
    /* an invocation running for 10 ms or more has its process tree's memory sampled every
     * 5 ms (a tree can balloon fast); every environment is sampled every 100 ms */
    int64_t real_ms = clock_mono_ns() / 1000000;
    bool mem_busy = real_ms - lm->last_mem_tick >= 5;
    if (mem_busy)
        lm->last_mem_tick = real_ms;
    for (int b = 0; b < NBUCKETS; b++) {
        struct lambda_fn *fn = lm->buckets[b];
        while (fn != NULL) {
            struct lambda_fn *fnext = fn->hnext;
            struct lambda_env *e = fn->envs;
            while (e != NULL) {
                struct lambda_env *enext = e->next;
                if (e->state == ENV_BUSY && e->inv && now >= e->inv->deadline_ms &&
                    e->killed == KILL_NONE) {
                    env_timeout(e);
                } else if ((mem_busy && e->state == ENV_BUSY && e->inv &&
                            clock_mono_ns() - e->inv_start_ns >= 10000000) ||
                           slow) {
                    if (e->killed != KILL_NONE) {
                        e = enext;
                        continue;
                    }
                    long rss = tree_rss_kb(e), hwm_kb, self_kb;
                    if (slow)
                        read_mem(e, &hwm_kb, &self_kb); /* refreshes last_hwm_kb */
                    if (rss > e->peak_tree_kb)
                        e->peak_tree_kb = rss;
                    if (rss > (long)fn->memory * 1024) {
                        LOG_WARN("env_oom", e->inv ? e->inv->rid : NULL,
                                 "%s pid=%d rss=%ld kB over %d MB", fn->name, e->pid, rss,
                                 fn->memory);
                        if (e->inv)
                            env_logf(e,
                                     "RequestId: %s Error: Runtime exited with error: signal: "
                                     "killed",
                                     e->inv->rid);
                        env_kill(e, KILL_OOM);
                    } else if (slow && e->state == ENV_IDLE && lm->opt.idle_seconds > 0 &&
                               now - e->idle_since_ms >= (int64_t)lm->opt.idle_seconds * 1000) {
                        env_kill(e, KILL_REAP);
                    }
                }
                e = enext;
            }
            if (fn->pending.head != NULL)
                pending_tick(fn, now);
            if (fn->events.head != NULL)
                dispatch_events(lm, fn);
            fn = fnext;
        }
    }
}

bool lambda_drain(struct lambda *lm)
{
    lm->draining = true;
    for (int b = 0; b < NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            if (fn->inflight > 0)
                return false;
    return true;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void restore_fn(void *arg, const char *key, const char *value, size_t len)
{
    struct lambda *lm = arg;
    json_t *j = jsonh_parse(value, len, NULL, 0);
    if (!json_is_object(j) || lambda_fn_find(lm, key)) {
        json_decref(j);
        return;
    }
    struct lambda_fn *fn = fn_alloc(lm, key);
    if (fn == NULL) {
        json_decref(j);
        return;
    }
    snprintf(fn->runtime, sizeof(fn->runtime), "%s", jsonh_str(j, "runtime", "provided.al2023"));
    fn->role = xstrdup(jsonh_str(j, "role", NULL));
    fn->handler = xstrdup(jsonh_str(j, "handler", NULL));
    fn->description = xstrdup(jsonh_str(j, "description", NULL));
    snprintf(fn->arch, sizeof(fn->arch), "%s", jsonh_str(j, "arch", "x86_64"));
    long long v;
    if (jsonh_int(j, "timeout", &v) == 1)
        fn->timeout = (int)v;
    if (jsonh_int(j, "memory", &v) == 1)
        fn->memory = (int)v;
    if (jsonh_int(j, "code_size", &v) == 1)
        fn->code_size = v;
    if (jsonh_int(j, "last_modified", &v) == 1)
        fn->last_modified = v;
    if (jsonh_int(j, "reserved", &v) == 1)
        fn->reserved = (int)v;
    json_t *env = json_object_get(j, "env");
    if (json_is_object(env))
        fn->env_vars = json_incref(env);
    json_t *tags = json_object_get(j, "tags");
    if (json_is_object(tags))
        fn->tags = json_incref(tags);
    snprintf(fn->code_dir, sizeof(fn->code_dir), "%s", jsonh_str(j, "code_dir", ""));
    snprintf(fn->sha, sizeof(fn->sha), "%s", jsonh_str(j, "sha", ""));
    snprintf(fn->key_id, sizeof(fn->key_id), "%s", jsonh_str(j, "key", fn->key_id));
    snprintf(fn->secret, sizeof(fn->secret), "%s", jsonh_str(j, "secret", fn->secret));
    snprintf(fn->token, sizeof(fn->token), "%s", jsonh_str(j, "token", fn->token));
    if (fn->reserved >= 0)
        lm->reserved_total += fn->reserved;
    fn_insert(lm, fn);
    json_decref(j);
}

static void restore_event(void *arg, const char *key, const char *value, size_t len)
{
    struct lambda *lm = arg;
    const char *nl1 = memchr(value, '\n', len);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - value)) : NULL;
    if (nl2 == NULL)
        return;
    char name[80];
    snprintf(name, sizeof(name), "%.*s", (int)(nl1 - value), value);
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL) {
        store_delete(lm->store, "event", key);
        return;
    }
    struct lambda_inv *inv = calloc(1, sizeof(*inv));
    size_t plen = len - (size_t)(nl2 + 1 - value);
    if (inv == NULL || (inv->payload = malloc(plen + 1)) == NULL) {
        free(inv);
        return;
    }
    snprintf(inv->rid, sizeof(inv->rid), "%s", key);
    memcpy(inv->payload, nl2 + 1, plen);
    inv->payload[plen] = '\0';
    inv->len = plen;
    inv->fn = fn;
    inv->type = LAMBDA_INV_EVENT;
    inv->attempt = (int)strtol(nl1 + 1, NULL, 10);
    if (inv->attempt < 0 || inv->attempt > 2)
        inv->attempt = 2;
    buf_init(&inv->tail, 8 * TAIL_BYTES);
    q_push(&fn->events, inv);
}

struct lambda *lambda_new(const struct lambda_options *opt, const struct lambda_host *host,
                          struct logs *logs, struct store *store)
{
    struct lambda *lm = calloc(1, sizeof(*lm));
    if (lm == NULL)
        return NULL;
    lm->opt = *opt;
    snprintf(lm->region, sizeof(lm->region), "%s", opt->region ? opt->region : "us-east-1");
    snprintf(lm->state_dir, sizeof(lm->state_dir), "%s", opt->state_dir ? opt->state_dir : ".");
    lm->opt.region = lm->region;
    lm->opt.state_dir = lm->state_dir;
    if (lm->opt.account_concurrency <= 0)
        lm->opt.account_concurrency = 1000;
    lm->host = *host;
    lm->logs = logs;
    lm->store = store;
    return lm;
}

void lambda_restore(struct lambda *lm)
{
    if (lm->store == NULL)
        return;
    store_each(lm->store, "function", restore_fn, lm);
    store_each(lm->store, "event", restore_event, lm);
}

void lambda_free(struct lambda *lm)
{
    if (lm == NULL)
        return;
    for (int b = 0; b < NBUCKETS; b++) {
        struct lambda_fn *fn = lm->buckets[b];
        while (fn) {
            struct lambda_fn *n = fn->hnext;
            struct lambda_env *e = fn->envs;
            while (e) {
                struct lambda_env *en = e->next;
                if (e->pid > 0) {
                    kill(-e->pid, SIGKILL);
                    waitpid(e->pid, NULL, 0);
                }
                if (e->inv) {
                    e->inv->done = NULL;
                    inv_free(e->inv);
                }
                e->inv = NULL;
                e->state = ENV_DEAD;
                env_destroy(e);
                e = en;
            }
            struct lambda_inv *inv;
            while ((inv = q_pop(&fn->pending)) != NULL)
                inv_free(inv);
            while ((inv = q_pop(&fn->events)) != NULL)
                inv_free(inv);
            fn_free(fn);
            fn = n;
        }
    }
    free(lm);
}
