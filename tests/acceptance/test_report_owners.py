"""Owners end to end: a real `vqr run` against a sandbox over HTTP resolves each query's owners (its `owner:`, else
the project's CODEOWNERS for its file) into run.json, writes `owners/<owner>.md` beside report.md, and `vqr report`
later re-renders the same bytes without reading CODEOWNERS again (it was changed, then deleted)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from click.testing import CliRunner

from runner import app
from runner.cli import cli
from runner.settings import read_env
from tests.acceptance.run_project import check_run_json, fixed_sandbox, make_project, query_yaml, remote, run_options

CODEOWNERS = """\
# who owns what in this query repository
*                        @acme/security
/queries/okta-*.yaml     @acme/identity dev@example.com
/queries/legacy-*.yaml
"""


def test_owners_come_from_owner_then_codeowners_and_rerendering_needs_no_codeowners(tmp_path: Path) -> None:
    project = make_project(tmp_path, {
        "okta-users": query_yaml("okta-users"),
        "okta-groups": query_yaml("okta-groups", "OktaGroup", extra="").replace("tags: [test]\n",
                                                                                 "tags: [test]\nowner: '@acme/iam'\n"),
        "s3-buckets": query_yaml("s3-buckets", "S3Bucket"),
        "legacy-roles": query_yaml("legacy-roles", "AwsIamRole"),
    })
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "CODEOWNERS").write_text(CODEOWNERS)
    out, err = io.StringIO(), io.StringIO()
    with fixed_sandbox() as box:
        common = app.Common(project_file=project, env="remote", out=out, err=err, process=read_env(remote(box.url)))
        assert app.run(common, options=run_options(env="remote")) == 0, err.getvalue()
    run_dir = (tmp_path / "reports" / "latest").resolve()
    run = check_run_json(json.loads((run_dir / "run.json").read_text()))
    owners = {q["name"]: q["owners"] for q in run["queries"]}
    assert owners == {"okta-users": ["@acme/identity", "dev@example.com"], "okta-groups": ["@acme/iam"],
                      "s3-buckets": ["@acme/security"], "legacy-roles": []}
    parts = sorted(p.name for p in (run_dir / "owners").iterdir())
    assert parts == ["acme-iam.md", "acme-identity.md", "acme-security.md", "dev-example.com.md", "unowned.md"]
    assert "legacy-roles" in (run_dir / "owners" / "unowned.md").read_text()
    identity = (run_dir / "owners" / "acme-identity.md").read_text()
    assert "okta-users" in identity and "s3-buckets" not in identity and "okta-groups" not in identity
    before = {p.relative_to(run_dir): p.read_bytes() for p in [run_dir / "report.md", run_dir / "report.html",
                                                               *sorted((run_dir / "owners").iterdir())]}

    (tmp_path / ".github" / "CODEOWNERS").write_text("* @someone-else\n")
    result = CliRunner().invoke(cli, ["--project", str(project), "report", str(run_dir), "--format", "md"])
    assert result.exit_code == 0, result.output
    (tmp_path / ".github" / "CODEOWNERS").unlink()
    result = CliRunner().invoke(cli, ["--project", str(project), "report", str(run_dir), "--format", "html"])
    assert result.exit_code == 0, result.output
    after = {p.relative_to(run_dir): p.read_bytes() for p in [run_dir / "report.md", run_dir / "report.html",
                                                              *sorted((run_dir / "owners").iterdir())]}
    assert after == before
