"""Meaning rules: checks on rendered `QueryUnit`s that run after the schema checks, and rule disabling.

`check_unit(unit, ctx)`: one query's rules (compile caches them with its file); `check_valid_parts(unit, ctx,
invalid)`: the same on a query the schema partly rejected, each rule skipping the rejected values it reads, with
`skipped_note` to say so once per file; `finish_lint(findings, units, ctx,
doc_disabled=)`: the cross-unit rules added, matrix repeats merged, disabled findings dropped; `unknown_disables`:
disable entries that match no rule. Importing this package registers every known rule id (see `registry`). Spec
rules read the protojson normal form (null, "" and [] unset, absent enums their zero value), on paths that stay
valid in the file. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

from runner.model import Finding, JSONPath, JSONValue, QueryUnit, Severity
from runner.protojson import normalise
from runner.rules import known_rules as _known_rules  # noqa: F401  (registers the other stages' ids)
from runner.rules.cache import check_cache_policy, check_timeout
from runner.rules.context import RuleContext
from runner.rules.disables import PROJECT_UNKNOWN_RULE, QUERY_UNKNOWN_RULE, unknown_disables
from runner.rules.expectations import check_expectations
from runner.rules.names import check_name, check_unique_names
from runner.rules.node_types import check_node_types
from runner.rules.partial import SKIPPED_RULE, Skip, Validity, skipped_note
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
from runner.rules.spec_walk import iter_node_type_names

__all__ = [
    "PROJECT_UNKNOWN_RULE",
    "QUERY_UNKNOWN_RULE",
    "SKIPPED_RULE",
    "RuleContext",
    "RuleInfo",
    "Skip",
    "Validity",
    "check_cache_policy",
    "check_timeout",
    "check_unit",
    "check_valid_parts",
    "describe",
    "filter_disabled",
    "finish_lint",
    "is_disablable",
    "register_rule",
    "registered_rules",
    "rule_matches",
    "skipped_note",
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
    return check_valid_parts(unit, ctx, Validity())[0]


def _value_at(value: JSONValue, path: JSONPath) -> JSONValue:
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def _hidden_node_types(unit: QueryUnit, validity: Validity) -> None:
    """Note each rejected spec value that names a node type: the node-type rules do not look inside it."""
    for bad in validity.invalid:
        if bad[:1] != ("spec",) or len(bad) < 2:
            continue
        sub = _value_at(unit.body, bad)
        if bad[-1] in ("node_type", "node_types") or next(iter_node_type_names(sub, bad), None) is not None:
            validity.skipped.append(Skip("spec/unknown-node-type", bad))


def check_valid_parts(unit: QueryUnit, ctx: RuleContext, validity: Validity) -> tuple[list[Finding], list[Skip]]:
    """`check_unit` on a query whose `validity` says which values (schema errors, failed templates) are not to be
    trusted: a rule reading one of them skips it (and says so in the returned skips); every other value is still
    checked."""
    invalid = validity.invalid
    if () in invalid:  # the whole file is rejected: nothing to read
        return [], [Skip("query/*", ())]
    found: list[Finding] = []
    if not validity.blocks("query/unsafe-name", ("name",)):
        found += check_name(unit)
    if not validity.blocks("cache/*", ("cache",)):
        found += check_cache_policy(unit.body.get("cache"), doc=unit.doc, base=("cache",))
    if "timeout" in unit.body and not validity.blocks("query/bad-timeout", ("timeout",)):
        found += check_timeout(unit.body["timeout"], doc=unit.doc, base=("timeout",))
    if not validity.blocks("expect/*", ("expect",)):
        found += check_expectations(unit)
    spec = unit.body.get("spec")
    if (invalid or validity.unknown) and "spec" in unit.body:
        _hidden_node_types(unit, validity)
        pruned = validity.prune(spec, ("spec",))
        if pruned is None:
            validity.skipped.append(Skip("spec/*", ("spec",)))
            return found, validity.skipped
        unit = dataclasses.replace(unit, body={**unit.body, "spec": pruned})
    # check_spec normalises by itself: one of its rules must see an empty permission list as written.
    found += check_node_types(_normal_form(unit), ctx)
    spec_found = check_spec(unit, validity)
    found += spec_found
    # spec/query-type already names a missing source for a SOURCE_TO_DESTINATION query: not said twice.
    found += check_rejected(unit, skip_sources=any(f.rule == "spec/query-type" for f in spec_found),
                            validity=validity)
    return found, validity.skipped


def finish_lint(findings: Iterable[Finding], units: Sequence[QueryUnit], ctx: RuleContext, *,
                doc_disabled: Mapping[str, frozenset[str]]) -> list[Finding]:
    """A repository's findings: `findings` (every earlier stage's, `check_unit`'s included, gathered per file,
    perhaps from the lint cache) plus the rules that need every unit at once; each once, those disabled in vqr.yaml
    (`ctx.disabled`) or in their own file (`doc_disabled`, by path) removed, in file order."""
    # Matrix combinations of one file share positions, so the same problem would otherwise repeat per combination.
    unique = list(dict.fromkeys([*findings, *check_unique_names(units)]))
    kept = filter_disabled(unique, project_disabled=ctx.disabled, doc_disabled=doc_disabled)
    return sorted(set(kept), key=lambda f: f.sort_key)
