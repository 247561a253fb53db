"""The stream cells' part of BENCHMARKS.md (bench/stream_cell.py): their target rows and
their section."""


def held(ok):
    return "holds" if ok else "**does not hold**"


def stream_targets(r):
    """Target rows: changes/s on one core, p99 latency per rate, peak RSS of a 1M-row
    transaction."""
    s, out = r.get("stream") or {}, []
    if "throughput" in s:
        t = s["throughput"]
        plain = (f"; pg_recvlogical {t['pg_recvlogical']['changes_per_s']:,.0f} changes/s on the "
                 f"same backlog, ours / it {t['ratio_to_pg_recvlogical']:.2f}"
                 if "pg_recvlogical" in t else "")
        out.append(f"| stream ≥ {t['target']:,} changes/s on one core (ack endpoint) | "
                   f"{t['changes_per_s']:,.0f} changes/s, {t['cpu_us_per_change']:.2f} µs CPU/change"
                   f"{plain} | {held(t['changes_per_s'] >= t['target'])} |")
    for x in s.get("latency", []):
        out.append(f"| stream commit-to-applied p99 < {x['target_p99_ms']} ms at {x['rate']:,} "
                   f"changes/s | p50 {x['p50_ms']:.1f} ms, p99 {x['p99_ms']:.1f} ms | "
                   f"{held(x['p99_ms'] < x['target_p99_ms'])} |")
    if "memory" in s:
        m = s["memory"]
        out.append(f"| stream of a {m['rows']:,}-row transaction < {m['target_mb']} MB peak RSS | "
                   f"{m['peak_rss_mb']:.1f} MB | {held(m['peak_rss_mb'] < m['target_mb'])} |")
    return out


def stream_section(r):
    s = r.get("stream") or {}
    if not s:
        return []
    out = ["", "## Change stream (PostgreSQL, `--mode stream`)", "",
           "A table of its own (`bench_stream`: bigint key, integer, text, bigint), its own slot, "
           "publication and state table; the DynamoDB items go to the acknowledge-only endpoint "
           "(which forwards the state table's calls to moto), the change log to a local folder. "
           "Throughput: a backlog of 200,000 inserts, 200,000 updates and 50,000 deletes "
           "(transactions of 10,000 rows) drained by `--mode stream --catch-up` pinned to one "
           "core (`taskset`), start to exit. Latency: a running stream while pgbench writes "
           "single-row transactions (synchronous commit) at a fixed rate for 15 s; the endpoint "
           "subtracts each row's write time (a column) from the item's arrival. Memory: one "
           "transaction inserting 1,000,000 rows, drained by `--catch-up`.",
           "", "Anchors measured on this machine (the issue's): Debezium 3.6 embedded drained "
           "43.5k changes/s at 766 MB RSS, p99 19 ms with `poll.interval.ms=10`; "
           "`pg_recvlogical`, which decodes nothing, 309k changes/s, p99 0.9 ms. The "
           "throughput cell measures `pg_recvlogical` here too, side by side: the same backlog "
           "through a slot of its own into /dev/null, on the same core, before ours in odd "
           "repetitions and after it in even ones — the server's own speed of decoding and "
           "sending these changes, which no client can outrun.", ""]
    if "throughput" in s:
        t = s["throughput"]
        out += ["| cell | changes | s | changes/s | CPU µs / change | peak RSS MB |",
                "|---|---|---|---|---|---|",
                f"| backlog, 1 core | {t['changes']:,} | {t['seconds']:.2f} | "
                f"{t['changes_per_s']:,.0f} | {t['cpu_us_per_change']:.2f} | {t['peak_rss_mb']:.1f} |"]
        if "pg_recvlogical" in t:
            p = t["pg_recvlogical"]
            out.append(f"| backlog, `pg_recvlogical` to /dev/null | {t['changes']:,} | "
                       f"{p['seconds']:.2f} | {p['changes_per_s']:,.0f} | | |")
    if "memory" in s:
        m = s["memory"]
        out.append(f"| one {m['rows']:,}-row transaction | {m['rows']:,} | {m['seconds']:.2f} | "
                   f"{m['rows'] / m['seconds']:,.0f} | | {m['peak_rss_mb']:.1f} |")
    if s.get("latency"):
        out += ["", "| rate (changes/s) | rows | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
        for x in s["latency"]:
            out.append(f"| {x['rate']:,} | {x['count']:,} | {x['p50_ms']:.1f} | {x['p99_ms']:.1f} | "
                       f"{x['max_ms']:.1f} |")
    return out
