"""Where the CLI gets flows and contexts from."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from callscript.compile import Flow
from callscript.library import all_flows, load_libraries
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


def read_context(path: Path) -> dict[str, Any]:
    data = read_data(path)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a context file is a mapping of parts, each a mapping of fields")
    return data


def sample_for(flow: Flow) -> BaseModel | dict[str, Any]:
    """The demo's sample customer for a built-in flow, else a plausible one from the schema."""
    from callscript.demo import SAMPLES

    for sample in SAMPLES:
        if sample.flow == flow.id and sample.library == flow.library:
            return sample.context
    return sample_context(flow, random.Random(0), fuzz=False)
