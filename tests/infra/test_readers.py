"""Both readers of terraform.tfvars.json refuse the same settings with the same shape of
error: `haar` (src/cloud/config.c) says "<file>: <key.path>: <what>", Terraform's
validation (infra/envs/_shared/variables.tf) says "<key.path>: <what>" under its own
"on <file> line N". For each rule below: the rule is still in variables.tf, haar refuses
the mutated file naming the key, and `terraform plan` refuses it with that rule's message.

Terraform runs are grouped to keep the suite short: one plan checks several rules when
their mutations touch disjoint variables and no rule reads a variable another mutation
changes (Terraform skips a validation that reads a variable which failed its own)."""
import concurrent.futures
import copy
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import INFRA, ROOT, haar_binary, load_tfvars, module_doc, terraform_tools


def _set(path, value):
    def mutate(cfg):
        node = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return mutate


def _all(*mutations):
    def mutate(cfg):
        for m in mutations:
            m(cfg)
    return mutate


def _tags(n):
    return lambda c: c.__setitem__("tags", {f"k{i:02d}": "v" for i in range(n)})


# (text of the rule's condition in variables.tf, mutation of dev's file, the key haar
#  names, the key Terraform's message begins with when it differs)
RULES = [
    ("6 * var.functions.worker.timeout_seconds",
     _set("queue.visibility_timeout_seconds", 60), "queue.visibility_timeout_seconds", None),
    ("var.functions.api.timeout_seconds <= 30",
     _set("functions.api.timeout_seconds", 31), "functions.api.timeout_seconds", None),
    ("length(var.network.security_group_ids) > 0",
     lambda c: c.__setitem__("network", {"vpc_enabled": True, "subnet_ids": ["subnet-0a1b"]}),
     "network.security_group_ids", None),
    ("length(var.network.subnet_ids) > 0",
     lambda c: c.__setitem__("network", {"vpc_enabled": True, "security_group_ids": ["sg-0a1b"]}),
     "network.subnet_ids", None),
    ('var.domain.zone_id != ""',
     lambda c: c.__setitem__("domain", {"enabled": True, "name": "api.example.com"}),
     "domain.zone_id", None),
    ('var.domain.name != ""',
     lambda c: c.__setitem__("domain", {"enabled": True, "zone_id": "Z0123456789ABC"}),
     "domain.name", None),
    ("var.functions.worker.max_batching_window_seconds >= 1",
     _set("functions.worker.batch_size", 100), "functions.worker.max_batching_window_seconds", None),
    ('[2] == "?"',
     _set("schedule.expression", "cron(0 * * * * *)"), "schedule.expression", None),
    ("var.queue.max_receive_count >= 1",
     _set("queue.max_receive_count", 0), "queue.max_receive_count", None),
    # the artifacts bucket name: <project>-<environment>-artifacts-<account> fits 63
    ("length(var.project) + length(var.environment) <= 39",
     _all(_set("project", "abcdefghijabcdefghijabcdefghijab"), _set("environment", "abcdefgh")),
     "project", None),
    ("^(xn--|sthree-|amzn-s3-demo-)", _set("project", "xn--haar"), "project", None),
    # tags: 50 per resource, 3 of them haar's; the fixed ones are haar's alone
    ("length(var.tags) <= 47", _tags(48), "tags", None),
    ('!contains(["project", "environment", "managedby"], lower(k))',
     _set("tags.Environment", "prod"), "tags.Environment", "tags"),
    ('!startswith(k, "aws:")', _set("tags.aws:owner", "x"), "tags.aws:owner", "tags"),
    # the account's real Lambda concurrency: AWS keeps 100 unreserved
    ("max(var.deploy.account_concurrency_limit - 100, 0)",
     _set("functions.worker.reserved_concurrency", 901),
     "functions.worker.reserved_concurrency", "functions.*.reserved_concurrency"),
    ("var.deploy.account_concurrency_limit >= 1",
     _set("deploy.account_concurrency_limit", 0), "deploy.account_concurrency_limit", None),
    # the JWT authorizer
    ('can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[!-~]*)?$", var.api.jwt_authorizer.issuer))',
     _set("api.jwt_authorizer", {"issuer": "http://auth.example.com/"}), "api.jwt_authorizer.issuer", None),
    ('!var.api.jwt_authorizer.enabled || var.api.jwt_authorizer.issuer != ""',
     _set("api.jwt_authorizer", {"enabled": True, "audience": ["a"]}), "api.jwt_authorizer.issuer", None),
    ("!var.api.jwt_authorizer.enabled || length(var.api.jwt_authorizer.audience) > 0",
     _set("api.jwt_authorizer", {"enabled": True, "issuer": "https://auth.example.com/"}),
     "api.jwt_authorizer.audience", None),
    ('can(regex("^[!-~]+$", a))',
     _set("api.jwt_authorizer", {"audience": ["my app"]}),
     "api.jwt_authorizer.audience[0]", "api.jwt_authorizer.audience"),
    # alarms
    ("[A-Za-z]{2,}$", _set("alarms.email_endpoints", ["ops@example"]),
     "alarms.email_endpoints[0]", "alarms.email_endpoints"),
    ("var.alarms.api_p99_latency_ms >= 100", _set("alarms.api_p99_latency_ms", 99),
     "alarms.api_p99_latency_ms", None),
    ("var.alarms.queue_oldest_message_age_seconds < var.queue.message_retention_seconds",
     _set("alarms.queue_oldest_message_age_seconds", 345600),
     "alarms.queue_oldest_message_age_seconds", None),
    # the producer's asynchronous invocation
    ("contains([0, 1, 2], var.functions.producer.max_retry_attempts)",
     _set("functions.producer.max_retry_attempts", 3), "functions.producer.max_retry_attempts", None),
    ("var.functions.producer.max_event_age_seconds >= 60",
     _set("functions.producer.max_event_age_seconds", 59), "functions.producer.max_event_age_seconds", None),
    # protection and delivery
    ("!var.deploy.protected || var.table.deletion_protection",
     _all(_set("deploy.protected", True), _set("table.deletion_protection", False)),
     "table.deletion_protection", None),
    # haar's own: the account's code storage (AWS: 75 GB)
    ("var.emulator.code_storage_mb <= 76800",
     _set("emulator.code_storage_mb", 76801), "emulator.code_storage_mb", None),
    ('contains(["AllAtOnce", "Canary10Percent5Minutes"',
     _set("deploy.traffic_shifting", "Canary50Percent"), "deploy.traffic_shifting", None),
]
IDS = [f"{r[2]}:{i}" for i, r in enumerate(RULES)]


def _validations():
    """[(variable, condition, error_message)] of the environments' variables.tf."""
    out = []
    for name, blocks in module_doc(INFRA / "envs" / "dev")["variable"].items():
        for v in blocks[0].get("validation", []):
            out.append((name, v["condition"], v["error_message"]))
    return out


def _rule(text):
    found = [v for v in _validations() if text in v[1]]
    assert len(found) == 1, f"variables.tf has {len(found)} rules containing {text!r}: update this table"
    return found[0]


def _mutated(mutate):
    cfg = load_tfvars("dev")
    out = copy.deepcopy(cfg)
    mutate(out)
    changed = {k for k in set(cfg) | set(out) if cfg.get(k) != out.get(k)}
    return out, changed


def _norm(text):
    return " ".join(text.split())


@pytest.mark.parametrize("rule,mutate,key,tf_key", RULES, ids=IDS)
def test_haar_refuses_what_terraform_refuses(tmp_path, rule, mutate, key, tf_key):
    _, _, message = _rule(rule)
    assert message.startswith(f"{tf_key or key}: "), \
        f"Terraform's message should name the key as haar does: {message!r}"
    binary = haar_binary()
    if not binary.is_file():
        pytest.skip(f"{binary} not built (set HAAR_BUILD_DIR)")
    cfg, _ = _mutated(mutate)
    path = tmp_path / "dev" / "terraform.tfvars.json"
    path.parent.mkdir()
    path.write_text(json.dumps(cfg))
    proc = subprocess.run([str(binary), "describe", "--config", str(path), "--json"],
                          capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr)
    assert proc.stderr.startswith(f"{path}: {key}: "), proc.stderr
    assert proc.stdout == ""


# --- Terraform's side -------------------------------------------------------------------

TOOLS = terraform_tools()
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
  default = "123456789012"
}
"""


def _depends():
    """{variable: the variables its validations read, itself included}: Terraform checks
    a variable's rules only when every variable they read passed its own."""
    deps = {}
    for var, condition, _ in _validations():
        deps.setdefault(var, {var}).update(re.findall(r"var\.([a-z_]+)", condition))
    # transitively: a variable whose rules read one that is itself unchecked is unchecked
    changed = True
    while changed:
        changed = False
        for var, reads in deps.items():
            more = set().union(*(deps.get(r, {r}) for r in reads)) - reads
            if more:
                reads |= more
                changed = True
    return deps


def _groups():
    """Greedy: a rule joins a group when its mutation touches nothing the group's rules'
    variables depend on, and the group's mutations touch nothing its variable depends on."""
    deps = _depends()
    groups = []
    for i, (rule, mutate, _, _) in enumerate(RULES):
        var, _, _ = _rule(rule)
        reads = deps[var]
        _, changed = _mutated(mutate)
        for g in groups:
            if not (changed & (g["reads"] | g["changed"])) and not (reads & g["changed"]):
                g["rules"].append(i)
                g["reads"] |= reads
                g["changed"] |= changed
                break
        else:
            groups.append({"rules": [i], "reads": set(reads), "changed": set(changed)})
    return groups


@pytest.fixture(scope="module")
def terraform_refusals():
    if TOOLS is None:
        pytest.skip("terraform or the provider mirror is absent: Terraform's side not run")
    tmp = Path(tempfile.mkdtemp(prefix="haar-readers-"))
    shutil.copytree(INFRA, tmp / "infra", ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    root = tmp / "infra" / "envs" / "dev"
    (root / "zz_test_override.tf").write_text(OVERRIDE)
    (tmp / "home").mkdir()
    for name in ("api", "worker", "producer", "layer"):
        (tmp / f"{name}.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # empty zip
    env = {"HOME": str(tmp / "home"), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
           "TF_INPUT": "0", "TF_DATA_DIR": str(tmp / "data"), "PATH": "/usr/bin:/bin"}
    init = subprocess.run([TOOLS[0], "init", "-input=false", "-lockfile=readonly",
                           f"-plugin-dir={TOOLS[1]}", "-no-color"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=240)
    assert init.returncode == 0, init.stdout + init.stderr
    groups = _groups()

    def plan(n, group):
        cfg = load_tfvars("dev")
        for i in group["rules"]:
            RULES[i][1](cfg)
        varfile = tmp / f"group{n}.tfvars.json"
        varfile.write_text(json.dumps(cfg))
        proc = subprocess.run([TOOLS[0], "plan", "-input=false", "-lock=false", "-refresh=false",
                               f"-var-file={varfile}", f"-var=artifacts_dir={tmp}", "-no-color"],
                              cwd=root, env=env, capture_output=True, text=True, timeout=240)
        return proc

    out = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {n: pool.submit(plan, n, g) for n, g in enumerate(groups)}
        for n, g in enumerate(groups):
            proc = futures[n].result()
            for i in g["rules"]:
                out[i] = proc
    shutil.rmtree(tmp, ignore_errors=True)
    return out


@pytest.mark.parametrize("index", range(len(RULES)), ids=IDS)
def test_terraform_refuses_it_too(terraform_refusals, index):
    _, _, message = _rule(RULES[index][0])
    proc = terraform_refusals[index]
    assert proc.returncode != 0, f"terraform plan accepted the setting:\n{proc.stdout[-1500:]}"
    text = _norm(proc.stdout + proc.stderr)
    assert "Error: Invalid value for variable" in text
    assert _norm(message) in text, text[-3000:]


def test_groups_keep_rules_apart():
    """Every rule is planned, and a group never mutates what another of its rules reads."""
    groups = _groups()
    assert sorted(i for g in groups for i in g["rules"]) == list(range(len(RULES)))
    assert len(groups) < len(RULES), "grouping should save some plans"


def test_strict_runtimes_is_a_boolean_in_both_readers(tmp_path):
    """emulator.strict_runtimes (haar only: refuse a python3.x / nodejsNN.x the machine has
    no interpreter of) is declared by both readers: a boolean, default false."""
    tf = (INFRA / "envs" / "_shared" / "variables.tf").read_text()
    assert re.search(r"strict_runtimes\s*=\s*optional\(bool, false\)", tf), \
        "variables.tf's emulator object should declare strict_runtimes = optional(bool, false)"
    binary = haar_binary()
    if not binary.is_file():
        pytest.skip(f"{binary} not built (set HAAR_BUILD_DIR)")
    for value, ok in ((True, True), (False, True), ("yes", False)):
        cfg = load_tfvars("dev")
        cfg.setdefault("emulator", {})["strict_runtimes"] = value
        path = tmp_path / f"{value}" / "dev" / "terraform.tfvars.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(cfg))
        proc = subprocess.run([str(binary), "describe", "--config", str(path), "--json"],
                              capture_output=True, text=True, timeout=20, cwd=ROOT)
        if ok:
            assert proc.returncode == 0, proc.stderr
        else:
            assert proc.returncode == 2 and proc.stderr.startswith(
                f"{path}: emulator.strict_runtimes: "), proc.stderr
