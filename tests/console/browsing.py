"""Helpers for driving the console in Chromium: keys, explicit waits, axe, screenshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.console.conftest import WAIT_SECONDS, Console

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def wait(driver: Any) -> WebDriverWait[Any]:
    return WebDriverWait(driver, WAIT_SECONDS)


def press(driver: Any, *keys: str) -> None:
    """Keys to whatever has the focus, as a person types them."""
    ActionChains(driver).send_keys(*keys).perform()


def find(driver: Any, css: str) -> WebElement:
    return wait(driver).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def step_title(driver: Any, title: str) -> None:
    """Wait until the call screen shows this step (the page has settled on it)."""
    wait(driver).until(ec.text_to_be_present_in_element((By.ID, "step-title"), title))
    wait(driver).until(lambda d: d.find_element(By.ID, "step-title").text == title)


def focused(driver: Any) -> WebElement:
    element: WebElement = driver.switch_to.active_element
    return element


def tab_to(driver: Any, css: str, limit: int = 40) -> WebElement:
    """Press Tab until the element matching css has the focus, as a keyboard user does."""
    target = driver.find_element(By.CSS_SELECTOR, css)
    for _ in range(limit):
        if focused(driver) == target:
            return target
        press(driver, Keys.TAB)
    raise AssertionError(f"Tab never reached {css}")


def sign_in(driver: Any, console: Console, user: str = "agent") -> None:
    """Sign in by keyboard: the token field has the focus; type the token, press Enter."""
    driver.get(console.base_url + "/")
    find(driver, "#token")
    assert focused(driver).get_attribute("id") == "token"
    press(driver, console.tokens[user], Keys.ENTER)
    wait(driver).until(lambda d: d.current_url.endswith(
        "/calls" if user != "supervisor" else "/supervisor"))


def open_call(driver: Any, console: Console, call_id: str) -> None:
    driver.get(f"{console.base_url}/calls/{call_id}")
    find(driver, "#step-title")


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a',"
        " 'wcag21aa', 'best-practice']}}).then(r => done(r.violations.map(v => ({id: v.id,"
        " help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))));")
    return result


def shoot(driver: Any, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
