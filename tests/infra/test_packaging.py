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
    assert args["BUILD_IMAGE"] == "public.ecr.aws/amazonlinux/amazonlinux:2023"
    assert args["RUNTIME_IMAGE"] == "public.ecr.aws/lambda/provided:al2023"
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


def test_ci_runs_make_test():
    ci = load_yaml("ci.yml")
    job = ci["jobs"]["test"]
    assert job["container"] == "debian:12"
    assert any(s.get("run", "").strip() == "make test" for s in job["steps"])
    assert "terraform providers mirror" in steps_text(job), "the infra plans must run in CI"


def test_deploy_builds_on_al2023_and_chains_environments():
    deploy = load_yaml("deploy.yml")
    jobs = deploy["jobs"]
    build = jobs["build"]
    assert build["container"] == "public.ecr.aws/amazonlinux/amazonlinux:2023"
    assert build["runs-on"] == "${{ needs.config.outputs.runner }}"
    text = steps_text(build)
    assert "PACKAGE_ARCH=${{ needs.config.outputs.arch }}" in text and "packaging/build" in text
    assert "--target fn_api fn_worker fn_producer" in text
    arch_step = steps_text(jobs["config"])
    assert "deploy.architecture" in arch_step and "ubuntu-24.04-arm" in arch_step
    chain = {"dev": "build", "stage": "dev", "prod": "stage"}
    for env in ENVS:
        assert jobs[env]["needs"] == ["config", chain[env]]
        assert jobs[env]["uses"] == "./.github/workflows/deploy-env.yml"
        assert jobs[env]["with"]["environment"] == env
        assert jobs[env]["with"]["architecture"] == "${{ needs.config.outputs.arch }}"
        assert jobs[env]["permissions"]["id-token"] == "write"
    assert deploy["permissions"] == {"contents": "read"}


def test_deploy_env_assumes_the_role_and_plans_before_applying():
    wf = load_yaml("deploy-env.yml")
    assert "workflow_call" in wf["on"]
    job = wf["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment }}"
    assert wf["permissions"]["id-token"] == "write"
    creds = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert len(creds) == 1 and creds[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    names = [s.get("name", "") for s in job["steps"]]
    order = [next(i for i, n in enumerate(names) if n.startswith(f"terraform {v}"))
             for v in ("fmt", "init", "validate", "plan", "apply")]
    assert order == sorted(order)
    assert job["steps"].index(creds[0]) < order[1], "credentials before terraform init"
    apply = job["steps"][order[4]]["run"]
    assert "tfplan" in apply, "apply exactly what was planned"
    text = steps_text(job)
    assert "$GITHUB_SHA" in text and "--push" in text and "packaging/Dockerfile" in text
    assert job["runs-on"] == "${{ inputs.runner }}" and "inputs.architecture" in text
    assert job["env"]["TF_VAR_image_tag"] == "${{ github.sha }}"


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
