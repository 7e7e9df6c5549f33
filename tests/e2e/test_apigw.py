"""API Gateway HTTP API end to end: the environment's API at the root of the API port, APIs
made with `/usr/bin/aws apigatewayv2` and boto3 served by Host (`<id>.execute-api.localhost`)
and by path (`/_aws/execute-api/<id>/<stage>/...`), routes, payload 2.0 events, binary bodies,
cookies, function error → 500, slow function → 503, oversized body → 413, throttling → 429
(stage settings and the configured api.throttling_*), CORS preflight, Lambda authorizers
(simple and IAM answers, cached by identity) and JWT authorizers (OIDC discovery over HTTP,
or a JWKS file the API names with the tag haar:jwks), the resource policy a created API needs
(AddPermission), header-size limits, and durability across a restart.

Expected values come from AWS's documentation (AWS-CONTRACTS.md §2): {"message": ...} bodies,
401/403 for authorizers, apigw-requestid on every answer."""

import base64
import http.client
import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import botocore.exceptions
import pytest

from e2e_helpers import (ACCOUNT, REGION, REPO, Daemon, boto_client, client_error, function_arn,
                         read_lines, unique_name, wait_until)

DEV_TFVARS = REPO / "infra" / "envs" / "dev" / "terraform.tfvars.json"
JWKS_FILE = REPO / "tests" / "data" / "apigw" / "jwt" / "jwks.json"
TOKENS = json.loads((REPO / "tests" / "data" / "apigw" / "jwt" / "tokens.json").read_text())


def token(name):
    return next(c["token"] for c in TOKENS["cases"] if c["name"] == name)


def request(port, method, path, headers=None, body=None, timeout=30):
    """One HTTP request to the API port: (status, lowercase headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            hdrs.setdefault(k.lower(), []).append(v)
        return r.status, {k: ", ".join(v) for k, v in hdrs.items()}, data, hdrs
    finally:
        conn.close()


def host_of(daemon, api_id):
    return f"{api_id}.execute-api.localhost:{daemon.api_port}"


@pytest.fixture(scope="module")
def gw(haar):
    return boto_client("apigatewayv2", haar.aws_url)


def permit(lam, fn, api_id, sid=None):
    lam.add_permission(FunctionName=fn, StatementId=sid or unique_name("perm"),
                       Action="lambda:InvokeFunction", Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/*")


def make_api(gw, fn, routes, timeout_ms=None, payload="2.0", stage_extra=None, tags=None):
    """An HTTP API with one Lambda integration to fn, the routes given (route key → extra
    CreateRoute members) and an AutoDeploy $default stage. Returns the API's id."""
    kw = {"Tags": tags} if tags else {}
    api = gw.create_api(Name=unique_name("api"), ProtocolType="HTTP", **kw)
    extra = {"TimeoutInMillis": timeout_ms} if timeout_ms else {}
    ig = gw.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY",
                               IntegrationUri=function_arn(fn), PayloadFormatVersion=payload,
                               **extra)
    for key, more in routes.items():
        gw.create_route(ApiId=api["ApiId"], RouteKey=key,
                        Target=f"integrations/{ig['IntegrationId']}", **(more or {}))
    gw.create_stage(ApiId=api["ApiId"], StageName="$default", AutoDeploy=True,
                    **(stage_extra or {}))
    return api["ApiId"]


@pytest.fixture
def echo_api(gw, lam, make_function):
    fn = make_function("echo")
    api_id = make_api(gw, fn, {"ANY /{proxy+}": None, "GET /items/{id}": None})
    permit(lam, fn, api_id)
    yield api_id
    gw.delete_api(ApiId=api_id)


# ---- the environment's own API -------------------------------------------------------


def test_environment_api_health_routes_and_cors(haar):
    status, hdrs, body, _ = request(haar.api_port, "GET", "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert re.fullmatch(r"[A-Za-z0-9_-]{15}=", hdrs["apigw-requestid"]), hdrs
    # $default takes what the service's routes do not: the function's own 404
    status, _, body, _ = request(haar.api_port, "GET", "/no/such/thing")
    assert status == 404 and json.loads(body)["error"]["code"] == "NotFound"
    # the config's cors_allow_origins: the gateway answers the preflight itself
    status, hdrs, body, _ = request(haar.api_port, "OPTIONS", "/tasks", {
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204 and body == b""
    assert hdrs["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in hdrs["access-control-allow-methods"]
    assert "content-type" in hdrs["access-control-allow-headers"]
    assert hdrs["access-control-max-age"] == "3600"
    status, hdrs, _, _ = request(haar.api_port, "OPTIONS", "/tasks", {
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert status == 204 and "access-control-allow-origin" not in hdrs
    status, hdrs, _, _ = request(haar.api_port, "GET", "/health",
                                 {"Origin": "http://localhost:3000"})
    assert status == 200 and hdrs["access-control-allow-origin"] == "http://localhost:3000"
    assert hdrs["access-control-expose-headers"] == "location"


def test_environment_api_is_listed_and_served_by_host_and_path(haar, gw):
    apis = {a["Name"]: a for a in gw.get_apis()["Items"]}
    env = apis["haar-dev-api"]
    assert env["ProtocolType"] == "HTTP"
    assert env["CorsConfiguration"]["AllowOrigins"] == ["http://localhost:3000"]
    stage = gw.get_stage(ApiId=env["ApiId"], StageName="$default")
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] == 1000
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 2000
    keys = sorted(r["RouteKey"] for r in gw.get_routes(ApiId=env["ApiId"])["Items"])
    assert keys == sorted(["GET /health", "POST /tasks", "GET /tasks", "GET /tasks/{id}",
                           "POST /tasks/{id}/retry", "$default"])
    for path, hdrs in ((f"/_aws/execute-api/{env['ApiId']}/health", {}),
                       ("/health", {"Host": host_of(haar, env["ApiId"])})):
        status, _, body, _ = request(haar.api_port, "GET", path, hdrs)
        assert (status, json.loads(body)) == (200, {"status": "ok"}), path


# ---- an API made with the AWS CLI ------------------------------------------------------


def test_aws_cli_made_api_served_by_host_and_by_path(haar, aws, lam, make_function):
    fn = make_function("echo")
    api = aws.json("apigatewayv2", "create-api", "--name", unique_name("cli"),
                   "--protocol-type", "HTTP")
    api_id = api["ApiId"]
    assert api["ApiEndpoint"] == f"http://{api_id}.execute-api.localhost:{haar.api_port}"
    try:
        ig = aws.json("apigatewayv2", "create-integration", "--api-id", api_id,
                      "--integration-type", "AWS_PROXY", "--integration-uri", function_arn(fn),
                      "--payload-format-version", "2.0")
        route = aws.json("apigatewayv2", "create-route", "--api-id", api_id, "--route-key",
                         "ANY /{proxy+}", "--target", f"integrations/{ig['IntegrationId']}")
        assert route["RouteKey"] == "ANY /{proxy+}" and route["AuthorizationType"] == "NONE"
        stage = aws.json("apigatewayv2", "create-stage", "--api-id", api_id, "--stage-name",
                         "dev", "--auto-deploy", "--stage-variables", "color=blue")
        assert stage["DeploymentId"]
        # no resource policy yet: API Gateway may not invoke the function
        status, _, body, _ = request(haar.api_port, "GET", "/dev/a/b",
                                     {"Host": host_of(haar, api_id)})
        assert (status, body) == (500, b'{"message":"Internal Server Error"}')
        aws.json("lambda", "add-permission", "--function-name", fn, "--statement-id", "apigw",
                 "--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
                 "--source-arn", f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api_id}/*/*")
        policy = json.loads(aws.json("lambda", "get-policy", "--function-name", fn)["Policy"])
        assert policy["Statement"][0]["Condition"]["ArnLike"]["AWS:SourceArn"].endswith("/*/*")
        status, hdrs, body, _ = request(haar.api_port, "GET", "/dev/a/b?x=1&x=2",
                                        {"Host": host_of(haar, api_id), "Cookie": "k=v; j=w"})
        assert status == 200, body
        ev = json.loads(body)
        assert ev["routeKey"] == "ANY /{proxy+}"
        assert ev["rawPath"] == "/dev/a/b"
        assert ev["pathParameters"] == {"proxy": "a/b"}
        assert ev["queryStringParameters"] == {"x": "1,2"}
        assert ev["cookies"] == ["k=v", "j=w"]
        assert ev["stageVariables"] == {"color": "blue"}
        assert ev["headers"]["host"] == host_of(haar, api_id)  # issue 10's probe
        assert ev["requestContext"]["stage"] == "dev"
        assert ev["requestContext"]["apiId"] == api_id
        assert ev["requestContext"]["domainName"] == f"{api_id}.execute-api.localhost"
        assert ev["requestContext"]["requestId"] == hdrs["apigw-requestid"]
        # the same by path, for clients that cannot set Host
        status, _, body, _ = request(haar.api_port, "POST",
                                     f"/_aws/execute-api/{api_id}/dev/c", body=b"hi",
                                     headers={"Content-Type": "text/plain"})
        assert status == 200, body
        ev = json.loads(body)
        assert (ev["rawPath"], ev["body"], ev["isBase64Encoded"]) == ("/dev/c", "hi", False)
        listed = aws.json("apigatewayv2", "get-apis")["Items"]
        assert api_id in [a["ApiId"] for a in listed]
    finally:
        aws.json("apigatewayv2", "delete-api", "--api-id", api_id)
    p = aws.run("apigatewayv2", "get-api", "--api-id", api_id)
    assert p.returncode == 254 and "NotFoundException" in p.stderr, p.stderr
    assert f"Invalid API identifier specified {ACCOUNT}:{api_id}" in p.stderr
    status, _, body, _ = request(haar.api_port, "GET", f"/_aws/execute-api/{api_id}/dev/c")
    assert (status, body) == (404, b'{"message":"Not Found"}')


def test_management_errors_are_aws_shaped(gw, echo_api):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        gw.get_api(ApiId="nope123456")
    assert client_error(e)[:2] == (404, "NotFoundException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        gw.create_route(ApiId=echo_api, RouteKey="GET /items/{id}")
    assert client_error(e)[:2] == (409, "ConflictException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        gw.create_route(ApiId=echo_api, RouteKey="FETCH /x")
    assert client_error(e)[:2] == (400, "BadRequestException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        gw.create_api(Name="ws", ProtocolType="WEBSOCKET",
                      RouteSelectionExpression="$request.body.action")
    assert client_error(e)[:2] == (400, "BadRequestException")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        gw.get_route(ApiId=echo_api, RouteId="nope123")
    assert client_error(e)[:2] == (404, "NotFoundException")
    arn = f"arn:aws:apigateway:{REGION}::/apis/{echo_api}"
    gw.tag_resource(ResourceArn=arn, Tags={"team": "gw"})
    assert gw.get_tags(ResourceArn=arn)["Tags"] == {"team": "gw"}
    gw.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert gw.get_tags(ResourceArn=arn)["Tags"] == {}


# ---- the data path -------------------------------------------------------------------


def test_binary_body_arrives_base64_encoded(haar, echo_api):
    raw = bytes(range(256))
    status, _, body, _ = request(haar.api_port, "PUT", "/bin", body=raw,
                                 headers={"Host": host_of(haar, echo_api),
                                          "Content-Type": "application/octet-stream"})
    ev = json.loads(body)
    assert status == 200 and ev["isBase64Encoded"] is True
    assert base64.b64decode(ev["body"]) == raw
    # text that is not UTF-8 is binary too
    status, _, body, _ = request(haar.api_port, "POST", "/t", body=b"\xff\xfe",
                                 headers={"Host": host_of(haar, echo_api),
                                          "Content-Type": "text/plain"})
    ev = json.loads(body)
    assert (ev["isBase64Encoded"], ev["body"]) == (True, "//4=")


def test_query_probes_of_issue_10(haar, echo_api):
    host = {"Host": host_of(haar, echo_api)}
    status, _, body, _ = request(haar.api_port, "GET", "/q?y=%00&w=%E2%82%AC", host)
    assert status == 200
    assert json.loads(body)["queryStringParameters"] == {"y": "\x00", "w": "\u20ac"}
    status, _, body, _ = request(haar.api_port, "GET", "/q?y=%00&z=%zz", host)
    assert (status, body) == (400, b'{"message":"Bad Request"}')


def test_function_error_500_slow_503_oversized_413(haar, gw, lam, make_function):
    bad = make_function("handler_error")
    slow = make_function("apigw_slow", timeout=10)
    a = make_api(gw, bad, {"GET /boom": None})
    b = make_api(gw, slow, {"GET /slow": None, "POST /big": None}, timeout_ms=1000)
    permit(lam, bad, a)
    permit(lam, slow, b)
    try:
        status, hdrs, body, _ = request(haar.api_port, "GET", "/boom", {"Host": host_of(haar, a)})
        assert (status, body) == (500, b'{"message":"Internal Server Error"}')
        assert hdrs["content-type"] == "application/json" and hdrs["apigw-requestid"]
        t0 = time.monotonic()
        status, _, body, _ = request(haar.api_port, "GET", "/slow", {"Host": host_of(haar, b)})
        took = time.monotonic() - t0
        assert (status, body) == (503, b'{"message":"Service Unavailable"}')
        assert 0.9 <= took < 2.5, took
        status, _, body, _ = request(haar.api_port, "POST", "/big", {"Host": host_of(haar, b)},
                                     body=b"x" * (10 * 1024 * 1024 + 1))
        assert (status, body) == (413, b'{"message":"Request Entity Too Large"}')
    finally:
        gw.delete_api(ApiId=a)
        gw.delete_api(ApiId=b)


def test_stage_throttling_answers_429(haar, gw, lam, make_function):
    fn = make_function("echo")
    api = make_api(gw, fn, {"GET /t": None}, stage_extra={
        # a token every 100 s: the bucket stays empty however slowly the six requests go
        "DefaultRouteSettings": {"ThrottlingRateLimit": 0.01, "ThrottlingBurstLimit": 2}})
    permit(lam, fn, api)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", haar.api_port, timeout=10)
        got = []
        for _ in range(6):
            conn.request("GET", "/t", headers={"Host": host_of(haar, api)})
            r = conn.getresponse()
            got.append((r.status, r.read()))
        conn.close()
        assert [s for s, _ in got[:2]] == [200, 200], got
        assert got[2:] == [(429, b'{"message":"Too Many Requests"}')] * 4, got
    finally:
        gw.delete_api(ApiId=api)


def test_header_size_limits(haar):
    """AWS: request line plus header values, at most 10240 bytes (h2o itself reads heads up to
    ~417 KB, so the gateway's own check is what answers)."""
    ok = {"X-Pad": "a" * 9000}
    status, _, body, _ = request(haar.api_port, "GET", "/health", ok)
    assert status == 200, body
    big = {"X-Pad": "a" * 10300}
    status, _, body, _ = request(haar.api_port, "GET", "/health", big)
    assert (status, body) == (431, b'{"message":"Request Header Fields Too Large"}')


# ---- authorizers ---------------------------------------------------------------------


def test_lambda_authorizers_simple_iam_and_cached(haar, gw, lam, make_function, scratch):
    fn = make_function("echo")
    log = scratch / "auth.log"
    auth_fn = make_function("apigw_authorizer", env={"AUTH_LOG": str(log)})
    api = gw.create_api(Name=unique_name("auth"), ProtocolType="HTTP")["ApiId"]
    try:
        uri = (f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/"
               f"{function_arn(auth_fn)}/invocations")
        simple = gw.create_authorizer(
            ApiId=api, AuthorizerType="REQUEST", Name="simple", AuthorizerUri=uri,
            IdentitySource=["$request.header.x-token"], AuthorizerPayloadFormatVersion="2.0",
            EnableSimpleResponses=True, AuthorizerResultTtlInSeconds=300)
        iam = gw.create_authorizer(
            ApiId=api, AuthorizerType="REQUEST", Name="iam", AuthorizerUri=uri,
            IdentitySource=["$request.header.x-token"], AuthorizerPayloadFormatVersion="2.0",
            AuthorizerResultTtlInSeconds=0)
        v1 = gw.create_authorizer(
            ApiId=api, AuthorizerType="REQUEST", Name="v1", AuthorizerUri=uri,
            IdentitySource=["$request.header.x-token"], AuthorizerPayloadFormatVersion="1.0",
            AuthorizerResultTtlInSeconds=0)
        ig = gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY",
                                   IntegrationUri=function_arn(fn), PayloadFormatVersion="2.0")
        for key, auth in (("GET /simple", simple), ("GET /iam", iam), ("GET /v1", v1)):
            gw.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{ig['IntegrationId']}",
                            AuthorizationType="CUSTOM", AuthorizerId=auth["AuthorizerId"])
        gw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
        permit(lam, fn, api)
        permit(lam, auth_fn, api)
        host = host_of(haar, api)
        # no identity: 401 without invoking the authorizer
        status, _, body, _ = request(haar.api_port, "GET", "/simple", {"Host": host})
        assert (status, body) == (401, b'{"message":"Unauthorized"}')
        assert read_lines(log) == []
        status, _, body, _ = request(haar.api_port, "GET", "/simple",
                                     {"Host": host, "x-token": "allow"})
        assert status == 200, body
        ctx = json.loads(body)["requestContext"]["authorizer"]
        assert ctx == {"lambda": {"who": "e2e", "n": 7}}
        # the same identity within the TTL: answered from the cache
        status, _, _, _ = request(haar.api_port, "GET", "/simple",
                                  {"Host": host, "x-token": "allow"})
        assert status == 200 and len(read_lines(log)) == 1
        status, _, body, _ = request(haar.api_port, "GET", "/simple",
                                     {"Host": host, "x-token": "nope"})
        assert (status, body) == (403, b'{"message":"Forbidden"}')
        # IAM policy answers
        status, _, body, _ = request(haar.api_port, "GET", "/iam",
                                     {"Host": host, "x-token": "iam-allow"})
        assert status == 200, body
        ctx = json.loads(body)["requestContext"]["authorizer"]
        assert ctx["principalId"] == "user-1" and ctx["lambda"]["tier"] == "gold"
        status, _, body, _ = request(haar.api_port, "GET", "/iam",
                                     {"Host": host, "x-token": "iam-deny"})
        assert (status, body) == (403, b'{"message":"Forbidden"}')
        n = len(read_lines(log))
        request(haar.api_port, "GET", "/iam", {"Host": host, "x-token": "iam-deny"})
        assert len(read_lines(log)) == n + 1  # TTL 0: no caching
        # a payload 1.0 authorizer: the REST-style event, an IAM policy answer
        status, _, body, _ = request(haar.api_port, "GET", "/v1",
                                     {"Host": host, "x-token": "iam-allow"})
        assert status == 200, body
        assert json.loads(body)["requestContext"]["authorizer"]["principalId"] == "user-1"
        status, _, _, _ = request(haar.api_port, "GET", "/v1",
                                  {"Host": host, "x-token": "iam-deny"})
        assert status == 403
    finally:
        gw.delete_api(ApiId=api)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class Issuer:
    """An OIDC issuer on 127.0.0.1: discovery document, JWKS (an RSA key made with the openssl
    CLI), and RS256 tokens signed with `openssl dgst`."""

    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.key = self.tmp / "issuer.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(self.key)], check=True,
                       capture_output=True, timeout=30)
        text = subprocess.run(["openssl", "pkey", "-in", str(self.key), "-text_pub", "-noout"],
                              check=True, capture_output=True, text=True, timeout=30).stdout
        mod = re.search(r"Modulus:\n((?:\s+[0-9a-f:]+\n)+)", text).group(1)
        n = bytes.fromhex(re.sub(r"[\s:]", "", mod)).lstrip(b"\x00")
        self.jwks = {"keys": [{"kty": "RSA", "kid": "e2e", "alg": "RS256", "use": "sig",
                               "n": b64u(n), "e": "AQAB"}]}
        self.hits = {"discovery": 0, "jwks": 0}
        issuer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path == "/.well-known/openid-configuration":
                    issuer.hits["discovery"] += 1
                    doc = {"issuer": issuer.url, "jwks_uri": issuer.url + "/keys"}
                elif self.path == "/keys":
                    issuer.hits["jwks"] += 1
                    doc = issuer.jwks
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, **claims):
        header = b64u(json.dumps({"alg": "RS256", "kid": "e2e", "typ": "JWT"}).encode())
        body = {"iss": self.url, "aud": "e2e", "sub": "user-9", "exp": int(time.time()) + 600,
                "iat": int(time.time()) - 5, "scope": "read"}
        body.update(claims)
        signing = f"{header}.{b64u(json.dumps(body).encode())}"
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing.encode(), check=True, capture_output=True,
                             timeout=30).stdout
        return f"{signing}.{b64u(sig)}"

    def close(self):
        self.server.shutdown()


def test_jwt_authorizer_with_oidc_discovery(haar, gw, lam, make_function, tmp_path):
    issuer = Issuer(tmp_path)
    fn = make_function("echo")
    api = gw.create_api(Name=unique_name("jwt"), ProtocolType="HTTP")["ApiId"]
    try:
        auth = gw.create_authorizer(ApiId=api, AuthorizerType="JWT", Name="jwt",
                                    IdentitySource=["$request.header.Authorization"],
                                    JwtConfiguration={"Issuer": issuer.url, "Audience": ["e2e"]})
        ig = gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY",
                                   IntegrationUri=function_arn(fn), PayloadFormatVersion="2.0")
        for key, scopes in (("GET /read", ["read"]), ("GET /admin", ["admin"])):
            gw.create_route(ApiId=api, RouteKey=key, Target=f"integrations/{ig['IntegrationId']}",
                            AuthorizationType="JWT", AuthorizerId=auth["AuthorizerId"],
                            AuthorizationScopes=scopes)
        gw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
        permit(lam, fn, api)
        host = {"Host": host_of(haar, api)}
        status, _, body, _ = request(haar.api_port, "GET", "/read", host)
        assert (status, body) == (401, b'{"message":"Unauthorized"}')
        good = issuer.token()
        status, _, body, _ = request(haar.api_port, "GET", "/read",
                                     {**host, "Authorization": f"Bearer {good}"})
        assert status == 200, body
        jwt = json.loads(body)["requestContext"]["authorizer"]["jwt"]
        assert jwt["claims"]["sub"] == "user-9" and jwt["scopes"] == ["read"]
        status, hdrs, body, _ = request(haar.api_port, "GET", "/read",
                                        {**host, "Authorization": f"Bearer {good}x"})
        assert (status, body) == (401, b'{"message":"Unauthorized"}')
        assert 'error="invalid_token"' in hdrs["www-authenticate"]
        expired = issuer.token(exp=int(time.time()) - 60)
        status, _, _, _ = request(haar.api_port, "GET", "/read",
                                  {**host, "Authorization": expired})
        assert status == 401
        status, hdrs, body, _ = request(haar.api_port, "GET", "/admin",
                                        {**host, "Authorization": f"Bearer {good}"})
        assert (status, body) == (403, b'{"message":"Forbidden"}')
        assert 'error="insufficient_scope"' in hdrs["www-authenticate"]
        # the keys were fetched once (discovery, then the JWKS) and kept
        assert issuer.hits == {"discovery": 1, "jwks": 1}
    finally:
        gw.delete_api(ApiId=api)
        issuer.close()


def test_jwt_authorizer_with_a_jwks_file_named_by_the_api(haar, gw, lam, make_function):
    fn = make_function("echo")
    api = gw.create_api(Name=unique_name("jwks"), ProtocolType="HTTP",
                        Tags={"haar:jwks": str(JWKS_FILE)})["ApiId"]
    try:
        auth = gw.create_authorizer(ApiId=api, AuthorizerType="JWT", Name="jwt",
                                    IdentitySource=["$request.header.Authorization"],
                                    JwtConfiguration={"Issuer": TOKENS["issuer"],
                                                      "Audience": [TOKENS["audience"]]})
        ig = gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY",
                                   IntegrationUri=function_arn(fn), PayloadFormatVersion="2.0")
        gw.create_route(ApiId=api, RouteKey="GET /me", Target=f"integrations/{ig['IntegrationId']}",
                        AuthorizationType="JWT", AuthorizerId=auth["AuthorizerId"])
        gw.create_stage(ApiId=api, StageName="$default", AutoDeploy=True)
        permit(lam, fn, api)
        host = {"Host": host_of(haar, api)}
        for name, want in (("rs256 valid", 200), ("es256 valid", 200),
                           ("wrong audience", 401), ("signed by another key", 401)):
            status, _, body, _ = request(haar.api_port, "GET", "/me",
                                         {**host, "Authorization": f"Bearer {token(name)}"})
            assert status == want, (name, body)
    finally:
        gw.delete_api(ApiId=api)


# ---- a daemon of its own: the configured throttling, access logs, durability -------------


def test_configured_throttling_answers_429_and_access_logs(tmp_path):
    doc = json.loads(DEV_TFVARS.read_text())
    doc["api"]["throttling_rate_limit"] = 5
    doc["api"]["throttling_burst_limit"] = 5
    cfg = tmp_path / "throttled.tfvars.json"
    cfg.write_text(json.dumps(doc))
    d = Daemon(tmp_path, extra_args=("--config", str(cfg)))
    try:
        d.wait_ready()
        conn = http.client.HTTPConnection("127.0.0.1", d.api_port, timeout=10)
        codes = []
        for _ in range(40):
            conn.request("GET", "/health")
            r = conn.getresponse()
            body = r.read()
            codes.append(r.status)
            if r.status == 429:
                assert body == b'{"message":"Too Many Requests"}'
        conn.close()
        assert codes[:5] == [200] * 5, codes
        assert codes.count(429) >= 25, codes
        logs = boto_client("logs", d.aws_url)
        group = "/aws/apigateway/haar-dev-api"

        def lines():
            evs = logs.filter_log_events(logGroupName=group)["events"]
            return [json.loads(e["message"]) for e in evs]
        got = wait_until(lambda: len(lines()) >= 40 and lines(), 10, 0.2, "40 access-log lines")
        statuses = [g["status"] for g in got]
        assert statuses.count("429") == codes.count(429)
        line = next(g for g in got if g["status"] == "200")
        assert line["routeKey"] == "GET /health" and line["path"] == "/health"
        assert line["httpMethod"] == "GET" and line["ip"] == "127.0.0.1"
        assert re.fullmatch(r"\d+", line["integrationLatency"])
    finally:
        assert d.stop() == 0


def test_configured_jwt_authorizer_guards_every_route_but_health(tmp_path):
    """api.jwt_authorizer in the tfvars file: the environment's API gets 20_infra's JWT
    authorizer and 30_app's wiring (every route but GET /health behind it). Offline, the API's
    tag haar:jwks names the issuer's keys (a file here); on AWS the issuer is fetched."""
    doc = json.loads(DEV_TFVARS.read_text())
    doc["api"]["jwt_authorizer"] = {"enabled": True, "issuer": TOKENS["issuer"],
                                    "audience": [TOKENS["audience"]]}
    doc["tags"]["haar:jwks"] = str(JWKS_FILE)
    cfg = tmp_path / "jwt.tfvars.json"
    cfg.write_text(json.dumps(doc))
    d = Daemon(tmp_path, extra_args=("--config", str(cfg)))
    try:
        d.wait_ready()
        gw2 = boto_client("apigatewayv2", d.aws_url)
        api = next(a for a in gw2.get_apis()["Items"] if a["Name"] == "haar-dev-api")
        auths = gw2.get_authorizers(ApiId=api["ApiId"])["Items"]
        assert [(a["Name"], a["AuthorizerType"], a["IdentitySource"], a["JwtConfiguration"])
                for a in auths] == [("haar-dev-jwt", "JWT", ["$request.header.Authorization"],
                                     {"Issuer": TOKENS["issuer"],
                                      "Audience": [TOKENS["audience"]]})]
        guarded = {r["RouteKey"]: r["AuthorizationType"]
                   for r in gw2.get_routes(ApiId=api["ApiId"])["Items"]}
        assert guarded.pop("GET /health") == "NONE"
        assert set(guarded.values()) == {"JWT"} and "POST /tasks" in guarded

        def get(path, name=None):
            headers = {"Authorization": f"Bearer {token(name)}"} if name else {}
            status, _, body, _ = request(d.api_port, "GET", path, headers)
            return status, body
        assert get("/health")[0] == 200
        assert get("/tasks") == (401, b'{"message":"Unauthorized"}')
        assert get("/tasks", "wrong audience")[0] == 401
        assert get("/tasks", "signed by another key")[0] == 401
        status, body = get("/tasks?status=QUEUED&limit=1", "rs256 valid")
        assert status == 200, body
        assert json.loads(body) == {"tasks": []}
    finally:
        assert d.stop() == 0


def test_created_apis_survive_a_restart(tmp_path):
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        gw2 = boto_client("apigatewayv2", d.aws_url)
        api = gw2.create_api(Name="durable", ProtocolType="HTTP",
                             Target=function_arn("haar-dev-api"))
        api_id = api["ApiId"]
        gw2.create_stage(ApiId=api_id, StageName="beta", AutoDeploy=True,
                         StageVariables={"k": "v"})
        routes = gw2.get_routes(ApiId=api_id)["Items"]
    finally:
        assert d.stop() == 0
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        gw2 = boto_client("apigatewayv2", d.aws_url)
        assert gw2.get_api(ApiId=api_id)["Name"] == "durable"
        assert gw2.get_routes(ApiId=api_id)["Items"] == routes
        stages = {s["StageName"]: s for s in gw2.get_stages(ApiId=api_id)["Items"]}
        assert set(stages) == {"$default", "beta"}
        assert stages["beta"]["StageVariables"] == {"k": "v"}
        # the environment's function, through the quick-created $default route and stage
        lam = boto_client("lambda", d.aws_url)
        permit(lam, "haar-dev-api", api_id)
        status, _, body, _ = request(d.api_port, "GET", "/health",
                                     {"Host": host_of(d, api_id)})
        assert (status, json.loads(body)) == (200, {"status": "ok"})
    finally:
        assert d.stop() == 0
