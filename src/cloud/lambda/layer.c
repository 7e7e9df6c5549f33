/*
 * layer.c — layers: versions published from zips (unpacked off the loop under
 * <state>/lambda/.layers/<name>/<version>, recorded in lambda_layers), their policies, and
 * what a function sees of them at /opt.
 *
 * A function takes up to five layers, merged in order as AWS extracts them into /opt: a
 * later layer's file replaces an earlier one's. The merge is a folder of hard links
 * (<state>/lambda/.opt/<hash of the layer list>), built once per list off the loop, shared
 * by every function and version with that list, and removed when none uses it; deleting a
 * layer version leaves the merges that use it whole (their links keep the files), as AWS
 * keeps a deleted layer working for the functions that have it.
 *
 * How an environment sees the merge (decided once, lambda__opt_init):
 *   OPT_MOUNT  a private mount namespace per environment with the merge bind-mounted
 *              read-only on /opt (root, or an unprivileged user namespace): paths are AWS's;
 *   OPT_ENV    no namespace: HAAR_OPT_DIR names the merge, and PATH / LD_LIBRARY_PATH carry
 *              its bin/ and lib/ where AWS's carry /opt/bin and /opt/lib (the Python and
 *              Node.js clients build sys.path and NODE_PATH from HAAR_OPT_DIR).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloud/lambda/lambda_int.h"
#include "core/clock.h"
#include "core/codec.h"
#include "core/fs.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/log.h"

enum { MAX_LAYERS = 5, MAX_UNZIPPED = 262144000, MERGE_DEPTH = 64 };

/* ---- how /opt is provided ---- */

/* Can a child get a private mount namespace with a folder bound on /opt? Tried in a child. */
static bool can_mount_opt(const char *probe_dir)
{
    struct stat st;
    if (stat("/opt", &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    char uid_map[64], gid_map[64];
    snprintf(uid_map, sizeof uid_map, "%u %u 1\n", (unsigned)getuid(), (unsigned)getuid());
    snprintf(gid_map, sizeof gid_map, "%u %u 1\n", (unsigned)getgid(), (unsigned)getgid());
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        if (lambda__opt_enter(probe_dir, geteuid() != 0, uid_map, gid_map) != 0)
            _exit(1);
        _exit(access("/opt/.haar-probe", F_OK) == 0 ? 0 : 2);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    close(fd);
    return w == (ssize_t)n ? 0 : -1;
}

/* Plain system calls only: it runs in a vfork'd child between fork and exec. */
int lambda__opt_enter(const char *dir, bool userns, const char *uid_map, const char *gid_map)
{
    if (unshare(CLONE_NEWNS | (userns ? CLONE_NEWUSER : 0)) != 0)
        return -1;
    if (userns && (write_file("/proc/self/setgroups", "deny") != 0 ||
                   write_file("/proc/self/uid_map", uid_map) != 0 ||
                   write_file("/proc/self/gid_map", gid_map) != 0))
        return -1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(dir, "/opt", NULL, MS_BIND | MS_REC, NULL) != 0)
        return -1;
    /* read-only, as AWS's /opt (a failure here leaves it writable, no worse) */
    mount(NULL, "/opt", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
    return 0;
}

void lambda__opt_init(struct lambda *lm)
{
    lm->opt_mode = OPT_ENV;
    if (!lm->opt.layers_mount)
        return;
    char dir[PATH_MAX], mark[PATH_MAX + 32];
    if (snprintf(dir, sizeof dir, "%s/lambda/.opt/.probe", lm->state_dir) >= (int)sizeof dir ||
        fs_mkdir_p(dir, 0755) != 0)
        return;
    snprintf(mark, sizeof mark, "%s/.haar-probe", dir);
    if (fs_write_atomic(mark, "", 0, 0644) == 0 && can_mount_opt(dir))
        lm->opt_mode = OPT_MOUNT;
    fs_remove_tree(dir);
    LOG_INFO("layers", NULL, "/opt: %s", lambda_opt_mode(lm));
}

const char *lambda_opt_mode(const struct lambda *lm)
{
    return lm->opt_mode == OPT_MOUNT ? "mount namespace (/opt)"
                                     : "environment (HAAR_OPT_DIR, PATH, LD_LIBRARY_PATH)";
}

/* ---- records ---- */

static json_t *layer_doc(const struct lambda_layer *l)
{
    return json_pack("{s:s, s:i, s:s?, s:s?, s:O?, s:O?, s:s, s:s, s:I, s:I, s:I, s:O?, s:s}",
                     "name", l->name, "version", l->version, "description", l->description,
                     "license", l->license, "runtimes", l->runtimes, "archs", l->archs, "dir",
                     l->dir, "sha", l->sha, "size", (json_int_t)l->size, "unzipped",
                     (json_int_t)l->unzipped, "created", (json_int_t)l->created, "policy",
                     l->policy, "policy_rev", l->policy_rev);
}

static void set_arns(struct lambda *lm, struct lambda_layer *l)
{
    snprintf(l->arn, sizeof l->arn, "arn:aws:lambda:%s:000000000000:layer:%s", lm->region, l->name);
    snprintf(l->version_arn, sizeof l->version_arn, "%s:%d", l->arn, l->version);
}

static void layer_free(struct lambda_layer *l)
{
    if (l == NULL)
        return;
    free(l->description);
    free(l->license);
    json_decref(l->runtimes);
    json_decref(l->archs);
    json_decref(l->policy);
    free(l);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static json_t *copy_array(const json_t *a)
{
    return json_is_array(a) ? json_deep_copy(a) : NULL;
}

/* Into the list, kept by name then version. */
static void layer_insert(struct lambda *lm, struct lambda_layer *l)
{
    struct lambda_layer **pp = &lm->layers;
    while (*pp && (strcmp((*pp)->name, l->name) < 0 ||
                   (strcmp((*pp)->name, l->name) == 0 && (*pp)->version < l->version)))
        pp = &(*pp)->next;
    l->next = *pp;
    *pp = l;
}

static void layer_unlink(struct lambda *lm, struct lambda_layer *l)
{
    struct lambda_layer **pp = &lm->layers;
    while (*pp && *pp != l)
        pp = &(*pp)->next;
    if (*pp)
        *pp = l->next;
}

static struct lambda_layer_seq *seq_of(struct lambda *lm, const char *name, bool create)
{
    for (struct lambda_layer_seq *s = lm->layer_seqs; s; s = s->next)
        if (strcmp(s->name, name) == 0)
            return s;
    struct lambda_layer_seq *s = create ? calloc(1, sizeof *s) : NULL;
    if (s != NULL) {
        snprintf(s->name, sizeof s->name, "%s", name);
        s->next = lm->layer_seqs;
        lm->layer_seqs = s;
    }
    return s;
}

struct lambda_layer *lambda_layer_find(struct lambda *lm, const char *name, int version)
{
    for (struct lambda_layer *l = lm->layers; l; l = l->next)
        if (l->version == version && strcmp(l->name, name) == 0)
            return l;
    return NULL;
}

/* Splits arn:aws:lambda:<region>:<account>:layer:<name>:<version>. */
static bool parse_arn(const char *arn, char *region, size_t rl, char *account, size_t al,
                      char *name, size_t nl, int *version)
{
    const char *p[8];
    size_t len[8], n = 0, start = 0, total = strlen(arn);
    for (size_t i = 0; i <= total && n < 8; i++)
        if (i == total || arn[i] == ':') {
            p[n] = arn + start;
            len[n++] = i - start;
            start = i + 1;
        }
    if (n != 8 || len[0] != 3 || memcmp(p[0], "arn", 3) != 0 || len[2] != 6 ||
        memcmp(p[2], "lambda", 6) != 0 || len[5] != 5 || memcmp(p[5], "layer", 5) != 0 ||
        len[3] >= rl || len[4] >= al || len[6] == 0 || len[6] >= nl || len[7] == 0 || len[7] > 9 ||
        strspn(p[7], "0123456789") < len[7])
        return false;
    snprintf(region, rl, "%.*s", (int)len[3], p[3]);
    snprintf(account, al, "%.*s", (int)len[4], p[4]);
    snprintf(name, nl, "%.*s", (int)len[6], p[6]);
    *version = (int)strtol(p[7], NULL, 10); /* at most 9 digits: no overflow */
    return true;
}

struct lambda_layer *lambda__layer_by_arn(struct lambda *lm, const char *arn)
{
    char region[64], account[32], name[144];
    int version;
    if (!parse_arn(arn, region, sizeof region, account, sizeof account, name, sizeof name,
                   &version) ||
        strcmp(region, lm->region) != 0 || strcmp(account, "000000000000") != 0)
        return NULL;
    return lambda_layer_find(lm, name, version);
}

struct lambda_layer *lambda_layer_by_arn(struct lambda *lm, const char *arn)
{
    return arn ? lambda__layer_by_arn(lm, arn) : NULL;
}

void lambda_layer_each(struct lambda *lm, const char *name,
                       bool (*cb)(void *arg, struct lambda_layer *l), void *arg)
{
    /* the list is oldest first: collect, then walk each name's versions newest first */
    size_t n = 0;
    for (struct lambda_layer *l = lm->layers; l; l = l->next)
        n++;
    struct lambda_layer **all = calloc(n + 1, sizeof *all);
    if (all == NULL)
        return;
    n = 0;
    for (struct lambda_layer *l = lm->layers; l; l = l->next)
        if (name == NULL || strcmp(l->name, name) == 0)
            all[n++] = l;
    size_t i = 0;
    bool go = true;
    while (go && i < n) {
        size_t j = i;
        while (j + 1 < n && strcmp(all[j + 1]->name, all[i]->name) == 0)
            j++;
        for (size_t k = j + 1; go && k-- > i;)
            go = cb(arg, all[k]);
        i = j + 1;
    }
    free(all);
}

void lambda_layer_info(const struct lambda_layer *l, struct lambda_layer_info *out)
{
    static __thread char zip[PATH_MAX + 8];
    snprintf(zip, sizeof zip, "%s.zip", l->dir);
    *out = (struct lambda_layer_info){.name = l->name,
                                      .arn = l->arn,
                                      .version_arn = l->version_arn,
                                      .description = l->description ? l->description : "",
                                      .license = l->license,
                                      .sha256 = l->sha,
                                      .version = l->version,
                                      .size = l->size,
                                      .created = l->created,
                                      .runtimes = l->runtimes,
                                      .archs = l->archs,
                                      .zip = zip};
}

/* ---- commands ---- */

/* One command on layers: completes once, later (a timer, a work or a store completion). */
struct lop {
    struct lambda *lm;
    lambda_op_fn done;
    void *arg;
    enum err err;
    char msg[1024];
    struct timer t;
    struct work w;
    struct lambda_layer *layer; /* the version being published or changed */
    struct lambda_layer **out;
    json_t *before_policy; /* a policy change: what to put back if the commit fails */
    char before_rev[40];
    bool deleting;
    void *zip;
    size_t zip_len;
    char tmp[PATH_MAX];
    unsigned char sha[32];
    int64_t unzipped;
    int rc;
};

static void lop_finish(struct lop *o)
{
    if (o->done)
        o->done(o->arg, o->err, o->err == ERR_OK ? NULL : o->msg);
    timer_destroy(&o->t);
    json_decref(o->before_policy);
    free(o->zip);
    free(o);
}

static void lop_timer(struct timer *t)
{
    lop_finish(t->data);
}

static struct lop *lop_new(struct lambda *lm, lambda_op_fn done, void *arg)
{
    struct lop *o = calloc(1, sizeof *o);
    if (o == NULL || timer_init(&o->t, TIMER_REAL, lop_timer, o) != 0) {
        free(o);
        /* no memory for the command: its answer still comes, later */
        lambda__op_refuse(lm, done, arg, ERR_LAMBDA_SERVICE, "out of memory");
        return NULL;
    }
    o->lm = lm;
    o->done = done;
    o->arg = arg;
    return o;
}

static void lop_complete(struct lop *o, enum err e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void lop_complete(struct lop *o, enum err e, const char *fmt, ...)
{
    o->err = e;
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(o->msg, sizeof o->msg, fmt, ap);
        va_end(ap);
    }
    timer_start(&o->t, 0);
}

/* Commits the layer version's record (or its deletion) with the name's last version. */
static void persist_layer(struct lop *o, void (*done)(void *arg, int rc))
{
    struct lambda *lm = o->lm;
    struct lambda_layer *l = o->layer;
    if (lm->store == NULL) {
        done(o, 0);
        return;
    }
    struct store_batch *b = store_batch_new(lm->store);
    if (b != NULL && o->deleting) {
        struct store_val k[2] = {store_text(l->name), store_int(l->version)};
        store_batch_add(b, lm->st_layer_del, k, 2);
    } else if (b != NULL) {
        json_t *doc = layer_doc(l);
        char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        struct lambda_layer_seq *seq = seq_of(lm, l->name, false);
        struct store_val v[3] = {store_text(l->name), store_int(l->version), store_text(s)};
        struct store_val q[2] = {store_text(l->name), store_int(seq ? seq->last : l->version)};
        if (s == NULL || store_batch_add(b, lm->st_layer_put, v, 3) != 0 ||
            store_batch_add(b, lm->st_layer_seq_put, q, 2) != 0) {
            store_batch_discard(b);
            b = NULL;
        }
        free(s);
        json_decref(doc);
    }
    store_batch_submit(lm->store, b, done, o);
}

static void publish_committed(void *arg, int rc)
{
    struct lop *o = arg;
    struct lambda_layer *l = o->layer;
    if (rc != 0) {
        LOG_ERROR("store", NULL, "layer %s:%d: cannot commit it", l->name, l->version);
        char zip[PATH_MAX + 8];
        snprintf(zip, sizeof zip, "%s.zip", l->dir);
        unlink(zip);
        fs_remove_tree(l->dir);
        layer_free(l);
        o->err = ERR_LAMBDA_SERVICE;
        snprintf(o->msg, sizeof o->msg, "The layer version could not be stored");
    } else {
        layer_insert(o->lm, l);
        o->lm->code_bytes += o->unzipped + (int64_t)o->zip_len;
        if (o->out != NULL)
            *o->out = l;
        LOG_INFO("layer_published", NULL, "%s", l->version_arn);
    }
    lop_finish(o);
}

static void publish_run(struct work *w)
{
    struct lop *o = w->data;
    o->rc = lambda__code_unpack(o->zip, o->zip_len, o->tmp, "layer's package", o->sha, &o->unzipped,
                                o->msg, sizeof o->msg);
}

static void publish_unzipped(struct work *w)
{
    struct lop *o = w->data;
    struct lambda_layer *l = o->layer;
    char ztmp[PATH_MAX + 8], zdst[PATH_MAX + 8];
    snprintf(ztmp, sizeof ztmp, "%s.zip", o->tmp);
    snprintf(zdst, sizeof zdst, "%s.zip", l->dir);
    if (o->rc == 0 &&
        lambda__code_over_quota(o->lm, o->unzipped + (int64_t)o->zip_len, o->msg, sizeof o->msg)) {
        o->rc = -1;
        o->err = ERR_LAMBDA_CODE_STORAGE;
    } else if (o->rc == 0 && (rename(o->tmp, l->dir) != 0 || rename(ztmp, zdst) != 0)) {
        o->rc = -1;
        o->err = ERR_LAMBDA_SERVICE;
        snprintf(o->msg, sizeof o->msg, "Cannot store the layer: %s", strerror(errno));
    } else if (o->rc != 0) {
        o->err = ERR_LAMBDA_INVALID_PARAMETER;
    }
    if (o->rc != 0) {
        unlink(ztmp);
        fs_remove_tree(o->tmp);
        unlink(zdst);
        fs_remove_tree(l->dir);
        layer_free(l);
        lop_finish(o);
        return;
    }
    lambda__sha_b64(o->sha, l->sha);
    l->size = (long long)o->zip_len;
    l->unzipped = o->unzipped;
    persist_layer(o, publish_committed);
}

void lambda_layer_publish(struct lambda *lm, const struct lambda_layer_spec *s,
                          struct lambda_layer **out, lambda_op_fn done, void *arg)
{
    struct lop *o = lop_new(lm, done, arg);
    if (o == NULL)
        return;
    struct lambda_layer_seq *seq = seq_of(lm, s->name, true);
    struct lambda_layer *l = calloc(1, sizeof *l);
    o->zip = malloc(s->zip_len ? s->zip_len : 1);
    if (seq == NULL || l == NULL || o->zip == NULL) {
        free(l);
        lop_complete(o, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    if (lambda__code_over_quota(lm, (int64_t)s->zip_len, o->msg, sizeof o->msg)) {
        free(l);
        lop_complete(o, ERR_LAMBDA_CODE_STORAGE, NULL);
        return;
    }
    memcpy(o->zip, s->zip, s->zip_len);
    o->zip_len = s->zip_len;
    snprintf(l->name, sizeof l->name, "%s", s->name);
    l->version = ++seq->last; /* taken now: two publishing at once get two numbers */
    set_arns(lm, l);
    l->description = dup_or_null(s->description ? s->description : "");
    l->license = dup_or_null(s->license);
    l->runtimes = copy_array(s->runtimes);
    l->archs = copy_array(s->archs);
    l->created = clock_now_ms();
    char rnd[17];
    ids_hex(rnd, 8);
    if (snprintf(l->dir, sizeof l->dir, "%s/lambda/.layers/%s/%d", lm->state_dir, l->name,
                 l->version) >= (int)sizeof l->dir ||
        snprintf(o->tmp, sizeof o->tmp, "%s/lambda/.layers/%s/.tmp-%s", lm->state_dir, l->name,
                 rnd) >= (int)sizeof o->tmp) {
        layer_free(l);
        lop_complete(o, ERR_LAMBDA_SERVICE, "The state directory path is too long");
        return;
    }
    o->layer = l;
    o->out = out;
    o->w = (struct work){.run = publish_run, .done = publish_unzipped, .data = o};
    work_submit(&o->w);
}

static void delete_committed(void *arg, int rc)
{
    struct lop *o = arg;
    struct lambda_layer *l = o->layer;
    if (rc != 0) {
        o->err = ERR_LAMBDA_SERVICE;
        snprintf(o->msg, sizeof o->msg, "The deletion could not be stored");
        lop_finish(o);
        return;
    }
    layer_unlink(o->lm, l);
    char zip[PATH_MAX + 8];
    snprintf(zip, sizeof zip, "%s.zip", l->dir);
    int64_t bytes = fs_tree_size(l->dir) + fs_tree_size(zip);
    unlink(zip);
    fs_remove_tree(l->dir); /* the merges that use it keep their links to its files */
    o->lm->code_bytes -= bytes;
    if (o->lm->code_bytes < 0)
        o->lm->code_bytes = 0;
    LOG_INFO("layer_deleted", NULL, "%s", l->version_arn);
    layer_free(l);
    lop_finish(o);
}

void lambda_layer_delete(struct lambda *lm, const char *name, int version, lambda_op_fn done,
                         void *arg)
{
    struct lop *o = lop_new(lm, done, arg);
    if (o == NULL)
        return;
    o->layer = lambda_layer_find(lm, name, version);
    if (o->layer == NULL) { /* nothing to delete: a success, as AWS answers */
        lop_complete(o, ERR_OK, NULL);
        return;
    }
    o->deleting = true;
    persist_layer(o, delete_committed);
}

/* ---- policies ---- */

static void policy_committed(void *arg, int rc)
{
    struct lop *o = arg;
    if (rc != 0) {
        json_decref(o->layer->policy);
        o->layer->policy = o->before_policy;
        o->before_policy = NULL;
        snprintf(o->layer->policy_rev, sizeof o->layer->policy_rev, "%s", o->before_rev);
        o->err = ERR_LAMBDA_SERVICE;
        snprintf(o->msg, sizeof o->msg, "The change could not be stored");
    }
    lop_finish(o);
}

static struct lop *begin_policy(struct lambda *lm, struct lambda_layer *l, const char *rev,
                                lambda_op_fn done, void *arg)
{
    struct lop *o = lop_new(lm, done, arg);
    if (o == NULL)
        return NULL;
    o->layer = l;
    if (rev != NULL && strcmp(rev, l->policy_rev) != 0) {
        lop_complete(o, ERR_LAMBDA_PRECONDITION,
                     "The Revision Id provided does not match the latest Revision Id. Call the "
                     "GetLayerPolicy API to retrieve the latest Revision Id");
        return NULL;
    }
    o->before_policy = l->policy ? json_deep_copy(l->policy) : NULL;
    snprintf(o->before_rev, sizeof o->before_rev, "%s", l->policy_rev);
    return o;
}

void lambda_layer_add_permission(struct lambda *lm, struct lambda_layer *l, const json_t *st,
                                 const char *revision_id, lambda_op_fn done, void *arg)
{
    struct lop *o = begin_policy(lm, l, revision_id, done, arg);
    if (o == NULL)
        return;
    const char *sid = jsonh_str(st, "Sid", "");
    if (lambda__policy_statement(l->policy, sid, NULL) != NULL) {
        lop_complete(o, ERR_LAMBDA_CONFLICT,
                     "The statement id (%s) provided already exists. Please provide a new "
                     "statement id, or remove the existing statement.",
                     sid);
        return;
    }
    if (lambda__policy_add(&l->policy, st) != 0) {
        lop_complete(o, ERR_LAMBDA_SERVICE, "out of memory");
        return;
    }
    ids_uuid4(l->policy_rev);
    persist_layer(o, policy_committed);
}

void lambda_layer_remove_permission(struct lambda *lm, struct lambda_layer *l, const char *sid,
                                    const char *revision_id, lambda_op_fn done, void *arg)
{
    struct lop *o = begin_policy(lm, l, revision_id, done, arg);
    if (o == NULL)
        return;
    size_t at;
    if (lambda__policy_statement(l->policy, sid, &at) == NULL) {
        lop_complete(o, ERR_LAMBDA_NOT_FOUND, "Statement %s is not found in resource policy.", sid);
        return;
    }
    lambda__policy_remove(&l->policy, at);
    ids_uuid4(l->policy_rev);
    persist_layer(o, policy_committed);
}

const json_t *lambda_layer_policy(const struct lambda_layer *l, const char **revision_id)
{
    if (revision_id != NULL)
        *revision_id = l->policy_rev;
    return l->policy;
}

/* ---- restore ---- */

static bool restore_seq(void *arg, const struct store_row *row)
{
    struct lambda *lm = arg;
    size_t nl;
    const char *name = store_row_text(row, 0, &nl);
    char n[144];
    snprintf(n, sizeof n, "%.*s", (int)(nl < 143 ? nl : 143), name);
    struct lambda_layer_seq *s = seq_of(lm, n, true);
    if (s != NULL && store_row_int(row, 1) > s->last)
        s->last = (int)store_row_int(row, 1);
    return true;
}

static bool restore_layer(void *arg, const struct store_row *row)
{
    struct lambda *lm = arg;
    size_t dl;
    const char *doc = store_row_text(row, 2, &dl);
    json_t *j = jsonh_parse(doc, dl, NULL, 0);
    struct lambda_layer *l = json_is_object(j) ? calloc(1, sizeof *l) : NULL;
    if (l != NULL) {
        long long v;
        snprintf(l->name, sizeof l->name, "%s", jsonh_str(j, "name", ""));
        l->version = jsonh_int(j, "version", &v) == 1 ? (int)v : 0;
        set_arns(lm, l);
        l->description = dup_or_null(jsonh_str(j, "description", ""));
        l->license = dup_or_null(jsonh_str(j, "license", NULL));
        l->runtimes = copy_array(json_object_get(j, "runtimes"));
        l->archs = copy_array(json_object_get(j, "archs"));
        snprintf(l->dir, sizeof l->dir, "%s", jsonh_str(j, "dir", ""));
        snprintf(l->sha, sizeof l->sha, "%s", jsonh_str(j, "sha", ""));
        l->size = jsonh_int(j, "size", &v) == 1 ? v : 0;
        l->unzipped = jsonh_int(j, "unzipped", &v) == 1 ? v : 0;
        l->created = jsonh_int(j, "created", &v) == 1 ? v : 0;
        json_t *p = json_object_get(j, "policy");
        l->policy = json_is_object(p) ? json_deep_copy(p) : NULL;
        snprintf(l->policy_rev, sizeof l->policy_rev, "%s", jsonh_str(j, "policy_rev", ""));
        layer_insert(lm, l);
        struct lambda_layer_seq *s = seq_of(lm, l->name, true);
        if (s != NULL && s->last < l->version)
            s->last = l->version;
        char zip[PATH_MAX + 8];
        snprintf(zip, sizeof zip, "%s.zip", l->dir);
        lm->code_bytes += fs_tree_size(l->dir) + fs_tree_size(zip);
    }
    json_decref(j);
    return true;
}

void lambda__layers_restore(struct lambda *lm)
{
    store_query(lm->store, lm->st_layer_seq_all, NULL, 0, restore_seq, lm);
    store_query(lm->store, lm->st_layer_all, NULL, 0, restore_layer, lm);
}

void lambda__layers_free(struct lambda *lm)
{
    while (lm->layers) {
        struct lambda_layer *l = lm->layers;
        lm->layers = l->next;
        layer_free(l);
    }
    while (lm->layer_seqs) {
        struct lambda_layer_seq *s = lm->layer_seqs;
        lm->layer_seqs = s->next;
        free(s);
    }
}

/* ---- a function's layers ---- */

enum err lambda__layers_check(struct lambda *lm, const json_t *arns, int64_t code_unzipped,
                              char *msg, size_t msglen)
{
    size_t n = json_array_size(arns);
    if (n > MAX_LAYERS) {
        snprintf(msg, msglen, "Cannot reference more than %d layers.", MAX_LAYERS);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    long long total = code_unzipped;
    for (size_t i = 0; i < n; i++) {
        const char *arn = json_string_value(json_array_get(arns, i));
        char region[64], account[32], name[144];
        int version;
        if (arn == NULL || !parse_arn(arn, region, sizeof region, account, sizeof account, name,
                                      sizeof name, &version)) {
            snprintf(msg, msglen, "Layer version %.300s does not exist.", arn ? arn : "null");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (strcmp(region, lm->region) != 0) {
            snprintf(msg, msglen,
                     "Layers are not in the same region as the function. Layers are expected "
                     "to be in region %s.",
                     lm->region);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        struct lambda_layer *l = lambda__layer_by_arn(lm, arn);
        if (l == NULL) {
            snprintf(msg, msglen, "Layer version %.300s does not exist.", arn);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        for (size_t k = 0; k < i; k++) {
            const char *other = json_string_value(json_array_get(arns, k));
            struct lambda_layer *o = lambda__layer_by_arn(lm, other);
            if (o != NULL && strcmp(o->name, l->name) == 0) {
                snprintf(msg, msglen,
                         "Two different versions of the same layer are not allowed to be "
                         "referenced in the same function. %.300s and %.300s are versions of "
                         "the same layer.",
                         other, arn);
                return ERR_LAMBDA_INVALID_PARAMETER;
            }
        }
        total += l->unzipped;
    }
    if (total > MAX_UNZIPPED) {
        snprintf(msg, msglen,
                 "Function code combined with layers exceeds the maximum allowed size of %d "
                 "bytes. The actual size is %lld bytes.",
                 MAX_UNZIPPED, total);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    return ERR_OK;
}

/* ---- merging ---- */

struct opt_merge {
    char target[PATH_MAX]; /* <state>/lambda/.opt/<hash> */
    char tmp[PATH_MAX];
    char dirs[MAX_LAYERS][PATH_MAX];
    int n;
    bool exists; /* already built for another function */
    int rc;
    char msg[256];
};

struct opt_merge *lambda__opt_prepare(struct lambda *lm, const json_t *arns)
{
    struct opt_merge *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    struct buf key;
    buf_init(&key, 8192);
    size_t i;
    json_t *a;
    json_array_foreach(arns, i, a)
    {
        struct lambda_layer *l = lambda__layer_by_arn(lm, json_string_value(a));
        if (l != NULL && m->n < MAX_LAYERS) {
            snprintf(m->dirs[m->n++], PATH_MAX, "%s", l->dir);
            buf_append(&key, l->version_arn, strlen(l->version_arn));
            buf_append(&key, "\n", 1);
        }
    }
    unsigned char h[32];
    codec_sha256(key.data ? key.data : "", key.len, h);
    buf_destroy(&key);
    char hex[33], rnd[17];
    codec_hex(h, 16, hex);
    ids_hex(rnd, 8);
    if (snprintf(m->target, sizeof m->target, "%s/lambda/.opt/%s", lm->state_dir, hex) >=
            (int)sizeof m->target ||
        snprintf(m->tmp, sizeof m->tmp, "%s/lambda/.opt/.tmp-%s", lm->state_dir, rnd) >=
            (int)sizeof m->tmp) {
        m->rc = -1;
        snprintf(m->msg, sizeof m->msg, "The state directory path is too long");
        m->exists = true; /* nothing to build: the failure stands */
        return m;
    }
    m->exists = access(m->target, F_OK) == 0;
    return m;
}

/* Places src's entry at dst, replacing whatever is there (a later layer wins). */
static int place(const char *src, const char *dst, const struct stat *st)
{
    struct stat old;
    if (lstat(dst, &old) == 0 && !(S_ISDIR(old.st_mode) && S_ISDIR(st->st_mode))) {
        if (S_ISDIR(old.st_mode) ? fs_remove_tree(dst) != 0 : unlink(dst) != 0)
            return -1;
    }
    if (S_ISDIR(st->st_mode))
        return mkdir(dst, st->st_mode & 07777) == 0 || errno == EEXIST ? 0 : -1;
    if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            return -1;
        target[n] = '\0';
        return symlink(target, dst);
    }
    if (!S_ISREG(st->st_mode))
        return 0; /* devices, fifos: a zip holds none */
    if (link(src, dst) == 0)
        return 0;
    /* another filesystem: a copy */
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    if (in >= 0)
        out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st->st_mode & 07777);
    char chunk[65536];
    ssize_t r;
    if (out >= 0) {
        rc = 0;
        while (rc == 0 && (r = read(in, chunk, sizeof chunk)) > 0)
            rc = write(out, chunk, (size_t)r) == r ? 0 : -1;
    }
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return rc;
}

static int merge_tree(const char *src, const char *dst, int depth)
{
    if (depth > MERGE_DEPTH)
        return -1;
    DIR *d = opendir(src);
    if (d == NULL)
        return -1;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char s[PATH_MAX], t[PATH_MAX];
        struct stat st;
        if (snprintf(s, sizeof s, "%s/%s", src, e->d_name) >= (int)sizeof s ||
            snprintf(t, sizeof t, "%s/%s", dst, e->d_name) >= (int)sizeof t || lstat(s, &st) != 0) {
            rc = -1;
            break;
        }
        rc = place(s, t, &st);
        if (rc == 0 && S_ISDIR(st.st_mode))
            rc = merge_tree(s, t, depth + 1);
    }
    closedir(d);
    return rc;
}

void lambda__opt_run(struct opt_merge *m)
{
    if (m->exists)
        return;
    m->rc = fs_mkdir_p(m->tmp, 0755);
    for (int i = 0; m->rc == 0 && i < m->n; i++)
        m->rc = merge_tree(m->dirs[i], m->tmp, 0);
    if (m->rc == 0 && rename(m->tmp, m->target) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            fs_remove_tree(m->tmp); /* built meanwhile for another function: that one */
        else
            m->rc = -1;
    }
    if (m->rc != 0) {
        snprintf(m->msg, sizeof m->msg, "Cannot merge the function's layers: %s", strerror(errno));
        fs_remove_tree(m->tmp);
    }
}

int lambda__opt_finish(struct opt_merge *m, char *dir, char *msg, size_t msglen)
{
    int rc = m->rc;
    if (rc == 0)
        snprintf(dir, PATH_MAX, "%s", m->target);
    else
        snprintf(msg, msglen, "%s", m->msg);
    free(m);
    return rc;
}

int lambda__opt_build_now(struct lambda *lm, const json_t *arns, char *dir)
{
    struct opt_merge *m = lambda__opt_prepare(lm, arns);
    if (m == NULL)
        return -1;
    lambda__opt_run(m);
    char msg[256];
    return lambda__opt_finish(m, dir, msg, sizeof msg);
}

/* Is a merged folder used by an object, or by an environment still running? */
static bool opt_in_use(struct lambda *lm, const char *dir)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext) {
            if (!fn->deleted && strcmp(fn->opt_dir, dir) == 0)
                return true;
            for (struct lambda_env *e = fn->envs; e; e = e->next)
                if (e->pid > 0 && strcmp(e->opt_dir, dir) == 0)
                    return true;
        }
    return false;
}

void lambda__opt_release(struct lambda *lm, const char *dir)
{
    char root[PATH_MAX + 16];
    int n = snprintf(root, sizeof root, "%s/lambda/.opt/", lm->state_dir);
    if (dir[0] == '\0' || n < 0 || strncmp(dir, root, (size_t)n) != 0 || opt_in_use(lm, dir))
        return;
    fs_remove_tree(dir);
}

void lambda__opt_gc(struct lambda *lm)
{
    char root[PATH_MAX];
    if (snprintf(root, sizeof root, "%s/lambda/.opt", lm->state_dir) >= (int)sizeof root)
        return;
    DIR *d = opendir(root);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", root, e->d_name) >= (int)sizeof path)
            continue;
        if (e->d_name[0] == '.' || !opt_in_use(lm, path))
            fs_remove_tree(path); /* unfinished merges, and merges nothing uses */
    }
    closedir(d);
}
