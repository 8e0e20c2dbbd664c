"""A change of an accepted 节点计划 is a request (issue 14, with the review of issue 15): it is listed
in the 审核表 with the old milestones and the new, an approval replaces the task's rows in the
ledger's 节点计划 (the lights follow from then on), a refusal leaves the ledger as it was and tells
the unit in its receipt."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.test_unit_plans import COMMERCE, plan_rows, returned
from toolkit.config import load_config
from toolkit.ledger.build import load_ledger
from toolkit.model import VERDICT_ACCEPTED, CheckedFile, PlanRow, TaskReport
from toolkit.outputs.review_apply import apply_review
from toolkit.outputs.review_book import write_review
from toolkit.period import Period
from toolkit.quarter import decisions
from toolkit.quarter.plan_apply import apply_plans
from toolkit.quarter.plans import task_pace
from toolkit.quarter.store import open_store

Q2 = Period.parse("2024Q2")
NOW = dt.datetime(2024, 7, 10, 15, 0)
BANK = "中国人民银行开封市分行"  # leads task 61
# The bureau planned tasks 61 and 62 in the ledger's 节点计划.
BUREAU = ([61, 1, "完成方案", dt.datetime(2024, 6, 30), 50, "", "李四"], [61, 2, "完成", dt.datetime(2024, 12, 31), 100, "", ""],
          [62, 1, "完成", dt.datetime(2024, 9, 30), 100, "", ""])
ASKED = ("第1个节点：原计划“完成方案”（2024-06-30 达到 50%），调整为“完成方案”（2024-09-30 达到 50%）；"
         "第2个节点：原计划“完成”（2024-12-31 达到 100%），调整为“主体完工”（2024-11-30 达到 90%）；"
         "第3个节点：原计划没有该节点，调整为“验收”（2024-12-31 达到 100%）")


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    """Q2: the bank moved task 61's first milestone from June to September, changed the second and
    added a third."""
    shutil.copy(built, workspace / "master_ledger.xlsx")
    book = openpyxl.load_workbook(workspace / "master_ledger.xlsx")
    for row in BUREAU:
        book["节点计划"].append(row)
    book.save(workspace / "master_ledger.xlsx")
    plans = [PlanRow(BANK, 61, "change", 1, "完成方案", "2024-09-30", 50.0, "李四", "未完成", "", 2,
                     "“完成方案”（2024-06-30 达到 50%）"),
             PlanRow(BANK, 61, "change", 2, "主体完工", "2024-11-30", 90.0, "", "", "", 3, "“完成”（2024-12-31 达到 100%）"),
             PlanRow(BANK, 61, "change", 3, "验收", "2024-12-31", 100.0, "", "", "", 4)]
    task = TaskReport(BANK, 61, "牵头", "正常推进", 40.0, "推进中", "", "下步", "张三", "13800000000", 6)
    with open_store(load_config(workspace).paths.store) as store:
        store.record(CheckedFile(path="drop/bank.xlsx", sha256="b2", size=1, received="2024-06-20T09:00:00",
                                 format="xlsx", unit=BANK, period=Q2.key, signed=True, tasks=[task], plans=plans),
                     Q2.key, "archived", verdict=VERDICT_ACCEPTED)
    return workspace


def decide(root: Path, tmp_path: Path, *values: object) -> tuple[Path, Path]:
    """The 审核表 written, the plan change's row filled with values (审核意见, 说明, 审核人)."""
    path, count = write_review(load_config(root), Q2)
    assert count == 1
    wb = openpyxl.load_workbook(path)
    for col, value in enumerate(values, start=11):
        wb["审核表"].cell(2, col).value = value
    filled = tmp_path / "审核表（已审）.xlsx"
    wb.save(filled)
    return path, filled


def plan_sheet(root: Path) -> list[tuple]:
    book = openpyxl.load_workbook(root / "master_ledger.xlsx")
    return [tuple(r) for r in book["节点计划"].iter_rows(min_row=2, values_only=True) if r[0] is not None]


def test_the_intake_keeps_what_a_changed_milestone_was(tmp_path: Path) -> None:
    checked = returned(tmp_path, COMMERCE, plan_rows((3, None, None, None, dt.datetime(2024, 7, 31))), period=Q2)
    (change,) = [p for p in checked.plans if p.kind == "change"]
    assert (change.seq, change.due, change.was) == (2, "2024-07-31", "“开展春季促消费活动”（2024-05-31 达到 60%）")
    with open_store(tmp_path / "store.sqlite") as store:
        store.record(checked, Q2.key, "archive", verdict=VERDICT_ACCEPTED)
        (record,) = store.load_period(Q2.key)
        assert [p.was for p in record.plans if p.kind == "change"] == [change.was]


def test_the_review_book_lists_a_plan_change_with_the_old_milestones_and_the_new(ws: Path) -> None:
    path, count = write_review(load_config(ws), Q2)
    assert count == 1
    sheet = openpyxl.load_workbook(path)["审核表"]
    assert [sheet.cell(2, c).value for c in range(1, 8)] == [
        "2024Q2", 61, load_ledger(load_config(ws)).task(61).content, BANK, "申请调整计划", None, ASKED]


def test_an_approved_plan_change_replaces_the_tasks_milestones_and_lights_follow(ws: Path, tmp_path: Path) -> None:
    config = load_config(ws)
    ledger = load_ledger(config)
    before = task_pace(ledger, ledger.task(61), {BANK}, [], Q2, dt.date(2024, 7, 1), 40.0, False)
    assert [o.status for o in apply_plans(config).outcomes] == ["requested"]  # `ducha ledger plans`: 待审核
    _, filled = decide(ws, tmp_path, "同意", "", "王局长")
    applied = apply_review(config, filled, NOW)
    assert (applied.problems, len(applied.recorded)) == ([], 1)
    assert apply_plans(config).outcomes == []  # decided: no longer listed as waiting
    assert plan_sheet(ws) == [
        (61, 1, "完成方案", dt.datetime(2024, 9, 30), 50, None, "李四"),
        (61, 2, "主体完工", dt.datetime(2024, 11, 30), 90, None, None),
        (61, 3, "验收", dt.datetime(2024, 12, 31), 100, None, None),
        (62, 1, "完成", dt.datetime(2024, 9, 30), 100, None, None),  # another task's bureau row untouched
    ]
    ledger = load_ledger(config)
    after = task_pace(ledger, ledger.task(61), {BANK}, [], Q2, dt.date(2024, 7, 1), 40.0, False)
    assert (round(before.pace, 1), round(after.pace, 1)) == (49.4, 32.8)  # on 6-28: 50 % due 6-30, then due 9-30
    with open_store(config.paths.store) as store:
        (decision,) = decisions.trail(store)
        assert (decision.kind, decision.action, decision.asked) == ("申请调整计划", "同意", f"申请调整计划：{ASKED}")
    written = (ws / "master_ledger.xlsx").read_bytes()
    again = apply_review(config, filled, NOW)  # the same file twice changes nothing
    assert (again.problems, again.recorded, again.unchanged) == ([], [], 1)
    assert (ws / "master_ledger.xlsx").read_bytes() == written


def test_a_refused_plan_change_leaves_the_ledger_and_the_receipt_says_so(ws: Path, tmp_path: Path) -> None:
    from toolkit.outputs.receipts import receipt_bytes
    from toolkit.quarter.collect import load_merged

    config = load_config(ws)
    ledger_before = (ws / "master_ledger.xlsx").read_bytes()
    _, filled = decide(ws, tmp_path, "不同意", "工期不宜推迟", "王局长")
    assert apply_review(config, filled, NOW).problems == []
    assert (ws / "master_ledger.xlsx").read_bytes() == ledger_before
    merged = load_merged(config, Q2, as_of=dt.date(2024, 7, 10))
    path = tmp_path / "receipt.xlsx"
    path.write_bytes(receipt_bytes(merged, BANK, config.bureau))
    texts = [c.value for row in openpyxl.load_workbook(path)["回执"].iter_rows() for c in row if c.value]
    assert "申请审核：第61项申请调整计划，审核不同意（工期不宜推迟），请按原节点计划推进。" in texts


def test_an_approval_the_ledger_check_refuses_records_nothing(ws: Path, tmp_path: Path) -> None:
    config = load_config(ws)
    with open_store(config.paths.store) as store:  # the new third milestone falls back to 40 %
        store.conn.execute("UPDATE plan_rows SET progress = 40 WHERE seq = 3")
        store.conn.commit()
    ledger_before = (ws / "master_ledger.xlsx").read_bytes()
    _, filled = decide(ws, tmp_path, "同意", "", "王局长")
    applied = apply_review(config, filled, NOW)
    assert applied.recorded == [] and len(applied.problems) == 1
    assert applied.problems[0].startswith("审核表!K2：第61项的计划调整无法写入总台账（")
    assert (ws / "master_ledger.xlsx").read_bytes() == ledger_before
    with open_store(config.paths.store) as store:
        assert decisions.trail(store) == []
