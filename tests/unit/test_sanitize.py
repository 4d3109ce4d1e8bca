"""The output sanitisers, one per channel: for any text, the terminal channel carries no ESC, BEL or C1 control, a
workflow message stays on its command's line, Markdown renders no link, image, mention or HTML, CSV runs no formula,
and the loaded key is redacted at every one of them (issue 10, points 7, 8, 9, 13)."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runner.sanitize import (
    LOG_FILTER,
    csv_cell,
    csv_cells,
    json_text,
    markdown_inline,
    terminal_line,
    terminal_text,
    workflow_data,
    workflow_property,
)
from runner.secret import MIN_REDACTED_LENGTH, SECRET_FILTER, Secret

KEY = "sanitize-unit-key-4f1e9c"
SECRET_FILTER.register(Secret(KEY))  # what load_api_key does for the CLI
ATTACK = "\x1b]0;pwned\x07\x1b[2J\n::error::injected\r\n\x9b31m\u202e"
DANGEROUS = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e", "\r")
# Text mixing the characters that matter: controls, line breaks, markup, colons, the key.
texts = st.lists(st.sampled_from(["\x1b", "\x07", "\x9b", "\x00", "\x7f", "\n", "\r", "\r\n", "\t", "\u2028", ":",
                                  "::", "%", ",", "@", "#", "[", "](", "!", "<", "&", "|", "`", "http://",
                                  "www.", "=", "+", "-", " ", "a", "é", KEY])).map("".join) | st.text()


@given(texts)
def test_the_terminal_line_has_no_control_and_no_line_of_its_own(text: str) -> None:
    out = terminal_line(text)
    assert not any(bad in out for bad in DANGEROUS)
    assert "\n" not in out and "\u2028" not in out
    assert KEY not in out


@given(texts)
def test_terminal_text_keeps_lines_but_none_starts_a_workflow_command(text: str) -> None:
    out = terminal_text(text)
    assert not any(bad in out for bad in DANGEROUS)
    assert not [line for line in out.split("\n") if line.lstrip(" \t").startswith("::")]
    assert KEY not in out


@given(texts, texts)
def test_a_workflow_command_stays_one_command(message: str, path: str) -> None:
    line = f"::error file={workflow_property(path)}::{workflow_data(message)}"
    assert "\n" not in line and "\r" not in line and not any(bad in line for bad in DANGEROUS)
    assert line.count("::") == 2 + workflow_data(message).count("::")  # the property cannot close the command
    assert "," not in workflow_property(path) and ":" not in workflow_property(path)
    assert KEY not in line


def test_workflow_escaping_is_githubs() -> None:
    assert workflow_data("100%\r\n:,") == "100%25%0D%0A:,"
    assert workflow_property("a%b\nc:d,e") == "a%25b%0Ac%3Ad%2Ce"
    assert workflow_data("bell\x07 esc\x1b[2J") == "bell\\x07 esc\\x1b[2J"


@given(texts)
def test_markdown_inline_renders_no_markup(text: str) -> None:
    out = markdown_inline(text)
    assert not any(bad in out for bad in DANGEROUS) and "\n" not in out
    assert "<" not in out and ">" not in out
    assert KEY not in out
    # every metacharacter is escaped: none appears without a backslash before it
    for char in "[]`*_|~!":
        assert out.count(char) == out.count("\\" + char)


def test_markdown_neutralises_links_images_mentions_and_autolinks() -> None:
    out = markdown_inline("[click](https://evil.example) ![x](https://evil/p.png) @octocat #12 www.evil.com <img>")
    assert "\\[click\\](https:\u2060//evil.example)" in out
    assert "\\!\\[x\\]" in out
    assert "@\u2060octocat" in out and "#\u206012" in out and "w\u2060ww.evil.com" in out
    assert "&lt;img&gt;" in out


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_csv_formulas_are_defused(text: str) -> None:
    assert csv_cell(text).startswith("'")
    assert csv_cell("\rx") == "\\x0dx"  # a leading CR is escaped, so no longer read as one


def test_csv_keeps_plain_cells_and_lines_but_escapes_controls() -> None:
    assert csv_cell("alice") == "alice"
    assert csv_cell("two\nlines") == "two\nlines"
    assert csv_cell("a\x1b[2J\n::error::x") == "a\\x1b[2J\n\\x3a:error::x"
    assert csv_cell(f"key {KEY}") == "key ***"


def test_json_text_escapes_what_json_dumps_leaves_raw() -> None:
    import json

    document = json.dumps({"owner": "o\x9b\x1b\u202e"}, ensure_ascii=False)
    out = json_text(document)
    assert not any(bad in out for bad in DANGEROUS)
    assert json.loads(out) == {"owner": "o\x9b\x1b\u202e"}


def test_a_realistic_key_is_redacted_and_a_short_one_is_not() -> None:
    assert Secret(KEY).redact(f"x-request-id: {KEY}") == "x-request-id: ***"
    short = "a" * (MIN_REDACTED_LENGTH - 1)
    assert Secret("a").redact("InvalidArgument") == "InvalidArgument"
    assert Secret(short).redact(f"id {short}") == f"id {short}"
    assert Secret(short + "a").redact(f"id {short}a") == "id ***"


def test_the_log_filter_redacts_and_escapes() -> None:
    record = logging.LogRecord("httpcore", logging.DEBUG, __file__, 1, "header %s", (f"{KEY}\x1b]0;t\x07",), None)
    assert LOG_FILTER.filter(record)
    assert record.getMessage() == "header ***\\x1b]0;t\\x07"


@given(st.sets(texts, max_size=30))
def test_csv_cells_are_csv_cell_of_each_text(batch: set[str]) -> None:
    """The batch form finds the common case in C; every cell must still be exactly `csv_cell`'s."""
    assert csv_cells(batch) == {text: csv_cell(text) for text in batch}


def test_csv_cells_of_a_batch_holding_the_key_redact_it_and_keep_the_rest() -> None:
    # The key is looked for once in the joined batch; when it is there, every text goes through csv_cell.
    batch = {f"has {KEY}", KEY, "plain", "=1+1", f"{KEY[:5]}-partial"}
    assert csv_cells(batch) == {f"has {KEY}": "has ***", KEY: "***", "plain": "plain", "=1+1": "'=1+1",
                                f"{KEY[:5]}-partial": f"{KEY[:5]}-partial"}


@given(texts | st.text(alphabet=st.characters(codec="utf-8")))
def test_the_terminal_channels_fast_path_gives_what_the_expressions_give(text: str) -> None:
    # The printable shortcut must only skip work: the answer is the two expressions' for every text.
    from runner import sanitize

    value = sanitize.redact(text)
    line = sanitize._CONTROL_OR_BREAK.sub(sanitize._visible, sanitize._LINE_BREAKS.sub(" ", value))
    lines = sanitize._COMMAND_START.sub(r"\1\\x3a", sanitize._CONTROL.sub(sanitize._visible,
                                                                           value.replace("\r\n", "\n")))
    assert terminal_line(text) == line
    assert terminal_text(text) == lines


@pytest.mark.parametrize("text", ["\u00a0", "a\u200eb", "\x85", "\u2028", "x::y", " ::x", "é", KEY + "::"])
def test_the_fast_path_leaves_the_characters_it_cannot_judge_to_the_expressions(text: str) -> None:
    out = terminal_text(text)
    assert not any(bad in out for bad in ("\u200e", "\x85")) and KEY not in out
    assert not out.lstrip(" \t").startswith("::")


def test_no_printable_character_is_one_the_terminal_expressions_would_change() -> None:
    # Exhaustive over Unicode: what the fast path returns untouched, the expressions would have left alone too.
    import sys

    from runner import sanitize

    printable = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isprintable())
    assert len(printable) > 100_000
    for expression in (sanitize._CONTROL, sanitize._CONTROL_OR_BREAK, sanitize._LINE_BREAKS):
        assert expression.search(printable) is None, expression.pattern
