"""The sandbox's replies are written by orjson (runner/sandbox/replies.py `Reply`): the same bytes as starlette's
JSONResponse for the sandbox's values (text, non-ASCII, nesting, integers, null), the same value where a float is
spelled differently, and the json module's text for what orjson declines (an integer beyond 64 bits)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse

from runner.sandbox.replies import Reply

ROW: dict[str, Any] = {"id": "00uX", "type": "OktaUser", "properties": {"name": "Zoë ✓ \u2028", "is_active": True,
                                                                       "created_at": None, "count": -12},
                       "tags": [], "destination_node_ids": ["a", "b"]}


@pytest.mark.parametrize("value", [ROW, {"values": [ROW] * 3, "next_page_token": "", "has_more": False}, {}])
def test_a_reply_is_the_bytes_the_json_module_writes(value: dict[str, Any]) -> None:
    assert Reply(value).body == JSONResponse(value).body


def test_floats_keep_their_value_and_big_integers_go_to_the_json_module() -> None:
    floats = {"share": 1e-07, "big": 1.5e300, "plain": 0.25}
    assert json.loads(bytes(Reply(floats).body)) == floats
    huge = {"n": 2**70}
    assert Reply(huge).body == JSONResponse(huge).body == b'{"n":1180591620717411303424}'
