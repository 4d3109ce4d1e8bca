"""The CSV worker's side of `vqr run`'s CSV process (the parent is `app/csv_workers.py`): `serve()` reads the keys to
redact (a first line, `{"redact": [...]}`), then one results file path per line on stdin, writes its CSV beside it
(`csv_export.csv_beside`, also the parent's fallback) and answers one JSON line per file on stdout, in order: `{"rows":
N}` or `{"failed": true}`. SIGINT is ignored (the worker is not in the terminal's group; the run stops it); SIGTERM
stops it mid-file through `atomic_output`'s cleanup, so no temp file is left. I/O: stdin, stdout, the results directory.

Why a module of its own, in the report stage: the child imports this and what the CSV needs (csv_export, flatten,
jsontext, files, sanitize, secret), not `runner.app` and the model: its start-up cost ~0.1 s of CPU less in every run.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType

from runner.report.csv_export import csv_beside
from runner.secret import SECRET_FILTER, Secret


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # through atomic_output's cleanup: the temp file of a half-written CSV goes


def serve() -> None:
    """The worker's loop (in the child): one results file per line on stdin, one answer per line on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # not the terminal's group; a stray one must not stop a file
    signal.signal(signal.SIGTERM, _stop)
    out = sys.stdout.buffer
    # The keys come on stdin, not in argv (which other users can read) nor in the environment (the parent passes no
    # variable that holds one, and a key read from a file was never in it): every cell is redacted as the parent's
    # own writers redact it.
    preamble = json.loads(sys.stdin.buffer.readline() or "{}")
    for value in preamble.get("redact", []):
        SECRET_FILTER.register(Secret(str(value)))
    for line in sys.stdin.buffer:
        try:
            answer: dict[str, object] = {"rows": csv_beside(Path(json.loads(line)))}
        except Exception:  # any: the parent's thread writes this file itself and raises the real error there
            answer = {"failed": True}
        out.write(json.dumps(answer).encode() + b"\n")
        out.flush()
