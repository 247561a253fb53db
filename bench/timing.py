"""How bench/run_bench.py measures a run: wall clock and the child's rusage (CPU seconds and
peak RSS, by GNU time for one command), and the medians it reports."""
import os
import platform
import resource
import subprocess
import time


class Meter:
    """rusage of children between start and stop."""

    def __enter__(self):
        self.ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wall = time.monotonic() - self.t0
        self.cpu = (ru.ru_utime - self.ru0.ru_utime) + (ru.ru_stime - self.ru0.ru_stime)
        self.max_rss_mb = ru.ru_maxrss / 1024.0  # lifetime max over reaped children
        return False


def peak_rss_mb(cmd, env):
    """Peak RSS of one command, by GNU time."""
    p = subprocess.run(["/usr/bin/time", "-f", "%M %e %U %S"] + cmd, env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {p.stderr[-2000:]}")
    last = p.stderr.strip().splitlines()[-1].split()
    kb, wall, user, sys_ = int(last[0]), float(last[1]), float(last[2]), float(last[3])
    return kb / 1024.0, wall, user + sys_, p.stdout, p.stderr


def median_of(runs, wall):
    """The run with the median wall time (runs: results of repeated measurements)."""
    return sorted(runs, key=wall)[len(runs) // 2]


def measure(cmd, env, repeat):
    """peak_rss_mb repeated; the median run by wall time."""
    return median_of([peak_rss_mb(cmd, env) for _ in range(repeat)], lambda r: r[1])


def timed(cmd, env):
    """One run of our binary: peak RSS, wall (measured here, finer than GNU time's 10 ms),
    CPU."""
    rss, wall, cpu, _, _ = timed_full(cmd, env)
    return rss, wall, cpu


def timed_full(cmd, env):
    """timed, with the command's stdout and stderr."""
    t0 = time.monotonic()
    rss, _, cpu, out, err = peak_rss_mb(cmd, env)
    return rss, time.monotonic() - t0, cpu, out, err


def timed_shell(cmd, env):
    return timed_shell_full(cmd, env)[0]


def timed_shell_full(cmd, env):
    """A shell pipeline's wall and CPU (all its processes)."""
    with Meter() as m:
        subprocess.run(cmd, shell=True, check=True, env=env, executable="/bin/bash")
    return m.wall, m.cpu


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1),
            "os": platform.platform()}
