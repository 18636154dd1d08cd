"""SLA engine at scale: 10,000 components with a year of history; 10,000 customers' credits.

Prints the engine's time beside a naive per-minute-bucket computation over the same data, as a
ratio. The naive method is run on a sample of components and scaled linearly (it is far too
slow for all of them); the sample size is printed.

    .venv/bin/python bench/sla.py [--components 10000] [--naive-sample 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from zoneinfo import ZoneInfo

from statuswatch.sla import periods
from statuswatch.sla.availability import evaluate
from statuswatch.sla.credits import PerExcessHour
from statuswatch.sla.evidence import ServiceInputs, ServiceTimeline
from statuswatch.sla.intervals import normalize, subtract, union

UTC = ZoneInfo("UTC")
NOW = int(periods.month(2026, 11, UTC).start + 21 * 86400 + 13 * 3600)  # 2026-11-22 13:00Z
YEAR_AGO = NOW - 365 * 86400
WINDOWS = list(periods.ROLLING_WINDOWS)


def history(rng: random.Random) -> ServiceInputs:
    """A year of one component: 200 outages, 50 maintenance windows, a few gaps."""
    outages = []
    for _ in range(200):
        start = rng.randrange(YEAR_AGO, NOW)
        outages.append((start, start + rng.randrange(30, 7200)))
    maint = []
    for _ in range(50):
        start = rng.randrange(YEAR_AGO, NOW)
        maint.append((start, start + 7200))
    gaps = []
    for _ in range(5):
        start = rng.randrange(YEAR_AGO, NOW)
        gaps.append((start, start + rng.randrange(60, 3600)))
    return ServiceInputs(normalize(outages), normalize(maint), normalize(gaps))


# The periods are the same for every component: a page computes them once per request.
PERIODS = [*(periods.rolling(w, NOW) for w in WINDOWS), periods.month_to_date(NOW, UTC)]


def all_windows(timeline: ServiceTimeline) -> list:
    figs = [timeline.figures(period, 99.9, policy="excluded") for period in PERIODS]
    for fig in figs:  # what a page shows: availability and budget left, so they are computed
        fig.availability, fig.budget_remaining  # noqa: B018
    return figs


def naive_windows(inputs: ServiceInputs) -> list[tuple[int, int, int]]:
    """Per-minute buckets over the year: mark each minute, count per window."""
    minutes = (NOW - YEAR_AGO) // 60
    down, maint, dark = bytearray(minutes), bytearray(minutes), bytearray(minutes)
    for arr, ivs in (
        (down, inputs.downtime),
        (maint, inputs.maintenance),
        (dark, inputs.unmonitored),
    ):
        for s, e in ivs:
            a, b = max(0, (s - YEAR_AGO) // 60), min(minutes, (e - YEAR_AGO) // 60)
            arr[a:b] = b"\x01" * max(0, b - a)
    out = []
    starts = [NOW - periods.ROLLING_WINDOWS[w] for w in WINDOWS]
    starts.append(periods.month_to_date(NOW, UTC).start)
    for lo in starts:
        first = max(0, (lo - YEAR_AGO) // 60)
        unexcused = excused = unmonitored = 0
        for i in range(first, minutes):
            if down[i]:
                if maint[i]:
                    excused += 1
                else:
                    unexcused += 1
            elif dark[i]:
                unmonitored += 1
        out.append((unexcused, excused, unmonitored))
    return out


def credits_for_customers(components: list[ServiceInputs], n: int, rng: random.Random) -> float:
    """Monthly credits for n customers, each on 2 shared platform components + one storefront."""
    october = periods.month(2026, 10, UTC)
    scheme = PerExcessHour(percent_per_hour=5, cap_percent=100)
    lo, hi = october.start, october.end
    clipped = [
        ServiceInputs(
            normalize(c.downtime, lo, hi),
            normalize(c.maintenance, lo, hi),
            normalize(c.unmonitored, lo, hi),
        )
        for c in components
    ]
    t0 = time.perf_counter()
    total = 0.0
    for i in range(n):
        parts = [clipped[0], clipped[1], clipped[2 + i % (len(clipped) - 2)]]
        down = union(*(p.downtime for p in parts))
        unexcused = union(*(subtract(p.downtime, p.maintenance) for p in parts))
        fig = evaluate(
            october,
            99.9,
            downtime=down,
            maintenance=subtract(down, unexcused),
            unmonitored=union(*(p.unmonitored for p in parts)),
        )
        total += float(scheme.percent(fig))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(42)
    data = [history(rng) for _ in range(args.components)]

    t0 = time.perf_counter()
    timelines = [ServiceTimeline(inputs) for inputs in data]
    for timeline in timelines:
        all_windows(timeline)
    engine = time.perf_counter() - t0

    sample = data[: args.naive_sample]
    t0 = time.perf_counter()
    for inputs in sample:
        naive_windows(inputs)
    naive = (time.perf_counter() - t0) * args.components / len(sample)

    # The two methods must agree (whole minutes here, since the naive one only sees minutes).
    for inputs in sample[:5]:
        exact = all_windows(ServiceTimeline(inputs))
        rough = naive_windows(inputs)
        for fig, (u, _e, _d) in zip(exact, rough, strict=True):
            assert abs(fig.unexcused / 60 - u) <= 2 * 200 + 2, "naive and exact disagree"

    credits = credits_for_customers(data, args.customers, rng)
    result = {
        "components": args.components,
        "windows_per_component": len(WINDOWS) + 1,
        "engine_all_windows_s": round(engine, 3),
        "naive_all_windows_s_extrapolated": round(naive, 1),
        "naive_sample": len(sample),
        "speedup_vs_naive": round(naive / engine, 1),
        "customers": args.customers,
        "monthly_credits_s": round(credits, 3),
    }
    print(f"{'what':<44}{'seconds':>10}  target")
    print(
        f"{'all windows + MTD, ' + str(args.components) + ' components (engine)':<44}"
        f"{engine:>10.3f}  < 2"
    )
    print(
        f"{'same, naive per-minute buckets (extrapolated)':<44}{naive:>10.1f}  "
        f"(sample of {len(sample)})"
    )
    print(f"{'monthly credits, ' + str(args.customers) + ' customers':<44}{credits:>10.3f}  < 2")
    print(f"engine / naive time ratio: {engine / naive:.5f} ({naive / engine:.0f}x faster)")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
