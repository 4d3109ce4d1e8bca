"""report.html in a real browser (headless Chromium): it renders at 1280 px and on a phone without console errors
(the page's Content-Security-Policy turns any script or remote fetch into one), its charts are in the DOM, and
nothing overflows sideways at phone width. Chromium is Debian's `chromium` package, which `.ci/run` installs."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from runner.report import write_reports
from runner.report.history import load_history
from tests.support.report_fixture import KEY, RUN_ID, build_journal, copy_fixture

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0")
CONSOLE = re.compile(r":CONSOLE[:(]")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is missing: `.ci/run` installs Debian's chromium package "
                    "(apt-get install -y chromium); install it to run the browser tests")
    return found


def browse(page: Path, profile: Path, *args: str, size: str = "1280,2000") -> tuple[str, list[str]]:
    """Run Chromium on `page`; returns stdout and the console lines it logged."""
    done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}", *args,
                           page.as_uri()], capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if CONSOLE.search(line)]


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


def test_nothing_overflows_sideways_on_a_phone(report: Path, tmp_path: Path) -> None:
    # Headless Chromium will not make a window narrower than 500 px, so the probe narrows the body to a phone's
    # 360 px (the phone layout applies below 700 px anyway) and writes how wide the content really is.
    probe = tmp_path / "probe.html"
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", report.read_text())
    script = ("<script>document.body.style.width = '360px'; document.body.setAttribute('data-width', "
              "document.body.scrollWidth + 'x' + document.body.clientWidth);</script></body>")
    probe.write_text(html.replace("</body>", script))
    dom, _ = browse(probe, tmp_path / "profile", "--dump-dom", size="500,900")
    found = re.search(r'data-width="(\d+)x(\d+)"', dom)
    assert found, dom[:500]
    assert int(found[2]) == 360 and int(found[1]) <= 360, f"content is {found[1]} px wide in a 360 px body"


def test_the_console_check_does_catch_a_page_that_breaks_its_policy(report: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text(report.read_text().replace("</body>", '<img src="http://example.invalid/x.png"></body>'))
    _, console = browse(broken, tmp_path / "profile", "--dump-dom")
    assert console and "Content Security Policy" in console[0]
