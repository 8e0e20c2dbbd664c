"""疑似不实 (issue 16): the five patterns in a constructed two-quarter store, nothing in the demo's
honest first quarter, and the clerk's confirmation from the command line to 汇总表 and the score."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, checked, small_ledger
from toolkit.cli.app import cli
from toolkit.forms import layout
from toolkit.model import CheckedFile, Ledger, Request
from toolkit.outputs.summary_book import book_bytes
from toolkit.period import Period
from toolkit.quarter import verify
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.store import Store, open_store

Q1, Q2 = Period.parse("2024Q1"), Period.parse("2024Q2")
PASTED = "召开专题会议三次，协调解决项目用地和资金问题，完成阶段目标。"


def _file(unit: str, period: Period, answers: dict[int, tuple[str, float, str]],
          indicators: dict[tuple[int, str], float] | None = None) -> CheckedFile:
    """A unit's accepted file for the period; answers: task no → (status, progress, 完成情况)."""
    received = f"{period.deadline - dt.timedelta(days=5)}T10:00:00"
    file = checked(unit, received, {no: (s, p) for no, (s, p, _) in answers.items()}, indicators=indicators,
                   period=period.key)
    file.tasks = [dataclasses.replace(t, done=answers[t.task_no][2]) for t in file.tasks]
    return file


def _quarter(store: Store, ledger: Ledger, period: Period, files: list[CheckedFile]) -> MergedQuarter:
    """Record the files as a merge does and decide their verdicts; the quarter as merged."""
    for f in files:
        store.record(f, period.key, "/archive")
    merged = build_merged(ledger, store.load_period(period.key), period, period.deadline + dt.timedelta(days=3))
    store.set_verdicts(period.key, {f.sha256: f.verdict for f in merged.files})
    return merged


# Q1: honest answers. Q2: 发改委's task 1 falls back (A) and both its tasks carry one pasted
# paragraph (E); 商务局 jumps from 30 % to 已完成 on task 2 (B) and calls task 3 已完成 with its
# 促消费活动 at 60 of 100 场 (D); 龙亭区 sends last quarter's words again (C). The rest is ordinary:
# 80 % → 100 % is no jump, and the short 按计划推进 on several tasks is not compared.
FIRST = [
    _file(NDRC, Q1, {1: ("正常推进", 60, "经济运行监测分析季度报告已形成，主要指标平稳。"),
                     2: ("正常推进", 40, "配合开展消费券发放工作，第一批已发放完毕。")}),
    _file(COMMERCE, Q1, {2: ("正常推进", 30, "按计划推进"), 3: ("正常推进", 80, "按计划推进")}),
    _file(LONGTING, Q1, {3: ("正常推进", 50, "组织辖区商户开展春季促消费活动五场。")}),
]
SECOND = [
    _file(NDRC, Q2, {1: ("正常推进", 50, PASTED), 2: ("正常推进", 70, f" {PASTED}\n")}),
    _file(COMMERCE, Q2, {2: ("已完成", 100, "按计划推进"), 3: ("已完成", 100, "按计划推进")},
          indicators={(3, "促消费活动"): 60}),
    _file(LONGTING, Q2, {3: ("正常推进", 60, "组织辖区商户开展春季促消费活动五场。 ")}),
]


@pytest.fixture
def two_quarters(tmp_path: Path):
    ledger = small_ledger()
    with open_store(tmp_path / "ducha.sqlite") as store:
        _quarter(store, ledger, Q1, FIRST)
        yield store, _quarter(store, ledger, Q2, SECOND)


def test_each_of_the_five_patterns_is_caught_and_says_why(two_quarters) -> None:
    store, merged = two_quarters
    found = verify.suspects_of(store, merged)
    assert [(s.unit, s.task_no, s.label, s.reason) for s in found] == [
        (NDRC, 1, "进度低于上季度", "本季度完成进度50%，低于2024Q1已采用报告的60%"),
        (NDRC, 1, "多项任务填报相同内容", f"与本单位第2项的完成情况完全相同：“{PASTED[:40]}”"),
        (NDRC, 2, "多项任务填报相同内容", f"与本单位第1项的完成情况完全相同：“{PASTED[:40]}”"),
        (COMMERCE, 2, "跃升至100%无佐证材料",
         "2024Q1完成进度30%，本季度报“已完成”100%，一个季度提高70个百分点，未见佐证材料"),
        (COMMERCE, 3, "已完成但指标未达目标", "报“已完成”，但“促消费活动”最新值60场，目标≥100场"),
        (LONGTING, 3, "完成情况与上季度相同", "本季度完成情况与2024Q1一字不差：“组织辖区商户开展春季促消费活动五场。”"),
    ]


def test_keys_are_stable_and_distinct(two_quarters) -> None:
    store, merged = two_quarters
    keys = [s.key for s in verify.suspects_of(store, merged)]
    assert keys == [s.key for s in verify.suspects_of(store, merged)]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[A-E]\d+-[0-9a-f]{4}", k) for k in keys)
    assert keys[0].startswith("A1-") and keys[3].startswith("B2-")


def test_a_first_quarter_has_nothing_to_compare_with(tmp_path: Path) -> None:
    with open_store(tmp_path / "ducha.sqlite") as store:
        merged = _quarter(store, small_ledger(), Q1, FIRST)
        assert verify.suspects_of(store, merged) == []


def test_a_finished_task_may_say_the_same_again(tmp_path: Path) -> None:
    words = "项目已全面建成并通过竣工验收，投入使用。"
    with open_store(tmp_path / "ducha.sqlite") as store:
        _quarter(store, small_ledger(), Q1, [_file(LONGTING, Q1, {3: ("已完成", 100, words)})])
        merged = _quarter(store, small_ledger(), Q2, [_file(LONGTING, Q2, {3: ("已完成", 100, words)})])
        assert verify.suspects_of(store, merged) == []


def test_a_jump_with_evidence_named_is_not_listed(tmp_path: Path) -> None:
    closing = Request(layout.REQUEST_CLOSE, "", "已通过验收", ("验收报告.pdf",))
    jumped = _file(COMMERCE, Q2, {2: ("已完成", 100, "按计划推进"), 3: ("正常推进", 90, "按计划推进")})
    with open_store(tmp_path / "ducha.sqlite") as store:
        _quarter(store, small_ledger(), Q1, [FIRST[1]])
        merged = _quarter(store, small_ledger(), Q2, [jumped])
        assert [s.label for s in verify.suspects_of(store, merged)] == ["跃升至100%无佐证材料"]
        jumped.tasks = [dataclasses.replace(t, request=closing) if t.task_no == 2 else t for t in jumped.tasks]
        jumped.received, jumped.sha256 = "2024-06-27T10:00:00", "f" * 64
        merged = _quarter(store, small_ledger(), Q2, [jumped])
        assert verify.suspects_of(store, merged) == []


def _sheet(merged: MergedQuarter) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(book_bytes(merged, merged_bureau())), read_only=True)
    return [tuple(r) for r in wb["疑似不实"].iter_rows(values_only=True)]


def merged_bureau():
    from toolkit.config import Bureau

    return Bureau()


def test_confirmations_show_in_the_sheet_and_count(two_quarters) -> None:
    store, merged = two_quarters
    drop, jump = verify.suspects_of(store, merged)[0], verify.suspects_of(store, merged)[3]
    merged.suspects = verify.suspect_frame(store, merged)
    rows = _sheet(merged)
    assert rows[0] == ("编号", "单位", "任务编号", "疑点类型", "疑点说明", "核实结果", "核实说明")
    assert [r[5] for r in rows[1:]] == ["待核实"] * 6

    when = dt.datetime(2024, 7, 3, 15, 30)
    new, before = verify.record_confirmations(store, Q2.key, [jump], "电话核实，项目尚未验收", when)
    assert (new, before) == ([jump], [])
    assert verify.record_confirmations(store, Q2.key, [jump, drop], "", when) == ([drop], [jump])
    assert verify.confirmed_untrue(store, Q2.key) == sorted([
        (NDRC, 1, "进度低于上季度：本季度完成进度50%，低于2024Q1已采用报告的60%"),
        (COMMERCE, 2, "跃升至100%无佐证材料：2024Q1完成进度30%，本季度报“已完成”100%，一个季度提高70个百分点，"
                      "未见佐证材料（核实：电话核实，项目尚未验收）"),
    ], key=lambda r: [drop, jump][r[0] == COMMERCE].key)
    assert verify.confirmed_untrue(store, Q1.key) == []

    merged.suspects = verify.suspect_frame(store, merged)
    rows = _sheet(merged)
    assert rows[4][:3] == (jump.key, COMMERCE, 2)
    assert rows[4][5:] == ("确认不实", "2024-07-03 15:30 确认：电话核实，项目尚未验收")
    assert [r[5] for r in rows[1:]].count("确认不实") == 2


def test_a_confirmed_line_the_unit_later_corrected_still_counts(two_quarters, tmp_path: Path) -> None:
    store, merged = two_quarters
    jump = verify.suspects_of(store, merged)[3]
    verify.record_confirmations(store, Q2.key, [jump], "", dt.datetime(2024, 7, 3, 9, 0))
    corrected = _file(COMMERCE, Q2, {2: ("正常推进", 55, "按计划推进"), 3: ("正常推进", 90, "按计划推进")})
    corrected.received = "2024-06-30T10:00:00"
    merged = _quarter(store, small_ledger(), Q2, [corrected])
    assert jump.key not in [s.key for s in verify.suspects_of(store, merged)]
    frame = verify.suspect_frame(store, merged)
    row = frame[frame["编号"] == jump.key].iloc[0]
    assert (row["核实结果"], row["核实说明"]) == ("确认不实", "2024-07-03 09:00 确认（本季度后来的报送已无此疑点）")
    assert [r[0] for r in verify.confirmed_untrue(store, Q2.key)] == [COMMERCE]


# --- the demo: an honest first quarter, three units that answer suspiciously in the second ----------


def test_the_demo_flags_nothing_in_its_honest_first_quarter(played) -> None:
    from toolkit.config import load_config
    from toolkit.quarter.verification import suspect_list

    target, printed = played
    config = load_config(target)
    assert suspect_list(config, Q1).empty
    second = suspect_list(config, Q2)
    assert set(second["疑点类型"]) == set(verify.PATTERN_LABELS.values())
    assert second["单位"].nunique() == 3  # the three units demo/suspects.py makes answer so
    assert "  2024年第二季度疑似不实的填报 7 条（待核实 7 条），请电话或实地核实：" in printed
    assert "  再次汇总后，汇总表“疑似不实”：确认不实 1 条，待核实 6 条" in printed


def test_the_clerk_confirms_on_the_command_line_and_the_next_merge_shows_it(played, tmp_path: Path) -> None:
    target = tmp_path / "ws"
    shutil.copytree(played[0], target)
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", str(target), "verify", "list", "--period", "2024Q2", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)["suspects"]
    drop = next(r for r in rows if r["疑点类型"] == "进度低于上季度")
    assert drop["核实结果"] == "待核实"

    wrong = runner.invoke(cli, ["--config", str(target), "verify", "confirm", "--period", "2024Q2", "Z9-0000"])
    assert wrong.exit_code == 2 and "2024年第二季度没有编号为 Z9-0000 的疑似不实填报" in wrong.output

    done = runner.invoke(cli, ["--config", str(target), "verify", "confirm", "--period", "2024Q2",
                               drop["编号"].lower(), "--note", "实地核查，进度未倒退，系填错"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == f"已确认不实：{drop['编号']}  {drop['单位']}  第{drop['任务编号']}项  进度低于上季度"
    again = runner.invoke(cli, ["--config", str(target), "verify", "confirm", "--period", "2024Q2", drop["编号"]])
    assert again.output.splitlines()[0] == f"此前已确认，未改动：{drop['编号']}  {drop['单位']}  第{drop['任务编号']}项"

    merged = runner.invoke(cli, ["--config", str(target), "merge", "--period", "2024Q2"])
    assert merged.exit_code == 0, merged.output
    wb = openpyxl.load_workbook(target / "reports" / "2024Q2" / "汇总表.xlsx", read_only=True)
    sheet = {r[0]: r for r in wb["疑似不实"].iter_rows(min_row=2, values_only=True)}
    assert sheet[drop["编号"]][5] == "确认不实"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d 确认：实地核查，进度未倒退，系填错", sheet[drop["编号"]][6])
    with open_store(target / "ducha.db") as store:
        untrue = verify.confirmed_untrue(store, "2024Q2")
    assert (drop["单位"], drop["任务编号"], f"进度低于上季度：{drop['疑点说明']}（核实：实地核查，进度未倒退，系填错）") in untrue
    assert len(untrue) == 2  # and the demo's own confirmation
