"""Histograms of durations, so medians and p90s add up across days, lines and agents.

A day's replies (or resolutions) are kept as {bucket: count}: one bucket per second below a
minute (exact), then buckets 5% wide (a value read back is within 2.5% of the real one: a
median of 1h 40m is right to about 2 minutes). Few buckets keep a page's merging cheap. Summed
over a period they give its median and p90 without reading every reply, the way a daily rollup
gives a total without reading every text.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

EXACT_BELOW = 60
RATIO = 1.05
_LOG_RATIO = math.log(RATIO)


def bucket(seconds: int) -> int:
    if seconds < EXACT_BELOW:
        return int(seconds)
    return EXACT_BELOW + int(math.log(seconds / EXACT_BELOW) / _LOG_RATIO)


def representative(key: int) -> float:
    """The value a bucket stands for: itself when exact, else its geometric middle."""
    if key < EXACT_BELOW:
        return float(key)
    return EXACT_BELOW * RATIO ** (key - EXACT_BELOW + 0.5)


def of(seconds: Iterable[int]) -> dict[str, int]:
    """A histogram of these durations, keyed by str (it is stored as JSON)."""
    return dict(Counter(str(bucket(s)) for s in seconds))


def add(into: Counter, histogram: Mapping[str, int]) -> None:
    for key, count in histogram.items():
        into[key] += count


def percentile(histogram: Mapping[str, int], pct: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL's percentile_cont), on the
    buckets' values."""
    items = sorted((int(k), c) for k, c in histogram.items() if c)
    total = sum(c for _, c in items)
    if not total:
        return None
    rank = (total - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    values = {}
    seen = 0
    for key, count in items:
        for wanted in (low, high):
            if wanted not in values and seen <= wanted < seen + count:
                values[wanted] = representative(key)
        seen += count
        if high in values:
            break
    return values[low] + (values[high] - values[low]) * (rank - low)


def percentiles(buckets: list[tuple[int, int]], pcts: tuple[float, ...]) -> list[float | None]:
    """Several percentiles of (bucket, count) pairs already in bucket order, in one walk."""
    total = sum(c for _, c in buckets)
    if not total:
        return [None for _ in pcts]
    wanted = {}
    for pct in pcts:
        rank = (total - 1) * pct / 100
        wanted[pct] = (rank, math.floor(rank), math.ceil(rank))
    ranks = sorted({r for _, low, high in wanted.values() for r in (low, high)})
    values = {}
    seen, i = 0, 0
    for key, count in buckets:
        while i < len(ranks) and ranks[i] < seen + count:
            values[ranks[i]] = representative(key)
            i += 1
        seen += count
        if i == len(ranks):
            break
    return [
        values[low] + (values[high] - values[low]) * (rank - low)
        for rank, low, high in wanted.values()
    ]
