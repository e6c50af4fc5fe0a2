"""The diagrams of a printed script: legible on A4, one per part of the call.

One diagram per part of the main path (the flow's own steps, then each
sub-dialogue a call meets), steps by title; a call into another part, or a
step drawn on another diagram, is one node naming it and its section. Each is
laid out top-down or left-to-right, for a portrait or a landscape page,
whichever prints it largest; a part too big for any of them at 8 pt is cut
into pieces of consecutive sections until each one is legible.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from callscript.compile import Flow
from callscript.printing.diagram import (
    FONT,
    GraphvizMissing,
    dot_quote,
    main_path,
    node_label,
    section_numbers,
)
from callscript.printing.order import call_order, group_of, step_title, subdialogue_titles
from callscript.spec import RETURN

# What an A4 page holds, in points: portrait (180 x 245 mm) and landscape (273 x 170 mm),
# less a little, so that rounding never takes a diagram under 8 pt.
PORTRAIT, LANDSCAPE = (500.0, 685.0), (765.0, 475.0)
SMALLEST_FONT = 10.0  # the smallest fontsize the DOT uses (edge labels)
LEGIBLE = 8.0  # no printed text smaller than this, in points
WRAP = 12  # characters of a label per line: long titles make wide diagrams


def _wrap(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        while len(line) > WRAP + 2:
            lines.append(line[:WRAP])
            line = line[WRAP:]
        lines.append(line)
    return "\n".join(lines)


def part_dot(flow: Flow, part: str, members: list[str], rankdir: str = "TB",
             title: str = "") -> str:
    """The steps ``members`` of one part as DOT; anything they lead to elsewhere is one
    node naming it and its section."""
    numbers = section_numbers(flow)
    titles = subdialogue_titles(flow)
    inside = set(members)
    out = [f"digraph {dot_quote(flow.id + '.' + part)} {{",
           f"  graph [rankdir={rankdir}, fontname={dot_quote(FONT)}, fontsize=14, "
           f"label={dot_quote(title)}, labelloc=t, nodesep=0.4, ranksep=0.45];",
           f"  node [shape=box, style=rounded, fontname={dot_quote(FONT)}, fontsize=11];",
           f"  edge [fontname={dot_quote(FONT)}, fontsize={SMALLEST_FONT:g}];"]
    for sid in members:
        shape = ", shape=doubleoctagon" if flow.steps[sid].terminal else ""
        label = _wrap(node_label(flow, sid, numbers))
        out.append(f"  {dot_quote(sid)} [label={dot_quote(label)}{shape}];")
    elsewhere: set[str] = set()

    def node_for(target: str) -> str:
        """The node of a step: itself when drawn here, else a reference to it."""
        if target in inside:
            return target
        node = f"ref:{target}"
        if node not in elsewhere:
            elsewhere.add(node)
            if group_of(target) != part:
                name = titles.get(group_of(target), group_of(target)) or flow.title
                label = f"{name} §{numbers[target]}"
            else:
                label = f"§{numbers[target]} {step_title(flow.steps[target])}"
            out.append(f"  {dot_quote(node)} [label={dot_quote(_wrap(label))}, shape=component];")
        return node

    # answers between the same two nodes are one edge with their labels stacked, so
    # that labels never sit on top of each other
    edges: dict[tuple[str, str], list[str]] = {}
    styles: dict[tuple[str, str], str] = {}
    for sid in members:
        for answer in flow.steps[sid].answers.values():
            if answer.target == RETURN:
                back = f"{sid}.return"
                out.append(f"  {dot_quote(back)} [label=\"↩ 返回\", shape=plaintext];")
                edges.setdefault((sid, back), []).append(answer.label)
                styles[(sid, back)] = ", style=dashed"
                continue
            node = node_for(answer.target)
            edges.setdefault((sid, node), []).append(answer.label)
            if answer.return_to:
                back_to = node_for(answer.return_to)
                edges.setdefault((node, back_to), ["返回后"])
                styles[(node, back_to)] = ", style=dotted"
    for (tail, head), labels in edges.items():
        label = "\n".join(_wrap(text) for text in dict.fromkeys(labels))
        out.append(f"  {dot_quote(tail)} -> {dot_quote(head)} [label={dot_quote(label)}"
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


def _best(flow: Flow, part: str, members: list[str], title: str) -> tuple[float, str, bool]:
    """How to print these steps: (scale, svg, landscape?). The first legible of top-down
    portrait, left-to-right portrait, then landscape (a page turned only when it must
    be); when none is legible, the largest."""
    svgs = {rankdir: _run_dot(part_dot(flow, part, members, rankdir, title))
            for rankdir in ("TB", "LR")}
    tried = [(printed_scale(svg_size(svgs[rankdir]), page), svgs[rankdir], wide)
             for wide, page in ((False, PORTRAIT), (True, LANDSCAPE)) for rankdir in ("TB", "LR")]
    legible = [t for t in tried if t[0] * SMALLEST_FONT >= LEGIBLE]
    return legible[0] if legible else max(tried, key=lambda t: t[0])


def _legible(flow: Flow, part: str, members: list[str],
             title: str) -> list[tuple[list[str], str, bool]]:
    """Pieces of consecutive sections, each printed at 8 pt or more (a single step is
    printed as it is, however large)."""
    scale, svg, wide = _best(flow, part, members, title)
    if scale * SMALLEST_FONT >= LEGIBLE or len(members) == 1:
        return [(members, svg, wide)]
    half = len(members) // 2
    return (_legible(flow, part, members[:half], title)
            + _legible(flow, part, members[half:], title))


def diagram_svgs(flow: Flow) -> list[tuple[str, str, bool]]:
    """The printed diagrams of ``flow``: (caption, inline SVG, landscape?)."""
    on_path = main_path(flow)
    order = [sid for sid in call_order(flow) if sid in on_path]
    parts = list(dict.fromkeys(group_of(s) for s in order))
    titles = subdialogue_titles(flow)
    figures: list[tuple[str, str, bool]] = []
    for part in parts:
        members = [sid for sid in order if group_of(sid) == part]
        name = titles.get(part, part) if part else f"{flow.title} · 主流程"
        pieces = _legible(flow, part, members, name)
        for n, (_steps, svg, wide) in enumerate(pieces, 1):
            caption = (f"{titles.get(part, part)} (子流程)" if part
                       else "主要通话流程 (随时可能出现的情况见上表)")
            if len(pieces) > 1:
                caption += f" {n}/{len(pieces)}"
            inline = svg[svg.index("<svg"):] if "<svg" in svg else svg
            figures.append((caption, _unique_ids(inline, f"{flow.id}-d{len(figures) + 1}-"), wide))
    return figures
