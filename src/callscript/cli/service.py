"""`serve`, `db upgrade|rotate-key|new-key` and `users add|list|remove` (the service extra).

The service's packages are imported inside the commands, so the rest of the CLI
works without the extra installed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from callscript.cli.errors import fail
from callscript.cli.options import Libraries

if TYPE_CHECKING:
    from sqlalchemy import Engine

db_app = typer.Typer(no_args_is_help=True, help="The service's database: migrations, keys.")
users_app = typer.Typer(no_args_is_help=True, help="The service's users and their tokens.")

Db = Annotated[str | None, typer.Option(
    "--db", metavar="URL", help="database URL (default: sqlite:///callscript.db; or "
                                "postgresql://…)")]
Dev = Annotated[bool, typer.Option(
    "--dev", help="allow running without CALLSCRIPT_DATA_KEY: personal data stored unencrypted")]


@contextmanager
def _service_errors() -> Iterator[None]:
    try:
        from sqlalchemy.exc import OperationalError

        from callscript.service.main import SettingsError
        from callscript.store.crypto import DataKeyError
    except ImportError:
        raise fail("the service needs its extra: pip install 'callscript[service]'") from None
    from callscript.store.db import DatabaseUrlError

    try:
        yield
    except (SettingsError, DataKeyError, DatabaseUrlError) as err:
        raise fail(str(err)) from None
    except OperationalError as err:
        raise fail(f"cannot use the database ({type(err.orig).__name__}: the server is not "
                   "reachable, refused the login, or has no such database)") from None


def _engine(db: str | None) -> Engine:
    from sqlalchemy.exc import DBAPIError, OperationalError

    from callscript.store.db import DEFAULT_URL, checked_url, make_engine, upgrade
    from callscript.store.urls import shown_url

    given = DEFAULT_URL if db is None else db
    engine = make_engine(checked_url(given))
    try:
        upgrade(engine)
    except DBAPIError as err:  # also a connection option the driver refuses
        engine.dispose()
        why = ("the server is not reachable, refused the login, or has no such database"
               if isinstance(err, OperationalError) else "the driver refused the URL's options")
        raise fail(f"--db {shown_url(given)}: cannot use the database "
                   f"({type(err.orig).__name__}: {why})") from None
    return engine


def _check_port(host: str, port: int) -> None:
    """Refuse a port already taken before saying "serving" (uvicorn would fail after)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as err:
        raise fail(f"--host {host} --port {port}: cannot listen there ({err.strerror or err}); "
                   "is another server using the port?") from None


def serve_command(
    library: Libraries = None,
    db: Db = None,
    deployment: Annotated[Path | None, typer.Option(
        "--deployment", metavar="FILE",
        help="YAML with this installation's values of the parts the service fills "
             "(deployment: {hotline: …}, firm: …)")] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="worker processes (PostgreSQL only)")] = 1,
    expire_minutes: Annotated[int, typer.Option(
        min=1, help="live calls idle this long expire")] = 240,
    webhook: Annotated[str | None, typer.Option(
        "--webhook", metavar="URL",
        help="deliver every call event to this URL (Standard Webhooks, signed with "
             "CALLSCRIPT_WEBHOOK_SECRET)")] = None,
    dev: Dev = False,
) -> None:
    """Run the HTTP API (OpenAPI at /docs) on SQLite or PostgreSQL."""
    with _service_errors():
        import uvicorn

        from callscript.service.main import Settings, build_service
        from callscript.store.db import DEFAULT_URL, checked_url, is_sqlite

        given = DEFAULT_URL if db is None else db
        url = checked_url(given)
        if workers > 1 and is_sqlite(url):
            raise fail("--workers above 1 needs PostgreSQL (--db postgresql://…): SQLite has "
                       "one writer")
        settings = Settings(db=url, library=list(library or []), deployment=deployment, dev=dev,
                            expire_minutes=expire_minutes, webhook=webhook)
        build_service(settings)  # every setting checked here, once, before workers start
        _engine(given).dispose()
        _check_port(host, port)
        os.environ.update(settings.to_env())
        print(f"callscript serving http://{host}:{port} (API docs at /docs)", file=sys.stderr)
        from callscript.service.protocol import http_protocol

        uvicorn.run("callscript.service.main:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="warning",
                    http=f"callscript.service.protocol:{http_protocol().__name__}")


@db_app.command("upgrade")
def db_upgrade_command(db: Db = None) -> None:
    """Create or upgrade the schema to the newest migration."""
    with _service_errors():
        _engine(db).dispose()
    print("database is up to date")


@db_app.command("new-key")
def db_new_key_command() -> None:
    """Print a new data key for CALLSCRIPT_DATA_KEY."""
    from callscript.store.crypto import new_key

    print(new_key())


@db_app.command("rotate-key")
def db_rotate_key_command(db: Db = None) -> None:
    """Re-encrypt all personal data with the first key of CALLSCRIPT_DATA_KEY."""
    with _service_errors():
        from callscript.service.main import cipher_for
        from callscript.store.rotate import rotate

        cipher = cipher_for(dev=False)
        engine = _engine(db)
        count = rotate(engine, cipher)
        engine.dispose()
    print(f"re-encrypted {count} values with the first key")


@users_app.command("add")
def users_add_command(
    name: Annotated[str, typer.Argument(help="user name (an agent's is its staff id)")],
    role: Annotated[str, typer.Option(help="agent, supervisor or integrator")],
    display_name: Annotated[str | None, typer.Option(help="an agent's name as the customer "
                                                          "hears it")] = None,
    phone: Annotated[str | None, typer.Option(help="an agent's direct line")] = None,
    db: Db = None,
    dev: Dev = False,
) -> None:
    """Add a user; its token is printed once, alone on the last line."""
    with _service_errors():
        from sqlalchemy.exc import IntegrityError

        from callscript.service.auth import ROLES, hash_token, new_token
        from callscript.service.main import cipher_for
        from callscript.service.state import utc_now
        from callscript.store import repo

        if role not in ROLES:
            raise fail(f"--role must be one of {', '.join(ROLES)}")
        if not 1 <= len(name) <= 64:
            raise fail("a user name has 1 to 64 characters")
        cipher = cipher_for(dev)
        engine = _engine(db)
        token = new_token()
        try:
            with engine.begin() as conn:
                repo.add_user(conn, name, role, hash_token(token),
                              cipher.maybe_encrypt(display_name), cipher.maybe_encrypt(phone),
                              utc_now())
        except IntegrityError:
            raise fail("a user of this name exists: remove it first to issue a new "
                       "token") from None
        finally:
            engine.dispose()
    print(f"added {role} {name}; its token (shown only now):")
    print(token)


@users_app.command("list")
def users_list_command(db: Db = None) -> None:
    """List users and roles (never tokens)."""
    with _service_errors():
        from callscript.store import repo

        engine = _engine(db)
        with engine.begin() as conn:
            rows = repo.list_users(conn)
        engine.dispose()
    for row in rows:
        print(f"{row.name}\t{row.role}\t{row.created_at:%Y-%m-%d %H:%M}")


@users_app.command("remove")
def users_remove_command(name: Annotated[str, typer.Argument(help="user name")],
                         db: Db = None) -> None:
    """Remove a user: its token stops working at once."""
    with _service_errors():
        from callscript.store import repo

        engine = _engine(db)
        with engine.begin() as conn:
            removed = repo.remove_user(conn, name)
        engine.dispose()
    if not removed:
        raise fail("no user of this name")
    print(f"removed {name}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
