"""Headless Chromium for the report tests: run it on a page, and measure a page at a given viewport width.

Headless Chromium will not make a window narrower than 500 px, so `measure` loads the page, unchanged (its own
Content-Security-Policy still applies to it), into an `<iframe srcdoc>` of the wanted width inside a probe page;
the probe's script (same origin as a srcdoc frame) reads the frame's layout and writes it into its own DOM as JSON,
which `--dump-dom` prints. Chromium is Debian's `chromium` package, which `.ci/run` installs. Runs a subprocess.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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


# Reads the frame: the document's widths and height, each table container's widths (the wrapper that scrolls, or
# the table's parent), and every word of a table cell that the browser broke across lines (a word = a run of
# letters and digits: breaking after a hyphen is fine, inside "restricted" is not).
_PROBE = r"""
const frame = document.getElementById('f');
frame.addEventListener('load', () => {
  const doc = frame.contentDocument, root = doc.documentElement;
  const tables = [...doc.querySelectorAll('table')].map((table) => {
    const box = table.closest('.table-wrap') || table.parentElement;
    const broken = [];
    for (const cell of table.querySelectorAll('th, td')) {
      const walker = doc.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const word of node.data.matchAll(/[\p{L}\p{N}]{2,}/gu)) {
          const range = doc.createRange();
          range.setStart(node, word.index);
          range.setEnd(node, word.index + word[0].length);
          const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          if (lines.size > 1) broken.push(word[0]);
        }
      }
    }
    return {id: table.closest('[id]') ? table.closest('[id]').id : '', scroll: box.scrollWidth,
            client: box.clientWidth, table: Math.ceil(table.getBoundingClientRect().width), broken};
  });
  const out = {width: root.clientWidth, scroll: root.scrollWidth, height: root.scrollHeight, tables};
  document.getElementById('out').textContent = JSON.stringify(out);
});
"""


@dataclass(frozen=True)
class Layout:
    width: int  # the document's client width: the viewport
    scroll: int  # the document's scroll width: more than `width` means the page scrolls sideways
    height: int
    tables: list[dict[str, Any]]


def measure(report: Path, profile: Path, *, width: int) -> Layout:
    probe = report.with_name(f"probe-{width}.html")
    probe.write_text(
        "<!DOCTYPE html><html><head><style>body{margin:0} iframe{border:0;display:block}</style></head><body>"
        f'<iframe id="f" width="{width}" height="900" srcdoc="{html.escape(report.read_text(), quote=True)}">'
        f'</iframe><pre id="out"></pre><script>{_PROBE}</script></body></html>', encoding="utf-8")
    dom, _ = browse(probe, profile, "--dump-dom", "--virtual-time-budget=10000", size=f"{max(width, 500)},900")
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found and found[1], dom[-500:]
    data = json.loads(html.unescape(found[1]))
    return Layout(width=data["width"], scroll=data["scroll"], height=data["height"], tables=data["tables"])
