"""The callscript command line.

Exit codes: 0 success; 1 ``check`` found problems; 2 a usage or input error
(missing file, unknown flow, invalid flow file, context or snapshot);
130 a rehearsal interrupted with Ctrl-C (its snapshot is saved).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from callscript import __version__
from callscript.cli.errors import INTERRUPTED, PROBLEMS, USAGE, fail, user_errors
from callscript.cli.mutate import mutate_command
from callscript.cli.plan import plan_command
from callscript.cli.replay import record_replay_command
from callscript.cli.sources import (
    flows_from,
    load_context,
    load_deployment,
    pick_flow,
    read_data,
    sample_for,
)

app = typer.Typer(
    name="callscript", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Telephone callback scripts as state machines: run, rehearse, check, print.",
)
record_app = typer.Typer(no_args_is_help=True, help="Work with call records.")
app.add_typer(record_app, name="record")

FlowFiles = Annotated[list[Path] | None, typer.Option(
    "--flow-file", "-f", help="a flow or sub-dialogue YAML file (repeatable)")]
Libraries = Annotated[list[str] | None, typer.Option(
    "--library", "-L", metavar="DIR",
    help="a flow library folder, or a built-in library's name (repeatable; default: telecom)")]
Deployment = Annotated[Path | None, typer.Option(
    "--deployment", metavar="FILE",
    help="YAML with this installation's values (deployment: {hotline: …}, agent: …)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def _merge(context: Any, over: dict[str, Any]) -> Any:
    """A context with the deployment file's parts laid over it."""
    if not over:
        return context
    data = context.model_dump() if hasattr(context, "model_dump") else dict(context)
    return {part: {**(data.get(part) or {}), **values} for part, values in over.items()} | {
        part: values for part, values in data.items() if part not in over}


def _out() -> Console:
    return Console(highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _write(text: str, output: Path | None) -> None:
    """To the file given with -o, else to stdout."""
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


class PrintFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


class Placeholders(StrEnum):
    seed = "seed"
    labels = "labels"


class DiagramFormat(StrEnum):
    svg = "svg"
    mermaid = "mermaid"
    dot = "dot"


def _version(value: bool) -> None:
    if value:
        print(f"callscript {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="print the version and exit")] = False,
         ) -> None:
    """callscript: callback scripts as state machines."""


@app.command("flows")
def flows_command(files: Annotated[list[Path] | None, typer.Argument(
        help="flow files to list beside the built-in flows")] = None,
                  library: Libraries = None, as_json: AsJson = False) -> None:
    """List the flows of the libraries (default: the built-in telecom one) and of the files."""
    from callscript.cli.views import flows_json, flows_table

    with user_errors():
        flows = flows_from(files, library)
    if as_json:
        _print_json(flows_json(flows))
    else:
        _out().print(flows_table(flows))


@app.command("show")
def show_command(flow: Annotated[str, typer.Argument(help="flow id")],
                 flow_file: FlowFiles = None, library: Libraries = None,
                 as_json: AsJson = False) -> None:
    """Show a flow's steps, lines, answers and where they lead."""
    from callscript.cli.views import flow_json, show_flow

    with user_errors():
        compiled = pick_flow(flow, flow_file, library)
    if as_json:
        _print_json(flow_json(compiled))
    else:
        show_flow(_out(), compiled)


@app.command("rehearse")
def rehearse_command(
    flow: Annotated[str | None, typer.Argument(help="flow id (not needed with --resume)")] = None,
    context: Annotated[Path | None, typer.Option(help="YAML or JSON file with the context")] = None,
    sample: Annotated[bool, typer.Option(help="use a sample customer")] = False,
    flow_file: FlowFiles = None,
    library: Libraries = None,
    deployment: Deployment = None,
    resume: Annotated[Path | None, typer.Option(help="continue a saved rehearsal")] = None,
    snapshot: Annotated[Path | None, typer.Option(
        help="where s and Ctrl-C save (default: callscript-CALLID.rehearsal.json)")] = None,
    record: Annotated[Path | None, typer.Option(
        help="where the record goes at the end (default: callscript-CALLID.record.json)")] = None,
) -> None:
    """Rehearse a call interactively: lines, answers, captures, interruptions, hold."""
    from callscript.cli.rehearse import Rehearsal, Source, read_rehearsal
    from callscript.runtime import Call

    with user_errors():
        saved = read_rehearsal(resume) if resume else None
        flow_id = flow or (saved["flow"] if saved else None)
        if flow_id is None:
            raise fail("give a FLOW, or --resume a saved rehearsal")
        files = [Path(f) for f in saved["flow_files"]] if saved and not flow_file else flow_file
        libraries = saved.get("libraries") if saved and not library else library
        compiled = pick_flow(flow_id, files, libraries)
        context_file = context or (Path(saved["context_file"]) if saved and saved["context_file"]
                                   else None)
        use_sample = sample or bool(saved and saved["sample"] and not context)
        if context_file is None and not use_sample:
            raise fail("give --context FILE or --sample")
        if context_file:
            ctx: Any = load_context(compiled, context_file, deployment)
        else:
            ctx = _merge(sample_for(compiled), load_deployment(compiled, deployment))
        # a rehearsal may show the schema's placeholders (***) where a value is not set
        call = (Call.restore(compiled, saved["snapshot"], ctx, placeholders=True) if saved
                else Call.start(compiled, ctx, placeholders=True))
    source = Source(flow_id, [str(f) for f in files or []],
                    str(context_file) if context_file else None, use_sample, libraries or [])
    # soft_wrap: Chinese lines have no spaces, so the terminal, not rich, should wrap them
    rehearsal = Rehearsal(call, source, Console(highlight=False, soft_wrap=True),
                          snapshot or resume or Path(f"callscript-{call.call_id}.rehearsal.json"),
                          record or Path(f"callscript-{call.call_id}.record.json"))
    try:
        rehearsal.run()
    except (KeyboardInterrupt, EOFError):
        print(file=sys.stderr)
        rehearsal.save()
        raise typer.Exit(INTERRUPTED) from None


@app.command("demo")
def demo_command(as_json: AsJson = False) -> None:
    """Run one scripted sample call through each built-in flow."""
    from callscript.demo import run_demo

    run_demo(sys.stdout, as_json=as_json)


@app.command("check")
def check_command(
    files: Annotated[list[Path] | None, typer.Argument(
        help="flow and sub-dialogue YAML files (none: every file of the -L libraries)")] = None,
    calls: Annotated[int, typer.Option(help="random calls to explore per flow (0: only validate)")]
    = 200,
    seed: Annotated[int, typer.Option(help="seed of the random calls")] = 0,
    library: Libraries = None,
    as_json: AsJson = False,
) -> None:
    """Validate, compile and explore flow files; print each problem as file:line."""
    from callscript.errors import FlowError
    from callscript.library import load_flows, load_libraries
    from callscript.loader import load_file
    from callscript.spec import FlowSpec
    from callscript.testing.render_check import render_problems

    if not files and not library:
        raise fail("give flow files, or -L a library to check all of it")
    subdialogues: list[FlowSpec] = []
    try:
        if files:
            flows = load_flows(*files, libraries=library or [])
            subdialogues = [s for s in (load_file(p).spec for p in files)
                            if s.kind == "subdialogue"]
        else:  # every flow and sub-dialogue of the libraries
            flows = {}
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
            _print_json([{"file": p.file, "line": p.line, "where": p.where, "message": p.message}
                         for p in err.problems])
        for problem in err.problems:
            print(problem, file=sys.stderr)
        raise typer.Exit(PROBLEMS) from None
    results = []
    for flow in flows.values():
        violations = []
        if calls > 0:
            from callscript.testing.properties import check_flow

            violations = check_flow(flow, calls=calls, seed=seed)
        for violation in violations:
            print(violation, file=sys.stderr)
        results.append({"flow": flow.id, "version": flow.version, "steps": len(flow.steps),
                        "calls": calls, "problems": [str(v) for v in violations]})
        if not as_json:
            explored = f", {calls} calls explored" if calls > 0 else ""
            state = "problems" if violations else "ok"
            print(f"{state}: {flow.id} v{flow.version} ({len(flow.steps)} steps{explored})")
    if not as_json:
        for spec in subdialogues:
            print(f"ok: {spec.id} (sub-dialogue, {len(spec.steps)} steps; explored through "
                  "the flows that include it)")
    if as_json:
        _print_json(results)
    if any(r["problems"] for r in results):
        raise typer.Exit(PROBLEMS)


@app.command("cover")
def cover_command(
    flow: Annotated[str, typer.Argument(help="flow id")],
    context: Annotated[Path, typer.Option(help="YAML or JSON file with the call context")],
    flow_file: FlowFiles = None,
    library: Libraries = None,
    deployment: Deployment = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: stdout")] = None,
    words: Annotated[bool, typer.Option(
        help="pin the lines said and the effects too, not only steps and disposition")] = False,
) -> None:
    """Write path-cover test cases (*.cases.yaml) that take every answer."""
    from callscript.testing.paths import path_cover

    with user_errors():
        compiled = pick_flow(flow, flow_file, library)
        cover = path_cover(compiled, load_context(compiled, context, deployment))
    here = output.parent if output else Path.cwd()
    relative = os.path.relpath(flow_file[-1], here) if flow_file else None
    # the -L the flow came from, so the pytest plugin loads the same library
    source = next((lib for lib in library or [] if Path(lib).name == compiled.library), None)
    if source is not None and Path(source).is_dir():
        source = os.path.relpath(source, here)
    text = cover.to_yaml(relative, source, words=words)
    _write(text, output)
    for label in cover.uncoverable:
        print(f"not coverable with this context: {' '.join(label)}", file=sys.stderr)


class SchemaKind(StrEnum):
    flow = "flow"
    context = "context"
    policy = "policy"


@app.command("schema")
def schema_command(
    kind: Annotated[SchemaKind, typer.Argument(
        help="flow: the flow file format; context: a library's call context; policy: the "
             "planner's policy file")] = SchemaKind.flow,
    library: Libraries = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: stdout")] = None,
) -> None:
    """Print a JSON Schema: of flow files, of a library's context, or of policy files."""
    with user_errors():
        if kind == SchemaKind.flow:
            from callscript.spec import json_schema

            schema = json_schema()
        elif kind == SchemaKind.context:
            from callscript.library import load_libraries

            schema = load_libraries(library or [])[0].schema.json_schema()
        else:
            import importlib

            try:
                policy = importlib.import_module("callscript.planner.policy")
            except ImportError:
                raise fail("the planner is not installed: pip install 'callscript[planner]'") from None
            schema = policy.json_schema()
    _write(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", output)


@app.command("print")
def print_command(
    flows: Annotated[list[str] | None, typer.Argument(help="flow ids")] = None,
    all_flows: Annotated[bool, typer.Option("--all", help="every flow")] = False,
    output_format: Annotated[PrintFormat, typer.Option("--format")] = PrintFormat.md,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="default: stdout (md, html)")] = None,
    context: Annotated[Path | None, typer.Option(
        help="one customer's context: print their call sheet")] = None,
    show_personal_data: Annotated[bool, typer.Option(
        help="print phone numbers and other personal data unmasked")] = False,
    diagram: Annotated[bool, typer.Option(help="include the flow diagram")] = True,
    placeholders: Annotated[Placeholders, typer.Option(
        help="what unset values print as: the seed's (***, XX) or the schema's labels "
             "(【客户姓名】)")] = Placeholders.seed,
    flow_file: FlowFiles = None,
    library: Libraries = None,
    deployment: Deployment = None,
) -> None:
    """Print flows as a script: Markdown, self-contained HTML, or PDF."""
    from callscript.printing import build_script, to_html, to_markdown, to_pdf

    if output_format == PrintFormat.pdf and output is None:
        raise fail("PDF is binary: give -o FILE.pdf")
    with user_errors():
        known = flows_from(flow_file, library)
        if all_flows:
            chosen = sorted(known)
        elif flows:
            chosen = flows
        else:
            raise fail("name the flows to print, or --all")
        ctx = None
        labels = placeholders == Placeholders.labels
        scripts = []
        for flow_id in chosen:
            compiled = known[flow_id] if flow_id in known else pick_flow(flow_id, flow_file, library)
            if context:
                ctx = load_context(compiled, context, deployment)
            elif deployment:
                ctx = load_deployment(compiled, deployment)
            scripts.append(build_script(compiled, ctx, show_personal_data, labels,
                                        generic=context is None))
        if output_format == PrintFormat.pdf:
            assert output is not None
            output.write_bytes(to_pdf(scripts, diagram))
            return
        text = (to_markdown(scripts, diagram) if output_format == PrintFormat.md
                else to_html(scripts, diagram))
    _write(text, output)


@app.command("diagram")
def diagram_command(
    flow: Annotated[str, typer.Argument(help="flow id")],
    output_format: Annotated[DiagramFormat, typer.Option("--format")] = DiagramFormat.svg,
    main_path: Annotated[bool, typer.Option(
        help="only the steps reached without an interruption")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="default: stdout")] = None,
    flow_file: FlowFiles = None,
    library: Libraries = None,
) -> None:
    """Draw a flow: SVG (needs Graphviz), Mermaid, or Graphviz DOT."""
    from callscript.printing import to_dot, to_mermaid, to_svg

    with user_errors():
        compiled = pick_flow(flow, flow_file, library)
        if output_format == DiagramFormat.svg:
            text = to_svg(compiled, interruptions=not main_path)
        elif output_format == DiagramFormat.dot:
            text = to_dot(compiled, interruptions=not main_path)
        else:
            text = to_mermaid(compiled)
    _write(text, output)


@record_app.command("show")
def record_show_command(
    file: Annotated[Path, typer.Argument(help="a record JSON file")],
    show_personal_data: Annotated[bool, typer.Option(
        help="show phone numbers, addresses and birthdays unmasked")] = False,
    as_json: AsJson = False,
) -> None:
    """Pretty-print a call record, redacted unless asked otherwise."""
    from callscript.cli.views import show_record
    from callscript.record import CallRecord

    with user_errors():
        try:
            record = CallRecord.model_validate(read_data(file))
        except Exception as err:  # pydantic's message would echo personal data
            if isinstance(err, OSError):
                raise
            raise fail(f"{file} is not a callscript record") from None
    shown = record if show_personal_data else record.redacted()
    if as_json:
        sys.stdout.write(shown.model_dump_json(indent=2) + "\n")
    else:
        show_record(_out(), shown)


app.command("plan")(plan_command)
app.command("mutate")(mutate_command)
record_app.command("replay")(record_replay_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (documented in the module docstring)."""
    try:
        app(args=list(argv) if argv is not None else None, prog_name="callscript")
    except SystemExit as done:  # typer's standalone mode always ends here
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else USAGE)
    return 0
