"""The exact masked form of personal data: values, digit runs in free text, known values.

Absence checks ("the secret is not in the text") pass for a mask that returns
nothing; these pin what is kept, so a mask that keeps too much or too little fails.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pytest

from callscript import PrivacyFilter
from callscript.captures import MonthDay
from callscript.privacy import mask, mask_digit_runs, mask_text


@pytest.mark.parametrize(("value", "masked"), [
    ("13812345678", "138****5678"),  # 11 digits: first three and last four
    ("1234567", "123****4567"),  # 7 digits: the shortest kept that way
    ("123456", "****56"), ("12345", "****45"),  # 5-6 digits: the last two only
    ("1234", "12****"),  # not a number: as text
    ("0571-87650000", "057****0000"), ("+8613900001111", "861****1111"),
    ("电话13812345678", "138****5678"),  # up to 3 other characters: still a number
    ("电话号1234567", "123****4567"), ("电话号12345", "****45"),  # 3 other characters: a number
    ("电话号码1234567", "电话****"),  # 4 other characters: text, not a number
    ("ab12345", "****45"), ("abc12345", "****45"), ("abcd12345", "ab****"),
    ("12345678901234567890", "123****7890"),
    ("--06-01", "****-**-**"), ("1985-06-01", "****-**-**"),
    (date(1985, 6, 1), "****-**-**"), (MonthDay(6, 1), "****-**-**"),
    ("王", "**"), ("王五", "**"), ("王小明", "王小****"), ("杭州市西湖区文三路100号", "杭州****"),
    (13812345678, "138****5678"),
])
def test_mask_keeps_exactly_this_much(value: Any, masked: str) -> None:
    assert mask(value) == masked


@pytest.mark.parametrize(("text", "masked"), [
    ("请拨12345转人工", "请拨****45转人工"),  # 5 digits
    ("验证码123456", "验证码****56"),  # 6 digits
    ("电话8765432", "电话876****5432"),  # 7 digits: a local number
    ("打我家13812345678或者67890", "打我家138****5678或者****90"),  # 11 and 5
    ("电话 0571-8765 0000", "电话 057****0000"),  # single spaces and hyphens inside
    ("+8613900001111", "861****1111"),
    ("身份证11010519491231002X", "身份证110****1002"),  # the check letter goes too
    ("12345a", "****45a"), ("订单-12345", "订单-****45"),
    ("1234 元", "1234 元"),  # four digits: a price, a year
    ("1  2345", "1  2345"),  # a double space ends a number
    ("call a3f12345", "call a3f12345"),  # digits after a letter: an id
    ("2026-11-23 10:00 回电", "2026-11-23 10:00 回电"), ("2026-11-23T10:00:00+08:00 第3步",
                                                       "2026-11-23T10:00:00+08:00 第3步"),
])
def test_digit_runs_in_free_text_are_masked_exactly(text: str, masked: str) -> None:
    assert mask_digit_runs(text) == masked


@pytest.mark.parametrize(("text", "values", "masked"), [
    ("王先生住在文三路100号", ["文三路100号"], "王先生住在文三****"),
    ("地址文三路100号", ["文三路", "文三路100号"], "地址文三****"),  # the longest value first
    ("客户13812345678说地址是文三路100号", ["文三路100号"], "客户138****5678说地址是文三****"),
    ("客户王小明电话7654321", ["王小明"], "客户王小****电话765****4321"),  # and 7-digit runs
    ("客户王五来电", ["王五"], "客户**来电"),  # two characters are looked for
    ("王先生", ["王"], "王先生"),  # one character is too short to look for
    ("没有个人信息", [None, ""], "没有个人信息"),
])
def test_mask_text_masks_known_values_and_digit_runs(text: str, values: list[Any],
                                                     masked: str) -> None:
    assert mask_text(text, values) == masked


def test_the_privacy_filter_rewrites_the_message_exactly() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "customer %s said %s at %s",
                               ("13812345678", "hi", "2026-11-23"), None)
    assert PrivacyFilter().filter(record)
    assert record.getMessage() == "customer 138****5678 said hi at 2026-11-23"
    assert record.args is None
    quiet = logging.LogRecord("x", logging.INFO, "f", 1, "step %s", ("greet",), None)
    assert PrivacyFilter().filter(quiet) and quiet.args == ("greet",)  # untouched
