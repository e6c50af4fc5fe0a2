"""Sessions, CSRF and forms over real HTTP (no browser): what the cookie holds, sign-out,
forged and old sessions, the start form's errors in Chinese."""

from __future__ import annotations

import re
import time

import httpx

from callscript.console.sessions import COOKIE, Signer, new_session
from tests.console.conftest import Console, SignedIn


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_session_cookie_is_httponly_strict_and_holds_no_token(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        csrf = csrf_of(client.get("/signin").text)
        response = client.post("/signin", data={"csrf": csrf, "token": console.tokens["agent"]})
        assert response.status_code == 303
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert console.tokens["agent"] not in cookie
        assert client.get("/calls").status_code == 200


def test_a_wrong_token_is_refused_without_echoing_it(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        csrf = csrf_of(client.get("/signin").text)
        response = client.post("/signin", data={"csrf": csrf, "token": "cs_not-a-token"})
        assert response.status_code == 401
        assert "令牌无效" in response.text and "cs_not-a-token" not in response.text


def test_sign_out_ends_the_session(console: Console) -> None:
    with SignedIn(console) as (client, csrf):
        response = client.post("/signout", data={"csrf": csrf})
        assert response.status_code == 303 and response.headers["location"] == "/signin"
        assert client.get("/calls").headers["location"].startswith("/signin")


def test_a_forged_cookie_is_no_session(console: Console) -> None:
    forged = Signer(b"x" * 32).dump(new_session("A0107", "0" * 64))
    with httpx.Client(base_url=console.base_url, cookies={COOKIE: forged}) as client:
        assert client.get("/calls").headers["location"].startswith("/signin")


def test_an_old_session_is_expired_and_a_tampered_one_rejected() -> None:
    signer = Signer(b"k" * 32, max_age=60)
    session = new_session("A0107", "h" * 64)
    loaded = signer.load(signer.dump(session))
    assert loaded == session and not signer.expired(session)
    old = type(session)(session.nonce, session.user, session.token_hash, time.time() - 61)
    assert signer.expired(old)
    data, _, mac = signer.dump(session).rpartition(".")
    assert signer.load(data + "." + "0" * len(mac)) is None
    assert not signer.csrf_ok(session, "") and signer.csrf_ok(session, signer.csrf(session))


def test_the_start_form_shows_context_errors_in_chinese_beside_fields(console: Console) -> None:
    with SignedIn(console) as (client, _csrf):
        form = client.get("/calls/new", params={"flow": "first_visit"}).text
        for label in ("客户姓名", "称谓", "手机号码", "客户编号"):
            assert label in form
        assert "客户经理" not in form and "服务热线" not in form  # implicit parts are not asked
        response = client.post("/calls/new", data={
            "csrf": csrf_of(form), "flow": "first_visit", "customer.title": "先生",
            "customer.phone": "12"})
        assert response.status_code == 422
        errors = dict(re.findall(r'id="f-(customer-\w+)-error">([^<]+)<', response.text))
        assert errors == {"customer-phone": "请填写正确的电话号码（数字，可含 + - 或空格，6-20位）"}
        assert 'value="12"' in response.text  # kept for correcting
        response = client.post("/calls/new", data={
            "csrf": csrf_of(form), "flow": "first_visit", "customer.title": "先生",
            "customer.phone": "13812345678"})
        assert response.status_code == 422  # the service names missing fields once all are valid
        errors = dict(re.findall(r'id="f-(customer-\w+)-error">([^<]+)<', response.text))
        assert errors == {"customer-name": "必填"}
        with console.api() as api:
            assert api.get("/v1/calls").json()["items"] == []
        response = client.post("/calls/new", data={"flow": "first_visit"})
        assert response.status_code == 403


def test_english_is_selectable(console: Console) -> None:
    with httpx.Client(base_url=console.base_url) as client:
        page = client.get("/signin", params={"lang": "en"}).text
        assert '<html lang="en">' in page and "Sign in" in page
        assert '<html lang="en">' in client.get("/signin").text  # kept in a cookie
