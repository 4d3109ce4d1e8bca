"""Meaning rules: checks on rendered `QueryUnit`s that run after the schema checks, and rule disabling.

`check_unit(unit, ctx)`: one query's rules (compile caches them with its file); `finish_lint(findings, units, ctx,
doc_disabled=)`: the cross-unit rules added, matrix repeats merged, disabled findings dropped; `unknown_disables`:
disable entries that match no rule. Importing this package registers every known rule id (see `registry`). Spec
rules read the protojson normal form (null, "" and [] unset, absent enums their zero value), on paths that stay
valid in the file. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from runner.model import Finding, QueryUnit, Severity
from runner.protojson import normalise
from runner.rules import known_rules as _known_rules  # noqa: F401  (registers the other stages' ids)
from runner.rules.cache import check_cache, check_cache_policy, check_timeout
from runner.rules.context import RuleContext
from runner.rules.disables import PROJECT_UNKNOWN_RULE, QUERY_UNKNOWN_RULE, unknown_disables
from runner.rules.expectations import check_expectations
from runner.rules.names import check_name, check_unique_names
from runner.rules.node_types import check_node_types
from runner.rules.registry import (
    RuleInfo,
    describe,
    register_rule,
    registered_rules,
    rule_matches,
    unknown_rule_patterns,
)
from runner.rules.spec_checks import check_spec
from runner.rules.spec_rejected import check_rejected

__all__ = [
    "PROJECT_UNKNOWN_RULE",
    "QUERY_UNKNOWN_RULE",
    "RuleContext",
    "RuleInfo",
    "check_cache_policy",
    "check_timeout",
    "check_unit",
    "describe",
    "filter_disabled",
    "finish_lint",
    "is_disablable",
    "register_rule",
    "registered_rules",
    "rule_matches",
    "unknown_disables",
    "unknown_rule_patterns",
]


def is_disablable(finding: Finding) -> bool:
    """Whether a disable list may hide `finding`.

    A YAML error means the file was not loaded and a template error means a value could not be rendered: nothing
    else checks that file or value and it cannot be run, so hiding either would let lint pass on a broken query
    (and a `# vqr: disable=all` comment must not smuggle an unsafe file through).
    """
    if finding.rule.startswith("template/"):
        return False
    return not (finding.rule.startswith("yaml/") and finding.severity is Severity.ERROR)


def filter_disabled(findings: Iterable[Finding], *, project_disabled: frozenset[str] = frozenset(),
                    doc_disabled: Mapping[str, frozenset[str]] | None = None) -> list[Finding]:
    """`findings` minus those disabled in vqr.yaml (`project_disabled`) or in their own file (`doc_disabled`, keyed
    by `Finding.path`). Entries are rule ids, globs such as `cache/*`, or `all`."""
    per_doc = doc_disabled or {}
    kept = []
    for finding in findings:
        patterns = project_disabled | per_doc.get(finding.path, frozenset())
        if patterns and is_disablable(finding) and rule_matches(finding.rule, patterns):
            continue
        kept.append(finding)
    return kept


def _normal_form(unit: QueryUnit) -> QueryUnit:
    """`unit` with its spec in the protojson normal form: a field Veza writes as null, "" or [] is simply absent."""
    spec = unit.body.get("spec")
    if not isinstance(spec, dict):
        return unit
    return dataclasses.replace(unit, body={**unit.body, "spec": normalise(spec)})


def check_unit(unit: QueryUnit, ctx: RuleContext) -> list[Finding]:
    """The rules that look at one query alone (cacheable with its file)."""
    # check_spec normalises by itself: one of its rules must see an empty permission list as written.
    spec = check_spec(unit)
    # spec/query-type already names a missing source for a SOURCE_TO_DESTINATION query: not said twice.
    rejected = check_rejected(unit, skip_sources=any(f.rule == "spec/query-type" for f in spec))
    return [*check_name(unit), *check_cache(unit), *check_expectations(unit),
            *check_node_types(_normal_form(unit), ctx), *spec, *rejected]


def finish_lint(findings: Iterable[Finding], units: Sequence[QueryUnit], ctx: RuleContext, *,
                doc_disabled: Mapping[str, frozenset[str]]) -> list[Finding]:
    """A repository's findings: `findings` (every earlier stage's, `check_unit`'s included, gathered per file,
    perhaps from the lint cache) plus the rules that need every unit at once; each once, those disabled in vqr.yaml
    (`ctx.disabled`) or in their own file (`doc_disabled`, by path) removed, in file order."""
    # Matrix combinations of one file share positions, so the same problem would otherwise repeat per combination.
    unique = list(dict.fromkeys([*findings, *check_unique_names(units)]))
    kept = filter_disabled(unique, project_disabled=ctx.disabled, doc_disabled=doc_disabled)
    return sorted(set(kept), key=lambda f: f.sort_key)
