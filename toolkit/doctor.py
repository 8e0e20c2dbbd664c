"""`ducha doctor`: check a workspace before the deadline day finds its problems for the clerk.

Every check is read-only (it creates, migrates and sends nothing) and ends in one Check: passed,
failed (a required part is broken: the command exits 1), a warning (an optional tool is missing,
or something works but is risky), or skipped (not configured, or not checkable after an earlier
failure). Each failed or warned check carries a Chinese sentence saying what to do, so the clerk
can fix the workspace without reading the README.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import smtplib
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from toolkit.config import CONFIG_NAME, Config, load_config
from toolkit.errors import DuchaError
from toolkit.workdays import covered, known_years
from toolkit.workspace import FOLDERS

OK, FAIL, WARN, SKIP = "ok", "fail", "warn", "skip"
MARKS = {OK: "✓", FAIL: "✗", WARN: "⚠", SKIP: "－"}
SMTP_TIMEOUT = 5.0  # seconds: a reachable server answers at once; the clerk should not wait 30
OFFICE = ("soffice", "libreoffice")
_CONTACT_LABELS = {"contact": "联系人", "phone": "联系电话", "email": "邮箱", "address": "地址"}


@dataclass(frozen=True)
class Check:
    key: str  # stable slug: config, bureau, ledger, secret, store, folder.<name>, smtp, soffice, chromium
    label: str  # what is checked, in Chinese
    status: str  # OK / FAIL / WARN / SKIP
    detail: str  # what was found
    fix: str = ""  # what to do, when status is FAIL or WARN


@dataclass
class DoctorReport:
    root: Path
    checks: list[Check]

    @property
    def ok(self) -> bool:
        """No required check failed (warnings and skips do not count)."""
        return all(c.status != FAIL for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), "ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def run_doctor(config_path: Path | str | None = None) -> DoctorReport:
    """Check the workspace named by config_path (ducha.toml or its folder; default: the current
    folder). A ducha.toml that cannot be read fails its check and skips the ones needing it."""
    config, checks = _config(config_path)
    if config is None:
        needs = [("bureau", "督查局信息"), ("ledger", "总台账"), ("secret", "密钥"), ("store", "数据库"),
                 *((f"folder.{name}", label) for name, label in FOLDERS), ("smtp", "邮件服务器")]
        checks += [Check(key, label, SKIP, "配置文件有误，未检查") for key, label in needs]
    else:
        checks += [_bureau(config), *_holidays(config), _ledger(config), _secret(config), _store(config), *_folders(config), _smtp(config),
                   *_imap(config)]
    checks += [_office(), _chromium(config)]
    path = Path(config_path) if config_path else Path.cwd()
    return DoctorReport(config.root if config else (path if path.is_dir() else path.parent).resolve(), checks)


# --- the checks ------------------------------------------------------------------------------------


def _config(config_path: Path | str | None) -> tuple[Config | None, list[Check]]:
    """ducha.toml parses and every section holds values of the right kind."""
    from toolkit import routine
    from toolkit.intake import sniff
    from toolkit.intake.codes import Strictness
    from toolkit.mail.imap import imap_settings
    from toolkit.mail.settings import mail_settings
    from toolkit.outputs.briefing.settings import briefing_settings
    from toolkit.quarter.rules import IndicatorRules
    from toolkit.quarter.scores import ScoringRules

    try:
        config = load_config(config_path)
        for typed in (sniff.Limits.from_config, Strictness.from_config, mail_settings, routine.offsets_from,
                      briefing_settings, IndicatorRules.from_config, ScoringRules.from_config, imap_settings):
            typed(config)
    except DuchaError as exc:
        return None, [Check("config", "配置文件", FAIL, str(exc), f"请按提示修改 {CONFIG_NAME} 后重新运行 ducha doctor")]
    path = config.root / CONFIG_NAME
    found = f"{path} 可读，各项设置有效" if path.exists() else f"未找到 {path}，使用全部默认设置"
    return config, [Check("config", "配置文件", OK, found)]


def _bureau(config: Config) -> Check:
    """The contact details every workbook, receipt and mail carries are the bureau's, not the
    placeholders ducha ships with."""
    left = config.bureau.placeholders()
    if left:
        keys = "、".join(f"{_CONTACT_LABELS[key]} {key}" for key in left)
        return Check("bureau", "督查局信息", WARN, f"ducha.toml [bureau] 中{keys} 仍为示例值",
                     "请在 ducha.toml [bureau] 中填写督查局自己的联系方式：它们会写进下发的填报表、回执和邮件")
    return Check("bureau", "督查局信息", OK, f"{config.bureau.city}{config.bureau.name}，联系人 {config.bureau.contact}")


def _holidays(config: Config) -> list[Check]:
    """Said only when [bureau] year is not in chinese-calendar: the schedule then avoids weekends only."""
    year = config.bureau.year
    if covered(year):
        return []
    first, last = known_years()
    return [Check("calendar", "节假日安排", WARN,
                  f"{year}年的法定节假日和调休安排尚未收录（chinese-calendar 收录 {first}—{last} 年），日程只避开周六、周日",
                  "升级 chinese-calendar（pip install -U chinese-calendar）后重新运行 ducha doctor")]


def _ledger(config: Config) -> Check:
    from toolkit.ledger.check import check_ledger

    path = config.paths.ledger
    if not path.exists():
        if config.paths.notice.exists():
            return Check("ledger", "总台账", FAIL, f"{path} 不存在", "运行 ducha ledger build，按通知生成总台账")
        return Check("ledger", "总台账", FAIL, f"{path} 不存在",
                     "运行 ducha ledger import 通知文件（.docx、.pdf、.html、.txt 或 .md），按任务分解通知生成总台账；"
                     "任务不是来自这样的通知时，运行 ducha ledger template 生成空白总台账")
    try:
        report = check_ledger(path, config.bureau.year)
    except DuchaError as exc:
        return Check("ledger", "总台账", FAIL, str(exc), "运行 ducha ledger check 查看问题；无法修复时用 ducha ledger build --force 重新生成")
    if not report.ok:
        first = "；".join(i.message for i in report.errors[:3])
        return Check("ledger", "总台账", FAIL, f"{path} 有 {len(report.errors)} 处错误：{first}",
                     "运行 ducha ledger check 查看每处错误（工作表!单元格），在总台账中改正")
    note = f"，{len(report.warnings)} 处提醒（ducha ledger check 可查看）" if report.warnings else ""
    return Check("ledger", "总台账", OK, f"{path} 通过检查{note}")


def _secret(config: Config) -> Check:
    """The HMAC key that signs every issued workbook: present (or creatable while nothing has been
    issued yet), well-formed, not readable by other accounts, never in version control."""
    path = config.paths.secret
    if not path.exists():
        issued = sorted(config.paths.outbox.rglob("*.xlsx")) if config.paths.outbox.is_dir() else []
        if issued:
            return Check("secret", "密钥", FAIL, f"{path} 不存在，但 {config.paths.outbox} 中已有 {len(issued)} 个下发的填报表",
                         "请从备份恢复密钥文件：没有它，已下发的填报表交回时都无法校验签名，会被退回")
        return Check("secret", "密钥", OK, f"{path} 尚未创建，首次运行 ducha generate 时自动生成")
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return Check("secret", "密钥", FAIL, f"{path} 无法读取或已损坏（{type(exc).__name__}）",
                     "请从备份恢复密钥文件；没有备份时删除它并重新下发填报表（旧表将无法校验）")
    if len(key) < 16:
        return Check("secret", "密钥", FAIL, f"{path} 只有 {len(key)} 字节，过短", "请从备份恢复密钥文件")
    tracked = _git(config.root, "ls-files", "--error-unmatch", str(path))
    if tracked == 0:
        return Check("secret", "密钥", FAIL, f"{path} 已被 git 纳入版本管理，可能已随代码泄露",
                     f"运行 git rm --cached {path.name} 并提交，把它写进 .gitignore；再删除密钥、重新生成并重新下发填报表")
    if os.name == "posix" and path.stat().st_mode & 0o044:
        return Check("secret", "密钥", WARN, f"{path} 可被本机其他用户读取（权限 {path.stat().st_mode & 0o777:o}）",
                     f"运行 chmod 600 {path}，只让本账户读取")
    if _git(config.root, "check-ignore", "-q", str(path)) == 1:
        return Check("secret", "密钥", WARN, f"{path} 在 git 仓库中但未被忽略，容易被误提交",
                     f"在 .gitignore 中加入一行 {path.name}")
    return Check("secret", "密钥", OK, f"{path} 存在，格式正确，仅本账户可读")


def _git(root: Path, *args: str) -> int | None:
    """git's exit code in the workspace; None when git is missing or root is not in a repository."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        inside = subprocess.run([git, "-C", str(root), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, timeout=10)
        if inside.returncode != 0:
            return None
        return subprocess.run([git, "-C", str(root), *args], capture_output=True, timeout=10).returncode
    except (OSError, subprocess.TimeoutExpired):
        return None


def _store(config: Config) -> Check:
    """Opened read-only, so the doctor never creates or upgrades it."""
    from toolkit.quarter.schema import SCHEMA_VERSION

    path = config.paths.store
    if not path.exists():
        return Check("store", "数据库", OK, f"{path} 尚未创建，首次运行 ducha merge 时自动创建")
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            health = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as exc:
        return Check("store", "数据库", FAIL, f"{path} 无法打开：{exc}", "请从备份恢复数据库文件（ducha.db）")
    if health != "ok":
        return Check("store", "数据库", FAIL, f"{path} 已损坏：{health}", "请从备份恢复数据库文件（ducha.db）")
    if version > SCHEMA_VERSION:
        return Check("store", "数据库", FAIL, f"{path} 的结构版本 {version} 比本程序（{SCHEMA_VERSION}）新",
                     "请升级 ducha 后再使用这个工作区")
    if version < SCHEMA_VERSION:
        return Check("store", "数据库", WARN, f"{path} 的结构版本 {version}，当前为 {SCHEMA_VERSION}",
                     "无需操作：下次运行 ducha merge 时自动升级（升级前可先备份 ducha.db）")
    return Check("store", "数据库", OK, f"{path} 完好，结构版本 {version}（当前）")


def _folders(config: Config) -> list[Check]:
    checks = []
    for name, label in FOLDERS:
        path: Path = getattr(config.paths, name)
        key = f"folder.{name}"
        if path.is_dir():
            if os.access(path, os.W_OK | os.X_OK):
                checks.append(Check(key, label, OK, f"{path} 存在，可写入"))
            else:
                checks.append(Check(key, label, FAIL, f"{path} 没有写入权限", "请让当前账户可以写入该文件夹，或在 ducha.toml [paths] 中换一个位置"))
        elif path.exists():
            checks.append(Check(key, label, FAIL, f"{path} 是文件，不是文件夹", f"请移走该文件，或在 ducha.toml [paths] {name} 中换一个位置"))
        elif not _creatable(path):
            checks.append(Check(key, label, FAIL, f"{path} 不存在，也无法创建（上级文件夹不可写）", f"请在 ducha.toml [paths] {name} 中换一个可写的位置"))
        elif name == "drop":
            checks.append(Check(key, label, WARN, f"{path} 不存在", "新建该文件夹，把各单位报回的文件保存在这里（ducha merge 从这里收取）"))
        else:
            checks.append(Check(key, label, OK, f"{path} 尚不存在，首次使用时自动创建"))
    return checks


def _creatable(path: Path) -> bool:
    """The nearest existing ancestor is a folder this account may write into."""
    for parent in path.parents:
        if parent.exists():
            return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    return False


def _smtp(config: Config) -> Check:
    """Connect to [mail] host:port as a send would (TLS as configured), without logging in."""
    from toolkit.mail.settings import PASSWORD_ENV, mail_settings
    from toolkit.mail.transport import connect

    if "host" not in config.section("mail"):
        return Check("smtp", "邮件服务器", SKIP, "未配置 [mail] host，不发送邮件时无需配置")
    s = mail_settings(config)
    where = f"{s.host}:{s.port}"
    try:
        connect(s, SMTP_TIMEOUT).quit()
    except (OSError, smtplib.SMTPException) as exc:
        reason = "超时" if isinstance(exc, socket.timeout | TimeoutError) else str(exc) or type(exc).__name__
        return Check("smtp", "邮件服务器", FAIL, f"无法连接 {where}（security = {s.security}）：{reason}",
                     "请检查 ducha.toml [mail] 的 host、port、security 与网络（防火墙、内网邮件服务器是否开启）")
    if s.user and not os.environ.get(PASSWORD_ENV):
        return Check("smtp", "邮件服务器", WARN, f"{where} 可以连接，但未设置环境变量 {PASSWORD_ENV}",
                     f"发信前请设置 {PASSWORD_ENV}（126/163/QQ 邮箱填“授权码”）")
    return Check("smtp", "邮件服务器", OK, f"{where} 可以连接（security = {s.security}）")



def _imap(config: Config) -> list[Check]:
    """Log in to the [mail.imap] mailbox as ducha fetch would, when one is configured."""
    from toolkit.mail.imap import check_login, imap_settings

    settings = imap_settings(config)
    if settings is None:
        return []
    try:
        count = check_login(settings)
    except DuchaError as exc:
        return [Check("imap", "收件邮箱", FAIL, str(exc),
                      "请检查 ducha.toml [mail.imap] 的 host、port、security、user、folder 与环境变量 DUCHA_IMAP_PASSWORD")]
    return [Check("imap", "收件邮箱", OK, f"{settings.where} 登录成功，{settings.folder} 中有 {count} 封邮件")]

def _tool(key: str, label: str, find: Callable[[], str | None], fix: str) -> Check:
    found = find()
    if found:
        return Check(key, label, OK, f"已找到：{found}")
    return Check(key, label, WARN, "未找到（可选）", fix)


def _office() -> Check:
    def find() -> str | None:
        return next(filter(None, (shutil.which(name) for name in OFFICE)), None)

    install = "apt install libreoffice-calc-nogui" if sys.platform.startswith("linux") else "从 libreoffice.org 下载安装"
    return _tool("soffice", "LibreOffice", find,
                 f"可选：ducha briefing --pdf 用它把 Word 版通报打印为 PDF，也用于检验填报表在 WPS/LibreOffice 中打开"
                 f"无误。需要时请安装 LibreOffice（{install}）")


def _chromium(config: Config | None) -> Check:
    from toolkit.outputs.briefing.pdf import find_browser
    from toolkit.outputs.briefing.settings import BriefingSettings, briefing_settings

    def find() -> str | None:
        try:
            return find_browser(briefing_settings(config) if config else BriefingSettings())
        except DuchaError:
            return None

    return _tool("chromium", "Chromium 浏览器", find,
                 "可选：用于检查网页版（HTML）通报的显示。需要时请安装 Chromium（或 Chrome、Edge），"
                 "或在 ducha.toml [briefing] browser 中填写浏览器路径")
