"""Disable entries that disable nothing: a `rules.disable` entry of vqr.yaml or a `# vqr: disable=` comment entry
matching no registered rule id (globs and `family/` match ids) is most likely a typo, so it is a warning.

`unknown_disables(entries, path=, rule=)`: (entry, position) pairs in, one finding with a did-you-mean per unknown
entry out. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable

from runner.model import Finding, Position, Severity
from runner.rules.registry import describe, register_rule, registered_rules, unknown_rule_patterns
from runner.suggest import did_you_mean

PROJECT_UNKNOWN_RULE = "project/unknown-rule"
QUERY_UNKNOWN_RULE = "query/unknown-rule"

_HELP = ("An entry that matches no rule id disables nothing, so the finding it was meant to silence still shows. "
         "Use a rule id from the findings (such as `spec/unknown-node-type`), a glob (`cache/*`) or `all`.")
register_rule(PROJECT_UNKNOWN_RULE, "A rules.disable entry of vqr.yaml names no known rule.", Severity.WARNING,
              help_text=_HELP)
register_rule(QUERY_UNKNOWN_RULE, "A `# vqr: disable=` comment names no known rule.", Severity.WARNING,
              help_text=_HELP)


def unknown_disables(entries: Iterable[tuple[str, Position]], *, path: str, rule: str) -> list[Finding]:
    """A `rule` finding in `path` at each entry that matches no registered rule id."""
    placed = list(entries)
    unknown = set(unknown_rule_patterns([name for name, _ in placed]))
    if not unknown:
        return []
    ids = [info.id for info in registered_rules()]
    choices = {*ids, *(rule_id.split("/", 1)[0] + "/*" for rule_id in ids)}  # so `cahce/*` finds `cache/*`
    severity = describe(rule).default_severity
    return [Finding(path=path, line=where.line, column=where.column, severity=severity, rule=rule,
                    message=f"{name!r} matches no rule id, so it disables nothing{did_you_mean(name, choices)}")
            for name, where in placed if name in unknown]
