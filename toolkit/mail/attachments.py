"""The files inside one mail: every attachment that could be a return or its evidence, bounded.

Units' mail clients write attachment names every way there is (RFC 2231 `filename*=`, RFC 2047
encoded words inside the quotes, GBK in both), forward a mail as an attached message, zip the
workbook and the photos, and add logos and signatures nobody sent on purpose. This module turns
the raw message into named parts with their bytes, or a Chinese reason why a part is not taken:
a part over [limits] max_file_mb, a zip over the member or size limits, a winmail.dat (Outlook's
TNEF wrapper, not decoded: the clerk asks for the file again). Inline images and signatures are
passed over silently. Names are only names here: the caller decides where a file goes.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser

from toolkit.intake.sniff import Limits

_MIB = 1024 * 1024
_SIGNATURES = {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}
_TNEF = {"application/ms-tnef", "application/vnd.ms-tnef"}
# A zip that is an Office or OpenDocument file rather than an archive of files.
_PACKAGE_MARKS = ("[Content_Types].xml", "mimetype")


@dataclass(frozen=True)
class Part:
    """One attachment: its name as sent and its bytes, or no bytes and why it was not taken."""

    name: str
    data: bytes | None
    note: str = ""


def parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def attachments(message: EmailMessage, limits: Limits) -> list[Part]:
    """Every attachment of message (and of the messages attached to it), in order, zips unpacked."""
    found: list[Part] = []
    for part in message.walk():
        if part.is_multipart():
            continue  # containers, and attached messages (walk goes into them)
        name = _name(part)
        kind, disposition = part.get_content_type(), part.get_content_disposition()
        if not name and disposition != "attachment":
            continue  # the text of the mail
        if kind in _SIGNATURES or (disposition == "inline" and kind.startswith("image/")):
            continue  # a signature, a logo in the text
        name = name or "附件"
        if kind in _TNEF or name.lower() == "winmail.dat":
            found.append(Part(name, None, "Outlook 的 winmail.dat 格式附件，无法取出其中的文件；请该单位改用普通附件重新发送"))
            continue
        data = part.get_payload(decode=True) or b""
        if len(data) > limits.max_file_mb * _MIB:
            found.append(Part(name, None, f"附件大小 {len(data) / _MIB:.1f} MB，超过上限 {limits.max_file_mb:g} MB，未保存"))
        elif _is_archive(data):
            found.extend(_unzip(name, data, limits))
        else:
            found.append(Part(name, data))
    return found


def _name(part: EmailMessage) -> str:
    """The attachment's file name, RFC 2231 and RFC 2047 forms decoded ('' when it has none)."""
    name = part.get_filename() or part.get_param("name", header="content-type") or ""
    if not isinstance(name, str):  # an RFC 2231 triple the parser left undecoded
        name = str(name[2])
    if "=?" in name:  # an encoded word inside quotes, which the standard treats as literal text
        with contextlib.suppress(LookupError, UnicodeDecodeError, ValueError):
            name = str(make_header(decode_header(name)))
    return name.strip()


def _is_archive(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return not set(_PACKAGE_MARKS) & set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _unzip(name: str, data: bytes, limits: Limits) -> list[Part]:
    """The files of an attached zip under the limits a returned workbook has ([limits]); one
    refused Part naming the zip when it is over them or broken."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and not _junk(m.filename)]
            total = sum(m.file_size for m in members)
            if len(members) > limits.max_members:
                return [Part(name, None, f"压缩包含 {len(members)} 个文件，超过上限 {limits.max_members}，未解压")]
            if total > limits.max_uncompressed_mb * _MIB:
                return [Part(name, None, f"压缩包解压后共 {total / _MIB:.1f} MB，超过上限 {limits.max_uncompressed_mb:g} MB，未解压")]
            big = [m for m in members if m.file_size > limits.max_file_mb * _MIB]
            if big:
                return [Part(name, None, f"压缩包中的 {_member_name(big[0])} 超过上限 {limits.max_file_mb:g} MB，未解压")]
            return [Part(f"{name}/{_member_name(m)}", zf.read(m)) for m in members]
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        why = "设置了密码" if isinstance(exc, RuntimeError) else "已损坏"
        return [Part(name, None, f"压缩包{why}，无法解压，未保存")]


def _junk(path: str) -> bool:
    """Entries a Mac or Windows adds to a zip that nobody sent."""
    last = path.rsplit("/", 1)[-1]
    return path.startswith("__MACOSX/") or last.startswith((".", "~$")) or last.lower() in ("thumbs.db", "desktop.ini")


def _member_name(member: zipfile.ZipInfo) -> str:
    """A member's name: zips from a Chinese Windows store GBK without saying so (zipfile read it as cp437)."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename
