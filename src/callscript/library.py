"""Flow libraries: a folder of flows and sub-dialogues with its context schema and dispositions.

A library folder holds flow files, ``context.yaml`` (the schema), ``dispositions.yaml``
and, for the planner, ``policy.yaml``. The built-in libraries ship in
``callscript/libraries/<name>/``; a folder without ``context.yaml`` or
``dispositions.yaml`` uses the built-in telecom library's. A flow may include
sub-dialogues of its own library first, then of the other loaded libraries, then
of the built-in telecom library.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from callscript.compile import Flow, compile_flow
from callscript.context import ContextFileSpec, ContextSchema
from callscript.dispositions import Disposition, DispositionsFileSpec
from callscript.errors import FlowError, Problem
from callscript.loader import LoadedSpec, SourceMap, index_specs, load_model, load_text
from callscript.rules.wording import DEFAULT_FORBIDDEN

DEFAULT_LIBRARY = "telecom"
RESERVED_FILES = ("context.yaml", "dispositions.yaml", "policy.yaml")


class FlowLibrary:
    """Flow and sub-dialogue files by id, with their schema and dispositions.

    Flows are compiled on first use, once. ``extra_forbidden`` adds a deployment's own
    forbidden phrases to 你 and 不知道.
    """

    def __init__(self, specs: Iterable[LoadedSpec], schema: ContextSchema | None = None,
                 dispositions: Mapping[str, Disposition] | None = None, *,
                 name: str = "", folder: str | None = None,
                 extra_forbidden: Iterable[str] = (),
                 fallback: Mapping[str, LoadedSpec] | None = None) -> None:
        self.name = name
        self.folder = folder
        self.specs = index_specs(specs)
        if schema is None or dispositions is None:
            base = builtin_library(DEFAULT_LIBRARY)
            schema = schema or base.schema
            dispositions = dispositions if dispositions is not None else base.dispositions
        self.schema: ContextSchema = schema
        self.dispositions: Mapping[str, Disposition] = dispositions
        self.forbidden = (*DEFAULT_FORBIDDEN, *extra_forbidden)
        self.fallback: Mapping[str, LoadedSpec] = fallback or {}
        self._compiled: dict[str, Flow] = {}
        self._all: dict[str, Flow] | None = None  # every flow, once all compiled (specs are fixed)
        self._lock = threading.Lock()

    @property
    def flow_ids(self) -> list[str]:
        return sorted(i for i, s in self.specs.items() if s.spec.kind == "flow")

    @property
    def policy_file(self) -> Path | None:
        """The planner's policy of this library, if it has one."""
        if self.folder is None:
            return None
        path = Path(self.folder) / "policy.yaml"
        return path if path.is_file() else None

    def includable(self) -> dict[str, LoadedSpec]:
        """Every file a flow of this library may include: its own first."""
        return {**self.fallback, **self.specs}

    def flow(self, flow_id: str) -> Flow:
        compiled = self._compiled.get(flow_id)
        if compiled is not None:
            return compiled
        loaded = self.specs.get(flow_id)
        if loaded is None or loaded.spec.kind != "flow":
            known = ", ".join(self.flow_ids) or "none"
            raise KeyError(f"unknown flow {flow_id!r}; known flows: {known}")
        with self._lock:  # concurrent first use compiles once
            if flow_id not in self._compiled:
                self._compiled[flow_id] = compile_flow(
                    loaded, self.includable(), self.forbidden, schema=self.schema,
                    dispositions=self.dispositions, library_name=self.name)
        return self._compiled[flow_id]

    def check_subdialogue(self, sub_id: str) -> None:
        """Compile a sub-dialogue on its own, to check it as a file."""
        compile_flow(self.specs[sub_id], self.includable(), self.forbidden, standalone=True,
                     schema=self.schema, dispositions=self.dispositions, library_name=self.name)

    def compile_all(self) -> dict[str, Flow]:
        """Every flow, compiled; all problems of all files in one FlowError."""
        if self._all is not None:  # hosts ask for every call (builtin_flows()[...]): a copy
            return dict(self._all)
        problems: list[Problem] = []
        flows = {}
        for flow_id in self.flow_ids:
            try:
                flows[flow_id] = self.flow(flow_id)
            except FlowError as err:
                problems.extend(p for p in err.problems if p not in problems)
        if problems:
            raise FlowError(problems)
        self._all = flows
        return dict(flows)

    def __repr__(self) -> str:
        return f"<FlowLibrary {self.name or self.folder}: {len(self.flow_ids)} flows>"


# -- reading a folder ------------------------------------------------------------

def _entries(folder: Traversable | Path) -> list[Traversable | Path]:
    return sorted((e for e in folder.iterdir() if e.name.endswith((".yaml", ".yml"))),
                  key=lambda e: e.name)


def _read(entry: Traversable | Path) -> str:
    try:
        return entry.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FlowError([Problem(str(entry), None, "not UTF-8 text; convert it, e.g. with "
                                                   "iconv -f GBK -t UTF-8")]) from None


def _reused(source: SourceMap, key: str, items: Mapping[str, Any],
            take: Callable[[str, str], Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Items of a library file, those written ``{from: LIBRARY}`` taken from that built-in one."""
    out: dict[str, Any] = {}
    problems = []
    for name, item in items.items():
        if item.from_ is None:
            out[name] = item
            continue
        try:
            out[name] = take(item.from_, name)
        except (KeyError, FlowError):
            problems.append(source.problem((key, name, "from"),
                                           f"no built-in library {item.from_!r} with {key} "
                                           f"{name!r}; built-in: {', '.join(builtin_names())}"))
    return out, problems


def _schema(entry: Traversable | Path, label: str, name: str) -> ContextSchema:
    spec, source = load_model(_read(entry), label, ContextFileSpec)
    parts, problems = _reused(source, "parts", spec.parts,
                              lambda library, part: builtin_library(library).schema.parts[part])
    if problems:
        raise FlowError(problems)
    return ContextSchema(parts, name=name, file=label)


def _dispositions(entry: Traversable | Path, label: str) -> dict[str, Disposition]:
    spec, source = load_model(_read(entry), label, DispositionsFileSpec)
    found, problems = _reused(source, "dispositions", spec.dispositions,
                              lambda library, item: builtin_library(library).dispositions[item])
    if problems:
        raise FlowError(problems)
    return {key: value if isinstance(value, Disposition) else Disposition.from_spec(key, value)
            for key, value in found.items()}


def _load_folder(folder: Traversable | Path, label: str, name: str,
                 extra_forbidden: Iterable[str] = (),
                 fallback: Mapping[str, LoadedSpec] | None = None,
                 extra_files: Sequence[LoadedSpec] = ()) -> FlowLibrary:
    problems: list[Problem] = []
    specs: list[LoadedSpec] = []
    schema: ContextSchema | None = None
    dispositions: dict[str, Disposition] | None = None
    for entry in _entries(folder):
        file = f"{label}/{entry.name}"
        try:
            if entry.name == "context.yaml":
                schema = _schema(entry, file, name)
            elif entry.name == "dispositions.yaml":
                dispositions = _dispositions(entry, file)
            elif entry.name not in RESERVED_FILES:
                specs.append(load_text(_read(entry), file))
        except FlowError as err:
            problems.extend(err.problems)
    if problems:
        raise FlowError(problems)
    replaced = {s.spec.id for s in extra_files}
    specs = [s for s in specs if s.spec.id not in replaced] + list(extra_files)
    return FlowLibrary(specs, schema, dispositions, name=name,
                       folder=str(folder) if isinstance(folder, Path) else None,
                       extra_forbidden=extra_forbidden, fallback=fallback)


def builtin_names() -> list[str]:
    root = resources.files("callscript") / "libraries"
    return sorted(e.name for e in root.iterdir() if e.is_dir() and not e.name.startswith("_"))


_builtin_lock = threading.RLock()  # a library's context.yaml may reuse another's parts


@cache
def _builtin(name: str, extra_forbidden: tuple[str, ...]) -> FlowLibrary:
    if name not in builtin_names():
        raise KeyError(f"unknown library {name!r}; built-in: {', '.join(builtin_names())}")
    folder = resources.files("callscript") / "libraries" / name
    fallback = {} if name == DEFAULT_LIBRARY else _builtin(DEFAULT_LIBRARY, ()).specs
    return _load_folder(folder, f"callscript/libraries/{name}", name, extra_forbidden, fallback)


def builtin_library(name: str = DEFAULT_LIBRARY, extra_forbidden: Iterable[str] = ()) -> FlowLibrary:
    """A built-in library (``telecom``, …), read once per process."""
    with _builtin_lock:  # cache is not a lock: concurrent first use would read twice
        return _builtin(name, tuple(extra_forbidden))


def builtin_flows(extra_forbidden: Iterable[str] = ()) -> dict[str, Flow]:
    """The flows of the built-in telecom library, compiled once per process.

    ``extra_forbidden``: a deployment's own forbidden phrases, checked in every agent line.
    """
    return builtin_library(DEFAULT_LIBRARY, extra_forbidden).compile_all()


def load_library(folder: str | Path, extra_forbidden: Iterable[str] = (), *,
                 fallback: Mapping[str, LoadedSpec] | None = None) -> FlowLibrary:
    """A library folder (or the name of a built-in library)."""
    if isinstance(folder, str) and folder in builtin_names() and not Path(folder).is_dir():
        return builtin_library(folder, extra_forbidden)
    path = Path(folder)
    if not path.is_dir():
        raise FlowError([Problem(str(path), None, "no such library folder (built-in libraries: "
                                                  f"{', '.join(builtin_names())})")])
    base = builtin_library(DEFAULT_LIBRARY).specs
    return _load_folder(path, str(path), path.name, extra_forbidden,
                        {**base, **(fallback or {})})


def load_libraries(folders: Sequence[str | Path] = (), files: Sequence[str | Path] = (),
                   extra_forbidden: Iterable[str] = ()) -> list[FlowLibrary]:
    """The libraries named by ``-L`` (the built-in telecom one when none is), with the files
    given by ``-f`` added to the first. Flow ids must be unique across them."""
    from callscript.loader import load_file

    problems: list[Problem] = []
    user: list[LoadedSpec] = []
    for file in files:
        try:
            user.append(load_file(file))
        except FlowError as err:
            problems.extend(err.problems)
    if problems:
        raise FlowError(problems)
    index_specs(user)  # refuses an id used by two of the files
    libraries: list[FlowLibrary] = []
    shared: dict[str, LoadedSpec] = {}
    for folder in folders or [DEFAULT_LIBRARY]:
        library = load_library(folder, extra_forbidden, fallback=shared)
        libraries.append(library)
        shared = {**shared, **library.specs}
    first = libraries[0]
    if user:
        kept = [s for s in first.specs.values() if s.spec.id not in {u.spec.id for u in user}]
        libraries[0] = FlowLibrary([*kept, *user], first.schema, first.dispositions,
                                   name=first.name, folder=first.folder,
                                   extra_forbidden=extra_forbidden, fallback=first.fallback)
    _unique_flow_ids(libraries)
    return libraries


def _unique_flow_ids(libraries: Sequence[FlowLibrary]) -> None:
    seen: dict[str, FlowLibrary] = {}
    problems = []
    for library in libraries:
        for flow_id in library.flow_ids:
            other = seen.setdefault(flow_id, library)
            if other is not library:
                source = library.specs[flow_id].source
                problems.append(source.problem(("id",), f"flow id {flow_id!r} is also used by "
                                                        f"library {other.name or other.folder}"))
    if problems:
        raise FlowError(problems)


def load_flows(*paths: str | Path, extra_forbidden: Iterable[str] = (),
               libraries: Sequence[str | Path] = ()) -> dict[str, Flow]:
    """Compile the flows in ``paths``; they may include the built-in sub-dialogues by id.

    A user file whose id equals a built-in one replaces it. Sub-dialogue files given
    here are compiled on their own too, so their mistakes are reported.
    """
    loaded = load_libraries(libraries, paths, extra_forbidden)
    library = loaded[0]
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    for path in paths:
        spec = next(s for s in library.specs.values() if s.source.file == str(path))
        try:
            if spec.spec.kind == "flow":
                flows[spec.spec.id] = library.flow(spec.spec.id)
            else:
                library.check_subdialogue(spec.spec.id)
        except FlowError as err:
            problems.extend(p for p in err.problems if p not in problems)
    if problems:
        raise FlowError(problems)
    return flows


def all_flows(libraries: Sequence[FlowLibrary]) -> dict[str, Flow]:
    """Every flow of the libraries, compiled; all problems in one FlowError."""
    problems: list[Problem] = []
    flows: dict[str, Flow] = {}
    for library in libraries:
        try:
            flows.update(library.compile_all())
        except FlowError as err:
            problems.extend(err.problems)
    if problems:
        raise FlowError(problems)
    return flows


__all__ = ["FlowLibrary", "all_flows", "builtin_flows", "builtin_library",
           "builtin_names", "load_flows", "load_libraries", "load_library"]
