"""Rich renderings of flows and records for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from callscript.compile import Flow
from callscript.record import CallRecord


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
                   "answers": [{"id": a.id, "label": a.label, "to": a.target,
                                "return_to": a.return_to} for a in s.answers.values()],
                   "disposition": s.disposition}
                  for s in flow.steps.values()],
    }


def show_flow(console: Console, flow: Flow) -> None:
    console.print(f"[bold]{flow.title}[/] [cyan]{flow.id}[/] v{flow.version}")
    if flow.purpose:
        console.print(flow.purpose)
    console.print(f"starts at [cyan]{flow.start}[/]; needs "
                  f"{', '.join(sorted(flow.required_context)) or 'no customer data'}")
    for step in flow.steps.values():
        body: list[Any] = []
        # one unbroken run of CJK per line, folded at the panel's edge (never cropped)
        body += [Text(f"({note.source})", style="dim", overflow="fold") for note in step.notes]
        body += [Text(f"客户经理:{line.source}", overflow="fold") for line in step.lines]
        for answer in step.answers.values():
            back = f" (back to {answer.return_to})" if answer.return_to else ""
            body.append(Text(f"  {answer.label} [{answer.id}] → {answer.target}{back}",
                             style="green"))
        if step.disposition:
            body.append(Text(f"  end: {step.disposition}", style="bold magenta"))
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


def show_record(console: Console, record: CallRecord) -> None:
    console.print(f"[bold]call {record.call_id}[/] · {record.flow_id} v{record.flow_version} · "
                  f"disposition [bold magenta]{_ended(record)}[/]")
    ended = f"{record.ended_at:%H:%M:%S}" if record.ended_at else "…"
    console.print(f"agent {record.agent_id or '-'} · customer {record.customer_ref or '-'} · "
                  f"{record.started_at:%Y-%m-%d %H:%M:%S} → {ended}")
    path = Table(title="path", show_lines=True)
    for column in ("#", "step", "said", "answer", "captured"):
        path.add_column(column)
    for number, entry in enumerate(record.path, 1):
        answer = entry.answer or (f"⚡ {entry.interruption}" if entry.interruption else "")
        captured = "\n".join(f"{k}: {v}" for k, v in entry.captures.items())
        path.add_row(str(number), entry.step, "\n".join(entry.lines), answer, captured)
    console.print(path)
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
