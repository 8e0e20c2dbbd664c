"""The clerk moves a task's lead after the workbooks went out: the quarter is judged by today's
ledger, nothing a unit reported vanishes silently, and both units' receipts say what changed
(issue 11.7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os

import openpyxl
import pytest

from tests.merge_fixtures import COMMERCE, NDRC, small_ledger
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.forms import meta
from toolkit.forms.generate import generate_from
from toolkit.forms.plan import file_name
from toolkit.intake.codes import CODES
from toolkit.outputs.publish import merge_with
from toolkit.outputs.receipts import RECEIPT_DIR, receipt_name
from toolkit.outputs.summary_book import BOOK_NAME
from toolkit.period import Period

Q1 = Period.parse("2024Q1")
NOW = dt.datetime(2024, 3, 25, 9, 0)
TO_NDRC_2 = "任务2的牵头单位已调整为市发展改革委，本单位不再承担该任务，所报进展不计入汇总"
TO_NDRC_3 = "任务3的牵头单位已调整为市发展改革委，本单位该任务按配合处理"
NOW_LEAD_2 = "任务2的牵头单位已调整为本单位，本单位该任务按牵头处理（填报表下发时为配合）"
NOW_LEAD_3 = "任务3的牵头单位已调整为本单位，但下发给本单位的填报表中没有该任务，本次未能报送其进展，请与督查局联系补报"


def moved(ledger):  # noqa: ANN001, ANN201
    """Today's ledger: 发改委 now leads task 2 alone (商务局 dropped) and leads task 3, where
    商务局 stays as 配合."""
    tasks = {t.no: t for t in ledger.tasks}
    tasks[2] = dataclasses.replace(tasks[2], units_text=NDRC, lead=NDRC, co=())
    tasks[3] = dataclasses.replace(tasks[3], units_text=f"{NDRC}、{COMMERCE}，各县区", lead=NDRC, co=(COMMERCE,))
    return dataclasses.replace(ledger, tasks=[tasks[n] for n in sorted(tasks)])


def answer(status: str, progress: int) -> dict:
    return {"status": status, "progress": progress, "done": "按计划推进。", "problems": "", "next": "继续推进。",
            "person": "张三", "phone": "13800000000"}


@pytest.fixture
def merged_after_the_move(tmp_path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path)
    issued = config.paths.outbox / Q1.key
    generate_from(small_ledger(), Q1, config.bureau, meta.load_secret(config.paths.secret), issued,
                  now=dt.datetime(2024, 3, 1, 9, 0))
    sent = dt.datetime(2024, 3, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))).timestamp()
    for n, (unit, name, answers) in enumerate((
        (NDRC, "发改委.xlsx", {1: answer("正常推进", 60), 2: answer("正常推进", 55)}),
        (COMMERCE, "商务局.xlsx", {2: answer("正常推进", 80), 3: answer("正常推进", 70)}),
    )):
        dropped = unitsim.fill(issued / file_name(Q1, unit), config.paths.drop / name, answers)
        os.utime(dropped, (sent + n, sent + n))
    return config, merge_with(config, moved(small_ledger()), Q1, now=NOW)


def test_tasks_are_judged_by_todays_ledger(merged_after_the_move):
    _config, result = merged_after_the_move
    tasks = result.merged.tasks.set_index("任务编号")
    # Task 2: the new lead's 55% is the lead's number (it was filled as 配合); the old lead's row is out.
    assert (tasks.at[2, "完成进度(%)"], tasks.at[2, "红黄绿灯"]) == (55.0, "绿灯")
    assert COMMERCE not in tasks.at[2, "各单位进展"] and NDRC in tasks.at[2, "各单位进展"]
    # Task 3: 商务局's 70% is a 配合 unit's now; the new lead has not reported it.
    assert math.isnan(tasks.at[3, "完成进度(%)"])
    assert COMMERCE in tasks.at[3, "各单位进展"] and NDRC in tasks.at[3, "未报送单位"].split("、")
    reports = result.merged.reports
    assert sorted(zip(reports["单位"], reports["任务编号"], reports["本单位职责"], strict=True)) == sorted(
        [(NDRC, 1, "牵头"), (NDRC, 2, "牵头"), (COMMERCE, 3, "配合")])


def test_both_units_are_told_what_changed(merged_after_the_move):
    config, result = merged_after_the_move
    out = config.paths.reports / Q1.key

    def problem_rows(unit: str) -> list[tuple]:
        sheet = openpyxl.load_workbook(out / RECEIPT_DIR / receipt_name(Q1.key, unit))["问题清单"]
        return [row for row in sheet.iter_rows(min_row=2, values_only=True)]

    def front_lines(unit: str) -> list[str]:
        sheet = openpyxl.load_workbook(out / RECEIPT_DIR / receipt_name(Q1.key, unit))["回执"]
        return [row[0] for row in sheet.iter_rows(values_only=True) if row[0]]

    assert problem_rows(COMMERCE) == [
        ("商务局.xlsx", "提醒", "进展填报!D6", f"进展填报!D6：{TO_NDRC_2}"),
        ("商务局.xlsx", "提醒", "进展填报!D7", f"进展填报!D7：{TO_NDRC_3}"),
    ]
    assert problem_rows(NDRC) == [
        ("发改委.xlsx", "提醒", "进展填报!D7", f"进展填报!D7：{NOW_LEAD_2}"),
        ("发改委.xlsx", "提醒", None, NOW_LEAD_3),
    ]
    assert {f"任务调整：{TO_NDRC_2}。", f"任务调整：{TO_NDRC_3}。"} <= set(front_lines(COMMERCE))
    assert {f"任务调整：{NOW_LEAD_2}。", f"任务调整：{NOW_LEAD_3}。"} <= set(front_lines(NDRC))
    # The copy of the unit's rows marks the 本单位职责 cell that no longer holds.
    copy = openpyxl.load_workbook(out / RECEIPT_DIR / receipt_name(Q1.key, COMMERCE))["进展填报"]
    assert (copy["D6"].value, copy["D6"].comment.text) == ("牵头", f"进展填报!D6：{TO_NDRC_2}")

    # The clerk sees the same lines in 汇总表's 问题清单, and the verdicts stand.
    issues = openpyxl.load_workbook(out / BOOK_NAME)["问题清单"]
    moved_rows = [(row[1], row[3], row[5], row[7]) for row in issues.iter_rows(min_row=2, values_only=True)
                  if row[5] == CODES["task_reassigned"][1]]
    assert moved_rows == [
        (NDRC, "采用", CODES["task_reassigned"][1], f"进展填报!D7：{NOW_LEAD_2}"),
        (NDRC, "采用", CODES["task_reassigned"][1], NOW_LEAD_3),
        (COMMERCE, "采用", CODES["task_reassigned"][1], f"进展填报!D6：{TO_NDRC_2}"),
        (COMMERCE, "采用", CODES["task_reassigned"][1], f"进展填报!D7：{TO_NDRC_3}"),
    ]
    assert result.merged.unit_status[COMMERCE] == result.merged.unit_status[NDRC] == "已报送"
