"""A second policy, written as data: the securities library's (seed 004 第六节 2.3)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

pytest.importorskip("polars")

from callscript import Call, load_library
from callscript.cli import main

HEADER = ("customer_ref,name,title,phone,source,previous_contacts,product_name,product_description,"
          "do_not_call,agent_id\n")
CUSTOMERS = HEADER + """\
P1,王,先生,13800000001,银行网点客户咨询留存,0,银证通,银证通，用银行账户直接买卖股票,,S1
P2,李,女士,13800000002,朋友介绍留存,1,银证通,银证通，用银行账户直接买卖股票,,S1
P3,张,先生,13800000003,陌生交谈留存,2,银证通,银证通，用银行账户直接买卖股票,,S1
P4,赵,女士,13800000004,联系银行获取,0,银证通,银证通，用银行账户直接买卖股票,true,S1
P5,钱,先生,13800000005,集团开拓提供,3,银证通,银证通，用银行账户直接买卖股票,,S1
"""
RECORDS = [  # P3 was reached once and asked to be called again a week later (deal.yaml)
    {"customer_ref": "P3", "flow": "marketing", "disposition": "interested",
     "ended_at": "2025-10-09T10:12:00+08:00",
     "follow_ups": [{"kind": "second_contact", "due": "2025-10-16"}]},
]


def test_the_securities_policy_plans_prospects_until_two_contacts(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, "utf-8")
    (tmp_path / "records.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS) + "\n", "utf-8")
    (tmp_path / "agents.csv").write_text("agent_id,name,phone,max_calls\nS1,周敏,0755-83081234,30\n",
                                         "utf-8")
    (tmp_path / "deployment.yaml").write_text("firm: {name: 招商证券, hotline: '95565'}\n", "utf-8")
    out = tmp_path / "worklist.csv"
    assert main(["plan", str(tmp_path / "customers.csv"), "-L", "securities",
                 "--records", str(tmp_path / "records.jsonl"), "--agents",
                 str(tmp_path / "agents.csv"), "--deployment", str(tmp_path / "deployment.yaml"),
                 "--on", "2025-10-16", "-o", str(out)]) == 0
    rows = {r["customer_ref"]: r for r in csv.DictReader(out.open(encoding="utf-8"))}
    # P1, P2: fewer than two contacts; P3: the second contact is due; P4: do not call;
    # P5: three contacts and nothing due
    assert sorted(rows) == ["P1", "P2", "P3"]
    assert rows["P3"]["reason"] == "每个潜在客户至少联系两次(第六节2.3)"
    assert (rows["P3"]["attempt"], rows["P1"]["attempt"]) == ("2", "1")
    assert rows["P1"]["window_start"] == "2025-10-16T09:30:00+08:00"
    flow = load_library("securities").flow("marketing")
    for row in rows.values():
        call = Call.start(flow, json.loads(row["context"]))
        assert call.prompt.step == flow.start
