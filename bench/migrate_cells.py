"""The migrate cells: reservations and users to DynamoDB (the acknowledge-only endpoint, one
core, moto) and a table without an index on its change column."""
import json
import os
import shutil
import signal
import subprocess
import time

from baseline import usage_figures
from stack_sql import psql, sql_count
from timing import median, median_of, peak_rss_mb, timed_full


def start_ack(ack_server, port, options=()):
    """The acknowledge-only DynamoDB endpoint (with its options), on core 0 when there are
    two."""
    ack_cmd = [ack_server, str(port)] + list(options)
    if shutil.which("taskset") and os.cpu_count() > 1:
        ack_cmd = ["taskset", "-c", "0"] + ack_cmd
    ack = subprocess.Popen(ack_cmd, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    if ack.poll() is not None:
        raise RuntimeError(f"{ack_server} {port} exited at start (port taken?)")
    return ack, f"http://127.0.0.1:{port}"


def stop_ack(ack):
    """SIGTERM, then its end (a minute at most): the endpoint, or a process beside it."""
    ack.send_signal(signal.SIGTERM)
    ack.wait(timeout=60)


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


MOTO_REPEAT = 3  # runs of the moto cell at most (minutes per 100k items)


def migrate_run(binary, e, core):
    """One `--mode migrate`, pinned to core when given: {"wall", "cpu", "rss", "items"}."""
    cmd = [binary, "--mode", "migrate"]
    if core is not None and shutil.which("taskset") and os.cpu_count() > 1:
        cmd = ["taskset", "-c", core] + cmd
    rss, wall, cpu, _, err = peak_rss_mb(cmd, e)
    return {"wall": wall, "cpu": cpu, "rss": rss, "items": items_written(err)}


def bench_migrate(binary, ack_server, env, scale, out_dir, results, with_moto, repeat, port, base):
    """reservations -> DynamoDB (no backup) against the acknowledge-only endpoint, and (at the
    smallest scale only: moto takes minutes per 100k items) users against moto; each run of
    ours paired with one of the baseline (base), which goes first alternating."""
    ack, ack_url = start_ack(ack_server, port)
    try:
        # "ack, 1 core": our process pinned to one core (taskset), the endpoint and the
        # database on the other: the client's own ceiling per core.
        targets = [("reservations", "reservation_id", ack_url, "ack", None),
                   ("reservations", "reservation_id", ack_url, "ack, 1 core", "1")]
        if with_moto:
            targets.append(("users", "user_id", env["AWS_ENDPOINT_URL"], "moto", None))
        for table, key, endpoint, name, core in targets:
            cell = f"migrate {name}"
            e = migrate_env(env, out_dir, table, key, endpoint)
            if name == "moto":
                subprocess.run([binary, "--mode", "setup"], env=e, check=True,
                               capture_output=True)
                base.run(cell, lambda b: subprocess.run([b, "--mode", "setup"], env=e, check=True,
                                                        capture_output=True))
            runs, base_runs = [], []
            for i in range(min(repeat, MOTO_REPEAT) if name == "moto" else repeat):
                o, b = base.pair(cell, i, lambda: migrate_run(binary, e, core),
                                 lambda b: migrate_run(b, e, core))
                runs.append(o)
                if b:
                    base_runs.append(b)
            mid = median_of(runs, lambda r: r["wall"])
            items, wall, cpu, rss = mid["items"], mid["wall"], mid["cpu"], mid["rss"]
            entry = {"scale": scale, "table": table, "target": name, "items": items,
                     "seconds": wall, "items_per_s": items / wall,
                     "cpu_us_per_item": cpu / items * 1e6, "peak_rss_mb": rss,
                     "repetitions": len(runs)}
            if base.on(cell):
                entry["vs_baseline"] = usage_figures(
                    "", runs, base_runs, items, "item", lambda rs: median_of(rs, lambda r: r["wall"]))
            results.append(entry)
            print(f"[bench] scale {scale} migrate {table} -> {name}: {items / wall:,.0f} items/s, "
                  f"{cpu / items * 1e6:.1f} us CPU per item, peak RSS {rss:.1f} MB", flush=True)
    finally:
        stop_ack(ack)


NOINDEX_TARGET = 1.3  # a table without an index on its change column: wall ≤ 1.3 × with one
NOINDEX_BUDGET_S = 300  # no further repetitions once the runs so far took this long


def bench_noindex(binary, ack_server, env, scale, out_dir, results, repeat, port, base):
    """Two copies of reservations in PostgreSQL, bench_noindex with only its primary key and
    bench_indexed with the primary key and (updated_at, id), each migrated to the
    acknowledge-only endpoint (no backup, one worker), back to back in each repetition (which
    goes first alternates); the ratio is the median of the repetitions' noindex / indexed.
    A client that sorts the whole table per page can take minutes per run without the index:
    past NOINDEX_BUDGET_S (per binary) the cell stops with the repetitions it has."""
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
        runs = noindex_runs(binary, env, out_dir, tables, rows, repeat, ack_url, base)
    finally:
        stop_ack(ack)
        psql(drop, env)
    entry = {"scale": scale, "table": "reservations", "rows": rows, "target": NOINDEX_TARGET,
             "repetitions": len(runs), "runs": runs,
             "ratio": median([r["noindex"]["wall"] / r["indexed"]["wall"] for r in runs])}
    pick = lambda rs: median_of(rs, lambda r: r["wall"])
    for name in tables:
        mid = pick([r[name] for r in runs])
        entry[name] = {"seconds": mid["wall"], "items_per_s": rows / mid["wall"],
                       "cpu_us_per_item": mid["cpu"] / rows * 1e6,
                       "peak_rss_mb": max(r[name]["rss"] for r in runs)}
    if base.on("noindex"):
        entry["vs_baseline"] = [f for name in tables for f in usage_figures(
            name, [r[name] for r in runs], [r["base"][name] for r in runs], rows, "item", pick)]
    results.append(entry)
    print(f"[bench] scale {scale} migrate without an index on (updated_at, id): "
          f"{entry['noindex']['seconds']:.2f} s vs {entry['indexed']['seconds']:.2f} s with it, "
          f"ratio {entry['ratio']:.2f} (target ≤ {NOINDEX_TARGET})", flush=True)


def noindex_runs(binary, env, out_dir, tables, rows, repeat, ack_url, base):
    """The no-index cell's repetitions: each table migrated by ours and by the baseline (which
    goes first alternates)."""
    def one(binary_, name):
        e = migrate_env(env, out_dir, tables[name], "reservation_id", ack_url)
        rss, wall, cpu, _, err = timed_full([binary_, "--mode", "migrate"], e)
        items = items_written(err)
        if items != rows:
            raise RuntimeError(f"migrate of {tables[name]} wrote {items} items of {rows} rows")
        return {"wall": wall, "cpu": cpu, "rss": rss}

    runs = []
    for i in range(repeat):
        run = {}
        for name in (("indexed", "noindex") if i % 2 == 0 else ("noindex", "indexed")):
            run[name], b = base.pair("noindex", i, lambda: one(binary, name), lambda b: one(b, name))
            if b:
                run.setdefault("base", {})[name] = b
        runs.append(run)
        spent = sum(r[n]["wall"] for r in runs for n in tables)
        spent += sum(x["wall"] for r in runs for x in r.get("base", {}).values())
        if spent > NOINDEX_BUDGET_S * (2 if base.on("noindex") else 1):
            break
    return runs
