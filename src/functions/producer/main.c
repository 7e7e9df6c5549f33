/*
 * The producer's bootstrap (see producer.h).
 */
#include "functions/producer/producer.h"

#include "functions/common/fn.h"

int main(void)
{
    static struct fn_app app;
    return runtime_main(producer_init, producer_handle, &app);
}
