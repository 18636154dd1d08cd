"""Render the exposition in a forked child, so a scrape costs the probes' process nothing.

With 10,000 monitors one exposition is ~0.13 s of CPU and a heap of short-lived objects; on a
thread of the monitor process it still holds the GIL in slices and sets off collections, and a
crowd scraping the site's /metrics once a second raised probe lateness p99 by 40-60 ms
(bench/probes.py). A forked child has a copy-on-write copy of every figure at the moment of the
fork (one consistent instant, as a snapshot needs), renders and gzips it on the other core with
its own GIL, writes the bytes to a pipe and exits. The parent pays the fork (a few ms of page
tables) and reading ~0.5 MB.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import signal
from collections.abc import Callable

# A child that has not finished by then is killed (a lock some other thread held at the fork
# would hang it forever): that scrape gets an error, the next one forks again.
CHILD_DEADLINE = 10.0


class RenderFailedError(RuntimeError):
    """The child died, was killed at its deadline, or wrote nothing."""


def _child(write_fd: int, render: Callable[[], bytes], compress: bool) -> None:
    """In the child: render, write, leave without running anything of the parent's."""
    code = 1
    try:
        body = render()
        if compress:
            body = gzip.compress(body, 1)
        view = memoryview(body)
        while view:
            view = view[os.write(write_fd, view) :]
        code = 0
    finally:
        os._exit(code)  # no atexit, no buffered files, no asyncio teardown of the parent's


def _collect(read_fd: int, pid: int) -> bytes:
    """In a thread of the parent: read the child's bytes to EOF, then reap it."""
    chunks = []
    try:
        while chunk := os.read(read_fd, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        raise RenderFailedError(f"metrics child ended with status {status}")
    return b"".join(chunks)


async def render_forked(render: Callable[[], bytes], *, compress: bool) -> bytes:
    """`render()` (gzipped when `compress`) as computed by a forked child of this process."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is its output
        os.close(read_fd)
        _child(write_fd, render, compress)
    os.close(write_fd)
    collected = asyncio.get_running_loop().run_in_executor(None, _collect, read_fd, pid)
    try:
        return await asyncio.wait_for(asyncio.shield(collected), CHILD_DEADLINE)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)  # the collecting thread then sees EOF and reaps it
        with contextlib.suppress(RenderFailedError):
            await collected
        raise RenderFailedError("metrics child missed its deadline") from None
