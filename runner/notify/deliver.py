"""Which messages a run calls for, sending them, and the record of what happened (`notifications.json`).

`plan_messages(settings, run)` → per target (and per owner with `per_owner`) a `Message` or a skipped `Outcome`;
`deliver(plan, variables, ...)` sends the messages over one httpx client (each target within its deadline) →
`Outcome`s in plan order; `write_outcomes(run_dir, run_id, outcomes)` writes notifications.json atomically. URLs are
read here, at send time, and never leave `send`. Network and one file.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from runner.client.retry import RetryPolicy
from runner.files import write_atomically
from runner.model import JSONObject
from runner.model.notify import NotifySettings, NotifyTarget, TargetKind, Trigger
from runner.notify.facts import RunFacts, triggers
from runner.notify.payload import Scope, webhook_payload
from runner.notify.send import DEFAULT_POLICY, Delivery, post_json
from runner.notify.slack import slack_payload
from runner.notify.teams import teams_payload
from runner.notify.urls import UrlError, webhook_url
from runner.sanitize import terminal_line

OUTCOMES_FILE = "notifications.json"
SENT, FAILED, SKIPPED = "sent", "failed", "skipped"


@dataclass(frozen=True, kw_only=True)
class Message:
    target: NotifyTarget
    scope: Scope
    payload: JSONObject


@dataclass(frozen=True, kw_only=True)
class Outcome:
    target: str
    kind: str
    owner: str | None
    per_owner: bool
    outcome: str  # sent | failed | skipped
    reasons: tuple[str, ...]
    attempts: int
    status: int | None
    detail: str  # one line, safe to print

    def line(self) -> str:
        """`slack-team (slack) for identity-team: failed: HTTP 500 after 5 attempt(s)`."""
        whom = f" for {self.owner}" if self.owner else " (queries without an owner)" if self.per_owner else ""
        return terminal_line(f"{self.target} ({self.kind}){whom}: {self.outcome}: {self.detail}")

    def to_json(self) -> JSONObject:
        return {"target": self.target, "type": self.kind, "owner": self.owner, "per_owner": self.per_owner,
                "outcome": self.outcome, "reasons": list(self.reasons), "attempts": self.attempts,
                "status": self.status, "detail": terminal_line(self.detail)}


def build_payload(kind: TargetKind, run: RunFacts, scope: Scope) -> JSONObject:
    match kind:
        case TargetKind.WEBHOOK:
            return webhook_payload(run, scope)
        case TargetKind.SLACK:
            return slack_payload(run, scope)
        case TargetKind.TEAMS:
            return teams_payload(run, scope)


def plan_messages(settings: NotifySettings, run: RunFacts) -> list[Message | Outcome]:
    planned: list[Message | Outcome] = []
    for target in settings.targets:
        groups = ([(owner, tuple(q for q in run.queries if q.owner == owner)) for owner in run.owners()]
                  if target.per_owner else [(None, run.queries)])
        for owner, queries in groups:
            holds = triggers(run, queries, everyone=not target.per_owner)
            if not holds & target.when:
                wanted = ", ".join(sorted(str(t) for t in target.when))
                planned.append(_outcome(target, owner, SKIPPED, (), f"nothing to report (when: {wanted})"))
                continue
            # Every condition that holds, not only those asked for: `always` tells nothing when another holds.
            reasons = tuple(t for t in Trigger if t in holds and (t is not Trigger.ALWAYS or len(holds) == 1))
            scope = Scope(owner=owner, per_owner=target.per_owner, queries=queries, reasons=reasons)
            planned.append(Message(target=target, scope=scope, payload=build_payload(target.kind, run, scope)))
    return planned


def deliver(plan: Sequence[Message | Outcome], variables: Mapping[str, str], *, deadline_seconds: float,
            policy: RetryPolicy = DEFAULT_POLICY, transport: httpx.BaseTransport | None = None,
            clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
            rng: random.Random | None = None) -> list[Outcome]:
    """Every message sent (a skipped `Outcome` passes through); a target's messages share its deadline."""
    outcomes: list[Outcome] = []
    ends: dict[str, float] = {}
    with httpx.Client(transport=transport, follow_redirects=False) as client:
        for item in plan:
            if isinstance(item, Outcome):
                outcomes.append(item)
                continue
            target, reasons = item.target, tuple(str(r) for r in item.scope.reasons)
            end = ends.setdefault(target.name, clock() + deadline_seconds)
            remaining = end - clock()
            if remaining <= 0:
                outcomes.append(_outcome(target, item.scope.owner, FAILED, reasons,
                                         f"not sent: the target's deadline ({deadline_seconds:g} s) has passed",
                                         per_owner=item.scope.per_owner))
                continue
            try:
                url = webhook_url(target, variables)
            except UrlError as error:
                outcomes.append(_outcome(target, item.scope.owner, FAILED, reasons, str(error),
                                         per_owner=item.scope.per_owner))
                continue
            sent = post_json(client, url, item.payload, clock=clock, sleep=sleep, rng=rng,
                             policy=dataclasses.replace(policy, request_deadline=remaining))
            outcomes.append(_delivered(target, item.scope, reasons, sent))
    return outcomes


def write_outcomes(run_dir: Path, run_id: str, outcomes: Sequence[Outcome]) -> Path:
    target = run_dir / OUTCOMES_FILE
    document = {"version": 1, "run_id": terminal_line(run_id), "notifications": [o.to_json() for o in outcomes]}
    write_atomically(target, json.dumps(document, indent=2, ensure_ascii=True) + "\n")
    return target


def _outcome(target: NotifyTarget, owner: str | None, outcome: str, reasons: tuple[str, ...], detail: str, *,
             per_owner: bool | None = None) -> Outcome:
    return Outcome(target=target.name, kind=str(target.kind), owner=owner,
                   per_owner=target.per_owner if per_owner is None else per_owner, outcome=outcome, reasons=reasons,
                   attempts=0, status=None, detail=detail)


def _delivered(target: NotifyTarget, scope: Scope, reasons: tuple[str, ...], sent: Delivery) -> Outcome:
    return Outcome(target=target.name, kind=str(target.kind), owner=scope.owner, per_owner=scope.per_owner,
                   outcome=SENT if sent.sent else FAILED, reasons=reasons, attempts=sent.attempts, status=sent.status,
                   detail=sent.detail)
