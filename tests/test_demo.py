"""`make demo` plays a whole quarter; this runs it once in a temporary folder and checks what it
made and what it printed."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from toolkit.demo import play as demo


def sheet(target: Path, name: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(target / "reports" / "2024Q1" / "汇总表.xlsx").get_sheet_by_name(name).to_python()


def test_demo_plays_a_whole_quarter(played: tuple[Path, str]) -> None:
    target, out = played
    reports = target / "reports" / "2024Q1"

    assert "生成 65 个单位的填报表" in out
    assert "下发填报表：发送 65 封" in out
    assert "应报单位 65 个：已报送 53，迟报 4，退回修改 4，未报送 4" in out
    assert f"一季度通报：{reports / '通报.docx'}" in out

    book = CalamineWorkbook.from_path(reports / "汇总表.xlsx")
    assert book.sheet_names[:5] == ["总览", "任务进展", "单位报送", "问题清单", "量化指标"]
    units = book.get_sheet_by_name("单位报送").to_python()
    standing = [row[2] for row in units[1:]]
    assert (standing.count("已报送"), standing.count("迟报"), standing.count("未报送")) == (53, 4, 4)
    assert len(list((reports / "回执").glob("*.xlsx"))) == 61

    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted((target / "mailbox").glob("*.eml"))]
    attachments = [part.get_filename() for m in messages for part in m.iter_attachments()]
    assert "2024Q1_市商务局.xlsx" in attachments
    assert len(list((target / "outbox" / "2024Q2").glob("*.xlsx"))) == 65
    assert (target / "drop" / "扫描件.xlsx").read_bytes().startswith(b"%PDF")  # the drop is never touched


def test_demo_plays_a_second_quarter_on_prefilled_workbooks(played: tuple[Path, str]) -> None:
    """The second quarter: every unit but the four silent ones reports on time, each moving its
    tasks forward from what was adopted in the first (progress never falls, but where the demo makes
    a unit's fall as 疑似不实)."""
    target, out = played
    assert "应报单位 65 个：已报送 61，迟报 0，退回修改 0，未报送 4" in out
    assert out.rstrip().endswith(f"邮件：{target / 'mailbox'}")
    q1, q2 = ({r[0]: r for r in CalamineWorkbook.from_path(target / "reports" / p / "汇总表.xlsx")
               .get_sheet_by_name("任务进展").to_python()[1:]} for p in ("2024Q1", "2024Q2"))
    header = CalamineWorkbook.from_path(target / "reports" / "2024Q2" / "汇总表.xlsx").get_sheet_by_name(
        "任务进展").to_python()[0]
    col = header.index("完成进度(%)")
    moved = [no for no in q2 if isinstance(q1[no][col], float) and isinstance(q2[no][col], float)]
    assert len(moved) > 100
    suspects = CalamineWorkbook.from_path(target / "reports" / "2024Q2" / "汇总表.xlsx").get_sheet_by_name(
        "疑似不实").to_python()[1:]
    fell = {int(r[2]) for r in suspects if r[3] == "进度低于上季度"}  # demo/suspects.py: one unit's falls
    assert all(q2[no][col] >= q1[no][col] for no in moved if no not in fell)
    assert len(list((target / "reports" / "2024Q2" / "回执").glob("*.xlsx"))) == 61
    assert (target / "reports" / "2024Q2" / "通报.docx").exists()


def test_demo_shows_a_task_only_a_co_unit_reported_judged_without_its_lead(played: tuple[Path, str]) -> None:
    """Issue 11.1 in the demo: the lead never reports, its one co-unit says 已完成; the task is
    牵头单位未报送 and red after the deadline, never 已完成 or green."""
    target, out = played
    [line] = [t for t in out.splitlines() if t.startswith("  只有配合单位报送：")]
    no, co_unit, lead = re.fullmatch(
        r"  只有配合单位报送：第(\d+)项：(\S+)（配合）填“已完成”；未报送：(\S+) → 综合状态 牵头单位未报送，红灯，完成进度 —",
        line).groups()
    rows = sheet(target, "任务进展")
    header = rows[0]
    row = dict(zip(header, next(r for r in rows[1:] if r[0] == int(no)), strict=True))
    assert (row["牵头单位"], row["未报送单位"], row["综合状态"], row["红黄绿灯"], row["完成进度(%)"]) == (
        lead, lead, "牵头单位未报送", "红灯", "")
    assert row["各单位进展"].startswith(f"【{co_unit}】已完成，100%")
    standing = {r[0]: r[2] for r in sheet(target, "单位报送")[1:]}
    assert (standing[lead], standing[co_unit]) == ("未报送", "已报送")


def indicators(target: Path) -> dict[tuple[int, str], dict[str, object]]:
    rows = sheet(target, "量化指标")
    return {(int(r[0]), r[1]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}


def test_demo_shows_a_rate_indicator_judged_against_its_target_not_the_pace(played: tuple[Path, str]) -> None:
    """Issue 11.2 in the demo: a growth rate reported at half its target is red, though half the
    target would be twice 序时进度 25% for an amount."""
    target, out = played
    [line] = [t for t in out.splitlines() if t.startswith("  增速/比率指标：")]
    no, name, shown = re.fullmatch(r"  增速/比率指标：第(\d+)项 (\S+)（增速/比率，\S+牵头）：(.+)", line).groups()
    row = indicators(target)[(int(no), name)]
    assert (row["指标类型"], row["完成率(%)"], row["指标灯"]) == ("增速/比率", 50, "红灯")
    assert row["本期应达"] == f"≥{row['目标值']:g}"  # the target itself, not target × 序时进度
    assert shown == (f"目标 {row['方向']}{row['目标值']:g}{row['计量单位']}，报 {row['最新值']:g}{row['计量单位']} → "
                     f"本期应达 {row['本期应达']}，完成率 50%，指标灯 红灯")


def test_demo_shows_a_group_led_indicator_with_every_member_summed(played: tuple[Path, str]) -> None:
    """Issue 11.3 in the demo: the clerk has 各县区 lead a task; every county's value is kept and the
    amounts add up (the first county's alone would be red)."""
    target, out = played
    lines = out.splitlines()
    at = next(i for i, t in enumerate(lines) if t.startswith("  分组牵头指标："))
    row = indicators(target)[(demo.GROUP_LED, demo.GROUP_LED_INDICATOR)]
    members = list(demo.GROUP_VALUES)
    assert row["牵头单位"] == "各县区" and row["指标类型"] == "累计量"
    assert row["各单位填报"].splitlines() == [f"【{u}】{v:g}" for u, v in demo.GROUP_VALUES.items()]
    assert row["最新值"] == pytest.approx(sum(demo.GROUP_VALUES.values()))
    assert row["指标灯"] == "绿灯" and row["最新值"] >= row["目标值"] * 0.25 > demo.GROUP_VALUES[members[0]]
    assert lines[at] == (f"  分组牵头指标：第{demo.GROUP_LED}项 {demo.GROUP_LED_INDICATOR}（累计量，各县区牵头）："
                         f"目标 {row['方向']}{row['目标值']:g}万亩，各成员合计 {row['最新值']:g}万亩 → 本期应达 {row['本期应达']}，"
                         f"完成率 {row['完成率(%)']:g}%，指标灯 绿灯")
    assert lines[at + 1] == "    各成员：" + "、".join(row["各单位填报"].splitlines())


def test_demo_shows_a_notice_of_each_colour_over_two_quarters(played: tuple[Path, str]) -> None:
    """Issue 16: the silent units get a 提示单 after the Q1 deadline, a 督办单 once its 整改期限 has
    passed, a 通报 in Q2 and a place on the 约谈名单; a rerun on the same day issues nothing."""
    target, out = played
    folders = [target / "reports" / p / "督办通知" for p in ("2024Q1", "2024Q2")]
    names = [p.name for folder in folders for p in folder.glob("*.docx")]
    assert {name.split("〔")[0] for name in names} == {"督查提示", "督查督办", "督查通报"}
    assert "督查通报〔2024〕1号_市发展改革委.docx" in names
    assert (target / "reports" / "2024Q2" / "约谈名单.xlsx").exists()
    assert out.count("同日再运行一次：新发出 0 份") == 3
