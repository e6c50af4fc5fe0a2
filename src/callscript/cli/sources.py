"""Where the CLI gets flows and contexts from."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

from callscript.compile import Flow
from callscript.context import CallContext
from callscript.library import builtin_flows, load_flows
from callscript.testing.walk import sample_context


def flows_from(files: list[Path] | None) -> dict[str, Flow]:
    """The built-in flows, then the flows of ``files`` (which may replace them)."""
    flows = dict(builtin_flows())
    if files:
        flows.update(load_flows(*files))
    return flows


def pick_flow(flow_id: str, files: list[Path] | None) -> Flow:
    flows = flows_from(files)
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
        raise ValueError(f"{path}: a context file is a mapping (customer: …, billing: …)")
    return data


def sample_for(flow: Flow) -> CallContext | dict[str, Any]:
    """The demo's sample customer for a built-in flow, else a sampled valid context."""
    from callscript.demo import AGENT, DEPLOYMENT, SAMPLES

    for sample in SAMPLES:
        if sample.flow == flow.id:
            return {"customer": sample.customer, "billing": sample.billing, "agent": AGENT,
                    "deployment": DEPLOYMENT}
    return sample_context(flow, random.Random(0))
