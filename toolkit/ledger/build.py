"""master_ledger.xlsx from the notice, and the ledger every command starts from.

The notice seeds the ledger, the clerk completes it in Excel (e-mails, responsible persons,
which zones count as 各县区), and every later step loads it through load_ledger(), which refuses
a ledger that fails the check. Building never silently overwrites the clerk's edits: an edited
ledger is replaced only with --force, after a timestamped backup.
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
from toolkit.ledger import indicators, units
from toolkit.ledger.check import check_ledger, parse_tables
from toolkit.ledger.notice import parse_notice
from toolkit.ledger.sheets import (
    BUILT_AT_LABEL,
    JOIN,
    SHEET_ABOUT,
    Table,
    about_rows,
    ledger_tables,
    read_tables,
    write_tables,
)
from toolkit.model import UNIT_KINDS, Ledger, Task
from toolkit.problems import Cell, Issue


def ledger_from_notice(text: str, deadline: str) -> tuple[Ledger, list[Issue]]:
    """The ledger the notice implies, and the parser's warnings for the clerk."""
    parsed = parse_notice(text)
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
    return Ledger(tasks, units.catalogue(names), found), parsed.issues


def read_ledger(path: Path) -> Ledger:
    """The ledger as written, without refusing on errors (raises LedgerError only when unreadable)."""
    return parse_tables(read_tables(Path(path)))[0]


def load_ledger(config: Config) -> Ledger:
    """The ledger every command works from; raises LedgerError listing the errors (with cells)
    when the check finds any, so no command runs on a broken ledger."""
    path = config.paths.ledger
    if not path.exists():
        raise LedgerError(f"找不到总台账 {path}，请先运行 ducha ledger build")
    ledger, report = parse_tables(read_tables(path))
    if report.errors:
        shown = report.errors[:20]
        lines = [f"  {i.message}" for i in shown]
        if len(report.errors) > len(shown):
            lines.append(f"  ……另有 {len(report.errors) - len(shown)} 处")
        raise LedgerError(
            f"总台账 {path.name} 有 {len(report.errors)} 处错误，请在 Excel 中改正后再运行"
            "（ducha ledger check 可列出全部问题）：\n" + "\n".join(lines)
        )
    return ledger


@dataclass
class BuildResult:
    path: Path
    status: str  # created / rebuilt / unchanged
    backup: Path | None
    issues: list[Issue] = field(default_factory=list)  # parser warnings, then the check's findings
    summary: dict[str, Any] = field(default_factory=dict)

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
        }


def _differences(old: dict[str, Table], new: dict[str, Table], limit: int = 5) -> list[str]:
    """Cells (任务台账!K5) whose content differs, ignoring the build time."""
    found = [f"工作表“{name}”" for name in old if name not in new]
    found += [f"工作表“{name}”" for name in new if name not in old]
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
    """Write master_ledger.xlsx from the notice. A ledger that already holds exactly these cells is
    left untouched; one that differs (the clerk's edits) is replaced only with force, after a backup."""
    now = now or dt.datetime.now()
    notice = config.paths.notice
    try:
        text = notice.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise LedgerError(f"找不到任务分解通知 {notice}，请检查 ducha.toml 中 [paths] notice 的设置") from exc
    except UnicodeDecodeError as exc:
        raise LedgerError(f"任务分解通知 {notice} 不是 UTF-8 文本，请另存为 UTF-8 编码") from exc
    ledger, warnings = ledger_from_notice(text, f"{config.bureau.year}年12月31日")
    tables = ledger_tables(ledger, about_rows(config, text, now))
    target = config.paths.ledger
    backup = None
    with workspace_lock(config.paths.lock):
        status = "created"
        if target.exists():
            try:
                changed = _differences(read_tables(target), tables)
            except LedgerError:
                changed = ["（现有文件无法读取）"]
            status = "rebuilt" if changed else "unchanged"
            if changed and not force:
                raise LedgerError(
                    f"总台账 {target.name} 已被修改，与按通知生成的内容不同（如 {JOIN.join(changed)}），"
                    "为保护手工修改，未覆盖。如确需按通知重新生成，请加 --force（原文件会先备份）"
                )
            if changed:
                backup = _backup_path(target, now)
                shutil.copy2(target, backup)
        if status != "unchanged":
            write_atomic(target, lambda tmp: write_tables(tmp, tables, now))
    report = check_ledger(target)
    return BuildResult(target, status, backup, [*warnings, *report.issues], summary(ledger))


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
