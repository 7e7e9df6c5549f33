/*
 * proto_rest_int.h — what the Lambda REST adapter's files share (proto_rest.c: the route
 * table, functions and invocations; proto_rest_qual.c: versions, aliases, provisioned
 * concurrency, function URLs; proto_rest_layers.c: layers). Not for other modules.
 */
#ifndef HAAR_CLOUD_LAMBDA_PROTO_REST_INT_H
#define HAAR_CLOUD_LAMBDA_PROTO_REST_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/proto_rest.h"
#include "cloud/proto/proto.h"

/* One request as the dispatcher matched it: its route's captured path segments (raw, not
 * decoded), and for routes on a function the function resolved (its name, and the qualifier
 * the name or the Qualifier query carried, "" when none). */
struct rest_ctx {
    struct lambda_rest *rs;
    struct lambda *lm;
    struct proto_req *req;
    const char *seg[3];
    size_t segl[3];
    char name[80];
    char qual[140];
};

/* A command answered from its completion: ok renders the success (c->req is live). */
struct rest_call {
    struct proto_req *req; /* NULL once the client went away */
    struct lambda_rest *rs;
    struct lambda *lm;
    void (*ok)(struct rest_call *c);
    int status;
    char name[80];
    char qual[140];
    char version[16];          /* a version published by the command */
    char *text;                /* a statement added (malloc'd) */
    struct lambda_layer *layer; /* a layer version published */
    int value;
};

/* A call for req (registered as its gone handler); NULL after answering 500. */
struct rest_call *lambda_rest__call(struct rest_ctx *x, void (*ok)(struct rest_call *c),
                                    int status);
/* The engine's completion (lambda_op_fn): answers the error, or runs ok; frees c. */
void lambda_rest__done(void *arg, enum err e, const char *msg);

void lambda_rest__json(struct proto_req *req, int status, json_t *j); /* takes j */
void lambda_rest__empty(struct proto_req *req, int status);

/*
 * A paged list (the List* operations): the items after the request's Marker (a key; none or
 * "": from the first), at most MaxItems (its range checked by the model; absent or not a
 * positive number: the list's default), and NextMarker, the last item's key, when more follow.
 * The walk asks lambda_rest__page_wants for each item's key and appends the wanted ones.
 */
struct rest_page {
    const struct rest_ctx *x;
    json_t *items;
    char marker[256];
    char next[256];
    long max;
    /* keys are ListFunctions' "name:qualifier", walked in order: the page starts at the
     * first key after the marker (whose item may have gone); otherwise right after the
     * marker's own item */
    bool sorted;
    bool past, more;
};

void lambda_rest__page_init(struct rest_page *p, const struct rest_ctx *x, long max_default,
                            bool sorted);
/* Whether the item keyed key goes on the page (then the caller appends it to p->items):
 * false before the marker and once the page is full — p->more then says to stop the walk. */
bool lambda_rest__page_wants(struct rest_page *p, const char *key);
/* Answers 200 {list_name: the items, NextMarker}; the items go with it. */
void lambda_rest__page_send(struct rest_page *p, const char *list_name);

/* A path segment percent-decoded (twice when an SDK encoded it twice) into out (512 bytes):
 * its length or -1. */
long lambda_rest__segment(const char *seg, size_t len, char out[512]);

/* Checks the request against the model operation op (body: parsed or NULL; the path's
 * first segment is seg_member). false after answering the error. */
bool lambda_rest__model(struct rest_ctx *x, const char *op, const char *seg_member,
                        const json_t *body);

/* The FunctionConfiguration of fn (an alias shows its version's, with the alias's ARN);
 * qualified: FunctionArn carries $LATEST's qualifier too. New reference. */
json_t *lambda_rest__config(const struct lambda_rest *rs, struct lambda_fn *fn, bool qualified);

/* The function x names at x->qual, or NULL after answering AWS's 404 ("Function not found:
 * <arn>", or for an unknown alias "Cannot find alias arn: <arn>" when alias_msg). */
struct lambda_fn *lambda_rest__target(struct rest_ctx *x, bool alias_msg);

/* The presigned URL of a package (path under /_haar/lambda/code/) into out. */
void lambda_rest__code_url(const struct lambda_rest *rs, const char *what, char *out,
                           size_t outlen);

/* ---- proto_rest_qual.c ---- */
void lambda_rest__publish_version(struct rest_ctx *x);
void lambda_rest__list_versions(struct rest_ctx *x);
void lambda_rest__create_alias(struct rest_ctx *x);
void lambda_rest__get_alias(struct rest_ctx *x);
void lambda_rest__update_alias(struct rest_ctx *x);
void lambda_rest__delete_alias(struct rest_ctx *x);
void lambda_rest__list_aliases(struct rest_ctx *x);
void lambda_rest__put_pc(struct rest_ctx *x);
void lambda_rest__get_pc(struct rest_ctx *x);
void lambda_rest__delete_pc(struct rest_ctx *x);
void lambda_rest__list_pc(struct rest_ctx *x);
void lambda_rest__url(struct rest_ctx *x, const char *method); /* POST, GET, PUT, DELETE */
void lambda_rest__list_urls(struct rest_ctx *x);
/* The URL a function URL is served at ("http://<id>.lambda-url.<region>.localhost:<port>/"). */
void lambda_rest__url_string(const struct lambda_rest *rs, const char *id, char *out,
                             size_t outlen);

/* ---- proto_rest_layers.c ---- */
void lambda_rest__publish_layer(struct rest_ctx *x);
void lambda_rest__list_layer_versions(struct rest_ctx *x);
void lambda_rest__get_layer(struct rest_ctx *x);
void lambda_rest__delete_layer(struct rest_ctx *x);
void lambda_rest__list_layers(struct rest_ctx *x); /* and GetLayerVersionByArn */
void lambda_rest__layer_policy(struct rest_ctx *x, const char *method);
/* The layer list of a FunctionConfiguration: [{Arn, CodeSize}]. New reference. */
json_t *lambda_rest__layers_json(struct lambda *lm, const json_t *arns);

#endif
