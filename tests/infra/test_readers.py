"""Both readers of terraform.tfvars.json refuse the same settings: each rule Terraform's
validation blocks enforce (infra/envs/_shared/variables.tf) is also refused by `haar`,
which names the key. Terraform's side is checked by test_terraform.py's failing plans."""
import json
import subprocess

import pytest

from conftest import INFRA, ROOT, haar_binary, load_tfvars


def _set(path, value):
    def mutate(cfg):
        node = cfg
        keys = path.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return mutate


# (rule in variables.tf, mutation, the key haar must name)
RULES = [
    ("6 * var.functions.worker.timeout_seconds",
     _set("queue.visibility_timeout_seconds", 60), "queue.visibility_timeout_seconds"),
    ("var.functions.api.timeout_seconds <= 30",
     _set("functions.api.timeout_seconds", 31), "functions.api.timeout_seconds"),
    ("length(var.network.security_group_ids) > 0",
     lambda c: c.__setitem__("network", {"vpc_enabled": True, "subnet_ids": ["subnet-0a1b"]}),
     "network.security_group_ids"),
    ("length(var.network.subnet_ids) > 0",
     lambda c: c.__setitem__("network", {"vpc_enabled": True, "security_group_ids": ["sg-0a1b"]}),
     "network.subnet_ids"),
    ('var.domain.zone_id != ""',
     lambda c: c.__setitem__("domain", {"enabled": True, "name": "api.example.com"}),
     "domain.zone_id"),
    ('var.domain.name != ""',
     lambda c: c.__setitem__("domain", {"enabled": True, "zone_id": "Z0123456789ABC"}),
     "domain.name"),
    ("var.functions.worker.max_batching_window_seconds >= 1",
     _set("functions.worker.batch_size", 100), "functions.worker.max_batching_window_seconds"),
    ('[2] == "?"',
     _set("schedule.expression", "cron(0 * * * * *)"), "schedule.expression"),
    ("var.queue.max_receive_count >= 1",
     _set("queue.max_receive_count", 0), "queue.max_receive_count"),
]


@pytest.mark.parametrize("rule,mutate,key", RULES, ids=[r[2] for r in RULES])
def test_haar_refuses_what_terraform_refuses(tmp_path, rule, mutate, key):
    variables = (INFRA / "envs" / "_shared" / "variables.tf").read_text()
    assert rule in variables, f"variables.tf no longer has the rule {rule!r}: update this table"
    binary = haar_binary()
    if not binary.is_file():
        pytest.skip(f"{binary} not built (set HAAR_BUILD_DIR)")
    cfg = load_tfvars("dev")
    mutate(cfg)
    path = tmp_path / "dev" / "terraform.tfvars.json"
    path.parent.mkdir()
    path.write_text(json.dumps(cfg))
    proc = subprocess.run([str(binary), "describe", "--config", str(path), "--json"],
                          capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr)
    assert f"{path}: {key}:" in proc.stderr, proc.stderr
    assert proc.stdout == ""
