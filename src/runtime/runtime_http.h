/*
 * runtime_http.h — the runtime client's own small HTTP/1.1 client.
 *
 * Why not libcurl: the runtime client is on every invocation's path twice (GET /next, POST
 * /response); a prototype measured ≈ 20k req/s with one kept-alive blocking socket against
 * ≈ 10k with libcurl (DESIGN.md). This layer does exactly what a Lambda Runtime API needs:
 *
 *  - requests written with one sendmsg() (head + body iovecs), explicit Content-Length,
 *    never chunked, never Expect: 100-continue; a bodiless request may ride behind another
 *    in the same write (HTTP/1.1 pipelining: the runtime's GET /next behind its result);
 *  - responses parsed from bounded buffers: status line, headers (names matched
 *    case-insensitively), bodies delimited by Content-Length, chunked encoding or the
 *    connection's close; 1xx interim responses skipped;
 *  - one kept-alive connection, TCP_NODELAY, reopened when the server closed it, and a
 *    request that failed on a reused connection before any answer byte arrived is sent
 *    once more on a fresh one (as curl does);
 *  - optional deadlines (epoch ms) for connecting and for the whole request, which the AWS
 *    client of the functions sets from the invocation's remaining time (the Runtime API's
 *    GET /next sets none: it blocks until an event comes).
 *
 * The response parser reads through a callback (struct runtime_http_reader) so the fuzz
 * target and the tests feed it bytes exactly as the socket would.
 *
 * Nothing here is thread-safe: a connection, reader or response belongs to one thread.
 */
#ifndef HAAR_RUNTIME_HTTP_H
#define HAAR_RUNTIME_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/buf.h"

/* Results. Negative values are errors; RUNTIME_HTTP_ECLOSED alone means "the peer closed
 * the connection before sending any byte of the answer" (the retryable case). */
enum {
    RUNTIME_HTTP_OK = 0,
    RUNTIME_HTTP_EIO = -1,     /* socket error, or the peer closed mid-answer */
    RUNTIME_HTTP_ECLOSED = -2, /* clean close before the first byte of the answer */
    RUNTIME_HTTP_EPROTO = -3,  /* malformed answer */
    RUNTIME_HTTP_ETOOBIG = -4, /* head or body past its cap */
    RUNTIME_HTTP_ENOMEM = -5,
    RUNTIME_HTTP_ECONNECT = -6, /* could not resolve or connect */
    RUNTIME_HTTP_ETIMEOUT = -7, /* a deadline of the connection passed */
};

enum {
    RUNTIME_HTTP_MAX_HEAD = 16 * 1024,      /* status line + headers (+ chunk trailers) */
    RUNTIME_HTTP_MAX_HEADERS = 64,          /* header lines per answer */
    RUNTIME_HTTP_READ_SIZE = 64 * 1024,     /* the reusable read buffer */
    RUNTIME_HTTP_MAX_BODY = 8 * 1024 * 1024 /* default body cap: 6 MB events + slack */
};

/* A short human-readable name for a RUNTIME_HTTP_* result (static string). */
const char *runtime_http_strerror(int rc);

struct runtime_http_header {
    const char *name;  /* NUL-terminated, as received */
    size_t name_len;
    const char *value; /* NUL-terminated, surrounding blanks trimmed */
};

/* One parsed answer. Reused from request to request: its buffers keep their memory. */
struct runtime_http_response {
    int status;        /* 100..999 */
    int minor_version; /* HTTP/1.<minor> */
    bool close;        /* the server will close the connection after this answer */
    struct buf head;   /* owned copy of the head; header pointers point into it */
    struct runtime_http_header headers[RUNTIME_HTTP_MAX_HEADERS];
    size_t nheaders;
    struct buf body; /* the (de-chunked) body, NUL-terminated, capped at max_body */
};

/* Sets up an empty response whose body may grow to max_body bytes. Cannot fail. */
void runtime_http_response_init(struct runtime_http_response *res, size_t max_body);

/* Frees the response's buffers; accepts NULL. */
void runtime_http_response_destroy(struct runtime_http_response *res);

/* The value of the first header called `name` (ASCII case-insensitive), or NULL. The
 * pointer is borrowed from the response and valid until its next use. */
const char *runtime_http_header(const struct runtime_http_response *res, const char *name);

/* A byte source: returns > 0 bytes read into p (at most n), 0 at end of stream, < 0 on
 * error. Blocking; it must not return 0 except at end of stream. */
typedef ssize_t (*runtime_http_read_fn)(void *ctx, char *p, size_t n);

/* Buffered reader over a byte source. Bytes read past one answer stay for the next. */
struct runtime_http_reader {
    runtime_http_read_fn read;
    void *ctx;
    char *in; /* RUNTIME_HTTP_READ_SIZE bytes, owned */
    size_t pos, len;
    uint64_t total; /* bytes the source gave so far */
};

/* Sets the reader up over `read`. Returns RUNTIME_HTTP_OK or RUNTIME_HTTP_ENOMEM. */
int runtime_http_reader_init(struct runtime_http_reader *rd, runtime_http_read_fn read, void *ctx);

/* Frees the read buffer; accepts NULL. */
void runtime_http_reader_destroy(struct runtime_http_reader *rd);

/* Drops any buffered bytes (after a reconnect). */
void runtime_http_reader_reset(struct runtime_http_reader *rd);

/* Reads one complete answer into res (cleared first). `head_only_body` is true when the
 * request was HEAD (no body follows whatever the headers say). Returns RUNTIME_HTTP_OK,
 * or an error; after an error the stream position is undefined (close the connection).
 * Never reads past the cap of the head or body buffers. */
int runtime_http_read_response(struct runtime_http_reader *rd, struct runtime_http_response *res,
                               bool head_only_body);

/* One kept-alive client connection to host:port. */
struct runtime_http_conn {
    char hostport[256]; /* as given: sent as the Host header */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    int fd; /* -1 while closed */
    struct runtime_http_reader rd;
    struct buf req;         /* reusable request head */
    unsigned long connects; /* successful connects so far (for tests and stats) */
    unsigned long requests; /* requests sent */
    /* Deadlines, epoch ms of CLOCK_REALTIME (0: none): connecting must finish by
     * connect_deadline_ms, and each request (connect, send, answer) by deadline_ms. Set by
     * the caller before a request; RUNTIME_HTTP_ETIMEOUT when one passes. */
    int64_t connect_deadline_ms;
    int64_t deadline_ms;
    bool timed_out;   /* the last request ended on a deadline */
    bool pending;     /* a pipelined request was sent and its answer is still unread */
    size_t req_split; /* c->req holds the request's head up to here, a pipelined one after */
    /* The answer to a request with another pipelined behind it (the runtime's 202 to its
     * result) is of no use before the next one starts (its next event). The bytes the last
     * such answer took, when it was a 2xx (0: none yet, or it was not), become plus one the
     * socket's receive low-water mark (SO_RCVLOWAT) for the first read of the next, so the
     * process sleeps through the 202 and wakes once, when the event arrives. A bigger
     * answer (an error's JSON) still wakes it at once, and a connection's end always does;
     * an answer no longer than the last 2xx waits for the event. Every other read has the
     * mark at 1; the mark is set only when it changes (lowat_now), so a function going
     * from event to event (one read each) keeps the learned mark and sets it once. */
    size_t then_answer_len;
    int lowat_once; /* > 1: the next socket read waits for this many bytes */
    int lowat_now;  /* the socket's mark as last set (1 when it is opened) */
    unsigned lowat_sets; /* setsockopt calls made for the mark (tests count them) */
};

/* Resolves "host:port" ("[v6addr]:port" too) and prepares a closed connection. Does not
 * connect yet. Returns RUNTIME_HTTP_OK, RUNTIME_HTTP_ECONNECT (bad or unresolvable
 * address) or RUNTIME_HTTP_ENOMEM. */
int runtime_http_conn_init(struct runtime_http_conn *c, const char *hostport);

/* Closes the socket and frees the buffers; accepts NULL. */
void runtime_http_conn_destroy(struct runtime_http_conn *c);

/* Closes the socket if open; the next request reconnects. */
void runtime_http_conn_close(struct runtime_http_conn *c);

/* Sends `method path` with optional extra header lines (`extra`, each "Name: value\r\n",
 * may be NULL) and an optional body (a Content-Length is always sent for POST/PUT), then
 * reads the answer into res. Connects first when needed; retries once on a fresh
 * connection if a reused one turned out dead. Returns RUNTIME_HTTP_OK whatever the status
 * code (check res->status), or an error (the connection is then closed):
 * RUNTIME_HTTP_ETIMEOUT when a deadline of the connection passed. */
int runtime_http_request(struct runtime_http_conn *c, const char *method, const char *path,
                         const char *extra, const char *content_type, const void *body,
                         size_t body_len, struct runtime_http_response *res);

/* runtime_http_request, with a bodiless `then_method then_path` request pipelined behind it
 * in the same write (RFC 9112 §9.3: answers come in request order). Reads the first answer
 * into res. On RUNTIME_HTTP_OK c->pending tells whether the second request is still
 * standing (read its answer with runtime_http_await); it is not when the first answer
 * closed the connection, and the caller sends it again. The Lambda runtime posts a result
 * with GET /next behind it: one write and one wake-up fewer per invocation. */
int runtime_http_request_then(struct runtime_http_conn *c, const char *method, const char *path,
                              const char *extra, const char *content_type, const void *body,
                              size_t body_len, struct runtime_http_response *res,
                              const char *then_method, const char *then_path);

/* Reads the answer to the pipelined request into res. RUNTIME_HTTP_ECLOSED when none is
 * pending or the server closed the connection before its first byte (send it again);
 * other errors close the connection. */
int runtime_http_await(struct runtime_http_conn *c, struct runtime_http_response *res);

#endif
