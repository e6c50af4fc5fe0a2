"""Every error callscript raises. All derive from CallscriptError.

Messages never contain personal data: values of sensitive fields are masked
before they reach a message (see callscript.privacy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class CallscriptError(Exception):
    """Base class of every error raised by callscript."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a flow file, located as precisely as the file allows."""

    file: str
    line: int | None
    message: str
    where: str = ""  # dotted path inside the file, e.g. steps.greet.answers[0].to

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}" if self.line is not None else self.file
        where = f" {self.where}:" if self.where else ""
        return f"{location}:{where} {self.message}"


class FlowError(CallscriptError):
    """A flow file (or a set of them) is invalid. Lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ContextError(CallscriptError):
    """The call context is missing fields the flow needs, or holds invalid values.

    ``missing`` lists the paths to set; ``invalid`` maps each bad path to what is
    expected there. Neither ever holds a value.
    """

    def __init__(self, flow_id: str, message: str, missing: Sequence[str] = (),
                 invalid: Mapping[str, str] | None = None) -> None:
        self.flow_id = flow_id
        self.missing: tuple[str, ...] = tuple(missing)
        self.invalid: dict[str, str] = dict(invalid or {})
        details = "; ".join(f"{path}: {why}" for path, why in self.invalid.items())
        super().__init__(f"flow {flow_id!r}: {message}" + (f": {details}" if details else ""))


class NotApplicableError(CallscriptError):
    """The flow's applicability guard is false for this customer."""

    def __init__(self, flow_id: str, guard: str, reason: str) -> None:
        self.flow_id = flow_id
        self.guard = guard
        super().__init__(f"flow {flow_id!r} does not apply: {reason} (requires {guard})")


class AnswerRejected(CallscriptError):
    """An answer or interruption is not allowed at the current step.

    The call is left exactly as it was. ``allowed`` names what is allowed.
    """

    def __init__(self, step: str, given: str, allowed: Sequence[str], reason: str = "") -> None:
        self.step = step
        self.given = given
        self.allowed: tuple[str, ...] = tuple(allowed)
        why = reason or f"{given!r} is not an answer of step {step!r}"
        options = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(f"{why}; allowed here: {options}")


class CaptureRejected(AnswerRejected):
    """A captured value is missing or fails validation. The call is unchanged."""

    def __init__(self, step: str, given: str, allowed: Sequence[str], problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__(step, given, allowed, reason="; ".join(self.problems))


class CallEnded(CallscriptError):
    """The call has reached a terminal step; nothing more can be answered."""


class SnapshotError(CallscriptError):
    """A snapshot cannot be restored (malformed, another flow, another version)."""
