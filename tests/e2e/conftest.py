"""End-to-end fixtures: one live `haar up` per session, real clients against it.

The daemon is started from the repository root (so infra/envs/dev/terraform.tfvars.json is
found) as `$HAAR_BUILD_DIR/bin/haar up --env dev --state-dir <tmp> --api-port P --aws-port Q`;
tests talk to it with Debian's AWS CLI (/usr/bin/aws), boto3 and curl. Every subprocess and
every wait is bounded. Functions created by tests get unique names and are deleted afterwards.
"""

import json
import os

import pytest

from e2e_helpers import (BUILD, HAAR, REPO, ROLE, RUNTIME, AwsCli, Daemon, boto_client, make_zip,
                         require_haar, unique_name, wait_active, zip_files)


@pytest.fixture(scope="session", autouse=True)
def _isolated_aws_config(tmp_path_factory):
    """Keeps boto3 (in this process) away from any ~/.aws configuration."""
    d = tmp_path_factory.mktemp("awsconfig")
    (d / "config").write_text("")
    (d / "credentials").write_text("")
    saved = {k: os.environ.get(k) for k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                                            "AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
    os.environ["AWS_CONFIG_FILE"] = str(d / "config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(d / "credentials")
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_DEFAULT_PROFILE", None)
    yield d
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def haar(tmp_path_factory):
    """The session's daemon. Teardown: SIGTERM must end it with status 0."""
    if not HAAR.is_file():
        pytest.fail(f"{HAAR} does not exist: build first (HAAR_BUILD_DIR={BUILD})")
    d = Daemon(tmp_path_factory.mktemp("haar"))
    try:
        d.wait_ready()
    except AssertionError:
        d.stop(5)
        raise
    yield d
    rc = d.stop()
    assert rc == 0, f"haar up exited with {rc} after SIGTERM (expected 0)\n{d.stderr_tail()}"


@pytest.fixture(scope="module")
def manual_haar(tmp_path_factory):
    """A daemon on a manual clock that starts at 2026-01-01T00:00:00Z (tests move it). Its
    environment's schedule is off: tests that move the clock by hours would otherwise fire
    the producer every 5 minutes of it (the schedule's own tests use a daemon of their own)."""
    require_haar()
    work = tmp_path_factory.mktemp("manual")
    cfg = json.loads((REPO / "infra" / "envs" / "dev" / "terraform.tfvars.json").read_text())
    cfg["schedule"]["enabled"] = False
    (work / "config.json").write_text(json.dumps(cfg))
    d = Daemon(work, extra_args=("--clock", "manual", "--config", str(work / "config.json")))
    try:
        d.wait_ready()
    except AssertionError:
        d.stop(5)
        raise
    yield d
    assert d.stop() == 0, d.stderr_tail()


# The files that take longest (mostly Terraform waiting on its own provider, and the kill -9
# rounds) run first, so that with `make e2e`'s workers they do not become the tail of the run.
# The order within a file is kept: its tests share a daemon and build on each other.
LONGEST_FIRST = ("test_terraform_sqs.py", "test_terraform_client.py",
                 "test_terraform_dynamodb.py", "test_tasks_kill.py", "test_terraform_lambda2.py",
                 "test_dynamodb_crash.py", "test_events.py")


def pytest_collection_modifyitems(session, config, items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: each file's own order stays


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attaches the tail of the session daemon's stderr to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and "haar" in getattr(item, "funcargs", {}):
        d = item.funcargs["haar"]
        rep.sections.append(("haar stderr (tail)", d.stderr_tail(30)))


@pytest.fixture(scope="session")
def lam(haar):
    return boto_client("lambda", haar.aws_url)


@pytest.fixture(scope="session")
def logs_client(haar):
    return boto_client("logs", haar.aws_url)


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory):
    d = tmp_path_factory.mktemp("clihome")
    (d / "config").write_text("")
    (d / "credentials").write_text("")
    return d


@pytest.fixture(scope="session")
def aws(haar, cli_home):
    return AwsCli(haar.aws_url, cli_home)


@pytest.fixture
def make_function(lam):
    """Creates uniquely named functions from fixture bootstraps; deletes them afterwards."""
    created = []

    def create(fixture, prefix=None, timeout=3, memory=128, env=None, handler="bootstrap",
               wait=True):
        name = unique_name(prefix or fixture.replace("_", "-"))
        kwargs = dict(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler=handler,
                      Code={"ZipFile": make_zip(fixture)}, Timeout=timeout, MemorySize=memory)
        if env:
            kwargs["Environment"] = {"Variables": env}
        lam.create_function(**kwargs)
        created.append(name)
        if wait:
            wait_active(lam, name)
        return name

    yield create
    for name in created:
        try:
            lam.delete_function(FunctionName=name)
        except Exception:
            pass


@pytest.fixture
def make_managed(lam):
    """Creates uniquely named functions of a managed runtime (python3.x, nodejsNN.x) from
    {file: source}; deletes them afterwards. Returns the name."""
    created = []

    def create(runtime, handler, files, prefix="managed", timeout=3, memory=128, env=None,
               layers=None, publish=False):
        name = unique_name(prefix)
        kwargs = dict(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                      Code={"ZipFile": zip_files(files)}, Timeout=timeout, MemorySize=memory,
                      Publish=publish)
        if env:
            kwargs["Environment"] = {"Variables": env}
        if layers:
            kwargs["Layers"] = layers
        lam.create_function(**kwargs)
        created.append(name)
        wait_active(lam, name)
        return name

    yield create
    for name in created:
        try:
            lam.delete_function(FunctionName=name)
        except Exception:
            pass


@pytest.fixture
def scratch(tmp_path):
    """A directory functions may write side-effect files into."""
    os.chmod(tmp_path, 0o777)
    return tmp_path


@pytest.fixture(scope="session")
def echo_fn(lam):
    """A healthy echo function shared by tests that check the daemon still serves."""
    name = unique_name("shared-echo")
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="bootstrap",
                        Code={"ZipFile": make_zip("echo")}, Timeout=5)
    wait_active(lam, name)
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except Exception:
        pass

