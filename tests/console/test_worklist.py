"""The agent's worklist in the console: today's rows, masked phones, started by keyboard."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.console.browsing import axe_violations, find, focused, press, shoot, sign_in, wait
from tests.console.conftest import Console, SignedIn
from tests.planner_support import store_plan
from tests.service.conftest import CUSTOMER

ZONE = "Asia/Shanghai"


def _plan_today(console: Console) -> str:
    """Today's plan: two rows for the agent, one for another."""
    other = {**CUSTOMER, "reference": "C-2002", "name": "李", "title": "女士", "phone": "13900002002"}
    third = {**CUSTOMER, "reference": "C-3003", "name": "张", "phone": "13900003003"}
    return store_plan(console.svc, datetime.now(ZoneInfo(ZONE)).date(), [
        ("A0107", CUSTOMER, "新开户客户15天内首次回访", 60, "09:00", "12:00", 1),
        ("A0107", other, "客户约定的时间回电", 90, "14:00", "14:30", 2),
        ("A0200", third, "新开户客户15天内首次回访", 60, "09:00", "12:00", 1)])


def test_the_agent_starts_todays_calls_from_the_worklist_by_keyboard(
        page: Any, console: Console, screenshots: Path) -> None:
    _plan_today(console)
    sign_in(page, console)
    page.find_element(By.LINK_TEXT, "今日回访清单").click()
    find(page, "table.worklist")
    cells = [r.text for r in page.find_elements(By.CSS_SELECTOR, "table.worklist tbody tr")]
    assert len(cells) == 2  # only the agent's own rows
    assert "王先生 138****5678" in cells[0] and "09:00–12:00" in cells[0] and "第1次" in cells[0]
    assert "首次回访" in cells[0] and "新开户客户15天内首次回访" in cells[0]
    assert "客户约定的时间回电" in cells[1] and "第2次" in cells[1]
    assert CUSTOMER["phone"] not in page.page_source and "13900002002" not in page.page_source
    shoot(page, screenshots, "worklist")
    assert axe_violations(page) == []
    press(page, "2")
    assert focused(page).get_attribute("data-row") == "2"
    press(page, "1")
    assert focused(page).get_attribute("data-row") == "1"
    press(page, Keys.ENTER)
    wait(page).until(lambda d: re.search(r"/calls/[0-9a-f]+$", d.current_url))
    find(page, "#step-title")
    call_id = page.current_url.rsplit("/", 1)[1]
    with console.api("agent") as api:
        record = api.get(f"/v1/calls/{call_id}/record").json()
    assert record["customer_ref"] == CUSTOMER["reference"]
    page.get(console.base_url + "/worklist?lang=en")
    assert find(page, "h1").text.startswith("Today's worklist")
    assert axe_violations(page) == []


def test_a_row_of_another_agent_or_of_no_plan_cannot_be_started(console: Console) -> None:
    plan_id = _plan_today(console)
    with SignedIn(console) as (client, csrf):
        refused = client.post("/worklist/start", data={"csrf": csrf, "plan": plan_id, "seq": "3"})
        assert refused.status_code == 404 and "不是分给您的" in refused.text
        unknown = client.post("/worklist/start", data={"csrf": csrf, "plan": "0" * 32, "seq": "1"})
        assert unknown.status_code == 404
        started = client.post("/worklist/start", data={"csrf": csrf, "plan": plan_id, "seq": "1"})
        again = client.post("/worklist/start", data={"csrf": csrf, "plan": plan_id, "seq": "1"})
        assert started.status_code == again.status_code == 303
        assert started.headers["location"] == again.headers["location"]  # one row, one call
        no_csrf = client.post("/worklist/start", data={"plan": plan_id, "seq": "1"})
        assert no_csrf.status_code == 403


def test_no_plan_today_says_so(console: Console) -> None:
    with SignedIn(console) as (client, _csrf):
        page = client.get("/worklist")
        assert page.status_code == 200 and "今天没有为您安排回访" in page.text


def test_a_row_that_cannot_start_says_why_on_the_worklist(console: Console) -> None:
    day = datetime.now(ZoneInfo(ZONE)).date()
    broken = {k: v for k, v in CUSTOMER.items() if k != "name"}  # the flow needs the name
    plan_id = store_plan(console.svc, day, [("A0107", broken, "新开户客户15天内首次回访", 60,
                                             "09:00", "12:00", 1)])
    with SignedIn(console) as (client, csrf):
        refused = client.post("/worklist/start", data={"csrf": csrf, "plan": plan_id, "seq": "1"})
        assert refused.status_code == 422
        assert "无法开始这个通话： 清单中这位客户的资料不完整或有误" in refused.text
        assert 'class="worklist"' in refused.text  # the list stays, to go on with the next row
        assert CUSTOMER["phone"] not in refused.text
