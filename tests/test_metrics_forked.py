"""The monitor role renders /metrics in a forked child: the same bytes, errors that say so."""

from __future__ import annotations

import gzip
import os
import time

import pytest

from statuswatch.metrics import forked
from statuswatch.metrics.forked import RenderFailedError, render_forked


async def test_the_child_renders_what_the_parent_would():
    body = b"# HELP x y\nx 1\n" * 10_000  # several pipe buffers' worth
    assert await render_forked(lambda: body, compress=False) == body
    assert gzip.decompress(await render_forked(lambda: body, compress=True)) == body


async def test_the_child_sees_the_figures_as_they_were_at_the_fork():
    figures = {"checks": 1}
    rendered = render_forked(lambda: str(figures["checks"]).encode(), compress=False)
    figures["checks"] = 2  # the coroutine has not forked yet: it forks when awaited
    assert await rendered == b"2"


async def test_a_render_that_raises_is_an_error_not_a_partial_body():
    def broken() -> bytes:
        raise ValueError("boom")

    with pytest.raises(RenderFailedError):
        await render_forked(broken, compress=False)


async def test_a_child_past_its_deadline_is_killed(monkeypatch):
    monkeypatch.setattr(forked, "CHILD_DEADLINE", 0.5)
    pids: list[int] = []

    def hangs() -> bytes:  # as a child would that waits on a lock held at the fork
        time.sleep(30)
        return b""

    original = os.fork

    def recording_fork() -> int:
        pid = original()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    started = time.monotonic()
    with pytest.raises(RenderFailedError, match="deadline"):
        await render_forked(hangs, compress=False)
    assert time.monotonic() - started < 5
    (pid,) = pids
    with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
        os.waitpid(pid, os.WNOHANG)
