"""Every mistake the clerk can make in master_ledger.xlsx, found at its cell.

The clerk edits the ledger by hand and every command trusts it, so one pass reads the sheets into
a Ledger and reports each problem with its sheet and cell and what to do, instead of failing on
the first. Columns are found by header text, so the clerk may reorder or add columns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import LedgerError
from toolkit.ledger import bonus_check, indicators, plan_check
from toolkit.ledger.sheets import (
    COLUMNS,
    JOIN,
    SHEET_BONUS,
    SHEET_INDICATORS,
    SHEET_PLAN,
    SHEET_TASKS,
    SHEET_UNITS,
    Table,
    Value,
    read_tables,
)
from toolkit.ledger.units import parse_addresses
from toolkit.model import (
    GROUP_KIND,
    INDICATOR_KINDS,
    KIND_APPROX,
    KIND_CAP,
    UNIT_KINDS,
    Indicator,
    Ledger,
    Task,
    Unit,
)
from toolkit.problems import Cell, Report

_LIST_SPLIT = re.compile(r"[、，,；;\s]+")  # also separates several e-mail addresses


@dataclass
class _Sheet:
    """One sheet's rows with columns found by header text, so the clerk may reorder or add columns."""

    name: str
    rows: Table
    positions: dict[str, int]  # key → 0-based column

    def get(self, row: list[Value], key: str) -> Value:
        """The cell's value; "" when the row is short or the (optional) column is absent."""
        c = self.positions.get(key, len(row))
        return row[c] if c < len(row) else ""

    def text(self, row: list[Value], key: str) -> str:
        return str(self.get(row, key)).strip()

    def where(self, r: int, key: str) -> Cell:
        """The cell of data row index r (0-based, after the header)."""
        return Cell(r + 2, self.positions[key] + 1)

    def data(self) -> list[tuple[int, list[Value]]]:
        return [(r, row) for r, row in enumerate(self.rows[1:]) if any(v != "" for v in row)]


def _sheet(tables: dict[str, Table], name: str, report: Report) -> _Sheet | None:
    if name not in tables:
        report.error("ledger_sheet_missing", f"总台账缺少工作表“{name}”，请从备份恢复或重新生成", name)
        return None
    rows = tables[name]
    headers = [str(h).strip() for h in (rows[0] if rows else [])]
    positions, missing = {}, []
    for col in COLUMNS[name]:
        if col.header in headers:
            positions[col.key] = headers.index(col.header)
        elif not col.optional:
            missing.append(col.header)
    if missing:
        report.error(
            "ledger_column_missing",
            f"{name}!第1行 缺少列：{JOIN.join(missing)}。请把表头改回原样",
            name,
            Cell(1, 1),
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
    first_row: dict[str, Cell] = {}
    for r, row in sheet.data():
        name = sheet.text(row, "name")
        at = f"{sheet.name}!{sheet.where(r, 'name')}"
        if not name:
            report.error(
                "unit_name_empty", f"{at} 单位名称为空，请填写或删除整行", sheet.name, sheet.where(r, "name")
            )
            continue
        kind = sheet.text(row, "kind")
        if kind not in UNIT_KINDS:
            report.error(
                "unit_kind_invalid",
                f"{sheet.name}!{sheet.where(r, 'kind')} 类型“{kind}”不对，应为 {'/'.join(UNIT_KINDS)} 之一",
                sheet.name,
                sheet.where(r, "kind"),
            )
        aliases = _split(sheet.text(row, "aliases"))
        for spelling in (name, *aliases):
            if spelling in first_row:
                report.error(
                    "unit_duplicate",
                    f"{at} “{spelling}”已在单位名录 {first_row[spelling]} 出现，一个名称只能对应一个单位",
                    sheet.name,
                    sheet.where(r, "name"),
                )
            first_row.setdefault(spelling, sheet.where(r, "name"))
        email = sheet.text(row, "email")
        bad = parse_addresses(email)[1]
        if bad:  # a warning: it stops only the mail to this unit (mail.runs), not generate or merge
            report.warning(
                "unit_email_invalid",
                f"{sheet.name}!{sheet.where(r, 'email')} 邮箱“{JOIN.join(bad)}”格式不对，应类似 name@example.com"
                "（多个邮箱用“；”分隔）；改正前不会给该单位发邮件",
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
                email_at=f"{sheet.name}!{sheet.where(r, 'email')}",
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
                    "unit_group_unknown",
                    f"{sheet.name}!{sheet.where(rows[unit.name], 'groups')} 所属分组“{group}”不是单位名录中的分组，"
                    f"请先添加类型为“{GROUP_KIND}”的一行，或改正分组名",
                    sheet.name,
                    sheet.where(rows[unit.name], "groups"),
                )
    ledger = Ledger([], found)
    for unit, cycle in ((u, ledger.group_cycle(u.name)) for u in found if u.is_group):
        if cycle:
            at = sheet.where(rows[unit.name], "groups")
            report.error("group_cycle", f"{sheet.name}!{at} 分组“{unit.name}”通过所属分组包含了自己（{'→'.join(cycle)}），"
                         "分给它的任务无法确定下发范围。请删去其中一个所属分组", sheet.name, at)
    for unit in found:
        if unit.is_group and not ledger.members(unit.name):
            report.warning(
                "group_empty",
                f"{sheet.name}!{sheet.where(rows[unit.name], 'name')} 分组“{unit.name}”没有成员：分给它的任务不会下发给任何单位。"
                f"请在成员单位的“所属分组”中填写“{unit.name}”",
                sheet.name,
                sheet.where(rows[unit.name], "name"),
            )
    missing = [u.name for u in found if not u.is_group and not u.email]
    if missing:
        shown = JOIN.join(missing[:5]) + ("等" if len(missing) > 5 else "")
        report.warning(
            "unit_email_missing",
            f"{sheet.name} 中有 {len(missing)} 个单位未填邮箱（{shown}），发送填报表前请在“邮箱”列补齐",
            sheet.name,
        )


def _read_tasks(sheet: _Sheet, known: Callable[[str], Unit | None], report: Report) -> list[Task]:
    found: list[Task] = []
    first_row: dict[int, Cell] = {}
    # Tasks share their equal name lists (the same leaders on thousands of rows): one tuple each.
    same: dict[tuple[str, ...], tuple[str, ...]] = {}
    one = same.setdefault
    # 责任领导 is required only in a ledger that names leaders at all: some notices name none.
    required = [("content", "task_content_empty", "任务内容"), ("lead", "task_lead_empty", "牵头单位")]
    if any(sheet.text(row, "leaders") for _, row in sheet.data()):
        required.insert(1, ("leaders", "task_leader_empty", "责任领导"))
    for r, row in sheet.data():
        no = _whole_number(sheet.get(row, "no"))
        at_no = sheet.where(r, "no")
        if no is None or no < 1:
            report.error(
                "task_number_invalid",
                f"{sheet.name}!{at_no} 任务编号“{sheet.get(row, 'no')}”不是正整数，请改正",
                sheet.name,
                at_no,
            )
            continue
        if no in first_row:
            report.error(
                "task_number_duplicate",
                f"{sheet.name}!{at_no} 任务编号 {no} 重复（{sheet.name}!{first_row[no]} 已有），请改正编号或删除重复行",
                sheet.name,
                at_no,
            )
            continue
        first_row[no] = at_no
        for key, code, label in required:
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
                "task_lead_multiple",
                f"{sheet.name}!{sheet.where(r, 'lead')} 第{no}项的牵头单位只能有一个，其余请移到“配合单位”",
                sheet.name,
                sheet.where(r, "lead"),
            )
        for key, listed in names.items():
            for name in listed:
                if known(name) is None:
                    report.error(
                        "unit_unknown",
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
                leaders=one(leaders := _split(sheet.text(row, "leaders")), leaders),
                units_text=sheet.text(row, "units_text"),
                lead=canonical(names["lead"][0]) if names["lead"] else "",
                co=one(co := tuple(canonical(n) for n in names["co"]), co),
                county=one(county := tuple(canonical(n) for n in names["county"]), county),
                deadline=sheet.text(row, "deadline"),
                person=sheet.text(row, "person"),
                note=sheet.text(row, "note"),
            )
        )
    present = set(first_row)
    missing = sorted(set(range(1, max(present, default=0) + 1)) - present)
    if missing:
        report.error(
            "task_number_missing",
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
                    "indicator_task_unknown",
                    f"任务编号“{sheet.get(row, 'no')}”在任务台账中不存在，请改正或删除该行",
                )
            )
        if not name:
            problems.append(("name", "indicator_name_empty", "指标名称为空，请填写"))
        if target is None:
            problems.append(
                (
                    "target",
                    "indicator_target_invalid",
                    f"目标值“{sheet.get(row, 'target')}”不是数字，请只填数字",
                )
            )
        if direction not in indicators.DIRECTIONS:
            problems.append(
                (
                    "direction",
                    "indicator_direction_invalid",
                    f"方向“{direction}”不对，应为 {' '.join(indicators.DIRECTIONS)} 之一",
                )
            )
        kind = sheet.text(row, "kind")
        if kind and kind not in INDICATOR_KINDS:
            problems.append(
                ("kind", "indicator_kind_invalid", f"指标类型“{kind}”不对，应为 {'、'.join(INDICATOR_KINDS)} 之一")
            )
        for key, code, text in problems:
            report.error(code, f"{sheet.name}!{sheet.where(r, key)} {text}", sheet.name, sheet.where(r, key))
        if not problems:
            found.append(
                Indicator(no, name, target, sheet.text(row, "unit"), direction, sheet.text(row, "source"), kind)
            )
            _check_kind(sheet, r, found[-1], report)
    return found


def _check_kind(sheet: _Sheet, r: int, ind: Indicator, report: Report) -> None:
    """A kind that contradicts its direction: the light follows the kind, the target's wording the
    direction, so 上限 with ≥ would print "5%以上" and judge "within 5%"."""
    if (ind.kind == KIND_CAP) == (ind.direction == "≤") and (ind.kind != KIND_APPROX or ind.direction == "≈"):
        return
    at = sheet.where(r, "kind" if "kind" in sheet.positions else "direction")
    report.warning(
        "indicator_kind_direction",
        f"{sheet.name}!{at} 第{ind.task_no}项“{ind.name}”的指标类型“{ind.kind}”与方向“{ind.direction}”不一致"
        f"（{KIND_CAP}配 ≤，{KIND_APPROX}配 ≈）。亮灯按指标类型，请改正其一",
        sheet.name,
        at,
    )


def parse_tables(tables: dict[str, Table], year: int | None = None) -> tuple[Ledger, Report]:
    """The ledger the sheets hold (rows with errors left out) and every problem found; year: the
    ledger's ([bureau] year; None: the one its 说明 title names) for 时间节点 and 节点计划."""
    report = Report()
    unit_sheet = _sheet(tables, SHEET_UNITS, report)
    task_sheet = _sheet(tables, SHEET_TASKS, report)
    indicator_sheet = _sheet(tables, SHEET_INDICATORS, report)
    found_units = _read_units(unit_sheet, report) if unit_sheet else []
    if unit_sheet:
        _check_groups(unit_sheet, found_units, report)
    ledger = Ledger([], found_units, [])
    if task_sheet:
        # Without a 单位名录 every name would be unknown: one missing-sheet error says it all. Each
        # name is looked up once: a task's units are checked and then made canonical, and the
        # same few names fill every row (300,000 lookups at 10,000 units).
        known = functools.cache(ledger.unit) if unit_sheet else (lambda name: Unit(name, ""))
        ledger.tasks = _read_tasks(task_sheet, known, report)
    if indicator_sheet:
        ledger.indicators = _read_indicators(indicator_sheet, {t.no for t in ledger.tasks}, report)
    year = year or plan_check.ledger_year(tables)
    deadlines = plan_check.check_deadlines(task_sheet, year, report) if task_sheet else {}
    if SHEET_PLAN in tables and (plan_sheet := _sheet(tables, SHEET_PLAN, report)):  # absent in older ledgers
        ledger.milestones = plan_check.read_plan(plan_sheet, ledger, year, deadlines, report)
    if SHEET_BONUS in tables and (bonus_sheet := _sheet(tables, SHEET_BONUS, report)):  # absent in older ledgers
        ledger.bonuses = bonus_check.read_bonuses(bonus_sheet, ledger, year, report)
    return ledger, report


def check_ledger(path: Path, year: int | None = None) -> Report:
    """Every problem in the ledger, with sheet and cell; a missing or unreadable file is one error."""
    path = Path(path)
    if not path.exists():
        report = Report()
        report.error("ledger_missing", f"找不到总台账 {path}，请先运行 ducha ledger build")
        return report
    try:
        tables = read_tables(path)
    except LedgerError as exc:
        report = Report()
        report.error("ledger_unreadable", str(exc))
        return report
    return parse_tables(tables, year)[1]

