"""SigV4 on the AWS endpoint (AWS-CONTRACTS.md §7): requests must be signed with a known key
(test/test by default, HAAR_ACCESS_KEYS, or a function's own credentials with its token).
Refusals have the shapes AWS gives: Lambda (REST) answers 403 with X-Amzn-ErrorType,
CloudWatch Logs (JSON 1.1) answers 400 with __type. Each refusal changes nothing."""
import datetime
import json
import re
import subprocess

import boto3
import botocore.config
import botocore.exceptions
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from e2e_helpers import (AWS_CLI, REGION, ROLE, RUNTIME, Daemon, boto_client, make_zip,
                         raw_request, run_haar, unique_name)


def refused(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Message", "")


def test_wrong_secret_is_an_invalid_signature(haar):
    lam = boto_client("lambda", haar.aws_url, secret="not-the-secret")
    logs = boto_client("logs", haar.aws_url, secret="not-the-secret")
    code, status, msg = refused(lambda: lam.list_functions())
    assert (code, status) == ("InvalidSignatureException", 403)
    assert msg.startswith("The request signature we calculated does not match the signature you "
                          "provided."), msg
    assert "The Canonical String for this request should have been" in msg
    code, status, _ = refused(lambda: logs.describe_log_groups())
    assert (code, status) == ("InvalidSignatureException", 400)


def test_unknown_access_key_is_unrecognized(haar):
    lam = boto_client("lambda", haar.aws_url, key="AKIANOBODYKNOWS", secret="x")
    logs = boto_client("logs", haar.aws_url, key="AKIANOBODYKNOWS", secret="x")
    assert refused(lambda: lam.get_function(FunctionName="haar-dev-api"))[:2] == \
        ("UnrecognizedClientException", 403)
    assert refused(lambda: logs.describe_log_groups())[:2] == ("UnrecognizedClientException", 400)


def test_refused_writes_change_nothing(haar, lam):
    bad = boto_client("lambda", haar.aws_url, secret="wrong")
    name = unique_name("unsigned")
    code, status, _ = refused(lambda: bad.create_function(
        FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
        Code={"ZipFile": make_zip("echo")}))
    assert (code, status) == ("InvalidSignatureException", 403)
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    logs = boto_client("logs", haar.aws_url)
    badlogs = boto_client("logs", haar.aws_url, secret="wrong")
    refused(lambda: badlogs.create_log_group(logGroupName=f"/e2e/{name}"))
    assert logs.describe_log_groups(logGroupNamePrefix=f"/e2e/{name}")["logGroups"] == []


def test_unsigned_requests_are_refused(haar):
    status, headers, body = raw_request(haar.aws_url, "GET", "/2015-03-31/functions/", sign=False)
    assert status == 403
    assert headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    assert json.loads(body)["message"] == "Missing Authentication Token"
    status, _, body = raw_request(haar.aws_url, "POST", "/", b"{}", sign=False,
                                  headers={"X-Amz-Target": "Logs_20140328.DescribeLogGroups",
                                           "Content-Type": "application/x-amz-json-1.1"})
    assert status == 400 and json.loads(body)["__type"] == "MissingAuthenticationTokenException"
    # haar's own paths need no signature
    assert raw_request(haar.aws_url, "GET", "/_haar/health", sign=False)[0] == 200


def test_malformed_authorization_is_an_incomplete_signature(haar):
    for auth in ("AWS4-HMAC-SHA256 Credential=test/20261126/eu-west-1/lambda/aws4_request",
                 "AWS4-HMAC-SHA1 Credential=a, SignedHeaders=host, Signature=00",
                 "garbage"):
        status, headers, _ = raw_request(haar.aws_url, "GET", "/2015-03-31/functions/", sign=False,
                                         headers={"Authorization": auth,
                                                  "X-Amz-Date": "20261126T000000Z"})
        assert (status, headers["x-amzn-errortype"]) == (403, "IncompleteSignatureException"), auth


def _resigned_at(haar, when):
    """A signed ListFunctions whose date (header and scope) is moved to `when`: the clock check
    comes before the signature, as AWS's does."""
    amz = when.strftime("%Y%m%dT%H%M%SZ")
    req = AWSRequest(method="GET", url=haar.aws_url + "/2015-03-31/functions/")
    SigV4Auth(Credentials("test", "test"), "lambda", REGION).add_auth(req)
    hdrs = dict(req.headers.items())
    hdrs["X-Amz-Date"] = amz
    hdrs["Authorization"] = re.sub(r"Credential=test/\d{8}/", f"Credential=test/{amz[:8]}/",
                                   hdrs["Authorization"])
    return raw_request(haar.aws_url, "GET", "/2015-03-31/functions/", sign=False, headers=hdrs)


def test_clock_skew_beyond_five_minutes_is_refused(haar):
    now = datetime.datetime.now(datetime.timezone.utc)
    status, headers, body = _resigned_at(haar, now - datetime.timedelta(minutes=20))
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Signature expired: ")
    status, headers, body = _resigned_at(haar, now + datetime.timedelta(minutes=20))
    assert (status, headers["x-amzn-errortype"]) == (403, "InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Signature not yet current: ")


def test_wrong_region_in_the_scope_is_refused(haar):
    lam = boto_client("lambda", haar.aws_url)
    other = boto3_client_in_region(haar.aws_url, "us-west-2")
    code, status, msg = refused(lambda: other.list_functions())
    assert (code, status) == ("InvalidSignatureException", 403)
    assert "Credential should be scoped to a valid region" in msg
    lam.list_functions()  # the daemon's own region is fine


def boto3_client_in_region(endpoint, region):
    return boto3.session.Session().client(
        "lambda", endpoint_url=endpoint, region_name=region, aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 0}))


def test_aws_cli_with_a_wrong_secret_fails_clearly(aws):
    env = dict(aws.env, AWS_SECRET_ACCESS_KEY="wrong")
    p = subprocess.run([AWS_CLI, "--endpoint-url", aws.endpoint, "--region", REGION,
                        "lambda", "list-functions"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode != 0
    assert "InvalidSignatureException" in p.stderr, p.stderr


def test_function_credentials_need_their_token(haar, lam, make_function):
    name = make_function("env")
    seen = json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    env = seen["env"]
    own = boto_client("lambda", haar.aws_url, key=env["AWS_ACCESS_KEY_ID"],
                      secret=env["AWS_SECRET_ACCESS_KEY"], token=env["AWS_SESSION_TOKEN"])
    assert own.get_function(FunctionName=name)["Configuration"]["FunctionName"] == name
    stolen = boto_client("lambda", haar.aws_url, key=env["AWS_ACCESS_KEY_ID"],
                         secret=env["AWS_SECRET_ACCESS_KEY"], token="not-its-token")
    assert refused(lambda: stolen.get_function(FunctionName=name))[:2] == \
        ("UnrecognizedClientException", 403)


def test_haar_access_keys_replace_the_default(tmp_path):
    d = Daemon(tmp_path, env={"HAAR_ACCESS_KEYS": "AKIAHAARLOCAL:s3cr3t,second:key2"})
    try:
        d.wait_ready()
        boto_client("lambda", d.aws_url, key="AKIAHAARLOCAL", secret="s3cr3t").list_functions()
        boto_client("lambda", d.aws_url, key="second", secret="key2").list_functions()
        assert refused(lambda: boto_client("lambda", d.aws_url).list_functions())[:2] == \
            ("UnrecognizedClientException", 403)
    finally:
        assert d.stop(15) == 0


@pytest.mark.parametrize("spec", ["nocolon", ":secret", "id:", "a/b:c"])
def test_bad_haar_access_keys_exit_2(tmp_path, spec):
    d = Daemon(tmp_path, env={"HAAR_ACCESS_KEYS": spec})
    rc = d.proc.wait(15)
    d.stop(5)
    assert rc == 2
    assert "HAAR_ACCESS_KEYS" in d.stderr_tail()


def test_haar_cli_signs_with_haar_access_key_env(tmp_path):
    d = Daemon(tmp_path, env={"HAAR_ACCESS_KEYS": "AKIAHAARLOCAL:s3cr3t"})
    try:
        d.wait_ready()
        keys = {"HAAR_ACCESS_KEY_ID": "AKIAHAARLOCAL", "HAAR_SECRET_ACCESS_KEY": "s3cr3t"}
        p = run_haar("invoke", "api", "--payload", "{}", "--endpoint", d.aws_url, env=keys)
        assert "UnrecognizedClientException" not in p.stderr and "HTTP 403" not in p.stderr, p.stderr
        p = run_haar("invoke", "api", "--payload", "{}", "--endpoint", d.aws_url)
        assert p.returncode == 1 and "HTTP 403: UnrecognizedClientException" in p.stderr, p.stderr
        p = run_haar("logs", "api", "--endpoint", d.aws_url, env=keys)
        assert p.returncode == 0, p.stderr
    finally:
        assert d.stop(15) == 0
