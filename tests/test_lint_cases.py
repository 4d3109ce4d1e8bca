"""Data-driven lint cases: every directory under tests/cases/ is linted through the real pipeline.

Each case holds `query.yaml` (raw, or built from `generate:`) and `case.yaml`: the exact findings (line, col, rule),
each within 2 s (bombs included), and optionally `rendered:`, the spec `vqr render` must send, exactly. Veza's own
JSON (tests/fixtures/veza/) is also pasted under `spec:` and linted, as a user copying it would.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from runner import app

CASES = Path(__file__).parent / "cases"
VEZA_FIXTURES = Path(__file__).parent / "fixtures" / "veza"
CASE_DIRS = sorted(p.parent for p in CASES.rglob("case.yaml"))
DEFAULT_VARS = {"lookback_days": 90, "environment": "sandbox"}


def _read_case(directory: Path) -> dict[str, Any]:
    data = YAML(typ="safe").load((directory / "case.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and "findings" in data, f"{directory}: case.yaml needs `findings:`"
    return data


def _build_project(tmp: Path, directory: Path, case: dict[str, Any]) -> Path:
    project = {"queries": "queries/", "vars": case.get("vars", DEFAULT_VARS)}
    (tmp / "vqr.yaml").write_text(json.dumps(project), encoding="utf-8")
    queries = tmp / "queries"
    queries.mkdir()
    generate = case.get("generate")
    if generate:
        content = (generate.get("prefix", "") + generate["unit"] * int(generate["count"])
                   + generate.get("suffix", "")).encode()
    else:
        content = (directory / "query.yaml").read_bytes()
    (queries / f"{directory.name}.yaml").write_bytes(content)
    for name, text in (case.get("files") or {}).items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return tmp / "vqr.yaml"


@pytest.mark.parametrize("directory", CASE_DIRS, ids=[str(p.relative_to(CASES)) for p in CASE_DIRS])
def test_lint_case(directory: Path, tmp_path: Path) -> None:
    case = _read_case(directory)
    project_file = _build_project(tmp_path, directory, case)
    out, err = io.StringIO(), io.StringIO()
    code = app.lint(app.Common(project_file=project_file, out=out, err=err), paths=(), fmt="json", output=None)
    report = json.loads(out.getvalue())
    got = sorted((f["line"], f["column"], f["rule"]) for f in report["findings"])
    expected = sorted((f["line"], f["col"], f["rule"]) for f in case["findings"])
    assert got == expected, "\n".join(f"{f['line']}:{f['column']} {f['rule']}: {f['message']}"
                                      for f in report["findings"])
    has_error = any(f["severity"] == "error" for f in report["findings"])
    assert code == (1 if has_error else 0)
    if "rendered" in case:
        assert _rendered_spec(project_file, directory) == case["rendered"]


def _rendered_spec(project_file: Path, directory: Path) -> Any:
    """The spec inside the create body `vqr render` prints for the case's query, whichever cache mode it uses."""
    out = io.StringIO()
    query = project_file.parent / "queries" / f"{directory.name}.yaml"
    assert app.render(app.Common(project_file=project_file, out=out, err=io.StringIO()), query=str(query)) == 0
    body = json.loads(out.getvalue())
    modes = [mode for mode, value in body.items() if value is not None]
    assert len(modes) == 1, body
    carried = body[modes[0]]
    return carried["request"]["body"] if "request" in carried else carried


def test_there_are_enough_cases() -> None:
    # The issue asks for at least 40 invalid inputs and a security corpus of at least 15 Jinja escapes.
    assert len(CASE_DIRS) >= 40
    assert len([d for d in CASE_DIRS if d.parent.name == "template"]) >= 15


def test_every_clean_legacy_and_protojson_case_says_what_render_sends() -> None:
    prefixes = ("protojson-", "shorthand-", "deprecated-", "field-")
    wanted = [d for d in CASE_DIRS if d.parent.name == "schema" and d.name.startswith(prefixes)]
    # A case with no error finding (deprecation warnings only) renders, so it says what render sends.
    missing = [d.name for d in wanted if "rendered" not in (case := _read_case(d))
               and all(f["rule"] == "spec/deprecated" for f in case["findings"])]
    assert len(wanted) >= 20 and not missing, missing


def _lint_pasted_spec(tmp: Path, fixture: str) -> list[dict[str, Any]]:
    """Veza's JSON pasted under `spec:` of a query file, as a user copying it from the UI would, then linted."""
    spec_json = (VEZA_FIXTURES / fixture).read_text(encoding="utf-8")
    (tmp / "vqr.yaml").write_text(json.dumps({"queries": "queries/", "vars": DEFAULT_VARS}), encoding="utf-8")
    (tmp / "queries").mkdir()
    body = "".join(f"  {line}\n" for line in spec_json.splitlines())
    (tmp / "queries" / "pasted.yaml").write_text("name: pasted\nspec:\n" + body, encoding="utf-8")
    out = io.StringIO()
    app.lint(app.Common(project_file=tmp / "vqr.yaml", out=out, err=io.StringIO()), paths=(), fmt="json",
             output=None)
    findings: list[dict[str, Any]] = json.loads(out.getvalue())["findings"]
    return findings


def test_the_ui_export_full_of_nulls_lints_clean_under_spec(tmp_path: Path) -> None:
    spec = json.loads((VEZA_FIXTURES / "ui-export-spec.json").read_text(encoding="utf-8"))
    # The fixture is EmitUnpopulated: nulls, "", [] and false are there, which is the point of the test.
    assert spec["access_filter"] is None and spec["source_node_types"]["nodes"][0]["node_id"] == ""
    assert spec["customized_variables"] == [] and spec["relates_to_exp"]["and_op_type"] == "INFERRED"
    assert _lint_pasted_spec(tmp_path, "ui-export-spec.json") == []


def test_a_report_entry_under_spec_gets_targeted_findings_only(tmp_path: Path) -> None:
    got = sorted((f["line"], f["rule"], f["message"].split(" ", 1)[0]) for f in
                 _lint_pasted_spec(tmp_path, "report-entry.json"))
    # In the same pass as the misplaced keys: the spec's own deprecated fields (no skip note: an unknown key's
    # value is read by no rule).
    assert got == [(4, "spec/saved-query-key", "'name'"), (5, "spec/saved-query-key", "'description'"),
                   (6, "spec/saved-query-key", "'labels'"), (10, "spec/saved-query-key", "'result_type'"),
                   (11, "spec/saved-query-key", "'source_type'"), (17, "spec/deprecated", "'conditions'"),
                   (26, "spec/deprecated", "'destination_node_types'"),
                   (33, "spec/deprecated", "'effective_permissions'")]


def test_the_docs_sample_request_lints_with_deprecation_warnings_only(tmp_path: Path) -> None:
    # Veza's own documentation sample (Get query spec nodes) still uses the deprecated top-level relation fields.
    found = _lint_pasted_spec(tmp_path, "docs-query-spec-nodes-sample.json")
    assert {f["severity"] for f in found} == {"warning"}
    assert sorted(f["message"].split(" ", 1)[0] for f in found if f["rule"] == "spec/deprecated") == [
        "'destination_node_types'", "'raw_permissions'"]  # `no_relation: false` is unset: nothing to warn about
