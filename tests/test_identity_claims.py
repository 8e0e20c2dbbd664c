"""A file whose signature fails still reaches its sender: when the 填报单位 line and the task rows
name one unit, the refused file is that unit's (claimed, not verified), it counts 退回修改 and gets
a receipt saying why; the unit an edited _meta names is never credited (issue 11.6)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import openpyxl
import pytest
from click.testing import CliRunner

from tests import merge_fixtures
from tests.return_fixtures import COMMERCE, NDRC, check, issue
from tests.smtp_fixtures import ADDRESSES, mail_ledger, smtp_server, use_ledger, write_config
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.forms.plan import file_name
from toolkit.mail import runs as mail
from toolkit.model import VERDICT_ACCEPTED, VERDICT_REJECTED
from toolkit.outputs.receipts import RECEIPT_DIR, receipt_name
from toolkit.period import Period
from toolkit.quarter import prefill
from toolkit.quarter.frames import build_merged
from toolkit.quarter.rules import UNIT_ON_TIME, UNIT_REJECTED, decide_verdicts
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
CLAIMED = ("隐藏的校验信息（_meta）被修改或来自其他工作区，签名不符，无法确认报送单位和报告期，本文件未予采用。"
           "已按“填报单位”和任务行认定为市商务局报送（未经校验）。请使用督查局下发给本单位的原表重新填报")


def edit_meta(key: str, value: str):
    def mutate(wb):  # noqa: ANN001
        for row in wb[layout.SHEET_META].iter_rows():
            if row[0].value == key:
                row[1].value = value

    return mutate


def set_unit_line(text: str):
    def mutate(wb):  # noqa: ANN001
        wb[layout.SHEET_PROGRESS].cell(layout.UNIT_ROW, 1).value = text

    return mutate


# --- intake ------------------------------------------------------------------------------------


def test_an_edited_meta_is_attributed_to_the_unit_its_unit_line_and_rows_name(tmp_path):
    outbox = tmp_path / "outbox"
    forged = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "drop" / "商务局.xlsx", mutate=[edit_meta("unit", NDRC)])
    checked = check(forged)
    assert [(i.level, i.code, i.sheet, i.message) for i in checked.issues] == [
        ("error", "signature_invalid", "_meta", f"_meta：{CLAIMED}")]
    assert (checked.unit, checked.claimed, checked.signed, checked.rejected) == (COMMERCE, True, False, True)
    assert checked.tasks == [] and checked.indicators == []

    # Another workspace's secret: the same, claimed by the unit the visible table names.
    other = check(unitsim.fill(issue(outbox, NDRC), tmp_path / "drop" / "发改委.xlsx", mutate=[edit_meta("period", "2024Q2")]))
    assert (other.unit, other.claimed, [i.code for i in other.issues]) == (NDRC, True, ["signature_invalid"])

    # No claim without both clues agreeing on one unit: the line names 发改委 but the rows are 商务局's,
    # or the line names nobody.
    for name, line in (("改了单位行.xlsx", f"{layout.UNIT_PREFIX}{NDRC}"), ("空单位行.xlsx", layout.UNIT_PREFIX)):
        unclaimed = check(unitsim.fill(issue(outbox, COMMERCE), tmp_path / "drop" / name,
                                       mutate=[edit_meta("unit", NDRC), set_unit_line(line)]))
        assert (unclaimed.unit, unclaimed.claimed) == (None, False), name
        assert unclaimed.issues[0].message.startswith("_meta：隐藏的校验信息（_meta）被修改或来自其他工作区，签名不符，"
                                                      "无法确认报送单位")


def test_the_store_keeps_the_claim_and_upgrades_an_older_store(tmp_path):
    claimed = merge_fixtures.checked(COMMERCE, "2024-03-20T10:00:00", issues=[merge_fixtures.error("signature_invalid")])
    claimed.claimed = True
    db = tmp_path / "ducha.sqlite"
    with open_store(db) as store:
        store.record(claimed, "2024Q1", "archive/x.xlsx", VERDICT_REJECTED)
        [record] = store.load_period("2024Q1")
    assert (record.unit, record.claimed) == (COMMERCE, True)

    with sqlite3.connect(db) as conn:  # a store written before claims existed
        conn.execute("ALTER TABLE submissions DROP COLUMN claimed")
        conn.execute("PRAGMA user_version = 3")
    with open_store(db) as store:
        [record] = store.load_period("2024Q1")
        assert record.claimed is False
        store.record(claimed, "2024Q1", "archive/x.xlsx", VERDICT_REJECTED)
        assert store.load_period("2024Q1")[0].claimed is True


def test_a_claimed_file_is_always_rejected_and_never_outranks_an_accepted_one():
    claim = merge_fixtures.checked(COMMERCE, "2024-03-21T10:00:00")  # no error: the claim alone rejects it
    claim.claimed = True
    honest = merge_fixtures.checked(NDRC, "2024-03-20T10:00:00")
    records = merge_fixtures.file_records(claim, honest)
    assert decide_verdicts(records) == {records[0].sha256: VERDICT_REJECTED, records[1].sha256: VERDICT_ACCEPTED}
    merged = build_merged(merge_fixtures.small_ledger(), records, Q1, dt.date(2024, 3, 25))
    assert (merged.unit_status[COMMERCE], merged.unit_status[NDRC]) == (UNIT_REJECTED, UNIT_ON_TIME)
    assert not merged.tasks["各单位进展"].str.contains(COMMERCE).any() and merged.reports["单位"].tolist() == [NDRC] * 2

    earlier = merge_fixtures.checked(COMMERCE, "2024-03-19T10:00:00")  # the unit's own good file stands
    records = merge_fixtures.file_records(earlier, claim)
    merged = build_merged(merge_fixtures.small_ledger(), records, Q1, dt.date(2024, 3, 25))
    assert [f.verdict for f in merged.files] == [VERDICT_ACCEPTED, VERDICT_REJECTED]
    assert merged.unit_status[COMMERCE] == UNIT_ON_TIME


# --- merge, receipt and mail end to end -----------------------------------------------------------


@pytest.fixture
def workspace_q1(tmp_path, monkeypatch):
    with smtp_server() as (inbox, port):
        use_ledger(monkeypatch, mail_ledger())
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        prefill.generate(config, Q1, now=dt.datetime(2024, 3, 7, 9, 0))
        yield config, inbox


def test_the_sender_of_a_forged_file_is_told_and_the_named_unit_is_not_credited(workspace_q1):
    config, inbox = workspace_q1
    issued = config.paths.outbox / Q1.key / file_name(Q1, COMMERCE)
    unitsim.fill(issued, config.paths.drop / "商务局一季度.xlsx", mutate=[edit_meta("unit", NDRC)])
    runner = CliRunner()
    root = ["--config", str(config.root)]

    text = runner.invoke(cli, [*root, "merge", "--period", "2024Q1"])
    assert text.exit_code == 0, text.output
    assert "退回修改：市商务局" in text.output
    assert f"新退回 {config.paths.drop / '商务局一季度.xlsx'}（市商务局，按填报单位认定，未经校验）：错误 1 处" in text.output

    done = runner.invoke(cli, [*root, "merge", "--period", "2024Q1", "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert (summary["units_rejected"], summary["units_reported"]) == ([COMMERCE], [])
    assert NDRC in summary["units_missing"] and COMMERCE not in summary["units_missing"]
    [entry] = summary["files"]
    assert (entry["unit"], entry["claimed"], entry["verdict"]) == (COMMERCE, True, VERDICT_REJECTED)

    receipts = config.paths.reports / Q1.key / RECEIPT_DIR
    assert sorted(p.name for p in receipts.iterdir()) == [receipt_name(Q1.key, COMMERCE)]
    front = [row for row in openpyxl.load_workbook(receipts / receipt_name(Q1.key, COMMERCE))["回执"].iter_rows(
        values_only=True)]
    texts = [row[0] for row in front if row[0]]
    assert "结论：报表有错误，未能采用，请按“问题清单”逐项修改后重新报送。" in texts
    assert ("文件“商务局一季度.xlsx”中隐藏的校验信息（_meta）被修改，签名不符，无法确认是本单位下发的填报表，未予采用；"
            "因“填报单位”和任务行都是本单位的，按本单位收到的文件处理（未经校验）。"
            "请使用督查局下发给本单位的原填报表重新填写后报送，不要修改或复制隐藏的工作表。") in texts

    run = mail.send_receipts(config, Q1, now=dt.datetime(2024, 3, 22, 9))
    assert [d.unit for d in run.sent] == [COMMERCE] and NDRC in run.missing
    [message] = inbox.to(ADDRESSES[COMMERCE])
    assert message["Subject"] == f"【回执】2024年第一季度推进情况报送回执：请修改后重新报送（{COMMERCE}）"
    assert not inbox.to(ADDRESSES[NDRC])

