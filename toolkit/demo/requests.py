"""`make demo`, 延期申请 and 办结销号 (issue 15): in the second quarter four units ask the bureau
for something, the leader decides in the 审核表, and the decisions reach the receipts.

One extension is approved and one refused; one 办结 with its 验收报告.pdf beside the workbook is
approved (the task leaves every later workbook); one 办结 whose named photo never came is sent
back. The four units are the last clean reporters in the sorted workbooks, none of which the
疑似不实 scenario (demo/suspects.py) touches, and the cases follow from the files alone, so two
runs print the same.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from toolkit.config import Config
from toolkit.demo import unitsim
from toolkit.forms.plan import plan
from toolkit.ledger.build import load_ledger
from toolkit.ledger.plan_check import parse_deadline
from toolkit.outputs.publish import MergeResult, merge
from toolkit.outputs.review_apply import apply_review
from toolkit.outputs.review_book import review_path, write_review
from toolkit.period import Period
from toolkit.quarter.decisions import closed_before

EVIDENCE = "验收报告.pdf"
MISSING = "验收照片.jpg"
# A small, well-formed PDF: what a unit scans its acceptance report into.
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
       b"trailer<</Root 1 0 R>>\n%%EOF\n")
LEADER = "王副局长"
# case → (审核意见, 说明)
DECISIONS = {
    "extend_ok": ("同意", "征地手续确需省厅批复，同意延期"),
    "extend_no": ("不同意", "理由不充分，请按原时间节点加快推进"),
    "close_ok": ("同意", "佐证材料齐全，同意办结销号"),
    "close_back": ("退回补充", f"未收到佐证材料“{MISSING}”，请补充后重新申请"),
}


@dataclass(frozen=True)
class Case:
    unit: str
    task_no: int


def cases(config: Config, period: Period, outbox: Path, plain: int) -> dict[str, Case]:
    """The four requests: the first task each of the last four clean reporters leads."""
    ledger = load_ledger(config)
    units = [book.stem.split("_", 1)[1] for book in sorted(outbox.glob(f"{period.key}_*.xlsx"))[plain:]]
    leading = [(u, a.task.no) for u in reversed(units)
               for a in ledger.assignments().get(u, [])[:1] if a.task.lead == u]
    return {name: Case(*found) for name, found in zip(DECISIONS, leading, strict=False)}


def request_answers(config: Config, period: Period, outbox: Path, plain: int,
                    taken: Collection[str]) -> dict[str, list[unitsim.Mutation]]:
    """By unit, the mutations that make the four requests (units in `taken` are left alone)."""
    ledger = load_ledger(config)
    found = {name: c for name, c in cases(config, period, outbox, plain).items() if c.unit not in taken}
    answers: dict[str, list[unitsim.Mutation]] = {}
    for name, c in found.items():
        if name.startswith("extend"):
            due = parse_deadline(ledger.task(c.task_no).deadline, period.year) or dt.date(period.year, 12, 31)
            later = max(due, dt.date(period.year, 12, 31)) + dt.timedelta(days=181)
            change = unitsim.answer(c.task_no, request="申请延期", request_date=later.isoformat(),
                                    reason="项目用地需省厅批复，审批时间长于预期")
        else:
            named = EVIDENCE if name == "close_ok" else MISSING
            change = unitsim.answer(c.task_no, status="已完成", progress=100, problems="", next="",
                                    request="申请办结", reason="任务已全部完成并通过验收", evidence=named)
        answers[c.unit] = [change]
    return answers


def attach_evidence(config: Config, period: Period, outbox: Path, plain: int, folder: str) -> None:
    """The unit whose 办结 is approved sends its 验收报告.pdf with its workbook, in one folder of its own."""
    case = cases(config, period, outbox, plain)["close_ok"]
    book = config.paths.drop / folder / f"{case.unit}.xlsx"
    own = config.paths.drop / folder / case.unit
    own.mkdir(parents=True, exist_ok=True)
    moved = shutil.move(book, own / book.name)
    (own / EVIDENCE).write_bytes(PDF)
    stamp = Path(moved).stat().st_mtime
    os.utime(own / EVIDENCE, (stamp, stamp))


def review_requests(config: Config, period: Period, outbox: Path, plain: int, now: dt.datetime,
                    say: Callable[[str], None]) -> MergeResult:
    """`ducha review`, the leader's decisions, `ducha review apply`, and the merge that carries them
    into 汇总表 and the receipts. Returns that merge."""
    found = cases(config, period, outbox, plain)
    path, count = write_review(config, period)
    say(f"  审核表：{path}（待审核申请 {count} 项）")
    wb = openpyxl.load_workbook(path)
    ws = wb["审核表"]
    for r in range(2, ws.max_row + 1):
        key = (ws.cell(r, 4).value, ws.cell(r, 2).value)
        name = next((n for n, c in found.items() if (c.unit, c.task_no) == key), None)
        if name:
            ws.cell(r, 11).value, ws.cell(r, 12).value = DECISIONS[name]
            ws.cell(r, 13).value, ws.cell(r, 14).value = LEADER, now.date()
    filled = review_path(config, period).with_name(f"{period.key}_审核表（已审核）.xlsx")
    wb.save(filled)
    applied = apply_review(config, filled, now)
    say(f"  ducha review apply：已登记审核意见 {len(applied.recorded)} 项")
    for name, c in found.items():
        say(f"    {c.unit} 第{c.task_no}项：{DECISIONS[name][0]}（{DECISIONS[name][1]}）")
    result = merge(config, period, now=now)
    closed = found["close_ok"]
    later = period.next(config.deadlines)
    rows = plan(load_ledger(config), [closed.unit], closed_before(config, later)).jobs
    still = any(a.task.no == closed.task_no for job in rows for a in job.assignments)
    say(f"  第{closed.task_no}项已办结销号：{later.full_label}填报表{'仍' if still else '不再'}包含该任务")
    return result
