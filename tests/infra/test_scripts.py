"""The delivery scripts, run for real against stand-ins (no AWS, no GitHub, no registry):
infra/scripts/smoke against a small HTTP server playing the task API; shift-traffic and
rollback against a fake AWS CLI keeping a model of aliases, versions and CodeDeploy
deployments (tests/infra/fakes/aws); github-settings against a fake GitHub API;
packaging/oci-digest and push-image against OCI archives made here and a fake skopeo."""
import http.server
import importlib.machinery
import importlib.util
import io
import json
import os
import subprocess
import tarfile
import threading
from pathlib import Path

import pytest

from conftest import ROOT, load_tfvars

SCRIPTS = ROOT / "infra" / "scripts"
FAKES = Path(__file__).resolve().parent / "fakes"
PY = "/usr/bin/python3"
TIMEOUT = 60


def run(cmd, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=e, **kw)


# --- smoke ------------------------------------------------------------------------------

class TaskApi(http.server.BaseHTTPRequestHandler):
    """GET /health, POST /tasks, GET /tasks/<id>: the task succeeds on its second read.
    server.mode: "ok", "unhealthy", "jwt" (needs Bearer good), "fails"."""

    def log_message(self, *args):
        pass

    def answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        return self.server.mode != "jwt" or self.headers.get("Authorization") == "Bearer good"

    def do_GET(self):
        if self.path == "/health":
            return self.answer(503 if self.server.mode == "unhealthy" else 200, {"status": "ok"})
        if not self.authorized():
            return self.answer(401, {"message": "Unauthorized"})
        if self.path.startswith("/tasks/"):
            self.server.reads += 1
            status = "QUEUED" if self.server.reads < 2 else ("FAILED" if self.server.mode == "fails" else "SUCCEEDED")
            return self.answer(200, {"id": self.path[7:], "status": status})
        self.answer(404, {"error": {"code": "NotFound"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length)
        if self.path == "/token":
            ok = b"grant_type=client_credentials" in raw and self.headers.get("Authorization", "").startswith("Basic ")
            return self.answer(200 if ok else 400, {"access_token": "good", "token_type": "Bearer"})
        body = json.loads(raw)
        if not self.authorized():
            return self.answer(401, {"message": "Unauthorized"})
        assert body["kind"] == "echo" and self.headers.get("Idempotency-Key")
        self.server.posted.append(body)
        self.answer(202, {"id": "t-1", "kind": "echo", "status": "QUEUED"})


@pytest.fixture
def task_api():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TaskApi)
    srv.mode, srv.reads, srv.posted = "ok", 0, []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()


def smoke(srv, env=None):
    base = {k: "" for k in ("SMOKE_BEARER_TOKEN", "SMOKE_TOKEN_URL", "SMOKE_CLIENT_ID", "SMOKE_CLIENT_SECRET")}
    base.update(env or {})
    return run([PY, str(SCRIPTS / "smoke"), f"http://127.0.0.1:{srv.server_port}/", "--timeout", "10"], env=base)


def test_smoke_passes_when_health_and_an_echo_task_succeed(task_api):
    proc = smoke(task_api)
    assert proc.returncode == 0, proc.stderr
    assert "GET /health: 200" in proc.stdout and "SUCCEEDED" in proc.stdout
    assert task_api.posted[0]["payload"]["smoke"].startswith("smoke-")


@pytest.mark.parametrize("mode,message", [
    ("unhealthy", "GET /health: 503"),
    ("fails", "FAILED"),
    ("jwt", "the API needs a JWT"),
])
def test_smoke_fails_loudly(task_api, mode, message):
    task_api.mode = mode
    proc = smoke(task_api)
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr


def test_smoke_gets_a_token_by_client_credentials(task_api):
    task_api.mode = "jwt"
    url = f"http://127.0.0.1:{task_api.server_port}/token"
    proc = smoke(task_api, {"SMOKE_TOKEN_URL": url, "SMOKE_CLIENT_ID": "c", "SMOKE_CLIENT_SECRET": "s"})
    assert proc.returncode == 0, proc.stderr
    assert smoke(task_api, {"SMOKE_BEARER_TOKEN": "good"}).returncode == 0


def test_smoke_reports_an_unreachable_api():
    proc = run([PY, str(SCRIPTS / "smoke"), "http://127.0.0.1:9/", "--timeout", "1"])
    assert proc.returncode == 1 and "GET http://127.0.0.1:9/health" in proc.stderr


# --- shift-traffic and rollback ------------------------------------------------------------

@pytest.fixture
def fake_aws(tmp_path):
    state = tmp_path / "aws.json"

    def make(doc):
        state.write_text(json.dumps(doc))
        return {"PATH": f"{FAKES}:{os.environ['PATH']}", "FAKE_AWS": str(state)}

    make.state = lambda: json.loads(state.read_text())
    make.calls = lambda: [json.loads(line) for line in (tmp_path / "aws.json.log").read_text().splitlines()] \
        if (tmp_path / "aws.json.log").exists() else []
    return make


def outputs(tmp_path, config="Canary10Percent5Minutes", versions=None):
    versions = versions or {"api": "8", "worker": "5", "producer": "3"}
    doc = {
        "function_names": {"value": {k: f"haar-prod-{k}" for k in versions}},
        "function_versions": {"value": versions},
        "traffic_shifting": {"value": {"config": config, "application": "haar-prod" if config != "AllAtOnce" else None,
                                       "deployment_group": "live" if config != "AllAtOnce" else None}},
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(doc))
    return path


def shift(env, out):
    return run([PY, str(SCRIPTS / "shift-traffic"), str(out), "--region", "eu-west-1", "--poll", "0"], env=env)


def test_shift_traffic_deploys_each_changed_function_through_codedeploy(tmp_path, fake_aws):
    env = fake_aws({"functions": {"haar-prod-api": {"alias": "7", "versions": [1, 7, 8]},
                                  "haar-prod-worker": {"alias": "5", "versions": [5]},
                                  "haar-prod-producer": {"alias": "2", "versions": [2, 3]}}})
    proc = shift(env, outputs(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    deps = fake_aws.state()["deployments"]
    assert len(deps) == 2, "worker was on its version already"
    specs = [d["appspec"]["Resources"][0] for d in deps.values()]
    assert specs[0]["api"]["Properties"] == {"Name": "haar-prod-api", "Alias": "live",
                                             "CurrentVersion": "7", "TargetVersion": "8"}
    assert specs[1]["producer"]["Properties"]["TargetVersion"] == "3"
    assert all(d["app"] == "haar-prod" and d["group"] == "live" for d in deps.values())
    assert fake_aws.state()["functions"]["haar-prod-api"]["alias"] == "8"


def test_shift_traffic_fails_when_codedeploy_rolls_back(tmp_path, fake_aws):
    env = fake_aws({"functions": {"haar-prod-api": {"alias": "7", "versions": [7, 8]},
                                  "haar-prod-worker": {"alias": "5", "versions": [5]},
                                  "haar-prod-producer": {"alias": "3", "versions": [3]}},
                    "outcomes": {"haar-prod-api": "Stopped"}})
    proc = shift(env, outputs(tmp_path))
    assert proc.returncode == 1 and "Stopped alarm fired" in proc.stdout
    assert fake_aws.state()["functions"]["haar-prod-api"]["alias"] == "7"


def test_shift_traffic_has_nothing_to_do_all_at_once(tmp_path, fake_aws):
    env = fake_aws({})
    proc = shift(env, outputs(tmp_path, config="AllAtOnce"))
    assert proc.returncode == 0 and "nothing to shift" in proc.stdout
    assert fake_aws.calls() == []


def rollback(env, *args, config=None):
    cmd = [PY, str(SCRIPTS / "rollback"), *args]
    if config:
        cmd += ["--config", str(config)]
    return run(cmd, env=env)


def test_rollback_points_live_at_the_previous_version(tmp_path, fake_aws):
    env = fake_aws({"functions": {"haar-dev-api": {"alias": "9", "versions": [1, 2, 4, 9, 10]},
                                  "haar-dev-worker": {"alias": "1", "versions": [1]},
                                  "haar-dev-producer": {"alias": "3", "versions": [2, 3], "weights": {"2": 0.1}}}})
    proc = rollback(env, "dev")
    assert proc.returncode == 0, proc.stderr
    fns = fake_aws.state()["functions"]
    assert fns["haar-dev-api"]["alias"] == "4", "the highest published version below the live one"
    assert fns["haar-dev-worker"]["alias"] == "1" and "nothing to roll back to" in proc.stdout
    assert fns["haar-dev-producer"]["alias"] == "2" and fns["haar-dev-producer"]["weights"] == {}
    assert any(c[:2] == ["lambda", "update-alias"] and "--region" in c and "eu-west-1" in c for c in fake_aws.calls())
    assert not any(c[0] == "deploy" for c in fake_aws.calls()), "dev shifts all at once: no CodeDeploy"


def test_rollback_to_a_version_and_one_function(tmp_path, fake_aws):
    env = fake_aws({"functions": {"haar-dev-api": {"alias": "9", "versions": [7, 8, 9]}}})
    proc = rollback(env, "dev", "--function", "api", "--to", "7")
    assert proc.returncode == 0, proc.stderr
    assert fake_aws.state()["functions"]["haar-dev-api"]["alias"] == "7"


def test_rollback_stops_a_traffic_shift_first(tmp_path, fake_aws):
    env = fake_aws({"functions": {f"haar-prod-{f}": {"alias": "2", "versions": [1, 2]} for f in ("api", "worker", "producer")},
                    "active": ["d-000000042"]})
    assert load_tfvars("prod")["deploy"]["traffic_shifting"] != "AllAtOnce"
    proc = rollback(env, "prod")
    assert proc.returncode == 0, proc.stderr
    assert fake_aws.state()["stopped"] == ["d-000000042"]
    stop = [c for c in fake_aws.calls() if c[:2] == ["deploy", "stop-deployment"]][0]
    assert "--auto-rollback-enabled" in stop


def test_rollback_refuses_another_environments_file(tmp_path, fake_aws):
    env = fake_aws({})
    proc = rollback(env, "prod", config=ROOT / "infra" / "envs" / "dev" / "terraform.tfvars.json")
    assert proc.returncode == 2 and "not 'prod'" in proc.stderr


# --- github-settings ----------------------------------------------------------------------

def load_script(path):
    loader = importlib.machinery.SourceFileLoader(path.name.replace("-", "_"), str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class FakeGitHub:
    def __init__(self, routes):
        self.routes, self.calls = routes, []

    def call(self, method, path, body=None):
        self.calls.append((method, path, body))
        if method == "GET":
            return self.routes.get(path, (404, {"message": "Not Found"}))
        return 200 if method != "POST" else 201, {}


def good_routes(repo="haar-dev/haar"):
    routes = {f"/repos/{repo}/actions/oidc/customization/sub":
              (200, {"use_default": False, "include_claim_keys": ["repo", "context", "job_workflow_ref"]})}
    for env in ("dev", "stage", "prod"):
        rules = [{"type": "branch_policy"}]
        if env == "prod":
            rules.append({"type": "required_reviewers", "prevent_self_review": True,
                          "reviewers": [{"type": "Team", "reviewer": {"id": 1}}]})
        routes[f"/repos/{repo}/environments/{env}"] = (200, {"protection_rules": rules,
                                                              "deployment_branch_policy": {"custom_branch_policies": True}})
        routes[f"/repos/{repo}/environments/{env}/deployment-branch-policies"] = \
            (200, {"branch_policies": [{"name": "main", "type": "branch"}]})
        routes[f"/repos/{repo}/environments/{env}-plan"] = (200, {"protection_rules": []})
    return routes


def test_github_settings_check_passes_on_a_matching_repository():
    gs = load_script(SCRIPTS / "github-settings")
    api = FakeGitHub(good_routes())
    assert gs.main(["check"], api=api) == 0
    assert all(m == "GET" for m, _, _ in api.calls)


@pytest.mark.parametrize("breakage,problem", [
    (lambda r: r.__setitem__("/repos/haar-dev/haar/actions/oidc/customization/sub", (200, {"use_default": True})),
     "OIDC subject template"),
    (lambda r: r["/repos/haar-dev/haar/environments/prod"][1]["protection_rules"].pop(),
     "prod: needs at least one required reviewer"),
    (lambda r: r.__setitem__("/repos/haar-dev/haar/environments/stage/deployment-branch-policies",
                             (200, {"branch_policies": [{"name": "*", "type": "branch"}]})),
     "the only deployment branch must be main"),
    (lambda r: r.pop("/repos/haar-dev/haar/environments/dev-plan"), "dev-plan: missing"),
])
def test_github_settings_check_names_what_differs(capsys, breakage, problem):
    gs = load_script(SCRIPTS / "github-settings")
    routes = good_routes()
    breakage(routes)
    assert gs.main(["check"], api=FakeGitHub(routes)) == 1
    assert problem in capsys.readouterr().err


def test_github_settings_apply_writes_what_the_files_imply(tmp_path):
    gs = load_script(SCRIPTS / "github-settings")
    outputs = {"value": {e: {"AWS_DEPLOY_ROLE_ARN": f"arn:aws:iam::1:role/haar-{e}-deploy",
                             "AWS_PLAN_ROLE_ARN": f"arn:aws:iam::1:role/haar-{e}-plan",
                             "TF_STATE_BUCKET": "haar-tfstate-1"} for e in ("dev", "stage", "prod")}}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    routes = good_routes()
    routes["/orgs/haar-dev/teams/platform"] = (200, {"id": 7})
    api = FakeGitHub(routes)
    assert gs.main(["apply", "--bootstrap-outputs", str(path), "--reviewer", "team:platform"], api=api) == 0
    puts = {p: b for m, p, b in api.calls if m == "PUT"}
    assert puts["/repos/haar-dev/haar/actions/oidc/customization/sub"]["include_claim_keys"] == \
        ["repo", "context", "job_workflow_ref"]
    prod = puts["/repos/haar-dev/haar/environments/prod"]
    assert prod["reviewers"] == [{"type": "Team", "id": 7}] and prod["prevent_self_review"] is True
    assert "reviewers" not in puts["/repos/haar-dev/haar/environments/dev"]
    assert puts["/repos/haar-dev/haar/environments/dev-plan"]["deployment_branch_policy"] is None
    variables = [(p, b["name"]) for m, p, b in api.calls if m == "PATCH"]
    assert ("/repos/haar-dev/haar/environments/prod/variables/AWS_DEPLOY_ROLE_ARN", "AWS_DEPLOY_ROLE_ARN") in variables
    assert not any(p.startswith("/repos/haar-dev/haar/environments/prod-plan/variables/AWS_DEPLOY") for p, _ in variables), \
        "the plan environment never sees the deploy role"


# --- the image: built once, pushed by digest ------------------------------------------------

def oci_archive(path, manifests):
    index = json.dumps({"schemaVersion": 2, "manifests": manifests}).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("index.json")
        info.size = len(index)
        tar.addfile(info, io.BytesIO(index))
    return path


DIGEST = "sha256:" + "1f" * 32
MANIFEST = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 1}


def test_oci_digest_reads_the_one_manifest(tmp_path):
    ok = oci_archive(tmp_path / "ok.tar", [MANIFEST])
    proc = run([PY, str(ROOT / "packaging" / "oci-digest"), str(ok)])
    assert proc.returncode == 0 and proc.stdout.strip() == DIGEST
    two = oci_archive(tmp_path / "two.tar", [MANIFEST, MANIFEST])
    assert "exactly one image" in run([PY, str(ROOT / "packaging" / "oci-digest"), str(two)]).stderr
    index = oci_archive(tmp_path / "idx.tar", [dict(MANIFEST, mediaType="application/vnd.oci.image.index.v1+json")])
    assert "--provenance=false" in run([PY, str(ROOT / "packaging" / "oci-digest"), str(index)]).stderr
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    assert run([PY, str(ROOT / "packaging" / "oci-digest"), str(tmp_path / "junk.tar")]).returncode == 1


def push(tmp_path, env):
    base = {"PATH": f"{FAKES}:{os.environ['PATH']}", "FAKE_SKOPEO": str(tmp_path),
            "FAKE_AWS": str(tmp_path / "aws.json"), "AWS_REGION": "eu-west-1",
            "IMAGE_ARCHIVE": str(oci_archive(tmp_path / "image.oci.tar", [MANIFEST])),
            "IMAGE_REPOSITORY": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/haar-dev",
            "IMAGE_DIGEST": DIGEST, "IMAGE_TAG": "0123456789abcdef"}
    (tmp_path / "aws.json").write_text("{}")
    base.update(env)
    return run(["bash", str(ROOT / "packaging" / "push-image")], env=base)


def test_push_image_pushes_once_and_checks_the_digest(tmp_path):
    proc = push(tmp_path, {})
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "registry.json").read_text()) == \
        {"123456789012.dkr.ecr.eu-west-1.amazonaws.com/haar-dev": {"0123456789abcdef": DIGEST}}
    copy = [json.loads(line) for line in (tmp_path / "log").read_text().splitlines() if '"copy"' in line][0]
    assert "--preserve-digests" in copy
    again = push(tmp_path, {})
    assert again.returncode == 0 and "already there" in again.stdout


def test_push_image_refuses_another_image_or_a_rewritten_one(tmp_path):
    other = push(tmp_path, {"IMAGE_DIGEST": "sha256:" + "2e" * 32})
    assert other.returncode == 1 and "refusing to push another image" in other.stderr
    rewritten = push(tmp_path, {"FAKE_SKOPEO_REWRITE": "1"})
    assert rewritten.returncode == 1 and "not " + DIGEST in rewritten.stderr
    bad = push(tmp_path, {"IMAGE_REPOSITORY": "docker.io/library/haar"})
    assert bad.returncode == 1 and "not an ECR repository URL" in bad.stderr
