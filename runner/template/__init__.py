"""A JSON value + variables → rendered value + findings, in a sandboxed, time- and size-budgeted Jinja; every
undefined name reported. Pure.
"""

from __future__ import annotations

from runner.template.render import Renderer

__all__ = [
    "Renderer",
]
