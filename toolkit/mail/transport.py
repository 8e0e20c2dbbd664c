"""Talk to the bureau's SMTP server, and write down every attempt whatever came of it.

The store is what makes a second run harmless: a message already delivered is not sent again, and
one that failed — a refused recipient, a dropped connection, a server that is down — is recorded
as attempt n and simply tried again by the next run as attempt n+1. A failure is therefore a
Chinese reason kept with the attempt, never an exception that would lose the rest of the run. A
message the server took for some of a unit's addresses is delivered: the refused ones are noted,
and the unit is not sent it again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.fsutil import write_bytes_atomic
from toolkit.mail.settings import PASSWORD_ENV, MailSettings
from toolkit.quarter.history import record_mail
from toolkit.quarter.store import Store

SENT, FAILED = "sent", "failed"  # what the store records of an attempt
# A run's other results (mail.runs); here, so the terminal's words need not import the mail runs (pandas).
DRY_RUN, ALREADY = "dry_run", "already"


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


class Smtp:
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

    def deliver(self, msg: EmailMessage, recipients: Sequence[str]) -> tuple[str, list[str]]:
        """Send one message. ('', refused) when the server accepted it for at least one recipient:
        it is delivered, and `refused` names the addresses turned away (each with the server's
        reply), which must not make the others get it twice. Otherwise (the Chinese reason, [])."""
        if self.broken:
            return self.broken, []
        if self.conn is None:
            try:
                self.conn = self._open()
            except (OSError, smtplib.SMTPException) as exc:
                self.broken = _connect_error(self.settings, exc)
                return self.broken, []
        try:
            refused = self.conn.send_message(msg, self.settings.sender, list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            return "收件人被拒绝：" + "；".join(_refusals(exc.recipients)), []
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()  # the next message reconnects
            return f"与邮件服务器的连接中断：{exc}", []
        except smtplib.SMTPResponseException as exc:
            self._reset()
            return f"邮件服务器拒收：{_reply(exc.smtp_code, exc.smtp_error)}", []
        return "", _refusals(refused)

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


def _refusals(refused: dict[str, tuple[int, bytes]]) -> list[str]:
    return [f"{address}（{_reply(*reply)}）" for address, reply in refused.items()]


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


def send_recorded(smtp: Smtp, store: Store, period: str, unit: str, kind: str, stage: str, attempt: int,
                  recipients: list[str], msg_id: str, msg: EmailMessage,
                  now: dt.datetime) -> tuple[str, list[str]]:
    """Send one message as attempt `attempt` of (period, unit, kind, stage) and record it, sent or
    failed; returns what Smtp.deliver does."""
    error, refused = smtp.deliver(msg, recipients)
    note = error or ("部分收件人被拒绝：" + "；".join(refused) if refused else "")
    record_mail(
        store, period, unit, kind, stage, attempt, now.isoformat(timespec="seconds"), "、".join(recipients),
        msg_id, FAILED if error else SENT, note,
    )
    return error, refused


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
