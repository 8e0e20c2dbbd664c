"""Reminders as a unit receives them over real SMTP (tests/smtp_fixtures.py): the workbook comes
again as an attachment, a unit whose files were all rejected is asked to resubmit rather than
called overdue, and no sentence is broken across lines (mail clients show a hard break as is)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from python_calamine import CalamineWorkbook

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, checked
from tests.smtp_fixtures import mail_ledger, smtp_server, use_ledger, write_config
from toolkit.config import Config, load_config
from toolkit.forms import layout
from toolkit.mail import runs as mail
from toolkit.model import VERDICT_ACCEPTED, VERDICT_REJECTED
from toolkit.period import Period
from toolkit.quarter import prefill
from toolkit.quarter.store import open_store
from toolkit.routine import calendar

Q1 = Period.parse("2024Q1")
WEEK, DAY, TODAY, OVERDUE = (dt.datetime(2024, 3, d, 9) for d in (21, 27, 28, 30))
SENTENCE_END = "。！？：；"


@pytest.fixture
def server():
    with smtp_server() as (inbox, port):
        yield inbox, port


@pytest.fixture
def q1(tmp_path, monkeypatch, server) -> Config:  # noqa: ANN001
    """The small ledger with addresses, [mail] at the test server, Q1 generated; 商务局 accepted,
    发改委's only file rejected, 龙亭区 silent."""
    use_ledger(monkeypatch, mail_ledger())
    write_config(tmp_path, server[1])
    config = load_config(tmp_path)
    prefill.generate(config, Q1, now=dt.datetime(2024, 3, 7, 9))
    with open_store(config.paths.store) as store:
        for unit, verdict in ((COMMERCE, VERDICT_ACCEPTED), (NDRC, VERDICT_REJECTED)):
            store.record(checked(unit, "2024-03-20T10:00:00"), "2024Q1", "archive/x.xlsx", verdict)
    return config


def body(message) -> str:  # noqa: ANN001
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def workbook_unit(data: bytes) -> str:
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(layout.SHEET_PROGRESS).to_python()
    return rows[layout.UNIT_ROW - 1][0]


def test_a_reminder_attaches_the_units_workbook_again(q1, server):
    inbox, _ = server
    run = mail.send_reminders(q1, Q1, now=WEEK)
    assert [d.unit for d in run.sent] == [NDRC, LONGTING]
    for unit, received in zip((NDRC, LONGTING), inbox.messages, strict=True):
        [attachment] = received.message.iter_attachments()
        assert attachment.get_filename() == f"2024Q1_{unit}.xlsx"
        assert workbook_unit(attachment.get_content()) == f"填报单位：{unit}"
    assert "附件是我局此前发送的填报表“2024Q1_龙亭区.xlsx”（共 1 项任务），填好后直接回复本邮件并附上文件即可。" in body(
        inbox.messages[1].message)


def test_a_reminder_without_its_workbook_is_owed_not_sent_bare(q1, server):
    (q1.paths.outbox / "2024Q1" / f"2024Q1_{LONGTING}.xlsx").unlink()
    run = mail.send_reminders(q1, Q1, now=WEEK)
    assert [d.unit for d in run.sent] == [NDRC]
    assert run.undelivered[LONGTING] == "缺少填报表，请运行 ducha generate"


def test_a_unit_whose_files_were_all_rejected_is_asked_to_resubmit_not_called_overdue(q1, server):
    inbox, _ = server
    mail.send_reminders(q1, Q1, now=OVERDUE)
    rejected, silent = (r.message for r in inbox.messages)
    assert rejected["Subject"] == f"【退回修改】请尽快重新报送2024年第一季度推进情况（{NDRC}）"
    text = body(rejected)
    assert ("2024年第一季度政府工作报告确定事项推进情况的报送截止时间（2024年3月28日）已过 2 天。"
            "我局已收到贵单位报送的文件，但未通过审核，已退回修改，请按回执所列问题修改后尽快重新报送整个文件，"
            "以最后一次报送的为准。") in text
    assert "逾期未报" not in text and "逾期" not in rejected["Subject"]
    assert [a.get_filename() for a in rejected.iter_attachments()] == [f"2024Q1_{NDRC}.xlsx"]
    assert silent["Subject"] == f"【逾期未报】请立即报送2024年第一季度推进情况（{LONGTING}）"
    assert "请立即填写并报送，逾期未报的情况将在季度通报中予以通报。" in body(silent)


@pytest.mark.parametrize("when", [WEEK, DAY, TODAY, OVERDUE])
def test_no_line_breaks_inside_a_sentence(q1, server, when):
    inbox, _ = server
    mail.send_reminders(q1, Q1, now=when)
    assert len(inbox.messages) == 2
    for received in inbox.messages:
        text = body(received.message)
        prose = text.split("\n联系人：")[0]  # the signature block below is lines by design
        for line in prose.splitlines():
            assert not line or line[-1] in SENTENCE_END or re.match(r"\d+\. ", line), (line, text)
        paragraphs = [p for p in prose.split("\n\n") if p.strip()]
        assert len(paragraphs) == 3, text  # salutation, the request, the attachment


def test_the_last_working_day_before_a_monday_deadline_gets_the_last_day_reminder(tmp_path, monkeypatch, server):
    inbox, port = server
    use_ledger(monkeypatch, mail_ledger())
    write_config(tmp_path, port, '[deadlines]\n"2024Q1" = "2024-04-01"\n')  # a Monday
    config = load_config(tmp_path)
    q1 = Period.parse("2024Q1", config.deadlines)
    prefill.generate(config, q1, now=dt.datetime(2024, 3, 7, 9))
    [d_minus_1] = [a for a in calendar(config, 2024) if a.key == "2024Q1/remind/D-1"]
    assert d_minus_1.day == dt.date(2024, 3, 29)  # Sunday's reminder goes on Friday
    week = mail.send_reminders(config, q1, now=dt.datetime(2024, 3, 25, 9))
    friday = mail.send_reminders(config, q1, now=dt.datetime(2024, 3, 29, 9))
    assert {d.stage for d in week.sent} == {"week"} and {d.stage for d in friday.sent} == {"day"}
    assert inbox.messages[-1].message["Subject"] == f"【催报】2024年4月1日截止：请报送2024年第一季度推进情况（{LONGTING}）"
