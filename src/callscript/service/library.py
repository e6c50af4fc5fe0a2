"""The one adapter between the service and flow libraries and call contexts.

Everything that knows how flows are loaded, how a context is shaped and
validated, and what a flow looks like to an API client lives here, so the
schema-built contexts and folder libraries of the authoring issue replace
only this module's insides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from callscript.compile import Flow
from callscript.context import CallContext, Deployment, context_value
from callscript.library import builtin_flows, load_flows
from callscript.spec import Outcome

# parts of the context the service fills itself; a client may not send them
SERVICE_PARTS = ("agent", "deployment")


@dataclass(frozen=True)
class FieldProblem:
    """A field at fault, by its path in the request (``context.customer.phone``); never a value."""

    field: str
    problem: str


class ContextInvalid(Exception):
    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(", ".join(p.field for p in self.problems))


@dataclass(frozen=True)
class AgentProfile:
    """What the user record says about an agent; it fills ``context.agent``."""

    name: str
    display_name: str | None
    phone: str | None


class Library:
    """The flows a service runs, and how their contexts are built and checked."""

    def __init__(self, files: Sequence[Path] = ()) -> None:
        flows = dict(builtin_flows())
        if files:
            flows.update(load_flows(*files))
        self.flows: dict[str, Flow] = flows

    def flow(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def build_context(self, flow: Flow, given: Mapping[str, Any], agent: AgentProfile,
                      deployment: Mapping[str, Any]) -> dict[str, Any]:
        """The full, validated context as JSON data; ContextInvalid names every field at fault."""
        problems = [FieldProblem(f"context.{part}", "is filled by the service from the agent's "
                                                    "profile and the deployment file")
                    for part in SERVICE_PARTS if part in given]
        if problems:
            raise ContextInvalid(problems)
        profile: dict[str, Any] = {"id": agent.name}
        if agent.display_name:
            profile["name"] = agent.display_name
        if agent.phone:
            profile["phone"] = agent.phone
        data = {**given, "agent": profile, "deployment": dict(deployment)}
        try:
            context = CallContext.model_validate(data)
        except ValidationError as err:
            raise ContextInvalid([
                FieldProblem("context." + ".".join(str(p) for p in e["loc"]), e["msg"])
                for e in err.errors()]) from None
        missing = sorted(p for p in flow.required_context if context_value(context, p) is None)
        if missing:
            raise ContextInvalid([FieldProblem(f"context.{p}", "is required by this flow")
                                  for p in missing])
        return context.model_dump(mode="json")

    def describe(self, flow: Flow) -> dict[str, Any]:
        """A flow for API clients: steps, titles, dispositions, its context's JSON Schema."""
        steps = []
        for step in flow.steps.values():
            steps.append({
                "id": step.id, "title": step.id,
                "lines": [line.source for line in step.lines],
                "notes": [note.source for note in step.notes],
                "answers": [{"id": a.id, "label": a.label, "to": a.target}
                            for a in step.answers.values()],
                "terminal": step.terminal,
                "disposition": step.outcome.value if step.outcome else None,
            })
        dispositions = sorted({s.outcome.value for s in flow.steps.values() if s.outcome}
                              | {o.value for o in Outcome if o == Outcome.COMPLETED})
        return {
            "id": flow.id, "title": flow.title, "version": flow.version, "purpose": flow.purpose,
            "start": flow.start, "steps": steps, "dispositions": dispositions,
            "interruptions": [{"id": i.id, "label": i.label} for i in flow.interruptions.values()],
            "required_context": sorted(flow.required_context),
            "context_schema": self.context_schema(flow),
        }

    def context_schema(self, flow: Flow) -> dict[str, Any]:
        """The JSON Schema of what a client sends as ``context`` for this flow."""
        schema = CallContext.model_json_schema()
        used = flow.required_context | flow.optional_context
        parts = {p.split(".", 1)[0] for p in used} - set(SERVICE_PARTS)
        properties = {k: v for k, v in schema["properties"].items() if k in parts}
        required_parts = sorted({p.split(".", 1)[0] for p in flow.required_context})
        result: dict[str, Any] = {
            "type": "object", "properties": properties, "additionalProperties": False,
            "$defs": {k: v for k, v in schema.get("$defs", {}).items()
                      if k not in ("Agent", "Deployment")},
            "required": [p for p in required_parts if p in parts],
        }
        for part in parts:  # the flow's required fields within each part
            name = part.capitalize()
            if name in result["$defs"]:
                fields = sorted(p.split(".", 1)[1] for p in flow.required_context
                                if p.startswith(part + "."))
                result["$defs"][name] = {**result["$defs"][name], "required": fields}
        return result


def deployment_problems(data: Mapping[str, Any]) -> list[str]:
    """The fields of a deployment file that are unknown or invalid (names only)."""
    try:
        Deployment.model_validate(dict(data))
    except ValidationError as err:
        return sorted({".".join(str(p) for p in e["loc"]) for e in err.errors()})
    return []


def customer_ref_of(context: Mapping[str, Any]) -> str | None:
    customer = context.get("customer")
    ref = customer.get("reference") if isinstance(customer, Mapping) else None
    return ref if isinstance(ref, str) else None


def personal_values(context: Mapping[str, Any]) -> list[str]:
    """The customer's values in a context: what erasure masks in the lines said."""
    customer = context.get("customer")
    if not isinstance(customer, Mapping):
        return []
    return [v for k, v in customer.items() if isinstance(v, str) and k != "title" and v]
