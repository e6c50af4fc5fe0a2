"""Help that reads as a manual: ``--context FILE``, ``-L DIR``, ``FLOW``, never ``<list[Path]>``.

Typer prints each parameter's Python type; this names what the user gives instead,
once, for every command (so a new option cannot bring the Python types back).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Typer carries its own copy of click: parameters are recognised by what they have

# what a value is, by parameter name, where its type does not say it well enough
NAMES = {"library": "DIR", "flow": "FLOW", "flows": "FLOW", "on": "YYYY-MM-DD",
         "agent": "FIELD=VALUE", "calls": "N", "seed": "N", "kind": "{flow|context|policy}"}


def _metavar(param: Any) -> str:
    if param.name in NAMES:
        return str(NAMES[param.name])
    desc = getattr(param, "type_descriptor", None)
    if desc is not None and getattr(desc, "is_choice", False) and desc.choices:
        return "{" + "|".join(str(getattr(c, "value", c)) for c in desc.choices) + "}"
    annotation = _element(getattr(desc, "annotation", None))
    if getattr(desc, "is_path", False) or annotation is Path:
        return "FILE"
    if annotation is int:
        return "N"
    return "TEXT"


def _element(annotation: Any) -> Any:
    """``list[Path]`` -> Path; ``Path | None`` -> Path."""
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return _element(args[0]) if args else annotation


def _no_type(ctx: Any) -> None:
    return None


def readable(command: Any) -> Any:
    """Give every parameter of ``command`` and its sub-commands a metavar."""
    for param in command.params:
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if param.metavar is None:
            param.metavar = _metavar(param)
        if param.param_type_name == "argument":
            # the argument's name is its metavar: no Python type beside it
            param.display_type_rich = _no_type
    for sub in getattr(command, "commands", {}).values():
        readable(sub)
    return command
