"""Acknowledged DynamoDB writes survive kill -9: 20 rounds of writers (PutItem, conditional
UpdateItem counters, BatchWriteItem, TransactWriteItems, DeleteItem) on one state dir, a
SIGKILL at a random moment, a restart, and a check that every write answered 200 is there
(a counter is at least its acknowledged value; a write that got no answer may or may not be
there; nothing acknowledged is lost, and indexes agree with their items)."""
import random
import threading
import time

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from e2e_helpers import Daemon, boto_client

ROUNDS = 20
TABLE = "crash-items"


def ensure_table(ddb):
    try:
        ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "N"},
                                               {"AttributeName": "g", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                    {"AttributeName": "sk", "KeyType": "RANGE"}],
                         GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [
                             {"AttributeName": "g", "KeyType": "HASH"}],
                             "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ResourceInUseException"


FAILURES = (ConnectionClosedError, EndpointConnectionError, ReadTimeoutError, ConnectionError, OSError)


def writer(url, wid, rnd, acked, counters, deleted, stop):
    ddb = boto_client("dynamodb", url, read_timeout=10)
    i = 0
    while not stop.is_set():
        i += 1
        kind = i % 5
        try:
            if kind == 0:
                key = f"p-{rnd}-{wid}-{i}"
                ddb.put_item(TableName=TABLE, Item={"pk": {"S": key}, "sk": {"N": "0"}, "g": {"S": key}})
                acked.append(key)
            elif kind == 1:
                key = f"c-{wid}"
                r = ddb.update_item(TableName=TABLE, Key={"pk": {"S": key}, "sk": {"N": "0"}},
                                    UpdateExpression="SET n = if_not_exists(n, :z) + :one",
                                    ConditionExpression="attribute_not_exists(locked)",
                                    ExpressionAttributeValues={":z": {"N": "0"}, ":one": {"N": "1"}},
                                    ReturnValues="UPDATED_NEW")
                counters[key] = max(counters.get(key, 0), int(r["Attributes"]["n"]["N"]))
            elif kind == 2:
                keys = [f"b-{rnd}-{wid}-{i}-{k}" for k in range(5)]
                ddb.batch_write_item(RequestItems={TABLE: [
                    {"PutRequest": {"Item": {"pk": {"S": k}, "sk": {"N": "1"}}}} for k in keys]})
                acked.extend(keys)
            elif kind == 3:
                keys = [f"t-{rnd}-{wid}-{i}-{k}" for k in range(2)]
                ddb.transact_write_items(TransactItems=[
                    {"Put": {"TableName": TABLE, "Item": {"pk": {"S": k}, "sk": {"N": "2"}, "g": {"S": "tx"}},
                             "ConditionExpression": "attribute_not_exists(pk)"}} for k in keys])
                acked.extend(keys)
            else:
                if acked:
                    key = acked[0]
                    if key.startswith("p-"):
                        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": key}, "sk": {"N": "0"}})
                        acked.pop(0)
                        deleted.append(key)
        except FAILURES:
            return
        except ClientError as e:
            if e.response["ResponseMetadata"].get("HTTPStatusCode", 0) >= 500:
                return
            raise


def sk_of(key):
    return {"p": "0", "b": "1", "t": "2"}[key[0]]


def test_acknowledged_writes_survive_kill_9(tmp_path):
    rng = random.Random(20261201)
    acked_all, counters_all, deleted_all = [], {}, []
    (tmp_path / "w").mkdir()
    for rnd in range(ROUNDS):
        d = Daemon(tmp_path / "w")
        try:
            d.wait_ready()
            ddb = boto_client("dynamodb", d.aws_url)
            ensure_table(ddb)
            # what earlier rounds acknowledged is still there
            if rnd > 0:
                check(ddb, acked_all, counters_all, deleted_all)
            stop = threading.Event()
            per = [([], {}, []) for _ in range(4)]
            threads = [threading.Thread(target=writer, args=(d.aws_url, w, rnd, *per[w], stop), daemon=True)
                       for w in range(4)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.2, 1.2))
            d.proc.kill()  # SIGKILL, mid-flight
            d.proc.wait(10)
            stop.set()
            for t in threads:
                t.join(15)
            for acked, counters, deleted in per:
                acked_all.extend(acked)
                deleted_all.extend(deleted)
                for k, v in counters.items():
                    counters_all[k] = max(counters_all.get(k, 0), v)
        finally:
            d.stop(5)
    d = Daemon(tmp_path / "w")
    try:
        d.wait_ready()
        ddb = boto_client("dynamodb", d.aws_url)
        check(ddb, acked_all, counters_all, deleted_all)
        assert len(acked_all) > 100, "the writers hardly wrote anything"
    finally:
        assert d.stop() == 0


def check(ddb, acked, counters, deleted):
    gone = set(deleted)
    keys = [k for k in acked if k not in gone]
    for i in range(0, len(keys), 100):
        chunk = keys[i:i + 100]
        r = ddb.batch_get_item(RequestItems={TABLE: {
            "Keys": [{"pk": {"S": k}, "sk": {"N": sk_of(k)}} for k in chunk], "ConsistentRead": True}})
        assert not r["UnprocessedKeys"]
        found = {it["pk"]["S"] for it in r["Responses"][TABLE]}
        missing = [k for k in chunk if k not in found]
        assert not missing, f"acknowledged writes lost after kill -9: {missing[:5]}"
    for k in deleted:
        assert "Item" not in ddb.get_item(TableName=TABLE, Key={"pk": {"S": k}, "sk": {"N": "0"}})
    for k, v in counters.items():
        got = ddb.get_item(TableName=TABLE, Key={"pk": {"S": k}, "sk": {"N": "0"}}, ConsistentRead=True)
        assert int(got["Item"]["n"]["N"]) >= v, f"counter {k}: {got['Item']['n']['N']} < acknowledged {v}"
    # the index agrees with the items: every transaction item is in it
    tx = {k for k in keys if k.startswith("t-")}
    seen, start = set(), None
    while True:
        kw = dict(TableName=TABLE, IndexName="by-g", KeyConditionExpression="g = :g",
                  ExpressionAttributeValues={":g": {"S": "tx"}})
        if start:
            kw["ExclusiveStartKey"] = start
        r = ddb.query(**kw)
        seen |= {it["pk"]["S"] for it in r["Items"]}
        start = r.get("LastEvaluatedKey")
        if not start:
            break
    assert tx <= seen, f"index entries lost: {sorted(tx - seen)[:5]}"
