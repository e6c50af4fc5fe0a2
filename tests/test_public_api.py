"""The single public surface: every exported name resolves, and names the real object."""

from __future__ import annotations

import importlib

import pytest

import callscript


@pytest.mark.parametrize("name", sorted(callscript._EXPORTS))
def test_every_export_resolves_to_its_module(name: str) -> None:
    module = importlib.import_module(f"callscript.{callscript._EXPORTS[name]}")
    assert getattr(callscript, name) is getattr(module, name)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        callscript.Nope  # noqa: B018


def test_all_lists_every_export() -> None:
    assert set(callscript.__all__) == {"__version__", *callscript._EXPORTS}
