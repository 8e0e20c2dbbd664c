"""Task text → quantitative targets (量化指标): 新增城镇就业6.24万人以上 → 6.24 万人 ≥.

The lead unit reports a completed value against each target every quarter, so a number counts
only when a measurement unit follows it: that is what separates a target from a year (2024年),
an ordinal (第七届), a technology (5G) or a product code. Numbers describing a project rather than
a goal (年产…111万吨, 28万吨固废等项目) are skipped; 翻番 is the one target without a number
(+100%). Each target also gets its kind (model.default_kind: a growth rate is judged against the
rate itself, an amount against target × 序时进度), and growth is a floor (增长6% → ≥). The clerk
can correct the rest in the ledger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.model import Indicator

AT_LEAST, ABOUT, AT_MOST, EXACT = "≥", "≈", "≤", "="
DIRECTIONS = (AT_LEAST, ABOUT, AT_MOST, EXACT)

# Longest first, so 万人次 wins over 万人 and 万吨标准煤 over 万吨.
MEASURES = (
    "万吨标准煤",
    "万平方米",
    "万人次",
    "万人",
    "万亩",
    "万吨",
    "亿元",
    "公里",
    "%",
    "家",
    "个",
    "座",
    "张",
    "所",
    "项",
    "场",
    "处",
    "件",
    "条",
    "人",
)
AFTER = {"以上": AT_LEAST, "左右": ABOUT, "以内": AT_MOST}
BEFORE = {"不低于": AT_LEAST, "突破": AT_LEAST, "达到": AT_LEAST, "不超过": AT_MOST}
# Words that only say where the number sits, not what it measures; cut from the name.
STEADY = ("保持在", "稳定在", "控制在", "保持", "均", "实现")
FILLERS = ("确保", "力争", "实现", "全市", "全年", "在")
# A count of new things to deliver is a floor even without 以上 (城镇新增就业6.24万人).
NEW_WORDS = ("新增", "新建", "新培育", "新启动", "新（改）建")
# A growth target is a floor: 一般公共预算收入增长6% means at least 6%, unless 左右 or 以内 says otherwise.
GROWTH_WORDS = ("增长", "增速", "增幅")
# 翻番 is a target without a number: the scale doubles, i.e. grows by 100%.
DOUBLING = "翻一?番"
CAPACITY = "年产"
PROJECT_NAME = "等项目"

_NUM = r"\d+(?:\.\d+)?"
_TARGET = re.compile(
    rf"(?<![\dA-Za-z.第])({_NUM})(?:至({_NUM}))?({'|'.join(map(re.escape, MEASURES))})"
    rf"({'|'.join(AFTER)})?(?![A-Za-z0-9])|{DOUBLING}"
)
_CLAUSE = re.compile(r"[^，；。！？]+")


def _trim_name(pre: str) -> tuple[str, str]:
    """(name, direction word) from the text before a number: 确保不良贷款率保持在 → 不良贷款率."""
    name = pre.lstrip("、和及与")
    word = ""
    changed = True
    while changed:
        changed = False
        for suffix in (*BEFORE, *STEADY):
            if name.endswith(suffix):
                word = word or suffix
                name = name[: -len(suffix)]
                changed = True
        for prefix in FILLERS:
            if name.startswith(prefix) and len(name) > len(prefix):
                name = name[len(prefix) :]
                changed = True
    return name, word


def _direction(after: str | None, word: str, head: str, is_range: bool, growth: bool) -> str:
    if after:
        return AFTER[after]
    if word in BEFORE:
        return BEFORE[word]
    if is_range or growth or any(w in head for w in NEW_WORDS):
        return AT_LEAST
    return EXACT


def extract(task_no: int, text: str) -> list[Indicator]:
    """Every quantitative target in one task text, in reading order."""
    found: list[Indicator] = []
    for clause_match in _CLAUSE.finditer(text):
        clause = clause_match[0]
        matches = list(_TARGET.finditer(clause))
        previous_end = 0
        for match in matches:
            pre = clause[previous_end : match.start()]
            tail = clause[match.end() :]
            post = tail.split("、", 1)[0]
            if _TARGET.search(post):
                post = ""
            previous_end = match.end()
            if CAPACITY in pre or PROJECT_NAME in post:
                continue
            name, word = _trim_name(pre)
            low, high, measure, after = match.groups()
            if low is None:  # 翻番
                name, low, measure = name + GROWTH_WORDS[0], "100", "%"
            name = (name + post).strip("、") or clause
            growth = measure == "%" and name.endswith(GROWTH_WORDS)
            found.append(
                Indicator(
                    task_no=task_no,
                    name=name,
                    target=float(low),
                    unit=measure,
                    direction=_direction(after, word, clause[: match.start()], high is not None, growth),
                    source=(pre + match[0] + post).strip("、"),
                )
            )
    return found


def extract_all(texts: Iterable[tuple[int, str]]) -> list[Indicator]:
    """Indicators for (task number, task text) pairs, in task order."""
    return [indicator for no, text in texts for indicator in extract(no, text)]
