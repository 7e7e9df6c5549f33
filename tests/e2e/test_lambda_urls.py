"""Function URLs: the configuration API (Create/Get/Update/Delete/ListFunctionUrlConfigs) with
boto3, and the URL served on the API port by Host (<id>.lambda-url.<region>.localhost) and by
path (/_aws/lambda-url/<id>/...): auth type NONE (with the public resource policy AWS
requires) and AWS_IAM (SigV4, service "lambda"), the payload 2.0 event, the function URL
response mapping (AWS-RECORDED.md §5: inference, string status codes, 502 on error), CORS."""
import http.client
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from e2e_helpers import REGION, client_error, function_arn, unique_name, zip_files

PY = "python3.11"

APP = {"app.py": """
import base64, json
def handler(event, context):
    mode = (event.get("queryStringParameters") or {}).get("mode", "event")
    if mode == "event":
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps(event)}
    if mode == "dict":
        return {"hello": "world"}
    if mode == "string":
        return "hello"
    if mode == "teapot":
        return {"statusCode": "418", "body": "i'm a teapot", "headers": {"My-Header": "x"}}
    if mode == "cookies":
        return {"statusCode": 201, "cookies": ["a=1", "b=2"], "body": "ok"}
    raise RuntimeError("the function failed")
"""}


@pytest.fixture
def url_fn(lam):
    name = unique_name("url")
    lam.create_function(FunctionName=name, Runtime=PY, Role="arn:aws:iam::000000000000:role/r",
                        Handler="app.handler", Code={"ZipFile": zip_files(APP)})
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except Exception:
        pass


def call(haar, url, path="/", method="GET", headers=None, body=None, by="host"):
    """(status, headers, body) of a request to the function URL url, addressed by its Host or
    by the /_aws/lambda-url/ path."""
    host = url.split("//", 1)[1].split(":", 1)[0]
    url_id = host.split(".", 1)[0]
    hdrs = dict(headers or {})
    if by == "host":
        hdrs["Host"] = host
    else:
        path = f"/_aws/lambda-url/{url_id}{path}"
    c = http.client.HTTPConnection("127.0.0.1", haar.api_port, timeout=30)
    try:
        c.request(method, path, body=body, headers=hdrs)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def public(lam, name, qualifier=None):
    kw = {"Qualifier": qualifier} if qualifier else {}
    lam.add_permission(FunctionName=name, StatementId="public-url",
                       Action="lambda:InvokeFunctionUrl", Principal="*",
                       FunctionUrlAuthType="NONE", **kw)


def test_url_config_api(haar, lam, url_fn):
    c = lam.create_function_url_config(FunctionName=url_fn, AuthType="NONE",
                                       Cors={"AllowOrigins": ["https://app.example"]})
    assert c["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert c["FunctionArn"] == function_arn(url_fn) and c["AuthType"] == "NONE"
    host = c["FunctionUrl"].split("//")[1]
    assert host.startswith(host.split(".")[0] + f".lambda-url.{REGION}.localhost:")
    assert len(host.split(".")[0]) == 32
    with pytest.raises(lam.exceptions.ResourceConflictException) as e:
        lam.create_function_url_config(FunctionName=url_fn, AuthType="NONE")
    assert "FunctionUrlConfig exists for this Lambda function" in client_error(e)[2]
    got = lam.get_function_url_config(FunctionName=url_fn)
    assert got["FunctionUrl"] == c["FunctionUrl"] and got["AuthType"] == "NONE"
    up = lam.update_function_url_config(FunctionName=url_fn, AuthType="AWS_IAM")
    assert up["AuthType"] == "AWS_IAM" and up["FunctionUrl"] == c["FunctionUrl"]
    listed = lam.list_function_url_configs(FunctionName=url_fn)["FunctionUrlConfigs"]
    assert [u["FunctionUrl"] for u in listed] == [c["FunctionUrl"]]
    lam.delete_function_url_config(FunctionName=url_fn)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=url_fn)
    assert call(haar, c["FunctionUrl"])[0] == 404
    with pytest.raises(lam.exceptions.ClientError) as e:  # a version has no URL
        lam.create_function_url_config(FunctionName=url_fn, Qualifier="1", AuthType="NONE")
    assert client_error(e)[1] == "ValidationException"


def test_auth_none_serves_the_public_by_host_and_by_path(haar, lam, url_fn):
    url = lam.create_function_url_config(FunctionName=url_fn, AuthType="NONE")["FunctionUrl"]
    # AWS requires a resource policy granting the public the URL
    assert call(haar, url)[:1] == (403,)
    assert json.loads(call(haar, url)[2]) == {"Message": "Forbidden"}
    public(lam, url_fn)
    for by in ("host", "path"):
        status, headers, body = call(haar, url, "/items/7?mode=event&a=1&a=2", by=by,
                                     headers={"Cookie": "c1=x; c2=y", "X-Test": "yes"})
        assert status == 200, body
        ev = json.loads(body)
        assert ev["version"] == "2.0" and ev["routeKey"] == "$default"
        assert ev["rawPath"] == "/items/7"
        assert ev["rawQueryString"] == "mode=event&a=1&a=2"
        assert ev["queryStringParameters"] == {"mode": "event", "a": "1,2"}
        assert ev["cookies"] == ["c1=x", "c2=y"] and ev["headers"]["x-test"] == "yes"
        rc = ev["requestContext"]
        url_id = url.split("//")[1].split(".")[0]
        assert rc["apiId"] == url_id and rc["domainPrefix"] == url_id
        assert rc["domainName"].startswith(f"{url_id}.lambda-url.{REGION}.")
        assert rc["http"]["method"] == "GET" and rc["http"]["path"] == "/items/7"
        assert rc["stage"] == "$default" and "authorizer" not in rc
        assert headers["x-amzn-requestid"]


def test_response_mapping_as_function_urls_do(haar, lam, url_fn):
    url = lam.create_function_url_config(FunctionName=url_fn, AuthType="NONE")["FunctionUrl"]
    public(lam, url_fn)
    status, headers, body = call(haar, url, "/?mode=dict")
    assert (status, headers["content-type"], body) == (200, "application/json",
                                                       b'{"hello":"world"}')
    status, headers, body = call(haar, url, "/?mode=string")
    assert (status, body) == (200, b"hello")
    status, headers, body = call(haar, url, "/?mode=teapot")
    assert (status, body, headers["my-header"]) == (418, b"i'm a teapot", "x")
    status, headers, body = call(haar, url, "/?mode=cookies")
    assert status == 201 and body == b"ok"
    status, headers, body = call(haar, url, "/?mode=fail")
    assert (status, body) == (502, b"Internal Server Error")


def test_auth_aws_iam_takes_a_signature(haar, lam, url_fn):
    url = lam.create_function_url_config(FunctionName=url_fn, AuthType="AWS_IAM")["FunctionUrl"]
    assert call(haar, url, "/?mode=event")[0] == 403
    host = url.split("//")[1].split(":")[0]  # as call() sends it: Host without the port
    req = AWSRequest(method="GET", url=f"http://{host}/?mode=event", data=b"")
    SigV4Auth(Credentials("test", "test"), "lambda", REGION).add_auth(req)
    signed = dict(req.headers.items())
    status, _, body = call(haar, url, "/?mode=event", headers=signed)
    assert status == 200, body
    iam = json.loads(body)["requestContext"]["authorizer"]["iam"]
    assert iam["accessKey"] == "test" and iam["accountId"] == "000000000000"
    assert iam["userArn"] == "arn:aws:iam::000000000000:root"
    bad = AWSRequest(method="GET", url=f"http://{host}/?mode=event", data=b"")
    SigV4Auth(Credentials("test", "wrong"), "lambda", REGION).add_auth(bad)
    assert call(haar, url, "/?mode=event", headers=dict(bad.headers.items()))[0] == 403


def test_cors(haar, lam, url_fn):
    url = lam.create_function_url_config(
        FunctionName=url_fn, AuthType="NONE",
        Cors={"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
              "AllowHeaders": ["x-custom"], "MaxAge": 300})["FunctionUrl"]
    public(lam, url_fn)
    status, headers, _ = call(haar, url, "/", "OPTIONS", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert status in (200, 204)
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert "POST" in headers["access-control-allow-methods"]
    status, headers, _ = call(haar, url, "/?mode=dict", headers={"Origin": "https://app.example"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://app.example"
    status, headers, _ = call(haar, url, "/?mode=dict", headers={"Origin": "https://evil.example"})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_an_alias_has_its_own_url(haar, lam, url_fn):
    lam.publish_version(FunctionName=url_fn)
    lam.create_alias(FunctionName=url_fn, Name="live", FunctionVersion="1")
    c = lam.create_function_url_config(FunctionName=url_fn, Qualifier="live", AuthType="NONE")
    assert c["FunctionArn"] == function_arn(url_fn) + ":live"
    public(lam, url_fn, qualifier="live")
    status, _, body = call(haar, c["FunctionUrl"], "/?mode=dict")
    assert status == 200, body
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_url_config(FunctionName=url_fn)  # $LATEST has none
