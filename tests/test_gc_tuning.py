"""The service's cyclic GC thresholds: young collections (and so full ones) made rare."""

from __future__ import annotations

import gc

from statuswatch.cli.gc_tuning import THRESHOLDS, tune_gc


def test_tune_gc_sets_the_thresholds():
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == THRESHOLDS
        assert THRESHOLDS[0] >= 10_000 > before[0]  # the default is a collection per 700
    finally:
        gc.set_threshold(*before)
