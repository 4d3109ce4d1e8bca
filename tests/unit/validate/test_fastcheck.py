"""The fast "valid" (runner/validate/fastcheck.py) against jsonschema itself, on the bundled schemas: its yes is never
jsonschema's no, over every query file of the repository and the lint cases (and for run.schema.json, the golden run
artifacts, as `vqr report` and `vqr report merge` check them), each mutated by hypothesis with the
values the two libraries could read differently (regex edge cases, 1.0 and True, huge integers, NaN, lone
surrogates, tuples); it says yes to the repository's own valid files (else it would save nothing); a schema it
cannot vouch for gets no fast checker; and a project's own schema is checked by jsonschema alone."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from runner.resources import CREATE_BODY_FILE, QUERY_FILE_FILE, QUERY_SPEC_FILE, RUN_SCHEMA_FILE, bundled_schemas_dir
from runner.validate import schemas
from runner.validate.fastcheck import MAX_NODES, fast_checker, is_plain

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = {name: json.loads((bundled_schemas_dir() / name).read_text())
           for name in (QUERY_FILE_FILE, QUERY_SPEC_FILE, CREATE_BODY_FILE, "project.schema.json",
                        "exceptions.schema.json")}


@functools.cache
def _corpus() -> list[Any]:
    """Read when a test first needs it, not at import: every worker imports this module to collect it, and reading
    the ~380 files with the pure-Python parser took each of them about 2.5 s."""
    yaml = YAML(typ="safe", pure=True)
    documents = []
    for file in sorted([*(ROOT / "queries").rglob("*.yaml"), *(ROOT / "tests" / "cases").rglob("*.yaml")]):
        try:
            loaded = yaml.load(file.read_text(encoding="utf-8"))
        except Exception:  # a case of broken YAML: not an instance
            continue
        if isinstance(loaded, dict):
            documents.append(loaded)
    return documents


@functools.cache
def _instances() -> list[Any]:
    return [*_corpus(), *(doc["spec"] for doc in _corpus() if isinstance(doc.get("spec"), dict))]


TRICKY = st.one_of(
    st.sampled_from(["\ufeff{{ x }}", "{{ x }}\n", "12\n", "-7", "7 ", "\x1c{{ x }}\x1c", "{{ a\nb }}", "", "\u2028",
                     "OAA.App.User", "OAA.x", "1h30m", "1.5s", "embedded", "https://a b", "\ud800", "a\x00b",
                     "AwsIamUser", "ALL", "true", "null", "0", "1e400"]),
    st.sampled_from([0, 1, -1, 1.0, 0.5, True, False, None, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 10 ** 30,
                     float("nan"), float("inf"), (), ("a",), b"x"]),
    st.integers(), st.floats(), st.text(max_size=8),
    st.lists(st.sampled_from(["a", 1, True, None]), max_size=3),
    st.dictionaries(st.sampled_from(["name", "type", "value", "operator", "key", "x"]),
                    st.sampled_from(["a", 1, True, None, []]), max_size=2),
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*at, index))
    return found


def _replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {**node, head: _replaced(node[head], rest, value)}
    copy = list(node)
    copy[head] = _replaced(node[head], rest, value)
    return copy


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    instance = draw(st.sampled_from(_instances()))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(instance)))
        instance = _replaced(instance, path, draw(TRICKY))
    return instance


@pytest.mark.parametrize("name", sorted(SCHEMAS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance=_mutated())
def test_a_fast_yes_is_never_a_jsonschema_no(name: str, instance: Any) -> None:
    surely_valid = _checker(name)
    if surely_valid(instance):
        assert [e.message for e in _VALIDATORS[name].iter_errors(instance)] == []


RUN_SCHEMA = json.loads((bundled_schemas_dir() / RUN_SCHEMA_FILE).read_text())
RUNS = [json.loads(path.read_text()) for path in sorted((ROOT / "tests" / "golden").glob("*/run.json"))]
_RUN_VALIDATOR = Draft202012Validator(RUN_SCHEMA)
_RUN_CHECKER = fast_checker(RUN_SCHEMA, max_nodes=None)


@st.composite
def _mutated_run(draw: st.DrawFn) -> Any:
    run = draw(st.sampled_from(RUNS))
    for _ in range(draw(st.integers(0, 3))):
        run = _replaced(run, draw(st.sampled_from(_paths(run))), draw(TRICKY))
    return run


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=_mutated_run())
def test_a_fast_yes_on_a_run_json_is_never_a_jsonschema_no(run: Any) -> None:
    assert _RUN_CHECKER is not None
    if _RUN_CHECKER(run):
        assert [e.message for e in _RUN_VALIDATOR.iter_errors(run)] == []


def test_it_says_yes_to_the_golden_runs() -> None:
    assert RUNS and _RUN_CHECKER is not None and all(_RUN_CHECKER(run) for run in RUNS)


_CHECKERS: dict[str, Callable[[object], bool] | None] = {}
_VALIDATORS = {name: Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


def _checker(name: str) -> Callable[[object], bool]:
    """Compiled once per schema, as a process does (`load_schema_set` caches it)."""
    if name not in _CHECKERS:
        _CHECKERS[name] = fast_checker(SCHEMAS[name])
    checker = _CHECKERS[name]
    assert checker is not None, f"{name} has a fast checker"
    return checker


def test_it_says_yes_to_the_repositorys_valid_query_files() -> None:
    surely_valid, validator = _checker(QUERY_FILE_FILE), Draft202012Validator(SCHEMAS[QUERY_FILE_FILE])
    valid = [doc for doc in _corpus() if is_plain(doc) and not list(validator.iter_errors(doc))]
    assert len(valid) >= 20
    assert all(surely_valid(doc) for doc in valid)


@pytest.mark.parametrize("text", ["\ufeff{{ x }}", "\ufeff\ufeff{{ x }}"])
def test_patterns_are_pythons(text: str) -> None:
    """Rust's own `\\s` matches U+FEFF and Python's does not: the fast checker must refuse what jsonschema refuses."""
    schema = {"properties": {"v": {"pattern": r"^\s*\{\{.*\}\}\s*$"}}}
    assert list(Draft202012Validator(schema).iter_errors({"v": text}))
    surely_valid = fast_checker(schema)
    assert surely_valid is not None and not surely_valid({"v": text}) and surely_valid({"v": " {{ x }} "})


def test_a_property_named_pattern_is_a_property() -> None:
    surely_valid = fast_checker({"properties": {"pattern": {"type": "string"}}, "required": ["pattern"]})
    assert surely_valid is not None and surely_valid({"pattern": "x"}) and not surely_valid({"pattern": 1})


def test_a_schema_of_another_draft_gets_no_fast_checker() -> None:
    # jsonschema picks the draft's rules by `$schema`; the fast checker knows 2020-12's only
    assert fast_checker({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}) is None
    assert fast_checker({"type": "object"}) is not None


def test_pattern_properties_get_no_fast_checker() -> None:
    assert fast_checker({"patternProperties": {"^x": {"type": "string"}}}) is None


@pytest.mark.parametrize("value", [(1,), b"x", float("nan"), float("-inf"), 2 ** 64, {1: "a"}, "\udc80", {"a": [()]}])
def test_values_that_are_not_plain_json_are_jsonschemas(value: object) -> None:
    assert not is_plain(value)
    assert not _checker(QUERY_SPEC_FILE)({"x": value})


def test_a_document_of_shared_subtrees_is_jsonschemas() -> None:
    """A "billion laughs" of aliases: one small object for jsonschema, billions of copies for jsonschema-rs."""
    laughs: Any = ["lol"] * 10
    for _ in range(9):
        laughs = [laughs] * 10
    assert not is_plain({"vars": laughs})
    assert is_plain([["lol"] * 10] * (MAX_NODES // 12))


def test_a_value_parsed_from_text_is_checked_whatever_its_size() -> None:
    # run.json is parsed from JSON text, which shares no subtree: its size alone bounds the work
    large = [["lol"] * 10] * MAX_NODES
    assert not is_plain(large)
    assert is_plain(large, max_nodes=None)


def test_plain_json_is_plain() -> None:
    assert is_plain({"a": [1, 1.5, True, None, "é", 2 ** 63 - 1, -(2 ** 63)], "b": {}})


def test_a_projects_own_schema_is_checked_by_jsonschema_alone(tmp_path: Path) -> None:
    own = tmp_path / "schemas"
    shutil.copytree(bundled_schemas_dir(), own, ignore=shutil.ignore_patterns("openapi", "src", "draft-07"))
    (own / QUERY_SPEC_FILE).write_text((own / QUERY_SPEC_FILE).read_text() + "\n")  # not the bundled bytes
    loaded = schemas.load_schema_set(own)
    assert loaded.query_file.fast is not None  # the bundled copy keeps its fast yes
    assert loaded.query_spec.fast is None
