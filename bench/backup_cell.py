"""The backup cell: every table and codec backed up by ours and by the plain pipeline, to a
local folder and to the stack's S3."""
import os
import shutil
import tempfile

from stack_sql import ROOT, TABLES, manifest_of, plain_export
from timing import median, median_of, timed, timed_shell


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
