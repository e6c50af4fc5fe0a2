"""The typed call context: who is called, their bill, the agent, the deployment.

Flows declare which of these fields they need; templates read them. Values are
data, never template source. Deployment and agent fields have defaults that
reproduce the seed script (联通, hotline XXXXXXX, …), so a deployment overrides
only what differs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_SENSITIVE: dict[str, Any] = {"sensitive": True}


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Customer(_Part):
    """The person called."""

    name: str | None = Field(None, min_length=1, max_length=40, description="Family or full name")
    title: Literal["先生", "女士"] | None = Field(None, description="先生 or 女士")
    phone: str | None = Field(
        None, pattern=r"^\+?\d{5,15}$", description="Mobile number", json_schema_extra=_SENSITIVE
    )
    is_holder: bool = Field(True, description="Whether the person called holds the account")
    reference: str | None = Field(None, max_length=64, description="The CRM's customer id")


class Billing(_Part):
    """Figures from the billing system."""

    last_month: Decimal | None = Field(None, ge=0, description="Last month's bill, yuan")
    this_month: Decimal | None = Field(None, ge=0, description="This month's bill, yuan")
    idle_since_month: int | None = Field(None, ge=1, le=12, description="Unused since month")
    suspended_since_month: int | None = Field(
        None, ge=1, le=12, description="Suspended for arrears since month"
    )


class Agent(_Part):
    """The customer manager making the call."""

    id: str | None = Field(None, max_length=64, description="The agent's staff id")
    name: str = Field("***", min_length=1, max_length=40)
    phone: str = Field("*******", min_length=1, max_length=20, description="Direct line")


class Deployment(_Part):
    """What a real deployment names: carrier, product line, hotline, service centre."""

    carrier: str = "联通"
    product_line: str = "133(130)手机业务"
    hotline: str = "XXXXXXX"
    service_centre: str = "**"
    operations_department: str = "运维部"
    vip_card: str = "俱乐部世界风VIP贵宾卡"
    pricing_pitch: str = (
        "与同行业相比,国家比较支持联通,允许比其他移动行业的资费底10%,所以选择我公司,一定会得到实惠的"
    )
    max_hold_seconds: int = Field(180, gt=0, description="A longer hold becomes a callback")


class CallContext(_Part):
    """Everything a flow's templates and guards may read."""

    customer: Customer = Customer()
    billing: Billing = Billing()
    agent: Agent = Agent()
    deployment: Deployment = Deployment()


def _leaf_fields() -> dict[str, bool]:
    """Map every leaf path (``customer.name``) to whether it is sensitive."""
    leaves: dict[str, bool] = {}
    for part_name, part_field in CallContext.model_fields.items():
        part_model = part_field.annotation
        assert isinstance(part_model, type) and issubclass(part_model, BaseModel)
        for name, field in part_model.model_fields.items():
            extra = field.json_schema_extra
            leaves[f"{part_name}.{name}"] = isinstance(extra, dict) and bool(extra.get("sensitive"))
    return leaves


CONTEXT_FIELDS: dict[str, bool] = _leaf_fields()
"""Every context path a flow may declare, mapped to whether it is personal data."""

ALWAYS_AVAILABLE = frozenset(p for p in CONTEXT_FIELDS if p.startswith(("agent.", "deployment.")))
"""Paths with defaults: templates may use them without declaring them."""

SENSITIVE_CONTEXT_FIELDS = frozenset(p for p, sensitive in CONTEXT_FIELDS.items() if sensitive)


def context_value(context: CallContext, path: str) -> Any:
    part, name = path.split(".", 1)
    return getattr(getattr(context, part), name)


def placeholder_context(deployment: Deployment | None = None, agent: Agent | None = None) -> CallContext:
    """The context that renders every line as the seed prints it (***, XX, …).

    Built without validation on purpose: the seed's placeholders stand where
    real values are numbers or a choice of 先生/女士.
    """
    customer_fields: dict[str, Any] = {
        "name": "***", "title": "先生(或女士)", "phone": "***********", "is_holder": True,
        "reference": None,
    }
    billing_fields: dict[str, Any] = {
        "last_month": "***", "this_month": "***", "idle_since_month": "XX",
        "suspended_since_month": None,
    }
    customer = Customer.model_construct(**customer_fields)
    billing = Billing.model_construct(**billing_fields)
    return CallContext.model_construct(
        customer=customer,
        billing=billing,
        agent=agent or Agent(),
        deployment=deployment or Deployment(),
    )
