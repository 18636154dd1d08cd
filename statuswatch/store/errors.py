"""Errors a store backend raises that its callers tell apart."""

from __future__ import annotations


class FencedError(RuntimeError):
    """This node's fence is no longer current: its write transaction must not commit.

    Raised by a store's `guard` (the leader lease's check) as the first statement of a write
    transaction; the writer drops the batch instead of retrying it, so the writes of a leader
    that lost its lease (paused, partitioned) never land after another node took over.
    """
