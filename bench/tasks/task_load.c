/*
 * task_load — load on the task API: POST /tasks over HTTP/1.1 keep-alive connections, one
 * thread driving them all (epoll), so the generator costs the machine little.
 *
 *   task_load HOST:PORT CONNECTIONS SECONDS RATE OUT_FILE [BODY]
 *
 * RATE 0: closed loop, each connection posts again as soon as it has its answer (the most
 * the service takes). RATE R > 0: open loop, R posts a second on a fixed schedule; a post's
 * latency counts from when it was due, so a slow answer cannot hide the posts it delays.
 * BODY defaults to {"kind":"echo","payload":{"n":1}}.
 *
 * Each accepted task (202) is written to OUT_FILE as "<id> <due epoch ms>" so a collector
 * can match it with its finished_at (bench/tasks/report.py). The report on stdout is one
 * JSON object: posted, accepted, errors, late (posts sent over 1 ms after they were due,
 * every connection being busy),
 * post_rps, post_p50_us, post_p99_us.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONNS = 1024, IN_MAX = 64 * 1024, MAX_SAMPLES = 4 * 1000 * 1000 };

struct conn {
    int fd;
    bool busy;
    int64_t due_ns; /* when the request in flight was due */
    char in[IN_MAX];
    size_t len;
};

static struct sockaddr_in g_addr;
static char g_req[8192];
static size_t g_req_len;
static uint32_t *g_lat;
static size_t g_nlat;
static unsigned long g_posted, g_accepted, g_errors, g_late;
static FILE *g_out;
static int64_t g_real_minus_mono_ns;

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int64_t real_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int open_conn(struct conn *c, int ep)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        connect(c->fd, (struct sockaddr *)&g_addr, sizeof g_addr) != 0)
        return -1;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    c->busy = false;
    c->len = 0;
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
}

static int send_req(struct conn *c, int64_t due)
{
    size_t off = 0;
    while (off < g_req_len) {
        ssize_t w = send(c->fd, g_req + off, g_req_len - off, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    c->busy = true;
    c->due_ns = due;
    c->len = 0;
    g_posted++;
    return 0;
}

/* A whole answer in c->in? Returns its length, 0 when more is needed, -1 when malformed. */
static long answer_len(struct conn *c)
{
    c->in[c->len] = '\0';
    char *end = strstr(c->in, "\r\n\r\n");
    if (end == NULL)
        return 0;
    char *cl = strcasestr(c->in, "\r\ncontent-length:");
    if (cl == NULL || cl > end)
        return -1;
    long body = strtol(cl + 17, NULL, 10);
    long total = (long)(end - c->in) + 4 + body;
    if (total >= IN_MAX)
        return -1;
    return (long)c->len >= total ? total : 0;
}

static void on_answer(struct conn *c, long total)
{
    int status = (int)strtol(c->in + 9, NULL, 10);
    int64_t now = mono_ns();
    if (g_nlat < MAX_SAMPLES)
        g_lat[g_nlat++] = (uint32_t)((now - c->due_ns) / 1000);
    char *id = strstr(c->in, "\"id\":\"");
    if (status == 202 && id != NULL && id + 6 + 36 <= c->in + total) {
        g_accepted++;
        fprintf(g_out, "%.36s %lld\n", id + 6,
                (long long)((c->due_ns + g_real_minus_mono_ns) / 1000000));
    } else {
        if (g_errors < 3)
            fprintf(stderr, "task_load: answer %d: %.200s\n", status, c->in);
        g_errors++;
    }
    memmove(c->in, c->in + total, c->len - (size_t)total);
    c->len -= (size_t)total;
    c->busy = false;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: task_load HOST:PORT CONNECTIONS SECONDS RATE OUT_FILE [BODY]\n");
        return 2;
    }
    char host[64];
    const char *colon = strrchr(argv[1], ':');
    if (colon == NULL || (size_t)(colon - argv[1]) >= sizeof host)
        return 2;
    memcpy(host, argv[1], (size_t)(colon - argv[1]));
    host[colon - argv[1]] = '\0';
    g_addr.sin_family = AF_INET;
    g_addr.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
    if (inet_pton(AF_INET, host, &g_addr.sin_addr) != 1)
        return 2;
    long nconn = strtol(argv[2], NULL, 10);
    double seconds = strtod(argv[3], NULL);
    double rate = strtod(argv[4], NULL);
    const char *body = argc > 6 ? argv[6] : "{\"kind\":\"echo\",\"payload\":{\"n\":1}}";
    if (nconn < 1 || nconn > MAX_CONNS || seconds <= 0 || rate < 0)
        return 2;
    g_out = fopen(argv[5], "w");
    g_lat = calloc(MAX_SAMPLES, sizeof *g_lat);
    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    if (g_out == NULL || g_lat == NULL || conns == NULL)
        return 1;
    int n = snprintf(g_req, sizeof g_req,
                     "POST /tasks HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     argv[1], strlen(body), body);
    if (n < 0 || (size_t)n >= sizeof g_req)
        return 2;
    g_req_len = (size_t)n;
    g_real_minus_mono_ns = real_ns() - mono_ns();
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (long i = 0; i < nconn; i++)
        if (open_conn(&conns[i], ep) != 0) {
            perror("task_load: connect");
            return 1;
        }
    int64_t start = mono_ns(), stop = start + (int64_t)(seconds * 1e9);
    uint64_t scheduled = 0; /* open loop: posts sent or counted late so far */
    size_t next_conn = 0;
    struct epoll_event evs[256];
    for (;;) {
        int64_t now = mono_ns();
        bool sending = now < stop;
        if (sending && rate == 0) {
            for (long i = 0; i < nconn; i++)
                if (!conns[i].busy && send_req(&conns[i], now) != 0)
                    return 1;
        } else if (sending) {
            uint64_t due = (uint64_t)((double)(now - start) * rate / 1e9);
            while (scheduled < due) {
                int64_t at = start + (int64_t)((double)scheduled * 1e9 / rate);
                struct conn *free_c = NULL;
                for (long k = 0; k < nconn && free_c == NULL; k++) {
                    struct conn *c = &conns[(next_conn + (size_t)k) % (size_t)nconn];
                    if (!c->busy)
                        free_c = c;
                }
                if (free_c == NULL)
                    break; /* every connection busy: it goes out as soon as one frees up */
                next_conn = (size_t)(free_c - conns + 1) % (size_t)nconn;
                if (now - at > 1000000)
                    g_late++;
                if (send_req(free_c, at) != 0)
                    return 1;
                scheduled++;
            }
        }
        bool any_busy = false;
        for (long i = 0; i < nconn && !any_busy; i++)
            any_busy = conns[i].busy;
        if (!sending && !any_busy)
            break;
        if (!sending && now > stop + 10 * 1000000000LL)
            break; /* answers that never come */
        int timeout = rate > 0 ? 1 : 100;
        int ne = epoll_wait(ep, evs, 256, timeout);
        for (int i = 0; i < ne; i++) {
            struct conn *c = evs[i].data.ptr;
            ssize_t r = recv(c->fd, c->in + c->len, IN_MAX - 1 - c->len, 0);
            if (r <= 0) {
                fprintf(stderr, "task_load: connection closed\n");
                return 1;
            }
            c->len += (size_t)r;
            long total;
            while (c->busy && (total = answer_len(c)) != 0) {
                if (total < 0) {
                    fprintf(stderr, "task_load: malformed answer\n");
                    return 1;
                }
                on_answer(c, total);
            }
        }
    }
    double elapsed = (double)(mono_ns() - start) / 1e9;
    fclose(g_out);
    qsort(g_lat, g_nlat, sizeof *g_lat, cmp_u32);
    printf("{\"posted\":%lu,\"accepted\":%lu,\"errors\":%lu,\"late\":%lu,\"post_rps\":%.1f,"
           "\"post_p50_us\":%u,\"post_p99_us\":%u}\n",
           g_posted, g_accepted, g_errors, g_late, (double)g_posted / elapsed,
           g_nlat ? g_lat[g_nlat / 2] : 0, g_nlat ? g_lat[g_nlat * 99 / 100] : 0);
    return g_errors > 0;
}
