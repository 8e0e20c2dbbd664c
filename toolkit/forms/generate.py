"""Write each responsible unit's quarterly report workbook (xlsxwriter).

The workbook is what ~66 units open in Excel or WPS and mail back, so it explains itself (填报说明),
locks what the bureau issued, shades and validates what the unit fills in, and carries a signed,
very hidden _meta sheet that lets the merge identify the unit and the quarter whatever the file is
later called. Everything follows toolkit.layout so the readers cannot drift from the writer.

Same ledger, period and generated_at give byte-identical files: xlsxwriter stamps zip entries with
a fixed date, and the document's created time is derived from generated_at.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from toolkit.config import Bureau, Config
from toolkit.errors import DuchaError
from toolkit.forms import layout, meta
from toolkit.fsutil import workspace_lock, write_atomic
from toolkit.ledger.book import load_ledger
from toolkit.model import ROLE_CO, ROLE_COUNTY, ROLE_LEAD, Assignment, Indicator, Ledger
from toolkit.period import Period
from toolkit.pool import parallel_map
from toolkit.quarter.store import last_answers
from toolkit.xlsx import row_height, write_value

FONT = "宋体"  # present on every Chinese Windows, in Excel and WPS alike
INPUT_LINES = 3  # room left in every task row for the unit's answer
INPUT_FILL = "#FFF2CC"  # light yellow: "write here"
HEADER_FILL = "#D9E1F2"
GUIDE_WIDTHS = (16, 90)
_UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
Prefill = Mapping[int, Mapping[str, object]]
IndicatorPrefill = Mapping[tuple[int, str], Mapping[str, object]]


# --- metadata ---------------------------------------------------------------------------------


def meta_fields(
    unit: str,
    assignments: Sequence[Assignment],
    indicators: Sequence[Indicator],
    period: Period,
    generated_at: str,
) -> dict[str, str]:
    """The unsigned _meta values, keyed by layout.META_KEYS: what the bureau issued to this unit."""
    tasks = [
        [a.task.no, a.role, meta.task_hash(a.task.content, a.task.leaders_text, a.role)] for a in assignments
    ]
    return {
        "unit": unit,
        "period": period.key,
        "deadline": period.deadline.isoformat(),
        "template_version": layout.TEMPLATE_VERSION,
        "generated_at": generated_at,
        "tasks": json.dumps(tasks, ensure_ascii=False, separators=(",", ":")),
        "indicators": json.dumps(
            [[i.task_no, i.name] for i in indicators], ensure_ascii=False, separators=(",", ":")
        ),
    }


def workbook_title(bureau: Bureau, period: Period) -> str:
    """开封市2024年政府工作报告确定事项第一季度推进情况表 (the quarter's year is named only when it
    differs from the report's year, e.g. a 2025Q1 follow-up of the 2024 report)."""
    quarter = period.label if period.year == bureau.year else period.full_label
    return f"{bureau.city}{bureau.year}年政府工作报告确定事项{quarter}推进情况表"


def file_name(period: Period, unit: str) -> str:
    """2024Q1_市商务局.xlsx; characters Windows forbids in file names become _."""
    return f"{period.key}_{_UNSAFE_FILENAME.sub('_', unit)}.xlsx"


def _header_text(text: str) -> str:
    """Page header/footer text: & starts a control code there, so it is doubled."""
    return text.replace("&", "&&")


class _Formats:
    """The workbook's cell formats, created once per workbook as xlsxwriter requires."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        def fmt(**props: Any) -> Format:
            base = {"font_name": FONT, "font_size": 11, "valign": "vcenter"}
            return wb.add_format(base | props)

        cell = {"border": 1, "text_wrap": True}
        entry = cell | {"locked": False, "bg_color": INPUT_FILL}
        self.title = fmt(bold=True, font_size=16, align="center")
        self.line = fmt(bold=True)
        self.label = fmt(bold=True, border=1, align="center", bg_color=HEADER_FILL)
        self.header = fmt(bold=True, border=1, text_wrap=True, align="center", bg_color=HEADER_FILL)
        self.locked = fmt(**cell, valign="top")
        self.locked_center = fmt(**cell, align="center")
        self.entry = fmt(**entry, valign="top")
        self.entry_center = fmt(**entry, align="center")
        self.entry_text = fmt(**entry, align="center", num_format="@")
        self.entry_date = fmt(**entry, align="center", num_format="yyyy-mm-dd")
        self.guide_key = fmt(bold=True, border=1, text_wrap=True, valign="top", bg_color=HEADER_FILL)
        self.guide_text = fmt(border=1, text_wrap=True, valign="top")
        self.plain = fmt()


# Per column key: the format of its data cells (default: top-aligned wrapped text).
_CENTERED = {"no", "role", "target", "unit", "direction", "leaders"}
_ENTRY_CENTERED = {"status", "progress", "value"}
_ENTRY_TEXT = {"person", "phone"}


def _cell_format(formats: _Formats, column: layout.Column) -> Format:
    if column.locked:
        return formats.locked_center if column.key in _CENTERED else formats.locked
    if column.key in _ENTRY_TEXT:
        return formats.entry_text
    return formats.entry_center if column.key in _ENTRY_CENTERED else formats.entry


def _setup_table_sheet(
    ws: Worksheet, columns: Sequence[layout.Column], header_row: int, formats: _Formats, page_header: str
) -> None:
    """What every table sheet shares: widths, header row, frozen panes, print setup, protection."""
    for i, column in enumerate(columns):
        ws.set_column(i, i, column.width)
        ws.write_string(header_row - 1, i, column.header, formats.header)
    ws.set_row(header_row - 1, 30)
    ws.freeze_panes(header_row, 0)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(header_row - 1)
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header(page_header)
    ws.set_footer("&C第 &P 页，共 &N 页")
    _protect(ws)


def _validate(
    ws: Worksheet,
    columns: Sequence[layout.Column],
    key: str,
    first_row: int,
    n_rows: int,
    options: dict[str, Any],
) -> None:
    """A data validation with a Chinese input message and a stop alert on a table column's data
    cells; none when the table has no rows."""
    if n_rows:
        col = layout.column_index(columns, key) - 1
        ws.data_validation(first_row - 1, col, first_row + n_rows - 2, col, options | {"error_type": "stop"})


def _protect(ws: Worksheet) -> None:
    """Locked cells stay as issued; units may still resize rows and columns to read long text."""
    ws.protect("", {"format_rows": True, "format_columns": True})


# --- sheets -----------------------------------------------------------------------------------


def _role_counts(assignments: Sequence[Assignment]) -> dict[str, int]:
    return {role: sum(1 for a in assignments if a.role == role) for role in (ROLE_LEAD, ROLE_CO, ROLE_COUNTY)}


def guide_rows(
    unit: str, assignments: Sequence[Assignment], has_indicators: bool, period: Period, bureau: Bureau
) -> list[tuple[str, str]]:
    """The 填报说明 sheet as (heading, text) rows; everything a unit needs without calling anyone."""
    counts = _role_counts(assignments)
    deadline = period.deadline_label
    rows = [
        ("填报单位", unit),
        ("报告期", period.full_label),
        ("报送截止时间", f"{deadline}（请于此日期前报送）"),
        (
            "填写内容",
            f"本单位共 {len(assignments)} 项任务（牵头 {counts[ROLE_LEAD]} 项、配合 {counts[ROLE_CO]} 项、"
            f"县区落实 {counts[ROLE_COUNTY]} 项）。请在“{layout.SHEET_PROGRESS}”表中逐项填写：完成状态（下拉选择）、"
            "完成进度(%)（0–100 的整数，不带%号）、本季度进展情况、存在问题、下步计划、具体责任人、联系电话；"
            "并在表格上方填写填报人、联系电话、单位负责人、填报日期。\n"
            "浅黄色单元格为填写区；任务编号、任务内容、责任领导、本单位职责已锁定，不能修改。",
        ),
    ]
    if has_indicators:
        rows.append(
            (
                "量化指标",
                f"请在“{layout.SHEET_INDICATORS}”表中填写各项指标截至本季度的完成值（只填数字，计量单位见“计量单位”列），"
                "需要说明的写在“说明”列。方向：≥ 不低于目标，≤ 不超过目标，≈ 目标左右，= 达到目标。",
            )
        )
    rows += [
        (
            "本单位职责",
            "牵头：对任务总体进展负责，完成进度按任务整体填写；\n配合：填写本单位承担部分的进展；\n"
            "县区落实：填写本县区的落实情况。",
        ),
        (
            "完成状态",
            "已完成：任务已全部完成（完成进度填 100）；\n正常推进：按计划推进，达到序时进度；\n"
            "进度滞后：落后于序时进度或工作计划，请在“存在问题”中写明原因；\n未启动：尚未开始（完成进度填 0）。",
        ),
        (
            "序时进度",
            f"序时进度 = 25% × 季度序号，{period.label}为 {period.pace}%。督查局按以下规则亮灯：\n"
            "绿灯：已完成，或牵头单位填报的完成进度达到序时进度；\n"
            "黄灯：落后序时进度不足 25 个百分点，或有单位填报“进度滞后”，或牵头单位未填完成进度；\n"
            "红灯：落后序时进度 25 个百分点及以上，或截止时间后仍无单位报送（截止前暂不亮灯）。",
        ),
        (
            "报送方式",
            f"填好后直接保存（保持 .xlsx 格式，用 Excel 或 WPS 均可，文件名可不改），于 {deadline} 前"
            f"作为电子邮件附件发送至 {bureau.email}。",
        ),
        (
            "注意事项",
            "请勿重命名工作表、移动列或删除行，请勿删除或改动隐藏的工作表，否则报表无法汇总、将被退回。"
            "可以调整行高和列宽以便阅读。对任务内容有异议的，请在“存在问题”中说明或与督查局联系。",
        ),
        (
            "联系方式",
            f"{bureau.name}　联系人：{bureau.contact}　电话：{bureau.phone}\n"
            f"邮箱：{bureau.email}　地址：{bureau.address}",
        ),
    ]
    return rows


def _write_guide(ws: Worksheet, rows: list[tuple[str, str]], title: str, formats: _Formats) -> None:
    for i, width in enumerate(GUIDE_WIDTHS):
        ws.set_column(i, i, width)
    ws.merge_range(0, 0, 0, len(GUIDE_WIDTHS) - 1, "", formats.title)
    ws.write_string(0, 0, f"{title}填报说明", formats.title)
    ws.set_row(0, 30)
    for r, (key, text) in enumerate(rows, start=1):
        ws.write_string(r, 0, key, formats.guide_key)
        ws.write_string(r, 1, text, formats.guide_text)
        ws.set_row(r, row_height([(key, GUIDE_WIDTHS[0]), (text, GUIDE_WIDTHS[1])]))
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    _protect(ws)


def _write_progress(
    ws: Worksheet,
    unit: str,
    assignments: Sequence[Assignment],
    period: Period,
    title: str,
    prefill: Prefill,
    formats: _Formats,
) -> None:
    columns = layout.PROGRESS_COLUMNS
    last_col = len(columns) - 1
    for row, text, fmt in (
        (layout.TITLE_ROW, title, formats.title),
        (layout.UNIT_ROW, f"{layout.UNIT_PREFIX}{unit}", formats.line),
        (
            layout.PERIOD_ROW,
            f"报告期：{period.full_label}　　报送截止时间：{period.deadline_label}　　本季度序时进度：{period.pace}%",
            formats.line,
        ),
    ):
        ws.merge_range(row - 1, 0, row - 1, last_col, "", fmt)
        ws.write_string(row - 1, 0, text, fmt)
    ws.set_row(layout.TITLE_ROW - 1, 30)
    for label, label_col, value_col in layout.FILLER_FIELDS:
        value_fmt = formats.entry_date if label == "填报日期" else formats.entry_text
        ws.write_string(layout.FILLER_ROW - 1, label_col - 1, label, formats.label)
        ws.write_blank(layout.FILLER_ROW - 1, value_col - 1, None, value_fmt)
    ws.set_row(layout.FILLER_ROW - 1, 22)

    _setup_table_sheet(
        ws, columns, layout.HEADER_ROW, formats, f"&L{_header_text(unit)}&R{period.full_label}"
    )
    cell_formats = [_cell_format(formats, c) for c in columns]
    for r, a in enumerate(assignments, start=layout.FIRST_DATA_ROW - 1):
        answers = prefill.get(a.task.no, {})
        values = {"no": a.task.no, "content": a.task.content, "leaders": a.task.leaders_text, "role": a.role}
        values |= {c.key: answers.get(c.key) for c in columns if not c.locked}
        for col, column in enumerate(columns):
            write_value(ws, r, col, values[column.key], cell_formats[col])
        ws.set_row(r, row_height([(values[c.key], c.width) for c in columns], INPUT_LINES))

    choices = "、".join(layout.STATUSES)
    rows = (layout.FIRST_DATA_ROW, len(assignments))
    _validate(
        ws,
        columns,
        "status",
        *rows,
        {
            "validate": "list",
            "source": f"={layout.STATUS_LIST_NAME}",
            "input_title": "完成状态",
            "input_message": f"请点击右侧箭头，从下拉列表中选择：{choices}",
            "error_title": "完成状态不正确",
            "error_message": f"完成状态只能是：{choices}。请从下拉列表中选择。",
        },
    )
    _validate(
        ws,
        columns,
        "progress",
        *rows,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": 100,
            "input_title": "完成进度(%)",
            "input_message": "请填写 0–100 之间的整数，如 60（不带%号）。已完成填 100，未启动填 0。",
            "error_title": "完成进度不正确",
            "error_message": "完成进度须为 0 到 100 之间的整数，不带%号。",
        },
    )


def _write_indicators(
    ws: Worksheet,
    unit: str,
    indicators: Sequence[Indicator],
    period: Period,
    prefill: IndicatorPrefill,
    formats: _Formats,
) -> None:
    columns = layout.INDICATOR_COLUMNS
    _setup_table_sheet(
        ws, columns, layout.INDICATOR_HEADER_ROW, formats, f"&L{_header_text(unit)}&R{period.full_label}"
    )
    cell_formats = [_cell_format(formats, c) for c in columns]
    for r, ind in enumerate(indicators, start=layout.INDICATOR_FIRST_ROW - 1):
        answers = prefill.get((ind.task_no, ind.name), {})
        values = {
            "no": ind.task_no,
            "name": ind.name,
            "target": ind.target,
            "unit": ind.unit,
            "direction": ind.direction,
        }
        values |= {c.key: answers.get(c.key) for c in columns if not c.locked}
        for col, column in enumerate(columns):
            write_value(ws, r, col, values[column.key], cell_formats[col])
        ws.set_row(r, row_height([(values[c.key], c.width) for c in columns], 2))
    _validate(
        ws,
        columns,
        "value",
        layout.INDICATOR_FIRST_ROW,
        len(indicators),
        {
            "validate": "decimal",
            "criteria": "between",
            "minimum": -1e15,
            "maximum": 1e15,
            "input_title": "截至本季度完成值",
            "input_message": "请只填写数字（如 3.2），计量单位见“计量单位”列，不要带单位或文字；说明写在“说明”列。",
            "error_title": "完成值不正确",
            "error_message": "完成值须为数字，不要带单位或文字。",
        },
    )


def _write_lists(wb: xlsxwriter.Workbook, formats: _Formats) -> None:
    ws = wb.add_worksheet(layout.SHEET_LISTS)
    for r, status in enumerate(layout.STATUSES):
        ws.write_string(r, 0, status, formats.plain)
    wb.define_name(layout.STATUS_LIST_NAME, f"={layout.SHEET_LISTS}!$A$1:$A${len(layout.STATUSES)}")
    ws.hide()
    _protect(ws)


def _write_meta(wb: xlsxwriter.Workbook, fields: dict[str, str], secret: bytes) -> None:
    ws = wb.add_worksheet(layout.SHEET_META)
    signed = fields | {layout.META_SIGNATURE_KEY: meta.sign(fields, secret)}
    for r, key in enumerate((*layout.META_KEYS, layout.META_SIGNATURE_KEY)):
        ws.write_string(r, 0, key)
        ws.write_string(r, 1, signed[key])
    ws.very_hidden()
    _protect(ws)


def write_workbook(
    path: Path,
    *,
    unit: str,
    assignments: Sequence[Assignment],
    indicators: Sequence[Indicator],
    period: Period,
    bureau: Bureau,
    secret: bytes,
    generated_at: str,
    prefill: Prefill | None = None,
    indicator_prefill: IndicatorPrefill | None = None,
) -> None:
    """Write one unit's workbook to path (not atomically: generate() wraps this in write_atomic).

    generated_at is an ISO date-time; it is signed into _meta and becomes the document's created
    time, so the same inputs give the same bytes. prefill (task_no → {PROGRESS_COLUMNS key: value})
    and indicator_prefill ((task_no, name) → {INDICATOR_COLUMNS key: value}) carry the unit's last
    accepted answers so it updates them instead of retyping; locked keys in them are ignored.
    """
    created = dt.datetime.fromisoformat(generated_at).replace(tzinfo=None)
    title = workbook_title(bureau, period)
    wb = xlsxwriter.Workbook(
        str(path),
        # in_memory: assemble the zip in memory, not via a temporary file per part (3× faster here).
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties(
        {"title": f"{title}（{unit}）", "author": bureau.name, "company": bureau.name, "created": created}
    )
    wb.set_size(1600, 1000)
    formats = _Formats(wb)
    guide = wb.add_worksheet(layout.SHEET_GUIDE)
    _write_guide(guide, guide_rows(unit, assignments, bool(indicators), period, bureau), title, formats)
    _write_progress(
        wb.add_worksheet(layout.SHEET_PROGRESS), unit, assignments, period, title, prefill or {}, formats
    )
    if indicators:
        _write_indicators(
            wb.add_worksheet(layout.SHEET_INDICATORS),
            unit,
            indicators,
            period,
            indicator_prefill or {},
            formats,
        )
    _write_lists(wb, formats)
    _write_meta(wb, meta_fields(unit, assignments, indicators, period, generated_at), secret)
    guide.activate()
    wb.close()


# --- generate ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitJob:
    """One workbook to write: a unit, its rows and the indicators it reports."""

    unit: str
    assignments: tuple[Assignment, ...]
    indicators: tuple[Indicator, ...]
    prefill: Prefill = field(default_factory=dict)  # the unit's last accepted answers
    indicator_prefill: IndicatorPrefill = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Who gets a workbook, and who does not and why (reported, never silently skipped)."""

    jobs: list[UnitJob]
    units_without_tasks: list[str]
    empty_groups: dict[str, list[int]]  # group → task numbers naming it, which reach nobody through it


@dataclass(frozen=True)
class GeneratedWorkbook:
    unit: str
    lead: int
    co: int
    county: int
    indicators: int
    path: Path

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "lead": self.lead,
            "co": self.co,
            "county": self.county,
            "indicators": self.indicators,
            "path": str(self.path),
        }


@dataclass
class GenerateResult:
    period: Period
    out_dir: Path
    generated_at: str
    workbooks: list[GeneratedWorkbook] = field(default_factory=list)
    units_without_tasks: list[str] = field(default_factory=list)
    empty_groups: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period.key,
            "deadline": self.period.deadline.isoformat(),
            "generated_at": self.generated_at,
            "out_dir": str(self.out_dir),
            "workbooks": [w.as_dict() for w in self.workbooks],
            "units_without_tasks": self.units_without_tasks,
            "empty_groups": [{"group": g, "tasks": nos} for g, nos in self.empty_groups.items()],
        }


def _selected(ledger: Ledger, names: Sequence[str]) -> set[str]:
    """Canonical unit names for --units (aliases and groups accepted); unknown names are an error."""
    unknown = [name for name in names if ledger.unit(name) is None]
    if unknown:
        raise DuchaError(
            f"总台账“单位名录”中没有这些单位：{'、'.join(unknown)}。请检查拼写（可用单位名称、别名或分组名）。"
        )
    return {member for name in names for member in ledger.expand(name)}


def plan(ledger: Ledger, units: Sequence[str] | None = None) -> Plan:
    """Decide which units get a workbook (those with ≥1 task, groups expanded), in 单位名录 order."""
    chosen = _selected(ledger, units) if units else None
    assignments = ledger.assignments()
    jobs = [
        UnitJob(unit, tuple(rows), tuple(ledger.indicators_for(unit, rows)))
        for unit, rows in assignments.items()
        if chosen is None or unit in chosen
    ]
    without = [
        u.name
        for u in ledger.units
        if not u.is_group and u.name not in assignments and (chosen is None or u.name in chosen)
    ]
    empty = {
        g.name: [t.no for t in ledger.tasks if g.name in (t.lead, *t.co, *t.county)]
        for g in ledger.units
        if g.is_group and not ledger.members(g.name)
    }
    return Plan(jobs, without, empty)


@dataclass(frozen=True)
class _Issue:
    """What every workbook of one generate run shares (sent to each pool worker once)."""

    out_dir: Path
    period: Period
    bureau: Bureau
    secret: bytes
    generated_at: str


def _write_job(issue: _Issue, job: UnitJob) -> Path:
    target = issue.out_dir / file_name(issue.period, job.unit)

    def writer(tmp: Path) -> None:
        write_workbook(
            tmp,
            unit=job.unit,
            assignments=job.assignments,
            indicators=job.indicators,
            period=issue.period,
            bureau=issue.bureau,
            secret=issue.secret,
            generated_at=issue.generated_at,
            prefill=job.prefill,
            indicator_prefill=job.indicator_prefill,
        )

    return write_atomic(target, writer)


def write_jobs(
    jobs: Sequence[UnitJob],
    out_dir: Path,
    period: Period,
    bureau: Bureau,
    secret: bytes,
    generated_at: str,
    workers: int | None = None,
) -> list[Path]:
    """Write every job's workbook atomically, in pool workers for large batches (workers=1 forces
    this process). Returns the paths in job order."""
    return parallel_map(_write_job, jobs, _Issue(out_dir, period, bureau, secret, generated_at), workers)


def _with_answers(job: UnitJob, answers: Callable[[str], tuple[Prefill, IndicatorPrefill]]) -> UnitJob:
    prefill, indicator_prefill = answers(job.unit)
    return replace(job, prefill=prefill, indicator_prefill=indicator_prefill)


def generate_from(
    ledger: Ledger,
    period: Period,
    bureau: Bureau,
    secret: bytes,
    out_dir: Path,
    units: Sequence[str] | None = None,
    now: dt.datetime | None = None,
    workers: int | None = None,
    answers: Callable[[str], tuple[Prefill, IndicatorPrefill]] | None = None,
) -> GenerateResult:
    """generate() on a Ledger already in memory (tests, the bench, the demo); no lock taken.
    answers(unit) gives the (prefill, indicator_prefill) a unit's workbook starts from."""
    generated_at = (now or dt.datetime.now()).replace(microsecond=0).isoformat()
    planned = plan(ledger, units)
    jobs = [_with_answers(job, answers) for job in planned.jobs] if answers else planned.jobs
    paths = write_jobs(jobs, out_dir, period, bureau, secret, generated_at, workers)
    rows = []
    for job, path in zip(jobs, paths, strict=True):
        counts = _role_counts(job.assignments)
        rows.append(
            GeneratedWorkbook(
                job.unit, counts[ROLE_LEAD], counts[ROLE_CO], counts[ROLE_COUNTY], len(job.indicators), path
            )
        )
    return GenerateResult(
        period, out_dir, generated_at, rows, planned.units_without_tasks, planned.empty_groups
    )


def generate(
    config: Config,
    period: Period,
    units: list[str] | None = None,
    out: Path | None = None,
    now: dt.datetime | None = None,
) -> GenerateResult:
    """`ducha generate`: check and load the ledger, then write outbox/<period>/<period>_<单位>.xlsx
    for every unit with a task, under the workspace lock."""
    out_dir = Path(out) if out else config.paths.outbox / period.key
    with workspace_lock(config.paths.lock):
        ledger = load_ledger(config)
        secret = meta.load_secret(config.paths.secret)
        return generate_from(ledger, period, config.bureau, secret, out_dir, units, now,
                             answers=lambda unit: last_answers(config, unit, period.key))
