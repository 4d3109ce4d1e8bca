"""The lazy exports of runner.app, runner.findings and runner.report: a name never resolves to a submodule of the
same name.

A package's `__getattr__` is consulted only for a name it lacks, and importing `package.X` sets the attribute X on
the package: a command named like a submodule (`publish_apply` beside `publish_apply.py`, before the module was
renamed) worked only while nothing had imported that module yet. In a process that had, `vqr publish apply` failed
with "'module' object is not callable".
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

LAZY_PACKAGES = ("runner.app", "runner.findings", "runner.report")  # the packages with a module __getattr__


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_no_export_is_named_like_a_submodule(name: str) -> None:
    package = importlib.import_module(name)
    assert callable(getattr(package, "__getattr__", None)), f"{name} has no lazy exports any more"
    submodules = {module.name for module in pkgutil.iter_modules(package.__path__)}
    assert submodules & set(package.__all__) == set()


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_export_is_itself_once_every_submodule_is_imported(name: str) -> None:
    package = importlib.import_module(name)
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{name}.{module.name}")
    for export in package.__all__:
        assert not isinstance(getattr(package, export), types.ModuleType), export
