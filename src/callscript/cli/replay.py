"""``callscript record replay``: does a recorded call still go the same way?"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from callscript.cli.errors import PROBLEMS, user_errors
from callscript.cli.options import AsJson, FlowFiles, Libraries


def record_replay_command(
    file: Annotated[Path, typer.Argument(help="a complete record JSON file (unredacted)")],
    context: Annotated[Path, typer.Option(help="YAML or JSON file with the call's context")],
    flow_file: FlowFiles = None,
    library: Libraries = None,
    as_json: AsJson = False,
) -> None:
    """Replay a record's answers through the flow as it is now; exit 1 and say what differs."""
    from callscript.cli.sources import load_context, pick_flow, read_record
    from callscript.testing.replay_record import replay_record

    with user_errors():
        record = read_record(file)
        flow = pick_flow(record.flow_id, flow_file, library)
        differences = replay_record(flow, record, load_context(flow, context))
    if as_json:
        sys.stdout.write(json.dumps({"flow": flow.id, "version": flow.version,
                                     "differences": differences}, ensure_ascii=False) + "\n")
    else:
        for line in differences:
            print(line)
        print(f"{'differs' if differences else 'same'}: {record.flow_id} v{record.flow_version} "
              f"replayed on v{flow.version}", file=sys.stderr)
    if differences:
        raise typer.Exit(PROBLEMS)
