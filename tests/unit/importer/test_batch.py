"""Planning and writing an import on a real project: unique names, clashes refused, the target directory checked,
lint errors refused with nothing written, and every written file compiling back to what was imported."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from runner.compile.queries import effective_cache
from runner.importer import ImportRefused, write_planned
from runner.importer.modernize import RELATION_FIELDS
from runner.model import IfAvailable, Immediate, JSONValue, cache_policy
from runner.protojson import normalise
from runner.settings import load_project
from tests.unit.importer.project import import_into, make_project, plan

SPEC: dict[str, JSONValue] = {"query_type": "SOURCE_TO_DESTINATION",
                              "source_node_types": {"nodes": [{"node_type": "OktaUser"}]}}
EXISTING = "name: okta-admins\nspec:\n  query_type: SOURCE_TO_DESTINATION\n" \
           "  source_node_types: {nodes: [{node_type: OktaUser}]}\n"


def saved(name: str, **more: JSONValue) -> dict[str, JSONValue]:
    return {"name": name, **SPEC, **more}


def test_names_are_slugs_and_repeats_within_one_import_are_numbered(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = import_into(project, [("a.json", saved("Okta Admins!")), ("b.json", saved("okta admins")),
                                 ("stdin", SPEC)])
    assert sorted(done.queries) == ["okta-admins", "okta-admins-2", "stdin"]
    assert [p.display for p in done.planned] == ["queries/okta-admins.yaml", "queries/okta-admins-2.yaml",
                                                 "queries/stdin.yaml"]


def test_a_numbered_name_skips_one_the_repository_has(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"mine.yaml": EXISTING.replace("okta-admins", "q-2")})
    done = import_into(project, [("a.json", saved("q")), ("b.json", saved("q"))])
    assert sorted(done.queries) == ["q", "q-2", "q-3"]


def test_options_and_labels_become_owner_and_tags(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = import_into(project, [("a.json", saved("q", labels=["okta", "nightly"], description="Who"))],
                       owner="iam-team", tags=("veza", "okta"))
    query = done.queries["q"]
    assert (query.owner, query.tags, query.description) == ("iam-team", ("veza", "okta", "nightly"), "Who")


@pytest.mark.parametrize("clash", ["okta-admins", "Okta admins"])
def test_a_clash_with_an_existing_query_is_refused_and_nothing_is_written(tmp_path: Path, clash: str) -> None:
    project = make_project(tmp_path, {"mine.yaml": EXISTING})
    with pytest.raises(ImportRefused, match=r"b.json: a query named 'okta-admins' already exists "
                                            r"\(queries/mine.yaml\); not overwriting it"):
        plan(project, [("a.json", saved("fine")), ("b.json", saved(clash))])
    assert sorted(p.name for p in (tmp_path / "queries").iterdir()) == ["mine.yaml"]


def test_a_file_of_that_name_in_the_target_directory_is_a_clash_too(tmp_path: Path) -> None:
    project = make_project(tmp_path, {"q.yaml": "not: [a query"})  # broken: it has no name lint could read
    with pytest.raises(ImportRefused, match="a query named 'q' already exists"):
        plan(project, [("a.json", saved("q"))])


def test_into_a_subdirectory_with_a_modeline_that_finds_the_schema(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = import_into(project, [("a.json", saved("q"))], into=tmp_path / "queries" / "veza" / "github")
    assert done.queries["q"].file == "queries/veza/github/q.yaml"
    first = (tmp_path / "queries/veza/github/q.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../schemas/query-file.schema.json"


@pytest.mark.parametrize(("into", "message"), [
    ("../elsewhere", "outside the project"),
    ("reports", "not under the queries directory (queries/)"),
    ("queries/_fragments", "_fragments/ holds fragments or variables, not queries"),
    ("queries/vars/x", "vars/ holds fragments or variables, not queries"),
    ("queries/out-link", "outside the project"),
])
def test_a_target_outside_the_queries_is_refused(tmp_path: Path, into: str, message: str) -> None:
    root = tmp_path / "repo"
    project = make_project(root)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", root / "queries" / "out-link")
    with pytest.raises(ImportRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(project, [("a.json", SPEC)], into=root / into)
    assert not any((tmp_path / "elsewhere").iterdir())


def test_a_query_that_would_not_lint_is_refused_naming_the_finding(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    bad = {**SPEC, "query_typo": "SOURCE_TO_DESTINATION"}
    with pytest.raises(ImportRefused, match=r"b.json: the imported query would not lint: queries/b.yaml:\d+:\d+: "):
        plan(project, [("a.json", SPEC), ("b.json", bad)])
    assert not list((tmp_path / "queries").iterdir())


def test_a_file_that_appears_after_planning_stops_every_write(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    planned = plan(project, [("a.json", SPEC), ("b.json", SPEC)])
    (tmp_path / "queries" / "b.yaml").write_text("mine\n")
    with pytest.raises(ImportRefused, match=r"queries/b\.yaml appeared meanwhile"):
        write_planned(planned)
    assert sorted(p.name for p in (tmp_path / "queries").iterdir()) == ["b.yaml"]


def test_cache_modes_survive_a_project_default_that_differs(tmp_path: Path) -> None:
    project = make_project(tmp_path)  # its default: if_available, 12h
    done = import_into(project, [
        ("a.json", {"cached_result_if_available": {"request": {"body": SPEC}}}),
        ("b.json", {"cached_result_if_available": {"request": {"body": SPEC}, "max_staleness": "600s"}}),
        ("c.json", {"immediate_run": {"request": {"body": SPEC}}}),
        ("d.json", {"request": {"body": SPEC}}),
        ("e.json", SPEC)])
    caches = {name: query.cache for name, query in done.queries.items()}
    assert caches == {"a": IfAvailable(max_staleness="24h"), "b": IfAvailable(max_staleness="600s"),
                      "c": Immediate(), "d": IfAvailable(max_staleness="24h"), "e": IfAvailable(max_staleness="12h")}


def test_modernize_rewrites_and_says_so(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    legacy: Any = {**SPEC, "destination_node_types": {"nodes": [{"node_type": "S3Bucket"}]}, "no_relation": True}
    done = import_into(project, [("a.json", legacy)], modernize=True)
    modern: Any = {**SPEC, "relates_to_exp": {"specs": [
        {"node_types": {"nodes": [{"node_type": "S3Bucket"}]}, "no_relation": True}]}}
    assert done.queries["a"].spec == modern
    assert done.planned[0].notes == ("modernized spec: destination_node_types, no_relation → relates_to_exp.specs[0]",)


NODE_LEGACY = ("conditions", "excluded_tags", "count_conditions")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "veza"
IMPORTABLE = sorted(p.name for p in FIXTURES.glob("*.json") if p.name != "create-context.json")


@pytest.mark.parametrize("name", IMPORTABLE)
@pytest.mark.parametrize("modern", [False, True], ids=["as-is", "modernized"])
def test_every_fixture_imports_and_compiles_back_to_its_spec(tmp_path: Path, name: str, modern: bool) -> None:
    project = make_project(tmp_path)
    value = json.loads((FIXTURES / name).read_text())
    done = import_into(project, [(name, value)], modernize=modern)
    assert done.queries and len(done.queries) == len(done.planned)
    for item in done.planned:
        query = done.queries[item.path.stem]
        assert query.cache == cache_policy(effective_cache(item.candidate.cache, project.defaults.cache))
        if not modern:
            assert normalise(query.spec) == normalise(item.candidate.spec)
        elif not any(note.startswith("left as is") for note in item.notes):
            text = json.dumps(query.spec)
            assert not [key for key in NODE_LEGACY if f'"{key}":' in text], item.notes
            assert not set(query.spec) & set(RELATION_FIELDS), item.notes


def test_a_name_given_literally_is_reserved_before_repeats_are_numbered(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = import_into(project, [("a.json", saved("Dup")), ("b.json", saved("Dup")), ("c.json", saved("dup-2")),
                                 ("d.json", saved("Dup"))])
    assert [p.path.stem for p in done.planned] == ["dup", "dup-3", "dup-2", "dup-4"]
    assert sorted(done.queries) == ["dup", "dup-2", "dup-3", "dup-4"]


def test_a_saved_name_the_slug_loses_is_kept_in_the_description(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    done = import_into(project, [("a.json", saved("日本語")), ("b.json", saved("Okta Admins!", description="Who")),
                                 ("c.json", saved("plain")), ("stem.json", SPEC)])
    assert {name: q.description for name, q in done.queries.items()} == {
        "query": "日本語", "okta-admins": "Who", "plain": None, "stem": None}


@pytest.mark.parametrize(("options", "message"), [
    ({"tags": ("ok", "")}, "--tag '': an empty or blank tag"),
    ({"tags": ("  ",)}, "--tag '  ': an empty or blank tag"),
    ({"owner": ""}, "--owner '': an empty or blank owner"),
    ({"owner": " \t"}, r"--owner ' \\t': an empty or blank owner"),
])
def test_an_empty_or_blank_tag_or_owner_is_refused(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    project = make_project(tmp_path)
    with pytest.raises(ImportRefused, match=message):
        plan(project, [("a.json", SPEC)], **options)


def test_the_modeline_points_at_the_projects_own_schemas_directory(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    shutil.copytree(project.schemas_dir, tmp_path / "myschemas")  # the bundled copy, as the project's own
    (tmp_path / "vqr.yaml").write_text((tmp_path / "vqr.yaml").read_text() + "schemas: myschemas/\n")
    project = load_project(tmp_path / "vqr.yaml")
    done = import_into(project, [("a.json", saved("q"))], into=tmp_path / "queries" / "okta")
    first = (tmp_path / "queries/okta/q.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../myschemas/query-file.schema.json"
    assert (tmp_path / "queries/okta" / first.split("=", 1)[1]).resolve().is_file()
    assert done.queries["q"].name == "q"


def test_a_failed_later_write_removes_every_file_and_directory_this_import_created(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    first = plan(project, [("a.json", saved("a")), ("b.json", saved("b"))], into=tmp_path / "queries" / "new" / "x")
    blocked = tmp_path / "queries" / "blocked"
    last = plan(project, [("c.json", saved("c"))], into=blocked)
    blocked.write_text("a file where the third file's directory belongs\n")  # so the third cannot be created
    with pytest.raises(OSError) as caught:
        write_planned([*first, *last])
    assert caught.value.filename == str(blocked)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "queries").rglob("*")) == [
        "queries/blocked"]
