"""The quarterly briefing (通报): one context computed from the merged quarter, rendered to HTML,
Markdown and Word through editable templates, and to PDF by headless Chromium.

Leaders read this rather than the spreadsheet, so every number must be the one 汇总表.xlsx shows:
the context is a pure function of the same MergedQuarter report_book writes from, and the templates
only lay it out. Unit text is hostile until proven otherwise, so every output escapes it: Jinja
autoescape for HTML and Word XML, a Markdown escaper for Markdown.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
from markupsafe import Markup

from toolkit.config import BUNDLED_TEMPLATES, Config
from toolkit.errors import DuchaError
from toolkit.forms import layout
from toolkit.fsutil import atomic_path, workspace_lock, write_bytes_atomic, write_text_atomic
from toolkit.model import ROLE_LEAD
from toolkit.outputs import charts
from toolkit.period import Period
from toolkit.quarter.merge import (
    LIGHT_GREEN,
    LIGHT_NONE,
    LIGHT_RED,
    LIGHT_YELLOW,
    LIGHTS,
    STATUS_MISSING,
    UNIT_LATE,
    UNIT_MISSING,
    UNIT_ON_TIME,
    UNIT_REJECTED,
    MergedQuarter,
)

HTML_TEMPLATE = "briefing.html.j2"
MD_TEMPLATE = "briefing.md.j2"
DOCX_TEMPLATE = "briefing.docx"
OUTPUT_STEM = "通报"
NUMERALS = "一二三四五六七八九十"

# Characters XML 1.0 forbids: a unit's text with one would make a .docx Word refuses to open.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- the rules for praise and criticism ([briefing] in ducha.toml) -----------------------------


@dataclass(frozen=True)
class Rules:
    """Which units the briefing praises (all praise_* conditions hold) and criticises (any
    criticise_* condition holds). Defaults follow the notice: 完成好的予以表扬，推进缓慢的予以批评."""

    praise_on_time: bool = True
    praise_no_errors: bool = True
    praise_on_pace: bool = True
    criticize_missing: bool = True
    criticize_late: bool = True
    criticize_rejected: bool = True
    criticize_red: bool = True

    def _chosen(self, texts: dict[str, str]) -> list[str]:
        return [text for name, text in texts.items() if getattr(self, name)]

    def praise_text(self) -> str:
        parts = self._chosen(PRAISE_TEXTS)
        return f"表扬规则：同时符合{'、'.join(parts)}的单位予以表扬。" if parts else "表扬规则：本期不作表扬。"

    def criticism_text(self) -> str:
        parts = self._chosen(CRITICISM_TEXTS)
        return f"批评规则：有{'、'.join(parts)}情形之一的单位予以批评。" if parts else "批评规则：本期不作批评。"


# How each rule reads in the briefing, so the reader sees why a unit is named.
PRAISE_TEXTS = {
    "praise_on_time": "按时报送",
    "praise_no_errors": "报送材料无错误",
    "praise_on_pace": "所填报任务均达到序时进度（已完成，或完成进度不低于序时进度且未填“进度滞后”）",
}
CRITICISM_TEXTS = {
    "criticize_missing": "未报送",
    "criticize_late": "迟报",
    "criticize_rejected": "报送材料被退回修改且未重新报送合格材料",
    "criticize_red": "牵头任务亮红灯",
}


@dataclass(frozen=True)
class _Texts:
    issuer: str = ""  # empty: the city + the bureau's name, e.g. 开封市政府督查局
    addressee: str = "各县、区人民政府，市人民政府各部门及有关单位："
    templates: str = "templates"  # a workspace folder whose files override the bundled templates
    headline_section: str = "一、主要预期目标"  # the 板块 whose tasks are the headline targets
    browser: str = ""  # Chromium/Chrome/Edge executable for --pdf; empty: search PATH


@dataclass(frozen=True)
class BriefingSettings(_Texts):
    rules: Rules = Rules()


def briefing_settings(config: Config) -> BriefingSettings:
    """[briefing] from ducha.toml: the texts and the praise/criticism rules share the section."""
    texts, rules = config.read("briefing", _Texts, Rules)
    return BriefingSettings(**asdict(texts), rules=rules)


def issuer_name(config: Config, settings: BriefingSettings) -> str:
    """开封市 + 市政府督查局 reads 开封市政府督查局: the bureau's name already starts with 市."""
    if settings.issuer:
        return settings.issuer
    city, name = config.bureau.city, config.bureau.name
    if city.endswith("市") and name.startswith("市"):
        return city + name[1:]
    return city + name


# --- text helpers -------------------------------------------------------------------------------


def clean(value: object) -> str:
    """Unit text as one printable line: XML-illegal control characters dropped, whitespace runs
    (including line breaks typed into Excel cells) folded to one space."""
    text = "" if value is None else str(value)
    return " ".join(_XML_ILLEGAL.sub("", text).split())


def shorten(text: str, limit: int) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_MD_ACTIVE = re.compile(r"([\\`*_\[\]<>|#~&!])")
_MD_LINE_START = re.compile(r"^(\d+)([.)])(?=\s|$)|^([-+=])(?=\s|$)")


def md_escape(value: object) -> str:
    """Backslash-escape what CommonMark would read as markup (emphasis, links, raw HTML, entity
    references, table pipes) and list or heading markers at the start, so unit text shows as typed."""
    text = _MD_ACTIVE.sub(r"\\\1", clean(value))
    return _MD_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)


def _md_finalize(value: object) -> object:
    return value if isinstance(value, Markup) else md_escape(value)


def stable_zip(data: bytes) -> bytes:
    """Rewrite a zip (a .docx) with fixed timestamps so the same content gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info))
    return out.getvalue()


# --- the context (pure) -------------------------------------------------------------------------

STATUS_ORDER = (
    layout.STATUS_DONE,
    layout.STATUS_ON_TRACK,
    layout.STATUS_LAGGING,
    layout.STATUS_NOT_STARTED,
    STATUS_MISSING,
)
STATUS_COLORS = {
    layout.STATUS_DONE: "#2e7d32",
    layout.STATUS_ON_TRACK: "#1565c0",
    layout.STATUS_LAGGING: "#ef6c00",
    layout.STATUS_NOT_STARTED: "#9e9e9e",
    STATUS_MISSING: "#6a1b9a",
}
LIGHT_KEYS = {LIGHT_GREEN: "green", LIGHT_YELLOW: "yellow", LIGHT_RED: "red", LIGHT_NONE: "none"}
LIGHT_COLORS = {LIGHT_GREEN: "#2e7d32", LIGHT_YELLOW: "#f9a825", LIGHT_RED: "#c62828", LIGHT_NONE: "#9e9e9e"}
DIRECTION_TEXT = {"≥": "{}以上", "≈": "{}左右", "≤": "{}以内", "=": "{}"}
STATIONED_KIND = "驻汴单位"
CONTENT_LIMIT = 60
PROBLEM_LIMIT = 160


def date_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _number(value: object) -> float | None:
    """A frame cell as a float, NaN and None as None."""
    return None if value is None or pd.isna(value) else float(value)


def _percent(value: object) -> str:
    number = _number(value)
    return "—" if number is None else f"{number:g}%"


def _task_row(row: pd.Series) -> dict[str, Any]:
    """One task as the lists of the briefing show it."""
    return {
        "no": int(row["任务编号"]),
        "content": shorten(row["任务内容"], CONTENT_LIMIT),
        "lead": clean(row["牵头单位"]),
        "leaders": clean(row["责任领导"]),
        "status": row["综合状态"],
        "light": row["红黄绿灯"],
        "light_key": LIGHT_KEYS.get(row["红黄绿灯"], "none"),
        "progress": _percent(row["完成进度(%)"]),
        "problem": shorten("；".join(clean(line) for line in str(row["存在问题"]).splitlines()), PROBLEM_LIMIT)
        or "未填报",
    }


def _overview(merged: MergedQuarter) -> dict[str, Any]:
    counts = merged.counts
    status_rows = [{"name": s, "count": counts["tasks"]["status"][s]} for s in STATUS_ORDER]
    light_rows = [
        {"name": name, "key": LIGHT_KEYS[name], "count": counts["tasks"]["light"][name]} for name in LIGHTS
    ]
    names = {
        "on_time": counts["units_reported"],
        "late": counts["units_late"],
        "missing": counts["units_missing"],
        "rejected": counts["units_rejected"],
    }
    return {
        "tasks_total": counts["tasks"]["total"],
        "status_rows": status_rows,
        "light_rows": light_rows,
        "status_text": "，".join(f"{r['name']} {r['count']} 项" for r in status_rows),
        "light_text": "，".join(f"{r['name']} {r['count']} 项" for r in light_rows),
        "units": {"expected": len(counts["units_expected"])} | {k: len(v) for k, v in names.items()},
        "unit_names": names,
    }


def _sections(tasks: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for name, group in tasks.groupby("板块", sort=False):
        counts = [int((group["综合状态"] == s).sum()) for s in STATUS_ORDER]
        rows.append({"name": clean(name), "counts": counts, "total": len(group)})
    return rows


def _charts(sections: list[dict[str, Any]], overview: dict[str, Any]) -> dict[str, Markup]:
    series = [charts.Series(s, STATUS_COLORS[s]) for s in STATUS_ORDER]
    lights = [(charts.Series(r["name"], LIGHT_COLORS[r["name"]]), r["count"]) for r in overview["light_rows"]]
    return {
        "sections": charts.stacked_bars("各板块任务综合状态", [(r["name"], r["counts"]) for r in sections], series),
        "lights": charts.bars("任务红黄绿灯", lights),
    }


def _target_text(row: pd.Series) -> str:
    value = f"{_number(row['目标值']):g}{clean(row['计量单位'])}"
    return DIRECTION_TEXT.get(row["方向"], "{}").format(value)


def _value_text(row: pd.Series, period: Period) -> str:
    value = _number(row["最新值"])
    if value is None:
        return "未报"
    text = f"{value:g}{clean(row['计量单位'])}"
    return text if row["数据期"] in ("", period.key) else f"{text}（{row['数据期']}）"


def _headline(merged: MergedQuarter, section: str) -> list[dict[str, Any]]:
    """The headline targets: one row per task of the section, its 量化指标 joined when it has several;
    a task with no number (能耗与“十四五”目标统筹衔接) shows its own words as the target."""
    rows = []
    for _, task in merged.tasks[merged.tasks["板块"] == section].iterrows():
        found = merged.indicators[merged.indicators["任务编号"] == task["任务编号"]]
        text = clean(task["任务内容"]).rstrip("。")
        rows.append({
            "no": int(task["任务编号"]),
            "name": shorten(text, 40),
            "target": "；".join(_target_text(r) for _, r in found.iterrows()) or shorten(text, 40),
            "value": "；".join(_value_text(r, merged.period) for _, r in found.iterrows()) or "—",
            "completion": "；".join(_percent(r["完成率(%)"]) for _, r in found.iterrows()) or "—",
            "light": task["红黄绿灯"],
            "light_key": LIGHT_KEYS.get(task["红黄绿灯"], "none"),
        })
    return rows


def _lagging(tasks: pd.DataFrame) -> list[dict[str, Any]]:
    """Red tasks first, then yellow, each in task order."""
    return [
        _task_row(row)
        for light in (LIGHT_RED, LIGHT_YELLOW)
        for _, row in tasks[tasks["红黄绿灯"] == light].iterrows()
    ]


def _on_pace(reports: pd.DataFrame, pace: int) -> bool:
    """Every task the unit reported is 已完成, or at or above 序时进度 and not marked lagging."""
    for _, row in reports.iterrows():
        progress = _number(row["完成进度(%)"])
        if row["完成状态"] == layout.STATUS_DONE:
            continue
        if row["完成状态"] in (layout.STATUS_LAGGING, layout.STATUS_NOT_STARTED) or progress is None:
            return False
        if progress < pace:
            return False
    return True


def _red_led(merged: MergedQuarter, unit: str) -> list[int]:
    """Numbers of the red tasks this unit leads, by the ledger's lead or by the role it reported."""
    tasks, reports = merged.tasks, merged.reports
    led = set(tasks.loc[tasks["牵头单位"] == unit, "任务编号"])
    led |= set(reports.loc[(reports["单位"] == unit) & (reports["本单位职责"] == ROLE_LEAD), "任务编号"])
    red = tasks[(tasks["红黄绿灯"] == LIGHT_RED) & tasks["任务编号"].isin(led)]
    return [int(no) for no in red["任务编号"]]


def judge_units(merged: MergedQuarter, rules: Rules) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(praised, criticised) units in 单位名录 order, each with its kind and the reasons."""
    praise_flags = (rules.praise_on_time, rules.praise_no_errors, rules.praise_on_pace)
    praised, criticised = [], []
    for _, unit in merged.units.iterrows():
        name, standing = unit["单位名称"], unit["报送情况"]
        had_errors = any(f.rejected for f in merged.files_of(name))
        own = merged.reports[merged.reports["单位"] == name]
        reported = standing in (UNIT_ON_TIME, UNIT_LATE)
        if (
            any(praise_flags)
            and reported
            and not (rules.praise_on_time and standing != UNIT_ON_TIME)
            and not (rules.praise_no_errors and had_errors)
            and not (rules.praise_on_pace and not _on_pace(own, merged.period.pace))
        ):
            praised.append({"unit": clean(name), "kind": unit["类型"]})
        red = _red_led(merged, name)
        reasons = [
            text
            for flag, text in (
                (rules.criticize_missing and standing == UNIT_MISSING, "未报送"),
                (rules.criticize_late and standing == UNIT_LATE, "迟报"),
                (rules.criticize_rejected and standing == UNIT_REJECTED, "报送材料被退回修改，未重新报送合格材料"),
                (rules.criticize_red and bool(red), f"牵头任务红灯 {len(red)} 项（第{'、'.join(map(str, red))}项）"),
            )
            if flag
        ]
        if reasons:
            criticised.append({"unit": clean(name), "kind": unit["类型"], "reasons": "；".join(reasons)})
    return praised, criticised


def _changes(merged: MergedQuarter, previous: MergedQuarter | None) -> dict[str, Any]:
    label = (previous.period if previous else merged.period.previous()).full_label
    if previous is None:
        return {"available": False, "previous_label": label, "groups": [],
                "turned_green": [], "turned_red": [], "newly_completed": []}
    before = previous.tasks.set_index("任务编号")
    found: dict[str, list[dict[str, Any]]] = {"turned_green": [], "turned_red": [], "newly_completed": []}
    for _, row in merged.tasks.iterrows():
        no = row["任务编号"]
        old_light = before.at[no, "红黄绿灯"] if no in before.index else None
        old_status = before.at[no, "综合状态"] if no in before.index else None
        for key, now_value, old_value in (
            ("turned_green", row["红黄绿灯"] == LIGHT_GREEN, old_light == LIGHT_GREEN),
            ("turned_red", row["红黄绿灯"] == LIGHT_RED, old_light == LIGHT_RED),
            ("newly_completed", row["综合状态"] == layout.STATUS_DONE, old_status == layout.STATUS_DONE),
        ):
            if now_value and not old_value:
                found[key].append(_task_row(row))
    names = {"turned_green": "转为绿灯", "turned_red": "转为红灯", "newly_completed": "新完成"}
    return {
        "available": True,
        "previous_label": label,
        "groups": [{"name": names[k], "rows": rows} for k, rows in found.items()],
        **found,
    }


def _year_end(merged: MergedQuarter) -> list[dict[str, Any]] | None:
    """Q4 only: unfinished tasks grouped by lead unit, units in 单位名录 order, as the notice asks
    (年底未完成任务的单位予以批评)."""
    if merged.period.quarter != 4:
        return None
    unfinished = merged.tasks[merged.tasks["综合状态"] != layout.STATUS_DONE]
    order = {name: i for i, name in enumerate(merged.units["单位名称"])}
    leads = sorted(set(unfinished["牵头单位"]), key=lambda u: (order.get(u, len(order)), u))
    return [
        {"unit": clean(lead), "tasks": [_task_row(r) for _, r in unfinished[unfinished["牵头单位"] == lead].iterrows()]}
        for lead in leads
    ]


def briefing_context(
    merged: MergedQuarter, previous: MergedQuarter | None, config: Config, period: Period
) -> dict[str, Any]:
    """Everything the templates show, computed from the MergedQuarter behind 汇总表 (so the two
    agree) and dated by its as-of day (so a rerun reproduces the same document)."""
    settings = briefing_settings(config)
    overview = _overview(merged)
    sections = _sections(merged.tasks)
    praised, criticised = judge_units(merged, settings.rules)
    issuer = issuer_name(config, settings)
    day = date_label(merged.as_of)
    return {
        "title": f"关于{period.full_label}市政府工作报告确定事项推进情况的通报",
        "issuer": issuer,
        "addressee": settings.addressee,
        "intro": (
            f"{config.bureau.name}对各责任单位报送的{period.full_label}市政府工作报告确定事项推进情况"
            f"（截止时间{period.deadline_label}）进行了汇总分析，统计截至{day}。现将有关情况通报如下："
        ),
        "date_label": day,
        "numerals": NUMERALS,
        "period": {
            "key": period.key,
            "full_label": period.full_label,
            "quarter": period.quarter,
            "pace": period.pace,
            "deadline_label": period.deadline_label,
        },
        "status_names": list(STATUS_ORDER),
        "overview": overview,
        "sections": sections,
        "charts": _charts(sections, overview),
        "headline": _headline(merged, settings.headline_section),
        "lagging": _lagging(merged.tasks),
        "rules": {"praise": settings.rules.praise_text(), "criticism": settings.rules.criticism_text()},
        "praise": praised,
        "criticism": [r for r in criticised if r["kind"] != STATIONED_KIND],
        "criticism_stationed": [r for r in criticised if r["kind"] == STATIONED_KIND],
        "changes": _changes(merged, previous),
        "year_end": _year_end(merged),
    }


# --- rendering ----------------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
PDF_TIMEOUT = 180  # seconds; a cold Chromium start on a slow office PC takes several


def template_dirs(config: Config, settings: BriefingSettings | None = None) -> list[Path]:
    """The workspace's templates folder first (the clerk's edited copies), then the bundled ones."""
    settings = settings or briefing_settings(config)
    return [config.root / settings.templates, BUNDLED_TEMPLATES]


def _find_template(dirs: Iterable[Path], name: str) -> Path:
    for folder in dirs:
        if (folder / name).is_file():
            return folder / name
    raise DuchaError(f"找不到通报模板 {name}（已查找：{'、'.join(str(d) for d in dirs)}）")


def _environment(dirs: list[Path], markdown: bool) -> jinja2.Environment:
    """HTML: Jinja autoescape. Markdown: every value through md_escape (finalize) instead, since
    HTML escaping does not stop Markdown syntax. Undefined names fail loudly: a typo in an edited
    template must not silently print nothing."""
    options: dict[str, Any] = {"finalize": _md_finalize, "autoescape": False} if markdown else {"autoescape": True}
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in dirs]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        **options,
    )


def _render(name: str, render: Callable[[], Any]) -> Any:
    """Turn a template mistake into a message naming the template and the line."""
    try:
        return render()
    except jinja2.TemplateSyntaxError as exc:
        raise DuchaError(f"通报模板 {name} 第 {exc.lineno} 行有语法错误：{exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise DuchaError(f"通报模板 {name} 使用了不存在的数据项：{exc.message}") from exc


def render_html(context: dict[str, Any], dirs: list[Path]) -> str:
    env = _environment(dirs, markdown=False)
    return _render(HTML_TEMPLATE, lambda: env.get_template(HTML_TEMPLATE).render(context))


def render_markdown(context: dict[str, Any], dirs: list[Path]) -> str:
    env = _environment(dirs, markdown=True)
    return _render(MD_TEMPLATE, lambda: env.get_template(MD_TEMPLATE).render(context))


def render_docx(context: dict[str, Any], dirs: list[Path]) -> bytes:
    """Word through docxtpl with autoescape on (its default is off): a unit's `<`, `&` become XML
    entities instead of breaking the document. Zip timestamps are fixed for reproducible bytes."""
    from docxtpl import DocxTemplate

    template = DocxTemplate(str(_find_template(dirs, DOCX_TEMPLATE)))
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    _render(DOCX_TEMPLATE, lambda: template.render(context, jinja_env=env, autoescape=True))
    out = io.BytesIO()
    template.save(out)
    return stable_zip(out.getvalue())


def find_browser(settings: BriefingSettings) -> str:
    """The Chromium-family browser to print with, or a DuchaError saying how to get one."""
    if settings.browser:
        found = shutil.which(settings.browser)
        if found or Path(settings.browser).is_file():
            return found or settings.browser
        raise DuchaError(f"找不到 ducha.toml [briefing] browser 指定的浏览器：{settings.browser}")
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise DuchaError(
        "生成 PDF 需要 Chromium 浏览器，但本机未找到 chromium（也未找到 Chrome 或 Edge）。"
        "请安装 Chromium（Debian/Ubuntu：apt install chromium），或在 ducha.toml 的 [briefing] browser "
        "中填写浏览器程序的路径。不加 --pdf 时，HTML、Markdown、Word 版通报照常生成"
    )


def headless_command(browser: str, profile: Path, url: str, *actions: str) -> list[str]:
    """A headless Chromium run that touches nothing of the user's: a fresh profile folder, no
    sync, extensions, updates or background requests. actions: --print-to-pdf=…, --screenshot=…"""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--metrics-recording-only",
        "--no-pdf-header-footer",
        *actions,
        url,
    ]


def print_pdf(html: Path, target: Path, browser: str) -> Path:
    """Print the HTML to PDF with headless Chromium, atomically."""
    with tempfile.TemporaryDirectory(prefix="ducha-chromium-") as profile, atomic_path(target) as tmp:
        command = headless_command(browser, Path(profile), html.resolve().as_uri(), f"--print-to-pdf={tmp}")
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DuchaError(f"调用浏览器 {browser} 生成 PDF 失败：{exc}") from exc
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise DuchaError(f"浏览器 {browser} 未能生成 PDF（退出码 {done.returncode}）：{tail}")
    return target


def write_briefing(context: dict[str, Any], config: Config, period: Period, pdf: bool = False) -> list[Path]:
    """Write 通报.html / .md / .docx (and .pdf) into reports/<period>/, each atomically."""
    settings = briefing_settings(config)
    dirs = template_dirs(config, settings)
    browser = find_browser(settings) if pdf else ""  # fail before writing anything
    folder = config.paths.reports / period.key
    html = write_text_atomic(folder / f"{OUTPUT_STEM}.html", render_html(context, dirs))
    outputs = [
        html,
        write_text_atomic(folder / f"{OUTPUT_STEM}.md", render_markdown(context, dirs)),
        write_bytes_atomic(folder / f"{OUTPUT_STEM}.docx", render_docx(context, dirs)),
    ]
    if pdf:
        outputs.append(print_pdf(html, folder / f"{OUTPUT_STEM}.pdf", browser))
    return outputs


def _as_date(now: dt.datetime | dt.date | None) -> dt.date:
    if now is None:
        return dt.date.today()
    return now.date() if isinstance(now, dt.datetime) else now


def render_briefing(
    config: Config, period: Period, pdf: bool = False, now: dt.datetime | dt.date | None = None
) -> list[Path]:
    """`ducha briefing`: load this quarter and the previous one from the ledger and the store as of
    `now` (default today; pass it for a reproducible document) and write the briefing files."""
    from toolkit.quarter.merge import load_merged

    as_of = _as_date(now)
    with workspace_lock(config.paths.lock):
        merged = load_merged(config, period, as_of)
        if not merged.files:
            raise DuchaError(f"{period.full_label}（{period.key}）还没有任何收件记录：请先运行 ducha merge --period {period.key}")
        previous = load_merged(config, period.previous(config.deadlines), as_of)
        context = briefing_context(merged, previous if previous.files else None, config, period)
        return write_briefing(context, config, period, pdf)
