/*
 * rtt — the machine's floor for one request and its answer between two processes: a parent
 * and a child pass `size` bytes back and forth over a loopback TCP connection (TCP_NODELAY)
 * or a Unix stream socket, `count` times, and the parent times each round trip.
 *
 *   rtt tcp|unix any|same|split COUNT [SIZE]
 *
 * Placement: `any` leaves both processes to the scheduler, `same` pins both to the first CPU
 * the process may use, `split` pins them to the first two (each wake-up then crosses CPUs, as
 * it does between a client and a server that both have work). Prints one JSON line: the round
 * trips' p50 and p99 in µs, and the CPU time both processes spent per round trip.
 *
 * Every haar request a benchmark makes is at least one such round trip (client and daemon),
 * and one through the gateway to a function is two (client and daemon, daemon and function),
 * so a benchmark's report quotes these figures beside its own.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/load.h"
#include "core/clock.h"

enum { MAX_COUNT = 10 * 1000 * 1000, MAX_SIZE = 64 * 1024 };

static double cpu_seconds(const struct rusage *r)
{
    return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
           (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

/* The n-th CPU this process may run on, or -1. */
static int nth_cpu(int n)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set) && n-- == 0)
            return c;
    return -1;
}

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        perror("rtt: sched_setaffinity");
        exit(1);
    }
}

static int xfer(int fd, char *buf, size_t n, bool out)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = out ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

/* A connected pair: fds[0] the parent's end, fds[1] the child's. */
static int connect_pair(bool tcp, int fds[2])
{
    if (!tcp)
        return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &alen) != 0 || listen(l, 1) != 0)
        return -1;
    fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    fds[1] = accept(l, NULL, NULL);
    close(l);
    int one = 1;
    if (fds[1] < 0 || setsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        setsockopt(fds[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "tcp") != 0 && strcmp(argv[1], "unix") != 0) ||
        (strcmp(argv[2], "any") != 0 && strcmp(argv[2], "same") != 0 &&
         strcmp(argv[2], "split") != 0)) {
        fprintf(stderr, "usage: rtt tcp|unix any|same|split COUNT [SIZE]\n");
        return 2;
    }
    bool tcp = strcmp(argv[1], "tcp") == 0;
    const char *placement = argv[2];
    long count = strtol(argv[3], NULL, 10);
    long size = argc > 4 ? strtol(argv[4], NULL, 10) : 256;
    if (count < 1 || count > MAX_COUNT || size < 1 || size > MAX_SIZE) {
        fprintf(stderr, "rtt: COUNT 1..%d, SIZE 1..%d\n", MAX_COUNT, MAX_SIZE);
        return 2;
    }
    int cpu0 = nth_cpu(0), cpu1 = nth_cpu(1);
    bool split = strcmp(placement, "split") == 0, same = strcmp(placement, "same") == 0;
    if ((split && cpu1 < 0) || ((split || same) && cpu0 < 0)) {
        fprintf(stderr, "rtt: %s needs %s CPUs\n", placement, split ? "two" : "one");
        return 1;
    }
    int fds[2];
    if (connect_pair(tcp, fds) != 0) {
        perror("rtt: connect");
        return 1;
    }
    static char buf[MAX_SIZE];
    memset(buf, 'x', sizeof buf);
    pid_t child = fork();
    if (child < 0) {
        perror("rtt: fork");
        return 1;
    }
    if (child == 0) {
        close(fds[0]);
        if (split || same)
            pin(split ? cpu1 : cpu0);
        for (long i = 0; i < count; i++)
            if (xfer(fds[1], buf, (size_t)size, false) != 0 ||
                xfer(fds[1], buf, (size_t)size, true) != 0)
                _exit(1);
        _exit(0);
    }
    close(fds[1]);
    if (split || same)
        pin(cpu0);
    int64_t *lat = malloc((size_t)count * sizeof *lat);
    if (lat == NULL) {
        fprintf(stderr, "rtt: out of memory\n");
        return 1;
    }
    for (long i = 0; i < count; i++) {
        int64_t t0 = clock_mono_ns();
        if (xfer(fds[0], buf, (size_t)size, true) != 0 ||
            xfer(fds[0], buf, (size_t)size, false) != 0) {
            fprintf(stderr, "rtt: the connection broke\n");
            return 1;
        }
        lat[i] = clock_mono_ns() - t0;
    }
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "rtt: the child failed\n");
        return 1;
    }
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    load_sort_i64(lat, (size_t)count);
    printf("{\"transport\":\"%s\",\"placement\":\"%s\",\"round_trips\":%ld,\"bytes\":%ld,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"cpu_us_per_round_trip\":%.1f}\n",
           tcp ? "tcp" : "unix", placement, count, size, (double)lat[count / 2] / 1e3,
           (double)lat[count * 99 / 100] / 1e3,
           (cpu_seconds(&self) + cpu_seconds(&kids)) / (double)count * 1e6);
    free(lat);
    return 0;
}
