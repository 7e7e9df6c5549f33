/*
 * The api's bootstrap (see api.h).
 */
#include "functions/api/api.h"
#include "functions/common/fn.h"

int main(void)
{
    static struct fn_app app;
    return runtime_main(api_init, api_handle, &app);
}
