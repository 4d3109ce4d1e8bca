"""report.html in a real browser (headless Chromium): it renders at 1280 px and on a phone without console errors
(the page's Content-Security-Policy turns any script or remote fetch into one), its charts are in the DOM, at
390 px and 1280 px no table scrolls sideways and no word in a table breaks, and the example run's 15 queries fit a
page under PAGE_HEIGHT_TARGET. Chromium is Debian's `chromium` package, which `.ci/run` installs."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from runner.report import write_reports
from runner.report.history import load_history
from tests.support.browser import Layout, browse, chromium, measure
from tests.support.report_fixture import EXAMPLE, KEY, RUN_ID, build_journal, copy_fixture
from tests.support.screenshot import SCREENSHOT, SIZE, render_screenshot

PAGE_HEIGHT_TARGET = 6_000  # px at 1280 for the example run's 15 queries (29,021 before drift was folded)

def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    run_dir = copy_fixture(root / "reports")
    journal = build_journal(root / "state.sqlite")
    names = ["okta-users-with-s3-write", "admin-roles"]
    write_reports(run_dir, load_history(journal, names, key=KEY, until_run=RUN_ID))
    return run_dir / "report.html"


def test_the_report_renders_to_a_screenshot_without_console_errors(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _, console = browse(report, tmp_path / "profile", f"--screenshot={shot}")
    assert console == []
    assert png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kB


def test_the_charts_are_in_the_rendered_dom(report: Path, tmp_path: Path) -> None:
    dom, console = browse(report, tmp_path / "profile", "--dump-dom")
    assert console == []
    assert dom.count('class="bar"') == 6 and dom.count('class="bar-fill"') == 6
    assert dom.count('class="chart trend-chart"') == 2 and "<polyline" in dom
    assert 'id="summary"' in dom and 'id="drift"' in dom and "<details>" in dom
    assert "<script" not in dom


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("example") / "run"
    shutil.copytree(EXAMPLE, run_dir)
    write_reports(run_dir)
    return run_dir / "report.html"


def overflow(layout: Layout) -> list[str]:
    """Everything that scrolls sideways: the page, any table's container, any word a table cell broke."""
    problems = [f"the page is {layout.scroll} px wide in {layout.width} px"] if layout.scroll > layout.width else []
    for table in layout.tables:
        if table["scroll"] > table["client"]:
            problems.append(f"a table in #{table['id']} is {table['scroll']} px wide in {table['client']} px")
        problems += [f"#{table['id']}: {word!r} broken across lines" for word in table["broken"]]
    return problems


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("page", ["report", "example"])
def test_no_table_overflows_sideways_and_no_word_breaks(page: str, width: int, request: pytest.FixtureRequest,
                                                         tmp_path: Path) -> None:
    layout = measure(request.getfixturevalue(page), tmp_path / "profile", width=width)
    assert layout.width <= width and len(layout.tables) >= 3  # the probe did measure the page at that width
    assert overflow(layout) == []


def test_the_probe_does_see_a_table_that_overflows(example: Path, tmp_path: Path) -> None:
    # the expectations tables without their phone layout (stacked rows), as they were before issue 14
    wide = tmp_path / "wide.html"
    wide.write_text(example.read_text().replace('class="expectations stack"', 'class="expectations"'))
    layout = measure(wide, tmp_path / "profile", width=390)
    assert any("px wide" in problem for problem in overflow(layout)), layout.tables


def test_the_example_runs_page_is_short_enough_to_read(example: Path, tmp_path: Path) -> None:
    layout = measure(example, tmp_path / "profile", width=1280)
    assert 2_000 < layout.height < PAGE_HEIGHT_TARGET, f"the example run's page is {layout.height} px tall"


def test_the_console_check_does_catch_a_page_that_breaks_its_policy(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text().replace("</body>", '<img src="http://example.invalid/x.png"></body>'))
    _, console = browse(broken, tmp_path / "profile", "--dump-dom")
    assert console and "Content Security Policy" in console[0]


def test_the_readme_screenshot_is_what_make_screenshot_renders(tmp_path: Path) -> None:
    """`make screenshot` renders docs/report.png from the example run; twice gives the same pixels here, and the
    committed file has its size (pixels can differ on another machine's fonts, so bytes are not compared)."""
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    render_screenshot(first, chromium=chromium())
    render_screenshot(second, chromium=chromium())
    assert first.read_bytes() == second.read_bytes()
    assert png_size(first) == png_size(SCREENSHOT) == SIZE and first.stat().st_size > 50_000
    assert f"]({SCREENSHOT.relative_to(SCREENSHOT.parents[1]).as_posix()})" in (SCREENSHOT.parents[1] /
                                                                             "README.md").read_text()
