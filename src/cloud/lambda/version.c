/*
 * version.c — published versions, aliases and provisioned concurrency.
 *
 * A version is a copy of $LATEST's code and configuration taken at PublishVersion: an object
 * of its own in the function table (key "name:N"), with its own environments, queues and
 * policy; it never changes. An alias (key "name:alias") holds no code: an invocation of it
 * runs on the version it points at or, with the routing configuration's weight, on the
 * additional version. Provisioned concurrency on a version or an alias keeps that many
 * environments of the version warm (started at once, never reaped when idle, restarted when
 * one dies).
 *
 * Every command changes memory, then commits the function's record (registry.c's struct op):
 * the completion comes once it is durable, and a failed commit undoes the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud/lambda/lambda_int.h"
#include "core/clock.h"
#include "core/log.h"

enum { PC_RETRY_MS = 1000, PC_MAX_FAILURES = 3 };

/* ---- routing ---- */

static struct lambda_fn *version_of(struct lambda_fn *base, const char *qual)
{
    if (qual[0] == '\0' || strcmp(qual, "$LATEST") == 0)
        return base;
    char key[sizeof base->key];
    if (!lambda__qualified_key(key, sizeof key, base->name, qual))
        return NULL;
    struct lambda_fn *v = lambda__find_any(base->lm, key);
    return v && v->kind == FN_VERSION && !v->deleting ? v : NULL;
}

struct lambda_fn *lambda__route(struct lambda_fn *fn)
{
    if (fn->kind != FN_ALIAS)
        return fn;
    const char *qual = fn->alias_to;
    if (fn->alias_extra[0] != '\0' && fn->alias_weight > 0) {
        double r = (double)(lambda__random(fn->lm) >> 11) / 9007199254740992.0;
        if (r < fn->alias_weight)
            qual = fn->alias_extra;
    }
    return version_of(fn->base, qual);
}

struct lambda_fn *lambda_fn_target(struct lambda_fn *fn)
{
    return fn->kind == FN_ALIAS ? version_of(fn->base, fn->alias_to) : fn;
}

struct lambda_fn *lambda_fn_base(struct lambda_fn *fn)
{
    return fn->base;
}

void lambda_fn_each_qualified(struct lambda_fn *fn, bool (*cb)(void *arg, struct lambda_fn *q),
                              void *arg)
{
    struct lambda_fn **kids;
    size_t n = lambda__children(fn->base, &kids);
    for (size_t i = 0; i < n; i++)
        if (!kids[i]->deleting && !cb(arg, kids[i]))
            break;
    free(kids);
}

/* ---- PublishVersion ---- */

struct lambda_fn *lambda__publish(struct lambda_fn *base, const char *description, bool *created)
{
    char last[16];
    snprintf(last, sizeof last, "%d", base->last_version);
    struct lambda_fn *prev = base->last_version > 0 ? version_of(base, last) : NULL;
    *created = false;
    if (prev != NULL && prev->published_rev == base->config_rev)
        return prev; /* nothing changed since: AWS answers with that version */
    char qual[16];
    snprintf(qual, sizeof qual, "%d", base->last_version + 1);
    struct lambda_fn *v = lambda__fn_child(base, FN_VERSION, qual);
    if (v == NULL)
        return NULL;
    base->last_version++;
    if (description != NULL) {
        free(v->description);
        v->description = strdup(description);
    }
    v->last_modified = clock_now_ms();
    lambda__new_revision(base); /* publishing is a change of $LATEST's, as AWS counts */
    *created = true;
    LOG_INFO("version_published", NULL, "%s", v->key);
    return v;
}

void lambda_fn_publish(struct lambda *lm, struct lambda_fn *fn, const char *code_sha256,
                       const char *revision_id, const char *description, char *version_out,
                       lambda_op_fn done, void *arg)
{
    struct op *op = lambda__op_change(lm, fn->base, done, arg);
    if (op == NULL)
        return;
    fn = fn->base;
    if (revision_id != NULL && strcmp(revision_id, fn->revision) != 0) {
        lambda__op_complete(op, ERR_LAMBDA_PRECONDITION,
                            "The Revision Id provided does not match the latest Revision Id. "
                            "Call the GetFunction/GetAlias API to retrieve the latest Revision "
                            "Id");
        return;
    }
    if (code_sha256 != NULL && strcmp(code_sha256, fn->sha) != 0) {
        lambda__op_complete(op, ERR_LAMBDA_INVALID_PARAMETER,
                            "CodeSHA256 (%.64s) is different from current CodeSHA256 in $LATEST "
                            "(%s). Please try again with the CodeSHA256 in $LATEST.",
                            code_sha256, fn->sha);
        return;
    }
    bool created;
    struct lambda_fn *v = lambda__publish(fn, description, &created);
    if (v == NULL) {
        lambda__op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    snprintf(version_out, 16, "%.15s", v->qual);
    if (!created) {
        lambda__op_complete(op, ERR_OK, NULL);
        return;
    }
    lambda__op_commit(op);
}

/* The aliases of base pointing at version qual, as AWS lists them: "[a, b]". */
static void referencing_aliases(struct lambda_fn *base, const char *qual, char *out, size_t len)
{
    struct lambda_fn **kids;
    size_t n = lambda__children(base, &kids), off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && off + 1 < len; i++)
        if (kids[i]->kind == FN_ALIAS && !kids[i]->deleting &&
            (strcmp(kids[i]->alias_to, qual) == 0 || strcmp(kids[i]->alias_extra, qual) == 0)) {
            int w = snprintf(out + off, len - off, "%s%s", off ? ", " : "", kids[i]->qual);
            off += w > 0 ? (size_t)w : 0;
        }
    free(kids);
}

void lambda_fn_delete_version(struct lambda *lm, struct lambda_fn *version, lambda_op_fn done,
                              void *arg)
{
    struct op *op = lambda__op_change(lm, version, done, arg);
    if (op == NULL)
        return;
    char users[1024];
    referencing_aliases(version->base, version->qual, users, sizeof users);
    if (users[0] != '\0') {
        lambda__op_complete(op, ERR_LAMBDA_CONFLICT,
                            "Unable to delete version because the following aliases reference "
                            "it: [%s]",
                            users);
        return;
    }
    lambda__op_commit_delete(op, version);
}

/* ---- aliases ---- */

static struct lambda_fn *alias_of(struct lambda_fn *base, const char *name)
{
    char key[sizeof base->key];
    if (!lambda__qualified_key(key, sizeof key, base->name, name))
        return NULL;
    struct lambda_fn *a = lambda__find_any(base->lm, key);
    return a && a->kind == FN_ALIAS && !a->deleting ? a : NULL;
}

/* Checks an alias's target and routing: ERR_OK, or the error completed on op. */
static bool bad_target(struct op *op, struct lambda_fn *base, const char *version,
                       const char *extra, double weight)
{
    struct lambda *lm = base->lm;
    if (version_of(base, version) == NULL) {
        lambda__op_complete(op, ERR_LAMBDA_NOT_FOUND,
                            "Function not found: arn:aws:lambda:%s:000000000000:function:%s:%s",
                            lm->region, base->name, version);
        return true;
    }
    if (extra == NULL || extra[0] == '\0')
        return false;
    if (weight < 0.0 || weight > 1.0) {
        lambda__op_complete(op, ERR_LAMBDA_VALIDATION,
                            "1 validation error detected: Value '{%s=%g}' at "
                            "'routingConfig.additionalVersionWeights' failed to satisfy "
                            "constraint: Map value must satisfy constraint: [Member must have "
                            "value less than or equal to 1.0, Member must have value greater "
                            "than or equal to 0.0, Member must not be null]",
                            extra, weight);
        return true;
    }
    if (strcmp(extra, version) == 0) {
        lambda__op_complete(op, ERR_LAMBDA_INVALID_PARAMETER,
                            "Invalid function version %s. Function version %s is already "
                            "included in routing configuration.",
                            version, version);
        return true;
    }
    if (strcmp(version, "$LATEST") == 0) {
        lambda__op_complete(op, ERR_LAMBDA_INVALID_PARAMETER,
                            "$LATEST is not supported for an alias pointing to more than 1 "
                            "version");
        return true;
    }
    if (version_of(base, extra) == NULL) {
        lambda__op_complete(op, ERR_LAMBDA_NOT_FOUND,
                            "Function not found: arn:aws:lambda:%s:000000000000:function:%s:%s",
                            lm->region, base->name, extra);
        return true;
    }
    return false;
}

void lambda_alias_create(struct lambda *lm, struct lambda_fn *fn, const struct lambda_alias_spec *s,
                         lambda_op_fn done, void *arg)
{
    struct lambda_fn *base = fn->base;
    struct op *op = lambda__op_change(lm, base, done, arg);
    if (op == NULL)
        return;
    struct lambda_fn *old = alias_of(base, s->name);
    if (old != NULL) {
        lambda__op_complete(op, ERR_LAMBDA_CONFLICT, "Alias already exists: %s", old->arn);
        return;
    }
    const char *extra = s->has_routing ? s->extra : NULL;
    if (bad_target(op, base, s->version ? s->version : "", extra, s->weight))
        return;
    struct lambda_fn *a = lambda__fn_child(base, FN_ALIAS, s->name);
    if (a == NULL) {
        lambda__op_complete(op, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    snprintf(a->alias_to, sizeof a->alias_to, "%s", s->version);
    snprintf(a->alias_extra, sizeof a->alias_extra, "%s", extra ? extra : "");
    a->alias_weight = extra ? s->weight : 0;
    a->description = strdup(s->description ? s->description : "");
    a->last_modified = clock_now_ms();
    lambda__op_commit(op);
}

static void cannot_find_alias(struct op *op, struct lambda_fn *base, const char *name)
{
    lambda__op_complete(op, ERR_LAMBDA_NOT_FOUND,
                        "Cannot find alias arn: arn:aws:lambda:%s:000000000000:function:%s:%s",
                        base->lm->region, base->name, name);
}

void lambda_alias_update(struct lambda *lm, struct lambda_fn *fn, const struct lambda_alias_spec *s,
                         lambda_op_fn done, void *arg)
{
    struct lambda_fn *base = fn->base;
    struct lambda_fn *a = alias_of(base, s->name);
    struct op *op = lambda__op_change(lm, a ? a : base, done, arg);
    if (op == NULL)
        return;
    if (a == NULL) {
        cannot_find_alias(op, base, s->name);
        return;
    }
    if (s->revision_id != NULL && strcmp(s->revision_id, a->revision) != 0) {
        lambda__op_complete(op, ERR_LAMBDA_PRECONDITION,
                            "The Revision Id provided does not match the latest Revision Id. "
                            "Call the GetFunction/GetAlias API to retrieve the latest Revision "
                            "Id");
        return;
    }
    /* what stays as it is is copied first: the new values are written over the old */
    char version[16], extra[16];
    snprintf(version, sizeof version, "%s", s->version ? s->version : a->alias_to);
    snprintf(extra, sizeof extra, "%s",
             s->has_routing ? (s->extra ? s->extra : "") : a->alias_extra);
    double weight = s->has_routing ? s->weight : a->alias_weight;
    if (s->version != NULL && strlen(s->version) >= sizeof version) {
        bad_target(op, base, s->version, NULL, 0); /* no such version */
        return;
    }
    if (bad_target(op, base, version, extra, weight))
        return;
    memcpy(a->alias_to, version, sizeof version);
    memcpy(a->alias_extra, extra, sizeof extra);
    a->alias_weight = extra[0] ? weight : 0;
    if (s->description != NULL) {
        free(a->description);
        a->description = strdup(s->description);
    }
    a->last_modified = clock_now_ms();
    lambda__new_revision(a);
    lambda__pc_reconcile(base);
    lambda__op_commit(op);
}

void lambda_alias_delete(struct lambda *lm, struct lambda_fn *fn, const char *name,
                         lambda_op_fn done, void *arg)
{
    struct lambda_fn *base = fn->base;
    struct lambda_fn *a = alias_of(base, name);
    struct op *op = lambda__op_change(lm, a ? a : base, done, arg);
    if (op == NULL)
        return;
    if (a == NULL) { /* AWS answers 204 for an alias that is not there */
        lambda__op_complete(op, ERR_OK, NULL);
        return;
    }
    lambda__op_commit_delete(op, a);
}

bool lambda_alias_info(const struct lambda_fn *fn, struct lambda_alias_info *out)
{
    if (fn->kind != FN_ALIAS)
        return false;
    *out = (struct lambda_alias_info){.name = fn->qual,
                                      .arn = fn->arn,
                                      .version = fn->alias_to,
                                      .description = fn->description ? fn->description : "",
                                      .extra = fn->alias_extra[0] ? fn->alias_extra : NULL,
                                      .revision = fn->revision,
                                      .weight = fn->alias_weight};
    return true;
}

/* ---- provisioned concurrency ---- */

int lambda__pc_wanted(const struct lambda_fn *version)
{
    if (version->kind != FN_VERSION || version->deleted)
        return 0;
    int n = version->pc.set ? version->pc.requested : 0;
    struct lambda_fn **kids;
    size_t k = lambda__children(version->base, &kids);
    for (size_t i = 0; i < k; i++)
        if (kids[i]->kind == FN_ALIAS && !kids[i]->deleting && kids[i]->pc.set &&
            strcmp(kids[i]->alias_to, version->qual) == 0)
            n += kids[i]->pc.requested;
    free(kids);
    return n;
}

/* Provisioned environments of a version alive (not being killed), and those initialized. */
static int pc_count(const struct lambda_fn *v, int *ready)
{
    int n = 0, r = 0;
    for (const struct lambda_env *e = v->envs; e; e = e->next)
        if (e->provisioned && e->killed == KILL_NONE && e->pid > 0) {
            n++;
            r += e->state != ENV_STARTING;
        }
    if (ready != NULL)
        *ready = r;
    return n;
}

void lambda__pc_fill(struct lambda_fn *v)
{
    if (v->kind != FN_VERSION || v->deleted || v->lm->draining)
        return;
    int want = lambda__pc_wanted(v), have = pc_count(v, NULL);
    /* too many (a configuration went down or moved): the idle extras go */
    for (struct lambda_env *e = v->envs; e && have > want; e = e->next)
        if (e->provisioned && e->killed == KILL_NONE && e->state == ENV_IDLE) {
            e->provisioned = false;
            lambda__env_kill(e, KILL_REAP);
            have--;
        }
    if (v->pc_failures >= PC_MAX_FAILURES)
        return; /* its init keeps failing: FAILED until the configuration changes */
    while (have < want && lambda__env_room(v)) {
        struct lambda_env_cmd cmd;
        char why[512];
        bool runnable = lambda__env_command(v, &cmd, why, sizeof why) == 0;
        if (!runnable)
            LOG_ERROR("env_start", NULL, "%s: cannot start environment: %s", v->name, why);
        if (!runnable || lambda__env_spawn(v, true, &cmd) == NULL) {
            timer_start(&v->pc_timer, PC_RETRY_MS);
            break;
        }
        have++;
    }
}

void lambda__pc_reconcile(struct lambda_fn *base)
{
    struct lambda_fn **kids;
    size_t n = lambda__children(base, &kids);
    for (size_t i = 0; i < n; i++)
        if (kids[i]->kind == FN_VERSION)
            timer_start(&kids[i]->pc_timer, 0);
    free(kids);
}

void lambda_pc_put(struct lambda *lm, struct lambda_fn *fn, int n, lambda_op_fn done, void *arg)
{
    struct op *op = lambda__op_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    struct lambda_fn *base = fn->base;
    int others = 0;
    struct lambda_fn **kids;
    size_t k = lambda__children(base, &kids);
    const char *conflict = NULL;
    for (size_t i = 0; i < k; i++) {
        struct lambda_fn *o = kids[i];
        if (o == fn || !o->pc.set)
            continue;
        others += o->pc.requested;
        if (fn->kind == FN_ALIAS && o->kind == FN_VERSION && strcmp(o->qual, fn->alias_to) == 0)
            conflict = "Alias can't be used for Provisioned Concurrency configuration on an "
                       "already Provisioned version";
        if (fn->kind == FN_VERSION && o->kind == FN_ALIAS && strcmp(o->alias_to, fn->qual) == 0)
            conflict = "Version is pointed by a Provisioned Concurrency alias";
    }
    free(kids);
    int limit = lm->opt.account_concurrency;
    int min_unreserved = limit >= 1000 ? 100 : limit / 10;
    if (conflict != NULL) {
        lambda__op_complete(op, ERR_LAMBDA_CONFLICT, "%s", conflict);
    } else if (base->reserved >= 0 && base->reserved < others + n) {
        lambda__op_complete(op, ERR_LAMBDA_INVALID_PARAMETER,
                            "Requested Provisioned Concurrency should not be greater than the "
                            "reservedConcurrentExecution for function");
    } else if (base->reserved < 0 && others + n > limit - lm->reserved_total - min_unreserved) {
        lambda__op_complete(op, ERR_LAMBDA_INVALID_PARAMETER,
                            "Specified ConcurrentExecutions for function decreases account's "
                            "UnreservedConcurrentExecution below its minimum value of [%d].",
                            min_unreserved);
    } else {
        fn->pc.set = true;
        fn->pc.requested = n;
        fn->pc.modified = clock_now_ms();
        struct lambda_fn *v = lambda_fn_target(fn);
        if (v != NULL)
            v->pc_failures = 0;
        lambda__pc_reconcile(base);
        lambda__op_commit(op);
    }
}

void lambda_pc_delete(struct lambda *lm, struct lambda_fn *fn, lambda_op_fn done, void *arg)
{
    struct op *op = lambda__op_change(lm, fn, done, arg);
    if (op == NULL)
        return;
    if (!fn->pc.set) { /* deleting what is not there is a success */
        lambda__op_complete(op, ERR_OK, NULL);
        return;
    }
    fn->pc.set = false;
    fn->pc.requested = 0;
    lambda__pc_reconcile(fn->base);
    lambda__op_commit(op);
}

void lambda_pc_info(struct lambda_fn *fn, struct lambda_pc_info *out)
{
    *out = (struct lambda_pc_info){.set = fn->pc.set,
                                   .requested = fn->pc.requested,
                                   .status = "IN_PROGRESS",
                                   .last_modified = fn->pc.modified};
    struct lambda_fn *v = lambda_fn_target(fn);
    if (!fn->pc.set || v == NULL)
        return;
    int ready = 0;
    pc_count(v, &ready);
    out->allocated = ready < fn->pc.requested ? ready : fn->pc.requested;
    out->available = out->allocated;
    if (v->pc_failures >= PC_MAX_FAILURES && out->allocated < fn->pc.requested) {
        out->status = "FAILED";
        out->reason = "FUNCTION_ERROR_INIT_FAILURE";
    } else if (out->allocated >= fn->pc.requested) {
        out->status = "READY";
    }
}

/* ---- the environment's own functions (provisioned from config, not persisted) ---- */

enum err lambda_fn_provision_alias(struct lambda *lm, const char *name, const char *alias,
                                   char *msg, size_t msglen)
{
    struct lambda_fn *fn = lambda_fn_find(lm, name);
    if (fn == NULL || !fn->managed) {
        lambda_not_found_msg(lm, name, msg, msglen);
        return ERR_LAMBDA_NOT_FOUND;
    }
    bool created;
    struct lambda_fn *v = lambda__publish(fn, NULL, &created);
    struct lambda_fn *a = v ? alias_of(fn, alias) : NULL;
    if (v != NULL && a == NULL)
        a = lambda__fn_child(fn, FN_ALIAS, alias);
    if (a == NULL) {
        snprintf(msg, msglen, "out of memory");
        return ERR_LAMBDA_SERVICE;
    }
    snprintf(a->alias_to, sizeof a->alias_to, "%.15s", v->qual);
    a->alias_extra[0] = '\0';
    a->alias_weight = 0;
    if (a->description == NULL)
        a->description = strdup("");
    return ERR_OK;
}

void lambda_fn_provision_event_config(struct lambda_fn *fn, int max_retries, int max_age_s,
                                      const char *on_failure)
{
    json_decref(fn->evcfg.destinations);
    fn->evcfg.destinations =
        on_failure ? json_pack("{s:{}, s:{s:s}}", "OnSuccess", "OnFailure", "Destination",
                               on_failure)
                   : NULL;
    fn->evcfg.set = true;
    fn->evcfg.max_retries = max_retries;
    fn->evcfg.max_age_seconds = max_age_s;
    fn->evcfg.last_modified = clock_now_ms();
}
