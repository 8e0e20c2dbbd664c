"""The parts of an xlsx package around its sheets, for fastxlsx.Book: same bytes as xlsxwriter, less work.

Of a receipt's 3 ms, about 0.4 ms went into parts that are the same in every workbook of a run
(styles.xml of the same dozen formats, app.xml and [Content_Types].xml of the same sheet names, the
rels, the theme) and into zipfile's bookkeeping. Each such part's XML is made by xlsxwriter's own
writer the first time a state of that writer is seen and taken from memory after (_Memo); shared
strings are written without the escaping regexes when none is needed; the zip's records are packed
here as zipfile packs them, a part common to every workbook deflated once per process (write_zip).
Only used under the xlsxwriter release fastxlsx is pinned to; tests/test_fastxlsx.py compares bytes.
"""

from __future__ import annotations

import functools
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from io import StringIO
from os import PathLike
from types import FunctionType
from typing import Any, NamedTuple

from xlsxwriter import contenttypes, packager
from xlsxwriter.app import App
from xlsxwriter.contenttypes import ContentTypes
from xlsxwriter.packager import Packager
from xlsxwriter.relationships import Relationships
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.styles import Styles
from xlsxwriter.xmlwriter import XMLwriter

from toolkit.problems import column_letters

CACHED_ENTRIES = 256  # entries each cache keeps
STRMAX = 32767  # UTF-16 units in a cell or a comment, as xlsxwriter counts them
SHORT = STRMAX // 2  # a string of no more characters than this fits whatever they are
# A shared string needing any of xlsxwriter's escapes (XML specials, control characters, literal
# _xHHHH_, non-characters), whitespace kept at either end, or read as rich text ("<r>…</r>").
SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
# parts that most often differ from workbook to workbook
_OWN_PARTS = ("xl/worksheets/sheet", "xl/sharedStrings.xml", "docProps/core.xml", "docProps/custom.xml",
              "xl/comments", "xl/drawings/")
_CACHED_SIZE = 16384  # bytes: the largest part kept deflated (theme1.xml is ~7 KB)
_DEFLATED: dict[bytes, tuple[int, bytes]] = {}
_SIGHTED: set[int] = set()  # hashes of the own parts deflated once
# zipfile's records (local header, central directory entry, end of central directory), an entry's
# date 1980-01-01 00:00 as DOS packs it, its attributes rw-------, made on this system.
_LOCAL, _CENTRAL, _END = (struct.Struct(f) for f in ("<4s2B4HL2L2H", "<4s4B4HL2L5H2L", "<4s4H2LH"))
_DOS_DATE = 1 << 5 | 1
_ATTRIBUTES = 0o600 << 16
_CREATE_SYSTEM = 0 if sys.platform == "win32" else 3
_UTF8_NAME = 1 << 11
_STREAM_AFTER = 1 << 18  # characters of a long part held as text before they are deflated (DeflatingText)
_STREAMED = ("xl/worksheets/sheet", "xl/sharedStrings.xml")
PIECES = 4096  # XML pieces (cells, strings) a long part's writer joins before handing them on


class _Strings(SharedStrings):
    """sharedStrings.xml with plain strings written directly; the rest by xlsxwriter."""

    def _write_sst_strings(self) -> None:
        out: list[str] = []
        for string in self.string_table.string_array:
            if SPECIAL.search(string):
                self.fh.write("".join(out))
                out.clear()
                self._write_si(string)
            else:
                out.append(f"<si><t>{string}</t></si>")
                if len(out) > PIECES:  # handed on in pieces, not made whole first
                    self.fh.write("".join(out))
                    out.clear()
                    spill(self.fh)
        self.fh.write("".join(out))


class _Memo:
    """A small part's XML written once per process for each state of its writer (app.xml,
    [Content_Types].xml, rels for each list of names and properties; styles.xml below). A state
    whose repr shows an object's address, or that does not hash, is never memoized."""

    def _key(self) -> tuple[Any, ...]:  # the last item a repr
        return (repr([item for item in vars(self).items() if item[0] not in _NOT_STATE]),)

    def _assemble_xml_file(self) -> None:
        if not isinstance(self.fh, StringIO) or self.fh.tell():  # type: ignore[attr-defined]
            super()._assemble_xml_file()  # type: ignore[misc]
            return
        key = (type(self), *self._key())
        try:
            xml = _XML.get(key)
        except TypeError:  # a format attribute set to a list, say
            super()._assemble_xml_file()  # type: ignore[misc]
            return
        if xml is not None:
            self.fh.write(xml)  # type: ignore[attr-defined]
            return
        super()._assemble_xml_file()  # type: ignore[misc]
        if " at 0x" not in key[-1]:
            if len(_XML) >= CACHED_ENTRIES:
                _XML.clear()
            _XML[key] = self.fh.getvalue()  # type: ignore[attr-defined]


class _App(_Memo, App):
    def _key(self) -> tuple[Any, ...]:  # of the document properties app.xml shows only these
        shown = {name: value for name, value in self.properties.items() if name in _APP_PROPERTIES}
        return (repr([self.part_names, self.heading_pairs, shown, self.doc_security]),)


class _Styles(_Memo, Styles):
    def _key(self) -> tuple[Any, ...]:
        # Each format's attributes as they are, cheaper than their repr: with their types (11 and
        # 11.0 are equal but written apart), a colour by identity (Book.add_format shares the
        # colours of equal formats, so equal workbooks hit).
        formats = []
        for fmt in self.xf_formats + self.dxf_formats:
            state = vars(fmt).copy()
            del state["fh"], state["xf_format_indices"], state["dxf_format_indices"]
            state.pop("_made_as", None)  # what an xlsxformats.MadeFormat was made from: not in styles.xml
            formats.append((tuple(state.items()), tuple(map(type, state.values()))))
        rest = repr([item for item in vars(self).items() if item[0] not in _NOT_STATE | _FORMAT_LISTS])
        return len(self.xf_formats), tuple(formats), rest


class _ContentTypes(_Memo, ContentTypes):
    def __init__(self) -> None:  # xlsxwriter deep-copies these lists of pairs of strings: a copy will do
        XMLwriter.__init__(self)
        self.defaults = list(contenttypes.defaults)
        self.overrides = list(contenttypes.overrides)


_NOT_STATE = frozenset(("fh", "internal_fh", "xf_format_indices", "dxf_format_indices"))
_FORMAT_LISTS = frozenset(("xf_formats", "dxf_formats"))
_APP_PROPERTIES = ("company", "manager", "hyperlink_base")
_XML: dict[tuple[Any, ...], str] = {}
_WRITERS = {"App": _App, "ContentTypes": _ContentTypes, "Relationships": type("Relationships", (_Memo, Relationships), {}),
            "Styles": _Styles}


@functools.lru_cache(maxsize=1 << 12)
def column(col: int) -> str:
    """A zero-based column's letters (0 → A), cached: the same few columns are named in every cell
    of every workbook."""
    return column_letters(col + 1)


def _memoizing(method: Any) -> Any:
    """A Packager method, its own code, making its parts with the memoizing writers above."""
    return FunctionType(method.__code__, vars(packager) | _WRITERS, method.__name__, method.__defaults__)


class Deflated(NamedTuple):
    crc: int
    deflated: bytes
    size: int  # of the part, UTF-8 encoded


class DeflatingText(StringIO):
    """A sheet's or the shared strings' XML as xlsxwriter writes it, held as text; the writers of
    long parts (fastxlsx.Sheet's rows, the shared strings) call spill between pieces, and past
    _STREAM_AFTER characters what is held is encoded and deflated, so a long part never exists
    whole: at 10,000 units 汇总表's largest sheet was ~64 MB of XML, held as text and then as
    bytes. Deflate's output does not depend on how its input is cut: the bytes are the same. A
    short part stays text (it may be one deflated before, see _deflated)."""

    def __init__(self) -> None:
        super().__init__()
        self.compressor: Any = None
        self.crc = self.size = 0
        self.pieces: list[bytes] = []

    def spill(self) -> None:
        if self.tell() > _STREAM_AFTER:
            self._deflate_held()

    def part(self) -> bytes | Deflated:
        """The part as bytes when it stayed short, else deflated."""
        if self.compressor is None:
            return self.getvalue().encode("utf-8")
        self._deflate_held()
        self.pieces.append(self.compressor.flush())
        return Deflated(self.crc, b"".join(self.pieces), self.size)

    def _deflate_held(self) -> None:
        if self.compressor is None:
            self.compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        data = self.getvalue().encode("utf-8")
        self.seek(0)
        self.truncate()
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        if piece := self.compressor.compress(data):
            self.pieces.append(piece)


def spill(text: Any) -> None:
    """Between pieces of a long part: see DeflatingText."""
    if isinstance(text, DeflatingText):
        text.spill()


class FastPackager(Packager):
    """xlsxwriter's packager, shared strings written the short way, the small parts memoized and
    the long ones deflated as they are written."""

    _write_app_file = _memoizing(Packager._write_app_file)
    _write_content_types_file = _memoizing(Packager._write_content_types_file)
    _write_root_rels_file = _memoizing(Packager._write_root_rels_file)
    _write_workbook_rels_file = _memoizing(Packager._write_workbook_rels_file)
    _write_worksheet_rels_files = _memoizing(Packager._write_worksheet_rels_files)
    _write_styles_file = _memoizing(Packager._write_styles_file)

    def _filename(self, xml_filename: str) -> Any:
        if not (self.in_memory and xml_filename.startswith(_STREAMED)):
            return super()._filename(xml_filename)
        text = DeflatingText()
        self.filenames.append((text, xml_filename, False))
        return text

    def _write_shared_strings_file(self) -> None:
        if not self.workbook.str_table.count:
            return
        sst = _Strings()
        sst.string_table = self.workbook.str_table
        sst._set_xml_writer(self._filename("xl/sharedStrings.xml"))
        sst._assemble_xml_file()


def _deflated(name: str, data: bytes | Deflated) -> tuple[int, bytes]:
    """data's CRC and raw deflate stream, as zipfile makes them, deflated once per process for a
    part seen before: at once for a part most workbooks share (theme, styles, rels …), from its
    second sighting for a part most make their own (sheets, shared strings; yet a receipt's
    first sheet, and several sheets of every unit workbook, are alike from unit to unit)."""
    if isinstance(data, Deflated):
        return data.crc, data.deflated
    small = len(data) <= _CACHED_SIZE
    if small and (hit := _DEFLATED.get(data)) is not None:
        return hit
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    result = zlib.crc32(data), compressor.compress(data) + compressor.flush()
    if small and (not name.startswith(_OWN_PARTS) or _seen_before(data)):
        if len(_DEFLATED) >= CACHED_ENTRIES:
            _DEFLATED.clear()
        _DEFLATED[data] = result
    return result


def _seen_before(data: bytes) -> bool:
    sighting = hash(data)
    if sighting in _SIGHTED:
        return True
    if len(_SIGHTED) >= 16 * CACHED_ENTRIES:
        _SIGHTED.clear()
    _SIGHTED.add(sighting)
    return False


def written_parts(files: list[tuple[Any, str, bool]]) -> Iterator[tuple[str, bytes | Deflated]]:
    """The in-memory parts xlsxwriter's packager made, as bytes (or already deflated), each one's
    text dropped as it is handed on (write_zip deflates them one at a time)."""
    while files:
        data, name, binary = files.pop(0)
        if isinstance(data, DeflatingText):
            yield name, data.part()
        else:
            yield name, data.getvalue() if binary else data.getvalue().encode("utf-8")
        data.close()  # its sheet holds it too


def write_zip(target: Any, parts: Iterable[tuple[str, bytes | Deflated]], allow_zip64: bool) -> None:
    """The zip xlsxwriter writes in memory (entries dated 1980-01-01, deflated, no zip64), its
    records packed here as zipfile packs them; a larger package is left to zipfile."""
    entries = [(name, *_deflated(name, data), data.size if isinstance(data, Deflated) else len(data))
               for name, data in parts]
    base = 0 if isinstance(target, str | PathLike) else target.tell()
    local: list[bytes] = []
    central: list[bytes] = []
    offset = base
    for name, crc, deflated, size in entries:
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), _UTF8_NAME
        local += (_LOCAL.pack(b"PK\003\004", 20, 0, flags, zipfile.ZIP_DEFLATED, 0, _DOS_DATE, crc,
                              len(deflated), size, len(encoded), 0), encoded, deflated)
        central += (_CENTRAL.pack(b"PK\001\002", 20, _CREATE_SYSTEM, 20, 0, flags, zipfile.ZIP_DEFLATED, 0,
                                  _DOS_DATE, crc, len(deflated), size, len(encoded), 0, 0, 0, 0,
                                  _ATTRIBUTES, offset), encoded)
        offset += _LOCAL.size + len(encoded) + len(deflated)
        if max(size * 1.05, len(deflated), offset) > zipfile.ZIP64_LIMIT or len(entries) > 0xFFFF:
            _write_zipfile(target, entries, allow_zip64)
            return
    directory = b"".join(central)
    end = _END.pack(b"PK\005\006", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    package = b"".join(local) + directory + end
    if base or not isinstance(target, str | PathLike):
        target.write(package)
        target.flush()
    else:
        with open(target, "wb") as file:
            file.write(package)


def _write_zipfile(target: Any, entries: list[tuple[str, int, bytes, int]], allow_zip64: bool) -> None:
    """The same zip by zipfile, which adds zip64 records where sizes or offsets need them."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=allow_zip64) as archive:
        out = archive.fp
        for name, crc, deflated, size in entries:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = _ATTRIBUTES
            info.CRC, info.file_size, info.compress_size = crc, size, len(deflated)
            if max(info.file_size * 1.05, info.compress_size) > zipfile.ZIP64_LIMIT:
                raise zipfile.LargeZipFile("a part too large for this writer")
            info.header_offset = out.tell()
            archive._writecheck(info)
            out.write(info.FileHeader(False))
            out.write(deflated)
            archive.filelist.append(info)
            archive.NameToInfo[name] = info
        archive.start_dir = out.tell()
        archive._didModify = True
