"""A task's 时间节点 counts (issue 15): past it and not 已完成 is red, due within the quarter it owes
100 %, an approved extension moves it from the next quarter on (shown in 任务进展, the ledger and the
trail keep the original), and a reminder names the led tasks falling due before the next deadline."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tests.merge_fixtures import COMMERCE, NDRC, checked, file_records, small_ledger
from tests.smtp_fixtures import mail_ledger, smtp_server, use_ledger, write_config
from toolkit.config import load_config
from toolkit.mail import runs as mail
from toolkit.model import VERDICT_ACCEPTED, VERDICT_REJECTED, Ledger, Request
from toolkit.period import Period
from toolkit.quarter import decisions, prefill
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.rules import RULES_TEXT
from toolkit.quarter.store import open_store

Q1, Q2 = Period.parse("2024Q1"), Period.parse("2024Q2")
COLUMNS = ["红黄绿灯", "序时进度(%)", "序时依据", "逾期节点"]


def due(ledger: Ledger, **deadlines: str) -> Ledger:
    """The ledger with 时间节点 set by task: due(l, t1="3月15日")."""
    moved = {int(k[1:]): v for k, v in deadlines.items()}
    return dataclasses.replace(ledger, tasks=[dataclasses.replace(t, deadline=moved.get(t.no, t.deadline))
                                              for t in ledger.tasks])


def merged(ledger: Ledger, period: Period, as_of: dt.date, answers: dict[str, dict[int, tuple[str, float]]],
           extensions: dict[int, dt.date] | None = None) -> MergedQuarter:
    files = [checked(u, f"{period.deadline}T09:00:00", a, period=period.key) for u, a in answers.items()]
    return build_merged(ledger, file_records(*files), period, as_of, extensions=extensions)


ON_TRACK = {NDRC: {1: ("正常推进", 80.0)}, COMMERCE: {2: ("正常推进", 30.0), 3: ("正常推进", 30.0)}}


def test_a_task_past_its_deadline_and_not_done_is_red_naming_the_date():
    tasks = merged(due(small_ledger(), t1="2024年3月15日"), Q1, dt.date(2024, 3, 30), ON_TRACK).tasks.set_index("任务编号")
    assert tasks.loc[1, COLUMNS].tolist() == ["红灯", 100, "时间节点", "时间节点已过（2024年3月15日）"]
    assert tasks.loc[2, COLUMNS].tolist() == ["绿灯", 25, "按季度平均", ""]  # no 时间节点: as before


def test_a_task_past_its_deadline_but_done_stays_green():
    answers = {**ON_TRACK, NDRC: {1: ("已完成", 100.0)}}
    tasks = merged(due(small_ledger(), t1="3月15日"), Q1, dt.date(2024, 3, 30), answers).tasks.set_index("任务编号")
    assert tasks.loc[1, COLUMNS].tolist() == ["绿灯", 100, "时间节点", ""]


def test_a_task_due_at_the_quarter_end_owes_100_then_and_the_flat_pace_before():
    ledger = due(small_ledger(), t1="6月底")
    q1 = merged(ledger, Q1, dt.date(2024, 3, 30), ON_TRACK).tasks.set_index("任务编号")
    assert q1.loc[1, COLUMNS].tolist() == ["绿灯", 25, "按季度平均", ""]
    answers = {**ON_TRACK, NDRC: {1: ("正常推进", 60.0)}}
    q2 = merged(ledger, Q2, dt.date(2024, 6, 29), answers).tasks.set_index("任务编号")
    assert q2.loc[1, COLUMNS].tolist() == ["红灯", 100, "时间节点", ""]  # 40 points behind; 6-30 not yet passed


def test_an_approved_extension_replaces_the_deadline_and_is_shown():
    ledger = due(small_ledger(), t1="2024年3月15日")
    tasks = merged(ledger, Q2, dt.date(2024, 6, 29), {NDRC: {1: ("正常推进", 60.0)}},
                   extensions={1: dt.date(2024, 12, 31)}).tasks.set_index("任务编号")
    assert tasks.loc[1, COLUMNS].tolist() == ["绿灯", 50, "按季度平均\n时间节点（已延期至2024年12月31日，原为2024年3月15日）", ""]


def test_the_rules_text_states_the_deadline_rule():
    text = "".join(RULES_TEXT)
    assert "时间节点不晚于本季度末（如“6月底”在二季度）的任务为“时间节点”，序时进度为100%" in text
    assert "时间节点已过（不晚于截止日，统计日在截止日前时为统计日）而综合状态不是“已完成”的任务为红灯" in text
    assert "经审核同意延期的任务，自申请的下一季度起按新的时间节点判定" in text


def asked_and_approved(store, unit: str, no: int, date: str) -> None:
    """An accepted Q1 file of `unit` asking to extend task `no` to `date`, and its approval."""
    file = checked(unit, "2024-03-20T10:00:00", {no: ("正常推进", 20.0)})
    file.tasks = [dataclasses.replace(file.tasks[0], request=Request("申请延期", date, "征地未批", ()))]
    store.record(file, Q1.key, "archive/ext.xlsx", VERDICT_ACCEPTED)
    asked = decisions.AskedRequest(Q1.key, unit, no, file.tasks[0].request)
    decisions.record(store, [decisions.Decision(Q1.key, unit, no, "申请延期", asked.asked, decisions.APPROVE, "", "王局长",
                                          "2024-04-02", "2024-04-02T10:00:00", "审核表.xlsx")])


def test_the_summary_uses_the_extension_from_the_next_quarter_on(tmp_path, monkeypatch):
    from toolkit.quarter.collect import load_merged

    use_ledger(monkeypatch, due(small_ledger(), t1="2024年5月31日"))
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path)
    config.paths.store.parent.mkdir(parents=True, exist_ok=True)
    with open_store(config.paths.store) as store:
        asked_and_approved(store, NDRC, 1, "2024-09-30")
        store.record(checked(NDRC, "2024-06-20T10:00:00", {1: ("正常推进", 60.0)}, period=Q2.key), Q2.key,
                     "archive/q2.xlsx", VERDICT_ACCEPTED)
    q1 = load_merged(config, Q1, as_of=dt.date(2024, 4, 1)).tasks.set_index("任务编号")
    assert q1.loc[1, "序时依据"] == "按季度平均"  # the quarter it was asked in keeps the original
    q2 = load_merged(config, Q2, as_of=dt.date(2024, 7, 1)).tasks.set_index("任务编号")
    assert q2.loc[1, COLUMNS].tolist() == ["绿灯", 50, "按季度平均\n时间节点（已延期至2024年9月30日，原为2024年5月31日）", ""]



def test_the_merge_names_the_original_date_beside_the_extension(tmp_path, monkeypatch):
    """`ducha merge` (take_in) checks new files against the moved 时间节点, but 序时依据 still names
    the ledger's own date as the original, as reading the quarter back does."""
    from toolkit.quarter.collect import settle
    from toolkit.quarter.takein import take_in

    ledger = due(small_ledger(), t1="2024年5月31日")
    use_ledger(monkeypatch, ledger)
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(tmp_path)
    config.paths.store.parent.mkdir(parents=True, exist_ok=True)
    config.paths.drop.mkdir(parents=True, exist_ok=True)
    with open_store(config.paths.store) as store:
        asked_and_approved(store, NDRC, 1, "2024-09-30")
        store.record(checked(NDRC, "2024-06-20T10:00:00", {1: ("正常推进", 60.0)}, period=Q2.key), Q2.key,
                     "archive/q2.xlsx", VERDICT_ACCEPTED)
    q2 = settle(config, ledger, Q2, dt.date(2024, 7, 1), take_in(config, ledger, Q2)).merged.tasks.set_index("任务编号")
    assert q2.loc[1, "序时依据"] == "按季度平均\n时间节点（已延期至2024年9月30日，原为2024年5月31日）"

@pytest.fixture
def server():
    with smtp_server() as (inbox, port):
        yield inbox, port


def reminded(tmp_path, monkeypatch, server, ledger: Ledger, extend: str | None = None) -> str:  # noqa: ANN001
    """The body of the Q2 reminder to 发改委 (its Q2 file was rejected)."""
    mailed = mail_ledger()
    use_ledger(monkeypatch, dataclasses.replace(mailed, tasks=ledger.tasks))
    write_config(tmp_path, server[1])
    config = load_config(tmp_path)
    prefill.generate(config, Q2, now=dt.datetime(2024, 6, 7, 9))
    with open_store(config.paths.store) as store:
        if extend:
            asked_and_approved(store, NDRC, 1, extend)
        store.record(checked(NDRC, "2024-06-20T10:00:00", period=Q2.key), Q2.key, "archive/x.xlsx", VERDICT_REJECTED)
    mail.send_reminders(config, Q2, units=[NDRC], now=dt.datetime(2024, 6, 21, 9))
    inbox, _ = server
    [message] = [m.message for m in inbox.messages]
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def test_a_reminder_names_the_led_tasks_due_before_the_next_deadline(tmp_path, monkeypatch, server):
    body = reminded(tmp_path, monkeypatch, server, due(small_ledger(), t1="8月底", t2="8月底"))
    assert ("贵单位牵头的以下任务时间节点在2024年9月28日前（下一季度报送截止日前）到期，请按期完成并如实填报："
            "\n1. 第1项 经济增长6.5%。（时间节点：2024年8月31日）\n\n") in body
    assert "第2项" not in body  # 发改委 only co-operates on task 2


def test_a_reminder_follows_an_approved_extension(tmp_path, monkeypatch, server):
    body = reminded(tmp_path, monkeypatch, server, due(small_ledger(), t1="8月底"), extend="2024-12-31")
    assert "以下任务时间节点" not in body and "第1项" not in body


def test_the_units_guide_states_the_deadline_rule():
    from toolkit.config import Bureau
    from toolkit.forms.guide import guide_rows

    text = dict(guide_rows(NDRC, [], False, Q2, Bureau()))["序时进度"]
    assert "没有节点计划的，时间节点不晚于本季度末（如“6月底”在二季度）的任务序时进度为 100%" in text
    assert "或时间节点已过（不晚于截止时间）而任务未完成" in text


def test_a_reminder_names_the_extended_date_when_it_still_falls_due(tmp_path, monkeypatch, server):
    body = reminded(tmp_path, monkeypatch, server, due(small_ledger(), t1="8月底"), extend="2024-09-15")
    assert "\n1. 第1项 经济增长6.5%。（时间节点：2024年9月15日，已延期）\n" in body
