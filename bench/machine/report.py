"""bench/machine/report.py WORK RESULTS: the machine's floor (bench/machine/run) as
RESULTS/machine.json and machine.md."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402


def dsync_us(text):
    """µs per write from dd's summary line ("819200 bytes ... copied, 0.04 s, ..."), or None."""
    m = re.search(r"copied, ([0-9.]+) s", text)
    return round(float(m.group(1)) / 200 * 1e6, 1) if m else None


def main():
    work, results = sys.argv[1], sys.argv[2]
    rtt = [json.loads(line) for line in open(os.path.join(work, "rtt.jsonl")) if line.strip()]
    dsync = open(os.path.join(work, "dsync.txt")).read().strip()
    doc = {"commit": benchreport.commit(), "loadavg": benchreport.loadavg(os.path.join(work, "loadavg")),
           "cpus": os.cpu_count(), "kernel": os.uname().release, "rtt": rtt,
           "dsync_4k_write_us": dsync_us(dsync), "dsync": dsync}
    benchreport.write_json(os.path.join(results, "machine.json"), doc)
    lines = ["# The machine's floor", "",
             f"Commit `{doc['commit']}`, {doc['cpus']} CPUs, kernel {doc['kernel']}, load average "
             f"{doc['loadavg']} at start. Written by `bench/machine/run`.", "",
             "One round trip between two processes (`bench/machine/rtt`: a parent writes, a "
             "child reads and writes back, the parent reads; "
             f"{rtt[0]['bytes'] if rtt else '?'} bytes each way). *any*: the scheduler places "
             "both; *same*: both pinned to one CPU; *split*: one on each of two CPUs.", "",
             "| transport | placement | p50 µs | p99 µs | CPU µs per round trip |",
             "|---|---|---:|---:|---:|"]
    for r in rtt:
        lines.append(f"| {r['transport']} | {r['placement']} | {r['p50_us']} | {r['p99_us']} | "
                     f"{r['cpu_us_per_round_trip']} |")
    lines += ["", f"One 4 KB O_DSYNC write (dd, 200 of them): **{doc['dsync_4k_write_us']} µs** "
              f"(`{dsync}`).", ""]
    with open(os.path.join(results, "machine.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
