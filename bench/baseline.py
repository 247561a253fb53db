"""The baseline column of `make bench`: another commit's binary (BENCH_BASELINE, HEAD~1 by
default) built beside ours and run interleaved with it in every timed cell (one run of each
per repetition, which goes first alternating), and each figure of ours set against the
baseline's.

The build lives in <BENCH_BASELINE_DIR>/<hash of that commit's build inputs: src/,
CMakeLists.txt, bench/*.cpp>/ (the commit's files by `git archive`, built RelWithDebInfo with
Ninja as the Makefile does, tests off) and is reused while that folder has the binary.
A cell the baseline binary cannot run (a mode or option it does not know, a failed run) is
skipped for the baseline with a note; ours is measured as usual."""
import hashlib
import os
import subprocess

from stack_sql import ROOT

SLOWER_RATIO = 0.95  # "slower": ours worse than 0.95 × the baseline ...
SLOWER_MIN_RUNS = 3  # ... each binary run at least this often, their run ranges apart


def git(*args):
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout


def inputs_hash(commit):
    """A short hash of the commit's build inputs: the src/ tree, CMakeLists.txt and bench/*.cpp."""
    lines = [git("rev-parse", f"{commit}:src").strip(), git("rev-parse", f"{commit}:CMakeLists.txt").strip()]
    lines += sorted(line for line in git("ls-tree", commit, "bench/").splitlines()
                    if line.endswith(".cpp"))
    return hashlib.sha1("\n".join(lines).encode()).hexdigest()[:12]


def build(ref, parent, jobs):
    """Builds ref's binaries (data-ingestion; micro_bench when its CMakeLists has it) under
    parent/<inputs hash>/, or reuses them; returns (commit, data-ingestion, micro_bench or None)."""
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    folder = os.path.join(parent if os.path.isabs(parent) else os.path.join(ROOT, parent),
                          inputs_hash(commit))
    tree, out = os.path.join(folder, "tree"), os.path.join(folder, "build")
    binary, micro = os.path.join(out, "data-ingestion"), os.path.join(out, "micro_bench")
    if not os.access(binary, os.X_OK):
        print(f"[bench] building the baseline {commit[:10]} ({ref}) in {os.path.relpath(folder, ROOT)}",
              flush=True)
        os.makedirs(tree, exist_ok=True)
        archive = subprocess.Popen(["git", "archive", commit], cwd=ROOT, stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", tree], stdin=archive.stdout, check=True)
        if archive.wait() != 0:
            raise RuntimeError(f"git archive {commit} failed")
        log = open(os.path.join(folder, "build.log"), "w")
        if not os.path.exists(os.path.join(out, "build.ninja")):
            subprocess.run(["cmake", "-S", tree, "-B", out, "-G", "Ninja",
                            "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DDI_BUILD_TESTS=OFF"],
                           check=True, stdout=log, stderr=subprocess.STDOUT)
        subprocess.run(["cmake", "--build", out, "-j", str(jobs), "--target", "data-ingestion"],
                       check=True, stdout=log, stderr=subprocess.STDOUT)
        # Older commits may have no micro_bench target: the micro cell then runs ours alone.
        subprocess.run(["cmake", "--build", out, "-j", str(jobs), "--target", "micro_bench"],
                       stdout=log, stderr=subprocess.STDOUT)
    return commit, binary, micro if os.access(micro, os.X_OK) else None


class Baseline:
    """The baseline binary as the cells use it: on for a cell until a run of it fails there."""

    def __init__(self, commit=None, binary=None, micro=None, ref=None):
        self.commit, self.binary, self.micro, self.ref = commit, binary, micro, ref
        self.skipped = {}  # cell -> why the baseline did not run there

    def on(self, cell):
        return self.binary is not None and cell not in self.skipped

    def skip(self, cell, why):
        if self.binary is not None and cell not in self.skipped:
            self.skipped[cell] = why
            print(f"[bench] baseline skipped in {cell}: {why}", flush=True)

    def run(self, cell, fn):
        """fn(baseline binary), or None (and the cell skipped) when the baseline is off there or
        the run fails."""
        if not self.on(cell):
            return None
        try:
            return fn(self.binary)
        except (RuntimeError, subprocess.CalledProcessError, StopIteration, ValueError,
                KeyError, OSError) as e:
            err = getattr(e, "stderr", None) or b""
            err = err.decode(errors="replace") if isinstance(err, bytes) else err
            self.skip(cell, " ".join(f"{e} {err}".split())[-400:])
            return None

    def pair(self, cell, i, ours, theirs):
        """(ours(), the baseline's run or None) of repetition i, in turn: ours first in even
        repetitions, the baseline first in odd ones. Always first, ours measured 27% slower
        than the same code built as the baseline in the restore cell (an A/A run): what the
        previous run leaves behind falls on whichever goes first."""
        if i % 2 == 0:
            o = ours()
            return o, self.run(cell, theirs)
        b = self.run(cell, theirs)
        return ours(), b

    def report(self):
        if self.binary is None:
            return None
        return {"ref": self.ref, "commit": self.commit,
                "skipped": [{"cell": c, "why": w} for c, w in self.skipped.items()]}


def figure(name, ours, base, ours_runs, base_runs, better="higher"):
    """One figure of ours against the baseline's: ratio = ours / baseline; better says which
    way is better for it ("higher": throughput; "lower": times, CPU, memory). slower only when
    the ratio is worse than SLOWER_RATIO (as ours/baseline for higher-better figures,
    baseline/ours for lower-better ones), the two binaries' run ranges do not overlap and each
    ran at least SLOWER_MIN_RUNS times."""
    ratio = ours / base if base else None
    gain = (ratio if better == "higher" else (base / ours if ours else None)) if base else None
    lo_o, hi_o, lo_b, hi_b = min(ours_runs), max(ours_runs), min(base_runs), max(base_runs)
    apart = hi_o < lo_b if better == "higher" else lo_o > hi_b
    enough = len(ours_runs) >= SLOWER_MIN_RUNS and len(base_runs) >= SLOWER_MIN_RUNS
    return {"figure": name, "better": better, "ours": ours, "baseline": base,
            "ratio": ratio, "ours_range": [lo_o, hi_o], "baseline_range": [lo_b, hi_b],
            "runs": [len(ours_runs), len(base_runs)],
            "slower": bool(gain is not None and gain < SLOWER_RATIO and apart and enough)}


def usage_figures(label, ours, base, count, unit, pick):
    """The throughput, CPU per unit and peak RSS figures of one cell from both binaries' runs
    (lists of {"wall", "cpu", "rss"}); pick(runs) is the run whose wall and CPU are reported."""
    o, b = pick(ours), pick(base)
    return [
        figure(f"{label} {unit}/s".strip(), count / o["wall"], count / b["wall"],
               [count / r["wall"] for r in ours], [count / r["wall"] for r in base]),
        figure(f"{label} CPU µs/{unit}".strip(), o["cpu"] / count * 1e6, b["cpu"] / count * 1e6,
               [r["cpu"] / count * 1e6 for r in ours], [r["cpu"] / count * 1e6 for r in base],
               "lower"),
        figure(f"{label} peak RSS MB".strip(), max(r["rss"] for r in ours), max(r["rss"] for r in base),
               [r["rss"] for r in ours], [r["rss"] for r in base], "lower"),
    ]
