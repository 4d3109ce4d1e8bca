"""vqr.yaml's `notify:` section on real files: targets into frozen values, defaults, and every mistake a finding at
its line; a literal `url:` is refused with the reason, and the URL it held is never quoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ProjectError
from runner.model.notify import NotifySettings, NotifyTarget, TargetKind, Trigger
from runner.settings import load_project


def project_with(tmp_path: Path, notify: str) -> Path:
    (tmp_path / "queries").mkdir(exist_ok=True)
    file = tmp_path / "vqr.yaml"
    file.write_text("queries: queries/\n" + notify)
    return file


def problems(tmp_path: Path, notify: str) -> str:
    with pytest.raises(ProjectError) as caught:
        load_project(project_with(tmp_path, notify))
    return str(caught.value)


def test_without_a_notify_section_nothing_is_sent(tmp_path: Path) -> None:
    assert load_project(project_with(tmp_path, "")).notify == NotifySettings()


def test_targets_read_into_frozen_values(tmp_path: Path) -> None:
    notify = load_project(project_with(tmp_path, """\
notify:
  deadline: 90s
  expiring_within_days: 7
  targets:
    team-slack: {type: slack, url_env: SLACK_WEBHOOK_URL, when: [failure, new_rows], per_owner: true}
    lake: {type: webhook, url_file: /run/secrets/hook, when: always}
    teams: {type: teams, url_file: secrets/teams-url}
""")).notify
    assert notify.deadline_seconds == 90 and notify.expiring_within_days == 7
    assert notify.targets == (
        NotifyTarget(name="team-slack", kind=TargetKind.SLACK, url_env="SLACK_WEBHOOK_URL",
                     when=frozenset({Trigger.FAILURE, Trigger.NEW_ROWS}), per_owner=True),
        NotifyTarget(name="lake", kind=TargetKind.WEBHOOK, url_file=Path("/run/secrets/hook"),
                     when=frozenset({Trigger.ALWAYS})),
        NotifyTarget(name="teams", kind=TargetKind.TEAMS, url_file=tmp_path.resolve() / "secrets/teams-url",
                     when=frozenset({Trigger.FAILURE})),  # the default: on failure
    )
    assert notify.targets[0].url_source == "$SLACK_WEBHOOK_URL"


def test_a_literal_url_is_refused_saying_why_and_not_quoting_it(tmp_path: Path) -> None:
    text = problems(tmp_path, """\
notify:
  targets:
    team-slack:
      type: slack
      url: https://hooks.slack.com/services/T000/B000/s3cr3t-canary
""")
    assert "vqr.yaml:5:" in text and "project/refused" in text
    assert "is a secret" in text and "url_env" in text and "url_file" in text
    assert "s3cr3t-canary" not in text


def test_a_literal_url_beside_url_env_is_still_refused(tmp_path: Path) -> None:
    text = problems(tmp_path, """\
notify:
  targets:
    t: {type: webhook, url_env: HOOK, url: "https://example.com/s3cr3t-canary"}
""")
    assert "is a secret" in text and "s3cr3t-canary" not in text


@pytest.mark.parametrize(("notify", "expected"), [
    ("notify:\n  targets:\n    t: {type: slack}\n", "set exactly one of url_env, url_file (found none)"),
    ("notify:\n  targets:\n    t: {type: slack, url_env: A, url_file: b}\n", "set exactly one of url_env, url_file"),
    ("notify:\n  targets:\n    t: {type: discord, url_env: A}\n", "'discord' is not one of webhook, slack, teams"),
    ("notify:\n  targets:\n    t: {type: slack, url_env: A, when: [failure, sometimes]}\n",
     "vqr.yaml:4:50: error: 'sometimes' is not one of failure, new_rows"),
    ("notify:\n  targets:\n    t: {type: slack, url_env: A, when: often}\n", "'often' is not one of failure"),
    ("notify:\n  targets:\n    t: {type: slack, url_env: A-B}\n", "expected the environment variable"),
    ("notify:\n  deadline: soon\n", "soon"),
    ("notify:\n  targets:\n    t: {type: slack, url_env: A, per_owner: yes please}\n", "boolean"),
])
def test_mistakes_are_findings(tmp_path: Path, notify: str, expected: str) -> None:
    assert expected in problems(tmp_path, notify)
