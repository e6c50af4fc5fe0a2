"""Every agent line of the seed script is said, word for word, by some built-in step.

The seed (tests/fixtures/seed_001_lines_305_397.txt, a verbatim copy of seed 001
lines 305-397) was extracted from a PDF: its lines break mid-sentence and once
carry a stray item number. We compare with white space removed, and for each
line name the exact seed text it reproduces, so the list itself is checked
against the seed.
"""

from __future__ import annotations

import re

import pytest

from callscript import Flow, builtin_flows

from .conftest import FIXTURES

SEED = re.sub(r"\s+", "", (FIXTURES / "seed_001_lines_305_397.txt").read_text(encoding="utf-8"))

# (the line as a step says it, the seed text it reproduces when that differs)
SEED_LINES: list[tuple[str, str | None]] = [
    ("您好,您是***先生(或女士)吗?", None),
    ("您是***********号客户吗?", None),
    ("我是联通公司客户服务人员,欢迎您使用联通133(130)手机业务,请问能占用您几分钟时间吗?", None),
    ("请您放心,此次(我们之间的)通话是免费的,我想了解一下最近您手机及网络使用情况,并请您多提宝贵意见", None),
    ("***先生(或女士)您好,我是联通公司客户服务人员,前一段时间和您通过电话,"
     "请问您最近使用情况怎么样?", None),
    ("***先生(或女士)您好,我是联通公司客户服务人员,前一段时间我们通过电话,从系统中,看到您上月话费是***元,"
     "本月话费是***元,我们很想了解一下您话费下降的原因。是由于我们的服务有您不满意的地方吗?"
     "我们十分希望您能向我们提出宝贵意见。", None),
    ("请问您什么时间有空,再与您联系,我们的服务一定会给您带来很多方便,打扰您了,再见", None),
    ("我们改日再联系,或明天,您认为可以吗?", None),
    ("您好,我是联通公司客户服务人员,请您放心,我们之间的通话是免费的,可否占用您几分钟的时间吗?", None),
    ("我想了解一下,您的手机从XX月没有使用,您能否告诉我其中的原因呢?或许我会为您解决一些问题。",
     "我想了解一下,您的手机从XX月没有使用,(或从XX月欠费停机了),您能否告诉我其中的原因呢?或许我会为您解决一些问题。"),
    ("我想了解一下,您的手机从XX月欠费停机了,您能否告诉我其中的原因呢?或许我会为您解决一些问题。",
     "我想了解一下,您的手机从XX月没有使用,(或从XX月欠费停机了),您能否告诉我其中的原因呢?或许我会为您解决一些问题。"),
    ("为了能够及时向您传达我公司优惠政策及邮寄话单的准确性,请您提供一下您的详细地址,住宅电话,好吗?", None),
    ("同时我们想了解一下您的工作单位及职务,或对网络及手机有什么需求?"
     "我们会根据您个人情况为您提供个性化的服务", None),
    ("我们很希望知道您的生日及特殊的纪念日,联通公司会定时送上我们的一份祝福,请您留一下好吗?",
     "我们很希望知道您的生日及特殊的纪念日,联通公司会定时(4)送上我们的一份祝福,请您留一下好吗?"),
    ("非常感谢!", None),
    ("您希望我们多长时间回访您一次比较合适", None),
    ("今后在业务方面有什么需求请随时与我联系,联系电话是*******,我叫***", None),
    ("如您需要二次回访,我们会定期为您提供服务。", None),
    ("谢谢您对我工作上的支持,再见。", None),
    ("为了及时向您传达我公司近期优惠政策,请您说一下您的姓名、联电、住址,我们会在较短的时间内通知到您;", None),
    ("您有没有领到我公司的俱乐部世界风VIP贵宾卡?如果没有领取,您可以把您的单位或家里地址告诉我们,"
     "我们会给您送过去,使您及早地使用VIP卡,享受到贵宾的待遇", None),
    ("您如果想确定是否是手机的问题,我建议您先到**手机售后维修中心进行检测,如没有问题,您也可放心使用了", None),
    ("很抱歉,给您带来这么大的不便,但请您相信,我将全力帮助您解决这个问题,给您一个满意的答复!", None),
    ("请您不要着急,我会马上为您解释(或查询);我公司出台不同政策是根据不同的客户需求而定,我会根据您的实际情况"
     "向您介绍您的资费,使用情况,与同行业相比,国家比较支持联通,允许比其他移动行业的资费底10%,"
     "所以选择我公司,一定会得到实惠的", None),
    ("建议您到营业厅打印详细话单,进一步查询,如仍有疑问,可随时与我联系", None),
    ("感谢您对我们提出的批评与建议,我们会在较短的时间内进行改善,请您随时监督", None),
    ("您能将出现无网络的具体的地点或范围说一下好吗?我将把您所说的这些情况向我公司运维部的人员反映,"
     "对网络进行测试", None),
    ("请您谅解,由于网络原因影响您正常工作与生活,我们确实比您还着急,因为网络建设是需要不断的优化,"
     "通过客户的反映,不断改善,我们将尽力在较短的时间内,解决此问题,我们会及时与您联系", None),
    ("非常感谢您对我工作的支持,如果您有联通业务方面的问题,可随时拨打客户经理服务热线,电话是XXXXXXX,"
     "我将会为您提供竭诚的服务。打扰您了!", None),
    ("再见", None),
    ("请您稍等一下", None),  # phone norm 4
]


def rendered_steps() -> list[str]:
    """Every step of every built-in flow, its lines joined, under the seed's placeholders."""
    flows: dict[str, Flow] = builtin_flows()
    said = []
    for flow in flows.values():
        schema = flow.schema
        idle = schema.placeholder_context(only=[p for p in schema.fields
                                                if p != "billing.suspended_since_month"])
        suspended = schema.placeholder_context(only=[p for p in schema.fields
                                                     if p != "billing.idle_since_month"])
        for step_id in flow.steps:
            for context in (idle, suspended):
                said.append("".join(flow.render_step(step_id, context)))
    return said


SAID = rendered_steps()


@pytest.mark.parametrize(("line", "seed_form"), SEED_LINES, ids=[s[0][:12] for s in SEED_LINES])
def test_seed_line_is_said_word_for_word(line: str, seed_form: str | None) -> None:
    assert re.sub(r"\s+", "", seed_form or line) in SEED, "the test's line is not the seed's"
    assert any(line in said for said in SAID), f"no step says: {line}"


def test_every_dash_line_of_the_seed_script_is_listed() -> None:
    # section 四 (lines 348-397 of the seed): every —— line starts with a listed line
    text = (FIXTURES / "seed_001_lines_305_397.txt").read_text(encoding="utf-8")
    script = re.sub(r"\s+", "", text[text.index("四、电话回访服务用语"):])
    instructions = ("是", "可以", "好的", "认真听客户反映", "解答客户提问")
    listed = [re.sub(r"\s+", "", line) for line, _ in SEED_LINES]
    # conditions in front of a line are agent notes: (测试后确属网络问题,…) and 如确实属于…(…)
    conditions = re.compile(r"^(如确实属于我公司手机问题)?\([^)]*\)")
    for piece in script.split("——")[1:]:
        if piece.startswith(instructions):
            continue
        piece = conditions.sub("", piece)
        head = re.split(r"\(\d", piece)[0][:8]  # stop at a stray item number such as (5)
        assert any(head in line for line in listed), f"seed line not listed: {piece[:30]}"
