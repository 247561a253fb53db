"""The stream cells: PostgreSQL change capture (`--mode stream`) into the acknowledge-only
endpoint. Throughput: a backlog of 200k inserts, 200k updates and 50k deletes (transactions
of 10k rows) drained by `--mode stream --catch-up` pinned to one core, beside the baseline
binary's drain of one like it and pg_recvlogical's of the same one (the server's ceiling).
Latency: pgbench writing single-row transactions at 1,000 and 5,000 per second while a
stream runs; the endpoint reads each item's write time (a column of the row) on arrival. Memory: one
transaction of 1M inserted rows drained by `--catch-up`, its peak RSS.

Its own table, slot, publication and state table (bench_stream, di_bench, bench-stream-state)
leave the cinema ones alone. The state table lives in moto: the endpoint forwards the calls
naming it, so the stream finds the snapshot its migrate recorded."""
import json
import os
import shutil
import subprocess
import time

from baseline import usage_figures
from migrate_cells import start_ack, stop_ack
from stack_sql import ROOT, psql
from timing import median, median_of, peak_rss_mb

TABLE = "bench_stream"
SLOT = "di_bench"
PLAIN_SLOT = "di_bench_plain"  # pg_recvlogical's
STATE = "bench-stream-state"
BACKLOG = (200_000, 200_000, 50_000)  # inserts, updates, deletes
TXN_ROWS = 10_000
BIG_TXN_ROWS = 1_000_000
RATES = (1000, 5000)
RATE_SECONDS = 15
TARGETS = {"changes_per_s": 100_000, "p99_ms": {1000: 50, 5000: 500}, "rss_mb": 64}


def stream_env(env, out_dir, ack_url=None):
    """A stream of bench_stream only: DynamoDB items to ack_url (moto when None), its change
    log to a local folder, its own slot, publication and state table."""
    mapping = os.path.join(out_dir, "mapping-stream.json")
    with open(mapping, "w") as f:
        json.dump({"tables": [{"source": "postgresql", "table": TABLE,
                               "dynamodb": {"table": "bench-stream", "key": {"id": "id"}}}]}, f)
    e = dict(env, MAPPING_FILE=mapping, S3_BUCKET_NAME="file://" + out_dir,
             DYNAMODB_STATE_TABLE=STATE, STREAM_SLOT=SLOT, STREAM_PUBLICATION=SLOT, WORKERS="1")
    if ack_url:
        e["AWS_ENDPOINT_URL_DYNAMODB"] = ack_url
    return e


def drop_all(env):
    """bench_stream, its sequence, publication and slot gone (a slot left behind would keep
    the server's WAL for ever, and the table would show up in every cinema test)."""
    psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
         f"WHERE slot_name IN ('{SLOT}', '{PLAIN_SLOT}') AND NOT active", env)
    psql(f"DROP TABLE IF EXISTS {TABLE}; DROP SEQUENCE IF EXISTS {TABLE}_ids; "
         f"DROP PUBLICATION IF EXISTS {SLOT}", env)


def fresh_table(binary, env, out_dir):
    """bench_stream made anew, with its slot, publication and state table, and a migrate of
    it (empty) recording the snapshot the stream starts from."""
    drop_all(env)
    psql(f"CREATE SEQUENCE {TABLE}_ids; CREATE TABLE {TABLE} (id bigint PRIMARY KEY DEFAULT "
         f"nextval('{TABLE}_ids'), n integer NOT NULL, note text NOT NULL, "
         f"written_us bigint NOT NULL)", env)
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
    subprocess.run([aws, "--endpoint-url", env["AWS_ENDPOINT_URL"], "dynamodb", "delete-table",
                    "--table-name", STATE], env=env, capture_output=True)
    moto = stream_env(env, out_dir)
    subprocess.run([binary, "--mode", "setup", "--with-stream"], env=moto, check=True,
                   capture_output=True)


def migrate_empty(binary, e):
    subprocess.run([binary, "--mode", "migrate"], env=e, check=True, capture_output=True)


def backlog(env):
    """200k inserts, 200k updates, 50k deletes, in transactions of TXN_ROWS rows."""
    ins, upd, dele = BACKLOG
    now = "(extract(epoch from clock_timestamp()) * 1e6)::bigint"
    sql = []
    for lo in range(0, ins, TXN_ROWS):
        sql.append(f"INSERT INTO {TABLE} (id, n, note, written_us) SELECT g, g % 1000, "
                   f"'row ' || g, {now} FROM generate_series({lo + 1}, {lo + TXN_ROWS}) g;")
    for lo in range(0, upd, TXN_ROWS):
        sql.append(f"UPDATE {TABLE} SET n = n + 1, note = note || ' changed', written_us = {now} "
                   f"WHERE id > {lo} AND id <= {lo + TXN_ROWS};")
    for lo in range(0, dele, TXN_ROWS):
        sql.append(f"DELETE FROM {TABLE} WHERE id > {lo} AND id <= {lo + TXN_ROWS};")
    psql("\n".join(sql), env, script=True)
    return sum(BACKLOG)


def applied(err):
    """The changes a stream applied, from its last line ("N changes applied in all")."""
    lines = [l for l in err.splitlines() if "changes applied in all" in l]
    if not lines:
        raise RuntimeError("the stream printed no 'changes applied in all' line:\n" + err[-2000:])
    return int(lines[-1].split(" changes applied in all")[0].split()[-1])


def catch_up(binary, e, core):
    cmd = [binary, "--mode", "stream", "--catch-up"]
    if core is not None and shutil.which("taskset") and os.cpu_count() > 1:
        cmd = ["taskset", "-c", core] + cmd
    rss, wall, cpu, _, err = peak_rss_mb(cmd, e)
    return {"wall": wall, "cpu": cpu, "rss": rss, "changes": applied(err)}


def start_ack_forwarding(ack_server, port, env, latency_out=None):
    """The endpoint, forwarding the state table's calls to moto (and, with latency_out,
    timing the items' arrival)."""
    options = ["--forward-table", STATE, "--forward-to", env["AWS_ENDPOINT_URL"]]
    if latency_out:
        options += ["--latency-field", "written_us", "--latency-out", latency_out]
    return start_ack(ack_server, port, options)


def bench_stream(binary, ack_server, env, out_dir, results, repeat, port, base):
    """The three stream cells; results gets {"throughput", "latency", "memory"}; the
    throughput is measured against the baseline binary too (base: bench/baseline.py), one run
    of each per repetition. Leaves nothing behind in PostgreSQL."""
    try:
        stream_cells(binary, ack_server, env, out_dir, results, repeat, port, base)
    finally:
        drop_all(env)


def drain_backlog(binary, e, env, plain=None):
    """The table emptied (that TRUNCATE applied, out of the measurement), the backlog written,
    then drained by one `--catch-up` on one core: its usage. With plain ("first" or "after"),
    pg_recvlogical drains the same backlog through a slot of its own before or after ours
    (the order alternates: the second reader of fresh WAL finds it warmer); its wall time in
    "plain"."""
    psql(f"TRUNCATE {TABLE}", env)
    catch_up(binary, e, None)
    if plain:
        psql(f"SELECT pg_create_logical_replication_slot('{PLAIN_SLOT}', 'pgoutput')", env)
    try:
        n = backlog(env)
        end = psql("SELECT pg_current_wal_lsn()", env).strip()
        wall = recvlogical(env, end) if plain == "first" else None
        r = catch_up(binary, e, "1")
        if plain == "after":
            wall = recvlogical(env, end)
    finally:
        if plain:
            psql(f"SELECT pg_drop_replication_slot('{PLAIN_SLOT}')", env)
    if r["changes"] != n:
        raise RuntimeError(f"the stream applied {r['changes']} changes of {n}")
    if wall is not None:
        r["plain"] = wall
    return r


def recvlogical(env, end):
    """pg_recvlogical (pgoutput, the bench's publication) from PLAIN_SLOT to `end`, into
    /dev/null, on the core ours runs on: its wall time. It decodes nothing: the server's own
    speed of sending these changes."""
    cmd = [pg_tool("pg_recvlogical"), "-h", env["POSTGRES_HOST"], "-p", env["POSTGRES_PORT"],
           "-U", env["POSTGRES_USER"], "-d", env["POSTGRES_DATABASE"], "--slot", PLAIN_SLOT,
           "--start", "-o", "proto_version=1", "-o", f"publication_names={SLOT}", "-E", end,
           "-f", "/dev/null"]
    if shutil.which("taskset") and os.cpu_count() > 1:
        cmd = ["taskset", "-c", "1"] + cmd
    t0 = time.monotonic()
    subprocess.run(cmd, env=dict(env, PGPASSWORD=env["POSTGRES_PASSWORD"]), check=True,
                   capture_output=True)
    return time.monotonic() - t0


def pg_tool(name):
    return f"/usr/lib/postgresql/{sorted(os.listdir('/usr/lib/postgresql'))[-1]}/bin/{name}"


def baseline_said(bases):
    if not bases:
        return ""
    b = median_of(bases, lambda r: r["wall"])
    return (f" (baseline: {b['changes'] / b['wall']:,.0f} changes/s, "
            f"{b['cpu'] / b['changes'] * 1e6:.2f} us CPU per change)")


def stream_cells(binary, ack_server, env, out_dir, results, repeat, port, base):
    fresh_table(binary, env, out_dir)
    ack, url = start_ack_forwarding(ack_server, port, env)
    try:
        e = stream_env(env, out_dir, url)
        migrate_empty(binary, e)
        runs, bases = [], []
        for i in range(repeat):
            plain = "first" if i % 2 else "after"
            r, b = base.pair("stream", i, lambda: drain_backlog(binary, e, env, plain),
                             lambda other: drain_backlog(other, e, env))
            runs.append(r)
            if b:
                bases.append(b)
        mid = median_of(runs, lambda r: r["wall"])
        results["throughput"] = {
            "changes": mid["changes"], "seconds": mid["wall"],
            "changes_per_s": mid["changes"] / mid["wall"],
            "cpu_us_per_change": mid["cpu"] / mid["changes"] * 1e6, "peak_rss_mb": mid["rss"],
            "repetitions": len(runs), "target": TARGETS["changes_per_s"],
            "pg_recvlogical": {"seconds": median([r["plain"] for r in runs]),
                               "changes_per_s": mid["changes"] / median([r["plain"] for r in runs])},
            "ratio_to_pg_recvlogical": median([r["plain"] / r["wall"] for r in runs])}
        if base.on("stream") and len(bases) == len(runs):
            results["throughput"]["vs_baseline"] = usage_figures(
                "", runs, bases, mid["changes"], "change", lambda rs: median_of(rs, lambda r: r["wall"]))
        print(f"[bench] stream backlog -> ack, 1 core: {mid['changes'] / mid['wall']:,.0f} "
              f"changes/s, {mid['cpu'] / mid['changes'] * 1e6:.2f} us CPU per change, peak RSS "
              f"{mid['rss']:.1f} MB; pg_recvlogical "
              f"{results['throughput']['pg_recvlogical']['changes_per_s']:,.0f} changes/s, ours / "
              f"it {results['throughput']['ratio_to_pg_recvlogical']:.2f}{baseline_said(bases)}",
              flush=True)
        psql(f"TRUNCATE {TABLE}", env)
        catch_up(binary, e, None)
        psql(f"INSERT INTO {TABLE} (id, n, note, written_us) SELECT g, g % 1000, 'row ' || g, 0 "
             f"FROM generate_series(1, {BIG_TXN_ROWS}) g", env)
        r = catch_up(binary, e, None)
        if r["changes"] != BIG_TXN_ROWS:
            raise RuntimeError(f"the stream applied {r['changes']} of {BIG_TXN_ROWS} changes")
        results["memory"] = {"rows": BIG_TXN_ROWS, "seconds": r["wall"], "peak_rss_mb": r["rss"],
                             "target_mb": TARGETS["rss_mb"]}
        print(f"[bench] stream of one {BIG_TXN_ROWS:,}-row transaction: peak RSS "
              f"{r['rss']:.1f} MB in {r['wall']:.1f} s", flush=True)
        psql(f"TRUNCATE {TABLE}", env)
        catch_up(binary, e, None)
    finally:
        stop_ack(ack)
    results["latency"] = [latency_at(binary, ack_server, env, out_dir, port, rate)
                          for rate in RATES]


def latency_at(binary, ack_server, env, out_dir, port, rate):
    """A stream running while pgbench writes `rate` single-row transactions/s for
    RATE_SECONDS; the endpoint's view of commit-to-applied latency."""
    out = os.path.join(out_dir, f"latency-{rate}.json")
    ack, url = start_ack_forwarding(ack_server, port, env, out)
    e = stream_env(env, out_dir, url)
    log = open(os.path.join(out_dir, f"stream-{rate}.log"), "w+")
    stream = subprocess.Popen([binary, "--mode", "stream"], env=e, stderr=log,
                              stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: "stream: following" in open(log.name).read(), 30, "the stream to open")
        # Caught up before the clock starts: a stream opened on a slot whose restart place is
        # behind (the memory cell's big transaction) first has the server decode up to where
        # it left off, seconds that are start-up, not latency.
        confirmed_past(env, psql("SELECT pg_current_wal_lsn()", env).strip(), 60,
                       "the stream to catch up before pgbench starts")
        rows = pgbench(env, out_dir, rate)
        confirmed_past(env, psql("SELECT pg_current_wal_lsn()", env).strip(), 120,
                       "the stream to confirm what pgbench wrote")
    finally:
        stop_ack(stream)
        stop_ack(ack)
    with open(out) as f:
        lat = json.load(f)
    if lat["count"] != rows:
        raise RuntimeError(f"the endpoint saw {lat['count']} items of {rows} rows written")
    lat.update({"rate": rate, "seconds": RATE_SECONDS, "target_p99_ms": TARGETS["p99_ms"][rate]})
    print(f"[bench] stream latency at {rate:,} changes/s: p50 {lat['p50_ms']:.1f} ms, "
          f"p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms ({rows:,} rows)", flush=True)
    return lat


def confirmed_past(env, mark, seconds, what):
    """Waits until the bench's slot confirmed `mark` (an idle stream confirms the server's end
    of WAL)."""
    wait_for(lambda: psql(f"SELECT confirmed_flush_lsn >= '{mark}' FROM pg_replication_slots "
                          f"WHERE slot_name = '{SLOT}'", env).strip() == "t", seconds, what)


def pgbench(env, out_dir, rate):
    """Single-row insert transactions at `rate`/s, committed synchronously (the stack's
    server commits asynchronously by default, which would hold each change up to
    wal_writer_delay before a stream may read it); the rows written."""
    script = os.path.join(out_dir, "insert.sql")
    with open(script, "w") as f:
        f.write(f"INSERT INTO {TABLE} (n, note, written_us) VALUES (1, 'latency', "
                "(extract(epoch from clock_timestamp()) * 1e6)::bigint);\n")
    before = int(psql(f"SELECT count(*) FROM {TABLE}", env))
    cmd = [pg_tool("pgbench"), "-n", "-f", script, "-R", str(rate),
           "-T", str(RATE_SECONDS), "-c", "4", "-j", "2", "-h", env["POSTGRES_HOST"],
           "-p", env["POSTGRES_PORT"], "-U", env["POSTGRES_USER"], env["POSTGRES_DATABASE"]]
    subprocess.run(cmd, env=dict(env, PGPASSWORD=env["POSTGRES_PASSWORD"],
                                 PGOPTIONS="-c synchronous_commit=on"),
                   check=True, capture_output=True)
    return int(psql(f"SELECT count(*) FROM {TABLE}", env)) - before


def wait_for(ready, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"waited {seconds} s for {what}")
