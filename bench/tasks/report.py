#!/usr/bin/python3
"""bench/tasks helper: creates the Python variant's table and queue, measures a run from the
ids task_load wrote, and writes bench/results/tasks.{md,json}.

    report.py setup   --endpoint URL --table T --queue Q            (prints the queue URL)
    report.py measure --endpoint URL --table T --ids FILE --load FILE --variant V --scenario S
                      [--round N]                                     (prints one JSON line)
    report.py cpu     --group NAME=PID,PID... ... --before FILE --ids FILE --variant V
                      --scenario S    (one JSON line: each group's CPU since the snapshot in
                      FILE, from bench/common/benchreport.py cpu, per task of --ids)
    report.py write   --out DIR --loadavg FILE [--cpu FILE] [--transport FILE] RESULT.jsonl
                      (writes tasks.md, .json; FILE of --loadavg: /proc/loadavg's copy before)

A run's tasks are matched by id with their items in the table: end-to-end latency is
finished_at - the time the POST was due (one machine, one clock); throughput is the tasks
that finished divided by the time from the first POST due to the last finish. The closed loop
runs in rounds, the variants taking turns: a variant's row is its median round, the ratio the
median of the rounds' own ratios (bench/common/benchreport.py).
"""

import argparse
import datetime
import json
import os
import sys
import time

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import benchreport  # noqa: E402


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"mode": "standard"}))


def setup(a):
    ddb = client("dynamodb", a.endpoint)
    ddb.create_table(TableName=a.table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                           for n in ("id", "status", "created_at")],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     GlobalSecondaryIndexes=[{
                         "IndexName": "by-status",
                         "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                       {"AttributeName": "created_at", "KeyType": "RANGE"}],
                         "Projection": {"ProjectionType": "ALL"}}])
    q = client("sqs", a.endpoint).create_queue(
        QueueName=a.queue, Attributes={"VisibilityTimeout": "180"})
    print(q["QueueUrl"])


def ms_of(iso):
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000


def finished(ddb, table, wanted):
    """id -> finished_at (ms) of the wanted tasks that finished, by one scan of the table."""
    out, kwargs = {}, {}
    while True:
        r = ddb.scan(TableName=table, ProjectionExpression="id, finished_at, #s",
                     ExpressionAttributeNames={"#s": "status"}, **kwargs)
        for it in r["Items"]:
            i = it["id"]["S"]
            if i in wanted and "finished_at" in it:
                out[i] = (ms_of(it["finished_at"]["S"]), it["status"]["S"])
        if "LastEvaluatedKey" not in r:
            return out
        kwargs = {"ExclusiveStartKey": r["LastEvaluatedKey"]}


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def measure(a):
    due = {}
    with open(a.ids) as f:
        for line in f:
            i, d = line.split()
            due[i] = int(d)
    load = json.loads(open(a.load).read())
    ddb = client("dynamodb", a.endpoint)
    done, last, deadline = {}, -1, time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        done = finished(ddb, a.table, due)
        if len(done) == len(due):
            break
        if len(done) != last:
            last, deadline = len(done), time.monotonic() + a.timeout  # progress: keep waiting
        time.sleep(1)
    lat = [done[i][0] - due[i] for i in done]
    first_due = min(due.values()) if due else 0
    last_end = max(v[0] for v in done.values()) if done else 0
    span_s = (last_end - first_due) / 1000 if done else 0
    r = {"variant": a.variant, "scenario": a.scenario, "round": a.round, "posted": load["posted"],
         "accepted": load["accepted"], "post_errors": load["errors"],
         "finished": len(done), "succeeded": sum(1 for v in done.values() if v[1] == "SUCCEEDED"),
         "tasks_per_s": round(len(done) / span_s, 1) if span_s > 0 else 0,
         "post_rps": load["post_rps"], "post_p50_ms": round(load["post_p50_us"] / 1000, 2),
         "post_p99_ms": round(load["post_p99_us"] / 1000, 2),
         "e2e_p50_ms": round(pct(lat, 50), 1) if lat else None,
         "e2e_p99_ms": round(pct(lat, 99), 1) if lat else None}
    print(json.dumps(r))


def cpu(a):
    """One JSON line: the CPU each group spent since the run script's snapshot (benchreport.py
    cpu), per task of --ids."""
    spent = benchreport.cpu_seconds_since(json.load(open(a.before)),
                                          benchreport.cpu_snapshot(a.group))
    tasks = sum(1 for line in open(a.ids) if line.strip())
    per_task = {name: round(sec * 1e6 / max(tasks, 1), 1) for name, sec in spent.items()}
    print(json.dumps({"variant": a.variant, "scenario": a.scenario, "tasks": tasks,
                      "cpu_us_per_task": per_task, "total_us": round(sum(per_task.values()), 1)}))


def write(a):
    runs = [json.loads(line) for line in open(a.results) if line.strip()]
    nrounds = max((r["round"] for r in runs if r["scenario"] == "max"), default=0)
    by = {(r["variant"], r["scenario"], r["round"]): r for r in runs}

    rounds = {v: [by.get((v, "max", n)) for n in range(1, nrounds + 1)] for v in ("haar", "python")}
    ratios = benchreport.ratios(rounds["haar"], rounds["python"], "tasks_per_s")
    ratio = benchreport.median(ratios)
    rows = []
    for v in ("haar", "python"):
        m = benchreport.median_round(rounds[v], "tasks_per_s")
        rows += [x for x in (m, by.get((v, "rate", 1))) if x]
    meta = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "commit": benchreport.commit(), "cores": os.cpu_count(),
            "loadavg_before": benchreport.loadavg(a.loadavg),
            "loadavg_after": os.getloadavg()[0],
            "settings": {k: os.environ.get(k) for k in
                         ("BENCH_SECONDS", "BENCH_RATE", "BENCH_CONNECTIONS", "BENCH_ROUNDS",
                          "PY_WORKERS", "PY_API_WORKERS")}}
    transport = []
    if a.transport and os.path.exists(a.transport):
        t = [json.loads(line) for line in open(a.transport) if line.strip()]
        for b in ("native", "curl"):
            rounds = [r for r in t if r["backend"] == b]
            if rounds:
                transport.append({"backend": b, "rounds": len(rounds),
                                  "cpu_us": pct([r["cpu_us"] for r in rounds], 50),
                                  "wall_us": pct([r["wall_us"] for r in rounds], 50),
                                  "p50_us": pct([r["p50_us"] for r in rounds], 50),
                                  "p99_us": pct([r["p99_us"] for r in rounds], 50)})
    cpu_rows = [json.loads(line) for line in open(a.cpu) if line.strip()] \
        if a.cpu and os.path.exists(a.cpu) else []
    out = {"meta": meta, "results": rows, "runs": runs, "transport": transport, "cpu": cpu_rows,
           "throughput_ratio_haar_over_python": ratio, "ratios_by_round": ratios,
           "targets": {"tasks_per_s": 3000, "p50_ms_at_500_per_s": 20, "ratio": 5}}
    os.makedirs(a.out, exist_ok=True)
    benchreport.write_json(os.path.join(a.out, "tasks.json"), out, indent=1)
    lines = ["# bench/tasks: the task service, POST to SUCCEEDED", "",
             f"Run {meta['date']} (commit {meta['commit'] or '?'}) on {meta['cores']} cores, "
             f"the 1-minute load average {meta['loadavg_before']} before it and "
             f"{meta['loadavg_after']:.2f} after. haar: the C api and "
             "worker functions behind haar's API Gateway and event source mapping. python: "
             "the same API as FastAPI on uvicorn with boto3, and Python workers long-polling "
             "the queue, against the same haar SQS and DynamoDB.", "",
             f"max: the most each takes, a closed loop; the variants took turns, {nrounds} "
             "rounds, and a row is the variant's median round (tasks/s in every round beside "
             "it). rate: a fixed rate, once each.", "",
             "| variant | scenario | POSTs/s | accepted | finished | tasks/s | POST p50 | "
             "POST p99 | e2e p50 | e2e p99 | tasks/s by round |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['scenario']} | {r['post_rps']} | {r['accepted']} | "
                     f"{r['finished']} | {r['tasks_per_s']} | {r['post_p50_ms']} ms | "
                     f"{r['post_p99_ms']} ms | {r['e2e_p50_ms']} ms | {r['e2e_p99_ms']} ms | "
                     f"{benchreport.by_round(r.get('rounds_tasks_per_s', []))} |")
    lines += ["", f"Throughput, haar over python: {ratio}x, the median of the rounds' ratios "
              f"({benchreport.by_round(ratios, 'x')}; target ≥ 5x). Targets: ≥ 3,000 tasks/s "
              "on 2 cores, end-to-end p50 ≤ 20 ms at 500 tasks/s.", ""]
    if cpu_rows:
        lines += [f"CPU per task at the fixed rate ({meta['settings']['BENCH_RATE']} "
                  "tasks/s): the processes' own user + system time over the run and 2 s after "
                  "it, divided by the tasks accepted. haar: the daemon and the function "
                  "processes; python: the same daemon serving SQS and DynamoDB, and the uvicorn "
                  "and worker processes. At a light load every request wakes its processes on "
                  "its own and every durable write has its own fdatasync, so this is more per "
                  "task than a saturated run spends:", "",
                  "| variant | tasks | daemon | functions / app | total |", "|---|---|---|---|---|"]
        for c in cpu_rows:
            u = c["cpu_us_per_task"]
            lines.append(f"| {c['variant']} | {c['tasks']} | {u.get('daemon')} µs | "
                         f"{u.get('app')} µs | {c['total_us']} µs |")
        lines.append("")
    if transport:
        lines += ["The functions' AWS client, one signed GetItem after another on its kept-alive "
                  "connection (median of the rounds; CPU is the client process's own):", "",
                  "| transport | CPU per call | wall per call | p50 | p99 |", "|---|---|---|---|---|"]
        for t in transport:
            lines.append(f"| {t['backend']} | {t['cpu_us']} µs | {t['wall_us']} µs | "
                         f"{t['p50_us']} µs | {t['p99_us']} µs |")
        lines.append("")
    with open(os.path.join(a.out, "tasks.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--endpoint", required=True)
    s.add_argument("--table", required=True)
    s.add_argument("--queue", required=True)
    m = sub.add_parser("measure")
    for k in ("endpoint", "table", "ids", "load", "variant", "scenario"):
        m.add_argument(f"--{k}", required=True)
    m.add_argument("--round", type=int, default=1)
    m.add_argument("--timeout", type=float, default=30)
    c = sub.add_parser("cpu")
    c.add_argument("--group", action="append", required=True)
    for k in ("before", "ids", "variant", "scenario"):
        c.add_argument(f"--{k}", required=True)
    w = sub.add_parser("write")
    w.add_argument("--out", required=True)
    w.add_argument("--cpu")
    w.add_argument("--transport")
    w.add_argument("--loadavg", required=True)
    w.add_argument("results")
    a = p.parse_args()
    return {"setup": setup, "measure": measure, "cpu": cpu, "write": write}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
