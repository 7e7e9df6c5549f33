#!/usr/bin/python3
"""Writes bench/results/apigw.{json,md} from the raw outputs of bench/apigw/run.

usage: report.py WORK_DIR OUT_PREFIX SECONDS ROUNDS

Each server ran ROUNDS times at each concurrency, the four taking turns. A server's row is its
median round (by rate); a ratio is the median of the rounds' own ratios (haar's run against the
peer's run next to it in time); the p99 target reads haar's median p99.
"""
import datetime
import json
import os
import platform
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402

PEERS = ("haar", "nginx", "uvicorn", "serverless-offline")
TARGETS = {  # issue #10
    "ratio_nginx": 0.2,       # haar's rate ≥ 0.2 × nginx's, same run
    "p99_ms_64": 5.0,         # haar's p99 at 64 connections
    "ratio_uvicorn": 1.5,     # ≥ 1.5 × uvicorn + FastAPI
    "ratio_sls": 10.0,        # ≥ 10 × serverless-offline
}
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s)", text)
    return round(float(m.group(1)) * UNITS[m.group(2)], 3) if m else None


def parse_wrk(path):
    try:
        text = open(path).read()
    except OSError:
        return None
    out = {"rps": None, "requests": 0, "non2xx": 0, "socket_errors": 0}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if m:
        out["rps"] = round(float(m.group(1)))
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    for p in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+(\S+)", text, re.M)
        out[f"p{p}_ms"] = ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(x) for x in m.groups())
    return out if out["rps"] is not None else None


def main():
    work, out = sys.argv[1], sys.argv[2]
    seconds, nrounds = int(float(sys.argv[3])), int(sys.argv[4])
    each = {c: {p: [parse_wrk(os.path.join(work, f"wrk-{p}-{c}-{i}.txt"))
                    for i in range(1, nrounds + 1)] for p in PEERS} for c in (16, 64)}
    runs = {c: {p: benchreport.median_round(each[c][p], "rps") for p in PEERS} for c in (16, 64)}
    cpu = {}
    for c in (16, 64):
        per = []
        for i, run in enumerate(each[c]["haar"], 1):
            spent = benchreport.load_json(os.path.join(work, f"cpu-{c}-{i}.json"), {})
            n = (run or {}).get("requests") or 0
            if n and "daemon" in spent and "functions" in spent:
                per.append((spent["daemon"] * 1e6 / n, spent["functions"] * 1e6 / n))
        if per:
            cpu[c] = {"daemon_us": round(statistics.median(d for d, _ in per), 1),
                      "functions_us": round(statistics.median(f for _, f in per), 1)}
    commit = benchreport.commit()
    loads = {k: benchreport.loadavg(os.path.join(work, f"loadavg.{k}"))
             for k in ("before", "after")}
    rtt = benchreport.load_json(os.path.join(work, "rtt.json"), {})
    envs = None
    try:
        h = json.load(open(os.path.join(work, "health.json")))
        envs = next(f["environments"] for f in h["lambda"]["functions"] if f["name"].endswith("-api"))
    except (OSError, ValueError, StopIteration, KeyError):
        pass

    ratios = {c: {p: benchreport.median(benchreport.ratios(each[c]["haar"], each[c][p], "rps"))
                  for p in PEERS[1:]} for c in (16, 64)}
    p99_64 = benchreport.median([(x or {}).get("p99_ms") for x in each[64]["haar"]])

    def check(value, target, higher=True):
        if value is None:
            return None
        return value >= target if higher else value <= target
    checks = {
        "ratio_nginx": (min(filter(None, [ratios[16]["nginx"], ratios[64]["nginx"]]), default=None),
                        TARGETS["ratio_nginx"]),
        "p99_ms_64": (p99_64, TARGETS["p99_ms_64"]),
        "ratio_uvicorn": (min(filter(None, [ratios[16]["uvicorn"], ratios[64]["uvicorn"]]),
                              default=None), TARGETS["ratio_uvicorn"]),
        "ratio_sls": (min(filter(None, [ratios[16]["serverless-offline"],
                                        ratios[64]["serverless-offline"]]), default=None),
                      TARGETS["ratio_sls"]),
    }
    verdict = {k: check(v, t, k != "p99_ms_64") for k, (v, t) in checks.items()}
    doc = {
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit, "cpus": os.cpu_count(), "kernel": platform.release(),
        "loadavg_before": loads["before"], "loadavg_after": loads["after"],
        "seconds": seconds, "rounds": nrounds, "runs": runs, "ratios": ratios,
        "haar_cpu_per_request": cpu,
        "haar_api_environments": envs, "rtt_tcp": rtt,
        "targets": {k: {"value": v, "target": t, "met": verdict[k]} for k, (v, t) in checks.items()},
    }
    benchreport.write_json(out + ".json", doc, indent=1)
    lines = [
        "# API Gateway benchmark", "",
        f"{doc['when']}, commit {commit}, {doc['cpus']} CPUs, kernel {doc['kernel']}, 1-minute load "
        f"average {loads['before']} before and {loads['after']} after the run (other work on the "
        "machine shares the CPUs, and its speed drifts by a third within minutes: compare the "
        "ratios). Written by `bench/apigw/run` (`make bench`); all traffic on 127.0.0.1.", "",
        f"`GET /health` with wrk (2 threads, HTTP/1.1 keep-alive), {seconds} s per run after a "
        "warm-up at the same concurrency, each begun once the CPUs are quiet (the server before "
        f"may still be working off its load); the four servers take turns, {nrounds} rounds at "
        "each concurrency. A row is the server's median round (its rate in every round beside "
        "it); a ratio is the median of the rounds' ratios, each haar's run against the peer's "
        "next to it in time. **haar**: the environment's API (routes, throttling, "
        "CORS, access logs on, as the dev configuration has them; throttling raised so the load "
        "is not answered 429) → the C `api` function over the Runtime API (one execution "
        f"environment per concurrent request, as Lambda: {envs} at the end) → the answer. "
        "**nginx**: nginx-light, `return 200` from its config, 2 workers. **uvicorn**: uvicorn + "
        "FastAPI (Debian, uvloop + httptools), an `async def` route. **serverless-offline**: "
        "serverless 3.40 + serverless-offline 13.9, a Node handler behind `httpApi`.", "",
        "A request through haar's gateway is two round trips between processes (wrk and the "
        "daemon, the daemon and the function), one to nginx or uvicorn is one. One such round "
        "trip over loopback TCP with nothing else done (`bench/machine/rtt tcp any`, this run): "
        f"p50 {rtt.get('p50_us', '?')} µs, {rtt.get('cpu_us_per_round_trip', '?')} µs of CPU.",
        "",
        "| connections | server | req/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors "
        "| req/s by round |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in (16, 64):
        for p in PEERS:
            x = runs[c].get(p)
            if x is None:
                lines.append(f"| {c} | {p} | skipped | | | | | | |")
                continue
            lines.append(f"| {c} | {p} | {x['rps']} | {x['p50_ms']} | {x['p90_ms']} | "
                         f"{x['p99_ms']} | {x['non2xx']} | {x['socket_errors']} | "
                         f"{benchreport.by_round(x['rounds_rps'])} |")
    lines += ["", "haar / peer (median of the rounds' ratios):", "",
              "| connections | / nginx | / uvicorn | / serverless-offline |", "|---:|---:|---:|---:|"]
    for c in (16, 64):
        rr = ratios[c]
        lines.append(f"| {c} | {rr['nginx']} | {rr['uvicorn']} | {rr['serverless-offline']} |")
    if cpu:
        lines += ["", "haar's CPU per request (daemon, and the function processes together; the "
                  "median of the rounds):", ""]
        for c, v in cpu.items():
            lines.append(f"- {c} connections: daemon {v['daemon_us']} µs, functions "
                         f"{v['functions_us']} µs")
    lines += ["", "Targets (issue #10):", ""]
    names = {"ratio_nginx": "≥ 0.2 × nginx",
             "p99_ms_64": "p99 ≤ 5 ms at 64 connections (median of the rounds)",
             "ratio_uvicorn": "≥ 1.5 × uvicorn", "ratio_sls": "≥ 10 × serverless-offline"}
    for k, (v, t) in checks.items():
        mark = {True: "met", False: "NOT met", None: "not measured"}[verdict[k]]
        lines.append(f"- {names[k]}: {v} — {mark}")
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
