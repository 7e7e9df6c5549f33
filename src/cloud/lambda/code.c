/*
 * code.c — function code on disk: unpacking a deployment package (libzip, on the work pool)
 * into a folder of its own, and removing folders no function or environment uses any more.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "cloud/lambda/lambda_int.h"
#include "core/codec.h"
#include "core/fs.h"

enum { MAX_UNZIPPED = 262144000, MAX_ENTRIES = 20000 };

static bool safe_name(const char *n)
{
    if (n[0] == '/' || n[0] == '\0')
        return false;
    const char *p = n;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return false;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    return true;
}

/* Unpacks a zip into dir (see lambda__code_unpack). */
static int unzip(const void *data, size_t len, const char *dir, int64_t *unzipped, char *msg,
                 size_t msglen)
{
    *unzipped = 0;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, len, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    int rc = -1;
    char *chunk = NULL;
    if (za == NULL) {
        zip_source_free(src);
        snprintf(msg, msglen,
                 "Could not unzip uploaded file. Please check your file, then try to upload "
                 "again.");
        goto out;
    }
    if (fs_mkdir_p(dir, 0755) != 0) {
        snprintf(msg, msglen, "Cannot create the code folder %s: %s", dir, strerror(errno));
        goto out;
    }
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n > MAX_ENTRIES) {
        snprintf(msg, msglen, "Too many files in the deployment package");
        goto out;
    }
    /* what the archive declares first: a bomb is refused before anything is written */
    unsigned long long declared = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE))
            declared += st.size;
    }
    if (declared > MAX_UNZIPPED) {
        snprintf(msg, msglen, "Unzipped size must be smaller than %d bytes", MAX_UNZIPPED);
        goto out;
    }
    chunk = malloc(65536);
    if (chunk == NULL)
        goto out;
    unsigned long long total = 0; /* what was written: archives may lie about sizes */
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
            continue;
        if (!safe_name(st.name)) {
            snprintf(msg, msglen, "Unsafe path in the deployment package: %.200s", st.name);
            goto out;
        }
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, st.name);
        size_t pl = strlen(path);
        if (pl > 0 && path[pl - 1] == '/') {
            if (fs_mkdir_p(path, 0755) != 0)
                goto io_fail;
            continue;
        }
        char *slash = strrchr(path, '/');
        *slash = '\0';
        if (fs_mkdir_p(path, 0755) != 0)
            goto io_fail;
        *slash = '/';
        zip_uint8_t opsys;
        zip_uint32_t attr;
        mode_t mode = 0644;
        if (zip_file_get_external_attributes(za, (zip_uint64_t)i, 0, &opsys, &attr) == 0 &&
            opsys == ZIP_OPSYS_UNIX && ((attr >> 16) & 0777) != 0)
            mode = (mode_t)((attr >> 16) & 0777);
        if (strcmp(st.name, "bootstrap") == 0)
            mode |= 0500; /* AWS runs bootstrap whatever its bits; so do we */
        zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)i, 0);
        if (zf == NULL) {
            snprintf(msg, msglen,
                     "Could not unzip uploaded file. Please check your file, then "
                     "try to upload again.");
            goto out;
        }
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode | 0200);
        if (fd < 0) {
            zip_fclose(zf);
            goto io_fail;
        }
        zip_int64_t got;
        while ((got = zip_fread(zf, chunk, 65536)) > 0) {
            total += (unsigned long long)got;
            if (total > MAX_UNZIPPED || write(fd, chunk, (size_t)got) != got) {
                close(fd);
                zip_fclose(zf);
                snprintf(msg, msglen, "Unzipped size must be smaller than %d bytes", MAX_UNZIPPED);
                goto out;
            }
        }
        fchmod(fd, mode);
        close(fd);
        zip_fclose(zf);
        if (got < 0) {
            snprintf(msg, msglen,
                     "Could not unzip uploaded file. Please check your file, then "
                     "try to upload again.");
            goto out;
        }
    }
    *unzipped = (int64_t)total;
    rc = 0;
    goto out;
io_fail:
    snprintf(msg, msglen, "Cannot write the function code: %s", strerror(errno));
out:
    free(chunk);
    if (za)
        zip_discard(za);
    return rc;
}

int lambda__code_unpack(const void *zip, size_t len, const char *dir, const char *what,
                        unsigned char sha[32], int64_t *unzipped, char *msg, size_t msglen)
{
    codec_sha256(zip, len, sha);
    if (unzip(zip, len, dir, unzipped, msg, msglen) != 0)
        return -1;
    /* the package itself, for Code.Location / Content.Location */
    char zpath[PATH_MAX + 8];
    snprintf(zpath, sizeof zpath, "%s.zip", dir);
    if (fs_write_atomic(zpath, zip, len, 0600) != 0) {
        snprintf(msg, msglen, "Cannot store the %s: %s", what, strerror(errno));
        return -1;
    }
    return 0;
}

bool lambda__code_over_quota(const struct lambda *lm, int64_t more, char *msg, size_t msglen)
{
    if (lm->opt.code_storage_max <= 0 || lm->code_bytes + more <= lm->opt.code_storage_max)
        return false;
    snprintf(msg, msglen,
             "Code storage limit exceeded: the account's function code would take more than "
             "%lld bytes.",
             (long long)lm->opt.code_storage_max);
    return true;
}

int64_t lambda__code_size(const char *dir)
{
    char zip[PATH_MAX + 8];
    snprintf(zip, sizeof zip, "%s.zip", dir);
    return fs_tree_size(dir) + fs_tree_size(zip);
}

/* Is dir in use: a function's code, or what an environment runs? */
static bool code_in_use(struct lambda *lm, const char *dir)
{
    for (int b = 0; b < LAMBDA_NBUCKETS; b++)
        for (struct lambda_fn *fn = lm->buckets[b]; fn; fn = fn->hnext) {
            if (!fn->deleted && strcmp(fn->code_dir, dir) == 0)
                return true;
            for (struct lambda_env *e = fn->envs; e; e = e->next)
                if (e->pid > 0 && strcmp(e->code_dir, dir) == 0)
                    return true;
        }
    return false;
}

void lambda__code_release(struct lambda *lm, const char *dir)
{
    char root[PATH_MAX + 16];
    int n = snprintf(root, sizeof root, "%s/lambda/", lm->state_dir);
    /* only code haar unpacked itself: never a build folder of the environment's functions */
    if (dir[0] == '\0' || n < 0 || strncmp(dir, root, (size_t)n) != 0 || code_in_use(lm, dir))
        return;
    int64_t bytes = lambda__code_size(dir);
    char zip[PATH_MAX + 8];
    snprintf(zip, sizeof zip, "%s.zip", dir);
    unlink(zip);
    fs_remove_tree(dir);
    /* and the function's folder, once its last version is gone */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash != NULL) {
        *slash = '\0';
        rmdir(parent);
    }
    lm->code_bytes -= bytes;
    if (lm->code_bytes < 0)
        lm->code_bytes = 0;
}

void lambda__code_gc(struct lambda *lm)
{
    char root[PATH_MAX];
    if (snprintf(root, sizeof root, "%s/lambda", lm->state_dir) >= (int)sizeof root)
        return;
    DIR *d = opendir(root);
    if (d == NULL)
        return;
    struct dirent *fe;
    while ((fe = readdir(d)) != NULL) {
        if (fe->d_name[0] == '.')
            continue;
        char fdir[PATH_MAX];
        if (snprintf(fdir, sizeof fdir, "%s/%s", root, fe->d_name) >= (int)sizeof fdir)
            continue;
        DIR *cd = opendir(fdir);
        if (cd == NULL)
            continue;
        struct dirent *ce;
        while ((ce = readdir(cd)) != NULL) {
            if (strcmp(ce->d_name, ".") == 0 || strcmp(ce->d_name, "..") == 0)
                continue;
            char path[PATH_MAX];
            size_t n = strlen(ce->d_name);
            if (snprintf(path, sizeof path, "%s/%s", fdir, ce->d_name) >= (int)sizeof path)
                continue;
            if (n > 4 && strcmp(ce->d_name + n - 4, ".zip") == 0)
                path[strlen(path) - 4] = '\0'; /* a package goes with its folder */
            if (code_in_use(lm, path))
                continue;
            char zip[PATH_MAX + 8];
            snprintf(zip, sizeof zip, "%s.zip", path);
            unlink(zip);
            fs_remove_tree(path);
        }
        closedir(cd);
        rmdir(fdir); /* only when empty: a function without code left */
    }
    closedir(d);
}

void lambda__sha_b64(const unsigned char sha[32], char out[48])
{
    struct buf b64;
    buf_init(&b64, 64);
    codec_b64_encode(sha, 32, &b64);
    snprintf(out, 48, "%s", b64.data ? b64.data : "");
    buf_destroy(&b64);
}
