"""The event loop choice: uvloop when importable, the standard loop when not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from statuswatch.cli.event_loop import loop_name, new_event_loop


def test_without_uvloop_the_standard_loop_runs_coroutines(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("asyncio")
        assert loop_name(loop) == "asyncio"
        assert loop.run_until_complete(asyncio.sleep(0, result=42)) == 42
    finally:
        loop.close()


def test_with_uvloop_installed_it_is_the_loop():
    uvloop = pytest.importorskip("uvloop", reason="the `speed` extra is not installed")
    loop = new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
        assert loop_name(loop) == "uvloop"
        assert loop.run_until_complete(asyncio.sleep(0, result=7)) == 7
    finally:
        loop.close()
