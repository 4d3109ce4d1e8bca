"""Checks for what the sandbox store reads back: every value is untrusted (a user, a crash or another version may have
written it), so each number is finite and in range, each text a string, before the sandbox acts on it. Pure.
"""

from __future__ import annotations

import math
from typing import Any


class CorruptStore(Exception):
    """A file of the store cannot be read as this version wrote it."""


MAX_ADVANCE_DAYS = 3650  # one advance moves the clock at most ten years: what `/_sandbox/advance` accepts

def number(value: Any, what: str, *, integral: bool = False, most: float = math.inf) -> float:
    """A stored number, checked: JSON reads `1e400` as inf and accepts NaN, so neither may reach the sandbox."""
    if isinstance(value, bool) or not isinstance(value, int if integral else int | float):
        raise CorruptStore(f"{what} is not {'an integer' if integral else 'a number'}")
    if not math.isfinite(value) or not 0 <= value <= most:
        raise CorruptStore(f"{what} is out of range")
    return value


def text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise CorruptStore(f"{what} is not a string")
    return value


def texts(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise CorruptStore(f"{what} is not a list")
    return tuple(text(item, what) for item in value)


def advances_of(data: dict[str, Any]) -> tuple[tuple[int, float, int], ...]:
    """[seed, fraction, days] per advance; a store written before the clock moved has [seed, fraction] (1 day)."""
    steps = data["advances"]
    if not isinstance(steps, list) or not all(isinstance(step, list) and len(step) in (2, 3) for step in steps):
        raise CorruptStore("advances.json is not a list of [seed, fraction, days]")
    days = [step[2] if len(step) == 3 else 1 for step in steps]
    if not all(isinstance(day, int) and not isinstance(day, bool) and 0 <= day <= MAX_ADVANCE_DAYS for day in days):
        raise CorruptStore("an advance's days are out of range")
    seeds = [step[0] for step in steps]
    if not all(isinstance(seed, int) and not isinstance(seed, bool) and abs(seed) < 2**63 for seed in seeds):
        raise CorruptStore("an advance's seed is not a 64-bit integer")
    # The same range `/_sandbox/advance` accepts: anything else would fail, or run for ever, on replay.
    fractions = [number(step[1], "an advance's fraction", most=1.0) for step in steps]
    if not all(fraction > 0 for fraction in fractions):
        raise CorruptStore("an advance's fraction is out of range")
    return tuple(zip(seeds, (float(f) for f in fractions), days, strict=True))
