/* Unit tests: core/log — one line per event, level checked before formatting, escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"

static int formatted;

static const char *count_format(void)
{
    formatted++;
    return "x";
}

static void test_line_shape_and_escaping(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    log_set_stream(f);
    log_set_level(LOG_LEVEL_INFO);
    LOG_INFO("invoke", "rid-1", "hello \"there\"\nsecond line");
    fflush(f);
    assert_non_null(strstr(
        text, "level=info event=invoke rid=rid-1 msg=\"hello \\\"there\\\"\\nsecond line\"\n"));
    assert_int_equal(strchr(text, '\n') - text + 1, (long)strlen(text)); /* one line */
    log_set_stream(NULL);
    fclose(f);
    free(text);
}

static void test_level_checked_before_formatting(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    log_set_stream(f);
    log_set_level(LOG_LEVEL_WARN);
    formatted = 0;
    LOG_INFO("skip", NULL, "%s", count_format());
    assert_int_equal(formatted, 0);
    LOG_WARN("keep", NULL, "%s", count_format());
    assert_int_equal(formatted, 1);
    fflush(f);
    assert_null(strstr(text, "event=skip"));
    assert_non_null(strstr(text, "event=keep"));
    assert_int_equal(log_set_level_name("debug"), 0);
    assert_int_equal(log_current_level, LOG_LEVEL_DEBUG);
    assert_int_equal(log_set_level_name("loud"), -1);
    log_set_level(LOG_LEVEL_INFO);
    log_set_stream(NULL);
    fclose(f);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_shape_and_escaping),
        cmocka_unit_test(test_level_checked_before_formatting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
