"""Dispositions as data: how a call may end, declared by each library.

``dispositions.yaml`` in a library folder declares them; every terminal step and
every disposition effect of a flow must name a declared one (checked at compile
time with file:line). The record carries the disposition's id, code and label.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callscript.spec import Identifier


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryAfter(_Spec):
    """How long to wait before another attempt: days and/or hours."""

    days: int = Field(0, ge=0, le=3650)
    hours: int = Field(0, ge=0, le=24 * 365)

    @model_validator(mode="after")
    def _some(self) -> Self:
        if not self.days and not self.hours:
            raise ValueError("give days or hours")
        return self

    @property
    def delta(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours)


class DispositionSpec(_Spec):
    """One way a call may end."""

    label: str = Field("", description="In words (Chinese), for the agent, printouts and reports")
    code: str = Field("", max_length=32, description="What the CRM and the dialler receive")
    reached: bool = Field(True, description="Whether the customer was spoken to")
    final: bool = Field(True, description="False: the customer is to be called again")
    retry_after: RetryAfter | None = Field(
        None, description="Not final: the next attempt no sooner than this; absent: when the "
                          "call's follow-up is due")
    refinable: bool = Field(
        False, description="A `disposition` effect met during the call replaces this one at "
                           "the end (e.g. completed -> escalated)")
    goodbye: bool | None = Field(
        None, description="Whether the call ends with the agent's goodbye (checked by "
                          "`callscript check`); default: when the customer was reached")
    description: str = ""
    from_: str | None = Field(None, alias="from",
                              description="Reuse this disposition of a built-in library")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.from_ is not None:
            return self
        if not self.label or not self.code:
            raise ValueError("a disposition has a label and a code (or `from: <library>`)")
        if self.final and self.retry_after is not None:
            raise ValueError("retry_after is for dispositions that are not final")
        return self


class DispositionsFileSpec(_Spec):
    """A whole ``dispositions.yaml``."""

    dispositions: dict[Identifier, DispositionSpec] = Field(min_length=1)


class Disposition(BaseModel):
    """A declared disposition, as flows, records and the planner see it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    label: str
    code: str
    reached: bool = True
    final: bool = True
    retry_after: RetryAfter | None = None
    refinable: bool = False
    goodbye: bool = True

    @classmethod
    def from_spec(cls, disposition_id: str, spec: DispositionSpec) -> Disposition:
        return cls(id=disposition_id, label=spec.label, code=spec.code, reached=spec.reached,
                   final=spec.final, retry_after=spec.retry_after, refinable=spec.refinable,
                   goodbye=spec.reached if spec.goodbye is None else spec.goodbye)


Dispositions = Mapping[str, Disposition]
