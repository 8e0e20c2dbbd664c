"""One returned file → CheckedFile: who sent it, for which quarter, what it says, what is wrong.

check_file is the one function the merge calls per file. It never raises for a problem in the
file: every problem is an Issue whose level decides the verdict. Errors reject the file (退回修改)
because the merged ledger would be wrong or incomplete with it; warnings accept it and tell the
unit what was interpreted (a synonym, a share read as a percentage, a formula's value). The unit is
identified by the signed _meta sheet, so a file's name never decides whose report it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from toolkit.errors import DuchaError
from toolkit.forms import layout, meta
from toolkit.intake import files as intake
from toolkit.intake import normalize, reader
from toolkit.intake.files import Limits
from toolkit.model import CheckedFile, IndicatorReport, Ledger, TaskReport, Unit
from toolkit.period import Period
from toolkit.pool import WorkerFailure
from toolkit.problems import ERROR, WARNING, Report

MAX_TEXT = 2000  # characters in one answer cell

# code → (level, meaning). The README's table is this table; a test keeps the two equal.
CODES: dict[str, tuple[str, str]] = {
    "empty_file": (ERROR, "文件为空"),
    "damaged_file": (ERROR, "文件损坏或不完整，无法打开"),
    "encrypted": (ERROR, "文件设有打开密码"),
    "macro_workbook": (ERROR, "含宏的工作簿（.xlsm），不予读取"),
    "not_workbook": (ERROR, "不是 Excel 工作簿（PDF、图片、网页、压缩包等）"),
    "over_limits": (ERROR, "文件或工作表超过大小、部件数、压缩比或单元格范围上限"),
    "too_complex": (ERROR, "读取文件超出时间或内存上限，已停止读取"),
    "read_failed": (ERROR, "读取文件时读取进程意外退出或程序出错"),
    "unreadable": (ERROR, "工作簿内部结构有误，无法读取"),
    "signature_invalid": (ERROR, "隐藏的校验信息（_meta）被修改，签名不符"),
    "meta_invalid": (ERROR, "隐藏的校验信息（_meta）内容无法解析"),
    "wrong_period": (ERROR, "不是本报告期的填报表"),
    "unknown_unit": (ERROR, "无法确定报送单位，或单位不在总台账中"),
    "unit_ambiguous": (ERROR, "无校验信息，填报单位和文件名指向多个单位"),
    "unit_mismatch": (ERROR, "“填报单位”与校验信息中的单位不一致"),
    "unsigned": (WARNING, "无校验信息（_meta），按“填报单位”和文件名认定单位"),
    "sheet_missing": (ERROR, "找不到必需的工作表（进展填报，或应有的量化指标）"),
    "sheet_renamed": (WARNING, "工作表被改名，已按表头找到并读取"),
    "guide_missing": (WARNING, "“填报说明”工作表被删除"),
    "header_missing": (ERROR, "找不到某一列的表头"),
    "header_renamed": (WARNING, "表头文字被改动，已按原位置读取"),
    "header_moved": (WARNING, "列的位置被调整，已按表头读取"),
    "table_moved": (WARNING, "表头不在原来的行（插入或删除了表头上方的行）"),
    "extra_column": (WARNING, "新增的列，内容不读取"),
    "too_many_rows": (WARNING, "工作表行数远超下发的任务数，多余的行未读取"),
    "task_missing": (ERROR, "下发的任务行被删除"),
    "task_added": (ERROR, "新增了不是下发给本单位的任务行"),
    "task_duplicated": (ERROR, "同一任务编号出现多次"),
    "task_renumbered": (ERROR, "任务编号被改动"),
    "task_reordered": (WARNING, "任务行的顺序被调整，已按任务编号读取"),
    "task_withdrawn": (WARNING, "该任务已从总台账移除，本行不再汇总"),
    "extra_row": (WARNING, "表格中有不是任务的行，内容不读取"),
    "locked_cell_changed": (ERROR, "锁定的单元格（任务内容、责任领导、本单位职责）被改动"),
    "status_missing": (ERROR, "完成状态未填写"),
    "status_invalid": (ERROR, "完成状态不是四种之一"),
    "status_normalised": (WARNING, "完成状态按同义词换算为标准写法"),
    "progress_missing": (ERROR, "完成进度未填写"),
    "progress_invalid": (ERROR, "完成进度不是数字"),
    "progress_out_of_range": (ERROR, "完成进度超出 0–100"),
    "progress_normalised": (WARNING, "完成进度填的是小数，按百分比换算"),
    "status_progress_conflict": (ERROR, "完成状态与完成进度矛盾（已完成却不足100，或未启动却大于0）"),
    "done_missing": (ERROR, "本季度进展情况未填写（未启动的除外）"),
    "problems_missing": (ERROR, "进度滞后但未填写存在问题"),
    "next_missing": (WARNING, "未完成的任务未填写下步计划"),
    "person_missing": (ERROR, "具体责任人未填写"),
    "phone_missing": (WARNING, "联系电话未填写"),
    "phone_invalid": (WARNING, "联系电话格式不对"),
    "text_too_long": (ERROR, "文字超过 2000 字"),
    "formula_used": (WARNING, "输入单元格中是公式，已按计算结果读取"),
    "indicator_missing": (WARNING, "量化指标完成值未填写"),
    "indicator_not_number": (ERROR, "量化指标完成值不是数字"),
    "indicator_row_missing": (ERROR, "下发的量化指标行被删除"),
    "filler_missing": (WARNING, "填报人或其联系电话未填写"),
    "date_invalid": (WARNING, "填报日期不是日期"),
}

def new_report() -> Report:
    """A Report whose add() takes each code's level from CODES."""
    return Report(levels={code: level for code, (level, _) in CODES.items()})


_FORMAT_CODES = {"empty": "empty_file", "truncated": "damaged_file", "encrypted": "encrypted", "xlsm": "macro_workbook"}
_RESUBMIT = "请在督查局下发的填报表中填写，以 .xlsx 格式保存后重新报送"
_INPUT_KEYS = ("status", "progress", "done", "problems", "next", "person", "phone")
_LOCKED_KEYS = ("content", "leaders", "role")
_TEXT_KEYS = ("done", "problems", "next", "person")
_PHONE_HINT = "请填写11位手机号或带区号的固定电话（如0371-23859529）"
_PERIOD_TEXT = re.compile(r"(\d{4})年(第[一二三四]季度)")


@dataclass(frozen=True)
class Issued:
    """What the bureau issued to one unit: rows (task no → role, task_hash) and indicators."""

    unit: str | None  # None: the file names several units and carries another's signature
    tasks: dict[int, tuple[str, str]]
    indicators: list[tuple[int, str]]
    signed: bool


def check_file(
    path: Path,
    *,
    ledger: Ledger,
    period: Period | str,
    secret: bytes,
    limits: Limits,
    original_path: Path | None = None,
) -> CheckedFile:
    """Check one returned file (the archived copy) against what was issued for the period.

    original_path is where the clerk dropped it: its name is a fallback clue to the unit, its
    modification time is the received time, and it is the path the clerk sees in reports."""
    source = Path(original_path) if original_path else path
    sha256, size, received = intake.file_facts(path)
    if source != path and source.exists():
        received = intake.file_facts(source)[2]
    # The size bound comes first: sniffing reads a zip's central directory, which a huge file
    # could make huge.
    too_big = intake.check_size(path, limits)
    fmt = "unread" if too_big else intake.sniff(path)
    shown = intake.shown_path(source)
    checked = CheckedFile(path=shown, sha256=sha256, size=size, received=received, format=fmt)
    issues = new_report()
    checked.issues = issues.issues
    if not too_big and fmt not in intake.READABLE:
        issues.add(_FORMAT_CODES.get(fmt, "not_workbook"), f"{intake.REJECT_REASONS[fmt]}。{_RESUBMIT}")
        return checked
    reason = too_big or intake.check_limits(path, fmt, limits)
    if reason:
        issues.add("over_limits", f"{reason}。{_RESUBMIT}")
        return checked
    submission = _read(path, fmt, limits, ledger, issues)
    if submission is None:
        return checked
    issued = _identify(submission, ledger, str(period), secret, PurePath(shown), issues)
    if issued is None:
        return checked
    checked.unit, checked.period, checked.signed = issued.unit, str(period), issued.signed
    if not issues.ok:
        return checked
    if submission.progress is not None:
        checked.filler = _filler(submission, submission.progress.sheet, issues)
    checked.tasks = _progress(submission, issued, ledger, issues)
    checked.indicators = _indicators(submission, issued, issues)
    return checked


def _read(path: Path, fmt: str, limits: Limits, ledger: Ledger, issues: Report) -> reader.Submission | None:
    """Parse the file; any failure of the parsers on a hostile or broken file becomes an issue."""
    from python_calamine import PasswordError

    # Before the unit is known, the whole ledger bounds how many rows any unit can have been issued.
    try:
        return reader.read(path, fmt, limits, len(ledger.tasks), len(ledger.indicators))
    except reader.SheetTooLarge as exc:
        extent = f"有内容的单元格达 {exc.cells} 个" if exc.cells is not None else f"数据范围达 {exc.rows} 行 × {exc.cols} 列"
        issues.add(
            "over_limits",
            f"工作表“{exc.sheet}”的{extent}，超过上限 {limits.max_cells} 个单元格。{_RESUBMIT}",
        )
    except PasswordError:
        issues.add("encrypted", f"{intake.REJECT_REASONS['encrypted']}。{_RESUBMIT}")
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise  # out of memory is the worker's to report (too_complex); the others stop the run
    except BaseException as exc:  # noqa: BLE001 — untrusted input: any parser failure is the file's
        # fault, a Rust panic in python-calamine (a BaseException) included
        issues.add("unreadable", f"工作簿无法读取（{type(exc).__name__}）。{_RESUBMIT}")
    return None


# --- identity ----------------------------------------------------------------------------------


def _identify(
    sub: reader.Submission, ledger: Ledger, period: str, secret: bytes, source: PurePath, issues: Report
) -> Issued | None:
    """Whose file, for which quarter, and what was issued to them; None when that is unknowable."""
    if sub.meta is None:
        return _identify_unsigned(sub, ledger, period, source, issues)
    if not meta.verify(sub.meta, secret):
        issues.add(
            "signature_invalid",
            "隐藏的校验信息被修改或来自其他工作区，无法确认报送单位和报告期。请使用督查局下发给本单位的原表重新填报",
            layout.SHEET_META,
        )
        return None
    try:
        tasks = {int(no): (str(role), str(digest)) for no, role, digest in json.loads(sub.meta["tasks"])}
        indicators = [(int(no), str(name)) for no, name in json.loads(sub.meta["indicators"])]
    except (KeyError, ValueError, TypeError) as exc:
        issues.add("meta_invalid", f"隐藏的校验信息无法解析（{type(exc).__name__}）。{_RESUBMIT}", layout.SHEET_META)
        return None
    name = sub.meta.get("unit", "")
    unit = _Index.of(ledger).units.get(name)
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


def _identify_unsigned(
    sub: reader.Submission, ledger: Ledger, period: str, source: PurePath, issues: Report
) -> Issued | None:
    """Without _meta (the table was pasted into a new workbook): accept only if the 填报单位 line
    and the file name point at exactly one unit, and then check against the ledger."""
    named = _unit_line_name(sub.unit_line)
    candidates = sorted(set(_units_named(ledger, named)) | set(_units_named(ledger, source.stem)))
    if not candidates:
        issues.add(
            "unknown_unit",
            f"文件缺少隐藏的校验信息，且无法从“填报单位”（{named or '空'}）和文件名“{source.name}”确定报送单位。{_RESUBMIT}",
        )
        return None
    if len(candidates) > 1:
        issues.add(
            "unit_ambiguous",
            f"文件缺少隐藏的校验信息，“填报单位”和文件名指向多个单位（{'、'.join(candidates)}），无法确定报送单位。{_RESUBMIT}",
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
    indicators = [(i.task_no, i.name) for i in ledger.indicators_for(unit)]
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


# --- tables ------------------------------------------------------------------------------------


def _check_table(table: reader.Table, columns: tuple[layout.Column, ...], header_row: int, issues: Report) -> bool:
    """Header problems of one table; False when a column it needs cannot be found."""
    sheet, found = table.sheet, table.columns
    if table.header_row != header_row:
        issues.add(
            "table_moved",
            f"表头应在第{header_row}行，现在第{table.header_row}行（表头上方的行被插入或删除），已按表头读取",
            sheet,
            layout.cell(table.header_row, 1),
        )
    moved = []
    complete = True
    for position, column in enumerate(columns, start=1):
        if column.key not in found:
            issues.add(
                "header_missing",
                f"找不到“{column.header}”列，请勿删除或改动表头，恢复原表后重新报送",
                sheet,
                layout.cell(table.header_row, position),
            )
            complete = False
        elif column.key in table.renamed:
            issues.add(
                "header_renamed",
                f"表头应为“{column.header}”，现为“{table.renamed[column.key]}”，已按原位置读取，请勿改动表头",
                sheet,
                layout.cell(table.header_row, position),
            )
        elif found[column.key] != position:
            moved.append((column.header, position, found[column.key]))
    if moved:
        detail = "、".join(f"“{h}”{xl_col_to_name(a - 1)}→{xl_col_to_name(b - 1)}" for h, a, b in moved)
        issues.add(
            "header_moved",
            f"列的位置被调整（{detail}），已按表头读取，请勿移动列",
            sheet,
            layout.cell(table.header_row, moved[0][2]),
        )
    for col, text in table.extra_headers.items():
        issues.add(
            "extra_column", f"新增的列“{text}”不会被读取", sheet, layout.cell(table.header_row, col)
        )
    return complete


def _check_extent(table: reader.Table, issues: Report) -> None:
    if table.last_row > table.read_to:
        issues.add(
            "too_many_rows",
            f"工作表有内容的行一直到第{table.last_row}行，远超下发的行数，只读取到第{table.read_to}行",
            table.sheet,
        )


def _task_no(value: Any) -> int | None:
    number = normalize.number(value).value
    return int(number) if number is not None and number.is_integer() and number > 0 else None


def _formula_warning(table: reader.Table, key: str, row: int, value: Any, issues: Report) -> None:
    cell = table.cell(key, row)
    if cell in table.formulas:
        shown = normalize.as_text(value) or "空"
        issues.add(
            "formula_used", f"单元格中是公式，已按其计算结果“{shown}”读取，请直接填写内容", table.sheet, cell
        )


def _progress(sub: reader.Submission, issued: Issued, ledger: Ledger, issues: Report) -> list[TaskReport]:
    table = sub.progress
    if table is None:
        issues.add(
            "sheet_missing",
            f"找不到工作表“{layout.SHEET_PROGRESS}”（现有：{'、'.join(sub.sheet_names)}）。请勿重命名或删除工作表，{_RESUBMIT}",
        )
        return []
    if table.sheet != layout.SHEET_PROGRESS:
        issues.add(
            "sheet_renamed",
            f"工作表“{layout.SHEET_PROGRESS}”被改名为“{table.sheet}”，已按表头读取，请勿重命名工作表",
            table.sheet,
        )
    if layout.SHEET_GUIDE not in sub.sheet_names:
        issues.add("guide_missing", f"工作表“{layout.SHEET_GUIDE}”被删除", layout.SHEET_GUIDE)
    if not _check_table(table, layout.PROGRESS_COLUMNS, layout.HEADER_ROW, issues):
        return []
    _check_extent(table, issues)

    by_hash = {digest: no for no, (_, digest) in issued.tasks.items()}
    seen: dict[int, int] = {}  # task no → Excel row
    reports = []
    for row in table.rows:
        no = _task_no(row.values["no"])
        locked = [normalize.text(row.values[k]).value or "" for k in _LOCKED_KEYS]
        if no not in issued.tasks:
            hashed_as = by_hash.get(meta.task_hash(*locked))
            _unissued_row(table, row, no, hashed_as, issues)
            if hashed_as is not None:  # reported as renumbered, not also as missing
                seen.setdefault(hashed_as, row.row)
            continue
        no_cell = table.cell("no", row.row)
        if no in seen:
            issues.add(
                "task_duplicated",
                f"任务编号{no}重复（第{seen[no]}行已有），请删除重复的行",
                table.sheet,
                no_cell,
            )
            continue
        seen[no] = row.row
        role, digest = issued.tasks[no]
        if ledger_task := _ledger_task(ledger, no):
            _check_locked(table, row, locked, digest, (ledger_task.content, ledger_task.leaders_text, role), issues)
        else:
            issues.add(
                "task_withdrawn", f"任务{no}已从总台账移除，本行不再汇总", table.sheet, no_cell
            )
            continue
        reports.append(_task_report(table, row, issued.unit, no, role, sub.details_known, issues))

    for no in issued.tasks:
        if no not in seen:
            issues.add(
                "task_missing",
                f"缺少任务{no}的行，请勿删除下发的任务行，恢复后重新报送",
                table.sheet,
            )
    order = [no for no in issued.tasks if no in seen]
    if list(seen) != order:
        issues.add("task_reordered", "任务行的顺序被调整，已按任务编号读取", table.sheet)
    return reports


def _ledger_task(ledger: Ledger, no: int) -> Any:
    return _Index.of(ledger).tasks.get(no)


class _Index:
    """Dict lookups into the ledger. Ledger.task() and Ledger.unit() scan their lists, which made
    checking a file cost O(rows × tasks) (≈30 ms a file at 10,000 units). A merge checks every
    file against one ledger, so the last index is kept until a list is replaced or resized."""

    _last: _Index | None = None

    def __init__(self, ledger: Ledger) -> None:
        self.key = (ledger.tasks, len(ledger.tasks), ledger.units, len(ledger.units))
        self.tasks = {t.no: t for t in reversed(ledger.tasks)}  # the first of a number wins, as in task()
        self.units: dict[str, Unit] = {}
        for unit in ledger.units:
            for name in (unit.name, *unit.aliases):
                self.units.setdefault(name, unit)

    @classmethod
    def of(cls, ledger: Ledger) -> _Index:
        last = cls._last
        if last is None or not (last.key[0] is ledger.tasks and last.key[1] == len(ledger.tasks)
                                and last.key[2] is ledger.units and last.key[3] == len(ledger.units)):
            last = cls._last = cls(ledger)
        return last


def _unissued_row(table: reader.Table, row: reader.Row, no: int | None, hashed_as: int | None, issues: Report) -> None:
    cell = table.cell("no", row.row)
    shown = normalize.as_text(row.values["no"]) or "空"
    if hashed_as is not None:
        issues.add(
            "task_renumbered",
            f"任务编号应为{hashed_as}，现为“{shown}”，请勿改动任务编号",
            table.sheet,
            cell,
        )
    elif no is not None:
        issues.add(
            "task_added",
            f"任务{no}不是下发给本单位的任务，请勿增加任务行，删除后重新报送",
            table.sheet,
            cell,
        )
    else:
        issues.add("extra_row", f"第{row.row}行不是下发的任务行，内容不会被读取", table.sheet, cell)


def _check_locked(
    table: reader.Table,
    row: reader.Row,
    locked: list[str],
    digest: str,
    expected: tuple[str, str, str],
    issues: Report,
) -> None:
    """A locked cell differs from what was issued: name each changed cell. Differences only in
    spacing or full/half width (a client re-wrapping text) are not changes."""
    if meta.task_hash(*locked) == digest:
        return
    for key, found, wanted in zip(_LOCKED_KEYS, locked, expected, strict=True):
        if normalize.compact(found) != normalize.compact(wanted):
            now, was = _around_difference(found, wanted)
            issues.add(
                "locked_cell_changed",
                f"“{_header(key)}”是下发内容，不可修改（现为“{now}”，应为“{was}”），请恢复后重新报送",
                table.sheet,
                table.cell(key, row.row),
            )


def _header(key: str) -> str:
    return layout.PROGRESS_COLUMNS[layout.column_index(layout.PROGRESS_COLUMNS, key) - 1].header


def _clip(text: str, length: int = 30) -> str:
    return text if len(text) <= length else text[:length] + "…"


def _around_difference(found: str, wanted: str, before: int = 8, length: int = 30) -> tuple[str, str]:
    """Both texts, clipped around where they first differ when they are long, so a long task text
    edited near its end does not show the same first 30 characters twice."""
    if max(len(found), len(wanted)) <= length:
        return found, wanted
    pairs = zip(found, wanted, strict=False)
    same = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(found), len(wanted)))
    start = max(0, same - before)
    lead = "…" if start else ""
    return lead + _clip(found[start:], length), lead + _clip(wanted[start:], length)


def _task_report(
    table: reader.Table, row: reader.Row, unit: str, no: int, role: str, details_known: bool, issues: Report
) -> TaskReport:
    """Normalise and check one task row's answers."""
    values = row.values

    def flag(code: str, key: str, text: str) -> None:
        issues.add(code, text, table.sheet, table.cell(key, row.row))

    if table.formulas:
        for key in _INPUT_KEYS:
            _formula_warning(table, key, row.row, values[key], issues)
    choices = "、".join(layout.STATUSES)
    status = normalize.status(values["status"])
    if status.value is None and status.ok:
        flag("status_missing", "status", f"任务{no}的完成状态未填写，请从下拉列表选择{choices}之一")
    elif not status.ok:
        flag("status_invalid", "status", f"完成状态“{_clip(status.shown)}”不是{choices}之一，请从下拉列表选择")
    elif status.changed:
        flag("status_normalised", "status", f"完成状态“{status.shown}”已按“{status.value}”读取，请从下拉列表选择")

    progress = _progress_value(table, row, no, status.value, details_known, flag)
    texts = {key: normalize.text(values[key]).value or "" for key in _TEXT_KEYS}
    for key, text in texts.items():
        if len(text) > MAX_TEXT:
            flag("text_too_long", key, f"内容有{len(text)}字，超过{MAX_TEXT}字，请精简")
    if not texts["done"] and status.value != layout.STATUS_NOT_STARTED:
        flag("done_missing", "done", f"任务{no}的本季度进展情况未填写，请简要填写本季度完成的工作")
    if not texts["problems"] and status.value == layout.STATUS_LAGGING:
        flag("problems_missing", "problems", f"任务{no}进度滞后，请在“存在问题”中说明滞后原因")
    if not texts["next"] and status.value not in (layout.STATUS_DONE, None):
        flag("next_missing", "next", f"任务{no}尚未完成，请填写下步计划")
    if not texts["person"]:
        flag("person_missing", "person", f"任务{no}的具体责任人未填写，请填写责任人姓名")

    phone = normalize.phone(values["phone"])
    if phone.value is None and phone.ok:
        flag("phone_missing", "phone", f"任务{no}的联系电话未填写")
    elif not phone.ok:
        flag("phone_invalid", "phone", f"联系电话“{_clip(phone.shown)}”格式不对，{_PHONE_HINT}")
    return TaskReport(
        unit=unit,
        task_no=no,
        role=role,
        status=status.value or "",
        progress=progress,
        done=texts["done"],
        problems=texts["problems"],
        next=texts["next"],
        person=texts["person"],
        phone=phone.value or phone.shown,
        row=row.row,
    )


def _progress_value(
    table: reader.Table,
    row: reader.Row,
    no: int,
    status: str | None,
    details_known: bool,
    flag: Callable[[str, str, str], None],
) -> float | None:
    """完成进度 in percent, checked on its own and against the status; None when unusable."""
    percent = table.cell("progress", row.row) in table.percent if details_known else None
    progress = normalize.progress(row.values["progress"], percent)
    hint = "请填写0到100之间的整数"
    if progress.value is None and progress.ok:
        if status == layout.STATUS_NOT_STARTED:
            return 0.0
        flag("progress_missing", "progress", f"任务{no}的完成进度未填写，{hint}")
        return None
    if progress.value is None:
        flag("progress_invalid", "progress", f"完成进度“{_clip(progress.shown)}”不是数字，{hint}")
        return None
    if not progress.ok:
        flag("progress_out_of_range", "progress", f"完成进度“{progress.shown}”超出0–100，{hint}")
        return None
    value = progress.value
    shown = normalize.as_text(value)
    if progress.changed:
        flag("progress_normalised", "progress", f"完成进度“{progress.shown}”已按{shown}%读取，{hint}")
    if status == layout.STATUS_DONE and value < 100:
        flag("status_progress_conflict", "progress", f"完成状态为“已完成”，但完成进度为{shown}，已完成的任务进度应为100")
    if status == layout.STATUS_NOT_STARTED and value > 0:
        flag("status_progress_conflict", "progress", f"完成状态为“未启动”，但完成进度为{shown}，未启动的任务进度应为0")
    return value


def _indicators(sub: reader.Submission, issued: Issued, issues: Report) -> list[IndicatorReport]:
    if not issued.indicators:
        return []
    table = sub.indicators
    if table is None:
        issues.add(
            "sheet_missing",
            f"找不到工作表“{layout.SHEET_INDICATORS}”，请勿重命名或删除工作表，{_RESUBMIT}",
            layout.SHEET_INDICATORS,
        )
        return []
    if not _check_table(table, layout.INDICATOR_COLUMNS, layout.INDICATOR_HEADER_ROW, issues):
        return []
    _check_extent(table, issues)
    wanted = set(issued.indicators)
    found: dict[tuple[int, str], IndicatorReport] = {}
    for row in table.rows:
        key = (_task_no(row.values["no"]) or 0, normalize.text(row.values["name"]).value or "")
        if key not in wanted or key in found:
            issues.add("extra_row", f"第{row.row}行不是下发的量化指标行，内容不会被读取", table.sheet, table.cell("no", row.row))
            continue
        _formula_warning(table, "value", row.row, row.values["value"], issues)
        cell = table.cell("value", row.row)
        number = normalize.number(row.values["value"], cell in table.percent if sub.details_known else None)
        if number.value is None and number.ok:
            issues.add("indicator_missing", f"指标“{key[1]}”的完成值未填写", table.sheet, cell)
        elif not number.ok:
            issues.add(
                "indicator_not_number",
                f"指标“{key[1]}”的完成值“{_clip(number.shown)}”不是数字，请只填写数字，单位和说明写在“说明”列",
                table.sheet,
                cell,
            )
        note = normalize.text(row.values["note"]).value or ""
        found[key] = IndicatorReport(issued.unit, key[0], key[1], number.value, note, row.row)
    for no, name in issued.indicators:
        if (no, name) not in found:
            issues.add(
                "indicator_row_missing",
                f"缺少任务{no}“{name}”的指标行，请勿删除下发的行，恢复后重新报送",
                table.sheet,
            )
    return list(found.values())


def _filler(sub: reader.Submission, sheet: str, issues: Report) -> dict[str, str]:
    """填报人 / 联系电话 / 单位负责人 / 填报日期 as text; problems with them are only warnings."""
    result = {}
    for label, _, _ in layout.FILLER_FIELDS:
        cell, raw = sub.filler.get(label, ("", ""))
        value = normalize.text(raw).value or ""
        if label in ("填报人", "联系电话") and not value:
            issues.add("filler_missing", f"“{label}”未填写，请填写", sheet, cell)
        elif label == "联系电话":
            phone = normalize.phone(raw)
            if phone.ok:
                value = phone.value or ""
            else:
                issues.add("phone_invalid", f"填报人联系电话“{_clip(value)}”格式不对", sheet, cell)
        elif label == "填报日期" and value:
            date = normalize.date(raw)
            if date.ok and date.value:
                value = date.value.isoformat()
            else:
                issues.add("date_invalid", f"填报日期“{_clip(value)}”不是日期，请填写如2024-03-20", sheet, cell)
        result[label] = value
    return result


# --- files read in a sandbox worker (merge) ------------------------------------------------------


def check_dropped(shared: tuple[Ledger, Period, bytes, Limits, Path], job: tuple[Path, str]) -> tuple[Path, CheckedFile]:
    """Archive a dropped file (shared: ledger, period, secret, limits, archive folder; job: its
    path and SHA-256), then check the archived copy, never the dropped file. Runs in a
    sandbox worker. A DuchaError (the file changed while being copied) stops the merge; any other
    exception is a bug met on this one file, so it becomes the file's read_failed issue rather
    than stopping the quarter's merge."""
    ledger, period, secret, limits, archive_dir = shared
    path, sha256 = job
    archived = intake.archive(path, archive_dir, sha256)
    try:
        return archived, check_file(archived, ledger=ledger, period=period, secret=secret, limits=limits,
                                    original_path=path)
    except (DuchaError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 — see the docstring
        _sha, size, received = intake.file_facts(archived)
        text = f"程序处理该文件时出错（{type(exc).__name__}），请将文件转给督查局核查，或重新保存后报送"
        return archived, unread_file(intake.shown_path(path), sha256, size, received, "read_failed", text)


def worker_failure(failure: WorkerFailure, limits: Limits) -> tuple[str, str]:
    """(code, Chinese text) for a file whose sandbox worker gave no result."""
    if failure.timed_out:
        return "too_complex", f"读取该文件超过 {limits.max_seconds:g} 秒仍未完成（文件过于复杂或结构异常），已停止读取。{_RESUBMIT}"
    if failure.out_of_memory:
        return "too_complex", (f"读取该文件所需内存超过上限 {limits.max_memory_mb:g} MB（文件过于复杂或结构异常），"
                               f"已停止读取。{_RESUBMIT}")
    return "read_failed", f"读取该文件时读取进程意外退出（退出码 {failure.exitcode}），文件可能已损坏。{_RESUBMIT}"


def unread_file(path: str, sha256: str, size: int, received: str, code: str, text: str) -> CheckedFile:
    """The CheckedFile of a file that could not be read to the end: one file-level error."""
    issues = new_report()
    issues.add(code, text)
    return CheckedFile(path=path, sha256=sha256, size=size, received=received, format="unread", issues=issues.issues)
