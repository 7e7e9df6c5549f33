/*
 * runtime_http.c — see runtime_http.h. The parser treats every byte as untrusted: each
 * length is checked against its cap before anything is copied, and no step relies on a
 * NUL terminator in wire data.
 */
#include "runtime/runtime_http.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/codec.h"
#include "core/str.h"

enum { CHUNK_LINE_MAX = 1024 };

static const struct {
    int rc;
    const char *text;
} http_errors[] = {
    {RUNTIME_HTTP_OK, "ok"},
    {RUNTIME_HTTP_EIO, "connection error"},
    {RUNTIME_HTTP_ECLOSED, "connection closed by peer"},
    {RUNTIME_HTTP_EPROTO, "malformed HTTP response"},
    {RUNTIME_HTTP_ETOOBIG, "HTTP response too large"},
    {RUNTIME_HTTP_ENOMEM, "out of memory"},
    {RUNTIME_HTTP_ECONNECT, "cannot connect"},
    {RUNTIME_HTTP_ETIMEOUT, "timed out"},
};

const char *runtime_http_strerror(int rc)
{
    for (size_t i = 0; i < sizeof http_errors / sizeof http_errors[0]; i++)
        if (http_errors[i].rc == rc)
            return http_errors[i].text;
    return "unknown error";
}

static int from_buf_rc(int rc)
{
    return rc == BUF_ETOOBIG ? RUNTIME_HTTP_ETOOBIG : RUNTIME_HTTP_ENOMEM;
}

/* ---- response ---------------------------------------------------------------------- */

void runtime_http_response_init(struct runtime_http_response *res, size_t max_body)
{
    res->status = 0;
    res->minor_version = 1;
    res->close = false;
    buf_init(&res->head, RUNTIME_HTTP_MAX_HEAD);
    res->nheaders = 0;
    buf_init(&res->body, max_body);
}

void runtime_http_response_destroy(struct runtime_http_response *res)
{
    if (res == NULL)
        return;
    buf_destroy(&res->head);
    buf_destroy(&res->body);
    res->nheaders = 0;
}

const char *runtime_http_header(const struct runtime_http_response *res, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < res->nheaders; i++)
        if (res->headers[i].name_len == n && strcasecmp(res->headers[i].name, name) == 0)
            return res->headers[i].value;
    return NULL;
}

/* ---- reader ------------------------------------------------------------------------ */

int runtime_http_reader_init(struct runtime_http_reader *rd, runtime_http_read_fn read, void *ctx)
{
    rd->read = read;
    rd->ctx = ctx;
    rd->pos = rd->len = 0;
    rd->total = 0;
    rd->in = malloc(RUNTIME_HTTP_READ_SIZE);
    return rd->in ? RUNTIME_HTTP_OK : RUNTIME_HTTP_ENOMEM;
}

void runtime_http_reader_destroy(struct runtime_http_reader *rd)
{
    if (rd == NULL)
        return;
    free(rd->in);
    rd->in = NULL;
    rd->pos = rd->len = 0;
}

void runtime_http_reader_reset(struct runtime_http_reader *rd)
{
    rd->pos = rd->len = 0;
}

/* Reads more bytes into the buffer, compacting it first. Returns 1 when bytes arrived,
 * 0 at end of stream, RUNTIME_HTTP_EIO on error, RUNTIME_HTTP_ETOOBIG when the buffer is
 * full of unconsumed bytes. */
static int reader_fill(struct runtime_http_reader *rd)
{
    if (rd->pos == rd->len) {
        rd->pos = rd->len = 0;
    } else if (rd->len == RUNTIME_HTTP_READ_SIZE) {
        if (rd->pos == 0)
            return RUNTIME_HTTP_ETOOBIG;
        memmove(rd->in, rd->in + rd->pos, rd->len - rd->pos);
        rd->len -= rd->pos;
        rd->pos = 0;
    }
    ssize_t n = rd->read(rd->ctx, rd->in + rd->len, RUNTIME_HTTP_READ_SIZE - rd->len);
    if (n < 0)
        return RUNTIME_HTTP_EIO;
    if (n == 0)
        return 0;
    if ((size_t)n > RUNTIME_HTTP_READ_SIZE - rd->len)
        return RUNTIME_HTTP_EIO; /* a broken source; never trust it past the buffer */
    rd->len += (size_t)n;
    rd->total += (uint64_t)n;
    return 1;
}

/* Finds one line (ending in LF) among the buffered bytes, reading more as needed. On
 * success *line points at it (without the LF or a CR before it) and the line is consumed.
 * Lines longer than max are a protocol error. */
static int reader_line(struct runtime_http_reader *rd, size_t max, const char **line,
                       size_t *linelen)
{
    size_t scanned = 0;
    for (;;) {
        size_t avail = rd->len - rd->pos;
        const char *start = rd->in + rd->pos;
        const char *lf = avail > scanned ? memchr(start + scanned, '\n', avail - scanned) : NULL;
        if (lf != NULL) {
            size_t n = (size_t)(lf - start);
            rd->pos += n + 1;
            if (n > 0 && start[n - 1] == '\r')
                n--;
            if (n > max)
                return RUNTIME_HTTP_EPROTO;
            *line = start;
            *linelen = n;
            return RUNTIME_HTTP_OK;
        }
        if (avail > max + 1) /* + 1: a CR waiting for its LF */
            return RUNTIME_HTTP_EPROTO;
        scanned = avail; /* relative to pos, so compaction keeps it valid */
        int rc = reader_fill(rd);
        if (rc < 0)
            return rc == RUNTIME_HTTP_ETOOBIG ? RUNTIME_HTTP_EPROTO : rc;
        if (rc == 0)
            return RUNTIME_HTTP_EIO;
    }
}

/* Moves exactly n body bytes into body: first what is buffered, then straight from the
 * source into the body's memory (no second copy for large events). */
static int reader_body(struct runtime_http_reader *rd, struct buf *body, size_t n)
{
    int rc = buf_reserve(body, n);
    if (rc != BUF_OK)
        return from_buf_rc(rc);
    size_t have = rd->len - rd->pos;
    size_t take = have < n ? have : n;
    memcpy(body->data + body->len, rd->in + rd->pos, take);
    rd->pos += take;
    body->len += take;
    n -= take;
    while (n > 0) {
        ssize_t got = rd->read(rd->ctx, body->data + body->len, n);
        if (got <= 0 || (size_t)got > n) {
            body->data[body->len] = '\0';
            return RUNTIME_HTTP_EIO;
        }
        body->len += (size_t)got;
        n -= (size_t)got;
    }
    body->data[body->len] = '\0';
    return RUNTIME_HTTP_OK;
}

/* Reads until the end of the head (an empty line) and copies it into res->head.
 * *started tells whether any byte of the answer arrived (for ECLOSED vs EIO). */
static int reader_head(struct runtime_http_reader *rd, struct runtime_http_response *res,
                       bool *started)
{
    size_t scanned = 0; /* offset (from pos) up to which no terminator can start */
    for (;;) {
        const char *p = rd->in + rd->pos;
        size_t avail = rd->len - rd->pos;
        size_t end = 0;
        for (size_t i = scanned; i < avail; i++) {
            const char *lf = memchr(p + i, '\n', avail - i);
            if (lf == NULL)
                break;
            i = (size_t)(lf - p);
            if (i + 1 >= avail) {
                scanned = i;
                goto more;
            }
            if (p[i + 1] == '\n') {
                end = i + 2;
                break;
            }
            if (p[i + 1] == '\r') {
                if (i + 2 >= avail) {
                    scanned = i;
                    goto more;
                }
                if (p[i + 2] == '\n') {
                    end = i + 3;
                    break;
                }
            }
        }
        if (end > 0) {
            if (end > RUNTIME_HTTP_MAX_HEAD)
                return RUNTIME_HTTP_ETOOBIG;
            int rc = buf_append(&res->head, p, end);
            if (rc != BUF_OK)
                return from_buf_rc(rc);
            rd->pos += end;
            return RUNTIME_HTTP_OK;
        }
        scanned = avail;
    more:
        if (avail > RUNTIME_HTTP_MAX_HEAD)
            return RUNTIME_HTTP_ETOOBIG;
        int rc = reader_fill(rd);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return *started ? RUNTIME_HTTP_EIO : RUNTIME_HTTP_ECLOSED;
        *started = true;
    }
}

static bool is_tchar(unsigned char c)
{
    /* RFC 9110 token characters: alphanumerics and these */
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Splits res->head (mutable copy) into the status line and headers, in place. */
static int parse_head(struct runtime_http_response *res)
{
    char *p = res->head.data;
    char *end = p + res->head.len;
    bool first = true;
    res->nheaders = 0;
    while (p < end) {
        char *lf = memchr(p, '\n', (size_t)(end - p));
        if (lf == NULL)
            return RUNTIME_HTTP_EPROTO; /* cannot happen: the head ends with LF */
        char *eol = lf;
        if (eol > p && eol[-1] == '\r')
            eol--;
        size_t n = (size_t)(eol - p);
        if (str_find_ctl(p, n) < n)
            return RUNTIME_HTTP_EPROTO; /* NUL, bare CR and other controls */
        if (first) {
            /* HTTP/1.x SP 3DIGIT [SP reason] */
            if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
                return RUNTIME_HTTP_EPROTO;
            int status = 0;
            for (int i = 9; i < 12; i++) {
                if (p[i] < '0' || p[i] > '9')
                    return RUNTIME_HTTP_EPROTO;
                status = status * 10 + (p[i] - '0');
            }
            if (status < 100 || (n > 12 && p[12] != ' '))
                return RUNTIME_HTTP_EPROTO;
            res->minor_version = p[7] - '0';
            res->status = status;
            first = false;
        } else if (n == 0) {
            return RUNTIME_HTTP_OK; /* the empty line ending the head */
        } else {
            if (is_blank(p[0]))
                return RUNTIME_HTTP_EPROTO; /* obsolete line folding */
            char *colon = memchr(p, ':', n);
            if (colon == NULL || colon == p)
                return RUNTIME_HTTP_EPROTO;
            for (char *q = p; q < colon; q++)
                if (!is_tchar((unsigned char)*q))
                    return RUNTIME_HTTP_EPROTO;
            char *v = colon + 1;
            char *ve = eol;
            while (v < ve && is_blank(*v))
                v++;
            while (ve > v && is_blank(ve[-1]))
                ve--;
            if (res->nheaders == RUNTIME_HTTP_MAX_HEADERS)
                return RUNTIME_HTTP_ETOOBIG;
            *colon = '\0';
            *ve = '\0';
            res->headers[res->nheaders].name = p;
            res->headers[res->nheaders].name_len = (size_t)(colon - p);
            res->headers[res->nheaders].value = v;
            res->nheaders++;
        }
        p = lf + 1;
    }
    return RUNTIME_HTTP_EPROTO;
}

/* Parses a Content-Length value: digits only, no overflow. */
static int parse_length(const char *v, size_t *out)
{
    size_t n = 0;
    if (*v == '\0')
        return RUNTIME_HTTP_EPROTO;
    for (; *v; v++) {
        if (*v < '0' || *v > '9')
            return RUNTIME_HTTP_EPROTO;
        unsigned d = (unsigned)(*v - '0');
        if (n > (SIZE_MAX - d) / 10)
            return RUNTIME_HTTP_ETOOBIG;
        n = n * 10 + d;
    }
    *out = n;
    return RUNTIME_HTTP_OK;
}

/* Does the comma-separated header value list contain `token` (case-insensitive)? */
static bool has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (*v) {
        while (*v == ',' || is_blank(*v))
            v++;
        const char *s = v;
        while (*v && *v != ',')
            v++;
        const char *e = v;
        while (e > s && is_blank(e[-1]))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
            return true;
    }
    return false;
}

static int read_chunked(struct runtime_http_reader *rd, struct runtime_http_response *res)
{
    for (;;) {
        const char *line;
        size_t n;
        int rc = reader_line(rd, CHUNK_LINE_MAX, &line, &n);
        if (rc != RUNTIME_HTTP_OK)
            return rc;
        size_t i = 0, size = 0;
        for (; i < n && codec_hexval(line[i]) >= 0; i++) {
            if (size > (SIZE_MAX >> 4))
                return RUNTIME_HTTP_ETOOBIG;
            size = (size << 4) | (size_t)codec_hexval(line[i]);
        }
        if (i == 0)
            return RUNTIME_HTTP_EPROTO;
        while (i < n && is_blank(line[i]))
            i++;
        if (i < n && line[i] != ';')
            return RUNTIME_HTTP_EPROTO; /* only chunk extensions may follow the size */
        if (size == 0)
            break;
        if (size > res->body.max - res->body.len)
            return RUNTIME_HTTP_ETOOBIG;
        rc = reader_body(rd, &res->body, size);
        if (rc != RUNTIME_HTTP_OK)
            return rc;
        rc = reader_line(rd, 0, &line, &n); /* the CRLF closing the chunk data */
        if (rc != RUNTIME_HTTP_OK)
            return rc;
        if (n != 0)
            return RUNTIME_HTTP_EPROTO;
    }
    /* trailer fields, ignored, up to the empty line; bounded like the head */
    size_t total = 0;
    for (;;) {
        const char *line;
        size_t n;
        int rc = reader_line(rd, RUNTIME_HTTP_MAX_HEAD, &line, &n);
        if (rc != RUNTIME_HTTP_OK)
            return rc;
        if (n == 0)
            return RUNTIME_HTTP_OK;
        total += n + 2;
        if (total > RUNTIME_HTTP_MAX_HEAD)
            return RUNTIME_HTTP_ETOOBIG;
    }
}

static int read_until_close(struct runtime_http_reader *rd, struct runtime_http_response *res)
{
    for (;;) {
        size_t have = rd->len - rd->pos;
        if (have > 0) {
            int rc = buf_append(&res->body, rd->in + rd->pos, have);
            if (rc != BUF_OK)
                return from_buf_rc(rc);
            rd->pos = rd->len;
        }
        int rc = reader_fill(rd);
        if (rc < 0)
            return rc;
        if (rc == 0)
            return RUNTIME_HTTP_OK;
    }
}

int runtime_http_read_response(struct runtime_http_reader *rd, struct runtime_http_response *res,
                               bool head_only_body)
{
    bool started = rd->pos < rd->len;
    int rc;
    for (;;) {
        buf_reset(&res->head);
        buf_reset(&res->body);
        res->nheaders = 0;
        res->status = 0;
        res->close = false;
        rc = buf_append(&res->body, "", 0); /* body.data is never NULL after a read */
        if (rc != BUF_OK)
            return from_buf_rc(rc);
        rc = reader_head(rd, res, &started);
        if (rc != RUNTIME_HTTP_OK)
            return rc;
        rc = parse_head(res);
        if (rc != RUNTIME_HTTP_OK)
            return rc;
        if (res->status == 101)
            return RUNTIME_HTTP_EPROTO; /* we never ask to switch protocols */
        if (res->status >= 200)
            break;
        /* 1xx interim answer: its head is all there is; the real one follows */
    }

    bool chunked = false, have_length = false;
    size_t length = 0;
    res->close = res->minor_version == 0;
    for (size_t i = 0; i < res->nheaders; i++) {
        const char *name = res->headers[i].name, *value = res->headers[i].value;
        size_t nl = res->headers[i].name_len; /* the length first: most are none of these */
        if (nl == 14 && strcasecmp(name, "Content-Length") == 0) {
            size_t n;
            rc = parse_length(value, &n);
            if (rc != RUNTIME_HTTP_OK)
                return rc;
            if (have_length && n != length)
                return RUNTIME_HTTP_EPROTO; /* conflicting lengths: request smuggling bait */
            have_length = true;
            length = n;
        } else if (nl == 17 && strcasecmp(name, "Transfer-Encoding") == 0) {
            /* we can only undo chunked, and it must be the only (and so last) coding */
            if (chunked || strcasecmp(value, "chunked") != 0)
                return RUNTIME_HTTP_EPROTO;
            chunked = true;
        } else if (nl == 10 && strcasecmp(name, "Connection") == 0) {
            if (has_token(value, "close"))
                res->close = true;
            else if (has_token(value, "keep-alive"))
                res->close = false;
        }
    }

    if (head_only_body || res->status == 204 || res->status == 304)
        return RUNTIME_HTTP_OK;
    if (chunked) {
        /* RFC 9112 §6.3: chunked wins over any Content-Length; the connection is suspect */
        if (have_length)
            res->close = true;
        return read_chunked(rd, res);
    }
    if (have_length) {
        if (length > res->body.max)
            return RUNTIME_HTTP_ETOOBIG;
        return reader_body(rd, &res->body, length);
    }
    res->close = true;
    return read_until_close(rd, res);
}

/* ---- connection -------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` or the deadline (0: none) passes. Returns 0 when
 * ready, -1 with c->timed_out set when the deadline passed, -1 on a poll error. */
static int wait_ready(struct runtime_http_conn *c, int fd, short events, int64_t deadline)
{
    for (;;) {
        int timeout = -1;
        if (deadline > 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0) {
                c->timed_out = true;
                return -1;
            }
            timeout = left > INT32_MAX ? INT32_MAX : (int)left;
        }
        struct pollfd pfd = {.fd = fd, .events = events};
        int rc = poll(&pfd, 1, timeout);
        if (rc > 0)
            return 0;
        if (rc == 0 && deadline > 0)
            continue; /* the next turn sees the deadline passed */
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* Sets the socket's receive low-water mark, unless it is already that: a function that
 * goes from event to event keeps the same mark and makes no system call for it. */
static void set_lowat(struct runtime_http_conn *c, int bytes)
{
    if (c->lowat_now == bytes)
        return;
    (void)setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
    c->lowat_now = bytes;
    c->lowat_sets++;
}

static ssize_t socket_read(void *ctx, char *p, size_t n)
{
    struct runtime_http_conn *c = ctx;
    if (c->lowat_once > 1) {
        /* one read that waits for lowat_once bytes (see then_answer_len); blocking only: a
         * deadline's poll() would not wake before the mark either */
        int lowat = c->lowat_once;
        c->lowat_once = 0;
        if (c->deadline_ms <= 0) {
            set_lowat(c, lowat);
            ssize_t got;
            do
                got = recv(c->fd, p, n, 0);
            while (got < 0 && errno == EINTR);
            if (got >= 0)
                return got;
            return errno == ECONNRESET ? 0 : -1;
        }
    }
    set_lowat(c, 1); /* any other read takes what there is */
    for (;;) {
        if (c->deadline_ms > 0 && wait_ready(c, c->fd, POLLIN, c->deadline_ms) != 0)
            return -1;
        ssize_t got = recv(c->fd, p, n, 0);
        if (got >= 0)
            return got;
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            return 0; /* like a close: retryable when nothing of the answer arrived */
        return -1;
    }
}

int runtime_http_conn_init(struct runtime_http_conn *c, const char *hostport)
{
    char host[256], port[16];
    const char *colon;
    const char *hs = hostport;
    size_t hl;

    c->fd = -1;
    c->connects = c->requests = 0;
    c->addrlen = 0;
    c->connect_deadline_ms = c->deadline_ms = 0;
    c->timed_out = false;
    c->pending = false;
    c->req_split = 0;
    c->then_answer_len = 0;
    c->lowat_once = 0;
    c->lowat_now = 1;
    c->lowat_sets = 0;
    buf_init(&c->req, RUNTIME_HTTP_MAX_HEAD);
    c->rd.in = NULL;
    if (hostport == NULL || strlen(hostport) >= sizeof c->hostport)
        return RUNTIME_HTTP_ECONNECT;
    memcpy(c->hostport, hostport, strlen(hostport) + 1);

    if (hostport[0] == '[') {
        const char *rb = strchr(hostport, ']');
        if (rb == NULL || rb[1] != ':')
            return RUNTIME_HTTP_ECONNECT;
        hs = hostport + 1;
        hl = (size_t)(rb - hs);
        colon = rb + 1;
    } else {
        colon = strrchr(hostport, ':');
        if (colon == NULL)
            return RUNTIME_HTTP_ECONNECT;
        hl = (size_t)(colon - hostport);
    }
    size_t pl = strlen(colon + 1);
    if (hl == 0 || hl >= sizeof host || pl == 0 || pl >= sizeof port)
        return RUNTIME_HTTP_ECONNECT;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    memcpy(port, colon + 1, pl + 1);
    for (size_t i = 0; i < pl; i++)
        if (port[i] < '0' || port[i] > '9')
            return RUNTIME_HTTP_ECONNECT;

    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
        return RUNTIME_HTTP_ECONNECT;
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return runtime_http_reader_init(&c->rd, socket_read, c);
}

void runtime_http_conn_close(struct runtime_http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->pending = false;
    c->then_answer_len = 0;
    c->lowat_once = 0;
    if (c->rd.in != NULL)
        runtime_http_reader_reset(&c->rd);
}

void runtime_http_conn_destroy(struct runtime_http_conn *c)
{
    if (c == NULL)
        return;
    runtime_http_conn_close(c);
    runtime_http_reader_destroy(&c->rd);
    buf_destroy(&c->req);
}

/* The earlier of two deadlines (0: none). */
static int64_t earlier(int64_t a, int64_t b)
{
    if (a <= 0)
        return b;
    if (b <= 0)
        return a;
    return a < b ? a : b;
}

/* A non-blocking connect bounded by the deadline, then back to a blocking socket. */
static int connect_by(struct runtime_http_conn *c, int fd, int64_t deadline)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return RUNTIME_HTTP_ECONNECT;
    if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) < 0) {
        int err = 0;
        socklen_t len = sizeof err;
        if (errno != EINPROGRESS && errno != EINTR)
            return RUNTIME_HTTP_ECONNECT;
        if (wait_ready(c, fd, POLLOUT, deadline) != 0)
            return c->timed_out ? RUNTIME_HTTP_ETIMEOUT : RUNTIME_HTTP_ECONNECT;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0)
            return RUNTIME_HTTP_ECONNECT;
    }
    return fcntl(fd, F_SETFL, flags) < 0 ? RUNTIME_HTTP_ECONNECT : RUNTIME_HTTP_OK;
}

static int conn_open(struct runtime_http_conn *c)
{
    int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return RUNTIME_HTTP_ECONNECT;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc;
    int64_t deadline = earlier(c->connect_deadline_ms, c->deadline_ms);
    if (deadline > 0) {
        rc = connect_by(c, fd, deadline);
        if (rc != RUNTIME_HTTP_OK) {
            close(fd);
            return rc;
        }
    } else {
        do
            rc = connect(fd, (struct sockaddr *)&c->addr, c->addrlen);
        while (rc < 0 && errno == EINTR);
        if (rc < 0) {
            close(fd);
            return RUNTIME_HTTP_ECONNECT;
        }
    }
    c->fd = fd;
    c->lowat_now = 1;
    c->connects++;
    runtime_http_reader_reset(&c->rd);
    return RUNTIME_HTTP_OK;
}

/* Writes the whole request (and the one pipelined behind it) with as few sendmsg() calls as
 * the kernel allows (one). */
static int conn_send(struct runtime_http_conn *c, const void *body, size_t body_len)
{
    struct iovec iov[3] = {{c->req.data, c->req_split},
                           {(void *)body, body_len},
                           {c->req.data + c->req_split, c->req.len - c->req_split}};
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = 3;
    int flags = MSG_NOSIGNAL | (c->deadline_ms > 0 ? MSG_DONTWAIT : 0);
    for (;;) {
        /* empty iovecs are skipped, so a partial write never leaves one at the front */
        while (msg.msg_iovlen > 0 && msg.msg_iov[0].iov_len == 0) {
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen == 0)
            return RUNTIME_HTTP_OK;
        ssize_t n = sendmsg(c->fd, &msg, flags);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && c->deadline_ms > 0 &&
                wait_ready(c, c->fd, POLLOUT, c->deadline_ms) == 0)
                continue;
            return c->timed_out ? RUNTIME_HTTP_ETIMEOUT : RUNTIME_HTTP_EIO;
        }
        size_t left = (size_t)n;
        while (msg.msg_iovlen > 0 && left >= msg.msg_iov[0].iov_len) {
            left -= msg.msg_iov[0].iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + left;
            msg.msg_iov[0].iov_len -= left;
        }
    }
}

/* Appends one request head to c->req. */
static int append_head(struct runtime_http_conn *c, const char *method, const char *path,
                       const char *extra, const char *content_type, bool has_body, size_t body_len)
{
    struct buf *b = &c->req;
    int rc = buf_puts(b, method);
    rc = rc ? rc : buf_puts(b, " ");
    rc = rc ? rc : buf_puts(b, path);
    rc = rc ? rc : buf_puts(b, " HTTP/1.1\r\nHost: ");
    rc = rc ? rc : buf_puts(b, c->hostport);
    rc = rc ? rc : buf_puts(b, "\r\nUser-Agent: haar-runtime/1.0\r\n");
    if (content_type != NULL) {
        rc = rc ? rc : buf_puts(b, "Content-Type: ");
        rc = rc ? rc : buf_puts(b, content_type);
        rc = rc ? rc : buf_puts(b, "\r\n");
    }
    if (has_body)
        rc = rc ? rc : buf_printf(b, "Content-Length: %zu\r\n", body_len);
    if (extra != NULL)
        rc = rc ? rc : buf_puts(b, extra);
    rc = rc ? rc : buf_puts(b, "\r\n");
    return rc == BUF_OK ? RUNTIME_HTTP_OK : from_buf_rc(rc);
}

int runtime_http_request_then(struct runtime_http_conn *c, const char *method, const char *path,
                              const char *extra, const char *content_type, const void *body,
                              size_t body_len, struct runtime_http_response *res,
                              const char *then_method, const char *then_path)
{
    bool has_body = body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    bool head = strcmp(method, "HEAD") == 0;
    if (c->pending) /* an answer nobody read would be taken for this one's */
        runtime_http_conn_close(c);
    buf_reset(&c->req);
    int rc = append_head(c, method, path, extra, content_type, has_body, body_len);
    c->req_split = c->req.len;
    if (rc == RUNTIME_HTTP_OK && then_method != NULL)
        rc = append_head(c, then_method, then_path, NULL, NULL, false, 0);
    if (rc != RUNTIME_HTTP_OK)
        return rc;
    c->timed_out = false;

    for (int attempt = 0; attempt < 2; attempt++) {
        bool fresh = false;
        if (c->fd < 0) {
            rc = conn_open(c);
            if (rc != RUNTIME_HTTP_OK)
                return rc;
            fresh = true;
        }
        c->requests += then_method != NULL ? 2 : 1;
        bool dead = false;
        rc = conn_send(c, body, body_len);
        if (rc == RUNTIME_HTTP_OK) {
            uint64_t from = c->rd.total - (c->rd.len - c->rd.pos);
            if (then_method != NULL && c->then_answer_len > 0 && c->then_answer_len < INT32_MAX)
                c->lowat_once = (int)c->then_answer_len + 1;
            rc = runtime_http_read_response(&c->rd, res, head);
            c->lowat_once = 0;
            if (then_method != NULL && rc == RUNTIME_HTTP_OK)
                c->then_answer_len = res->status >= 200 && res->status < 300
                                         ? (size_t)(c->rd.total - (c->rd.len - c->rd.pos) - from)
                                         : 0; /* after a refusal, the next answer is read at once */
            dead = rc == RUNTIME_HTTP_ECLOSED;
        } else {
            dead = true;
        }
        if (rc == RUNTIME_HTTP_OK) {
            if (res->close)
                runtime_http_conn_close(c);
            else
                c->pending = then_method != NULL;
            return RUNTIME_HTTP_OK;
        }
        runtime_http_conn_close(c);
        if (c->timed_out)
            return RUNTIME_HTTP_ETIMEOUT;
        /* a kept-alive connection the server had already closed: try once on a new one */
        if (fresh || !dead)
            return rc;
    }
    return rc;
}

int runtime_http_request(struct runtime_http_conn *c, const char *method, const char *path,
                         const char *extra, const char *content_type, const void *body,
                         size_t body_len, struct runtime_http_response *res)
{
    return runtime_http_request_then(c, method, path, extra, content_type, body, body_len, res,
                                     NULL, NULL);
}

int runtime_http_await(struct runtime_http_conn *c, struct runtime_http_response *res)
{
    if (!c->pending || c->fd < 0)
        return RUNTIME_HTTP_ECLOSED;
    c->pending = false;
    c->timed_out = false;
    int rc = runtime_http_read_response(&c->rd, res, false);
    if (rc != RUNTIME_HTTP_OK || res->close)
        runtime_http_conn_close(c);
    if (rc != RUNTIME_HTTP_OK && c->timed_out)
        return RUNTIME_HTTP_ETIMEOUT;
    return rc;
}
