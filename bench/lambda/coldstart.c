/*
 * coldstart.c — cold start of Lambda bootstraps against a tiny fake Runtime API.
 *
 *   coldstart ROUNDS EVENT_FILE NAME=COMMAND [NAME=COMMAND ...]
 *
 * For each round and each variant (interleaved, so both see the same machine state):
 * posix_spawn the command (split on spaces) with AWS_LAMBDA_RUNTIME_API pointing here,
 * and time
 *   next:     spawn → the first GET /2018-06-01/runtime/invocation/next fully received
 *   response: spawn → the POST .../response for the first event (init + first invoke)
 * then answer 202, SIGKILL the process and collect its peak RSS. Prints one JSON object.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { MAX_VARIANTS = 8, MAX_ARGS = 16, MAX_ROUNDS = 1000 };

struct variant {
    char name[64];
    char *argv[MAX_ARGS + 1];
    char *env[MAX_ARGS + 1]; /* extra NAME=value settings for this variant */
    double next_ms[MAX_ROUNDS];
    double resp_ms[MAX_ROUNDS];
    long rss_kb[MAX_ROUNDS];
    int ok;
    int failed;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads one HTTP request (head + Content-Length body) with a 10 s bound. */
static int read_request(int fd, char *buf, size_t cap, size_t *len)
{
    size_t got = 0;
    size_t need = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            return -1;
        if (got + 1 >= cap)
            return -1;
        ssize_t n = recv(fd, buf + got, cap - 1 - got, 0);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end == NULL)
            continue;
        if (need == 0) {
            size_t length = 0;
            for (char *q = buf; (q = strchr(q, '\n')) != NULL && q < end; q++)
                if (strncasecmp(q + 1, "content-length:", 15) == 0)
                    length = strtoul(q + 16, NULL, 10);
            need = (size_t)(end - buf) + 4 + length;
        }
        if (got >= need) {
            *len = got;
            return 0;
        }
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)((n - 1) * p + 0.5)];
}

static char *g_event;
static size_t g_event_len;

/* One cold start of v; returns 0 and fills round r, or -1. */
static int one_round(int lfd, const char *api, struct variant *v, int r)
{
    char envbuf[5][300];
    snprintf(envbuf[0], sizeof envbuf[0], "AWS_LAMBDA_RUNTIME_API=%s", api);
    snprintf(envbuf[1], sizeof envbuf[1], "AWS_LAMBDA_FUNCTION_NAME=bench-%.63s", v->name);
    snprintf(envbuf[2], sizeof envbuf[2], "PATH=/usr/local/bin:/usr/bin:/bin");
    snprintf(envbuf[3], sizeof envbuf[3], "AWS_REGION=eu-west-1");
    snprintf(envbuf[4], sizeof envbuf[4], "AWS_LAMBDA_LOG_LEVEL=WARN");
    char *envp[5 + MAX_ARGS + 1] = {envbuf[0], envbuf[1], envbuf[2], envbuf[3], envbuf[4]};
    int ne = 5;
    for (int i = 0; v->env[i] != NULL; i++)
        envp[ne++] = v->env[i];
    envp[ne] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    pid_t pid;
    double t0 = now_ms();
    if (posix_spawn(&pid, v->argv[0], &fa, NULL, v->argv, envp) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    int rc = -1, fd = -1;
    char req[65536];
    size_t len;
    struct pollfd p = {lfd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0)
        goto done;
    fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        goto done;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (read_request(fd, req, sizeof req, &len) != 0 ||
        strncmp(req, "GET /2018-06-01/runtime/invocation/next ", 40) != 0)
        goto done;
    double t1 = now_ms();
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Lambda-Runtime-Aws-Request-Id: cold-%d\r\n"
                      "Lambda-Runtime-Deadline-Ms: 99999999999999\r\n"
                      "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:eu-west-1:"
                      "000000000000:function:bench\r\n"
                      "Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      r, g_event_len);
    if (send_all(fd, head, (size_t)hl) != 0 || send_all(fd, g_event, g_event_len) != 0)
        goto done;
    if (read_request(fd, req, sizeof req, &len) != 0 || strstr(req, "/response ") == NULL)
        goto done;
    double t2 = now_ms();
    static const char accepted[] = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
    send_all(fd, accepted, sizeof accepted - 1);
    v->next_ms[r] = t1 - t0;
    v->resp_ms[r] = t2 - t0;
    rc = 0;
done:
    kill(pid, SIGKILL);
    struct rusage ru;
    int status;
    while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
        ;
    v->rss_kb[r] = ru.ru_maxrss;
    if (fd >= 0)
        close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: coldstart ROUNDS EVENT_FILE NAME=COMMAND...\n");
        return 2;
    }
    int rounds = (int)strtol(argv[1], NULL, 10);
    if (rounds < 1 || rounds > MAX_ROUNDS)
        return 2;
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL)
        return 2;
    static char event[65536];
    g_event_len = fread(event, 1, sizeof event, f);
    fclose(f);
    g_event = event;

    static struct variant vs[MAX_VARIANTS];
    int nv = 0;
    for (int i = 3; i < argc && nv < MAX_VARIANTS; i++, nv++) {
        char *eq = strchr(argv[i], '=');
        if (eq == NULL)
            return 2;
        *eq = '\0';
        snprintf(vs[nv].name, sizeof vs[nv].name, "%s", argv[i]);
        int k = 0, e = 0;
        for (char *tok = strtok(eq + 1, " "); tok && k < MAX_ARGS; tok = strtok(NULL, " ")) {
            if (k == 0 && strchr(tok, '=') != NULL && e < MAX_ARGS)
                vs[nv].env[e++] = tok; /* leading NAME=value words set the environment */
            else
                vs[nv].argv[k++] = tok;
        }
        vs[nv].argv[k] = NULL;
        vs[nv].env[e] = NULL;
        if (k == 0)
            return 2;
    }

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
        return 1;
    char api[64];
    snprintf(api, sizeof api, "127.0.0.1:%d", ntohs(a.sin_port));

    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < nv; i++) {
            if (one_round(lfd, api, &vs[i], vs[i].ok) == 0)
                vs[i].ok++;
            else
                vs[i].failed++;
        }

    printf("{\"rounds\":%d,\"variants\":[", rounds);
    for (int i = 0; i < nv; i++) {
        struct variant *v = &vs[i];
        double rss[MAX_ROUNDS];
        for (int r = 0; r < v->ok; r++)
            rss[r] = (double)v->rss_kb[r];
        printf("%s{\"name\":\"%s\",\"ok\":%d,\"failed\":%d,\"next_p50_ms\":%.3f,"
               "\"next_p99_ms\":%.3f,\"first_response_p50_ms\":%.3f,"
               "\"first_response_p99_ms\":%.3f,\"max_rss_kb_p50\":%.0f}",
               i ? "," : "", v->name, v->ok, v->failed, pct(v->next_ms, v->ok, 0.5),
               pct(v->next_ms, v->ok, 0.99), pct(v->resp_ms, v->ok, 0.5),
               pct(v->resp_ms, v->ok, 0.99), pct(rss, v->ok, 0.5));
    }
    printf("]}\n");
    return 0;
}
