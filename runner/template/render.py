"""Render the string values of a loaded query file with sandboxed Jinja, one value at a time (never the file text).

Input: a JSON value of a `Document`, its path, the variables. Output: the value with each templated string rendered (a
lone `{{ expr }}` yields the expression's JSON value; a value that fails stays as written) and one `Finding` per
problem at the value's line and column. No I/O; compiled templates are cached per `Renderer` by source text.
Every value is charged to the `LintBudget` the renderer shares with its whole lint; once that is spent, the values
left are returned as written with a `template/not-checked` finding, never silently passed.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import TemplateSyntaxError, nodes
from jinja2.environment import Template
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import Undefined

from runner.model import Document, Finding, JSONPath, JSONValue
from runner.suggest import did_you_mean
from runner.template.budget import LintBudget
from runner.template.env import SafeEnvironment, instrument
from runner.template.limits import MAX_OUTPUT, TIME_LIMIT, LimitExceeded, TimedOut, TooLarge, render_budget
from runner.template.positions import finding_at
from runner.template.survey import Violation, survey

__all__ = ["BUDGET_RULE", "MAX_OUTPUT", "NOT_CHECKED_RULE", "TEMPLATE_NAME", "TIME_LIMIT", "Renderer", "is_template"]

TEMPLATE_NAME = "<query value>"  # every template has this name: nothing about the file leaks into the sandbox
_RESULT = "vqr_result"
_CACHE_LIMIT = 8192
# The missing name in an UndefinedError's message (env.QueryUndefined's wording, or Jinja's own).
_UNDEFINED_NAME = re.compile(
    r"^undefined (?:variable|key) '(\w+)'|has no attribute (?:or item )?'(\w+)'|^'(\w+)' is undefined")
_JINJA_NAMES = frozenset({"lipsum", "cycler", "joiner", "namespace"})
BUDGET_RULE = "template/budget"  # the lint's budget ran out at this value (or matrix)
NOT_CHECKED_RULE = "template/not-checked"  # a file's values left unrendered because the budget had run out


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


class NotJson(Exception):
    """A whole-value expression produced something that has no JSON form."""


@dataclass(frozen=True, kw_only=True)
class _Compiled:
    template: Template | None  # None when `violations` stop it from ever running
    native: bool  # the value is one `{{ expr }}`: yields the expression's value, not text
    violations: tuple[Violation, ...]
    names: Mapping[str, int]  # every name read and not guarded by `default`/`is defined` -> its first line


class Renderer:
    """Renders values for one lint or run; caches compiled templates by source text."""

    def __init__(self, budget: LintBudget | None = None) -> None:
        self.environment = SafeEnvironment()
        self.budget = budget or LintBudget()
        self._not_checked: dict[str, Finding] = {}  # one per file: every later value of that file repeats it
        self._compiled: dict[str, _Compiled] = {}
        self._timed_out: dict[str, Violation] = {}  # a template that ran out of time once is not run again
        self._failed: list[JSONPath] = []  # the current `render` call's unrendered values

    @property
    def compiled_count(self) -> int:
        """How many distinct templates are compiled and cached."""
        return len(self._compiled)

    def render(self, value: JSONValue, *, variables: Mapping[str, JSONValue], doc: Document,
               base: JSONPath, failed: list[JSONPath] | None = None) -> tuple[JSONValue, list[Finding]]:
        """`value` rendered; a template that fails is a finding, keeps its text and its path is added to `failed`."""
        findings: list[Finding] = []
        self._failed = failed if failed is not None else []
        return self._walk(value, base, variables, doc, findings), findings

    def _walk(self, value: JSONValue, path: JSONPath, variables: Mapping[str, JSONValue], doc: Document,
              findings: list[Finding]) -> JSONValue:
        if isinstance(value, str):
            return self._render_string(value, path, variables, doc, findings) if is_template(value) else value
        if isinstance(value, list):
            return [self._walk(item, (*path, index), variables, doc, findings) for index, item in enumerate(value)]
        if isinstance(value, dict):
            return {key: self._walk(item, (*path, key), variables, doc, findings) for key, item in value.items()}
        return value

    def _render_string(self, value: str, path: JSONPath, variables: Mapping[str, JSONValue], doc: Document,
                       findings: list[Finding]) -> JSONValue:
        budget = self.budget
        if budget.spent is not None:
            # The file's one not-checked finding, at its first value left unrendered, repeated for every later one
            # (deduplicated downstream), so a matrix combination that holds any of them is never planned.
            findings.append(self._not_checked.setdefault(
                doc.path, doc.finding(path, rule=NOT_CHECKED_RULE, message=budget.not_checked_message())))
            return value
        where = doc.position(path)
        problems: list[Violation] = []
        rendered: JSONValue = None
        if budget.remaining_seconds() > 0:
            started = time.monotonic()
            problems, rendered, size = self._render_text(value, variables)
            budget.charge_time(time.monotonic() - started)
            if any(problem.rule == BUDGET_RULE for problem in problems):
                budget.spend("time", path=doc.path, where=where)
            elif not problems:
                budget.charge_output(size, path=doc.path, where=where)
        else:
            budget.spend("time", path=doc.path, where=where)
        if budget.spent is not None:  # spent by this very value
            line = next((problem.line for problem in problems if problem.rule == BUDGET_RULE), 1)
            problems = [Violation(rule=BUDGET_RULE, line=line, message=budget.spent_message())]
        findings += (finding_at(doc, path, value, problem) for problem in problems)
        self._failed += [path] if problems else []
        return value if problems else rendered

    def _render_text(self, text: str, variables: Mapping[str, JSONValue]) -> tuple[list[Violation], JSONValue, int]:
        """(problems, the rendered value, its size in bytes); a problem ruled BUDGET_RULE: the lint's time ran out."""
        compiled = self._compile(text)
        if compiled.violations or compiled.template is None:
            return list(compiled.violations), None, 0
        known = set(variables) | set(self.environment.globals)
        missing = [Violation(rule="template/undefined", line=line, message=_undefined_message(name, known),
                             name=name)
                   for name, line in compiled.names.items() if name not in known]
        if missing:
            return missing, None, 0
        if text in self._timed_out:
            return [self._timed_out[text]], None, 0
        # One value may take TIME_LIMIT, but never more than what is left of the whole lint's time.
        left = self.budget.remaining_seconds()
        lint_bound = left < TIME_LIMIT
        try:
            with render_budget(max(min(TIME_LIMIT, left), 0.0)):
                if compiled.native:
                    return [], *_run_native(compiled.template, variables)
                return [], *_run_text(compiled.template, variables)
        except Exception as error:  # the sandbox can raise anything; each becomes a finding
            problem = _classify(error)
            if isinstance(error, TimedOut):
                if lint_bound:  # not this value's own fault: not remembered, and said as the lint's budget
                    return [Violation(rule=BUDGET_RULE, line=problem.line, message="")], None, 0
                self._timed_out[text] = problem
            return [problem], None, 0

    def _compile(self, text: str) -> _Compiled:
        compiled = self._compiled.get(text)
        if compiled is None:
            if len(self._compiled) >= _CACHE_LIMIT:
                self._compiled.clear()
            compiled = self._compiled[text] = self._build(text)
        return compiled

    def _build(self, text: str) -> _Compiled:
        if len(text.encode("utf-8", "surrogatepass")) > MAX_OUTPUT:
            return _rejected(Violation(rule="template/too-large", line=1,
                                       message=f"a templated value is longer than {MAX_OUTPUT:,} bytes"))
        env = self.environment
        try:
            ast = env.parse(text, name=TEMPLATE_NAME, filename=TEMPLATE_NAME)
            found = survey(ast, filters=env.filters, tests=env.tests)
            if found.violations:
                return _rejected(*found.violations)
            expression = _single_expression(ast)
            if expression is not None:
                target = nodes.Name(_RESULT, "store", lineno=expression.lineno)
                ast = nodes.Template([nodes.Assign(target, expression, lineno=expression.lineno)], lineno=1)
            code = env.compile(instrument(ast, env), name=TEMPLATE_NAME, filename=TEMPLATE_NAME)
            template = env.template_class.from_code(env, code, env.make_globals(None), None)
        except TemplateSyntaxError as error:
            return _rejected(Violation(rule="template/syntax", line=error.lineno or 1, message=_one_line(error)))
        except RecursionError:
            return _rejected(Violation(rule="template/syntax", line=1, message="the template is nested too deeply"))
        except Exception as error:  # e.g. an integer literal too long for Python to read
            return _rejected(Violation(rule="template/syntax", line=1, message=_one_line(error)))
        return _Compiled(template=template, native=expression is not None, violations=(), names=found.names)


def _rejected(*violations: Violation) -> _Compiled:
    return _Compiled(template=None, native=False, violations=violations, names={})


def _single_expression(ast: nodes.Template) -> nodes.Expr | None:
    """The expression of a value that is exactly one `{{ expr }}` (whitespace around it allowed), else None."""
    if len(ast.body) != 1 or not isinstance(ast.body[0], nodes.Output):
        return None
    parts = [node for node in ast.body[0].nodes if not (isinstance(node, nodes.TemplateData) and not node.data.strip())]
    if len(parts) != 1 or isinstance(parts[0], nodes.TemplateData):
        return None
    return parts[0]


def _run_text(template: Template, variables: Mapping[str, JSONValue]) -> tuple[str, int]:
    """Generate chunk by chunk, so an output bomb stops at the limit rather than after it is built."""
    chunks: list[str] = []
    size = 0
    stream = cast(Generator[str, None, None], template.generate(dict(variables)))
    try:
        for chunk in stream:
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TooLarge(f"the rendered value is longer than {MAX_OUTPUT:,} bytes")
            chunks.append(chunk)
    finally:
        stream.close()
    text = "".join(chunks)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_OUTPUT:
        raise TooLarge(f"the rendered value is longer than {MAX_OUTPUT:,} bytes")
    return text, size


def _run_native(template: Template, variables: Mapping[str, JSONValue]) -> tuple[JSONValue, int]:
    context = template.new_context(dict(variables))
    try:
        for _ in template.root_render_func(context):
            pass
        value = _to_json(context.vars[_RESULT])
    except Exception:  #  re-raised with template line numbers in the traceback
        template.environment.handle_exception()
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_OUTPUT:
        raise TooLarge(f"the rendered value is longer than {MAX_OUTPUT:,} bytes")
    return value, size


def _to_json(value: Any) -> JSONValue:
    """Plain JSON values only: no Python object (function, Undefined, generator...) ever leaves the sandbox."""
    if isinstance(value, Undefined):
        str(value)  # strict: raises the UndefinedError that says what is missing
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotJson(f"the expression yields {value}, which is not a JSON number")
        return float(value)
    if isinstance(value, str):
        return str(value)  # Markup (from tojson) becomes a plain string
    if isinstance(value, list | tuple | range):
        return [_to_json(item) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotJson(f"the expression yields a mapping with the key {key!r}; JSON keys are strings")
        return {str(key): _to_json(item) for key, item in value.items()}
    hint = "; add '|list'" if hasattr(value, "__iter__") else ""
    raise NotJson(f"the expression yields a {type(value).__name__}, which is not a JSON value{hint}")


def _classify(error: Exception) -> Violation:
    line = _template_line(error)
    if isinstance(error, TimedOut):
        return Violation(rule="template/timeout", line=line, message=str(error))
    if isinstance(error, TooLarge | MemoryError):
        return Violation(rule="template/too-large", line=line, message=str(error) or "the value is too large")
    if isinstance(error, LimitExceeded):
        return Violation(rule="template/too-large", line=line, message=str(error))
    if isinstance(error, SecurityError):
        return Violation(rule="template/security", line=line, message=_one_line(error))
    if isinstance(error, UndefinedError):
        found = _UNDEFINED_NAME.search(_one_line(error))
        return Violation(rule="template/undefined", line=line, message=_one_line(error),
                         name=next(filter(None, found.groups()), None) if found else None)
    if isinstance(error, NotJson):
        return Violation(rule="template/not-json", line=line, message=str(error))
    if isinstance(error, RecursionError):
        return Violation(rule="template/error", line=line, message="the value is nested too deeply")
    return Violation(rule="template/error", line=line, message=f"{type(error).__name__}: {_one_line(error)}")


def _template_line(error: BaseException) -> int:
    """The template line a runtime error happened on: Jinja rewrites tracebacks to template lines."""
    line = 1
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == TEMPLATE_NAME:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _undefined_message(name: str, known: set[str]) -> str:
    if name in _JINJA_NAMES:
        return f"undefined variable {name!r} (Jinja's {name!r} is not available in query values)"
    return f"undefined variable {name!r}{did_you_mean(name, sorted(known))}"


def _one_line(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    first = str(text).strip().splitlines()[0] if str(text).strip() else type(error).__name__
    return first if len(first) <= 200 else first[:197] + "..."
