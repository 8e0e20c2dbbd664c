"""The routine's calendar and the scheduler: a simulated year walked day by day with
`ducha schedule --once --now`, a computer switched off for three weeks in the middle, and every
action done exactly once, on its day (or on the first day back)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE
from tests.smtp_fixtures import ADDRESSES, mail_ledger, smtp_server, use_ledger, write_config
from toolkit import routine
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo.unitsim import fill
from toolkit.errors import ConfigError
from toolkit.model import Ledger
from toolkit.period import Period
from toolkit.quarter.history import mails_of, schedule_runs
from toolkit.quarter.store import open_store


def reachable_ledger() -> Ledger:
    """The mail ledger with a valid 邮箱 for 顺河区 too: every mail action can finish (a unit
    without one keeps it pending, see test_routine_retry)."""
    ledger = mail_ledger()
    ledger.units = [dataclasses.replace(u, email=SHUNHE_ADDRESS) if u.name == SHUNHE else u for u in ledger.units]
    return ledger


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(n) for n in range((end - start).days + 1)]


SHUNHE_ADDRESS = "sh@kaifeng.example.cn"


def plan(actions: list[routine.Action], period: str) -> list[tuple[str, str, str]]:
    return [(a.day.isoformat(), a.kind, a.tag) for a in actions if a.period == period]


# --- the calendar (pure) -------------------------------------------------------------------------


def test_calendar_of_a_quarter(tmp_path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    actions = routine.calendar(load_config(tmp_path), 2024)
    q1 = plan(actions, "2024Q1")
    assert q1[:5] == [
        ("2024-03-07", "generate", "D-21"),
        ("2024-03-07", "send", "D-21"),
        ("2024-03-21", "merge", "D-7"),
        ("2024-03-21", "receipts", "D-7"),
        ("2024-03-21", "remind", "D-7"),
    ]
    assert [d for d, kind, _ in q1 if kind == "merge"] == [f"2024-03-{d}" for d in range(21, 30)]
    assert [(d, t) for d, kind, t in q1 if kind == "remind"] == [("2024-03-21", "D-7"), ("2024-03-27", "D-1")]
    assert q1[-3:] == [("2024-03-29", "merge", "final"), ("2024-03-29", "receipts", "final"),
                       ("2024-03-29", "briefing", "D+1")]
    # 23–24 March is a weekend: those merges' receipts go with Monday's (tests/test_workdays.py)
    assert [(d, t) for d, kind, t in q1 if kind == "receipts"] == [
        ("2024-03-21", "D-7"), ("2024-03-22", "D-6"), ("2024-03-25", "D-3"), ("2024-03-26", "D-2"),
        ("2024-03-27", "D-1"), ("2024-03-28", "D"), ("2024-03-29", "final")]
    assert plan(actions, "2024Q4")[0] == ("2024-12-06", "generate", "D-21")  # 7 December is a Saturday


def test_schedule_section_and_deadline_overrides_move_the_plan(tmp_path):
    (tmp_path / "ducha.toml").write_text(
        '[deadlines]\n"2024Q1" = "2024-03-29"\n'
        '[schedule]\ntime = "08:30"\nsend = 14\nremind = [3, -2]\nmerge_from = 2\nfinal = 2\nbriefing = 3\n'
        "receipts = false\n",
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert routine.offsets_from(config).time == dt.time(8, 30)
    assert plan(routine.calendar(config, 2024), "2024Q1") == [
        ("2024-03-15", "generate", "D-14"),
        ("2024-03-15", "send", "D-14"),
        ("2024-03-26", "merge", "D-3"),  # a reminder's day is merged first: no reminder to a unit that answered
        ("2024-03-26", "remind", "D-3"),
        ("2024-03-27", "merge", "D-2"),
        ("2024-03-28", "merge", "D-1"),
        ("2024-03-29", "merge", "D"),
        ("2024-03-30", "merge", "D+1"),
        ("2024-03-31", "merge", "final"),
        ("2024-04-01", "remind", "D+2"),  # overdue, due on a Sunday: the working day after
        ("2024-04-01", "briefing", "D+3"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('time = "9点"', "time 应为 24 小时制时刻"),
        ('remind = "7"', "remind 应为整数列表"),
        ("send = 0", "天数不合理"),
        ("briefing = 0\nfinal = 1", "briefing 不早于 final"),
        ("sned = 21", "未知配置项：sned"),
        ("receipts = 1", "receipts 类型不对"),
    ],
)
def test_bad_schedule_settings_are_named(tmp_path, text, message):
    (tmp_path / "ducha.toml").write_text(f"[schedule]\n{text}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        routine.offsets_from(load_config(tmp_path))


def test_due_actions_catch_up_once_and_never_the_stale_ones():
    offsets = routine.Offsets()
    due = routine.due_actions(2024, dt.date(2024, 3, 25), set(), offsets)
    assert [(a.day.day, a.kind, a.tag, bool(a.skip)) for a in due] == [
        (7, "generate", "D-21", False),
        (7, "send", "D-21", False),
        (21, "merge", "D-7", True),
        (21, "receipts", "D-7", True),
        (21, "remind", "D-7", False),  # the only reminder due: sent now, worded for 3 days left
        (22, "merge", "D-6", True),
        (22, "receipts", "D-6", True),
        (23, "merge", "D-5", True),  # a weekend: merged, no receipts sent
        (24, "merge", "D-4", True),
        (25, "merge", "D-3", False),
        (25, "receipts", "D-3", False),
    ]
    assert due[2].skip == "已由 2024-03-25 的同类任务取代"
    done = {a.key for a in due}
    assert routine.due_actions(2024, dt.date(2024, 3, 25), done, offsets) == []
    # Started for the first time in July: no first-quarter mail, no stale reminders; the second
    # quarter's final merge, its receipts and the briefing are still worth doing.
    july = routine.due_actions(2024, dt.date(2024, 7, 1), set(), offsets)
    assert {a.period for a in july} == {"2024Q2"}
    assert [(a.kind, a.tag) for a in july if not a.skip] == [("merge", "final"), ("briefing", "D+1"),
                                                            ("receipts", "final")]  # 6-29: a Saturday


def test_now_is_read_in_asia_shanghai_by_default(tmp_path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    bureau = load_config(tmp_path).bureau
    utc_evening = dt.datetime(2024, 3, 6, 17, 0, tzinfo=dt.UTC)  # 01:00 on 7 March in 开封
    assert bureau.local(utc_evening) == dt.datetime(2024, 3, 7, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert bureau.local(dt.datetime(2024, 3, 6, 23, 59)).date() == dt.date(2024, 3, 6)


def test_cli_calendar(tmp_path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(cli, ["--config", str(tmp_path), "calendar", "--year", "2024"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[:3] == [
        "2024Q1（2024年第一季度，截止 2024年3月28日）：",
        "  2024-03-07 周四（截止前21天）  生成填报表、下发填报表",
        "  2024-03-21 周四（截止前7天）  汇总、发送回执、催报",
    ]
    assert "  2024-03-29 周五（截止后1天）  最终汇总、发送回执、生成通报" in lines
    assert lines[-1].startswith("每天 09:00（北京时间）检查一次")
    data = json.loads(runner.invoke(cli, ["--config", str(tmp_path), "calendar", "--json"]).output)
    assert data[0] == {
        "day": "2024-03-07", "period": "2024Q1", "kind": "generate", "tag": "D-21",
        "key": "2024Q1/generate/D-21", "label": "2024Q1 生成填报表（截止前21天）", "skip": "",
    }
    assert runner.invoke(cli, ["--config", str(tmp_path), "schedule", "--now", "2024-03-07"]).exit_code == 2


def test_tick_time_on_this_computers_clock():
    offsets = routine.Offsets(time=dt.time(9, 0))
    shanghai = ZoneInfo("Asia/Shanghai")
    expected = dt.datetime(2024, 3, 7, 9, 0, tzinfo=shanghai).astimezone().strftime("%H:%M")
    assert routine.local_tick_time(offsets, shanghai, dt.date(2024, 3, 7)) == expected


# --- a year, day by day --------------------------------------------------------------------------

OFF = (dt.date(2024, 6, 5), dt.date(2024, 6, 23))  # the PC is off; back on 24 June
BACK = dt.date(2024, 6, 24)


def unit_returns(config, day: dt.date, returned: set[str]) -> None:  # noqa: ANN001
    """What the units do that morning: 市商务局 returns a good workbook on the 20th of each
    deadline month, or as soon as it has one; 市发展改革委 returns a wrong one on 25 March; 龙亭区
    never answers. The mail keeps arriving while the bureau's PC is off."""
    if day.month % 3 or day.day < 20 or day.year != 2024:
        return
    period = Period.parse(f"2024Q{day.month // 3}")

    def drop(unit: str, name: str, mutate: tuple[str, ...] = ()) -> None:
        source = config.paths.outbox / period.key / f"{period.key}_{unit}.xlsx"
        target = fill(source, config.paths.drop / name, mutate=mutate)
        stamp = dt.datetime.combine(day, dt.time(8)).timestamp()
        os.utime(target, (stamp, stamp))  # received that morning

    workbook = config.paths.outbox / period.key / f"{period.key}_{COMMERCE}.xlsx"
    if period.key not in returned and workbook.exists():
        returned.add(period.key)
        drop(COMMERCE, f"商务局{day.month}月.xlsx")
    if day == dt.date(2024, 3, 25):
        drop(NDRC, "发改委报表(1).xlsx", ("progress_120",))


def test_a_year_day_by_day_with_a_restart_does_every_action_once_on_its_day(tmp_path, monkeypatch):
    use_ledger(monkeypatch, reachable_ledger())
    done_on: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        config.paths.drop.mkdir()
        root = ["--config", str(tmp_path)]
        runner = CliRunner()
        returned: set[str] = set()
        for day in days(dt.date(2024, 1, 1), dt.date(2025, 1, 10)):
            unit_returns(config, day, returned)
            if OFF[0] <= day <= OFF[1]:
                continue
            if day == BACK:
                runner = CliRunner()  # restarted: nothing carries over but the workspace
            result = runner.invoke(cli, [*root, "schedule", "--once", "--now", f"{day}T09:00", "--json"])
            assert result.exit_code == 0, (day, result.output)
            for outcome in json.loads(result.output):
                done_on[outcome["key"]].append((day, outcome["result"]))
            if day == dt.date(2024, 9, 7):  # restarted the same day: nothing is repeated
                again = runner.invoke(cli, [*root, "schedule", "--once", "--now", f"{day}T15:00"])
                assert again.exit_code == 0 and again.output == "没有到期的任务\n"

    calendar = routine.calendar(config, 2024)
    assert sorted(done_on) == sorted(a.key for a in calendar)
    for action in calendar:
        [(day, result)] = done_on[action.key]  # exactly once
        if OFF[0] <= action.day <= OFF[1]:
            assert day == BACK, action.key  # caught up (or skipped as superseded) on the first day back
        else:
            assert (day, result) == (action.day, "done"), action.key
    skipped = sorted(k for k, [(_, r)] in done_on.items() if r == "skipped")
    # 22–23 June is a weekend: no receipts action of its own
    assert skipped == [f"2024Q2/merge/D-{n}" for n in (5, 6, 7)] + ["2024Q2/receipts/D-7"]

    with open_store(config.paths.store) as store:
        log = schedule_runs(store)
        sent = Counter((m["unit"], m["kind"], m["stage"] if m["kind"] == "remind" else "", p)
                       for p in ("2024Q1", "2024Q2", "2024Q3", "2024Q4")
                       for m in mails_of(store, p) if m["result"] == "sent")
    assert all(row["result"] in ("done", "skipped") for row in log)
    for p in ("2024Q1", "2024Q2", "2024Q3", "2024Q4"):
        for unit in (NDRC, COMMERCE, LONGTING, SHUNHE):
            assert sent[(unit, "send", "", p)] == 1
        assert sent[(LONGTING, "remind", "week", p)] == sent[(LONGTING, "remind", "day", p)] == 1
        # In Q2 its workbook went out late (24 June), so it was reminded before it could answer.
        assert sent[(COMMERCE, "remind", "week", p)] == (p == "2024Q2")
        assert sent[(COMMERCE, "remind", "day", p)] == 0
        assert sent[(COMMERCE, "receipt", "", p)] == 1  # its receipt does not change after the 20th
        assert (config.paths.reports / p / "通报.html").is_file()
    assert sent[(NDRC, "receipt", "", "2024Q1")] == 1 and sent[(NDRC, "receipt", "", "2024Q2")] == 0

    # What arrived: four workbooks each, reminders worded for the day they were sent.
    assert len(inbox.to(ADDRESSES[COMMERCE])) == 4 + 4 + 1
    subjects = [m["Subject"] for m in inbox.to(ADDRESSES[LONGTING])]
    assert subjects.count("【催报】明天截止：请报送2024年第二季度推进情况（龙亭区）") == 1
    q2_week = next(m for m in inbox.to(ADDRESSES[LONGTING]) if m["Subject"].startswith("【催报】请于2024年6月28日前"))
    assert "还有 4 天" in q2_week.get_body(("plain",)).get_content()  # the 21 June reminder, sent on the 24th
    assert len(inbox.messages) == sum(sent.values())


def test_a_failed_action_is_recorded_and_tried_again_next_tick(tmp_path, monkeypatch):
    use_ledger(monkeypatch, reachable_ledger())
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        inbox.refuse.add(ADDRESSES[LONGTING])
        first = routine.tick(config, dt.datetime(2024, 3, 7, 9))
        assert [(o.action.kind, o.result) for o in first] == [("generate", "done"), ("send", "failed")]
        assert "失败 1 封" in first[1].summary
        inbox.refuse.clear()
        second = routine.tick(config, dt.datetime(2024, 3, 8, 9))
        assert [(o.action.kind, o.result) for o in second] == [("send", "done")]
        assert "发送 1 封" in second[0].summary and "已发过 3 封" in second[0].summary
        assert routine.tick(config, dt.datetime(2024, 3, 9, 9)) == []
        with open_store(config.paths.store) as store:
            assert [(r["kind"], r["time"][:10], r["result"]) for r in schedule_runs(store)] == [
                ("generate", "2024-03-07", "done"), ("send", "2024-03-07", "failed"), ("send", "2024-03-08", "done"),
            ]
    cli_failed = CliRunner().invoke(cli, ["--config", str(tmp_path), "schedule", "--once", "--now", "2024-03-21T09:00"])
    assert cli_failed.exit_code == 1  # the drop folder is missing: merge fails, cron sees exit 1
    assert "2024-03-21 2024Q1 汇总（截止前7天）：失败。收件夹不存在" in cli_failed.output


def test_only_one_tick_at_a_time(tmp_path):
    from toolkit.errors import BusyError
    from toolkit.fsutil import workspace_lock

    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path)
    with workspace_lock(config.paths.lock.with_name(".ducha.schedule.lock")), pytest.raises(BusyError):
        routine.tick(config, dt.datetime(2024, 3, 7, 9))
    assert not Path(config.paths.store).exists() or routine.tick(config, dt.datetime(2024, 1, 1, 9)) == []


def test_run_forever_ticks_at_start_up_then_waits_for_the_daily_time(tmp_path, monkeypatch):
    (tmp_path / "ducha.toml").write_text('[bureau]\nyear = 2000\n[schedule]\ntime = "07:45"\n', encoding="utf-8")
    lines: list[str] = []

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(routine.time, "sleep", stop)
    with pytest.raises(KeyboardInterrupt):
        routine.run_forever(load_config(tmp_path), echo=lines.append)
    assert lines[0] == "定时任务已启动：每天 07:45（北京时间）检查一次，按 Ctrl+C 停止"
    assert lines[1].endswith("检查完毕：今天没有到期任务")  # the start-up tick (nothing due for 2000)


def test_run_forever_survives_an_error_that_is_not_a_ducha_error(tmp_path, monkeypatch):
    """A locked SQLite write (or any other exception) in one tick is logged in Chinese; the runner
    goes on to wait for the next tick instead of ending."""
    import sqlite3

    (tmp_path / "ducha.toml").write_text("[bureau]\nyear = 2000\n", encoding="utf-8")
    lines: list[str] = []

    def fake_tick(config):
        raise sqlite3.OperationalError("database is locked")

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(routine, "tick", fake_tick)
    monkeypatch.setattr(routine.time, "sleep", stop)
    with pytest.raises(KeyboardInterrupt):
        routine.run_forever(load_config(tmp_path), echo=lines.append)
    assert "本次检查出错（OperationalError：database is locked）" in lines[1]
    assert "定时任务继续运行" in lines[1]  # and it reached its waiting loop (the sleep) alive
