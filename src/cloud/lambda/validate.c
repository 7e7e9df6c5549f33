/*
 * validate.c — the Lambda engine's pure parsers and validators (no state, fuzzed by
 * tests/fuzz/fuzz_lambda_*.c): function names and ARNs, percent-decoding, role ARNs,
 * CreateFunction/UpdateFunctionConfiguration bodies, X-Amz-Client-Context.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cloud/lambda/lambda.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/utf8.h"

long lambda_pct_decode(const char *in, size_t len, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (o + 1 >= outlen)
            return -1;
        char c = in[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = codec_hexval(in[i + 1]), l = codec_hexval(in[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        }
        if (c == '\0')
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return (long)o;
}

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

static void validation_msg(char *msg, size_t msglen, const char *value, size_t vlen)
{
    snprintf(msg, msglen,
             "1 validation error detected: Value '%.*s' at 'functionName' failed to satisfy "
             "constraint: Member must satisfy regular expression pattern: "
             "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
             "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?",
             (int)(vlen > 140 ? 140 : vlen), value);
}

enum err lambda_resolve_name(const char *in, size_t len, char *name, size_t namelen, char *msg,
                             size_t msglen)
{
    /* split on ':' into at most 8 parts */
    const char *part[8];
    size_t plen[8];
    size_t n = 0;
    size_t start = 0;
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
    if (!all_name_chars(part[idx], plen[idx]) || plen[idx] > 64 || plen[idx] + 1 > namelen)
        goto invalid;
    if (idx + 1 < n) {
        const char *q = part[idx + 1];
        size_t ql = plen[idx + 1];
        if (ql == 0)
            goto invalid;
        if (!(ql == 7 && memcmp(q, "$LATEST", 7) == 0)) {
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
    validation_msg(msg, msglen, in, len);
    return ERR_LAMBDA_VALIDATION;
}

bool lambda_valid_role(const char *role)
{
    /* arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+ */
    if (strncmp(role, "arn:", 4) != 0)
        return false;
    const char *p = role + 4;
    if (strncmp(p, "aws", 3) == 0) {
        p += 3;
        while (isalpha((unsigned char)*p) || *p == '-')
            p++;
    }
    if (strncmp(p, ":iam::", 6) != 0)
        return false;
    p += 6;
    for (int i = 0; i < 12; i++, p++)
        if (!isdigit((unsigned char)*p))
            return false;
    if (strncmp(p, ":role/", 6) != 0)
        return false;
    p += 6;
    if (*p == '\0')
        return false;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr("_+=,.@-/", *p) == NULL)
            return false;
    return strlen(role) <= 2048;
}

static const char *const runtimes_ok[] = {"provided.al2023", "provided.al2"};
static const char *const runtimes_known[] = {"nodejs18.x", "nodejs20.x", "nodejs22.x", "python3.9",
                                             "python3.10", "python3.11", "python3.12", "python3.13",
                                             "java11",     "java17",     "java21",     "dotnet8",
                                             "ruby3.2",    "ruby3.3",    "provided"};

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

static enum err check_env(const json_t *vars, char *msg, size_t msglen)
{
    if (!json_is_object(vars)) {
        snprintf(msg, msglen, "Environment.Variables must be a map of strings");
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)vars, k, v)
    {
        if (!json_is_string(v)) {
            snprintf(msg, msglen, "Environment variable %s must be a string", k);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (!isalpha((unsigned char)k[0]) || strlen(k) < 2) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value at 'environment.variables' failed to "
                     "satisfy constraint: Map keys must satisfy constraint: [Member must satisfy "
                     "regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
            return ERR_LAMBDA_VALIDATION;
        }
        for (const char *c = k; *c; c++) {
            if (!isalnum((unsigned char)*c) && *c != '_') {
                snprintf(msg, msglen,
                         "1 validation error detected: Value at 'environment.variables' failed "
                         "to satisfy constraint: Map keys must satisfy constraint: [Member must "
                         "satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]");
                return ERR_LAMBDA_VALIDATION;
            }
        }
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

static enum err range(const json_t *doc, const char *key, const char *member, long lo, long hi,
                      int *out, char *msg, size_t msglen)
{
    long long v;
    int rc = jsonh_int(doc, key, &v);
    if (rc == 0)
        return ERR_OK;
    if (rc < 0) {
        snprintf(msg, msglen, "Unexpected value type for %s: expected an integer", key);
        return ERR_LAMBDA_INVALID_PARAMETER;
    }
    if (v < lo || v > hi) {
        snprintf(msg, msglen,
                 "1 validation error detected: Value '%lld' at '%s' failed to satisfy "
                 "constraint: Member must have value %s than or equal to %ld",
                 v, member, v < lo ? "greater" : "less", v < lo ? lo : hi);
        return ERR_LAMBDA_VALIDATION;
    }
    *out = (int)v;
    return ERR_OK;
}

static const char *const str_fields[] = {"FunctionName", "Runtime", "Role", "Handler",
                                         "Description"};

enum err lambda_parse_fn_spec(const char *body, size_t len, bool update, json_t **doc,
                              struct lambda_fn_spec *spec, struct buf *zip, char *msg,
                              size_t msglen)
{
    char perr[160];
    memset(spec, 0, sizeof(*spec));
    *doc = jsonh_parse(body, len, perr, sizeof(perr));
    if (*doc == NULL || !json_is_object(*doc)) {
        snprintf(msg, msglen, "Could not parse request body into json: %s",
                 *doc ? "not an object" : perr);
        json_decref(*doc);
        *doc = NULL;
        return ERR_LAMBDA_INVALID_CONTENT;
    }
    json_t *d = *doc;
    for (size_t i = 0; i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
        json_t *v = json_object_get(d, str_fields[i]);
        if (v != NULL && !json_is_string(v)) {
            snprintf(msg, msglen, "Unexpected value type for %s: expected a string", str_fields[i]);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
    }
    spec->runtime = jsonh_str(d, "Runtime", NULL);
    spec->role = jsonh_str(d, "Role", NULL);
    spec->handler = jsonh_str(d, "Handler", NULL);
    spec->description = jsonh_str(d, "Description", NULL);
    if (!update) {
        spec->name = jsonh_str(d, "FunctionName", NULL);
        if (spec->name == NULL) {
            snprintf(msg, msglen, "FunctionName is required");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (spec->role == NULL) {
            snprintf(msg, msglen, "Role is required");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (spec->runtime == NULL) {
            snprintf(msg, msglen, "Runtime is required for .zip deployment package.");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
    }
    if (spec->role != NULL && !lambda_valid_role(spec->role)) {
        snprintf(msg, msglen,
                 "1 validation error detected: Value '%.200s' at 'role' failed to satisfy "
                 "constraint: Member must satisfy regular expression pattern: "
                 "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
                 spec->role);
        return ERR_LAMBDA_VALIDATION;
    }
    if (spec->runtime != NULL) {
        bool ok = false, known = false;
        for (size_t i = 0; i < sizeof(runtimes_ok) / sizeof(runtimes_ok[0]); i++)
            ok |= strcmp(spec->runtime, runtimes_ok[i]) == 0;
        for (size_t i = 0; i < sizeof(runtimes_known) / sizeof(runtimes_known[0]); i++)
            known |= strcmp(spec->runtime, runtimes_known[i]) == 0;
        if (!ok) {
            if (known)
                snprintf(msg, msglen,
                         "The runtime parameter of %.64s is not supported by this endpoint: use "
                         "provided.al2023 or provided.al2 (a bootstrap executable).",
                         spec->runtime);
            else
                snprintf(msg, msglen,
                         "Value '%.64s' at 'runtime' failed to satisfy constraint: Member must "
                         "satisfy enum value set: [provided.al2023, provided.al2] or be a valid "
                         "ARN",
                         spec->runtime);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
    }
    enum err e = range(d, "Timeout", "timeout", 1, 900, &spec->timeout, msg, msglen);
    if (e == ERR_OK)
        e = range(d, "MemorySize", "memorySize", 128, 10240, &spec->memory, msg, msglen);
    if (e != ERR_OK)
        return e;
    json_t *arch = json_object_get(d, "Architectures");
    if (arch != NULL) {
        const char *a = json_string_value(json_array_get(arch, 0));
        if (!json_is_array(arch) || json_array_size(arch) != 1 || a == NULL ||
            (strcmp(a, "x86_64") != 0 && strcmp(a, "arm64") != 0)) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value at 'architectures' failed to satisfy "
                     "constraint: Member must have length less than or equal to 1, and each "
                     "member must be one of [x86_64, arm64]");
            return ERR_LAMBDA_VALIDATION;
        }
        spec->architecture = a;
    }
    json_t *env = json_object_get(d, "Environment");
    if (env != NULL) {
        json_t *vars = json_object_get(env, "Variables");
        if (!json_is_object(env)) {
            snprintf(msg, msglen, "Environment must be an object");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (vars != NULL) {
            e = check_env(vars, msg, msglen);
            if (e != ERR_OK)
                return e;
            spec->env_vars = vars;
        }
        spec->has_env = true;
    }
    json_t *tags = json_object_get(d, "Tags");
    if (!update && tags != NULL && !json_is_null(tags)) {
        e = lambda_check_tags(tags, msg, msglen);
        if (e != ERR_OK)
            return e;
        spec->tags = tags;
    }
    if (!update) {
        json_t *code = json_object_get(d, "Code");
        const char *zf = jsonh_str(code, "ZipFile", NULL);
        if (zf == NULL) {
            if (json_object_get(code, "S3Bucket") || json_object_get(code, "ImageUri"))
                snprintf(msg, msglen,
                         "Only Code.ZipFile is supported by this endpoint (no S3 or images)");
            else
                snprintf(msg, msglen, "Please provide a source for function code.");
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        int rc = codec_b64_decode(zf, strlen(zf), zip);
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
        size_t kl = utf8_chars(k);
        if (kl < 1 || kl > 128) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value '%.140s' at 'tags' failed to satisfy "
                     "constraint: Map keys must have length between 1 and 128",
                     k);
            return ERR_LAMBDA_VALIDATION;
        }
        if (!json_is_string(v)) {
            snprintf(msg, msglen, "Unexpected value type for tag %.128s: expected a string", k);
            return ERR_LAMBDA_INVALID_PARAMETER;
        }
        if (utf8_chars(json_string_value(v)) > 256) {
            snprintf(msg, msglen,
                     "1 validation error detected: Value at 'tags.%.128s' failed to satisfy "
                     "constraint: Member must have length less than or equal to 256",
                     k);
            return ERR_LAMBDA_VALIDATION;
        }
        if (strncasecmp(k, "aws:", 4) == 0) {
            snprintf(msg, msglen, "Tag keys starting with 'aws:' are reserved for AWS use: %.128s",
                     k);
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
