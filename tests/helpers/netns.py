"""Network namespaces for the location scenarios: one per agent, faults as nftables rules.

The root namespace is the hub: a link the test creates carries the hub address, where the
central process and the target listen. Each place gets a namespace of its own, joined to the
root by a veth pair on a /30 the test picks (10.200.0.0/16, free in the root namespace) and
routed to the hub address only, so traffic never leaves the addresses the test assigned. A
fault is a rule in the place's own namespace (table `inet statuswatch_test`): "drop" both ways
(a partition: packets vanish, connections hang), or "reject" (a TCP reset, as a refused port).
Names carry the pid of the run (`swt<pid><rand>`): parallel runs never collide, and the
namespaces and links of a crashed run (its pid gone) are removed by the next one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PREFIX = "swt"
SUBNET = ipaddress.ip_network("10.200.0.0/16")
BLOCK = 4  # addresses per /30
TABLE = "statuswatch_test"
RULESET = f"""table inet {TABLE} {{
    chain out {{ type filter hook output priority 0; policy accept; }}
    chain in {{ type filter hook input priority 0; policy accept; }}
}}
"""


class NetnsError(RuntimeError):
    """A namespace, link or rule could not be made (no privilege, no kernel support)."""


def run(*args: str, stdin: str | None = None) -> str:
    """Run one `ip`/`nft` command; its output, or NetnsError with what it said."""
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class Place:
    """One agent's namespace: its name, the root end of its veth and the two addresses."""

    netns: str
    link: str
    gateway: str  # the root end of the veth
    address: str  # the namespace's end


class Network:
    """The hub address and one namespace per place; `close()` removes all of it."""

    def __init__(self, places: Iterable[str]) -> None:
        reap_stale()
        self.run_id = f"{PREFIX}{os.getpid():06x}{random.randrange(256):02x}"
        self.links: list[str] = []
        self.namespaces: list[str] = []
        self.places: dict[str, Place] = {}
        names = list(places)
        base = free_blocks(len(names) + 1)
        try:
            self.hub = str(base + 1)
            # A veth pair, both ends in the root namespace: the one link type every kernel
            # with namespaces has (a dummy link needs a module that may be missing).
            hub, other = f"{self.run_id}h", f"{self.run_id}p"
            self._link(hub, "type", "veth", "peer", "name", other)
            run("ip", "addr", "add", f"{self.hub}/32", "dev", hub)
            for link in (hub, other):
                run("ip", "link", "set", link, "up")
            for i, name in enumerate(names, start=1):
                self.places[name] = self._place(name, i, base + i * BLOCK)
        except BaseException:
            self.close()
            raise

    def _link(self, name: str, *spec: str) -> None:
        run("ip", "link", "add", name, *spec)
        self.links.append(name)

    def _place(self, name: str, index: int, block: ipaddress.IPv4Address) -> Place:
        netns, link, peer = f"{self.run_id}-{name}", f"{self.run_id}{index}h", "eth0"
        run("ip", "netns", "add", netns)
        self.namespaces.append(netns)
        self._link(link, "type", "veth", "peer", "name", peer, "netns", netns)
        gateway, address = str(block + 1), str(block + 2)
        run("ip", "addr", "add", f"{gateway}/30", "dev", link)
        run("ip", "link", "set", link, "up")
        for command in (
            ("addr", "add", f"{address}/30", "dev", peer),
            ("link", "set", peer, "up"),
            ("link", "set", "lo", "up"),
            ("route", "add", f"{self.hub}/32", "via", gateway),
        ):
            run("ip", "-n", netns, *command)
        run("ip", "netns", "exec", netns, "nft", "-f", "-", stdin=RULESET)
        return Place(netns, link, gateway, address)

    def exec_prefix(self, place: str) -> list[str]:
        """The command prefix that runs a process inside `place`'s namespace."""
        return ["ip", "netns", "exec", self.places[place].netns]

    def cut(self, place: str, port: int, how: str = "drop") -> None:
        """From now on `place` cannot reach the hub's `port`: "drop" or "reject" (TCP reset)."""
        if how not in ("drop", "reject"):
            raise ValueError(f"unknown fault {how!r}")
        verdict = "reject with tcp reset" if how == "reject" else "drop"
        rules = f"add rule inet {TABLE} out ip daddr {self.hub} tcp dport {port} {verdict}\n"
        if how == "drop":  # both ways: what the hub already sent is lost as well
            rules += f"add rule inet {TABLE} in ip saddr {self.hub} tcp sport {port} drop\n"
        self._nft(place, rules)

    def heal(self, place: str) -> None:
        """Remove every fault of `place`."""
        self._nft(place, f"flush chain inet {TABLE} out\nflush chain inet {TABLE} in\n")

    def rules(self, place: str) -> str:
        """`place`'s ruleset as nft lists it (for a failure's message)."""
        return run(*self.exec_prefix(place), "nft", "list", "table", "inet", TABLE)

    def _nft(self, place: str, rules: str) -> None:
        run(*self.exec_prefix(place), "nft", "-f", "-", stdin=rules)

    def close(self) -> None:
        """Delete the namespaces (their veths and rules go with them) and the hub link."""
        for netns in reversed(self.namespaces):
            with contextlib.suppress(NetnsError):
                run("ip", "netns", "del", netns)
        for link in reversed(self.links):
            if Path(f"/sys/class/net/{link}").exists():
                with contextlib.suppress(NetnsError):
                    run("ip", "link", "del", link)
        self.namespaces.clear()
        self.links.clear()


def free_blocks(count: int) -> ipaddress.IPv4Address:
    """The first address of `count` consecutive /30s in SUBNET that no local address uses."""
    used = {
        ipaddress.ip_interface(word).ip
        for line in run("ip", "-o", "-4", "addr", "show").splitlines()
        for word in line.split()[3:4]
    }
    blocks = SUBNET.num_addresses // BLOCK - count
    for _ in range(100):
        start = SUBNET.network_address + random.randrange(blocks) * BLOCK
        span = {start + i for i in range(count * BLOCK)}
        if not span & used:
            return start
    raise NetnsError(f"no {count} free /30s in {SUBNET}")


def reap_stale() -> None:
    """Remove the namespaces and links a crashed run left (named for a pid that is gone)."""
    netns_dir = Path("/run/netns")
    names = [p.name for p in netns_dir.iterdir()] if netns_dir.is_dir() else []
    for name in names:
        if _stale(name):
            with contextlib.suppress(NetnsError):
                run("ip", "netns", "del", name)
    for link in Path("/sys/class/net").iterdir():
        if _stale(link.name):
            with contextlib.suppress(NetnsError):
                run("ip", "link", "del", link.name)


def _stale(name: str) -> bool:
    """True for a name of this module's whose run (its pid) has exited."""
    if not name.startswith(PREFIX):
        return False
    try:
        pid = int(name[len(PREFIX) : len(PREFIX) + 6], 16)
    except ValueError:
        return False
    return not Path(f"/proc/{pid}").exists()
