"""Flow coverage: steps, answers, interruptions, outcomes and ``{% if %}`` arms.

Collect while calls run (``with Coverage().collecting() as cov: ...``), or add
finished calls by hand; then ``cov.report()`` gives a table, JSON or one
self-contained HTML page in which every missed part points at its file:line.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from callscript.captures import from_json
from callscript.compile import Flow, template_variables
from callscript.runtime import Call, call_observers
from callscript.testing.boundaries import SIDES, Boundary, boundaries, context_fields
from callscript.testing.branches import arms, taken

Kind = Literal["step", "answer", "interruption", "outcome", "arm"]
KINDS: tuple[Kind, ...] = ("step", "answer", "interruption", "outcome", "arm")


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a flow can do, and where it is written."""

    kind: Kind
    key: str  # "greet", "greet → agrees", "busy", "completed", "ask_reason say[0]: else"
    file: str
    line: int | None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line is not None else self.file


def universe(flow: Flow) -> list[Item]:
    """Every item of ``flow``, in file order within each kind."""
    items: list[Item] = []
    for step in flow.steps.values():
        items.append(Item("step", step.id, step.file, step.line))
    for step in flow.steps.values():
        items += [Item("answer", f"{step.id} → {a.id}", step.file, a.line)
                  for a in step.answers.values()]
    for interruption in flow.interruptions.values():
        start = flow.steps[interruption.start]
        items.append(Item("interruption", interruption.id, start.file, start.line))
    outcomes: dict[str, Item] = {}
    for step in flow.steps.values():
        if step.disposition is not None:
            outcomes.setdefault(step.disposition,
                                Item("outcome", step.disposition, step.file, step.line))
        for effect in step.effects:
            if effect.disposition is not None:
                outcomes.setdefault(effect.disposition,
                                    Item("outcome", effect.disposition, step.file, step.line))
    items += outcomes.values()
    for step in flow.steps.values():
        for index, line in enumerate(step.lines):
            if line.template is None:
                continue
            for arm in arms(line.source):
                items.append(Item("arm", _arm_key(step.id, index, arm.branch, arm.index, arm.label),
                                  step.file, (line.file_line or 0) + arm.line - 1 or None))
    return items


def _arm_key(step: str, line: int, branch: tuple[int, ...], index: int, label: str) -> str:
    where = ".".join(str(b) for b in branch)
    return f"{step} say[{line}] if#{where} arm {index}: {label}"


@dataclass
class FlowCoverage:
    flow: Flow
    hits: dict[Item, int] = field(default_factory=dict)
    # guard boundaries and the sides (below, at, above) the calls' contexts took; reported,
    # not counted in the percentage (a context is the test's choice, not the flow's path)
    sides: dict[Boundary, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {(i.kind, i.key): i for i in universe(self.flow)}
        for item in self._index.values():
            self.hits.setdefault(item, 0)
        for mark in boundaries(self.flow):
            self.sides.setdefault(mark, set())

    def hit(self, kind: Kind, key: str) -> None:
        item = self._index.get((kind, key))
        if item is not None:
            self.hits[item] += 1

    def add(self, call: Call) -> None:
        flow = self.flow
        record = call.record()
        if self.sides:
            fields = context_fields(call.context)
            for mark, seen in self.sides.items():
                side = mark.side(fields)
                if side is not None:
                    seen.add(side)
        captured: dict[str, Any] = {}
        for entry in record.path:
            step = flow.steps[entry.step]
            self.hit("step", entry.step)
            variables = template_variables(call.context, captured)
            for index, line in enumerate(step.lines):
                if line.template is not None:
                    for arm in taken(line.source, variables):
                        self.hit("arm", _arm_key(step.id, index, arm.branch, arm.index, arm.label))
            if entry.answer is not None:
                self.hit("answer", f"{entry.step} → {entry.answer}")
            if entry.interruption is not None:
                self.hit("interruption", entry.interruption)
            captured |= {k: from_json(flow.captures[k], v) for k, v in entry.captures.items()}
        if record.disposition is not None and call.ended:
            self.hit("outcome", record.disposition.id)

    def counts(self) -> dict[Kind, tuple[int, int]]:
        """(covered, total) for each kind."""
        out: dict[Kind, tuple[int, int]] = {}
        for kind in KINDS:
            items = [n for i, n in self.hits.items() if i.kind == kind]
            out[kind] = (sum(1 for n in items if n), len(items))
        return out

    @property
    def missed(self) -> list[Item]:
        return [item for item, n in self.hits.items() if n == 0]

    def boundary_lines(self) -> list[str]:
        """Each answer guard's boundary a side of which no call's context took (a call cannot
        start on the wrong side of ``applies_when``: its boundary is the strategies' to test)."""
        return [f"{mark}: reached {', '.join(s for s in SIDES if s in seen) or 'no side'}; "
                f"never {', '.join(s for s in SIDES if s not in seen)}"
                for mark, seen in self.sides.items()
                if len(seen) < len(SIDES) and mark.where != "applies_when"]


class Coverage:
    """Coverage of one or more flows over any number of calls."""

    def __init__(self, flows: Iterable[Flow] = ()) -> None:
        self.flows: dict[str, FlowCoverage] = {}
        self._pending: list[Call] = []
        for flow in flows:
            self._flow(flow)

    def _flow(self, flow: Flow) -> FlowCoverage:
        known = self.flows.get(flow.id)
        if known is None or known.flow is not flow:
            known = self.flows[flow.id] = FlowCoverage(flow)
        return known

    def add(self, call: Call) -> None:
        """Count a call. A call still running is counted as far as it got when reported."""
        self._pending.append(call)

    @contextmanager
    def collecting(self) -> Iterator[Coverage]:
        """Count every call started or restored inside the block."""
        call_observers.append(self.add)
        try:
            yield self
        finally:
            call_observers.remove(self.add)

    def _settle(self) -> None:
        pending, self._pending = self._pending, []
        for call in pending:
            self._flow(call.flow).add(call)

    def percent(self) -> float:
        self._settle()
        covered = total = 0
        for flow in self.flows.values():
            for c, t in flow.counts().values():
                covered, total = covered + c, total + t
        return 100.0 * covered / total if total else 100.0

    # -- reports ---------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        self._settle()
        return {
            "percent": round(self.percent(), 2),
            "flows": {
                flow_id: {
                    "title": fc.flow.title,
                    "counts": {k: {"covered": c, "total": t} for k, (c, t) in fc.counts().items()},
                    "missed": [{"kind": i.kind, "key": i.key, "file": i.file, "line": i.line}
                               for i in fc.missed],
                    "boundaries": [{"file": b.file, "line": b.line, "where": b.where,
                                    "left": b.left, "right": str(b.right),
                                    "reached": [s for s in SIDES if s in seen]}
                                   for b, seen in fc.sides.items()],
                }
                for flow_id, fc in sorted(self.flows.items())
            },
        }

    def to_text(self, show_missed: bool = True) -> str:
        self._settle()
        header = f"{'flow':<20}" + "".join(f"{k + 's':>15}" for k in KINDS) + f"{'total':>9}"
        rows = [header, "-" * len(header)]
        missed_lines: list[str] = []
        for flow_id, fc in sorted(self.flows.items()):
            counts = fc.counts()
            covered = sum(c for c, _ in counts.values())
            total = sum(t for _, t in counts.values())
            cells = "".join(f"{f'{c}/{t}':>15}" for c, t in counts.values())
            rows.append(f"{flow_id:<20}{cells}{100 * covered / max(total, 1):>8.1f}%")
            missed_lines += [f"{i.where}: {flow_id}: missed {i.kind} {i.key}" for i in fc.missed]
            missed_lines += [f"{line.replace(': ', f': {flow_id}: boundary ', 1)}"
                             for line in fc.boundary_lines()]
        rows.append(f"{'all flows':<20}{'':>{15 * len(KINDS)}}{self.percent():>8.1f}%")
        if show_missed and missed_lines:
            rows += ["", *missed_lines]
        return "\n".join(rows) + "\n"

    def to_html(self) -> str:
        self._settle()
        sections = "\n".join(_flow_html(fc) for _, fc in sorted(self.flows.items()))
        return _PAGE.format(percent=f"{self.percent():.1f}", sections=sections)


def _mark(hit: int) -> str:
    return "hit" if hit else "miss"


def _flow_html(fc: FlowCoverage) -> str:
    e = html.escape
    by_key = {(i.kind, i.key): n for i, n in fc.hits.items()}
    counts = fc.counts()
    summary = " · ".join(f"{k}s {c}/{t}" for k, (c, t) in counts.items())
    parts = [f'<section class="flow"><h2>{e(fc.flow.title)} <code>{e(fc.flow.id)}</code></h2>',
             f'<p class="summary">{e(summary)}</p>']
    for step in fc.flow.steps.values():
        hit = by_key.get(("step", step.id), 0)
        parts.append(f'<div class="step {_mark(hit)}"><h3><code>{e(step.id)}</code> '
                     f'<small>{e(step.file)}:{step.line} · {hit}×</small></h3>')
        for index, line in enumerate(step.lines):
            parts.append(f'<p class="say">{e(line.source)}</p>')
            if line.template is not None:
                for arm in arms(line.source):
                    n = by_key.get(("arm", _arm_key(step.id, index, arm.branch, arm.index,
                                                     arm.label)), 0)
                    parts.append(f'<p class="arm {_mark(n)}">{{% {e(arm.label)} %}} · {n}×</p>')
        items = "".join(
            f'<li class="{_mark(by_key.get(("answer", f"{step.id} → {a.id}"), 0))}">'
            f"{e(a.label)} <code>{e(a.id)}</code> → <code>{e(a.target)}</code> · "
            f'{by_key.get(("answer", f"{step.id} → {a.id}"), 0)}×</li>'
            for a in step.answers.values())
        if items:
            parts.append(f"<ul>{items}</ul>")
        if step.disposition is not None:
            n = by_key.get(("outcome", step.disposition), 0)
            parts.append(f'<p class="outcome {_mark(n)}">disposition: {e(step.disposition)}</p>')
        parts.append("</div>")
    interruptions = "".join(
        f'<li class="{_mark(by_key.get(("interruption", i.id), 0))}">{e(i.label)} '
        f"<code>{e(i.id)}</code> · {by_key.get(('interruption', i.id), 0)}×</li>"
        for i in fc.flow.interruptions.values())
    if interruptions:
        parts.append(f"<h3>Interruptions</h3><ul>{interruptions}</ul>")
    parts.append("</section>")
    return "\n".join(parts)


_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>callscript flow coverage {percent}%</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", sans-serif; margin: 2em; max-width: 60em; }}
.step {{ border-left: 4px solid #ccc; padding: .2em 1em; margin: .6em 0; }}
.step.hit {{ border-color: #2a7; }} .step.miss {{ border-color: #c33; background: #fff3f3; }}
li.hit, p.hit {{ color: #175; }} li.miss, p.miss {{ color: #b22; font-weight: bold; }}
.say {{ margin: .2em 0; }} small {{ color: #777; font-weight: normal; }}
.arm {{ margin: 0 0 0 2em; font-family: monospace; }}
</style></head><body>
<h1>Flow coverage: {percent}%</h1>
<p>Green: exercised by at least one call. Red: never exercised.</p>
{sections}
</body></html>
"""
