"""A Slack incoming-webhook message in Block Kit for one scope: `slack_payload(run, scope)` → JSON object.

A header (plain_text, ≤ 150 characters), a summary section, one mrkdwn section per notable query (≤ 3000
characters each), then a context block; at most `MAX_BLOCKS` of Slack's 50, the rest counted. Every piece of
untrusted text goes through `escape.slack_text`. Pure.
"""

from __future__ import annotations

from runner.model import JSONObject, JSONValue
from runner.notify.escape import clip, slack_plain, slack_text
from runner.notify.facts import QueryFact, RunFacts
from runner.notify.payload import Scope

HEADER_LIMIT = 150  # Block Kit: a header's text
SECTION_LIMIT = 3000  # Block Kit: a section's text
MAX_BLOCKS = 50  # Block Kit: blocks per message
_QUERY_BLOCKS = 40  # room left for the header, summary, "and N more" and context blocks
_LINES_PER_QUERY = 6


def slack_payload(run: RunFacts, scope: Scope) -> JSONObject:
    title = scope.title(run)
    notable = scope.notable
    blocks: list[JSONValue] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(slack_plain(title), HEADER_LIMIT)}},
        _section(_summary(run, scope)),
    ]
    blocks += [_section(_query_text(query)) for query in notable[:_QUERY_BLOCKS]]
    if len(notable) > _QUERY_BLOCKS:
        blocks.append(_section(f"…and {len(notable) - _QUERY_BLOCKS} more queries: see the run's report."))
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": clip(f"vqr {slack_text(run.vqr_version)} · {slack_text(run.target)} · as of "
                                        f"{run.as_of.isoformat()}", SECTION_LIMIT)}]})
    return {"text": clip(slack_text(title), SECTION_LIMIT), "blocks": blocks[:MAX_BLOCKS]}


def _section(text: str) -> JSONObject:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}


def _summary(run: RunFacts, scope: Scope) -> str:
    lines = [f"*Environment* {slack_text(run.env)} · *status* {slack_text(run.status)} · *exit code* {run.exit_code}",
             f"*Queries* {len(scope.queries)} · *failed* {scope.count('failed')} · *failed expectations* "
             f"{scope.count('failed_expectations')} · *new rows* {scope.count('new_rows')}"]
    if scope.new_entities is not None:
        lines.append(f"*New entities* {scope.new_entities}")
    if scope.count("expiring_exceptions") or scope.count("expired_exceptions"):
        lines.append(f"*Exceptions* {scope.count('expiring_exceptions')} expiring · "
                     f"{scope.count('expired_exceptions')} expired")
    lines.append("*Why* " + ", ".join(str(r) for r in scope.reasons))
    return "\n".join(lines)


def _query_text(query: QueryFact) -> str:
    owner = f" ({slack_text(query.owner)})" if query.owner else ""
    mark = ":x:" if query.failed else ":warning:" if query.failed_expectations or query.exceptions else ":new:"
    lines = [f"{mark} *{slack_text(query.name)}*{owner}: {slack_text(query.status)}"
             + (f", {query.rows} rows" if query.rows is not None else "")]
    if query.error:
        lines.append(f"• {slack_text(clip(query.error, 300))}")
    lines += [f"• {slack_text(severity)} {slack_text(metric)}: {slack_text(clip(message, 300))}"
              for metric, severity, message in query.failed_expectations]
    if query.has_new:
        lifecycle = f" ({query.new_entities} new entities)" if query.new_entities is not None else ""
        lines.append(f"• {query.new_rows} new rows{lifecycle}")
    for rule in query.exceptions:
        state = "expired" if rule.expired else "expires"
        lines.append(f"• exception {slack_text(rule.id)} ({slack_text(rule.owner)}) {state} "
                     f"{rule.expires.isoformat()}: {slack_text(clip(rule.reason, 200))}")
    if len(lines) > _LINES_PER_QUERY:
        lines = [*lines[:_LINES_PER_QUERY - 1], f"• …and {len(lines) - _LINES_PER_QUERY + 1} more"]
    return "\n".join(lines)
