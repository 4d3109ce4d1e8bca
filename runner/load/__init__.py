"""Bytes → (Document | None, findings), over the YAML parser's event stream: size, depth, tags, anchors,
duplicate keys rejected, every value's position kept. No ruamel object escapes; pure.
"""

from __future__ import annotations

from runner.load.document import DEFAULT_BACKEND, MAX_BYTES, disable_comments, load_yaml, load_yaml_file, read_source

__all__ = [
    "DEFAULT_BACKEND",
    "MAX_BYTES",
    "disable_comments",
    "load_yaml",
    "load_yaml_file",
    "read_source",
]
