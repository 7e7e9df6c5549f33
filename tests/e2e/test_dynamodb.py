"""DynamoDB through Debian's boto3 (client and resource APIs, boto3.dynamodb.conditions):
tables with indexes, items, expressions, condition failures, pagination through several
pages, parallel scans, batches, transactions that cancel, PartiQL, big numbers, tags,
backups, UpdateTable with a backfilled GSI, and the error paths (serialization, validation,
unknown operations, content types, CRC32).

Expected texts come from AWS-RECORDED.md §2, dynalite's tests (written against DynamoDB)
and moto's aws_verified tests; the README lists where haar knowingly differs."""
import json
import zlib
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError

from e2e_helpers import REGION, boto_client, raw_request, unique_name


@pytest.fixture(scope="module")
def ddb(haar):
    return boto_client("dynamodb", haar.aws_url)


@pytest.fixture(scope="module")
def resource(haar):
    return boto3.session.Session().resource(
        "dynamodb", endpoint_url=haar.aws_url, region_name=REGION, aws_access_key_id="test",
        aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))


def err(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def make_table(ddb, name=None, range_type="N", gsi=False, lsi=False, **extra):
    name = name or unique_name("tbl")
    defs = [{"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": range_type}]
    args = dict(TableName=name, AttributeDefinitions=defs,
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}],
                BillingMode="PAY_PER_REQUEST")
    if gsi:
        defs += [{"AttributeName": "status", "AttributeType": "S"},
                 {"AttributeName": "created", "AttributeType": "N"}]
        args["GlobalSecondaryIndexes"] = [
            {"IndexName": "by-status", "KeySchema": [
                {"AttributeName": "status", "KeyType": "HASH"},
                {"AttributeName": "created", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "keys-only", "KeySchema": [
                {"AttributeName": "status", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}}]
    if lsi:
        defs.append({"AttributeName": "rank", "AttributeType": "N"})
        args["LocalSecondaryIndexes"] = [
            {"IndexName": "by-rank", "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "rank", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]}}]
    args.update(extra)
    ddb.create_table(**args)
    return name


# ---- tables ----------------------------------------------------------------------------

def test_table_lifecycle_and_description(ddb):
    name = unique_name("life")
    d = ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "gix", "KeySchema": [
            {"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}],
        Tags=[{"Key": "team", "Value": "core"}])["TableDescription"]
    assert d["TableStatus"] == "CREATING"
    assert d["GlobalSecondaryIndexes"][0]["IndexStatus"] == "CREATING"
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert t["TableArn"] == f"arn:aws:dynamodb:{REGION}:000000000000:table/{name}"
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0,
                                          "WriteCapacityUnits": 0}
    g = t["GlobalSecondaryIndexes"][0]
    assert g["IndexStatus"] == "ACTIVE" and g["IndexArn"] == t["TableArn"] + "/index/gix"
    assert t["ItemCount"] == 0 and t["TableSizeBytes"] == 0 and len(t["TableId"]) == 36
    ddb.put_item(TableName=name, Item={"id": {"S": "a"}, "g": {"S": "x"}})
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["ItemCount"] == 1 and t["TableSizeBytes"] == 5
    assert t["GlobalSecondaryIndexes"][0]["ItemCount"] == 1
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    assert err(e) == ("ResourceInUseException", f"Table already exists: {name}")
    d = ddb.delete_table(TableName=name)["TableDescription"]
    assert d["TableStatus"] == "DELETING" and d["ItemCount"] == 1
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=name)
    assert err(e) == ("ResourceNotFoundException",
                      f"Requested resource not found: Table: {name} not found")
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=name)
    assert err(e)[0] == "ResourceNotFoundException"


def test_list_tables_pages(ddb):
    names = sorted(make_table(ddb, unique_name("lst")) for _ in range(3))
    seen, start = [], None
    while True:
        kw = {"Limit": 1}
        if start:
            kw["ExclusiveStartTableName"] = start
        r = ddb.list_tables(**kw)
        seen += r["TableNames"]
        start = r.get("LastEvaluatedTableName")
        if not start:
            break
    assert seen == sorted(seen)
    assert set(names) <= set(seen)
    paginated = [n for p in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 2})
                 for n in p["TableNames"]]
    assert set(names) <= set(paginated)


def test_create_table_validation(ddb):
    def fails(**kw):
        with pytest.raises(ClientError) as e:
            ddb.create_table(**kw)
        return err(e)
    base = dict(TableName=unique_name("bad"),
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    assert fails(**base, BillingMode="PAY_PER_REQUEST",
                 ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}) == (
        "ValidationException",
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor "
        "WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
    assert fails(**dict(base, KeySchema=[{"AttributeName": "nope", "KeyType": "HASH"}]),
                 BillingMode="PAY_PER_REQUEST") == (
        "ValidationException",
        "One or more parameter values were invalid: Some index key attributes are not defined "
        "in AttributeDefinitions. Keys: [nope], AttributeDefinitions: [id]")
    assert fails(**base)[1] == "No provisioned throughput specified for the table"


# ---- items -----------------------------------------------------------------------------

def test_put_get_update_delete_and_return_values(ddb):
    t = make_table(ddb)
    key = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    assert "Attributes" not in ddb.put_item(TableName=t, Item={**key, "a": {"S": "one"}})
    r = ddb.put_item(TableName=t, Item={**key, "a": {"S": "two"}}, ReturnValues="ALL_OLD")
    assert r["Attributes"]["a"] == {"S": "one"}
    assert ddb.get_item(TableName=t, Key=key)["Item"]["a"] == {"S": "two"}
    assert "Item" not in ddb.get_item(TableName=t, Key={"pk": {"S": "x"}, "sk": {"N": "1"}})
    r = ddb.update_item(
        TableName=t, Key=key,
        UpdateExpression="SET n = if_not_exists(n, :z) + :one, l = list_append(if_not_exists(l, :e), :l) "
                         "ADD s :s REMOVE a",
        ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}, ":e": {"L": []},
                                   ":l": {"L": [{"S": "x"}]}, ":s": {"SS": ["p", "q"]}},
        ReturnValues="UPDATED_NEW")
    assert r["Attributes"] == {"n": {"N": "1"}, "l": {"L": [{"S": "x"}]}, "s": {"SS": ["p", "q"]}}
    r = ddb.update_item(TableName=t, Key=key, UpdateExpression="DELETE s :s",
                        ExpressionAttributeValues={":s": {"SS": ["p"]}}, ReturnValues="ALL_NEW")
    assert r["Attributes"]["s"] == {"SS": ["q"]} and "a" not in r["Attributes"]
    r = ddb.update_item(TableName=t, Key=key, UpdateExpression="SET n = n + :one",
                        ExpressionAttributeValues={":one": {"N": "1"}}, ReturnValues="UPDATED_OLD")
    assert r["Attributes"] == {"n": {"N": "1"}}
    r = ddb.delete_item(TableName=t, Key=key, ReturnValues="ALL_OLD")
    assert r["Attributes"]["n"] == {"N": "2"}
    assert "Item" not in ddb.get_item(TableName=t, Key=key)
    # UpdateItem on a missing item creates it (key attributes included)
    ddb.update_item(TableName=t, Key=key, UpdateExpression="SET c = :c",
                    ExpressionAttributeValues={":c": {"BOOL": True}})
    assert ddb.get_item(TableName=t, Key=key, ConsistentRead=True)["Item"] == {**key, "c": {"BOOL": True}}
    r = ddb.get_item(TableName=t, Key=key, ProjectionExpression="#c", ExpressionAttributeNames={"#c": "c"},
                     ReturnConsumedCapacity="TOTAL")
    assert r["Item"] == {"c": {"BOOL": True}}
    assert r["ConsumedCapacity"] == {"TableName": t, "CapacityUnits": 0.5}


def test_condition_failures(ddb):
    t = make_table(ddb)
    item = {"pk": {"S": "c"}, "sk": {"N": "1"}, "price": {"N": "650"}}
    ddb.put_item(TableName=t, Item=item)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item=item, ConditionExpression="attribute_not_exists(pk)")
    assert err(e) == ("ConditionalCheckFailedException", "The conditional request failed")
    assert "Item" not in e.value.response
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=t, Key={"pk": {"S": "c"}, "sk": {"N": "1"}},
                        UpdateExpression="SET price = price - :d", ConditionExpression="price >= :d",
                        ExpressionAttributeValues={":d": {"N": "1000"}})
    assert err(e)[0] == "ConditionalCheckFailedException"
    # legacy Expected still works
    ddb.put_item(TableName=t, Item=item, Expected={"price": {"Value": {"N": "650"}}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item=item, Expected={"price": {"Exists": False}})
    assert err(e)[0] == "ConditionalCheckFailedException"


def test_big_numbers_round_trip_and_sort(ddb):
    t = make_table(ddb)
    nums = ["12345678901234567890123456789012345678", "1E-130",
            "9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
            "0", "-1E-130", "100", "-42.5"]
    for n in nums:
        ddb.put_item(TableName=t, Item={"pk": {"S": "n"}, "sk": {"N": n}, "v": {"N": n}})
    got = ddb.get_item(TableName=t, Key={"pk": {"S": "n"}, "sk": {"N": "1E-130"}})["Item"]["v"]["N"]
    assert got == "0." + "0" * 129 + "1"
    big = ddb.get_item(TableName=t, Key={"pk": {"S": "n"}, "sk": {"N": "9.9999999999999999999999999999999999999E+125"}})
    assert big["Item"]["v"]["N"] == "99999999999999999999999999999999999999" + "0" * 88
    items = ddb.query(TableName=t, KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "n"}})["Items"]
    order = [Decimal(i["sk"]["N"]) for i in items]
    assert order == sorted(order) and len(order) == len(nums)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item={"pk": {"S": "n"}, "sk": {"N": "1E+126"}})
    assert err(e) == ("ValidationException", "1 validation error detected: Number overflow. "
                      "Attempting to store a number with magnitude larger than supported range")
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=t, Key={"pk": {"S": "n"}, "sk": {"N": "100"}},
                        UpdateExpression="SET v = v + :b",
                        ExpressionAttributeValues={":b": {"N": "9.9999999999999999999999999999999999999E+125"}})
    assert err(e)[0] == "ValidationException" and "overflow" in err(e)[1]


def test_query_pages_through_one_megabyte_pages_and_limits(ddb):
    t = make_table(ddb)
    blob = "x" * 30000
    with_batches = [{"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}, "b": {"S": blob}}}}
                    for i in range(120)]
    for i in range(0, len(with_batches), 25):
        assert ddb.batch_write_item(RequestItems={t: with_batches[i:i + 25]})["UnprocessedItems"] == {}
    pages, start, seen = 0, None, []
    while True:
        kw = dict(TableName=t, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
        if start:
            kw["ExclusiveStartKey"] = start
        r = ddb.query(**kw)
        pages += 1
        seen += [int(i["sk"]["N"]) for i in r["Items"]]
        start = r.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == list(range(120)) and pages >= 4  # 120 * 30 KB = 3.6 MB
    pag = ddb.get_paginator("query").paginate(
        TableName=t, KeyConditionExpression="pk = :p AND sk >= :lo", ScanIndexForward=False,
        ExpressionAttributeValues={":p": {"S": "p"}, ":lo": {"N": "100"}},
        ProjectionExpression="sk", PaginationConfig={"PageSize": 7})
    got = [int(i["sk"]["N"]) for page in pag for i in page["Items"]]
    assert got == list(range(119, 99, -1))
    r = ddb.query(TableName=t, KeyConditionExpression="pk = :p", Select="COUNT", Limit=5,
                  ExpressionAttributeValues={":p": {"S": "p"}})
    assert r["Count"] == 5 and "Items" not in r and r["LastEvaluatedKey"]["sk"] == {"N": "4"}


def test_query_key_condition_errors(ddb):
    t = make_table(ddb, range_type="S")
    def fails(**kw):
        with pytest.raises(ClientError) as e:
            ddb.query(TableName=t, **kw)
        return err(e)
    assert fails(KeyConditionExpression="sk = :v", ExpressionAttributeValues={":v": {"S": "a"}}) == (
        "ValidationException", "Query condition missed key schema element: pk")
    assert fails(KeyConditionExpression="pk = :v", ExpressionAttributeValues={":v": {"N": "1"}})[0] == \
        "ValidationException"
    assert fails(KeyConditionExpression="pk = :v AND x = :v",
                 ExpressionAttributeValues={":v": {"S": "a"}})[0] == "ValidationException"
    assert fails(KeyConditionExpression="pk = :v", FilterExpression="pk = :v",
                 ExpressionAttributeValues={":v": {"S": "a"}}) == (
        "ValidationException",
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: pk")
    assert fails(KeyConditionExpression="pk = :v", ExpressionAttributeValues={":v": {"S": "a"}, ":w": {"S": "b"}}) == (
        "ValidationException", "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}")
    assert fails(KeyConditionExpression="pk = :v", Select="SPECIFIC_ATTRIBUTES",
                 ExpressionAttributeValues={":v": {"S": "a"}}) == (
        "ValidationException", "1 validation error detected: Must specify the AttributesToGet or "
        "ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
    assert fails(KeyConditionExpression="pk = :v", IndexName="nope",
                 ExpressionAttributeValues={":v": {"S": "a"}}) == (
        "ValidationException", "The table does not have the specified index: nope")


def test_indexes_gsi_lsi_and_projections(ddb):
    t = make_table(ddb, gsi=True, lsi=True)
    for i in range(10):
        item = {"pk": {"S": f"u{i % 2}"}, "sk": {"N": str(i)}, "rank": {"N": str(10 - i)},
                "note": {"S": f"n{i}"}, "other": {"S": "o"}}
        if i % 3 != 0:
            item["status"] = {"S": "DONE" if i % 2 else "NEW"}
            item["created"] = {"N": str(1000 + i)}
        ddb.put_item(TableName=t, Item=item)
    r = ddb.query(TableName=t, IndexName="by-status", KeyConditionExpression="#s = :s",
                  ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "DONE"}})
    assert [i["created"]["N"] for i in r["Items"]] == ["1001", "1005", "1007"]
    assert r["Items"][0]["other"] == {"S": "o"}  # ALL projection
    r = ddb.query(TableName=t, IndexName="keys-only", KeyConditionExpression="#s = :s",
                  ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "NEW"}})
    assert all(set(i) == {"pk", "sk", "status"} for i in r["Items"]) and r["Count"] == 3
    r = ddb.query(TableName=t, IndexName="by-rank", KeyConditionExpression="pk = :p AND #r < :r",
                  ExpressionAttributeNames={"#r": "rank"}, ExpressionAttributeValues={":p": {"S": "u0"}, ":r": {"N": "7"}})
    assert [i["rank"]["N"] for i in r["Items"]] == ["2", "4", "6"]
    assert set(r["Items"][0]) == {"pk", "sk", "rank", "note"}  # INCLUDE
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=t, IndexName="by-status", ConsistentRead=True, KeyConditionExpression="#s = :s",
                  ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "DONE"}})
    assert err(e) == ("ValidationException", "Consistent reads are not supported on global secondary indexes")
    # an index key of the wrong type is refused
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=t, Item={"pk": {"S": "z"}, "sk": {"N": "1"}, "status": {"N": "1"}})
    assert err(e) == ("ValidationException", "One or more parameter values were invalid: Type mismatch "
                      "for Index Key status Expected: S Actual: N IndexName: by-status")
    # moving an item between index partitions moves its entry
    ddb.update_item(TableName=t, Key={"pk": {"S": "u1"}, "sk": {"N": "1"}}, UpdateExpression="SET #s = :n",
                    ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":n": {"S": "NEW"}})
    r = ddb.scan(TableName=t, IndexName="by-status")
    assert r["Count"] == 6
    statuses = sorted(i["status"]["S"] for i in r["Items"])
    assert statuses.count("DONE") == 2 and statuses.count("NEW") == 4


def test_parallel_scan_segments_cover_the_table_once(ddb):
    t = make_table(ddb)
    reqs = [{"PutRequest": {"Item": {"pk": {"S": f"p{i}"}, "sk": {"N": "0"}}}} for i in range(100)]
    for i in range(0, 100, 25):
        ddb.batch_write_item(RequestItems={t: reqs[i:i + 25]})
    seen = []
    for seg in range(4):
        start = None
        while True:
            kw = dict(TableName=t, Segment=seg, TotalSegments=4, Limit=9)
            if start:
                kw["ExclusiveStartKey"] = start
            r = ddb.scan(**kw)
            seen += [i["pk"]["S"] for i in r["Items"]]
            start = r.get("LastEvaluatedKey")
            if not start:
                break
    assert sorted(seen) == sorted(f"p{i}" for i in range(100))
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=t, Segment=4, TotalSegments=4)
    assert err(e) == ("ValidationException", "The Segment parameter is zero-based and must be less than "
                      "parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4")
    r = ddb.scan(TableName=t, FilterExpression="begins_with(pk, :p)",
                 ExpressionAttributeValues={":p": {"S": "p1"}})
    assert r["Count"] == 11 and r["ScannedCount"] == 100


def test_batches(ddb):
    t = make_table(ddb)
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": str(i)}, "sk": {"N": "1"}}}}
                                               for i in range(26)]})
    assert err(e)[0] == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"nope": {"S": "1"}}}}]})
    assert err(e) == ("ValidationException", "The provided key element does not match the schema")
    ddb.batch_write_item(RequestItems={t: [{"PutRequest": {"Item": {"pk": {"S": str(i)}, "sk": {"N": "1"}}}}
                                           for i in range(5)]})
    r = ddb.batch_get_item(RequestItems={t: {"Keys": [{"pk": {"S": str(i)}, "sk": {"N": "1"}} for i in range(7)],
                                             "ProjectionExpression": "pk"}},
                           ReturnConsumedCapacity="TOTAL")
    assert sorted(i["pk"]["S"] for i in r["Responses"][t]) == ["0", "1", "2", "3", "4"]
    assert r["UnprocessedKeys"] == {} and r["ConsumedCapacity"][0]["TableName"] == t
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={t: {"Keys": [{"pk": {"S": "1"}, "sk": {"N": "1"}}] * 2}})
    assert err(e) == ("ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={"missing-table": {"Keys": [{"pk": {"S": "1"}}]}})
    assert err(e) == ("ResourceNotFoundException", "Requested resource not found")
    ddb.batch_write_item(RequestItems={t: [{"DeleteRequest": {"Key": {"pk": {"S": "0"}, "sk": {"N": "1"}}}}]})
    assert ddb.scan(TableName=t)["Count"] == 4


def test_transactions_commit_cancel_and_idempotency(ddb):
    t = make_table(ddb)
    k1, k2 = {"pk": {"S": "a"}, "sk": {"N": "1"}}, {"pk": {"S": "b"}, "sk": {"N": "1"}}
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": t, "Item": {**k1, "bal": {"N": "100"}}}},
        {"Put": {"TableName": t, "Item": {**k2, "bal": {"N": "0"}}}}])
    transfer = [
        {"Update": {"TableName": t, "Key": k1, "UpdateExpression": "SET bal = bal - :x",
                    "ConditionExpression": "bal >= :x", "ExpressionAttributeValues": {":x": {"N": "60"}}}},
        {"Update": {"TableName": t, "Key": k2, "UpdateExpression": "SET bal = bal + :x",
                    "ExpressionAttributeValues": {":x": {"N": "60"}}}}]
    ddb.transact_write_items(TransactItems=transfer, ClientRequestToken="tok-1")
    ddb.transact_write_items(TransactItems=transfer, ClientRequestToken="tok-1")  # idempotent
    assert ddb.get_item(TableName=t, Key=k1)["Item"]["bal"] == {"N": "40"}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=transfer[:1], ClientRequestToken="tok-1")
    assert err(e)[0] == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": t, "Key": k2, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Delete": {"TableName": t, "Key": k1}}])
    assert err(e) == ("TransactionCanceledException", "Transaction cancelled, please refer cancellation "
                      "reasons for specific reasons [ConditionalCheckFailed, None]")
    assert ddb.get_item(TableName=t, Key=k1)["Item"]["bal"] == {"N": "40"}  # nothing applied
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": {**k1, "bal": {"N": "1"}}}},
            {"Update": {"TableName": t, "Key": k1, "UpdateExpression": "SET bal = :x",
                        "ExpressionAttributeValues": {":x": {"N": "2"}}}}])
    assert err(e) == ("ValidationException", "Transaction request cannot include multiple operations on one item")
    r = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": t, "Key": k1}},
                                              {"Get": {"TableName": t, "Key": {"pk": {"S": "zz"}, "sk": {"N": "1"}}}},
                                              {"Get": {"TableName": t, "Key": k2, "ProjectionExpression": "bal"}}])
    assert r["Responses"][0]["Item"]["bal"] == {"N": "40"} and r["Responses"][1] == {}
    assert r["Responses"][2]["Item"] == {"bal": {"N": "60"}}
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": "missing-tbl", "Item": k1}}])
    assert err(e) == ("ResourceNotFoundException", "Requested resource not found")


def test_transaction_cancellation_reasons_in_the_raw_body(haar, ddb):
    t = make_table(ddb)
    k = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    ddb.put_item(TableName=t, Item={**k, "v": {"N": "1"}})
    body = json.dumps({"TransactItems": [
        {"Put": {"TableName": t, "Item": {"pk": {"S": "n"}, "sk": {"N": "1"}}}},
        {"ConditionCheck": {"TableName": t, "Key": k, "ConditionExpression": "v = :two",
                            "ExpressionAttributeValues": {":two": {"N": "2"}},
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]}).encode()
    status, hdrs, data = raw_request(haar.aws_url, "POST", "/", body, {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"}, service="dynamodb")
    assert status == 400
    assert int(hdrs["x-amz-crc32"]) == zlib.crc32(data)
    j = json.loads(data)
    assert j["__type"] == "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
    assert j["Message"].endswith("[None, ConditionalCheckFailed]")
    assert j["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": {**k, "v": {"N": "1"}},
         "Message": "The conditional request failed"}]


def test_partiql(ddb):
    t = make_table(ddb, range_type="S")
    ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 's1', 'n': 1}}")
    ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': ?, 'sk': ?, 'n': ?}}",
                          Parameters=[{"S": "a"}, {"S": "s2"}, {"N": "2"}])
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 's1'}}")
    assert err(e)[0] == "DuplicateItemException"
    r = ddb.execute_statement(Statement=f"SELECT * FROM \"{t}\" WHERE pk = 'a' AND n > 1")
    assert [i["sk"]["S"] for i in r["Items"]] == ["s2"]
    r = ddb.execute_statement(Statement=f"SELECT sk FROM \"{t}\" WHERE n IN [1, 2]")
    assert sorted(i["sk"]["S"] for i in r["Items"]) == ["s1", "s2"]
    r = ddb.execute_statement(Statement=f"UPDATE \"{t}\" SET n = n + 10 WHERE pk = 'a' AND sk = 's1' RETURNING ALL NEW *")
    assert r["Items"][0]["n"] == {"N": "11"}
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement=f"UPDATE \"{t}\" SET n = 1 WHERE pk = 'zz' AND sk = 's1'")
    assert err(e)[0] == "ConditionalCheckFailedException"
    ddb.execute_statement(Statement=f"DELETE FROM \"{t}\" WHERE pk = 'a' AND sk = 's2'")
    r = ddb.execute_statement(Statement=f"SELECT * FROM \"{t}\"")
    assert [i["sk"]["S"] for i in r["Items"]] == ["s1"]
    with pytest.raises(ClientError) as e:
        ddb.execute_statement(Statement="SELEKT * FROM x")
    assert err(e)[0] == "ValidationException" and "Statement wasn't well formed" in err(e)[1]
    r = ddb.batch_execute_statement(Statements=[
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'b', 'sk': 'x'}}"},
        {"Statement": f"INSERT INTO \"{t}\" VALUE {{'pk': 'a', 'sk': 's1'}}"}])
    assert "Error" not in r["Responses"][0]
    assert r["Responses"][1]["Error"]["Code"] == "DuplicateItem"
    # pages through NextToken
    for i in range(5):
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": f"{i}"}})
    seen, tok = [], None
    while True:
        kw = {"Statement": f"SELECT sk FROM \"{t}\" WHERE pk = 'p'", "Limit": 2}
        if tok:
            kw["NextToken"] = tok
        r = ddb.execute_statement(**kw)
        seen += [i["sk"]["S"] for i in r["Items"]]
        tok = r.get("NextToken")
        if not tok:
            break
    assert seen == ["0", "1", "2", "3", "4"]


def test_resource_api_and_conditions(resource):
    table = resource.create_table(
        TableName=unique_name("res"), BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "user", "AttributeType": "S"},
                              {"AttributeName": "ts", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                   {"AttributeName": "ts", "KeyType": "RANGE"}])
    table.wait_until_exists()
    with table.batch_writer() as w:
        for i in range(40):
            w.put_item(Item={"user": "ann", "ts": i, "score": Decimal(i) / 2, "tags": {"x", f"t{i % 3}"}})
    r = table.query(KeyConditionExpression=Key("user").eq("ann") & Key("ts").between(10, 19),
                    FilterExpression=Attr("score").gt(6) & Attr("tags").contains("t1"))
    assert [int(i["ts"]) for i in r["Items"]] == [13, 16, 19]
    assert r["ScannedCount"] == 10
    table.put_item(Item={"user": "bob", "ts": 1}, ConditionExpression=Attr("user").not_exists())
    with pytest.raises(ClientError) as e:
        table.put_item(Item={"user": "bob", "ts": 1}, ConditionExpression=Attr("user").not_exists())
    assert err(e)[0] == "ConditionalCheckFailedException"
    table.update_item(Key={"user": "bob", "ts": 1}, UpdateExpression="SET n = :v",
                      ExpressionAttributeValues={":v": Decimal("12345678901234567890123456789012345678")})
    assert table.get_item(Key={"user": "bob", "ts": 1})["Item"]["n"] == Decimal("12345678901234567890123456789012345678")
    r = table.scan(FilterExpression=Attr("score").between(1, 2) | Attr("user").eq("bob"))
    assert r["Count"] == 4
    table.delete()


# ---- tags, TTL and backups settings, UpdateTable ----------------------------------------

def test_tags_ttl_backups(ddb):
    t = make_table(ddb)
    arn = ddb.describe_table(TableName=t)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    ddb.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    missing = arn + "-missing"
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=missing)
    assert err(e) == ("ResourceNotFoundException", f"Requested resource not found: ResourcArn: {missing} not found")
    assert ddb.describe_time_to_live(TableName=t)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    ddb.update_time_to_live(TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    assert ddb.describe_time_to_live(TableName=t)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(TableName=t, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    assert err(e) == ("ValidationException", "TimeToLive is already enabled")
    b = ddb.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"]
    assert b["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    ddb.update_continuous_backups(TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    b = ddb.describe_continuous_backups(TableName=t)["ContinuousBackupsDescription"]
    assert b["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    with pytest.raises(ClientError) as e:
        ddb.describe_continuous_backups(TableName="no-such-table")
    assert err(e)[0] == "TableNotFoundException"


def test_update_table_adds_a_backfilled_gsi_and_removes_it(ddb):
    t = make_table(ddb)
    for i in range(50):
        ddb.put_item(TableName=t, Item={"pk": {"S": f"p{i}"}, "sk": {"N": "1"}, "g": {"S": f"g{i % 5}"}})
    ddb.update_table(TableName=t, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "ALL"}}}])
    import time
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        x = ddb.describe_table(TableName=t)["Table"]["GlobalSecondaryIndexes"][0]
        if x["IndexStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
    assert x["IndexStatus"] == "ACTIVE" and x["ItemCount"] == 50
    r = ddb.query(TableName=t, IndexName="by-g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "g3"}})
    assert r["Count"] == 10
    ddb.update_table(TableName=t, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-g"}}])
    assert "GlobalSecondaryIndexes" not in ddb.describe_table(TableName=t)["Table"]
    ddb.update_table(TableName=t, BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    d = ddb.describe_table(TableName=t)["Table"]
    assert d["ProvisionedThroughput"]["ReadCapacityUnits"] == 5 and "BillingModeSummary" not in d
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=t)
    assert err(e)[0] == "ValidationException" and err(e)[1].startswith("At least one of")


# ---- the wire ------------------------------------------------------------------------------

def raw(haar, target, body, ctype="application/x-amz-json-1.0", method="POST"):
    hdrs = {"Content-Type": ctype}
    if target:
        hdrs["X-Amz-Target"] = "DynamoDB_20120810." + target
    return raw_request(haar.aws_url, method, "/", body, hdrs, service="dynamodb")


def test_wire_errors(haar, ddb):
    s, h, b = raw(haar, "ListTables", b"{}")
    assert s == 200 and int(h["x-amz-crc32"]) == zlib.crc32(b)
    s, h, b = raw(haar, "NoSuchThing", b"{}")
    assert s == 400 and json.loads(b) == {"__type": "com.amazon.coral.service#UnknownOperationException"}
    assert int(h["x-amz-crc32"]) == zlib.crc32(b)
    s, h, b = raw(haar, "ListTables", b"{not json")
    assert s == 400 and json.loads(b) == {"__type": "com.amazon.coral.service#SerializationException"}
    s, h, b = raw(haar, "ListTables", b"{}", ctype="text/plain")
    assert s == 404 and b == b"<UnknownOperationException/>\n"
    s, h, b = raw(haar, "GetItem", json.dumps({"TableName": True}).encode())
    assert s == 400 and json.loads(b) == {
        "__type": "com.amazon.coral.service#SerializationException",
        "Message": "class java.lang.Boolean can not be converted to an String"}
    s, h, b = raw(haar, "Query", json.dumps({"TableName": "x", "Limit": 0}).encode())
    assert json.loads(b) == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "2 validation errors detected: Value '0' at 'limit' failed to satisfy constraint: "
                   "Member must have value greater than or equal to 1; Value 'x' at 'tableName' failed "
                   "to satisfy constraint: Member must have length greater than or equal to 3"}
    s, h, b = raw(haar, "GetItem", json.dumps({"TableName": "missing", "Key": {"a": {"S": "b"}}}).encode())
    assert json.loads(b) == {"__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                             "message": "Requested resource not found"}
    s, h, b = raw(haar, "PutItem", json.dumps({"TableName": "missing", "Item": {"a": {"SS": []}}}).encode())
    assert json.loads(b)["message"] == ("1 validation error detected: One or more parameter values were "
                                        "invalid: An string set  may not be empty")
    # unsigned requests are refused in DynamoDB's shape
    s, h, b = raw_request(haar.aws_url, "POST", "/", b"{}", {
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"},
        service="dynamodb", sign=False)
    assert s == 400 and json.loads(b)["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException"
    assert int(h["x-amz-crc32"]) == zlib.crc32(b)
    # application/json is answered in kind
    s, h, b = raw(haar, "ListTables", b"{}", ctype="application/json")
    assert s == 200 and h["content-type"] == "application/json"


def test_raw_bodies_boto3_cannot_send(haar, ddb):
    """Members this botocore's model lacks or refuses client-side, sent as JSON."""
    t = make_table(ddb)
    item = {"pk": {"S": "c"}, "sk": {"N": "1"}, "price": {"N": "650"}}
    ddb.put_item(TableName=t, Item=item)
    s, h, b = raw(haar, "DeleteItem", json.dumps({
        "TableName": t, "Key": {"pk": {"S": "c"}, "sk": {"N": "1"}},
        "ConditionExpression": "price > :p", "ExpressionAttributeValues": {":p": {"N": "700"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}).encode())
    assert s == 400 and json.loads(b) == {
        "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "message": "The conditional request failed", "Item": item}
    s, h, b = raw(haar, "ExecuteStatement", json.dumps({
        "Statement": f"SELECT * FROM \"{t}\"", "Parameters": []}).encode())
    assert json.loads(b) == {
        "__type": "com.amazon.coral.validate#ValidationException",
        "message": "1 validation error detected: Value '[]' at 'parameters' failed to satisfy "
                   "constraint: Member must have length greater than or equal to 1"}


def test_item_validation_messages(ddb):
    t = make_table(ddb)
    def fails(fn, **kw):
        with pytest.raises(ClientError) as e:
            fn(TableName=t, **kw)
        return err(e)
    assert fails(ddb.put_item, Item={"pk": {"S": "a"}}) == (
        "ValidationException", "One or more parameter values were invalid: Missing the key sk in the item")
    assert fails(ddb.put_item, Item={"pk": {"S": "a"}, "sk": {"S": "1"}}) == (
        "ValidationException", "One or more parameter values were invalid: Type mismatch for key sk "
        "expected: N actual: S")
    assert fails(ddb.get_item, Key={"pk": {"S": "a"}}) == (
        "ValidationException", "The provided key element does not match the schema")
    assert fails(ddb.put_item, Item={"pk": {"S": ""}, "sk": {"N": "1"}}) == (
        "ValidationException", "One or more parameter values are not valid. The AttributeValue for a key "
        "attribute cannot contain an empty string value. Key: pk")
    assert fails(ddb.update_item, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, UpdateExpression="SET pk = :v",
                 ExpressionAttributeValues={":v": {"S": "b"}}) == (
        "ValidationException", "One or more parameter values were invalid: Cannot update attribute pk. "
        "This attribute is part of the key")
    assert fails(ddb.update_item, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, UpdateExpression="SET #a = :v, #b = :v,",
                 ExpressionAttributeNames={"#a": "a", "#b": "b"}, ExpressionAttributeValues={":v": {"S": "b"}}) == (
        "ValidationException", "1 validation error detected: Invalid UpdateExpression: Syntax error; "
        "token: \"<EOF>\", near: \",\"")
    assert fails(ddb.update_item, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, UpdateExpression="SET #count = :v",
                 ExpressionAttributeNames={"#count": "count", "#x": "x"}, ExpressionAttributeValues={":v": {"S": "b"}}) == (
        "ValidationException", "1 validation error detected: Value provided in ExpressionAttributeNames "
        "unused in expressions: keys: {#x}")
    assert fails(ddb.put_item, Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "b": {"S": "x" * 409600}}) == (
        "ValidationException", "Item size has exceeded the maximum allowed size")
    assert fails(ddb.update_item, Key={"pk": {"S": "a"}, "sk": {"N": "1"}}, UpdateExpression="SET status = :v",
                 ExpressionAttributeValues={":v": {"S": "b"}}) == (
        "ValidationException", "1 validation error detected: Invalid UpdateExpression: Attribute name is a "
        "reserved keyword; reserved keyword: status")
