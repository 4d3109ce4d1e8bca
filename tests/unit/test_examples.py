"""Checks that keep the example query repository and the ecosystem files honest as they evolve.

Reads the shipped files (queries/, vqr.yaml, pre-commit, VS Code and GitHub Actions files) and asserts the properties
the brief promises: modelines, unique names, every cache mode, matrix, fragments, per-environment variables,
expectations, catalog node types, and the workflow's security properties. No network.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterator
from functools import cache
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jinja2 import StrictUndefined, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment
from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.catalog import EFFECTIVE_PERMISSIONS, GROUPINGS, known_node_types, properties_of
from tests.support import forked_cli

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "queries"
WORKFLOW = ROOT / ".github" / "workflows" / "lint.yml"
ENVIRONMENTS = ("sandbox", "prod")
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
# Plain scalars a YAML 1.1 parser would turn into dates or booleans: they must be quoted in shipped files.
AMBIGUOUS = re.compile(r"^(\d{4}-\d\d?-\d\d?([Tt ].*)?|y|n|yes|no|on|off)$", re.IGNORECASE)
WHOLE_EXPR = re.compile(r"^\{\{(?P<expr>(?:(?!\}\}).)*)\}\}$", re.DOTALL)
JINJA = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
Data = Any  # parsed YAML/JSON: dicts, lists and scalars


def load(path: Path) -> Data:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def query_files() -> list[Path]:
    return sorted(p for p in QUERIES.rglob("*.y*ml") if p.relative_to(QUERIES).parts[0] not in {"_fragments", "vars"})


@cache
def project() -> Data:
    return load(ROOT / "vqr.yaml")


@cache
def fragments() -> dict[str, Data]:
    return {p.stem: load(p) for p in sorted((QUERIES / "_fragments").glob("*.yaml"))}


@cache
def env_vars(env: str) -> dict[str, Data]:
    merged: dict[str, Data] = {"environment": env, **project()["vars"]}
    for vars_file in project()["environments"][env]["vars_files"]:
        merged.update(load(ROOT / vars_file))
    return merged


def render(value: Data, context: dict[str, Data]) -> Data:
    """Like the runner: a string that is exactly one `{{ expr }}` yields the native value, other text a string."""
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, context) for item in value]
    if isinstance(value, str) and "{" in value:
        whole = WHOLE_EXPR.match(value.strip())
        if whole:
            return JINJA.compile_expression(whole["expr"], undefined_to_none=False)(**context)
        return JINJA.from_string(value).render(context)
    return value


def units(env: str) -> Iterator[tuple[Path, dict[str, Data]]]:
    """Every rendered query (one per matrix combination) of the repository, for one environment."""
    for path in query_files():
        data = load(path)
        matrix: dict[str, list[Data]] = data.get("matrix") or {}
        for combo in itertools.product(*matrix.values()):
            context = {**(data.get("vars") or {}), **env_vars(env), **dict(zip(matrix, combo, strict=True)),
                       "fragments": fragments()}
            yield path, {k: v if k in {"matrix", "vars"} else render(v, context) for k, v in data.items()}


def strings(value: Data) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def plain_scalars(node: Node) -> Iterator[ScalarNode]:
    if isinstance(node, ScalarNode) and node.style is None:
        yield node
    elif isinstance(node, MappingNode):
        for key, item in node.value:
            yield from plain_scalars(key)
            yield from plain_scalars(item)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from plain_scalars(item)


def test_repository_has_enough_realistic_queries_in_source_folders() -> None:
    files = query_files()
    assert len(files) >= 12
    folders = {p.relative_to(QUERIES).parts[0] for p in files}
    assert {"okta", "aws", "snowflake", "azure", "cross"} <= folders
    assert all(len(p.relative_to(QUERIES).parts) == 2 for p in files), "one level of source folders"


def test_every_query_file_opens_with_a_modeline_relative_to_itself() -> None:
    for path in query_files():
        expected = Path(os.path.relpath(ROOT / "schemas" / "query-file.schema.json", path.parent)).as_posix()
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema={expected}", path
    first = (ROOT / "vqr.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/project.schema.json"


def test_dates_and_yaml11_booleans_are_quoted_everywhere() -> None:
    shipped = [*QUERIES.rglob("*.yaml"), ROOT / "vqr.yaml"]
    for path in shipped:
        node = YAML(typ="safe", pure=True).compose(path.read_text(encoding="utf-8"))
        bad = [(s.value, s.start_mark.line + 1) for s in plain_scalars(node) if AMBIGUOUS.match(s.value)]
        assert bad == [], f"{path}: quote {bad}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rendered_names_are_unique_and_safe_as_file_names(env: str) -> None:
    names = [str(unit["name"]) for _, unit in units(env)]
    assert len(names) >= 14
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert all(SAFE_NAME.match(name) for name in names), names


def test_a_matrix_expands_into_names_that_use_every_matrix_variable() -> None:
    with_matrix = [load(p) for p in query_files() if "matrix" in load(p)]
    assert with_matrix
    for data in with_matrix:
        used = meta.find_undeclared_variables(JINJA.parse(data["name"]))
        assert set(data["matrix"]) <= used, data["name"]
    names = {unit["name"] for _, unit in units("sandbox")}
    assert {"okta-users-s3-data_write", "okta-users-s3-data_delete"} <= names


def test_every_cache_mode_appears_with_its_options() -> None:
    caches = [load(p).get("cache") for p in query_files()]
    assert None in caches, "one query relies on the project default"
    given = [c for c in caches if c is not None]
    assert {c["mode"] for c in given} == {"if_available", "immediate", "context"}
    staleness = {c["max_staleness"] for c in given if c["mode"] == "if_available"}
    assert {"12h", "2d", "43200s"} <= staleness
    contexts = [c for c in given if c["mode"] == "context"]
    assert contexts and all(c == {"mode": "context", "cache_id": "previous", "on_expired": "run"} for c in contexts)
    assert all(set(c) == {"mode"} for c in given if c["mode"] == "immediate")
    assert project()["defaults"]["cache"] == {"mode": "if_available", "max_staleness": "24h"}


def test_every_fragment_is_used_and_every_reference_resolves() -> None:
    assert {"active_okta_user", "pii_tag"} <= set(fragments())
    referenced: set[str] = set()
    for path in query_files():
        for text in strings(load(path)):
            referenced |= set(re.findall(r"fragments\.(\w+)", text))
    assert referenced == set(fragments())
    assert all(isinstance(value, dict) and value for value in fragments().values())


def test_variables_are_defined_in_every_environment_and_differ_where_it_matters() -> None:
    sandbox, prod = (load(QUERIES / "vars" / f"{env}.yaml") for env in ENVIRONMENTS)
    assert set(sandbox) == set(prod)
    differing = {key for key in sandbox if sandbox[key] != prod[key]}
    assert {"aws_account_ids", "privileged_groups"} <= differing
    assert all(isinstance(account, str) and re.fullmatch(r"\d{12}", account)
               for env in (sandbox, prod) for account in env["aws_account_ids"])
    used: set[str] = set()
    for path in query_files():
        data = load(path)
        here: set[str] = set()
        for text in strings({k: v for k, v in data.items() if k not in {"matrix", "vars"}}):
            here |= meta.find_undeclared_variables(JINJA.parse(text))
        for env in ENVIRONMENTS:
            defined = {*env_vars(env), *(data.get("vars") or {}), *(data.get("matrix") or {}), "fragments"}
            assert here - defined == set(), (path, env)
        used |= here
    assert differing <= used and "lookback_days" in used


def _node_specs(value: Data) -> Iterator[dict[str, Data]]:
    if isinstance(value, dict):
        if "node_type" in value:
            yield value
        for item in value.values():
            yield from _node_specs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _node_specs(item)


def _condition_properties(expression: Data) -> Iterator[str]:
    if isinstance(expression, dict):
        yield from (spec["property"] for spec in expression.get("specs", []))
        for child in expression.get("child_expressions", []):
            yield from _condition_properties(child)


def _values_of(value: Data, key: str) -> Iterator[Data]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == key:
                yield item
            yield from _values_of(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from _values_of(item, key)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_rendered_specs_use_only_catalog_types_properties_and_permissions(env: str) -> None:
    extra = frozenset(project()["node_types"])
    used_types: set[str] = set()
    for path, unit in units(env):
        spec = unit["spec"]
        assert spec["query_type"] == "SOURCE_TO_DESTINATION", path
        for node in _node_specs(spec):
            node_type = node["node_type"]
            used_types.add(node_type)
            assert node_type in known_node_types(extra), (path, node_type)
            if node_type in GROUPINGS:
                continue
            known = properties_of(node_type)
            props = {*_condition_properties(node.get("condition_expression")), *node.get("properties_to_get", [])}
            assert props <= known, (path, node_type, props - known)
        for permissions in _values_of(spec, "effective_permissions"):
            assert set(permissions["values"]) <= set(EFFECTIVE_PERMISSIONS), path
    assert {"OktaUser", "AwsIamUser", "S3Bucket", "SnowflakeUser", "AzureADUser", "OAA.Github.User"} <= used_types


def test_queries_cover_result_shapes_and_relationship_modes() -> None:
    specs = [unit["spec"] for _, unit in units("sandbox")]
    result_types = {spec["result_value_type"] for spec in specs}
    assert {"SOURCE_NODES_WITH_COUNTS", "SOURCE_AND_DESTINATION_NODES", "DESTINATION_NODES"} <= result_types
    assert {"EFFECTIVE_ACCESS", "CONFIGURED"} <= {spec.get("node_relationship_type") for spec in specs}
    assert any("$COOKIE_TIMEVAR_90_DAY_AGO" in list(strings(spec)) for spec in specs)


def test_every_query_is_documented_owned_tagged_and_has_expectations() -> None:
    seen: set[tuple[str, str]] = set()
    nightly = 0
    for path in query_files():
        data = load(path)
        assert data["description"] and data["owner"] and data["tags"], path
        nightly += "nightly" in data["tags"]
        assert data["expect"], path
        for entry in data["expect"]:
            assert entry["severity"] in {"error", "warn"} and entry["message"], path
            metrics = [m for m in ("rows", "new_rows", "removed_rows") if m in entry]
            assert len(metrics) == 1 and set(entry[metrics[0]]) <= {"min", "max", "eq"}, path
            seen.add((metrics[0], entry["severity"]))
    assert nightly >= 10
    assert {("rows", "error"), ("rows", "warn")} <= seen
    assert {metric for metric, _ in seen} == {"rows", "new_rows", "removed_rows"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_shipped_repository_lints_clean_in_every_environment(env: str) -> None:
    # The real linter through its command line: not even a warning, in each environment's variables.
    done = forked_cli.run(["lint", "--env", env, "--format", "json"], cwd=ROOT, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["findings"] == []
    assert report["summary"]["files_checked"] == len(query_files())


def test_project_file_declares_the_documented_settings() -> None:
    data = project()
    assert (data["queries"], data["reports"], data["schemas"]) == ("queries/", "reports/", "schemas/")
    assert data["defaults"] == {"cache": {"mode": "if_available", "max_staleness": "24h"}, "concurrency": 8,
                                "timeout": "15m"}
    sandbox, prod = data["environments"]["sandbox"], data["environments"]["prod"]
    assert sandbox["url"] == "embedded" and prod["url"].startswith("https://")
    assert prod["api_key_env"] == "VEZA_API_KEY"
    for env in (sandbox, prod):
        assert all((ROOT / vars_file).is_file() for vars_file in env["vars_files"])
    assert data["vars"]["lookback_days"] == 90
    assert (data["node_types"], data["rules"], data["retention"]) == ([], {"disable": []}, 30)


def test_vscode_maps_the_schemas_onto_queries_but_not_fragments_or_vars() -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    schemas = settings["yaml.schemas"]
    assert schemas["schemas/query-file.schema.json"] == ["queries/**/*.yaml", "!queries/_fragments/**",
                                                         "!queries/vars/**"]
    assert schemas["schemas/project.schema.json"] == ["vqr.yaml"]
    assert schemas["schemas/exceptions.schema.json"] == ["exceptions/**/*.yaml"]


def _assert_lints_whole_repository(hook: dict[str, Data]) -> None:
    assert hook["id"] == "vqr-lint"
    # The staged files are passed: `vqr lint PATHS` compiles the whole repository and reports those files' findings
    # (every file's when a fragment, vars file or vqr.yaml is staged), so untracked drafts never fail a commit.
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for triggers in ("queries/okta/a.yaml", "queries/_fragments/x.yml", "queries/vars/prod.yaml", "vqr.yaml"):
        assert files.search(triggers), triggers
    for ignored in ("README.md", "runner/cli.py", "schemas/x.yaml", "other/queries/a.yaml", "vqr.yaml.bak"):
        assert not files.search(ignored), ignored


def test_pre_commit_hook_manifest_publishes_vqr_lint() -> None:
    hooks = load(ROOT / ".pre-commit-hooks.yaml")
    assert [hook["id"] for hook in hooks] == ["vqr-lint"]
    hook = hooks[0]
    assert (hook["language"], hook["entry"]) == ("python", "vqr lint")
    _assert_lints_whole_repository(hook)


def test_pre_commit_config_uses_a_local_hook_that_needs_no_network() -> None:
    config = load(ROOT / ".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hook = config["repos"][0]["hooks"][0]
    assert hook["language"] in {"system", "unsupported"} and "additional_dependencies" not in hook
    assert hook["entry"].endswith("vqr lint")
    _assert_lints_whole_repository(hook)


@pytest.mark.parametrize("schema", ["vendor/github-workflows.json", "custom/github-workflows-require-timeout.json"])
def test_workflow_is_valid_against_the_vendored_github_schemas(schema: str) -> None:
    text = (package_files("check_jsonschema.builtin_schemas") / schema).read_text(encoding="utf-8")
    validator_class = jsonschema.validators.validator_for(json.loads(text))
    errors = [e.message for e in validator_class(json.loads(text)).iter_errors(load(WORKFLOW))]
    assert errors == []


def _steps(job: dict[str, Data]) -> list[dict[str, Data]]:
    steps: list[dict[str, Data]] = job["steps"]
    return steps


def test_workflow_runs_lint_with_least_privilege_and_uploads_sarif_only_for_same_repo_prs() -> None:
    workflow = load(WORKFLOW)
    assert set(workflow["on"]) == {"pull_request"}  # never pull_request_target: fork code must not get secrets
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in workflow["concurrency"]["group"]
    jobs = workflow["jobs"]
    uploaders = [name for name, job in jobs.items()
                 if any(str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@") for s in _steps(job))]
    assert len(uploaders) == 1
    upload = jobs[uploaders[0]]
    assert upload["permissions"]["security-events"] == "write"
    assert "github.event.pull_request.head.repo.full_name == github.repository" in " ".join(upload["if"].split())
    for name, job in jobs.items():
        granted = {scope for scope, level in job.get("permissions", {}).items() if level == "write"}
        assert granted == ({"security-events"} if name == uploaders[0] else set()), name
        for step in _steps(job):
            if "uses" in step:
                assert SHA_PIN.match(step["uses"]), step["uses"]
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            # Attacker-controlled event text must never be spliced into a shell script.
            assert "github.event" not in step.get("run", ""), step
    runs = "\n".join(step.get("run", "") for job in jobs.values() for step in _steps(job))
    assert "make install" in runs
    assert "vqr lint --format github" in runs
    assert "vqr lint --format sarif --output vqr.sarif" in runs
    setup = [s for job in jobs.values() for s in _steps(job) if str(s.get("uses", "")).startswith("actions/setup-")]
    assert [(s["with"]["python-version"], s["with"]["cache"]) for s in setup] == [("3.11", "pip")]
