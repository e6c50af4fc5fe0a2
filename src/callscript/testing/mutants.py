"""Mutants of a flow file: small, plausible mistakes an author (or an edit) could make.

Each mutant is the file's spec with one change, located at the ``file:line`` of
what was changed:

- retarget: an answer leads to another step of the file;
- drop_capture: a capture is no longer recorded;
- optional: a required capture (or context field) becomes optional;
- drop_line: an agent line is not said;
- swap_lines: a step's first line is exchanged with the next speaking step's;
- drop_effect: an effect (follow-up, escalation, complaint, disposition) is not applied;
- negate_guard: a guard is true exactly when it was false;
- disposition: a step or effect ends the call with another declared disposition.

The descriptions name steps, answers and fields, never the words of a line.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscript.loader import LoadedSpec, format_loc
from callscript.spec import FlowSpec

Data = dict[str, Any]
KINDS = ("retarget", "drop_capture", "optional", "drop_line", "swap_lines", "drop_effect",
         "negate_guard", "disposition")


@dataclass(frozen=True)
class Mutant:
    spec_id: str  # the flow or sub-dialogue whose file was changed
    kind: str
    file: str
    line: int | None
    where: str  # the path inside the file, e.g. steps.greet.answers[0].to
    change: str  # what was changed, in words
    data: Data = field(repr=False, compare=False)  # the mutated file, as plain data

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{at}: {self.where}: {self.change}"

    def loaded(self, original: LoadedSpec) -> LoadedSpec:
        """The mutated file with the original's source map (lines of the original)."""
        return LoadedSpec(FlowSpec.model_validate(self.data), original.source)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "file": self.file, "line": self.line, "where": self.where,
                "change": self.change}


Edit = Callable[[Data], None]


def flow_mutants(loaded: LoadedSpec, dispositions: Sequence[str],
                 steps: Collection[str] | None = None) -> list[Mutant]:
    """Every mutant of one flow or sub-dialogue file, in file order; ``dispositions``: the
    declared ids. ``steps``: mutate only these steps of the file (those a flow can reach:
    a change to a step no call of the flow reaches is no change to the flow)."""
    base: Data = loaded.spec.model_dump(by_alias=True, exclude_unset=True)
    out: list[Mutant] = []
    for kind, loc, change, edit in _edits(loaded.spec, list(dispositions)):
        if steps is not None and loc[0] == "steps" and loc[1] not in steps:
            continue
        data = copy.deepcopy(base)
        edit(data)
        out.append(Mutant(loaded.spec.id, kind, loaded.source.file, loaded.source.line(loc), format_loc(loc),
                          change, data))
    return out


def _edits(spec: FlowSpec, dispositions: list[str]) -> Iterator[tuple[str, tuple[Any, ...], str,
                                                                        Edit]]:
    step_ids = list(spec.steps)
    for name in spec.context.required:
        yield ("optional", ("context", "required"), f"context field {name} made optional",
               _context_optional(name))
    for index, step_id in enumerate(step_ids):
        step = spec.steps[step_id]
        at: tuple[Any, ...] = ("steps", step_id)
        for k in range(len(step.say)):
            yield ("drop_line", (*at, "say", k), f"line {k + 1} of {step_id} dropped",
                   _delete((*at, "say"), k))
        other = next((s for s in step_ids[index + 1:] + step_ids[:index]
                      if spec.steps[s].say and s != step_id), None)
        if step.say and other is not None and spec.steps[other].say[0] != step.say[0]:
            yield ("swap_lines", (*at, "say", 0), f"first line of {step_id} swapped with "
                                                   f"{other}'s", _swap(step_id, other))
        yield from _captures(at, step_id, [c.name for c in step.capture],
                             [c.required for c in step.capture])
        yield from _effects(at, step_id, [e.disposition for e in step.effects], dispositions)
        if step.disposition is not None:
            new = _next(dispositions, step.disposition)
            if new is not None:
                yield ("disposition", (*at, "disposition"),
                       f"{step_id} ends {new} instead of {step.disposition}",
                       _set((*at, "disposition"), new))
        for i, answer in enumerate(step.answers):
            here = (*at, "answers", i)
            name = f"{step_id}.{answer.id}"
            target = _retarget(step_ids, step_id, answer.to)
            if target is not None:
                yield ("retarget", (*here, "to"), f"answer {name} leads to {target} instead of "
                                                  f"{answer.to}", _set((*here, "to"), target))
            if answer.guard is not None:
                yield ("negate_guard", (*here, "guard"), f"guard of answer {name} negated",
                       _negate(here))
            yield from _captures(here, name, [c.name for c in answer.capture],
                                 [c.required for c in answer.capture])
            yield from _effects(here, name, [e.disposition for e in answer.effects], dispositions)


def _captures(at: tuple[Any, ...], owner: str, names: list[str],
              required: list[bool]) -> Iterator[tuple[str, tuple[Any, ...], str, Edit]]:
    for j, name in enumerate(names):
        yield ("drop_capture", (*at, "capture", j), f"capture {name} of {owner} dropped",
               _delete((*at, "capture"), j))
        if required[j]:
            yield ("optional", (*at, "capture", j), f"capture {name} of {owner} made optional",
                   _set((*at, "capture", j, "required"), False))


def _effects(at: tuple[Any, ...], owner: str, ends: list[str | None], dispositions: list[str],
             ) -> Iterator[tuple[str, tuple[Any, ...], str, Edit]]:
    for j, ended in enumerate(ends):
        yield ("drop_effect", (*at, "effects", j), f"effect {j + 1} of {owner} removed",
               _delete((*at, "effects"), j))
        new = _next(dispositions, ended) if ended is not None else None
        if ended is not None and new is not None:
            yield ("disposition", (*at, "effects", j, "disposition"),
                   f"effect {j + 1} of {owner} sets {new} instead of {ended}",
                   _set((*at, "effects", j, "disposition"), new))


def _next(choices: list[str], current: str) -> str | None:
    """The choice after ``current`` (cyclically), so each mutant is one fixed, repeatable change."""
    others = [c for c in choices if c != current]
    if not others:
        return None
    after = choices.index(current) + 1 if current in choices else 0
    return next((c for c in choices[after:] + choices[:after] if c != current), None)


def _retarget(step_ids: list[str], step_id: str, target: str) -> str | None:
    """The step after the current target in file order, never the answer's own step."""
    start = step_ids.index(target) + 1 if target in step_ids else step_ids.index(step_id) + 1
    order = step_ids[start:] + step_ids[:start]
    return next((s for s in order if s not in (target, step_id)), None)


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _delete(path: tuple[Any, ...], index: int) -> Edit:
    def edit(data: Data) -> None:
        del _get(data, path)[index]
    return edit


def _set(path: tuple[Any, ...], value: Any) -> Edit:
    def edit(data: Data) -> None:
        _get(data, path[:-1])[path[-1]] = value
    return edit


def _swap(one: str, other: str) -> Edit:
    def edit(data: Data) -> None:
        first, second = data["steps"][one]["say"], data["steps"][other]["say"]
        first[0], second[0] = second[0], first[0]
    return edit


def _negate(answer: tuple[Any, ...]) -> Edit:
    def edit(data: Data) -> None:
        holder = _get(data, answer)
        guard = holder["guard"]
        if isinstance(guard, dict):
            holder["guard"] = {**guard, "if": f"not ({guard['if']})"}
        else:
            holder["guard"] = f"not ({guard})"
    return edit


def _context_optional(name: str) -> Edit:
    def edit(data: Data) -> None:
        context = data["context"]
        context["required"] = [n for n in context["required"] if n != name]
        context["optional"] = [*context.get("optional", []), name]
    return edit
