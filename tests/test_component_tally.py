"""The board's running counts give what the rule gives from a scan, whatever the changes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statuswatch.monitor.events import State
from statuswatch.status.component import FractionRule, component_status
from statuswatch.status.tally import ComponentTally

MONITORS = [f"m{i}" for i in range(8)]
LOCATIONS = ["eu", "us", "ap", "sa"]

changes = st.lists(
    st.tuples(
        st.sampled_from(MONITORS),
        st.sampled_from(list(State)),
        # Who sees it down: any subset, repeats included (a tuple as the events carry it).
        st.lists(st.sampled_from(LOCATIONS), max_size=5).map(tuple),
    ),
    max_size=60,
)
rules = st.one_of(
    st.none(),
    st.builds(
        FractionRule,
        st.floats(0, 100, allow_nan=False),
        st.floats(0, 100, allow_nan=False),
        st.floats(0, 100, allow_nan=False),
    ),
)


def scanned_regional(model: dict[str, tuple[State, tuple[str, ...]]]) -> frozenset[str]:
    """The locations named from a scan of the regional monitors, as the board once did."""
    return frozenset(loc for s, locs in model.values() if s is State.REGIONAL for loc in locs)


@settings(max_examples=300, deadline=None)
@given(changes=changes, rule=rules, in_maintenance=st.booleans())
def test_the_tally_equals_the_rule_over_the_states_after_any_changes(changes, rule, in_maintenance):
    tally = ComponentTally(MONITORS)
    model = {m: (State.UNKNOWN, ()) for m in MONITORS}
    for monitor, state, locations in changes:
        tally.set(monitor, state, locations)
        model[monitor] = (state, locations)
        states = [s for s, _ in model.values()]
        for r, maint in ((rule, in_maintenance), (None, False)):
            expected = component_status(states, rule=r, in_maintenance=maint)
            assert tally.status(rule=r, in_maintenance=maint) is expected
        assert tally.regional_locations() == scanned_regional(model)
        for m, (s, locs) in model.items():  # who sees each one down, while it is regional
            assert tally.seen_by(m) == (frozenset(locs) if s is State.REGIONAL else frozenset())
    assert tally.states == {m: s for m, (s, _) in model.items()}


def test_a_component_without_monitors_is_what_the_rule_says():
    tally = ComponentTally([])
    assert tally.status() is component_status([])
    assert tally.status(in_maintenance=True) is component_status([], in_maintenance=True)
    assert tally.regional_locations() == frozenset()


def test_a_monitor_of_another_component_is_refused_by_name():
    tally = ComponentTally(["api"])
    with pytest.raises(KeyError, match="'web' is not one of this component's"):
        tally.set("web", State.DOWN)
