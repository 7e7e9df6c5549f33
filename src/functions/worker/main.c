/*
 * The worker's bootstrap (see worker.h).
 */
#include "functions/worker/worker.h"

int main(void)
{
    static struct fn_app app;
    return runtime_main(worker_init, worker_handle, &app);
}
