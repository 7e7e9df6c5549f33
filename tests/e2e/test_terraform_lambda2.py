"""Terraform as a client of haar: a layer, a python3.11 function with publish = true and the
layer, its live alias, a function URL on the alias with its public permission, and
provisioned concurrency. Skipped with a notice when terraform or its mirror is absent."""
import json

from e2e_helpers import unique_name
from terraform_helpers import terraform


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
