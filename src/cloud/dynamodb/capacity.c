/*
 * capacity.c — read/write unit arithmetic and the ConsumedCapacity object (see capacity.h).
 */
#include "cloud/dynamodb/capacity.h"

#include <stdlib.h>
#include <string.h>

double ddb_read_units(size_t bytes, enum ddb_read_mode mode)
{
    double units = (double)(bytes == 0 ? 1 : (bytes + 4095) / 4096);
    switch (mode) {
    case DDB_READ_EVENTUAL:
        return units / 2;
    case DDB_READ_TRANSACTIONAL:
        return units * 2;
    case DDB_READ_STRONG:
        break;
    }
    return units;
}

double ddb_write_units(size_t bytes, bool transactional)
{
    double units = (double)(bytes == 0 ? 1 : (bytes + 1023) / 1024);
    return transactional ? units * 2 : units;
}

void ddb_capacity_init(struct ddb_capacity *c, const char *table)
{
    memset(c, 0, sizeof *c);
    c->table = table ? strdup(table) : NULL;
}

void ddb_capacity_destroy(struct ddb_capacity *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nindexes; i++)
        free(c->indexes[i].name);
    free(c->indexes);
    free(c->table);
    memset(c, 0, sizeof *c);
}

void ddb_capacity_add_table(struct ddb_capacity *c, enum ddb_cap_kind kind, double units)
{
    if (kind == DDB_CAP_READ)
        c->read += units;
    else
        c->write += units;
}

int ddb_capacity_add_index(struct ddb_capacity *c, const char *index, bool global,
                           enum ddb_cap_kind kind, double units)
{
    struct ddb_cap_index *ix = NULL;
    for (size_t i = 0; i < c->nindexes; i++)
        if (strcmp(c->indexes[i].name, index) == 0)
            ix = &c->indexes[i];
    if (ix == NULL) {
        struct ddb_cap_index *grown = realloc(c->indexes, (c->nindexes + 1) * sizeof *grown);
        if (grown == NULL)
            return -1;
        c->indexes = grown;
        ix = &grown[c->nindexes];
        memset(ix, 0, sizeof *ix);
        ix->name = strdup(index);
        if (ix->name == NULL)
            return -1;
        ix->global = global;
        c->nindexes++;
    }
    if (kind == DDB_CAP_READ)
        ix->read += units;
    else
        ix->write += units;
    return 0;
}

/* {"CapacityUnits": r+w} plus the split when asked. */
static json_t *units_json(double read, double write, bool split)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "CapacityUnits", json_real(read + write));
    if (split && read > 0)
        json_object_set_new(o, "ReadCapacityUnits", json_real(read));
    if (split && write > 0)
        json_object_set_new(o, "WriteCapacityUnits", json_real(write));
    return o;
}

json_t *ddb_capacity_to_json(const struct ddb_capacity *c, bool indexes)
{
    double read = c->read, write = c->write;
    for (size_t i = 0; i < c->nindexes; i++) {
        read += c->indexes[i].read;
        write += c->indexes[i].write;
    }
    json_t *o = units_json(read, write, c->split);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "TableName", json_string(c->table ? c->table : ""));
    if (!indexes)
        return o;
    json_object_set_new(o, "Table", units_json(c->read, c->write, c->split));
    json_t *gsi = NULL, *lsi = NULL;
    for (size_t i = 0; i < c->nindexes; i++) {
        const struct ddb_cap_index *ix = &c->indexes[i];
        json_t **group = ix->global ? &gsi : &lsi;
        if (*group == NULL)
            *group = json_object();
        if (*group != NULL)
            json_object_set_new(*group, ix->name, units_json(ix->read, ix->write, c->split));
    }
    if (gsi != NULL)
        json_object_set_new(o, "GlobalSecondaryIndexes", gsi);
    if (lsi != NULL)
        json_object_set_new(o, "LocalSecondaryIndexes", lsi);
    return o;
}
