"""The layout of master_ledger.xlsx, and the only code that writes or reads its cells.

The clerk edits this workbook in Excel, so its sheet names and header texts are a contract: the
check finds columns by header, the build compares cells to protect the clerk's edits. Keeping the
columns, the writer and the reader together means they cannot drift apart, and the rest of the
package works with plain tables of values, never with xlsxwriter or calamine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from toolkit.config import Config
from toolkit.errors import LedgerError
from toolkit.ledger import indicators
from toolkit.model import INDICATOR_KINDS, UNIT_KINDS, Indicator, Ledger, Milestone, Task, Unit

SHEET_TASKS = "任务台账"
SHEET_UNITS = "单位名录"
SHEET_INDICATORS = "量化指标"
SHEET_PLAN = "节点计划"
SHEET_BONUS = "考评加分"
SHEET_ABOUT = "说明"
JOIN = "、"
BUILT_AT_LABEL = "生成时间"  # the one cell that changes on every build; ignored when comparing
TEMPLATE_SOURCE = "无（空白模板 ducha ledger template，任务由本局逐项填写）"


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    width: float
    optional: bool = False  # added after ledgers were in use: one without it still loads


TASK_COLUMNS = (
    Col("no", "任务编号", 9),
    Col("category", "类别", 16),
    Col("section", "板块", 30),
    Col("content", "任务内容", 60),
    Col("leaders", "责任领导", 20),
    Col("units_text", "责任单位", 36),
    Col("lead", "牵头单位", 22),
    Col("co", "配合单位", 30),
    Col("county", "县区单位", 30),
    Col("deadline", "时间节点", 16),
    Col("person", "具体责任人", 12),
    Col("note", "备注", 20),
)
UNIT_COLUMNS = (
    Col("name", "单位名称", 32),
    Col("aliases", "别名", 30),
    Col("kind", "类型", 10),
    Col("groups", "所属分组", 16),
    Col("contact", "联系人", 10),
    Col("email", "邮箱", 28),
    Col("phone", "联系电话", 18),
)
INDICATOR_COLUMNS = (
    Col("no", "任务编号", 9),
    Col("name", "指标名称", 40),
    Col("target", "目标值", 10),
    Col("unit", "计量单位", 11),
    Col("direction", "方向", 7),
    Col("kind", "指标类型", 11, optional=True),  # blank or absent: model.default_kind
    Col("source", "原文", 60),
)
PLAN_COLUMNS = (
    Col("no", "任务编号", 9),
    Col("seq", "节点序号", 9),
    Col("content", "节点内容", 50),
    Col("due", "计划完成日期", 14),
    Col("progress", "计划累计进度(%)", 14),
    Col("unit", "责任单位", 26),
    Col("person", "具体责任人", 12),
)
BONUS_COLUMNS = (
    Col("period", "季度", 10),
    Col("unit", "单位", 26),
    Col("points", "分值", 8),
    Col("reason", "事由", 50),
    Col("basis", "依据", 30),
)
ABOUT_COLUMNS = (Col("item", "项目", 16), Col("text", "内容", 100))
COLUMNS = {
    SHEET_TASKS: TASK_COLUMNS,
    SHEET_UNITS: UNIT_COLUMNS,
    SHEET_INDICATORS: INDICATOR_COLUMNS,
    SHEET_PLAN: PLAN_COLUMNS,
    SHEET_BONUS: BONUS_COLUMNS,
    SHEET_ABOUT: ABOUT_COLUMNS,
}
VALIDATED = {
    (SHEET_UNITS, "kind"): UNIT_KINDS,
    (SHEET_INDICATORS, "direction"): indicators.DIRECTIONS,
    (SHEET_INDICATORS, "kind"): INDICATOR_KINDS,
}
# Excel refuses what these cannot be (a date, a percentage); ledger check judges the rest (the year).
RANGED = {
    (SHEET_PLAN, "due"): {"validate": "date", "criteria": "between", "minimum": dt.date(2000, 1, 1),
                          "maximum": dt.date(2099, 12, 31), "error_title": "计划完成日期",
                          "error_message": "请填写日期，如 2024-06-30"},
    (SHEET_PLAN, "progress"): {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                               "error_title": "计划累计进度", "error_message": "请填写 0 到 100 之间的数字（不带 %）"},
    (SHEET_BONUS, "points"): {"validate": "decimal", "criteria": "between", "minimum": 0.01, "maximum": 100,
                              "error_title": "分值", "error_message": "请填写大于 0、不超过 100 的数字"},
}
DATE_FORMAT = "yyyy-mm-dd"

Value = str | int | float
Table = list[list[Value]]


def _task_row(task: Task) -> list[Value]:
    return [
        task.no,
        task.category,
        task.section,
        task.content,
        task.leaders_text,
        task.units_text,
        task.lead,
        JOIN.join(task.co),
        JOIN.join(task.county),
        task.deadline,
        task.person,
        task.note,
    ]


def _unit_row(unit: Unit) -> list[Value]:
    return [
        unit.name,
        JOIN.join(unit.aliases),
        unit.kind,
        JOIN.join(unit.groups),
        unit.contact,
        unit.email,
        unit.phone,
    ]


def _indicator_row(ind: Indicator) -> list[Value]:
    target = int(ind.target) if float(ind.target).is_integer() else ind.target
    return [ind.task_no, ind.name, target, ind.unit, ind.direction, ind.kind, ind.source]


def milestone_row(m: Milestone) -> list[Value]:
    progress = int(m.progress) if float(m.progress).is_integer() else m.progress
    return [m.task_no, m.seq, m.content, m.due.isoformat(), progress, m.unit, m.person]


def about_rows(config: Config, source: Path | None, data: bytes, now: dt.datetime) -> Table:
    """The 说明 sheet: where the ledger came from (the notice file and its SHA-256; None for the
    blank template), when it was built, and how to edit each sheet."""
    digest = hashlib.sha256(data).hexdigest() if source else ""
    if source is None:
        shown = TEMPLATE_SOURCE
    elif source.is_relative_to(config.root):
        shown = source.relative_to(config.root).as_posix()
    else:
        shown = str(source)
    return [
        ["标题", f"{config.bureau.city}{config.bureau.year}年政府工作报告确定事项 总台账"],
        ["来源文件", shown],
        ["来源SHA-256", digest],
        [BUILT_AT_LABEL, now.strftime("%Y-%m-%d %H:%M:%S")],
        [
            SHEET_TASKS,
            "每行一项任务（任务编号 1 起连续）。牵头单位、配合单位、县区单位填单位名录中的名称，多个用“、”分隔；"
            "县区单位可填分组名（如 各县区），下发时展开为分组成员。具体责任人、时间节点、备注可直接修改；"
            "时间节点须能识别为日期（如 2024年9月30日、9月30日前、6月底、三季度末、年底前、持续推进），"
            "节点计划的最后一个节点不得晚于它。",
        ],
        [
            SHEET_UNITS,
            "每行一个单位或分组。别名用“、”分隔；类型为 市直部门/县区/开发区/驻汴单位/分组 之一；"
            "所属分组填分组名（如 各县区），改这里即可调整分组成员（例如把 城乡一体化示范区 加入 各县区）。"
            "邮箱用于发送填报表，多个邮箱用“；”分隔。",
        ],
        [
            SHEET_INDICATORS,
            "从任务内容中识别出的量化指标，每行一个。方向：≥ 不低于（以上/不低于/突破/达到/新增/增长），"
            "≈ 左右，≤ 以内/不超过，= 其余。指标类型决定如何亮灯：增速/比率 以截至本季度的数值直接与目标值比较"
            "（增长率、占比等，不按序时进度折算）；累计量 以累计完成值与“目标值×序时进度”比较；上限 不超过目标值即正常；"
            "约数 与目标值相差在允许范围内（ducha.toml 的 [indicators] approx_tolerance）即正常。指标类型留空时"
            "按计量单位和指标名称推断。任务编号须是任务台账中已有的编号；识别有误可直接改正或删除整行。",
        ],
        [
            SHEET_PLAN,
            "各任务的节点计划（工作台账），每行一个节点：计划完成日期须在本年度内，计划累计进度(%)填 0–100 的数字，"
            "同一任务按日期逐个节点上升，最后一个节点为 100 且不晚于任务台账的时间节点；责任单位须是承担该任务的单位"
            "（留空为牵头单位）。有节点计划的任务按计划亮灯（序时进度取计划在季度截止日的累计进度，节点之间按日期线性折算，"
            "年初为 0），没有的按每季度 25% 亮灯。",
        ],
        [
            SHEET_BONUS,
            "考评加分（如领导书面表扬），每行一条：季度写 2024Q1 或 2024年第一季度；单位填单位名录中的名称；分值为大于 0 的数字；"
            "事由写明理由，依据写批示或文件的文号。汇总时计入该单位该季度的得分（见汇总表“考评明细”）。"
            "重新生成总台账时保留本表。",
        ],
        [
            "修改后",
            "保存后运行 ducha ledger check 检查；有错误时其他命令会拒绝运行。"
            "ducha ledger build 不会覆盖已修改的总台账，除非加 --force（原文件先备份为 *.backup-时间.xlsx）。",
        ],
    ]


def ledger_tables(ledger: Ledger, about: Table) -> dict[str, Table]:
    """Every sheet as rows of values, header first, in the order the workbook shows them."""

    def with_header(sheet: str, rows: Table) -> Table:
        return [[c.header for c in COLUMNS[sheet]], *rows]

    return {
        SHEET_TASKS: with_header(SHEET_TASKS, [_task_row(t) for t in ledger.tasks]),
        SHEET_UNITS: with_header(SHEET_UNITS, [_unit_row(u) for u in ledger.units]),
        SHEET_INDICATORS: with_header(SHEET_INDICATORS, [_indicator_row(i) for i in ledger.indicators]),
        SHEET_PLAN: with_header(SHEET_PLAN, [milestone_row(m) for m in ledger.milestones]),
        SHEET_BONUS: with_header(SHEET_BONUS, [[b.period, b.unit, b.points, b.reason, b.basis] for b in ledger.bonuses]),
        SHEET_ABOUT: with_header(SHEET_ABOUT, about),
    }


def write_tables(path: Path, tables: dict[str, Table], now: dt.datetime) -> None:
    """Every text cell via write_string: a task text starting with = or + stays text. The writer is
    imported here: every command reads the ledger, few write it, and the readers' server never."""
    from toolkit.fastxlsx import Book

    book = Book(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    book.set_properties({"title": "总台账", "created": now})
    header = book.add_format(
        {
            "bold": True,
            "bg_color": "#DDEBF7",
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
        }
    )
    body = book.add_format({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#BFBFBF"})
    day = book.add_format({"num_format": DATE_FORMAT, "valign": "top", "border": 1, "border_color": "#BFBFBF"})
    for sheet, rows in tables.items():
        columns = COLUMNS[sheet]
        ws = book.add_worksheet(sheet)
        for c, col in enumerate(columns):
            ws.set_column(c, c, col.width)
            if options := VALIDATED.get((sheet, col.key)):
                ws.data_validation(1, c, 1000, c, {"validate": "list", "source": list(options)})
            if ranged := RANGED.get((sheet, col.key)):
                ws.data_validation(1, c, 1000, c, ranged)
        for c, text in enumerate(rows[0]):
            ws.write_string(0, c, str(text), header)
        for r, row in enumerate(rows[1:], start=1):
            for c, value in enumerate(row):
                if value == "":
                    ws.write_blank(r, c, None, body)
                elif c < len(columns) and (sheet, columns[c].key) in RANGED and isinstance(value, str) \
                        and _iso_date(value):
                    ws.write_datetime(r, c, _iso_date(value), day)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, body)
                else:
                    ws.write_number(r, c, value, body)
        ws.freeze_panes(1, 1 if sheet == SHEET_TASKS else 0)
        if sheet != SHEET_ABOUT:
            ws.autofilter(0, 0, max(len(rows) - 1, 1), len(columns) - 1)
    book.close()


def _iso_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _value(raw: Any) -> Value:
    """A cell as the ledger means it: text stripped, whole numbers as int, dates as ISO text (a
    date typed in Excel, at midnight, as 2024-06-30: what ducha writes reads back unchanged)."""
    if type(raw) is str:  # most cells: the checks below are for the rest
        return raw.strip()
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else raw
    if isinstance(raw, int):
        return raw
    if isinstance(raw, dt.datetime) and raw.time() == dt.time():
        return raw.date().isoformat()
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        return raw.isoformat()
    return str(raw).strip() if raw is not None else ""


def read_tables(path: Path, data: bytes | None = None) -> dict[str, Table]:
    """All sheets as rows of values (calamine: fast, and indifferent to the file's extension);
    data: the file's bytes, already read (what the ledger cache is keyed on)."""
    try:
        book = CalamineWorkbook.from_path(str(path)) if data is None else CalamineWorkbook.from_filelike(io.BytesIO(data))
        tables = {}
        # Equal texts become one object (a section or a leader's name on thousands of rows): at
        # 10,000 units the loaded ledger holds 36 MB of objects instead of 63 MB (29 MB with slots).
        same: dict[Value, Value] = {}
        one = same.setdefault
        for name in book.sheet_names:
            rows = [
                [one(value, value) if type(value) is str else value for value in map(_value, row)]
                for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            ]
            tables[name] = _trim(rows)
        return tables
    except Exception as exc:  # calamine raises its own error types for any unreadable input
        raise LedgerError(f"无法读取总台账 {path}：{exc}。请确认它是 Excel 工作簿（.xlsx）且未损坏") from exc


def _trim(rows: Table) -> Table:
    """Drop trailing empty cells and rows so a formatted-but-empty area is not data."""
    trimmed = []
    for row in rows:
        row = list(row)
        while row and row[-1] == "":
            row.pop()
        trimmed.append(row)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed

