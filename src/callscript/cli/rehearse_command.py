"""``callscript rehearse``: start or resume a rehearsal, with every file path checked first."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from callscript.cli.errors import INTERRUPTED, check_writable, fail, user_errors
from callscript.cli.options import FlowFiles, Libraries
from callscript.cli.sources import load_context, load_deployment, pick_flow, sample_for


class Language(StrEnum):
    zh = "zh"
    en = "en"


def merge_parts(context: Any, over: dict[str, Any]) -> Any:
    """A context with the deployment file's parts laid over it."""
    if not over:
        return context
    data = context.model_dump() if hasattr(context, "model_dump") else dict(context)
    return {part: {**(data.get(part) or {}), **values} for part, values in over.items()} | {
        part: values for part, values in data.items() if part not in over}


def _absolute(name: str) -> str:
    """A path that still names the same file from another folder; a built-in name as is."""
    path = Path(name)
    return str(path.resolve()) if path.exists() else name


def rehearse_command(
    flow: Annotated[str | None, typer.Argument(metavar="FLOW",
                                               help="flow id (not needed with --resume)")] = None,
    context: Annotated[Path | None, typer.Option(
        metavar="FILE", help="YAML or JSON file with the context")] = None,
    sample: Annotated[bool, typer.Option(help="use a sample customer")] = False,
    flow_file: FlowFiles = None,
    library: Libraries = None,
    deployment: Annotated[Path | None, typer.Option(
        metavar="FILE", help="YAML with this installation's values")] = None,
    resume: Annotated[Path | None, typer.Option(
        metavar="FILE", help="continue a saved rehearsal")] = None,
    snapshot: Annotated[Path | None, typer.Option(
        metavar="FILE", help="where s and Ctrl-C save (default: callscript-CALLID.rehearsal.json)")]
    = None,
    record: Annotated[Path | None, typer.Option(
        metavar="FILE", help="where the record goes at the end (default: "
                             "callscript-CALLID.record.json; on --resume, the saved one)")] = None,
    lang: Annotated[Language | None, typer.Option(
        help="the language of the rehearsal's own words, zh by default (the script is as "
             "written); a resumed rehearsal keeps its own")] = None,
) -> None:
    """Rehearse a call interactively: lines, answers, captures, interruptions, hold, undo."""
    from callscript.cli.rehearse import Rehearsal, Source, read_rehearsal, who_is_called
    from callscript.runtime import Call

    if sample and context:
        raise fail("give --context FILE or --sample, not both")
    check_writable(snapshot, "--snapshot")
    check_writable(record, "--record")
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
            ctx = merge_parts(sample_for(compiled), load_deployment(compiled, deployment))
        # a rehearsal may show the schema's placeholders (***) where a value is not set
        call = (Call.restore(compiled, saved["snapshot"], ctx, placeholders=True) if saved
                else Call.start(compiled, ctx, placeholders=True))
        if call.ended:
            raise fail(f"{resume}: this rehearsal has ended; start a new one")
    language = lang or Language(saved.get("lang", "zh") if saved else "zh")
    record_path = record or (Path(saved["record"]) if saved and saved.get("record") else None)
    record_path = record_path or Path(f"callscript-{call.call_id}.record.json")
    check_writable(record_path, "--record")
    source = Source(flow_id, [_absolute(str(f)) for f in files or []],
                    _absolute(str(context_file)) if context_file else None, use_sample,
                    [_absolute(lib) for lib in libraries or []],
                    str(record_path.resolve()), language.value)

    def restore(snap: bytes) -> Call:
        return Call.restore(compiled, snap, ctx, placeholders=True)

    # soft_wrap: the rehearsal folds its own lines, with a hanging indent
    rehearsal = Rehearsal(call, source, Console(highlight=False, soft_wrap=True),
                          snapshot or resume or Path(f"callscript-{call.call_id}.rehearsal.json"),
                          record_path, restore)
    try:
        banner = None if saved else say_banner(language, compiled.title, who_is_called(ctx))
        rehearsal.run(banner, resumed=saved is not None)
    except (KeyboardInterrupt, EOFError):
        print(file=sys.stderr)
        rehearsal.save()
        raise typer.Exit(INTERRUPTED) from None


def say_banner(lang: Language, flow: str, who: str) -> str:
    from callscript.cli.screen import say

    return say("zh" if lang == Language.zh else "en", "banner", flow=flow, who=who)
