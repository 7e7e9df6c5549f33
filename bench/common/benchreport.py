"""What every bench/<area>/report.py writes the same way: the commit measured, the load
average the run script kept in its work folder, and the JSON files it reads and writes.

A report imports it with bench/common on its path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
"""
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def commit():
    """The checkout's short HEAD, "" when git cannot tell."""
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def loadavg(path):
    """The 1-minute load average in a copy of /proc/loadavg, "?" when there is none."""
    try:
        with open(path) as f:
            return (f.read().split() or ["?"])[0]
    except OSError:
        return "?"


def load_json(path, default=None):
    """The JSON document in path, default when it is missing or not JSON."""
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return default


def write_json(path, doc, indent=2):
    """Writes doc to path, indented, with a final newline."""
    with open(path, "w") as f:
        json.dump(doc, f, indent=indent)
        f.write("\n")
