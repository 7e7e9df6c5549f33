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
with the Lambda permission it needs, served by Host once applied. DynamoDB, SQS and the
second-pass Lambda resources are in test_terraform_{dynamodb,sqs,lambda2}.py (one file each,
so that they run side by side). Skipped with a notice when terraform or the mirror is absent."""
import json

from e2e_helpers import boto_client, unique_name
from terraform_helpers import terraform


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
