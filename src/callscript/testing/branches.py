"""The arms of ``{% if %}`` blocks in a line, and which arm a rendering takes.

Lines are compiled once, unchanged, for production; coverage re-reads their
source here and evaluates the If tests with the same variables, so measuring
coverage never changes what a call says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from jinja2 import Template, nodes

from callscript.render import ENV


@dataclass(frozen=True, slots=True)
class Arm:
    """One arm: the ``index``-th of the If at ``branch`` (a path of If positions)."""

    branch: tuple[int, ...]
    index: int
    line: int  # line inside the template (1-based)
    label: str  # "if x", "elif y", "else" (or "(no else)")


@dataclass(frozen=True, slots=True)
class _If:
    position: tuple[int, ...]
    tests: tuple[Template, ...]  # the if test, then each elif test
    arm_lines: tuple[int, ...]
    arm_bodies: tuple[tuple[nodes.Node, ...], ...]  # one more than tests: the else arm
    labels: tuple[str, ...]


def _truth(test: nodes.Expr) -> Template:
    body = nodes.Output([nodes.CondExpr(test, nodes.Const("1"), nodes.Const(""))])
    return ENV.from_string(nodes.Template([body]))


def _ifs_in(body: Iterator[nodes.Node] | tuple[nodes.Node, ...], prefix: tuple[int, ...],
            source: str) -> list[_If]:
    found: list[_If] = []
    for node in body:
        if isinstance(node, nodes.If):
            position = (*prefix, len(found))
            chain = [node, *node.elif_]
            labels = tuple(f"{'if' if i == 0 else 'elif'} {unparse(branch.test)}"
                           for i, branch in enumerate(chain))
            else_line = node.else_[0].lineno if node.else_ else chain[-1].lineno
            found.append(_If(
                position, tuple(_truth(cast(nodes.Expr, b.test)) for b in chain),
                (*(b.lineno for b in chain), else_line),
                (*(tuple(b.body) for b in chain), tuple(node.else_)),
                (*labels, "else" if node.else_ else "(no else)"),
            ))
    return found


_OPERATORS = {"eq": "==", "ne": "!=", "gt": ">", "gteq": ">=", "lt": "<", "lteq": "<=",
              "in": "in", "notin": "not in"}


def unparse(node: nodes.Node) -> str:
    """A readable form of a test expression, for reports."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{unparse(node.node)}.{node.attr}"
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Not):
        return f"not {unparse(node.node)}"
    if isinstance(node, nodes.And | nodes.Or):
        word = "and" if isinstance(node, nodes.And) else "or"
        return f"{unparse(node.left)} {word} {unparse(node.right)}"
    if isinstance(node, nodes.Compare):
        parts = [unparse(node.expr)]
        parts += [f"{_OPERATORS.get(op.op, op.op)} {unparse(op.expr)}" for op in node.ops]
        return " ".join(parts)
    if isinstance(node, nodes.Test):
        return f"{unparse(node.node)} is {node.name}"
    return "…"


@cache
def _top_ifs(source: str) -> tuple[_If, ...]:
    return tuple(_ifs_in(iter(ENV.parse(source).body), (), source))


def arms(source: str) -> list[Arm]:
    """Every arm of every If in the line, nested ones included."""
    out: list[Arm] = []

    def visit(ifs: tuple[_If, ...] | list[_If]) -> None:
        for block in ifs:
            for index, line in enumerate(block.arm_lines):
                out.append(Arm(block.position, index, line, block.labels[index]))
                visit(_ifs_in(block.arm_bodies[index], (*block.position, index), source))

    visit(_top_ifs(source))
    return out


def taken(source: str, variables: Mapping[str, Any]) -> list[Arm]:
    """The arms a rendering of the line with ``variables`` takes."""
    out: list[Arm] = []
    all_arms = {(a.branch, a.index): a for a in arms(source)}

    def visit(ifs: tuple[_If, ...] | list[_If]) -> None:
        for block in ifs:
            index = len(block.tests)  # the else arm unless a test is true
            for i, test in enumerate(block.tests):
                if test.render(**variables) == "1":
                    index = i
                    break
            out.append(all_arms[(block.position, index)])
            visit(_ifs_in(block.arm_bodies[index], (*block.position, index), source))

    visit(_top_ifs(source))
    return out
