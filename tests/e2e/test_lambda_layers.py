"""Layers with boto3 and the AWS CLI: PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn,
ListLayers, ListLayerVersions, DeleteLayerVersion, Add/Remove/GetLayerVersionPolicy; functions
with up to five layers merged in order into /opt (later layers win), the limits AWS sets; and
a C function (haar's own runtime client) whose shared library comes from a layer, found
through /opt/lib as AWS's LD_LIBRARY_PATH has it."""
import json
import shutil
import subprocess
import urllib.request

import pytest

from e2e_helpers import (BUILD, REGION, REPO, client_error, health, invoke, unique_name,
                         zip_files)

PY = "python3.11"
ACCOUNT = "000000000000"


@pytest.fixture
def layers(lam):
    """Publishes layers from {file: text}; deletes every version afterwards."""
    made = []

    def publish(files, name=None, **kw):
        name = name or unique_name("layer")
        v = lam.publish_layer_version(LayerName=name, Content={"ZipFile": zip_files(files)}, **kw)
        made.append((name, v["Version"]))
        return v

    yield publish
    for name, version in made:
        try:
            lam.delete_layer_version(LayerName=name, VersionNumber=version)
        except Exception:
            pass


def test_layer_api(haar, lam, layers):
    name = unique_name("layer-api")
    v1 = layers({"python/a.py": "A = 1\n"}, name=name, Description="first",
                CompatibleRuntimes=[PY], CompatibleArchitectures=["x86_64"], LicenseInfo="MIT")
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert v1["Version"] == 1
    assert v1["LayerArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}"
    assert v1["LayerVersionArn"] == v1["LayerArn"] + ":1"
    assert (v1["Description"], v1["LicenseInfo"]) == ("first", "MIT")
    assert v1["CompatibleRuntimes"] == [PY] and v1["CompatibleArchitectures"] == ["x86_64"]
    assert v1["Content"]["CodeSize"] > 0 and v1["Content"]["CodeSha256"]
    # Content.Location is a presigned URL of the package
    with urllib.request.urlopen(v1["Content"]["Location"], timeout=10) as r:
        assert r.read()[:2] == b"PK"
    v2 = layers({"python/a.py": "A = 2\n"}, name=name, CompatibleRuntimes=["nodejs20.x"])
    assert v2["Version"] == 2
    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert got["LayerVersionArn"] == v1["LayerVersionArn"]
    by_arn = lam.get_layer_version_by_arn(Arn=v2["LayerVersionArn"])
    assert by_arn["Version"] == 2
    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    only_py = lam.list_layer_versions(LayerName=name, CompatibleRuntime=PY)["LayerVersions"]
    assert [v["Version"] for v in only_py] == [1]
    mine = [l for l in lam.list_layers()["Layers"] if l["LayerName"] == name]
    assert len(mine) == 1 and mine[0]["LatestMatchingVersion"]["Version"] == 2
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName=name, VersionNumber=9)
    # policies
    st = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="all",
                                          Action="lambda:GetLayerVersion", Principal="*")
    assert json.loads(st["Statement"])["Resource"] == v1["LayerVersionArn"]
    pol = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert [s["Sid"] for s in json.loads(pol["Policy"])["Statement"]] == ["all"]
    assert pol["RevisionId"] == st["RevisionId"]
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="all",
                                         Action="lambda:GetLayerVersion", Principal="*")
    with pytest.raises(lam.exceptions.ClientError) as e:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="x",
                                         Action="lambda:InvokeFunction", Principal="*")
    assert client_error(e)[1] == "ValidationException"
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="all")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    lam.delete_layer_version(LayerName=name, VersionNumber=1)
    lam.delete_layer_version(LayerName=name, VersionNumber=1)  # again: nothing to do
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version(LayerName=name, VersionNumber=1)
    # numbers are not reused
    assert layers({"x.txt": "x"}, name=name)["Version"] == 3


def test_layers_merge_in_order_and_later_ones_win(lam, layers, make_managed):
    base = layers({"python/conf.py": "WHO = 'base'\n", "python/only_base.py": "X = 1\n"})
    over = layers({"python/conf.py": "WHO = 'over'\n"})
    name = make_managed(PY, "app.handler", {"app.py": (
        "import conf, only_base, os\n"
        "def handler(e, c):\n"
        "    return {'who': conf.WHO, 'x': only_base.X,\n"
        "            'opt': sorted(os.listdir(os.environ.get('HAAR_OPT_DIR', '/opt')))}\n")},
        prefix="merge", layers=[base["LayerVersionArn"], over["LayerVersionArn"]])
    got = json.loads(invoke(lam, name, {})[2])
    assert (got["who"], got["x"]) == ("over", 1)
    assert got["opt"] == ["python"]
    # the other order: the other winner
    lam.update_function_configuration(FunctionName=name, Layers=[over["LayerVersionArn"],
                                                                  base["LayerVersionArn"]])
    assert json.loads(invoke(lam, name, {})[2])["who"] == "base"
    # no layers: no module
    lam.update_function_configuration(FunctionName=name, Layers=[])
    status, _, body, ferr = invoke(lam, name, {})
    assert ferr == "Unhandled" and json.loads(body)["errorType"] == "Runtime.ImportModuleError"


def test_layer_limits(lam, layers, make_managed):
    v = layers({"a.txt": "a"})
    name = make_managed(PY, "app.handler", {"app.py": "def handler(e, c): return 1\n"},
                        prefix="limits")
    arn = v["LayerVersionArn"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_function_configuration(FunctionName=name, Layers=[arn] * 6)
    assert client_error(e)[2] == "Cannot reference more than 5 layers."
    missing = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:no-such-layer:1"
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_function_configuration(FunctionName=name, Layers=[missing])
    assert client_error(e)[2] == f"Layer version {missing} does not exist."
    v2 = layers({"b.txt": "b"}, name=v["LayerArn"].rsplit(":", 1)[1])
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_function_configuration(FunctionName=name, Layers=[arn, v2["LayerVersionArn"]])
    assert "are versions of the same layer" in client_error(e)[2]
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as e:
        lam.update_function_configuration(
            FunctionName=name, Layers=[arn.replace(f":{REGION}:", ":us-east-1:")])
    assert client_error(e)[2] == ("Layers are not in the same region as the function. Layers "
                                  f"are expected to be in region {REGION}.")


def test_the_aws_cli_publishes_a_layer(aws, lam, tmp_path):
    name = unique_name("layer-cli")
    (tmp_path / "layer.zip").write_bytes(zip_files({"bin/tool": "#!/bin/sh\necho tool\n"}))
    out = aws.json("lambda", "publish-layer-version", "--layer-name", name, "--zip-file",
                   f"fileb://{tmp_path / 'layer.zip'}", "--compatible-runtimes", "provided.al2023")
    try:
        assert out["Version"] == 1
        listed = aws.json("lambda", "list-layer-versions", "--layer-name", name)
        assert [v["Version"] for v in listed["LayerVersions"]] == [1]
    finally:
        lam.delete_layer_version(LayerName=name, VersionNumber=1)


C_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "runtime/runtime.h"

const char *greet(void); /* from libgreet.so, which a layer brings in /opt/lib */

static int handle(const struct runtime_invocation *inv, const char *event, size_t len,
                  struct buf *out, struct runtime_error *err)
{
    (void)inv; (void)event; (void)len; (void)err;
    char text[256];
    int n = snprintf(text, sizeof text, "{\"greeting\":\"%s\"}", greet());
    buf_append(out, text, (size_t)n);
    return 0;
}

int main(void) { return runtime_main(NULL, handle, NULL); }
"""

C_LIB = r"""const char *greet(void) { return "hello from a shared library in a layer"; }"""


def test_a_c_function_links_a_shared_library_from_a_layer(lam, layers, tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    libs = [BUILD / "libhaar_runtime.a", BUILD / "libhaar_core.a"]
    if cc is None or not all(p.is_file() for p in libs):
        pytest.skip("a C compiler or haar's runtime libraries are missing")
    (tmp_path / "greet.c").write_text(C_LIB)
    (tmp_path / "main.c").write_text(C_MAIN)
    (tmp_path / "lib").mkdir()
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(tmp_path / "lib" / "libgreet.so"),
                    str(tmp_path / "greet.c")], check=True, timeout=60)
    # linked against the library by name only: at run time it is found through
    # LD_LIBRARY_PATH's /opt/lib, where the layer puts it
    link = [cc, "-o", str(tmp_path / "bootstrap"), str(tmp_path / "main.c"),
            f"-I{REPO / 'src'}", *map(str, libs), f"-L{tmp_path / 'lib'}", "-lgreet",
            "-ljansson", "-lcrypto"]
    if subprocess.run(link, capture_output=True, timeout=60).returncode != 0:
        # a sanitizer build's libraries (make sanitize) link with the sanitizers
        subprocess.run(link + ["-fsanitize=address,undefined"], check=True, timeout=60)
    lib = layers({"lib/libgreet.so": (tmp_path / "lib" / "libgreet.so").read_bytes()})
    name = unique_name("c-layer")
    code = zip_files({"bootstrap": (tmp_path / "bootstrap").read_bytes()},
                     modes={"bootstrap": 0o755})
    lam.create_function(FunctionName=name, Runtime="provided.al2023",
                        Role="arn:aws:iam::000000000000:role/r", Handler="bootstrap",
                        Code={"ZipFile": code}, Layers=[lib["LayerVersionArn"]])
    try:
        status, _, body, ferr = invoke(lam, name, {})
        assert (status, ferr) == (200, None), body
        assert json.loads(body) == {"greeting": "hello from a shared library in a layer"}
        # without the layer the library is not found: the runtime cannot start
        lam.update_function_configuration(FunctionName=name, Layers=[])
        status, _, body, ferr = invoke(lam, name, {})
        assert ferr == "Unhandled" and json.loads(body)["errorType"] == "Runtime.ExitError"
    finally:
        lam.delete_function(FunctionName=name)


def test_health_says_how_layers_reach_opt(haar):
    mode = health(haar)["lambda"]["layers"]
    assert mode in ("mount namespace (/opt)", "environment (HAAR_OPT_DIR, PATH, LD_LIBRARY_PATH)")


def test_without_a_mount_namespace_the_merge_comes_through_variables(tmp_path_factory):
    """HAAR_LAYERS_MOUNT=off (what a machine that allows no mount namespace gets): the layers'
    merge is where HAAR_OPT_DIR says, its bin/ on PATH and lib/ on LD_LIBRARY_PATH, and the
    Python client puts its python/ on sys.path."""
    from e2e_helpers import Daemon, boto_client
    d = Daemon(tmp_path_factory.mktemp("optenv"), env={"HAAR_LAYERS_MOUNT": "off"})
    try:
        d.wait_ready()
        assert health(d)["lambda"]["layers"] == ("environment (HAAR_OPT_DIR, PATH, "
                                                 "LD_LIBRARY_PATH)")
        lam = boto_client("lambda", d.aws_url)
        v = lam.publish_layer_version(LayerName="envmode", Content={"ZipFile": zip_files({
            "python/envmod.py": "X = 'from the merge'\n", "bin/tool": "#!/bin/sh\n"})})
        lam.create_function(
            FunctionName="optenv", Runtime=PY, Role="arn:aws:iam::000000000000:role/r",
            Handler="app.handler", Layers=[v["LayerVersionArn"]],
            Code={"ZipFile": zip_files({"app.py": (
                "import envmod, os\n"
                "def handler(e, c):\n"
                "    opt = os.environ['HAAR_OPT_DIR']\n"
                "    return {'x': envmod.X, 'opt': opt,\n"
                "            'path': os.environ['PATH'].split(':')[-1] == opt + '/bin',\n"
                "            'ld': os.environ['LD_LIBRARY_PATH'].split(':')[-1] == opt + '/lib',\n"
                "            'tool': os.path.exists(opt + '/bin/tool')}\n")})})
        got = json.loads(invoke(lam, "optenv", {})[2])
        assert got["x"] == "from the merge" and got["opt"] != "/opt"
        assert got["path"] and got["ld"] and got["tool"]
    finally:
        assert d.stop() == 0
