#!/usr/bin/python3
"""Writes bench/results/dynamodb.{json,md} from the raw outputs of bench/dynamodb/run.

usage: report.py WORK_DIR OUT_PREFIX SECONDS MILLION
"""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402

SERVERS = ("haar", "dynalite_memory", "dynalite_disk")
MODES = ("put", "get", "update", "query")
TARGET_RATIO = 3.0


def load_lines(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    except OSError:
        pass
    return out


def main():
    work, out, seconds, million = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    paths = {}
    for s in SERVERS:
        for r in load_lines(os.path.join(work, f"paths-{s}.jsonl")):
            paths.setdefault(s, {})[f"{r['mode']}/{r['connections']}"] = r
    commit = benchreport.commit()
    loadavg = benchreport.loadavg(os.path.join(work, "loadavg"))
    rtt = benchreport.load_json(os.path.join(work, "rtt.json"), {})
    sync = {w["way"]: w for w in load_lines(os.path.join(work, "sync.jsonl"))}
    ratios = {}
    for key in [f"{m}/{c}" for m in MODES for c in (1, 16)]:
        h = paths.get("haar", {}).get(key, {}).get("per_s")
        for peer in ("dynalite_memory", "dynalite_disk"):
            p = paths.get(peer, {}).get(key, {}).get("per_s")
            ratios[f"{key}/{peer}"] = round(h / p, 2) if h and p else None
    m = benchreport.load_json(os.path.join(work, "million.json"), {})
    mq = benchreport.load_json(os.path.join(work, "query-million.json"), {})
    sq = benchreport.load_json(os.path.join(work, "query-small.json"), {})
    mq16 = benchreport.load_json(os.path.join(work, "query-million-16.json"), {})
    size = benchreport.load_json(os.path.join(work, "million-size.json"), {})
    fill = benchreport.load_json(os.path.join(work, "fill-million.json"), {})
    doc = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": commit, "seconds": float(seconds), "loadavg": loadavg,
        "rtt_tcp": rtt, "sync": sync,
        "paths": paths, "ratios_vs_peer": ratios, "target_ratio": TARGET_RATIO,
        "rss_after_paths_kb": benchreport.load_json(os.path.join(work, "rss-haar.json"), {}).get("rss_kb"),
        "million": {**m, "fill": fill, "state": size, "query_1m": mq, "query_1k": sq,
                    "query_1m_16": mq16} if million else None,
    }
    benchreport.write_json(out + ".json", doc, indent=1)
    lines = [
        "# DynamoDB benchmark", "",
        f"Run {doc['date']} at commit `{commit}` by `bench/dynamodb/run` ({seconds} s per point, "
        f"closed loop, HTTP/1.1 keep-alive, SigV4 on every request, load generator "
        f"`bench/dynamodb/load.c` on the same 2 cores). Load average at start: {loadavg}. "
        f"One round trip between two processes over loopback TCP, nothing else done "
        f"(`bench/machine/rtt tcp any`): p50 {rtt.get('p50_us', '?')} µs, p99 "
        f"{rtt.get('p99_us', '?')} µs. One 4 KB pwrite + "
        f"fdatasync (`bench/machine/sync`), overwriting: min "
        f"{sync.get('overwrite', {}).get('min_us', '?')} µs, p50 "
        f"{sync.get('overwrite', {}).get('p50_us', '?')} µs; appending: min "
        f"{sync.get('append', {}).get('min_us', '?')} µs, p50 "
        f"{sync.get('append', {}).get('p50_us', '?')} µs.", "",
        "haar answers a write only once it is fsync'ed (group commit); dynalite keeps items in "
        "memory (memdown) or in LevelDB without syncing (`--path`). Items of ~100 bytes; "
        "keys random among the filled ones; Query reads 10 items of "
        "a 100-item partition.", "",
        "| path | clients | haar req/s | p50 µs | p99 µs | dynalite (memory) req/s | p50 | p99 | "
        "dynalite (disk) req/s | p50 | p99 | × memory | × disk |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        for c in (1, 16):
            key = f"{mode}/{c}"
            row = [mode, str(c)]
            for s in SERVERS:
                r = paths.get(s, {}).get(key, {})
                row += [str(r.get("per_s", "–")), str(r.get("p50_us", "–")), str(r.get("p99_us", "–"))]
            row += [str(ratios.get(f"{key}/dynalite_memory")), str(ratios.get(f"{key}/dynalite_disk"))]
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", f"Target: ≥ {TARGET_RATIO}× dynalite on every path while durable.", ""]
    if million:
        lines += [
            "## 1,000,000 items of 1 KB", "",
            f"- written with BatchWriteItem (8 clients): {fill.get('items_per_s', '?')} items/s; "
            f"state dir {round(size.get('state_bytes', 0) / 1e9, 2)} GB",
            f"- restart to ready: **{m.get('ready_s', '?')} s** (target ≤ 3 s); RSS at ready "
            f"**{round(m.get('rss_ready_kb', 0) / 1024)} MB**, after the queries "
            f"{round(m.get('rss_after_kb', 0) / 1024)} MB (target ≤ 200 MB)",
            f"- Query of 10 items, 1 client: on the 1M-item table {mq.get('per_s', '?')} req/s, "
            f"p50 {mq.get('p50_us', '?')} µs, p99 {mq.get('p99_us', '?')} µs; on a 1,000-item "
            f"table {sq.get('per_s', '?')} req/s, p50 {sq.get('p50_us', '?')} µs, p99 "
            f"{sq.get('p99_us', '?')} µs; 16 clients on the 1M table {mq16.get('per_s', '?')} req/s", ""]
    with open(out + ".md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
