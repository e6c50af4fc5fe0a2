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


class ArgumentError(CallscriptError, TypeError):
    """An argument of the wrong type (a flow id where a ``Flow`` goes, a list as context).

    ``parameter`` names the parameter; the message names what is expected and the
    type that was given, never the value.
    """

    def __init__(self, parameter: str, expected: str, given: object) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter} must be {expected}, not {type(given).__name__}")


class AnswerRejected(CallscriptError):
    """An answer or interruption is not allowed at the current step.

    The call is left exactly as it was. ``allowed`` names what is allowed.
    ``given`` is the id that was refused when it is one the flow knows, else None:
    an unknown id may be anything a caller passed by mistake (a phone number, an
    address), so it is never repeated.
    """

    def __init__(self, step: str, given: str | None, allowed: Sequence[str], reason: str = "") -> None:
        self.step = step
        self.given = given
        self.allowed: tuple[str, ...] = tuple(allowed)
        if reason:
            why = reason
        elif given is not None:
            why = f"{given!r} is not an answer of step {step!r}"
        else:
            why = f"the answer given is not an answer of step {step!r}"
        options = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(f"{why}; allowed here: {options}")


class CaptureRejected(AnswerRejected):
    """A captured value is missing or fails validation. The call is unchanged."""

    def __init__(self, step: str, given: str | None, allowed: Sequence[str],
                 problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__(step, given, allowed, reason="; ".join(self.problems))


class CallEnded(CallscriptError):
    """The call has reached a terminal step; nothing more can be answered."""


class SnapshotError(CallscriptError):
    """A snapshot cannot be restored: malformed (the message names the field), another
    flow, another version without a migration, an old format, or another customer's context."""


class Conflict(CallscriptError):
    """A turn conflicts with what the call has already done; nothing was changed.

    ``revision`` is the call's current revision.
    """

    def __init__(self, message: str, revision: int) -> None:
        self.revision = revision
        super().__init__(message)


class StaleRevision(Conflict):
    """The turn names a revision the call has moved past (another request took a turn)."""

    def __init__(self, expected: int, revision: int) -> None:
        self.expected = expected
        super().__init__(f"the turn expects revision {expected}, but the call is at revision "
                         f"{revision}; reload the call and decide again", revision)


class TurnIdReused(Conflict):
    """A turn id the call has seen is sent again with another input."""

    def __init__(self, revision: int) -> None:
        super().__init__("this turn id was already used for another turn (another answer, "
                         "interruption or captured values); a retry must send the same input, "
                         "a new turn needs a new id", revision)


class ListenerError(CallscriptError):
    """The turn was applied, but listeners raised while it was announced.

    Every listener received every event; the exceptions they raised are in
    ``exceptions`` (their messages are not repeated here: they may hold data).
    ``prompt`` and ``revision`` are the turn's result: the call has moved. When
    ``Call.start`` raises it, ``call`` is the started call (else None).
    """

    def __init__(self, exceptions: Sequence[BaseException], revision: int, prompt: object,
                 call: object = None) -> None:
        self.exceptions: tuple[BaseException, ...] = tuple(exceptions)
        self.revision = revision
        self.prompt = prompt
        self.call = call
        self.applied = True
        kinds = ", ".join(sorted({type(e).__name__ for e in self.exceptions}))
        super().__init__(f"the turn was applied (the call is at revision {revision}), but "
                         f"{len(self.exceptions)} listener call(s) raised: {kinds}")
