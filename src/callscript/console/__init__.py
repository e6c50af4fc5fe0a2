"""The agent console: the call script as web pages served by `callscript serve` at /."""

from callscript.console.routes import mount

__all__ = ["mount"]
