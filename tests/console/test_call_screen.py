"""The call screen in a real Chromium: errors in Chinese, interruptions, hold, reload, two tabs,
another agent's call, CSRF, and axe-core on the sign-in, call and summary screens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from tests.console.browsing import (
    axe_violations,
    find,
    focused,
    open_call,
    press,
    shoot,
    sign_in,
    step_title,
    wait,
)
from tests.console.conftest import Console, SignedIn

TO_INTRODUCE = ("answered", "confirmed")


def test_a_bad_capture_is_shown_in_chinese_beside_its_field_and_corrected(
        page: Any, console: Console, screenshots: Path) -> None:
    call = console.start_call((*TO_INTRODUCE, "no_time"))
    sign_in(page, console)
    open_call(page, console, call["id"])
    step_title(page, "询问客户方便的时间")
    press(page, "1")
    past = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%d 10:00")
    press(page, past, Keys.ENTER)
    error = find(page, "#f-cap-callback_time-error")
    assert error.text == "不能早于现在"
    assert find(page, "#fix").text.startswith("请更正标出的内容")
    field = page.find_element(By.ID, "f-cap-callback_time")
    assert field.get_attribute("aria-invalid") == "true" and focused(page) == field
    assert field.get_attribute("value") == past  # what was typed is kept to correct
    shoot(page, screenshots, "capture-error")
    press(page, "not a time", Keys.ENTER)  # appended to the old text: not a time at all
    assert find(page, "#f-cap-callback_time-error").text == "请选择正确的日期和时间"
    field = page.find_element(By.ID, "f-cap-callback_time")
    field.clear()
    when = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%d 09:30")
    field.send_keys(when, Keys.ENTER)
    assert find(page, "#disposition").text.startswith("另约时间回访")
    with console.api() as api:
        record = api.get(f"/v1/calls/{call['id']}/record").json()
    assert record["captures"]["callback_time"].startswith(when.replace(" ", "T"))
    assert len(record["path"]) == 5  # the refused tries moved nothing


def test_an_interruption_and_the_return_to_the_step_left(page: Any, console: Console,
                                                          screenshots: Path) -> None:
    call = console.start_call(TO_INTRODUCE)
    sign_in(page, console)
    open_call(page, console, call["id"])
    step_title(page, "自我介绍")
    panel = find(page, "aside.side")
    assert "C 客户对个人信息很敏感" in panel.text
    press(page, "c")
    step_title(page, "转移话题：VIP贵宾卡")
    shoot(page, screenshots, "interruption")
    press(page, "1")  # 已经领到了: back to the introduction, with its short re-ask
    step_title(page, "自我介绍")
    assert find(page, ".say").text == "请问能占用您几分钟时间吗？"
    assert find(page, "#returned").text == "回到: 自我介绍"  # a return, not a new step


def test_a_hold_past_the_limit_becomes_a_callback(page: Any, console_factory: Callable[..., Console],
                                                 screenshots: Path) -> None:
    console = console_factory(max_hold_seconds=2)
    call = console.start_call(TO_INTRODUCE)
    sign_in(page, console)
    open_call(page, console, call["id"])
    step_title(page, "自我介绍")
    press(page, "h")
    step_title(page, "请客户稍等")
    assert find(page, "#resume").text == "1 回到通话"
    over = page.find_element(By.ID, "hold-over")
    assert not over.is_displayed()
    wait(page).until(ec.visibility_of(over))  # the live timer reaches the limit
    assert "请客户先挂机" in over.text
    assert find(page, "#resume").text == "1 等待超过3分钟"
    assert find(page, "#hold-timer").text >= "0:02"
    shoot(page, screenshots, "hold-over")
    assert axe_violations(page) == []
    press(page, "1")
    step_title(page, "等待过久，约定回电")
    press(page, "1")  # 好的
    assert find(page, "#disposition").text == "待查询后回复客户（CB）"
    assert "请等客户先挂机" in find(page, "#hang-up-first").text
    assert "回电" in find(page, "#follow-ups").text
    with console.api() as api:
        assert api.get(f"/v1/calls/{call['id']}").json()["disposition"] == "callback_scheduled"


def test_a_reload_mid_call_continues_the_same_call(page: Any, console: Console) -> None:
    call = console.start_call()
    sign_in(page, console)
    open_call(page, console, call["id"])
    press(page, "1")
    step_title(page, "核对客户姓名")
    page.refresh()
    step_title(page, "核对客户姓名")
    press(page, "1")
    step_title(page, "自我介绍")
    with console.api() as api:
        assert api.get(f"/v1/calls/{call['id']}").json()["revision"] == 3


def test_the_slower_of_two_tabs_is_shown_the_conflict_and_the_current_step(
        page: Any, console: Console, screenshots: Path) -> None:
    call = console.start_call(("answered",))
    sign_in(page, console)
    open_call(page, console, call["id"])
    first = page.current_window_handle
    page.switch_to.new_window("tab")
    open_call(page, console, call["id"])
    second = page.current_window_handle
    page.switch_to.window(first)
    press(page, "1")  # 是本人
    step_title(page, "自我介绍")
    page.switch_to.window(second)
    step_title(page, "核对客户姓名")  # this tab fell behind
    press(page, "4")  # 客户说打错了: never taken over the other tab's turn
    conflict = find(page, "#conflict")
    assert "已在别处" in conflict.text
    step_title(page, "自我介绍")
    shoot(page, screenshots, "conflict")
    with console.api() as api:
        now = api.get(f"/v1/calls/{call['id']}").json()
    assert now["revision"] == 3 and now["prompt"]["step"] == "introduce"


def test_an_agent_cannot_open_another_agents_call(page: Any, console: Console) -> None:
    theirs = console.start_call(user="other_agent")
    sign_in(page, console)
    page.get(f"{console.base_url}/calls/{theirs['id']}")
    assert "找不到这个通话" in find(page, "#message").text
    with SignedIn(console) as (client, _csrf):
        assert client.get(f"/calls/{theirs['id']}").status_code == 404


def test_a_post_without_the_csrf_token_is_refused(console: Console) -> None:
    call = console.start_call()
    with SignedIn(console) as (client, csrf):
        turn = {"type": "answer", "answer": "answered", "revision": "1", "key": "k-1"}
        assert client.post(f"/calls/{call['id']}/turn", data=turn).status_code == 403
        assert client.post(f"/calls/{call['id']}/turn",
                           data={**turn, "csrf": "0" * 64}).status_code == 403
        assert client.post("/signout", data={}).status_code == 403
        with console.api() as api:
            assert api.get(f"/v1/calls/{call['id']}").json()["revision"] == 1
        done = client.post(f"/calls/{call['id']}/turn", data={**turn, "csrf": csrf})
        assert done.status_code == 303
        again = client.post(f"/calls/{call['id']}/turn", data={**turn, "csrf": csrf})
        assert again.status_code == 303  # the same key: the first reply, not a second turn
        with console.api() as api:
            assert api.get(f"/v1/calls/{call['id']}").json()["revision"] == 2


def test_a_revoked_token_returns_the_browser_to_sign_in(page: Any, console: Console) -> None:
    from callscript.store import repo

    call = console.start_call()
    sign_in(page, console)
    open_call(page, console, call["id"])
    with console.svc.engine.begin() as conn:
        assert repo.remove_user(conn, "A0107")
    press(page, "1")
    wait(page).until(lambda d: "/signin" in d.current_url)
    assert "重新登录" in find(page, "#lost").text
    with console.api("supervisor") as api:
        assert api.get(f"/v1/calls/{call['id']}").json()["revision"] == 1


def test_axe_finds_no_violations_on_sign_in_call_and_summary(page: Any, console: Console) -> None:
    page.get(console.base_url + "/signin")
    find(page, "#token")
    assert axe_violations(page) == []
    call = console.start_call(TO_INTRODUCE)
    sign_in(page, console)
    assert axe_violations(page) == []  # the calls list
    open_call(page, console, call["id"])
    assert axe_violations(page) == []
    press(page, "2")
    step_title(page, "询问客户方便的时间")
    press(page, "1", "yesterday", Keys.ENTER)  # the capture error shown
    find(page, "#f-cap-callback_time-error")
    assert axe_violations(page) == []
    press(page, "c")  # in the field: typed, not an interruption
    field = page.find_element(By.ID, "f-cap-callback_time")
    field.clear()
    field.send_keys((datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d 19:00"), Keys.ENTER)
    find(page, "#summary-title")
    assert axe_violations(page) == []
    page.get(console.base_url + "/calls?lang=en")
    assert find(page, "h1").text == "My calls"
    assert axe_violations(page) == []
    header = find(page, "header").text  # the console's own words, English punctuation too
    assert "Signed in as: A0107" in header and "：" not in header


def test_a_turn_sent_while_the_network_is_down_is_retried_and_taken_once(
        page: Any, console: Console) -> None:
    call = console.start_call()
    sign_in(page, console)
    open_call(page, console, call["id"])
    page.set_network_conditions(offline=True, latency=0, download_throughput=-1,
                                upload_throughput=-1)
    try:
        press(page, "1")
        banner = find(page, "#network")
        assert "网络中断" in banner.text
    finally:
        page.set_network_conditions(offline=False, latency=0, download_throughput=-1,
                                    upload_throughput=-1)
    step_title(page, "核对客户姓名")  # a retry with the same request got through
    with console.api() as api:
        assert api.get(f"/v1/calls/{call['id']}").json()["revision"] == 2


def test_the_supervisor_sees_live_calls_holds_and_follow_ups_without_personal_data(
        page: Any, console: Console) -> None:
    held = console.start_call(TO_INTRODUCE)
    with console.api() as api:
        response = api.post(f"/v1/calls/{held['id']}/turns", json={"type": "hold"},
                            headers={"If-Match": f'"{held["revision"]}"'})
        assert response.status_code == 200
    asked = console.start_call((*TO_INTRODUCE, "no_time"))
    tomorrow = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT19:00")
    with console.api() as api:
        response = api.post(f"/v1/calls/{asked['id']}/turns", json={
            "type": "answer", "answer": "gives_time", "captures": {"callback_time": tomorrow}},
            headers={"If-Match": f'"{asked["revision"]}"'})
        assert response.status_code == 200
    console.start_call((*TO_INTRODUCE, "no_time"))
    sign_in(page, console, "supervisor")
    assert "回电" in find(page, "#due").text and tomorrow in find(page, "#due").text
    live = find(page, "#live-calls").text
    assert "A0107" in live and "请客户稍等" in live and "询问客户方便的时间" in live
    assert find(page, "tr.held").text.split()[-2].startswith("0:")
    assert "王" not in page.find_element(By.TAG_NAME, "main").text
    assert axe_violations(page) == []
    page.find_element(By.CSS_SELECTOR, "tr.held a").click()  # the held call, read only
    assert find(page, "#summary-title").text == "进行中：请客户稍等"
    main = page.find_element(By.TAG_NAME, "main").text
    assert "王" not in main and "准备回访" in main  # the steps, not the customer
    assert page.find_elements(By.CSS_SELECTOR, "form[data-turn]") == []
