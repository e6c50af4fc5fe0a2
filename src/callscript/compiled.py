"""Compiled flows: the immutable structures every call of a flow shares.

Built by callscript.compile; read by the runtime, printing and the testing tools.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from callscript.render import LazyTemplate, render
from callscript.spec import CaptureSpec, EffectSpec

if TYPE_CHECKING:
    from transitions import Machine

    from callscript.context import ContextSchema
    from callscript.dispositions import Disposition

INTERRUPT_PREFIX = "!"  # trigger names of interruptions; answer ids cannot start with it


@dataclass(frozen=True, slots=True)
class Line:
    """One line (spoken, or an agent note): plain text, or a template that reads variables."""

    source: str
    template: LazyTemplate | None  # None: the line is plain text
    file_line: int | None = None  # where the line is written, for reports

    def render(self, variables: Mapping[str, Any]) -> str:
        return self.source if self.template is None else render(self.template.get(), variables)


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
    label: str = ""  # the condition in words, for views; "" when the author gave none

    @property
    def words(self) -> str:
        """What views show: the label, else the expression itself."""
        return self.label or self.source


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
    title: str  # what views show; the step id when the author gave no title
    file: str
    line: int | None
    lines: tuple[Line, ...]
    notes: tuple[Line, ...]
    return_lines: tuple[Line, ...]  # said instead of `lines` when a call comes back here
    answers: Mapping[str, CompiledAnswer]
    effects: tuple[EffectSpec, ...]
    disposition: str | None  # the id of how a call ends here: set on terminal steps only
    marks: tuple[str, ...]
    interruptible: bool
    time_limit: tuple[Guard, str] | None  # seconds (an expression), the answer once time is up
    customer_hangs_up_first: bool
    options: tuple[AnswerOption, ...]  # every answer, in file order; built once, shared by calls
    static_lines: tuple[str, ...] | None  # the lines, when none of them reads a variable
    static_notes: tuple[str, ...] | None
    # whether any answer has a guard: asked on every turn and prompt, so computed once
    guarded: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "guarded", any(a.guard is not None for a in self.answers.values()))

    @property
    def terminal(self) -> bool:
        return self.disposition is not None

    def render(self, variables: Mapping[str, Any]) -> tuple[str, ...]:
        """The agent's lines; plain lines come from the shared tuple, not a per-call copy."""
        if self.static_lines is not None:
            return self.static_lines
        return tuple(line.render(variables) for line in self.lines)

    def render_return(self, variables: Mapping[str, Any]) -> tuple[str, ...]:
        """The lines for a call coming back here after an interruption."""
        if not self.return_lines:
            return self.render(variables)
        return tuple(line.render(variables) for line in self.return_lines)

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
    schema: ContextSchema = field(repr=False, compare=False)
    dispositions: Mapping[str, Disposition] = field(repr=False, compare=False)
    spoken_context: frozenset[str]  # context paths the agent's lines may say
    library: str
    _machine: Machine | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def machine(self) -> Machine:
        """The flow's transitions machine (callscript.machine): the table turns look their
        destinations up in. Built on first use, once per flow: loading flows to check,
        print or plan them never needs it. Two threads may both build it; one is kept."""
        machine = self._machine
        if machine is None:
            from callscript.machine import build_machine

            machine = build_machine(self.start, self.steps, self.interruptions)
            object.__setattr__(self, "_machine", machine)
        return machine

    def __repr__(self) -> str:
        return f"<Flow {self.id} v{self.version}: {len(self.steps)} steps>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis and IPython would print every field

    def render_step(self, step_id: str, context: BaseModel,
                    captured: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The agent lines of one step for ``context``, outside any call (previews, printing)."""
        return self.steps[step_id].render(template_variables(context, captured or {}))


def template_variables(context: BaseModel, captured: Mapping[str, Any]) -> dict[str, Any]:
    """What templates and guards see: the context parts and the captured values."""
    variables: dict[str, Any] = {part: getattr(context, part) for part in type(context).model_fields}
    variables["captured"] = captured
    return variables


