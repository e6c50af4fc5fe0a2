"""The callscript command line.

Exit codes: 0 success; 1 ``check`` found problems; 2 a usage or input error
(missing file, unknown flow, invalid flow file, context or snapshot);
130 a rehearsal interrupted with Ctrl-C (its snapshot is saved).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from callscript import __version__
from callscript.cli.checks import check_command, cover_command
from callscript.cli.errors import (
    USAGE,
    check_writable,
    fail,
    user_errors,
    write_file,
)
from callscript.cli.mutate import mutate_command
from callscript.cli.options import AsJson, Deployment, FlowFiles, Libraries
from callscript.cli.plan import plan_command
from callscript.cli.rehearse_command import merge_parts, rehearse_command
from callscript.cli.replay import record_replay_command
from callscript.cli.service import register as register_service_commands
from callscript.cli.sources import (
    flows_from,
    load_context,
    load_deployment,
    pick_flow,
    read_record,
)

app = typer.Typer(
    name="callscript", no_args_is_help=True, add_completion=False,
    pretty_exceptions_enable=False, rich_markup_mode=None,
    help="Telephone callback scripts as state machines: run, rehearse, check, print.",
)
record_app = typer.Typer(no_args_is_help=True, help="Work with call records.")
app.add_typer(record_app, name="record")



def _out() -> Console:
    return Console(highlight=False)


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _write(text: str, output: Path | None) -> None:
    """To the file given with -o, else to stdout."""
    if output:
        write_file(output, text)
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


@app.command("demo")
def demo_command(as_json: AsJson = False) -> None:
    """Run one scripted sample call through each built-in flow."""
    from callscript.demo import run_demo

    run_demo(sys.stdout, as_json=as_json)


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
    check_writable(output)
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
    agent: Annotated[list[str] | None, typer.Option(
        "--agent", metavar="FIELD=VALUE",
        help="the agent's own details for the script, e.g. --agent name=李娜 "
             "--agent phone=0571-86001234 (repeatable)")] = None,
    flow_file: FlowFiles = None,
    library: Libraries = None,
    deployment: Deployment = None,
) -> None:
    """Print flows as a script: Markdown, self-contained HTML, or PDF."""
    from callscript.printing import build_script, to_html, to_markdown, to_pdf

    if output_format == PrintFormat.pdf and output is None:
        raise fail("PDF is binary: give -o FILE.pdf")
    check_writable(output)
    with user_errors():
        known = flows_from(flow_file, library)
        if all_flows:
            chosen = sorted(known)
        elif flows:
            chosen = flows
        else:
            raise fail("name the flows to print, or --all")
        ctx: Any = None
        labels = placeholders == Placeholders.labels
        own = _agent_values(agent or [])
        scripts = []
        for flow_id in chosen:
            compiled = known[flow_id] if flow_id in known else pick_flow(flow_id, flow_file, library)
            if context:
                ctx = load_context(compiled, context, deployment)
            elif deployment:
                ctx = load_deployment(compiled, deployment)
            if own:
                ctx = merge_parts(ctx or {}, {"agent": own})
            scripts.append(build_script(compiled, ctx, show_personal_data, labels,
                                        generic=context is None))
        if output_format == PrintFormat.pdf:
            assert output is not None
            write_file(output, to_pdf(scripts, diagram))
            return
        text = (to_markdown(scripts, diagram) if output_format == PrintFormat.md
                else to_html(scripts, diagram))
    _write(text, output)


def _agent_values(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise fail("--agent takes FIELD=VALUE, e.g. --agent name=李娜")
        values[name.strip()] = value.strip()
    return values


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
    check_writable(output)
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
    flow_file: FlowFiles = None,
    library: Libraries = None,
) -> None:
    """Pretty-print a call record, redacted unless asked otherwise; steps and captures by
    their titles and labels when the record's flow is found (-L/-f, default telecom)."""
    from callscript.cli.views import show_record

    with user_errors():
        record = read_record(file)
    shown = record if show_personal_data else record.redacted()
    if as_json:
        sys.stdout.write(shown.model_dump_json(indent=2) + "\n")
    else:
        from callscript.errors import CallscriptError

        try:
            flow = flows_from(flow_file, library).get(record.flow_id)
        except (CallscriptError, OSError, ValueError):
            flow = None  # the record is shown by ids: it does not need its flow
        show_record(_out(), shown, flow)


app.command("rehearse")(rehearse_command)
app.command("check")(check_command)
app.command("cover")(cover_command)
app.command("plan")(plan_command)
app.command("mutate")(mutate_command)
record_app.command("replay")(record_replay_command)
register_service_commands(app)  # serve, db, users: cli/service.py


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit code (documented in the module docstring)."""
    from callscript.cli.help import readable

    command = readable(typer.main.get_command(app))
    try:
        command.main(args=list(argv) if argv is not None else None, prog_name="callscript")
    except SystemExit as done:  # click's standalone mode always ends here
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else USAGE)
    return 0
