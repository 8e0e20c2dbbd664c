"""Build each message so that every unit's mail client shows it intact.

Units read mail in Outlook, Foxmail and QQ/163 webmail, so a message is plain text in base64 with
a short Chinese attachment name written twice: RFC 2231 `filename*` (what standards-following
clients read) and an RFC 2047 `name=` on Content-Type (what the rest fall back to). Unit names come
from a spreadsheet, so they are made header-safe; the wording comes from templates the clerk may
override in the workspace's templates/ folder.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from toolkit.config import BUNDLED_TEMPLATES, Config
from toolkit.forms.plan import file_name
from toolkit.mail.settings import MailSettings
from toolkit.model import Unit
from toolkit.period import Period

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# Other attachments by file suffix (a 督办通知 goes as Word or PDF); anything else is a workbook.
MIME_TYPES = {".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
              ".pdf": ("application", "pdf")}


@dataclass(frozen=True)
class Outgoing:
    """A message a run wants to send: to whom, at which stage, with what attached."""

    unit: Unit
    stage: str
    template: str
    context: dict[str, Any]
    attachment: Path | None = None


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


def attach(msg: EmailMessage, data: bytes, filename: str, mime: tuple[str, str] | None = None) -> None:
    """Attach data as base64 under a Chinese file name every common client shows intact; mime:
    default by the name's suffix (MIME_TYPES, else a workbook)."""
    mime = mime or MIME_TYPES.get(Path(filename).suffix.lower(), XLSX_TYPE)
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


def unit_message(
    config: Config,
    settings: MailSettings,
    period: Period,
    item: Outgoing,
    recipients: list[str],
    msg_id: str,
    now: dt.datetime,
) -> EmailMessage:
    """The message for one Outgoing: its template rendered with what every template may use
    (bureau, unit, period, deadline, today …) plus the run's own context, and its attachment."""
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
