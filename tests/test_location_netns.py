"""The location scenarios again, each agent in a network namespace, faults as nftables rules.

The same lab and assertions as tests/test_location_scenarios.py, but no proxy stands between an
agent and anything: each agent runs in a namespace of its own (tests/helpers/netns.py), the
central process and the target listen on the hub address, and a fault is the kernel dropping
or resetting that location's packets. Needs root, `ip` and `nft` (system tests: skipped
locally without them, failed under STATUSWATCH_REQUIRE_SYSTEM=1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.agents import AgentProcess, checks
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.netns import NetnsError, Network
from tests.helpers.processes import wait_until
from tests.helpers.system import require_root, require_tool, unavailable
from tests.test_location_scenarios import (
    PLACES,
    TOKENS,
    Lab,
    assert_back_once,
    assert_down_from,
    assert_regional,
    assert_silent,
)

pytestmark = pytest.mark.system


class NetnsLab(Lab):
    """The lab with each agent in its namespace of `network`, reaching the hub directly."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: Network) -> None:
        self.network = network
        self.host = network.hub
        super().__init__(tmp_path, monkeypatch)

    def make_proxies(self) -> dict[str, FaultProxy]:
        return {}  # nothing between an agent and the target but its namespace's rules

    def target_address(self) -> str:
        return f"{self.host}:{self.target.port}"

    def start_agent(self, place: str) -> AgentProcess:
        agent = AgentProcess(
            self.tmp_path,
            self.port,
            agent_id=f"{place}-1",
            location=place,
            token=TOKENS[place],
            server_host=self.host,
            prefix=self.network.exec_prefix(place),
        )
        self.agents[place] = agent
        return agent


@pytest.fixture
def network() -> Iterator[Network]:
    """One namespace per location; removed after the test, whatever happened."""
    require_root()
    require_tool("ip")
    require_tool("nft")
    try:
        network = Network(PLACES)
    except NetnsError as exc:  # root without CAP_NET_ADMIN, or a kernel without netns
        unavailable(f"network namespaces unavailable: {exc}")
    yield network
    network.close()


@pytest.fixture
def lab(tmp_path, monkeypatch, network) -> Iterator[NetnsLab]:
    lab = NetnsLab(tmp_path, monkeypatch, network)
    yield lab
    lab.close()


def test_nft_drop_to_the_target_from_one_location_of_three_is_regional(lab):
    lab.network.cut("east", lab.target.port, "drop")  # east's probes time out
    assert_regional(lab, "east")


def test_nft_faults_to_the_target_from_two_locations_of_three_are_down(lab):
    switched = time.time()
    lab.network.cut("east", lab.target.port, "reject")  # refused at once
    lab.network.cut("west", lab.target.port, "drop")
    assert_down_from(lab, ("east", "west"), switched)


def test_an_agent_cut_from_the_server_by_nft_is_no_evidence_then_replays_its_spool_once(lab):
    west = lab.agents["west"]
    lab.network.cut("west", lab.port, "drop")  # a partition: west probes on, unheard
    cut = time.time()
    assert_silent(lab, "west")
    wait_until("west spools", lambda: len(west.spooled()) >= 3, 20)
    lab.network.heal("west")
    healed = time.time()

    # "up" may come from the spooled results just before the heal: wait for a live one.
    def live() -> list[float]:
        return [t for _, t in checks(lab.db, "west") if t > healed]

    wait_until("west heard live again", live, 30)
    assert lab.location_states()["west"] == "up", lab.monitor()
    stored = assert_back_once(lab, "west", healed)
    # What it probed while cut off arrived afterwards, at the times it was probed.
    assert [t for _, t in stored if cut + 1 < t < healed - 1], (cut, healed, stored)
