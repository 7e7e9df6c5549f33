/*
 * lambda_int.h — the engine's structures and the calls its files make to each other
 * (registry.c, env.c, invoke.c, code.c). Not for other modules.
 *
 * Structures: functions sit in a chained hash table by name. Each function owns a list of
 * environments, a stack of idle ones (warm reuse, most recent first), a FIFO of admitted
 * invocations waiting for an environment (`pending`) and a FIFO of queued Event invocations
 * not yet admitted (`events`). An environment is a child process (the runtime) with the
 * processes it starts, plus a Runtime API listener; its stdout/stderr are line-split into
 * CloudWatch Logs events.
 */
#ifndef HAAR_CLOUD_LAMBDA_INT_H
#define HAAR_CLOUD_LAMBDA_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloud/lambda/lambda.h"
#include "cloud/store/store.h"
#include "core/buf.h"
#include "core/timer.h"
#include "core/work.h"

enum { LAMBDA_NBUCKETS = 256, LAMBDA_TAIL_BYTES = 4096, LAMBDA_MAX_TREE = 64 };

enum env_state { ENV_STARTING, ENV_IDLE, ENV_BUSY, ENV_RETURNING, ENV_DEAD };
enum cg_mode { CG_NONE, CG_TRACK, CG_LIMIT };
enum env_kill { KILL_NONE, KILL_TIMEOUT, KILL_OOM, KILL_REAP, KILL_RETIRE };

struct lambda_inv {
    char rid[37];
    struct lambda_fn *fn;
    enum lambda_inv_type type;
    char *payload; /* NULL for a durable event whose payload was left on disk */
    size_t len;
    char *client_context;
    bool want_tail;
    lambda_done_fn done;
    void *arg;
    int attempt;            /* 0 for the first */
    int64_t enqueued_ms;    /* clock epoch ms when accepted (event age) */
    int64_t not_before_ms;  /* clock epoch ms: a retry waits until then */
    int64_t queued_ms;      /* real ms: entered the pending queue */
    int64_t wait_deadline_ms; /* real ms: waiting for an environment: init (10 s), then a
                                 retried init bounded by the function timeout, as on AWS */
    bool init_retried;
    bool admitted;  /* counted in the function's in-flight number */
    bool durable;   /* an event whose record is committed */
    struct lambda_inv *next;
    struct lambda_env *env;
    struct buf tail;
    struct timer complete; /* TIMER_REAL: a deferred completion (errors decided at once) */
    char *late_error;      /* a function error decided inside the call that placed it, ended
                              from the complete timer (malloc'd, with late_error_len) */
    size_t late_error_len;
    struct lambda_result result;
};

struct inv_queue {
    struct lambda_inv *head, *tail;
    int n;
};

/* A process of an environment's tree, recorded so it can be killed even after it left the
 * tree (setsid, double fork). start is its start time in clock ticks since boot. */
struct tree_pid {
    int pid;
    unsigned long long start;
};

struct lambda_env {
    struct lambda *lm;
    struct lambda_fn *fn;
    int pid;
    unsigned long long start; /* the runtime's start time (ticks since boot) */
    uint16_t port;
    void *listener;
    void *w_out, *w_err;
    int fd_out, fd_err; /* owned by the watches; valid while w_out / w_err are set */
    struct buf line_out, line_err;
    enum env_state state;
    struct lambda_next_waiter *waiters; /* parked /next, oldest first */
    struct lambda_inv *inv;
    int64_t spawned_ns;
    int64_t inv_start_ns;
    double init_ms;
    bool cold_pending; /* the next REPORT carries Init Duration */
    int status_fd;
    long last_hwm_kb;  /* last VmHWM seen: the process may be gone at REPORT time */
    long peak_tree_kb; /* highest sampled RSS of the process tree during the invocation */
    enum env_kill killed;
    char *init_error;
    size_t init_error_len;
    int generation;
    char stream[96];
    char code_dir[PATH_MAX]; /* the code it runs (the function's may have changed) */
    char cg[PATH_MAX];       /* its cgroup, or "" (cgroup.c) */
    struct tree_pid tree[LAMBDA_MAX_TREE]; /* every process seen in the tree */
    int ntree;
    struct timer deadline; /* TIMER_REAL: the invocation's timeout */
    struct timer sample;   /* TIMER_REAL: memory sampling while busy */
    struct timer reap;     /* TIMER_REAL: idle reaping */
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
    json_t *policy;   /* resource policy {"Version","Id","Statement":[...]} or NULL */
    char policy_rev[40];
    char code_dir[PATH_MAX];
    long long code_size;
    char sha[48];
    int64_t last_modified;
    int reserved;
    struct lambda_event_config evcfg;
    char key_id[24], secret[48], token[96];
    bool managed;  /* provisioned from the environment config: not persisted */
    bool deleted;  /* gone: freed once nothing refers to it */
    bool deleting; /* its deletion is being committed */
    bool creating; /* its creation is being committed (find does not see it yet) */
    int busy_ops;  /* commands in progress that will touch it */
    int generation;
    int inflight;
    int n_envs, n_starting;
    struct lambda_env *envs;
    struct lambda_env *idle;
    struct inv_queue pending;
    struct inv_queue events;
    struct timer pending_timer; /* TIMER_REAL: the pending head's wait deadline, eager spawn */
    struct timer retry_timer;   /* TIMER_CLOCK: the next queued event falls due */
};

struct lambda {
    struct lambda_options opt;
    char region[32];
    char state_dir[PATH_MAX];
    struct lambda_host host;
    struct logs *logs;
    struct store *store;
    struct store_stmt *st_fn_put, *st_fn_del, *st_fn_all;
    struct store_stmt *st_ev_put, *st_ev_attempt, *st_ev_del, *st_ev_del_fn, *st_ev_all,
        *st_ev_payload;
    struct store_stmt *st_pid_put, *st_pid_del, *st_pid_all;
    struct lambda_fn *buckets[LAMBDA_NBUCKETS];
    int n_fns;
    int reserved_total;
    int unreserved_inflight;
    int n_envs; /* environments alive, all functions */
    int64_t code_bytes; /* code packages held (zips and unpacked trees) */
    size_t event_mem;   /* bytes of queued event payloads held in memory */
    bool draining;
    struct timer sweep; /* TIMER_REAL: memory of idle environments, while any lives */
    enum cg_mode cg_mode;
    char cg_dir[PATH_MAX]; /* <the daemon's cgroup>/haar-<hash of the state dir> */
    unsigned cg_seq;
    char *cg_left[64];     /* environments' cgroups whose processes were still dying */
    int cg_nleft;
};

/* ---- registry.c ---- */
unsigned lambda__hash(const char *name);
void lambda__fn_maybe_free(struct lambda_fn *fn);
void lambda__retire_envs(struct lambda_fn *fn);
/* Commits the function's record (or its deletion); done(arg, rc) from the store. */
void lambda__persist_fn(struct lambda_fn *fn, void (*done)(void *arg, int rc), void *arg);

/* ---- env.c ---- */
struct lambda_env *lambda__env_spawn(struct lambda_fn *fn);
void lambda__env_destroy(struct lambda_env *env);
/* Samples every environment's memory (the engine's sweep timer). */
void lambda__sweep(struct lambda *lm);
void lambda__env_kill(struct lambda_env *env, enum env_kill why);
void lambda__env_deliver(struct lambda_env *env, struct lambda_inv *inv);
/* Ends the environment's current invocation (answered, errored, timed out or crashed). */
void lambda__env_end_inv(struct lambda_env *env, bool function_error, const char *body,
                         size_t len, const char *status);
void lambda__env_logf(struct lambda_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Environments that may still exist under the account's and the function's limits. */
bool lambda__env_room(const struct lambda_fn *fn);
/* Kills processes recorded by a crashed predecessor (store table lambda_pids). */
void lambda__reap_orphans(struct lambda *lm);

/* ---- invoke.c ---- */
void lambda__finish(struct lambda_inv *inv, bool function_error, const char *body, size_t len);
void lambda__dispatch_events(struct lambda_fn *fn);
void lambda__spawn_for_pending(struct lambda_fn *fn, bool eager);
/* An idle environment is free: gives it the next pending or queued invocation. */
void lambda__env_free(struct lambda_env *env);
void lambda__drop_queues(struct lambda_fn *fn, const char *why);
int lambda__inv_init_timer(struct lambda_inv *inv);
void lambda__inv_free(struct lambda_inv *inv);
void lambda__restore_events(struct lambda *lm);

/* ---- cgroup.c ---- */
/* Finds a cgroup v2 hierarchy the daemon may write (opt.cgroups) and sets cg_mode/cg_dir. */
void lambda__cg_init(struct lambda *lm);
/* Kills what a crashed predecessor's environments left in their cgroups and removes those.
 * Returns how many processes it killed. */
int lambda__cg_reap(struct lambda *lm);
/* Creates env's cgroup (env->cg; limited in CG_LIMIT mode) and returns an fd of its
 * cgroup.procs for the child to write "0" to before it execs, or -1 (env->cg ""). */
int lambda__cg_env_open(struct lambda_env *env);
/* Calls fn for each process of the cgroup dir; returns how many, or -1. fn may be NULL. */
int lambda__cg_pids(const char *dir, void (*fn)(void *arg, int pid), void *arg);
/* Kills every process of the cgroup dir ("" does nothing). */
void lambda__cg_kill(const char *dir);
/* True when the kernel OOM-killed in env's cgroup (its memory.max). */
bool lambda__cg_env_oom(const struct lambda_env *env);
/* Kills what is left in env's cgroup and removes it (later, once its processes are gone). */
void lambda__cg_env_release(struct lambda_env *env);
/* Retries removing cgroups whose processes were still dying (the sweep). */
void lambda__cg_sweep(struct lambda *lm);
/* At exit: waits a little for the last removals. */
void lambda__cg_shutdown(struct lambda *lm);

/* ---- code.c ---- */
/* Unpacks a zip into dir (created), keeping exec bits; refuses absolute paths and "..",
 * stops at the unzipped-size limit. Returns 0, or -1 with an AWS-style message. Thread-safe
 * (runs on the work pool). *unzipped gets the bytes written. */
int lambda__unzip(const void *zip, size_t len, const char *dir, int64_t *unzipped, char *msg,
                  size_t msglen);
/* Removes a code folder and its zip once no environment runs it. */
void lambda__code_release(struct lambda *lm, const char *dir);
/* Removes what no function uses under <state>/lambda: old versions, unfinished unpacks. */
void lambda__code_gc(struct lambda *lm);
/* The bytes a code folder and its zip take (for the storage quota). */
int64_t lambda__code_size(const char *dir);

#endif
