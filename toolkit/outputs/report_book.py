"""Write the quarter's 汇总表.xlsx and one 回执 (receipt) per unit that sent something.

Both are written from a MergedQuarter only, so they hold exactly what the briefing counts. Unit
text is hostile until proven otherwise: every string goes in through write_string, so a progress
note starting with "=" stays text. Workbooks are built in memory with a fixed 'created' time
and written atomically only when their bytes change: a rerun with no new files touches nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path, PurePath
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from toolkit import __version__
from toolkit.config import Bureau
from toolkit.forms import layout
from toolkit.forms.generate import file_name
from toolkit.fsutil import remove_stale_temps, write_bytes_atomic
from toolkit.pool import parallel_map
from toolkit.problems import LEVEL_LABELS
from toolkit.quarter import merge
from toolkit.quarter.merge import MergedQuarter
from toolkit.quarter.store import FileRecord
from toolkit.xlsx import row_height, write_value

BOOK_NAME = "汇总表.xlsx"
RECEIPT_DIR = "回执"
FONT = "宋体"
HEADER_FILL = "#D9E1F2"
FILLS = {
    merge.LIGHT_GREEN: "#C6EFCE",
    merge.LIGHT_YELLOW: "#FFEB9C",
    merge.LIGHT_RED: "#FFC7CE",
    merge.LIGHT_NONE: "#EDEDED",
}
STATUS_FILLS = {
    merge.UNIT_ON_TIME: FILLS[merge.LIGHT_GREEN],
    merge.UNIT_LATE: FILLS[merge.LIGHT_YELLOW],
    merge.UNIT_REJECTED: FILLS[merge.LIGHT_RED],
    merge.UNIT_MISSING: FILLS[merge.LIGHT_RED],
}
ISSUE_FILLS = {"error": "#FFC7CE", "warning": "#FFEB9C"}

# Column widths per header; anything not named gets DEFAULT_WIDTH.
WIDTHS = {
    "任务编号": 9, "板块": 16, "任务内容": 48, "责任领导": 12, "牵头单位": 16, "综合状态": 10, "红黄绿灯": 9,
    "完成进度(%)": 10, "各单位进展": 60, "存在问题": 36, "未报送单位": 24, "单位名称": 22, "单位": 18,
    "文件": 28, "收到时间": 19, "说明": 60, "位置": 14, "代码": 22, "指标名称": 28, "本季度进展情况": 40,
    "下步计划": 26,
}
DEFAULT_WIDTH = 11


class _Formats:
    """Cell formats of one workbook (xlsxwriter formats belong to the workbook that made them).
    The fills are made on first use: a receipt needs none of the lights' and often no issue
    colour, and each format costs time in every one of 10,000 receipts."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.title = self._fmt(bold=True, font_size=16)
        self.bold = self._fmt(bold=True)
        self.plain = self._fmt()
        self.text = self._fmt(text_wrap=True)
        self.header = self._fmt(bold=True, border=1, text_wrap=True, align="center", valign="vcenter",
                                bg_color=HEADER_FILL)
        self.cell = self._fmt(border=1, text_wrap=True)
        self.number = self._fmt(border=1)

    def _fmt(self, **props: Any) -> Format:
        return self.wb.add_format({"font_name": FONT, "font_size": 11, "valign": "top"} | props)

    @cached_property
    def fills(self) -> dict[str, Format]:
        return {value: self.wb.add_format({"bg_color": color}) for value, color in (FILLS | STATUS_FILLS).items()}

    @cached_property
    def issue(self) -> dict[str, Format]:
        return {level: self._fmt(border=1, text_wrap=True, bg_color=color) for level, color in ISSUE_FILLS.items()}


def _new_book(buffer: io.BytesIO, title: str, author: str, created: dt.datetime,
              fingerprint: str) -> xlsxwriter.Workbook:
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                      "strings_to_urls": False, "strings_to_numbers": False})
    wb.set_properties({"title": title, "author": author, "company": author, "created": created})
    wb.set_custom_property(_FINGERPRINT, fingerprint)
    return wb


def _write(ws: Worksheet, row: int, col: int, value: Any, formats: _Formats, fmt: Format | None = None) -> None:
    """Numbers as numbers, everything else as inert text (template's rule), missing values blank."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    write_value(ws, row, col, value, fmt or (formats.number if number else formats.cell))


def _print_setup(ws: Worksheet, header_row: int, header: str) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_header("&C" + header.replace("&", "&&"))
    ws.set_footer("&C第 &P 页，共 &N 页")


def _table(ws: Worksheet, columns: Sequence[str], rows: Sequence[Sequence[Any]], formats: _Formats,
           title: str) -> None:
    """Rows under a header as a filterable, frozen, printable table."""
    widths = [WIDTHS.get(name, DEFAULT_WIDTH) for name in columns]
    for col, name in enumerate(columns):
        ws.set_column(col, col, widths[col])
        ws.write_string(0, col, name, formats.header)
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            _write(ws, r, col, value, formats)
        ws.set_row(r, row_height(list(zip(values, widths, strict=True))))
    ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    ws.freeze_panes(1, 0)
    _print_setup(ws, 0, title)


def _colour(ws: Worksheet, frame: pd.DataFrame, column: str, formats: _Formats) -> None:
    """Conditional fills on one column by its value (lights, 报送情况): they survive sorting."""
    if column not in frame.columns or frame.empty:
        return
    col = list(frame.columns).index(column)
    for value, fmt in formats.fills.items():
        ws.conditional_format(1, col, len(frame), col,
                              {"type": "cell", "criteria": "==", "value": f'"{value}"', "format": fmt})


# --- 汇总表 ----------------------------------------------------------------------------------


def _count_block(ws: Worksheet, row: int, heading: str, counts: Sequence[tuple[str, int]],
                 formats: _Formats) -> int:
    ws.write_string(row, 0, heading, formats.header)
    ws.write_string(row, 1, "数量", formats.header)
    for i, (label, count) in enumerate(counts, start=1):
        ws.write_string(row + i, 0, label, formats.cell)
        ws.write_number(row + i, 1, count, formats.cell)
    return row + len(counts) + 2


def _overview(wb: xlsxwriter.Workbook, merged: MergedQuarter, title: str, formats: _Formats) -> None:
    ws = wb.add_worksheet("总览")
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 70)
    period, counts = merged.period, merged.counts
    ws.write_string(0, 0, title, formats.title)
    ws.set_row(0, 30)
    ws.write_string(1, 0, f"报告期：{period.full_label}　截止时间：{period.deadline_label}　"
                          f"序时进度：{period.pace}%", formats.bold)
    units = [("应报单位", len(counts["units_expected"]))] + [
        (label, len(counts[key])) for label, key in (
            (merge.UNIT_ON_TIME, "units_reported"), (merge.UNIT_LATE, "units_late"),
            (merge.UNIT_REJECTED, "units_rejected"), (merge.UNIT_MISSING, "units_missing"))
    ]
    row = _count_block(ws, 3, "单位报送", units, formats)
    row = _count_block(ws, row, "综合状态", list(counts["tasks"]["status"].items()), formats)
    light_row = row
    lights = list(counts["tasks"]["light"].items())
    row = _count_block(ws, row, "红黄绿灯", lights, formats)
    for i, (label, _count) in enumerate(lights, start=1):
        ws.conditional_format(light_row + i, 0, light_row + i, 0,
                              {"type": "no_errors", "format": formats.fills[label]})
    ws.write_string(row, 0, "统计规则", formats.bold)
    _paragraphs(ws, row + 1, merge.RULES_TEXT, 2, 102, formats)
    chart = wb.add_chart({"type": "column"})
    chart.add_series({
        "name": "红黄绿灯",
        "categories": ["总览", light_row + 1, 0, light_row + len(lights), 0],
        "values": ["总览", light_row + 1, 1, light_row + len(lights), 1],
        "points": [{"fill": {"color": FILLS[label]}, "border": {"color": "#808080"}} for label, _ in lights],
        "data_labels": {"value": True},
    })
    chart.set_title({"name": "任务红黄绿灯", "name_font": {"name": FONT, "size": 12}})
    chart.set_legend({"none": True})
    chart.set_x_axis({"num_font": {"name": FONT}})
    ws.insert_chart(3, 2, chart, {"x_offset": 20, "y_offset": 0})
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)


def book_bytes(merged: MergedQuarter, bureau: Bureau, fingerprint: str = "") -> bytes:
    """汇总表.xlsx as bytes: 总览, 任务进展, 单位报送, 问题清单, 量化指标."""
    buffer = io.BytesIO()
    title = f"{bureau.city}政府工作报告确定事项{merged.period.full_label}推进情况汇总表"
    wb = _new_book(buffer, title, bureau.name, _created(merged), fingerprint)
    formats = _Formats(wb)
    _overview(wb, merged, title, formats)
    for name, frame, coloured in (
        ("任务进展", merged.tasks, ("红黄绿灯", "综合状态")),
        ("单位报送", merged.units, ("报送情况",)),
        ("问题清单", merged.issues, ()),
        ("量化指标", merged.indicators, ()),
    ):
        ws = wb.add_worksheet(name)
        _table(ws, list(frame.columns), list(frame.itertuples(index=False)), formats, f"{title}·{name}")
        for column in coloured:
            _colour(ws, frame, column, formats)
    wb.close()
    return buffer.getvalue()


def _created(merged: MergedQuarter) -> dt.datetime:
    """A fixed document time (the deadline), so the same merge gives the same bytes."""
    return dt.datetime.combine(merged.period.deadline, dt.time())


# --- receipts --------------------------------------------------------------------------------


def receipt_name(period_key: str, unit: str) -> str:
    """2024Q1_市商务局_回执.xlsx (characters Windows forbids become _)."""
    from toolkit.period import Period

    return PurePath(file_name(Period.parse(period_key), unit)).stem + "_回执.xlsx"


def _verdict_text(standing: str, merged: MergedQuarter) -> str:
    deadline = merged.period.deadline_label
    return {
        merge.UNIT_ON_TIME: "已收到，报表合格，已采用。",
        merge.UNIT_LATE: f"已收到，报表合格，已采用；但晚于截止时间（{deadline}），记为迟报。",
        merge.UNIT_REJECTED: "报表有错误，未能采用，请按“问题清单”逐项修改后重新报送。",
    }[standing]


def _paragraphs(ws: Worksheet, first_row: int, texts: Sequence[str], last_col: int, width: float,
                formats: _Formats) -> None:
    """Wrapped text rows merged across columns 0..last_col (total width `width`)."""
    for row, text in enumerate(texts, start=first_row):
        ws.merge_range(row, 0, row, last_col, "", formats.text)
        ws.write_string(row, 0, text, formats.text)
        ws.set_row(row, row_height([(text, width)]))


def _receipt_front(wb: xlsxwriter.Workbook, merged: MergedQuarter, unit: str, files: list[FileRecord],
                   bureau: Bureau, formats: _Formats) -> None:
    ws = wb.add_worksheet("回执")
    for col, width in enumerate((28, 19, 16, 8, 8)):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, f"{merged.period.full_label}推进情况报表回执", formats.title)
    ws.write_string(2, 0, f"{layout.UNIT_PREFIX}{unit}", formats.bold)
    standing = merged.unit_status.get(unit) or merge.unit_standing(files, merged.period)
    ws.write_string(3, 0, f"结论：{_verdict_text(standing, merged)}", formats.bold)
    for col, name in enumerate(("文件", "收到时间", "判定", "错误数", "提醒数")):
        ws.write_string(5, col, name, formats.header)
    for r, record in enumerate(files, start=6):
        for col, value in enumerate((
            PurePath(record.path).name, record.received.replace("T", " "), merge.VERDICT_LABELS[record.verdict],
            sum(i.level == "error" for i in record.issues), sum(i.level == "warning" for i in record.issues),
        )):
            _write(ws, r, col, value, formats, formats.cell)
    notes = [
        "同一单位多次报送的，以最后收到的合格文件为准；内容相同的文件只计一次。",
        "“进展填报”“量化指标”两表是最后收到的文件中的内容，有问题的单元格已标色并加批注（鼠标移到单元格上可见）。",
        f"{bureau.name}　联系人：{bureau.contact}　电话：{bureau.phone}　邮箱：{bureau.email}",
    ]
    _paragraphs(ws, 7 + len(files), notes, 4, 79, formats)
    ws.set_portrait()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _receipt_issues(wb: xlsxwriter.Workbook, files: list[FileRecord], formats: _Formats) -> None:
    rows = [
        (PurePath(f.path).name, LEVEL_LABELS.get(i.level, i.level), i.where, i.message)
        for f in reversed(files)
        for i in f.issues
    ]
    _table(wb.add_worksheet("问题清单"), ("文件", "级别", "位置", "说明"), rows, formats, "问题清单")


def _copy_rows(wb: xlsxwriter.Workbook, sheet: str, header_row: int, columns: Sequence[layout.Column],
               rows: list[tuple[int, dict[str, Any]]], issues: list, formats: _Formats,
               top: dict[tuple[int, int], str] | None = None) -> None:
    """The unit's rows at the cells they came from, so 进展填报!F7 in a message is F7 here too;
    a cell with a problem is filled (red: error, yellow: warning) and carries the messages.
    top: text above the header (zero-based cells), such as the filler block of 进展填报."""
    marks: dict[tuple[int, int], list] = {}
    for issue in issues:
        where = (issue.cell.row - 1, issue.cell.col - 1) if issue.sheet == sheet and issue.cell else None
        if where is not None:
            marks.setdefault(where, []).append(issue)
    ws = wb.add_worksheet(sheet)
    for col, column in enumerate(columns):
        ws.set_column(col, col, column.width)
        ws.write_string(header_row - 1, col, column.header, formats.header)
    ws.freeze_panes(header_row, 0)
    cells: dict[tuple[int, int], tuple[Any, Format | None]] = {
        where: (text, formats.plain) for where, text in (top or {}).items()
    }
    for row, data in rows:
        cells |= {(row - 1, col): (data.get(column.key), None) for col, column in enumerate(columns)}
        ws.set_row(row - 1, row_height([(data.get(c.key), c.width) for c in columns]))
    for where in sorted(set(cells) | set(marks)):
        value, fmt = cells.get(where, (None, None))
        found = marks.get(where, [])
        if found:
            fmt = formats.issue["error" if any(i.level == "error" for i in found) else "warning"]
            ws.write_comment(*where, "\n".join(i.message for i in found), {"x_scale": 2.5, "y_scale": 2})
        _write(ws, *where, value, formats, fmt)
    _print_setup(ws, header_row - 1, sheet)


def _progress_top(unit: str, record: FileRecord) -> dict[tuple[int, int], str]:
    """What sits above 进展填报's header: a note on what this copy is, the unit, the filler block."""
    top = {
        (layout.TITLE_ROW - 1, 0): f"以下是最后收到的文件“{PurePath(record.path).name}”中的内容。标色单元格有问题"
                                   "（红色为错误，黄色为提醒），鼠标移到单元格上可看批注。",
        (layout.UNIT_ROW - 1, 0): f"{layout.UNIT_PREFIX}{unit}",
    }
    for label, label_col, value_col in layout.FILLER_FIELDS:
        top[(layout.FILLER_ROW - 1, label_col - 1)] = label
        top[(layout.FILLER_ROW - 1, value_col - 1)] = record.filler.get(label, "")
    return top


def receipt_bytes(merged: MergedQuarter, unit: str, bureau: Bureau, fingerprint: str = "") -> bytes:
    """One unit's receipt: its verdict and files (回执), every problem (问题清单), and a copy of
    the rows of its last file with the offending cells highlighted and commented."""
    files = merged.files_of(unit)
    latest = files[-1]
    buffer = io.BytesIO()
    wb = _new_book(buffer, f"{merged.period.full_label}报表回执（{unit}）", bureau.name, _created(merged),
                   fingerprint)
    formats = _Formats(wb)
    _receipt_front(wb, merged, unit, files, bureau, formats)
    _receipt_issues(wb, files, formats)
    tasks = merged.task_by_no
    progress_rows = [
        (t.row, {"no": t.task_no, "content": tasks[t.task_no].content if t.task_no in tasks else "",
                 "leaders": tasks[t.task_no].leaders_text if t.task_no in tasks else "", "role": t.role,
                 "status": t.status, "progress": t.progress, "done": t.done, "problems": t.problems,
                 "next": t.next, "person": t.person, "phone": t.phone})
        for t in latest.tasks
    ]
    _copy_rows(wb, layout.SHEET_PROGRESS, layout.HEADER_ROW, layout.PROGRESS_COLUMNS, progress_rows,
               latest.issues, formats, _progress_top(unit, latest))
    indicators = {(i.task_no, i.name): i for no in {r.task_no for r in latest.indicators}
                  for i in merged.indicators_by_task.get(no, [])}
    indicator_rows = [
        (r.row, {"no": r.task_no, "name": r.name, "value": r.value, "note": r.note}
         | ({"target": ind.target, "unit": ind.unit, "direction": ind.direction}
            if (ind := indicators.get((r.task_no, r.name))) else {}))
        for r in latest.indicators
    ]
    if indicator_rows or any(i.sheet == layout.SHEET_INDICATORS for i in latest.issues):
        _copy_rows(wb, layout.SHEET_INDICATORS, layout.INDICATOR_HEADER_ROW, layout.INDICATOR_COLUMNS,
                   indicator_rows, latest.issues, formats)
    wb.close()
    return buffer.getvalue()


# Any change to this module changes every fingerprint, so outputs of an older layout are rebuilt.
_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
_FINGERPRINT = "ducha_inputs"


def _fingerprint(*inputs: object) -> str:
    """A digest of everything an output is built from (reprs of frozen data are deterministic)."""
    return hashlib.sha256(repr((_CODE, __version__, *inputs)).encode("utf-8")).hexdigest()


# A hidden index in reports/<period>/: {output's relative path: [fingerprint, size, mtime_ns]} as
# of the last run. Reading the fingerprint inside every receipt took ~1 ms a file (10 s at 10,000
# units); an output whose size and time still match its entry need not be opened. Anything else
# (no index, a stale entry after a killed run, a file the clerk replaced) is checked in the file.
_INDEX = ".ducha_outputs.json"


def _stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _load_index(out: Path) -> dict[str, list]:
    try:
        index = json.loads((out / _INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def _holds(target: Path, fingerprint: str, indexed: list | None = None) -> bool:
    """True when target was built from exactly these inputs: a rerun need not rebuild it."""
    stamp = _stamp(target)
    if stamp is None:
        return False  # deleted: rebuilt
    if indexed == [fingerprint, *stamp]:
        return True
    try:
        with zipfile.ZipFile(target) as zf:
            return fingerprint in zf.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


def _book_inputs(merged: MergedQuarter, bureau: Bureau) -> str:
    frames = (merged.tasks, merged.units, merged.issues, merged.indicators)
    return _fingerprint(merged.period, bureau, merged.counts, [f.to_csv() for f in frames])


def _receipt_inputs(merged: MergedQuarter, unit: str, bureau: Bureau) -> str:
    files = merged.files_of(unit)
    nos = {t.task_no for f in files for t in f.tasks}
    return _fingerprint(merged.period, bureau, unit, merged.unit_status.get(unit), files,
                        [merged.task_by_no[n] for n in sorted(nos) if n in merged.task_by_no],
                        [i for n in sorted(nos) for i in merged.indicators_by_task.get(n, [])])


def _write_output(shared: tuple[MergedQuarter, Bureau], job: tuple[str | None, str, Path]) -> Path:
    """Build and write one output: a unit's receipt, or 汇总表 when unit is None."""
    merged, bureau = shared
    unit, fingerprint, target = job
    if unit is None:
        return write_bytes_atomic(target, book_bytes(merged, bureau, fingerprint))
    return write_bytes_atomic(target, receipt_bytes(merged, unit, bureau, fingerprint))


def write_outputs(merged: MergedQuarter, reports_dir: Path, bureau: Bureau) -> list[Path]:
    """reports/<period>/汇总表.xlsx and 回执/<period>_<单位>_回执.xlsx for every identified unit
    that sent a file this period; returns their paths, 汇总表 first.

    An output whose inputs are unchanged (its fingerprint is in the file) is not rebuilt, so a
    rerun is quick and touches no byte; the others are built and written atomically, 汇总表
    first — when there are many, in parallel, 汇总表 alongside the first receipts."""
    out = reports_dir / merged.period.key
    remove_stale_temps(out, out / RECEIPT_DIR)
    book = out / BOOK_NAME
    senders = sorted({f.unit for f in merged.files if f.unit}, key=_unit_order(merged))
    receipts = {unit: out / RECEIPT_DIR / receipt_name(merged.period.key, unit) for unit in senders}
    wanted = [(None, _book_inputs(merged, bureau), book)] + [
        (unit, _receipt_inputs(merged, unit, bureau), target) for unit, target in receipts.items()]
    index = _load_index(out)
    jobs = [job for job in wanted if not _holds(job[2], job[1], index.get(job[2].relative_to(out).as_posix()))]
    parallel_map(_write_output, jobs, (merged, bureau))
    now = {target.relative_to(out).as_posix(): [fingerprint, *(_stamp(target) or [])]
           for _unit, fingerprint, target in wanted}
    if now != index:
        write_bytes_atomic(out / _INDEX, json.dumps(now, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return [book, *receipts.values()]


def _unit_order(merged: MergedQuarter):
    order = {u: i for i, u in enumerate(merged.unit_status)}
    return lambda unit: (order.get(unit, len(order)), unit)
