"""`ducha init`: a new workspace from nothing, so a clerk never copies a file by hand.

The ducha.toml it writes is the bundled one (config.BUNDLED_CONFIG: every key, its default and a
Chinese comment) with the bureau's city, year and name filled in. That keeps one source of truth
for keys and defaults: a key documented there reaches every new workspace. Nothing that exists is
ever changed (a second run leaves every byte and every mtime as it was), so init is safe to run
again in a workspace in use, e.g. after a folder was deleted; the folders and the secret follow
the ducha.toml found, so a workspace whose [paths] were edited gets its own folders.

The secret is created readable by its owner only (0600). On Windows, mode bits are advisory:
there the file is as private as the folder's permissions make it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config import BUNDLED_CONFIG, CONFIG_NAME, Bureau, Config, load_config
from toolkit.errors import DuchaError
from toolkit.forms import meta
from toolkit.fsutil import write_text_atomic

# The workspace's folders ([paths]), with what the clerk calls them.
FOLDERS = (("outbox", "下发文件夹"), ("drop", "收件夹"), ("archive", "归档文件夹"), ("reports", "汇总输出文件夹"))
NOTICE_FOLDER = "通知文件夹"
IGNORE_NAME = ".gitignore"


@dataclass(frozen=True)
class Item:
    """One file or folder init looked at: made now, or found and left alone."""

    path: Path
    kind: str  # config / folder / secret / ignore
    label: str
    created: bool


@dataclass
class InitResult:
    root: Path
    items: list[Item]
    not_applied: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # option → (given, in ducha.toml)
    placeholders: list[str] = field(default_factory=list)  # [bureau] keys still to fill in
    has_ledger: bool = False

    @property
    def created(self) -> list[Item]:
        return [i for i in self.items if i.created]

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "items": [asdict(i) | {"path": str(i.path)} for i in self.items],
            "not_applied": {k: list(v) for k, v in self.not_applied.items()},
            "placeholders": self.placeholders,
            "has_ledger": self.has_ledger,
        }


def init_workspace(root: Path, city: str | None = None, year: int | None = None,
                   bureau: str | None = None) -> InitResult:
    """Make root a workspace: ducha.toml, the folders, the secret (0600) and a .gitignore, each
    only where missing. city, year and bureau (the bureau's name) go into a new ducha.toml; the
    year defaults to this year on the bureau's clock. Given for an existing ducha.toml that says
    otherwise, they are reported in not_applied and nothing is changed."""
    if root.exists() and not root.is_dir():
        raise DuchaError(f"{root} 是文件，不是文件夹：请换一个文件夹名")
    root.mkdir(parents=True, exist_ok=True)
    wanted = {"city": city, "year": year, "name": bureau}
    config_path = root / CONFIG_NAME
    made_config = not config_path.exists()
    if made_config:
        values = {"city": Bureau.city, "name": Bureau.name} | {k: v for k, v in wanted.items() if v is not None}
        values.setdefault("year", dt.datetime.now(Bureau().zone).year)
        write_text_atomic(config_path, bureau_config(**values))
    config = load_config(config_path)
    items = [Item(config_path, "config", "配置文件", made_config)]
    items += [_folder(getattr(config.paths, name), label) for name, label in FOLDERS]
    if config.paths.notice.parent != config.root:
        items.append(_folder(config.paths.notice.parent, NOTICE_FOLDER))
    items.append(_secret(config.paths.secret))
    items.append(_ignore(config))
    not_applied = {key: (value, getattr(config.bureau, key)) for key, value in wanted.items()
                   if value is not None and value != getattr(config.bureau, key)}
    return InitResult(config.root, items, not_applied, config.bureau.placeholders(), config.paths.ledger.exists())


def bureau_config(city: str, year: int, name: str) -> str:
    """The bundled ducha.toml with [bureau] city, year and name set (comments kept)."""
    text = BUNDLED_CONFIG.read_text(encoding="utf-8")
    for key, value in (("city", city), ("year", year), ("name", name)):
        if isinstance(value, str) and (not value.strip() or "\n" in value):
            raise DuchaError(f"[bureau] {key} 不能为空，也不能换行")
        text = _set_bureau(text, key, json.dumps(value, ensure_ascii=False))
    return text


def _set_bureau(text: str, key: str, literal: str) -> str:
    start = text.index("\n[bureau]\n")
    end = text.find("\n[", start + 1)
    end = len(text) if end == -1 else end
    section, count = re.subn(rf"(?m)^({key}\s*=\s*)(\"[^\"\n]*\"|\d+)", lambda m: m[1] + literal,
                             text[start:end], count=1)
    if count != 1:
        raise ValueError(f"{BUNDLED_CONFIG} has no [bureau] {key}")
    return text[:start] + section + text[end:]


def _folder(path: Path, label: str) -> Item:
    if path.is_dir():
        return Item(path, "folder", label, False)
    if path.exists():
        raise DuchaError(f"{path} 是文件，不是文件夹：请移走它，或在 ducha.toml [paths] 中换一个位置，再运行 ducha init")
    path.mkdir(parents=True)
    return Item(path, "folder", label, True)


def _secret(path: Path) -> Item:
    if path.exists():
        return Item(path, "secret", "密钥", False)
    meta.load_secret(path)  # creates it, 0600
    return Item(path, "secret", "密钥", True)


def _ignore(config: Config) -> Item:
    """A .gitignore naming what must never be committed or sent along with the workspace."""
    path = config.root / IGNORE_NAME
    if path.exists():
        return Item(path, "ignore", "版本管理忽略清单", False)
    lines = ["# ducha 工作区：下列文件不要提交到 git 等版本管理，也不要随工作区发给别人。"]
    for what, target, patterns in (
        ("密钥：签名下发的填报表，泄露后他人可伪造各单位的报表；请单独备份", config.paths.secret, ("{}",)),
        ("数据库：历次收件与填报记录；请定期备份", config.paths.store, ("{}", "{}-*")),
        ("运行时的锁文件", config.paths.lock, ("{}",)),
        ("总台账缓存：上次读总台账的结果，可随时删除，下次运行时重建", config.paths.ledger_cache, ("{}",)),
    ):
        if target.is_relative_to(config.root):
            shown = target.relative_to(config.root).as_posix()
            lines += [f"# {what}", *(p.format(shown) for p in patterns)]
    lines += ["# 写到一半的临时文件", ".*.tmp", ""]
    write_text_atomic(path, "\n".join(lines))
    return Item(path, "ignore", "版本管理忽略清单", True)
