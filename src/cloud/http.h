/*
 * http.h — the daemon's HTTP server and event loop, wrapping h2o 2.2 (evloop).
 *
 * This is the only module that includes <h2o.h>. Everything runs on one thread: the loop
 * that http_run drives. Handlers receive an http_req; they may answer at once
 * (http_respond) or park the request and answer later from any loop callback. A parked
 * request whose client goes away triggers its on_gone callback (set with http_req_on_gone)
 * and must then be forgotten; after http_respond the http_req must be forgotten too.
 * Request bodies are buffered by h2o up to the server's max_body (bigger bodies are
 * refused by h2o with 413 while being read). Responses always carry Content-Length.
 * Not thread-safe.
 */
#ifndef HAAR_CLOUD_HTTP_H
#define HAAR_CLOUD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_server;
struct http_listener;
struct http_req;
struct http_watch;

typedef void (*http_handler_fn)(void *arg, struct http_req *req);

struct http_hdr {
    const char *name;
    const char *value;
    size_t value_len; /* 0 means strlen(value) */
};

/* Creates the loop and server. max_body caps every request entity. NULL on failure. */
struct http_server *http_server_new(size_t max_body);

/* Closes every listener and frees the server's own memory; accepts NULL. Call last: no
 * http_listener or http_req may be used afterwards. */
void http_server_free(struct http_server *srv);

/*
 * Listens on 127.0.0.1:port (0 = ephemeral) and routes its requests to fn(arg, req).
 * On success sets *out and *bound_port and returns 0; returns -1 with errno otherwise.
 */
int http_listen(struct http_server *srv, uint16_t port, http_handler_fn fn, void *arg,
                struct http_listener **out, uint16_t *bound_port);

/* Stops accepting on the listener and closes its socket. Requests already received on its
 * connections are answered 503 from then on. Accepts NULL. */
void http_listener_close(struct http_listener *l);

/* Runs one loop turn, waiting at most max_wait_ms for events. Returns 0, or -1 on error. */
int http_run(struct http_server *srv, int max_wait_ms);

/* Request accessors. Pointers are borrowed, valid until the request is answered or gone;
 * none is NUL-terminated. path is the raw request target (query included). */
const char *http_req_method(const struct http_req *r, size_t *len);
const char *http_req_path(const struct http_req *r, size_t *len);
const char *http_req_body(const struct http_req *r, size_t *len);
/* Case-insensitive header lookup (first occurrence); NULL when absent. */
const char *http_req_header(const struct http_req *r, const char *name, size_t *len);
/* Calls fn(arg, name, name_len, value, value_len) for each header, in order. */
void http_req_each_header(const struct http_req *r,
                          void (*fn)(void *arg, const char *n, size_t nl, const char *v, size_t vl),
                          void *arg);
/* Like http_req_each_header, plus the headers h2o consumed, as the client sent them:
 * Host (the authority), Expect, Content-Length, Transfer-Encoding. What a signature
 * covers (SigV4 signs them when the client chose to). Only the headers absent from the
 * list are added, so a client that did not send one is given a value it never signed —
 * harmless for a signature check, which reads only the signed names. */
void http_req_each_header_as_sent(struct http_req *r,
                                  void (*fn)(void *arg, const char *n, size_t nl, const char *v,
                                             size_t vl),
                                  void *arg);
/* The peer's IPv4 address as text into out (at least 16 bytes). */
void http_req_peer(const struct http_req *r, char *out, size_t outlen);

/* Registers fn(arg) to run if the request is dropped (client gone) before an answer. */
void http_req_on_gone(struct http_req *r, void (*fn)(void *arg), void *arg);

/* Answers the request: status, headers, and a body that is copied. After this call the
 * http_req must not be used. */
void http_respond(struct http_req *r, int status, const struct http_hdr *hdrs, size_t nhdrs,
                  const void *body, size_t len);

/*
 * Watches a readable fd (pipes, signalfd): on_data(arg, data, len) is called with what was
 * read; len 0 means EOF or error, after which the watch is closed by the caller with
 * http_watch_close. The watch owns the fd. NULL on failure.
 */
struct http_watch *http_watch_fd(struct http_server *srv, int fd,
                                 void (*on_data)(void *arg, const char *data, size_t len),
                                 void *arg);
/* Stops watching and closes the fd; accepts NULL. Safe to call from inside on_data. */
void http_watch_close(struct http_watch *w);

#endif
