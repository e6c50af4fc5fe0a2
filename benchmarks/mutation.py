"""The core's own mutation run: would the tests notice a small change to the core's code?

    .venv/bin/python -m benchmarks.mutation --per-layer 6             # a quick look
    .venv/bin/python -m benchmarks.mutation --per-layer 40 --seed 20 --json mutation.json
    .venv/bin/python -m benchmarks.mutation --per-layer 40 --seed 20 --rerun mutation.json \
        --json after.json                      # only the survivors again, after new tests

Mutation points are found in the AST of each layer's files (runtime, compiler,
captures, privacy, calendar); ``--per-layer`` of them are drawn per layer with a
fixed seed. Each mutant is written into a temporary copy of ``src/callscript`` (the
worktree is never touched) and the in-process tests run against it in a fresh
process (``-m "not subprocess"``, ``-x``; the planner's tests are left out: the
planner is not a core layer). A fresh process per mutant matters: a runner that
forks after the built-in flows are compiled and cached would hide compiler mutants.

A mutant is killed when the run fails or times out. Operators: comparison swaps
(< and <=, == and !=, in and not in, is and is not), and/or swapped, ``not``
dropped, + and - or * and / swapped, an int constant plus one, True and False
swapped, a call statement or a ``raise`` replaced by ``pass``, a returned value
replaced by None, break and continue swapped. Strings are not mutated (messages are
pinned where they matter, by their own tests), nor annotations. Not part of .ci/run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "callscript"
LAYERS = {
    "runtime": ["turn.py", "state.py", "effects.py", "prompt.py", "snapshot.py", "contextual.py",
                "runtime.py"],
    "compiler": ["compile.py", "compiled.py", "graph.py", "machine.py"],
    "captures": ["captures.py"],
    "privacy": ["privacy.py"],
    "calendar": ["rules/calendar.py"],
}
# Tests most likely to notice a layer's mutants run first, so that -x stops early.
FIRST = {
    "runtime": ["test_turns.py", "test_runtime.py", "test_snapshot.py", "test_snapshot_integrity.py",
                "test_events.py", "test_strict_input.py"],
    "compiler": ["test_flow_errors.py", "test_machine.py", "test_builtin_flows.py",
                 "test_authoring.py"],
    "captures": ["test_capture_values.py", "test_strict_input.py"],
    "privacy": ["test_masking.py", "test_privacy_and_library.py", "test_compliance.py"],
    "calendar": ["test_calendar.py", "test_compliance.py", "test_events.py", "test_record.py"],
}
COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BINARY: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}


@dataclass(frozen=True)
class Mutant:
    layer: str
    file: str  # relative to src/callscript
    line: int
    start: int  # byte offsets of the replaced source
    end: int
    replacement: str
    change: str

    def apply(self, source: bytes) -> bytes:
        return source[:self.start] + self.replacement.encode() + source[self.end:]


class _Finder(ast.NodeVisitor):
    """Mutation points of one file, skipping docstrings, annotations and TYPE_CHECKING blocks."""

    def __init__(self, layer: str, file: str, source: bytes) -> None:
        self.layer, self.file, self.source = layer, file, source
        starts = [0]
        for line in source.split(b"\n"):
            starts.append(starts[-1] + len(line) + 1)
        self.starts = starts
        self.found: list[Mutant] = []

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def add(self, node: ast.AST, replacement: str, change: str) -> None:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        self.found.append(Mutant(self.layer, self.file, node.lineno,  # type: ignore[attr-defined]
                                 start, end, replacement, change))

    def generic_visit(self, node: ast.AST) -> None:
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, ast.AST):
                    self.visit(item)

    def visit_body(self, body: list[ast.stmt]) -> None:
        for i, stmt in enumerate(body):
            docstring = (i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                         and isinstance(stmt.value.value, str))
            if not docstring:
                self.visit(stmt)

    def visit_Module(self, node: ast.Module) -> None:
        self.visit_body(node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.visit(node.args)
        self.visit_body(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.visit_body(node.body)

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return  # f-strings are messages

    def visit_Compare(self, node: ast.Compare) -> None:
        swap = COMPARE.get(type(node.ops[0]))
        if swap is not None:
            new = ast.Compare(node.left, [swap(), *node.ops[1:]], node.comparators)
            self.add(node, f"({ast.unparse(new)})", f"{type(node.ops[0]).__name__} -> "
                                                      f"{swap.__name__}")
        self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        swap = BINARY.get(type(node.op))
        if swap is not None:
            new = ast.BinOp(node.left, swap(), node.right)
            self.add(node, f"({ast.unparse(new)})", f"{type(node.op).__name__} -> {swap.__name__}")
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        swap: ast.boolop = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        self.add(node, f"({ast.unparse(ast.BoolOp(swap, node.values))})",
                 f"{type(node.op).__name__} -> {type(swap).__name__}")
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.add(node, f"({ast.unparse(node.operand)})", "not dropped")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, bool):
            self.add(node, str(not node.value), f"{node.value} -> {not node.value}")
        elif isinstance(node.value, int):
            self.add(node, str(node.value + 1), f"{node.value} -> {node.value + 1}")

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self.add(node, "pass", "call statement removed")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        self.add(node, "pass", "raise removed")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and not (isinstance(node.value, ast.Constant)
                                           and node.value.value is None):
            self.add(node, "return None", "returns None")
        self.generic_visit(node)

    def visit_Break(self, node: ast.Break) -> None:
        self.add(node, "continue", "break -> continue")

    def visit_Continue(self, node: ast.Continue) -> None:
        self.add(node, "break", "continue -> break")


def mutants(layer: str, file: str) -> list[Mutant]:
    source = (PACKAGE / file).read_bytes()
    finder = _Finder(layer, file, source)
    finder.visit(ast.parse(source))
    return finder.found


def sample(per_layer: int, seed: int) -> list[Mutant]:
    rng = random.Random(seed)
    drawn: list[Mutant] = []
    for layer, files in LAYERS.items():
        found = [m for file in files for m in mutants(layer, file)]
        drawn += sorted(rng.sample(found, min(per_layer, len(found))),
                        key=lambda m: (m.file, m.start))
    return drawn


def _tests(layer: str) -> list[str]:
    tests = ROOT / "tests"
    rest = sorted(p.name for p in tests.glob("test_*.py") if not p.name.startswith("test_planner"))
    order = [t for t in FIRST[layer] if t in rest] + [t for t in rest if t not in FIRST[layer]]
    return [f"tests/{t}" for t in order] + ["tests/cases"]


def _run(copy: Path, layer: str, timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1",
           "HYPOTHESIS_PROFILE": "ci"}
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "-m", "not subprocess", *_tests(layer)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    return ("survived" if done.returncode == 0 else "killed"), time.monotonic() - started


def _check_copy(copy: Path) -> None:
    """The tests must import the copy, not the worktree's package."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    where = subprocess.run([sys.executable, "-c", "import callscript; print(callscript.__file__)"],
                           cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    if not where.startswith(str(copy)):
        raise SystemExit(f"the tests would import {where.strip()}, not the mutated copy")


def run(per_layer: int, seed: int, earlier: dict[str, Any] | None = None) -> dict[str, object]:
    """Run the drawn mutants; with ``earlier`` (a report), only its survivors run again."""
    drawn = sample(per_layer, seed)
    results: list[dict[str, object]] = []
    if earlier is not None:
        survived = {(m["file"], m["start"], m["end"], m["replacement"])
                    for m in earlier["mutants"] if m["status"] == "survived"}
        results = [m for m in earlier["mutants"] if m["status"] != "survived"]
        drawn = [m for m in drawn if (m.file, m.start, m.end, m.replacement) in survived]
        if len(drawn) != len(survived):
            raise SystemExit("the source changed since that report: its mutants are not found")
    with tempfile.TemporaryDirectory(prefix="callscript-mutation-") as tmp:
        copy = Path(tmp)
        shutil.copytree(PACKAGE, copy / "callscript", ignore=shutil.ignore_patterns("__pycache__"))
        _check_copy(copy)
        status, baseline = _run(copy, "runtime", timeout=1200)
        if status != "survived":
            raise SystemExit("the in-process tests fail without any mutant: fix them first")
        timeout = 3 * baseline + 60
        print(f"baseline: {baseline:.0f} s; {len(drawn)} mutants; timeout {timeout:.0f} s",
              file=sys.stderr)
        for number, mutant in enumerate(drawn, 1):
            target = copy / "callscript" / mutant.file
            original = target.read_bytes()
            target.write_bytes(mutant.apply(original))
            try:
                status, took = _run(copy, mutant.layer, timeout)
            finally:
                target.write_bytes(original)
            print(f"{number}/{len(drawn)} {status:8} {took:5.1f} s  {mutant.layer}: "
                  f"{mutant.file}:{mutant.line}: {mutant.change}", file=sys.stderr)
            results.append({**asdict(mutant), "status": status, "seconds": round(took, 1)})
    results.sort(key=lambda r: (list(LAYERS).index(str(r["layer"])), str(r["file"]),
                                int(str(r["start"]))))
    return {"seed": seed, "per_layer": per_layer, "baseline_seconds": round(baseline, 1),
            "rerun_of_survivors": earlier is not None,
            "layers": _by_layer(results), "mutants": results}


def _by_layer(results: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for layer in LAYERS:
        mine = [r for r in results if r["layer"] == layer]
        killed = sum(r["status"] != "survived" for r in mine)
        out[layer] = {"mutants": len(mine), "killed": killed,
                      "score": round(100 * killed / len(mine), 1) if mine else None}
    return out


def table(report: dict[str, object]) -> Iterator[str]:
    yield "| layer | mutants | killed | score |"
    yield "| --- | --- | --- | --- |"
    layers = report["layers"]
    assert isinstance(layers, dict)
    for layer, row in layers.items():
        yield f"| {layer} | {row['mutants']} | {row['killed']} | {row['score']} % |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--per-layer", type=int, default=40, help="mutants drawn per layer")
    parser.add_argument("--seed", type=int, default=20, help="seed of the draw")
    parser.add_argument("--json", type=Path, help="write the whole report here")
    parser.add_argument("--list", action="store_true", help="only count the mutation points")
    parser.add_argument("--rerun", type=Path, metavar="REPORT",
                        help="run again only the survivors of this earlier report (same seed "
                             "and --per-layer, same source): after new tests were written")
    args = parser.parse_args()
    if args.list:
        for layer, files in LAYERS.items():
            print(layer, sum(len(mutants(layer, f)) for f in files))
        return
    earlier = json.loads(args.rerun.read_text(encoding="utf-8")) if args.rerun else None
    report = run(args.per_layer, args.seed, earlier)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print("\n".join(table(report)))
    for item in report["mutants"]:  # type: ignore[attr-defined]
        if item["status"] == "survived":
            print(f"survived: {item['layer']}: {item['file']}:{item['line']}: {item['change']}")


if __name__ == "__main__":
    main()
