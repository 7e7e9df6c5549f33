#!/usr/bin/python3
"""Writes bench/results/events.{json,md} from the raw outputs of bench/events/run.

usage: report.py WORK_DIR OUT_PREFIX SECONDS
"""
import datetime
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402

TARGETS = {
    "putevents_vs_moto": 20.0,  # haar's PutEvents rate over moto's, same run
    "day_ms": 100.0,            # a day of rate(5 minutes) on the manual clock
}


def ratio(a, b):
    return round(a / b, 1) if a and b else None


def main():
    work, out, seconds = sys.argv[1], sys.argv[2], int(float(sys.argv[3]))
    put = {(who, c): benchreport.load_json(os.path.join(work, f"put-{who}-{c}.json"))
           for who in ("haar", "moto") for c in (1, 16)}
    sched = benchreport.load_json(os.path.join(work, "schedule.json"))
    day = benchreport.load_json(os.path.join(work, "day.json"))["days"]
    commit = benchreport.commit() or "?"
    load_before = benchreport.loadavg(os.path.join(work, "loadavg"))
    try:
        moto_version = open(os.path.join(work, "moto.version")).read().strip()
    except OSError:
        moto_version = None
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    best = {who: max((put[(who, c)] or {}).get("requests_per_s", 0) for c in (1, 16))
            for who in ("haar", "moto")}
    vs = {c: ratio((put[("haar", c)] or {}).get("requests_per_s"),
                   (put[("moto", c)] or {}).get("requests_per_s")) for c in (1, 16)}
    n = sched["expressions"]
    per_process_ms = sched["processes_ns"] / 1e6 / n
    day_ms = min(d["advance_ms"] for d in day)
    result = {
        "when": now, "commit": commit, "cpus": os.cpu_count(), "load_before": load_before,
        "seconds": seconds, "moto": moto_version,
        "putevents": {f"{who}_{c}": put[(who, c)] for (who, c) in put},
        "putevents_vs_moto": vs,
        "schedule_next": {**sched, "per_process_ms": round(per_process_ms, 3),
                          "batch_ms": round(sched["batch_ns"] / 1e6, 1),
                          "batch_repeat_ms": round(sched["batch4_ns"] / 4e6, 1)},
        "day": day,
        "targets": {
            "putevents_vs_moto": {"target": TARGETS["putevents_vs_moto"],
                                  "measured": ratio(best["haar"], best["moto"]),
                                  "met": bool(ratio(best["haar"], best["moto"]) and
                                              ratio(best["haar"], best["moto"]) >= TARGETS["putevents_vs_moto"])},
            "day_ms": {"target": TARGETS["day_ms"], "measured": day_ms,
                       "met": day_ms <= TARGETS["day_ms"]},
        },
    }
    benchreport.write_json(out + ".json", result)

    md = [
        "# EventBridge benchmark", "",
        f"{now}, commit {commit}, {os.cpu_count()} CPUs, kernel {platform.release()}, 1-minute load "
        f"average {load_before} before the run (anything above ~0.5 means other work shared the "
        "CPUs). Written by `bench/events/run` (`make bench`); all traffic on 127.0.0.1.", "",
        "## PutEvents against 100 rules with event patterns", "",
        "Batches of 10 entries (sources `bench.s0`..`bench.s9`, a small detail), SigV4-signed, "
        f"HTTP/1.1 keep-alive, closed loop, {seconds} s after 1 s of warm-up (`putevents.c`). "
        "The 100 rules (`setup_rules.py`) each name one source, one detail-type, a numeric and "
        "a prefix condition on the detail: every entry is tried against 10 rules and matches one. "
        "The rules have no targets (moto's Lambda targets need Docker, and a target's delivery is not what is compared), "
        "so this measures ingestion and matching. Same run, same load generator, "
        f"moto {moto_version or '(absent)'} (`python3 -m moto.server`).", "",
        "| server | connections | requests/s | events/s | p50 µs | p90 µs | p99 µs | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in (1, 16):
        for who in ("haar", "moto"):
            r = put[(who, c)]
            if r is None:
                md.append(f"| {who} | {c} | – | – | – | – | – | – |")
                continue
            md.append(f"| {who} | {c} | {r['requests_per_s']:.0f} | {r['events_per_s']:.0f} | "
                      f"{r['p50_us']} | {r['p90_us']} | {r['p99_us']} | {r['errors']} |")
    md += ["", f"haar / moto: ×{vs[1]} (1 connection), ×{vs[16]} (16 connections); best rates "
           f"×{ratio(best['haar'], best['moto'])} (target ≥ ×{TARGETS['putevents_vs_moto']:.0f}).", "",
           "## `haar schedule next` over "
           f"{n} expressions", "",
           "Rates and crons of every kind (`L`, `W`, `#`, ranges, steps, years), three fire times "
           "each from 2026-11-24T12:00:00Z.", "",
           "| form | total | per expression |", "|---|---:|---:|",
           f"| one process per expression (the CLI contract, from a shell loop) | "
           f"{sched['processes_ns'] / 1e9:.2f} s | {per_process_ms:.3f} ms |",
           f"| `haar schedule next -` (expressions on stdin) | {sched['batch_ns'] / 1e6:.1f} ms | "
           f"{sched['batch_ns'] / 1e3 / n:.2f} µs |",
           f"| the same, mean of 4 more runs | {sched['batch4_ns'] / 4e6:.1f} ms | "
           f"{sched['batch4_ns'] / 4e3 / n:.2f} µs |", "",
           "## A day of rate(5 minutes) on the manual clock", "",
           "`haar up --clock manual` with the dev environment (its schedule rule is rate(5 minutes), "
           "its target the producer, given reserved concurrency 2 here); "
           "`POST /_haar/clock {\"advance_seconds\": 86400}` fires 288 times per day, each with its "
           "time in the event. *advance* is the POST's wall time; *delivered* runs until the "
           "day's 288 Event invocations were accepted by Lambda.", "",
           "| day | advance ms | delivered ms | timers run |", "|---:|---:|---:|---:|"]
    for i, d in enumerate(day, 1):
        md.append(f"| {i} | {d['advance_ms']} | {d['delivered_ms']} | {d['timers_run']} |")
    md += ["", f"Best day: {day_ms} ms (target ≤ {TARGETS['day_ms']:.0f} ms).", ""]
    with open(out + ".md", "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
