"""The three mail runs — workbooks, reminders, receipts — and what each did.

They differ only in whom they pick and what they attach; everything else (who has no valid
address, what was already delivered for (period, unit, kind, stage), the attempt number, a dry
run's .eml files) is one loop, so a second run of any kind is harmless in the same way: a message
already delivered is not sent again unless asked, and one that failed is tried again. A run names
every unit it still owes a message (`MailRun.undelivered`: no valid 邮箱, no workbook, a failed
delivery), because the scheduler counts an action done only when that list is empty. A 邮箱 cell
with one bad address among good ones is mailed to the good ones and the bad one reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.forms.plan import UnitJob, file_name, plan, workbook_title
from toolkit.fsutil import workspace_lock, write_bytes_atomic
from toolkit.ledger.build import load_ledger
from toolkit.ledger.units import parse_addresses
from toolkit.mail.compose import Outgoing, message_id, unit_message
from toolkit.mail.settings import mail_settings, smtp_password
from toolkit.mail.transport import ALREADY, DRY_RUN, FAILED, SENT, Smtp, send_recorded
from toolkit.model import ROLE_LEAD, Ledger, Unit
from toolkit.outputs.notice_word import TITLES
from toolkit.outputs.notices import notice_path
from toolkit.outputs.receipts import RECEIPT_DIR, receipt_name
from toolkit.period import Period
from toolkit.quarter.decisions import closed_before, extensions_before
from toolkit.quarter.history import accepted_units, mail_history, submitted_units
from toolkit.quarter.notices import day_text, notice_settings, notices_of
from toolkit.quarter.plans import task_deadlines
from toolkit.quarter.rules import day_label
from toolkit.quarter.store import Store, open_store
from toolkit.workdays import is_workday

MAIL_DIR = "mail"  # outbox/<period>/mail/: the .eml files of a dry run

SEND, REMIND, RECEIPT, NOTICE = "send", "remind", "receipt", "notice"
KIND_LABELS = {SEND: "下发填报表", REMIND: "催报", RECEIPT: "回执", NOTICE: "督办通知"}
# Reminder stages by days to the deadline: one reminder per stage, whatever the schedule says.
WEEK, DAY, OVERDUE = "week", "day", "overdue"



@dataclass
class Delivery:
    """One message of a run and what became of it."""

    unit: str
    recipients: list[str]
    result: str  # sent / failed / dry-run / already
    stage: str = ""
    message_id: str = ""
    error: str = ""
    eml: str = ""
    unused: list[str] = field(default_factory=list)  # addresses of its 邮箱 not mailed, each with why

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class MailRun:
    """What `ducha send / remind / receipts --send` did, for the clerk and for `--json`."""

    period: str
    kind: str
    dry_run: bool
    deliveries: list[Delivery] = field(default_factory=list)
    no_address: dict[str, str] = field(default_factory=dict)  # unit → what its 邮箱 cell holds
    address_at: dict[str, str] = field(default_factory=dict)  # unit → where that cell is (单位名录!F5)
    missing: list[str] = field(default_factory=list)  # units whose attachment does not exist (yet)
    not_due: list[str] = field(default_factory=list)  # remind: units whose report was accepted
    mail_dir: str = ""

    def _with(self, result: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.result == result]

    @property
    def sent(self) -> list[Delivery]:
        return self._with(SENT)

    @property
    def failed(self) -> list[Delivery]:
        return self._with(FAILED)

    @property
    def already(self) -> list[Delivery]:
        return self._with(ALREADY)

    @property
    def undelivered(self) -> dict[str, str]:
        """unit → why this run left it without the message it is owed (未填写邮箱, 缺少填报表, the
        server's refusal). A unit with no receipt yet is owed none, and a dry run delivers nothing
        by design: neither is listed."""
        reasons = {unit: f"邮箱无效：{self.address_at.get(unit, '')}“{cell}”，请在总台账中改正" if cell.strip()
                   else "未填写邮箱" for unit, cell in self.no_address.items()}
        if self.kind != RECEIPT:
            reasons.update((unit, "缺少填报表，请运行 ducha generate") for unit in self.missing)
        reasons.update((d.unit, f"发送失败：{d.error}") for d in self.failed)
        return reasons

    @property
    def summary(self) -> str:
        """一句话 for the schedule log: 催报：发送 3 封，失败 1 封，……；未送达：龙亭区（未填写邮箱）"""
        parts = [f"{KIND_LABELS[self.kind]}：" + ("生成 .eml " if self.dry_run else "发送 ")]
        parts[0] += f"{len(self._with(DRY_RUN if self.dry_run else SENT))} 封"
        if self.failed:
            parts.append(f"失败 {len(self.failed)} 封（下次运行时重试）")
        if self.already:
            parts.append(f"已发过 {len(self.already)} 封")
        if self.missing and self.kind == RECEIPT:
            parts.append(f"尚无回执 {len(self.missing)} 个单位")
        if self.not_due:
            parts.append(f"已报送无需催报 {len(self.not_due)} 个单位")
        text = "，".join(parts)
        by_reason: dict[str, list[str]] = {}
        for unit, why in self.undelivered.items():
            by_reason.setdefault(why, []).append(unit)
        if by_reason:
            text += "；未送达：" + "，".join(f"{'、'.join(units)}（{why}）" for why, units in by_reason.items())
        unused = [f"{d.unit} {address}" for d in self.deliveries for address in d.unused]
        if unused:
            text += "；未发往：" + "、".join(unused)
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "kind": self.kind,
            "dry_run": self.dry_run,
            "summary": self.summary,
            "deliveries": [d.as_dict() for d in self.deliveries],
            "undelivered": self.undelivered,
            "no_address": self.no_address,
            "address_at": self.address_at,
            "missing": self.missing,
            "not_due": self.not_due,
            "mail_dir": self.mail_dir,
        }


# (config, period, ledger, store, the chosen units' jobs, now, the run to note skipped units in)
Picker = Callable[[Config, Period, Ledger, Store, list[UnitJob], dt.datetime, MailRun], list[Outgoing]]


def _run(
    config: Config,
    period: Period,
    kind: str,
    pick: Picker,
    units: Sequence[str] | None,
    dry_run: bool,
    resend: bool,
    now: dt.datetime | None,
) -> MailRun:
    now = config.bureau.local(now)
    settings = mail_settings(config)
    password = smtp_password(settings, dry_run)
    run = MailRun(period.key, kind, dry_run)
    mail_dir = config.paths.outbox / period.key / MAIL_DIR
    with workspace_lock(config.paths.lock), open_store(config.paths.store) as store:
        ledger = load_ledger(config)
        jobs = plan(ledger, list(units) if units else None, closed_before(config, period)).jobs  # 办结: not chased
        outgoing = pick(config, period, ledger, store, jobs, now, run)
        history = mail_history(store, period.key, kind)
        smtp = None if dry_run else Smtp(settings, password)
        try:
            for item in outgoing:
                valid, invalid = parse_addresses(item.unit.email)
                if not valid:
                    run.no_address[item.unit.name] = item.unit.email
                    run.address_at[item.unit.name] = item.unit.email_at
                    continue
                attempts, delivered = history.get((item.unit.name, item.stage), (0, False))
                if delivered and not resend:
                    run.deliveries.append(Delivery(item.unit.name, valid, ALREADY, item.stage))
                    continue
                unused = [f"{address}（邮箱格式不对）" for address in invalid]
                msg_id = message_id(period.key, item.unit.name, kind, item.stage, attempts + 1, settings.sender)
                msg = unit_message(config, settings, period, item, valid, msg_id, now)
                if smtp is None:
                    target = mail_dir / eml_name(period, kind, item.stage, item.unit.name)
                    write_bytes_atomic(target, msg.as_bytes())
                    run.deliveries.append(Delivery(item.unit.name, valid, DRY_RUN, item.stage, msg_id,
                                                   eml=str(target), unused=unused))
                    continue
                error, refused = send_recorded(smtp, store, period.key, item.unit.name, kind, item.stage,
                                               attempts + 1, valid, msg_id, msg, now)
                run.deliveries.append(Delivery(item.unit.name, valid, FAILED if error else SENT, item.stage, msg_id,
                                               error, unused=unused + refused))
        finally:
            if smtp is not None:
                smtp.close()
    if run._with(DRY_RUN):
        run.mail_dir = str(mail_dir)
    return run


def eml_name(period: Period, kind: str, stage: str, unit: str) -> str:
    """2024Q1_市商务局_send.eml, 2024Q1_市商务局_remind-week.eml, 2024Q1_市商务局_notice-2024-1-3.eml
    (a unit may get several notices); a receipt's stage is a content hash, which the name does not need."""
    label = f"{kind}-{stage}" if kind in (REMIND, NOTICE) else kind
    return f"{Path(file_name(period, unit)).stem}_{label}.eml"


def remind_stage(today: dt.date, deadline: dt.date) -> str:
    """week while two or more days remain, day on the last working day before the deadline (the
    day before, or a Friday before a Monday deadline) and on the deadline itself, then overdue."""
    days_left = (deadline - today).days
    if days_left < 0:
        return OVERDUE
    between = (today + dt.timedelta(days=n) for n in range(1, days_left))
    return DAY if days_left <= 1 or not any(map(is_workday, between)) else WEEK


def _unit(ledger: Ledger, name: str) -> Unit:
    """A unit named in a task but missing from 单位名录 has no address: it is listed, not mailed."""
    return ledger.unit(name) or Unit(name, "")


# --- the three kinds -----------------------------------------------------------------------------


def _pick_workbooks(config: Config, period: Period, ledger: Ledger, store: Store, jobs: list[UnitJob],
                    now: dt.datetime, run: MailRun) -> list[Outgoing]:
    folder = config.paths.outbox / period.key
    outgoing = []
    for job in jobs:
        path = folder / file_name(period, job.unit)
        if not path.is_file():
            run.missing.append(job.unit)
            continue
        context = {"title": workbook_title(config.bureau, period), "tasks": len(job.assignments)}
        outgoing.append(Outgoing(_unit(ledger, job.unit), "", "mail_send", context, path))
    if jobs and len(run.missing) == len(jobs):
        raise DuchaError(f"outbox/{period.key}/ 中没有填报表，请先运行 ducha generate --period {period.key}")
    return outgoing


def _pick_reminders(config: Config, period: Period, ledger: Ledger, store: Store, jobs: list[UnitJob],
                    now: dt.datetime, run: MailRun) -> list[Outgoing]:
    accepted = accepted_units(store, period.key)
    submitted = submitted_units(store, period.key)
    stage = remind_stage(now.date(), period.deadline)
    folder = config.paths.outbox / period.key
    following = period.next(config.deadlines).deadline
    deadlines = task_deadlines(ledger, period.year, extensions_before(config, period))
    outgoing = []
    for job in jobs:
        if job.unit in accepted:
            run.not_due.append(job.unit)
            continue
        path = folder / file_name(period, job.unit)  # attached again: the first mail may be lost or deleted
        if not path.is_file():
            run.missing.append(job.unit)
            continue
        # submitted and not accepted: every file it sent was rejected, so it is asked to resubmit
        context = {"submitted": job.unit in submitted, "tasks": len(job.assignments), "following": day_label(following),
                   "falling_due": _falling_due(job, deadlines, following)}
        outgoing.append(Outgoing(_unit(ledger, job.unit), stage, "mail_remind", context, path))
    return outgoing


def _falling_due(job: UnitJob, deadlines: dict[int, tuple[dt.date, str]], following: dt.date) -> list[str]:
    """The tasks the unit leads whose 时间节点 (as an approved extension moved it) falls before the
    next quarter's deadline, as the reminder lists them."""
    lines = []
    for a in job.assignments:
        due, note = deadlines.get(a.task.no, (None, ""))
        if a.role == ROLE_LEAD and due is not None and due <= following:
            lines.append(f"{len(lines) + 1}. 第{a.task.no}项 {a.task.content}（时间节点：{day_label(due)}"
                         f"{'，已延期' if note else ''}）")
    return lines


def _pick_receipts(config: Config, period: Period, ledger: Ledger, store: Store, jobs: list[UnitJob],
                   now: dt.datetime, run: MailRun) -> list[Outgoing]:
    accepted = accepted_units(store, period.key)
    folder = config.paths.reports / period.key / RECEIPT_DIR
    outgoing = []
    for job in jobs:
        path = folder / receipt_name(period.key, job.unit)
        if not path.is_file():
            run.missing.append(job.unit)
            continue
        # A new merge that changes the receipt makes it a new message; an unchanged one is not resent.
        stage = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        context = {"accepted": job.unit in accepted}
        outgoing.append(Outgoing(_unit(ledger, job.unit), stage, "mail_receipt", context, path))
    return outgoing


def _pick_notices(config: Config, period: Period, ledger: Ledger, store: Store, jobs: list[UnitJob],
                  now: dt.datetime, run: MailRun) -> list[Outgoing]:
    """Every notice of the period to its unit, the PDF when one was printed, else the Word file;
    each is one stage (year-level-number), so it is mailed once."""
    settings = notice_settings(config)
    chosen = {job.unit for job in jobs}
    outgoing = []
    for notice in notices_of(store, period.key):
        if notice.unit not in chosen:
            continue
        word = notice_path(config, notice, settings)
        if not word.is_file():
            raise DuchaError(f"{word.name} 不存在：请先运行 ducha notices --period {period.key}")
        pdf = word.with_suffix(".pdf")
        context = {"title": TITLES[notice.level], "number": notice.number_text(settings), "cause": notice.cause,
                   "todo": notice.todo, "due": day_text(notice.due)}
        outgoing.append(Outgoing(_unit(ledger, notice.unit), f"{notice.year}-{notice.level}-{notice.number}",
                                 "mail_notice", context, pdf if pdf.is_file() else word))
    return outgoing


def send_workbooks(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                   resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha send`: each unit its outbox workbook, once (again only with resend)."""
    return _run(config, period, SEND, _pick_workbooks, units, dry_run, resend, now)


def send_reminders(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                   resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha remind`: the units with no accepted report, worded for a week before, the day
    before or overdue (a unit whose files were all rejected: asked to resubmit), each with its
    workbook attached again; one reminder per unit and stage."""
    return _run(config, period, REMIND, _pick_reminders, units, dry_run, resend, now)


def send_receipts(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                  resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha receipts --send`: each unit the receipt the last merge wrote for it, once per
    receipt content."""
    return _run(config, period, RECEIPT, _pick_receipts, units, dry_run, resend, now)


def send_notices(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                 resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha notices --send`: each notice of the period that `ducha notices` wrote, to its unit, once."""
    return _run(config, period, NOTICE, _pick_notices, units, dry_run, resend, now)
