/*
 * store.c — the CloudWatch Logs engine: groups, streams and events on disk.
 *
 * Layout under <state_dir>/logs/:
 *   <fs(group)>/.group                 "haar-logs-group 1\n<created>\n<retention>\n<name>\n"
 *                                      then "<class>\n" and, when set, "<kmsKeyId>\n" (a file
 *                                      without them, from an older haar, means STANDARD)
 *   <fs(group)>/.tags                  the group's tags as one JSON object of strings,
 *                                      {"key":"value",...}; absent when it has none
 *   <fs(group)>/<fs(stream)>/.stream   "haar-logs-stream 1\n<created>\n<name>\n"
 *   <fs(group)>/<fs(stream)>/<day>.log one line per event: "<ts> <ingest> <msg>\n"
 * fs() is logs__fs_name: only [A-Za-z0-9_-] and %XX survive, so no name can climb out of
 * its folder; the real names live in the meta files. <day> is the UTC day of the event's
 * timestamp (ts / 86400000), so retention drops whole files. Messages are escaped: '\\',
 * '\n', '\r' and NUL become "\\\\", "\\n", "\\r", "\\0".
 *
 * logs_put appends to a per-stream pending buffer and puts the stream on a dirty list;
 * logs_flush writes each dirty stream's buffer with one write() to a kept-open segment
 * file (an LRU caps open files). Nothing is fsync'ed: a flushed event survives the
 * daemon's death (the page cache has it), as CloudWatch's agent-side buffering would not.
 * Streams are found through a hash table keyed by (group, stream), groups through another.
 *
 * Runs on one thread (the daemon's loop); not thread-safe.
 */
#include "cloud/logs/logs_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/clock.h"
#include "core/fs.h"
#include "core/str.h"
#include "core/timer.h"

#define MAX_OPEN_FILES 64
#define PENDING_MAX    (8u << 20) /* per stream: a full buffer is written at once */
#define PENDING_TOTAL  (32u << 20)
#define PATH_CAP       1024
#define INDEX_STEP     65536
#define FLUSH_MS       50    /* readers see an event at most this long after it was put */
#define EXPIRE_MS      60000 /* retention is applied this often (clock time) */

/* A sparse index of a segment: the offset of a line and its timestamp, every INDEX_STEP
 * bytes. Valid while the segment is `sorted` (timestamps never decrease down the file),
 * which is the common case: a function's output arrives in time order. */
struct seg_mark {
    int64_t ts;
    int64_t off;
};

struct seg {
    int64_t day;
    int64_t bytes; /* written to the file (pending bytes not included) */
    bool indexed;  /* marks/sorted/max_ts describe the whole file */
    bool sorted;
    int64_t max_ts;
    struct seg_mark *marks;
    size_t nmarks, markcap;
};

struct logs_stream {
    struct logs_group *g;
    char *name;
    char *dir;
    uint64_t hash; /* of the name alone (FilterLogEvents ordering) */
    uint64_t key;  /* of (group, stream): the table's hash */
    int64_t created;
    struct seg *segs; /* sorted by day */
    size_t nsegs, segcap;
    bool stats_known, has_events;
    int64_t first_ts, last_ts, last_ingest;
    int fd;
    int64_t fd_day;
    struct logs_stream *lru_prev, *lru_next;
    struct buf pending;
    int64_t pending_day;
    bool dirty;
    struct logs_stream *dirty_next;
    struct logs_stream *hnext;
    size_t index; /* in g->streams */
};

struct logs_group {
    char *name;
    char *dir;
    int64_t created;
    int retention;
    char cls[24]; /* logGroupClass: STANDARD, INFREQUENT_ACCESS or DELIVERY */
    char *kms;    /* kmsKeyId, or NULL */
    json_t *tags; /* an object of strings, or NULL when the group has none */
    struct logs_stream **streams;
    size_t nstreams, cap;
    struct logs_group *hnext;
};

struct logs {
    char *root;
    int default_retention;
    char region[LOGS_REGION_MAX];
    int64_t (*now)(void *);
    void *now_arg;
    struct logs_group **gtab;
    size_t gtab_size, ngroups;
    struct logs_stream **stab;
    size_t stab_size, nstreams;
    struct logs_stream *dirty;
    struct logs_stream *lru_head, *lru_tail;
    size_t nopen;
    size_t pending_total;
    struct logs_stream *last;  /* logs_put's one-entry cache */
    struct timer flush_timer;  /* TIMER_REAL: buffered events written within FLUSH_MS */
    struct timer expire_timer; /* TIMER_CLOCK: retention, every EXPIRE_MS of the clock */
};

/* The default clock: the daemon's one clock (core/clock.h), manual in tests. */
static int64_t real_now(void *arg)
{
    (void)arg;
    return clock_now_ms();
}

void logs_set_clock(struct logs *lg, int64_t (*now_ms)(void *arg), void *arg)
{
    lg->now = now_ms ? now_ms : real_now;
    lg->now_arg = now_ms ? arg : NULL;
}

void logs_set_region(struct logs *lg, const char *region)
{
    snprintf(lg->region, sizeof lg->region, "%s", region ? region : "us-east-1");
}

int64_t logs__now(struct logs *lg)
{
    return lg->now(lg->now_arg);
}

const char *logs__region(struct logs *lg)
{
    return lg->region;
}

static int64_t day_of(int64_t ts)
{
    return ts / LOGS_DAY_MS - (ts % LOGS_DAY_MS < 0); /* floor, no overflow */
}

static char *join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

/* ---- meta files: written whole to a temp file, then renamed ---- */

static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char tmp[PATH_CAP], dst[PATH_CAP];
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, data, len);
    if (close(fd) != 0 || w != (ssize_t)len || rename(tmp, dst) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Reads a whole file (up to cap bytes) into a NUL-terminated heap buffer. */
static char *read_file(const char *path, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size > cap)
        goto done;
    data = malloc((size_t)st.st_size + 1);
    if (data == NULL)
        goto done;
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    data[got] = '\0';
    *len = got;
done:
    close(fd);
    return data;
}

static int write_group_meta(struct logs_group *g)
{
    struct buf b;
    buf_init(&b, 4096);
    int rc = buf_printf(&b, "haar-logs-group 1\n%lld\n%d\n%s\n%s\n", (long long)g->created,
                        g->retention, g->name, g->cls);
    if (rc == BUF_OK && g->kms)
        rc = buf_printf(&b, "%s\n", g->kms);
    if (rc == BUF_OK)
        rc = write_file(g->dir, ".group", b.data, b.len);
    buf_destroy(&b);
    return rc == 0 ? 0 : -1;
}

/* Writes <dir>/.tags whole (temp + rename), or removes it when tags is NULL or empty. */
static int write_group_tags(const char *dir, json_t *tags)
{
    if (tags == NULL || json_object_size(tags) == 0) {
        char path[PATH_CAP];
        if (snprintf(path, sizeof path, "%s/.tags", dir) >= (int)sizeof path)
            return -1;
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    }
    char *text = json_dumps(tags, JSON_COMPACT | JSON_SORT_KEYS);
    if (text == NULL)
        return -1;
    int rc = write_file(dir, ".tags", text, strlen(text));
    free(text);
    return rc;
}

/* Reads <dir>/.tags: NULL when absent, or when it is not an object of strings (a damaged
 * file costs the group its tags, not the group). */
static json_t *read_group_tags(const char *dir)
{
    char *path = join(dir, ".tags");
    size_t len = 0;
    char *text = path ? read_file(path, 1u << 20, &len) : NULL;
    free(path);
    if (text == NULL)
        return NULL;
    json_error_t jerr;
    json_t *tags = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    bool ok = json_is_object(tags) && json_object_size(tags) > 0;
    for (void *it = ok ? json_object_iter(tags) : NULL; it; it = json_object_iter_next(tags, it))
        if (!json_is_string(json_object_iter_value(it)))
            ok = false;
    if (!ok) {
        json_decref(tags);
        return NULL;
    }
    return tags;
}

static int write_stream_meta(struct logs_stream *s)
{
    struct buf b;
    buf_init(&b, 4096);
    int rc = buf_printf(&b, "haar-logs-stream 1\n%lld\n", (long long)s->created);
    if (rc == BUF_OK)
        rc = buf_append(&b, s->name, strlen(s->name));
    if (rc == BUF_OK)
        rc = buf_puts(&b, "\n");
    if (rc == BUF_OK)
        rc = write_file(s->dir, ".stream", b.data, b.len);
    buf_destroy(&b);
    return rc == 0 ? 0 : -1;
}

/* ---- hash tables ---- */

static uint64_t stream_key(const struct logs_group *g, const char *name)
{
    return logs__hash(name, strlen(name)) ^ ((uint64_t)(uintptr_t)g * 0x9E3779B97F4A7C15ULL);
}

static int grow_gtab(struct logs *lg)
{
    size_t n = lg->gtab_size ? lg->gtab_size * 2 : 16;
    struct logs_group **t = calloc(n, sizeof *t);
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < lg->gtab_size; i++) {
        struct logs_group *g = lg->gtab[i], *next;
        for (; g; g = next) {
            next = g->hnext;
            size_t h = logs__hash(g->name, strlen(g->name)) & (n - 1);
            g->hnext = t[h];
            t[h] = g;
        }
    }
    free(lg->gtab);
    lg->gtab = t;
    lg->gtab_size = n;
    return 0;
}

static int grow_stab(struct logs *lg)
{
    size_t n = lg->stab_size ? lg->stab_size * 2 : 64;
    struct logs_stream **t = calloc(n, sizeof *t);
    if (t == NULL)
        return -1;
    for (size_t i = 0; i < lg->stab_size; i++) {
        struct logs_stream *s = lg->stab[i], *next;
        for (; s; s = next) {
            next = s->hnext;
            s->hnext = t[s->key & (n - 1)];
            t[s->key & (n - 1)] = s;
        }
    }
    free(lg->stab);
    lg->stab = t;
    lg->stab_size = n;
    return 0;
}

struct logs_group *logs__group_find(struct logs *lg, const char *name)
{
    if (lg->gtab_size == 0)
        return NULL;
    size_t h = logs__hash(name, strlen(name)) & (lg->gtab_size - 1);
    for (struct logs_group *g = lg->gtab[h]; g; g = g->hnext)
        if (strcmp(g->name, name) == 0)
            return g;
    return NULL;
}

struct logs_stream *logs__stream_find(struct logs *lg, struct logs_group *g, const char *name)
{
    if (lg->stab_size == 0)
        return NULL;
    uint64_t key = stream_key(g, name);
    for (struct logs_stream *s = lg->stab[key & (lg->stab_size - 1)]; s; s = s->hnext)
        if (s->key == key && s->g == g && strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

/* ---- open files (LRU) ---- */

static void lru_unlink(struct logs *lg, struct logs_stream *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        lg->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        lg->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void lru_push(struct logs *lg, struct logs_stream *s)
{
    s->lru_prev = NULL;
    s->lru_next = lg->lru_head;
    if (lg->lru_head)
        lg->lru_head->lru_prev = s;
    lg->lru_head = s;
    if (lg->lru_tail == NULL)
        lg->lru_tail = s;
}

static void close_fd(struct logs *lg, struct logs_stream *s)
{
    if (s->fd < 0)
        return;
    close(s->fd);
    s->fd = -1;
    lru_unlink(lg, s);
    lg->nopen--;
}

static int segment_path(const struct logs_stream *s, int64_t day, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%lld.log", s->dir, (long long)day);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The stream's append fd for day; opens (and evicts the least recently used) if needed. */
static int stream_fd(struct logs *lg, struct logs_stream *s, int64_t day)
{
    if (s->fd >= 0 && s->fd_day == day) {
        if (lg->lru_head != s) {
            lru_unlink(lg, s);
            lru_push(lg, s);
        }
        return s->fd;
    }
    close_fd(lg, s);
    while (lg->nopen >= MAX_OPEN_FILES && lg->lru_tail)
        close_fd(lg, lg->lru_tail);
    char path[PATH_CAP];
    if (segment_path(s, day, path, sizeof path) != 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    /* a torn last line (a crash mid-write) must not swallow the next event */
    struct stat st;
    char last;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) == 1 &&
        last != '\n') {
        if (write(fd, "\n", 1) != 1) {
            close(fd);
            return -1;
        }
    }
    s->fd = fd;
    s->fd_day = day;
    lru_push(lg, s);
    lg->nopen++;
    return fd;
}

static struct seg *seg_get(struct logs_stream *s, int64_t day, bool create, bool *created)
{
    if (created)
        *created = false;
    if (s->nsegs > 0 && s->segs[s->nsegs - 1].day == day)
        return &s->segs[s->nsegs - 1];
    size_t lo = 0, hi = s->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s->segs[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->nsegs && s->segs[lo].day == day)
        return &s->segs[lo];
    if (!create)
        return NULL;
    if (s->nsegs == s->segcap) {
        size_t n = s->segcap ? s->segcap * 2 : 4;
        struct seg *v = realloc(s->segs, n * sizeof *v);
        if (v == NULL)
            return NULL;
        s->segs = v;
        s->segcap = n;
    }
    memmove(&s->segs[lo + 1], &s->segs[lo], (s->nsegs - lo) * sizeof *s->segs);
    s->nsegs++;
    memset(&s->segs[lo], 0, sizeof s->segs[lo]);
    s->segs[lo].day = day;
    if (created)
        *created = true;
    return &s->segs[lo];
}

static void seg_unindex(struct seg *sg)
{
    free(sg->marks);
    sg->marks = NULL;
    sg->nmarks = sg->markcap = 0;
    sg->indexed = false;
    sg->sorted = false;
}

/* Notes a line at absolute offset off with timestamp ts in the index. */
static void seg_note(struct seg *sg, int64_t ts, int64_t off)
{
    if (!sg->indexed)
        return;
    if (!sg->sorted || (sg->nmarks > 0 && ts < sg->max_ts)) {
        sg->sorted = false;
        sg->max_ts = ts > sg->max_ts ? ts : sg->max_ts;
        return;
    }
    sg->max_ts = ts;
    if (sg->nmarks > 0 && off - sg->marks[sg->nmarks - 1].off < INDEX_STEP)
        return;
    if (sg->nmarks == sg->markcap) {
        size_t n = sg->markcap ? sg->markcap * 2 : 8;
        struct seg_mark *v = realloc(sg->marks, n * sizeof *v);
        if (v == NULL) {
            seg_unindex(sg);
            return;
        }
        sg->marks = v;
        sg->markcap = n;
    }
    sg->marks[sg->nmarks].ts = ts;
    sg->marks[sg->nmarks].off = off;
    sg->nmarks++;
}

/* Writes the stream's pending bytes to their segment. */
static int stream_write(struct logs *lg, struct logs_stream *s)
{
    if (s->pending.len == 0)
        return 0;
    int rc = -1;
    bool was_open = s->fd >= 0 && s->fd_day == s->pending_day;
    struct seg *sg = seg_get(s, s->pending_day, true, NULL);
    int fd = stream_fd(lg, s, s->pending_day);
    if (sg == NULL || fd < 0)
        goto out;
    struct stat st;
    if (!was_open && fstat(fd, &st) == 0 && st.st_size != sg->bytes) {
        /* the file is not what we counted (a torn line was closed): offsets noted for the
         * pending lines are off, so forget the index; the next full read rebuilds it */
        seg_unindex(sg);
        sg->bytes = st.st_size;
    }
    size_t done = 0;
    while (done < s->pending.len) {
        ssize_t w = write(fd, s->pending.data + done, s->pending.len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto out;
        done += (size_t)w;
    }
    sg->bytes += (int64_t)s->pending.len;
    rc = 0;
out:
    /* on an I/O error the events are dropped rather than retried forever */
    lg->pending_total -= s->pending.len;
    buf_reset(&s->pending);
    return rc;
}

int logs_flush(struct logs *lg)
{
    int rc = 0;
    while (lg->dirty) {
        struct logs_stream *s = lg->dirty;
        lg->dirty = s->dirty_next;
        s->dirty_next = NULL;
        s->dirty = false;
        if (stream_write(lg, s) != 0)
            rc = -1;
    }
    return rc;
}

/* ---- groups and streams ---- */

static void stream_free(struct logs *lg, struct logs_stream *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nsegs; i++)
        seg_unindex(&s->segs[i]);
    close_fd(lg, s);
    lg->pending_total -= s->pending.len;
    buf_destroy(&s->pending);
    free(s->segs);
    free(s->name);
    free(s->dir);
    free(s);
}

static struct logs_stream *stream_add(struct logs *lg, struct logs_group *g, const char *name,
                                      const char *dir, int64_t created)
{
    if ((lg->nstreams + 1) * 2 > lg->stab_size && grow_stab(lg) != 0)
        return NULL;
    if (g->nstreams == g->cap) {
        size_t n = g->cap ? g->cap * 2 : 8;
        struct logs_stream **v = realloc(g->streams, n * sizeof *v);
        if (v == NULL)
            return NULL;
        g->streams = v;
        g->cap = n;
    }
    struct logs_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->name = strdup(name);
    s->dir = strdup(dir);
    if (s->name == NULL || s->dir == NULL) {
        free(s->name);
        free(s->dir);
        free(s);
        return NULL;
    }
    s->g = g;
    s->fd = -1;
    s->created = created;
    s->hash = logs__hash(name, strlen(name));
    s->key = stream_key(g, name);
    buf_init(&s->pending, PENDING_MAX);
    size_t h = s->key & (lg->stab_size - 1);
    s->hnext = lg->stab[h];
    lg->stab[h] = s;
    lg->nstreams++;
    s->index = g->nstreams;
    g->streams[g->nstreams++] = s;
    return s;
}

static struct logs_group *group_add(struct logs *lg, const char *name, const char *dir,
                                    int64_t created, int retention)
{
    if ((lg->ngroups + 1) * 2 > lg->gtab_size && grow_gtab(lg) != 0)
        return NULL;
    struct logs_group *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->name = strdup(name);
    g->dir = strdup(dir);
    if (g->name == NULL || g->dir == NULL) {
        free(g->name);
        free(g->dir);
        free(g);
        return NULL;
    }
    g->created = created;
    g->retention = retention;
    snprintf(g->cls, sizeof g->cls, "STANDARD");
    size_t h = logs__hash(name, strlen(name)) & (lg->gtab_size - 1);
    g->hnext = lg->gtab[h];
    lg->gtab[h] = g;
    lg->ngroups++;
    return g;
}

struct logs_group *logs__group_create(struct logs *lg, const char *name, int retention_days,
                                      bool *exists)
{
    char fs[256];
    char *dir = NULL;
    struct logs_group *g = NULL;
    if (exists)
        *exists = false;
    if (logs__group_find(lg, name)) {
        if (exists)
            *exists = true;
        return NULL;
    }
    if (logs__fs_name(name, strlen(name), fs, sizeof fs) != 0 || (dir = join(lg->root, fs)) == NULL)
        goto fail;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        goto fail;
    g = group_add(lg, name, dir, logs__now(lg), retention_days);
    if (g == NULL || write_group_meta(g) != 0)
        goto fail;
    free(dir);
    return g;
fail:
    if (g)
        logs__group_delete(lg, g);
    free(dir);
    return NULL;
}

struct logs_stream *logs__stream_create(struct logs *lg, struct logs_group *g, const char *name,
                                        bool *exists)
{
    char fs[256];
    char *dir = NULL;
    struct logs_stream *s = NULL;
    if (exists)
        *exists = false;
    if (logs__stream_find(lg, g, name)) {
        if (exists)
            *exists = true;
        return NULL;
    }
    if (logs__fs_name(name, strlen(name), fs, sizeof fs) != 0 || (dir = join(g->dir, fs)) == NULL)
        goto fail;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        goto fail;
    s = stream_add(lg, g, name, dir, logs__now(lg));
    if (s == NULL)
        goto fail;
    s->stats_known = true; /* new: no events yet */
    if (write_stream_meta(s) != 0)
        goto fail_stream;
    free(dir);
    return s;
fail_stream:
    /* unlink it again: it is the last one added */
    g->nstreams--;
    {
        struct logs_stream **pp = &lg->stab[s->key & (lg->stab_size - 1)];
        while (*pp != s)
            pp = &(*pp)->hnext;
        *pp = s->hnext;
        lg->nstreams--;
    }
    stream_free(lg, s);
fail:
    free(dir);
    return NULL;
}

/* Removes a directory tree of our own making (two levels: streams, then files). */
static void remove_tree(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char *p = join(path, e->d_name);
            if (p == NULL)
                continue;
            struct stat st;
            if (depth > 0 && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p, depth - 1);
            else
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(path);
}

int logs__group_delete(struct logs *lg, struct logs_group *g)
{
    /* out of the dirty list and the tables first */
    for (struct logs_stream **pp = &lg->dirty; *pp;) {
        if ((*pp)->g == g) {
            (*pp)->dirty = false;
            *pp = (*pp)->dirty_next;
        } else {
            pp = &(*pp)->dirty_next;
        }
    }
    if (lg->last && lg->last->g == g)
        lg->last = NULL;
    for (size_t i = 0; i < g->nstreams; i++) {
        struct logs_stream *s = g->streams[i];
        struct logs_stream **pp = &lg->stab[s->key & (lg->stab_size - 1)];
        while (*pp && *pp != s)
            pp = &(*pp)->hnext;
        if (*pp)
            *pp = s->hnext;
        lg->nstreams--;
        stream_free(lg, s);
    }
    size_t h = logs__hash(g->name, strlen(g->name)) & (lg->gtab_size - 1);
    struct logs_group **gp = &lg->gtab[h];
    while (*gp && *gp != g)
        gp = &(*gp)->hnext;
    if (*gp) {
        *gp = g->hnext;
        lg->ngroups--;
    }
    remove_tree(g->dir, 1); /* .tags goes with it: a group made again starts untagged */
    free(g->streams);
    free(g->name);
    free(g->dir);
    free(g->kms);
    json_decref(g->tags);
    free(g);
    return 0;
}

int logs__stream_delete(struct logs *lg, struct logs_stream *s)
{
    struct logs_group *g = s->g;
    for (struct logs_stream **pp = &lg->dirty; *pp; pp = &(*pp)->dirty_next) {
        if (*pp == s) {
            *pp = s->dirty_next;
            break;
        }
    }
    if (lg->last == s)
        lg->last = NULL;
    struct logs_stream **hp = &lg->stab[s->key & (lg->stab_size - 1)];
    while (*hp && *hp != s)
        hp = &(*hp)->hnext;
    if (*hp)
        *hp = s->hnext;
    lg->nstreams--;
    /* swap-remove from the group's array */
    g->streams[s->index] = g->streams[g->nstreams - 1];
    g->streams[s->index]->index = s->index;
    g->nstreams--;
    close_fd(lg, s);
    remove_tree(s->dir, 0);
    stream_free(lg, s);
    return 0;
}

int logs__group_set_retention(struct logs *lg, struct logs_group *g, int days)
{
    (void)lg;
    int old = g->retention;
    g->retention = days;
    if (write_group_meta(g) != 0) {
        g->retention = old;
        return -1;
    }
    return 0;
}

int logs__group_set_class(struct logs *lg, struct logs_group *g, const char *cls, const char *kms)
{
    (void)lg;
    char old_cls[sizeof g->cls];
    char *old_kms = g->kms, *new_kms = NULL;
    if (strlen(cls) >= sizeof g->cls || (kms && (new_kms = strdup(kms)) == NULL))
        return -1;
    memcpy(old_cls, g->cls, sizeof old_cls);
    snprintf(g->cls, sizeof g->cls, "%s", cls);
    g->kms = new_kms;
    if (write_group_meta(g) != 0) {
        memcpy(g->cls, old_cls, sizeof old_cls);
        g->kms = old_kms;
        free(new_kms);
        return -1;
    }
    free(old_kms);
    return 0;
}

json_t *logs__group_tags(const struct logs_group *g)
{
    return g->tags;
}

int logs__group_set_tags(struct logs *lg, struct logs_group *g, json_t *tags)
{
    (void)lg;
    json_t *copy = NULL;
    if (tags && json_object_size(tags) > 0 && (copy = json_deep_copy(tags)) == NULL)
        return -1;
    /* the file first: if it cannot be written, memory still matches the disk */
    if (write_group_tags(g->dir, copy) != 0) {
        json_decref(copy);
        return -1;
    }
    json_decref(g->tags);
    g->tags = copy;
    return 0;
}

static int cmp_group(const void *a, const void *b)
{
    return strcmp((*(struct logs_group *const *)a)->name, (*(struct logs_group *const *)b)->name);
}

struct logs_group **logs__groups_sorted(struct logs *lg, size_t *n)
{
    struct logs_group **v = malloc((lg->ngroups + 1) * sizeof *v);
    *n = 0;
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < lg->gtab_size; i++)
        for (struct logs_group *g = lg->gtab[i]; g; g = g->hnext)
            v[(*n)++] = g;
    qsort(v, *n, sizeof *v, cmp_group);
    return v;
}

const char *logs__group_name(const struct logs_group *g)
{
    return g->name;
}

int64_t logs__group_created(const struct logs_group *g)
{
    return g->created;
}

int logs__group_retention(const struct logs_group *g)
{
    return g->retention;
}

const char *logs__group_class(const struct logs_group *g)
{
    return g->cls;
}

const char *logs__group_kms(const struct logs_group *g)
{
    return g->kms;
}

int64_t logs__group_bytes(const struct logs_group *g)
{
    int64_t n = 0;
    for (size_t i = 0; i < g->nstreams; i++)
        n += logs__stream_bytes(g->streams[i]);
    return n;
}

struct logs_stream **logs__group_streams(struct logs_group *g, size_t *n)
{
    *n = g->nstreams;
    return g->streams;
}

const char *logs__stream_name(const struct logs_stream *s)
{
    return s->name;
}

int64_t logs__stream_created(const struct logs_stream *s)
{
    return s->created;
}

int64_t logs__stream_bytes(const struct logs_stream *s)
{
    int64_t n = (int64_t)s->pending.len;
    for (size_t i = 0; i < s->nsegs; i++)
        n += s->segs[i].bytes;
    return n;
}

size_t logs__stream_marks(const struct logs_stream *s, bool *sorted)
{
    size_t n = 0;
    *sorted = true;
    for (size_t i = 0; i < s->nsegs; i++) {
        n += s->segs[i].nmarks;
        if (s->segs[i].indexed && !s->segs[i].sorted)
            *sorted = false;
    }
    return n;
}

uint64_t logs__stream_hash(const struct logs_stream *s)
{
    return s->hash;
}

/* ---- events ---- */

static int put_escaped(struct buf *b, const char *msg, size_t len)
{
    size_t run = 0;
    int rc = BUF_OK;
    for (size_t i = 0; rc == BUF_OK; i++) {
        i += str_find4(msg + i, len - i, '\\', '\n', '\r', '\0');
        if (i == len)
            break;
        unsigned char c = (unsigned char)msg[i];
        rc = buf_append(b, msg + run, i - run);
        if (rc == BUF_OK)
            rc = buf_append(b,
                            c == '\\'   ? "\\\\"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                                        : "\\0",
                            2);
        run = i + 1;
    }
    if (rc == BUF_OK)
        rc = buf_append(b, msg + run, len - run);
    return rc;
}

int logs__put_at(struct logs *lg, struct logs_stream *s, int64_t ts_ms, int64_t ingest_ms,
                 const char *msg, size_t len)
{
    int64_t day = day_of(ts_ms);
    if (s->pending.len > 0 &&
        (s->pending_day != day || s->pending.len + len * 2 + 48 > PENDING_MAX))
        stream_write(lg, s); /* one buffer holds one day's segment */
    if (len * 2 + 48 > PENDING_MAX)
        return -1;
    size_t before = s->pending.len;
    s->pending_day = day;
    bool created;
    struct seg *sg = seg_get(s, day, true, &created);
    if (sg == NULL)
        return -1;
    if (created) { /* a new file: index it from its first line */
        sg->indexed = true;
        sg->sorted = true;
    }
    int64_t line_off = sg->bytes + (int64_t)before;
    char head[2 * STR_I64_MAX + 2];
    size_t hn = str_i64(ts_ms, head);
    head[hn++] = ' ';
    hn += str_i64(ingest_ms, head + hn);
    head[hn++] = ' ';
    if (buf_append(&s->pending, head, hn) != BUF_OK ||
        put_escaped(&s->pending, msg, len) != BUF_OK ||
        buf_append(&s->pending, "\n", 1) != BUF_OK) {
        s->pending.len = before; /* drop the partial line */
        if (s->pending.data)
            s->pending.data[before] = '\0';
        return -1;
    }
    seg_note(sg, ts_ms, line_off);
    lg->pending_total += s->pending.len - before;
    if (!s->dirty) {
        s->dirty = true;
        s->dirty_next = lg->dirty;
        lg->dirty = s;
    }
    if (!timer_pending(&lg->flush_timer))
        timer_start(&lg->flush_timer, FLUSH_MS);
    if (s->stats_known) {
        if (!s->has_events || ts_ms < s->first_ts)
            s->first_ts = ts_ms;
        if (!s->has_events || ts_ms > s->last_ts)
            s->last_ts = ts_ms;
        if (!s->has_events || ingest_ms > s->last_ingest)
            s->last_ingest = ingest_ms;
        s->has_events = true;
    }
    if (lg->pending_total > PENDING_TOTAL)
        logs_flush(lg);
    return 0;
}

int logs_put(struct logs *lg, const char *group, const char *stream, int64_t ts_ms, const char *msg,
             size_t len)
{
    if (lg == NULL || group == NULL || stream == NULL || (msg == NULL && len > 0))
        return -1;
    struct logs_stream *s = lg->last;
    if (s == NULL || strcmp(s->name, stream) != 0 || strcmp(s->g->name, group) != 0) {
        struct logs_group *g = logs__group_find(lg, group);
        if (g == NULL) {
            if (!logs__valid_group_name(group, strlen(group)))
                return -1;
            g = logs__group_create(lg, group, lg->default_retention, NULL);
            if (g == NULL)
                return -1;
        }
        s = logs__stream_find(lg, g, stream);
        if (s == NULL) {
            if (!logs__valid_stream_name(stream, strlen(stream)))
                return -1;
            s = logs__stream_create(lg, g, stream, NULL);
            if (s == NULL)
                return -1;
        }
        lg->last = s;
    }
    if (len > 0 && msg[len - 1] == '\n')
        len--;
    if (len > 0 && msg[len - 1] == '\r')
        len--;
    return logs__put_at(lg, s, ts_ms, logs__now(lg), msg, len);
}

/* ---- reading ---- */

void logs__evset_destroy(struct logs_evset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nbufs; i++)
        free(set->bufs[i]);
    free(set->bufs);
    free(set->v);
    memset(set, 0, sizeof *set);
}

/* Parses a decimal int64 (optional '-') up to the byte `stop`. */
static bool parse_i64(const char **p, const char *end, char stop, int64_t *v)
{
    const char *q = *p;
    bool neg = false;
    int64_t x = 0;
    if (q < end && *q == '-') {
        neg = true;
        q++;
    }
    const char *start = q;
    while (q < end && *q >= '0' && *q <= '9') {
        if (x > (INT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (*q - '0');
        q++;
    }
    if (q == start || q >= end || *q != stop)
        return false;
    *p = q + 1;
    *v = neg ? -x : x;
    return true;
}

/* Unescapes in place; returns the new length. */
static size_t unescape(char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\\' && i + 1 < len) {
            char c = s[++i];
            s[o++] = c == 'n' ? '\n' : c == 'r' ? '\r' : c == '0' ? '\0' : c;
        } else {
            s[o++] = s[i];
        }
    }
    return o;
}

static int evset_keep(struct logs_evset *set, char *buf)
{
    if (set->nbufs == set->bufcap) {
        size_t n = set->bufcap ? set->bufcap * 2 : 8;
        char **v = realloc(set->bufs, n * sizeof *v);
        if (v == NULL)
            return -1;
        set->bufs = v;
        set->bufcap = n;
    }
    set->bufs[set->nbufs++] = buf;
    return 0;
}

static int evset_push(struct logs_evset *set, const struct logs_event *e)
{
    if (set->n == set->cap) {
        size_t n = set->cap ? set->cap * 2 : 64;
        struct logs_event *v = realloc(set->v, n * sizeof *v);
        if (v == NULL)
            return -1;
        set->v = v;
        set->cap = n;
    }
    set->v[set->n++] = *e;
    return 0;
}

/* Reads bytes [lo, hi) of a file (hi < 0: to its end) into a NUL-terminated heap buffer. */
static char *read_range(const char *path, int64_t lo, int64_t hi, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) != 0)
        goto done;
    if (hi < 0 || hi > st.st_size)
        hi = st.st_size;
    if (lo > hi)
        lo = hi;
    size_t want = (size_t)(hi - lo);
    data = malloc(want + 1);
    if (data == NULL)
        goto done;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, data + got, want - got, (off_t)(lo + (int64_t)got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    data[got] = '\0';
    *len = got;
done:
    close(fd);
    return data;
}

/*
 * Parses the lines of data (bytes of a segment from offset base) into set, keeping those
 * with start <= ts < end. With `build`, notes every line in that segment's index; with
 * `sorted`, stops at the first line at or past end.
 */
static int parse_segment(char *data, size_t len, int64_t base, struct logs_stream *s,
                         struct seg *build, bool sorted, int64_t start, int64_t end,
                         struct logs_evset *set)
{
    char *p = data, *limit = data + len;
    while (p < limit) {
        char *nl = memchr(p, '\n', (size_t)(limit - p));
        if (nl == NULL)
            break; /* a torn last line is not an event */
        const char *q = p;
        struct logs_event e = {0};
        e.off = base + (p - data);
        e.stream = s;
        if (parse_i64(&q, nl, ' ', &e.ts) && parse_i64(&q, nl, ' ', &e.ingest)) {
            if (build)
                seg_note(build, e.ts, e.off);
            if (sorted && e.ts >= end)
                break;
            if (e.ts >= start && e.ts < end) {
                e.msg = q;
                e.len = unescape((char *)q, (size_t)(nl - q));
                if (evset_push(set, &e) != 0)
                    return -1;
            }
        }
        p = nl + 1;
    }
    return 0;
}

/* The byte range of a sorted, indexed segment that can hold events in [start, end). */
static void seg_range(const struct seg *sg, int64_t start, int64_t end, int64_t *lo, int64_t *hi)
{
    *lo = 0;
    *hi = -1;
    for (size_t a = 0, b = sg->nmarks; a < b;) { /* last mark with ts < start */
        size_t mid = (a + b) / 2;
        if (sg->marks[mid].ts < start) {
            *lo = sg->marks[mid].off;
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    for (size_t a = 0, b = sg->nmarks; a < b;) { /* first mark with ts >= end */
        size_t mid = (a + b) / 2;
        if (sg->marks[mid].ts >= end) {
            *hi = sg->marks[mid].off;
            b = mid;
        } else {
            a = mid + 1;
        }
    }
}

int logs__stream_read(struct logs *lg, struct logs_stream *s, int64_t start, int64_t end,
                      struct logs_evset *set)
{
    if (s->g->retention > 0) {
        int64_t cutoff = logs__now(lg) - (int64_t)s->g->retention * LOGS_DAY_MS;
        if (start < cutoff)
            start = cutoff;
    }
    if (start >= end)
        return 0;
    int64_t d0 = day_of(start), d1 = day_of(end - 1);
    for (size_t i = 0; i < s->nsegs; i++) {
        struct seg *sg = &s->segs[i];
        if (sg->day < d0 || sg->day > d1)
            continue;
        int64_t lo = 0, hi = -1;
        struct seg *build = NULL;
        bool sorted = sg->indexed && sg->sorted;
        if (sorted) {
            if (sg->nmarks > 0 && sg->max_ts < start)
                continue; /* all older than the window */
            seg_range(sg, start, end, &lo, &hi);
        } else if (!sg->indexed) {
            /* first read since the store was opened: the whole file, indexed on the way */
            seg_unindex(sg);
            sg->indexed = true;
            sg->sorted = true;
            build = sg;
        }
        char path[PATH_CAP];
        size_t len = 0;
        if (segment_path(s, sg->day, path, sizeof path) != 0)
            return -1;
        char *data = read_range(path, lo, hi, &len);
        if (data == NULL) {
            if (build)
                seg_unindex(sg);
            if (errno == ENOENT)
                continue;
            return -1;
        }
        if (evset_keep(set, data) != 0) {
            free(data);
            return -1;
        }
        if (parse_segment(data, len, lo, s, build, sorted, start, end, set) != 0) {
            if (build)
                seg_unindex(sg);
            return -1;
        }
    }
    return 0;
}

bool logs__stream_stats(struct logs *lg, struct logs_stream *s, int64_t *first, int64_t *last,
                        int64_t *ingest)
{
    if (!s->stats_known && s->nsegs > 0) {
        logs_flush(lg);
        struct logs_evset set = {0};
        int64_t lo = s->segs[0].day * LOGS_DAY_MS, hi = (s->segs[0].day + 1) * LOGS_DAY_MS;
        int64_t lo2 = s->segs[s->nsegs - 1].day * LOGS_DAY_MS;
        int64_t hi2 = (s->segs[s->nsegs - 1].day + 1) * LOGS_DAY_MS;
        int rc = logs__stream_read(lg, s, lo, hi, &set);
        if (rc == 0 && s->nsegs > 1)
            rc = logs__stream_read(lg, s, lo2, hi2, &set);
        if (rc == 0) {
            s->has_events = set.n > 0;
            for (size_t i = 0; i < set.n; i++) {
                if (i == 0 || set.v[i].ts < s->first_ts)
                    s->first_ts = set.v[i].ts;
                if (i == 0 || set.v[i].ts > s->last_ts)
                    s->last_ts = set.v[i].ts;
                if (i == 0 || set.v[i].ingest > s->last_ingest)
                    s->last_ingest = set.v[i].ingest;
            }
            s->stats_known = true;
        }
        logs__evset_destroy(&set);
    } else if (!s->stats_known) {
        s->stats_known = true; /* no segments, no events */
    }
    if (!s->has_events)
        return false;
    *first = s->first_ts;
    *last = s->last_ts;
    *ingest = s->last_ingest;
    return true;
}

/* ---- retention ---- */

static long count_lines(const char *path)
{
    size_t len = 0;
    char *data = read_file(path, (size_t)1 << 34, &len);
    if (data == NULL)
        return 0;
    long n = 0;
    for (const char *p = data; (p = memchr(p, '\n', len - (size_t)(p - data))) != NULL; p++)
        n++;
    free(data);
    return n;
}

long logs_expire(struct logs *lg, int64_t now_ms)
{
    long dropped = 0;
    if (lg == NULL)
        return 0;
    logs_flush(lg);
    for (size_t i = 0; i < lg->gtab_size; i++) {
        for (struct logs_group *g = lg->gtab[i]; g; g = g->hnext) {
            if (g->retention <= 0)
                continue;
            int64_t cutoff = now_ms - (int64_t)g->retention * LOGS_DAY_MS;
            for (size_t k = 0; k < g->nstreams; k++) {
                struct logs_stream *s = g->streams[k];
                size_t n = 0; /* segments wholly before the cutoff: a prefix */
                while (n < s->nsegs && (s->segs[n].day + 1) * LOGS_DAY_MS <= cutoff)
                    n++;
                if (n == 0)
                    continue;
                for (size_t j = 0; j < n; j++) {
                    char path[PATH_CAP];
                    if (segment_path(s, s->segs[j].day, path, sizeof path) != 0)
                        continue;
                    if (s->fd >= 0 && s->fd_day == s->segs[j].day)
                        close_fd(lg, s);
                    dropped += count_lines(path);
                    unlink(path);
                    seg_unindex(&s->segs[j]);
                }
                memmove(s->segs, s->segs + n, (s->nsegs - n) * sizeof *s->segs);
                s->nsegs -= n;
                s->stats_known = false; /* first/last recomputed on demand */
            }
        }
    }
    return dropped;
}

/* ---- open / free ---- */

static int parse_meta_header(const char **p, const char *magic, int64_t *created)
{
    size_t ml = strlen(magic);
    if (strncmp(*p, magic, ml) != 0)
        return -1;
    *p += ml;
    const char *end = *p + strlen(*p);
    return parse_i64(p, end, '\n', created) ? 0 : -1;
}

/* Loads a stream folder; ignores what does not look like ours. */
static void load_stream(struct logs *lg, struct logs_group *g, const char *dir)
{
    char *meta_path = join(dir, ".stream");
    size_t len = 0;
    char *meta = meta_path ? read_file(meta_path, 8192, &len) : NULL;
    free(meta_path);
    if (meta == NULL)
        return;
    const char *p = meta;
    int64_t created;
    if (parse_meta_header(&p, "haar-logs-stream 1\n", &created) != 0)
        goto done;
    char *nl = strchr(p, '\n');
    if (nl == NULL)
        goto done;
    *nl = '\0';
    if (!logs__valid_stream_name(p, strlen(p)) || logs__stream_find(lg, g, p))
        goto done;
    struct logs_stream *s = stream_add(lg, g, p, dir, created);
    if (s == NULL)
        goto done;
    DIR *d = opendir(dir);
    if (d == NULL)
        goto done;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *endp;
        errno = 0;
        long long day = strtoll(e->d_name, &endp, 10);
        if (errno != 0 || endp == e->d_name || strcmp(endp, ".log") != 0)
            continue;
        char *path = join(dir, e->d_name);
        struct stat st;
        if (path && stat(path, &st) == 0) {
            struct seg *sg = seg_get(s, day, true, NULL);
            if (sg)
                sg->bytes = st.st_size; /* not indexed until first read */
        }
        free(path);
    }
    closedir(d);
done:
    free(meta);
}

/* The optional lines after the name: "<class>\n" then "<kmsKeyId>\n". */
static void load_group_options(struct logs_group *g, char *p)
{
    char *nl = strchr(p, '\n');
    if (nl == NULL)
        return;
    *nl = '\0';
    if (strcmp(p, "INFREQUENT_ACCESS") == 0 || strcmp(p, "DELIVERY") == 0)
        snprintf(g->cls, sizeof g->cls, "%s", p);
    p = nl + 1;
    if ((nl = strchr(p, '\n')) != NULL && nl > p) {
        *nl = '\0';
        g->kms = strdup(p);
    }
}

static void load_group(struct logs *lg, const char *dir)
{
    char *meta_path = join(dir, ".group");
    size_t len = 0;
    char *meta = meta_path ? read_file(meta_path, 8192, &len) : NULL;
    free(meta_path);
    if (meta == NULL)
        return;
    const char *p = meta;
    int64_t created, retention;
    const char *end = meta + len;
    if (parse_meta_header(&p, "haar-logs-group 1\n", &created) != 0 ||
        !parse_i64(&p, end, '\n', &retention))
        goto done;
    char *nl = strchr(p, '\n');
    if (nl == NULL)
        goto done;
    *nl = '\0';
    if (!logs__valid_group_name(p, strlen(p)) || logs__group_find(lg, p))
        goto done;
    struct logs_group *g = group_add(lg, p, dir, created, (int)retention);
    if (g == NULL)
        goto done;
    load_group_options(g, nl + 1);
    g->tags = read_group_tags(dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        goto done;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *sd = join(dir, e->d_name);
        struct stat st;
        if (sd && stat(sd, &st) == 0 && S_ISDIR(st.st_mode))
            load_stream(lg, g, sd);
        free(sd);
    }
    closedir(d);
done:
    free(meta);
}

static void on_flush_timer(struct timer *t)
{
    logs_flush(t->data);
}

static void on_expire_timer(struct timer *t)
{
    struct logs *lg = t->data;
    logs_expire(lg, clock_now_ms());
    timer_start(t, EXPIRE_MS);
}

struct logs *logs_new(const char *state_dir, int default_retention_days, char *err, size_t errlen)
{
    struct logs *lg = calloc(1, sizeof *lg);
    if (lg == NULL) {
        snprintf(err, errlen, "logs: out of memory");
        return NULL;
    }
    lg->now = real_now;
    if (timer_init(&lg->flush_timer, TIMER_REAL, on_flush_timer, lg) != 0 ||
        timer_init(&lg->expire_timer, TIMER_CLOCK, on_expire_timer, lg) != 0) {
        snprintf(err, errlen, "logs: out of memory");
        goto fail;
    }
    timer_start(&lg->expire_timer, EXPIRE_MS);
    lg->default_retention = default_retention_days > 0 ? default_retention_days : 0;
    logs_set_region(lg, NULL);
    lg->root = join(state_dir ? state_dir : ".", "logs");
    if (lg->root == NULL || strlen(lg->root) > PATH_CAP - 450) {
        snprintf(err, errlen, "logs: state dir path too long");
        goto fail;
    }
    if (fs_mkdir_p(lg->root, 0700) != 0) {
        snprintf(err, errlen, "logs: cannot create %s: %s", lg->root, strerror(errno));
        goto fail;
    }
    if (grow_gtab(lg) != 0 || grow_stab(lg) != 0) {
        snprintf(err, errlen, "logs: out of memory");
        goto fail;
    }
    DIR *d = opendir(lg->root);
    if (d == NULL) {
        snprintf(err, errlen, "logs: cannot open %s: %s", lg->root, strerror(errno));
        goto fail;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *gd = join(lg->root, e->d_name);
        struct stat st;
        if (gd && stat(gd, &st) == 0 && S_ISDIR(st.st_mode))
            load_group(lg, gd);
        free(gd);
    }
    closedir(d);
    return lg;
fail:
    logs_free(lg);
    return NULL;
}

void logs_free(struct logs *lg)
{
    if (lg == NULL)
        return;
    logs_flush(lg);
    timer_destroy(&lg->flush_timer);
    timer_destroy(&lg->expire_timer);
    for (size_t i = 0; i < lg->gtab_size; i++) {
        struct logs_group *g = lg->gtab[i], *next;
        for (; g; g = next) {
            next = g->hnext;
            for (size_t k = 0; k < g->nstreams; k++)
                stream_free(lg, g->streams[k]);
            free(g->streams);
            free(g->name);
            free(g->dir);
            free(g->kms);
            json_decref(g->tags);
            free(g);
        }
    }
    free(lg->gtab);
    free(lg->stab);
    free(lg->root);
    free(lg);
}
