"""An interactive call in the terminal, for training and for authors trying a flow.

The agent's lines and notes, numbered answers, captures asked for and checked
one by one, interruptions from every in-call step, a hold with a live timer,
a snapshot on request and on Ctrl-C, and the record at the end.
"""

from __future__ import annotations

import json
import select
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from callscript.captures import validate_captures
from callscript.compile import AnswerOption
from callscript.errors import AnswerRejected
from callscript.record import CallRecord
from callscript.runtime import HOLD, Call, Prompt
from callscript.spec import CaptureSpec

REHEARSAL_FORMAT = "callscript.rehearsal/1"


@dataclass
class Source:
    """Where the flow and context came from, so a saved rehearsal can be resumed."""

    flow: str
    flow_files: list[str]
    context_file: str | None
    sample: bool
    libraries: list[str] = field(default_factory=list)  # the -L options


class Rehearsal:
    def __init__(self, call: Call, source: Source, console: Console, snapshot_path: Path,
                 record_path: Path) -> None:
        self.call, self.source, self.console = call, source, console
        self.snapshot_path, self.record_path = snapshot_path, record_path

    # -- the loop ----------------------------------------------------------------

    def run(self) -> CallRecord:
        """Run until the call ends; KeyboardInterrupt and EOFError propagate to the caller."""
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
            self.console.print(f"  [green]客户: {option.label}[/]")
            values = {spec.name: value for spec in option.captures
                      if (value := self.capture(spec)) is not None}
            self.submit(lambda: self.call.answer(option.id, values))
        elif choice in interruptions:
            self.console.print(f"  [yellow]⚡ {interruptions[choice].label}[/]")
            self.submit(lambda: self.call.interrupt(interruptions[choice].id))
        elif choice == "h" and any(i.id == HOLD for i in prompt.interruptions):
            self.show(self.call.hold())
            self.wait_on_hold()
            self.submit(self.call.resume)
        elif choice == "s":
            self.save()
        elif choice == "?":
            self.show(prompt)
        else:
            self.console.print(f"  [red]not an option: {choice!r}[/] (a number, i1…, h, s, ?)")

    def submit(self, move: Any) -> None:
        try:
            prompt = move()
        except AnswerRejected as err:
            self.console.print(f"  [red]{err}[/]")
            return
        self.show(prompt)

    @staticmethod
    def interruptions(prompt: Prompt) -> list[AnswerOption]:
        """The interruptions offered as i1, i2, …; the hold has its own key, h, with a timer."""
        return [i for i in prompt.interruptions if i.id != HOLD]

    # -- input ----------------------------------------------------------------------

    def ask(self, prompt: str) -> str:
        return self.console.input(prompt)

    def capture(self, spec: CaptureSpec) -> Any:
        """Ask for one value until it is valid; None for an optional value left empty."""
        need = "required" if spec.required else "optional, Enter to skip"
        hint = f" ({' / '.join(spec.choices)})" if spec.choices else f" [{spec.type}]"
        while True:
            raw = self.ask(escape(f"  {spec.label}{hint} ({need}): ")).strip()
            if not raw and not spec.required:
                return None
            try:
                return validate_captures((spec,), {spec.name: raw})[spec.name]
            except ValueError as err:
                self.console.print(f"  [red]✗ {'; '.join(err.args[0])}[/] — please try again")

    def wait_on_hold(self) -> None:
        """Show a live timer until Enter; past the limit, the hold becomes a callback."""
        limit = self.call.time_limit_seconds() or 0
        started = time.monotonic()
        out = self.console.file
        while True:
            waited = int(time.monotonic() - started)
            over = " — over the limit: this becomes a callback" if waited > limit else ""
            out.write(f"\r  on hold {waited // 60:02d}:{waited % 60:02d} "
                      f"(limit {limit // 60}:{limit % 60:02d}){over}; Enter to resume ")
            out.flush()
            ready, _, _ = select.select([sys.stdin], [], [], 1.0)
            if ready:
                if not sys.stdin.readline():
                    raise EOFError
                out.write("\n")
                return

    # -- output -----------------------------------------------------------------------

    def show(self, prompt: Prompt) -> None:
        console = self.console
        console.rule(f"{self.call.flow.title} · {prompt.title}")
        for note in prompt.notes:
            console.print(Text(f"  ({note})", style="dim"))
        for line in prompt.lines:
            console.print(Text(f"  客户经理: {line}", style="bold"))
        if prompt.terminal:
            return
        for number, option in enumerate(prompt.answers, 1):
            fields = f"  [dim]records {', '.join(c.label for c in option.captures)}[/]" \
                if option.captures else ""
            console.print(f"  [cyan]{number}[/] {option.label} [dim]\\[{option.id}][/]{fields}")
        if offered := self.interruptions(prompt):
            items = " · ".join(f"[yellow]i{n}[/] {i.label}" for n, i in enumerate(offered, 1))
            console.print(f"  {items}")
        extras = ["[cyan]s[/] save snapshot", "[cyan]?[/] show again", "Ctrl-C save and quit"]
        if any(i.id == HOLD for i in prompt.interruptions):
            extras.insert(0, "[cyan]h[/] hold (with a timer)")
        console.print("  " + " · ".join(extras))

    def save(self) -> Path:
        data = {"format": REHEARSAL_FORMAT, "flow": self.source.flow,
                "flow_files": self.source.flow_files, "context_file": self.source.context_file,
                "sample": self.source.sample, "libraries": self.source.libraries,
                "snapshot": self.call.snapshot()}
        self.snapshot_path.write_text(json.dumps(data, ensure_ascii=False, indent=2),
                                      encoding="utf-8")
        self.console.print(f"  snapshot saved to {self.snapshot_path}; continue with: "
                           f"callscript rehearse --resume {self.snapshot_path}")
        return self.snapshot_path

    def finish(self) -> CallRecord:
        record = self.call.record()
        self.record_path.write_text(record.model_dump_json(indent=2), encoding="utf-8")
        shown = record.redacted()
        self.console.rule("call ended")
        ended = shown.disposition
        self.console.print(f"  disposition: [bold magenta]{ended.label if ended else '-'}[/] · "
                           f"{len(shown.path)} steps · record written to {self.record_path}")
        for key, value in shown.captures.items():
            self.console.print(f"  {key}: {value}")
        for item in shown.follow_ups:
            self.console.print(f"  follow-up {item.kind} due {item.due}: {item.note}")
        return record


def read_rehearsal(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("format") != REHEARSAL_FORMAT:
        raise ValueError(f"{path} is not a saved rehearsal (expected format {REHEARSAL_FORMAT})")
    return data
