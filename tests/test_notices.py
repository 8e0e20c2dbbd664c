"""Escalating notices (issue 16): 提示单 → 督办单 → 通报 and the 约谈 list, issued once per cause
and level across reruns and restarts, numbered per year and level, written as Word (and PDF), and
mailed to the unit."""

from __future__ import annotations

import datetime as dt
import io

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn
from PIL import Image

from tests.conftest import require_tool
from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE, checked
from tests.smtp_fixtures import ADDRESSES, mail_ledger, smtp_server, use_ledger, write_config
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.errors import ConfigError, DuchaError
from toolkit.model import VERDICT_ACCEPTED, Milestone
from toolkit.office import page_count, pdf_pages
from toolkit.outputs.notices import publish_notices
from toolkit.period import Period
from toolkit.quarter import notices as notices_module
from toolkit.quarter.collect import load_merged
from toolkit.quarter.notices import BLUE, RED, YELLOW, check, notice_settings, notices_of
from toolkit.quarter.store import open_store

Q1, Q2 = Period.parse("2024Q1"), Period.parse("2024Q2")


def record(config, unit: str, answers=None, period: str = "2024Q1", received: str = "2024-03-20T10:00:00") -> None:  # noqa: ANN001
    with open_store(config.paths.store) as store:
        store.record(checked(unit, received, answers, period=period), period, "archive/x.xlsx", VERDICT_ACCEPTED)


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """The small ledger: 发改委 and 龙亭区 reported Q1 on pace, 商务局 at 0 % on task 2 (red), 顺河区 silent."""
    use_ledger(monkeypatch, mail_ledger())
    write_config(tmp_path, 25)
    config = load_config(tmp_path)
    record(config, NDRC)
    record(config, COMMERCE, {2: ("正常推进", 0.0), 3: ("正常推进", 30.0)})
    record(config, LONGTING)
    return config


def run_check(config, day: dt.date, period: Period = Q1) -> list[tuple[str, str, int, int]]:  # noqa: ANN001
    """One check; the notices it issued as (unit, kind, level, number)."""
    merged = load_merged(config, period, day)
    with open_store(config.paths.store) as store:
        return [(n.unit, n.kind, n.level, n.number) for n in check(store, merged, notice_settings(config), day)]


def test_a_silent_unit_escalates_once_per_level_across_reruns_and_restarts(ws):
    """Each check opens the store anew, as a new ducha process (a restart) does."""
    first = run_check(ws, dt.date(2024, 3, 29))
    assert first == [(SHUNHE, "missing", BLUE, 1), (COMMERCE, "red", BLUE, 2)]
    assert run_check(ws, dt.date(2024, 3, 29)) == []  # rerun, same inputs
    assert run_check(ws, dt.date(2024, 4, 8)) == []  # within the 10 days of the 提示单 (due 4月8日)
    assert run_check(ws, dt.date(2024, 4, 9)) == [(SHUNHE, "missing", YELLOW, 1), (COMMERCE, "red", YELLOW, 2)]
    assert run_check(ws, dt.date(2024, 4, 9)) == []
    assert run_check(ws, dt.date(2024, 4, 17)) == [(SHUNHE, "missing", RED, 1), (COMMERCE, "red", RED, 2)]
    assert run_check(ws, dt.date(2024, 5, 30)) == []  # 通报 is the last level
    with open_store(ws.paths.store) as store:
        stored = [(n.unit, n.level, n.issued.isoformat(), n.due.isoformat()) for n in notices_of(store, "2024Q1")]
    assert stored == [
        (SHUNHE, BLUE, "2024-03-29", "2024-04-08"), (COMMERCE, BLUE, "2024-03-29", "2024-04-08"),
        (SHUNHE, YELLOW, "2024-04-09", "2024-04-16"), (COMMERCE, YELLOW, "2024-04-09", "2024-04-16"),
        (SHUNHE, RED, "2024-04-17", "2024-04-22"), (COMMERCE, RED, "2024-04-17", "2024-04-22"),
    ]


def test_a_check_killed_halfway_issues_nothing_and_the_next_one_issues_each_notice_once(ws, monkeypatch):
    calls = []

    def dies_second_time(*args):  # noqa: ANN002
        calls.append(args)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    real = notices_module.next_number
    monkeypatch.setattr(notices_module, "next_number", dies_second_time)
    with pytest.raises(KeyboardInterrupt):
        run_check(ws, dt.date(2024, 3, 29))
    monkeypatch.setattr(notices_module, "next_number", real)
    assert run_check(ws, dt.date(2024, 3, 29)) == [(SHUNHE, "missing", BLUE, 1), (COMMERCE, "red", BLUE, 2)]
    assert run_check(ws, dt.date(2024, 3, 29)) == []


def test_a_check_before_the_deadline_does_not_count_a_report_not_yet_due(ws):
    assert run_check(ws, dt.date(2024, 3, 25)) == [(COMMERCE, "red", BLUE, 1)]


def test_a_check_before_the_deadline_clears_nothing_a_unit_has_not_yet_reported(ws):
    assert run_check(ws, dt.date(2024, 3, 29))[1] == (COMMERCE, "red", BLUE, 2)
    record(ws, NDRC, period="2024Q2", received="2024-06-20T10:00:00")
    assert run_check(ws, dt.date(2024, 6, 20), Q2) == []  # 商务局 has not reported Q2 yet: its task is not red
    record(ws, COMMERCE, {2: ("正常推进", 0.0), 3: ("正常推进", 55.0)}, period="2024Q2",
           received="2024-06-27T10:00:00")
    for unit in (LONGTING, SHUNHE):
        record(ws, unit, period="2024Q2", received="2024-06-27T10:00:00")
    # still at 0 % after the deadline: the same cause, escalated, not a new 提示单
    assert run_check(ws, dt.date(2024, 6, 29), Q2) == [(COMMERCE, "red", YELLOW, 1)]


def test_a_cleared_cause_does_not_escalate_and_comes_back_as_a_new_提示单(ws):
    assert run_check(ws, dt.date(2024, 3, 29))[0] == (SHUNHE, "missing", BLUE, 1)
    record(ws, SHUNHE, received="2024-04-02T09:00:00")
    assert [n for n in run_check(ws, dt.date(2024, 4, 9)) if n[0] == SHUNHE] == []
    with open_store(ws.paths.store) as store:
        cleared = store.conn.execute("SELECT cleared FROM notice_causes WHERE unit = ?", (SHUNHE,)).fetchall()
    assert cleared == [("2024-04-09",)]
    # silent again in Q2: a new episode of the cause, so a new 提示单 (numbered after the earlier ones)
    for unit in (NDRC, COMMERCE, LONGTING):
        record(ws, unit, period="2024Q2", received="2024-06-20T10:00:00")
    assert run_check(ws, dt.date(2024, 6, 29), Q2) == [(SHUNHE, "missing", BLUE, 3)]


def test_checks_go_forward_only(ws):
    run_check(ws, dt.date(2024, 6, 29), Q2)
    with pytest.raises(DuchaError, match="已对 2024Q2 做过督办检查，不能再对更早的 2024Q1"):
        run_check(ws, dt.date(2024, 7, 1), Q1)


# --- the files -------------------------------------------------------------------------------------


def word_text(path) -> list[str]:  # noqa: ANN001
    """Every paragraph of the Word file (a path or its bytes), the colour band's first."""
    doc = docx.Document(path if isinstance(path, io.BytesIO) else str(path))
    band = [p.text for p in doc.tables[0].cell(0, 0).paragraphs]
    return band + [p.text for p in doc.paragraphs if p.text]


def band_fill(path) -> str:  # noqa: ANN001
    cell = docx.Document(str(path)).tables[0].cell(0, 0)
    return cell._tc.tcPr.find(qn("w:shd")).get(qn("w:fill"))


def test_each_notice_is_a_numbered_word_page_in_its_colour_and_the_通报_puts_the_unit_on_the_约谈名单(ws):
    first = publish_notices(ws, Q1, dt.date(2024, 3, 29), pdf=False)
    assert first.numbers == ["督查提示〔2024〕1号", "督查提示〔2024〕2号"]
    folder = ws.paths.reports / "2024Q1" / "督办通知"
    blue = folder / f"督查提示〔2024〕1号_{SHUNHE}.docx"
    assert first.outputs == [blue, folder / f"督查提示〔2024〕2号_{COMMERCE}.docx"]
    assert word_text(blue) == [
        "开封市政府督查局", "督查提示单", "督查提示〔2024〕1号", f"{SHUNHE}：",
        "经2024年第一季度督查检查（2024年3月29日），你单位截至2024年3月29日仍未报送2024年第一季度政府工作报告"
        "确定事项推进情况（截止日期为2024年3月28日）。",
        "现予提示。",
        "请你单位立即补报推进情况报表，并于2024年4月8日前将整改情况书面报送本局。",
        "整改期限：2024年4月8日", "开封市政府督查局", "2024年3月29日",
    ]
    assert band_fill(blue) == "1F5FBF"
    assert publish_notices(ws, Q1, dt.date(2024, 3, 29), pdf=False).outputs == []  # rerun: nothing new

    second = publish_notices(ws, Q1, dt.date(2024, 4, 9), pdf=False)
    assert second.numbers == ["督查督办〔2024〕1号", "督查督办〔2024〕2号"]
    yellow = folder / f"督查督办〔2024〕2号_{COMMERCE}.docx"
    text = word_text(yellow)
    assert text[1] == "督查督办单" and band_fill(yellow) == "F2C200"
    assert ("经2024年第一季度督查检查（2024年4月9日），你单位牵头的第2项任务“社会消费品零售总额增长6%。”亮红灯"
            "（正常推进，完成进度0%，序时进度25%）。") in text
    assert "本局已于2024年3月29日发出督查提示单（督查提示〔2024〕2号），要求你单位于2024年4月8日前整改，逾期仍未整改到位。" in text
    assert "现予督办。" in text and "整改期限：2024年4月16日" in text

    third = publish_notices(ws, Q1, dt.date(2024, 4, 17), pdf=False)
    red = folder / f"督查通报〔2024〕1号_{SHUNHE}.docx"
    assert third.numbers == ["督查通报〔2024〕1号", "督查通报〔2024〕2号"] and red in third.outputs
    assert band_fill(red) == "C00000" and "现予通报，并将约谈你单位主要负责人。" in word_text(red)
    talks = ws.paths.reports / "2024Q1" / "约谈名单.xlsx"
    assert talks in third.outputs
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(talks)["约谈名单"].iter_rows()]
    assert rows[0][:6] == ["序号", "单位", "约谈对象", "分管市领导", "事由", "通报文号"]
    assert [r[:4] + [r[5], r[7]] for r in rows[1:]] == [
        [1, SHUNHE, f"{SHUNHE}主要负责人", None, "督查通报〔2024〕1号", "2024年4月22日"],
        [2, COMMERCE, f"{COMMERCE}主要负责人", "张三", "督查通报〔2024〕2号", "2024年4月22日"],
    ]
    assert publish_notices(ws, Q1, dt.date(2024, 4, 18), pdf=False).outputs == []


def test_numbers_are_never_reused_even_when_a_notice_file_is_deleted(ws):
    publish_notices(ws, Q1, dt.date(2024, 3, 29), pdf=False)
    blue = ws.paths.reports / "2024Q1" / "督办通知" / f"督查提示〔2024〕1号_{SHUNHE}.docx"
    blue.unlink()
    again = publish_notices(ws, Q1, dt.date(2024, 3, 30), pdf=False)
    assert again.issued == [] and again.outputs == [blue]  # written again under its own number


def test_notices_of_a_quarter_never_merged_say_to_merge_first(ws):
    with pytest.raises(DuchaError, match="请先运行 ducha merge --period 2024Q3"):
        publish_notices(ws, Period.parse("2024Q3"), dt.date(2024, 9, 30), pdf=False)


def band_colour(png) -> tuple[int, int, int]:  # noqa: ANN001
    """The commonest colour of the top third of a page that is not white or near-grey text."""
    image = Image.open(png).convert("RGB")
    top = image.crop((0, 0, image.width, image.height // 3))
    colours = [c for _n, c in sorted(top.getcolors(1 << 20), reverse=True) if max(c) - min(c) > 60]
    return colours[0]


def test_the_pdf_is_one_page_with_a_blue_then_yellow_then_red_band(ws, tmp_path):
    require_tool("soffice", "libreoffice")
    require_tool("pdftoppm")
    record(ws, COMMERCE, {2: ("正常推进", 30.0), 3: ("正常推进", 30.0)}, received="2024-03-21T10:00:00")
    seen = []
    for day in (dt.date(2024, 3, 29), dt.date(2024, 4, 9), dt.date(2024, 4, 17)):
        run = publish_notices(ws, Q1, day)
        [pdf] = [p for p in run.outputs if p.suffix == ".pdf"]
        assert page_count(pdf) == 1
        [page] = pdf_pages(pdf, tmp_path / pdf.stem, dpi=40)
        seen.append(band_colour(page))
    expected = [(0x1F, 0x5F, 0xBF), (0xF2, 0xC2, 0x00), (0xC0, 0x00, 0x00)]
    for got, want in zip(seen, expected, strict=True):
        assert max(abs(a - b) for a, b in zip(got, want, strict=True)) < 24, (seen, expected)


# --- ducha notices --send -----------------------------------------------------------------------------


def test_ducha_notices_send_mails_each_notice_to_its_unit_once(tmp_path, monkeypatch):
    use_ledger(monkeypatch, mail_ledger())
    runner = CliRunner()
    with smtp_server() as (inbox, port):
        write_config(tmp_path, port)
        config = load_config(tmp_path)
        record(config, NDRC)
        record(config, COMMERCE, {2: ("正常推进", 0.0), 3: ("正常推进", 30.0)})
        record(config, LONGTING)
        args = ["--config", str(tmp_path), "notices", "--period", "2024Q1", "--date", "2024-03-29", "--no-pdf", "--send"]
        first = runner.invoke(cli, args)
        assert first.exit_code == 0, first.output
        assert "督查提示〔2024〕2号  督查提示单  市商务局  整改期限 2024-04-08：牵头的第2项任务" in first.output
        assert "没有有效邮箱、未发送" in first.output and SHUNHE in first.output  # 顺河区's 邮箱 is broken
        [message] = inbox.to(ADDRESSES[COMMERCE])
        assert message["Subject"] == f"【督查提示单】督查提示〔2024〕2号（{COMMERCE}）"
        body = message.get_body(("plain",)).get_content()
        assert "事由：贵单位牵头的第2项任务“社会消费品零售总额增长6%。”亮红灯" in body
        assert "并于2024年4月8日前将整改情况书面报送我局" in body
        [part] = list(message.iter_attachments())
        assert part.get_filename() == f"督查提示〔2024〕2号_{COMMERCE}.docx"
        assert part.get_content_type() == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        assert "督查提示单" in word_text(io.BytesIO(part.get_content()))

        again = runner.invoke(cli, args)
        assert again.exit_code == 0 and "没有需要新发出" in again.output and "已发过，跳过" in again.output
        assert len(inbox.messages) == 1


def test_an_overdue_milestone_is_its_own_cause_for_the_unit_that_owns_it(tmp_path, monkeypatch):
    ledger = mail_ledger()
    ledger.milestones = [Milestone(1, 1, "完成项目签约", dt.date(2024, 3, 15), 30.0)]
    use_ledger(monkeypatch, ledger)
    write_config(tmp_path, 25)
    config = load_config(tmp_path)
    record(config, NDRC, {1: ("正常推进", 20.0), 2: ("正常推进", 30.0)})
    record(config, COMMERCE)
    merged = load_merged(config, Q1, dt.date(2024, 3, 20))
    with open_store(config.paths.store) as store:
        [notice] = check(store, merged, notice_settings(config), dt.date(2024, 3, 20))
    assert (notice.unit, notice.kind, notice.subject, notice.level) == (NDRC, "milestone", "1-1", BLUE)
    assert notice.cause == "负责的第1项任务第1个节点“完成项目签约”（计划 2024-03-15 达到 30%）逾期未完成"
    assert notice.leaders == "常务副市长"


def test_notices_settings_are_read_from_ducha_toml_and_a_bad_value_is_named(tmp_path):
    (tmp_path / "ducha.toml").write_text('[notices]\nblue_days = 3\nred_prefix = "汴督通"\n', encoding="utf-8")
    settings = notice_settings(load_config(tmp_path))
    assert (settings.blue_days, settings.yellow_days, settings.prefix(RED)) == (3, 7, "汴督通")
    (tmp_path / "ducha.toml").write_text("[notices]\nyellow_days = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[notices\] yellow_days.*正整数（天）"):
        notice_settings(load_config(tmp_path))


def test_numbers_start_again_at_1_each_year_and_a_cause_escalates_across_quarters(ws):
    assert run_check(ws, dt.date(2024, 3, 29))[0] == (SHUNHE, "missing", BLUE, 1)
    for unit in (NDRC, COMMERCE, LONGTING):
        record(ws, unit, period="2025Q1", received="2025-03-20T10:00:00")
    # 顺河区 is still silent a year on: the same cause, past its 整改期限, so the 督办单 (2025's first)
    assert run_check(ws, dt.date(2025, 3, 31), Period.parse("2025Q1")) == [(SHUNHE, "missing", YELLOW, 1)]


def test_without_libreoffice_the_word_files_are_written_and_the_clerk_told_why_no_pdf(ws, monkeypatch):
    def no_office() -> str:
        raise DuchaError("需要 LibreOffice（soffice）但本机未找到。")

    monkeypatch.setattr("toolkit.office.find_office", no_office)
    result = CliRunner().invoke(cli, ["--config", str(ws.root), "notices", "--period", "2024Q1", "--date", "2024-03-29"])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("未生成 PDF：需要 LibreOffice（soffice）但本机未找到。")
    assert sorted(p.suffix for p in (ws.paths.reports / "2024Q1" / "督办通知").iterdir()) == [".docx", ".docx"]
