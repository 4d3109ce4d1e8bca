"""The inputs of `vqr import`: each FILE (or `-`, standard input) read under a size cap and decoded as JSON.

Input: the arguments as given and a binary standard input. Output: `Input`s (label, stem, decoded value) or an
`ImportRefused` with a one-line reason. JSON only (Veza emits nothing else; YAML is not read). The bytes are parsed
by the runner's one bounded decoder (`client/decode.py`: UTF-8, depth ≤ 256, no NaN). Reads files.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from runner.client.decode import MiB, decode_json
from runner.importer.shapes import ImportRefused
from runner.model import JSONValue

MAX_INPUT_BYTES: Final[int] = 16 * MiB  # far above any saved query or report file (a few KiB to a few hundred)
STDIN: Final[str] = "-"


@dataclass(frozen=True, kw_only=True)
class Input:
    label: str  # how messages name it: the path as given, or "stdin"
    stem: str  # names a query that has no name of its own
    value: JSONValue


def _read_capped(stream: BinaryIO, label: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise ImportRefused(f"{label} is larger than {MAX_INPUT_BYTES // MiB} MiB; not read")
    return data


def _read_file(path: Path) -> bytes:
    try:
        # O_NONBLOCK: a FIFO must not hang the open; only a regular file is read.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise ImportRefused(f"cannot read {path}: {error.strerror or error}") from None
    try:  # checked on the raw fd: fdopen itself refuses a directory (EISDIR), which is the user's input, not ours
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise ImportRefused(f"{path} is {kind}; give a file, or `-` for standard input")
        stream = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with stream:
        return _read_capped(stream, str(path))


def read_inputs(arguments: list[str], stdin: BinaryIO) -> list[Input]:
    """Every argument read and decoded, in order; `-` at most once."""
    if arguments.count(STDIN) > 1:
        raise ImportRefused("`-` (standard input) may be given once")
    out: list[Input] = []
    for argument in arguments:
        if argument == STDIN:
            label, stem, data = "stdin", "stdin", _read_capped(stdin, "stdin")
        else:
            path = Path(argument)
            label, stem, data = argument, path.stem, _read_file(path)
        try:
            value = decode_json(data)
        except ValueError as error:
            raise ImportRefused(f"{label} {error}; vqr import reads Veza's JSON only") from None
        out.append(Input(label=label, stem=stem, value=value))
    return out
