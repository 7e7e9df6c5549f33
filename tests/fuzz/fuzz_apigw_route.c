/*
 * fuzz_apigw_route.c — the route table (route.c) and, on what it matches, the event writers
 * (event.c), on arbitrary route keys and requests.
 *
 * Input: lines split on '\n'. Lines up to the first empty one are route keys (each validated,
 * then added); the next line is "METHOD PATH[?QUERY]"; the lines after it are "Name:value"
 * headers (at most 16); the rest after an empty line is the body. The path goes through stage
 * selection (stages "prod" and "beta", with $default), matching, and both events; each event
 * must parse as JSON, and the matched parameters must be bounded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cloud/apigw/event.h"
#include "cloud/apigw/route.h"

#define MAX_FUZZ_HEADERS 16

static size_t next_line(const uint8_t *data, size_t size, size_t *pos, const char **out)
{
    size_t start = *pos, end = start;
    while (end < size && data[end] != '\n')
        end++;
    *out = (const char *)data + start;
    *pos = end < size ? end + 1 : size;
    return end - start;
}

static void check_event(struct buf *b)
{
    json_error_t je;
    json_t *j = json_loadb(b->data, b->len, JSON_ALLOW_NUL, &je);
    /* jansson cannot hold a NUL in an object key; "\u0000" in a key is still valid JSON */
    if (!json_is_object(j) && strstr(je.text, "NUL byte in object key") == NULL)
        abort();
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct apigw_routes *rt = apigw_routes_new();
    if (rt == NULL)
        return 0;
    size_t pos = 0;
    char msg[256];
    while (pos < size) {
        const char *line;
        size_t len = next_line(data, size, &pos, &line);
        if (len == 0)
            break;
        msg[0] = 'x';
        int v = apigw_route_key_validate(line, len, msg, sizeof msg);
        int a = apigw_routes_add(rt, line, len, rt, msg, sizeof msg);
        if (memchr(msg, '\0', sizeof msg) == NULL)
            abort();
        if (v != APIGW_OK && a != APIGW_ROUTE_EINVALID)
            abort(); /* add must refuse what validate refuses */
    }
    const char *rl;
    size_t rll = next_line(data, size, &pos, &rl);
    const char *sp = memchr(rl, ' ', rll);
    const char *method = rl;
    size_t ml = sp ? (size_t)(sp - rl) : rll;
    const char *target = sp ? sp + 1 : rl + rll;
    size_t tl = rll - (size_t)(target - rl);
    const char *q = memchr(target, '?', tl);
    size_t pl = q ? (size_t)(q - target) : tl;

    struct apigw_kv headers[MAX_FUZZ_HEADERS];
    size_t nh = 0;
    while (pos < size && nh < MAX_FUZZ_HEADERS) {
        const char *line;
        size_t len = next_line(data, size, &pos, &line);
        if (len == 0)
            break;
        const char *colon = memchr(line, ':', len);
        headers[nh].name = line;
        headers[nh].name_len = colon ? (size_t)(colon - line) : len;
        headers[nh].value = colon ? colon + 1 : line + len;
        headers[nh].value_len = colon ? len - (size_t)(colon - line) - 1 : 0;
        nh++;
    }

    static const char *const stages[] = {"prod", "beta"};
    const char *rest = NULL;
    size_t rest_len = 0;
    int st = apigw_stage_select(stages, 2, true, target, pl, &rest, &rest_len);
    if (st < -1 || st > 1 || rest == NULL || rest_len > (pl ? pl : 1))
        abort();
    struct apigw_match m;
    apigw_match_init(&m);
    enum apigw_route_status rs = apigw_routes_match(rt, method, ml, rest, rest_len, &m);
    if (rs == APIGW_ROUTE_FOUND && (m.route_key == NULL || m.target != rt ||
                                    m.nparams > APIGW_ROUTE_MAX_PARAMS))
        abort();
    for (size_t i = 0; rs == APIGW_ROUTE_FOUND && i < m.nparams; i++)
        if (m.params[i].value_len > pl || m.params[i].name == NULL)
            abort();

    struct apigw_request req = {
        .method = method,
        .method_len = ml,
        .path = target,
        .path_len = pl,
        .query = q ? q + 1 : NULL,
        .query_len = q ? tl - pl - 1 : 0,
        .headers = headers,
        .nheaders = nh,
        .body = data + pos,
        .body_len = size - pos,
        .source_ip = "127.0.0.1",
        .host = "h",
        .host_len = 1,
        .protocol = "HTTP/1.1",
        .time_ms = 1583348638390,
    };
    struct apigw_event_ctx ctx = {
        .account_id = "000000000000",
        .api_id = "api",
        .domain_name = "api.local",
        .domain_prefix = "api",
        .stage = st >= 0 ? stages[st] : "$default",
        .route_key = rs == APIGW_ROUTE_FOUND ? m.route_key : "$default",
        .resource = rs == APIGW_ROUTE_FOUND ? m.resource : "$default",
        .request_id = "rid",
        .forwarded_port = "443",
        .forwarded_proto = "https",
        .path_params = rs == APIGW_ROUTE_FOUND ? m.params : NULL,
        .npath_params = rs == APIGW_ROUTE_FOUND ? m.nparams : 0,
    };
    struct buf out;
    buf_init(&out, 1u << 24);
    int rc = apigw_event_v2(&req, &ctx, &out);
    if (rc == APIGW_OK)
        check_event(&out);
    else if (rc != APIGW_EBADESCAPE)
        abort();
    buf_reset(&out);
    rc = apigw_event_v1(&req, &ctx, &out);
    if (rc == APIGW_OK)
        check_event(&out);
    else if (rc != APIGW_EBADESCAPE)
        abort();
    buf_reset(&out);
    struct apigw_kv ident = {"x", 1, "v", 1};
    rc = apigw_event_authorizer_v2(&req, &ctx, "arn", &ident, 1, &out);
    if (rc == APIGW_OK)
        check_event(&out);
    buf_destroy(&out);
    apigw_match_destroy(&m);
    apigw_routes_free(rt);
    return 0;
}
