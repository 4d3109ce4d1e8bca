"""The selector algebra with `state:` terms (several `--select` a union, comma-joined terms an intersection,
`--exclude` dropping; a removed query picked only by a group naming `state:removed`) as a table of cases and as a
property against a set-algebra reference written here; and `body_hash`: which differences count as a change."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.errors import UsageError
from runner.model.impact import Change
from runner.model.query import Context, IfAvailable, Immediate, Query
from runner.model.values import JSONObject
from runner.plan.select import body_hash, create_body, parse_selectors, select_queries


def query(name: str, file: str = "queries/a.yaml", *, tags: tuple[str, ...] = (), owner: str | None = None) -> Query:
    return Query(name=name, file=file, spec={}, cache=IfAvailable(), tags=tags, owner=owner)


QUERIES = [
    query("okta-a", "queries/okta/a.yaml", tags=("okta", "nightly"), owner="iam"),
    query("okta-b", "queries/okta/b.yaml", tags=("okta",), owner="cloud"),
    query("aws-c", "queries/aws/c.yaml", tags=("aws", "nightly"), owner="cloud"),
    query("aws-d", "queries/aws/d.yaml", tags=("aws",), owner="iam"),  # removed: only the base has it
    query("gone-e", "queries/okta/e.yaml", tags=("okta", "nightly"), owner="iam"),  # removed
]
STATES = {"okta-a": Change.MODIFIED, "okta-b": Change.NEW, "aws-d": Change.REMOVED, "gone-e": Change.REMOVED}


def chosen(select: Sequence[str] = (), exclude: Sequence[str] = (),
           state: Mapping[str, Change] | None = STATES) -> list[str]:
    return [q.name for q in select_queries(QUERIES, select=select, exclude=exclude, state=state)]


CASES = [
    # (select, exclude, expected names in the queries' order)
    ((), (), ["okta-a", "okta-b", "aws-c"]),  # no selector: every query the head has
    (("tag:nightly",), (), ["okta-a", "aws-c"]),  # gone-e is nightly, but removed
    (("tag:okta", "tag:aws"), (), ["okta-a", "okta-b", "aws-c"]),  # union
    (("tag:okta,owner:iam",), (), ["okta-a"]),  # intersection
    (("tag:okta,owner:iam", "tag:aws,owner:cloud"), (), ["okta-a", "aws-c"]),  # union of intersections
    (("tag:okta, owner:cloud",), (), ["okta-b"]),  # a space after the comma
    (("*",), ("tag:okta,owner:iam",), ["okta-b", "aws-c"]),  # an exclude drops its intersection only
    (("*",), ("tag:okta", "owner:cloud"), []),  # excludes are a union too
    (("state:modified",), (), ["okta-a"]),
    (("state:new",), (), ["okta-b"]),
    (("state:unchanged",), (), ["aws-c"]),  # a name the state lacks is unchanged
    (("state:modified", "state:new"), (), ["okta-a", "okta-b"]),
    (("state:modified,state:new",), (), []),  # a query has one state
    (("state:removed",), (), ["aws-d", "gone-e"]),
    (("state:removed,tag:aws",), (), ["aws-d"]),
    (("state:removed", "tag:aws"), (), ["aws-c", "aws-d", "gone-e"]),
    (("tag:aws",), (), ["aws-c"]),  # a group without state:removed never picks a removed query
    (("aws-*",), (), ["aws-c"]),
    (("name:aws-d",), (), []),
    (("state:removed",), ("tag:nightly",), ["aws-d"]),  # a matching --exclude drops a removed query
    (("state:removed",), ("owner:iam,tag:aws",), ["gone-e"]),
    (("state:removed",), ("state:removed",), []),
    (("path:queries/okta",), (), ["okta-a", "okta-b"]),
    (("path:queries/okta/",), ("state:new",), ["okta-a"]),
    (("path:queries/*/c.yaml",), (), ["aws-c"]),
    (("state:new", "state:unchanged,tag:nightly"), ("owner:iam",), ["okta-b", "aws-c"]),
]


@pytest.mark.parametrize(("select", "exclude", "expected"), CASES)
def test_the_selector_algebra(select: tuple[str, ...], exclude: tuple[str, ...], expected: list[str]) -> None:
    assert chosen(select, exclude) == expected


@pytest.mark.parametrize("selector", ["color:red", "tag:", "state:", "tag:a,", ",tag:a", "tag:a,,owner:b", "",
                                      " ", "state:changed", "state:REMOVED", "State:new", "tag:a,state:gone"])
def test_unknown_kinds_states_and_empty_terms_are_refused(selector: str) -> None:
    for select, exclude in (([selector], []), (["*"], [selector])):
        with pytest.raises(UsageError) as refused:
            chosen(select, exclude)
        assert "\n" not in str(refused.value) and repr(selector) in str(refused.value)


@pytest.mark.parametrize(("select", "exclude"), [(["state:new"], []), (["tag:a,state:removed"], []),
                                                 (["*"], ["state:unchanged"]), ([" state:modified"], [])])
def test_a_state_term_without_a_state_mapping_is_refused(select: list[str], exclude: list[str]) -> None:
    with pytest.raises(UsageError, match="--base REF") as refused:
        chosen(select, exclude, state=None)
    assert "\n" not in str(refused.value)


def test_without_a_state_mapping_every_query_is_selectable() -> None:
    assert chosen(["tag:aws"], state=None) == ["aws-c", "aws-d"]
    assert parse_selectors(["tag:a, owner:b", "x"]) == [("tag:a", "owner:b"), ("x",)]


# The property: a reference that computes, for each term, the set of names it matches, and combines the sets.
NAMES = ["q1", "q2", "q3", "r1", "r2"]
TAGS = ["t1", "t2", "t3"]
OWNERS = ["o1", "o2"]
FILES = ["queries/a/x.yaml", "queries/ab.yaml", "queries/b/y.yaml"]
TERMS = (["q*", "r1", "*", "?2", "name:q*", "name:r2", "tag:t1", "tag:t*", "tag:t2", "owner:o1", "owner:o*",
          "path:queries/a", "path:queries/b/", "path:queries/*.yaml"]
         + [f"state:{change.value}" for change in Change])


def reference(queries: Sequence[Query], states: Mapping[str, Change], select: Sequence[str],
              exclude: Sequence[str]) -> set[str]:
    everyone = {q.name for q in queries}
    removed = {name for name in everyone if states.get(name) is Change.REMOVED}

    def matching(term: str) -> set[str]:
        kind, _, value = term.partition(":") if ":" in term else ("name", "", term)
        found = set()
        for q in queries:
            if kind == "name":
                hit = fnmatch.fnmatchcase(q.name, value)
            elif kind == "tag":
                hit = any(fnmatch.fnmatchcase(tag, value) for tag in q.tags)
            elif kind == "owner":
                hit = fnmatch.fnmatchcase(q.owner or "", value)
            elif kind == "path":
                top = value.rstrip("/")
                hit = q.file == top or q.file.startswith(top + "/") or fnmatch.fnmatchcase(q.file, value)
            else:
                hit = states.get(q.name, Change.UNCHANGED).value == value
            if hit:
                found.add(q.name)
        return found

    def group(terms: str) -> set[str]:
        out = set(everyone)
        for term in terms.split(","):
            out &= matching(term)
        return out

    picked: set[str] = set()
    for terms in select:
        picked |= group(terms) if "state:removed" in terms.split(",") else group(terms) - removed
    if not select:
        picked = everyone - removed
    for terms in exclude:
        picked -= group(terms)
    return picked


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list[Query], dict[str, Change]]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
    queries = [query(name, draw(st.sampled_from(FILES)),
                     tags=tuple(draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=2))),
                     owner=draw(st.sampled_from([None, *OWNERS]))) for name in names]
    states = {name: draw(st.sampled_from(list(Change))) for name in names if draw(st.booleans())}
    return queries, states


selectors = st.lists(st.lists(st.sampled_from(TERMS), min_size=1, max_size=3).map(",".join), max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corpora(), selectors, selectors)
def test_selection_equals_the_set_algebra(corpus: tuple[list[Query], dict[str, Change]], select: list[str],
                                          exclude: list[str]) -> None:
    queries, states = corpus
    picked = select_queries(queries, select=select, exclude=exclude, state=states)
    assert [q.name for q in picked] == [q.name for q in queries if q.name in reference(queries, states, select,
                                                                                         exclude)]


def spec_with(**extra: object) -> JSONObject:
    spec: JSONObject = {"query_type": "SOURCE_TO_DESTINATION", "source_node_types": {"nodes": [{"node_type": "U"}]}}
    spec.update(extra)  # type: ignore[arg-type]
    return spec


def test_body_hash_ignores_key_order_and_how_unset_is_spelled() -> None:
    plain = create_body(spec_with(), IfAvailable(max_staleness="12h"))
    reordered = {"cached_result_if_available": {"max_staleness": "43200s", "request": {"body": {
        "source_node_types": {"nodes": [{"node_type": "U"}]}, "query_type": "SOURCE_TO_DESTINATION"}}}}
    spelled = create_body(spec_with(result_value_type="SOURCE_NODES", node_relationship_type="", relates_to_exp=None,
                                    source_node_types={"nodes": [{"node_type": "U", "condition_expression": None}]},
                                    no_relation=False, tags=[]), IfAvailable(max_staleness="12h"))
    assert body_hash(plain) == body_hash(reordered) == body_hash(spelled)  # type: ignore[arg-type]
    assert body_hash(create_body(spec_with(), Immediate())) == body_hash(create_body(spec_with(tags=[]), Immediate()))


def test_body_hash_sees_the_spec_the_staleness_and_the_cache_mode() -> None:
    spec = spec_with()
    hashes = {body_hash(create_body(spec, IfAvailable(max_staleness="12h"))),
              body_hash(create_body(spec, IfAvailable(max_staleness="24h"))),
              body_hash(create_body(spec, Immediate())),
              body_hash(create_body(spec, Context(cache_id="c-1"))),
              body_hash(create_body(spec, Context(cache_id="c-2"))),
              body_hash(create_body(spec_with(result_value_type="DESTINATION_NODES"), Immediate())),
              body_hash(create_body(spec_with(no_relation=True), Immediate()))}
    assert len(hashes) == 7
    assert body_hash(create_body(spec, IfAvailable(max_staleness="24h"))) == body_hash(
        create_body(spec, IfAvailable(max_staleness="1d")))
