"""Lambda API failure paths: AWS error codes, HTTP statuses and messages.

Messages checked against what AWS answers (as quoted in public issue threads):
  - "Function already exist: <name>" (409 ResourceConflictException)
  - "Function not found: arn:aws:lambda:<region>:<account>:function:<name>" (404)
  - "Could not unzip uploaded file. Please check your file, then try to upload again." (400)
  - "Value '<x>' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set"
  - "Request must be smaller than 6291456 bytes for the InvokeFunction operation" (413; the
    wire code AWS sends is RequestEntityTooLargeException, although the SDK model's shape is
    named RequestTooLargeException)
"""

import base64
import json

import botocore.exceptions
import pytest

from e2e_helpers import (ROLE, RUNTIME, client_error, function_arn, invoke, make_zip,
                         not_found_message, raw_request, unique_name, wait_active)


def create_raw(haar, body):
    return raw_request(haar.aws_url, "POST", "/2015-03-31/functions",
                       json.dumps(body).encode(), {"Content-Type": "application/json"})


def error_of(status, headers, body):
    """(status, error code, message) of a REST-JSON Lambda error answer."""
    code = headers.get("x-amzn-errortype", "").split(":")[0]
    doc = json.loads(body)
    return status, code, doc.get("message", doc.get("Message"))


def test_create_duplicate_is_409_conflict(lam, make_function):
    name = make_function("echo", prefix="dup")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")})
    assert client_error(e) == (409, "ResourceConflictException", f"Function already exist: {name}")


def test_create_with_unknown_runtime_is_400(lam):
    name = unique_name("badrt")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName=name, Runtime="nodejs0.1", Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")})
    status, code, msg = client_error(e)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "nodejs0.1" in msg and "at 'runtime' failed to satisfy constraint" in msg, msg
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.get_function(FunctionName=name)
    assert client_error(e)[:2] == (404, "ResourceNotFoundException")


def test_create_without_role_is_400(haar, lam):
    """Role is required by the model: AWS's ValidationException, "1 validation error
    detected: Value null at 'role' failed to satisfy constraint: Member must not be null"."""
    name = unique_name("norole")
    status, headers, body = create_raw(haar, {
        "FunctionName": name, "Runtime": RUNTIME, "Handler": "bootstrap",
        "Code": {"ZipFile": base64.b64encode(make_zip("echo")).decode()}})
    status, code, msg = error_of(status, headers, body)
    assert (status, code) == (400, "ValidationException"), body
    assert msg == ("1 validation error detected: Value null at 'role' failed to satisfy "
                   "constraint: Member must not be null"), msg
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.get_function(FunctionName=name)
    assert client_error(e)[:2] == (404, "ResourceNotFoundException")


def test_create_with_malformed_role_is_400(lam):
    """AWS checks the role against its ARN pattern: ValidationException, "1 validation error
    detected: Value 'not-a-role' at 'role' failed to satisfy constraint: Member must satisfy
    regular expression pattern: ..."."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName=unique_name("badrole"), Runtime=RUNTIME,
                            Role="not-a-role", Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")})
    status, code, msg = client_error(e)
    assert status == 400
    assert code in ("ValidationException", "InvalidParameterValueException"), code
    assert "at 'role' failed to satisfy constraint" in msg, msg


def test_create_with_invalid_base64_zip_is_400(haar, lam):
    name = unique_name("badb64")
    status, headers, body = create_raw(haar, {
        "FunctionName": name, "Runtime": RUNTIME, "Role": ROLE, "Handler": "bootstrap",
        "Code": {"ZipFile": "this is !!! not base64 ***"}})
    status, code, _ = error_of(status, headers, body)
    assert (status, code) == (400, "InvalidParameterValueException"), body
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.get_function(FunctionName=name)
    assert client_error(e)[:2] == (404, "ResourceNotFoundException")


def test_create_with_bytes_that_are_not_a_zip_is_400(lam):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName=unique_name("notzip"), Runtime=RUNTIME, Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": b"PK\x03\x04 definitely not"})
    assert client_error(e) == (400, "InvalidParameterValueException",
                               "Could not unzip uploaded file. Please check your file, "
                               "then try to upload again.")


def test_zip_without_bootstrap_fails_at_invoke_like_aws(lam):
    """AWS accepts a provided.* package without `bootstrap` and fails the invoke with
    Runtime.InvalidEntrypoint "Couldn't find valid bootstrap(s): [/var/task/bootstrap
    /opt/bootstrap]" (so does haar, or it refuses the create with a 400)."""
    name = unique_name("noboot")
    code = make_zip(None, extra={"README": b"no bootstrap here"})
    try:
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": code})
    except botocore.exceptions.ClientError as e:
        pytest.fail("create-function of a zip without bootstrap was refused "
                    f"({e.response['Error']}); AWS accepts it and fails the invoke instead")
    try:
        wait_active(lam, name)
        status, headers, body, ferr = invoke(lam, name, {})
        assert (status, ferr) == (200, "Unhandled")
        err = json.loads(body)
        assert err["errorType"] == "Runtime.InvalidEntrypoint"
        assert "Couldn't find valid bootstrap(s)" in err["errorMessage"]
    finally:
        lam.delete_function(FunctionName=name)


def test_invoke_unknown_function_is_404(lam):
    name = unique_name("ghost")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName=name, Payload=b"{}")
    assert client_error(e) == (404, "ResourceNotFoundException", not_found_message(name))


def test_get_and_delete_unknown_function_are_404(lam):
    name = unique_name("ghost")
    for call in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(FunctionName=name)
        assert client_error(e) == (404, "ResourceNotFoundException", not_found_message(name))


def test_invoke_with_invalid_json_payload_is_400(lam, echo_fn):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName=echo_fn, Payload=b'{"unterminated": ')
    status, code, msg = client_error(e)
    assert (status, code) == (400, "InvalidRequestContentException")
    assert msg.startswith("Could not parse request body into json")


def test_invoke_payload_over_6mb_is_413(haar, echo_fn):
    body = b'"' + b"a" * 6291456 + b'"'  # 6291458 bytes of valid JSON
    status, headers, data = raw_request(
        haar.aws_url, "POST", f"/2015-03-31/functions/{echo_fn}/invocations", body,
        {"Content-Type": "application/json", "X-Amz-Invocation-Type": "RequestResponse"},
        timeout=60)
    status, code, msg = error_of(status, headers, data)
    assert status == 413
    assert code == "RequestEntityTooLargeException", f"X-Amzn-ErrorType was {code!r}"
    assert msg == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"


def test_invoke_payload_just_under_limit_round_trips(lam, echo_fn):
    payload = b'"' + b"z" * 6000000 + b'"'
    status, _, body, ferr = invoke(lam, echo_fn, payload)
    assert (status, ferr) == (200, None)
    assert len(body) == len(payload)
    assert body == payload


def test_invoke_by_arn_and_latest_qualifier(lam, echo_fn):
    status, headers, body, ferr = invoke(lam, function_arn(echo_fn), {"via": "arn"})
    assert (status, ferr, json.loads(body)) == (200, None, {"via": "arn"})
    status, headers, body, ferr = invoke(lam, echo_fn, {"via": "qualifier"}, Qualifier="$LATEST")
    assert (status, ferr, json.loads(body)) == (200, None, {"via": "qualifier"})


def test_dry_run_is_204_and_checks_existence(lam, echo_fn):
    r = lam.invoke(FunctionName=echo_fn, InvocationType="DryRun", Payload=b"{}")
    assert r["StatusCode"] == 204
    assert r["Payload"].read() == b""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.invoke(FunctionName=unique_name("ghost"), InvocationType="DryRun", Payload=b"{}")
    assert client_error(e)[:2] == (404, "ResourceNotFoundException")


def test_create_with_out_of_range_timeout_and_memory_is_400(haar, lam):
    for extra in ({"Timeout": 901}, {"Timeout": 0}, {"MemorySize": 127}, {"MemorySize": 10241}):
        name = unique_name("range")
        body = {"FunctionName": name, "Runtime": RUNTIME, "Role": ROLE, "Handler": "bootstrap",
                "Code": {"ZipFile": base64.b64encode(make_zip("echo")).decode()}, **extra}
        status, code, msg = error_of(*create_raw(haar, body))
        assert status == 400, (extra, status)
        assert code in ("InvalidParameterValueException", "ValidationException"), (extra, code)
        member = next(iter(extra)).lower().replace("memorysize", "memorySize")
        assert f"at '{member}' failed to satisfy constraint" in msg, (extra, msg)


def test_create_with_reserved_environment_variable_is_400(lam):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName=unique_name("resvar"), Runtime=RUNTIME, Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": make_zip("echo")},
                            Environment={"Variables": {"AWS_REGION": "mars-1", "OK": "1"}})
    status, code, msg = client_error(e)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert msg.startswith("Lambda was unable to configure your environment variables because the "
                          "environment variables you have provided contains reserved keys"), msg
    assert "AWS_REGION" in msg


def test_create_with_invalid_function_name_is_400(lam):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName="bad name!", Runtime=RUNTIME, Role=ROLE,
                            Handler="bootstrap", Code={"ZipFile": make_zip("echo")})
    status, code, msg = client_error(e)
    assert status == 400
    assert code in ("ValidationException", "InvalidParameterValueException"), code
    assert "at 'functionName' failed to satisfy constraint" in msg, msg


def test_update_code_of_unknown_function_is_404(lam):
    name = unique_name("ghost")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.update_function_code(FunctionName=name, ZipFile=make_zip("echo"))
    assert client_error(e) == (404, "ResourceNotFoundException", not_found_message(name))


def test_reserving_beyond_the_unreserved_minimum_is_400(lam, make_function):
    """The account (limit 1000 in dev) must keep 100 unreserved, as AWS requires."""
    name = make_function("echo", prefix="toomuch")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=901)
    status, code, msg = client_error(e)
    assert (status, code) == (400, "InvalidParameterValueException")
    assert msg == ("Specified ReservedConcurrentExecutions for function decreases account's "
                   "UnreservedConcurrentExecution below its minimum value of [100].")
    assert lam.put_function_concurrency(
        FunctionName=name, ReservedConcurrentExecutions=900)["ReservedConcurrentExecutions"] == 900
    lam.delete_function_concurrency(FunctionName=name)
