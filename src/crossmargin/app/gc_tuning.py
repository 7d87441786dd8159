"""How the server's processes tune CPython's garbage collector.

Fewer young collections, and the objects that exist once a process is ready to serve kept out of
every later full collection.

A full (oldest-generation) collection walks every tracked object of the process. In a process
ready to serve, nearly all of them were made while starting (modules, the application, the rebuilt
engine state) and live as long as the process, yet each full collection walked them again: under
signed borrows at half the saturating rate, an edge worker's full collections took 30 to 55 ms
(collecting a handful of objects) and the sequencer process's up to 77 ms, and every request in
flight waited; p99 went from under 8 ms to 37-63 ms (bench_http, `--edge-workers 2`).
`freeze_startup_objects` collects once and then moves every object left into the permanent
generation (`gc.freeze`), which collections skip: later full collections walk only what was made
since. An object frozen here that later becomes cyclic garbage is never freed, which is why it is
done once, when the process is ready, and not as it runs.
"""

from __future__ import annotations

import gc
from typing import Final

GC_YOUNG_OBJECTS_MIN: Final = 50_000
"""Allocations between two young collections while a server runs (CPython's default is 700).

A young collection of this many objects takes about a millisecond; full collections become rarer
in proportion, since short-lived objects (futures, results, requests) die before they are promoted.
"""


def collect_garbage_less_often() -> None:
    """Raise the garbage collector's young threshold to `GC_YOUNG_OBJECTS_MIN`, never lower it."""
    young, middle, old = gc.get_threshold()
    if young < GC_YOUNG_OBJECTS_MIN:
        gc.set_threshold(GC_YOUNG_OBJECTS_MIN, middle, old)


def freeze_startup_objects() -> int:
    """Collect once, keep every object left out of later collections, collect less often; return how many were frozen.

    Call it once per process, when it is ready to serve and before it does.
    """
    gc.collect()
    gc.freeze()
    collect_garbage_less_often()
    return gc.get_freeze_count()
