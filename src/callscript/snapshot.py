"""The snapshot format: what ``Call.snapshot()`` writes and ``Call.restore`` validates."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from callscript.record import Complaint, Escalation, FollowUp, PathEntry
from callscript.spec import Outcome

SNAPSHOT_FORMAT = "callscript.snapshot/1"


class Snapshot(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    format: Literal["callscript.snapshot/1"]
    flow: str
    version: int
    call_id: str
    started_at: datetime
    ended_at: datetime | None
    step: str
    stack: list[str]
    outcome: Outcome | None
    path: list[PathEntry]
    follow_ups: list[FollowUp]
    complaints: list[Complaint]
    escalations: list[Escalation]
