"""Exit codes and the exceptions that abort a whole command.

Problems in user data are `Finding` values (see `runner.model`); only aborts are exceptions. Each carries the exit code
the CLI's single error boundary maps it to, and a one-line message that never includes a secret.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The documented exit codes (README, `vqr --help`)."""

    OK = 0
    FINDINGS = 1  # lint: findings; run: a query or an error expectation failed (report still written)
    USAGE = 2  # usage error, invalid project file or specs: nothing was sent
    INTERNAL = 3  # could not run at all: internal error, auth refused, API unreachable, breaker tripped
    INTERRUPTED = 130


class VqrError(Exception):
    """Base of every abort the CLI knows how to report in one line."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(VqrError):
    """Bad command line input (unknown query, bad --var, unreadable --vars-file)."""

    exit_code = ExitCode.USAGE


class ProjectError(VqrError):
    """The project file is missing or invalid, or the query repository cannot be planned."""

    exit_code = ExitCode.USAGE


class InternalError(VqrError):
    """Something that is our fault or the environment's; never the user's data."""

    exit_code = ExitCode.INTERNAL
