"""The documented shapes a delivered message must have: the webhook's own schema (schemas/notification.schema.json),
Slack's Block Kit limits (api.slack.com/reference/block-kit/blocks, .../composition-objects#text) and the official
Adaptive Card 1.4 schema (tests/fixtures/adaptivecards, vendored from microsoft/AdaptiveCards) inside Teams'
Workflows message. Each checker raises AssertionError with the first problem."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).resolve().parents[3]

# Slack Block Kit, as documented: a message holds at most 50 blocks; a header's plain_text at most 150 characters;
# a section's text 1-3000 characters; a context block 1-10 elements; a text object is {type, text, emoji?, verbatim?}.
SLACK_BLOCK_KEYS = {"header": {"type", "text", "block_id"},
                    "section": {"type", "text", "block_id", "fields", "accessory", "expand"},
                    "context": {"type", "elements", "block_id"}}
TEXT_OBJECT_KEYS = {"type", "text", "emoji", "verbatim"}


@cache
def _validator(path: str, draft: str) -> Any:
    schema = json.loads((REPO / path).read_text())
    cls = jsonschema.Draft6Validator if draft == "6" else jsonschema.Draft202012Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check_webhook(payload: Any) -> None:
    errors = sorted(_validator("schemas/notification.schema.json", "2020").iter_errors(payload), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def _text_object(obj: Any, *, kinds: set[str], limit: int) -> None:
    assert isinstance(obj, dict) and set(obj) <= TEXT_OBJECT_KEYS, obj
    assert obj["type"] in kinds, obj
    assert isinstance(obj["text"], str) and 1 <= len(obj["text"]) <= limit, (len(obj["text"]), limit)


def check_slack(payload: Any) -> None:
    assert isinstance(payload, dict) and set(payload) <= {"text", "blocks"}, payload
    assert isinstance(payload.get("text"), str) and payload["text"]  # the notification's fallback text
    blocks = payload["blocks"]
    assert isinstance(blocks, list) and 1 <= len(blocks) <= 50, len(blocks)
    for block in blocks:
        kind = block.get("type")
        assert kind in SLACK_BLOCK_KEYS and set(block) <= SLACK_BLOCK_KEYS[kind], block
        if kind == "header":
            _text_object(block["text"], kinds={"plain_text"}, limit=150)
        elif kind == "section":
            _text_object(block["text"], kinds={"plain_text", "mrkdwn"}, limit=3000)
        else:
            assert 1 <= len(block["elements"]) <= 10
            for element in block["elements"]:
                _text_object(element, kinds={"plain_text", "mrkdwn"}, limit=3000)


def check_teams(payload: Any) -> None:
    assert isinstance(payload, dict) and payload.get("type") == "message", payload
    attachments = payload["attachments"]
    assert isinstance(attachments, list) and len(attachments) == 1
    attachment = attachments[0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    errors = list(_validator("tests/fixtures/adaptivecards/adaptive-card-1.4.json", "6").iter_errors(card))
    assert not errors, [e.message[:300] for e in errors[:3]]
    assert len(json.dumps(payload)) < 28_000  # Teams refuses larger cards
