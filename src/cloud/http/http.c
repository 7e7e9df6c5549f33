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

#include "core/ids.h"
#include "core/timer.h"

enum { ACCEPT_PAUSE_MS = 100, MAX_HEADERS = 128 };

struct http_profile {
    struct http_profile *next;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_hostconf_t *host;
};

struct http_server {
    h2o_evloop_t *loop;
    struct http_profile *profiles;
    struct http_listener *all_listeners;  /* every listener struct, for http_server_free */
    struct http_listener *free_listeners; /* closed ones, reused */
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

static void h_respond(struct proto_req *r, int status, const struct proto_hdr *hdrs, size_t n,
                      const void *body, size_t len);
static void h_on_gone(struct proto_req *r, void (*fn)(void *arg), void *arg);

static const struct proto_conn_ops conn_ops = {h_respond, h_on_gone};

static void req_dispose(void *p)
{
    struct http_req *r = p;
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

/* ---- requests ---- */

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
        hs[i].name = h2o_strdup(&req->pool, h->name->base, h->name->len).base;
        hs[i].value = h->value.base;
        hs[i].value_len = h->value.len;
    }
    pr->headers = hs;
    pr->nheaders = n;
    struct sockaddr_storage ss;
    socklen_t sl = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    if (sl > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, pr->source_ip,
                  sizeof pr->source_ip);
    else
        snprintf(pr->source_ip, sizeof pr->source_ip, "127.0.0.1");
    pr->local_port = 0;
    sl = req->conn->callbacks->get_sockname(req->conn, (struct sockaddr *)&ss);
    if (sl > 0 && ss.ss_family == AF_INET)
        pr->local_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
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

static const char *reason(int status)
{
    static const struct {
        int status;
        const char *text;
    } reasons[] = {
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {206, "Partial Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {409, "Conflict"},
        {410, "Gone"},
        {412, "Precondition Failed"},
        {413, "Request Entity Too Large"},
        {415, "Unsupported Media Type"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return status < 300   ? "OK"
           : status < 400 ? "Redirect"
           : status < 500 ? "Client Error"
                          : "Server Error";
}

static void h_respond(struct proto_req *pr, int status, const struct proto_hdr *hdrs, size_t n,
                      const void *body, size_t len)
{
    struct http_req *r = (struct http_req *)pr;
    if (r->answered)
        return;
    r->answered = true;
    h2o_req_t *req = r->h2o;
    req->res.status = status;
    req->res.reason = reason(status);
    for (size_t i = 0; i < n; i++) {
        size_t vl = hdrs[i].value_len ? hdrs[i].value_len : strlen(hdrs[i].value);
        size_t nl = strlen(hdrs[i].name);
        h2o_iovec_t v = h2o_strdup(&req->pool, hdrs[i].value, vl);
        h2o_iovec_t orig = h2o_strdup(&req->pool, hdrs[i].name, nl);
        h2o_iovec_t lower = h2o_strdup(&req->pool, hdrs[i].name, nl);
        for (size_t k = 0; k < nl; k++)
            lower.base[k] = (char)tolower((unsigned char)lower.base[k]);
        h2o_add_header_by_str(&req->pool, &req->res.headers, lower.base, nl, 1, orig.base, v.base,
                              v.len);
    }
    if (status == 204 || status == 304 || (status >= 100 && status < 200))
        len = 0;
    req->res.content_length = len;
    h2o_send_inline(req, len ? body : "", len);
}

static void h_on_gone(struct proto_req *pr, void (*fn)(void *arg), void *arg)
{
    struct http_req *r = (struct http_req *)pr;
    r->on_gone = fn;
    r->gone_arg = arg;
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
        snprintf(r->length, sizeof r->length, "%zu", r->h2o->entity.len);
        fn(arg, "content-length", 14, r->length, strlen(r->length));
    }
    if (!has_header(hs, "transfer-encoding", 17))
        fn(arg, "transfer-encoding", 17, "chunked", 7);
}

/* ---- server, profiles, listeners ---- */

struct http_server *http_server_new(void)
{
    struct http_server *srv = calloc(1, sizeof *srv);
    if (srv == NULL)
        return NULL;
    srv->loop = h2o_evloop_create();
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
    /* h2o 2.2 cannot tear a context down cleanly with live connections (kept-alive clients,
     * parked long polls); the process is about to exit, so h2o's loop, contexts and
     * connections are left to the OS (sanitizer builds suppress those, see main.c). */
    free(srv);
}

static void on_accept(h2o_socket_t *listener, const char *err);

/* A connection closed: one more may be accepted, and an fd is free again. */
static void on_conn_close(void *data)
{
    struct http_listener *l = data;
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
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        h2o_socket_t *sock =
            h2o_evloop_socket_create(l->srv->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = l;
        l->conns++;
        h2o_accept(&l->accept_ctx, sock);
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
    l->next_free = l->srv->free_listeners;
    l->srv->free_listeners = l;
}

unsigned http_listener_conns(const struct http_listener *l)
{
    return l->conns;
}

int http_run(struct http_server *srv, int64_t max_wait_ms)
{
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
