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
/* What a function object is: the function itself ($LATEST), a published version (immutable
 * code and configuration, its own environments), or an alias (no code: invocations go to the
 * version it points at, or by weight to a second one). */
enum fn_kind { FN_LATEST, FN_VERSION, FN_ALIAS };
/* How layers reach an environment's /opt (lambda__opt_init decides, once). */
enum opt_mode { OPT_ENV, OPT_MOUNT };
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
    char invoked_arn[520]; /* the ARN it was invoked by (qualified for a version or alias) */
    char via[140];         /* the qualifier it was invoked by ("" for the function itself) */
    char *err_text;        /* a platform error's message (malloc'd), or NULL */
    int max_retries;       /* the invoked object's EventInvokeConfig, taken at invoke */
    int max_age_s;
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
    int status_fd;     /* the runtime's /proc/<pid>/status, read again with pread */
    int statm_fd;      /* its /proc/<pid>/statm, likewise (a busy environment's samples) */
    long last_hwm_kb;  /* last VmHWM seen: the process may be gone at REPORT time */
    long peak_tree_kb; /* highest sampled RSS of the process tree during the invocation */
    enum env_kill killed;
    char *init_error;
    size_t init_error_len;
    int generation;
    unsigned swept_round; /* the sweep's round that last looked at it */
    bool provisioned; /* kept warm for provisioned concurrency: never reaped when idle */
    char stream[200];
    char code_dir[PATH_MAX]; /* the code it runs (the function's may have changed) */
    char opt_dir[PATH_MAX];  /* the merged layers it sees at /opt, or "" */
    char cg[PATH_MAX];       /* its cgroup, or "" (cgroup.c) */
    int cg_procs_fd;         /* its cgroup.procs open for reading, or -1 */
    struct tree_pid tree[LAMBDA_MAX_TREE]; /* every process seen in the tree */
    int ntree;
    struct timer deadline; /* TIMER_REAL: the invocation's timeout */
    struct timer sample;   /* TIMER_REAL: memory sampling while busy */
    int sample_ms;         /* the next sample's interval (growing through an invocation) */
    struct timer reap;     /* TIMER_REAL: idle reaping */
    struct lambda_env *next;      /* fn->envs */
    struct lambda_env *idle_next; /* fn->idle */
};

/* A function URL's configuration ($LATEST or an alias). */
struct fn_url {
    bool set;
    char id[40];   /* the URL's host label: 32 lowercase letters and digits */
    char auth[16]; /* NONE | AWS_IAM */
    char mode[24]; /* BUFFERED | RESPONSE_STREAM */
    json_t *cors;  /* the Cors object as configured, or NULL */
    int64_t created, modified;
};

/* A provisioned concurrency configuration (a version or an alias). */
struct fn_pc {
    bool set;
    int requested;
    int64_t modified;
};

struct lambda_fn {
    struct lambda *lm;
    struct lambda_fn *hnext;
    enum fn_kind kind;
    struct lambda_fn *base; /* the function ($LATEST) this object belongs to; itself for it */
    char key[200];          /* the hash key: the name, or name:qualifier */
    char qual[132];         /* "$LATEST", a version number or an alias name */
    char name[65];
    char arn[384]; /* unqualified for $LATEST, qualified otherwise */
    char revision[40];      /* RevisionId: changes with every change of the object */
    int last_version;       /* $LATEST: the highest version number ever published */
    unsigned config_rev;    /* $LATEST: bumped by every change of code or configuration */
    unsigned published_rev; /* a version: the config_rev of $LATEST it was published from */
    int64_t code_unzipped;  /* bytes of the unpacked code (the 250 MB limit with layers) */
    char alias_to[16];      /* an alias: its version ... */
    char alias_extra[16];   /* ... and the additional version of its routing ("" none) */
    double alias_weight;    /* the additional version's share, 0 <= w < 1 */
    json_t *layers;         /* array of layer version ARNs in order, or NULL */
    char opt_dir[PATH_MAX]; /* the layers merged, as /opt: "" without layers */
    struct fn_url url;
    struct fn_pc pc;
    int total_inflight, total_envs; /* $LATEST: over every version (reserved concurrency) */
    int nchildren;                  /* $LATEST: its versions and aliases not yet freed */
    struct timer pc_timer;          /* a version: refills its provisioned environments */
    int pc_failures;                /* a version: provisioned environments that died in init */
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
    int n_starting;
    struct lambda_env *envs;
    struct lambda_env *idle;
    struct inv_queue pending;
    struct inv_queue events;
    struct timer pending_timer; /* TIMER_REAL: the pending head's wait deadline, eager spawn */
    struct timer retry_timer;   /* TIMER_CLOCK: the next queued event falls due */
};

/* An interpreter of the machine a managed runtime may run on. */
struct lambda_interp {
    char path[256];
    int major, minor; /* python 3.11 → 3, 11; node v20.20.2 → 20, 20 */
    char version[32]; /* "3.11.2", "v20.20.2" */
};

enum { LAMBDA_MAX_INTERPS = 16 };

/* What runtime.c found on PATH (python3.N, node): probed once, at the first need. */
struct lambda_interps {
    bool probed;
    struct lambda_interp python[LAMBDA_MAX_INTERPS];
    int npython;
    struct lambda_interp node[LAMBDA_MAX_INTERPS];
    int nnode;
};

struct lambda {
    struct lambda_options opt;
    char region[32];
    char state_dir[PATH_MAX];
    char runtimes_dir[PATH_MAX];
    struct lambda_host host;
    struct logs *logs;
    struct store *store;
    struct store_stmt *st_fn_put, *st_fn_del, *st_fn_all;
    struct store_stmt *st_ev_put, *st_ev_attempt, *st_ev_del, *st_ev_del_fn, *st_ev_all,
        *st_ev_payload;
    struct store_stmt *st_pid_put, *st_pid_del, *st_pid_all;
    struct lambda_fn *buckets[LAMBDA_NBUCKETS];
    int n_fns;
    struct lambda_layer *layers; /* every layer version, by name then version */
    struct store_stmt *st_layer_put, *st_layer_del, *st_layer_all, *st_layer_seq_put,
        *st_layer_seq_all;
    struct lambda_layer_seq *layer_seqs; /* the last version number of each layer name */
    enum opt_mode opt_mode;
    struct lambda_interps interps; /* the machine's interpreters (runtime.c) */
    uint64_t rng;                  /* alias routing and URL ids */
    void (*send_sqs)(void *arg, const char *queue_arn, const char *body, size_t len);
    void *send_sqs_arg; /* asynchronous invocations' SQS destinations (links.c) */
    int reserved_total;
    int unreserved_inflight;
    int n_envs; /* environments alive, all functions */
    int64_t code_bytes; /* code packages held (zips and unpacked trees) */
    size_t event_mem;   /* bytes of queued event payloads held in memory */
    bool draining;
    struct timer sweep; /* TIMER_REAL: memory of idle environments, while any lives */
    unsigned sweep_round; /* environments swept in this round have it as swept_round */
    enum cg_mode cg_mode;
    char cg_dir[PATH_MAX]; /* <the daemon's cgroup>/haar-<hash of the state dir> */
    unsigned cg_seq;
    char *cg_left[64];     /* environments' cgroups whose processes were still dying */
    int cg_nleft;
};

/* A layer version: its unpacked content, its record, its policy. */
struct lambda_layer {
    struct lambda_layer *next;
    char name[144];
    int version;
    char arn[256];         /* arn:aws:lambda:<region>:<account>:layer:<name> */
    char version_arn[272]; /* ... :<version> */
    char *description, *license;
    json_t *runtimes, *archs; /* arrays or NULL */
    char dir[PATH_MAX];       /* <state>/lambda/.layers/<name>/<version> */
    char sha[48];
    long long size;   /* the zip's bytes */
    int64_t unzipped; /* the unpacked bytes */
    int64_t created;
    json_t *policy;
    char policy_rev[40];
};

struct lambda_layer_seq {
    struct lambda_layer_seq *next;
    char name[144];
    int last;
};

/* ---- registry.c ---- */
unsigned lambda__hash(const char *name);
/* Any object of that key (name or name:qualifier) not yet freed, whatever its state. */
struct lambda_fn *lambda__find_any(struct lambda *lm, const char *key);
/* Writes "name:qualifier" (a version's or alias's registry key) to key (cap bytes); false
 * when it does not fit. */
bool lambda__qualified_key(char *key, size_t cap, const char *name, const char *qualifier);
/* The versions and aliases of base not yet gone, versions first (by number) then aliases (by
 * name): a malloc'd array the caller frees, *out, and its length. */
size_t lambda__children(struct lambda_fn *base, struct lambda_fn ***out);
/* A new object of base (a version or an alias called qual), inserted; NULL on OOM. */
struct lambda_fn *lambda__fn_child(struct lambda_fn *base, enum fn_kind kind, const char *qual);
/* Marks an object gone: its queues dropped, its environments retired; freed once unused. */
void lambda__fn_gone(struct lambda_fn *fn);
/* A fresh RevisionId for fn. */
void lambda__new_revision(struct lambda_fn *fn);
/* Random 64 bits (alias routing, URL ids): not for secrets. */
uint64_t lambda__random(struct lambda *lm);

/* A command in progress (registry.c): completes once, later, through its done callback. */
struct op;
/* Starts an in-memory change of fn's function: the record before it is kept to undo a
 * failed commit. NULL (after the caller got its answer, later) when out of memory. */
struct op *lambda__op_change(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done,
                             void *arg);
/* A command that found an error before changing anything: answers it, later. */
void lambda__op_refuse(struct lambda *lm, lambda_op_fn done, void *arg, enum err e,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Completes op now-decided (an error, or ERR_OK with nothing to store), later. */
void lambda__op_complete(struct op *op, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Commits the change made since lambda__op_change (undoing it if the commit fails). */
void lambda__op_commit(struct op *op);
/* The buffer of op's message (for callers that format it themselves). */
char *lambda__op_msg(struct op *op, size_t *len);
/* Commits the deletion of a version or alias (op's object): it is left out of the record,
 * and goes once that is committed (stays, if the commit fails). */
void lambda__op_commit_delete(struct op *op, struct lambda_fn *child);
void lambda__fn_maybe_free(struct lambda_fn *fn);
void lambda__retire_envs(struct lambda_fn *fn);
/* Commits the function's record (or its deletion); done(arg, rc) from the store. */
void lambda__persist_fn(struct lambda_fn *fn, void (*done)(void *arg, int rc), void *arg);

/* Resource policies ({"Version","Id","Statement":[...]}, of functions and of layer versions).
 * The statement with this Sid, or NULL; *at (when not NULL) gets its index. */
json_t *lambda__policy_statement(const json_t *policy, const char *sid, size_t *at);
/* Appends a copy of st to *policy, which is created when NULL. Returns 0, or -1 when out of
 * memory (*policy may then be a new, empty document). */
int lambda__policy_add(json_t **policy, const json_t *st);
/* Removes the statement at index at (from lambda__policy_statement); a policy left with no
 * statement is freed and *policy set to NULL. */
void lambda__policy_remove(json_t **policy, size_t at);

/* ---- env.c ---- */
/* What an environment of a function runs: exe (its bootstrap, or the interpreter) and, for a
 * managed runtime, the client script ("" otherwise). */
struct lambda_env_cmd {
    char exe[PATH_MAX + 16];
    char client[PATH_MAX + 32];
};
/* Starts an environment for fn running cmd (from lambda__env_command; provisioned: kept
 * warm, AWS_LAMBDA_INITIALIZATION_TYPE provisioned-concurrency). NULL when it cannot start. */
struct lambda_env *lambda__env_spawn(struct lambda_fn *fn, bool provisioned,
                                     const struct lambda_env_cmd *cmd);
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
/* What an environment of fn runs, into *cmd: 0, or -1 with why in msg (no interpreter, no
 * client). */
int lambda__env_command(struct lambda_fn *fn, struct lambda_env_cmd *cmd, char *msg, size_t msglen);
/* Environments that may still exist under the account's and the function's limits. */
bool lambda__env_room(const struct lambda_fn *fn);
/* Kills processes recorded by a crashed predecessor (store table lambda_pids). */
void lambda__reap_orphans(struct lambda *lm);

/* ---- invoke.c ---- */
void lambda__finish(struct lambda_inv *inv, bool function_error, const char *body, size_t len);
/* The most an error body of the daemon's own (a timeout, a runtime that cannot start) takes. */
#define ERROR_DOC_MAX 8192
/* Appends a function error the daemon reports itself, {"errorType":type,"errorMessage":msg}
 * with msg formatted from fmt, to out (escaped as JSON needs). Returns BUF_OK or a buf error
 * (out then holds what fitted). */
int lambda__error_doc(struct buf *out, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
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
/* The same for an environment's cgroup, read through the descriptor it keeps open. */
int lambda__cg_env_pids(const struct lambda_env *env, void (*fn)(void *arg, int pid), void *arg);
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

/* ---- version.c ---- */
/* $LATEST as a new version (or, when nothing changed since, the last one: *created false).
 * In memory only: the caller commits. NULL when out of memory. */
struct lambda_fn *lambda__publish(struct lambda_fn *base, const char *description, bool *created);
/* Provisioned environments of base's versions as their configurations want them now. */
void lambda__pc_reconcile(struct lambda_fn *base);
/* The version an invocation of fn runs on: fn itself, or for an alias its version or, by
 * its weight, the additional one. NULL when an alias's version is gone. */
struct lambda_fn *lambda__route(struct lambda_fn *fn);
/* Environments a version should keep warm (provisioned on it or on aliases pointing at it). */
int lambda__pc_wanted(const struct lambda_fn *version);
/* Starts what is missing of a version's provisioned environments. */
void lambda__pc_fill(struct lambda_fn *version);

/* ---- layer.c ---- */
/* Decides how layers reach /opt (a private mount namespace when the machine allows it). */
void lambda__opt_init(struct lambda *lm);
/* Checks a function's Layers (an array of layer version ARNs): at most 5, each existing, no
 * layer twice, code + layers unpacked within 250 MB. ERR_OK, or an error with AWS's text. */
enum err lambda__layers_check(struct lambda *lm, const json_t *arns, int64_t code_unzipped,
                              char *msg, size_t msglen);
/* The merge of layers, built off the loop: prepare on the loop (copies what the pool needs),
 * run on the pool, then the result's folder (or "" for no layers) on the loop. */
struct opt_merge;
struct opt_merge *lambda__opt_prepare(struct lambda *lm, const json_t *arns);
void lambda__opt_run(struct opt_merge *m); /* thread-safe */
/* 0 and the merged folder (dir, PATH_MAX), or -1 with a message; frees m. */
int lambda__opt_finish(struct opt_merge *m, char *dir, char *msg, size_t msglen);
/* Builds it at once (restore, when a merged folder is missing). */
int lambda__opt_build_now(struct lambda *lm, const json_t *arns, char *dir);
/* Removes a merged folder no object or environment uses. */
void lambda__opt_release(struct lambda *lm, const char *dir);
/* At start: removes merged folders nothing uses (after the functions were restored). */
void lambda__opt_gc(struct lambda *lm);
/* In a child about to exec (plain system calls only): a private mount namespace (and user
 * namespace, userns, with the maps given as "inside outside 1\n") with dir bound read-only on
 * /opt. 0, or -1 (errno set). */
int lambda__opt_enter(const char *dir, bool userns, const char *uid_map, const char *gid_map);
/* Layers' records: load at start; free at exit. */
void lambda__layers_restore(struct lambda *lm);
void lambda__layers_free(struct lambda *lm);
/* The layer version an ARN names, or NULL. */
struct lambda_layer *lambda__layer_by_arn(struct lambda *lm, const char *arn);

/* ---- runtime.c ---- */
/* Is runtime one haar runs with an interpreter (python3.x, nodejsNN.x)? */
bool lambda__managed_runtime(const char *runtime);
/* The interpreter for a managed runtime: the requested version if the machine has it, else
 * the nearest (NULL when strict, or when the family is missing; msg says why). */
const struct lambda_interp *lambda__interp_for(struct lambda *lm, const char *runtime, char *msg,
                                               size_t msglen);
/* The client a managed runtime's interpreter runs (its path into out). */
int lambda__runtime_client(struct lambda *lm, const char *runtime, char *out, size_t outlen);

/* ---- code.c ---- */
/* Takes a package (a function's or a layer's, what names it in messages) into dir: its
 * SHA-256 into sha, the zip unpacked into dir (created; exec bits kept, absolute paths and
 * ".." refused, stopping at the unzipped-size limit; *unzipped gets the bytes written) and
 * kept beside as dir.zip. Returns 0, or -1 with an AWS-style message. Thread-safe (runs on
 * the work pool); on failure the caller removes dir and dir.zip. */
int lambda__code_unpack(const void *zip, size_t len, const char *dir, const char *what,
                        unsigned char sha[32], int64_t *unzipped, char *msg, size_t msglen);
/* Whether more bytes of code would take the account past its code storage limit; when so,
 * msg says it as AWS does (CodeStorageExceededException). */
bool lambda__code_over_quota(const struct lambda *lm, int64_t more, char *msg, size_t msglen);
/* Removes a code folder and its zip once no environment runs it. */
void lambda__code_release(struct lambda *lm, const char *dir);
/* Removes what no function uses under <state>/lambda: old versions, unfinished unpacks. */
void lambda__code_gc(struct lambda *lm);
/* The bytes a code folder and its zip take (for the storage quota). */
int64_t lambda__code_size(const char *dir);
/* The CodeSha256 form of a SHA-256: its base64 (44 characters) into out; "" when out of
 * memory. */
void lambda__sha_b64(const unsigned char sha[32], char out[48]);

#endif
