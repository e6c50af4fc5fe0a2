"""What the core's mutation run (benchmarks/mutation.py) found no test noticing, now pinned."""

from __future__ import annotations

import logging

import pytest

from callscript import AnswerRejected, Call, CallEvent, Flow, ListenerError, PrivacyFilter, load_flows
from callscript.state import MAX_STACK, MAX_TURN_IDS
from callscript.testing.paths import path_cover

from .conftest import FIXTURES, context_for


def test_the_call_logger_masks_personal_data_for_every_handler(
        caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("callscript.call")
    assert any(isinstance(f, PrivacyFilter) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="callscript.call"):
        logger.info("customer %s", "13812345678")
    assert caplog.messages == ["customer 138****5678"]


def test_listeners_given_as_a_tuple_hear_the_start(flows: dict[str, Flow]) -> None:
    heard: list[str] = []
    Call.start(flows["second_visit"], context_for("second_visit"),
               listeners=(lambda e: heard.append(e.kind),))
    assert heard == ["started", "step_entered"]


def test_a_listener_failing_at_the_start_is_reported_with_the_started_call(
        flows: dict[str, Flow]) -> None:
    heard: list[str] = []

    def bad(event: CallEvent) -> None:
        raise ValueError("13812345678")

    with pytest.raises(ListenerError) as caught:
        Call.start(flows["second_visit"], context_for("second_visit"),
                   listeners=[bad, lambda e: heard.append(e.kind)])
    started = caught.value.call
    assert isinstance(started, Call) and started.prompt.step == flows["second_visit"].start
    assert caught.value.revision == 1 and heard == ["started", "step_entered"]
    assert len(caught.value.exceptions) == 2 and "13812345678" not in str(caught.value)


def test_a_turn_heard_by_listeners_still_returns_its_prompt(flows: dict[str, Flow]) -> None:
    heard: list[str] = []
    call = Call.start(flows["second_visit"], context_for("second_visit"),
                      listeners=[lambda e: heard.append(e.kind)])
    prompt = call.answer("no_time")
    assert prompt is not None and prompt == call.prompt and prompt.revision == 2
    assert heard[-1] == "step_entered"


DEEP = FIXTURES / "deep"


def deep_call() -> Call:
    flow = load_flows(DEEP / "deep.yaml", DEEP / "again.yaml")["deep"]
    call = Call.start(flow, {})
    call.answer("go")  # one frame: back to `done`
    return call


def test_sub_dialogues_nest_up_to_max_stack_and_no_deeper() -> None:
    call = deep_call()
    for _ in range(MAX_STACK - 1):
        call.answer("more")
    assert len(call.return_stack) == MAX_STACK
    with pytest.raises(AnswerRejected, match="sub-dialogues nest too deeply here"):
        call.answer("more")
    assert len(call.return_stack) == MAX_STACK


def test_a_call_keeps_the_last_max_turn_ids_turn_ids() -> None:
    call = deep_call()
    for number in range(MAX_TURN_IDS + 3):
        call.answer("more", turn_id=f"t{number}")
    kept = [turn["id"] for turn in call.snapshot()["turns"]]
    assert kept == [f"t{n}" for n in range(3, MAX_TURN_IDS + 3)]


def test_path_cover_skips_answers_refused_at_the_deepest_nesting() -> None:
    flow = load_flows(DEEP / "deep.yaml", DEEP / "again.yaml")["deep"]
    cover = path_cover(flow, {})
    assert cover.uncoverable == [] and len(cover.paths) >= 1


def test_events_of_the_start_are_not_sensitive(flows: dict[str, Flow]) -> None:
    events: list[CallEvent] = []
    Call.start(flows["second_visit"], context_for("second_visit"), listeners=[events.append])
    assert [(e.kind, e.sensitive) for e in events] == [("started", False),
                                                      ("step_entered", False)]


def test_only_what_lines_say_is_spoken_context_not_what_guards_read() -> None:
    from callscript.library import builtin_library

    marketing = builtin_library("securities").flow("marketing")
    # prospect.source and prospect.previous_contacts are read by guards only
    assert sorted(marketing.spoken_context) == ["agent.name", "firm.name", "product.description",
                                                "product.name"]
