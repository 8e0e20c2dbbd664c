"""The drop folder and the archive: find returned files, name and hash them, keep a copy by hash.

A dropped file is only ever read: the clerk's folder stays as the clerk left it, and the merge
works on a copy archived under its content hash, so the same file dropped twice is checked once
and a file cannot change under the reader.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from toolkit import fsutil
from toolkit.errors import DuchaError

# Files a drop folder collects that nobody sent: Office/WPS owner files (~$x.xlsx), LibreOffice
# locks (.~lock.x#), hidden files (our own .tmp files, .DS_Store) and Windows shell files.
_IGNORED_NAMES = re.compile(r"^(~\$|\.|~WRL)|^(thumbs\.db|desktop\.ini)$", re.IGNORECASE)
_CHUNK = 1024 * 1024  # bytes read at a time while hashing or copying
# Why a dropped file could not be read, in the clerk's words (else the system's own text).
_WHY = {errno.ENOENT: "文件已被移走或删除", errno.EACCES: "没有读取权限，或正被其他程序占用",
        errno.EPERM: "没有读取权限，或正被其他程序占用", errno.EBUSY: "正被其他程序占用"}


def scan(drop: Path) -> list[Path]:
    """Every returned file under drop, recursively, sorted by relative path so runs are repeatable.

    Skips what no unit sent (see _IGNORED_NAMES) and hidden folders, and does not follow symlinked
    folders, so the scan stays inside the drop folder; a folder it cannot list is passed over. A
    missing folder is a DuchaError the clerk can fix.
    """
    if not drop.is_dir():
        raise DuchaError(f"收件夹不存在：{drop}（请检查 ducha.toml 的 [paths] drop，或用 --drop 指定）")
    prefix = os.path.join(str(drop), "")
    found = sorted((entry.path[len(prefix):].replace(os.sep, "/"), entry.path)
                   for entry in fsutil.files_under(str(drop), hidden_folders=False)
                   if not _IGNORED_NAMES.search(entry.name) and entry.is_file())
    return [Path(path) for _, path in found]


def shown_path(path: Path) -> str:
    """path as text that can be stored, printed and written into a workbook. On POSIX a name is
    bytes: one that is not UTF-8 (a zip unpacked from a Chinese Windows has GBK names) arrives
    with surrogate escapes that no UTF-8 file or database accepts, so each such part is decoded
    as GB18030, else with replacement characters."""
    parts = []
    for part in Path(path).parts:
        try:
            part.encode("utf-8")
        except UnicodeEncodeError:
            raw = os.fsencode(part)
            try:
                part = raw.decode("gb18030")
            except UnicodeDecodeError:
                part = raw.decode("utf-8", "replace")
        parts.append(part)
    return str(Path(*parts)) if parts else str(path)


def file_facts(path: Path, zone: dt.tzinfo | None = None) -> tuple[str, int, str]:
    """(sha256, size, received): received is the modification time, the moment the clerk saved
    the attachment, as ISO time to the second on the bureau's clock (zone; default this
    computer's), so a server set to UTC does not move a file saved at 07:00 on the 29th back to
    the 28th."""
    digest = _sha256(path)
    stat = path.stat()
    return digest, stat.st_size, _received(stat.st_mtime, zone)


def received_at(path: Path, zone: dt.tzinfo | None = None) -> str:
    """file_facts' received alone: the file is not read."""
    return _received(path.stat().st_mtime, zone)


def _received(mtime: float, zone: dt.tzinfo | None) -> str:
    try:
        return dt.datetime.fromtimestamp(mtime, zone).replace(microsecond=0, tzinfo=None).isoformat()
    except (OverflowError, ValueError, OSError):  # a time stamp beyond what datetime holds
        return (dt.datetime.min if mtime < 0 else dt.datetime.max).replace(microsecond=0).isoformat()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive(path: Path, archive_dir: Path, sha256: str, flush: bool = True) -> Path:
    """Copy path to archive_dir/<sha256><ext> (archive_dir is archive/<period>), keeping its
    modification time. Idempotent: an existing copy is reused when its content has that hash (a
    copy a power cut emptied is made again). The copy is hashed while written, so a file that
    changed since it was hashed is refused rather than archived under a wrong name. flush=False:
    the caller flushes a batch of copies (fsutil.flush_files) before recording any of them."""
    suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", path.suffix.lower()) else ""
    target = archive_dir / f"{sha256}{suffix}"
    if target.is_file() and _sha256(target) == sha256:
        return target
    stat = path.stat()
    with fsutil.atomic_path(target, flush) as tmp:
        digest = hashlib.sha256()
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != sha256:
            raise DuchaError(f"文件 {path} 在读取过程中被修改，请等其保存完成后重新运行")
        os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return target


@dataclass(frozen=True)
class NotTaken:
    """A file this run could not read (gone since the scan, locked, no permission, changed while
    copied, an archived copy deleted): nothing of it is recorded, the rest of the merge goes on,
    the clerk is told why, and the next run tries it again."""

    path: str
    reason: str


def not_taken(path: Path, exc: OSError | DuchaError) -> NotTaken:
    """The NotTaken of a dropped file that reading or copying failed on."""
    if isinstance(exc, DuchaError):
        return NotTaken(shown_path(path), str(exc))
    why = _WHY.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return NotTaken(shown_path(path), f"无法读取该文件（{why}），本次未汇总；请检查后重新运行 ducha merge")
