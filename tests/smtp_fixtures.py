"""A real SMTP server on loopback (aiosmtpd) and a small workspace whose units have addresses, for
the mail and schedule tests: what arrives is parsed exactly as a mail client would see it."""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import sys
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.controller import Controller

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE, small_ledger
from toolkit.model import Ledger

SENDER = "ducha@kaifeng.example.cn"
ADDRESSES = {NDRC: "fgw@kaifeng.example.cn", COMMERCE: "swj@kaifeng.example.cn", LONGTING: "lt@kaifeng.example.cn"}
# 顺河区 has a broken address: it is listed, never mailed.
BAD_ADDRESSES = {SHUNHE: "顺河区办公室"}


def mail_ledger() -> Ledger:
    """merge_fixtures.small_ledger() with the 邮箱 the clerk would have filled in."""
    ledger = small_ledger()
    emails = {**ADDRESSES, **BAD_ADDRESSES}
    ledger.units = [dataclasses.replace(u, email=emails.get(u.name, "")) for u in ledger.units]
    return ledger


@dataclasses.dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes  # as it came over the wire


class Inbox:
    """aiosmtpd handler keeping every message; refuses `refuse` at RCPT (550) and drops the
    connection in the middle of DATA for messages to `drop` (once each)."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.refuse: set[str] = set()
        self.drop: set[str] = set()
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        dropped = self.drop.intersection(envelope.rcpt_tos)
        if dropped:
            self.drop -= dropped
            server.transport.close()
            return "421 closing"
        raw = envelope.original_content or envelope.content
        message = BytesParser(policy=policy.default).parsebytes(raw)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.messages if address in r.recipients]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def smtp_server(**kwargs: object) -> Iterator[tuple[Inbox, int]]:
    """A running aiosmtpd on 127.0.0.1 and an ephemeral port; stopped afterwards."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def write_config(root: Path, port: int, extra: str = "") -> Path:
    """ducha.toml pointing [mail] at the test server."""
    text = f'[mail]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nsender = "{SENDER}"\ntimeout = 10\n'
    (root / "ducha.toml").write_text(text + extra, encoding="utf-8")
    return root


def use_ledger(monkeypatch, ledger: Ledger) -> None:  # noqa: ANN001
    """Every command loads `ledger` instead of master_ledger.xlsx. The modules that import
    load_ledger at module level are imported first, so each holds the original and is patched here
    (none can bind the stand-in for good); the others look it up at call time."""
    from toolkit.forms import generate  # noqa: F401
    from toolkit.ledger import build
    from toolkit.mail import runs  # noqa: F401
    from toolkit.outputs import publish  # noqa: F401
    from toolkit.quarter import collect  # noqa: F401

    original = build.load_ledger
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("toolkit") and getattr(module, "load_ledger", None) is original:
            monkeypatch.setattr(module, "load_ledger", lambda config: ledger)
