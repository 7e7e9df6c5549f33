"""Infra checks that need terraform and the provider mirror (skipped, with the reason,
when either is absent): fmt, init + validate of bootstrap and every environment (with the
committed lock files, so their hashes are checked against the mirror), and offline plans
(a temp copy with a test-only override: local backend, fake credentials, no AWS calls)
whose resources are counted and inspected: what the bootstrap gives each environment's
deploy and plan roles, what each environment creates, the options variants, and the
deploy-time inputs that must fail the plan. The tfvars rules both readers share are in
test_readers.py.

With HAAR_PLAN_JSON_DIR set, every successful plan is also written there as JSON
(`terraform show -json`), for the static analysis job in .github/workflows/ci.yml."""

import concurrent.futures
import json
import os
import re
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
DIGEST = "sha256:" + "ab" * 32
FUNCTIONS = ("api", "worker", "producer")

# Planned resources (managed, not data sources) per environment, from its tfvars.
# dev/stage: 68 = 10_core 9 (artifacts bucket + 6 bucket settings, alarm topic + policy)
#               + 20_infra 14 (api, stage, access log group, 3 queues, schedule-DLQ policy,
#                 redrive-allow, rule, ECR repo + lifecycle + policy, table)
#               + 30_app 45 (3 log groups, 3 roles, 3 role policies, 3 functions, 3 zip
#                 objects, layer object + version, 3 live aliases, mapping, integration,
#                 6 routes, 2 permissions, rule target, producer invoke config, 12 alarms,
#                 dashboard)
# prod: + KMS key and alias, 1 e-mail subscription, JWT authorizer, CodeDeploy (role, role
#       policy, application, deployment group) = 76.
EXPECTED_COUNTS = {"dev": 68, "stage": 68, "prod": 76}
# The options variant: dev with VPC placement, a custom domain and the Image package:
# 68 - 4 zip/layer objects - 1 layer version + 1 image push + certificate, validation
# record, validation, domain name, mapping, A + AAAA records = 71.
EXPECTED_OPTIONS = 71
# Bootstrap: state key + alias, state bucket + 6 settings + logging, log bucket + 6
# settings, lock table, account public access block, OIDC provider, log resource policy
# (21); per environment 16: deploy and plan roles, boundary, 4 deploy policies and their
# attachments, 2 plan policies and their attachments, the guardrails on the plan role.
EXPECTED_BOOTSTRAP = 21 + 16 * 3

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
    """A temp copy of infra/ (with the committed lock files) with its own HOME and
    TF_DATA_DIR per root module."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="haar-infra-"))
        shutil.copytree(INFRA, self.tmp / "infra",
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "backend*.hcl",
                                                      "backend.tf"))
        self.dist = self.tmp / "dist"
        self.dist.mkdir()
        for name in FUNCTIONS + ("layer",):
            (self.dist / f"{name}.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # empty zip
        (self.tmp / "image.oci.tar").write_bytes(b"")
        (self.tmp / "home").mkdir()

    def add_root(self, name, source):
        dest = self.tmp / "infra" / "envs" / name
        if source != name:
            shutil.copytree(self.tmp / "infra" / "envs" / source, dest, symlinks=True)
        return dest

    def env(self, cwd):
        env = dict(os.environ, HOME=str(self.tmp / "home"), CHECKPOINT_DISABLE="1",
                   TF_IN_AUTOMATION="1", TF_INPUT="0",
                   TF_DATA_DIR=str(self.tmp / "data" / Path(cwd).name))
        for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "TF_CLI_CONFIG_FILE", "TF_PLUGIN_CACHE_DIR"):
            env.pop(k, None)
        return env

    def run(self, cwd, *args, check=True):
        proc = subprocess.run([TOOLS[0], *args, "-no-color"], cwd=cwd, env=self.env(cwd),
                              capture_output=True, text=True, timeout=STEP_TIMEOUT)
        if check and proc.returncode != 0:
            raise AssertionError(f"terraform {' '.join(args)} in {cwd} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def init(self, cwd, backend=False):
        args = ["init", "-input=false", "-lockfile=readonly", f"-plugin-dir={TOOLS[1]}"]
        if not backend:
            args.append("-backend=false")
        return self.run(cwd, *args)

    def plan(self, cwd, extra=(), check=True, backend=True):
        override = OVERRIDE if backend else OVERRIDE.replace('backend "local" {}', "")
        (Path(cwd) / "zz_test_override.tf").write_text(override)
        self.init(cwd, backend=backend)
        out = self.tmp / f"{Path(cwd).name}.plan"
        args = ["plan", "-input=false", "-lock=false", "-refresh=false", f"-out={out}", *extra]
        if backend:
            args.append(f"-var=artifacts_dir={self.dist}")
        proc = self.run(cwd, *args, check=check)
        if proc.returncode != 0:
            return proc, None
        shown = self.run(cwd, "show", "-json", str(out))
        save = os.environ.get("HAAR_PLAN_JSON_DIR")
        if save:
            Path(save).mkdir(parents=True, exist_ok=True)
            (Path(save) / f"{Path(cwd).name}.json").write_text(shown.stdout)
        return proc, json.loads(shown.stdout)


def _managed(plan):
    return [rc for rc in plan["resource_changes"] if rc["mode"] == "managed"]


def _after(plan):
    return {rc["address"]: rc["change"]["after"] for rc in _managed(plan)}


def _unknown(plan):
    """{address: after_unknown}: attributes known only after apply (true where unknown)."""
    return {rc["address"]: rc["change"]["after_unknown"] for rc in _managed(plan)}


def _values(plan, address_prefix):
    return {a: v for a, v in _after(plan).items() if a.startswith(address_prefix)}


def _config(plan, module, address):
    """The configuration of a resource in a child module of the root (expressions and
    their references, as `terraform show -json` writes them)."""
    mod = plan["configuration"]["root_module"]
    for name in module.split("."):
        mod = mod["module_calls"][name]["module"]
    return next(r for r in mod["resources"] if r["address"] == address)


def _refs(cfg, attr):
    return cfg["expressions"].get(attr, {}).get("references", [])


@pytest.fixture(scope="module")
def results():
    """Runs every terraform job once, two at a time (2 cores): validate of bootstrap and
    each env, the plans, and the plans that must fail."""
    before = sorted(str(p) for p in INFRA.rglob("*"))
    ws = Workspace()
    jobs = {}

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

    def image_without_digest(cfg):
        cfg["deploy"]["package_type"] = "Image"

    def bootstrap(name, mutate_dev=None):
        # The bootstrap reads infra/envs/<env>/terraform.tfvars.json: a variant gets its
        # own copy of infra/ so that it can change dev's file.
        root = ws.tmp / name
        if mutate_dev:
            shutil.copytree(ws.tmp / "infra", root / "infra", symlinks=True,
                            ignore=shutil.ignore_patterns("zz_test_override.tf"))
            cfg = load_tfvars("dev")
            mutate_dev(cfg)
            (root / "infra" / "envs" / "dev" / "terraform.tfvars.json").write_text(json.dumps(cfg))
            boot = root / "infra" / "bootstrap"
        else:
            boot = ws.tmp / "infra" / "bootstrap"
        return ws.plan(boot, backend=False)[1]

    def domain_and_vpc(cfg):
        cfg["domain"] = {"enabled": True, "name": "api.haar.example.com", "zone_id": "Z0123456789ABC"}
        cfg["network"] = {"vpc_enabled": True, "subnet_ids": ["subnet-0a1b2c"],
                          "security_group_ids": ["sg-0d1e2f"]}

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for env in ENVS:
            jobs[f"plan:{env}"] = pool.submit(ws.plan, ws.tmp / "infra" / "envs" / env)
        jobs["plan:options"] = pool.submit(
            variant, "options", options,
            extra=(f"-var=image_digest={DIGEST}", f"-var=image_archive={ws.tmp / 'image.oci.tar'}",
                   "-var=image_tag=0123456789abcdef0123456789abcdef01234567"))
        jobs["plan:image-without-digest"] = pool.submit(variant, "nodigest", image_without_digest, False)
        jobs["plan:bootstrap"] = pool.submit(bootstrap, "bootstrap")
        jobs["plan:bootstrap-domain"] = pool.submit(bootstrap, "bootstrap-domain", domain_and_vpc)
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
def test_init_with_the_committed_lock_file_and_plan(results, root):
    """init -lockfile=readonly checks the committed .terraform.lock.hcl against the
    provider mirror; a plan validates the configuration as `terraform validate` would."""
    plan = _get(results, f"plan:{root}")
    plan = plan[1] if isinstance(plan, tuple) else plan
    assert plan["format_version"] and plan["terraform_version"].startswith("1.")
    lock = (INFRA / ("bootstrap" if root == "bootstrap" else f"envs/{root}") / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock and '"h1:' in lock


def test_no_files_written_into_the_tree(results):
    after = sorted(str(p) for p in INFRA.rglob("*"))
    assert after == results["tree-before"], "terraform runs must stay in their temp copy"
    assert not list(INFRA.rglob("zz_test_override.tf"))


# --- the environments ----------------------------------------------------------------

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
    for short in FUNCTIONS:
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
    kms = _values(plan, "module.core.aws_kms_key")
    assert bool(kms) == cfg["kms_enabled"]


@pytest.mark.parametrize("env", ENVS)
def test_no_deploy_role_in_an_environment_and_every_role_bounded(results, env):
    """Item 1: the environment's state holds no role that can deploy it, and every role it
    creates carries the bootstrap's permissions boundary."""
    _, plan = _get(results, f"plan:{env}")
    p = f"{load_tfvars(env)['project']}-{env}"
    roles = _values(plan, "module.")
    roles = {a: v for a, v in roles.items() if ".aws_iam_role." in a}
    assert roles and not any(v["name"].endswith(("-deploy", "-plan")) for v in roles.values())
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/{p}-boundary"
    for address, v in roles.items():
        assert v["permissions_boundary"] == boundary, address
        assert v["name"].startswith(f"{p}-") and v["name"].endswith("-role"), v["name"]
    assert not any(".aws_iam_role_policy_attachment." in a or ".aws_iam_policy." in a
                   for a in _after(plan)), "no managed policies: a role's rights are its own document"


@pytest.mark.parametrize("env", ENVS)
def test_function_roles_use_the_key_only_through_services(results, env):
    _, plan = _get(results, f"plan:{env}")
    cfg = load_tfvars(env)
    for short in FUNCTIONS:
        doc = json.loads(_after(plan)[f'module.app.aws_iam_role_policy.fn["{short}"]']["policy"] or "{}") \
            if _after(plan)[f'module.app.aws_iam_role_policy.fn["{short}"]'].get("policy") else None
        if doc is None:  # unknown until apply (ARNs of resources created together)
            continue
        for st in doc["Statement"]:
            if any(a.startswith("kms:") for a in st["Action"]):
                assert "kms:ViaService" in st["Condition"]["StringEquals"], st
    if cfg["kms_enabled"]:
        key = _after(plan)["module.core.aws_kms_key.main[0]"]
        statements = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}
        root = statements["AccountAdministersKey"]
        assert "kms:*" not in root["Action"]
        assert not any(a.startswith(("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt"))
                       for a in root["Action"]), "the root may administer the key, use it only via services"
        via = statements["AccountPrincipalsUseKeyThroughSqsDynamoDBAndLambda"]
        assert "kms:ViaService" in via["Condition"]["StringEquals"]
        # the key is created by the same apply: its ARN is known only then
        for short in FUNCTIONS:
            assert _unknown(plan)[f'module.app.aws_lambda_function.fn["{short}"]']["kms_key_arn"] is True, \
                "environment variables under the customer key"
        assert _unknown(plan)["module.core.aws_sns_topic.alarms[0]"]["kms_master_key_id"] is True
    else:
        for short in FUNCTIONS:
            assert not _after(plan)[f'module.app.aws_lambda_function.fn["{short}"]'].get("kms_key_arn")


@pytest.mark.parametrize("env", ENVS)
def test_fixed_tags_win_and_objects_stay_within_s3s_limit(results, env):
    _, plan = _get(results, f"plan:{env}")
    cfg = load_tfvars(env)
    fixed = {"Project": cfg["project"], "Environment": env, "ManagedBy": "terraform"}
    provider = plan["configuration"]["provider_config"]["aws"]["expressions"]["default_tags"][0]["tags"]
    assert sorted(provider["references"]) == sorted({"var.project", "var.environment"}), provider
    for address, v in _after(plan).items():
        if v and "tags" in v and v["tags"]:
            assert {k: v["tags"][k] for k in fixed} == fixed, address
    for address, v in _values(plan, "module.app.aws_s3_object").items():
        assert not v.get("tags"), f"{address}: S3 objects take only the 3 default tags (S3 allows 10)"


@pytest.mark.parametrize("env", ENVS)
def test_nothing_is_dropped_silently(results, env):
    """Item 8: DLQs, the producer's invoke config, deletion protection, tracing, the
    access log fields."""
    _, plan = _get(results, f"plan:{env}")
    cfg = load_tfvars(env)
    p = f"{cfg['project']}-{env}"
    after = _after(plan)
    assert after["module.infra.aws_sqs_queue.schedule_dlq"]["name"] == f"{p}-schedule-dlq"
    invoke = after["module.app.aws_lambda_function_event_invoke_config.producer"]
    assert invoke["qualifier"] == "live"
    assert invoke["maximum_retry_attempts"] == cfg["functions"]["producer"]["max_retry_attempts"]
    assert invoke["maximum_event_age_in_seconds"] == cfg["functions"]["producer"]["max_event_age_seconds"]
    dest = _config(plan, "app", "aws_lambda_function_event_invoke_config.producer")
    on_failure = dest["expressions"]["destination_config"][0]["on_failure"][0]["destination"]["references"]
    assert "var.schedule_dlq_arn" in on_failure
    target = _config(plan, "app", "aws_cloudwatch_event_target.producer")
    assert "var.schedule_dlq_arn" in target["expressions"]["dead_letter_config"][0]["arn"]["references"]
    assert after["module.app.aws_cloudwatch_event_target.producer"]["retry_policy"][0]["maximum_retry_attempts"] == 2
    table = after["module.infra.aws_dynamodb_table.tasks"]
    assert table["deletion_protection_enabled"] == (env in ("stage", "prod"))
    assert table["deletion_protection_enabled"] == cfg["table"]["deletion_protection"]
    for short in FUNCTIONS:
        fn = after[f'module.app.aws_lambda_function.fn["{short}"]']
        assert fn["tracing_config"] == [{"mode": "Active" if cfg["tracing_enabled"] else "PassThrough"}]
    fmt = json.loads(after["module.infra.aws_apigatewayv2_stage.default"]["access_log_settings"][0]["format"])
    for field in ("integrationStatus", "integrationError", "integrationLatency", "errorMessage", "status"):
        assert field in fmt, field
    assert fmt["integrationStatus"] == "$context.integration.status"
    assert fmt["integrationError"] == "$context.integration.error"
    queue_policy = json.loads(after["module.infra.aws_sqs_queue_policy.schedule_dlq"]["policy"] or "null") \
        if after["module.infra.aws_sqs_queue_policy.schedule_dlq"].get("policy") else None
    if queue_policy:
        st = queue_policy["Statement"][0]
        assert st["Principal"] == {"Service": "events.amazonaws.com"} and "aws:SourceArn" in st["Condition"]["ArnEquals"]


@pytest.mark.parametrize("env", ENVS)
def test_triggers_go_through_the_live_alias(results, env):
    """Item 10: versions are published and every trigger invokes <function>:live."""
    _, plan = _get(results, f"plan:{env}")
    cfg = load_tfvars(env)
    after = _after(plan)
    shifted = cfg["deploy"]["traffic_shifting"] != "AllAtOnce"
    alias_res = "live_shifted" if shifted else "live"
    for short in FUNCTIONS:
        assert after[f'module.app.aws_lambda_function.fn["{short}"]']["publish"] is True
        alias = after[f'module.app.aws_lambda_alias.{alias_res}["{short}"]']
        assert alias["name"] == "live"
        assert f'module.app.aws_lambda_alias.{"live" if shifted else "live_shifted"}["{short}"]' not in after
    assert "local.alias[\"worker\"].arn" in _refs(_config(plan, "app", "aws_lambda_event_source_mapping.worker"), "function_name")
    assert "local.alias[\"api\"].invoke_arn" in _refs(_config(plan, "app", "aws_apigatewayv2_integration.api"), "integration_uri")
    assert "local.alias[\"producer\"].arn" in _refs(_config(plan, "app", "aws_cloudwatch_event_target.producer"), "arn")
    for perm in ("api", "producer"):
        assert f"local.alias[\"{perm}\"].name" in _refs(_config(plan, "app", f"aws_lambda_permission.{perm}"), "qualifier")
    shifted_alias = _config(plan, "app", "aws_lambda_alias.live_shifted")
    # the canary's alias is CodeDeploy's to move: Terraform ignores its version
    assert "live_shifted" in shifted_alias["address"]
    codedeploy = {a: v for a, v in after.items() if "aws_codedeploy" in a}
    if shifted:
        group = after["module.app.aws_codedeploy_deployment_group.live[0]"]
        assert group["deployment_config_name"] == f"CodeDeployDefault.Lambda{cfg['deploy']['traffic_shifting']}"
        assert group["deployment_style"] == [{"deployment_option": "WITH_TRAFFIC_CONTROL", "deployment_type": "BLUE_GREEN"}]
        assert group["auto_rollback_configuration"][0]["events"] == ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
        role = after["module.app.aws_iam_role.codedeploy[0]"]
        assert role["permissions_boundary"].endswith(f":policy/{cfg['project']}-{env}-boundary")
    else:
        assert not codedeploy


@pytest.mark.parametrize("env", ENVS)
def test_alarms_topic_and_dashboard(results, env):
    """Item 7: the topic, an alarm for each failure the issue names, the dashboard."""
    _, plan = _get(results, f"plan:{env}")
    cfg = load_tfvars(env)
    p = f"{cfg['project']}-{env}"
    after = _after(plan)
    topic = after["module.core.aws_sns_topic.alarms[0]"]
    assert topic["name"] == f"{p}-alarms"
    subs = _values(plan, "module.core.aws_sns_topic_subscription.alarms")
    assert sorted(v["endpoint"] for v in subs.values()) == sorted(cfg["alarms"]["email_endpoints"])
    assert all(v["protocol"] == "email" for v in subs.values())
    alarms = {v["alarm_name"]: v for a, v in after.items() if ".aws_cloudwatch_metric_alarm." in a}
    want = {f"{p}.{f}-{m}" for f in FUNCTIONS for m in ("errors", "throttles")} | {
        f"{p}.tasks-dlq-not-empty", f"{p}.schedule-dlq-not-empty", f"{p}.tasks-oldest-message",
        f"{p}.api-5xx", f"{p}.api-p99-latency", f"{p}.schedule-failed-invocations",
        f"{p}.producer-events-lost"}
    assert set(alarms) == want
    assert alarms[f"{p}.tasks-oldest-message"]["threshold"] == cfg["alarms"]["queue_oldest_message_age_seconds"]
    assert alarms[f"{p}.api-p99-latency"]["extended_statistic"] == "p99"
    assert alarms[f"{p}.api-p99-latency"]["threshold"] == cfg["alarms"]["api_p99_latency_ms"]
    assert alarms[f"{p}.tasks-dlq-not-empty"]["dimensions"] == {"QueueName": f"{p}-tasks-dlq"}
    assert alarms[f"{p}.api-errors"]["dimensions"] == {"FunctionName": f"{p}-api", "Resource": f"{p}-api:live"}
    alarm_configs = [r for r in plan["configuration"]["root_module"]["module_calls"]["app"]["module"]["resources"]
                     if r["type"] == "aws_cloudwatch_metric_alarm"]
    assert len(alarm_configs) == 6
    for r in alarm_configs:
        assert "local.actions" in _refs(r, "alarm_actions") and "local.actions" in _refs(r, "ok_actions"), r["address"]
    assert "var.alarm_topic_arn" in _refs(_config(plan, "app", "aws_cloudwatch_metric_alarm.api_5xx"), "alarm_actions") or \
        plan["configuration"]["root_module"]["module_calls"]["app"]["expressions"]["alarm_topic_arn"]["references"]
    board = json.loads(after["module.app.aws_cloudwatch_dashboard.main[0]"]["dashboard_body"] or "null") \
        if after["module.app.aws_cloudwatch_dashboard.main[0]"].get("dashboard_body") else None
    if board:
        titles = [w["properties"]["title"] for w in board["widgets"]]
        assert any("EMF" in t for t in titles) and any("Dead-letter" in t for t in titles)


def test_prod_api_needs_a_jwt_but_health_stays_open(results):
    """Item 5."""
    _, plan = _get(results, "plan:prod")
    cfg = load_tfvars("prod")
    after = _after(plan)
    auth = after["module.infra.aws_apigatewayv2_authorizer.jwt[0]"]
    assert auth["authorizer_type"] == "JWT"
    assert auth["jwt_configuration"] == [{"issuer": cfg["api"]["jwt_authorizer"]["issuer"],
                                          "audience": cfg["api"]["jwt_authorizer"]["audience"]}]
    routes = _values(plan, "module.app.aws_apigatewayv2_route")
    for address, r in routes.items():
        want = "NONE" if r["route_key"] == "GET /health" else "JWT"
        assert r["authorization_type"] == want, address
    _, dev = _get(results, "plan:dev")
    assert all(r["authorization_type"] == "NONE" for r in _values(dev, "module.app.aws_apigatewayv2_route").values())


def test_plan_with_options(results):
    _, plan = _get(results, "plan:options")
    managed = _managed(plan)
    assert len(managed) == EXPECTED_OPTIONS, sorted(rc["address"] for rc in managed)
    fns = _values(plan, "module.app.aws_lambda_function.fn")
    for short in FUNCTIONS:
        v = fns[f'module.app.aws_lambda_function.fn["{short}"]']
        assert v["package_type"] == "Image" and v["runtime"] in (None, "")
        assert v["image_config"] == [{"command": [short], "entry_point": None, "working_directory": None}]
        assert v["vpc_config"][0]["subnet_ids"] == ["subnet-0a1b2c"]
    # run by digest, never by tag (the repository URL is known after apply)
    image_uri = _refs(_config(plan, "app", "aws_lambda_function.fn"), "image_uri")
    assert "var.image_digest" in image_uri and "var.image_tag" not in image_uri
    addresses = {rc["address"] for rc in managed}
    assert "module.infra.aws_apigatewayv2_domain_name.api[0]" in addresses
    assert 'module.infra.aws_route53_record.api["AAAA"]' in addresses
    assert not any("aws_lambda_layer_version" in a or "aws_s3_object" in a for a in addresses)


def test_image_is_pushed_before_the_functions_need_it(results):
    """Item 13: an Image environment's first apply creates the repository, pushes the
    commit's image into it, then creates the functions."""
    _, plan = _get(results, "plan:options")
    push = _after(plan)["module.app.terraform_data.image[0]"]
    assert push["triggers_replace"] is None or DIGEST in json.dumps(push["triggers_replace"])
    fn = _config(plan, "app", "aws_lambda_function.fn")
    assert "terraform_data.image" in fn["depends_on"]
    image = _config(plan, "app", "terraform_data.image")
    assert image["provisioners"][0]["type"] == "local-exec"
    env = image["provisioners"][0]["expressions"]["environment"]
    assert "var.image_digest" in json.dumps(env) and "var.image_archive" in json.dumps(env)
    assert "${path.module}/../../../packaging/push-image" in (INFRA / "layers" / "30_app" / "main.tf").read_text()


def test_image_without_a_digest_fails_the_plan(results):
    proc, plan = _get(results, "plan:image-without-digest")
    assert plan is None and proc.returncode != 0
    text = " ".join((proc.stdout + proc.stderr).split())
    assert "image_digest: must be the image's digest (sha256:<64 hex>) when deploy.package_type is Image." in text


# --- the bootstrap: who may deploy, and what a deploy may do ------------------------------

def _policies(plan, env):
    after = _after(plan)
    prefix = f'module.environment["{env}"].'
    out = {}
    for address, v in after.items():
        if address.startswith(prefix) and ".aws_iam_policy." in address:
            out[v["name"]] = json.loads(v["policy"])
    return out


def _statements(policies, names=None, effect="Allow"):
    for name, doc in policies.items():
        if names and name not in names:
            continue
        for st in doc["Statement"]:
            if st.get("Effect", "Allow") == effect:
                yield name, st


def _list(v):
    """IAM JSON writes a one-item list as a string."""
    return [v] if isinstance(v, str) else v


def _actions(st):
    return _list(st.get("Action", []))


def _resources(st):
    return _list(st.get("Resource", []))


def test_bootstrap_plan(results):
    plan = _get(results, "plan:bootstrap")
    managed = _managed(plan)
    assert len(managed) == EXPECTED_BOOTSTRAP, sorted(rc["address"] for rc in managed)
    values = _after(plan)
    assert values["aws_s3_bucket.state"]["bucket"] == f"haar-tfstate-{ACCOUNT}"
    assert values["aws_dynamodb_table.lock"]["hash_key"] == "LockID"
    assert values["aws_s3_bucket_versioning.state"]["versioning_configuration"][0]["status"] == "Enabled"
    pab = values["aws_s3_bucket_public_access_block.state"]
    assert all(pab[k] is True for k in ("block_public_acls", "block_public_policy",
                                         "ignore_public_acls", "restrict_public_buckets"))
    assert values["aws_iam_openid_connect_provider.github[0]"]["url"] == \
        "https://token.actions.githubusercontent.com"


def test_state_bucket_sse_kms_and_access_logging(results):
    """Item 12."""
    plan = _get(results, "plan:bootstrap")
    values = _after(plan)
    sse = values["aws_s3_bucket_server_side_encryption_configuration.state"]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"
    assert sse["bucket_key_enabled"] is False, "per-object encryption context limits each role to its state"
    assert values["aws_kms_key.state"]["enable_key_rotation"] is True
    assert values["aws_kms_alias.state"]["name"] == "alias/haar-tfstate"
    assert values["aws_s3_bucket_logging.state"]["target_prefix"] == f"haar-tfstate-{ACCOUNT}/"
    assert values["aws_s3_bucket.logs"]["bucket"] == f"haar-tfstate-logs-{ACCOUNT}"
    logs_policy = json.loads(values["aws_s3_bucket_policy.logs"]["policy"] or "null") \
        if values["aws_s3_bucket_policy.logs"].get("policy") else None
    if logs_policy:
        assert any(st.get("Principal") == {"Service": "logging.s3.amazonaws.com"} for st in logs_policy["Statement"])
    assert values["aws_s3_account_public_access_block.account[0]"]["block_public_policy"] is True
    outputs = plan["planned_values"]["outputs"]
    for out in ("backend_hcl", "backend_hcl_bootstrap"):
        if "value" in outputs.get(out, {}):
            assert "kms_key_id" in outputs[out]["value"] and "use_lockfile = true" in outputs[out]["value"]


@pytest.mark.parametrize("env", ENVS)
def test_deploy_and_plan_roles_trust_one_environment_and_one_workflow(results, env):
    """Item 4: environments only, job_workflow_ref in the subject, no branch-only trust."""
    plan = _get(results, "plan:bootstrap")
    cfg = load_tfvars(env)
    repo, branch = cfg["deploy"]["github_repository"], cfg["deploy"].get("github_branch", "main")
    after = _after(plan)
    deploy = json.loads(after[f'module.environment["{env}"].aws_iam_role.deploy']["assume_role_policy"])
    st = deploy["Statement"][0]
    assert st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"}
    assert st["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert st["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == \
        f"repo:{repo}:environment:{env}:job_workflow_ref:{repo}/.github/workflows/apply-env.yml@refs/heads/{branch}"
    planrole = json.loads(after[f'module.environment["{env}"].aws_iam_role.plan']["assume_role_policy"])
    subs = planrole["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"]
    assert all(s.startswith(f"repo:{repo}:environment:{env}-plan:job_workflow_ref:{repo}/.github/workflows/plan-env.yml@")
               for s in subs), subs
    for doc in (deploy, planrole):
        text = json.dumps(doc)
        assert ":ref:refs/heads/" not in text, "no subject without an environment"


@pytest.mark.parametrize("env", ENVS)
def test_deploy_role_cannot_make_itself_an_administrator(results, env):
    """Item 1: roles only with the boundary, explicit denies on the deploy and plan roles,
    the boundaries and the deploy policies; no managed policy attachment."""
    plan = _get(results, "plan:bootstrap")
    p = f"haar-{env}"
    pols = _policies(plan, env)
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/{p}-boundary"
    allows = list(_statements(pols, {f"{p}-deploy-{k}" for k in ("state-artifacts", "functions", "platform")}))
    for _, st in allows:
        for a in _actions(st):
            if a in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"):
                assert st["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == boundary
            assert a not in ("iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:DeleteRolePermissionsBoundary",
                             "logs:PutResourcePolicy", "iam:*", "*")
        if any(a.startswith("iam:") for a in _actions(st)):
            for r in _resources(st):
                assert not r.endswith(("-deploy", "-plan")), f"{st['Sid']}: {r}"
                assert r.startswith(f"arn:aws:iam::{ACCOUNT}:role/{p}-"), r
    denies = {st["Sid"]: st for _, st in _statements(pols, {f"{p}-deploy-guardrails"}, "Deny")}
    roles = denies["NoChangesToAnyDeployOrPlanRole"]
    assert _actions(roles) == ["iam:*"]
    assert sorted(_resources(roles)) == sorted([f"arn:aws:iam::{ACCOUNT}:role/haar-*-deploy",
                                                f"arn:aws:iam::{ACCOUNT}:role/haar-*-plan"])
    assert _resources(denies["NoChangesToBoundariesOrDeployPolicies"]) == [f"arn:aws:iam::{ACCOUNT}:policy/haar-*"]
    assert denies["NoRoleWithoutTheBoundary"]["Condition"]["StringNotEquals"]["iam:PermissionsBoundary"] == boundary
    assert "iam:AttachRolePolicy" in _actions(denies["NoBoundaryRemovalNoManagedPolicies"])
    assert "iam:DeleteRolePermissionsBoundary" in _actions(denies["NoBoundaryRemovalNoManagedPolicies"])
    assert "logs:PutResourcePolicy" in _actions(denies["NoLogResourcePoliciesOrExports"])
    # the boundary itself: no IAM at all
    assert not any(a.startswith(("iam:", "sts:")) for _, st in _statements({boundary: pols[f"{p}-boundary"]})
                   for a in _actions(st))
    # the plan role carries the same guardrails
    after = _after(plan)
    attached = {v["policy_arn"] for a, v in after.items()
                if a.startswith(f'module.environment["{env}"].aws_iam_role_policy_attachment.plan') and v.get("policy_arn")}
    assert not attached or f"arn:aws:iam::{ACCOUNT}:policy/{p}-deploy-guardrails" in attached


@pytest.mark.parametrize("env", ENVS)
def test_no_service_wide_actions_and_scoped_conditions(results, env):
    """Items 2 and 3: every action listed (no service:*), each cross-environment reach
    scoped by a tag, an ARN or a condition."""
    plan = _get(results, "plan:bootstrap")
    p = f"haar-{env}"
    pols = _policies(plan, env)
    allow = {st["Sid"]: st for _, st in _statements(pols) if st.get("Effect", "Allow") == "Allow"}
    for sid, st in allow.items():
        for a in _actions(st):
            assert not re.fullmatch(r"[a-z0-9-]+:\*", a) and a != "*", f"{sid}: {a}"
    esm = allow["EventSourceMappingsOfTheseFunctions"]
    assert sorted(_actions(esm)) == ["lambda:CreateEventSourceMapping", "lambda:DeleteEventSourceMapping",
                                     "lambda:UpdateEventSourceMapping"]
    assert esm["Condition"]["ArnLike"]["lambda:FunctionArn"]
    create_api = allow["CreateHttpApiTaggedForThisEnvironment"]
    assert create_api["Condition"]["StringEquals"]["aws:RequestTag/Environment"] == env
    kms = allow["CreateTheEnvironmentKeyTaggedForIt"]
    assert kms["Condition"]["StringEquals"]["aws:RequestTag/Environment"] == env
    assert set(kms["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"]) >= {"Project", "Environment", "ManagedBy"}
    assert "KmsKeyOfThisEnvironment" not in allow, "no kms:* by tag: the key policy names the deploy role"
    denies = {st["Sid"]: st for _, st in _statements(pols, effect="Deny")}
    retag = denies["NoRetaggingOtherEnvironmentsKeysOrCertificates"]
    assert retag["Condition"]["StringNotEquals"]["aws:ResourceTag/Environment"] == env
    assert denies["NoChangesToOtherEnvironmentsApis"]["Condition"]["StringNotEquals"]["aws:ResourceTag/Environment"] == env
    listing = allow["StateListingOfThisEnvironment"]
    key = f"haar/{env}/terraform.tfstate"
    assert sorted(listing["Condition"]["StringLike"]["s3:prefix"]) == sorted([key, f"{key}.tflock"])
    state_kms = allow["StateKeyForThisEnvironmentsStateOnly"]
    assert sorted(state_kms["Condition"]["StringEquals"]["kms:EncryptionContext:aws:s3:arn"]) == \
        sorted([f"arn:aws:s3:::haar-tfstate-{ACCOUNT}/{key}", f"arn:aws:s3:::haar-tfstate-{ACCOUNT}/{key}.tflock"])
    assert allow["InvokePermissionsForTheApiAndTheSchedule"]["Condition"]["StringEquals"]["lambda:Principal"]
    assert _list(allow["ScheduleTargetsOnlyTheProducer"]["Condition"]["ArnLike"]["events:TargetArn"]) == \
        [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{p}-producer:*"]
    # nothing may be named by a prefix another environment's names could extend
    for sid, st in allow.items():
        for r in _resources(st):
            m = re.search(rf"{re.escape(p)}(-?)\*", r)
            assert not m, f"{sid}: {r} would also match environment {env}-x"
    protected = load_tfvars(env)["deploy"].get("protected", False)
    destroy = denies.get("ProtectedNoDestroyingStatefulResources")
    assert bool(destroy) == protected
    if protected:
        for a in ("dynamodb:DeleteTable", "sqs:DeleteQueue", "s3:DeleteBucket", "logs:DeleteLogGroup",
                  "ecr:DeleteRepository", "kms:ScheduleKeyDeletion"):
            assert a in _actions(destroy), a


@pytest.mark.parametrize("env", ENVS)
def test_plan_role_is_read_only(results, env):
    plan = _get(results, "plan:bootstrap")
    p = f"haar-{env}"
    pols = _policies(plan, env)
    reads = re.compile(r"^[a-z0-9-]+:(Get|List|Describe|Head)[A-Za-z]*$")
    for name, st in _statements(pols, {f"{p}-plan-state", f"{p}-plan-services"}):
        for a in _actions(st):
            if reads.match(a) or a in ("apigateway:GET",):
                continue
            # the only writes: the state's lock file, and the state key for it
            if st["Sid"] == "LockTheState":
                assert _resources(st) == [f"arn:aws:s3:::haar-tfstate-{ACCOUNT}/haar/{env}/terraform.tfstate.tflock"]
                continue
            assert st["Sid"] == "StateKeyForThisEnvironmentsStateOnly" and a.startswith("kms:"), (name, st["Sid"], a)
    for _, st in _statements(pols, {f"{p}-plan-services"}):
        for a in _actions(st):
            assert a not in ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "sqs:ReceiveMessage"), a


@pytest.mark.parametrize("env", ENVS)
def test_deploy_policies_fit_iam_limits(results, env):
    """Managed policies: 6,144 characters each, whitespace not counted."""
    plan = _get(results, "plan:bootstrap")
    for name, doc in _policies(plan, env).items():
        size = len(json.dumps(doc, separators=(",", ":")))
        assert size < 6144, f"{name} is {size} characters"
    domain = _get(results, "plan:bootstrap-domain")
    for name, doc in _policies(domain, "dev").items():
        size = len(json.dumps(doc, separators=(",", ":")))
        assert size < 6144, f"{name} (with domain and VPC) is {size} characters"


def test_certificate_request_is_allowed_for_the_domain_only(results):
    """Item 13: acm:RequestCertificate has no resource-level permission: "*", limited to
    the configured name by acm:DomainNames."""
    plan = _get(results, "plan:bootstrap-domain")
    pols = _policies(plan, "dev")
    allow = {st["Sid"]: st for _, st in _statements(pols)}
    req = allow["RequestTheDomainsCertificate"]
    assert _actions(req) == ["acm:RequestCertificate"] and _resources(req) == ["*"]
    assert _list(req["Condition"]["ForAllValues:StringEquals"]["acm:DomainNames"]) == ["api.haar.example.com"]
    dns = allow["TheDomainsDnsRecords"]
    names = dns["Condition"]["ForAllValues:StringLike"]["route53:ChangeResourceRecordSetsNormalizedRecordNames"]
    assert sorted(names) == ["_*.api.haar.example.com", "api.haar.example.com"]
    assert "ec2:DescribeSubnets" in _actions(allow["ReadOnlyDiscovery"])
    # and without a domain, no certificate or DNS right at all
    plain = _policies(_get(results, "plan:bootstrap"), "dev")
    assert not any(a.startswith(("acm:", "route53:")) for _, st in _statements(plain) for a in _actions(st))


# --- haar and Terraform agree --------------------------------------------------------

@pytest.mark.parametrize("env", ENVS)
def test_plan_agrees_with_what_haar_provisions(results, env):
    """Settings, not only names: what Terraform would create equals what `haar up` runs."""
    described = haar_describe(env)
    _, plan = _get(results, f"plan:{env}")
    after = _after(plan)
    queues = {"queue": "module.infra.aws_sqs_queue.tasks", "dlq": "module.infra.aws_sqs_queue.dlq",
              "schedule_dlq": "module.infra.aws_sqs_queue.schedule_dlq"}
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
            v = after[queues[res["role"]]]
            assert v["name"] == res["name"]
            for key in ("visibility_timeout_seconds", "message_retention_seconds", "receive_wait_time_seconds"):
                if key in res:
                    assert v[key] == res[key], key
            if res["role"] == "schedule_dlq":
                inv = after["module.app.aws_lambda_function_event_invoke_config.producer"]
                assert inv["maximum_retry_attempts"] == res["max_retry_attempts"]
                assert inv["maximum_event_age_in_seconds"] == res["max_event_age_seconds"]
        elif kind == "table":
            v = after["module.infra.aws_dynamodb_table.tasks"]
            assert (v["name"], v["hash_key"], v["billing_mode"]) == (res["name"], res["hash_key"], res["billing_mode"])
            gsis = [{k: g[k] for k in ("name", "hash_key", "range_key", "projection_type")}
                    for g in v["global_secondary_index"]]
            assert gsis == res["global_secondary_indexes"]
            assert v["ttl"][0]["attribute_name"] == res["ttl_attribute"]
            assert v["point_in_time_recovery"][0]["enabled"] == res["point_in_time_recovery"]
            assert v["deletion_protection_enabled"] == res["deletion_protection"]
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
