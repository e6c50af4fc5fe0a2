"""Render every template of a flow with typed sample values, before any call does.

``callscript check`` runs this: each line, return line, note, guard and time
limit of every step is rendered with a plausible context from the schema, then
again with each optional field absent, with every capture the flow takes. A
template that fails (a division by zero, arithmetic on a missing value, a
filter on the wrong type) is a problem at its file:line, never a traceback.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from callscript.compiled import CompiledStep, Flow, Line, template_variables
from callscript.errors import Problem
from callscript.testing.samples import context_values, sample_value, wanted_fields
from callscript.testing.walk import sample_capture


def _contexts(flow: Flow) -> Iterator[tuple[str, BaseModel]]:
    """A full sample context, then one without each field a call may leave out."""
    schema = flow.schema
    rng = random.Random(0)
    needed = set(wanted_fields(flow))
    full = {p: sample_value(spec, rng) for p, spec in schema.fields.items()}
    yield "", schema.model.model_validate(context_values(schema, full))
    for path in schema.fields:
        if path in needed or schema.fields[path].default is not None:
            continue
        without = {p: v for p, v in full.items() if p != path}
        yield f" (without {path})", schema.model.model_validate(context_values(schema, without))


def _render(line: Line, variables: dict[str, Any]) -> str | None:
    try:
        line.render(variables)
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return None


def _step_problems(step: CompiledStep, variables: dict[str, Any], note: str) -> Iterator[Problem]:
    where = f"steps.{step.id}"
    for kind, lines in (("say", step.lines), ("say_on_return", step.return_lines),
                        ("notes", step.notes)):
        for line in lines:
            failure = _render(line, variables)
            if failure:
                yield Problem(step.file, line.file_line, f"{kind} fails to render{note}: {failure}",
                              where)
    guards = [(f"answer {a.id!r} guard", a.guard, a.line) for a in step.answers.values() if a.guard]
    if step.time_limit is not None:
        guards.append(("time limit", step.time_limit[0], step.line))
    for what, guard, line_no in guards:
        try:
            guard.evaluate(**variables)
        except Exception as err:
            yield Problem(step.file, line_no, f"{what} fails{note}: {type(err).__name__}: {err}",
                          where)


def render_problems(flow: Flow) -> list[Problem]:
    """Every template of ``flow`` that fails with some valid context; [] when all render."""
    rng = random.Random(0)
    captured = {name: sample_capture(spec, rng) for name, spec in flow.captures.items()}
    problems: dict[tuple[str, int | None, str], Problem] = {}
    for note, context in _contexts(flow):
        variables = template_variables(context, captured)
        if flow.applies_when is not None:
            try:
                flow.applies_when.evaluate(**variables)
            except Exception as err:
                problem = Problem(flow.files[0], None, f"applies_when fails{note}: "
                                                       f"{type(err).__name__}: {err}", "applies_when")
                problems.setdefault((problem.file, problem.line, "applies_when"), problem)
        for step in flow.steps.values():
            for problem in _step_problems(step, variables, note):
                problems.setdefault((problem.file, problem.line, problem.where), problem)
    return list(problems.values())
