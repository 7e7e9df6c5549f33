/*
 * config.c — reads and validates an environment's terraform.tfvars.json (see config.h).
 *
 * The schema is data: the field tables below (SCHEMA and the per-section tables) name
 * every key, its JSON type, where it is stored, its range and, for optional keys, its
 * default. Validation runs in three passes, each stopping at the first error:
 *   1. jansson parses the text (duplicate keys rejected; errors give line:column);
 *   2. parse_section() walks the tables: unknown keys, missing required keys, wrong
 *      types, per-key ranges and formats;
 *   3. the CROSS_CHECKS table: rules that involve several keys (6 × timeout, ...).
 * Every error is one line: "<path>: <key.path>: <what is wrong>" (syntax errors:
 * "<path>:<line>:<column>: ..."). Key paths use dots and [i] for array items.
 *
 * Optional keys and their defaults (everything else is required):
 *   tags {}                          kms_enabled false
 *   tracing_enabled false
 *   api.cors_allow_origins []        api.access_log_enabled false
 *   api.jwt_authorizer (section)     enabled false, issuer "", audience []
 *   table (whole section)            table.point_in_time_recovery false,
 *                                    table.ttl_attribute "expires_at",
 *                                    table.deletion_protection false
 *   schedule.enabled true            schedule.tasks []
 *   functions.*.reserved_concurrency -1 (unreserved)
 *   functions.worker.batch_size 10, .max_batching_window_seconds 0,
 *                    .max_concurrency 1000 (AWS's defaults for an SQS event source)
 *   functions.producer.max_retry_attempts 2, .max_event_age_seconds 3600
 *   deploy.architecture "arm64"      deploy.package_type "Zip"
 *   deploy.github_branch "main"      deploy.ecr_keep_images 20
 *   deploy.account_concurrency_limit 1000
 *   deploy.protected false           deploy.traffic_shifting "AllAtOnce"
 *   network (whole section)          vpc_enabled false, subnet_ids [], security_group_ids []
 *   domain (whole section)           enabled false, name "", zone_id ""
 *   alarms (whole section)           enabled true, email_endpoints [], api_p99_latency_ms
 *                                    2000, queue_oldest_message_age_seconds 900
 *   emulator (whole section)         account_concurrency_limit 1000,
 *                                    idle_environment_seconds 300, code_storage_mb 76800,
 *                                    strict_runtimes false
 * JSON null is never taken as "absent": a key is either left out or has its type.
 */
#include "cloud/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud/events/schedule.h"
#include "core/buf.h"

#define CONFIG_MAX_FILE  (1024 * 1024) /* a tfvars file is a few KB; refuse anything huge */
#define CONFIG_MAX_PATH  256           /* key path kept for messages (truncated past this) */
#define CONFIG_MAX_QUOTE 64            /* user strings quoted in messages are cut to this */

/* ------------------------------------------------------------------------------------ */
/* Error reporting                                                                       */

struct ctx {
    const char *file; /* names the document in messages */
    char *err;        /* caller's buffer, may be NULL */
    size_t errlen;
    char path[CONFIG_MAX_PATH]; /* current key path, e.g. "functions.worker.batch_size" */
    size_t pathlen;
};

/* Replaces control characters so that a message is always exactly one line. */
static void one_line(char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

static void path_putc(struct ctx *c, char ch)
{
    if (c->pathlen + 1 < sizeof c->path) {
        c->path[c->pathlen++] = ch;
        c->path[c->pathlen] = '\0';
    }
}

/* Appends ".key" (or "key" at the top) to the path, escaping control characters.
 * Returns the previous length, to hand to path_pop. */
static size_t path_push_key(struct ctx *c, const char *key)
{
    size_t old = c->pathlen;
    static const char hex[] = "0123456789abcdef";
    if (c->pathlen > 0)
        path_putc(c, '.');
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            path_putc(c, '\\');
            path_putc(c, 'x');
            path_putc(c, hex[*p >> 4]);
            path_putc(c, hex[*p & 15]);
        } else {
            path_putc(c, (char)*p);
        }
    }
    return old;
}

static size_t path_push_index(struct ctx *c, size_t i)
{
    size_t old = c->pathlen;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "[%zu]", i);
    for (const char *p = tmp; *p != '\0'; p++)
        path_putc(c, *p);
    return old;
}

static void path_pop(struct ctx *c, size_t old)
{
    c->pathlen = old;
    c->path[old] = '\0';
}

static void path_set(struct ctx *c, const char *path)
{
    c->pathlen = 0;
    c->path[0] = '\0';
    for (const char *p = path; *p != '\0'; p++)
        path_putc(c, *p);
}

/* Writes "<file>: <path>: <message>" into the caller's buffer. Always returns -1. */
__attribute__((format(printf, 2, 3))) static int fail(struct ctx *c, const char *fmt, ...)
{
    if (c->err == NULL || c->errlen == 0)
        return -1;
    int n = snprintf(c->err, c->errlen, "%s: %s: ", c->file, c->pathlen ? c->path : "(root)");
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    one_line(c->err);
    return -1;
}

/* Same, at an explicit key path (cross-field checks). */
#define fail_at(c, path, ...) (path_set((c), (path)), fail((c), __VA_ARGS__))

/* Quotes user text for a message: "text", escaped, cut to CONFIG_MAX_QUOTE bytes. */
static const char *quote(char *out, size_t outlen, const char *s)
{
    size_t o = 0;
    size_t i = 0;
    if (outlen < 8)
        return "";
    out[o++] = '"';
    for (; s[i] != '\0' && i < CONFIG_MAX_QUOTE && o + 6 < outlen; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
            int n = snprintf(out + o, outlen - o, ch == '"' || ch == '\\' ? "\\%c" : "\\x%02x", ch);
            o += (size_t)n;
        } else {
            out[o++] = (char)ch;
        }
    }
    if (s[i] != '\0' && o + 4 < outlen) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

#define QBUF (CONFIG_MAX_QUOTE * 4 + 16)

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

static int fail_type(struct ctx *c, const char *want, const json_t *v)
{
    return fail(c, "expected %s, got %s", want, type_name(v));
}

/* ------------------------------------------------------------------------------------ */
/* Formats of string values                                                              */

typedef int (*str_check_fn)(struct ctx *c, const char *s);

static bool in_set(char ch, const char *set)
{
    return ch != '\0' && strchr(set, ch) != NULL;
}

static bool is_lower_digit(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_alnum(char ch)
{
    return is_lower_digit(ch) || (ch >= 'A' && ch <= 'Z');
}

/* project, environment: they become parts of every resource name. */
static int check_name_part(struct ctx *c, const char *s)
{
    char q[QBUF];
    for (const char *p = s; *p != '\0'; p++)
        if (!is_lower_digit(*p) && *p != '-')
            return fail(c, "%s may contain only a-z, 0-9 and \"-\"", quote(q, sizeof q, s));
    if (s[0] == '-' || s[strlen(s) - 1] == '-')
        return fail(c, "%s must not begin or end with \"-\"", quote(q, sizeof q, s));
    return 0;
}

/* "eu-west-1", "us-gov-west-1", "ap-southeast-2": two letters, one or two lowercase words,
 * a number of one or two digits, joined by hyphens. */
static int check_region(struct ctx *c, const char *s)
{
    char q[QBUF];
    const char *p = s;
    int words = 0;
    if (!(p[0] >= 'a' && p[0] <= 'z' && p[1] >= 'a' && p[1] <= 'z' && p[2] == '-'))
        goto bad;
    p += 3;
    for (;;) {
        const char *w = p;
        while (*p >= 'a' && *p <= 'z')
            p++;
        if (p == w || *p != '-')
            break;
        words++;
        p++;
    }
    if (words < 1 || words > 2)
        goto bad;
    if (!(p[0] >= '1' && p[0] <= '9') ||
        !(p[1] == '\0' || (p[1] >= '0' && p[1] <= '9' && p[2] == '\0')))
        goto bad;
    return 0;
bad:
    return fail(c, "%s does not look like an AWS region (e.g. eu-west-1)", quote(q, sizeof q, s));
}

static int check_ttl_attribute(struct ctx *c, const char *s)
{
    char q[QBUF];
    for (const char *p = s; *p != '\0'; p++)
        if (!is_alnum(*p) && !in_set(*p, "_.-"))
            return fail(c, "%s may contain only letters, digits, \"_\", \".\" and \"-\"",
                        quote(q, sizeof q, s));
    return 0;
}

/* GitHub: owner is 1..39 of [A-Za-z0-9-], the repository name 1..100 of [A-Za-z0-9._-]. */
static int check_github_repository(struct ctx *c, const char *s)
{
    char q[QBUF];
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash == s || slash - s > 39 || slash[1] == '\0' ||
        strlen(slash + 1) > 100)
        return fail(c, "%s must be \"owner/name\"", quote(q, sizeof q, s));
    for (const char *p = s; p < slash; p++)
        if (!is_alnum(*p) && *p != '-')
            return fail(c, "%s: the owner may contain only letters, digits and \"-\"",
                        quote(q, sizeof q, s));
    for (const char *p = slash + 1; *p != '\0'; p++)
        if (!is_alnum(*p) && !in_set(*p, "._-"))
            return fail(c, "%s: the name may contain only letters, digits, \".\", \"_\" and \"-\"",
                        quote(q, sizeof q, s));
    return 0;
}

/* The parts of git's ref-name rules that matter for a branch in an OIDC subject. */
static int check_branch(struct ctx *c, const char *s)
{
    char q[QBUF];
    for (const char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || in_set(*p, "~^:?*[\\"))
            return fail(c, "%s is not a valid git branch name", quote(q, sizeof q, s));
    if (s[0] == '-' || s[0] == '/' || strstr(s, "..") != NULL || s[strlen(s) - 1] == '/')
        return fail(c, "%s is not a valid git branch name", quote(q, sizeof q, s));
    return 0;
}

/* API Gateway CORS allowOrigins: "*" or "scheme://host[:port]". */
static int check_origin(struct ctx *c, const char *s)
{
    char q[QBUF];
    const char *host = NULL;
    if (strcmp(s, "*") == 0)
        return 0;
    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    if (host == NULL || *host == '\0')
        goto bad;
    for (const char *p = host; *p != '\0'; p++)
        if (!is_alnum(*p) && !in_set(*p, ".-:*"))
            goto bad;
    return 0;
bad:
    return fail(c, "%s must be \"*\" or an origin like https://example.com", quote(q, sizeof q, s));
}

static int check_prefixed_hex(struct ctx *c, const char *s, const char *prefix)
{
    char q[QBUF];
    size_t n = strlen(prefix);
    const char *p = s + n;
    if (strncmp(s, prefix, n) != 0 || *p == '\0')
        goto bad;
    for (; *p != '\0'; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            goto bad;
    return 0;
bad:
    return fail(c, "%s is not an id of the form %s<hex>", quote(q, sizeof q, s), prefix);
}

static int check_subnet(struct ctx *c, const char *s)
{
    return check_prefixed_hex(c, s, "subnet-");
}

static int check_security_group(struct ctx *c, const char *s)
{
    return check_prefixed_hex(c, s, "sg-");
}

/* A DNS name: labels of [a-z0-9-] (1..63, no hyphen at either end), at least two. Empty
 * is allowed here; the cross-check requires a name when the domain is enabled. */
static int check_domain_name(struct ctx *c, const char *s)
{
    char q[QBUF];
    int labels = 0;
    const char *p = s;
    if (*s == '\0')
        return 0;
    for (;;) {
        const char *start = p;
        while (is_lower_digit(*p) || *p == '-')
            p++;
        size_t n = (size_t)(p - start);
        if (n == 0 || n > 63 || start[0] == '-' || p[-1] == '-')
            goto bad;
        labels++;
        if (*p == '\0')
            break;
        if (*p != '.')
            goto bad;
        p++;
    }
    if (labels < 2)
        goto bad;
    return 0;
bad:
    return fail(c, "%s is not a lowercase DNS name like api.example.com", quote(q, sizeof q, s));
}

static int check_zone_id(struct ctx *c, const char *s)
{
    char q[QBUF];
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            return fail(c, "%s is not a Route 53 hosted zone id (A-Z, 0-9)", quote(q, sizeof q, s));
    return 0;
}

/* A JWT issuer: "https://host[:port][/path]", the path printable ASCII without spaces
 * (infra/envs/_shared/variables.tf: ^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[!-~]*)?$). Empty is
 * allowed here; the cross-check requires an issuer when the authorizer is enabled. */
static int check_issuer(struct ctx *c, const char *s)
{
    char q[QBUF];
    const char *p = s + 8;
    if (*s == '\0')
        return 0;
    if (strncmp(s, "https://", 8) != 0)
        goto bad;
    const char *host = p;
    while (is_alnum(*p) || in_set(*p, ".-"))
        p++;
    if (p == host)
        goto bad;
    if (*p == ':') {
        const char *port = ++p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == port)
            goto bad;
    }
    if (*p != '\0' && *p != '/')
        goto bad;
    for (; *p != '\0'; p++)
        if (*p < '!' || *p > '~')
            goto bad;
    return 0;
bad:
    return fail(c, "%s must be an https URL like https://auth.example.com/", quote(q, sizeof q, s));
}

/* A JWT audience entry: printable ASCII without spaces. */
static int check_audience(struct ctx *c, const char *s)
{
    char q[QBUF];
    for (const char *p = s; *p != '\0'; p++)
        if (*p < '!' || *p > '~')
            return fail(c, "%s may contain only printable ASCII characters without spaces",
                        quote(q, sizeof q, s));
    return 0;
}

/* An e-mail address for an SNS subscription: local@domain.tld, as variables.tf's
 * ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$. */
static int check_email(struct ctx *c, const char *s)
{
    char q[QBUF];
    const char *at = strchr(s, '@');
    const char *dot = strrchr(s, '.');
    if (at == NULL || at == s || dot == NULL || dot < at + 2 || strlen(dot + 1) < 2)
        goto bad;
    for (const char *p = s; p < at; p++)
        if (!is_alnum(*p) && !in_set(*p, "._%+-"))
            goto bad;
    for (const char *p = at + 1; p < dot; p++)
        if (!is_alnum(*p) && !in_set(*p, ".-"))
            goto bad;
    for (const char *p = dot + 1; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            goto bad;
    return 0;
bad:
    return fail(c, "%s is not an e-mail address like ops@example.com", quote(q, sizeof q, s));
}

/* A schedule expression, checked by the EventBridge schedule parser itself, so that config
 * accepts exactly what PutRule accepts. Its detail reads after the quoted expression. */
static int check_schedule(struct ctx *c, const char *s)
{
    char q[QBUF], detail[256];
    if (events_schedule_parse(s, strlen(s), NULL, detail, sizeof detail) == 0)
        return 0;
    return fail(c, "%s%s%s", quote(q, sizeof q, s), strncmp(detail, "must ", 5) == 0 ? " " : ": ",
                detail);
}

/* Task kinds name C functions in the worker's registry: short lowercase identifiers. */
static int check_kind(struct ctx *c, const char *s)
{
    char q[QBUF];
    for (const char *p = s; *p != '\0'; p++)
        if (!is_lower_digit(*p) && !in_set(*p, "_-"))
            return fail(c, "%s may contain only a-z, 0-9, \"_\" and \"-\"", quote(q, sizeof q, s));
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* The schema                                                                            */

enum ftype {
    FT_INT,     /* int; range min..max, or one of `set` */
    FT_BOOL,    /* bool */
    FT_STR,     /* char * (owned); length min..max, one of `choices`, then `check` */
    FT_SECTION, /* object described by `children`; `off` shifts their offsets */
    FT_STRMAP,  /* json_t * object of string → string (AWS tags); at most max entries */
    FT_STRLIST, /* json_t * array of non-empty strings, each passing `check`; at most max */
    FT_TASKS,   /* json_t * array of {"kind": string, "payload": object}; at most max */
};

struct field {
    const char *key; /* NULL ends a table */
    enum ftype type;
    size_t off;                   /* where the value is stored, from the section's base */
    bool optional;                /* absent → default (below) */
    long long min, max;           /* see enum ftype */
    long long def;                /* FT_INT, FT_BOOL default */
    const char *def_str;          /* FT_STR default */
    const struct field *children; /* FT_SECTION */
    const char *const *choices;   /* FT_STR: NULL-terminated allowed values */
    const int *set;               /* FT_INT: allowed values (nset of them) */
    size_t nset;
    str_check_fn check; /* FT_STR, and each FT_STRLIST item */
};

#define OFF(member)  offsetof(struct config, member)
#define FOFF(member) offsetof(struct config_function, member)
#define FN_BASE(i)   (offsetof(struct config, functions) + (i) * sizeof(struct config_function))

/* clang-format off */
#define INT_REQ(k, o, lo, hi) {.key = k, .type = FT_INT, .off = o, .min = lo, .max = hi}
#define INT_OPT(k, o, lo, hi, d) \
    {.key = k, .type = FT_INT, .off = o, .optional = true, .min = lo, .max = hi, .def = d}
#define BOOL_OPT(k, o, d) {.key = k, .type = FT_BOOL, .off = o, .optional = true, .def = d}
#define STR_REQ(k, o, lo, hi, fn) \
    {.key = k, .type = FT_STR, .off = o, .min = lo, .max = hi, .check = fn}
#define STR_OPT(k, o, lo, hi, d, fn) \
    {.key = k, .type = FT_STR, .off = o, .optional = true, .min = lo, .max = hi, .def_str = d, \
     .check = fn}
#define SECTION(k, o, opt, tbl) \
    {.key = k, .type = FT_SECTION, .off = o, .optional = opt, .children = tbl}
#define LIST_OPT(k, o, n, fn) \
    {.key = k, .type = FT_STRLIST, .off = o, .optional = true, .max = n, .check = fn}
#define ENUM_OPT(k, o, d, values) \
    {.key = k, .type = FT_STR, .off = o, .optional = true, .min = 1, .max = 64, .def_str = d, \
     .choices = values}
#define SET_REQ(k, o, values) \
    {.key = k, .type = FT_INT, .off = o, .set = values, .nset = sizeof values / sizeof values[0]}
#define END {.key = NULL}
/* clang-format on */

/* CloudWatch Logs PutRetentionPolicy's allowed values (0, "never expire", is not offered). */
static const int LOG_RETENTION_DAYS[] = {1,    3,    5,    7,    14,   30,  60,  90,
                                         120,  150,  180,  365,  400,  545, 731, 1096,
                                         1827, 2192, 2557, 2922, 3288, 3653};
static const char *const ARCHITECTURES[] = {"arm64", "x86_64", NULL};
static const char *const PACKAGE_TYPES[] = {"Zip", "Image", NULL};
/* "AllAtOnce": Terraform moves each function's live alias; the others are CodeDeploy's
 * predefined Lambda deployment configurations (CodeDeployDefault.Lambda<name>). */
static const char *const TRAFFIC_SHIFTING[] = {"AllAtOnce",
                                               "Canary10Percent5Minutes",
                                               "Canary10Percent10Minutes",
                                               "Canary10Percent15Minutes",
                                               "Canary10Percent30Minutes",
                                               "Linear10PercentEvery1Minute",
                                               "Linear10PercentEvery2Minutes",
                                               "Linear10PercentEvery3Minutes",
                                               "Linear10PercentEvery10Minutes",
                                               NULL};

#define FN_COMMON_FIELDS                                                                           \
    INT_REQ("memory_mb", FOFF(memory_mb), 128, 10240),                                             \
        INT_REQ("timeout_seconds", FOFF(timeout_seconds), 1, 900),                                 \
        INT_OPT("reserved_concurrency", FOFF(reserved_concurrency), -1, 100000, -1)

static const struct field FN_FIELDS[] = {FN_COMMON_FIELDS, END};

static const struct field WORKER_FIELDS[] = {
    FN_COMMON_FIELDS,
    INT_OPT("batch_size", FOFF(batch_size), 1, 10000, 10),
    INT_OPT("max_batching_window_seconds", FOFF(max_batching_window_seconds), 0, 300, 0),
    INT_OPT("max_concurrency", FOFF(max_concurrency), 2, 1000, 1000),
    END,
};

/* The producer is invoked asynchronously (by the schedule): Lambda retries a failed event up
 * to max_retry_attempts times within max_event_age_seconds, then sends it to the failure
 * destination. */
static const struct field PRODUCER_FIELDS[] = {
    FN_COMMON_FIELDS,
    INT_OPT("max_retry_attempts", FOFF(max_retry_attempts), 0, 2, 2),
    INT_OPT("max_event_age_seconds", FOFF(max_event_age_seconds), 60, 21600, 3600),
    END,
};

static const struct field FUNCTIONS_FIELDS[] = {
    SECTION("api", FN_BASE(CONFIG_FN_API), false, FN_FIELDS),
    SECTION("worker", FN_BASE(CONFIG_FN_WORKER), false, WORKER_FIELDS),
    SECTION("producer", FN_BASE(CONFIG_FN_PRODUCER), false, PRODUCER_FIELDS),
    END,
};

static const struct field JWT_FIELDS[] = {
    BOOL_OPT("enabled", OFF(api.jwt_authorizer.enabled), false),
    STR_OPT("issuer", OFF(api.jwt_authorizer.issuer), 0, 2048, "", check_issuer),
    LIST_OPT("audience", OFF(api.jwt_authorizer.audience), 10, check_audience),
    END,
};

static const struct field API_FIELDS[] = {
    INT_REQ("throttling_rate_limit", OFF(api.throttling_rate_limit), 0, 1000000),
    INT_REQ("throttling_burst_limit", OFF(api.throttling_burst_limit), 0, 1000000),
    LIST_OPT("cors_allow_origins", OFF(api.cors_allow_origins), 100, check_origin),
    BOOL_OPT("access_log_enabled", OFF(api.access_log_enabled), false),
    SECTION("jwt_authorizer", 0, true, JWT_FIELDS),
    END,
};

static const struct field QUEUE_FIELDS[] = {
    INT_REQ("visibility_timeout_seconds", OFF(queue.visibility_timeout_seconds), 0, 43200),
    INT_REQ("message_retention_seconds", OFF(queue.message_retention_seconds), 60, 1209600),
    INT_REQ("receive_wait_time_seconds", OFF(queue.receive_wait_time_seconds), 0, 20),
    INT_REQ("max_receive_count", OFF(queue.max_receive_count), 1, 1000),
    INT_REQ("dlq_message_retention_seconds", OFF(queue.dlq_message_retention_seconds), 60, 1209600),
    END,
};

static const struct field TABLE_FIELDS[] = {
    BOOL_OPT("point_in_time_recovery", OFF(table.point_in_time_recovery), false),
    STR_OPT("ttl_attribute", OFF(table.ttl_attribute), 1, 255, "expires_at", check_ttl_attribute),
    BOOL_OPT("deletion_protection", OFF(table.deletion_protection), false),
    END,
};

static const struct field SCHEDULE_FIELDS[] = {
    STR_REQ("expression", OFF(schedule.expression), 1, 256, check_schedule),
    BOOL_OPT("enabled", OFF(schedule.enabled), true),
    {.key = "tasks", .type = FT_TASKS, .off = OFF(schedule.tasks), .optional = true, .max = 100},
    END,
};

static const struct field DEPLOY_FIELDS[] = {
    ENUM_OPT("architecture", OFF(deploy.architecture), "arm64", ARCHITECTURES),
    ENUM_OPT("package_type", OFF(deploy.package_type), "Zip", PACKAGE_TYPES),
    STR_REQ("github_repository", OFF(deploy.github_repository), 3, 140, check_github_repository),
    STR_OPT("github_branch", OFF(deploy.github_branch), 1, 255, "main", check_branch),
    INT_OPT("ecr_keep_images", OFF(deploy.ecr_keep_images), 1, 1000, 20),
    INT_OPT("account_concurrency_limit", OFF(deploy.account_concurrency_limit), 1, 100000, 1000),
    BOOL_OPT("protected", OFF(deploy.protected), false),
    ENUM_OPT("traffic_shifting", OFF(deploy.traffic_shifting), "AllAtOnce", TRAFFIC_SHIFTING),
    END,
};

static const struct field NETWORK_FIELDS[] = {
    BOOL_OPT("vpc_enabled", OFF(network.vpc_enabled), false),
    LIST_OPT("subnet_ids", OFF(network.subnet_ids), 16, check_subnet), /* Lambda: 16 */
    LIST_OPT("security_group_ids", OFF(network.security_group_ids), 5, check_security_group),
    END,
};

static const struct field DOMAIN_FIELDS[] = {
    BOOL_OPT("enabled", OFF(domain.enabled), false),
    STR_OPT("name", OFF(domain.name), 0, 253, "", check_domain_name),
    STR_OPT("zone_id", OFF(domain.zone_id), 0, 32, "", check_zone_id),
    END,
};

static const struct field ALARMS_FIELDS[] = {
    BOOL_OPT("enabled", OFF(alarms.enabled), true),
    LIST_OPT("email_endpoints", OFF(alarms.email_endpoints), 10, check_email),
    INT_OPT("api_p99_latency_ms", OFF(alarms.api_p99_latency_ms), 100, 30000, 2000),
    INT_OPT("queue_oldest_message_age_seconds", OFF(alarms.queue_oldest_message_age_seconds), 60,
            1209600, 900),
    END,
};

static const struct field EMULATOR_FIELDS[] = {
    INT_OPT("account_concurrency_limit", OFF(emulator.account_concurrency_limit), 1, 100000, 1000),
    INT_OPT("idle_environment_seconds", OFF(emulator.idle_environment_seconds), 1, 86400, 300),
    INT_OPT("code_storage_mb", OFF(emulator.code_storage_mb), 1, 76800, 76800),
    BOOL_OPT("strict_runtimes", OFF(emulator.strict_runtimes), false),
    END,
};

static const struct field SCHEMA[] = {
    STR_REQ("project", OFF(project), 1, 32, check_name_part),
    STR_REQ("environment", OFF(environment), 1, 16, check_name_part),
    STR_REQ("aws_region", OFF(aws_region), 1, 32, check_region),
    {.key = "tags",
     .type = FT_STRMAP,
     .off = OFF(tags),
     .optional = true,
     .max = 50 - CONFIG_FIXED_TAGS},
    SET_REQ("log_retention_days", OFF(log_retention_days), LOG_RETENTION_DAYS),
    BOOL_OPT("kms_enabled", OFF(kms_enabled), false),
    BOOL_OPT("tracing_enabled", OFF(tracing_enabled), false),
    SECTION("api", 0, false, API_FIELDS),
    SECTION("queue", 0, false, QUEUE_FIELDS),
    SECTION("table", 0, true, TABLE_FIELDS),
    SECTION("schedule", 0, false, SCHEDULE_FIELDS),
    SECTION("functions", 0, false, FUNCTIONS_FIELDS),
    SECTION("deploy", 0, false, DEPLOY_FIELDS),
    SECTION("network", 0, true, NETWORK_FIELDS),
    SECTION("domain", 0, true, DOMAIN_FIELDS),
    SECTION("alarms", 0, true, ALARMS_FIELDS),
    SECTION("emulator", 0, true, EMULATOR_FIELDS),
    END,
};

/* ------------------------------------------------------------------------------------ */
/* Walking the schema                                                                    */

static int parse_section(struct ctx *c, const struct field *fields, const json_t *obj, char *base);

static int parse_int(struct ctx *c, const struct field *f, const json_t *v, int *out)
{
    if (!json_is_integer(v))
        return fail_type(c, "integer", v);
    json_int_t n = json_integer_value(v);
    if (f->set != NULL) {
        for (size_t i = 0; i < f->nset; i++) {
            if (n == f->set[i]) {
                *out = (int)n;
                return 0;
            }
        }
        char list[256];
        size_t o = 0;
        for (size_t i = 0; i < f->nset && o < sizeof list; i++) {
            int w = snprintf(list + o, sizeof list - o, "%s%d", i ? ", " : "", f->set[i]);
            if (w < 0)
                break;
            o += (size_t)w;
        }
        return fail(c, "%lld is not one of the allowed values (%s)", (long long)n, list);
    }
    if (n < f->min || n > f->max)
        return fail(c, "%lld is out of range %lld..%lld", (long long)n, f->min, f->max);
    *out = (int)n;
    return 0;
}

static int parse_str(struct ctx *c, const struct field *f, const json_t *v, char **out)
{
    char q[QBUF];
    if (!json_is_string(v))
        return fail_type(c, "string", v);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < (size_t)f->min)
        return f->min == 1 ? fail(c, "must not be empty")
                           : fail(c, "is %zu characters, at least %lld", len, f->min);
    if (len > (size_t)f->max)
        return fail(c, "is %zu characters, at most %lld", len, f->max);
    if (f->choices != NULL) {
        bool found = false;
        char list[512];
        size_t o = 0;
        for (const char *const *ch = f->choices; *ch != NULL; ch++) {
            found = found || strcmp(*ch, s) == 0;
            int w = snprintf(list + o, sizeof list - o, "%s%s", ch == f->choices ? "" : ", ", *ch);
            if (w > 0 && (size_t)w < sizeof list - o)
                o += (size_t)w;
        }
        if (!found)
            return fail(c, "%s is not one of %s", quote(q, sizeof q, s), list);
    }
    if (f->check != NULL && f->check(c, s) != 0)
        return -1;
    *out = strdup(s);
    return *out != NULL ? 0 : fail(c, "out of memory");
}

/* The tags haar's Terraform sets on every resource itself; IAM conditions rely on them, so
 * the file may not set them (in any case: IAM compares tag keys case-insensitively). */
static const char *const FIXED_TAGS[CONFIG_FIXED_TAGS] = {"Project", "Environment", "ManagedBy"};

/* AWS tags: at most f->max (50 per resource less the fixed ones), keys 1..128 not starting
 * "aws:" and not a fixed tag, values 0..256 strings. */
static int parse_strmap(struct ctx *c, const struct field *f, const json_t *v, json_t **out)
{
    const char *k;
    json_t *item;
    if (!json_is_object(v))
        return fail_type(c, "object", v);
    if (json_object_size(v) > (size_t)f->max)
        return fail(c,
                    "%zu entries, at most %lld (AWS allows 50 tags per resource; Project, "
                    "Environment and ManagedBy are set by haar)",
                    json_object_size(v), f->max);
    json_object_foreach((json_t *)v, k, item)
    {
        size_t old = path_push_key(c, k);
        size_t klen = strlen(k);
        if (klen == 0 || klen > 128)
            return fail(c, "tag keys are 1..128 characters");
        if (strncmp(k, "aws:", 4) == 0)
            return fail(c, "tag keys beginning with \"aws:\" are reserved by AWS");
        for (size_t i = 0; i < CONFIG_FIXED_TAGS; i++)
            if (strcasecmp(k, FIXED_TAGS[i]) == 0)
                return fail(c, "the tag %s is set by haar from the configuration; remove it",
                            FIXED_TAGS[i]);
        if (!json_is_string(item))
            return fail_type(c, "string", item);
        if (json_string_length(item) > 256)
            return fail(c, "is %zu characters, at most 256", json_string_length(item));
        path_pop(c, old);
    }
    *out = json_incref((json_t *)v);
    return 0;
}

static int parse_strlist(struct ctx *c, const struct field *f, const json_t *v, json_t **out)
{
    size_t i;
    json_t *item;
    if (!json_is_array(v))
        return fail_type(c, "array", v);
    if (json_array_size(v) > (size_t)f->max)
        return fail(c, "%zu items, at most %lld", json_array_size(v), f->max);
    json_array_foreach(v, i, item)
    {
        size_t old = path_push_index(c, i);
        if (!json_is_string(item))
            return fail_type(c, "string", item);
        if (json_string_length(item) == 0)
            return fail(c, "must not be empty");
        if (f->check != NULL && f->check(c, json_string_value(item)) != 0)
            return -1;
        path_pop(c, old);
    }
    *out = json_incref((json_t *)v);
    return 0;
}

static int parse_tasks(struct ctx *c, const struct field *f, const json_t *v, json_t **out)
{
    size_t i;
    json_t *item;
    if (!json_is_array(v))
        return fail_type(c, "array", v);
    if (json_array_size(v) > (size_t)f->max)
        return fail(c, "%zu items, at most %lld", json_array_size(v), f->max);
    json_array_foreach(v, i, item)
    {
        const char *k;
        json_t *val;
        size_t old = path_push_index(c, i);
        if (!json_is_object(item))
            return fail_type(c, "object", item);
        json_object_foreach(item, k, val)
        {
            if (strcmp(k, "kind") != 0 && strcmp(k, "payload") != 0) {
                path_push_key(c, k);
                return fail(c, "unknown key");
            }
        }
        size_t mid = path_push_key(c, "kind");
        val = json_object_get(item, "kind");
        if (val == NULL)
            return fail(c, "missing required key");
        if (!json_is_string(val))
            return fail_type(c, "string", val);
        if (json_string_length(val) == 0 || json_string_length(val) > 64)
            return fail(c, "must be 1..64 characters");
        if (check_kind(c, json_string_value(val)) != 0)
            return -1;
        path_pop(c, mid);
        path_push_key(c, "payload");
        val = json_object_get(item, "payload");
        if (val == NULL)
            return fail(c, "missing required key");
        if (!json_is_object(val))
            return fail_type(c, "object", val);
        path_pop(c, old);
    }
    *out = json_incref((json_t *)v);
    return 0;
}

static int set_default(struct ctx *c, const struct field *f, char *base)
{
    void *slot = base + f->off;
    switch (f->type) {
    case FT_INT:
        *(int *)slot = (int)f->def;
        return 0;
    case FT_BOOL:
        *(bool *)slot = f->def != 0;
        return 0;
    case FT_STR:
        *(char **)slot = strdup(f->def_str);
        return *(char **)slot != NULL ? 0 : fail(c, "out of memory");
    case FT_SECTION:
        return parse_section(c, f->children, NULL, base + f->off);
    case FT_STRMAP:
        *(json_t **)slot = json_object();
        return *(json_t **)slot != NULL ? 0 : fail(c, "out of memory");
    case FT_STRLIST:
    case FT_TASKS:
        *(json_t **)slot = json_array();
        return *(json_t **)slot != NULL ? 0 : fail(c, "out of memory");
    }
    return fail(c, "internal error: unknown field type");
}

static int parse_value(struct ctx *c, const struct field *f, const json_t *v, char *base)
{
    void *slot = base + f->off;
    switch (f->type) {
    case FT_INT:
        return parse_int(c, f, v, (int *)slot);
    case FT_BOOL:
        if (!json_is_boolean(v))
            return fail_type(c, "boolean", v);
        *(bool *)slot = json_is_true(v);
        return 0;
    case FT_STR:
        return parse_str(c, f, v, (char **)slot);
    case FT_SECTION:
        if (!json_is_object(v))
            return fail_type(c, "object", v);
        return parse_section(c, f->children, v, base + f->off);
    case FT_STRMAP:
        return parse_strmap(c, f, v, (json_t **)slot);
    case FT_STRLIST:
        return parse_strlist(c, f, v, (json_t **)slot);
    case FT_TASKS:
        return parse_tasks(c, f, v, (json_t **)slot);
    }
    return fail(c, "internal error: unknown field type");
}

/* Checks obj (NULL: an absent optional section) against `fields`, storing from `base`. */
static int parse_section(struct ctx *c, const struct field *fields, const json_t *obj, char *base)
{
    if (obj != NULL) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)obj, k, v)
        {
            const struct field *f = fields;
            while (f->key != NULL && strcmp(f->key, k) != 0)
                f++;
            if (f->key == NULL) {
                path_push_key(c, k);
                return fail(c, "unknown key");
            }
        }
    }
    for (const struct field *f = fields; f->key != NULL; f++) {
        const json_t *v = obj != NULL ? json_object_get(obj, f->key) : NULL;
        size_t old = path_push_key(c, f->key);
        int rc;
        if (v == NULL && !f->optional)
            return fail(c, "missing required key");
        rc = v == NULL ? set_default(c, f, base) : parse_value(c, f, v, base);
        if (rc != 0)
            return -1;
        path_pop(c, old);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Rules across keys                                                                     */

/* Loaded from ".../envs/<name>/<file>": <name> must be the environment. */
static int cross_env_folder(struct ctx *c, struct config *cfg)
{
    char q[QBUF];
    const char *end = strrchr(c->file, '/');
    if (end == NULL)
        return 0;
    const char *dir = end;
    while (dir > c->file && dir[-1] != '/')
        dir--;
    size_t dlen = (size_t)(end - dir);
    if (dir - c->file < 5 || strncmp(dir - 5, "envs/", 5) != 0 ||
        (dir - c->file > 5 && dir[-6] != '/'))
        return 0;
    if (strlen(cfg->environment) != dlen || strncmp(cfg->environment, dir, dlen) != 0)
        return fail_at(c, "environment",
                       "%s does not match the folder it was loaded from (envs/%.*s)",
                       quote(q, sizeof q, cfg->environment), (int)dlen, dir);
    return 0;
}

/* Every name the environment creates must fit its service's limit. With project ≤ 32 and
 * environment ≤ 16 they all do today; this keeps it true when a suffix is added. */
static int cross_names(struct ctx *c, struct config *cfg)
{
    static const struct {
        const char *prefix, *suffix, *what;
        size_t max;
    } names[] = {
        {"", "api", "Lambda function names", 64},
        {"", "worker", "Lambda function names", 64},
        {"", "producer", "Lambda function names", 64},
        {"", "tasks", "SQS queue names", 80},
        {"", "tasks-dlq", "SQS queue names", 80},
        {"", "schedule-dlq", "SQS queue names", 80},
        {"", "tasks", "DynamoDB table names", 255},
        {"", "schedule", "EventBridge rule names", 64},
        {"", "api", "HTTP API names", 128},
        {"", "api-role", "IAM role names", 64},
        {"", "worker-role", "IAM role names", 64},
        {"", "producer-role", "IAM role names", 64},
        {"/aws/lambda/", "producer", "CloudWatch log group names", 512},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char name[600];
        if (config_resource_name(cfg, names[i].suffix, name, sizeof name) != 0)
            return fail_at(c, "project", "resource names do not fit in %zu bytes", sizeof name);
        size_t len = strlen(names[i].prefix) + strlen(name);
        if (len > names[i].max)
            return fail_at(c, "project",
                           "resource name \"%s%s\" is %zu characters; %s are at most %zu",
                           names[i].prefix, name, len, names[i].what, names[i].max);
    }
    for (int i = 0; i < CONFIG_FN_COUNT; i++)
        if (config_resource_name(cfg, cfg->functions[i].short_name, cfg->functions[i].full_name,
                                 sizeof cfg->functions[i].full_name) != 0)
            return fail_at(c, "project", "function name does not fit");
    return 0;
}

/* The artifacts bucket is "<project>-<environment>-artifacts-<12-digit account>": S3 allows 63
 * characters, so project and environment together have 39; and a bucket name may not begin
 * with a prefix S3 reserves. */
static int cross_bucket_name(struct ctx *c, struct config *cfg)
{
    static const char *const reserved[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    char q[QBUF];
    size_t len = strlen(cfg->project) + strlen(cfg->environment);
    if (len > 39)
        return fail_at(c, "project",
                       "project and environment together are %zu characters, at most 39: the "
                       "artifacts bucket <project>-<environment>-artifacts-<account id> must fit "
                       "S3's 63",
                       len);
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strncmp(cfg->project, reserved[i], strlen(reserved[i])) == 0)
            return fail_at(c, "project",
                           "%s must not begin with xn--, sthree- or amzn-s3-demo- (prefixes S3 "
                           "reserves for bucket names)",
                           quote(q, sizeof q, cfg->project));
    return 0;
}

static int cross_visibility(struct ctx *c, struct config *cfg)
{
    long long need = 6LL * cfg->functions[CONFIG_FN_WORKER].timeout_seconds;
    if (cfg->queue.visibility_timeout_seconds < need)
        return fail_at(c, "queue.visibility_timeout_seconds",
                       "%d is less than 6 × functions.worker.timeout_seconds (%lld), as AWS "
                       "advises for a queue that feeds a Lambda function",
                       cfg->queue.visibility_timeout_seconds, need);
    return 0;
}

static int cross_dlq_retention(struct ctx *c, struct config *cfg)
{
    if (cfg->queue.dlq_message_retention_seconds < cfg->queue.message_retention_seconds)
        return fail_at(c, "queue.dlq_message_retention_seconds",
                       "%d is less than queue.message_retention_seconds (%d); a moved message "
                       "keeps its enqueue time, so the DLQ must keep messages at least as long",
                       cfg->queue.dlq_message_retention_seconds,
                       cfg->queue.message_retention_seconds);
    return 0;
}

static int cross_batching_window(struct ctx *c, struct config *cfg)
{
    const struct config_function *w = &cfg->functions[CONFIG_FN_WORKER];
    if (w->batch_size > 10 && w->max_batching_window_seconds < 1)
        return fail_at(c, "functions.worker.max_batching_window_seconds",
                       "must be at least 1 when functions.worker.batch_size (%d) is more than 10",
                       w->batch_size);
    return 0;
}

/* Where each function's reserved_concurrency is set, by CONFIG_FN_*. */
static const char *const RESERVED_PATHS[CONFIG_FN_COUNT] = {
    "functions.api.reserved_concurrency", "functions.worker.reserved_concurrency",
    "functions.producer.reserved_concurrency"};

/* The first function (CONFIG_FN_*) at which the reservations so far (-1, unreserved, counts
 * nothing) add up to more than cap, with that sum in *total; -1 when they never do. */
static int reserved_over(const struct config *cfg, long long cap, long long *total)
{
    *total = 0;
    for (int i = 0; i < CONFIG_FN_COUNT; i++) {
        if (cfg->functions[i].reserved_concurrency > 0)
            *total += cfg->functions[i].reserved_concurrency;
        if (*total > cap)
            return i;
    }
    return -1;
}

static int cross_reserved_concurrency(struct ctx *c, struct config *cfg)
{
    int limit = cfg->emulator.account_concurrency_limit;
    long long total;
    int i = reserved_over(cfg, limit, &total);
    if (i < 0)
        return 0;
    int r = cfg->functions[i].reserved_concurrency;
    if (r > limit)
        return fail_at(c, RESERVED_PATHS[i],
                       "%d is more than emulator.account_concurrency_limit (%d); use -1 "
                       "(unreserved) or 0..%d",
                       r, limit, limit);
    return fail_at(c, RESERVED_PATHS[i],
                   "the functions reserve %lld in total, more than "
                   "emulator.account_concurrency_limit (%d)",
                   total, limit);
}

/* On AWS, Lambda keeps 100 of the account's concurrency unreserved: PutFunctionConcurrency
 * fails when the reservations would leave less. deploy.account_concurrency_limit is the
 * account's real quota (new accounts may have as little as 10). */
static int cross_aws_reserved_concurrency(struct ctx *c, struct config *cfg)
{
    int limit = cfg->deploy.account_concurrency_limit;
    long long reservable = limit > 100 ? limit - 100 : 0;
    long long total;
    int i = reserved_over(cfg, reservable, &total);
    if (i < 0)
        return 0;
    return fail_at(c, RESERVED_PATHS[i],
                   "the functions reserve %lld in total; AWS keeps 100 of "
                   "deploy.account_concurrency_limit (%d) unreserved, so at most %lld",
                   total, limit, reservable);
}

static int cross_throttling(struct ctx *c, struct config *cfg)
{
    if (cfg->api.throttling_rate_limit > 0 && cfg->api.throttling_burst_limit < 1)
        return fail_at(c, "api.throttling_burst_limit",
                       "0 lets no request through while api.throttling_rate_limit is %d; use at "
                       "least 1",
                       cfg->api.throttling_rate_limit);
    return 0;
}

/* The HTTP API gives up on an integration after 30 s, so a longer api timeout could
 * never be used: Terraform refuses it too. */
static int cross_api_timeout(struct ctx *c, struct config *cfg)
{
    int t = cfg->functions[CONFIG_FN_API].timeout_seconds;
    if (t > 30)
        return fail_at(c, "functions.api.timeout_seconds",
                       "%d is more than 30, the HTTP API's integration timeout", t);
    return 0;
}

static int cross_network(struct ctx *c, struct config *cfg)
{
    if (!cfg->network.vpc_enabled)
        return 0;
    if (json_array_size(cfg->network.subnet_ids) == 0)
        return fail_at(c, "network.subnet_ids",
                       "must not be empty when network.vpc_enabled is true");
    if (json_array_size(cfg->network.security_group_ids) == 0)
        return fail_at(c, "network.security_group_ids",
                       "must not be empty when network.vpc_enabled is true");
    return 0;
}

static int cross_domain(struct ctx *c, struct config *cfg)
{
    if (!cfg->domain.enabled)
        return 0;
    if (cfg->domain.name[0] == '\0')
        return fail_at(c, "domain.name", "must not be empty when domain.enabled is true");
    if (cfg->domain.zone_id[0] == '\0')
        return fail_at(c, "domain.zone_id", "must not be empty when domain.enabled is true");
    return 0;
}

static int cross_jwt_authorizer(struct ctx *c, struct config *cfg)
{
    if (!cfg->api.jwt_authorizer.enabled)
        return 0;
    if (cfg->api.jwt_authorizer.issuer[0] == '\0')
        return fail_at(c, "api.jwt_authorizer.issuer",
                       "must not be empty when api.jwt_authorizer.enabled is true");
    if (json_array_size(cfg->api.jwt_authorizer.audience) == 0)
        return fail_at(c, "api.jwt_authorizer.audience",
                       "must not be empty when api.jwt_authorizer.enabled is true");
    return 0;
}

/* An age alarm at or past the retention could never fire: the message is gone first. */
static int cross_alarm_age(struct ctx *c, struct config *cfg)
{
    if (cfg->alarms.enabled &&
        cfg->alarms.queue_oldest_message_age_seconds >= cfg->queue.message_retention_seconds)
        return fail_at(c, "alarms.queue_oldest_message_age_seconds",
                       "%d is not less than queue.message_retention_seconds (%d): the message "
                       "would be deleted before the alarm fires",
                       cfg->alarms.queue_oldest_message_age_seconds,
                       cfg->queue.message_retention_seconds);
    return 0;
}

/* A protected environment's deploy role may not delete the table; DynamoDB's own deletion
 * protection says the same to everyone else. */
static int cross_protected(struct ctx *c, struct config *cfg)
{
    if (cfg->deploy.protected && !cfg->table.deletion_protection)
        return fail_at(c, "table.deletion_protection",
                       "must be true when deploy.protected is true");
    return 0;
}

static int (*const CROSS_CHECKS[])(struct ctx *c, struct config *cfg) = {
    cross_env_folder,
    cross_names,
    cross_bucket_name,
    cross_visibility,
    cross_dlq_retention,
    cross_batching_window,
    cross_reserved_concurrency,
    cross_aws_reserved_concurrency,
    cross_throttling,
    cross_api_timeout,
    cross_network,
    cross_domain,
    cross_jwt_authorizer,
    cross_alarm_age,
    cross_protected,
};

/* ------------------------------------------------------------------------------------ */
/* Public API                                                                            */

static const char *const FN_SHORT[CONFIG_FN_COUNT] = {"api", "worker", "producer"};

struct config *config_load_json(const char *path, const char *text, size_t len, char *err,
                                size_t errlen)
{
    struct ctx c = {.file = path != NULL ? path : "(config)", .err = err, .errlen = errlen};
    struct config *cfg = NULL;
    json_error_t jerr;
    json_t *doc = NULL;

    if (text == NULL) {
        fail(&c, "no text");
        goto fail;
    }
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        if (err != NULL && errlen > 0) {
            snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", c.file, jerr.line, jerr.column,
                     jerr.text);
            one_line(err);
        }
        goto fail;
    }
    if (!json_is_object(doc)) {
        fail_type(&c, "object", doc);
        goto fail;
    }
    cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL || (cfg->path = strdup(c.file)) == NULL) {
        fail(&c, "out of memory");
        goto fail;
    }
    for (int i = 0; i < CONFIG_FN_COUNT; i++)
        cfg->functions[i].short_name = FN_SHORT[i];
    if (parse_section(&c, SCHEMA, doc, (char *)cfg) != 0)
        goto fail;
    for (size_t i = 0; i < sizeof CROSS_CHECKS / sizeof CROSS_CHECKS[0]; i++)
        if (CROSS_CHECKS[i](&c, cfg) != 0)
            goto fail;
    json_decref(doc);
    return cfg;

fail:
    json_decref(doc);
    config_free(cfg);
    return NULL;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
    struct ctx c = {.file = path != NULL ? path : "(null)", .err = err, .errlen = errlen};
    struct config *cfg = NULL;
    struct buf b;
    FILE *f = NULL;
    char chunk[8192];
    size_t n;

    buf_init(&b, CONFIG_MAX_FILE);
    if (path == NULL) {
        fail(&c, "no path given");
        goto done;
    }
    f = fopen(path, "rb");
    if (f == NULL) {
        fail(&c, "cannot open: %s", strerror(errno));
        goto done;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        int rc = buf_append(&b, chunk, n);
        if (rc == BUF_ETOOBIG) {
            fail(&c, "the file is larger than %d bytes", CONFIG_MAX_FILE);
            goto done;
        }
        if (rc != BUF_OK) {
            fail(&c, "out of memory");
            goto done;
        }
    }
    if (ferror(f)) {
        fail(&c, "cannot read: %s", strerror(errno));
        goto done;
    }
    cfg = config_load_json(path, b.data != NULL ? b.data : "", b.len, err, errlen);
done:
    if (f != NULL)
        fclose(f);
    buf_destroy(&b);
    return cfg;
}

int config_default_path(const char *root, const char *env, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0)
        return -1;
    out[0] = '\0';
    if (env == NULL || env[0] == '\0')
        return -1;
    for (const char *p = env; *p != '\0'; p++)
        if (!is_lower_digit(*p) && *p != '-')
            return -1;
    int n = root != NULL && root[0] != '\0'
                ? snprintf(out, outlen, "%s/infra/envs/%s/terraform.tfvars.json", root, env)
                : snprintf(out, outlen, "infra/envs/%s/terraform.tfvars.json", env);
    if (n < 0 || (size_t)n >= outlen) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->project);
    free(cfg->environment);
    free(cfg->aws_region);
    json_decref(cfg->tags);
    json_decref(cfg->api.cors_allow_origins);
    free(cfg->api.jwt_authorizer.issuer);
    json_decref(cfg->api.jwt_authorizer.audience);
    free(cfg->table.ttl_attribute);
    free(cfg->schedule.expression);
    json_decref(cfg->schedule.tasks);
    free(cfg->deploy.architecture);
    free(cfg->deploy.package_type);
    free(cfg->deploy.github_repository);
    free(cfg->deploy.github_branch);
    free(cfg->deploy.traffic_shifting);
    json_decref(cfg->alarms.email_endpoints);
    json_decref(cfg->network.subnet_ids);
    json_decref(cfg->network.security_group_ids);
    free(cfg->domain.name);
    free(cfg->domain.zone_id);
    free(cfg);
}

int config_resource_name(const struct config *cfg, const char *suffix, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0)
        return -1;
    out[0] = '\0';
    if (cfg == NULL || cfg->project == NULL || cfg->environment == NULL || suffix == NULL)
        return -1;
    int n = snprintf(out, outlen, "%s-%s-%s", cfg->project, cfg->environment, suffix);
    if (n < 0 || (size_t)n >= outlen) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* describe                                                                              */

/* Sets key on obj, taking v; remembers any failure (v NULL or out of memory) in *ok. */
static void put(json_t *obj, const char *key, json_t *v, bool *ok)
{
    if (v == NULL || json_object_set_new(obj, key, v) != 0)
        *ok = false;
}

/* Appends {"kind","role","name","terraform_type","local"} to list; returns it (borrowed)
 * for the caller to add the kind's own fields, or NULL (and *ok false) on failure. */
static json_t *add_resource(json_t *list, const char *kind, const char *role, const char *name,
                            const char *tf_type, bool local, bool *ok)
{
    json_t *r = json_object();
    if (r == NULL || json_array_append_new(list, r) != 0) {
        *ok = false;
        return NULL;
    }
    put(r, "kind", json_string(kind), ok);
    put(r, "role", json_string(role), ok);
    put(r, "name", json_string(name), ok);
    put(r, "terraform_type", json_string(tf_type), ok);
    put(r, "local", json_boolean(local), ok);
    return *ok ? r : NULL;
}

json_t *config_function_env(const struct config *cfg, int fn, const char *queue_url)
{
    char table[160], rule[160], num[32];
    bool ok = true;

    if (cfg == NULL || fn < 0 || fn >= CONFIG_FN_COUNT ||
        config_resource_name(cfg, "tasks", table, sizeof table) != 0 ||
        config_resource_name(cfg, "schedule", rule, sizeof rule) != 0)
        return NULL;
    json_t *env = json_object();
    if (env == NULL)
        return NULL;
    put(env, "HAAR_PROJECT", json_string(cfg->project), &ok);
    put(env, "HAAR_ENVIRONMENT", json_string(cfg->environment), &ok);
    put(env, "TASKS_TABLE", json_string(table), &ok);
    put(env, "TASKS_STATUS_INDEX", json_string(CONFIG_STATUS_INDEX), &ok);
    put(env, "TASKS_QUEUE_URL", json_string(queue_url), &ok);
    if (fn == CONFIG_FN_WORKER) {
        snprintf(num, sizeof num, "%d", cfg->queue.max_receive_count);
        put(env, "MAX_RECEIVE_COUNT", json_string(num), &ok);
    } else if (fn == CONFIG_FN_PRODUCER) {
        /* compact with sorted keys, as Terraform's jsonencode writes it */
        char *tasks = json_dumps(cfg->schedule.tasks, JSON_COMPACT | JSON_SORT_KEYS);
        put(env, "SCHEDULE_RULE", json_string(rule), &ok);
        put(env, "SCHEDULE_TASKS", tasks ? json_string(tasks) : NULL, &ok);
        free(tasks);
    }
    if (!ok) {
        json_decref(env);
        return NULL;
    }
    return env;
}

json_t *config_describe(const struct config *cfg)
{
    static const char *const LOG_ROLES[CONFIG_FN_COUNT] = {"api_log_group", "worker_log_group",
                                                           "producer_log_group"};
    static const char *const IAM_ROLES[CONFIG_FN_COUNT] = {"api_role", "worker_role",
                                                           "producer_role"};
    const struct config_function *w;
    char queue[160], dlq[160], sdlq[160], table[160], rule[160], api[160], mapping[160], name[200];
    json_t *out = NULL, *list = NULL, *r;
    bool ok = true;

    if (cfg == NULL)
        return NULL;
    w = &cfg->functions[CONFIG_FN_WORKER];
    if (config_resource_name(cfg, "tasks", queue, sizeof queue) != 0 ||
        config_resource_name(cfg, "tasks-dlq", dlq, sizeof dlq) != 0 ||
        config_resource_name(cfg, "schedule-dlq", sdlq, sizeof sdlq) != 0 ||
        config_resource_name(cfg, "tasks", table, sizeof table) != 0 ||
        config_resource_name(cfg, "schedule", rule, sizeof rule) != 0 ||
        config_resource_name(cfg, "api", api, sizeof api) != 0 ||
        config_resource_name(cfg, "worker-mapping", mapping, sizeof mapping) != 0)
        return NULL;

    out = json_object();
    list = json_array();
    if (out == NULL || list == NULL)
        goto fail;
    put(out, "project", json_string(cfg->project), &ok);
    put(out, "environment", json_string(cfg->environment), &ok);
    put(out, "region", json_string(cfg->aws_region), &ok);
    put(out, "account", json_string(CONFIG_ACCOUNT), &ok);

    for (int i = 0; i < CONFIG_FN_COUNT && ok; i++) {
        const struct config_function *fn = &cfg->functions[i];
        r = add_resource(list, "function", fn->short_name, fn->full_name, "aws_lambda_function",
                         true, &ok);
        if (r == NULL)
            break;
        put(r, "memory_mb", json_integer(fn->memory_mb), &ok);
        put(r, "timeout_seconds", json_integer(fn->timeout_seconds), &ok);
        put(r, "reserved_concurrency", json_integer(fn->reserved_concurrency), &ok);
        put(r, "architecture", json_string(cfg->deploy.architecture), &ok);
        put(r, "package_type", json_string(cfg->deploy.package_type), &ok);
    }
    for (int i = 0; i < CONFIG_FN_COUNT && ok; i++) {
        snprintf(name, sizeof name, "/aws/lambda/%s", cfg->functions[i].full_name);
        r = add_resource(list, "log_group", LOG_ROLES[i], name, "aws_cloudwatch_log_group", true,
                         &ok);
        if (r == NULL)
            break;
        put(r, "retention_days", json_integer(cfg->log_retention_days), &ok);
        put(r, "function", json_string(cfg->functions[i].full_name), &ok);
    }
    if (ok && (r = add_resource(list, "queue", "queue", queue, "aws_sqs_queue", true, &ok))) {
        put(r, "visibility_timeout_seconds", json_integer(cfg->queue.visibility_timeout_seconds),
            &ok);
        put(r, "message_retention_seconds", json_integer(cfg->queue.message_retention_seconds),
            &ok);
        put(r, "receive_wait_time_seconds", json_integer(cfg->queue.receive_wait_time_seconds),
            &ok);
        put(r, "max_receive_count", json_integer(cfg->queue.max_receive_count), &ok);
        put(r, "dead_letter_queue", json_string(dlq), &ok);
    }
    if (ok && (r = add_resource(list, "queue", "dlq", dlq, "aws_sqs_queue", true, &ok)))
        put(r, "message_retention_seconds", json_integer(cfg->queue.dlq_message_retention_seconds),
            &ok);
    /* where the schedule's undeliverable events and the producer's failed invocations go */
    if (ok && (r = add_resource(list, "queue", "schedule_dlq", sdlq, "aws_sqs_queue", true, &ok))) {
        put(r, "message_retention_seconds", json_integer(cfg->queue.dlq_message_retention_seconds),
            &ok);
        put(r, "max_retry_attempts",
            json_integer(cfg->functions[CONFIG_FN_PRODUCER].max_retry_attempts), &ok);
        put(r, "max_event_age_seconds",
            json_integer(cfg->functions[CONFIG_FN_PRODUCER].max_event_age_seconds), &ok);
    }
    if (ok &&
        (r = add_resource(list, "table", "tasks_table", table, "aws_dynamodb_table", true, &ok))) {
        put(r, "hash_key", json_string("id"), &ok);
        put(r, "billing_mode", json_string("PAY_PER_REQUEST"), &ok);
        put(r, "global_secondary_indexes",
            json_pack("[{s:s, s:s, s:s, s:s}]", "name", CONFIG_STATUS_INDEX, "hash_key", "status",
                      "range_key", "created_at", "projection_type", "ALL"),
            &ok);
        put(r, "ttl_attribute", json_string(cfg->table.ttl_attribute), &ok);
        put(r, "point_in_time_recovery", json_boolean(cfg->table.point_in_time_recovery), &ok);
        put(r, "deletion_protection", json_boolean(cfg->table.deletion_protection), &ok);
    }
    if (ok && (r = add_resource(list, "rule", "schedule", rule, "aws_cloudwatch_event_rule", true,
                                &ok))) {
        put(r, "schedule_expression", json_string(cfg->schedule.expression), &ok);
        put(r, "enabled", json_boolean(cfg->schedule.enabled), &ok);
        put(r, "target", json_string(cfg->functions[CONFIG_FN_PRODUCER].full_name), &ok);
    }
    if (ok && (r = add_resource(list, "event_source_mapping", "worker_mapping", mapping,
                                "aws_lambda_event_source_mapping", true, &ok))) {
        put(r, "function", json_string(w->full_name), &ok);
        put(r, "queue", json_string(queue), &ok);
        put(r, "batch_size", json_integer(w->batch_size), &ok);
        put(r, "maximum_batching_window_seconds", json_integer(w->max_batching_window_seconds),
            &ok);
        put(r, "maximum_concurrency", json_integer(w->max_concurrency), &ok);
        put(r, "function_response_types", json_pack("[s]", "ReportBatchItemFailures"), &ok);
    }
    if (ok &&
        (r = add_resource(list, "http_api", "http_api", api, "aws_apigatewayv2_api", true, &ok))) {
        put(r, "protocol_type", json_string("HTTP"), &ok);
        put(r, "function", json_string(cfg->functions[CONFIG_FN_API].full_name), &ok);
        put(r, "throttling_rate_limit", json_integer(cfg->api.throttling_rate_limit), &ok);
        put(r, "throttling_burst_limit", json_integer(cfg->api.throttling_burst_limit), &ok);
        put(r, "cors_allow_origins", json_deep_copy(cfg->api.cors_allow_origins), &ok);
    }
    for (int i = 0; i < CONFIG_FN_COUNT && ok; i++) {
        snprintf(name, sizeof name, "%s-role", cfg->functions[i].full_name);
        r = add_resource(list, "iam_role", IAM_ROLES[i], name, "aws_iam_role", false, &ok);
        if (r == NULL)
            break;
        put(r, "function", json_string(cfg->functions[i].full_name), &ok);
    }
    if (!ok)
        goto fail;
    if (json_object_set_new(out, "resources", list) != 0) {
        list = NULL; /* set_new consumed it even on failure */
        goto fail;
    }
    return out;

fail:
    json_decref(list);
    json_decref(out);
    return NULL;
}
