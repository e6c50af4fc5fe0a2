"""Printed scripts and diagrams, checked on the real artefacts: PDF, HTML in Chromium, SVG."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from callscript import builtin_flows
from callscript.cli import main
from callscript.printing import build_script, to_dot, to_html, to_markdown, to_mermaid, to_svg

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
    return re.sub(r"\s+", "", text)


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
    assert "您好,您是***先生(或女士)吗?" in dom
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
    assert "您的手机从XX月没有使用" in text and "或: 我想了解一下,您的手机从XX月欠费停机了" in text
    first = to_markdown([build_script(FLOWS["first_visit"])])
    assert "> **客户经理:** 您好,您是***先生(或女士)吗?" in first
    assert "电话是XXXXXXX" in first
    assert re.search(r"- 可以 → §\d+", first)
    assert first.count("**随时可能出现的情况**") == 1  # interruptions listed once per flow
    assert "```mermaid\nflowchart TD" in first


def test_call_sheet_fills_in_the_customer_and_masks_personal_data() -> None:
    sheet = to_markdown([build_script(FLOWS["first_visit"], CUSTOMER)], diagrams=False)
    assert "通话单: 王先生" in sheet and "您好,您是王先生吗?" in sheet
    assert "您是138****5678号客户吗?" in sheet and "13812345678" not in sheet
    assert "电话是10010" in sheet
    shown = to_markdown([build_script(FLOWS["first_visit"], CUSTOMER, show_personal_data=True)])
    assert "您是13812345678号客户吗?" in shown


def test_svg_parses_and_names_every_step() -> None:
    tool("dot")
    for flow in FLOWS.values():
        svg = to_svg(flow)
        root = ElementTree.fromstring(svg)
        text = " ".join(root.itertext())
        for step in flow.steps:
            assert step in text, (flow.id, step)


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
    assert capsys.readouterr().out.startswith("# 二次回访 (second_visit, v1)")
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
