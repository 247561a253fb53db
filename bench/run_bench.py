"""The benchmark harness behind `make bench`: backup throughput per source and codec against
the plain tools, the SQL tables' backups against Sling and dlt, migration against moto and
against an acknowledge-only endpoint, migration of a table without an index on its change
column, restore against `psql \\copy`, memory at two scales, the change stream (changes/s,
latency, memory) and the micro-benchmarks. Every
figure is measured here (wall clock and the child's rusage: CPU seconds and peak RSS) and
written to
bench/results/<stamp>.json and BENCHMARKS.md, with the machine, the date and the commit.

Usage: run_bench.py --binary build/data-ingestion --ack-server build/ack_server
                    [--micro build/micro_bench] [--scales 10,100] [--repeat 5]
                    [--only backup,migrate,micro,sling,dlt,noindex,restore,stream] [--ack-port 5990]
                    [--baseline HEAD~1|REF|none] [--baseline-dir build-baseline] [--jobs 2]
A run with --only writes bench/results/partial/<stamp>.json and .md, not BENCHMARKS.md.
Sling and dlt come from .venv-bench (scripts/setup bench). --baseline builds that commit's
binary (bench/baseline.py) and runs it interleaved with ours in every timed cell; each figure
of ours is reported beside the baseline's.
"""
import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile

from backup_cell import SHORT_RUN_REPEATS, SHORT_RUN_S, bench_backups, memory_across_scales
from baseline import Baseline, build as build_baseline
from micro_cell import bench_micro, bench_startup
from migrate_cells import bench_migrate, bench_noindex
from restore_cell import bench_restore
from stack_sql import ROOT, TABLES, stack_env
from stream_cell import bench_stream
from timing import machine
from tools_cell import bench_tools

CELLS = ("backup", "migrate", "micro", "sling", "dlt", "noindex", "restore", "stream")


def parse_args():
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
    ap.add_argument("--baseline", default="HEAD~1",
                    help="git ref whose binary runs interleaved with ours in every timed cell "
                    "(none: no baseline)")
    ap.add_argument("--baseline-dir", default="build-baseline",
                    help="folder of the baseline builds, one per hash of their build inputs")
    ap.add_argument("--jobs", type=int, default=2, help="build jobs for the baseline")
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else set(CELLS)
    if only - set(CELLS):
        ap.error(f"--only: unknown cell(s) {','.join(sorted(only - set(CELLS)))}")
    if a.micro is None:
        only.discard("micro")
    return a, only


def get_baseline(a):
    """The baseline (built or reused), or an off one: --baseline none, or a failed build (said
    in the report)."""
    if a.baseline.lower() in ("", "none"):
        return Baseline(), None
    try:
        commit, binary, micro = build_baseline(a.baseline, a.baseline_dir, a.jobs)
        return Baseline(commit, binary, micro, a.baseline), None
    except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
        print(f"[bench] no baseline: building {a.baseline} failed: {e}", flush=True)
        return Baseline(), {"ref": a.baseline, "error": f"the build failed: {e}"}


def run_cells(a, only, env, report, base, out_dir, s3_bucket):
    scales = [int(s) for s in a.scales.split(",")]
    tools = [t for t in ("sling", "dlt") if t in only]
    for scale in scales:
        print(f"[bench] seeding scale {scale}", flush=True)
        subprocess.run([os.path.join(ROOT, "scripts", "seed"), "--scale", str(scale)],
                       check=True, env=env, capture_output=True)
        if "backup" in only:
            bench_backups(a.binary, env, scale, out_dir, s3_bucket, report["backups"],
                          a.repeat, base)
        if tools:
            bench_tools(a.binary, env, scale, out_dir, report["tools"], a.repeat, tools, base)
        if "migrate" in only:
            bench_migrate(a.binary, a.ack_server, env, scale, out_dir, report["migrations"],
                          scale == min(scales), a.repeat, a.ack_port, base)
        # 1M rows at scale 100: the largest scale only.
        if "noindex" in only and scale == max(scales):
            bench_noindex(a.binary, a.ack_server, env, scale, out_dir, report["noindex"],
                          a.repeat, a.ack_port, base)
        if "restore" in only and scale == max(scales):
            bench_restore(a.binary, env, scale, out_dir, report["restore"], a.repeat, base)
    if "stream" in only:
        bench_stream(a.binary, a.ack_server, env, out_dir, report["stream"], a.repeat, a.ack_port,
                     base)
    report["memory"] = memory_across_scales(report["backups"], TABLES)
    if "micro" in only:
        report["micro"] = bench_micro(a.micro, a.repeat, base)


def main():
    a, only = parse_args()
    env = stack_env()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    base, base_error = get_baseline(a)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = {"date": stamp, "commit": commit, "machine": machine(), "repeat": a.repeat,
              "short_run": {"seconds": SHORT_RUN_S, "repeat": a.repeat * SHORT_RUN_REPEATS},
              "backups": [], "tools": [], "noindex": [], "restore": [],
              "migrations": [], "memory": [], "micro": None, "stream": {}}
    if a.only:
        report["only"] = sorted(only)
    out_dir = tempfile.mkdtemp(prefix="di-bench-")
    s3_bucket = "di-bench-" + stamp.lower()
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
    if "backup" in only:
        subprocess.run([aws, "--endpoint-url", env["AWS_ENDPOINT_URL"], "s3", "mb",
                        f"s3://{s3_bucket}"], env=env, check=True, capture_output=True)
    try:
        report["startup_s"], startup_vs = bench_startup(a.binary, env, base)
        if startup_vs:
            report["startup_vs_baseline"] = startup_vs
        run_cells(a, only, env, report, base, out_dir, s3_bucket)
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        print("[bench] reseeding scale 1", flush=True)
        subprocess.run([os.path.join(ROOT, "scripts", "seed"), "--scale", "1"], env=env,
                       capture_output=True)
    report["baseline"] = base.report() or base_error
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
