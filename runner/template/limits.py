"""Size and time limits of one template render, checked cooperatively from inside the sandbox. No I/O.

`render_budget()` opens a per-value `Budget`; `checkpoint()` and `check_result(value)`, called by every loop step,
filter, call, attribute access and operator, raise `TimedOut` / `TooLarge`. Outside a budget (Jinja folding constants
while compiling) they raise `Impossible`, so no user expression is ever evaluated unguarded.
"""

from __future__ import annotations

import time
from collections.abc import ItemsView, Iterable, Iterator, KeysView, ValuesView
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeGuard, TypeVar

from jinja2.nodes import Impossible

MAX_OUTPUT = 64 * 1024  # rendered bytes per value
TIME_LIMIT = 1.0  # seconds per value
MAX_WEIGHT = 4 * MAX_OUTPUT  # size of any intermediate value: characters, items and keys, counted with repetition
MAX_NESTING = 100  # depth of any intermediate list or mapping
MAX_INT_BITS = 4096  # about 1,200 decimal digits: enough for any query, far from a CPU or memory bomb
MAX_RANGE = 10_000

_T = TypeVar("_T")


class LimitExceeded(Exception):
    """A render went over one of the limits above; the message says which, in user terms."""


class TooLarge(LimitExceeded):
    pass


class TimedOut(LimitExceeded):
    pass


@dataclass(kw_only=True)
class Budget:
    deadline: float
    # id -> (the container, kept alive so its id cannot be reused; its weight; its depth). Containers built in the
    # sandbox can share children ([x, x] nested 60 times is a few objects but 2**60 items when printed), so sizes
    # are counted with repetition, and memoised so that counting stays linear in the objects really built.
    sizes: dict[int, tuple[object, int, int]] = field(default_factory=dict)


# Why cooperative checks rather than a signal or a trace hook: SIGALRM only reaches the main thread and cannot
# interrupt one long C call (str() of a huge list) anyway, and sys.settrace slows every render. Instead every step
# that can repeat (loop iteration, filter, call, attribute, operator) checks the deadline, and every operation that
# can build a large value is sized before or right after it runs, so no single step can take long.
_CURRENT: ContextVar[Budget | None] = ContextVar("vqr_render_budget", default=None)


@contextmanager
def render_budget(seconds: float = TIME_LIMIT) -> Iterator[Budget]:
    budget = Budget(deadline=time.monotonic() + seconds)
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def checkpoint() -> Budget:
    """Stop the render once its time is up; refuse compile-time evaluation (there is no budget then)."""
    budget = _CURRENT.get()
    if budget is None:
        raise Impossible()
    if time.monotonic() > budget.deadline:
        raise TimedOut(f"rendering took longer than {TIME_LIMIT:g} s (a loop too large?)")
    return budget


def weigh(value: object, budget: Budget, depth: int = 0) -> tuple[int, int]:
    """(weight, depth) of a value: about the number of characters its text takes, items counted with repetition."""
    if isinstance(value, str):
        return len(value) + 1, 0
    if isinstance(value, bool) or value is None:
        return 1, 0
    if isinstance(value, int):
        return value.bit_length() // 3 + 1, 0
    if not isinstance(value, list | tuple | dict | KeysView | ValuesView | ItemsView):
        return 8, 0  # functions, ranges, generators, loop objects: small text, and iterating them is guarded
    known = budget.sizes.get(id(value))
    if known is not None and known[0] is value:
        return known[1], known[2]
    if depth > MAX_NESTING:
        raise TooLarge(f"a value is nested more than {MAX_NESTING} levels deep")
    # A view prints its whole mapping ([d.items()] * 1000 is small to build but not to print).
    children: Iterable[object] = value
    if isinstance(value, dict):
        children = [part for pair in value.items() for part in pair]
    total, deepest = 1, 0
    for child in children:
        weight, child_depth = weigh(child, budget, depth + 1)
        total += weight + 1
        deepest = max(deepest, child_depth + 1)
        if total > MAX_WEIGHT:
            raise TooLarge(f"a value grew past {MAX_WEIGHT:,} characters")
    if deepest > MAX_NESTING:
        raise TooLarge(f"a value is nested more than {MAX_NESTING} levels deep")
    budget.sizes[id(value)] = (value, total, deepest)
    return total, deepest


def check_result(value: _T) -> _T:
    """Let `value` through if it is within the size limits; every value the sandbox builds passes here."""
    budget = checkpoint()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise TooLarge(f"a number grew past {MAX_INT_BITS} bits")
    if isinstance(value, str | list | tuple | dict | KeysView | ValuesView | ItemsView):
        weight, _ = weigh(value, budget)
        if weight > MAX_WEIGHT:
            raise TooLarge(f"a value grew past {MAX_WEIGHT:,} characters")
    return value


def size_of(value: object) -> int:
    """The weight of a value under the current budget (operands of operators are sized before they run)."""
    return weigh(value, checkpoint())[0]


def check_operator(operator: str, left: object, right: object) -> None:
    """Refuse `*`, `**` and `+` whose result would be over the limits, before Python allocates it."""
    if operator == "**":
        if (_is_int(left) and _is_int(right) and right > 0 and abs(left) > 1
                and abs(left).bit_length() * right > MAX_INT_BITS):
            raise TooLarge(f"{left} ** {right} is larger than {MAX_INT_BITS} bits")
    elif operator == "*":
        if _is_int(left) and _is_int(right):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TooLarge(f"a product is larger than {MAX_INT_BITS} bits")
        elif _is_int(right) or _is_int(left):
            count, sequence = (right, left) if _is_int(right) else (left, right)
            assert isinstance(count, int)
            if not isinstance(sequence, str | list | tuple) or count <= 0:
                return
            if (len(sequence) if isinstance(sequence, str) else size_of(sequence)) * count > MAX_WEIGHT:
                raise TooLarge(f"repeating a value {count:,} times would exceed {MAX_WEIGHT:,} characters")
    elif (operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
          and size_of(left) + size_of(right) > MAX_WEIGHT):
        raise TooLarge(f"a value grew past {MAX_WEIGHT:,} characters")


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
