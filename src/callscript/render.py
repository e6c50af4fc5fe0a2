"""The Jinja2 sandbox: compile agent lines and guards once, and say what they read.

Lines are plain text (not HTML), so nothing is escaped here; printing escapes
for its own formats. Context values are passed as data, so a customer named
``{{ 7*7 }}`` is printed as written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.parser import Parser
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import consume

from callscript.context import PLAIN_FIELDS


class _Sandbox(ImmutableSandboxedEnvironment):
    def getattr(self, obj: Any, attribute: str) -> Any:
        # The fields of a context part are plain data (str, int, Decimal, date, None):
        # they pass the sandbox's per-access checks by construction, so skip them.
        plain = getattr(type(obj), PLAIN_FIELDS, None)
        if plain is not None and attribute in plain:
            try:
                return obj.__dict__[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


ENV = _Sandbox(
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


class TemplateProblem(Exception):
    """A template cannot be used; ``line`` is relative to the template (1-based)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True, slots=True)
class Reads:
    """What a template or guard reads: dotted paths, each with its template line."""

    paths: dict[str, int]


def dotted(node: nodes.Node) -> str | None:
    """``customer.name`` for Getattr(Name('customer'), 'name'), else None."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = dotted(node.node)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        inner = dotted(node.node)
        return f"{inner}.{node.arg.value}" if inner and isinstance(node.arg.value, str) else None
    return None


def _free_names(ast: nodes.Template) -> set[str]:
    """Names read but never assigned in the template ({% set %}, {% for %} targets).

    jinja2.meta.find_undeclared_variables does this by running a code generator,
    which costs as much as compiling the template again.
    """
    assigned = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    return {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"} - assigned


def analyse(ast: nodes.Template) -> Reads:
    """Collect the context paths a parsed template reads; refuse private attributes."""
    free = _free_names(ast)
    paths: dict[str, int] = {}
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        attr: object = node.attr if isinstance(node, nodes.Getattr) else None
        if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        if isinstance(attr, str) and attr.startswith("_"):
            raise TemplateProblem(f"reaches for the private attribute {attr!r}", node.lineno)
        path = dotted(node)
        if path is not None and path.split(".", 1)[0] in free:
            paths.setdefault(path, node.lineno)
    # keep only the longest chains: customer.name, not customer
    return Reads({path: line for path, line in paths.items()
                  if not any(other.startswith(path + ".") for other in paths)})


def has_template_syntax(source: str) -> bool:
    return any(mark in source for mark in ("{{", "{%", "{#"))


class LazyTemplate:
    """A template generated into Python source at once, turned into code on first use.

    Jinja2 raises every compile-time error (an unknown filter, …) while generating the
    source, so a flow still refuses them when it is compiled; loading flows only to
    check, print or plan them skips Python's compile() of each line.
    """

    __slots__ = ("_python", "_template")

    def __init__(self, ast: nodes.Template) -> None:
        self._python: str = ENV.compile(ast, raw=True)
        self._template: Template | None = None

    def get(self) -> Template:
        """The template (what ``ENV.from_string`` returns), compiled once. Two threads may
        both compile it; one is kept."""
        template = self._template
        if template is None:
            code = compile(self._python, "<template>", "exec")
            template = ENV.template_class.from_code(ENV, code, ENV.make_globals(None), None)
            self._template = template
        return template


@cache  # shared sub-dialogues are compiled into every flow: parse each line once
def parse_line(source: str) -> tuple[LazyTemplate, Reads]:
    try:
        ast = ENV.parse(source)
        reads = analyse(ast)
        return LazyTemplate(ast), reads
    except TemplateSyntaxError as err:
        raise TemplateProblem(f"Jinja2 syntax: {err.message}", err.lineno) from None


class Expression:
    """A compiled guard: ``evaluate(**variables)`` is the expression's value.

    Like jinja2's TemplateExpression (undefined_to_none=False), without copying the
    environment's globals into every evaluation: the compiler refuses any name that is
    not a context part or ``captured``, so a guard never reads a global.
    """

    __slots__ = ("_template",)

    def __init__(self, template: LazyTemplate) -> None:
        self._template = template

    def __call__(self, **variables: Any) -> Any:
        template = self._template.get()
        context = _context(template, variables)
        consume(template.root_render_func(context))
        return context.vars["result"]


def _expression(source: str) -> nodes.Template:
    """What ENV.compile_expression(source) compiles: ``{% set result = (source) %}``."""
    parser = Parser(ENV, source, state="variable")
    try:
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno,
                                      None, None)
    except TemplateSyntaxError:
        ENV.handle_exception(source=source)
    expr.set_environment(ENV)
    return nodes.Template([nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)], lineno=1)


@cache
def parse_guard(source: str) -> tuple[Callable[..., Any], Reads]:
    try:
        ast = ENV.parse("{{ (" + source + ") }}")
        reads = analyse(ast)
        return Expression(LazyTemplate(_expression(source))), reads
    except TemplateSyntaxError as err:
        raise TemplateProblem(f"Jinja2 expression syntax: {err.message}", err.lineno) from None


def _context(template: Template, variables: dict[str, Any]) -> Context:
    """What Template.new_context(variables, shared=True) builds, without collecting the
    names of the globals (a template here reads its variables only)."""
    return Context(template.environment, variables, template.name, template.blocks)


def render(template: Template | LazyTemplate, variables: Mapping[str, Any]) -> str:
    """Render without Template.render's per-call copying of globals."""
    if isinstance(template, LazyTemplate):
        template = template.get()
    context = _context(template, variables if type(variables) is dict else dict(variables))
    return "".join(template.root_render_func(context))
