"""`vqr init` over an existing repository never overwrites: existing files are kept and reported so, .gitignore
only gains the lines vqr needs, and the summary says exactly what happened. Real files, a real CLI process."""

from __future__ import annotations

from pathlib import Path

from runner.scaffold import CREATED, KEPT, scaffold_project
from tests.support import forked_cli

QUERY = "queries/okta-users-with-s3-write.yaml"
MINE = {
    ".gitignore": ".env\nsecrets/\n/reports\n",
    ".pre-commit-config.yaml": "repos: []  # mine\n",
    ".vscode/settings.json": "{\n  // mine\n  \"editor.tabSize\": 2\n}\n",
    QUERY: "name: okta-users-with-s3-write  # mine\n",
    "schemas/query-spec.schema.json": "{\"vendor\": \"built\"}\n",
}


def _existing_repo(root: Path) -> None:
    for name, text in MINE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_init_keeps_every_existing_file_and_says_so(tmp_path: Path) -> None:
    _existing_repo(tmp_path)
    outcomes = {path: (outcome + " " + detail).strip() for outcome, path, detail in scaffold_project(tmp_path)}
    for name, text in MINE.items():
        if name != ".gitignore":
            assert (tmp_path / name).read_text() == text, name
            assert outcomes[name] == KEPT, name
    # .env and secrets/ survive; `/reports` already covers reports/, so only .vqr/ is added.
    assert (tmp_path / ".gitignore").read_text() == ".env\nsecrets/\n/reports\n# vqr\n.vqr/\n"
    assert outcomes[".gitignore"] == "updated (added .vqr/)"
    assert outcomes["vqr.yaml"] == CREATED and outcomes["queries/_fragments/active_okta_user.yaml"] == CREATED
    assert outcomes["schemas/query-file.schema.json"] == CREATED


def test_a_gitignore_holding_every_line_is_kept_as_it_is(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("reports/\n.vqr\n")  # no final newline issue, no duplicates
    assert (KEPT, ".gitignore", "") in scaffold_project(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "reports/\n.vqr\n"


def test_a_gitignore_without_a_final_newline_gets_one_before_the_added_lines(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".env")
    scaffold_project(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == ".env\n# vqr\nreports/\n.vqr/\n"


def test_a_symlink_in_the_way_is_kept_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    target.write_text("precious\n")
    repo = tmp_path / "repo"
    (repo / ".vscode").mkdir(parents=True)
    (repo / ".vscode" / "settings.json").symlink_to(target)
    (repo / ".gitignore").symlink_to(tmp_path / "dangling")
    outcomes = {path: outcome for outcome, path, _ in scaffold_project(repo)}
    assert outcomes[".vscode/settings.json"] == KEPT and outcomes[".gitignore"] == KEPT
    assert target.read_text() == "precious\n" and not (tmp_path / "dangling").exists()


def test_vqr_init_dot_over_an_existing_repo_reports_truthfully(tmp_path: Path) -> None:
    _existing_repo(tmp_path)
    done = forked_cli.run(["init", "."], cwd=tmp_path,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "created vqr.yaml" in lines
    for name in (".pre-commit-config.yaml", ".vscode/settings.json", QUERY, "schemas/query-spec.schema.json"):
        assert f"kept (exists) {name}" in lines and f"created {name}" not in lines
    assert "updated .gitignore (added .vqr/)" in lines
    assert (tmp_path / ".gitignore").read_text().startswith(".env\nsecrets/\n")
    assert (tmp_path / QUERY).read_text() == MINE[QUERY]


def test_a_folder_linked_out_of_the_project_is_not_written_through(tmp_path: Path) -> None:
    """`schemas -> /elsewhere` once got 9 schema files written outside the project (issue 10, found in review)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    project = tmp_path / "p"
    project.mkdir()
    (project / "schemas").symlink_to(elsewhere)
    outcomes = scaffold_project(project)
    assert list(elsewhere.iterdir()) == []
    refused = [path for outcome, path, _ in outcomes if outcome.startswith("not written")]
    assert refused and all(path.startswith("schemas/") for path in refused)
    assert (project / "vqr.yaml").is_file() and (project / "queries" / "vars" / "prod.yaml").is_file()


def test_init_creates_a_new_directory(tmp_path: Path) -> None:
    outcomes = scaffold_project(tmp_path / "new" / "project")
    assert outcomes and all(outcome == "created" for outcome, _, _ in outcomes)
