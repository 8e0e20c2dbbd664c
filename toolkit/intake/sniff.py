"""Tell a returned file's format from its bytes and bound it, before any workbook parser sees it.

Units mail back files under any name and extension (a PDF named .xlsx, an HTML page saved as
.xls), so nothing here trusts the file name. Every check is cheap and bounded (a zip's central
directory, an OLE2 directory, a few KB of header), so a hostile file is turned away before it can
cost memory or time.
"""

from __future__ import annotations

import contextlib
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from toolkit.config import Config, option

# Formats the reader opens; everything else is rejected with REJECT_REASONS.
READABLE = ("xlsx", "xls", "ods")
ZIP_FORMATS = ("xlsx", "xlsm", "xlsb", "ods", "zip")

REJECT_REASONS = {
    "xlsm": "这是含宏的工作簿（.xlsm），为安全起见不予读取",
    "xlsb": "这是二进制格式工作簿（.xlsb），无法读取",
    "encrypted": "文件设置了打开密码，无法读取",
    "html": "这是网页（HTML）文件，只是扩展名为 .xls，并非 Excel 工作簿",
    "xml": "这是 Excel 2003 XML 表格，并非 Excel 工作簿",
    "pdf": "这是 PDF 文件，不是 Excel 工作簿",
    "image": "这是图片文件，不是 Excel 工作簿",
    "zip": "这是压缩包，不是 Excel 工作簿",
    "empty": "文件为空（0 字节）",
    "truncated": "文件已损坏或不完整（可能下载或保存时中断）",
    "unknown": "无法识别的文件类型，不是 Excel 工作簿",
}

_MIB = 1024 * 1024
_BOMB_MEMBER_FLOOR = _MIB  # members smaller than this cannot hurt, whatever their ratio
_HEAD = 4096


def _positive(default: float, kind: type) -> Any:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(value)
        return kind(value)

    return option(default, parse=parse, hint=f"应为正数，如 {default!r}")


@dataclass(frozen=True)
class Limits:
    """Bounds on one returned file, checked before parsing ([limits] in ducha.toml)."""

    max_file_mb: float = _positive(20.0, float)  # size of the file as received
    max_members: int = _positive(1000, int)  # entries in a zip-based workbook
    max_uncompressed_mb: float = _positive(30.0, float)  # total declared uncompressed size of those entries
    max_ratio: float = _positive(200.0, float)  # uncompressed/compressed size of any entry over 1 MiB
    max_cells: int = _positive(500_000, int)  # rows × columns spanned by a sheet we read
    row_margin: int = _positive(200, int)  # data rows read beyond the number of issued tasks
    max_seconds: float = _positive(10.0, float)  # time to read and check one file (in a worker process)
    # address space a file-reading worker may add to its start-up size (POSIX)
    max_memory_mb: float = _positive(256.0, float)

    @classmethod
    def from_config(cls, config: Config) -> Limits:
        """Typed [limits]; a wrong key or a non-positive number is a ConfigError naming it."""
        return config.read("limits", cls)


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError)


@contextlib.contextmanager
def opened_zip(path: Path, limits: Limits) -> Iterator[zipfile.ZipFile | None]:
    """path's zip directory, read once for sniff, check_limits and the reader instead of once by
    each (0.18 ms a read); None for a file over max_file_mb (whose directory could be huge), one
    that is not a zip, or one whose directory cannot be read (sniff then calls it truncated)."""
    zipped = None
    if check_size(path, limits) is None:
        with contextlib.suppress(*_ZIP_ERRORS), open(path, "rb") as fh:
            if fh.read(4).startswith(_ZIP_MAGIC):
                zipped = zipfile.ZipFile(path)
    try:
        yield zipped
    finally:
        if zipped is not None:
            zipped.close()


def _zip(path: Path, zipped: zipfile.ZipFile | None) -> contextlib.AbstractContextManager[zipfile.ZipFile]:
    """The zip already open (left open), or path opened now (closed after)."""
    return contextlib.nullcontext(zipped) if zipped is not None else zipfile.ZipFile(path)


def sniff(path: Path, zipped: zipfile.ZipFile | None = None) -> str:
    """The format of path judged from its bytes: one of xlsx, xlsm, xlsb, xls, encrypted, ods,
    html, xml, pdf, image, zip, empty, truncated, unknown. zipped: path's zip, if already open."""
    with open(path, "rb") as fh:
        head = fh.read(_HEAD)
        if not head:
            return "empty"
        if head.startswith(_ZIP_MAGIC):
            return _sniff_zip(path, zipped)
        if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
            return _sniff_ole(fh, path.stat().st_size)
    if head.startswith(b"%PDF"):
        return "pdf"
    if _is_image(head):
        return "image"
    return _sniff_markup(head)


def check_size(path: Path, limits: Limits) -> str | None:
    """A Chinese reason when the file is bigger than max_file_mb, else None."""
    size = path.stat().st_size
    if size > limits.max_file_mb * _MIB:
        return f"文件大小 {size / _MIB:.1f} MB，超过上限 {limits.max_file_mb:g} MB"
    return None


def check_limits(path: Path, fmt: str, limits: Limits, zipped: zipfile.ZipFile | None = None) -> str | None:
    """A Chinese reason when the file is over a limit, else None. Reads only the zip directory,
    whose declared sizes bound what zipfile and python-calamine will inflate (both refuse a
    member that inflates beyond its declared size)."""
    too_big = check_size(path, limits)
    if too_big or fmt not in ZIP_FORMATS:
        return too_big
    with _zip(path, zipped) as zf:
        members = zf.infolist()
    if len(members) > limits.max_members:
        return f"压缩结构含 {len(members)} 个部件，超过上限 {limits.max_members}"
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_mb * _MIB:
        return f"解压后共 {total / _MIB:.1f} MB，超过上限 {limits.max_uncompressed_mb:g} MB"
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _BOMB_MEMBER_FLOOR and ratio > limits.max_ratio:
            return f"部件 {member.filename} 压缩比 {ratio:.0f}:1，超过上限 {limits.max_ratio:g}:1（疑似压缩炸弹）"
    return None


def _sniff_zip(path: Path, zipped: zipfile.ZipFile | None) -> str:
    try:
        with _zip(path, zipped) as zf:
            names = set(zf.namelist())
            if "mimetype" in names:
                mimetype = zf.open("mimetype").read(200)
                return "ods" if b"opendocument.spreadsheet" in mimetype else "zip"
            types = zf.open("[Content_Types].xml").read(_MIB) if "[Content_Types].xml" in names else b""
    except _ZIP_ERRORS:
        return "truncated"
    if b"sheet.binary.macroEnabled" in types:
        return "xlsb"
    if b"macroEnabled" in types or "xl/vbaProject.bin" in names:
        return "xlsm"
    if b"spreadsheetml" in types or "xl/workbook.xml" in names:
        return "xlsx"
    return "zip"


_FREE_SECTOR_MARK = 0xFFFFFFFA  # sector numbers at or above this are markers, not sectors
_CFB_MAX_STEPS = 100_000  # bounds chain walking in a hostile file


def _sniff_ole(fh: BinaryIO, size: int) -> str:
    """An OLE2 compound file: Excel 97–2003 (.xls) holds a Workbook stream; Excel saves a
    password-protected .xlsx as OLE2 with EncryptionInfo/EncryptedPackage."""
    names = _cfb_stream_names(fh, size)
    if names is None:
        return "truncated"
    if {"EncryptionInfo", "EncryptedPackage"} & names:
        return "encrypted"
    if {"Workbook", "Book"} & names:
        return "xls"
    return "unknown"


def _cfb_stream_names(fh: BinaryIO, size: int) -> set[str] | None:
    """Names of all entries in a compound file's directory, or None when it is broken.

    A minimal reader of the [MS-CFB] header, FAT and directory chain: enough to name the streams,
    without a dependency, and bounded in steps so a looping chain cannot hang the merge."""

    def u32(data: bytes, offset: int) -> int:
        return int.from_bytes(data[offset : offset + 4], "little")

    fh.seek(0)
    header = fh.read(512)
    shift = int.from_bytes(header[30:32], "little") if len(header) == 512 else 0
    if shift not in (9, 12):
        return None
    sector_size = 1 << shift
    per_sector = sector_size // 4

    def sector(number: int) -> bytes | None:
        offset = (number + 1) * sector_size
        if number >= _FREE_SECTOR_MARK or offset >= size:
            return None
        fh.seek(offset)
        return fh.read(sector_size).ljust(sector_size, b"\0")

    fat_count, first_dir, difat_next, difat_count = u32(header, 44), u32(header, 48), u32(header, 68), u32(header, 72)
    difat = [u32(header, 76 + 4 * i) for i in range(109)]
    for _ in range(min(difat_count, _CFB_MAX_STEPS)):
        block = sector(difat_next)
        if block is None:
            return None
        difat += [u32(block, 4 * i) for i in range(per_sector - 1)]
        difat_next = u32(block, sector_size - 4)
    fat_sectors = [s for s in difat if s < _FREE_SECTOR_MARK][:fat_count]

    names: set[str] = set()
    current, seen = first_dir, set()
    while current < _FREE_SECTOR_MARK:
        block = sector(current)
        if block is None or current in seen or len(seen) > _CFB_MAX_STEPS:
            return None
        seen.add(current)
        for start in range(0, sector_size, 128):
            entry = block[start : start + 128]
            length = int.from_bytes(entry[64:66], "little")
            if entry[66] in (1, 2, 5) and 2 <= length <= 64:
                names.add(entry[: length - 2].decode("utf-16-le", "replace"))
        index, slot = divmod(current, per_sector)
        fat_block = sector(fat_sectors[index]) if index < len(fat_sectors) else None
        if fat_block is None:
            return None
        current = u32(fat_block, 4 * slot)
    return names


def _is_image(head: bytes) -> bool:
    return (
        head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\0", b"MM\0*"))
        or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
    )


def _sniff_markup(head: bytes) -> str:
    """HTML pages and Excel 2003 XML that Excel or WPS saved with an .xls name."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "replace")
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace")
    text = text.lstrip().lower()
    if not text.startswith("<"):
        return "unknown"
    if "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return "xml"
    if any(mark in text for mark in ("<html", "<!doctype html", "<table", "<body")):
        return "html"
    return "unknown"
