"""``callscript check`` and ``callscript cover``: the author's commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from callscript.cli.errors import PROBLEMS, check_writable, fail, user_errors, write_file
from callscript.cli.options import AsJson, FlowFiles, Libraries
from callscript.cli.sources import load_context, pick_flow


def _split(names: list[str]) -> tuple[list[Path], list[str]]:
    """Files to check, and flow ids of the libraries (``first_visit``)."""
    files: list[Path] = []
    ids: list[str] = []
    for name in names:
        path = Path(name)
        is_file = path.exists() or path.suffix in (".yaml", ".yml", ".json") or os.sep in name
        (files.append(path) if is_file else ids.append(name))
    return files, ids


def check_command(
    names: Annotated[list[str] | None, typer.Argument(
        metavar="FILE|FLOW",
        help="flow and sub-dialogue YAML files, or flow ids of the -L libraries (none: every "
             "file of the -L libraries)")] = None,
    calls: Annotated[int, typer.Option(help="random calls to explore per flow (0: only validate)")]
    = 200,
    seed: Annotated[int, typer.Option(help="seed of the random calls")] = 0,
    library: Libraries = None,
    as_json: AsJson = False,
) -> None:
    """Validate, compile and explore flows; print each problem as file:line."""
    from callscript.errors import FlowError
    from callscript.library import all_flows, load_flows, load_libraries
    from callscript.loader import load_file
    from callscript.spec import FlowSpec
    from callscript.testing.render_check import render_problems

    if not names and not library:
        raise fail("give flow files or flow ids, or -L a library to check all of it")
    files, ids = _split(names or [])
    subdialogues: list[FlowSpec] = []
    try:
        flows = {}
        if files:
            flows = load_flows(*files, libraries=library or [])
            subdialogues = [s for s in (load_file(p).spec for p in files)
                            if s.kind == "subdialogue"]
        if ids:
            known = all_flows(load_libraries(library or []))
            for flow_id in ids:
                if flow_id not in known:
                    raise fail(f"unknown flow {flow_id!r} (and no such file); known flows: "
                               f"{', '.join(sorted(known))}")
                flows[flow_id] = known[flow_id]
        if not names:  # every flow and sub-dialogue of the libraries
            for lib in load_libraries(library or []):
                flows |= lib.compile_all()
                for spec in (s.spec for s in lib.specs.values() if s.spec.kind == "subdialogue"):
                    lib.check_subdialogue(spec.id)
                    subdialogues.append(spec)
        rendering = [p for flow in flows.values() for p in render_problems(flow)]
        if rendering:
            raise FlowError(rendering)
    except FlowError as err:
        if as_json:
            sys.stdout.write(json.dumps([{"file": p.file, "line": p.line, "where": p.where,
                                          "message": p.message} for p in err.problems],
                                        ensure_ascii=False, indent=2) + "\n")
        for problem in err.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(PROBLEMS) from None
    results: list[dict[str, Any]] = []
    for flow in flows.values():
        violations = []
        if calls > 0:
            from callscript.testing.properties import check_flow

            violations = check_flow(flow, calls=calls, seed=seed)
        for violation in violations:
            print(violation, file=sys.stderr)
        results.append({"flow": flow.id, "kind": "flow", "version": flow.version,
                        "steps": len(flow.steps), "calls": calls,
                        "problems": [str(v) for v in violations]})
        if not as_json:
            explored = f", {calls} calls explored" if calls > 0 else ""
            state = "problems" if violations else "ok"
            print(f"{state}: {flow.id} v{flow.version} ({len(flow.steps)} steps{explored})")
    for spec in subdialogues:
        results.append({"flow": spec.id, "kind": "subdialogue", "version": spec.version,
                        "steps": len(spec.steps), "calls": 0, "problems": []})
        if not as_json:
            print(f"ok: {spec.id} (sub-dialogue, {len(spec.steps)} steps; explored through "
                  "the flows that include it)")
    if as_json:
        sys.stdout.write(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    if any(r["problems"] for r in results):
        raise typer.Exit(PROBLEMS)


def cover_command(
    flow: Annotated[str | None, typer.Argument(
        metavar="FLOW", help="flow id (none: every flow of the -f files, into -o DIR)")] = None,
    context: Annotated[Path | None, typer.Option(
        metavar="FILE", help="YAML or JSON file with the call context")] = None,
    flow_file: FlowFiles = None,
    library: Libraries = None,
    deployment: Annotated[Path | None, typer.Option(
        metavar="FILE", help="YAML with this installation's values")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE|DIR",
        help="default: stdout; a folder: one FLOW.cases.yaml per flow")] = None,
    words: Annotated[bool, typer.Option(
        help="pin the lines said and the effects too, not only steps and disposition")] = False,
) -> None:
    """Write path-cover test cases (*.cases.yaml) that take every answer."""
    from callscript.loader import load_file
    from callscript.testing.paths import path_cover

    if context is None:
        raise fail("give --context FILE: the customer the cases call")
    into_folder = output is not None and (output.is_dir() or str(output).endswith(os.sep))
    if flow is None and (not flow_file or output is None or not into_folder):
        raise fail("give a FLOW, or -f files and -o DIR to cover every flow of the files")
    if into_folder:
        assert output is not None
        if not output.is_dir():
            raise fail(f"--output {output}: no such folder")
    else:
        check_writable(output)
    with user_errors():
        ids = [flow] if flow else [s.id for s in (load_file(p).spec for p in flow_file or [])
                                   if s.kind == "flow"]
        if not ids:
            raise fail("the -f files hold no flow (only sub-dialogues)")
        for flow_id in ids:
            target = output / f"{flow_id}.cases.yaml" if into_folder and output else output
            check_writable(target)
            _cover_one(flow_id, context, flow_file, library, deployment, target, path_cover,
                       words)


def _cover_one(flow_id: str, context: Path, flow_file: list[Path] | None,
               library: list[str] | None, deployment: Path | None, output: Path | None,
               path_cover: Any, words: bool = False) -> None:
    compiled = pick_flow(flow_id, flow_file, library)
    cover = path_cover(compiled, load_context(compiled, context, deployment))
    here = output.parent if output else Path.cwd()
    # every -f file, so the pytest plugin compiles the flow as this command did
    files = [os.path.relpath(f, here) for f in flow_file or []]
    # the -L the flow came from, so the pytest plugin loads the same library
    source = next((lib for lib in library or [] if Path(lib).name == compiled.library), None)
    if source is not None and Path(source).is_dir():
        source = os.path.relpath(source, here)
    text = (cover.to_yaml(files[0], source, words=words) if len(files) == 1
            else cover.to_yaml(None, source, files or None, words=words))
    if output:
        write_file(output, text)
        print(f"wrote {output} ({len(cover.paths)} cases)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for label in cover.uncoverable:
        print(f"{flow_id}: not coverable with this context: {' '.join(label)}", file=sys.stderr)
