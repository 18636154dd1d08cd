"""Customers' private report tokens: from the environment, or generated once and kept hashed."""

from __future__ import annotations

from collections.abc import Mapping

from statuswatch.auth.tokens import new_token, token_digest
from statuswatch.clock import Clock
from statuswatch.config import Config, read_secret
from statuswatch.store import ReportToken, StoreProtocol


async def ensure_report_tokens(
    config: Config, store: StoreProtocol, environ: Mapping[str, str], clock: Clock
) -> dict[str, str]:
    """Give every customer a report token; return {customer id: token} for new ones only.

    A token from `report_token_env` always wins (and replaces a stored one). Otherwise a stored
    digest is kept; a customer with neither gets a new token, which can be shown only now.
    """
    known = set((await store.report_tokens()).values())
    fresh: dict[str, str] = {}
    for customer in config.customers:
        unset = f"customer {customer.id}'s report uses the token kept in the database"
        env_token = read_secret(customer.report_token_env, environ, unset=unset)
        if env_token:
            store.submit(ReportToken(customer.id, token_digest(env_token), clock.time()))
        elif customer.id not in known:
            fresh[customer.id] = rotate(store, customer.id, clock)
    await store.flush()
    return fresh


def rotate(store: StoreProtocol, customer_id: str, clock: Clock) -> str:
    """Replace a customer's token with a new one and return it (the old one stops working)."""
    token = new_token()
    store.submit(ReportToken(customer_id, token_digest(token), clock.time()))
    return token
