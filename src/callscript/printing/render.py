"""The printed script as Markdown, HTML (self-contained, A4 print stylesheet) and PDF."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from callscript.printing.diagram import to_mermaid, to_svg
from callscript.printing.script import Script, Section

AGENT = "客户经理"


class PdfUnavailable(RuntimeError):
    def __init__(self, detail: str) -> None:
        super().__init__("PDF output needs WeasyPrint: pip install 'callscript[pdf]' "
                         f"(and Debian's libpango-1.0-0 and fonts-noto-cjk); {detail}")


def _answer_text(answer_target: str, back_to: str | None) -> str:
    return answer_target + (f"(返回后 {back_to})" if back_to else "")


def _condition(words: str | None) -> str:
    return f"(仅当{words})" if words else ""


# -- Markdown ----------------------------------------------------------------------------

def _md_section(section: Section) -> list[str]:
    out = [f"### §{section.number} {section.title}", ""]
    out += [f"({note})" for note in section.notes]
    if section.notes:
        out.append("")
    for variants in section.lines:
        out.append(f"> **{AGENT}:** {variants[0]}")
        out += [f">\n> 或: {variant}" for variant in variants[1:]]
        out.append("")
    out += [f"- {a.label}{_condition(a.condition)} → {_answer_text(a.target, a.back_to)}"
            for a in section.answers]
    if section.outcome:
        out.append(f"**结束:** {section.outcome}")
    out.append("")
    return out


def to_markdown(scripts: Sequence[Script], diagrams: bool = True) -> str:
    out: list[str] = []
    for script in scripts:
        flow = script.flow
        heading = f"# {script.title} ({flow.id}, v{flow.version})"
        if script.customer:
            heading += f" · 通话单: {script.customer}"
        out += [heading, ""]
        if script.purpose:
            out += [script.purpose, ""]
        if script.applies:
            out += [f"**适用条件:** {script.applies}", ""]
        if diagrams:
            out += ["```mermaid", to_mermaid(flow).rstrip(), "```", ""]
        if script.interruptions:
            out += ["**随时可能出现的情况** (from any step of the call):", "",
                    "| 情况 | 转到 |", "| --- | --- |"]
            out += [f"| {label} | {section} |" for label, section in script.interruptions]
            out.append("")
        for section in script.sections:
            out += _md_section(section)
        out += [f"**结束方式:** {'、'.join(script.outcomes)}", "", ""]
    return "\n".join(out).rstrip() + "\n"


# -- HTML ---------------------------------------------------------------------------------

_STYLE = """
@page { size: A4; margin: 16mm 15mm 18mm; @bottom-center { content: counter(page); font-size: 9pt; } }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", sans-serif;
       font-size: 10.5pt; line-height: 1.55; color: #111; }
h1 { font-size: 17pt; margin: 0 0 .3em; } h1 small { font-size: 10pt; color: #666; }
.flow + .flow { break-before: page; page-break-before: always; }
.step { break-inside: avoid; page-break-inside: avoid; border-left: 3px solid #999;
        padding: .1em .8em; margin: .7em 0; }
.step h3 { font-size: 11pt; margin: .2em 0; } .step h3 code { color: #555; font-weight: normal; }
.note { color: #555; margin: .15em 0; }
.say { margin: .25em 0; } .say b { white-space: nowrap; }
.variant { margin-left: 2em; }
ul.answers { margin: .2em 0 .2em 1.2em; padding: 0; }
.outcome { font-weight: bold; }
table { border-collapse: collapse; } td, th { border: 1px solid #bbb; padding: .15em .5em; }
.diagram { break-before: page; page-break-before: always; text-align: center; }
.diagram svg { max-width: 100%; height: auto; max-height: 250mm; }
@media screen { body { max-width: 52em; margin: 2em auto; } }
"""


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_section(script: Script, section: Section) -> str:
    anchor = f"{script.flow.id}-s{section.number}"
    parts = [f'<section class="step" id="{_h(anchor)}">',
             f"<h3>§{section.number} {_h(section.title)}</h3>"]
    parts += [f'<p class="note">({_h(note)})</p>' for note in section.notes]
    for variants in section.lines:
        parts.append(f'<p class="say"><b>{AGENT}:</b> {_h(variants[0])}</p>')
        parts += [f'<p class="say variant">或: {_h(v)}</p>' for v in variants[1:]]
    if section.answers:
        items = []
        for a in section.answers:
            target = _link(script, a.target)
            back = f" (返回后 {_link(script, a.back_to)})" if a.back_to else ""
            items.append(f"<li>{_h(a.label)}{_h(_condition(a.condition))} → {target}{back}</li>")
        parts.append(f'<ul class="answers">{"".join(items)}</ul>')
    if section.outcome:
        parts.append(f'<p class="outcome">结束: {_h(section.outcome)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def _link(script: Script, target: str) -> str:
    if not target.startswith("§"):
        return _h(target)
    return f'<a href="#{_h(script.flow.id)}-s{target[1:]}">{_h(target)}</a>'


def _svg_inline(svg: str) -> str:
    """Graphviz's SVG without its XML prolog and DOCTYPE, to embed in the page."""
    return svg[svg.index("<svg"):] if "<svg" in svg else svg


def to_html(scripts: Sequence[Script], diagrams: bool = True) -> str:
    body = []
    for script in scripts:
        flow = script.flow
        title = _h(script.title) + (f" · 通话单: {_h(script.customer)}" if script.customer else "")
        parts = [f'<section class="flow" id="{_h(flow.id)}">',
                 f"<h1>{title} <small>{_h(flow.id)} v{flow.version}</small></h1>"]
        if script.purpose:
            parts.append(f'<p class="purpose">{_h(script.purpose)}</p>')
        if script.applies:
            parts.append(f'<p class="applies">适用条件: {_h(script.applies)}</p>')
        if script.interruptions:
            rows = "".join(f"<tr><td>{_h(label)}</td><td>{_link(script, section)}</td></tr>"
                           for label, section in script.interruptions)
            parts.append('<h2 class="interruptions">随时可能出现的情况</h2>'
                         f"<table><tr><th>情况</th><th>转到</th></tr>{rows}</table>")
        parts += [_html_section(script, section) for section in script.sections]
        parts.append(f'<p class="outcomes">结束方式: {_h("、".join(script.outcomes))}</p>')
        if diagrams:
            parts.append(f'<figure class="diagram">{_svg_inline(to_svg(flow, interruptions=False))}'
                         "<figcaption>主要通话流程 (the main path; interruptions are listed above)"
                         "</figcaption></figure>")
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
