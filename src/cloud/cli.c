#include "cloud/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "cloud/client.h"

#include "core/buf.h"
#include "core/json.h"

/* The daemon's /_haar/health document, or NULL. */
static json_t *health(struct client *c)
{
    struct client_reply r = {0};
    json_t *j = NULL;
    if (client_request(c, "GET", "/_haar/health", NULL, NULL, NULL, 0, &r) == 0 &&
        r.status == 200)
        j = client_reply_json(&r);
    buf_destroy(&r.body);
    return j;
}

static bool has_function(json_t *h, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(h, "lambda"), "functions"), i, f)
    {
        if (strcmp(jsonh_str(f, "name", ""), name) == 0)
            return true;
    }
    return false;
}

static int read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_append(out, chunk, n) != BUF_OK) {
            rc = -1;
            break;
        }
    fclose(f);
    return rc;
}

int cli_invoke(int argc, char **argv)
{
    const char *name = NULL, *payload = NULL, *endpoint = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--payload") == 0 && i + 1 < argc)
            payload = argv[++i];
        else if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
            endpoint = argv[++i];
        else if (argv[i][0] != '-' && name == NULL)
            name = argv[i];
        else {
            fprintf(stderr, "usage: haar invoke NAME [--payload JSON|@FILE] [--endpoint URL]\n");
            return 2;
        }
    }
    if (name == NULL) {
        fprintf(stderr, "usage: haar invoke NAME [--payload JSON|@FILE] [--endpoint URL]\n");
        return 2;
    }
    struct client c;
    if (client_init(&c, "invoke", endpoint, NULL) != 0)
        return 1;
    struct buf body;
    buf_init(&body, 64 * 1024 * 1024);
    if (payload != NULL && payload[0] == '@') {
        if (read_file(payload + 1, &body) != 0) {
            fprintf(stderr, "haar: cannot read %s\n", payload + 1);
            buf_destroy(&body);
            client_destroy(&c);
            return 2;
        }
    } else {
        buf_puts(&body, payload ? payload : "{}");
    }
    json_t *h = health(&c);
    if (h == NULL) {
        fprintf(stderr, "haar: no daemon answers at %s (is `haar up` running?)\n", c.endpoint);
        buf_destroy(&body);
        client_destroy(&c);
        return 1;
    }
    char full[256];
    snprintf(full, sizeof(full), "%s", name);
    if (!has_function(h, name)) {
        char expanded[256];
        snprintf(expanded, sizeof(expanded), "%s-%s-%s", jsonh_str(h, "project", "haar"),
                 jsonh_str(h, "environment", "dev"), name);
        if (has_function(h, expanded))
            snprintf(full, sizeof(full), "%s", expanded);
    }
    char path[512];
    snprintf(path, sizeof path, "/2015-03-31/functions/%s/invocations", full);
    static const char *const ct[] = {"Content-Type: application/json", NULL};
    struct client_reply r = {0};
    int rc = 1;
    client_set_region(&c, jsonh_str(h, "region", "us-east-1"));
    if (client_request(&c, "POST", path, "lambda", ct, body.data ? body.data : "", body.len,
                       &r) != 0) {
        fprintf(stderr, "haar: request to %s failed: %s\n", c.endpoint, c.err);
    } else if (r.status != 200) {
        /* as the AWS CLI words it: "An error occurred (Code): message" */
        json_t *doc = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
        const char *msg = jsonh_str(doc, "message", jsonh_str(doc, "Message", NULL));
        if (r.error_type[0] != '\0' && msg != NULL)
            fprintf(stderr, "haar: invoke %s: HTTP %ld: %s: %s\n", full, r.status, r.error_type,
                    msg);
        else
            fprintf(stderr, "haar: invoke %s: HTTP %ld: %.*s\n", full, r.status, (int)r.body.len,
                    r.body.data ? r.body.data : "");
        json_decref(doc);
    } else {
        fwrite(r.body.data ? r.body.data : "", 1, r.body.len, stdout);
        if (r.body.len == 0 || r.body.data[r.body.len - 1] != '\n')
            fputc('\n', stdout);
        rc = r.function_error ? 1 : 0;
    }
    json_decref(h);
    buf_destroy(&r.body);
    buf_destroy(&body);
    client_destroy(&c);
    return rc;
}

int cli_status(int argc, char **argv)
{
    const char *endpoint = NULL;
    bool as_json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
            endpoint = argv[++i];
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else {
            fprintf(stderr, "usage: haar status [--endpoint URL] [--json]\n");
            return 2;
        }
    }
    struct client c;
    if (client_init(&c, "status", endpoint, NULL) != 0)
        return 1;
    json_t *h = health(&c);
    if (h == NULL) {
        fprintf(stderr, "haar: no daemon answers at %s (is `haar up` running?)\n", c.endpoint);
        client_destroy(&c);
        return 1;
    }
    if (as_json) {
        char *s = json_dumps(h, JSON_INDENT(2));
        puts(s ? s : "{}");
        free(s);
        json_decref(h);
        client_destroy(&c);
        return 0;
    }
    printf("haar %s-%s (%s) at %s: %s\n", jsonh_str(h, "project", "?"),
           jsonh_str(h, "environment", "?"), jsonh_str(h, "region", "?"), c.endpoint,
           jsonh_str(h, "status", "?"));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(json_object_get(h, "lambda"), "functions"), i, f)
    {
        long long envs = 0, busy = 0, queued = 0, idle = 0;
        jsonh_int(f, "environments", &envs);
        jsonh_int(f, "in_flight", &busy);
        jsonh_int(f, "queued_events", &queued);
        jsonh_int(f, "idle", &idle);
        printf("  function %-32s %s  environments=%lld idle=%lld in_flight=%lld queued=%lld\n",
               jsonh_str(f, "name", "?"), jsonh_str(f, "state", "?"), envs, idle, busy, queued);
    }
    json_array_foreach(json_object_get(json_object_get(h, "sqs"), "queues"), i, f)
    {
        long long visible = 0, in_flight = 0, delayed = 0;
        jsonh_int(f, "visible", &visible);
        jsonh_int(f, "in_flight", &in_flight);
        jsonh_int(f, "delayed", &delayed);
        printf("  queue    %-32s visible=%lld in_flight=%lld delayed=%lld%s%s\n",
               jsonh_str(f, "name", "?"), visible, in_flight, delayed,
               json_object_get(f, "dlq") ? "  dlq=" : "", jsonh_str(f, "dlq", ""));
    }
    json_array_foreach(json_object_get(h, "event_source_mappings"), i, f)
    {
        long long pollers = 0, busy = 0, batches = 0, failures = 0;
        jsonh_int(f, "pollers", &pollers);
        jsonh_int(f, "in_flight", &busy);
        jsonh_int(f, "batches", &batches);
        jsonh_int(f, "failures", &failures);
        printf("  mapping  %s -> %s %s  pollers=%lld in_flight=%lld batches=%lld failures=%lld\n",
               jsonh_str(f, "source", "?"), jsonh_str(f, "function", "?"),
               jsonh_str(f, "state", "?"), pollers, busy, batches, failures);
    }
    json_decref(h);
    client_destroy(&c);
    return 0;
}
