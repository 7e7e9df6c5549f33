"""What every bench/<area>/report.py writes the same way: the commit measured, the load
average the run script kept in its work folder, and the JSON files it reads and writes.

A report imports it with bench/common on its path:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))

Benches that run their servers in turns, several rounds, read them with median_round (a
server's row) and the median of ratios (each round's haar against the peer's run next to it
in time), and print every round's figure with by_round.

Run scripts take the CPU their processes spend through it too:
    benchreport.py cpu --group NAME=PID,PID... ... > before.json     (ticks by group and pid)
    benchreport.py cpu --group NAME=PID,PID... ... --before before.json
                                                   (one JSON object: CPU seconds by group since)
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

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


def ratio(a, b):
    """a / b to two places, None when either is missing or b is 0."""
    return round(a / b, 2) if a and b else None


def ratios(a_rounds, b_rounds, key):
    """Each round's ratio of key, a's round over b's run next to it in time (rounds are dicts,
    or None for a round that did not run); None where either is missing."""
    return [ratio((a or {}).get(key), (b or {}).get(key)) for a, b in zip(a_rounds, b_rounds)]


def median(values):
    """The median of the values that are not None, to two places; None when there are none."""
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def median_round(rounds, key):
    """The round (a dict, or None when it did not run) whose key is the median, the lower middle
    of an even count, with every round's key as rounds_<key>; None when no round ran."""
    done = [x for x in rounds if x is not None]
    if not done:
        return None
    row = sorted(done, key=lambda x: x[key])[(len(done) - 1) // 2]
    return dict(row, **{f"rounds_{key}": [x[key] if x else None for x in rounds]})


def by_round(values, unit=""):
    """Each round's figure, unit after it, comma-separated; "—" for a round that did not run
    (and for no rounds at all)."""
    return ", ".join(f"{v}{unit}" if v is not None else "—" for v in values) or "—"


def ticks(pid):
    """utime + stime of a process (all its threads) in clock ticks, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def cpu_snapshot(groups):
    """{name: {pid: ticks}} of groups given as "NAME=PID,PID..." strings."""
    snap = {}
    for g in groups:
        name, _, pids = g.partition("=")
        snap[name] = {p: t for p in pids.split(",") if p and (t := ticks(p)) is not None}
    return snap


def cpu_seconds_since(before, now):
    """{name: CPU seconds} each group spent from snapshot before to snapshot now. A process
    absent from before started since: all of its CPU counts; one gone since is lost, so the
    figure is a floor."""
    hz = os.sysconf("SC_CLK_TCK")
    return {name: sum(t - before.get(name, {}).get(p, 0) for p, t in pids.items()) / hz
            for name, pids in now.items()}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cpu")
    c.add_argument("--group", action="append", required=True)
    c.add_argument("--before")
    a = p.parse_args()
    now = cpu_snapshot(a.group)
    print(json.dumps(cpu_seconds_since(load_json(a.before, {}), now) if a.before else now))


if __name__ == "__main__":
    sys.exit(main())
