"""Masking of personal data: phone numbers, addresses, birthdays, ID numbers.

Used by records, reprs, exception messages and the logging filter, so that
nothing sensitive leaves a call unmasked unless the caller asks for the record.

Free text is masked in two ways: every run of five or more digits (allowing
single spaces or hyphens between them, a leading + and a trailing ID check
letter) is masked, except ISO dates and times; and every known personal value
(a sensitive capture, the customer's phone) is masked wherever it appears.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

# 5+ digits, single separators allowed: 13812345678, 0571-8765 0000, 95588, ID numbers.
# Dates and times (2026-11-23, 10:00:00) are matched first and kept; digits right after a
# letter are part of a word (an id such as a3f12345), not a number.
_DIGIT_RUN = re.compile(
    r"(?P<keep>(?<![\d-])\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?![\d-]))"
    r"|(?<![0-9A-Za-z])\+?\d(?:[- ]?\d){4,}[Xx]?(?![0-9])")
_DATE = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2}|--\d{2}-\d{2})")


def mask(value: Any) -> str:
    """Mask one sensitive value, keeping just enough to recognise it."""
    text = str(value)
    if isinstance(value, date) or _DATE.match(text):
        return "****-**-**"  # a birthday: nothing of it is kept
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 7 and len(digits) >= len(text) - 3:
        return f"{digits[:3]}****{digits[-4:]}"  # 13812345678 -> 138****5678
    if len(digits) >= 5 and len(digits) >= len(text) - 3:
        return f"****{digits[-2:]}"  # a short number: too short to keep more of it
    if len(text) <= 2:
        return "**"
    return f"{text[:2]}****"


def _mask_run(found: re.Match[str]) -> str:
    return found.group(0) if found.group("keep") else mask(found.group(0))


def mask_digit_runs(text: str) -> str:
    """Mask anything in free text that looks like a phone or ID number (5+ digits)."""
    return _DIGIT_RUN.sub(_mask_run, text)


def mask_text(text: str, values: Iterable[Any]) -> str:
    """Mask the given personal values and every digit run in ``text``."""
    for value in sorted({str(v) for v in values if v not in (None, "")}, key=len, reverse=True):
        if len(value) >= 2 and value in text:
            text = text.replace(value, mask(value))
    return mask_digit_runs(text)


class PrivacyFilter(logging.Filter):
    """Masks digit runs in every record that passes, including a host's own handlers'."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_digit_runs(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
