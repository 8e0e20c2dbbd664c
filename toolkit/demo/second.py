"""`make demo`, second quarter: the units report again on workbooks pre-filled with what was adopted
in the first, so the year's machinery (trends, escalation, plans followed quarter by quarter) has
a quarter to compare against.

Every unit moves its tasks forward honestly (progress never falls, each answer is its own text),
but for the units the scenario gives answers of their own (SecondQuarter.answers: a slipped
milestone, the suspicious answers of 疑似不实, the 延期/办结 requests) and the units silent in the
first quarter, which stay silent: a reader sees what ducha does with each, and nothing is flagged
for a unit that reports in good faith. Dates are fixed, so two runs print the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from toolkit.config import Config
from toolkit.demo import unitsim
from toolkit.demo.scene import PLAIN, at, say, set_mtime
from toolkit.forms import layout
from toolkit.period import Period

Q2_FILLER = {**unitsim.DEFAULT_FILLER, "填报日期": "2024-06-20"}
STEP = 30  # what a unit reports it has added this quarter, in percent of the year's task


@dataclass
class SecondQuarter:
    """What the demo's first quarter hands to the second: the workbooks, who stays silent, and
    task answers the scenario needs some units to give (unitsim mutations, by unit)."""

    period: Period
    outbox: Path
    silent: set[int]
    answers: Mapping[str, list[unitsim.Mutation]]


def advanced(src: Path, seed: int) -> unitsim.Answers:
    """The unit's answers this quarter: each task pre-filled with last quarter's progress moves
    STEP further (已完成 at 100), with this quarter's own words."""
    wb = openpyxl.load_workbook(src, read_only=False)
    ws = wb[layout.SHEET_PROGRESS]
    col = {key: layout.column_index(layout.PROGRESS_COLUMNS, key) for key in ("progress", "content")}
    answers: unitsim.Answers = {}
    for i, (no, row) in enumerate(sorted(unitsim.task_rows(wb).items())):
        before = ws.cell(row, col["progress"]).value
        progress = min(100, (before if isinstance(before, int | float) else 0) + STEP + 5 * ((i + seed) % 3))
        subject = str(ws.cell(row, col["content"]).value or "")[:14]
        done = progress == 100
        answers[no] = {
            "status": "已完成" if done else "正常推进",
            "progress": progress,
            "done": f"围绕“{subject}”，截至6月底累计完成年度任务的{progress:g}%。",
            "problems": "" if done else f"第{no}项部分环节仍需协调推进。",
            "next": "巩固成果，做好长效管理。" if done else f"第{no}项下季度再推进{STEP}个百分点。",
            "person": f"责任人{no}",
            "phone": f"1380378{no % 10000:04d}",
        }
    wb.close()
    return answers


def return_files(config: Config, quarter: SecondQuarter) -> dict[str, int]:
    """Drop the second quarter's returns: all on 2024-06-20 but for the silent units."""
    counts = {"准时报送": 0, "未报": 0}
    for i, book in enumerate(sorted(quarter.outbox.glob(f"{quarter.period.key}_*.xlsx"))):
        if i in quarter.silent:
            counts["未报"] += 1
            continue
        unit = book.stem.split("_", 1)[1]
        path = unitsim.fill(book, config.paths.drop / "二季度" / f"{unit}.xlsx", advanced(book, i),
                            filler=Q2_FILLER, mutate=quarter.answers.get(unit, []))
        set_mtime(path, at("2024-06-20"))
        counts["准时报送"] += 1
    return counts


def play_second_quarter(config: Config, quarter: SecondQuarter, inbox: Path) -> list[Path]:
    """Steps 9–11 of the demo: returns, the final merge with receipts mailed, the 通报. Returns the
    outputs to list at the end (汇总表 first)."""
    from toolkit.cli.text import summary_lines
    from toolkit.demo.league import show_league
    from toolkit.demo.requests import attach_evidence, review_requests
    from toolkit.demo.suspects import check_suspects
    from toolkit.mail import runs as mail
    from toolkit.mail.transport import local_inbox
    from toolkit.outputs.briefing.publish import render_briefing
    from toolkit.outputs.publish import merge

    say("\n== 9. 第二季度：各单位在预填的填报表上续报，2024-06-20 ==")
    counts = return_files(config, quarter)
    attach_evidence(config, quarter.period, quarter.outbox, PLAIN, "二季度")  # 佐证材料 beside one workbook (issue 15)
    say("  " + "，".join(f"{k} {v}" for k, v in counts.items()))

    say("\n== 10. 第二季度截止后汇总并发回执 (ducha merge / ducha receipts --send)，2024-07-01 ==")
    final = merge(config, quarter.period, now=at("2024-07-01"))
    for line in summary_lines(final.summary()):
        say(line)
    check_suspects(config, final.merged, say, at("2024-07-01", 15))
    show_league(config, quarter.period, dt.date(2024, 7, 1), say)
    say("延期与办结申请审核 (ducha review / ducha review apply)，再次汇总：")
    final = review_requests(config, quarter.period, quarter.outbox, PLAIN, at("2024-07-01", 16), say)
    with local_inbox(config, inbox) as live:
        say(mail.send_receipts(live, quarter.period, now=at("2024-07-01")).summary)

    say("\n== 11. 第二季度通报 (ducha briefing --period 2024Q2)，2024-07-02 ==")
    briefing = render_briefing(config, quarter.period, now=dt.date(2024, 7, 2))
    say(f"通报已生成，文号：{briefing.doc_number}；{', '.join(p.name for p in briefing.outputs)}")
    return [final.outputs[0], *briefing.outputs]
