"""The printed script as Markdown, HTML (self-contained, A4 print stylesheet) and PDF."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from callscript.printing.figures import diagram_svgs
from callscript.printing.markdown import (
    AGENT,
    MAIN_PART,
    anchor,
    condition,
    records,
    reference_text,
    to_markdown,
)
from callscript.printing.script import Script, Section

__all__ = ["PdfUnavailable", "to_html", "to_markdown", "to_pdf"]

class PdfUnavailable(RuntimeError):
    def __init__(self, detail: str) -> None:
        super().__init__("PDF output needs WeasyPrint: pip install 'callscript[pdf]' "
                         f"(and Debian's libpango-1.0-0 and fonts-noto-cjk); {detail}")


# -- HTML ---------------------------------------------------------------------------------

# The page: A4, a running header with the flow's title, page numbers; § references that
# name their page in print; bookmarks nested flow > part > step (h1 > h2 > h3).
_STYLE = """
@page { size: A4; margin: 18mm 15mm 18mm;
        @top-center { content: string(flow); font-size: 9pt; color: #555; }
        @bottom-center { content: counter(page); font-size: 9pt; } }
@page wide { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", sans-serif;
       font-size: 10.5pt; line-height: 1.55; color: #111; }
h1 { font-size: 17pt; margin: 0; } .meta { font-size: 9pt; color: #666; margin: 0 0 .5em; }
h1 .running { string-set: flow content(); }
h2 { font-size: 13pt; margin: 1em 0 .2em; border-bottom: 1px solid #bbb; }
.toc h1, .toc h2 { bookmark-level: none; }
.toc ul { list-style: none; padding-left: 0; } .toc ul ul { padding-left: 1.5em; }
.toc a { color: #111; text-decoration: none; }
.toc a::after { content: leader(".") target-counter(attr(href), page); }
.toc + .flow, .flow + .flow { break-before: page; page-break-before: always; }
.step { break-inside: avoid; page-break-inside: avoid; border-left: 3px solid #999;
        padding: .1em .8em; margin: .7em 0; }
.step h3 { font-size: 11pt; margin: .2em 0; }
.note { color: #555; margin: .15em 0; }
.say { margin: .25em 0; } .say b { white-space: nowrap; }
.variant { margin-left: 2em; }
ul.answers { margin: .2em 0 .2em 1.2em; padding: 0; }
.records { color: #444; }
a.ref { color: #114; white-space: nowrap; }
.outcome { font-weight: bold; }
table { border-collapse: collapse; } td, th { border: 1px solid #bbb; padding: .15em .5em; }
.diagram { break-inside: avoid; page-break-inside: avoid; text-align: center; margin: 1em 0; }
.diagram.first { break-before: page; page-break-before: always; }
.diagram.wide { page: wide; }
.diagram h2, .diagram h3 { bookmark-level: none; border: none; }
.diagram svg { max-width: 100%; height: auto; max-height: 245mm; }
.diagram.wide svg { max-height: 170mm; }
@media print { body { margin: 0; } a.ref::after { content: "(第" target-counter(attr(href), page) "页)";
                              font-size: 8.5pt; color: #555; } }
@media screen { body { max-width: 52em; margin: 2em auto; } }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _link(script: Script, target: str, named: bool) -> str:
    if not target.startswith("§"):
        return _h(target)
    return (f'<a class="ref" href="#{_h(anchor(script, target))}">'
            f"{_h(reference_text(script, target, named))}</a>")


def _html_section(script: Script, section: Section, named: bool) -> str:
    parts = []
    if section.part_title:
        parts.append(f"<h2>{_h(section.part_title)}</h2>")
    parts += [f'<section class="step" id="{_h(anchor(script, f"§{section.number}"))}">',
              f"<h3>§{section.number} {_h(section.title)}</h3>"]
    parts += [f'<p class="note">({_h(note)})</p>' for note in section.notes]
    for variants in section.lines:
        parts.append(f'<p class="say"><b>{AGENT}:</b> {_h(variants[0])}</p>')
        parts += [f'<p class="say variant">或: {_h(v)}</p>' for v in variants[1:]]
    if section.answers:
        items = []
        for a in section.answers:
            target = _link(script, a.target, named)
            back = f" (返回后 {_link(script, a.back_to, named)})" if a.back_to else ""
            kept = f'<span class="records">{_h(records(a))}</span>' if a.records else ""
            items.append(f"<li>{_h(a.label)}{_h(condition(a.condition))} → {target}{back}"
                         f"{kept}</li>")
        parts.append(f'<ul class="answers">{"".join(items)}</ul>')
    if section.outcome:
        parts.append(f'<p class="outcome">结束: {_h(section.outcome)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _toc(scripts: Sequence[Script]) -> str:
    items = []
    for script in scripts:
        parts = "".join(f'<li><a href="#{_h(anchor(script, f"§{s.number}"))}">'
                        f"{_h(s.part_title)}</a></li>" for s in script.sections if s.part_title)
        items.append(f'<li><a href="#{_h(script.flow.id)}">{_h(script.title)}</a>'
                     + (f"<ul>{parts}</ul>" if parts else "") + "</li>")
    return f'<nav class="toc"><h1>目录</h1><ul>{"".join(items)}</ul></nav>'


def _diagrams(script: Script) -> list[str]:
    figures = []
    for n, (caption, svg, wide) in enumerate(diagram_svgs(script.flow)):
        kind = "diagram" + (" first" if n == 0 else "") + (" wide" if wide else "")
        figures.append(f'<figure class="{kind}">{svg}'
                       f"<figcaption>{_h(caption)}</figcaption></figure>")
    return figures


def to_html(scripts: Sequence[Script], diagrams: bool = True) -> str:
    named = len(scripts) > 1
    body = [_toc(scripts)] if named else []
    for script in scripts:
        flow = script.flow
        title = (f'<span class="running">{_h(script.title)}</span>'
                 + (f" · 通话单: {_h(script.customer)}" if script.customer else ""))
        parts = [f'<section class="flow" id="{_h(flow.id)}">',
                 f"<h1>{title}</h1>", f'<p class="meta">{_h(flow.id)} v{flow.version}</p>']
        if script.purpose:
            parts.append(f'<p class="purpose">{_h(script.purpose)}</p>')
        if script.applies:
            parts.append(f'<p class="applies">适用条件: {_h(script.applies)}</p>')
        if script.applies_otherwise:
            parts.append(f'<p class="applies">不适用时: {_h(script.applies_otherwise)}</p>')
        if script.interruptions:
            rows = "".join(f"<tr><td>{_h(label)}</td><td>{_link(script, section, named)}</td></tr>"
                           for label, section in script.interruptions)
            parts.append('<h2 class="interruptions">随时可能出现的情况</h2>'
                         f"<table><tr><th>情况</th><th>转到</th></tr>{rows}</table>")
        if script.sections and not script.sections[0].part:
            parts.append(f"<h2>{MAIN_PART}</h2>")
        parts += [_html_section(script, section, named) for section in script.sections]
        parts.append(f'<p class="outcomes">结束方式: {_h("、".join(script.outcomes))}</p>')
        if diagrams:
            parts += _diagrams(script)
        parts.append("</section>")
        body.append("\n".join(parts))
    names = ", ".join(s.title for s in scripts)
    return ("<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{_h(names)}</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def to_pdf(scripts: Sequence[Script], diagrams: bool = True) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as err:  # OSError: the package is there but Pango is not
        raise PdfUnavailable(re.sub(r"\s+", " ", str(err))[:200]) from None
    pdf: bytes = HTML(string=to_html(scripts, diagrams)).write_pdf()
    return pdf
