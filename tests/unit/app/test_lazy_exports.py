"""runner.app's lazy exports: a name the CLI calls never resolves to a submodule of the same name.

A package's `__getattr__` is consulted only for a name it lacks, and importing `runner.app.X` sets the attribute X on
the package: a command named like a submodule (`publish_apply` beside `publish_apply.py`, before the module was
renamed) worked only while nothing had imported that module yet. In a process that had, `vqr publish apply` failed
with "'module' object is not callable".
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import runner.app as app


def test_no_export_is_named_like_a_submodule() -> None:
    submodules = {module.name for module in pkgutil.iter_modules(app.__path__)}
    assert submodules & set(app.__all__) == set()


def test_every_export_is_itself_once_every_submodule_is_imported() -> None:
    for module in pkgutil.iter_modules(app.__path__):
        importlib.import_module(f"runner.app.{module.name}")
    for name in app.__all__:
        assert not isinstance(getattr(app, name), types.ModuleType), name
