"""The worklist planner: customers + earlier calls + a policy -> who to call today.

Needs the ``planner`` extra (Polars): ``pip install 'callscript[planner]'``.
``import callscript`` never imports this package, and its names are imported on
first use (PEP 562), so ``callscript.planner.policy`` (which needs no Polars)
can be read without the extra::

    from callscript.library import builtin_library
    from callscript.planner import Planner, builtin_policy, read_table, records_from_file
    planner = Planner(builtin_policy(), builtin_library(), {"deployment": {"hotline": "10010", ...}})
    result = planner.plan(read_table(path, "customers"), records_from_file(log), None, day)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "InputError": "inputs", "RecordSource": "inputs", "read_agents": "inputs", "read_table": "inputs",
    "records_from_file": "inputs", "records_from_frame": "inputs", "write_frame": "inputs",
    "OUTPUT_COLUMNS": "plan", "PlanResult": "plan", "Planner": "plan",
    "LoadedPolicy": "policy", "PolicyError": "policy", "builtin_policy": "policy",
    "library_policy": "policy", "load_policy": "policy",
}

__all__ = [
    "OUTPUT_COLUMNS",
    "InputError",
    "LoadedPolicy",
    "PlanResult",
    "Planner",
    "PolicyError",
    "RecordSource",
    "builtin_policy",
    "library_policy",
    "load_policy",
    "read_agents",
    "read_table",
    "records_from_file",
    "records_from_frame",
    "write_frame",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'callscript.planner' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"callscript.planner.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from callscript.planner.inputs import (
        InputError,
        RecordSource,
        read_agents,
        read_table,
        records_from_file,
        records_from_frame,
        write_frame,
    )
    from callscript.planner.plan import OUTPUT_COLUMNS, Planner, PlanResult
    from callscript.planner.policy import (
        LoadedPolicy,
        PolicyError,
        builtin_policy,
        library_policy,
        load_policy,
    )
