"""master_ledger.xlsx: built from the notice, edited by the clerk in Excel, read by every command.

The ledger is the one place the bureau decides who owns what: the notice seeds it, the clerk
completes it (e-mails, responsible persons, which zones count as 各县区), and every later step
reads it through load_ledger(), which refuses a ledger that fails check_ledger(). Building never
silently overwrites the clerk's edits: an edited ledger is replaced only with --force, after a
timestamped backup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from toolkit.config import Config
from toolkit.errors import LedgerError
from toolkit.forms.layout import cell
from toolkit.fsutil import workspace_lock, write_atomic
from toolkit.ledger import indicators, units
from toolkit.ledger.notice import parse_notice
from toolkit.ledger.units import parse_addresses
from toolkit.model import GROUP_KIND, UNIT_KINDS, Indicator, Ledger, Task, Unit
from toolkit.problems import Issue, Report

SHEET_TASKS = "任务台账"
SHEET_UNITS = "单位名录"
SHEET_INDICATORS = "量化指标"
SHEET_ABOUT = "说明"
SHEETS = (SHEET_TASKS, SHEET_UNITS, SHEET_INDICATORS, SHEET_ABOUT)
JOIN = "、"
BUILT_AT_LABEL = "生成时间"  # the one cell that changes on every build; ignored when comparing


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    width: float


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
    Col("source", "原文", 60),
)
ABOUT_COLUMNS = (Col("item", "项目", 16), Col("text", "内容", 100))
COLUMNS = {
    SHEET_TASKS: TASK_COLUMNS,
    SHEET_UNITS: UNIT_COLUMNS,
    SHEET_INDICATORS: INDICATOR_COLUMNS,
    SHEET_ABOUT: ABOUT_COLUMNS,
}
NUMERIC = {(SHEET_TASKS, "no"), (SHEET_INDICATORS, "no"), (SHEET_INDICATORS, "target")}
VALIDATED = {(SHEET_UNITS, "kind"): UNIT_KINDS, (SHEET_INDICATORS, "direction"): indicators.DIRECTIONS}

_LIST_SPLIT = re.compile(r"[、，,；;\s]+")  # also separates several e-mail addresses

Value = str | int | float
Table = list[list[Value]]


# --- the notice → a Ledger ---------------------------------------------------------------------


def ledger_from_notice(text: str, deadline: str) -> tuple[Ledger, list[Issue]]:
    """The ledger the notice implies, and the parser's warnings for the clerk."""
    parsed = parse_notice(text)
    tasks = []
    for item in parsed.items:
        lead, co, county = units.split_units(item.units_text)
        tasks.append(
            Task(
                no=item.no,
                category=item.category,
                section=item.section,
                content=item.content,
                leaders=item.leaders,
                units_text=item.units_text,
                lead=lead,
                co=co,
                county=county,
                deadline=deadline,
            )
        )
    names = [name for t in tasks for name in (t.lead, *t.co, *t.county) if name]
    found = indicators.extract_all((t.no, t.content) for t in tasks)
    return Ledger(tasks, units.catalogue(names), found), parsed.issues


# --- Ledger ⇄ tables ---------------------------------------------------------------------------


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
    return [ind.task_no, ind.name, target, ind.unit, ind.direction, ind.source]


def _about_rows(config: Config, notice_text: str, now: dt.datetime) -> Table:
    try:
        source = config.paths.notice.relative_to(config.root).as_posix()
    except ValueError:
        source = str(config.paths.notice)
    digest = hashlib.sha256(notice_text.encode("utf-8")).hexdigest()
    return [
        ["标题", f"{config.bureau.city}{config.bureau.year}年政府工作报告确定事项 总台账"],
        ["来源文件", source],
        ["来源SHA-256", digest],
        [BUILT_AT_LABEL, now.strftime("%Y-%m-%d %H:%M:%S")],
        [
            SHEET_TASKS,
            "每行一项任务（任务编号 1 起连续）。牵头单位、配合单位、县区单位填单位名录中的名称，多个用“、”分隔；"
            "县区单位可填分组名（如 各县区），下发时展开为分组成员。具体责任人、时间节点、备注可直接修改。",
        ],
        [
            SHEET_UNITS,
            "每行一个单位或分组。别名用“、”分隔；类型为 市直部门/县区/开发区/驻汴单位/分组 之一；"
            "所属分组填分组名（如 各县区），改这里即可调整分组成员（例如把 城乡一体化示范区 加入 各县区）。"
            "邮箱用于发送填报表，多个邮箱用“；”分隔。",
        ],
        [
            SHEET_INDICATORS,
            "从任务内容中识别出的量化指标，每行一个。方向：≥ 不低于（以上/不低于/突破/达到/新增），"
            "≈ 左右，≤ 以内/不超过，= 其余。任务编号须是任务台账中已有的编号；识别有误可直接改正或删除整行。",
        ],
        [
            "修改后",
            "保存后运行 ducha ledger check 检查；有错误时其他命令会拒绝运行。"
            "ducha ledger build 不会覆盖已修改的总台账，除非加 --force（原文件先备份为 *.backup-时间.xlsx）。",
        ],
    ]


def _tables(ledger: Ledger, about: Table) -> dict[str, Table]:
    def with_header(sheet: str, rows: Table) -> Table:
        return [[c.header for c in COLUMNS[sheet]], *rows]

    return {
        SHEET_TASKS: with_header(SHEET_TASKS, [_task_row(t) for t in ledger.tasks]),
        SHEET_UNITS: with_header(SHEET_UNITS, [_unit_row(u) for u in ledger.units]),
        SHEET_INDICATORS: with_header(SHEET_INDICATORS, [_indicator_row(i) for i in ledger.indicators]),
        SHEET_ABOUT: with_header(SHEET_ABOUT, about),
    }


def _write(path: Path, tables: dict[str, Table], now: dt.datetime) -> None:
    """Every text cell via write_string: a task text starting with = or + stays text."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
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
    for sheet, rows in tables.items():
        columns = COLUMNS[sheet]
        ws = book.add_worksheet(sheet)
        for c, col in enumerate(columns):
            ws.set_column(c, c, col.width)
            if options := VALIDATED.get((sheet, col.key)):
                ws.data_validation(1, c, 1000, c, {"validate": "list", "source": list(options)})
        for c, text in enumerate(rows[0]):
            ws.write_string(0, c, str(text), header)
        for r, row in enumerate(rows[1:], start=1):
            for c, value in enumerate(row):
                if value == "":
                    ws.write_blank(r, c, None, body)
                elif isinstance(value, str):
                    ws.write_string(r, c, value, body)
                else:
                    ws.write_number(r, c, value, body)
        ws.freeze_panes(1, 1 if sheet == SHEET_TASKS else 0)
        if sheet != SHEET_ABOUT:
            ws.autofilter(0, 0, max(len(rows) - 1, 1), len(columns) - 1)
    book.close()


def _value(raw: Any) -> Value:
    """A cell as the ledger means it: text stripped, whole numbers as int, dates as ISO text."""
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else raw
    if isinstance(raw, int):
        return raw
    if isinstance(raw, dt.datetime | dt.date | dt.time):
        return raw.isoformat()
    return str(raw).strip() if raw is not None else ""


def _read_tables(path: Path) -> dict[str, Table]:
    """All sheets as rows of values (calamine: fast, and indifferent to the file's extension)."""
    try:
        book = CalamineWorkbook.from_path(str(path))
        tables = {}
        for name in book.sheet_names:
            rows = [
                [_value(v) for v in row]
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


def _differences(old: dict[str, Table], new: dict[str, Table], limit: int = 5) -> list[str]:
    """Cells (任务台账!K5) whose content differs, ignoring the build time."""
    found = [f"工作表“{name}”" for name in old if name not in new]
    found += [f"工作表“{name}”" for name in new if name not in old]
    for sheet in (s for s in new if s in old):
        a, b = old[sheet], new[sheet]
        for r in range(max(len(a), len(b))):
            row_a = a[r] if r < len(a) else []
            row_b = b[r] if r < len(b) else []
            if sheet == SHEET_ABOUT and BUILT_AT_LABEL in row_a[:1] + row_b[:1]:
                continue
            for c in range(max(len(row_a), len(row_b))):
                va = row_a[c] if c < len(row_a) else ""
                vb = row_b[c] if c < len(row_b) else ""
                if va != vb:
                    found.append(f"{sheet}!{cell(r + 1, c + 1)}")
                    if len(found) >= limit:
                        return found
    return found


# --- reading and checking ----------------------------------------------------------------------


@dataclass
class _Sheet:
    """One sheet's rows with columns found by header text, so the clerk may reorder or add columns."""

    name: str
    rows: Table
    positions: dict[str, int]  # key → 0-based column

    def get(self, row: list[Value], key: str) -> Value:
        c = self.positions[key]
        return row[c] if c < len(row) else ""

    def text(self, row: list[Value], key: str) -> str:
        return str(self.get(row, key)).strip()

    def where(self, r: int, key: str) -> str:
        """Cell name of data row index r (0-based, after the header)."""
        return cell(r + 2, self.positions[key] + 1)

    def data(self) -> list[tuple[int, list[Value]]]:
        return [(r, row) for r, row in enumerate(self.rows[1:]) if any(v != "" for v in row)]


def _sheet(tables: dict[str, Table], name: str, report: Report) -> _Sheet | None:
    if name not in tables:
        report.error("ledger-sheet-missing", f"总台账缺少工作表“{name}”，请从备份恢复或重新生成", name)
        return None
    rows = tables[name]
    headers = [str(h).strip() for h in (rows[0] if rows else [])]
    positions, missing = {}, []
    for col in COLUMNS[name]:
        if col.header in headers:
            positions[col.key] = headers.index(col.header)
        else:
            missing.append(col.header)
    if missing:
        report.error(
            "ledger-column-missing",
            f"{name}!第1行 缺少列：{JOIN.join(missing)}。请把表头改回原样",
            name,
            "A1",
        )
        return None
    return _Sheet(name, rows, positions)


def _split(text: str) -> tuple[str, ...]:
    return tuple(part for part in _LIST_SPLIT.split(text) if part)


def _whole_number(value: Value) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _number(value: Value) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except ValueError:
        return None


def _read_units(sheet: _Sheet, report: Report) -> list[Unit]:
    found: list[Unit] = []
    first_row: dict[str, str] = {}
    for r, row in sheet.data():
        name = sheet.text(row, "name")
        at = f"{sheet.name}!{sheet.where(r, 'name')}"
        if not name:
            report.error(
                "unit-name-empty", f"{at} 单位名称为空，请填写或删除整行", sheet.name, sheet.where(r, "name")
            )
            continue
        kind = sheet.text(row, "kind")
        if kind not in UNIT_KINDS:
            report.error(
                "unit-kind-invalid",
                f"{sheet.name}!{sheet.where(r, 'kind')} 类型“{kind}”不对，应为 {'/'.join(UNIT_KINDS)} 之一",
                sheet.name,
                sheet.where(r, "kind"),
            )
        aliases = _split(sheet.text(row, "aliases"))
        for spelling in (name, *aliases):
            if spelling in first_row:
                report.error(
                    "unit-duplicate",
                    f"{at} “{spelling}”已在单位名录 {first_row[spelling]} 出现，一个名称只能对应一个单位",
                    sheet.name,
                    sheet.where(r, "name"),
                )
            first_row.setdefault(spelling, sheet.where(r, "name"))
        email = sheet.text(row, "email")
        bad = parse_addresses(email)[1]
        if bad:
            report.error(
                "unit-email-invalid",
                f"{sheet.name}!{sheet.where(r, 'email')} 邮箱“{JOIN.join(bad)}”格式不对，应类似 name@example.com"
                "（多个邮箱用“；”分隔）",
                sheet.name,
                sheet.where(r, "email"),
            )
        found.append(
            Unit(
                name=name,
                kind=kind,
                aliases=aliases,
                groups=_split(sheet.text(row, "groups")),
                contact=sheet.text(row, "contact"),
                email=email,
                phone=sheet.text(row, "phone"),
            )
        )
    return found


def _check_groups(sheet: _Sheet, found: list[Unit], report: Report) -> None:
    groups = {u.name for u in found if u.is_group}
    rows = {sheet.text(row, "name"): r for r, row in sheet.data()}
    for unit in found:
        for group in unit.groups:
            if group not in groups:
                report.error(
                    "unit-group-unknown",
                    f"{sheet.name}!{sheet.where(rows[unit.name], 'groups')} 所属分组“{group}”不是单位名录中的分组，"
                    f"请先添加类型为“{GROUP_KIND}”的一行，或改正分组名",
                    sheet.name,
                    sheet.where(rows[unit.name], "groups"),
                )
    for unit in found:
        if unit.is_group and not any(unit.name in u.groups for u in found if not u.is_group):
            report.warning(
                "group-empty",
                f"{sheet.name}!{sheet.where(rows[unit.name], 'name')} 分组“{unit.name}”没有成员：分给它的任务不会下发给任何单位。"
                f"请在成员单位的“所属分组”中填写“{unit.name}”",
                sheet.name,
                sheet.where(rows[unit.name], "name"),
            )
    missing = [u.name for u in found if not u.is_group and not u.email]
    if missing:
        shown = JOIN.join(missing[:5]) + ("等" if len(missing) > 5 else "")
        report.warning(
            "unit-email-missing",
            f"{sheet.name} 中有 {len(missing)} 个单位未填邮箱（{shown}），发送填报表前请在“邮箱”列补齐",
            sheet.name,
        )


def _read_tasks(sheet: _Sheet, known: Callable[[str], Unit | None], report: Report) -> list[Task]:
    found: list[Task] = []
    first_row: dict[int, str] = {}
    for r, row in sheet.data():
        no = _whole_number(sheet.get(row, "no"))
        at_no = sheet.where(r, "no")
        if no is None or no < 1:
            report.error(
                "task-number-invalid",
                f"{sheet.name}!{at_no} 任务编号“{sheet.get(row, 'no')}”不是正整数，请改正",
                sheet.name,
                at_no,
            )
            continue
        if no in first_row:
            report.error(
                "task-number-duplicate",
                f"{sheet.name}!{at_no} 任务编号 {no} 重复（{sheet.name}!{first_row[no]} 已有），请改正编号或删除重复行",
                sheet.name,
                at_no,
            )
            continue
        first_row[no] = at_no
        for key, code, label in (
            ("content", "task-content-empty", "任务内容"),
            ("leaders", "task-leader-empty", "责任领导"),
            ("lead", "task-lead-empty", "牵头单位"),
        ):
            if not sheet.text(row, key):
                report.error(
                    code,
                    f"{sheet.name}!{sheet.where(r, key)} 第{no}项的{label}为空，请填写",
                    sheet.name,
                    sheet.where(r, key),
                )
        names = {key: _split(sheet.text(row, key)) for key in ("lead", "co", "county")}
        if len(names["lead"]) > 1:
            report.error(
                "task-lead-multiple",
                f"{sheet.name}!{sheet.where(r, 'lead')} 第{no}项的牵头单位只能有一个，其余请移到“配合单位”",
                sheet.name,
                sheet.where(r, "lead"),
            )
        for key, listed in names.items():
            for name in listed:
                if known(name) is None:
                    report.error(
                        "unit-unknown",
                        f"{sheet.name}!{sheet.where(r, key)} 第{no}项的“{name}”不在单位名录中，请改为名录中的名称，"
                        "或在单位名录中添加该单位（或把它加为某单位的别名）",
                        sheet.name,
                        sheet.where(r, key),
                    )

        def canonical(name: str) -> str:
            return getattr(known(name), "name", name)

        found.append(
            Task(
                no=no,
                category=sheet.text(row, "category"),
                section=sheet.text(row, "section"),
                content=sheet.text(row, "content"),
                leaders=_split(sheet.text(row, "leaders")),
                units_text=sheet.text(row, "units_text"),
                lead=canonical(names["lead"][0]) if names["lead"] else "",
                co=tuple(canonical(n) for n in names["co"]),
                county=tuple(canonical(n) for n in names["county"]),
                deadline=sheet.text(row, "deadline"),
                person=sheet.text(row, "person"),
                note=sheet.text(row, "note"),
            )
        )
    present = set(first_row)
    missing = sorted(set(range(1, max(present, default=0) + 1)) - present)
    if missing:
        report.error(
            "task-number-missing",
            f"{sheet.name} 缺少任务编号 {JOIN.join(map(str, missing))}：编号应从 1 起连续，请补回或重新编号",
            sheet.name,
        )
    return found


def _read_indicators(sheet: _Sheet, task_numbers: set[int], report: Report) -> list[Indicator]:
    found: list[Indicator] = []
    for r, row in sheet.data():
        no = _whole_number(sheet.get(row, "no"))
        target = _number(sheet.get(row, "target"))
        direction = sheet.text(row, "direction")
        name = sheet.text(row, "name")
        problems = []
        if no is None or no not in task_numbers:
            problems.append(
                (
                    "no",
                    "indicator-task-unknown",
                    f"任务编号“{sheet.get(row, 'no')}”在任务台账中不存在，请改正或删除该行",
                )
            )
        if not name:
            problems.append(("name", "indicator-name-empty", "指标名称为空，请填写"))
        if target is None:
            problems.append(
                (
                    "target",
                    "indicator-target-invalid",
                    f"目标值“{sheet.get(row, 'target')}”不是数字，请只填数字",
                )
            )
        if direction not in indicators.DIRECTIONS:
            problems.append(
                (
                    "direction",
                    "indicator-direction-invalid",
                    f"方向“{direction}”不对，应为 {' '.join(indicators.DIRECTIONS)} 之一",
                )
            )
        for key, code, text in problems:
            report.error(code, f"{sheet.name}!{sheet.where(r, key)} {text}", sheet.name, sheet.where(r, key))
        if not problems:
            found.append(
                Indicator(no, name, target, sheet.text(row, "unit"), direction, sheet.text(row, "source"))
            )
    return found


def _parse(tables: dict[str, Table]) -> tuple[Ledger, Report]:
    report = Report()
    unit_sheet = _sheet(tables, SHEET_UNITS, report)
    task_sheet = _sheet(tables, SHEET_TASKS, report)
    indicator_sheet = _sheet(tables, SHEET_INDICATORS, report)
    found_units = _read_units(unit_sheet, report) if unit_sheet else []
    if unit_sheet:
        _check_groups(unit_sheet, found_units, report)
    ledger = Ledger([], found_units, [])
    if task_sheet:
        # Without a 单位名录 every name would be unknown: one missing-sheet error says it all.
        known = ledger.unit if unit_sheet else (lambda name: Unit(name, ""))
        ledger.tasks = _read_tasks(task_sheet, known, report)
    if indicator_sheet:
        ledger.indicators = _read_indicators(indicator_sheet, {t.no for t in ledger.tasks}, report)
    return ledger, report


def read_ledger(path: Path) -> Ledger:
    """The ledger as written, without refusing on errors (raises LedgerError only when unreadable)."""
    return _parse(_read_tables(Path(path)))[0]


def check_ledger(path: Path) -> Report:
    """Every problem in the ledger, with sheet and cell; a missing or unreadable file is one error."""
    path = Path(path)
    if not path.exists():
        report = Report()
        report.error("ledger-missing", f"找不到总台账 {path}，请先运行 ducha ledger build")
        return report
    try:
        tables = _read_tables(path)
    except LedgerError as exc:
        report = Report()
        report.error("ledger-unreadable", str(exc))
        return report
    return _parse(tables)[1]


def load_ledger(config: Config) -> Ledger:
    """The ledger every command works from; raises LedgerError listing the errors (with cells)
    when the check finds any, so no command runs on a broken ledger."""
    path = config.paths.ledger
    if not path.exists():
        raise LedgerError(f"找不到总台账 {path}，请先运行 ducha ledger build")
    ledger, report = _parse(_read_tables(path))
    if report.errors:
        shown = report.errors[:20]
        lines = [f"  {i.message}" for i in shown]
        if len(report.errors) > len(shown):
            lines.append(f"  ……另有 {len(report.errors) - len(shown)} 处")
        raise LedgerError(
            f"总台账 {path.name} 有 {len(report.errors)} 处错误，请在 Excel 中改正后再运行"
            "（ducha ledger check 可列出全部问题）：\n" + "\n".join(lines)
        )
    return ledger


# --- building ----------------------------------------------------------------------------------


@dataclass
class BuildResult:
    path: Path
    status: str  # created / rebuilt / unchanged
    backup: Path | None
    issues: list[Issue] = field(default_factory=list)  # parser warnings, then the check's findings
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "status": self.status,
            "backup": str(self.backup) if self.backup else None,
            "issues": [i.as_dict() for i in self.issues],
            "summary": self.summary,
        }


def _backup_path(target: Path, now: dt.datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.stem}.backup-{stamp}{target.suffix}")
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.stem}.backup-{stamp}-{n}{target.suffix}")
        n += 1
    return candidate


def build_ledger(config: Config, force: bool = False, now: dt.datetime | None = None) -> BuildResult:
    """Write master_ledger.xlsx from the notice. A ledger that already holds exactly these cells is
    left untouched; one that differs (the clerk's edits) is replaced only with force, after a backup."""
    now = now or dt.datetime.now()
    notice = config.paths.notice
    try:
        text = notice.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LedgerError(f"找不到任务分解通知 {notice}，请检查 ducha.toml 中 [paths] notice 的设置") from exc
    except UnicodeDecodeError as exc:
        raise LedgerError(f"任务分解通知 {notice} 不是 UTF-8 文本，请另存为 UTF-8 编码") from exc
    ledger, warnings = ledger_from_notice(text, f"{config.bureau.year}年12月31日")
    tables = _tables(ledger, _about_rows(config, text, now))
    target = config.paths.ledger
    backup = None
    with workspace_lock(config.paths.lock):
        status = "created"
        if target.exists():
            try:
                changed = _differences(_read_tables(target), tables)
            except LedgerError:
                changed = ["（现有文件无法读取）"]
            status = "rebuilt" if changed else "unchanged"
            if changed and not force:
                raise LedgerError(
                    f"总台账 {target.name} 已被修改，与按通知生成的内容不同（如 {JOIN.join(changed)}），"
                    "为保护手工修改，未覆盖。如确需按通知重新生成，请加 --force（原文件会先备份）"
                )
            if changed:
                backup = _backup_path(target, now)
                shutil.copy2(target, backup)
        if status != "unchanged":
            write_atomic(target, lambda tmp: _write(tmp, tables, now))
    report = check_ledger(target)
    return BuildResult(target, status, backup, [*warnings, *report.issues], summary(ledger))


def summary(ledger: Ledger) -> dict[str, Any]:
    """What the ledger holds, for the build output and the demo."""
    sections = Counter(t.section for t in ledger.tasks)
    kinds = Counter(u.kind for u in ledger.units)
    return {
        "tasks": len(ledger.tasks),
        "sections": dict(sections),
        "units": {kind: kinds.get(kind, 0) for kind in UNIT_KINDS},
        "groups": {u.name: len(ledger.members(u.name)) for u in ledger.units if u.is_group},
        "indicators": len(ledger.indicators),
        "tasks_with_indicators": len({i.task_no for i in ledger.indicators}),
    }
