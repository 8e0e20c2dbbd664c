"""Groups of units: 各开发区管委会 reaches the 开发区 of the notice, a group may sit inside a group,
and a cycle of groups is a ledger error, not a hang (issue 11.8)."""

from __future__ import annotations

import shutil

import openpyxl

from tests.conftest import NOTICE
from toolkit.ledger import units
from toolkit.ledger.build import ledger_from_notice, read_ledger
from toolkit.ledger.check import check_ledger
from toolkit.model import ROLE_COUNTY, Ledger, Task, Unit

ZONES = ["城乡一体化示范区", "产城融合示范区", "自贸试验区开封片区", "宋都古城文化产业园区"]


def test_the_zone_group_of_the_notice_is_seeded_with_the_notices_zones():
    ledger, _ = ledger_from_notice(NOTICE.read_text(encoding="utf-8"), "2024年12月31日")
    assert ledger.members(units.GROUP_ZONES) == ZONES
    item_96 = {unit: [(a.task.no, a.role) for a in tasks if a.task.no == 96]
               for unit, tasks in ledger.assignments().items()}
    assert [unit for unit, rows in item_96.items() if rows] == ["市资源规划局", *ZONES]
    assert all(item_96[zone] == [(96, ROLE_COUNTY)] for zone in ZONES)
    # Only a zone the notice names is seeded, and only into a zone group the notice names.
    assert units.catalogue(["市商务局", "城乡一体化示范区"])[-1].groups == ()
    seeded = {u.name: u.groups for u in units.catalogue(["城乡一体化示范区", units.GROUP_ZONES])}
    assert (seeded["城乡一体化示范区"], seeded[units.GROUP_ZONES], seeded["兰考县"]) == (
        (units.GROUP_ZONES,), (), ("各县区",))


def test_the_built_ledger_shows_the_membership_the_clerk_can_edit(built, tmp_path):
    sheet = openpyxl.load_workbook(built)["单位名录"]
    by_name = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert [by_name[zone][3] for zone in ZONES] == [units.GROUP_ZONES] * 4
    assert [(i.code, i.where) for i in check_ledger(built).warnings] == [("unit_email_missing", "单位名录")]
    # The clerk takes 宋都古城文化产业园区 out of the group: the ledger follows the sheet.
    edited = tmp_path / "master_ledger.xlsx"
    shutil.copy(built, edited)
    book = openpyxl.load_workbook(edited)
    [row] = [r for r in book["单位名录"].iter_rows(min_row=2) if r[0].value == "宋都古城文化产业园区"]
    row[3].value = None
    book.save(edited)
    assert read_ledger(edited).members(units.GROUP_ZONES) == ZONES[:3]


def nested_ledger(zone_groups: tuple[str, ...] = ("各县区",), county_groups: tuple[str, ...] = ()) -> Ledger:
    units_ = [
        Unit("市商务局", "市直部门"),
        Unit("兰考县", "县区", groups=("各县区",)),
        Unit("城乡一体化示范区", "开发区", groups=("各开发区管委会",)),
        Unit("各县区", "分组", groups=county_groups),
        Unit("各开发区管委会", "分组", groups=zone_groups),
    ]
    tasks = [Task(1, "二", "（一）", "任务一。", ("张三",), "市商务局，各县区", "市商务局", county=("各县区",))]
    return Ledger(tasks, units_)


def test_a_group_inside_a_group_reaches_its_members():
    ledger = nested_ledger()
    assert ledger.members("各县区") == ["兰考县", "城乡一体化示范区"]
    assert ledger.expand("各县区") == ["兰考县", "城乡一体化示范区"]
    assert {u: [(a.task.no, a.role) for a in rows] for u, rows in ledger.assignments().items()} == {
        "市商务局": [(1, "牵头")], "兰考县": [(1, ROLE_COUNTY)], "城乡一体化示范区": [(1, ROLE_COUNTY)]}


def test_a_cycle_of_groups_is_a_ledger_error_and_expanding_it_ends(built, tmp_path):
    looped = nested_ledger(county_groups=("各开发区管委会",))
    assert looped.members("各县区") == looped.members("各开发区管委会") == ["兰考县", "城乡一体化示范区"]

    edited = tmp_path / "master_ledger.xlsx"
    shutil.copy(built, edited)
    book = openpyxl.load_workbook(edited)
    ws = book["单位名录"]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["各县区"], 4).value = "各开发区管委会"
    ws.cell(rows["各开发区管委会"], 4).value = "各县区"
    book.save(edited)
    report = check_ledger(edited)
    cycles = [i for i in report.errors if i.code == "group_cycle"]
    assert [(i.sheet, str(i.cell)) for i in cycles] == [("单位名录", f"D{rows['各县区']}"),
                                                      ("单位名录", f"D{rows['各开发区管委会']}")]
    assert cycles[0].message == (f"单位名录!D{rows['各县区']} 分组“各县区”通过所属分组包含了自己"
                                 "（各县区→各开发区管委会→各县区），分给它的任务无法确定下发范围。请删去其中一个所属分组")
