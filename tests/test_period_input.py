"""The period and the units as a clerk types them: --period in any usual spelling or left out (the
quarter being worked on, on the bureau's clock, printed), --units with any list separator, and an
unknown unit answered with the closest names in the 单位名录."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.forms_fixtures import small_ledger
from toolkit.cli import base
from toolkit.cli.app import cli
from toolkit.config import Deadlines
from toolkit.forms import generate as generate_module
from toolkit.model import Unit
from toolkit.period import Period, current_period

UTC = dt.UTC


@pytest.mark.parametrize("typed", ["2024Q2", "2024q2", "2024-Q2", "2024 Q2", "2024年Q2", "2024年第二季度",
                                   "2024年二季度", "2024年第2季度", " 2024Q2 ", "２０２４Ｑ２", "２０２４年第二季度"])
def test_every_usual_spelling_of_a_quarter_is_accepted(typed: str) -> None:
    assert Period.parse(typed).key == "2024Q2"


@pytest.mark.parametrize("typed", ["二季度", "第二季度", "2季度", "Q2", "q2", "二季"])
def test_a_quarter_without_a_year_is_this_year(typed: str) -> None:
    assert Period.parse(typed, year=2025).key == "2025Q2"
    with pytest.raises(ValueError, match=f"报告期“{typed}”没有写年份"):
        Period.parse(typed)


@pytest.mark.parametrize("typed", ["2024Q5", "20242", "2024-2", "2024年", "五季度", "2024Q2x", ""])
def test_anything_else_says_which_spellings_work(typed: str) -> None:
    with pytest.raises(ValueError) as raised:
        Period.parse(typed, year=2024)
    assert str(raised.value) == (f"报告期“{typed}”格式不对，可写 2024Q2、2024-Q2、2024年第二季度，"
                                 "或只写 二季度（指今年）")


@pytest.mark.parametrize(("today", "key"), [
    ("2024-01-05", "2023Q4"),  # the Q4 deadline (2023-12-28) passed 8 days ago
    ("2024-03-20", "2024Q1"),
    ("2024-03-28", "2024Q1"),  # the deadline day itself
    ("2024-03-30", "2024Q1"),  # two days late: the final merge, the briefing, late files
    ("2024-05-12", "2024Q1"),  # 45 days after the Q1 deadline, 47 before Q2's
    ("2024-05-13", "2024Q2"),  # halfway (46 / 46): the coming deadline
    ("2024-06-07", "2024Q2"),  # the day the Q2 workbooks go out
    ("2024-12-30", "2024Q4"),
    ("2025-02-15", "2025Q1"),
])
def test_left_out_the_period_is_the_quarter_whose_deadline_is_nearest(today: str, key: str) -> None:
    assert current_period(dt.date.fromisoformat(today)).key == key


def test_a_moved_deadline_moves_the_default() -> None:
    deadlines = Deadlines(overrides={"2024Q1": dt.date(2024, 4, 10)})
    assert current_period(dt.date(2024, 4, 8), deadlines) == Period.parse("2024Q1", deadlines)
    assert current_period(dt.date(2024, 4, 8), deadlines).deadline == dt.date(2024, 4, 10)


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose ledger is small_ledger() plus 市财政局."""
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    ledger = small_ledger()
    ledger = dataclasses.replace(ledger, units=[*ledger.units, Unit("市财政局", "市直部门")])
    monkeypatch.setattr(generate_module, "load_ledger", lambda config: ledger)
    return tmp_path


def at(monkeypatch: pytest.MonkeyPatch, moment: dt.datetime) -> None:
    """Make the command line's clock read `moment` (an aware time)."""
    monkeypatch.setattr(base, "clock", lambda: moment)


def run(ws: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(ws), *args], prog_name="ducha")
    return result.exit_code, result.stdout, result.stderr


def test_generate_without_period_takes_the_nearest_quarter_and_says_so(ws, monkeypatch) -> None:
    at(monkeypatch, dt.datetime(2024, 3, 30, 2, 0, tzinfo=UTC))
    code, out, err = run(ws, "generate", "--units", "杞县", "--json")
    assert code == 0, err
    assert json.loads(out)["period"] == "2024Q1"  # stdout stays pure JSON
    assert err == "未指定 --period，按 2024年第一季度（2024Q1）处理：截止 2024年3月28日，已过 2 天\n"
    assert (ws / "outbox" / "2024Q1" / "2024Q1_杞县.xlsx").exists()


def test_the_default_quarter_is_read_on_the_bureaus_clock(ws, monkeypatch) -> None:
    # 2024-05-12 20:00 UTC is 2024-05-13 04:00 in 开封: halfway between the deadlines, so Q2.
    at(monkeypatch, dt.datetime(2024, 5, 12, 20, 0, tzinfo=UTC))
    code, _out, err = run(ws, "generate", "--units", "杞县")
    assert code == 0, err
    assert err == "未指定 --period，按 2024年第二季度（2024Q2）处理：截止 2024年6月28日，还有 46 天\n"
    (ws / "ducha.toml").write_text('[bureau]\ntimezone = "UTC"\n', encoding="utf-8")
    code, _out, err = run(ws, "generate", "--units", "杞县")
    assert err.startswith("未指定 --period，按 2024年第一季度（2024Q1）处理：截止 2024年3月28日，已过 45 天")


def test_the_deadline_day_says_today(ws, monkeypatch) -> None:
    at(monkeypatch, dt.datetime(2024, 6, 28, 1, 0, tzinfo=UTC))
    code, _out, err = run(ws, "generate", "--units", "杞县")
    assert code == 0
    assert err == "未指定 --period，按 2024年第二季度（2024Q2）处理：截止 2024年6月28日，就是今天\n"


def test_a_quarter_without_year_is_this_year_on_the_bureaus_clock(ws, monkeypatch) -> None:
    # New Year's Eve 20:00 UTC is already 2025 in 开封.
    at(monkeypatch, dt.datetime(2024, 12, 31, 20, 0, tzinfo=UTC))
    code, out, err = run(ws, "generate", "--period", "二季度", "--units", "杞县", "--json")
    assert code == 0, err
    assert json.loads(out)["period"] == "2025Q2"
    assert err == ""  # a period typed is not announced


def test_chinese_spelling_on_the_command_line(ws) -> None:
    code, out, _err = run(ws, "generate", "--period", "2024年第一季度", "--units", "杞县", "--json")
    assert code == 0
    assert json.loads(out)["period"] == "2024Q1"


def test_units_accept_every_list_separator(ws) -> None:
    code, out, err = run(ws, "generate", "--period", "2024Q1", "--json",
                         "--units", "市发改委、杞县，兰考县,市人社局;市统计局； 市住房城乡建设局")
    assert code == 0, err
    assert [w["unit"] for w in json.loads(out)["workbooks"]] == [
        "市发展改革委", "市统计局", "市人社局", "市住房和城乡建设局", "兰考县", "杞县"]


def test_an_unknown_unit_is_a_usage_error_suggesting_the_closest_names(ws) -> None:
    code, out, err = run(ws, "generate", "--period", "2024Q1", "--units", "市财政厅、杞县、某某局")
    assert code == 2
    assert out == ""
    assert err == (
        "用法：ducha generate [选项]\n"
        "运行 ducha generate -h 查看帮助。\n"
        "\n"
        "错误：总台账“单位名录”中没有这些单位：市财政厅（是不是“市财政局”？）、某某局。"
        "请检查拼写（可用单位名称、别名或分组名）。\n"
    )
    assert not (ws / "outbox").exists()


def test_an_alias_is_suggested_as_written(ws) -> None:
    code, _out, err = run(ws, "generate", "--period", "2024Q1", "--units", "市发改局")
    assert code == 2
    assert "市发改局（是不是“市发改委”？）" in err
