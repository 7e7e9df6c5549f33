#include "core/work.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

enum { MAX_THREADS = 16 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;      /* work queued, or stop */
static pthread_cond_t idle_cv = PTHREAD_COND_INITIALIZER; /* a work finished */
static struct work *queue_head, *queue_tail, *done_head, *done_tail;
static pthread_t threads[MAX_THREADS];
static int nthreads, running, pending; /* pending: submitted, done not yet collected */
static bool stopping;
static int efd = -1;

static void push(struct work **head, struct work **tail, struct work *w)
{
    w->next = NULL;
    if (*tail)
        (*tail)->next = w;
    else
        *head = w;
    *tail = w;
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (queue_head == NULL && !stopping)
            pthread_cond_wait(&cv, &mu);
        if (queue_head == NULL)
            break;
        struct work *w = queue_head;
        queue_head = w->next;
        if (queue_head == NULL)
            queue_tail = NULL;
        running++;
        pthread_mutex_unlock(&mu);
        w->run(w);
        pthread_mutex_lock(&mu);
        running--;
        push(&done_head, &done_tail, w);
        pthread_cond_broadcast(&idle_cv);
        uint64_t one = 1;
        ssize_t r = write(efd, &one, sizeof one);
        (void)r;
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int work_start(int n)
{
    if (nthreads > 0)
        return 0;
    if (n < 1)
        n = 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0)
        return -1;
    stopping = false;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, worker, NULL) != 0)
            break;
        nthreads++;
    }
    return nthreads > 0 ? 0 : -1;
}

void work_stop(void)
{
    if (nthreads == 0)
        return;
    work_drain();
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    nthreads = 0;
    close(efd);
    efd = -1;
}

void work_submit(struct work *w)
{
    pthread_mutex_lock(&mu);
    pending++;
    if (nthreads == 0) {
        pthread_mutex_unlock(&mu);
        w->run(w);
        pthread_mutex_lock(&mu);
        push(&done_head, &done_tail, w);
    } else {
        push(&queue_head, &queue_tail, w);
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
}

int work_notify_fd(void)
{
    return efd;
}

int work_poll(void)
{
    if (efd >= 0) {
        uint64_t v;
        ssize_t r = read(efd, &v, sizeof v);
        (void)r;
    }
    pthread_mutex_lock(&mu);
    struct work *list = done_head;
    done_head = done_tail = NULL;
    pthread_mutex_unlock(&mu);
    int n = 0;
    while (list) {
        struct work *next = list->next;
        pthread_mutex_lock(&mu);
        pending--;
        pthread_mutex_unlock(&mu);
        list->done(list);
        list = next;
        n++;
    }
    return n;
}

void work_drain(void)
{
    for (;;) {
        pthread_mutex_lock(&mu);
        while (queue_head != NULL || running > 0)
            pthread_cond_wait(&idle_cv, &mu);
        bool more = pending > 0;
        pthread_mutex_unlock(&mu);
        if (!more || work_poll() == 0)
            break;
    }
}
