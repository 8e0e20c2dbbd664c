"""ducha send / remind / receipts against a real SMTP server on loopback: what arrives, to whom,
under which subject, with which attachment — and that nothing arrives twice."""

from __future__ import annotations

import datetime as dt
import io
import json
from email import policy
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE, checked
from tests.smtp_fixtures import ADDRESSES, SENDER, mail_ledger, smtp_server, use_ledger, write_config
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.errors import ConfigError, DuchaError
from toolkit.forms import layout
from toolkit.forms.plan import file_name
from toolkit.mail import runs as mail
from toolkit.mail.compose import _encoded_words, compose, message_id
from toolkit.mail.settings import PASSWORD_ENV, MailSettings, mail_settings
from toolkit.mail.transport import local_inbox
from toolkit.model import VERDICT_ACCEPTED, VERDICT_REJECTED
from toolkit.outputs.receipts import RECEIPT_DIR, receipt_name
from toolkit.period import Period
from toolkit.quarter import prefill
from toolkit.quarter.history import mails_of
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
SEND_DAY = dt.datetime(2024, 3, 7, 9, 0)
MAILED = [NDRC, COMMERCE, LONGTING]  # 顺河区 has no valid address


@pytest.fixture
def server():
    with smtp_server() as (inbox, port):
        yield inbox, port


@pytest.fixture
def workspace_q1(tmp_path, monkeypatch, server):
    """A workspace with the small ledger, [mail] pointing at the test server, Q1 generated."""
    use_ledger(monkeypatch, mail_ledger())
    write_config(tmp_path, server[1])
    config = load_config(tmp_path)
    prefill.generate(config, Q1, now=SEND_DAY)
    return config


def unit_cell(data: bytes) -> str:
    """进展填报!A2 of a workbook: 填报单位：<单位>."""
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(layout.SHEET_PROGRESS).to_python()
    return rows[layout.UNIT_ROW - 1][0]


def text_of(message) -> str:  # noqa: ANN001
    return message.get_body(("plain",)).get_content()


# --- send ----------------------------------------------------------------------------------------


def test_each_unit_receives_its_own_workbook_under_its_chinese_name(workspace_q1, server):
    inbox, _ = server
    run = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)

    assert [d.unit for d in run.sent] == MAILED
    assert run.no_address == {SHUNHE: "顺河区办公室"}
    assert [r.recipients for r in inbox.messages] == [[ADDRESSES[u]] for u in MAILED]
    for unit, received in zip(MAILED, inbox.messages, strict=True):
        msg = received.message
        assert received.sender == SENDER
        assert msg["To"].addresses[0].display_name == unit
        assert msg["Subject"] == (
            f"关于报送开封市2024年政府工作报告确定事项第一季度推进情况表的通知（{unit}，2024年3月28日前报送）"
        )
        assert msg["Reply-To"] == SENDER  # [mail] reply_to defaults to the sender
        body = text_of(msg)
        assert body.startswith(f"{unit}：") and "请于2024年3月28日前填写完毕" in body
        assert "开封市政府督查局" in body and "（请填写联系电话）" in body
        [attachment] = list(msg.iter_attachments())
        assert attachment.get_filename() == f"2024Q1_{unit}.xlsx"
        assert unit_cell(attachment.get_content()) == f"填报单位：{unit}"
        assert attachment.get_content() == (workspace_q1.paths.outbox / "2024Q1" / f"2024Q1_{unit}.xlsx").read_bytes()


def test_attachment_headers_carry_rfc2231_and_rfc2047_names_on_single_lines(workspace_q1, server):
    inbox, _ = server
    mail.send_workbooks(workspace_q1, Q1, units=[COMMERCE], now=SEND_DAY)
    raw = inbox.messages[0].raw.decode("ascii")  # everything on the wire is 7-bit
    assert (
        "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\r\n"
        ' name="=?utf-8?b?MjAyNFExX+W4guWVhuWKoeWxgC54bHN4?="\r\n'
        "Content-Disposition: attachment;\r\n"
        " filename*=utf-8''2024Q1_%E5%B8%82%E5%95%86%E5%8A%A1%E5%B1%80.xlsx\r\n"
    ) in raw
    assert "filename*0" not in raw and "Content-Transfer-Encoding: base64" in raw
    assert "Content-Transfer-Encoding: base64\r\n\r\n" in raw.split("text/plain")[1][:80]


def test_long_names_split_into_encoded_words_between_characters():
    name = "2024Q1_自贸试验区开封片区（综保区）.xlsx"
    words = _encoded_words(name)
    assert len(words.split()) == 2 and all(len(w) <= 75 for w in words.split())
    assert str(make_header(decode_header(words))) == name


def test_unit_text_never_breaks_out_of_a_header(tmp_path):
    settings = MailSettings(sender=SENDER, reply_to=SENDER)
    msg = compose(
        settings, "开封市政府督查局", "市商务局\r\nBcc: evil@example.com", ["a@kaifeng.example.cn"],
        "主题\r\nBcc: evil@example.com", "正文", "<x@y>", dt.datetime(2024, 3, 7, tzinfo=dt.UTC),
    )
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "主题 Bcc: evil@example.com"
    assert parsed["To"].addresses[0].display_name == "市商务局 Bcc: evil@example.com"


def test_a_second_run_sends_nothing_and_resend_sends_again(workspace_q1, server):
    inbox, _ = server
    first = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)
    second = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)
    assert len(inbox.messages) == 3
    assert [d.unit for d in second.already] == MAILED and not second.sent
    assert "已发过 3 封" in second.summary

    again = mail.send_workbooks(workspace_q1, Q1, units=["市商务局"], resend=True, now=SEND_DAY)
    assert [d.unit for d in again.sent] == [COMMERCE]
    assert len(inbox.to(ADDRESSES[COMMERCE])) == 2
    ids = [m["Message-ID"] for m in inbox.to(ADDRESSES[COMMERCE])]
    assert ids[0] == first.sent[1].message_id and ids[1] == again.sent[0].message_id and ids[0] != ids[1]
    with open_store(workspace_q1.paths.store) as store:
        rows = [(r["unit"], r["attempt"], r["result"]) for r in mails_of(store, "2024Q1")]
    assert rows == [(NDRC, 1, "sent"), (COMMERCE, 1, "sent"), (LONGTING, 1, "sent"), (COMMERCE, 2, "sent")]


def test_message_ids_are_deterministic():
    a = message_id("2024Q1", COMMERCE, "send", "", 1, SENDER)
    assert a == message_id("2024Q1", COMMERCE, "send", "", 1, SENDER)
    assert a.endswith("@kaifeng.example.cn>") and a != message_id("2024Q1", COMMERCE, "send", "", 2, SENDER)


def test_a_refused_recipient_is_recorded_does_not_stop_the_others_and_is_retried(workspace_q1, server):
    inbox, _ = server
    inbox.refuse.add(ADDRESSES[LONGTING])
    run = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)
    assert [d.unit for d in run.sent] == [NDRC, COMMERCE]
    [failed] = run.failed
    assert failed.unit == LONGTING and failed.error == "收件人被拒绝：lt@kaifeng.example.cn（550 5.1.1 mailbox unavailable）"
    assert "失败 1 封（下次运行时重试）" in run.summary
    with open_store(workspace_q1.paths.store) as store:
        assert [(r["unit"], r["result"], r["error"]) for r in mails_of(store, "2024Q1")][2] == (
            LONGTING, "failed", failed.error,
        )

    inbox.refuse.clear()
    retry = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)
    assert [d.unit for d in retry.sent] == [LONGTING] and [d.unit for d in retry.already] == [NDRC, COMMERCE]
    assert [r.recipients for r in inbox.messages] == [[ADDRESSES[u]] for u in (NDRC, COMMERCE, LONGTING)]


def test_a_dropped_connection_fails_one_message_then_reconnects(workspace_q1, server):
    inbox, _ = server
    inbox.drop.add(ADDRESSES[COMMERCE])
    run = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)
    assert [d.unit for d in run.sent] == [NDRC, LONGTING]
    assert [d.unit for d in run.failed] == [COMMERCE] and "连接中断" in run.failed[0].error
    assert inbox.sessions == 2  # one connection, reopened once after the drop

    retry = mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY)
    assert [d.unit for d in retry.sent] == [COMMERCE]
    assert unit_cell(next(inbox.to(ADDRESSES[COMMERCE])[0].iter_attachments()).get_content()) == f"填报单位：{COMMERCE}"


def test_an_unreachable_server_fails_every_message_at_once_and_records_them(tmp_path, monkeypatch):
    use_ledger(monkeypatch, mail_ledger())
    with smtp_server() as (_, port):
        pass  # the port is free again: nothing listens
    write_config(tmp_path, port)
    config = load_config(tmp_path)
    prefill.generate(config, Q1, now=SEND_DAY)
    run = mail.send_workbooks(config, Q1, now=SEND_DAY)
    assert [d.unit for d in run.failed] == MAILED
    assert all(d.error.startswith(f"无法连接邮件服务器 127.0.0.1:{port}") for d in run.failed)
    with open_store(config.paths.store) as store:
        assert [r["result"] for r in mails_of(store, "2024Q1")] == ["failed"] * 3


def test_dry_run_writes_eml_files_and_sends_nothing(workspace_q1, server):
    inbox, _ = server
    run = mail.send_workbooks(workspace_q1, Q1, dry_run=True, now=SEND_DAY)
    folder = workspace_q1.paths.outbox / "2024Q1" / "mail"
    assert run.mail_dir == str(folder) and not inbox.messages and inbox.sessions == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"2024Q1_{u}_send.eml" for u in MAILED)
    eml = BytesParser(policy=policy.default).parsebytes((folder / f"2024Q1_{COMMERCE}_send.eml").read_bytes())
    assert eml["To"].addresses[0].addr_spec == ADDRESSES[COMMERCE]
    assert unit_cell(next(eml.iter_attachments()).get_content()) == f"填报单位：{COMMERCE}"
    with open_store(workspace_q1.paths.store) as store:
        assert mails_of(store, "2024Q1") == []  # a rehearsal: the real run still sends everything
    assert [d.unit for d in mail.send_workbooks(workspace_q1, Q1, now=SEND_DAY).sent] == MAILED


def test_send_without_workbooks_says_to_generate_first(tmp_path, monkeypatch):
    use_ledger(monkeypatch, mail_ledger())
    write_config(tmp_path, 25)
    with pytest.raises(DuchaError, match="请先运行 ducha generate --period 2024Q1"):
        mail.send_workbooks(load_config(tmp_path), Q1, dry_run=True, now=SEND_DAY)


# --- remind --------------------------------------------------------------------------------------


def record(config, unit: str, verdict: str) -> None:  # noqa: ANN001
    with open_store(config.paths.store) as store:
        store.record(checked(unit, "2024-03-20T10:00:00"), "2024Q1", "archive/x.xlsx", verdict)


def test_reminders_go_only_to_units_without_an_accepted_report_worded_for_the_moment(workspace_q1, server):
    inbox, _ = server
    record(workspace_q1, COMMERCE, VERDICT_ACCEPTED)
    record(workspace_q1, NDRC, VERDICT_REJECTED)

    week = mail.send_reminders(workspace_q1, Q1, now=dt.datetime(2024, 3, 21, 9))
    assert [d.unit for d in week.sent] == [NDRC, LONGTING] and week.not_due == [COMMERCE]
    assert {d.stage for d in week.sent} == {"week"}
    ndrc, longting = inbox.messages
    assert ndrc.message["Subject"] == f"【退回修改】请尽快重新报送2024年第一季度推进情况（{NDRC}）"
    assert "还有 7 天" in text_of(ndrc.message) and "未通过审核" in text_of(ndrc.message)
    assert longting.message["Subject"] == f"【催报】请于2024年3月28日前报送2024年第一季度推进情况（{LONGTING}）"
    assert "尚未收到贵单位的报表" in text_of(longting.message)
    assert "“2024Q1_龙亭区.xlsx”（共 1 项任务）" in text_of(longting.message)
    assert [a.get_filename() for a in ndrc.message.iter_attachments()] == [f"2024Q1_{NDRC}.xlsx"]  # test_reminders

    assert not mail.send_reminders(workspace_q1, Q1, now=dt.datetime(2024, 3, 22, 9)).sent  # same stage

    day = mail.send_reminders(workspace_q1, Q1, now=dt.datetime(2024, 3, 27, 9))
    assert [d.stage for d in day.sent] == ["day", "day"]
    assert inbox.messages[3].message["Subject"] == f"【催报】明天截止：请报送2024年第一季度推进情况（{LONGTING}）"

    record(workspace_q1, LONGTING, VERDICT_ACCEPTED)
    late = mail.send_reminders(workspace_q1, Q1, now=dt.datetime(2024, 3, 30, 9))
    assert [d.unit for d in late.sent] == [NDRC]
    overdue = inbox.messages[-1].message
    assert overdue["Subject"] == f"【退回修改】请尽快重新报送2024年第一季度推进情况（{NDRC}）"
    assert "已过 2 天" in text_of(overdue) and "逾期未报" not in text_of(overdue)


def test_remind_stage_by_days_left():
    deadline = dt.date(2024, 3, 28)
    assert [mail.remind_stage(deadline - dt.timedelta(days=d), deadline) for d in (7, 2, 1, 0, -1)] == [
        "week", "week", "day", "day", "overdue"]


# --- receipts ------------------------------------------------------------------------------------


def test_receipts_are_sent_once_per_content(workspace_q1, server):
    inbox, _ = server
    record(workspace_q1, COMMERCE, VERDICT_ACCEPTED)
    folder = workspace_q1.paths.reports / "2024Q1" / RECEIPT_DIR
    folder.mkdir(parents=True)
    receipt = folder / receipt_name("2024Q1", COMMERCE)
    book = openpyxl.Workbook()
    book.active["A1"] = "回执一"
    book.save(receipt)

    run = mail.send_receipts(workspace_q1, Q1, now=dt.datetime(2024, 3, 22, 9))
    assert [d.unit for d in run.sent] == [COMMERCE] and run.missing == [NDRC, LONGTING, SHUNHE]
    msg = inbox.messages[0].message
    assert msg["Subject"] == f"【回执】2024年第一季度推进情况报送回执：已通过（{COMMERCE}）"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "2024Q1_市商务局_回执.xlsx"
    assert attachment.get_content() == receipt.read_bytes()

    assert not mail.send_receipts(workspace_q1, Q1, now=dt.datetime(2024, 3, 23, 9)).sent
    book.active["A1"] = "回执二"  # a later merge changed the receipt: the unit gets the new one
    book.save(receipt)
    assert [d.unit for d in mail.send_receipts(workspace_q1, Q1, now=dt.datetime(2024, 3, 24, 9)).sent] == [COMMERCE]


# --- settings and the password -------------------------------------------------------------------


def test_mail_settings_defaults_and_errors(tmp_path):
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    settings = mail_settings(load_config(tmp_path))
    assert (settings.host, settings.port, settings.security) == ("localhost", 25, "none")
    assert settings.sender == settings.reply_to == "ducha@example.com"
    for text, message in [
        ('[mail]\nsecurity = "tls"\n', "security 应为 ssl、starttls、none 之一"),
        ("[mail]\nport = \"465\"\n", "[mail] port 类型不对"),
        ("[mail]\npassword = \"x\"\n", "未知配置项：password"),
        ('[mail]\nsender = "督查局"\n', "sender 不是有效的邮箱地址"),
    ]:
        (tmp_path / "ducha.toml").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            mail_settings(load_config(tmp_path))


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_password_comes_only_from_the_environment(tmp_path, monkeypatch):
    def authenticate(server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = auth_data.login == b"ducha" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    use_ledger(monkeypatch, mail_ledger())
    with smtp_server(authenticator=authenticate, auth_require_tls=False, auth_required=True) as (inbox, port):
        write_config(tmp_path, port, extra='user = "ducha"\n')
        config = load_config(tmp_path)
        prefill.generate(config, Q1, now=SEND_DAY)
        monkeypatch.delenv(PASSWORD_ENV, raising=False)
        with pytest.raises(DuchaError, match="DUCHA_SMTP_PASSWORD"):
            mail.send_workbooks(config, Q1, now=SEND_DAY)

        monkeypatch.setenv(PASSWORD_ENV, "wrong")
        wrong = mail.send_workbooks(config, Q1, now=SEND_DAY)
        assert len(wrong.failed) == 3 and inbox.sessions == 1  # tried once, not once per unit
        assert wrong.failed[0].error.startswith("登录邮件服务器 127.0.0.1") and "用户名或密码不对" in wrong.failed[0].error

        monkeypatch.setenv(PASSWORD_ENV, "s3cret")
        assert [d.unit for d in mail.send_workbooks(config, Q1, now=SEND_DAY).sent] == MAILED


# --- CLI -----------------------------------------------------------------------------------------


def test_cli_send_remind_receipts(workspace_q1, server):
    inbox, _ = server
    runner = CliRunner()
    root = ["--config", str(workspace_q1.root)]
    dry = runner.invoke(cli, [*root, "send", "--period", "2024Q1", "--dry-run", "--units", "市商务局，龙亭区"])
    assert dry.exit_code == 0, dry.output
    assert "未发送任何邮件" in dry.output and "outbox/2024Q1/mail" in dry.output.replace("\\", "/")

    inbox.refuse.add(ADDRESSES[LONGTING])
    sent = runner.invoke(cli, [*root, "send", "--period", "2024Q1", "--json"])
    assert sent.exit_code == 1  # a failed message is worth a non-zero exit for cron
    data = json.loads(sent.output)
    assert [(d["unit"], d["result"]) for d in data["deliveries"]] == [
        (NDRC, "sent"), (COMMERCE, "sent"), (LONGTING, "failed"),
    ]
    assert data["no_address"] == {SHUNHE: "顺河区办公室"}

    text = runner.invoke(cli, [*root, "send", "--period", "2024Q1"])
    assert text.exit_code == 1
    assert f"{LONGTING}  lt@kaifeng.example.cn  发送失败：收件人被拒绝" in text.output
    assert f"{NDRC}  fgw@kaifeng.example.cn  已发过，跳过" in text.output
    assert "没有有效邮箱、未发送（请在总台账“单位名录”的“邮箱”列填写或改正）：顺河区（“顺河区办公室”）" in text.output

    assert runner.invoke(cli, [*root, "receipts", "--period", "2024Q1"]).exit_code == 2
    unknown = runner.invoke(cli, [*root, "remind", "--period", "2024Q1", "--units", "市教育局"])
    assert unknown.exit_code == 2 and "市教育局" in unknown.output


# --- the real ledger and the real generator ------------------------------------------------------


def test_every_unit_of_the_real_ledger_gets_exactly_its_own_workbook(workspace, server, monkeypatch):
    """The notice's ledger as the clerk completes it: an address typed into 单位名录 for each unit."""
    from toolkit.ledger.build import build_ledger
    from toolkit.ledger.sheets import SHEET_UNITS

    inbox, port = server
    write_config(workspace, port)
    config = load_config(workspace)
    build_ledger(config, now=SEND_DAY)
    book = openpyxl.load_workbook(config.paths.ledger)
    sheet = book[SHEET_UNITS]
    header = [c.value for c in sheet[1]]
    name_col, mail_col = header.index("单位名称"), header.index("邮箱")
    addresses = {}
    for n, row in enumerate(sheet.iter_rows(min_row=2), start=1):
        addresses[row[name_col].value] = row[mail_col].value = f"unit{n}@kaifeng.example.cn"
    book.save(config.paths.ledger)

    generated = prefill.generate(config, Q1, now=SEND_DAY)
    run = mail.send_workbooks(config, Q1, now=SEND_DAY)
    units = [w.unit for w in generated.workbooks]
    assert len(units) > 60 and [d.unit for d in run.sent] == units
    assert not run.failed and not run.no_address and inbox.sessions == 1
    for unit, received in zip(units, inbox.messages, strict=True):
        assert received.recipients == [addresses[unit]]
        [attachment] = list(received.message.iter_attachments())
        assert attachment.get_filename() == file_name(Q1, unit)
        assert unit_cell(attachment.get_content()) == f"填报单位：{unit}"
    assert not mail.send_workbooks(config, Q1, now=SEND_DAY).sent


def test_eml_names_are_safe_file_names():
    assert mail.eml_name(Q1, "remind", "week", 'a/b:c') == "2024Q1_a_b_c_remind-week.eml"
    assert Path(mail.eml_name(Q1, "receipt", "0123abcd", COMMERCE)).name == "2024Q1_市商务局_receipt.eml"


def test_local_inbox_saves_what_it_receives_for_the_demo(workspace_q1, tmp_path):
    folder = tmp_path / "收件箱"
    with local_inbox(workspace_q1, folder) as local:
        run = mail.send_workbooks(local, Q1, units=[COMMERCE], now=SEND_DAY)
    assert [d.unit for d in run.sent] == [COMMERCE]
    [saved] = sorted(folder.glob("*.eml"))
    msg = BytesParser(policy=policy.default).parsebytes(saved.read_bytes())
    assert msg["To"].addresses[0].addr_spec == ADDRESSES[COMMERCE]
    assert unit_cell(next(msg.iter_attachments()).get_content()) == f"填报单位：{COMMERCE}"


def test_the_workspace_templates_folder_overrides_the_wording(workspace_q1, server):
    inbox, _ = server
    (workspace_q1.root / "templates").mkdir()
    (workspace_q1.root / "templates" / "mail_send.subject.j2").write_text(
        "请填报{{ period.label }}台账（{{ unit.name }}）\n", encoding="utf-8"
    )
    mail.send_workbooks(workspace_q1, Q1, units=[COMMERCE], now=SEND_DAY)
    msg = inbox.messages[0].message
    assert msg["Subject"] == "请填报第一季度台账（市商务局）"
    assert "请于2024年3月28日前填写完毕" in text_of(msg)  # the body still comes from the bundled template


# --- TLS: an intranet server with its own certificate ----------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as an intranet mail server has (made by openssl)."""
    import subprocess

    from tests.conftest import require_tool

    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "server.pem", folder / "server.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def _server_context(certificate):  # noqa: ANN001
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_to_a_server_trusted_through_cafile(tmp_path, monkeypatch, certificate, security):
    """STARTTLS (the server refuses mail before it) and implicit SSL both deliver once the clerk
    names the server's certificate in [mail] cafile; verification is never switched off."""
    use_ledger(monkeypatch, mail_ledger())
    server_tls = ({"tls_context": _server_context(certificate), "require_starttls": True} if security == "starttls"
                  else {"ssl_context": _server_context(certificate)})
    with smtp_server(**server_tls) as (inbox, port):
        write_config(tmp_path, port, extra="")
        text = (tmp_path / "ducha.toml").read_text(encoding="utf-8")
        text = text.replace('security = "none"', f'security = "{security}"\ncafile = "{certificate[0]}"')
        (tmp_path / "ducha.toml").write_text(text, encoding="utf-8")
        config = load_config(tmp_path)
        prefill.generate(config, Q1, now=SEND_DAY)
        run = mail.send_workbooks(config, Q1, now=SEND_DAY)
    assert [d.unit for d in run.sent] == MAILED and not run.failed
    assert [r.recipients for r in inbox.messages] == [[ADDRESSES[u]] for u in MAILED]


def test_an_untrusted_certificate_fails_with_advice_and_sends_nothing(tmp_path, monkeypatch, certificate):
    use_ledger(monkeypatch, mail_ledger())
    with smtp_server(tls_context=_server_context(certificate), require_starttls=True) as (inbox, port):
        write_config(tmp_path, port)
        text = (tmp_path / "ducha.toml").read_text(encoding="utf-8").replace('"none"', '"starttls"')
        (tmp_path / "ducha.toml").write_text(text, encoding="utf-8")
        config = load_config(tmp_path)
        prefill.generate(config, Q1, now=SEND_DAY)
        run = mail.send_workbooks(config, Q1, now=SEND_DAY)
    assert not inbox.messages and not run.sent
    assert [d.unit for d in run.failed] == MAILED
    assert "证书无法验证" in run.failed[0].error and "[mail] cafile" in run.failed[0].error


def test_a_missing_cafile_is_a_config_error(tmp_path):
    (tmp_path / "ducha.toml").write_text('[mail]\ncafile = "内网CA.pem"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="cafile 指向的证书文件不存在"):
        mail_settings(load_config(tmp_path))


def test_a_bad_bureau_address_is_one_clear_error_naming_bureau_email(tmp_path):
    """x@126..com used to crash doctor and send with a traceback (HeaderParseError)."""
    (tmp_path / "ducha.toml").write_text('[bureau]\nemail = "x@126..com"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[bureau\] email 不是有效的邮箱地址：x@126\.\.com"):
        mail_settings(load_config(tmp_path))
    result = CliRunner().invoke(cli, ["--config", str(tmp_path), "send", "--period", "2024Q1", "--dry-run"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "[bureau] email 不是有效的邮箱地址" in result.output
