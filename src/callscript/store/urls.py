"""Database URLs as messages may show them: every password masked.

A password may be in the URL's user part (``postgresql://u:pw@host/db``) or, as libpq
accepts, in its query (``postgresql://u@host/db?password=pw``); both are masked.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"


def masked(url: URL) -> str:
    """The URL with its password masked, wherever it is given."""
    query = {k: MASK if k.lower() == "password" else v for k, v in url.query.items()}
    return url.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", MASK)


def shown_url(url: str) -> str:
    """The URL as the user wrote it, its passwords masked; never the text of a non-URL."""
    try:
        return masked(make_url(url))
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return "(not a database URL)"
