"""Customers' private report tokens: from the environment, or made by `report-token`, hashed.

A token is a credential (the report URL is the whole login), so it is never logged: start-up
says which customers have a report and where its token comes from, never the URL. A token is
shown exactly once, on the stdout of the `statuswatch report-token` run that made it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from statuswatch.auth.tokens import new_token, token_digest
from statuswatch.clock import Clock
from statuswatch.config import Config, read_secret
from statuswatch.store import ReportToken, StoreProtocol


@dataclass(frozen=True, slots=True)
class TokenSources:
    """Which customers' reports use an env token, a stored one, or have none yet (by id)."""

    from_env: tuple[str, ...]
    stored: tuple[str, ...]
    missing: tuple[str, ...]


async def ensure_report_tokens(
    config: Config, store: StoreProtocol, environ: Mapping[str, str], clock: Clock
) -> TokenSources:
    """Store each env token's digest; say which customers have a report and from where.

    A token from `report_token_env` always wins (and replaces a stored one). Otherwise a stored
    digest is kept. A customer with neither has no report until `report-token` makes one: a
    token generated here could only be shown by logging it.
    """
    known = set((await store.report_tokens()).values())
    from_env, stored, missing = [], [], []
    for customer in config.customers:
        unset = f"customer {customer.id}'s report uses the token kept in the database"
        env_token = read_secret(customer.report_token_env, environ, unset=unset)
        if env_token:
            store.submit(ReportToken(customer.id, token_digest(env_token), clock.time()))
            from_env.append(customer.id)
        elif customer.id in known:
            stored.append(customer.id)
        else:
            missing.append(customer.id)
    await store.flush()
    return TokenSources(tuple(from_env), tuple(stored), tuple(missing))


def rotate(store: StoreProtocol, customer_id: str, clock: Clock) -> str:
    """Replace a customer's token with a new one and return it (the old one stops working)."""
    token = new_token()
    store.submit(ReportToken(customer_id, token_digest(token), clock.time()))
    return token
