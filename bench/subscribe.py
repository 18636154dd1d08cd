"""Enumeration by timing: POST /api/v1/subscribers for new, pending and confirmed addresses.

Answers are byte-identical by construction (tests/test_subscription_abuse.py); this measures
whether the time to answer tells the three apart. Requests of the three kinds are interleaved
in random order over one keep-alive connection to a real listening statuswatch.

Run: .venv/bin/python bench/subscribe.py [--requests 600]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from statuswatch.config import parse_config
from statuswatch.store import Store
from statuswatch.store.outbox import ConfirmSubscriber, Subscribe
from statuswatch.store.outbox_reads import subscribers
from statuswatch.web import create_app
from statuswatch.web.keys import NOTIFICATIONS


async def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    raw = {
        "storage": {"path": str(tmp / "sw.db")},
        "components": [{"id": "api", "name": "API"}],
        # Delivery is not under test: a closed port, and the sender task is stopped below.
        "email": {
            "enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": 9,
            "tls": "none",
            "ip_burst": 1_000_000,
            "poll_interval": "1h",
        },
    }
    config = parse_config(raw, base_dir=tmp)
    store = Store(config.storage.path)
    await store.start()
    per_kind = n // 3
    for i in range(per_kind):  # pending and confirmed addresses exist beforehand
        store.submit(Subscribe("email", f"pending{i}@example.com", None, time.time(), 0))
        store.submit(Subscribe("email", f"confirmed{i}@example.com", None, time.time(), 0))
    await store.flush()
    for sub in await store.read_outbox(subscribers):
        if sub.address.startswith("confirmed"):
            store.submit(ConfirmSubscriber(sub.id, b"", time.time()))
    await store.flush()

    app = create_app(config, store=store, probe=False, environ={})
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    app[NOTIFICATIONS].task.cancel()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    plan = [(kind, i) for kind in ("new", "pending", "confirmed") for i in range(per_kind)]
    random.Random(1).shuffle(plan)
    took: dict[str, list[float]] = {"new": [], "pending": [], "confirmed": []}
    bodies: set[bytes] = set()
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}/api/v1/subscribers"
        for kind, i in [("new", -1)] * 20 + plan:  # a short warm-up first
            started = time.perf_counter()
            async with session.post(url, json={"email": f"{kind}{i}@example.com"}) as resp:
                bodies.add(await resp.read())
            if i >= 0:
                took[kind].append((time.perf_counter() - started) * 1000)
    await runner.cleanup()
    await store.close()
    print(f"{per_kind} requests per kind, interleaved; distinct answers: {len(bodies)}")
    print(f"{'kind':<10} {'median ms':>10} {'p90 ms':>8} {'mean ms':>8}")
    for kind, values in took.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(
            f"{kind:<10} {statistics.median(values):>10.3f} {p90:>8.3f} "
            f"{statistics.fmean(values):>8.3f}"
        )
    medians = [statistics.median(v) for v in took.values()]
    print(
        f"largest median difference: {max(medians) - min(medians):.3f} ms "
        f"({(max(medians) / min(medians) - 1) * 100:.1f} %)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=600)
    asyncio.run(main(parser.parse_args().requests))
