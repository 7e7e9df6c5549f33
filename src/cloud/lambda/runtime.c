/*
 * runtime.c — managed runtimes (python3.x, nodejsNN.x) on the machine's own interpreters.
 *
 * The interpreters are found once: every executable python3.N, and node / nodejs / nodeNN,
 * in the system's bin folders and on the daemon's PATH (shims of version managers left out:
 * each start would pay their shell). A node's version is asked with `node --version` (off
 * the loop when the daemon starts the probe early, else at the first need). A runtime runs
 * on the interpreter of its version when there is one; otherwise on the nearest (the client
 * prints AWS-style a warning line at init), or, with strict_runtimes, not at all.
 *
 * The clients (src/runtimes, installed next to the binary as runtimes/) do the rest: the
 * handler string, the context, the Runtime API loop (src/runtimes/README.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloud/lambda/lambda_int.h"
#include "core/log.h"
#include "core/work.h"

extern char **environ;

static const char *const system_dirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};

bool lambda__managed_runtime(const char *runtime)
{
    return strncmp(runtime, "python3.", 8) == 0 || strncmp(runtime, "nodejs", 6) == 0;
}

static bool is_python(const char *runtime)
{
    return strncmp(runtime, "python3.", 8) == 0;
}

/* ---- the probe ---- */

static bool executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Adds path unless an interpreter already found is the same file. */
static struct lambda_interp *add(struct lambda_interp *list, int *n, const char *path)
{
    char real[PATH_MAX];
    if (*n >= LAMBDA_MAX_INTERPS || realpath(path, real) == NULL)
        return NULL;
    for (int i = 0; i < *n; i++) {
        char other[PATH_MAX];
        if (realpath(list[i].path, other) != NULL && strcmp(other, real) == 0)
            return NULL;
    }
    struct lambda_interp *it = &list[(*n)++];
    memset(it, 0, sizeof *it);
    snprintf(it->path, sizeof it->path, "%s", path);
    return it;
}

/* `node --version` ("v20.20.2"); 0 when it answered. */
static int node_version(const char *path, char *out, size_t outlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[] = {(char *)path, "--version", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    size_t got = 0;
    if (rc == 0) {
        ssize_t r;
        while (got + 1 < outlen && (r = read(p[0], out + got, outlen - 1 - got)) > 0)
            got += (size_t)r;
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    close(p[0]);
    out[got] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return rc == 0 && out[0] == 'v' ? 0 : -1;
}

static void scan_dir(struct lambda_interps *in, const char *dir)
{
    if (strstr(dir, "shims") != NULL || dir[0] != '/')
        return;
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, n) >= (int)sizeof path)
            continue;
        int minor = -1, used = 0;
        if (strncmp(n, "python3.", 8) == 0 && sscanf(n + 8, "%d%n", &minor, &used) == 1 &&
            n[8 + used] == '\0' && executable(path)) {
            struct lambda_interp *it = add(in->python, &in->npython, path);
            if (it != NULL) {
                it->major = 3;
                it->minor = minor;
                snprintf(it->version, sizeof it->version, "3.%d", minor);
            }
        } else if ((strcmp(n, "node") == 0 || strcmp(n, "nodejs") == 0 ||
                    (strncmp(n, "node", 4) == 0 && n[4] >= '1' && n[4] <= '9' &&
                     strspn(n + 4, "0123456789") == strlen(n + 4))) &&
                   executable(path)) {
            struct lambda_interp *it = add(in->node, &in->nnode, path);
            if (it != NULL && node_version(path, it->version, sizeof it->version) == 0)
                sscanf(it->version, "v%d.%d", &it->major, &it->minor);
            else if (it != NULL)
                in->nnode--; /* not a node that answers */
        }
    }
    closedir(d);
}

/* Finds the interpreters (thread-safe: writes only *in). */
static void probe(struct lambda_interps *in)
{
    memset(in, 0, sizeof *in);
    for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++)
        scan_dir(in, system_dirs[i]);
    const char *path = getenv("PATH");
    char *copy = path ? strdup(path) : NULL, *save = NULL;
    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save))
        scan_dir(in, d);
    free(copy);
    in->probed = true;
}

static void ensure_probed(struct lambda *lm)
{
    if (!lm->interps.probed)
        probe(&lm->interps);
}

struct probe_work {
    struct work w;
    struct lambda *lm;
    struct lambda_interps found;
};

static void probe_run(struct work *w)
{
    struct probe_work *p = w->data;
    probe(&p->found);
}

static void probe_done(struct work *w)
{
    struct probe_work *p = w->data;
    if (!p->lm->interps.probed)
        p->lm->interps = p->found;
    LOG_INFO("runtimes", NULL, "python interpreters=%d node interpreters=%d",
             p->lm->interps.npython, p->lm->interps.nnode);
    free(p);
}

void lambda_probe_runtimes(struct lambda *lm)
{
    struct probe_work *p = calloc(1, sizeof *p);
    if (p == NULL)
        return;
    p->lm = lm;
    p->w = (struct work){.run = probe_run, .done = probe_done, .data = p};
    work_submit(&p->w);
}

/* ---- choosing ---- */

const struct lambda_interp *lambda__interp_for(struct lambda *lm, const char *runtime, char *msg,
                                               size_t msglen)
{
    ensure_probed(lm);
    bool py = is_python(runtime);
    int major = py ? 3 : 0, minor = 0;
    if (sscanf(runtime + (py ? 8 : 6), "%d", py ? &minor : &major) != 1) {
        snprintf(msg, msglen, "%s is not a managed runtime", runtime);
        return NULL;
    }
    const struct lambda_interp *list = py ? lm->interps.python : lm->interps.node;
    int n = py ? lm->interps.npython : lm->interps.nnode;
    const struct lambda_interp *best = NULL;
    int best_d = 0;
    for (int i = 0; i < n; i++) {
        int d = py ? abs(list[i].minor - minor) : abs(list[i].major - major);
        /* the nearest; of two as near, the newer */
        if (best == NULL || d < best_d ||
            (d == best_d && (py ? list[i].minor > best->minor : list[i].major > best->major))) {
            best = &list[i];
            best_d = d;
        }
    }
    if (best == NULL) {
        snprintf(msg, msglen,
                 "The runtime %s needs %s, and this machine has none (install the Debian "
                 "package %s).",
                 runtime, py ? "a Python 3 interpreter (python3.N)" : "Node.js (node)",
                 py ? "python3" : "nodejs");
        return NULL;
    }
    if (best_d != 0 && lm->opt.strict_runtimes) {
        snprintf(msg, msglen,
                 "The runtime %s is not available on this machine, which has %s %s "
                 "(emulator.strict_runtimes is set: no other version stands in for it).",
                 runtime, py ? "Python" : "Node.js", best->version);
        return NULL;
    }
    return best;
}

int lambda__runtime_client(struct lambda *lm, const char *runtime, char *out, size_t outlen)
{
    const char *client = is_python(runtime) ? "python/bootstrap.py" : "node/bootstrap.mjs";
    if (lm->runtimes_dir[0] == '\0' ||
        snprintf(out, outlen, "%s/%s", lm->runtimes_dir, client) >= (int)outlen)
        return -1;
    return access(out, R_OK) == 0 ? 0 : -1;
}

json_t *lambda_runtimes_json(struct lambda *lm)
{
    ensure_probed(lm);
    json_t *py = json_array(), *node = json_array();
    for (int i = 0; i < lm->interps.npython; i++)
        json_array_append_new(py, json_string(lm->interps.python[i].version));
    for (int i = 0; i < lm->interps.nnode; i++)
        json_array_append_new(node, json_string(lm->interps.node[i].version));
    return json_pack("{s:o, s:o, s:b, s:s}", "python", py, "node", node, "strict",
                     lm->opt.strict_runtimes, "clients", lm->runtimes_dir);
}
