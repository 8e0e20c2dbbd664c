"""The scheduler and the mail keep the bureau's clock ([bureau] timezone), not Asia/Shanghai
hard-coded and not the computer's: a bureau in Tokyo starts its quarter at midnight Tokyo time,
dates its mail in Tokyo time and ticks at 09:00 Tokyo time whatever the server is set to."""

from __future__ import annotations

import datetime as dt
import time
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import schedule
from click.testing import CliRunner

from tests.merge_fixtures import COMMERCE
from tests.smtp_fixtures import ADDRESSES, mail_ledger, smtp_server, use_ledger, write_config
from toolkit import routine
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.ledger.build import build_ledger
from toolkit.ledger.sheets import BUILT_AT_LABEL
from toolkit.quarter.history import mails_of, schedule_runs
from toolkit.quarter.store import open_store

TOKYO = ZoneInfo("Asia/Tokyo")
IN_TOKYO = "[bureau]\ntimezone = \"Asia/Tokyo\"\n"


@pytest.fixture
def utc_computer(monkeypatch):
    """This process's local time zone is UTC for the test, restored afterwards."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_send_day_begins_at_midnight_on_the_bureaus_clock(tmp_path, monkeypatch):
    use_ledger(monkeypatch, mail_ledger())
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port, IN_TOKYO)
        config = load_config(tmp_path)
        # 23:30 on 6 March in 开封 is already 00:30 on 7 March (the send day) in Tokyo.
        now = dt.datetime(2024, 3, 6, 15, 30, tzinfo=dt.UTC)
        outcomes = routine.tick(config, now)
        assert [o.action.kind for o in outcomes] == ["generate", "send"]
        [message] = inbox.to(ADDRESSES[COMMERCE])
        assert message["Date"] == "Thu, 07 Mar 2024 00:30:00 +0900"
        assert "2024年3月7日" in message.get_body(("plain",)).get_content()
        with open_store(config.paths.store) as store:
            assert {m["time"] for m in mails_of(store, "2024Q1")} == {"2024-03-07T00:30:00+09:00"}
            assert {r["time"] for r in schedule_runs(store)} == {"2024-03-07T00:30:00+09:00"}


def test_a_time_typed_after_now_is_read_on_the_bureaus_clock(tmp_path, monkeypatch):
    use_ledger(monkeypatch, mail_ledger())
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port, IN_TOKYO)
        root = ["--config", str(tmp_path)]
        early = CliRunner().invoke(cli, [*root, "schedule", "--once", "--now", "2024-03-06T23:59"])
        assert early.exit_code == 0 and early.output == "没有到期的任务\n"
        result = CliRunner().invoke(cli, [*root, "schedule", "--once", "--now", "2024-03-07T08:00"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("2024-03-07 2024Q1 生成填报表（截止前21天）：完成。")
        [message] = inbox.to(ADDRESSES[COMMERCE])
        assert parsedate_to_datetime(message["Date"]) == dt.datetime(2024, 3, 7, 8, 0, tzinfo=TOKYO)


def test_the_daily_tick_is_at_the_configured_time_on_the_bureaus_clock(tmp_path, monkeypatch, utc_computer):
    (tmp_path / "ducha.toml").write_text(IN_TOKYO + "year = 2000\n[schedule]\ntime = \"09:00\"\n", encoding="utf-8")
    made: list[schedule.Scheduler] = []

    class Spy(schedule.Scheduler):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    def stop(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(schedule, "Scheduler", Spy)
    monkeypatch.setattr(routine.time, "sleep", stop)
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        routine.run_forever(load_config(tmp_path), echo=lines.append)
    assert made[0].jobs[0].at_time == dt.time(0, 0)  # 09:00 in Tokyo is midnight on this UTC computer
    assert lines[0] == "定时任务已启动：每天 09:00（Asia/Tokyo 时间）检查一次，按 Ctrl+C 停止"
    assert lines[1].startswith(f"{dt.datetime.now(TOKYO):%Y-%m-%d} ")


def test_the_ledgers_build_time_is_the_bureaus_time(workspace, utc_computer):
    with (workspace / "ducha.toml").open("a", encoding="utf-8") as f:
        f.write(IN_TOKYO)
    config = load_config(workspace)
    build_ledger(config)
    about = next(ws for ws in openpyxl.load_workbook(config.paths.ledger).worksheets
                 if any(row[0] == BUILT_AT_LABEL for row in ws.iter_rows(values_only=True)))
    [stamp] = [row[1] for row in about.iter_rows(values_only=True) if row[0] == BUILT_AT_LABEL]
    built = dt.datetime.fromisoformat(stamp).replace(tzinfo=TOKYO)
    assert abs(built - dt.datetime.now(TOKYO)) < dt.timedelta(minutes=5)
