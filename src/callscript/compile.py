"""Compile flow specs into runnable flows: one transitions machine per flow.

The compiler sees the flow and every sub-dialogue it reaches, and refuses, each
with file:line, everything that would only fail during a call: unknown targets
and includes, unreachable steps, steps with no way out, template errors,
undeclared template variables, unknown guard fields, private attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template
from transitions import Machine

from callscript.context import ALWAYS_AVAILABLE, CONTEXT_FIELDS, CallContext
from callscript.errors import FlowError, Problem
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
from callscript.spec import RETURN, AnswerSpec, CaptureSpec, EffectSpec, FlowSpec, Outcome, StepSpec

INTERRUPT_PREFIX = "!"  # trigger names of interruptions; answer ids cannot start with it


@dataclass(frozen=True, slots=True)
class Line:
    """One line (spoken, or an agent note): plain text, or a template that reads variables."""

    source: str
    template: Template | None  # None: the line is plain text
    file_line: int | None = None  # where the line is written, for reports

    def render(self, variables: Mapping[str, Any]) -> str:
        return self.source if self.template is None else render(self.template, variables)


@dataclass(frozen=True, slots=True)
class AnswerOption:
    """An answer or interruption as the agent is offered it."""

    id: str
    label: str
    captures: tuple[CaptureSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Guard:
    source: str
    evaluate: Callable[..., Any]


@dataclass(frozen=True, slots=True)
class CompiledAnswer:
    id: str
    label: str
    target: str  # qualified step id, or RETURN
    return_to: str | None
    guard: Guard | None
    captures: tuple[CaptureSpec, ...]  # the step's, then the answer's own
    effects: tuple[EffectSpec, ...]
    line: int | None  # where the answer is written, for reports


@dataclass(frozen=True, slots=True)
class CompiledStep:
    id: str  # qualified: "greet" in a flow, "busy.propose_time" from a sub-dialogue
    file: str
    line: int | None
    lines: tuple[Line, ...]
    notes: tuple[Line, ...]
    answers: Mapping[str, CompiledAnswer]
    effects: tuple[EffectSpec, ...]
    outcome: Outcome | None
    interruptible: bool
    time_limit: tuple[Guard, str] | None  # seconds (an expression), the answer once time is up
    customer_hangs_up_first: bool
    options: tuple[AnswerOption, ...]  # every answer, in file order; built once, shared by calls
    static_lines: tuple[str, ...] | None  # the lines, when none of them reads a variable
    static_notes: tuple[str, ...] | None

    @property
    def terminal(self) -> bool:
        return self.outcome is not None

    @property
    def guarded(self) -> bool:
        return any(a.guard is not None for a in self.answers.values())

    def render(self, variables: Mapping[str, Any]) -> tuple[str, ...]:
        """The agent's lines; plain lines come from the shared tuple, not a per-call copy."""
        if self.static_lines is not None:
            return self.static_lines
        return tuple(line.render(variables) for line in self.lines)

    def render_notes(self, variables: Mapping[str, Any]) -> tuple[str, ...]:
        if self.static_notes is not None:
            return self.static_notes
        return tuple(note.render(variables) for note in self.notes)


@dataclass(frozen=True, slots=True)
class Interruption:
    id: str
    label: str
    start: str  # qualified step id


@dataclass(frozen=True, slots=True)
class Flow:
    """A compiled flow: immutable, shared by every call of it."""

    id: str
    version: int
    title: str
    purpose: str
    start: str
    steps: Mapping[str, CompiledStep]
    interruptions: Mapping[str, Interruption]
    interruption_options: tuple[AnswerOption, ...]
    required_context: frozenset[str]
    optional_context: frozenset[str]
    applies_when: Guard | None
    applies_reason: str
    captures: Mapping[str, CaptureSpec]
    migrations: Mapping[int, Mapping[str, str]]
    milestones: tuple[frozenset[str], ...]
    files: tuple[str, ...]
    machine: Machine = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"<Flow {self.id} v{self.version}: {len(self.steps)} steps>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis and IPython would print every field

    def render_step(self, step_id: str, context: CallContext,
                    captured: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The agent lines of one step for ``context``, outside any call (previews, printing)."""
        return self.steps[step_id].render(template_variables(context, captured or {}))


def template_variables(context: CallContext, captured: Mapping[str, Any]) -> dict[str, Any]:
    """What templates and guards see: the context parts and the captured values."""
    return {"customer": context.customer, "billing": context.billing, "agent": context.agent,
            "deployment": context.deployment, "captured": captured}


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
                 forbidden: Sequence[str], standalone: bool = False) -> None:
        self.flow = flow
        self.standalone = standalone  # a sub-dialogue compiled on its own, to check it
        self.library = library
        self.forbidden = forbidden
        self.problems: list[Problem] = []
        self.units: dict[str, _Unit] = {}

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
                continue
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
        for path, line in reads.paths.items():
            if path.split(".", 1)[0] == "captured":
                name = path.split(".")[1] if "." in path else ""
                if name not in capture_names:
                    self.fail(unit, loc, f"{what} reads {path!r}, but the flow captures no "
                                         f"{name or 'such field'}", line - 1)
            elif path not in CONTEXT_FIELDS:  # holds exactly the valid part.name paths
                self.fail(unit, loc, f"{what} reads {path!r}, which is not a context field", line - 1)
            elif path not in declared:
                self.fail(unit, loc, f"{what} reads {path!r}, which the flow's context does not "
                                     "declare (add it to context.required or context.optional)",
                          line - 1)

    def guard(self, unit: _Unit, loc: Loc, source: str, declared: set[str],
              capture_names: set[str]) -> Guard | None:
        try:
            evaluate, reads = parse_guard(source)
        except TemplateProblem as err:
            self.fail(unit, loc, str(err))
            return None
        self.check_reads(unit, loc, reads, declared, capture_names, "guard")
        return Guard(source, evaluate)

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
        self.check_reads(unit, loc, reads, declared, capture_names, "line")
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
                    if path not in CONTEXT_FIELDS:
                        known = ", ".join(sorted(CONTEXT_FIELDS))
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
                        if seen.type != cap.type or seen.sensitive != cap.sensitive:
                            loc: Loc = ("steps", step_id, "answers", i, "capture", j)
                            self.fail(unit, loc, f"capture {cap.name!r} is declared elsewhere "
                                                 "with another type or sensitivity")
        return captures

    def check_effects(self, unit: _Unit, step_id: str, step: StepSpec,
                      captures: Mapping[str, CaptureSpec]) -> None:
        located: list[tuple[Loc, EffectSpec]] = [
            (("steps", step_id, "effects", i), e) for i, e in enumerate(step.effects)]
        for j, answer in enumerate(step.answers):
            located += [(("steps", step_id, "answers", j, "effects", i), e)
                        for i, e in enumerate(answer.effects)]
        for loc, effect in located:
            if effect.follow_up and effect.follow_up.due.at_capture:
                name = effect.follow_up.due.at_capture
                cap = captures.get(name)
                if cap is None or cap.type not in ("date", "datetime"):
                    self.fail(unit, (*loc, "follow_up", "due", "at_capture"),
                              f"at_capture names {name!r}, which is not a date or datetime capture")
            text_capture = effect.complaint.text_capture if effect.complaint else None
            if text_capture and text_capture not in captures:
                self.fail(unit, (*loc, "complaint", "text_capture"),
                          f"unknown capture {text_capture!r}")

    def compile_step(self, unit: _Unit, step_id: str, step: StepSpec, declared: set[str],
                     capture_names: set[str]) -> CompiledStep:
        base: Loc = ("steps", step_id)

        def compiled(key: str, sources: list[str]) -> list[Line]:
            out = [self.line(unit, (*base, key, i), source, declared, capture_names,
                             spoken=key == "say") for i, source in enumerate(sources)]
            return [line for line in out if line is not None]

        lines, notes = compiled("say", step.say), compiled("notes", step.notes)
        answers: dict[str, CompiledAnswer] = {}
        for i, answer in enumerate(step.answers):
            answers[answer.id] = self.compile_answer(unit, (*base, "answers", i), step, answer,
                                                     declared, capture_names)
        time_limit = None
        if step.time_limit is not None:
            seconds = self.guard(unit, (*base, "time_limit", "seconds"), step.time_limit.seconds,
                                 declared, capture_names)
            time_limit = (seconds, step.time_limit.answer) if seconds else None
        return CompiledStep(
            id=f"{unit.prefix}{step_id}", file=unit.source.file, line=unit.source.line(base),
            lines=tuple(lines), notes=tuple(notes), answers=answers,
            effects=tuple(step.effects), outcome=step.outcome, interruptible=step.interruptible,
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
            guard = self.guard(unit, (*loc, "guard"), answer.guard, declared, capture_names)
        names = [c.name for c in (*step.capture, *answer.capture)]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.fail(unit, (*loc, "capture"), f"capture {name!r} is declared twice for this answer")
        return CompiledAnswer(answer.id, answer.label, target, return_to, guard,
                              (*step.capture, *answer.capture), tuple(answer.effects),
                              unit.source.line(loc))

    def check_graph(self, steps: Mapping[str, CompiledStep],
                    interruptions: Mapping[str, Interruption]) -> set[str]:
        """Refuse dead and trapped steps; return the steps this flow can reach."""
        edges: dict[str, set[str]] = {sid: set() for sid in steps}
        for sid, step in steps.items():
            for answer in step.answers.values():
                if answer.target != RETURN:
                    edges[sid].add(answer.target)
                if answer.return_to:
                    edges[sid].add(answer.return_to)

        def reachable(roots: Iterable[str], within: str | None = None) -> set[str]:
            seen: set[str] = set()
            stack = [r for r in roots if r in steps]
            while stack:
                sid = stack.pop()
                if sid not in seen and (within is None or _prefix(sid) == within):
                    seen.add(sid)
                    stack.extend(edges[sid])
            return seen

        # Dead code in a file: steps neither its start nor any other file leads to.
        entered = {t for sid, out in edges.items() for t in out if _prefix(t) != _prefix(sid)}
        for unit in self.units.values():
            roots = [f"{unit.prefix}{unit.spec.start}",
                     *(t for t in entered if _prefix(t) == unit.prefix)]
            alive = reachable(roots, within=unit.prefix)
            for local in unit.spec.steps:
                if f"{unit.prefix}{local}" not in alive:
                    self.fail(unit, ("steps", local), f"step {local!r} is unreachable")
        start = f"{self.root.prefix}{self.flow.spec.start}"
        used = reachable([start, *(i.start for i in interruptions.values())])
        # A way out: reaching a terminal step, or returning to the step that called.
        way_out = {sid for sid in used if steps[sid].terminal
                   or any(a.target == RETURN for a in steps[sid].answers.values())}
        changed = True
        while changed:
            changed = False
            for sid in used - way_out:
                if edges[sid] & way_out:
                    way_out.add(sid)
                    changed = True
        for sid in sorted(used - way_out, key=list(steps).index):
            unit = self.units[_prefix(sid).rstrip(".")]
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
        declared = required | optional | set(ALWAYS_AVAILABLE)
        captures = self.all_captures()
        capture_names = set(captures)
        for unit in self.units.values():
            if unit.spec.start not in unit.spec.steps:
                self.fail(unit, ("start",),
                          f"start step {unit.spec.start!r} is not a step of this file")
        applies = None
        if spec.applies_when is not None:
            applies = self.guard(root, ("applies_when",), spec.applies_when, declared, set())
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
                self.check_effects(unit, step_id, step, captures)
                steps[f"{unit.prefix}{step_id}"] = self.compile_step(
                    unit, step_id, step, declared, capture_names)
        milestones = tuple(
            frozenset(self.resolve(root, ("milestones", i, j), target) or "" for j, target in
                      enumerate(group)) for i, group in enumerate(spec.milestones))
        used = self.check_graph(steps, interruptions) if not self.problems else set()
        if self.problems:
            raise FlowError(self.problems)
        # Only what this flow can reach: a shared file may hold steps other flows use.
        steps = {sid: step for sid, step in steps.items() if sid in used}
        captures = {c.name: c for step in steps.values() for a in step.answers.values()
                    for c in a.captures}
        return Flow(
            id=spec.id, version=spec.version, title=spec.title, purpose=spec.purpose,
            start=start, steps=steps, interruptions=interruptions,
            interruption_options=tuple(AnswerOption(i.id, i.label) for i in interruptions.values()),
            required_context=frozenset(required), optional_context=frozenset(optional),
            applies_when=applies, applies_reason=spec.applies_reason, captures=captures,
            migrations={m.from_version: dict(m.rename_steps) for m in spec.migrations},
            milestones=milestones,
            files=tuple(u.source.file for u in self.units.values()),
            machine=build_machine(start, steps, interruptions),
        )


def _prefix(step_id: str) -> str:
    """ "busy." for "busy.ask_time", "" for a step of the flow's own file."""
    return step_id.split(".", 1)[0] + "." if "." in step_id else ""


def _static(lines: list[Line]) -> tuple[str, ...] | None:
    return tuple(line.source for line in lines) if all(ln.template is None for ln in lines) else None


def build_machine(start: str, steps: Mapping[str, CompiledStep],
                  interruptions: Mapping[str, Interruption]) -> Machine:
    """One machine per flow: the table of which trigger leads where.

    It has no callbacks: a turn (callscript.turn) looks its destination up here and
    computes every effect itself, so nothing can run half-way through a turn.
    """
    machine = Machine(model=None, states=list(steps), initial=start, auto_transitions=False,
                      send_event=True, ignore_invalid_triggers=False)
    for sid, step in steps.items():
        for answer in step.answers.values():
            dest = None if answer.target == RETURN else answer.target  # None: internal
            # No conditions: a guard decides whether an answer is offered, and the turn
            # checks that before it computes anything.
            machine.add_transition(answer.id, sid, dest)
        if step.interruptible and not step.terminal:
            for interruption in interruptions.values():
                machine.add_transition(INTERRUPT_PREFIX + interruption.id, sid, interruption.start)
    return machine


def compile_flow(flow: LoadedSpec, library: Mapping[str, LoadedSpec],
                 forbidden: Iterable[str] = DEFAULT_FORBIDDEN, standalone: bool = False) -> Flow:
    """Compile one flow; ``library`` maps ids to every file it may include.

    ``standalone=True`` compiles a sub-dialogue on its own, to check it as a file.
    """
    return _Compiler(flow, library, tuple(forbidden), standalone).compile()


def index_specs(loaded: Iterable[LoadedSpec]) -> dict[str, LoadedSpec]:
    """Map ids to specs, refusing an id used by two files."""
    index: dict[str, LoadedSpec] = {}
    problems = []
    for item in loaded:
        other = index.get(item.spec.id)
        if other is not None:
            problems.append(item.source.problem(("id",), f"duplicate id {item.spec.id!r}, "
                                                         f"also used by {other.source.file}"))
            continue
        index[item.spec.id] = item
    if problems:
        raise FlowError(problems)
    return index
