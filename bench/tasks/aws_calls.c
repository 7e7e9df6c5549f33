/*
 * aws_calls — the functions' AWS client, one transport against the other: N signed calls
 * in a row over the kept-alive connection, through the runtime's HTTP client (native) or
 * libcurl (curl), measuring wall time and this process's CPU time per call. The endpoint
 * and credentials come from the environment, as in a function.
 *
 *   aws_calls BACKEND N SERVICE OP BODY     (BACKEND native|curl, SERVICE sqs|dynamodb)
 *
 * Prints one JSON line: {"backend","calls","ok","wall_us","cpu_us","p50_us","p99_us"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "aws/aws.h"

static double mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e6 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: aws_calls native|curl N sqs|dynamodb OP BODY\n");
        return 2;
    }
    setenv("HAAR_AWS_HTTP", argv[1], 1);
    long n = strtol(argv[2], NULL, 10);
    enum aws_service svc = strcmp(argv[3], "sqs") == 0 ? AWS_SQS : AWS_DYNAMODB;
    char err[256];
    struct aws_client *c = aws_client_new(NULL, err, sizeof err);
    if (c == NULL || n < 1) {
        fprintf(stderr, "aws_calls: %s\n", c ? "N must be positive" : err);
        return 1;
    }
    double *lat = calloc((size_t)n, sizeof *lat);
    struct buf out;
    struct aws_error e;
    long ok = 0;
    buf_init(&out, 1 << 20);
    for (int i = 0; i < 200; i++) { /* warm up: connect, caches */
        buf_reset(&out);
        aws_client_call(c, svc, argv[4], argv[5], strlen(argv[5]), 0, &out, &e);
    }
    double w0 = mono_us(), c0 = cpu_us();
    for (long i = 0; i < n; i++) {
        double t = mono_us();
        buf_reset(&out);
        if (aws_client_call(c, svc, argv[4], argv[5], strlen(argv[5]), 0, &out, &e) == AWS_OK)
            ok++;
        lat[i] = mono_us() - t;
    }
    double wall = mono_us() - w0, cpu = cpu_us() - c0;
    qsort(lat, (size_t)n, sizeof *lat, cmp);
    printf("{\"backend\":\"%s\",\"calls\":%ld,\"ok\":%ld,\"wall_us\":%.1f,\"cpu_us\":%.1f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"connects\":%lu}\n",
           argv[1], n, ok, wall / n, cpu / n, lat[n / 2], lat[n * 99 / 100],
           aws_client_connects(c, svc));
    free(lat);
    buf_destroy(&out);
    aws_client_free(c);
    return 0;
}
