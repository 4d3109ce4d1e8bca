"""The API key: loading rules, and that it never shows up in reprs, messages, pickles or log output."""

from __future__ import annotations

import io
import logging
import pickle
from pathlib import Path

import pytest

from runner.secret import REDACTED, Secret, SecretError, SecretFilter, load_api_key, load_secret

CANARY = "canary-7f3e9b1c4d2a"


def load(env: dict[str, str], **kwargs: object) -> Secret:
    return load_api_key(env, registry=SecretFilter(), **kwargs)  # type: ignore[arg-type]


def test_secret_never_prints_itself() -> None:
    secret = Secret(CANARY)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret:>30}", repr([secret]),
                 repr({"key": secret})):
        assert CANARY not in text
        assert REDACTED in text
    assert secret.reveal() == CANARY


def test_secret_cannot_be_pickled_or_hashed() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Secret(CANARY))
    with pytest.raises(TypeError):
        hash(Secret(CANARY))
    assert Secret(CANARY) == Secret(CANARY)
    assert Secret(CANARY) != Secret(CANARY + "x")


def test_key_from_the_environment_is_stripped() -> None:
    assert load({"VEZA_API_KEY": f"  {CANARY}\r\n"}).reveal() == CANARY


def test_key_file_trailing_newline_is_stripped(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(CANARY + "\n")
    assert load({"VEZA_API_KEY_FILE": str(key_file)}).reveal() == CANARY
    assert load({}, key_file=key_file).reveal() == CANARY


def test_custom_variable_name_is_read() -> None:
    assert load({"ACME_VEZA_KEY": CANARY}, env_var="ACME_VEZA_KEY").reveal() == CANARY


def test_environment_wins_over_project_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("from-file")
    assert load({"VEZA_API_KEY": CANARY}, key_file=key_file).reveal() == CANARY


@pytest.mark.parametrize(("value", "needle"), [
    ("", "no API key"),
    ("   \n", "no API key"),
    (f"{CANARY} extra", "a space at position 20"),
    (f"{CANARY}\x07", "non-printable or non-ASCII character at position 20"),
    (f"{CANARY}é", "non-printable or non-ASCII character at position 20"),
])
def test_bad_keys_are_refused_without_showing_them(value: str, needle: str) -> None:
    with pytest.raises(SecretError, match=needle) as caught:
        load({"VEZA_API_KEY": value})
    assert CANARY not in str(caught.value)


def test_key_file_problems_name_the_file_not_the_key(tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    with pytest.raises(SecretError, match="cannot read the API key file") as caught:
        load({"VEZA_API_KEY_FILE": str(missing)})
    assert str(missing) in str(caught.value)
    empty = tmp_path / "empty"
    empty.write_text("\n\n")
    with pytest.raises(SecretError, match="is empty"):
        load({"VEZA_API_KEY_FILE": str(empty)})
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + CANARY.encode())
    with pytest.raises(SecretError, match="not UTF-8") as caught:
        load({"VEZA_API_KEY_FILE": str(binary)})
    assert CANARY not in str(caught.value)
    huge = tmp_path / "huge"
    huge.write_bytes(b"k" * 70_000)
    with pytest.raises(SecretError, match="larger than"):
        load({"VEZA_API_KEY_FILE": str(huge)})


def test_both_sources_set_is_ambiguous(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(CANARY)
    with pytest.raises(SecretError, match="only one"):
        load({"VEZA_API_KEY": CANARY, "VEZA_API_KEY_FILE": str(key_file)})


def test_secret_error_exits_as_a_usage_error() -> None:
    with pytest.raises(SecretError) as caught:
        load({})
    assert caught.value.exit_code == 2


def test_log_filter_redacts_messages_arguments_and_tracebacks() -> None:
    registry = SecretFilter()
    secret = load_api_key({"VEZA_API_KEY": CANARY}, registry=registry)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(registry)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test_secret.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        logger.debug("header was Bearer %s", secret.reveal())
        logger.info(f"inline {CANARY} text")
        try:
            raise RuntimeError(f"server echoed {CANARY}")
        except RuntimeError:
            logger.exception("request failed")
        logger.warning("stack", stack_info=True, extra={"k": CANARY})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert CANARY not in output
    assert output.count(REDACTED) == 3
    assert "RuntimeError: server echoed ***" in output


def test_log_filter_leaves_other_records_alone() -> None:
    registry = SecretFilter()
    registry.register(Secret(CANARY))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("text",), None)
    assert registry.filter(record)
    assert record.getMessage() == "plain text"


def test_veza_api_key_overrides_the_environments_own_variable() -> None:
    registry = SecretFilter()
    env = {"ACME_KEY": "from-acme", "VEZA_API_KEY": "from-veza"}
    assert load_api_key(env, env_var="ACME_KEY", registry=registry).reveal() == "from-veza"
    assert load_api_key({"ACME_KEY": "from-acme"}, env_var="ACME_KEY", registry=registry).reveal() == "from-acme"


def test_another_secret_comes_from_its_variable_or_file_and_is_registered(tmp_path: Path) -> None:
    registry = SecretFilter()
    url = "redis://:pa55word-long@10.0.0.5:6379/0"
    assert load_secret({"R": f" {url}\n"}, what="the Redis URL", env_var="R", registry=registry).reveal() == url
    assert registry.redact(f"failed: {url}") == "failed: ***"
    (tmp_path / "redis").write_text(url + "\n")
    assert load_secret({}, what="the Redis URL", file=tmp_path / "redis", registry=registry).reveal() == url


def test_another_secret_that_is_missing_or_malformed_is_named_never_quoted(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="the Redis URL: the R environment variable is not set"):
        load_secret({}, what="the Redis URL", env_var="R")
    with pytest.raises(SecretError, match="the Redis URL in the R environment variable contains a space") as caught:
        load_secret({"R": "redis://:pa55 word@host"}, what="the Redis URL", env_var="R")
    assert "pa55" not in str(caught.value)
    with pytest.raises(SecretError, match="cannot read the Redis URL file"):
        load_secret({}, what="the Redis URL", file=tmp_path / "missing")
