"""Legacy and shorthand spec forms on the real sandbox over HTTP: each returns exactly the rows of its modern
equivalent, differs from the same spec with the form dropped (so an ignored filter fails), and warns as documented.

The cases are data: tests/cases/sandbox/legacy-pairs.yaml (its header says what each field means).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from tests.acceptance.sandbox_fixtures import NODES, RESULT

PAIRS = Path(__file__).parents[1] / "cases" / "sandbox" / "legacy-pairs.yaml"
CASES: list[dict[str, Any]] = YAML(typ="safe").load(PAIRS.read_text(encoding="utf-8"))


def run(client: httpx.Client, spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The ids of every row of `spec` (one page holds them all) and the reply's warnings; the count must agree."""
    reply = client.post(NODES, json=spec, params={"page_size": 10000})
    assert reply.status_code == 200, reply.text
    page = reply.json()
    assert page["has_more"] is False and page["next_page_token"] == ""
    ids = [row["id"] for row in page["values"]]
    counted = client.post(RESULT, json=spec)
    assert counted.status_code == 200, counted.text
    assert int(counted.json()["number_value"]) == len(ids)
    assert counted.json()["warnings"] == page["warnings"]
    return ids, page["warnings"]


def test_the_cases_cover_every_legacy_form() -> None:
    names = {case["name"] for case in CASES}
    assert len(names) == len(CASES)
    forms = ("conditions", "tags", "excluded_tags", "count_conditions", "no_relation", "raw_permissions",
             "destination_node_types", "required_intermediate_node_types", "avoided_intermediate_node_types",
             "effective_permissions")
    written = " ".join(str(case["legacy"]) for case in CASES)
    assert all(f"'{form}'" in written for form in forms)
    assert all(set(case) <= {"name", "legacy", "modern", "without", "warns", "min_difference"} for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_a_legacy_form_returns_the_rows_of_its_modern_equivalent(sandbox_client: httpx.Client,
                                                                 case: dict[str, Any]) -> None:
    legacy, warnings = run(sandbox_client, case["legacy"])
    modern, modern_warnings = run(sandbox_client, case["modern"])
    without, _ = run(sandbox_client, case["without"])
    assert legacy == modern
    assert len(set(legacy) ^ set(without)) >= case["min_difference"], (len(legacy), len(without))
    assert legacy and modern_warnings == []
    for expected in case.get("warns", []):
        assert any(expected in warning for warning in warnings), warnings
    if not case.get("warns"):
        assert warnings == []
