"""The console's own words, in Chinese (the default) and English (``?lang=en``).

Script lines, titles and labels come from the flows and are shown as written.
"""

from __future__ import annotations

LANGS = ("zh-CN", "en")

_WORDS: dict[str, tuple[str, str]] = {
    # punctuation between words: full-width in Chinese, ASCII with spaces in English
    "colon": ("：", ": "),
    "lparen": ("（", " ("),
    "rparen": ("）", ")"),
    "app": ("回访坐席台", "Callback console"),
    "signin": ("登录", "Sign in"),
    "signin_hint": ("请输入管理员发给您的令牌（以 cs_ 开头）。",
                    "Enter the token your administrator gave you (it starts with cs_)."),
    "token": ("令牌", "Token"),
    "bad_token": ("令牌无效或已被撤销，请重新输入。", "The token is unknown or revoked."),
    "session_over": ("登录已过期或令牌已被撤销，请重新登录。",
                     "Your session has ended or the token was revoked: sign in again."),
    "signout": ("退出登录", "Sign out"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "my_calls": ("我的通话", "My calls"),
    "no_calls": ("还没有通话。", "No calls yet."),
    "new_call": ("开始新通话", "Start a call"),
    "returned": ("回到", "Back to"),
    "flow": ("回访流程", "Flow"),
    "choose_flow": ("选择流程", "Choose"),
    "start": ("开始通话", "Start the call"),
    "open": ("打开", "Open"),
    "status": ("状态", "Status"),
    "step": ("当前步骤", "Step"),
    "started": ("开始时间", "Started"),
    "live": ("进行中", "live"), "ended": ("已结束", "ended"), "abandoned": ("已放弃", "abandoned"),
    "expired": ("已超时", "expired"), "erased": ("已删除", "erased"),
    "required": ("必填", "required"),
    "say": ("请说", "Say"),
    "notes": ("提示", "Notes"),
    "answers": ("客户的回答", "The customer's answer"),
    "answers_help": ("按数字键 1-9 或点击选择。", "Press 1-9 or click."),
    "confirm": ("确认", "Confirm"),
    "interruptions": ("插入情况", "Interruptions"),
    "interruptions_help": ("客户打断时，按对应的字母键。", "When the customer breaks in, press its key."),
    "hold": ("请客户稍等", "Put on hold"),
    "hold_back": ("回到通话", "Back to the call"),
    "waiting": ("客户已等待", "Waiting for"),
    "hold_limit": ("最长等待", "Limit"),
    "hold_over": ("等待已超过时限：请客户先挂机，稍后主动回电。按下按钮进入约定回电。",
                  "The wait is over the limit: ask the customer to hang up; you will call back. "
                  "Press the button for the callback."),
    "hold_over_button": ("等待过久，约定回电", "Waited too long: arrange a callback"),
    "conflict": ("这个通话已在别处（另一个标签页或另一台电脑）推进，您的操作没有生效。"
                 "下面是当前步骤，请重新选择。",
                 "This call moved on elsewhere (another tab or computer); your action was not "
                 "taken. The current step is below: choose again."),
    "refused": ("这一步不能这样操作，请重新选择。", "Not allowed at this step: choose again."),
    "fix_fields": ("请更正标出的内容。", "Correct the fields marked."),
    "network": ("网络中断，正在用同一请求重试（不会重复记录）……",
                "Network failure: retrying the same request (it cannot be taken twice)…"),
    "network_failed": ("网络仍不可用。", "Still no network."),
    "retry": ("重试", "Retry"),
    "ended_title": ("通话已结束", "The call has ended"),
    "hang_up_first": ("请等客户先挂机，再挂断电话。", "Let the customer hang up first."),
    "summary": ("通话记录", "Call record"),
    "disposition": ("回访结果", "Disposition"),
    "path": ("通话经过", "Steps"),
    "captures": ("记录的内容", "Recorded"),
    "follow_ups": ("后续跟进", "Follow-ups"),
    "due": ("到期", "Due"),
    "complaints": ("投诉与建议", "Complaints and suggestions"),
    "reply_due": ("答复期限", "Reply due"),
    "escalations": ("升级处理", "Escalations"),
    "none": ("无", "none"),
    "back_to_calls": ("返回通话列表", "Back to my calls"),
    "supervisor": ("班长视图", "Supervisor view"),
    "live_calls": ("进行中的通话", "Live calls"),
    "agent": ("坐席", "Agent"),
    "hold_time": ("等待时长", "On hold"),
    "due_follow_ups": ("待办跟进", "Follow-ups due"),
    "kind": ("类型", "Kind"),
    "call": ("通话", "Call"),
    "no_rights": ("您的角色不能使用坐席台的这一部分。", "Your role cannot use this part of the console."),
    "not_found": ("找不到这个通话，或者它不属于您。", "No such call, or it is not yours."),
    "forbidden_csrf": ("请求缺少有效的安全令牌，已拒绝。请刷新页面后重试。",
                       "The request lacks a valid CSRF token and was refused. Reload and retry."),
    "context_invalid": ("客户资料有误，请更正标出的内容。", "Correct the customer data marked."),
    "cannot_start": ("无法开始这个通话：", "This call cannot start:"),
    "language": ("English", "中文"),
    "skip": ("跳到主要内容", "Skip to the main content"),
    "at": ("时间", "At"),
    "phone_problem": ("请填写正确的电话号码（数字，可含 + - 或空格，6-20位）",
                      "enter a phone number (digits, optionally + - or spaces, 6-20 characters)"),
    "updated": ("更新于", "Updated"),
    "refresh": ("刷新", "Refresh"),
    "datetime_format": ("格式：年-月-日 时:分，例如 2026-11-27 19:00",
                        "Format: year-month-day hour:minute, such as 2026-11-27 19:00"),
    "answer": ("回答", "Answer"),
    "worklist": ("今日回访清单", "Today's worklist"),
    "worklist_help": ("按数字键 1-9 选中第几行，按回车开始通话。",
                      "Press 1-9 to pick a row, then Enter to start its call."),
    "no_worklist": ("今天没有为您安排回访。", "Nothing is planned for you today."),
    "window": ("回访时段", "Window"),
    "reason": ("回访原因", "Reason"),
    "customer": ("客户", "Customer"),
    "attempt": ("第几次", "Attempt"),
    "attempt_n": ("第{}次", "#{}"),
    "not_in_worklist": ("清单中没有这一行，或者它不是分给您的。",
                        "No such row in the worklist, or it is not yours."),
    "planned_at": ("制定于", "Planned at"),
    "row_context_invalid": ("清单中这位客户的资料不完整或有误，请联系班长核对后重新制定清单。",
                            "This customer's data in the worklist is incomplete or invalid: ask "
                            "your supervisor to check it and plan again."),
    "flow_not_applicable": ("这位客户现在不符合该流程的条件。",
                            "The flow's condition does not hold for this customer now."),
    "yes": ("是", "yes"), "no": ("否", "no"), "unknown": ("不详", "unknown"),
}

# what a capture must look like, by type: shown beside the field when the service refuses it
_EXPECTED: dict[str, tuple[str, str]] = {
    "text": ("请填写文字（1-500字）", "enter text of 1 to 500 characters"),
    "phone": ("请填写正确的电话号码（数字，可含 + - 或空格，6-20位）",
              "enter a phone number (digits, optionally + - or spaces, 6-20 characters)"),
    "date": ("请选择正确的日期", "choose a valid date"),
    "datetime": ("请选择正确的日期和时间", "choose a valid date and time"),
    "month_day": ("请填写月和日，例如 5月1日", "enter a month and day such as 5月1日"),
    "int": ("请填写整数", "enter a whole number"),
    "integer": ("请填写整数", "enter a whole number"),
    "month": ("请填写1-12的月份", "enter a month from 1 to 12"),
    "decimal": ("请填写数字", "enter a number"),
    "money": ("请填写金额（数字）", "enter an amount"),
    "bool": ("请选择是或否", "choose yes or no"),
    "choice": ("请从选项中选择一项", "choose one of the options"),
}

_TIME_PROBLEMS: dict[str, tuple[str, str]] = {
    "may not lie in the past": ("不能早于现在", "may not lie in the past"),
    "may not lie more than two years ahead": ("不能晚于两年以后", "may not lie more than two years ahead"),
    "may not lie in the future": ("不能晚于今天", "may not lie in the future"),
    "may not lie before 1900": ("不能早于1900年", "may not lie before 1900"),
}

FOLLOW_UP_KINDS: dict[str, tuple[str, str]] = {
    "callback": ("回电", "callback"), "visit": ("上门", "visit"),
    "reply": ("答复", "reply"), "handover": ("转交", "handover"),
}


def pick(lang: str, pair: tuple[str, str]) -> str:
    return pair[1] if lang == "en" else pair[0]


def words(lang: str) -> dict[str, str]:
    return {key: pick(lang, pair) for key, pair in _WORDS.items()}


def expected(lang: str, kind: str) -> str:
    return pick(lang, _EXPECTED.get(kind, ("格式不正确", "is not valid")))


def required(lang: str) -> str:
    return pick(lang, ("必填", "required"))


def time_problem(lang: str, text: str) -> str | None:
    for english, pair in _TIME_PROBLEMS.items():
        if english in text:
            return pick(lang, pair)
    return None
