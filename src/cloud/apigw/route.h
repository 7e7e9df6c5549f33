/*
 * route.h — an HTTP API's routes, compiled into a segment trie, and request matching as API
 * Gateway does it (AWS-CONTRACTS.md §2, "Routing").
 *
 * Stage first: apigw_stage_select picks the stage whose name is the path's first segment,
 * else `$default`. Then the route, by apigw_routes_match on the path after the stage:
 * at each segment a literal beats `{param}`, which beats a trailing greedy `{name+}`; a route
 * is chosen by its path first (the most specific one that has a route for the request's
 * method or for ANY), and at that path the method's own route beats ANY; when no path
 * matches, `$default` takes the request; else nothing matches (404 {"message":"Not Found"}).
 * Literal segments are compared with the percent-decoded request segment; parameter values
 * are percent-decoded ('+' stays '+'); a greedy value is the decoded rest of the path.
 * Matching visits each trie node at most once (a node sits at one depth), so it costs
 * O(path length) plus the nodes on the paths tried.
 *
 * A table is built once (apigw_routes_add per route) and then only read: matching is
 * thread-safe on a table nobody modifies; building is not.
 */
#ifndef HAAR_CLOUD_APIGW_ROUTE_H
#define HAAR_CLOUD_APIGW_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "cloud/apigw/request.h"
#include "core/buf.h"

enum {
    APIGW_ROUTE_EINVALID = -30, /* the route key is refused (msg says why) */
    APIGW_ROUTE_EEXISTS = -31,  /* a route with the same method and path exists */
};

enum { APIGW_ROUTE_MAX_PARAMS = 32 };

struct apigw_routes;

/* What apigw_routes_match found. Parameter names and route_key are borrowed from the table
 * (valid while it lives); parameter values live in `store` (owned by the match). */
struct apigw_match {
    void *target;          /* what apigw_routes_add was given */
    const char *route_key; /* NUL-terminated, as added ("GET /pets/{id}", "$default") */
    const char *resource;  /* the route's path ("/pets/{id}"), "$default" for $default */
    size_t nparams;
    struct apigw_kv params[APIGW_ROUTE_MAX_PARAMS];
    struct buf store;
};

enum apigw_route_status {
    APIGW_ROUTE_FOUND,
    APIGW_ROUTE_NOT_FOUND,
    APIGW_ROUTE_BAD_PATH, /* a '%' escape in the path does not decode */
    APIGW_ROUTE_NOMEM,
};

/*
 * Checks a route key as CreateRoute does: "$default", or METHOD (ANY, DELETE, GET, HEAD,
 * OPTIONS, PATCH, POST, PUT) + one space + a path that starts with '/', has no empty segment
 * and no trailing '/', whose `{name}` parameters fill whole segments, are unique, and whose
 * greedy `{name+}` is the last segment. Returns APIGW_OK or APIGW_ROUTE_EINVALID with the
 * BadRequestException message in msg (always NUL-terminated when msglen > 0).
 */
int apigw_route_key_validate(const char *key, size_t len, char *msg, size_t msglen);

/* A new empty table; NULL when out of memory. Free with apigw_routes_free (accepts NULL). */
struct apigw_routes *apigw_routes_new(void);
void apigw_routes_free(struct apigw_routes *rt);

/*
 * Adds a route. key is validated first (APIGW_ROUTE_EINVALID, msg filled); a second route
 * with the same method and the same path shape gives APIGW_ROUTE_EEXISTS (msg filled).
 * target is kept as given (borrowed). Returns APIGW_OK, those, or APIGW_ENOMEM.
 */
int apigw_routes_add(struct apigw_routes *rt, const char *key, size_t len, void *target, char *msg,
                     size_t msglen);

/* Number of routes added. */
size_t apigw_routes_count(const struct apigw_routes *rt);

/* Sets up an empty match (cannot fail); apigw_match_destroy frees its store (NULL ok). */
void apigw_match_init(struct apigw_match *m);
void apigw_match_destroy(struct apigw_match *m);

/*
 * Finds the route for method + path (the raw path after the stage, starting with '/').
 * On APIGW_ROUTE_FOUND m is filled; otherwise m holds no route (target NULL, nparams 0).
 * m may be reused across calls.
 */
enum apigw_route_status apigw_routes_match(const struct apigw_routes *rt, const char *method,
                                           size_t method_len, const char *path, size_t path_len,
                                           struct apigw_match *m);

/*
 * Stage selection. stages[] holds the API's named stages (NUL-terminated, not "$default");
 * has_default says whether a `$default` stage exists. Returns the index of the stage named
 * by the path's first segment (compared byte for byte) and sets *rest and *rest_len to the path
 * after it ("/" when nothing follows); else, with has_default, returns -1 with the whole
 * path as the rest; else -2 (404 {"message":"Not Found"}).
 */
int apigw_stage_select(const char *const *stages, size_t nstages, bool has_default,
                       const char *path, size_t path_len, const char **rest, size_t *rest_len);

#endif
