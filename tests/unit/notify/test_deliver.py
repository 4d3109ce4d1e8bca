"""runner.notify.deliver and send over real HTTP to a receiver on 127.0.0.1: retries (5xx, 429 + Retry-After,
connect errors), what is not retried, the deadline, URLs from a variable or a file, and the URL never shown."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest

from runner.client.retry import RetryPolicy
from runner.model.notify import NotifySettings, NotifyTarget, TargetKind, Trigger
from runner.notify import FAILED, SENT, SKIPPED, Outcome, deliver, plan_messages, read_facts, write_outcomes
from runner.sanitize import LOG_FILTER, terminal_line
from tests.support.receiver import dead_url, receiver
from tests.unit.notify.runs import golden_run
from tests.unit.notify.shapes import check_slack, check_webhook

POLICY = RetryPolicy(base=0.5, cap=8.0, retry_after_cap=30.0, max_attempts=5, attempt_timeout=5.0,
                     request_deadline=60.0)


class FakeClock:
    """Time that passes only when the code sleeps: retries are exact and instant."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def target(kind: TargetKind = TargetKind.WEBHOOK, **fields: object) -> NotifyTarget:
    values: dict[str, object] = {"name": "hook", "kind": kind, "url_env": "HOOK_URL",
                                 "when": frozenset({Trigger.ALWAYS})}
    values.update(fields)
    return NotifyTarget(**values)  # type: ignore[arg-type]


def send(run_dir: Path, url: str, *, clock: FakeClock, deadline: float = 60.0,
         kind: TargetKind = TargetKind.WEBHOOK, **fields: object) -> list[Outcome]:
    settings = NotifySettings(targets=(target(kind, **fields),))
    plan = plan_messages(settings, read_facts(run_dir, expiring_within_days=14))
    return deliver(plan, {"HOOK_URL": url}, deadline_seconds=deadline, policy=POLICY, clock=clock,
                   sleep=clock.sleep, rng=random.Random(7))


def test_a_receiver_that_answers_500_then_200_gets_exactly_one_message(tmp_path: Path) -> None:
    clock = FakeClock()
    with receiver([500]) as hook:
        outcomes = send(golden_run(tmp_path), hook.url, clock=clock)
    assert [(o.outcome, o.attempts, o.status) for o in outcomes] == [(SENT, 2, 200)]
    assert len(hook.requests) == 2 and len(hook.delivered) == 1
    assert hook.requests[0].body == hook.requests[1].body  # the same message, resent
    check_webhook(hook.delivered[0].json())
    assert hook.delivered[0].headers["Content-Type"] == "application/json"
    assert len(clock.sleeps) == 1 and 0 <= clock.sleeps[0] <= POLICY.base  # full jitter: [0, base] after one failure


def test_429_waits_for_retry_after(tmp_path: Path) -> None:
    clock = FakeClock()
    with receiver([(429, {"Retry-After": "7"}), 503]) as hook:
        outcomes = send(golden_run(tmp_path), hook.url, clock=clock)
    assert outcomes[0].outcome == SENT and outcomes[0].attempts == 3 and len(hook.delivered) == 1
    assert 7 <= clock.sleeps[0] <= 7 + POLICY.base


def test_a_refusal_is_not_retried_and_its_reply_is_escaped(tmp_path: Path) -> None:
    with receiver([400]) as hook:
        outcomes = send(golden_run(tmp_path), hook.url, clock=FakeClock())
    assert len(hook.requests) == 1
    assert outcomes[0].outcome == FAILED and outcomes[0].status == 400
    assert outcomes[0].detail.startswith("HTTP 400: server_error")


def test_a_dead_receiver_fails_after_the_attempts_without_naming_the_url(tmp_path: Path) -> None:
    url = dead_url()
    clock = FakeClock()
    outcomes = send(golden_run(tmp_path), url, clock=clock)
    assert [(o.outcome, o.attempts, o.status) for o in outcomes] == [(FAILED, POLICY.max_attempts, None)]
    assert "connection failed" in outcomes[0].detail and len(clock.sleeps) == POLICY.max_attempts - 1
    assert "s3cr3t" not in outcomes[0].line() and "127.0.0.1" not in outcomes[0].line()


def test_the_deadline_ends_retries_and_is_shared_by_a_targets_messages(tmp_path: Path) -> None:
    clock = FakeClock()
    with receiver([500] * 50) as hook:
        outcomes = send(golden_run(tmp_path), hook.url, clock=clock, deadline=1.0, per_owner=True,
                        kind=TargetKind.SLACK)
    assert all(o.outcome == FAILED for o in outcomes) and len(outcomes) == 3
    assert clock.now - 1000.0 <= 1.0
    assert any("deadline" in o.detail for o in outcomes)
    assert len(hook.requests) < 3 * POLICY.max_attempts


def test_per_owner_slack_messages_are_delivered_one_per_owner(tmp_path: Path) -> None:
    with receiver() as hook:
        outcomes = send(golden_run(tmp_path), hook.url, clock=FakeClock(), per_owner=True, kind=TargetKind.SLACK)
    assert [o.owner for o in outcomes] == ["identity-team", "cloud-team", None]
    assert len(hook.delivered) == 3
    for request in hook.delivered:
        check_slack(request.json())


def test_the_url_comes_from_a_file(tmp_path: Path) -> None:
    with receiver() as hook:
        secret = tmp_path / "hook-url"
        secret.write_text(hook.url + "\n")
        outcomes = send(golden_run(tmp_path), "unused", clock=FakeClock(), url_env=None, url_file=secret)
    assert outcomes[0].outcome == SENT and len(hook.delivered) == 1


@pytest.mark.parametrize(("variables", "expected"), [
    ({}, "$HOOK_URL is not set"),
    ({"HOOK_URL": "http://hooks.example.com/s3cr3t-token"}, "must be an https:// URL"),
    ({"HOOK_URL": "https://hooks.example.com/s3cr3t token"}, "contains a space"),
    ({"HOOK_URL": "ftp://hooks.example.com/s3cr3t-token"}, "must be an https:// URL"),
])
def test_an_unusable_url_is_a_failed_target_that_never_quotes_it(tmp_path: Path, variables: dict[str, str],
                                                                   expected: str) -> None:
    settings = NotifySettings(targets=(target(),))
    plan = plan_messages(settings, read_facts(golden_run(tmp_path), expiring_within_days=14))
    outcomes = deliver(plan, variables, deadline_seconds=5)
    assert outcomes[0].outcome == FAILED and expected in outcomes[0].detail
    assert "s3cr3t" not in outcomes[0].line()


def test_a_missing_url_file_is_a_failed_target(tmp_path: Path) -> None:
    settings = NotifySettings(targets=(target(url_env=None, url_file=tmp_path / "absent"),))
    plan = plan_messages(settings, read_facts(golden_run(tmp_path), expiring_within_days=14))
    outcomes = deliver(plan, {}, deadline_seconds=5)
    assert outcomes[0].outcome == FAILED and "cannot read file" in outcomes[0].detail


def test_the_url_is_redacted_wherever_a_server_echoes_it(tmp_path: Path) -> None:
    with receiver() as hook:
        send(golden_run(tmp_path), hook.url, clock=FakeClock())  # loads (and registers) the URL
    assert terminal_line(f"echo: {hook.url}") == "echo: ***"


def test_outcomes_are_written_beside_run_json(tmp_path: Path) -> None:
    run_dir = golden_run(tmp_path)
    skipped = Outcome(target="t", kind="slack", owner=None, per_owner=False, outcome=SKIPPED, reasons=(), attempts=0,
                      status=None, detail="nothing to report (when: failure)")
    written = write_outcomes(run_dir, "20250301T020000Z-a1b2", [skipped])
    document = json.loads(written.read_text())
    assert written.name == "notifications.json" and document["notifications"][0]["outcome"] == "skipped"


def test_httpx_and_httpcore_logs_never_show_the_url(tmp_path: Path) -> None:
    """httpx logs every request's URL at INFO, httpcore more at DEBUG: the CLI's log filter must redact it."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(level=logging.DEBUG)
    handler.addFilter(LOG_FILTER)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with receiver([500], path="/hooks/log-canary-91b2") as hook:
            send(golden_run(tmp_path), hook.url, clock=FakeClock())
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert any("HTTP Request" in line for line in lines)  # httpx did log the requests
    assert not [line for line in lines if "log-canary-91b2" in line]
