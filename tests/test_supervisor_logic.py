"""The supervisor's rules without processes: the pause before a restart, and exits in words."""

from __future__ import annotations

import signal

import pytest

from statuswatch.roles.supervisor import (
    FIRST_PAUSE,
    HEALTHY_AFTER,
    MAX_PAUSE,
    Child,
    describe_exit,
)


def child() -> Child:
    return Child("web worker 1", ["statuswatch"], {})


def test_deaths_at_start_double_the_pause_up_to_its_cap():
    dying = child()
    pauses = [dying.pause(lived=1.0) for _ in range(9)]
    assert pauses == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert (FIRST_PAUSE, MAX_PAUSE) == (0.5, 30.0)


def test_a_healthy_run_resets_the_pause():
    flapping = child()
    for _ in range(5):
        flapping.pause(lived=0.2)
    assert flapping.pause(lived=HEALTHY_AFTER) == FIRST_PAUSE  # lived long enough: healthy
    assert flapping.pause(lived=HEALTHY_AFTER - 0.01) == FIRST_PAUSE  # the first quick one
    assert flapping.pause(lived=3.0) == 2 * FIRST_PAUSE


def test_a_death_after_a_long_life_waits_the_first_pause():
    assert child().pause(lived=86_400.0) == FIRST_PAUSE


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (-signal.SIGKILL, "was killed by SIGKILL"),
        (-signal.SIGSEGV, "was killed by SIGSEGV"),
        (-signal.SIGTERM, "was killed by SIGTERM"),
        (-200, "was killed by signal 200"),
        (0, "exited with status 0"),
        (1, "exited with status 1"),
        (2, "exited with status 2"),
    ],
)
def test_an_exit_in_words(code: int, words: str):
    assert describe_exit(code) == words
