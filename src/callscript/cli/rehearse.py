"""An interactive call in the terminal, for training and for authors trying a flow.

The agent's lines and notes (folded with a hanging indent), numbered answers,
captures asked for and checked one by one, interruptions listed on one key, a
hold with a live timer, undo of the last answer, a snapshot on request and on
Ctrl-C, and the record at the end. Chinese by default; ``--lang en`` for English.
"""

from __future__ import annotations

import json
import select
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from callscript.captures import validate_captures
from callscript.cli.screen import Lang, fit, hang, say, type_hint
from callscript.compile import AnswerOption
from callscript.errors import AnswerRejected, CallscriptError
from callscript.printing.order import step_title
from callscript.privacy import mask
from callscript.record import CallRecord
from callscript.runtime import HOLD, Call, Prompt
from callscript.spec import CaptureSpec

REHEARSAL_FORMAT = "callscript.rehearsal/1"
AGENT = "客户经理"


@dataclass
class Source:
    """Where the flow and context came from, so a saved rehearsal can be resumed from any
    folder (paths are absolute), and where its files go."""

    flow: str
    flow_files: list[str]
    context_file: str | None
    sample: bool
    libraries: list[str] = field(default_factory=list)  # the -L options
    record: str | None = None  # where the record goes at the end
    lang: Lang = "zh"


class Rehearsal:
    def __init__(self, call: Call, source: Source, console: Console, snapshot_path: Path,
                 record_path: Path, restore: Callable[[bytes], Call] | None = None) -> None:
        self.call, self.source, self.console = call, source, console
        self.snapshot_path, self.record_path = snapshot_path, record_path
        self.lang: Lang = source.lang
        self.restore = restore  # how undo rebuilds the call from an earlier snapshot
        self.history: list[bytes] = []  # the call before each answer, for undo
        self.saved = False

    def say(self, key: str, **values: object) -> str:
        return say(self.lang, key, **values)

    # -- the loop ----------------------------------------------------------------

    def run(self, banner: str | None = None, resumed: bool = False) -> CallRecord:
        """Run until the call ends; KeyboardInterrupt and EOFError propagate to the caller."""
        if banner:
            self.console.print(Text(banner, style="bold"))
            self.console.print(Text(self.say("banner_keys"), style="dim"))
        if resumed:
            self.recap()
        self.show(self.call.prompt)
        while not self.call.ended:
            choice = self.ask("> ").strip()
            if not choice:
                continue
            self.act(choice)
        return self.finish()

    def act(self, choice: str) -> None:
        prompt = self.call.prompt
        answers = {str(n): a for n, a in enumerate(prompt.answers, 1)} | {
            a.id: a for a in prompt.answers}
        offered = self.interruptions(prompt)
        interruptions = {f"i{n}": i for n, i in enumerate(offered, 1)} | {i.id: i for i in offered}
        if choice in answers:
            option = answers[choice]
            self.console.print(f"  [green]{self.say('customer')}: {escape(option.label)}[/]")
            ahead = self.appointments(option.id)
            values = {spec.name: value for spec in option.captures
                      if (value := self.capture(spec, spec.name in ahead)) is not None}
            self.submit(lambda: self.call.answer(option.id, values))
        elif choice in interruptions:
            self.console.print(f"  [yellow]⚡ {escape(interruptions[choice].label)}[/]")
            self.submit(lambda: self.call.interrupt(interruptions[choice].id))
        elif choice == "i":
            self.list_interruptions(prompt)
        elif choice == "h" and any(i.id == HOLD for i in prompt.interruptions):
            self.history.append(self.call.snapshot_json())
            self.show(self.call.hold(), on_hold=True)
            self.wait_on_hold()
            self.show(self.call.resume())
        elif choice == "u":
            self.undo()
        elif choice == "s":
            self.save()
        elif choice == "?":
            self.show(prompt, keys=True)
        else:
            self.console.print(f"  [red]{escape(self.say('not_option', choice=repr(choice)))}[/]")

    def submit(self, move: Callable[[], Prompt]) -> None:
        before = self.call.snapshot_json()
        try:
            prompt = move()
        except AnswerRejected as err:  # e.g. a callback time already past: the runtime's words
            self.console.print(f"  [red]✗ {escape(str(err))}[/]")
            return
        self.history.append(before)
        self.show(prompt)

    def undo(self) -> None:
        if not self.history or self.restore is None:
            self.console.print(f"  [red]{self.say('nothing_to_undo')}[/]")
            return
        self.call = self.restore(self.history.pop())
        title = step_title(self.call.step)
        self.console.print(f"  [yellow]↶ {escape(self.say('undone', title=title))}[/]")
        self.show(self.call.prompt)

    @staticmethod
    def interruptions(prompt: Prompt) -> list[AnswerOption]:
        """The interruptions offered as i1, i2, …; the hold has its own key, h, with a timer."""
        return [i for i in prompt.interruptions if i.id != HOLD]

    # -- input ----------------------------------------------------------------------

    def ask(self, prompt: str) -> str:
        return self.console.input(prompt)

    def appointments(self, answer_id: str) -> set[str]:
        """The captures a follow-up is due at: agreed times, which may not lie in the past."""
        answer = self.call.step.answers.get(answer_id)
        return {e.follow_up.due.at_capture for e in (answer.effects if answer else ())
                if e.follow_up and e.follow_up.due.at_capture}

    def capture(self, spec: CaptureSpec, appointment: bool = False) -> Any:
        """Ask for one value until it is valid; None for an optional value left empty.
        Choices are numbered: the agent types a number or the words."""
        need = self.say("required") if spec.required else self.say("optional")
        if spec.choices:
            listed = " · ".join(f"{n} {c}" for n, c in enumerate(spec.choices, 1))
            self.console.print(Text(f"  {spec.label}: {listed}"))
            hint = self.say("choose")
        else:
            hint = type_hint(self.lang, spec.type)
        while True:
            raw = self.ask(escape(f"  {spec.label} [{hint}] ({need}): ")).strip()
            if not raw and not spec.required:
                return None
            if spec.choices and raw.isdigit() and 1 <= int(raw) <= len(spec.choices):
                raw = spec.choices[int(raw) - 1]
            try:
                # checked against the time as the call will check it: a callback time
                # already past or a birthday ahead is asked again at once
                return validate_captures((spec,), {spec.name: raw}, now=datetime.now(UTC),
                                         appointments={spec.name} if appointment else ())[
                    spec.name]
            except ValueError as err:
                self.console.print(f"  [red]✗ {escape('; '.join(err.args[0]))}[/] — "
                                   f"{self.say('retry')}")

    def wait_on_hold(self) -> None:
        """A timer rewritten in place until Enter, never wider than the terminal (a wider
        line would wrap, and every \\r would then start a new line)."""
        limit = self.call.time_limit_seconds() or 0
        started = time.monotonic()
        out = self.console.file
        width = max(self.measure() - 1, 20)
        while True:
            waited = int(time.monotonic() - started)
            text = "  " + self.say("hold", waited=f"{waited // 60:02d}:{waited % 60:02d}",
                                   limit=f"{limit // 60}:{limit % 60:02d}")
            if waited > limit:
                text += " " + self.say("hold_over")
            text += "; " + self.say("hold_enter")
            shown = fit(text, width)
            out.write("\r" + shown + " " * (width - cell_len(shown)))  # wipe a longer one
            out.flush()
            ready, _, _ = select.select([sys.stdin], [], [], 1.0)
            if ready:
                if not sys.stdin.readline():  # whatever was typed: Enter resumes
                    raise EOFError
                out.write("\n")
                return

    # -- output -----------------------------------------------------------------------

    def fold(self, first: str, text: str, style: str = "") -> None:
        for line in hang(first, text, max(self.console.width - 1, 20)):
            self.console.print(Text(line, style=style), soft_wrap=True)

    def measure(self) -> int:
        """The terminal's width now (it may have been resized); rich assumes 80 columns
        on a dumb terminal, which would fold or wrap wrongly."""
        size = shutil.get_terminal_size((self.console.width, 24))
        self.console.size = (max(size.columns, 20), max(size.lines, 5))
        return self.console.width

    def show(self, prompt: Prompt, keys: bool = False, on_hold: bool = False) -> None:
        console = self.console
        self.measure()
        console.rule(escape(f"{self.call.flow.title} · {step_title(self.call.step)}"))
        if prompt.returned:  # back where the call left off: not a new step
            self.fold("  ↩ ", f"{self.say('returned')}: {step_title(self.call.step)}", "yellow")
        for note in prompt.notes:
            self.fold("  (", f"{note})", "dim")
        for line in prompt.lines:
            self.fold(f"  {AGENT}: ", line, "bold")
        if prompt.terminal or on_hold:  # on hold, Enter is the only key: no answers listed
            return
        for number, option in enumerate(prompt.answers, 1):
            kept = (f" — {self.say('records')}: " + "、".join(c.label for c in option.captures)
                    if option.captures else "")
            self.fold(f"  {number} ", f"{option.label} [{option.id}]{kept}", "cyan")
        offered = self.interruptions(prompt)
        holds = any(i.id == HOLD for i in prompt.interruptions)
        if keys:
            self.list_interruptions(prompt)
            self.fold("  ", self.say("keys"), "dim")
        elif offered or holds:
            self.fold("  ", self.say("keys_short" if holds else "keys_short_no_hold",
                                     n=len(offered)), "dim")
        else:
            self.fold("  ", self.say("keys_minimal"), "dim")

    def list_interruptions(self, prompt: Prompt) -> None:
        offered = self.interruptions(prompt)
        if not offered:
            self.console.print(Text(f"  {self.say('no_interruptions')}", style="dim"))
            return
        self.console.print(Text(f"  {self.say('interruptions')}", style="yellow"))
        for n, item in enumerate(offered, 1):
            self.fold(f"    i{n} ", item.label, "yellow")

    def recap(self) -> None:
        """On resume: the steps taken so far, by title, and how the customer answered."""
        entries = [e for e in self.call.record().path if e.answer or e.interruption]
        self.console.print(Text(self.say("resumed", n=len(entries)), style="bold"))
        flow = self.call.flow
        for entry in entries[-8:]:
            step = flow.steps.get(entry.step)
            if step is None:
                continue
            answer = step.answers.get(entry.answer or "")
            how = answer.label if answer else f"⚡ {self.say('interrupted')}"
            self.fold("  · ", f"{step_title(step)} → {how}", "dim")

    def snapshot_data(self, finished: bool = False) -> dict[str, Any]:
        source = asdict(self.source) | {"record": self.source.record or str(self.record_path)}
        return {"format": REHEARSAL_FORMAT, **source, "finished": finished,
                "snapshot": self.call.snapshot()}

    def save(self) -> Path:
        self.snapshot_path.write_text(json.dumps(self.snapshot_data(), ensure_ascii=False,
                                                 indent=2), encoding="utf-8")
        self.saved = True
        self.console.print("  " + escape(self.say("saved", path=self.snapshot_path)))
        return self.snapshot_path

    def finish(self) -> CallRecord:
        record = self.call.record()
        self.record_path.write_text(record.model_dump_json(indent=2), encoding="utf-8")
        if self.saved or self.snapshot_path.exists():  # a finished rehearsal cannot be resumed
            self.snapshot_path.write_text(json.dumps(self.snapshot_data(finished=True),
                                                     ensure_ascii=False, indent=2), "utf-8")
        shown = record.redacted()
        self.console.rule(self.say("ended"))
        ended = shown.disposition
        self.console.print("  " + escape(self.say(
            "summary", disposition=ended.label if ended else "-", steps=len(shown.path),
            path=self.record_path)), style="bold")
        captures = self.call.flow.captures
        for key, value in shown.captures.items():
            label = captures[key].label if key in captures else key
            self.fold(f"  {label}: ", str(value))
        for item in shown.follow_ups:
            self.fold("  ", self.say("follow_up", kind=item.kind, due=item.due, note=item.note))
        return record


def who_is_called(data: Any) -> str:
    """The banner's words for the customer: name and title, the phone masked."""
    values = data.model_dump() if hasattr(data, "model_dump") else dict(data)
    part = next((v for v in values.values() if isinstance(v, dict) and v.get("name")), {})
    words = f"{part.get('name') or ''}{part.get('title') or ''}" or "***"
    phone = part.get("phone")
    return f"{words} ({mask(str(phone))})" if phone else words


def read_rehearsal(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != REHEARSAL_FORMAT:
        raise ValueError(f"{path} is not a saved rehearsal (expected format {REHEARSAL_FORMAT})")
    if data.get("finished"):
        raise CallscriptError(f"{path}: this rehearsal has ended (its record is at "
                              f"{data.get('record') or 'the --record file'}); start a new one")
    return data
