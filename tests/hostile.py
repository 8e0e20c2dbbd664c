"""A corpus of broken and hostile returned files, built by code from real generated workbooks.

Every kind of bad return a drop folder can collect — not a workbook at all, a bomb, a forged or
foreign signature, a mangled table, text that looks like a formula or a script, a strange file
name, a file sent twice or late — is made here from the workbooks the bureau actually sends
(outbox/<period>/…, generated from the ledger), filled by toolkit/demo/unitsim.py and then damaged
with openpyxl or byte by byte in the zip. Each kind comes with what the merge must say about it
(Case): the verdict, the issue code (level from codes.CODES), the cell it names, the unit it
is counted for. Nothing binary is committed; `build()` writes everything into a drop folder.

Honest units (the first few of the ledger) are never used by a hostile file, so a test can check
that their results do not change when the corpus is added.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.workbook import Workbook

from tests.return_fixtures import compound_file
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.forms.plan import file_name
from toolkit.model import Ledger
from toolkit.period import Period

Q1 = Period.parse("2024Q1")
Q2 = Period.parse("2024Q2")
ON_TIME = "2024-03-20T10:00:00"
LATE = "2024-03-29T09:00:00"
HONEST_UNITS = 4
GBK_NAMES = sys.platform.startswith("linux")  # names that are not UTF-8: only where a file system allows

# Text that a spreadsheet or a browser would run if it were not kept inert.
DDE = "=cmd|' /C calc'!A0"
AT_SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
PLUS_LINK = '+HYPERLINK("http://evil.example/x","点我")'
SCRIPT = "<script>alert('督查')</script>&amp;"
RICH_LOOKALIKE = "<r></t></r>"
FORMULA_TEXTS = (DDE, AT_SUM, PLUS_LINK, SCRIPT)


@dataclass(frozen=True)
class Case:
    """One returned file and what the merge must make of it."""

    kind: str  # what is wrong with it
    name: str  # path relative to the drop folder
    verdict: str  # accepted / superseded / duplicate / rejected
    code: str | None = None  # an issue it must carry; None: no issue at all
    cell: str = ""  # "sheet!cell" that issue names; "" for a file-level issue
    unit: str | None = None  # the unit it is counted for; None: nobody
    late: bool = False


def _col(key: str) -> int:
    return layout.column_index(layout.PROGRESS_COLUMNS, key)


def _first_row(wb: Workbook) -> int:
    return min(unitsim.task_rows(wb).values())


def _ref(key: str, row: int) -> str:
    return f"{layout.SHEET_PROGRESS}!{layout.cell(row, _col(key))}"


FIRST = layout.FIRST_DATA_ROW  # the first task row in every issued workbook
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


# --- byte-level surgery on a saved workbook ----------------------------------------------------


def rezip(src: Path, dst: Path, edit: dict[str, Callable[[bytes], bytes]] | None = None,
          add: dict[str, bytes] | None = None, drop: tuple[str, ...] = ()) -> Path:
    """Copy a zip member by member, editing, adding or leaving out members."""
    edit = edit or {}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            data = zin.read(info)
            zout.writestr(info.filename, edit[info.filename](data) if info.filename in edit else data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def sheet_member(path: Path, sheet: str) -> str:
    """The zip member holding a sheet, from workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as zf:
        book = zf.read("xl/workbook.xml").decode("utf-8")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    for tag in re.findall(r"<sheet\b[^>]*>", book):
        if re.search(r'\bname="([^"]*)"', tag)[1] == sheet:
            rid = re.search(r'\br:id="([^"]+)"', tag)[1]
            rel = next(t for t in re.findall(r"<Relationship\b[^>]*>", rels) if f'Id="{rid}"' in t)
            return "xl/" + re.search(r'Target="([^"]+)"', rel)[1].lstrip("/").removeprefix("xl/")
    raise KeyError(sheet)


def replace_cell(ref: object, new: str) -> Callable[[bytes], bytes]:
    """An edit that swaps the cell ref (with or without content) for the XML in new."""
    pattern = re.compile(rb'<c r="' + str(ref).encode() + rb'"(?:[^>]*/>|[^>]*>.*?</c>)', re.DOTALL)

    def edit(data: bytes) -> bytes:
        data, count = pattern.subn(new.encode(), data, count=1)
        assert count == 1, ref
        return data

    return edit


def before_sheet_data_end(xml: bytes) -> Callable[[bytes], bytes]:
    return lambda data: data.replace(b"</sheetData>", xml + b"</sheetData>", 1)


def with_doctype(doctype: bytes, entity_use: bytes = b"") -> Callable[[bytes], bytes]:
    """Put a DTD after the XML declaration and use its entity in the first text or value."""

    def edit(data: bytes) -> bytes:
        head, mark, body = data.partition(b"?>") if data.startswith(b"<?xml") else (b"", b"", data)
        if entity_use:
            body = body.replace(b"<t>", b"<t>" + entity_use, 1)
        return head + mark + doctype + body

    return edit


def patch_declared_size(path: Path, member: str, size: int) -> None:
    """Make the zip directory lie about a member's uncompressed size (local and central header)."""
    raw = bytearray(path.read_bytes())
    name = member.encode()
    for signature, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = raw.find(signature)
        while at != -1:
            length = int.from_bytes(raw[at + name_len_at: at + name_len_at + 2], "little")
            if raw[at + name_at: at + name_at + length] == name:
                raw[at + size_at: at + size_at + 4] = size.to_bytes(4, "little")
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))


def deflated_member(path: Path, name: str, chunks: Iterator[bytes]) -> None:
    """Add a member written in chunks (a bomb is never held in memory whole)."""
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w", force_zip64=True) as out:
        for chunk in chunks:
            out.write(chunk)


# --- mutations a careless or malicious unit makes in its office program --------------------------


def merge_inputs(wb: Workbook) -> None:
    """完成状态 and 完成进度 merged into one cell: the progress value is gone."""
    row = _first_row(wb)
    wb[layout.SHEET_PROGRESS].merge_cells(start_row=row, start_column=_col("status"), end_row=row,
                                          end_column=_col("progress"))


def dates_and_numbers_in_text(wb: Workbook) -> None:
    ws, row = wb[layout.SHEET_PROGRESS], _first_row(wb)
    ws.cell(row, _col("done")).value = dt.datetime(2024, 3, 20)
    ws.cell(row, _col("next")).value = 2024
    ws.cell(row, _col("person")).value = 12345


def date_in_progress(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col("progress")).value = dt.datetime(2024, 3, 20)


def full_width(wb: Workbook) -> None:
    ws, row = wb[layout.SHEET_PROGRESS], _first_row(wb)
    ws.cell(row, _col("progress")).value = "６０"
    ws.cell(row, _col("phone")).value = "１３８０３７８０００１"
    no = ws.cell(row, _col("no")).value
    ws.cell(row, _col("no")).value = str(no).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def long_cell(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col("done")).value = "进展" * 25_000


def formula_texts(wb: Workbook) -> None:
    """Answers typed as text that spreadsheets and browsers would run: the first task is marked
    lagging so its 存在问题 (the <script>) reaches the briefing's lagging list."""
    ws, row = wb[layout.SHEET_PROGRESS], _first_row(wb)
    values = {"status": layout.STATUS_LAGGING, "progress": 5, "done": DDE, "problems": SCRIPT, "next": AT_SUM,
              "person": PLUS_LINK}
    for key, value in values.items():
        cell = ws.cell(row, _col(key))
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would otherwise store a leading "=" as a formula


def rich_text_lookalike(wb: Workbook) -> None:
    """xlsxwriter copies a string that starts with <r> and ends with </r> into the file as raw rich
    text: this answer made 汇总表 and the receipt unreadable until every sheet wrote it as text."""
    ws, row = wb[layout.SHEET_PROGRESS], _first_row(wb)
    ws.cell(row, _col("done")).value = RICH_LOOKALIKE
    ws.cell(row, _col("next")).value = "<r><t>已完成</t></r>"


def insert_row_between(wb: Workbook) -> None:
    ws, rows = wb[layout.SHEET_PROGRESS], sorted(unitsim.task_rows(wb).values())
    ws.insert_rows(rows[1])
    ws.cell(rows[1], _col("content")).value = "备注：以下任务由分管领导牵头推进"


def insert_rows_above(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].insert_rows(layout.HEADER_ROW - 1)


def swap_columns(wb: Workbook) -> None:
    """完成状态 and 完成进度 swapped, headers and all."""
    ws = wb[layout.SHEET_PROGRESS]
    a, b = _col("status"), _col("progress")
    for row in range(layout.HEADER_ROW, ws.max_row + 1):
        ws.cell(row, a).value, ws.cell(row, b).value = ws.cell(row, b).value, ws.cell(row, a).value


def rename_header(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].cell(layout.HEADER_ROW, _col("person")).value = "责任人姓名"


def edit_meta(wb: Workbook) -> None:
    ws = wb[layout.SHEET_META]
    for row in ws.iter_rows():
        if row[0].value == "deadline":
            row[1].value = "2024-12-31"


def meta_from(other: Path) -> Callable[[Workbook], None]:
    """Replace the _meta sheet's values with those of another unit's workbook."""

    def mutate(wb: Workbook) -> None:
        source = openpyxl.load_workbook(other)[layout.SHEET_META]
        target = wb[layout.SHEET_META]
        for row in source.iter_rows():
            for cell in row:
                target.cell(cell.row, cell.column).value = cell.value

    return mutate


# --- small non-workbooks ----------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + (1).to_bytes(4, "big") * 2
       + b"\x08\x02\x00\x00\x00" + zlib.crc32(b"IHDR").to_bytes(4, "big"))
HTML = ("<html xmlns:x=\"urn:schemas-microsoft-com:office:excel\"><head><meta charset=\"utf-8\"></head><body>"
        "<table><tr><td>填报单位：市商务局</td></tr><tr><td>任务编号</td><td>完成状态</td></tr></table></body></html>"
        ).encode()
SPREADSHEET_XML = ('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook '
                   'xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="进展填报"/>'
                   "</Workbook>").encode()
CSV = "任务编号,完成状态,完成进度(%)\n1,已完成,100\n".encode("gbk")
BILLION_LAUGHS = (b'<!DOCTYPE x [<!ENTITY e0 "lol">'
                  + b"".join(b'<!ENTITY e%d "%s">' % (i, b"&e%d;" % (i - 1) * 10) for i in range(1, 10)) + b"]>")
XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def ods(table: str, rows: int, cols: int) -> bytes:
    """A tiny .ods whose one row of text says 'repeat me rows × cols times'."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body>'
        f'<office:spreadsheet><table:table table:name="{table}"><table:table-row table:number-rows-repeated="{rows}">'
        f'<table:table-cell office:value-type="string" table:number-columns-repeated="{cols}"><text:p>进展</text:p>'
        "</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"
    )
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest:manifest '
                    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return buffer.getvalue()


def million_rows() -> Iterator[bytes]:
    """1,000,000 rows without r= (the reader must count them), values varied so the part does not
    compress like a bomb: 28.6 MiB, under every zip limit."""
    for start in range(0, 1_000_000, 50_000):
        yield b"".join(b"<row><c><v>%05d</v></c></row>" % (i * 7919 % 100_000) for i in range(start, start + 50_000))


# --- the corpus --------------------------------------------------------------------------------


class Corpus:
    """Writes the corpus into drop, one Case per file; honest units get one good file each."""

    def __init__(self, ledger: Ledger, outbox: Path, drop: Path, scratch: Path, q2_outbox: Path | None = None):
        self.ledger, self.outbox, self.drop, self.scratch, self.q2_outbox = ledger, outbox, drop, scratch, q2_outbox
        units = list(ledger.assignments())
        self.honest = units[:HONEST_UNITS]
        with_indicators = [u for u in units[HONEST_UNITS:] if ledger.indicators_for(u)]
        self._spare = iter([u for u in units[HONEST_UNITS:] if u not in with_indicators[:2]])
        self._indicator_units = iter(with_indicators[:2])
        self.cases: list[Case] = []

    # helpers

    def issued(self, unit: str, period: Period = Q1) -> Path:
        folder = self.outbox if period == Q1 else self.q2_outbox
        return folder / file_name(period, unit)

    def unit(self, with_indicators: bool = False) -> str:
        return next(self._indicator_units if with_indicators else self._spare)

    def filled(self, unit: str, mutate: list[Any] | None = None, period: Period = Q1, seed: int = 0,
               **kwargs: Any) -> Path:
        return unitsim.fill(self.issued(unit, period), self.scratch / f"{len(self.cases)}-{seed}.xlsx",
                            mutate=mutate or [], seed=seed, **kwargs)

    def put(self, case: Case, source: Path | bytes, received: str = ON_TIME) -> Case:
        target = self.drop / case.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            target.write_bytes(source)
        else:
            shutil.copyfile(source, target)
        stamp = dt.datetime.fromisoformat(received).timestamp()
        os.utime(target, (stamp, stamp))
        self.cases.append(case)
        return case

    def bad(self, kind: str, name: str, data: Path | bytes, code: str, cell: str = "",
            unit: str | None = None) -> Case:
        return self.put(Case(kind, name, "rejected", code, cell, unit), data)

    def ok(self, kind: str, name: str, data: Path, unit: str, code: str | None = None, cell: str = "") -> Case:
        return self.put(Case(kind, name, "accepted", code, cell, unit), data)

    # the corpus

    def build(self) -> list[Case]:
        for unit in self.honest:
            self.put(Case("honest", f"{unit}.xlsx", "accepted", unit=unit), self.filled(unit))
        self.not_workbooks()
        self.bounds()
        self.identities()
        self.tables()
        self.values()
        self.names()
        self.copies_and_times()
        return self.cases

    def not_workbooks(self) -> None:
        good = self.filled(self.honest[0])
        self.bad("empty file", "空文件.xlsx", b"", "empty_file")
        self.bad("truncated zip", "下载中断.xlsx", good.read_bytes()[: good.stat().st_size // 2], "damaged_file")
        self.bad("PDF named .xlsx", "扫描件.xlsx", PDF, "not_workbook")
        self.bad("image named .xlsx", "截图.xlsx", PNG, "not_workbook")
        self.bad("HTML page named .xls", "网页另存.xls", HTML, "not_workbook")
        self.bad("Excel 2003 XML named .xls", "xml表格.xls", SPREADSHEET_XML, "not_workbook")
        self.bad("CSV named .xlsx", "导出.xlsx", CSV, "not_workbook")
        self.bad("zip archive of the workbook", "打包.xlsx", _zip_of(good, self.scratch / "pack.zip"), "not_workbook")
        self.bad("password-protected workbook", "加密.xlsx", compound_file(("EncryptionInfo", "EncryptedPackage")),
                 "encrypted")
        self.bad("broken OLE2 (.xls cut short)", "旧版.xls", compound_file(("Workbook",), cut=700), "damaged_file")
        types = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
        macro = rezip(good, self.scratch / "macro.xlsm",
                      edit={"[Content_Types].xml": lambda d: re.sub(
                          rb"application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml",
                          types.encode(), d)},
                      add={"xl/vbaProject.bin": compound_file(("VBA",))})
        self.bad(".xlsm with macros", "带宏.xlsm", macro, "macro_workbook")

    def bounds(self) -> None:
        unit = self.honest[0]  # rejected before anything identifies them: no unit is touched
        good = self.filled(unit)
        sheet = sheet_member(good, layout.SHEET_PROGRESS)
        bomb = rezip(good, self.scratch / "bomb.xlsx", drop=(sheet,))
        with zipfile.ZipFile(good) as zf:
            original = zf.read(sheet)
        head, tail = original.split(b"</sheetData>")
        deflated_member(bomb, sheet, iter([head, *([b" " * (1 << 20)] * 40), b"</sheetData>", tail]))
        self.bad("zip bomb (small file, 40 MB sheet)", "压缩炸弹.xlsx", bomb, "over_limits")

        liar = rezip(good, self.scratch / "liar.xlsx", drop=(sheet,))
        deflated_member(liar, sheet, iter([head, *([b" " * (1 << 20)] * 20), b"</sheetData>", tail]))
        patch_declared_size(liar, sheet, 9000)
        self.bad("zip bomb whose directory lies about sizes", "谎报大小.xlsx", liar, "unreadable")

        rows = rezip(good, self.scratch / "rows.xlsx", drop=(sheet,))
        deflated_member(rows, sheet, iter([head, *million_rows(), b"</sheetData>", tail]))
        self.bad("a sheet with 1,000,000 rows", "一百万行.xlsx", rows, "over_limits")

        for kind, xml, name in (
            ("a value at row 99,999,999", b'<row r="99999999"><c r="A99999999"><v>1</v></c></row>', "远端行.xlsx"),
            ("a value at column ZZZZZZ", b'<row r="9"><c r="ZZZZZZ9"><v>1</v></c></row>', "远端列.xlsx"),
            ("a value without r= in row 99,999,999", b'<row r="99999999"><c><v>1</v></c></row>', "远端行号.xlsx"),
            ("a far reference in single quotes", b"<row r='9'><c r='ZZZZZZ9'><v>1</v></c></row>", "单引号引用.xlsx"),
        ):
            far = rezip(good, self.scratch / name, edit={sheet: before_sheet_data_end(xml)})
            self.bad(kind, name, far, "over_limits")
        many = rezip(good, self.scratch / "many.xlsx", add={f"customXml/item{i}.xml": b"<a/>" for i in range(1200)})
        self.bad("1,200 zip members", "部件过多.xlsx", many, "over_limits")
        self.bad("an .ods whose one cell repeats a billion times", "重复单元格.ods", ods(layout.SHEET_PROGRESS,
                                                                                    1_000_000, 1_000), "over_limits")
        self.bad("XML entity-expansion bomb", "实体炸弹.xlsx",
                 rezip(good, self.scratch / "laughs.xlsx", edit={sheet: with_doctype(BILLION_LAUGHS, b"&e9;")}),
                 "unreadable")
        self.bad("external entity (XXE)", "外部实体.xlsx",
                 rezip(good, self.scratch / "xxe.xlsx", edit={"xl/workbook.xml": with_doctype(XXE)}), "unreadable")
        self.bad("XXE in the shared strings python-calamine reads itself", "外部实体2.xlsx",
                 rezip(good, self.scratch / "xxe2.xlsx", add={"xl/sharedStrings.xml": (
                     b'<?xml version="1.0"?>' + XXE + b'<sst xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>')}),
                 "unreadable")

    def identities(self) -> None:
        unit = self.unit()
        self.ok("_meta deleted", "没有校验页.xlsx", self.filled(unit, ["remove_meta"]), unit, "unsigned")
        forger = self.unit()  # the refused file is still the sender's to hear about (claimed)
        self.bad("_meta edited", "改过校验页.xlsx", self.filled(forger, [edit_meta]), "signature_invalid",
                 f"{layout.SHEET_META}", unit=forger)
        thief = self.unit()
        self.bad("_meta copied from another unit's workbook", "借用他单位校验页.xlsx",
                 self.filled(thief, [meta_from(self.issued(self.honest[0]))]), "unit_mismatch",
                 f"{layout.SHEET_PROGRESS}!A{layout.UNIT_ROW}", unit=thief)
        if self.q2_outbox is not None:
            other = self.unit()
            self.bad("another quarter's template", "二季度表.xlsx", self.filled(other, period=Q2), "wrong_period",
                     unit=other)
        stranger = openpyxl.Workbook()
        stranger.active["A1"] = "自制表格"
        stranger.save(self.scratch / "stranger.xlsx")
        self.bad("a workbook of the unit's own making", "自制.xlsx", self.scratch / "stranger.xlsx", "unknown_unit")

    def tables(self) -> None:
        def first_cell(key: str) -> str:
            return _ref(key, FIRST)

        self.bad("rows deleted", "删了行.xlsx", self.filled(u := self.unit(), ["delete_row"]), "task_missing",
                 layout.SHEET_PROGRESS, u)
        self.bad("rows duplicated", "重复行.xlsx", self.filled(u := self.unit(), ["duplicate_row"]),
                 "task_duplicated", None, u)
        self.ok("rows reordered", "调换行.xlsx", self.filled(u := self.unit(), ["swap_rows"]), u, "task_reordered",
                layout.SHEET_PROGRESS)
        self.ok("a row inserted between tasks", "插入行.xlsx", self.filled(u := self.unit(), [insert_row_between]),
                u, "extra_row", None)
        self.ok("rows inserted above the table", "上方插行.xlsx", self.filled(u := self.unit(), [insert_rows_above]),
                u, "table_moved", f"{layout.SHEET_PROGRESS}!A{layout.HEADER_ROW + 1}")
        self.ok("columns moved", "换列.xlsx", self.filled(u := self.unit(), [swap_columns]), u, "header_moved",
                f"{layout.SHEET_PROGRESS}!{layout.cell(layout.HEADER_ROW, _col('progress'))}")
        self.ok("header renamed", "改表头.xlsx", self.filled(u := self.unit(), [rename_header]), u, "header_renamed",
                f"{layout.SHEET_PROGRESS}!{layout.cell(layout.HEADER_ROW, _col('person'))}")
        self.ok("sheet renamed", "改表名.xlsx", self.filled(u := self.unit(), ["rename_sheet"]), u, "sheet_renamed",
                "Sheet1")
        self.bad("merged cells over input columns", "合并单元格.xlsx", self.filled(u := self.unit(), [merge_inputs]),
                 "progress_missing", first_cell("progress"), u)
        self.bad("a locked cell edited", "改任务内容.xlsx", self.filled(u := self.unit(), ["edit_locked"]),
                 "locked_cell_changed", first_cell("content"), u)

    def values(self) -> None:
        first = _ref
        self.ok("dates and numbers in text cells", "日期数字.xlsx",
                self.filled(u := self.unit(), [dates_and_numbers_in_text]), u)
        self.bad("a date in the progress cell", "进度填日期.xlsx", self.filled(u := self.unit(), [date_in_progress]),
                 "progress_invalid", first("progress", FIRST), u)
        self.ok("full-width digits", "全角数字.xlsx", self.filled(u := self.unit(), [full_width]), u)
        self.bad("a 50,000-character cell", "超长文字.xlsx", self.filled(u := self.unit(), [long_cell]),
                 "text_too_long", first("done", FIRST), u)
        self.ok("a formula in an input cell", "公式.xlsx", self.filled(u := self.unit(), ["formula"]), u,
                "formula_used", first("progress", FIRST))
        self.ok("formula-like text and <script> typed as answers", "公式文本.xlsx",
                self.filled(u := self.unit(), [formula_texts]), u)
        self.ok("text that looks like rich text (<r>…</r>) typed as answers", "富文本.xlsx",
                self.filled(u := self.unit(), [rich_text_lookalike]), u)
        self.formula_cells()
        self.external_link()
        self.cell_xml("an error value (#DIV/0!) in the progress cell", "除零.xlsx", "progress",
                      '<c r="{ref}" t="e"><v>#DIV/0!</v></c>', "rejected", "progress_invalid")
        self.cell_xml("control characters in text", "控制字符.xlsx", "done",
                      '<c r="{ref}" t="inlineStr"><is><t>空字符_x0000_响铃_x0007_退格_x0008_换页_x000C_代理_xD800_结束</t></is></c>',
                      "accepted", None)
        self.indicator_values()

    def cell_xml(self, kind: str, name: str, key: str, xml: str, verdict: str, code: str | None) -> Case:
        """A filled workbook whose first-row cell `key` is replaced by raw XML ({ref}: its A1 name)."""
        unit = self.unit()
        good = self.filled(unit)
        ref = layout.cell(FIRST, _col(key))
        edited = rezip(good, self.scratch / f"cell-{len(self.cases)}.xlsx",
                       edit={sheet_member(good, layout.SHEET_PROGRESS): replace_cell(ref, xml.format(ref=ref))})
        return self.put(Case(kind, name, verdict, code, _ref(key, FIRST) if code else "", unit), edited)

    def formula_cells(self) -> None:
        """Real formulas (with the value Excel cached) in input cells: read by value, warned."""
        good = self.filled(u := self.unit())
        sheet = sheet_member(good, layout.SHEET_PROGRESS)
        link = layout.cell(FIRST, _col("done"))
        dde = layout.cell(FIRST, _col("problems"))
        edited = rezip(good, self.scratch / "formulas.xlsx", edit={sheet: lambda d: replace_cell(
            dde, f"<c r=\"{dde}\" t=\"e\"><f>cmd|' /C calc'!A0</f><v>#REF!</v></c>")(replace_cell(
                link, f'<c r="{link}" t="str"><f>HYPERLINK("http://evil.example/x","点击查看进展")</f>'
                      "<v>点击查看进展</v></c>")(d))})
        self.ok("=HYPERLINK(...) and =cmd|' /C calc'!A0 as formulas", "超链接公式.xlsx", edited, u, "formula_used",
                _ref("done", FIRST))

    def external_link(self) -> None:
        """A progress value pulled from another workbook on a file share (Excel would try to reach
        it when the file is opened): read by its cached value, warned as a formula."""
        good = self.filled(u := self.unit())
        sheet = sheet_member(good, layout.SHEET_PROGRESS)
        ref = layout.cell(FIRST, _col("progress"))
        rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        link = (f'<externalLink xmlns="{MAIN_NS}"><externalBook xmlns:r="{rel}" r:id="rId1"><sheetNames>'
                '<sheetName val="Sheet1"/></sheetNames><sheetDataSet><sheetData sheetId="0"><row r="1">'
                '<cell r="A1"><v>60</v></cell></row></sheetData></sheetDataSet></externalBook></externalLink>')
        link_rels = (f'<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" Type="{rel}/externalLinkPath" '
                     'Target="file:///\\\\attacker.example\\share\\进度.xlsx" TargetMode="External"/></Relationships>')
        edited = rezip(good, self.scratch / "external.xlsx", edit={
            sheet: replace_cell(ref, f'<c r="{ref}"><f>[1]Sheet1!$A$1</f><v>60</v></c>'),
            "xl/workbook.xml": lambda d: d.replace(
                b"</sheets>", b'</sheets><externalReferences><externalReference xmlns:r="%s" r:id="rId99"/>'
                b"</externalReferences>" % rel.encode(), 1),
            "xl/_rels/workbook.xml.rels": lambda d: d.replace(
                b"</Relationships>", b'<Relationship Id="rId99" Type="%s/externalLink" '
                b'Target="externalLinks/externalLink1.xml"/></Relationships>' % rel.encode(), 1),
            "[Content_Types].xml": lambda d: d.replace(
                b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>', 1),
        }, add={"xl/externalLinks/externalLink1.xml": link.encode(),
                "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode()})
        self.ok(".xlsx with an external link", "外部链接.xlsx", edited, u, "formula_used", _ref("progress", FIRST))

    def indicator_values(self) -> None:
        for kind, name, value, verdict, code in (
            ("a 400-digit indicator value", "超大数.xlsx", "9" * 400, "rejected", "indicator_not_number"),
            ("an indicator value of 1e308", "极大值.xlsx", 1e308, "accepted", None),
        ):
            unit = self.unit(with_indicators=True)
            values = {(i.task_no, i.name): i.target / 2 for i in self.ledger.indicators_for(unit)}
            values[next(iter(values))] = value
            self.put(Case(kind, name, verdict, code, None if code else "", unit),
                     self.filled(unit, indicators=values))

    def names(self) -> None:
        names = [
            ("a name with '..' and a nested folder", "a..b/c..d/市..局..xlsx"),
            ("spaces in the name", "  一季度 报表 (最终版) 2 .xlsx"),
            ("emoji in the name", "📊报表✅🚀.xlsx"),
            ("a 250-character name", "r" * 245 + ".xlsx"),
            ("a name that looks like a formula", "=cmd|' calc'!A0.xlsx"),
            ("a line break in the name", "第一行\n第二行.xlsx"),
        ]
        for kind, name in names:
            unit = self.unit()
            self.ok(kind, name, self.filled(unit), unit)
        if GBK_NAMES:
            unit = self.unit()
            folder = os.fsencode(self.drop / "gbk")
            os.makedirs(folder, exist_ok=True)
            raw = os.path.join(folder, f"{unit}.xlsx".encode("gbk"))
            shutil.copyfile(self.filled(unit), raw)
            stamp = dt.datetime.fromisoformat(ON_TIME).timestamp()
            os.utime(raw, (stamp, stamp))
            self.cases.append(Case("a name that is not UTF-8 (GBK bytes)", f"gbk/{unit}.xlsx", "accepted", unit=unit))

    def copies_and_times(self) -> None:
        unit = self.unit()
        data = self.filled(unit)
        self.put(Case("two files with the same content", "同一文件.xlsx", "accepted", unit=unit), data)
        self.put(Case("two files with the same content", "同一文件(1).xlsx", "duplicate", unit=unit), data,
                 "2024-03-21T10:00:00")
        unit = self.unit()
        self.put(Case("the same unit twice, different content", "第一次.xlsx", "superseded", unit=unit),
                 self.filled(unit), "2024-03-10T10:00:00")
        self.put(Case("the same unit twice, different content", "第二次.xlsx", "accepted", unit=unit),
                 self.filled(unit, seed=1), "2024-03-22T10:00:00")
        unit = self.unit()
        self.put(Case("a file dated after the deadline", "迟交.xlsx", "accepted", unit=unit, late=True),
                 self.filled(unit), LATE)
        unit = self.unit()
        case = self.put(Case("a file dated in the year 30000", "穿越.xlsx", "accepted", unit=unit, late=True),
                        self.filled(unit))
        far = 900_000_000_000  # seconds: the year 30000, which datetime cannot hold
        os.utime(self.drop / case.name, (far, far))


def _zip_of(path: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "一季度报表.xlsx")
    return target


def build(ledger: Ledger, outbox: Path, drop: Path, scratch: Path, q2_outbox: Path | None = None) -> list[Case]:
    """Write the whole corpus into drop; returns its cases, honest files first."""
    scratch.mkdir(parents=True, exist_ok=True)
    return Corpus(ledger, outbox, drop, scratch, q2_outbox).build()
