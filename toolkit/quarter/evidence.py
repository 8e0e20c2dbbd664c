"""佐证材料 in the quarter: which dropped files are evidence, whose, and for which tasks.

A unit's evidence is known by what it came with: a file in the same sub-folder of the drop folder
as the unit's workbook, or saved from the same mail (`ducha fetch` puts every mail's attachments in
the drop folder and records which mail each came from). Files dropped loose at the top of the drop
folder are everybody's, so there a PDF stays what it was: a wrong file, checked like any other.
A piece of evidence is linked to the tasks whose 佐证材料 cell names it; it is archived by hash and
listed, never read beyond its type (toolkit.intake.evidence).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from toolkit.config import Config
from toolkit.intake import archive
from toolkit.intake.codes import CODES
from toolkit.intake.evidence import check_evidence, is_evidence, is_workbook
from toolkit.intake.normalize import compact
from toolkit.intake.sniff import Limits
from toolkit.period import Period
from toolkit.problems import Issue
from toolkit.quarter.rules import file_order
from toolkit.quarter.store import FileRecord, Store

EVIDENCE_DIR = "佐证材料"  # archive/<period>/佐证材料/<sha256><ext>
EVIDENCE_COLUMNS = ("单位", "文件", "类型", "大小(KB)", "收到时间", "关联任务", "状态")
TAKEN = "已接收"

Group = tuple[str, ...]  # ("mail", folder, uidvalidity, uid) or ("folder", relative folder)


@dataclass(frozen=True)
class EvidenceFile:
    period: str
    path: str
    unit: str
    name: str  # as the unit named it
    format: str
    size: int
    received: str
    problem: str  # "" when taken
    code: str = ""  # why it was refused (intake/codes.py), "" when taken


def _mails(store: Store) -> dict[str, tuple[Group, str]]:
    """Saved file name → (its mail, the attachment's own name), for what `ducha fetch` saved."""
    rows = store.conn.execute("SELECT folder, uidvalidity, uid, name, saved FROM fetched WHERE saved != ''")
    return {PurePath(saved).name: (("mail", folder, str(validity), str(uid)), name)
            for folder, validity, uid, name, saved in rows}


def _group(drop: Path, path: Path, mails: dict[str, tuple[Group, str]]) -> Group | None:
    if path.parent == drop and path.name in mails:
        return mails[path.name][0]
    if path.parent != drop and path.parent.is_relative_to(drop):
        return ("folder", path.parent.relative_to(drop).as_posix())
    return None


def split(store: Store, drop: Path, files: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files to check as workbooks, evidence): evidence has an evidence extension and shares its
    group (sub-folder or mail) with a workbook."""
    mails = _mails(store)
    with_books = {g for p in files if is_workbook(p.name) and (g := _group(drop, p, mails))}
    evidence = [p for p in files if is_evidence(p.name) and _group(drop, p, mails) in with_books]
    return [p for p in files if p not in evidence], evidence


def take_in(store: Store, drop: Path, files: list[Path], period: Period, config: Config) -> list[EvidenceFile]:
    """Attribute, check and archive the evidence files not yet recorded for the period."""
    mails = _mails(store)
    owners: dict[Group, set[str]] = {}
    for path, unit in store.conn.execute(
        """SELECT p.path, s.unit FROM file_paths p JOIN submissions s USING (sha256)
           WHERE s.period = ? AND s.unit IS NOT NULL AND s.claimed = 0""", (period.key,)):
        if (group := _group(drop, Path(path), mails)) is not None:
            owners.setdefault(group, set()).add(unit)
    known = {p for (p,) in store.conn.execute("SELECT path FROM evidence WHERE period = ?", (period.key,))}
    limits, taken = Limits.from_config(config), []
    for path in files:
        shown = archive.shown_path(path)
        group = _group(drop, path, mails)
        if shown in known or group is None:
            continue
        sha256, size, received = archive.file_facts(path, config.bureau.zone)
        name = mails[path.name][1] if group[0] == "mail" else path.name
        units = sorted(owners.get(group, ()))
        if len(units) != 1:
            continue  # its workbook is not identified yet (or names several units): next run
        fmt, code, problem = check_evidence(path, name, limits)
        archived = "" if problem else str(archive.archive(path, config.paths.archive / period.key / EVIDENCE_DIR,
                                                               sha256))
        row = EvidenceFile(period.key, shown, units[0], name, fmt, size, received, problem, code)
        with store.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (row.period, row.path, sha256, row.unit, row.name, row.format, row.size, row.received,
                          archived, row.problem))
            if code:
                conn.execute("INSERT OR REPLACE INTO evidence_refusals VALUES (?, ?, ?)", (row.period, row.path, code))
        taken.append(row)
    return taken


def evidence_of(store: Store, period: str) -> list[EvidenceFile]:
    """The period's evidence files, by unit and name."""
    rows = store.conn.execute(
        """SELECT e.period, e.path, e.unit, e.name, e.format, e.size, e.received, e.problem, COALESCE(r.code, '')
           FROM evidence e LEFT JOIN evidence_refusals r USING (period, path)
           WHERE e.period = ? ORDER BY e.unit, e.name, e.path""", (period,))
    return [EvidenceFile(*row) for row in rows]


def with_refusals(records: list[FileRecord], files: list[EvidenceFile]) -> None:
    """Each refused evidence file as a 提醒 on its unit's last workbook (by rules.file_order; a
    claimed file is never the unit's), named in the message, so receipts and 汇总表 list it with
    the workbook's other issues; the workbook is still taken. In memory only: the stored check of
    the workbook stays what the workbook itself gave."""
    latest: dict[str, FileRecord] = {}
    for record in sorted(records, key=file_order):
        if record.unit is not None and not record.claimed:
            latest[record.unit] = record
    for f in files:
        if f.code and f.unit in latest:
            latest[f.unit].issues = [*latest[f.unit].issues, Issue(
                CODES[f.code][0], f.code, "", None, f"佐证材料“{f.name}”未接收：{f.problem}")]


def names_match(named: str, file_name: str) -> bool:
    """A 佐证材料 entry names this file: the same name, or the same name without its extension."""
    a, b = compact(named).lower(), compact(file_name).lower()
    return a == b or a == PurePath(b).stem
