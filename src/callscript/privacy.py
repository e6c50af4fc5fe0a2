"""Masking of personal data: phone numbers, addresses, birthdays, ID numbers.

Used by records, reprs, exception messages and the logging filter, so that
nothing sensitive leaves a call unmasked unless the caller asks for the record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

# 7+ digits, optionally with a leading + or separators: phone numbers, ID numbers
_DIGIT_RUN = re.compile(r"\+?\d[\d\- ]{5,}\d[\dXx]?")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")


def mask(value: Any) -> str:
    """Mask one sensitive value, keeping just enough to recognise it."""
    text = str(value)
    if isinstance(value, date) or _DATE.match(text):
        return "****-**-**"  # a birthday: nothing of it is kept
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 7 and len(digits) >= len(text) - 3:
        return f"{digits[:3]}****{digits[-4:]}"  # 13812345678 -> 138****5678
    if len(text) <= 2:
        return "**"
    return f"{text[:2]}****"


def mask_digit_runs(text: str) -> str:
    """Mask anything in free text that looks like a phone or ID number."""
    return _DIGIT_RUN.sub(lambda m: mask(m.group(0)), text)


def mask_text(text: str, values: Iterable[Any]) -> str:
    """Mask the given sensitive values and every digit run in ``text``."""
    for value in sorted({str(v) for v in values if v not in (None, "")}, key=len, reverse=True):
        if value in text:
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
