"""master_ledger.xlsx from the notice, and the ledger every command starts from.

The notice seeds the ledger, the clerk completes it in Excel (e-mails, responsible persons,
which zones count as 各县区), and every later step loads it through load_ledger(), which refuses
a ledger that fails the check. `ledger build` is `ledger import` of the notice named in ducha.toml:
one path from any notice file (sources.py → notice.py) to the workbook, with one parse report, so
next year's .docx is taken exactly as the bundled Markdown is. Nothing silently overwrites the
clerk's edits: an edited ledger is replaced only with --force, after a timestamped backup, and a
notice whose numbering has gaps is not written without --force either.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import LedgerError
from toolkit.fsutil import workspace_lock, write_atomic
from toolkit.ledger import cache, indicators, units
from toolkit.ledger.check import check_ledger, parse_tables
from toolkit.ledger.notice import Line, ParsedNotice, parse_lines, parse_notice
from toolkit.ledger.sheets import (
    BUILT_AT_LABEL,
    JOIN,
    SHEET_ABOUT,
    SHEET_BONUS,
    Table,
    about_rows,
    ledger_tables,
    read_tables,
    write_tables,
)
from toolkit.ledger.sources import read_source
from toolkit.model import UNIT_KINDS, Ledger, Task
from toolkit.problems import Cell, Issue


def ledger_from_notice(text: str, deadline: str) -> tuple[Ledger, list[Issue]]:
    """The ledger a notice in plain or Markdown text implies, and the parser's warnings."""
    parsed = parse_notice(text)
    return ledger_from_parsed(parsed, deadline), parsed.issues


def ledger_from_parsed(parsed: ParsedNotice, deadline: str) -> Ledger:
    """The ledger the parsed notice implies: units split and catalogued, indicators found."""
    tasks = []
    for item in parsed.items:
        lead, co, county = units.split_units(item.units_text)
        tasks.append(
            Task(
                no=item.no,
                category=item.category,
                section=item.section,
                content=item.content,
                leaders=item.leaders,
                units_text=item.units_text,
                lead=lead,
                co=co,
                county=county,
                deadline=deadline,
            )
        )
    names = [name for t in tasks for name in (t.lead, *t.co, *t.county) if name]
    found = indicators.extract_all((t.no, t.content) for t in tasks)
    return Ledger(tasks, units.catalogue(names), found)


def read_ledger(path: Path) -> Ledger:
    """The ledger as written, without refusing on errors (raises LedgerError only when unreadable)."""
    return parse_tables(read_tables(Path(path)))[0]


def load_ledger(config: Config) -> Ledger:
    """The ledger every command works from; raises LedgerError listing the errors (with cells)
    when the check finds any, so no command runs on a broken ledger."""
    path = config.paths.ledger
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LedgerError(f"找不到总台账 {path}，请先运行 ducha ledger build") from None
    except OSError as exc:
        raise LedgerError(f"无法读取总台账 {path}：{exc}") from exc
    if (ledger := cache.kept(config, data, config.bureau.year)) is not None:
        return ledger
    ledger, report = parse_tables(read_tables(path, data), config.bureau.year)
    if report.errors:
        shown = report.errors[:20]
        lines = [f"  {i.message}" for i in shown]
        if len(report.errors) > len(shown):
            lines.append(f"  ……另有 {len(report.errors) - len(shown)} 处")
        raise LedgerError(
            f"总台账 {path.name} 有 {len(report.errors)} 处错误，请在 Excel 中改正后再运行"
            "（ducha ledger check 可列出全部问题）：\n" + "\n".join(lines)
        )
    cache.keep(config, data, config.bureau.year, ledger)
    return ledger


@dataclass
class NoticeReport:
    """What the parser made of the notice, for the clerk to judge before trusting the ledger."""

    source: Path
    items: int
    missing: list[int]  # numbers absent between 1 and the highest item
    repeated: list[int]  # numbers used by more than one item
    in_order: bool  # items numbered 1…N, each once, in order
    unplaced: list[Line]  # text between headings that belongs to no item
    new_units: list[str] | None  # names the current 单位名录 lacks; None: no ledger to compare with

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "items": self.items,
            "missing": self.missing,
            "repeated": self.repeated,
            "in_order": self.in_order,
            "unplaced": [{"where": line.where, "text": line.text} for line in self.unplaced],
            "new_units": self.new_units,
        }


@dataclass
class BuildResult:
    path: Path
    status: str  # created / rebuilt / unchanged / refused (numbering gaps, nothing written)
    backup: Path | None
    issues: list[Issue] = field(default_factory=list)  # parser warnings, then the check's findings
    summary: dict[str, Any] = field(default_factory=dict)
    notice: NoticeReport | None = None  # None for the blank template

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "status": self.status,
            "backup": str(self.backup) if self.backup else None,
            "issues": [i.as_dict() for i in self.issues],
            "summary": self.summary,
            "notice": self.notice.as_dict() if self.notice else None,
        }


def _differences(old: dict[str, Table], new: dict[str, Table], limit: int = 5) -> list[str]:
    """Cells (任务台账!K5) whose content differs, ignoring the build time (and an empty 节点计划 a
    ledger from before it lacks)."""
    found = [f"工作表“{name}”" for name in old if name not in new]
    found += [f"工作表“{name}”" for name in new if name not in old and len(new[name]) > 1]
    for sheet in (s for s in new if s in old):
        a, b = old[sheet], new[sheet]
        for r in range(max(len(a), len(b))):
            row_a = a[r] if r < len(a) else []
            row_b = b[r] if r < len(b) else []
            if sheet == SHEET_ABOUT and BUILT_AT_LABEL in row_a[:1] + row_b[:1]:
                continue
            for c in range(max(len(row_a), len(row_b))):
                va = row_a[c] if c < len(row_a) else ""
                vb = row_b[c] if c < len(row_b) else ""
                if va != vb:
                    found.append(f"{sheet}!{Cell(r + 1, c + 1)}")
                    if len(found) >= limit:
                        return found
    return found


def _backup_path(target: Path, now: dt.datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    candidate = target.with_name(f"{target.stem}.backup-{stamp}{target.suffix}")
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.stem}.backup-{stamp}-{n}{target.suffix}")
        n += 1
    return candidate


def build_ledger(config: Config, force: bool = False, now: dt.datetime | None = None) -> BuildResult:
    """`ducha ledger build`: import the notice named in ducha.toml ([paths] notice)."""
    notice = config.paths.notice
    if not notice.exists():
        raise LedgerError(f"找不到任务分解通知 {notice}，请检查 ducha.toml 中 [paths] notice 的设置")
    return import_notice(config, notice, force=force, now=now)


def import_notice(
    config: Config, source: Path, force: bool = False, now: dt.datetime | None = None
) -> BuildResult:
    """Write master_ledger.xlsx from the notice at source (.docx .pdf .html .txt .md). A notice
    whose numbering has gaps, repeats or is out of order is not written without force (status
    refused); a ledger that already holds exactly these cells is left untouched; one that differs
    (the clerk's edits) is replaced only with force, after a backup."""
    now = config.bureau.local(now).replace(tzinfo=None)  # 生成时间 on the bureau's clock
    read = read_source(Path(source).resolve())
    parsed = parse_lines(read.lines)
    if not parsed.items:
        raise LedgerError(
            f"在 {read.path.name} 中没有找到编号任务：通知的附件应有“1. ……”或“1、……”开头的任务，"
            "其后是“责任领导：”“责任单位：”两行。请核对文件是否选对"
        )
    ledger = ledger_from_parsed(parsed, f"{config.bureau.year}年12月31日")
    tables = ledger_tables(ledger, about_rows(config, read.path, read.data, now))
    with workspace_lock(config.paths.lock):
        report = NoticeReport(
            read.path, len(parsed.items), parsed.missing, parsed.repeated, parsed.in_order, parsed.unplaced,
            _new_units(config.paths.ledger, ledger),
        )  # fmt: skip
        if not parsed.in_order and not force:
            return BuildResult(config.paths.ledger, "refused", None, parsed.issues, summary(ledger), report)
        status, backup = write_ledger(config, tables, force, now, "按通知生成")
    checked = check_ledger(config.paths.ledger, config.bureau.year)
    issues = [*parsed.issues, *checked.issues]
    return BuildResult(config.paths.ledger, status, backup, issues, summary(ledger), report)


def _new_units(path: Path, ledger: Ledger) -> list[str] | None:
    """Units and groups the notice names that the current ledger's 单位名录 does not know (by name
    or 别名): their rows, e-mails and group membership are new work for the clerk."""
    if not path.exists():
        return None
    try:
        registry = read_ledger(path)
    except LedgerError:
        return None
    named = [name for t in ledger.tasks for name in (t.lead, *t.co, *t.county) if name]
    return [name for name in dict.fromkeys(named) if registry.unit(name) is None]


def write_ledger(
    config: Config, tables: dict[str, Table], force: bool, now: dt.datetime, made: str
) -> tuple[str, Path | None]:
    """Write the ledger's tables, protecting the clerk's edits (the caller holds the workspace lock):
    (created / rebuilt / unchanged, the backup of the replaced file or None). made names what the
    tables come from (按通知生成, 空白模板) in the refusal."""
    target = config.paths.ledger
    backup = None
    status = "created"
    if target.exists():
        try:
            old = read_tables(target)
            if SHEET_BONUS in old:  # the clerk's own rows, not the notice's: kept as they are
                tables = {**tables, SHEET_BONUS: old[SHEET_BONUS]}
            changed = _differences(old, tables)
        except LedgerError:
            changed = ["（现有文件无法读取）"]
        status = "rebuilt" if changed else "unchanged"
        if changed and not force:
            raise LedgerError(
                f"总台账 {target.name} 已被修改，与{made}的内容不同（如 {JOIN.join(changed)}），"
                f"为保护手工修改，未覆盖。如确需{made}覆盖，请加 --force（原文件会先备份）"
            )
        if changed:
            backup = _backup_path(target, now)
            shutil.copy2(target, backup)
    if status != "unchanged":
        write_atomic(target, lambda tmp: write_tables(tmp, tables, now))
    return status, backup


def summary(ledger: Ledger) -> dict[str, Any]:
    """What the ledger holds, for the build output and the demo."""
    sections = Counter(t.section for t in ledger.tasks)
    kinds = Counter(u.kind for u in ledger.units)
    return {
        "tasks": len(ledger.tasks),
        "sections": dict(sections),
        "units": {kind: kinds.get(kind, 0) for kind in UNIT_KINDS},
        "groups": {u.name: len(ledger.members(u.name)) for u in ledger.units if u.is_group},
        "indicators": len(ledger.indicators),
        "tasks_with_indicators": len({i.task_no for i in ledger.indicators}),
    }
