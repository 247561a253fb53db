"""The restore cell: a backup of reservations restored by ours against psql \\copy."""
import os
import shutil
import subprocess
import tempfile

from baseline import usage_figures
from stack_sql import manifest_of, psql, psql_on, sql_count
from timing import median, median_of, timed, timed_shell_full


RESTORE_TARGET = 0.8  # restore speed ≥ 0.8 × psql \\copy's (psql wall / ours)
RESTORE_RSS_MB = 64  # peak RSS of the restore below this
RESTORE_DB = "bench_restore"


def restore_once(cmd, e, env, pg, rows):
    """A fresh database bench_restore, then one timed restore into it, its rows checked."""
    psql(f"DROP DATABASE IF EXISTS {RESTORE_DB}", env)
    psql(f"CREATE DATABASE {RESTORE_DB}", env)
    rss, wall, cpu = timed(cmd, e)
    if sql_count("postgresql", "reservations", pg) != rows:
        raise RuntimeError("restore of reservations did not load every row")
    return {"wall": wall, "cpu": cpu, "rss": rss}


def bench_restore(binary, env, scale, out_dir, results, repeat, base):
    """reservations backed up by ours (gzip, file:// store), then in each repetition a fresh
    database bench_restore: ours restores the backup into it (`--mode restore`, creating the
    table), then `psql \\copy` loads the same rows, from a `COPY reservations TO` text file,
    into an identically created empty table (`CREATE TABLE … (LIKE reservations INCLUDING
    ALL)` of the restored one: same columns, types, defaults and primary key). The ratio is the
    median of the repetitions' psql wall / ours; the database is dropped after. The baseline
    (base) restores the same backup into a fresh database next to ours (before it in every
    other repetition); psql's table goes beside the last restored."""
    store = tempfile.mkdtemp(dir=out_dir)
    e = dict(env, COMPRESSION="gzip", S3_BUCKET_NAME="file://" + store)
    subprocess.run([binary, "--mode", "backup", "--table", "postgresql.reservations"], env=e,
                   check=True, capture_output=True)
    rows = manifest_of(store, "postgresql", "reservations")["row_count"]
    text = os.path.join(out_dir, "reservations.copy")
    psql(f"\\copy reservations TO '{text}'", env)
    url = (f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@"
           f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{RESTORE_DB}")
    args = ["--mode", "restore", "--source-db", "postgresql", "--table", "reservations",
            "--latest", "--target-url", url]
    pg = dict(env, POSTGRES_DATABASE=RESTORE_DB, PGPASSWORD=env["POSTGRES_PASSWORD"])
    copy = (f"psql -X -q -v ON_ERROR_STOP=1 -h {env['POSTGRES_HOST']} -p {env['POSTGRES_PORT']} "
            f"-U {env['POSTGRES_USER']} -d {RESTORE_DB} -c \"\\\\copy psql_copy FROM '{text}'\"")
    drop = f"DROP DATABASE IF EXISTS {RESTORE_DB}"
    runs = []
    try:
        for i in range(repeat):
            run, b = base.pair("restore", i, lambda: restore_once([binary] + args, e, env, pg, rows),
                               lambda b: restore_once([b] + args, e, env, pg, rows))
            psql_on(RESTORE_DB, "CREATE TABLE psql_copy (LIKE reservations INCLUDING ALL)", env)
            pwall, _ = timed_shell_full(copy, pg)
            if sql_count("postgresql", "psql_copy", pg) != rows:
                raise RuntimeError("psql \\copy did not load every row")
            runs.append(dict(run, psql=pwall, **({"base": b} if b else {})))
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
    if base.on("restore"):
        entry["vs_baseline"] = usage_figures("", runs, [r["base"] for r in runs], rows, "row",
                                             lambda rs: median_of(rs, lambda r: r["wall"]))
    results.append(entry)
    print(f"[bench] scale {scale} restore of postgresql.reservations: {entry['ours']['seconds']:.2f} s, "
          f"psql \\copy {entry['psql']['seconds']:.2f} s, ratio {entry['ratio']:.2f} "
          f"(target ≥ {RESTORE_TARGET}), peak RSS {entry['ours']['peak_rss_mb']:.1f} MB "
          f"(target < {RESTORE_RSS_MB})", flush=True)
