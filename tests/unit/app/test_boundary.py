"""The one exit-code mapper: what a command raises becomes one line and its documented code."""

from __future__ import annotations

import io
from pathlib import Path

from runner.app.boundary import guarded
from runner.errors import ExitCode, InternalError, UsageError


def boom() -> int:
    raise RuntimeError("boom")


def test_each_kind_of_failure_gets_its_code_and_one_line() -> None:
    for problem, code in ((UsageError("bad --var"), ExitCode.USAGE), (InternalError("down"), ExitCode.INTERNAL),
                          (KeyboardInterrupt(), ExitCode.INTERRUPTED)):
        err = io.StringIO()

        def command(problem: BaseException = problem) -> int:
            raise problem

        assert guarded(command, err=err) == code
        assert err.getvalue().count("\n") == 1
    err = io.StringIO()
    assert guarded(boom, err=err) == ExitCode.INTERNAL
    assert err.getvalue() == "vqr: internal error: RuntimeError: boom (rerun with --debug)\n"


def test_the_debug_flag_is_read_when_the_error_is_caught() -> None:
    flag = {"on": False}

    def command() -> int:
        flag["on"] = True  # what `--debug` does while the command line is parsed
        return boom()

    err = io.StringIO()
    assert guarded(command, err=err, debug=lambda: flag["on"]) == ExitCode.INTERNAL
    assert "Traceback" in err.getvalue() and "RuntimeError: boom" in err.getvalue()
    assert guarded(lambda: 0, err=err) == ExitCode.OK


def test_an_os_error_naming_a_file_is_one_line_with_the_path_and_reason(tmp_path: Path) -> None:
    def command() -> int:
        (tmp_path / "file").write_text("x")
        (tmp_path / "file" / "run.json").write_text("{}")  # a file where a directory belongs
        return 0

    err = io.StringIO()
    assert guarded(command, err=err) == ExitCode.INTERNAL
    assert err.getvalue() == f"vqr: cannot use {tmp_path / 'file' / 'run.json'}: Not a directory (ENOTDIR)\n"
    err = io.StringIO()
    def nameless() -> int:
        raise OSError("no file named")

    assert guarded(nameless, err=err) == ExitCode.INTERNAL
    assert "internal error: OSError" in err.getvalue()
