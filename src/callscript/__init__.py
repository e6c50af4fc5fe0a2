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
"""

from callscript.clocks import SteppingClock, sequential_ids
from callscript.compile import AnswerOption, Flow
from callscript.context import (
    Agent,
    Billing,
    CallContext,
    Customer,
    Deployment,
    placeholder_context,
)
from callscript.errors import (
    AnswerRejected,
    CallEnded,
    CallscriptError,
    CaptureRejected,
    ContextError,
    FlowError,
    NotApplicableError,
    Problem,
    SnapshotError,
)
from callscript.library import FlowLibrary, builtin_flows, load_flows
from callscript.privacy import PrivacyFilter
from callscript.record import CallRecord, Complaint, Escalation, FollowUp, PathEntry
from callscript.runtime import Call, CallEvent, Prompt
from callscript.spec import Outcome

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "AnswerOption",
    "AnswerRejected",
    "Billing",
    "Call",
    "CallContext",
    "CallEnded",
    "CallEvent",
    "CallRecord",
    "CallscriptError",
    "CaptureRejected",
    "Complaint",
    "ContextError",
    "Customer",
    "Deployment",
    "Escalation",
    "Flow",
    "FlowError",
    "FlowLibrary",
    "FollowUp",
    "NotApplicableError",
    "Outcome",
    "PathEntry",
    "PrivacyFilter",
    "Problem",
    "Prompt",
    "SnapshotError",
    "SteppingClock",
    "__version__",
    "builtin_flows",
    "load_flows",
    "placeholder_context",
    "sequential_ids",
]
