"""The HTML reports' one escaping of untrusted text (names, ids, messages from the API or the repository).

`e(value)`: the terminal channel's escaping first (a saved page is also read with `cat`/`less`, and raw ESC/BEL
would drive that terminal), then HTML escaping, quotes included (safe in attributes). A leaf module, so every part of
the HTML report (html_query, lifecycle_view, exceptions_view) escapes the same way without importing each other.
Pure.
"""

from __future__ import annotations

from html import escape

from runner.sanitize import terminal_text


def e(value: object) -> str:
    return escape(terminal_text(value), quote=True)
