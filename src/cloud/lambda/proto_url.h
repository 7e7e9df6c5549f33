/*
 * proto_url.h — function URLs on the API port: a request addressed by Host
 * `<url-id>.lambda-url.<region>.localhost` (any port), or by path
 * `/_aws/lambda-url/<url-id>/<path>`, becomes a payload 2.0 event for the function or alias
 * whose URL has that id; the answer is the function's, mapped as a function URL maps it
 * (AWS-RECORDED.md §5: response inference, string status codes, 502 on error).
 *
 * AuthType AWS_IAM: the request must be SigV4-signed for the service "lambda" (the host's
 * verifier checks it; anything else is 403 {"Message":"Forbidden"}), and the caller shows in
 * requestContext.authorizer.iam. AuthType NONE: the function's (or alias's) resource policy
 * must let principal "*" call lambda:InvokeFunctionUrl with FunctionUrlAuthType NONE, as AWS
 * requires (AddPermission), else 403. The URL's Cors settings answer preflights and are added
 * to responses (src/cloud/apigw/cors.h).
 *
 * Loop thread only.
 */
#ifndef HAAR_CLOUD_LAMBDA_PROTO_URL_H
#define HAAR_CLOUD_LAMBDA_PROTO_URL_H

#include <stdbool.h>
#include <stdint.h>

#include "cloud/proto/proto.h"
#include "core/err.h"

struct lambda;

/* The host's SigV4 verifier (the router's): ERR_OK with req->caller filled, or an error. */
typedef enum err (*lambda_url_verify_fn)(void *arg, struct proto_req *req, char *msg,
                                         size_t msglen);

struct lambda_url_srv {
    struct lambda *lm;
    const char *region;
    uint16_t api_port;
    lambda_url_verify_fn verify;
    void *verify_arg;
};

/* Sets the server up (everything borrowed; region must outlive it). */
void lambda_url_srv_init(struct lambda_url_srv *u, struct lambda *lm, const char *region,
                         uint16_t api_port, lambda_url_verify_fn verify, void *verify_arg);

/* Is req addressed to a function URL (by its Host or its /_aws/lambda-url/ path)? */
bool lambda_url_request(const struct proto_req *req);

/* Serves a function URL request (an http handler; arg is a struct lambda_url_srv). */
void lambda_url_handle(void *arg, struct proto_req *req);

#endif
