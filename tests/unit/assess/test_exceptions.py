"""runner.assess.exceptions over real result files: which rows active rules accept (by id, by a property match, a
path row by either end), what expired rules would still match, the accepted entities among drift's added and
removed ones, and what the expectations then count and say."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from runner.assess import annotate, apply_exceptions, compare_results, counted, evaluate_expectations
from runner.model import Drift
from runner.model.exceptions import ExceptionRule

ON = date(2026, 12, 2)


def rule(index: int, *, query: str = "q", entity_id: str | None = None, match: dict[str, Any] | None = None,
         expires: date = date(2027, 1, 1)) -> ExceptionRule:
    return ExceptionRule(id=f"exceptions/a.yaml#{index}", query=query, reason="r", owner="o", expires=expires,
                         entity_id=entity_id, match=match or {}, file="exceptions/a.yaml", line=index + 2)


def user(ident: str, **properties: Any) -> dict[str, Any]:
    return {"id": ident, "type": "OktaUser", "properties": {"name": ident.upper(), **properties}}


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_active_rules_accept_rows_by_id_and_by_match_and_expired_ones_only_count(tmp_path: Path) -> None:
    current = write(tmp_path / "now.jsonl", [user("a"), user("b", dept="ops"), user("c", dept="ops"), user("d")])
    rules = [rule(0, entity_id="a"), rule(1, query="q*", match={"properties.dept": "ops"}),
             rule(2, entity_id="d", expires=date(2026, 12, 1)),  # expired yesterday
             rule(3, query="other", entity_id="b")]  # covers another query
    excepted = apply_exceptions(rules, "q", on=ON, current=current)
    assert excepted is not None
    assert excepted.excepted_rows == 3
    assert [(m.rule.id, m.matched, m.sample) for m in excepted.active] == [
        ("exceptions/a.yaml#0", 1, ("A",)), ("exceptions/a.yaml#1", 2, ("B", "C"))]
    assert [(m.rule.id, m.matched) for m in excepted.expired] == [("exceptions/a.yaml#2", 1)]
    assert apply_exceptions(rules[3:], "q", on=ON, current=current) is None  # no rule covers q: nothing to say


def test_a_path_row_is_accepted_by_its_source_or_its_destination(tmp_path: Path) -> None:
    path_row = {"source": {"id": "u1"}, "destination": {"id": "bucket-9"}}
    current = write(tmp_path / "now.jsonl", [path_row, {"source": {"id": "u2"}, "destination": {"id": "x"}}])
    excepted = apply_exceptions([rule(0, entity_id="bucket-9")], "q", on=ON, current=current)
    assert excepted is not None and excepted.excepted_rows == 1


def test_accepted_entities_leave_new_rows_and_removed_rows(tmp_path: Path) -> None:
    previous = write(tmp_path / "before.jsonl", [user("a"), user("gone-accepted", dept="ops"), user("gone")])
    current = write(tmp_path / "now.jsonl", [user("a"), user("new-accepted", dept="ops"), user("new")])
    drift = compare_results(previous, current, previous_run="r1")
    assert (drift.added, drift.removed) == (2, 2)
    excepted = apply_exceptions([rule(0, match={"properties.dept": "ops"})], "q", on=ON, current=current,
                                previous=previous, drift=drift)
    assert excepted is not None
    assert (excepted.excepted_rows, excepted.excepted_added, excepted.excepted_removed) == (1, 1, 1)
    rows, counts = counted(excepted, rows=3, drift=Drift(added=2, removed=2, previous_run="r1"))
    assert (rows, counts) == (2, Drift(added=1, removed=1, previous_run="r1"))


def test_an_entity_accepted_before_and_still_present_is_not_removed(tmp_path: Path) -> None:
    # "b" matched the rule last time; now its property changed, so it is no longer accepted, but it is not gone.
    previous = write(tmp_path / "before.jsonl", [user("b", dept="ops"), user("gone", dept="ops")])
    current = write(tmp_path / "now.jsonl", [user("b", dept="sales")])
    drift = compare_results(previous, current, previous_run="r1")
    excepted = apply_exceptions([rule(0, match={"properties.dept": "ops"})], "q", on=ON, current=current,
                                previous=previous, drift=drift)
    assert excepted is not None and (excepted.excepted_rows, excepted.excepted_removed) == (0, 1)


def test_expectations_count_without_accepted_rows_and_say_why_a_query_is_red_again(tmp_path: Path) -> None:
    current = write(tmp_path / "now.jsonl", [user("a"), user("b")])
    rules = [rule(0, entity_id="a"), rule(1, entity_id="b", expires=date(2026, 11, 30))]
    excepted = apply_exceptions(rules, "q", on=ON, current=current)
    rows, drift = counted(excepted, rows=2, drift=None)
    outcomes = annotate(evaluate_expectations([{"rows": {"max": 0}}], rows=rows, drift=drift), excepted)
    assert [(o.verdict.value, o.actual) for o in outcomes] == [("failed", 1)]
    assert outcomes[0].message == ("rows = 1 (expected max 0) [1 accepted by exceptions, not counted; exception "
                                   "exceptions/a.yaml#1 expired on 2026-11-30: its 1 row(s) count again]")
    passing = annotate(evaluate_expectations([{"rows": {"max": 5}}], rows=rows, drift=drift), excepted)
    assert passing[0].message == "rows = 1 (expected max 5) [1 accepted by exceptions, not counted]"
    assert counted(None, rows=2, drift=None) == (2, None)


def test_a_match_compares_json_values_so_zero_never_matches_false(tmp_path: Path) -> None:
    current = write(tmp_path / "now.jsonl", [user("a", active=False), user("b", active=0), user("c", active=True)])
    for wanted, accepted in ((0, 1), (False, 1), (True, 1), (1, 0)):
        excepted = apply_exceptions([rule(0, match={"properties.active": wanted})], "q", on=ON, current=current)
        assert excepted is not None and excepted.excepted_rows == accepted, wanted


def test_an_expired_rule_does_not_claim_a_row_an_active_rule_still_accepts(tmp_path: Path) -> None:
    current = write(tmp_path / "now.jsonl", [user("a"), user("b")])
    rules = [rule(0, entity_id="a"), rule(1, entity_id="a", expires=date(2026, 1, 1)),
             rule(2, entity_id="b", expires=date(2026, 1, 1))]
    excepted = apply_exceptions(rules, "q", on=ON, current=current)
    assert excepted is not None
    assert [(m.rule.id, m.matched) for m in excepted.expired] == [("exceptions/a.yaml#1", 0),
                                                                  ("exceptions/a.yaml#2", 1)]


def test_unmatched_is_claimed_only_when_every_covered_query_ran_and_succeeded(tmp_path: Path) -> None:
    from runner.artifact.runjson import unmatched_exceptions
    from runner.model import QueryResult, QueryStatus

    current = write(tmp_path / "now.jsonl", [user("a")])
    glob = rule(0, query="okta-*", entity_id="nobody")
    results = [QueryResult(name="okta-users", file="f", spec_hash="h", status=QueryStatus.SUCCEEDED,
                           exceptions=apply_exceptions([glob], "okta-users", on=ON, current=current))]
    claimed = unmatched_exceptions(results, repository={"okta-users": "x"})
    assert [u["id"] for u in claimed if isinstance(u, dict)] == [glob.id] and len(claimed) == 1
    # okta-admins is in the repository but not in this run (a --select, a shard): its rows are unknown
    assert unmatched_exceptions(results, repository={"okta-users": "x", "okta-admins": "y"}) == []
