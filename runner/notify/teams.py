"""A Microsoft Teams Workflows webhook message for one scope: `teams_payload(run, scope)` → JSON object.

The shape the "Post to a channel when a webhook request is received" workflow takes: a `message` whose one
attachment is an Adaptive Card 1.4 (TextBlocks and a FactSet only, so every Teams client renders it). Untrusted
text goes through `escape.card_text`; at most `MAX_QUERIES` queries are listed (Teams refuses cards over ~28 KB).
Pure.
"""

from __future__ import annotations

from runner.model import JSONObject, JSONValue
from runner.notify.escape import card_text, clip
from runner.notify.facts import QueryFact, RunFacts
from runner.notify.payload import Scope

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
MAX_QUERIES = 20


def teams_payload(run: RunFacts, scope: Scope) -> JSONObject:
    notable = scope.notable
    body: list[JSONValue] = [
        {"type": "TextBlock", "text": card_text(scope.title(run)), "weight": "Bolder", "size": "Medium",
         "wrap": True},
        {"type": "FactSet", "facts": _facts(run, scope)},
    ]
    for query in notable[:MAX_QUERIES]:
        body.append({"type": "TextBlock", "text": _query_text(query), "wrap": True, "separator": True,
                     "color": "Attention" if query.failed else "Default"})
    if len(notable) > MAX_QUERIES:
        body.append({"type": "TextBlock", "text": f"…and {len(notable) - MAX_QUERIES} more queries: see the run's "
                                                  "report.", "wrap": True, "isSubtle": True})
    card: JSONObject = {"$schema": CARD_SCHEMA, "type": "AdaptiveCard", "version": CARD_VERSION, "body": body,
                        "fallbackText": card_text(scope.title(run))}
    return {"type": "message", "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None,
                                                "content": card}]}


def _facts(run: RunFacts, scope: Scope) -> list[JSONValue]:
    pairs = [("Environment", card_text(run.env)), ("Status", f"{card_text(run.status)}, exit code {run.exit_code}"),
             ("Queries", f"{len(scope.queries)}, {scope.count('failed')} failed"),
             ("Failed expectations", str(scope.count("failed_expectations"))),
             ("New rows", str(scope.count("new_rows")))]
    if scope.new_entities is not None:
        pairs.append(("New entities", str(scope.new_entities)))
    if scope.count("expiring_exceptions") or scope.count("expired_exceptions"):
        pairs.append(("Exceptions", f"{scope.count('expiring_exceptions')} expiring, "
                                    f"{scope.count('expired_exceptions')} expired"))
    pairs.append(("Why", ", ".join(str(r) for r in scope.reasons)))
    return [{"title": title, "value": value} for title, value in pairs]


def _query_text(query: QueryFact) -> str:
    owner = f" ({card_text(query.owner)})" if query.owner else ""
    rows = f", {query.rows} rows" if query.rows is not None else ""
    lines = [f"**{card_text(query.name)}**{owner}: {card_text(query.status)}{rows}"]
    if query.error:
        lines.append(card_text(clip(query.error, 300)))
    lines += [f"{card_text(severity)} {card_text(metric)}: {card_text(clip(message, 300))}"
              for metric, severity, message in query.failed_expectations[:5]]
    if query.has_new:
        lifecycle = f" ({query.new_entities} new entities)" if query.new_entities is not None else ""
        lines.append(f"{query.new_rows} new rows{lifecycle}")
    for rule in query.exceptions[:5]:
        state = "expired" if rule.expired else "expires"
        lines.append(f"exception {card_text(rule.id)} ({card_text(rule.owner)}) {state} {rule.expires.isoformat()}: "
                     f"{card_text(clip(rule.reason, 200))}")
    # A blank line between lines: a TextBlock's Markdown joins single newlines into one paragraph.
    return "\n\n".join(lines)
