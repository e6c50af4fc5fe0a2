"""The service's commands: users, db upgrade, rotate-key, and serve's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callscript.cli import main
from callscript.service.app import create_app
from callscript.service.library import Library
from callscript.service.state import Service
from callscript.store.crypto import KEY_VARIABLE, Cipher, DataKeyError, new_key
from callscript.store.db import make_engine
from tests.service.conftest import CUSTOMER, DEPLOYMENT


def _token(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["users", "add", *args]) == 0
    return capsys.readouterr().out.splitlines()[-1]


def test_users_add_list_remove(db_url: str, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    token = _token(capsys, "A9", "--role", "agent", "--display-name", "周敏", "--phone", "0571-1",
                   "--db", db_url)
    assert token.startswith("cs_") and len(token) > 40
    assert main(["users", "add", "A9", "--role", "agent", "--db", db_url]) == 2
    assert main(["users", "add", "X", "--role", "boss", "--db", db_url]) == 2
    capsys.readouterr()
    assert main(["users", "list", "--db", db_url]) == 0
    listed = capsys.readouterr().out
    assert "A9\tagent" in listed and token not in listed and "周敏" not in listed
    assert main(["users", "remove", "A9", "--db", db_url]) == 0
    assert main(["users", "remove", "A9", "--db", db_url]) == 2


def test_users_add_needs_a_key_or_dev(tmp_path: object, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    url = f"sqlite:///{tmp_path}/x.db"
    assert main(["users", "add", "A1", "--role", "agent", "--db", url]) == 2
    assert KEY_VARIABLE in capsys.readouterr().err
    assert main(["users", "add", "A1", "--role", "agent", "--db", url, "--dev"]) == 0


def test_serve_refuses_without_a_key_and_several_workers_on_sqlite(
        tmp_path: object, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    url = f"sqlite:///{tmp_path}/x.db"
    assert main(["serve", "--db", url]) == 2
    assert "--dev" in capsys.readouterr().err
    assert main(["serve", "--db", url, "--dev", "--workers", "2"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err


def test_rotate_key_re_encrypts_everything(db_url: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = new_key(), new_key()
    monkeypatch.setenv(KEY_VARIABLE, old)
    assert main(["db", "upgrade", "--db", db_url]) == 0
    token = _token(capsys, "A1", "--role", "agent", "--display-name", "李娜",
                   "--phone", "0571-86001234", "--db", db_url)
    engine = make_engine(db_url)

    def client(keys: list[str]) -> TestClient:
        svc = Service(engine=engine, cipher=Cipher(keys), library=Library(),
                      deployment=DEPLOYMENT)
        return TestClient(create_app(svc, sweep=False), raise_server_exceptions=False)

    auth = {"Authorization": f"Bearer {token}"}
    with client([old]) as c:
        made = c.post("/v1/calls", json={"flow": "first_visit", "context": {"customer": CUSTOMER}},
                      headers={**auth, "Idempotency-Key": "k"})
        assert made.status_code == 201
    monkeypatch.setenv(KEY_VARIABLE, f"{new},{old}")
    assert main(["db", "rotate-key", "--db", db_url]) == 0
    assert "re-encrypted" in capsys.readouterr().out
    with client([new]) as c:  # the old key is gone: everything must read with the new one
        got = c.get(f"/v1/calls/{made.json()['id']}", headers=auth)
        assert got.status_code == 200 and got.json()["prompt"] == made.json()["prompt"]
    with client([old]) as c:
        assert c.get(f"/v1/calls/{made.json()['id']}", headers=auth).status_code == 500
    with pytest.raises(DataKeyError):
        Cipher(["not-a-key"])
    engine.dispose()


def test_serve_checks_the_deployment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, new_key())
    bad = tmp_path / "deployment.yaml"
    bad.write_text("deployment:\n  hotline: '10010'\n  max_hold_seconds: -5\n  colour: red\n"
                   "customer:\n  name: 王\n", encoding="utf-8")
    assert main(["serve", "--db", f"sqlite:///{tmp_path}/x.db", "--deployment", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: deployment.max_hold_seconds:" in err  # file:line and the field
    assert f"{bad}:4: deployment.colour: unknown field" in err
    assert f"{bad}:5: customer: is a part the client sends with each call" in err
    assert "-5" not in err and "王" not in err
    assert main(["serve", "--db", f"sqlite:///{tmp_path}/x.db", "-L", "securities",
                 "--deployment", str(bad)]) == 2  # no served library fills `deployment`
    assert f"{bad}:1: deployment: is not a part of a served library" in capsys.readouterr().err
    missing = tmp_path / "nowhere"
    assert main(["serve", "--db", f"sqlite:///{tmp_path}/x.db", "-L", str(missing)]) == 2
    assert "nowhere" in capsys.readouterr().err


@pytest.mark.parametrize(("url", "said"), [
    ("mysql://u:S3cretPW@h/db", "--db mysql://u:***@h/db: not a database URL the service "
                                "opens; the service runs on SQLite or PostgreSQL"),
    ("postgresql+asyncpg://u:S3cretPW@h/db", "(through psycopg 3)"),
    ("postgresql://u:S3cretPW@127.0.0.1:notaport/db", "--db: the URL's port is not a number"),
    ("notaurl", "--db: not a database URL"),
    ("", "--db is empty"),
    ("sqlite://", "an in-memory database is not the service's"),
    ("postgresql://u@127.0.0.1:1/db?password=S3cretPW", "--db postgresql://u@127.0.0.1:1/db?"
                                                        "password=***: cannot use the database "
                                                        "(OperationalError: the server is not "
                                                        "reachable"),
    ("postgresql://u@127.0.0.1:1/db?PASSWORD=S3cretPW", "the driver refused the URL's options"),
])
@pytest.mark.parametrize("command", [["users", "list"], ["db", "upgrade"], ["serve", "--dev"]])
def test_a_bad_db_url_is_one_line_naming_it_without_its_password(
        url: str, said: str, command: list[str], capsys: pytest.CaptureFixture[str],
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--db", url]) == 2
    err = capsys.readouterr().err
    assert said in err and "S3cretPW" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing created (an empty --db is not the default)


def test_serve_refuses_a_port_in_use_before_saying_it_serves(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--dev", "--db", f"sqlite:///{tmp_path}/x.db",
                     "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"--port {port}: cannot listen there" in err and "serving" not in err
