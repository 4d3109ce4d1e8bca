"""runner.impact.comment: the pull-request comment stays within its limit, says exactly what it left out, and no
string from a spec, a file or a result can become markup."""

from __future__ import annotations

import re

import pytest

from runner.impact.comment import COMMENT_MARKER, GITHUB_LIMIT, PATHS_SHOWN, VALUE_CHARS, format_markdown
from runner.impact.specdiff import spec_diff
from runner.model.assessment import EntityRef, Verdict
from runner.model.impact import MISSING, Change, EnvDiff, ImpactReport, PathChange, ResultDelta, SpecDiff
from tests.unit.impact.builders import query_change, report, side, spec

HOSTILE = ["</details><script>alert(1)</script>", "`|", "@team", "a\nb\n# heading\n</details>", "| x | y |",
           "#12 https://evil.example/x", "<!-- vqr:pr-impact -->", "**bold** [link](javascript:x)", "a\\|b", "``"]
NOTE = re.compile(r"^_(?P<what>.*) left out: the comment limit is (?P<limit>[\d,]+) characters; run `vqr diff` "
                  r"locally or see the job's artifact for the full report\._$", re.MULTILINE)


def big_diff(index: int, paths: int = 60) -> SpecDiff:
    long = "v" * 300
    changes = tuple(PathChange(path=f"$.immediate_run.request.body.field_{i}", old=f"{long}{i}",
                               new=[long, i] if i % 2 else MISSING) for i in range(paths))
    return SpecDiff(name=f"query-{index:03d}", change=Change.MODIFIED, file=f"queries/q{index:03d}.yaml",
                    base_file=f"queries/q{index:03d}.yaml",
                    envs=(EnvDiff(envs=("prod",), changes=changes), EnvDiff(envs=("dev",), changes=changes[:10])))


def big_delta(name: str) -> ResultDelta:
    sample = tuple(EntityRef(key=f"{name}-entity-{i}-" + "k" * 80, name="n" * 200) for i in range(10))
    return ResultDelta(name=name, env="prod", before=side(100, Verdict.PASSED), after=side(5000, Verdict.FAILED),
                       added=4900, removed=20, changed=7, added_sample=sample, removed_sample=sample,
                       changed_sample=sample)


def left_out(text: str) -> tuple[int, int, int]:
    """(rows, details, notes) the closing note says were left out; (0, 0, 0) without a note."""
    match = NOTE.search(text)
    if match is None:
        return 0, 0, 0
    counts = []
    for pattern in (r"([\d,]+) rows? of the summary table", r"details of ([\d,]+) quer", r"([\d,]+) notes?$"):
        found = re.search(pattern, match["what"].split(" and ")[-1] if "note" in pattern else match["what"])
        counts.append(int(found.group(1).replace(",", "")) if found else 0)
    return counts[0], counts[1], counts[2]


def table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("|")][2:]


def pipes(line: str) -> int:
    """The `|` a table parser splits on: those not escaped by a backslash."""
    count, escaped = 0, False
    for char in line:
        count += char == "|" and not escaped
        escaped = char == "\\" and not escaped
    return count


def shown_details(text: str) -> list[str]:
    return re.findall(r"^<details><summary><b>(.*?)</b>", text, re.MULTILINE)


def check_budget(text: str, built: ImpactReport, limit: int) -> None:
    assert len(text) <= limit
    assert text.splitlines()[0] == COMMENT_MARKER
    match = NOTE.search(text)
    if match is None and len(text) < 400:
        return  # a limit too small for the whole note: it was cut, the marker still first
    rows, details, notes = left_out(text)
    shown_rows = len(table_rows(text))
    assert shown_rows + rows == len(built.diffs)
    assert len(shown_details(text)) + details == len(built.diffs)
    assert shown_details(text) == [d.name for d in built.diffs][: len(shown_details(text))]  # in table order
    assert sum(line.startswith("- ⚠️ ") for line in text.splitlines()) + notes == len(built.notes)
    assert (match is None) == (rows == details == notes == 0)
    if match is not None:
        assert match["limit"] == f"{limit:,}"


def test_five_hundred_large_queries_stay_within_githubs_limit_and_say_what_was_left_out() -> None:
    diffs = [big_diff(i) for i in range(500)]
    built = report(diffs, deltas=[big_delta(d.name) for d in diffs], notes=["base file queries/x.yaml has errors"])
    text = format_markdown(built)
    assert len(text) <= GITHUB_LIMIT
    check_budget(text, built, GITHUB_LIMIT)
    rows, details, _ = left_out(text)
    assert rows == 0 and details == 500 - len(shown_details(text)) > 0
    assert f"details of {details} queries left out: the comment limit is 65,536 characters" in text
    assert text.index("| query |") < text.index("<details>")
    # The budget was spent: the next query's details would not have fitted.
    following = diffs[len(shown_details(text))]
    block = format_markdown(report([following], deltas=[big_delta(following.name)]), limit=10**9)
    assert len(text) + len(block[block.index("\n<details>"):]) > GITHUB_LIMIT
    first = table_rows(text)[0]
    assert first == "| query-000 | modified | prod, dev | 60 | 100 → 5,000 | +4,900 / −20 | passed → failed |"


@pytest.mark.parametrize("limit", [len(COMMENT_MARKER) + 1, 40, 90, 160, 260, 500])
def test_a_tiny_limit_still_gives_a_comment_that_starts_with_the_marker(limit: int) -> None:
    built = report([big_diff(i, paths=3) for i in range(5)], notes=["n"])
    text = format_markdown(built, limit=limit)
    check_budget(text, built, limit)
    assert text.endswith("\n")


def test_every_limit_keeps_the_counts_honest() -> None:
    diffs = [big_diff(i, paths=4) for i in range(12)]
    built = report(diffs, deltas=[big_delta(d.name) for d in diffs[::2]], notes=["first note", "second note"])
    whole = format_markdown(built, limit=10**9)
    assert NOTE.search(whole) is None
    cut_rows = 0
    # A prime step (not a divisor of any fixed block's size) walks every kind of cut point in ~40 limits.
    for limit in range(300, len(whole) + 200, 197):
        text = format_markdown(built, limit=limit)
        check_budget(text, built, limit)
        cut_rows += left_out(text)[0] > 0
    assert cut_rows > 0  # some limits were too small for the whole table
    assert format_markdown(built, limit=len(whole)) == whole


def test_the_limit_must_hold_the_marker() -> None:
    with pytest.raises(ValueError, match="marker"):
        format_markdown(report([]), limit=len(COMMENT_MARKER))


def test_a_change_that_touches_no_query() -> None:
    text = format_markdown(report([], notes=["2 base files have errors"]))
    assert text.splitlines()[0] == COMMENT_MARKER
    assert "touches no query's rendered create body" in text and "|" not in text and "<details>" not in text
    assert "- ⚠️ 2 base files have errors" in text


def test_paths_of_one_group_are_capped() -> None:
    diff = big_diff(0, paths=PATHS_SHOWN + 7)
    text = format_markdown(report([diff]))
    # Paths inside the spec read `spec.…` (whichever cache mode wraps it): the capped group and the one of 10 paths.
    assert text.count("- <code>spec.") == PATHS_SHOWN + 10
    assert "…and 7 more paths" in text
    first = next(line for line in text.splitlines() if line.startswith("- <code>spec."))
    cut = "v" * (VALUE_CHARS - 2) + "…"  # the opening quote, then the value cut to VALUE_CHARS with an ellipsis
    assert first == f"- <code>spec.field\\_0</code>: <code>&quot;{cut}</code> → _(absent)_"


def hostile_report() -> ImpactReport:
    diffs = []
    for index, name in enumerate(HOSTILE):
        change = query_change(name, Change.MODIFIED, base={"prod": spec(name), "dev": spec()},
                              head={"prod": spec(name + "x", **{name: name}), "dev": spec(HOSTILE[-1 - index])},
                              base_file=f"old/{name}.yaml")
        diffs.append(spec_diff(change, ["prod", "dev"]))
    entities = tuple(EntityRef(key=h, name=h, fields=(h,)) for h in HOSTILE)
    deltas = [ResultDelta(name=d.name, env=HOSTILE[0], before=side(1, status=HOSTILE[1]),
                          after=side(2, Verdict.FAILED, error=HOSTILE[0]), added=10, removed=10, changed=10,
                          added_sample=entities, removed_sample=entities, changed_sample=entities) for d in diffs]
    return report(diffs, deltas=deltas, notes=HOSTILE, envs=["prod", "dev"])


def test_no_string_from_the_data_becomes_markup() -> None:
    built = hostile_report()
    text = format_markdown(built)
    assert NOTE.search(text) is None  # everything shown: all of it was escaped
    assert "<script" not in text.lower()
    assert "@team" not in text  # a word joiner after `@`: no mention, no notification
    assert not re.search(r"(?<!\\)\]\(", text)  # no link: every `]` escaped
    assert text.count(COMMENT_MARKER) == 1
    lines = text.splitlines()
    # Only the comment's own structure starts a line with HTML, a heading or a table.
    assert {line for line in lines if line.startswith("<")} == {COMMENT_MARKER, "</details>", *(
        line for line in lines if line.startswith("<details><summary><b>"))}
    assert text.count("<details>") == text.count("</details>") == len(built.diffs)
    assert [line for line in lines if line.startswith("#")] == ["## vqr diff: the queries this change affects"]
    rows = [line for line in lines if line.startswith("|")]
    assert len(rows) == 2 + len(built.diffs) and {pipes(row) for row in rows} == {8}
    summaries = [line for line in lines if line.startswith("<details><summary>")]
    assert summaries and not [line for line in summaries if "\\" in line]  # raw HTML: entities, no backslashes
    assert text.count("<code>") == text.count("</code>")
    for inner in re.findall(r"<code>(.*?)</code>", text):
        assert "<" not in inner and ">" not in inner and not re.search(r"(?<!\\)[`|]", inner)
    assert not re.search(r"(?<!\\)`", text)  # no backtick opens a code span (the note, with its own, is absent)


def test_the_summary_table_reports_the_result_delta() -> None:
    built = hostile_report()
    first = table_rows(format_markdown(built))[0]
    cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", first)[1:-1]]
    delta_of = built.deltas[built.diffs[0].name]
    assert cells[1:] == ["modified", "prod, dev", str(len({c.path for g in built.diffs[0].envs for c in g.changes})),
                         cells[4], f"+{delta_of.added} / −{delta_of.removed}", "– → failed"]
    assert cells[4].endswith("→ 2")


def test_without_run_the_table_has_no_result_columns() -> None:
    built = report([big_diff(0, paths=2), big_diff(1, paths=3)])
    text = format_markdown(built)
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert rows[0] == "| query | change | environments | paths |" and {pipes(row) for row in rows} == {5}
    assert rows[2:] == ["| query-000 | modified | prod, dev | 2 |", "| query-001 | modified | prod, dev | 3 |"]
    assert "**Result in" not in text


def test_notes_come_before_the_table_and_survive_when_it_is_cut() -> None:
    built = report([big_diff(i, paths=1) for i in range(3000)], notes=["2 base file(s) have errors: they count as new"])
    text = format_markdown(built)
    assert len(text) <= GITHUB_LIMIT and left_out(text)[0] > 0  # the table itself was cut
    assert "2 base file(s) have errors" in text and text.index("base file(s)") < text.index("| query |")
