"""The order a printed script reads in, and the words it uses where the author gave none.

Sections follow a call, not the file: the flow's own steps from the start step,
depth first with each step's answers in order (so the usual path reads top to
bottom and the other branches follow it); then each sub-dialogue in the order a
call meets it (answers first, then the interruptions), each from its entry step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import callscript
from callscript.compile import CompiledStep, Flow
from callscript.compiled import Guard
from callscript.errors import FlowError
from callscript.loader import load_file
from callscript.spec import RETURN

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CUT = re.compile(r"[，,。？?！!；;：:（(“\"]")
_PATH = re.compile(r"\b(captured|[a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)(?:\.[a-z_][a-z0-9_.]*)?")
_WORDS = [(r"\bis not none\b", "已填写"), (r"\bis none\b", "未填写"), (r"\bis not false\b", "不为否"),
          (r"\bis not true\b", "不为是"), (r"\bis false\b", "为否"), (r"\bis true\b", "为是"),
          (r"\band\b", "并且"), (r"\bor\b", "或者"), (r"\bnot\b", "并非"), (r"==", "等于"),
          (r"!=", "不等于"), (r"<=", "不高于"), (r">=", "不低于"), (r"<", "低于"),
          (r">", "高于"), (r"\btrue\b", "是"), (r"\bfalse\b", "否"), (r"\bnone\b", "空")]


def group_of(step: str) -> str:
    """The sub-dialogue a qualified step id belongs to; "" for the flow's own steps."""
    return step.split(".", 1)[0] if "." in step else ""


def call_order(flow: Flow) -> list[str]:
    """Every step of ``flow``, in the order a printed script lists them."""
    entries: dict[str, list[str]] = {"": [flow.start]}
    order: list[str] = []
    seen: set[str] = set()
    done: set[str] = set()
    while pending := [g for g in entries if g not in done]:
        group = pending[0]
        done.add(group)
        stack = list(reversed(entries[group]))
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            order.append(sid)
            nexts: list[str] = []
            for answer in flow.steps[sid].answers.values():
                for target in (answer.target, answer.return_to):
                    if not target or target == RETURN:
                        continue
                    if group_of(target) == group:
                        nexts.append(target)
                    else:
                        entries.setdefault(group_of(target), []).append(target)
            stack.extend(reversed(nexts))
        if group == "":
            for item in flow.interruptions.values():
                entries.setdefault(group_of(item.start), []).append(item.start)
    # steps no answer reaches (none in a compiled flow, but never lose one)
    return order + [sid for sid in flow.steps if sid not in seen]


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def in_chinese(text: str) -> bool:
    """Written in Chinese, not English with a Chinese term in it (a character is about a
    word, an English word about five letters)."""
    return len(_CJK.findall(text)) * 5 >= len(re.findall(r"[A-Za-z]", text)) and has_chinese(text)


def step_title(step: CompiledStep) -> str:
    """The step's title; without one, the start of its first line or note, never its id."""
    if step.title != step.id:
        return step.title
    for line in (*step.lines, *step.notes):
        source = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "", line.source.strip())
        pieces = [p.strip() for p in _CUT.split(source) if has_chinese(p)]
        # the first phrase that says something ("您好" alone does not)
        text = next((p for p in pieces if len(p) >= 4), pieces[0] if pieces else "")
        if text:
            return text if len(text) <= 14 else text[:13] + "…"
    return "、".join(a.label for a in step.answers.values()) or "结束"


def subdialogue_titles(flow: Flow) -> dict[str, str]:
    """Sub-dialogue id -> its title, read from the files the flow was compiled from."""
    return dict(_titles(flow.files))


@lru_cache(maxsize=64)
def _titles(files: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    titles: dict[str, str] = {}
    for name in files:
        path = Path(name)
        if not path.exists():  # a built-in library's file, named from the package's folder
            path = Path(callscript.__file__).parent.parent / name
        try:
            spec = load_file(path).spec
        except (FlowError, OSError):  # a flow compiled from text has no files to read
            continue
        if spec.kind == "subdialogue":
            titles[spec.id] = spec.title
    return tuple(titles.items())


def condition_words(flow: Flow, guard: Guard) -> str:
    """A guard as the agent reads it: its Chinese label, else its expression in words."""
    if guard.label:
        return guard.label
    return expression_words(flow, guard.source)


def expression_words(flow: Flow, source: str) -> str:
    """``billing.this_month < billing.last_month`` -> 本月话费低于上月话费."""
    def label(match: re.Match[str]) -> str:
        part, name = match.group(1), match.group(2)
        if part == "captured":
            capture = flow.captures.get(name)
            return f"【{capture.label}】" if capture else match.group(0)
        spec = flow.schema.fields.get(f"{part}.{name}")
        return f"【{spec.label}】" if spec else match.group(0)

    text = _PATH.sub(label, source.strip())
    for pattern, words in _WORDS:
        text = re.sub(pattern, words, text, flags=re.IGNORECASE)
    text = re.sub(r"\s*【", "【", re.sub(r"】\s*", "】", text))
    return re.sub(r"\s+", " ", text).strip()


def distinct(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(texts))
