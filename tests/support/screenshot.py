"""The README's screenshot, docs/report.png: report.html of the example run (tests/golden/example-run) in headless
Chromium at 1280 x 2000 px, scrollbars hidden. `make screenshot` runs `python -m tests.support.screenshot [OUT]`.

The same run.json, Chromium and fonts give the same pixels; renders into a temporary directory, writes OUT.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from runner.report import write_reports

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "tests" / "golden" / "example-run"
SCREENSHOT = ROOT / "docs" / "report.png"
SIZE = (1280, 2000)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
         "--force-color-profile=srgb", "--disable-lcd-text", "--font-render-hinting=none")


def render_screenshot(out: Path, *, chromium: str | None = None) -> Path:
    browser = chromium or shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium is missing: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="vqr-shot-") as scratch:
        run_dir = Path(scratch) / "run"
        shutil.copytree(EXAMPLE, run_dir)
        write_reports(run_dir)
        done = subprocess.run([browser, *FLAGS, f"--user-data-dir={Path(scratch) / 'profile'}",
                               f"--window-size={SIZE[0]},{SIZE[1]}", f"--screenshot={out.resolve()}",
                               (run_dir / "report.html").as_uri()], capture_output=True, text=True, timeout=120,
                              check=False)
        if done.returncode != 0 or not out.is_file():
            raise SystemExit(f"chromium failed: {done.stderr[-2000:]}")
    return out


if __name__ == "__main__":
    print(render_screenshot(Path(sys.argv[1]) if len(sys.argv) > 1 else SCREENSHOT))
