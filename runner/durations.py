"""Durations as written in query and project files, and as Veza's protobuf JSON mapping sends them: the one place
that parses or formats either.

`parse_duration("1h30m") -> 5400.0` (user grammar), `parse_protobuf_duration("1.5s") -> 1.5` (wire grammar),
`None` for anything else; `to_protobuf_duration(43200.0) -> "43200s"`, `protobuf_duration("12h") -> "43200s"`.
Pure, no I/O. User grammar: one or more `<digits><unit>` parts with units `d`, `h`, `m`, `s` in that order, each at
most once (`90s`, `15m`, `12h`, `2d`, `1h30m`, `1d12h`), the seconds part alone may carry up to 9 fractional
digits, which makes every protobuf Duration string (`"43200s"`, `"1.5s"`) valid too. No sign, spaces, other units
or bare numbers (is `90` seconds or minutes?).
"""

from __future__ import annotations

import re
from decimal import Decimal

# google.protobuf.Duration's documented range: +-315,576,000,000 seconds (about 10,000 years).
MAX_SECONDS = 315_576_000_000
_MAX_TEXT = 64  # longer text is never a duration in range; the cap keeps the regex's work bounded

_SECONDS_PART = r"([0-9]+(?:\.[0-9]{1,9})?)s"
_DURATION = re.compile(rf"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:{_SECONDS_PART})?")
_PROTOBUF = re.compile(_SECONDS_PART)
_UNIT_SECONDS = (86_400, 3_600, 60)


def parse_duration(text: object) -> float | None:
    """Seconds in `text`, or None when it is not a duration of the user grammar or exceeds MAX_SECONDS."""
    if not isinstance(text, str) or not text or len(text) > _MAX_TEXT:
        return None
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    total = Decimal(seconds) if seconds is not None else Decimal(0)
    for part, unit in zip((days, hours, minutes), _UNIT_SECONDS, strict=True):
        if part is not None:
            total += int(part) * unit
    return _in_range(total)


def parse_protobuf_duration(text: object) -> float | None:
    """Seconds in a protobuf Duration string as Veza sends and accepts it (`"43200s"`, `"1.5s"`): whole seconds
    with at most 9 fractional digits, then `s`; None for anything else (`12h` included) or beyond MAX_SECONDS."""
    if not isinstance(text, str) or len(text) > _MAX_TEXT:
        return None
    match = _PROTOBUF.fullmatch(text)
    return _in_range(Decimal(match.group(1))) if match else None


def _in_range(total: Decimal) -> float | None:
    return float(total) if total <= MAX_SECONDS else None


def to_protobuf_duration(seconds: float) -> str:
    """The protobuf JSON form Veza expects: `43200.0 -> "43200s"`, `1.5 -> "1.5s"` (at most 9 fractional digits)."""
    if not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"duration out of range: {seconds}")
    if float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{seconds:.9f}".rstrip("0") + "s"


def protobuf_duration(text: str) -> str:
    """A duration of the user grammar in the protobuf JSON form: `12h` -> `"43200s"` (veza-api.md §1)."""
    seconds = parse_duration(text)
    if seconds is None:
        raise ValueError(f"not a duration: {text!r}")
    return to_protobuf_duration(seconds)
