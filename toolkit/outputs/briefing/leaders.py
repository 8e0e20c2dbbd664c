"""A one-page digest per 责任领导 (`ducha briefing --leaders`): that leader's tasks, their lights,
the lagging ones and the units concerned, from the same MergedQuarter as the 通报.

A 分管领导 reads one page about his own tasks, not the city's three; the office prints them in one
go and hands each leader his page, so all digests are one Word file with a page each (one print
job, one PDF to check), 领导摘要.docx beside the 通报. A page holds at most RED_ROWS red tasks one
line each; more are counted and left to the 附件, so a digest never runs onto a second page.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.forms import layout
from toolkit.outputs.briefing.render import stable_zip
from toolkit.outputs.briefing.text import clean, shorten
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.rules import LIGHT_RED, LIGHT_YELLOW, LIGHTS, STATUS_LEAD_MISSING, STATUS_MISSING

DIGEST_STEM = "领导摘要"
RED_ROWS = 26  # red tasks listed one line each; the rest counted (one A4 page at 小五)
CONTENT_LIMIT = 15  # characters of a task in its 54 mm column at 9 pt
PROBLEM_LIMIT = 13
WIDTHS_MM = (12, 54, 46, 48)  # 编号, 任务, 牵头单位, 存在问题: the 160 mm text block
HEADING_FONT, BODY_FONT, KAI_FONT = "黑体", "仿宋_GB2312", "楷体_GB2312"
FIXED_TIME = dt.datetime(2024, 1, 1)
TITLES = ("市长", "书记", "主任", "秘书长")  # the notice names some leaders by post


@dataclass(frozen=True)
class Digest:
    """One leader's page."""

    leader: str
    lights: dict[str, int]
    done: int
    red: list[dict[str, Any]]  # every red task: no, content, lead, problem
    yellow: list[int]  # task numbers
    silent_units: list[str]  # units that did not report on this leader's tasks
    red_leads: list[str]  # lead units of this leader's red tasks

    @property
    def total(self) -> int:
        return sum(self.lights.values())


def _names(value: object) -> list[str]:
    return [clean(part) for part in str(value if value is not None and not pd.isna(value) else "").split("、")
            if clean(part)]


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def leader_digests(merged: MergedQuarter) -> list[Digest]:
    """One Digest per 责任领导, in the order the ledger first names them."""
    from toolkit.outputs.briefing.official import lead_problem

    tasks = merged.tasks
    named = tasks["责任领导"].map(_names)
    digests = []
    for leader in _unique([name for names in named for name in names]):
        own = tasks[named.map(lambda names, who=leader: who in names)]
        red = own[own["红黄绿灯"] == LIGHT_RED]
        unreported = own[own["综合状态"].isin((STATUS_MISSING, STATUS_LEAD_MISSING))]
        digests.append(Digest(
            leader=leader,
            lights={light: int((own["红黄绿灯"] == light).sum()) for light in LIGHTS},
            done=int((own["综合状态"] == layout.STATUS_DONE).sum()),
            red=[{"no": int(r["任务编号"]), "content": shorten(r["任务内容"], CONTENT_LIMIT), "lead": clean(r["牵头单位"]),
                  "problem": shorten(lead_problem(r["存在问题"], clean(r["牵头单位"])), PROBLEM_LIMIT) or "未填写"}
                 for _, r in red.iterrows()],
            yellow=[int(n) for n in own.loc[own["红黄绿灯"] == LIGHT_YELLOW, "任务编号"]],
            silent_units=_unique([u for value in unreported["未报送单位"] for u in _names(value)]),
            red_leads=_unique([clean(u) for u in red["牵头单位"]]),
        ))
    return digests


def addressed(leader: str) -> str:
    """刘震 → 刘震同志; a post named instead of a person (常务副市长) stays as it is."""
    return leader if leader.endswith(TITLES) else f"{leader}同志"


def _lights_text(digest: Digest) -> str:
    counts = "，".join(f"{light}{count}项" for light, count in digest.lights.items() if count)
    return f"分管（含协管）任务{digest.total}项：{counts}；已完成{digest.done}项。"


def digest_docx(digests: list[Digest], period: Period, issuer: str, day: str) -> bytes:
    """All digests as one Word file, one A4 page each (page breaks between), with the GB/T 9704
    font names the 通报 uses, so the PDF printer maps them alike; fixed dates for repeatable bytes."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin = section.right_margin = Mm(25)

    def para(text: str, font: str = BODY_FONT, size: float = 12, align: Any = None, after: float = 2) -> Any:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(after)
        paragraph.paragraph_format.space_before = Pt(0)
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run(text)
        run.font.name, run.font.size = font, Pt(size)
        run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
        return paragraph

    for index, digest in enumerate(digests):
        title = para(f"{addressed(digest.leader)}分管任务推进情况摘要", HEADING_FONT, 16, WD_ALIGN_PARAGRAPH.CENTER, 4)
        if index:
            title.paragraph_format.page_break_before = True
        para(f"{period.full_label}　统计截至{day}　{issuer}", KAI_FONT, 11, WD_ALIGN_PARAGRAPH.CENTER, 8)
        para(_lights_text(digest) + f"序时进度{period.pace}%。")
        listed = digest.red[:RED_ROWS]
        para(f"一、红灯任务（{len(digest.red)}项）", HEADING_FONT, 12)
        if listed:
            table = doc.add_table(rows=1 + len(listed), cols=4)
            table.style = "Table Grid"
            table.autofit = False
            rows = [("编号", "任务", "牵头单位", "存在问题")] + [
                (str(r["no"]), r["content"], r["lead"], r["problem"]) for r in listed]
            for row, texts in zip(table.rows, rows, strict=True):
                for cell, text, width in zip(row.cells, texts, WIDTHS_MM, strict=True):
                    cell.width = Mm(width)
                    run = cell.paragraphs[0].add_run(text)
                    run.font.name, run.font.size = BODY_FONT, Pt(9)
                    run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
            for column, width in zip(table.columns, WIDTHS_MM, strict=True):
                column.width = Mm(width)
        if len(digest.red) > RED_ROWS:
            para(f"另有{len(digest.red) - RED_ROWS}项红灯任务，见通报附件。", size=10.5)
        yellow = "、".join(str(n) for n in digest.yellow) or "无"
        para(f"二、黄灯任务（{len(digest.yellow)}项）", HEADING_FONT, 12)
        para(f"任务编号：{yellow}。", size=10.5)
        para("三、涉及单位", HEADING_FONT, 12)
        para(f"未按要求报送的：{'、'.join(digest.silent_units) or '无'}。", size=10.5)
        para(f"红灯任务牵头单位：{'、'.join(digest.red_leads) or '无'}。", size=10.5)
    doc.core_properties.title = f"{period.full_label}责任领导摘要"
    doc.core_properties.created = doc.core_properties.modified = FIXED_TIME
    out = io.BytesIO()
    doc.save(out)
    return stable_zip(out.getvalue())
