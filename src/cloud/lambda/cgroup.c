/*
 * cgroup.c — execution environments in cgroups (v2), where the machine lets the daemon
 * write one: every process an environment starts stays in its cgroup whatever it does
 * (setsid, double fork), the whole of it is killed at once (cgroup.kill), and a daemon
 * restarted after a crash finds what its predecessor's environments left by their cgroups.
 *
 * Modes (lambda__cg_init decides, once):
 *   CG_LIMIT  a pure cgroup v2 hierarchy with the memory and pids controllers delegated to
 *             the daemon's cgroup: each environment also gets memory.max (the function's
 *             memory), memory.swap.max 0, memory.oom.group 1 and pids.max 1024 (AWS's limit
 *             on processes and threads of an environment), enforced by the kernel;
 *   CG_TRACK  a writable cgroup v2 hierarchy without those controllers (a hybrid machine,
 *             cgroup v1 for the controllers): membership and cgroup.kill only, memory is
 *             summed over the members by the daemon;
 *   CG_NONE   no writable cgroup v2: process trees are followed through /proc (env.c).
 *
 * Layout: <the daemon's cgroup>/haar-<hash of the state dir>/env-<n>; in CG_LIMIT mode the
 * daemon itself moves to <the daemon's cgroup>/haar-<hash>-daemon when its own cgroup must
 * be emptied to delegate controllers further down ("no internal processes").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cloud/lambda/lambda_int.h"
#include "core/log.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

enum { CG_PIDS_MAX = 1024, CG_RETRY = 64 };

/* ---- small file helpers ---- */

static int write_text(const char *dir, const char *file, const char *text)
{
    char path[PATH_MAX + 64];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return -1;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int e = errno;
    close(fd);
    errno = e;
    return w == (ssize_t)n ? 0 : -1;
}

/* Reads a small file into out (NUL-terminated). Returns its length or -1. */
static long read_text(const char *dir, const char *file, char *out, size_t cap)
{
    char path[PATH_MAX + 64];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    out[n] = '\0';
    return (long)n;
}

static bool is_cgroup2(const char *path)
{
    struct statfs sf;
    return statfs(path, &sf) == 0 && (unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* Does a space-separated list (cgroup.controllers) name word? */
static bool has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl)
        if ((p == list || p[-1] == ' ' || p[-1] == '\n') &&
            (p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n'))
            return true;
    return false;
}

/* ---- deciding ---- */

/* The daemon's own cgroup v2 path ("0::/path" in /proc/self/cgroup). */
static int own_cgroup(char *out, size_t cap)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return -1;
    char line[PATH_MAX + 32];
    int rc = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "0::", 3) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        rc = snprintf(out, cap, "%s", line + 3) < (int)cap ? 0 : -1;
        break;
    }
    fclose(f);
    return rc;
}

/* Delegates memory and pids down to the daemon's haar folder: the daemon's cgroup must hold
 * no process to pass controllers on, so the daemon moves into a leaf of its own first
 * (unless its cgroup is the root, which may). True when the haar folder has them. */
static bool delegate_limits(const char *base, bool is_root, const char *haar)
{
    char controllers[512];
    if (read_text(base, "cgroup.controllers", controllers, sizeof controllers) < 0 ||
        !has_word(controllers, "memory") || !has_word(controllers, "pids"))
        return false;
    if (!is_root) {
        char self[PATH_MAX + 16];
        if (snprintf(self, sizeof self, "%s-daemon", haar) >= (int)sizeof self ||
            (mkdir(self, 0755) != 0 && errno != EEXIST) || write_text(self, "cgroup.procs", "0"))
            return false;
    }
    return write_text(base, "cgroup.subtree_control", "+memory +pids") == 0 &&
           write_text(haar, "cgroup.subtree_control", "+memory +pids") == 0;
}

void lambda__cg_init(struct lambda *lm)
{
    lm->cg_mode = CG_NONE;
    lm->cg_dir[0] = '\0';
    if (!lm->opt.cgroups)
        return;
    const char *root = NULL;
    if (is_cgroup2("/sys/fs/cgroup"))
        root = "/sys/fs/cgroup";
    else if (is_cgroup2("/sys/fs/cgroup/unified"))
        root = "/sys/fs/cgroup/unified"; /* hybrid: controllers stay on v1 */
    char own[PATH_MAX], base[PATH_MAX * 2];
    if (root == NULL || own_cgroup(own, sizeof own) != 0 ||
        snprintf(base, sizeof base, "%s%s", root, strcmp(own, "/") == 0 ? "" : own) >=
            (int)sizeof base)
        return;
    /* the folder is named after the state dir, so a restarted daemon finds it again */
    unsigned long long h = 1469598103934665603ull;
    for (const char *p = lm->state_dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    if (snprintf(lm->cg_dir, sizeof lm->cg_dir, "%s/haar-%016llx", base, h) >=
            (int)sizeof lm->cg_dir ||
        (mkdir(lm->cg_dir, 0755) != 0 && errno != EEXIST) || access(lm->cg_dir, W_OK) != 0) {
        lm->cg_dir[0] = '\0';
        return;
    }
    bool pure = strcmp(root, "/sys/fs/cgroup") == 0;
    lm->cg_mode =
        pure && delegate_limits(base, strcmp(own, "/") == 0, lm->cg_dir) ? CG_LIMIT : CG_TRACK;
    LOG_INFO("cgroups", NULL, "environments in %s (%s)", lm->cg_dir,
             lm->cg_mode == CG_LIMIT ? "memory.max, pids.max" : "membership only");
}

/* ---- one environment ---- */

int lambda__cg_env_open(struct lambda_env *env)
{
    struct lambda *lm = env->lm;
    env->cg[0] = '\0';
    if (lm->cg_mode == CG_NONE)
        return -1;
    if (snprintf(env->cg, sizeof env->cg, "%s/env-%u", lm->cg_dir, ++lm->cg_seq) >=
            (int)sizeof env->cg ||
        mkdir(env->cg, 0755) != 0) {
        env->cg[0] = '\0';
        return -1;
    }
    if (lm->cg_mode == CG_LIMIT) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)env->fn->memory << 20);
        write_text(env->cg, "memory.max", v);
        write_text(env->cg, "memory.swap.max", "0");
        write_text(env->cg, "memory.oom.group", "1");
        snprintf(v, sizeof v, "%d", CG_PIDS_MAX);
        write_text(env->cg, "pids.max", v);
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cgroup.procs", env->cg);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        rmdir(env->cg);
        env->cg[0] = '\0';
        return -1;
    }
    env->cg_procs_fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd;
}

/* Calls fn for each pid of an open cgroup.procs, read whole from its start with pread (the
 * kernel lists the members afresh each time), without stdio: a busy environment's samples read
 * it every few milliseconds. Returns how many, or -1. */
static int pids_of(int fd, void (*fn)(void *arg, int pid), void *arg)
{
    char text[8192];
    size_t have = 0;
    off_t off = 0;
    int n = 0;
    for (;;) {
        ssize_t r = pread(fd, text + have, sizeof text - 1 - have, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && off == 0)
            return -1;
        if (r > 0) {
            have += (size_t)r;
            off += r;
        }
        /* the whole lines so far; at the end, all that is left */
        bool last = r <= 0;
        size_t upto = have;
        if (!last)
            while (upto > 0 && text[upto - 1] != '\n')
                upto--;
        if (upto == 0 && have == sizeof text - 1) { /* a line longer than the text: no list */
            last = true;
            upto = have;
        }
        char keep = text[upto];
        text[upto] = '\0';
        char *p = text, *end;
        for (long pid; (pid = strtol(p, &end, 10)), end != p; p = end) {
            n++;
            if (fn != NULL)
                fn(arg, (int)pid);
        }
        if (last)
            break;
        text[upto] = keep;
        memmove(text, text + upto, have - upto);
        have -= upto;
    }
    return n;
}

int lambda__cg_pids(const char *dir, void (*fn)(void *arg, int pid), void *arg)
{
    char path[PATH_MAX + 32];
    if (dir[0] == '\0' || snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int n = pids_of(fd, fn, arg);
    close(fd);
    return n;
}

int lambda__cg_env_pids(const struct lambda_env *env, void (*fn)(void *arg, int pid), void *arg)
{
    if (env->cg[0] == '\0')
        return -1;
    return env->cg_procs_fd >= 0 ? pids_of(env->cg_procs_fd, fn, arg)
                                 : lambda__cg_pids(env->cg, fn, arg);
}

static void kill_pid(void *arg, int pid)
{
    (void)arg;
    if (pid > 1)
        kill(pid, SIGKILL);
}

void lambda__cg_kill(const char *dir)
{
    if (dir[0] == '\0')
        return;
    if (write_text(dir, "cgroup.kill", "1") != 0) /* before Linux 5.14: one by one */
        lambda__cg_pids(dir, kill_pid, NULL);
}

bool lambda__cg_env_oom(const struct lambda_env *env)
{
    char text[1024];
    if (env->cg[0] == '\0' || read_text(env->cg, "memory.events", text, sizeof text) < 0)
        return false;
    const char *p = strstr(text, "oom_kill ");
    return p != NULL && strtol(p + 9, NULL, 10) > 0;
}

/* Removes cgroups whose processes are gone; those still dying are tried again later. */
static void retry_removals(struct lambda *lm)
{
    int k = 0;
    for (int i = 0; i < lm->cg_nleft; i++) {
        if (rmdir(lm->cg_left[i]) == 0 || errno == ENOENT)
            free(lm->cg_left[i]);
        else
            lm->cg_left[k++] = lm->cg_left[i];
    }
    lm->cg_nleft = k;
}

void lambda__cg_env_release(struct lambda_env *env)
{
    struct lambda *lm = env->lm;
    if (env->cg_procs_fd >= 0)
        close(env->cg_procs_fd);
    env->cg_procs_fd = -1;
    if (env->cg[0] == '\0')
        return;
    lambda__cg_kill(env->cg);
    if (rmdir(env->cg) != 0 && errno != ENOENT) {
        char *copy = lm->cg_nleft < CG_RETRY ? strdup(env->cg) : NULL;
        if (copy != NULL)
            lm->cg_left[lm->cg_nleft++] = copy; /* its last processes are still dying */
    }
    env->cg[0] = '\0';
}

void lambda__cg_sweep(struct lambda *lm)
{
    retry_removals(lm);
}

void lambda__cg_shutdown(struct lambda *lm)
{
    /* killed processes take a moment to leave; bounded, at exit only */
    for (int round = 0; round < 40 && lm->cg_nleft > 0; round++) {
        retry_removals(lm);
        if (lm->cg_nleft > 0)
            usleep(5000);
    }
    for (int i = 0; i < lm->cg_nleft; i++)
        free(lm->cg_left[i]);
    lm->cg_nleft = 0;
}

int lambda__cg_reap(struct lambda *lm)
{
    if (lm->cg_mode == CG_NONE)
        return 0;
    DIR *d = opendir(lm->cg_dir);
    if (d == NULL)
        return 0;
    int killed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "env-", 4) != 0)
            continue;
        unsigned long seq = strtoul(e->d_name + 4, NULL, 10);
        if (seq > lm->cg_seq && seq < 0xffffffffUL)
            lm->cg_seq = (unsigned)seq; /* new ones are named past what may still be here */
        char dir[PATH_MAX + 300];
        if (snprintf(dir, sizeof dir, "%s/%s", lm->cg_dir, e->d_name) >= (int)sizeof dir)
            continue;
        int n = lambda__cg_pids(dir, NULL, NULL);
        killed += n > 0 ? n : 0;
        lambda__cg_kill(dir);
        if (rmdir(dir) != 0 && lm->cg_nleft < CG_RETRY) {
            char *copy = strdup(dir);
            if (copy != NULL)
                lm->cg_left[lm->cg_nleft++] = copy;
        }
    }
    closedir(d);
    if (killed > 0)
        LOG_WARN("orphans", NULL, "killed %d processes a previous haar's environments left in %s",
                 killed, lm->cg_dir);
    return killed;
}

const char *lambda_isolation(const struct lambda *lm)
{
    return lm->cg_mode == CG_LIMIT   ? "cgroup2 (memory.max, pids.max, cgroup.kill)"
           : lm->cg_mode == CG_TRACK ? "cgroup2 (membership, cgroup.kill)"
                                     : "process tree (/proc)";
}
