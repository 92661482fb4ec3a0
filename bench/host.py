"""How fast this host is right now: one fixed piece of pure-Python work, timed.

The bench figures are absolute times on a shared 2-core host whose speed has varied up to 2x
from one day to the next (another tenant's load). A page that took 150 ms on one day takes
250 ms on another with the same code; the ratios within one run stay comparable, the absolute
figures do not. Each bench prints this reference beside its figures, so two runs can be
compared: if the reference took twice as long, so did everything else in Python.
"""

from __future__ import annotations

import statistics
import time


def python_reference_ms(repeat: int = 5) -> float:
    """The median time of a fixed loop (dict and string work, as a page's Python does), in ms."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        table: dict[str, int] = {}
        for i in range(200_000):
            key = f"k{i % 1000}"
            table[key] = table.get(key, 0) + i
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def describe() -> str:
    return f"host reference: a fixed Python loop took {python_reference_ms():.0f} ms (median of 5)"
