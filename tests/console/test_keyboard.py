"""A first visit by keyboard only, from sign-in to its record, in a real Chromium."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.console.browsing import (
    axe_violations,
    find,
    focused,
    press,
    shoot,
    sign_in,
    step_title,
    tab_to,
    wait,
)
from tests.console.conftest import Console
from tests.service.conftest import CUSTOMER


def test_a_first_visit_by_keyboard_alone_to_its_record(page: Any, console: Console,
                                                        screenshots: Path) -> None:
    sign_in(page, console)
    # start a call: the flow is chosen in a list, then the customer's data typed in
    tab_to(page, "#flow")
    wait(page).until(lambda d: d.find_element(By.ID, "flow").get_attribute("value")
                     == "first_visit")
    tab_to(page, "form[action='/calls/new'] button")
    press(page, Keys.ENTER)
    find(page, "#f-customer-name")
    shoot(page, screenshots, "new-call")
    assert axe_violations(page) == []
    tab_to(page, "#f-customer-name")
    press(page, CUSTOMER["name"], Keys.TAB, "1", Keys.TAB)  # 1 picks the first title, 先生
    assert focused(page).get_attribute("id") == "f-customer-phone"
    press(page, "138", Keys.ENTER)  # too short: said in Chinese beside the field at once
    assert find(page, "#f-customer-phone-client-error").text.startswith("请填写正确的电话号码")
    assert focused(page).get_attribute("aria-invalid") == "true"
    press(page, Keys.BACKSPACE * 3, CUSTOMER["phone"], Keys.ENTER)

    step_title(page, "准备回访")
    shoot(page, screenshots, "call-prepare")
    press(page, "1")  # 客户接听（核对姓名）
    step_title(page, "核对客户姓名")
    assert "您好，您是王先生吗？" in find(page, ".say").text
    press(page, "1")  # 是本人
    step_title(page, "自我介绍")
    shoot(page, screenshots, "call")
    press(page, "2")  # 现在没空
    step_title(page, "询问客户方便的时间")
    press(page, "1")  # gives a time: its field opens and takes the focus
    assert focused(page).get_attribute("id") == "f-cap-callback_time"
    when = (datetime.now() + timedelta(days=1)).replace(hour=19, minute=0)
    press(page, when.strftime("%Y-%m-%d %H:%M"), Keys.ENTER)

    find(page, "#summary-title")
    shoot(page, screenshots, "summary")
    assert find(page, "#disposition").text.startswith("另约时间回访")
    follow_ups = find(page, "#follow-ups").text
    assert "回电" in follow_ups and when.strftime("%Y-%m-%d 19:00") in follow_ups
    with console.api() as api:
        items = api.get("/v1/calls").json()["items"]
        assert [c["disposition"] for c in items] == ["rescheduled"]
        record = api.get(f"/v1/calls/{items[0]['id']}/record").json()
    assert [e["step"] for e in record["path"]] == ["prepare", "confirm_name", "introduce",
                                                   "busy.ask_time", "busy.rescheduled"]
