"""The ``callscript`` command: see ``callscript --help`` and docs/cli.md."""

from callscript.cli.app import app, main

__all__ = ["app", "main"]
