"""A template finding on line N of a multi-line value points at that line's text in the file, for every YAML scalar
style (issue 10, point 14: a double-quoted string with `\\n` escapes or a folded `>` scalar reported line 3 at line
5). Real YAML loaded by both parsers; where no exact mapping exists, the finding is at the scalar's start."""

from __future__ import annotations

import pytest

from runner.load.document import Backend, available_backends, load_yaml
from runner.load.events import position_at
from runner.load.lines import line_breaks, line_starts
from runner.model import Document, Finding, Position
from runner.template import Renderer

# Each case: a file whose `v:` value has the undefined name `nope` on template line 3, and the text that line starts
# with in the file ("L3"), which is where the finding must point.
CASES = {
    "plain": "v: a {{ 1 }}\n\n  b\n\n  L3 {{ nope }}\n",
    "plain, in a block sequence": "v:\n  - a {{ 1 }}\n\n    b\n\n    L3 {{ nope }}\n",
    "single-quoted": "v: 'it''s {{ 1 }}\n\n  b''\n\n  L3 {{ nope }}'\n",
    "double-quoted, escapes on one line": 'v: "a {{ 1 }}\\n\\tb\\x41\\u00e9\\n  L3 {{ nope }}"\n',
    "double-quoted, escaped line break": 'v: "a\\n\\\n  b \\\n  c\\n  L3 {{ nope }}"\n',
    "double-quoted, folded lines": 'v: "a {{ 1 }}\n\n  b   \n  c\n\n  L3 {{ nope }}"\n',
    "double-quoted, two empty lines": 'v: "a {{ 1 }}\n\n\n  L3 {{ nope }}"\n',
    "literal": "v: |\n  a {{ 1 }}\n  b\n  L3 {{ nope }}\n",
    "literal, indentation indicator, keep": "v: |2+ # note\n   a\n\n  L3 {{ nope }}\n\n",
    "literal, CRLF": "v: |-\r\n  a\r\n  b\r\n  L3 {{ nope }}\r\n",
    "folded": "v: >\n  a {{ 1 }}\n  still line one\n\n  b\n\n  L3 {{ nope }}\n",
    "folded, more indented": "v: >-\n  a\n    more\n  L3 {{ nope }}\n",
    "nested, after non-ASCII": "é: {k: [x, \"ü\\n\\nL3 {{ nope }}\"]}\nv: 1\n",
}


@pytest.mark.parametrize("backend", available_backends(), ids=lambda b: b.value)
@pytest.mark.parametrize("name", list(CASES))
def test_a_finding_on_template_line_three_is_at_that_line_of_the_file(name: str, backend: Backend) -> None:
    text = CASES[name]
    doc, problems = load_yaml(text.encode(), path="q.yaml", backend=backend)
    assert doc is not None and not problems
    _, findings = Renderer().render(doc.data, variables={}, doc=doc, base=())
    [finding] = findings
    assert finding.rule == "template/undefined" and finding.message.endswith("(template line 3)")
    want = position_at(text, text.index("L3"))
    assert (finding.line, finding.column) == (want.line, want.column), name


def test_line_one_and_blank_lines_of_a_block_scalar() -> None:
    text = "v: |\n  {{ 1 }}\n\n  x\n"
    doc, _ = load_yaml(text.encode(), path="q.yaml")
    assert doc is not None
    assert doc.lines[("v",)] == (Position(line=2, column=3), Position(line=4, column=3), Position(line=4, column=3),
                                 Position(line=1, column=4))  # a blank line: the next; the last: the scalar


def test_without_an_exact_mapping_the_finding_is_at_the_scalar_start() -> None:
    text = 'v: "a\\n\\nL3 {{ nope }}"\n'
    assert line_starts(text, 3, '"', "something else", line_breaks(text)) is None  # decoded text differs
    assert line_starts(text, 3, "|", "L3 {{ other }}", line_breaks(text)) is None  # characters do not match
    loaded, _ = load_yaml(text.encode(), path="q.yaml")
    assert loaded is not None
    # As a lint-cache document is: no line map. The start of the value, never a line computed past it.
    doc = Document(path=loaded.path, data=loaded.data, values=loaded.values, keys=loaded.keys)
    [finding] = Renderer().render(doc.data, variables={}, doc=doc, base=())[1]
    assert isinstance(finding, Finding) and (finding.line, finding.column) == (1, 4)
    assert finding.message.endswith("(template line 3)")


def test_single_line_values_are_not_mapped() -> None:
    doc, _ = load_yaml(b'a: "{{ x }}"\nb: |\n  no template\n  here\n', path="q.yaml")
    assert doc is not None and doc.lines == {}


# Issue 10: YAML folds these into one template line spanning several lines of the file (a break becomes a space, or
# a `\` continuation joins the lines), so the line's start is the wrong place: the finding is at the `{{` of the
# failing expression, found by character offset. Each case: the file, and the (line, column) of that `{{`.
FOLDED = {
    "plain, folded": ("description: plain first\n  second\n  {{ nope }}\n", (3, 3)),
    "double-quoted, folded": ('owner: "a\n  {{ 1 }} b {{ nope }}"\n', (2, 13)),
    "single-quoted, folded": ("v: 'it''s\n   {{ nope }}'\n", (2, 4)),
    "double-quoted, escaped line break": ('tags:\n  - "a\\\n    {{ nope }}"\n', (3, 5)),
    "folded, then a kept line break": ('v: "a {{ 1 }}\n  {{ nope }}\n\n  b"\n', (2, 3)),
    "folded block scalar": ("v: >-\n  a\n    more\n  L3 b\n  c {{ nope }}\n", (5, 5)),
    "an attribute, at run time": ("v: a\n  {{ x }} {{ x.nope }}\n", (2, 11)),
}


@pytest.mark.parametrize("backend", available_backends(), ids=lambda b: b.value)
@pytest.mark.parametrize("name", list(FOLDED))
def test_a_finding_in_a_folded_line_is_at_the_failing_expression(name: str, backend: Backend) -> None:
    text, want = FOLDED[name]
    doc, problems = load_yaml(text.encode(), path="q.yaml", backend=backend)
    assert doc is not None and not problems
    _, findings = Renderer().render(doc.data, variables={"x": {}}, doc=doc, base=())
    [finding] = findings
    assert finding.rule == "template/undefined" and "nope" in finding.message
    assert (finding.line, finding.column) == want, name


@pytest.mark.parametrize("backend", available_backends(), ids=lambda b: b.value)
def test_a_folded_line_whose_failing_expression_is_unknown_is_at_the_scalar_start(backend: Backend) -> None:
    text = 'k: 1\nv: "a {{ 1 }}\n  {{ x + 1 }}"\n'  # a TypeError: no name to look for, two expressions on the line
    doc, _ = load_yaml(text.encode(), path="q.yaml", backend=backend)
    assert doc is not None
    [finding] = Renderer().render(doc.data, variables={"x": "s"}, doc=doc, base=())[1]
    assert finding.rule == "template/error" and (finding.line, finding.column) == (2, 4)
