"""Request and response bodies: the OpenAPI document is generated from these."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartCall(_In):
    flow: str = Field(max_length=64, description="A flow id from GET /v1/flows")
    context: dict[str, Any] = Field(default_factory=dict, description=(
        "The customer's data as the flow's context_schema says; agent and deployment are "
        "filled by the service"))
    agent: str | None = Field(None, max_length=64, description=(
        "The agent's user name: required for an integrator, the caller's own for an agent"))


class AnswerTurn(_In):
    type: Literal["answer"]
    answer: str = Field(max_length=128)
    captures: dict[str, Any] = Field(default_factory=dict)


class InterruptTurn(_In):
    type: Literal["interrupt"]
    interruption: str = Field(max_length=128)


class HoldTurn(_In):
    type: Literal["hold"]


class ResumeTurn(_In):
    type: Literal["resume"]
    captures: dict[str, Any] = Field(default_factory=dict)


Turn = Annotated[AnswerTurn | InterruptTurn | HoldTurn | ResumeTurn, Field(discriminator="type")]


class CaptureAsked(BaseModel):
    name: str
    type: str
    label: str
    required: bool
    choices: list[str] | None


class Option(BaseModel):
    id: str
    label: str
    captures: list[CaptureAsked] = Field(default_factory=list)


class Interruption(BaseModel):
    id: str
    label: str


class HoldTimer(BaseModel):
    limit_seconds: int
    since: datetime
    time_up: bool


class Prompt(BaseModel):
    step: str
    title: str
    lines: list[str]
    notes: list[str]
    answers: list[Option]
    interruptions: list[Interruption]
    terminal: bool
    disposition: str | None
    on_hold: bool
    hold: HoldTimer | None
    returned: bool = Field(False, description="The call came back to this step after an "
                                               "interruption (show it as a return, not anew)")


class CallOut(BaseModel):
    id: str
    flow: str
    flow_version: int
    agent: str
    status: Literal["live", "ended", "abandoned", "expired", "erased"]
    revision: int = Field(description="Also the ETag; send it back as If-Match")
    disposition: str | None
    created_at: datetime
    updated_at: datetime
    prompt: Prompt | None = Field(description="None once abandoned, expired or erased")


class CallSummary(BaseModel):
    id: str
    flow: str
    agent: str
    status: str
    step: str
    revision: int
    disposition: str | None
    created_at: datetime
    updated_at: datetime


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; None at the end")


class EventOut(BaseModel):
    id: int = Field(description="Feed order; may skip numbers")
    call_id: str
    seq: int = Field(description="1, 2, 3… within the call, without gaps")
    kind: str
    step: str
    detail: Any = None
    at: datetime


class FollowUpOut(BaseModel):
    id: int
    call_id: str
    agent: str
    kind: str
    due: str | None
    estimated: bool
    note: str
    step: str
    done_at: datetime | None


class StepOut(BaseModel):
    id: str
    title: str
    lines: list[str]
    notes: list[str]
    answers: list[dict[str, str]]
    terminal: bool
    disposition: str | None


class FlowSummary(BaseModel):
    id: str
    title: str
    version: int
    purpose: str


class DispositionOut(BaseModel):
    id: str
    label: str = Field(description="In words (Chinese), for the agent and reports")
    code: str = Field(description="What the CRM and the dialler receive")
    reached: bool = Field(description="Whether the customer was spoken to")
    final: bool = Field(description="False: the customer is to be called again")


class FlowOut(FlowSummary):
    library: str = Field(description="The library the flow belongs to (telecom, securities, …)")
    start: str
    steps: list[StepOut]
    dispositions: list[DispositionOut] = Field(description=(
        "How a call of this flow may end: its library's declared dispositions, with the "
        "service's abandoned and expired unless the library declares its own"))
    interruptions: list[Interruption]
    required_context: list[str]
    context_schema: dict[str, Any]


class Erased(BaseModel):
    calls: int = Field(description="How many calls' personal data was erased")


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
