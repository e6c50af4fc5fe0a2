"""The snapshot format: what ``Call.snapshot()`` writes and ``Call.restore`` validates.

TypedDicts rather than models: a restore validates every field (types, datetimes,
outcome names) but builds plain dicts, which the runtime turns into its own
entries; building models first would double the work on the hot path.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from callscript.record import Complaint, Escalation, FollowUp

SNAPSHOT_FORMAT = "callscript.snapshot/1"


class SnapshotEntry(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    step: str
    lines: list[str]
    at: datetime
    answer: str | None
    interruption: str | None
    captures: dict[str, Any]


class Snapshot(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    format: Literal["callscript.snapshot/1"]
    flow: str
    version: int
    call_id: str
    started_at: datetime
    ended_at: datetime | None
    step: str
    stack: list[str]
    outcome: str | None  # the disposition a refining effect set
    path: list[SnapshotEntry]
    follow_ups: list[FollowUp]
    complaints: list[Complaint]
    escalations: list[Escalation]


@cache
def snapshot_adapter() -> TypeAdapter[Snapshot]:
    """Built on the first restore, not at import."""
    return TypeAdapter(Snapshot)
