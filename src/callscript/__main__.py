"""The callscript command line: demo, check, schema."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from callscript import __version__
from callscript.errors import FlowError
from callscript.library import load_flows
from callscript.spec import json_schema


def _demo(args: argparse.Namespace) -> int:
    from callscript.demo import run_demo

    return run_demo(sys.stdout, as_json=args.json)


def _check(args: argparse.Namespace) -> int:
    try:
        flows = load_flows(*args.files)
    except FlowError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    failed = False
    for flow in flows.values():
        violations = []
        if args.calls > 0:
            from callscript.testing.properties import check_flow

            violations = check_flow(flow, calls=args.calls, seed=args.seed)
        for violation in violations:
            print(violation, file=sys.stderr)
        failed = failed or bool(violations)
        explored = f", {args.calls} calls explored" if args.calls > 0 else ""
        state = "problems" if violations else "ok"
        print(f"{state}: {flow.id} v{flow.version} ({len(flow.steps)} steps{explored})")
    return 1 if failed else 0


def _cover(args: argparse.Namespace) -> int:
    import yaml

    from callscript.library import builtin_flows
    from callscript.testing.paths import path_cover

    try:
        flows = load_flows(args.flow_file) if args.flow_file else builtin_flows()
    except FlowError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return 1
    if args.flow not in flows:
        print(f"callscript cover: unknown flow {args.flow!r}; known: {', '.join(sorted(flows))}",
              file=sys.stderr)
        return 2
    with open(args.context, encoding="utf-8") as handle:
        context = yaml.safe_load(handle)
    cover = path_cover(flows[args.flow], context)
    flow_file = None
    if args.flow_file:
        out_dir = Path(args.output).parent if args.output else Path.cwd()
        flow_file = os.path.relpath(args.flow_file, out_dir)
    text = cover.to_yaml(flow_file)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for label in cover.uncoverable:
        print(f"not coverable with this context: {' '.join(label)}", file=sys.stderr)
    return 0


def schema_text() -> str:
    return json.dumps(json_schema(), ensure_ascii=False, indent=2) + "\n"


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="callscript", description=__doc__)
    parser.add_argument("--version", action="version", version=f"callscript {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a sample call through each built-in flow")
    demo.add_argument("--json", action="store_true", help="print the records as JSON only")
    demo.set_defaults(run=_demo)
    check = commands.add_parser("check", help="validate flow files; problems as file:line")
    check.add_argument("files", nargs="+", help="flow or sub-dialogue YAML files")
    check.add_argument("--calls", type=int, default=200,
                       help="random calls to explore per flow (0: only validate; default 200)")
    check.add_argument("--seed", type=int, default=0, help="seed of the random calls")
    check.set_defaults(run=_check)
    cover = commands.add_parser("cover", help="write path-cover test cases (*.cases.yaml)")
    cover.add_argument("flow", help="flow id")
    cover.add_argument("--context", required=True, help="YAML or JSON file with the call context")
    cover.add_argument("--flow-file", help="the flow's YAML file (default: built-in flows)")
    cover.add_argument("-o", "--output", help="where to write the cases (default: stdout)")
    cover.set_defaults(run=_cover)
    schema = commands.add_parser("schema", help="print the JSON Schema of the flow format")
    schema.set_defaults(run=_schema)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
