"""How the CLI reports a user's mistake: one line on stderr, a documented exit code."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
import yaml

from callscript.errors import CallscriptError, FlowError

OK = 0
PROBLEMS = 1  # check found problems in the flows
USAGE = 2  # bad input: missing file, unknown flow, invalid flow file or context
INTERRUPTED = 130  # Ctrl-C during a rehearsal (the snapshot is saved)


def fail(message: str, code: int = USAGE) -> typer.Exit:
    print(f"callscript: error: {message}", file=sys.stderr)
    return typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors a user can cause into one clear line and exit code 2."""
    try:
        yield
    except FlowError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(USAGE) from None
    except CallscriptError as err:
        raise fail(str(err)) from None
    except RuntimeError as err:  # Graphviz or WeasyPrint missing: the message says how to install
        from callscript.printing.diagram import GraphvizMissing
        from callscript.printing.render import PdfUnavailable

        if isinstance(err, GraphvizMissing | PdfUnavailable):
            raise fail(str(err)) from None
        raise
    except KeyError as err:
        raise fail(str(err.args[0]) if err.args else "unknown name") from None
    except FileNotFoundError as err:
        raise fail(f"no such file: {err.filename}") from None
    except (OSError, yaml.YAMLError, ValueError) as err:
        raise fail(str(err).splitlines()[0] if str(err) else type(err).__name__) from None


def check_writable(path: Path | None, option: str = "--output") -> None:
    """Refuse, before any work, a file the command could not write at the end."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise fail(f"{option} {path}: is a folder, not a file")
    if not folder.is_dir():
        raise fail(f"{option} {path}: no such folder {folder}")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise fail(f"{option} {path}: not writable (permission denied)")


def write_file(path: Path, data: str | bytes, option: str = "--output") -> None:
    """Write ``data``; a failure is one line on stderr and exit 2, never a traceback."""
    try:
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    except OSError as err:
        raise fail(f"{option} {path}: cannot write ({err.strerror or type(err).__name__})") \
            from None
