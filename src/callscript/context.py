"""The call context schema as data: which fields a library's flows may read.

A library folder holds ``context.yaml``: parts (customer, billing, …), each with
typed fields. From it, once per library, callscript builds a pydantic model
that validates contexts, a JSON Schema, the placeholder context that generic
printed scripts show, and typed sample values that ``check`` renders with.
Nothing here names a field of any trade: the built-in telecom schema is a file
like any other (``callscript/libraries/telecom/context.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from callscript.errors import ContextError
from callscript.spec import Identifier, empty_dict

FieldType = Literal["text", "integer", "money", "decimal", "date", "month", "phone", "bool", "choice"]
RecordRole = Literal["agent_id", "customer_ref"]  # the CallRecord fields a context fills

# Set on each part model: its fields, plain data the template sandbox may read unchecked
PLAIN_FIELDS = "__callscript_plain__"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(_Spec):
    """One context field: its type, constraints, words and placeholder."""

    type: FieldType = "text"
    label: str = Field(min_length=1, description="The field in words (Chinese), for forms and printouts")
    description: str = ""
    sensitive: bool = Field(False, description="Personal data: masked in logs, errors and printouts")
    placeholder: str | None = Field(
        None, description="What a generic printed script shows (e.g. ***); never said in a live call")
    default: Any = Field(None, description="The value when the context leaves the field out")
    example: Any = Field(None, description="A plausible value for samples and the demo")
    choices: list[str] | None = Field(None, min_length=1, description="For type choice")
    min: Decimal | None = Field(None, description="Numbers: the smallest value allowed")
    max: Decimal | None = Field(None, description="Numbers: the largest value allowed")
    min_length: int | None = Field(None, ge=0)
    max_length: int | None = Field(None, ge=1)
    record_as: RecordRole | None = Field(
        None, description="Copy the value into every call record as agent_id or customer_ref")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.type == "choice") != (self.choices is not None):
            raise ValueError("`choices` is given exactly when type is `choice`")
        numeric = self.type in ("integer", "money", "decimal", "month")
        if not numeric and (self.min is not None or self.max is not None):
            raise ValueError(f"min and max are for numbers, not {self.type}")
        textual = self.type == "text"
        if not textual and (self.min_length is not None or self.max_length is not None):
            raise ValueError(f"min_length and max_length are for text, not {self.type}")
        for key in ("default", "example"):
            value = getattr(self, key)
            if value is not None:
                try:
                    _adapter_for(self).validate_python(value)
                except ValidationError:
                    raise ValueError(f"{key} is not a valid {self.type}: {expected(self)}") from None
        return self


class PartSpec(_Spec):
    """A group of fields read as ``part.field`` (customer.name)."""

    label: str = Field("", description="The part in words (Chinese)")
    implicit: bool = Field(
        False, description="Flows may read these fields without declaring them (the agent, the "
                           "deployment); a missing value is its default, else a placeholder")
    per_customer: bool = Field(
        True, description="Identifies the customer: a snapshot is restored only with the same "
                          "values (agent and deployment parts may change between requests)")
    from_: str | None = Field(None, alias="from", description="Reuse this part of a built-in library")
    fields: dict[Identifier, FieldSpec] = Field(default_factory=empty_dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _fields_or_from(self) -> Self:
        if (self.from_ is None) == (not self.fields):
            raise ValueError("a part has either `fields` or `from: <library>`")
        return self


class ContextFileSpec(_Spec):
    """A whole ``context.yaml``."""

    title: str = ""
    parts: dict[Identifier, PartSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_field_per_record_role(self) -> Self:
        roles = [f.record_as for p in self.parts.values() for f in p.fields.values() if f.record_as]
        twice = sorted({r for r in roles if roles.count(r) > 1})
        if twice:
            raise ValueError(f"record_as {', '.join(twice)} is given to more than one field")
        return self


# -- validation of values ------------------------------------------------------

def expected(spec: FieldSpec) -> str:
    """What a valid value looks like, for error messages (never the value itself)."""
    bounds = ""
    if spec.min is not None and spec.max is not None:
        bounds = f" from {spec.min} to {spec.max}"
    elif spec.min is not None:
        bounds = f" of at least {spec.min}"
    elif spec.max is not None:
        bounds = f" of at most {spec.max}"
    match spec.type:
        case "choice":
            return "expected " + " or ".join(spec.choices or ())
        case "phone":
            return "expected 5 to 15 digits (optionally with + - or spaces)"
        case "integer":
            return f"expected a whole number{bounds}"
        case "money":
            return f"expected an amount{bounds}, at most two decimals"
        case "decimal":
            return f"expected an amount{bounds}"
        case "month":
            return "expected a month from 1 to 12"
        case "date":
            return "expected a date such as 2026-05-01"
        case "bool":
            return "expected true or false"
    length = ""
    if spec.max_length is not None:
        length = f" of at most {spec.max_length} characters"
    return f"expected text{length}"


def _no_numbers(value: Any) -> Any:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        raise ValueError("numbers are not dates")  # 0 must not become 1970-01-01
    return value


_PHONE = re.compile(r"\+?\d[\d\- ]*\d")


def _phone(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a phone number is text")
    text = value.strip()
    if not _PHONE.fullmatch(text) or not 5 <= sum(c.isdigit() for c in text) <= 15:
        raise ValueError("not a phone number")
    return text


_CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    """Money in yuan and fen: said with two decimals (60 and 60.0 as 60.00), never rounded."""
    cents = value.quantize(_CENT)
    if cents != value:
        raise ValueError("an amount has at most two decimals")
    return cents


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    return value


def _annotation(spec: FieldSpec) -> Any:
    """The pydantic type of a field, with its constraints."""
    num: dict[str, Any] = {"ge": spec.min, "le": spec.max}
    match spec.type:
        case "text":
            return Annotated[str, Field(min_length=spec.min_length or 1, max_length=spec.max_length)]
        case "integer":
            return Annotated[int, BeforeValidator(_no_bool), Field(**num)]
        case "money":
            return Annotated[Decimal, BeforeValidator(_no_bool), Field(**num, allow_inf_nan=False),
                             AfterValidator(_cents)]
        case "decimal":
            return Annotated[Decimal, BeforeValidator(_no_bool), Field(**num, allow_inf_nan=False)]
        case "month":
            return Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=12)]
        case "date":
            return Annotated[date, BeforeValidator(_no_numbers)]
        case "phone":
            return Annotated[str, BeforeValidator(_phone)]
        case "bool":
            return bool
        case "choice":
            return Literal[tuple(spec.choices or ())]
    raise AssertionError(spec.type)


_ADAPTERS: dict[tuple[Any, ...], Any] = {}


def _adapter_for(spec: FieldSpec) -> Any:
    """A validator of one field's values; fields with the same type and constraints share
    one (building a TypeAdapter costs a schema and a validator)."""
    from pydantic import TypeAdapter

    key = (spec.type, spec.min, spec.max, spec.min_length, spec.max_length,
           None if spec.choices is None else tuple(spec.choices))
    adapter = _ADAPTERS.get(key)
    if adapter is None:
        if len(_ADAPTERS) > 256:  # schemas built again and again (tests): stay small
            _ADAPTERS.clear()
        adapter = _ADAPTERS[key] = TypeAdapter(_annotation(spec))
    return adapter


class SchemaContext(BaseModel):
    """Base of every context model: it knows the schema it was built from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_of: ClassVar[ContextSchema | None] = None


def schema_of(context: BaseModel) -> ContextSchema:
    """The schema a validated context was built from."""
    schema = getattr(type(context), "schema_of", None)
    if not isinstance(schema, ContextSchema):
        raise TypeError("not a context validated by a callscript ContextSchema")
    return schema


class ContextSchema:
    """A library's compiled context schema: fields by path, and the model built from them."""

    def __init__(self, parts: Mapping[str, PartSpec], *, name: str = "", file: str = "") -> None:
        self.name = name
        self.file = file
        self.parts = dict(parts)
        self.fields: dict[str, FieldSpec] = {
            f"{part}.{field}": spec for part, p in parts.items() for field, spec in p.fields.items()}
        self.sensitive = frozenset(p for p, f in self.fields.items() if f.sensitive)
        self.implicit = frozenset(p for p in self.fields if parts[p.split(".")[0]].implicit)
        self.per_customer = tuple(name for name, p in parts.items() if p.per_customer)
        self.recorded: dict[str, str] = {  # record role -> field path (first one wins)
            spec.record_as: path for path, spec in reversed(self.fields.items()) if spec.record_as}
        self.model = self._build_model()

    def _build_model(self) -> type[BaseModel]:
        config = ConfigDict(extra="forbid", frozen=True)
        part_models: dict[str, Any] = {}
        for part_name, part in self.parts.items():
            fields: dict[str, Any] = {}
            for name, spec in part.fields.items():
                annotation = _annotation(spec)
                # pydantic does not validate defaults: a money default of 0 must be Decimal("0")
                default = (None if spec.default is None
                           else _adapter_for(spec).validate_python(spec.default))
                fields[name] = (annotation | None, Field(default, description=spec.label,
                                                         repr=not spec.sensitive))
            model = create_model(f"{part_name.title()}Context", __config__=config, **fields)
            setattr(model, PLAIN_FIELDS, frozenset(fields))
            part_models[part_name] = (model, Field(default_factory=model))
        built = create_model("CallContext", __base__=SchemaContext, **part_models)
        built.schema_of = self
        return built

    # -- contexts ------------------------------------------------------------

    def validate(self, flow_id: str, data: Any) -> BaseModel:
        """The validated context, or ContextError naming each bad field and why (never values)."""
        if isinstance(data, self.model):
            return data
        if isinstance(data, BaseModel):
            data = data.model_dump()
        if not isinstance(data, Mapping):
            raise ContextError(flow_id, "a context is a mapping of parts (" +
                               ", ".join(self.parts) + ")")
        try:
            return self.model.model_validate(data)
        except ValidationError as err:
            raise ContextError(flow_id, "invalid context", invalid=self._reasons(err)) from None

    def _reasons(self, err: ValidationError) -> dict[str, str]:
        reasons: dict[str, str] = {}
        for detail in err.errors(include_url=False, include_input=False):
            loc = [str(p) for p in detail["loc"]]
            path = ".".join(loc[:2])
            spec = self.fields.get(path)
            if detail["type"] == "extra_forbidden":
                what = "part" if len(loc) == 1 else "field"
                reasons.setdefault(path, f"unknown {what}")
            elif spec is None:
                reasons.setdefault(path, "expected a mapping of fields")
            else:
                reasons.setdefault(path, expected(spec))
        return reasons

    def value(self, context: BaseModel, path: str) -> Any:
        part, name = path.split(".", 1)
        return getattr(getattr(context, part), name)

    def recorded_value(self, context: BaseModel, role: RecordRole) -> str | None:
        """The value a call record carries as ``role`` (the field marked ``record_as``)."""
        path = self.recorded.get(role)
        value = None if path is None else self.value(context, path)
        return None if value is None else str(value)

    def placeholder_context(self, base: BaseModel | None = None,
                            only: Iterable[str] | None = None) -> BaseModel:
        """A context whose missing fields (of ``only``, else all) show their placeholders.

        Built without validation on purpose: ``XX`` stands where a month goes.
        """
        chosen = None if only is None else set(only)
        parts: dict[str, BaseModel] = {}
        part_models = {n: f.annotation for n, f in self.model.model_fields.items()}
        for part_name, part in self.parts.items():
            given = getattr(base, part_name) if base is not None else None
            values = {}
            for name, spec in part.fields.items():
                value = getattr(given, name) if given is not None else spec.default
                wanted = chosen is None or f"{part_name}.{name}" in chosen
                values[name] = spec.placeholder if value is None and wanted else value
            model = part_models[part_name]
            assert isinstance(model, type) and issubclass(model, BaseModel)
            parts[part_name] = model.model_construct(None, **values)
        return self.model.model_construct(None, **parts)

    def json_schema(self) -> dict[str, Any]:
        schema = self.model.model_json_schema()
        return {"$schema": "https://json-schema.org/draft/2020-12/schema",
                "title": f"callscript context{f' ({self.name})' if self.name else ''}", **schema}

    def __repr__(self) -> str:
        return f"<ContextSchema {self.name or self.file}: {len(self.fields)} fields>"
