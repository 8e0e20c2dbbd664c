"""E-mail the workbooks, the reminders and the receipts, and remember every message in the store.

Units read mail in Outlook, Foxmail and QQ/163 webmail, so a message is plain text in base64 with
a short Chinese attachment name written twice: RFC 2231 `filename*` (what standards-following
clients read) and an RFC 2047 `name=` on Content-Type (what the rest fall back to). The store is
what makes a second run harmless: a message already delivered for (period, unit, kind, stage) is
not sent again unless asked, and one that failed — a refused recipient, a dropped connection — is
recorded and simply tried again by the next run.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import os
import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2

from toolkit.config import BUNDLED_TEMPLATES, Config, option
from toolkit.errors import ConfigError, DuchaError
from toolkit.forms.generate import UnitJob
from toolkit.fsutil import workspace_lock, write_bytes_atomic
from toolkit.ledger.units import parse_addresses
from toolkit.model import Ledger, Unit
from toolkit.period import Period

TZ = ZoneInfo("Asia/Shanghai")
PASSWORD_ENV = "DUCHA_SMTP_PASSWORD"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
MAIL_DIR = "mail"  # outbox/<period>/mail/: the .eml files of a dry run

SEND, REMIND, RECEIPT = "send", "remind", "receipt"
KIND_LABELS = {SEND: "下发填报表", REMIND: "催报", RECEIPT: "回执"}
# Reminder stages by days to the deadline: one reminder per stage, whatever the schedule says.
WEEK, DAY, OVERDUE = "week", "day", "overdue"

SENT, FAILED, DRY_RUN, ALREADY = "sent", "failed", "dry-run", "already"
RESULT_LABELS = {SENT: "已发送", FAILED: "发送失败", DRY_RUN: "已生成（未发送）", ALREADY: "已发过，跳过"}



# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """The [mail] section. The password is never in the file: only in DUCHA_SMTP_PASSWORD."""

    host: str = "localhost"
    port: int = 25
    security: str = option("none", choices=("ssl", "starttls", "none"))  # SMTPS (465) / STARTTLS (587) / plain
    user: str = ""  # empty: the server needs no login
    sender: str = ""  # empty: [bureau] email
    reply_to: str = ""  # empty: the sender
    timeout: int = 30  # seconds
    cafile: str = ""  # PEM certificate(s) to trust, for an intranet server with its own CA; "": the system's

    def with_defaults(self, bureau_email: str) -> MailSettings:
        sender = self.sender or bureau_email
        return dataclasses.replace(self, sender=sender, reply_to=self.reply_to or sender)


def mail_settings(config: Config) -> MailSettings:
    """Read [mail]; unknown keys, wrong types and a bad security word are ConfigErrors."""
    settings = config.read("mail", MailSettings).with_defaults(config.bureau.email)
    if settings.cafile:
        cafile = config.root / settings.cafile
        if not cafile.is_file():
            raise ConfigError(f"ducha.toml 的 [mail] cafile 指向的证书文件不存在：{cafile}")
        settings = dataclasses.replace(settings, cafile=str(cafile))
    for key in ("sender", "reply_to"):
        if not parse_addresses(getattr(settings, key))[0]:
            raise ConfigError(f"ducha.toml 的 [mail] {key} 不是有效的邮箱地址：{getattr(settings, key)}")
    return settings


# --- composing -----------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Header-safe text: control characters (CR, LF …) dropped, runs of whitespace made one space.
    Unit names come from a spreadsheet anyone may have typed into."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    return " ".join(cleaned.split())


class _VerbatimHeader(str):
    """A header the email policy writes exactly as given. The stdlib would split a long
    filename* into RFC 2231 continuations (filename*0*=…), which Outlook and several webmails
    do not join, and it never writes the name= fallback."""

    def __new__(cls, name: str, params: Sequence[str]) -> _VerbatimHeader:
        header = super().__new__(cls, "; ".join(params))
        header.name = name
        header.params = tuple(params)
        return header

    name: str
    params: tuple[str, ...]

    def fold(self, *, policy: Any) -> str:
        return f"{self.name}: " + f";{policy.linesep} ".join(self.params) + policy.linesep


def _encoded_words(text: str) -> str:
    """RFC 2047 base64 words of ≤75 characters, split between characters, never inside one."""
    words, chunk = [], ""
    for ch in text:
        if len((chunk + ch).encode("utf-8")) > 45:  # 45 bytes → 60 base64 chars + 12 of framing
            words.append(chunk)
            chunk = ""
        chunk += ch
    words.append(chunk)
    return " ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)


def attach(msg: EmailMessage, data: bytes, filename: str, mime: tuple[str, str] = XLSX_TYPE) -> None:
    """Attach data as base64 under a Chinese file name every common client shows intact."""
    msg.add_attachment(data, maintype=mime[0], subtype=mime[1], filename=filename)
    part = msg.get_payload()[-1]
    del part["Content-Type"], part["Content-Disposition"]
    part["Content-Type"] = _VerbatimHeader("Content-Type", [f"{mime[0]}/{mime[1]}", f'name="{_encoded_words(filename)}"'])
    part["Content-Disposition"] = _VerbatimHeader(
        "Content-Disposition", ["attachment", f"filename*=utf-8''{quote(filename, safe='')}"]
    )


def message_id(period: str, unit: str, kind: str, stage: str, attempt: int, sender: str) -> str:
    """The same (period, unit, kind, stage, attempt) always gets the same Message-ID, so the store,
    the .eml of a dry run and the server's log can be matched."""
    digest = hashlib.sha256("\x1f".join((period, unit, kind, stage)).encode("utf-8")).hexdigest()[:16]
    domain = sender.rpartition("@")[2] or "ducha.local"
    return f"<{period}.{kind}.{digest}.{attempt}@{domain}>"


def compose(
    settings: MailSettings,
    from_name: str,
    unit: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    msg_id: str,
    now: dt.datetime,
    attachment: tuple[bytes, str] | None = None,
) -> EmailMessage:
    """One message: Chinese subject (RFC 2047), base64 UTF-8 body, optional attachment."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=one_line(from_name), addr_spec=settings.sender)
    msg["To"] = [Address(display_name=one_line(unit), addr_spec=r) for r in recipients]
    msg["Reply-To"] = Address(addr_spec=settings.reply_to)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = msg_id
    msg.set_content(body, charset="utf-8", cte="base64")
    if attachment:
        attach(msg, *attachment)
    return msg


@functools.lru_cache(maxsize=4)
def _environment(dirs: tuple[Path, ...]) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(config: Config, name: str, **context: Any) -> tuple[str, str]:
    """(subject, body) from <name>.subject.j2 and <name>.body.j2: the workspace's templates/
    first (the clerk's own wording), then the bundled ones. Plain text, so no autoescape; the
    subject is made one header-safe line afterwards."""
    env = _environment((config.root / "templates", BUNDLED_TEMPLATES))
    subject = env.get_template(f"{name}.subject.j2").render(**context)
    body = env.get_template(f"{name}.body.j2").render(**context)
    return one_line(subject), body


def remind_stage(days_left: int) -> str:
    """week while two or more days remain, day on the last day and the one before, then overdue."""
    if days_left < 0:
        return OVERDUE
    return DAY if days_left <= 1 else WEEK


# --- sending -------------------------------------------------------------------------------------


def connect(settings: MailSettings, timeout: float | None = None) -> smtplib.SMTP:
    """An SMTP connection as configured (SSL, STARTTLS or plain), not logged in. The server's
    certificate is checked against the system's CAs, or against [mail] cafile: an intranet server
    with a self-signed certificate is trusted explicitly, never by switching verification off."""
    s = settings
    context = ssl.create_default_context(cafile=s.cafile or None)
    timeout = s.timeout if timeout is None else timeout
    if s.security == "ssl":
        return smtplib.SMTP_SSL(s.host, s.port, timeout=timeout, context=context)
    conn = smtplib.SMTP(s.host, s.port, timeout=timeout)
    if s.security == "starttls":
        try:
            conn.starttls(context=context)
        except BaseException:
            conn.close()
            raise
    return conn


class _Smtp:
    """One SMTP connection for a whole run, opened on first use and reopened after a drop. If it
    cannot be opened at all, every later message fails at once with the same reason instead of
    waiting for the timeout 66 times."""

    def __init__(self, settings: MailSettings, password: str) -> None:
        self.settings = settings
        self.password = password
        self.conn: smtplib.SMTP | None = None
        self.broken = ""

    def _open(self) -> smtplib.SMTP:
        conn = connect(self.settings)
        if self.settings.user:
            conn.login(self.settings.user, self.password)
        return conn

    def deliver(self, msg: EmailMessage, recipients: Sequence[str]) -> str:
        """Send one message; '' when accepted, else the Chinese reason it was not."""
        if self.broken:
            return self.broken
        if self.conn is None:
            try:
                self.conn = self._open()
            except (OSError, smtplib.SMTPException) as exc:
                self.broken = _connect_error(self.settings, exc)
                return self.broken
        try:
            refused = self.conn.send_message(msg, self.settings.sender, list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            return "收件人被拒绝：" + "；".join(f"{a}（{_reply(*r)}）" for a, r in exc.recipients.items())
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()  # the next message reconnects
            return f"与邮件服务器的连接中断：{exc}"
        except smtplib.SMTPResponseException as exc:
            self._reset()
            return f"邮件服务器拒收：{_reply(exc.smtp_code, exc.smtp_error)}"
        if refused:
            return "部分收件人被拒绝：" + "；".join(f"{a}（{_reply(*r)}）" for a, r in refused.items())
        return ""

    def _reset(self) -> None:
        try:
            self.conn.rset()  # type: ignore[union-attr]
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (OSError, smtplib.SMTPException):
                self.conn.close()
            self.conn = None


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"


def _connect_error(settings: MailSettings, exc: Exception) -> str:
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"登录邮件服务器 {where} 失败（用户名或密码不对，密码取自环境变量 {PASSWORD_ENV}）：{_reply(exc.smtp_code, exc.smtp_error)}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"邮件服务器 {where} 的证书无法验证（{exc.verify_message}）：内网服务器使用自签名证书时，"
                "请向管理员索取证书文件并在 ducha.toml 的 [mail] cafile 中填写其路径")
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLError):
        return f"邮件服务器 {where} 不支持所配置的加密方式（[mail] security = \"{settings.security}\"）：{exc}"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"连接邮件服务器 {where} 超时，请检查 [mail] host、port 与网络"
    return f"无法连接邮件服务器 {where}：{exc}"


# --- one run -------------------------------------------------------------------------------------


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
    missing: list[str] = field(default_factory=list)  # units whose attachment does not exist
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
    def summary(self) -> str:
        """一句话 for the schedule log: 催报：发送 3 封，失败 1 封，……"""
        parts = [f"{KIND_LABELS[self.kind]}：" + ("生成 .eml " if self.dry_run else "发送 ")]
        parts[0] += f"{len(self._with(DRY_RUN if self.dry_run else SENT))} 封"
        if self.failed:
            parts.append(f"失败 {len(self.failed)} 封（下次运行时重试）")
        if self.already:
            parts.append(f"已发过 {len(self.already)} 封")
        if self.no_address:
            parts.append(f"无有效邮箱 {len(self.no_address)} 个单位")
        if self.missing:
            parts.append(f"{'尚无回执' if self.kind == RECEIPT else '缺填报表'} {len(self.missing)} 个单位")
        if self.not_due:
            parts.append(f"已报送无需催报 {len(self.not_due)} 个单位")
        return "，".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "kind": self.kind,
            "dry_run": self.dry_run,
            "summary": self.summary,
            "deliveries": [d.as_dict() for d in self.deliveries],
            "no_address": self.no_address,
            "missing": self.missing,
            "not_due": self.not_due,
            "mail_dir": self.mail_dir,
        }


@dataclass(frozen=True)
class Outgoing:
    """A message a run wants to send: to whom, at which stage, with what attached."""

    unit: Unit
    stage: str
    template: str
    context: dict[str, Any]
    attachment: Path | None = None


# (config, period, ledger, store, the chosen units' jobs, now, the run to note skipped units in)
Picker = Callable[[Config, Period, Ledger, Any, list[UnitJob], dt.datetime, MailRun], list[Outgoing]]


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
    from toolkit.forms.generate import plan
    from toolkit.ledger.book import load_ledger
    from toolkit.quarter import store as store_mod

    now = _local(now or dt.datetime.now(TZ))
    settings = mail_settings(config)
    password = os.environ.get(PASSWORD_ENV, "")
    if not dry_run and settings.user and not password:
        raise DuchaError(f"请先设置环境变量 {PASSWORD_ENV}（邮箱 {settings.user} 的密码或授权码），或加 --dry-run 只生成邮件文件")
    run = MailRun(period.key, kind, dry_run)
    mail_dir = config.paths.outbox / period.key / MAIL_DIR
    with workspace_lock(config.paths.lock), store_mod.open_store(config.paths.store) as store:
        ledger = load_ledger(config)
        jobs = plan(ledger, list(units) if units else None).jobs
        outgoing = pick(config, period, ledger, store, jobs, now, run)
        history = store_mod.mail_history(store, period.key, kind)
        smtp = None if dry_run else _Smtp(settings, password)
        try:
            for item in outgoing:
                valid, invalid = parse_addresses(item.unit.email)
                if not valid or invalid:
                    run.no_address[item.unit.name] = item.unit.email
                    continue
                attempts, delivered = history.get((item.unit.name, item.stage), (0, False))
                if delivered and not resend:
                    run.deliveries.append(Delivery(item.unit.name, valid, ALREADY, item.stage))
                    continue
                msg_id = message_id(period.key, item.unit.name, kind, item.stage, attempts + 1, settings.sender)
                msg = _message(config, settings, period, item, valid, msg_id, now)
                if smtp is None:
                    target = mail_dir / eml_name(period, kind, item.stage, item.unit.name)
                    write_bytes_atomic(target, msg.as_bytes())
                    run.deliveries.append(Delivery(item.unit.name, valid, DRY_RUN, item.stage, msg_id, eml=str(target)))
                    continue
                error = smtp.deliver(msg, valid)
                delivery = Delivery(item.unit.name, valid, FAILED if error else SENT, item.stage, msg_id, error)
                store_mod.record_mail(
                    store, period.key, item.unit.name, kind, item.stage, attempts + 1,
                    now.isoformat(timespec="seconds"), "、".join(valid), msg_id, delivery.result, error,
                )
                run.deliveries.append(delivery)
        finally:
            if smtp is not None:
                smtp.close()
    if run._with(DRY_RUN):
        run.mail_dir = str(mail_dir)
    return run


def eml_name(period: Period, kind: str, stage: str, unit: str) -> str:
    """2024Q1_市商务局_send.eml, 2024Q1_市商务局_remind-week.eml; a receipt's stage is a content
    hash, which the file name does not need."""
    from toolkit.forms.generate import file_name

    label = f"{kind}-{stage}" if kind == REMIND else kind
    return f"{Path(file_name(period, unit)).stem}_{label}.eml"


def _message(
    config: Config,
    settings: MailSettings,
    period: Period,
    item: Outgoing,
    recipients: list[str],
    msg_id: str,
    now: dt.datetime,
) -> EmailMessage:
    from toolkit.forms.generate import file_name

    issuer = f"{config.bureau.city}{config.bureau.name.removeprefix('市')}"  # 开封市政府督查局
    context = {
        "bureau": config.bureau,
        "issuer": issuer,
        "workbook": file_name(period, item.unit.name),
        "period": period,
        "unit": item.unit,
        "today": f"{now.year}年{now.month}月{now.day}日",
        "days_left": (period.deadline - now.date()).days,
        "stage": item.stage,
        "attachment": item.attachment.name if item.attachment else "",
        **item.context,
    }
    subject, body = render(config, item.template, **context)
    attachment = (item.attachment.read_bytes(), item.attachment.name) if item.attachment else None
    return compose(settings, issuer, item.unit.name, recipients, subject, body, msg_id, now, attachment)


def _local(now: dt.datetime) -> dt.datetime:
    return now.replace(tzinfo=TZ) if now.tzinfo is None else now.astimezone(TZ)


def _unit(ledger: Ledger, name: str) -> Unit:
    """A unit named in a task but missing from 单位名录 has no address: it is listed, not mailed."""
    return ledger.unit(name) or Unit(name, "")


# --- the three kinds -----------------------------------------------------------------------------


def _pick_workbooks(config: Config, period: Period, ledger: Ledger, store: Any, jobs: list[UnitJob],
                    now: dt.datetime, run: MailRun) -> list[Outgoing]:
    from toolkit.forms.generate import file_name, workbook_title

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


def _pick_reminders(config: Config, period: Period, ledger: Ledger, store: Any, jobs: list[UnitJob],
                    now: dt.datetime, run: MailRun) -> list[Outgoing]:
    from toolkit.quarter.store import accepted_units, submitted_units

    accepted = accepted_units(store, period.key)
    submitted = submitted_units(store, period.key)
    stage = remind_stage((period.deadline - now.date()).days)
    outgoing = []
    for job in jobs:
        if job.unit in accepted:
            run.not_due.append(job.unit)
            continue
        context = {"submitted": job.unit in submitted, "tasks": len(job.assignments)}
        outgoing.append(Outgoing(_unit(ledger, job.unit), stage, "mail_remind", context))
    return outgoing


def _pick_receipts(config: Config, period: Period, ledger: Ledger, store: Any, jobs: list[UnitJob],
                   now: dt.datetime, run: MailRun) -> list[Outgoing]:
    from toolkit.outputs.report_book import RECEIPT_DIR, receipt_name
    from toolkit.quarter.store import accepted_units

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


def send_workbooks(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                   resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha send`: each unit its outbox workbook, once (again only with resend)."""
    return _run(config, period, SEND, _pick_workbooks, units, dry_run, resend, now)


def send_reminders(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                   resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha remind`: the units with no accepted report, worded for a week before, the day
    before or overdue; one reminder per unit and stage."""
    return _run(config, period, REMIND, _pick_reminders, units, dry_run, resend, now)


def send_receipts(config: Config, period: Period, units: Sequence[str] | None = None, dry_run: bool = False,
                  resend: bool = False, now: dt.datetime | None = None) -> MailRun:
    """`ducha receipts --send`: each unit the receipt the last merge wrote for it, once per
    receipt content."""
    return _run(config, period, RECEIPT, _pick_receipts, units, dry_run, resend, now)


# --- a local inbox (make demo, trying the settings) ------------------------------------------------


@contextlib.contextmanager
def local_inbox(config: Config, folder: Path) -> Iterator[Config]:
    """Run an SMTP server on 127.0.0.1 that saves each message it receives as folder/NNN.eml, and
    yield `config` with [mail] pointing at it: `make demo` sends real mail without any network.
    Needs aiosmtpd (installed with the test extras)."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        raise DuchaError("本地收信服务需要 aiosmtpd：pip install aiosmtpd，或改用 --dry-run") from exc

    class Saver:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            count = len(list(folder.glob("*.eml")))
            write_bytes_atomic(folder / f"{count + 1:03d}.eml", envelope.original_content or envelope.content)
            return "250 OK"

    folder.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Saver(), hostname="127.0.0.1", port=port)
    controller.start()
    mail_section = {"host": "127.0.0.1", "port": port, "security": "none", "user": ""}
    try:
        yield dataclasses.replace(config, raw={**config.raw, "mail": {**config.section("mail"), **mail_section}})
    finally:
        controller.stop()
