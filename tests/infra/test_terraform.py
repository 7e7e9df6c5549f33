"""Infra checks that need terraform and the provider mirror (skipped, with the reason,
when either is absent): fmt, init + validate of bootstrap and every environment, and an
offline plan of each environment (a temp copy with a test-only override: local backend,
fake credentials, no AWS calls) whose resources are counted and inspected. Bad settings
must fail the plan with the validation's message."""

import concurrent.futures
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ENVS, INFRA, haar_describe, load_tfvars, terraform_tools

TOOLS = terraform_tools()
pytestmark = pytest.mark.skipif(
    TOOLS is None,
    reason="terraform or the provider mirror (/opt/*/registry.terraform.io) is absent: "
           "terraform fmt/validate/plan checks not run")

ACCOUNT = "123456789012"
STEP_TIMEOUT = 240

# Planned resources (managed, not data sources) per environment, from its tfvars.
# dev/stage: 48 = 10_core 9 (artifacts bucket + 6 bucket settings, deploy role + policy)
#               + 20_infra 12 (api, stage, access log group, 2 queues, redrive-allow,
#                 rule, ECR repo + lifecycle + policy, table)
#               + 30_app 27 (3 log groups, 3 roles, 3 role policies, 3 functions,
#                 3 zip objects, layer object + version, mapping, integration, 6 routes,
#                 2 permissions, rule target)
# prod: + KMS key and alias = 50.
EXPECTED_COUNTS = {"dev": 48, "stage": 48, "prod": 50}
# The options variant: dev with VPC placement, a custom domain and the Image package:
# 48 - 4 zip/layer objects - 1 layer version + certificate, 1 validation record, validation,
# domain name, mapping, A + AAAA records = 50.
EXPECTED_OPTIONS = 50
EXPECTED_BOOTSTRAP = 9

OVERRIDE = """
terraform {
  backend "local" {}
}

provider "aws" {
  region                      = var.aws_region
  access_key                  = "AKIAHAARTESTONLY0000"
  secret_key                  = "haar-test-only"
  allowed_account_ids         = null
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

variable "aws_account_id" {
  default = "%s"
}
""" % ACCOUNT


class Workspace:
    """A temp copy of infra/ with its own HOME and TF_DATA_DIR per root module."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="haar-infra-"))
        shutil.copytree(INFRA, self.tmp / "infra",
                        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl",
                                                      "*.tfstate*", "backend*.hcl"))
        self.dist = self.tmp / "dist"
        self.dist.mkdir()
        for name in ("api", "worker", "producer", "layer"):
            (self.dist / f"{name}.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # empty zip
        (self.tmp / "home").mkdir()

    def add_root(self, name, source):
        dest = self.tmp / "infra" / "envs" / name
        if source != name:
            shutil.copytree(self.tmp / "infra" / "envs" / source, dest)
        return dest

    def run(self, cwd, *args, check=True):
        env = dict(os.environ, HOME=str(self.tmp / "home"), CHECKPOINT_DISABLE="1",
                   TF_IN_AUTOMATION="1", TF_INPUT="0",
                   TF_DATA_DIR=str(self.tmp / "data" / Path(cwd).name))
        for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR"):
            env.pop(k, None)
        proc = subprocess.run([TOOLS[0], *args, "-no-color"], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=STEP_TIMEOUT)
        if check and proc.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} in {cwd} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def init(self, cwd, backend=False):
        args = ["init", "-input=false", f"-plugin-dir={TOOLS[1]}"]
        if not backend:
            args.append("-backend=false")
        return self.run(cwd, *args)

    def plan(self, cwd, extra=(), check=True):
        (Path(cwd) / "zz_test_override.tf").write_text(OVERRIDE)
        self.init(cwd, backend=True)
        out = self.tmp / f"{Path(cwd).name}.plan"
        proc = self.run(cwd, "plan", "-input=false", "-lock=false", "-refresh=false",
                        f"-var=artifacts_dir={self.dist}", f"-out={out}", *extra, check=check)
        if proc.returncode != 0:
            return proc, None
        shown = self.run(cwd, "show", "-json", str(out))
        return proc, json.loads(shown.stdout)


def _managed(plan):
    return [rc for rc in plan["resource_changes"] if rc["mode"] == "managed"]


def _values(plan, address_prefix):
    return {rc["address"]: rc["change"]["after"] for rc in _managed(plan)
            if rc["address"].startswith(address_prefix)}


@pytest.fixture(scope="module")
def results():
    """Runs every terraform job once, two at a time (2 cores): validate of bootstrap and
    each env, the plans, and the plans that must fail."""
    before = sorted(str(p) for p in INFRA.rglob("*"))
    ws = Workspace()
    jobs = {}

    def validate(name, path):
        ws.init(path)
        return ws.run(path, "validate")

    def plan(name, path, extra=(), check=True):
        return ws.plan(path, extra, check)

    def variant(name, mutate, check=True, extra=()):
        path = ws.add_root(name, "dev")
        cfg = load_tfvars("dev")
        mutate(cfg)
        (path / "terraform.tfvars.json").write_text(json.dumps(cfg))
        return ws.plan(path, extra, check)

    def options(cfg):
        cfg["network"] = {"vpc_enabled": True, "subnet_ids": ["subnet-0a1b2c"],
                          "security_group_ids": ["sg-0d1e2f"]}
        cfg["domain"] = {"enabled": True, "name": "api.haar.example.com", "zone_id": "Z0123456789ABC"}
        cfg["deploy"]["package_type"] = "Image"

    def bad(cfg):
        # Several bad settings at once: terraform reports every failed validation (but
        # skips a rule that reads a variable which failed its own: hence bad_batching).
        cfg["queue"]["visibility_timeout_seconds"] = 60
        cfg["schedule"]["expression"] = "cron(0 * * * * *)"
        cfg["network"] = {"vpc_enabled": True}
        cfg["deploy"]["package_type"] = "Image"
        cfg["domain"] = {"enabled": True, "name": "api.example.com"}

    def bad_batching(cfg):
        cfg["functions"]["worker"]["batch_size"] = 100
        cfg["functions"]["api"]["timeout_seconds"] = 31  # a rule of the same variable

    boot = ws.tmp / "infra" / "bootstrap"
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs["validate:bootstrap"] = pool.submit(validate, "bootstrap", boot)
        for env in ENVS:
            jobs[f"validate:{env}"] = pool.submit(validate, env, ws.tmp / "infra" / "envs" / env)
        for env in ENVS:
            jobs[f"plan:{env}"] = pool.submit(plan, env, ws.tmp / "infra" / "envs" / env)
        jobs["plan:options"] = pool.submit(variant, "options", options,
                                           extra=("-var=image_tag=0123456789abcdef0123456789abcdef01234567",))
        jobs["plan:bad"] = pool.submit(variant, "bad", bad, False)
        jobs["plan:bad-batching"] = pool.submit(variant, "badbatch", bad_batching, False)
        jobs["plan:bootstrap"] = pool.submit(
            lambda: (boot.joinpath("zz_test_override.tf").write_text(
                OVERRIDE.replace('backend "local" {}', "")), ws.run(boot, "plan", "-input=false",
                "-lock=false", "-refresh=false", f"-out={ws.tmp}/boot.plan"),
                json.loads(ws.run(boot, "show", "-json", f"{ws.tmp}/boot.plan").stdout))[2])
        done = {}
        for key, fut in jobs.items():
            try:
                done[key] = fut.result()
            except Exception as e:  # reported by the test that needs it
                done[key] = e
    done["tree-before"] = before
    yield done
    shutil.rmtree(ws.tmp, ignore_errors=True)


def _get(results, key):
    value = results[key]
    if isinstance(value, Exception):
        raise value
    return value


def test_fmt_check():
    env = dict(os.environ, CHECKPOINT_DISABLE="1")
    proc = subprocess.run([TOOLS[0], "fmt", "-check", "-recursive", "-no-color", str(INFRA)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 0, f"terraform fmt -check -recursive: unformatted files:\n{proc.stdout}"


@pytest.mark.parametrize("root", ["bootstrap", *ENVS])
def test_init_and_validate(results, root):
    proc = _get(results, f"validate:{root}")
    assert "Success! The configuration is valid." in proc.stdout


def test_no_files_written_into_the_tree(results):
    after = sorted(str(p) for p in INFRA.rglob("*"))
    assert after == results["tree-before"], "terraform runs must stay in their temp copy"
    assert not list(INFRA.rglob("zz_test_override.tf"))


@pytest.mark.parametrize("env", ENVS)
def test_plan_counts(results, env):
    _, plan = _get(results, f"plan:{env}")
    managed = _managed(plan)
    assert all(rc["change"]["actions"] == ["create"] for rc in managed)
    assert len(managed) == EXPECTED_COUNTS[env], sorted(rc["address"] for rc in managed)


@pytest.mark.parametrize("env", ENVS)
def test_plan_matches_the_environment_config(results, env):
    _, plan = _get(results, f"plan:{env}")
    cfg = load_tfvars(env)
    p = f"{cfg['project']}-{env}"
    fns = _values(plan, "module.app.aws_lambda_function.fn")
    assert {v["function_name"] for v in fns.values()} == {f"{p}-api", f"{p}-worker", f"{p}-producer"}
    for short in ("api", "worker", "producer"):
        v = fns[f'module.app.aws_lambda_function.fn["{short}"]']
        want = cfg["functions"][short]
        assert v["runtime"] == "provided.al2023" and v["handler"] == "bootstrap"
        assert v["architectures"] == [cfg["deploy"]["architecture"]]
        assert v["memory_size"] == want["memory_mb"] and v["timeout"] == want["timeout_seconds"]
        assert v["reserved_concurrent_executions"] == want.get("reserved_concurrency", -1)
        assert v["package_type"] == "Zip"
        assert v["logging_config"][0]["log_group"] == f"/aws/lambda/{p}-{short}"
    groups = _values(plan, "module.app.aws_cloudwatch_log_group")
    groups.update(_values(plan, "module.infra.aws_cloudwatch_log_group"))
    assert groups and all(g["retention_in_days"] == cfg["log_retention_days"] for g in groups.values())
    q = _values(plan, "module.infra.aws_sqs_queue.tasks")["module.infra.aws_sqs_queue.tasks"]
    assert q["name"] == f"{p}-tasks"
    assert q["visibility_timeout_seconds"] == cfg["queue"]["visibility_timeout_seconds"]
    assert q["receive_wait_time_seconds"] == cfg["queue"]["receive_wait_time_seconds"]
    esm = _values(plan, "module.app.aws_lambda_event_source_mapping")["module.app.aws_lambda_event_source_mapping.worker"]
    assert esm["function_response_types"] == ["ReportBatchItemFailures"]
    assert esm["scaling_config"] == [{"maximum_concurrency": cfg["functions"]["worker"]["max_concurrency"]}]
    t = _values(plan, "module.infra.aws_dynamodb_table")["module.infra.aws_dynamodb_table.tasks"]
    assert t["point_in_time_recovery"][0]["enabled"] == cfg["table"]["point_in_time_recovery"]
    assert t["ttl"][0]["attribute_name"] == cfg["table"]["ttl_attribute"]
    assert [g["name"] for g in t["global_secondary_index"]] == ["by-status"]
    stage = _values(plan, "module.infra.aws_apigatewayv2_stage")["module.infra.aws_apigatewayv2_stage.default"]
    assert stage["name"] == "$default" and stage["auto_deploy"] is True
    rs = stage["default_route_settings"][0]
    assert rs["throttling_rate_limit"] == cfg["api"]["throttling_rate_limit"]
    assert rs["throttling_burst_limit"] == cfg["api"]["throttling_burst_limit"]
    rule = _values(plan, "module.infra.aws_cloudwatch_event_rule")["module.infra.aws_cloudwatch_event_rule.schedule"]
    assert rule["schedule_expression"] == cfg["schedule"]["expression"]
    role = _values(plan, "module.core.aws_iam_role.deploy")["module.core.aws_iam_role.deploy"]
    trust = json.loads(role["assume_role_policy"])
    subs = trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    subs = [subs] if isinstance(subs, str) else subs
    repo = cfg["deploy"]["github_repository"]
    assert f"repo:{repo}:environment:{env}" in subs
    assert (f"repo:{repo}:ref:refs/heads/{cfg['deploy'].get('github_branch', 'main')}" in subs) == (env != "prod")
    kms = _values(plan, "module.core.aws_kms_key")
    assert bool(kms) == cfg["kms_enabled"]


def test_plan_with_options(results):
    _, plan = _get(results, "plan:options")
    managed = _managed(plan)
    assert len(managed) == EXPECTED_OPTIONS, sorted(rc["address"] for rc in managed)
    fns = _values(plan, "module.app.aws_lambda_function.fn")
    for short in ("api", "worker", "producer"):
        v = fns[f'module.app.aws_lambda_function.fn["{short}"]']
        assert v["package_type"] == "Image" and v["runtime"] in (None, "")
        assert v["image_config"] == [{"command": [short], "entry_point": None, "working_directory": None}]
        assert v["vpc_config"][0]["subnet_ids"] == ["subnet-0a1b2c"]
    addresses = {rc["address"] for rc in managed}
    assert "module.infra.aws_apigatewayv2_domain_name.api[0]" in addresses
    assert 'module.infra.aws_route53_record.api["AAAA"]' in addresses
    assert not any("aws_lambda_layer_version" in a or "aws_s3_object" in a for a in addresses)


@pytest.mark.parametrize("key,message", [
    ("plan:bad", "at least 6 x functions.worker.timeout_seconds"),
    ("plan:bad-batching", "at least 1 when functions.worker.batch_size is more than 10"),
    ("plan:bad", "exactly one of day-of-month and day-of-week"),
    ("plan:bad", "must not be empty when network.vpc_enabled is true"),
    ("plan:bad", "image_tag must be the commit SHA"),
    ("plan:bad", "domain.name and domain.zone_id must not be empty when domain.enabled is true"),
    ("plan:bad-batching", "functions.api.timeout_seconds must be at most 30"),
])
def test_bad_settings_fail_the_plan(results, key, message):
    proc, plan = _get(results, key)
    assert plan is None and proc.returncode != 0
    text = " ".join((proc.stdout + proc.stderr).split())
    assert message in text, text[-2000:]


def test_bootstrap_plan(results):
    plan = _get(results, "plan:bootstrap")
    managed = _managed(plan)
    assert len(managed) == EXPECTED_BOOTSTRAP, sorted(rc["address"] for rc in managed)
    values = {rc["address"]: rc["change"]["after"] for rc in managed}
    assert values["aws_s3_bucket.state"]["bucket"] == f"haar-tfstate-{ACCOUNT}"
    assert values["aws_dynamodb_table.lock"]["hash_key"] == "LockID"
    assert values["aws_s3_bucket_versioning.state"]["versioning_configuration"][0]["status"] == "Enabled"
    pab = values["aws_s3_bucket_public_access_block.state"]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy",
                                         "ignore_public_acls", "restrict_public_buckets"))
    assert values["aws_iam_openid_connect_provider.github[0]"]["url"] == \
        "https://token.actions.githubusercontent.com"
    backend = plan["planned_values"]["outputs"]["backend_hcl"]["value"] \
        if "value" in plan["planned_values"]["outputs"].get("backend_hcl", {}) else None
    if backend is not None:
        assert "use_lockfile = true" in backend


@pytest.mark.parametrize("env", ENVS)
def test_plan_agrees_with_what_haar_provisions(results, env):
    """Settings, not only names: what Terraform would create equals what `haar up` runs."""
    described = haar_describe(env)
    _, plan = _get(results, f"plan:{env}")
    after = {rc["address"]: rc["change"]["after"] for rc in _managed(plan)}
    checked = 0
    for res in described["resources"]:
        kind = res["kind"]
        if kind == "function":
            v = after[f'module.app.aws_lambda_function.fn["{res["role"]}"]']
            assert v["function_name"] == res["name"]
            assert (v["memory_size"], v["timeout"], v["reserved_concurrent_executions"]) == \
                (res["memory_mb"], res["timeout_seconds"], res["reserved_concurrency"])
            assert v["architectures"] == [res["architecture"]] and v["package_type"] == res["package_type"]
        elif kind == "log_group":
            short = res["function"].rsplit("-", 1)[1]
            v = after[f'module.app.aws_cloudwatch_log_group.fn["{short}"]']
            assert (v["name"], v["retention_in_days"]) == (res["name"], res["retention_days"])
        elif kind == "queue":
            v = after["module.infra.aws_sqs_queue.tasks" if res["role"] == "queue" else "module.infra.aws_sqs_queue.dlq"]
            assert v["name"] == res["name"]
            for key in ("visibility_timeout_seconds", "message_retention_seconds", "receive_wait_time_seconds"):
                if key in res:
                    assert v[key] == res[key], key
        elif kind == "table":
            v = after["module.infra.aws_dynamodb_table.tasks"]
            assert (v["name"], v["hash_key"], v["billing_mode"]) == (res["name"], res["hash_key"], res["billing_mode"])
            gsis = [{k: g[k] for k in ("name", "hash_key", "range_key", "projection_type")}
                    for g in v["global_secondary_index"]]
            assert gsis == res["global_secondary_indexes"]
            assert v["ttl"][0]["attribute_name"] == res["ttl_attribute"]
            assert v["point_in_time_recovery"][0]["enabled"] == res["point_in_time_recovery"]
        elif kind == "rule":
            v = after["module.infra.aws_cloudwatch_event_rule.schedule"]
            assert (v["name"], v["schedule_expression"]) == (res["name"], res["schedule_expression"])
            assert v["state"] == ("ENABLED" if res["enabled"] else "DISABLED")
        elif kind == "event_source_mapping":
            v = after["module.app.aws_lambda_event_source_mapping.worker"]
            assert v["batch_size"] == res["batch_size"]
            assert v["maximum_batching_window_in_seconds"] == res["maximum_batching_window_seconds"]
            assert v["scaling_config"] == [{"maximum_concurrency": res["maximum_concurrency"]}]
            assert v["function_response_types"] == res["function_response_types"]
        elif kind == "http_api":
            v = after["module.infra.aws_apigatewayv2_api.http"]
            assert (v["name"], v["protocol_type"]) == (res["name"], res["protocol_type"])
            origins = (v.get("cors_configuration") or [{}])[0].get("allow_origins") or []
            assert sorted(origins) == sorted(res["cors_allow_origins"])
            rs = after["module.infra.aws_apigatewayv2_stage.default"]["default_route_settings"][0]
            assert (rs["throttling_rate_limit"], rs["throttling_burst_limit"]) == \
                (res["throttling_rate_limit"], res["throttling_burst_limit"])
        elif kind == "iam_role":
            short = res["function"].rsplit("-", 1)[1]
            assert after[f'module.app.aws_iam_role.fn["{short}"]']["name"] == res["name"]
        else:
            continue
        checked += 1
    assert checked == len(described["resources"]), "a resource kind haar provisions is not compared"


@pytest.mark.parametrize("env", ENVS)
def test_deploy_policy_fits_iam_limits(results, env):
    """The deploy role's policy is known at plan time; IAM allows 10,240 characters of
    inline policy per role (whitespace not counted)."""
    _, plan = _get(results, f"plan:{env}")
    after = {rc["address"]: rc["change"]["after"] for rc in _managed(plan)}
    policy = after["module.core.aws_iam_role_policy.deploy"]["policy"]
    assert policy, "deploy policy unknown at plan time"
    doc = json.loads(policy)
    size = len(json.dumps(doc, separators=(",", ":")))
    assert size < 10240, f"deploy policy is {size} characters"
    sids = {st["Sid"] for st in doc["Statement"]}
    assert {"StateObjects", "EnvironmentFunctionsAndLayer", "PassFunctionRoles"} <= sids
    state = next(st for st in doc["Statement"] if st["Sid"] == "StateObjects")
    cfg = load_tfvars(env)
    key = f"{cfg['project']}/{env}/terraform.tfstate"
    assert sorted(state["Resource"]) == sorted(
        [f"arn:aws:s3:::haar-tfstate-{ACCOUNT}/{key}", f"arn:aws:s3:::haar-tfstate-{ACCOUNT}/{key}.tflock"])
