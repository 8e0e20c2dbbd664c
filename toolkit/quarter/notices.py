"""Escalating notices: 提示单 → 督办单 → 通报 (and 约谈) for a unit that stays behind.

A unit behind at one check is reminded; one still behind after the time it was given is pressed
harder. What makes this fair is memory: a notice is issued once per cause and level however often
the clerk reruns `ducha notices`, and the next level comes only after the previous notice's
整改期限 has passed with the cause still there. The store is that memory (tables notice_causes,
notices, notice_checks), written in one transaction per check, so a rerun, a crash or a restart
never issues a notice twice and never skips one.

A check is one `ducha notices --period P` run as of a day D: P's quarter as merged in the store,
judged as of D (the same judgement as 汇总表), gives the causes present. Checks go forward only: a
check of a quarter before the latest one checked is refused.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import pandas as pd

from toolkit.config import Config, option
from toolkit.errors import DuchaError
from toolkit.quarter.docnumbers import doc_number_text, next_number
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.plans import MILESTONE_OVERDUE
from toolkit.quarter.rules import LIGHT_RED, UNIT_MISSING, milestone_label
from toolkit.quarter.store import Store

KIND_MISSING, KIND_RED, KIND_MILESTONE = "missing", "red", "milestone"
BLUE, YELLOW, RED = 1, 2, 3
LEVEL_NAMES = {BLUE: "提示单", YELLOW: "督办单", RED: "通报"}
LEVEL_COLOURS = {BLUE: "蓝色", YELLOW: "黄色", RED: "红色"}


def _positive(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(value)
    return value


@dataclass(frozen=True)
class NoticeSettings:
    """[notices] of ducha.toml: the days each level gives to put things right (calendar days from
    the check) and the 机关代字 of each level's number."""

    blue_days: int = option(10, parse=_positive, hint="正整数（天）")
    yellow_days: int = option(7, parse=_positive, hint="正整数（天）")
    red_days: int = option(5, parse=_positive, hint="正整数（天）")
    blue_prefix: str = "督查提示"
    yellow_prefix: str = "督查督办"
    red_prefix: str = "督查通报"

    def days(self, level: int) -> int:
        return {BLUE: self.blue_days, YELLOW: self.yellow_days, RED: self.red_days}[level]

    def prefix(self, level: int) -> str:
        return {BLUE: self.blue_prefix, YELLOW: self.yellow_prefix, RED: self.red_prefix}[level]


def notice_settings(config: Config) -> NoticeSettings:
    return config.read("notices", NoticeSettings)


@dataclass(frozen=True)
class Cause:
    """A unit behind for one reason: the key (unit, kind, subject), what is wrong and what to do, in
    the words the notice prints; leaders: the task's 责任领导 (for the 约谈 list)."""

    unit: str
    kind: str
    subject: str
    text: str
    todo: str
    leaders: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.unit, self.kind, self.subject


@dataclass(frozen=True)
class Notice:
    """One notice as stored: its cause, level, number, the check that issued it and its 整改期限."""

    unit: str
    kind: str
    subject: str
    episode: int
    level: int
    year: int
    number: int
    period: str
    issued: dt.date
    due: dt.date
    cause: str
    todo: str
    leaders: str

    def number_text(self, settings: NoticeSettings) -> str:
        """督查提示〔2024〕3号"""
        return doc_number_text(settings.prefix(self.level), self.year, self.number)


def causes_of(merged: MergedQuarter) -> tuple[list[Cause], bool]:
    """The causes present in the merged quarter, and whether a cause absent from them is cleared:
    only after the deadline, when every unit has had its chance to report (before it, a task not
    yet reported this quarter is not red, yet nothing has been put right). A missing report is
    found only after the deadline too."""
    causes: list[Cause] = []
    period = merged.period
    if merged.past_deadline:
        causes += [Cause(unit, KIND_MISSING, "", f"截至{day_text(merged.as_of)}仍未报送{period.full_label}政府工作报告"
                         f"确定事项推进情况（截止日期为{period.deadline_label}）",
                         "立即补报推进情况报表")
                   for unit, status in merged.unit_status.items() if status == UNIT_MISSING]
    for _, row in merged.tasks.iterrows():
        no = int(row["任务编号"])
        if row["红黄绿灯"] != LIGHT_RED or row["逾期节点"]:
            continue  # a task red for a missed milestone is the milestone's cause
        progress = "未填报" if pd.isna(row["完成进度(%)"]) else f"{row['完成进度(%)']:g}%"
        text = (f"牵头的第{no}项任务“{row['任务内容']}”亮红灯（{row['综合状态']}，完成进度{progress}，"
                f"序时进度{row['序时进度(%)']:g}%）")
        causes += [Cause(unit, KIND_RED, str(no), text, "查明滞后原因，制定整改措施，加快推进，确保达到序时进度",
                         merged.task_by_no[no].leaders_text) for unit in merged.leads.get(no, [])
                   if merged.unit_status.get(unit) != UNIT_MISSING]  # its missing report is the cause
    plans = merged.plans
    overdue = plans[plans["节点状态"] == MILESTONE_OVERDUE] if "节点状态" in plans else plans
    for _, row in overdue.iterrows():
        no, task = int(row["任务编号"]), merged.task_by_no[int(row["任务编号"])]
        [milestone] = [m for m in merged.ledger.plan(no) if m.seq == int(row["节点序号"])]
        causes += [Cause(unit, KIND_MILESTONE, f"{no}-{milestone.seq}",
                         f"负责的第{no}项任务{milestone_label(milestone)}逾期未完成",
                         "尽快完成该节点，书面说明逾期原因和补救措施", task.leaders_text)
                   for unit in merged.ledger.expand(milestone.unit or task.lead)]
    return list({c.key: c for c in causes}.values()), merged.past_deadline


def day_text(day: dt.date) -> str:
    """2024年4月8日, as a notice prints a date."""
    return f"{day.year}年{day.month}月{day.day}日"


def _notice(row: sqlite3.Row | tuple) -> Notice:
    unit, kind, subject, episode, level, year, number, period, issued, due, cause, todo, leaders = row
    return Notice(unit, kind, subject, episode, level, year, number, period, dt.date.fromisoformat(issued),
                  dt.date.fromisoformat(due), cause, todo, leaders)


_COLUMNS = "unit, kind, subject, episode, level, year, number, period, issued, due, cause, todo, leaders"


def _open_episode(conn: sqlite3.Connection, key: tuple[str, str, str], day: dt.date) -> int:
    """The cause's open episode, opened now when it has none."""
    found = conn.execute("SELECT episode FROM notice_causes WHERE unit = ? AND kind = ? AND subject = ? "
                         "AND cleared = ''", key).fetchone()
    if found:
        return int(found[0])
    [last] = conn.execute("SELECT MAX(episode) FROM notice_causes WHERE unit = ? AND kind = ? AND subject = ?",
                          key).fetchone()
    episode = (last or 0) + 1
    conn.execute("INSERT INTO notice_causes VALUES (?, ?, ?, ?, ?, '')", (*key, episode, day.isoformat()))
    return episode


def _clear_gone(conn: sqlite3.Connection, present: set[tuple[str, str, str]], day: dt.date) -> None:
    for unit, kind, subject in conn.execute("SELECT unit, kind, subject FROM notice_causes WHERE cleared = ''"
                                            ).fetchall():
        if (unit, kind, subject) not in present:
            conn.execute("UPDATE notice_causes SET cleared = ? WHERE unit = ? AND kind = ? AND subject = ? "
                         "AND cleared = ''", (day.isoformat(), unit, kind, subject))


def check(store: Store, merged: MergedQuarter, settings: NoticeSettings, day: dt.date) -> list[Notice]:
    """One check of merged as of day: causes gone are cleared (after the deadline), a new cause gets its 提示单, and a
    cause still present after its last notice's 整改期限 gets the next level (up to 通报). Returns
    the notices this check issued ([] on a rerun with the same inputs)."""
    causes, clears = causes_of(merged)
    period = merged.period.key
    issued: list[Notice] = []
    with store.transaction() as conn:
        [latest] = conn.execute("SELECT MAX(period) FROM notice_checks").fetchone()
        if latest and latest > period:
            raise DuchaError(f"已对 {latest} 做过督办检查，不能再对更早的 {period} 发出提示单、督办单或通报")
        if clears:
            _clear_gone(conn, {c.key for c in causes}, day)
        for cause in causes:
            episode = _open_episode(conn, cause.key, day)
            last = conn.execute("SELECT level, due FROM notices WHERE unit = ? AND kind = ? AND subject = ? "
                                "AND episode = ? ORDER BY level DESC LIMIT 1", (*cause.key, episode)).fetchone()
            if last is None:
                level = BLUE
            elif last[0] < RED and day > dt.date.fromisoformat(last[1]):
                level = last[0] + 1
            else:
                continue
            number = next_number(conn, "notices", day.year, "level = ?", (level,))
            notice = Notice(*cause.key, episode, level, day.year, number, period, day,
                            day + dt.timedelta(days=settings.days(level)), cause.text, cause.todo, cause.leaders)
            conn.execute(f"INSERT INTO notices ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                         (*cause.key, episode, level, day.year, number, period, day.isoformat(),
                          notice.due.isoformat(), cause.text, cause.todo, cause.leaders))
            issued.append(notice)
        conn.execute("INSERT INTO notice_checks VALUES (?, ?, ?, ?)", (period, day.isoformat(), len(causes),
                                                                       len(issued)))
    return issued


def notices_of(store: Store, period: str | None = None, level: int | None = None) -> list[Notice]:
    """Stored notices (of one period, of one level), in the order they were numbered."""
    where = " AND ".join(w for w, v in (("period = ?", period), ("level = ?", level)) if v is not None)
    args = tuple(v for v in (period, level) if v is not None)
    rows = store.conn.execute(f"SELECT {_COLUMNS} FROM notices {'WHERE ' + where if where else ''} "
                              "ORDER BY year, level, number", args).fetchall()
    return [_notice(r) for r in rows]


def earlier_notice(store: Store, notice: Notice) -> Notice | None:
    """The notice of the level before, for the same cause and episode (what this one escalates)."""
    row = store.conn.execute(f"SELECT {_COLUMNS} FROM notices WHERE unit = ? AND kind = ? AND subject = ? "
                             "AND episode = ? AND level = ?",
                             (notice.unit, notice.kind, notice.subject, notice.episode, notice.level - 1)).fetchone()
    return _notice(row) if row else None
