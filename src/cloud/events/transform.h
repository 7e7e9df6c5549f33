/*
 * transform.h — a target's input options (PutTargets Input, InputPath, InputTransformer):
 * validated once, then applied to each matched event to make the body sent to the target.
 *
 *   none             the whole event, as JSON
 *   Input            that JSON text, as given (nothing from the event)
 *   InputPath        the value at a JSONPath in dot notation ("$", "$.detail.state")
 *   InputTransformer InputPathsMap (up to 100 names → JSONPaths) and InputTemplate (up to
 *                    8192 characters) with <name> placeholders and the predefined
 *                    <aws.events.rule-arn>, <aws.events.rule-name>,
 *                    <aws.events.event.ingestion-time>, <aws.events.event> (the event
 *                    without "detail", "detail-type" named "detailType", as AWS sends it) and
 *                    <aws.events.event.json> (the whole event); the last two only in a
 *                    template that is a JSON object.
 * Substitution (the user guide's eb-transform-target-input rules): inside a JSON string
 * ("...<name>...") a value goes in as text, not escaped (a string without its quotes); outside
 * one it goes in as JSON (a string quoted). A path missing from the event gives "" inside a
 * string and null outside. A result that is JSON is minified (whitespace outside strings
 * removed); any other text is sent as it is.
 *
 * Messages are ValidationException texts (AWS-RECORDED.md §4 where recorded; see
 * transform.c for the source of each). Thread-safe once built; build/free from one thread.
 */
#ifndef HAAR_CLOUD_EVENTS_TRANSFORM_H
#define HAAR_CLOUD_EVENTS_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Limits from the botocore events model (TargetInput, TargetInputPath, TransformerInput,
 * TransformerPaths, InputTransformerPathKey). */
#define EVENTS_INPUT_MAX         8192
#define EVENTS_INPUT_PATH_MAX    256
#define EVENTS_TEMPLATE_MAX      8192
#define EVENTS_PATHS_MAP_MAX     100
#define EVENTS_PATHS_MAP_KEY_MAX 256

/* Room enough for any message events_input_new writes. */
#define EVENTS_INPUT_ERR_MAX 512

/* A target's input options (absent members NULL). paths_map is a JSON object of
 * name → JSONPath strings (borrowed); has_transformer says InputTransformer was given. */
struct events_input_spec {
    const char *target_id;
    const char *input;
    const char *input_path;
    int has_transformer;
    const json_t *paths_map;
    const char *template_;
};

/* What the predefined placeholders stand for, per delivery (all borrowed). */
struct events_input_ctx {
    const char *rule_arn;
    const char *rule_name;
    const char *ingestion_time; /* "2026-11-24T12:00:00Z" */
};

struct events_input;

/*
 * Validates a target's input options as PutTargets does and compiles them. Returns a new
 * object (free with events_input_free), or NULL with the ValidationException message in
 * err (EVENTS_INPUT_ERR_MAX suffices).
 */
struct events_input *events_input_new(const struct events_input_spec *spec, char *err,
                                      size_t errlen);

/* Frees; accepts NULL. */
void events_input_free(struct events_input *in);

/* True when the target takes the whole event (no input options): its body is
 * events_input_event_text's, the same for every such target, so callers may share one copy. */
bool events_input_is_event(const struct events_input *in);

/* The whole event (a JSON object, borrowed) as a target without input options gets it.
 * Returns a new NUL-terminated string (free()) and its length in *len, or NULL when out of
 * memory. */
char *events_input_event_text(const json_t *event, size_t *len);

/*
 * The body for one matched event (a JSON object, borrowed). Returns a new NUL-terminated
 * string (free()) and its length in *len, or NULL when out of memory.
 */
char *events_input_render(const struct events_input *in, const json_t *event,
                          const struct events_input_ctx *ctx, size_t *len);

/*
 * The value at a dot-notation JSONPath ("$", "$.a.b") in doc, or NULL when the path is not
 * in it. Borrowed. Returns NULL for a malformed path too (see events_json_path_valid).
 */
const json_t *events_json_path(const json_t *doc, const char *path);

/* True for "$" and "$.name(.name)*" with non-empty names (no brackets, no wildcards). */
int events_json_path_valid(const char *path);

#endif
