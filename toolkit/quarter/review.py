"""A merged quarter's view of the requests and decisions (quarter.decisions): 申请审核 in 汇总表,
each unit's receipt lines about its requests and 佐证材料, and closed tasks shown as 已办结.
"""

from __future__ import annotations

import pandas as pd

from toolkit.forms import layout
from toolkit.model import REQUEST_PLAN, Ledger
from toolkit.quarter.decisions import (
    REFUSE,
    SEND_BACK,
    AskedRequest,
    Decision,
    asked_in,
    closed_tasks,
    standing,
)
from toolkit.quarter.evidence import EVIDENCE_COLUMNS, TAKEN, EvidenceFile, evidence_of, names_match
from toolkit.quarter.frames import MergedQuarter, summary_counts
from toolkit.quarter.rules import LIGHT_GREEN, STATUS_CLOSED
from toolkit.quarter.store import Store

REQUEST_COLUMNS = ("任务编号", "责任单位", "申请事项", "申请完成时间", "理由", "佐证材料", "审核意见", "说明", "审核人",
                   "审核日期")
PENDING = "待审核"


def attach_reviews(store: Store, merged: MergedQuarter, ledger: Ledger) -> None:
    """The review's part of a merged quarter: closed tasks as 已办结 (mark_closed), 申请审核 (every
    request of the period with its standing decision) and each unit's receipt lines about them."""
    mark_closed(store, merged, ledger)
    decided = standing(store)
    files = evidence_of(store, merged.period.key)
    rows, notes, linked = [], {}, {}
    for a in asked_in(merged.period.key, merged.files):
        d = decided.get(a.key)
        r = a.request
        rows.append((a.task_no, a.unit, r.kind, r.date, r.reason, evidence_text(a, files),
                     d.action if d else PENDING, d.note if d else "", d.reviewer if d else "", d.decided_on if d else ""))
        notes.setdefault(a.unit, []).append(receipt_line(a, d))
        for f in files:
            if f.unit == a.unit and any(names_match(n, f.name) for n in r.evidence):
                linked.setdefault((f.unit, f.name), []).append(a.task_no)
    for f in files:
        notes.setdefault(f.unit, []).append(
            f"佐证材料“{f.name}”未接收：{f.problem}" if f.problem else f"佐证材料“{f.name}”已接收。")
    merged.requests = pd.DataFrame(rows, columns=list(REQUEST_COLUMNS))
    merged.evidence = evidence_frame(files, linked)
    merged.review_notes = notes


def evidence_text(asked: AskedRequest, files: list[EvidenceFile]) -> str:
    """The 佐证材料 a request names, each marked 已收到 or 未收到 (no such file came, or it was refused)."""
    def received(named: str) -> bool:
        return any(f.unit == asked.unit and not f.problem and names_match(named, f.name) for f in files)

    return "、".join(f"{n}（{'已收到' if received(n) else '未收到'}）" for n in asked.request.evidence)


def receipt_line(asked: AskedRequest, d: Decision | None) -> str:
    """What the unit's receipt says about one of its requests."""
    head = f"申请审核：第{asked.task_no}项{asked.request.kind}"
    if d is None:
        return f"{head}，已收到，待督查局审核。"
    said = f"（{d.note}）" if d.note else ""
    if d.action == SEND_BACK:
        return f"{head}，退回补充{said}。请按要求补充后，在下次报送时重新提出申请。"
    if d.action == REFUSE:
        return f"{head}，审核不同意{said}，请按原{'节点计划' if asked.request.kind == REQUEST_PLAN else '时间节点'}推进。"
    effect = {layout.REQUEST_CLOSE: "该任务已办结销号，今后不再填报。",
              REQUEST_PLAN: "节点计划已按申请调整，今后按调整后的节点计划考核。"}.get(
        asked.request.kind, f"时间节点调整为{asked.request.date}。")
    return f"{head}，审核同意{said}，{effect}"


def mark_closed(store: Store, merged: MergedQuarter, ledger: Ledger) -> None:
    """任务进展 and its counts with the closed tasks as 已办结 (green): a task closed this quarter
    keeps its row; one closed earlier (gone from the quarter's ledger) gets its row back from the
    full ledger, so 汇总表 and the 通报 count every closed task."""
    closed = closed_tasks(store, merged.period.key)
    if not closed:
        return
    tasks = merged.tasks
    here = tasks["任务编号"].isin(list(closed))
    tasks.loc[here, ["综合状态", "红黄绿灯", "未报送单位", "逾期节点"]] = [STATUS_CLOSED, LIGHT_GREEN, "", ""]
    present = set(tasks["任务编号"])
    earlier = [
        {"任务编号": t.no, "板块": t.section, "任务内容": t.content, "责任领导": t.leaders_text, "牵头单位": t.lead,
         "综合状态": STATUS_CLOSED, "红黄绿灯": LIGHT_GREEN, "完成进度(%)": 100.0,
         "各单位进展": f"{closed[t.no]}申请办结，已审核同意", "存在问题": "", "未报送单位": "", "逾期节点": ""}
        for t in ledger.tasks if t.no in closed and t.no not in present
    ]
    if earlier:
        tasks = pd.concat([tasks, pd.DataFrame(earlier, columns=tasks.columns)], ignore_index=True)
        tasks = tasks.sort_values("任务编号", kind="stable", ignore_index=True)
    merged.tasks = tasks
    merged.counts = summary_counts(merged.period, merged.unit_status, tasks)


def evidence_frame(files: list[EvidenceFile], linked: dict[tuple[str, str], list[int]]) -> pd.DataFrame:
    """汇总表 佐证材料: one row per file; linked: (unit, file name) → the task numbers naming it."""
    rows = [(f.unit, f.name, f.format, round(f.size / 1024, 1), f.received.replace("T", " "),
             "、".join(f"第{n}项" for n in linked.get((f.unit, f.name), [])), f.problem or TAKEN) for f in files]
    return pd.DataFrame(rows, columns=list(EVIDENCE_COLUMNS))
