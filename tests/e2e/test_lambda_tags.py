"""Lambda tags (ListTags / TagResource / UntagResource, CreateFunction's Tags, GetFunction's
Tags), ListVersionsByFunction and GetFunctionCodeSigningConfig — what Terraform's
aws_lambda_function reads — through boto3 and the AWS CLI."""
import botocore.exceptions
import pytest

from e2e_helpers import ROLE, RUNTIME, Daemon, boto_client, make_zip, unique_name, wait_active


def arn(name):
    return f"arn:aws:lambda:eu-west-1:000000000000:function:{name}"


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_tags_round_trip(lam, aws):
    name = unique_name("tags")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                        Code={"ZipFile": make_zip("echo")}, Tags={"team": "core", "cost": "1"})
    try:
        wait_active(lam, name)
        assert lam.get_function(FunctionName=name)["Tags"] == {"team": "core", "cost": "1"}
        assert lam.list_tags(Resource=arn(name))["Tags"] == {"team": "core", "cost": "1"}
        lam.tag_resource(Resource=arn(name), Tags={"cost": "2", "env": "dev"})
        assert lam.list_tags(Resource=arn(name))["Tags"] == {"team": "core", "cost": "2", "env": "dev"}
        lam.untag_resource(Resource=arn(name), TagKeys=["team", "absent"])
        assert lam.list_tags(Resource=arn(name))["Tags"] == {"cost": "2", "env": "dev"}
        out = aws.json("lambda", "list-tags", "--resource", arn(name))
        assert out["Tags"] == {"cost": "2", "env": "dev"}
        aws.run("lambda", "tag-resource", "--resource", arn(name), "--tags", "via=cli")
        assert lam.list_tags(Resource=arn(name))["Tags"]["via"] == "cli"
    finally:
        lam.delete_function(FunctionName=name)


def test_tag_limits_and_errors_change_nothing(lam, echo_fn):
    before = lam.list_tags(Resource=arn(echo_fn))["Tags"]
    too_many = {f"k{i}": "v" for i in range(len(before) + 51)}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.tag_resource(Resource=arn(echo_fn), Tags=too_many)
    assert error_code(e) == ("InvalidParameterValueException", 400)
    # 50 in all, counting the ones it has, is still too many when the merge passes 50
    lam.tag_resource(Resource=arn(echo_fn), Tags={f"t{i}": "v" for i in range(50 - len(before))})
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.tag_resource(Resource=arn(echo_fn), Tags={"one-more": "v"})
    assert error_code(e) == ("InvalidParameterValueException", 400)
    assert len(lam.list_tags(Resource=arn(echo_fn))["Tags"]) == 50
    lam.untag_resource(Resource=arn(echo_fn), TagKeys=[f"t{i}" for i in range(50 - len(before))])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.tag_resource(Resource=arn(echo_fn), Tags={"aws:reserved": "x"})
    assert error_code(e) == ("InvalidParameterValueException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.tag_resource(Resource=arn(echo_fn), Tags={"k": "v" * 257})
    assert error_code(e) == ("ValidationException", 400)
    assert lam.list_tags(Resource=arn(echo_fn))["Tags"] == before
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.list_tags(Resource=arn("e2e-no-such-fn"))
    assert error_code(e) == ("ResourceNotFoundException", 404)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.list_tags(Resource="not-an-arn")
    assert error_code(e) == ("ValidationException", 400)


def test_create_with_bad_tags_creates_nothing(lam):
    name = unique_name("badtags")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")}, Tags={"aws:x": "1"})
    assert error_code(e) == ("InvalidParameterValueException", 400)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.get_function(FunctionName=name)
    assert error_code(e) == ("ResourceNotFoundException", 404)


def test_versions_and_code_signing_as_terraform_reads_them(lam, echo_fn):
    versions = lam.list_versions_by_function(FunctionName=echo_fn)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]
    # as AWS lists it: $LATEST with its qualified ARN
    assert versions[0]["FunctionArn"] == arn(echo_fn) + ":$LATEST"
    csc = lam.get_function_code_signing_config(FunctionName=echo_fn)
    assert csc["FunctionName"] == echo_fn and csc["CodeSigningConfigArn"] == ""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.list_versions_by_function(FunctionName="e2e-no-such-fn")
    assert error_code(e) == ("ResourceNotFoundException", 404)


def test_tags_survive_restart(tmp_path):
    d = Daemon(tmp_path)
    name = unique_name("tagkeep")
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                            Code={"ZipFile": make_zip("echo")}, Tags={"a": "1"})
        lam.tag_resource(Resource=arn(name), Tags={"b": "2"})
    finally:
        assert d.stop(15) == 0
    d = Daemon(tmp_path)
    try:
        d.wait_ready()
        lam = boto_client("lambda", d.aws_url)
        assert lam.list_tags(Resource=arn(name))["Tags"] == {"a": "1", "b": "2"}
    finally:
        assert d.stop(15) == 0
