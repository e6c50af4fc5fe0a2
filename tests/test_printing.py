"""Printed scripts and diagrams, checked on the real artefacts: PDF, HTML in Chromium, SVG."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path
from xml.etree import ElementTree

import pytest

from callscript import builtin_flows
from callscript.cli import main
from callscript.printing import build_script, to_dot, to_html, to_markdown, to_mermaid, to_svg
from callscript.printing.order import call_order, step_title, subdialogue_titles

from .test_seed_fidelity import SEED_LINES

FLOWS = builtin_flows()
CUSTOMER = {"customer": {"name": "王", "title": "先生", "phone": "13812345678"},
            "billing": {"last_month": "128.50", "this_month": "36.00"},
            "deployment": {"hotline": "10010"}}


def tool(name: str) -> str:
    """The path of a command the test needs; CI must have it, a laptop may skip."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: scripts/setup-system.sh installs it")
        pytest.skip(f"{name} is not installed")
    return path


def squeeze(text: str) -> str:
    """Without white space, after NFKC (the agent's full-width ，？ match the seed's ,?)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tool("dot")
    path = tmp_path_factory.mktemp("print") / "all.pdf"
    assert main(["print", "--all", "--format", "pdf", "-o", str(path)]) == 0
    return path


@pytest.mark.subprocess
def test_pdf_text_holds_every_seed_line(pdf: Path) -> None:
    text = squeeze(subprocess.run([tool("pdftotext"), str(pdf), "-"], capture_output=True,
                                  text=True, check=True).stdout)
    text = text.replace("客户经理:", "")  # a seed line may span two printed agent lines
    for line, _seed in SEED_LINES:
        assert squeeze(line) in text, line


@pytest.mark.subprocess
def test_pdf_embeds_a_cjk_font(pdf: Path) -> None:
    fonts = subprocess.run([tool("pdffonts"), str(pdf)], capture_output=True, text=True,
                           check=True).stdout
    cjk = [row for row in fonts.splitlines() if "CJK" in row]
    assert cjk and all(" yes " in row for row in cjk)  # embedded, so no boxes anywhere


@pytest.mark.subprocess
def test_pdf_first_page_renders(pdf: Path, tmp_path: Path) -> None:
    subprocess.run([tool("pdftoppm"), "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    (page,) = tmp_path.glob("page*.png")
    assert page.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and page.stat().st_size > 20_000


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    profile = Path(os.environ.get("TMPDIR", "/tmp")) / f"callscript-chrome-{os.getpid()}"
    return subprocess.run([tool("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-quic", "--no-first-run", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.subprocess
def test_html_in_chromium_shows_the_script(tmp_path: Path) -> None:
    tool("dot")
    page = tmp_path / "script.html"
    page.write_text(to_html([build_script(FLOWS["first_visit"])]), encoding="utf-8")
    shot = tmp_path / "shot.png"
    chromium("--window-size=1000,1400", f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    dom = chromium("--dump-dom", page.as_uri()).stdout
    assert "您好，您是***先生（或女士）吗？" in dom
    assert "§1" in dom and 'href="#first_visit-s' in dom


@pytest.mark.subprocess
def test_a_customer_named_like_a_script_prints_as_text(tmp_path: Path) -> None:
    context = {"customer": {"name": "<script>alert(1)</script>", "title": "女士"}}
    page = tmp_path / "sheet.html"
    page.write_text(to_html([build_script(FLOWS["second_visit"], context)], diagrams=False),
                    encoding="utf-8")
    source = page.read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;女士您好" in source and "<script>" not in source
    dom = chromium("--dump-dom", page.as_uri()).stdout
    assert "<script" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;女士您好" in dom


def test_html_is_self_contained() -> None:
    tool("dot")
    page = to_html([build_script(f) for f in FLOWS.values()])
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "@page" in page and "break-inside: avoid" in page and "break-before: page" in page


def test_generic_script_prints_the_seed_placeholders_and_both_variants() -> None:
    text = to_markdown([build_script(FLOWS["zero_usage"])])
    assert "您的手机从XX月没有使用" in text and "或: 我想了解一下，您的手机从XX月欠费停机了" in text
    first = to_markdown([build_script(FLOWS["first_visit"])])
    assert "> **客户经理:** 您好，您是***先生（或女士）吗？" in first
    assert "电话是XXXXXXX" in first
    assert re.search(r"- 可以 → \[§\d+\]\(#first_visit-s\d+\)", first)  # a link
    assert first.count("**随时可能出现的情况**") == 1  # interruptions listed once per flow
    assert "```mermaid\nflowchart TD" in first


def test_call_sheet_fills_in_the_customer_and_masks_personal_data() -> None:
    sheet = to_markdown([build_script(FLOWS["first_visit"], CUSTOMER)], diagrams=False)
    assert "通话单: 王先生" in sheet and "您好，您是王先生吗？" in sheet
    assert "您是138****5678号客户吗？" in sheet and "13812345678" not in sheet
    assert "电话是10010" in sheet
    shown = to_markdown([build_script(FLOWS["first_visit"], CUSTOMER, show_personal_data=True)])
    assert "您是13812345678号客户吗？" in shown


def test_svg_parses_and_titles_every_step() -> None:
    tool("dot")
    for flow in FLOWS.values():
        svg = to_svg(flow)
        root = ElementTree.fromstring(svg)
        text = " ".join(root.itertext())
        numbers = {sid: n for n, sid in enumerate(call_order(flow), 1)}
        for step in flow.steps:
            assert f"§{numbers[step]} {step_title(flow.steps[step])}" in text, (flow.id, step)


def test_mermaid_and_dot_name_every_step() -> None:
    flow = FLOWS["spending_drop"]
    mermaid, dot = to_mermaid(flow), to_dot(flow)
    for step in flow.steps:
        assert '"§' in mermaid and step.replace(".", "__") in mermaid
        assert f'"{step}"' in dot


@pytest.mark.subprocess
def test_diagram_without_graphviz_says_how_to_install(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))  # a PATH with no dot on it
    result = subprocess.run([sys.executable, "-m", "callscript", "diagram", "first_visit"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "Graphviz's dot was not found; install it with `apt-get install graphviz`" in \
        result.stderr


def test_pdf_without_weasyprint_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if not installed
    assert main(["print", "first_visit", "--format", "pdf", "--no-diagram",
                 "-o", str(tmp_path / "x.pdf")]) == 2
    assert "pip install 'callscript[pdf]'" in capsys.readouterr().err


def test_cli_print_and_diagram_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["print", "second_visit", "--no-diagram"]) == 0
    assert capsys.readouterr().out.startswith("# 二次回访 (second_visit, v2)")
    assert main(["print", "--format", "pdf", "second_visit"]) == 2
    assert "give -o FILE.pdf" in capsys.readouterr().err
    assert main(["diagram", "second_visit", "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.startswith("flowchart TD")
    assert main(["diagram", "second_visit", "--format", "dot", "--main-path"]) == 0
    assert "busy.refused" in capsys.readouterr().out
    context = tmp_path / "c.yaml"
    context.write_text("customer: {name: 赵}\n", encoding="utf-8")
    assert main(["print", "spending_drop", "--context", str(context)]) == 2
    assert "missing context fields: billing.last_month" in capsys.readouterr().err


def pdf_text(pdf: Path, *pages: int) -> str:
    span = [arg for n, flag in zip(pages, ("-f", "-l"), strict=False) for arg in (flag, str(n))]
    return subprocess.run([tool("pdftotext"), *span, "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_pdf_reads_in_call_order_under_titles(pdf: Path) -> None:
    text = pdf_text(pdf)
    flow = FLOWS["first_visit"]
    start = text.index(f"first_visit v{flow.version}")
    drawn = re.search(r"首次回访 \S 主流程", text[start:])  # the first diagram's title
    assert drawn is not None
    body = text[start:start + drawn.start()]
    headings = re.findall(r"^\s*§(\d+) (\S.*)$", body, re.M)
    assert [int(n) for n, _ in headings] == list(range(1, len(flow.steps) + 1))
    for _number, title in headings:  # a title in words, never a step id
        assert not re.fullmatch(r"[A-Za-z0-9_.]+", title.strip()), title
    order = call_order(flow)
    assert order[0] == flow.start and order.index("introduce") < order.index("listen")
    # the flow's own steps first, then each sub-dialogue as a call meets it
    parts = [s.split(".")[0] for s in order if "." in s]
    assert parts.index("identity") < parts.index("in_call") < parts.index("frequency")
    assert "主流程" in body and subdialogue_titles(flow)["identity"] in body
    assert re.search(r"客户接听\S* → 首次回访 §\d+\(第\d+页\)", body)  # names flow and page


def test_pdf_opens_with_a_table_of_contents_and_running_headers(pdf: Path) -> None:
    first = pdf_text(pdf, 1, 2)
    assert first.lstrip().startswith("目录")
    for flow in FLOWS.values():
        assert re.search(rf"{flow.title}\s*\.+\s*\d+", first), flow.title
    identity = subdialogue_titles(FLOWS["first_visit"])["identity"]
    assert re.search(rf"{identity}\s*\.+\s*\d+", first)
    page = pdf_text(pdf, 4, 4)
    assert page.lstrip().startswith("首次回访")  # the running header names the flow
    bookmarks = subprocess.run([tool("pdftohtml"), "-stdout", "-i", "-s", "-xml", str(pdf)],
                               capture_output=True, text=True, check=True).stdout
    outline = bookmarks[bookmarks.index("<outline>"):]
    # nested: flow > part > step
    assert re.search(r">首次回访</item>\s*<outline>\s*<item[^>]*>随时可能出现的情况</item>\s*"
                     r"<item[^>]*>主流程</item>\s*<outline>\s*<item[^>]*>§1 ", outline), outline[:600]


def diagram_text_sizes(pdf: Path, folder: Path) -> list[float]:
    """The size in points of every CJK word of the PDF's diagrams, measured in the PDF: word
    boxes of one font are its size times a fixed ratio, taken from the diagram captions,
    which print at the body's 10.5 pt."""
    boxes = folder / "boxes.html"
    subprocess.run([tool("pdftotext"), "-bbox", str(pdf), str(boxes)], check=True)
    pages = re.findall(r"<page[^>]*>(.*?)</page>", boxes.read_text("utf-8"), re.S)
    word = re.compile(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">'
                      r"(.*?)</word>")
    sizes: list[float] = []
    for page in pages:
        words = [(float(top), float(bottom) - float(top), text)
                 for top, bottom, text in word.findall(page)]
        captions = [h for _, h, text in words if "子流程" in text or "主要通话流程" in text]
        if not captions:
            continue
        per_point = max(captions) / 10.5
        # the diagram's words: CJK, between the running header and the page number
        sizes += [h / per_point for top, h, text in words if 45 < top < 780 and re.search(
            r"[\u4e00-\u9fff]", text) and "子流程" not in text and "主要通话流程" not in text]
    return sizes


def test_pdf_diagram_text_is_at_least_8pt(pdf: Path, tmp_path: Path) -> None:
    sizes = diagram_text_sizes(pdf, tmp_path)
    assert len(sizes) > 200 and min(sizes) >= 8.0


def test_a_wide_flow_is_cut_into_legible_diagrams(tmp_path: Path) -> None:
    tool("dot")
    pdf = tmp_path / "securities.pdf"
    assert main(["print", "marketing", "-L", "securities", "--format", "pdf", "-o", str(pdf)]) == 0
    sizes = diagram_text_sizes(pdf, tmp_path)
    assert len(sizes) > 50 and min(sizes) >= 8.0
    text = pdf_text(pdf)
    assert "主要通话流程 (随时可能出现的情况见上表) 1/" in text  # the main path, in pieces


def test_svg_ids_are_unique_in_one_html_page() -> None:
    tool("dot")
    page = to_html([build_script(f) for f in FLOWS.values()])
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)) and any("-d1-node" in i for i in ids)


def test_answers_say_what_they_record_and_conditions_are_words() -> None:
    text = to_markdown([build_script(FLOWS["first_visit"])], diagrams=False)
    assert re.search(r"→ \[§\d+\]\(#first_visit-s\d+\) · 记录: [^\n]*详细地址", text)
    drop = to_markdown([build_script(FLOWS["spending_drop"])], diagrams=False)
    assert "billing." not in drop and "**适用条件:** 【本月话费】低于【上月话费】" in drop


def test_markdown_of_several_flows_has_a_toc_and_named_references() -> None:
    text = to_markdown([build_script(FLOWS["first_visit"]), build_script(FLOWS["zero_usage"])],
                       diagrams=False)
    assert text.startswith("# 目录\n\n- [首次回访](#first_visit)")
    assert "[首次回访 §2](#first_visit-s2)" in text and '<a id="zero_usage-s1"></a>' in text


def test_purpose_and_reason_print_when_written_for_the_agent(tmp_path: Path) -> None:
    import callscript

    text = ("id: drop_zh\ntitle: 话费下降\npurpose: {purpose}\n"
            "applies_when: billing.this_month < billing.last_month\n"
            "applies_reason: 本月话费不低于上月\n"
            "context:\n  required: [billing.this_month, billing.last_month]\n"
            "start: a\nsteps:\n  a:\n    title: 结束\n    disposition: completed\n")
    chinese, english = tmp_path / "zh.yaml", tmp_path / "en.yaml"
    chinese.write_text(text.format(purpose="询问话费下降的原因"), encoding="utf-8")
    english.write_text(text.replace("drop_zh", "drop_en").format(
        purpose="Ask why the bill fell, and whether the service disappointed"), encoding="utf-8")
    zh = to_markdown([build_script(callscript.load_flows(chinese)["drop_zh"])], diagrams=False)
    assert "询问话费下降的原因" in zh and "**不适用时:** 本月话费不低于上月" in zh
    en = to_markdown([build_script(callscript.load_flows(english)["drop_en"])], diagrams=False)
    assert "Ask why" not in en and "**适用条件:** 【本月话费】低于【上月话费】" in en
