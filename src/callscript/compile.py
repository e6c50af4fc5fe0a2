"""Compile flow specs into runnable flows: one transitions machine per flow.

The compiler sees the flow and every sub-dialogue it reaches, and refuses, each
with file:line, everything that would only fail during a call: unknown targets
and includes, unreachable steps, steps with no way out, template errors,
undeclared template variables, unknown guard fields, private attributes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from callscript.compiled import (
    INTERRUPT_PREFIX,
    AnswerOption,
    CompiledAnswer,
    CompiledStep,
    Flow,
    Guard,
    Interruption,
    Line,
    template_variables,
)
from callscript.context import ContextSchema
from callscript.dispositions import Disposition
from callscript.effect_checks import effect_problems
from callscript.errors import FlowError, Problem
from callscript.graph import capture_problems, edges, prefix, reachable, trapped
from callscript.loader import LoadedSpec, Loc, SourceMap
from callscript.render import (
    Reads,
    TemplateProblem,
    has_template_syntax,
    parse_guard,
    parse_line,
    render,
)
from callscript.rules.wording import DEFAULT_FORBIDDEN, forbidden_in
from callscript.spec import RETURN, AnswerSpec, CaptureSpec, FlowSpec, StepSpec

__all__ = ["INTERRUPT_PREFIX", "AnswerOption", "CompiledStep", "Flow", "compile_flow",
           "template_variables"]

# What a line or guard reads of `captured`, per step: (name, where, file line)
CaptureReads = dict[str, list[tuple[str, str, int | None]]]


@dataclass
class _Unit:
    """One file being compiled, with the prefix of its steps."""

    loaded: LoadedSpec
    prefix: str  # "" for the flow, "busy." for sub-dialogue busy

    @property
    def spec(self) -> FlowSpec:
        return self.loaded.spec

    @property
    def source(self) -> SourceMap:
        return self.loaded.source


class _Compiler:
    def __init__(self, flow: LoadedSpec, library: Mapping[str, LoadedSpec],
                 forbidden: Sequence[str], schema: ContextSchema,
                 dispositions: Mapping[str, Disposition], standalone: bool = False,
                 library_name: str = "") -> None:
        self.flow = flow
        self.library_name = library_name
        self.standalone = standalone  # a sub-dialogue compiled on its own, to check it
        self.library = library
        self.forbidden = forbidden
        self.schema = schema
        self.dispositions = dispositions
        self.problems: list[Problem] = []
        self.units: dict[str, _Unit] = {}
        self.step = ""  # the qualified id of the step being compiled
        self.capture_reads: CaptureReads = {}
        self.spoken: dict[str, set[str]] = {}  # step -> context paths its lines say

    def fail(self, unit: _Unit, loc: Loc, message: str, line_offset: int = 0) -> None:
        problem = unit.source.problem(loc, message)
        if line_offset and problem.line is not None:
            problem = Problem(problem.file, problem.line + line_offset, problem.message, problem.where)
        self.problems.append(problem)

    # -- files -------------------------------------------------------------

    def collect_units(self) -> None:
        sub_root = self.flow.spec.kind == "subdialogue"
        root = _Unit(self.flow, f"{self.flow.spec.id}." if sub_root else "")
        if sub_root and not self.standalone:
            self.fail(root, ("kind",), "a sub-dialogue cannot be compiled as a flow")
        self.root = root
        self.units[self.flow.spec.id if sub_root else ""] = root
        pending: list[tuple[_Unit, Loc, str]] = []
        for key in ("include", "interruptions"):
            for i, sub_id in enumerate(getattr(root.spec, key)):
                pending.append((root, (key, i), sub_id))
        while pending:
            unit, loc, sub_id = pending.pop(0)
            if sub_id in self.units:
                continue  # mutual includes: each file once
            sub = self.library.get(sub_id)
            if sub is None or sub.spec.kind != "subdialogue":
                self.fail(unit, loc, f"unknown sub-dialogue {sub_id!r}")
                continue
            new = _Unit(sub, f"{sub_id}.")
            self.units[sub_id] = new
            pending.extend((new, ("include", i), s) for i, s in enumerate(sub.spec.include))

    # -- references ----------------------------------------------------------

    def resolve(self, unit: _Unit, loc: Loc, target: str) -> str | None:
        if target == RETURN:
            if unit.prefix == "":
                self.fail(unit, loc, "`return` is only meaningful in a sub-dialogue")
                return None
            return RETURN
        if "." in target:
            sub_id, step = target.split(".", 1)
            sub = self.units.get(sub_id)
            if sub is None:
                self.fail(unit, loc, f"target {target!r} names sub-dialogue {sub_id!r}, "
                                     "which this file does not include")
                return None
            if step not in sub.spec.steps:
                self.fail(unit, loc, f"unknown target {target!r}: {sub_id} has no step {step!r}")
                return None
            return f"{sub.prefix}{step}"
        if target not in unit.spec.steps:
            self.fail(unit, loc, f"unknown target {target!r}")
            return None
        return f"{unit.prefix}{target}"

    def check_reads(self, unit: _Unit, loc: Loc, reads: Reads, declared: set[str],
                    capture_names: set[str], what: str) -> None:
        base_line = unit.source.line(loc)
        for full, line in reads.paths.items():
            # customer.birthday.month reads the field customer.birthday (an attribute of its value)
            path = ".".join(full.split(".")[:2])
            if path.split(".", 1)[0] == "captured":
                name = path.split(".")[1] if "." in path else ""
                if name not in capture_names:
                    self.fail(unit, loc, f"{what} reads {path!r}, but the flow captures no "
                                         f"{name or 'such field'}", line - 1)
                elif self.step:
                    at = None if base_line is None else base_line + line - 1
                    self.capture_reads.setdefault(self.step, []).append((name, what, at))
            elif path not in self.schema.fields:  # holds exactly the valid part.name paths
                hint = self.schema.file or "the library's context.yaml"
                self.fail(unit, loc, f"{what} reads {path!r}, which is not a context field "
                                     f"(declare it in {hint})", line - 1)
            elif path not in declared:
                self.fail(unit, loc, f"{what} reads {path!r}, which the flow's context does not "
                                     "declare (add it to context.required or context.optional)",
                          line - 1)
            elif what == "line" and self.step:
                self.spoken.setdefault(self.step, set()).add(path)

    def guard(self, unit: _Unit, loc: Loc, source: str, declared: set[str],
              capture_names: set[str], label: str = "") -> Guard | None:
        try:
            evaluate, reads = parse_guard(source)
        except TemplateProblem as err:
            self.fail(unit, loc, str(err))
            return None
        self.check_reads(unit, loc, reads, declared, capture_names, "guard")
        return Guard(source, evaluate, label)

    def line(self, unit: _Unit, loc: Loc, source: str, declared: set[str],
             capture_names: set[str], spoken: bool = True) -> Line | None:
        for phrase in forbidden_in(source, self.forbidden) if spoken else ():
            self.fail(unit, loc, f"agent line contains the forbidden phrase {phrase!r}")
        file_line = unit.source.line(loc)
        if not has_template_syntax(source):
            return Line(source.removesuffix("\n"), None, file_line)
        try:
            template, reads = parse_line(source)
        except TemplateProblem as err:
            self.fail(unit, loc, str(err), err.line - 1)
            return None
        self.check_reads(unit, loc, reads, declared, capture_names, "line" if spoken else "note")
        if not reads.paths:  # template syntax, but nothing read: render once now
            return Line(render(template, {}), None, file_line)
        return Line(source, template, file_line)

    # -- the whole flow --------------------------------------------------------

    def declared_context(self) -> tuple[set[str], set[str]]:
        required: set[str] = set()
        optional: set[str] = set()
        for unit in self.units.values():
            for key, bucket in (("required", required), ("optional", optional)):
                for i, path in enumerate(getattr(unit.spec.context, key)):
                    if path not in self.schema.fields:
                        known = ", ".join(sorted(self.schema.fields))
                        self.fail(unit, ("context", key, i),
                                  f"unknown context field {path!r}; known fields: {known}")
                    bucket.add(path)
        return required, optional - required

    def all_captures(self) -> dict[str, CaptureSpec]:
        captures: dict[str, CaptureSpec] = {}
        for unit in self.units.values():
            for step_id, step in unit.spec.steps.items():
                for i, answer in enumerate(step.answers):
                    for j, cap in enumerate((*step.capture, *answer.capture)):
                        seen = captures.setdefault(cap.name, cap)
                        if (seen.type, seen.sensitive, seen.choices) != (cap.type, cap.sensitive,
                                                                         cap.choices):
                            loc: Loc = ("steps", step_id, "answers", i, "capture", j)
                            self.fail(unit, loc, f"capture {cap.name!r} is declared elsewhere "
                                                 "with another type, sensitivity or choices")
        return captures

    def compile_step(self, unit: _Unit, step_id: str, step: StepSpec, declared: set[str],
                     capture_names: set[str]) -> CompiledStep:
        base: Loc = ("steps", step_id)
        self.step = f"{unit.prefix}{step_id}"

        def compiled(key: str, sources: list[str]) -> list[Line]:
            out = [self.line(unit, (*base, key, i), source, declared, capture_names,
                             spoken=key != "notes") for i, source in enumerate(sources)]
            return [line for line in out if line is not None]

        lines, notes = compiled("say", step.say), compiled("notes", step.notes)
        return_lines = compiled("say_on_return", step.say_on_return)
        answers: dict[str, CompiledAnswer] = {}
        for i, answer in enumerate(step.answers):
            answers[answer.id] = self.compile_answer(unit, (*base, "answers", i), step, answer,
                                                     declared, capture_names)
        time_limit = None
        if step.time_limit is not None:
            seconds = self.guard(unit, (*base, "time_limit", "seconds"), step.time_limit.seconds,
                                 declared, capture_names)
            time_limit = (seconds, step.time_limit.answer) if seconds else None
        self.step = ""
        return CompiledStep(
            id=f"{unit.prefix}{step_id}", title=step.title or f"{unit.prefix}{step_id}",
            file=unit.source.file, line=unit.source.line(base), lines=tuple(lines), notes=tuple(notes),
            return_lines=tuple(return_lines), answers=answers, effects=tuple(step.effects),
            disposition=step.disposition, marks=tuple(step.marks), interruptible=step.interruptible,
            time_limit=time_limit, customer_hangs_up_first=step.customer_hangs_up_first,
            options=tuple(AnswerOption(a.id, a.label, a.captures) for a in answers.values()),
            static_lines=_static(lines), static_notes=_static(notes),
        )

    def compile_answer(self, unit: _Unit, loc: Loc, step: StepSpec, answer: AnswerSpec,
                       declared: set[str], capture_names: set[str]) -> CompiledAnswer:
        target = self.resolve(unit, (*loc, "to"), answer.to) or RETURN
        return_to = None
        if answer.return_to is not None:
            return_to = self.resolve(unit, (*loc, "return_to"), answer.return_to)
            if answer.to == RETURN:
                self.fail(unit, (*loc, "return_to"), "return_to calls a sub-dialogue; it cannot "
                                                     "go with `to: return`")
        guard = None
        if answer.guard is not None:
            source, label = ((answer.guard, "") if isinstance(answer.guard, str)
                             else (answer.guard.if_, answer.guard.label))
            where = (*loc, "guard") if isinstance(answer.guard, str) else (*loc, "guard", "if")
            guard = self.guard(unit, where, source, declared, capture_names, label)
        names = [c.name for c in (*step.capture, *answer.capture)]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.fail(unit, (*loc, "capture"), f"capture {name!r} is declared twice for this answer")
        return CompiledAnswer(answer.id, answer.label, target, return_to, guard,
                              (*step.capture, *answer.capture), tuple(answer.effects),
                              unit.source.line(loc))

    def check_graph(self, steps: Mapping[str, CompiledStep],
                    interruptions: Mapping[str, Interruption]) -> set[str]:
        """Refuse dead and trapped steps; return the steps this flow can reach."""
        graph = edges(steps)
        # Dead code in a file: steps neither its start nor any other file leads to.
        entered = {t for sid, out in graph.items() for t in out if prefix(t) != prefix(sid)}
        for unit in self.units.values():
            roots = [f"{unit.prefix}{unit.spec.start}",
                     *(t for t in entered if prefix(t) == unit.prefix)]
            alive = reachable(steps, graph, roots, within=unit.prefix)
            for local in unit.spec.steps:
                if f"{unit.prefix}{local}" not in alive:
                    self.fail(unit, ("steps", local), f"step {local!r} is unreachable")
        start = f"{self.root.prefix}{self.flow.spec.start}"
        used = reachable(steps, graph, [start, *(i.start for i in interruptions.values())])
        for sid in trapped(steps, graph, used):
            unit = self.units[prefix(sid).rstrip(".")]
            local = sid.removeprefix(unit.prefix)
            self.fail(unit, ("steps", local),
                      f"step {local!r} has no way out: no path from it reaches an end")
        return used

    def compile(self) -> Flow:
        self.collect_units()
        spec = self.flow.spec
        root = self.root
        start = f"{root.prefix}{spec.start}"
        required, optional = self.declared_context()
        declared = required | optional | set(self.schema.implicit)
        captures = self.all_captures()
        capture_names = set(captures)
        for unit in self.units.values():
            if unit.spec.start not in unit.spec.steps:
                self.fail(unit, ("start",),
                          f"start step {unit.spec.start!r} is not a step of this file")
        applies = None
        if spec.applies_when is not None:
            source, label = ((spec.applies_when, "") if isinstance(spec.applies_when, str)
                             else (spec.applies_when.if_, spec.applies_when.label))
            applies = self.guard(root, ("applies_when",), source, declared, set(), label)
        interruptions: dict[str, Interruption] = {}
        for i, sub_id in enumerate(spec.interruptions):
            sub = self.units.get(sub_id)
            if sub is None:
                continue  # reported by collect_units
            if not sub.spec.raise_label:
                self.fail(root, ("interruptions", i),
                          f"sub-dialogue {sub_id!r} has no raise_label, so it cannot interrupt")
                continue
            interruptions[sub_id] = Interruption(sub_id, sub.spec.raise_label,
                                                 f"{sub.prefix}{sub.spec.start}")
        steps: dict[str, CompiledStep] = {}
        for unit in self.units.values():
            for step_id, step in unit.spec.steps.items():
                for loc, message in effect_problems(step_id, step, captures, declared,
                                                    self.schema, self.dispositions):
                    self.fail(unit, loc, message)
                steps[f"{unit.prefix}{step_id}"] = self.compile_step(
                    unit, step_id, step, declared, capture_names)
        milestones = tuple(
            frozenset(self.resolve(root, ("milestones", i, j), target) or "" for j, target in
                      enumerate(group)) for i, group in enumerate(spec.milestones))
        used = self.check_graph(steps, interruptions) if not self.problems else set()
        # Only what this flow can reach: a shared file may hold steps other flows use.
        steps = {sid: step for sid, step in steps.items() if sid in used}
        if not self.problems:
            # a line or guard may read only what every path to it has captured (required)
            self.problems += capture_problems(steps, start, interruptions, self.capture_reads)
        if self.problems:
            raise FlowError(self.problems)
        captures = {c.name: c for step in steps.values() for a in step.answers.values()
                    for c in a.captures}
        spoken = frozenset(p for sid, paths in self.spoken.items() if sid in steps for p in paths)
        return Flow(
            id=spec.id, version=spec.version, title=spec.title, purpose=spec.purpose,
            start=start, steps=steps, interruptions=interruptions,
            interruption_options=tuple(AnswerOption(i.id, i.label) for i in interruptions.values()),
            required_context=frozenset(required), optional_context=frozenset(optional),
            applies_when=applies, applies_reason=spec.applies_reason, captures=captures,
            migrations={m.from_version: dict(m.rename_steps) for m in spec.migrations},
            milestones=milestones,
            files=tuple(u.source.file for u in self.units.values()),
            schema=self.schema, dispositions=self.dispositions, spoken_context=spoken,
            library=self.library_name,
        )


def _static(lines: list[Line]) -> tuple[str, ...] | None:
    return tuple(line.source for line in lines) if all(ln.template is None for ln in lines) else None


def compile_flow(flow: LoadedSpec, library: Mapping[str, LoadedSpec],
                 forbidden: Iterable[str] = DEFAULT_FORBIDDEN, standalone: bool = False, *,
                 schema: ContextSchema | None = None,
                 dispositions: Mapping[str, Disposition] | None = None,
                 library_name: str = "") -> Flow:
    """Compile one flow; ``library`` maps ids to every file it may include.

    ``schema`` and ``dispositions`` default to the built-in telecom library's.
    ``standalone=True`` compiles a sub-dialogue on its own, to check it as a file.
    """
    if schema is None or dispositions is None:
        from callscript.library import builtin_library

        base = builtin_library()
        schema, dispositions = schema or base.schema, dispositions or base.dispositions
    return _Compiler(flow, library, tuple(forbidden), schema, dispositions, standalone,
                     library_name).compile()
