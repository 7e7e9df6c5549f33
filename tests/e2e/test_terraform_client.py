"""Terraform (hashicorp/aws from the local provider mirror) as a client of haar: apply
creates a log group and a function whose code comes from a zip, reads an invocation through
the aws_lambda_invocation data source, plans no changes afterwards, updates in place and
destroys — the calls the provider makes (CreateLogGroup, ListTagsForResource,
CreateFunction, GetFunction, ListVersionsByFunction, GetFunctionCodeSigningConfig,
UpdateFunctionConfiguration, TagResource, Invoke, DeleteFunction, ...) all answered by haar.
Skipped with a notice when terraform or the mirror is absent."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e_helpers import make_zip, unique_name


def mirror():
    if not Path("/opt").is_dir():
        return None
    for d in sorted(Path("/opt").iterdir()):
        if (d / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return d
    return None


DDB_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    dynamodb = "%(endpoint)s"
  }
}
variable "tier" { type = string }
variable "pitr" { type = bool }
variable "second_index" { type = bool }
resource "aws_dynamodb_table" "tasks" {
  name         = "%(name)s"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  tags         = { tier = var.tier }

  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }
  attribute {
    name = "created_at"
    type = "S"
  }
  global_secondary_index {
    name            = "by-status"
    hash_key        = "status"
    range_key       = "created_at"
    projection_type = "ALL"
  }
  dynamic "global_secondary_index" {
    for_each = var.second_index ? [1] : []
    content {
      name               = "by-created"
      hash_key           = "created_at"
      projection_type    = "INCLUDE"
      non_key_attributes = ["status"]
    }
  }
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = var.pitr
  }
}
output "arn" { value = aws_dynamodb_table.tasks.arn }
"""


def test_terraform_dynamodb_table_against_haar(haar, tmp_path):
    """aws_dynamodb_table with a GSI, TTL, PITR and tags: apply, plan clean, update in place
    (tags, PITR, a second GSI added by UpdateTable), plan clean, destroy."""
    from e2e_helpers import boto_client
    tf, plugins = shutil.which("terraform"), mirror()
    if tf is None or plugins is None:
        pytest.skip("terraform or its provider mirror (/opt/*/registry.terraform.io) is absent: "
                    "Terraform-as-a-client check skipped")
    ddb = boto_client("dynamodb", haar.aws_url)
    name = unique_name("tfddb")
    work = tmp_path / "tf"
    work.mkdir()
    (work / "main.tf").write_text(DDB_TF % {"endpoint": haar.aws_url, "name": name})
    (tmp_path / "terraformrc").write_text("")
    env = dict(os.environ, HOME=str(tmp_path), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
               TF_CLI_CONFIG_FILE=str(tmp_path / "terraformrc"), TF_INPUT="0")

    def run(*args, check=True):
        p = subprocess.run([tf, *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
        if check:
            assert p.returncode == 0, f"terraform {' '.join(args)}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        return p

    first = ["-var=tier=1", "-var=pitr=false", "-var=second_index=false"]
    second = ["-var=tier=2", "-var=pitr=true", "-var=second_index=true"]
    run("init", "-input=false", f"-plugin-dir={plugins}")
    try:
        run("apply", "-auto-approve", *first)
        t = ddb.describe_table(TableName=name)["Table"]
        assert run("output", "-raw", "arn").stdout == t["TableArn"]
        assert [g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == ["by-status"]
        assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
            "TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
        assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "tier", "Value": "1"}]
        p = run("plan", "-detailed-exitcode", *first, check=False)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
        ddb.put_item(TableName=name, Item={"id": {"S": "kept"}, "status": {"S": "QUEUED"},
                                           "created_at": {"S": "2026-01-01"}})
        out = run("apply", "-auto-approve", *second).stdout
        assert "0 added, 1 changed, 0 destroyed" in out, out[-2000:]
        t = ddb.describe_table(TableName=name)["Table"]
        assert sorted(g["IndexName"] for g in t["GlobalSecondaryIndexes"]) == ["by-created", "by-status"]
        assert ddb.get_item(TableName=name, Key={"id": {"S": "kept"}})["Item"]["status"] == {"S": "QUEUED"}
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
        assert ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "tier", "Value": "2"}]
        p = run("plan", "-detailed-exitcode", *second, check=False)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    finally:
        run("destroy", "-auto-approve", *second)
    assert name not in ddb.list_tables()["TableNames"]


MAIN_TF = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    lambda         = "%(endpoint)s"
    cloudwatchlogs = "%(endpoint)s"
  }
}
variable "memory" { type = number }
variable "tier" { type = string }
resource "aws_cloudwatch_log_group" "fn" {
  name              = "/aws/lambda/%(name)s"
  retention_in_days = 14
  tags              = { tier = var.tier }
}
resource "aws_lambda_function" "fn" {
  function_name    = "%(name)s"
  role             = "arn:aws:iam::000000000000:role/e2e-terraform"
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = "fn.zip"
  source_code_hash = filebase64sha256("fn.zip")
  memory_size      = var.memory
  timeout          = 5
  architectures    = ["arm64"]
  tags             = { tier = var.tier }
  environment {
    variables = { STAGE = "terraform" }
  }
  depends_on = [aws_cloudwatch_log_group.fn]
}
data "aws_lambda_invocation" "hello" {
  function_name = aws_lambda_function.fn.function_name
  input         = jsonencode({ hello = "terraform" })
}
output "result" { value = data.aws_lambda_invocation.hello.result }
"""


def test_terraform_applies_plans_updates_and_destroys_against_haar(haar, lam, logs_client, tmp_path):
    tf, plugins = shutil.which("terraform"), mirror()
    if tf is None or plugins is None:
        pytest.skip("terraform or its provider mirror (/opt/*/registry.terraform.io) is absent: "
                    "Terraform-as-a-client check skipped")
    name = unique_name("tf")
    work = tmp_path / "tf"
    work.mkdir()
    (work / "main.tf").write_text(MAIN_TF % {"endpoint": haar.aws_url, "name": name})
    (work / "fn.zip").write_bytes(make_zip("echo"))
    (tmp_path / "terraformrc").write_text("")
    env = dict(os.environ, HOME=str(tmp_path), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
               TF_CLI_CONFIG_FILE=str(tmp_path / "terraformrc"), TF_INPUT="0")

    def run(*args, check=True):
        p = subprocess.run([tf, *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=180)
        if check:
            assert p.returncode == 0, f"terraform {' '.join(args)}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        return p

    run("init", "-input=false", f"-plugin-dir={plugins}")
    try:
        run("apply", "-auto-approve", "-var=memory=256", "-var=tier=1")
        assert json.loads(run("output", "-raw", "result").stdout) == {"hello": "terraform"}
        conf = lam.get_function(FunctionName=name)
        assert conf["Configuration"]["MemorySize"] == 256
        assert conf["Configuration"]["Architectures"] == ["arm64"]
        assert conf["Configuration"]["Environment"]["Variables"] == {"STAGE": "terraform"}
        assert conf["Tags"] == {"tier": "1"}
        groups = logs_client.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
        assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(f"/aws/lambda/{name}", 14)]
        # what was applied reads back the same: nothing to change
        assert run("plan", "-detailed-exitcode", "-var=memory=256", "-var=tier=1",
                   check=False).returncode == 0
        run("apply", "-auto-approve", "-var=memory=512", "-var=tier=2")
        conf = lam.get_function(FunctionName=name)
        assert conf["Configuration"]["MemorySize"] == 512 and conf["Tags"] == {"tier": "2"}
        arn = f"arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/{name}"
        assert logs_client.list_tags_for_resource(resourceArn=arn)["tags"] == {"tier": "2"}
        assert run("plan", "-detailed-exitcode", "-var=memory=512", "-var=tier=2",
                   check=False).returncode == 0
    finally:
        run("destroy", "-auto-approve", "-var=memory=512", "-var=tier=2")
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert logs_client.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []
