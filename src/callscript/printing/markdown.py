"""The printed script as Markdown: the same sections as the PDF, § references as links."""

from __future__ import annotations

from collections.abc import Sequence

from callscript.printing.diagram import to_mermaid
from callscript.printing.script import PrintedAnswer, Script, Section

AGENT = "客户经理"
MAIN_PART = "主流程"


def anchor(script: Script, target: str) -> str:
    """The id of a section (``first_visit-s3``) or of a flow (``first_visit``)."""
    return f"{script.flow.id}-s{target[1:]}" if target.startswith("§") else script.flow.id


def reference_text(script: Script, target: str, named: bool) -> str:
    """``§3``, or ``首次回访 §3`` where several flows are printed together."""
    return f"{script.title} {target}" if named and target.startswith("§") else target


def condition(words: str | None) -> str:
    return f"(仅当{words})" if words else ""


def records(answer: PrintedAnswer) -> str:
    return f" · 记录: {'、'.join(answer.records)}" if answer.records else ""


def _ref(script: Script, target: str, named: bool) -> str:
    if not target.startswith("§"):
        return target
    return f"[{reference_text(script, target, named)}](#{anchor(script, target)})"


def _md_section(script: Script, section: Section, named: bool) -> list[str]:
    out: list[str] = []
    if section.part_title:
        out += [f"## {section.part_title}", ""]
    out += [f'<a id="{anchor(script, f"§{section.number}")}"></a>', "",
            f"### §{section.number} {section.title}", ""]
    out += [f"({note})" for note in section.notes]
    if section.notes:
        out.append("")
    for variants in section.lines:
        out.append(f"> **{AGENT}:** {variants[0]}")
        out += [f">\n> 或: {variant}" for variant in variants[1:]]
        out.append("")
    for a in section.answers:
        back = f"(返回后 {_ref(script, a.back_to, named)})" if a.back_to else ""
        out.append(f"- {a.label}{condition(a.condition)} → {_ref(script, a.target, named)}"
                   f"{back}{records(a)}")
    if section.outcome:
        out.append(f"**结束:** {section.outcome}")
    out.append("")
    return out


def _toc(scripts: Sequence[Script]) -> list[str]:
    out = ["# 目录", ""]
    for script in scripts:
        out.append(f"- [{script.title}](#{script.flow.id})")
        out += [f"  - [{s.part_title}](#{anchor(script, f'§{s.number}')})"
                for s in script.sections if s.part_title]
    return [*out, ""]


def to_markdown(scripts: Sequence[Script], diagrams: bool = True) -> str:
    named = len(scripts) > 1
    out: list[str] = _toc(scripts) if named else []
    for script in scripts:
        flow = script.flow
        heading = f"# {script.title} ({flow.id}, v{flow.version})"
        if script.customer:
            heading += f" · 通话单: {script.customer}"
        if named:  # the table of contents links here
            out += [f'<a id="{flow.id}"></a>', ""]
        out += [heading, ""]
        if script.purpose:
            out += [script.purpose, ""]
        if script.applies:
            out += [f"**适用条件:** {script.applies}", ""]
        if script.applies_otherwise:
            out += [f"**不适用时:** {script.applies_otherwise}", ""]
        if diagrams:
            out += ["```mermaid", to_mermaid(flow).rstrip(), "```", ""]
        if script.interruptions:
            out += ["**随时可能出现的情况** (通话中任一步骤):", "",
                    "| 情况 | 转到 |", "| --- | --- |"]
            out += [f"| {label} | {_ref(script, section, named)} |"
                    for label, section in script.interruptions]
            out.append("")
        if script.sections and not script.sections[0].part:
            out += [f"## {MAIN_PART}", ""]
        for section in script.sections:
            out += _md_section(script, section, named)
        out += [f"**结束方式:** {'、'.join(script.outcomes)}", "", ""]
    return "\n".join(out).rstrip() + "\n"
