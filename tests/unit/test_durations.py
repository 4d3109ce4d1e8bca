"""runner/durations.py: the user grammar (`12h`, `1d2h`), the protobuf wire grammar (`"43200s"`), and the one
formatter every create body and resend body uses."""

from __future__ import annotations

import pytest

from runner.durations import parse_duration, parse_protobuf_duration, protobuf_duration, to_protobuf_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90.0), ("15m", 900.0), ("12h", 43200.0), ("2d", 172800.0), ("1h30m", 5400.0), ("1d12h", 129600.0),
    ("43200s", 43200.0), ("1.5s", 1.5), ("0s", 0.0), ("0.000000001s", 1e-9), ("1d2h3m4.5s", 93784.5),
    ("315576000000s", 315576000000.0),
])
def test_parse_duration_accepts(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [
    "", "12", "12 h", " 12h", "12H", "-5s", "1.5h", "30m1h", "1h1h", "1.0000000001s", "1w", "h", "s",
    "315576000001s", "9" * 70 + "s", 12, None, True,
])
def test_parse_duration_rejects(text: object) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(("text", "seconds"), [
    ("43200s", 43200.0), ("1.5s", 1.5), ("0s", 0.0), ("123.5s", 123.5), ("0.000000001s", 1e-9),
    ("315576000000s", 315576000000.0),
])
def test_parse_protobuf_duration_accepts_the_wire_form(text: str, seconds: float) -> None:
    assert parse_protobuf_duration(text) == seconds


@pytest.mark.parametrize("text", [
    "12h", "1m30s", "1d", "", "s", "5", "1.5", "-5s", " 5s", "5s ", "5s\n", "1.0000000001s", "315576000001s",
    "9" * 70 + "s", 5, None,
])
def test_parse_protobuf_duration_rejects_everything_else(text: object) -> None:
    assert parse_protobuf_duration(text) is None


def test_protobuf_duration_round_trips() -> None:
    assert to_protobuf_duration(43200.0) == "43200s"
    assert to_protobuf_duration(1.5) == "1.5s"
    assert to_protobuf_duration(0.0) == "0s"
    assert to_protobuf_duration(13) == "13s"
    assert parse_duration(to_protobuf_duration(5400.25)) == 5400.25
    assert parse_protobuf_duration(to_protobuf_duration(5400.25)) == 5400.25
    with pytest.raises(ValueError, match="out of range"):
        to_protobuf_duration(-1)
    with pytest.raises(ValueError, match="out of range"):
        to_protobuf_duration(float("nan"))


@pytest.mark.parametrize(("text", "wire"), [("12h", "43200s"), ("90s", "90s"), ("2d", "172800s"),
                                            ("43200s", "43200s"), ("15m", "900s"), ("1d2h3m4.5s", "93784.5s"),
                                            ("0.000000001s", "0.000000001s")])
def test_durations_become_protobuf_strings(text: str, wire: str) -> None:
    assert protobuf_duration(text) == wire


def test_a_non_duration_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="not a duration"):
        protobuf_duration("12 hours")
