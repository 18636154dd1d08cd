"""Cyclic GC settings for the long-running service: rare full collections.

A collection holds the GIL while it walks every object of the generations it collects, so the
event loop (and the probes' schedule) stands still meanwhile. With the defaults (700, 10, 10)
bench/probes.py saw a full collection every ~10 s under page load, up to 59 ms each (the heap
frozen at start-up is not walked, but probe results, held rollups and the metrics' series are).
Collecting the youngest generation every 20,000 net allocations instead of 700 makes every
generation's collections ~30x rarer; each young collection walks at most 20,000 objects (a few
ms). Garbage without cycles is still freed at once by reference counting.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 10, 10)


def tune_gc() -> None:
    """Apply THRESHOLDS (`statuswatch run` and the probe benchmark call this at start-up)."""
    gc.set_threshold(*THRESHOLDS)
