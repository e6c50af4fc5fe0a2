"""Redaction of free text, short phone numbers, quiet loggers, one compilation under threads."""

from __future__ import annotations

import logging
import random
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta

import pytest

from callscript import Call, Flow, PrivacyFilter, SteppingClock, builtin_flows
from callscript.privacy import mask, mask_digit_runs
from callscript.rules.calendar import CHINA
from callscript.testing import random_walk

from .conftest import AGENT, DEPLOYMENT, context_for

IN_CALL = [("agrees", {}), ("feedback", {"feedback": "信号差,打我家13812345678或者67890"}),
           ("no_questions", {}),
           ("gives", {"address": "杭州市西湖区文三路100号", "home_phone": "0571-87650000"}),
           ("gives", {"needs": "想把宽带装到杭州市西湖区文三路100号"}),
           ("gives", {"birthday": "--06-01"})]


def call_with_short_phone(flows: dict[str, Flow]) -> Call:
    context = {"customer": {"name": "王", "title": "先生", "phone": "12345", "reference": "C-9"},
               "agent": AGENT, "deployment": DEPLOYMENT}
    call = Call.start(flows["first_visit"], context,
                      clock=SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA)))
    call.answer("answered_by_phone")  # the agent reads the phone number back
    call.answer("confirmed")
    for answer, captures in IN_CALL:
        call.answer(answer, captures)
    return call


def test_redacted_masks_free_text_short_phones_and_known_values(flows: dict[str, Flow]) -> None:
    call = call_with_short_phone(flows)
    record = call.record()
    full = record.model_dump_json()
    for kept in ("12345", "13812345678", "67890", "文三路100号", "--06-01"):
        assert kept in full, kept  # the CRM gets everything
    text = record.redacted().model_dump_json()
    for secret in ("12345", "13812345678", "67890", "文三路100号", "87650000", "06-01"):
        assert secret not in text, secret
    assert "信号差" in text and "想把宽带装到" in text  # not personal: kept


@pytest.mark.parametrize(("value", "masked"), [
    ("13812345678", "138****5678"), ("123456", "****56"), ("12345", "****45"),
    ("0571-87650000", "057****0000"), ("--06-01", "****-**-**"), ("1985-06-01", "****-**-**"),
])
def test_mask(value: str, masked: str) -> None:
    assert mask(value) == masked


@pytest.mark.parametrize(("text", "hidden"), [
    ("请拨12345转人工", "12345"), ("电话 0571-8765 0000", "8765"), ("身份证11010519491231002X", "1231002"),
])
def test_digit_runs_of_five_or_more_are_masked(text: str, hidden: str) -> None:
    assert hidden not in mask_digit_runs(text)


@pytest.mark.parametrize("text", ["2026-11-23T10:00:00+08:00 第3步", "1234 元", "call a3f12345"])
def test_dates_short_numbers_and_ids_are_kept(text: str) -> None:
    assert mask_digit_runs(text) == text


def test_the_privacy_filter_masks_log_records() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "customer %s said %s", ("12345", "hi"),
                               None)
    assert PrivacyFilter().filter(record) and "12345" not in record.getMessage()


def test_transitions_logs_nothing_at_info_for_our_machines(
        flows: dict[str, Flow], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for flow_id in ("first_visit", "second_visit"):
        random_walk(flows[flow_id], context_for(flow_id), random.Random(3),
                    clock=SteppingClock(datetime(2026, 11, 23, 10, tzinfo=CHINA),
                                        timedelta(seconds=10)))
    assert [r for r in caplog.records if r.name.startswith("transitions")] == []


COLD = textwrap.dedent("""
    import logging, threading
    logging.basicConfig(level=logging.INFO)
    import callscript
    barrier = threading.Barrier(8)
    got = []
    def work():
        barrier.wait()
        got.append(callscript.builtin_flows())
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert len(got) == 8
    for flow_id in got[0]:
        assert len({id(flows[flow_id]) for flows in got}) == 1, flow_id
    print("one", len(got[0]))
""")


@pytest.mark.subprocess
def test_eight_threads_on_a_cold_import_get_one_compilation() -> None:
    done = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "one 6"  # the six telecom flows
    assert "transitions" not in done.stderr  # no INFO line from its loggers, compiling included


def test_builtin_flows_returns_the_same_flows_each_time() -> None:
    assert builtin_flows()["first_visit"] is builtin_flows()["first_visit"]
