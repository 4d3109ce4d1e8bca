"""A project's CODEOWNERS file, by GitHub's rules: who owns a query file when the query names no `owner:`.

`read_codeowners(root) -> CodeOwners` reads the first of `.github/CODEOWNERS`, `CODEOWNERS`, `docs/CODEOWNERS`
under the project root (GitHub's search order; none is an empty rule set). `CodeOwners.owners_of(path)` gives the
owners of a path relative to the root: the last matching line wins; a line with a pattern and no owners leaves its
matches unowned. Patterns are gitignore-style as GitHub reads them: `*` stays within a directory, `**` crosses
them, a leading or inner `/` anchors at the root, a trailing `/` matches what is under a directory, `dir/*` matches
only the files directly in it; `!` and `[...]` are not supported there, so such lines are skipped (GitHub ignores
them too). Reads one file; the rest is pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
MAX_BYTES = 3 * 1024 * 1024  # GitHub ignores a larger CODEOWNERS file


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    regex: re.Pattern[str]


def _translate(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("(?:/.*)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The regex of one CODEOWNERS pattern over root-relative POSIX paths; None for what GitHub does not support."""
    if "!" in pattern[:1] or "[" in pattern or "]" in pattern:
        return None
    pattern = pattern.replace("\\#", "#")
    if pattern in {"*", "/*", "**", "/**", "/"}:
        return re.compile(r".+")
    directory = pattern.endswith("/")
    body = pattern.strip("/")
    if not body:
        return None
    anchored = pattern.startswith("/") or "/" in body
    head = "" if anchored else "(?:.*/)?"
    if directory:
        tail = "/.*"
    elif body.endswith("/*") and not body.endswith("/**"):
        tail = ""  # `docs/*`: the files directly in docs/, not those further down (GitHub's own example)
    else:
        tail = "(?:/.*)?"  # a file, or a directory and all below it
    return re.compile(f"{head}{_translate(body)}{tail}")


def parse_codeowners(text: str) -> tuple[Rule, ...]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = re.split(r"\s+", line)
        owners = []
        for token in tokens[1:]:
            if token.startswith("#"):
                break  # an inline comment
            owners.append(token)
        regex = compile_pattern(tokens[0])
        if regex is not None:
            rules.append(Rule(pattern=tokens[0], owners=tuple(owners), regex=regex))
    return tuple(rules)


@dataclass(frozen=True)
class CodeOwners:
    rules: tuple[Rule, ...] = ()
    source: str | None = None  # which file they came from, relative to the root

    def owners_of(self, path: str) -> tuple[str, ...]:
        """The owners of `path` (root-relative, forward slashes): those of the last line that matches it."""
        path = path.removeprefix("./").lstrip("/")
        for rule in reversed(self.rules):
            if rule.regex.fullmatch(path):
                return rule.owners
        return ()


def read_codeowners(root: Path) -> CodeOwners:
    """The first CODEOWNERS file GitHub would use; an unreadable or oversized one counts as none."""
    for location in LOCATIONS:
        path = root / location
        try:
            if not path.is_file() or path.stat().st_size > MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        return CodeOwners(rules=parse_codeowners(text), source=location)
    return CodeOwners()
