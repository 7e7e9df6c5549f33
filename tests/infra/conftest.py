"""Shared helpers for the infra checks: the repository's .tf files parsed through
@cdktf/hcl2json (node), the environments' terraform.tfvars.json, and a small evaluator
for the name strings Terraform builds from variables ("${var.name_prefix}-tasks")."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
HERE = Path(__file__).resolve().parent
ENVS = ("dev", "stage", "prod")
LAYERS = ("10_core", "20_infra", "30_app")
NODE_TIMEOUT = 120


def tf_files():
    return sorted(p for p in INFRA.rglob("*.tf") if ".terraform" not in p.parts)


def _node_available():
    return shutil.which("node") and (HERE / "node_modules" / "@cdktf" / "hcl2json").is_dir() \
        and (HERE / "node_modules" / "@cdktf" / "hcl-tools").is_dir()


def run_hcl_tool(mode, files):
    if not _node_available():
        pytest.fail("node or tests/infra/node_modules missing: run scripts/deps (npm install in tests/infra)")
    proc = subprocess.run(["node", str(HERE / "hcl.js"), mode, *[str(f) for f in files]],
                          capture_output=True, text=True, timeout=NODE_TIMEOUT, cwd=HERE)
    if proc.returncode != 0:
        pytest.fail(f"hcl.js {mode} failed:\n{proc.stderr}")
    return {Path(k): v for k, v in json.loads(proc.stdout).items()}


_PARSED = None


def parsed():
    """{Path: hcl2json document} for every .tf file under infra/ (parsed once)."""
    global _PARSED
    if _PARSED is None:
        _PARSED = run_hcl_tool("parse", tf_files())
    return _PARSED


def module_doc(directory):
    """Merges the documents of one module folder: {"resource": {type: {name: [body]}}, ...}."""
    merged = {"resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {},
              "module": {}, "terraform": [], "provider": {}}
    for path, doc in parsed().items():
        if path.parent != Path(directory):
            continue
        for kind in ("resource", "data"):
            for rtype, by_name in doc.get(kind, {}).items():
                merged[kind].setdefault(rtype, {}).update(by_name)
        for kind in ("variable", "output", "module", "provider"):
            merged[kind].update(doc.get(kind, {}))
        for block in doc.get("locals", []):
            merged["locals"].update(block)
        merged["terraform"].extend(doc.get("terraform", []))
    return merged


def load_tfvars(env):
    with open(INFRA / "envs" / env / "terraform.tfvars.json", encoding="utf-8") as f:
        return json.load(f)


# ------------------------------------------------------------------------------------
# A deliberately small evaluator: string templates whose interpolations are plain
# references (var.x.y, local.x, module.m.out, each.key). Anything else raises, so a
# name built some other way is noticed rather than guessed.

class Unresolvable(Exception):
    pass


_INTERP = re.compile(r"\$\{([^{}]*)\}")
_REF = re.compile(r"^(var|local|module|each)((?:\.[A-Za-z0-9_-]+)+)$")


class Module:
    def __init__(self, directory, var_values, parent=None, module_args=None):
        self.dir = Path(directory)
        self.doc = module_doc(self.dir)
        self.var_values = var_values          # root: tfvars; child: resolved lazily
        self.parent = parent
        self.module_args = module_args or {}
        self.children = {}

    def var(self, name):
        if self.parent is not None and name in self.module_args:
            return self.parent.eval(self.module_args[name])
        if self.parent is None and name in self.var_values:
            return self.var_values[name]
        decl = self.doc["variable"].get(name)
        if decl and "default" in decl[0]:
            return decl[0]["default"]
        raise Unresolvable(f"{self.dir}: var.{name} has no value")

    def child(self, name):
        if name not in self.children:
            block = self.doc["module"][name][0]
            source = (self.dir / block["source"]).resolve()
            self.children[name] = Module(source, {}, parent=self, module_args=block)
        return self.children[name]

    def lookup(self, ref, each_key=None):
        m = _REF.match(ref.strip())
        if not m:
            raise Unresolvable(f"{self.dir}: not a plain reference: {ref}")
        head, path = m.group(1), m.group(2).split(".")[1:]
        if head == "each":
            if path != ["key"] or each_key is None:
                raise Unresolvable(f"each.{'.'.join(path)} outside for_each")
            return each_key
        if head == "var":
            value = self.var(path[0])
            rest = path[1:]
        elif head == "local":
            if path[0] not in self.doc["locals"]:
                raise Unresolvable(f"{self.dir}: local.{path[0]} undefined")
            value = self.eval(self.doc["locals"][path[0]], each_key)
            rest = path[1:]
        else:
            out = self.child(path[0]).doc["output"].get(path[1])
            if not out:
                raise Unresolvable(f"module.{path[0]}.{path[1]} undefined")
            value = self.child(path[0]).eval(out[0]["value"])
            rest = path[2:]
        for key in rest:
            if not isinstance(value, dict) or key not in value:
                raise Unresolvable(f"{ref}: no {key}")
            value = value[key]
        return value

    def eval(self, value, each_key=None):
        if not isinstance(value, str):
            return value
        whole = _INTERP.fullmatch(value)
        if whole:
            return self.lookup(whole.group(1), each_key)
        return _INTERP.sub(lambda m: str(self.lookup(m.group(1), each_key)), value)

    def for_each_keys(self, body):
        """Keys of a for_each over a literal set or a local holding toset([...])."""
        expr = body.get("for_each")
        if expr is None:
            return [None]
        m = re.fullmatch(r"\$\{local\.([A-Za-z0-9_]+)\}", expr)
        if m:
            expr = self.doc["locals"][m.group(1)]
        m = re.fullmatch(r'\$\{toset\(\[([^\]]*)\]\)\}', expr.replace("\n", " "))
        if not m:
            raise Unresolvable(f"for_each not a literal set: {expr}")
        return re.findall(r'"([^"]*)"', m.group(1))


def env_module(env):
    return Module(INFRA / "envs" / env, load_tfvars(env))


def haar_binary():
    build = Path(os.environ.get("HAAR_BUILD_DIR", ROOT / "build"))
    return build / "bin" / "haar"


def terraform_tools():
    """(terraform path, plugin dir) or None when either is absent."""
    tf = shutil.which("terraform")
    mirrors = []
    if Path("/opt").is_dir():
        for d in Path("/opt").iterdir():
            cand = d / "registry.terraform.io"
            if cand.is_dir():
                mirrors.append(d)
    if not tf or not mirrors:
        return None
    return tf, mirrors[0]


def haar_describe(env):
    """haar describe --env ENV --json, or pytest.skip when haar or its verb is missing."""
    binary = haar_binary()
    if not binary.is_file():
        pytest.skip(f"{binary} not built: cannot compare names with haar (set HAAR_BUILD_DIR)")
    help_proc = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=20,
                               cwd=ROOT)
    if "describe" not in help_proc.stdout + help_proc.stderr:
        pytest.skip(f"{binary} has no `describe` verb yet: names not compared with haar")
    proc = subprocess.run([str(binary), "describe", "--env", env, "--json"], capture_output=True,
                          text=True, timeout=20, cwd=ROOT)
    assert proc.returncode == 0, f"haar describe --env {env} --json failed: {proc.stderr}"
    return json.loads(proc.stdout)


