"""Component status from monitor states: the `any` and `fraction` rules, and maintenance."""

from __future__ import annotations

import pytest

from statuswatch.monitor.events import State
from statuswatch.status.component import ComponentStatus as CS
from statuswatch.status.component import FractionRule, component_status, worst

UP, DOWN, DEG, UNK = State.UP, State.DOWN, State.DEGRADED, State.UNKNOWN


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], CS.OPERATIONAL),
        ([UP, UP], CS.OPERATIONAL),
        ([UP, UNK], CS.OPERATIONAL),  # no evidence yet is not an outage
        ([UP, DEG], CS.DEGRADED),
        ([UP, DOWN], CS.MAJOR),  # the worst monitor decides
        ([DEG, DOWN], CS.MAJOR),
    ],
)
def test_any_rule(states, expected):
    assert component_status(states) is expected


FLEET = FractionRule(degraded=1, partial=5, major=50)


@pytest.mark.parametrize(
    ("down", "degraded", "expected"),
    [
        (0, 0, CS.OPERATIONAL),
        (0, 3, CS.DEGRADED),
        (1, 0, CS.DEGRADED),  # 1 of 100 down: 1 % -> degraded
        (4, 0, CS.DEGRADED),
        (5, 0, CS.PARTIAL),  # 5 % -> partial
        (49, 0, CS.PARTIAL),
        (50, 0, CS.MAJOR),  # 50 % -> major
        (100, 0, CS.MAJOR),
    ],
)
def test_fraction_rule_on_a_fleet_of_100(down, degraded, expected):
    states = [DOWN] * down + [DEG] * degraded + [UP] * (100 - down - degraded)
    assert component_status(states, rule=FLEET) is expected


def test_one_storefront_in_500_is_below_every_threshold():
    assert component_status([DOWN] + [UP] * 499, rule=FLEET) is CS.OPERATIONAL


def test_maintenance_wins():
    assert component_status([DOWN], in_maintenance=True) is CS.MAINTENANCE


def test_worst():
    assert worst([CS.OPERATIONAL, CS.PARTIAL, CS.DEGRADED]) is CS.PARTIAL
    assert worst([CS.MAINTENANCE, CS.OPERATIONAL]) is CS.MAINTENANCE
    assert worst([]) is CS.OPERATIONAL
