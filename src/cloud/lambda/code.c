/*
 * code.c — unpacking a function's deployment package (libzip) into its code folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "cloud/lambda/lambda_int.h"

enum { MAX_UNZIPPED = 262144000, MAX_ENTRIES = 20000 };

static int mkdirs(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

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

int lambda__unzip(const void *data, size_t len, const char *dir, char *msg, size_t msglen)
{
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
    if (mkdirs(dir) != 0) {
        snprintf(msg, msglen, "Cannot create the code folder %s: %s", dir, strerror(errno));
        goto out;
    }
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n > MAX_ENTRIES) {
        snprintf(msg, msglen, "Too many files in the deployment package");
        goto out;
    }
    chunk = malloc(65536);
    if (chunk == NULL)
        goto out;
    unsigned long long total = 0;
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
            if (mkdirs(path) != 0)
                goto io_fail;
            continue;
        }
        char *slash = strrchr(path, '/');
        *slash = '\0';
        if (mkdirs(path) != 0)
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
                snprintf(msg, msglen, "Unzipped size must be smaller than 262144000 bytes");
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
