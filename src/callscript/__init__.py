"""callscript: telephone callback scripts as state machines.

The integrator's surface::

    import callscript
    flow = callscript.builtin_flows()["first_visit"]
    call = callscript.Call.start(flow, {"customer": {"name": "王", "title": "先生", ...}})
    call.prompt.lines          # what the agent says now
    call.answer("confirmed")   # the customer's answer; rejected answers change nothing
    saved = call.snapshot()    # JSON data, between requests
    call = callscript.Call.restore(flow, saved, context)
    call.record()              # the CRM record; .redacted() to log or print it

Names are imported on first use (PEP 562), so ``import callscript`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "SteppingClock": "clocks", "sequential_ids": "clocks",
    "AnswerOption": "compile", "Flow": "compile",
    "ContextSchema": "context", "Disposition": "dispositions",
    "AnswerRejected": "errors", "ArgumentError": "errors", "CallEnded": "errors",
    "CallscriptError": "errors", "CaptureRejected": "errors", "Conflict": "errors",
    "ContextError": "errors", "FlowError": "errors", "ListenerError": "errors",
    "NotApplicableError": "errors", "Problem": "errors", "SnapshotError": "errors",
    "StaleRevision": "errors", "TurnIdReused": "errors",
    "MonthDay": "captures",
    "FlowLibrary": "library", "builtin_flows": "library", "builtin_library": "library",
    "load_flows": "library", "load_libraries": "library", "load_library": "library",
    "PrivacyFilter": "privacy",
    "CallRecord": "record", "Complaint": "record", "DispositionRef": "record",
    "Escalation": "record", "FollowUp": "record", "PathEntry": "record",
    "Call": "runtime", "CallEvent": "runtime", "Prompt": "runtime",
}

__all__ = [  # static, so linters see the re-exports; a test keeps it equal to _EXPORTS
    "AnswerOption",
    "AnswerRejected",
    "ArgumentError",
    "Call",
    "CallEnded",
    "CallEvent",
    "CallRecord",
    "CallscriptError",
    "CaptureRejected",
    "Complaint",
    "Conflict",
    "ContextError",
    "ContextSchema",
    "Disposition",
    "DispositionRef",
    "Escalation",
    "Flow",
    "FlowError",
    "FlowLibrary",
    "FollowUp",
    "ListenerError",
    "MonthDay",
    "NotApplicableError",
    "PathEntry",
    "PrivacyFilter",
    "Problem",
    "Prompt",
    "SnapshotError",
    "StaleRevision",
    "SteppingClock",
    "TurnIdReused",
    "__version__",
    "builtin_flows",
    "builtin_library",
    "load_flows",
    "load_libraries",
    "load_library",
    "sequential_ids",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'callscript' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"callscript.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # the same names, for type checkers and editors
    from callscript.captures import MonthDay
    from callscript.clocks import SteppingClock, sequential_ids
    from callscript.compile import AnswerOption, Flow
    from callscript.context import ContextSchema
    from callscript.dispositions import Disposition
    from callscript.errors import (
        AnswerRejected,
        ArgumentError,
        CallEnded,
        CallscriptError,
        CaptureRejected,
        Conflict,
        ContextError,
        FlowError,
        ListenerError,
        NotApplicableError,
        Problem,
        SnapshotError,
        StaleRevision,
        TurnIdReused,
    )
    from callscript.library import (
        FlowLibrary,
        builtin_flows,
        builtin_library,
        load_flows,
        load_libraries,
        load_library,
    )
    from callscript.privacy import PrivacyFilter
    from callscript.record import (
        CallRecord,
        Complaint,
        DispositionRef,
        Escalation,
        FollowUp,
        PathEntry,
    )
    from callscript.runtime import Call, CallEvent, Prompt
