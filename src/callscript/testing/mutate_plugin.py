"""``pytest --callscript-mutate``: after the run, mutate every flow whose cases were collected.

Each flow is mutated once (callscript.testing.mutate) against all its collected
``*.cases.yaml`` files; the terminal summary gives the score and every survivor.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from callscript.library import FlowLibrary
from callscript.testing.cases import CaseFile
from callscript.testing.mutate import MutationReport, mutate


class MutatePlugin:
    def __init__(self, config: pytest.Config) -> None:
        self.fail_under: float | None = config.getoption("callscript_mutate_fail_under")
        self.files: dict[str, tuple[Sequence[FlowLibrary], list[CaseFile]]] = {}
        self.reports: list[MutationReport] = []
        self.errors: list[str] = []

    def add(self, libraries: Sequence[FlowLibrary], path: Path) -> None:
        """A collected cases file, with the libraries its flow was loaded from."""
        cases = CaseFile.read(path)
        known = self.files.setdefault(cases.flow, (libraries, []))
        known[1].append(cases)

    def below(self, report: MutationReport) -> bool:
        return self.fail_under is not None and report.score < self.fail_under

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for flow_id, (libraries, cases) in sorted(self.files.items()):
            try:
                self.reports.append(mutate(libraries, flow_id, cases))
            except ValueError as err:  # the cases fail on the flow as written
                self.errors.append(str(err))
        if self.errors or any(self.below(r) for r in self.reports):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "callscript flow mutation")
        for report in self.reports:
            terminalreporter.write(report.to_text())
            if self.below(report):
                terminalreporter.write_line(
                    f"FAIL Required flow mutation score of {self.fail_under:g}% not reached "
                    f"by {report.flow}: {report.score:.1f}%", red=True)
        for error in self.errors:
            terminalreporter.write_line(f"not mutated: {error}", red=True)
