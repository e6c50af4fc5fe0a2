"""pytest plugin (registered by entry point): flow coverage and path-cover test cases.

    pytest --callscript-cov                              # table of flow coverage at the end
    pytest --callscript-cov-report=html:flowcov.html --callscript-cov-report=json:flowcov.json
    pytest --callscript-cov-fail-under=90                # fail the run under 90 %
    pytest --callscript-mutate                           # mutation score of each flow's cases

Files named ``*.cases.yaml`` (written by ``callscript cover``) are collected: each
case replays its moves and checks the steps visited and the outcome. The flow is
the built-in telecom library's, or its ``library:`` (a built-in name or a folder
relative to the file), with its ``flow_file:`` added.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from callscript.testing.cases import CASES_SUFFIX, CaseFailed

__all__ = ["CASES_SUFFIX", "CaseFailed", "CaseItem", "CasesFile"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("callscript", "callscript flow coverage")
    group.addoption("--callscript-cov", action="store_true", default=False,
                    help="measure flow coverage of every call the tests make")
    group.addoption("--callscript-cov-report", action="append", default=[],
                    metavar="TYPE[:PATH]",
                    help="term (default), json:PATH or html:PATH; may be repeated")
    group.addoption("--callscript-cov-fail-under", type=float, default=None, metavar="PERCENT",
                    help="fail the run if total flow coverage is below PERCENT")
    group.addoption("--callscript-mutate", action="store_true", default=False,
                    help="mutate every flow with *.cases.yaml collected; report which "
                         "mutants its cases and the property checks do not notice")
    group.addoption("--callscript-mutate-fail-under", type=float, default=None,
                    metavar="PERCENT", help="fail the run if a flow's mutation score is below "
                                            "PERCENT")


def pytest_configure(config: pytest.Config) -> None:
    wanted = (config.getoption("callscript_cov") or config.getoption("callscript_cov_report")
              or config.getoption("callscript_cov_fail_under") is not None)
    if wanted:
        config.pluginmanager.register(_CoveragePlugin(config), "callscript-coverage")
    if (config.getoption("callscript_mutate")
            or config.getoption("callscript_mutate_fail_under") is not None):
        from callscript.testing.mutate_plugin import MutatePlugin

        config.pluginmanager.register(MutatePlugin(config), "callscript-mutate")


class _CoveragePlugin:
    def __init__(self, config: pytest.Config) -> None:
        from callscript.testing.coverage import Coverage

        self.config = config
        self.coverage = Coverage()
        self._collecting = self.coverage.collecting()
        self._collecting.__enter__()
        self.percent = 100.0
        self.fail_under: float | None = config.getoption("callscript_cov_fail_under")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._collecting.__exit__(None, None, None)
        self.percent = self.coverage.percent()
        for report in self.config.getoption("callscript_cov_report"):
            kind, _, path = report.partition(":")
            if kind == "json" and path:
                import json

                Path(path).write_text(json.dumps(self.coverage.to_json(), ensure_ascii=False,
                                                 indent=2), encoding="utf-8")
            elif kind == "html" and path:
                Path(path).write_text(self.coverage.to_html(), encoding="utf-8")
            elif kind != "term":
                raise pytest.UsageError(f"--callscript-cov-report: unknown report {report!r}; "
                                        "use term, json:PATH or html:PATH")
        if self.fail_under is not None and self.percent < self.fail_under:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("-", "callscript flow coverage")
        terminalreporter.write(self.coverage.to_text(show_missed=False))
        if self.fail_under is not None and self.percent < self.fail_under:
            terminalreporter.write_line(
                f"FAIL Required flow coverage of {self.fail_under:g}% not reached. "
                f"Total flow coverage: {self.percent:.2f}%", red=True)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.File | None:
    if file_path.name.endswith(CASES_SUFFIX):
        cases: pytest.File = CasesFile.from_parent(parent, path=file_path)
        return cases
    return None


class CasesFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from callscript.library import all_flows, builtin_names, load_libraries

        data = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        flow_file = data.get("flow_file")
        library = data.get("library")
        folders = [] if library is None else [
            library if library in builtin_names() else self.path.parent / library]
        # flow_files: every file the flow needs (its own and the sub-dialogues it includes)
        names = data.get("flow_files") or ([flow_file] if flow_file else [])
        files = [self.path.parent / name for name in names]
        libraries = load_libraries(folders, files)
        flows = all_flows(libraries)
        flow = flows[data["flow"]]
        mutation = self.config.pluginmanager.get_plugin("callscript-mutate")
        if mutation is not None:
            mutation.add(libraries, self.path)
        for case in data["cases"]:
            yield CaseItem.from_parent(self, name=case["name"], flow=flow,
                                       version=data["version"], context=data["context"],
                                       case=case)


class CaseItem(pytest.Item):
    def __init__(self, *, flow: Any, version: int, context: dict[str, Any],
                 case: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow, self.version, self.context, self.case = flow, version, context, case

    def runtest(self) -> None:
        from callscript.testing.cases import run_case

        run_case(self.flow, self.version, self.context, self.case)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, CaseFailed):
            return f"{self.path}: {self.name}: {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
