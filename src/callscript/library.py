"""Sets of flow files compiled together: the built-in flows, or a user's files."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from callscript.compile import Flow, compile_flow, index_specs
from callscript.errors import FlowError, Problem
from callscript.loader import LoadedSpec, builtin_specs, load_file
from callscript.rules.wording import DEFAULT_FORBIDDEN


class FlowLibrary:
    """Flow and sub-dialogue files by id; flows are compiled on first use.

    ``extra_forbidden`` adds a deployment's own forbidden phrases to 你 and 不知道.
    """

    def __init__(self, specs: Iterable[LoadedSpec], extra_forbidden: Iterable[str] = ()):
        self.specs = index_specs(specs)
        self.forbidden = (*DEFAULT_FORBIDDEN, *extra_forbidden)
        self._compiled: dict[str, Flow] = {}

    @property
    def flow_ids(self) -> list[str]:
        return sorted(i for i, s in self.specs.items() if s.spec.kind == "flow")

    def flow(self, flow_id: str) -> Flow:
        if flow_id not in self._compiled:
            loaded = self.specs.get(flow_id)
            if loaded is None or loaded.spec.kind != "flow":
                known = ", ".join(self.flow_ids) or "none"
                raise KeyError(f"unknown flow {flow_id!r}; known flows: {known}")
            self._compiled[flow_id] = compile_flow(loaded, self.specs, self.forbidden)
        return self._compiled[flow_id]

    def compile_all(self) -> dict[str, Flow]:
        """Every flow, compiled; all problems of all files in one FlowError."""
        problems: list[Problem] = []
        flows = {}
        for flow_id in self.flow_ids:
            try:
                flows[flow_id] = self.flow(flow_id)
            except FlowError as err:
                problems.extend(p for p in err.problems if p not in problems)
        if problems:
            raise FlowError(problems)
        return flows


# One lock for the built-in library: threads that ask at once on a cold start wait for
# the first one's compilation instead of compiling copies of their own.
_BUILTIN_LOCK = threading.Lock()
_BUILTIN: dict[tuple[str, ...], tuple[FlowLibrary, dict[str, Flow] | None]] = {}


def builtin_library(extra_forbidden: tuple[str, ...] = ()) -> FlowLibrary:
    with _BUILTIN_LOCK:
        known = _BUILTIN.get(extra_forbidden)
        if known is None:
            known = _BUILTIN[extra_forbidden] = (FlowLibrary(builtin_specs(), extra_forbidden), None)
        return known[0]


def builtin_flows(extra_forbidden: Iterable[str] = ()) -> dict[str, Flow]:
    """The five flows of the seed script, compiled once per process, also under threads.

    ``extra_forbidden``: a deployment's own forbidden phrases, checked in every agent line.
    Returns a new dict each time; the flows in it are the same objects.
    """
    key = tuple(extra_forbidden)
    with _BUILTIN_LOCK:
        known = _BUILTIN.get(key)
        if known is None or known[1] is None:
            library = known[0] if known else FlowLibrary(builtin_specs(), key)
            known = _BUILTIN[key] = (library, library.compile_all())
        flows = known[1]
        assert flows is not None
        return dict(flows)


def load_flows(*paths: str | Path, extra_forbidden: Iterable[str] = ()) -> dict[str, Flow]:
    """Compile the flows in ``paths``; they may include the built-in sub-dialogues by id.

    A user file whose id equals a built-in one replaces it.
    """
    problems: list[Problem] = []
    user: list[LoadedSpec] = []
    for path in paths:
        try:
            user.append(load_file(path))
        except FlowError as err:
            problems.extend(err.problems)
    if problems:
        raise FlowError(problems)
    user_index = index_specs(user)
    merged = [s for s in builtin_specs() if s.spec.id not in user_index] + user
    library = FlowLibrary(merged, extra_forbidden)
    flows = {}
    for loaded in user:
        try:
            if loaded.spec.kind == "flow":
                flows[loaded.spec.id] = library.flow(loaded.spec.id)
            else:  # checked on its own too: no flow given here may include it
                compile_flow(loaded, library.specs, library.forbidden, standalone=True)
        except FlowError as err:
            problems.extend(p for p in err.problems if p not in problems)
    if problems:
        raise FlowError(problems)
    return flows
