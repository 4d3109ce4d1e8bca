"""The one exit-code mapper: a command runs inside `guarded`, and whatever it raises becomes one line and its code.

`VqrError` → its message and documented code (usage and project errors 2, internal 3); Ctrl-C → 130; anything else
→ 3, with a traceback only when asked (`--debug`). Commands raise and never print their own fatal errors.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import TextIO

from runner.errors import ExitCode, VqrError
from runner.sanitize import terminal_line, terminal_text


def guarded(command: Callable[[], int], *, err: TextIO, debug: Callable[[], bool] = lambda: False) -> int:
    """`debug` is asked only when an unexpected exception is caught: `--debug` is parsed inside `command`."""
    try:
        return command()
    except VqrError as problem:
        # Messages quote servers and files, and some hold several lines (a bad project file's findings): escapes
        # shown, key redacted, and no line can start a workflow command.
        err.write(f"vqr: {terminal_text(problem.message)}\n")
        return int(problem.exit_code)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return int(ExitCode.INTERRUPTED)
    except Exception as problem:  # the boundary: never a traceback unless asked for
        if debug():
            traceback.print_exc(file=err)
        err.write(f"vqr: internal error: {type(problem).__name__}: {terminal_line(problem)} (rerun with --debug)\n")
        return int(ExitCode.INTERNAL)
