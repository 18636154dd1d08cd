"""Interval algebra, periods and the availability engine: exact, and property-tested."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statuswatch.sla import periods
from statuswatch.sla.availability import UNMONITORED_POLICIES, evaluate
from statuswatch.sla.credits import NoCredit, PerExcessHour, Tier, Tiered, credit_amount
from statuswatch.sla.intervals import intersect, measure, normalize, subtract, union

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
DAY = 86400
P = periods.explicit(0, 30 * DAY)

spans = st.lists(
    st.tuples(st.integers(-DAY, 31 * DAY), st.integers(0, 3 * DAY)).map(
        lambda t: (t[0], t[0] + t[1])
    ),
    max_size=12,
)


def covered(ivs, lo=-2 * DAY, hi=34 * DAY, step=600):
    """A naive per-10-minute membership set, to check the algebra against."""
    return {t for t in range(lo, hi, step) if any(s <= t < e for s, e in ivs)}


@given(spans)
def test_normalize_is_idempotent_and_order_independent(ivs):
    once = normalize(ivs)
    assert normalize(once) == once
    assert normalize(list(reversed(ivs))) == once
    assert all(a[1] < b[0] for a, b in pairwise(once))  # merged, not adjacent


@given(spans, spans)
def test_set_operations_agree_with_membership(a, b):
    na, nb = normalize(a), normalize(b)
    assert covered(union(na, nb)) == covered(na) | covered(nb)
    assert covered(intersect(na, nb)) == covered(na) & covered(nb)
    assert covered(subtract(na, nb)) == covered(na) - covered(nb)
    assert measure(union(na, nb)) == measure(na) + measure(nb) - measure(intersect(na, nb))


def test_adjacent_intervals_merge():
    assert normalize([(10, 20), (20, 30), (5, 8)]) == [(5, 8), (10, 30)]
    assert normalize([(0, 100)], 10, 50) == [(10, 50)]


@settings(max_examples=200)
@given(spans, spans, spans)
def test_availability_bounds_and_budget(down, maint, dark):
    fig = evaluate(P, 99.9, downtime=down, maintenance=maint, unmonitored=dark)
    assert fig.eligible >= 0
    if fig.availability is not None:
        assert 0 <= fig.availability <= 100
    assert fig.excused + fig.unexcused == measure(normalize(down, P.start, P.end))


@given(spans, spans, spans, spans)
def test_more_downtime_never_raises_availability(down, extra, maint, dark):
    before = evaluate(P, 99.9, downtime=down, maintenance=maint, unmonitored=dark)
    after = evaluate(P, 99.9, downtime=down + extra, maintenance=maint, unmonitored=dark)
    if before.availability is not None and after.availability is not None:
        assert after.availability <= before.availability
    assert after.unexcused >= before.unexcused


@given(spans, spans, spans, spans)
def test_more_maintenance_never_lowers_availability(down, maint, extra, dark):
    before = evaluate(P, 99.9, downtime=down, maintenance=maint, unmonitored=dark)
    after = evaluate(P, 99.9, downtime=down, maintenance=maint + extra, unmonitored=dark)
    if before.availability is not None and after.availability is not None:
        assert after.availability >= before.availability


@given(spans, spans, spans, st.integers(1, 30 * DAY - 1))
def test_splitting_a_period_keeps_the_seconds(down, maint, dark, cut):
    whole = evaluate(P, 99.9, downtime=down, maintenance=maint, unmonitored=dark)
    left = evaluate(
        periods.explicit(0, cut), 99.9, downtime=down, maintenance=maint, unmonitored=dark
    )
    right = evaluate(
        periods.explicit(cut, 30 * DAY), 99.9, downtime=down, maintenance=maint, unmonitored=dark
    )
    for attr in ("unmonitored", "excused", "unexcused", "eligible"):
        assert getattr(left, attr) + getattr(right, attr) == getattr(whole, attr)


SCHEMES = [
    PerExcessHour(percent_per_hour=5, cap_percent=100),
    Tiered(tiers=[Tier(99.99, 10), Tier(99.0, 25), Tier(95.0, 50)]),
    NoCredit(),
]


@given(spans, spans)
def test_credits_are_monotonic_in_downtime(down, extra):
    before = evaluate(P, 99.99, downtime=down)
    after = evaluate(P, 99.99, downtime=down + extra)
    for scheme in SCHEMES:
        assert scheme.percent(after) >= scheme.percent(before)


def test_downtime_wins_over_unmonitored():
    fig = evaluate(P, 99.9, downtime=[(0, 3600)], unmonitored=[(0, 7200)], policy="excluded")
    assert (fig.unmonitored, fig.unexcused, fig.eligible) == (3600, 3600, 30 * DAY - 3600)


def test_each_unmonitored_policy_counts_time_without_evidence_as_its_contract_says():
    down, dark, maint = [(0, 3600)], [(DAY, DAY + 7200)], [(DAY + 3600, DAY + 10800)]
    by = {
        p: evaluate(P, 99.9, downtime=down, maintenance=maint, unmonitored=dark, policy=p)
        for p in ("available", "excluded", "downtime")
    }
    figures = {p: (f.unmonitored, f.excused, f.unexcused, f.eligible) for p, f in by.items()}
    assert figures == {
        "available": (7200, 0, 3600, 30 * DAY),
        "excluded": (7200, 0, 3600, 30 * DAY - 7200),
        "downtime": (7200, 3600, 7200, 30 * DAY - 3600),  # the gap's 2nd hour is in maintenance
    }
    assert {f.coverage for f in by.values()} == {Fraction(30 * DAY - 7200, 30 * DAY)}


@given(spans, spans, spans)
def test_available_never_owes_more_than_downtime_policy(down, maint, dark):
    kw = {"downtime": down, "maintenance": maint, "unmonitored": dark}
    lenient = evaluate(P, 99.9, **kw, policy="available")
    strict = evaluate(P, 99.9, **kw, policy="downtime")
    assert lenient.unexcused <= strict.unexcused
    for scheme in SCHEMES:
        assert scheme.percent(lenient) <= scheme.percent(strict)


def test_dst_months_have_721_and_719_hours():
    assert periods.month(2026, 11, NY).seconds == 721 * 3600
    assert periods.month(2026, 3, NY).seconds == 743 * 3600  # 31 days less the spring-forward hour
    assert periods.month(2026, 2, UTC).seconds == 28 * DAY
    assert periods.year(2026, UTC).seconds == 365 * DAY


def test_rolling_and_running_periods_end_now():
    now = 1_793_000_000  # 2026-10-26 in UTC
    for window, seconds in periods.ROLLING_WINDOWS.items():
        p = periods.rolling(window, now)
        assert (p.end, p.seconds) == (now, seconds)
    mtd = periods.month_to_date(now, UTC)
    assert periods.iso_z(mtd.start) == "2026-10-01T00:00:00Z" and mtd.end == now
    ytd = periods.year_to_date(now, NY)
    assert periods.iso_z(ytd.start) == "2026-01-01T05:00:00Z" and ytd.end == now


def test_claim_deadline_counts_local_days_across_dst():
    october = periods.month(2026, 10, NY)  # ends 2026-11-01 04:00Z (EDT midnight)
    assert periods.iso_z(october.add_days_local(30)) == "2026-12-01T05:00:00Z"  # EST midnight


def test_credit_amount_rounds_half_up_to_cents_exactly():
    assert credit_amount(0.1, Fraction(25)) == Fraction(3, 100)  # 0.025 -> 0.03
    assert credit_amount(1741.19, Fraction(50)) == Fraction(87060, 100)
    assert credit_amount(1000, Fraction(0)) == 0


def test_budget_remaining_and_coverage():
    fig = evaluate(P, 99.9, downtime=[(0, 600)], unmonitored=[(DAY, 2 * DAY)], policy="excluded")
    assert fig.allowed == Fraction(1, 1000) * (29 * DAY)
    assert fig.budget_remaining == fig.allowed - 600
    assert fig.coverage == Fraction(29, 30)


def test_percentages_are_truncated_never_rounded_up():
    from statuswatch.sla.display import truncate_percent

    assert truncate_percent(Fraction(999996, 10000)) == "99.999"
    assert truncate_percent(100) == "100.000"
    assert truncate_percent(Fraction(2, 3) * 100, 1) == "66.6"
    assert truncate_percent(99.5, 0) == "99"
    assert truncate_percent(None) == "n/a"


@given(spans, st.integers(-DAY, 32 * DAY), st.integers(0, 40 * DAY))
def test_timeline_measures_like_clipping(ivs, lo, length):
    from statuswatch.sla.intervals import Timeline

    norm = normalize(ivs)
    assert Timeline(norm).measure(lo, lo + length) == measure(normalize(norm, lo, lo + length))


# Denser than `spans`, so downtime, maintenance and gaps often overlap (policy downtime needs
# unobserved time inside maintenance to be tested at all).
dense_spans = st.lists(
    st.tuples(st.integers(0, 10 * DAY), st.integers(0, 3 * DAY)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=8,
)


@settings(max_examples=300)
@given(
    dense_spans,
    dense_spans,
    dense_spans,
    st.integers(0, 9 * DAY),
    st.integers(1, 10 * DAY),
    st.sampled_from(UNMONITORED_POLICIES),
)
def test_service_timeline_gives_the_same_figures_as_evaluate(down, maint, dark, lo, length, policy):
    from statuswatch.sla.evidence import ServiceInputs, ServiceTimeline

    inputs = ServiceInputs(normalize(down), normalize(maint), normalize(dark))
    period = periods.explicit(lo, lo + length)
    assert ServiceTimeline(inputs).figures(period, 99.9, policy=policy) == evaluate(
        period, 99.9, downtime=down, maintenance=maint, unmonitored=dark, policy=policy
    )


def test_service_timeline_figures_name_their_policy():
    from statuswatch.sla.evidence import ServiceInputs, ServiceTimeline

    timeline = ServiceTimeline(ServiceInputs([], [], []))
    with pytest.raises(TypeError):
        timeline.figures(P, 99.9)  # type: ignore[call-arg]  # each caller names its policy


@given(spans, st.integers(-DAY, DAY), st.integers(0, 40 * DAY))
def test_complement_is_what_is_left(ivs, lo, length):
    from statuswatch.sla.intervals import complement

    norm, hi = normalize(ivs), lo + length
    gaps = complement(norm, lo, hi)
    assert normalize(gaps) == gaps
    assert covered(gaps, lo, hi) == set(range(lo, hi, 600)) - covered(norm, lo, hi)
