"""Mutation testing of a flow: would the author's tests notice a broken flow?

Every mutant of the flow's file and of the sub-dialogues of its own library it
includes (callscript.testing.mutants) is compiled and run
against the author's path-cover cases (``*.cases.yaml``, replayed as the pytest
plugin does) and then the property checks (``check_flow`` with a few calls). A
mutant is *killed* when a case goes elsewhere or crashes, or a property breaks that
held for the flow as written; it *survives* when nothing noticed. Mutants the
compiler refuses are counted apart: the compiler caught them, not the tests.

    report = mutate(load_libraries(["my_library"]), "my_flow", list(case_files(Path("tests"))))
    print(report.to_text())
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscript.compile import Flow, compile_flow
from callscript.errors import FlowError
from callscript.library import FlowLibrary
from callscript.loader import LoadedSpec
from callscript.testing.cases import CaseFile, first_failure
from callscript.testing.mutants import Mutant, flow_mutants
from callscript.testing.properties import Violation, check_flow

Key = tuple[str, str, int | None, str]


@dataclass
class MutationReport:
    flow: str
    killed: list[tuple[Mutant, str]] = field(default_factory=list)  # with what noticed it
    survivors: list[Mutant] = field(default_factory=list)
    refused: list[Mutant] = field(default_factory=list)  # the compiler refused them
    equivalent: list[Mutant] = field(default_factory=list)  # compiled to the same flow
    generated: int = 0  # before sampling

    @property
    def mutants(self) -> int:
        """The mutants run against the tests (compiled ones)."""
        return len(self.killed) + len(self.survivors)

    @property
    def score(self) -> float:
        return 100.0 * len(self.killed) / self.mutants if self.mutants else 100.0

    def to_json(self) -> dict[str, Any]:
        return {"flow": self.flow, "mutants": self.mutants, "killed": len(self.killed),
                "score": round(self.score, 1), "refused_by_compiler": len(self.refused),
                "equivalent": len(self.equivalent),
                "survivors": [m.to_json() for m in self.survivors]}

    def to_text(self) -> str:
        lines = [f"{self.flow}: {len(self.killed)} of {self.mutants} mutants killed "
                 f"({self.score:.1f} %); {len(self.refused)} more refused by the compiler"
                 + (f", {len(self.equivalent)} compiled to the same flow" if self.equivalent
                    else "")]
        lines += [f"survived: {m}" for m in self.survivors]
        return "\n".join(lines) + "\n"


def _key(violation: Violation) -> Key:
    # the count of calls in coverage messages varies with the path cover: not a difference
    return (violation.prop, violation.file, violation.line,
            violation.message.split(" was never reached")[0])


def _library_of(libraries: Sequence[FlowLibrary], flow_id: str) -> FlowLibrary:
    for library in libraries:
        loaded = library.specs.get(flow_id)
        if loaded is not None and loaded.spec.kind == "flow":
            return library
    known = sorted(f for lib in libraries for f in lib.flow_ids)
    raise KeyError(f"unknown flow {flow_id!r}; known flows: {', '.join(known) or 'none'}")


def mutate(libraries: Sequence[FlowLibrary], flow_id: str, cases: Sequence[CaseFile], *,
           calls: int = 10, seed: int = 0, sample: int | None = None,
           progress: Callable[[int, int], None] | None = None) -> MutationReport:
    """Run every mutant of ``flow_id`` (or a seeded ``sample`` of them) against ``cases``.

    Raises ValueError when no case is for the flow or the cases fail on the flow as
    written (regenerate them first): a mutation score over failing tests means nothing.
    """
    library = _library_of(libraries, flow_id)
    flow = library.flow(flow_id)
    mine = [c for c in cases if c.flow == flow_id]
    if not mine:
        raise ValueError(f"no *.cases.yaml for flow {flow_id!r}; write them with callscript cover")
    failure = first_failure(flow, mine)
    if failure is not None:
        raise ValueError(f"the cases fail on {flow_id} as written ({failure}); regenerate them "
                         "with callscript cover before measuring mutants")
    baseline = {_key(v) for v in check_flow(flow, calls=calls, seed=seed)}
    mutants = mutants_of(library, flow)
    original = _shape(flow)
    report = MutationReport(flow_id, generated=len(mutants))
    if sample is not None and sample < len(mutants):
        mutants = sorted(random.Random(seed).sample(mutants, sample),
                         key=lambda m: (m.line or 0, m.where, m.kind))
    for done, mutant in enumerate(mutants):
        if progress is not None:
            progress(done, len(mutants))
        compiled = _compile(mutant, library, flow_id)
        if compiled is None:
            report.refused.append(mutant)
            continue
        if _shape(compiled) == original:  # e.g. a field another file requires too
            report.equivalent.append(mutant)
            continue
        noticed = first_failure(compiled, mine) or _properties(compiled, baseline, calls, seed)
        if noticed is None:
            report.survivors.append(mutant)
        else:
            report.killed.append((mutant, noticed))
    return report


def mutants_of(library: FlowLibrary, flow: Flow) -> list[Mutant]:
    """Every mutant of the flow's file and of the steps it reaches in its library's
    sub-dialogues."""
    return [m for spec in _own_files(library, flow)
            for m in flow_mutants(spec, list(library.dispositions), _reached(flow, spec))]


def _own_files(library: FlowLibrary, flow: Flow) -> list[LoadedSpec]:
    """The flow's file, then the sub-dialogues of its own library it includes, in file order
    (those of other libraries are theirs to test)."""
    own = [s for s in library.specs.values() if s.source.file in flow.files]
    return sorted(own, key=lambda s: (s.spec.id != flow.id, s.source.file))


def _reached(flow: Flow, spec: LoadedSpec) -> set[str] | None:
    """The steps of a sub-dialogue file that the flow compiled in (None: the flow's own file)."""
    if spec.spec.id == flow.id:
        return None
    head = f"{spec.spec.id}."
    return {s.removeprefix(head) for s in flow.steps if s.startswith(head)}


def _shape(flow: Flow) -> tuple[object, ...]:
    """What a call of the flow can see of it: steps, words, answers, effects, requirements."""
    steps = tuple(
        (s.id, tuple(x.source for x in (*s.lines, *s.notes, *s.return_lines)), s.effects,
         s.disposition, s.marks, s.interruptible, s.customer_hangs_up_first,
         tuple((a.id, a.target, a.return_to, a.guard.source if a.guard else None, a.captures,
                a.effects) for a in s.answers.values()))
        for s in flow.steps.values())
    return (flow.start, steps, tuple(sorted(flow.interruptions)), flow.required_context,
            flow.optional_context, flow.milestones,
            flow.applies_when.source if flow.applies_when else None)


def _compile(mutant: Mutant, library: FlowLibrary, flow_id: str) -> Flow | None:
    try:
        changed = mutant.loaded(library.specs[mutant.spec_id])
        files = {**library.includable(), mutant.spec_id: changed}
        return compile_flow(files[flow_id], files, library.forbidden, schema=library.schema,
                            dispositions=library.dispositions, library_name=library.name)
    except (FlowError, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def _properties(flow: Flow, baseline: set[Key], calls: int, seed: int) -> str | None:
    try:
        found = check_flow(flow, calls=calls, seed=seed)
    except Exception as err:  # a mutant may crash the exploration itself
        return f"properties: {type(err).__name__}"
    new = [v for v in found if _key(v) not in baseline]
    return f"property {new[0].prop}: {new[0].message}" if new else None
