"""`make chaos`: SIGKILLs at random moments of a migrate, a backup and a stream, each followed
by a re-run and `--mode verify`; reports how many kills each got and how many left something
wrong (the target: none).

- migrate, backup: one full run is timed first; then, CHAOS_KILLS times, a run is killed at a
  moment drawn uniformly from that run's length, run again to the end (exit 0 required) and
  verified (exit 0, no MISMATCH).
- stream: a writer keeps changing `users` (points and names updated, users inserted and
  deleted) while `--mode stream` runs; CHAOS_KILLS times the stream is killed after a random
  0.2-3 s and started again; every fifth kill (and after the last) the writer pauses, a
  `--catch-up` stream drains what is left, verify runs, and the writer goes on.

Everything runs against the stack's cinema databases (`make seed` data) into its own bucket,
DynamoDB tables (prefix chaos-) and state table, so the tests' and the demo's are left alone;
the slot and publication are its own too. The stream's writer changes the cinema `users`:
the seed is loaded again at the end. Usage:
  chaos.py --binary build/data-ingestion [--kills 20] [--modes migrate,backup,stream]
           [--seed N]
Writes bench/results/chaos-<stamp>.json and prints a summary; exits 1 when any kill left a
failure."""
import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import threading
import time

from stack_sql import ROOT, psql, stack_env

MODES = ("migrate", "backup", "stream")
VERIFY_EVERY = 5  # stream kills between two catch-up + verify checks


def chaos_env(env, stamp):
    """Its own bucket, tables, state table, slot and publication."""
    tables = {f"DYNAMODB_{t.upper()}_TABLE": f"chaos-{stamp}-{t}"
              for t in ("movies", "rooms", "reservations", "users", "state")}
    return dict(env, S3_BUCKET_NAME=f"chaos-{stamp}", STREAM_SLOT=f"chaos_{stamp}",
                STREAM_PUBLICATION=f"chaos_{stamp}", **tables)


def run(binary, mode, env, *extra):
    """One run to its end: (exit code, its output)."""
    p = subprocess.run([binary, "--mode", mode, *extra], env=env, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def verify(binary, env):
    """None when verify is clean, else why not."""
    rc, out = run(binary, "verify", env)
    if rc != 0 or "MISMATCH" in out:
        marks = ("MISMATCH", "missing", "differ", "ERROR", "could not", "FAILED")
        lines = [l for l in out.splitlines() if any(m in l for m in marks)]
        return f"verify exit {rc}: " + " | ".join(lines[:12] or out.splitlines()[-3:])
    return None


def killed_at(binary, mode, env, seconds):
    """Starts a run, SIGKILLs it after `seconds` (when still running): whether it was."""
    p = subprocess.Popen([binary, "--mode", mode], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=seconds)
        return False  # ended first
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def chaos_runs(binary, mode, env, kills, rng):
    """Kill, re-run, verify, `kills` times; the mode's result. A backup's verify checks
    DynamoDB too: a migrate fills it first."""
    if mode == "backup":
        rc, out = run(binary, "migrate", env)
        if rc != 0:
            raise RuntimeError(f"the migrate before the backups failed (exit {rc}): {out[-1500:]}")
    t0 = time.monotonic()
    rc, out = run(binary, mode, env)
    if rc != 0:
        raise RuntimeError(f"a plain {mode} failed (exit {rc}): {out[-1500:]}")
    length = time.monotonic() - t0
    result = {"mode": mode, "run_seconds": round(length, 2), "kills": 0, "ended_first": 0,
              "failures": []}
    for i in range(kills):
        at = rng.uniform(0.05, length)
        if killed_at(binary, mode, env, at):
            result["kills"] += 1
        else:
            result["ended_first"] += 1
        rc, out = run(binary, mode, env)
        why = f"the re-run failed (exit {rc}): {out.strip().splitlines()[-1:]}" if rc else None
        why = why or verify(binary, env)
        if why:
            result["failures"].append({"kill": i + 1, "at_s": round(at, 2), "why": why})
        print(f"[chaos] {mode} {i + 1}/{kills}: killed at {at:.2f} s; "
              f"{'FAILED: ' + why if why else 'verify clean'}", flush=True)
    return result


class Writer:
    """Changes to `users` in a thread until stopped: points and names updated, users of its
    own (ids from 10,000,000) inserted and deleted, a transaction at a time."""

    def __init__(self, env, rng):
        self.env, self.rng = env, rng
        self.stop_flag = threading.Event()
        self.count = 0
        self.thread = None
        self.next_id = 10_000_000 + rng.randrange(1_000_000) * 100

    def start(self):
        self.stop_flag.clear()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def stop(self):
        self.stop_flag.set()
        if self.thread:
            self.thread.join()

    def loop(self):
        while not self.stop_flag.is_set():
            n, uid = self.next_id, self.rng.randrange(1, 1001)
            self.next_id += 1
            psql(f"UPDATE users SET loyalty_points = loyalty_points + 1, full_name = "
                 f"md5(random()::text), updated_at = now() WHERE id = {uid}; "
                 f"INSERT INTO users (id, email, full_name, preferences, favorite_genres, is_vip, "
                 f"loyalty_points, balance, created_at) VALUES ({n}, 'chaos{n}@example.com', "
                 f"'chaos', '{{}}', '{{}}', false, 0, 0, now()); "
                 f"DELETE FROM users WHERE id = {n - 3} AND email LIKE 'chaos%'", self.env)
            self.count += 1


def chaos_stream(binary, env, kills, rng):
    """The stream killed `kills` times under writes; caught up and verified every
    VERIFY_EVERY kills."""
    rc, out = run(binary, "setup", env, "--with-stream")
    if rc != 0:
        raise RuntimeError(f"setup --with-stream failed: {out[-1500:]}")
    rc, out = run(binary, "migrate", env)
    if rc != 0:
        raise RuntimeError(f"the stream's migrate failed: {out[-1500:]}")
    writer = Writer(env, random.Random(rng.randrange(1 << 30)))  # its own: another thread
    result = {"mode": "stream", "kills": 0, "ended_first": 0, "checks": 0, "failures": []}
    writer.start()
    try:
        for i in range(kills):
            at = rng.uniform(0.2, 3.0)
            result["kills" if killed_at(binary, "stream", env, at) else "ended_first"] += 1
            print(f"[chaos] stream {i + 1}/{kills}: killed at {at:.2f} s "
                  f"({writer.count} writer transactions so far)", flush=True)
            if (i + 1) % VERIFY_EVERY and i + 1 < kills:
                continue
            writer.stop()
            rc, out = run(binary, "stream", env, "--catch-up")
            why = f"the catch-up failed (exit {rc}): {out.strip().splitlines()[-1:]}" if rc else None
            why = why or verify(binary, env)
            result["checks"] += 1
            if why:
                result["failures"].append({"kill": i + 1, "why": why})
            print(f"[chaos] stream check after {i + 1} kills: "
                  f"{'FAILED: ' + why if why else 'verify clean'}", flush=True)
            if i + 1 < kills:
                writer.start()
    finally:
        writer.stop()
        psql("DELETE FROM users WHERE email LIKE 'chaos%@example.com'", env)
        psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE "
             f"slot_name = '{env['STREAM_SLOT']}' AND NOT active; "
             f"DROP PUBLICATION IF EXISTS {env['STREAM_PUBLICATION']}", env)
    result["writer_transactions"] = writer.count
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    modes = a.modes.split(",")
    if set(modes) - set(MODES):
        ap.error(f"--modes: unknown mode(s) {','.join(sorted(set(modes) - set(MODES)))}")
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dt%H%M%S")
    env = chaos_env(stack_env(), stamp)
    rc, out = run(a.binary, "setup", env)
    if rc != 0:
        raise SystemExit(f"[chaos] setup failed: {out[-1500:]}")
    print(f"[chaos] {a.kills} kills per mode ({', '.join(modes)}), seed {seed}", flush=True)
    results = []
    for mode in modes:
        if mode == "stream":
            results.append(chaos_stream(a.binary, env, a.kills, rng))
        else:
            results.append(chaos_runs(a.binary, mode, env, a.kills, rng))
    report = {"date": stamp, "seed": seed, "kills_per_mode": a.kills, "results": results}
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    path = os.path.join(ROOT, "bench", "results", f"chaos-{stamp}.json")
    with open(path, "w") as f:
        json.dump(report, f, indent=1)
    # The writer changed the cinema users' points and names: the seed's data comes back.
    if "stream" in modes:
        subprocess.run([os.path.join(ROOT, "scripts", "seed")], env=env, check=True,
                       capture_output=True)
    failed = 0
    for r in results:
        failed += len(r["failures"])
        print(f"[chaos] {r['mode']}: {r['kills']} killed ({r['ended_first']} ended before their "
              f"moment), {len(r['failures'])} failures", flush=True)
    print(f"[chaos] {path} written", flush=True)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
