"""Several nodes on one PostgreSQL: the leader's CPU per result beside one SQLite node's, and
the failover time, in one run.

Real processes only, all on 127.0.0.1: a probe target (_bench_target.py), a PostgreSQL of the
bench's own (Debian's package, default durability), three `statuswatch agent` processes (one per
location, each probing the whole fleet), a few "flip" monitors (every second, from every
location) whose target the bench turns failing. Two runs of the same fleet, flip
monitors and agents, one after the other:
- **SQLite**: one central `statuswatch run` (the reference);
- **PostgreSQL**: two nodes (`statuswatch run` each, `[cluster]`, one database) behind a TCP
  balancer of the bench's (each connection to the next node in turn, the other when that one is
  down, as a load balancer would); node a is started first and leads, so the uploads that land
  on node b take the follower's path (forwarded to the leader).
Figures, over a steady window after a warm-up:
- central CPU per 1,000 results stored: the SQLite node; the PostgreSQL leader (its process
  tree); the PostgreSQL server's own processes beside it; target: leader <= 1.5 x SQLite;
- failover: the flip monitors' target turns failing and the leader is `kill -9`ed at once; the
  time until the follower's /healthz says it leads, until it stores the first check run after
  the kill, and until it records the flip monitors' verdict (down): the next verdict.

Run: python bench/nodes.py [--monitors N] [--interval S] [--duration S] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psycopg
from _bench_common import PostgresServer, free_port, log
from _bench_latency import tree_cpu
from _bench_roles import die_with_parent, write_toml
from locations import (
    LOCATIONS,
    FlipTarget,
    checks,
    config,
    env,
    fleet,
    start_agent,
    start_target,
    stop,
    wait_ready,
)

CLUSTER_TOKEN = "bench-cluster-token-0123456789abcdef"
TARGET_RATIO = 1.5
TTL = 6.0


def node_config(args, tmp: Path, name: str, port: int, monitors: list) -> Path:
    """The central config of bench/locations.py, on PostgreSQL, as node `name`."""
    path = config(args, tmp, name, port, monitors)
    raw = _read_back(path)
    raw["storage"]["url_env"] = "STATUSWATCH_DATABASE_URL"
    raw["cluster"] = {
        "node": name,
        "lease_ttl": f"{TTL:g}s",
        "advertise": f"http://127.0.0.1:{port}",
    }
    raw["probing"]["locations"] = list(LOCATIONS)
    raw["locations"] = [
        {"id": loc, "name": loc.upper(), "token_env": f"BENCH_TOKEN_{loc.upper()}"}
        for loc in LOCATIONS
    ]
    return write_toml(raw, path)


def _read_back(path: Path) -> dict:
    import tomllib

    return tomllib.loads(path.read_text())


def start_node(cfg: Path, tmp: Path, url: str | None) -> subprocess.Popen:
    argv = [sys.executable, "-m", "statuswatch", "run", "-c", str(cfg), "--log-level", "warning"]
    run_env = env()
    if url is not None:
        run_env |= {"STATUSWATCH_DATABASE_URL": url, "STATUSWATCH_CLUSTER_TOKEN": CLUSTER_TOKEN}
    out = open(tmp / f"{cfg.stem}.log", "w")
    return subprocess.Popen(argv, env=run_env, stdout=out, stderr=out, preexec_fn=die_with_parent)


class Balancer:
    """Each new connection to the next node in turn; the other one when that one refuses."""

    def __init__(self, ports: list[int]) -> None:
        self.ports, self.port, self.turn = ports, free_port(), 0
        self.server: asyncio.Server | None = None

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.turn += 1
        order = self.ports[self.turn % 2 :] + self.ports[: self.turn % 2]
        for port in order:
            try:
                up_r, up_w = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                continue
        else:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except OSError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer), return_exceptions=True)


def flips(flip_port: int, n: int = 3) -> list[dict]:
    """Monitors of the flip target, checked every second, one failure confirms."""
    return [
        {
            "kind": "http",
            "id": f"flip{k}",
            "component": "c0",
            "url": f"http://127.0.0.1:{flip_port}/flip",
            "interval": "1s",
            "timeout": "500ms",
            "confirm_failures": 1,
        }
        for k in range(n)
    ]


def pg_verdicts(url: str, after: float) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            """SELECT count(*) FROM transitions t JOIN monitors m ON m.key = t.monitor
            WHERE m.id LIKE 'flip%%' AND t.new = 'down' AND t.time > %s""",
            (after,),
        ).fetchone()
    return int(row[0])


def pg_checks(url: str, after: float | None = None) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        if after is None:
            row = conn.execute("SELECT count(*) FROM checks").fetchone()
        else:
            row = conn.execute("SELECT count(*) FROM checks WHERE time > %s", (after,)).fetchone()
    return int(row[0])


async def role(session: aiohttp.ClientSession, port: int) -> str | None:
    try:
        async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return (await resp.json()).get("role")
    except (aiohttp.ClientError, ValueError):
        return None


async def steady(args, central: subprocess.Popen, count, pg: PostgresServer | None) -> dict:
    """CPU of the central process (tree) and of PostgreSQL per 1,000 results stored."""
    await asyncio.sleep(args.warmup)
    c0, n0, p0, t0 = tree_cpu(central.pid), count(), pg.cpu() if pg else 0.0, time.monotonic()
    await asyncio.sleep(args.duration)
    c1, n1, p1, t1 = tree_cpu(central.pid), count(), pg.cpu() if pg else 0.0, time.monotonic()
    results = n1 - n0
    per_1k = lambda cpu: round(cpu / results * 1000, 4) if results else None  # noqa: E731
    return {
        "window_s": round(t1 - t0, 1),
        "results": results,
        "results_per_s": round(results / (t1 - t0), 1),
        "central_cpu_s": round(c1 - c0, 2),
        "central_cpu_per_1k": per_1k(c1 - c0),
        "postgres_cpu_per_1k": per_1k(p1 - p0) if pg else None,
    }


async def sqlite_run(args, tmp: Path, base: str, session, flip_port: int) -> dict:
    port = free_port()
    # The nodes' fleet exactly: the flip monitors (every second) are part of what a result costs.
    monitors = fleet(args, base) + flips(flip_port)
    central = start_node(config(args, tmp, "central", port, monitors), tmp, None)
    agents = {}
    try:
        await wait_ready(session, port, central)
        for loc in LOCATIONS:
            agents[loc] = start_agent(loc, f"http://127.0.0.1:{port}", tmp / "sqlite")
        figures = await steady(args, central, lambda: checks(tmp / "central.db"), None)
    finally:
        for p in agents.values():
            stop(p)
        stop(central)
    log(f"sqlite: {figures}")
    return figures


async def postgres_run(
    args, tmp: Path, base: str, session, server: PostgresServer, flip: FlipTarget, flip_port: int
) -> dict:
    url = server.url
    ports = {"a": free_port(), "b": free_port()}
    monitors = fleet(args, base) + flips(flip_port)
    nodes = {"a": start_node(node_config(args, tmp, "a", ports["a"], monitors), tmp, url)}
    balancer = Balancer([ports["a"], ports["b"]])
    agents = {}
    try:
        await wait_ready(session, ports["a"], nodes["a"])
        for _ in range(100):
            if await role(session, ports["a"]) == "leader":
                break
            await asyncio.sleep(0.2)
        nodes["b"] = start_node(node_config(args, tmp, "b", ports["b"], monitors), tmp, url)
        await wait_ready(session, ports["b"], nodes["b"])
        await balancer.open()
        for loc in LOCATIONS:
            agents[loc] = start_agent(loc, f"http://127.0.0.1:{balancer.port}", tmp / "pg")
        figures = await steady(args, nodes["a"], lambda: pg_checks(url), server)
        log(f"postgresql: {figures}")
        flip.status = 500
        figures["failover"] = await failover(session, nodes, ports, url)
        log(f"failover: {figures['failover']}")
    finally:
        for p in agents.values():
            stop(p)
        for p in nodes.values():
            if p.poll() is None:
                stop(p)
        await balancer.close()
    return figures


async def failover(session, nodes: dict, ports: dict, url: str) -> dict:
    """kill -9 the leader; when the follower leads, stores the next check, records a verdict."""
    killed_at = time.time()
    t0 = time.monotonic()
    nodes["a"].send_signal(signal.SIGKILL)
    nodes["a"].wait()
    led = stored = decided = None
    while time.monotonic() - t0 < 4 * TTL + 60 and decided is None:
        elapsed = time.monotonic() - t0
        if led is None and await role(session, ports["b"]) == "leader":
            led = elapsed
        if led is not None and stored is None and pg_checks(url, after=killed_at) > 0:
            stored = elapsed
        if led is not None and pg_verdicts(url, after=killed_at) > 0:
            decided = elapsed
        await asyncio.sleep(0.1)
    r = lambda v: None if v is None else round(v, 2)  # noqa: E731
    return {
        "lease_ttl_s": TTL,
        "bound_s": round(TTL + TTL / 3, 2),
        "leads_after_s": r(led),
        "next_check_stored_after_s": r(stored),
        "next_verdict_after_s": r(decided),
    }


async def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-nodes-") as tmpdir:
        tmp = Path(tmpdir)
        for sub in ("sqlite", "pg"):
            (tmp / sub).mkdir()
        target, base = start_target()
        # Its own directory in /tmp: the server runs as `postgres`, which cannot enter ours.
        pg_root = tempfile.mkdtemp(prefix="bench-nodes-pg-")
        server = PostgresServer(pg_root)
        server.url = server.start()
        flip = FlipTarget()
        runner, flip_port = await flip.serve()
        try:
            async with aiohttp.ClientSession() as session:
                lite = await sqlite_run(args, tmp, base, session, flip_port)
                pg = await postgres_run(args, tmp, base, session, server, flip, flip_port)
        finally:
            await runner.cleanup()
            server.stop()
            shutil.rmtree(pg_root, ignore_errors=True)
            target.terminate()
            target.wait()
    ratio = (
        round(pg["central_cpu_per_1k"] / lite["central_cpu_per_1k"], 3)
        if pg["central_cpu_per_1k"] and lite["central_cpu_per_1k"]
        else None
    )
    return {"config": vars(args), "sqlite": lite, "postgresql": pg, "leader_ratio": ratio}


def report(res: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(res, indent=2))
        return
    lite, pg, fo = res["sqlite"], res["postgresql"], res["postgresql"]["failover"]
    cfg = res["config"]
    print(f"\n{cfg['monitors']} monitors x {len(LOCATIONS)} agents at {cfg['interval']:g} s")
    print("| central | results/s | CPU-s per 1,000 results | / SQLite |")
    print("|---|---|---|---|")
    print(f"| SQLite, one node | {lite['results_per_s']} | {lite['central_cpu_per_1k']} | 1 |")
    print(
        f"| PostgreSQL leader (of two nodes) | {pg['results_per_s']} | "
        f"{pg['central_cpu_per_1k']} | {res['leader_ratio']} |"
    )
    print(f"| PostgreSQL server itself | | {pg['postgres_cpu_per_1k']} | |")
    ok = res["leader_ratio"] is not None and res["leader_ratio"] <= TARGET_RATIO
    print(f"\nleader CPU per result <= {TARGET_RATIO} x SQLite: {'ok' if ok else 'MISSED'}")
    print(
        f"failover (lease_ttl {fo['lease_ttl_s']:g} s, bound {fo['bound_s']} s): the follower led "
        f"{fo['leads_after_s']} s after the leader's kill -9, stored the next check after "
        f"{fo['next_check_stored_after_s']} s and the next verdict after "
        f"{fo['next_verdict_after_s']} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=120.0, help="steady window (s)")
    parser.add_argument("--warmup", type=float, default=None, help="default: one interval + 10 s")
    parser.add_argument("--quick", action="store_true", help="300 monitors at 10 s")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.monitors, args.interval, args.duration = 300, 10.0, 20.0
    if args.warmup is None:
        args.warmup = args.interval + 10
    report(asyncio.run(run(args)), args.json)


if __name__ == "__main__":
    main()
