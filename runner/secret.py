"""The Veza API key: loaded from the environment or a file, checked, and wrapped so it never leaks by accident.

`load_api_key(env, env_var=..., key_file=...) -> Secret` reads the variable or the file (reads files, nothing else);
`Secret` prints as `***` and only `reveal()` gives the text (for the Authorization header). `SECRET_FILTER` is a
`logging.Filter` that redacts every loaded key from log records: install it on the log handlers. `load_secret` reads
another credential (the shared budget's Redis URL) the same way.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from runner.errors import UsageError

REDACTED = "***"
# A key shorter than this is not a credential (the sandbox takes any key; its examples use `a` or `test`) and cannot
# be told apart from ordinary text: replacing every `a` would turn `InvalidArgument` into `Inv***lidArgument`.
MIN_REDACTED_LENGTH = 8
DEFAULT_KEY_VAR = "VEZA_API_KEY"  # the name Veza's SDK reads too; overrides an environment's api_key_env
KEY_FILE_VAR = "VEZA_API_KEY_FILE"
_MAX_KEY_FILE_BYTES = 64 * 1024


class SecretError(UsageError):
    """The key is missing or unusable. The message names where it came from, never what it is."""


class Secret:
    """A credential. `repr`, `str` and formatting give `***`; it cannot be pickled, hashed or used as a cache key."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The text itself. Only the client calls this, to build the Authorization header."""
        return self._value

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the secret replaced by `***` (for anything a server echoes back).

        Keys shorter than `MIN_REDACTED_LENGTH` are left alone (see there). Output writers call this through
        `runner.sanitize`; stored ids and hashes are never redacted."""
        return text.replace(self._value, REDACTED) if self.occurs_in(text) else text

    def occurs_in(self, text: str) -> bool:
        """Whether `redact` would change `text`."""
        value = self._value
        return len(value) >= MIN_REDACTED_LENGTH and value in text

    def __repr__(self) -> str:
        return REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # a key must never become a dict or cache key

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


class SecretFilter(logging.Filter):
    """Redacts registered secrets from a record's message, arguments, exception and stack text.

    Filters attached to a logger do not see records propagated from its children, so attach this to handlers.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: list[Secret] = []

    def register(self, secret: Secret) -> None:
        if secret.reveal() and secret not in self._secrets:
            self._secrets.append(secret)

    @property
    def secrets(self) -> tuple[Secret, ...]:
        """The registered secrets: what a child process that writes outputs must register too (the CSV worker)."""
        return tuple(self._secrets)

    def found_in(self, text: str) -> bool:
        """Whether `redact` would change `text`: one substring search per key, for a batch of texts at once."""
        return any(secret.occurs_in(text) for secret in self._secrets)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = secret.redact(text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


SECRET_FILTER = SecretFilter()


def load_api_key(env: Mapping[str, str], *, env_var: str = "VEZA_API_KEY", key_file: Path | None = None,
                 registry: SecretFilter = SECRET_FILTER) -> Secret:
    """The key from `VEZA_API_KEY` (which overrides an environment's own `api_key_env`), else `env[env_var]`, else
    the file named by `VEZA_API_KEY_FILE`, else `key_file` (the project's).

    Surrounding whitespace and newlines are stripped (files usually end with one). An empty key, a key with inner
    spaces or control characters, or both the variable and `VEZA_API_KEY_FILE` set, is a `SecretError` (exit 2).
    The loaded key is registered with `registry` so logs never show it.
    """
    if env.get(DEFAULT_KEY_VAR, "").strip():
        env_var = DEFAULT_KEY_VAR
    direct = env.get(env_var)
    file_name = env.get(KEY_FILE_VAR)
    if direct is not None and direct.strip() and file_name:
        raise SecretError(f"both {env_var} and {KEY_FILE_VAR} are set: set only one of them")
    if direct is not None and direct.strip():
        secret = _checked(direct, where=f"the {env_var} environment variable")
    elif file_name:
        secret = _checked(_read_key_file(Path(file_name), KEY_FILE_VAR), where=f"the file named by {KEY_FILE_VAR}")
    elif key_file is not None:
        secret = _checked(_read_key_file(key_file, "the environment's api_key_file"), where=f"{key_file}")
    else:
        raise SecretError(f"no API key: set {env_var}, or {KEY_FILE_VAR} to a file holding the key")
    registry.register(secret)
    return secret


def _read_key_file(path: Path, origin: str, *, kind: str = "the API key") -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise SecretError(f"cannot read {kind} file {path} ({origin}): {error.strerror or error}") from None
    if len(data) > _MAX_KEY_FILE_BYTES:
        raise SecretError(f"{kind} file {path} is larger than {_MAX_KEY_FILE_BYTES} bytes: not a secret file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"{kind} file {path} is not UTF-8 text") from None


def _checked(raw: str, *, where: str) -> Secret:
    key = raw.strip()
    if not key:
        raise SecretError(f"the API key in {where} is empty")
    for index, char in enumerate(key):
        # Header values must be visible ASCII; anything else is a copy-paste accident, and saying which position
        # (never which character) is enough to find it.
        if not "\x21" <= char <= "\x7e":
            kind = "a space" if char.isspace() else "a non-printable or non-ASCII character"
            raise SecretError(f"the API key in {where} contains {kind} at position {index + 1}")
    return Secret(key)


def load_secret(env: Mapping[str, str], *, what: str, env_var: str | None = None, file: Path | None = None,
                registry: SecretFilter = SECRET_FILTER) -> Secret:
    """Another credential than the API key (a Redis URL with a password): from `env[env_var]`, else `file`, checked
    like the key (no spaces or control characters) and registered with `registry`. `what` names it in errors, which
    say where it was looked for, never what it is."""
    if env_var is not None:
        raw = env.get(env_var, "")
        if not raw.strip():
            raise SecretError(f"{what}: the {env_var} environment variable is not set")
        where = f"the {env_var} environment variable"
    elif file is not None:
        raw = _read_key_file(file, "named in vqr.yaml", kind=what)
        where = str(file)
    else:
        raise SecretError(f"{what}: no variable or file is named")
    try:
        secret = _checked(raw, where=where)
    except SecretError as error:
        raise SecretError(str(error).replace("the API key", what, 1)) from None
    registry.register(secret)
    return secret
