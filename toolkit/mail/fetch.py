"""`ducha fetch`: take returned workbooks from the bureau's mailbox into the drop folder.

The clerk used to save each attachment by hand, and a file's received time was when it was saved:
a mail sent on the 27th and saved on the 29th counted as late. Fetch saves every attachment with
the message's arrival on the server (INTERNALDATE) as its modification time and records that
arrival in the store, where the merge takes it as the received time of that content.

It must never lose or double a return, whatever the server does: messages are taken one at a
time, each saved under a name made from its arrival, content hash and sanitised name (never a
path from the mail, so a rerun rewrites the same file and nothing escapes the drop folder) and
then recorded in one transaction; a message already recorded (folder + UIDVALIDITY + UID) is not
read again, a content already saved is not saved again (a unit that mails the same file twice).
A connection dropped mid-way stops the run with what was done kept; the next run goes on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import asdict, dataclass, field
from email.utils import getaddresses

from toolkit import fsutil
from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.intake.sniff import Limits
from toolkit.ledger.build import load_ledger
from toolkit.ledger.units import parse_addresses
from toolkit.mail import attachments, imap
from toolkit.model import Ledger
from toolkit.period import Period
from toolkit.quarter import fetched
from toolkit.quarter.store import open_store

STRANGER_NOTE = "发件人邮箱不在总台账“单位名录”中，请核实是哪个单位报送的"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
_NAME_LIMIT = 80  # characters kept of an attachment's own name


@dataclass
class FetchRun:
    """What one `ducha fetch` did (or, with dry_run, would do)."""

    folder: str
    since: str
    messages: int = 0  # new messages read
    taken: list[fetched.FetchedPart] = field(default_factory=list)  # every part of every new message
    dry_run: bool = False

    @property
    def saved(self) -> list[fetched.FetchedPart]:
        return [t for t in self.taken if t.saved]

    @property
    def strangers(self) -> list[str]:
        """Senders not in 单位名录: their attachments are saved, and the clerk is asked who they are."""
        return sorted({t.sender for t in self.taken if t.unit is None})

    def as_dict(self) -> dict[str, object]:
        return {"folder": self.folder, "since": self.since, "messages": self.messages, "dry_run": self.dry_run,
                "saved": len(self.saved), "strangers": self.strangers, "taken": [asdict(t) for t in self.taken]}


def default_since(period: Period) -> dt.date:
    """The first day of the period's quarter: older mail cannot hold its returns."""
    return dt.date(period.year, 3 * period.quarter - 2, 1)


def fetch_mail(config: Config, period: Period, since: dt.date | None = None, dry_run: bool = False,
               now: dt.datetime | None = None, password: str | None = None) -> FetchRun:
    """Fetch the new messages of [mail.imap] folder that arrived on or after `since` (default: the
    period's first day), logging in with password (default: DUCHA_IMAP_PASSWORD). Raises
    DuchaError when fetching is not set up or the server fails; what was saved before a failure
    stays recorded."""
    settings = imap.imap_settings(config)
    if settings is None:
        raise DuchaError("未配置收件邮箱：请在 ducha.toml 的 [mail.imap] 填写 host、user 等（见配置说明）")
    password = password or imap.imap_password(settings)
    since = since or default_since(period)
    run = FetchRun(settings.folder, since.isoformat(), dry_run=dry_run)
    units = _units_by_address(load_ledger(config))
    limits = Limits.from_config(config)
    stamp = config.bureau.local(now).replace(tzinfo=None, microsecond=0).isoformat()
    drop = config.paths.drop
    if not dry_run:
        drop.mkdir(parents=True, exist_ok=True)
    with fsutil.workspace_lock(config.paths.lock), imap.session(settings, password) as client, \
            open_store(config.paths.store) as store:
        try:
            readonly = dry_run or not (settings.mark_seen or settings.move_to)
            validity = int(client.select_folder(settings.folder, readonly=readonly)[b"UIDVALIDITY"])
            done = fetched.fetched_uids(store, settings.folder, validity)
            saved = fetched.saved_hashes(store)
            for uid in sorted(set(client.search(["SINCE", since])) - done):
                response = client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE"])[uid]
                arrival = response[b"INTERNALDATE"].astimezone(config.bureau.zone)
                key = (settings.folder, validity, uid)
                parts = _parts(response[b"BODY[]"], key, arrival, units, limits, saved, stamp)
                if not dry_run:
                    for part, data in parts:
                        if part.saved and data is not None:
                            _save(drop / part.saved, data, arrival)
                    fetched.record_message(store, [part for part, _ in parts])
                    if settings.mark_seen:
                        client.add_flags([uid], [b"\\Seen"])
                    if settings.move_to:
                        client.move([uid], settings.move_to)
                run.messages += 1
                run.taken += [part for part, _ in parts]
        except imap.CONNECTION_ERRORS as exc:
            raise DuchaError(f"收件邮箱 {settings.where} 收取中断（本次已收取的 {run.messages} 封已保存）："
                             f"{imap.error_text(exc)}；请重新运行 ducha fetch，已收取的不会重复保存") from exc
    return run


def _units_by_address(ledger: Ledger) -> dict[str, str]:
    """{address in lower case: unit} from 单位名录 邮箱 (a cell may hold several)."""
    return {address.lower(): unit.name for unit in ledger.units for address in parse_addresses(unit.email)[0]}


def _parts(raw: bytes, key: tuple[str, int, int], arrival: dt.datetime, units: dict[str, str], limits: Limits,
           saved: dict[str, str], stamp: str) -> list[tuple[fetched.FetchedPart, bytes | None]]:
    """The rows to record for one message, each with the bytes to save ('saved' names the file in
    the drop folder). saved ({sha256: file}) gains this message's files."""
    message = attachments.parse(raw)
    sender = next((a for _, a in getaddresses([str(message.get("From", ""))]) if a), "")
    unit = units.get(sender.lower())
    about = (str(message.get("Message-ID", "")).strip(), sender, str(message.get("Subject", "")),
            arrival.replace(tzinfo=None).isoformat(timespec="seconds"), unit)
    stranger = "" if unit else STRANGER_NOTE
    found = attachments.attachments(message, limits) or [attachments.Part("", None, "邮件没有附件")]
    rows = []
    for seq, part in enumerate(found):
        digest, name, note = "", "", part.note
        if part.data is not None:
            digest = hashlib.sha256(part.data).hexdigest()
            if digest in saved:
                note = f"与已收取的 {saved[digest]} 内容相同，未重复保存"
            else:
                name = saved[digest] = _file_name(arrival, digest, part.name)
        note = "；".join(filter(None, (note, stranger)))
        rows.append((fetched.FetchedPart(*key, seq, *about, part.name, digest, name, note, stamp), part.data))
    return rows


def _file_name(arrival: dt.datetime, digest: str, name: str) -> str:
    """A name in the drop folder that no mail can steer: arrival, a piece of the hash, and the
    attachment's own last name component with the characters no file system takes replaced."""
    own = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .") or "附件"
    stem, dot, ext = own.rpartition(".")
    if not dot or len(ext) > 8:
        stem, ext = own, ""
    stem = stem[:_NAME_LIMIT]
    return f"{arrival:%Y%m%d-%H%M%S}_{digest[:8]}_{stem}{'.' + ext if ext else ''}"


def _save(target: os.PathLike[str], data: bytes, arrival: dt.datetime) -> None:
    """Write the attachment atomically with the arrival as its modification time (what the clerk
    sees in the folder, and what the merge reads for a copy without a record)."""
    def write(tmp):  # noqa: ANN001, ANN202
        tmp.write_bytes(data)
        stamp = arrival.timestamp()
        os.utime(tmp, (stamp, stamp))

    fsutil.write_atomic(target, write)
