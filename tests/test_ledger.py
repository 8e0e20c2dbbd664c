"""master_ledger.xlsx: what build writes, that it protects the clerk's edits, and what check reports
when the clerk gets something wrong."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import BUILT
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.errors import LedgerError
from toolkit.ledger import units
from toolkit.ledger.build import build_ledger, load_ledger, read_ledger, summary
from toolkit.ledger.check import check_ledger
from toolkit.model import ROLE_COUNTY


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    """A workspace holding a freshly built ledger."""
    shutil.copy(built, workspace / "master_ledger.xlsx")
    return workspace


def edit(path: Path, sheet: str, changes: dict[str, object]) -> None:
    """Change cells as the clerk would in Excel."""
    book = openpyxl.load_workbook(path)
    for ref, value in changes.items():
        book[sheet][ref] = value
    book.save(path)


def errors(path: Path) -> list[tuple[str, str, str]]:
    return [(i.code, i.sheet, str(i.cell or "")) for i in check_ledger(path).errors]


# --- what build writes -------------------------------------------------------------------------


def test_headers_exactly_as_specified(built):
    book = openpyxl.load_workbook(built)
    assert book.sheetnames == ["任务台账", "单位名录", "量化指标", "节点计划", "考评加分", "说明"]

    def header(sheet: str) -> list[str]:
        return [c.value for c in book[sheet][1]]

    assert header("任务台账") == [
        "任务编号", "类别", "板块", "任务内容", "责任领导", "责任单位",
        "牵头单位", "配合单位", "县区单位", "时间节点", "具体责任人", "备注",
    ]  # fmt: skip
    assert header("单位名录") == ["单位名称", "别名", "类型", "所属分组", "联系人", "邮箱", "联系电话"]
    assert header("量化指标") == ["任务编号", "指标名称", "目标值", "计量单位", "方向", "指标类型", "原文"]
    tasks = book["任务台账"]
    assert tasks.freeze_panes == "B2"
    assert tasks.auto_filter.ref == "A1:L154"
    assert tasks["A1"].font.b
    assert tasks.max_row == 154


def test_task_rows(built):
    sheet = openpyxl.load_workbook(built)["任务台账"]
    row = [c.value for c in sheet[53]]
    assert row[:9] == [
        52,
        "二、全年重点工作",
        "（四）坚持扩大内需，把牢高质量发展战略基点",
        "举办城市“一刻钟便民生活节”活动，打造“小而美”城市“一刻钟便民生活圈”10个以上。",
        "刘震、肖文兴、袁钢",
        "市商务局、市民政局、市文化广电旅游局、市市场监管局",
        "市商务局",
        "市民政局、市文化广电旅游局、市市场监管局",
        None,
    ]
    assert row[9] == "2024年12月31日"
    assert [c.value for c in sheet[2]][2] == "一、主要预期目标"
    # 127 is written 市住房和城乡建设局 in the notice: 责任单位 keeps it, the unit columns use the canonical name.
    assert "市住房和城乡建设局" in sheet["F128"].value
    assert sheet["H128"].value == "市发展改革委、市资源规划局、市住房城乡建设局"
    assert (sheet["G78"].value, sheet["H78"].value, sheet["I78"].value) == ("尉氏县", None, None)
    assert sheet["I145"].value == "各县区"
    assert sheet["I97"].value == "各开发区管委会"
    assert sheet["G49"].value == "市委宣传部"


def test_unit_directory(built):
    sheet = openpyxl.load_workbook(built)["单位名录"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 67
    assert rows["市住房城乡建设局"][1:3] == ("市住房和城乡建设局", "市直部门")
    assert rows["自贸试验区开封片区"][1:3] == ("自贸试验区开封片区（综保区）", "开发区")
    assert rows["宋都古城文化产业园区"][1] == "宋都古城文化园区"
    assert rows["市委宣传部"][1] == "市委宣传部（市文明办）"
    assert rows["各县区"][2] == rows["各开发区管委会"][2] == "分组"
    members = [name for name, r in rows.items() if r[3] == "各县区"]
    assert members == [*units.COUNTIES, *units.DISTRICTS]
    assert rows["城乡一体化示范区"][3] == "各开发区管委会"  # the notice's zones seed its zone group


def test_indicator_rows(built):
    sheet = openpyxl.load_workbook(built)["量化指标"]
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 97
    assert (8, "城镇新增就业", 6.24, "万人", "≥", "累计量", "城镇新增就业6.24万人") in rows
    assert [r[:5] for r in rows if r[0] == 24][3] == (
        24,
        "规模以上制造业企业数字化转型诊断服务完成率",
        50,
        "%",
        "≥",
    )


def test_about_sheet_says_when_and_from_what(built):
    rows = dict(openpyxl.load_workbook(built)["说明"].iter_rows(min_row=2, max_col=2, values_only=True))
    assert rows["来源文件"] == "data/kaifeng-2024-gov-report-tasks.md"
    assert rows["生成时间"] == "2024-03-01 09:00:00"
    assert "城乡一体化示范区" in rows["单位名录"]


def test_read_back_and_summary(built):
    ledger = read_ledger(built)
    assert len(ledger.tasks) == 153
    assert ledger.task(10).leaders == ("常务副市长", "刘震")
    s = summary(ledger)
    assert s["tasks"] == 153 and len(s["sections"]) == 11 and s["sections"]["一、主要预期目标"] == 12
    assert s["units"] == {"市直部门": 44, "县区": 9, "开发区": 4, "驻汴单位": 8, "分组": 2}
    assert s["groups"] == {"各县区": 9, "各开发区管委会": 4}
    assert s["indicators"] == 97


def test_groups_expand_and_membership_is_the_clerks(ws):
    path = ws / "master_ledger.xlsx"
    before = read_ledger(path).assignments()
    assert (36, ROLE_COUNTY) in [(a.task.no, a.role) for a in before["杞县"]]
    assert 36 not in [a.task.no for a in before["城乡一体化示范区"]]
    edit(path, "单位名录", {"D55": "各县区"})  # 城乡一体化示范区 joins 各县区
    assert openpyxl.load_workbook(path)["单位名录"]["A55"].value == "城乡一体化示范区"
    after = read_ledger(path)
    assert "城乡一体化示范区" in after.members("各县区")
    assert 36 in [a.task.no for a in after.assignments()["城乡一体化示范区"]]
    assert check_ledger(path).ok


def test_user_text_stays_text(workspace):
    notice = workspace / "data" / "kaifeng-2024-gov-report-tasks.md"
    notice.write_text(
        '### 一、主要预期目标\n\n1. =HYPERLINK("x")增长6%。\n\n责任领导：刘震\n\n责任单位：市水利局\n',
        encoding="utf-8",
    )
    build_ledger(load_config(workspace), now=BUILT)
    cell = openpyxl.load_workbook(workspace / "master_ledger.xlsx")["任务台账"]["D2"]
    assert (cell.data_type, cell.value) == ("s", '=HYPERLINK("x")增长6%。')


# --- build protects the clerk's edits ----------------------------------------------------------


def test_building_twice_leaves_the_ledger_alone(workspace):
    config = load_config(workspace)
    first = build_ledger(config, now=BUILT)
    data = config.paths.ledger.read_bytes()
    second = build_ledger(config, now=BUILT + dt.timedelta(days=3))
    assert (first.status, second.status) == ("created", "unchanged")
    assert config.paths.ledger.read_bytes() == data
    assert [i.code for i in second.issues] == [
        "notice_stray_latin",
        "notice_stray_latin",
        "unit_email_missing",
    ]


def test_rebuild_gives_the_same_cells(workspace, built):
    build_ledger(load_config(workspace), now=BUILT)
    a = openpyxl.load_workbook(built)
    b = openpyxl.load_workbook(workspace / "master_ledger.xlsx")
    for name in a.sheetnames:
        assert list(a[name].values) == list(b[name].values)


def test_edited_ledger_is_not_overwritten(ws):
    path = ws / "master_ledger.xlsx"
    edit(path, "单位名录", {"F2": "fgw@kaifeng.gov.cn"})
    data = path.read_bytes()
    with pytest.raises(LedgerError, match=r"单位名录!F2.*--force"):
        build_ledger(load_config(ws), now=BUILT)
    assert path.read_bytes() == data


def test_force_keeps_a_timestamped_backup(ws):
    path = ws / "master_ledger.xlsx"
    edit(path, "单位名录", {"F2": "fgw@kaifeng.gov.cn"})
    result = build_ledger(load_config(ws), force=True, now=dt.datetime(2024, 3, 5, 14, 30, 7))
    backup = ws / "master_ledger.backup-20240305-143007.xlsx"
    assert (result.status, result.backup) == ("rebuilt", backup)
    assert openpyxl.load_workbook(backup)["单位名录"]["F2"].value == "fgw@kaifeng.gov.cn"
    assert openpyxl.load_workbook(path)["单位名录"]["F2"].value is None


# --- check -------------------------------------------------------------------------------------


def test_clean_ledger_has_only_warnings(built):
    report = check_ledger(built)
    assert report.ok
    assert [(i.code, i.where) for i in report.warnings] == [("unit_email_missing", "单位名录")]


def test_a_group_without_members_is_a_warning(ws):
    path = ws / "master_ledger.xlsx"
    sheet = openpyxl.load_workbook(path)["单位名录"]
    zones = [row[0].row for row in sheet.iter_rows(min_row=2) if row[3].value == "各开发区管委会"]
    edit(path, "单位名录", {f"D{r}": None for r in zones})
    warnings = check_ledger(path).warnings
    assert [(i.code, i.where) for i in warnings] == [("group_empty", "单位名录!A68"), ("unit_email_missing", "单位名录")]
    assert "各开发区管委会" in warnings[0].message


def test_duplicate_task_number(ws):
    path = ws / "master_ledger.xlsx"
    edit(path, "任务台账", {"A6": 4})
    assert errors(path) == [
        ("task_number_duplicate", "任务台账", "A6"),
        ("task_number_missing", "任务台账", ""),
    ]
    report = check_ledger(path)
    assert "任务台账!A5 已有" in report.errors[0].message
    assert "缺少任务编号 5" in report.errors[1].message


def test_missing_task_number(ws):
    path = ws / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    book["任务台账"].delete_rows(11)  # task 10
    book.save(path)
    assert errors(path) == [("task_number_missing", "任务台账", "")]
    assert "缺少任务编号 10：" in check_ledger(path).errors[0].message


@pytest.mark.parametrize(
    ("sheet", "changes", "expected"),
    [
        (
            "任务台账",
            {"A3": "二"},
            [
                ("task_number_invalid", "任务台账", "A3"),
                ("task_number_missing", "任务台账", ""),
                ("indicator_task_unknown", "量化指标", "A3"),  # task 2's indicator lost its task
            ],
        ),
        ("任务台账", {"H11": "市人力资源社会保障局、市农村局"}, [("unit_unknown", "任务台账", "H11")]),
        ("任务台账", {"I145": "各乡镇"}, [("unit_unknown", "任务台账", "I145")]),
        ("任务台账", {"G2": "市住房和城乡建设局"}, []),  # an alias is a known name
        (
            "任务台账",
            {"E3": None, "G4": None},
            [("task_leader_empty", "任务台账", "E3"), ("task_lead_empty", "任务台账", "G4")],
        ),
        ("任务台账", {"D5": " "}, [("task_content_empty", "任务台账", "D5")]),
        ("任务台账", {"G4": "市发展改革委、市商务局"}, [("task_lead_multiple", "任务台账", "G4")]),
        ("单位名录", {"F2": "fgw@kaifeng", "F3": "a@b.cn；c@d.com"}, []),  # a warning: tests/test_bad_email.py
        (
            "单位名录",
            {"C2": "部门", "D3": "各乡镇"},
            [("unit_kind_invalid", "单位名录", "C2"), ("unit_group_unknown", "单位名录", "D3")],
        ),
        ("单位名录", {"B3": "市发展改革委"}, [("unit_duplicate", "单位名录", "A3")]),
        (
            "量化指标",
            {"A2": 154, "C3": "很多", "E4": ">", "B5": None},
            [
                ("indicator_task_unknown", "量化指标", "A2"),
                ("indicator_target_invalid", "量化指标", "C3"),
                ("indicator_direction_invalid", "量化指标", "E4"),
                ("indicator_name_empty", "量化指标", "B5"),
            ],
        ),
    ],
)
def test_each_kind_of_mistake_is_found_at_its_cell(ws, sheet, changes, expected):
    path = ws / "master_ledger.xlsx"
    edit(path, sheet, changes)
    assert errors(path) == expected


def test_unknown_unit_message_names_it(ws):
    path = ws / "master_ledger.xlsx"
    edit(path, "任务台账", {"H11": "市人力资源社会保障局、市农村局"})
    message = check_ledger(path).errors[0].message
    assert message.startswith("任务台账!H11 第10项的“市农村局”不在单位名录中")


def test_alias_and_several_emails_read_back(ws):
    path = ws / "master_ledger.xlsx"
    edit(path, "任务台账", {"G2": "市住房和城乡建设局"})
    edit(path, "单位名录", {"F3": "a@b.cn；c@d.com"})
    ledger = read_ledger(path)
    assert ledger.task(1).lead == "市住房城乡建设局"
    assert ledger.unit("市工业和信息化局").email == "a@b.cn；c@d.com"


def test_missing_sheet_and_renamed_column(ws):
    path = ws / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    del book["量化指标"]
    book["任务台账"]["G1"] = "牵头"
    book.save(path)
    assert errors(path) == [
        ("ledger_column_missing", "任务台账", "A1"),
        ("ledger_sheet_missing", "量化指标", ""),
    ]


def test_missing_and_unreadable_ledger(workspace):
    assert errors(workspace / "master_ledger.xlsx") == [("ledger_missing", "", "")]
    (workspace / "master_ledger.xlsx").write_bytes(b"not a workbook")
    assert errors(workspace / "master_ledger.xlsx") == [("ledger_unreadable", "", "")]


def test_load_ledger_refuses_a_broken_ledger(ws):
    assert len(load_ledger(load_config(ws)).tasks) == 153
    edit(ws / "master_ledger.xlsx", "任务台账", {"G4": None})
    with pytest.raises(LedgerError, match=r"1 处错误[\s\S]*任务台账!G4 第3项的牵头单位为空"):
        load_ledger(load_config(ws))


def test_load_ledger_without_a_ledger(workspace):
    with pytest.raises(LedgerError, match="ducha ledger build"):
        load_ledger(load_config(workspace))


# --- command line ------------------------------------------------------------------------------


def test_cli_build_then_check(workspace):
    runner = CliRunner()
    built = runner.invoke(cli, ["--config", str(workspace), "ledger", "build"])
    assert built.exit_code == 0, built.output
    assert "已生成总台账" in built.output
    assert "量化指标 97 条（涉及 64 项任务）" in built.output
    assert "[提醒] 第33项" in built.output
    checked = runner.invoke(cli, ["--config", str(workspace), "ledger", "check"])
    assert checked.exit_code == 0
    assert "检查完毕：0 处错误，1 处提醒" in checked.output


def test_cli_check_exit_1_with_json(ws):
    edit(ws / "master_ledger.xlsx", "量化指标", {"A2": 999})
    result = CliRunner().invoke(cli, ["--config", str(ws), "ledger", "check", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["ok"], data["errors"]) == (False, 1)
    assert [(i["code"], i["sheet"], i["cell"]) for i in data["issues"] if i["level"] == "error"] == [
        ("indicator_task_unknown", "量化指标", "A2")
    ]


def test_cli_build_refuses_edited_ledger_then_force(ws):
    edit(ws / "master_ledger.xlsx", "任务台账", {"K2": "张三"})
    runner = CliRunner()
    refused = runner.invoke(cli, ["--config", str(ws), "ledger", "build"])
    assert refused.exit_code == 1
    assert "错误：总台账 master_ledger.xlsx 已被修改" in refused.stderr
    forced = runner.invoke(cli, ["--config", str(ws), "ledger", "build", "--force", "--json"])
    assert forced.exit_code == 0
    data = json.loads(forced.stdout)
    assert data["status"] == "rebuilt"
    assert Path(data["backup"]).exists()
