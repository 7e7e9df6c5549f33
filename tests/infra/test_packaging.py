"""Packaging, container image, workflows and docs: packaging/build and check-glibc run
for real on binaries compiled here (including one that needs glibc 2.36 and must be
refused), the Dockerfile's structure is checked (docker is not available to build it),
the workflows' wiring is asserted, and the architecture picture is regenerated from the
configuration and compared with the committed one."""

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import ENVS, ROOT, haar_binary, load_tfvars

PKG = ROOT / "packaging"
WORKFLOWS = ROOT / ".github" / "workflows"
HOST_ARCH = {"x86_64": "x86_64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
FOREIGN_ARCH = "arm64" if HOST_ARCH == "x86_64" else "x86_64"
TIMEOUT = 120

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")


def run(cmd, **kw):
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def compile_c(path, source, *libs):
    src = path.with_suffix(".c")
    src.write_text(source)
    proc = run(["cc", "-O1", "-o", str(path), str(src), *libs])
    assert proc.returncode == 0, proc.stderr
    src.unlink()
    return path


HELLO = """
#include <stdio.h>
#include <jansson.h>
int main(void) { json_t *j = json_pack("{s:s}", "ok", "yes"); char *s = json_dumps(j, 0);
  puts(s); free(s); json_decref(j); return 0; }
"""
NEW_GLIBC = """
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("%u\\n", arc4random()); return 0; }
"""


@pytest.fixture
def fake_build(tmp_path):
    build = tmp_path / "build"
    for fn in ("api", "worker", "producer"):
        (build / "functions" / fn).mkdir(parents=True)
        compile_c(build / "functions" / fn / "bootstrap", HELLO.replace("yes", fn), "-ljansson")
    return build


def package(build, dist, **env):
    e = dict(os.environ, HAAR_BUILD_DIR=str(build), DIST_DIR=str(dist))
    e.pop("PACKAGE_ARCH", None)
    e.update(env)
    return run([str(PKG / "build")], env=e)


# --- check-glibc ---------------------------------------------------------------------

def test_check_glibc_passes_and_fails_for_real():
    true_bin = shutil.which("true")
    ok = run([str(PKG / "check-glibc"), "--max", "99.0", true_bin])
    assert ok.returncode == 0 and "ok (newest GLIBC_" in ok.stdout
    bad = run([str(PKG / "check-glibc"), "--max", "2.0", true_bin])
    assert bad.returncode == 1 and "FAIL" in bad.stderr
    assert re.search(r"GLIBC_2\.\d+ \w+", bad.stderr), bad.stderr


def test_check_glibc_rejects_a_non_elf(tmp_path):
    f = tmp_path / "not-elf"
    f.write_text("#!/bin/sh\n")
    proc = run([str(PKG / "check-glibc"), str(f)])
    assert proc.returncode == 1 and "not an ELF" in proc.stderr


@needs_cc
def test_a_binary_needing_glibc_2_36_is_refused(tmp_path, fake_build):
    probe = run(["ldd", "--version"]).stdout.splitlines()[0]
    if not re.search(r"2\.(3[6-9]|[4-9]\d)", probe):
        pytest.skip(f"host glibc is older than 2.36 ({probe}): arc4random is not there to misuse")
    compile_c(fake_build / "functions" / "worker" / "bootstrap", NEW_GLIBC)
    proc = package(fake_build, tmp_path / "dist")
    assert proc.returncode != 0
    assert "GLIBC_2.36 arc4random" in proc.stderr
    assert "needs a glibc newer than 2.34" in proc.stderr
    assert not (tmp_path / "dist" / "worker.zip").exists()


# --- packaging/build -----------------------------------------------------------------

@needs_cc
def test_package_builds_lean_zips_and_the_layer(tmp_path, fake_build):
    dist = tmp_path / "dist"
    proc = package(fake_build, dist)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    for fn in ("api", "worker", "producer"):
        with zipfile.ZipFile(dist / f"{fn}.zip") as z:
            infos = z.infolist()
            assert [i.filename for i in infos] == ["bootstrap"], "bootstrap alone, at the root"
            mode = (infos[0].external_attr >> 16) & 0o777
            assert mode == 0o755
            assert z.read("bootstrap")[:4] == b"\x7fELF"
    with zipfile.ZipFile(dist / "layer.zip") as z:
        names = z.namelist()
    assert "lib/libjansson.so.4" in names
    # opened at run time for https (src/aws/http.c), so not in any bootstrap's ldd
    assert "lib/libcurl.so.4" in names
    assert all(n.startswith("lib/") for n in names)
    assert not any(re.match(r"lib/(libc|libm|ld-linux|libpthread)\b", n) for n in names), names
    manifest = (dist / "manifest.txt").read_text()
    assert "lib/libjansson.so.4 <- " in manifest
    # The packaged bootstrap still runs (stripped, libraries from the layer folder).
    env = dict(os.environ, LD_LIBRARY_PATH=str(dist / "layer" / "lib"))
    out = run([str(dist / "functions" / "api" / "bootstrap")], env=env)
    assert out.returncode == 0 and '"ok": "api"' in out.stdout


@needs_cc
def test_package_is_reproducible(tmp_path, fake_build):
    sums = []
    for i in range(2):
        dist = tmp_path / f"dist{i}"
        assert package(fake_build, dist).returncode == 0
        sums.append({z.name: hashlib.sha256(z.read_bytes()).hexdigest() for z in dist.glob("*.zip")})
    assert sums[0] == sums[1] and len(sums[0]) == 4


@needs_cc
def test_package_refuses_missing_bootstrap_and_wrong_architecture(tmp_path, fake_build):
    (fake_build / "functions" / "producer" / "bootstrap").unlink()
    proc = package(fake_build, tmp_path / "d1")
    assert proc.returncode != 0 and "producer/bootstrap missing" in proc.stderr
    compile_c(fake_build / "functions" / "producer" / "bootstrap", HELLO, "-ljansson")
    proc = package(fake_build, tmp_path / "d2", PACKAGE_ARCH=FOREIGN_ARCH)
    assert proc.returncode != 0 and f"not {FOREIGN_ARCH}" in proc.stderr
    proc = package(fake_build, tmp_path / "d3", PACKAGE_ARCH=HOST_ARCH)
    assert proc.returncode == 0, proc.stderr


def test_the_built_functions_pass_the_glibc_check():
    """The real bootstraps (HAAR_BUILD_DIR): on Debian 12 (glibc 2.36) this fails if the
    code uses a symbol newer than 2.34 — which would break on provided.al2023."""
    build = haar_binary().parent.parent
    bootstraps = [build / "functions" / fn / "bootstrap" for fn in ("api", "worker", "producer")]
    missing = [str(b) for b in bootstraps if not b.is_file()]
    if missing:
        pytest.skip(f"functions not built: {missing}")
    proc = run([str(PKG / "check-glibc"), "--max", "2.34", *map(str, bootstraps)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- Dockerfile (structure only: no docker here) -------------------------------------

INSTRUCTIONS = {"FROM", "RUN", "COPY", "ARG", "ENV", "WORKDIR", "ENTRYPOINT", "CMD", "LABEL",
                "USER", "EXPOSE", "SHELL", "HEALTHCHECK", "ADD", "VOLUME", "STOPSIGNAL", "ONBUILD"}


def dockerfile_instructions(text):
    logical, cur = [], ""
    for line in text.splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        cur += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            logical.append(cur.strip())
            cur = ""
    assert not cur, "dangling line continuation"
    return [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if " " in l else "") for l in logical]


def test_dockerfile_structure():
    ins = dockerfile_instructions((PKG / "Dockerfile").read_text())
    assert all(k in INSTRUCTIONS for k, _ in ins), [k for k, _ in ins if k not in INSTRUCTIONS]
    args = dict(a.split("=", 1) for k, a in ins if k == "ARG" and "=" in a)
    # base images pinned by digest (item 10); the tag stays for the reader and Dependabot
    assert re.fullmatch(r"public\.ecr\.aws/amazonlinux/amazonlinux:2023@sha256:[0-9a-f]{64}", args["BUILD_IMAGE"])
    assert re.fullmatch(r"public\.ecr\.aws/lambda/provided:al2023@sha256:[0-9a-f]{64}", args["RUNTIME_IMAGE"])
    build = yaml.safe_load((WORKFLOWS / "build.yml").read_text())
    assert build["jobs"]["functions"]["container"] == args["BUILD_IMAGE"], \
        "the zips and the image are built on the same pinned base"
    froms = [a for k, a in ins if k == "FROM"]
    assert froms == ["${BUILD_IMAGE} AS build", "${RUNTIME_IMAGE}"]
    # ARGs used in FROM must be declared before the first FROM.
    first_from = next(i for i, (k, _) in enumerate(ins) if k == "FROM")
    assert {a.split("=")[0] for k, a in ins[:first_from] if k == "ARG"} >= {"BUILD_IMAGE", "RUNTIME_IMAGE"}
    final = ins[max(i for i, (k, _) in enumerate(ins) if k == "FROM"):]
    copies = [a for k, a in final if k == "COPY"]
    assert all(c.startswith("--from=build ") for c in copies), copies
    assert any("/opt/lib/" in c for c in copies) and any("${LAMBDA_TASK_ROOT}/" in c for c in copies)
    assert not any(k == "RUN" for k, _ in final), "the runtime stage only copies"
    entry = [a for k, a in final if k == "ENTRYPOINT"]
    cmd = [a for k, a in final if k == "CMD"]
    assert json.loads(entry[-1]) == ["/var/task/dispatch"] and json.loads(cmd[-1]) == ["api"]
    runs = [a for k, a in ins if k == "RUN"]
    assert any("dnf install" in r and "dnf clean all" in r for r in runs)
    assert any("--target fn_api fn_worker fn_producer" in r for r in runs)
    assert any("packaging/build" in r for r in runs), "the image is packaged like the zips"
    assert not any(k == "ADD" for k, _ in ins) and ":latest" not in (PKG / "Dockerfile").read_text()
    # Every COPY source exists in the repository and gets past the .dockerignore.
    ignore = (PKG / "Dockerfile.dockerignore").read_text().split()
    for k, a in ins:
        if k == "COPY" and not a.startswith("--from"):
            for src in a.split()[:-1]:
                assert (ROOT / src).exists(), src
                assert f"!{src}" in ignore or f"!{src.rstrip('/')}/" in ignore, src


def test_dispatch_execs_the_named_function(tmp_path):
    root = tmp_path / "task"
    (root / "worker").mkdir(parents=True)
    (root / "worker" / "bootstrap").write_text("#!/bin/sh\necho \"worker pid $$\"\n")
    (root / "worker" / "bootstrap").chmod(0o755)
    env = dict(os.environ, LAMBDA_TASK_ROOT=str(root))
    proc = run(["sh", "-c", f'echo "shell pid $$"; exec "{PKG / "dispatch"}" worker'], env=env)
    lines = proc.stdout.split()
    assert proc.returncode == 0 and lines[2] == lines[5], "exec: the bootstrap replaces the shell"
    bad = run([str(PKG / "dispatch"), "nope"], env=env)
    assert bad.returncode == 64 and "must be api, worker or producer" in bad.stderr


# --- workflows -------------------------------------------------------------------------

def load_yaml(name):
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads `on` as true
    return data


def steps_text(job):
    return "\n".join(json.dumps(s) for s in job["steps"])


PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def all_workflows():
    return {p.name: load_yaml(p.name) for p in sorted(WORKFLOWS.glob("*.yml"))}


def test_every_action_is_pinned_by_commit_sha():
    """Item 11: every third-party action, in every job (those holding id-token: write
    above all), is pinned by a full commit SHA; reusable workflows are local."""
    seen = 0
    for name, wf in all_workflows().items():
        for job_name, job in wf["jobs"].items():
            if "uses" in job:
                assert job["uses"].startswith("./.github/workflows/"), f"{name}/{job_name}"
                continue
            for step in job.get("steps", []):
                if "uses" in step:
                    assert PINNED.match(step["uses"]), f"{name}/{job_name}: {step['uses']}"
                    seen += 1
            image = job.get("container")
            if image and image != "debian:12":
                assert "@sha256:" in image, f"{name}/{job_name}: container {image} not pinned by digest"
    assert seen >= 15


def test_ci_runs_make_test_and_scans_the_plans():
    ci = load_yaml("ci.yml")
    job = ci["jobs"]["test"]
    assert job["container"] == "debian:12"
    assert any(s.get("run", "").strip() == "make test" for s in job["steps"])
    assert "terraform providers mirror" in steps_text(job), "the infra plans must run in CI"
    assert job["env"]["HAAR_PLAN_JSON_DIR"].endswith("/plans")
    scan = ci["jobs"]["iac-scan"]
    assert scan["needs"] == "test"
    trivy = [s for s in scan["steps"] if s.get("uses", "").startswith("aquasecurity/trivy-action@")]
    assert len(trivy) == 1 and trivy[0]["with"]["scan-type"] == "config" and trivy[0]["with"]["scan-ref"] == "plans"
    assert trivy[0]["with"]["exit-code"] == "1"
    assert (ROOT / trivy[0]["with"]["trivyignores"]).is_file()
    # real plans on pull requests from this repository, read-only, once the tests pass
    plan = ci["jobs"]["plan"]
    assert plan["uses"] == "./.github/workflows/plan-env.yml" and plan["with"]["mode"] == "pull-request"
    assert set(plan["needs"]) == {"test", "build"}
    assert "head.repo.full_name == github.repository" in plan["if"]
    assert plan["strategy"]["matrix"]["environment"] == list(ENVS)


def test_accepted_static_analysis_findings_are_documented():
    ignored = yaml.safe_load((ROOT / "infra" / ".trivyignore.yaml").read_text())["misconfigurations"]
    readme = (ROOT / "infra" / "README.md").read_text()
    section = readme[readme.index("## Accepted static-analysis findings"):]
    documented = set(re.findall(r"\bAVD-AWS-\d{4}\b", section))
    ids = {i["id"] for i in ignored}
    assert ids == documented, f"ignored {sorted(ids)} but documented {sorted(documented)}"
    assert all(len(i["statement"]) > 40 for i in ignored)


def test_build_once_on_al2023_and_the_image_by_digest():
    build = load_yaml("build.yml")
    assert "workflow_call" in build["on"]
    fns = build["jobs"]["functions"]
    assert fns["container"].startswith("public.ecr.aws/amazonlinux/amazonlinux:2023@sha256:")
    assert fns["runs-on"] == "${{ needs.config.outputs.runner }}"
    text = steps_text(fns)
    assert "PACKAGE_ARCH=${{ needs.config.outputs.arch }}" in text and "packaging/build" in text
    assert "--target fn_api fn_worker fn_producer" in text
    arch_step = steps_text(build["jobs"]["config"])
    assert "deploy.architecture" in arch_step and "ubuntu-24.04-arm" in arch_step
    image = build["jobs"]["image"]
    assert "packaging/build-image" in steps_text(image)
    assert build["on"]["workflow_call"]["outputs"]["image_digest"]["value"] == "${{ jobs.image.outputs.digest }}"


def test_deploy_plans_then_applies_each_environment_in_turn():
    """Item 9: per environment, a plan job (read-only role) then an apply job in the
    protected environment; no workflow-wide concurrency."""
    deploy = load_yaml("deploy.yml")
    jobs = deploy["jobs"]
    assert "concurrency" not in deploy, "a run waiting for prod's approval must not block dev"
    assert deploy["permissions"] == {"contents": "read"}
    assert jobs["build"] == {"needs": "github-settings", "uses": "./.github/workflows/build.yml"}
    assert "infra/scripts/github-settings check" in steps_text(jobs["github-settings"])
    assert jobs["github-settings"]["permissions"] == {"actions": "read", "contents": "read"}
    previous = "build"
    for env in ENVS:
        plan, apply = jobs[f"plan-{env}"], jobs[f"apply-{env}"]
        assert plan["uses"] == "./.github/workflows/plan-env.yml"
        assert plan["with"] == {"environment": env, "mode": "deploy",
                                "image_digest": "${{ needs.build.outputs.image_digest }}"}
        assert previous in (plan["needs"] if isinstance(plan["needs"], list) else [plan["needs"]])
        assert apply["uses"] == "./.github/workflows/apply-env.yml"
        assert apply["needs"] == ["build", f"plan-{env}"]
        assert apply["with"]["environment"] == env
        for job in (plan, apply):
            assert job["permissions"] == {"id-token": "write", "contents": "read"}
        previous = f"apply-{env}"


def test_plan_env_uploads_the_plan_the_apply_applies():
    plan_wf, apply_wf = load_yaml("plan-env.yml"), load_yaml("apply-env.yml")
    plan, apply = plan_wf["jobs"]["plan"], apply_wf["jobs"]["apply"]
    # the roles trust these two files by name (job_workflow_ref), in these environments
    access = (ROOT / "infra" / "modules" / "deploy_access" / "main.tf").read_text()
    assert "/apply-env.yml@refs/heads/" in access and "/plan-env.yml@refs/heads/" in access
    assert plan["environment"] == "${{ inputs.environment }}-plan"
    assert apply["environment"] == "${{ inputs.environment }}"
    assert "environment:${var.environment}-plan:job_workflow_ref" in access
    assert "environment:${var.environment}:job_workflow_ref" in access
    creds = lambda job: [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert [c["with"]["role-to-assume"] for c in creds(plan)] == ["${{ vars.AWS_PLAN_ROLE_ARN }}"]
    assert [c["with"]["role-to-assume"] for c in creds(apply)] == ["${{ vars.AWS_DEPLOY_ROLE_ARN }}"]
    text = steps_text(plan)
    assert "-out=tfplan" in text and "terraform show -no-color tfplan" in text and "GITHUB_STEP_SUMMARY" in text
    assert "-refresh-only -detailed-exitcode" in text, "drift mode"
    upload = [s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")][0]
    assert upload["with"]["name"] == "plan-${{ inputs.environment }}-${{ inputs.mode }}-${{ github.sha }}"
    assert "tfplan" in upload["with"]["path"] and "plan.txt" in upload["with"]["path"]
    downloads = [s for s in apply["steps"] if s.get("uses", "").startswith("actions/download-artifact@")]
    assert "plan-${{ inputs.environment }}-deploy-${{ github.sha }}" in [d["with"]["name"] for d in downloads]
    names = [s.get("name", "") for s in apply["steps"]]
    order = [next(i for i, n in enumerate(names) if n.startswith(p))
             for p in ("terraform init", "terraform apply", "Shift traffic", "Smoke test")]
    assert order == sorted(order)
    applied = apply["steps"][order[1]]["run"]
    assert applied.strip() == "terraform apply -input=false tfplan", "exactly the reviewed plan, nothing else"
    assert "-auto-approve" not in steps_text(apply) and "terraform plan" not in steps_text(apply)
    # one queue per environment, shared by a deploy's plan and apply
    assert apply["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    assert "format('deploy-{0}', inputs.environment)" in plan["concurrency"]["group"]
    for job in (plan, apply):
        assert job["runs-on"] == "ubuntu-24.04", "linux_amd64: the lock files' platform"
        assert "-lockfile=readonly" in steps_text(job)


def test_drift_detection_is_scheduled_for_every_environment():
    drift = load_yaml("drift.yml")
    assert drift["on"]["schedule"] and "workflow_dispatch" in drift["on"]
    job = drift["jobs"]["drift"]
    assert job["uses"] == "./.github/workflows/plan-env.yml" and job["with"]["mode"] == "drift"
    assert job["strategy"]["matrix"]["environment"] == list(ENVS)


# --- docs --------------------------------------------------------------------------------

def load_docs_script():
    loader = importlib.machinery.SourceFileLoader("haar_docs", str(ROOT / "scripts" / "docs"))
    spec = importlib.util.spec_from_loader("haar_docs", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("env", ENVS)
def test_docs_picture_comes_from_the_config(env, tmp_path):
    docs = load_docs_script()
    cfg = load_tfvars(env)
    dot = docs.build_dot(cfg)
    p = f"{cfg['project']}-{env}"
    for name in (f"{p}-api", f"{p}-worker", f"{p}-producer", f"{p}-tasks", f"{p}-tasks-dlq",
                 f"{p}-schedule", cfg["schedule"]["expression"], f"after {cfg['queue']['max_receive_count']} receives"):
        assert name in dot, name
    if shutil.which("dot") is None:
        pytest.skip("Graphviz dot missing")
    proc = run(["dot", "-Tsvg", "-o", str(tmp_path / "a.svg")], input=dot)
    assert proc.returncode == 0, proc.stderr
    assert "<svg" in (tmp_path / "a.svg").read_text()


def test_committed_picture_is_up_to_date():
    committed = ROOT / "docs" / "architecture.dot"
    assert committed.is_file(), "run make docs"
    assert committed.read_text() == load_docs_script().build_dot(load_tfvars("dev")), \
        "docs/architecture.dot is stale: run make docs"
    for ext in ("svg", "png"):
        assert (ROOT / "docs" / f"architecture.{ext}").stat().st_size > 1000
