"""The quarterly briefing (通报): numbers agree with 汇总表, hostile unit text stays inert in every
format, the praise/criticism rules follow ducha.toml, quarter-on-quarter changes and the Q4
year-end view, charts draw with an installed CJK font, and Chromium prints it."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from tests.conftest import ROOT, require_tool
from toolkit.cli.app import cli
from toolkit.config import BUNDLED_TEMPLATES, load_config
from toolkit.demo import unitsim
from toolkit.errors import ConfigError, DuchaError
from toolkit.forms.plan import file_name
from toolkit.ledger.build import build_ledger, load_ledger
from toolkit.model import CheckedFile, Indicator, IndicatorReport, Ledger, Task, TaskReport, Unit
from toolkit.outputs.briefing import charts
from toolkit.outputs.briefing.context import briefing_context
from toolkit.outputs.briefing.judge import judge_units
from toolkit.outputs.briefing.pdf import headless_command, print_pdf
from toolkit.outputs.briefing.publish import render_briefing, write_briefing
from toolkit.outputs.briefing.render import DOCX_TEMPLATE, md_escape
from toolkit.outputs.briefing.settings import briefing_settings
from toolkit.outputs.publish import merge
from toolkit.period import Period
from toolkit.problems import Cell, Issue
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.prefill import generate
from toolkit.quarter.store import FileRecord, open_store

HOSTILE = "<script>alert(1)</script> & 资金缺口<80% *粗体* [链接](http://x) | 管道\x0b第二行"
CAT = "一、主要预期目标"
S1 = "（一）坚持制造立市，壮大高质量发展产业动能"
S2 = "（二）坚持科技创新，增强高质量发展内生动力"
NDRC, MIIT, MOST, COMMERCE, WEISHI, CUSTOMS = "市发展改革委", "市工业和信息化局", "市科技局", "市商务局", "尉氏县", "开封海关"
ERROR = Issue("error", "status_invalid", "进展填报", Cell(6, 5), "进展填报!E6 完成状态应从下拉列表中选择")


def small_ledger() -> Ledger:
    """Two headline targets, four key tasks; one stationed unit (开封海关), one county."""
    key = "二、全年重点工作"
    tasks = [
        Task(1, CAT, CAT, "经济增长6.5%。", ("常务副市长",), NDRC, NDRC),
        Task(2, CAT, CAT, "规模以上工业增加值增长7.5%左右。", ("薛志勇",), MIIT, MIIT),
        Task(13, key, S1, "加快开港汽车零部件产业带建设，打造千亿级产业链。", ("薛志勇", "陈志刚"),
             f"{MIIT}，{WEISHI}", MIIT, county=(WEISHI,)),
        Task(14, key, S2, "实施科技创新项目，新增高新技术企业100家。", ("戴晓斌",), f"{MOST}、{NDRC}", MOST, co=(NDRC,)),
        Task(15, key, S2, "口岸通关便利化。", ("袁钢",), CUSTOMS, CUSTOMS),
        Task(16, key, S2, "促进消费。", ("袁钢",), COMMERCE, COMMERCE),
    ]
    units = [Unit(NDRC, "市直部门"), Unit(MIIT, "市直部门"), Unit(MOST, "市直部门"), Unit(COMMERCE, "市直部门"),
             Unit(WEISHI, "县区"), Unit(CUSTOMS, "驻汴单位")]
    indicators = [Indicator(1, "经济增长", 6.5, "%", "=", "经济增长6.5%"),
                  Indicator(2, "规模以上工业增加值增长", 7.5, "%", "≈", "增长7.5%左右")]
    return Ledger(tasks, units, indicators)


ROLES = {NDRC: {1: "牵头", 14: "配合"}, MIIT: {2: "牵头", 13: "牵头"}, MOST: {14: "牵头"}, COMMERCE: {16: "牵头"},
         WEISHI: {13: "县区落实"}, CUSTOMS: {15: "牵头"}}


def record(unit: str, received: str, answers: dict[int, tuple], period: str = "2024Q1", issues=(),
           indicators: dict[int, float] | None = None, roles: dict[str, dict[int, str]] = ROLES) -> CheckedFile:
    """A checked file as validate returns it; answers: {task: (status, progress[, problems])}."""
    tasks = [
        TaskReport(unit, no, roles[unit][no], a[0], a[1], "按计划推进", a[2] if len(a) > 2 else "", "继续推进",
                   "李四", "13800000000", 6 + i)
        for i, (no, a) in enumerate(sorted(answers.items()))
    ]
    names = {1: "经济增长", 2: "规模以上工业增加值增长"}
    inds = [IndicatorReport(unit, no, names.get(no, ""), v, "", 2 + i)
            for i, (no, v) in enumerate(sorted((indicators or {}).items()))]
    sha = hashlib.sha256(f"{unit}{received}{answers}{period}".encode()).hexdigest()
    return CheckedFile(path=f"/drop/{unit}-{received[:10]}.xlsx", sha256=sha, size=100, received=received,
                       format="xlsx", unit=unit, period=period, signed=True, issues=list(issues), tasks=tasks,
                       indicators=inds)


def as_records(files: list[CheckedFile], period: str) -> list[FileRecord]:
    return [FileRecord(f.sha256, period, f.path, f.size, f.received, f.format, "/archive", f.unit, f.period,
                       f.signed, f.filler, "accepted", issues=f.issues, tasks=f.tasks, indicators=f.indicators)
            for f in files]


def q1_files() -> list[CheckedFile]:
    """发改委 on time and on pace; 工信局 on time with a red task and hostile text; 科技局 late;
    尉氏县 rejected once then accepted; 商务局 rejected only; 开封海关 (驻汴) nothing."""
    return [
        record(NDRC, "2024-03-20T10:00:00", {1: ("正常推进", 30.0), 14: ("正常推进", 30.0)}, indicators={1: 1.8}),
        record(MIIT, "2024-03-27T10:00:00", {2: ("进度滞后", 0.0, HOSTILE), 13: ("正常推进", 25.0)}),
        record(MOST, "2024-03-29T09:00:00", {14: ("已完成", 100.0)}),
        record(WEISHI, "2024-03-21T10:00:00", {13: ("正常推进", 30.0)}, issues=[ERROR]),
        record(WEISHI, "2024-03-22T10:00:00", {13: ("正常推进", 30.0)}),
        record(COMMERCE, "2024-03-22T10:00:00", {16: ("正常推进", 30.0)}, issues=[ERROR]),
    ]


def merged_of(files: list[CheckedFile], key: str, as_of: dt.date) -> MergedQuarter:
    return build_merged(small_ledger(), as_records(files, key), Period.parse(key), as_of)


@pytest.fixture
def q1() -> MergedQuarter:
    return merged_of(q1_files(), "2024Q1", dt.date(2024, 3, 29))


@pytest.fixture
def config(workspace: Path):
    return load_config(workspace)


class _Tables(HTMLParser):
    """The text of every table cell in an HTML page: [[row cells], …] per table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(html: str) -> dict[str, list[list[str]]]:
    """Tables keyed by their first header cell (板块, 序号, 编号 …), header row dropped."""
    parser = _Tables()
    parser.feed(html)
    return {t[0][0]: t[1:] for t in parser.tables}


def counts_after(text: str, label: str) -> dict[str, int]:
    """'按综合状态：已完成 0 项，正常推进 3 项…' → {'已完成': 0, '正常推进': 3, …}."""
    part = text.split(label, 1)[1].split("。", 1)[0]
    return {name: int(n) for name, n in re.findall(r"([^\s，：]+) (\d+) 项", part)}


# --- numbers agree with 汇总表.xlsx ----------------------------------------------------------------


def _book_blocks(path: Path) -> dict[str, dict[str, int]]:
    """总览's count blocks: {heading: {label: count}}."""
    ws = openpyxl.load_workbook(path, read_only=True)["总览"]
    blocks: dict[str, dict[str, int]] = {}
    current = None
    for label, value, *_ in ws.iter_rows(min_row=4, max_col=2, values_only=True):
        if value == "数量":
            current = blocks.setdefault(label, {})
        elif label is None:
            current = None
        elif current is not None and isinstance(value, int | float):
            current[label] = int(value)
    return blocks


def _sheet_rows(path: Path, name: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "任务编号")
    header = rows[header_at]
    return [dict(zip(header, r, strict=False)) for r in rows[header_at + 1:] if r and r[0] is not None]


def _play_quarter(config, period: Period) -> None:
    """The real pipeline: generate every unit's workbook, let 24 units fill theirs as unitsim does
    (some late, some with an error, one with hostile text in 存在问题), leave the rest missing, merge."""
    generate(config, period, now=dt.datetime(2024, 3, 1, 9))
    assignments = load_ledger(config).assignments()
    for i, unit in enumerate(list(assignments)[:24]):
        answers = unitsim.good_answers(assignments[unit], seed=i)
        lagging = [a for a in answers.values() if a["status"] == "进度滞后"]
        if i == 2 and lagging:
            lagging[0]["problems"] = HOSTILE.replace("\x0b", "")  # Excel cannot hold the control character
        dst = unitsim.fill(config.paths.outbox / period.key / file_name(period, unit),
                           config.paths.drop / f"{unit}(1).xlsx", answers,
                           mutate=["progress_120"] if i % 9 == 4 else [])
        stamp = dt.datetime(2024, 3, 29, 9) if i % 6 == 5 else dt.datetime(2024, 3, 20, 10)
        os.utime(dst, (stamp.timestamp(), stamp.timestamp()))
    merge(config, period, now=dt.datetime(2024, 3, 30, 9))


def test_briefing_numbers_equal_the_summary_book(workspace: Path, config) -> None:
    build_ledger(config, now=dt.datetime(2024, 2, 22))
    period = Period.parse("2024Q1")
    _play_quarter(config, period)
    book = config.paths.reports / "2024Q1" / "汇总表.xlsx"
    outputs = render_briefing(config, period, now=dt.date(2024, 3, 30)).outputs
    html = outputs[0].read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html

    blocks = _book_blocks(book)
    assert counts_after(text, "按综合状态：") == blocks["综合状态"]
    assert counts_after(text, "按红黄绿灯：") == blocks["红黄绿灯"]
    units = blocks["单位报送"]
    assert f"应报送单位 {units['应报单位']} 个，按时报送 {units['已报送']} 个，迟报 {units['迟报']} 个，" \
           f"未报送 {units['未报送']} 个，退回修改 {units['退回修改']} 个" in text
    assert units["迟报"] > 0 and units["退回修改"] > 0 and units["未报送"] > 0

    tasks = _sheet_rows(book, "任务进展")
    lagging = [(int(r["任务编号"]), r["红黄绿灯"]) for light in ("红灯", "黄灯") for r in tasks if r["红黄绿灯"] == light]
    tables = html_tables(html)
    assert [(int(r[0]), r[1].lstrip("●")) for r in tables["编号"]] == lagging
    section_totals = {r[0]: int(r[-1]) for r in tables["板块"]}
    assert sum(section_totals.values()) == len(tasks) == 153

    indicators = {(int(r["任务编号"]), r["指标名称"]): r for r in _sheet_rows(book, "量化指标")}
    headline = {int(r[0]): r for r in tables["序号"]}
    assert sorted(headline) == list(range(1, 13))
    growth = indicators[(1, '经济增长')]
    assert headline[1][2:6] == ["增速/比率", "6.5%以上", f"{growth['最新值']:g}%", f"{growth['完成率(%)']:g}%"]
    assert headline[12][2:4] == ["—", "单位生产总值能耗与“十四五”目标统筹衔接"]  # no number: its words are the target
    # a target's light is its indicator's (by kind); a task without a number shows the task's light
    lights = {int(r["任务编号"]): r["红黄绿灯"] for r in tasks} | {no: r["指标灯"] for (no, _), r in indicators.items()}
    assert all(row[6].lstrip("●") == lights[no] for no, row in headline.items())


# --- hostile text in every format ----------------------------------------------------------------


def test_hostile_unit_text_shows_literally_in_html_markdown_and_word(q1: MergedQuarter, config) -> None:
    html_path, md_path, docx_path = write_briefing(briefing_context(q1, None, config, q1.period), config, q1.period)
    shown = "<script>alert(1)</script> & 资金缺口<80% *粗体* [链接](http://x) | 管道；第二行"

    html = html_path.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 资金缺口&lt;80% *粗体* [链接](http://x) | 管道；第二行" in html

    md = md_path.read_text(encoding="utf-8")
    rendered = MarkdownIt("commonmark").enable("table").render(md)
    assert "<script" not in rendered and "<em>" not in rendered and "<a " not in rendered
    problem_cell = next(r for r in html_tables(rendered)["编号"] if r[0] == "2")[-1]
    assert problem_cell == f"【{MIIT}】{shown}"

    with zipfile.ZipFile(docx_path) as z:
        body = z.read("word/document.xml").decode("utf-8")
    ElementTree.fromstring(body)  # still well-formed XML: the vertical tab was dropped
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 资金缺口&lt;80%" in body
    cells = [c.text for t in docx.Document(str(docx_path)).tables for r in t.rows for c in r.cells]
    assert f"【{MIIT}】{shown}" in cells


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("1. 第一", "1\\. 第一"),
        ("- 列表", "\\- 列表"),
        ("# 标题", "\\# 标题"),
        ("6.5%以上", "6.5%以上"),
        ("a|b", "a\\|b"),
        ("&amp;", "\\&amp;"),
        ("行一\n行二", "行一 行二"),
    ],
)
def test_markdown_escape(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


# --- the context: overview, lagging, praise and criticism -----------------------------------------


def test_overview_counts_and_lagging_order(q1: MergedQuarter, config) -> None:
    ctx = briefing_context(q1, None, config, q1.period)
    assert ctx["title"] == "关于2024年第一季度市政府工作报告确定事项推进情况的通报"
    assert ctx["issuer"] == "开封市政府督查局"
    assert ctx["date_label"] == "2024年3月29日"
    assert ctx["overview"]["status_text"] == (
        "已完成 0 项，正常推进 3 项，进度滞后 1 项，未启动 0 项，牵头单位未报送 0 项，未报送 2 项")
    assert ctx["overview"]["light_text"] == "绿灯 3 项，黄灯 0 项，红灯 3 项，未亮灯 0 项"
    assert ctx["overview"]["units"] == {"expected": 6, "on_time": 3, "late": 1, "missing": 1, "rejected": 1}
    assert [(r["no"], r["light"], r["lead"]) for r in ctx["lagging"]] == [
        (2, "红灯", MIIT), (15, "红灯", CUSTOMS), (16, "红灯", COMMERCE)]
    assert ctx["lagging"][0]["problem"].startswith(f"【{MIIT}】<script>")
    # 1.8% growth against 6.5%: a rate is not pro-rated, so 27.7% of it is red even at 序时进度 25%
    assert ctx["headline"][0] | {"light_key": None} == {
        "no": 1, "name": "经济增长6.5%", "kind": "增速/比率", "target": "6.5%", "value": "1.8%",
        "completion": "27.7%", "light": "红灯", "light_key": None}
    assert [r["counts"] for r in ctx["sections"]] == [[0, 1, 1, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 1, 0, 0, 0, 2]]


def test_praise_and_criticism_follow_the_default_rules(q1: MergedQuarter, config) -> None:
    ctx = briefing_context(q1, None, config, q1.period)
    # 尉氏县 reported on time and on pace, but its first file had an error: not praised.
    assert [r["unit"] for r in ctx["praise"]] == [NDRC]
    assert {r["unit"]: r["reasons"] for r in ctx["criticism"]} == {
        MIIT: "牵头任务红灯 1 项（第2项）",
        MOST: "迟报",
        COMMERCE: "报送材料被退回修改，未重新报送合格材料；牵头任务红灯 1 项（第16项）",
    }
    assert ctx["criticism_stationed"] == [{"unit": CUSTOMS, "kind": "驻汴单位", "reasons": "未报送；牵头任务红灯 1 项（第15项）",
                                           "labels": ["未报送", "牵头任务亮红灯"], "red": 1}]


def test_rules_come_from_ducha_toml(q1: MergedQuarter, workspace: Path) -> None:
    (workspace / "ducha.toml").write_text(
        "[briefing]\npraise_no_errors = false\ncriticize_late = false\ncriticize_red = false\n", encoding="utf-8")
    settings = briefing_settings(load_config(workspace))
    praised, criticised = judge_units(q1, settings.rules)
    assert [r["unit"] for r in praised] == [NDRC, WEISHI]
    assert [(r["unit"], r["reasons"]) for r in criticised] == [
        (COMMERCE, "报送材料被退回修改，未重新报送合格材料"), (CUSTOMS, "未报送")]
    assert settings.rules.criticism_text() == "批评规则：有未报送、报送材料被退回修改且未重新报送合格材料情形之一的单位予以批评。"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[briefing]\npraise_on_time = \"yes\"\n", "[briefing] praise_on_time 类型不对，应为true 或 false"),
        ("[briefing]\nprase_on_time = true\n", "[briefing] 中有未知配置项：prase_on_time"),
        ("[briefing]\nissuer = 3\n", "[briefing] issuer 类型不对，应为文字（加引号）"),
    ],
)
def test_bad_briefing_settings_are_named(workspace: Path, toml: str, message: str) -> None:
    (workspace / "ducha.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        briefing_settings(load_config(workspace))


# --- quarter on quarter, and the year-end view --------------------------------------------------


def q2_files() -> list[CheckedFile]:
    """Q2 (序时进度 50%): task 2 catches up (green), 13 falls behind (red), 16 is finished."""
    return [
        record(NDRC, "2024-06-20T10:00:00", {1: ("正常推进", 55.0), 14: ("正常推进", 60.0)}, period="2024Q2"),
        record(MIIT, "2024-06-20T10:00:00", {2: ("正常推进", 50.0), 13: ("正常推进", 25.0)}, period="2024Q2"),
        record(MOST, "2024-06-20T10:00:00", {14: ("已完成", 100.0)}, period="2024Q2"),
        record(COMMERCE, "2024-06-20T10:00:00", {16: ("已完成", 100.0)}, period="2024Q2"),
        record(CUSTOMS, "2024-06-20T10:00:00", {15: ("正常推进", 50.0)}, period="2024Q2"),
    ]


def test_changes_since_the_previous_quarter(q1: MergedQuarter, config) -> None:
    q2 = merged_of(q2_files(), "2024Q2", dt.date(2024, 6, 29))
    changes = briefing_context(q2, q1, config, q2.period)["changes"]
    assert changes["available"] and changes["previous_label"] == "2024年第一季度"
    assert [r["no"] for r in changes["turned_green"]] == [2, 15, 16]
    assert [r["no"] for r in changes["turned_red"]] == [13]
    assert [r["no"] for r in changes["newly_completed"]] == [16]
    html = write_briefing(briefing_context(q2, q1, config, q2.period), config, q2.period)[0].read_text("utf-8")
    assert "与2024年第一季度相比：转为绿灯 3 项，转为红灯 1 项，新完成 1 项。" in html
    assert "<li>13. 加快开港汽车零部件产业带建设，打造千亿级产业链。（市工业和信息化局）</li>" in html


def test_first_quarter_without_history_says_so_and_has_no_year_end_view(q1: MergedQuarter, config) -> None:
    html, md, _ = write_briefing(briefing_context(q1, None, config, q1.period), config, q1.period)
    for text in (html.read_text("utf-8"), md.read_text("utf-8")):
        assert "2023年第四季度没有汇总数据，本期不作比较。" in text
        assert "年底未完成任务的单位" not in text


def test_fourth_quarter_lists_unfinished_tasks_by_lead_unit(config) -> None:
    q4 = merged_of([
        record(NDRC, "2024-12-20T10:00:00", {1: ("已完成", 100.0), 14: ("已完成", 100.0)}, period="2024Q4"),
        record(MIIT, "2024-12-20T10:00:00", {2: ("进度滞后", 80.0, "资金未到位"), 13: ("已完成", 100.0)},
               period="2024Q4"),
        record(MOST, "2024-12-20T10:00:00", {14: ("已完成", 100.0)}, period="2024Q4"),
    ], "2024Q4", dt.date(2024, 12, 29))
    ctx = briefing_context(q4, None, config, q4.period)
    assert [(r["unit"], [t["no"] for t in r["tasks"]]) for r in ctx["year_end"]] == [
        (MIIT, [2]), (COMMERCE, [16]), (CUSTOMS, [15])]
    html, md, docx_path = write_briefing(ctx, config, q4.period)
    rows = html_tables(html.read_text("utf-8"))["牵头单位"]
    assert rows[0] == [MIIT, "2. 规模以上工业增加值增长7.5%左右。（进度滞后）", "1"]
    assert "六、年底未完成任务的单位" in md.read_text("utf-8")
    paragraphs = [p.text for p in docx.Document(str(docx_path)).paragraphs]
    assert any(p.startswith("（三）年底未完成任务的单位。") and MIIT in p.replace("\u2060", "") for p in paragraphs)


# --- files: determinism, templates, CLI ------------------------------------------------------------


def test_same_inputs_give_the_same_bytes(q1: MergedQuarter, config) -> None:
    ctx = briefing_context(q1, None, config, q1.period)
    first = [p.read_bytes() for p in write_briefing(ctx, config, q1.period)]
    second = [p.read_bytes() for p in write_briefing(briefing_context(q1, None, config, q1.period), config, q1.period)]
    assert first == second


def test_workspace_template_overrides_and_mistakes_are_named(q1: MergedQuarter, workspace: Path, config) -> None:
    (workspace / "templates").mkdir()
    (workspace / "templates" / "briefing.md.j2").write_text("# {{ title }}\n{{ praise | length }} 个\n", "utf-8")
    md = write_briefing(briefing_context(q1, None, config, q1.period), config, q1.period)[1]
    assert md.read_text("utf-8") == "# 关于2024年第一季度市政府工作报告确定事项推进情况的通报\n1 个\n"
    (workspace / "templates" / "briefing.md.j2").write_text("{{ no_such_thing }}\n", "utf-8")
    with pytest.raises(DuchaError, match="通报模板 briefing.md.j2 使用了不存在的数据项"):
        write_briefing(briefing_context(q1, None, config, q1.period), config, q1.period)


def _store_q1(config) -> None:
    with open_store(config.paths.store) as store:
        for f in q1_files():
            store.record(f, "2024Q1", "/archive", "rejected" if f.rejected else "accepted")


def test_cli_writes_the_briefing_and_prints_its_paths(workspace: Path, config, monkeypatch) -> None:
    monkeypatch.setattr("toolkit.quarter.collect.load_ledger", lambda _config: small_ledger())
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(workspace), "briefing", "--period", "2024Q1", "--date", "2024-03-29"])
    assert result.exit_code == 1
    assert "请先运行 ducha merge --period 2024Q1" in result.output
    _store_q1(config)
    result = runner.invoke(cli, ["--config", str(workspace), "briefing", "--period", "2024Q1",
                                 "--date", "2024-03-29", "--json"])
    assert result.exit_code == 0, result.output
    out = workspace / "reports" / "2024Q1"
    assert result.output.count("通报.") == 3
    assert [Path(p).name for p in json.loads(result.output)["outputs"]] == ["通报.html", "通报.md", "通报.docx"]
    assert "2024年3月29日" in (out / "通报.html").read_text("utf-8")


def test_pdf_without_libreoffice_is_a_clear_error(workspace: Path, config, monkeypatch) -> None:
    monkeypatch.setattr("toolkit.quarter.collect.load_ledger", lambda _config: small_ledger())
    monkeypatch.setattr("toolkit.office.shutil.which", lambda _name: None)
    _store_q1(config)
    result = CliRunner().invoke(cli, ["--config", str(workspace), "briefing", "--period", "2024Q1", "--pdf"])
    assert result.exit_code == 1
    assert "需要 LibreOffice（soffice）但本机未找到" in result.output
    assert not (workspace / "reports" / "2024Q1" / "通报.html").exists()


# --- charts and fonts ------------------------------------------------------------------------------


def _font_charset(family: str) -> set[int]:
    """Code points the installed font `family` covers, from fontconfig."""
    out = subprocess.run(["fc-list", f"{family}:style=Regular", "charset"], capture_output=True, text=True,
                         check=True).stdout
    covered: set[int] = set()
    for part in out.split("charset=", 1)[-1].split():
        low, _, high = part.partition("-")
        covered.update(range(int(low, 16), int(high or low, 16) + 1))
    return covered


def test_chart_text_is_covered_by_an_installed_cjk_font(q1: MergedQuarter, config) -> None:
    require_tool("fc-list")
    ctx = briefing_context(q1, None, config, q1.period)
    for svg in ctx["charts"].values():
        root = ElementTree.fromstring(str(svg))
        family = root.get("font-family").split(",")[0].strip(" '")
        assert family == "Noto Sans CJK SC"
        covered = _font_charset(family)
        assert covered, f"{family} is not installed (fonts-noto-cjk)"
        text = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert "已完成" in text or "绿灯" in text
        assert {c for c in text if ord(c) not in covered} == set()


def test_chart_escapes_labels_and_scales_bars() -> None:
    svg = charts.stacked_bars("t", [("<b>&", [2, 1]), ("二", [0, 3])],
                              [charts.Series("甲", "#000"), charts.Series("乙", "#111")])
    root = ElementTree.fromstring(str(svg))
    ns = "{http://www.w3.org/2000/svg}"
    assert "<b>&" in [t.text for t in root.iter(f"{ns}text")]
    widths = [float(r.get("width")) for r in root.iter(f"{ns}rect") if r.get("y") != "8"]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[2] == pytest.approx(widths[0] + widths[1])


# --- Chromium: open, screenshot, print ---------------------------------------------------------------


def test_chromium_renders_the_briefing_without_script_errors(q1: MergedQuarter, config, tmp_path: Path) -> None:
    browser = require_tool("chromium", "chromium-browser", "google-chrome")
    pdftotext = require_tool("pdftotext")
    html = write_briefing(briefing_context(q1, None, config, q1.period), config, q1.period)[0]
    shot = tmp_path / "通报.png"
    command = headless_command(browser, tmp_path / "profile", html.as_uri(), "--enable-logging=stderr",
                               "--v=0", "--hide-scrollbars", "--window-size=900,2400",
                                        f"--screenshot={shot}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 10_000
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    dom = subprocess.run(headless_command(browser, tmp_path / "profile2", html.as_uri(), "--dump-dom"),
                         capture_output=True, text=True, timeout=120, check=False).stdout
    assert "<script" not in dom and "&lt;script&gt;alert(1)" in dom

    pdf = print_pdf(html, tmp_path / "通报.pdf", browser)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    for expected in ("关于2024年第一季度市政府工作报告确定事项推进情况的通报", "开封市政府督查局",
                     "予以表扬的单位（1个）：市发展改革委", "<script>alert(1)</script>"):
        assert expected in flat


def test_render_briefing_with_pdf(workspace: Path, config, monkeypatch) -> None:
    require_tool("soffice", "libreoffice")
    monkeypatch.setattr("toolkit.quarter.collect.load_ledger", lambda _config: small_ledger())
    _store_q1(config)
    paths = render_briefing(config, Period.parse("2024Q1"), pdf=True, now=dt.date(2024, 3, 29)).outputs
    assert [p.name for p in paths] == ["通报.html", "通报.md", "通报.docx", "通报.pdf"]
    assert paths[3].read_bytes().startswith(b"%PDF")


def test_committed_word_template_is_what_its_script_builds() -> None:
    """templates/briefing.docx is generated; editing the script without regenerating shows here."""
    script = ROOT / "scripts" / "make_docx_template.py"
    spec = importlib.util.spec_from_file_location("make_docx_template", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.build() == (BUNDLED_TEMPLATES / DOCX_TEMPLATE).read_bytes()
