"""Graph checks over a compiled flow's steps: reachability, ways out, what is captured where.

Pure functions over compiled steps; the compiler turns what they find into
problems with file:line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from callscript.compiled import CompiledStep, Interruption
from callscript.errors import Problem
from callscript.spec import RETURN


def prefix(step_id: str) -> str:
    """ "busy." for "busy.ask_time", "" for a step of the flow's own file."""
    return step_id.split(".", 1)[0] + "." if "." in step_id else ""


def edges(steps: Mapping[str, CompiledStep]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {sid: set() for sid in steps}
    for sid, step in steps.items():
        for answer in step.answers.values():
            if answer.target != RETURN:
                out[sid].add(answer.target)
            if answer.return_to:
                out[sid].add(answer.return_to)
    return out


def reachable(steps: Mapping[str, CompiledStep], graph: Mapping[str, set[str]],
              roots: Iterable[str], within: str | None = None) -> set[str]:
    seen: set[str] = set()
    stack = [r for r in roots if r in steps]
    while stack:
        sid = stack.pop()
        if sid not in seen and (within is None or prefix(sid) == within):
            seen.add(sid)
            stack.extend(graph[sid])
    return seen


def trapped(steps: Mapping[str, CompiledStep], graph: Mapping[str, set[str]],
            used: set[str]) -> list[str]:
    """Steps from which no path reaches an end (a terminal step, or a return)."""
    way_out = {sid for sid in used if steps[sid].terminal
               or any(a.target == RETURN for a in steps[sid].answers.values())}
    changed = True
    while changed:
        changed = False
        for sid in used - way_out:
            if graph[sid] & way_out:
                way_out.add(sid)
                changed = True
    return sorted(used - way_out, key=list(steps).index)


@dataclass(frozen=True, slots=True)
class CaptureGap:
    """A line or guard reads ``captured.NAME`` where some path arrives without it."""

    step: str
    name: str
    where: str  # "line", "note", "guard of answer X", "time limit"
    line: int | None


def captured_on_arrival(steps: Mapping[str, CompiledStep], start: str,
                        interruptions: Mapping[str, Interruption]) -> dict[str, frozenset[str]]:
    """For each step, the required captures every path to it has made (a must-analysis).

    Answers add their required captures on the way to their target (and to the step
    a `return_to` comes back to); an interruption starts with what every step that
    can raise it has in common; a return comes back to a step that already had its own.
    """
    everything = frozenset(c.name for s in steps.values() for a in s.answers.values()
                           for c in a.captures)
    facts: dict[str, frozenset[str]] = {sid: everything for sid in steps}
    facts[start] = frozenset()
    incoming: dict[str, list[tuple[str, frozenset[str]]]] = {sid: [] for sid in steps}
    raisers = [sid for sid, s in steps.items() if s.interruptible and not s.terminal]
    returns = {sid: frozenset(c.name for c in a.captures if c.required)
               for sid, s in steps.items() for a in s.answers.values() if a.target == RETURN}
    for sid, step in steps.items():
        for answer in step.answers.values():
            gained = frozenset(c.name for c in answer.captures if c.required)
            if answer.target != RETURN:
                incoming[answer.target].append((sid, gained))
            if not answer.return_to:
                continue
            # a call comes back with what the called sub-dialogue captured on its way out
            called = prefix(answer.target)
            back = [(r, g) for r, g in returns.items() if called and r.startswith(called)]
            incoming[answer.return_to].extend(back or [(sid, gained)])
    starts = {i.start for i in interruptions.values()}
    changed = True
    while changed:
        changed = False
        for sid in steps:
            if sid == start:
                continue
            sources = [facts[src] | gained for src, gained in incoming[sid]]
            if sid in starts:
                sources += [facts[r] for r in raisers]
            if not sources:
                continue
            new = frozenset.intersection(*sources)
            if new != facts[sid]:
                facts[sid] = new
                changed = True
    return facts


def capture_gaps(steps: Mapping[str, CompiledStep], start: str,
                 interruptions: Mapping[str, Interruption],
                 reads: Mapping[str, list[tuple[str, str, int | None]]]) -> list[CaptureGap]:
    """``reads`` maps a step to the (capture name, where, file line) its lines and guards read."""
    facts = captured_on_arrival(steps, start, interruptions)
    return [CaptureGap(sid, name, where, line)
            for sid, items in reads.items() if sid in facts
            for name, where, line in items if name not in facts[sid]]


def capture_problems(steps: Mapping[str, CompiledStep], start: str,
                     interruptions: Mapping[str, Interruption],
                     reads: Mapping[str, list[tuple[str, str, int | None]]]) -> list[Problem]:
    """Each read of ``captured.NAME`` where some path arrives without NAME, at its file:line."""
    return [Problem(steps[gap.step].file, gap.line,
                    f"{gap.where} reads captured.{gap.name}, which some path to step {gap.step!r} "
                    "arrives without (a guard sees only what earlier steps captured; an optional "
                    "capture may be absent): capture it as required on every path before this "
                    "step", f"steps.{gap.step.removeprefix(prefix(gap.step))}")
            for gap in capture_gaps(steps, start, interruptions, reads)]
