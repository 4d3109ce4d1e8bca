"""Untrusted text (query names, owners, API error messages) made safe for a chat message, one function per format.

`slack_text` for Slack mrkdwn (and the message's fallback `text`), `slack_plain` for its plain_text, `card_text`
for an Adaptive Card TextBlock's Markdown subset, `clip` to a length limit. Each first goes through
`sanitize.terminal_line` (one line, controls escaped, the API key and webhook URLs redacted). Pure string functions.
"""

from __future__ import annotations

import re

from runner.sanitize import terminal_line

# Slack's own rule: only &, < and > are control characters of mrkdwn, written as entities
# (api.slack.com/reference/surfaces/formatting#escaping). With `<` escaped no `<!channel>` or `<@U123>` can form;
# a bare @channel/@here/@everyone still pings when a message is sent with link_names, so a WORD JOINER breaks it.
_JOINER = "\u2060"
_SLACK_PINGS = re.compile(r"(?i)@(?=(channel|here|everyone)\b)")
# Adaptive Cards render a CommonMark subset (bold, italic, lists, links): backslash-escaping the punctuation that
# starts any of them keeps data literal; `<` and `>` too, so no `<at>` mention tag reaches Teams.
_CARD_MARKUP = re.compile(r"([\\`*_\[\]()#+\-!|~<>{}])")
_CARD_LIST_START = re.compile(r"^(\d+)\.")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with `…` when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def slack_text(value: object) -> str:
    text = terminal_line(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SLACK_PINGS.sub("@" + _JOINER, text)


def slack_plain(value: object) -> str:
    """A plain_text object's text: not parsed for markup or entities, so only controls and pings are handled."""
    return _SLACK_PINGS.sub("@" + _JOINER, terminal_line(value))


def card_text(value: object) -> str:
    text = _CARD_MARKUP.sub(r"\\\1", terminal_line(value))
    text = _CARD_LIST_START.sub(r"\1\\.", text)  # `1. ` would start an ordered list
    return text.replace("@", "@" + _JOINER)
