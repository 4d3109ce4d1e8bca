"""What a parsed template uses, in one pass: what it may not use (`Violation`s) and the names it reads. No I/O.

Input: a Jinja AST and the allowed filters and tests. Output: a `Survey`. Statements other than output, `if`, `for`,
`set` and `with` (include, import, extends, macro...) and known but disallowed filters are security violations.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from jinja2 import nodes
from jinja2.filters import FILTERS
from jinja2.meta import find_undeclared_variables
from jinja2.tests import TESTS

from runner.suggest import did_you_mean

ALLOWED_STATEMENTS = (nodes.Output, nodes.If, nodes.For, nodes.Assign, nodes.With)
STATEMENT_TAGS = {
    nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from ... import", nodes.Extends: "extends",
    nodes.Macro: "macro", nodes.CallBlock: "call", nodes.FilterBlock: "filter", nodes.AssignBlock: "set ... endset",
    nodes.Block: "block",
}
GUARDING_FILTERS = frozenset({"default", "d"})
GUARDING_TESTS = frozenset({"defined", "undefined"})


@dataclass(frozen=True, kw_only=True)
class Violation:
    """A problem with a template, found before or while it is rendered."""

    rule: str  # "template/security", "template/syntax", "template/undefined"...
    line: int  # inside the template, 1-based
    message: str
    name: str | None = None  # the undefined name or attribute, when known: where on its line the finding points


@dataclass(frozen=True, kw_only=True)
class Survey:
    violations: tuple[Violation, ...]
    names: Mapping[str, int]  # names read that the template does not set (nor guard with `default`/`is defined`)
    #                           -> the template line where each is first read


def survey(ast: nodes.Template, *, filters: Collection[str], tests: Collection[str]) -> Survey:
    found: list[Violation] = []
    reads: dict[str, int] = {}
    guarded: set[str] = set()
    sets_names = False
    pending: list[nodes.Node] = [ast]
    while pending:
        node = pending.pop()
        pending.extend(node.iter_child_nodes())
        if isinstance(node, nodes.Stmt):
            sets_names = sets_names or isinstance(node, nodes.For | nodes.Assign | nodes.With)
            found += _statement(node)
        elif isinstance(node, nodes.Name):
            if node.ctx == "load":
                reads[node.name] = min(reads.get(node.name, node.lineno), node.lineno)
        elif isinstance(node, nodes.Filter | nodes.Test):
            is_filter = isinstance(node, nodes.Filter)
            if node.name in (GUARDING_FILTERS if is_filter else GUARDING_TESTS) and isinstance(node.node, nodes.Name):
                guarded.add(node.node.name)
            found += _filter_or_test(node, filters if is_filter else tests)
        elif isinstance(node, nodes.Const) and isinstance(node.value, float) and not math.isfinite(node.value):
            found.append(Violation(rule="template/syntax", line=node.lineno,
                                   message="a number in the template is too large for a float"))
    # Jinja's own analysis (a full code generation pass) is only needed when the template sets names itself.
    undeclared = find_undeclared_variables(ast) if sets_names else set(reads) - {"self"}
    names = {name: line for name, line in sorted(reads.items(), key=lambda item: (item[1], item[0]))
             if name in undeclared and name not in guarded}
    return Survey(violations=tuple(sorted(found, key=lambda v: v.line)), names=names)


def _statement(node: nodes.Stmt) -> list[Violation]:
    if isinstance(node, nodes.For) and node.recursive:
        return [Violation(rule="template/security", line=node.lineno,
                          message="recursive loops are not allowed in query values")]
    if not isinstance(node, ALLOWED_STATEMENTS):
        tag = STATEMENT_TAGS.get(type(node), type(node).__name__.lower())
        return [Violation(rule="template/security", line=node.lineno,
                          message=f"'{{% {tag} %}}' is not allowed in query values")]
    return []


def _filter_or_test(node: nodes.Filter | nodes.Test, allowed: Collection[str]) -> list[Violation]:
    if node.name in allowed:
        return []
    word = "filter" if isinstance(node, nodes.Filter) else "test"
    if node.name in (FILTERS if word == "filter" else TESTS):
        return [Violation(rule="template/security", line=node.lineno,
                          message=f"the {word} '{node.name}' is not allowed in query values")]
    return [Violation(rule="template/syntax", line=node.lineno,
                      message=f"unknown {word} '{node.name}'{did_you_mean(node.name, allowed)}")]
