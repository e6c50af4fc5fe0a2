"""Path-cover case files (``*.cases.yaml``): reading them and replaying one case.

Shared by the pytest plugin, which replays each case as a test, and by
``callscript mutate``, which replays them against every mutant of a flow.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from callscript.errors import FlowError, Problem

if TYPE_CHECKING:  # imported where used: the pytest plugin imports this module in every run
    from callscript.compile import Flow
    from callscript.testing.walk import Move

CASES_SUFFIX = ".cases.yaml"


class CaseFailed(Exception):
    """A replayed case did not go where its file says."""


@dataclass(frozen=True)
class CaseFile:
    path: Path
    flow: str
    version: int
    library: str | None  # a built-in name or a folder relative to the file
    flow_file: str | None
    context: dict[str, Any]
    cases: tuple[dict[str, Any], ...]

    @classmethod
    def read(cls, path: Path) -> CaseFile:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not {"flow", "version", "context", "cases"} <= set(data):
            raise FlowError([Problem(str(path), 1, "a cases file has flow, version, context "
                                                   "and cases (write it with callscript cover)")])
        return cls(path, str(data["flow"]), int(data["version"]), data.get("library"),
                   data.get("flow_file"), data["context"], tuple(data["cases"]))


def case_files(folder: Path) -> Iterator[CaseFile]:
    """Every ``*.cases.yaml`` under ``folder``, in name order."""
    for path in sorted(folder.rglob(f"*{CASES_SUFFIX}")):
        yield CaseFile.read(path)


def case_moves(case: dict[str, Any]) -> list[Move]:
    from callscript.testing.walk import Move

    return [Move("answer", move["answer"], move.get("captures", {})) if "answer" in move
            else Move("interrupt", move["interrupt"]) for move in case["moves"]]


def run_case(flow: Flow, version: int, context: dict[str, Any], case: dict[str, Any]) -> None:
    """Replay ``case`` against ``flow``; raise CaseFailed where it goes elsewhere."""
    from callscript.testing.paths import replay_case

    if version != flow.version:
        raise CaseFailed(f"cases were written for {flow.id} v{version}; the flow "
                         f"is v{flow.version}: regenerate them with callscript cover")
    expect = case["expect"]
    moves = case_moves(case)
    if "required_context" in expect:  # cases written with `callscript cover --words`
        _check_required_context(flow, context, expect["required_context"])
    if any("required" in move for move in case["moves"]):
        _check_required_captures(flow, context, moves, [m.get("required", []) for m in
                                                        case["moves"]])
    record = replay_case(flow, context, moves).record()
    steps = [entry.step for entry in record.path]
    if steps != expect["steps"]:
        diverged = next((i for i, (a, b) in enumerate(zip(steps, expect["steps"], strict=False))
                         if a != b), min(len(steps), len(expect["steps"])))
        raise CaseFailed(f"went through {steps[diverged:diverged + 3]} at move {diverged}, "
                         f"expected {expect['steps'][diverged:diverged + 3]}")
    ended = record.disposition.id if record.disposition else None
    wanted = expect.get("disposition", expect.get("outcome"))  # `outcome`: before 0.2
    if ended != wanted:
        raise CaseFailed(f"ended {ended}, expected {wanted}")
    if "lines" in expect:  # cases written with `callscript cover --words`
        for i, (said, pinned) in enumerate(zip([e.lines for e in record.path], expect["lines"],
                                               strict=True)):
            if said != pinned:
                raise CaseFailed(f"said other words at {steps[i]} (path[{i}]) than the case "
                                 "expects")
    if "effects" in expect:
        from callscript.testing.paths import effects_of

        effects = effects_of(record)
        for kind, pinned in expect["effects"].items():
            if effects.get(kind) != pinned:
                raise CaseFailed(f"{kind}: {effects.get(kind)}, expected {pinned}")


def _check_required_context(flow: Flow, context: dict[str, Any], required: list[str]) -> None:
    from callscript.errors import CallscriptError
    from callscript.runtime import Call

    for path in required:
        part, name = path.split(".", 1)
        without = {**context, part: {k: v for k, v in (context.get(part) or {}).items()
                                     if k != name}}
        try:
            Call.start(flow, without)
        except CallscriptError:
            continue
        raise CaseFailed(f"a call starts without {path}, which the case says is required")


def _check_required_captures(flow: Flow, context: dict[str, Any], moves: list[Move],
                             required: list[list[str]]) -> None:
    from callscript.errors import CallscriptError
    from callscript.runtime import Call
    from callscript.testing.paths import case_clock
    from callscript.testing.walk import Move, apply

    call = Call.start(flow, context, clock=case_clock())
    for number, (move, names) in enumerate(zip(moves, required, strict=True)):
        for name in names:
            probe = Call.restore(flow, call.snapshot(), context, clock=case_clock())
            lacking = {k: v for k, v in move.captures.items() if k != name}
            try:
                apply(probe, Move("answer", move.id, lacking))
            except CallscriptError:
                continue
            raise CaseFailed(f"move {number}: {move.id} was taken without {name}, which the "
                             "case says is required")
        apply(call, move)


def first_failure(flow: Flow, files: Sequence[CaseFile]) -> str | None:
    """The first case of ``files`` that ``flow`` fails (or crashes), in words; None if all pass."""
    for file in files:
        for case in file.cases:
            try:
                run_case(flow, file.version, file.context, case)
            except CaseFailed as err:
                return f"{case['name']}: {err}"
            except Exception as err:  # a mutant may crash the call: the case noticed
                return f"{case['name']}: {type(err).__name__}"
    return None
