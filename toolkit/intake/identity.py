"""Who sent a returned file, for which quarter, and what was issued to them.

The signed _meta sheet decides, so a file's name never decides whose report it is; only when the
signature is gone does the 填报单位 line, with the file name, name the unit, and then the rows are
checked against the ledger rather than against what the signature recorded. A signature that
fails proves nothing, so such a file is never anyone's report; but when its visible table is
plainly one unit's, it is that unit's refused file (claimed), so the sender learns why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import PurePath

from toolkit.forms import layout, meta
from toolkit.intake import normalize
from toolkit.intake.codes import RESUBMIT
from toolkit.intake.submission import Submission
from toolkit.model import Ledger, Unit
from toolkit.period import Period
from toolkit.problems import Report

_PERIOD_TEXT = re.compile(r"(\d{4})年(第[一二三四]季度)")


@dataclass(frozen=True)
class Issued:
    """What the bureau issued to one unit: rows (task no → role, task_hash) and indicators."""

    unit: str | None  # None: the file names several units and carries another's signature
    tasks: dict[int, tuple[str, str]]
    indicators: list[tuple[int, str]]
    signed: bool
    claimed: bool = False  # the unit is what the visible table claims, not what a signature proves


def identify(
    sub: Submission, ledger: Ledger, period: str, secret: bytes, source: PurePath, issues: Report
) -> Issued | None:
    """Whose file, for which quarter, and what was issued to them; None when that is unknowable."""
    if sub.meta is None:
        return _identify_unsigned(sub, ledger, period, source, issues)
    if not meta.verify(sub.meta, secret):
        sender = _claimed_sender(sub, ledger)
        said = f"已按“填报单位”和任务行认定为{sender}报送（未经校验）。" if sender else ""
        issues.add(
            "signature_invalid",
            "隐藏的校验信息（_meta）被修改或来自其他工作区，签名不符，无法确认报送单位和报告期，本文件未予采用。"
            f"{said}请使用督查局下发给本单位的原表重新填报",
            layout.SHEET_META,
        )
        # Whatever unit the edited _meta names is never credited; the sender is told, and the
        # file counts against it (退回修改), when the visible table is plainly one unit's.
        return Issued(sender, {}, [], signed=False, claimed=True) if sender else None
    try:
        tasks = {int(no): (str(role), str(digest)) for no, role, digest in json.loads(sub.meta["tasks"])}
        indicators = [(int(no), str(name)) for no, name in json.loads(sub.meta["indicators"])]
    except (KeyError, ValueError, TypeError) as exc:
        issues.add("meta_invalid", f"隐藏的校验信息无法解析（{type(exc).__name__}）。{RESUBMIT}", layout.SHEET_META)
        return None
    name = sub.meta.get("unit", "")
    unit = LedgerIndex.of(ledger).units.get(name)
    if unit is None or unit.is_group:
        issues.add("unknown_unit", f"报送单位“{name}”不在总台账的单位名录中，请与督查局联系", layout.SHEET_META)
        return None
    issued = Issued(unit.name, tasks, indicators, signed=True)
    if sub.meta.get("period") != period:
        issues.add(
            "wrong_period",
            f"这是{_period_label(sub.meta.get('period', ''))}的填报表，本次收取的是{_period_label(period)}。"
            "请使用本季度下发的填报表填写后报送",
        )
    line = _unit_line_name(sub.unit_line)
    spellings = {normalize.compact(s) for s in (unit.name, *unit.aliases)}
    claimed = [] if line in spellings else _units_named(ledger, line)
    if claimed and unit.name not in claimed and sub.progress is not None:
        issues.add(
            "unit_mismatch",
            f"填报单位写的是“{'、'.join(claimed)}”，但这是下发给“{unit.name}”的填报表。请使用本单位的填报表",
            sub.progress.sheet,
            layout.cell(layout.UNIT_ROW, 1),
        )
        # The sender is the unit it names, not the one whose signature it carries (a _meta copied
        # from another unit's workbook must not count, or be reported back, as that unit's).
        return Issued(claimed[0] if len(claimed) == 1 else None, {}, [], signed=True)
    return issued


def _claimed_sender(sub: Submission, ledger: Ledger) -> str | None:
    """The one unit a file with a failed signature visibly belongs to: its 填报单位 line names
    exactly that unit and every task row is one of that unit's tasks in the ledger; else None."""
    named = _units_named(ledger, _unit_line_name(sub.unit_line))
    if len(named) != 1 or sub.progress is None:
        return None
    rows = {normalize.task_no(row.values.get("no")) for row in sub.progress.rows} - {None}
    owned = {a.task.no for a in ledger.assignments().get(named[0], [])}
    return named[0] if rows and rows <= owned else None


def _identify_unsigned(
    sub: Submission, ledger: Ledger, period: str, source: PurePath, issues: Report
) -> Issued | None:
    """Without _meta (the table was pasted into a new workbook): accept only if the 填报单位 line
    and the file name point at exactly one unit, and then check against the ledger."""
    named = _unit_line_name(sub.unit_line)
    candidates = sorted(set(_units_named(ledger, named)) | set(_units_named(ledger, source.stem)))
    if not candidates:
        issues.add(
            "unknown_unit",
            f"文件缺少隐藏的校验信息，且无法从“填报单位”（{named or '空'}）和文件名“{source.name}”确定报送单位。{RESUBMIT}",
        )
        return None
    if len(candidates) > 1:
        issues.add(
            "unit_ambiguous",
            f"文件缺少隐藏的校验信息，“填报单位”和文件名指向多个单位（{'、'.join(candidates)}），无法确定报送单位。{RESUBMIT}",
        )
        return None
    unit = candidates[0]
    issues.add(
        "unsigned",
        f"文件缺少隐藏的校验信息（可能复制到了新工作簿），已按“填报单位”和文件名认定为{unit}。今后请直接在下发的填报表中填写",
    )
    claimed = _PERIOD_TEXT.search(normalize.compact(sub.period_line))
    wanted = Period.parse(period)
    if claimed and (int(claimed[1]), claimed[2]) != (wanted.year, wanted.label):
        issues.add(
            "wrong_period",
            f"这是{claimed[1]}年{claimed[2]}的填报表，本次收取的是{wanted.full_label}。请使用本季度下发的填报表填写后报送",
        )
    assignments = ledger.assignments().get(unit, [])
    tasks = {
        a.task.no: (a.role, meta.task_hash(a.task.content, a.task.leaders_text, a.role)) for a in assignments
    }
    indicators = [(i.task_no, i.name) for i in ledger.indicators_for(unit, assignments)]
    return Issued(unit, tasks, indicators, signed=False)


def _unit_line_name(line: str) -> str:
    return re.sub(r"^填报单位[:：]?", "", normalize.compact(line))


def _units_named(ledger: Ledger, text: str) -> list[str]:
    """Canonical names of the units whose name or alias appears in text, longest spellings first;
    a name inside a longer matched name (市商务局 inside 市商务局机关…) does not count twice."""
    key = normalize.compact(text)
    if not key:
        return []
    spellings = sorted(
        ((normalize.compact(s), u.name) for u in ledger.units if not u.is_group for s in (u.name, *u.aliases)),
        key=lambda pair: -len(pair[0]),
    )
    found: list[str] = []
    taken: list[str] = []
    for spelling, name in spellings:
        if spelling and spelling in key and not any(spelling in longer for longer in taken):
            taken.append(spelling)
            if name not in found:
                found.append(name)
    return found


def _period_label(key: str) -> str:
    try:
        return Period.parse(key).full_label
    except ValueError:
        return f"“{key}”"


class LedgerIndex:
    """Dict lookups into the ledger. Ledger.task() and Ledger.unit() scan their lists, which made
    checking a file cost O(rows × tasks) (≈30 ms a file at 10,000 units). A merge checks every
    file against one ledger, so the last index is kept until a list is replaced or resized."""

    _last: LedgerIndex | None = None

    def __init__(self, ledger: Ledger) -> None:
        self.key = (ledger.tasks, len(ledger.tasks), ledger.units, len(ledger.units))
        self.tasks = {t.no: t for t in reversed(ledger.tasks)}  # the first of a number wins, as in task()
        self.units: dict[str, Unit] = {}
        for unit in ledger.units:
            for name in (unit.name, *unit.aliases):
                self.units.setdefault(name, unit)

    @classmethod
    def of(cls, ledger: Ledger) -> LedgerIndex:
        """The index of ledger: the last one built while its lists are unchanged, else a new one."""
        last = cls._last
        if last is None or not (last.key[0] is ledger.tasks and last.key[1] == len(ledger.tasks)
                                and last.key[2] is ledger.units and last.key[3] == len(ledger.units)):
            last = cls._last = cls(ledger)
        return last
