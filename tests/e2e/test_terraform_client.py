"""Terraform (hashicorp/aws from the local provider mirror) as a client of haar. First: apply
creates a log group and a function whose code comes from a zip, reads an invocation through
the aws_lambda_invocation data source, an EventBridge schedule rule and a pattern rule with
Lambda targets (constant input, input transformer, retry policy), plans no changes
afterwards, updates in place and destroys — the calls the provider makes (CreateLogGroup,
ListTagsForResource, CreateFunction, GetFunction, ListVersionsByFunction,
GetFunctionCodeSigningConfig, UpdateFunctionConfiguration, TagResource, Invoke, PutRule,
DescribeRule, PutTargets, ListTargetsByRule, RemoveTargets, DeleteRule, DeleteFunction, ...)
all answered by haar.
Second: an HTTP API (apigatewayv2 api, integration, JWT authorizer, routes, $default stage)
with the Lambda permission it needs, served by Host once applied. Third: SQS queues (standard,
FIFO, a redrive policy, a redrive allow policy, a queue policy) and an event source mapping.
Fourth: a layer, a python3.11 function with publish = true and the layer, its live alias,
a function URL on the alias with its public permission, and provisioned concurrency.
Skipped with a notice when terraform or the mirror is absent."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from e2e_helpers import boto_client, make_zip, unique_name


def mirror():
    if not Path("/opt").is_dir():
        return None
    for d in sorted(Path("/opt").iterdir()):
        if (d / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return d
    return None


PROVIDER = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true%s
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
%s
  }
}
"""


def terraform(tmp_path, template, haar, name, services, zip_kind=None):
    """A Terraform working directory holding the provider (pointed at haar for services) and
    template % {endpoint, name} (and fn.zip of zip_kind), initialised from the mirror; returns
    run(*args, check=True). Skips with a notice when terraform or the mirror is absent."""
    tf, plugins = shutil.which("terraform"), mirror()
    if tf is None or plugins is None:
        pytest.skip("terraform or its provider mirror (/opt/*/registry.terraform.io) is absent: "
                    "Terraform-as-a-client check skipped")
    work = tmp_path / "tf"
    work.mkdir()
    endpoints = "\n".join(f'    {s} = "{haar.aws_url}"' for s in services)
    # with STS served, the provider asks haar's GetCallerIdentity for the account id
    skip = "" if "sts" in services else "\n  skip_requesting_account_id  = true"
    (work / "main.tf").write_text(PROVIDER % (skip, endpoints) +
                                  template % {"endpoint": haar.aws_url, "name": name})
    if zip_kind:
        (work / "fn.zip").write_bytes(make_zip(zip_kind))
    (tmp_path / "terraformrc").write_text("")
    env = dict(os.environ, HOME=str(tmp_path), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
               TF_CLI_CONFIG_FILE=str(tmp_path / "terraformrc"), TF_INPUT="0")

    def run(*args, check=True):
        p = subprocess.run([tf, *args], cwd=work, env=env, capture_output=True, text=True,
                           timeout=300)
        if check:
            assert p.returncode == 0, \
                f"terraform {' '.join(args)}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
        return p

    run("init", "-input=false", f"-plugin-dir={plugins}")
    return run


DDB_TF = """
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
    ddb = boto_client("dynamodb", haar.aws_url)
    name = unique_name("tfddb")
    run = terraform(tmp_path, DDB_TF, haar, name, ["dynamodb"])
    first = ["-var=tier=1", "-var=pitr=false", "-var=second_index=false"]
    second = ["-var=tier=2", "-var=pitr=true", "-var=second_index=true"]
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
resource "aws_cloudwatch_event_rule" "every" {
  name                = "%(name)s-every"
  description         = "tier ${var.tier}"
  schedule_expression = var.tier == "1" ? "rate(1 hour)" : "rate(2 hours)"
  tags                = { tier = var.tier }
}
resource "aws_cloudwatch_event_rule" "orders" {
  name          = "%(name)s-orders"
  event_pattern = jsonencode({ source = ["e2e.tf"], "detail-type" = ["Order"] })
  state         = var.tier == "1" ? "ENABLED" : "DISABLED"
}
resource "aws_cloudwatch_event_target" "every" {
  rule      = aws_cloudwatch_event_rule.every.name
  target_id = "fn"
  arn       = aws_lambda_function.fn.arn
  input     = jsonencode({ hello = "schedule", tier = var.tier })
  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
  }
}
resource "aws_cloudwatch_event_target" "orders" {
  rule = aws_cloudwatch_event_rule.orders.name
  arn  = aws_lambda_function.fn.arn
  input_transformer {
    input_paths    = { t = "$.detail-type" }
    input_template = <<-EOT
      {"type": <t>, "tier": "${var.tier}"}
    EOT
  }
}
"""


def test_terraform_applies_plans_updates_and_destroys_against_haar(haar, lam, logs_client, tmp_path):
    name = unique_name("tf")
    run = terraform(tmp_path, MAIN_TF, haar, name, ["lambda", "cloudwatchlogs", "events"],
                    zip_kind="echo")
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
        events = boto_client("events", haar.aws_url)
        rule = events.describe_rule(Name=f"{name}-every")
        assert (rule["ScheduleExpression"], rule["Description"]) == ("rate(1 hour)", "tier 1")
        assert events.list_targets_by_rule(Rule=f"{name}-every")["Targets"] == [{
            "Id": "fn", "Arn": conf["Configuration"]["FunctionArn"],
            "Input": json.dumps({"hello": "schedule", "tier": "1"}, separators=(",", ":")),
            "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}}]
        orders = events.describe_rule(Name=f"{name}-orders")
        assert json.loads(orders["EventPattern"]) == {"source": ["e2e.tf"], "detail-type": ["Order"]}
        [t] = events.list_targets_by_rule(Rule=f"{name}-orders")["Targets"]
        assert t["InputTransformer"]["InputPathsMap"] == {"t": "$.detail-type"}
        # what was applied reads back the same: nothing to change
        assert run("plan", "-detailed-exitcode", "-var=memory=256", "-var=tier=1",
                   check=False).returncode == 0
        run("apply", "-auto-approve", "-var=memory=512", "-var=tier=2")
        conf = lam.get_function(FunctionName=name)
        assert conf["Configuration"]["MemorySize"] == 512 and conf["Tags"] == {"tier": "2"}
        arn = f"arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/{name}"
        assert logs_client.list_tags_for_resource(resourceArn=arn)["tags"] == {"tier": "2"}
        rule = events.describe_rule(Name=f"{name}-every")
        assert (rule["ScheduleExpression"], rule["Description"]) == ("rate(2 hours)", "tier 2")
        assert events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"] == [
            {"Key": "tier", "Value": "2"}]
        assert events.describe_rule(Name=f"{name}-orders")["State"] == "DISABLED"
        [t] = events.list_targets_by_rule(Rule=f"{name}-every")["Targets"]
        assert json.loads(t["Input"]) == {"hello": "schedule", "tier": "2"}
        assert run("plan", "-detailed-exitcode", "-var=memory=512", "-var=tier=2",
                   check=False).returncode == 0
    finally:
        run("destroy", "-auto-approve", "-var=memory=512", "-var=tier=2")
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert logs_client.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"] == []
    events = boto_client("events", haar.aws_url)
    assert events.list_rules(NamePrefix=name)["Rules"] == []


APIGW_TF = """
variable "tier" { type = string }
resource "aws_lambda_function" "fn" {
  function_name    = "%(name)s"
  role             = "arn:aws:iam::000000000000:role/e2e-terraform"
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = "fn.zip"
  source_code_hash = filebase64sha256("fn.zip")
}
resource "aws_apigatewayv2_api" "http" {
  name          = "%(name)s"
  protocol_type = "HTTP"
  description   = "tier ${var.tier}"
  tags          = { tier = var.tier }
  cors_configuration {
    allow_origins = ["http://localhost:3000"]
    allow_methods = ["GET", "POST"]
    max_age       = 300
  }
}
resource "aws_apigatewayv2_integration" "fn" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.fn.invoke_arn
  integration_method     = "POST"
  payload_format_version = "2.0"
  timeout_milliseconds   = 5000
}
resource "aws_apigatewayv2_authorizer" "jwt" {
  api_id           = aws_apigatewayv2_api.http.id
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]
  name             = "jwt-${var.tier}"
  jwt_configuration {
    audience = ["api-client"]
    issuer   = "https://issuer.example"
  }
}
resource "aws_apigatewayv2_route" "hello" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /hello"
  target    = "integrations/${aws_apigatewayv2_integration.fn.id}"
}
resource "aws_apigatewayv2_route" "secure" {
  api_id               = aws_apigatewayv2_api.http.id
  route_key            = "GET /secure"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.jwt.id
  authorization_scopes = ["read"]
  target               = "integrations/${aws_apigatewayv2_integration.fn.id}"
}
resource "aws_apigatewayv2_stage" "default" {
  api_id          = aws_apigatewayv2_api.http.id
  name            = "$default"
  auto_deploy     = true
  tags            = { tier = var.tier }
  stage_variables = { tier = var.tier }
  default_route_settings {
    throttling_rate_limit  = 100
    throttling_burst_limit = 50
  }
}
resource "aws_lambda_permission" "api" {
  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.fn.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}
output "api_id" { value = aws_apigatewayv2_api.http.id }
"""


def test_terraform_http_api_applies_plans_updates_and_destroys_against_haar(haar, lam, tmp_path):
    """aws_apigatewayv2_api (with CORS), _integration, _authorizer (JWT), _route (one with the
    authorizer and scopes), _stage ($default, AutoDeploy, throttling, variables) and
    aws_lambda_permission: apply, serve by Host, plan clean, update in place, destroy."""
    import http.client

    name = unique_name("tfapi")
    run = terraform(tmp_path, APIGW_TF, haar, name, ["lambda", "apigatewayv2", "sts"],
                    zip_kind="echo")

    def get(api_id, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", haar.api_port, timeout=30)
        c.request("GET", path, headers={"Host": f"{api_id}.execute-api.localhost", **(headers or {})})
        r = c.getresponse()
        out = (r.status, r.read())
        c.close()
        return out

    gw = boto_client("apigatewayv2", haar.aws_url)
    try:
        run("apply", "-auto-approve", "-var=tier=1")
        api_id = run("output", "-raw", "api_id").stdout.strip()
        status, body = get(api_id, "/hello")
        assert status == 200, body
        event = json.loads(body)
        assert event["routeKey"] == "GET /hello" and event["stageVariables"] == {"tier": "1"}
        assert get(api_id, "/secure")[0] == 401
        api = gw.get_api(ApiId=api_id)
        assert api["Description"] == "tier 1" and api["Tags"] == {"tier": "1"}
        assert run("plan", "-detailed-exitcode", "-var=tier=1", check=False).returncode == 0
        run("apply", "-auto-approve", "-var=tier=2")
        assert gw.get_api(ApiId=api_id)["Description"] == "tier 2"  # in place: same id
        stage = gw.get_stage(ApiId=api_id, StageName="$default")
        assert stage["StageVariables"] == {"tier": "2"} and stage["Tags"] == {"tier": "2"}
        names = [a["Name"] for a in gw.get_authorizers(ApiId=api_id)["Items"]]
        assert names == ["jwt-2"]
        assert json.loads(get(api_id, "/hello")[1])["stageVariables"] == {"tier": "2"}
        assert run("plan", "-detailed-exitcode", "-var=tier=2", check=False).returncode == 0
    finally:
        run("destroy", "-auto-approve", "-var=tier=2")
    assert name not in [a["Name"] for a in gw.get_apis()["Items"]]
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]


SQS_TF = """
variable "visibility" { type = number }
variable "batch" { type = number }
resource "aws_sqs_queue" "dlq" {
  name                      = "%(name)s-dlq"
  message_retention_seconds = 1209600
}
resource "aws_sqs_queue" "q" {
  name                       = "%(name)s"
  visibility_timeout_seconds = var.visibility
  receive_wait_time_seconds  = 2
  tags                       = { tier = "e2e" }
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 4
  })
}
resource "aws_sqs_queue" "fifo" {
  name                        = "%(name)s.fifo"
  fifo_queue                  = true
  content_based_deduplication = true
  deduplication_scope         = "messageGroup"
  fifo_throughput_limit       = "perMessageGroupId"
}
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.q.arn]
  })
}
resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "self"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::000000000000:root" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.q.arn
    }]
  })
}
resource "aws_lambda_function" "fn" {
  function_name    = "%(name)s"
  role             = "arn:aws:iam::000000000000:role/e2e-terraform"
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  filename         = "fn.zip"
  source_code_hash = filebase64sha256("fn.zip")
  timeout          = 5
}
resource "aws_lambda_event_source_mapping" "m" {
  event_source_arn                   = aws_sqs_queue.q.arn
  function_name                      = aws_lambda_function.fn.arn
  batch_size                         = var.batch
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = 3
  }
}
output "uuid" { value = aws_lambda_event_source_mapping.m.uuid }
"""


def test_terraform_manages_sqs_queues_and_an_event_source_mapping(haar, lam, tmp_path):
    """aws_sqs_queue (standard with a redrive policy, FIFO), aws_sqs_queue_redrive_allow_policy,
    aws_sqs_queue_policy and aws_lambda_event_source_mapping: apply, a clean plan, an update
    in place, destroy."""
    sqs = boto_client("sqs", haar.aws_url)
    name = unique_name("tfq")
    run = terraform(tmp_path, SQS_TF, haar, name, ["lambda", "sqs"], zip_kind="echo")
    try:
        run("apply", "-auto-approve", "-var=visibility=30", "-var=batch=10")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert a["VisibilityTimeout"] == "30" and a["ReceiveMessageWaitTimeSeconds"] == "2"
        assert json.loads(a["RedrivePolicy"])["maxReceiveCount"] == 4
        assert json.loads(a["Policy"])["Statement"][0]["Sid"] == "self"
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"tier": "e2e"}
        dlq = sqs.get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
        allow = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["RedriveAllowPolicy"])
        assert json.loads(allow["Attributes"]["RedriveAllowPolicy"])["redrivePermission"] == "byQueue"
        f = sqs.get_queue_url(QueueName=f"{name}.fifo")["QueueUrl"]
        fa = sqs.get_queue_attributes(QueueUrl=f, AttributeNames=["All"])["Attributes"]
        assert (fa["FifoQueue"], fa["DeduplicationScope"]) == ("true", "messageGroup")
        uuid = run("output", "-raw", "uuid").stdout.strip()
        m = lam.get_event_source_mapping(UUID=uuid)
        assert (m["BatchSize"], m["State"]) == (10, "Enabled")
        # what was applied reads back the same: nothing to change
        plan = run("plan", "-detailed-exitcode", "-var=visibility=30", "-var=batch=10", check=False)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
        run("apply", "-auto-approve", "-var=visibility=60", "-var=batch=20")
        a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
        assert a["VisibilityTimeout"] == "60"
        assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 20  # updated in place
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"] == url
        plan = run("plan", "-detailed-exitcode", "-var=visibility=60", "-var=batch=20", check=False)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    finally:
        run("destroy", "-auto-approve", "-var=visibility=60", "-var=batch=20")
    assert not any(name in u for u in sqs.list_queues(QueueNamePrefix=name).get("QueueUrls", []))
    assert lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"] == []


LAMBDA2_TF = """
variable "memory" { type = number }
variable "provisioned" { type = number }
resource "aws_lambda_layer_version" "lib" {
  layer_name          = "%(name)s-lib"
  filename            = "layer.zip"
  source_code_hash    = filebase64sha256("layer.zip")
  compatible_runtimes = ["python3.11"]
  description         = "the greeting module"
}
resource "aws_lambda_function" "fn" {
  function_name    = "%(name)s"
  role             = "arn:aws:iam::000000000000:role/e2e-terraform"
  runtime          = "python3.11"
  handler          = "app.handler"
  filename         = "fn.zip"
  source_code_hash = filebase64sha256("fn.zip")
  memory_size      = var.memory
  publish          = true
  layers           = [aws_lambda_layer_version.lib.arn]
}
resource "aws_lambda_alias" "live" {
  name             = "live"
  function_name    = aws_lambda_function.fn.function_name
  function_version = aws_lambda_function.fn.version
}
resource "aws_lambda_function_url" "url" {
  function_name      = aws_lambda_function.fn.function_name
  qualifier          = aws_lambda_alias.live.name
  authorization_type = "NONE"
  cors {
    allow_origins = ["https://app.example"]
    allow_methods = ["GET"]
    max_age       = 60
  }
}
resource "aws_lambda_permission" "url" {
  statement_id           = "FunctionURLAllowPublicAccess"
  action                 = "lambda:InvokeFunctionUrl"
  principal              = "*"
  function_name          = aws_lambda_function.fn.function_name
  qualifier              = aws_lambda_alias.live.name
  function_url_auth_type = "NONE"
}
resource "aws_lambda_provisioned_concurrency_config" "pc" {
  function_name                     = aws_lambda_alias.live.function_name
  qualifier                         = aws_lambda_alias.live.name
  provisioned_concurrent_executions = var.provisioned
}
output "url" { value = aws_lambda_function_url.url.function_url }
output "version" { value = aws_lambda_function.fn.version }
"""


def test_terraform_versions_aliases_layers_urls_and_provisioned_concurrency(haar, lam, tmp_path):
    """aws_lambda_layer_version, aws_lambda_function (python3.11, publish = true, layers),
    aws_lambda_alias, aws_lambda_function_url (on the alias, with CORS), aws_lambda_permission
    (its public grant) and aws_lambda_provisioned_concurrency_config: apply, the URL answers
    by Host, plan clean, update (a new version; the alias follows it), plan clean, destroy."""
    import http.client

    from e2e_helpers import zip_files
    name = unique_name("tfl2")
    run = terraform(tmp_path, LAMBDA2_TF, haar, name, ["lambda"])
    work = tmp_path / "tf"
    (work / "layer.zip").write_bytes(zip_files({
        "python/greeting.py": "def hello():\n    return 'hello from the layer'\n"}))
    (work / "fn.zip").write_bytes(zip_files({
        "app.py": "import greeting, os\n"
                  "def handler(event, context):\n"
                  "    return {'greeting': greeting.hello(), 'version': context.function_version,\n"
                  "            'memory': context.memory_limit_in_mb}\n"}))

    def get(url):
        host = url.split("//", 1)[1].split(":", 1)[0]
        c = http.client.HTTPConnection("127.0.0.1", haar.api_port, timeout=30)
        c.request("GET", "/", headers={"Host": host, "Origin": "https://app.example"})
        r = c.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        c.close()
        return out

    try:
        run("apply", "-auto-approve", "-var=memory=128", "-var=provisioned=1")
        assert run("output", "-raw", "version").stdout.strip() == "1"
        url = run("output", "-raw", "url").stdout.strip()
        status, headers, body = get(url)
        assert status == 200, body
        assert json.loads(body) == {"greeting": "hello from the layer", "version": "1",
                                    "memory": "128"}
        assert headers["access-control-allow-origin"] == "https://app.example"
        pc = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
        assert pc["Status"] == "READY" and pc["RequestedProvisionedConcurrentExecutions"] == 1
        assert run("plan", "-detailed-exitcode", "-var=memory=128", "-var=provisioned=1",
                   check=False).returncode == 0
        run("apply", "-auto-approve", "-var=memory=256", "-var=provisioned=2")
        assert run("output", "-raw", "version").stdout.strip() == "2"
        assert lam.get_alias(FunctionName=name, Name="live")["FunctionVersion"] == "2"
        status, _, body = get(url)  # the same URL, now the new version
        assert status == 200 and json.loads(body)["version"] == "2", body
        assert json.loads(body)["memory"] == "256"
        assert run("plan", "-detailed-exitcode", "-var=memory=256", "-var=provisioned=2",
                   check=False).returncode == 0
    finally:
        run("destroy", "-auto-approve", "-var=memory=256", "-var=provisioned=2")
    assert name not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert not [l for l in lam.list_layers()["Layers"] if l["LayerName"] == f"{name}-lib"]
