"""runner.specshape on values no JSON parser makes but a caller can pass: a problem, never an exception."""

from __future__ import annotations

from runner.specshape import enum_name, spec_problems


def test_an_infinite_count_value_is_a_problem_not_an_overflow() -> None:
    spec = {"source_node_types": {"nodes": [{"node_type": "OktaUser", "count_condition_expression": {
        "specs": [{"fn": "GT", "value": float("inf")}]}}]}}
    problems = spec_problems(spec)
    assert [p.path for p in problems] == [
        ("source_node_types", "nodes", 0, "count_condition_expression", "specs", 0, "value")]
    assert "must be an integer" in problems[0].message


def test_a_superscript_digit_names_no_enum_value() -> None:
    assert enum_name("operator", "²") is None
    assert enum_name("operator", "1") == "OR"
