"""A child process's own peak memory, read by the child itself.

`wait4`'s and `getrusage`'s `ru_maxrss` are wrong for this: Linux records the high-water mark of the address space
a process replaces at `exec`, which for a spawned child is a copy of (or, with vfork, the very) parent. A child of a
pytest worker that has grown to 180 MiB therefore reports at least 180 MiB, however little it uses itself. The
kernel's `VmHWM` (in `/proc/self/status`) belongs to the current address space only, so it starts afresh at exec.
"""

from __future__ import annotations

import re
from pathlib import Path

# Prefix for `python -c`: reports VmHWM in KiB to the file named by the first argument when the child exits (also
# through SystemExit); the rest of argv is the module to run and its arguments, as for `python -m`.
RUN_MODULE = """\
import atexit, runpy, sys
from tests.support.own_peak import write_peak
atexit.register(write_peak, sys.argv[1])
sys.argv = sys.argv[2:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def peak_kib() -> int:
    """This process's own peak resident memory in KiB (VmHWM)."""
    match = re.search(r"^VmHWM:\s+(\d+) kB$", Path("/proc/self/status").read_text(), re.MULTILINE)
    assert match, "no VmHWM in /proc/self/status"
    return int(match.group(1))


def write_peak(path: str) -> None:
    Path(path).write_text(str(peak_kib()))
