"""The bureau's mailbox over IMAP ([mail.imap]): its settings, its password, one logged-in session.

Units mail their workbooks back to the bureau's mailbox and `ducha fetch` reads it there. The
client is imapclient (maintained; it parses FETCH responses, INTERNALDATE and UIDVALIDITY into
Python values and wraps TLS and STARTTLS), not the standard imaplib, whose raw byte responses
every caller would have to parse. The password lives only in the environment
(DUCHA_IMAP_PASSWORD): never in ducha.toml, which travels with the workspace, nor in the store or
any output. Every failure to reach or log in is one Chinese DuchaError naming the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import imaplib
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from toolkit.config import Config, option, read_section
from toolkit.errors import ConfigError, DuchaError

PASSWORD_ENV = "DUCHA_IMAP_PASSWORD"
SECTION = "imap"  # the table inside [mail]: [mail.imap]
# What a dropped or refused connection raises, from the socket, TLS or the IMAP layer.
CONNECTION_ERRORS = (OSError, IMAPClientError, imaplib.IMAP4.error)


@dataclass(frozen=True)
class ImapSettings:
    """[mail.imap]. No host: fetching is not set up (ducha fetch says so, doctor skips it)."""

    host: str = ""
    port: int = 993
    security: str = option("tls", choices=("tls", "starttls", "plain"))  # 993 / 143 / 143, intranet only
    user: str = ""
    folder: str = "INBOX"
    mark_seen: bool = False  # mark a fetched message as read
    move_to: str = ""  # move a fetched message into this folder; "" leaves it where it is
    timeout: int = 30  # seconds
    cafile: str = ""  # PEM certificate(s) to trust, for an intranet server with its own CA

    @property
    def where(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


def imap_settings(config: Config) -> ImapSettings | None:
    """[mail.imap] typed, its cafile under the workspace; None when no host is set."""
    settings = read_section(config.section("mail").get(SECTION, {}), "mail.imap", ImapSettings)
    if not settings.host:
        return None
    if settings.cafile:
        cafile = config.root / settings.cafile
        if not cafile.is_file():
            raise ConfigError(f"ducha.toml 的 [mail.imap] cafile 指向的证书文件不存在：{cafile}")
        settings = dataclasses.replace(settings, cafile=str(cafile))
    if not settings.user:
        raise ConfigError("ducha.toml 的 [mail.imap] 未填写 user（收件邮箱的登录名）")
    return settings


def imap_password(settings: ImapSettings) -> str:
    """The password from DUCHA_IMAP_PASSWORD; a DuchaError saying how to set it when unset."""
    password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise DuchaError(f"请先设置环境变量 {PASSWORD_ENV}（收件邮箱 {settings.user} 的密码或授权码）")
    return password


@contextlib.contextmanager
def session(settings: ImapSettings, password: str) -> Iterator[IMAPClient]:
    """A logged-in IMAPClient whose times come with their zone; logged out afterwards."""
    context = ssl.create_default_context(cafile=settings.cafile or None)
    try:
        client = IMAPClient(settings.host, settings.port, ssl=settings.security == "tls", ssl_context=context,
                            timeout=settings.timeout)
        if settings.security == "starttls":
            client.starttls(context)
        client.login(settings.user, password)
    except LoginError as exc:
        raise DuchaError(f"收件邮箱 {settings.where} 登录失败（用户名或密码/授权码不对）：{error_text(exc)}") from exc
    except CONNECTION_ERRORS as exc:
        raise DuchaError(f"无法连接收件邮箱 {settings.where}：{error_text(exc)}") from exc
    client.normalise_times = False
    try:
        yield client
    finally:
        with contextlib.suppress(*CONNECTION_ERRORS):
            client.logout()


def check_login(settings: ImapSettings) -> str:
    """Log in and select the folder; returns how many messages it holds (for ducha doctor)."""
    with session(settings, imap_password(settings)) as client:
        try:
            return str(client.select_folder(settings.folder, readonly=True).get(b"EXISTS", 0))
        except CONNECTION_ERRORS as exc:
            raise DuchaError(f"收件邮箱 {settings.where} 中没有文件夹 {settings.folder}：{error_text(exc)}") from exc


def error_text(exc: BaseException) -> str:
    """An exception as one line, bytes decoded, the password never part of it (servers do not echo it)."""
    text = exc.args[0] if exc.args else type(exc).__name__
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text) or type(exc).__name__
