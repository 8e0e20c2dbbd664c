"""`make demo`, 疑似不实: in the second quarter three units answer the way a supervisor should check,
one pattern each where it can, and the clerk confirms one line after a phone call.

The units are the first ones that return a clean file on time in both quarters (scene.PLAIN on);
what each types is read from its pre-filled workbook (last quarter's adopted answers), so every
line the list shows follows from what the demo itself did, and every other unit stays honest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import openpyxl

from toolkit.config import Config
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.ledger.build import load_ledger
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter

PASTED = "召开专题推进会，协调解决项目推进中的困难和问题，各项工作有序开展。"
CONFIRM_NOTE = "电话核实：项目尚未完工，单位承认误报"


def _before(book: Path) -> dict[int, tuple[float, str]]:
    """task no → (progress, 完成情况) pre-filled in the unit's workbook: last quarter's adopted answer."""
    wb = openpyxl.load_workbook(book)
    ws = wb[layout.SHEET_PROGRESS]
    col = {key: layout.column_index(layout.PROGRESS_COLUMNS, key) for key in ("progress", "done")}
    found = {}
    for no, row in unitsim.task_rows(wb).items():
        progress = ws.cell(row, col["progress"]).value
        found[no] = (float(progress) if isinstance(progress, int | float) else 0.0, str(ws.cell(row, col["done"]).value or ""))
    wb.close()
    return found


def suspicious_answers(config: Config, period: Period, outbox: Path,
                       plain: int) -> dict[str, list[unitsim.Mutation]]:
    """By unit, the answers that make the second quarter's 疑似不实 list: one unit's progress falls
    (A) and it repeats last quarter's words (C); another jumps from under 50 % to 已完成 (B) and
    pastes one paragraph into two tasks (E); a third leads a task with a 量化指标, calls it 已完成
    and reports half the target (D). plain: where the units that report cleanly start in the
    sorted workbooks (scene.PLAIN)."""
    ledger = load_ledger(config)
    books = sorted(outbox.glob(f"{period.key}_*.xlsx"))[plain:]
    before = {book.stem.split("_", 1)[1]: _before(book) for book in books}
    units = [u for u, tasks in before.items() if len(tasks) >= 4]
    falls, jumps = units[0], units[1]
    answers: dict[str, list[unitsim.Mutation]] = {falls: [], jumps: []}
    a, (was, _) = next((no, b) for no, b in sorted(before[falls].items()) if 50 <= b[0] < 100)
    c, (was_c, words) = next((no, b) for no, b in sorted(before[falls].items()) if 0 < b[0] < 100 and no != a)
    answers[falls] += [unitsim.answer(a, status="正常推进", progress=was - 20, done=f"第{a}项受资金影响，部分工程暂停。"),
                       unitsim.answer(c, status="正常推进", progress=min(was_c + 20, 95), done=words)]
    low = [no for no, (p, _) in sorted(before[jumps].items()) if p <= 50]
    answers[jumps] += [unitsim.answer(low[0], status="已完成", progress=100, done=f"第{low[0]}项已全部完成。", problems="")]
    pasted = [no for no, (p, _) in sorted(before[jumps].items()) if p < 80 and no != low[0]][:2]
    answers[jumps] += [unitsim.answer(no, status="正常推进", progress=before[jumps][no][0] + 20, done=PASTED)
                       for no in pasted]
    led = next((u, i) for u in units[2:] for i in ledger.indicators
               if ledger.task(i.task_no).lead == u and before[u].get(i.task_no, (0.0, ""))[0] >= 50)
    unit, ind = led
    answers[unit] = [unitsim.answer(ind.task_no, status="已完成", progress=100, done=f"第{ind.task_no}项年度任务已完成。",
                                    problems=""),
                     unitsim.indicator(ind.task_no, ind.name, round(ind.target / 2, 2))]
    return answers


def check_suspects(config: Config, merged: MergedQuarter, say: Callable[[str], None], when: dt.datetime) -> None:
    """Say the quarter's 疑似不实 list as `ducha verify list` does, confirm the jump to 100 % as
    the clerk does after a phone call (at `when`), and merge again an hour later so 汇总表 shows it
    确认不实."""
    from toolkit.cli.text import confirmed_lines, suspect_lines
    from toolkit.outputs.publish import merge
    from toolkit.quarter.verification import confirm

    say(f"\n疑似不实 (ducha verify list --period {merged.period.key})：")
    rows = merged.suspects.to_dict("records")
    for line in suspect_lines(merged.period, rows):
        say(f"  {line}")
    jump = next((r["编号"] for r in rows if r["疑点类型"].startswith("跃升")), None)
    if jump is None:
        return
    say(f"办事员电话核实后登记 (ducha verify confirm --period {merged.period.key} {jump} --note \"{CONFIRM_NOTE}\")：")
    for line in confirmed_lines(confirm(config, merged.period, [jump], CONFIRM_NOTE, when)):
        say(f"  {line}")
    again = merge(config, merged.period, now=when + dt.timedelta(hours=1))
    shown = again.merged.suspects
    say(f"  再次汇总后，汇总表“疑似不实”：确认不实 {int((shown['核实结果'] == '确认不实').sum())} 条，"
        f"待核实 {int((shown['核实结果'] == '待核实').sum())} 条")
