"""Flow diagrams: Graphviz DOT, SVG (through Graphviz's dot) and Mermaid."""

from __future__ import annotations

import re
import shutil
import subprocess

from callscript.compile import CompiledStep, Flow
from callscript.printing.order import call_order, group_of, step_title, subdialogue_titles
from callscript.spec import RETURN

FONT = "Noto Sans CJK SC"


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` is not installed."""

    def __init__(self) -> None:
        super().__init__("Graphviz's dot was not found; install it with "
                         "`apt-get install graphviz` (Debian, Ubuntu) or `brew install graphviz`")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _ended(flow: Flow, step: CompiledStep) -> str:
    return flow.dispositions[step.disposition].label if step.disposition else ""


def _numbers(flow: Flow) -> dict[str, int]:
    """Section numbers, as the printed script numbers them (call order)."""
    return {sid: n for n, sid in enumerate(call_order(flow), 1)}


def _node_label(flow: Flow, sid: str, numbers: dict[str, int], newline: str = "\n") -> str:
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
    numbers = _numbers(flow)
    shown = set(flow.steps) if interruptions else main_path(flow)
    out = [f"digraph {_quote(flow.id)} {{",
           f"  graph [rankdir=TB, fontname={_quote(FONT)}, label={_quote(flow.title)}, labelloc=t];",
           f"  node [shape=box, style=rounded, fontname={_quote(FONT)}, fontsize=11];",
           f"  edge [fontname={_quote(FONT)}, fontsize=10];"]
    titles = subdialogue_titles(flow)
    groups: dict[str, list[str]] = {}
    for sid in (s for s in flow.steps if s in shown):
        groups.setdefault(sid.split(".")[0] if "." in sid else "", []).append(sid)
    for group, members in groups.items():
        indent = "  "
        if group:
            out.append(f"  subgraph {_quote('cluster_' + group)} {{ "
                       f"label={_quote(titles.get(group, group))}; "
                       "style=dashed;")
            indent = "    "
        for sid in members:
            step = flow.steps[sid]
            shape = ", shape=doubleoctagon" if step.terminal else ""
            label = _node_label(flow, sid, numbers)
            out.append(f"{indent}{_quote(sid)} [label={_quote(label)}{shape}];")
        if group:
            out.append("  }")
    for sid, step in flow.steps.items():
        if sid not in shown:
            continue
        for answer in step.answers.values():
            if answer.target == RETURN:
                back = f"{sid}.return"
                out.append(f"  {_quote(back)} [label=\"↩ 返回\", shape=plaintext];")
                out.append(f"  {_quote(sid)} -> {_quote(back)} [label={_quote(answer.label)}, "
                           "style=dashed];")
            else:
                out.append(f"  {_quote(sid)} -> {_quote(answer.target)} "
                           f"[label={_quote(answer.label)}];")
            if answer.return_to:
                out.append(f"  {_quote(answer.target)} -> {_quote(answer.return_to)} "
                           "[style=dotted, label=\"返回后\"];")
    if flow.interruptions and interruptions:
        out.append("  \"interruptions\" [label=\"随时可能\\n(任一通话步骤)\", shape=note];")
        for item in flow.interruptions.values():
            out.append(f"  \"interruptions\" -> {_quote(item.start)} [label={_quote(item.label)}, "
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
    numbers = _numbers(flow)
    out = ["flowchart TD"]
    for sid, step in flow.steps.items():
        label = _node_label(flow, sid, numbers, "<br/>")
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


# -- diagrams for paper ---------------------------------------------------------------------

# What an A4 page holds, in points: portrait (180 x 245 mm) and landscape (273 x 170 mm).
PORTRAIT, LANDSCAPE = (510.0, 694.0), (774.0, 482.0)
SMALLEST_FONT = 10.0  # the smallest fontsize the DOT uses (edge labels)
LEGIBLE = 8.0  # no printed text smaller than this, in points


def part_dot(flow: Flow, part: str, rankdir: str = "TB") -> str:
    """One part of the flow's main path (its own steps, or one sub-dialogue's) as DOT.

    A call into another part is one node naming it and its section, so each diagram
    stays small enough to print legibly.
    """
    numbers = _numbers(flow)
    titles = subdialogue_titles(flow)
    shown = [sid for sid in call_order(flow) if group_of(sid) == part and sid in main_path(flow)]
    title = titles.get(part, part) if part else f"{flow.title} · 主流程"
    out = [f"digraph {_quote(flow.id + '.' + part)} {{",
           f"  graph [rankdir={rankdir}, fontname={_quote(FONT)}, fontsize=14, "
           f"label={_quote(title)}, labelloc=t, nodesep=0.4, ranksep=0.45];",
           f"  node [shape=box, style=rounded, fontname={_quote(FONT)}, fontsize=11];",
           f"  edge [fontname={_quote(FONT)}, fontsize={SMALLEST_FONT:g}];"]
    for sid in shown:
        shape = ", shape=doubleoctagon" if flow.steps[sid].terminal else ""
        out.append(f"  {_quote(sid)} [label={_quote(_node_label(flow, sid, numbers))}{shape}];")
    calls: set[str] = set()
    # answers between the same two nodes are one edge with their labels stacked, so
    # that labels never sit on top of each other
    edges: dict[tuple[str, str], list[str]] = {}
    styles: dict[tuple[str, str], str] = {}
    for sid in shown:
        for answer in flow.steps[sid].answers.values():
            target = answer.target
            if target == RETURN:
                back = f"{sid}.return"
                out.append(f"  {_quote(back)} [label=\"↩ 返回\", shape=plaintext];")
                edges.setdefault((sid, back), []).append(answer.label)
                styles[(sid, back)] = ", style=dashed"
                continue
            if group_of(target) != part:
                node = f"call:{target}"
                if node not in calls:
                    calls.add(node)
                    name = titles.get(group_of(target), group_of(target)) or flow.title
                    out.append(f"  {_quote(node)} [label={_quote(f'{name} §{numbers[target]}')}, "
                               "shape=component];")
                edges.setdefault((sid, node), []).append(answer.label)
                if answer.return_to and group_of(answer.return_to) == part:
                    edges.setdefault((node, answer.return_to), ["返回后"])
                    styles[(node, answer.return_to)] = ", style=dotted"
            else:
                edges.setdefault((sid, target), []).append(answer.label)
    for (tail, head), labels in edges.items():
        label = "\n".join(dict.fromkeys(labels))
        out.append(f"  {_quote(tail)} -> {_quote(head)} [label={_quote(label)}"
                   f"{styles.get((tail, head), '')}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _run_dot(dot_source: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing()
    return subprocess.run([dot, "-Tsvg"], input=dot_source, capture_output=True, text=True,
                          check=True, timeout=60).stdout


def svg_size(svg: str) -> tuple[float, float]:
    """Graphviz's SVG size in points (its width and height attributes)."""
    found = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"[^>]*\sheight="([\d.]+)pt"', svg)
    return (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)


def printed_scale(size: tuple[float, float], page: tuple[float, float]) -> float:
    """How much the page shrinks a drawing of ``size`` to fit (1: not at all)."""
    width, height = size
    return min(1.0, page[0] / width if width else 1.0, page[1] / height if height else 1.0)


def _unique_ids(svg: str, prefix: str) -> str:
    """Graphviz numbers ids from 1 in every SVG: prefix them, so one page can hold many."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    return re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{prefix}{m.group(2)}", svg)


def diagram_svgs(flow: Flow) -> list[tuple[str, str, bool]]:
    """The printed diagrams of ``flow``: (caption, inline SVG, landscape?), one per part of
    its main path, each laid out and oriented so that no text prints under 8 pt."""
    parts = list(dict.fromkeys(group_of(s) for s in call_order(flow) if s in main_path(flow)))
    titles = subdialogue_titles(flow)
    figures = []
    for n, part in enumerate(parts, 1):
        best: tuple[float, str, bool] | None = None
        for rankdir in ("TB", "LR"):
            svg = _run_dot(part_dot(flow, part, rankdir))
            for wide, page in ((False, PORTRAIT), (True, LANDSCAPE)):
                scale = printed_scale(svg_size(svg), page)
                if best is None or scale > best[0] + 1e-6:
                    best = (scale, svg, wide)
            if best is not None and best[0] * SMALLEST_FONT >= LEGIBLE:
                break
        assert best is not None
        svg = best[1]
        caption = (f"{titles.get(part, part)} (子流程)" if part
                   else "主要通话流程 (随时可能出现的情况见上表)")
        inline = svg[svg.index("<svg"):] if "<svg" in svg else svg
        figures.append((caption, _unique_ids(inline, f"{flow.id}-d{n}-"), best[2]))
    return figures
