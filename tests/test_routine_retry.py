"""Only a delivery is done: a unit the scheduler could not reach (no 邮箱, no workbook yet, an
address the server refused) keeps the mail action pending; it is listed and tried again on every
tick until its message goes, and the units already reached are never mailed twice."""

from __future__ import annotations

import dataclasses
import datetime as dt

from click.testing import CliRunner

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE
from tests.smtp_fixtures import ADDRESSES, mail_ledger, smtp_server, use_ledger, write_config
from toolkit import routine
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.model import Ledger, Unit
from toolkit.period import Period
from toolkit.quarter import prefill
from toolkit.quarter.history import schedule_runs
from toolkit.quarter.store import open_store

SHUNHE_ADDRESS = "sh@kaifeng.example.cn"
YUWANGTAI, YUWANGTAI_ADDRESS = "禹王台区", "ywt@kaifeng.example.cn"
NAMES = {"ndrc": NDRC, "commerce": COMMERCE, "longting": LONGTING, "shunhe": SHUNHE}


def ledger_with(**emails: str) -> Ledger:
    """The mail ledger, 顺河区 with a good address, and these units' 邮箱 cells as given."""
    ledger = mail_ledger()
    cells = {SHUNHE: SHUNHE_ADDRESS, **{name: emails[key] for key, name in NAMES.items() if key in emails}}
    ledger.units = [dataclasses.replace(u, email=cells.get(u.name, u.email)) for u in ledger.units]
    return ledger


def fill_in(ledger: Ledger, unit: str, email: str) -> None:
    """The clerk types the unit's 邮箱 into 单位名录."""
    ledger.units = [dataclasses.replace(u, email=email) if u.name == unit else u for u in ledger.units]


def tick(config, day: int, month: int = 3) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(o.action.kind, o.result) for o in routine.tick(config, dt.datetime(2024, month, day, 9))]


def attachment_names(messages) -> list[str]:  # noqa: ANN001
    return [part.get_filename() for m in messages for part in m.iter_attachments()]


def test_a_unit_without_an_address_gets_its_workbook_on_the_tick_after_the_clerk_fills_it_in(tmp_path, monkeypatch):
    ledger = ledger_with(longting="")
    use_ledger(monkeypatch, ledger)
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        first = CliRunner().invoke(cli, ["--config", str(tmp_path), "schedule", "--once", "--now", "2024-03-07T09:00"])
        assert first.exit_code == 0, first.output
        assert first.output.splitlines()[1] == (
            "2024-03-07 2024Q1 下发填报表（截止前21天）：未完成。下发填报表：发送 3 封；未送达：龙亭区（未填写邮箱）"
        )
        assert sorted(r for m in inbox.messages for r in m.recipients) == sorted(
            [ADDRESSES[NDRC], ADDRESSES[COMMERCE], SHUNHE_ADDRESS])

        [outcome] = routine.tick(config, dt.datetime(2024, 3, 8, 9))  # not filled in yet: listed again
        assert (outcome.action.key, outcome.result) == ("2024Q1/send/D-21", "pending")
        assert outcome.summary == "下发填报表：发送 0 封，已发过 3 封；未送达：龙亭区（未填写邮箱）"

        fill_in(ledger, LONGTING, ADDRESSES[LONGTING])
        [outcome] = routine.tick(config, dt.datetime(2024, 3, 9, 9))
        assert (outcome.result, outcome.summary) == ("done", "下发填报表：发送 1 封，已发过 3 封")
        assert attachment_names(inbox.to(ADDRESSES[LONGTING])) == ["2024Q1_龙亭区.xlsx"]
        assert len(inbox.messages) == 4  # nobody got a second copy
        assert tick(config, 10) == []
        with open_store(config.paths.store) as store:
            assert [(r["kind"], r["time"][:10], r["result"]) for r in schedule_runs(store)] == [
                ("generate", "2024-03-07", "done"), ("send", "2024-03-07", "pending"),
                ("send", "2024-03-08", "pending"), ("send", "2024-03-09", "done"),
            ]


def test_a_missing_workbook_is_sent_once_it_has_been_generated(tmp_path, monkeypatch):
    ledger = ledger_with(shunhe="")
    use_ledger(monkeypatch, ledger)
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        assert tick(config, 7) == [("generate", "done"), ("send", "pending")]
        # That evening the clerk fills in 顺河区's 邮箱 and adds 禹王台区 to 各县区: it has a task
        # now but no workbook yet.
        fill_in(ledger, SHUNHE, SHUNHE_ADDRESS)
        ledger.units.append(Unit(YUWANGTAI, "县区", groups=("各县区",), email=YUWANGTAI_ADDRESS))
        [outcome] = routine.tick(config, dt.datetime(2024, 3, 8, 9))
        assert (outcome.result, outcome.summary) == (
            "pending", "下发填报表：发送 1 封，已发过 3 封；未送达：禹王台区（缺少填报表，请运行 ducha generate）")
        assert len(inbox.to(SHUNHE_ADDRESS)) == 1 and inbox.to(YUWANGTAI_ADDRESS) == []

        prefill.generate(config, Period.parse("2024Q1"), units=[YUWANGTAI], now=dt.datetime(2024, 3, 8, 10))
        [outcome] = routine.tick(config, dt.datetime(2024, 3, 9, 9))
        assert (outcome.result, outcome.summary) == ("done", "下发填报表：发送 1 封，已发过 4 封")
        assert attachment_names(inbox.to(YUWANGTAI_ADDRESS)) == ["2024Q1_禹王台区.xlsx"]
        assert len(inbox.messages) == 5
        assert tick(config, 10) == []


def test_one_bad_and_one_good_address_delivers_to_the_good_one_and_reports_the_bad(tmp_path, monkeypatch):
    use_ledger(monkeypatch, ledger_with(longting=f"bad@@x.com;{ADDRESSES[LONGTING]}"))
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        generate, send = routine.tick(config, dt.datetime(2024, 3, 7, 9))
        assert (send.result, send.summary) == (
            "done", "下发填报表：发送 4 封；未发往：龙亭区 bad@@x.com（邮箱格式不对）")
        [message] = inbox.to(ADDRESSES[LONGTING])
        assert message["To"] == f"龙亭区 <{ADDRESSES[LONGTING]}>"
        assert attachment_names([message]) == ["2024Q1_龙亭区.xlsx"]
        assert tick(config, 8) == []
        assert len(inbox.messages) == 4


def test_an_address_the_server_refuses_does_not_make_the_others_get_it_twice(tmp_path, monkeypatch):
    other = "swj2@kaifeng.example.cn"
    use_ledger(monkeypatch, ledger_with(commerce=f"{ADDRESSES[COMMERCE]}；{other}"))
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        inbox.refuse.add(other)
        generate, send = routine.tick(config, dt.datetime(2024, 3, 7, 9))
        assert (send.result, send.summary) == (
            "done", f"下发填报表：发送 4 封；未发往：市商务局 {other}（550 5.1.1 mailbox unavailable）")
        assert tick(config, 8) == []
        assert len(inbox.to(ADDRESSES[COMMERCE])) == 1 and len(inbox.messages) == 4


def test_reminders_and_workbooks_go_to_the_units_still_owed_them_and_to_nobody_twice(tmp_path, monkeypatch):
    ledger = ledger_with(longting="")
    use_ledger(monkeypatch, ledger)
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        config.paths.drop.mkdir()
        # The scheduler first runs on 21 March: the workbooks and the week's reminder go out together.
        first = {kind: result for kind, result in tick(config, 21)}
        assert first == {"generate": "done", "send": "pending", "merge": "done", "receipts": "done",
                         "remind": "pending"}  # nobody has a receipt yet: nothing is owed
        assert {r for m in inbox.messages for r in m.recipients} == {ADDRESSES[NDRC], ADDRESSES[COMMERCE],
                                                                     SHUNHE_ADDRESS}
        fill_in(ledger, LONGTING, ADDRESSES[LONGTING])
        second = {kind: result for kind, result in tick(config, 22)}
        assert second == {"send": "done", "merge": "done", "receipts": "done", "remind": "done"}
        subjects = [m["Subject"] for m in inbox.to(ADDRESSES[LONGTING])]
        assert len(subjects) == 2 and subjects[1].startswith("【催报】")
        assert "还有 6 天" in inbox.to(ADDRESSES[LONGTING])[1].get_body(("plain",)).get_content()
        for address in (ADDRESSES[NDRC], ADDRESSES[COMMERCE], SHUNHE_ADDRESS):
            assert len(inbox.to(address)) == 2, address  # one workbook, one reminder
        assert {kind for kind, _ in tick(config, 23)} == {"merge"}  # a Saturday: receipts wait for Monday
        assert len(inbox.messages) == 8


def test_ducha_send_shows_the_address_it_left_out(tmp_path, monkeypatch):
    use_ledger(monkeypatch, ledger_with(longting=f"bad@@x.com、{ADDRESSES[LONGTING]}"))
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        prefill.generate(load_config(tmp_path), Period.parse("2024Q1"), now=dt.datetime(2024, 3, 7, 9))
        result = CliRunner().invoke(cli, ["--config", str(tmp_path), "send", "--period", "2024Q1"])
        assert result.exit_code == 0, result.output
        assert f"  龙亭区  {ADDRESSES[LONGTING]}  已发送（未发往：bad@@x.com（邮箱格式不对））" in result.output.splitlines()
        assert len(inbox.to(ADDRESSES[LONGTING])) == 1
