"""Pydantic models of the flow file format (one YAML file per flow or sub-dialogue).

These models check the shape of one file. Cross-references (targets, includes,
template variables) are checked by callscript.compile, which sees all files.
docs/flow-format.md explains every field; the JSON Schema is generated from here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Target = Annotated[
    str,
    Field(
        pattern=r"^([a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?)$",
        description="A step of this file, `subdialogue.step`, or `return`",
    ),
]
RETURN = "return"


# Default factories: pydantic inspects a factory's signature, which for a builtin such
# as ``list`` means tokenizing its text signature; a Python function is read directly.
def empty_list() -> list[Any]:
    return []


def empty_dict() -> dict[Any, Any]:
    return {}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


CaptureType = Literal["text", "phone", "date", "datetime", "month_day", "int", "decimal", "bool", "choice"]


class CaptureSpec(_Spec):
    """A value the agent records at this point of the call."""

    name: Identifier
    type: CaptureType = "text"
    label: str = Field(min_length=1, description="What the agent records, as shown to them")
    required: bool = True
    sensitive: bool = Field(False, description="Personal data: masked in logs and printouts")
    choices: list[str] | None = Field(None, min_length=1, description="For type choice")

    @model_validator(mode="after")
    def _choices_match_type(self) -> Self:
        if (self.type == "choice") != (self.choices is not None):
            raise ValueError("`choices` is given exactly when type is `choice`")
        return self


class DueRule(_Spec):
    """When a follow-up is due: exactly one of the three."""

    in_days: int | None = Field(None, ge=0, le=366)
    in_working_days: int | None = Field(None, ge=0, le=60)
    at_capture: Identifier | None = Field(None, description="A date/datetime capture of this flow")
    from_context: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
        description="Count in_days or in_working_days from this context date (e.g. "
                    "customer.opened_on) instead of the day of the call; today when unset, "
                    "and never before today")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.in_days, self.in_working_days, self.at_capture) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of in_days, in_working_days, at_capture")
        if self.from_context is not None and self.at_capture is not None:
            raise ValueError("from_context counts in_days or in_working_days; not at_capture")
        return self


class FollowUpSpec(_Spec):
    kind: Identifier = Field(description="e.g. callback, network_test, reply")
    due: DueRule
    note: str = ""


class EscalationSpec(_Spec):
    reason: str = Field(min_length=1)


class ComplaintSpec(_Spec):
    kind: Literal["complaint", "suggestion"]
    text_capture: Identifier | None = Field(None, description="Capture holding the customer's words")


def _outcome_alias(data: Any) -> Any:
    """``outcome:`` is the pre-0.2 name of ``disposition:``; accepted for one version."""
    if isinstance(data, dict) and "outcome" in data:
        if "disposition" in data:
            raise ValueError("give `disposition` only (`outcome` is its deprecated name)")
        data = {("disposition" if k == "outcome" else k): v for k, v in data.items()}
    return data


class EffectSpec(_Spec):
    """One effect applied when a step is entered. Exactly one key."""

    follow_up: FollowUpSpec | None = None
    escalate: EscalationSpec | None = None
    complaint: ComplaintSpec | None = None
    disposition: Identifier | None = Field(
        None, description="How the call completed: replaces `completed` at the end")

    _alias = model_validator(mode="before")(_outcome_alias)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [v for v in (self.follow_up, self.escalate, self.complaint, self.disposition) if v]
        if len(given) != 1:
            raise ValueError("an effect has exactly one of follow_up, escalate, complaint, "
                             "disposition")
        return self


class GuardSpec(_Spec):
    """A condition with its words: ``{if: "billing.this_month < billing.last_month", label: 话费下降}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    if_: str = Field(alias="if", min_length=1, description="Jinja2 expression")
    label: str = Field(min_length=1, description="The condition in words (Chinese), for views")


class AnswerSpec(_Spec):
    """A customer answer the agent can select, and where it leads."""

    id: Identifier
    label: str = Field(min_length=1, description="What the customer says, e.g. 是")
    to: Target
    guard: str | GuardSpec | None = Field(
        None, description="Jinja2 expression, or {if: expression, label: words}; the answer "
                          "is offered when true")
    capture: list[CaptureSpec] = Field(default_factory=empty_list)
    return_to: Target | None = Field(
        None, description="Call `to` as a sub-dialogue and come back here when it returns"
    )
    effects: list[EffectSpec] = Field(default_factory=empty_list, description="Applied when taken")


class TimeLimitSpec(_Spec):
    """How long the call may stay at a step (a hold): past it, only ``answer`` is allowed."""

    seconds: str = Field(description="Jinja2 expression, e.g. deployment.max_hold_seconds or 180")
    answer: Identifier = Field(description="The step's answer for when the time is up")


class StepSpec(_Spec):
    """One point of the conversation."""

    title: str | None = Field(None, min_length=1, max_length=40,
                              description="What every view shows for this step (Chinese)")
    say: list[str] = Field(default_factory=empty_list, description="Agent lines (Jinja2)")
    say_on_return: list[str] = Field(
        default_factory=empty_list,
        description="Said instead of `say` when the call comes back to this step after an "
                    "interruption (a short re-ask); empty: the views mark the return only")
    notes: list[str] = Field(default_factory=empty_list, description="Instructions to the agent")
    answers: list[AnswerSpec] = Field(default_factory=empty_list)
    capture: list[CaptureSpec] = Field(default_factory=empty_list, description="Recorded on any answer")
    effects: list[EffectSpec] = Field(default_factory=empty_list, description="Applied on entry")
    disposition: Identifier | None = Field(
        None, description="Makes the step terminal: how the call ended (a declared disposition)")
    marks: list[Identifier] = Field(
        default_factory=empty_list,
        description="Facts a call establishes by reaching this step (e.g. introduced, "
                    "identity_confirmed), for properties and milestones")
    interruptible: bool = Field(True, description="Whether interruptions can be raised here")
    time_limit: TimeLimitSpec | None = Field(None, description="The customer is waiting here")
    customer_hangs_up_first: bool = Field(
        False, description="Terminal steps: the agent waits for the customer to hang up")

    _alias = model_validator(mode="before")(_outcome_alias)

    @model_validator(mode="after")
    def _terminal_or_not(self) -> Self:
        if self.disposition is not None and self.answers:
            raise ValueError("a terminal step (with a disposition) has no answers")
        if self.customer_hangs_up_first and self.disposition is None:
            raise ValueError("customer_hangs_up_first is for terminal steps")
        if self.disposition is None and not self.answers:
            raise ValueError("a step with no answers is a dead end: give it answers or a "
                             "disposition")
        ids = [a.id for a in self.answers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate answer id {', '.join(dupes)}")
        if self.time_limit and self.time_limit.answer not in ids:
            raise ValueError(f"time_limit.answer {self.time_limit.answer!r} is not an answer "
                             "of this step")
        return self


class ContextSpec(_Spec):
    """Which context fields the flow reads (paths such as customer.name)."""

    required: list[str] = Field(default_factory=empty_list)
    optional: list[str] = Field(default_factory=empty_list)


class MigrationSpec(_Spec):
    """How to restore a snapshot taken under an older version of this flow."""

    from_version: int = Field(ge=1)
    rename_steps: dict[str, str] = Field(default_factory=empty_dict)


class FlowSpec(_Spec):
    """A whole file: a callback flow, or a shared sub-dialogue."""

    id: Identifier
    kind: Literal["flow", "subdialogue"] = "flow"
    version: int = Field(1, ge=1)
    title: str = Field(min_length=1)
    purpose: str = ""
    context: ContextSpec = ContextSpec()
    applies_when: str | GuardSpec | None = Field(
        None, description="Jinja2 expression over the context, or {if: expression, label: "
                          "words}: the flow can start only when it is true")
    applies_reason: str = Field("", description="The guard in words, for the error message")
    raise_label: str | None = Field(
        None, description="Sub-dialogues only: makes it an interruption with this label"
    )
    start: Identifier
    include: list[Identifier] = Field(default_factory=empty_list, description="Sub-dialogues used")
    interruptions: list[Identifier] = Field(
        default_factory=empty_list, description="Sub-dialogues raisable from any in-call step"
    )
    migrations: list[MigrationSpec] = Field(default_factory=empty_list)
    milestones: list[list[Target]] = Field(
        default_factory=empty_list,
        description="Steps every completed call passes, in this order; each entry lists "
                    "alternatives (e.g. the identity check, then the closing)")
    steps: dict[Identifier, StepSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _kind_rules(self) -> Self:
        if self.kind == "subdialogue" and (self.applies_when or self.interruptions):
            raise ValueError("a sub-dialogue has no applies_when or interruptions of its own")
        if self.kind == "flow" and self.raise_label:
            raise ValueError("raise_label is for sub-dialogues")
        return self


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a flow file, for editors (shipped as callscript/flow.schema.json)."""
    schema = FlowSpec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://callscript.invalid/flow.schema.json", **schema}
