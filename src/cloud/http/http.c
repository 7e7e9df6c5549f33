/*
 * http.c — h2o 2.2 under the proto_req interface (see http.h).
 */
#include "cloud/http/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "core/str.h"
#include "core/timer.h"

enum {
    ACCEPT_PAUSE_MS = 100,
    MAX_HEADERS = 128,
    PARKED_INPUT_MAX = 64 * 1024, /* pipelined bytes read while watching a parked request */
    DRAIN_MS = 2000,              /* a refused request's body is read and dropped this long */
    DRAIN_TICK_MS = 20,
};

struct http_profile {
    struct http_profile *next;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_hostconf_t *host;
};

struct http_server {
    h2o_evloop_t *loop;
    /* The daemon's timers and deferred calls run inside h2o's turn, from a zero timeout:
     * h2o finishes the writes they start at once. Run from outside it, a written answer
     * waited for the next turn, one EPOLLOUT round trip (two epoll_ctl and a poll more per
     * request). */
    h2o_timeout_t turn;
    h2o_timeout_entry_t turn_entry;
    bool in_turn;
    struct http_profile *profiles;
    struct http_listener *all_listeners;  /* every listener struct, for http_server_free */
    struct http_listener *free_listeners; /* closed ones, reused */
    /* screen_head's parse of a request head (~20 KB), kept: taken and given back per request,
     * an allocation that size made malloc consolidate its small free chunks every time */
    struct http_head *screen_scratch;
};

/*
 * A listener. Its `hosts` array is what h2o stores in each accepted connection's
 * conn->hosts, so the request handler finds its listener without a lookup. Listener structs
 * live as long as the server (a closed one may still be referenced by a live connection) and
 * closed ones are reused.
 */
struct http_listener {
    h2o_hostconf_t *hosts[2];
    struct http_server *srv;
    struct http_profile *profile;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *sock;
    int fd;
    http_handler_fn fn;
    void *arg;
    http_accept_filter_fn filter;
    void *filter_arg;
    http_screen_fn screen;
    void *screen_arg;
    unsigned conns, max_conns;
    bool open;
    bool paused;
    struct timer resume; /* TIMER_REAL: accepting again after running out of fds */
    struct http_listener *next_free;
    struct http_listener *next_all;
};

/* A request: the neutral view first, so the adapters' pointer is ours. */
struct http_req {
    struct proto_req pr;
    h2o_req_t *h2o;
    void (*on_gone)(void *arg);
    void *gone_arg;
    bool answered;
    char length[24]; /* the body's length as text, for http_each_header_as_sent */
};

struct http_watch {
    h2o_socket_t *sock;
    bool in_cb;
    bool closed;
    void (*on_data)(void *arg, const char *data, size_t len);
    void *arg;
};

/*
 * What haar keeps of a connection beside h2o's (the socket's on_close.data): its listener,
 * and the request answered later whose client is watched. h2o stops reading an HTTP/1
 * connection once a request is in, so it would only learn that the client left when it
 * writes the answer; a parked request (one with a gone callback: a long poll, an invocation
 * waiting for an environment) has the connection read again, by on_parked_read, so the
 * handler hears of it at once (an invocation not yet started never starts).
 */
struct http_conn {
    struct http_listener *l;
    h2o_socket_t *sock;
    struct http_req *parked;
    /* screening (listeners with a screen): screen_on_read runs before h2o's own read
     * callback until the head of each request has been looked at */
    h2o_socket_cb h2o_read; /* h2o's read callback (HTTP/1: the same for every request) */
    bool screening;
    struct timer rescreen; /* TIMER_REAL: screening again once a request is done */
    bool corked;           /* a lazy answer waits in the socket (TCP_CORK) for the next one */
};

static void screen_on_read(h2o_socket_t *sock, const char *err);

static void h_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                      const void *body, size_t len);
static void h_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg);
static void h_respond_lazy(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                           const void *body, size_t len);

static const struct proto_conn_ops conn_ops = {
    .respond = h_respond, .on_gone = h_on_gone, .respond_lazy = h_respond_lazy};

static struct http_conn *conn_of(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return NULL;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    return sock != NULL ? sock->on_close.data : NULL;
}

static void unpark(struct http_req *r)
{
    struct http_conn *c = conn_of(r->h2o);
    if (c == NULL || c->parked != r)
        return;
    c->parked = NULL;
    h2o_socket_read_stop(c->sock); /* h2o reads again once the answer is out */
}

static void req_dispose(void *p)
{
    struct http_req *r = p;
    unpark(r);
    /* h2o starts reading the next request right after this (its reqread_start), with its
     * own callback: screening takes over again from a zero-delay timer */
    struct http_conn *c = conn_of(r->h2o);
    if (c != NULL && c->l->screen != NULL && c->h2o_read != NULL)
        timer_start(&c->rescreen, 0);
    if (!r->answered && r->on_gone != NULL) {
        r->answered = true;
        r->on_gone(r->gone_arg);
    }
}

/* ---- framing ---- */

/*
 * h2o takes Content-Length and Transfer-Encoding out of the header list; to refuse a request
 * that framed its body twice (request smuggling), the raw header block is read again. For
 * HTTP/1 it is still at the start of the connection's input buffer while the request is
 * being handled.
 */
static bool ambiguous_framing(h2o_req_t *req)
{
    if (req->version >= 0x200 || req->conn->callbacks->get_socket == NULL)
        return false;
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    if (sock == NULL || sock->input == NULL)
        return false;
    const char *p = sock->input->bytes, *end = p + sock->input->size;
    int cl = 0, te = 0;
    const char *eol = memchr(p, '\n', (size_t)(end - p)); /* skip the request line */
    while (eol != NULL) {
        p = eol + 1;
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            break;
        size_t len = (size_t)(eol - p);
        if (len == 0 || (len == 1 && p[0] == '\r'))
            break; /* end of headers */
        if (len >= 15 && strncasecmp(p, "content-length:", 15) == 0)
            cl++;
        else if (len >= 18 && strncasecmp(p, "transfer-encoding:", 18) == 0)
            te++;
    }
    return cl > 1 || (cl > 0 && te > 0) || te > 1;
}

/* ---- request heads, before the body (screening) ---- */

static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* The next line of p..end (without CRLF / LF) into *line, *ll; NULL when no full line. */
static const char *next_line(const char *p, const char *end, const char **line, size_t *ll)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        return NULL;
    *line = p;
    *ll = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
    return nl + 1;
}

long http_parse_head(const char *data, size_t len, struct http_head *h)
{
    memset(&h->req, 0, sizeof h->req);
    h->declared = 0;
    h->ambiguous = false;
    const char *p = data, *end = data + (len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX);
    const char *line;
    size_t ll;
    /* request line: METHOD SP target SP HTTP/1.x */
    const char *next = next_line(p, end, &line, &ll);
    if (next == NULL)
        return len < HTTP_HEAD_MAX ? 0 : -1;
    const char *sp1 = memchr(line, ' ', ll);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - line)) : NULL;
    if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1 ||
        (size_t)(line + ll - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return -1;
    for (const char *q = line; q < sp1; q++)
        if (!tchar((unsigned char)*q))
            return -1;
    for (const char *q = sp1 + 1; q < sp2; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f)
            return -1;
    struct proto_req *r = &h->req;
    r->method = line;
    r->method_len = (size_t)(sp1 - line);
    r->path = sp1 + 1;
    const char *qm = memchr(r->path, '?', (size_t)(sp2 - r->path));
    r->path_len = (size_t)((qm ? qm : sp2) - r->path);
    r->query = qm ? qm + 1 : "";
    r->query_len = qm ? (size_t)(sp2 - qm - 1) : 0;
    r->body = "";
    r->authority = "";
    r->headers = h->hdrs;
    size_t names = 0;
    int cl = 0, te = 0;
    for (p = next; (next = next_line(p, end, &line, &ll)) != NULL; p = next) {
        if (ll == 0) { /* the blank line: the head is complete */
            h->ambiguous = cl > 1 || te > 1 || (cl > 0 && te > 0);
            return (long)(next - data);
        }
        const char *colon = memchr(line, ':', ll);
        if (colon == NULL || colon == line || r->nheaders == HTTP_HEAD_HEADERS)
            return -1;
        size_t nl = (size_t)(colon - line);
        if (names + nl + 1 > sizeof h->names)
            return -1;
        for (size_t i = 0; i < nl; i++) {
            unsigned char c = (unsigned char)line[i];
            if (!tchar(c))
                return -1; /* also obs-fold: a line starting with a space */
            h->names[names + i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        h->names[names + nl] = '\0';
        const char *v = colon + 1, *ve = line + ll;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        struct proto_hdr *hd = &h->hdrs[r->nheaders++];
        hd->name = h->names + names;
        hd->value = v;
        hd->value_len = (size_t)(ve - v);
        names += nl + 1;
        if (strcmp(hd->name, "content-length") == 0) {
            uint64_t n = 0;
            if (hd->value_len == 0 || hd->value_len > 19)
                return -1;
            for (size_t i = 0; i < hd->value_len; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                n = n * 10 + (uint64_t)(v[i] - '0');
            }
            if (++cl == 1 && te == 0) /* the first, as h2o reads it */
                h->declared = n;
        } else if (strcmp(hd->name, "transfer-encoding") == 0) {
            te++;
            h->declared = HTTP_CHUNKED;
        } else if (strcmp(hd->name, "host") == 0) {
            r->authority = hd->value;
            r->authority_len = hd->value_len;
        }
    }
    return len < HTTP_HEAD_MAX ? 0 : -1;
}

/* A screen's answer, captured to be written by hand (the request never reaches h2o's
 * handler). */
struct capture {
    int status;
    struct buf head, body;
    bool answered;
};

static void cap_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                        const void *body, size_t len)
{
    struct capture *c = r->conn;
    if (c->answered)
        return;
    c->answered = true;
    c->status = status;
    for (size_t i = 0; i < n; i++) {
        size_t vl = hdrs[i].value_len ? hdrs[i].value_len : strlen(hdrs[i].value);
        buf_printf(&c->head, "%s: %.*s\r\n", hdrs[i].name, (int)vl, hdrs[i].value);
    }
    buf_append(&c->body, body, len);
}

static void cap_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg)
{
    (void)r;
    (void)fn;
    (void)arg;
}

static const struct proto_conn_ops cap_ops = {.respond = cap_respond, .on_gone = cap_on_gone};

/* A refused request's connection, once h2o let go of it: the answer is written, the sending
 * side shut, and what the client still sends is read and dropped (never kept) for a moment,
 * so that it reads the answer rather than a reset. */
struct drain {
    int fd;
    int64_t until_ms;
    struct timer t;
};

static void drain_tick(struct timer *t)
{
    struct drain *d = t->data;
    static char sink[65536];
    ssize_t n = 1;
    for (int i = 0; i < 64 && n > 0; i++)
        n = read(d->fd, sink, sizeof sink);
    if ((n < 0 && errno == EAGAIN && clock_real_mono_ms() < d->until_ms)) {
        timer_start(t, DRAIN_TICK_MS);
        return;
    }
    if (n > 0 && clock_real_mono_ms() < d->until_ms) {
        timer_start(t, 0);
        return;
    }
    close(d->fd);
    timer_destroy(&d->t);
    free(d);
}

static void refuse_head(struct http_conn *c, struct capture *cap)
{
    struct buf out;
    buf_init(&out, 1 << 20);
    buf_printf(&out, "HTTP/1.1 %d %s\r\nServer: haar\r\nConnection: close\r\n", cap->status,
               status_reason(cap->status));
    buf_append(&out, cap->head.data ? cap->head.data : "", cap->head.len);
    buf_printf(&out, "Content-Length: %zu\r\n\r\n", cap->body.len);
    buf_append(&out, cap->body.data ? cap->body.data : "", cap->body.len);
    int fd = dup(h2o_socket_get_fd(c->sock));
    /* h2o closes its connection as for a read error; c is freed with it */
    c->h2o_read(c->sock, "haar: refused at its head");
    struct drain *d = fd >= 0 ? calloc(1, sizeof *d) : NULL;
    if (d == NULL || timer_init(&d->t, TIMER_REAL, drain_tick, d) != 0) {
        free(d);
        if (fd >= 0)
            close(fd);
        buf_destroy(&out);
        return;
    }
    ssize_t w = write(fd, out.data, out.len); /* a small answer fits the socket's buffer */
    (void)w;
    shutdown(fd, SHUT_WR);
    d->fd = fd;
    d->until_ms = clock_real_mono_ms() + DRAIN_MS;
    timer_start(&d->t, 0);
    buf_destroy(&out);
}

enum screen_verdict { SCREEN_WAIT, SCREEN_PASS, SCREEN_REFUSED };

/* Looks at the head at the start of the connection's input (h2o consumes a request's bytes
 * only once it is answered, so the head of the request being read is always there). */
static enum screen_verdict screen_head(struct http_conn *c)
{
    h2o_socket_t *sock = c->sock;
    if (c->l->screen == NULL) /* its listener closed */
        return SCREEN_PASS;
    struct http_server *srv = c->l->srv;
    if (srv->screen_scratch == NULL &&
        (srv->screen_scratch = malloc(sizeof(struct http_head))) == NULL)
        return SCREEN_PASS;
    struct http_head *h = srv->screen_scratch;
    enum screen_verdict v = SCREEN_PASS;
    long hl = http_parse_head(sock->input->bytes, sock->input->size, h);
    if (hl == 0) {
        v = SCREEN_WAIT;
        goto out;
    }
    /* not a head h2o would take (it answers those itself), or a body already in full: the
     * request is handled as any other */
    if (hl < 0 || (h->declared != HTTP_CHUNKED && !h->ambiguous &&
                   sock->input->size - (size_t)hl >= h->declared))
        goto out;
    struct capture cap = {0};
    buf_init(&cap.head, 64 * 1024);
    buf_init(&cap.body, 1 << 20);
    struct proto_req *r = &h->req;
    ids_uuid4(r->request_id);
    snprintf(r->source_ip, sizeof r->source_ip, "127.0.0.1");
    r->ops = &cap_ops;
    r->conn = &cap;
    if (h->ambiguous) {
        static const char msg[] = "{\"message\":\"Bad Request: the body length is framed twice\"}";
        struct proto_hdr ct = {"content-type", "application/json", 0};
        cap_respond(r, 400, &ct, 1, msg, sizeof msg - 1);
    } else {
        c->l->screen(c->l->screen_arg, r, h->declared);
    }
    if (cap.answered) {
        refuse_head(c, &cap);
        v = SCREEN_REFUSED;
    }
    buf_destroy(&cap.head);
    buf_destroy(&cap.body);
out:
    return v;
}

static void screen_on_read(h2o_socket_t *sock, const char *err)
{
    struct http_conn *c = sock->on_close.data;
    h2o_socket_cb h2o_read = c->h2o_read;
    if (err == NULL && c->screening) {
        enum screen_verdict v = screen_head(c);
        if (v == SCREEN_REFUSED)
            return; /* the connection is gone */
        if (v == SCREEN_PASS) {
            c->screening = false;
            sock->_cb.read = h2o_read;
        }
    }
    h2o_read(sock, err);
}

/* The next request's head is screened: h2o's read callback is wrapped again (the current
 * one is h2o's only when h2o is reading a request; otherwise h2o sets its own later and the
 * next rescreen catches it). */
static void rescreen(struct timer *t)
{
    struct http_conn *c = t->data;
    if (c->sock->_cb.read == c->h2o_read && c->h2o_read != NULL) {
        c->screening = true;
        c->sock->_cb.read = screen_on_read;
    }
}

/* ---- requests ---- */

/* Dotted-quad text of an IPv4 address (at least 16 bytes of room); inet_ntop goes through
 * sprintf, on every request. */
static void ipv4_text(const unsigned char a[4], char *out)
{
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        char d[STR_I64_MAX];
        size_t k = str_i64(a[i], d);
        memcpy(out + n, d, k);
        n += k;
        out[n++] = i < 3 ? '.' : '\0';
    }
}

static void fill_req(struct http_req *r, h2o_req_t *req, struct http_listener *l)
{
    struct proto_req *pr = &r->pr;
    const char *path = req->input.path.base;
    size_t pl = req->input.path.len;
    const char *q = memchr(path, '?', pl);
    pr->method = req->input.method.base;
    pr->method_len = req->input.method.len;
    pr->path = path;
    pr->path_len = q ? (size_t)(q - path) : pl;
    pr->query = q ? q + 1 : "";
    pr->query_len = q ? pl - pr->path_len - 1 : 0;
    pr->body = req->entity.base ? req->entity.base : "";
    pr->body_len = req->entity.base ? req->entity.len : 0;
    pr->authority = req->input.authority.base ? req->input.authority.base : "";
    pr->authority_len = req->input.authority.len;
    size_t n = req->headers.size < MAX_HEADERS ? req->headers.size : MAX_HEADERS;
    struct proto_hdr *hs = h2o_mem_alloc_pool(&req->pool, (n ? n : 1) * sizeof *hs);
    for (size_t i = 0; i < n; i++) {
        const h2o_header_t *h = req->headers.entries + i;
        /* a token's name is a static C string; another name is copied to end in a NUL */
        hs[i].name = h2o_iovec_is_token(h->name)
                         ? h->name->base
                         : h2o_strdup(&req->pool, h->name->base, h->name->len).base;
        hs[i].value = h->value.base;
        hs[i].value_len = h->value.len;
    }
    pr->headers = hs;
    pr->nheaders = n;
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (sl > 0 && ss.ss_family == AF_INET)
        ipv4_text((const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr, pr->source_ip);
    else
        memcpy(pr->source_ip, "127.0.0.1", sizeof "127.0.0.1");
    ids_uuid4(pr->request_id);
    pr->ops = &conn_ops;
    pr->conn = r;
    (void)l;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct http_listener *l =
        (struct http_listener *)((char *)req->conn->hosts - offsetof(struct http_listener, hosts));
    struct http_req *r = h2o_mem_alloc_shared(&req->pool, sizeof *r, req_dispose);
    memset(r, 0, sizeof *r);
    r->h2o = req;
    fill_req(r, req, l);
    struct http_conn *c = conn_of(req);
    if (c != NULL && c->screening) { /* it arrived whole before screening took over */
        c->screening = false;
        if (c->sock->_cb.read == screen_on_read)
            c->sock->_cb.read = c->h2o_read;
    }
    if (ambiguous_framing(req)) {
        req->http1_is_persistent = 0;
        static const char msg[] = "{\"message\":\"Bad Request: the body length is framed twice\"}";
        struct proto_hdr h = {"content-type", "application/json", 0};
        h_respond(&r->pr, 400, &h, 1, msg, sizeof msg - 1);
        return 0;
    }
    if (!l->open || l->fn == NULL) {
        static const char msg[] = "{\"message\":\"Service Unavailable\"}";
        struct proto_hdr h = {"content-type", "application/json", 0};
        h_respond(&r->pr, 503, &h, 1, msg, sizeof msg - 1);
        return 0;
    }
    l->fn(l->arg, &r->pr);
    return 0;
}

static void cork(struct http_conn *c, bool on)
{
    int v = on;
    if (setsockopt(h2o_socket_get_fd(c->sock), IPPROTO_TCP, TCP_CORK, &v, sizeof v) == 0)
        c->corked = on;
}

/* Whether the client has sent more than this request: bytes past its body in the input. h2o
 * reads an HTTP/1 request's body (Content-Length or de-chunked) into the connection's input
 * buffer, where it stays while the request is handled, and what follows it is the next. */
static bool next_request_in(const h2o_req_t *req, const struct http_conn *c)
{
    const h2o_buffer_t *in = c->sock->input;
    const char *end = in->bytes + in->size, *body = req->entity.base;
    return body != NULL && body >= in->bytes && body + req->entity.len < end;
}

static void respond(struct proto_req *pr, int status, const struct proto_hdr *hdrs, size_t n,
                    const void *body, size_t len, bool lazy)
{
    struct http_req *r = (struct http_req *)pr;
    if (r->answered)
        return;
    r->answered = true;
    unpark(r);
    h2o_req_t *req = r->h2o;
    req->res.status = status;
    req->res.reason = status_reason(status);
    for (size_t i = 0; i < n; i++) {
        size_t vl = hdrs[i].value_len ? hdrs[i].value_len : strlen(hdrs[i].value);
        const char *name = hdrs[i].name;
        size_t nl = strlen(name);
        h2o_iovec_t v = h2o_strdup(&req->pool, hdrs[i].value, vl);
        bool lower = true;
        for (size_t k = 0; k < nl && lower; k++)
            lower = !(name[k] >= 'A' && name[k] <= 'Z');
        const h2o_token_t *tok = lower ? h2o_lookup_token(name, nl) : NULL;
        if (tok != NULL) { /* the common case: nothing to copy but the value */
            h2o_add_header(&req->pool, &req->res.headers, tok, NULL, v.base, v.len);
            continue;
        }
        /* h2o keeps the name's pointer (so a copy, lowercased) and copies the original */
        h2o_iovec_t low = h2o_strdup(&req->pool, name, nl);
        for (size_t k = 0; k < nl; k++)
            low.base[k] = (char)tolower((unsigned char)low.base[k]);
        h2o_add_header_by_str(&req->pool, &req->res.headers, low.base, nl, 1, lower ? NULL : name,
                              v.base, v.len);
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200))
        len = 0;
    req->res.content_length = len;
    struct http_conn *c = conn_of(req);
    if (c != NULL && lazy && !c->corked && next_request_in(req, c))
        cork(c, true);
    h2o_send_inline(req, len ? body : "", len); /* h2o writes at once (or queues the rest) */
    if (c != NULL && !lazy && c->corked)
        cork(c, false); /* out together, in one segment */
}

static void h_respond(struct proto_req *pr, int status, const struct proto_hdr *hdrs, size_t n,
                      const void *body, size_t len)
{
    respond(pr, status, hdrs, n, body, len, false);
}

static void h_respond_lazy(struct proto_req *pr, int status, const struct proto_hdr *hdrs, size_t n,
                           const void *body, size_t len)
{
    respond(pr, status, hdrs, n, body, len, true);
}

/* The client of a parked request: pipelined bytes are left in the input for h2o (up to
 * PARKED_INPUT_MAX, past which watching stops); EOF or an error means it went away. */
static void on_parked_read(h2o_socket_t *sock, const char *err)
{
    struct http_conn *c = sock->on_close.data;
    struct http_req *r = c->parked;
    if (err == NULL && sock->input->size <= PARKED_INPUT_MAX)
        return;
    c->parked = NULL;
    h2o_socket_read_stop(sock);
    if (err == NULL || r == NULL || r->answered)
        return;
    /* the handler forgets the request; h2o gets an answer no one reads, so that it closes
     * the connection (it would not read it again) */
    void (*fn)(void *) = r->on_gone;
    void *arg = r->gone_arg;
    r->on_gone = NULL;
    if (fn != NULL)
        fn(arg);
    r->h2o->http1_is_persistent = 0;
    h_respond(&r->pr, 400, NULL, 0, "", 0);
}

static void h_on_gone(struct proto_req *pr, void (*fn)(void *arg), void *arg)
{
    struct http_req *r = (struct http_req *)pr;
    r->on_gone = fn;
    r->gone_arg = arg;
    if (fn == NULL) {
        unpark(r);
        return;
    }
    struct http_conn *c = conn_of(r->h2o);
    if (c != NULL && c->parked == NULL && !r->answered && c->sock->_cb.read == NULL) {
        c->parked = r;
        h2o_socket_read_start(c->sock, on_parked_read);
    }
}

static bool has_header(const h2o_headers_t *hs, const char *name, size_t n)
{
    for (size_t i = 0; i < hs->size; i++)
        if (hs->entries[i].name->len == n && strncasecmp(hs->entries[i].name->base, name, n) == 0)
            return true;
    return false;
}

void http_each_header_as_sent(const struct proto_req *pr,
                              void (*fn)(void *arg, const char *n, size_t nl, const char *v,
                                         size_t vl),
                              void *arg)
{
    struct http_req *r = (struct http_req *)pr;
    const h2o_headers_t *hs = &r->h2o->headers;
    for (size_t i = 0; i < hs->size; i++)
        fn(arg, hs->entries[i].name->base, hs->entries[i].name->len, hs->entries[i].value.base,
           hs->entries[i].value.len);
    /* what h2o took out of the list: the authority, and the framing it handled itself (it
     * answers "Expect: 100-continue", reads Content-Length or chunked bodies, and ambiguous
     * framing never gets here). A client that sent one of these sent the value rebuilt here:
     * 100-continue is the only expectation HTTP defines. */
    if (!has_header(hs, "host", 4) && r->h2o->input.authority.len > 0)
        fn(arg, "host", 4, r->h2o->input.authority.base, r->h2o->input.authority.len);
    if (!has_header(hs, "expect", 6))
        fn(arg, "expect", 6, "100-continue", 12);
    if (!has_header(hs, "content-length", 14)) {
        fn(arg, "content-length", 14, r->length, str_i64((int64_t)r->h2o->entity.len, r->length));
    }
    if (!has_header(hs, "transfer-encoding", 17))
        fn(arg, "transfer-encoding", 17, "chunked", 7);
}

/* ---- server, profiles, listeners ---- */

static void on_turn(h2o_timeout_entry_t *e)
{
    struct http_server *srv = H2O_STRUCT_FROM_MEMBER(struct http_server, turn_entry, e);
    srv->in_turn = true;
    timer_run_due();
    srv->in_turn = false;
}

/* Asks h2o to run the timers within its current turn (or its next one, without waiting).
 * Not while they run: what they queue waits for a turn of its own, after the next poll. */
static void want_turn(void *arg)
{
    struct http_server *srv = arg;
    if (!srv->in_turn && !h2o_timeout_is_linked(&srv->turn_entry))
        h2o_timeout_link(srv->loop, &srv->turn, &srv->turn_entry);
}

struct http_server *http_server_new(void)
{
    struct http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return NULL;
    srv->loop = h2o_evloop_create();
    h2o_timeout_init(srv->loop, &srv->turn, 0);
    srv->turn_entry.cb = on_turn;
    timer_defer_set_wake(want_turn, srv);
    return srv;
}

struct http_profile *http_profile_new(struct http_server *srv, size_t max_body, int64_t idle_ms)
{
    struct http_profile *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    h2o_config_init(&p->conf);
    p->conf.max_request_entity_size = max_body;
    p->conf.server_name = h2o_iovec_init(H2O_STRLIT("haar"));
    p->conf.http1.req_timeout = (uint64_t)idle_ms;
    p->conf.http1.upgrade_to_http2 = 0; /* HTTP/1.1 only: no h2c, no prior knowledge */
    p->host = h2o_config_register_host(&p->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(p->host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof *h);
    h->on_req = on_req;
    h2o_context_init(&p->ctx, srv->loop, &p->conf);
    p->next = srv->profiles;
    srv->profiles = p;
    return p;
}

void http_server_free(struct http_server *srv)
{
    if (srv == NULL)
        return;
    struct http_listener *l = srv->all_listeners;
    while (l != NULL) {
        struct http_listener *n = l->next_all;
        http_listener_close(l);
        timer_destroy(&l->resume);
        free(l);
        l = n;
    }
    timer_defer_set_wake(NULL, NULL);
    if (h2o_timeout_is_linked(&srv->turn_entry))
        h2o_timeout_unlink(&srv->turn_entry);
    free(srv->screen_scratch);
    /* h2o 2.2 cannot tear a context down cleanly with live connections (kept-alive clients,
     * parked long polls); the process is about to exit, so h2o's loop, contexts and
     * connections are left to the OS (sanitizer builds suppress those, see main.c). */
    free(srv);
}

static void on_accept(h2o_socket_t *listener, const char *err);

/* A connection closed: one more may be accepted, and an fd is free again. */
static void on_conn_close(void *data)
{
    struct http_conn *c = data;
    struct http_listener *l = c->l;
    timer_destroy(&c->rescreen);
    free(c);
    if (l->conns > 0)
        l->conns--;
    if (l->paused && l->open) {
        timer_stop(&l->resume);
        l->paused = false;
        h2o_socket_read_start(l->sock, on_accept);
    }
}

static void pause_accepting(struct http_listener *l, int64_t ms)
{
    if (l->paused)
        return;
    l->paused = true;
    h2o_socket_read_stop(l->sock);
    if (ms > 0)
        timer_start(&l->resume, ms);
}

static void resume_accepting(struct timer *t)
{
    struct http_listener *l = t->data;
    if (l->open && l->paused) {
        l->paused = false;
        h2o_socket_read_start(l->sock, on_accept);
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct http_listener *l = listener->data;
    if (err != NULL || !l->open)
        return;
    for (int i = 0; i < 64; i++) {
        if (l->max_conns && l->conns >= l->max_conns) {
            pause_accepting(l, 0); /* resumed when a connection closes */
            return;
        }
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(l, ACCEPT_PAUSE_MS); /* no spinning on a readable listener */
            return;
        }
        if (l->filter && !l->filter(l->filter_arg, fd)) {
            close(fd);
            continue;
        }
        struct http_conn *c = calloc(1, sizeof *c);
        if (c == NULL || timer_init(&c->rescreen, TIMER_REAL, rescreen, c) != 0) {
            free(c);
            close(fd);
            pause_accepting(l, ACCEPT_PAUSE_MS);
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        h2o_socket_t *sock =
            h2o_evloop_socket_create(l->srv->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
        c->l = l;
        c->sock = sock;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        l->conns++;
        h2o_accept(&l->accept_ctx, sock);
        /* h2o 2.2 has no hook between a request's head and its body: its HTTP/1 read
         * callback (set by h2o_accept, the same for every request of the connection) is
         * wrapped so that the head is looked at first */
        if (l->screen != NULL && sock->_cb.read != NULL) {
            c->h2o_read = sock->_cb.read;
            c->screening = true;
            sock->_cb.read = screen_on_read;
        }
    }
}

int http_listen(struct http_server *srv, uint16_t port, const struct http_listen_opts *opts,
                http_handler_fn fn, void *arg, struct http_listener **out, uint16_t *bound_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    struct http_listener *l = srv->free_listeners;
    if (l != NULL) {
        srv->free_listeners = l->next_free;
    } else {
        l = calloc(1, sizeof *l);
        if (l == NULL || timer_init(&l->resume, TIMER_REAL, resume_accepting, l) != 0) {
            free(l);
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        l->next_all = srv->all_listeners;
        srv->all_listeners = l;
    }
    l->profile = opts->profile;
    l->hosts[0] = opts->profile->host;
    l->hosts[1] = NULL;
    l->srv = srv;
    l->accept_ctx = (h2o_accept_ctx_t){.ctx = &opts->profile->ctx, .hosts = l->hosts};
    l->fd = fd;
    l->fn = fn;
    l->arg = arg;
    l->filter = opts->filter;
    l->filter_arg = opts->filter_arg;
    l->screen = opts->screen;
    l->screen_arg = opts->screen_arg;
    l->max_conns = opts->max_conns;
    l->conns = 0;
    l->open = true;
    l->paused = false;
    l->next_free = NULL;
    l->sock = h2o_evloop_socket_create(srv->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    l->sock->data = l;
    h2o_socket_read_start(l->sock, on_accept);
    *out = l;
    if (bound_port != NULL)
        *bound_port = ntohs(sa.sin_port);
    return 0;
}

void http_listener_close(struct http_listener *l)
{
    if (l == NULL || !l->open)
        return;
    l->open = false;
    timer_stop(&l->resume);
    if (!l->paused)
        h2o_socket_read_stop(l->sock);
    h2o_socket_close(l->sock);
    l->sock = NULL;
    l->fn = NULL;
    l->arg = NULL;
    l->filter = NULL;
    l->screen = NULL;
    l->next_free = l->srv->free_listeners;
    l->srv->free_listeners = l;
}

unsigned http_listener_conns(const struct http_listener *l)
{
    return l->conns;
}

int http_run(struct http_server *srv, int64_t max_wait_ms)
{
    if (timer_wait_ms() == 0)
        want_turn(srv);
    int32_t wait = max_wait_ms < 0 || max_wait_ms > INT32_MAX ? INT32_MAX : (int32_t)max_wait_ms;
    return h2o_evloop_run(srv->loop, wait) == 0 ? 0 : -1;
}

/* ---- fd watches ---- */

static void on_watch_read(h2o_socket_t *sock, const char *err)
{
    struct http_watch *w = sock->data;
    size_t n = err != NULL ? 0 : sock->input->size;
    if (err == NULL && n == 0)
        return;
    /* hand out the bytes, then consume them; on_data may close the watch */
    w->in_cb = true;
    w->on_data(w->arg, n ? sock->input->bytes : NULL, n);
    w->in_cb = false;
    if (w->closed) {
        free(w);
        return;
    }
    if (n > 0)
        h2o_buffer_consume(&sock->input, n);
}

struct http_watch *http_watch_fd(struct http_server *srv, int fd,
                                 void (*on_data)(void *arg, const char *data, size_t len),
                                 void *arg)
{
    struct http_watch *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    w->sock = h2o_evloop_socket_create(srv->loop, fd, 0);
    w->on_data = on_data;
    w->arg = arg;
    w->sock->data = w;
    h2o_socket_read_start(w->sock, on_watch_read);
    return w;
}

void http_watch_close(struct http_watch *w)
{
    if (w == NULL)
        return;
    if (w->sock != NULL) {
        h2o_socket_read_stop(w->sock);
        h2o_socket_close(w->sock);
        w->sock = NULL;
    }
    if (w->in_cb)
        w->closed = true; /* freed when the callback returns */
    else
        free(w);
}
