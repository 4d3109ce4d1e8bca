"""`vqr report` and `vqr report history` as functions, the journal-backed history, retention pruning, and what
`vqr run` calls after publishing run.json; with real files, a real journal and the fixed run artifact."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.app.boundary import guarded
from runner.artifact.retention import prune_runs, run_directories
from runner.report import after_run, history_command, report_command, resolve_run_dir
from runner.report import load as report_load
from runner.report.history import load_history
from runner.report.load import ArtifactError, load_run
from runner.report.run_check import RunChecker
from runner.state.journal import QueryState, open_journal
from tests.support.report_fixture import FIXTURE, KEY, RUN_ID, add_run, build_journal, copy_fixture, past_run_id


def call(run_dir: Path | None, fmt: str, reports: Path, journal: Path) -> tuple[int, str, str]:
    """`vqr report` as the CLI runs it: the command inside the app's error boundary, the paths printed."""
    out, err = io.StringIO(), io.StringIO()

    def command() -> int:
        out.writelines(f"{path}\n" for path in report_command(run_dir, fmt, reports, journal))
        return 0

    code = guarded(command, err=err)
    return code, out.getvalue(), err.getvalue()


def history(name: str, journal: Path, **options: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    def command() -> int:
        out.write(history_command(name, journal, **options))
        return 0

    code = guarded(command, err=err)
    return code, out.getvalue(), err.getvalue()


# md is report.md and each owner's part (the fixture's run.json predates `owners`: they come from `owner:`)
@pytest.mark.parametrize(("fmt", "files"), [("md", ["report.md", "owners/cloud-team.md", "owners/identity-team.md",
                                                    "owners/unowned.md"]), ("html", ["report.html"]),
                                            ("junit", ["junit.xml"])])
def test_report_rerenders_the_latest_run_by_default(tmp_path: Path, fmt: str, files: list[str]) -> None:
    reports = tmp_path / "reports"
    run_dir = copy_fixture(reports)
    code, out, err = call(None, fmt, reports, tmp_path / "no-journal.sqlite")
    assert (code, err) == (0, "")
    assert out.splitlines() == [str(run_dir.resolve() / f) for f in files]
    assert all((run_dir / f).stat().st_size > 0 for f in files)


def test_report_csv_writes_one_file_per_result(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run_dir = copy_fixture(reports)
    code, out, _ = call(run_dir, "csv", reports, tmp_path / "j.sqlite")
    assert code == 0 and len(out.splitlines()) == 4
    assert (run_dir / "results" / "admin-roles.csv").read_text().startswith("id,type,properties.name")


def test_latest_as_a_text_file_is_followed(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    copy_fixture(reports)
    (reports / "latest").unlink()
    (reports / "latest").write_text(RUN_ID + "\n")
    assert resolve_run_dir(None, reports) == reports / RUN_ID
    assert call(None, "md", reports, tmp_path / "j.sqlite")[0] == 0


def test_bad_run_directories_and_formats_are_usage_errors(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    code, _, err = call(None, "md", reports, tmp_path / "j.sqlite")
    assert code == 2 and "latest" in err and "vqr run" in err
    unfinished = reports / "20250301T020000Z-0000"
    unfinished.mkdir()
    code, _, err = call(unfinished, "md", reports, tmp_path / "j.sqlite")
    assert code == 2 and "never finished" in err
    (unfinished / "run.json").write_text('{"version": 1}')
    code, _, err = call(unfinished, "md", reports, tmp_path / "j.sqlite")
    assert code == 2 and "run.schema.json" in err and "Traceback" not in err
    (unfinished / "run.json").write_text("{oops")
    assert call(unfinished, "md", reports, tmp_path / "j.sqlite")[0] == 2
    assert call(unfinished, "pdf", reports, tmp_path / "j.sqlite")[:1] == (2,)
    with pytest.raises(ArtifactError):
        load_run(unfinished)


def test_history_command_prints_the_newest_run_first(tmp_path: Path) -> None:
    journal = build_journal(tmp_path / "state.sqlite")
    code, out, err = history("okta-users-with-s3-write", journal, limit=5)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "history of okta-users-with-s3-write in environment sandbox (embedded), 5 runs"
    assert lines[1].split() == ["run", "state", "rows", "change", "spec"]
    assert lines[2].split()[:4] == [RUN_ID, "done", "29", "+1"]
    assert [line.split()[0] for line in lines[2:]] == [RUN_ID, *[past_run_id(d) for d in (28, 27, 26, 25)]]
    code, _, err = history("nope", journal)
    assert code == 2 and err.startswith("vqr: no run of query 'nope'") and err.count("\n") == 1
    assert history("x", tmp_path / "missing.sqlite")[0] == 2


def test_history_table_marks_failures_and_spec_changes(tmp_path: Path) -> None:
    journal = build_journal(tmp_path / "state.sqlite")
    rows = {line.split()[0]: line for line in history_command("okta-users-with-s3-write", journal).splitlines()[2:]}
    assert rows[past_run_id(10)].split()[1:] == ["failed", "000000000000"]
    assert rows[past_run_id(11)].split()[1:4] == ["done", "11", "+2"]  # against the last run that had a count
    assert rows[past_run_id(20)].endswith("(changed)")


def test_history_stops_at_the_reported_run_and_keeps_thirty(tmp_path: Path) -> None:
    journal = build_journal(tmp_path / "state.sqlite")
    add_run(journal, "20250302T020000Z-beef", rows=999)
    name = "okta-users-with-s3-write"
    points = load_history(journal, [name], key=KEY, until_run=RUN_ID).of(name)
    assert points[-1].run_id == RUN_ID and len(points) == 29
    everything = load_history(journal, [name], key=KEY, until_run=None).of(name)
    assert everything[-1].rows == 999 and len(everything) == 30
    unknown_run = load_history(journal, ["okta-users-with-s3-write"], key=KEY, until_run="20250215T030000Z-0000")
    assert unknown_run.of("okta-users-with-s3-write")[-1].run_id == past_run_id(15)
    assert load_history(tmp_path / "none.sqlite", ["x"], key=KEY, until_run=None).of("x") == ()


def make_runs(reports: Path, count: int) -> list[Path]:
    runs = []
    for day in range(1, count + 1):
        path = reports / past_run_id(day)
        (path / "results").mkdir(parents=True)
        (path / "run.json").write_text("{}")
        runs.append(path)
    return runs


def test_prune_keeps_the_newest_complete_runs_and_never_touches_anything_else(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    runs = make_runs(reports, 6)
    unfinished = reports / "20250210T020000Z-ffff"  # newer than every kept run: maybe waiting for --resume
    unfinished.mkdir()
    (reports / "notes").mkdir()
    (reports / "20250101T000000Z-zzzz").mkdir()  # not a run id
    outside = tmp_path / "outside"
    outside.mkdir()
    (reports / "20240101T000000Z-0001").symlink_to(outside, target_is_directory=True)
    (reports / "latest").symlink_to(runs[0].name, target_is_directory=True)  # latest is protected, however old
    deleted = prune_runs(reports, keep=3)
    assert deleted == runs[1:3]
    assert run_directories(reports) == [runs[0], *runs[3:], unfinished]
    assert (reports / "notes").is_dir() and (reports / "20250101T000000Z-zzzz").is_dir() and outside.is_dir()
    assert prune_runs(reports, keep=3) == []
    assert prune_runs(reports, keep=0) == runs[3:5]  # keep at least one


def test_after_run_writes_every_report_summary_and_prunes(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    old = make_runs(reports, 3)
    run_dir = copy_fixture(reports)
    journal = build_journal(tmp_path / "state.sqlite")
    summary = tmp_path / "step-summary.md"
    err = io.StringIO()
    written = after_run(run_dir, journal_path=journal, reports_dir=reports, retention=2,
                        step_summary=summary, err=err)
    assert err.getvalue() == ""
    assert {p.name for p in written} >= {"report.md", "report.html", "junit.xml", "admin-roles.csv",
                                         "step-summary.md"}
    assert "trend-chart" in (run_dir / "report.html").read_text()
    assert summary.read_text() == (run_dir / "report.md").read_text()
    # Retention counts per (environment, target): the fixture's key has one run, the bare `{}` runs (no key) two.
    assert [p.name for p in run_directories(reports)] == [old[1].name, old[2].name, RUN_ID]


def test_a_valid_run_json_is_checked_without_the_python_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """jsonschema-rs says yes in C; jsonschema, which words problems, only walks a run.json that it doubts."""
    run_dir = copy_fixture(tmp_path)
    good = load_run(run_dir)
    monkeypatch.setattr(RunChecker, "_walker", lambda self: pytest.fail("a valid run.json was walked by jsonschema"))
    assert load_run(run_dir) == good
    (run_dir / "run.json").write_text('{"version": 1}')
    monkeypatch.undo()
    with pytest.raises(ArtifactError, match=r"run\.schema\.json"):
        load_run(run_dir)


def test_after_run_reads_the_run_once_for_the_step_summary_too(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The run.json this process has just written is not read back and validated again for the step summary
    (a run.json of 200 queries: 0.4 s of CPU in every CI run)."""
    def validated(*args: object, **kwargs: object) -> object:
        raise AssertionError("run.json read back and validated")

    monkeypatch.setattr(report_load, "read_run_json", validated)
    reports = tmp_path / "reports"
    run_dir = copy_fixture(reports)
    summary = tmp_path / "step-summary.md"
    after_run(run_dir, journal_path=build_journal(tmp_path / "state.sqlite"), reports_dir=reports, retention=2,
              step_summary=summary, err=io.StringIO())
    assert summary.read_text() == (run_dir / "report.md").read_text()


def test_after_run_only_warns_when_reports_cannot_be_written(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    run_dir = reports / RUN_ID
    shutil.copytree(FIXTURE, run_dir)
    (run_dir / "run.json").write_text((run_dir / "run.json").read_text()[:200])  # cut short: not JSON
    err = io.StringIO()
    assert after_run(run_dir, journal_path=tmp_path / "j", reports_dir=reports, retention=30,
                     err=err) == []
    assert "warning: the reports could not be written" in err.getvalue()


def test_history_shows_one_environment_and_target_the_latest_by_default(tmp_path: Path) -> None:
    journal = build_journal(tmp_path / "state.sqlite")  # 29 sandbox runs against `embedded`
    with open_journal(journal) as opened:
        for run_id, rows in (("20250302T020000Z-0001", 500), ("20250303T020000Z-0002", 510)):
            opened.start_run(run_id, env="prod", target="https://acme.vezacloud.com")
            opened.record(run_id, "okta-users-with-s3-write", QueryState.PENDING, spec_hash="3f1c9a0d5e7b2c4a")
            opened.record(run_id, "okta-users-with-s3-write", QueryState.DONE, rows=rows)
    code, out, _ = history("okta-users-with-s3-write", journal)
    lines = out.splitlines()
    assert code == 0 and lines[0].endswith("in environment prod (https://acme.vezacloud.com), 2 runs")
    assert lines[2].split()[:4] == ["20250303T020000Z-0002", "done", "510", "+10"]  # never compared with sandbox
    code, out, _ = history("okta-users-with-s3-write", journal, env="sandbox")
    assert code == 0 and "in environment sandbox (embedded), 29 runs" in out.splitlines()[0]
    code, _, err = history("okta-users-with-s3-write", journal, env="staging")
    assert code == 2 and "no run of environment 'staging' of query" in err


@pytest.mark.parametrize(("content", "message"), [
    (b"\xff\xfe not utf-8", "cannot read"),
    (b'{"version": 1,', "cannot read"),
    (b"\xef\xbb\xbf{}", "cannot read"),  # a BOM: the json module refuses it in text, and so does this reader
    (b"null", "does not match"),
])
def test_a_run_json_that_is_not_json_text_is_refused_in_one_line(tmp_path: Path, content: bytes,
                                                                  message: str) -> None:
    from runner.report.run_check import read_run_json

    path = tmp_path / "run.json"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match=message):
        read_run_json(path)
    with pytest.raises(ArtifactError, match="does not exist"):
        read_run_json(tmp_path / "missing.json")


def test_run_json_reads_back_as_the_json_module_reads_it() -> None:
    import json

    from runner.report.run_check import read_run_json

    path = FIXTURE / "run.json"
    assert read_run_json(path) == json.loads(path.read_text(encoding="utf-8"))
