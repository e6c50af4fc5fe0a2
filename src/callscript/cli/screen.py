"""The rehearsal's words (Chinese by default, English with --lang en) and its line layout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from rich.cells import cell_len

Lang = Literal["zh", "en"]

WORDS: dict[str, tuple[str, str]] = {
    "customer": ("客户", "customer"),
    "banner": ("排练: {flow} · 致电 {who}", "rehearsal: {flow} · calling {who}"),
    "banner_keys": ("输入编号选择客户的回答;? 查看全部按键", "type a number for the customer's "
                    "answer; ? lists every key"),
    "keys": ("i 打断情况 · h 请客户稍等(计时) · u 撤销上一步 · s 保存快照 · ? 再看一遍 · "
             "Ctrl-C 保存并退出",
             "i interruptions · h hold (timed) · u undo the last answer · s save snapshot · "
             "? show again · Ctrl-C save and quit"),
    "keys_short": ("i 打断情况({n}) · h 稍等 · u 撤销 · ? 帮助", "i interruptions ({n}) · h hold · "
                   "u undo · ? help"),
    "keys_short_no_hold": ("i 打断情况({n}) · u 撤销 · ? 帮助", "i interruptions ({n}) · u undo · "
                           "? help"),
    "keys_minimal": ("u 撤销 · ? 帮助", "u undo · ? help"),
    "interruptions": ("打断情况 (输入 i1、i2…):", "interruptions (type i1, i2, …):"),
    "no_interruptions": ("这一步不能被打断", "nothing can interrupt this step"),
    "records": ("记录", "records"),
    "not_option": ("不是可选项: {choice} (输入编号、i、h、u、s 或 ?)",
                   "not an option: {choice} (a number, i, h, u, s or ?)"),
    "required": ("必填", "required"),
    "optional": ("可不填,回车跳过", "optional, Enter to skip"),
    "retry": ("请重新输入", "please try again"),
    "choose": ("输入编号或文字", "a number or the words"),
    "hold": ("稍等 {waited} (上限 {limit})", "on hold {waited} (limit {limit})"),
    "hold_over": ("已超时,将改为回电", "over the limit: this becomes a callback"),
    "hold_enter": ("回车回到通话", "Enter to resume"),
    "saved": ("快照已保存到 {path};继续: callscript rehearse --resume {path}",
              "snapshot saved to {path}; continue with: callscript rehearse --resume {path}"),
    "undone": ("已撤销上一步,回到: {title}", "undone: back at {title}"),
    "nothing_to_undo": ("没有可撤销的回答", "no answer to undo"),
    "ended": ("通话结束", "call ended"),
    "summary": ("结果: {disposition} · {steps} 步 · 记录已写入 {path}",
                "disposition: {disposition} · {steps} steps · record written to {path}"),
    "follow_up": ("跟进 {kind},{due} 前: {note}", "follow-up {kind} due {due}: {note}"),
    "resumed": ("继续排练: 已进行 {n} 步", "resuming: {n} steps so far"),
    "interrupted": ("打断", "interrupted"),
    "returned": ("回到", "back to"),
}

TYPE_HINTS: dict[str, tuple[str, str]] = {
    "text": ("文字", "text"), "phone": ("电话号码", "phone"),
    "date": ("日期 YYYY-MM-DD", "date YYYY-MM-DD"),
    "datetime": ("日期时间 YYYY-MM-DD HH:MM", "date and time YYYY-MM-DD HH:MM"),
    "month_day": ("月-日 MM-DD", "month-day MM-DD"), "int": ("整数", "integer"),
    "decimal": ("数字", "number"), "bool": ("是/否", "yes/no"),
}


def say(lang: Lang, key: str, **values: object) -> str:
    zh, en = WORDS[key]
    return (zh if lang == "zh" else en).format(**values)


def type_hint(lang: Lang, kind: str) -> str:
    zh, en = TYPE_HINTS.get(kind, (kind, kind))
    return zh if lang == "zh" else en


_TOKEN = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff"
                    r"\uff00-\uffef]+|\s+")


# punctuation a Chinese line may not start with: it goes down with the character before it
_NO_START = set("，。、；：？！）」』》〉】,.;:?!)]}")


def hang(first: str, text: str, width: int, indent: int | None = None) -> Iterator[str]:
    """``first`` + ``text`` folded at ``width`` terminal cells, continuation lines indented
    under the text (a hanging indent). Chinese folds between any two characters, other
    words only at spaces (or, when one is wider than the line, anywhere)."""
    pad = " " * (cell_len(first) if indent is None else indent)
    if width - cell_len(pad) < 10:  # too narrow to indent: fold flush left
        pad = ""
    line = first
    for token in _TOKEN.findall(text):
        if cell_len(line) + cell_len(token) > width and line.strip():
            carried = ""
            if token in _NO_START and len(line) > len(pad) + 1 and not line[-1].isspace():
                line, carried = line[:-1], line[-1]
            yield line.rstrip()
            line = pad + carried
            if token.isspace():
                continue
        while cell_len(line) + cell_len(token) > width:  # one word wider than the line
            room = width - cell_len(line)
            head = fit(token, room) or token[0]
            yield line + head
            line, token = pad, token[len(head):]
        line += token
    yield line


def fit(text: str, width: int) -> str:
    """``text`` cut to fit in ``width`` cells (for a line rewritten in place with \\r)."""
    out, used = "", 0
    for char in text:
        used += cell_len(char)
        if used > width:
            break
        out += char
    return out
