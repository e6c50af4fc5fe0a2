"""Rich renderings of flows and records for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from callscript.compile import Flow
from callscript.printing.order import condition_words, step_title
from callscript.record import CallRecord
from callscript.spec import EffectSpec


def flows_table(flows: dict[str, Flow]) -> Table:
    table = Table(title="callscript flows", show_lines=False)
    for column in ("id", "title", "version", "steps", "file"):
        table.add_column(column)
    for flow in sorted(flows.values(), key=lambda f: f.id):
        table.add_row(flow.id, flow.title, str(flow.version), str(len(flow.steps)), flow.files[0])
    return table


def flows_json(flows: dict[str, Flow]) -> list[dict[str, Any]]:
    return [{"id": f.id, "title": f.title, "version": f.version, "steps": len(f.steps),
             "file": f.files[0]} for f in sorted(flows.values(), key=lambda f: f.id)]


def flow_json(flow: Flow) -> dict[str, Any]:
    return {
        "id": flow.id, "title": flow.title, "version": flow.version, "purpose": flow.purpose,
        "start": flow.start,
        "required_context": sorted(flow.required_context),
        "interruptions": [{"id": i.id, "label": i.label, "to": i.start}
                          for i in flow.interruptions.values()],
        "steps": [{"id": s.id, "title": s.title, "file": s.file, "line": s.line,
                   "say": [line.source for line in s.lines],
                   "notes": [note.source for note in s.notes],
                   "effects": [e.model_dump(exclude_none=True) for e in s.effects],
                   "answers": [{"id": a.id, "label": a.label, "to": a.target,
                                "return_to": a.return_to,
                                "condition": ({"if": a.guard.source,
                                               "label": condition_words(flow, a.guard)}
                                              if a.guard else None),
                                "captures": [c.model_dump(exclude_none=True)
                                             for c in a.captures],
                                "effects": [e.model_dump(exclude_none=True) for e in a.effects]}
                               for a in s.answers.values()],
                   "disposition": s.disposition}
                  for s in flow.steps.values()],
    }


def effect_words(flow: Flow, effect: EffectSpec) -> str:
    """One effect as the terminal shows it: 跟进 callback 0 天内: note, 结果 → 有意向, …"""
    if effect.follow_up:
        due = effect.follow_up.due
        at = flow.captures.get(due.at_capture) if due.at_capture else None
        when = (f"{due.in_days} 天内" if due.in_days is not None else
                f"{due.in_working_days} 个工作日内" if due.in_working_days is not None else
                f"于【{at.label}】" if at else "按约定")
        note = f": {effect.follow_up.note}" if effect.follow_up.note else ""
        return f"跟进 {effect.follow_up.kind} {when}{note}"
    if effect.escalate:
        return f"上报: {effect.escalate.reason}"
    if effect.complaint:
        return "记录投诉" if effect.complaint.kind == "complaint" else "记录建议"
    if effect.disposition:
        known = flow.dispositions.get(effect.disposition)
        return f"结果 → {known.label if known else effect.disposition}"
    return ""


def show_flow(console: Console, flow: Flow) -> None:
    console.print(f"[bold]{flow.title}[/] [cyan]{flow.id}[/] v{flow.version}")
    if flow.purpose:
        console.print(flow.purpose)
    console.print(f"starts at [cyan]{flow.start}[/]; needs "
                  f"{', '.join(sorted(flow.required_context)) or 'no customer data'}")
    if flow.applies_when is not None:
        console.print(f"applies when: {condition_words(flow, flow.applies_when)}")
    for step in flow.steps.values():
        body: list[Any] = []
        # one unbroken run of CJK per line, folded at the panel's edge (never cropped)
        body += [Text(f"({note.source})", style="dim", overflow="fold") for note in step.notes]
        body += [Text(f"客户经理:{line.source}", overflow="fold") for line in step.lines]
        body += [Text(f"  ⚙ {effect_words(flow, e)}", style="yellow") for e in step.effects]
        for answer in step.answers.values():
            back = f" (back to {answer.return_to})" if answer.return_to else ""
            when = f" (仅当{condition_words(flow, answer.guard)})" if answer.guard else ""
            body.append(Text(f"  {answer.label} [{answer.id}]{when} → {answer.target}{back}",
                             style="green", overflow="fold"))
            if answer.captures:
                kept = "、".join(f"{c.label}({c.name}, {c.type}"
                                + (")" if c.required else ", 可不填)") for c in answer.captures)
                body.append(Text(f"      记录: {kept}", style="cyan", overflow="fold"))
            body += [Text(f"      ⚙ {effect_words(flow, e)}", style="yellow", overflow="fold")
                     for e in answer.effects]
        if step.disposition:
            ended = flow.dispositions[step.disposition]
            body.append(Text(f"  end: {ended.label} ({step.disposition})", style="bold magenta"))
        console.print(Panel(Group(*body) if body else Text(""),
                            title=f"{step.title} ({step.id})" if step.title != step.id
                            else step.id, title_align="left",
                            subtitle=f"{step.file}:{step.line}", subtitle_align="right"))
    if flow.interruptions:
        table = Table(title="interruptions (from any step marked interruptible)")
        table.add_column("id")
        table.add_column("label")
        table.add_column("goes to")
        for item in flow.interruptions.values():
            table.add_row(item.id, item.label, item.start)
        console.print(table)


def _ended(record: CallRecord) -> str:
    return record.disposition.label if record.disposition else "未结束"


def show_record(console: Console, record: CallRecord, flow: Flow | None = None) -> None:
    """The record; with its flow, steps by title and captures by their Chinese labels."""
    labels = {name: c.label for name, c in flow.captures.items()} if flow else {}
    console.print(f"[bold]call {record.call_id}[/] · {record.flow_id} v{record.flow_version} · "
                  f"结果 [bold magenta]{_ended(record)}[/]")
    ended = f"{record.ended_at:%H:%M:%S}" if record.ended_at else "…"
    console.print(f"agent {record.agent_id or '-'} · customer {record.customer_ref or '-'} · "
                  f"{record.started_at:%Y-%m-%d %H:%M:%S} → {ended}")
    path = Table(title="通话经过", show_lines=True)
    for column in ("#", "步骤", "所说", "客户的回答", "记录"):
        path.add_column(column, overflow="fold")
    for number, entry in enumerate(record.path, 1):
        step = flow.steps.get(entry.step) if flow else None
        answer = step.answers.get(entry.answer or "") if step else None
        said = answer.label if answer else entry.answer or ""
        if entry.interruption:
            raised = flow.interruptions.get(entry.interruption) if flow else None
            said = f"⚡ {raised.label if raised else entry.interruption}"
        captured = "\n".join(f"{labels.get(k, k)}: {v}" for k, v in entry.captures.items())
        path.add_row(str(number), step_title(step) if step else entry.step,
                     "\n".join(entry.lines), said, captured)
    console.print(path)
    if record.captures:
        kept = Table(title="记录")
        kept.add_column("项目")
        kept.add_column("内容")
        for key, value in record.captures.items():
            kept.add_row(labels.get(key, key), str(value))
        console.print(kept)
    if record.follow_ups:
        table = Table(title="follow-ups")
        for column in ("kind", "due", "note", "from step"):
            table.add_column(column)
        for item in record.follow_ups:
            due = f"{item.due}" + (" (estimated)" if item.estimated else "")
            table.add_row(item.kind, due, item.note, item.step)
        console.print(table)
    for complaint in record.complaints:
        console.print(f"complaint ({complaint.kind}) at {complaint.step}: {complaint.text or ''}; "
                      f"reply due {complaint.reply_due}")
    for escalation in record.escalations:
        console.print(f"[bold red]escalated[/] at {escalation.step}: {escalation.reason}")
    if record.waited_for_customer_hangup:
        console.print("the agent waited for the customer to hang up first")
