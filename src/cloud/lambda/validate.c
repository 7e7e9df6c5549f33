/*
 * validate.c — the Lambda engine's pure parsers and validators (no state, fuzzed by
 * tests/fuzz/fuzz_lambda_*.c): function names and ARNs, percent-decoding, role ARNs,
 * CreateFunction/UpdateFunctionConfiguration bodies, X-Amz-Client-Context.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cloud/lambda/lambda.h"
#include "cloud/lambda/shapes.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/utf8.h"

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static bool all_name_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i]))
            return false;
    return n > 0;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

/* How many bytes of the UTF-8 string s to print so that at most max are printed and no
 * character is cut (a cut one would make the whole message unencodable as JSON). */
static int utf8_prefix(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return (int)n;
}

/* Replaces, in place, each byte of s that starts no valid UTF-8 sequence with '?': parser
 * errors quote the bytes they stopped at, and a message must stay encodable as JSON. */
static void utf8_scrub(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq_len((const unsigned char *)s + i, n - i);
        if (l == 0) {
            s[i] = '?';
            l = 1;
        }
        i += l;
    }
}

/* The message for a FunctionName that cannot be resolved: the model's errors when it breaks
 * the model; the service's 64-character limit on the name; else the pattern AWS prints. */
static void invalid_name_msg(const char *in, size_t len, size_t name_len, char *msg, size_t msglen)
{
    if (lambda_validate_value("FunctionName", "functionName", in, len, msg, msglen) != ERR_OK)
        return;
    if (name_len > 64 &&
        lambda_validate_value("PlainFunctionName", "functionName", in, len, msg, msglen) != ERR_OK)
        return;
    /* the model lets it through but it names no function we could hold: only
     * [A-Za-z0-9:$_.-] got this far, so the value is safe to print as it is */
    snprintf(msg, msglen,
             "1 validation error detected: Value '%.*s' at 'functionName' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: %s",
             (int)len, in, lambda__shape("FunctionName")->pattern);
}

/* Both resolvers: qual NULL refuses every qualifier but $LATEST (lambda_resolve_name). */
static enum err resolve(const char *in, size_t len, char *name, size_t namelen, char *qual,
                        size_t quallen, char *msg, size_t msglen)
{
    /* split on ':' into at most 8 parts */
    const char *part[8];
    size_t plen[8];
    size_t n = 0;
    size_t start = 0;
    size_t name_len = 0;
    if (len == 0 || len > 170 || memchr(in, '\0', len) != NULL)
        goto invalid;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || in[i] == ':') {
            if (n == 8)
                goto invalid;
            part[n] = in + start;
            plen[n] = i - start;
            n++;
            start = i + 1;
        }
    }
    size_t idx = 0; /* index of the name part */
    if (n >= 3 && plen[0] == 3 && memcmp(part[0], "arn", 3) == 0) {
        /* arn:aws:lambda:region:account:function:name[:qualifier] */
        if (n < 7 || n > 8 || plen[1] < 3 || memcmp(part[1], "aws", 3) != 0 || plen[2] != 6 ||
            memcmp(part[2], "lambda", 6) != 0 || plen[3] == 0 || !all_digits(part[4], plen[4]) ||
            plen[4] != 12 || plen[5] != 8 || memcmp(part[5], "function", 8) != 0)
            goto invalid;
        idx = 6;
    } else if (n >= 3 && plen[1] == 8 && memcmp(part[1], "function", 8) == 0) {
        /* account:function:name[:qualifier] */
        if (n > 4 || plen[0] != 12 || !all_digits(part[0], plen[0]))
            goto invalid;
        idx = 2;
    } else if (n <= 2) {
        idx = 0;
    } else {
        goto invalid;
    }
    name_len = plen[idx];
    if (!all_name_chars(part[idx], plen[idx]) || plen[idx] > 64 || plen[idx] + 1 > namelen)
        goto invalid;
    if (qual != NULL)
        qual[0] = '\0';
    if (idx + 1 < n) {
        const char *q = part[idx + 1];
        size_t ql = plen[idx + 1];
        if (ql == 0)
            goto invalid;
        if (qual != NULL) {
            for (size_t i = 0; i < ql; i++)
                if (!name_char(q[i]) && q[i] != '$')
                    goto invalid;
            if (ql + 1 > quallen)
                goto invalid;
            memcpy(qual, q, ql);
            qual[ql] = '\0';
        } else if (!(ql == 7 && memcmp(q, "$LATEST", 7) == 0)) {
            if (!all_name_chars(q, ql))
                goto invalid;
            snprintf(msg, msglen, "Function not found: arn:aws:lambda:::function:%.*s:%.*s",
                     (int)plen[idx], part[idx], (int)ql, q);
            return ERR_LAMBDA_NOT_FOUND;
        }
    }
    memcpy(name, part[idx], plen[idx]);
    name[plen[idx]] = '\0';
    return ERR_OK;
invalid:
    invalid_name_msg(in, len, name_len, msg, msglen);
    return ERR_LAMBDA_VALIDATION;
}

enum err lambda_resolve_name(const char *in, size_t len, char *name, size_t namelen, char *msg,
                             size_t msglen)
{
    return resolve(in, len, name, namelen, NULL, 0, msg, msglen);
}

enum err lambda_resolve_ref(const char *in, size_t len, char *name, size_t namelen, char *qual,
                            size_t quallen, char *msg, size_t msglen)
{
    return resolve(in, len, name, namelen, qual, quallen > 0 ? quallen : 1, msg, msglen);
}

bool lambda_valid_role(const char *role)
{
    return lambda__pattern_match(lambda__shape("RoleArn")->pattern, role, strlen(role)) == 1;
}

/* What haar runs: a bootstrap executable, or a managed runtime on the machine's interpreter
 * (runtime.c), in the order AWS's enum lists them. */
static const char *const runtimes_ok[] = {
    "nodejs18.x", "nodejs20.x",  "nodejs22.x",  "nodejs24.x",  "python3.9",       "python3.10",
    "python3.11", "python3.12",  "python3.13",  "python3.14",  "provided.al2023", "provided.al2"};
static const char *const runtimes_known[] = {"java11", "java17", "java21", "java25", "dotnet8",
                                             "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4",
                                             "provided"};

static const char *const reserved_env[] = {"_HANDLER",
                                           "_X_AMZN_TRACE_ID",
                                           "AWS_DEFAULT_REGION",
                                           "AWS_REGION",
                                           "AWS_EXECUTION_ENV",
                                           "AWS_LAMBDA_FUNCTION_NAME",
                                           "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                                           "AWS_LAMBDA_FUNCTION_VERSION",
                                           "AWS_LAMBDA_INITIALIZATION_TYPE",
                                           "AWS_LAMBDA_LOG_GROUP_NAME",
                                           "AWS_LAMBDA_LOG_STREAM_NAME",
                                           "AWS_ACCESS_KEY",
                                           "AWS_ACCESS_KEY_ID",
                                           "AWS_SECRET_ACCESS_KEY",
                                           "AWS_SESSION_TOKEN",
                                           "AWS_LAMBDA_RUNTIME_API",
                                           "LAMBDA_TASK_ROOT",
                                           "LAMBDA_RUNTIME_DIR"};

/* The service's checks on Environment.Variables, after the model's (names match
 * [a-zA-Z]([a-zA-Z0-9_])+, values are strings without NUL): no reserved names, 4 KB. */
static enum err check_env(const json_t *vars, char *msg, size_t msglen)
{
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vars, k, v)
    {
        for (size_t i = 0; i < sizeof(reserved_env) / sizeof(reserved_env[0]); i++) {
            if (strcmp(k, reserved_env[i]) == 0) {
                snprintf(msg, msglen,
                         "Lambda was unable to configure your environment variables because the "
                         "environment variables you have provided contains reserved keys that "
                         "are currently not supported for modification. Reserved keys used in "
                         "this request: %s",
                         k);
                return ERR_LAMBDA_INVALID_PARAMETER;
            }
        }
        total += strlen(k) + json_string_length(v);
    }
    if (total > 4096) {
        snprintf(msg, msglen,
                 "Lambda was unable to configure your environment variables because the "
                 "environment variables you have provided exceeded the 4KB limit. String "
                 "measured: %zu",
                 total);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    return ERR_OK;
}

/* The service's runtime check: AWS's message for a name it does not know; haar's for one
 * AWS knows but haar cannot run (Java, .NET, Ruby: no interpreter client here). */
static enum err check_runtime(const char *runtime, char *msg, size_t msglen)
{
    for (size_t i = 0; i < sizeof(runtimes_ok) / sizeof(runtimes_ok[0]); i++)
        if (strcmp(runtime, runtimes_ok[i]) == 0)
            return ERR_OK;
    bool known = false;
    for (size_t i = 0; i < sizeof(runtimes_known) / sizeof(runtimes_known[0]); i++)
        known |= strcmp(runtime, runtimes_known[i]) == 0;
    if (known) {
        snprintf(msg, msglen,
                 "The runtime parameter of %.*s is not supported by this endpoint: use "
                 "python3.9-python3.14, nodejs18.x-nodejs24.x, provided.al2023 or provided.al2 "
                 "(a bootstrap executable).",
                 utf8_prefix(runtime, 64), runtime);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    char list[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < sizeof(runtimes_ok) / sizeof(runtimes_ok[0]) && off < sizeof list; i++)
        off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "",
                                runtimes_ok[i]);
    snprintf(msg, msglen,
             "Value '%.*s' at 'runtime' failed to satisfy constraint: Member must satisfy enum "
             "value set: [%s] or be a valid ARN",
             utf8_prefix(runtime, 256), runtime, list);
    return ERR_LAMBDA_INVALID_PARAMETER;
}

/* The service's limit on a bare function name (ARNs may be longer): AWS answers
 * InvalidParameterValueException, worded as a model constraint. */
static enum err check_plain_name(const char *name, char *msg, size_t msglen)
{
    if (strchr(name, ':') != NULL)
        return ERR_OK;
    enum err e =
        lambda_validate_value("PlainFunctionName", "functionName", name, strlen(name), msg, msglen);
    return e == ERR_LAMBDA_VALIDATION ? ERR_LAMBDA_INVALID_PARAMETER : e;
}

static int int_member(const json_t *doc, const char *key)
{
    long long v = 0;
    return jsonh_int(doc, key, &v) == 1 ? (int)v : 0; /* range-checked by the model */
}

enum err lambda_parse_fn_spec(const char *body, size_t len, bool update, json_t **doc,
                              struct lambda_fn_spec *spec, struct buf *zip, char *msg,
                              size_t msglen)
{
    char perr[160] = "";
    memset(spec, 0, sizeof(*spec));
    *doc = jsonh_parse(body, len, perr, sizeof(perr));
    utf8_scrub(perr);
    if (*doc == NULL || !json_is_object(*doc)) {
        snprintf(msg, msglen, "Could not parse request body into json: %s",
                 *doc ? "not an object" : perr);
        json_decref(*doc);
        *doc = NULL;
        return ERR_LAMBDA_INVALID_CONTENT;
    }
    json_t *d = *doc;
    /* the model first: types, lengths, patterns, enums, ranges, NUL characters */
    enum err e = lambda_validate_request(update ? "UpdateFunctionConfiguration" : "CreateFunction",
                                         d, NULL, 0, msg, msglen);
    if (e != ERR_OK)
        return e;
    spec->runtime = jsonh_str(d, "Runtime", NULL);
    spec->role = jsonh_str(d, "Role", NULL);
    spec->handler = jsonh_str(d, "Handler", NULL);
    spec->description = jsonh_str(d, "Description", NULL);
    spec->timeout = int_member(d, "Timeout");
    spec->memory = int_member(d, "MemorySize");
    spec->architecture = json_string_value(json_array_get(json_object_get(d, "Architectures"), 0));
    spec->revision_id = update ? jsonh_str(d, "RevisionId", NULL) : NULL;
    spec->publish = !update && json_is_true(json_object_get(d, "Publish"));
    json_t *layers = json_object_get(d, "Layers");
    if (json_is_array(layers)) {
        spec->layers = layers;
        spec->has_layers = true;
    }
    /* then the service's own checks */
    if (!update) {
        spec->name = jsonh_str(d, "FunctionName", NULL);
        e = check_plain_name(spec->name, msg, msglen);
        if (e != ERR_OK)
            return e;
        if (spec->runtime == NULL) {
            snprintf(msg, msglen, "Runtime is required for .zip deployment package.");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
    }
    if (spec->runtime != NULL && (e = check_runtime(spec->runtime, msg, msglen)) != ERR_OK)
        return e;
    json_t *env = json_object_get(d, "Environment");
    if (json_is_object(env)) {
        json_t *vars = json_object_get(env, "Variables");
        if (json_is_object(vars)) {
            e = check_env(vars, msg, msglen);
            if (e != ERR_OK)
                return e;
            spec->env_vars = vars;
        }
        spec->has_env = true;
    }
    json_t *tags = json_object_get(d, "Tags");
    if (!update && json_is_object(tags)) {
        e = lambda_check_tags(tags, msg, msglen);
        if (e != ERR_OK)
            return e;
        spec->tags = tags;
    }
    if (!update) {
        json_t *zf = json_object_get(json_object_get(d, "Code"), "ZipFile");
        if (!json_is_string(zf)) {
            json_t *code = json_object_get(d, "Code");
            if (json_string_value(json_object_get(code, "S3Bucket")) ||
                json_string_value(json_object_get(code, "ImageUri")))
                snprintf(msg, msglen,
                         "Only Code.ZipFile is supported by this endpoint (no S3 or images)");
            else
                snprintf(msg, msglen, "Please provide a source for function code.");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        int rc = codec_b64_decode(json_string_value(zf), json_string_length(zf), zip);
        if (rc != BUF_OK) {
            snprintf(msg, msglen,
                     rc == BUF_ETOOBIG ? "Unzipped size must be smaller than 262144000 bytes"
                                       : "Could not unzip uploaded file. Please check your file, "
                                         "then try to upload again.");
            return rc == BUF_ETOOBIG ? ERR_LAMBDA_TOO_LARGE : ERR_LAMBDA_INVALID_PARAMETER;
        }
        spec->zip = zip->data;
        spec->zip_len = zip->len;
    }
    return ERR_OK;
}

enum err lambda_check_tags(json_t *tags, char *msg, size_t msglen)
{
    const char *k;
    json_t *v;
    if (!json_is_object(tags)) {
        snprintf(msg, msglen, "Unexpected value type for Tags: expected a map of strings");
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    if (json_object_size(tags) > LAMBDA_MAX_TAGS) {
        snprintf(msg, msglen, "The number of tags exceeds the limit of %d for this resource.",
                 LAMBDA_MAX_TAGS);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    json_object_foreach(tags, k, v)
    {
        size_t kl = utf8_chars(k); /* jansson keys hold no NUL */
        if (kl < 1 || kl > 128) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value '%.*s' at 'tags' failed to satisfy "
                     "constraint: Map keys must have length between 1 and 128",
                     utf8_prefix(k, 512), k);
            return ERR_LAMBDA_VALIDATION;
        }
        if (!json_is_string(v)) {
            snprintf(msg, msglen, "Unexpected value type for tag %.*s: expected a string",
                     utf8_prefix(k, 512), k);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        const char *val = json_string_value(v);
        size_t vlen = json_string_length(v);
        if (lambda__codepoints(val, vlen) > 256) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value at 'tags.%.*s' failed to satisfy "
                     "constraint: Member must have length less than or equal to 256",
                     utf8_prefix(k, 512), k);
            return ERR_LAMBDA_VALIDATION;
        }
        if (memchr(val, '\0', vlen) != NULL) {
            snprintf(msg, msglen,
                     "Invalid value at 'tags.%.*s': strings with NUL characters are not "
                     "accepted",
                     utf8_prefix(k, 512), k);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (strncasecmp(k, "aws:", 4) == 0) {
            snprintf(msg, msglen, "Tag keys starting with 'aws:' are reserved for AWS use: %.*s",
                     utf8_prefix(k, 512), k);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
    }
    return ERR_OK;
}

enum err lambda_decode_client_context(const char *b64, size_t len, struct buf *out)
{
    if (len > 3583 * 4 / 3 + 4)
        return ERR_LAMBDA_INVALID_CONTENT;
    if (codec_b64_decode(b64, len, out) != BUF_OK || out->len > 3583)
        return ERR_LAMBDA_INVALID_CONTENT;
    json_t *j = jsonh_parse(out->data, out->len, NULL, 0);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok ? ERR_OK : ERR_LAMBDA_INVALID_CONTENT;
}
