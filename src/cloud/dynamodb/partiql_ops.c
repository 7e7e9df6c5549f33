#include "cloud/dynamodb/ddb_int.h"
void ddb__op_partiql(struct ddb_call *c)
{
    ddb__fail(c, ERR_DDB_VALIDATION, "not yet");
    ddb__finish(c);
}
