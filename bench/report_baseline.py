"""The baseline part of BENCHMARKS.md: which commit ran beside ours, and every figure of ours
against the baseline's (bench/baseline.py measures them)."""


METHOD = ("`BENCH_BASELINE` (a git ref, default `HEAD~1`; `none`: no baseline) names the commit "
          "whose binary runs beside ours: built from that commit's files (`git archive`, "
          "RelWithDebInfo, Ninja, no tests) in `BENCH_BASELINE_DIR` (default `build-baseline`)"
          "`/<hash of its src/, CMakeLists.txt and bench/*.cpp>`, reused while there, and run "
          "interleaved with ours (ours, baseline, baseline, ours, …: which goes first alternates) "
          "in every timed cell; a cell it cannot "
          "run is skipped for it with a note. A figure of ours is flagged **slower** only when "
          "it is worse than 0.95 × the baseline's, the two binaries' run ranges do not overlap "
          "and each ran at least 3 times")


def baseline_header(r):
    """The bullet naming the baseline (and how it is measured), for the top of the report."""
    if "baseline" not in r:
        return [f"- baseline: none in this run (its results predate the baseline column). {METHOD}"]
    b = r["baseline"]
    if not b:
        return [f"- baseline: none (`BENCH_BASELINE=none`). {METHOD}"]
    if b.get("error"):
        return [f"- baseline `{b['ref']}`: **not measured**, {b['error']}. {METHOD}"]
    return [f"- baseline: commit `{b['commit'][:10]}` (`BENCH_BASELINE={b['ref']}`). {METHOD}"]


def cells(r):
    """(cell label, figures) for every entry that has figures against the baseline."""
    if r.get("startup_vs_baseline"):
        yield "start-up (`--help`)", r["startup_vs_baseline"]
    for b in r.get("backups", []):
        yield f"backup {b['scale']} {b['engine']}.{b['table']} {b['codec']}", b.get("vs_baseline")
    for x in r.get("tools", []):
        yield f"tools {x['scale']} {x['engine']}.{x['table']} gzip", x.get("vs_baseline")
    for g in r.get("migrations", []):
        yield f"migrate {g['scale']} {g['table']} → {g['target']}", g.get("vs_baseline")
    for x in r.get("noindex", []):
        yield f"no index {x['scale']} {x['table']}", x.get("vs_baseline")
    for x in r.get("restore", []):
        yield f"restore {x['scale']} {x['table']}", x.get("vs_baseline")
    for x in r.get("memory", []):
        yield f"memory {x['table']} {x['scales'][0]} → {x['scales'][1]}", x.get("vs_baseline")
    t = (r.get("stream") or {}).get("throughput")
    if t:
        yield "stream backlog → ack, 1 core", t.get("vs_baseline")
    for x in r.get("micro") or []:
        yield f"micro {x['name']}", x.get("vs_baseline")


def num(v):
    if v is None:
        return ""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3g}"


def slower_figures(r):
    rows = [(c, f) for c, figs in cells(r) if figs for f in figs]
    return rows, [(c, f) for c, f in rows if f["slower"]]


def baseline_target(r):
    """The targets table's row: no figure of ours slower than the baseline's."""
    b = r.get("baseline")
    if not b or b.get("error"):
        return []
    rows, slower = slower_figures(r)
    held = "holds" if not slower else "**does not hold**"
    return [f"| no figure of ours slower than the baseline's (`{b['commit'][:10]}`, "
            f"{b['ref']}), side by side in this run | {len(rows)} figures, {len(slower)} slower"
            f"{', ' + str(len(b.get('skipped', []))) + ' cells without the baseline' if b.get('skipped') else ''}"
            f" | {held} |"]


def baseline_section(r):
    b = r.get("baseline")
    if not b or b.get("error"):
        return []
    rows, slower = slower_figures(r)
    out = ["## Against the baseline", "",
           f"Ours (`{r['commit']}`) and the baseline (`{b['commit'][:10]}`, `{b['ref']}`) ran "
           "interleaved, one run of each in every repetition, ours first in even repetitions and "
           "the baseline first in odd ones (whichever always went first was measured slower: "
           "27% in an A/A restore), on the same data and settings (the baseline restores our "
           "backup); each side's figure is taken as "
           "ours is in the sections below (the median run; peak RSS the highest). ratio = ours "
           "/ baseline: for throughput (`/s`, higher is better) above 1 means ours is faster; "
           "for CPU per unit, peak RSS, ns/op and start-up ms (lower is better) above 1 means "
           "ours takes more. A figure is **slower** only when ours is worse than 0.95 × the "
           "baseline (for a lower-better figure: baseline / ours < 0.95), the two binaries' run "
           "ranges do not overlap and each ran at least 3 times; the memory scale ratio is one "
           "figure per binary (its peaks are compared in the backup rows) and is never flagged.",
           ""]
    out.append(f"{len(rows)} figures compared; "
               + (f"**{len(slower)} slower**: " + "; ".join(f"{c} {f['figure']} ({f['ratio']:.2f})"
                                                            for c, f in slower)
                  if slower else "none slower") + ".")
    for s in b.get("skipped", []):
        out.append(f"- baseline not measured in `{s['cell']}`: {s['why']}")
    out += ["", "| cell | figure | ours | baseline | ratio | better | runs | ours range | "
            "baseline range | |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c, f in rows:
        rng = lambda v: f"{num(v[0])} – {num(v[1])}"
        out.append(f"| {c} | {f['figure']} | {num(f['ours'])} | {num(f['baseline'])} | "
                   f"{'' if f['ratio'] is None else format(f['ratio'], '.2f')} | {f['better']} | "
                   f"{f['runs'][0]} + {f['runs'][1]} | {rng(f['ours_range'])} | "
                   f"{rng(f['baseline_range'])} | {'**slower**' if f['slower'] else ''} |")
    return out + [""]
