"""Working days on the official calendar (chinese-calendar): no mail goes out on a weekend or a
holiday, and a deadline on a day off follows [deadlines] holiday_rule in every output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit import workdays
from toolkit.cli.app import cli
from toolkit.config import Deadlines, load_config
from toolkit.errors import ConfigError
from toolkit.period import Period
from toolkit.routine import GENERATE, RECEIPTS, REMIND, SEND, calendar

D = dt.date
MAIL_KINDS = (GENERATE, SEND, REMIND, RECEIPTS)


def test_the_official_calendar_knows_holidays_and_swapped_working_days():
    assert not workdays.is_workday(D(2024, 9, 28))  # a Saturday, not swapped in 2024
    assert workdays.is_workday(D(2024, 9, 29))  # a Sunday worked for 国庆 (调休)
    assert not workdays.is_workday(D(2024, 10, 1))  # 国庆
    assert not workdays.is_workday(D(2025, 1, 28))  # 春节 on a Tuesday
    assert workdays.is_workday(D(2025, 9, 28))  # a Sunday worked for 国庆
    assert workdays.previous_workday(D(2024, 10, 5)) == D(2024, 9, 30)
    assert workdays.next_workday(D(2025, 1, 28)) == D(2025, 2, 5)
    assert workdays.previous_workday(D(2025, 1, 28)) == D(2025, 1, 27)
    assert workdays.is_workday(D(2025, 1, 26))  # a Sunday worked for 春节


def test_a_year_the_calendar_does_not_know_falls_back_to_weekends():
    assert workdays.covered(2026) and not workdays.covered(2031)
    assert workdays.is_workday(D(2031, 1, 1))  # New Year's Day, unknown: only weekends are off
    assert not workdays.is_workday(D(2031, 1, 4))  # a Saturday
    assert workdays.previous_workday(D(2031, 1, 5)) == D(2031, 1, 3)


@pytest.mark.parametrize(("key", "rule", "deadline"), [
    ("2024Q4", "keep", D(2024, 12, 28)),  # a Saturday
    ("2024Q4", "previous_workday", D(2024, 12, 27)),
    ("2024Q4", "next_workday", D(2024, 12, 30)),
    ("2024Q3", "next_workday", D(2024, 9, 29)),  # the next working day is a swapped Sunday
    ("2025Q2", "previous_workday", D(2025, 6, 27)),
    ("2025Q3", "previous_workday", D(2025, 9, 28)),  # a Sunday, but a working day: kept
    ("2024Q1", "next_workday", D(2024, 3, 28)),  # a Thursday
])
def test_a_deadline_on_a_day_off_follows_the_rule(key, rule, deadline):
    period = Period.parse(key, Deadlines(holiday_rule=rule))
    assert period.deadline == deadline
    assert period.deadline_label == f"{deadline.year}年{deadline.month}月{deadline.day}日"


def test_a_deadline_set_by_hand_is_never_moved():
    deadlines = Deadlines(overrides={"2024Q4": D(2024, 12, 29)}, holiday_rule="next_workday")
    assert Period.parse("2024Q4", deadlines).deadline == D(2024, 12, 29)


def test_the_rule_is_read_from_ducha_toml(tmp_path: Path):
    (tmp_path / "ducha.toml").write_text('[deadlines]\nholiday_rule = "previous_workday"\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert config.deadlines.holiday_rule == "previous_workday" and config.deadlines.overrides == {}
    assert load_config(tmp_path / "none").deadlines.holiday_rule == "keep"  # the documented default
    (tmp_path / "ducha.toml").write_text('[deadlines]\nholiday_rule = "顺延"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="holiday_rule 应为 keep、previous_workday、next_workday 之一"):
        load_config(tmp_path)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_no_mail_action_falls_on_a_day_off(tmp_path: Path, year: int):
    (tmp_path / "ducha.toml").write_text("[schedule]\nremind = [7, 3, 1, -2]\nmerge_from = 10\n", encoding="utf-8")
    actions = calendar(load_config(tmp_path), year)
    assert [a for a in actions if a.kind in MAIL_KINDS and not workdays.is_workday(a.day)] == []
    assert {a.kind for a in actions} >= set(MAIL_KINDS)


def test_a_send_day_in_national_day_moves_to_the_working_day_before(tmp_path: Path):
    # 2024Q4's deadline (12-28) less 88 days is 10-01; less 84, 10-05: both in 国庆
    (tmp_path / "ducha.toml").write_text("[schedule]\nsend = 88\nremind = [84, 1]\n", encoding="utf-8")
    q4 = [a for a in calendar(load_config(tmp_path), 2024) if a.period == "2024Q4"]
    assert {(a.kind, a.day) for a in q4 if a.kind in (GENERATE, SEND)} == {(GENERATE, D(2024, 9, 30)),
                                                                          (SEND, D(2024, 9, 30))}
    assert [a.day for a in q4 if a.kind == REMIND] == [D(2024, 9, 30), D(2024, 12, 27)]


def test_a_reminder_moved_before_the_daily_merges_still_follows_a_merge(tmp_path: Path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    q3 = [(a.day, a.kind) for a in calendar(load_config(tmp_path), 2024) if a.period == "2024Q3"]
    # D-7 is Saturday 21 September: reminded on Friday, after that morning's merge
    assert q3[2:5] == [(D(2024, 9, 20), "merge"), (D(2024, 9, 20), "receipts"), (D(2024, 9, 20), REMIND)]


def test_receipts_of_a_weekend_merge_wait_for_the_next_working_day(tmp_path: Path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    q4 = [a for a in calendar(load_config(tmp_path), 2024) if a.period == "2024Q4"]
    merges = {a.day for a in q4 if a.kind == "merge"}
    assert D(2024, 12, 22) in merges  # merging goes on every day: it sends nothing
    receipts = sorted({a.day for a in q4 if a.kind == RECEIPTS})
    assert D(2024, 12, 22) not in receipts and D(2024, 12, 23) in receipts


def test_the_calendar_says_when_a_year_is_not_in_the_official_calendar(tmp_path: Path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path), "calendar", "--year", "2031"], prog_name="ducha")
    assert result.exit_code == 0, result.output
    assert ("注意：2031年的法定节假日和调休安排尚未收录（chinese-calendar 收录 2004—2026 年），本年只避开周六、周日；"
            "请升级 chinese-calendar 后再看日程") in result.output
    known = CliRunner().invoke(cli, ["--config", str(tmp_path), "calendar", "--year", "2025"], prog_name="ducha")
    assert "尚未收录" not in known.output


def test_doctor_warns_when_the_bureau_year_is_not_in_the_official_calendar(tmp_path: Path):
    from toolkit.doctor import run_doctor

    (tmp_path / "ducha.toml").write_text("[bureau]\nyear = 2031\n", encoding="utf-8")
    [check] = [c for c in run_doctor(tmp_path).checks if c.key == "calendar"]
    assert (check.status, check.detail) == ("warn", "2031年的法定节假日和调休安排尚未收录（chinese-calendar 收录 2004—2026 年），"
                                                    "日程只避开周六、周日")
    (tmp_path / "ducha.toml").write_text("[bureau]\nyear = 2025\n", encoding="utf-8")
    assert "calendar" not in [c.key for c in run_doctor(tmp_path).checks]
