"""Issue #18, the checks behind the flows: the property checker finds each broken rule of
the call's order, and a follow-up counted from the context names a declared date."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscript import FlowError, load_flows
from callscript.testing.properties import check_flow

BAD = {
    "early_goodbye": """
id: early_goodbye
title: 早道别
start: a
include: [closing]
steps:
  a:
    title: 自我介绍
    say: ['我是客户服务人员，再见']
    marks: [introduced]
    answers: [{id: go, label: 好, to: closing.thanks}]
""",
    "asks_too_soon": """
id: asks_too_soon
title: 未自我介绍先问资料
start: a
include: [closing]
steps:
  a:
    title: 问地址
    say: [请您提供一下您的详细地址，好吗？]
    answers:
      - id: gives
        label: 好的
        to: b
        capture: [{name: address, type: text, label: 地址, sensitive: true}]
  b:
    title: 自我介绍
    say: [我是客户服务人员]
    marks: [introduced]
    answers: [{id: go, label: 好, to: closing.thanks}]
""",
    "unconfirmed": """
id: unconfirmed
title: 未核实身份
start: a
include: [closing]
steps:
  a:
    title: 核对姓名
    say: [您好，您是王先生吗？]
    marks: [identity_check, introduced]
    answers: [{id: not_him, label: 不是, to: closing.thanks}]
""",
}


@pytest.mark.parametrize(("flow_id", "prop"), [("early_goodbye", "goodbye"),
                                                ("asks_too_soon", "introduced"),
                                                ("unconfirmed", "identity")])
def test_the_properties_catch_each_broken_rule(tmp_path: Path, flow_id: str, prop: str) -> None:
    path = tmp_path / f"{flow_id}.yaml"
    path.write_text(BAD[flow_id], encoding="utf-8")
    (flow,) = load_flows(path).values()
    found = {v.prop for v in check_flow(flow, calls=20, coverage=False)}
    assert prop in found


@pytest.mark.parametrize(("source", "message"), [
    ("customer.name", "from_context names 'customer.name', which is not a date field"),
    ("customer.opened_on", "from_context reads 'customer.opened_on', which the flow's context "
                           "does not declare"),
])
def test_a_follow_up_counted_from_the_context_names_a_declared_date(
        tmp_path: Path, source: str, message: str) -> None:
    path = tmp_path / "counted.yaml"
    path.write_text(f"""id: counted
title: 开户跟踪
context:
  required: [customer.name]
start: a
include: [closing]
steps:
  a:
    title: 跟踪
    say: [您好]
    marks: [introduced]
    effects:
      - follow_up: {{kind: new_customer, due: {{in_days: 15, from_context: {source}}}}}
    answers: [{{id: go, label: 好, to: closing.thanks}}]
""", encoding="utf-8")
    with pytest.raises(FlowError) as caught:
        load_flows(path)
    (problem,) = caught.value.problems
    assert problem.line == 13 and problem.message.startswith(message)
