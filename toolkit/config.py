"""ducha.toml → a typed Config with documented defaults.

Every key is optional so a fresh checkout works with no config at all; paths resolve against the
workspace (the folder holding ducha.toml) so the clerk can run the tool from any directory.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from toolkit.errors import ConfigError
from toolkit.workdays import HOLIDAY_RULES, KEEP

CONFIG_NAME = "ducha.toml"
# The templates shipped with ducha; a workspace may override any of them in its own folder.
BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# The documented ducha.toml: every key with its default and a Chinese comment; `ducha init` copies it.
BUNDLED_CONFIG = Path(__file__).resolve().parent.parent / CONFIG_NAME


def option(default: Any, *, parse: Callable[[Any], Any] | None = None, hint: str = "",
           choices: tuple[Any, ...] = ()) -> Any:
    """A config field: its default, and optionally how to read it (parse raises ValueError or
    TypeError on a bad value, hint then says what is wanted) or the values it may take."""
    return field(default=default, metadata={"parse": parse, "hint": hint, "choices": choices})


_KINDS = {bool: "true 或 false", str: "文字（加引号）", int: "整数", float: "数字", tuple: "列表"}


def _field_value(section: str, f: Field, value: Any) -> Any:
    where = f"ducha.toml 的 [{section}] {f.name}"
    parse = f.metadata.get("parse")
    if parse is not None:
        try:
            return parse(value)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{where} {f.metadata['hint']}") from exc
    default = f.default if f.default is not MISSING else f.default_factory()  # type: ignore[misc]
    if type(default) is float and type(value) is int:
        value = float(value)
    if type(value) is not type(default):
        kind = _KINDS.get(type(default), type(default).__name__)
        raise ConfigError(f"{where} 类型不对，应为{kind}，如 {default!r}")
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} 应为 {'、'.join(map(str, choices))} 之一")
    return value


def read_section(data: Any, section: str, *classes: type,
                 extra: Callable[[str, Any], Any] | None = None) -> Any:
    """The one reader of a ducha.toml section: its keys shared out among the dataclasses given,
    each value checked against its field (type of the default, parse, choices); an unknown key is
    an error unless extra(key, value) takes it (extra raises ValueError to refuse). The classes
    may check the whole in __post_init__ by raising ConfigError. Returns one instance per class,
    or the instance itself for one class, and the extra values as {key: value} when extra is given."""
    if not isinstance(data, dict):
        raise ConfigError(f"ducha.toml 中 [{section}] 应为一个表（section）")
    owners = {f.name: (cls, f) for cls in classes for f in fields(cls)}
    values: dict[type, dict[str, Any]] = {cls: {} for cls in classes}
    extras: dict[str, Any] = {}
    unknown = []
    for key, value in data.items():
        if key in owners:
            cls, f = owners[key]
            values[cls][key] = _field_value(section, f, value)
        elif extra is not None:
            extras[key] = extra(key, value)
        else:
            unknown.append(key)
    if unknown:
        raise ConfigError(f"ducha.toml 的 [{section}] 中有未知配置项：{'、'.join(sorted(unknown))}")
    made = tuple(cls(**values[cls]) for cls in classes)
    result = made[0] if len(made) == 1 else made
    return (result, extras) if extra is not None else result


def _path(default: str) -> Any:
    return option(Path(default), parse=_relative_path, hint="应为文字（加引号）的路径")


def _relative_path(value: Any) -> Path:
    if not isinstance(value, str):
        raise TypeError(value)
    return Path(value)


@dataclass(frozen=True)
class Paths:
    """[paths]: as written, relative to the workspace; Config.paths holds them resolved."""

    notice: Path = _path("data/kaifeng-2024-gov-report-tasks.md")
    ledger: Path = _path("master_ledger.xlsx")
    outbox: Path = _path("outbox")
    drop: Path = _path("drop")
    archive: Path = _path("archive")
    reports: Path = _path("reports")
    store: Path = _path("ducha.db")
    secret: Path = _path(".ducha_secret")

    @property
    def lock(self) -> Path:
        """One lock file per workspace, so two commands cannot interleave writes."""
        return self.store.with_name(".ducha.lock")

    @property
    def ledger_cache(self) -> Path:
        """The ledger as last loaded (ledger/cache.py), beside the store; safe to delete."""
        return self.store.with_name(".ducha_ledger.cache")

    def under(self, root: Path) -> Paths:
        return Paths(**{name: root / value for name, value in asdict(self).items()})


_CONTACT_KEYS = ("contact", "phone", "email", "address")


@dataclass(frozen=True)
class Bureau:
    city: str = "开封市"
    year: int = 2024
    name: str = "市政府督查局"
    # How units reach the bureau (in every workbook, receipt and mail): shipped as placeholders,
    # never a real person's name or number; `placeholders` and ducha doctor say which are left.
    contact: str = "（请填写联系人）"
    phone: str = "（请填写联系电话）"
    email: str = "ducha@example.com"
    address: str = "（请填写办公地址）"
    # The bureau's clock: a file's received time and every deadline are read in it, whatever
    # time zone the computer running ducha is set to.
    timezone: str = option("Asia/Shanghai", parse=lambda v: _zone(v).key, hint="应为时区名，如 \"Asia/Shanghai\"")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def placeholders(self) -> list[str]:
        """The contact keys still holding the shipped placeholder: the clerk has yet to fill them in."""
        return [f.name for f in fields(self) if f.name in _CONTACT_KEYS and getattr(self, f.name) == f.default]

    @property
    def clock(self) -> str:
        """How the clerk names the bureau's clock: 北京时间, or the zone (Asia/Tokyo 时间)."""
        return "北京时间" if self.timezone == "Asia/Shanghai" else f"{self.timezone} 时间"

    def local(self, moment: dt.datetime | None = None) -> dt.datetime:
        """`moment` (default: now) on the bureau's clock, time zone attached. A naive time is taken
        to be on that clock already (what the clerk types after --now); an aware one is converted."""
        if moment is None:
            return dt.datetime.now(self.zone)
        return moment.replace(tzinfo=self.zone) if moment.tzinfo is None else moment.astimezone(self.zone)


@dataclass(frozen=True)
class Deadlines:
    day: int = 28
    overrides: dict[str, dt.date] = field(default_factory=dict)
    holiday_rule: str = KEEP  # a deadline on a day off: keep it, or move it (workdays.HOLIDAY_RULES)


@dataclass(frozen=True)
class Config:
    root: Path
    paths: Paths
    bureau: Bureau
    deadlines: Deadlines
    raw: dict[str, Any]

    def section(self, name: str) -> dict[str, Any]:
        """A config section as written; read_section types it."""
        return self.raw.get(name, {})

    def read(self, section: str, *classes: type) -> Any:
        """read_section on one of this file's sections."""
        return read_section(self.section(section), section, *classes)


def _zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str):
        raise TypeError(name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(name) from exc


def _day_of_month(value: Any) -> int:
    if type(value) is not int or not 1 <= value <= 30:
        raise ValueError(value)
    return value


@dataclass(frozen=True)
class _DeadlineDay:
    day: int = option(28, parse=_day_of_month, hint="应为 1–30 之间的整数")
    holiday_rule: str = option(KEEP, choices=HOLIDAY_RULES)


def _override(key: str, value: Any) -> dt.date:
    try:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ConfigError(f"ducha.toml 的 [deadlines] {key} 应为日期，如 2024-03-28") from exc


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
    paths = read_section(raw.get("paths", {}), "paths", Paths).under(root)
    return Config(
        root=root,
        paths=paths,
        bureau=read_section(raw.get("bureau", {}), "bureau", Bureau),
        deadlines=_deadlines(raw.get("deadlines", {})),
        raw=raw,
    )


def _deadlines(data: Any) -> Deadlines:
    day, overrides = read_section(data, "deadlines", _DeadlineDay, extra=_override)
    return Deadlines(day=day.day, overrides=overrides, holiday_rule=day.holiday_rule)
