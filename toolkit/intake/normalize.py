"""Turn what units type into canonical values: status, progress, numbers, phone, dates, text.

Pure functions, no files. Units fill the workbook in Excel or WPS with Chinese input methods, so
the same answer arrives as 已办结 or 完成, 80, "80%", "８０％" or 0.8 in a percent-formatted cell.
Each function returns a Norm: the canonical value, whether it differs from what was typed (so the
validator can warn that it interpreted something), and whether it is usable at all.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from toolkit.forms.layout import STATUS_DONE, STATUS_LAGGING, STATUS_NOT_STARTED, STATUS_ON_TRACK, STATUSES

T = TypeVar("T")


@dataclass(frozen=True)
class Norm(Generic[T]):
    value: T | None  # canonical value; None when empty or unusable
    changed: bool = False  # True when the value was interpreted, not just cleaned
    ok: bool = True  # False when the input cannot be used
    shown: str = ""  # the input as the unit typed it (trimmed), for messages


STATUS_SYNONYMS = {
    STATUS_DONE: ("完成", "已办结", "办结", "已完成任务", "已落实", "全部完成"),
    STATUS_ON_TRACK: ("推进中", "进行中", "正在推进", "正常", "按序推进", "按计划推进", "有序推进", "持续推进"),
    STATUS_LAGGING: ("滞后", "进展滞后", "推进滞后", "滞后推进", "延迟", "进度落后"),
    STATUS_NOT_STARTED: ("未开始", "尚未启动", "暂未启动", "未开展", "尚未开始"),
}
_STATUS_LOOKUP = {syn: status for status, synonyms in STATUS_SYNONYMS.items() for syn in synonyms}

# Whitespace Excel users produce: full-width space, no-break space, zero-width characters.
_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\u200c\u200d\ufeff]+")
# The characters _SPACES matches (\s is every character str.isspace() holds true for), for
# str.strip: a regex anchored at the end tried every position of the text (~175 cells a file).
EDGE_SPACES = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200e))) + (
    "\u2028\u2029\u202f\u205f\u3000\ufeff")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def as_text(value: Any) -> str:
    """A cell value as the unit sees it: 13.0 → "13", a date → 2024-03-20, None → ""."""
    if value.__class__ is str:  # most cells: ~750 calls a file
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def text(value: Any) -> Norm[str]:
    """Strip edge whitespace (full-width too) and unify line breaks; empty text is value ""."""
    raw = as_text(value)
    cleaned = raw.replace("\r\n", "\n").replace("\r", "\n").strip(EDGE_SPACES)
    return Norm(cleaned, changed=False, ok=True, shown=cleaned)


def compact(value: Any) -> str:
    """NFKC and no whitespace at all: the form in which two spellings of a word compare equal."""
    if value is None or value == "":  # the blank cells of a table's rows
        return ""
    return _SPACES.sub("", unicodedata.normalize("NFKC", as_text(value)))


def status(value: Any) -> Norm[str]:
    """One of the four statuses; obvious synonyms are mapped and flagged as changed."""
    shown = text(value).value or ""
    key = compact(value)
    if not key:
        return Norm(None, shown=shown)
    if key in STATUSES:
        return Norm(key, changed=False, shown=shown)
    if key in _STATUS_LOOKUP:
        return Norm(_STATUS_LOOKUP[key], changed=True, shown=shown)
    return Norm(None, ok=False, shown=shown)


def number(value: Any, percent_format: bool | None = None) -> Norm[float]:
    """A number from a numeric cell or from text ("6.5", "６.５", "1,200", "80%").

    percent_format tells how the cell was displayed: True means Excel showed 0.8 as 80%, so the
    value is scaled to 80. A trailing % in text is dropped (the number is already in percent).
    """
    shown = text(value).value or ""
    if isinstance(value, bool):
        return Norm(None, ok=False, shown=shown)
    if isinstance(value, int | float):
        number_value = float(value) * (100 if percent_format else 1)
        if not math.isfinite(number_value):
            return Norm(None, ok=False, shown=shown)
        return Norm(_tidy(number_value), shown=f"{as_text(value * 100)}%" if percent_format else shown)
    key = compact(value).replace(",", "")
    if not key:
        return Norm(None, shown=shown)
    key = key.removesuffix("%")
    if not _NUMBER.match(key) or not math.isfinite(parsed := float(key)):  # 400 nines overflow to inf
        return Norm(None, ok=False, shown=shown)
    return Norm(_tidy(parsed), shown=shown)


def task_no(value: Any) -> int | None:
    """A 任务编号: a positive whole number (6, "6", "６", 6.0); None for anything else."""
    found = number(value).value
    return int(found) if found is not None and found.is_integer() and found > 0 else None


def progress(value: Any, percent_format: bool | None = None) -> Norm[float]:
    """完成进度 in percent, 0–100.

    80, "80", "80%", "８０％" and 0.8 in a percent-formatted cell all give 80. A bare fraction
    strictly between 0 and 1 in a cell not known to be percent-formatted is read as a share (0.8 →
    80) and flagged as changed, since nobody reports 0.8 % of a year's task in percent. Text such
    as 八成 and numbers outside 0–100 are not ok; the value is kept for the message.
    """
    result = number(value, percent_format)
    if result.value is None:
        return result
    is_text_percent = isinstance(value, str) and compact(value).endswith("%")
    if not percent_format and not is_text_percent and 0 < result.value < 1:
        return Norm(_tidy(result.value * 100), changed=True, shown=result.shown)
    if not 0 <= result.value <= 100:
        return Norm(result.value, ok=False, shown=result.shown)
    return result


_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^\(?(0\d{2,3})\)?-?([2-9]\d{6,7})(?:(?:-|转|ext\.?|#|分机)(\d{1,6}))?$", re.IGNORECASE)
_LOCAL = re.compile(r"^([2-9]\d{6,7})(?:(?:-|转|ext\.?|#|分机)(\d{1,6}))?$", re.IGNORECASE)
_PHONE_SPLIT = re.compile(r"[、，,；;/／]|\s{2,}|或")


def phone(value: Any) -> Norm[str]:
    """One or more phone numbers: mobile (11 digits, optional +86), landline with area code
    (0371-23859529, (0371)23859529), or a local 7–8 digit number as the bureau itself writes it,
    each with an optional extension (转8001, -8001). Canonical form: 15137880816, 0371-23859529-8001;
    several numbers are joined with 、."""
    shown = text(value).value or ""
    if not shown:
        return Norm(None, shown=shown)
    parts = [p for p in _PHONE_SPLIT.split(unicodedata.normalize("NFKC", shown)) if p.strip()]
    canonical = []
    for part in parts:
        key = re.sub(r"\s", "", part)
        if match := _MOBILE.match(key.replace("-", "")):
            canonical.append(match[1])
        elif (match := _LANDLINE.match(key)) or (match := _LOCAL.match(key)):
            canonical.append("-".join(g for g in match.groups() if g))
        else:
            return Norm(None, ok=False, shown=shown)
    result = "、".join(canonical)
    return Norm(result, changed=result != shown, shown=shown)


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def date(value: Any) -> Norm[dt.date]:
    """A date from a date cell, an Excel serial number (1900 system), or text: 2024-03-20,
    2024/3/20, 2024.3.20, 2024年3月20日, 20240320 (full-width digits too)."""
    shown = text(value).value or ""
    if isinstance(value, dt.datetime):
        return Norm(value.date(), shown=shown)
    if isinstance(value, dt.date):
        return Norm(value, shown=shown)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and 1 <= value < 2958466 and float(value).is_integer():
            return Norm(_EXCEL_EPOCH + dt.timedelta(days=int(value)), changed=True, shown=shown)
        return Norm(None, ok=False, shown=shown)
    key = compact(value)
    if not key:
        return Norm(None, shown=shown)
    for pattern in _DATE_PATTERNS:
        if match := pattern.match(key):
            try:
                return Norm(dt.date(int(match[1]), int(match[2]), int(match[3])), shown=shown)
            except ValueError:
                break
    return Norm(None, ok=False, shown=shown)


def _tidy(value: float) -> float:
    """Drop float noise from scaling (0.07 × 100 = 7.000000000000001)."""
    return round(value, 6) + 0.0
