"""Where the CLI gets flows and contexts from."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from callscript.compile import Flow
from callscript.errors import ContextError, FlowError, Problem
from callscript.library import all_flows, load_libraries
from callscript.loader import SourceMap, parse_yaml
from callscript.record import CallRecord
from callscript.testing.samples import sample_context


def flows_from(files: list[Path] | None, libraries: list[str] | None = None) -> dict[str, Flow]:
    """The flows of the libraries (-L; the built-in telecom one by default), with the
    flows of ``files`` (-f) added to the first (a file may replace a flow of the same id)."""
    return all_flows(load_libraries(libraries or [], files or []))


def pick_flow(flow_id: str, files: list[Path] | None, libraries: list[str] | None = None) -> Flow:
    flows = flows_from(files, libraries)
    if flow_id not in flows:
        raise KeyError(f"unknown flow {flow_id!r}; known flows: {', '.join(sorted(flows))}")
    return flows[flow_id]


def read_data(path: Path) -> Any:
    """A YAML or JSON file (JSON is YAML, but JSON errors read better from json)."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)


def load_context(flow: Flow, path: Path, deployment: Path | None = None) -> dict[str, Any]:
    """A context file (YAML or JSON) for ``flow``, over the deployment file's values when one
    is given; each bad field is reported as ``file:line: field: what is expected``."""
    data, source = _located(path)
    if deployment is not None:
        base, base_source = _located(deployment)
        _validate(flow, base, base_source, partial=True)
        data = {part: (base.get(part, {}) | values if isinstance(values, dict) else values)
                for part, values in data.items()} | {p: v for p, v in base.items() if p not in data}
    _validate(flow, data, source)
    return data


def load_deployment(flow: Flow, deployment: Path | None) -> dict[str, Any]:
    """The deployment file's values alone (for --sample), validated with file:line."""
    if deployment is None:
        return {}
    data, source = _located(deployment)
    _validate(flow, data, source, partial=True)
    return data


def read_record(path: Path) -> CallRecord:
    """A record written by callscript; never pydantic's message, which would echo its data."""
    try:
        return CallRecord.model_validate(read_data(path))
    except OSError:
        raise
    except Exception:
        raise ValueError(f"{path} is not a callscript record") from None


def read_context(path: Path) -> dict[str, Any]:
    """A context or deployment file as a mapping of parts, not yet validated."""
    return _located(path)[0]


def _located(path: Path) -> tuple[dict[str, Any], SourceMap]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FlowError([Problem(str(path), None, "not UTF-8 text; convert it, e.g. with "
                                                  "iconv -f GBK -t UTF-8")]) from None
    data, source = parse_yaml(text, str(path))
    if not isinstance(data, dict):
        raise FlowError([Problem(str(path), 1, "a context file is a mapping of parts "
                                               "(customer: …, agent: …)")])
    return data, source


def _validate(flow: Flow, data: dict[str, Any], source: SourceMap, partial: bool = False) -> None:
    try:
        flow.schema.validate(flow.id, data)
    except ContextError as err:
        raise FlowError([source.problem(tuple(field.split(".")), why)
                         for field, why in err.invalid.items()] or
                        [Problem(source.file, 1, str(err))]) from None


def sample_for(flow: Flow) -> BaseModel | dict[str, Any]:
    """The demo's sample customer for a built-in flow, else a plausible one from the schema."""
    from callscript.demo import SAMPLES

    for sample in SAMPLES:
        if sample.flow == flow.id and sample.library == flow.library:
            return sample.context
    return sample_context(flow, random.Random(0), fuzz=False)
