"""The [mail] section and the SMTP password, checked before a single message is composed.

A mistyped sender or a missing password must stop a run at the start with one clear message, not
after the first unit's mail has been refused; and the password never lives in ducha.toml, which
is copied around with the workspace, only in the environment.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from toolkit.config import Config, option, read_section
from toolkit.errors import ConfigError, DuchaError
from toolkit.ledger.units import parse_addresses

PASSWORD_ENV = "DUCHA_SMTP_PASSWORD"


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
    # [mail.imap] is a table inside [mail], read by mail/imap.py
    written = read_section({k: v for k, v in config.section("mail").items() if k != "imap"}, "mail", MailSettings)
    settings = written.with_defaults(config.bureau.email)
    if settings.cafile:
        cafile = config.root / settings.cafile
        if not cafile.is_file():
            raise ConfigError(f"ducha.toml 的 [mail] cafile 指向的证书文件不存在：{cafile}")
        settings = dataclasses.replace(settings, cafile=str(cafile))
    for key in ("sender", "reply_to"):
        value = getattr(settings, key)
        if parse_addresses(value) != ([value], []):
            # Name the key the clerk wrote: an empty sender or reply_to falls back to [bureau] email.
            where = f"[mail] {key}" if value in (written.sender, written.reply_to) else "[bureau] email"
            raise ConfigError(f"ducha.toml 的 {where} 不是有效的邮箱地址：{value}")
    return settings


def smtp_password(settings: MailSettings, dry_run: bool) -> str:
    """The password from DUCHA_SMTP_PASSWORD ('' when unset); a DuchaError when a real send must
    log in and it is not set."""
    password = os.environ.get(PASSWORD_ENV, "")
    if not dry_run and settings.user and not password:
        raise DuchaError(f"请先设置环境变量 {PASSWORD_ENV}（邮箱 {settings.user} 的密码或授权码），或加 --dry-run 只生成邮件文件")
    return password
