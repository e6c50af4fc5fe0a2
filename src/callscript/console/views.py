"""What the templates show: forms from context and capture types, errors in the agent's language.

The service's operations say what went wrong in English for API clients (field and
problem); these functions turn them into words beside the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callscript.compile import Flow
from callscript.console import i18n
from callscript.service.library import service_parts

_CAPTURE_NAME = re.compile(r"^'([^']+)'")
_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}.*")
# context field types as an <input>: type, inputmode
_INPUTS = {"date": ("date", None), "phone": ("tel", "tel"), "integer": ("text", "numeric"),
           "month": ("text", "numeric"), "money": ("text", "decimal"),
           "decimal": ("text", "decimal"), "int": ("text", "numeric"),
           # typed as 2026-11-27 19:00: faster for an agent than the segmented datetime-local
           "datetime": ("text", None), "text": ("text", None),
           "month_day": ("text", None)}


@dataclass
class FormField:
    """One input of a generated form; ``name`` is what the browser posts."""

    name: str
    label: str
    type: str  # the capture or context type
    required: bool
    choices: list[str] = field(default_factory=list)
    value: str = ""
    error: str | None = None

    @property
    def input_type(self) -> str:
        return _INPUTS.get(self.type, ("text", None))[0]

    @property
    def inputmode(self) -> str | None:
        return _INPUTS.get(self.type, ("text", None))[1]

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name)


# -- starting a call: the context parts the client sends ------------------------------------

def context_fields(flow: Flow, values: Mapping[str, str] | None = None) -> list[FormField]:
    """The fields of the flow's non-implicit parts that it reads or records, required first."""
    schema = flow.schema
    filled = set(service_parts(schema))
    wanted = set(flow.required_context) | set(flow.optional_context) | {
        p for p in schema.recorded.values()}
    found: list[FormField] = []
    for part_name, part in schema.parts.items():
        if part_name in filled:
            continue
        for name, spec in part.fields.items():
            path = f"{part_name}.{name}"
            if path not in wanted:
                continue
            found.append(FormField(path, spec.label, spec.type, path in flow.required_context,
                                   list(spec.choices or ()), (values or {}).get(path, "")))
    found.sort(key=lambda f: not f.required)
    return found


def context_from_form(flow: Flow, form: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The ``context`` the API takes, from the posted form; blank fields are left out."""
    given: dict[str, dict[str, Any]] = {}
    for f in context_fields(flow):
        raw = form.get(f.name, "").strip()
        if not raw:
            continue
        value: Any = raw
        if f.type in ("integer", "month") and raw.isdigit():
            value = int(raw)
        elif f.type == "bool" and raw in ("true", "false"):
            value = raw == "true"
        part, name = f.name.split(".", 1)
        given.setdefault(part, {})[name] = value
    return given


def context_errors(lang: str, fields: list[FormField], errors: Iterable[tuple[str, str]]
                   ) -> list[str]:
    """Put each field error beside its field; what no field of the form shows is returned."""
    by_name = {f.name: f for f in fields}
    general: list[str] = []
    for path, problem in errors:
        name = path.removeprefix("context.")
        target = by_name.get(name)
        if target is None:
            general.append(f"{name}: {problem}")  # a part the service fills: for the admin
            continue
        target.error = (i18n.required(lang) if "required" in problem
                        else i18n.expected(lang, target.type))
    return general


# -- the call screen ------------------------------------------------------------------------

@dataclass
class Answer:
    key: int | None
    id: str
    label: str
    fields: list[FormField]


def answers(prompt: Mapping[str, Any], posted: Mapping[str, str] | None = None,
            chosen: str | None = None) -> list[Answer]:
    found = []
    for number, option in enumerate(prompt["answers"], start=1):
        fields = []
        for c in option["captures"]:
            value = (posted or {}).get("cap." + c["name"], "") if option["id"] == chosen else ""
            fields.append(FormField("cap." + c["name"], c["label"], c["type"], c["required"],
                                    list(c["choices"] or ()), value))
        found.append(Answer(number if number <= 9 else None, option["id"], option["label"],
                            fields))
    return found


_LETTERS = "abcdefgijklmnopqrstuvwxyz"  # h is the hold key


def interruptions(prompt: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The side panel: every interruption but hold, each with a letter key."""
    others = [i for i in prompt["interruptions"] if i["id"] != "hold"]
    return [{**item, "key": _LETTERS[n] if n < len(_LETTERS) else None}
            for n, item in enumerate(others)]


def capture_errors(lang: str, answer: Answer | None,
                   problems: Iterable[str]) -> list[str]:
    """Each refused capture's problem beside its field; the rest as general messages."""
    by_name = {f.name.removeprefix("cap."): f for f in (answer.fields if answer else [])}
    general = []
    for text in problems:
        found = _CAPTURE_NAME.match(text)
        target = by_name.get(found.group(1)) if found else None
        if target is None:
            general.append(i18n.pick(lang, ("这一步不能记录这些内容。", "These values are not "
                                                                   "captured at this step.")))
            continue
        if "is required" in text:
            target.error = i18n.required(lang)
        else:
            target.error = i18n.time_problem(lang, text) or i18n.expected(lang, target.type)
    return general


# -- the record ----------------------------------------------------------------------------

def summary(flow: Flow, record: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """The record with labels for what the agent reads: steps, captures, follow-ups."""
    def step_title(step_id: str) -> str:
        step = flow.steps.get(step_id)
        return step.title if step is not None and step.title else step_id

    def answer_label(step_id: str, answer_id: str | None) -> str | None:
        step = flow.steps.get(step_id)
        if answer_id is None:
            return None
        option = step.answers.get(answer_id) if step is not None else None
        return option.label if option is not None else answer_id

    path = [{"title": step_title(e["step"]), "answer": answer_label(e["step"], e.get("answer")),
             "at": e["at"]} for e in record.get("path", [])]
    captures = []
    for name, value in record.get("captures", {}).items():
        spec = flow.captures.get(name)
        captures.append({"label": spec.label if spec else name, "value": _shown(value, lang)})
    follow_ups = [{"kind": i18n.pick(lang, i18n.FOLLOW_UP_KINDS.get(f["kind"], (f["kind"],) * 2)),
                   "due": when(f.get("due")), "note": f.get("note", "")}
                  for f in record.get("follow_ups", [])]
    return {"disposition": record.get("disposition"), "path": path, "captures": captures,
            "follow_ups": follow_ups, "complaints": record.get("complaints", []),
            "escalations": [{**e, "step": step_title(e["step"])}
                            for e in record.get("escalations", [])]}


def when(value: Any) -> str:
    """An ISO date or time as the agent reads it: 2026-11-27 19:00 (the zone as recorded)."""
    text = "" if value is None else str(value)
    if "T" in text:
        try:
            return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return text
    return text


def _shown(value: Any, lang: str) -> str:
    if isinstance(value, str) and _ISO_TIME.fullmatch(value):
        return when(value)
    if value is True:
        return i18n.pick(lang, ("是", "yes"))
    if value is False:
        return i18n.pick(lang, ("否", "no"))
    return "" if value is None else str(value)
