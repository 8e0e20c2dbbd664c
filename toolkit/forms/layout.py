"""The layout of a unit's report workbook, shared by the writer (toolkit.forms.writer) and the
readers (toolkit.intake.reader, toolkit.intake.rows) so neither can drift from the other.

Rows and columns are 1-based, as Excel shows them; a position is a problems.Cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.problems import Cell

# Signed into _meta (template_version), so a workbook is read by the layout it was issued with.
# 1: 量化指标's header in row 1; 2: a title and the unit's name above it, header in row 3.
TEMPLATE_VERSION = "2"

SHEET_GUIDE = "填报说明"
SHEET_PROGRESS = "进展填报"
SHEET_INDICATORS = "量化指标"
SHEET_META = "_meta"
SHEET_LISTS = "_lists"  # hidden: the status dropdown source
REQUIRED_SHEETS = (SHEET_GUIDE, SHEET_PROGRESS)

STATUS_DONE = "已完成"
STATUS_ON_TRACK = "正常推进"
STATUS_LAGGING = "进度滞后"
STATUS_NOT_STARTED = "未启动"
STATUSES = (STATUS_DONE, STATUS_ON_TRACK, STATUS_LAGGING, STATUS_NOT_STARTED)
STATUS_LIST_NAME = "完成状态选项"  # defined name over _lists!$A$1:$A$4


@dataclass(frozen=True)
class Column:
    key: str  # identifier used in code
    header: str  # the exact header text in the workbook
    locked: bool
    width: float


PROGRESS_COLUMNS = (
    Column("no", "任务编号", True, 9),
    Column("content", "任务内容", True, 50),
    Column("leaders", "责任领导", True, 14),
    Column("role", "本单位职责", True, 11),
    Column("status", "完成状态", False, 12),
    Column("progress", "完成进度(%)", False, 11),
    Column("done", "本季度进展情况", False, 40),
    Column("problems", "存在问题", False, 26),
    Column("next", "下步计划", False, 26),
    Column("person", "具体责任人", False, 12),
    Column("phone", "联系电话", False, 15),
)

# Right of the answers: what the unit asks the bureau for this task (延期申请, 办结销号). Optional
# when read, so a workbook issued before these columns existed is still read as it was.
REQUEST_NONE = "无"
REQUEST_EXTEND = "申请延期"
REQUEST_CLOSE = "申请办结"
REQUESTS = (REQUEST_NONE, REQUEST_EXTEND, REQUEST_CLOSE)
REQUEST_COLUMNS = (
    Column("request", "申请事项", False, 11),
    Column("request_date", "申请完成时间", False, 13),
    Column("reason", "理由", False, 26),
    Column("evidence", "佐证材料", False, 22),
)

INDICATOR_COLUMNS = (
    Column("no", "任务编号", True, 9),
    Column("name", "指标名称", True, 30),
    Column("target", "目标值", True, 10),
    Column("unit", "计量单位", True, 10),
    Column("direction", "方向", True, 7),
    Column("value", "截至本季度完成值", False, 16),
    Column("note", "说明", False, 40),
)

# 节点计划: the milestones of each task the unit leads (forms/plan_sheet.py); header row 1.
SHEET_PLAN = "节点计划"
PLAN_COLUMNS = (
    Column("no", "任务编号", True, 9),
    Column("seq", "节点序号", False, 9),
    Column("content", "节点内容", False, 40),
    Column("due", "计划完成日期", False, 14),
    Column("progress", "计划累计进度(%)", False, 12),
    Column("person", "具体责任人", False, 12),
    Column("state", "完成情况", False, 11),
    Column("actual", "实际完成日期", False, 14),
)
PLAN_HEADER_ROW = 1
PLAN_FIRST_ROW = 2
MILESTONE_DONE = "已完成"
MILESTONE_NOT_DONE = "未完成"
MILESTONE_STATES = (MILESTONE_DONE, MILESTONE_NOT_DONE)

# 进展填报: title, unit line, period line, filler block, then the table.
TITLE_ROW = 1
UNIT_ROW = 2  # A2: 填报单位：<单位名称>
PERIOD_ROW = 3  # A3: 报告期 / 截止时间
FILLER_ROW = 4  # label/value pairs, see FILLER_FIELDS
HEADER_ROW = 5
FIRST_DATA_ROW = 6
UNIT_PREFIX = "填报单位："

# (label, label column, value column) on FILLER_ROW
FILLER_FIELDS = (
    ("填报人", 1, 2),
    ("联系电话", 3, 4),
    ("单位负责人", 5, 6),
    ("填报日期", 7, 8),
)

# 量化指标: title, unit line, then the table.
INDICATOR_TITLE_ROW = 1
INDICATOR_UNIT_ROW = 2  # A2: 填报单位：<单位名称>
INDICATOR_HEADER_ROW = 3
INDICATOR_FIRST_ROW = 4
INDICATOR_TITLE_SUFFIX = "（量化指标）"
_INDICATOR_HEADER_ROWS = {"1": 1}  # template_version → the header row workbooks issued so had


def indicator_header_row(template_version: str | None) -> int:
    """Where 量化指标's header was in a workbook issued with this template_version (from its
    _meta; None for a workbook without one, read as today's layout)."""
    return _INDICATOR_HEADER_ROWS.get(template_version or "", INDICATOR_HEADER_ROW)


# _meta: key in column A, value in column B, from row 1.
META_KEYS = ("unit", "period", "deadline", "template_version", "generated_at", "tasks", "indicators")
META_SIGNATURE_KEY = "signature"


def cell(row: int, col: int) -> Cell:
    """The cell at a 1-based (row, column), as layout tables count them."""
    return Cell(row, col)


def column_index(columns: tuple[Column, ...], key: str) -> int:
    """1-based column of a key in a table."""
    for i, column in enumerate(columns, start=1):
        if column.key == key:
            return i
    raise KeyError(key)
