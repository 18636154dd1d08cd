"""Guessing secrets: once an address has spent its wrong tries on a route, that route refuses it
(the right secret included) until its bucket has a token again; other routes are not affected.

Each kind of secret over real HTTP: the admin token, push tokens, customer report tokens and the
metrics token. Time is a FakeClock (the limiter refills one try per 2 s, burst 20).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from statuswatch.clock import FakeClock
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING
from tests.helpers.config import make_config

ADMIN = "admin-secret-token-1234567890"
PUSH = "push-token-abcdefghijklmnop"
REPORT = "report-token-abcdefghijklmnopqrstuvwxyz"
METRICS = "metrics-token-abcdefghijklmnop"
ENV = {"TEST_ADMIN_TOKEN": ADMIN, "JOB_TOKEN": PUSH, "NW_TOKEN": REPORT, "SCRAPE": METRICS}
BURST = 20
REFILL = 2.0  # seconds per try


@dataclass(frozen=True)
class Route:
    """How to present a right or a wrong secret on one route, and what a miss answers."""

    name: str
    miss: int

    def request(self, secret: str) -> tuple[str, dict[str, str]]:
        bearer = {"Authorization": f"Bearer {secret}"}
        return {
            "admin": ("/api/v1/incidents", bearer),
            "push": (f"/push/{secret}", {}),
            "report": (f"/customers/{secret}", {}),
            "metrics": ("/metrics", bearer),
        }[self.name]


ROUTES = {
    "admin": (Route("admin", 401), ADMIN),
    "push": (Route("push", 404), PUSH),
    "report": (Route("report", 404), REPORT),
    "metrics": (Route("metrics", 401), METRICS),
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(aiohttp_client, tmp_path, clock):
    push = {"id": "job", "kind": "push", "component": "api", "token_env": "JOB_TOKEN"}
    config = make_config(
        tmp_path,
        [push],
        metrics={"token_env": "SCRAPE"},
        sla=[{"id": "std", "name": "Std", "target_percent": 99.9, "credit": {"scheme": "none"}}],
        customers=[
            {
                "id": "northwind",
                "name": "Northwind",
                "plan": "std",
                "components": ["api"],
                "report_token_env": "NW_TOKEN",
            }
        ],
    )
    return await aiohttp_client(create_app(config, clock=clock, probe=False, environ=ENV))


async def status(client, route: Route, secret: str) -> int:
    url, headers = route.request(secret)
    async with client.get(url, headers=headers) as resp:
        return resp.status


@pytest.mark.parametrize("name", ROUTES)
async def test_a_limited_address_is_refused_the_right_secret_until_it_refills(client, clock, name):
    route, right = ROUTES[name]
    assert await status(client, route, right) == 200
    misses = [await status(client, route, f"guess-{i}") for i in range(BURST + 1)]
    assert misses == [route.miss] * BURST + [429]
    # The right secret from the limited address: refused too, so a guesser cannot tell.
    url, headers = route.request(right)
    async with client.get(url, headers=headers) as resp:
        assert resp.status == 429
        assert 1 <= int(resp.headers["Retry-After"]) <= REFILL
    clock.advance(REFILL / 2)
    assert await status(client, route, right) == 429
    clock.advance(REFILL / 2)
    assert await status(client, route, right) == 200  # a try again; the right one spends none
    assert await status(client, route, right) == 200
    assert await status(client, route, "guess-again") == route.miss  # spends the refilled try
    assert await status(client, route, right) == 429


async def test_a_limited_push_records_nothing(client, clock):
    route, right = ROUTES["push"]
    for i in range(BURST + 1):
        await status(client, route, f"guess-{i}")
    assert await status(client, route, right) == 429
    assert client.app[MONITORING].snapshot().last.get("job") is None


async def test_each_route_keeps_its_own_bucket(client):
    route, _ = ROUTES["push"]
    for i in range(BURST + 1):
        await status(client, route, f"guess-{i}")
    for other in ("admin", "report", "metrics"):
        other_route, right = ROUTES[other]
        assert await status(client, other_route, right) == 200, other
        assert await status(client, other_route, "wrong") == other_route.miss, other
