"""A real service (SQLite, real clock) behind uvicorn, and a real headless Chromium driving it."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from callscript.service.app import create_app
from callscript.service.library import Library
from callscript.service.state import Service
from callscript.store.crypto import Cipher, new_key
from callscript.store.db import make_engine, upgrade
from tests.service.conftest import CUSTOMER, add_users, serve_in_thread

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--window-size=1280,1000", "--lang=en-US")
WAIT_SECONDS = 15


@dataclass
class Console:
    """The service with the console, its users' tokens, and an API client per user."""

    base_url: str
    svc: Service
    tokens: dict[str, str]

    def api(self, user: str = "agent") -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10,
                            headers={"Authorization": f"Bearer {self.tokens[user]}"})

    def start_call(self, answers: tuple[str, ...] = (), user: str = "agent") -> dict[str, Any]:
        """A call started by the host through the API, walked with these answers."""
        with self.api(user) as api:
            response = api.post("/v1/calls", json={"flow": "first_visit",
                                                   "context": {"customer": CUSTOMER}})
            assert response.status_code == 201, response.text
            call = response.json()
            for answer in answers:
                response = api.post(f"/v1/calls/{call['id']}/turns",
                                    json={"type": "answer", "answer": answer},
                                    headers={"If-Match": f'"{call["revision"]}"'})
                assert response.status_code == 200, response.text
                call = response.json()
        return call


class SignedIn:
    """An HTTP client signed in to the console as the agent, and its CSRF token."""

    def __init__(self, console: Console, user: str = "agent") -> None:
        self.console, self.user = console, user
        self.client = httpx.Client(base_url=console.base_url, timeout=10)

    def __enter__(self) -> tuple[httpx.Client, str]:
        form = self.client.get("/signin").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        response = self.client.post("/signin", data={"csrf": csrf.group(1),
                                                      "token": self.console.tokens[self.user]})
        assert response.status_code == 303
        page = self.client.get("/calls").text
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        return self.client, found.group(1)

    def __exit__(self, *_: object) -> None:
        self.client.close()


@pytest.fixture
def console_factory(tmp_path: Path) -> Iterator[Callable[..., Console]]:
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def make(max_hold_seconds: int = 180) -> Console:
        engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
        upgrade(engine)
        cipher = Cipher([new_key()])
        deployment = {"deployment": {"carrier": "联通", "hotline": "10010",
                                     "service_centre": "西湖区营业厅",
                                     "max_hold_seconds": max_hold_seconds}}
        svc = Service(engine=engine, cipher=cipher, library=Library(), deployment=deployment)
        tokens = add_users(engine, cipher)
        server, thread, port = serve_in_thread(create_app(svc, sweep=False))
        running.append((server, thread))
        return Console(f"http://127.0.0.1:{port}", svc, tokens)

    yield make
    for server, thread in running:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def console(console_factory: Callable[..., Console]) -> Console:
    return console_factory()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("Chromium and its driver are not installed (Debian packages `chromium` and "
                    "`chromium-driver`; scripts/setup-system.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    profile = tempfile.mkdtemp(prefix="callscript-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=DriverService(executable_path=driver_path))
    driver.set_page_load_timeout(WAIT_SECONDS * 2)
    driver.set_script_timeout(WAIT_SECONDS * 2)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Screenshots of the screens, kept as test artefacts: in CALLSCRIPT_SCREENSHOTS when set
    (CI uploads it), else in pytest's temporary folder."""
    chosen = os.environ.get("CALLSCRIPT_SCREENSHOTS")
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("console-screenshots")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """The browser with one tab and no cookies, before and after the test."""
    yield browser
    for handle in browser.window_handles[1:]:
        browser.switch_to.window(handle)
        browser.close()
    browser.switch_to.window(browser.window_handles[0])
    browser.delete_all_cookies()
