/*
 * sync — the machine's floor for one durable write: COUNT times, 4 KB written with pwrite and
 * made durable with fdatasync, into a file in DIR. Two ways, as SQLite's WAL is written:
 * `overwrite` (pages the file already holds, as after the WAL wraps) and `append` (the file
 * grows, so its size must be synced too).
 *
 *   sync DIR COUNT
 *
 * Prints one JSON line per way: min, p10, p50 and p99 in µs. The file is removed after.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/load.h"
#include "core/clock.h"

enum { PAGE = 4096, MAX_COUNT = 100000 };

static double us(int64_t ns)
{
    return (double)ns / 1e3;
}

/* COUNT writes of a page: from base on, each at the next page (grow), or in turn over the
 * 64 pages from base (the file's own pages, written again). */
static int measure(int fd, const char *way, long count, off_t base, bool grow, int64_t *lat)
{
    static char page[PAGE];
    memset(page, 'x', sizeof page);
    for (long i = 0; i < count; i++) {
        off_t at = base + (off_t)(grow ? i : i % 64) * PAGE;
        int64_t t0 = clock_mono_ns();
        if (pwrite(fd, page, PAGE, at) != PAGE || fdatasync(fd) != 0) {
            perror("sync: write");
            return -1;
        }
        lat[i] = clock_mono_ns() - t0;
    }
    load_sort_i64(lat, (size_t)count);
    printf("{\"way\":\"%s\",\"writes\":%ld,\"bytes\":%d,\"min_us\":%.1f,\"p10_us\":%.1f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
           way, count, PAGE, us(lat[0]), us(lat[count / 10]), us(lat[count / 2]),
           us(lat[count * 99 / 100]));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sync DIR COUNT\n");
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    if (count < 1 || count > MAX_COUNT) {
        fprintf(stderr, "sync: COUNT 1..%d\n", MAX_COUNT);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/sync-floor.%ld", argv[1], (long)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("sync: open");
        return 1;
    }
    int64_t *lat = malloc((size_t)count * sizeof *lat);
    if (lat == NULL) {
        fprintf(stderr, "sync: out of memory\n");
        close(fd);
        unlink(path);
        return 1;
    }
    /* the pages to overwrite exist and are on disk before the first measured write */
    static char zero[64 * PAGE];
    int rc = pwrite(fd, zero, sizeof zero, 0) == (ssize_t)sizeof zero && fsync(fd) == 0 ? 0 : -1;
    if (rc == 0)
        rc = measure(fd, "overwrite", count, 0, false, lat);
    if (rc == 0)
        rc = measure(fd, "append", count, (off_t)sizeof zero, true, lat);
    close(fd);
    unlink(path);
    free(lat);
    return rc == 0 ? 0 : 1;
}
