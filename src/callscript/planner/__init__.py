"""The worklist planner: customers + earlier calls + a policy -> who to call today.

Needs the ``planner`` extra (Polars): ``pip install 'callscript[planner]'``.
``import callscript`` never imports this package; the CLI imports it only for
``callscript plan``.

    from callscript.planner import Planner, builtin_policy, read_table, records_from_file
    planner = Planner(builtin_policy(), callscript.builtin_flows())
    result = planner.plan(read_table(path, "customers"), records_from_file(log), None, day)
"""

from __future__ import annotations

try:
    import polars  # noqa: F401 - fail early with the install hint
except ImportError as err:  # pragma: no cover - depends on the environment
    from callscript.errors import CallscriptError

    raise CallscriptError("the planner needs Polars: pip install 'callscript[planner]'") from err

from callscript.planner.inputs import (
    InputError,
    RecordSource,
    read_agents,
    read_table,
    records_from_file,
    write_frame,
)
from callscript.planner.plan import OUTPUT_COLUMNS, Planner, PlanResult
from callscript.planner.policy import LoadedPolicy, PolicyError, builtin_policy, load_policy

__all__ = [
    "OUTPUT_COLUMNS",
    "InputError",
    "LoadedPolicy",
    "PlanResult",
    "Planner",
    "PolicyError",
    "RecordSource",
    "builtin_policy",
    "load_policy",
    "read_agents",
    "read_table",
    "records_from_file",
    "write_frame",
]
