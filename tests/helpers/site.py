"""A running statuswatch for the public-site tests, seeded through the real admin API."""

from __future__ import annotations

from statuswatch.web import create_app
from tests.helpers.config import make_config

TOKEN = "site-admin-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def site_section(**extra) -> dict:
    return {
        "title": "Acme <Status>",
        "admin_token_env": "TEST_ADMIN_TOKEN",
        "timezone": "Europe/Paris",
        **extra,
    }


async def make_site(aiohttp_client, tmp_path, clock, *, site=None, **sections):
    """A client of a real app (no probing) with the admin token set."""
    config = make_config(tmp_path, [], site=site or site_section(), **sections)
    app = create_app(config, clock=clock, probe=False, environ={"TEST_ADMIN_TOKEN": TOKEN})
    return await aiohttp_client(app)


async def open_incident(client, **fields) -> dict:
    body = {
        "title": "Checkout errors",
        "body": "We are **looking** into it.",
        "impact": "major",
        "components": {"checkout": "major_outage"},
        "severity": "S1",
        **fields,
    }
    resp = await client.post("/api/v1/incidents", json=body, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def post_update(client, incident_id: str, **fields) -> dict:
    resp = await client.post(f"/api/v1/incidents/{incident_id}/updates", json=fields, headers=AUTH)
    assert resp.status == 201, await resp.text()
    return await resp.json()
