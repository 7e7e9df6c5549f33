"""DynamoDB through Debian's AWS CLI (/usr/bin/aws dynamodb), TTL expiry on the manual clock
(POST /_haar/clock), the environment's tasks table provisioned from config (and kept over a
restart), and acknowledged writes surviving a clean restart."""
import json

import pytest

from e2e_helpers import AwsCli, Daemon, boto_client, clock, unique_name

T0 = 1767225600  # the manual clock's start, 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def cli(haar, tmp_path_factory):
    return AwsCli(haar.aws_url, tmp_path_factory.mktemp("awscli"))


def test_aws_cli_table_and_items(cli):
    name = unique_name("cli")
    d = cli.json("dynamodb", "create-table", "--table-name", name,
                 "--attribute-definitions", "AttributeName=pk,AttributeType=S",
                 "AttributeName=sk,AttributeType=N",
                 "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
                 "--billing-mode", "PAY_PER_REQUEST")
    assert d["TableDescription"]["TableName"] == name
    p = cli.run("dynamodb", "wait", "table-exists", "--table-name", name)
    assert p.returncode == 0, p.stderr
    for i in range(3):
        cli.json("dynamodb", "put-item", "--table-name", name,
                 "--item", json.dumps({"pk": {"S": "a"}, "sk": {"N": str(i)}, "v": {"S": f"v{i}"}}))
    g = cli.json("dynamodb", "get-item", "--table-name", name,
                 "--key", json.dumps({"pk": {"S": "a"}, "sk": {"N": "1"}}))
    assert g["Item"]["v"] == {"S": "v1"}
    q = cli.json("dynamodb", "query", "--table-name", name,
                 "--key-condition-expression", "pk = :p AND sk >= :s",
                 "--expression-attribute-values", json.dumps({":p": {"S": "a"}, ":s": {"N": "1"}}))
    assert [i["sk"]["N"] for i in q["Items"]] == ["1", "2"] and q["Count"] == 2
    # the CLI's own pagination walks several pages
    s = cli.json("dynamodb", "scan", "--table-name", name, "--page-size", "1")
    assert s["Count"] == 3
    u = cli.json("dynamodb", "update-item", "--table-name", name,
                 "--key", json.dumps({"pk": {"S": "a"}, "sk": {"N": "1"}}),
                 "--update-expression", "SET n = :n", "--expression-attribute-values",
                 json.dumps({":n": {"N": "12345678901234567890123456789012345678"}}),
                 "--return-values", "ALL_NEW")
    assert u["Attributes"]["n"] == {"N": "12345678901234567890123456789012345678"}
    p = cli.run("dynamodb", "put-item", "--table-name", name, "--item",
                json.dumps({"pk": {"S": "a"}, "sk": {"N": "1"}}),
                "--condition-expression", "attribute_not_exists(pk)")
    assert p.returncode != 0 and "ConditionalCheckFailedException" in p.stderr
    p = cli.run("dynamodb", "describe-table", "--table-name", name + "-nope")
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr
    st = cli.json("dynamodb", "execute-statement", "--statement", f"SELECT v FROM \"{name}\" WHERE pk = 'a' AND sk = 2")
    assert st["Items"] == [{"v": {"S": "v2"}}]
    cli.json("dynamodb", "update-time-to-live", "--table-name", name,
             "--time-to-live-specification", "Enabled=true,AttributeName=exp")
    assert cli.json("dynamodb", "describe-time-to-live", "--table-name", name)[
        "TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"
    cli.json("dynamodb", "delete-table", "--table-name", name)
    p = cli.run("dynamodb", "wait", "table-not-exists", "--table-name", name)
    assert p.returncode == 0, p.stderr


def test_ttl_expires_items_on_the_manual_clock(manual_haar):
    ddb = boto_client("dynamodb", manual_haar.aws_url)
    name = unique_name("ttl")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"AttributeName": "exp", "Enabled": True})
    _, now = clock(manual_haar)
    from datetime import datetime
    t = int(datetime.fromisoformat(now["now"].replace("Z", "+00:00")).timestamp())
    ddb.put_item(TableName=name, Item={"id": {"S": "soon"}, "exp": {"N": str(t + 60)}})
    ddb.put_item(TableName=name, Item={"id": {"S": "late"}, "exp": {"N": str(t + 600)}})
    ddb.put_item(TableName=name, Item={"id": {"S": "keep"}})
    clock(manual_haar, advance=59)
    assert "Item" in ddb.get_item(TableName=name, Key={"id": {"S": "soon"}})
    clock(manual_haar, advance=2)
    assert "Item" not in ddb.get_item(TableName=name, Key={"id": {"S": "soon"}})
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 2
    clock(manual_haar, advance=600)
    assert ddb.scan(TableName=name, Select="COUNT")["Count"] == 1
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 1
    # the environment's tasks table has TTL on the configured attribute
    d = ddb.describe_time_to_live(TableName="haar-dev-tasks")["TimeToLiveDescription"]
    assert d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_tasks_table_provisioned_and_kept_over_restarts(tmp_path):
    (tmp_path / "one").mkdir()
    d = Daemon(tmp_path / "one")
    try:
        d.wait_ready()
        ddb = boto_client("dynamodb", d.aws_url)
        t = ddb.describe_table(TableName="haar-dev-tasks")["Table"]
        assert t["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        gsi = t["GlobalSecondaryIndexes"][0]
        assert gsi["IndexName"] == "by-status"
        assert gsi["KeySchema"] == [{"AttributeName": "status", "KeyType": "HASH"},
                                    {"AttributeName": "created_at", "KeyType": "RANGE"}]
        pitr = ddb.describe_continuous_backups(TableName="haar-dev-tasks")
        assert pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"] in ("ENABLED", "DISABLED")
        for i in range(20):
            ddb.put_item(TableName="haar-dev-tasks", Item={
                "id": {"S": f"t{i}"}, "status": {"S": "QUEUED" if i % 2 else "DONE"},
                "created_at": {"S": f"2026-01-01T00:00:{i:02d}Z"}})
        name = unique_name("keep")
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        ddb.put_item(TableName=name, Item={"id": {"S": "x"}, "v": {"N": "1E-130"}})
    finally:
        assert d.stop() == 0
    # the same state dir: items, indexes and tables are all there
    d2 = Daemon(tmp_path / "one")
    try:
        d2.wait_ready()
        ddb = boto_client("dynamodb", d2.aws_url)
        r = ddb.query(TableName="haar-dev-tasks", IndexName="by-status",
                      KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                      ExpressionAttributeValues={":s": {"S": "QUEUED"}}, ScanIndexForward=False, Limit=3)
        assert [i["id"]["S"] for i in r["Items"]] == ["t19", "t17", "t15"]
        assert ddb.describe_table(TableName="haar-dev-tasks")["Table"]["ItemCount"] == 20
        assert ddb.get_item(TableName=name, Key={"id": {"S": "x"}})["Item"]["v"]["N"] == "0." + "0" * 129 + "1"
    finally:
        assert d2.stop() == 0
