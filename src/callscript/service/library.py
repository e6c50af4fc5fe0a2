"""The one adapter between the service and flow libraries and call contexts.

Everything that knows how flows are loaded, how a context is shaped and
validated, and what a flow looks like to an API client lives here.

Who fills which part of a context: the client sends the parts that are not
``implicit`` in the library's context.yaml (customer, billing, prospect, …);
the service fills the implicit ones (agent, deployment, firm, …): the agent's
part from the user's profile, the others from the deployment file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callscript.compile import Flow
from callscript.context import ContextSchema
from callscript.contextual import check_context
from callscript.dispositions import Disposition
from callscript.errors import ContextError, Problem
from callscript.library import FlowLibrary, all_flows, load_libraries
from callscript.loader import SourceMap

# How a call the service closes ends when its library declares no disposition of this id
# (a library may declare `abandoned` and `expired` to give them its own label and code).
SERVICE_DISPOSITIONS = {
    "abandoned": Disposition(id="abandoned", label="坐席放弃通话", code="AB", reached=False,
                             final=False, goodbye=False),
    "expired": Disposition(id="expired", label="通话超时未结束", code="EX", reached=False,
                           final=False, goodbye=False),
}


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
    """What the user record says about an agent; it fills the agent's part of the context."""

    name: str
    display_name: str | None
    phone: str | None


def service_parts(schema: ContextSchema) -> tuple[str, ...]:
    """The parts the service fills (the schema's implicit parts); a client may not send them."""
    return tuple(name for name, part in schema.parts.items() if part.implicit)


def agent_part(schema: ContextSchema) -> str | None:
    """The part the agent's profile fills: the one holding the record's agent_id, or `agent`."""
    path = schema.recorded.get("agent_id")
    if path is not None:
        return path.split(".", 1)[0]
    return "agent" if "agent" in schema.parts else None


def _profile_values(schema: ContextSchema, agent: AgentProfile) -> dict[str, Any]:
    part = agent_part(schema)
    if part is None:
        return {}
    fields = schema.parts[part].fields
    id_path = schema.recorded.get("agent_id")
    id_field = id_path.split(".", 1)[1] if id_path is not None else "id"
    values: dict[str, Any] = {}
    for name, value in ((id_field, agent.name), ("name", agent.display_name),
                        ("phone", agent.phone)):
        if value and name in fields and name not in values:
            values[name] = value
    return values


def disposition_of(flow: Flow, disposition_id: str | None) -> Disposition | None:
    """A declared disposition of the flow's library, else the service's own (abandoned…)."""
    if disposition_id is None:
        return None
    return flow.dispositions.get(disposition_id) or SERVICE_DISPOSITIONS.get(disposition_id)


class Library:
    """The flows a service runs (the libraries of ``-L``), how their contexts are built."""

    def __init__(self, folders: Sequence[str | Path] = ()) -> None:
        self.libraries: list[FlowLibrary] = load_libraries(list(folders))
        self.flows: dict[str, Flow] = all_flows(self.libraries)

    def flow(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def build_context(self, flow: Flow, given: Mapping[str, Any], agent: AgentProfile,
                      deployment: Mapping[str, Any]) -> dict[str, Any]:
        """The full, checked context as JSON data; ContextInvalid names every field at fault."""
        schema = flow.schema
        filled = service_parts(schema)
        problems = [FieldProblem(f"context.{part}", "is filled by the service from the agent's "
                                                    "profile and the deployment file")
                    for part in filled if part in given]
        if problems:
            raise ContextInvalid(problems)
        data: dict[str, Any] = dict(given)
        for part in filled:
            values = deployment.get(part)
            data[part] = dict(values) if isinstance(values, Mapping) else {}
        own = agent_part(schema)
        if own is not None:
            data[own] = {**data.get(own, {}), **_profile_values(schema, agent)}
        try:
            context = check_context(flow, data)
        except ContextError as err:
            raise ContextInvalid(self._problems(schema, err)) from None
        dumped: dict[str, Any] = context.model_dump(mode="json")
        return dumped

    @staticmethod
    def _problems(schema: ContextSchema, err: ContextError) -> list[FieldProblem]:
        if not err.invalid and not err.missing:  # not a mapping of parts
            return [FieldProblem("context", "must be a mapping of the flow's context parts")]
        found = [FieldProblem(f"context.{path}", why) for path, why in err.invalid.items()]
        filled, own = service_parts(schema), agent_part(schema)
        for path in err.missing:
            part = path.split(".", 1)[0]
            if part == own:
                why = ("is said by this flow and unset in the agent's profile (callscript users "
                       "add --display-name/--phone)")
            elif part in filled:
                why = "is said by this flow and unset in the service's deployment file (--deployment)"
            else:
                why = "is required by this flow"
            found.append(FieldProblem(f"context.{path}", why))
        return found

    def describe(self, flow: Flow) -> dict[str, Any]:
        """A flow for API clients: steps, titles, dispositions, its context's JSON Schema."""
        steps = []
        for step in flow.steps.values():
            steps.append({
                "id": step.id, "title": step.title,
                "lines": [line.source for line in step.lines],
                "notes": [note.source for note in step.notes],
                "answers": [{"id": a.id, "label": a.label, "to": a.target}
                            for a in step.answers.values()],
                "terminal": step.terminal,
                "disposition": step.disposition,
            })
        declared = {**SERVICE_DISPOSITIONS, **flow.dispositions}
        dispositions = [{"id": d.id, "label": d.label, "code": d.code, "reached": d.reached,
                         "final": d.final} for d in sorted(declared.values(), key=lambda d: d.id)]
        return {
            "id": flow.id, "title": flow.title, "version": flow.version, "purpose": flow.purpose,
            "library": flow.library,
            "start": flow.start, "steps": steps, "dispositions": dispositions,
            "interruptions": [{"id": i.id, "label": i.label} for i in flow.interruptions.values()],
            "required_context": sorted(flow.required_context),
            "context_schema": self.context_schema(flow),
        }

    def context_schema(self, flow: Flow) -> dict[str, Any]:
        """The JSON Schema of what a client sends as ``context`` for this flow."""
        schema = flow.schema.json_schema()
        filled = set(service_parts(flow.schema))
        properties = {k: v for k, v in schema.get("properties", {}).items() if k not in filled}
        defs = dict(schema.get("$defs", {}))
        for part, prop in list(schema.get("properties", {}).items()):
            ref = prop.get("$ref", "") if isinstance(prop, dict) else ""
            name = ref.rsplit("/", 1)[-1]
            if part in filled:
                defs.pop(name, None)
            elif name in defs:  # the flow's required fields within each part
                fields = sorted(p.split(".", 1)[1] for p in flow.required_context
                                if p.startswith(part + "."))
                defs[name] = {**defs[name], "required": fields}
        required_parts = sorted({p.split(".", 1)[0] for p in flow.required_context} - filled)
        result: dict[str, Any] = {
            "type": "object", "title": schema.get("title", "context"),
            "properties": properties, "additionalProperties": False,
            "required": required_parts,
        }
        if defs:
            result["$defs"] = defs
        return result

    def deployment_problems(self, data: Mapping[str, Any], source: SourceMap) -> list[Problem]:
        """What is wrong in a deployment file (file:line, the field; never a value).

        It is a mapping of parts the service fills (deployment, firm, agent defaults…)
        of at least one served library, each field valid in every library that has it.
        """
        problems: list[Problem] = []
        schemas = {id(lib.schema): lib.schema for lib in self.libraries}.values()
        fillable = {part for s in schemas for part in service_parts(s)}
        for part, values in data.items():
            if part not in fillable:
                known = ", ".join(sorted(fillable)) or "none"
                why = ("is a part the client sends with each call" if any(
                    part in s.parts for s in schemas) else "is not a part of a served library")
                problems.append(source.problem((part,), f"{why}; a deployment file sets {known}"))
            elif not isinstance(values, Mapping):
                problems.append(source.problem((part,), "is a mapping of fields"))
        good = {p: v for p, v in data.items() if p in fillable and isinstance(v, Mapping)}
        for schema in schemas:
            mine = {p: v for p, v in good.items() if p in schema.parts}
            try:
                schema.validate("deployment", mine)
            except ContextError as err:
                for path, why in err.invalid.items():
                    problem = source.problem(tuple(path.split(".")), why)
                    if problem not in problems:
                        problems.append(problem)
        return problems


def customer_ref_of(flow: Flow, context: Mapping[str, Any]) -> str | None:
    """The value of the field the schema records as customer_ref (customer.reference…)."""
    path = flow.schema.recorded.get("customer_ref")
    if path is None:
        return None
    part, name = path.split(".", 1)
    values = context.get(part)
    ref = values.get(name) if isinstance(values, Mapping) else None
    return ref if isinstance(ref, str) else None


def personal_values(flow: Flow, context: Mapping[str, Any]) -> list[str]:
    """The values of the per-customer parts: what erasure masks in the lines said."""
    found: list[str] = []
    for part in flow.schema.per_customer:
        values = context.get(part)
        if not isinstance(values, Mapping):
            continue
        for name, value in values.items():
            spec = flow.schema.fields.get(f"{part}.{name}")
            if spec is not None and spec.type in ("text", "phone") and value:
                found.append(str(value))
    return found
