"""The lint cache (runner/lintcache.py): a cached compile equals an uncached one, every key part invalidates, and a
corrupt, forged or unwritable cache is a miss, never an error. Real files in a temp project, the real pipeline."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.compile.codec import FileResult
from runner.compile.lintcache import CACHE_DIR, LintCache
from runner.compile.repository import RepositoryCompiler, compile_repository, discover_query_files
from runner.load.document import MAX_BYTES, load_yaml
from runner.model.values import Document, Finding, JSONObject, Position, QueryUnit, Severity
from runner.repopath import read_regular_file
from runner.rules import finish_lint
from runner.settings import Project, load_project, read_env, resolve_variables
from runner.validate.schemas import load_schema_set

MODELINE = "# yaml-language-server: $schema=../schemas/query-file.schema.json\n"
SPEC = """\
spec:
  query_type: SOURCE_TO_DESTINATION
  source_node_types:
    nodes:
      - node_type: {node_type}
        condition_expression: {condition}
  relates_to_exp:
    specs: [{{node_types: {{nodes: [{{node_type: S3Bucket}}]}}, effective_permissions: {{values: [DATA_WRITE]}}}}]
  node_relationship_type: EFFECTIVE_ACCESS
  result_value_type: SOURCE_NODES_WITH_COUNTS
"""


def _query(name: str, *, node_type: str = "OktaUser", condition: str = '"{{ fragments.active }}"',
           extra: str = "") -> str:
    return (MODELINE + extra + f"name: {name}\nowner: identity-team\ncache: {{mode: immediate}}\n"
            + SPEC.format(node_type=node_type, condition=condition))


FILES = {
    "vqr.yaml": "queries: queries/\nvars: {lookback_days: 90}\n",
    "queries/_fragments/active.yaml": "specs: [{fn: EQ, property: status, value: ACTIVE}]\n",
    "queries/a.yaml": _query("users-a"),
    "queries/b.yaml": _query("users-a"),  # a duplicate name: found only by the cross-file rule
    "queries/typo.yaml": _query("users-typo", node_type="OktaUsr"),  # a warning with a did-you-mean
    "queries/quiet.yaml": _query("users-quiet", node_type="OktaUsr", extra="# vqr: disable=spec/unknown-node-type\n"),
    "queries/matrix.yaml": _query("users-{{ kind }}", node_type='"{{ kind }}"',
                                  extra="matrix: {kind: [OktaUser, AzureADUser]}\n"),
    "queries/undefined.yaml": _query("users-undefined", condition='"{{ no_such_variable }}"'),
    "queries/dupkey.yaml": MODELINE + "name: x\nname: y\n",
    "queries/schema.yaml": MODELINE + "name: users-schema\nspek: {}\n",
}


@pytest.fixture(autouse=True)
def _signing_key(tmp_path_factory: pytest.TempPathFactory) -> None:
    KEY["file"] = tmp_path_factory.mktemp("key") / "lint-cache.key"


KEY: dict[str, Path | None] = {"file": None}  # this test's signing key file (what ProcessEnv would name)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@dataclass(frozen=True, kw_only=True)
class Outcome:
    findings: list[Finding]
    units: list[QueryUnit]
    hits: int
    misses: int


def _setup(root: Path, cli_vars: tuple[str, ...]) -> tuple[Project, JSONObject]:
    project = load_project(root / "vqr.yaml")
    return project, resolve_variables(project, project.environment(None), cli_vars=cli_vars)


def cached_compile(root: Path, *, cli_vars: tuple[str, ...] = (), only: tuple[str, ...] = (),
                   clock: Callable[[], float] = time.time) -> Outcome:
    """What `compile_repository` does with the cache wired in (the patch in the report): per-file results from the
    cache, cross-file rules always rerun over every unit."""
    project, variables = _setup(root, cli_vars)
    compiler = RepositoryCompiler(project, load_schema_set(project.schemas_dir), variables)
    cache = LintCache.open(root=project.root, project_file=project.file, schemas_dir=project.schemas_dir,
                           variables=compiler.variables, fragments=compiler.fragments, key_file=KEY["file"],
                           clock=clock)
    assert cache is not None
    units: list[QueryUnit] = []
    for file in discover_query_files(project, [root / name for name in only]):
        display = project.display(file)
        data = read_regular_file(file, MAX_BYTES, root=None)
        assert isinstance(data, bytes)
        hit = cache.get(display, data)
        if hit is not None:
            compiler.findings += hit.findings
            if hit.disabled_rules is not None:
                compiler.disabled[display] = hit.disabled_rules
            units += hit.units
            continue
        start = len(compiler.findings)
        got = compiler.compile_file(file)
        cache.put(display, data, FileResult(units=tuple(got), findings=tuple(compiler.findings[start:]),
                                            disabled_rules=compiler.disabled.get(display)))
        units += got
    cache.finish()
    found = finish_lint(compiler.findings, units, compiler.rules, doc_disabled=compiler.disabled)
    return Outcome(findings=found, units=units, hits=cache.hits, misses=cache.misses)


def uncached_compile(root: Path, *, cli_vars: tuple[str, ...] = ()) -> Outcome:
    project, variables = _setup(root, cli_vars)
    compiled = compile_repository(project, load_schema_set(project.schemas_dir), variables,
                                  files=discover_query_files(project))
    return Outcome(findings=list(compiled.findings), units=list(compiled.units), hits=0, misses=0)


def assert_same(cached: Outcome, uncached: Outcome) -> None:
    assert cached.findings == uncached.findings
    assert len(cached.units) == len(uncached.units)
    for got, want in zip(cached.units, uncached.units, strict=True):
        assert (got.name, dict(got.matrix), got.body) == (want.name, dict(want.matrix), want.body)
        assert (got.doc.path, got.doc.data, got.doc.disabled_rules) == (want.doc.path, want.doc.data,
                                                                         want.doc.disabled_rules)
        assert dict(got.doc.values) == dict(want.doc.values)
        assert dict(got.doc.keys) == dict(want.doc.keys)


def test_a_warm_compile_equals_the_uncached_one(root: Path) -> None:
    uncached = uncached_compile(root)
    rules = {f.rule for f in uncached.findings}
    # The fixture exercises the interesting paths: cross-file, matrix, templates, loader and schema errors.
    assert {"query/duplicate-name", "spec/unknown-node-type", "template/undefined", "yaml/duplicate-key"} <= rules
    assert "users-quiet" in {u.name for u in uncached.units}
    assert not [f for f in uncached.findings if f.path == "queries/quiet.yaml"]
    first = cached_compile(root)
    assert (first.hits, first.misses) == (0, 8)
    assert_same(first, uncached)
    second = cached_compile(root)
    assert (second.hits, second.misses) == (8, 0)
    assert_same(second, uncached)
    # Units of one file share one Document, as the matrix-name rule relies on.
    matrix_units = [u for u in second.units if u.doc.path == "queries/matrix.yaml"]
    assert len(matrix_units) == 2 and matrix_units[0].doc is matrix_units[1].doc


def test_a_partly_invalid_file_is_cached_with_its_rules_and_its_skip_note(root: Path) -> None:
    # One pass: the schema error, the node-type rule beside it and the note for the timeout rule it skipped.
    (root / "queries" / "partial.yaml").write_text(
        _query("users-partial", node_type="OktaUsr", extra="timeout: [1]\n"), encoding="utf-8")
    uncached = uncached_compile(root)
    partial = sorted(f.rule for f in uncached.findings if f.path == "queries/partial.yaml")
    assert partial == ["lint/skipped-checks", "query/type", "spec/unknown-node-type"]
    assert "users-partial" not in {u.name for u in uncached.units}  # an error: linted, never planned
    first = cached_compile(root)
    assert_same(first, uncached)
    second = cached_compile(root)
    assert (second.hits, second.misses) == (first.misses, 0)
    assert_same(second, uncached)


def test_cross_file_rules_are_recomputed_when_another_file_changes(root: Path) -> None:
    cached_compile(root)
    (root / "queries/b.yaml").write_text(_query("users-b"), encoding="utf-8")
    warm = cached_compile(root)
    assert (warm.hits, warm.misses) == (7, 1)
    assert "query/duplicate-name" not in {f.rule for f in warm.findings}
    assert_same(warm, uncached_compile(root))


@pytest.mark.parametrize("change", ["fragment", "cli-var", "project-file", "modeline-only"])
def test_every_input_of_a_file_result_is_part_of_its_key(root: Path, change: str) -> None:
    cached_compile(root)
    cli_vars: tuple[str, ...] = ()
    if change == "fragment":
        (root / "queries/_fragments/active.yaml").write_text("specs: [{fn: EQ, property: is_active, value: true}]\n")
    elif change == "cli-var":
        cli_vars = ("lookback_days=30",)
    elif change == "project-file":
        (root / "vqr.yaml").write_text(FILES["vqr.yaml"] + "node_types: [OktaUsr]\n", encoding="utf-8")
    else:
        (root / "queries/a.yaml").write_text(FILES["queries/a.yaml"] + "# trailing comment\n", encoding="utf-8")
    warm = cached_compile(root, cli_vars=cli_vars)
    assert warm.misses == (1 if change == "modeline-only" else 8)
    assert_same(warm, uncached_compile(root, cli_vars=cli_vars))


def test_schema_content_is_part_of_the_context(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    schemas = tmp_path_factory.mktemp("schemas")
    (schemas / "query-file.schema.json").write_text("{}", encoding="utf-8")

    def open_cache() -> LintCache | None:
        return LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=schemas, variables={},
                              fragments={}, key_file=KEY["file"])

    first = open_cache()
    (schemas / "query-file.schema.json").write_text('{"type": "object"}', encoding="utf-8")
    second = open_cache()
    assert first is not None and second is not None and first.context != second.context


def _packs(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR).glob("*.pack"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "flip-a-byte", "empty", "bad-entry-line", "directory"])
def test_a_corrupt_pack_is_a_miss_and_is_rewritten(root: Path, damage: str) -> None:
    cached_compile(root)
    [pack] = _packs(root)
    raw = pack.read_bytes()
    if damage == "truncate":
        pack.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        pack.write_bytes(os.urandom(len(raw)))
    elif damage == "flip-a-byte":
        pack.write_bytes(raw[:-5] + bytes([raw[-5] ^ 1]) + raw[-4:])
    elif damage == "empty":
        pack.write_bytes(b"")
    elif damage == "bad-entry-line":
        pack.write_bytes(raw + b"\nnot an entry")
    else:
        pack.unlink()
        pack.mkdir()
    warm = cached_compile(root)
    assert warm.hits == 0
    assert_same(warm, uncached_compile(root))
    if damage != "directory":  # a directory in the way cannot be replaced by a rename; it stays a miss
        assert cached_compile(root).hits == 8


def test_a_pack_signed_with_another_key_is_ignored(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A pull request that commits `.vqr/lint-cache/` cannot make its own files lint clean."""
    (root / "queries/typo.yaml").unlink()
    cached_compile(root)
    assert _packs(root)  # the pack exists: below it is refused, not missing
    (root / "queries/typo.yaml").write_text(FILES["queries/typo.yaml"], encoding="utf-8")
    KEY["file"] = tmp_path_factory.mktemp("other-key") / "k"
    warm = cached_compile(root)  # same content, same entry keys, another signing key: nothing may be trusted
    assert warm.hits == 0
    assert "spec/unknown-node-type" in {f.rule for f in warm.findings}


def test_an_unchanged_run_writes_nothing_and_a_subset_run_keeps_the_rest(root: Path) -> None:
    cached_compile(root)
    [pack] = _packs(root)
    before = pack.stat().st_mtime_ns
    assert cached_compile(root).hits == 8
    assert pack.stat().st_mtime_ns == before
    (root / "queries/a.yaml").write_text(_query("users-a", node_type="AzureADUser"), encoding="utf-8")
    subset = cached_compile(root, only=("queries/a.yaml",))  # what pre-commit does: only the changed files
    assert (subset.hits, subset.misses) == (0, 1)
    assert cached_compile(root).hits == 8  # the other seven survived the subset run's write


def test_disabled_by_environment(root: Path) -> None:
    KEY["file"] = read_env({"VQR_NO_LINT_CACHE": "1"}).lint_cache_key_file
    assert KEY["file"] is None
    assert LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=root, variables={},
                          fragments={}, key_file=KEY["file"]) is None


def test_a_symlinked_cache_directory_is_not_used(root: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (root / ".vqr").symlink_to(elsewhere, target_is_directory=True)
    assert LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=root, variables={},
                          fragments={}, key_file=KEY["file"]) is None


def test_an_unwritable_cache_never_fails_the_lint(root: Path) -> None:
    (root / ".vqr").write_text("not a directory", encoding="utf-8")  # mkdir of .vqr/lint-cache fails
    assert_same(cached_compile(root), uncached_compile(root))
    assert cached_compile(root).hits == 0


def test_unreadable_signing_key_location_disables_the_cache(root: Path) -> None:
    blocker = root / "blocker"
    blocker.write_text("x", encoding="utf-8")
    KEY["file"] = blocker / "key"  # a path below a regular file cannot exist
    assert LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=root, variables={},
                          fragments={}, key_file=KEY["file"]) is None


def test_prune_drops_old_unused_entries_and_old_packs(root: Path) -> None:
    month_ago = time.time() - 30 * 24 * 3600
    cached_compile(root, clock=lambda: month_ago)  # every entry last used a month ago
    other_old = root / CACHE_DIR / ("0" * 40 + ".pack")
    other_old.write_bytes(b"another context's pack")
    os.utime(other_old, (month_ago, month_ago))
    other_recent = root / CACHE_DIR / ("1" * 40 + ".pack")
    other_recent.write_bytes(b"another context's pack, still in use")
    (root / "queries/b.yaml").write_text(_query("users-b"), encoding="utf-8")
    warm = cached_compile(root)  # seven old entries are used (so refreshed), b.yaml's old entry is not
    assert warm.hits == 7
    assert not other_old.exists() and other_recent.exists()
    [pack] = [p for p in _packs(root) if p != other_recent]
    assert len(pack.read_bytes().splitlines()) == 2 + 8  # signature, header, 7 refreshed + the new b.yaml
    (root / "queries/b.yaml").write_text(FILES["queries/b.yaml"], encoding="utf-8")
    assert cached_compile(root).misses == 1  # the dropped entry is really gone


def test_positions_out_of_document_order_round_trip(root: Path) -> None:
    doc, found = load_yaml(b"name: n\nspec: {a: [1, 2]}\n", path="queries/x.yaml")
    assert doc is not None and not found
    shuffled = Document(path=doc.path, data=doc.data, values=dict(reversed(list(doc.values.items()))),
                        keys=dict(doc.keys), disabled_rules=frozenset({"cache/*"}))
    unit = QueryUnit(doc=shuffled, name="n", matrix={}, body={"name": "n"})
    finding = Finding(path="queries/x.yaml", line=2, column=7, severity=Severity.WARNING, rule="r/x", message="m")
    cache = LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=root, variables={},
                           fragments={}, key_file=KEY["file"])
    assert cache is not None
    cache.put("queries/x.yaml", b"bytes", FileResult(units=(unit,), findings=(finding,), disabled_rules=None))
    cache.finish()
    cache = LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=root, variables={},
                           fragments={}, key_file=KEY["file"])
    assert cache is not None
    hit = cache.get("queries/x.yaml", b"bytes")
    assert hit is not None and hit.findings == (finding,) and hit.disabled_rules is None
    assert dict(hit.units[0].doc.values) == dict(doc.values)
    assert hit.units[0].doc.position(("spec", "a", 1)) == Position(line=2, column=15)
    assert hit.units[0].doc.disabled_rules == frozenset({"cache/*"})
    assert cache.get("queries/y.yaml", b"bytes") is None  # the display path is part of the key


def test_the_pack_is_signed_json_lines(root: Path) -> None:
    cached_compile(root)
    [pack] = _packs(root)
    mac, header, *lines = pack.read_bytes().splitlines()
    assert len(mac) == 64 and json.loads(header)["format"] == 1 and len(lines) == 8
    payloads = [json.loads(line.split(b" ", 2)[2]) for line in lines]
    # The loader's positions follow document order, so they are stored as bare numbers, without their paths.
    docs = [doc for payload in payloads for doc in payload["docs"]]
    assert docs and all(isinstance(n, int) for doc in docs for n in doc["values"] + doc["keys"])


def test_a_truncated_signing_key_is_replaced_once_it_is_stale(root: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "short.key"
    KEY["file"] = key_file
    key_file.write_bytes(b"short")

    def open_cache() -> LintCache | None:
        return LintCache.open(root=root, project_file=root / "vqr.yaml", schemas_dir=root, variables={},
                              fragments={}, key_file=KEY["file"])

    assert open_cache() is None  # maybe still being written by a concurrent first run
    os.utime(key_file, (time.time() - 60, time.time() - 60))
    assert open_cache() is not None
    assert len(key_file.read_bytes()) == 32 and key_file.stat().st_mode & 0o777 == 0o600


def test_an_entry_too_large_is_compiled_each_time_not_cached(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A matrix file of 160 KB once made a 102 MB entry that every later lint paid 10 s to load (issue 10)."""
    from runner.compile import lintcache
    monkeypatch.setattr(lintcache, "MAX_ENTRY_BYTES", 64)  # smaller than any real entry
    first = cached_compile(root)
    second = cached_compile(root)
    assert first.misses > 0 and second.hits == 0 and second.misses == first.misses
    assert_same(second, uncached_compile(root))


def test_the_pack_keeps_its_most_recent_entries_within_its_cap(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.compile import lintcache
    full = cached_compile(root)
    pack = next((root / CACHE_DIR).glob("*.pack"))
    assert full.misses >= 2 and cached_compile(root).hits == full.misses
    largest_entry = max(len(line) for line in pack.read_bytes().splitlines()[2:])
    pack.unlink()
    monkeypatch.setattr(lintcache, "MAX_PACK_BYTES", largest_entry + 64)  # room for one entry, not all
    cached_compile(root)
    assert pack.stat().st_size <= largest_entry + 64 + lintcache.PACK_SLACK
    assert 0 < cached_compile(root).hits < full.misses  # the most recent entries only
    monkeypatch.setattr(lintcache, "MAX_PACK_BYTES", 16)  # a pack larger than the cap on disk is not even read
    monkeypatch.setattr(lintcache, "PACK_SLACK", 0)
    assert cached_compile(root).hits == 0
