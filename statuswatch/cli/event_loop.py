"""The event loop `statuswatch run` (and bench/probes.py) runs on: uvloop when installed.

uvloop is an optional extra (`pip install 'statuswatch[speed]'`): on the probe path it cut CPU
per probe by about a fifth (bench/resolver.py, README "Probes at scale"). Without it statuswatch
runs the same code on the standard asyncio loop; nothing else depends on which one it is.
"""

from __future__ import annotations

import asyncio


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A new uvloop loop when uvloop is importable, else a standard asyncio one."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """'uvloop' or 'asyncio', for the start-up log line and the benchmark's report."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
