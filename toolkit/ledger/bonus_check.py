"""考评加分 in the ledger: the points the clerk grants a unit for a quarter, checked at their cells.

A bonus moves a unit up the league table that leaders read, so one typed against the wrong quarter,
an unknown unit or a figure that is not a number must be caught where it was typed, not silently
left out of a score. Called from check.parse_tables like plan_check.
"""

from __future__ import annotations

from toolkit.ledger.plan_check import _Sheet
from toolkit.model import Bonus, Ledger
from toolkit.period import Period
from toolkit.problems import Report

MAX_BONUS = 100  # more than a whole base in one line is a typing slip


def read_bonuses(sheet: _Sheet, ledger: Ledger, year: int, report: Report) -> list[Bonus]:
    """The sound rows of 考评加分; each problem an error at its cell (a missing 依据 a warning)."""
    found = []
    for r, row in sheet.data():
        problems = []
        period = _period(sheet.text(row, "period"), year)
        if period is None:
            problems.append(("period", f"季度“{sheet.text(row, 'period')}”不对，请写本年度的季度，如 {year}Q1 或 "
                                       f"{year}年第一季度"))
        unit = ledger.unit(sheet.text(row, "unit"))
        if unit is None or unit.is_group:
            problems.append(("unit", f"单位“{sheet.text(row, 'unit')}”不是单位名录中的单位（分组不能加分），"
                                     "请改为单位名录中的名称"))
        points = sheet.get(row, "points")
        if isinstance(points, str) or not 0 < points <= MAX_BONUS:
            problems.append(("points", f"分值“{points}”应为大于 0、不超过 {MAX_BONUS} 的数字"))
        reason = sheet.text(row, "reason")
        if not reason:
            problems.append(("reason", "事由为空，请写明加分的理由（如 市长批示肯定……）"))
        for key, text in problems:
            code = "bonus_reason_empty" if key == "reason" else f"bonus_{key}_invalid"
            at = sheet.where(r, key)
            report.error(code, f"{sheet.name}!{at} {text}", sheet.name, at)
        basis = sheet.text(row, "basis")
        if not basis:
            at = sheet.where(r, "basis")
            report.warning("bonus_basis_empty", f"{sheet.name}!{at} 依据为空，请填写加分依据（如领导批示、表扬文件的文号）",
                           sheet.name, at)
        if not problems and unit is not None and period is not None:
            found.append(Bonus(period.key, unit.name, float(points), reason, basis))
    return found


def _period(text: str, year: int) -> Period | None:
    try:
        period = Period.parse(text, year=year)
    except ValueError:
        return None
    return period if period.year == year else None
