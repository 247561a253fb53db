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
import gzip
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
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TABLES = [("mysql", "seats"), ("mysql", "schedules"), ("postgresql", "reservations"),
          ("mongodb", "movies")]
# Sling and dlt read the SQL tables (dlt has no simple MongoDB source).
SQL_TABLES = [(e, t) for e, t in TABLES if e != "mongodb"]
CELLS = ("backup", "migrate", "micro", "sling", "dlt", "noindex", "restore")
BENCH_PY = os.path.join(ROOT, ".venv-bench", "bin", "python")


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
    rss, wall, cpu, _, _ = timed_full(cmd, env)
    return rss, wall, cpu


def timed_full(cmd, env):
    """timed, with the command's stdout and stderr."""
    t0 = time.monotonic()
    rss, _, cpu, out, err = peak_rss_mb(cmd, env)
    return rss, time.monotonic() - t0, cpu, out, err


def timed_shell(cmd, env):
    return timed_shell_full(cmd, env)[0]


def timed_shell_full(cmd, env):
    """A shell pipeline's wall and CPU (all its processes)."""
    with Meter() as m:
        subprocess.run(cmd, shell=True, check=True, env=env, executable="/bin/bash")
    return m.wall, m.cpu


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


def sql_count(engine, table, env):
    """The table's row count, asked of the database (what every tool's output must hold)."""
    if engine == "mysql":
        cmd = (f"mariadb -N -B -h {env['MYSQL_HOST']} -P {env['MYSQL_PORT']} -u {env['MYSQL_USER']} "
               f"-p{env['MYSQL_PASSWORD']} {env['MYSQL_DATABASE']} -e 'SELECT COUNT(*) FROM `{table}`'")
    else:
        cmd = (f"PGPASSWORD={env['POSTGRES_PASSWORD']} psql -X -q -A -t -h {env['POSTGRES_HOST']} "
               f"-p {env['POSTGRES_PORT']} -U {env['POSTGRES_USER']} -d {env['POSTGRES_DATABASE']} "
               f"-c 'SELECT COUNT(*) FROM \"{table}\"'")
    return int(subprocess.run(cmd, shell=True, check=True, env=env, executable="/bin/bash",
                              capture_output=True, text=True).stdout.strip())


def psql(sql, env):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env["POSTGRES_HOST"],
                    "-p", env["POSTGRES_PORT"], "-U", env["POSTGRES_USER"], "-d",
                    env["POSTGRES_DATABASE"], "-c", sql],
                   env=dict(env, PGPASSWORD=env["POSTGRES_PASSWORD"]), check=True,
                   capture_output=True)


def gz_lines(paths):
    """Lines in gzip files (JSON Lines: one record each), and their compressed bytes."""
    lines = size = 0
    for path in paths:
        size += os.path.getsize(path)
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
    return lines, size


def store_parts(store_dir):
    return [os.path.join(d, n) for d, _, names in os.walk(store_dir) for n in names
            if n.endswith(".gz")]


def sling_binary():
    """The binary that the sling-linux-amd64 wheel ships (in .venv-bench); the `sling` wrapper
    package would fetch one at run time instead."""
    p = subprocess.run([BENCH_PY, "-c", "import sling_linux_amd64 as s; print(s.SLING_BIN)"],
                       capture_output=True, text=True)
    if p.returncode != 0 or not os.access(p.stdout.strip(), os.X_OK):
        raise RuntimeError("Sling is not installed in .venv-bench: run scripts/setup bench")
    return p.stdout.strip()


def tool_urls(env):
    """Connection URLs for Sling (its own schemes) and for dlt (SQLAlchemy's)."""
    q = lambda v: urllib.parse.quote(v, safe="")
    my = (f"{q(env['MYSQL_USER'])}:{q(env['MYSQL_PASSWORD'])}@{env['MYSQL_HOST']}:"
          f"{env['MYSQL_PORT']}/{env['MYSQL_DATABASE']}")
    pg = (f"{q(env['POSTGRES_USER'])}:{q(env['POSTGRES_PASSWORD'])}@{env['POSTGRES_HOST']}:"
          f"{env['POSTGRES_PORT']}/{env['POSTGRES_DATABASE']}")
    return ({"mysql": f"mysql://{my}", "postgresql": f"postgresql://{pg}?sslmode=disable"},
            {"mysql": f"mysql+pymysql://{my}", "postgresql": f"postgresql+psycopg2://{pg}"})


def bench_tools(binary, env, scale, out_dir, results, repeat, tools):
    """The SQL tables backed up by ours, the plain pipeline, Sling and dlt (those of them in
    tools), JSON Lines + gzip to a local folder, back to back in each repetition; the ratios
    are the medians of the repetitions' (their wall / ours). Every run's output is counted
    against the table's rows, so a tool that writes less cannot look fast."""
    sling = sling_binary() if "sling" in tools else None
    if "dlt" in tools and not os.access(BENCH_PY, os.X_OK):
        raise RuntimeError("dlt is not installed in .venv-bench: run scripts/setup bench")
    sling_urls, dlt_urls = tool_urls(env)
    for engine, table in SQL_TABLES:
        rows = sql_count(engine, table, env)
        runs = []
        for _ in range(repeat):
            run = {}
            store = tempfile.mkdtemp(dir=out_dir)
            rss, wall, cpu = timed([binary, "--mode", "backup", "--table", f"{engine}.{table}"],
                                   dict(env, COMPRESSION="gzip", S3_BUCKET_NAME="file://" + store))
            got = manifest_of(store, engine, table)["row_count"]
            lines, size = gz_lines(store_parts(store))
            shutil.rmtree(store, ignore_errors=True)
            if got != rows or lines != rows:
                raise RuntimeError(f"ours wrote {got} rows ({lines} lines) of {engine}.{table}'s {rows}")
            run["ours"] = {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}
            plain_file = os.path.join(out_dir, f"plain-{table}.gz")
            pwall, pcpu = timed_shell_full(f"{plain_export(engine, table, env)} | gzip -1 > {plain_file}", env)
            run["plain"] = {"wall": pwall, "cpu": pcpu, "bytes": os.path.getsize(plain_file)}
            os.remove(plain_file)
            if sling:
                target = tempfile.mkdtemp(dir=out_dir)
                schema = env["MYSQL_DATABASE"] if engine == "mysql" else "public"
                e = dict(env, SLING_DISABLE_TELEMETRY="true", SLING_HOME_DIR=os.path.join(target, "home"),
                         BENCH_SRC=sling_urls[engine])
                rss, wall, cpu = timed([sling, "run", "--src-conn", "BENCH_SRC", "--src-stream",
                                        f"{schema}.{table}", "--tgt-object",
                                        f"file://{target}/{{stream_table}}.jsonl.gz", "--tgt-options",
                                        '{"format": "jsonlines", "compression": "gzip"}'], e)
                lines, size = gz_lines([os.path.join(target, f"{table}.jsonl.gz")])
                shutil.rmtree(target, ignore_errors=True)
                if lines != rows:
                    raise RuntimeError(f"Sling wrote {lines} lines of {engine}.{table}'s {rows} rows")
                run["sling"] = {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}
            if "dlt" in tools:
                target = tempfile.mkdtemp(dir=out_dir)
                rss, wall, cpu = timed([BENCH_PY, os.path.join(ROOT, "bench", "dlt_export.py"),
                                        dlt_urls[engine], table, os.path.join(target, "out"),
                                        os.path.join(target, "work")], env)
                lines, size = gz_lines(store_parts(os.path.join(target, "out", "bench", table)))
                shutil.rmtree(target, ignore_errors=True)
                if lines != rows:
                    raise RuntimeError(f"dlt wrote {lines} lines of {engine}.{table}'s {rows} rows")
                run["dlt"] = {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}
            runs.append(run)
        entry = {"scale": scale, "engine": engine, "table": table, "rows": rows,
                 "repetitions": len(runs), "runs": runs}
        for tool in ["ours", "plain"] + [t for t in ("sling", "dlt") if t in tools]:
            mid = median_of(runs, lambda r: r[tool]["wall"])[tool]
            entry[tool] = {"seconds": mid["wall"], "rows_per_s": rows / mid["wall"],
                           "cpu_s": mid["cpu"], "mb_out": mid["bytes"] / 1e6,
                           "peak_rss_mb": max(r[tool]["rss"] for r in runs) if "rss" in mid else None}
            if tool != "ours":
                entry[f"ratio_{tool}"] = median([r[tool]["wall"] / r["ours"]["wall"] for r in runs])
        results.append(entry)
        print(f"[bench] scale {scale} {engine}.{table} gzip vs tools: ours "
              f"{entry['ours']['seconds']:.2f} s; "
              + ", ".join(f"{t} {entry[t]['seconds']:.2f} s ({entry[f'ratio_{t}']:.2f}x ours)"
                          for t in ("plain", "sling", "dlt") if t in entry), flush=True)


def start_ack(ack_server, port):
    """The acknowledge-only DynamoDB endpoint, on core 0 when there are two."""
    ack_cmd = [ack_server, str(port)]
    if shutil.which("taskset") and os.cpu_count() > 1:
        ack_cmd = ["taskset", "-c", "0"] + ack_cmd
    ack = subprocess.Popen(ack_cmd, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    if ack.poll() is not None:
        raise RuntimeError(f"{ack_server} {port} exited at start (port taken?)")
    return ack, f"http://127.0.0.1:{port}"


def stop_ack(ack):
    ack.send_signal(signal.SIGTERM)
    ack.wait()


def migrate_env(env, out_dir, table, key, endpoint):
    """The environment of a `--mode migrate` of one PostgreSQL table to DynamoDB, no backup."""
    mapping = os.path.join(out_dir, f"mapping-{table}.json")
    with open(mapping, "w") as f:
        json.dump({"tables": [{"source": "postgresql", "table": table, "backup": False,
                               "dynamodb": {"table": f"bench-{table}",
                                            "key": {key: "id"}}}]}, f)
    return dict(env, MAPPING_FILE=mapping, AWS_ENDPOINT_URL_DYNAMODB=endpoint,
                S3_BUCKET_NAME="file://" + out_dir, DYNAMODB_STATE_TABLE="bench-state",
                WORKERS="1")


def items_written(err):
    return int(next(l for l in err.splitlines() if "items written" in l)
               .split(": ")[-1].split(" items")[0].split()[-1])


def bench_migrate(binary, ack_server, env, scale, out_dir, results, with_moto, repeat, port):
    """reservations -> DynamoDB (no backup) against the acknowledge-only endpoint, and (at the
    smallest scale only: moto takes minutes per 100k items) users against moto."""
    ack, ack_url = start_ack(ack_server, port)
    try:
        # "ack, 1 core": our process pinned to one core (taskset), the endpoint and the
        # database on the other: the client's own ceiling per core.
        targets = [("reservations", "reservation_id", ack_url, "ack", None),
                   ("reservations", "reservation_id", ack_url, "ack, 1 core", "1")]
        if with_moto:
            targets.append(("users", "user_id", env["AWS_ENDPOINT_URL"], "moto", None))
        for table, key, endpoint, name, core in targets:
            e = migrate_env(env, out_dir, table, key, endpoint)
            if name == "moto":
                subprocess.run([binary, "--mode", "setup"], env=e, check=True,
                               capture_output=True)
            cmd = [binary, "--mode", "migrate"]
            if core is not None and shutil.which("taskset") and os.cpu_count() > 1:
                cmd = ["taskset", "-c", core] + cmd
            rss, wall, cpu, out, err = measure(cmd, e, 1 if name == "moto" else repeat)
            items = items_written(err)
            results.append({"scale": scale, "table": table, "target": name, "items": items,
                             "seconds": wall, "items_per_s": items / wall,
                             "cpu_us_per_item": cpu / items * 1e6, "peak_rss_mb": rss})
            print(f"[bench] scale {scale} migrate {table} -> {name}: {items / wall:,.0f} items/s, "
                  f"{cpu / items * 1e6:.1f} us CPU per item, peak RSS {rss:.1f} MB", flush=True)
    finally:
        stop_ack(ack)


NOINDEX_TARGET = 1.3  # a table without an index on its change column: wall ≤ 1.3 × with one
NOINDEX_BUDGET_S = 300  # no further repetitions once the runs so far took this long


def bench_noindex(binary, ack_server, env, scale, out_dir, results, repeat, port):
    """Two copies of reservations in PostgreSQL, bench_noindex with only its primary key and
    bench_indexed with the primary key and (updated_at, id), each migrated to the
    acknowledge-only endpoint (no backup, one worker), back to back in each repetition (which
    goes first alternates); the ratio is the median of the repetitions' noindex / indexed.
    A client that sorts the whole table per page can take minutes per run without the index:
    past NOINDEX_BUDGET_S the cell stops with the repetitions it has."""
    tables = {"indexed": "bench_indexed", "noindex": "bench_noindex"}
    drop = "DROP TABLE IF EXISTS bench_indexed, bench_noindex"
    psql(drop, env)
    for name, table in tables.items():
        psql(f"CREATE TABLE {table} AS SELECT * FROM reservations", env)
        psql(f"ALTER TABLE {table} ADD PRIMARY KEY (id)", env)
        # CREATE TABLE AS drops NOT NULL: keep reservations' own (builds before the one-pass
        # reads refused a nullable change column, and the cell compares like with like).
        psql(f"ALTER TABLE {table} ALTER COLUMN updated_at SET NOT NULL", env)
        if name == "indexed":
            psql(f"CREATE INDEX {table}_updated_at ON {table} (updated_at, id)", env)
        psql(f"VACUUM ANALYZE {table}", env)
    rows = sql_count("postgresql", "bench_noindex", env)
    ack, ack_url = start_ack(ack_server, port)
    try:
        runs = []
        for i in range(repeat):
            run = {}
            for name in (("indexed", "noindex") if i % 2 == 0 else ("noindex", "indexed")):
                e = migrate_env(env, out_dir, tables[name], "reservation_id", ack_url)
                rss, wall, cpu, _, err = timed_full([binary, "--mode", "migrate"], e)
                items = items_written(err)
                if items != rows:
                    raise RuntimeError(f"migrate of {tables[name]} wrote {items} items of {rows} rows")
                run[name] = {"wall": wall, "cpu": cpu, "rss": rss}
            runs.append(run)
            if sum(r[n]["wall"] for r in runs for n in tables) > NOINDEX_BUDGET_S:
                break
    finally:
        stop_ack(ack)
        psql(drop, env)
    entry = {"scale": scale, "table": "reservations", "rows": rows, "target": NOINDEX_TARGET,
             "repetitions": len(runs), "runs": runs,
             "ratio": median([r["noindex"]["wall"] / r["indexed"]["wall"] for r in runs])}
    for name in tables:
        mid = median_of(runs, lambda r: r[name]["wall"])[name]
        entry[name] = {"seconds": mid["wall"], "items_per_s": rows / mid["wall"],
                       "cpu_us_per_item": mid["cpu"] / rows * 1e6,
                       "peak_rss_mb": max(r[name]["rss"] for r in runs)}
    results.append(entry)
    print(f"[bench] scale {scale} migrate without an index on (updated_at, id): "
          f"{entry['noindex']['seconds']:.2f} s vs {entry['indexed']['seconds']:.2f} s with it, "
          f"ratio {entry['ratio']:.2f} (target ≤ {NOINDEX_TARGET})", flush=True)


RESTORE_TARGET = 0.8  # restore speed ≥ 0.8 × psql \\copy's (psql wall / ours)
RESTORE_RSS_MB = 64  # peak RSS of the restore below this
RESTORE_DB = "bench_restore"


def psql_on(db, sql, env):
    psql(sql, dict(env, POSTGRES_DATABASE=db))


def bench_restore(binary, env, scale, out_dir, results, repeat):
    """reservations backed up by ours (gzip, file:// store), then in each repetition a fresh
    database bench_restore: ours restores the backup into it (`--mode restore`, creating the
    table), then `psql \\copy` loads the same rows, from a `COPY reservations TO` text file,
    into an identically created empty table (`CREATE TABLE … (LIKE reservations INCLUDING
    ALL)` of the restored one: same columns, types, defaults and primary key). The ratio is the
    median of the repetitions' psql wall / ours; the database is dropped after."""
    store = tempfile.mkdtemp(dir=out_dir)
    e = dict(env, COMPRESSION="gzip", S3_BUCKET_NAME="file://" + store)
    subprocess.run([binary, "--mode", "backup", "--table", "postgresql.reservations"], env=e,
                   check=True, capture_output=True)
    rows = manifest_of(store, "postgresql", "reservations")["row_count"]
    text = os.path.join(out_dir, "reservations.copy")
    psql(f"\\copy reservations TO '{text}'", env)
    url = (f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@"
           f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{RESTORE_DB}")
    cmd = [binary, "--mode", "restore", "--source-db", "postgresql", "--table", "reservations",
           "--latest", "--target-url", url]
    pg = dict(env, POSTGRES_DATABASE=RESTORE_DB, PGPASSWORD=env["POSTGRES_PASSWORD"])
    copy = (f"psql -X -q -v ON_ERROR_STOP=1 -h {env['POSTGRES_HOST']} -p {env['POSTGRES_PORT']} "
            f"-U {env['POSTGRES_USER']} -d {RESTORE_DB} -c \"\\\\copy psql_copy FROM '{text}'\"")
    drop = f"DROP DATABASE IF EXISTS {RESTORE_DB}"
    runs = []
    try:
        for _ in range(repeat):
            psql(drop, env)
            psql(f"CREATE DATABASE {RESTORE_DB}", env)
            rss, wall, cpu = timed(cmd, e)
            if sql_count("postgresql", "reservations", pg) != rows:
                raise RuntimeError("restore of reservations did not load every row")
            psql_on(RESTORE_DB, "CREATE TABLE psql_copy (LIKE reservations INCLUDING ALL)", env)
            pwall, _ = timed_shell_full(copy, pg)
            if sql_count("postgresql", "psql_copy", pg) != rows:
                raise RuntimeError("psql \\copy did not load every row")
            runs.append({"wall": wall, "cpu": cpu, "rss": rss, "psql": pwall})
    finally:
        psql(drop, env)
        shutil.rmtree(store, ignore_errors=True)
        if os.path.exists(text):
            os.remove(text)
    mid = median_of(runs, lambda r: r["wall"])
    entry = {"scale": scale, "table": "postgresql.reservations", "rows": rows, "codec": "gzip",
             "target": RESTORE_TARGET, "target_rss_mb": RESTORE_RSS_MB,
             "repetitions": len(runs), "runs": runs,
             "ours": {"seconds": mid["wall"], "rows_per_s": rows / mid["wall"],
                      "cpu_us_per_row": mid["cpu"] / rows * 1e6,
                      "peak_rss_mb": max(r["rss"] for r in runs)},
             "psql": {"seconds": median([r["psql"] for r in runs]),
                      "rows_per_s": rows / median([r["psql"] for r in runs])},
             "ratio": median([r["psql"] / r["wall"] for r in runs])}
    results.append(entry)
    print(f"[bench] scale {scale} restore of postgresql.reservations: {entry['ours']['seconds']:.2f} s, "
          f"psql \\copy {entry['psql']['seconds']:.2f} s, ratio {entry['ratio']:.2f} "
          f"(target ≥ {RESTORE_TARGET}), peak RSS {entry['ours']['peak_rss_mb']:.1f} MB "
          f"(target < {RESTORE_RSS_MB})", flush=True)


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
