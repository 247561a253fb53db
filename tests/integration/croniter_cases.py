"""Random cron expressions and start times with their next firing by croniter (UTC), as
tab-separated lines: expression, start (epoch seconds), next (epoch seconds).
Usage: croniter_cases.py COUNT SEED

Two forms croniter 7 misreads are not generated: one-value ranges ("5-5" in the day of
week fires on Sundays) and ranges mixing a name and a number ("SEP-9"). Vixie cron and we
read them as the plain value and as September."""
import random
import sys
from datetime import datetime, timezone

from croniter import croniter

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def field(rng, lo, hi, names=None, allow_star_step=True):
    def val(v):
        if names and rng.random() < 0.3:
            return names[v - lo] if v - lo < len(names) else str(v)
        return str(v)

    kind = rng.choice(["*", "step", "one", "range", "rangestep", "list"])
    if kind == "*":
        return "*"
    if kind == "step" and allow_star_step:
        return f"*/{rng.randint(1, max(1, (hi - lo) // 2))}"
    if kind == "one":
        return val(rng.randint(lo, hi))
    a = rng.randint(lo, hi - 1)
    b = rng.randint(a + 1, hi)
    if kind == "range":
        if names and rng.random() < 0.3 and b - lo < len(names):
            return f"{names[a - lo]}-{names[b - lo]}"
        return f"{a}-{b}"
    if kind == "rangestep":
        return f"{a}-{b}/{rng.randint(1, max(1, b - a + 1))}"
    return ",".join(str(v) for v in sorted(rng.sample(range(lo, hi + 1), rng.randint(2, 4))))


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    made = 0
    while made < count:
        expr = " ".join([
            field(rng, 0, 59),
            field(rng, 0, 23),
            field(rng, 1, 31, allow_star_step=False),
            field(rng, 1, 12, MONTHS),
            field(rng, 0, 6, DAYS, allow_star_step=False),
        ])
        start = rng.randint(946684800, 2082758400)  # 2000 .. 2036
        try:
            nxt = croniter(expr, datetime.fromtimestamp(start, timezone.utc)).get_next(datetime)
        except Exception:  # noqa: BLE001 - an expression croniter cannot place (e.g. 31 FEB)
            continue
        print(f"{expr}\t{start}\t{int(nxt.timestamp())}")
        made += 1


if __name__ == "__main__":
    main()
