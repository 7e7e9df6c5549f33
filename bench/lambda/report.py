#!/usr/bin/python3
"""Writes bench/results/lambda.{json,md} from the raw outputs of bench/lambda/run.

usage: report.py WORK_DIR OUT_PREFIX SECONDS ROUNDS
"""
import datetime
import json
import os
import platform
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402

TARGETS = {
    "warm_p50_us": 150,          # warm Invoke p50, 1 client
    "invokes_per_s": 10000,      # 16 clients on 2 cores
    "c_cold_start_ms": 5.0,      # spawn -> first GET /next, p50
}


def load(path):
    with open(path) as f:
        return json.loads(f.read())


def ratio(a, b):
    return round(a / b, 1) if a and b else None


def main():
    work, out, seconds, rounds = sys.argv[1], sys.argv[2], int(float(sys.argv[3])), int(sys.argv[4])
    warm_all = {lang: {c: load(os.path.join(work, f"warm-{lang}-{c}.json")) for c in (1, 16)}
                for lang in ("c", "python")}
    warm = warm_all["c"]
    cold = {v["name"]: v for v in load(os.path.join(work, "cold.json"))["variants"]}
    loop = load(os.path.join(work, "loop.json"))
    commit = benchreport.commit()
    loadavg = benchreport.loadavg(os.path.join(work, "loadavg"))
    c, py = cold.get("c", {}), cold.get("python", {})
    fa = cold.get("python_fastapi")
    checks = {
        "warm_p50_us": (warm[1]["p50_us"], warm[1]["p50_us"] <= TARGETS["warm_p50_us"]),
        "invokes_per_s": (warm[16]["invokes_per_s"],
                          warm[16]["invokes_per_s"] >= TARGETS["invokes_per_s"]),
        "c_cold_start_ms": (c.get("next_p50_ms"),
                            c.get("next_p50_ms", 1e9) <= TARGETS["c_cold_start_ms"]),
    }
    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit,
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "loadavg_1m_before": loadavg},
        "seconds": seconds,
        "rounds": rounds,
        "warm_invoke": {lang: {str(c): v for c, v in w.items()} for lang, w in warm_all.items()},
        "cold_start": cold,
        "runtime_loop": loop,
        "ratios": {
            "warm_p50_python_over_c": ratio(warm_all["python"][1]["p50_us"], warm[1]["p50_us"]),
            "warm_invokes_per_s_c_over_python_1": ratio(warm[1]["invokes_per_s"],
                                                        warm_all["python"][1]["invokes_per_s"]),
            "warm_invokes_per_s_c_over_python_16": ratio(warm[16]["invokes_per_s"],
                                                         warm_all["python"][16]["invokes_per_s"]),
            "cold_next_python_over_c": ratio(py.get("next_p50_ms"), c.get("next_p50_ms")),
            "cold_first_response_python_over_c": ratio(py.get("first_response_p50_ms"),
                                                       c.get("first_response_p50_ms")),
            "cold_next_fastapi_over_c": ratio(fa["next_p50_ms"], c.get("next_p50_ms")) if fa else None,
            "rss_python_over_c": ratio(py.get("max_rss_kb_p50"), c.get("max_rss_kb_p50")),
            "runtime_loop_ours_over_libcurl": ratio(loop["ours_per_s"], loop["libcurl_per_s"]),
        },
        "targets": {k: {"target": TARGETS[k], "measured": v[0], "met": v[1]}
                    for k, v in checks.items()},
    }
    managed_path = os.path.join(work, "managed.json")
    managed = load(managed_path) if os.path.exists(managed_path) else None
    if managed is not None:
        result["managed"] = managed
        result["targets"].update(managed_targets(managed))
    benchreport.write_json(out + ".json", result)

    r = result["ratios"]
    lines = [
        "# Lambda benchmark",
        "",
        f"{result['date']}, commit {commit or '?'}, {os.cpu_count()} CPUs, kernel {platform.release()},"
        f" 1-minute load average {loadavg} before the run (anything above ~0.5 means other work"
        " shared the CPUs). Written by `bench/lambda/run` (`make bench`); all traffic on 127.0.0.1.",
        "",
        "## Warm Invoke through `haar up`",
        "",
        "`POST /2015-03-31/functions/haar-dev-api/invocations` (SigV4-signed, an API Gateway v2"
        " `GET /health` event), HTTP/1.1 keep-alive, closed loop, "
        f"{seconds} s after 1 s of warm-up (`invoke_load.c`). The same daemon first hosts the C"
        " bootstrap, then `python_bootstrap.py` as the function's bootstrap (`--functions-dir`).",
        "",
        "| function | clients | invokes/s | p50 µs | p90 µs | p99 µs | max µs | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lang in ("c", "python"):
        for k in (1, 16):
            w = warm_all[lang][k]
            lines.append(f"| {lang} | {k} | {w['invokes_per_s']:.0f} | {w['p50_us']} | "
                         f"{w['p90_us']} | {w['p99_us']} | {w['max_us']} | {w['errors']} |")
    lines += [
        "",
        f"C vs Python, warm: p50 ×{r['warm_p50_python_over_c']} lower, invokes/s"
        f" ×{r['warm_invokes_per_s_c_over_python_1']} (1 client),"
        f" ×{r['warm_invokes_per_s_c_over_python_16']} (16 clients).",
        "",
        "## Cold start: C bootstrap vs Python",
        "",
        f"{rounds} rounds each, interleaved, against a fake Runtime API (`coldstart.c`):"
        " *next* is process spawn → first `GET /next` received; *first response* adds the first"
        " event and its `POST /response`. Python is `python_bootstrap.py` (a plain `http.client`"
        " runtime client, the least a Python function pays); *python_fastapi* also imports FastAPI"
        " and builds the app, as the seed's handler does.",
        "",
        "| bootstrap | next p50 ms | next p99 ms | first response p50 ms | p99 ms | peak RSS KiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, v in cold.items():
        lines.append(f"| {name} | {v['next_p50_ms']:.2f} | {v['next_p99_ms']:.2f} | "
                     f"{v['first_response_p50_ms']:.2f} | {v['first_response_p99_ms']:.2f} | "
                     f"{v['max_rss_kb_p50']:.0f} |")
    lines += [
        "",
        f"Python / C: cold start ×{r['cold_next_python_over_c']}, first response"
        f" ×{r['cold_first_response_python_over_c']}, memory ×{r['rss_python_over_c']}"
        + (f"; FastAPI / C cold start ×{r['cold_next_fastapi_over_c']}" if fa else "") + ".",
        "",
        "## The runtime client's HTTP layer alone",
        "",
        f"{loop['invocations']} invocations (GET /next + POST /response) against an in-process"
        " minimal Runtime API (`loop.c`): src/runtime's own HTTP/1.1 client vs the same loop on"
        " libcurl with a reused handle.",
        "",
        "| client | invocations/s | µs per invocation |",
        "|---|---:|---:|",
        f"| haar runtime (own HTTP) | {loop['ours_per_s']:.0f} | {loop['ours_us_per_invocation']:.1f} |",
        f"| libcurl | {loop['libcurl_per_s']:.0f} | {loop['libcurl_us_per_invocation']:.1f} |",
        "",
        f"Ours / libcurl: ×{r['runtime_loop_ours_over_libcurl']}.",
        "",
        "## Targets",
        "",
        "| target | goal | measured | met |",
        "|---|---:|---:|---|",
    ]
    names = {"warm_p50_us": "warm Invoke p50 (1 client), µs",
             "invokes_per_s": "invokes/s (16 clients)",
             "c_cold_start_ms": "C cold start p50, ms",
             "python_cold_over_floor": "Python cold start under haar / floor",
             "node_cold_over_floor": "Node.js cold start under haar / floor",
             "python_warm_over_sls": "Python warm invokes/s, haar / serverless-offline",
             "node_warm_over_sls": "Node.js warm invokes/s, haar / serverless-offline"}
    for k, t in result["targets"].items():
        goal = ("≥ " if k in ("invokes_per_s", "python_warm_over_sls", "node_warm_over_sls")
                else "≤ ") + str(t["target"])
        meas = t["measured"]
        meas = f"{meas:.2f}" if isinstance(meas, float) else str(meas)
        lines.append(f"| {names[k]} | {goal} | {meas} | {'yes' if t['met'] else 'no'} |")
    if managed is not None:
        lines[lines.index("## Targets"):lines.index("## Targets")] = managed_lines(managed, c)
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


def managed_targets(m):
    """Issue #14's targets: cold start within 1.3× of the floor, warm ≥ 3× serverless-offline."""
    t = {}
    floors, cold = m.get("floors", {}), m.get("haar", {}).get("cold", {})
    for lang in ("python", "node"):
        floor = floors.get(f"{lang}_floor", {}).get("first_response_p50_ms")
        got = cold.get(lang, {}).get("p50_ms")
        r = round(got / floor, 2) if got and floor else None
        t[f"{lang}_cold_over_floor"] = {"target": 1.3, "measured": r,
                                        "met": r is not None and r <= 1.3}
        sls = m.get("sls", {}).get("warm", {}).get(lang, {}).get("1", m.get("sls", {}).get(
            "warm", {}).get(lang, {}).get(1))
        ours = m.get("haar", {}).get("warm", {}).get(lang, {}).get("1", m.get("haar", {}).get(
            "warm", {}).get(lang, {}).get(1))
        w = round(ours["invokes_per_s"] / sls["invokes_per_s"], 1) \
            if sls and ours and sls.get("invokes_per_s") else None
        t[f"{lang}_warm_over_sls"] = {"target": 3, "measured": w, "met": w is not None and w >= 3}
    return t


def managed_lines(m, c_cold):
    """The managed runtimes' section of lambda.md (c_cold: the C bootstrap's cold start from
    section (b), its floor and its client at once)."""
    floors, haar, sls = m.get("floors", {}), m.get("haar", {}), m.get("sls", {})
    warm = lambda side, lang, c: (side.get("warm", {}).get(lang, {}).get(str(c)) or  # noqa: E731
                                  side.get("warm", {}).get(lang, {}).get(c) or {})
    lines = [
        "## Managed runtimes: Python and Node.js beside serverless-offline",
        "",
        f"{m['python']}, Node.js {m['node']}, the same hello handler everywhere. *Floor*: the"
        " interpreter starting, importing what a minimal runtime loop needs and the handler, and"
        " serving one event (spawn → first response, `coldstart.c`'s fake Runtime API); *client*:"
        " haar's runtime client alone, the same measure. *Cold under haar*: an `Invoke` that has"
        " to start an environment (each round first changes the function's configuration, which"
        " retires its environments), request sent → response read, through the daemon."
        " serverless-offline 13.9 (serverless 3.40) runs the same handlers; its cold figure is an"
        " `Invoke` on its Lambda port with `reloadHandler` (each invocation loads the handler"
        f" afresh). {m['rounds']} rounds each, interleaved.",
        "",
        "| runtime | floor ms | haar client alone ms | cold under haar ms (/ floor) |"
        " serverless-offline cold ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, label in (("python", "Python"), ("node", "Node.js"), ("c", "C (haar's)")):
        floor = floors.get(f"{lang}_floor", c_cold if lang == "c" else {}).get(
            "first_response_p50_ms")
        client = floors.get(f"{lang}_client", c_cold if lang == "c" else {}).get(
            "first_response_p50_ms")
        cold = haar.get("cold", {}).get(lang, {}).get("p50_ms")
        sc = sls.get("cold", {}).get(lang, {}).get("p50_ms")
        ratio_s = f" (×{cold / floor:.2f})" if cold and floor else ""
        fmt = lambda v: f"{v:.1f}" if isinstance(v, (int, float)) else "–"  # noqa: E731
        lines.append(f"| {label} | {fmt(floor)} | {fmt(client)} | {fmt(cold)}{ratio_s} |"
                     f" {fmt(sc)} |")
    lines += [
        "",
        f"Warm invoke, {m['seconds']} s each, `invoke_load.c` against haar's Lambda API and"
        " serverless-offline's Lambda port (the same signed requests):",
        "",
        "| runtime | clients | haar invokes/s | haar p50 µs | serverless-offline invokes/s |"
        " serverless-offline p50 µs | haar / serverless-offline |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for lang, label in (("python", "Python"), ("node", "Node.js"), ("c", "C (haar's)")):
        for c in (1, 4):
            h, s_ = warm(haar, lang, c), warm(sls, lang, c)
            r = (f"×{h['invokes_per_s'] / s_['invokes_per_s']:.1f}"
                 if h.get("invokes_per_s") and s_.get("invokes_per_s") else "–")
            lines.append(f"| {label} | {c} | {h.get('invokes_per_s', '–')} | {h.get('p50_us', '–')}"
                         f" | {s_.get('invokes_per_s', '–')} | {s_.get('p50_us', '–')} | {r} |")
    if m.get("sls_error"):
        lines += ["", f"serverless-offline: {m['sls_error']}"]
    lines.append("")
    return lines


if __name__ == "__main__":
    main()
