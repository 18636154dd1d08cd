"""Errors a store backend raises that its callers tell apart."""

from __future__ import annotations


class FencedError(RuntimeError):
    """This node's fence is no longer current: its write transaction must not commit.

    Raised by a store's `guard` (the leader lease's check) as the first statement of a write
    transaction; the writer drops the batch instead of retrying it, so the writes of a leader
    that lost its lease (paused, partitioned) never land after another node took over.
    """


class SuspendedError(RuntimeError):
    """This node's term is suspended (it was cut off from the database): not yet, maybe later.

    Raised by the lease's guard while the term is open in memory only; the writer keeps the
    batch and retries it with backoff, as for a lost connection. It commits once the term
    continues under the next fence, or is refused (FencedError) and dropped once it ended.
    """


class StoreUnreachableError(RuntimeError):
    """The database could not be reached to open the store (PostgreSQL not up yet, away, or
    failing over): opening again later may succeed, so a process starting waits for it."""
