"""Flow diagrams: Graphviz DOT, SVG (through Graphviz's dot) and Mermaid."""

from __future__ import annotations

import shutil
import subprocess

from callscript.compile import CompiledStep, Flow
from callscript.printing.order import call_order, step_title, subdialogue_titles
from callscript.spec import RETURN

FONT = "Noto Sans CJK SC"


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not installed."""

    def __init__(self) -> None:
        super().__init__("Graphviz's dot was not found; install it with "
                         "`apt-get install graphviz` (Debian, Ubuntu) or `brew install graphviz`")


def dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _ended(flow: Flow, step: CompiledStep) -> str:
    return flow.dispositions[step.disposition].label if step.disposition else ""


def section_numbers(flow: Flow) -> dict[str, int]:
    """Section numbers, as the printed script numbers them (call order)."""
    return {sid: n for n, sid in enumerate(call_order(flow), 1)}


def node_label(flow: Flow, sid: str, numbers: dict[str, int], newline: str = "\n") -> str:
    step = flow.steps[sid]
    return (f"§{numbers[sid]} {step_title(step)}"
            + (f"{newline}{_ended(flow, step)}" if step.disposition else ""))


def main_path(flow: Flow) -> set[str]:
    """Steps reachable from the start by answers alone, without raising an interruption."""
    seen: set[str] = set()
    stack = [flow.start]
    while stack:
        sid = stack.pop()
        if sid in seen:
            continue
        seen.add(sid)
        for answer in flow.steps[sid].answers.values():
            stack += [t for t in (answer.target, answer.return_to) if t and t != RETURN]
    return seen


def to_dot(flow: Flow, interruptions: bool = True) -> str:
    """The flow as a Graphviz digraph; ``interruptions=False`` draws the main path only."""
    numbers = section_numbers(flow)
    shown = set(flow.steps) if interruptions else main_path(flow)
    out = [f"digraph {dot_quote(flow.id)} {{",
           f"  graph [rankdir=TB, fontname={dot_quote(FONT)}, label={dot_quote(flow.title)}, labelloc=t];",
           f"  node [shape=box, style=rounded, fontname={dot_quote(FONT)}, fontsize=11];",
           f"  edge [fontname={dot_quote(FONT)}, fontsize=10];"]
    titles = subdialogue_titles(flow)
    groups: dict[str, list[str]] = {}
    for sid in (s for s in flow.steps if s in shown):
        groups.setdefault(sid.split(".")[0] if "." in sid else "", []).append(sid)
    for group, members in groups.items():
        indent = "  "
        if group:
            out.append(f"  subgraph {dot_quote('cluster_' + group)} {{ "
                       f"label={dot_quote(titles.get(group, group))}; "
                       "style=dashed;")
            indent = "    "
        for sid in members:
            step = flow.steps[sid]
            shape = ", shape=doubleoctagon" if step.terminal else ""
            label = node_label(flow, sid, numbers)
            out.append(f"{indent}{dot_quote(sid)} [label={dot_quote(label)}{shape}];")
        if group:
            out.append("  }")
    for sid, step in flow.steps.items():
        if sid not in shown:
            continue
        for answer in step.answers.values():
            if answer.target == RETURN:
                back = f"{sid}.return"
                out.append(f"  {dot_quote(back)} [label=\"↩ 返回\", shape=plaintext];")
                out.append(f"  {dot_quote(sid)} -> {dot_quote(back)} [label={dot_quote(answer.label)}, "
                           "style=dashed];")
            else:
                out.append(f"  {dot_quote(sid)} -> {dot_quote(answer.target)} "
                           f"[label={dot_quote(answer.label)}];")
            if answer.return_to:
                out.append(f"  {dot_quote(answer.target)} -> {dot_quote(answer.return_to)} "
                           "[style=dotted, label=\"返回后\"];")
    if flow.interruptions and interruptions:
        out.append("  \"interruptions\" [label=\"随时可能\\n(任一通话步骤)\", shape=note];")
        for item in flow.interruptions.values():
            out.append(f"  \"interruptions\" -> {dot_quote(item.start)} [label={dot_quote(item.label)}, "
                       "color=gray40, fontcolor=gray40];")
    out.append("}")
    return "\n".join(out) + "\n"


def to_svg(flow: Flow, interruptions: bool = True) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing()
    result = subprocess.run([dot, "-Tsvg"], input=to_dot(flow, interruptions), capture_output=True,
                            text=True, check=True, timeout=60)
    return result.stdout


def _mermaid_id(step: str) -> str:
    return step.replace(".", "__")


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(flow: Flow) -> str:
    numbers = section_numbers(flow)
    out = ["flowchart TD"]
    for sid, step in flow.steps.items():
        label = node_label(flow, sid, numbers, "<br/>")
        shape = ("([", "])") if step.terminal else ("[", "]")
        out.append(f'  {_mermaid_id(sid)}{shape[0]}"{_mermaid_text(label)}"{shape[1]}')
    for sid, step in flow.steps.items():
        for answer in step.answers.values():
            label = _mermaid_text(answer.label)
            if answer.target == RETURN:
                back = _mermaid_id(sid) + "__return"
                out.append(f'  {back}(("↩"))')
                out.append(f'  {_mermaid_id(sid)} -. "{label}" .-> {back}')
            else:
                out.append(f'  {_mermaid_id(sid)} -- "{label}" --> {_mermaid_id(answer.target)}')
    for item in flow.interruptions.values():
        out.append(f'  interruptions{{{{"任一通话步骤"}}}} -. "{_mermaid_text(item.label)}" .-> '
                   f"{_mermaid_id(item.start)}")
    return "\n".join(out) + "\n"
