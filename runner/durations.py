"""Durations as written in query and project files, and as Veza's protobuf JSON mapping sends them.

`parse_duration("1h30m") -> 5400.0`; `None` for anything else. Pure, no I/O. Accepted grammar: one or more
`<digits><unit>` parts with units `d`, `h`, `m`, `s` in that order, each at most once (`90s`, `15m`, `12h`, `2d`,
`1h30m`, `1d12h`), the seconds part alone may carry up to 9 fractional digits, which makes every protobuf Duration
string (`"43200s"`, `"1.5s"`) valid too. No sign, spaces, other units or bare numbers (is `90` seconds or minutes?).
"""

from __future__ import annotations

import re
from decimal import Decimal

# google.protobuf.Duration's documented range: +-315,576,000,000 seconds (about 10,000 years).
MAX_SECONDS = 315_576_000_000

_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+(?:\.[0-9]{1,9})?)s)?")
_UNIT_SECONDS = (86_400, 3_600, 60)


def parse_duration(text: object) -> float | None:
    """Seconds in `text`, or None when it is not a duration of the accepted grammar or exceeds MAX_SECONDS."""
    if not isinstance(text, str) or not text or len(text) > 64:
        return None
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    total = Decimal(seconds) if seconds is not None else Decimal(0)
    for part, unit in zip((days, hours, minutes), _UNIT_SECONDS, strict=True):
        if part is not None:
            total += int(part) * unit
    if total > MAX_SECONDS:
        return None
    return float(total)


def to_protobuf_duration(seconds: float) -> str:
    """The protobuf JSON form Veza expects: `43200.0 -> "43200s"`, `1.5 -> "1.5s"` (at most 9 fractional digits)."""
    if seconds < 0 or seconds > MAX_SECONDS:
        raise ValueError(f"duration out of range: {seconds}")
    text = f"{Decimal(repr(float(seconds))).quantize(Decimal('0.000000001')):f}".rstrip("0").rstrip(".")
    return f"{text}s"
