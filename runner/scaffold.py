"""`vqr init DIR`: write a small, working, lint-clean query repository.

Input: a directory that has no vqr.yaml yet. Output: each file of the scaffold (project file, one example query, a
fragment, variables per environment, the bundled schemas, pre-commit and editor settings) with what was done: created,
or kept as it was (never overwritten; only .gitignore gets the lines vqr needs appended). Writes files.
"""

from __future__ import annotations

import os
from pathlib import Path

from runner import __version__
from runner.errors import ProjectError
from runner.repopath import outside_root
from runner.resources import bundled_schemas_dir

PROJECT = """\
# yaml-language-server: $schema=schemas/project.schema.json
queries: queries/
reports: reports/
schemas: schemas/
defaults:
  cache: {mode: if_available, max_staleness: 24h}
  concurrency: 8
  timeout: 15m
environments:
  sandbox:
    url: embedded          # the embedded Veza-compatible sandbox, started in-process
    vars_files: [queries/vars/sandbox.yaml]
  prod:
    url: https://example.vezacloud.com
    api_key_env: VEZA_API_KEY
    vars_files: [queries/vars/prod.yaml]
vars:
  lookback_days: 90
rules:
  disable: []
"""

EXAMPLE_QUERY = """\
# yaml-language-server: $schema=../schemas/query-file.schema.json
name: okta-users-with-s3-write
description: Active Okta users who can write to an S3 bucket
owner: identity-team
tags: [okta, aws, nightly]
cache: {mode: if_available, max_staleness: 12h}
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types:
    nodes:
      - node_type: OktaUser
        condition_expression: "{{ fragments.active_okta_user }}"
  relates_to_exp:
    specs:
      - node_types: {nodes: [{node_type: S3Bucket}]}
        effective_permissions: {values: [DATA_WRITE], operator: OR}
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
expect:
  - rows: {max: 500}
    severity: warn
    message: more Okta users can write to S3 than expected
"""

FRAGMENT = """\
# A condition expression shared by queries: `condition_expression: "{{ fragments.active_okta_user }}"`
specs:
  - {fn: EQ, property: status, value: ACTIVE}
operator: AND
"""

VARS = {"sandbox": "aws_account_ids: []\n", "prod": "aws_account_ids: []\n"}

# vqr's own repository publishes the hook (.pre-commit-hooks.yaml, `language: python`): pre-commit builds the
# hook's environment from this release's tag, so it works from a fresh clone without a venv on PATH. Not a
# `language: python` local hook with `additional_dependencies: [vqr]`: the name `vqr` on PyPI is another project.
# The same URL as pyproject.toml's [project.urls] Repository (a test holds the two together).
HOOK_REPOSITORY = "https://github.com/vqr-dev/vqr"

PRE_COMMIT = f"""\
# `pre-commit install` once; every commit then lints its staged query files, with the whole repository as context
# (untracked drafts are not reported). The hook's environment is built by pre-commit from vqr's own repository.
repos:
  - repo: {HOOK_REPOSITORY}
    rev: v{__version__}
    hooks:
      - id: vqr-lint
"""

VSCODE = """\
{
  "yaml.schemas": {
    "schemas/query-file.schema.json": ["queries/**/*.yaml", "!queries/_fragments/**", "!queries/vars/**"],
    "schemas/project.schema.json": ["vqr.yaml"],
    "schemas/exceptions.schema.json": ["exceptions/**/*.yaml"]
  }
}
"""

GITIGNORE = "reports/\n.vqr/\n"


CREATED, KEPT, UPDATED = "created", "kept (exists)", "updated"
REFUSED = "not written (its folder leads outside the project)"


def _create(target: Path, data: bytes, *, root: Path) -> bool | None:
    """Write a new file; False, touching nothing, when anything (even a dangling symlink) is already there; None
    when its folder is a symlink out of the project (a `schemas -> /elsewhere` link must not be written through).
    O_EXCL makes the check and the creation one step, so a file appearing meanwhile is kept too."""
    existing = target.parent
    while not existing.exists() and existing != existing.parent:  # checked before mkdir creates anything beyond it
        existing = existing.parent
    if outside_root(root, existing) is not None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as for open()
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as stream:
        stream.write(data)
    return True


def _merge_gitignore(target: Path) -> str | None:
    """Append the lines vqr needs that an existing .gitignore lacks (its own lines, `.env` and the like, stay as
    they are); a symlink or anything not a regular file is left alone."""
    if target.is_symlink() or not target.is_file():
        return None
    text = target.read_text(encoding="utf-8", errors="replace")
    present = {line.strip().strip("/") for line in text.splitlines()}
    missing = [line for line in GITIGNORE.splitlines() if line.strip("/") not in present]
    if not missing:
        return None
    with target.open("a", encoding="utf-8") as stream:
        stream.write(("" if not text or text.endswith("\n") else "\n") + "# vqr\n" + "\n".join(missing) + "\n")
    return f"(added {', '.join(missing)})"


def scaffold_project(directory: Path) -> list[tuple[str, str, str]]:
    """Each file of the scaffold as (outcome, path, detail): `created`, `kept (exists)` (an existing file is never
    overwritten) or, for .gitignore only, `updated` with the detail `(added ...)`: vqr's lines appended."""
    if (directory / "vqr.yaml").exists():
        raise ProjectError(f"{directory / 'vqr.yaml'} already exists; not overwriting a project")
    files = {
        "vqr.yaml": PROJECT,
        "queries/okta-users-with-s3-write.yaml": EXAMPLE_QUERY,
        "queries/_fragments/active_okta_user.yaml": FRAGMENT,
        "queries/vars/sandbox.yaml": VARS["sandbox"],
        "queries/vars/prod.yaml": VARS["prod"],
        ".pre-commit-config.yaml": PRE_COMMIT,
        ".vscode/settings.json": VSCODE,
        ".gitignore": GITIGNORE,
    }
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()  # where the files go: the project itself may be reached through a link
    outcomes: list[tuple[str, str, str]] = []
    for name, text in files.items():
        target = directory / name
        made = _create(target, text.encode(), root=root)
        if made is None:
            outcomes.append((REFUSED, name, ""))
            continue
        if made:
            outcomes.append((CREATED, name, ""))
            continue
        added = _merge_gitignore(target) if name == ".gitignore" else None
        outcomes.append((KEPT, name, "") if added is None else (UPDATED, name, added))
    source = bundled_schemas_dir()
    shipped = [*source.glob("*.schema.json"), *source.glob("draft-07/*.schema.json"), *source.glob("openapi/*.yaml")]
    for schema in sorted(shipped):
        relative = schema.relative_to(source)
        made = _create(directory / "schemas" / relative, schema.read_bytes(), root=root)  # a vendor-built one is kept
        outcomes.append((REFUSED if made is None else CREATED if made else KEPT, f"schemas/{relative.as_posix()}", ""))
    return outcomes
