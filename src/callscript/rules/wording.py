"""Wording rules: the agent says 您, never 你, and never 不知道 (phone norm 8)."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_FORBIDDEN: tuple[str, ...] = ("你", "不知道")


def forbidden_in(text: str, forbidden: Iterable[str] = DEFAULT_FORBIDDEN) -> list[str]:
    """The forbidden phrases that occur in ``text``, in the order given."""
    return [phrase for phrase in forbidden if phrase and phrase in text]
