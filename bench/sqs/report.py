"""Writes bench/results/sqs.{md,json} from the files bench/sqs/run left in its work folder."""
import json
import sys
from pathlib import Path

work, md_path, json_path, seconds = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


def load(name):
    p = work / name
    return json.loads(p.read_text()) if p.exists() and p.read_text().strip() else {}


rows, data = [], {"seconds_per_run": float(seconds), "runs": {}}
for mode, label in (("send", "SendMessage"), ("batch", "SendMessageBatch (10)"),
                    ("recvdel", "ReceiveMessage + DeleteMessageBatch")):
    for c in (1, 16):
        h, f = load(f"haar-{mode}-{c}.json"), load(f"fauxqs-{mode}-{c}.json")
        d = load(f"fauxqs_disk-{mode}-{c}.json")
        hm, fm, dm = (h.get("messages_per_s", 0), f.get("messages_per_s", 0),
                      d.get("messages_per_s", 0))
        ratio = hm / fm if fm else 0
        dratio = hm / dm if dm else 0
        data["runs"][f"{mode}-{c}"] = {"haar": h, "fauxqs": f, "fauxqs_disk": d,
                                       "ratio": round(ratio, 2), "ratio_disk": round(dratio, 2)}
        rows.append(f"| {label} | {c} | {hm:,.0f} | {h.get('p50_us', 0)} / {h.get('p99_us', 0)} "
                    f"| {fm:,.0f} | {f.get('p50_us', 0)} / {f.get('p99_us', 0)} | {ratio:.2f}× "
                    f"| {dm:,.0f} | {d.get('p50_us', 0)} / {d.get('p99_us', 0)} | {dratio:.2f}× |")
deep, small, large, restarted = (load("deep.json"), load("depth-small.json"),
                                 load("depth-large.json"), load("depth-restarted.json"))
fsync, fill = load("fsync.json"), load("fill.json")
per_msg = ((deep.get("rss_full_kb", 0) - deep.get("rss_before_kb", 0)) * 1024 /
           deep.get("depth", 1)) if deep else 0
data.update({"fsync": fsync, "deep": deep, "fill": fill, "latency_small_queue": small,
             "latency_deep_queue": large, "latency_after_restart": restarted,
             "bytes_per_message": round(per_msg, 1),
             "restore": (work / "restore.log").read_text().strip()
             if (work / "restore.log").exists() else "",
             "loadavg": (work / "loadavg").read_text().strip()
             if (work / "loadavg").exists() else "",
             "nproc": (work / "nproc").read_text().strip() if (work / "nproc").exists() else ""})
Path(json_path).write_text(json.dumps(data, indent=2) + "\n")
md = [
    "# SQS: haar (durable) against fauxqs 2.4.1 (in memory, and with its SQLite persistence)", "",
    f"Same machine, same run, same C load generator (bench/sqs/sqs_load.c: AWS JSON 1.0, "
    f"SigV4, HTTP/1.1 keep-alive, closed loop), {seconds} s a run after 1 s of warm-up, "
    f"{deep.get('body', 100)}-byte bodies. haar acknowledges only what is committed to disk "
    f"(SQLite WAL, synchronous=FULL, group commit); fauxqs keeps its queues in memory by "
    f"default, and in SQLite with its dataDir option (shown as fauxqs disk). "
    f"Messages per second; latency per request in µs. Machine: {data['nproc']} cores, "
    f"load average at the start {data['loadavg']}.", "",
    f"The disk's floor: fdatasync p50 {fsync.get('fdatasync_p50_us', '?')} µs, "
    f"p99 {fsync.get('fdatasync_p99_us', '?')} µs — one closed-loop client cannot "
    "send durably faster than one fsync a request.", "",
    "| operation | clients | haar msgs/s | haar p50 / p99 µs | fauxqs msgs/s "
    "| fauxqs p50 / p99 µs | haar ÷ fauxqs | fauxqs disk msgs/s | fauxqs disk p50 / p99 µs "
    "| haar ÷ fauxqs disk |",
    "|---|---|---|---|---|---|---|---|---|---|", *rows, "",
    f"## A queue of {deep.get('depth', 0):,} messages (haar)", "",
    f"- filled with SendMessageBatch, 16 clients: {fill.get('filled', 0):,} messages in "
    f"{fill.get('seconds', 0):.1f} s;",
    f"- one ReceiveMessage(1) + DeleteMessage round, 2000 rounds: p50/p99 "
    f"{small.get('p50_us', 0)}/{small.get('p99_us', 0)} µs at ~1,000 messages, "
    f"{large.get('p50_us', 0)}/{large.get('p99_us', 0)} µs at {deep.get('depth', 0):,}, "
    f"{restarted.get('p50_us', 0)}/{restarted.get('p99_us', 0)} µs after the restart "
    "(flat: the indexes are O(1) and O(log n));",
    f"- memory: RSS {deep.get('rss_before_kb', 0) / 1024:.0f} MB → "
    f"{deep.get('rss_full_kb', 0) / 1024:.0f} MB, {per_msg:.0f} bytes a queued message "
    f"({deep.get('body', 100)}-byte bodies: body + {per_msg - deep.get('body', 100):.0f}); "
    f"after the restart {deep.get('rss_restarted_kb', 0) / 1024:.0f} MB;",
    f"- restart with that queue (SIGTERM, then `haar up` until its ready line): "
    f"{deep.get('restart_ms', 0)} ms. {data['restore']}", "",
]
Path(md_path).write_text("\n".join(md) + "\n")
