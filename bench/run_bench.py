"""The benchmark harness behind `make bench`: backup throughput per source and codec against
the plain tools, the SQL tables' backups against Sling and dlt, migration against moto and
against an acknowledge-only endpoint, migration of a table without an index on its change
column, restore against `psql \\copy`, memory at two scales, and the micro-benchmarks. Every
figure is measured here (wall clock and the child's rusage: CPU seconds and peak RSS) and
written to
bench/results/<stamp>.json and BENCHMARKS.md, with the machine, the date and the commit.

Usage: run_bench.py --binary build/data-ingestion --ack-server build/ack_server
                    [--micro build/micro_bench] [--scales 10,100] [--repeat 5]
                    [--only backup,migrate,micro,sling,dlt,noindex,restore] [--ack-port 5990]
A run with --only writes bench/results/partial/<stamp>.json and .md, not BENCHMARKS.md.
Sling and dlt come from .venv-bench (scripts/setup bench).
"""
import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from backup_cell import SHORT_RUN_REPEATS, SHORT_RUN_S, bench_backups
from migrate_cells import bench_migrate, bench_noindex
from restore_cell import bench_restore
from stack_sql import ROOT, TABLES, stack_env
from timing import machine, median
from tools_cell import bench_tools

CELLS = ("backup", "migrate", "micro", "sling", "dlt", "noindex", "restore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--ack-server", required=True)
    ap.add_argument("--micro")
    ap.add_argument("--scales", default="10,100")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per measurement; the median (by wall time) is reported")
    ap.add_argument("--only", help="comma-separated cells to run, of " + ",".join(CELLS)
                    + " (default: all); the results go to bench/results/partial/")
    ap.add_argument("--ack-port", type=int, default=5990,
                    help="port of the acknowledge-only endpoint")
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else set(CELLS)
    if only - set(CELLS):
        ap.error(f"--only: unknown cell(s) {','.join(sorted(only - set(CELLS)))}")
    if a.micro is None:
        only.discard("micro")
    env = stack_env()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = {"date": stamp, "commit": commit, "machine": machine(), "repeat": a.repeat,
              "short_run": {"seconds": SHORT_RUN_S, "repeat": a.repeat * SHORT_RUN_REPEATS},
              "backups": [], "tools": [], "noindex": [], "restore": [],
              "migrations": [], "memory": [], "micro": None}
    if a.only:
        report["only"] = sorted(only)
    out_dir = tempfile.mkdtemp(prefix="di-bench-")
    s3_bucket = "di-bench-" + stamp.lower()
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
    if "backup" in only:
        subprocess.run([aws, "--endpoint-url", env["AWS_ENDPOINT_URL"], "s3", "mb",
                        f"s3://{s3_bucket}"], env=env, check=True, capture_output=True)
    try:
        # Our fixed cost per run: loading the program and its shared libraries, to exit.
        starts = []
        for _ in range(11):
            t0 = time.monotonic()
            subprocess.run([a.binary, "--help"], env=env, capture_output=True, check=True)
            starts.append(time.monotonic() - t0)
        report["startup_s"] = median(starts)
        scales = [int(s) for s in a.scales.split(",")]
        tools = [t for t in ("sling", "dlt") if t in only]
        for scale in scales:
            print(f"[bench] seeding scale {scale}", flush=True)
            subprocess.run([os.path.join(ROOT, "scripts", "seed"), "--scale", str(scale)],
                           check=True, env=env, capture_output=True)
            if "backup" in only:
                bench_backups(a.binary, env, scale, out_dir, s3_bucket, report["backups"],
                              a.repeat)
            if tools:
                bench_tools(a.binary, env, scale, out_dir, report["tools"], a.repeat, tools)
            if "migrate" in only:
                bench_migrate(a.binary, a.ack_server, env, scale, out_dir, report["migrations"],
                              scale == min(scales), a.repeat, a.ack_port)
            # 1M rows at scale 100: the largest scale only.
            if "noindex" in only and scale == max(scales):
                bench_noindex(a.binary, a.ack_server, env, scale, out_dir, report["noindex"],
                              a.repeat, a.ack_port)
            if "restore" in only and scale == max(scales):
                bench_restore(a.binary, env, scale, out_dir, report["restore"], a.repeat)
        scales = sorted({b["scale"] for b in report["backups"]})
        if len(scales) >= 2:
            lo, hi = scales[0], scales[-1]
            for engine, table in TABLES:
                r = {s: max(b["ours_local"]["peak_rss_mb"] for b in report["backups"]
                            if b["scale"] == s and b["table"] == table) for s in (lo, hi)}
                report["memory"].append({"table": f"{engine}.{table}", "scales": [lo, hi],
                                         "peak_rss_mb": [r[lo], r[hi]],
                                         "ratio": r[hi] / r[lo]})
        if "micro" in only:
            p = subprocess.run([a.micro, "--benchmark_format=json", "--benchmark_min_time=0.2"],
                               capture_output=True, text=True, check=True)
            report["micro"] = [{"name": b["name"], "ns_per_op": b["real_time"],
                                "items_per_s": b.get("items_per_second"),
                                "mb_per_s": (b.get("bytes_per_second") or 0) / 1e6 or None,
                                "ratio": b.get("ratio")}
                               for b in json.loads(p.stdout)["benchmarks"]]
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        print("[bench] reseeding scale 1", flush=True)
        subprocess.run([os.path.join(ROOT, "scripts", "seed"), "--scale", "1"], env=env,
                       capture_output=True)
    # A partial run (--only) leaves BENCHMARKS.md to the full runs.
    results_dir = os.path.join(ROOT, "bench", "results", *(["partial"] if a.only else []))
    os.makedirs(results_dir, exist_ok=True)
    path = os.path.join(results_dir, f"{stamp}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    md = path[:-len(".json")] + ".md" if a.only else os.path.join(ROOT, "BENCHMARKS.md")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report.py"), path, md],
                   check=True)
    print(f"[bench] {path} and {os.path.relpath(md, ROOT)} written")


if __name__ == "__main__":
    main()
