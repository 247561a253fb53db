"""The micro-benchmarks (Google Benchmark: build/micro_bench), ours and the baseline's in turn,
and our fixed cost per run (start to exit of `--help`)."""
import json
import subprocess
import time

from baseline import figure
from timing import median, median_of


def micro_run(micro):
    p = subprocess.run([micro, "--benchmark_format=json", "--benchmark_min_time=0.2"],
                       capture_output=True, text=True, check=True)
    return {b["name"]: b for b in json.loads(p.stdout)["benchmarks"]}


MICRO_REPEATS = 3  # micro_bench runs this many times as often as --repeat says


def bench_micro(micro, repeat, base):
    """repeat × MICRO_REPEATS runs of micro_bench (a few seconds each), each paired with one of
    the baseline's (base.micro); per benchmark the run with the median time is reported. On
    this shared machine consecutive runs of one binary differ by up to 2x (an A/A run of 3
    each flagged one benchmark slower): their median and range need more runs."""
    if base.binary is not None and base.micro is None:
        base.skip("micro", "the baseline build has no micro_bench")
    runs, base_runs = [], []
    for i in range(repeat * MICRO_REPEATS):
        o, b = base.pair("micro", i, lambda: micro_run(micro), lambda _: micro_run(base.micro))
        runs.append(o)
        if b:
            base_runs.append(b)
    out = []
    for name in runs[0]:
        b = median_of([r[name] for r in runs], lambda x: x["real_time"])
        entry = {"name": name, "ns_per_op": b["real_time"], "items_per_s": b.get("items_per_second"),
                 "mb_per_s": (b.get("bytes_per_second") or 0) / 1e6 or None,
                 "ratio": b.get("ratio"), "repetitions": len(runs)}
        if base.on("micro") and all(name in r for r in base_runs):
            mine = [r[name]["real_time"] for r in runs]
            theirs = [r[name]["real_time"] for r in base_runs]
            entry["vs_baseline"] = [figure("ns/op", b["real_time"],
                                           median_of(theirs, lambda x: x), mine, theirs, "lower")]
        out.append(entry)
    return out


def startup_run(binary, env):
    t0 = time.monotonic()
    subprocess.run([binary, "--help"], env=env, capture_output=True, check=True)
    return time.monotonic() - t0


def bench_startup(binary, env, base):
    """Our fixed cost per run: loading the program and its shared libraries, to exit (11 runs,
    each paired with one of the baseline's): (median seconds, figures against the baseline)."""
    starts, base_starts = [], []
    for i in range(11):
        o, b = base.pair("start-up", i, lambda: startup_run(binary, env), lambda b: startup_run(b, env))
        starts.append(o)
        if b is not None:
            base_starts.append(b)
    if not base.on("start-up"):
        return median(starts), None
    ms = lambda v: [x * 1000 for x in v]
    return median(starts), [figure("start-up ms", median(starts) * 1000, median(base_starts) * 1000,
                                   ms(starts), ms(base_starts), "lower")]
