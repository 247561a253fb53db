"""The benchmark harness behind `make bench`: backup throughput per source and codec against
the plain tools, migration against moto and against an acknowledge-only endpoint, memory at
two scales, and the micro-benchmarks. Every figure is measured here (wall clock and the
child's rusage: CPU seconds and peak RSS) and written to bench/results/<stamp>.json and
BENCHMARKS.md, with the machine, the date and the commit.

Usage: run_bench.py --binary build/data-ingestion --ack-server build/ack_server
                    [--micro build/micro_bench] [--scales 10,100]
"""
import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TABLES = [("mysql", "seats"), ("mysql", "schedules"), ("postgresql", "reservations"),
          ("mongodb", "movies")]


def stack_env():
    env = dict(os.environ)
    with open(os.path.join(ROOT, "stack.env")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env.setdefault(k, v.strip().strip('"'))
    env["LOG_FILE"] = ""
    return env


class Meter:
    """rusage of children between start and stop."""

    def __enter__(self):
        self.ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wall = time.monotonic() - self.t0
        self.cpu = (ru.ru_utime - self.ru0.ru_utime) + (ru.ru_stime - self.ru0.ru_stime)
        self.max_rss_mb = ru.ru_maxrss / 1024.0  # lifetime max over reaped children
        return False


def peak_rss_mb(cmd, env):
    """Peak RSS of one command, by GNU time."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M %e %U %S"] + cmd, env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {p.stderr[-2000:]}")
    last = p.stderr.strip().splitlines()[-1].split()
    kb, wall, user, sys_ = int(last[0]), float(last[1]), float(last[2]), float(last[3])
    return kb / 1024.0, wall, user + sys_, p.stdout, p.stderr


def median_of(runs, wall):
    """The run with the median wall time (runs: results of repeated measurements)."""
    return sorted(runs, key=wall)[len(runs) // 2]


def measure(cmd, env, repeat):
    """peak_rss_mb repeated; the median run by wall time."""
    return median_of([peak_rss_mb(cmd, env) for _ in range(repeat)], lambda r: r[1])


def manifest_of(store_dir, engine, table):
    base = os.path.join(store_dir, "backups", engine, table)
    runs = sorted(os.listdir(base))
    with open(os.path.join(base, runs[-1], "manifest.json")) as f:
        return json.load(f)


def plain_export(engine, table, env):
    if engine == "mysql":
        return (f"mariadb --quick -N -B -h {env['MYSQL_HOST']} -P {env['MYSQL_PORT']} "
                f"-u {env['MYSQL_USER']} -p{env['MYSQL_PASSWORD']} {env['MYSQL_DATABASE']} "
                f"-e 'SELECT * FROM `{table}`'")
    if engine == "postgresql":
        return (f"PGPASSWORD={env['POSTGRES_PASSWORD']} psql -X -q -h {env['POSTGRES_HOST']} "
                f"-p {env['POSTGRES_PORT']} -U {env['POSTGRES_USER']} -d "
                f"{env['POSTGRES_DATABASE']} -c 'COPY \"{table}\" TO STDOUT'")
    py = os.path.join(ROOT, ".venv", "bin", "python")
    code = ("import sys;from pymongo import MongoClient;from bson import json_util as j;"
            "c=MongoClient(sys.argv[1]);w=sys.stdout.write;o=j.CANONICAL_JSON_OPTIONS\n"
            "for d in c.get_default_database()[sys.argv[2]].find(): w(j.dumps(d,json_options=o)+'\\n')")
    return f"{py} -c \"{code}\" '{env['MONGODB_URI']}' {table}"


def timed(cmd, env):
    """One run of our binary: peak RSS, wall (measured here, finer than GNU time's 10 ms),
    CPU."""
    t0 = time.monotonic()
    rss, _, cpu, _, _ = peak_rss_mb(cmd, env)
    return rss, time.monotonic() - t0, cpu


def timed_shell(cmd, env):
    with Meter() as m:
        subprocess.run(cmd, shell=True, check=True, env=env, executable="/bin/bash")
    return m.wall


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


SHORT_RUN_S = 0.25  # backups shorter than this (median of the first runs) ...
SHORT_RUN_REPEATS = 3  # ... are repeated this many times as often


def bench_backups(binary, env, scale, out_dir, s3_bucket, results, repeat):
    """Each repetition runs ours and the plain pipeline back to back (local, then S3), so a
    ratio compares runs that saw the same machine (its speed drifts by tens of percent over
    minutes here); the ratio reported is the median of the repetitions' ratios."""
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
    for engine, table in TABLES:
        for codec in ("gzip", "zstd"):
            tool = "gzip -1" if codec == "gzip" else "zstd -1 -q"
            plain_file = os.path.join(out_dir, f"plain-{table}.{codec}")
            plain_local = f"{plain_export(engine, table, env)} | {tool} > {plain_file}"
            plain_s3 = (f"{plain_export(engine, table, env)} | {tool} | {aws} "
                        f"--endpoint-url {env['AWS_ENDPOINT_URL']} s3 cp - "
                        f"s3://{s3_bucket}/plain/{table}.{codec}")
            cmd = [binary, "--mode", "backup", "--table", f"{engine}.{table}"]
            runs = []
            m = None
            wanted = repeat
            while len(runs) < wanted:
                store = tempfile.mkdtemp(dir=out_dir)
                e = dict(env, COMPRESSION=codec, S3_BUCKET_NAME="file://" + store)
                rss, wall, cpu = timed(cmd, e)
                m = m or manifest_of(store, engine, table)
                shutil.rmtree(store, ignore_errors=True)
                pwall = timed_shell(plain_local, env)
                _, wall_s3, _ = timed(cmd, dict(e, S3_BUCKET_NAME=s3_bucket))
                pwall_s3 = timed_shell(plain_s3, env)
                runs.append({"rss": rss, "wall": wall, "cpu": cpu, "plain": pwall,
                             "wall_s3": wall_s3, "plain_s3": pwall_s3})
                # Runs of a few tens of milliseconds are mostly start-up and scheduling noise
                # (tens of percent between neighbours here): their median needs more of them.
                if len(runs) == repeat and median([r["wall"] for r in runs]) < SHORT_RUN_S:
                    wanted = repeat * SHORT_RUN_REPEATS
            rows = m["row_count"]
            raw = sum(p["uncompressed_bytes"] for p in m["parts"])
            stored = sum(p["bytes"] for p in m["parts"])
            mid = median_of(runs, lambda r: r["wall"])
            wall, rss, cpu = mid["wall"], max(r["rss"] for r in runs), mid["cpu"]
            wall_s3 = median([r["wall_s3"] for r in runs])
            plain, plain_s3 = median([r["plain"] for r in runs]), median([r["plain_s3"] for r in runs])
            ratio = median([r["plain"] / r["wall"] for r in runs])
            ratio_s3 = median([r["plain_s3"] / r["wall_s3"] for r in runs])
            results.append({
                "scale": scale, "engine": engine, "table": table, "codec": codec, "rows": rows,
                "uncompressed_mb": raw / 1e6, "compression_ratio": raw / max(stored, 1),
                "ours_local": {"seconds": wall, "rows_per_s": rows / wall, "mb_per_s": raw / 1e6 / wall,
                               "cpu_s_per_million_rows": cpu / rows * 1e6, "peak_rss_mb": rss},
                "plain_local": {"seconds": plain, "rows_per_s": rows / plain},
                "ratio_local": ratio,
                "ours_s3": {"seconds": wall_s3, "rows_per_s": rows / wall_s3},
                "plain_s3": {"seconds": plain_s3, "rows_per_s": rows / plain_s3},
                "ratio_s3": ratio_s3,
                "repetitions": len(runs),
                "runs": runs,
            })
            print(f"[bench] scale {scale} {engine}.{table} {codec}: ours {rows / wall:,.0f} rows/s "
                  f"local ({ratio:.2f}x plain), {rows / wall_s3:,.0f} rows/s S3 "
                  f"({ratio_s3:.2f}x plain), peak RSS {rss:.1f} MB", flush=True)


def bench_migrate(binary, ack_server, env, scale, out_dir, results, with_moto, repeat):
    """reservations -> DynamoDB (no backup) against the acknowledge-only endpoint, and (at the
    smallest scale only: moto takes minutes per 100k items) users against moto."""
    mapping = os.path.join(out_dir, "mapping.json")
    port = 5990
    ack_cmd = [ack_server, str(port)]
    if shutil.which("taskset") and os.cpu_count() > 1:
        ack_cmd = ["taskset", "-c", "0"] + ack_cmd
    ack = subprocess.Popen(ack_cmd, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        ack_url = f"http://127.0.0.1:{port}"
        # "ack, 1 core": our process pinned to one core (taskset), the endpoint and the
        # database on the other: the client's own ceiling per core.
        targets = [("reservations", "reservation_id", ack_url, "ack", None),
                   ("reservations", "reservation_id", ack_url, "ack, 1 core", "1")]
        if with_moto:
            targets.append(("users", "user_id", env["AWS_ENDPOINT_URL"], "moto", None))
        for table, key, endpoint, name, core in targets:
            with open(mapping, "w") as f:
                json.dump({"tables": [{"source": "postgresql", "table": table, "backup": False,
                                       "dynamodb": {"table": f"bench-{table}",
                                                    "key": {key: "id"}}}]}, f)
            e = dict(env, MAPPING_FILE=mapping, AWS_ENDPOINT_URL_DYNAMODB=endpoint,
                     S3_BUCKET_NAME="file://" + out_dir, DYNAMODB_STATE_TABLE="bench-state",
                     WORKERS="1")
            if name == "moto":
                subprocess.run([binary, "--mode", "setup"], env=e, check=True,
                               capture_output=True)
            cmd = [binary, "--mode", "migrate"]
            if core is not None and shutil.which("taskset") and os.cpu_count() > 1:
                cmd = ["taskset", "-c", core] + cmd
            rss, wall, cpu, out, err = measure(cmd, e, 1 if name == "moto" else repeat)
            items = int(next(l for l in err.splitlines() if "items written" in l)
                        .split(": ")[-1].split(" items")[0].split()[-1])
            results.append({"scale": scale, "table": table, "target": name, "items": items,
                             "seconds": wall, "items_per_s": items / wall,
                             "cpu_us_per_item": cpu / items * 1e6, "peak_rss_mb": rss})
            print(f"[bench] scale {scale} migrate {table} -> {name}: {items / wall:,.0f} items/s, "
                  f"{cpu / items * 1e6:.1f} us CPU per item, peak RSS {rss:.1f} MB", flush=True)
    finally:
        ack.send_signal(signal.SIGTERM)
        ack.wait()


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1),
            "os": platform.platform()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--ack-server", required=True)
    ap.add_argument("--micro")
    ap.add_argument("--scales", default="10,100")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per measurement; the median (by wall time) is reported")
    a = ap.parse_args()
    env = stack_env()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    report = {"date": stamp, "commit": commit, "machine": machine(), "repeat": a.repeat,
              "short_run": {"seconds": SHORT_RUN_S, "repeat": a.repeat * SHORT_RUN_REPEATS},
              "backups": [],
              "migrations": [], "memory": [], "micro": None}
    out_dir = tempfile.mkdtemp(prefix="di-bench-")
    s3_bucket = "di-bench-" + stamp.lower()
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
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
        for scale in scales:
            print(f"[bench] seeding scale {scale}", flush=True)
            subprocess.run([os.path.join(ROOT, "scripts", "seed"), "--scale", str(scale)],
                           check=True, env=env, capture_output=True)
            bench_backups(a.binary, env, scale, out_dir, s3_bucket, report["backups"], a.repeat)
            bench_migrate(a.binary, a.ack_server, env, scale, out_dir, report["migrations"],
                          scale == min(scales), a.repeat)
        scales = sorted({b["scale"] for b in report["backups"]})
        if len(scales) >= 2:
            lo, hi = scales[0], scales[-1]
            for engine, table in TABLES:
                r = {s: max(b["ours_local"]["peak_rss_mb"] for b in report["backups"]
                            if b["scale"] == s and b["table"] == table) for s in (lo, hi)}
                report["memory"].append({"table": f"{engine}.{table}", "scales": [lo, hi],
                                         "peak_rss_mb": [r[lo], r[hi]],
                                         "ratio": r[hi] / r[lo]})
        if a.micro:
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
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", f"{stamp}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report.py"), path], check=True)
    print(f"[bench] {path} and BENCHMARKS.md written")


if __name__ == "__main__":
    main()
