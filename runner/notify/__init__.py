"""Notifications of a finished run (vqr.yaml `notify:`): a generic JSON webhook, Slack (Block Kit) and Microsoft
Teams (an Adaptive Card through a Workflows webhook), built from the run directory's run.json alone.

`read_facts` (run.json → `RunFacts`), `plan_messages` (which messages the run calls for), `deliver` (send them,
with retries), `write_outcomes` (notifications.json). Never imports the engine (an import-linter contract); webhook
URLs are secrets read at send time and redacted everywhere.
"""

from __future__ import annotations

from runner.notify.deliver import (
    FAILED,
    OUTCOMES_FILE,
    SENT,
    SKIPPED,
    Message,
    Outcome,
    build_payload,
    deliver,
    plan_messages,
    write_outcomes,
)
from runner.notify.facts import RunFacts, read_facts
from runner.notify.urls import UrlError, webhook_url

__all__ = [
    "FAILED",
    "OUTCOMES_FILE",
    "SENT",
    "SKIPPED",
    "Message",
    "Outcome",
    "RunFacts",
    "UrlError",
    "build_payload",
    "deliver",
    "plan_messages",
    "read_facts",
    "webhook_url",
    "write_outcomes",
]
