"""ducha.toml → a typed Config with documented defaults.

Every key is optional so a fresh checkout works with no config at all; paths resolve against the
workspace (the folder holding ducha.toml) so the clerk can run the tool from any directory.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigError

CONFIG_NAME = "ducha.toml"
# The templates shipped with ducha; a workspace may override any of them in its own folder.
BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class Paths:
    notice: Path
    ledger: Path
    outbox: Path
    drop: Path
    archive: Path
    reports: Path
    store: Path
    secret: Path

    @property
    def lock(self) -> Path:
        """One lock file per workspace, so two commands cannot interleave writes."""
        return self.store.with_name(".ducha.lock")


PATH_DEFAULTS = {
    "notice": "data/kaifeng-2024-gov-report-tasks.md",
    "ledger": "master_ledger.xlsx",
    "outbox": "outbox",
    "drop": "drop",
    "archive": "archive",
    "reports": "reports",
    "store": "ducha.db",
    "secret": ".ducha_secret",
}


@dataclass(frozen=True)
class Bureau:
    city: str = "开封市"
    year: int = 2024
    name: str = "市政府督查局"
    contact: str = "刘华阳"
    phone: str = "23859529、15137880816"
    email: str = "kaifengducha@126.com"
    address: str = "市直机关集中办公区7号楼629房间"


@dataclass(frozen=True)
class Deadlines:
    day: int = 28
    overrides: dict[str, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    root: Path
    paths: Paths
    bureau: Bureau
    deadlines: Deadlines
    raw: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """A config section other modules type for themselves (mail, schedule, briefing…)."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"ducha.toml 中 [{name}] 应为一个表（section）")
        return value


def _typed(cls: type, data: dict[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"ducha.toml 的 [{section}] 中有未知配置项：{'、'.join(unknown)}")
    values = {}
    for key, value in data.items():
        default = getattr(cls(), key)
        if not isinstance(value, type(default)):
            raise ConfigError(f"ducha.toml 的 [{section}] {key} 类型不对，应类似 {default!r}")
        values[key] = value
    return cls(**values)


def _deadlines(data: dict[str, Any]) -> Deadlines:
    day = data.get("day", 28)
    if not isinstance(day, int) or not 1 <= day <= 30:
        raise ConfigError("ducha.toml 的 [deadlines] day 应为 1–30 之间的整数")
    overrides = {}
    for key, value in data.items():
        if key == "day":
            continue
        try:
            overrides[key] = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ConfigError(f"ducha.toml 的 [deadlines] {key} 应为日期，如 2024-03-28") from exc
    return Deadlines(day=day, overrides=overrides)


def load_config(path: Path | str | None = None) -> Config:
    """Read ducha.toml (default: ./ducha.toml); a missing file means all defaults."""
    path = Path(path) if path else Path.cwd() / CONFIG_NAME
    if path.is_dir():
        path = path / CONFIG_NAME
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"无法读取配置文件 {path}：{exc}") from exc
    root = path.parent.resolve()
    path_data = raw.get("paths", {})
    unknown = sorted(set(path_data) - set(PATH_DEFAULTS))
    if unknown:
        raise ConfigError(f"ducha.toml 的 [paths] 中有未知配置项：{'、'.join(unknown)}")
    paths = Paths(**{k: root / str(path_data.get(k, v)) for k, v in PATH_DEFAULTS.items()})
    return Config(
        root=root,
        paths=paths,
        bureau=_typed(Bureau, raw.get("bureau", {}), "bureau"),
        deadlines=_deadlines(raw.get("deadlines", {})),
        raw=raw,
    )
