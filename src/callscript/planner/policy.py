"""The planning policy: a YAML file, validated with ``file:line`` like a flow file.

A policy is pure data (see docs/planning.md): which flow applies to whom and
why, calling windows, attempt limits, retry delays per disposition, do-not-call,
holdouts, and the customer file's columns. ``load_policy`` checks its shape
(pydantic) and ``check_policy`` its meaning against the flows it names:
unknown flows, context fields and dispositions, expressions the planner cannot
evaluate as columns, windows outside the allowed hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from callscript.errors import FlowError, Problem
from callscript.library import FlowLibrary
from callscript.loader import SourceMap, _pydantic_problems, parse_yaml

_DURATION = re.compile(r"^(\d+)\s*(m|h|d)$")
_WINDOW = re.compile(r"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ANY_FOLLOW_UP = "any"  # at_follow_up: the call's first follow-up of whatever kind


class PolicyError(FlowError):
    """A policy file is invalid; lists every problem as ``file:line``."""


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match:
            raise ValueError("a duration is a number and a unit: 90m, 3h or 30d")
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return timedelta(**{unit: int(match.group(1))})
    return value


def _window(value: Any) -> Any:
    if isinstance(value, str):
        match = _WINDOW.match(value.strip())
        if not match:
            raise ValueError("a window is written HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError("not a time of day")
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        if end <= time(h1, m1):
            raise ValueError("a window ends after it starts")
        return (time(h1, m1), end)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration),
                     WithJsonSchema({"type": "string", "pattern": r"^\d+\s*(m|h|d)$"})]
Window = Annotated[tuple[time, time], BeforeValidator(_window),
                   WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}\s*-\s*\d{2}:\d{2}$"})]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Windows(_Model):
    """Calling windows by weekday, local time. Holidays have none; a make-up
    working day (调休上班) uses ``makeup``, else Monday's windows."""

    mon: list[Window] = []
    tue: list[Window] = []
    wed: list[Window] = []
    thu: list[Window] = []
    fri: list[Window] = []
    sat: list[Window] = []
    sun: list[Window] = []
    makeup: list[Window] | None = None


class Retry(_Model):
    """When a (customer, flow) may be tried again after a call that ended so."""

    after: Duration | None = Field(None, description="not before this long after the call")
    at_follow_up: str | None = Field(
        None, description="at the due time of the call's follow-up of this kind (any: of any kind)")
    never: bool = False
    done: bool = Field(False, description="the flow reached its purpose: no rule calls it again")
    scope: Literal["flow", "customer"] = "flow"

    @model_validator(mode="after")
    def _one_kind(self) -> Retry:
        kinds = [self.after is not None or self.at_follow_up is not None, self.never, self.done]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of after / at_follow_up, never, done")
        return self


class Holdout(_Model):
    share: float = Field(ge=0, le=1, description="the share of customers deliberately not called")
    seed: str = Field(min_length=1)


class Rule(_Model):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    flow: str | None = None
    repeat_flow: bool = Field(False, description="follow-up rules: the flow of the call that set it")
    reason: str = Field(min_length=1, description="why the customer is called, in Chinese")
    priority: int
    when: str | None = Field(None, description="Jinja2 expression over the context and row.*")
    follow_ups: list[str] | None = Field(None, description="follow-up kinds that are due")
    holdout: Holdout | None = None

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if (self.flow is None) == (not self.repeat_flow):
            raise ValueError("give flow, or repeat_flow: true (follow-up rules only)")
        if self.repeat_flow and not self.follow_ups:
            raise ValueError("repeat_flow needs follow_ups")
        if self.when is None and not self.follow_ups:
            raise ValueError("give when, follow_ups, or both")
        return self


class ColumnSpec(_Model):
    to: str | None = Field(None, description="the context field it fills, e.g. customer.name")
    type: str | None = Field(None, description="for columns the call does not read")
    required: bool = False

    @model_validator(mode="after")
    def _one(self) -> ColumnSpec:
        if (self.to is None) == (self.type is None):
            raise ValueError("give to (a context field) or type (a planner column), not both")
        return self


class Customers(_Model):
    key: str = "customer_ref"
    agent: str | None = None
    columns: dict[str, ColumnSpec]


class Attempts(_Model):
    per_day: int = Field(ge=1)
    total: int = Field(ge=1)


class Policy(_Model):
    policy: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    title: str = ""
    timezone: str
    allowed_hours: Window
    windows: Windows
    appointment: Duration = timedelta(minutes=30)
    look_back: Duration
    attempts: Attempts
    do_not_call: str | None = None
    params: dict[str, float | int | str | bool] = {}
    customers: Customers
    dispositions: dict[str, Retry]
    rules: list[Rule] = Field(min_length=1)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _shape_problems(policy: Policy, source: SourceMap) -> Iterable[Problem]:
    try:
        policy.zone  # noqa: B018 - resolving the zone is the check
    except (ZoneInfoNotFoundError, ValueError):
        yield source.problem(("timezone",), "unknown time zone (use an IANA name like Asia/Shanghai)")
    earliest, latest = policy.allowed_hours
    for day in (*WEEKDAYS, "makeup"):
        windows = getattr(policy.windows, day) or []
        for i, (start, end) in enumerate(windows):
            if start < earliest or end > latest:
                yield source.problem(("windows", day, i), "outside the allowed hours")
            if i and start < windows[i - 1][1]:
                yield source.problem(("windows", day, i), "overlaps or precedes the window before it")
    columns = policy.customers.columns
    for name, role in (("key", policy.customers.key), ("agent", policy.customers.agent)):
        if role is not None and role not in columns:
            yield source.problem(("customers", name), f"{role!r} is not one of the columns")
    seen: set[str] = set()
    for i, rule in enumerate(policy.rules):
        if rule.id in seen:
            yield source.problem(("rules", i, "id"), f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)


def load_policy_text(text: str, file: str) -> LoadedPolicy:
    """Parse and validate a policy's YAML text; PolicyError lists every problem."""
    try:
        data, source = parse_yaml(text, file)
    except FlowError as err:
        raise PolicyError(err.problems) from None
    if not isinstance(data, dict):
        raise PolicyError([Problem(file, 1, "a policy file is a mapping (policy: …, rules: …)")])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as err:
        raise PolicyError(list(_pydantic_problems(err, source))) from None
    problems = list(_shape_problems(policy, source))
    if problems:
        raise PolicyError(problems)
    return LoadedPolicy(policy, source)


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated policy and where each of its values was written."""

    policy: Policy
    source: SourceMap


def load_policy(path: str | Path) -> LoadedPolicy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([Problem(str(path), None, "no such file")]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError([Problem(str(path), None, f"cannot read: {err}")]) from None
    return load_policy_text(text, str(path))


@cache
def builtin_policy(library: str = "telecom") -> LoadedPolicy:
    """The policy shipped with a built-in library (``policy.yaml`` in its folder)."""
    entry = resources.files("callscript") / "libraries" / library / "policy.yaml"
    if not entry.is_file():
        raise PolicyError([Problem(f"callscript/libraries/{library}", None,
                                   "this library has no policy.yaml; give --policy FILE")])
    return load_policy_text(entry.read_text(encoding="utf-8"), f"callscript/libraries/{library}/policy.yaml")


def library_policy(library: FlowLibrary) -> LoadedPolicy:
    """A library's own policy: ``policy.yaml`` in its folder, else the built-in one of its name."""
    if library.policy_file is not None:
        return load_policy(library.policy_file)
    if library.folder is not None and Path(library.folder).resolve() != _builtin_folder(library.name):
        raise PolicyError([Problem(library.folder, None,
                                   "this library has no policy.yaml; give --policy FILE")])
    return builtin_policy(library.name or "telecom")


def _builtin_folder(name: str) -> Path:
    return Path(str(resources.files("callscript") / "libraries" / name)).resolve()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of policy files (``callscript schema policy``)."""
    schema = Policy.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema,
            "title": "callscript planning policy"}


def check_policy(loaded: LoadedPolicy, flow_ids: Iterable[str], disposition_ids: Iterable[str],
                 fields: Mapping[str, Any], problems_of: Any) -> None:
    """Problems of meaning: unknown flows, fields, types and dispositions; untranslatable rules.

    ``problems_of(loc, source)`` is the planner's own check of expressions (it
    compiles them); passed in so this module stays free of Polars.
    """
    from callscript.planner.context import FIELD_TYPES

    policy, source = loaded.policy, loaded.source
    flows, dispositions = set(flow_ids), set(disposition_ids)
    problems: list[Problem] = []
    for name, spec in policy.customers.columns.items():
        if spec.to is not None and spec.to not in fields:
            problems.append(source.problem(("customers", "columns", name, "to"),
                                           f"unknown context field {spec.to!r}"))
        planner_types = [t for t in FIELD_TYPES if t != "choice"]  # choices belong to the schema
        if spec.type is not None and spec.type not in planner_types:
            problems.append(source.problem(("customers", "columns", name, "type"),
                                           f"unknown type {spec.type!r}; types: {', '.join(planner_types)}"))
    for disposition in policy.dispositions:
        if disposition not in dispositions:
            problems.append(source.problem(("dispositions", disposition),
                                           f"unknown disposition {disposition!r}"))
    for i, rule in enumerate(policy.rules):
        if rule.flow is not None and rule.flow not in flows:
            problems.append(source.problem(("rules", i, "flow"), f"unknown flow {rule.flow!r}; "
                                           f"known flows: {', '.join(sorted(flows))}"))
    problems.extend(problems_of(source))
    if problems:
        raise PolicyError(problems)
