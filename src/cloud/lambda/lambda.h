/*
 * lambda.h — the Lambda engine: function registry, execution environments (one child
 * process tree each, running the function's `bootstrap`), and invocations.
 *
 * The engine holds no HTTP types. Its host (the daemon) supplies the loop services it needs
 * through struct lambda_host: a Runtime API listener per environment and fd watches for the
 * children's stdout/stderr. The Runtime API adapter (runtime_api.c) and the Lambda REST
 * adapter (proto_rest.c) translate requests to the calls below.
 *
 * Concurrency (as AWS counts it): a function's concurrency is its number of in-flight
 * invocations. A function with reserved concurrency R may have R in flight; the others share
 * the account limit minus all reservations. Execution environments never outnumber what the
 * concurrency allows (a retired environment still counts until it is gone). A RequestResponse
 * invoke past the limit fails with TooManyRequestsException; Event invokes wait in the
 * function's queue (durable, on disk past a memory budget), are retried on function error
 * after 1 and 2 minutes of the clock (MaximumRetryAttempts, default 2) and dropped past
 * MaximumEventAgeInSeconds (default 6 h).
 *
 * Changes to functions are durable before they are acknowledged: each command completes
 * through a callback, later (never from inside the call), once its change is committed; a
 * failed commit undoes the change in memory and completes with ERR_LAMBDA_SERVICE.
 *
 * Everything runs on the event-loop thread; nothing here is thread-safe.
 */
#ifndef HAAR_CLOUD_LAMBDA_H
#define HAAR_CLOUD_LAMBDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

struct lambda;
struct lambda_fn;
struct lambda_env;
struct lambda_inv;
struct logs;
struct store;

/* Invoke payload limits: 6 MB synchronous; 1 MB asynchronous (AWS raised it from 256 KB). */
enum { LAMBDA_MAX_SYNC_PAYLOAD = 6291456, LAMBDA_MAX_EVENT_PAYLOAD = 1048576 };

/* Loop services the host provides. */
struct lambda_host {
    void *arg;
    /* Starts a Runtime API listener for env on 127.0.0.1; sets *port; returns 0 or -1. */
    int (*env_listen)(void *arg, struct lambda_env *env, uint16_t *port, void **listener);
    /* Closes it (its requests get 503 from then on). */
    void (*env_unlisten)(void *arg, void *listener);
    /* Watches a readable fd; on_data(cbarg, data, len), len 0 = EOF. Returns a handle. */
    void *(*watch)(void *arg, int fd, void (*on_data)(void *cbarg, const char *d, size_t n),
                   void *cbarg);
    /* Stops a watch and closes its fd. */
    void (*unwatch)(void *handle);
};

struct lambda_options {
    const char *region;        /* "eu-west-1" */
    const char *state_dir;     /* code of created functions lives under <state_dir>/lambda */
    uint16_t aws_port;         /* for AWS_ENDPOINT_URL */
    int account_concurrency;   /* account limit (config emulator.account_concurrency_limit) */
    int idle_seconds;          /* reap idle environments after this long */
    int64_t code_storage_max;  /* bytes of code packages the account may hold (AWS: 75 GB) */
    bool cgroups;              /* put environments in cgroups v2 where the machine lets us */
    const char *runtimes_dir;  /* the managed runtimes' clients (python/, node/), or NULL */
    bool strict_runtimes;      /* refuse a python3.x / nodejsNN.x the machine lacks (else the
                                  nearest interpreter runs it, with a warning in its log) */
    bool layers_mount;         /* try a private mount namespace for /opt (else variables) */
};

/* Creates the engine. logs and store are borrowed (store may be NULL: nothing persists).
 * NULL when out of memory or when the store's schema cannot be applied (message in err). */
struct lambda *lambda_new(const struct lambda_options *opt, const struct lambda_host *host,
                          struct logs *logs, struct store *store, char *err, size_t errlen);

/* Loads persisted functions and queued Event invocations (after the environment's own
 * functions were provisioned: those win over records of the same name), and kills what a
 * crashed predecessor's environments left running. */
void lambda_restore(struct lambda *lm);

/* Kills every environment (each process tree) and frees; accepts NULL. */
void lambda_free(struct lambda *lm);

/* How environments are held together (for /_haar/health and the log): "cgroup2 (memory.max,
 * pids.max, cgroup.kill)", "cgroup2 (membership, cgroup.kill)" or "process tree (/proc)". */
const char *lambda_isolation(const struct lambda *lm);

/* How layers reach a function (for /_haar/health): "mount namespace (/opt)" when each
 * environment gets its own /opt, else "environment (HAAR_OPT_DIR, PATH, LD_LIBRARY_PATH)". */
const char *lambda_opt_mode(const struct lambda *lm);

/* The managed runtimes this machine runs, for /_haar/health: {"python": ["3.11.2"], "node":
 * [...], "strict": bool}. New reference. */
json_t *lambda_runtimes_json(struct lambda *lm);

/* Finds the machine's interpreters for managed runtimes off the loop (`node --version` takes
 * tens of milliseconds); without it they are found at the first need. Needs the work pool. */
void lambda_probe_runtimes(struct lambda *lm);

/*
 * Where asynchronous invocations' records go (EventInvokeConfig DestinationConfig): an SQS
 * destination is sent through send_sqs (fire and forget: a record that cannot be sent is
 * logged and dropped, as AWS drops it); a Lambda destination is invoked here (Event); other
 * kinds (SNS, EventBridge) are logged as not delivered. Without it SQS destinations are
 * logged and dropped too. arg is send_sqs's.
 */
void lambda_set_destinations(struct lambda *lm,
                             void (*send_sqs)(void *arg, const char *queue_arn, const char *body,
                                              size_t len),
                             void *arg);

/* Starts the environments provisioned concurrency keeps warm (after restore and provisioning). */
void lambda_start_provisioned(struct lambda *lm);

/* ---- functions ---------------------------------------------------------------------- */

/* A create/update request, as parsed from the REST body. Strings borrowed. */
struct lambda_fn_spec {
    const char *name;
    const char *runtime; /* NULL = keep/none */
    const char *role;
    const char *handler;
    const char *description;
    const char *architecture; /* "x86_64" | "arm64" */
    int timeout;              /* 0 = default/keep */
    int memory;               /* 0 = default/keep */
    json_t *env_vars;         /* object or NULL (borrowed) */
    bool has_env;
    json_t *tags;             /* CreateFunction's Tags: object or NULL (borrowed, checked) */
    /* code: exactly one of zip (bytes) or dir (an existing folder holding bootstrap) */
    const void *zip;
    size_t zip_len;
    const char *dir;
    json_t *layers;          /* Layers: layer version ARNs in order (borrowed), with has_layers */
    bool has_layers;
    bool publish;            /* CreateFunction's Publish: a version with the function */
    const char *revision_id; /* UpdateFunctionConfiguration's RevisionId (NULL: unchecked) */
    char *version_out;       /* with publish: gets the version's number (16 bytes, the
                                caller's, valid until done runs) */
};

/* Completion of a command: ERR_OK, or an error with an AWS-style message. */
typedef void (*lambda_op_fn)(void *arg, enum err e, const char *msg);

/*
 * Provisions a function from a build folder (spec->dir): the environment's own functions,
 * from config. Synchronous and not persisted (config recreates them at every start).
 * Returns ERR_OK or an error with msg.
 */
enum err lambda_fn_provision(struct lambda *lm, const struct lambda_fn_spec *spec, char *msg,
                             size_t msglen);

/* Publishes a provisioned function as it is as a version and points alias (created when
 * missing) at it: the environment's functions are reached through their "live" alias as
 * Terraform's 30_app wires them. Synchronous, not persisted. */
enum err lambda_fn_provision_alias(struct lambda *lm, const char *name, const char *alias,
                                   char *msg, size_t msglen);

/* Sets the EventInvokeConfig of a provisioned function or alias (synchronous, not persisted;
 * the values are the config reader's, already checked); on_failure: the destination ARN of
 * failed invocations' records, or NULL. */
void lambda_fn_provision_event_config(struct lambda_fn *fn, int max_retries, int max_age_s,
                                      const char *on_failure);

/* Reserved concurrency of a provisioned function (synchronous, not persisted). */
enum err lambda_fn_provision_concurrency(struct lambda *lm, const char *name, int n, char *msg,
                                         size_t msglen);

/*
 * CreateFunction from a zip (spec->zip, copied): checks conflicts, unpacks the code off the
 * loop, persists, then calls done. Validation happens in the REST adapter
 * (lambda_parse_fn_spec). done runs exactly once, later.
 */
void lambda_fn_create(struct lambda *lm, const struct lambda_fn_spec *spec, lambda_op_fn done,
                      void *arg);
/* UpdateFunctionCode: replaces the code (zip copied); new environments use it. */
void lambda_fn_update_code(struct lambda *lm, const char *name, const void *zip, size_t len,
                           lambda_op_fn done, void *arg);
/* UpdateFunctionCode with its options: RevisionId checked (PreconditionFailed), Publish. */
struct lambda_code_update {
    const void *zip;
    size_t len;
    bool publish;
    const char *revision_id; /* NULL: not checked */
    char *version_out;       /* with publish: as lambda_fn_spec's */
};
void lambda_fn_update_code_ex(struct lambda *lm, const char *name,
                              const struct lambda_code_update *u, lambda_op_fn done, void *arg);
/* UpdateFunctionConfiguration: the fields set in spec (non-NULL / non-zero). Running
 * environments are retired: the next invoke starts a fresh one. */
void lambda_fn_update_config(struct lambda *lm, const struct lambda_fn_spec *spec,
                             lambda_op_fn done, void *arg);
/* DeleteFunction: the function, its queued events and its code go; its environments stop. */
void lambda_fn_delete(struct lambda *lm, const char *name, lambda_op_fn done, void *arg);
/* Put/DeleteFunctionConcurrency: sets (n >= 0) or removes (n < 0) reserved concurrency. */
void lambda_fn_set_concurrency(struct lambda *lm, const char *name, int n, lambda_op_fn done,
                               void *arg);
/* TagResource: merges tags (an object lambda_check_tags accepted) into the function's;
 * refuses, changing nothing, when more than 50 would result. */
void lambda_fn_tag(struct lambda *lm, struct lambda_fn *fn, json_t *tags, lambda_op_fn done,
                   void *arg);
/* UntagResource: removes the keys (strings) of the array; unknown keys are ignored. */
void lambda_fn_untag(struct lambda *lm, struct lambda_fn *fn, json_t *keys, lambda_op_fn done,
                     void *arg);

/* The asynchronous-invocation settings of a function (EventInvokeConfig). */
struct lambda_event_config {
    bool set;              /* configured (Get answers 404 otherwise) */
    int max_retries;       /* 0..2, default 2 */
    int max_age_seconds;   /* 60..21600, default 21600 */
    json_t *destinations;  /* DestinationConfig object or NULL (owned by the function) */
    int64_t last_modified; /* epoch ms */
};

/* The function's EventInvokeConfig (borrowed). */
const struct lambda_event_config *lambda_fn_event_config(const struct lambda_fn *fn);
/* Put (replace: unset fields take defaults) or Update (merge: unset fields kept) the
 * EventInvokeConfig; max_retries / max_age_seconds < 0 mean "not given"; destinations NULL
 * means not given (borrowed). Ranges are checked by the adapter. */
void lambda_fn_put_event_config(struct lambda *lm, struct lambda_fn *fn, bool merge,
                                int max_retries, int max_age_seconds, json_t *destinations,
                                lambda_op_fn done, void *arg);
/* DeleteFunctionEventInvokeConfig: back to the defaults, unset. */
void lambda_fn_delete_event_config(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done,
                                   void *arg);

/* ---- the resource policy (AddPermission, RemovePermission, GetPolicy) ---- */

/* Adds a statement (an object as AWS stores it: Sid, Effect, Principal, Action, Resource,
 * Condition; copied). ERR_LAMBDA_CONFLICT when its Sid is taken, ERR_LAMBDA_PRECONDITION when
 * revision_id (NULL: not checked) is not the policy's. */
void lambda_fn_add_permission(struct lambda *lm, struct lambda_fn *fn, const json_t *statement,
                              const char *revision_id, lambda_op_fn done, void *arg);
/* Removes the statement sid (ERR_LAMBDA_NOT_FOUND when absent); the policy goes with its last
 * statement. */
void lambda_fn_remove_permission(struct lambda *lm, struct lambda_fn *fn, const char *sid,
                                 const char *revision_id, lambda_op_fn done, void *arg);
/* The policy (borrowed) and its revision id, or NULL when the function has none. */
const json_t *lambda_fn_policy(const struct lambda_fn *fn, const char **revision_id);
/* True when an Allow statement lets the service principal ("apigateway.amazonaws.com")
 * invoke fn for source_arn (ArnLike/ArnEquals on AWS:SourceArn, '*' and '?' wildcards) from
 * account (StringEquals on AWS:SourceAccount); statements with other conditions do not. */
bool lambda_fn_permits(const struct lambda_fn *fn, const char *service, const char *source_arn,
                       const char *account);

/* True when fn's policy lets anyone call its function URL with this auth type: an Allow
 * statement for principal "*" on lambda:InvokeFunctionUrl (or lambda:*), whose conditions,
 * if any, are StringEquals lambda:FunctionUrlAuthType = auth_type — what AWS requires of
 * a URL whose AuthType is NONE. */
bool lambda_fn_permits_url(const struct lambda_fn *fn, const char *auth_type);

/* Looks a function up by name; NULL if none (or being deleted). */
struct lambda_fn *lambda_fn_find(struct lambda *lm, const char *name);

/* The function at a qualifier: NULL, "" or "$LATEST" gives the function itself, a number its
 * published version, a name its alias. NULL if none. Invoking an alias runs its version (or,
 * by its routing weight, the additional one); reading it reads the alias. */
struct lambda_fn *lambda_fn_find_qualified(struct lambda *lm, const char *name,
                                           const char *qualifier);

/* The function a reference names as AWS accepts it where a qualified ARN may go (event
 * source mappings, schedule targets, integrations): "name", "name:qualifier", a partial ARN
 * "<account>:function:name[:qualifier]" or a full ARN. NULL if none. */
struct lambda_fn *lambda_fn_find_arn(struct lambda *lm, const char *ref);

/* ---- versions and aliases (version.c) ---- */

/* PublishVersion: a version of $LATEST's code and configuration as they are now (the last
 * one again when nothing changed since it was published). code_sha256 / revision_id (NULL:
 * unchecked) must match $LATEST's. version_out (16 bytes, the caller's, valid until done)
 * gets its number. */
void lambda_fn_publish(struct lambda *lm, struct lambda_fn *fn, const char *code_sha256,
                       const char *revision_id, const char *description, char *version_out,
                       lambda_op_fn done, void *arg);

/* DeleteFunction with a version qualifier: that version goes (not while an alias points at
 * it: ResourceConflictException). */
void lambda_fn_delete_version(struct lambda *lm, struct lambda_fn *version, lambda_op_fn done,
                              void *arg);

/* An alias's settings. Strings borrowed. */
struct lambda_alias_spec {
    const char *name;
    const char *version;     /* FunctionVersion ("$LATEST" or a number); NULL: keep */
    const char *description; /* NULL: keep ("" on create) */
    bool has_routing;        /* RoutingConfig given (an empty one removes the routing) */
    const char *extra;       /* AdditionalVersionWeights' version, NULL: none */
    double weight;
    const char *revision_id; /* UpdateAlias: NULL unchecked */
};
/* CreateAlias / UpdateAlias / DeleteAlias on the function fn ($LATEST). */
void lambda_alias_create(struct lambda *lm, struct lambda_fn *fn, const struct lambda_alias_spec *s,
                         lambda_op_fn done, void *arg);
void lambda_alias_update(struct lambda *lm, struct lambda_fn *fn, const struct lambda_alias_spec *s,
                         lambda_op_fn done, void *arg);
void lambda_alias_delete(struct lambda *lm, struct lambda_fn *fn, const char *name,
                         lambda_op_fn done, void *arg);

/* What an alias shows. Strings borrowed from it. */
struct lambda_alias_info {
    const char *name, *arn, *version, *description, *extra, *revision;
    double weight;
};
/* Fills out; false when fn is no alias. */
bool lambda_alias_info(const struct lambda_fn *fn, struct lambda_alias_info *out);

/* Calls cb for each version (by number) then each alias (by name) of the function fn, while
 * it returns true. */
void lambda_fn_each_qualified(struct lambda_fn *fn, bool (*cb)(void *arg, struct lambda_fn *q),
                              void *arg);

/* The version an alias points at (fn itself for $LATEST or a version); NULL if it is gone. */
struct lambda_fn *lambda_fn_target(struct lambda_fn *fn);

/* The function ($LATEST) a version or alias belongs to. */
struct lambda_fn *lambda_fn_base(struct lambda_fn *fn);

/* Provisioned concurrency (a version or an alias): n environments kept warm. */
void lambda_pc_put(struct lambda *lm, struct lambda_fn *fn, int n, lambda_op_fn done, void *arg);
void lambda_pc_delete(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done, void *arg);
struct lambda_pc_info {
    bool set;
    int requested, allocated, available;
    const char *status; /* IN_PROGRESS | READY | FAILED */
    const char *reason; /* with FAILED */
    int64_t last_modified;
};
void lambda_pc_info(struct lambda_fn *fn, struct lambda_pc_info *out);

/* ---- function URLs (url.c) ---- */

struct lambda_url_spec {
    const char *auth_type;   /* NONE | AWS_IAM; NULL: keep */
    json_t *cors;            /* the Cors object (borrowed), with has_cors */
    bool has_cors;
    const char *invoke_mode; /* NULL: keep (BUFFERED on create) */
};
/* Create/Update/DeleteFunctionUrlConfig on fn ($LATEST or an alias). */
void lambda_url_create(struct lambda *lm, struct lambda_fn *fn, const struct lambda_url_spec *s,
                       lambda_op_fn done, void *arg);
void lambda_url_update(struct lambda *lm, struct lambda_fn *fn, const struct lambda_url_spec *s,
                       lambda_op_fn done, void *arg);
void lambda_url_delete(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done, void *arg);
struct lambda_url_info {
    bool set;
    const char *id, *auth_type, *invoke_mode;
    const json_t *cors; /* or NULL */
    int64_t created, modified;
};
void lambda_url_info(const struct lambda_fn *fn, struct lambda_url_info *out);
/* The function (or alias) whose URL has the id (len bytes), or NULL. */
struct lambda_fn *lambda_url_find(struct lambda *lm, const char *id, size_t len);

/* ---- layers (layer.c) ---- */

struct lambda_layer;

struct lambda_layer_spec {
    const char *name;
    const char *description, *license; /* NULL: none */
    json_t *runtimes, *archs;          /* arrays (borrowed) or NULL */
    const void *zip;                   /* copied */
    size_t zip_len;
};
/* PublishLayerVersion: unpacks the zip off the loop, records the next version of the layer;
 * *out (the caller's, valid until done) gets the new layer version. */
void lambda_layer_publish(struct lambda *lm, const struct lambda_layer_spec *s,
                          struct lambda_layer **out, lambda_op_fn done, void *arg);
/* DeleteLayerVersion (none: nothing to do, as AWS). Functions using it keep their /opt. */
void lambda_layer_delete(struct lambda *lm, const char *name, int version, lambda_op_fn done,
                         void *arg);
/* The layer version, or NULL. */
struct lambda_layer *lambda_layer_find(struct lambda *lm, const char *name, int version);
/* The layer version an ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>) names,
 * or NULL. */
struct lambda_layer *lambda_layer_by_arn(struct lambda *lm, const char *arn);
/* Each layer version of name (NULL: every layer), newest version first; stops when cb
 * returns false. */
void lambda_layer_each(struct lambda *lm, const char *name,
                       bool (*cb)(void *arg, struct lambda_layer *l), void *arg);
struct lambda_layer_info {
    const char *name, *arn, *version_arn, *description, *license, *sha256;
    int version;
    long long size;
    int64_t created;
    const json_t *runtimes, *archs; /* or NULL */
    const char *zip;                /* the package's path */
};
void lambda_layer_info(const struct lambda_layer *l, struct lambda_layer_info *out);
/* Add/RemoveLayerVersionPermission; GetLayerVersionPolicy (NULL without a policy). */
void lambda_layer_add_permission(struct lambda *lm, struct lambda_layer *l, const json_t *st,
                                 const char *revision_id, lambda_op_fn done, void *arg);
void lambda_layer_remove_permission(struct lambda *lm, struct lambda_layer *l, const char *sid,
                                    const char *revision_id, lambda_op_fn done, void *arg);
const json_t *lambda_layer_policy(const struct lambda_layer *l, const char **revision_id);

/* What the REST adapter shows of a function. Strings borrowed from the function. */
struct lambda_fn_info {
    const char *name, *arn, *runtime, *role, *handler, *description, *arch, *code_sha256;
    long long code_size;
    int timeout, memory, reserved;
    int64_t last_modified;
    json_t *env_vars; /* object or NULL */
    json_t *tags;     /* object or NULL */
    bool managed;     /* provisioned from a build folder: no zip to download */
    const char *code_zip; /* path of the package as uploaded, or NULL */
    const char *version;  /* "$LATEST" or the version's number (NULL for an alias) */
    const char *qualifier;
    const char *revision; /* RevisionId */
    const json_t *layers; /* layer version ARNs, or NULL */
    bool is_alias;
};
void lambda_fn_info(const struct lambda_fn *fn, struct lambda_fn_info *out);

/* The secret of a function's own access key (the credentials its environments get) and the
 * function's name, when token is that function's session token; NULL otherwise. */
const char *lambda_secret_for_key(const struct lambda *lm, const char *access_key,
                                  const char *token, const char **fn_name, const char **role);

/* Writes "Function not found: arn:aws:lambda:<region>:000000000000:function:<name>". */
void lambda_not_found_msg(const struct lambda *lm, const char *name, char *msg, size_t msglen);

/* The region the engine serves. */
const char *lambda_region(const struct lambda *lm);

/* Names in sorted order: calls fn for each, stops when it returns false. */
void lambda_fn_each(struct lambda *lm, bool (*cb)(void *arg, struct lambda_fn *fn), void *arg);
/* A JSON summary for /_haar/health: [{name, state, environments, busy, queued}]. New ref. */
json_t *lambda_health_json(const struct lambda *lm);

/* ---- invocations -------------------------------------------------------------------- */

enum lambda_inv_type { LAMBDA_INV_SYNC, LAMBDA_INV_EVENT };

/* What an invocation came to. body is the function's response or error JSON. */
struct lambda_result {
    enum err err;        /* ERR_OK, or a platform error (throttle) the caller answers */
    const char *err_msg; /* with err */
    const char *throttle_reason;
    bool function_error; /* X-Amz-Function-Error: Unhandled */
    const char *body;
    size_t len;
    const char *log_tail; /* last 4 KB of the invocation's log lines, when asked */
    size_t log_tail_len;
    const char *request_id;
    const char *executed_version; /* "$LATEST" or the version that ran (X-Amz-Executed-Version) */
};

typedef void (*lambda_done_fn)(void *arg, const struct lambda_result *res);

/*
 * Invokes fn (the function, a version, or an alias: that routes to its version). payload is
 * copied. done(arg, res) runs exactly once, later (never from inside
 * this call), unless the invocation is detached first. For SYNC it runs with the function's
 * answer or a platform error (throttled, draining). For EVENT it runs once the event is
 * durable: res.err ERR_OK means "answer 202", ERR_LAMBDA_SERVICE means it could not be
 * stored (and was not queued). want_tail asks for the log tail (SYNC only). client_context
 * is the decoded X-Amz-Client-Context JSON (or NULL). request_id_out (may be NULL) gets the
 * request id. Returns the invocation (for lambda_inv_detach; for EVENT only a sign of
 * success, not to be kept), or NULL when out of memory — done is then never called.
 */
struct lambda_inv *lambda_invoke(struct lambda *lm, struct lambda_fn *fn, enum lambda_inv_type type,
                                 const char *payload, size_t len, const char *client_context,
                                 bool want_tail, lambda_done_fn done, void *arg,
                                 char request_id_out[37]);

/* The caller of a SYNC invocation went away: done will not be called. One no environment has
 * taken yet is dropped (it never runs); one already running runs to its end. */
void lambda_inv_detach(struct lambda_inv *inv);

/* A process exited (from the host's SIGCHLD handling): status as from waitpid. Processes of
 * environments' trees that are not the runtime itself are just reaped. */
void lambda_child_exited(struct lambda *lm, int pid, int status);

/* Drain for shutdown: stops new invocations (they answer ServiceException), returns true
 * once nothing is in flight. */
bool lambda_drain(struct lambda *lm);

/* ---- the Runtime API side (called by runtime_api.c) ------------------------------- */

/* A parked GET /next: the engine calls deliver(w, ...) when an event is assigned. */
struct lambda_next_waiter {
    void (*deliver)(struct lambda_next_waiter *w, const char *request_id, int64_t deadline_ms,
                    const char *function_arn, const char *trace_id, const char *client_context,
                    const char *payload, size_t len);
    /* the environment is going away: answer 500 and forget it */
    void (*abort)(struct lambda_next_waiter *w);
    struct lambda_next_waiter *next; /* the engine's */
};

/* The environment's process id (0 once gone). */
int lambda_env_pid(const struct lambda_env *env);

/* True when the process holding the socket fd's peer end belongs to env's process tree:
 * only those may use its Runtime API. */
bool lambda_env_owns_peer(struct lambda_env *env, int fd);

/* Registers a parked /next. Waiters queue (a second one does not abort the first); the
 * oldest gets the next event. May deliver immediately. */
void lambda_env_next(struct lambda_env *env, struct lambda_next_waiter *w);
/* A parked /next connection went away. */
void lambda_env_next_gone(struct lambda_env *env, struct lambda_next_waiter *w);
/* POST .../{id}/response. Returns ERR_OK (202), ERR_LAMBDA_INVALID_RUNTIME_ID for an unknown
 * id (400 InvalidRequestID), ERR_LAMBDA_TOO_LARGE for > 6 MB (413). */
enum err lambda_env_response(struct lambda_env *env, const char *rid, size_t rid_len,
                             const char *body, size_t len);
/* POST .../{id}/error; error_type is the Lambda-Runtime-Function-Error-Type header or NULL. */
enum err lambda_env_error(struct lambda_env *env, const char *rid, size_t rid_len, const char *body,
                          size_t len, const char *error_type, size_t et_len);
/* POST /runtime/init/error. */
enum err lambda_env_init_error(struct lambda_env *env, const char *body, size_t len,
                               const char *error_type, size_t et_len);

/* ---- validation and naming (pure; fuzzed) ------------------------------------------ */

/*
 * Resolves a FunctionName path parameter (already percent-decoded) — a name, a full ARN
 * arn:aws:lambda:<region>:<account>:function:<name>[:qualifier], or a partial ARN
 * <account>:function:<name> — into the bare name. qualifier (if present) must be
 * "$LATEST"; others give ERR_LAMBDA_NOT_FOUND. Returns ERR_OK and writes name (≤ 64 chars
 * of [A-Za-z0-9_-]), or ERR_LAMBDA_VALIDATION with AWS's message: the model's errors for
 * the FunctionName shape, else the service's 64-character limit, else its pattern.
 */
enum err lambda_resolve_name(const char *in, size_t len, char *name, size_t namelen, char *msg,
                             size_t msglen);

/*
 * As lambda_resolve_name, but keeps the qualifier a name or ARN carries: qual gets it (""
 * when none; any [A-Za-z0-9_$-]+ is accepted, existence is the caller's to check). Returns
 * ERR_OK or ERR_LAMBDA_VALIDATION with AWS's message.
 */
enum err lambda_resolve_ref(const char *in, size_t len, char *name, size_t namelen, char *qual,
                            size_t quallen, char *msg, size_t msglen);

/* Does role match the model's RoleArn pattern (arn:aws:iam::<12 digits>:role/<path/name>)? */
bool lambda_valid_role(const char *role);

#define LAMBDA_MAX_TAGS 50

/*
 * A request member that does not travel in the JSON body: a path segment, query-string
 * member or header, named as the model names the member ("FunctionName", "Qualifier",
 * "InvocationType", "TagKeys"). value is len bytes (decoded; need not be NUL-terminated).
 * A list member (UntagResource's TagKeys) is given once per element.
 */
struct lambda_param {
    const char *member;
    const char *value;
    size_t len;
};

/*
 * Checks a request to operation op (a Lambda model operation name: "CreateFunction",
 * "UpdateFunctionConfiguration", "Invoke", "TagResource", ...) against the constraints
 * AWS's service model puts on its members (the table in shapes.c): required members,
 * string lengths (in code points), patterns, enums, integer ranges, list and map sizes,
 * nested structures. body is the parsed JSON body or NULL; params the members bound
 * outside the body, or NULL to leave those unchecked (the caller checks them itself).
 * Unknown body members are ignored, JSON nulls count as absent.
 * Returns ERR_OK, or writes AWS's message into msg (always NUL-terminated, valid UTF-8)
 * and returns:
 *   ERR_LAMBDA_VALIDATION — "1 validation error detected: Value 'x' at 'handler' failed to
 *     satisfy constraint: Member must have length less than or equal to 128", several
 *     joined by "; " in AWS's order ("2 validation errors detected: ...; ...");
 *   ERR_LAMBDA_INVALID_PARAMETER — a member of the wrong JSON type, or a string holding a
 *     NUL character that its constraints would let through (refused, never truncated);
 *   ERR_LAMBDA_SERVICE — op is not in the table (our bug).
 * Values are shown as AWS shows them (sensitive ones left out: "Value at 'x'"); only when
 * the whole text would not fit in msglen are the longest values cut, ending in "...".
 * Pure and thread-safe.
 */
enum err lambda_validate_request(const char *op, const json_t *body,
                                 const struct lambda_param *params, size_t nparams, char *msg,
                                 size_t msglen);

/*
 * Checks one string (len bytes) against the model shape called shape ("Qualifier",
 * "Handler", "TaggableResource", ...), reporting it at member path ("qualifier"). Returns
 * ERR_OK, or ERR_LAMBDA_VALIDATION / ERR_LAMBDA_INVALID_PARAMETER with msg as
 * lambda_validate_request does; ERR_LAMBDA_SERVICE for an unknown shape.
 */
enum err lambda_validate_value(const char *shape, const char *path, const char *value, size_t len,
                               char *msg, size_t msglen);

/* Checks a Tags object as Lambda's service does after the model's checks: at most 50,
 * keys 1..128 and values 0..256 characters, string values without NUL characters, no
 * "aws:" keys. */
enum err lambda_check_tags(json_t *tags, char *msg, size_t msglen);

/*
 * Parses a CreateFunction (update false) or UpdateFunctionConfiguration (update true) body
 * into spec: JSON, then the model's constraints (lambda_validate_request; the path's
 * FunctionName is the caller's), then the service's own checks (runtime, plain function
 * names of at most 64 characters, environment variables, tags). Strings in spec are
 * borrowed from *doc, which the caller frees with json_decref; none holds a NUL. For a
 * create, decodes Code.ZipFile into zip (the caller destroys it; unused for an update).
 * Returns ERR_OK or an error with AWS's message in msg.
 */
enum err lambda_parse_fn_spec(const char *body, size_t len, bool update, json_t **doc,
                              struct lambda_fn_spec *spec, struct buf *zip, char *msg,
                              size_t msglen);

/* Decodes X-Amz-Client-Context (base64 JSON) into out. Returns ERR_OK or
 * ERR_LAMBDA_INVALID_PARAMETER (bad base64 / not JSON object / over 3583 bytes). */
enum err lambda_decode_client_context(const char *b64, size_t len, struct buf *out);

#endif
