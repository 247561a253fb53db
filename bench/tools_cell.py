"""The Sling and dlt cells: the SQL tables backed up by ours, the plain pipeline, Sling and
dlt, JSON Lines + gzip to a local folder."""
import os
import shutil
import subprocess
import tempfile
import urllib.parse

from baseline import usage_figures
from stack_sql import (ROOT, SQL_TABLES, gz_lines, manifest_of, plain_export, sql_count,
                       store_parts)
from timing import median, median_of, timed, timed_shell_full

BENCH_PY = os.path.join(ROOT, ".venv-bench", "bin", "python")


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


def ours_run(binary, engine, table, env, out_dir, rows):
    """One backup by a build of ours (JSON Lines + gzip, a file:// store), its rows checked."""
    store = tempfile.mkdtemp(dir=out_dir)
    rss, wall, cpu = timed([binary, "--mode", "backup", "--table", f"{engine}.{table}"],
                           dict(env, COMPRESSION="gzip", S3_BUCKET_NAME="file://" + store))
    got = manifest_of(store, engine, table)["row_count"]
    lines, size = gz_lines(store_parts(store))
    shutil.rmtree(store, ignore_errors=True)
    if got != rows or lines != rows:
        raise RuntimeError(f"ours wrote {got} rows ({lines} lines) of {engine}.{table}'s {rows}")
    return {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}


def sling_run(sling, url, engine, table, env, out_dir, rows):
    target = tempfile.mkdtemp(dir=out_dir)
    schema = env["MYSQL_DATABASE"] if engine == "mysql" else "public"
    e = dict(env, SLING_DISABLE_TELEMETRY="true", SLING_HOME_DIR=os.path.join(target, "home"),
             BENCH_SRC=url)
    rss, wall, cpu = timed([sling, "run", "--src-conn", "BENCH_SRC", "--src-stream",
                            f"{schema}.{table}", "--tgt-object",
                            f"file://{target}/{{stream_table}}.jsonl.gz", "--tgt-options",
                            '{"format": "jsonlines", "compression": "gzip"}'], e)
    lines, size = gz_lines([os.path.join(target, f"{table}.jsonl.gz")])
    shutil.rmtree(target, ignore_errors=True)
    if lines != rows:
        raise RuntimeError(f"Sling wrote {lines} lines of {engine}.{table}'s {rows} rows")
    return {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}


def dlt_run(url, engine, table, env, out_dir, rows):
    target = tempfile.mkdtemp(dir=out_dir)
    rss, wall, cpu = timed([BENCH_PY, os.path.join(ROOT, "bench", "dlt_export.py"),
                            url, table, os.path.join(target, "out"),
                            os.path.join(target, "work")], env)
    lines, size = gz_lines(store_parts(os.path.join(target, "out", "bench", table)))
    shutil.rmtree(target, ignore_errors=True)
    if lines != rows:
        raise RuntimeError(f"dlt wrote {lines} lines of {engine}.{table}'s {rows} rows")
    return {"wall": wall, "cpu": cpu, "rss": rss, "bytes": size}


def bench_tools(binary, env, scale, out_dir, results, repeat, tools, base):
    """The SQL tables backed up by ours (and the baseline, base), the plain pipeline, Sling
    and dlt (those of them in tools), JSON Lines + gzip to a local folder, back to back in each
    repetition; the ratios are the medians of the repetitions' (their wall / ours). Every run's
    output is counted against the table's rows, so a tool that writes less cannot look fast."""
    sling = sling_binary() if "sling" in tools else None
    if "dlt" in tools and not os.access(BENCH_PY, os.X_OK):
        raise RuntimeError("dlt is not installed in .venv-bench: run scripts/setup bench")
    sling_urls, dlt_urls = tool_urls(env)
    for engine, table in SQL_TABLES:
        rows = sql_count(engine, table, env)
        runs = []
        for i in range(repeat):
            once = lambda bin_: ours_run(bin_, engine, table, env, out_dir, rows)
            o, b = base.pair("tools", i, lambda: once(binary), once)
            run = {"ours": o}
            if b:
                run["base"] = b
            plain_file = os.path.join(out_dir, f"plain-{table}.gz")
            pwall, pcpu = timed_shell_full(f"{plain_export(engine, table, env)} | gzip -1 > {plain_file}", env)
            run["plain"] = {"wall": pwall, "cpu": pcpu, "bytes": os.path.getsize(plain_file)}
            os.remove(plain_file)
            if sling:
                run["sling"] = sling_run(sling, sling_urls[engine], engine, table, env, out_dir, rows)
            if "dlt" in tools:
                run["dlt"] = dlt_run(dlt_urls[engine], engine, table, env, out_dir, rows)
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
        if base.on("tools"):
            entry["vs_baseline"] = usage_figures(
                "", [r["ours"] for r in runs], [r["base"] for r in runs], rows, "row",
                lambda rs: median_of(rs, lambda r: r["wall"]))
        results.append(entry)
        print(f"[bench] scale {scale} {engine}.{table} gzip vs tools: ours "
              f"{entry['ours']['seconds']:.2f} s; "
              + ", ".join(f"{t} {entry[t]['seconds']:.2f} s ({entry[f'ratio_{t}']:.2f}x ours)"
                          for t in ("plain", "sling", "dlt") if t in entry), flush=True)
