"""`vqr publish apply`'s journal (schema 5): a call is on disk before it is sent, and an apply that never finished is
found again, with its calls, by the next apply of the same environment, target and project."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from runner.state import open_journal


def test_a_call_is_recorded_before_it_is_sent_and_an_unfinished_apply_is_found_again(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with open_journal(path) as journal:
        log = journal.publish
        log.start("a1", env="prod", target="https://veza", project="acme", plan_digest="d1")
        log.sending("a1", 0, action="create", name="q1", saved_id=None)
        log.answered("a1", 0, result_id="id-1")
        log.sending("a1", 1, action="update", name="q2", saved_id="id-2")
        # What a SIGKILL leaves: another connection (the next process) sees both rows, the second still sending.
        with sqlite3.connect(path) as raw:
            assert raw.execute("SELECT seq, state FROM publish_calls ORDER BY seq").fetchall() == [
                (0, "done"), (1, "sending")]
    with open_journal(path) as journal:
        found = journal.publish.interrupted(env="prod", target="https://veza", project="acme")
        assert found is not None and found.apply_id == "a1" and found.plan_digest == "d1" and found.done == 1
        assert [(c.name, c.state, c.result_id) for c in found.calls] == [
            ("q1", "done", "id-1"), ("q2", "sending", None)]
        assert journal.publish.interrupted(env="dev", target="https://veza", project="acme") is None
        journal.publish.abandon("a1")
        assert journal.publish.interrupted(env="prod", target="https://veza", project="acme") is None


def test_a_finished_apply_is_not_interrupted_and_a_failed_call_keeps_its_error(tmp_path: Path) -> None:
    with open_journal(tmp_path / "state.sqlite") as journal:
        log = journal.publish
        log.start("a1", env="e", target="t", project="p", plan_digest="d")
        log.sending("a1", 0, action="delete", name="q", saved_id="7")
        log.answered("a1", 0, error="HTTP 500 from Veza")
        log.finish("a1", "failed")
        assert log.interrupted(env="e", target="t", project="p") is None
        log.start("a2", env="e", target="t", project="p", plan_digest="d")
        found = log.interrupted(env="e", target="t", project="p")
        assert found is not None and found.apply_id == "a2" and found.calls == ()
