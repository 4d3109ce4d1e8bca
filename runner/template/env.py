"""The Jinja sandbox that renders query values, and the instrumentation of a parsed template.

`SafeEnvironment` is an `ImmutableSandboxedEnvironment` with strict undefined, no loader, allow-listed filters,
tests, globals and attributes, and intercepted operators. `instrument(ast)` routes loops, `~` joins and literals
through the limits of `template/limits.py`. No I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from jinja2 import StrictUndefined, nodes, pass_environment, pass_eval_context
from jinja2.environment import Environment
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS
from jinja2.utils import missing
from jinja2.visitor import NodeTransformer

from runner.suggest import did_you_mean
from runner.template.limits import (
    MAX_RANGE,
    MAX_WEIGHT,
    TooLarge,
    check_operator,
    check_result,
    checkpoint,
    size_of,
)

ALLOWED_FILTERS = frozenset({
    "abs", "capitalize", "count", "d", "default", "dictsort", "first", "float", "int", "items", "join", "last",
    "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "select",
    "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper",
})
# Read-only methods whose result is never larger than their input. Everything else (str.format, str.center,
# list.pop, dict.update...) is refused; so is every attribute of any other type of object.
ALLOWED_METHODS: dict[type, frozenset[str]] = {
    str: frozenset({
        "capitalize", "casefold", "count", "endswith", "find", "isalnum", "isalpha", "isdigit", "islower", "isupper",
        "lower", "lstrip", "removeprefix", "removesuffix", "rfind", "rsplit", "rstrip", "split", "splitlines",
        "startswith", "strip", "title", "upper",
    }),
    dict: frozenset({"get", "items", "keys", "values"}),
    list: frozenset({"count", "index"}),
    tuple: frozenset({"count", "index"}),
}
MAX_PRECISION = 30
MAX_INDENT = 16


class QueryUndefined(StrictUndefined):
    """Strict undefined whose message names the missing key and suggests the closest one."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name, obj = self._undefined_name, self._undefined_obj
        if obj is missing:
            return f"undefined variable {name!r}"
        if isinstance(obj, dict) and isinstance(name, str):
            return f"undefined key {name!r}{did_you_mean(name, [k for k in obj if isinstance(k, str)])}"
        return f"a {type(obj).__name__} value has no attribute or item {name!r}"


def _guarded(function: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps also copies `jinja_pass_arg`, so Jinja still passes the environment or context it expects.
    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        checkpoint()
        return check_result(function(*args, **kwargs))

    return guarded


@pass_environment
def _join(environment: Environment, value: Iterable[Any], separator: str = "", attribute: str | None = None) -> str:
    """Jinja's `join`, but it stops as soon as the text would pass the size limit instead of building it first."""
    getter = make_attrgetter(environment, attribute) if attribute is not None else None
    pieces: list[str] = []
    total = 0
    for item in value:
        checkpoint()
        text = str(getter(item) if getter is not None else item)
        total += len(text) + len(separator)
        if total > MAX_WEIGHT:
            raise TooLarge(f"join() result grew past {MAX_WEIGHT:,} characters")
        pieces.append(text)
    return str(separator).join(pieces)


def _replace(value: object, old: object, new: object, count: int | None = None) -> str:
    """Jinja's `replace`, with the result's size computed before it is built."""
    text, old_text, new_text = str(value), str(old), str(new)
    hits = text.count(old_text) if old_text else len(text) + 1
    if count is not None and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new_text) - len(old_text)) > MAX_WEIGHT:
        raise TooLarge(f"replace() result would exceed {MAX_WEIGHT:,} characters")
    return text.replace(old_text, new_text, -1 if count is None else count)


@pass_environment
def _sum(environment: Environment, iterable: Iterable[Any], attribute: str | int | None = None,
         start: Any = 0) -> Any:
    """Jinja's `sum`, one checked `+` at a time. Python's sum() is one C call, and over lists it copies the growing
    total at every step: `([[1]]*50000)|sum(start=[])` took seconds that no checkpoint could interrupt."""
    getter = make_attrgetter(environment, attribute) if attribute is not None else None
    items = (getter(item) if getter is not None else item for item in iterable)
    if isinstance(start, list | tuple):
        return _sum_sequences(start, items)
    total = start
    for item in items:
        checkpoint()
        check_operator("+", total, item)
        total = total + item
    return total


def _sum_sequences(start: list[Any] | tuple[Any, ...], items: Iterable[Any]) -> list[Any] | tuple[Any, ...]:
    """Concatenate in linear time, sizing each piece before it is added (a piece repeated is sized once)."""
    kind = type(start)
    total = list(start)
    weight = size_of(start)
    for item in items:
        checkpoint()
        if type(item) is not kind:  # what `+` would refuse
            raise TypeError(f'can only concatenate {kind.__name__} (not "{type(item).__name__}") to {kind.__name__}')
        weight += size_of(item)
        if weight > MAX_WEIGHT:
            raise TooLarge(f"sum() result grew past {MAX_WEIGHT:,} characters")
        total.extend(item)
    return total if kind is list else tuple(total)


def _round(value: float, precision: int = 0, method: str = "common") -> float:
    """Jinja's `round`; Python computes 10 ** precision, so a huge precision would stall the render."""
    if not isinstance(precision, int) or abs(precision) > MAX_PRECISION:
        raise TooLarge(f"round() precision must be an integer between -{MAX_PRECISION} and {MAX_PRECISION}")
    return cast(float, FILTERS["round"](value, precision, method))


@pass_eval_context
def _tojson(context: EvalContext, value: Any, indent: int | None = None) -> str:
    """Jinja's `tojson`; json.dumps repeats the indent on every line, so a huge one is a memory bomb."""
    if indent is not None and not (isinstance(indent, int) and 0 <= indent <= MAX_INDENT):
        raise TooLarge(f"tojson() indent must be an integer between 0 and {MAX_INDENT}")
    return cast(str, FILTERS["tojson"](context, value, indent))


def _range(*args: int) -> range:
    checkpoint()
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:  # more numbers than Python can count
        count = MAX_RANGE + 1
    if count > MAX_RANGE:
        raise TooLarge(f"range() of {count:,} numbers is over the limit of {MAX_RANGE:,}")
    return numbers


def _dict(*args: Any, **kwargs: Any) -> dict[Any, Any]:
    return check_result(dict(*args, **kwargs))


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every `{% for %}` iterates through this, so nested loops stop at the deadline even when they output nothing."""
    for item in iterable:
        checkpoint()
        yield item


def _concat(*parts: Any) -> str:
    """The `~` operator, with the size checked piece by piece."""
    checkpoint()
    pieces = [str(part) for part in parts]
    if sum(len(piece) for piece in pieces) > MAX_WEIGHT:
        raise TooLarge(f"a value grew past {MAX_WEIGHT:,} characters")
    return "".join(pieces)


def _finalize(value: Any) -> Any:
    return check_result(value)


class SafeEnvironment(ImmutableSandboxedEnvironment):
    """The only environment query values are rendered with."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        # optimized=False: Jinja's optimizer would evaluate constant expressions at compile time, outside any budget.
        super().__init__(undefined=QueryUndefined, autoescape=False, optimized=False, finalize=_finalize,
                         loader=None, cache_size=0, keep_trailing_newline=True)
        self.globals.clear()
        self.globals.update(range=_range, dict=_dict)
        self.filters = {name: _guarded(cast(Callable[..., Any], FILTERS[name])) for name in ALLOWED_FILTERS}
        self.filters["join"] = _guarded(_join)
        self.filters["replace"] = _guarded(_replace)
        self.filters["round"] = _guarded(_round)
        self.filters["sum"] = _guarded(_sum)
        self.filters["tojson"] = _guarded(_tojson)
        self.tests = {name: _guarded(cast(Callable[..., Any], test)) for name, test in TESTS.items()}
        self.vqr_iterate = _iterate
        self.vqr_concat = _concat
        self.vqr_build = check_result

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, LoopContext):
            return True
        return any(isinstance(obj, kind) and attr in names for kind, names in ALLOWED_METHODS.items())

    def wrap_str_format(self, value: Any) -> None:
        # The sandbox would hand out a "safe" str.format; we refuse formatting altogether (is_safe_attribute).
        return None

    def getattr(self, obj: Any, attribute: str) -> Any:
        checkpoint()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: str | Any) -> Any:
        checkpoint()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        checkpoint()
        return check_result(super().call(__context, __obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        checkpoint()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with '%' is not allowed; join text with '~'")
        check_operator(operator, left, right)
        return check_result(self.binop_table[operator](left, right))


class _Instrument(NodeTransformer):
    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _call("vqr_iterate", [cast(nodes.Expr, node.iter)], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _call("vqr_concat", list(node.nodes), node.lineno)

    def visit_List(self, node: nodes.List) -> nodes.Node:
        self.generic_visit(node)
        return _call("vqr_build", [node], node.lineno)

    def visit_Dict(self, node: nodes.Dict) -> nodes.Node:
        self.generic_visit(node)
        return _call("vqr_build", [node], node.lineno)

    def visit_Tuple(self, node: nodes.Tuple) -> nodes.Node:
        self.generic_visit(node)
        return node if node.ctx != "load" else _call("vqr_build", [node], node.lineno)


def _call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    return nodes.Call(nodes.EnvironmentAttribute(name, lineno=lineno), args, [], None, None, lineno=lineno)


def instrument(ast: nodes.Template, environment: SafeEnvironment) -> nodes.Template:
    """Route loops, joins and literals through the limits (in place; returns `ast`)."""
    _Instrument().visit(ast)
    ast.set_environment(environment)
    return ast
