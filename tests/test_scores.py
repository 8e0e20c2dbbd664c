"""考评: every point a unit gains or loses, explained in 考评明细, and the league table built from it."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import BUILT
from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE, checked, error, small_ledger
from toolkit.config import Bureau, Deadlines, load_config
from toolkit.errors import ConfigError
from toolkit.ledger.build import build_ledger, load_ledger
from toolkit.ledger.check import check_ledger
from toolkit.model import Bonus, Ledger, Milestone
from toolkit.outputs.publish import write_outputs
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.scores import ScoringRules, attach_scores, quarter_items
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
Q2 = Period.parse("2024Q2")


def _q1_files() -> list:
    """发改委 on time with task 1 at 0 % (red), 商务局 late, 龙亭区 rejected, 顺河区 silent."""
    return [
        checked(NDRC, "2024-03-20T10:00:00", {1: ("正常推进", 0.0)}, path="/drop/发改委.xlsx"),
        checked(COMMERCE, "2024-03-30T10:00:00", {2: ("正常推进", 30.0), 3: ("正常推进", 30.0)},
                path="/drop/商务局.xlsx"),
        checked(LONGTING, "2024-03-20T10:00:00", {3: ("正常推进", 30.0)}, issues=[error()], path="/drop/龙亭.xlsx"),
    ]


def _store(tmp_path: Path, files_by_period: dict[str, list]) -> Path:
    path = tmp_path / "ducha.db"
    with open_store(path) as store:
        for period, files in files_by_period.items():
            for f in files:
                store.record(f, period, "/archive", "accepted")
    return path


def _merged(tmp_path: Path, ledger: Ledger | None = None, as_of: dt.date = dt.date(2024, 4, 1),
            files: list | None = None) -> MergedQuarter:
    path = _store(tmp_path, {"2024Q1": _q1_files() if files is None else files})
    with open_store(path) as store:
        return build_merged(ledger or small_ledger(), store.load_period("2024Q1"), Q1, as_of)


def _rows(items) -> list[tuple]:
    return [(i.unit, i.rule, i.points, i.evidence) for i in items]


def test_each_lapse_is_one_explained_deduction(tmp_path: Path) -> None:
    items = quarter_items(_merged(tmp_path), ScoringRules())
    assert _rows(items) == [
        (NDRC, "基础分", 100.0, "每季度基础分"),
        (NDRC, "牵头任务红灯", -1.0, "第1项（牵头）亮红灯：综合状态正常推进，完成进度0%，序时进度25%"),
        (COMMERCE, "基础分", 100.0, "每季度基础分"),
        (COMMERCE, "迟报", -2.0, "文件 商务局.xlsx 于 2024-03-30 收到，截止日为 2024-03-28"),
        (LONGTING, "基础分", 100.0, "每季度基础分"),
        (LONGTING, "退回未改", -3.0, "文件 龙亭.xlsx 被退回修改，截止日 2024-03-28 后仍未报送合格文件"),
        (SHUNHE, "基础分", 100.0, "每季度基础分"),
        (SHUNHE, "未报送", -5.0, "截止日 2024-03-28 已过，未收到报送文件"),
    ]
    assert {i.period for i in items} == {"2024Q1"}


def test_before_the_deadline_silence_costs_nothing_yet(tmp_path: Path) -> None:
    files = [f for f in _q1_files() if f.received < "2024-03-25"]  # 商务局's file has not come yet
    items = quarter_items(_merged(tmp_path, as_of=dt.date(2024, 3, 25), files=files), ScoringRules())
    assert [(i.unit, i.rule) for i in items if i.rule != "基础分"] == [(NDRC, "牵头任务红灯")]


def test_kinds_can_be_left_out_or_weighted(tmp_path: Path) -> None:
    merged = _merged(tmp_path)
    assert {i.unit for i in quarter_items(merged, ScoringRules(exclude_kinds=("县区",)))} == {NDRC, COMMERCE}
    weighted = quarter_items(merged, ScoringRules(weights=(("县区", 0.5),), missing=5))
    assert [(i.points, i.evidence) for i in weighted if i.unit == SHUNHE][-1] == (
        -2.5, "截止日 2024-03-28 已过，未收到报送文件（县区扣分系数 0.5）")


def test_an_overdue_milestone_costs_the_unit_that_answers_for_it(tmp_path: Path) -> None:
    ledger = small_ledger()
    ledger.milestones = [Milestone(3, 1, "启动促消费活动", dt.date(2024, 3, 15), 40.0, unit="各县区")]
    items = quarter_items(_merged(tmp_path, ledger), ScoringRules())
    assert [(i.unit, i.points, i.evidence) for i in items if i.rule == "逾期节点"] == [
        (u, -1.0, "第3项第1个节点“启动促消费活动”（计划 2024-03-15 达到 40%）逾期未完成") for u in (LONGTING, SHUNHE)]


def test_a_clerk_bonus_is_added_with_its_reason(tmp_path: Path) -> None:
    ledger = small_ledger()
    ledger.bonuses = [Bonus("2024Q1", SHUNHE, 3.0, "市长批示肯定", "汴政督〔2024〕5号"),
                      Bonus("2024Q2", SHUNHE, 9.0, "下季度的", "")]
    items = quarter_items(_merged(tmp_path, ledger), ScoringRules())
    assert [(i.unit, i.rule, i.points, i.evidence) for i in items if i.rule == "加分"] == [
        (SHUNHE, "加分", 3.0, "市长批示肯定（依据：汴政督〔2024〕5号）")]


def test_scoring_reads_from_ducha_toml(tmp_path: Path) -> None:
    (tmp_path / "ducha.toml").write_text(
        '[scoring]\nbase = 90\nmissing = 10\nexclude_kinds = ["驻汴单位"]\nseparate_kinds = ["县区"]\n'
        'weights = { "县区" = 0.5 }\n', encoding="utf-8")
    rules = ScoringRules.from_config(load_config(tmp_path))
    assert (rules.base, rules.missing, rules.late) == (90.0, 10.0, 2.0)
    assert (rules.exclude_kinds, rules.separate_kinds, rules.weight("县区"), rules.weight("市直部门")) == (
        ("驻汴单位",), ("县区",), 0.5, 1.0)
    assert (rules.group("县区"), rules.group("市直部门"), rules.group("开发区")) == ("县区", "综合", "综合")


@pytest.mark.parametrize(("line", "message"), [
    ("late = -1", "ducha.toml 的 [scoring] late 应为不小于 0 的数字，如 2"),
    ('exclude_kinds = ["外地单位"]', "ducha.toml 的 [scoring] exclude_kinds 应为单位类型的列表，取自 市直部门、县区、开发区、驻汴单位，"
                                     '如 ["驻汴单位"]'),
    ('weights = { "县区" = "一半" }', 'ducha.toml 的 [scoring] weights 应为 { "单位类型" = 系数 } 的表，系数不小于 0，'
                                     '如 { "驻汴单位" = 0.5 }'),
])
def test_a_wrong_scoring_value_is_named(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "ducha.toml").write_text(f"[scoring]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        ScoringRules.from_config(load_config(tmp_path))
    assert str(caught.value) == message


def _q2_files() -> list:
    """Q2: 商务局 now on time and 顺河区 reports; 发改委 late."""
    return [
        checked(NDRC, "2024-07-01T10:00:00", {1: ("正常推进", 50.0)}, period="2024Q2", path="/drop/q2发改委.xlsx"),
        checked(COMMERCE, "2024-06-20T10:00:00", {2: ("正常推进", 60.0), 3: ("正常推进", 60.0)}, period="2024Q2"),
        checked(LONGTING, "2024-06-20T10:00:00", {3: ("正常推进", 60.0)}, period="2024Q2"),
        checked(SHUNHE, "2024-06-20T10:00:00", {3: ("正常推进", 60.0)}, period="2024Q2"),
    ]


def _q2(tmp_path: Path, rules: ScoringRules | None = None) -> MergedQuarter:
    path = _store(tmp_path, {"2024Q1": _q1_files(), "2024Q2": _q2_files()})
    with open_store(path) as store:
        merged = build_merged(small_ledger(), store.load_period("2024Q2"), Q2, dt.date(2024, 7, 2))
        attach_scores(store, merged, rules or ScoringRules(separate_kinds=()), Deadlines())
    return merged


def test_the_league_ranks_the_quarter_and_adds_up_the_year(tmp_path: Path) -> None:
    league = _q2(tmp_path).league
    assert [tuple(r) for r in league.itertuples(index=False)] == [
        ("综合", 1, COMMERCE, "市直部门", 100.0, 98.0, 2, "上升1位"),
        ("综合", 1, LONGTING, "县区", 100.0, 97.0, 3, "上升2位"),
        ("综合", 1, SHUNHE, "县区", 100.0, 95.0, 4, "上升3位"),
        ("综合", 4, NDRC, "市直部门", 98.0, 97.0, 1, "下降3位"),
    ]


def test_ranked_by_kind_by_default(tmp_path: Path) -> None:
    league = _q2(tmp_path, ScoringRules()).league
    assert [(r.排名组, r.排名, r.单位名称, r.上季度排名, r.名次变化) for r in league.itertuples(index=False)] == [
        ("市直部门", 1, COMMERCE, 2, "上升1位"),
        ("市直部门", 2, NDRC, 1, "下降1位"),
        ("县区", 1, LONGTING, 1, "持平"),
        ("县区", 1, SHUNHE, 2, "上升1位"),
    ]


def test_scores_add_up_from_the_detail_alone(tmp_path: Path) -> None:
    merged = _q2(tmp_path)
    assert recomputed(merged.score_details, "2024Q2") == {
        r.单位名称: (r.本季度得分, r.年度累计得分) for r in merged.league.itertuples(index=False)}
    assert set(merged.score_details["季度"]) == {"2024Q1", "2024Q2"}


def recomputed(detail, period: str) -> dict[str, tuple[float, float]]:
    """Each unit's quarter and year scores from 考评明细 rows only: the quarter's rows summed; the
    year: the quarter's 基础分 plus every other row of the year up to the quarter."""
    found = {}
    rows = [dict(zip(detail.columns, r, strict=True)) for r in detail.itertuples(index=False)]
    for unit in {r["单位名称"] for r in rows if r["季度"] == period}:
        mine = [r for r in rows if r["单位名称"] == unit and r["季度"] <= period]
        now = sum(r["分值"] for r in mine if r["季度"] == period)
        base = sum(r["分值"] for r in mine if r["季度"] == period and r["规则"] == "基础分")
        found[unit] = (round(now, 2), round(base + sum(r["分值"] for r in mine if r["规则"] != "基础分"), 2))
    return found


def test_a_confirmed_untrue_report_costs_points(tmp_path: Path) -> None:
    from toolkit.quarter.verify import Suspect, record_confirmations

    path = _store(tmp_path, {"2024Q1": _q1_files()})
    with open_store(path) as store:
        suspect = Suspect("k1", COMMERCE, 2, next(iter(_patterns())), "进度比上季度低")
        record_confirmations(store, "2024Q1", [suspect], "电话核实", dt.datetime(2024, 4, 2, 9, 0))
        merged = build_merged(small_ledger(), store.load_period("2024Q1"), Q1, dt.date(2024, 4, 3))
        attach_scores(store, merged, ScoringRules(), Deadlines())
    rows = merged.score_details[merged.score_details["规则"] == "填报不实"]
    assert [tuple(r) for r in rows[["单位名称", "分值"]].itertuples(index=False)] == [(COMMERCE, -2.0)]
    assert rows["依据说明"].iloc[0].startswith("第2项填报经核实不实：")
    assert "电话核实" in rows["依据说明"].iloc[0]


def _patterns():
    from toolkit.quarter.verify import PATTERN_LABELS

    return PATTERN_LABELS



def _sheet(book: Path, name: str) -> list[list]:
    return CalamineWorkbook.from_path(str(book)).get_sheet_by_name(name).to_python()


def test_the_summary_book_shows_the_league_and_every_point(tmp_path: Path) -> None:
    book = write_outputs(_q2(tmp_path), tmp_path / "reports", Bureau())[0]
    league, detail = _sheet(book, "考评排名"), _sheet(book, "考评明细")
    assert league[0] == ["排名组", "排名", "单位名称", "类型", "本季度得分", "年度累计得分", "上季度排名", "名次变化"]
    assert league[4] == ["综合", 4, NDRC, "市直部门", 98, 97, 1, "下降3位"]
    assert detail[0] == ["单位名称", "类型", "季度", "规则", "分值", "依据说明"]
    assert [NDRC, "市直部门", "2024Q2", "迟报", -2, "文件 q2发改委.xlsx 于 2024-07-01 收到，截止日为 2024-06-28"] in detail
    frame = pd.DataFrame(detail[1:], columns=detail[0])
    assert recomputed(frame, "2024Q2") == {row[2]: (row[4], row[5]) for row in league[1:]}
    rules = [row[0] for row in _sheet(book, "总览") if str(row[0]).startswith("考评：")]
    assert rules == [ScoringRules(separate_kinds=()).text()]
    assert "同分同名次：市直部门、县区、开发区、驻汴单位合并为“综合”一组排名。" in rules[0]


def test_the_rules_in_words_follow_the_settings() -> None:
    text = ScoringRules(separate_kinds=("县区",), exclude_kinds=("驻汴单位",), weights=(("开发区", 0.5),)).text()
    assert text.startswith("考评：各单位每季度以基础分100分起算，迟报扣2分；截止日后仍未报送扣5分，")
    assert ("开发区扣分乘以0.5；驻汴单位不参加考评；排名按本季度得分由高到低，同分同名次：县区单独排名，"
            "市直部门、开发区合并为“综合”一组排名。") in text


# --- 考评加分 in the master ledger --------------------------------------------------------------


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    shutil.copy(built, workspace / "master_ledger.xlsx")
    return workspace


def _add_bonuses(path: Path, rows: list[list], other: dict[str, object] | None = None) -> None:
    book = openpyxl.load_workbook(path)
    for row in rows:
        book["考评加分"].append(row)
    for ref, value in (other or {}).items():
        book["单位名录"][ref] = value
    book.save(path)


def test_build_writes_an_empty_bonus_sheet_with_its_headers(built: Path) -> None:
    sheet = openpyxl.load_workbook(built)["考评加分"]
    assert [c.value for c in sheet[1]] == ["季度", "单位", "分值", "事由", "依据"]
    assert sheet.max_row == 1
    [points] = [v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith("C")]
    assert (points.type, points.formula1, points.formula2) == ("decimal", "0.01", "100")


def test_the_clerks_bonuses_survive_a_rebuild(ws: Path) -> None:
    path = ws / "master_ledger.xlsx"
    row = ["2024Q1", NDRC, 3, "市长批示肯定", "汴政督〔2024〕5号"]
    _add_bonuses(path, [row])
    data = path.read_bytes()
    assert build_ledger(load_config(ws), now=BUILT).status == "unchanged"
    assert path.read_bytes() == data
    _add_bonuses(path, [], {"F2": "fgw@kaifeng.gov.cn"})  # an edit --force throws away, with a backup
    assert build_ledger(load_config(ws), force=True, now=BUILT).status == "rebuilt"
    assert list(openpyxl.load_workbook(path)["考评加分"].values)[1] == tuple(row)
    assert load_ledger(load_config(ws)).bonuses == [Bonus("2024Q1", NDRC, 3.0, "市长批示肯定", "汴政督〔2024〕5号")]


def test_ledger_check_finds_each_bad_bonus_at_its_cell(ws: Path) -> None:
    path = ws / "master_ledger.xlsx"
    _add_bonuses(path, [["2023Q4", NDRC, 3, "表扬", "文号"], ["2024Q2", "不存在局", "三", "", ""],
                        ["二季度", "各县区", 2, "表扬", ""]])
    report = check_ledger(path, 2024)
    assert [(i.code, str(i.cell), i.message) for i in report.errors] == [
        ("bonus_period_invalid", "A2", "考评加分!A2 季度“2023Q4”不对，请写本年度的季度，如 2024Q1 或 2024年第一季度"),
        ("bonus_unit_invalid", "B3", "考评加分!B3 单位“不存在局”不是单位名录中的单位（分组不能加分），请改为单位名录中的名称"),
        ("bonus_points_invalid", "C3", "考评加分!C3 分值“三”应为大于 0、不超过 100 的数字"),
        ("bonus_reason_empty", "D3", "考评加分!D3 事由为空，请写明加分的理由（如 市长批示肯定……）"),
        ("bonus_unit_invalid", "B4", "考评加分!B4 单位“各县区”不是单位名录中的单位（分组不能加分），请改为单位名录中的名称"),
    ]
    assert [(i.code, str(i.cell)) for i in report.warnings if i.code.startswith("bonus")] == [
        ("bonus_basis_empty", "E3"), ("bonus_basis_empty", "E4")]


def test_the_briefing_names_only_units_that_lost_points_lowest_first(tmp_path: Path) -> None:
    """The 通报 names the units below the base, lowest first; a unit with full marks is never
    listed as "behind" however the ties fall."""
    from toolkit.outputs.briefing.context import briefing_context
    from toolkit.outputs.briefing.render import render_docx, render_markdown, template_dirs

    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path)
    context = briefing_context(_q2(tmp_path, ScoringRules()), None, config, Q2)
    text = render_markdown(context, template_dirs(config))
    expected = f"考评：1个单位被扣分，最低为{NDRC}98分（排名及扣分依据见汇总表）。"
    assert expected in text
    assert SHUNHE not in text.split("考评：")[1].split("\n")[0]
    xml = zipfile.ZipFile(io.BytesIO(render_docx(context, template_dirs(config)))).read("word/document.xml")
    word = re.sub(r"<[^>]+>", "", xml.decode("utf-8")).replace("\u2060", "")
    assert expected in word


def test_the_demo_league_adds_up_from_its_detail(played: tuple[Path, str]) -> None:
    target, out = played
    for period in ("2024Q1", "2024Q2"):
        book = target / "reports" / period / "汇总表.xlsx"
        league, detail = _sheet(book, "考评排名"), _sheet(book, "考评明细")
        scores = recomputed(pd.DataFrame(detail[1:], columns=detail[0]), period)
        assert scores == {row[2]: (row[4], row[5]) for row in league[1:]}
        assert len(scores) == 65
    assert "考评排名（汇总表“考评排名”“考评明细”，2024年第二季度）：" in out
    assert "  得分最低的 市发展改革委（79 分，年度累计 58 分）扣分明细：" in out


def test_doctor_names_a_wrong_scoring_value(tmp_path: Path) -> None:
    from toolkit.doctor import run_doctor

    (tmp_path / "ducha.toml").write_text("[scoring]\nred_task = \"一分\"\n", encoding="utf-8")
    [check] = [c for c in run_doctor(tmp_path / "ducha.toml").checks if c.key == "config"]
    assert (check.status, check.detail) == ("fail", "ducha.toml 的 [scoring] red_task 应为不小于 0 的数字，如 1")


def test_the_briefing_appendix_prints_the_whole_league_with_rank_changes(tmp_path: Path) -> None:
    """The 通报 carries the league itself (附件, Word; a table in HTML and Markdown): every scored
    unit with its group, rank, score, year score and change of rank."""
    from toolkit.outputs.briefing.context import briefing_context
    from toolkit.outputs.briefing.render import render_docx, render_html, render_markdown, template_dirs

    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path)
    merged = _q2(tmp_path, ScoringRules())
    context = briefing_context(merged, None, config, Q2)
    rows = [(r["排名组"], r["排名"], r["单位名称"], r["名次变化"]) for r in merged.league.to_dict("records")]
    assert rows and all(change for *_, change in rows)
    xml = zipfile.ZipFile(io.BytesIO(render_docx(context, template_dirs(config)))).read("word/document.xml")
    word = re.sub(r"(<[^>]+>)+", "|", xml.decode("utf-8")).replace("\u2060", "")
    appendix = word.split("考评排名（按本季度得分，同分同名次；名次变化与上季度比较）")[1]
    for group, rank, unit, change in rows:
        assert f"|{group}|{rank}|{unit}|" in appendix and f"|{change}|" in appendix
    text = render_markdown(context, template_dirs(config))
    html = render_html(context, template_dirs(config))
    for group, rank, unit, change in rows:
        assert f"| {group} | {rank} | {unit} |" in text and f"| {change} |" in text
        assert f"<td>{unit}</td>" in html
