"""The query-file text: names made file-name safe; every JSON value written so that the hardened loader reads it
back and the template renderer renders it back to exactly what Veza wrote (a property over hostile strings)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from runner.importer.emit import MAX_NAME, escape_template, query_file_text, slug
from runner.load import load_yaml
from runner.model import JSONValue, Severity
from runner.template import Renderer


@pytest.mark.parametrize(("text", "expected"), [
    ("GitHub Users with AzureAD Identity", "github-users-with-azuread-identity"),
    ("Okta users with S3 access (deactivated)", "okta-users-with-s3-access-deactivated"),
    ("../../etc/passwd", "etc-passwd"),
    ("{{ lookup('x') }}", "lookup-x"),
    ("Zugriff für Benutzer", "zugriff-f-r-benutzer"),
    ("---", "query"),
    ("", "query"),
    ("a" * 200, "a" * MAX_NAME),
])
def test_slug_makes_a_file_name_safe_name(text: str, expected: str) -> None:
    assert slug(text) == expected
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug(text))


def test_a_string_with_template_delimiters_becomes_a_string_literal_expression() -> None:
    assert escape_template("a {{ b }} {% c %}") == "{{ 'a {{ b }} {% c %}' }}"
    assert escape_template("{# it's \\ \r\n") == "{{ '{# it\\'s \\\\ \\x0d\\x0a' }}"
    assert escape_template("no templates: } { } \n") == "no templates: } { } \n"


_PIECES = st.one_of(
    st.sampled_from(["{{", "{%", "{#", "}}", "%}", "#}", "{{ 7 }}", "{# c #}", ": ", " #", "'", '"', "\\", "\n",
                     "\t", "-", "?", "*", "&", "!", "|", ">", "@", "`", "yes", "no", "null", "~", "0x1F", "1e3",
                     "2024-01-31", ".inf", "\u2028", "\u202e", "\x7f", "\x85", "\ufeff", " ", "a", "B", ":", "s3:Put"]),
    st.characters(exclude_categories=["Cs"]),
)
_HOSTILE = st.lists(_PIECES, max_size=8).map("".join)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                     st.floats(allow_nan=False, allow_infinity=False), _HOSTILE)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), inner,
                                                 max_size=4)), max_leaves=20)


@example(description="d", value=["s3:PutBucketAcl"])  # a colon in a flow list: Veza's docs sample has one
@given(description=_HOSTILE, value=_VALUES)
def test_any_value_reads_and_renders_back_to_itself(description: str, value: JSONValue) -> None:
    fields: dict[str, JSONValue] = {"name": "q", "description": description, "spec": {"value": value}}
    text = query_file_text(fields, schema_path="../schemas/query-file.schema.json", shape="spec")
    doc, findings = load_yaml(text.encode(), path="q.yaml")
    assert doc is not None, findings
    assert not [f for f in findings if f.severity is Severity.ERROR], findings
    rendered, problems = Renderer().render(doc.data, variables={}, doc=doc, base=())
    assert not problems
    assert rendered == fields


def test_the_text_opens_with_the_modeline_and_never_names_its_source() -> None:
    text = query_file_text({"name": "q", "spec": {}}, schema_path="../../schemas/query-file.schema.json",
                           shape="report entry")
    assert text.splitlines()[:2] == ["# yaml-language-server: $schema=../../schemas/query-file.schema.json",
                                     "# Imported from a Veza report entry by `vqr import`."]
