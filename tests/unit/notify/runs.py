"""Hand-made run directories for the notification tests: the golden run.json (tests/golden/run-fixture), and one
that carries CONTRACT14's per-query `exceptions` and `lifecycle` and `as_of`, with hostile text in every field."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from tests.support.report_fixture import FIXTURE

HOSTILE = "<!channel> @here **bold** [x](https://evil.example) & <at>bob</at> \x1b[31m#1"


def rule(index: int, expires: str, *, owner: str = "sec-team", reason: str = "accepted: break-glass account",
         matched: int = 1) -> dict[str, Any]:
    """An `exceptions` entry as CONTRACT14 writes it: `ExceptionRule.to_json()` plus `matched`."""
    return {"id": f"exceptions/okta.yaml#{index}", "query": "okta-*", "reason": reason, "owner": owner,
            "expires": expires, "ticket": None, "file": "exceptions/okta.yaml", "line": 3 + index,
            "entity": {"id": f"00u{index}"}, "matched": matched}


def golden_run(tmp_path: Path) -> Path:
    target = tmp_path / "golden-run"
    shutil.copytree(FIXTURE, target)
    return target


def contract_run(tmp_path: Path, *, name: str = "contract-run") -> Path:
    """The golden run with `as_of` 2025-03-01 and, on its first query, two active exceptions (one expiring within
    14 days, one in 90) and one expired, a lifecycle with 2 new entities, and hostile text in names and reasons."""
    data = json.loads((FIXTURE / "run.json").read_text())
    data = copy.deepcopy(data)
    data["as_of"] = "2025-03-01T02:00:00Z"
    data["clock"] = "server"
    first = data["queries"][0]
    first["exceptions"] = {"active": [rule(0, "2025-03-10", reason=HOSTILE), rule(1, "2025-06-01")],
                           "expired": [rule(2, "2025-02-20", owner=HOSTILE)], "excepted_rows": 2}
    first["lifecycle"] = {"previous_run": "20250301T020000Z-0a0a", "new": 2,
                          "persisting": 2, "resolved": 1, "new_sample": [], "resolved_sample": [],
                          "oldest": []}
    data["queries"][1]["name"] = "admin-roles " + HOSTILE
    target = tmp_path / name
    target.mkdir()
    (target / "run.json").write_text(json.dumps(data))
    return target
