"""佐证材料: the files a unit sends beside its workbook (PDF, JPG, PNG, DOCX, or a ZIP of those).

They are the proof behind a 申请办结, so the bureau keeps them, but they come from outside like
everything in the drop folder: each is judged by its bytes only (sniff), bounded before anything
looks inside (size, a zip's directory: members, total and ratio), and never opened further, never
unpacked, never run. A file that is not what its name says, too big, a bomb, or named with a path
separator is refused with the reason; nothing of it is kept.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePath

from toolkit.intake import sniff
from toolkit.intake.sniff import Limits

# Extension → the format sniff must find: a file named .pdf that is not a PDF is refused.
EVIDENCE_SUFFIXES = {".pdf": "pdf", ".jpg": "image", ".jpeg": "image", ".png": "image", ".docx": "docx",
                     ".zip": "zip"}
WORKBOOK_SUFFIXES = (".xlsx", ".xls", ".ods", ".xlsm", ".et")
_KINDS = {"pdf": "PDF 文件", "image": "图片", "docx": "Word 文档", "zip": "压缩包"}
_SEPARATORS = ("/", "\\", "\x00")


def is_evidence(name: str) -> bool:
    """A name with an evidence extension (whether the file is evidence depends on what it came with)."""
    return PurePath(name).suffix.lower() in EVIDENCE_SUFFIXES


def is_workbook(name: str) -> bool:
    return PurePath(name).suffix.lower() in WORKBOOK_SUFFIXES


# Why a file was refused, as issue codes (intake/codes.py): its name, its size, its type, a bomb.
BAD_NAME = "evidence_bad_name"
TOO_BIG = "evidence_too_big"
REFUSED_TYPE = "evidence_refused_type"
ZIP_BOMB = "evidence_zip_bomb"


def check_evidence(path: Path, name: str, limits: Limits) -> tuple[str, str, str]:
    """(format, code, problem) of one evidence file; code and problem are "" when it is taken.
    name is the file's name as the unit sent it (an attachment's own name, which may hold a path
    separator)."""
    if any(sep in name for sep in _SEPARATORS) or name.strip(" .") in ("", ".."):
        return "unknown", BAD_NAME, f"文件名“{name[:60]}”含路径分隔符或不是文件名，不予接收，请改名后重新报送"
    too_big = sniff.check_size(path, limits)
    if too_big:
        return "unread", TOO_BIG, f"{too_big}，不予接收，请压缩或拆分后重新报送"
    fmt = sniff.sniff(path)
    if fmt == "zip" and _is_docx(path):
        fmt = "docx"
    expected = EVIDENCE_SUFFIXES[PurePath(name).suffix.lower()]
    if fmt != expected:
        shown = _KINDS.get(fmt, sniff.REJECT_REASONS.get(fmt, "无法识别的文件").removeprefix("这是"))
        return fmt, REFUSED_TYPE, f"文件内容（{shown}）与扩展名不符，不予接收；请报送 PDF、JPG、PNG、DOCX 或其压缩包"
    if fmt in ("zip", "docx"):
        if reason := sniff.check_limits(path, "zip", limits):
            return fmt, ZIP_BOMB, f"{reason}，不予接收"
        if fmt == "zip" and (found := _zip_names(path)):
            return fmt, *found
    return fmt, "", ""


def _is_docx(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _zip_names(path: Path) -> tuple[str, str] | None:
    """(code, problem) when a zip's members are not plain evidence files (read from its directory
    only): a member whose path leaves the zip, or one of another type."""
    with zipfile.ZipFile(path) as zf:
        names = [m.filename for m in zf.infolist() if not m.is_dir()]
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            return BAD_NAME, f"压缩包中的“{name[:60]}”路径越出压缩包，不予接收"
        if not is_evidence(parts[-1]) or PurePath(parts[-1]).suffix.lower() == ".zip":
            return REFUSED_TYPE, f"压缩包中的“{name[:60]}”不是 PDF、JPG、PNG 或 DOCX，不予接收"
    return None
