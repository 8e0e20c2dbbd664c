"""A small hand-checked ledger and the readers the forms tests look at generated workbooks with.

Shared by test_writer.py (what one workbook holds) and test_generate.py (the run that writes them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from python_calamine import CalamineWorkbook

from toolkit.config import Bureau
from toolkit.forms import layout
from toolkit.forms.generate import GenerateResult, generate_from
from toolkit.model import Indicator, Ledger, Task, Unit
from toolkit.period import Period

SECRET = b"s" * 32
NOW = dt.datetime(2024, 3, 1, 9, 30)
Q1 = Period.parse("2024Q1")
HEADER = ["任务编号", "任务内容", "责任领导", "本单位职责", "完成状态", "完成进度(%)"]
HEADER += ["本季度进展情况", "存在问题", "下步计划", "具体责任人", "联系电话"]
HEADER += ["申请事项", "申请完成时间", "理由", "佐证材料"]
FORMULA_TEXT = '=HYPERLINK("http://evil.example","点我") 经济增长6.5%左右'
URL_TEXT = "-完成老旧小区改造 http://example.com/a"


def small_ledger() -> Ledger:
    """Two county members, an empty group, an alias, a unit without tasks, hostile task text."""
    units = [
        Unit("市发展改革委", "市直部门", aliases=("市发改委",)),
        Unit("市统计局", "市直部门"),
        Unit("市人社局", "市直部门"),
        Unit("市住房和城乡建设局", "市直部门", aliases=("市住房城乡建设局",)),
        Unit("市教育局", "市直部门"),
        Unit("兰考县", "县区", groups=("各县区",)),
        Unit("杞县", "县区", groups=("各县区",)),
        Unit("各县区", "分组"),
        Unit("各开发区管委会", "分组"),
    ]
    tasks = [
        Task(
            1,
            "一、主要预期目标",
            "一、主要预期目标",
            FORMULA_TEXT,
            ("袁钢",),
            "",
            "市发展改革委",
            ("市统计局",),
            ("各县区",),
        ),
        Task(
            2,
            "一、主要预期目标",
            "一、主要预期目标",
            "+新增城镇就业6.24万人以上",
            ("常务副市长",),
            "",
            "市人社局",
            ("市发展改革委",),
        ),
        Task(
            3,
            "二、全年重点工作",
            "（一）",
            URL_TEXT,
            ("李四", "王五"),
            "",
            "市住房和城乡建设局",
            (),
            ("兰考县", "各开发区管委会"),
        ),
        Task(
            4, "二、全年重点工作", "（一）", "@统计监测", ("袁钢",), "", "市统计局", ("兰考县",), ("各县区",)
        ),
    ]
    indicators = [
        Indicator(1, "经济增长", 6.5, "%", "≈", "经济增长6.5%左右"),
        Indicator(2, "新增城镇就业", 6.24, "万人", "≥", "新增城镇就业6.24万人以上"),
    ]
    return Ledger(tasks, units, indicators)


# unit → [(task no, role)] in task order, worked out by hand from small_ledger()
EXPECTED = {
    "市发展改革委": [(1, "牵头"), (2, "配合")],
    "市统计局": [(1, "配合"), (4, "牵头")],
    "市人社局": [(2, "牵头")],
    "市住房和城乡建设局": [(3, "牵头")],
    "兰考县": [(1, "县区落实"), (3, "县区落实"), (4, "配合")],
    "杞县": [(1, "县区落实"), (4, "县区落实")],
}
EXPECTED_INDICATORS = {"市发展改革委": [(1, "经济增长")], "市人社局": [(2, "新增城镇就业")]}


def generate_small(out: Path) -> GenerateResult:
    """Every workbook of small_ledger() for 2024Q1, as generated at NOW."""
    return generate_from(small_ledger(), Q1, Bureau(), SECRET, out, now=NOW)


def calamine_rows(path: Path, sheet: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def meta_from(path: Path) -> dict[str, str]:
    return {str(k): str(v) for k, v, *_ in calamine_rows(path, layout.SHEET_META)}


def path_of(result: GenerateResult, unit: str) -> Path:
    return next(w.path for w in result.workbooks if w.unit == unit)
