/*
 * env.c — execution environments: one runtime process (`bootstrap`) and whatever it starts,
 * its Runtime API listener, its output split into CloudWatch Logs lines, its memory watched
 * over the whole process tree, and the Runtime API calls it makes.
 *
 * Process trees: the runtime leads its own process group, and the daemon is the subreaper of
 * everything its environments start, so descendants that leave the group (setsid, double
 * fork) are still the daemon's to reap. Every process seen in an environment's tree is
 * recorded (in memory, and in the store with its start time) so the whole tree is killed
 * when the environment ends — and a daemon restarted after a crash kills what its
 * predecessor's environments left running.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/sched.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloud/lambda/lambda_int.h"
#include "cloud/logs/logs.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"
#include "core/str.h"

enum {
    WALK_MAX = 1024,         /* processes a tree walk visits (pids.max is 1024 in a cgroup) */
    WALK_TEXT = 16384,       /* /proc/<pid>/task/<pid>/children, statm */
    ADOPT_EVERY_MS = 5,      /* orphans are looked for at most this often */
    ORPHAN_UNREAD_MS = 2000, /* an orphan younger than this whose variables read empty is
                              * looked at again; older, it cleared them and is killed */
    LINE_MAX_BYTES = 256 * 1024,
    SAMPLE_MS = 5,        /* memory of a busy environment's tree: first this often, */
    SAMPLE_MAX_MS = 40,   /* ... then half as often each time, down to this */
    SAMPLE_AFTER_MS = 10, /* ... once its invocation ran this long */
    SWEEP_MS = 1000,      /* every environment, busy or not */
    SWEEP_BATCH = 8,      /* environments a sweep's turn looks at, at most (unless there are
                           * more than SWEEP_TURNS of these): a turn is some 15 system calls an
                           * environment, and requests wait behind it */
    SWEEP_TURNS = 8,      /* turns a round of the sweep takes at most */
};

/* ---- logging ---- */

static void log_fn(struct lambda_fn *fn, const char *stream, const char *msg, size_t len)
{
    char group[96];
    struct strb g;
    strb_init(&g, group, sizeof group);
    strb_puts(&g, "/aws/lambda/");
    strb_puts(&g, fn->name);
    if (fn->lm->logs)
        logs_put(fn->lm->logs, group, stream, clock_now_ms(), msg, len);
}

/* Appends a line to the invocation's tail capture, keeping at most a few KB. */
static void tail_add(struct lambda_inv *inv, const char *line, size_t len)
{
    if (inv == NULL || !inv->want_tail)
        return;
    if (len > LAMBDA_TAIL_BYTES) {
        line += len - LAMBDA_TAIL_BYTES;
        len = LAMBDA_TAIL_BYTES;
    }
    if (inv->tail.len + len + 1 > 4 * LAMBDA_TAIL_BYTES) {
        size_t keep = LAMBDA_TAIL_BYTES < inv->tail.len ? LAMBDA_TAIL_BYTES : inv->tail.len;
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

void lambda__env_logf(struct lambda_env *env, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    env_log(env, line, (size_t)n);
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

static void on_output(struct lambda_env *env, struct buf *lb, void **watch, const char *d, size_t n)
{
    if (n > 0) {
        env_lines(env, lb, d, n);
        return;
    }
    if (lb->len)
        env_log(env, lb->data, lb->len);
    buf_reset(lb);
    env->lm->host.unwatch(*watch);
    *watch = NULL;
}

static void env_on_out(void *arg, const char *d, size_t n)
{
    struct lambda_env *env = arg;
    on_output(env, &env->line_out, &env->w_out, d, n);
}

static void env_on_err(void *arg, const char *d, size_t n)
{
    struct lambda_env *env = arg;
    on_output(env, &env->line_err, &env->w_err, d, n);
}

/* Drains what the child already wrote, so its lines precede END/REPORT. */
static void drain_output(struct lambda_env *env)
{
    char chunk[16384];
    for (int round = 0; round < 16; round++) {
        bool any = false;
        /* the fds belong to the watches; reading directly keeps the order of bytes. One poll
         * asks both pipes (nearly always empty: one system call per invocation, not two) */
        struct pollfd p[2] = {{.fd = env->w_out ? env->fd_out : -1, .events = POLLIN},
                              {.fd = env->w_err ? env->fd_err : -1, .events = POLLIN}};
        if (poll(p, 2, 0) <= 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            ssize_t n = read(p[i].fd, chunk, sizeof chunk);
            if (n > 0) {
                env_lines(env, i == 0 ? &env->line_out : &env->line_err, chunk, (size_t)n);
                any = true;
            }
        }
        if (!any)
            break;
    }
}

/* ---- processes ---- */

/* One read of an open /proc file from its start into text (cap ≥ 1 bytes, NUL-terminated: the
 * kernel hands such a file over whole, afresh, in one read when it fits). Returns its length,
 * or -1 (the process is gone). */
static ssize_t pread_proc(int fd, char *text, size_t cap)
{
    ssize_t n = pread(fd, text, cap - 1, 0);
    if (n >= 0)
        text[n] = '\0';
    return n;
}

/* The same through a path: -1 also when it cannot be opened. */
static ssize_t read_proc(const char *path, char *text, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread_proc(fd, text, cap);
    close(fd);
    return n;
}

/* A process's start time (field 22 of /proc/<pid>/stat, ticks since boot); 0 when gone. */
static unsigned long long proc_start(int pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_proc(path, text, sizeof text) <= 0)
        return 0;
    const char *p = strrchr(text, ')'); /* the command may hold spaces and parentheses */
    if (p == NULL)
        return 0;
    /* after ") " come fields 3.. ; the start time is field 22 */
    int field = 2;
    for (p++; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    return strtoull(p, NULL, 10);
}

/* How long ago a process that proc_start says started at start did, in ms. */
static int64_t age_ms(unsigned long long start)
{
    struct timespec ts;
    long tick = sysconf(_SC_CLK_TCK);
    if (tick <= 0 || clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
        return INT64_MAX;
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return now_ms - (int64_t)(start * 1000 / (unsigned long long)tick);
}

static void persist_pid(struct lambda *lm, const struct tree_pid *tp, bool add)
{
    if (lm->store == NULL)
        return;
    struct store_val v[2] = {store_int(tp->pid), store_int((int64_t)tp->start)};
    store_exec(lm->store, add ? lm->st_pid_put : lm->st_pid_del, v, 2, NULL, NULL);
}

/* Forgets recorded processes that are gone (or whose pid now names another process). */
static void tree_prune(struct lambda_env *env)
{
    int k = 0;
    for (int i = 0; i < env->ntree; i++) {
        if (proc_start(env->tree[i].pid) == env->tree[i].start)
            env->tree[k++] = env->tree[i];
        else
            persist_pid(env->lm, &env->tree[i], false);
    }
    env->ntree = k;
}

/* Records a process of the environment's tree (once). */
static void tree_add(struct lambda_env *env, int pid)
{
    for (int i = 0; i < env->ntree; i++)
        if (env->tree[i].pid == pid)
            return;
    if (env->ntree == LAMBDA_MAX_TREE)
        tree_prune(env);
    if (env->ntree == LAMBDA_MAX_TREE)
        return;
    unsigned long long start = proc_start(pid);
    if (start == 0)
        return;
    env->tree[env->ntree] = (struct tree_pid){pid, start};
    persist_pid(env->lm, &env->tree[env->ntree], true);
    env->ntree++;
}

/* Walks the live tree from the runtime (and from every recorded process, for those that left
 * it), recording what it finds; returns the resident memory of all of it, in kB. When inode
 * is not 0, *holder gets the first process found holding that socket. */
static long tree_walk_find(struct lambda_env *env, unsigned long inode, int *holder);

static long tree_walk(struct lambda_env *env)
{
    return tree_walk_find(env, 0, NULL);
}

static bool pid_holds_inode(int pid, unsigned long inode);

struct walk {
    int stack[WALK_MAX];
    int n;
};

static void push_member(void *arg, int pid)
{
    struct walk *w = arg;
    if (w->n < WALK_MAX)
        w->stack[w->n++] = pid;
}

/* /proc/<pid>/statm as read_proc reads it; the runtime's through the descriptor its
 * environment keeps. */
static ssize_t statm_read(const struct lambda_env *env, int pid, char *text, size_t cap)
{
    if (pid != env->pid || env->statm_fd < 0) {
        char path[96];
        snprintf(path, sizeof path, "/proc/%d/statm", pid);
        return read_proc(path, text, cap);
    }
    return pread_proc(env->statm_fd, text, cap);
}

static long tree_walk_find(struct lambda_env *env, unsigned long inode, int *holder)
{
    /* on the loop thread's stack: a busy environment is sampled every few milliseconds */
    struct walk w = {.n = 0};
    int visited[WALK_MAX];
    char text[WALK_TEXT];
    long total = 0;
    int seen = 0;
    long page_kb = sysconf(_SC_PAGESIZE) / 1024;
    /* the recorded processes (some may have left the tree), and in a cgroup every member:
     * every descendant is one, so the children files need not be read (but when looking for a
     * socket's holder, all are) */
    for (int i = 0; i < env->ntree; i++)
        push_member(&w, env->tree[i].pid);
    int members = lambda__cg_env_pids(env, push_member, &w);
    bool by_membership = members >= 0 && inode == 0;
    while (w.n > 0 && seen < WALK_MAX) {
        int pid = w.stack[--w.n];
        bool dup = false;
        for (int i = 0; i < seen && !dup; i++)
            dup = visited[i] == pid;
        if (dup)
            continue;
        visited[seen++] = pid;
        if (inode != 0 && *holder == 0 && pid_holds_inode(pid, inode))
            *holder = pid;
        if (statm_read(env, pid, text, WALK_TEXT) < 0)
            continue; /* gone */
        char *sp = strchr(text, ' ');
        if (sp)
            total += strtol(sp + 1, NULL, 10) * page_kb;
        if (by_membership) {
            tree_add(env, pid); /* recorded once, as a child found below would be */
            continue;
        }
        char path[96];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
        if (read_proc(path, text, WALK_TEXT) <= 0)
            continue;
        char *p = text, *end;
        while (w.n < WALK_MAX) {
            long c = strtol(p, &end, 10);
            if (end == p)
                break;
            w.stack[w.n++] = (int)c;
            tree_add(env, (int)c);
            p = end;
        }
    }
    return total;
}

/* Kills every process of the tree: the group, then each recorded process still the same. */
static void tree_kill(struct lambda_env *env)
{
    lambda__cg_kill(env->cg); /* everything in its cgroup, at once */
    if (env->pid > 0)
        kill(-env->pid, SIGKILL);
    tree_walk(env); /* finds children started since the last sample */
    for (int i = 0; i < env->ntree; i++) {
        struct tree_pid *t = &env->tree[i];
        if (proc_start(t->pid) == t->start)
            kill(t->pid, SIGKILL);
    }
}

/* Max memory (VmHWM) and current RSS in kB from /proc/<pid>/status. */
static void read_mem(struct lambda_env *env)
{
    if (env->status_fd < 0)
        return;
    char text[4096];
    if (pread_proc(env->status_fd, text, sizeof text) <= 0)
        return;
    const char *p = strstr(text, "VmHWM:");
    long hwm = p ? strtol(p + 6, NULL, 10) : 0;
    if (hwm > env->last_hwm_kb)
        env->last_hwm_kb = hwm;
}

/* ---- orphans: what escaped a tree before it was sampled ---- */

static bool is_known(struct lambda *lm, int pid)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            for (struct lambda_env *e = fn->envs; e; e = e->next) {
                if (e->pid == pid)
                    return true;
                for (int i = 0; i < e->ntree; i++)
                    if (e->tree[i].pid == pid)
                        return true;
            }
    return false;
}

static bool is_zombie(int pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (read_proc(path, text, sizeof text) <= 0)
        return true; /* gone */
    const char *p = strrchr(text, ')');
    return p == NULL || p[1] == '\0' || p[2] == 'Z';
}

/* The environment whose log stream a process's variables name (one per environment).
 * *unread is set when the variables could not be read, or read empty: a process in the
 * middle of an exec shows none for a moment (its new image's are not laid out yet). */
static struct lambda_env *env_of_orphan(struct lambda *lm, int pid, bool *unread)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/environ", pid);
    *unread = true;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *text = malloc(WALK_TEXT * 4);
    ssize_t n = text ? read(fd, text, WALK_TEXT * 4 - 1) : -1;
    close(fd);
    *unread = n <= 0;
    struct lambda_env *found = NULL;
    static const char key[] = "AWS_LAMBDA_LOG_STREAM_NAME=";
    for (ssize_t i = 0; n > 0 && i < n && found == NULL;
         i += (ssize_t)strnlen(text + i, (size_t)(n - i)) + 1) {
        size_t len = strnlen(text + i, (size_t)(n - i));
        if (len <= sizeof key - 1 || memcmp(text + i, key, sizeof key - 1) != 0)
            continue;
        const char *v = text + i + sizeof key - 1;
        size_t vl = len - (sizeof key - 1);
        for (int b = 0; b < LAMBDA_NBUCKETS && found == NULL; b++)
            for (struct lambda_fn *fn = lm->buckets[b]; fn && found == NULL; fn = fn->hnext)
                for (struct lambda_env *e = fn->envs; e && found == NULL; e = e->next)
                    if (strlen(e->stream) == vl && memcmp(e->stream, v, vl) == 0)
                        found = e;
    }
    free(text);
    return found;
}

/*
 * Processes the daemon adopted as subreaper that are no runtime and no recorded member of a
 * tree escaped one (setsid and a double fork) before a sample saw them: each goes to the
 * environment its variables name, and is counted and killed with it from then on; one that
 * names none (its environment is gone, or it cleared its variables) is killed. Not needed
 * with cgroups (membership cannot be left). At most every ADOPT_EVERY_MS.
 */
static void adopt_orphans(struct lambda *lm)
{
    static int64_t last;
    int64_t now = clock_real_mono_ms();
    if (lm->cg_mode != CG_NONE || now - last < ADOPT_EVERY_MS)
        return;
    last = now;
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return;
    char *text = malloc(WALK_TEXT);
    struct dirent *t;
    while (text != NULL && (t = readdir(d)) != NULL) {
        if (t->d_name[0] == '.')
            continue;
        char path[320];
        snprintf(path, sizeof path, "/proc/self/task/%s/children", t->d_name);
        if (read_proc(path, text, WALK_TEXT) <= 0)
            continue;
        char *p = text, *end;
        for (long c; (c = strtol(p, &end, 10)), end != p; p = end) {
            int pid = (int)c;
            if (is_known(lm, pid) || is_zombie(pid))
                continue; /* a zombie is reaped on its SIGCHLD */
            bool unread;
            struct lambda_env *env = env_of_orphan(lm, pid, &unread);
            unsigned long long start;
            if (env != NULL) {
                LOG_INFO("orphan", NULL, "%s: pid %d left its environment's tree; kept with it",
                         env->fn->name, pid);
                tree_add(env, pid);
            } else if ((start = proc_start(pid)) == 0) {
                continue; /* gone meanwhile */
            } else if (unread && age_ms(start) < ORPHAN_UNREAD_MS) {
                continue; /* mid-exec, most likely: looked at again next time */
            } else {
                LOG_WARN("orphan", NULL, "pid %d left a tree whose environment is gone: killed",
                         pid);
                kill(pid, SIGKILL);
            }
        }
    }
    free(text);
    closedir(d);
}

/* Samples the tree's memory; kills the environment past the function's memory size. */
static void check_memory(struct lambda_env *env)
{
    if (env->killed != KILL_NONE)
        return;
    adopt_orphans(env->lm);
    long rss = tree_walk(env);
    if (rss > env->peak_tree_kb)
        env->peak_tree_kb = rss;
    if (rss <= (long)env->fn->memory * 1024)
        return;
    LOG_WARN("env_oom", env->inv ? env->inv->rid : NULL, "%s pid=%d rss=%ld kB over %d MB",
             env->fn->name, env->pid, rss, env->fn->memory);
    if (env->inv)
        lambda__env_logf(env, "RequestId: %s Error: Runtime exited with error: signal: killed",
                         env->inv->rid);
    lambda__env_kill(env, KILL_OOM);
}

static void on_sample(struct timer *t)
{
    struct lambda_env *env = t->data;
    check_memory(env);
    if (env->state == ENV_BUSY && env->killed == KILL_NONE) {
        timer_start(t, env->sample_ms);
        env->sample_ms = env->sample_ms * 2 > SAMPLE_MAX_MS ? SAMPLE_MAX_MS : env->sample_ms * 2;
    }
}

/* The number of turns a round of the sweep takes for n environments: one for up to
 * SWEEP_BATCH, more (up to SWEEP_TURNS) beyond, so that no turn stalls the loop long. */
static int sweep_turns(int n)
{
    int turns = (n + SWEEP_BATCH - 1) / SWEEP_BATCH;
    return turns < 1 ? 1 : turns > SWEEP_TURNS ? SWEEP_TURNS : turns;
}

/* One turn of the sweep: the next environments not yet looked at in this round (each once a
 * round, a round every SWEEP_MS); a turn that finds none left starts the next round. */
void lambda__sweep(struct lambda *lm)
{
    lambda__cg_sweep(lm);
    int turns = sweep_turns(lm->n_envs);
    int budget = (lm->n_envs + turns - 1) / turns;
    bool left = false;
    for (int b = 0; b < LAMBDA_NBUCKETS && !left; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn && !left; fn = fn->hnext)
            for (struct lambda_env *e = fn->envs; e; e = e->next) {
                if (e->swept_round == lm->sweep_round)
                    continue;
                if (budget == 0) {
                    left = true;
                    break;
                }
                budget--;
                e->swept_round = lm->sweep_round;
                tree_prune(e);
                read_mem(e);
                check_memory(e);
            }
    if (!left)
        lm->sweep_round++;
    if (lm->n_envs > 0)
        timer_start(&lm->sweep, SWEEP_MS / turns);
}

static void on_reap(struct timer *t)
{
    struct lambda_env *env = t->data;
    if (env->state == ENV_IDLE && !env->provisioned)
        lambda__env_kill(env, KILL_REAP);
}

static void on_deadline(struct timer *t);

/* ---- spawning ---- */

static void put_env(char **envp, size_t *n, size_t cap, const char *k, const char *v)
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

static void free_envp(char **envp)
{
    if (envp == NULL)
        return;
    for (char **p = envp; *p; p++)
        free(*p);
    free(envp);
}

static char **build_envp(struct lambda_env *env)
{
    struct lambda_fn *fn = env->fn;
    struct lambda_fn *base = fn->base;
    struct lambda *lm = env->lm;
    size_t cap = 48 + (fn->env_vars ? json_object_size(fn->env_vars) : 0);
    char **envp = calloc(cap, sizeof(char *));
    if (envp == NULL)
        return NULL;
    size_t n = 0;
    char tmp[PATH_MAX * 3 + 64];
    /* the layers: at /opt in the environment's mount namespace, else where the merge is */
    bool opt_env = env->opt_dir[0] != '\0' && lm->opt_mode == OPT_ENV;
    const char *opt = opt_env ? env->opt_dir : "/opt";
    /* the function's own variables first: reserved names below take precedence */
    if (fn->env_vars) {
        const char *k;
        json_t *v;
        json_object_foreach(fn->env_vars, k, v) put_env(envp, &n, cap, k, json_string_value(v));
    }
    put_env(envp, &n, cap, "_HANDLER", fn->handler ? fn->handler : "");
    put_env(envp, &n, cap, "AWS_REGION", lm->region);
    put_env(envp, &n, cap, "AWS_DEFAULT_REGION", lm->region);
    snprintf(tmp, sizeof tmp, "AWS_Lambda_%s", fn->runtime);
    put_env(envp, &n, cap, "AWS_EXECUTION_ENV", tmp);
    put_env(envp, &n, cap, "AWS_LAMBDA_FUNCTION_NAME", fn->name);
    snprintf(tmp, sizeof tmp, "%d", fn->memory);
    put_env(envp, &n, cap, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", tmp);
    put_env(envp, &n, cap, "AWS_LAMBDA_FUNCTION_VERSION", fn->qual);
    put_env(envp, &n, cap, "AWS_LAMBDA_INITIALIZATION_TYPE",
            env->provisioned ? "provisioned-concurrency" : "on-demand");
    snprintf(tmp, sizeof tmp, "/aws/lambda/%s", fn->name);
    put_env(envp, &n, cap, "AWS_LAMBDA_LOG_GROUP_NAME", tmp);
    put_env(envp, &n, cap, "AWS_LAMBDA_LOG_STREAM_NAME", env->stream);
    put_env(envp, &n, cap, "AWS_ACCESS_KEY_ID", base->key_id);
    put_env(envp, &n, cap, "AWS_SECRET_ACCESS_KEY", base->secret);
    put_env(envp, &n, cap, "AWS_SESSION_TOKEN", base->token);
    snprintf(tmp, sizeof tmp, "127.0.0.1:%u", env->port);
    put_env(envp, &n, cap, "AWS_LAMBDA_RUNTIME_API", tmp);
    put_env(envp, &n, cap, "LAMBDA_TASK_ROOT", env->code_dir);
    put_env(envp, &n, cap, "LAMBDA_RUNTIME_DIR", env->code_dir);
    put_env(envp, &n, cap, "TZ", ":UTC");
    put_env(envp, &n, cap, "LANG", "en_US.UTF-8");
    snprintf(tmp, sizeof tmp, "/usr/local/bin:/usr/bin/:/bin:%s/bin", opt);
    put_env(envp, &n, cap, "PATH", tmp);
    snprintf(tmp, sizeof tmp, "%s/lib:%s:/lib64:/usr/lib64:%s/lib", env->code_dir, env->code_dir,
             opt);
    put_env(envp, &n, cap, "LD_LIBRARY_PATH", tmp);
    if (opt_env)
        put_env(envp, &n, cap, "HAAR_OPT_DIR", env->opt_dir);
    snprintf(tmp, sizeof tmp, "http://127.0.0.1:%u", lm->opt.aws_port);
    put_env(envp, &n, cap, "AWS_ENDPOINT_URL", tmp);
    return envp;
}

/* What the child needs to enter /opt's mount namespace (built before vfork: the child only
 * makes system calls). */
struct opt_entry {
    const char *dir; /* NULL: no namespace */
    bool userns;
    char uid_map[48], gid_map[48];
};

/*
 * Starts the runtime (bootstrap, or an interpreter with its client: argv) in its own process
 * group with the environment's stdout/stderr pipes. vfork: the parent resumes once the child
 * has exec'd (or failed), so the environment's pid never names a copy of the daemon (whose
 * memory would count against the limit), and no page tables are copied. The child only makes
 * plain system calls before execve. Kept apart from the caller so no caller variable lives
 * across vfork.
 */
static pid_t __attribute__((noinline))
spawn_child(const char *exe, char *const *argv, char **envp, int out_w, int err_w, const char *dir,
            pid_t parent, int cg_procs, int cg_dir, const struct opt_entry *opt)
{
    /* Born in the environment's cgroup (clone3 CLONE_INTO_CGROUP): moving a process there
     * afterwards (a write to cgroup.procs) waits for an RCU grace period, ~10 ms of every cold
     * start. clone3 without CLONE_VM copies the page tables (a fork, well under that); where
     * the kernel has no clone3, vfork and the write. */
    pid_t pid = -1;
    if (cg_dir >= 0) {
        struct clone_args ca = {.flags = CLONE_VFORK | CLONE_INTO_CGROUP,
                                .exit_signal = SIGCHLD,
                                .cgroup = (uint64_t)cg_dir};
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
        if (pid > 0)
            return pid;
    }
    if (pid != 0) {
        pid = vfork();
        if (pid != 0)
            return pid;
        if (cg_procs >= 0) { /* into the environment's cgroup before anything can fork */
            ssize_t w = write(cg_procs, "0", 1);
            (void)w;
        }
    }
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    umask(022); /* the daemon's own 077 is for its state, not the function's files */
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_w, 1);
    dup2(err_w, 2);
    close_range(3, ~0U, 0);
    if (opt->dir != NULL &&
        lambda__opt_enter(opt->dir, opt->userns, opt->uid_map, opt->gid_map) != 0) {
        static const char msg[] = "haar: cannot mount the function's layers on /opt\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
        _exit(127);
    }
    if (chdir(dir) != 0)
        _exit(127);
    execve(exe, argv, envp);
    static const char msg[] = "exec bootstrap failed\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

bool lambda__env_room(const struct lambda_fn *fn)
{
    const struct lambda *lm = fn->lm;
    const struct lambda_fn *base = fn->base;
    if (lm->n_envs >= lm->opt.account_concurrency)
        return false;
    return base->reserved < 0 || base->total_envs < base->reserved;
}

int lambda__env_command(struct lambda_fn *fn, struct lambda_env_cmd *cmd, char *msg, size_t msglen)
{
    struct lambda *lm = fn->lm;
    if (!lambda__managed_runtime(fn->runtime)) {
        snprintf(cmd->exe, sizeof cmd->exe, "%s/bootstrap", fn->code_dir);
        cmd->client[0] = '\0';
        return 0;
    }
    const struct lambda_interp *it = lambda__interp_for(lm, fn->runtime, msg, msglen);
    if (it == NULL)
        return -1;
    if (lambda__runtime_client(lm, fn->runtime, cmd->client, sizeof cmd->client) != 0) {
        snprintf(msg, msglen,
                 "The runtime client for %s is missing (%s): haar's runtimes/ folder must sit "
                 "next to its bin/ folder",
                 fn->runtime, cmd->client);
        return -1;
    }
    snprintf(cmd->exe, sizeof cmd->exe, "%s", it->path);
    return 0;
}

struct lambda_env *lambda__env_spawn(struct lambda_fn *fn, bool provisioned,
                                     const struct lambda_env_cmd *cmd)
{
    struct lambda *lm = fn->lm;
    struct lambda_env *env = calloc(1, sizeof *env);
    int out[2] = {-1, -1}, err[2] = {-1, -1}, cg_procs = -1, cg_dir = -1;
    char **envp = NULL;
    if (env == NULL)
        return NULL;
    env->lm = lm;
    env->fn = fn;
    env->status_fd = env->statm_fd = env->cg_procs_fd = -1;
    env->generation = fn->generation;
    env->provisioned = provisioned;
    snprintf(env->code_dir, sizeof env->code_dir, "%s", fn->code_dir);
    snprintf(env->opt_dir, sizeof env->opt_dir, "%s", fn->opt_dir);
    buf_init(&env->line_out, LINE_MAX_BYTES);
    buf_init(&env->line_err, LINE_MAX_BYTES);
    if (timer_init(&env->deadline, TIMER_REAL, on_deadline, env) != 0 ||
        timer_init(&env->sample, TIMER_REAL, on_sample, env) != 0 ||
        timer_init(&env->reap, TIMER_REAL, on_reap, env) != 0)
        goto fail;
    char ymd[16], hex[33];
    clock_format_ymd_slash(clock_now_ms(), ymd, sizeof ymd);
    ids_hex(hex, 16);
    snprintf(env->stream, sizeof env->stream, "%s/[%s]%s", ymd, fn->qual, hex);
    if (lm->host.env_listen(lm->host.arg, env, &env->port, &env->listener) != 0)
        goto fail;
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
        goto fail;
    envp = build_envp(env);
    if (envp == NULL)
        goto fail;
    char *argv[3] = {cmd->client[0] ? (char *)cmd->exe : "bootstrap",
                     cmd->client[0] ? (char *)cmd->client : NULL, NULL};
    struct opt_entry oe = {NULL, false, "", ""};
    if (env->opt_dir[0] != '\0' && lm->opt_mode == OPT_MOUNT) {
        oe.dir = env->opt_dir;
        oe.userns = geteuid() != 0;
        snprintf(oe.uid_map, sizeof oe.uid_map, "%u %u 1\n", (unsigned)getuid(),
                 (unsigned)getuid());
        snprintf(oe.gid_map, sizeof oe.gid_map, "%u %u 1\n", (unsigned)getgid(),
                 (unsigned)getgid());
    }
    env->spawned_ns = clock_mono_ns();
    cg_procs = lambda__cg_env_open(env);
    if (cg_procs >= 0)
        cg_dir = open(env->cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    pid_t pid = spawn_child(cmd->exe, argv, envp, out[1], err[1], env->code_dir, getpid(), cg_procs,
                            cg_dir, &oe);
    if (cg_procs >= 0)
        close(cg_procs);
    if (cg_dir >= 0)
        close(cg_dir);
    cg_procs = cg_dir = -1;
    if (pid < 0)
        goto fail;
    setpgid(pid, pid); /* also from here, so kill(-pid) works at once */
    env->pid = pid;
    tree_add(env, pid);
    env->start = env->ntree ? env->tree[0].start : 0;
    free_envp(envp);
    envp = NULL;
    close(out[1]);
    close(err[1]);
    env->fd_out = out[0];
    env->fd_err = err[0];
    env->w_out = lm->host.watch(lm->host.arg, out[0], env_on_out, env);
    env->w_err = lm->host.watch(lm->host.arg, err[0], env_on_err, env);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    env->status_fd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%d/statm", pid);
    env->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
    env->state = ENV_STARTING;
    env->cold_pending = true;
    env->next = fn->envs;
    fn->envs = env;
    fn->base->total_envs++;
    fn->n_starting++;
    lm->n_envs++;
    if (!timer_pending(&lm->sweep))
        timer_start(&lm->sweep, SWEEP_MS);
    LOG_DEBUG("env_start", NULL, "%s pid=%d port=%u", fn->name, pid, env->port);
    return env;
fail:
    LOG_ERROR("env_start", NULL, "%s: cannot start environment: %s", fn->name, strerror(errno));
    free_envp(envp);
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
    lambda__cg_env_release(env);
    timer_destroy(&env->deadline);
    timer_destroy(&env->sample);
    timer_destroy(&env->reap);
    buf_destroy(&env->line_out);
    buf_destroy(&env->line_err);
    free(env);
    return NULL;
}

void lambda__env_kill(struct lambda_env *env, enum env_kill why)
{
    if (env->pid > 0 && env->killed == KILL_NONE) {
        env->killed = why;
        tree_kill(env);
    }
}

static void abort_waiters(struct lambda_env *env)
{
    while (env->waiters) {
        struct lambda_next_waiter *w = env->waiters;
        env->waiters = w->next;
        w->next = NULL;
        w->abort(w);
    }
}

static void remove_idle(struct lambda_env *env)
{
    struct lambda_env **pp = &env->fn->idle;
    while (*pp && *pp != env)
        pp = &(*pp)->idle_next;
    if (*pp)
        *pp = env->idle_next;
    env->idle_next = NULL;
}

void lambda__env_destroy(struct lambda_env *env)
{
    struct lambda *lm = env->lm;
    struct lambda_fn *fn = env->fn;
    struct lambda_env **pp = &fn->envs;
    while (*pp && *pp != env)
        pp = &(*pp)->next;
    if (*pp)
        *pp = env->next;
    remove_idle(env);
    fn->base->total_envs--;
    lm->n_envs--;
    if (env->state == ENV_STARTING)
        fn->n_starting--;
    abort_waiters(env);
    lm->host.env_unlisten(lm->host.arg, env->listener);
    if (env->w_out)
        lm->host.unwatch(env->w_out);
    if (env->w_err)
        lm->host.unwatch(env->w_err);
    if (env->status_fd >= 0)
        close(env->status_fd);
    if (env->statm_fd >= 0)
        close(env->statm_fd);
    for (int i = 0; i < env->ntree; i++)
        persist_pid(lm, &env->tree[i], false);
    lambda__cg_env_release(env);
    timer_destroy(&env->deadline);
    timer_destroy(&env->sample);
    timer_destroy(&env->reap);
    buf_destroy(&env->line_out);
    buf_destroy(&env->line_err);
    free(env->init_error);
    /* code the function no longer uses goes once its last environment does */
    if (strcmp(env->code_dir, fn->code_dir) != 0 || fn->deleted)
        lambda__code_release(lm, env->code_dir);
    if (env->opt_dir[0] != '\0' && (strcmp(env->opt_dir, fn->opt_dir) != 0 || fn->deleted)) {
        env->pid = 0;
        lambda__opt_release(lm, env->opt_dir);
    }
    /* a provisioned environment lost: another one takes its place (after a pause, so an
     * init that keeps failing does not spin) */
    if (env->provisioned && !fn->deleted && !lm->draining) {
        if (env->state == ENV_STARTING)
            fn->pc_failures++;
        timer_start(&fn->pc_timer, env->killed == KILL_REAP ? 0 : 1000);
    }
    free(env);
}

/* ---- the Runtime API side ---- */

int lambda_env_pid(const struct lambda_env *env)
{
    return env->pid;
}

/* The socket inode of the connection whose peer end is fd's: found with sock_diag by the
 * 4-tuple (the peer is local). 0 when not found. */
static unsigned long peer_inode(int fd)
{
    struct sockaddr_in self, peer;
    socklen_t sl = sizeof self, pl = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&self, &sl) != 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 || self.sin_family != AF_INET)
        return 0;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return 0;
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
    } q = {.h = {.nlmsg_len = sizeof q,
                 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                 .nlmsg_flags = NLM_F_REQUEST},
           .r = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0U}};
    /* the peer's socket: its source is the peer address, its destination us */
    q.r.id.idiag_sport = peer.sin_port;
    q.r.id.idiag_dport = self.sin_port;
    q.r.id.idiag_src[0] = peer.sin_addr.s_addr;
    q.r.id.idiag_dst[0] = self.sin_addr.s_addr;
    q.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    q.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    unsigned long inode = 0;
    if (send(nl, &q, sizeof q, 0) == (ssize_t)sizeof q) {
        char resp[8192];
        ssize_t n = recv(nl, resp, sizeof resp, 0);
        for (struct nlmsghdr *h = (struct nlmsghdr *)resp; n > 0 && NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
                break;
            struct inet_diag_msg *m = NLMSG_DATA(h);
            inode = m->idiag_inode;
            break;
        }
    }
    close(nl);
    return inode;
}

static bool pid_holds_inode(int pid, unsigned long inode)
{
    char dir[64], want[48];
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[320], link[64];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n > 0) {
            link[n] = '\0';
            found = strcmp(link, want) == 0;
        }
    }
    closedir(d);
    return found;
}

/* Refusals are logged at most once a second (a process polling a Runtime API port it may
 * not use would otherwise fill the log), with how many went unlogged. */
static void log_refusal(struct lambda_env *env, unsigned long inode)
{
    static int64_t last_ms;
    static long unlogged;
    int64_t now = clock_real_mono_ms();
    if (last_ms != 0 && now - last_ms < 1000) {
        unlogged++;
        return;
    }
    LOG_WARN("runtime_api", NULL,
             "%s: refused a connection from a process outside the environment (socket %lu; "
             "%ld more refused since the last report)",
             env->fn->name, inode, unlogged);
    last_ms = now;
    unlogged = 0;
}

bool lambda_env_owns_peer(struct lambda_env *env, int fd)
{
    int64_t t0 = clock_mono_ns();
    unsigned long inode = peer_inode(fd);
    if (inode == 0 || env->pid <= 0) {
        log_refusal(env, inode);
        return false;
    }
    int holder = 0;
    tree_walk_find(env, inode, &holder); /* the process connecting may be new */
    if (holder != 0) {
        LOG_DEBUG("runtime_api", NULL, "%s: peer pid=%d checked in %.2f ms", env->fn->name, holder,
                  (double)(clock_mono_ns() - t0) / 1e6);
        return true;
    }
    log_refusal(env, inode);
    return false;
}

void lambda__env_deliver(struct lambda_env *env, struct lambda_inv *inv)
{
    struct lambda_fn *fn = env->fn;
    struct lambda_next_waiter *w = env->waiters;
    env->waiters = w->next;
    w->next = NULL;
    env->inv = inv;
    inv->env = env;
    env->state = ENV_BUSY;
    timer_stop(&env->reap);
    env->inv_start_ns = clock_mono_ns();
    timer_start(&env->deadline, (int64_t)fn->timeout * 1000);
    timer_start(&env->sample, SAMPLE_AFTER_MS);
    env->sample_ms = SAMPLE_MS;
    /* the runtime's deadline is true time, even under a manual clock */
    int64_t deadline_epoch = clock_real_now_ms() + (int64_t)fn->timeout * 1000;
    char line[512];
    struct strb l;
    strb_init(&l, line, sizeof line);
    strb_puts(&l, "START RequestId: ");
    strb_puts(&l, inv->rid);
    strb_puts(&l, " Version: ");
    strb_puts(&l, fn->qual);
    env_log(env, line, l.len);
    char root[IDS_TRACE_ROOT_LEN + 1], parent[17], trace[96];
    ids_trace_root(root);
    ids_hex(parent, 8);
    struct strb t;
    strb_init(&t, trace, sizeof trace);
    strb_puts(&t, root);
    strb_puts(&t, ";Parent=");
    strb_puts(&t, parent);
    strb_puts(&t, ";Sampled=0");
    w->deliver(w, inv->rid, deadline_epoch, inv->invoked_arn[0] ? inv->invoked_arn : fn->arn, trace,
               inv->client_context, inv->payload, inv->len);
}

/* The environment is ready for an event: it takes the next one, or waits idle. */
static void env_ready(struct lambda_env *env)
{
    struct lambda_fn *fn = env->fn;
    if (env->generation != fn->generation || fn->deleted) {
        abort_waiters(env);
        lambda__env_kill(env, KILL_RETIRE);
        return;
    }
    if (env->state != ENV_IDLE) {
        env->state = ENV_IDLE;
        env->idle_next = fn->idle;
        fn->idle = env;
        if (env->lm->opt.idle_seconds > 0 && !env->provisioned)
            timer_start(&env->reap, (int64_t)env->lm->opt.idle_seconds * 1000);
    }
    lambda__env_free(env);
}

void lambda_env_next(struct lambda_env *env, struct lambda_next_waiter *w)
{
    w->next = NULL;
    if (env->killed != KILL_NONE) {
        w->abort(w);
        return;
    }
    struct lambda_next_waiter **pp = &env->waiters;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    if (env->state == ENV_STARTING) {
        env->fn->n_starting--;
        env->init_ms = (double)(clock_mono_ns() - env->spawned_ns) / 1e6;
        read_mem(env);
        env->state = ENV_RETURNING;
    }
    if (env->state == ENV_BUSY) /* /next without an answer: keep waiting for it */
        return;
    env_ready(env);
}

void lambda_env_next_gone(struct lambda_env *env, struct lambda_next_waiter *w)
{
    struct lambda_next_waiter **pp = &env->waiters;
    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp == NULL)
        return;
    *pp = w->next;
    if (env->waiters == NULL && env->state == ENV_IDLE) {
        remove_idle(env);
        timer_stop(&env->reap);
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
        lambda__env_end_inv(env, true, big, sizeof big - 1, NULL);
        return ERR_LAMBDA_TOO_LARGE;
    }
    lambda__env_end_inv(env, false, body, len, NULL);
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
    snprintf(type, sizeof type, "%.*s", et ? (int)(et_len > 100 ? 100 : et_len) : 0, et ? et : "");
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
    lambda__env_end_inv(env, true, b ? b : "{}", b ? n : 2, "error");
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
    lambda__env_kill(env, KILL_REAP); /* the runtime is expected to exit; make sure it does */
    return ERR_OK;
}

/* ---- ending invocations ---- */

/* END + REPORT lines for the environment's current invocation. */
static void report(struct lambda_env *env, const char *status)
{
    struct lambda_inv *inv = env->inv;
    double dur = (double)(clock_mono_ns() - env->inv_start_ns) / 1e6;
    /* VmHWM as last sampled (the sweep, and at init): no /proc read per invocation */
    long hwm = env->last_hwm_kb > env->peak_tree_kb ? env->last_hwm_kb : env->peak_tree_kb;
    env->peak_tree_kb = 0;
    char line[512];
    struct strb l;
    strb_init(&l, line, sizeof line);
    strb_puts(&l, "END RequestId: ");
    strb_puts(&l, inv->rid);
    env_log(env, line, l.len);
    bool cold = env->cold_pending;
    env->cold_pending = false;
    long long billed = (long long)dur + (dur > (double)(long long)dur ? 1 : 0);
    if (billed < 1)
        billed = 1;
    if (cold)
        billed += (long long)env->init_ms + 1;
    strb_init(&l, line, sizeof line);
    strb_puts(&l, "REPORT RequestId: ");
    strb_puts(&l, inv->rid);
    strb_puts(&l, "\tDuration: ");
    strb_cents(&l, (int64_t)(dur * 100 + 0.5));
    strb_puts(&l, " ms\tBilled Duration: ");
    strb_i64(&l, billed);
    strb_puts(&l, " ms\tMemory Size: ");
    strb_i64(&l, env->fn->memory);
    strb_puts(&l, " MB\tMax Memory Used: ");
    strb_i64(&l, (hwm + 1023) / 1024);
    strb_puts(&l, " MB\t");
    if (cold) {
        strb_puts(&l, "Init Duration: ");
        strb_cents(&l, (int64_t)(env->init_ms * 100 + 0.5));
        strb_puts(&l, " ms\t");
    }
    if (status) {
        strb_puts(&l, "Status: ");
        strb_puts(&l, status);
        strb_puts(&l, "\t");
    }
    env_log(env, line, l.len);
}

void lambda__env_end_inv(struct lambda_env *env, bool function_error, const char *body, size_t len,
                         const char *status)
{
    struct lambda_inv *inv = env->inv;
    if (inv == NULL)
        return;
    timer_stop(&env->deadline);
    timer_stop(&env->sample);
    if (env->w_out || env->w_err)
        drain_output(env);
    report(env, status);
    env->inv = NULL;
    inv->env = NULL;
    if (env->state == ENV_BUSY)
        env->state = ENV_RETURNING;
    lambda__finish(inv, function_error, body, len);
    /* a /next parked while it ran takes the next event now */
    if (env->waiters != NULL && env->state == ENV_RETURNING && env->killed == KILL_NONE)
        env_ready(env);
}

static void on_deadline(struct timer *t)
{
    struct lambda_env *env = t->data;
    struct lambda_inv *inv = env->inv;
    if (inv == NULL || env->killed != KILL_NONE)
        return;
    struct buf body;
    buf_init(&body, ERROR_DOC_MAX);
    lambda__error_doc(&body, "Sandbox.Timedout",
                      "RequestId: %s Error: Task timed out after %d.00 seconds", inv->rid,
                      env->fn->timeout);
    char ts[40];
    clock_format_iso(clock_now_ms(), true, ts, sizeof ts);
    lambda__env_logf(env, "%s %s Task timed out after %d.00 seconds", ts, inv->rid,
                     env->fn->timeout);
    lambda__env_kill(env, KILL_TIMEOUT);
    lambda__env_end_inv(env, true, body.data ? body.data : "", body.len, "timeout");
    buf_destroy(&body);
}

static void exit_text(int status, char *out, size_t outlen)
{
    if (WIFSIGNALED(status))
        snprintf(out, outlen, "signal: %s",
                 WTERMSIG(status) == SIGKILL ? "killed" : strsignal(WTERMSIG(status)));
    else
        snprintf(out, outlen, "exit status %d", WEXITSTATUS(status));
}

static struct lambda_env *find_runtime(struct lambda *lm, int pid)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext)
            for (struct lambda_env *e = fn->envs; e; e = e->next)
                if (e->pid == pid)
                    return e;
    return NULL;
}

/* Ends the environment's invocation with the error its runtime's exit makes (type, why). */
static void end_exited(struct lambda_env *env, const char *type, const char *why)
{
    struct buf body;
    buf_init(&body, ERROR_DOC_MAX);
    lambda__error_doc(&body, type, "RequestId: %s Error: Runtime exited with error: %s",
                      env->inv->rid, why);
    lambda__env_end_inv(env, true, body.data ? body.data : "", body.len, "error");
    buf_destroy(&body);
}

void lambda_child_exited(struct lambda *lm, int pid, int status)
{
    struct lambda_env *env = find_runtime(lm, pid);
    if (env == NULL)
        return; /* a descendant the daemon reaped as subreaper */
    struct lambda_fn *fn = env->fn;
    char why[64];
    exit_text(status, why, sizeof why);
    /* the sandbox goes with its runtime: whatever bootstrap started dies too */
    if (env->killed == KILL_NONE && lambda__cg_env_oom(env)) {
        env->killed = KILL_OOM; /* the kernel, at the cgroup's memory.max */
        LOG_WARN("env_oom", env->inv ? env->inv->rid : NULL, "%s pid=%d: killed at memory.max",
                 fn->name, pid);
        if (env->inv)
            lambda__env_logf(env, "RequestId: %s Error: Runtime exited with error: signal: killed",
                             env->inv->rid);
    }
    lambda__cg_kill(env->cg);
    kill(-pid, SIGKILL);
    for (int i = 0; i < env->ntree; i++)
        if (env->tree[i].pid != pid && proc_start(env->tree[i].pid) == env->tree[i].start)
            kill(env->tree[i].pid, SIGKILL);
    env->pid = 0;
    timer_stop(&env->deadline);
    timer_stop(&env->sample);
    timer_stop(&env->reap);
    if (env->w_out || env->w_err)
        drain_output(env);
    if (env->inv != NULL) {
        const char *type = env->killed == KILL_OOM ? "Runtime.OutOfMemory" : "Runtime.ExitError";
        if (env->killed != KILL_OOM) /* the OOM line was logged when it was killed */
            lambda__env_logf(env, "RequestId: %s Error: Runtime exited with error: %s",
                             env->inv->rid, why);
        lambda__env_logf(env, "%s", type);
        end_exited(env, type, why);
    } else if (env->state == ENV_STARTING && env->killed != KILL_RETIRE && fn->pending.n > 0) {
        /* init failed: the invocation that started this environment gets the error */
        struct lambda_inv *inv = fn->pending.head;
        fn->pending.head = inv->next;
        if (fn->pending.head == NULL)
            fn->pending.tail = NULL;
        fn->pending.n--;
        inv->next = NULL;
        env->inv = inv;
        env->inv_start_ns = clock_mono_ns();
        env->init_ms = (double)(env->inv_start_ns - env->spawned_ns) / 1e6;
        if (env->init_error != NULL) {
            lambda__env_logf(env, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error",
                             env->init_ms);
            lambda__env_end_inv(env, true, env->init_error, env->init_error_len, "error");
        } else {
            const char *type =
                env->killed == KILL_OOM ? "Runtime.OutOfMemory" : "Runtime.ExitError";
            lambda__env_logf(env,
                             "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: "
                             "error\tError Type: %s",
                             env->init_ms, type);
            end_exited(env, type, why);
        }
    }
    LOG_DEBUG("env_exit", NULL, "%s pid=%d %s", fn->name, pid, why);
    lambda__env_destroy(env);
    lambda__spawn_for_pending(fn, false);
    lambda__fn_maybe_free(fn);
}

/* ---- a crashed predecessor's processes ---- */

struct orphan_ctx {
    struct lambda *lm;
    int killed;
};

static bool kill_orphan(void *arg, const struct store_row *row)
{
    struct orphan_ctx *c = arg;
    struct tree_pid t = {(int)store_row_int(row, 0), (unsigned long long)store_row_int(row, 1)};
    if (t.pid > 1 && proc_start(t.pid) == t.start) {
        kill(-t.pid, SIGKILL); /* a runtime led its group */
        kill(t.pid, SIGKILL);
        c->killed++;
    }
    persist_pid(c->lm, &t, false);
    return true;
}

void lambda__reap_orphans(struct lambda *lm)
{
    lambda__cg_reap(lm);
    struct orphan_ctx c = {lm, 0};
    store_query(lm->store, lm->st_pid_all, NULL, 0, kill_orphan, &c);
    if (c.killed > 0)
        LOG_WARN("orphans", NULL, "killed %d processes left by a previous haar", c.killed);
}
