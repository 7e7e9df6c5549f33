"""STS on the AWS port: GetCallerIdentity (who signed: the account's root for the configured
keys, the execution role's assumed-role ARN for a function's own keys, the issued identity for
temporary credentials), AssumeRole and GetSessionToken returning credentials that work against
the other services and expire on the clock, AWS's validation errors, and both protocols (the
query protocol the AWS CLI and boto3 speak, JSON 1.0 as newer SDKs may send)."""

import json

import botocore.exceptions
import pytest

from e2e_helpers import (boto_client, client_error, clock, invoke, raw_request)

ROLE_ARN = "arn:aws:iam::000000000000:role/ops/deployer"


def test_get_caller_identity_with_the_configured_keys(haar, aws):
    got = aws.json("sts", "get-caller-identity")
    assert got == {"UserId": "000000000000", "Account": "000000000000",
                   "Arn": "arn:aws:iam::000000000000:root"}


def test_a_function_is_its_execution_role(haar, make_function):
    lam = boto_client("lambda", haar.aws_url)
    name = make_function("env", prefix="whoami")
    env = json.loads(invoke(lam, name, {})[2])["env"]
    sts = boto_client("sts", haar.aws_url, key=env["AWS_ACCESS_KEY_ID"],
                      secret=env["AWS_SECRET_ACCESS_KEY"], token=env["AWS_SESSION_TOKEN"])
    got = sts.get_caller_identity()
    assert got["Account"] == "000000000000"
    assert got["Arn"] == f"arn:aws:sts::000000000000:assumed-role/lambda-role/{name}"
    assert got["UserId"].startswith("AROA") and got["UserId"].endswith(f":{name}")


def test_assume_role_gives_working_credentials(haar):
    sts = boto_client("sts", haar.aws_url)
    r = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="ci-run.42", DurationSeconds=900)
    c = r["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and c["SessionToken"]
    assert r["AssumedRoleUser"]["Arn"] == \
        "arn:aws:sts::000000000000:assumed-role/deployer/ci-run.42"
    assert r["AssumedRoleUser"]["AssumedRoleId"].endswith(":ci-run.42")
    as_role = dict(key=c["AccessKeyId"], secret=c["SecretAccessKey"], token=c["SessionToken"])
    who = boto_client("sts", haar.aws_url, **as_role).get_caller_identity()
    assert who["Arn"] == r["AssumedRoleUser"]["Arn"]
    assert who["UserId"] == r["AssumedRoleUser"]["AssumedRoleId"]
    # the credentials work for the other services, and only with their token
    boto_client("lambda", haar.aws_url, **as_role).list_functions()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        boto_client("lambda", haar.aws_url, key=c["AccessKeyId"],
                    secret=c["SecretAccessKey"], token="not-the-token").list_functions()
    assert client_error(e)[:2] == (403, "UnrecognizedClientException")
    # the same role again: the same role id, other keys
    r2 = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="other")
    assert r2["AssumedRoleUser"]["AssumedRoleId"].split(":")[0] == \
        r["AssumedRoleUser"]["AssumedRoleId"].split(":")[0]
    assert r2["Credentials"]["AccessKeyId"] != c["AccessKeyId"]


def test_get_session_token(haar):
    sts = boto_client("sts", haar.aws_url)
    c = sts.get_session_token(DurationSeconds=900)["Credentials"]
    temp = boto_client("sts", haar.aws_url, key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                       token=c["SessionToken"])
    assert temp.get_caller_identity()["Arn"] == "arn:aws:iam::000000000000:root"
    # temporary credentials cannot get another session token, as on AWS
    with pytest.raises(botocore.exceptions.ClientError) as e:
        temp.get_session_token()
    assert client_error(e)[:2] == (403, "AccessDenied")


@pytest.mark.parametrize("params,member", [
    ({"RoleArn": ROLE_ARN, "RoleSessionName": "x"}, "roleSessionName"),
    ({"RoleArn": ROLE_ARN, "RoleSessionName": "bad name"}, "roleSessionName"),
    ({"RoleArn": ROLE_ARN, "RoleSessionName": "ok", "DurationSeconds": "899"}, "durationSeconds"),
    ({"RoleArn": ROLE_ARN, "RoleSessionName": "ok", "DurationSeconds": "43201"},
     "durationSeconds"),
    ({"RoleSessionName": "ok"}, "roleArn"),
])
def test_assume_role_validation(haar, params, member):
    body = "&".join(f"{k}={v.replace(' ', '+')}" for k, v in
                    {"Action": "AssumeRole", "Version": "2011-06-15", **params}.items())
    status, headers, data = raw_request(
        haar.aws_url, "POST", "/", body.encode(),
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, service="sts")
    assert status == 400, data
    assert b"<Code>ValidationError</Code>" in data, data
    assert member.encode() in data, data


def test_unknown_action_and_a_role_arn_that_is_not_one(haar):
    status, _, data = raw_request(
        haar.aws_url, "POST", "/", b"Action=AssumeRole&Version=2011-06-15&RoleArn=nope"
        b"&RoleSessionName=ok", {"Content-Type": "application/x-www-form-urlencoded"},
        service="sts")
    assert status == 400 and b"<Code>ValidationError</Code>" in data, data
    status, _, data = raw_request(
        haar.aws_url, "POST", "/", b"Action=GetFederationToken&Version=2011-06-15&Name=x",
        {"Content-Type": "application/x-www-form-urlencoded"}, service="sts")
    assert status == 400 and b"<Code>InvalidAction</Code>" in data, data


def test_json_protocol(haar):
    status, headers, data = raw_request(
        haar.aws_url, "POST", "/", b"{}",
        {"Content-Type": "application/x-amz-json-1.0",
         "X-Amz-Target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity"}, service="sts")
    assert status == 200, data
    assert json.loads(data) == {"UserId": "000000000000", "Account": "000000000000",
                                "Arn": "arn:aws:iam::000000000000:root"}


def test_a_bogus_session_token_with_long_term_keys_is_refused(haar):
    # AWS refuses a token it never issued, whatever the key (issue 7, item 14)
    sts = boto_client("sts", haar.aws_url, key="test", secret="test", token="bogus")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.get_caller_identity()
    assert client_error(e)[:2] == (403, "InvalidClientTokenId")


def test_credentials_expire_on_the_clock(manual_haar):
    sts = boto_client("sts", manual_haar.aws_url)
    c = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="short",
                        DurationSeconds=900)["Credentials"]
    temp = boto_client("sts", manual_haar.aws_url, key=c["AccessKeyId"],
                       secret=c["SecretAccessKey"], token=c["SessionToken"])
    temp.get_caller_identity()
    assert clock(manual_haar, advance=899)[0] == 200
    temp.get_caller_identity()
    clock(manual_haar, advance=2)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        temp.get_caller_identity()
    assert client_error(e)[:2] == (403, "InvalidClientTokenId")


def test_issued_credentials_survive_a_restart(tmp_path):
    from e2e_helpers import Daemon
    d = Daemon(tmp_path)
    d.wait_ready()
    try:
        c = boto_client("sts", d.aws_url).assume_role(
            RoleArn=ROLE_ARN, RoleSessionName="durable")["Credentials"]
    finally:
        assert d.stop() == 0
    d2 = Daemon(tmp_path)
    d2.wait_ready()
    try:
        who = boto_client("sts", d2.aws_url, key=c["AccessKeyId"], secret=c["SecretAccessKey"],
                          token=c["SessionToken"]).get_caller_identity()
        assert who["Arn"].endswith(":assumed-role/deployer/durable")
    finally:
        assert d2.stop() == 0
