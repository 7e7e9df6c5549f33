"""Fixtures for the runtime client tests: a fake Runtime API and function trees on disk."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_runtime_api import FakeRuntimeAPI  # noqa: E402


@pytest.fixture
def api():
    with FakeRuntimeAPI() as a:
        yield a


def write_tree(root, files):
    """Writes {relative path: text} under root (creating directories); returns root."""
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


@pytest.fixture
def function(tmp_path):
    """Makes a function: function({"lambda_function.py": "..."}, opt={...}) writes the code
    under tmp/task and layer files under tmp/opt (HAAR_OPT_DIR); returns the task root."""

    def make(files, opt=None):
        task = write_tree(tmp_path / "task", files)
        write_tree(tmp_path / "opt", opt or {})
        return task

    return make


@pytest.fixture
def running():
    """Starts runtime processes and stops whatever is left of them at the end."""
    procs = []

    def track(proc):
        procs.append(proc)
        return proc

    yield track
    for p in procs:
        p.stop()
