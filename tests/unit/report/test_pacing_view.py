"""The reports' pacing line and chart: the concurrency a run kept, the throttling the tenant did, and the polls per
query, from run.json's `concurrency` and `polls`; artifacts from before them show nothing."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from runner.model import JSONObject
from runner.report.html import render_html
from runner.report.load import load_run
from runner.report.load_pacing import pacing_of
from runner.report.markdown import render_markdown
from runner.report.pacing_view import pacing_chart, pacing_sentence
from runner.state import History
from tests.support.report_fixture import FIXTURE

CALM: JSONObject = {"polls": 300, "concurrency": {"configured": 50, "start": 50, "final": 50, "converged": None,
                                                  "series": [[0, 50]], "throttled": 0, "retry_after_seconds": 0}}
THROTTLED: JSONObject = {"polls": 45, "concurrency": {
    "configured": 8, "start": 6, "final": 5, "converged": 4.6, "series": [[0, 6], [1.5, 3], [4.0, 4], [9.0, 5]],
    "throttled": 7, "retry_after_seconds": 2}}


def test_a_calm_run_says_it_was_not_throttled_and_draws_no_chart() -> None:
    pacing = pacing_of(CALM)
    assert pacing is not None
    assert pacing_sentence(pacing, 200) == ("concurrency 50, started at 50; the tenant throttled nothing; "
                                            "300 polls (1.5 per query).")
    assert pacing_chart(pacing, 12.0) == ""


def test_a_throttled_run_says_how_far_it_fell_and_draws_the_limit() -> None:
    pacing = pacing_of(THROTTLED)
    assert pacing is not None
    sentence = pacing_sentence(pacing, 10)
    assert sentence.startswith("concurrency 8, started at 6 (capped by the last run's converged value); the tenant "
                               "refused 7 attempts for load, asking to wait up to 2")
    assert "fell to 3 and ended at 5; it converged at 4.6" in sentence and sentence.endswith("(4.5 per query).")
    chart = pacing_chart(pacing, 12.0)
    points = re.search(r'points="([^"]+)"', chart)
    assert chart.startswith("<svg") and points is not None
    ys = [float(p.split(",")[1]) for p in points.group(1).split()]
    xs = [float(p.split(",")[0]) for p in points.group(1).split()]
    assert xs == sorted(xs) and len(set(ys)) == 4  # a step line: time moves forward, one level per limit
    assert ys.index(max(ys)) == 2  # the lowest limit (3) is drawn lowest, right after the first drop


def test_numbers_json_allows_but_are_not_numbers_are_left_out() -> None:
    odd = json.loads('{"polls": NaN, "concurrency": {"configured": 8, "start": 8, "final": 4, "converged": NaN, '
                     '"series": [[0, 8], [Infinity, 4]], "throttled": 2, "retry_after_seconds": Infinity}}')
    pacing = pacing_of(odd)
    assert pacing is not None and pacing.polls is None and pacing.converged is None
    assert pacing.retry_after_seconds == 0.0 and pacing.series == ((0.0, 8),)
    assert "refused 2 attempts" in pacing_sentence(pacing, 4)
    assert pacing_chart(pacing_of(THROTTLED) or pacing, float("nan")).startswith("<svg")


def test_an_artifact_from_before_pacing_shows_nothing() -> None:
    assert pacing_of({"polls": 3}) is None


def _fixture_with(tmp_path: Path, extra: JSONObject) -> Path:
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE, run_dir)
    data = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    data.update(extra)
    (run_dir / "run.json").write_text(json.dumps(data), encoding="utf-8")
    return run_dir


def test_both_reports_carry_the_pacing_line(tmp_path: Path) -> None:
    run = load_run(_fixture_with(tmp_path, THROTTLED))  # validated: the fields are run.schema.json's
    markdown = render_markdown(run)
    html = render_html(run, History())
    assert "**Pacing:** concurrency 8, started at 6" in markdown
    assert '<p class="meta pacing">Pacing: concurrency 8, started at 6' in html
    assert '<svg class="chart pacing"' in html
