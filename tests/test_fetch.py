"""`ducha fetch` against a real Dovecot on loopback: returns land in the drop folder once, with the
mail's arrival as their received time, whatever the mailbox or the connection does."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.imap_fixtures import PASSWORD, TZ, USER, Proxy, dovecot, mail, raw_mail, rfc2047_gbk, rfc2231
from tests.merge_fixtures import COMMERCE, NDRC
from tests.smtp_fixtures import ADDRESSES, mail_ledger, use_ledger
from toolkit import routine
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo.unitsim import fill
from toolkit.mail import fetch  # noqa: F401 — imported before use_ledger patches its load_ledger
from toolkit.period import Period
from toolkit.quarter import fetched, prefill
from toolkit.quarter.store import open_store

ARRIVAL = dt.datetime(2024, 3, 27, 16, 5, 9, tzinfo=TZ)
WORKBOOK_NAME = "2024Q1_开封市发展和改革委员会_进展填报.xlsx"  # long Chinese: sent as RFC 2231
STRANGER = "someone@qq.example.com"


def workbook_bytes(text: str = "x") -> bytes:
    """A small xlsx-shaped package (a zip with [Content_Types].xml): saved as it is, not unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", f"<workbook>{text}</workbook>")
    return buffer.getvalue()


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A workspace on the small mail ledger whose [mail.imap] points at a fresh Dovecot."""
    use_ledger(monkeypatch, mail_ledger())
    monkeypatch.setenv("DUCHA_IMAP_PASSWORD", PASSWORD)
    root = tmp_path / "ws"
    (root / "drop").mkdir(parents=True)
    with dovecot(tmp_path) as server:
        (root / "ducha.toml").write_text(
            f'[mail.imap]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "plain"\nuser = "{USER}"\ntimeout = 10\n',
            encoding="utf-8")
        yield root, server


def ducha(root: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["--config", str(root), *args], prog_name="ducha", catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def fetch_json(root: Path, *args: str) -> dict:
    return json.loads(ducha(root, "fetch", "--period", "2024Q1", "--json", *args))


def dropped(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "drop").iterdir())


def fetched_rows(root: Path) -> list[tuple]:
    with open_store(root / "ducha.db") as store:
        return store.conn.execute("SELECT uid, seq, sender, unit, name, saved, note, arrival FROM fetched "
                                  "ORDER BY uid, seq").fetchall()


def test_a_return_is_saved_once_under_a_safe_name_with_its_arrival_as_received_time(ws) -> None:
    root, server = ws
    data = workbook_bytes()
    server.append(raw_mail(ADDRESSES[NDRC], "一季度进展报表", rfc2231(WORKBOOK_NAME), data), ARRIVAL)
    later = fetch_json(root, "--since", "2024-03-28")  # arrived on the 27th: before --since
    assert (later["since"], later["messages"], dropped(root)) == ("2024-03-28", 0, [])

    out = ducha(root, "fetch", "--period", "2024Q1")
    name = f"20240327-160509_{hashlib.sha256(data).hexdigest()[:8]}_{WORKBOOK_NAME}"
    assert dropped(root) == [name]
    saved = root / "drop" / name
    assert saved.read_bytes() == data
    assert saved.stat().st_mtime == ARRIVAL.timestamp()
    assert out.splitlines() == [
        f"  2024-03-27 16:05:09  {NDRC}  {WORKBOOK_NAME}  已保存为 {name}",
        "收件邮箱 INBOX（2024-01-01 起）：新邮件 1 封，保存附件 1 个",
    ]
    assert fetched_rows(root) == [(1, 0, ADDRESSES[NDRC], NDRC, WORKBOOK_NAME, name, "", "2024-03-27T16:05:09")]

    again = fetch_json(root)
    assert (again["messages"], again["saved"]) == (0, 0)
    assert dropped(root) == [name] and len(fetched_rows(root)) == 1


def test_a_duplicate_resend_a_stranger_a_mail_without_attachment_a_huge_one_and_a_zip(ws) -> None:
    root, server = ws
    data = workbook_bytes()
    server.append(mail(ADDRESSES[NDRC], "报表", ("发改委.xlsx", data)), ARRIVAL)
    server.append(mail(ADDRESSES[NDRC], "重发：报表", ("发改委（重发）.xlsx", data)), ARRIVAL + dt.timedelta(hours=1))
    server.append(mail(STRANGER, "报表", ("不知道哪个单位.xlsx", workbook_bytes("s"))), ARRIVAL)
    server.append(mail(ADDRESSES[COMMERCE], "忘了附件"), ARRIVAL)
    server.append(mail(ADDRESSES[COMMERCE], "大附件", ("照片.jpg", b"\xff\xd8\xff" + b"0" * (1024 * 1024 + 10))), ARRIVAL)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("市商务局报表.xlsx", workbook_bytes("c"))
        zf.writestr("佐证/现场.jpg", b"\xff\xd8\xffjpeg")
        zf.writestr("__MACOSX/._市商务局报表.xlsx", b"junk")
    server.append(mail(ADDRESSES[COMMERCE], "压缩包", ("商务局.zip", packed.getvalue())), ARRIVAL)
    with (root / "ducha.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[limits]\nmax_file_mb = 1\n")

    run = fetch_json(root)
    assert (run["messages"], run["saved"]) == (6, 4)
    first = fetched_rows(root)[0][5]
    rows = {(uid, seq): (unit, name, bool(saved), note) for uid, seq, _s, unit, name, saved, note, _a in fetched_rows(root)}
    assert rows == {
        (1, 0): (NDRC, "发改委.xlsx", True, ""),
        (2, 0): (NDRC, "发改委（重发）.xlsx", False, f"与已收取的 {first} 内容相同，未重复保存"),
        (3, 0): (None, "不知道哪个单位.xlsx", True, "发件人邮箱不在总台账“单位名录”中，请核实是哪个单位报送的"),
        (4, 0): (COMMERCE, "", False, "邮件没有附件"),
        (5, 0): (COMMERCE, "照片.jpg", False, "附件大小 1.0 MB，超过上限 1 MB，未保存"),
        (6, 0): (COMMERCE, "商务局.zip/市商务局报表.xlsx", True, ""),
        (6, 1): (COMMERCE, "商务局.zip/佐证/现场.jpg", True, ""),
    }
    assert sorted(n.split("_", 2)[2] for n in dropped(root)) == sorted(
        ["发改委.xlsx", "不知道哪个单位.xlsx", "市商务局报表.xlsx", "现场.jpg"])
    out = ducha(root, "fetch", "--period", "2024Q1")
    assert out.splitlines() == ["收件邮箱 INBOX（2024-01-01 起）：新邮件 0 封，保存附件 0 个"]


def test_a_connection_dropped_mid_fetch_loses_nothing_and_the_rerun_completes(ws, monkeypatch) -> None:
    root, server = ws
    for n in range(3):
        server.append(mail(ADDRESSES[NDRC], f"报表{n}", (f"第{n}份.xlsx", workbook_bytes(str(n)))), ARRIVAL)
    proxy = Proxy(server.port)
    config = (root / "ducha.toml").read_text(encoding="utf-8")
    (root / "ducha.toml").write_text(config.replace(f"port = {server.port}", f"port = {proxy.port}"), encoding="utf-8")
    real = fetched.record_message

    def record_then_drop(store, parts):  # noqa: ANN001, ANN202 — the line drops after the first message
        real(store, parts)
        proxy.cut()

    monkeypatch.setattr(fetched, "record_message", record_then_drop)
    out = ducha(root, "fetch", "--period", "2024Q1", code=1)
    assert "收取中断（本次已收取的 1 封已保存）" in out and "请重新运行 ducha fetch，已收取的不会重复保存" in out
    assert len(dropped(root)) == 1 and len(fetched_rows(root)) == 1

    monkeypatch.setattr(fetched, "record_message", real)
    proxy.resume()
    run = fetch_json(root)
    proxy.close()
    assert (run["messages"], run["saved"]) == (2, 2)
    assert sorted(n.split("_", 2)[2] for n in dropped(root)) == ["第0份.xlsx", "第1份.xlsx", "第2份.xlsx"]
    assert [r[0] for r in fetched_rows(root)] == [1, 2, 3]


def test_mailed_on_the_27th_fetched_on_the_29th_is_on_time(ws) -> None:
    root, server = ws
    config = load_config(root)
    prefill.generate(config, Period.parse("2024Q1"), now=dt.datetime(2024, 3, 1, 9))

    filled = fill(root / "outbox" / "2024Q1" / f"2024Q1_{NDRC}.xlsx", root / "filled.xlsx")
    server.append(mail(ADDRESSES[NDRC], "一季度报表", (f"{NDRC}.xlsx", Path(filled).read_bytes())),
                  dt.datetime(2024, 3, 27, 17, 30, tzinfo=TZ))
    ducha(root, "fetch", "--period", "2024Q1")
    [saved] = list((root / "drop").iterdir())
    # The clerk moves it into a subfolder by copying: the copy's time is today, long after the deadline.
    (root / "drop" / "一季度").mkdir()
    shutil.copyfile(saved, root / "drop" / "一季度" / "发改委.xlsx")
    saved.unlink()
    assert os.stat(root / "drop" / "一季度" / "发改委.xlsx").st_mtime > dt.datetime(2024, 3, 29, tzinfo=TZ).timestamp()

    merged = json.loads(ducha(root, "merge", "--period", "2024Q1", "--json"))
    [entry] = merged["files"]
    assert (entry["unit"], entry["received"], entry["late"]) == (NDRC, "2024-03-27T17:30:00", False)


def test_over_tls_gbk_encoded_words_forwarded_mails_winmail_and_inline_images(tmp_path, monkeypatch) -> None:
    use_ledger(monkeypatch, mail_ledger())
    monkeypatch.setenv("DUCHA_IMAP_PASSWORD", PASSWORD)
    root = tmp_path / "ws"
    (root / "drop").mkdir(parents=True)
    with dovecot(tmp_path, tls=True) as server:
        (root / "ducha.toml").write_text(
            f'[mail.imap]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "tls"\nuser = "{USER}"\n'
            f'cafile = "{server.cafile}"\n', encoding="utf-8")
        server.append(raw_mail(ADDRESSES[COMMERCE], "报表", rfc2047_gbk("市商务局一季度.xlsx"), workbook_bytes()), ARRIVAL)
        inner = mail(ADDRESSES[NDRC], "原邮件", ("转发的报表.xlsx", workbook_bytes("f")))
        outer = mail(ADDRESSES[NDRC], "转发：原邮件")
        outer.add_attachment(inner)  # message/rfc822
        outer.add_attachment(b"\x78\x9f\x3e\x22tnef", maintype="application", subtype="ms-tnef", filename="winmail.dat")
        outer.add_attachment(b"\x89PNG\r\n\x1a\nlogo", maintype="image", subtype="png", disposition="inline",
                             filename="image001.png")
        server.append(outer, ARRIVAL)
        fetch_json(root)
    assert [(uid, unit, name, bool(saved), note) for uid, _q, _s, unit, name, saved, note, _a in fetched_rows(root)] == [
        (1, COMMERCE, "市商务局一季度.xlsx", True, ""),
        (2, NDRC, "转发的报表.xlsx", True, ""),
        (2, NDRC, "winmail.dat", False, "Outlook 的 winmail.dat 格式附件，无法取出其中的文件；请该单位改用普通附件重新发送"),
    ]


def test_a_dry_run_saves_and_records_nothing_and_fetched_mail_can_be_marked_and_moved(ws) -> None:
    root, server = ws
    server.append(mail(STRANGER, "报表", ("报表.xlsx", workbook_bytes())), ARRIVAL)
    out = ducha(root, "fetch", "--period", "2024Q1", "--dry-run")
    assert out.splitlines()[-2:] == [
        f"注意：以下发件人不在总台账“单位名录”中，附件将保存，请核实：{STRANGER}",
        "收件邮箱 INBOX（2024-01-01 起）：新邮件 1 封，可保存附件 1 个（试运行，未保存任何文件）",
    ]
    assert dropped(root) == [] and fetched_rows(root) == []

    with server.client() as client:
        client.create_folder("已收取")
    with (root / "ducha.toml").open("a", encoding="utf-8") as fh:
        fh.write('mark_seen = true\nmove_to = "已收取"\n')
    assert fetch_json(root)["saved"] == 1
    with server.client() as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        client.select_folder("已收取")
        assert [b"\\Seen" in flags for flags in client.get_flags(client.search()).values()] == [True]


def test_without_a_mailbox_or_a_password_fetch_says_what_to_set(ws, monkeypatch) -> None:
    root, _server = ws
    monkeypatch.delenv("DUCHA_IMAP_PASSWORD")
    assert "错误：请先设置环境变量 DUCHA_IMAP_PASSWORD（收件邮箱 ducha 的密码或授权码）" in ducha(root, "fetch", code=1)
    monkeypatch.setenv("DUCHA_IMAP_PASSWORD", "wrong")
    assert "登录失败（用户名或密码/授权码不对）" in ducha(root, "fetch", code=1)
    (root / "ducha.toml").write_text("", encoding="utf-8")
    assert "错误：未配置收件邮箱：请在 ducha.toml 的 [mail.imap] 填写 host、user 等" in ducha(root, "fetch", code=1)


def doctor_imap(root: Path) -> dict:
    result = CliRunner().invoke(cli, ["--config", str(root), "doctor", "--json"], prog_name="ducha")
    return {c["key"]: c for c in json.loads(result.output)["checks"]}.get("imap", {})


def test_doctor_logs_in_to_the_mailbox_when_one_is_configured(ws, monkeypatch) -> None:
    root, server = ws
    server.append(mail(ADDRESSES[NDRC], "报表", ("a.xlsx", workbook_bytes())), ARRIVAL)
    check = doctor_imap(root)
    assert (check["status"], check["detail"]) == ("ok", f"{USER}@127.0.0.1:{server.port} 登录成功，INBOX 中有 1 封邮件")
    monkeypatch.setenv("DUCHA_IMAP_PASSWORD", "wrong")
    check = doctor_imap(root)
    assert check["status"] == "fail" and "登录失败（用户名或密码/授权码不对）" in check["detail"]
    (root / "ducha.toml").write_text("", encoding="utf-8")
    assert doctor_imap(root) == {}  # no mailbox configured: no check


def test_each_scheduled_merge_fetches_the_mailbox_first(ws) -> None:
    root, server = ws
    config = load_config(root)
    period = Period.parse("2024Q1")
    prefill.generate(config, period, now=dt.datetime(2024, 3, 1, 9))
    filled = fill(root / "outbox" / "2024Q1" / f"2024Q1_{COMMERCE}.xlsx", root / "filled.xlsx")
    server.append(mail(ADDRESSES[COMMERCE], "报表", (f"{COMMERCE}.xlsx", Path(filled).read_bytes())),
                  dt.datetime(2024, 3, 28, 23, 50, tzinfo=TZ))
    action = routine.Action(dt.date(2024, 3, 29), "2024Q1", routine.MERGE, routine.FINAL)
    result = routine.RUNNERS[routine.MERGE](config, period, action, dt.datetime(2024, 3, 29, 9, tzinfo=TZ))
    assert result == (routine.DONE, "收取新邮件 1 封、保存附件 1 个；新处理文件 1 个，累计收到 1 个")
    merged = json.loads(ducha(root, "merge", "--period", "2024Q1", "--json"))
    assert [(f["unit"], f["received"], f["late"]) for f in merged["files"]] == [(COMMERCE, "2024-03-28T23:50:00", False)]

    server.stop()  # the mailbox is unreachable: the merge still runs, the action is tried again
    status, summary = routine.RUNNERS[routine.MERGE](config, period, action, dt.datetime(2024, 3, 29, 10, tzinfo=TZ))
    assert status == routine.FAILED
    assert summary.startswith("收取邮件失败（无法连接收件邮箱") and summary.endswith("先按收件夹现有文件汇总；新处理文件 0 个，累计收到 1 个")


def test_a_path_in_an_attachment_name_never_leaves_the_drop_folder(ws) -> None:
    root, server = ws
    server.append(raw_mail(ADDRESSES[NDRC], "报表", rfc2231("../../..\\outbox\\报表?.xlsx"), b"data"), ARRIVAL)
    fetch_json(root)
    [name] = dropped(root)
    assert name.startswith("20240327-160509_") and name.endswith("_报表_.xlsx") and "/" not in name
    assert not (root / "outbox").exists()


def test_at_a_terminal_without_the_variable_the_password_is_asked_and_not_shown(ws, monkeypatch) -> None:
    root, server = ws
    server.append(mail(ADDRESSES[NDRC], "报表", ("a.xlsx", workbook_bytes())), ARRIVAL)
    monkeypatch.delenv("DUCHA_IMAP_PASSWORD")
    monkeypatch.setattr("toolkit.cli.fetch.interactive", lambda: True)
    result = CliRunner().invoke(cli, ["--config", str(root), "fetch", "--period", "2024Q1"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("收件邮箱密码或授权码（也可设置环境变量 DUCHA_IMAP_PASSWORD）:")
    assert PASSWORD not in result.output and len(dropped(root)) == 1
