"""A 量化指标 is judged by its kind (issue 11.2) and a group's members all count (issue 11.3).

A growth rate's year-to-date value is compared with the target itself (3.75 against 增长7.5% is
half the rate, red — not "50%, on pace"); an amount with target × 序时进度; an upper bound is on
track while within it; an approximate target within the tolerance of [indicators] in ducha.toml.
When a group (各县区) leads, every member's value is kept and shown, amounts add up, rates do not
unless [indicators] group_rates says so."""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.merge_fixtures import checked, file_records
from toolkit.config import BUNDLED_TEMPLATES, Bureau, load_config
from toolkit.errors import ConfigError
from toolkit.model import Indicator, Ledger, Task, Unit
from toolkit.outputs.briefing.context import briefing_context
from toolkit.outputs.briefing.render import render_markdown
from toolkit.outputs.summary_book import book_bytes
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.rules import IndicatorRules

MIIT, FINANCE, HRSS, NDRC, PBOC = "市工业和信息化局", "市财政局", "市人力资源社会保障局", "市发展改革委", "市金融工作局"
LANKAO, QIXIAN = "兰考县", "杞县"
COUNTIES = "各县区"
HEAD = "一、主要预期目标"
Q2 = Period.parse("2024Q2")
AS_OF = dt.date(2024, 6, 20)

INDICATORS = {
    1: Indicator(1, "规模以上工业增加值增长", 7.5, "%", "≥", "规模以上工业增加值增长7.5%", "增速/比率"),
    2: Indicator(2, "一般公共预算收入增长", 3, "%", "≥", "一般公共预算收入增长3%", "增速/比率"),
    3: Indicator(3, "城镇新增就业", 6.24, "万人", "≥", "城镇新增就业6.24万人", "累计量"),
    4: Indicator(4, "不良贷款率", 5, "%", "≤", "不良贷款率保持在5%以内", "上限"),
    5: Indicator(5, "固定资产投资增长", 8, "%", "≈", "固定资产投资增长8%左右", "约数"),
    6: Indicator(6, "新建公办幼儿园", 12, "所", "≥", "新建公办幼儿园12所", "累计量"),
    7: Indicator(7, "农村生活污水治理率", 37, "%", "≥", "农村生活污水治理率达到37%", "增速/比率"),
}
LEADS = {1: MIIT, 2: FINANCE, 3: HRSS, 4: PBOC, 5: NDRC, 6: COUNTIES, 7: COUNTIES}


def ledger() -> Ledger:
    units = [Unit(u, "市直部门") for u in (MIIT, FINANCE, HRSS, PBOC, NDRC)]
    units += [Unit(LANKAO, "县区", groups=(COUNTIES,)), Unit(QIXIAN, "县区", groups=(COUNTIES,)),
              Unit(COUNTIES, "分组")]
    tasks = [Task(no, HEAD, HEAD if no <= 5 else "（六）城乡融合", ind.source + "。", ("常务副市长",), LEADS[no],
                  LEADS[no]) for no, ind in INDICATORS.items()]
    return Ledger(tasks, units, list(INDICATORS.values()))


def merged(values: dict[str, dict[int, float]], rules: IndicatorRules | None = None,
           period: Period = Q2) -> MergedQuarter:
    """values: {unit: {task no: value}} reported in Q2."""
    files = [checked(unit, "2024-06-15T10:00:00", {}, indicators={(no, INDICATORS[no].name): v
                                                                  for no, v in reported.items()})
             for unit, reported in values.items()]
    return build_merged(ledger(), file_records(*files), period, AS_OF, indicator_rules=rules)


def row(m: MergedQuarter, no: int) -> pd.Series:
    return m.indicators.set_index("任务编号").loc[no]


def judged(m: MergedQuarter, no: int) -> tuple:
    r = row(m, no)
    return r["指标类型"], r["本期应达"], r["完成率(%)"], r["指标灯"]


# --- point 2: the light follows the kind ------------------------------------------------------------


def test_a_growth_rate_half_way_in_q2_is_red_not_on_pace() -> None:
    m = merged({MIIT: {1: 3.75}, FINANCE: {2: 1.5}})
    assert judged(m, 1) == ("增速/比率", "≥7.5", 50.0, "红灯")
    assert judged(m, 2) == ("增速/比率", "≥3", 50.0, "红灯")
    assert judged(merged({MIIT: {1: 7.0}}), 1)[3] == "黄灯"  # short of the rate by less than a quarter
    assert judged(merged({MIIT: {1: 7.6}}), 1)[3] == "绿灯"


@pytest.mark.parametrize(("value", "completion", "expected"),
                         [(3.12, 50.0, "绿灯"), (3.0, 48.1, "黄灯"), (1.5, 24.0, "红灯")])
def test_an_amount_is_compared_with_target_times_pace(value, completion, expected) -> None:
    assert judged(merged({HRSS: {3: value}}), 3) == ("累计量", "≥3.12", completion, expected)


@pytest.mark.parametrize(("value", "completion", "expected"), [(4.8, 100.0, "绿灯"), (5.0, 100.0, "绿灯"),
                                                              (5.5, 90.9, "红灯")])
def test_an_upper_bound_is_on_track_while_within(value, completion, expected) -> None:
    assert judged(merged({PBOC: {4: value}}), 4) == ("上限", "≤5", completion, expected)


def test_an_approximate_target_uses_the_tolerance_from_ducha_toml(tmp_path: Path) -> None:
    assert judged(merged({NDRC: {5: 7.5}}), 5) == ("约数", "7.2–8.8", 93.8, "绿灯")  # default: within 10%
    (tmp_path / "ducha.toml").write_text("[indicators]\napprox_tolerance = 5\n", encoding="utf-8")
    rules = IndicatorRules.from_config(load_config(tmp_path))
    assert judged(merged({NDRC: {5: 7.5}}, rules), 5) == ("约数", "7.6–8.4", 93.8, "黄灯")
    assert judged(merged({NDRC: {5: 5.0}}, rules), 5)[3] == "红灯"  # 37.5% off


@pytest.mark.parametrize("text", ["approx_tolerance = -1", "approx_tolerance = 100", 'group_rates = "sum"'])
def test_bad_indicator_settings_are_refused_by_name(tmp_path: Path, text: str) -> None:
    (tmp_path / "ducha.toml").write_text(f"[indicators]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[indicators\] " + text.split()[0]):
        IndicatorRules.from_config(load_config(tmp_path))


def test_no_value_no_light() -> None:
    kind, required, completion, light = judged(merged({}), 1)
    assert (kind, required, light) == ("增速/比率", "≥7.5", "未亮灯") and pd.isna(completion)


# --- point 3: every member of a lead group counts -----------------------------------------------------


def test_a_group_led_amount_keeps_every_member_and_sums() -> None:
    r = row(merged({LANKAO: {6: 1.0}, QIXIAN: {6: 2.0}}), 6)
    assert (r["牵头单位"], r["最新值"], r["完成率(%)"], r["数据期"]) == (COUNTIES, 3.0, 25.0, "2024Q2")
    assert r["各单位填报"] == "【兰考县】1\n【杞县】2"


def test_a_member_that_has_not_reported_is_named_and_the_sum_is_of_the_rest() -> None:
    r = row(merged({LANKAO: {6: 1.0}}), 6)
    assert (r["最新值"], r["各单位填报"]) == (1.0, "【兰考县】1\n【杞县】未报")


def test_a_group_led_rate_does_not_roll_up_by_default_and_each_member_is_judged() -> None:
    r = row(merged({LANKAO: {7: 38.0}, QIXIAN: {7: 35.0}}), 7)
    assert pd.isna(r["最新值"]) and pd.isna(r["完成率(%)"])
    assert r["各单位填报"] == "【兰考县】38（绿灯）\n【杞县】35（黄灯）"
    assert r["指标灯"] == "黄灯"  # the worst member's


def test_group_rates_mean_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "ducha.toml").write_text('[indicators]\ngroup_rates = "mean"\n', encoding="utf-8")
    rules = IndicatorRules.from_config(load_config(tmp_path))
    r = row(merged({LANKAO: {7: 38.0}, QIXIAN: {7: 35.0}}, rules), 7)
    assert (r["最新值"], r["完成率(%)"], r["指标灯"]) == (36.5, 98.6, "黄灯")
    assert r["各单位填报"] == "【兰考县】38\n【杞县】35"


def test_an_earlier_quarters_member_value_is_used_and_dated() -> None:
    files = [checked(LANKAO, "2024-06-15T10:00:00", {}, indicators={(6, "新建公办幼儿园"): 2.0})]
    earlier = {(QIXIAN, 6, "新建公办幼儿园"): (1.0, "2024Q1")}
    r = build_merged(ledger(), file_records(*files), Q2, AS_OF, earlier).indicators.set_index("任务编号").loc[6]
    assert (r["最新值"], r["数据期"]) == (3.0, "2024Q1、2024Q2")
    assert r["各单位填报"] == "【兰考县】2\n【杞县】1（2024Q1）"


# --- what the leaders read -----------------------------------------------------------------------------


def test_summary_book_shows_kind_light_and_members() -> None:
    m = merged({MIIT: {1: 3.75}, LANKAO: {6: 1.0}, QIXIAN: {6: 2.0}})
    sheet = openpyxl.load_workbook(io.BytesIO(book_bytes(m, Bureau())))["量化指标"]
    header = [c.value for c in sheet[1]]
    assert header == ["任务编号", "指标名称", "指标类型", "目标值", "计量单位", "方向", "牵头单位", "最新值", "数据期",
                      "本期应达", "完成率(%)", "指标灯", "各单位填报", "说明"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert (rows[1]["指标类型"], rows[1]["完成率(%)"], rows[1]["指标灯"]) == ("增速/比率", 50, "红灯")
    assert (rows[6]["最新值"], rows[6]["各单位填报"]) == (3, "【兰考县】1\n【杞县】2")
    rules = [r[0] for r in openpyxl.load_workbook(io.BytesIO(book_bytes(m, Bureau())))["总览"].iter_rows(
        values_only=True) if r[0]]
    assert any(str(text).startswith("量化指标：") and "序时进度" in str(text) for text in rules)


def test_briefing_headline_says_the_kind_and_the_indicators_light(workspace: Path) -> None:
    m = merged({MIIT: {1: 3.75}, HRSS: {3: 3.12}})
    ctx = briefing_context(m, None, load_config(workspace), Q2)
    headline = {r["no"]: r for r in ctx["headline"]}
    assert (headline[1]["kind"], headline[1]["completion"], headline[1]["light"]) == ("增速/比率", "50%", "红灯")
    assert (headline[3]["kind"], headline[3]["light"]) == ("累计量", "绿灯")
    md = render_markdown(ctx, [BUNDLED_TEMPLATES])
    assert "| 序号 | 指标 | 类型 | 目标 | 截至本季度 | 完成率 | 灯 |" in md
    assert "| 1 | 规模以上工业增加值增长7.5% | 增速/比率 | 7.5%以上 | 3.75% | 50% | 红灯 |" in md


def test_the_shipped_ducha_toml_documents_the_defaults() -> None:
    shipped = tomllib.loads((ROOT / "ducha.toml").read_text(encoding="utf-8"))["indicators"]
    assert IndicatorRules(**shipped) == IndicatorRules() == IndicatorRules.from_config(load_config(ROOT))
