"""The lint cache: each query file's compile result (its units and findings), stored by everything that decides it.

`LintCache.open(root=, project_file=, schemas_dir=, variables=, fragments=)` keys the compile context (vqr's code and
libraries, schemas, project file, resolved variables, rendered fragments); `get(path, data)` / `put(path, data,
result)` read and remember one `FileResult` per file; `finish()` writes a signed pack under `.vqr/lint-cache/`.
Cross-file rules are never cached: callers rerun them over every unit. Any cache problem is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from runner import __version__
from runner.compile.codec import FORMAT, FileResult, decode_result, encode_result
from runner.files import write_atomically
from runner.model import JSONValue
from runner.repopath import PathProblem, read_regular_file

CACHE_DIR = Path(".vqr") / "lint-cache"
# A cache must cost less than what it saves: one file's result past MAX_ENTRY_BYTES is compiled each time instead
# (a 160 KB matrix file once made a 102 MB entry, and every later lint paid 10 s to load it), and the pack keeps
# its most recently used entries within MAX_PACK_BYTES. A larger pack on disk is not read at all.
MAX_ENTRY_BYTES = 1024 * 1024
MAX_PACK_BYTES = 32 * 1024 * 1024
PACK_SLACK = 64 * 1024  # the header and signature beside the entries
PRUNE_AFTER = 7 * 24 * 3600  # seconds an entry (or another context's pack) may go unused before a write drops it
_TOUCH_AFTER = 24 * 3600
_MAX_KEYED_BYTES = 64 * 1024 * 1024  # of each file in the key: the project file and the schemas (~100 KiB today)
_LIBRARIES = ("jinja2", "markupsafe", "jsonschema", "referencing", "jsonschema_specifications", "ruamel.yaml")


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=True).encode()


def _stamp(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def code_fingerprint() -> str:
    """vqr's version, every module of the installed `runner` package and the libraries that shape findings (by
    size and mtime: an edit or an upgrade changes them), the Python version and the YAML parser backend."""
    from runner.load.document import DEFAULT_BACKEND

    package = Path(__file__).resolve().parent
    parts = [__version__, sys.version, DEFAULT_BACKEND.value]
    parts += sorted(_stamp(file) for file in package.rglob("*.py"))
    for name in _LIBRARIES:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module else None
        if origin is None:
            spec = importlib.util.find_spec(name)
            origin = spec.origin if spec else None
        parts.append(f"{name}={_stamp(Path(origin)) if origin else 'absent'}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def context_key(*, root: Path | None, project_file: Path, schemas_dir: Path, variables: Mapping[str, JSONValue],
                fragments: Mapping[str, JSONValue]) -> str:
    """Everything besides a file's own bytes and path that can change what compiling it yields. `root` None: the
    key of two checkouts of one repository in different places (`vqr diff --base`) is equal when they agree."""
    digest = hashlib.sha256()
    for part in (f"format={FORMAT}", code_fingerprint(), str(root.resolve()) if root is not None else ""):
        digest.update(part.encode() + b"\0")
    for file in [project_file, *sorted(schemas_dir.glob("*.json"))]:
        data = read_regular_file(file, _MAX_KEYED_BYTES, root=None)  # a FIFO named x.json must not hang the lint
        if isinstance(data, PathProblem):
            raise ValueError(data.reason)  # no cache this time; the schema loader reports the file
        digest.update(file.name.encode() + b"\0" + data + b"\0")
    digest.update(_canonical(dict(variables)) + b"\0" + _canonical(dict(fragments)))
    return digest.hexdigest()


def _signing_key(file: Path) -> bytes | None:
    """A random key kept outside the repository: entries committed by someone else (a pull request adding
    `.vqr/lint-cache/`) fail the signature check, so they can never make a bad file lint clean."""
    for _ in range(2):
        try:
            key = file.read_bytes()
            if len(key) >= 32:
                return key
            if time.time() - file.stat().st_mtime < 10:
                return None  # another run is writing it right now: go without the cache this once
            file.unlink()  # truncated by a crash long ago: start over
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: of two first runs at once, one creates the key and the other reads it on its second pass.
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as stream:
                stream.write(secrets.token_bytes(32))
        except FileExistsError:
            continue
        except OSError:
            return None
    return None


class LintCache:
    """Per-file compile results of one compile context, kept in one signed pack file: `get` and `put` work in memory,
    `finish` writes the pack back (atomically) when it changed. One file, because creating a thousand small files
    costs more than linting them on some filesystems."""

    def __init__(self, directory: Path, context: str, signing_key: bytes, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.clock = clock
        self.context = context
        self.file = directory / f"{context[:40]}.pack"
        self._key = signing_key
        self._entries: dict[str, tuple[int, bytes]] | None = None  # entry key -> (last used, JSON payload)
        self._dirty = False
        self.hits = 0
        self.misses = 0

    @classmethod
    def open(cls, *, root: Path, project_file: Path, schemas_dir: Path, variables: Mapping[str, JSONValue],
             fragments: Mapping[str, JSONValue], key_file: Path | None,
             clock: Callable[[], float] = time.time) -> LintCache | None:
        """The cache for this compile context, or None when disabled (no `key_file`: `VQR_NO_LINT_CACHE=1`, see
        `settings.ProcessEnv`) or unusable. `key_file` holds the signing key, outside the repository."""
        if key_file is None:
            return None
        # A checked-in symlink must not steer our writes outside the project.
        if (root / CACHE_DIR.parent).is_symlink() or (root / CACHE_DIR).is_symlink():
            return None
        signing_key = _signing_key(key_file)
        if signing_key is None:
            return None
        try:
            context = context_key(root=root, project_file=project_file, schemas_dir=schemas_dir,
                                  variables=variables, fragments=fragments)
        except (OSError, TypeError, ValueError):  # an unreadable schema or a non-JSON variable: just don't cache
            return None
        return cls(root / CACHE_DIR, context, signing_key, clock=clock)

    def _entry_key(self, path: str, data: bytes) -> str:
        digest = hashlib.sha256(self.context.encode() + b"\0" + path.encode() + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def _load(self) -> dict[str, tuple[int, bytes]]:
        """The pack's entries; an absent, corrupt, foreign or forged pack reads as empty."""
        if self._entries is None:
            self._entries = {}
            try:
                if self.file.stat().st_size > MAX_PACK_BYTES + PACK_SLACK:
                    return self._entries
                mac, _, body = self.file.read_bytes().partition(b"\n")
                header, _, lines = body.partition(b"\n")
                if hmac.compare_digest(mac, self._sign(body)) and json.loads(header) == self._header():
                    for line in lines.splitlines():
                        key, used, payload = line.split(b" ", 2)
                        self._entries[key.decode()] = (int(used), payload)
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def get(self, path: str, data: bytes) -> FileResult | None:
        """The stored result of compiling `data` as the file `path`, or None (absent, stale, corrupt, forged)."""
        key = self._entry_key(path, data)
        stored = self._load().get(key)
        result = None
        if stored is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError, IndexError, AttributeError):
                result = decode_result(json.loads(stored[1]), key=key, path=path)
        if stored is None or result is None:
            self.misses += 1
            return None
        self.hits += 1
        now = int(self.clock())
        if now - stored[0] > _TOUCH_AFTER:  # refreshed at most daily, so an unchanged re-run writes nothing
            self._load()[key] = (now, stored[1])
            self._dirty = True
        return result

    def put(self, path: str, data: bytes, result: FileResult) -> None:
        """Remember `result` for `finish` to write; a value JSON cannot hold exactly is not cached."""
        key = self._entry_key(path, data)
        try:
            payload = json.dumps(encode_result(result, key=key, path=path), ensure_ascii=False, separators=(",", ":"),
                                 allow_nan=False).encode()
        except (TypeError, ValueError):
            return
        if len(payload) > MAX_ENTRY_BYTES:
            return
        self._load()[key] = (int(self.clock()), payload)
        self._dirty = True

    def finish(self) -> None:
        """Write the pack if anything changed, without entries unused for `PRUNE_AFTER`; remove other contexts'
        packs that old. Failing to write only means a slower next run."""
        if not self._dirty:
            return
        cutoff = self.clock() - PRUNE_AFTER
        recent = sorted(((used, key, payload) for key, (used, payload) in self._load().items() if used >= cutoff),
                        reverse=True)
        kept, size = [], 0
        for used, key, payload in recent:  # the most recently used first, until the pack is full
            size += len(key) + len(payload) + 24
            if size > MAX_PACK_BYTES:
                break
            kept.append((key, used, payload))
        entries = sorted(kept)
        body = b"\n".join([json.dumps(self._header()).encode(),
                           *(b"%s %d %s" % (key.encode(), used, payload) for key, used, payload in entries)])
        with contextlib.suppress(OSError):  # failing to write only means a slower next run
            # Not flushed to disk: a cache lost in a crash only costs a slower lint.
            write_atomically(self.file, self._sign(body) + b"\n" + body, durable=False)
            self._dirty = False
            for other in self.directory.iterdir():
                if other != self.file and other.stat().st_mtime < cutoff:
                    other.unlink()

    def _header(self) -> dict[str, object]:
        return {"format": FORMAT, "context": self.context}

    def _sign(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()

