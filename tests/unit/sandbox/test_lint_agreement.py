"""Lint and sandbox agree: a spec `vqr lint` passes without error is one the sandbox accepts, and the shape checks
(runner/specshape.py) are exactly the sandbox's refusals of a spec, with the same message and field.

Hypothesis properties over generated specs (tests/unit/sandbox/spec_strategies.py, near-valid ones favoured), the
lint one through the real pipeline (a project on disk, `app.lint`); the sandbox's part in-process: its body check
against the generated schema, then `parse_spec`. tests/acceptance/test_sandbox_agreement.py does a few over HTTP.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from runner import app
from runner.protojson import normalise
from runner.sandbox.schema_check import BodyChecker
from runner.sandbox.spec import SpecError, parse_spec
from runner.sandbox.wire import ApiError
from runner.specshape import spec_problems
from tests.unit.sandbox.spec_strategies import SPECS

# Hypothesis reprs the strategy in a note whenever a draw stops early (it does so on purpose, to bound sizes); this
# nested one's repr passes its 30 kB warning threshold, which the project's filterwarnings=error would make a failure.
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")
CHECKER = BodyChecker(lenient=False)
# make test replays 100 fixed examples of the shape property (300 took 16 s, the suite's longest unit test);
# make fuzz draws 300 fresh ones on every run.
SHAPE_EXAMPLES = 300 if os.environ.get("VQR_HYPOTHESIS_PROFILE") == "fuzz" else 100
HEADER = "name: q\ndescription: d\nowner: o\ncache: {mode: immediate}\nspec: "


def sandbox_refusal(spec: dict[str, Any]) -> str | None:
    """Why the sandbox refuses `spec` as a query body (None: it accepts it, or refuses only a snapshot id: it keeps
    no snapshots, a tenant does); any other exception fails the test."""
    try:
        parse_spec(CHECKER.spec(spec))
    except SpecError as refused:
        return None if refused.code == "NotFound" else refused.message
    except ApiError as refused:
        return refused.message
    return None


def lint_findings(project: Path, spec: dict[str, Any], *, errors: bool = True) -> list[str]:
    """`rule: message` of the error (or, `errors=False`, warning) findings of `vqr lint` on a project whose one
    query file holds `spec` (JSON is YAML)."""
    (project / "queries" / "q.yaml").write_text(HEADER + json.dumps(spec) + "\n", encoding="utf-8")
    out = io.StringIO()
    app.lint(app.Common(project_file=project / "vqr.yaml", out=out, err=io.StringIO()), paths=(), fmt="json",
             output=None)
    findings = json.loads(out.getvalue())["findings"]
    return [f"{f['rule']}: {f['message']}" for f in findings if (f["severity"] == "error") == errors]


def _project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="vqr-agree-"))
    (root / "queries").mkdir()
    (root / "vqr.yaml").write_text(json.dumps({"queries": "queries/", "vars": {"x": 1}}), encoding="utf-8")
    return root


PROJECT = _project()


@settings(max_examples=SHAPE_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS)
def test_the_shape_checks_are_the_sandbox_refusals(spec: dict[str, Any]) -> None:
    normal = normalise(spec)
    assert isinstance(normal, dict)
    problems = spec_problems(normal)
    try:
        parse_spec(spec)
    except SpecError as refused:
        if not problems and (refused.code == "NotFound" or refused.message.endswith("is not a valid NodeType")):
            return  # the graph's own refusals, not shapes: a snapshot it lacks, a name it has no type of
        assert problems, f"the sandbox refused for a reason specshape does not know: {refused.message}"
        assert (refused.message, refused.field) == (problems[0].message, problems[0].field)
        assert refused.code == "InvalidArgument"
    else:
        assert problems == []


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS)
def test_lint_clean_means_the_sandbox_accepts(spec: dict[str, Any]) -> None:
    errors = lint_findings(PROJECT, spec)
    refusal = sandbox_refusal(spec)
    if not errors and refusal is not None and refusal.endswith("is not a valid NodeType"):
        # A tenant's own type is no error to lint (vqr.yaml may list it), but it is never passed in silence.
        assert any(w.startswith(("spec/unknown-node-type", "spec/malformed-oaa-type"))
                   for w in lint_findings(PROJECT, spec, errors=False))
    elif not errors:
        assert refusal is None, f"lint passed a spec the sandbox refuses: {refusal}"
    normal = normalise(spec)
    assert isinstance(normal, dict)
    if any(not e.startswith("spec/") for e in errors):
        return  # a schema error: the meaning rules wait for a valid document (until lint runs both in one pass)
    # Every shape problem is a lint error, in the sandbox's words.
    assert {f"spec/rejected: {p.message}" for p in spec_problems(normal)} <= {*errors, *(
        "spec/rejected: source_node_types must name at least one node type" for e in errors
        if e.startswith("spec/query-type"))}


def test_the_issue_examples() -> None:
    # The two specs of issue 12: lint passed both, the sandbox answered 400.
    for spec, message in (({}, "source_node_types must name at least one node type"),
                          ({"query_type": "SOURCE_TO_DESTINATION",
                            "source_node_types": {"nodes": [{"node_type": "OktaUser", "condition_expression": {
                                "specs": [{"fn": "EQ", "value": "ACTIVE"}]}}]}}, "a condition needs a property")):
        assert sandbox_refusal(spec) == message
        assert f"spec/rejected: {message}" in lint_findings(PROJECT, spec)
