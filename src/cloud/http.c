#include "cloud/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <h2o.h>

struct http_server {
    h2o_evloop_t *loop;
    h2o_globalconf_t conf;
    h2o_context_t ctx;
    h2o_hostconf_t *host;
    struct http_listener *free_listeners; /* closed ones, kept: connections point at them */
    struct http_listener *all_listeners;  /* every listener struct, for http_server_free */
};

/*
 * A listener. Its `hosts` array is what h2o stores in each accepted connection's
 * conn->hosts, so the handler finds the listener from a request without a syscall.
 * Listener structs are never freed while the server lives (a closed one may still be
 * referenced by a live connection); closed ones are reused by later http_listen calls.
 */
struct http_listener {
    h2o_hostconf_t *hosts[2];
    struct http_server *srv;
    h2o_accept_ctx_t accept_ctx;
    h2o_socket_t *sock;
    http_handler_fn fn;
    void *arg;
    bool open;
    struct http_listener *next_free;
    struct http_listener *next_all;
};

struct http_req {
    h2o_req_t *h2o;
    void (*on_gone)(void *arg);
    void *gone_arg;
    bool answered;
    char length[24]; /* the body's length as text, for http_req_each_header_as_sent */
};

struct http_watch {
    h2o_socket_t *sock;
    bool in_cb;
    bool closed;
    void (*on_data)(void *arg, const char *data, size_t len);
    void *arg;
};

static void req_dispose(void *p)
{
    struct http_req *r = p;
    if (!r->answered && r->on_gone != NULL) {
        r->answered = true;
        r->on_gone(r->gone_arg);
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    (void)self;
    struct http_listener *l =
        (struct http_listener *)((char *)req->conn->hosts - offsetof(struct http_listener, hosts));
    struct http_req *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), req_dispose);
    r->h2o = req;
    r->on_gone = NULL;
    r->gone_arg = NULL;
    r->answered = false;
    if (!l->open) {
        http_respond(r, 503, NULL, 0, "{\"message\":\"Service Unavailable\"}", 33);
        return 0;
    }
    l->fn(l->arg, r);
    return 0;
}

struct http_server *http_server_new(size_t max_body)
{
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return NULL;
    h2o_config_init(&srv->conf);
    srv->conf.max_request_entity_size = max_body;
    srv->conf.server_name = h2o_iovec_init(H2O_STRLIT("haar"));
    /* long polls (/next, parked invokes) may wait as long as they like */
    srv->conf.http1.req_timeout = 24 * 3600 * 1000;
    srv->host = h2o_config_register_host(&srv->conf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(srv->host, "/", 0);
    h2o_handler_t *h = h2o_create_handler(path, sizeof(*h));
    h->on_req = on_req;
    srv->loop = h2o_evloop_create();
    h2o_context_init(&srv->ctx, srv->loop, &srv->conf);
    return srv;
}

void http_server_free(struct http_server *srv)
{
    if (srv == NULL)
        return;
    struct http_listener *l = srv->all_listeners;
    while (l != NULL) {
        struct http_listener *n = l->next_all;
        http_listener_close(l);
        free(l);
        l = n;
    }
    /* h2o 2.2 cannot tear a context down cleanly with live connections (kept-alive clients,
     * parked runtime long polls); the process is about to exit, so h2o's loop, context and
     * connections are left to the OS (sanitizer builds suppress those, see main.c). */
    free(srv);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    struct http_listener *l = listener->data;
    for (int i = 0; i < 64; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            break;
        h2o_accept(&l->accept_ctx, sock);
    }
}

int http_listen(struct http_server *srv, uint16_t port, http_handler_fn fn, void *arg,
                struct http_listener **out, uint16_t *bound_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    socklen_t sl = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    struct http_listener *l = srv->free_listeners;
    if (l != NULL) {
        srv->free_listeners = l->next_free;
    } else {
        l = calloc(1, sizeof(*l));
        if (l == NULL) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        l->next_all = srv->all_listeners;
        srv->all_listeners = l;
    }
    l->hosts[0] = srv->host;
    l->hosts[1] = NULL;
    l->srv = srv;
    l->accept_ctx.ctx = &srv->ctx;
    l->accept_ctx.hosts = l->hosts;
    l->fn = fn;
    l->arg = arg;
    l->open = true;
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
    h2o_socket_read_stop(l->sock);
    h2o_socket_close(l->sock);
    l->sock = NULL;
    l->fn = NULL;
    l->arg = NULL;
    l->next_free = l->srv->free_listeners;
    l->srv->free_listeners = l;
}

int http_run(struct http_server *srv, int max_wait_ms)
{
    return h2o_evloop_run(srv->loop, max_wait_ms) == 0 ? 0 : -1;
}

const char *http_req_method(const struct http_req *r, size_t *len)
{
    *len = r->h2o->input.method.len;
    return r->h2o->input.method.base;
}

const char *http_req_path(const struct http_req *r, size_t *len)
{
    *len = r->h2o->input.path.len;
    return r->h2o->input.path.base;
}

const char *http_req_body(const struct http_req *r, size_t *len)
{
    if (r->h2o->entity.base == NULL) {
        *len = 0;
        return "";
    }
    *len = r->h2o->entity.len;
    return r->h2o->entity.base;
}

const char *http_req_header(const struct http_req *r, const char *name, size_t *len)
{
    const h2o_headers_t *hs = &r->h2o->headers;
    size_t nl = strlen(name);
    for (size_t i = 0; i < hs->size; i++) {
        const h2o_header_t *h = hs->entries + i;
        if (h->name->len == nl && strncasecmp(h->name->base, name, nl) == 0) {
            *len = h->value.len;
            return h->value.base;
        }
    }
    *len = 0;
    return NULL;
}

void http_req_each_header(const struct http_req *r,
                          void (*fn)(void *arg, const char *n, size_t nl, const char *v, size_t vl),
                          void *arg)
{
    const h2o_headers_t *hs = &r->h2o->headers;
    for (size_t i = 0; i < hs->size; i++)
        fn(arg, hs->entries[i].name->base, hs->entries[i].name->len, hs->entries[i].value.base,
           hs->entries[i].value.len);
}

static bool has_header(const h2o_headers_t *hs, const char *name, size_t n)
{
    for (size_t i = 0; i < hs->size; i++)
        if (hs->entries[i].name->len == n && strncasecmp(hs->entries[i].name->base, name, n) == 0)
            return true;
    return false;
}

void http_req_each_header_as_sent(struct http_req *r,
                                  void (*fn)(void *arg, const char *n, size_t nl, const char *v,
                                             size_t vl),
                                  void *arg)
{
    const h2o_headers_t *hs = &r->h2o->headers;
    http_req_each_header(r, fn, arg);
    /* what h2o took out of the list: the authority, and the framing it handled itself
     * (it answers "Expect: 100-continue", reads Content-Length or chunked bodies). A client
     * that sent one of these sent the value rebuilt here: 100-continue is the only
     * expectation HTTP defines, and h2o has checked the framing against the body. */
    if (!has_header(hs, "host", 4) && r->h2o->input.authority.len > 0)
        fn(arg, "host", 4, r->h2o->input.authority.base, r->h2o->input.authority.len);
    if (!has_header(hs, "expect", 6))
        fn(arg, "expect", 6, "100-continue", 12);
    if (!has_header(hs, "content-length", 14)) {
        snprintf(r->length, sizeof(r->length), "%zu", r->h2o->entity.len);
        fn(arg, "content-length", 14, r->length, strlen(r->length));
    }
    if (!has_header(hs, "transfer-encoding", 17))
        fn(arg, "transfer-encoding", 17, "chunked", 7);
}

void http_req_peer(const struct http_req *r, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t sl = r->h2o->conn->callbacks->get_peername(r->h2o->conn, (struct sockaddr *)&ss);
    if (sl > 0 && ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)outlen);
    else
        snprintf(out, outlen, "127.0.0.1");
}

void http_req_on_gone(struct http_req *r, void (*fn)(void *arg), void *arg)
{
    r->on_gone = fn;
    r->gone_arg = arg;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Request Entity Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "OK";
    }
}

void http_respond(struct http_req *r, int status, const struct http_hdr *hdrs, size_t nhdrs,
                  const void *body, size_t len)
{
    if (r->answered)
        return;
    r->answered = true;
    h2o_req_t *req = r->h2o;
    req->res.status = status;
    req->res.reason = reason(status);
    for (size_t i = 0; i < nhdrs; i++) {
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
    if (status == 204 || status == 304)
        len = 0;
    req->res.content_length = len;
    h2o_send_inline(req, len ? body : "", len);
}

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
    struct http_watch *w = calloc(1, sizeof(*w));
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
