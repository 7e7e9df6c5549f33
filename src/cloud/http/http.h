/*
 * http.h — the daemon's HTTP server and event loop, wrapping h2o 2.2 (evloop). The only
 * module that includes <h2o.h>.
 *
 * Every request becomes a protocol-neutral struct proto_req (cloud/proto/proto.h) handed to
 * the listener's handler, which answers now or later through proto_respond. The server owns
 * framing: it refuses ambiguous requests (two Content-Length values, or Content-Length with
 * Transfer-Encoding) with 400 before any handler sees them, sets Content-Length on every
 * answer, and speaks HTTP/1.1 only (no h2c upgrade or prior-knowledge HTTP/2: the rapid-reset
 * class of attacks needs HTTP/2 streams).
 *
 * Listeners share one loop; each belongs to a profile (request body cap, idle keep-alive
 * timeout). A listener caps its open connections; when the process runs out of file
 * descriptors it pauses accepting for a moment instead of spinning. An accept filter may
 * refuse connections by their peer (the Runtime API admits only its environment's
 * processes); a screen may refuse a request from its head, before its body is read (the AWS
 * port: no body is kept for a request that cannot be authentic). A request answered later
 * (one with a gone callback) has its connection watched, so a client that leaves is heard of
 * at once, not when the answer is written.
 *
 * Not thread-safe: one loop thread.
 */
#ifndef HAAR_CLOUD_HTTP_H
#define HAAR_CLOUD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloud/proto/proto.h"

struct http_server;
struct http_profile;
struct http_listener;
struct http_watch;

typedef void (*http_handler_fn)(void *arg, struct proto_req *req);

/* Decides on a new connection from its fd (peer address via getpeername); false closes it. */
typedef bool (*http_accept_filter_fn)(void *arg, int fd);

/*
 * Looks at a request once its head is in, before its body is read (h2o reads a body whole
 * before any handler runs, and has no hook of its own for this). head carries the method,
 * path, query, authority and headers (names lowercase), body "" and body_len 0; declared is
 * the Content-Length (HTTP_CHUNKED: chunked). A screen that answers head (proto_respond,
 * proto_error) refuses the request there: the answer goes out with "Connection: close" and
 * the body is never kept (what the client still sends is read and dropped for a moment, so
 * that it sees the answer). One that does not answer lets the request be read and handled.
 */
#define HTTP_CHUNKED UINT64_MAX
typedef void (*http_screen_fn)(void *arg, struct proto_req *head, uint64_t declared);

/* Creates the loop and server. NULL on failure. */
struct http_server *http_server_new(void);

/* Closes every listener and frees the server's own memory; accepts NULL. Call last. */
void http_server_free(struct http_server *srv);

/* A profile: bodies above max_body are refused with 413 while being read; a connection idle
 * between requests (or slow to send one) for idle_ms is closed. NULL when out of memory. */
struct http_profile *http_profile_new(struct http_server *srv, size_t max_body, int64_t idle_ms);

struct http_listen_opts {
    struct http_profile *profile;
    unsigned max_conns;          /* 0 = no cap */
    http_accept_filter_fn filter; /* may be NULL */
    void *filter_arg;
    http_screen_fn screen;       /* may be NULL; also refuses ambiguous framing at the head */
    void *screen_arg;
};

/* A request head parsed for screening (http_parse_head): the neutral request with its
 * header list, names lowercased into names[]. */
enum { HTTP_HEAD_MAX = 16384, HTTP_HEAD_HEADERS = 100 };
struct http_head {
    struct proto_req req;
    struct proto_hdr hdrs[HTTP_HEAD_HEADERS];
    char names[HTTP_HEAD_MAX];
    uint64_t declared;  /* Content-Length, HTTP_CHUNKED, or 0 */
    bool ambiguous;     /* two Content-Length headers, or one with Transfer-Encoding */
};

/*
 * Parses the head of an HTTP/1.x request (request line, header fields, blank line; lines end
 * in CRLF or LF) at the start of data (len bytes, untrusted, not NUL-terminated) into *h,
 * whose pointers then point into data and h->names. Returns the head's length, 0 while it is
 * incomplete (and shorter than HTTP_HEAD_MAX), or -1 when it is no request head, has more
 * than HTTP_HEAD_HEADERS fields or a Content-Length that is not a number. Pure; fuzzed.
 */
long http_parse_head(const char *data, size_t len, struct http_head *h);

/*
 * Listens on 127.0.0.1:port (0 = ephemeral) and routes its requests to fn(arg, req).
 * On success sets *out and *bound_port and returns 0; returns -1 with errno otherwise.
 */
int http_listen(struct http_server *srv, uint16_t port, const struct http_listen_opts *opts,
                http_handler_fn fn, void *arg, struct http_listener **out, uint16_t *bound_port);

/* Stops accepting on the listener and closes its socket. Requests still arriving on its
 * connections are answered 503. Accepts NULL. */
void http_listener_close(struct http_listener *l);

/* Open connections of a listener (for tests and /_haar/health). */
unsigned http_listener_conns(const struct http_listener *l);

/* Runs one loop turn, waiting at most max_wait_ms (-1: until something happens) for events,
 * then the timers and deferred calls (core/timer.h) that are due, inside h2o's turn so that
 * the answers they write go out in it. A timer that falls due during the wait runs in the
 * next call, which then does not wait. Returns 0, or -1 on error. */
int http_run(struct http_server *srv, int64_t max_wait_ms);

/*
 * Watches a readable fd (pipes, eventfds): on_data(arg, data, len) is called with what was
 * read; len 0 means EOF or error, after which the caller closes the watch. The watch owns the
 * fd. NULL on failure.
 */
struct http_watch *http_watch_fd(struct http_server *srv, int fd,
                                 void (*on_data)(void *arg, const char *data, size_t len),
                                 void *arg);
/* Stops watching and closes the fd; accepts NULL. Safe to call from inside on_data. */
void http_watch_close(struct http_watch *w);

/* The headers h2o consumed rebuilt as the client sent them (Host, Expect, Content-Length,
 * Transfer-Encoding), appended to the request's own: what a SigV4 signature may cover. Calls
 * fn for each header, in order. */
void http_each_header_as_sent(const struct proto_req *r,
                              void (*fn)(void *arg, const char *n, size_t nl, const char *v,
                                         size_t vl),
                              void *arg);

#endif
