"""Renders a bench/results/<stamp>.json into BENCHMARKS.md (figures only from the file).
Usage: report.py RESULTS.json [OUT.md] (default OUT: BENCHMARKS.md)"""
import json
import os
import sys

from report_baseline import baseline_header, baseline_section, baseline_target
from report_stream import stream_section, stream_targets

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def targets(r):
    """The issue's targets, each with whether this run meets it."""
    def held(ok):
        return "holds" if ok else "**does not hold**"
    out = ["## Targets", "", "| target | measured | |", "|---|---|---|"]
    for where in ("local", "s3"):
        ratios = [b[f"ratio_{where}"] for b in r["backups"]]
        if ratios:
            worst = min(r["backups"], key=lambda b: b[f"ratio_{where}"])
            n_ok = sum(x >= 0.9 for x in ratios)
            out.append(f"| backup ≥ 0.90 × plain pipeline, {'local file' if where == 'local' else 'S3'} | "
                       f"{n_ok} of {len(ratios)} cells; lowest {min(ratios):.2f} "
                       f"({worst['engine']}.{worst['table']} {worst['codec']}, scale {worst['scale']}) | "
                       f"{held(n_ok == len(ratios))} |")
    ack = [g for g in r["migrations"] if g["target"].startswith("ack")]
    if ack:
        best = max(ack, key=lambda g: g["items_per_s"])
        one = [g for g in ack if "1 core" in g["target"]]
        shown = max(one, key=lambda g: g["items_per_s"]) if one else best
        out.append(f"| migrate ≥ 100,000 items/s on one core (ack endpoint) | "
                   f"{shown['items_per_s']:,.0f} items/s ({shown['target']}, scale {shown['scale']}), "
                   f"{shown['cpu_us_per_item']:.1f} µs CPU/item | {held(shown['items_per_s'] >= 1e5)} |")
    for x in r.get("noindex", []):
        out.append(f"| migrate of a table without an index on its change column ≤ "
                   f"{x['target']:.1f} × the time with one (ack endpoint) | "
                   f"{x['ratio']:.2f} ({x['noindex']['seconds']:.2f} s vs "
                   f"{x['indexed']['seconds']:.2f} s, {x['rows']:,} rows, scale {x['scale']}) | "
                   f"{held(x['ratio'] <= x['target'])} |")
    for x in r.get("restore", []):
        ok = x["ratio"] >= x["target"] and x["ours"]["peak_rss_mb"] < x["target_rss_mb"]
        out.append(f"| restore ≥ {x['target']:.1f} × `psql \\copy`'s speed in < "
                   f"{x['target_rss_mb']} MB ({x['table']}, {x['codec']}) | "
                   f"{x['ratio']:.2f} ({x['ours']['seconds']:.2f} s vs psql "
                   f"{x['psql']['seconds']:.2f} s, {x['rows']:,} rows, scale {x['scale']}), peak RSS "
                   f"{x['ours']['peak_rss_mb']:.1f} MB | {held(ok)} |")
    if r["memory"]:
        worst = max(x["ratio"] for x in r["memory"])
        peak = max(max(x["peak_rss_mb"]) for x in r["memory"])
        out.append(f"| peak RSS scale ratio ≤ 1.2 and < 128 MB | highest ratio {worst:.2f}, "
                   f"highest peak {peak:.1f} MB | {held(worst <= 1.2 and peak < 128)} |")
    return out + stream_targets(r) + baseline_target(r) + [""]


def tools_section(r):
    """Ours against the plain pipeline, Sling and dlt on the SQL tables."""
    if not r.get("tools"):
        return []
    tools = [t for t in ("plain", "sling", "dlt") if any(t in x for x in r["tools"])]
    names = {"plain": "plain", "sling": "Sling", "dlt": "dlt"}
    out = ["", "## Backup against Sling and dlt (JSON Lines + gzip, local folder)", "",
           "The SQL tables (MariaDB `seats`, `schedules`, PostgreSQL `reservations`; dlt has no "
           "simple MongoDB source, so `movies` is left out for both) backed up by ours "
           "(`--mode backup --table …`, `COMPRESSION=gzip`, a `file://` store), the plain "
           "pipeline (`… | gzip -1`), Sling (the binary of the `sling-linux-amd64` wheel: "
           "`sling run --src-conn … --src-stream … --tgt-object file://…/{stream_table}.jsonl.gz` "
           "with `format: jsonlines, compression: gzip`) and dlt (`bench/dlt_export.py`: "
           "`sql_database`'s `sql_table`, SQLAlchemy backend, `filesystem` destination, "
           "`loader_file_format=\"jsonl\"`, gzipped by dlt's default: Python's `gzip.open`, level 9), "
           "each tool with its defaults, back to back in each repetition (all four run the same number of times, without the short-run rule). Each run's output "
           "files are decompressed and their lines counted against the table's `COUNT(*)`. "
           "ratio = the tool's time / ours, the median of the repetitions' ratios (above 1 we "
           "are faster); CPU s is user + system of the tool's processes; peak RSS is the "
           "highest of the runs (not measured for the plain pipeline's several processes).", ""]
    names = [names[t] for t in tools]
    out += ["| scale | table | rows | ours s | " + " | ".join(f"{n} s" for n in names) + " | "
            + " | ".join(f"ratio {n}" for n in names) + " |",
            "|---|---|---|---|" + "---|" * 2 * len(tools)]
    cell = lambda x, t, f: f(x[t]) if t in x else ""
    for x in r["tools"]:
        out.append(f"| {x['scale']} | {x['engine']}.{x['table']} | {x['rows']:,} | "
                   f"{x['ours']['seconds']:.3f} | "
                   + " | ".join(cell(x, t, lambda v: f"{v['seconds']:.3f}") for t in tools) + " | "
                   + " | ".join(f"{x[f'ratio_{t}']:.2f}" if f"ratio_{t}" in x else "" for t in tools)
                   + " |")
    out += ["", "CPU seconds, peak RSS and the gzip output (MB) of the same median runs:", "",
            "| scale | table | ours CPU s | RSS MB | MB | "
            + " | ".join(f"{n} CPU s | RSS MB | MB" for n in names) + " |",
            "|---|---|---|---|---|" + "---|---|---|" * len(tools)]
    for x in r["tools"]:
        row = []
        for t in ["ours"] + tools:
            v = x.get(t)
            row += ([f"{v['cpu_s']:.2f}", f"{v['peak_rss_mb']:.1f}" if v.get("peak_rss_mb") else "",
                     f"{v['mb_out']:.1f}"] if v else ["", "", ""])
        out.append(f"| {x['scale']} | {x['engine']}.{x['table']} | " + " | ".join(row) + " |")
    return out


def header(r, results_name):
    """The title and the run: date, commit, baseline, machine, method."""
    m = r["machine"]
    out = ["# Benchmarks", "",
           "Measured by `make bench` (`bench/run_bench.py`); regenerated from "
           f"`bench/results/{results_name}`. Do not edit by hand.", "",
           f"- date: {r['date']}, commit `{r['commit']}`"
           + (f"; a partial run (`--only {','.join(r['only'])}`)" if r.get("only") else ""),
           f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}",
           "- the databases, moto and this program share those cores; the plain pipelines are "
           "`mariadb --quick | gzip -1`, `psql -c 'COPY … TO STDOUT' | gzip -1` (and `zstd -1`), "
           "and for MongoDB pymongo printing canonical Extended JSON (no mongoexport here), "
           "to a local file and through `aws s3 cp -` to the stack's S3.",
           f"- each figure is the median (by wall time) of {r.get('repeat', 1)} runs"
           + (f" ({r['short_run']['repeat']} for backups whose first runs take under "
              f"{r['short_run']['seconds']} s: start-up and scheduling noise dominate those)"
              if r.get("short_run") else "")
           + "; a backup "
           "ratio is the median of the runs' ratios, ours and the plain pipeline run back to "
           "back in each (this machine's speed drifts by tens of percent over minutes); peak "
           "RSS is the highest of the runs", ""]
    return out[:-1] + baseline_header(r) + [""]


def startup_note(r):
    """Our fixed cost per run beside the shortest backup."""
    out = []
    if r.get("startup_s") is not None and r["backups"]:
        small = min(r["backups"], key=lambda b: b["ours_local"]["seconds"])
        out += [f"Our fixed cost per run (start to exit of `--help`: the program and the shared "
                f"libraries it starts with; the MongoDB, PostgreSQL and HTTP client libraries are "
                f"opened when first used) is "
                f"{r['startup_s'] * 1000:.0f} ms; the shortest backup above "
                f"({small['engine']}.{small['table']}, scale {small['scale']}, "
                f"{small['rows']:,} rows) took {small['ours_local']['seconds'] * 1000:.0f} ms "
                f"in all, its plain pipeline {small['plain_local']['seconds'] * 1000:.0f} ms.", ""]
    return out


def backups_section(r):
    """Backup throughput, ours against the plain pipeline."""
    out = []
    if r["backups"]:
        out += ["## Backup throughput (ours vs the plain pipeline)", "",
                "ratio = plain pipeline's time / ours (≥ 0.90 is the target; above 1 we are "
                "faster).", "",
                "| scale | table | codec | rows | MB (JSON) | compression | ours local rows/s | MB/s | CPU s / M rows | peak RSS MB | plain local rows/s | ratio local | ours S3 rows/s | plain S3 rows/s | ratio S3 |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b in r["backups"]:
        o = b["ours_local"]
        out.append(f"| {b['scale']} | {b['engine']}.{b['table']} | {b['codec']} | {b['rows']:,} | "
                   f"{b['uncompressed_mb']:.1f} | {b['compression_ratio']:.1f} | {o['rows_per_s']:,.0f} | "
                   f"{o['mb_per_s']:.1f} | {o['cpu_s_per_million_rows']:.2f} | {o['peak_rss_mb']:.1f} | "
                   f"{b['plain_local']['rows_per_s']:,.0f} | {b['ratio_local']:.2f} | "
                   f"{b['ours_s3']['rows_per_s']:,.0f} | {b['plain_s3']['rows_per_s']:,.0f} | "
                   f"{b['ratio_s3']:.2f} |")
    return out


def migrations_section(r):
    """Migration to DynamoDB."""
    out = []
    if r["migrations"]:
        out += ["", "## Migration to DynamoDB", "",
                "`ack` is `bench/ack_server` (answers every BatchWriteItem with no "
                "UnprocessedItems): the client's own ceiling. One worker.", "",
                "| scale | table | target | items | items/s | CPU µs / item | peak RSS MB |",
                "|---|---|---|---|---|---|---|"]
        for g in r["migrations"]:
            out.append(f"| {g['scale']} | {g['table']} | {g['target']} | {g['items']:,} | "
                       f"{g['items_per_s']:,.0f} | {g['cpu_us_per_item']:.1f} | "
                       f"{g['peak_rss_mb']:.1f} |")
    return out


def noindex_section(r):
    """Migration without an index on the change column."""
    out = []
    if r.get("noindex"):
        out += ["", "## Migration without an index on the change column", "",
                "Two copies of PostgreSQL `reservations` made for the run (`CREATE TABLE … AS`, "
                "then `ADD PRIMARY KEY (id)` and `updated_at SET NOT NULL` as in reservations, "
                "dropped after): `bench_indexed` also "
                "has an index on (updated_at, id), `bench_noindex` has only its primary key. Each "
                "is migrated (`--mode migrate`, a mapping of that one table, no backup, one "
                "worker) to the acknowledge-only endpoint, the two back to back in each "
                "repetition (which goes first alternates); the endpoint keeps no sync state, so each "
                "run is a first, full migrate. ratio = the median of the repetitions' noindex "
                "time / indexed time (target ≤ 1.3).", "",
                "The cell stops repeating once its runs took 300 s in all (see repetitions).", "",
                "| scale | rows | repetitions | indexed s | items/s | CPU µs / item | no index s | items/s | "
                "CPU µs / item | peak RSS MB | ratio | target |",
                "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for x in r["noindex"]:
            i, n = x["indexed"], x["noindex"]
            out.append(f"| {x['scale']} | {x['rows']:,} | {x['repetitions']} | {i['seconds']:.2f} | "
                       f"{i['items_per_s']:,.0f} | {i['cpu_us_per_item']:.1f} | "
                       f"{n['seconds']:.2f} | {n['items_per_s']:,.0f} | {n['cpu_us_per_item']:.1f} | "
                       f"{max(i['peak_rss_mb'], n['peak_rss_mb']):.1f} | {x['ratio']:.2f} | "
                       f"≤ {x['target']:.1f}: {'holds' if x['ratio'] <= x['target'] else '**does not hold**'} |")
    return out


def restore_section(r):
    """Restore against psql \\copy."""
    out = []
    if r.get("restore"):
        out += ["", "## Restore against psql \\copy", "",
                "PostgreSQL `reservations` backed up by ours (gzip, a `file://` store), then in "
                "each repetition a fresh database: ours restores it (`--mode restore --latest "
                "--target-url …`, creating the table), then `psql \\copy` loads the same rows from "
                "a `COPY reservations TO` text file into an empty table made `LIKE` the restored "
                "one (`INCLUDING ALL`). ratio = the median of the repetitions' psql time / ours "
                "(target ≥ 0.8); peak RSS is ours (target < 64 MB).", "",
                "| scale | rows | repetitions | ours s | rows/s | CPU µs / row | peak RSS MB | "
                "psql s | ratio | target |", "|---|---|---|---|---|---|---|---|---|---|"]
        for x in r["restore"]:
            o = x["ours"]
            ok = x["ratio"] >= x["target"] and o["peak_rss_mb"] < x["target_rss_mb"]
            out.append(f"| {x['scale']} | {x['rows']:,} | {x['repetitions']} | {o['seconds']:.2f} | "
                       f"{o['rows_per_s']:,.0f} | {o['cpu_us_per_row']:.2f} | {o['peak_rss_mb']:.1f} | "
                       f"{x['psql']['seconds']:.2f} | {x['ratio']:.2f} | ≥ {x['target']:.1f}, "
                       f"< {x['target_rss_mb']} MB: {'holds' if ok else '**does not hold**'} |")
    return out


def memory_section(r):
    """Peak RSS of the backups across scales."""
    out = []
    if r["memory"]:
        out += ["", "## Memory across scales (backup, peak RSS)", "",
                "| table | scales | peak RSS MB | ratio |", "|---|---|---|---|"]
        for x in r["memory"]:
            out.append(f"| {x['table']} | {x['scales'][0]} → {x['scales'][1]} | "
                       f"{x['peak_rss_mb'][0]:.1f} → {x['peak_rss_mb'][1]:.1f} | {x['ratio']:.2f} |")
    return out


def micro_section(r):
    """The micro-benchmarks."""
    out = []
    if r.get("micro"):
        out += ["", "## Micro-benchmarks", "", "| benchmark | ns/op | items/s | MB/s | ratio |",
                "|---|---|---|---|---|"]
        for b in r["micro"]:
            fmt = lambda v, f: (f.format(v) if v else "")
            out.append(f"| {b['name']} | {b['ns_per_op']:.0f} | {fmt(b['items_per_s'], '{:,.0f}')} | "
                       f"{fmt(b['mb_per_s'], '{:.1f}')} | {fmt(b['ratio'], '{:.1f}')} |")
    return out


def main():
    r = json.load(open(sys.argv[1]))
    out = header(r, os.path.basename(sys.argv[1]))
    out += targets(r) + startup_note(r) + baseline_section(r) + backups_section(r)
    out += tools_section(r) + migrations_section(r) + noindex_section(r)
    out += restore_section(r) + memory_section(r) + stream_section(r) + micro_section(r)
    with open(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
