/*
 * taskdb.c — the tasks table and queue (see taskdb.h). Every expression names its
 * attributes through placeholders: status, result and source are DynamoDB reserved words.
 */
#include "functions/common/taskdb.h"

#include <stdio.h>
#include <string.h>

#include "aws/sqs.h"
#include "core/jsonw.h"

#define CCF "ConditionalCheckFailedException"

/* The placeholders of the expressions here (DynamoDB refuses unused ones, so each
 * expression gets exactly its own). */
static const struct aws_ddb_name NAME_ID[] = {{"#id", "id"}};
static const struct aws_ddb_name NAME_STATUS[] = {{"#s", "status"}};
static const struct aws_ddb_name NAME_STATUS_RESULT[] = {{"#s", "status"}, {"#r", "result"}};

void taskdb_init(struct taskdb *db, const struct fn_app *app)
{
    db->aws = app->aws;
    db->table = app->env.table;
    db->index = app->env.status_index;
    db->queue_url = app->env.queue_url;
}

static bool is_ccf(const struct aws_error *err)
{
    return aws_error_is(err, CCF);
}

int taskdb_create(struct taskdb *db, const struct taskdb_new *t, int64_t deadline,
                  struct aws_ddb_item **existing, struct aws_error *err)
{
    char now[25];
    fn_iso_ms(t->now_ms, now);
    struct aws_ddb_attr item[11] = {
        {"id", aws_ddb_s(t->id)},
        {"kind", aws_ddb_s(t->kind)},
        {"payload", aws_ddb_sn(t->payload, t->payload_len)},
        {"status", aws_ddb_s("QUEUED")},
        {"created_at", aws_ddb_s(now)},
        {"updated_at", aws_ddb_s(now)},
        {"attempts", aws_ddb_n(0)},
        {"source", aws_ddb_s(t->source)},
        {"expires_at", aws_ddb_n(t->now_ms / 1000 + (int64_t)TASK_TTL_DAYS * 86400)},
    };
    size_t n = 9;
    if (t->idempotency_key != NULL) {
        item[n++] = (struct aws_ddb_attr){"idempotency_key", aws_ddb_s(t->idempotency_key)};
        if (t->request_hash != NULL)
            item[n++] = (struct aws_ddb_attr){"request_hash", aws_ddb_s(t->request_hash)};
    }
    struct aws_ddb_put p = {.table = db->table,
                            .item = item,
                            .nitem = n,
                            .condition = "attribute_not_exists(#id)",
                            .names = NAME_ID,
                            .nnames = 1,
                            .old_on_condition_failure = true};
    return aws_ddb_put_item(db->aws, &p, deadline, existing, err);
}

int taskdb_enqueue(struct taskdb *db, const char *id, const char *kind, int64_t deadline,
                   struct aws_error *err)
{
    char body[256], mid[AWS_SQS_MESSAGE_ID_MAX];
    struct buf b;
    struct jsonw w;
    buf_init(&b, sizeof body);
    jw_init(&w, &b);
    jw_obj(&w);
    jw_kstr(&w, "id", id);
    jw_kstr(&w, "kind", kind);
    jw_obj_end(&w);
    if (!jw_ok(&w)) {
        buf_destroy(&b);
        memset(err, 0, sizeof *err);
        err->rc = AWS_EINVAL;
        snprintf(err->message, sizeof err->message, "the task's message does not fit");
        return err->rc;
    }
    struct aws_sqs_message m = {
        .queue_url = db->queue_url, .body = b.data, .body_len = b.len, .delay_seconds = -1};
    int rc = aws_sqs_send_message(db->aws, &m, deadline, mid, err);
    buf_destroy(&b);
    return rc;
}

/* The UpdateItem on the task `id` that every state change below is: `update` under
 * `condition`, with its own placeholders. With task non-NULL, *task is the task after the
 * write, or as it was when the condition failed (NULL when missing); with NULL, nothing
 * comes back. */
static int update_task(struct taskdb *db, const char *id, const char *update, const char *condition,
                       const struct aws_ddb_name *names, size_t nnames,
                       const struct aws_ddb_attr *values, size_t nvalues, int64_t deadline,
                       struct aws_ddb_item **task, struct aws_error *err)
{
    struct aws_ddb_attr key[] = {{"id", aws_ddb_s(id)}};
    struct aws_ddb_update u = {.table = db->table,
                               .key = key,
                               .nkey = 1,
                               .update = update,
                               .condition = condition,
                               .names = names,
                               .nnames = nnames,
                               .values = values,
                               .nvalues = nvalues};
    if (task != NULL) {
        u.ret = AWS_DDB_RETURN_ALL_NEW;
        u.old_on_condition_failure = true;
    }
    return aws_ddb_update_item(db->aws, &u, deadline, task, err);
}

/* The Query of the tasks whose status is the value `:s` of values, through the status
 * index. */
static struct aws_ddb_query status_query(const struct taskdb *db, const struct aws_ddb_attr *values)
{
    return (struct aws_ddb_query){.table = db->table,
                                  .index = db->index,
                                  .key_condition = "#s = :s",
                                  .names = NAME_STATUS,
                                  .nnames = 1,
                                  .values = values,
                                  .nvalues = 1};
}

/* Continues q after the index key (id, status, created_at) of a previous page's last
 * item; start holds the key for as long as q is used. */
static void start_after(struct aws_ddb_query *q, struct aws_ddb_attr start[3], const char *id,
                        const char *status, const char *created)
{
    start[0] = (struct aws_ddb_attr){"id", aws_ddb_s(id)};
    start[1] = (struct aws_ddb_attr){"status", aws_ddb_s(status)};
    start[2] = (struct aws_ddb_attr){"created_at", aws_ddb_s(created)};
    q->start_key = start;
    q->nstart = 3;
}

void taskdb_mark_enqueue_failed(struct taskdb *db, const char *id, int64_t now_ms, int64_t deadline)
{
    char now[25];
    struct aws_error err;
    fn_iso_ms(now_ms, now);
    struct aws_ddb_attr values[] = {
        {":q", aws_ddb_s("QUEUED")}, {":t", aws_ddb_bool(true)}, {":now", aws_ddb_s(now)}};
    (void)update_task(db, id, "SET enqueue_failed = :t, updated_at = :now", "#s = :q", NAME_STATUS,
                      1, values, 3, deadline, NULL, &err);
}

bool taskdb_needs_enqueue(const struct aws_ddb_item *task, int64_t now_ms)
{
    const char *status = aws_ddb_item_s(task, "status", NULL);
    if (status == NULL || strcmp(status, "QUEUED") != 0)
        return false;
    if (aws_ddb_item_has(task, "enqueue_failed"))
        return true;
    char cutoff[25];
    fn_iso_ms(now_ms - TASKDB_STALE_MS, cutoff);
    const char *updated = aws_ddb_item_s(task, "updated_at", NULL);
    return updated != NULL && strcmp(updated, cutoff) < 0;
}

int taskdb_get(struct taskdb *db, const char *id, int64_t deadline, struct aws_ddb_item **task,
               struct aws_error *err)
{
    struct aws_ddb_attr key[] = {{"id", aws_ddb_s(id)}};
    struct aws_ddb_get g = {.table = db->table, .key = key, .nkey = 1, .consistent = true};
    return aws_ddb_get_item(db->aws, &g, deadline, task, err);
}

int taskdb_list(struct taskdb *db, enum task_status status, int limit, const char *start_id,
                const char *start_created, int64_t deadline, struct aws_ddb_page *page,
                struct aws_error *err)
{
    const char *name = task_status_name(status);
    struct aws_ddb_attr values[] = {{":s", aws_ddb_s(name)}};
    struct aws_ddb_attr start[3];
    struct aws_ddb_query q = status_query(db, values);
    q.limit = limit;
    q.descending = true;
    if (start_id != NULL && start_created != NULL)
        start_after(&q, start, start_id, name, start_created);
    return aws_ddb_query(db->aws, &q, deadline, page, err);
}

int taskdb_count(struct taskdb *db, enum task_status status, int64_t deadline, int64_t *count,
                 struct aws_error *err)
{
    const char *name = task_status_name(status);
    struct aws_ddb_attr values[] = {{":s", aws_ddb_s(name)}};
    char last_id[TASK_ID_LEN + 1] = "", last_created[64] = "";
    struct aws_ddb_attr start[3];
    *count = 0;
    for (;;) {
        struct aws_ddb_page page;
        struct aws_ddb_query q = status_query(db, values);
        q.count_only = true;
        if (last_id[0] != '\0')
            start_after(&q, start, last_id, name, last_created);
        int rc = aws_ddb_query(db->aws, &q, deadline, &page, err);
        if (rc != AWS_OK) {
            aws_ddb_page_destroy(&page);
            return rc;
        }
        *count += page.matched;
        const char *id = aws_ddb_item_s(page.last_key, "id", NULL);
        const char *created = aws_ddb_item_s(page.last_key, "created_at", NULL);
        bool more = id != NULL && created != NULL && strlen(id) < sizeof last_id &&
                    strlen(created) < sizeof last_created;
        if (more) {
            memcpy(last_id, id, strlen(id) + 1);
            memcpy(last_created, created, strlen(created) + 1);
        }
        aws_ddb_page_destroy(&page);
        if (!more)
            return AWS_OK;
    }
}

int taskdb_start(struct taskdb *db, const char *id, const char *run_id, int64_t now_ms,
                 int64_t lease_until, int64_t deadline, enum taskdb_start *outcome,
                 struct aws_ddb_item **task, struct aws_error *err)
{
    char now[25];
    fn_iso_ms(now_ms, now);
    struct aws_ddb_attr values[] = {
        {":q", aws_ddb_s("QUEUED")},   {":r", aws_ddb_s("RUNNING")},
        {":run", aws_ddb_s(run_id)},   {":lease", aws_ddb_n(lease_until)},
        {":nowms", aws_ddb_n(now_ms)}, {":now", aws_ddb_s(now)},
        {":one", aws_ddb_n(1)},
    };
    *task = NULL;
    int rc = update_task(db, id,
                         "SET #s = :r, run_id = :run, lease_until = :lease, started_at = :now, "
                         "updated_at = :now ADD attempts :one",
                         "#s = :q OR (#s = :r AND lease_until < :nowms)", NAME_STATUS, 1, values, 7,
                         deadline, task, err);
    if (rc == AWS_OK) {
        *outcome = TASKDB_STARTED;
        return AWS_OK;
    }
    if (!is_ccf(err))
        return rc;
    const char *status = aws_ddb_item_s(*task, "status", NULL);
    if (*task == NULL || status == NULL)
        *outcome = TASKDB_MISSING;
    else if (strcmp(status, "SUCCEEDED") == 0 || strcmp(status, "FAILED") == 0)
        *outcome = TASKDB_FINISHED;
    else
        *outcome = TASKDB_BUSY; /* RUNNING elsewhere (or QUEUED again in between) */
    return AWS_OK;
}

int taskdb_succeed(struct taskdb *db, const char *id, const char *run_id, const char *result,
                   size_t result_len, int64_t now_ms, int64_t deadline, struct aws_error *err)
{
    char now[25];
    fn_iso_ms(now_ms, now);
    struct aws_ddb_attr values[] = {
        {":r", aws_ddb_s("RUNNING")}, {":done", aws_ddb_s("SUCCEEDED")},
        {":run", aws_ddb_s(run_id)},  {":res", aws_ddb_sn(result, result_len)},
        {":now", aws_ddb_s(now)},
    };
    return update_task(db, id,
                       "SET #s = :done, #r = :res, finished_at = :now, updated_at = :now "
                       "REMOVE run_id, lease_until, error_code, error_message, enqueue_failed",
                       "#s = :r AND run_id = :run", NAME_STATUS_RESULT, 2, values, 5, deadline,
                       NULL, err);
}

int taskdb_fail(struct taskdb *db, const char *id, const char *run_id, const char *code,
                const char *message, bool final, int64_t now_ms, int64_t deadline,
                struct aws_error *err)
{
    char now[25];
    fn_iso_ms(now_ms, now);
    size_t ml = strnlen(message, TASKDB_MAX_ERROR_MESSAGE);
    struct aws_ddb_attr values[] = {
        {":r", aws_ddb_s("RUNNING")},      {":next", aws_ddb_s(final ? "FAILED" : "QUEUED")},
        {":run", aws_ddb_s(run_id)},       {":code", aws_ddb_s(code)},
        {":msg", aws_ddb_sn(message, ml)}, {":now", aws_ddb_s(now)},
    };
    const char *update = final ? "SET #s = :next, error_code = :code, error_message = :msg, "
                                 "finished_at = :now, updated_at = :now REMOVE run_id, lease_until"
                               : "SET #s = :next, error_code = :code, error_message = :msg, "
                                 "updated_at = :now REMOVE run_id, lease_until";
    return update_task(db, id, update, "#s = :r AND run_id = :run", NAME_STATUS, 1, values, 6,
                       deadline, NULL, err);
}

int taskdb_fail_unstarted(struct taskdb *db, const char *id, const char *code, const char *message,
                          int64_t now_ms, int64_t deadline, struct aws_error *err)
{
    char now[25];
    fn_iso_ms(now_ms, now);
    struct aws_ddb_attr values[] = {
        {":q", aws_ddb_s("QUEUED")},  {":f", aws_ddb_s("FAILED")}, {":code", aws_ddb_s(code)},
        {":msg", aws_ddb_s(message)}, {":now", aws_ddb_s(now)},
    };
    return update_task(db, id,
                       "SET #s = :f, error_code = :code, error_message = :msg, finished_at = :now, "
                       "updated_at = :now",
                       "#s = :q", NAME_STATUS, 1, values, 5, deadline, NULL, err);
}

int taskdb_retry(struct taskdb *db, const char *id, int64_t now_ms, int64_t deadline,
                 struct aws_ddb_item **task, struct aws_error *err)
{
    char now[25];
    fn_iso_ms(now_ms, now);
    struct aws_ddb_attr values[] = {
        {":f", aws_ddb_s("FAILED")},
        {":q", aws_ddb_s("QUEUED")},
        {":now", aws_ddb_s(now)},
        {":one", aws_ddb_n(1)},
    };
    return update_task(db, id,
                       "SET #s = :q, updated_at = :now REMOVE finished_at, enqueue_failed "
                       "ADD retries :one",
                       "#s = :f", NAME_STATUS, 1, values, 4, deadline, task, err);
}

int taskdb_stale(struct taskdb *db, enum task_status status, int64_t now_ms, int limit,
                 int64_t deadline, struct aws_ddb_page *page, struct aws_error *err)
{
    char cutoff[25];
    fn_iso_ms(now_ms - TASKDB_STALE_MS, cutoff);
    bool running = status == TASK_RUNNING;
    struct aws_ddb_attr values[] = {
        {":s", aws_ddb_s(task_status_name(status))},
        {":cutoff", aws_ddb_s(cutoff)},
        {":lease", aws_ddb_n(now_ms - TASKDB_STALE_MS)},
    };
    struct aws_ddb_query q = {.table = db->table,
                              .index = db->index,
                              .key_condition = "#s = :s AND created_at < :cutoff",
                              .filter = running ? "lease_until < :lease" : "updated_at < :cutoff",
                              .names = NAME_STATUS,
                              .nnames = 1,
                              .values = values,
                              .nvalues = running ? 3 : 2,
                              .limit = limit};
    return aws_ddb_query(db->aws, &q, deadline, page, err);
}
