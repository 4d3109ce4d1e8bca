"""Did-you-mean, one helper for every stage: `closest(word, choices)` and the message tail `did_you_mean(...)`.

Pure. A match that differs only in case wins; otherwise difflib's closest above a 0.6 similarity, compared
case-insensitively. Cached, because a repository repeats the same typo across many files and matrix rows.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable

CUTOFF = 0.6  # difflib's own default: below it suggestions are more often wrong than helpful


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice the user most likely meant, or None."""
    return _closest(word, frozenset(choices))


@functools.lru_cache(maxsize=4096)
def _closest(word: str, choices: frozenset[str]) -> str | None:
    ordered = sorted(choices)  # sorted: the same suggestion whatever order the choices came in
    folded = word.casefold()
    for choice in ordered:
        if choice.casefold() == folded:
            return choice
    by_fold: dict[str, str] = {}
    for choice in ordered:
        by_fold.setdefault(choice.casefold(), choice)
    match = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=CUTOFF)
    return by_fold[match[0]] if match else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`"; did you mean 'x'?"` to append to a message, or `""` when nothing is close (or the word is exact)."""
    guess = closest(word, choices)
    return f"; did you mean '{guess}'?" if guess is not None and guess != word else ""
