"""Printed scripts and diagrams from the same compiled flows the software runs."""

from callscript.printing.diagram import GraphvizMissing, to_dot, to_mermaid, to_svg
from callscript.printing.render import to_html, to_markdown, to_pdf
from callscript.printing.script import Script, build_script

__all__ = ["GraphvizMissing", "Script", "build_script", "to_dot", "to_html", "to_markdown",
           "to_mermaid", "to_pdf", "to_svg"]
