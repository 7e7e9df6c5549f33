"""bench/machine/report.py WORK RESULTS: the machine's floor (bench/machine/run) as
RESULTS/machine.json and machine.md."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402


def main():
    work, results = sys.argv[1], sys.argv[2]
    rtt = [json.loads(line) for line in open(os.path.join(work, "rtt.jsonl")) if line.strip()]
    sync = [json.loads(line) for line in open(os.path.join(work, "sync.jsonl")) if line.strip()]
    doc = {"commit": benchreport.commit(), "loadavg": benchreport.loadavg(os.path.join(work, "loadavg")),
           "cpus": os.cpu_count(), "kernel": os.uname().release, "rtt": rtt, "sync": sync}
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
    lines += ["", "One durable 4 KB write (`bench/machine/sync`: pwrite, then fdatasync; "
              "*overwrite*: pages the file holds, as a WAL after it wraps; *append*: the file "
              "grows):", "",
              "| way | writes | min µs | p10 µs | p50 µs | p99 µs |", "|---|---:|---:|---:|---:|---:|"]
    for w in sync:
        lines.append(f"| {w['way']} | {w['writes']} | {w['min_us']} | {w['p10_us']} | "
                     f"{w['p50_us']} | {w['p99_us']} |")
    lines.append("")
    with open(os.path.join(results, "machine.md"), "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
