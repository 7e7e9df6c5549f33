/*
 * test_lambda_host.h — the parts of a fake struct lambda_host that unit tests running a
 * Lambda engine share (included by test_lambda_*.c and test_events_engine.c; not a test
 * itself). No listener is kept and no runtime output is watched: a watched pipe is closed at
 * once. Each test defines its own fake_listen (what it records of an environment differs).
 */
#ifndef HAAR_TEST_LAMBDA_HOST_H
#define HAAR_TEST_LAMBDA_HOST_H

#include <stddef.h>
#include <unistd.h>

static void fake_unlisten(void *arg, void *l)
{
    (void)arg;
    (void)l;
}

static void *fake_watch(void *arg, int fd, void (*on_data)(void *, const char *, size_t),
                        void *cbarg)
{
    (void)arg;
    (void)on_data;
    (void)cbarg;
    close(fd);
    return NULL;
}

static void fake_unwatch(void *h)
{
    (void)h;
}

#endif
