"""The backup cell: every table and codec backed up by ours and by the plain pipeline, to a
local folder and to the stack's S3."""
import os
import shutil
import tempfile

from baseline import figure, usage_figures
from stack_sql import ROOT, TABLES, manifest_of, plain_export
from timing import median, median_of, timed, timed_shell


SHORT_RUN_S = 0.25  # backups shorter than this (median of the first runs) ...
SHORT_RUN_REPEATS = 3  # ... are repeated this many times as often


def backup_once(binary, engine, table, env, codec, out_dir, s3_bucket):
    """One backup to a fresh local folder, then one to S3: (rss, wall, cpu, wall_s3, manifest)."""
    cmd = [binary, "--mode", "backup", "--table", f"{engine}.{table}"]
    store = tempfile.mkdtemp(dir=out_dir)
    e = dict(env, COMPRESSION=codec, S3_BUCKET_NAME="file://" + store)
    rss, wall, cpu = timed(cmd, e)
    m = manifest_of(store, engine, table)
    shutil.rmtree(store, ignore_errors=True)
    _, wall_s3, _ = timed(cmd, dict(e, S3_BUCKET_NAME=s3_bucket))
    return rss, wall, cpu, wall_s3, m


def bench_backups(binary, env, scale, out_dir, s3_bucket, results, repeat, base):
    """Each repetition runs ours, the baseline (base) and the plain pipeline back to back (local,
    then S3), so a ratio compares runs that saw the same machine (its speed drifts by tens of
    percent over minutes here); the ratio reported is the median of the repetitions' ratios."""
    aws = os.path.join(ROOT, ".venv", "bin", "aws")
    for engine, table in TABLES:
        for codec in ("gzip", "zstd"):
            tool = "gzip -1" if codec == "gzip" else "zstd -1 -q"
            plain_file = os.path.join(out_dir, f"plain-{table}.{codec}")
            plain_local = f"{plain_export(engine, table, env)} | {tool} > {plain_file}"
            plain_s3 = (f"{plain_export(engine, table, env)} | {tool} | {aws} "
                        f"--endpoint-url {env['AWS_ENDPOINT_URL']} s3 cp - "
                        f"s3://{s3_bucket}/plain/{table}.{codec}")
            runs = []
            m = None
            wanted = repeat
            while len(runs) < wanted:
                once = lambda bin_: backup_once(bin_, engine, table, env, codec, out_dir,
                                                s3_bucket)
                (rss, wall, cpu, wall_s3, m1), b = base.pair("backup", len(runs),
                                                             lambda: once(binary), once)
                m = m or m1
                pwall = timed_shell(plain_local, env)
                pwall_s3 = timed_shell(plain_s3, env)
                runs.append({"rss": rss, "wall": wall, "cpu": cpu, "plain": pwall,
                             "wall_s3": wall_s3, "plain_s3": pwall_s3})
                if b:
                    runs[-1]["base"] = {"rss": b[0], "wall": b[1], "cpu": b[2], "wall_s3": b[3]}
                # Runs of a few tens of milliseconds are mostly start-up and scheduling noise
                # (tens of percent between neighbours here): their median needs more of them.
                if len(runs) == repeat and median([r["wall"] for r in runs]) < SHORT_RUN_S:
                    wanted = repeat * SHORT_RUN_REPEATS
            entry = backup_entry(scale, engine, table, codec, m, runs)
            if base.on("backup"):
                entry["vs_baseline"] = backup_vs_baseline(m["row_count"], runs)
            results.append(entry)
            print(f"[bench] scale {scale} {engine}.{table} {codec}: ours "
                  f"{entry['ours_local']['rows_per_s']:,.0f} rows/s local "
                  f"({entry['ratio_local']:.2f}x plain), {entry['ours_s3']['rows_per_s']:,.0f} "
                  f"rows/s S3 ({entry['ratio_s3']:.2f}x plain), peak RSS "
                  f"{entry['ours_local']['peak_rss_mb']:.1f} MB", flush=True)


def backup_entry(scale, engine, table, codec, m, runs):
    rows = m["row_count"]
    raw = sum(p["uncompressed_bytes"] for p in m["parts"])
    stored = sum(p["bytes"] for p in m["parts"])
    mid = median_of(runs, lambda r: r["wall"])
    wall, rss, cpu = mid["wall"], max(r["rss"] for r in runs), mid["cpu"]
    wall_s3 = median([r["wall_s3"] for r in runs])
    plain, plain_s3 = median([r["plain"] for r in runs]), median([r["plain_s3"] for r in runs])
    return {
        "scale": scale, "engine": engine, "table": table, "codec": codec, "rows": rows,
        "uncompressed_mb": raw / 1e6, "compression_ratio": raw / max(stored, 1),
        "ours_local": {"seconds": wall, "rows_per_s": rows / wall, "mb_per_s": raw / 1e6 / wall,
                       "cpu_s_per_million_rows": cpu / rows * 1e6, "peak_rss_mb": rss},
        "plain_local": {"seconds": plain, "rows_per_s": rows / plain},
        "ratio_local": median([r["plain"] / r["wall"] for r in runs]),
        "ours_s3": {"seconds": wall_s3, "rows_per_s": rows / wall_s3},
        "plain_s3": {"seconds": plain_s3, "rows_per_s": rows / plain_s3},
        "ratio_s3": median([r["plain_s3"] / r["wall_s3"] for r in runs]),
        "repetitions": len(runs),
        "runs": runs,
    }


def backup_vs_baseline(rows, runs):
    """Ours against the baseline from the same repetitions, each side's figure taken as ours
    is (the median run by wall; S3: the median wall; peak RSS: the highest)."""
    base = [r["base"] for r in runs]
    out = usage_figures("local", runs, base, rows, "row", lambda rs: median_of(rs, lambda r: r["wall"]))
    s3_o, s3_b = [r["wall_s3"] for r in runs], [r["wall_s3"] for r in base]
    out.append(figure("S3 row/s", rows / median(s3_o), rows / median(s3_b),
                      [rows / w for w in s3_o], [rows / w for w in s3_b]))
    return out


def memory_across_scales(backups, tables):
    """Per table, the highest peak RSS of its backups at the smallest and the largest scale,
    ours and (where the backups have it) the baseline's."""
    scales = sorted({b["scale"] for b in backups})
    if len(scales) < 2:
        return []
    lo, hi = scales[0], scales[-1]
    out = []
    for engine, table in tables:
        mine = [b for b in backups if b["table"] == table]
        peak = lambda s, f: max(f(r) for b in mine if b["scale"] == s for r in b["runs"])
        r = {s: max(b["ours_local"]["peak_rss_mb"] for b in mine if b["scale"] == s) for s in (lo, hi)}
        entry = {"table": f"{engine}.{table}", "scales": [lo, hi], "peak_rss_mb": [r[lo], r[hi]],
                 "ratio": r[hi] / r[lo]}
        if all("vs_baseline" in b for b in mine):
            theirs = {s: peak(s, lambda run: run["base"]["rss"]) for s in (lo, hi)}
            # One figure per binary (derived from the backups' peaks, which are compared
            # there): shown, never flagged.
            entry["vs_baseline"] = [figure("peak RSS scale ratio", entry["ratio"],
                                           theirs[hi] / theirs[lo], [entry["ratio"]],
                                           [theirs[hi] / theirs[lo]], "lower")]
        out.append(entry)
    return out
