"""The callscript command line: demo, check, schema."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

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
    for flow in flows.values():
        print(f"ok: {flow.id} v{flow.version} ({len(flow.steps)} steps)")
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
    check.set_defaults(run=_check)
    schema = commands.add_parser("schema", help="print the JSON Schema of the flow format")
    schema.set_defaults(run=_schema)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
