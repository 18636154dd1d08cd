"""This node among several on one PostgreSQL: its lease, its campaign, its link to the leader.

Every node's monitor process campaigns. The leader runs the deciding work (what one process
runs on SQLite: the probe scheduler and verdicts, automatic incidents, housekeeping, the
notification sender, the board's publisher); a follower runs none of it and hands the write
routes to the leader (cluster/forward.py). Leadership is lost as soon as a renew finds another
holder or the local deadline passes; the work is then stopped and the node keeps serving as a
follower. Cut off from the database instead, the leader's term is suspended (cluster/lease.py):
its work goes on, its writes held, its write routes answered 503 until the term continues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statuswatch.clock import Clock, iso
from statuswatch.cluster.campaign import Campaign, Work
from statuswatch.cluster.forward import LeaderLink
from statuswatch.cluster.lease import Lease, Term
from statuswatch.cluster.settings import TOKEN_ENV, advertise_url, cluster_token, node_name
from statuswatch.config import Config


class ClusterConfigError(ValueError):
    """A node of several cannot start as configured (exit 2, naming what to set)."""


def lease_connection(url: str, ttl: float) -> Any:
    """The lease's own connection: autocommit, and no round trip may outlast a campaign round."""
    import psycopg  # loaded only for PostgreSQL

    budget = max(1, int(ttl / 3))
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=budget,
        options=f"-c statement_timeout={budget * 1000}",
    )


class ClusterNode:
    """The lease, the campaign that starts and stops `elected`/`deposed`, the leader link."""

    def __init__(
        self,
        config: Config,
        env: Mapping[str, str],
        url: str,
        clock: Clock,
        *,
        client: Any,
    ) -> None:
        token = cluster_token(env)
        if not token:
            raise ClusterConfigError(
                f"{TOKEN_ENV} is not set: with PostgreSQL every node needs the cluster token "
                "(the same on every node) to forward writes to the leader"
            )
        ttl = config.cluster.lease_ttl
        self.lease = Lease(
            lambda: lease_connection(url, ttl),
            node=node_name(config),
            ttl=ttl,
            clock=clock,
            advertise=advertise_url(config),
        )
        self._work: tuple[Work, Work, Work] | None = None
        self.campaign = Campaign(
            self.lease, elected=self._elected, deposed=self._deposed, continued=self._continued
        )
        self.link = LeaderLink(
            leading=lambda: self.campaign.serving,
            leader=lambda: self.campaign.known,
            token=token,
            client=client,
        )

    @property
    def leading(self) -> bool:
        """True while this node runs the leader's work."""
        return self.campaign.leading

    async def start(self, elected: Work, deposed: Work, continued: Work) -> None:
        """Open the link and campaign: `elected` runs when a term starts, `deposed` when it ends,
        `continued` when a suspended term goes on under the next fence."""
        self._work = (elected, deposed, continued)
        await self.link.start()
        await self.campaign.start()

    async def stop(self) -> None:
        """Stop the leader's work (if running), give the lease up, close the link."""
        await self.campaign.stop()
        await self.link.close()

    def health(self) -> dict[str, Any]:
        """The lease as /healthz shows it: who holds it, its fence, when it expires, and this
        node's state (leading, suspended: cut off with its term open, following)."""
        lease = self.lease
        state = lease.state
        known = self.campaign.known
        if state != "following":  # ours, as of its last answer
            fence = lease.fence if lease.suspended is None else lease.suspended
            known = Term(lease.node, fence, lease.expires or 0.0, lease.advertise)
        return {
            "node": lease.node,
            "holder": None if known is None else known.holder,
            "fence": None if known is None else known.fence,
            "expires": None if known is None else iso(known.expires),
            "last_error": lease.last_error,
            "state": state,
        }

    async def _elected(self) -> None:
        assert self._work is not None
        await self._work[0]()

    async def _deposed(self) -> None:
        assert self._work is not None
        await self._work[1]()

    async def _continued(self) -> None:
        assert self._work is not None
        await self._work[2]()
