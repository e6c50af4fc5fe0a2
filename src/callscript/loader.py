"""Read flow files: YAML with line numbers, validated into spec models.

Every problem becomes a Problem with ``file:line`` and the path inside the file;
no YAML or pydantic traceback reaches the user.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from callscript.errors import FlowError, Problem
from callscript.spec import FlowSpec

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml if built


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """YAML 1.2 booleans: only true/false. In YAML 1.1 ``id: no`` would be False."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each value of a file was written: path inside the file -> line."""

    file: str
    lines: dict[Loc, int] = field(default_factory=dict)

    def line(self, loc: Iterable[str | int]) -> int | None:
        """The line of ``loc``, or of its nearest enclosing value."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, loc: Iterable[str | int], message: str) -> Problem:
        path = tuple(loc)
        return Problem(self.file, self.line(path), message, format_loc(path))


@dataclass(frozen=True, slots=True)
class LoadedSpec:
    spec: FlowSpec
    source: SourceMap


def format_loc(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _is_block(node: yaml.Node) -> bool:
    """A block scalar (| or >): its text starts on the line after the indicator."""
    return isinstance(node, yaml.ScalarNode) and node.style in ("|", ">")


_STR = "tag:yaml.org,2002:str"


def _construct(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, source: SourceMap,
               problems: list[Problem]) -> Any:
    if isinstance(node, yaml.ScalarNode):
        block = node.style in ("|", ">")
        source.lines[loc] = node.start_mark.line + 1 + block
        # a plain string is its own value: what construct_object would return, found faster
        return node.value if node.tag == _STR else loader.construct_object(node)
    source.lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = (key_node.value if key_node.tag == _STR and isinstance(key_node, yaml.ScalarNode)
                   else loader.construct_object(key_node))
            if not isinstance(key, str | int) or isinstance(key, bool):
                problems.append(Problem(source.file, key_node.start_mark.line + 1,
                                        "mapping keys must be plain strings", format_loc(loc)))
                continue
            key = str(key)
            if key in mapping:
                problems.append(Problem(source.file, key_node.start_mark.line + 1,
                                        f"duplicate key {key!r}", format_loc(loc)))
                continue
            mapping[key] = _construct(loader, value_node, (*loc, key), source, problems)
            if not _is_block(value_node):  # a block's own line is its text's first line
                source.lines[(*loc, key)] = key_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*loc, i), source, problems)
                for i, item in enumerate(node.value)]
    return loader.construct_object(node)


def parse_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document, recording the line of every value."""
    source = SourceMap(file)
    problems: list[Problem] = []
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise FlowError([Problem(file, 1, "the file is empty")])
        data = _construct(loader, node, (), source, problems)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        message = "; ".join(str(p) for p in (err.context, err.problem) if p)
        if mark is not None and _tab_at(text, mark.line, mark.column):
            message = "a tab character; YAML indents with spaces only (replace the tab)"
        raise FlowError([Problem(file, line, f"YAML syntax: {message}")]) from None
    except yaml.YAMLError as err:
        raise FlowError([Problem(file, None, f"YAML: {err}")]) from None
    finally:
        loader.dispose()
    if problems:
        raise FlowError(problems)
    return data, source


def _tab_at(text: str, line: int, column: int) -> bool:
    """Whether the YAML error's position is (or follows) a tab in the indentation."""
    lines = text.splitlines()
    if not 0 <= line < len(lines):
        return False
    row = lines[line]
    return "\t" in row[:column + 1] or row[column:column + 1] == "\t"


def _pydantic_problems(err: ValidationError, source: SourceMap) -> Iterator[Problem]:
    for detail in err.errors(include_url=False, include_input=False):
        loc = tuple(p for p in detail["loc"] if isinstance(p, int) or "[" not in p)
        message = str(detail["msg"]).removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
        elif detail["type"] == "missing":
            message = f"missing field {loc[-1]!r}"
            yield source.problem(loc[:-1], message)
            continue
        yield source.problem(loc, message)


def load_model(text: str, file: str, model: type[M]) -> tuple[M, SourceMap]:
    """Validate the YAML text of one file against ``model``, every problem with file:line."""
    data, source = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise FlowError([Problem(file, 1, "the file is a mapping of keys to values")])
    try:
        return model.model_validate(data), source
    except ValidationError as err:
        raise FlowError(list(_pydantic_problems(err, source))) from None


def load_text(text: str, file: str) -> LoadedSpec:
    """Validate the YAML text of one flow file."""
    spec, source = load_model(text, file, FlowSpec)
    _warn_deprecated(source)
    return LoadedSpec(spec, source)


def _warn_deprecated(source: SourceMap) -> None:
    for loc, line in source.lines.items():
        if loc and loc[-1] == "outcome":
            warnings.warn(f"{source.file}:{line}: {format_loc(loc)}: `outcome:` is deprecated "
                          "and will be refused in the next version; write `disposition:`",
                          DeprecationWarning, stacklevel=3)


def load_file(path: str | Path) -> LoadedSpec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowError([Problem(str(path), None, "no such file")]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise FlowError([Problem(str(path), None, f"cannot read: {err}")]) from None
    return load_text(text, str(path))


def index_specs(loaded: Iterable[LoadedSpec]) -> dict[str, LoadedSpec]:
    """Map ids to specs, refusing an id used by two files."""
    index: dict[str, LoadedSpec] = {}
    problems = []
    for item in loaded:
        other = index.get(item.spec.id)
        if other is not None:
            problems.append(item.source.problem(("id",), f"duplicate id {item.spec.id!r}, "
                                                         f"also used by {other.source.file}"))
            continue
        index[item.spec.id] = item
    if problems:
        raise FlowError(problems)
    return index
