"""The one exit-code mapper: a command runs inside `guarded`, and whatever it raises becomes one line and its code.

`VqrError` → its message and documented code (usage and project errors 2, internal 3); an `OSError` naming a file
(disk full, read-only folder, a file where a directory belongs) → one line with the path and the system's reason, 3;
Ctrl-C → 130; anything else → 3, with a traceback only when asked (`--debug`). Commands never print their own fatal
errors.
"""

from __future__ import annotations

import errno
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
    except OSError as problem:
        if problem.filename is None:
            return _unexpected(problem, err, debug)
        err.write(f"vqr: {terminal_line(file_error(problem))}\n")
        return int(ExitCode.INTERNAL)
    except Exception as problem:  # the boundary: never a traceback unless asked for
        return _unexpected(problem, err, debug)


def file_error(problem: OSError) -> str:
    """`<path>: <reason> (<ERRNO>)`, and `-> <path2>` for a rename: what a person needs to free space or fix a
    permission, without a traceback."""
    where = str(problem.filename) + (f" -> {problem.filename2}" if problem.filename2 is not None else "")
    code = errno.errorcode.get(problem.errno or 0)
    return f"cannot use {where}: {problem.strerror or problem}" + (f" ({code})" if code else "")


def _unexpected(problem: Exception, err: TextIO, debug: Callable[[], bool]) -> int:
    if debug():
        traceback.print_exception(problem, file=err)
    err.write(f"vqr: internal error: {type(problem).__name__}: {terminal_line(problem)} (rerun with --debug)\n")
    return int(ExitCode.INTERNAL)
