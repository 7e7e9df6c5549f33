"""Versions and aliases with boto3 and the AWS CLI: PublishVersion (with its CodeSha256 and
RevisionId checks, and the last version again when nothing changed), ListVersionsByFunction,
immutable versions with environments of their own, aliases (create, get, update, list,
delete) with weighted routing that follows its weight, qualified ARNs and Qualifier on
Invoke, GetFunction, permissions and event invoke configs, and provisioned concurrency
keeping environments warm."""
import json
import collections

import pytest

from e2e_helpers import (REGION, boto_client, client_error, fn_health, function_arn, invoke,
                         unique_name, wait_until, zip_files)

PY = "python3.11"

APP = {"app.py": """
import os
TAG = open(os.path.join(os.path.dirname(__file__), 'tag.txt')).read().strip()
def handler(event, context):
    return {"tag": TAG, "version": context.function_version,
            "arn": context.invoked_function_arn,
            "init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"),
            "timeout_left_ms": context.get_remaining_time_in_millis()}
"""}


def code(tag):
    return zip_files({**APP, "tag.txt": tag})


@pytest.fixture
def fn(lam):
    name = unique_name("ver")
    lam.create_function(FunctionName=name, Runtime=PY, Role="arn:aws:iam::000000000000:role/r",
                        Handler="app.handler", Code={"ZipFile": code("one")}, Timeout=5)
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except Exception:
        pass


def ran(lam, name, **kw):
    status, headers, body, ferr = invoke(lam, name, {}, **kw)
    assert (status, ferr) == (200, None), body
    return json.loads(body), headers["x-amz-executed-version"]


def test_publish_and_list_versions(lam, fn):
    latest = lam.get_function(FunctionName=fn)["Configuration"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.publish_version(FunctionName=fn, CodeSha256="AAAA")
    assert client_error(e)[2] == (f"CodeSHA256 (AAAA) is different from current CodeSHA256 in "
                                  f"$LATEST ({latest['CodeSha256']}). Please try again with the "
                                  "CodeSHA256 in $LATEST.")
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.publish_version(FunctionName=fn, RevisionId="not-the-revision")
    v1 = lam.publish_version(FunctionName=fn, CodeSha256=latest["CodeSha256"],
                             RevisionId=latest["RevisionId"], Description="first")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (v1["Version"], v1["Description"]) == ("1", "first")
    assert v1["FunctionArn"] == function_arn(fn) + ":1"
    # nothing changed: the same version again
    assert lam.publish_version(FunctionName=fn)["Version"] == "1"
    lam.update_function_code(FunctionName=fn, ZipFile=code("two"))
    assert lam.publish_version(FunctionName=fn)["Version"] == "2"
    versions = lam.list_versions_by_function(FunctionName=fn)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"] == function_arn(fn) + ":$LATEST"
    page = lam.list_versions_by_function(FunctionName=fn, MaxItems=2)
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]
    rest = lam.list_versions_by_function(FunctionName=fn, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2"]


def test_versions_are_immutable_and_run_their_own_code(lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.update_function_code(FunctionName=fn, ZipFile=code("two"))
    lam.update_function_configuration(FunctionName=fn, Timeout=9)
    assert ran(lam, fn)[0]["tag"] == "two"
    got, executed = ran(lam, fn, Qualifier="1")
    assert (got["tag"], got["version"], executed) == ("one", "1", "1")
    assert got["timeout_left_ms"] <= 5000  # version 1's timeout, not $LATEST's 9 s
    got, executed = ran(lam, f"{fn}:1")
    assert (got["tag"], executed, got["arn"]) == ("one", "1", function_arn(fn) + ":1")
    conf = lam.get_function(FunctionName=fn, Qualifier="1")["Configuration"]
    assert (conf["Version"], conf["Timeout"], conf["FunctionArn"]) == ("1", 5, function_arn(fn) + ":1")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.get_function(FunctionName=fn, Qualifier="7")
    assert client_error(e)[2] == f"Function not found: {function_arn(fn)}:7"
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.delete_function(FunctionName=fn, Qualifier="$LATEST")
    lam.delete_function(FunctionName=fn, Qualifier="1")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=fn, Qualifier="1", Payload=b"{}")


def test_aliases_and_weighted_routing(lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.update_function_code(FunctionName=fn, ZipFile=code("two"))
    lam.publish_version(FunctionName=fn)
    a = lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1",
                         Description="the live one")
    assert a["AliasArn"] == function_arn(fn) + ":live" and a["FunctionVersion"] == "1"
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    assert client_error(e)[2] == f"Alias already exists: {function_arn(fn)}:live"
    got, executed = ran(lam, fn, Qualifier="live")
    assert (got["tag"], executed, got["arn"]) == ("one", "1", function_arn(fn) + ":live")
    # 1,000 invocations at 0.2: version 2 takes 150..250 of them
    lam.update_alias(FunctionName=fn, Name="live",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}})
    assert lam.get_alias(FunctionName=fn, Name="live")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"2": 0.2}}
    seen = collections.Counter(ran(lam, f"{fn}:live")[1] for _ in range(1000))
    assert set(seen) == {"1", "2"} and 150 <= seen["2"] <= 250, seen
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.delete_function(FunctionName=fn, Qualifier="2")
    assert client_error(e)[2] == ("Unable to delete version because the following aliases "
                                  "reference it: [live]")
    # a stale RevisionId changes nothing
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="2", RevisionId="old")
    rev = lam.get_alias(FunctionName=fn, Name="live")["RevisionId"]
    moved = lam.update_alias(FunctionName=fn, Name="live", FunctionVersion="2", RevisionId=rev,
                             RoutingConfig={})
    assert moved["FunctionVersion"] == "2" and "RoutingConfig" not in moved
    assert ran(lam, f"{fn}:live")[1] == "2"
    lam.create_alias(FunctionName=fn, Name="old", FunctionVersion="1")
    names = [x["Name"] for x in lam.list_aliases(FunctionName=fn)["Aliases"]]
    assert names == ["live", "old"]
    only1 = lam.list_aliases(FunctionName=fn, FunctionVersion="1")["Aliases"]
    assert [x["Name"] for x in only1] == ["old"]
    lam.delete_alias(FunctionName=fn, Name="old")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as e:
        lam.get_alias(FunctionName=fn, Name="old")
    assert client_error(e)[2] == f"Cannot find alias arn: {function_arn(fn)}:old"


def test_permissions_and_event_configs_per_qualifier(lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    st = lam.add_permission(FunctionName=fn, Qualifier="live", StatementId="events",
                            Action="lambda:InvokeFunction", Principal="events.amazonaws.com")
    assert json.loads(st["Statement"])["Resource"] == function_arn(fn) + ":live"
    policy = json.loads(lam.get_policy(FunctionName=fn, Qualifier="live")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["events"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName=fn)  # $LATEST has none
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.add_permission(FunctionName=fn, Qualifier="$LATEST", StatementId="x",
                           Action="lambda:InvokeFunction", Principal="events.amazonaws.com")
    cfg = lam.put_function_event_invoke_config(FunctionName=fn, Qualifier="live",
                                               MaximumRetryAttempts=0)
    assert cfg["FunctionArn"] == function_arn(fn) + ":live"
    listed = lam.list_function_event_invoke_configs(FunctionName=fn)
    assert [c["FunctionArn"] for c in listed["FunctionEventInvokeConfigs"]] == [
        function_arn(fn) + ":live"]
    lam.remove_permission(FunctionName=fn, Qualifier="live", StatementId="events")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_function_concurrency(FunctionName=f"{fn}:live", ReservedConcurrentExecutions=1)



FAILING = {"app.py": """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"ok": event.get("n")}
"""}


def test_event_invocation_records_reach_their_destinations(haar, lam):
    """Destinations of asynchronous invocations on an alias: the failure's invocation record
    (RetriesExhausted, no retries) on the OnFailure queue, the success's on OnSuccess."""
    sqs = boto_client("sqs", haar.aws_url)
    name = unique_name("dest")
    failed = sqs.create_queue(QueueName=name + "-failed")["QueueUrl"]
    done = sqs.create_queue(QueueName=name + "-done")["QueueUrl"]
    qarn = f"arn:aws:sqs:{REGION}:000000000000:"
    lam.create_function(FunctionName=name, Runtime=PY, Role="arn:aws:iam::000000000000:role/r",
                        Handler="app.handler", Code={"ZipFile": zip_files(FAILING)}, Timeout=5,
                        Publish=True)
    try:
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        lam.put_function_event_invoke_config(
            FunctionName=name, Qualifier="live", MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": qarn + name + "-failed"},
                               "OnSuccess": {"Destination": qarn + name + "-done"}})
        assert lam.invoke(FunctionName=name, Qualifier="live", InvocationType="Event",
                          Payload=b'{"fail": true, "n": 1}')["StatusCode"] == 202
        assert lam.invoke(FunctionName=name, Qualifier="live", InvocationType="Event",
                          Payload=b'{"n": 2}')["StatusCode"] == 202

        def one(url):
            got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
            return json.loads(got[0]["Body"]) if got else None

        rec = wait_until(lambda: one(failed), timeout=20)
        assert rec["version"] == "1.0"
        assert rec["requestContext"]["condition"] == "RetriesExhausted"
        assert rec["requestContext"]["functionArn"] == function_arn(name) + ":live"
        assert rec["requestContext"]["approximateInvokeCount"] == 1
        assert rec["requestPayload"] == {"fail": True, "n": 1}
        assert rec["responseContext"] == {"statusCode": 200, "executedVersion": "1",
                                          "functionError": "Unhandled"}
        assert rec["responsePayload"]["errorMessage"] == "asked to fail"
        rec = wait_until(lambda: one(done), timeout=20)
        assert rec["requestContext"]["condition"] == "Success"
        assert rec["requestPayload"] == {"n": 2}
        assert rec["responsePayload"] == {"ok": 2}
        assert "functionError" not in rec["responseContext"]
    finally:
        lam.delete_function(FunctionName=name)
        sqs.delete_queue(QueueUrl=failed)
        sqs.delete_queue(QueueUrl=done)

def test_provisioned_concurrency_keeps_environments_warm(haar, lam, fn):
    lam.publish_version(FunctionName=fn)
    lam.create_alias(FunctionName=fn, Name="live", FunctionVersion="1")
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="$LATEST",
                                               ProvisionedConcurrentExecutions=1)
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
    put = lam.put_provisioned_concurrency_config(FunctionName=fn, Qualifier="live",
                                                 ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["RequestedProvisionedConcurrentExecutions"] == 2

    def ready():
        c = lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
        return c if c["Status"] == "READY" else None
    c = wait_until(ready, 15, 0.1, "provisioned concurrency READY")
    assert c["AllocatedProvisionedConcurrentExecutions"] == 2

    assert fn_health(haar, fn)["environments"] == 2  # warm before any invocation
    got, _ = ran(lam, f"{fn}:live")
    assert got["init"] == "provisioned-concurrency"
    assert fn_health(haar, fn)["environments"] == 2  # it ran on a warm one
    listed = lam.list_provisioned_concurrency_configs(FunctionName=fn)
    assert [x["FunctionArn"] for x in listed["ProvisionedConcurrencyConfigs"]] == [
        function_arn(fn) + ":live"]
    lam.delete_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=fn, Qualifier="live")


def test_the_aws_cli_publishes_and_aliases(aws, lam, fn):
    out = aws.json("lambda", "publish-version", "--function-name", fn, "--description", "cli")
    assert out["Version"] == "1"
    out = aws.json("lambda", "create-alias", "--function-name", fn, "--name", "prod",
                   "--function-version", "1")
    assert out["AliasArn"] == function_arn(fn) + ":prod"
    out = aws.json("lambda", "list-aliases", "--function-name", fn)
    assert [a["Name"] for a in out["Aliases"]] == ["prod"]
    out = aws.json("lambda", "get-function-configuration", "--function-name", f"{fn}:prod")
    assert out["Version"] == "1" and out["FunctionArn"] == function_arn(fn) + ":prod"


def test_function_with_publish_on_create(lam):
    name = unique_name("ver-pub")
    out = lam.create_function(FunctionName=name, Runtime=PY,
                              Role="arn:aws:iam::000000000000:role/r", Handler="app.handler",
                              Code={"ZipFile": code("one")}, Publish=True)
    try:
        assert out["Version"] == "1" and out["FunctionArn"] == function_arn(name) + ":1"
        out = lam.update_function_code(FunctionName=name, ZipFile=code("two"), Publish=True)
        assert out["Version"] == "2"
        assert ran(lam, name, Qualifier="2")[0]["tag"] == "two"
    finally:
        lam.delete_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name, Qualifier="1")


def test_list_functions_pages_names_sharing_a_prefix_and_ten_versions_or_more(lam):
    # ListFunctions resumes after its marker by name, then version number: "p1" and "p-a"
    # sort after "p" although their keys "p1:" / "p-a:" are below "p:" byte by byte, and
    # version 10 comes after 9 although "10" < "9" as text
    base = unique_name("pg")
    names = [base, base + "1", base + "-a"]
    for n in names:
        lam.create_function(FunctionName=n, Runtime=PY, Role="arn:aws:iam::000000000000:role/r",
                            Handler="app.handler", Code={"ZipFile": code(n)})
    try:
        for i in range(11):
            lam.update_function_configuration(FunctionName=base, Description=f"d{i}")
            wait_until(lambda: lam.get_function_configuration(FunctionName=base)
                       ["LastUpdateStatus"] == "Successful", 10, what="update")
            assert lam.publish_version(FunctionName=base)["Version"] == str(i + 1)

        def mine(fns):
            return [(f["FunctionName"], f["Version"]) for f in fns if f["FunctionName"] in names]

        whole = mine(lam.list_functions(FunctionVersion="ALL", MaxItems=10000)["Functions"])
        assert sorted(whole) == sorted([(base, "$LATEST")] + [(base, str(v)) for v in range(1, 12)]
                                       + [(base + "1", "$LATEST"), (base + "-a", "$LATEST")])
        for size in (1, 2, 5):
            paged, marker = [], None
            for _ in range(1000):
                kw = {"Marker": marker} if marker else {}
                page = lam.list_functions(FunctionVersion="ALL", MaxItems=size, **kw)
                paged += mine(page["Functions"])
                marker = page.get("NextMarker")
                if not marker:
                    break
            assert paged == whole, size
        # without versions, names only: the same names in the same order, page by page
        paged, marker = [], None
        for _ in range(1000):
            page = lam.list_functions(MaxItems=1, **({"Marker": marker} if marker else {}))
            paged += mine(page["Functions"])
            marker = page.get("NextMarker")
            if not marker:
                break
        assert paged == [x for x in whole if x[1] == "$LATEST"]
    finally:
        for n in names:
            lam.delete_function(FunctionName=n)
